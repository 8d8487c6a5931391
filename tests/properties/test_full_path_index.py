"""The index on the decision path finds exactly the rules that match (issue 14).

Policies here are large enough (48 rules and more) for the compiler to dispatch rules through the
index (rule_index.py), in the full decision function and in the outputs-only function's
enumerated outputs (first_hit.py), and their rules share a few facts, as real policies' do: equality
and membership on enums and strings, ranges and `between` on numbers and durations, optional facts
that may be missing (three-valued conditions), segments and lets, `or` and `not`, priorities,
computed actions (some of which divide, and may raise), and every kind of output (union, priority,
min, max, any, first, unique).

For each policy and facts, three must agree: the naive reference interpreter
(tests/support/reference.py), the compiled policy, and the same policy compiled without the index
(every rule tested in order): fired rules, outputs, conflicts, resolutions and errors; and the
outputs-only function must give the full function's outputs, or hand over exactly on a conflict
or an error.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from policy_strategies import AS_OF, INPUT_BLOCK, facts
from support.reference import normalise_conflicts, normalise_outputs, reference_run

import policylang
from policylang.engine import compiler, rule_index

FILENAME = "indexed.policy"


pytestmark = pytest.mark.usefixtures("index_from_48_rules")


OUTPUTS = """\
output {
    perks: set[string] = {} resolve union
    queue: enum(general, priority, urgent) = general resolve priority
    sla: duration = 72h resolve min
    bonus: number resolve max
    flag: bool = false resolve any
    note: string resolve first
    owner: string
}
"""

DERIVED = """\
segment big = tier in {premium, key} and spend >= 500
segment risky = complaints >= 3 or vip == false
let doubled = spend * 2
"""

_ATOMS = (
    "tier == basic",
    "tier == premium",
    "tier == key",
    "tier in {standard, premium}",
    "tier != key",
    'region == "eu"',
    'region == "uk"',
    'region in {"us", "uk"}',
    "spend > 0",
    "spend >= 500",
    "spend < 10_000",
    "spend between 1 and 500",
    "tenure > 1y",
    "tenure <= 90d",
    "tenure between 90d and 2y",
    "complaints >= 1",
    "complaints == 3",
    "referrals > 1",
    "credit < 100",
    "grace >= 2d",
    "vip",
    "not vip",
    '"eu" in tags',
    "big",
    "not risky",
    "doubled > 1000",
)
_KEYS = (
    # Each policy leads most rules with tests of one of these groups, as lookup tables do.
    ("tier == basic", "tier == standard", "tier == premium", "tier == key", "tier in {basic, key}"),
    ('region == "eu"', 'region == "us"', 'region == "uk"', 'region in {"eu", "uk"}', 'region != "us"'),
    ("spend < 1", "spend between 1 and 499", "spend >= 500", "spend > 10_000", "spend <= 0.1"),
    ("tenure < 90d", "tenure between 90d and 1y", "tenure >= 2y", "tenure > 1y6mo"),
    ("referrals >= 2", "referrals == 1", "referrals < 1", "credit > 50", "credit between 0 and 1"),
)
_RAISING_ATOMS = ("spend / complaints > 1",)

_ACTIONS = (
    "perks += {a}",
    "perks += {b, c}",
    "queue = urgent",
    "queue = priority",
    "queue = general",
    "sla = 4h",
    "sla = 1h",
    "sla = grace",
    "bonus = 5",
    "bonus = spend * 2",
    "bonus = credit",
    "flag",
    "flag = vip",
    'note = "x"',
    'note = "y"',
    'owner = "ann"',
    'owner = "bob"',
)
_RAISING_ACTIONS = ("bonus = spend / complaints",)


@st.composite
def _conditions(draw: st.DrawFn, raising: bool, keys: tuple[str, ...]) -> str:
    atoms = _ATOMS + (_RAISING_ATOMS if raising else ())
    terms = draw(st.lists(st.sampled_from(atoms), min_size=0, max_size=2))
    if draw(st.integers(0, 5)) or not terms:
        # Most rules lead with a test the index can split on, as lookup-table-like policies do.
        terms.insert(0, draw(st.sampled_from(keys)))
    shape = draw(st.sampled_from(("and", "and", "and", "or", "not")))
    if shape == "not" and len(terms) > 1:
        return f"{terms[0]} and not ({' or '.join(terms[1:])})"
    return f" {shape if shape != 'not' else 'and'} ".join(terms)


@st.composite
def indexed_policies(draw: st.DrawFn) -> str:
    """A policy of 48 to 72 rules over the few facts of INPUT_BLOCK."""
    raising = draw(st.integers(0, 3)) == 0  # a condition that may raise leaves no outputs-only function
    actions = _ACTIONS + (_RAISING_ACTIONS if draw(st.booleans()) else ())
    keys = draw(st.sampled_from(_KEYS))
    lines = [INPUT_BLOCK, OUTPUTS, DERIVED]
    for i in range(draw(st.integers(48, 72))):
        condition = draw(_conditions(raising, keys))
        chosen = draw(st.lists(st.sampled_from(actions), min_size=1, max_size=2, unique_by=lambda a: a.split()[0]))
        priority = draw(st.sampled_from(("", "", " priority 1", " priority 2", " priority 5")))
        lines.append(f"rule r{i}{priority}:\n    if {condition}\n    then {', '.join(chosen)}\n")
    return "\n".join(lines)


def _decide(policy: policylang.Policy, given: dict[str, Any], as_of: Any, on_conflict: str) -> Any:
    try:
        return policy.decide(given, as_of=as_of, on_conflict=on_conflict)
    except (policylang.FactsError, policylang.EvaluationError) as exc:
        return exc


def _summary(decision: Any) -> Any:
    """What must not change between the indexed and unindexed paths."""
    if isinstance(decision, Exception):
        return type(decision).__name__
    resolutions = {
        name: (r.value if name in decision.outputs else None, r.winners, r.overridden)
        for name, r in decision.resolutions.items()
    }
    return (
        normalise_outputs(decision.outputs),
        list(decision.fired),
        normalise_conflicts(decision.conflicts),
        resolutions,
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=indexed_policies(), batch=st.lists(facts(valid=True), min_size=1, max_size=4), as_of=st.sampled_from(AS_OF))
def test_the_index_finds_exactly_the_matching_rules(text: str, batch: list[dict[str, Any]], as_of: Any) -> None:
    indexed = policylang.compile(text, filename=FILENAME)
    with mock.patch.object(compiler, "INDEX_THRESHOLD", 10**9):
        unindexed = policylang.compile(text, filename=FILENAME)
    # Walked in clustered order (as runs of CLUSTER_THRESHOLD rules are), groups split down to 4 rules.
    with mock.patch.object(compiler, "CLUSTER_THRESHOLD", 48), mock.patch.object(rule_index, "CLUSTER_LEAST", 4):
        clustered = policylang.compile(text, filename=FILENAME)
    graph = indexed.decision_graph
    event("the index splits" if graph.source != unindexed.decision_graph.source else "the index does not split")
    event("clustered" if "w_ = _zero_words" in clustered.decision_graph.source else "not clustered")
    event("outputs-only function" if graph.decide_outputs is not None else "no outputs-only function")
    for given_facts in batch:
        for on_conflict in ("mark", "raise"):
            decision = _decide(indexed, given_facts, as_of, on_conflict)
            assert _summary(decision) == _summary(_decide(unindexed, given_facts, as_of, on_conflict))
            _assert_clustered_agrees(clustered, indexed, given_facts, as_of, on_conflict)
            try:
                ref: Any = reference_run(text, FILENAME, given_facts, as_of, on_conflict)
            except (policylang.FactsError, policylang.EvaluationError) as exc:
                ref = exc
            if isinstance(ref, Exception):
                event(f"raises {type(ref).__name__}")
                assert type(decision) is type(ref), f"{decision!r} != {ref!r}"
                continue
            assert not isinstance(decision, Exception), f"{decision!r}, reference gave {ref.as_dict()!r}"
            event(f"fired {min(len(ref.fired) // 10 * 10, 30)}+ rules")
            assert list(decision.fired) == ref.fired
            assert normalise_outputs(decision.outputs) == normalise_outputs(ref.outputs)
            assert normalise_conflicts(decision.conflicts) == normalise_conflicts(ref.conflicts)
            if on_conflict == "mark" and graph.decide_outputs is not None:
                _assert_outputs_only_function_agrees(indexed, decision)


def _assert_clustered_agrees(
    clustered: policylang.Policy, indexed: policylang.Policy, given: dict[str, Any], as_of: Any, on_conflict: str
) -> None:
    """The run walked in clustered order decides as the run in rule order, down to the order of each
    output's proposals (the fired rules are a set to every reader), and the error and its message
    when one raises (the rules that may raise keep their order)."""
    decision = _decide(clustered, given, as_of, on_conflict)
    in_order = _decide(indexed, given, as_of, on_conflict)
    if isinstance(in_order, Exception):
        assert (type(decision), str(decision)) == (type(in_order), str(in_order))
        return
    assert _summary(decision) == _summary(in_order)
    fired, proposals, outputs, _ = clustered.decision_graph.run(in_order.facts, in_order.as_of, False)
    expected = indexed.decision_graph.run(in_order.facts, in_order.as_of, False)
    assert (sorted(fired), proposals, outputs) == (sorted(expected[0]), expected[1], expected[2])


def _assert_outputs_only_function_agrees(policy: policylang.Policy, decision: policylang.Decision) -> None:
    graph = policy.decision_graph
    assert graph.decide_outputs is not None
    full = graph.run(decision.facts, decision.as_of, False)
    fast = graph.decide_outputs(decision.facts, decision.as_of)
    if full[3] is not None:
        assert fast is None, f"the outputs-only function missed a conflict: {fast!r}"
    else:
        event("outputs-only function decided" if fast is not None else "outputs-only function handed over")
        assert fast is None or normalise_outputs(fast) == normalise_outputs(full[2])
