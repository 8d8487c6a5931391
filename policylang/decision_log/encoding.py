"""Facts exactly as given, as JSON, for the decision log: core/json_codec.py's exact form, with what is
the log's own, a LogError naming the fact the log cannot record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.json_codec import Unrecordable, column, encode_value
from .errors import LogError

FACT_HINT = (
    "give facts as JSON values, Decimal, date, datetime, time, timedelta, Duration, lists, tuples, sets "
    "or dicts with text keys"
)


def encode_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(facts, Mapping):
        raise LogError(
            f"facts must be a mapping of names to values, not {type(facts).__name__}",
            "record the facts given to `decide`",
        )
    encoded = {}
    for name, value in facts.items():
        if not isinstance(name, str):
            raise LogError(f"the fact name {name!r} is not text", hint="fact names are strings")
        try:
            encoded[name] = encode_value(value)
        except Unrecordable as exc:
            raise LogError(f"the fact `{name}` holds {exc}, which the log cannot record", FACT_HINT) from None
        except RecursionError:
            raise LogError(
                f"the fact `{name}` is nested too deeply (or contains itself) to record", FACT_HINT
            ) from None
        except ValueError as exc:  # an int too long for JSON text, inside a set
            raise LogError(f"the fact `{name}` cannot be recorded: {exc}", FACT_HINT) from None
    return encoded


def facts_column(given: dict[str, Any]) -> str | None:
    """The facts' column; a value JSON cannot write (an int of over 4,300 digits) is a LogError naming its fact."""
    try:
        return column(given)
    except (ValueError, RecursionError):
        for name, value in given.items():
            try:
                column(value)
            except (ValueError, RecursionError) as exc:
                raise LogError(f"the fact `{name}` cannot be recorded: {exc}", FACT_HINT) from None
        raise
