"""Each fact's values, cut into the few classes that no condition of the policy can tell apart.

A condition in the analysable fragment compares one fact with constants (`tenure > 2y`,
`tier in {premium, key}`, `spend between 100 and 500`, `vip`, `grace is missing`). Such a
condition gives the same answer for every value between two neighbouring constants, so a fact
compared with the constants c1 < c2 < ... < ck needs only one value per point and per open
interval: below c1, c1, between c1 and c2, c2, ..., above ck. Enums need their members, strings
each constant and one other string, bools both, sets every combination of the elements tested,
optional facts also "missing". Trying every combination of these representatives over the facts
some rules read is then exhaustive for those rules: what holds for the representatives holds for
all facts.

A value computed from one fact by adding and multiplying constants (`monthly_spend * 12`,
`tenure + 1y`, through lets) is `affine` in that fact: compared with a constant, it splits the
fact where the two are equal, and that point joins the fact's constants. Anything else outside the
fragment (arithmetic over two facts, two facts compared with each other, `now`) is listed as a
reason the analysis is incomplete for the rules that use it.
"""

from __future__ import annotations

import dataclasses
import decimal
import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..core import operators as ops
from ..core.datatypes import BOOL, DATE, DATETIME, DURATION, INT, NUMBER, STRING, TIME, UNKNOWN, EnumOf, SetOf, Type
from ..core.values import MISSING, Duration
from ..engine.runtime import ARITHMETIC
from ..semantics import typed_tree as c

MAX_SET_ELEMENTS = 8
"""A set fact tested for more elements than this is sampled, not enumerated (2^8 = 256 combinations)."""


@dataclass
class Reads:
    """What an expression reads: facts, outputs and derived values, and why it is outside the fragment."""

    facts: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    derived: set[str] = field(default_factory=set)
    outside: list[str] = field(default_factory=list)


def _analysed() -> dict[type, frozenset[str] | None]:
    """The expression kinds the analysis knows, from the operator table (core/operators.py): every
    node kind an operator the table does not declare OPAQUE is written with, and for kinds with an
    `op`, those operators; plus the kinds that are no operator (constants, references, `now`,
    sets built from values, calls: each function by the table, `opaque_call`)."""
    table: dict[type, frozenset[str] | None] = dict.fromkeys(
        (c.Const, c.FactRef, c.OutputRef, c.DerivedRef, c.Now, c.SetLiteral, c.Call)
    )
    spellings: dict[type, set[str]] = {}
    for operator in ops.OPERATORS:
        if operator.analysis is not ops.Analysis.OPAQUE:
            spellings.setdefault(getattr(c, operator.node), set()).add(operator.spelling)
    for kind, spelled in spellings.items():
        has_op = any(f.name == "op" for f in dataclasses.fields(kind))
        table[kind] = frozenset(spelled) if has_op else None
    return table


ANALYSED = _analysed()
"""The expression kinds the analysis knows, and of those with an operator, the operators: each is
either in the fragment or a known reason to leave it (`reads`). Anything else is opaque (see
`opaque`): an operator the table declares OPAQUE, or a node kind or operator added without its
meaning for the analysis, makes the analysis incomplete for what reads it, never silently exact."""


def opaque(node: Any) -> str | None:
    """Why the analysis cannot follow this node at all (a node kind or operator it does not
    know), or None when it can. The one place the analysis decides what it understands: `reads`
    and the region builder (regions.py) fail closed on whatever this names, so an operator added
    to the language is `analysis-incomplete` until its analysis is declared here."""
    kind = type(node)
    if kind is c.Call:
        return opaque_call(node)
    if kind not in ANALYSED:
        written = next(
            (op.spelling for op in ops.OPERATORS if op.node == kind.__name__ and op.analysis is ops.Analysis.OPAQUE),
            None,
        )
        if written is not None:  # an operator the table declares OPAQUE (`if then else`)
            return f"it uses `{written}`, which the analysis does not look inside"
        return f"the analysis does not know `{kind.__name__}`"
    operators = ANALYSED[kind]
    if operators is not None and getattr(node, "op", None) not in operators:
        return f"the analysis does not know the operator `{getattr(node, 'op', '?')}`"
    return None


