"""policylang's decision rate on four policy shapes and three paths, beside the two hand-written
baselines, all measured in one run in CPU time, so that every number says which shape it is for.

    python benchmarks/peer_shapes.py            # 10 to 10,000 rules; writes results/shapes.json and its section
    python benchmarks/peer_shapes.py --quick    # 10 and 100 rules, 200 customers; prints, writes nothing
    python benchmarks/peers.py --shapes-only    # the same, through the peer benchmark's command line

The shapes, all from one `peer_rules.generate_rules(n)` rule set except the last:

- `peer`: the peer policy as generated: four outputs resolving by min, priority, max and any, every
  action a constant (the shape policylang's outputs-only function covers);
- `peer_union`: the same plus one output resolving by `union`, set by one rule;
- `peer_computed`: the same plus one output set by one computed action (`monthly_spend * 0.01`);
- `realistic`: `generate.generate_policy(n)`, the project's own generator (segments, lets, `or`
  groups, a `union` output), on its own random customers.

The paths: `decide()`; `decide()` then reading `decision.fired` (what a decision log needs);
`decide()` then `policy.trace(decision)` (what an explanation needs). The baselines run the peer
shape only: the hand-written function that tests every rule, and the fair one that stops at the
first match in resolution order (`peer_rules.to_python_first`). Before timing, every policylang
shape must give the hand-written answer on the four peer outputs for every customer.

Passes over the customers are interleaved across all rows, round by round, and each row's rate is
the median over rounds of customers / CPU seconds. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the benchmark's neighbours are imported by plain name

import generate  # noqa: E402  # found through the path set just above
import peer_engines  # noqa: E402
import peer_rules  # noqa: E402
import report  # noqa: E402

import policylang  # noqa: E402

SECTION = "shapes"
RESULTS_FILE = HERE / "results" / "shapes.json"
FULL_SIZES = (10, 100, 1_000, 10_000)
QUICK_SIZES = (10, 100)
CUSTOMERS = 1_000
QUICK_CUSTOMERS = 200
ROUNDS = 5
ROW_BUDGET_SECONDS = 20.0
"""A row stops taking passes once it has spent this much CPU time (at least two passes are kept)."""
TRACE_PASS_SECONDS = 2.0
"""The trace rows run on as many customers as one pass of about this long allows (at least five)."""

SHAPES = {
    "peer": "peer policy as generated",
    "peer_union": "+ one `resolve union` output set by one rule",
    "peer_computed": "+ one computed action",
    "realistic": "realistic generator (`generate.py`)",
}
PATHS = {
    "decide": "`decide()`",
    "fired": "`decide()` + `fired`",
    "trace": "`decide()` + `trace()`",
}
BASELINES = {
    "python_first": "hand-written, first match (fair)",
    "python": "hand-written, every rule",
}
PEER_OUTPUTS = ("sla", "queue", "discount", "skip_fraud_check")
_OUTPUT_ANCHOR = "    skip_fraud_check: bool = false resolve any\n"


# --- the shapes ---


def shape_text(shape: str, rules: peer_rules.RuleSet) -> str:
    """The policylang text of `shape` at the size of `rules` (the realistic shape uses only the count).
    The extra output of the two variants is set by one rule on premium customers, so the four peer
    outputs keep the peer policy's answers."""
    if shape == "realistic":
        return generate.generate_policy(len(rules), rules.seed)
    text = peer_rules.to_policylang(rules)
    if shape == "peer":
        return text
    declaration, action = {
        "peer_union": ("flags: set[string] = {} resolve union", 'flags += {"reviewed"}'),
        "peer_computed": ("credit: number = 0 resolve max", "credit = monthly_spend * 0.01"),
    }[shape]
    if _OUTPUT_ANCHOR not in text:
        raise ValueError("peer_rules.to_policylang no longer declares `skip_fraud_check` as expected")
    text = text.replace(_OUTPUT_ANCHOR, f"{_OUTPUT_ANCHOR}    {declaration}\n", 1)
    return f"{text}\nrule shape_extra:\n    if tier == premium\n    then {action}\n"


