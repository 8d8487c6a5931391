"""Text -> PolicyFile nodes plus syntax diagnostics; recovers at the next item so one run reports every broken item."""

from __future__ import annotations

import contextlib
import functools
import gc
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..core.diagnostics import Code, Diagnostic, Label, Severity, error, warning
from ..core.errors import require_text
from ..core.source import HIDDEN_CHARACTER, SourceFile, Span
from ..core.values import (
    ValueParseError,
    parse_date_literal,
    parse_datetime_literal,
    parse_decimal_literal,
    parse_duration_literal,
    parse_int_literal,
    parse_string_literal,
    parse_time_literal,
)
from . import nodes as n
from .keywords import ITEM_KEYWORDS
from .syntax_errors import STRING_OR_COMMENT, describe_syntax_error

MAX_DEPTH = 100
"""Expressions may nest at most this deep; deeper input is a diagnostic, never a RecursionError.
nesting.py holds chains of lets and segments to the same limit, counted as written out in place."""

MAX_SYNTAX_ERRORS = 50
"""Recovery stops after this many syntax errors in one file (the rest would mostly be echoes)."""

_LONE_CR = re.compile(r"\r(?!\n)")

MAX_HIDDEN_TEXT_WARNINGS = 20
"""Raw hidden characters warned about per file, one at each; the rest are counted in one last warning."""
_ITEM_START = re.compile(rf"^(?:{'|'.join(ITEM_KEYWORDS)})\b", re.MULTILINE)
_BLANK = re.compile(r"[^\n]")
_COMMENT_OR_STRING = re.compile(STRING_OR_COMMENT)


@functools.cache
def _lark() -> Lark:
    """The LALR parser, built once per process (cached on disk by Lark between processes)."""
    grammar = resources.files("policylang.syntax").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,
    )


@dataclass(frozen=True, slots=True)
class ParseResult:
    source: SourceFile
    tree: n.PolicyFile
    diagnostics: tuple[Diagnostic, ...]
    broken: tuple[tuple[int, int], ...] = ()
    """Offsets [start, end) of the items dropped because of syntax errors."""

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building trees.

    Syntax trees and checked expressions hold no reference cycles, yet every collection of the older
    generations walks all of them again: at 10,000 rules that was 40% of the check time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse(text: str, filename: str = "<policy>") -> ParseResult:
    """Parse policy text into a PolicyFile.

    Never raises for bad input: syntax errors, malformed literals and too-deep nesting come back
    as diagnostics, and the tree holds every item that did parse, so later stages can still run.
    Text or a file name that is not a str is the caller's mistake: UsageError.
    """
    require_text(text, filename, "parse()")
    with collector_paused():
        return _parse(text, filename)


