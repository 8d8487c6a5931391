"""The analysis against brute force for times of day, spans across midnight included.

Random policies over one optional time fact compare it with a few constants (`<`, `>=`, `==`,
`between` in either order, so that some spans cross midnight), under `and`, `or` and `not`, and set
one `unique` output. Deciding them at every constant, a second either side of it, between each
pair, at both ends of the day and with the fact missing is a complete account of what they do
(no condition tells apart two times of one such class), and the analysis must agree with it
exactly: the rules it calls unreachable are those that never fire, the pairs it says conflict are
those some time shows conflicting, and it is never incomplete here.
"""

from __future__ import annotations

import itertools
from datetime import time

from hypothesis import given, settings
from hypothesis import strategies as st

import policylang
from policylang import Code
from policylang.api import with_analysis

CONSTANTS = ("06:00", "09:00", "17:30", "22:00")
AS_OF = "2026-01-01T00:00:00Z"


def _seconds(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _times() -> list[str | None]:
    points = sorted({_seconds(c) for c in CONSTANTS})
    found = {0, 86_399}
    for point in points:
        found |= {point - 1, point, point + 1}
    for a, b in itertools.pairwise(points):
        found.add((a + b) // 2)
    clock = [time(s // 3600, s // 60 % 60, s % 60) for s in sorted(found)]
    return [t.strftime("%H:%M:%S") for t in clock] + [None]


TIMES = _times()


@st.composite
def _condition(draw: st.DrawFn, depth: int = 2) -> str:
    kind = draw(st.sampled_from(("between", "between", "compare", "not", "and", "or") if depth else ("between",)))
    if kind == "between":
        low, high = draw(st.sampled_from(CONSTANTS)), draw(st.sampled_from(CONSTANTS))
        return f"(t between {low} and {high})"
    if kind == "compare":
        return f"(t {draw(st.sampled_from(('<', '>=', '==', '!=')))} {draw(st.sampled_from(CONSTANTS))})"
    if kind == "not":
        return f"not {draw(_condition(depth - 1))}"
    return f"({draw(_condition(depth - 1))} {kind} {draw(_condition(depth - 1))})"


@st.composite
def _policies(draw: st.DrawFn) -> str:
    rules = [
        f"rule r{i}: if {draw(_condition())} then out = {draw(st.sampled_from(('p', 'q')))}\n"
        for i in range(draw(st.integers(1, 4)))
    ]
    return "input {\n    t: time?\n}\noutput {\n    out: enum(p, q) = p\n}\n" + "".join(rules)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(_policies())
def test_the_analysis_of_times_of_day_is_exact(text: str) -> None:
    policy = policylang.compile(text, filename="t.policy")
    fired_somewhere: set[str] = set()
    conflicting: set[frozenset[str]] = set()
    for given_time in TIMES:
        decision = policy.decide({} if given_time is None else {"t": given_time}, as_of=AS_OF, on_conflict="mark")
        fired_somewhere |= set(decision.fired)
        values: dict[str, str] = {}
        for rule in decision.fired:
            values[rule] = text.split(f"rule {rule}: ")[1].split("out = ")[1].split("\n")[0]
        for a, b in itertools.combinations(sorted(values), 2):
            if values[a] != values[b]:
                conflicting.add(frozenset((a, b)))
    report = policylang.check_source(text, "t.policy")
    analysed = with_analysis(report).diagnostics
    assert not [d for d in analysed if d.code in (Code.ANALYSIS_INCOMPLETE, Code.INTERNAL_ERROR)], analysed
    rules = {f"r{i}" for i in range(text.count("rule r"))}
    unreachable = {rule for d in analysed if d.code == Code.UNREACHABLE_RULE for rule in d.rules}
    assert unreachable == rules - fired_somewhere, text
    reported = {frozenset(d.rules) for d in analysed if d.code == Code.CONFLICT}
    assert reported == conflicting, text
