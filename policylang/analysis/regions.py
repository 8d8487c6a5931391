"""Conditions as regions: where in the space of facts a condition is true, and where it is false.

Each fact's values are cut into the classes fact_domains.py describes (no condition of the policy can
tell two values of one class apart), so a set of facts is a set of class combinations. A *box*
allows, per fact, a set of classes (a bitmask; a fact it does not name may take any class), and
a *region* is a union of boxes. A comparison of one fact with constants is one box; `and` is the
intersection of regions, `or` their union, `not` swaps where a condition is true and where it is
false (three-valued logic: a condition reading a missing fact is neither). Every question the
analysis asks (can these two rules match together? does this rule match anywhere no better rule
does?) is then an intersection or a difference of a few regions, decided without enumerating
the facts. A region that would grow past MAX_BOXES is given up on (`TooComplex`): the analysis
then falls back to trying combinations, and says when that is not exhaustive.
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..core.datatypes import BOOL, DATE, DATETIME, DURATION, INT, NUMBER, STRING, TIME, UNKNOWN, EnumOf
from ..core.values import MISSING
from ..engine.codegen import CodeGen, Names
from ..engine.runtime import ARITHMETIC, bool3, helpers
from ..semantics import typed_tree as c
from .boxes import EVERYTHING, Box, Region, TooComplex, hull, intersect, meet_all, union
from .budget import Deadline
from .fact_domains import Reads, affine, affine_lets, opaque

CLASS_TESTS = 2_000_000
"""Conditions tried on one value of each class of their fact, all conditions together; beyond this
they are left to enumeration (thousands of comparisons of one fact with thousands of constants
would otherwise try each comparison on every class: quadratic)."""


class Truth:
    """Where a condition is true and where it is false; elsewhere it is unknown (a missing fact).

    Each side is worked out only when asked for: rules need only where their conditions are
    true, and the false side of a long `or` (the intersection of every part's false side) can be
    far larger than its true side. Asking for a side can raise TooComplex."""

    def __init__(self, true: Region | Callable[[], Region], false: Region | Callable[[], Region]) -> None:
        self._sides: list[Region | Callable[[], Region]] = [true, false]

    def _side(self, k: int) -> Region:
        side = self._sides[k]
        if callable(side):
            side = self._sides[k] = side()
        return side

    @property
    def true(self) -> Region:
        return self._side(0)

    @property
    def false(self) -> Region:
        return self._side(1)


class Conditions:
    """Regions of the policy's conditions over its facts' classes, or None for a condition outside
    the fragment (arithmetic, two facts compared, `now`, outputs, lets that compute)."""

    def __init__(
        self,
        policy: c.CheckedPolicy,
        domains: dict[str, list[Any]],
        inexact: set[str],
        deadline: Deadline | None = None,
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.facts = list(policy.facts)
        self.position = {name: i for i, name in enumerate(self.facts)}
        self.domains = domains
        self.inexact = inexact
        self.full = [(1 << len(domains[name])) - 1 for name in self.facts]
        self._memo: dict[Any, Truth | None] = {}
        self._lets = affine_lets(policy)
        self._derived_reads: dict[str, Reads] | None = None
        self.tests_left = CLASS_TESTS
        self._ordered_count: dict[str, int] = {}
        self._string_index: dict[str, tuple[dict[str, int], int, list[int]]] = {}

    def truth(self, expr: c.CheckedExpr) -> Truth | None:
        key = expr
        if key in self._memo:
            return self._memo[key]
        if self.deadline is not None:
            self.deadline.check()  # (once per part of a condition: a 20,000-term `and` is 20,000 parts)
        try:
            found = self._truth(expr)
        except TooComplex:
            found = None
        self._memo[key] = found
        return found

    def _truth(self, expr: c.CheckedExpr) -> Truth | None:
        full = self.full
        if opaque(expr) is not None:
            return None  # a kind or operator the analysis does not know: never guessed at
        match expr:
            case c.Const():
                return Truth(EVERYTHING, []) if expr.value else Truth([], EVERYTHING)
            case c.BoolOp():
                parts = [self.truth(operand) for operand in expr.operands]
                if any(part is None for part in parts):
                    return None
                known = [p for p in parts if p is not None]
                side = 0 if expr.op == "and" else 1  # the side that intersects; the other joins

                def meeting(k: int = side) -> Region:
                    sides = [part._side(k) for part in known]
                    if not all(sides):
                        return []
                    # The one-box sides first, all at once into one box: meeting them one after
                    # another copies a growing box each time (quadratic in a long `and`).
                    found = meet_all([region[0] for region in sides if len(region) == 1], full)
                    for region in sides:
                        if len(region) > 1:
                            found = intersect(found, region, full)
                    return found

                def joined(k: int = 1 - side) -> Region:
                    return union((p._side(k) for p in known), full)

                return Truth(meeting, joined) if expr.op == "and" else Truth(joined, meeting)
            case c.Not():
                inner = self.truth(expr.operand)
                return None if inner is None else Truth(lambda: inner.false, lambda: inner.true)
            case c.DerivedRef():
                derived = self.policy.derived[expr.key]
                return self.truth(derived.expr) if derived.type == BOOL else None
        return self._atom(expr)

    def _atom(self, expr: c.CheckedExpr) -> Truth | None:
        """A condition reading one fact and constants only: tried on one value of each class.
        Lets are read through; a value computed from the fact is allowed where domains.affine
        put the points where it crosses the constants among the fact's classes. A condition that
        cannot be computed for some class (a let that overflows there) is left to enumeration."""
        found = self._reads_through(expr)
        if found.outputs or len(found.facts) != 1:
            return None
        if found.outside and (set(found.outside) != {"it computes (arithmetic)"} or not self._affine_atom(expr)):
            return None
        (name,) = found.facts
        if name in self.inexact:
            return None
        fact = self.policy.facts[name]
        test = compiled_test(expr, name, fact, self.policy.derived)
        try:
            sides = self._ordered_sides(expr, name, test) or self._equality_sides(expr, name, test)
            if sides is None:
                if len(self.domains[name]) > self.tests_left:
                    return None
                self.tests_left -= len(self.domains[name])
                sides = _sides(test, enumerate(self.domains[name]))
        except (ArithmeticError, TypeError):  # (EvaluationError is an ArithmeticError)
            return None
        true, false = sides
        position = self.position[name]
        return Truth(_box(position, true, self.full), _box(position, false, self.full))

    def _ordered_sides(self, expr: c.CheckedExpr, name: str, test: Any) -> tuple[int, int] | None:
        """For a comparison of an ordered fact itself with a constant (`x > 5`, `5 <= x`, `x == 5`),
        where it is true and false, found by bisecting the fact's classes in order instead of
        trying every one; None for any other condition. Bisecting asks the condition itself (and,
        for `==` and `!=`, the same comparison with `>=` and `>`), so the answer is the decision's."""
        if not (isinstance(expr, c.Compare) and expr.op in _ORDERINGS):
            return None
        if isinstance(expr.left, c.FactRef) and isinstance(expr.right, c.Const):
            on_left = True
        elif isinstance(expr.right, c.FactRef) and isinstance(expr.left, c.Const):
            on_left = False
        else:
            return None
        values = self.domains[name]
        ordered = self._ordered_classes(name)
        if ordered < 2:
            return None
        tests = [test]
        if expr.op in ("==", "!="):  # true from where `>=` turns true to where `>` does
            fact = self.policy.facts[name]
            tests = [
                compiled_test(dataclasses.replace(expr, op=op if on_left else _FLIPPED[op]), name, fact)
                for op in (">=", ">")
            ]
        edges = []
        for monotone in tests:
            first, last = monotone(values[0]), monotone(values[ordered - 1])
            if not isinstance(first, bool) or not isinstance(last, bool):
                return None
            low, high = 0, ordered  # the first class where the answer is `last`, if it changes
            if first != last:
                while low < high:
                    middle = (low + high) // 2
                    if monotone(values[middle]) == last:
                        high = middle
                    else:
                        low = middle + 1
            edges.append((first, last, low))
        span = (1 << ordered) - 1
        if len(edges) == 1:
            ((first, last, edge),) = edges
            changed = span & ~((1 << edge) - 1)  # the classes from the edge on
            true = (changed if last else span & ~changed) if first != last else (span if first else 0)
        else:
            bounds = []
            for first, last, edge in edges:  # where `>=`, then `>`, turns true (from false, never back)
                if first and not last:
                    return None
                bounds.append(edge if first != last else (0 if first else ordered))
            start, end = bounds
            equal = ((1 << end) - 1) & ~((1 << start) - 1)
            true = equal if expr.op == "==" else span & ~equal
        # The classes after the ordered ones (missing, and any added out of order), one by one.
        self.tests_left -= len(values) - ordered
        rest_true, rest_false = _sides(test, ((k, values[k]) for k in range(ordered, len(values))))
        return true | rest_true, (span & ~true) | rest_false

    def _equality_sides(self, expr: c.CheckedExpr, name: str, test: Any) -> tuple[int, int] | None:
        """For `x == "a"`, `x != "a"`, `x in {"a", "b"}`, `x not in {...}` (or `{...} contains x`)
        on a string or enum fact, where it is true and false, found by looking each constant up
        among the fact's classes instead of trying every class (a lookup table of thousands of
        such rules would otherwise try thousands of classes per rule: quadratic); the cost is per
        constant, not per class. The condition itself is asked at each constant's class and at one
        other, so a comparison that were not plain equality or membership would be caught and left
        to trying every class; classes that are not strings (missing) are tried one by one. None
        for any other condition."""
        found = _equality_constants(expr)
        if found is None:
            return None
        constants, negated = found
        fact_type = self.policy.facts[name].type
        if any(type(constant) is not str for constant in constants) or not (
            fact_type == STRING or isinstance(fact_type, EnumOf)
        ):
            return None
        index, strings, rest = self._string_classes(name)
        values = self.domains[name]
        hits = sorted({index[constant] for constant in constants if constant in index})
        equal = _mask_of(hits)
        true = strings & ~equal if negated else equal
        unequal = strings & ~equal
        probes = hits + ([(unequal & -unequal).bit_length() - 1] if unequal else [])
        for cls in probes:
            if test(values[cls]) is not bool(true >> cls & 1):
                return None  # not plain equality after all: every class is tried instead
        self.tests_left -= len(probes) + len(rest)
        rest_true, rest_false = _sides(test, ((k, values[k]) for k in rest))
        return true | rest_true, (strings & ~true) | rest_false

    def _string_classes(self, name: str) -> tuple[dict[str, int], int, list[int]]:
        """The fact's classes whose value is a string, by value; their mask; the other classes."""
        if name not in self._string_index:
            index: dict[str, int] = {}
            rest: list[int] = []
            for cls, value in enumerate(self.domains[name]):
                if type(value) is str and value not in index:
                    index[value] = cls
                else:
                    rest.append(cls)
            strings = sum(1 << cls for cls in index.values())
            self._string_index[name] = (index, strings, rest)
        return self._string_index[name]

    def _ordered_classes(self, name: str) -> int:
        """How many of the fact's classes, from the first, are strictly increasing values of an
        ordered type (numbers, durations, dates, moments): the ones bisecting may search."""
        if name not in self._ordered_count:
            count = 0
            if self.policy.facts[name].type in (INT, NUMBER, DURATION, DATE, DATETIME, TIME):
                values = self.domains[name]
                count = 1 if values and values[0] is not MISSING else 0
                while count < len(values) and values[count] is not MISSING:
                    try:
                        if not values[count - 1] < values[count]:
                            break
                    except TypeError:
                        break
                    count += 1
            self._ordered_count[name] = count
        return self._ordered_count[name]

    def _affine_atom(self, expr: c.CheckedExpr) -> bool:
        """A comparison of an affine value of one fact with constants (their thresholds are classes)."""
        match expr:
            case c.Compare() | c.Membership():
                sides = (expr.left, expr.right)
            case c.Between():
                if not (self._constant(expr.low) and self._constant(expr.high)):
                    return False
                sides = (expr.value, expr.low)
            case _:
                return False
        computed = [side for side in sides if not self._constant(side)]
        return len(computed) == 1 and affine(computed[0], self.policy, self._lets) is not None

    def _constant(self, expr: c.CheckedExpr) -> bool:
        """Whether the expression is a constant, or a let that names one (`let limit = 5`)."""
        while isinstance(expr, c.DerivedRef):
            expr = self.policy.derived[expr.key].expr
        return isinstance(expr, c.Const)

    def _reads_through(self, expr: c.CheckedExpr) -> Reads:
        """What domains.reads would find in the expression with every let and segment it reads
        written out in full, without writing them out: each derived value's reads are worked out
        once (written out, `let b = a + a` twice over doubles with every let)."""
        if self._derived_reads is None:
            self._derived_reads = {}
            for key, derived in self.policy.derived.items():  # (in dependency order)
                self._derived_reads[key] = self._reads_of(derived.expr)
        return self._reads_of(expr)

    def _reads_of(self, expr: c.CheckedExpr) -> Reads:
        assert self._derived_reads is not None
        found = Reads()
        stack: list[Any] = [expr]
        while stack:
            node = stack.pop()
            if (unknown := opaque(node)) is not None:
                found.outside.append(unknown)  # (fails closed: `_atom` takes no condition with a reason)
                stack.extend(c.children(node))
                continue
            match node:
                case c.DerivedRef():
                    inner = self._derived_reads[node.key]
                    found.facts |= inner.facts
                    found.outputs |= inner.outputs
                    found.outside.extend(inner.outside)
                    _capped(found)
                    continue  # (written out, it is its definition: its type is checked there)
                case c.FactRef():
                    found.facts.add(node.name)
                case c.OutputRef():
                    found.outputs.add(node.name)
                case c.Now():
                    found.outside.append("it reads `now`")
                case c.Arithmetic() | c.Negate():
                    found.outside.append("it computes (arithmetic)")
                case c.Compare() | c.Membership():
                    if not (self._constant(node.left) or self._constant(node.right)):
                        found.outside.append("it compares two values that are not constants")
                case c.Between():
                    if not (self._constant(node.low) and self._constant(node.high)):
                        found.outside.append("`between` has a bound that is not a constant")
                case c.SetLiteral():
                    found.outside.append("a set is built from values that are not constants")
                case c.Const() | c.Presence() | c.BoolOp() | c.Not() | c.Call():
                    pass  # decided exactly from what they read (a call: where opaque() let it through)
                case c.Conditional():
                    found.outside.append("it chooses a value with `if then else`")  # (opaque() takes it first)
                case _:
                    raise c.UnhandledNode(node)
            stack.extend(c.children(node))
            if getattr(node, "type", None) == UNKNOWN:
                found.outside.append("a fact's type is not declared")
        found.outside = list(dict.fromkeys(found.outside))
        return _capped(found)


_ORDERINGS = ("<", "<=", ">", ">=", "==", "!=")
_FLIPPED = {">=": "<=", ">": "<"}
"""`x >= 5` is `5 <= x`: the comparison with the constant on the left."""


def _sides(test: Any, classes: Iterable[tuple[int, Any]]) -> tuple[int, int]:
    """The classes (of those given: index, value) where the test is true, and where it is false."""
    true = false = 0
    for cls, value in classes:
        answer = test(value)
        if answer is True:
            true |= 1 << cls
        elif answer is False:
            false |= 1 << cls
    return true, false


def _capped(found: Reads) -> Reads:
    """Reads kept no larger than `_atom` needs: two facts, or one output, already leave the
    fragment, so the rest is not kept (a chain of segments each reading a new fact would
    otherwise hold every fact at every link)."""
    if len(found.facts) > 2:
        found.facts = set(list(found.facts)[:2])
    if len(found.outputs) > 1:
        found.outputs = set(list(found.outputs)[:1])
    return found


def _box(position: int, mask: int, full: Sequence[int]) -> Region:
    if not mask:
        return []
    return [{}] if mask == full[position] else [{position: mask}]


def compiled_test(expr: c.CheckedExpr, name: str, fact: c.Fact, derived: dict[str, c.Derived] | None = None) -> Any:
    """The condition as a function of the one fact's runtime value (MISSING when missing), made
    by the decision function's own code generator, so it answers exactly as a decision would.
    The lets and segments it reads (from `derived`) are computed first, each once and in
    dependency order, as the decision function computes them."""
    names = Names(facts={name: "v"})
    if fact.optional and not fact.has_default:
        names.maybe_missing.add("v")
    generator = CodeGen(names)
    steps = []
    if derived:
        needed = _derived_read(expr, derived)
        for number, (key, item) in enumerate((k, d) for k, d in derived.items() if k in needed):
            local = f"d{number}"
            code = generator.cond(item.expr) if item.type == BOOL else generator.value(item.expr)
            steps.append(f"({local} := {code})")
            names.derived[key] = local
            if generator.maybe(item.expr):
                names.maybe_missing.add(local)
    code = generator.cond(expr)
    if steps:
        code = f"({', '.join(steps)}, {code})[-1]"
    namespace = {**helpers(), **generator.constants}
    if generator.parts:
        exec(generator.parts_source(), namespace)  # the deepest parts of a deep condition (codegen.MAX_BRACKETS)
    function: Any = eval(compile(f"lambda v: {code}", "<analysed condition>", "eval"), namespace)

    def test(value: Any) -> Any:
        with decimal.localcontext(ARITHMETIC):  # as a decision computes
            return function(bool3(value) if fact.type == BOOL else value)

    return test


def _derived_read(expr: c.CheckedExpr, derived: dict[str, c.Derived]) -> set[str]:
    """The keys of the lets and segments an expression reads, directly or through one another."""
    found: set[str] = set()
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, c.DerivedRef):
            if node.key in found:
                continue
            found.add(node.key)
            stack.append(derived[node.key].expr)
            continue
        stack.extend(c.children(node))
    return found


