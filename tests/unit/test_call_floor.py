"""What the cheaper per-call path (issue 14) must keep exactly: floats read as the Decimal of their
shortest text, `as_of` from a clock read lazily, `decide_many` equal to a loop over `decide`, and a
Decision's equality, pickling and immutability."""

from __future__ import annotations

import math
import pickle
import random
import struct
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import policylang
from policylang.engine.evaluator import Decision
from policylang.engine.facts import FactsError, convert_number, float_number

NUMBER_POLICY = policylang.compile(
    "input { spend: number  tier: enum(basic, premium)  tenure: duration  vip: bool = false  note: string? }\n"
    "output { share: number  big: bool = false resolve any }\n"
    "rule r: if spend > 100 then big\n"
    "rule s: if tier == premium then share = spend\n",
    filename="floor.policy",
)


def _reference(value: float) -> Decimal | None:
    try:
        return convert_number(value)
    except ValueError:
        return None


EDGE_FLOATS = [
    0.0,
    -0.0,
    0.1,
    3.0,
    -2.5,
    1e100,
    -1e100,
    1e-100,
    -1e-100,
    math.nextafter(1e100, math.inf),
    math.nextafter(1e-100, 0.0),
    5e-324,
    1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
]


@pytest.mark.parametrize("value", EDGE_FLOATS, ids=repr)
def test_a_float_becomes_the_decimal_of_its_shortest_text_or_is_refused_as_before(value: float) -> None:
    for _ in range(2):  # the second read comes from the cache of floats
        got = float_number(value)
        expected = _reference(value)
        assert (got is None) == (expected is None)
        if expected is not None:
            assert str(got) == str(expected)  # the same digits, exponent and sign, not only equal


def test_random_floats_read_exactly_as_convert_number_reads_them() -> None:
    generator = random.Random(14)
    for _ in range(20_000):
        value = struct.unpack("<d", generator.getrandbits(64).to_bytes(8, "little"))[0]
        expected = _reference(value)
        got = float_number(value)
        assert (got is None) == (expected is None), value
        if expected is not None:
            assert str(got) == str(expected), value


@pytest.mark.parametrize("value", [0.1, 24567.81, -0.0, 0.0, 1e100, 3.0])
def test_a_float_fact_decides_with_its_exact_decimal(value: float) -> None:
    decision = NUMBER_POLICY.decide({"spend": value, "tier": "premium", "tenure": "3y"}, as_of="2026-01-31T09:00:00Z")
    shared = decision["share"]
    assert isinstance(shared, Decimal)
    assert str(shared) == str(Decimal(repr(value)))
    assert str(decision.facts["spend"]) == str(Decimal(repr(value)))


@pytest.mark.parametrize("value", [math.inf, math.nan, 1e101, 1e-101])
def test_a_float_out_of_range_is_a_facts_error(value: float) -> None:
    with pytest.raises(FactsError) as caught:
        NUMBER_POLICY.decide({"spend": value, "tier": "basic", "tenure": "3y"})
    assert [p.fact for p in caught.value.problems] == ["spend"]


def test_a_missing_or_unknown_fact_still_names_the_fact() -> None:
    with pytest.raises(FactsError) as caught:
        NUMBER_POLICY.decide({"tier": "basic", "tenure": "3y"})
    assert [p.fact for p in caught.value.problems] == ["spend"]
    with pytest.raises(FactsError) as caught:
        NUMBER_POLICY.decide({"spend": 1, "tier": "basic", "tenure": "3y", "vipp": True})
    assert [p.fact for p in caught.value.problems] == ["vipp"]


def test_optional_and_defaulted_facts_count_when_given() -> None:
    given: dict[str, Any] = {"spend": 1, "tier": "basic", "tenure": "3y", "vip": True, "note": "x"}
    assert NUMBER_POLICY.validate_facts(given)["vip"] is True
    assert NUMBER_POLICY.validate_facts({**given, "vip": policylang.MISSING})["vip"] is False


# --- the clock -------------------------------------------------------------------------------------


