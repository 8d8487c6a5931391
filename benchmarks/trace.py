"""What tracing costs: `decide()` alone against `decide()` followed by `Policy.trace()`.

    python benchmarks/trace.py            # 10, 100 and 1,000 rules; writes its section of docs/performance.md
    python benchmarks/trace.py --quick    # 10 and 100 rules; prints, writes nothing

`decide()` never traces (issue 5: "no cost when not asked for"), so its rate here should match
the peer benchmark's; a trace is made on request and costs what re-evaluating every condition part
by part costs. The policies and customers are the peer benchmark's (`peer_rules.py`). Rates are
medians of five rounds over the same customers, in one run, so the ratio between the two lines is
what to read (these machines are noisy); nothing is asserted.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peer_rules  # noqa: E402  # beside this file
import report  # noqa: E402

import policylang  # noqa: E402

FULL_SIZES = (10, 100, 1_000)
QUICK_SIZES = (10, 100)
CUSTOMERS = 200
ROUNDS = 5
AS_OF = "2026-01-01T00:00:00Z"


def rate(work: object, items: list[object]) -> float:
    """Items per second, the median of ROUNDS rounds."""
    rates = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for item in items:
            work(item)  # type: ignore[operator]
        rates.append(len(items) / (time.perf_counter() - started))
    return statistics.median(rates)


def measure(sizes: tuple[int, ...]) -> list[dict[str, float]]:
    rows = []
    customers = [peer_rules.policylang_facts(c) for c in peer_rules.random_customers(CUSTOMERS)]
    for rules in sizes:
        text = peer_rules.to_policylang(peer_rules.generate_rules(rules, 0))
        policy = policylang.compile(text, filename=f"trace_{rules}.policy")
        decisions = [policy.decide(facts, as_of=AS_OF, on_conflict="mark") for facts in customers]
        policy.trace(decisions[0])  # the tracer is built once per policy, on first use
        decide = policy.decide
        plain = rate(lambda facts, decide=decide: decide(facts, as_of=AS_OF, on_conflict="mark"), customers)
        traced = rate(
            lambda facts, decide=decide, trace=policy.trace: trace(decide(facts, as_of=AS_OF, on_conflict="mark")),
            customers,
        )
        rows.append({"rules": rules, "decide": plain, "traced": traced})
        print(f"{rules:>6} rules  decide {plain:>10,.0f}/s   decide + trace {traced:>8,.0f}/s", flush=True)
    return rows


def section(rows: list[dict[str, float]]) -> str:
    machine = report.machine_info()
    lines = [
        "## Tracing",
        "",
        f"`python benchmarks/trace.py`, {machine['date']} on {machine['cpu']} ({machine['cores']} cores),"
        f" Python {machine['python']}; the peer benchmark's policies and {CUSTOMERS} customers, median of"
        f" {ROUNDS} rounds.",
        "",
        "| rules | `decide()` per second | `decide()` + `trace()` per second | a trace costs |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        cost = row["decide"] / row["traced"]
        lines.append(f"| {row['rules']:,} | {row['decide']:,.0f} | {row['traced']:,.0f} | {cost:,.0f} decisions |")
    lines += [
        "",
        "`decide()` never traces, so it runs at its full rate whether or not traces are ever asked"
        " for; a full trace (`policy.trace(decision)`, what is measured here) re-evaluates every condition"
        " part by part (every rule that could set each output, matched or not; a test written in many"
        " rules once), which costs what the last column says, in decisions. `policy.trace(decision,"
        ' ["sla"])` traces only the rules that can set `sla`, and `detail="summary"` only the rules that'
        " matched and the nearest misses (benchmarks/explain.py compares both with the trees before).",
    ]
    return "\n".join(lines)


def main() -> None:
    report.sized_main("trace", __doc__ or "", measure, section, FULL_SIZES, QUICK_SIZES)


if __name__ == "__main__":
    main()
