"""Compile cost by phase, and loading a pickled policy, of two source trees side by side (issue 14).

    python benchmarks/compile_phases.py OLD_TREE NEW_TREE [--rules 1000 10000] [--shape realistic peer]
        [--rounds 2]

Each (tree, phase) runs in a fresh Python process started inside its tree (revisions.py says why),
so each figure is that phase's own: CPU seconds (`time.process_time`) of the phase, and the peak
resident memory of the process up to the end of it (ru_maxrss: the interpreter and the imports
included, about 60 MB; the evaluator's imports, networkx and pydantic, are loaded before the clock
starts in every phase). The phases are cumulative: `parse` parses the file; `check` parses and
checks it; `compile` is `policylang.compile` (check, compile, the facts validator); `load pickle`
unpickles a policy pickled by a previous process of the same tree (a tree without pickling says
n/a). Trees alternate within each round, so that a busy machine slows both alike; the best round
of each is shown. Shapes: `realistic` is benchmarks/generate.py, `peer` the peer policy of
peer_rules.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

PHASE = """
import json, pickle, resource, sys, time
sys.path.insert(0, {benchmarks!r})
import policylang
import policylang.engine.evaluator  # imported by every phase that needs it, outside the timing
from policylang.semantics.checker import check
from policylang.syntax.parser import parse
text = open({policy!r}, encoding="utf-8").read()
phase = {phase!r}
started = time.process_time()
if phase == "parse":
    parse(text, "bench.policy")
elif phase == "check":
    check(text, "bench.policy")
elif phase == "compile":
    policy = policylang.compile(text, filename="bench.policy")
    try:
        data = pickle.dumps(policy, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        data = None
    if data is not None:
        with open({pickled!r}, "wb") as handle:
            handle.write(data)
else:
    try:
        with open({pickled!r}, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        print(json.dumps({{"cpu": None, "peak_mb": None, "package": policylang.__file__}}))
        raise SystemExit(0)
    started = time.process_time()
    pickle.loads(data)
cpu = time.process_time() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"cpu": cpu, "peak_mb": peak, "package": policylang.__file__}}))
"""

PHASES = ("parse", "check", "compile", "load pickle")


def policy_text(shape: str, rules: int) -> str:
    sys.path.insert(0, str(HERE))
    if shape == "peer":
        from peer_rules import generate_rules, to_policylang  # deferred: a benchmark helper

        return str(to_policylang(generate_rules(rules, seed=0)))
    done = subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(rules)], capture_output=True, text=True, check=True
    )
    return done.stdout


def one_phase(tree: Path, phase: str, policy: Path, pickled: Path) -> dict[str, float | None]:
    sys.path.insert(0, str(HERE))
    from revisions import run_in_tree  # deferred: a benchmark helper, beside this script

    result = run_in_tree(
        tree, PHASE.format(benchmarks=str(HERE), policy=str(policy), phase=phase, pickled=str(pickled))
    )
    return {"cpu": result["cpu"], "peak_mb": result["peak_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rules", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--shape", nargs="+", default=["realistic", "peer"], choices=["realistic", "peer"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--phases", nargs="+", default=list(PHASES), choices=PHASES)
    args = parser.parse_args()
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    with tempfile.TemporaryDirectory() as folder:
        for shape in args.shape:
            for rules in args.rules:
                policy = Path(folder) / f"{shape}{rules}.policy"
                policy.write_text(policy_text(shape, rules), encoding="utf-8")
                best: dict[tuple[str, str], dict[str, float | None]] = {}
                for _ in range(args.rounds):
                    for phase in args.phases:
                        for name, tree in trees.items():
                            found = one_phase(tree, phase, policy, Path(folder) / f"{name}.pickle")
                            kept = best.get((name, phase))
                            if kept is None or (found["cpu"] is not None and found["cpu"] < (kept["cpu"] or 0)):
                                best[(name, phase)] = found
                print(f"\n{shape}, {rules:,} rules: CPU s and peak RSS MB (best of {args.rounds}); new/old")
                for phase in args.phases:
                    old, new = best[("old", phase)], best[("new", phase)]
                    print(f"  {phase:12s} old {_fmt(old)}   new {_fmt(new)}   {_ratio(old, new)}", flush=True)


def _fmt(found: dict[str, float | None]) -> str:
    if found["cpu"] is None:
        return f"{'n/a':>17s}"
    return f"{found['cpu']:7.2f} s {found['peak_mb']:6.0f} MB"


def _ratio(old: dict[str, float | None], new: dict[str, float | None]) -> str:
    if not old["cpu"] or not new["cpu"]:
        return ""
    return f"cpu x{new['cpu'] / old['cpu']:.2f}, peak x{(new['peak_mb'] or 0) / (old['peak_mb'] or 1):.2f}"


if __name__ == "__main__":
    main()