def reads(expr: c.CheckedExpr) -> Reads:
    """The facts, outputs and derived values an expression reads, and whatever takes it outside the fragment."""
    found = Reads()
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if (unknown := opaque(node)) is not None:
            found.outside.append(unknown)
            stack.extend(c.children(node))
            continue
        match node:
            case c.FactRef():
                found.facts.add(node.name)
            case c.OutputRef():
                found.outputs.add(node.name)
            case c.DerivedRef():
                found.derived.add(node.key)
            case c.Now():
                found.outside.append("it reads `now`")
            case c.Arithmetic() | c.Negate():
                found.outside.append("it computes (arithmetic)")
                stack.extend(c.children(node))
            case c.Compare() | c.Membership():
                if not (_is_const(node.left) or _is_const(node.right)):
                    found.outside.append("it compares two values that are not constants")
                stack.extend((node.left, node.right))
            case c.Between():
                if not (_is_const(node.low) and _is_const(node.high)):
                    found.outside.append("`between` has a bound that is not a constant")
                stack.extend((node.value, node.low, node.high))
            case c.SetLiteral():
                found.outside.append("a set is built from values that are not constants")
                stack.extend(node.elements)
            case c.Const():
                pass
            case c.Presence() | c.Not() | c.BoolOp() | c.Call():  # (a call opaque_call finds exact)
                stack.extend(c.children(node))
            case c.Conditional():
                found.outside.append("it chooses a value with `if then else`")  # (opaque() takes it first)
                stack.extend(c.children(node))
            case _:  # (a kind ANALYSED lists but nothing here handles: a bug)
                raise c.UnhandledNode(node)
        if getattr(node, "type", None) == UNKNOWN:
            found.outside.append("a fact's type is not declared")
    found.outside = list(dict.fromkeys(found.outside))
    return found


def opaque_call(call: c.Call) -> str | None:
    """Why a call takes what reads it outside the fragment (its function is declared OPAQUE in
    core/operators.py, or unknown), or None when the analysis decides it exactly. The one place the
    analysis asks the operator table about a function: regions.py reads this too."""
    function = ops.FUNCTIONS.get(call.function)
    if function is None or function.analysis is not ops.Analysis.EXACT:
        return f"it calls `{call.function}`, which the analysis does not look inside"
    return None


def _is_const(expr: c.CheckedExpr) -> bool:
    return isinstance(expr, c.Const)


def constants_by_fact(policy: c.CheckedPolicy) -> dict[str, list[Any]]:
    """Every constant each fact is compared with, anywhere in the policy (including output defaults
    and values, which rules reading outputs compare against). A value computed from one fact by
    adding and multiplying constants (`monthly_spend * 0.9 >= 100`) is compared with a constant
    as that fact is with the value where they are equal (about 111.11)."""
    found: dict[str, list[Any]] = {name: [] for name in policy.facts}
    stack: list[Any] = [d.expr for d in policy.derived.values()] + [r.condition for r in policy.rules]
    lets = affine_lets(policy)
    computed: dict[str, list[c.CheckedExpr]] = {}
    """output -> the values rules compute for it (`value = response_time`)"""
    proposed: dict[str, list[Any]] = {}
    """output -> its default and the constants rules set it to"""
    for name, output in policy.outputs.items():
        proposed[name] = [output.default] if output.has_default else []
    for rule in policy.rules:
        for action in rule.actions:
            if isinstance(action.value, c.Const):
                proposed[action.output].append(action.value.value)
            else:
                computed.setdefault(action.output, []).append(action.value)
    following: set[str] = set()
    """The outputs being followed into the values computed for them (an output set from another is
    followed once: never round a cycle)."""

    def compared(side: c.CheckedExpr, value: Any) -> None:
        while isinstance(side, c.DerivedRef) and policy.derived[side.key].kind == "let":
            side = policy.derived[side.key].expr  # `let r = region`: r is compared as region is
        if isinstance(side, c.OutputRef) and side.name not in following:
            # An output computed from a fact (`value = response_time`) compared with 200 splits
            # that fact at 200 too, so that enumerating its classes reaches `value > 200`.
            following.add(side.name)
            for expr in computed.get(side.name, []):
                compared(expr, value)
            following.discard(side.name)
            return
        values = list(value) if isinstance(value, frozenset) else [value]
        if isinstance(side, c.FactRef):
            found[side.name].extend(values)
            if isinstance(side.type, SetOf) and isinstance(value, frozenset):
                found[side.name].append(WHOLE_SET)
        elif (form := affine(side, policy, lets)) is not None:
            found[form.fact].extend(t for t in map(form.solve, values) if t is not None)

    def constant(expr: c.CheckedExpr) -> c.Const | None:
        """The constant an expression is, through lets that name one (`let limit = 5`)."""
        while isinstance(expr, c.DerivedRef) and policy.derived[expr.key].kind == "let":
            expr = policy.derived[expr.key].expr
        return expr if isinstance(expr, c.Const) else None

    for name, exprs in computed.items():  # a computed value equal to another rule's, or not
        for expr in exprs:
            for value in proposed[name]:
                compared(expr, value)
    while stack:
        node = stack.pop()
        if isinstance(node, c.Compare | c.Membership):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                if (known := constant(other)) is not None:
                    compared(side, known.value)
        elif isinstance(node, c.Between):
            for bound in (node.low, node.high):
                if (known := constant(bound)) is not None:
                    compared(node.value, known.value)
        stack.extend(c.children(node))
    return found


