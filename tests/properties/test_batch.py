"""decide_many's batch function (engine/batch.py) against a loop over decide(), item by item: the
same decisions, and where decide() raises, the same error (type and message) at the same item, the
decisions before it delivered. Batches mix plain dicts, Facts objects (Policy.facts), facts that are
wrong in each way the validator hands over (a wrong value, a missing or unknown fact, MISSING given,
not a dict), and policies whose outputs-only function hands over (conflicts, computed actions)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from policy_strategies import facts, policies

import policylang
from policylang.core.values import MISSING
from policylang.engine import evaluator

AS_OF = "2026-01-31T09:00:00Z"
BATCH = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


def _outcome(call: Any) -> Any:
    try:
        return call()
    except (policylang.FactsError, policylang.EvaluationError) as exc:
        return exc


@st.composite
def items(draw: st.DrawFn) -> Any:
    """One item of a batch: facts as a dict, as Facts made by the policy (marked for the test), or
    something decide() refuses."""
    kind = draw(st.sampled_from(("dict", "dict", "dict", "facts", "missing given", "not a dict")))
    if kind == "not a dict":
        return draw(st.sampled_from(([("tier", "basic")], None, "tier=basic", 3)))
    given_facts = draw(facts())
    if kind == "missing given":
        given_facts[draw(st.sampled_from(("vip", "tier", "region")))] = MISSING
    return ("as Facts", given_facts) if kind == "facts" else given_facts


def _item(policy: policylang.Policy, item: Any) -> Any:
    if isinstance(item, tuple) and item[:1] == ("as Facts",):
        made = _outcome(lambda: policy.facts(item[1]))
        return item[1] if isinstance(made, Exception) else made
    return item


@BATCH
@given(text=policies(), batch=st.lists(items(), max_size=8), on_conflict=st.sampled_from(("raise", "mark")))
def test_decide_many_is_decide_item_by_item(text: str, batch: list[Any], on_conflict: str) -> None:
    try:
        policy = policylang.compile(text, filename="gen.policy")
    except policylang.PolicyError:
        return
    event(f"batch function: {policy._batch_function() is not None}")
    batch = [_item(policy, item) for item in batch]
    expected = []
    for item in batch:
        outcome = _outcome(lambda item=item: policy.decide(item, as_of=AS_OF, on_conflict=on_conflict))
        expected.append(outcome)
        if isinstance(outcome, Exception):
            break
    got: list[Any] = []
    try:
        for decision in policy.decide_many(batch, as_of=AS_OF, on_conflict=on_conflict):
            got.append(decision)
    except (policylang.FactsError, policylang.EvaluationError) as exc:
        got.append(exc)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        if isinstance(theirs, Exception):
            assert type(mine) is type(theirs) and str(mine) == str(theirs)
        else:
            assert not isinstance(mine, Exception), mine
            assert mine == theirs
            assert mine.to_dict() == theirs.to_dict()
            assert dict(mine.facts) == dict(theirs.facts)
            assert mine.resolutions == theirs.resolutions


def test_the_policies_drawn_have_a_batch_function() -> None:
    """The property above tests the generated batch function, not the fallback loop: a policy of the
    strategies' kind, with declared facts and no arithmetic, has one."""
    policy = policylang.compile(
        "input { tier: enum(basic, premium)  spend: number  vip: bool? }\n"
        "output { big: bool = false resolve any  level: int resolve unique }\n"
        "rule r: if spend > 100 then big\nrule s: if tier == premium then level = 2\nrule t: if vip then level = 3\n",
        filename="batch.policy",
    )
    assert policy._batch_function() is not None
    decisions = list(policy.decide_many([{"tier": "premium", "spend": 1.5}, {"tier": "basic", "spend": 200}]))
    assert [d.outputs for d in decisions] == [{"big": False, "level": 2}, {"big": True}]
    # a conflict hands the item over to the full function, which raises it as decide() does
    conflicted = {"tier": "premium", "spend": 1, "vip": True}
    many = policy.decide_many([{"tier": "basic", "spend": 1}, conflicted, {"tier": "basic", "spend": 2}])
    assert next(many).outputs == {"big": False}
    try:
        next(many)
    except policylang.ConflictError as exc:
        assert "conflict on output `level`" in str(exc)
        assert exc.__context__ is None  # raised as decide() raises it, not while handling the hand-over
    else:
        raise AssertionError("the conflict was not raised")
    assert evaluator._BATCHES[policy] is policy._batch_function()
