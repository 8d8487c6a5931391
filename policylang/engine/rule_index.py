"""Indexes rules by their discriminating facts: a discrimination structure, held as data, that finds
the rules a decision can match in time proportional to them, not to all rules.

Each rule's top-level `and` is read for constraints on single facts: equality and membership
(`tier == premium`, `region in {eu, us}`) and ranges (`spend >= 1_000`, `tenure between 1y and 3y`);
its other conjuncts (`vip`, `tags contains x`, `region != "us"`, a segment) are tests that it needs
true. The structure (`Discrimination`) holds the rules of a run as bits of an int, rule k as bit k:

- per fact compared for equality, a dict value -> the rules that allow that value (hash);
- per fact compared by ranges, the sorted boundaries and, per region between and at them, the rules
  whose range meets it (bisect);
- per test shared by two or more rules, the rules that do not need it (AND-ed in when the test, evaluated
  once, is not true).

A rule without a constraint on a fact is in every one of that fact's masks, so a rule with no usable
constraint is always a candidate. AND-ing the masks gives the candidates, in rule order; a rule whose
whole condition was read into the structure (`exact`) matches exactly when it is a candidate, the others
are tested. Memory stays near-linear: a fact with many values keeps each value's rules shifted down to
its lowest rule, and a fact with more than MAX_KEYS range boundaries keeps MAX_KEYS of them (the rules
whose bounds fall between become inexact, and are tested).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core import operators
from ..core.datatypes import DURATION, INT, NUMBER, STRING, UNKNOWN, EnumOf, Type
from ..core.values import order_key
from ..semantics import typed_tree as c

MAX_KEYS = 64
"""At most this many range boundaries per fact: each adds two regions, each region one mask of every rule."""
SHIFTED_VALUES = 64
"""A fact with more values than this keeps each value's mask shifted down to its lowest rule (a lookup
table of N values would otherwise hold N masks of N bits)."""


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
    complete: bool = True
    """Whether every conjunct was read: into `facts` (exactly) or into `others`; False when reading
    stopped at an operand that may raise, or a segment was too deep to read."""
    others: list[c.CheckedExpr] = field(default_factory=list)
    """The top-level conjuncts not read into `facts` (before any that may raise): tests the rule needs true."""
    read: list[tuple[str, c.CheckedExpr]] = field(default_factory=list)
    """(fact, atom) for each top-level conjunct read into `facts`: true whenever the constraints hold."""
    raises_later: bool = False
    """An operand that may raise follows: a test that may be unknown (None) does not stop the rule."""


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
    names there, and the conjuncts that are not such constraints (`others`)."""
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
            case c.DerivedRef() if derived and expr.key in derived and derived[expr.key].kind == "segment":
                if depth >= 8 or not _read_segment(derived[expr.key].expr, derived, depth + 1, found.facts):
                    found.others.append(expr)  # not all of it read: the segment's value is a test
            case _ if depth == 0 and may_raise(expr):
                # A constraint on a fact that may be missing is unknown, not false, when the fact is
                # missing, and `and` goes on to this operand: such a rule must stay in the missing branch.
                for name in missing:
                    found.facts.pop(name, None)
                found.read = [(name, atom) for name, atom in found.read if name not in missing]
                found.complete = False
                found.raises_later = True
                break
            case _:
                fact = _read_atom(expr, found.facts)  # every other node is an atom (its match is exhaustive)
                if fact is None:
                    found.others.append(expr)
                else:
                    found.read.append((fact, expr))
    return found


def _read_segment(expr: c.CheckedExpr, derived: dict[str, c.Derived], depth: int, facts: dict[str, Constraint]) -> bool:
    """The constraints of a segment's top-level conjunction, every operand counted; whether every
    operand was read into a constraint."""
    pending = [expr]
    whole = True
    while pending:
        current = pending.pop()
        match current:
            case c.BoolOp(op="and"):
                pending.extend(current.operands)
            case c.DerivedRef() if current.key in derived and derived[current.key].kind == "segment" and depth < 8:
                whole = _read_segment(derived[current.key].expr, derived, depth + 1, facts) and whole
            case _:
                # every other node is an atom (its match is exhaustive)
                whole = _read_atom(current, facts) is not None and whole
    return whole


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
                if node.function in operators.FUNCTIONS and operators.FUNCTIONS[node.function].may_fail:
                    return True  # `local` with a zone no zone has, `round` past a number's digits
                pending.extend(c.children(node))  # the others never raise on arguments of their types
            case c.Conditional():
                pending.extend(c.children(node))  # choosing never raises; either value might
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