@dataclass(frozen=True)
class Affine:
    """A value computed from one fact as `scale * fact + offset` (for a duration, in seconds),
    with exact fractions, so that `spend / 3 >= 2` splits `spend` at exactly 6."""

    fact: str
    type: Type
    scale: Fraction
    offset: Fraction

    def solve(self, value: Any) -> Any:
        """The fact's value at which the computed value equals `value` (None if there is none)."""
        if self.type == DURATION:
            if not isinstance(value, Duration):
                return None
            return Duration(0, int((value.total_seconds - self.offset) / self.scale))
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return None
        return _decimal((Fraction(value) - self.offset) / self.scale)


def _decimal(value: Fraction) -> Decimal:
    """A fraction as a decimal: exact when it has a finite expansion, else to the 60 digits
    decisions compute with."""
    with decimal.localcontext(ARITHMETIC):
        return Decimal(value.numerator) / Decimal(value.denominator)


def affine(expr: c.CheckedExpr, policy: c.CheckedPolicy, lets: dict[str, Affine | None] | None = None) -> Affine | None:
    """`expr` as `scale * fact + offset` over one int, number or duration fact (lets followed), or
    None. Durations are only shifted (`tenure + 1y`): scaling one rounds to whole seconds.

    `lets` (from `affine_lets`) holds each let's answer, worked out once: without it a let is
    followed into its definition each time it is read, which is exponential for lets that read
    the one before twice (`let b = a + a`)."""
    if opaque(expr) is not None:
        return None  # a kind or operator the analysis does not know is not affine (it fails closed)
    match expr:
        case c.FactRef() if expr.type in (INT, NUMBER, DURATION):
            return Affine(expr.name, expr.type, Fraction(1), Fraction(0))
        case c.DerivedRef():
            if lets is not None and expr.key in lets:
                return lets[expr.key]
            derived = policy.derived[expr.key]
            return affine(derived.expr, policy, lets) if derived.kind == "let" else None
        case c.Negate():
            inner = affine(expr.operand, policy, lets)
            return None if inner is None else Affine(inner.fact, inner.type, -inner.scale, -inner.offset)
        case c.Arithmetic():
            left, right = affine(expr.left, policy, lets), affine(expr.right, policy, lets)
            if (left is None) == (right is None):
                return None  # constants only, or two computed values
            form = left if left is not None else right
            constant = expr.right if left is not None else expr.left
            if form is None or not isinstance(constant, c.Const):
                return None
            k = constant.value
            if form.type == DURATION:
                if expr.op not in "+-" or not isinstance(k, Duration):
                    return None
                k = Fraction(k.total_seconds)
            elif isinstance(k, bool) or not isinstance(k, int | Decimal):
                return None
            k = Fraction(k)
            if expr.op == "+":
                return Affine(form.fact, form.type, form.scale, form.offset + k)
            if expr.op == "-" and left is not None:
                return Affine(form.fact, form.type, form.scale, form.offset - k)
            if expr.op == "-":
                return Affine(form.fact, form.type, -form.scale, k - form.offset)
            if expr.op == "*" and k != 0:
                return Affine(form.fact, form.type, form.scale * k, form.offset * k)
            if expr.op == "/" and left is not None and k != 0:
                return Affine(form.fact, form.type, form.scale / k, form.offset / k)
            return None
        case (
            c.Const()
            | c.FactRef()
            | c.OutputRef()
            | c.Now()
            | c.Compare()
            | c.Membership()
            | c.Between()
            | c.Presence()
            | c.BoolOp()
            | c.Not()
            | c.SetLiteral()
            | c.Call()
            | c.Conditional()
        ):
            # Not a number or duration computed from one fact by adding and scaling (a constant
            # alone is not one either: it has no fact), or a fact of another type.
            return None
        case _:
            c.unhandled(expr)


