"""What explaining and logging cost: `decide()` alone, `decide()` recorded in a decision log,
one explanation, one why-not answer, and a replay from the log.

    python benchmarks/explain.py            # 10, 100 and 1,000 rules; writes its section of docs/performance.md
    python benchmarks/explain.py --quick    # 10 and 100 rules; prints, writes nothing

The policies and customers are the peer benchmark's (`peer_rules.py`). The log is a SQLite file
in a temporary folder on this machine's disk, committed durably per decision (docs/decision-log.md).
Rates are medians of rounds in one run, so read the ratios between columns; nothing is asserted.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peer_rules  # noqa: E402  # beside this file
import report  # noqa: E402

import policylang  # noqa: E402
from policylang.semantics import typed_tree as c  # noqa: E402

FULL_SIZES = (10, 100, 1_000)
QUICK_SIZES = (10, 100)
CUSTOMERS = 200
LOGGED = 300
ROUNDS = 3
AS_OF = "2026-01-01T00:00:00Z"


def per_second(work: Callable[[Any], object], items: list[Any]) -> float:
    """Items per second, the median of ROUNDS rounds."""
    rates = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for item in items:
            work(item)
        rates.append(len(items) / (time.perf_counter() - started))
    return statistics.median(rates)


def milliseconds(work: Callable[[], object], times: int) -> float:
    """Milliseconds per call, the median of `times` calls."""
    found = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        found.append((time.perf_counter() - started) * 1000)
    return statistics.median(found)


def measure(sizes: tuple[int, ...]) -> list[dict[str, float]]:
    rows = []
    customers = [peer_rules.policylang_facts(x) for x in peer_rules.random_customers(CUSTOMERS)]
    for rules in sizes:
        text = peer_rules.to_policylang(peer_rules.generate_rules(rules, 0))
        policy = policylang.compile(text, filename=f"explain_{rules}.policy")
        decide = policy.decide
        plain = per_second(lambda facts, decide=decide: decide(facts, as_of=AS_OF, on_conflict="mark"), customers)
        with tempfile.TemporaryDirectory() as folder, policylang.open_log(Path(folder) / "decisions.db") as log:
            logged_items = (customers * (LOGGED // len(customers) + 1))[:LOGGED]
            logged = per_second(
                lambda facts, decide=decide, log=log: decide(facts, as_of=AS_OF, on_conflict="mark", log=log),
                logged_items,
            )
            decision = decide(customers[0], as_of=AS_OF, on_conflict="mark", log=log)
            replay = milliseconds(lambda log=log, d=decision: log.replay(d.id), 5)
        decision.explain()  # the tracer is built once per policy, on first use
        explain = milliseconds(lambda d=decision: d.explain(width=100), 5)
        question = _question(policy, decision)
        why_not = milliseconds(lambda d=decision, q=question: d.why_not(q), 3)
        rows.append(
            {
                "rules": rules,
                "decide": plain,
                "logged": logged,
                "explain_ms": explain,
                "why_not_ms": why_not,
                "replay_ms": replay,
                "question": question,
            }
        )
        print(
            f"{rules:>6} rules  decide {plain:>9,.0f}/s  decide+log {logged:>7,.0f}/s  explain {explain:>7.1f} ms"
            f"  why-not {why_not:>7.1f} ms ({question})  replay {replay:>7.1f} ms",
            flush=True,
        )
    return rows


def _question(policy: policylang.Policy, decision: policylang.Decision) -> str:
    """A why-not question some rule can answer: a constant some rule sets that the decision lacks."""
    from policylang.engine.evaluator import to_json_value

    for rule in policy.checked.rules:
        for action in rule.actions:
            if isinstance(action.value, c.Const) and action.op == "set":
                value = action.value.value
                if decision.outputs.get(action.output) != value:
                    shown = to_json_value(value)
                    shown = str(shown).lower() if isinstance(shown, bool) else shown
                    return f"{action.output}={shown}"
    raise AssertionError("every rule's value is already decided")


def section(rows: list[dict[str, Any]]) -> str:
    machine = report.machine_info()
    lines = [
        "## Explaining and the decision log",
        "",
        f"`python benchmarks/explain.py`, {machine['date']} on {machine['cpu']} ({machine['cores']} cores),"
        f" Python {machine['python']}; the peer benchmark's policies and {CUSTOMERS} customers; the log a"
        " SQLite file on this machine's disk, one durable commit per decision.",
        "",
        "| rules | `decide()` per s | `decide(log=…)` per s | `explain()` | `why_not()` | `replay()` from the log |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['rules']:,} | {row['decide']:,.0f} | {row['logged']:,.0f} | {row['explain_ms']:,.1f} ms"
            f" | {row['why_not_ms']:,.1f} ms | {row['replay_ms']:,.1f} ms |"
        )
    lines += [
        "",
        "- A logged decision costs one durable commit (the disk's sync), whatever the policy's size:"
        " the log, not the rules, sets the rate. Decisions that need no record pay nothing for it.",
        "- `explain()` is a trace plus rendering; `why_not()` decides again once per change tried"
        " (fewest facts first); `replay()` compiles the stored policy version and decides again, so it"
        " costs about one compile of the policy.",
        "- `explain()` of a 1,000-rule policy is mostly drawing the text (about 11,000 tree lines: every"
        " condition part of every rule that could set each output); the trace under it takes about 80 ms."
        " `--format json` skips the drawing.",
        "- These are costs for a person reading one decision or an auditor replaying one; none of them"
        " runs on the hot path.",
    ]
    return "\n".join(lines)


def main() -> None:
    report.sized_main("explain", __doc__ or "", measure, section, FULL_SIZES, QUICK_SIZES)


if __name__ == "__main__":
    main()
