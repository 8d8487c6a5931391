"""Boxes and regions: the set algebra the analysis decides its questions with.

A *box* allows, per fact, a set of classes (a bitmask over fact_domains.py's classes; a fact it does
not name may take any class); a *region* is a union of boxes. regions.py turns conditions into
regions; this module only meets, joins and subtracts them, and gives up (TooComplex) on a region
that grows past MAX_BOXES.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .budget import Deadline

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


def meet_all(boxes: list[Box], full: Sequence[int]) -> Region:
    """The intersection of the boxes, in one pass over them (linear in their size together)."""
    out: Box = {}
    for box in boxes:
        for fact, mask in box.items():
            if fact in out:
                mask &= out[fact]
                if not mask:
                    return []
            out[fact] = mask
    return _merged([out], full)


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


def difference(
    region: Region, others: Iterable[Region], full: Sequence[int], deadline: Deadline | None = None
) -> Region:
    """The region without any of the others (empty as soon as they cover it); with a deadline,
    checked once per other region (thousands of rules can beat one)."""
    for other in others:
        if deadline is not None:
            deadline.check()
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
