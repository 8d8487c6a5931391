"""Runtime values of the language and their literal forms: durations, exact decimals, strings, dates.

A month is 1/12 of a Gregorian year of 365.2425 days (2,629,746 s); a year is 12 months
(31,556,952 s). Durations keep months and seconds apart so that `date + 1mo` moves by a calendar
month, and compare by their exact total of seconds, so comparisons never round.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import total_ordering
from typing import Any

from .datatypes import DATE, DATETIME, DURATION, EnumOf, Type
from .diagnostics import Code
from .errors import PolicylangError
from .pickling import pickle_slots_quickly
from .source import HIDDEN_CHARACTER

LIMIT_EXPONENT = 100
"""ints and numbers stay within -1e100 to 1e100: facts, literals and the result of every int calculation
(a number calculation may reach 1e10000, past which its decimal context overflows)."""
INT_LIMIT = 10**LIMIT_EXPONENT
NUMBER_LIMIT = Decimal(INT_LIMIT)
LIMIT_HINT = "ints and numbers stay within -1e100 to 1e100"
DURATION_LIMIT_HINT = "durations stay within -1e100 to 1e100 seconds"

SECONDS_PER_MONTH = 2_629_746
SECONDS_PER_DAY = 86_400

_UNIT_SECONDS = {"w": 7 * SECONDS_PER_DAY, "d": SECONDS_PER_DAY, "h": 3600, "m": 60, "s": 1}
_UNIT_MONTHS = {"y": 12, "mo": 1}
_DURATION_PART = re.compile(r"(\d[\d_]*)(y|mo|w|d|h|m|s)")
_DURATION_LITERAL = re.compile(r"-?(?:\d[\d_]*(?:y|mo|w|d|h|m|s))+")
_ISO_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)


class _Missing:
    """The value of an optional fact that was not given (and of an absent output or a let that reads one)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def same_value(a: Any, b: Any) -> bool:
    """Whether two runtime values are one value of the language. Python says `True == 1` and
    `False == 0.0`; the language never does: a bool equals only a bool. Everything that asks
    whether two values agree (a `unique` output's proposals, the analysis, why-not) asks this.
    Generated code inlines the same test as `a == b and (a.__class__ is bool) == (b.__class__ is bool)`."""
    return bool(a == b) and (a.__class__ is bool) == (b.__class__ is bool)


def order_key(t: Type) -> Callable[[Any], Any] | None:
    """How values of type `t` sort (for `<`, `resolve min`/`max`, the first-hit order and the
    analysis): enums by declaration order, durations by their exact length, dates and datetimes as
    moments in UTC (a date is the start of its day); None where Python's own order is the language's
    (numbers, strings, bools)."""
    if isinstance(t, EnumOf):
        return enum_ranks(t.members).__getitem__
    if t == DURATION:
        return _total_seconds
    if t in (DATE, DATETIME):
        return as_datetime
    return None


def enum_ranks(members: tuple[str, ...]) -> dict[str, int]:
    """An enum's members by their place in its declaration, which is the order `<` and `resolve min` use."""
    return {member: index for index, member in enumerate(members)}


_total_seconds = operator.attrgetter("total_seconds")


