"""Differential: the compiled evaluator and the naive reference interpreter (tests/support/reference.py) agree.

For random checker-clean policies over the fixed schema of policy_strategies.py and random facts,
both sides must give the same outputs, fired rules and conflicts (with on_conflict="mark"), and
raise the same error type or neither (with "raise"). Each output's resolution is also checked
against the shared resolution module on the reference's proposals, `to_dict()` against the values
it renders, and `decide_many` against a loop of `decide`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from policy_strategies import AS_OF, INPUT_BLOCK, facts, policies, schemaless_cases
from support.reference import key, normalise_conflicts, normalise_outputs, reference_run, total_seconds

import policylang
from policylang.core import resolution
from policylang.core.datatypes import EnumOf
from policylang.core.values import Duration, parse_duration

settings.register_profile(
    "differential",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
DIFFERENTIAL = settings.get_profile("differential")

FILENAME = "gen.policy"
FIXED_AS_OF = "2026-01-31T09:00:00Z"


def _compile(text: str, filename: str = FILENAME) -> policylang.Policy:
    try:
        return policylang.compile(text, filename=filename)
    except policylang.PolicyError:
        assume(False)  # rare: the strategies build checker-clean policies by construction
        raise


def _evaluator(policy: policylang.Policy, given: dict[str, Any], as_of: Any, on_conflict: str) -> Any:
    try:
        return policy.decide(given, as_of=as_of, on_conflict=on_conflict)
    except (policylang.FactsError, policylang.EvaluationError) as exc:
        return exc


def _reference(text: str, given: dict[str, Any], as_of: Any, on_conflict: str, timing: str = "late") -> Any:
    try:
        return reference_run(text, FILENAME, given, as_of, on_conflict, conflict_timing=timing)
    except (policylang.FactsError, policylang.EvaluationError) as exc:
        return exc


def _rendered_matches(rendered: Any, value: Any) -> bool:
    """Whether one `to_dict()` output value is the documented JSON form of a runtime value."""
    if isinstance(value, bool):
        return rendered is value
    if isinstance(value, Decimal) and isinstance(rendered, str):
        # A decimal no JSON float holds exactly is rendered as its exact text (docs/evaluation.md).
        return Decimal(rendered) == value and Decimal(repr(float(value))) != value
    if isinstance(value, int | Decimal):
        return (
            isinstance(rendered, int | float | Decimal)
            and not isinstance(rendered, bool)
            and (
                Decimal(str(rendered)) == Decimal(value)
                or abs(Decimal(str(rendered)) - Decimal(value)) < Decimal("1e-12")
            )
        )
    if isinstance(value, Duration):
        return isinstance(rendered, str) and total_seconds(parse_duration(rendered)) == total_seconds(value)
    if isinstance(value, datetime):  # in UTC, whatever zone's clock it was read on (`local`)
        return rendered == value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    if isinstance(value, time):  # `09:00`, seconds only when there are some
        return rendered == value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, date):
        return rendered == value.isoformat()
    if isinstance(value, str):
        return rendered == value
    if isinstance(value, frozenset):
        if not isinstance(rendered, list) or len(rendered) != len(value):
            return False
        remaining = list(value)
        for item in rendered:
            match = next((v for v in remaining if _rendered_matches(item, v)), None)
            if match is None:
                return False
            remaining.remove(match)
        return True
    return False


def _describe(text: str, given: dict[str, Any], as_of: Any) -> str:
    return f"\n--- policy ---\n{text}--- facts ---\n{given!r}\n--- as_of ---\n{as_of!r}"


def assert_agree(text: str, given: dict[str, Any], as_of: Any) -> None:
    """The whole differential check for one policy and one set of facts."""
    policy = _compile(text)
    where = _describe(text, given, as_of)

    # on_conflict="mark": nothing depends on evaluation order.
    decision = _evaluator(policy, given, as_of, "mark")
    ref = _reference(text, given, as_of, "mark")
    if isinstance(ref, Exception):
        event(f"raises {type(ref).__name__}")
        assert isinstance(decision, Exception), f"reference raised {ref!r}, evaluator decided {decision!r}{where}"
        assert type(decision) is type(ref), f"evaluator raised {decision!r}, reference {ref!r}{where}"
    else:
        event(f"fired {min(len(ref.fired), 3)}{'+' if len(ref.fired) >= 3 else ''} rules")
        event("conflict" if ref.conflicts else "no conflict")
        assert not isinstance(decision, Exception), f"evaluator raised {decision!r}, reference gave {ref!r}{where}"
        assert normalise_outputs(decision.outputs) == normalise_outputs(ref.outputs), (
            f"outputs differ: evaluator {decision.outputs!r}, reference {ref.outputs!r}{where}"
        )
        assert list(decision.fired) == ref.fired, f"fired: evaluator {decision.fired}, reference {ref.fired}{where}"
        assert normalise_conflicts(decision.conflicts) == normalise_conflicts(ref.conflicts), (
            f"conflicts: evaluator {decision.conflicts!r}, reference {ref.conflicts!r}{where}"
        )
        _assert_resolution_module_agrees(policy, ref, where, decision)
        _assert_outputs_only_function_agrees(policy, decision, where)
        _assert_rendering(decision, ref, where)

    # on_conflict="raise": the same error type, or neither. When a decision has both a conflict and
    # a division by zero, the docs do not say which comes first; either order is accepted.
    decision = _evaluator(policy, given, as_of, "raise")
    ref = _reference(text, given, as_of, "raise")
    if isinstance(ref, Exception):
        allowed = {type(ref)}
        if isinstance(ref, policylang.EvaluationError):
            early = _reference(text, given, as_of, "raise", timing="early")
            allowed.add(type(early))
        assert isinstance(decision, Exception), f"reference raised {ref!r}, evaluator decided {decision!r}{where}"
        assert type(decision) in allowed, f"evaluator raised {decision!r}, reference {ref!r}{where}"
    else:
        assert not isinstance(decision, Exception), f"evaluator raised {decision!r}, reference gave {ref!r}{where}"
        assert normalise_outputs(decision.outputs) == normalise_outputs(ref.outputs), where
        assert list(decision.fired) == ref.fired, where
        assert not decision.conflicts and not ref.conflicts, where


def _assert_outputs_only_function_agrees(policy: policylang.Policy, decision: policylang.Decision, where: str) -> None:
    """The outputs-only function (first_hit.py), where the policy has one, gives the full function's
    outputs, or None (hand over to the full function) exactly when the full function found a conflict."""
    graph = policy.decision_graph
    if graph.decide_outputs is None:
        event("no outputs-only function")
        return
    event("outputs-only function")
    full = graph.run(decision.facts, decision.as_of, False)
    fast = graph.decide_outputs(decision.facts, decision.as_of)
    if full[3] is not None:
        assert fast is None, f"the outputs-only function missed a conflict: {fast!r}{where}"
    else:
        assert fast is not None, f"the outputs-only function handed over without a conflict{where}"
        assert normalise_outputs(fast) == normalise_outputs(full[2]), f"{fast!r} != {full[2]!r}{where}"


def _assert_resolution_module_agrees(
    policy: policylang.Policy, ref: Any, where: str, decision: policylang.Decision
) -> None:
    """policylang.core.resolution (the shared single source) on the reference's proposals = the reference's own,
    and = the winners and overridden rules the decision builds on demand from its own proposals."""
    for name, output in policy.checked.outputs.items():
        contributions = [resolution.Contribution(r, o, p, v) for r, o, p, v in ref.proposals[name]]
        sort_key = None
        if isinstance(output.type, EnumOf):
            members = output.type.members
            sort_key = members.index
        shared = resolution.resolve(
            output.resolution, contributions, has_default=output.has_default, default=output.default, sort_key=sort_key
        )
        mine = ref.outcomes[name]
        assert shared.status == mine.status, f"resolution.py says {shared!r}, reference {mine!r} for `{name}`{where}"
        built = decision.resolutions[name]
        assert (built.status, built.winners, built.overridden) == (shared.status, shared.winners, shared.overridden), (
            f"`{name}`: the decision's resolution {built!r}, resolution.py {shared!r}{where}"
        )
        if mine.status in ("value", "default"):
            assert key(shared.value) == key(mine.value), f"`{name}`: {shared.value!r} != {mine.value!r}{where}"


def _assert_rendering(decision: policylang.Decision, ref: Any, where: str) -> None:
    """to_dict(): each output in its documented JSON form; conflicts with their rules and values; JSON-able."""
    data = decision.to_dict()
    assert set(data["outputs"]) == set(ref.outputs), where
    for name, value in ref.outputs.items():
        rendered = data["outputs"][name]
        assert _rendered_matches(rendered, value), f"to_dict renders `{name}` = {value!r} as {rendered!r}{where}"
    assert data["fired"] == ref.fired, where
    assert data["as_of"].endswith("Z"), where
    for name, pairs in ref.conflicts.items():
        rendered_pairs = data["conflicts"][name]
        assert [p["rule"] for p in rendered_pairs] == [rule for rule, _ in pairs], where
        for p, (_, value) in zip(rendered_pairs, pairs, strict=True):
            assert _rendered_matches(p["value"], value), where
    json.dumps(data)


# --- the properties --------------------------------------------------------------------------------

_HEAD = INPUT_BLOCK
_TIES = (
    _HEAD
    + """\
