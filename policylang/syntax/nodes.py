"""The AST: frozen, syntax-only nodes with spans that equality ignores, so `parse(unparse(t)) == t` is testable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from ..core import operators
from ..core.pickling import pickle_slots_quickly
from ..core.source import Span

_NO_SPAN = Span("<generated>", 0, 0, 1, 1, 1, 1)


def _span() -> Any:
    return field(default=_NO_SPAN, compare=False, repr=False)


# --- types --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SimpleType:
    """`int`, `duration`, ... (validated by the checker, so an unknown type name is a diagnostic)."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumType:
    """`enum(a, b, c)`: the members in declaration order, which is their order for `<` and `resolve min`."""

    members: tuple[str, ...]
    span: Span = _span()
    member_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetType:
    """`set[T]`."""

    element: TypeExpr
    span: Span = _span()


TypeExpr = SimpleType | EnumType | SetType


# --- expressions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Name:
    """A name: a fact, output, segment, let, an enum member or a symbol; `parts` > 1 when qualified."""

    parts: tuple[str, ...]
    span: Span = _span()

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal:
    """A constant. `kind` keeps `true` and `1` apart; `raw` keeps the author's spelling for the formatter."""

    kind: str
    """One of int, number, string, bool, duration, date, datetime."""
    value: Any
    raw: str | None = field(default=None, compare=False, repr=False)
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class SetLiteral:
    """`{a, b, c}`."""

    elements: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Now:
    """`now`: the moment the decision is made at."""

    span: Span = _span()


COMPARE_OPS = operators.spellings("Compare")


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare:
    """`left op right` for a comparison operator (`==`, `<`, ...; core/operators.py)."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


MEMBERSHIP_OPS = operators.spellings("Membership")


@dataclass(frozen=True, slots=True, kw_only=True)
class Membership:
    """`x in {a, b}`, `x not in s`, `tags contains x`."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Between:
    """`x between low and high`, inclusive at both ends."""

    value: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Presence:
    """`x is missing` (missing=True) or `x is present`."""

    target: Expr
    missing: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class BoolOp:
    """`and` / `or` over two or more operands; chains of one operator are kept flat."""

    op: str
    operands: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    """`not operand`."""

    operand: Expr
    span: Span = _span()


ARITH_OPS = operators.spellings("Arithmetic")


@dataclass(frozen=True, slots=True, kw_only=True)
class Arithmetic:
    """`left op right` for `+`, `-`, `*`, `/`."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Negate:
    """`-operand` (a minus before a non-negative literal is folded into the literal by the parser)."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """`name(arg, ...)`: a call of a built-in function; which names exist is core/operators.FUNCTIONS,
    checked by the checker, so the parser accepts any name and `min` stays usable as a fact's name."""

    name: str
    args: tuple[Expr, ...]
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditional:
    """`if condition then then_value else else_value`: a value chosen by a condition (missing when
    the condition is unknown); it binds looser than `or`, so inside a comparison it is written in
    parentheses."""

    condition: Expr
    then_value: Expr
    else_value: Expr
    span: Span = _span()


Expr = (
    Name
    | Literal
    | SetLiteral
    | Now
    | Compare
    | Membership
    | Between
    | Presence
    | BoolOp
    | Not
    | Arithmetic
    | Negate
    | Call
    | Conditional
)


# --- actions ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagAction:
    """`flag` (value=True) or `not flag` (value=False) on a bool output."""

    output: str
    value: bool
    span: Span = _span()
    output_span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAction:
    """`name = expression`."""

    output: str
    value: Expr
    span: Span = _span()
    output_span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class AddAction:
    """`name += {x, y}` on a set output."""

    output: str
    value: Expr
    span: Span = _span()
    output_span: Span = _span()


Action = FlagAction | SetAction | AddAction


# --- declarations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """`policy name "description"` at the top of a file."""

    name: str
    description: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Import:
    """`import stdlib.segments` (module set) or `import "fraud.policy" as fraud` (path set)."""

    module: tuple[str, ...] | None = None
    path: str | None = None
    alias: str | None = None
    span: Span = _span()

    @property
    def target(self) -> str:
        return ".".join(self.module) if self.module else f'"{self.path}"'


@dataclass(frozen=True, slots=True, kw_only=True)
class InputDecl:
    """One fact in an `input` block: `name: type`, `?` if optional, `= default`."""

    name: str
    type: TypeExpr
    optional: bool = False
    default: Expr | None = None
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class InputBlock:
    """`input { ... }`: the facts a policy reads."""

    fields: tuple[InputDecl, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputDecl:
    """One output in an `output` block: `name: type`, `?` (optional: no value is a valid result),
    `= default`, `resolve strategy`."""

    name: str
    type: TypeExpr
    optional: bool = False
    default: Expr | None = None
    resolve: str | None = None
    span: Span = _span()
    name_span: Span = _span()
    resolve_span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputBlock:
    """`output { ... }`: the outputs a policy decides."""

    fields: tuple[OutputDecl, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """`segment name = condition`: a named bool that rules can read."""

    name: str
    condition: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Let:
    """`let name = expression`: a named derived value."""

    name: str
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A rule. `name` is None for the one-line anonymous form; `id` is its stable id (name, or `file#N`
    for the file's N-th anonymous rule).

    Layout never changes an id (`policy fmt` keeps them all); adding or removing an anonymous rule
    renumbers the ones after it, so equality ignores the id: name a rule to keep its id across edits.
    """

    name: str | None
    condition: Expr
    actions: tuple[Action, ...]
    priority: int | None = None
    because: str | None = None
    id: str = field(default="", compare=False)
    span: Span = _span()
    name_span: Span = _span()


Declaration = Import | InputBlock | OutputBlock | Segment | Let | Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment:
    """A `# ...` comment; kept beside the tree so that the formatter can put it back."""

    text: str
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyFile:
    """A whole file: its header and items in order; comments kept beside for the formatter."""

    header: Header | None
    items: tuple[Declaration, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
    span: Span = _span()


Node = PolicyFile | Header | Declaration | InputDecl | OutputDecl | Expr | Action | TypeExpr | Comment


def iter_children(node: Any) -> Iterator[Any]:
    """The child nodes of a node, in field order (tuples flattened, spans and plain values skipped)."""
    for f in fields(node):
        if f.name in ("span", "comments") or f.name.endswith("_span"):
            continue
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            for item in value:
                if hasattr(item, "__dataclass_fields__"):
                    yield item
        elif hasattr(value, "__dataclass_fields__") and not isinstance(value, Span):
            yield value


def walk(node: Any) -> Iterator[Any]:
    """Every node under `node`, itself included, depth first, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = list(iter_children(current))
        stack.extend(reversed(children))


pickle_slots_quickly(globals())
