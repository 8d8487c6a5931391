"""Indexes rules by their discriminating facts: a small decision tree that sends each decision to the few
rules that can match.

Each rule's top-level `and` is read for constraints on single facts: equality and membership
(`tier == premium`, `region in {eu, us}`) and ranges (`spend >= 1_000`, `tenure between 1y and 3y`).
A node splits the rules on one fact, by its values or at a pivot of its range; a rule without a
constraint on that fact goes down every branch. Leaves keep rules in rule order, so `fired` and
`resolve first` are unchanged. Rules with no usable constraint are simply in every leaf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.datatypes import DURATION, INT, NUMBER, STRING, UNKNOWN, EnumOf, Type
from ..core.values import order_key
from ..semantics import typed_tree as c

LEAF_SIZE = 24
"""Below this many rules a leaf is cheaper than another test."""
MAX_DEPTH = 12
MIN_GAIN = 0.75
"""A split must leave its largest branch at most this share of the rules, or it is not worth a test."""
BUDGET = 2
"""The leaves together hold at most this many times the rules: rules a split cannot place (no
constraint on its fact) go down every branch, and unbounded copying once took 1.5 GB."""


@dataclass
class Constraint:
    """What a rule's condition requires of one fact: a set of allowed values, and/or a range of keys."""

    values: frozenset[Any] | None = None
    low: Any = None
    low_closed: bool = True
    high: Any = None
    high_closed: bool = True


@dataclass
class RuleConstraints:
    rule: int
    facts: dict[str, Constraint] = field(default_factory=dict)


@dataclass
class Leaf:
    rules: list[int]


@dataclass
class ValueSplit:
    """`if fact == v1: ... elif fact == v2: ... else: ...`"""

    fact: str
    branches: list[tuple[Any, Node]]
    otherwise: Node


@dataclass
class RangeSplit:
    """`if fact is missing: ... elif key(fact) < pivot: below else: at_or_above`"""

    fact: str
    pivot: Any
    below: Node
    above: Node
    missing: Node


Node = Leaf | ValueSplit | RangeSplit


_EQUALITY_TYPES = (STRING, INT)
_RANGE_TYPES = (INT, NUMBER, DURATION)


def key_of(t: Type, value: Any) -> Any:
    """The comparable key of a constant compared with a fact of type `t` (core.values.order_key):
    durations by total seconds, numbers as they are."""
    order = order_key(t)
    return value if order is None else order(value)


def constraints(
    rule: c.CheckedRule,
    index: int,
    derived: dict[str, c.Derived] | None = None,
    missing: set[str] | frozenset[str] = frozenset(),
) -> RuleConstraints:
    """The single-fact constraints in a rule's top-level conjunction, looking into the segments it
    names there (anything else is ignored: the index is safe, not exact)."""
    found = RuleConstraints(index)
    # Operands are read in evaluation order, and reading stops at the first one that may raise (a
    # division by zero): it runs whatever the later operands say, so their constraints must not
    # keep the rule from being evaluated. A segment was computed before any rule, so all of it counts.
    pending: list[tuple[c.CheckedExpr, int]] = [(rule.condition, 0)]
    while pending:
        expr, depth = pending.pop()
        match expr:
            case c.BoolOp(op="and"):
                pending.extend((operand, depth) for operand in reversed(expr.operands))
            case c.DerivedRef() if derived and expr.key in derived and depth < 8:
                segment = derived[expr.key]
                if segment.kind == "segment":
                    _read_segment(segment.expr, derived, depth + 1, found.facts)
            case _ if depth == 0 and may_raise(expr):
                # A constraint on a fact that may be missing is unknown, not false, when the fact is
                # missing, and `and` goes on to this operand: such a rule must stay in the missing branch.
                for fact in missing:
                    found.facts.pop(fact, None)
                break
            case _:
                _read_atom(expr, found.facts)  # every other node is an atom (its match is exhaustive)
    return found


def _read_segment(expr: c.CheckedExpr, derived: dict[str, c.Derived], depth: int, facts: dict[str, Constraint]) -> None:
    """The constraints of a segment's top-level conjunction, every operand counted."""
    pending = [expr]
    while pending:
        current = pending.pop()
        match current:
            case c.BoolOp(op="and"):
                pending.extend(current.operands)
            case c.DerivedRef() if current.key in derived and depth < 8:
                segment = derived[current.key]
                if segment.kind == "segment":
                    _read_segment(segment.expr, derived, depth + 1, facts)
            case _:
                _read_atom(current, facts)  # every other node is an atom (its match is exhaustive)


