"""Why-not answers (policylang/explain/why_not.py) are verified: on random policies and facts, every change
an answer proposes, applied to the facts as given and decided again through `decide()`, really
gives the output the asked value from the rule the answer names."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from policy_strategies import facts, policies

import policylang
from policylang.explain.why_not import DEFAULT
from policylang.semantics import typed_tree as c

AS_OF = "2026-01-31T09:00:00Z"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=policies(), given_facts=facts(valid=True), data=st.data())
def test_every_why_not_change_produces_the_asked_value(text: str, given_facts: dict[str, Any], data: Any) -> None:
    try:
        policy = policylang.compile(text, filename="gen.policy")
        decision = policy.decide(given_facts, as_of=AS_OF, on_conflict="mark")
    except (policylang.PolicyError, policylang.FactsError, policylang.EvaluationError):
        assume(False)
        return
    asked = [
        (action.output, action.value.value)
        for rule in policy.checked.rules
        for action in rule.actions
        if action.op == "set" and isinstance(action.value, c.Const)
    ]
    assume(asked)
    output, value = data.draw(st.sampled_from(asked))
    answer = decision.why_not(output, value)
    assert answer.status != "impossible", answer  # a rule does set this value
    event(f"why-not: {answer.status}")
    if answer.status == "already":
        assert decision.outputs.get(output) == value
        return
    assert decision.outputs.get(output) != value or output in decision.conflicts
    for candidate in answer.candidates:
        if not candidate.verified:
            continue
        changed = dict(given_facts)
        for change in candidate.changes:
            if change.to is None:
                changed.pop(change.fact, None)
            else:
                changed[change.fact] = change.to
        again = policy.decide(changed, as_of=AS_OF, on_conflict="mark")
        assert again.outputs.get(output) == value, (candidate, again.outputs)
        if candidate.rule == DEFAULT:
            assert again.resolutions[output].status == "default", candidate
        else:
            assert candidate.rule in again.resolutions[output].winners, candidate