def affine_lets(policy: c.CheckedPolicy) -> dict[str, Affine | None]:
    """Every let's affine form (or None), each worked out once, in dependency order: a let reads
    only lets already worked out, so the work is linear in the policy and never recurses down a
    chain of lets."""
    lets: dict[str, Affine | None] = {}
    for key, derived in policy.derived.items():  # (in dependency order)
        lets[key] = affine(derived.expr, policy, lets) if derived.kind == "let" else None
    return lets


def facts_in_arithmetic(policy: c.CheckedPolicy) -> set[str]:
    """Facts that some calculation reads: their classes are not known, so they get spread-out values."""
    found: set[str] = set()
    # Each node once, knowing whether a calculation is above it (not a walk under every
    # calculation, which is quadratic in a long sum).
    stack: list[tuple[Any, bool]] = [(expr, False) for expr in c.policy_expressions(policy)]
    while stack:
        node, computed = stack.pop()
        computed = computed or _calculates(node)
        if computed and isinstance(node, c.FactRef):
            found.add(node.name)
        stack.extend((child, computed) for child in c.children(node))
    return found


def _calculates(node: c.CheckedExpr) -> bool:
    """Whether the node computes a new value from its operands (so the classes of the facts under
    it are not the constants they are compared with)."""
    if opaque(node) is not None:
        return True  # a kind or operator the analysis does not know may compute anything (it fails closed)
    match node:
        case c.Arithmetic() | c.Negate() | c.Call() | c.Conditional():
            return True
        case (
            c.Const()
            | c.FactRef()
            | c.OutputRef()
            | c.DerivedRef()
            | c.Now()
            | c.Compare()
            | c.Membership()
            | c.Between()
            | c.Presence()
            | c.BoolOp()
            | c.Not()
            | c.SetLiteral()
        ):
            # A value read as it is, a test of values, or a set of them: the facts keep their classes.
            return False
        case _:
            c.unhandled(node)


_SPREAD: dict[Type, list[Any]] = {
    INT: [-1, 1, *(10**k for k in range(1, 10))],
    NUMBER: [Decimal(-1), Decimal("0.5"), *(Decimal(10) ** k for k in range(0, 10))],
    DURATION: [Duration(0, s) for s in (3_600, 86_400, 30 * 86_400, 365 * 86_400, 3_650 * 86_400)],
}
"""Values of very different sizes, tried (not proven) for facts that conditions compute with."""


def representatives(fact: c.Fact, constants: list[Any], computed: bool = False) -> tuple[list[Any], bool]:
    """One value for each class of the fact's values, and whether they cover the classes exactly.
    A fact that conditions compute with (`computed`) also gets values of very different sizes: the
    analysis is then incomplete anyway, but more likely to find what it can prove."""
    values, exact = _values_of(fact.type, constants)
    if computed:
        values += [v for v in _SPREAD.get(fact.type, []) if v not in values]
    if fact.optional and not fact.has_default:
        values.append(MISSING)
    return values, exact


_PLAIN: dict[Type, Any] = {
    INT: 0,
    NUMBER: Decimal(0),
    DURATION: Duration(0, 30 * 86_400),
    DATE: date(2026, 1, 1),
    DATETIME: datetime(2026, 1, 1, tzinfo=UTC),
    TIME: time(12, 0),
}
"""The one value a fact of an ordered type needs when no condition compares it with a constant."""