def _read_atom(atom: c.CheckedExpr, facts: dict[str, Constraint]) -> str | None:
    """Reads `atom` into `facts` if it is one fact against constants in a form the index keeps
    (exactly: the fact meets the constraint exactly when the atom is true); the fact's name, or None."""
    match atom:
        case c.Compare(left=c.FactRef() as fact, right=c.Const() as constant):
            return _read_comparison(fact, atom.op, constant, facts)
        case c.Compare(left=c.Const() as constant, right=c.FactRef() as fact):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
            return _read_comparison(fact, flipped[atom.op], constant, facts)
        case c.Membership(op="in", left=c.FactRef() as fact, right=c.Const() as constant):
            if _equality_fact(fact.type):
                _narrow_values(facts, fact.name, frozenset(constant.value))
                return fact.name
            return None
        case c.Between(value=c.FactRef() as fact, low=c.Const() as low, high=c.Const() as high):
            ranged = _same_kind(fact.type, low.type) and _same_kind(fact.type, high.type)
            if fact.type in _RANGE_TYPES and ranged:
                low_key, high_key = key_of(fact.type, low.value), key_of(fact.type, high.value)
                _narrow_range(facts, fact.name, low_key, True, high_key, True)
                return fact.name
            return None
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
            | c.Conditional()
        ):
            # Not one fact against constants (or not a form the index keeps): no constraint; the
            # caller may test it as a whole.
            return None
        case _:
            c.unhandled(atom)


def _read_comparison(fact: c.FactRef, op: str, constant: c.Const, facts: dict[str, Constraint]) -> str | None:
    """`fact op constant` (the fact on the left) as a constraint, if the index keeps it; the fact's name."""
    if op == "==" and _equality_fact(fact.type):
        _narrow_values(facts, fact.name, frozenset({constant.value}))
        return fact.name
    if op in ("<", "<=", ">", ">=") and fact.type in _RANGE_TYPES and _same_kind(fact.type, constant.type):
        key = key_of(fact.type, constant.value)
        if op in (">", ">="):
            _narrow_range(facts, fact.name, key, op == ">=", None, True)
        else:
            _narrow_range(facts, fact.name, None, True, key, op == "<=")
        return fact.name
    return None


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


# --- the discrimination structure ---


@dataclass
class ValueTable:
    """One fact's equality and membership constraints: the candidates are `masks.get(value, unconstrained)`,
    or for a fact with many values `unconstrained | low << shift` where `shifted.get(value)` is (low, shift)."""

    fact: str
    unconstrained: int
    masks: dict[Any, int] | None = None
    shifted: dict[Any, tuple[int, int]] | None = None


@dataclass
class RangeTable:
    """One fact's range constraints: the candidates are `regions[bisect_left(keys, key) + bisect_right(keys,
    key)]` (region 2i is strictly between keys i-1 and i, region 2i+1 is keys[i] itself), or
    `unconstrained` when the fact is missing."""

    fact: str
    keys: list[Any]
    regions: list[int]
    unconstrained: int


@dataclass
class Discrimination:
    """Everything a decision needs to find a run's candidate rules (bit k is the run's k-th rule)."""

    everyone: int
    values: list[ValueTable]
    ranges: list[RangeTable]
    tests: list[tuple[c.CheckedExpr, int]]
    """(a shared test, the rules that do not need it): AND-ed in when the test is not true."""
    exact: list[bool]
    """Per rule: a candidate matches (its whole condition is in the structure)."""
    known: list[list[c.CheckedExpr]]
    """Per rule: the atoms of its condition that are true whenever it is a candidate."""


def discriminate(found: list[RuleConstraints], tests: list[list[c.CheckedExpr]]) -> Discrimination:
    """The structure over a run's rules (`found`, in run order; `tests[k]` the shared tests the k-th
    rule needs true, chosen by the caller among its `others`)."""
    count = len(found)
    everyone = (1 << count) - 1
    widened: list[set[str]] = [set() for _ in found]
    values: list[ValueTable] = []
    ranges: list[RangeTable] = []
    facts = dict.fromkeys(fact for r in found for fact in r.facts)
    for fact in facts:
        allowed = {k: r.facts[fact].values for k, r in enumerate(found) if fact in r.facts}
        by_value: dict[Any, list[int]] = {}
        for k, these in allowed.items():
            for value in these or ():
                by_value.setdefault(value, []).append(k)
        constrained = [k for k, these in allowed.items() if these is not None]
        if constrained:
            values.append(_value_table(fact, everyone, constrained, by_value))
        bounded = {
            k: r.facts[fact]
            for k, r in enumerate(found)
            if fact in r.facts and (r.facts[fact].low is not None or r.facts[fact].high is not None)
        }
        if bounded:
            ranges.append(_range_table(fact, count, bounded, widened))
    needing: dict[c.CheckedExpr, list[int]] = {}
    for k, needed_tests in enumerate(tests):
        for test in needed_tests:
            needing.setdefault(test, []).append(k)
    exact = []
    known: list[list[c.CheckedExpr]] = []
    for k, r in enumerate(found):
        needed = set(tests[k])
        exact.append(r.complete and not widened[k] and all(t in needed for t in r.others))
        known.append([atom for fact, atom in r.read if fact not in widened[k]] + list(tests[k]))
    shared = [(test, everyone & ~mask_of(rules, count)) for test, rules in needing.items()]
    return Discrimination(everyone, values, ranges, shared, exact, known)


