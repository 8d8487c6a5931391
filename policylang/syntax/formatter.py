"""Unparse and canonical layout: nodes -> text, comments kept, and a soundness check that re-parses the result.

`unparse` is the only node-to-text printer. `format_source` refuses (returns no text) when its own
output would not parse back to the same AST with the same comments, so formatting never changes
meaning.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import assert_never

from ..core import operators as ops
from ..core.diagnostics import Code, Diagnostic, error
from ..core.spelling import spell
from ..core.values import Duration, format_datetime, format_decimal, format_duration, format_time, quote_string
from . import nodes as n
from .parser import parse

INDENT = "    "
MAX_LINE = 100

# Binding strength, loosest first (from the operator table); an operand that binds looser than its
# slot needs parentheses.
_CONDITIONAL, _OR, _NOT, _COMPARE, _SUM, _UNARY, _ATOM = (
    ops.CONDITIONAL,
    ops.OR,
    ops.NOT,
    ops.COMPARE,
    ops.SUM,
    ops.UNARY,
    ops.ATOM,
)


def unparse_expr(expr: n.Expr) -> str:
    """An expression in canonical form: single spaces, parentheses only where precedence needs them."""
    return _expr(expr, 0)


def _wrap(text: str, own: int, needed: int) -> str:
    return f"({text})" if own < needed else text


def _expr(expr: n.Expr, needed: int) -> str:
    match expr:
        case n.Name():
            return expr.text
        case n.Literal():
            text = unparse_literal(expr)
            return _wrap(text, _UNARY if text.startswith("-") else _ATOM, needed)
        case n.SetLiteral():
            return "{" + ", ".join(_expr(e, 0) for e in expr.elements) + "}"
        case n.Now():
            return "now"
        case n.BoolOp():
            own = ops.BY_SPELLING[expr.op].level
            # `and` inside `or` keeps its parentheses: same tree, but readers need not know precedence.
            operand_level = _NOT if own == ops.OR else own + 1
            text = f" {expr.op} ".join(_expr(e, operand_level) for e in expr.operands)
            return _wrap(text, own, needed)
        case n.Not():
            # `not (a == b)`, never `not a == b`: same tree, but the bare form reads as `(not a) == b`.
            return _wrap(f"not {_expr(expr.operand, _UNARY)}", _NOT, needed)
        case n.Compare() | n.Membership():
            return _comparison(f"{_expr(expr.left, _SUM)} {expr.op} {_expr(expr.right, _SUM)}", needed)
        case n.Between():
            return _comparison(
                f"{_expr(expr.value, _SUM)} between {_expr(expr.low, _SUM)} and {_expr(expr.high, _SUM)}", needed
            )
        case n.Presence():
            return _comparison(f"{_expr(expr.target, _SUM)} is {'missing' if expr.missing else 'present'}", needed)
        case n.Arithmetic():
            own = ops.BY_SPELLING[expr.op].level
            text = f"{_expr(expr.left, own)} {expr.op} {_expr(expr.right, own + 1)}"
            return _wrap(text, own, needed)
        case n.Negate():
            operand = expr.operand
            inner = _expr(operand, _UNARY)
            if isinstance(operand, n.Literal) or inner.startswith("-"):
                # `-(-5)`: keep the parser from folding it into `5`. `inner` is already unwrapped here
                # (a wrapped text starts with `(`), so it is reused: formatting it again per level made
                # a run of n minus signs cost 2^n (20 of them took seconds; found by the fuzz test).
                inner = f"({inner})"
            return _wrap(f"-{inner}", _UNARY, needed)
        case n.Call():
            return f"{expr.name}({', '.join(_expr(arg, 0) for arg in expr.args)})"
        case n.Conditional():
            # Each part runs to a keyword (`then`, `else`) or to the end, so none needs parentheses;
            # the whole is looser than `or`, so anything but a whole value or argument wraps it.
            text = (
                f"if {_expr(expr.condition, _OR)} then {_expr(expr.then_value, _OR)} "
                f"else {_expr(expr.else_value, _CONDITIONAL)}"
            )
            return _wrap(text, _CONDITIONAL, needed)
        case _:
            assert_never(expr)


def _comparison(text: str, needed: int) -> str:
    """Comparisons do not chain (`a < b < c` is no expression), so one inside another is parenthesised."""
    return _wrap(text, _COMPARE, needed + 1 if needed == _COMPARE else needed)


def unparse_literal(lit: n.Literal) -> str:
    """The author's spelling when known (`10_000`), else the canonical literal."""
    if lit.raw is not None and lit.kind != "string":
        return lit.raw
    value = lit.value
    if lit.kind == "string":
        return quote_string(str(value))
    if lit.kind == "bool":
        return spell(bool(value))
    if lit.kind == "int":
        return str(int(value))
    if lit.kind == "number":
        return format_decimal(value)
    if lit.kind == "duration" and isinstance(value, Duration):
        return format_duration(value)
    if lit.kind == "datetime" and isinstance(value, datetime):
        return format_datetime(value)
    if lit.kind == "date" and isinstance(value, date):
        return value.isoformat()
    if lit.kind == "time" and isinstance(value, time):
        return format_time(value)
    return str(value)


