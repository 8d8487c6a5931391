"""On any text at all, `parse` and `check` only ever return diagnostics (STYLE.md section 6, property 5).

Inputs: `st.text()` with control characters, NULs and unicode; random bytes decoded with
errors="replace"; and random mutations (characters and tokens deleted, inserted, duplicated or
swapped) of the policies in examples/ and stdlib_policies/ and of formatted generated trees.

For each: nothing raises; no diagnostic is `internal-error` (a traceback in disguise); every span,
of diagnostics, their labels and the tree's nodes, lies inside its file's text with 1-based
line/column that agree with the offsets; and `render_text` / `render_json` render the lot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import KEYWORDS, policy_files

from policylang.core.diagnostics import Code, Diagnostic, render_json, render_text
from policylang.core.source import SourceFile, Span
from policylang.semantics.checker import check
from policylang.syntax import nodes as n
from policylang.syntax.formatter import format_source, format_tree
from policylang.syntax.parser import parse

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted([*ROOT.glob("examples/**/*.policy"), *ROOT.glob("stdlib_policies/**/*.policy")])


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- the invariants -------------------------------------------------------------------------------


def _assert_span(span: Span, sources: Mapping[str, str], what: object) -> None:
    assert span.file in sources, f"{what}: span in unknown file {span.file!r}"
    text = sources[span.file]
    assert 0 <= span.start <= span.end <= len(text), f"{what}: {span} outside a text of {len(text)} characters"
    source = SourceFile(span.file, text)
    assert source.position(span.start) == (span.line, span.column), f"{what}: start line/column of {span}"
    assert source.position(span.end) == (span.end_line, span.end_column), f"{what}: end line/column of {span}"


def assert_well_formed(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> None:
    diagnostics = tuple(diagnostics)
    for diag in diagnostics:
        assert isinstance(diag, Diagnostic)
        assert diag.code is not Code.INTERNAL_ERROR, f"internal-error: {diag.message!a}"
        if diag.span is not None:
            _assert_span(diag.span, sources, ascii(diag.message))
        for label in diag.labels:
            _assert_span(label.span, sources, ascii(f"{diag.message} / label {label.text}"))
    rendered = render_text(diagnostics, {name: SourceFile(name, text) for name, text in sources.items()})
    assert isinstance(rendered, str)
    assert len(json.loads(render_json(diagnostics))["diagnostics"]) == len(diagnostics)


def assert_tree_spans(tree: n.PolicyFile, sources: Mapping[str, str]) -> None:
    for node in n.walk(tree):
        for name in ("span", "name_span", "output_span", "resolve_span"):
            span = getattr(node, name, None)
            if isinstance(span, Span) and span.file != "<generated>":
                _assert_span(span, sources, f"{type(node).__name__}.{name}")


def assert_robust(text: str, filename: str = "<fuzz>") -> None:
    """Parse, check and format `text`; every result must be diagnostics, never an exception."""
    parsed = parse(text, filename)
    assert_well_formed(parsed.diagnostics, {filename: text})
    assert_tree_spans(parsed.tree, {filename: text})

    checked = check(text, filename)
    sources = {m.name: m.parsed.source.text for m in checked.modules}
    assert sources.get(filename) == text
    assert_well_formed(checked.diagnostics, sources)

    formatted = format_source(text, filename)
    assert_well_formed(formatted.diagnostics, {filename: text})
    if parsed.ok:
        assert formatted.text is not None
    else:
        assert formatted.text is None and formatted.diagnostics


# --- arbitrary text and bytes ---------------------------------------------------------------------

_any_text = st.text(
    alphabet=st.one_of(
        st.characters(),  # every code point but surrogates, control characters included
        st.characters(categories=["Cs"]),  # lone surrogates: files cannot hold them, but a `str` can
        st.sampled_from(["\0", "\n", "\r", "\t", "\f", "\x0b", "\x1b", "\ufeff", "\u2028", "\x85", "#", '"', "\\"]),
    ),
    max_size=200,
)


@_settings(300)
@given(_any_text)
@example("")
@example("\0")
@example("\ud800")
@example('if a then x = "\\ud800"')
@example('if a then x = "\\u{110000}"')
@example('if a then x = "\\u{d800}"')
@example('if a then x = "\\u"')  # `\u` with no digits
@example('policy p "\\u{}"')
@example('if a then x = "\\u12"')
@example('if a then x = "\ud800"')  # a lone surrogate inside a string (a Python `str` may hold one)
@example('import "\\u{0}"')  # a NUL in an import path
@example('import "' + "a" * 300 + '"')  # a file name longer than the file system allows
@example("if a then x = 0001-01-01T00:30:00+01:00")  # an instant before year 1
@example("if a then x = 9999-12-31T23:30:00-01:00")  # an instant after year 9999
@example("rule r priority -: if a then b")
@example("{" * 150)
@example("if " + "(" * 150 + "a" + ")" * 150 + " then b")
def test_arbitrary_text(text: str) -> None:
    assert_robust(text)


@_settings(200)
@given(st.binary(max_size=300))
@example(b"\xff\xfe\x00p\x00o\x00l")
@example(b"if a then b\x00\x80\xc3")
def test_arbitrary_bytes(data: bytes) -> None:
    assert_robust(data.decode("utf-8", errors="replace"))


# --- mutations of valid policies ------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d[\d_]*(?:\.\d+)?[a-z]*|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*|\s+|.", re.DOTALL)

# Pieces that break policies in interesting ways: brackets, quotes, operators, bad literals.
_TRICKY = [
    "\n", " ", "\t", "\0", '"', "\\", "#", "{", "}", "(", ")", "[", "]", ",", ":", ".", "?", "-", "+", "*",
    "/", "=", "==", "!=", "<=", "+=", "1", "-5", "10_000", "1__0", "0.5", "2y", "1y6mo", "99999999999999mo",
    "2026-02-30", "2026-01-31", "0001-01-01T00:00:00+01:00", "2026-01-31T25:00Z", '"\\u{110000}"', '"\\q"',
    '"\\u"', "é", "💥", "\ufeff", "\r\n",
]  # fmt: skip
_fragments = st.one_of(st.sampled_from(sorted(KEYWORDS)), st.sampled_from(_TRICKY), st.text(max_size=4))


@st.composite
def _mutated(draw: st.DrawFn, seeds: st.SearchStrategy[tuple[str, str]]) -> tuple[str, str]:
    """A seed text (with its filename) after one to five random edits of characters or tokens."""
    filename, text = draw(seeds)
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "token"]))
        if kind == "token":
            text = _mutate_tokens(draw, text)
            continue
        # Four cut points, close together more often than not, so edits stay local.
        start = draw(st.integers(min_value=0, max_value=len(text)))
        steps = [draw(st.integers(min_value=0, max_value=40)) for _ in range(3)]
        a, b, c, d = (min(len(text), start + sum(steps[:i])) for i in range(4))
        if kind == "delete":
            text = text[:a] + text[b:]
        elif kind == "insert":
            text = text[:a] + draw(_fragments) + text[a:]
        elif kind == "duplicate":
            text = text[:d] + text[a:b] + text[d:]
        else:  # swap the slices [a, b) and [c, d)
            text = text[:a] + text[c:d] + text[b:c] + text[a:b] + text[d:]
    return filename, text


def _mutate_tokens(draw: st.DrawFn, text: str) -> str:
    tokens = _TOKEN.findall(text) or [""]
    first = draw(st.integers(min_value=0, max_value=len(tokens) - 1))
    second = draw(st.integers(min_value=0, max_value=len(tokens) - 1))
    edit = draw(st.sampled_from(["delete", "duplicate", "swap", "replace"]))
    if edit == "delete":
        del tokens[first]
    elif edit == "duplicate":
        tokens.insert(second, tokens[first])
    elif edit == "swap":
        tokens[first], tokens[second] = tokens[second], tokens[first]
    else:
        tokens[first] = draw(_fragments)
    return "".join(tokens)


_corpus = st.sampled_from([(str(path), path.read_text(encoding="utf-8")) for path in CORPUS])
_generated = policy_files(max_items=4).map(lambda tree: ("<generated>", format_tree(tree)))


def test_corpus_is_found() -> None:
    assert len(CORPUS) >= 3, CORPUS
    for path in CORPUS:
        assert_robust(path.read_text(encoding="utf-8"), str(path))


@_settings(150)
@given(_mutated(_corpus))
def test_mutated_corpus(case: tuple[str, str]) -> None:
    filename, text = case
    assert_robust(text, filename)


@_settings(150)
@given(_mutated(_generated))
def test_mutated_generated_trees(case: tuple[str, str]) -> None:
    filename, text = case
    assert_robust(text, filename)


# --- literals whose shape is right but whose value is not ---------------------------------------

_offsets = st.builds(
    lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
    st.sampled_from("+-"),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
)


@_settings(60)
@given(
    st.one_of(
        st.datetimes(max_value=datetime(1, 1, 2)),
        st.datetimes(),
        st.datetimes(min_value=datetime(9999, 12, 31)),
    ),
    st.one_of(st.just("Z"), _offsets),
)
@example(datetime(1, 1, 1, 0, 30), "+01:00")
@example(datetime(9999, 12, 31, 23, 30), "-01:00")
def test_datetime_literals_with_any_offset(moment: datetime, zone: str) -> None:
    """A well-formed datetime literal either parses or is a `syntax-error`; never `internal-error`."""
    literal = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}{zone}"
    text = f"if a then x = {literal}\n"
    result = parse(text, "<fuzz>")
    assert all(d.code is Code.SYNTAX_ERROR for d in result.diagnostics), [
        f"{d.code}: {d.message!a}" for d in result.diagnostics
    ]
    assert_well_formed(result.diagnostics, {"<fuzz>": text})
