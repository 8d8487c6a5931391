"""decide() against the fair hand-written first-match function, with and without facts validated
once (`Policy.facts`), in one process (issue 14, items 2 and 4).

    python benchmarks/fair_floor.py [--rules 100 1000] [--customers 20000] [--rounds 5]

Per size: the fair baseline (`peer_rules.to_python_first`, one function per output that returns at
its first match, on the peer form of the customers), `decide()` on dicts, `decide()` on `Facts` made
beforehand, and `decide_many()` on each; CPU time (`time.process_time`), the best of `--rounds`
rounds that take turns, so that a busy machine slows all alike. Prints µs a decision and each
path's rate as a share of the baseline's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from peer_rules import (
    generate_rules,
    policylang_facts,
    random_customers,
    to_policylang,
    to_python_first,
)

import policylang


def _loop(decide: Callable[[Any], Any], items: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            decide(item)

    return run


def _batch(decide_many: Callable[[Any], Any], items: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for _ in decide_many(items):
            pass

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    customers = random_customers(options.customers, seed=5)
    given = [policylang_facts(c) for c in customers]
    print(f"CPU µs a decision, best of {options.rounds} rounds; {options.customers:,} customers, peer policy")
    print(f"{'rules':>6} {'path':<28} {'µs':>7} {'share of fair':>14}")
    for count in options.rules:
        rules = generate_rules(count, seed=0)
        namespace: dict[str, Any] = {}
        exec(compile(to_python_first(rules), "<fair>", "exec"), namespace)
        policy = policylang.compile(to_policylang(rules), filename="peer.policy")
        facts = [policy.facts(g) for g in given]
        paths: dict[str, Callable[[], None]] = {
            "fair first-match function": _loop(namespace["decide"], customers),
            "decide(dict)": _loop(policy.decide, given),
            "decide(Facts)": _loop(policy.decide, facts),
            "decide_many(dicts)": _batch(policy.decide_many, given),
            "decide_many(Facts)": _batch(policy.decide_many, facts),
        }
        best = dict.fromkeys(paths, float("inf"))
        for _ in range(options.rounds):
            for name, run in paths.items():
                started = time.process_time()
                run()
                best[name] = min(best[name], time.process_time() - started)
        fair = best["fair first-match function"]
        for name, seconds in best.items():
            print(f"{count:>6} {name:<28} {seconds / len(given) * 1e6:>7.3f} {fair / seconds:>14.2f}")


if __name__ == "__main__":
    main()