def unparse_type(t: n.TypeExpr) -> str:
    match t:
        case n.SimpleType():
            return t.name
        case n.EnumType():
            return f"enum({', '.join(t.members)})"
        case n.SetType():
            return f"set[{unparse_type(t.element)}]"
        case _:
            assert_never(t)


def unparse_action(action: n.Action) -> str:
    match action:
        case n.FlagAction():
            return action.output if action.value else f"not {action.output}"
        case n.SetAction():
            return f"{action.output} = {unparse_expr(action.value)}"
        case n.AddAction():
            return f"{action.output} += {unparse_expr(action.value)}"
        case _:
            assert_never(action)


# --- layout with comments -------------------------------------------------------------------------


@dataclass
class _Slot:
    """Comments that belong before a printed line and at its end."""

    leading: list[str] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)


class _Comments:
    """Hands out each comment once, to the first printed line that claims it."""

    def __init__(self, comments: tuple[n.Comment, ...], text: str) -> None:
        self.items = sorted(comments, key=lambda cm: cm.span.start)
        self.starts = [cm.span.start for cm in self.items]
        self.used = [False] * len(self.items)
        self.text = text

    def own_line(self, comment: n.Comment) -> bool:
        line_start = self.text.rfind("\n", 0, comment.span.start) + 1
        return not self.text[line_start : comment.span.start].strip()

    def take(self, start: int, end: int) -> list[n.Comment]:
        """Unused comments with start offset in [start, end)."""
        taken = []
        index = bisect.bisect_left(self.starts, start)
        while index < len(self.items) and self.starts[index] < end:
            if not self.used[index]:
                self.used[index] = True
                taken.append(self.items[index])
            index += 1
        return taken

    def slot(self, start: int, end: int, line_end: int) -> _Slot:
        """Comments before a construct ([start, end) own-line ones) and at the end of its last line."""
        slot = _Slot()
        taken = self.take(start, line_end)
        for index, comment in enumerate(taken):
            if comment.span.start >= end and not self.own_line(comment):
                slot.trailing.append(comment.text)
            elif comment.span.start < end and self.own_line(comment):
                slot.leading.append(comment.text)
                # A blank line after a leading comment (a file header, a section title) is kept.
                following = taken[index + 1].span.start if index + 1 < len(taken) else end
                gap = self.text[comment.span.end : max(following, comment.span.end)]
                if following <= end and _has_blank_line(gap):
                    slot.leading.append("")
            else:
                slot.trailing.append(comment.text)
        return slot

    def rest_with_blank_lines(self) -> list[str]:
        """The comments no construct claimed (those after the last item), blank lines between them kept."""
        unused = [cm for cm, used in zip(self.items, self.used, strict=True) if not used]
        out: list[str] = []
        for index, comment in enumerate(unused):
            if index and _has_blank_line(self.text[unused[index - 1].span.end : comment.span.start]):
                out.append("")
            out.append(comment.text)
        return out


def _has_blank_line(gap: str) -> bool:
    lines = gap.split("\n")
    return any(not line.strip() for line in lines[1:-1])


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end == -1 else end


def _emit(lines: list[str], slot: _Slot, code: str, indent: str = "") -> None:
    for comment in slot.leading:
        lines.append(indent + comment if comment else "")
    trailing = slot.trailing
    if len(trailing) > 1:
        for comment in trailing[:-1]:
            lines.append(indent + comment)
        trailing = trailing[-1:]
    lines.append(indent + code + (f"  {trailing[0]}" if trailing else ""))


def format_tree(tree: n.PolicyFile, text: str = "") -> str:
    """Lay out a whole file canonically, putting each comment back beside the construct it was next to."""
    comments = _Comments(tree.comments, text)
    lines: list[str] = []
    position = 0
    previous: n.Declaration | n.Header | None = None
    entries: list[n.Header | n.Declaration] = ([tree.header] if tree.header else []) + list(tree.items)
    for item in entries:
        if previous is not None:
            if _blank_between(previous, item, text):
                lines.append("")
        elif lines:
            lines.append("")
        line_end = _line_end(text, item.span.end) if text else item.span.end
        _layout_item(item, lines, comments, position, line_end, text)
        position = line_end
        previous = item
    leftover = comments.rest_with_blank_lines()
    if leftover:
        if lines:
            lines.append("")
        lines.extend(leftover)
    return "\n".join(lines) + "\n" if lines else ""