def _parse(text: str, filename: str) -> ParseResult:
    source = SourceFile(filename, text)  # the text exactly as given; SourceFile knows lone CRs end lines
    hidden = _hidden_text(source)
    # A lone carriage return (old Mac line ends) ends a line as an editor shows it; Lark gets a copy
    # where it is a newline, else a `# comment` would run on over the next rule and swallow it.
    # Same length, so every offset and position agrees with `source`.
    if "\r" in text:
        text = _LONE_CR.sub("\n", text)
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # a UTF-8 byte-order mark is not content; a space keeps every offset
    diagnostics: list[Diagnostic] = []
    trees: list[Tree[Token]] = []
    broken: list[tuple[int, int]] = []
    position = 0
    while True:
        region_text = _blank(text, 0, position) if position else text
        try:
            trees.append(_lark().parse(region_text))
            break
        except UnexpectedInput as exc:
            diagnostics.append(describe_syntax_error(exc, source, _terminal_patterns()))
            failed_at = _error_offset(exc, text)
            item_start = _item_start_before(text, failed_at, position)
            next_start = _item_start_after(text, failed_at)
            if item_start == failed_at and failed_at > position:
                # The error token begins an item, so the item before it is the one left unfinished.
                next_start = failed_at
                item_start = _item_start_before(text, failed_at - 1, position)
            broken.append((item_start, next_start))
            if item_start > position:
                good = _blank(text, 0, position)[:item_start] + _blank(text, item_start, len(text))[item_start:]
                # If the region before the broken item fails too, its error is already reported.
                with contextlib.suppress(UnexpectedInput):
                    trees.append(_lark().parse(good))
            if next_start < len(text) and len(diagnostics) >= MAX_SYNTAX_ERRORS:
                diagnostics.append(
                    Diagnostic(
                        code=Code.SYNTAX_ERROR,
                        severity=Severity.INFO,
                        message=f"stopped after {MAX_SYNTAX_ERRORS} syntax errors; the rest of the file was not read",
                        span=source.span(next_start, next_start),
                        hint="fix the errors above and check again",
                    )
                )
                break
            if next_start >= len(text):
                break
            position = next_start
    builder = _Builder(source)
    header: n.Header | None = None
    items: list[n.Declaration] = []
    for tree in trees:
        for child in tree.children:
            assert isinstance(child, Tree)
            too_deep = _too_deep(child, source)
            if too_deep is not None:
                diagnostics.append(too_deep)
                continue
            try:
                node = builder.build(child)
            except Exception as exc:  # a builder bug becomes internal-error, never a traceback
                diagnostics.append(_internal(exc, source, child))
                continue
            if isinstance(node, n.Header):
                if header is not None:
                    diagnostics.append(
                        error(
                            Code.DUPLICATE_NAME,
                            "a file has at most one `policy` header",
                            node.span,
                            labels=(Label(header.span, "first header here"),),
                            hint="remove one of the headers",
                        )
                    )
                    continue
                if items:
                    diagnostics.append(
                        error(
                            Code.SYNTAX_ERROR,
                            "the `policy` header must come first",
                            node.span,
                            hint="move `policy NAME` to the top of the file, before imports and declarations",
                        )
                    )
                header = node
            else:
                items.append(node)
    diagnostics.extend(builder.diagnostics)
    diagnostics.extend(hidden)
    comments = tuple(
        n.Comment(text=m.group(0), span=source.span(m.start(), m.end()))
        for m in _COMMENT_OR_STRING.finditer(text)
        if m.group(0).startswith("#")
    )
    items.sort(key=lambda item: item.span.start)
    items = _number_anonymous_rules(items, _stem(filename))
    policy_file = n.PolicyFile(header=header, items=tuple(items), comments=comments, span=source.span(0, len(text)))
    return ParseResult(source, policy_file, tuple(diagnostics), tuple(broken))


@functools.cache
def _terminal_patterns() -> dict[str, str]:
    """Terminal name -> literal text, for terminals that are plain strings (`then`, `{`, `+=`)."""
    patterns = {}
    for terminal in _lark().terminals:
        if terminal.pattern.type == "str":
            patterns[terminal.name] = terminal.pattern.value
    return patterns


def _blank(text: str, start: int, end: int) -> str:
    """`text` with characters in [start, end) replaced by spaces, newlines kept, so offsets never move."""
    return text[:start] + _BLANK.sub(" ", text[start:end]) + text[end:]


def _error_offset(exc: UnexpectedInput, text: str) -> int:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return len(text)
    if isinstance(exc, UnexpectedEOF):
        return len(text)
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None and isinstance(exc, UnexpectedToken):
        pos = exc.token.start_pos
    return int(pos or 0)


def _item_start_before(text: str, offset: int, floor: int) -> int:
    best = floor
    for match in _ITEM_START.finditer(text, floor, offset + 1):
        if match.start() <= offset:
            best = match.start()
    return best


def _item_start_after(text: str, offset: int) -> int:
    match = _ITEM_START.search(text, offset + 1)
    while match is not None and match.start() <= offset:
        match = _ITEM_START.search(text, match.end())
    return match.start() if match else len(text)