WHOLE_SET = object()
"""Among a set fact's constants: it is compared with a whole set (`tags == {x}`), so an element
no condition names matters too (`{x, other}` is not `{x}`)."""


def _values_of(t: Type, constants: list[Any]) -> tuple[list[Any], bool]:
    if t in _PLAIN and not constants:
        return [_PLAIN[t]], True
    if t == BOOL:
        return [False, True], True
    if isinstance(t, EnumOf):
        return list(t.members), True
    if t == STRING:
        strings = sorted({v for v in constants if isinstance(v, str)})
        other = "other"
        while other in strings:
            other += "_"
        return [*strings, other], True
    if t == INT:
        # A fractional constant splits the whole numbers between its floor and its ceiling.
        whole = [v for v in constants if isinstance(v, int | Decimal) and not isinstance(v, bool)]
        integers = sorted({math.floor(v) for v in whole} | {math.ceil(v) for v in whole})
        return _ordered(integers or [0], lambda a: a - 1, lambda a: a + 1, lambda a, b: a + 1), True
    if t == NUMBER:
        numbers = sorted({Decimal(v) for v in constants if isinstance(v, int | Decimal) and not isinstance(v, bool)})
        return _ordered(numbers or [Decimal(0)], lambda a: a - 1, lambda a: a + 1, lambda a, b: (a + b) / 2), True
    if t == DURATION:
        # The constants themselves (as written: 2y, not 63113904s), and round values between them.
        by_length: dict[int, Duration] = {}
        for v in constants:
            if isinstance(v, Duration):
                by_length.setdefault(v.total_seconds, v)
        lengths = [by_length[k] for k in sorted(by_length)] or [Duration(0, 0)]
        return _ordered(lengths, _shorter, _longer, _duration_between), True
    if t == DATE:
        days = {v for v in constants if isinstance(v, date) and not isinstance(v, datetime)}
        # A date compared with a moment: the day of the moment and the day after split it.
        for moment in (_aware(v) for v in constants if isinstance(v, datetime)):
            days.add(moment.date())
            if (after := _next_day(moment.date())) is not None:
                days.add(after)
        ordered_days = sorted(days)
        return (
            _ordered(ordered_days or [date(2026, 1, 1)], _previous_day, _next_day, lambda a, b: a + _DAY),
            True,
        )
    if t == DATETIME:
        moments = sorted({_aware(v) for v in constants if isinstance(v, date)})
        start = [datetime(2026, 1, 1, tzinfo=UTC)]
        # Between two moments: halfway (they may be less than a second apart).
        return _ordered(moments or start, _earlier, _later, lambda a, b: a + (b - a) / 2), True
    if t == TIME:
        # Times of day, to the second: a class on each side of each constant and one between
        # neighbours (so `between 22:00 and 06:00`, which crosses midnight, is decided class by class).
        times = sorted({v for v in constants if isinstance(v, time)})
        return _ordered(times or [time(12, 0)], _second_before, _second_after, _time_between), True
    if isinstance(t, SetOf):
        elements = sorted({v for v in constants if not isinstance(v, frozenset) and v is not WHOLE_SET}, key=repr)
        if any(v is WHOLE_SET for v in constants):
            elements += _another(t.element, elements)
        if len(elements) > MAX_SET_ELEMENTS:
            chosen = [frozenset(), frozenset(elements)] + [frozenset([e]) for e in elements]
            return chosen, False
        subsets = [
            frozenset(combo) for size in range(len(elements) + 1) for combo in itertools.combinations(elements, size)
        ]
        return subsets, True
    return [None], False  # not declared: nothing to enumerate


_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
_EPOCH = date(2026, 1, 1)
_FIRST_MOMENT = datetime.min.replace(tzinfo=UTC)
_LAST_MOMENT = datetime.max.replace(tzinfo=UTC)


# Dates and moments exist only in the years 1 to 9999: at either end there is no class beyond a
# constant (`x > 9999-12-31` can never hold), so these give None there instead of overflowing.


def _previous_day(day: date) -> date | None:
    return None if day == date.min else day - _DAY


def _next_day(day: date) -> date | None:
    return None if day == date.max else day + _DAY


