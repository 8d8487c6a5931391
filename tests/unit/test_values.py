"""values.py: literal parsing, exact comparison, normalised formatting and calendar arithmetic."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from policylang.core.values import (
    SECONDS_PER_DAY,
    SECONDS_PER_MONTH,
    Duration,
    ValueParseError,
    add_months,
    as_datetime,
    difference,
    format_datetime,
    format_decimal,
    format_duration,
    parse_date_literal,
    parse_datetime_literal,
    parse_decimal_literal,
    parse_duration,
    parse_duration_literal,
    parse_int_literal,
    parse_string_literal,
    quote_string,
    shift_date,
    shift_datetime,
)

D = parse_duration_literal
HOUR = 3600
DAY = SECONDS_PER_DAY

# The STRING terminal of grammar.lark: every quoted string must be a token the lexer accepts.
STRING_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"')


# --- duration literals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months", "seconds"),
    [
        ("90s", 0, 90),
        ("15m", 0, 15 * 60),
        ("4h", 0, 4 * HOUR),
        ("2d", 0, 2 * DAY),
        ("3w", 0, 21 * DAY),
        ("6mo", 6, 0),
        ("2y", 24, 0),
        ("1y6mo", 18, 0),
        ("1d12h", 0, DAY + 12 * HOUR),
        ("2y3mo4d5h6m7s", 27, 4 * DAY + 5 * HOUR + 6 * 60 + 7),
        ("1_000d", 0, 1000 * DAY),
        ("10_0s", 0, 100),
        ("0s", 0, 0),
        ("-2d", 0, -2 * DAY),
        ("-1y6mo", -18, 0),
    ],
)
def test_duration_literal_keeps_months_and_seconds_apart(text: str, months: int, seconds: int) -> None:
    value = D(text)
    assert (value.months, value.seconds) == (months, seconds)


@pytest.mark.parametrize("text", ["2 years", "1.5y", "y", "", "2", "2yy", "1_y", "1__0d", "_1d", "2x", "--2d"])
def test_invalid_duration_literal_raises_with_hint(text: str) -> None:
    with pytest.raises(ValueParseError) as info:
        D(text)
    assert "duration" in info.value.message or "number" in info.value.message
    assert info.value.hint
    assert "`" in info.value.hint  # the hint shows an example literal


def test_duration_literal_error_names_the_text_and_suggests_units() -> None:
    with pytest.raises(ValueParseError) as info:
        D("2 years")
    assert info.value.message == "`2 years` is not a duration"
    assert "`2y`" in (info.value.hint or "")


def test_underscore_in_duration_number_must_separate_digits() -> None:
    with pytest.raises(ValueParseError) as info:
        D("1__0d")
    assert info.value.hint == "underscores may only separate digits, as in `10_000`"


# --- ISO 8601 and the facts form ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months", "seconds"),
    [
        ("P3Y", 36, 0),
        ("PT4H", 0, 4 * HOUR),
        ("P1Y2M3DT4H5M6S", 14, 3 * DAY + 4 * HOUR + 5 * 60 + 6),
        ("P2W", 0, 14 * DAY),
        ("P1M", 1, 0),
        ("PT1M", 0, 60),
        ("PT36H", 0, 36 * HOUR),
        ("-P1D", 0, -DAY),
        ("-P1Y6M", -18, 0),
        ("3y", 36, 0),
        ("400d", 0, 400 * DAY),
        ("  4h  ", 0, 4 * HOUR),
    ],
)
def test_parse_duration_reads_literals_and_iso_8601(text: str, months: int, seconds: int) -> None:
    value = parse_duration(text)
    assert (value.months, value.seconds) == (months, seconds)


def test_iso_month_and_minute_are_told_apart_by_the_t() -> None:
    assert parse_duration("P1M") == D("1mo")
    assert parse_duration("PT1M") == D("1m")
    assert parse_duration("P1M") != parse_duration("PT1M")


@pytest.mark.parametrize("text", ["P", "-P", "PT", "P1DT", "P1.5Y", "", "3 years", "1Y", "PT1D"])
def test_invalid_facts_duration_raises_with_hint(text: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_duration(text)
    assert info.value.message.endswith("is not a duration")
    assert "P3Y" in (info.value.hint or "")


# --- exact comparison ---------------------------------------------------------------------------


def test_month_and_year_are_exact_gregorian_fractions() -> None:
    # The module docstring: a year is 365.2425 days, a month a twelfth of it.
    assert SECONDS_PER_MONTH * 12 == 31_556_952 == int(Decimal("365.2425") * DAY)
    assert D("1mo").total_seconds == 2_629_746


def test_one_year_equals_twelve_months() -> None:
    assert D("1y") == D("12mo")
    assert hash(D("1y")) == hash(D("12mo"))
    assert D("2y") == D("1y12mo")


def test_one_year_is_between_365_and_366_days() -> None:
    assert D("365d") < D("1y") < D("366d")
    assert D("1y") > D("365d")
    assert D("1y") != D("365d")
    # 0.2425 day is 5h49m12s, so the comparison is exact at the second.
    assert D("1y") == D("365d5h49m12s")
    assert D("1y") > D("365d5h49m11s")
    assert D("1y") < D("365d5h49m13s")


def test_four_hundred_years_are_exactly_146097_days() -> None:
    assert D("400y") == D("146097d")


def test_month_sits_between_thirty_and_thirty_one_days() -> None:
    assert D("30d") < D("1mo") < D("31d")
    assert D("1mo") == D("30d10h29m6s")


def test_durations_equal_by_total_hash_equally_in_sets() -> None:
    assert len({D("1y"), D("12mo"), D("365d5h49m12s")}) == 1
    assert D("1w") == D("7d") == D("168h")


def test_duration_does_not_compare_with_plain_numbers() -> None:
    assert D("0s") != 0
    with pytest.raises(TypeError):
        _ = D("1d") < 5  # type: ignore[operator]  # the point of the test


def test_duration_arithmetic() -> None:
    assert D("1y") + D("6mo") == D("1y6mo")
    assert (D("1y") + D("2d")).months == 12
    assert D("2d") - D("12h") == D("1d12h")
    assert -D("1y6mo") == D("-1y6mo")
    assert D("1mo").scale(2) == D("2mo")
    assert D("1mo").scale(2).months == 2
    assert D("2d").scale(Decimal("0.5")) == D("1d")
    assert D("1y").scale(Decimal("1.5")) == D("18mo")
    assert D("1s").scale(Decimal("0.5")) == D("0s")  # rounded down to whole seconds


# --- normalised formatting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("4h", "4h"),
        ("90s", "1m30s"),
        ("3w", "21d"),
        ("12mo", "1y"),
        ("18mo", "1y6mo"),
        ("25h", "1d1h"),
        ("0d", "0s"),
        ("-2d", "-2d"),
        ("-1y6mo", "-1y6mo"),
        ("1_000s", "16m40s"),
        ("2y3mo4d5h6m7s", "2y3mo4d5h6m7s"),
    ],
)
def test_format_duration_is_normalised(text: str, formatted: str) -> None:
    assert format_duration(D(text)) == formatted
    assert str(D(text)) == formatted


def test_mixed_sign_duration_formats_as_an_equal_literal() -> None:
    value = Duration(1, -5)  # 1mo - 5s: no single literal has both signs
    text = format_duration(value)
    assert D(text) == value
    assert text == "30d10h29m1s"
    assert format_duration(Duration(-1, 5)) == "-30d10h29m1s"


@given(
    months=st.integers(min_value=0, max_value=12 * 10_000),
    seconds=st.integers(min_value=0, max_value=10**12),
    negative=st.booleans(),
)
@example(months=0, seconds=0, negative=False)
@example(months=18, seconds=0, negative=True)
def test_format_then_parse_keeps_months_and_seconds(months: int, seconds: int, negative: bool) -> None:
    value = Duration(-months, -seconds) if negative else Duration(months, seconds)
    again = D(format_duration(value))
    assert (again.months, again.seconds) == (value.months, value.seconds)
    assert parse_duration(format_duration(value)) == value


@given(months=st.integers(-10_000, 10_000), seconds=st.integers(-(10**10), 10**10))
def test_any_duration_formats_to_an_equal_literal(months: int, seconds: int) -> None:
    value = Duration(months, seconds)
    assert D(format_duration(value)) == value


@given(
    y=st.integers(0, 500), mo=st.integers(0, 500), d=st.integers(0, 5000),
    h=st.integers(0, 500), m=st.integers(0, 500), s=st.integers(0, 5000),
)  # fmt: skip
def test_iso_8601_agrees_with_the_literal(y: int, mo: int, d: int, h: int, m: int, s: int) -> None:
    iso = parse_duration(f"P{y}Y{mo}M{d}DT{h}H{m}M{s}S")
    literal = D(f"{y}y{mo}mo{d}d{h}h{m}m{s}s")
    assert (iso.months, iso.seconds) == (literal.months, literal.seconds)


# --- calendar arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
        (date(1900, 1, 31), 1, date(1900, 2, 28)),  # not a leap year (divisible by 100)
        (date(2000, 1, 31), 1, date(2000, 2, 29)),  # a leap year (divisible by 400)
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_date_plus_one_month_is_a_calendar_month() -> None:
    assert shift_date(date(2026, 1, 31), D("1mo")) == date(2026, 2, 28)
    assert shift_date(date(2026, 1, 31), D("1y")) == date(2027, 1, 31)
    assert shift_date(date(2024, 2, 29), D("1y")) == date(2025, 2, 28)


def test_date_plus_duration_applies_months_first_then_days() -> None:
    # Months first: 01-31 + 1mo = 02-28, then + 1d = 03-01.
    assert shift_date(date(2026, 1, 31), D("1mo1d")) == date(2026, 3, 1)
    assert shift_date(date(2026, 1, 1), D("36h")) == date(2026, 1, 2)  # a remainder under a day is dropped
    assert shift_date(date(2026, 1, 10), D("-3d")) == date(2026, 1, 7)
    assert shift_date(date(2026, 3, 31), D("-1mo")) == date(2026, 2, 28)


def test_datetime_plus_duration() -> None:
    start = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert shift_datetime(start, D("1mo")) == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert shift_datetime(start, D("1d12h")) == datetime(2026, 2, 1, 21, 0, tzinfo=UTC)
    assert shift_datetime(start, D("-90s")) == datetime(2026, 1, 31, 8, 58, 30, tzinfo=UTC)


def test_date_difference_is_an_exact_duration() -> None:
    assert difference(date(2026, 3, 1), date(2026, 2, 1)) == D("28d")
    assert difference(date(2024, 3, 1), date(2024, 2, 1)) == D("29d")
    assert difference(date(2026, 1, 1), date(2026, 1, 2)) == D("-1d")
    assert difference(date(2027, 1, 1), date(2026, 1, 1)) == D("365d")
    assert difference(date(2027, 1, 1), date(2026, 1, 1)) < D("1y")
    assert difference(date(2026, 1, 1), date(2026, 1, 1)).total_seconds == 0


def test_datetime_difference_and_mixed_date_datetime() -> None:
    later = datetime(2026, 1, 2, 12, 30, tzinfo=UTC)
    earlier = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert difference(later, earlier) == D("1d12h30m")
    # A date meets a datetime as the start of that day in UTC.
    assert difference(later, date(2026, 1, 2)) == D("12h30m")
    assert difference(date(2026, 1, 2), later) == D("-12h30m")
    assert as_datetime(date(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=UTC)


def test_difference_then_shift_returns_to_the_date() -> None:
    a, b = date(2024, 2, 29), date(2026, 11, 3)
    assert shift_date(b, difference(a, b)) == a
    assert shift_date(a, difference(b, a)) == b


# --- dates and datetimes ------------------------------------------------------------------------


def test_date_literals() -> None:
    assert parse_date_literal("2026-01-31") == date(2026, 1, 31)
    assert parse_date_literal("2024-02-29") == date(2024, 2, 29)


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "2025-02-29", "2026-00-10"])
def test_impossible_date_is_an_error_not_a_rollover(text: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_date_literal(text)
    assert info.value.message == f"`{text}` is not a valid date"
    assert info.value.hint == "write dates as YYYY-MM-DD, such as `2026-01-31`"


def test_datetime_literals_are_utc() -> None:
    assert parse_datetime_literal("2026-01-31T09:00:00Z") == datetime(2026, 1, 31, 9, tzinfo=UTC)
    shifted = parse_datetime_literal("2026-01-31T09:00:00+01:00")
    assert shifted == datetime(2026, 1, 31, 8, tzinfo=UTC)
    assert shifted.utcoffset() == timedelta(0)
    assert format_datetime(shifted) == "2026-01-31T08:00:00Z"
    assert format_datetime(parse_datetime_literal("2026-01-31T09:00Z")) == "2026-01-31T09:00:00Z"
    assert format_datetime(parse_datetime_literal("2026-01-31T09:00:00.250Z")) == "2026-01-31T09:00:00.25Z"


def test_datetime_without_time_zone_is_an_error() -> None:
    with pytest.raises(ValueParseError) as info:
        parse_datetime_literal("2026-01-31T09:00:00")
    assert info.value.message == "`2026-01-31T09:00:00` has no time zone"
    assert "`Z`" in (info.value.hint or "")


def test_impossible_datetime_is_an_error() -> None:
    with pytest.raises(ValueParseError) as info:
        parse_datetime_literal("2026-01-31T25:00:00Z")
    assert "is not a valid date and time" in info.value.message
    assert info.value.hint


# --- numbers ------------------------------------------------------------------------------------


def test_decimals_are_exact() -> None:
    assert parse_decimal_literal("0.1") + parse_decimal_literal("0.2") == parse_decimal_literal("0.3")
    assert parse_decimal_literal("10_000.50") == Decimal("10000.50")
    assert parse_decimal_literal("0.1") * 3 == Decimal("0.3")


def test_integers_with_underscores() -> None:
    assert parse_int_literal("10_000") == 10_000
    assert parse_int_literal("1_2_3") == 123
    assert parse_int_literal("007") == 7


@pytest.mark.parametrize("text", ["1__0", "_1", "1_", "1x"])
def test_bad_integer_raises_with_hint(text: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_int_literal(text)
    assert info.value.message == f"`{text}` is not a valid number"
    assert info.value.hint == "underscores may only separate digits, as in `10_000`"


@pytest.mark.parametrize("text", ["1__0.5", "1._5", "1.5_"])
def test_bad_decimal_raises_with_hint(text: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_decimal_literal(text)
    assert info.value.hint


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.5"), "0.5"),
        (Decimal("1000"), "1000.0"),
        (Decimal("1E+3"), "1000.0"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-2.50"), "-2.50"),
    ],
)
def test_format_decimal_never_uses_exponents(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text
    assert parse_decimal_literal(format_decimal(abs(value))) == abs(value)


# --- strings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"plain"', "plain"),
        (r'""', ""),
        (r'"a\"b"', 'a"b'),
        (r'"back\\slash"', "back\\slash"),
        (r'"\n\t\r\0"', "\n\t\r\0"),
        (r'"\u00e9"', "é"),
        (r'"\u{1F600}"', "😀"),
        (r'"\u{41}"', "A"),
        (r'"\\n"', "\\n"),  # an escaped backslash followed by n, not a newline
        ('"é 😀 # not a comment"', "é 😀 # not a comment"),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    assert parse_string_literal(literal) == value


def test_unknown_escape_is_an_error_with_hint() -> None:
    with pytest.raises(ValueParseError) as info:
        parse_string_literal(r'"a\qb"')
    assert info.value.message == "unknown escape `\\q` in a string"
    assert info.value.hint and "\\n" in info.value.hint


@pytest.mark.parametrize("literal", [r'"\u{110000}"', r'"\u{FFFFFF}"'])
def test_invalid_code_point_is_an_error_with_hint(literal: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_string_literal(literal)
    assert info.value.message.endswith("is not a valid character")
    assert info.value.hint


@pytest.mark.parametrize("literal", [r'"\uD800"', r'"\u{DFFF}"', '"\ud800"'])
def test_lone_surrogates_are_refused(literal: str) -> None:
    # Issue 12 (M6): a lone surrogate is no Unicode text: no log, terminal or UTF-8 file could hold the
    # string, so neither its escape nor (in text given through the API) the raw character is accepted.
    with pytest.raises(ValueParseError) as info:
        parse_string_literal(literal)
    assert info.value.message.endswith("is not a Unicode scalar value")
    assert info.value.hint is not None and "surrogate" in info.value.hint


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"', r'"say \"hi\""'),
        ("a\\b", r'"a\\b"'),
        ("line\nbreak\ttab\rcr", r'"line\nbreak\ttab\rcr"'),
        ("\x01\x7f", r'"\u{1}\u{7f}"'),
        ("é 😀", '"é 😀"'),
    ],
)
def test_quote_string_escapes_only_where_needed(value: str, quoted: str) -> None:
    assert quote_string(value) == quoted
    assert parse_string_literal(quoted) == value


@given(st.text())
@example("\0")
@example('"\\')
@example("\\u{41}")
def test_quote_string_round_trips_and_stays_one_token(value: str) -> None:
    quoted = quote_string(value)
    assert STRING_TOKEN.fullmatch(quoted)
    assert "\n" not in quoted
    assert parse_string_literal(quoted) == value


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40))
def test_parse_then_quote_is_canonical(value: str) -> None:
    # Quoting is canonical: quoting the value parsed from a canonical literal gives that literal back.
    quoted = quote_string(value)
    assert quote_string(parse_string_literal(quoted)) == quoted
