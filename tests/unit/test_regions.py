"""The region algebra of the analysis (policylang/analysis/regions.py) against sets of points.

A box over three small facts is the set of class combinations it allows; every operation must
give exactly the set that the same operation on those point sets gives. Also: packed boxes meet
exactly when their boxes do, and the bucketed pair search finds exactly the pairs whose hulls meet.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from policylang.analysis.boxes import contains, difference, hull, intersect, meet, meets, subtract, union
from policylang.analysis.regions import Packing, RuleRegions

WIDTHS = (3, 2, 5)
FULL = [(1 << w) - 1 for w in WIDTHS]
POINTS = list(itertools.product(*(range(w) for w in WIDTHS)))


@st.composite
def boxes(draw: st.DrawFn) -> dict[int, int]:
    box = {}
    for fact, width in enumerate(WIDTHS):
        if draw(st.booleans()):
            box[fact] = draw(st.integers(min_value=1, max_value=(1 << width) - 1))  # never empty, as in regions
    return box


regions = st.lists(boxes(), max_size=4)


def points(region: list[dict[int, int]]) -> set[tuple[int, ...]]:
    return {p for p in POINTS if contains(region, p)}


@given(regions, regions)
def test_intersect_and_union_are_the_point_sets(first: list[dict[int, int]], second: list[dict[int, int]]) -> None:
    assert points(intersect(first, second, FULL)) == points(first) & points(second)
    assert points(union([first, second], FULL)) == points(first) | points(second)


@given(regions, boxes())
def test_subtract_removes_exactly_the_box(region: list[dict[int, int]], box: dict[int, int]) -> None:
    assert points(subtract(region, box, FULL)) == points(region) - points([box])


@given(regions, st.lists(regions, max_size=3))
def test_difference_is_the_point_set(region: list[dict[int, int]], others: list[list[dict[int, int]]]) -> None:
    expected = points(region)
    for other in others:
        expected -= points(other)
    assert points(difference(region, others, FULL)) == expected


@given(regions)
def test_hull_holds_the_region(region: list[dict[int, int]]) -> None:
    assert points(region) <= points([hull(region)]) if region else True


@given(boxes(), boxes())
def test_meets_and_packed_meets_agree_with_the_points(a: dict[int, int], b: dict[int, int]) -> None:
    expected = bool(points([a]) & points([b]))
    assert meets(a, b) == expected
    assert (meet(a, b, FULL) is not None) == expected
    packing = Packing(FULL)
    assert packing.meets(packing.pack(a), packing.pack(b)) == expected


@given(st.lists(regions.filter(bool), min_size=2, max_size=8), st.data())
def test_bucketed_pairs_are_the_meeting_pairs(truths: list[list[dict[int, int]]], data: st.DataObject) -> None:
    rank = {i: data.draw(st.integers(min_value=0, max_value=2)) for i in range(len(truths))}
    index = RuleRegions(dict(enumerate(truths)), FULL, rank)
    expected = [
        (i, j) for i, j in itertools.combinations(range(len(truths)), 2) if meets(hull(truths[i]), hull(truths[j]))
    ]
    assert index.meeting_pairs(range(len(truths))) == expected
    # ... and the stronger rules of each are exactly those of higher rank whose hulls meet its own
    for i in range(len(truths)):
        found = index.stronger(i, index.hulls[i])
        wanted = [truths[k] for k in range(len(truths)) if rank[k] > rank[i] and meets(hull(truths[k]), index.hulls[i])]
        assert sorted(map(repr, found)) == sorted(map(repr, wanted))
