"""The values why-not tries for a fact, and what "nearest" means.

Two sources, both asked of the operator table (core/operators.py, `Proposal`):

- **Classes.** A fact compared with constants has the classes the static analysis uses
  (analysis/fact_domains.py): no such comparison tells two values of one class apart, so one
  value per class is every value there is for those comparisons.
- **Proposals.** A fact compared with another fact or with a computed value has no such classes:
  what matters is where it meets the other side, which moves as the change being tried moves the
  other facts. Each such comparison proposes, on the values of the change being tried, the other
  side's value solved for the fact through arithmetic and functions, with its neighbours in the
  fact's order (`a < b` with `b = 4`: 3, 4, 5), or the members of a set (`role in allowed`), or a
  set with the element added or removed (`teams contains editor`).

What depends only on the policy is worked out once per policy (why_not_reading.py).
"""

from __future__ import annotations

import decimal
import itertools
import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..core import operators as ops
from ..core.datatypes import BOOL, DATE, DATETIME, DURATION, INT, NUMBER, STRING, EnumOf, SetOf
from ..core.values import MISSING, Duration
from ..engine.codegen import CodeGen, Names
from ..engine.runtime import ARITHMETIC, EvaluationError, bool3, helpers
from ..semantics import typed_tree as c
from .why_not_reading import Evaluate, Reading, Relation, facts_in

# --- proposals: where a fact meets the other side ----------------------------------------------


def proposed(read: Reading, name: str, values: dict[str, Any]) -> list[Any]:
    """The values the fact's comparisons with other facts or computed values point to, on the
    facts of the change being tried (`values`), each with its neighbours in the fact's order."""
    fact = read.checked.facts[name]
    found: list[Any] = []
    for relation in read.relations[name]:
        for target in _targets(read, relation, name, values):
            found.extend(_around(target, fact.type))
    return [v for v in found if _fits(v, fact.type)]


def _targets(read: Reading, relation: Relation, name: str, values: dict[str, Any]) -> list[Any]:
    node = relation.node
    found: list[Any] = []
    try:
        if isinstance(node, c.Between):
            if name in facts_in(read, node.value):
                for bound in (node.low, node.high):
                    found += _solve(read, node.value, name, _side(read, relation, bound, values), values)
            for bound in (node.low, node.high):
                if name in facts_in(read, bound):
                    found += _solve(read, bound, name, _side(read, relation, node.value, values), values)
            return found
        assert isinstance(node, c.Compare | c.Membership)
        left, right = node.left, node.right
        if isinstance(node, c.Membership) and node.op == "contains":
            left, right = right, left  # (element, set)
        if isinstance(node, c.Membership):
            if isinstance(right, c.FactRef) and right.name == name:  # the set: the element joins it, or leaves
                element, members = _side(read, relation, left, values), values.get(name, MISSING)
                members = frozenset(members) if isinstance(members, frozenset | set) else frozenset()
                if element is not MISSING:
                    return [members | {element}, members - {element}]
                return []
            if name in facts_in(read, left):  # the element: each member of the set
                members = _side(read, relation, right, values)
                for member in sorted(members, key=repr) if isinstance(members, frozenset | set) else ():
                    found += _solve(read, left, name, member, values)
            return found
        for mine, other in ((left, right), (right, left)):
            if name in facts_in(read, mine) and name not in facts_in(read, other):
                found += _solve(read, mine, name, _side(read, relation, other, values), values)
    except (TypeError, ValueError, ArithmeticError, AttributeError, NameError, KeyError):
        return found  # a side that cannot be computed on these facts proposes nothing
    return found