output {
    queue: enum(general, priority, urgent) = general resolve priority
    level: int resolve priority
}
rule a priority 2: if tier == premium then queue = priority, level = 1
rule b priority 2: if tier >= premium then queue = urgent, level = 1
rule c priority 1: if tenure > 1y then queue = urgent, level = 2
"""
)
_MISSING_UNDER_NOT = (
    _HEAD
    + """\
output { hit: bool = false resolve any  note: string }
if not (vip == true) then hit
if vip is missing or vip then note = "missing or true"
if (vip or true) and not (vip and false) then note = "missing or true"
"""
)
_MIN_ENUM = (
    _HEAD
    + """\
output { level: enum(basic, standard, premium, key) resolve min  top: enum(basic, standard, premium, key) resolve max }
if spend >= 0 then level = key, top = basic
if tier != basic then level = tier, top = tier
if tenure > 1y then level = standard, top = standard
"""
)
_ADD_DEFAULTS = (
    _HEAD
    + """\
output {
    perks: set[string] = {welcome} resolve union
    only: set[string] = {welcome}
    bare: set[int] resolve union
}
if tier == premium then perks += {lounge, named_rep}, only += {lounge}, bare += {1, complaints}
if tenure >= 1y then perks += tags, only += {lounge}, bare += codes
"""
)
_READS_ABSENT = (
    _HEAD
    + """\
