"""Hypothesis strategies for the fuzzing suite: policy texts (generated from the AST and the typed
schema, and mutations of the real policies in examples/ and stdlib_policies/), facts for any
policy's `input` block with hostile values among them, facts files written as text, and edits
of a decision log's SQLite file.

The generators of tests/properties are reused (`strategies.policy_files`, `policy_strategies.policies`
and `facts`); this module adds what a fuzzer needs beyond them: mutation of real files, values at
the edges of every type, and hostile shapes (deep nesting, huge numbers, lone surrogates, terminal
escapes, bidirectional overrides, very long lists).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The generators of the property tests live beside them (tests/properties has no __init__.py, so
# pytest imports its modules by their bare names; this does the same when only tests/fuzz runs).
if str(ROOT / "tests" / "properties") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "properties"))

import policy_strategies  # noqa: E402  (needs the path above)
import strategies  # noqa: E402  (needs the path above)

from policylang.core import datatypes as t  # noqa: E402
from policylang.syntax.formatter import format_tree  # noqa: E402

SEED_FILES = sorted([*ROOT.glob("examples/**/*.policy"), *ROOT.glob("stdlib_policies/*.policy")])
"""The real policies mutations start from; a mutated file is written beside copies of its folder's
other policies, so that its imports still resolve."""


@dataclass(frozen=True)
class PolicyCase:
    """A policy to write to `name` in a fresh folder, with `siblings` (other files of that folder)."""

    name: str
    text: str
    siblings: tuple[tuple[str, str], ...] = ()

    def write(self, folder: Path) -> Path:
        for sibling, text in self.siblings:
            (folder / sibling).write_text(text, encoding="utf-8")
        path = folder / self.name
        # surrogatepass: a lone surrogate is written as the bytes Python would, which is not UTF-8:
        # exactly the kind of file a policy reader meets
        path.write_bytes(self.text.encode("utf-8", errors="surrogatepass"))
        return path


def _seed(path: Path) -> PolicyCase:
    siblings = tuple((p.name, p.read_text(encoding="utf-8")) for p in sorted(path.parent.glob("*.policy")) if p != path)
    return PolicyCase(path.name, path.read_text(encoding="utf-8"), siblings)


SEEDS = [_seed(path) for path in SEED_FILES]

# --- hostile pieces of text -----------------------------------------------------------------------

HOSTILE_CHARACTERS = (
    "\0", "\x1b", "\x1b[31m", "\x1b]0;title\x07", "\x9b", "\x7f", "\r", "\x0b", "\x0c", "\x85", "\u2028",
    "\u202e", "\u2066", "\u2069", "\u200b", "\u200f", "\ufeff", "\ufffe", "\ud800", "\udfff", "\U0010ffff",
    "é", "e\u0301", "💥", "ᾭ", "ǅ", "\t",
)  # fmt: skip

HUGE_DIGITS = "9" * 5000
EXTREME_LITERALS = (
    HUGE_DIGITS, "1" + "0" * 4300, f"0.{'1' * 5000}", "1e999999", "99999999999999999999y", "9999999999999mo",
    "9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00", "2024-02-29", "-0", "-0.0", "0s", "-9999999999d",
)  # fmt: skip

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d[\d_]*(?:\.\d+)?[a-z]*|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*|\s+|.", re.DOTALL)
_fragments = st.one_of(
    st.sampled_from(sorted(strategies.KEYWORDS)),
    st.sampled_from(HOSTILE_CHARACTERS),
    st.sampled_from(EXTREME_LITERALS),
    st.sampled_from(["{", "}", "(", ")", '"', "\\", "#", ",", ":", "=", "==", "+=", "-", "*", "/", "\n"]),
    st.text(max_size=4),
)


def _nest(draw: st.DrawFn, text: str) -> str:
    """Wrap a condition or value in deep nesting: operators the parser turns into tree levels."""
    depth = draw(st.sampled_from((20, 60, 99, 100, 101, 150, 400)))
    form = draw(st.sampled_from(("not", "paren", "minus", "plus", "and")))
    if form == "not":
        return "not " * depth + f"({text})"
    if form == "paren":
        return "(" * depth + text + ")" * depth
    if form == "minus":
        return "-" * depth + f"({text})"
    if form == "plus":
        return "(" * depth + text + " + 1)" * depth
    return "(" * depth + text + " and true)" * depth


def _chained(draw: st.DrawFn) -> str:
    """A chain of lets or segments, each reading the one before it (once, or twice: exponential
    if expanded rather than shared)."""
    count = draw(st.sampled_from((10, 30, 120, 250)))
    doubled = draw(st.booleans())
    kind = draw(st.sampled_from(("let", "segment")))
    lines = [f"{kind} chain0 = {'x' if kind == 'let' else 'x > 1'}"]
    for i in range(1, count):
        previous = f"chain{i - 1}"
        if kind == "let":
            lines.append(f"let chain{i} = {previous} + {previous}" if doubled else f"let chain{i} = -{previous}")
        else:
            lines.append(
                f"segment chain{i} = {previous} or not {previous}" if doubled else f"segment chain{i} = not {previous}"
            )
    last = f"chain{count - 1}"
    use = f"{last} > 1" if kind == "let" else last
    if doubled and kind == "let":
        count = min(count, 40)  # no more: the value itself doubles, 2**count
        lines = lines[:count]
        use = f"chain{count - 1} > 1"
    return "input { x: int }\n" + "\n".join(lines) + f"\nif {use} then flagged\n"


@st.composite
def mutated_policies(draw: st.DrawFn) -> PolicyCase:
    """A real policy after one to five edits: tokens deleted, duplicated, swapped or replaced; lines
    spliced in from another policy; hostile characters and literals inserted; a condition nested deep."""
    seed = draw(st.sampled_from(SEEDS))
    text = seed.text
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(("token", "token", "splice", "insert", "nest", "line")))
        if kind == "token":
            tokens = _TOKEN.findall(text) or [""]
            first = draw(st.integers(0, len(tokens) - 1))
            second = draw(st.integers(0, len(tokens) - 1))
            edit = draw(st.sampled_from(("delete", "duplicate", "swap", "replace")))
            if edit == "delete":
                del tokens[first]
            elif edit == "duplicate":
                tokens.insert(second, tokens[first])
            elif edit == "swap":
                tokens[first], tokens[second] = tokens[second], tokens[first]
            else:
                tokens[first] = draw(_fragments)
            text = "".join(tokens)
        elif kind == "splice":
            donor = draw(st.sampled_from(SEEDS)).text.splitlines(keepends=True) or [""]
            lines = text.splitlines(keepends=True)
            at = draw(st.integers(0, len(lines)))
            start = draw(st.integers(0, len(donor) - 1))
            lines[at:at] = donor[start : start + draw(st.integers(1, 8))]
            text = "".join(lines)
        elif kind == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(_fragments) + text[at:]
        elif kind == "line":
            lines = text.splitlines(keepends=True) or [""]
            at = draw(st.integers(0, len(lines) - 1))
            if draw(st.booleans()):
                del lines[at]
            else:
                lines.insert(draw(st.integers(0, len(lines))), lines[at])
            text = "".join(lines)
        else:  # nest: the condition of some `if ... then`
            match = None
            for found in re.finditer(r"\bif (.+?) then\b", text):
                match = found
                if draw(st.booleans()):
                    break
            if match is not None:
                text = text[: match.start(1)] + _nest(draw, match.group(1)) + text[match.end(1) :]
    return PolicyCase(seed.name, text, seed.siblings)


_hostile_strings = st.lists(st.sampled_from((*HOSTILE_CHARACTERS, "a", " ", '"', "\\")), max_size=6).map("".join)


@st.composite
def hostile_policies(draw: st.DrawFn) -> PolicyCase:
    """Small policies built around one hostile construct: a deep expression, a long chain of lets or
    segments, an extreme literal, raw control or bidi characters in a string, name or comment."""
    kind = draw(st.sampled_from(("nest", "chain", "literal", "string", "comment", "name")))
    if kind == "nest":
        text = f"input {{ x: int }}\nif {_nest(draw, 'x > 1')} then flagged\n"
    elif kind == "chain":
        text = _chained(draw)
    elif kind == "literal":
        literal = draw(st.sampled_from(EXTREME_LITERALS))
        text = f"input {{ x: int }}\nlet v = {literal}\nif x > 1 then flagged\nif x == 2 then out = v\n"
    elif kind == "string":
        inner = draw(_hostile_strings).replace("\\", "\\\\").replace('"', '\\"')
        text = f'input {{ s: string }}\nif s == "{inner}" then label = "{inner}" because "{inner}"\n'
    elif kind == "comment":
        text = f'# {draw(_hostile_strings)}\ninput {{ s: string }}\nif s == "a" then flagged\n'
    else:
        text = f'input {{ s{draw(_hostile_strings)}: string }}\nif s == "a" then flagged\n'
    return PolicyCase("hostile.policy", text)


def _generated(text: str) -> PolicyCase:
    return PolicyCase("generated.policy", text)


policy_cases = st.one_of(
    policy_strategies.policies().map(_generated),
    policy_strategies.schemaless_cases().map(lambda case: _generated(case[0])),
    strategies.policy_files(max_items=5).map(lambda tree: _generated(format_tree(tree))),
    mutated_policies(),
    hostile_policies(),
)
"""Any policy: checker-clean generated ones, random trees, mutated real files, hostile constructs."""

# --- facts ----------------------------------------------------------------------------------------

HOSTILE_VALUES: tuple[Any, ...] = (
    "\ud800", "a\udfffb", "\x1b[2J\x1b[H", "\x1b]8;;http://x\x07", "\u202eevil\u202c", "\0", "\x9b31m",
    10**5000, -(10**5000), Decimal(HUGE_DIGITS), Decimal("1e999999"), Decimal("-1e-999999"), float("nan"),
    float("inf"), 1e308, -0.0, "9" * 5000, "9999-12-31", "0001-01-01", date(9999, 12, 31), date(1, 1, 1),
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC), "99999999999999999999y", "-99999999999d", "P9999999999Y", None, True, [],
    {}, [[[[[]]]]], {"a": {"b": {}}}, "", " " * 100, "x" * 100_000, list(range(10_000)),
)  # fmt: skip
"""Values at or past the edge of every type, given to facts of any type."""


def _value_of(draw: st.DrawFn, ty: t.Type) -> Any:
    """A value that fits type `ty` (often at an edge of it)."""
    if isinstance(ty, t.EnumOf):
        return draw(st.sampled_from(ty.members))
    if isinstance(ty, t.SetOf):
        return [_value_of(draw, ty.element) for _ in range(draw(st.integers(0, 3)))]
    if ty == t.BOOL:
        return draw(st.booleans())
    if ty == t.INT:
        return draw(st.one_of(st.integers(-5, 20), st.integers(-(10**30), 10**30)))
    if ty == t.NUMBER:
        return draw(st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=3), st.integers(-100, 100)))
    if ty == t.STRING:
        return draw(st.one_of(st.sampled_from(("eu", "a", "premium", "")), st.text(max_size=8)))
    if ty == t.DURATION:
        return draw(st.sampled_from(("0s", "3y", "1y6mo", "90d", "4h", "P3Y", "-2d", "9999y", "100000000d")))
    if ty == t.DATE:
        return draw(st.dates()).isoformat()
    if ty == t.DATETIME:
        return draw(st.datetimes(timezones=st.just(UTC))).isoformat()
    return draw(st.sampled_from(("x", 1, True)))


@st.composite
def facts_for(draw: st.DrawFn, facts: dict[str, t.Type]) -> dict[str, Any]:
    """Facts for a policy whose facts have these types: each fact given or not, mostly with a value
    that fits, sometimes with a hostile one; now and then a fact the policy does not know."""
    given: dict[str, Any] = {}
    for name, ty in facts.items():
        if draw(st.integers(0, 5)) == 0:
            continue
        if draw(st.integers(0, 5)) == 0:
            given[name] = draw(st.sampled_from(HOSTILE_VALUES))
        else:
            given[name] = _value_of(draw, ty)
    if draw(st.integers(0, 6)) == 0:
        given[draw(st.sampled_from(("unknown", "\ud800", "\x1b[31m", "a" * 1000, "")))] = 1
    return given


# --- facts files as text --------------------------------------------------------------------------

_YAML_ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
HOSTILE_FACT_TEXTS: dict[str, str] = {
    "deep JSON array": '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "deep JSON object": '{"x": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}",
    "deep YAML flow": "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deep YAML block": "".join("  " * i + "- \n" for i in range(3000)),
    "YAML alias bomb": _YAML_ALIAS_BOMB,
    "5000-digit number": '{"x": ' + HUGE_DIGITS + "}",
    "huge exponent": '{"x": 1e999999999}',
    "lone surrogate": '{"x": "\\ud800"}',
    "lone surrogate key": '{"\\udc00": 1}',
    "NaN": '{"x": NaN}',
    "duplicate key": '{"x": 1, "x": 2}',
    "terminal escape": '{"x": "\\u001b[2J\\u001b[31mred"}',
    "bidi override": '{"x": "\\u202eevil"}',
    "YAML timestamp 9999": "x: 9999-12-31T23:59:59Z\n",
    "YAML date 0001": "x: 0001-01-01\n",
    "YAML tag": "x: !!python/object:os.system [echo]\n",
    "YAML binary": "x: !!binary gAAA\n",
    "NUL": '{"x": "\\u0000"}',
    "long list": '{"x": [' + ", ".join(["1"] * 100_000) + "]}",
}
"""Facts files whose text itself is hostile (a value built in Python could not reach these shapes)."""


def facts_text(facts: dict[str, Any], yaml_form: bool) -> tuple[str, str]:
    """(file name, text) of a facts file giving `facts`: JSON, or YAML when `yaml_form` and YAML can write it."""
    from fuzz_harness import facts_file

    text = facts_file(facts)
    if yaml_form:
        import yaml

        try:
            return "facts.yaml", yaml.safe_dump(json.loads(text, parse_float=Decimal), allow_unicode=True)
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            pass  # YAML cannot write it (a Decimal, a surrogate): the JSON form says the same
    return "facts.json", text


# --- decision-log edits ---------------------------------------------------------------------------

LOG_COLUMNS = (
    "id", "recorded_at", "as_of", "policy_name", "policy_hash", "facts", "outputs", "fired", "conflicts",
    "prev_hash", "hash",
)  # fmt: skip

_json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6),
        st.sampled_from(HOSTILE_VALUES[:7]),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _json_text(value: Any) -> str:
    return json.dumps(value)  # ensure_ascii: a lone surrogate becomes "\ud800", as a tampered log could hold


_column_texts = st.one_of(
    _json_values.map(_json_text),
    st.text(max_size=20),
    st.sampled_from(
        (
            "", "null", "{}", "[]", '{"x": {"$date": "9999-12-31"}}', '{"$duration": "99999999999y"}',
            '{"x": {"$decimal": "' + HUGE_DIGITS + '"}}', '{"x": ' + HUGE_DIGITS + "}", "[" * 5000 + "]" * 5000,
            "9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "not a time", "\x1b[2J", '"\\ud800"',
            '{"sla": "\\u001b[31m"}', '["\\u202e"]', '{"x": {"$set": [1, [2]]}}', '{"$unknown": 1}',
        )
    ),
)  # fmt: skip


@st.composite
def log_edits(draw: st.DrawFn) -> list[tuple[str, tuple[Any, ...]]]:
    """SQL statements (with parameters) that damage a decision log as an editor, a bad disk or a
    hostile hand could: a column of a record set to any text, records deleted or swapped, the
    stored policy, the format marker, or sequence numbers changed."""
    edits: list[tuple[str, tuple[Any, ...]]] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("column", "column", "column", "delete", "policy", "meta", "seq", "swap")))
        seq = draw(st.integers(1, 3))
        if kind == "column":
            column = draw(st.sampled_from(LOG_COLUMNS))
            edits.append((f"UPDATE decisions SET {column} = ? WHERE seq = ?", (draw(_column_texts), seq)))
        elif kind == "delete":
            edits.append(("DELETE FROM decisions WHERE seq = ?", (seq,)))
        elif kind == "policy":
            column = draw(st.sampled_from(("snapshot", "name", "hash", "first_seen")))
            edits.append((f"UPDATE policies SET {column} = ?", (draw(_column_texts),)))
        elif kind == "meta":
            version = draw(st.sampled_from(("0", "2", "x", "")))
            edits.append(("UPDATE meta SET value = ? WHERE key = 'version'", (version,)))
        elif kind == "seq":
            edits.append(("UPDATE decisions SET seq = ? WHERE seq = ?", (draw(st.integers(-(2**63), 2**63 - 1)), seq)))
        else:
            edits.append(
                ("UPDATE decisions SET facts = (SELECT facts FROM decisions WHERE seq = 1) WHERE seq = ?", (seq,))
            )
    return edits


@st.composite
def byte_edits(draw: st.DrawFn, size: int) -> list[tuple[int, bytes]]:
    """Overwrites of a file of `size` bytes: (offset, new bytes)."""
    return [
        (draw(st.integers(0, max(size - 1, 0))), draw(st.binary(min_size=1, max_size=8)))
        for _ in range(draw(st.integers(1, 4)))
    ]
