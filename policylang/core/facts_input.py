"""Reading facts for the CLI and the policy test files: JSON, YAML or JSON lines from a file or standard
input, plus `--set k=v`.

A malformed file is reported like a policy error: file:line:column, the line, a caret and a hint.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from .diagnostics import Code, Diagnostic, error
from .errors import PolicylangError
from .source import SourceFile
from .yaml_exact import MAX_NESTING, MAX_REPEATED_VALUES, nesting_error, whole_number
from .yaml_exact import exact_yaml_loader as exact_yaml_loader  # re-exported for callers

_NESTING_HINT = f"facts are names and plain values; lists and mappings nest at most {MAX_NESTING} levels"
_REPEATING_HINT = f"write the values out; aliases (`*name`) may repeat at most {MAX_REPEATED_VALUES:,} values"


class FactsInputError(PolicylangError):
    """Facts that cannot even be read; carries a diagnostic and the text to render it with. Its
    code is the diagnostic's (`facts-error`, or `io-error` for a file that cannot be read)."""

    code = Code.FACTS_ERROR

    def __init__(self, diagnostic: Diagnostic, source: SourceFile | None = None) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic
        self.diagnostics = (diagnostic,)
        self.code = diagnostic.code
        self.source = source


def _json_problem(exc: ValueError, base: int) -> tuple[str, int | None]:
    """The message and offset of a JSON error (a fact given twice has no offset of its own)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg.lower()}", base + exc.pos
    return str(exc), None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: a fact given twice is an error, not "the last wins".
    The dict is built at C speed; only when it is shorter than the pairs is the first repeat looked for."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the fact `{key}` is given twice")
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a fact can have")


_JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]')
_NOT_STRUCTURE = bytes(code for code in range(128) if chr(code) not in '"[]{}')
_QUOTED = re.compile(rb'"[^"]*+"?')
_EMPTY_PAIRS = re.compile(rb"\[\]|\{\}")


def _too_deep_at(text: str) -> int | None:
    """The offset of the first `[` or `{` of a JSON text nesting deeper than MAX_NESTING, if any:
    found before json.loads, whose parser recurses once per level (and fails near 1,000)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return None  # too few brackets to nest that deep (the common case, decided at C speed)
    # Decided at C speed (a second for 10 million brackets): the text's quotes and brackets alone,
    # without escaped backslashes and quotes (nothing else past ASCII or in a string is structure);
    # two quotes side by side are removed, which keeps the rest paired, so that what remains in
    # quotes is the few strings holding brackets; then the innermost pairs, one level at a time.
    skeleton = text.encode("ascii", "ignore").replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    brackets = _QUOTED.sub(b"", skeleton.replace(b'""', b""))
    for _ in range(MAX_NESTING):
        brackets, removed = _EMPTY_PAIRS.subn(b"", brackets)
        if not brackets or not removed:
            return None  # nested no deeper, or brackets that do not pair up: json.loads says where
    depth = 0  # deeper than the limit: find where, one bracket at a time
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        char = match.group()
        if char == "[" or char == "{":
            depth += 1
            if depth > MAX_NESTING:
                return match.start()
        elif char == "]" or char == "}":
            depth -= 1
    return None


def _load_json(text: str) -> Any:
    """A JSON value with exact numbers: decimals as Decimal, ints past 101 digits as Decimal too (the
    fact's check says they are too large); raises ValueError, as json.loads does."""
    if text.startswith("\ufeff"):  # what json.loads says of it, which decode() alone does not
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _EXACT_JSON.decode(text)


_EXACT_JSON = json.JSONDecoder(
    parse_float=Decimal, parse_int=whole_number, parse_constant=_no_constant, object_pairs_hook=_unique_keys
)
"""The decoder _load_json uses, made once: json.loads with these options builds one per call, which
was a tenth of reading a line of `policy eval --input x.jsonl`. It keeps no state between texts."""


def _nesting_problem(source: SourceFile, offset: int, what: str) -> FactsInputError:
    return FactsInputError(
        error(
            Code.LIMIT_EXCEEDED,
            f"lists and mappings nest deeper than {MAX_NESTING} levels in {what}",
            source.span(offset, offset + 1),
            label="too deep here",
            hint=_NESTING_HINT,
        ),
        source,
    )


def _yaml_problem(exc: Any, source: SourceFile, hint: str) -> FactsInputError:
    """The diagnostic of a YAML text that cannot be read: a limit (nesting, aliases) or malformed YAML."""
    mark = exc.problem_mark or exc.context_mark
    offset = source.offset_of_line(mark.line + 1) + mark.column if mark else 0
    if isinstance(exc, nesting_error()):
        return FactsInputError(
            error(
                Code.LIMIT_EXCEEDED,
                f"{exc.problem} in the facts",
                source.span(offset, min(offset + 1, len(source.text))),
                label="repeated here" if exc.repeated else "too deep here",
                hint=_REPEATING_HINT if exc.repeated else _NESTING_HINT,
            ),
            source,
        )
    return FactsInputError(
        error(Code.FACTS_ERROR, f"invalid YAML: {exc.problem or exc.context}", source.span(offset), hint=hint),
        source,
    )


