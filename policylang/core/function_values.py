"""What the rounding, date and time zone functions compute from present values (their table entries: operators.py).

Each implementation takes values the type checker has already typed and returns a value of the
language. One that cannot compute its value from its arguments (a time zone that does not exist,
named by a fact) raises `CannotCompute`, which the runtime turns into an `EvaluationError`.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from .diagnostics import Code
from .errors import PolicylangError

ROUNDING = ROUND_HALF_UP
"""`round`'s rule for a value exactly halfway: away from zero (2.5 -> 3, -2.5 -> -3, 0.125 -> 0.13 at
two places), as a cashier or a spreadsheet rounds, rather than DMN FEEL's half-even (banker's)
rounding. The one place the language states it (docs/language.md, "Functions")."""

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""The members of `weekday`'s enum, in ISO order (Monday first), which is the order `<` uses."""

_ONE = Decimal(1)


class CannotCompute(PolicylangError, ValueError):
    """A function that cannot give a value for these arguments; the message says which and why.
    The runtime raises it again as the decision's EvaluationError (engine/runtime.py)."""

    code = Code.EVALUATION_ERROR


def round_half_up(value: int | Decimal, places: int | None = None) -> int | Decimal:
    """`round(x)`: the nearest int; `round(x, places)`: a number with `places` digits after the point
    (negative places round to tens, hundreds, ...). Halves go away from zero (ROUNDING)."""
    if places is None:
        if isinstance(value, int):
            return value
        return int(value.to_integral_value(rounding=ROUNDING))
    number = Decimal(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and places >= -exponent:
        return number  # it has no more digits than asked for: nothing to round
    if places < -(number.adjusted() + 1):
        return Decimal(0)  # rounding to a unit above its first digit (round(40, -2)): 0
    try:
        if places >= 0:
            return number.quantize(_ONE.scaleb(-places), rounding=ROUNDING)
        return number.scaleb(places).quantize(_ONE, rounding=ROUNDING).scaleb(-places).quantize(_ONE)
    except InvalidOperation:  # more digits than a number's 60 (the decision's decimal context)
        raise CannotCompute(f"round({value}, {places}) needs more digits than a number holds (60)") from None


def round_down(value: int | Decimal) -> int:
    """`floor(x)`: the greatest int not above x (-2.5 -> -3)."""
    return value if isinstance(value, int) else int(value.to_integral_value(rounding=ROUND_FLOOR))


def round_up(value: int | Decimal) -> int:
    """`ceil(x)`: the least int not below x (-2.5 -> -2)."""
    return value if isinstance(value, int) else int(value.to_integral_value(rounding=ROUND_CEILING))


def clock_between(value: time, low: time, high: time) -> bool:
    """`value between low and high` for times of day: inclusive at both ends; when `low` is after
    `high` the span crosses midnight (`between 22:00 and 06:00` holds at 23:00 and at 05:00)."""
    if low <= high:
        return low <= value <= high
    return value >= low or value <= high


def time_of_day(moment: datetime) -> time:
    """`time_of_day(moment)`: what its zone's clock shows (UTC unless it came from `local`), to the second."""
    return time(moment.hour, moment.minute, moment.second)


def year_of(moment: date) -> int:
    """The year of a date, or of a datetime as its own zone reads it (UTC unless it came from `local`)."""
    return moment.year


def month_of(moment: date) -> int:
    """The month of a date or datetime, 1 to 12."""
    return moment.month


def day_of(moment: date) -> int:
    """The day of the month of a date or datetime, 1 to 31."""
    return moment.day


def weekday_of(moment: date) -> str:
    """The day of the week of a date or datetime, as a member of WEEKDAYS."""
    return WEEKDAYS[moment.weekday()]


def hour_of(moment: datetime) -> int:
    """The hour of a datetime, 0 to 23, in its own zone (UTC unless it came from `local`)."""
    return moment.hour


def minute_of(moment: datetime) -> int:
    """The minute of a datetime, 0 to 59."""
    return moment.minute


@lru_cache(maxsize=256)
def time_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA time zone called `name` (from the system's database, else the `tzdata` package), or
    None when there is none; names are case-sensitive, as IANA's are (`Europe/London`)."""
    if not name or name.startswith(("/", ".")) or "\\" in name or "\x00" in name:
        return None  # zoneinfo would read a path; these are never zone names
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name known here, for "did you mean" (read once: it walks the database)."""
    return frozenset(zoneinfo.available_timezones())


def local_time(moment: datetime, zone: str) -> datetime:
    """`local(moment, "Europe/London")`: the same moment, read in that zone, so that its date parts,
    `hour` and `minute` are the zone's wall clock (summer time included). It equals `moment`."""
    found = time_zone(zone)
    if found is None:
        raise CannotCompute(f"there is no time zone called {zone!r}; zones are IANA names such as 'Europe/London'")
    return moment.astimezone(found)
