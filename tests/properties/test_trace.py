"""Traces (policylang/explain/trace.py) agree with the decisions they describe, on random policies and facts.

For random checker-clean policies over the fixed schema of policy_strategies.py and random facts:

1. every rule a trace says matched is exactly a rule the decision fired (for the outputs it sets);
2. each output's status, value, winners, overridden and conflicting rules are the decision's;
3. every condition part's result follows from its parts: `and` / `or` by three-valued logic,
   `not` by negation, a segment by its definition; so the tree explains the result it shows;
4. an unmatched rule names the parts that failed, and each of them is false or unknown.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from policy_strategies import facts, policies

import policylang
from policylang.engine.evaluator import to_json_value
from policylang.explain.trace import ConditionPart

AS_OF = "2026-01-31T09:00:00Z"


def _kleene(kind: str, results: list[bool | None]) -> bool | None:
    if kind == "and":
        return False if False in results else None if None in results else True
    return True if True in results else None if None in results else False


def _check_part(part: ConditionPart, segments: dict[str, bool | None] | None = None) -> None:
    """Each part's result follows from its parts'; a segment read again, shown without its parts
    (`(segment, shown above)`), has the result it has where it is opened."""
    segments = {} if segments is None else segments
    inner = [p.result for p in part.parts]
    if part.kind in ("and", "or"):
        assert part.result == _kleene(part.kind, inner), part
    elif part.kind == "not":
        assert part.result == (None if inner[0] is None else not inner[0]), part
    elif part.kind == "segment" and part.parts:
        assert part.result == inner[0], part
        assert segments.setdefault(part.text, part.result) == part.result, part
    for p in part.parts:
        _check_part(p, segments)
    if part.kind == "segment" and not part.parts and part.error is None:
        assert part.text in segments and segments[part.text] == part.result, part


def _parts(part: ConditionPart) -> list[ConditionPart]:
    return [part, *(q for p in part.parts for q in _parts(p))]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=policies(), given_facts=facts())
def test_a_trace_agrees_with_its_decision(text: str, given_facts: dict[str, Any]) -> None:
    try:
        policy = policylang.compile(text, filename="gen.policy")
        decision = policy.decide(given_facts, as_of=AS_OF, on_conflict="mark")
    except (policylang.PolicyError, policylang.FactsError, policylang.EvaluationError):
        assume(False)
        return
    trace = policy.trace(decision)
    fired = set(decision.fired)
    for output in trace.outputs:
        resolved = decision.resolutions[output.output]
        assert output.status == resolved.status
        if output.status in ("value", "default"):
            assert output.value == to_json_value(resolved.value)
        assert output.winners == list(resolved.winners)
        assert output.overridden == list(resolved.overridden)
        assert output.conflicting == list(dict.fromkeys(x.rule for x in resolved.conflicting))
        for rule in output.rules:
            assert rule.matched == (rule.rule in fired), (output.output, rule)
            _check_part(rule.condition)
            if not rule.matched:
                assert rule.failed
                texts = {p.text: p.result for p in _parts(rule.condition)}
                assert all(texts[t] is not True for t in rule.failed), rule


def test_a_trace_of_the_example_shows_why() -> None:
    policy = policylang.load("examples/support/support.policy")
    decision = policy.decide({"tier": "premium", "tenure": "3y", "monthly_spend": 500, "region": "eu"}, as_of=AS_OF)
    trace = policy.trace(decision)
    sla = next(o for o in trace.outputs if o.output == "sla")
    assert sla.value == "4h" and sla.winners == ["support#1"]
    matched = next(r for r in sla.rules if r.rule == "support#1")
    assert matched.proposes == "4h"
    assert [p.text for p in matched.condition.parts] == ["tier == premium", "tenure > 2y"]
    assert matched.condition.parts[1].reads == {"tenure": "3y"}
    key = next(r for r in sla.rules if r.rule == "key_accounts")
    assert not key.matched and key.failed == ["tier == key", "monthly_spend >= 10_000"]


def test_a_decision_of_another_policy_is_refused() -> None:
    first = policylang.compile("input { a: bool }\noutput { o: int = 0 }\nif a then o = 1\n")
    second = policylang.compile("input { a: bool }\noutput { o: int = 0 }\nif a then o = 2\n")
    decision = first.decide({"a": True}, as_of=AS_OF)
    try:
        second.trace(decision)
    except ValueError as exc:
        assert "another policy" in str(exc)
    else:
        raise AssertionError("a decision of another policy was traced")


def test_a_part_the_decision_never_evaluated_is_marked_not_blamed() -> None:
    policy = policylang.compile("input { a: bool\n n: int }\noutput { o: int = 0 }\nif a and 10 / n > 1 then o = 1\n")
    trace = policy.trace(policy.decide({"a": False, "n": 0}, as_of=AS_OF))
    (rule,) = trace.outputs[0].rules
    assert not rule.matched and rule.failed == ["a"]
    unevaluated = rule.condition.parts[1]
    assert unevaluated.result is None and unevaluated.error is not None and "division by zero" in unevaluated.error
