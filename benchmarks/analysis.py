"""How long the static analysis (policylang/analysis/analyser.py) takes, and how it grows with the rules.

    python benchmarks/analysis.py            # 10 to 10,000 rules; writes its section of docs/performance.md
    python benchmarks/analysis.py --quick    # 10 and 100 rules; prints, writes nothing

Two kinds of policy at each size: the peer benchmark's (`peer_rules.py`: six facts, four
outputs, every rule compared with many constants) and `generate.py`'s (segments, lets, sets).
For each: CPU time of one `Policy.analyse()` (one run: the analysis is deterministic and slow
enough that one run is steady), and what it found. Timings are reported, never asserted.
"""

from __future__ import annotations

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


def main() -> None:
    report.sized_main("analysis", __doc__ or "", measure, section, FULL_SIZES, QUICK_SIZES)


if __name__ == "__main__":
    main()
