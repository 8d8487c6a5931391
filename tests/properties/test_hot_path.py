"""The decision hot path's shortcuts agree with the general code they stand in for.

- Each output's picker (the value-only resolver the generated code calls) gives what the full
  resolver puts in `Resolved.value`, for every strategy, ties, out-of-order proposals, and values
  that are equal but of different kinds (True and 1).
- The generated facts validator accepts exactly what the pydantic model accepts, with the same
  values; everything else goes to the model, which reports it.
- A Decision built on the hot path is immutable, equal to itself rebuilt, picklable, and builds
  `fired` and `resolutions` on demand equal to what the resolvers say.
- Folding the constants the index tree knows never skips an operand that could raise.
"""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_strategies import INPUT_BLOCK, facts

import policylang
from policylang import checked as c
from policylang import runtime
from policylang.datatypes import BOOL, DATE, DURATION, INT, NUMBER, STRING, EnumOf, SetOf
from policylang.facts import MISSING, FactsError, FactsValidator
from policylang.values import Duration

# --- pickers and resolvers ----------------------------------------------------------------------

QUEUE = EnumOf(("general", "priority", "urgent"))
VALUES: dict[Any, st.SearchStrategy[Any]] = {
    NUMBER: st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), 1, 2, True]),
    INT: st.sampled_from([0, 1, 2, True, False]),
    BOOL: st.booleans(),
    STRING: st.sampled_from(["a", "b", "c"]),
    QUEUE: st.sampled_from(QUEUE.members),
    DURATION: st.sampled_from([Duration(0, 86_400), Duration(0, 3_600), Duration(1, 0), Duration(0, 2_629_746)]),
    DATE: st.sampled_from([date(2026, 1, 1), date(2025, 6, 30), datetime(2026, 1, 1, tzinfo=UTC)]),
    SetOf(STRING): st.frozensets(st.sampled_from(["x", "y", "z"]), max_size=3),
}
STRATEGIES_FOR = {
    NUMBER: ("unique", "first", "priority", "min", "max"),
    INT: ("unique", "first", "priority", "min", "max"),
    BOOL: ("unique", "first", "priority", "any", "all"),
    STRING: ("unique", "first", "priority"),
    QUEUE: ("unique", "first", "priority", "min", "max"),
    DURATION: ("unique", "first", "priority", "min", "max"),
    DATE: ("unique", "first", "min", "max"),
    SetOf(STRING): ("unique", "first", "union"),
}


@st.composite
def resolver_cases(draw: st.DrawFn) -> tuple[Any, ...]:
    t = draw(st.sampled_from(list(STRATEGIES_FOR)))
    strategy = draw(st.sampled_from(STRATEGIES_FOR[t]))
    rule_count = draw(st.integers(1, 6))
    rules = tuple(SimpleNamespace(id=f"r{i}", priority=draw(st.sampled_from([0, 10, 20]))) for i in range(rule_count))
    has_default = draw(st.booleans())
    default = draw(VALUES[t]) if has_default else None
    output = c.Output("out", t, strategy, default, has_default)
    indexes = draw(st.lists(st.integers(0, rule_count - 1), max_size=rule_count, unique=True))
    may_reorder = draw(st.booleans())
    if not may_reorder:
        indexes.sort()  # without rules that read outputs, proposals arrive in rule order
    proposals = [(i, draw(VALUES[t])) for i in indexes]
    return output, rules, proposals, may_reorder


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(resolver_cases())
def test_the_picker_gives_the_resolvers_value(case: tuple[Any, ...]) -> None:
    output, rules, proposals, may_reorder = case
    resolved = runtime.make_resolver(output, rules, may_reorder)(list(proposals))
    picked = runtime.make_picker(output, rules, may_reorder)(list(proposals))
    if resolved.status == "conflict":
        assert picked is runtime.CONFLICTED
    elif resolved.status == "absent":
        assert picked is runtime.NO_VALUE
    else:
        assert picked is not runtime.CONFLICTED and picked is not runtime.NO_VALUE
        assert picked == resolved.value and type(picked) is type(resolved.value), (picked, resolved)