class RuleRegions:
    """Where each of one output's rules matches, indexed for the questions asked of every rule:
    which rules beat it and can match where it does, and which pairs can match together.

    Rules are bucketed by the classes they allow of the fact that splits them best, and each
    bucket is kept strongest first, so a rule meets only the rules of its own buckets and, of
    those, only the stronger prefix: not every other rule of the output.
    """

    def __init__(
        self, truths: dict[int, Region], full: Sequence[int], rank: dict[int, int], deadline: Deadline | None = None
    ) -> None:
        self.truths = truths
        self.deadline = deadline
        self.full = full
        self.rank = rank
        """rule -> its strength for the output: a rule beats every rule of lower rank (equal ranks tie)."""
        self.rules = sorted(truths, key=lambda i: (-rank[i], i))
        self.hulls = {i: hull(truths[i]) for i in self.rules}
        self.packing = Packing(full)
        self.packed = {i: self.packing.pack(self.hulls[i]) for i in self.rules}
        self.fact = _splitting_fact(self.rules, self.hulls, full, deadline)
        self.buckets: dict[int, list[int]] = {}
        self.anywhere: list[int] = []
        self._apart: set[int] = set()
        self._rest: dict[int, int] | None = None
        self._rest_packing = self.packing
        """Rules that allow every class of the splitting fact, or most of them (`x != 3`): they
        meet (nearly) every bucket, so they are kept apart and compared with each rule directly
        rather than copied into each bucket (n rules `x != i` copied into n buckets of n rules
        each would make finding the pairs cubic; compared directly, it is the n² pairs there are)."""
        for i in self.rules:
            self._check_deadline()  # (a rule can be in thousands of buckets)
            allowed = self._allowed(self.hulls[i])
            if self.fact is None or _broad(allowed, full[self.fact]):
                self.anywhere.append(i)
                self._apart.add(i)
            else:
                for cls in _classes(allowed):
                    self.buckets.setdefault(cls, []).append(i)

    def _packed_rest(self) -> dict[int, int]:
        """Each rule's hull packed without the splitting fact (made once, when first asked for)."""
        if self._rest is None:
            full = list(self.full)
            if self.fact is not None:
                full[self.fact] = 1
            self._rest_packing = Packing(full)
            self._rest = {
                i: self._rest_packing.pack({f: m for f, m in self.hulls[i].items() if f != self.fact})
                for i in self.rules
            }
        return self._rest

    def _check_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.check()

    def _allowed(self, box: Box) -> int:
        """The classes of the splitting fact the box allows (every rule is in bucket 0 without one)."""
        return 1 if self.fact is None else box.get(self.fact, self.full[self.fact])

    def meets(self, i: int, j: int) -> bool:
        """Whether the hulls of rules i and j meet."""
        return self.packing.meets(self.packed[i], self.packed[j])

    def stronger(self, i: int, where: Box) -> list[Region]:
        """The regions of the rules that beat rule i and whose hulls meet the box `where`."""
        packed, rank, ranks = self.packed, self.rank[i], self.rank
        carry, guards = self.packing.carry, self.packing.guards
        self._check_deadline()
        place = self.packing.pack(where)
        seen: set[int] = set()
        found: list[Region] = []
        groups = [self.buckets.get(cls, []) for cls in _classes(self._allowed(where))]
        for group in [self.anywhere, *groups]:
            for k in group:
                if ranks[k] <= rank:
                    break  # strongest first: the rest do not beat i
                if k not in seen:
                    seen.add(k)
                    if ((packed[k] & place) + carry) & guards == guards:
                        found.append(self.truths[k])
        return found

    def meeting_pairs(self, rules: Iterable[int], wanted: Any = None) -> list[tuple[int, int]]:
        """The pairs (i, j), i < j, of the given rules whose hulls meet (only they can match
        together) and, if given, for which `wanted(i, j)` holds."""
        chosen = set(rules)
        hulls, packed = self.hulls, self.packed
        carry, guards = self.packing.carry, self.packing.guards
        allowed = {i: self._allowed(hulls[i]) for i in chosen}
        pairs: list[tuple[int, int]] = []
        # A sweep over the splitting fact's classes, each rule's allowed classes as runs of
        # neighbouring classes (a range of a number is one run, `x == 3` a run of one): a run
        # meets exactly the runs still open where it starts, so the work is the pairs that meet
        # on that fact, not every pair of a crowded bucket (overlapping ranges share many).
        # Runs that overlap meet on the splitting fact, so only the other facts are compared,
        # packed without it (the splitting fact of a policy of ranges has the most classes).
        rest = self._packed_rest()
        rest_carry, rest_guards = self._rest_packing.carry, self._rest_packing.guards
        runs = sorted((start, end, i) for i in chosen if i not in self._apart for start, end in runs_of(allowed[i]))
        open_runs: list[tuple[int, int]] = []  # (end, rule) of the runs started and not yet ended
        found: set[tuple[int, int]] = set()
        for start, end, a in runs:
            self._check_deadline()  # (once per run: one pass over the runs still open)
            open_runs = [run for run in open_runs if run[0] >= start]
            packed_a = rest[a]
            for _, b in open_runs:
                pair = (a, b) if a < b else (b, a)
                if b != a and pair not in found and ((packed_a & rest[b]) + rest_carry) & rest_guards == rest_guards:
                    found.add(pair)
            open_runs.append((end, a))
        pairs.extend(pair for pair in found if wanted is None or wanted(*pair))
        # A rule that allows every class of the splitting fact may meet any rule.
        everywhere = sorted(i for i in self.anywhere if i in chosen)
        others = sorted(chosen - set(everywhere))
        for x, a in enumerate(everywhere):
            self._check_deadline()
            packed_a = packed[a]
            for b in everywhere[x + 1 :] + others:
                if ((packed_a & packed[b]) + carry) & guards == guards:
                    pair = (a, b) if a < b else (b, a)
                    if wanted is None or wanted(*pair):
                        pairs.append(pair)
        return sorted(pairs)