def _too_deep(tree: Tree[Token], source: SourceFile) -> Diagnostic | None:
    """A diagnostic at the first expression level beyond MAX_DEPTH, if any; found without recursion."""
    stack: list[tuple[Any, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        level = depth + 1 if node.data in _EXPRESSION_RULES else depth
        if level > MAX_DEPTH:
            return error(
                Code.LIMIT_EXCEEDED,
                f"expression nested more than {MAX_DEPTH} levels deep",
                _meta_span(node.meta, source),
                hint="write it as several simpler conditions or rules",
            )
        stack.extend((child, level) for child in node.children)
    return None


_EXPRESSION_RULES = {
    "or_expr", "and_expr", "not_op", "compare", "member_in", "member_not_in", "member_contains", "between",
    "is_missing", "is_present", "arithmetic", "negate", "set_literal", "call",
}  # fmt: skip


def _meta_span(meta: Any, source: SourceFile) -> Span:
    if getattr(meta, "empty", True):
        return source.span(0, 0)
    return Span(source.name, meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(token: Token, source: SourceFile) -> Span:
    return Span(
        source.name,
        token.start_pos or 0,
        token.end_pos or 0,
        token.line or 1,
        token.column or 1,
        token.end_line or 1,
        token.end_column or 1,
    )


def _internal(exc: BaseException, source: SourceFile, tree: Tree[Token]) -> Diagnostic:
    return error(
        Code.INTERNAL_ERROR,
        f"the parser failed on this item: {type(exc).__name__}: {exc}",
        _meta_span(tree.meta, source),
        hint="this is a bug in policylang; please report it with this file",
    )


_LITERALS = {
    "INT": ("int", parse_int_literal),
    "DECIMAL": ("number", parse_decimal_literal),
    "STRING": ("string", parse_string_literal),
    "DURATION": ("duration", parse_duration_literal),
    "DATE": ("date", parse_date_literal),
    "DATETIME": ("datetime", parse_datetime_literal),
    "TIME": ("time", parse_time_literal),
}
_PLACEHOLDER = {"int": 0, "number": 0, "string": "", "duration": None, "date": None, "datetime": None, "time": None}


class _Builder:
    """One method per grammar rule, called as `rule(meta, *children)`; builds nodes and nothing else
    (no names, no types, no folding).

    It walks the tree itself, bottom-up with an explicit stack: no recursion, and none of the
    per-call wrapping that Lark's Transformer with v_args does (a third of the parse time).
    """

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def build(self, tree: Tree[Token]) -> Any:
        results: list[Any] = []
        stack: list[tuple[Any, bool]] = [(tree, False)]
        while stack:
            node, children_done = stack.pop()
            if not isinstance(node, Tree):
                results.append(node)
            elif children_done:
                count = len(node.children)
                args = results[len(results) - count :] if count else []
                del results[len(results) - count :]
                results.append(getattr(self, str(node.data))(node.meta, *args))
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))
        return results[0]

    def _span(self, meta: Any) -> Span:
        return _meta_span(meta, self.source)

    def _tspan(self, token: Token) -> Span:
        return _token_span(token, self.source)

    def _string(self, token: Token) -> str:
        try:
            return parse_string_literal(str(token))
        except ValueParseError as exc:
            self.diagnostics.append(error(Code.SYNTAX_ERROR, exc.message, self._escape_span(token, exc), hint=exc.hint))
            return ""

    def _escape_span(self, token: Token, exc: ValueParseError) -> Span:
        """The span of the bad escape inside a string literal (the whole string if it cannot be found)."""
        match = re.search(r"`(\\.[^`]*)`", exc.message)
        start = token.start_pos or 0
        if match:
            found = str(token).find(match.group(1))
            if found >= 0:
                return self.source.span(start + found, start + found + len(match.group(1)))
        return self._tspan(token)

    # --- declarations ---

    def header(self, meta: Any, name: Token, description: Token | None = None) -> n.Header:
        desc = self._string(description) if description is not None else None
        return n.Header(name=str(name), description=desc, span=self._span(meta))

    def import_module(self, meta: Any, *parts: Token) -> n.Import:
        names = [str(t) for t in parts if t.type == "NAME"]
        has_alias = any(t.type == "AS" for t in parts)
        module = tuple(names[:-1] if has_alias else names)
        alias = names[-1] if has_alias else None
        return n.Import(module=module, alias=alias, span=self._span(meta))

    def import_file(self, meta: Any, path: Token, alias: Token | None = None) -> n.Import:
        return n.Import(path=self._string(path), alias=str(alias) if alias else None, span=self._span(meta))

    def input_block(self, meta: Any, *decls: n.InputDecl) -> n.InputBlock:
        return n.InputBlock(fields=decls, span=self._span(meta))

    def input_decl(self, meta: Any, name: Token, type_: n.TypeExpr, *rest: Any) -> n.InputDecl:
        optional = False
        default = None
        for part in rest:
            if isinstance(part, Token) and part.type == "OPTIONAL":
                optional = True
            else:
                default = part
        return n.InputDecl(
            name=str(name),
            type=type_,
            optional=optional,
            default=default,
            span=self._span(meta),
            name_span=self._tspan(name),
        )

    def output_block(self, meta: Any, *decls: n.OutputDecl) -> n.OutputBlock:
        return n.OutputBlock(fields=decls, span=self._span(meta))

    def output_decl(self, meta: Any, name: Token, type_: n.TypeExpr, *rest: Any) -> n.OutputDecl:
        default = None
        optional = False
        resolve = None
        resolve_span = self._tspan(name)
        items = list(rest)
        while items:
            part = items.pop(0)
            if isinstance(part, Token) and part.type == "RESOLVE":
                strategy = items.pop(0)
                resolve = str(strategy)
                resolve_span = self._tspan(strategy)
            elif isinstance(part, Token) and part.type == "OPTIONAL":
                optional = True
            else:
                default = part
        return n.OutputDecl(
            name=str(name),
            type=type_,
            optional=optional,
            default=default,
            resolve=resolve,
            span=self._span(meta),
            name_span=self._tspan(name),
            resolve_span=resolve_span,
        )

    def simple_type(self, meta: Any, name: Token) -> n.SimpleType:
        return n.SimpleType(name=str(name), span=self._span(meta))

    def enum_type(self, meta: Any, *members: Token) -> n.EnumType:
        return n.EnumType(
            members=tuple(str(m) for m in members),
            span=self._span(meta),
            member_spans=tuple(self._tspan(m) for m in members),
        )

    def set_type(self, meta: Any, element: n.TypeExpr) -> n.SetType:
        return n.SetType(element=element, span=self._span(meta))

    def segment(self, meta: Any, name: Token, condition: n.Expr) -> n.Segment:
        return n.Segment(name=str(name), condition=condition, span=self._span(meta), name_span=self._tspan(name))

    def let(self, meta: Any, name: Token, value: n.Expr) -> n.Let:
        return n.Let(name=str(name), value=value, span=self._span(meta), name_span=self._tspan(name))

    def rule(self, meta: Any, name: Token, *rest: Any) -> n.Rule:
        items = list(rest)
        priority = None
        if isinstance(items[0], Token) and items[0].type == "PRIORITY":
            token = items[1]
            try:
                priority = parse_int_literal(str(token).lstrip("-")) * (-1 if str(token).startswith("-") else 1)
            except ValueParseError as exc:
                code = Code.LIMIT_EXCEEDED if exc.limit else Code.SYNTAX_ERROR
                self.diagnostics.append(error(code, exc.message, self._tspan(token), hint=exc.hint))
                priority = 0
            items = items[2:]
        return self._rule(meta, str(name), self._tspan(name), priority, items)

    def anon_rule(self, meta: Any, *rest: Any) -> n.Rule:
        return self._rule(meta, None, self._span(meta), None, list(rest))

    def _rule(self, meta: Any, name: str | None, name_span: Span, priority: int | None, items: list[Any]) -> n.Rule:
        condition = items[0]
        because = None
        if items and isinstance(items[-1], _Because):
            because = items.pop().text
        actions = tuple(items[1:])
        span = self._span(meta)
        rule_id = name if name is not None else ""  # an anonymous rule's id is its ordinal: _number_anonymous_rules
        return n.Rule(
            name=name,
            condition=condition,
            actions=actions,
            priority=priority,
            because=because,
            id=rule_id,
            span=span,
            name_span=name_span,
        )

    def because(self, meta: Any, text: Token) -> _Because:
        return _Because(self._string(text))

    def flag_action(self, meta: Any, name: Token) -> n.FlagAction:
        return n.FlagAction(output=str(name), value=True, span=self._span(meta), output_span=self._tspan(name))

    def unflag_action(self, meta: Any, name: Token) -> n.FlagAction:
        return n.FlagAction(output=str(name), value=False, span=self._span(meta), output_span=self._tspan(name))

    def set_action(self, meta: Any, name: Token, value: n.Expr) -> n.SetAction:
        return n.SetAction(output=str(name), value=value, span=self._span(meta), output_span=self._tspan(name))

    def add_action(self, meta: Any, name: Token, value: n.Expr) -> n.AddAction:
        return n.AddAction(output=str(name), value=value, span=self._span(meta), output_span=self._tspan(name))

    # --- expressions ---

    def or_expr(self, meta: Any, *operands: n.Expr) -> n.BoolOp:
        return n.BoolOp(op="or", operands=_flatten("or", operands), span=self._span(meta))

    def and_expr(self, meta: Any, *operands: n.Expr) -> n.BoolOp:
        return n.BoolOp(op="and", operands=_flatten("and", operands), span=self._span(meta))

    def conditional(self, meta: Any, condition: n.Expr, then_value: n.Expr, else_value: n.Expr) -> n.Conditional:
        return n.Conditional(condition=condition, then_value=then_value, else_value=else_value, span=self._span(meta))

    def not_op(self, meta: Any, operand: n.Expr) -> n.Not:
        return n.Not(operand=operand, span=self._span(meta))

    def compare(self, meta: Any, left: n.Expr, op: Token, right: n.Expr) -> n.Compare:
        return n.Compare(op=str(op), left=left, right=right, span=self._span(meta))

    def member_in(self, meta: Any, left: n.Expr, right: n.Expr) -> n.Membership:
        return n.Membership(op="in", left=left, right=right, span=self._span(meta))

    def member_not_in(self, meta: Any, left: n.Expr, right: n.Expr) -> n.Membership:
        return n.Membership(op="not in", left=left, right=right, span=self._span(meta))

    def member_contains(self, meta: Any, left: n.Expr, right: n.Expr) -> n.Membership:
        return n.Membership(op="contains", left=left, right=right, span=self._span(meta))

    def between(self, meta: Any, value: n.Expr, low: n.Expr, high: n.Expr) -> n.Between:
        return n.Between(value=value, low=low, high=high, span=self._span(meta))

    def is_missing(self, meta: Any, target: n.Expr) -> n.Presence:
        return n.Presence(target=target, missing=True, span=self._span(meta))

    def is_present(self, meta: Any, target: n.Expr) -> n.Presence:
        return n.Presence(target=target, missing=False, span=self._span(meta))

    def arithmetic(self, meta: Any, left: n.Expr, op: Token, right: n.Expr) -> n.Arithmetic:
        return n.Arithmetic(op=str(op), left=left, right=right, span=self._span(meta))

    def negate(self, meta: Any, operand: n.Expr) -> n.Expr:
        span = self._span(meta)
        # `-5` and `-2d` are literals, not negations, so that they print and re-parse as themselves.
        # Fold once only: `-(-5)` stays a negation of `-5`, so it prints back as `-(-5)`.
        if (
            isinstance(operand, n.Literal)
            and operand.kind in ("int", "number", "duration")
            and operand.value is not None
            and not (operand.raw or "").startswith("-")
        ):
            raw = f"-{operand.raw}" if operand.raw else None
            value = operand.value
            # Decimal's unary minus rounds to the context's 28 digits; copy_negate is exact.
            negated = value.copy_negate() if isinstance(value, Decimal) else -value
            return n.Literal(kind=operand.kind, value=negated, raw=raw, span=span)
        return n.Negate(operand=operand, span=span)

    def name(self, meta: Any, *parts: Token) -> n.Name:
        return n.Name(parts=tuple(str(p) for p in parts), span=self._span(meta))

    def call(self, meta: Any, name: Token, *args: n.Expr) -> n.Call:
        return n.Call(name=str(name), args=args, span=self._span(meta), name_span=self._tspan(name))

    def now(self, meta: Any) -> n.Now:
        return n.Now(span=self._span(meta))

    def set_literal(self, meta: Any, *elements: n.Expr) -> n.SetLiteral:
        return n.SetLiteral(elements=elements, span=self._span(meta))

    def literal(self, meta: Any, token: Token) -> n.Literal:
        span = self._tspan(token)
        text = str(token)
        if token.type in ("TRUE", "FALSE"):
            return n.Literal(kind="bool", value=token.type == "TRUE", raw=text, span=span)
        kind, convert = _LITERALS[token.type]
        try:
            value = convert(text)
        except ValueParseError as exc:
            where = self._escape_span(token, exc) if kind == "string" else span
            code = Code.LIMIT_EXCEEDED if exc.limit else Code.SYNTAX_ERROR
            self.diagnostics.append(error(code, exc.message, where, hint=exc.hint))
            value = _PLACEHOLDER[kind]
        return n.Literal(kind=kind, value=value, raw=None if kind == "string" else text, span=span)


@dataclass(frozen=True, slots=True)
class _Because:
    text: str


def _flatten(op: str, operands: tuple[n.Expr, ...]) -> tuple[n.Expr, ...]:
    """`(a and b) and c` is `a and b and c`: one flat BoolOp per chain of the same operator."""
    flat: list[n.Expr] = []
    for operand in operands:
        if isinstance(operand, n.BoolOp) and operand.op == op:
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return tuple(flat)


def _hidden_text(source: SourceFile) -> list[Diagnostic]:
    """A `hidden-text` warning at each raw invisible or text-reordering character (the first
    MAX_HIDDEN_TEXT_WARNINGS of them; one more warning counts the rest). A byte-order mark that
    starts the file is how some editors save UTF-8, not text, and passes."""
    found: list[Diagnostic] = []
    matches = HIDDEN_CHARACTER.finditer(source.text, 1 if source.text.startswith("\ufeff") else 0)
    for count, match in enumerate(matches):
        if count == MAX_HIDDEN_TEXT_WARNINGS:
            rest = 1 + sum(1 for _ in matches)
            found.append(
                warning(
                    Code.HIDDEN_TEXT,
                    f"{rest} more hidden characters, the first of them here",
                    source.span(match.start()),
                    hint="delete them, or write them as escapes inside strings",
                )
            )
            break
        char = match.group(0)
        escape = f"\\u{{{ord(char):x}}}"
        found.append(
            warning(
                Code.HIDDEN_TEXT,
                f"hidden character U+{ord(char):04X} ({unicodedata.name(char, 'format character')}) written raw",
                source.span(match.start()),
                label="invisible here",
                hint=f"it can make the policy read differently from what it does; delete it, or write `{escape}` "
                "inside a string",
            )
        )
    return found


def anonymous_rule_id(prefix: str, ordinal: int) -> str:
    """The id of a file's `ordinal`-th (1-based) anonymous rule: `support#3`.

    The ordinal, not the line, so that layout (`policy fmt`, a blank line, a comment) never changes
    an id; `#` keeps these ids apart from rule names and from the `file:line` ids of old records.
    """
    return f"{prefix}#{ordinal}"


def _number_anonymous_rules(items: list[n.Declaration], prefix: str) -> list[n.Declaration]:
    numbered: list[n.Declaration] = []
    ordinal = 0
    for item in items:
        if isinstance(item, n.Rule) and item.name is None:
            ordinal += 1
            item = replace(item, id=anonymous_rule_id(prefix, ordinal))
        numbered.append(item)
    return numbered


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base[: -len(".policy")] if base.endswith(".policy") else base