class ValueParseError(PolicylangError, ValueError):
    """A literal that has the right shape but no valid value (`2026-02-30`, `1__0`); carries a hint.

    `limit` marks a value past a documented limit (a number beyond 1e100) rather than a malformed
    one; its code is then `limit-exceeded`, as the parser reports it.
    """

    code = Code.SYNTAX_ERROR

    def __init__(self, message: str, hint: str | None = None, *, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.limit = limit
        if limit:
            self.code = Code.LIMIT_EXCEEDED


class NotADuration(ValueParseError):
    """A text that is no duration at all, as opposed to one with a problem of its own (`1y1y`)."""


def shown_literal(text: str) -> str:
    """A literal for a message, in backticks; a long one is cut, with its length (a 5,000-digit number)."""
    if len(text) <= 40:
        return f"`{text}`"
    return f"`{text[:20]}...{text[-8:]}` ({len(text):,} characters)"


@total_ordering
@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time: calendar months plus exact seconds. Compared by exact total seconds."""

    months: int = 0
    seconds: int = 0
    total_seconds: int = field(init=False, repr=False, compare=False)
    """The exact length in seconds (a month is 2,629,746 s), computed once: it is every comparison's key."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_seconds", self.months * SECONDS_PER_MONTH + self.seconds)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Duration):
            return self.total_seconds == other.total_seconds
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("duration", self.total_seconds))

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Duration):
            return self.total_seconds < other.total_seconds
        return NotImplemented

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.months + other.months, self.seconds + other.seconds)

    def __sub__(self, other: Duration) -> Duration:
        return Duration(self.months - other.months, self.seconds - other.seconds)

    def __neg__(self) -> Duration:
        return Duration(-self.months, -self.seconds)

    def scale(self, factor: int | Decimal) -> Duration:
        """Multiply by a number; fractional results are rounded down to whole seconds."""
        if isinstance(factor, int) and not isinstance(factor, bool):
            return Duration(self.months * factor, self.seconds * factor)
        total = Decimal(self.total_seconds) * Decimal(factor)
        return Duration(0, int(total.to_integral_value(rounding="ROUND_FLOOR")))

    def __str__(self) -> str:
        return format_duration(self)

    def __repr__(self) -> str:
        return f"Duration({format_duration(self)})"


def parse_duration_literal(text: str) -> Duration:
    """`1y6mo`, `90s`, `2w`: the language's duration literal (underscores allowed in numbers); each
    unit at most once, so that `1y1y` is an error rather than two years."""
    if not _DURATION_LITERAL.fullmatch(text):
        raise NotADuration(
            f"{shown_literal(text)} is not a duration", "write durations such as `90s`, `4h`, `2y` or `1y6mo`"
        )
    sign = -1 if text.startswith("-") else 1
    months = seconds = 0
    units: set[str] = set()
    for number, unit in _DURATION_PART.findall(text):
        if unit in units:
            raise ValueParseError(
                f"the duration {shown_literal(text)} gives `{unit}` more than once",
                "give each unit once, largest first, as in `1y6mo`",
            )
        units.add(unit)
        amount = parse_int_literal(number)
        if unit in _UNIT_MONTHS:
            months += amount * _UNIT_MONTHS[unit]
        else:
            seconds += amount * _UNIT_SECONDS[unit]
    return _within_limit(Duration(sign * months, sign * seconds), text)


def duration_in_range(value: Duration) -> bool:
    """Whether a duration is within -1e100 to 1e100 seconds, as facts, literals and results must be."""
    return bool(-INT_LIMIT <= value.total_seconds <= INT_LIMIT)


def _within_limit(value: Duration, text: str) -> Duration:
    if not duration_in_range(value):
        raise ValueParseError(f"the duration {shown_literal(text)} is too large", DURATION_LIMIT_HINT, limit=True)
    return value


def parse_duration(text: str) -> Duration:
    """A duration from facts: the language's literal (`"3y"`) or ISO 8601 (`"P3Y"`, `"PT4H"`)."""
    text = text.strip()
    if _DURATION_LITERAL.fullmatch(text):
        return parse_duration_literal(text)
    match = _ISO_DURATION.fullmatch(text)
    if match and text not in ("P", "-P") and not text.endswith("T"):
        parts = {k: parse_int_literal(v) for k, v in match.groupdict().items() if v and k != "sign"}
        months = parts.get("y", 0) * 12 + parts.get("mo", 0)
        seconds = (
            parts.get("w", 0) * 7 * SECONDS_PER_DAY
            + parts.get("d", 0) * SECONDS_PER_DAY
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
        )
        sign = -1 if match.group("sign") else 1
        return _within_limit(Duration(sign * months, sign * seconds), text)
    raise NotADuration(
        f"{shown_literal(text)} is not a duration", "write a duration such as `3y`, `400d`, `1y6mo` or ISO 8601 `P3Y`"
    )