def read_text(path: str) -> tuple[str, str]:
    """(display name, text) of a facts file, `-` meaning standard input."""
    if path == "-":
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise FactsInputError(error(Code.IO_ERROR, f"cannot read `{path}`: no such file", None)) from None
        except OSError as exc:
            raise FactsInputError(error(Code.IO_ERROR, f"cannot read `{path}`: {exc.strerror or exc}", None)) from None
        name = path
    try:
        return name, data.decode("utf-8-sig")  # a byte-order mark is not part of the facts
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FactsInputError(
            error(
                Code.IO_ERROR,
                f"`{name}` is not UTF-8 text (bad byte on line {line})",
                None,
                hint="facts files are JSON or YAML in UTF-8",
            )
        ) from None


def parse_document(name: str, text: str) -> dict[str, Any]:
    """One facts object from JSON or YAML text (YAML is a superset of JSON, so JSON errors are checked first)."""
    source = SourceFile(name, text)
    stripped = text.lstrip()
    if name.endswith(".json") or stripped.startswith("{"):
        deep = _too_deep_at(text)
        if deep is not None:
            raise _nesting_problem(source, deep, "the facts")
        try:
            value = _load_json(text)
        except ValueError as exc:  # JSONDecodeError, or a fact given twice
            message, where = _json_problem(exc, 0)
            raise FactsInputError(
                error(
                    Code.FACTS_ERROR,
                    message,
                    source.span(where) if where is not None else None,
                    hint='facts are a JSON object such as {"tier": "premium", "tenure": "3y"}',
                ),
                source,
            ) from None
    else:
        import yaml  # deferred: start-up (PyYAML: `policy check` and `policy fmt` never read YAML)

        try:
            value = yaml.load(text, Loader=exact_yaml_loader())  # a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            raise _yaml_problem(exc, source, "facts are a mapping such as `tier: premium` on its own line") from None
        except yaml.YAMLError as exc:
            raise FactsInputError(error(Code.FACTS_ERROR, f"invalid YAML: {exc}", None)) from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise FactsInputError(
            error(
                Code.FACTS_ERROR,
                f"facts must be a mapping of names to values, not {type(value).__name__}",
                source.span(0) if text else None,
                hint="write `name: value` pairs (YAML) or a JSON object",
            ),
            source,
        )
    return {str(k): v for k, v in value.items()}


def iter_json_lines(name: str, text: str) -> Iterator[tuple[int, dict[str, Any] | FactsInputError]]:
    """(line number, facts or the error for that line) for each non-blank line of a JSON-lines text."""
    source = SourceFile(name, text)
    # Only "\n" ends a JSON line: str.splitlines would also split inside strings holding U+2028.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        deep = _too_deep_at(line)
        if deep is not None:
            yield number, _nesting_problem(source, source.offset_of_line(number) + deep, "the facts on this line")
            continue
        try:
            value = _load_json(line)
        except ValueError as exc:  # JSONDecodeError, or a fact given twice
            message, where = _json_problem(exc, source.offset_of_line(number))
            span = source.span(where if where is not None else source.offset_of_line(number))
            yield number, FactsInputError(error(Code.FACTS_ERROR, message, span), source)
            continue
        if not isinstance(value, dict):
            yield (
                number,
                FactsInputError(
                    error(
                        Code.FACTS_ERROR,
                        "each line must be a JSON object of facts",
                        source.span(source.offset_of_line(number)),
                    ),
                    source,
                ),
            )
            continue
        yield number, value


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_assignment(text: str) -> tuple[str, Any]:
    """`--set tier=premium`, `--set tags=[a,b]` or `tags={a, b}`, `--set vip=true`: values read as YAML."""
    import yaml  # deferred: start-up (PyYAML)

    if _LONE_SURROGATE.search(text):  # bytes of the command line that are not UTF-8 (surrogateescape)
        raise FactsInputError(
            error(
                Code.FACTS_ERROR,
                "a `--set` value holds bytes that are not UTF-8 text",
                None,
                hint="facts are Unicode text: give the value in UTF-8, or in a facts file",
            )
        )
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise FactsInputError(
            error(
                Code.FACTS_ERROR,
                f"`--set {text}` is not `name=value`",
                None,
                hint="write for example --set tier=premium",
            )
        )
    try:
        value = yaml.load(raw, Loader=exact_yaml_loader()) if raw.strip() else ""  # a SafeLoader subclass
    except nesting_error() as exc:
        raise FactsInputError(
            error(
                Code.LIMIT_EXCEEDED,
                f"{exc.problem} in `--set {name.strip()}=...`",
                None,
                hint=_REPEATING_HINT if exc.repeated else _NESTING_HINT,
            )
        ) from None
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dict) and all(v is None for v in value.values()):
        value = list(value)  # `{a, b}`, a set as the language writes it (YAML reads a mapping of nulls)
    return name.strip(), value
