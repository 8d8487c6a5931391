"""Per-output combining of the values that matching rules propose: unique, first, priority, min/max, any/all, union.

This is the only code that decides what several matching rules mean together (design sketch,
"Resolving several matching rules"); the evaluator, the reference interpreter and the analysis
all call it. Contributions arrive in rule order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


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
    """Combine the contributions for one output by `strategy`.

    `sort_key` orders values for min/max (enums by declaration order, durations by length); the
    natural order is used when it is None.
    """
    if not contributions:
        if has_default:
            return Resolved("default", default)
        return Resolved("absent")
    rules = tuple(c.rule for c in contributions)
    if strategy == "first":
        first = contributions[0]
        return Resolved("value", first.value, (first.rule,), rules[1:])
    if strategy == "priority":
        top = max(c.priority for c in contributions)
        best = [c for c in contributions if c.priority == top]
        return _agreeing(best, [c for c in contributions if c.priority != top])
    if strategy in ("min", "max"):
        key = sort_key or (lambda v: v)
        pick = min if strategy == "min" else max
        target = key(pick(contributions, key=lambda c: key(c.value)).value)
        winners = tuple(c.rule for c in contributions if key(c.value) == target)
        chosen = next(c.value for c in contributions if key(c.value) == target)
        losers = tuple(r for r in rules if r not in winners)
        return Resolved("value", chosen, winners, losers)
    if strategy in ("any", "all"):
        values = [bool(c.value) for c in contributions]
        result = any(values) if strategy == "any" else all(values)
        winners = tuple(c.rule for c in contributions if bool(c.value) == result)
        losers = tuple(c.rule for c in contributions if bool(c.value) != result)
        return Resolved("value", result, winners, losers)
    if strategy == "union":
        merged: frozenset[Any] = frozenset()
        for c in contributions:
            merged = merged | frozenset(c.value)
        return Resolved("value", merged, rules)
    return _agreeing(list(contributions), [])


def _agreeing(candidates: list[Contribution], overridden: list[Contribution]) -> Resolved:
    """unique (and a priority tie): every candidate must propose the same value."""
    first = candidates[0].value
    if all(c.value == first and _same_kind(c.value, first) for c in candidates[1:]):
        return Resolved("value", first, tuple(c.rule for c in candidates), tuple(c.rule for c in overridden))
    return Resolved("conflict", None, (), tuple(c.rule for c in overridden), tuple(candidates))


def _same_kind(a: Any, b: Any) -> bool:
    """`True == 1` in Python, but a bool and a number never agree in a policy."""
    return isinstance(a, bool) == isinstance(b, bool)
