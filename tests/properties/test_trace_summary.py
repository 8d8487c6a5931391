"""A summary trace is the full trace cut down, on random policies and facts (policy_strategies.py):
the same outputs, statuses and winners; the rules that matched, in file order, then the NEAREST
unmatched rules with the fewest failed condition parts (`misses`, counted by the summary's own
generated function and by the full trace part by part: the two must agree); and a count of the rest.
"""

from __future__ import annotations

import heapq
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from policy_strategies import facts, policies

import policylang
from policylang.explain.trace import NEAREST, ConditionPart

AS_OF = "2026-01-31T09:00:00Z"


def _conjuncts(part: ConditionPart) -> list[ConditionPart]:
    """The parts of a top-level `and`, nested `and`s flattened; or the part itself."""
    return [q for p in part.parts for q in _conjuncts(p)] if part.kind == "and" else [part]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=policies(), given_facts=facts())
def test_a_summary_is_the_full_trace_cut_down(text: str, given_facts: dict[str, Any]) -> None:
    try:
        policy = policylang.compile(text, filename="gen.policy")
        decision = policy.decide(given_facts, as_of=AS_OF, on_conflict="mark")
    except (policylang.PolicyError, policylang.FactsError, policylang.EvaluationError):
        assume(False)
        return
    full, summary = policy.trace(decision, detail="full"), policy.trace(decision, detail="summary")
    assert (full.detail, summary.detail) == ("full", "summary")
    for whole, cut in zip(full.outputs, summary.outputs, strict=True):
        assert (whole.output, whole.status, whole.value, whole.winners, whole.overridden) == (
            cut.output,
            cut.status,
            cut.value,
            cut.winners,
            cut.overridden,
        )
        for rule in whole.rules:
            assert rule.misses == sum(part.result is not True for part in _conjuncts(rule.condition))
            assert (rule.misses == 0) == rule.matched
        matched = [rule for rule in whole.rules if rule.matched]
        nearest = heapq.nsmallest(NEAREST, ((rule.misses, i) for i, rule in enumerate(whole.rules) if not rule.matched))
        assert cut.rules == matched + [whole.rules[i] for _, i in nearest]
        assert cut.others == len(whole.rules) - len(cut.rules)
