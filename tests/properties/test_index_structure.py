"""The full path's discrimination structure (rule_index.discriminate) finds exactly the rules that match.

Two levels. On policies built to stress the structure's edges (ranges with open and closed ends on
ints, numbers and durations, ints compared with decimals, enums, membership, lookup tables with many
values, optional facts that are missing, priorities, rules with no constraint the index can use, and
more range boundaries and values than the structure keeps whole), the compiled policy must give the
reference interpreter's fired rules, outputs and conflicts, with the structure's limits lowered so that
its shifted tables and widened ranges are used on policies small enough to draw. And on the structure
itself: for random facts, a rule is a candidate whenever its constraints hold, and, for the rules the
structure calls exact, only then.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.reference import normalise_conflicts, normalise_outputs, reference_run

import policylang
from policylang.core.values import MISSING
from policylang.engine import compiler, rule_index
from policylang.engine.runtime import set_words

FILENAME = "structure.policy"
AS_OF = "2026-01-01T00:00:00Z"


pytestmark = pytest.mark.usefixtures("index_from_48_rules")


HEAD = """\
input {
    tier: enum(basic, standard, premium, key)?
    region: string?
    count: int?
    spend: number
    wait: duration?
    vip: bool?
    tags: set[string] = {}
}

output {
    hits: set[string] = {} resolve union
    level: int resolve max
    queue: enum(low, mid, high) = low resolve priority
    owner: string resolve first
}
"""

_REGIONS = tuple(f"r{i}" for i in range(12))
_INT_BOUNDS = tuple(range(-2, 9))
_NUMBER_BOUNDS = ("0", "0.5", "1", "1.5", "2", "2.25", "3", "10")
_DURATIONS = ("0s", "1h", "90m", "1d", "36h", "2d", "1w")


@st.composite
def _atom(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 11))
    op = draw(st.sampled_from(("<", "<=", ">", ">=")))
    if kind == 0:
        return f"tier == {draw(st.sampled_from(('basic', 'standard', 'premium', 'key')))}"
    if kind == 1:
        return "tier in {" + ", ".join(draw(st.sets(st.sampled_from(("basic", "premium", "key")), min_size=1))) + "}"
    if kind == 2:
        return f'region == "{draw(st.sampled_from(_REGIONS))}"'
    if kind == 3:
        chosen = draw(st.sets(st.sampled_from(_REGIONS), min_size=1, max_size=3))
        return "region in {" + ", ".join(f'"{r}"' for r in sorted(chosen)) + "}"
    if kind == 4:
        return f"count {draw(st.sampled_from((*('<', '<=', '>', '>='), '==')))} {draw(st.sampled_from(_INT_BOUNDS))}"
    if kind == 5:
        return f"count {op} {draw(st.sampled_from(_NUMBER_BOUNDS))}"  # an int against a decimal
    if kind == 6:
        return f"spend {op} {draw(st.sampled_from((*_NUMBER_BOUNDS, '2', '7')))}"
    if kind == 7:
        low, high = sorted(draw(st.lists(st.sampled_from(_NUMBER_BOUNDS), min_size=2, max_size=2)), key=Decimal)
        return f"spend between {low} and {high}"
    if kind == 8:
        return f"wait {op} {draw(st.sampled_from(_DURATIONS))}"
    if kind == 9:
        low, high = sorted(draw(st.lists(st.integers(0, len(_DURATIONS) - 1), min_size=2, max_size=2)))
        return f"wait between {_DURATIONS[low]} and {_DURATIONS[high]}"
    if kind == 10:
        return draw(st.sampled_from(("vip", "not vip", "vip is missing", '"a" in tags', 'region != "r1"')))
    return draw(st.sampled_from(("count is missing", "not (tier == key)", "spend > 1 or vip", "tier != basic")))


@st.composite
def structured_policies(draw: st.DrawFn) -> str:
    lines = [HEAD]
    for i in range(draw(st.integers(48, 80))):
        atoms = draw(st.lists(_atom(), min_size=0, max_size=3))
        condition = " and ".join(atoms) if atoms else "true"
        action = draw(
            st.sampled_from(
                (
                    f"hits += {{h{i % 7}}}",
                    f"level = {i % 5}",
                    f"queue = {('low', 'mid', 'high')[i % 3]}",
                    f'owner = "o{i % 4}"',
                    "level = count",
                )
            )
        )
        priority = draw(st.sampled_from(("", "", " priority 1", " priority 2")))
        lines.append(f"rule r{i}{priority}:\n    if {condition}\n    then {action}\n")
    return "\n".join(lines)


@st.composite
def structured_facts(draw: st.DrawFn) -> dict[str, Any]:
    facts: dict[str, Any] = {"spend": draw(st.sampled_from([0, 0.5, 1, 1.25, 1.5, 2, 2.25, 3, 7, 10, 11]))}
    if draw(st.booleans()):
        facts["tier"] = draw(st.sampled_from(("basic", "standard", "premium", "key")))
    if draw(st.integers(0, 3)):
        facts["region"] = draw(st.sampled_from((*_REGIONS, "elsewhere")))
    if draw(st.integers(0, 3)):
        facts["count"] = draw(st.sampled_from((*_INT_BOUNDS, -5, 20)))
    if draw(st.integers(0, 3)):
        facts["wait"] = draw(st.sampled_from((*_DURATIONS, "30m", "3d", "2w")))
    if draw(st.booleans()):
        facts["vip"] = draw(st.booleans())
    if draw(st.booleans()):
        facts["tags"] = draw(st.sampled_from(([], ["a"], ["a", "b"])))
    return facts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    text=structured_policies(),
    batch=st.lists(structured_facts(), min_size=1, max_size=5),
    keys=st.sampled_from((2, 4, rule_index.MAX_KEYS)),
    values=st.sampled_from((1, 3, rule_index.SHIFTED_VALUES)),
)
def test_the_structure_finds_exactly_the_reference_matches(
    text: str, batch: list[dict[str, Any]], keys: int, values: int
) -> None:
    with mock.patch.object(rule_index, "MAX_KEYS", keys), mock.patch.object(rule_index, "SHIFTED_VALUES", values):
        policy = policylang.compile(text, filename=FILENAME)
    assert "m_ = X" in policy.decision_graph.source, "the policy is large enough to be indexed"
    for facts in batch:
        for on_conflict in ("mark", "raise"):
            try:
                decision: Any = policy.decide(facts, as_of=AS_OF, on_conflict=on_conflict)
            except policylang.EvaluationError as exc:
                decision = exc
            try:
                ref: Any = reference_run(text, FILENAME, facts, AS_OF, on_conflict)
            except policylang.EvaluationError as exc:
                ref = exc
            if isinstance(ref, Exception):
                assert type(decision) is type(ref)
                continue
            assert not isinstance(decision, Exception), decision
            event(f"fired {min(len(ref.fired) // 10 * 10, 40)}+ rules")
            assert list(decision.fired) == ref.fired
            assert normalise_outputs(decision.outputs) == normalise_outputs(ref.outputs)
            assert normalise_conflicts(decision.conflicts) == normalise_conflicts(ref.conflicts)


# --- the structure itself ---

_FACT_VALUES: dict[str, tuple[Any, ...]] = {
    "tier": ("basic", "standard", "premium", "key", MISSING),
    "region": (*_REGIONS, "elsewhere", MISSING),
    "count": (*_INT_BOUNDS, -5, 20, MISSING),
}


@st.composite
def constraint_sets(draw: st.DrawFn) -> list[rule_index.RuleConstraints]:
    found = []
    for k in range(draw(st.integers(1, 90))):
        facts: dict[str, rule_index.Constraint] = {}
        if draw(st.booleans()):
            facts["tier"] = rule_index.Constraint(
                values=frozenset(draw(st.sets(st.sampled_from(_FACT_VALUES["tier"][:4]))))
            )
        if draw(st.booleans()):
            facts["region"] = rule_index.Constraint(
                values=frozenset(draw(st.sets(st.sampled_from(_REGIONS), min_size=1, max_size=4)))
            )
        if draw(st.booleans()):
            low = draw(st.none() | st.integers(-3, 9))
            high = draw(st.none() | st.integers(-3, 9))
            allowed = draw(st.none() | st.frozensets(st.integers(-3, 9), max_size=3))
            if allowed is not None or low is not None or high is not None:  # as reading a condition makes them
                facts["count"] = rule_index.Constraint(
                    values=allowed, low=low, low_closed=draw(st.booleans()), high=high, high_closed=draw(st.booleans())
                )
        found.append(rule_index.RuleConstraints(k, facts))
    return found


def _holds(constraint: rule_index.Constraint, value: Any) -> bool:
    if value is MISSING:
        return False
    if constraint.values is not None and value not in constraint.values:
        return False
    if constraint.low is not None and not (
        value >= constraint.low if constraint.low_closed else value > constraint.low
    ):
        return False
    return constraint.high is None or (value <= constraint.high if constraint.high_closed else value < constraint.high)


def _candidates(structure: rule_index.Discrimination, facts: dict[str, Any]) -> list[int]:
    """What the generated code computes (compiler._indexed), written out plainly."""
    mask = structure.everyone
    for table in structure.values:
        value = facts[table.fact]
        if table.masks is not None:
            mask &= table.masks.get(value, table.unconstrained)
        else:
            assert table.shifted is not None
            found = table.shifted.get(value)
            mask &= table.unconstrained if found is None else table.unconstrained | found[0] << found[1]
    for ranges in structure.ranges:
        value = facts[ranges.fact]
        if value is MISSING:
            mask &= ranges.unconstrained
        else:
            mask &= ranges.regions[bisect_left(ranges.keys, value) + bisect_right(ranges.keys, value)]
    words = set_words(mask, (structure.everyone.bit_length() + 31) // 32)
    assert sum(w << 32 * j for j, w in enumerate(words)) == mask
    return [j * 32 + b for j, w in enumerate(words) for b in range(32) if w >> b & 1]


@settings(max_examples=200, deadline=None)
@given(
    found=constraint_sets(),
    facts=st.fixed_dictionaries({fact: st.sampled_from(values) for fact, values in _FACT_VALUES.items()}),
    keys=st.integers(1, 6),
    values=st.integers(1, 6),
)
def test_candidates_are_the_rules_whose_constraints_hold(
    found: list[rule_index.RuleConstraints], facts: dict[str, Any], keys: int, values: int
) -> None:
    with mock.patch.object(rule_index, "MAX_KEYS", keys), mock.patch.object(rule_index, "SHIFTED_VALUES", values):
        structure = rule_index.discriminate(found, [[] for _ in found])
    candidates = set(_candidates(structure, facts))
    for k, rule in enumerate(found):
        holds = all(_holds(constraint, facts[fact]) for fact, constraint in rule.facts.items())
        if holds:
            assert k in candidates, (k, rule, facts)
        elif structure.exact[k]:
            assert k not in candidates, (k, rule, facts)
        else:
            event("a widened range keeps a rule that does not match (it is tested)")


def test_a_lookup_table_takes_linear_memory() -> None:
    """12,000 rules `region == "rN"`: each value's mask is shifted down to its one rule, not 12,000 bits wide."""
    found = [
        rule_index.RuleConstraints(k, {"region": rule_index.Constraint(values=frozenset({f"r{k}"}))})
        for k in range(12_000)
    ]
    structure = rule_index.discriminate(found, [[] for _ in found])
    (table,) = structure.values
    assert table.shifted is not None and table.masks is None
    assert sum(low.bit_length() for low, _ in table.shifted.values()) == 12_000
    assert _candidates(structure, {"region": "r7777", "tier": MISSING, "count": MISSING}) == [7777]
    assert all(structure.exact)