class Packing:
    """Boxes packed into one integer, each fact's classes in its own bit field with a guard bit
    above it, so that whether two boxes meet is three integer operations instead of a loop over
    facts: their AND plus `carry` (all ones in every field) sets every guard bit exactly when no
    field of the AND is empty."""

    def __init__(self, full: Sequence[int]) -> None:
        self.full = full
        self.offsets: list[int] = []
        carry = guards = offset = 0
        for mask in full:
            width = mask.bit_length()
            self.offsets.append(offset)
            carry |= mask << offset
            guards |= 1 << (offset + width)
            offset += width + 1
        self.carry, self.guards = carry, guards

    def pack(self, box: Box) -> int:
        packed = 0
        for fact, offset in enumerate(self.offsets):
            packed |= box.get(fact, self.full[fact]) << offset
        return packed

    def pack_point(self, point: Sequence[int]) -> int:
        """One class per fact (a point) packed as a box: it lies in a box exactly when they meet."""
        return sum(1 << (offset + cls) for offset, cls in zip(self.offsets, point, strict=True))

    def meets(self, a: int, b: int) -> bool:
        return ((a & b) + self.carry) & self.guards == self.guards


def _broad(allowed: int, full: int) -> bool:
    """Whether a rule allowing these classes of a fact allows more than half of them (every class
    included): it is kept out of the buckets (RuleRegions.anywhere)."""
    return allowed == full or 2 * allowed.bit_count() > full.bit_count()


