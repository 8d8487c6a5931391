"""Runtime values as JSON, both ways: `to_json_value` gives the readable form (what decisions, traces,
explanations and witnesses show: durations as literals, sets as sorted lists), `encode_value` and
`decode_value` the exact form a decision log stores (values JSON lacks become one-key tagged objects
that decode to equal values of the same type); `canonical` and `column` are the JSON texts of both.

The one JSON codec of the package (issue 13): every layer above calls these, none writes its own.
The exact form is the decision log's stored format, which its hash chain covers: it must not change.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .diagnostics import Code
from .errors import PolicylangError
from .values import MISSING, Duration, format_datetime, format_decimal, format_duration, format_time


def to_json_value(value: Any) -> Any:
    """A runtime value in JSON: durations as normalised literals, sets as sorted lists, decimals as numbers."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        # A JSON number only where it is exact; otherwise the exact decimal as text, never a rounded float.
        if value == value.to_integral_value():
            return int(value) if abs(value) < 2**53 else format_decimal(value).removesuffix(".0")
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else format_decimal(value)
    if isinstance(value, Duration):
        return format_duration(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, clock_time):
        return format_time(value)
    if isinstance(value, frozenset | set):
        # In the values' own order (durations by length, dates by time), not by their text.
        try:
            ordered = sorted(value)
        except TypeError:
            ordered = sorted(value, key=lambda v: (str(type(v)), str(v)))
        return [to_json_value(v) for v in ordered]
    if value is MISSING:
        return None
    return str(value)


class Unrecordable(PolicylangError):
    """A value the log cannot record; encode_facts turns it into a LogError naming the fact, and
    `encode_value` (exported by the decision log) raises it as it is."""

    code = Code.LOG_ERROR


def encode_value(value: Any) -> Any:
    """A Python value as JSON; values JSON lacks become one-key objects (`{"$decimal": "10.50"}`) that
    `decode_value` turns back into equal values of the same type. Raises Unrecordable otherwise."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
    if isinstance(value, str | int):  # str and int subclasses (enums) are recorded as their plain value
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        zone = value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
        return {"$datetime": value.isoformat() + (f"[{zone}]" if zone else "")}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, clock_time):
        return {"$time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Duration):
        return {"$duration": [value.months, value.seconds]}
    if value is MISSING:
        return {"$missing": True}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v) for v in value]}
    if isinstance(value, set | frozenset):
        items = sorted((encode_value(v) for v in value), key=canonical)  # one text for one set
        return {"$frozenset" if isinstance(value, frozenset) else "$set": items}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise Unrecordable(f"a {kind.__name__} with keys that are not text")
        encoded = {k: encode_value(v) for k, v in value.items()}
        # A user's object that looks like a tag ({"$date": ...}) is wrapped, so it decodes as itself.
        return {"$object": encoded} if len(encoded) == 1 and next(iter(encoded)).startswith("$") else encoded
    raise Unrecordable(f"a {kind.__name__} value")


_SUBSECOND_OFFSET = re.compile(r"([+-])(\d\d):(\d\d):(\d\d)\.(\d{6})$")


def _decode_datetime(text: str) -> datetime:
    text, _, zone = text.partition("[")
    moment = datetime.fromisoformat(text)
    offset = _SUBSECOND_OFFSET.search(text)
    if offset:  # Python 3.11 reads -00:00:00.999995 as UTC: the offset is rebuilt from its text
        sign, hours, minutes, seconds, micros = offset.groups()
        size = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds), microseconds=int(micros))
        moment = moment.replace(tzinfo=timezone(-size if sign == "-" else size))
    if not zone:
        return moment
    local = moment.replace(tzinfo=ZoneInfo(zone.rstrip("]")))
    return local if local.utcoffset() == moment.utcoffset() else local.replace(fold=1)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$decimal": Decimal,
    "$float": float,
    "$datetime": _decode_datetime,
    "$date": date.fromisoformat,
    "$time": clock_time.fromisoformat,
    "$timedelta": lambda v: timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "$duration": lambda v: Duration(int(v[0]), int(v[1])),
    "$missing": lambda v: MISSING,
    "$tuple": lambda v: tuple(decode_value(x) for x in v),
    "$set": lambda v: {decode_value(x) for x in v},
    "$frozenset": lambda v: frozenset(decode_value(x) for x in v),
    "$object": lambda v: {k: decode_value(x) for k, x in v.items()},
}


def decode_value(value: Any) -> Any:
    """The inverse of `encode_value`. Raises ValueError (or TypeError) for JSON it did not write."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key.startswith("$"):
                if key not in _DECODERS:
                    raise ValueError(f"unknown tag `{key}`")
                return _DECODERS[key](inner)
        return {k: decode_value(v) for k, v in value.items()}
    return value


def canonical(value: Any) -> str:
    """One text for one value (keys sorted, no spaces): what the chain hashes and sets are sorted by."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def column(value: Any) -> str | None:
    """JSON for a column, in the caller's order (the hash sorts); text with lone surrogates (which SQLite
    cannot store as UTF-8) is escaped."""
    if value is None:
        return None
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text