def _solve(read: Reading, expr: c.CheckedExpr, name: str, target: Any, values: dict[str, Any]) -> list[Any]:
    """The fact's values at which `expr` (which reads it) is `target`, the other facts as in
    `values`: through each operator and function as its table entry (`Proposal`) says."""
    if target is MISSING or target is None:
        return []
    match expr:
        case c.FactRef():
            return [target] if expr.name == name else []
        case c.DerivedRef():
            derived = read.checked.derived[expr.key]
            return _solve(read, derived.expr, name, target, values) if derived.kind == "let" else []
        case c.Negate():
            return _solve(read, expr.operand, name, -target, values)
        case c.Arithmetic():
            mine_left = name in facts_in(read, expr.left)
            if mine_left == (name in facts_in(read, expr.right)):
                return []  # the fact on both sides: no single value to solve for
            mine, other = (expr.left, expr.right) if mine_left else (expr.right, expr.left)
            known = _evaluate(read, other, values)
            if known is MISSING:
                return []
            with decimal.localcontext(ARITHMETIC):
                if expr.op == "+":
                    goal = target - known
                elif expr.op == "-":
                    goal = target + known if mine_left else known - target
                elif expr.op == "*":
                    goal = _divided(target, known)
                else:  # "/"
                    goal = target * known if mine_left else _divided(known, target)
            return [] if goal is None else _solve(read, mine, name, goal, values)
        case c.Call():
            function = ops.FUNCTIONS.get(expr.function)
            proposal = function.why_not if function is not None else ops.Proposal.NONE
            found: list[Any] = []
            if proposal is ops.Proposal.EACH_ARGUMENT:
                for arg in expr.args:
                    found += _solve(read, arg, name, target, values)
            elif proposal is ops.Proposal.BOTH_SIGNS:
                for arg in expr.args:
                    found += _solve(read, arg, name, target, values) + _solve(read, arg, name, -target, values)
            elif proposal is ops.Proposal.ROUNDING:
                for goal in _rounding_edges(read, expr, target, values):
                    found += _solve(read, expr.args[0], name, goal, values)
            return found
        case c.Conditional():
            # Its value is one of its two values: each solved for the target in turn, as the table
            # says (`if then else`: EACH_ARGUMENT). The condition's facts are not solved for: a
            # comparison in it is a comparison of its own, with its own classes or proposals.
            if ops.BY_SPELLING["if then else"].why_not is not ops.Proposal.EACH_ARGUMENT:
                return []
            return _solve(read, expr.then_value, name, target, values) + _solve(
                read, expr.else_value, name, target, values
            )
        case (
            c.Const()
            | c.OutputRef()
            | c.Now()
            | c.Compare()
            | c.Membership()
            | c.Between()
            | c.Presence()
            | c.BoolOp()
            | c.Not()
            | c.SetLiteral()
        ):
            return []  # a constant, an output, `now`, a condition, a set: nothing to solve for a fact
        case _:
            c.unhandled(expr)


def _rounding_edges(read: Reading, call: c.Call, target: Any, values: dict[str, Any]) -> list[Decimal]:
    """Where `round`, `floor` or `ceil` of a value steps to or from `target`: the target, and half a
    unit and a unit either side (round steps at halves, floor at the next whole unit, ceil at the
    one before), the unit 1 or, with places, 10^-places (core/operators.py, `Proposal.ROUNDING`)."""
    if isinstance(target, bool) or not isinstance(target, int | Decimal):
        return []
    unit = Decimal(1)
    if len(call.args) == 2:
        places = _evaluate(read, call.args[1], values)
        if isinstance(places, bool) or not isinstance(places, int):
            return []
        unit = Decimal(1).scaleb(-places)
    with decimal.localcontext(ARITHMETIC):
        return [Decimal(target) + step * unit for step in (0, Decimal("-0.5"), Decimal("0.5"), -1, 1)]


def _divided(a: Any, b: Any) -> Any:
    if isinstance(b, Duration):
        return (
            None if b.total_seconds == 0 or not isinstance(a, Duration) else Decimal(a.total_seconds) / b.total_seconds
        )
    if b == 0:
        return None
    if isinstance(a, Duration):
        return Duration(0, int(a.total_seconds / b))
    return Decimal(a) / Decimal(b)


def _side(read: Reading, relation: Relation, expr: c.CheckedExpr, values: dict[str, Any]) -> Any:
    if isinstance(expr, c.Const):
        return expr.value
    return _evaluate(read, expr, values)


def _evaluate(read: Reading, expr: c.CheckedExpr, values: dict[str, Any]) -> Any:
    """The expression's value on these facts, by the decision function's own code generator."""
    if isinstance(expr, c.Const):
        return expr.value
    if isinstance(expr, c.FactRef):
        return values.get(expr.name, MISSING)
    if expr not in read.evaluators:
        read.evaluators[expr] = _compiled(read.checked, expr)
    return read.evaluators[expr](values)


def rule_matches(read: Reading, rule: c.CheckedRule, values: dict[str, Any]) -> bool | None:
    """Whether the rule's condition holds on these facts, computed from the condition alone (far
    cheaper than a whole decision), or None when it cannot be computed alone (it reads an output
    or `now`): the search then decides in full. A decision that would raise is left to the full
    decision too (None)."""
    if rule.id not in read.matchers:
        try:
            read.matchers[rule.id] = _compiled(read.checked, rule.condition)
        except KeyError:  # it reads an output: only a whole decision knows it
            read.matchers[rule.id] = None
    matcher = read.matchers[rule.id]
    if matcher is None:
        return None
    try:
        return matcher(values) is True
    except (NameError, TypeError, ArithmeticError, ValueError, EvaluationError):
        return None


