"""`policy fmt` never changes what a policy means, rule ids included (issue 12, M8).

For random checker-clean policies, laid out badly on purpose (blank lines and comment lines
inserted between any two lines, so that every anonymous rule moves to another line), formatting
must keep every rule id, and every decision (outputs, fired rules, conflicts) on random facts.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from policy_strategies import AS_OF, facts, policies

import policylang
from policylang.syntax.formatter import format_source

FILENAME = "gen.policy"


@st.composite
def messy_layouts(draw: st.DrawFn) -> str:
    """A generated policy with blank lines and comment lines inserted between its lines."""
    lines = draw(policies()).splitlines()
    out: list[str] = []
    for line in lines:
        out.extend(draw(st.lists(st.sampled_from(["", "# a note", "   "]), max_size=3)))
        out.append(line)
    return "\n".join(out) + "\n"


def _compiled(text: str) -> policylang.Policy:
    try:
        return policylang.compile(text, filename=FILENAME)
    except policylang.PolicyError:
        assume(False)  # rare: the strategy builds checker-clean policies by construction
        raise


def _decided(policy: policylang.Policy, given: dict[str, Any]) -> Any:
    try:
        decision = policy.decide(given, as_of=AS_OF[0], on_conflict="mark")
    except policylang.EvaluationError as exc:  # a division by zero, say: the same on both sides
        return str(exc)
    return decision.to_dict()["outputs"], decision.fired, decision.to_dict().get("conflicts")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(messy_layouts(), st.lists(facts(valid=True), min_size=1, max_size=4))
def test_fmt_keeps_every_rule_id_and_every_decision(messy: str, many_facts: list[dict[str, Any]]) -> None:
    before = _compiled(messy)
    result = format_source(messy, FILENAME)
    assert result.text is not None, result.diagnostics
    after = _compiled(result.text)
    assert [r.id for r in after.checked.rules] == [r.id for r in before.checked.rules]
    for facts_given in many_facts:
        assert _decided(after, facts_given) == _decided(before, facts_given)
