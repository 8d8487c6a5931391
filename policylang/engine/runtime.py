"""What the generated decision function may call: MISSING, arithmetic that can fail, and per-output resolvers.

Kept apart from codegen so that the generated module's namespace is exactly this, and nothing else.
"""

from __future__ import annotations

import decimal
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from decimal import Decimal, DivisionByZero, InvalidOperation
from operator import itemgetter
from typing import Any, TypeVar

from ..core import operators
from ..core.diagnostics import Code, Diagnostic
from ..core.errors import PolicylangError
from ..core.function_values import CannotCompute, clock_between
from ..core.resolution import Combine, Contribution, Prefer, Resolved, resolution_of, resolve
from ..core.spelling import spell_value
from ..core.values import (
    DURATION_LIMIT_HINT,
    INT_LIMIT,
    LIMIT_HINT,
    MISSING,
    Duration,
    as_datetime,
    difference,
    duration_in_range,
    order_key,
    same_value,
    shift_date,
    shift_datetime,
)
from ..semantics import typed_tree as c

ARITHMETIC = decimal.Context(prec=60, Emax=10_000, Emin=-10_000, traps=[decimal.Overflow, decimal.InvalidOperation])
"""Decisions compute in this context, never the caller's: 60 significant digits, overflow an error."""


class _Unset:
    """Marks a shared atom not computed yet in this decision."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


class EvaluationError(PolicylangError, ArithmeticError):
    """A decision that cannot be made (division by zero; a conflict the caller asked to raise)."""

    code = Code.EVALUATION_ERROR


class InternalError(EvaluationError):
    """A decision that failed on a bug in policylang (an exception it did not raise on purpose);
    `diagnostic` is its `internal-error`, naming the exception. An EvaluationError, so that a caller
    that handles decisions that cannot be made handles this one too, instead of crashing."""

    code = Code.INTERNAL_ERROR

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        self.diagnostics = (diagnostic,)
        super().__init__(diagnostic.message)


class ConflictError(EvaluationError):
    """Matching rules set one output to different values and its resolution cannot decide.

    `output` is the output's name; `contributions` the rules and values that disagree.
    """

    code = Code.CONFLICT

    def __init__(self, output: str, resolved: Resolved) -> None:
        self.output = output
        self.resolved = resolved
        self.contributions = resolved.conflicting
        parts = ", ".join(f"`{x.rule}` says {_shown(x.value)}" for x in resolved.conflicting)
        super().__init__(f"conflict on output `{output}`: {parts}")


def _shown(value: Any) -> str:
    """A value in a run-time message, as the language writes it (`high`, `4h`, `"two words"`)."""
    return spell_value(value)


def bool3(value: Any) -> bool | None:
    """A bool fact's value in three-valued logic: None (unknown) when it is missing."""
    return None if value is MISSING else value


def _divide(a: Any, b: Any) -> Decimal:
    if b == 0:
        raise EvaluationError(f"division by zero ({_shown(a)} / {_shown(b)})")
    try:
        return Decimal(a) / Decimal(b)
    except (DivisionByZero, InvalidOperation) as exc:
        raise EvaluationError(f"cannot divide {_shown(a)} by {_shown(b)}") from exc


def _duration_ratio(a: Duration, b: Duration) -> Decimal:
    if b.total_seconds == 0:
        raise EvaluationError("division by a zero duration")
    return Decimal(a.total_seconds) / Decimal(b.total_seconds)


def _calendar(operation: Callable[..., Any]) -> Callable[..., Any]:
    """Date arithmetic that leaves the years 1 to 9999 is an EvaluationError, not an OverflowError."""

    def guarded(*args: Any) -> Any:
        try:
            return operation(*args)
        except (OverflowError, ValueError) as exc:
            raise EvaluationError("date arithmetic out of range: the result is not in the years 1 to 9999") from exc

    return guarded


def _scale(duration: Duration, factor: Any) -> Duration:
    return _bounded(duration.scale(factor))


def _scale_down(duration: Duration, divisor: Any) -> Duration:
    if divisor == 0:
        raise EvaluationError("division of a duration by zero")
    return _bounded(
        Duration(0, int((Decimal(duration.total_seconds) / Decimal(divisor)).to_integral_value(rounding="ROUND_FLOOR")))
    )


_T = TypeVar("_T")