output { manager: string  note: string  known: bool = false resolve any }
rule assign: if tier == key then manager = "Dana"
if manager is missing then note = "no manager"
if manager == "Dana" then note = manager
if manager != "Dana" or manager is present then known
"""
)
_CALENDAR = (
    _HEAD
    + """\
output { renewal: date  back: date  follow_up: datetime  same: bool = false resolve any  share: number }
if signup == 2026-01-31 then renewal = signup + 1mo, back = signup - 36h, follow_up = now + 1mo
if 1y == 12mo and 1y > 365d and 2w == 14d and 1mo > 30d then same
if spend >= 0 then share = spend / complaints
"""
)

_FIRST_IN_RULE_ORDER = (
    _HEAD
    + """\
output { level: int  source: string resolve first  chosen: int resolve min }
rule reads_level: if level == 1 then source = "reads_level", chosen = 1
rule sets_level: if spend >= 0 then level = 1, source = "sets_level", chosen = 1
"""
)
_MARKED_WITH_DEFAULT = (
    _HEAD
    + """\
output { x: int = 0  big: bool = false resolve any }
if complaints > 0 then x = 1
if complaints > 1 then x = 2
if x >= 1 then big
"""
)
_ZERO_BESIDE_MISSING = (
    _HEAD
    + """\
output { hit: bool = false resolve any }
let ratio = referrals + spend / complaints
if (spend / complaints) > credit then hit
"""
)

_ZERO_IN_PRESENCE = (
    _HEAD
    + """\