def _value_table(fact: str, everyone: int, constrained: list[int], by_value: dict[Any, list[int]]) -> ValueTable:
    unconstrained = everyone & ~mask_of(constrained, everyone.bit_length())
    if len(by_value) <= SHIFTED_VALUES:
        masks = {v: unconstrained | mask_of(ks, everyone.bit_length()) for v, ks in by_value.items()}
        return ValueTable(fact, unconstrained, masks=masks)
    shifted = {v: (mask_of([k - ks[0] for k in ks], ks[-1] - ks[0] + 1), ks[0]) for v, ks in by_value.items()}
    return ValueTable(fact, unconstrained, shifted=shifted)


def _range_table(fact: str, count: int, bounded: dict[int, Constraint], widened: list[set[str]]) -> RangeTable:
    bounds = sorted({b for r in bounded.values() for b in (r.low, r.high) if b is not None})
    keys = bounds
    if len(bounds) > MAX_KEYS:
        step = len(bounds) / MAX_KEYS
        keys = sorted({bounds[int(i * step)] for i in range(MAX_KEYS)})
    kept = set(keys)
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for k, r in bounded.items():
        first, last = _span(keys, r)
        if (r.low is not None and r.low not in kept) or (r.high is not None and r.high not in kept):
            widened[k].add(fact)
        if first <= last:
            starts.setdefault(first, []).append(k)
            ends.setdefault(last + 1, []).append(k)
    unconstrained = ((1 << count) - 1) & ~mask_of(list(bounded), count)
    current = bytearray((count + 7) // 8)
    regions = []
    for region in range(2 * len(keys) + 1):
        for k in ends.get(region, ()):
            current[k >> 3] &= ~(1 << (k & 7)) & 0xFF
        for k in starts.get(region, ()):
            current[k >> 3] |= 1 << (k & 7)
        regions.append(unconstrained | int.from_bytes(current, "little"))
    return RangeTable(fact, keys, regions, unconstrained)


def _span(keys: list[Any], r: Constraint) -> tuple[int, int]:
    """The first and last region a range meets (first > last: none)."""
    if r.low is None:
        first = 0
    else:
        i = bisect_left(keys, r.low)
        on_key = i < len(keys) and keys[i] == r.low
        first = (2 * i + 1 if r.low_closed else 2 * i + 2) if on_key else 2 * i
    if r.high is None:
        last = 2 * len(keys)
    else:
        i = bisect_left(keys, r.high)
        on_key = i < len(keys) and keys[i] == r.high
        last = (2 * i + 1 if r.high_closed else 2 * i) if on_key else 2 * i
    return first, last


def mask_of(positions: Iterable[int], width: int) -> int:
    """The int whose bits at `positions` (each below `width`) are set: through a bytearray, in time
    linear in the width and the positions (setting bits of an int one by one is quadratic)."""
    found = bytearray((width + 7) // 8)
    for k in positions:
        found[k >> 3] |= 1 << (k & 7)
    return int.from_bytes(found, "little")


# --- the order the rules are walked in ---

CLUSTER_LEAST = 64
"""A group of fewer rules than this (one 64-bit word of the mask) is not split further."""


def clustered_order(found: list[RuleConstraints], pinned: list[bool]) -> list[int]:
    """The run's rules (positions in `found`) in an order that keeps a decision's candidates together
    in the mask, so that the walk skips whole zero words: the rules are grouped by the values they
    allow of the fact that most of them constrain (`tier == premium`, `tier in {gold, premium}`), the
    groups in turn by the next such fact, as a decision tree would split them, but each rule in one
    group only (the rules that allow any value come last, in a group of their own). A rule `pinned` (its
    condition or an action may raise) keeps its order among the pinned ones, after every other rule:
    whichever raises first in rule order still raises first."""
    free = [k for k, p in enumerate(pinned) if not p]
    order: list[int] = []
    pending: list[tuple[list[int], frozenset[str]]] = [(free, frozenset())]
    while pending:
        rules, used = pending.pop()
        fact = _splitting_fact(found, rules, used) if len(rules) >= CLUSTER_LEAST else None
        if fact is None:
            order.extend(rules)
            continue
        groups: dict[frozenset[Any], list[int]] = {}
        rest: list[int] = []
        for k in rules:
            allowed = found[k].facts[fact].values if fact in found[k].facts else None
            if allowed is not None:
                groups.setdefault(allowed, []).append(k)
            else:
                rest.append(k)
        parts = [*groups.values(), rest] if rest else list(groups.values())
        # Last pushed, first taken: push the groups reversed so they come out in order.
        pending.extend((part, used | {fact}) for part in reversed(parts))
    return order + [k for k, p in enumerate(pinned) if p]


def _splitting_fact(found: list[RuleConstraints], rules: list[int], used: frozenset[str]) -> str | None:
    """The fact that the most of `rules` constrain to a set of values (more than a quarter of them, in
    two different sets or more), None if there is none."""
    singles: dict[str, dict[frozenset[Any], int]] = {}
    for k in rules:
        for fact, constraint in found[k].facts.items():
            if fact not in used and constraint.values is not None:
                counted = singles.setdefault(fact, {})
                counted[constraint.values] = counted.get(constraint.values, 0) + 1
    best, most = None, len(rules) // 4
    for fact, counted in singles.items():
        total = sum(counted.values())
        if len(counted) >= 2 and total > most:
            best, most = fact, total
    return best
