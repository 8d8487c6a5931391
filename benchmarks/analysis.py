"""How long the static analysis (policylang/analysis/analyser.py) takes, and how it grows with the rules.

    python benchmarks/analysis.py            # 10 to 10,000 rules; writes its section of docs/performance.md
    python benchmarks/analysis.py --quick    # 10 and 100 rules; prints, writes nothing
    python benchmarks/analysis.py --shapes [--against DIR]   # lookup tables and overlapping ranges

`--shapes` measures the shapes that used to grow quadratically (issue 14): a lookup table
(`lookup_table`: N rules `region == "rN"`, each setting its own value), the same by sets
(`membership_table`: `region in {"rN", "rN+1", "rN+2"}`, `resolve first`) and heavily overlapping
numeric ranges (`overlapping_ranges`: N rules over the same two facts, a range of `spend` and of
`age` each, setting one of five values under `resolve unique`: about 11 conflicts per rule). Each
is analysed once in its own process (CPU time of `Policy.analyse(budget=inf)`, peak RSS of the
process); with `--against DIR` (a checkout of another revision, e.g. `git archive main | tar -x
-C DIR`), the same policy is analysed there too, right after, so the two columns come from one run.

Two kinds of policy at each size: the peer benchmark's (`peer_rules.py`: six facts, four
outputs, every rule compared with many constants) and `generate.py`'s (segments, lets, sets).
For each: CPU time of one `Policy.analyse()` (one run: the analysis is deterministic and slow
enough that one run is steady), and what it found. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  # beside this file
import peer_rules  # noqa: E402
import report  # noqa: E402

import policylang  # noqa: E402

FULL_SIZES = (10, 100, 1_000, 3_000, 10_000)
QUICK_SIZES = (10, 100)
AIM_1K_SECONDS = 5.0
AIM_10K_SECONDS = 60.0


def measure(sizes: tuple[int, ...]) -> list[dict[str, object]]:
    rows = []
    for rules in sizes:
        for kind, text in (
            ("peer benchmark", peer_rules.to_policylang(peer_rules.generate_rules(rules, 0))),
            ("generate.py", generate.generate_policy(rules, 0)),
        ):
            policy = policylang.compile(text, filename=f"analysis_{rules}.policy")
            started = time.process_time()
            findings = policy.analyse()
            seconds = time.process_time() - started
            counts = Counter(d.code.value for d in findings)
            rows.append({"rules": rules, "policy": kind, "cpu_seconds": seconds, "findings": dict(counts)})
            print(f"{rules:>6} {kind:<15} {seconds:8.2f} s CPU  {dict(counts)}", flush=True)
    return rows


def section(rows: list[dict[str, object]]) -> str:
    machine = report.machine_info()
    lines = [
        "## Static analysis",
        "",
        f"`python benchmarks/analysis.py`, {machine['date']} on {machine['cpu']} ({machine['cores']} cores), "
        f"Python {machine['python']}; CPU time of one `Policy.analyse()`.",
        "",
        "| rules | policy | analysis (CPU s) | findings |",
        "| ---: | --- | ---: | --- |",
    ]
    for row in rows:
        found = ", ".join(f"{n} {code}" for code, n in sorted(row["findings"].items())) or "none"  # type: ignore[union-attr]
        lines.append(f"| {row['rules']:,} | {row['policy']} | {row['cpu_seconds']:.2f} | {found} |")

    def verdict(rules: int, aim: float) -> str:
        times = [float(r["cpu_seconds"]) for r in rows if r["rules"] == rules]  # type: ignore[arg-type]
        if not times:
            return "**not measured**"
        worst = max(times)
        return f"**{'met' if worst < aim else 'not met'}** ({worst:.1f} s for the slower policy)"

    lines += [
        "",
        f"Aims (issue 4): a 1,000-rule policy in under {AIM_1K_SECONDS:.0f} s: {verdict(1_000, AIM_1K_SECONDS)};"
        f" 10,000 rules in under {AIM_10K_SECONDS:.0f} s: {verdict(10_000, AIM_10K_SECONDS)}.",
        "",
        "How it grows: each rule's condition is a region over its facts' classes; the analysis"
        " intersects and subtracts regions of rules that can meet (bucketed by the fact that splits"
        " them best), so the work grows with the pairs of rules that can match together, not with"
        " the combinations of facts. Every finding is then replayed through `decide()` on the whole"
        " policy, which is most of the time on policies with thousands of findings (the generated"
        " ones conflict a lot: their rules are random).",
    ]
    return "\n".join(lines)


SHAPE_SIZES = {
    "lookup_table": (1_000, 3_000, 12_000),
    "membership_table": (1_000, 3_000, 12_000),
    "overlapping_ranges": (1_000, 3_000, 10_000),
}


def lookup_table(rules: int) -> str:
    """N rules `region == "rN"`, each setting its own zone: no two rules ever match together."""
    lines = ["input {", "    region: string", "}", "", "output {", '    zone: string = "none"', "}", ""]
    for k in range(rules):
        lines += [f"rule r{k}:", f'    if region == "r{k}"', f'    then zone = "z{k}"', ""]
    return "\n".join(lines)


def membership_table(rules: int) -> str:
    """N rules `region in {"rN", "rN+1", "rN+2"}`, each setting its own zone under `resolve
    first`: a lookup table by sets, each rule overlapping the next two."""
    lines = ["input {", "    region: string", "}", "", "output {", '    zone: string = "none" resolve first', "}", ""]
    for k in range(rules):
        members = ", ".join(f'"r{m}"' for m in (k, k + 1, k + 2))
        lines += [f"rule r{k}:", f"    if region in {{{members}}}", f'    then zone = "z{k}"', ""]
    return "\n".join(lines)


def overlapping_ranges(rules: int, seed: int = 0) -> str:
    """N rules over the same two facts (a range of `spend` up to 200 wide in 0-10,200, a range
    of `age` up to 10 years in 18-99), each setting `limit` to one of five values (`resolve
    unique`): rules overlap a lot, and a tenth of a percent of the pairs conflict."""
    rng = random.Random(seed)
    lines = ["input {", "    spend: number", "    age: int", "}", "", "output {", "    limit: int = 0", "}", ""]
    for k in range(rules):
        low, young = rng.randrange(0, 10_000), rng.randrange(18, 90)
        high, old = low + rng.randrange(1, 200), young + rng.randrange(1, 10)
        lines += [
            f"rule r{k}:",
            f"    if spend >= {low} and spend < {high} and age between {young} and {old}",
            f"    then limit = {rng.randrange(1, 6)}",
            "",
        ]
    return "\n".join(lines)


_ONE_RUN = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
import analysis, policylang
from collections import Counter
text = getattr(analysis, sys.argv[3])(int(sys.argv[4]))
policy = policylang.compile(text, filename="shape.policy")
started = time.process_time()
findings = policy.analyse(budget=float("inf"))
seconds = time.process_time() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "findings": Counter(d.code.value for d in findings)}))
"""


