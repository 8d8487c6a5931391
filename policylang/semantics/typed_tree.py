"""The checked policy: names resolved, types known, imports merged; what the compiler and analyser read.

Checked expressions are the checker's own objects (not AST nodes): every name is resolved to a fact,
an output, a derived value or a constant, and every expression carries its type. Each refers back
to its AST node for spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Never, NoReturn

from ..core.datatypes import Type
from ..core.diagnostics import Code
from ..core.errors import PolicylangError
from ..core.pickling import pickle_slots_quickly
from ..core.source import SourceFile, Span
from ..syntax import nodes as n
from ..syntax.formatter import unparse_expr


def _memo_hash(self: Any) -> int:
    """Checked expressions key the compiler's tables (shared atoms, the index); a tree's hash is
    computed once, not on every lookup (it was a sixth of compiling 10,000 rules)."""
    cached: int | None = self._hash
    if cached is None:
        cached = hash(tuple([getattr(self, name) for name in self._hashed]))
        object.__setattr__(self, "_hash", cached)
    return cached


@dataclass(frozen=True, slots=True)
class Const:
    """A literal, enum member, symbol or constant set."""

    child_fields: ClassVar[tuple[str, ...]] = ()
    value: Any
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FactRef:
    """A fact, by name: what a Name resolves to when it names an input."""

    child_fields: ClassVar[tuple[str, ...]] = ()
    name: str
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OutputRef:
    """An output, by name, read by a rule or let (its resolved value, or MISSING)."""

    child_fields: ClassVar[tuple[str, ...]] = ()
    name: str
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DerivedRef:
    """A segment or a let, by its policy-wide key (`key_customer`, or `segments.high_spend` if imported)."""

    child_fields: ClassVar[tuple[str, ...]] = ()
    key: str
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Now:
    """`now`: the moment the decision is made at."""

    child_fields: ClassVar[tuple[str, ...]] = ()
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """`left op right` for a comparison operator (core/operators.py)."""

    child_fields: ClassVar[tuple[str, ...]] = ("left", "right")
    op: str
    left: CheckedExpr
    right: CheckedExpr
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("op", "left", "right", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Membership:
    """`x in s`, `x not in s`, `s contains x`."""

    child_fields: ClassVar[tuple[str, ...]] = ("left", "right")
    op: str
    left: CheckedExpr
    right: CheckedExpr
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("op", "left", "right", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Between:
    """`value between low and high`, inclusive at both ends."""

    child_fields: ClassVar[tuple[str, ...]] = ("value", "low", "high")
    value: CheckedExpr
    low: CheckedExpr
    high: CheckedExpr
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("value", "low", "high", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Presence:
    """`target is missing` (missing=True) or `target is present`."""

    child_fields: ClassVar[tuple[str, ...]] = ("target",)
    target: CheckedExpr
    missing: bool
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("target", "missing", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class BoolOp:
    """`and` / `or` over two or more operands."""

    child_fields: ClassVar[tuple[str, ...]] = ("operands",)
    op: str
    operands: tuple[CheckedExpr, ...]
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("op", "operands", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Not:
    """`not operand` (three-valued: not unknown is unknown)."""

    child_fields: ClassVar[tuple[str, ...]] = ("operand",)
    operand: CheckedExpr
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("operand", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """`left op right` for `+`, `-`, `*`, `/`; `type` from datatypes.arithmetic_result."""

    child_fields: ClassVar[tuple[str, ...]] = ("left", "right")
    op: str
    left: CheckedExpr
    right: CheckedExpr
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("op", "left", "right", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Negate:
    """`-operand` for a number or duration."""

    child_fields: ClassVar[tuple[str, ...]] = ("operand",)
    operand: CheckedExpr
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("operand", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class SetLiteral:
    """A set literal whose elements are not all constants."""

    child_fields: ClassVar[tuple[str, ...]] = ("elements",)
    elements: tuple[CheckedExpr, ...]
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("elements", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Call:
    """`function(args...)`: a call of a built-in function (core/operators.FUNCTIONS[function]);
    `type` is what the function's type rule gave for the arguments' types."""

    child_fields: ClassVar[tuple[str, ...]] = ("args",)
    function: str
    args: tuple[CheckedExpr, ...]
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("function", "args", "type")
    __hash__ = _memo_hash


@dataclass(frozen=True, slots=True)
class Conditional:
    """`if condition then then_value else else_value`: MISSING (None for a bool) when the condition
    is unknown; only the branch the condition picks is evaluated. `type` joins the branches' types."""

    child_fields: ClassVar[tuple[str, ...]] = ("condition", "then_value", "else_value")
    condition: CheckedExpr
    then_value: CheckedExpr
    else_value: CheckedExpr
    type: Type
    node: n.Expr | None = field(default=None, compare=False, repr=False)
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    _hashed: ClassVar[tuple[str, ...]] = ("condition", "then_value", "else_value", "type")
    __hash__ = _memo_hash