def format_duration(value: Duration) -> str:
    """The normalised literal: years and months, then days, hours, minutes, seconds (`1y6mo`, `4h`)."""
    if value.months == 0 and value.seconds == 0:
        return "0s"
    if value.months < 0 or value.seconds < 0:
        if value.months <= 0 and value.seconds <= 0:
            return "-" + format_duration(-value)
        # Mixed signs cannot be written as one literal; fall back to exact seconds.
        total = value.total_seconds
        return ("-" if total < 0 else "") + format_duration(Duration(0, abs(total)))
    parts = []
    years, months = divmod(value.months, 12)
    if years:
        parts.append(f"{years}y")
    if months:
        parts.append(f"{months}mo")
    rest = value.seconds
    for unit, size in (("d", SECONDS_PER_DAY), ("h", 3600), ("m", 60), ("s", 1)):
        amount, rest = divmod(rest, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def parse_int_literal(text: str) -> int:
    """`10_000` -> 10000; underscores only between digits, as in Python; at most 1e100 (LIMIT_EXPONENT)."""
    sign = -1 if text.startswith("-") else 1
    _check_underscores(text)
    digits = text.lstrip("+-").replace("_", "").lstrip("0")
    # Counted before int() reads them: Python refuses more than 4,300 digits, and 1e100 has 101.
    if len(digits) > LIMIT_EXPONENT + 1 or int(digits or "0", 10) > INT_LIMIT:
        shown = f"`{text[:20]}...`" if len(text) > 40 else f"`{text}`"
        too_many = len(digits) > LIMIT_EXPONENT + 1
        problem = f"has too many digits ({len(digits):,})" if too_many else "is too large"
        raise ValueParseError(f"the number {shown} {problem}", LIMIT_HINT, limit=True)
    return sign * int(digits or "0", 10)


def _check_underscores(text: str) -> None:
    if text[:1] in ("+", "-"):
        text = text[1:]
    if not text or text.startswith("_") or text.endswith("_") or "__" in text or not text.replace("_", "").isdecimal():
        raise ValueParseError(
            f"{shown_literal(text)} is not a valid number", "underscores may only separate digits, as in `10_000`"
        )


def parse_decimal_literal(text: str) -> Decimal:
    """`0.5`, `10_000.50` -> an exact Decimal, so money thresholds compare the way an accountant expects;
    at most 1e100 (LIMIT_EXPONENT)."""
    whole, _, frac = text.partition(".")
    _check_underscores(whole)
    if frac:
        _check_underscores(frac)
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise ValueParseError(f"{shown_literal(text)} is not a valid number") from None
    if abs(value) > NUMBER_LIMIT:
        raise ValueParseError(f"the number {shown_literal(text)} is too large", LIMIT_HINT, limit=True)
    return value


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_ESCAPE_RE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|.)", re.DOTALL)


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_HINT = (
    "D800 to DFFF are the halves of UTF-16 surrogate pairs, not characters: write the character itself "
    "or its code point, as in `\\u{1F600}`"
)


def parse_string_literal(text: str) -> str:
    """A double-quoted literal with escapes `\\" \\\\ \\n \\t \\r \\0 \\uXXXX \\u{X...}`."""
    body = text[1:-1]
    raw = _SURROGATE.search(body)
    if raw is not None:  # only text given through the API can hold one: a file is UTF-8
        raise ValueParseError(
            f"`\\u{{{ord(raw.group()):x}}}` (a lone surrogate) is not a Unicode scalar value", _SURROGATE_HINT
        )

    def replace(match: re.Match[str]) -> str:
        esc = match.group(1)
        if esc in _ESCAPES:
            return _ESCAPES[esc]
        if esc.startswith("u") and len(esc) > 1:
            code = int(esc[1:].strip("{}"), 16)
            if code > 0x10FFFF:
                raise ValueParseError(f"`\\{esc}` is not a valid character", "use a code point below 10FFFF")
            if 0xD800 <= code <= 0xDFFF:  # no text can hold one: it could be neither stored nor printed
                raise ValueParseError(f"`\\{esc}` is not a Unicode scalar value", _SURROGATE_HINT)
            return chr(code)
        if not esc.isprintable():  # a message never prints a control character raw (issue 12, L4)
            raise ValueParseError(
                f"unknown escape: a backslash before the character U+{ord(esc):04X} in a string",
                'use one of \\" \\\\ \\n \\t \\r \\0 \\uXXXX, or write the character itself',
            )
        raise ValueParseError(
            f"unknown escape `\\{esc}` in a string"
            if esc != "u"
            else "`\\u` needs hex digits, as in `\\u00e9` or `\\u{1F600}`",
            'use one of \\" \\\\ \\n \\t \\r \\0 \\uXXXX, or write the character itself',
        )

    return _ESCAPE_RE.sub(replace, body)