def _blank_between(previous: n.Header | n.Declaration, item: n.Header | n.Declaration, text: str) -> bool:
    kinds = (type(previous), type(item))
    if isinstance(previous, n.Header):
        return True
    if kinds == (n.Import, n.Import):
        return False
    same_group = isinstance(previous, n.Segment | n.Let) and isinstance(item, n.Segment | n.Let)
    anonymous_rules = all(isinstance(x, n.Rule) and x.name is None for x in (previous, item))
    if same_group or anonymous_rules:
        if not text:
            return False
        gap = text[previous.span.end : item.span.start]
        # A blank line in the source (ignoring comment lines) is kept; none is added.
        stripped = [line for line in gap.split("\n")[1:-1] if not line.strip().startswith("#")]
        return any(not line.strip() for line in stripped)
    return True


def _layout_item(
    item: n.Header | n.Declaration, lines: list[str], comments: _Comments, position: int, line_end: int, text: str
) -> None:
    start = item.span.start
    match item:
        case n.Header():
            code = f"policy {item.name}" + (
                f" {quote_string(item.description)}" if item.description is not None else ""
            )
            _emit(lines, comments.slot(position, start, line_end), code)
        case n.Import():
            target = ".".join(item.module) if item.module else quote_string(item.path or "")
            code = f"import {target}" + (f" as {item.alias}" if item.alias else "")
            _emit(lines, comments.slot(position, start, line_end), code)
        case n.Segment():
            _emit(
                lines, comments.slot(position, start, line_end), f"segment {item.name} = {unparse_expr(item.condition)}"
            )
        case n.Let():
            _emit(lines, comments.slot(position, start, line_end), f"let {item.name} = {unparse_expr(item.value)}")
        case n.InputBlock() | n.OutputBlock():
            _layout_block(item, lines, comments, position, text)
        case n.Rule():
            _layout_rule(item, lines, comments, position, line_end, text)
        case _:
            assert_never(item)


def _layout_block(
    block: n.InputBlock | n.OutputBlock, lines: list[str], comments: _Comments, position: int, text: str
) -> None:
    keyword = "input" if isinstance(block, n.InputBlock) else "output"
    start = block.span.start
    brace_end = _line_end(text, start) if text else start
    first_field = block.fields[0].span.start if block.fields else block.span.end
    if not block.fields:
        closing_line_end = _line_end(text, block.span.end) if text else block.span.end
        inner_comments = [cm for cm in comments.items if start < cm.span.start < block.span.end]
        if not inner_comments:
            _emit(lines, comments.slot(position, start, closing_line_end), f"{keyword} {{}}")
            return
    opening = comments.slot(position, start, min(brace_end, first_field))
    if not block.fields:
        inner = comments.take(start, block.span.end)
        if not inner:
            _emit(lines, opening, f"{keyword} {{}}")
            return
        _emit(lines, opening, f"{keyword} {{")
        lines.extend(INDENT + cm.text for cm in inner)
        lines.append("}")
        return
    _emit(lines, opening, f"{keyword} {{")
    cursor = min(brace_end, first_field)
    rows: list[tuple[_Slot, n.InputDecl | n.OutputDecl]] = []
    for decl in block.fields:
        decl_line_end = _line_end(text, decl.span.end) if text else decl.span.end
        rows.append((comments.slot(cursor, decl.span.start, min(decl_line_end, block.span.end - 1)), decl))
        cursor = min(decl_line_end, block.span.end - 1)
    # Align `resolve` and trailing comments in columns, as gofmt aligns comments of adjacent lines.
    slots = [slot for slot, _decl in rows]
    decls = [decl for _slot, decl in rows]
    heads = [_unparse_field(decl, with_resolve=False) for decl in decls]
    resolve_col = max(
        (len(h) for h, d in zip(heads, decls, strict=True) if _resolve(d) and len(h) <= _ALIGN_LIMIT), default=0
    )
    codes: list[str] = []
    for head, decl in zip(heads, decls, strict=True):
        strategy = _resolve(decl)
        codes.append(f"{head.ljust(resolve_col)} resolve {strategy}" if strategy else head)
    commented = [len(code) for code, slot in zip(codes, slots, strict=True) if slot.trailing]
    comment_col = max((w for w in commented if w <= _ALIGN_LIMIT + 20), default=0)
    for code, slot in zip(codes, slots, strict=True):
        _emit(lines, slot, code.ljust(comment_col) if slot.trailing else code, INDENT)
    for comment in comments.take(cursor, block.span.end):
        lines.append(INDENT + comment.text)
    closing_end = _line_end(text, block.span.end) if text else block.span.end
    _emit(lines, comments.slot(block.span.end, block.span.end, closing_end), "}")


_ALIGN_LIMIT = 48
"""Columns are aligned only up to here; a longer line keeps a single space instead."""