def _earlier(moment: datetime) -> datetime | None:
    """A second before, or the first moment there is when that is less than a second before."""
    if moment <= _FIRST_MOMENT:
        return None
    return moment - _SECOND if moment - _FIRST_MOMENT >= _SECOND else _FIRST_MOMENT


def _later(moment: datetime) -> datetime | None:
    """A second after, or the last moment there is (9999-12-31T23:59:59.999999Z) when that is nearer."""
    if moment >= _LAST_MOMENT:
        return None
    return moment + _SECOND if _LAST_MOMENT - moment >= _SECOND else _LAST_MOMENT


def _seconds_of(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _clock(seconds: int) -> time:
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _second_before(value: time) -> time | None:
    """A second earlier; none before 00:00 (a day's clock starts there)."""
    seconds = _seconds_of(value)
    return None if seconds == 0 else _clock(seconds - 1)


def _second_after(value: time) -> time | None:
    """A second later; none after 23:59:59."""
    seconds = _seconds_of(value)
    return None if seconds >= 86_399 else _clock(seconds + 1)


def _time_between(a: time, b: time) -> time:
    return _clock((_seconds_of(a) + _seconds_of(b)) // 2)


def _another(t: Type, taken: list[Any]) -> list[Any]:
    """One element of type t that no condition names (none when every value is named)."""
    if isinstance(t, EnumOf):
        return [m for m in t.members if m not in taken][:1]
    if t == STRING:
        other = "other"
        while other in taken:
            other += "_"
        return [other]
    if t == BOOL:
        return [b for b in (False, True) if b not in taken][:1]
    if t in (INT, NUMBER):
        return [max([v for v in taken if isinstance(v, int | Decimal)], default=0) + 1]
    if t == DURATION:
        return [Duration(0, max([v.total_seconds for v in taken if isinstance(v, Duration)], default=0) + 1)]
    if t == DATE:
        days = [v for v in taken if isinstance(v, date) and not isinstance(v, datetime)]
        return _unnamed(days, max(days, default=_EPOCH), _next_day, _previous_day)
    if t == DATETIME:
        moments = [_aware(v) for v in taken if isinstance(v, date)]
        return _unnamed(moments, max(moments, default=datetime(2026, 1, 1, tzinfo=UTC)), _later, _earlier)
    if t == TIME:
        times = [v for v in taken if isinstance(v, time)]
        if not times:
            return [time(12, 0)]
        return _unnamed(times, max(times), _second_after, _second_before)
    return []


def _unnamed(taken: list[Any], last: Any, after: Any, before: Any) -> list[Any]:
    """A date or moment after the last one named, or (at the end of the calendar) before the first
    that is not named."""
    candidate = after(last)
    if candidate is None:
        candidate = before(min(taken))
    return [] if candidate is None else [candidate]


def _aware(value: date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _ordered(points: list[Any], below: Any, above: Any, between: Any) -> list[Any]:
    """The points, one value below the first, one above the last, and one strictly between each
    neighbouring pair where there is room (for whole numbers, days and seconds there may be none;
    below the year 1 and above 9999 there is none: `below` and `above` then give None)."""
    values = [below(points[0])]
    for a, b in itertools.pairwise(points):
        values.append(a)
        middle = between(a, b)
        if a < middle < b:
            values.append(middle)
    values.append(points[-1])
    values.append(above(points[-1]))
    return [v for v in values if v is not None]  # none below the first date there is, nor above the last


_UNITS = (86_400, 3_600, 60, 1)
"""Representatives are whole days where there is room, else hours, minutes, seconds: witnesses read well."""


def _duration_between(a: Duration, b: Duration) -> Duration:
    for unit in _UNITS:
        candidate = (a.total_seconds // unit + 1) * unit
        if candidate < b.total_seconds:
            return Duration(0, candidate)
    return a  # no whole second between them: no class to represent


def _shorter(a: Duration) -> Duration:
    for unit in _UNITS:
        candidate = ((a.total_seconds - 1) // unit) * unit
        if 0 <= candidate < a.total_seconds:
            return Duration(0, candidate)
    return Duration(0, a.total_seconds - 1)


def _longer(a: Duration) -> Duration:
    return Duration(0, (a.total_seconds // _UNITS[0] + 1) * _UNITS[0])