def test_rules_without_a_usable_constraint_are_always_candidates() -> None:
    text = HEAD + "\n".join(
        f"rule r{i}:\n    if {'spend > 1 or vip' if i % 2 else f'count == {i}'}\n    then level = {i}\n"
        for i in range(60)
    )
    policy = policylang.compile(text, filename=FILENAME)
    decision = policy.decide({"spend": 2, "count": 4}, as_of=AS_OF)
    assert decision.fired == ("r1", "r3", "r4", *(f"r{i}" for i in range(5, 60, 2)))
    assert decision["level"] == 59


def test_the_full_function_writes_each_rule_once() -> None:
    """Rules keyed on several facts at once are not copied into branches: the code grows with the rules."""
    rules = [
        f"rule r{i}:\n    if tier == {('basic', 'premium')[i % 2]} and spend >= {i} and count < {i % 13}"
        f' and "t{i % 5}" in tags\n    then level = {i}\n'
        for i in range(400)
    ]
    source = policylang.compile(HEAD + "\n".join(rules), filename=FILENAME).decision_graph.source
    assert [source.count(f"fired.append({i})\n") for i in range(400)] == [1] * 400
    with mock.patch.object(compiler, "INDEX_THRESHOLD", 10**9):
        plain = policylang.compile(HEAD + "\n".join(rules), filename=FILENAME).decision_graph.source
    assert len(source) < 2 * len(plain)