output { hit: bool = false resolve any }
if (spend / complaints) is present then hit
"""
)


@DIFFERENTIAL
@given(text=policies(), given_facts=facts(), as_of=st.sampled_from(AS_OF))
@example(
    text=_TIES, given_facts={"tier": "premium", "tenure": "2y", "spend": 1, "signup": "2026-01-31"}, as_of=FIXED_AS_OF
)
@example(text=_TIES, given_facts={"tier": "key", "tenure": "2y", "spend": 1, "signup": "2026-01-31"}, as_of=FIXED_AS_OF)
@example(
    text=_MISSING_UNDER_NOT,
    given_facts={"tier": "basic", "tenure": "1d", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
@example(
    text=_MIN_ENUM,
    given_facts={"tier": "premium", "tenure": "2y", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
@example(
    text=_ADD_DEFAULTS,
    given_facts={
        "tier": "premium",
        "tenure": "2y",
        "spend": 1,
        "signup": "2026-01-31",
        "tags": ["vip"],
        "codes": [7],
        "complaints": 2,
    },
    as_of=FIXED_AS_OF,
)
@example(
    text=_ADD_DEFAULTS,
    given_facts={"tier": "basic", "tenure": "12mo", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
@example(
    text=_READS_ABSENT,
    given_facts={"tier": "basic", "tenure": "1d", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
@example(
    text=_READS_ABSENT,
    given_facts={"tier": "key", "tenure": "1d", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
@example(
    text=_CALENDAR,
    given_facts={"tier": "key", "tenure": "1d", "spend": 1, "signup": "2026-01-31", "complaints": 4},
    as_of=FIXED_AS_OF,
)
@example(
    text=_CALENDAR, given_facts={"tier": "key", "tenure": "1d", "spend": 1, "signup": "2026-01-31"}, as_of=FIXED_AS_OF
)
@example(
    text=_FIRST_IN_RULE_ORDER,
    given_facts={"tier": "basic", "tenure": "1d", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
@example(
    text=_MARKED_WITH_DEFAULT,
    given_facts={"tier": "basic", "tenure": "1d", "spend": 1, "signup": "2026-01-31", "complaints": 2},
    as_of=FIXED_AS_OF,
)
@example(
    text=_ZERO_BESIDE_MISSING,
    given_facts={"tier": "basic", "tenure": "1d", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
@example(
    text=_ZERO_IN_PRESENCE,
    given_facts={"tier": "basic", "tenure": "1d", "spend": 1, "signup": "2026-01-31"},
    as_of=FIXED_AS_OF,
)
def test_evaluator_agrees_with_reference(text: str, given_facts: dict[str, Any], as_of: Any) -> None:
    assert_agree(text, given_facts, as_of)


@settings(DIFFERENTIAL, max_examples=100)
@given(case=schemaless_cases(), as_of=st.sampled_from(AS_OF))
@example(
    case=("if tier == premium and tenure > 2y then skip_fraud_check, sla = 4h\n", {"tier": "premium", "tenure": "3y"}),
    as_of=FIXED_AS_OF,
)
@example(
    case=("if tier == premium and tenure > 2y then skip_fraud_check, sla = 4h\n", {"tier": "premium"}),
    as_of=FIXED_AS_OF,
)
def test_schemaless_evaluator_agrees_with_reference(case: tuple[str, dict[str, Any]], as_of: Any) -> None:
    text, given_facts = case
    assert_agree(text, given_facts, as_of)


@settings(DIFFERENTIAL, max_examples=60)
@given(text=policies(), batch=st.lists(facts(), min_size=0, max_size=5), on_conflict=st.sampled_from(("raise", "mark")))
def test_decide_many_equals_a_loop_of_decide(text: str, batch: list[dict[str, Any]], on_conflict: str) -> None:
    policy = _compile(text)
    expected: list[Any] = []
    for given_facts in batch:
        outcome = _evaluator(policy, given_facts, FIXED_AS_OF, on_conflict)
        expected.append(outcome)
        if isinstance(outcome, Exception):
            break
    actual: list[Any] = []
    try:
        for decision in policy.decide_many(batch, as_of=FIXED_AS_OF, on_conflict=on_conflict):
            actual.append(decision)
    except (policylang.FactsError, policylang.EvaluationError) as exc:
        actual.append(exc)
    assert len(actual) == len(expected), _describe(text, {"batch": batch}, FIXED_AS_OF)
    for got, want in zip(actual, expected, strict=True):
        if isinstance(want, Exception):
            assert type(got) is type(want)
        else:
            assert not isinstance(got, Exception), got
            assert got.to_dict() == want.to_dict()
            assert got.conflicts == want.conflicts


def test_examples_in_strategies_compile() -> None:
    """The hand-written @example policies are checker-clean (an `assume` must never hide them)."""
    for text in (
        _TIES,
        _MISSING_UNDER_NOT,
        _MIN_ENUM,
        _ADD_DEFAULTS,
        _READS_ABSENT,
        _CALENDAR,
        _FIRST_IN_RULE_ORDER,
        _MARKED_WITH_DEFAULT,
        _ZERO_BESIDE_MISSING,
        _ZERO_IN_PRESENCE,
    ):
        policylang.compile(text, filename=FILENAME)


@pytest.mark.parametrize("given_facts", [{"tier": "premium", "tenure": "2y", "spend": 1, "signup": "2026-01-31"}])
def test_conflict_raises_the_same_way(given_facts: dict[str, Any]) -> None:
    """A priority tie with different values: ConflictError from both, naming the output."""
    with pytest.raises(policylang.ConflictError) as evaluator_error:
        policylang.compile(_TIES, filename=FILENAME).decide(given_facts, as_of=FIXED_AS_OF)
    ref = _reference(_TIES, given_facts, FIXED_AS_OF, "raise")
    assert isinstance(ref, policylang.ConflictError)
    assert "queue" in str(evaluator_error.value)
