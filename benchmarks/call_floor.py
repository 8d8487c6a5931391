"""The per-call floor of two source trees side by side in one run (issue 14, item 2).

    python benchmarks/call_floor.py OLD_TREE NEW_TREE [--rounds 3] [--lines 100000]

Per tree, in its own Python process, alternating round by round so that a busy machine slows both
alike; CPU time (`time.process_time`), the best round of each:

- `decide()` on the peer policy (peer_rules.py) of 1 and of 100 rules, CPU µs a call, on 2,000
  customers decided again and again ("repeated": the facts' floats recur) and on 50,000 customers
  decided once each ("fresh": every float new);
- `decide_many` over the same fresh customers, and its speed-up over the loop of `decide()`;
- `policy eval --input x.jsonl --format json` on `--lines` customers, decisions a CPU second of the
  whole command (start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

ONE_ROUND = """
import json, sys, time
sys.path.insert(0, {benchmarks!r})
import policylang
from peer_rules import generate_rules, policylang_facts, random_customers, to_policylang
out = {{}}
repeated = [policylang_facts(c) for c in random_customers(2000, seed=1)]
fresh = {{seed: [policylang_facts(c) for c in random_customers(50000, seed=seed)] for seed in (2, 3)}}
for rules in (1, 100):
    policy = policylang.compile(to_policylang(generate_rules(rules, seed=0)), filename="peer.policy")
    for f in repeated:
        policy.decide(f)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for f in repeated:
            policy.decide(f)
        best = min(best, time.process_time() - started)
    out[f"decide repeated {{rules}}"] = best / len(repeated) * 1e6
    started = time.process_time()
    for f in fresh[2]:
        policy.decide(f)
    out[f"decide fresh {{rules}}"] = (time.process_time() - started) / len(fresh[2]) * 1e6
    started = time.process_time()
    for _ in policy.decide_many(fresh[3]):
        pass
    out[f"decide_many fresh {{rules}}"] = (time.process_time() - started) / len(fresh[3]) * 1e6
out["package"] = policylang.__file__
print(json.dumps(out))
"""


def _env(tree: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(tree), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def one_round(tree: Path) -> dict[str, float]:
    """CPU µs per decision of the tree's policylang, in a fresh process (revisions.run_in_tree, which
    refuses a run that imported another tree's policylang)."""
    sys.path.insert(0, str(HERE))
    from revisions import run_in_tree  # deferred: a benchmark helper, beside this script

    figures = run_in_tree(tree, ONE_ROUND.format(benchmarks=str(HERE)))
    del figures["package"]
    return {name: float(value) for name, value in figures.items()}


def eval_rate(tree: Path, policy: Path, facts: Path, lines: int) -> float:
    """Decisions per CPU second of `policy eval --input facts --format json` (the child's user + system time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "policylang", "eval", str(policy), "--input", str(facts), "--format", "json"],
        cwd=tree,  # `-c` and `-m` put the working folder first on the path: it must be the tree measured
        env=_env(tree),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return lines / (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="a source tree holding policylang/ (e.g. a git worktree)")
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, default=100_000)
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from peer_rules import generate_rules, policylang_facts, random_customers, to_policylang

    results: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    with tempfile.TemporaryDirectory() as folder:
        facts = Path(folder) / "customers.jsonl"
        facts.write_text(
            "".join(json.dumps(policylang_facts(c)) + "\n" for c in random_customers(options.lines, seed=4))
        )
        policies = {}
        for rules in (1, 100):
            policies[rules] = Path(folder) / f"peer{rules}.policy"
            policies[rules].write_text(to_policylang(generate_rules(rules, seed=0)))
        for _ in range(options.rounds):
            for side, tree in (("old", options.old), ("new", options.new)):
                figures = one_round(tree)
                for rules, policy in policies.items():
                    figures[f"eval --input /s {rules}"] = eval_rate(tree, policy, facts, options.lines)
                for name, value in figures.items():
                    results[side].setdefault(name, []).append(value)
    print(f"best of {options.rounds} rounds, CPU time; old {options.old}, new {options.new}")
    print(f"{'figure (peer policy, rules)':<32} {'old':>12} {'new':>12} {'new/old':>8}")
    for name in results["old"]:
        pick = max if name.startswith("eval") else min  # a rate: the highest; a cost: the lowest
        old, new = pick(results["old"][name]), pick(results["new"][name])
        print(f"{name:<32} {old:>12,.3f} {new:>12,.3f} {new / old:>8.3f}")
    for side in ("old", "new"):
        for rules in (1, 100):
            loop = min(results[side][f"decide fresh {rules}"])
            batch = min(results[side][f"decide_many fresh {rules}"])
            print(f"{side}: decide_many over a loop of decide(), {rules} rules, fresh facts: {loop / batch:.2f}x")


if __name__ == "__main__":
    main()
