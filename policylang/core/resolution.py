"""Per-output combining of the values that matching rules propose: unique, first, priority, min/max, any/all, union.

Each resolution is declared once, in RESOLUTIONS: which types it fits, which proposal it prefers
(`Resolution.rank`), how the most preferred proposals combine (`Resolution.combine`), and how an
explanation words it. `resolve` below reads that entry, and so do the evaluator's fast resolvers
(engine/runtime.py), the first-hit decision function's rule order (engine/first_hit.py), the
analysis' notion of which rule overrides which (analysis/analyser.py) and the explanation's wording
(explain/rendering.py); none of them names a strategy of its own. Contributions arrive in rule
order (design sketch, "Resolving several matching rules").
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

from .datatypes import BOOL, UNKNOWN, SetOf, Type, is_ordered
from .values import same_value


class Prefer(enum.Enum):
    """Which of several matching proposals a resolution prefers; equally preferred ones tie."""

    NOTHING = "every proposal alike"
    EARLIER_RULE = "the earlier rule"
    HIGHER_PRIORITY = "the higher priority"
    SMALLER_VALUE = "the smaller value"
    LARGER_VALUE = "the larger value"
    TRUE = "true"
    FALSE = "false"


class Combine(enum.Enum):
    """What the most preferred proposals (those of the top rank) make together."""

    AGREE = "they must propose the same value, else a conflict"
    FIRST = "the first of them in rule order gives the value; they all win"
    JOIN = "their sets are joined"


@dataclass(frozen=True, slots=True)
class Resolution:
    """One resolution strategy, as every stage reads it."""

    name: str
    prefer: Prefer
    combine: Combine
    phrase: str
    """How an explanation says what the resolution does ("the smallest value wins")."""
    fits: Callable[[Type], bool]
    """Whether it can combine values of a type (`resolve min` on a bool cannot); UNKNOWN always fits."""

    def rank(self, index: int, priority: int, key: Any) -> Any:
        """A proposal's strength: the higher rank wins, equal ranks tie. `index` is the rule's place in
        the file, `key` the proposed value's order key (core.values.order_key), or the value itself."""
        prefer = self.prefer
        if prefer is Prefer.EARLIER_RULE:
            return -index
        if prefer is Prefer.HIGHER_PRIORITY:
            return priority
        if prefer is Prefer.SMALLER_VALUE:
            return _Reversed(key)
        if prefer is Prefer.LARGER_VALUE:
            return key
        if prefer is Prefer.TRUE:
            return bool(key)
        if prefer is Prefer.FALSE:
            return not key
        return 0

    @property
    def ranks_rules(self) -> bool:
        """Whether a proposal's rank depends only on its rule (its place or priority), not on its value."""
        return self.prefer in (Prefer.NOTHING, Prefer.EARLIER_RULE, Prefer.HIGHER_PRIORITY)

    @property
    def may_conflict(self) -> bool:
        """Whether matching rules can disagree in a way this resolution cannot decide."""
        return self.combine is Combine.AGREE

    @property
    def needs_every_match(self) -> bool:
        """Whether the value needs every matching rule (no first match can stand for the rest)."""
        return self.combine is Combine.JOIN


@total_ordering
@dataclass(frozen=True, slots=True)
class _Reversed:
    """A key in reverse order: the smaller value ranks higher."""

    key: Any

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.key < self.key)


def _any_type(t: Type) -> bool:
    return True


def _is_bool(t: Type) -> bool:
    return t == BOOL


def _of(check: Callable[[Type], bool]) -> Callable[[Type], bool]:
    return lambda t: t == UNKNOWN or check(t)


RESOLUTIONS: dict[str, Resolution] = {
    r.name: r
    for r in (
        Resolution("unique", Prefer.NOTHING, Combine.AGREE, "matching rules must agree", _any_type),
        Resolution(
            "first", Prefer.EARLIER_RULE, Combine.FIRST, "the first matching rule in file order wins", _any_type
        ),
        Resolution("priority", Prefer.HIGHER_PRIORITY, Combine.AGREE, "the highest priority wins", _any_type),
        Resolution("min", Prefer.SMALLER_VALUE, Combine.FIRST, "the smallest value wins", _of(is_ordered)),
        Resolution("max", Prefer.LARGER_VALUE, Combine.FIRST, "the largest value wins", _of(is_ordered)),
        Resolution("any", Prefer.TRUE, Combine.FIRST, "true when any matching rule says true", _of(_is_bool)),
        Resolution("all", Prefer.FALSE, Combine.FIRST, "true only when every matching rule says true", _of(_is_bool)),
        Resolution(
            "union",
            Prefer.NOTHING,
            Combine.JOIN,
            "the values of every matching rule are joined",
            _of(lambda t: isinstance(t, SetOf)),
        ),
    )
}
"""Every resolution the language has, by the name `resolve` takes; `unique` is the default."""


def resolution_of(name: str) -> Resolution:
    """The entry for a resolution's name; `unique` for a name the checker has already reported."""
    return RESOLUTIONS.get(name) or RESOLUTIONS["unique"]


def resolution_fits(resolution: str, t: Type) -> bool:
    """Whether a resolution strategy can combine values of this type (an unknown strategy fits anything:
    the checker reports it by name)."""
    entry = RESOLUTIONS.get(resolution)
    return entry is None or entry.fits(t)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One matching rule's proposal for one output."""

    rule: str
    order: int
    priority: int
    value: Any


@dataclass(frozen=True, slots=True)
class Resolved:
    """The outcome for one output.

    `status` is "value" (a rule or rules decided), "default" (none matched; the default applies),
    "absent" (none matched, no default) or "conflict" (matching rules disagree and the resolution
    cannot decide). `winners` are the rules whose values made the result; `overridden` the
    matching rules whose values did not count.
    """

    status: str
    value: Any = None
    winners: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()
    conflicting: tuple[Contribution, ...] = ()


def resolve(
    strategy: str,
    contributions: Sequence[Contribution],
    *,
    has_default: bool = False,
    default: Any = None,
    sort_key: Any = None,
) -> Resolved:
    """Combine the contributions for one output by `strategy` (a name in RESOLUTIONS; any other
    name is taken as `unique`).

    `sort_key` orders values for min/max (enums by declaration order, durations by length); the
    natural order is used when it is None.
    """
    if not contributions:
        if has_default:
            return Resolved("default", default)
        return Resolved("absent")
    entry = resolution_of(strategy)
    key = sort_key or _identity
    ranks = [entry.rank(position, c.priority, key(c.value)) for position, c in enumerate(contributions)]
    top = max(ranks)
    best = [c for c, rank in zip(contributions, ranks, strict=True) if rank == top]
    others = tuple(c.rule for c, rank in zip(contributions, ranks, strict=True) if rank != top)
    if entry.combine is Combine.JOIN:
        merged: frozenset[Any] = frozenset()
        for c in best:
            merged = merged | frozenset(c.value)
        return Resolved("value", merged, tuple(c.rule for c in best), others)
    if entry.combine is Combine.FIRST:
        value = best[0].value
        if entry.prefer in (Prefer.TRUE, Prefer.FALSE):
            value = bool(value)
        return Resolved("value", value, tuple(c.rule for c in best), others)
    first = best[0].value
    if all(same_value(c.value, first) for c in best[1:]):
        return Resolved("value", first, tuple(c.rule for c in best), others)
    return Resolved("conflict", None, (), others, tuple(best))


def _identity(value: Any) -> Any:
    return value