def _compiled(checked: c.CheckedPolicy, expr: c.CheckedExpr) -> Evaluate:
    """A function of the facts (by name) giving the expression's value, as a decision computes it;
    lets and segments it reads are computed first, in dependency order."""
    facts = list(checked.facts)
    local = {name: f"f{i}" for i, name in enumerate(facts)}
    names = Names(facts=local)
    for name, fact in checked.facts.items():
        if fact.optional and not fact.has_default:
            names.maybe_missing.add(local[name])
    generator = CodeGen(names)
    needed: set[str] = set()
    stack = [expr]
    while stack:
        for node in c.walk([stack.pop()]):
            if isinstance(node, c.DerivedRef) and node.key not in needed:
                needed.add(node.key)
                stack.append(checked.derived[node.key].expr)
    steps = []
    for number, (key, item) in enumerate((k, d) for k, d in checked.derived.items() if k in needed):
        steps.append(f"(d{number} := {generator.cond(item.expr) if item.type == BOOL else generator.value(item.expr)})")
        names.derived[key] = f"d{number}"
        if generator.maybe(item.expr):
            names.maybe_missing.add(f"d{number}")
    code = generator.value(expr)
    if steps:
        code = f"({', '.join(steps)}, {code})[-1]"
    namespace = {**helpers(), **generator.constants}
    if generator.parts:
        exec(generator.parts_source(), namespace)
    function: Any = eval(compile(f"lambda {', '.join(local.values()) or '_'}: {code}", "<why-not>", "eval"), namespace)
    bools = {name for name, fact in checked.facts.items() if fact.type == BOOL}

    def evaluate(values: dict[str, Any]) -> Any:
        args = [bool3(values.get(n, MISSING)) if n in bools else values.get(n, MISSING) for n in facts]
        with decimal.localcontext(ARITHMETIC):
            return function(*args)

    return evaluate


def _around(target: Any, t: Any) -> list[Any]:
    """A value and its neighbours in the type's order (a fraction solved for an int: both whole
    numbers around it), so that `<`, `<=`, `==` and `!=` can each be met."""
    if t == INT:
        if isinstance(target, bool) or not isinstance(target, int | Decimal):
            return []
        low, high = math.floor(target), math.ceil(target)
        return list(dict.fromkeys([low, high, low - 1, high + 1]))
    if t == NUMBER:
        if isinstance(target, bool) or not isinstance(target, int | Decimal):
            return []
        return [Decimal(target), Decimal(target) - 1, Decimal(target) + 1]
    if t == DURATION:
        return [target, *neighbours(target, t)] if isinstance(target, Duration) else []
    if isinstance(t, EnumOf):
        return [target, *neighbours(target, t)]
    return [target]


def neighbours(value: Any, t: Any) -> list[Any]:
    """The values next to `value` in the type's order (whole numbers, days, seconds, members)."""
    try:
        if t == INT and isinstance(value, int) and not isinstance(value, bool):
            return [value - 1, value + 1]
        if t == NUMBER and isinstance(value, Decimal):
            return [value - 1, value + 1]
        if t == DURATION and isinstance(value, Duration):
            return [Duration(0, value.total_seconds - 86_400), Duration(0, value.total_seconds + 86_400)]
        if t == DATE and isinstance(value, date) and not isinstance(value, datetime):
            return [value - timedelta(days=1), value + timedelta(days=1)]
        if t == DATETIME and isinstance(value, datetime):
            return [value - timedelta(seconds=1), value + timedelta(seconds=1)]
        if isinstance(t, EnumOf) and value in t.members:
            i = t.members.index(value)
            return [t.members[j] for j in (i - 1, i + 1) if 0 <= j < len(t.members)]
    except (OverflowError, ValueError):
        pass
    return []


def _fits(value: Any, t: Any) -> bool:
    if value is MISSING:
        return True
    if t == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if t == NUMBER:
        return isinstance(value, Decimal) and value.is_finite()
    if t == DURATION:
        return isinstance(value, Duration)
    if t == BOOL:
        return isinstance(value, bool)
    if t == STRING:
        return isinstance(value, str)
    if isinstance(t, EnumOf):
        return value in t.members
    if isinstance(t, SetOf):
        return isinstance(value, frozenset)
    return True


# --- nearness ------------------------------------------------------------------------------------


