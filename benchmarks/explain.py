"""What explaining and logging cost: `decide()` alone, `decide()` recorded in a decision log and a
replay from the log; and, side by side with another tree of policylang (today's figures: main at
ef32c6b, before issue 15's fast explanations), `explain()` of one output in summary and in full,
`explain()` of every output, `trace()` and `why_not()`.

    git worktree add /tmp/explain_before ef32c6b    # once: the tree to compare with
    python benchmarks/explain.py            # 10, 100 and 1,000 rules; writes its section of docs/performance.md
    python benchmarks/explain.py --quick    # 10 and 100 rules; prints, writes nothing
    python benchmarks/explain.py --before PATH      # compare with another tree (default /tmp/explain_before)

The policies and customers are the peer benchmark's (`peer_rules.py`). The log is a SQLite file
in a temporary folder on this machine's disk, committed durably per decision (docs/decision-log.md).
The side-by-side figures are CPU milliseconds per call, each tree in its own process
(`revisions.run_in_tree`), the two trees taking turns round by round so that a busy machine slows
both alike; per tree the best round's median over a few customers of the best of three calls.
Read the ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
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
from revisions import run_in_tree  # noqa: E402

import policylang  # noqa: E402
from policylang.semantics import typed_tree as c  # noqa: E402

FULL_SIZES = (10, 100, 1_000)
QUICK_SIZES = (10, 100)
CUSTOMERS = 200
LOGGED = 300
ROUNDS = 3
AS_OF = "2026-01-01T00:00:00Z"
BEFORE = Path("/tmp/explain_before")
TREE_ROUNDS = 2
"""Rounds per tree in the side-by-side table (each round a fresh process per tree, taking turns)."""
EXPLAINED = 3
"""Customers whose decisions each round explains (the median over them is the round's figure)."""
REPEATS = 3
"""Calls per customer and operation in a round; the best counts."""

OPERATIONS = {
    "one_summary": "`explain()` of one output, summary",
    "one_full": "`explain()` of one output, full",
    "all": "`explain()` of every output (default detail)",
    "all_full": "`explain()` of every output, full",
    "trace": "`trace()` (every output, full)",
    "why_not": "`why_not()`",
}

ONE_ROUND = """
import inspect, json, statistics, sys, time
sys.path.insert(0, {benchmarks!r})
import policylang
from peer_rules import generate_rules, policylang_facts, random_customers, to_policylang
from explain import question
policy = policylang.compile(to_policylang(generate_rules({rules}, 0)), filename="explain_{rules}.policy")
setting = {{name: 0 for name in policy.checked.outputs}}
for rule in policy.checked.rules:
    for name in {{action.output for action in rule.actions}}:
        setting[name] += 1
output = max(setting, key=setting.get)  # the output the most rules can set
customers = [policylang_facts(c) for c in random_customers({customers})][: {explained}]
decisions = [policy.decide(f, as_of="{as_of}", on_conflict="mark") for f in customers]
detail = "detail" in inspect.signature(policylang.Decision.explain).parameters
def one(level):  # before: explaining one output was always the full tree
    asked = {{"detail": level}} if detail else {{}}
    return lambda d: d.explain(width=100, outputs=[output], **asked)
summary, full = one("summary"), one("full")
def all_full(d):
    return d.explain(width=100, detail="full") if detail else d.explain(width=100)
operations = {{
    "one_summary": summary,
    "one_full": full,
    "all": lambda d: d.explain(width=100),
    "all_full": all_full,
    "trace": lambda d: d.trace(),
    "why_not": lambda d: d.why_not(questions[id(d)]),
}}
questions = {{id(d): question(policy, d) for d in decisions}}
for d in decisions:  # built once per policy on first use: tracer, generated counters
    summary(d), all_full(d), d.explain(width=100)
found = {{}}
for name, work in operations.items():
    times = []
    for d in decisions:
        best = float("inf")
        for _ in range({repeats}):  # the best of a few calls: a garbage collection lands in one
            started = time.process_time()
            work(d)
            best = min(best, time.process_time() - started)
        times.append(best * 1000)
    found[name] = statistics.median(times)
shown = {{"output": output, "rules_for_output": setting[output]}}
print(json.dumps({{"ms": found, **shown, "package": policylang.__file__}}))
"""


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
        asked = question(policy, decision)
        why_not = milliseconds(lambda d=decision, q=asked: d.why_not(q), 3)
        rows.append(
            {
                "rules": rules,
                "decide": plain,
                "logged": logged,
                "explain_ms": explain,
                "why_not_ms": why_not,
                "replay_ms": replay,
                "question": asked,
            }
        )
        print(
            f"{rules:>6} rules  decide {plain:>9,.0f}/s  decide+log {logged:>7,.0f}/s  explain {explain:>7.1f} ms"
            f"  why-not {why_not:>7.1f} ms ({asked})  replay {replay:>7.1f} ms",
            flush=True,
        )
    return rows


def question(policy: policylang.Policy, decision: policylang.Decision) -> str:
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


def side_by_side(sizes: tuple[int, ...], before: Path) -> list[dict[str, Any]]:
    """Per size, the OPERATIONS' CPU ms in `before` and in this tree (best of TREE_ROUNDS turns)."""
    here = HERE.parent
    rows = []
    for rules in sizes:
        code = ONE_ROUND.format(
            benchmarks=str(HERE), rules=rules, customers=CUSTOMERS, explained=EXPLAINED, as_of=AS_OF, repeats=REPEATS
        )
        old: list[dict[str, Any]] = []
        new: list[dict[str, Any]] = []
        for _ in range(TREE_ROUNDS):
            old.append(run_in_tree(before, code))
            new.append(run_in_tree(here, code))
        row: dict[str, Any] = {"rules": rules, "output": new[0]["output"], "setting": new[0]["rules_for_output"]}
        for name in OPERATIONS:
            row[name] = (min(r["ms"][name] for r in old), min(r["ms"][name] for r in new))
        rows.append(row)
        print(
            f"{rules:>6} rules ({row['output']}: {row['setting']} rules)  "
            + "  ".join(f"{name} {row[name][0]:,.1f} -> {row[name][1]:,.1f} ms" for name in OPERATIONS),
            flush=True,
        )
    return rows


def section(rows: list[dict[str, Any]], compared: list[dict[str, Any]], before: str) -> str:
    machine = report.machine_info()
    lines = [
        "## Explaining and the decision log",
        "",
        f"`python benchmarks/explain.py`, {machine['date']} on {machine['cpu']} ({machine['cores']} cores),"
        f" Python {machine['python']}, policylang at `{machine['git_commit']}`; load average before"
        f" {machine['load_average_before']}; the peer benchmark's policies and {CUSTOMERS} customers; the log a"
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
    lines += _compared_lines(compared, before)
    lines += [
        "",
        "- A logged decision costs one durable commit (the disk's sync), whatever the policy's size:"
        " the log, not the rules, sets the rate. Decisions that need no record pay nothing for it.",
        "- `explain()` is a trace plus rendering; `why_not()` decides again once per change tried"
        " (fewest facts first); `replay()` compiles the stored policy version and decides again, so it"
        " costs about one compile of the policy.",
        "- `explain()` of more than 60 rules is a summary by default (docs/explaining.md): the rules that"
        " matched, the five nearest misses per output and a count of the rest; only those rules are traced,"
        ' the rest counted by one generated function per output. `detail="full"` (`--detail full`) is every'
        " rule, part by part: about 11,000 tree lines at 1,000 rules, drawn without rich since issue 15.",
        "- `why_not()` here asks a question some rule answers (the first value a rule sets that the"
        " decision lacks): the search stops at the fewest facts that work. A question nothing answers"
        " within the bound (3 facts) searches every rule to it: at 1,000 rules `sla=4h` on these"
        " customers still takes about 2 s (2.3-3.4 s before issue 15), measured separately.",
        "- These are costs for a person reading one decision or an auditor replaying one; none of them"
        " runs on the hot path.",
        "- Read the ratios, which come from turns taken in one run, rather than the absolute figures"
        " (the load average above says how busy the machine was).",
    ]
    return "\n".join(lines)


def _compared_lines(compared: list[dict[str, Any]], before: str) -> list[str]:
    if not compared:
        return []
    names = list(OPERATIONS)
    lines = [
        "",
        f"Side by side with {before} (today's figures before issue 15's fast explanations), in the same run:"
        " CPU ms per call (per customer the best of three, the median over three customers, the best of two"
        " rounds), the ratio (before ÷ now) first. One output is the output that the most rules can"
        " set (the number in brackets); before, explaining one output was always the full tree, so both of"
        " its rows compare with that.",
        "",
        "| rules (one output) | " + " | ".join(OPERATIONS[name] for name in names) + " |",
        "| --- | " + " | ".join("---:" for _ in names) + " |",
    ]
    for row in compared:
        cells = []
        for name in names:
            old, new = row[name]
            cells.append(f"**{old / new:,.1f}x** ({old:,.1f} → {new:,.1f} ms)")
        lines.append(f"| {row['rules']:,} (`{row['output']}`: {row['setting']:,}) | " + " | ".join(cells) + " |")
    return lines


def _commit(tree: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True)
    return done.stdout.strip() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 and 100 rules; print only")
    parser.add_argument("--before", type=Path, default=BEFORE, help="the tree to compare with (default: %(default)s)")
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    rows = measure(sizes)
    compared = side_by_side(sizes, args.before) if (args.before / "policylang").is_dir() else []
    if not compared:
        print(f"no tree at {args.before}: the side-by-side table is left out ({__doc__.splitlines()[5].strip()})")
    if not args.quick:
        before = f"`{args.before}` at `{_commit(args.before)}`" if compared else ""
        report.write_section("explain", section(rows, compared, before))
        print("wrote the explain section of docs/performance.md")


if __name__ == "__main__":
    main()