def may_raise(expr: c.CheckedExpr) -> bool:
    """Whether evaluating the expression can raise: arithmetic (a division by zero, a date out of
    range) or values of unknown type (schema-less facts the rules cannot compare)."""
    pending: list[c.CheckedExpr] = [expr]
    while pending:
        node = pending.pop()
        match node:
            case c.Arithmetic() | c.Negate():
                return True  # a division by zero, a date or number out of range
            case _ if node.type == UNKNOWN:
                return True  # a schema-less value the rules may not be able to compare
            case c.Const() | c.FactRef() | c.OutputRef() | c.Now():
                pass  # reading a value never raises
            case c.DerivedRef():
                pass  # a derived value was computed (and raised, if it could) before any rule
            case c.Compare() | c.Membership() | c.Between() | c.Presence() | c.BoolOp() | c.Not() | c.SetLiteral():
                pending.extend(c.children(node))  # comparing and combining values of known types never raises
            case c.Call():
                pending.extend(c.children(node))  # a built-in function never raises on arguments of its types
            case _:
                c.unhandled(node)
    return False


def _same_kind(fact_type: Type | None, other: Type) -> bool:
    """Whether a constant of type `other` orders against the fact (int and number mix)."""
    if fact_type in (INT, NUMBER):
        return other in (INT, NUMBER)
    return fact_type == other


def _equality_fact(t: Type | None) -> bool:
    return t is not None and (t in _EQUALITY_TYPES or isinstance(t, EnumOf))


def _read_atom(atom: c.CheckedExpr, facts: dict[str, Constraint]) -> None:
    match atom:
        case c.Compare(left=c.FactRef() as fact, right=c.Const() as constant):
            _read_comparison(fact, atom.op, constant, facts)
        case c.Compare(left=c.Const() as constant, right=c.FactRef() as fact):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
            _read_comparison(fact, flipped[atom.op], constant, facts)
        case c.Membership(op="in", left=c.FactRef() as fact, right=c.Const() as constant):
            if _equality_fact(fact.type):
                _narrow_values(facts, fact.name, frozenset(constant.value))
        case c.Between(value=c.FactRef() as fact, low=c.Const() as low, high=c.Const() as high):
            ranged = _same_kind(fact.type, low.type) and _same_kind(fact.type, high.type)
            if fact.type in _RANGE_TYPES and ranged:
                low_key, high_key = key_of(fact.type, low.value), key_of(fact.type, high.value)
                _narrow_range(facts, fact.name, low_key, True, high_key, True)
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
            | c.Arithmetic()
            | c.Negate()
            | c.SetLiteral()
            | c.Call()
        ):
            # Not one fact against constants (or not a form the index splits on): no constraint,
            # so the rule goes down every branch (the index is safe, not exact).
            pass
        case _:
            c.unhandled(atom)


def _read_comparison(fact: c.FactRef, op: str, constant: c.Const, facts: dict[str, Constraint]) -> None:
    """`fact op constant` (the fact on the left) as a constraint, if the index splits on it."""
    if op == "==" and _equality_fact(fact.type):
        _narrow_values(facts, fact.name, frozenset({constant.value}))
    elif op in ("<", "<=", ">", ">=") and fact.type in _RANGE_TYPES and _same_kind(fact.type, constant.type):
        key = key_of(fact.type, constant.value)
        if op in (">", ">="):
            _narrow_range(facts, fact.name, key, op == ">=", None, True)
        else:
            _narrow_range(facts, fact.name, None, True, key, op == "<=")


def _narrow_values(facts: dict[str, Constraint], fact: str, values: frozenset[Any]) -> None:
    current = facts.setdefault(fact, Constraint())
    current.values = values if current.values is None else current.values & values


def _narrow_range(
    facts: dict[str, Constraint], fact: str, low: Any, low_closed: bool, high: Any, high_closed: bool
) -> None:
    current = facts.setdefault(fact, Constraint())
    if low is not None and (current.low is None or low > current.low or (low == current.low and not low_closed)):
        current.low, current.low_closed = low, low_closed
    if high is not None and (current.high is None or high < current.high or (high == current.high and not high_closed)):
        current.high, current.high_closed = high, high_closed