def _bounded(value: _T) -> _T:
    """An int result within -1e100 to 1e100, a duration within as many seconds (facts and literals
    are too), else an EvaluationError: Python's ints never overflow, so without this a chain of
    squares (`let b = a * a` ...) would compute numbers of millions of digits. Decimals are bounded
    by their context; other values pass."""
    if value.__class__ is int and not -INT_LIMIT <= value <= INT_LIMIT:
        raise EvaluationError(f"the result is too large: {LIMIT_HINT}")
    # `__class__ is` (cheaper than isinstance on this hot path) does not narrow the type for mypy
    if value.__class__ is Duration and not duration_in_range(value):  # type: ignore[arg-type]
        raise EvaluationError(f"the result is too large: {DURATION_LIMIT_HINT}")
    return value


def _arith_any(op: str, a: Any, b: Any) -> Any:
    """Arithmetic on values whose types were not known statically (schema-less facts)."""
    try:
        if op == "+":
            return _bounded(a + b)
        if op == "-":
            return _bounded(a - b)
        if op == "*":
            return _bounded(a * b)
        return _divide(a, b)
    except TypeError as exc:
        raise EvaluationError(f"cannot compute {_shown(a)} {op} {_shown(b)}") from exc


def _call_any(name: str, *args: Any) -> Any:
    """A built-in function on values whose types were not known statically (schema-less facts)."""
    try:
        return operators.FUNCTIONS[name].implementation(*args)
    except CannotCompute as exc:
        raise EvaluationError(str(exc)) from exc
    except TypeError as exc:
        shown = ", ".join(map(_shown, args))
        raise EvaluationError(f"cannot compute {name}({shown})") from exc


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NO_VALUE = _Marker("NO_VALUE")
"""A picker's answer for an output no rule set and that has no default."""
CONFLICTED = _Marker("CONFLICTED")
"""A picker's answer for an output whose matching rules disagree and whose resolution cannot decide."""


def _present(
    picked: Any,
    proposals: list[tuple[int, Any]],
    resolver: Callable[..., Resolved],
    strict: bool,
    is_bool: bool,
    output: str,
) -> Any:
    """An output's value as later rules read it: MISSING (None for bools) when absent or conflicted.

    A conflict raises here when the caller asked for conflicts to raise, since a rule reading a
    conflicted output cannot decide anything either.
    """
    if picked is CONFLICTED:
        if strict:
            raise ConflictError(output, resolver(proposals))
        return None if is_bool else MISSING
    if picked is NO_VALUE:
        return None if is_bool else MISSING
    return picked


def value_order(output: c.Output) -> Callable[[Any], Any] | None:
    """How min/max compare an output's values (core.values.order_key); None for the natural order."""
    return order_key(output.type)