def measure_shape(tree: Path, shape: str, rules: int, timeout: float) -> dict[str, object]:
    """One analysis of the shape in a fresh process importing policylang from `tree`."""
    command = [sys.executable, "-c", _ONE_RUN, str(tree), str(HERE), shape, str(rules)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "peak_mb": None, "findings": {}, "note": f"over {timeout:.0f} s"}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def shapes(against: Path | None, timeout: float, only: str | None = None) -> None:
    """Print one line per shape and size: this tree's analysis and, if given, the other tree's."""
    trees = [("this", HERE.parent)] + ([("against", against)] if against is not None else [])
    for shape, sizes in SHAPE_SIZES.items():
        if only is not None and shape != only:
            continue
        for rules in sizes:
            for label, tree in trees:
                row = measure_shape(tree, shape, rules, timeout)
                seconds, peak = row["seconds"], row["peak_mb"]
                timing = "timed out" if seconds is None else f"{seconds:8.2f} s CPU {peak:7.0f} MB peak"
                print(f"{shape:<19} {rules:>6} {label:<8} {timing}  {row['findings']}", flush=True)


def main() -> None:
    if "--shapes" in sys.argv:
        parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--shapes", action="store_true")
        parser.add_argument("--against", type=Path, help="a checkout of another revision to measure beside this one")
        parser.add_argument("--timeout", type=float, default=1_800.0, help="seconds per analysis (default 1800)")
        parser.add_argument("--only", choices=sorted(SHAPE_SIZES), help="measure this shape only")
        args = parser.parse_args()
        shapes(args.against, args.timeout, args.only)
        return
    report.sized_main("analysis", __doc__ or "", measure, section, FULL_SIZES, QUICK_SIZES)


if __name__ == "__main__":
    main()
