"""`decide()` throughput of two source trees of policylang, side by side in one run.

    python benchmarks/revisions.py OLD_TREE NEW_TREE [--rules 100] [--rounds 5]

A refactoring promises "no slower": this measures it fairly. Each tree runs in its own Python
process (its `policylang/` first on the path), on the peer benchmark's policy (peer_rules.py, the
same generated rules and customers for both), and the two alternate round by round so that a busy
machine slows both alike. The figure is CPU time per decision (`time.process_time`), the best round
of each; the ratio NEW/OLD comes first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

ONE_ROUND = """
import json, sys, time
sys.path.insert(0, {benchmarks!r})
import policylang
from peer_rules import generate_rules, policylang_facts, random_customers, to_policylang
policy = policylang.compile(to_policylang(generate_rules({rules}, seed=0)), filename="peer.policy")
facts = [policylang_facts(c) for c in random_customers(2000, seed=1)]
for f in facts:
    policy.decide(f)
best = float("inf")
for _ in range(3):
    started = time.process_time()
    for f in facts:
        policy.decide(f)
    best = min(best, time.process_time() - started)
print(json.dumps({{"per_second": len(facts) / best, "package": policylang.__file__}}))
"""


def run_in_tree(tree: Path, code: str) -> dict[str, Any]:
    """The JSON object the last line of `python -c code` prints, run in a fresh process from inside
    `tree`: `python -c` puts the working folder first on the path, before PYTHONPATH, so run from
    anywhere else it could import another checkout's policylang. The code prints which package it
    imported (`"package"`), and a run that measured the wrong tree is an error, not a number."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    measured = Path(result["package"]).resolve().parent
    if measured != (tree / "policylang").resolve():
        raise SystemExit(f"measured {measured}, not {tree}'s policylang")
    return result


def one_round(tree: Path, rules: int) -> float:
    """Decisions per CPU second of the tree's policylang (run_in_tree)."""
    return float(run_in_tree(tree, ONE_ROUND.format(benchmarks=str(HERE), rules=rules))["per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="a source tree holding policylang/ (e.g. a git worktree)")
    parser.add_argument("new", type=Path)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    old: list[float] = []
    new: list[float] = []
    for _ in range(options.rounds):
        old.append(one_round(options.old, options.rules))
        new.append(one_round(options.new, options.rules))
    print(f"peer policy, {options.rules} rules, decide(), best of {options.rounds} rounds (CPU time)")
    print(f"  new / old: {max(new) / max(old):.3f}")
    print(f"  old {options.old}: {max(old):,.0f} decisions/s (rounds: {', '.join(f'{r:,.0f}' for r in old)})")
    print(f"  new {options.new}: {max(new):,.0f} decisions/s (rounds: {', '.join(f'{r:,.0f}' for r in new)})")


if __name__ == "__main__":
    main()
