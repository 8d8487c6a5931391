"""The rule index (policylang/engine/rule_index.py) changes which rules are looked at, never the decision.

Random policies large enough to be indexed, with rules keyed on enums, strings, numbers and
durations (and some that are not keyed at all), must decide exactly as the same policy compiled
without the index, on random facts including missing optional ones.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policylang
from policylang.engine import compiler
from policylang.engine import rule_index as index
from policylang.semantics.checker import check

SCHEMA = """\
input {
    tier: enum(basic, standard, premium, key)
    region: string = "eu"
    spend: number
    tenure: duration
    complaints: int?
}

output {
    sla: duration = 72h resolve min
    queue: enum(general, priority, key_accounts) = general resolve priority
    perks: set[string] = {} resolve union
    discount: number = 0 resolve max
    flagged: bool = false resolve any
}

segment big = spend >= 1_000 and tier != basic
"""

TIERS = ["basic", "standard", "premium", "key"]
REGIONS = ["eu", "us", "uk", "apac"]


pytestmark = pytest.mark.usefixtures("index_from_48_rules")


@st.composite
def conditions(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(f"tier == {draw(st.sampled_from(TIERS))}")
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
        parts.append("region in {" + ", ".join(f'"{r}"' for r in chosen) + "}")
    if draw(st.booleans()):
        low = draw(st.integers(0, 20)) * 250
        parts.append(
            draw(st.sampled_from([f"spend >= {low}", f"spend < {low}", f"spend between {low} and {low + 1500}"]))
        )
    if draw(st.booleans()):
        days = draw(st.integers(0, 40)) * 30
        parts.append(draw(st.sampled_from([f"tenure > {days}d", f"tenure <= {days}d"])))
    if draw(st.integers(0, 4)) == 0:
        parts.append(
            draw(st.sampled_from(["big", "complaints > 2", "complaints is missing", "(tier == key or spend > 900)"]))
        )
    return " and ".join(parts) if parts else "spend >= 0"


@st.composite
def actions(draw: st.DrawFn) -> str:
    options = [
        f"sla = {draw(st.sampled_from(['1h', '4h', '8h', '24h', '2d']))}",
        f"queue = {draw(st.sampled_from(['general', 'priority', 'key_accounts']))}",
        f"perks += {{{draw(st.sampled_from(['lounge', 'callback', 'gift']))}}}",
        f"discount = {draw(st.sampled_from(['0.05', '0.1', '0.2']))}",
        "flagged",
    ]
    chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=3, unique_by=lambda a: a.split()[0]))
    return ", ".join(chosen)


@st.composite
def policies(draw: st.DrawFn) -> str:
    count = draw(st.integers(48, 48 + 90))
    lines = [SCHEMA]
    for i in range(count):
        priority = draw(st.integers(0, 3))
        lines.append(f"rule r{i} priority {priority}:\n    if {draw(conditions())}\n    then {draw(actions())}\n")
    return "\n".join(lines)


@st.composite
def facts(draw: st.DrawFn) -> dict[str, Any]:
    given: dict[str, Any] = {
        "tier": draw(st.sampled_from(TIERS)),
        "region": draw(st.sampled_from([*REGIONS, "latam"])),
        "spend": draw(st.sampled_from([0, 249, 250, 999, 1000, 1500, 2750, 5000, 4999.5])),
        "tenure": f"{draw(st.sampled_from([0, 29, 30, 31, 300, 600, 1199, 1200, 1201]))}d",
    }
    if draw(st.booleans()):
        given["complaints"] = draw(st.integers(0, 5))
    return given


def _plain(text: str, filename: str = "plain.policy") -> policylang.Policy:
    """The same policy compiled with the index switched off."""
    old = compiler.INDEX_THRESHOLD
    compiler.INDEX_THRESHOLD = 10**9
    try:
        return policylang.compile(text, filename=filename)
    finally:
        compiler.INDEX_THRESHOLD = old


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=policies(), cases=st.lists(facts(), min_size=10, max_size=10))
def test_index_never_changes_a_decision(text: str, cases: list[dict[str, Any]]) -> None:
    indexed = policylang.compile(text, filename="plain.policy")
    plain = _plain(text)
    assert "m_ = X" in indexed.decision_graph.source and "m_ = X" not in plain.decision_graph.source
    for given_facts in cases:
        a = indexed.decide(given_facts, as_of="2026-01-01T00:00:00Z", on_conflict="mark")
        b = plain.decide(given_facts, as_of="2026-01-01T00:00:00Z", on_conflict="mark")
        assert a.to_dict() == b.to_dict(), given_facts


def test_keyed_rules_are_split_by_their_facts() -> None:
    """A policy whose rules are all keyed on tier and spend gets a value table and a range table, and
    the candidates of a decision are the one rule that matches: every rule is read exactly."""
    rules = [
        f"rule r{t}_{s}:\n    if tier == {tier} and spend >= {s * 100} and spend < {s * 100 + 100}\n    then discount = 0.1\n"
        for t, tier in enumerate(TIERS)
        for s in range(40)
    ]
    text = SCHEMA + "\n".join(rules)
    policy = check(text, "keyed.policy").policy
    assert policy is not None
    found = [index.constraints(rule, i, policy.derived) for i, rule in enumerate(policy.rules)]
    structure = index.discriminate(found, [[] for _ in found])
    assert [table.fact for table in structure.values] == ["tier"]
    assert [table.fact for table in structure.ranges] == ["spend"]
    assert all(structure.exact)
    (tier,), (spend,) = structure.values, structure.ranges
    assert tier.masks is not None
    key = Decimal(1234)
    candidates = (
        structure.everyone
        & tier.masks["premium"]
        & spend.regions[bisect_left(spend.keys, key) + bisect_right(spend.keys, key)]
    )
    assert candidates == 1 << (2 * 40 + 12)
    decision = policylang.compile(text, filename="keyed.policy").decide(
        {"tier": "premium", "spend": 1234, "tenure": "1y"}, as_of="2026-01-01T00:00:00Z"
    )
    assert decision.fired == ("r2_12",)


@pytest.mark.parametrize("missing_tier", [False, True])
def test_missing_optional_fact_takes_only_unkeyed_rules(missing_tier: bool) -> None:
    text = (
        "input { tier: enum(a, b)?\n spend: number }\noutput { hit: set[string] = {} resolve union }\n"
        + "\n".join(
            f"rule k{i}: if tier == {'a' if i % 2 else 'b'} and spend > {i} then hit += {{k{i}}}" for i in range(60)
        )
        + "\nrule free: if spend > 0 then hit += {free}\n"
    )
    facts_given: dict[str, Any] = {"spend": 100}
    if not missing_tier:
        facts_given["tier"] = "a"
    decision = policylang.compile(text, filename="m.policy").decide(facts_given, as_of="2026-01-01T00:00:00Z")
    plain = _plain(text, "m.policy").decide(facts_given, as_of="2026-01-01T00:00:00Z")
    assert decision.to_dict() == plain.to_dict()
    assert ("free" in decision["hit"]) and (len(decision["hit"]) == (1 if missing_tier else 31))
