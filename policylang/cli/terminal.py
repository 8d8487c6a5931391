"""Text the CLI prints from policies, facts and log records, made safe for a terminal: control characters
(C0, DEL, C1) and lone surrogates are shown as escapes, so that no value can move the cursor, recolour the
screen, forge a line of output or make printing fail; JSON stays exact JSON."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from ..core.source import LINE_OR_DIRECTION_CONTROL

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0", "\\": "\\\\"}
_BREAKING = LINE_OR_DIRECTION_CONTROL
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_BREAKING}]")
"""What a value may not print raw: C0 (newline and tab too), DEL, C1, lone surrogates and _BREAKING."""
_UNSAFE_IN_LAYOUT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_BREAKING}]")
"""The same, but the newlines and tabs of a rendered text's own layout stay."""
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f\ud800-\udfff{_BREAKING}]")
"""What `json.dumps(..., ensure_ascii=False)` leaves raw (it escapes C0 itself)."""


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\u{{{ord(char):x}}}"


def one_line(text: str) -> str:
    """A value on one line: every control character escaped as the language writes it (`\\n`, `\\u{1b}`)."""
    return _UNSAFE.sub(_escape, text)


_QUOTED = re.compile(f'{_UNSAFE.pattern}|[\\\\"]')


def shown_value(text: str) -> str:
    """A text value as `eval` and `log list` show it: as it is, or, when it holds a control character,
    a backslash or a double quote, quoted as the language writes a string (`"a\\nb"`, `"C:\\\\temp"`),
    so that a value holding the two characters `\\n` never reads as one holding a new line."""
    if _QUOTED.search(text) is None:
        return text
    return '"' + _QUOTED.sub(lambda m: '\\"' if m.group() == '"' else _NAMED.get(m.group()) or _escape(m), text) + '"'


def safe_text(text: str) -> str:
    """A rendered text (several lines, maybe a policy's message) with its newlines and tabs kept and every
    other control character escaped; use one_line for the values inside it, so they cannot add lines."""
    return _UNSAFE_IN_LAYOUT.sub(_escape, text)


_UNSAFE_BUT_COLOUR = re.compile(f"\x1b\\[[0-9;]*m|{_UNSAFE_IN_LAYOUT.pattern}")


def safe_coloured(text: str) -> str:
    """safe_text for a text that the CLI coloured itself: complete colour sequences (SGR, `ESC[...m`)
    stay, since they can only change colours, and every other control character is escaped, so that
    nothing in it can move the cursor, clear the screen or forge a line."""
    return _UNSAFE_BUT_COLOUR.sub(lambda m: m.group() if m.group().startswith("\x1b[") else _escape(m), text)


def json_text(value: Any, **options: Any) -> str:
    """`json.dumps` (non-ASCII text kept readable) made safe by json_safe."""
    return json_safe(json.dumps(value, ensure_ascii=False, **options))


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 and lone surrogates written as `\\u` escapes: the same JSON value (outside
    strings JSON has only ASCII), but one a terminal cannot misread and UTF-8 can always encode."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def escaped_strings(value: Any, values: frozenset[str] = frozenset(), maps: frozenset[str] = frozenset()) -> Any:
    """`value` (JSON-like data) with one_line applied to every string in it, keys too, except under the
    keys in `values` (JSON values a renderer quotes itself) and the values under the keys in `maps`."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, dict):
        escaped = {}
        for key, item in value.items():
            if key in values:
                escaped[one_line(key)] = item
            elif key in maps and isinstance(item, dict):
                escaped[one_line(key)] = {one_line(str(name)): inner for name, inner in item.items()}
            else:
                escaped[one_line(key)] = escaped_strings(item, values, maps)
        return escaped
    if isinstance(value, list | tuple):
        return type(value)(escaped_strings(v, values, maps) for v in value)
    return value


def use_color(stream: object = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ
