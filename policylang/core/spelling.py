"""A value as the language writes it: `4h`, `true`, `premium`, `{a, b}`; the one spelling every message,
explanation, test report and listing uses (issue 13).

It spells the readable JSON form of a value (core/json_codec.py `to_json_value`: durations are
already literals, dates ISO 8601, sets sorted lists), so a value read back from a decision log or a
trace spells the same as one fresh from a decision. Where the places differ is only what they must:
the word for no value (`missing`, `no value`, `-`) and how text that is not a bare word is quoted
(an explanation also escapes what a terminal could misread); those are the parameters.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .json_codec import to_json_value
from .source import LINE_OR_DIRECTION_CONTROL

_PLAIN = re.compile(r"[\w.:+-]+")
"""Text shown without quotes: symbols, numbers, durations, dates and times. Anything else (spaces,
commas, quotes, braces, newlines, the empty string) is quoted, so no value can look like another
or break a line."""

_UNSAFE = re.compile(f"[\x7f-\x9f\ud800-\udfff{LINE_OR_DIRECTION_CONTROL}]")


def quoted(text: str) -> str:
    """Text as a JSON string literal with newlines, quotes, C0, DEL, C1, lone surrogates, U+2028 and
    the bidi controls escaped: how a message shows text that must read as text (a fact given as
    `"abc"` where a number was expected)."""
    literal = json.dumps(text, ensure_ascii=False)  # quoted, with newlines, quotes and C0 escaped
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", literal)


def quoted_unless_plain(text: str) -> str:
    """Text as is when it is a bare word, number, duration or date; else `quoted`."""
    return text if _PLAIN.fullmatch(text) else quoted(text)


def spell_number(value: Any) -> str:
    """A number in plain notation, as the language writes it: `0.00001`, not `1e-05`; anything else
    (a value a damaged record holds) as `str` gives it."""
    if isinstance(value, float) and math.isfinite(value):
        text = format(Decimal(repr(value)), "f")
        return text.removesuffix(".0") if text.endswith(".0") else text
    return str(value)


def spell(
    value: Any,
    *,
    absent: str = "missing",
    text: Callable[[str], str] = quoted_unless_plain,
    other: Callable[[Any], str] = spell_number,
) -> str:
    """A JSON value (`to_json_value`'s form) as the language writes it: null is `absent`, booleans
    `true`/`false`, lists a set in braces, strings through `text`, anything else (numbers) through `other`."""
    if value is None:
        return absent
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list):
        return "{" + ", ".join(spell(v, absent=absent, text=text, other=other) for v in value) + "}"
    if isinstance(value, str):
        return text(value)
    return other(value)


def spell_value(value: Any, **how: Any) -> str:
    """A runtime value (a Duration, a Decimal, a frozenset, MISSING) as the language writes it; `how`
    as for `spell`."""
    return spell(to_json_value(value), **how)