def runs_of(mask: int) -> Iterator[tuple[int, int]]:
    """The runs of neighbouring classes a mask allows, lowest first: (first class, last class)."""
    while mask:
        start = (mask & -mask).bit_length() - 1
        above = (mask >> start) + 1  # the run's bits carried into the bit just above it
        end = start + (above & -above).bit_length() - 2
        yield start, end
        mask &= ~((1 << (end + 1)) - 1)


def _classes(mask: int) -> list[int]:
    """The classes a mask allows, lowest first: one step per class allowed, not per class there is."""
    return [cls for start, end in runs_of(mask) for cls in range(start, end + 1)]  # (a range: one step per run)


def _splitting_fact(
    rules: list[int], hulls: dict[int, Box], full: Sequence[int], deadline: Deadline | None = None
) -> int | None:
    """The fact whose classes split the rules into the smallest buckets (sum of squared sizes).
    One pass over the rules: a rule that leaves a fact free is in each of its buckets, counted
    once per fact rather than once per class."""
    sizes: dict[int, list[int]] = {}
    naming: dict[int, int] = {}
    for i in rules:
        if deadline is not None:
            deadline.check()  # (a rule can allow thousands of classes)
        for fact, mask in hulls[i].items():
            counts = sizes.setdefault(fact, [0] * full[fact].bit_length())
            naming[fact] = naming.get(fact, 0) + 1
            if _broad(mask, full[fact]):
                # Counted as free (in every bucket) less the few classes it leaves out: one step
                # per class left out, not per class allowed (`x != i` allows nearly all of them).
                naming[fact] -= 1
                for cls in _classes(full[fact] & ~mask):
                    counts[cls] -= 1
            else:
                for cls in _classes(mask):
                    counts[cls] += 1
    if not sizes:
        return None

    def crowding(fact: int) -> int:
        free = len(rules) - naming[fact]
        return sum((n + free) ** 2 for n in sizes[fact])

    return min(sorted(sizes), key=crowding)