def _resolve(decl: n.InputDecl | n.OutputDecl) -> str | None:
    return decl.resolve if isinstance(decl, n.OutputDecl) else None


def _unparse_field(decl: n.InputDecl | n.OutputDecl, with_resolve: bool = True) -> str:
    text = f"{decl.name}: {unparse_type(decl.type)}"
    if decl.optional:
        text += "?"
    if decl.default is not None:
        text += f" = {unparse_expr(decl.default)}"
    if with_resolve and isinstance(decl, n.OutputDecl) and decl.resolve is not None:
        text += f" resolve {decl.resolve}"
    return text


def _layout_rule(rule: n.Rule, lines: list[str], comments: _Comments, position: int, line_end: int, text: str) -> None:
    condition = unparse_expr(rule.condition)
    actions = ", ".join(unparse_action(a) for a in rule.actions)
    because = f"because {quote_string(rule.because)}" if rule.because is not None else None
    # Each printed line claims the comments of the source lines its code came from.
    cond = rule.condition.span
    actions_start = rule.actions[0].span.start if rule.actions else cond.end
    actions_end = rule.actions[-1].span.end if rule.actions else cond.end
    # A rule written over several lines with comments among them keeps the long form (stable: the
    # long form again spans several lines with the comment on one of them).
    multiline = rule.span.end_line > rule.span.line
    has_inner = (
        bool(text)
        and multiline
        and any(
            not used and rule.span.start < cm.span.start < line_end
            for cm, used in zip(comments.items, comments.used, strict=True)
        )
    )
    if rule.name is None:
        one_line = f"if {condition} then {actions}" + (f" {because}" if because else "")
        if len(one_line) <= MAX_LINE and not has_inner:
            _emit(lines, comments.slot(position, rule.span.start, line_end), one_line)
            return
        parts = [(f"if {condition}", "", rule.span.start, cond.end)]
    else:
        priority = f" priority {rule.priority}" if rule.priority is not None else ""
        parts = [
            (f"rule {rule.name}{priority}:", "", rule.span.start, rule.name_span.end),
            (f"if {condition}", INDENT, cond.start, cond.end),
        ]
    parts.append((f"then {actions}", INDENT, actions_start, actions_end))
    if because:
        parts.append((because, INDENT, _keyword_offset(text, "because", actions_end, rule.span.end), rule.span.end))
    cursor = position
    for index, (code, indent, code_start, code_end) in enumerate(parts):
        is_last = index == len(parts) - 1
        part_line_end = line_end if is_last else (_line_end(text, code_end) if text else code_end)
        if not is_last:
            part_line_end = max(min(part_line_end, parts[index + 1][2]), cursor)
        _emit(lines, comments.slot(cursor, code_start, part_line_end), code, indent)
        cursor = part_line_end


def _keyword_offset(text: str, keyword: str, start: int, end: int) -> int:
    """Where `keyword` first appears in text[start:end] outside comments (or `start` without text)."""
    if not text:
        return start
    pattern = re.compile(r"#[^\n]*|\b" + keyword + r"\b")
    for match in pattern.finditer(text, start, end):
        if not match.group(0).startswith("#"):
            return match.start()
    return start


# --- the public entry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatResult:
    """`text` is the formatted file, or None when the input has syntax errors or formatting would be unsound."""

    text: str | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.text is not None


def format_source(text: str, filename: str = "<policy>") -> FormatResult:
    """Format policy text canonically, keeping comments.

    Refuses, with diagnostics, when the text has syntax errors, or when the formatted text would not
    parse back to the same AST with the same comments (a formatter bug, reported as `internal-error`).
    """
    parsed = parse(text, filename)
    if not parsed.ok:
        return FormatResult(None, parsed.diagnostics)
    formatted = format_tree(parsed.tree, text)
    problem = soundness_problem(parsed.tree, formatted, filename)
    if problem is not None:
        return FormatResult(
            None,
            (
                error(
                    Code.INTERNAL_ERROR,
                    f"the formatter would change this file's meaning ({problem}), so it left it unchanged",
                    None,
                    hint="this is a bug in policylang; please report it with this file",
                ),
            ),
        )
    return FormatResult(formatted, ())


def soundness_problem(tree: n.PolicyFile, formatted: str, filename: str) -> str | None:
    """Why `formatted` is not a faithful rendering of `tree`, or None when it is."""
    again = parse(formatted, filename)
    if not again.ok:
        return "its output does not parse"
    if again.tree != tree:
        return "its output parses to a different policy"
    if _rule_ids(again.tree) != _rule_ids(tree):
        return "a rule's id would change"
    if Counter(c.text.rstrip() for c in again.tree.comments) != Counter(c.text.rstrip() for c in tree.comments):
        return "comments would be lost"
    return None


def _rule_ids(tree: n.PolicyFile) -> list[str]:
    return [item.id for item in tree.items if isinstance(item, n.Rule)]