def test_the_clustered_walk_writes_each_rule_once_and_keeps_rule_order() -> None:
    """Walked in clustered order (rules grouped by tier, then region), each rule's code is still
    written once, and `fired` comes back in rule order."""
    rules = [
        f'rule r{i}:\n    if tier == {("basic", "premium", "key")[i % 3]} and region == "x{i % 4}" and spend >= {i}'
        f'\n    then level = {i}, hits += {{"h{i % 7}"}}\n'
        for i in range(300)
    ]
    text = HEAD + "\n".join(rules)
    with mock.patch.object(compiler, "CLUSTER_THRESHOLD", 48):
        clustered = policylang.compile(text, filename=FILENAME)
    source = clustered.decision_graph.source
    assert "w_ = _zero_words" in source
    assert [source.count(f"fired.append({i})\n") for i in range(300)] == [1] * 300
    facts = {"tier": "premium", "region": "x1", "spend": 1_000}
    decision = clustered.decide(facts, as_of=AS_OF)
    expected = [f"r{i}" for i in range(300) if i % 3 == 1 and i % 4 == 1]
    assert list(decision.fired) == expected
    assert decision["level"] == int(expected[-1][1:])
    assert decision.resolutions["hits"].winners == tuple(expected)


def test_clustered_order_groups_rules_by_value_and_keeps_pinned_ones_last_in_order() -> None:
    found = []
    for k in range(200):
        constraint = rule_index.RuleConstraints(k)
        if k % 5:
            constraint.facts["tier"] = rule_index.Constraint(values=frozenset({("a", "b", "c")[k % 3]}))
        found.append(constraint)
    pinned = [k % 50 == 7 for k in range(200)]
    order = rule_index.clustered_order(found, pinned)
    assert sorted(order) == list(range(200))
    assert order[-4:] == [7, 57, 107, 157]
    groups = [found[k].facts["tier"].values if "tier" in found[k].facts else None for k in order[:-4]]
    # Each value's rules stand together, in rule order, and the unconstrained ones after them.
    runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
    assert len(runs) == len(set(runs)) == 4 and runs[-1] is None
    for value in set(runs):
        members = [k for k, g in zip(order, groups, strict=False) if g == value]
        assert members == sorted(members)