def _equality_constants(expr: c.CheckedExpr) -> tuple[list[Any], bool] | None:
    """The constants a fact is compared with for equality or membership, and whether the
    condition is their negation (`!=`, `not in`); None for any other condition (and for a
    comparison of two facts, or of a fact with a set fact)."""
    match expr:
        case (
            c.Compare(op="==" | "!=", left=c.FactRef(), right=c.Const(value=value))
            | c.Compare(op="==" | "!=", left=c.Const(value=value), right=c.FactRef())
        ):
            return [value], expr.op == "!="
        case c.Membership(op="in" | "not in", left=c.FactRef(), right=c.Const(value=frozenset() as members)):
            return list(members), expr.op == "not in"
        case c.Membership(
            op="contains" | "not contains", left=c.Const(value=frozenset() as members), right=c.FactRef()
        ):
            return list(members), expr.op == "not contains"
    return None


def _mask_of(classes: list[int]) -> int:
    """The mask with these classes' bits set (ascending, distinct), built in one pass over bytes:
    or-ing one bit at a time into a mask of many thousand classes copies it each time."""
    if len(classes) <= 8:
        return sum(1 << cls for cls in classes)
    found = bytearray(classes[-1] // 8 + 1)
    for cls in classes:
        found[cls >> 3] |= 1 << (cls & 7)
    return int.from_bytes(found, "little")
