"""first_hit's conflict checks, found in linear time (issue 14), are exactly those the pairwise
definition gives: for each proposal in resolution order, the later ones of equal rank with another
value (a bool never equals a number; 1 equals 1.0), or none at all when there are too many."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policylang.core.resolution import resolution_of
from policylang.core.values import Duration, same_value
from policylang.engine.first_hit import _conflicts_after, _Entry

VALUES: tuple[Any, ...] = (
    1,
    Decimal("1.0"),
    True,
    False,
    0,
    "a",
    "b",
    frozenset({"x"}),
    frozenset(),
    Duration(seconds=3600),
    Duration(months=1),
    Duration(seconds=2_629_746),
)


def _pairwise(strategy: str, ordered: list[_Entry]) -> list[list[_Entry]]:
    """The definition, asked of every pair (what first_hit did before)."""
    resolution = resolution_of(strategy)
    if not resolution.may_conflict or not resolution.ranks_rules:
        return [[] for _ in ordered]
    rank = [resolution.rank(e.rule, e.priority, None) for e in ordered]
    found = []
    for i, chosen in enumerate(ordered):
        later = []
        for j in range(i + 1, len(ordered)):
            if rank[j] != rank[i]:
                break
            if not same_value(ordered[j].value, chosen.value):
                later.append(ordered[j])
        found.append(later)
    return found


@st.composite
def ordered_entries(draw: st.DrawFn) -> tuple[str, list[_Entry]]:
    strategy = draw(st.sampled_from(("unique", "priority", "first", "min", "any")))
    count = draw(st.integers(0, 30))
    priorities = sorted(draw(st.lists(st.integers(0, 3), min_size=count, max_size=count)), reverse=True)
    entries = [_Entry(i, priority, draw(st.sampled_from(VALUES))) for i, priority in enumerate(priorities)]
    return strategy, entries


@given(case=ordered_entries(), limit=st.integers(0, 200))
def test_the_checks_are_the_pairwise_ones(case: tuple[str, list[_Entry]], limit: int) -> None:
    strategy, ordered = case
    expected = _pairwise(strategy, ordered)
    found = _conflicts_after(strategy, ordered, limit)
    if sum(len(later) for later in expected) > limit:
        assert found is None
    else:
        assert found is not None
        assert [[e.rule for e in later] for later in found] == [[e.rule for e in later] for later in expected]


def test_a_long_tie_with_one_odd_value_is_listed_without_comparing_every_pair() -> None:
    """10,000 tied proposals of one value and a last of another: each has one check."""
    ordered = [_Entry(i, 0, "same") for i in range(10_000)] + [_Entry(10_000, 0, "odd")]
    found = _conflicts_after("unique", ordered, 4 * len(ordered))
    assert found is not None
    assert all([e.rule for e in later] == [10_000] for later in found[:-1])
    assert found[-1] == []
    assert _conflicts_after("unique", ordered, 9_999) is None