def test_without_as_of_a_policy_that_never_reads_now_still_records_the_moment() -> None:
    before = datetime.now(UTC)
    decision = NUMBER_POLICY.decide({"spend": 1, "tier": "basic", "tenure": "3y"})
    after = datetime.now(UTC)
    moment = decision.as_of
    assert isinstance(moment, datetime)
    assert moment.tzinfo is UTC
    assert before - timedelta(milliseconds=1) <= moment <= after + timedelta(milliseconds=1)
    assert decision.as_of is moment  # made once, then kept
    assert decision.to_dict()["as_of"].endswith("Z")


def test_a_policy_that_reads_now_sees_the_moment_it_records() -> None:
    policy = policylang.compile(
        "input { since: datetime }\noutput { seen: datetime }\nif true then seen = now\n", filename="now.policy"
    )
    decision = policy.decide({"since": "2020-01-01T00:00:00Z"})
    assert decision["seen"] == decision.as_of


def test_as_of_given_is_kept_as_given() -> None:
    moment = datetime(2026, 1, 31, 9, tzinfo=UTC)
    decision = NUMBER_POLICY.decide({"spend": 1, "tier": "basic", "tenure": "3y"}, as_of=moment)
    assert decision.as_of == moment


# --- decide_many and the decision object ----------------------------------------------------------


def _batch(count: int) -> list[dict[str, Any]]:
    generator = random.Random(7)
    return [
        {
            "spend": generator.choice([generator.uniform(0, 500), generator.randint(0, 500), "99.5"]),
            "tier": generator.choice(["basic", "premium"]),
            "tenure": generator.choice(["3y", "400d", "P1Y"]),
        }
        for _ in range(count)
    ]


def test_decide_many_gives_what_a_loop_over_decide_gives() -> None:
    batch = _batch(700)  # more than one chunk
    as_of = "2026-01-31T09:00:00Z"
    many = list(NUMBER_POLICY.decide_many(batch, as_of=as_of))
    assert many == [NUMBER_POLICY.decide(facts, as_of=as_of) for facts in batch]
    assert [d.fired for d in many] == [NUMBER_POLICY.decide(f, as_of=as_of).fired for f in batch]


def test_decide_many_yields_the_decisions_before_a_bad_fact_set_then_raises() -> None:
    batch = [*_batch(3), {"spend": "lots", "tier": "basic", "tenure": "3y"}, *_batch(2)]
    decided: list[Decision] = []
    with pytest.raises(FactsError):
        for decision in NUMBER_POLICY.decide_many(batch, as_of="2026-01-31T09:00:00Z"):
            decided.append(decision)
    assert len(decided) == 3


def test_a_decision_made_on_the_lean_path_pickles_compares_and_stays_immutable() -> None:
    decision = NUMBER_POLICY.decide({"spend": 0.1, "tier": "premium", "tenure": "3y"})
    copy = pickle.loads(pickle.dumps(decision))
    assert copy == decision
    assert copy.as_of == decision.as_of
    assert copy.fired == decision.fired == ("s",)
    assert copy.resolutions.keys() == decision.resolutions.keys()
    assert repr(copy) == repr(decision)
    with pytest.raises(AttributeError):
        decision.as_of = datetime.now(UTC)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        decision.outputs = {}
    other = NUMBER_POLICY.decide({"spend": 0.1, "tier": "premium", "tenure": "3y"}, as_of=decision.as_of)
    assert other == decision


@pytest.mark.parametrize("text", ["10.50", "0E-7", "-0.0", "1E+100", "1E-100"])
def test_a_decimal_fact_is_kept_as_given(text: str) -> None:
    values = NUMBER_POLICY.validate_facts({"spend": Decimal(text), "tier": "basic", "tenure": "3y"})
    assert str(values["spend"]) == text


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "1E+101", "1E-101"])
def test_a_decimal_fact_out_of_range_is_a_facts_error(text: str) -> None:
    with pytest.raises(FactsError) as caught:
        NUMBER_POLICY.validate_facts({"spend": Decimal(text), "tier": "basic", "tenure": "3y"})
    assert [p.fact for p in caught.value.problems] == ["spend"]
