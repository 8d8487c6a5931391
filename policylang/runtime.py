"""What the generated decision function may call: MISSING, arithmetic that can fail, and per-output resolvers.

Kept apart from codegen so that the generated module's namespace is exactly this, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

from . import checked as c
from .datatypes import DURATION, EnumOf
from .facts import MISSING
from .resolution import Contribution, Resolved, resolve
from .values import Duration, as_datetime, difference, shift_date, shift_datetime


class EvaluationError(ArithmeticError):
    """A decision that cannot be made (division by zero; a conflict the caller asked to raise)."""


class ConflictError(EvaluationError):
    """Matching rules set one output to different values and its resolution cannot decide.

    `output` is the output's name; `contributions` the rules and values that disagree.
    """

    def __init__(self, output: str, resolved: Resolved) -> None:
        self.output = output
        self.resolved = resolved
        self.contributions = resolved.conflicting
        parts = ", ".join(f"`{x.rule}` says {_shown(x.value)}" for x in resolved.conflicting)
        super().__init__(f"conflict on output `{output}`: {parts}")


def _shown(value: Any) -> str:
    from .values import format_duration

    if isinstance(value, Duration):
        return format_duration(value)
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return repr(value) if isinstance(value, str) else str(value)


def _bool3(value: Any) -> bool | None:
    return None if value is MISSING else value


def _divide(a: Any, b: Any) -> Decimal:
    if b == 0:
        raise EvaluationError(f"division by zero ({a} / {b})")
    try:
        return Decimal(a) / Decimal(b)
    except (DivisionByZero, InvalidOperation) as exc:
        raise EvaluationError(f"cannot divide {a} by {b}") from exc


def _duration_ratio(a: Duration, b: Duration) -> Decimal:
    if b.total_seconds == 0:
        raise EvaluationError("division by a zero duration")
    return Decimal(a.total_seconds) / Decimal(b.total_seconds)


def _scale(duration: Duration, factor: Any) -> Duration:
    return duration.scale(factor)


def _scale_down(duration: Duration, divisor: Any) -> Duration:
    if divisor == 0:
        raise EvaluationError("division of a duration by zero")
    return Duration(0, int((Decimal(duration.total_seconds) / Decimal(divisor)).to_integral_value(rounding="ROUND_FLOOR")))


def _arith_any(op: str, a: Any, b: Any) -> Any:
    """Arithmetic on values whose types were not known statically (schema-less facts)."""
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return _divide(a, b)
    except TypeError as exc:
        raise EvaluationError(f"cannot compute {_shown(a)} {op} {_shown(b)}") from exc


def _present(resolved: Resolved, strict: bool, is_bool: bool, output: str) -> Any:
    """An output's value as later rules read it: MISSING (None for bools) when absent or conflicted.

    A conflict raises here when the caller asked for conflicts to raise, since a rule reading a
    conflicted output cannot decide anything either.
    """
    if resolved.status in ("value", "default"):
        return resolved.value
    if resolved.status == "conflict" and strict:
        raise ConflictError(output, resolved)
    return None if is_bool else MISSING


def make_resolver(output: c.Output, rules: tuple[c.CheckedRule, ...]) -> Callable[[list[tuple[int, Any]]], Resolved]:
    """The resolver of one output: contributions (rule index, value) in rule order -> Resolved."""
    ids = [rule.id for rule in rules]
    priorities = [rule.priority for rule in rules]
    strategy = output.resolution
    none_matched = resolve(strategy, (), has_default=output.has_default, default=output.default)
    sort_key: Callable[[Any], Any] | None = None
    if isinstance(output.type, EnumOf):
        ranks = {m: i for i, m in enumerate(output.type.members)}
        sort_key = ranks.__getitem__
    elif output.type == DURATION:
        sort_key = _total_seconds
    elif output.type.__str__() in ("date", "datetime"):
        sort_key = _moment

    def resolver(contributions: list[tuple[int, Any]]) -> Resolved:
        if not contributions:
            return none_matched
        if len(contributions) == 1 and strategy != "union":
            index, value = contributions[0]
            return Resolved("value", value, (ids[index],))
        return resolve(
            strategy,
            [Contribution(ids[i], i, priorities[i], v) for i, v in contributions],
            sort_key=sort_key,
        )

    return resolver


def _total_seconds(value: Duration) -> int:
    return value.total_seconds


def _moment(value: date | datetime) -> datetime:
    return as_datetime(value)


def namespace(policy: c.CheckedPolicy, rule_index: dict[str, int]) -> dict[str, Any]:
    """The globals of a generated decision module."""
    rules = policy.rules
    names: dict[str, Any] = {
        "__builtins__": {"frozenset": frozenset, "True": True, "False": False, "None": None},
        "MISSING": MISSING,
        "_bool3": _bool3,
        "_divide": _divide,
        "_duration_ratio": _duration_ratio,
        "_scale": _scale,
        "_scale_down": _scale_down,
        "_shift_date": shift_date,
        "_shift_datetime": shift_datetime,
        "_difference": difference,
        "_as_datetime": as_datetime,
        "_arith_any": _arith_any,
        "_present": _present,
    }
    for i, output in enumerate(policy.outputs.values()):
        names[f"_resolve{i}"] = make_resolver(output, rules)
    return names