def test_a_single_proposal_is_taken_as_is_by_the_generated_code() -> None:
    # The generated code skips the picker for one proposal; every strategy's answer is that value.
    policy = policylang.compile(
        "output {\n    n: number = 0 resolve max\n}\nif tier == key then n = 3\n", filename="one.policy"
    )
    decision = policy.decide({"tier": "key"})
    assert decision["n"] == 3
    assert decision.resolutions["n"].winners == ("one:4",)


# --- the facts validator ------------------------------------------------------------------------

SCHEMA_POLICY = policylang.compile(INPUT_BLOCK + "if spend > 0 then ok\n", filename="schema.policy")


def _slow(validator: FactsValidator, given: Any) -> Any:
    """The pydantic model alone: what `validate` did before the generated path existed."""
    fast = validator._fast
    validator._fast = lambda _given: None  # type: ignore[method-assign]
    try:
        return validator.validate(given)
    except FactsError as exc:
        return ("error", [p.fact for p in exc.problems])
    finally:
        validator._fast = fast  # type: ignore[method-assign]


def _fast_or_slow(validator: FactsValidator, given: Any) -> Any:
    try:
        return validator.validate(given)
    except FactsError as exc:
        return ("error", [p.fact for p in exc.problems])


ODD_VALUES = st.sampled_from(
    [
        None,
        MISSING,
        True,
        0,
        -3,
        10**120,
        1.5,
        float("nan"),
        float("inf"),
        Decimal("2.50"),
        Decimal("1e200"),
        "3y",
        "P3Y",
        "400d",
        "2 years",
        "basic",
        "premium",
        "gold",
        "",
        "12",
        "2026-01-31",
        "2026-01-31T09:00:00Z",
        "2026-01-31T09:00:00",
        ["a", "b"],
        [1, 2],
        {"a": 1},
        timedelta(days=3),
        Duration(0, 60),
        date(2026, 1, 31),
        datetime(2026, 1, 31, 9, tzinfo=UTC),
    ]
)


@st.composite
def fact_dicts(draw: st.DrawFn) -> dict[str, Any]:
    given = dict(draw(facts()))
    for name in draw(st.lists(st.sampled_from(sorted(given)), max_size=3, unique=True)):
        choice = draw(st.integers(0, 2))
        if choice == 0:
            del given[name]
        else:
            given[name] = draw(ODD_VALUES)
    if draw(st.integers(0, 5)) == 0:
        given[draw(st.sampled_from(["tierr", "extra", "Tier"]))] = draw(ODD_VALUES)
    return given


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_dicts(), st.sampled_from(["reject", "ignore"]))
def test_the_generated_validator_agrees_with_the_pydantic_model(given: dict[str, Any], unknown: str) -> None:
    validator = FactsValidator(SCHEMA_POLICY.checked, unknown)
    expected = _slow(validator, given)
    assert _fast_or_slow(validator, given) == expected
    fast = validator._fast(given)
    if fast is not None:  # what it accepts, it accepts with exactly the model's values
        assert fast == expected
        assert {k: type(v) for k, v in fast.items()} == {k: type(v) for k, v in expected.items()}


def test_the_generated_validator_accepts_plain_facts_and_passes_the_rest_on() -> None:
    validator = FactsValidator(SCHEMA_POLICY.checked)
    plain = {"tier": "key", "tenure": "400d", "spend": 12.5, "signup": "2026-01-31"}
    assert validator._fast(plain) is not None
    assert validator._fast({**plain, "tier": "gold"}) is None  # the model reports it
    assert validator._fast({**plain, "extra": 1}) is None
    assert validator._fast({k: v for k, v in plain.items() if k != "tier"}) is None
    assert validator._fast({**plain, "complaints": True}) is None  # a bool is not an int
    with pytest.raises(FactsError, match="fact `tier`: expected one of basic, standard, premium, key, got 'gold'"):
        validator.validate({**plain, "tier": "gold"})


# --- the Decision object ------------------------------------------------------------------------