def quote_string(value: str) -> str:
    """The canonical literal of a string: double quotes, with escapes only where needed."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF or HIDDEN_CHARACTER.match(ch):
            # hidden characters too: `"\u{202e}"` stays visible in the source (Trojan Source)
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def parse_date_literal(text: str) -> date:
    """`2026-01-31` -> a date; an impossible date (`2026-02-30`) is an error, not a rollover."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueParseError(
            f"`{text}` is not a valid date", "write dates as YYYY-MM-DD, such as `2026-01-31`"
        ) from None


def parse_datetime_literal(text: str) -> datetime:
    """`2026-01-31T09:00:00Z` -> an aware datetime in UTC; a time zone (Z or an offset) is required."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueParseError(
            f"`{text}` is not a valid date and time", "write them as `2026-01-31T09:00:00Z` (ISO 8601)"
        ) from None
    if value.tzinfo is None:
        raise ValueParseError(f"`{text}` has no time zone", "add `Z` for UTC or an offset such as `+01:00`")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueParseError(f"`{text}` is outside the years 1 to 9999 in UTC") from None


_TIME_OF_DAY = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?")


def parse_time_literal(text: str) -> time:
    """`09:00` or `17:30:15` -> a time of day; hours 00 to 23, minutes and seconds 00 to 59."""
    match = _TIME_OF_DAY.fullmatch(text)
    hour, minute, second = (int(part) for part in match.groups("0")) if match else (99, 0, 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueParseError(
            f"`{text}` is not a time of day",
            "write a time of day as HH:MM or HH:MM:SS from `00:00` to `23:59:59`; midnight is `00:00`",
        )
    return time(hour, minute, second)


def format_time(value: time) -> str:
    """Canonical time-of-day literal: `09:00`, with seconds only when there are some (`09:00:30`)."""
    text = f"{value.hour:02d}:{value.minute:02d}"
    return text + f":{value.second:02d}" if value.second else text


def format_datetime(value: datetime) -> str:
    """Canonical datetime literal: UTC with a `Z`, seconds always shown, fractions only when present."""
    value = value.astimezone(UTC)
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def format_decimal(value: Decimal) -> str:
    """A decimal as written in the language: plain notation, never exponents."""
    text = format(value, "f")
    if "." not in text:
        text += ".0"
    return text


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic: 2026-01-31 + 1mo = 2026-02-28 (the day is clamped to the month)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError("unreachable: every month has 28 days")


def shift_datetime(moment: datetime, delta: Duration) -> datetime:
    """datetime + duration: calendar months first, then exact seconds. A moment on a zone's clock
    (`local(now, "Europe/London")`) moves its months on that clock and its seconds in real time, so
    `+ 24h` across a change to summer time is 24 hours, not a day on the clock."""
    shifted_day = add_months(moment.date(), delta.months)
    moved = moment.replace(year=shifted_day.year, month=shifted_day.month, day=shifted_day.day)
    if moment.tzinfo is UTC:
        return moved + timedelta(seconds=delta.seconds)
    return (moved.astimezone(UTC) + timedelta(seconds=delta.seconds)).astimezone(moment.tzinfo)


def shift_date(day: date, delta: Duration) -> date:
    """date + duration: calendar months first, then whole days (a remainder under a day is dropped)."""
    shifted = add_months(day, delta.months)
    whole_days = abs(delta.seconds) // SECONDS_PER_DAY  # toward zero: -36h moves back one day, not two
    return shifted + timedelta(days=whole_days if delta.seconds >= 0 else -whole_days)


def difference(later: date | datetime, earlier: date | datetime) -> Duration:
    """date - date or datetime - datetime: an exact duration in seconds."""
    if isinstance(later, datetime) or isinstance(earlier, datetime):
        later_dt = as_datetime(later)
        earlier_dt = as_datetime(earlier)
        delta = later_dt - earlier_dt
        return Duration(0, delta.days * SECONDS_PER_DAY + delta.seconds)
    return Duration(0, (later - earlier).days * SECONDS_PER_DAY)


def as_datetime(value: date | datetime) -> datetime:
    """A date is the start of that day in UTC when it meets a datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


pickle_slots_quickly(globals())