def nearness(current: Any, t: Any, existing: Iterable[Any] = ()) -> Callable[[Any], tuple[int, Any]]:
    """Sort key for a fact's new values, the smallest change first (docs/explaining.md):

    - an ordered type (int, number, duration, date, moment, enum in declaration order): the
      distance from the current value; a set: how many elements are added or removed; a flag, or a
      value for a missing fact: 1 each;
    - a string: another fact's value or a constant of the policy before an invented one (`other`);
    - leaving a fact out: after every value."""
    known = set(existing)

    def key(value: Any) -> tuple[int, Any]:
        if value is MISSING:
            return (3, 0)
        if isinstance(value, str) and value not in known and not isinstance(t, EnumOf):
            return (1, 0)  # an invented string, after every value the policy or the facts hold
        if current is MISSING:
            return (0, 1)
        try:
            if isinstance(value, Duration) and isinstance(current, Duration):
                return (0, abs(value.total_seconds - current.total_seconds))
            if isinstance(value, datetime) and isinstance(current, datetime):
                return (0, abs((value - current).total_seconds()))
            if isinstance(value, date) and isinstance(current, date) and not isinstance(value, datetime):
                return (0, abs((value - current).days))
            if isinstance(t, EnumOf) and value in t.members and current in t.members:
                return (0, abs(t.members.index(value) - t.members.index(current)))
            if isinstance(value, int | Decimal) and isinstance(current, int | Decimal) and not isinstance(value, bool):
                return (0, abs(Decimal(value) - Decimal(current)))
            if isinstance(value, frozenset) and isinstance(current, frozenset | set):
                return (0, len(value ^ frozenset(current)))
        except (TypeError, ArithmeticError):
            pass
        return (0, 1)

    return key


def identical(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and a == b)


def class_values(read: Reading, name: str, current: Any) -> list[Any]:
    """One value per class of the fact, the nearest to its current value first, without it."""
    found, _ = read.classes[name]
    fact = read.checked.facts[name]
    key = nearness(current, fact.type, read.constants[name])
    unique: dict[Any, Any] = {}
    for v in [*found, *_kept(found, current)]:
        if not identical(v, current):
            unique.setdefault((type(v).__name__, v), v)
    return sorted(unique.values(), key=key)


def _toggled(current: frozenset[Any], chosen: Any, found: list[Any], values: dict[str, Any], t: SetOf) -> list[Any]:
    """The sets nearer the current one than `chosen`: the current set with fewer of the elements
    that matter toggled (those tested, those in either set, other facts' values of the element type)."""
    if not isinstance(chosen, frozenset):
        return []
    elements = set(current) | set(chosen)
    for v in found:
        elements |= v if isinstance(v, frozenset) else set()
    elements |= {
        v for v in values.values() if v is not MISSING and not isinstance(v, frozenset) and _fits(v, t.element)
    }
    if len(elements) > 10:
        return []
    ordered = sorted(elements, key=repr)
    return [
        current ^ frozenset(toggle)
        for k in range(1, len(current ^ chosen))
        for toggle in itertools.combinations(ordered, k)
    ]


def _kept(found: list[Any], current: Any) -> list[Any]:
    """For a set fact, each class as the current set with only the tested elements changed: the
    same class (or, for `tags == {x}`, not, so the plain subsets stay too), nearer the current set."""
    if not isinstance(current, frozenset | set) or not found or not all(isinstance(v, frozenset) for v in found):
        return []
    tested = frozenset().union(*found)
    return [(frozenset(current) - tested) | v for v in found]


def nearer_values(read: Reading, name: str, current: Any, values: dict[str, Any]) -> list[Any]:
    """Every value why-not knows for the fact (classes, their edges, proposals on `values`), the
    nearest first: what the answer's value is tightened against."""
    fact = read.checked.facts[name]
    found, _ = read.classes[name]
    edges = [n for point in read.constants[name] for n in neighbours(point, fact.type)]
    if isinstance(fact.type, SetOf) and isinstance(current, frozenset):
        edges += _toggled(current, values.get(name), found, values, fact.type)
    if fact.type == STRING:  # another fact's value reads better than an invented one (`other`)
        edges += [v for k, v in values.items() if k != name and isinstance(v, str)]
    candidates = [*proposed(read, name, values), *found, *_kept(found, current), *edges, *read.constants[name]]
    candidates = [v for v in candidates if _fits(v, fact.type) and not identical(v, current)]
    existing = [*read.constants[name], *(v for k, v in values.items() if k != name)]
    unique: dict[Any, Any] = {}
    for v in candidates:
        unique.setdefault((type(v).__name__, v), v)
    return sorted(unique.values(), key=nearness(current, fact.type, existing))
