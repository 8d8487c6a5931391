"""Facts are stored exactly as given: tagged JSON decodes to equal values of equal types (hypothesis)."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from log_helpers import facts_of_every_kind, same

from policylang.core.values import Duration
from policylang.decision_log import decode_value, encode_value

_KEYS = st.text(max_size=8) | st.sampled_from(["$decimal", "$set", "$object", "$", "$x"])

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.decimals(allow_nan=False, places=None)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    | st.dates()
    | st.datetimes()
    | st.datetimes(timezones=st.builds(timezone, st.timedeltas(-timedelta(hours=23), timedelta(hours=23))))
    | st.timedeltas()
    | st.times()
    | st.builds(Duration, st.integers(-1000, 1000), st.integers(-(10**9), 10**9))
)

_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(_KEYS, inner, max_size=4)
        | st.sets(st.text(max_size=5), max_size=4)
        | st.frozensets(st.integers() | st.dates(), max_size=4)
    ),
    max_leaves=12,
)


def _through_json(value: Any) -> Any:
    """As the log stores it: JSON text and back."""
    return json.loads(json.dumps(encode_value(value), ensure_ascii=False, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=10), _VALUES, max_size=6))
def test_any_facts_round_trip_with_their_types(facts: dict[str, Any]) -> None:
    decoded = decode_value(_through_json(facts))
    assert same(decoded, facts)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda v: st.lists(v) | st.dictionaries(st.text().filter(lambda k: not k.startswith("$")), v),
        max_leaves=10,
    )
)
def test_plain_json_stays_plain(value: Any) -> None:
    assert encode_value(value) == value


def test_the_examples_round_trip() -> None:
    facts = facts_of_every_kind()
    assert same(decode_value(_through_json(facts)), facts)


def test_the_tags_are_readable_json() -> None:
    from datetime import date
    from decimal import Decimal

    assert encode_value({"amount": Decimal("10.50"), "day": date(2026, 1, 31), "tags": {"b", "a"}}) == {
        "amount": {"$decimal": "10.50"},
        "day": {"$date": "2026-01-31"},
        "tags": {"$set": ["a", "b"]},
    }
    assert encode_value({"$set": 1}) == {"$object": {"$set": 1}}


def test_json_the_log_did_not_write_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown tag"):
        decode_value({"$pickle": "..."})


@pytest.mark.parametrize(
    "offset", [timedelta(microseconds=1), -timedelta(microseconds=999_995), timedelta(hours=-3, microseconds=7)]
)
def test_a_datetime_with_a_sub_second_offset_keeps_it(offset: timedelta) -> None:
    """Python 3.11's fromisoformat reads `+00:00:00.000001` as UTC; found by the round-trip property."""
    from datetime import datetime

    moment = datetime(2000, 1, 1, tzinfo=timezone(offset))
    decoded = decode_value(_through_json(moment))
    assert same(decoded, moment) and decoded.utcoffset() == offset