SUPPORT = policylang.compile(
    """\
policy demo
input {
    tier: enum(basic, premium, key)
    spend: number
}
output {
    sla: duration = 72h resolve min
    queue: enum(general, priority) = general resolve priority
}
rule fast priority 10: if tier == premium then sla = 4h, queue = priority
rule slower: if spend > 100 then sla = 8h
rule quiet priority 5: if spend > 100 then queue = general
""",
    filename="demo.policy",
)
AS_OF = "2026-01-31T09:00:00Z"


def test_a_decision_is_immutable() -> None:
    decision = SUPPORT.decide({"tier": "premium", "spend": 200}, as_of=AS_OF)
    for name in ("outputs", "fired", "as_of", "facts", "policy_name", "conflicts", "resolutions", "_record"):
        with pytest.raises(AttributeError):
            setattr(decision, name, None)
    with pytest.raises(AttributeError):
        del decision.outputs


def test_fired_and_resolutions_are_built_on_first_use_and_then_kept() -> None:
    decision = SUPPORT.decide({"tier": "premium", "spend": 200}, as_of=AS_OF)
    assert decision.fired == ("fast", "slower", "quiet")
    assert decision.fired is decision.fired
    sla = decision.resolutions["sla"]
    assert (sla.status, sla.winners, sla.overridden) == ("value", ("fast",), ("slower",))
    queue = decision.resolutions["queue"]
    assert (queue.value, queue.winners, queue.overridden) == ("priority", ("fast",), ("quiet",))
    assert decision.resolutions is decision.resolutions
    assert decision.conflicts == {}


def test_a_decision_pickles_to_plain_data_and_compares_equal() -> None:
    decision = SUPPORT.decide({"tier": "basic", "spend": 200}, as_of=AS_OF)
    again = pickle.loads(pickle.dumps(decision))
    assert again == decision
    assert again.resolutions == decision.resolutions
    assert again.to_dict() == decision.to_dict()
    other = SUPPORT.decide({"tier": "premium", "spend": 200}, as_of=AS_OF)
    assert other != decision
    assert "Decision(outputs=" in repr(decision) and "fired=('slower', 'quiet')" in repr(decision)


def test_the_public_constructor_still_builds_a_decision() -> None:
    built = policylang.Decision(
        outputs={"sla": Duration(0, 3600)},
        fired=("r",),
        as_of=datetime(2026, 1, 31, tzinfo=UTC),
        policy_name="p",
        policy_hash="0" * 64,
        resolutions={},
        facts={},
    )
    assert built.fired == ("r",) and built.policy_name == "p" and built.conflicts == {}
    assert built.to_dict()["outputs"] == {"sla": "1h"}


# --- constant folding in the index tree -----------------------------------------------------------


def _indexed_policy(condition: str) -> policylang.Policy:
    """Enough rules on `tier` for the index tree, plus one rule with `condition`."""
    lines = ["input {", "    tier: enum(basic, premium, key)", "    spend: number", "    zero: number = 0", "}"]
    lines += ["output {", "    n: number = 0 resolve max", "}"]
    lines += [f"if tier == {('basic', 'premium', 'key')[i % 3]} and spend > {i} then n = {i}" for i in range(60)]
    lines.append(f"rule odd: if {condition} then n = 1000")
    return policylang.compile("\n".join(lines) + "\n", filename="indexed.policy")


def test_folding_a_known_atom_still_evaluates_what_comes_before_it() -> None:
    policy = _indexed_policy("spend / zero > 1 and tier == premium")
    assert "rule 60" in policy.decision_graph.source
    # Under the `tier == basic` branch `tier == premium` is known false, but the division runs first.
    with pytest.raises(policylang.EvaluationError, match="division by zero"):
        policy.decide({"tier": "basic", "spend": 5})


def test_folding_drops_what_short_circuiting_never_reaches() -> None:
    policy = _indexed_policy("tier == premium and spend / zero > 1")
    assert policy.decide({"tier": "basic", "spend": 5})["n"] == 3  # the division is never reached
    with pytest.raises(policylang.EvaluationError, match="division by zero"):
        policy.decide({"tier": "premium", "spend": 5})
