"""Conditions as regions: where in the space of facts a condition is true, and where it is false.

Each fact's values are cut into the classes domains.py describes (no condition of the policy can
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

import decimal
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import checked as c
from .codegen import CodeGen, Names
from .datatypes import BOOL, UNKNOWN
from .domains import Reads, affine, affine_lets
from .runtime import ARITHMETIC, _bool3, helpers

MAX_BOXES = 4_096
"""A region of more boxes than this is not pursued: the question is answered by enumeration instead."""

Box = dict[int, int]
"""Fact position -> the bitmask of its classes allowed; a fact not named may take any class."""
Region = list[Box]
"""A union of boxes; the empty list is the empty region, [{}] every combination of facts."""

EVERYTHING: Region = [{}]


class TooComplex(Exception):
    """A region grew past MAX_BOXES: the question is left to enumeration."""


def meet(a: Box, b: Box, full: Sequence[int]) -> Box | None:
    """The intersection of two boxes, or None when it is empty."""
    if len(b) > len(a):
        a, b = b, a
    out = dict(a)
    for fact, mask in b.items():
        if fact in out:
            mask &= out[fact]
            if not mask:
                return None
        out[fact] = mask
    return out


def meets(a: Box, b: Box) -> bool:
    """Whether two boxes share a combination (meet() without building the intersection)."""
    if len(b) > len(a):
        a, b = b, a
    for fact, mask in b.items():
        other = a.get(fact)
        if other is not None and not other & mask:
            return False
    return True


def intersect(first: Region, second: Region, full: Sequence[int]) -> Region:
    """Where both regions hold."""
    out = []
    for a in first:
        for b in second:
            box = meet(a, b, full)
            if box is not None:
                out.append(box)
        if len(out) > MAX_BOXES:
            raise TooComplex  # checked as it grows: the product of two large regions is never built
    return _merged(out, full)


def union(regions: Iterable[Region], full: Sequence[int]) -> Region:
    out: Region = []
    for region in regions:
        out.extend(region)
    if len(out) > MAX_BOXES:
        raise TooComplex
    return _merged(out, full)


def subtract(region: Region, box: Box, full: Sequence[int]) -> Region:
    """The region without the box: each overlapping box is cut into the disjoint pieces outside it."""
    out: Region = []
    for a in region:
        if meet(a, box, full) is None:
            out.append(a)
            continue
        rest = dict(a)
        for fact, mask in box.items():
            allowed = rest.get(fact, full[fact])
            outside = allowed & ~mask
            if outside:
                piece = dict(rest)
                piece[fact] = outside
                out.append(piece)
            rest[fact] = allowed & mask
    if len(out) > MAX_BOXES:
        raise TooComplex
    return out


def difference(region: Region, others: Iterable[Region], full: Sequence[int]) -> Region:
    """The region without any of the others (empty as soon as they cover it)."""
    for other in others:
        for box in other:
            region = subtract(region, box, full)
            if not region:
                return region
    return region


def contains(region: Region, point: Sequence[int]) -> bool:
    """Whether the class combination `point` (one class per fact position) lies in the region."""
    return any(all(mask >> point[fact] & 1 for fact, mask in box.items()) for box in region)


def hull(region: Region) -> Box:
    """The smallest box holding the region: per fact, every class some box allows (a fact one box
    leaves free is free)."""
    if not region:
        return {}
    out = dict(region[0])
    for box in region[1:]:
        for fact in list(out):
            if fact in box:
                out[fact] |= box[fact]
            else:
                del out[fact]
    return out


def _merged(region: Region, full: Sequence[int]) -> Region:
    """Boxes that name one and the same single fact become one box (`tier == a or tier == b`);
    a box allowing every class of a fact stops naming it; a box holding everything is everything."""
    singles: dict[int, int] = {}
    out: Region = []
    for box in region:
        for fact in [f for f, mask in box.items() if mask == full[f]]:
            box = {k: v for k, v in box.items() if k != fact}
        if not box:
            return [{}]
        if len(box) == 1:
            ((fact, mask),) = box.items()
            singles[fact] = singles.get(fact, 0) | mask
        else:
            out.append(box)
    for fact, mask in singles.items():
        if mask == full[fact]:
            return [{}]
        out.append({fact: mask})
    return out


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

    def __init__(self, policy: c.CheckedPolicy, domains: dict[str, list[Any]], inexact: set[str]) -> None:
        self.policy = policy
        self.facts = list(policy.facts)
        self.position = {name: i for i, name in enumerate(self.facts)}
        self.domains = domains
        self.inexact = inexact
        self.full = [(1 << len(domains[name])) - 1 for name in self.facts]
        self._memo: dict[Any, Truth | None] = {}
        self._lets = affine_lets(policy)
        self._derived_reads: dict[str, Reads] | None = None

    def truth(self, expr: c.CheckedExpr) -> Truth | None:
        key = expr
        if key in self._memo:
            return self._memo[key]
        try:
            found = self._truth(expr)
        except TooComplex:
            found = None
        self._memo[key] = found
        return found

    def _truth(self, expr: c.CheckedExpr) -> Truth | None:
        full = self.full
        match expr:
            case c.Const():
                return Truth(EVERYTHING, []) if expr.value else Truth([], EVERYTHING)
            case c.Logical():
                parts = [self.truth(operand) for operand in expr.operands]
                if any(part is None for part in parts):
                    return None
                known = [p for p in parts if p is not None]
                side = 0 if expr.op == "and" else 1  # the side that intersects; the other joins

                def meeting(k: int = side) -> Region:
                    found = known[0]._side(k)
                    for part in known[1:]:
                        found = intersect(found, part._side(k), full)
                    return found

                def joined(k: int = 1 - side) -> Region:
                    return union((p._side(k) for p in known), full)

                return Truth(meeting, joined) if expr.op == "and" else Truth(joined, meeting)
            case c.Negation():
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
        test = _compiled(expr, name, self.policy.facts[name], self.policy.derived)
        true = false = 0
        try:
            for cls, value in enumerate(self.domains[name]):
                answer = test(value)
                if answer is True:
                    true |= 1 << cls
                elif answer is False:
                    false |= 1 << cls
        except (ArithmeticError, TypeError):  # (EvaluationError is an ArithmeticError)
            return None
        position = self.position[name]
        return Truth(_box(position, true, self.full), _box(position, false, self.full))

    def _affine_atom(self, expr: c.CheckedExpr) -> bool:
        """A comparison of an affine value of one fact with constants (their thresholds are classes)."""
        match expr:
            case c.Comparison() | c.MembershipTest():
                sides = (expr.left, expr.right)
            case c.Range():
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
            match node:
                case c.DerivedRef():
                    inner = self._derived_reads[node.key]
                    found.facts |= inner.facts
                    found.outputs |= inner.outputs
                    found.outside.extend(inner.outside)
                    continue  # (written out, it is its definition: its type is checked there)
                case c.FactRef():
                    found.facts.add(node.name)
                case c.OutputRef():
                    found.outputs.add(node.name)
                case c.NowRef():
                    found.outside.append("it reads `now`")
                case c.Calculation() | c.Minus():
                    found.outside.append("it computes (arithmetic)")
                case c.Comparison() | c.MembershipTest():
                    if not (self._constant(node.left) or self._constant(node.right)):
                        found.outside.append("it compares two values that are not constants")
                case c.Range():
                    if not (self._constant(node.low) and self._constant(node.high)):
                        found.outside.append("`between` has a bound that is not a constant")
                case c.SetBuild():
                    found.outside.append("a set is built from values that are not constants")
            stack.extend(c.children(node))
            if getattr(node, "type", None) == UNKNOWN:
                found.outside.append("a fact's type is not declared")
        found.outside = list(dict.fromkeys(found.outside))
        return found


def _box(position: int, mask: int, full: Sequence[int]) -> Region:
    if not mask:
        return []
    return [{}] if mask == full[position] else [{position: mask}]


def _compiled(expr: c.CheckedExpr, name: str, fact: c.Fact, derived: dict[str, c.Derived] | None = None) -> Any:
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
    function: Any = eval(compile(f"lambda v: {code}", "<analysed condition>", "eval"), namespace)

    def test(value: Any) -> Any:
        with decimal.localcontext(ARITHMETIC):  # as a decision computes
            return function(_bool3(value) if fact.type == BOOL else value)

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

    def __init__(self, truths: dict[int, Region], full: Sequence[int], rank: dict[int, int]) -> None:
        self.truths = truths
        self.full = full
        self.rank = rank
        """rule -> its strength for the output: a rule beats every rule of lower rank (equal ranks tie)."""
        self.rules = sorted(truths, key=lambda i: (-rank[i], i))
        self.hulls = {i: hull(truths[i]) for i in self.rules}
        self.packing = Packing(full)
        self.packed = {i: self.packing.pack(self.hulls[i]) for i in self.rules}
        self.fact = _splitting_fact(self.rules, self.hulls, full)
        self.buckets: dict[int, list[int]] = {}
        self.anywhere: list[int] = []
        """Rules that allow every class of the splitting fact: they meet every bucket, so they are
        kept apart rather than copied into each."""
        for i in self.rules:
            allowed = self._allowed(self.hulls[i])
            if self.fact is None or allowed == full[self.fact]:
                self.anywhere.append(i)
            else:
                for cls in _classes(allowed):
                    self.buckets.setdefault(cls, []).append(i)

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
        together) and, if given, for which `wanted(i, j)` holds; each pair is found once, in the
        bucket of the lowest class both allow."""
        chosen = set(rules)
        hulls, packed = self.hulls, self.packed
        carry, guards = self.packing.carry, self.packing.guards
        allowed = {i: self._allowed(hulls[i]) for i in chosen}
        pairs: list[tuple[int, int]] = []
        for cls, bucket in self.buckets.items():
            lower = (1 << cls) - 1
            members = sorted(i for i in bucket if i in chosen)
            for x, a in enumerate(members):
                allowed_a, packed_a = allowed[a], packed[a]
                for b in members[x + 1 :]:
                    if allowed_a & allowed[b] & lower:
                        continue  # they meet in the bucket of a lower class
                    if ((packed_a & packed[b]) + carry) & guards == guards and (wanted is None or wanted(a, b)):
                        pairs.append((a, b))
        # A rule that allows every class of the splitting fact may meet any rule.
        everywhere = sorted(i for i in self.anywhere if i in chosen)
        others = sorted(chosen - set(everywhere))
        for x, a in enumerate(everywhere):
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

    def meets(self, a: int, b: int) -> bool:
        return ((a & b) + self.carry) & self.guards == self.guards


def _classes(mask: int) -> list[int]:
    return [cls for cls in range(mask.bit_length()) if mask >> cls & 1]


def _splitting_fact(rules: list[int], hulls: dict[int, Box], full: Sequence[int]) -> int | None:
    """The fact whose classes split the rules into the smallest buckets (sum of squared sizes)."""
    named = sorted({fact for i in rules for fact in hulls[i]})
    if not named:
        return None

    def crowding(fact: int) -> int:
        sizes = [0] * full[fact].bit_length()
        for i in rules:
            for cls in _classes(hulls[i].get(fact, full[fact])):
                sizes[cls] += 1
        return sum(n * n for n in sizes)

    return min(named, key=crowding)