def make_resolver(
    output: c.Output, rules: tuple[c.CheckedRule, ...], may_reorder: bool = True
) -> Callable[[list[tuple[int, Any]]], Resolved]:
    """The resolver of one output: proposals (rule index, value) in rule order -> Resolved.

    The common strategies work directly on the proposal tuples (this runs once per output per
    decision); the general `resolution.resolve` handles conflicts and anything else, so the rules of
    combining still live in one place, and tests check that the two agree.
    """
    ids = [rule.id for rule in rules]
    priorities = [rule.priority for rule in rules]
    strategy = output.resolution
    none_matched = resolve(strategy, (), has_default=output.has_default, default=output.default)
    sort_key = value_order(output)

    def in_rule_order(proposals: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        # Rules that read outputs run after them, so proposals may arrive out of rule order.
        if any(proposals[k][0] > proposals[k + 1][0] for k in range(len(proposals) - 1)):
            return sorted(proposals, key=_first)
        return proposals

    def general(proposals: list[tuple[int, Any]]) -> Resolved:
        return resolve(strategy, [Contribution(ids[i], i, priorities[i], v) for i, v in proposals], sort_key=sort_key)

    def single_or(fast: Callable[[list[tuple[int, Any]]], Resolved]) -> Callable[[list[tuple[int, Any]]], Resolved]:
        def resolver(proposals: list[tuple[int, Any]]) -> Resolved:
            if not proposals:
                return none_matched
            if len(proposals) == 1:
                index, value = proposals[0]
                return Resolved("value", value, (ids[index],))
            return fast(in_rule_order(proposals) if may_reorder else proposals)

        return resolver

    resolution = resolution_of(strategy)
    prefer = resolution.prefer
    if prefer in (Prefer.SMALLER_VALUE, Prefer.LARGER_VALUE):
        pick = min if prefer is Prefer.SMALLER_VALUE else max
        key = sort_key or _identity

        def extreme(proposals: list[tuple[int, Any]]) -> Resolved:
            keys = [key(value) for _, value in proposals]  # one key per proposal: keys may be costly
            best = pick(keys)
            chosen = proposals[keys.index(best)][1]
            winners = tuple(ids[i] for (i, _), k in zip(proposals, keys, strict=True) if k == best)
            losers = tuple(ids[i] for (i, _), k in zip(proposals, keys, strict=True) if k != best)
            return Resolved("value", chosen, winners, losers)

        return single_or(extreme)
    if prefer in (Prefer.TRUE, Prefer.FALSE):
        fold = any if prefer is Prefer.TRUE else all  # the preferred value wins when any rule proposes it

        def boolean(proposals: list[tuple[int, Any]]) -> Resolved:
            result = fold(v for _, v in proposals)
            return Resolved(
                "value",
                result,
                tuple(ids[i] for i, v in proposals if bool(v) == result),
                tuple(ids[i] for i, v in proposals if bool(v) != result),
            )

        return single_or(boolean)
    if resolution.combine is Combine.JOIN:

        def union(proposals: list[tuple[int, Any]]) -> Resolved:
            if not proposals:
                return none_matched
            if may_reorder:
                proposals = in_rule_order(proposals)
            return Resolved("value", frozenset().union(*(v for _, v in proposals)), tuple(ids[i] for i, _ in proposals))

        return union
    if prefer is Prefer.EARLIER_RULE:

        def first(proposals: list[tuple[int, Any]]) -> Resolved:
            index, value = proposals[0]
            return Resolved("value", value, (ids[index],), tuple(ids[i] for i, _ in proposals[1:]))

        return single_or(first)
    if prefer is Prefer.HIGHER_PRIORITY:

        def by_priority(proposals: list[tuple[int, Any]]) -> Resolved:
            top = max(priorities[i] for i, _ in proposals)
            best = [(i, v) for i, v in proposals if priorities[i] == top]
            value = best[0][1]
            if all(same_value(v, value) for _, v in best[1:]):
                return Resolved(
                    "value",
                    value,
                    tuple(ids[i] for i, _ in best),
                    tuple(ids[i] for i, _ in proposals if priorities[i] != top),
                )
            return general(proposals)

        return single_or(by_priority)

    def unique(proposals: list[tuple[int, Any]]) -> Resolved:
        value = proposals[0][1]
        if all(same_value(v, value) for _, v in proposals[1:]):
            return Resolved("value", value, tuple(ids[i] for i, _ in proposals))
        return general(proposals)

    return single_or(unique)


def make_picker(
    output: c.Output, rules: tuple[c.CheckedRule, ...], may_reorder: bool = True
) -> Callable[[list[tuple[int, Any]]], Any]:
    """The value-only resolver of one output, for the hot path: proposals -> value, NO_VALUE or CONFLICTED.

    It answers what `make_resolver` would put in `Resolved.value` (the default when nothing matched)
    without building the winners and overridden rules; a Decision builds those from the proposals
    only when asked. Tests check that the two agree for every strategy.
    """
    priorities = [rule.priority for rule in rules]
    strategy = output.resolution
    nothing = output.default if output.has_default else NO_VALUE
    resolution = resolution_of(strategy)
    prefer = resolution.prefer
    order = order_key(output.type)
    key: Callable[[tuple[int, Any]], Any] = _second
    if order is not None:
        rank = order

        def key(pair: tuple[int, Any]) -> Any:
            return rank(pair[1])

    def ordered(proposals: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        # Rules that read outputs run after them, so proposals may arrive out of rule order.
        return sorted(proposals, key=_first) if may_reorder else proposals

    if prefer in (Prefer.SMALLER_VALUE, Prefer.LARGER_VALUE):
        pick = min if prefer is Prefer.SMALLER_VALUE else max

        def extreme(proposals: list[tuple[int, Any]]) -> Any:
            if len(proposals) < 2:
                return proposals[0][1] if proposals else nothing
            return pick(ordered(proposals), key=key)[1]  # min/max keep the first of equal keys: rule order

        return extreme
    if prefer in (Prefer.TRUE, Prefer.FALSE):
        fold = any if prefer is Prefer.TRUE else all  # the preferred value wins when any rule proposes it

        def boolean(proposals: list[tuple[int, Any]]) -> Any:
            if not proposals:
                return nothing
            return fold([v for _, v in proposals])

        return boolean
    if resolution.combine is Combine.JOIN:

        def union(proposals: list[tuple[int, Any]]) -> Any:
            if len(proposals) < 2:
                return proposals[0][1] if proposals else nothing
            return frozenset().union(*[v for _, v in proposals])

        return union
    if prefer is Prefer.EARLIER_RULE:

        def first(proposals: list[tuple[int, Any]]) -> Any:
            if len(proposals) < 2:
                return proposals[0][1] if proposals else nothing
            return min(proposals, key=_first)[1] if may_reorder else proposals[0][1]

        return first

    def agreeing(candidates: list[tuple[int, Any]]) -> Any:
        value = candidates[0][1]
        kind = value.__class__ is bool
        for _, other in candidates:
            # same_value(other, value), inlined: this runs for every conflict-prone output of every decision
            if other != value or (other.__class__ is bool) != kind:
                return CONFLICTED
        return value

    if prefer is Prefer.HIGHER_PRIORITY:

        def by_priority(proposals: list[tuple[int, Any]]) -> Any:
            if len(proposals) < 2:
                return proposals[0][1] if proposals else nothing
            top = max([priorities[i] for i, _ in proposals])
            return agreeing(ordered([p for p in proposals if priorities[p[0]] == top]))

        return by_priority

    def unique(proposals: list[tuple[int, Any]]) -> Any:
        if len(proposals) < 2:
            return proposals[0][1] if proposals else nothing
        return agreeing(ordered(proposals))

    return unique


def _second(pair: tuple[int, Any]) -> Any:
    return pair[1]


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def _identity(value: Any) -> Any:
    return value


def namespace(policy: c.CheckedPolicy, rule_index: dict[str, int], may_reorder: bool = True) -> dict[str, Any]:
    """The globals of a generated decision module."""
    rules = policy.rules
    names = helpers()
    for i, output in enumerate(policy.outputs.values()):
        names[f"_resolve{i}"] = make_resolver(output, rules, may_reorder)
        names[f"_pick{i}"] = make_picker(output, rules, may_reorder)
    names["CONFLICTED"] = CONFLICTED
    names["NO_VALUE"] = NO_VALUE
    return names


def set_words(mask: int, words: int) -> tuple[int, ...]:
    """The `words` 32-bit words of `mask`, lowest first: an index's candidates a word at a time."""
    return tuple(memoryview(mask.to_bytes(4 * words, "little")).cast("I"))


def zero_words(data: bytes) -> tuple[int, ...]:
    """The 64-bit words of an index's candidates mask (`data`: its bytes, a multiple of 8), each
    tested only for zero (so their byte order does not matter): the walk skips 64 rules at once."""
    return tuple(memoryview(data).cast("Q"))


def sort_tail(items: list[Any], start: int, key: Callable[[Any], Any]) -> None:
    """Sorts `items[start:]` in place, stably: the proposals ((rule, value) pairs, sorted by `key`,
    the rule, so that values are never compared) that a run of rules walked out of rule order
    appended to an output's, back into rule order."""
    if start:
        items[start:] = sorted(items[start:], key=key)
    else:
        items.sort(key=key)


def helpers() -> dict[str, Any]:
    """The globals generated code may use besides the policy's constants (the runtime's helpers)."""
    return {
        "__builtins__": {
            "frozenset": frozenset,
            "len": len,
            "True": True,
            "False": False,
            "None": None,
        },
        "MISSING": MISSING,
        "UNSET": UNSET,
        "_bool3": bool3,  # the name generated code calls it by
        "_Failure": Exception,  # the outputs-only function hands any error over to the full function
        "_divide": _divide,
        "_duration_ratio": _duration_ratio,
        "_scale": _scale,
        "_scale_down": _scale_down,
        "_shift_date": _calendar(shift_date),
        "_shift_datetime": _calendar(shift_datetime),
        "_difference": _calendar(difference),
        "_as_datetime": as_datetime,
        "_arith_any": _arith_any,
        "_bounded": _bounded,
        "_present": _present,
        "_number": Decimal,
        "_call_any": _call_any,
        "_clock_between": clock_between,
        "_words": set_words,
        "_zero_words": zero_words,
        "_sort_tail": sort_tail,
        "_by_rule": itemgetter(0),
        "_bisect_left": bisect_left,
        "_bisect_right": bisect_right,
        **{
            function.helper: _failing_as_evaluation_error(function.implementation)
            if function.may_fail
            else function.implementation
            for function in operators.FUNCTIONS.values()
        },
    }


def _failing_as_evaluation_error(implementation: Callable[..., Any]) -> Callable[..., Any]:
    """A function whose implementation may refuse its arguments (`local` with a zone that does not
    exist, named by a fact): the refusal becomes the decision's EvaluationError."""

    def guarded(*args: Any) -> Any:
        try:
            return implementation(*args)
        except CannotCompute as exc:
            raise EvaluationError(str(exc)) from exc

    return guarded