def realistic_facts(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """Customers for `generate.py`'s input block; optional facts are sometimes left out."""
    rng = random.Random(f"realistic-customers:{seed}")
    customers = []
    for _ in range(count):
        facts: dict[str, Any] = {
            "tier": rng.choice(generate.TIERS),
            "tenure": f"{rng.randint(0, 3_650)}d",
            "monthly_spend": round(rng.uniform(0, 30_000), 2),
        }
        if rng.random() < 0.8:
            facts["past_complaints"] = rng.choice((0, 0, 0, 1, 1, 2, 3, 4, 5, 6))
        if rng.random() < 0.8:
            facts["region"] = rng.choice(generate.REGIONS)
        if rng.random() < 0.6:
            facts["tags"] = rng.sample(generate.TAGS, k=rng.randint(0, 3))
        if rng.random() < 0.7:
            facts["vip"] = rng.random() < 0.15
        customers.append(facts)
    return customers


# --- measuring ---


@dataclass
class Row:
    """One line of the table: a shape and a path (or a baseline), timed over `items`."""

    shape: str
    path: str
    work: Callable[[Any], object]
    items: list[Any]
    cpu_seconds: list[float] = field(default_factory=list)

    def run_pass(self) -> None:
        work = self.work
        started = time.process_time()
        for item in self.items:
            work(item)
        self.cpu_seconds.append(time.process_time() - started)

    def rate(self) -> float:
        return statistics.median(len(self.items) / max(s, 1e-9) for s in self.cpu_seconds)


def _rows_for_size(rules_count: int, customers: int, seed: int) -> tuple[list[Row], dict[str, Any]]:
    """The rows at one size, each checked before it is timed. Raises SystemExit when a policylang
    shape disagrees with the hand-written function (no timing would be valid)."""
    rules = peer_rules.generate_rules(rules_count, seed)
    plain = peer_rules.random_customers(customers, seed + 1)
    rows: list[Row] = []
    reference: list[dict[str, Any]] = []
    for key in BASELINES:
        built = peer_engines.BY_KEY[key].build(rules)
        prepared = [built.prepare(c) for c in plain]
        answers = [built.normalise(built.decide(p)) for p in prepared]
        if reference and answers != reference:
            raise SystemExit(f"{key} disagrees with the rule-order hand-written function at {rules_count} rules")
        reference = reference or answers
        rows.append(Row("peer", key, built.decide, prepared))
    info: dict[str, Any] = {"rules": rules_count, "customers": customers, "compile_cpu_seconds": {}}
    for shape in SHAPES:
        text = shape_text(shape, rules)
        started = time.process_time()
        policy = policylang.compile(text, filename=f"{shape}_{rules_count}.policy")
        info["compile_cpu_seconds"][shape] = round(time.process_time() - started, 3)
        facts = (
            realistic_facts(customers, seed + 1)
            if shape == "realistic"
            else [peer_rules.policylang_facts(c) for c in plain]
        )

        def decide(f: Any, decide: Any = policy.decide) -> Any:
            return decide(f, on_conflict="mark")

        decisions = [decide(f) for f in facts]
        if shape != "realistic":
            got = [peer_rules.normalise_policylang({k: d.outputs[k] for k in PEER_OUTPUTS}) for d in decisions]
            if got != reference:
                wrong = sum(a != b for a, b in zip(got, reference, strict=True))
                raise SystemExit(f"shape {shape} at {rules_count} rules differs from hand-written on {wrong} customers")
        info.setdefault("conflicts", {})[shape] = sum(bool(d.conflicts) for d in decisions)
        rows.append(Row(shape, "decide", decide, facts))
        rows.append(Row(shape, "fired", lambda f, decide=decide: decide(f).fired, facts))
        trace = policy.trace
        trace(decisions[0])  # the tracer is built on first use: not timed
        probe = min(len(facts), 5)
        started = time.process_time()
        for f in facts[:probe]:
            trace(decide(f))
        each = (time.process_time() - started) / probe
        traced = facts[: max(5, min(len(facts), int(TRACE_PASS_SECONDS / max(each, 1e-9))))]
        rows.append(Row(shape, "trace", lambda f, decide=decide, trace=trace: trace(decide(f)), traced))
    return rows, info


def measure(sizes: tuple[int, ...], customers: int = CUSTOMERS, seed: int = 0, rounds: int = ROUNDS) -> dict[str, Any]:
    """Every row at every size, interleaved round by round within a size; gives the results dict
    that `render_section` prints."""
    results: dict[str, Any] = {"machine": report.machine_info(), "rounds": rounds, "sizes": []}
    policylang.compile(shape_text("peer", peer_rules.generate_rules(2, seed)))  # imports, grammar: not timed
    for rules_count in sizes:
        print(f"== {rules_count:,} rules", flush=True)
        rows, info = _rows_for_size(rules_count, customers, seed)
        for round_index in range(rounds):
            for row in rows:
                if round_index >= 2 and sum(row.cpu_seconds) >= ROW_BUDGET_SECONDS:
                    continue
                row.run_pass()
        fair = next(r.rate() for r in rows if r.path == "python_first")
        peer_decide = next(r.rate() for r in rows if r.shape == "peer" and r.path == "decide")
        info["rows"] = []
        for row in rows:
            rate = row.rate()
            entry = {
                "shape": row.shape,
                "path": row.path,
                "decisions_per_cpu_second": round(rate, 1),
                "microseconds": round(1e6 / rate, 2),
                "of_fair_hand_written": round(rate / fair, 4),
                "of_peer_decide": round(rate / peer_decide, 4),
                "customers": len(row.items),
                "passes": len(row.cpu_seconds),
            }
            info["rows"].append(entry)
            print(
                f"  {row.shape:<14} {row.path:<13} {rate:>12,.0f}/s  {entry['of_fair_hand_written']:>7.3f}x fair"
                f"  ({len(row.items)} customers x {len(row.cpu_seconds)})",
                flush=True,
            )
        results["sizes"].append(info)
    results["load_average_after"] = report.load_average()
    return results


# --- the doc section ---


def _find(size: dict[str, Any], shape: str, path: str) -> dict[str, Any] | None:
    return next((r for r in size["rows"] if r["shape"] == shape and r["path"] == path), None)


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    return f"{row['of_fair_hand_written']:.2f}x ({row['decisions_per_cpu_second']:,.0f} /s)"


def render_section(results: dict[str, Any]) -> str:
    m = results["machine"]
    sizes = results["sizes"]
    lines = [
        "## Decisions per second by policy shape and path",
        "",
        f"`python benchmarks/peer_shapes.py`, {m['date']} on {m['cpu']} ({m['cores']} cores), Python "
        f"{m['python']}, policylang at `{m['git_commit']}`; load average before / after "
        f"{m['load_average_before']} / {results.get('load_average_after')}. "
        f"{sizes[0]['customers']:,} customers per size (the trace rows: fewer, see the last table); every "
        f"rate is customers per CPU-second, the median of up to {results['rounds']} passes taken in turns "
        "with every other row of the same size. Ratios within one run are the figures to trust.",
        "",
        "Each cell is **the ratio to the fair hand-written function first** (Python that stops at the first "
        "match in resolution order, as policylang's outputs-only function does, `peer_rules.to_python_first`), "
        "then the rate. The hand-written functions are written for the peer shape; a union output set by one "
        "rule or one computed action would add one `if` to them.",
        "",
        "### `decide()` by shape",
        "",
        "| rules | hand-written, every rule | " + " | ".join(SHAPES.values()) + " |",
        "| ---: | ---: | " + " | ".join("---:" for _ in SHAPES) + " |",
    ]
    for size in sizes:
        cells = [_cell(_find(size, "peer", "python"))] + [_cell(_find(size, s, "decide")) for s in SHAPES]
        lines.append(f"| {size['rules']:,} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### The logged and explained paths",
        "",
        "Ratios to `decide()` on the same shape first, then µs per decision. `fired` is what a decision log "
        "records; `trace()` is what `explain` renders.",
        "",
        "| rules | shape | `decide()` µs | `+ fired` ÷ `decide()` | `+ fired` µs | `+ trace()` ÷ `decide()` "
        "| `+ trace()` µs | traced customers |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        for shape, label in SHAPES.items():
            plain, fired, traced = (_find(size, shape, p) for p in PATHS)
            if plain is None or fired is None or traced is None:
                continue
            base = plain["decisions_per_cpu_second"]
            lines.append(
                f"| {size['rules']:,} | {label} | {plain['microseconds']:,.1f} | "
                f"{fired['decisions_per_cpu_second'] / base:.2f} | {fired['microseconds']:,.1f} | "
                f"{traced['decisions_per_cpu_second'] / base:.4f} | {traced['microseconds']:,.0f} | "
                f"{traced['customers']:,} |"
            )
    lines += [
        "",
        "Compile CPU seconds (`policylang.compile`: parse, check, code generation; no conflict analysis) per shape: "
        + "; ".join(
            f"{s['rules']:,} rules: " + ", ".join(f"{k} {v:,.2f}" for k, v in s["compile_cpu_seconds"].items())
            for s in sizes
        )
        + '. Every policylang row calls `decide(facts, on_conflict="mark")` (the realistic policy can '
        "conflict at run time; decisions with a marked conflict: "
        + "; ".join(f"{s['rules']:,} rules {s['conflicts'].get('realistic', 0)}" for s in sizes)
        + f" of {sizes[0]['customers']:,}).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 rules, 200 customers; print only")
    parser.add_argument("--sizes", type=lambda s: tuple(int(x) for x in s.split(",")), help="rule counts")
    parser.add_argument("--customers", type=int, help=f"customers per size (default {CUSTOMERS:,})")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--write", action="store_true", help="rewrite the doc section (default without --quick)")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    customers = args.customers or (QUICK_CUSTOMERS if args.quick else CUSTOMERS)
    results = measure(sizes, customers, rounds=args.rounds)
    if args.write or not args.quick:
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_FILE.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        report.write_section(SECTION, render_section(results))
        print(f"wrote the {SECTION} section of docs/performance.md")
    else:
        print(render_section(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