CheckedExpr = (
    Const
    | FactRef
    | OutputRef
    | DerivedRef
    | Now
    | Compare
    | Membership
    | Between
    | Presence
    | BoolOp
    | Not
    | Arithmetic
    | Negate
    | SetLiteral
    | Call
    | Conditional
)


class UnhandledNode(PolicylangError, TypeError):
    """A visitor met a typed node class it does not handle: a bug in policylang (a class was added
    to this module without a case for it there), so an `internal-error`; raised by `unhandled`, the
    last case of every visitor, which tests/unit/test_visitors.py lists."""

    code = Code.INTERNAL_ERROR

    def __init__(self, node: object) -> None:
        super().__init__(f"no case for {type(node).__name__} here")


def unhandled(node: Never) -> NoReturn:
    """The last case of every visitor's `match` over a checked expression: mypy proves no class of
    CheckedExpr reaches it (a case missing is a type error), and at run time a class added to this
    module without a case there raises UnhandledNode instead of falling through silently."""
    raise UnhandledNode(node)


@dataclass(frozen=True, slots=True)
class Fact:
    """A declared (or, schema-less, inferred) fact: its type, whether it may be missing, its default."""

    name: str
    type: Type
    optional: bool
    default: Any = None
    has_default: bool = False
    span: Span | None = None
    declared: bool = True


@dataclass(frozen=True, slots=True)
class Output:
    """A declared (or inferred) output: its type, resolution strategy and default; `optional` when
    no value is a valid result (`note: string?`), so that no analysis reports a gap in it."""

    name: str
    type: Type
    resolution: str
    default: Any = None
    has_default: bool = False
    span: Span | None = None
    declared: bool = True
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Derived:
    """A segment (bool) or let (any type), with the keys of the other derived values it reads."""

    key: str
    kind: str
    type: Type
    expr: CheckedExpr
    module: str
    span: Span


@dataclass(frozen=True, slots=True)
class Assignment:
    """One action: `op` is "set" (`=`, flags) or "add" (`+=`)."""

    output: str
    op: str
    value: CheckedExpr
    span: Span


@dataclass(frozen=True, slots=True)
class CheckedRule:
    id: str
    name: str | None
    module: str
    order: int
    priority: int
    condition: CheckedExpr
    actions: tuple[Assignment, ...]
    because: str | None
    span: Span
    node: n.Rule = field(compare=False, repr=False)
    legacy_id: str = field(default="", compare=False)
    """An anonymous rule's line-based id in policylang 0.1 (`support:12`); "" for a named rule."""


@dataclass(frozen=True)
class CheckedPolicy:
    """A whole policy with its imports merged. `derived` is in dependency order (each after what it reads)."""

    name: str
    description: str | None
    root: str
    sources: dict[str, SourceFile]
    facts: dict[str, Fact]
    outputs: dict[str, Output]
    derived: dict[str, Derived]
    rules: tuple[CheckedRule, ...]
    facts_declared: bool
    outputs_declared: bool
    content_hash: str
    snapshot: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The files as loaded (modules.Snapshot): what a decision log stores to replay the policy."""


def children(node: Any) -> list[Any]:
    """The sub-expressions of a checked expression, in field order, read from its class's
    `child_fields`: the one place that knows where each node keeps its children."""
    found: list[Any] = []
    for name in node.child_fields:
        value = getattr(node, name)
        if isinstance(value, tuple):
            found.extend(value)
        else:
            found.append(value)
    return found


def text_of(expr: CheckedExpr) -> str:
    """An expression as the language writes it: its syntax node through formatter.unparse_expr (the
    one expression printer), a derived value by its key, and the class name for a node the compiler
    made up (the index's flipped comparisons)."""
    if expr.node is not None:
        return unparse_expr(expr.node)
    if isinstance(expr, DerivedRef):
        return expr.key
    return type(expr).__name__


def policy_expressions(policy: CheckedPolicy) -> list[Any]:
    """Every top-level expression of a policy: derived values, rule conditions, action values."""
    found: list[Any] = [d.expr for d in policy.derived.values()]
    for rule in policy.rules:
        found.append(rule.condition)
        found.extend(action.value for action in rule.actions)
    return found


def walk(roots: list[Any]) -> Any:
    """Every node under the given expressions, depth first, without recursion."""
    stack = list(roots)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


def legacy_rule_ids(policy: CheckedPolicy) -> dict[str, str]:
    """For every anonymous rule, the line-based id policylang 0.1 gave it (`support:12`) -> its id now
    (`support#3`): what a decision recorded then, or a test file written then, calls the rule."""
    return {rule.legacy_id: rule.id for rule in policy.rules if rule.legacy_id}


pickle_slots_quickly(globals())
