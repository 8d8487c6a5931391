"""The filters of `list`: `where` compares outputs as the language writes them (`sla=240m` finds `4h`),
and `since`/`until` take a time, a date, or a duration meaning that long ago."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..core.json_codec import canonical, to_json_value
from ..core.spelling import spell
from ..core.values import (
    Duration,
    ValueParseError,
    format_datetime,
    format_duration,
    parse_date_literal,
    parse_datetime_literal,
    parse_decimal_literal,
    parse_duration_literal,
    parse_int_literal,
    parse_string_literal,
)
from .chain import timestamp
from .errors import ErrorFactory


def where_matcher(items: Sequence[str], error: ErrorFactory) -> Callable[[dict[str, Any]], bool]:
    """A test that a record's outputs match every `output=value`. Raises a LogError for other text."""
    wanted: list[tuple[str, set[str]]] = []
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise error(f"`{item}` is not `output=value`", "write for example sla=4h or queue=priority")
        wanted.append((name.strip(), {raw.strip(), _normalised(raw.strip())}))

    def matches(outputs: dict[str, Any]) -> bool:
        for name, texts in wanted:
            if name not in outputs:
                return False
            value = outputs[name]
            values = value if isinstance(value, list) else [value]
            if not any(_as_text(v) in texts for v in values):
                return False
        return True

    return matches


def _normalised(text: str) -> str:
    """A value as the language writes it: `240m` -> `4h`, `10_000` -> `10000`, `"a"` -> `a`; else the text."""

    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return parse_string_literal(text)
        except ValueParseError:
            return text
    parsers: tuple[Callable[[str], Any], ...] = (
        parse_duration_literal,
        parse_int_literal,
        parse_decimal_literal,
        parse_datetime_literal,
        parse_date_literal,
    )
    for parse in parsers:
        try:
            value = parse(text)
        except ValueError:
            continue
        if isinstance(value, Duration):
            return format_duration(value)
        if isinstance(value, datetime):
            return format_datetime(value)
        return _as_text(to_json_value(value))
    return text


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return spell(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return canonical(value)


def moment(value: datetime | str, name: str, error: ErrorFactory) -> str:
    """A `since` or `until` as a stored timestamp; a naive datetime or other text is a LogError."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise error(f"`{name}` {value.isoformat()} has no time zone", "give an aware datetime")
        return _in_range(value, name, value.isoformat(), error)
    text = value.strip()
    for parse in (parse_datetime_literal, parse_date_literal, parse_duration_literal):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        if isinstance(parsed, Duration):
            now = datetime.now(UTC)
            try:
                return timestamp(now - timedelta(seconds=parsed.total_seconds))
            except OverflowError:  # before the year 1, or more days than timedelta holds
                raise error(
                    f"`{name}` `{text}` ago is before the year 1",
                    f"a duration reaches back at most to 0001-01-01, about {now.year - 1}y from now; "
                    "or give a date such as 2026-11-23",
                ) from None
        if not isinstance(parsed, datetime):
            parsed = datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
        return _in_range(parsed, name, text, error)
    raise error(
        f"`{name}` `{value}` is not a date, a time or a duration",
        "write 2026-11-23, 2026-11-23T10:00:00Z, or 24h for a day ago",
    )


def _in_range(moment: datetime, name: str, text: str, error: ErrorFactory) -> str:
    """A time as a stored timestamp; one that is outside the years 1 to 9999 in UTC is a LogError."""
    try:
        return timestamp(moment)
    except (OverflowError, ValueError):
        raise error(
            f"`{name}` `{text}` is outside the years 1 to 9999 in UTC",
            "give a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ) from None