def build(rules: list[RuleConstraints], maybe_missing: set[str]) -> Node:
    """The index tree over `rules` (in rule order)."""
    return _build(rules, maybe_missing, 0, [BUDGET * len(rules)])


def _build(rules: list[RuleConstraints], maybe_missing: set[str], depth: int, budget: list[int]) -> Node:
    """`budget` holds the leaf entries still allowed; a node that could not be split within it stays a leaf."""
    if len(rules) <= LEAF_SIZE or depth >= MAX_DEPTH or budget[0] <= len(rules):
        budget[0] -= len(rules)
        return Leaf([r.rule for r in rules])
    best = _best_split(rules)
    if best is None:
        budget[0] -= len(rules)
        return Leaf([r.rule for r in rules])
    kind, fact, detail = best
    if kind == "values":
        branches = []
        for value in detail:
            subset = [r for r in rules if _allows(r.facts.get(fact), value)]
            branches.append((value, _build(subset, maybe_missing, depth + 1, budget)))
        rest = [r for r in rules if fact not in r.facts or r.facts[fact].values is None]
        return ValueSplit(fact, branches, _build(rest, maybe_missing, depth + 1, budget))
    pivot = detail
    below = [r for r in rules if _reaches_below(r.facts.get(fact), pivot)]
    above = [r for r in rules if _reaches_above(r.facts.get(fact), pivot)]
    unconstrained = [
        r for r in rules if fact not in r.facts or (r.facts[fact].low is None and r.facts[fact].high is None)
    ]
    missing: Node = _build(unconstrained, maybe_missing, depth + 1, budget) if fact in maybe_missing else Leaf([])
    low_side = _build(below, maybe_missing, depth + 1, budget)
    high_side = _build(above, maybe_missing, depth + 1, budget)
    return RangeSplit(fact, pivot, low_side, high_side, missing)


def _allows(constraint: Constraint | None, value: Any) -> bool:
    """Can the fact having `value` satisfy the rule's allowed values?"""
    return constraint is None or constraint.values is None or value in constraint.values


def _reaches_below(constraint: Constraint | None, pivot: Any) -> bool:
    """Can a value under the pivot satisfy the rule's range?"""
    return constraint is None or constraint.low is None or constraint.low < pivot


def _reaches_above(constraint: Constraint | None, pivot: Any) -> bool:
    """Can a value at or above the pivot satisfy the rule's range?"""
    if constraint is None or constraint.high is None:
        return True
    return constraint.high > pivot or (constraint.high == pivot and constraint.high_closed)


def _best_split(rules: list[RuleConstraints]) -> tuple[str, str, Any] | None:
    """The split whose largest branch is smallest (ties: fewer branches), if it gains enough."""
    total = len(rules)
    candidates: list[tuple[float, int, str, str, Any]] = []
    value_facts: dict[str, set[Any]] = {}
    range_keys: dict[str, list[Any]] = {}
    for r in rules:
        for fact, constraint in r.facts.items():
            if constraint.values is not None:
                value_facts.setdefault(fact, set()).update(constraint.values)
            for bound in (constraint.low, constraint.high):
                if bound is not None:
                    range_keys.setdefault(fact, []).append(bound)
    for fact, values in value_facts.items():
        if len(values) > 64:
            continue  # an if-chain that long costs more than it saves
        free = sum(1 for r in rules if fact not in r.facts or r.facts[fact].values is None)
        per_value = {v: free for v in values}
        for r in rules:
            found = r.facts.get(fact)
            if found is not None and found.values is not None:
                for v in found.values:
                    per_value[v] += 1
        largest = max([free, *per_value.values()])
        candidates.append((largest / total, len(values), "values", fact, sorted(values, key=repr)))
    for fact, keys in range_keys.items():
        ordered = sorted(set(keys))
        if not ordered:
            continue
        pivot = ordered[len(ordered) // 2]
        below = sum(1 for r in rules if _reaches_below(r.facts.get(fact), pivot))
        above = sum(1 for r in rules if _reaches_above(r.facts.get(fact), pivot))
        candidates.append((max(below, above) / total, 2, "range", fact, pivot))
    if not candidates:
        return None
    share, _, kind, fact, detail = min(candidates, key=lambda x: (x[0], x[1]))
    if share > MIN_GAIN:
        return None
    return kind, fact, detail
