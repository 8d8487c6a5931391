"""A deliberately naive interpreter of checked policies, written from docs/evaluation.md alone: the differential oracle.

It takes policy text and facts and gives the decision as plain data, or raises the error a decision
would raise. It shares the checker with the compiled evaluator (names, enum members and symbols come
resolved in `CheckedPolicy`), but nothing of the compiler, the generated code, the runtime or the
resolution module: every expression is walked recursively, every value is computed the slow and
obvious way, and the order of evaluation is found by repeating "evaluate whatever is ready" until
nothing is left. Where docs/evaluation.md leaves a choice open, the comment at that spot says which
reading this file takes.
"""

from __future__ import annotations

import calendar
import decimal
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import policylang
from policylang.core.datatypes import NUMBER, EnumOf, SetOf, Type
from policylang.core.resolution import Contribution, Resolved
from policylang.core.values import Duration, ValueParseError, parse_duration
from policylang.engine.facts import MISSING, FactProblem, FactsError
from policylang.semantics import typed_tree as c

SECONDS_PER_MONTH = 2_629_746  # docs/evaluation.md section 6: 1/12 of 365.2425 days
SECONDS_PER_DAY = 86_400


class ReferenceCycle(RuntimeError):
    """The reference found nothing ready to evaluate: the checker let a cycle through."""


# --- facts -----------------------------------------------------------------------------------------


def _convert(value: Any, t: Type) -> Any:
    """One fact value to its runtime value (docs/evaluation.md section 1), or ValueError."""
    if value is MISSING:
        return MISSING
    if isinstance(t, EnumOf):
        if isinstance(value, str) and value in t.members:
            return value
        raise ValueError(f"expected one of {t.members}")
    if isinstance(t, SetOf):
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(_convert(v, t.element) for v in value)
        raise ValueError("expected a list")
    name = t.name
    if name == "any":
        return value
    if name == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError("expected a bool")
    if name == "int":
        if isinstance(value, bool):
            raise ValueError("expected an int")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.replace("_", "").isdigit():
            return int(value.replace("_", ""))
        raise ValueError("expected an int")
    if name == "number":
        if isinstance(value, bool):
            raise ValueError("expected a number")
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, Decimal):
            result = value
        elif isinstance(value, str):
            try:
                result = Decimal(value.replace("_", ""))
            except InvalidOperation:
                raise ValueError("expected a number") from None
        else:
            raise ValueError("expected a number")
        if not result.is_finite():
            raise ValueError("expected a finite number")
        return result
    if name == "string":
        if isinstance(value, str):
            return value
        raise ValueError("expected a string")
    if name == "duration":
        if isinstance(value, Duration):
            return value
        if isinstance(value, timedelta):
            return Duration(0, value.days * SECONDS_PER_DAY + value.seconds)
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except ValueParseError:
                pass
        raise ValueError("expected a duration")
    if name == "date":
        if isinstance(value, datetime):
            raise ValueError("expected a date")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError("expected a date")
    if name == "datetime":
        return _as_moment(value)
    if name == "time":
        if isinstance(value, time) and value.tzinfo is None and not value.microsecond:
            return value
        parts = value.split(":") if isinstance(value, str) else []
        if len(parts) in (2, 3) and all(len(p) == 2 and p.isdigit() for p in parts):
            numbers = [int(p) for p in parts]
            if numbers[0] < 24 and all(n < 60 for n in numbers[1:]):
                return time(*numbers)
        raise ValueError("expected a time of day")
    raise AssertionError(f"reference: unknown type {t}")


def _as_moment(value: Any) -> datetime:
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("expected a datetime") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError("expected a datetime with a zone")
    return value.astimezone(UTC)


def validate_facts(policy: c.CheckedPolicy, given: Mapping[str, Any], unknown_facts: str = "reject") -> dict[str, Any]:
    """Every fact of the policy as a runtime value, or FactsError listing each problem."""
    problems: list[FactProblem] = []
    values: dict[str, Any] = {}
    for name, fact in policy.facts.items():
        if name in given and given[name] is not MISSING:
            try:
                values[name] = _convert(given[name], fact.type)
            except ValueError as exc:
                problems.append(FactProblem(name, f"fact `{name}`: {exc}", str(fact.type), given[name]))
        elif fact.has_default:
            values[name] = fact.default
        elif fact.optional or not fact.declared:
            values[name] = MISSING
        else:
            problems.append(FactProblem(name, f"fact `{name}` is missing", str(fact.type), None))
    if policy.facts_declared and unknown_facts == "reject":
        for name in given:
            if name not in policy.facts:
                problems.append(FactProblem(name, f"unknown fact `{name}`", "no such fact", given[name]))
    if problems:
        raise FactsError(problems)
    return values


# --- values ----------------------------------------------------------------------------------------


def total_seconds(d: Duration) -> int:
    return d.months * SECONDS_PER_MONTH + d.seconds


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def key(value: Any) -> Any:
    """What equality means for a runtime value: numbers by value, durations by length, a date as the
    start of its day in UTC, sets by their elements; tagged so that `true` never equals `1`."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | Decimal):
        return ("number", Decimal(value))
    if isinstance(value, Duration):
        return ("duration", total_seconds(value))
    if isinstance(value, datetime):
        return ("time", value.astimezone(UTC))
    if isinstance(value, date):
        return ("time", _midnight(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, time):
        return ("clock", value.hour * 3600 + value.minute * 60 + value.second)
    if isinstance(value, frozenset):
        return ("set", frozenset(key(v) for v in value))
    raise AssertionError(f"reference: no key for {value!r}")


def _enum_of(*exprs: c.CheckedExpr) -> EnumOf | None:
    for e in exprs:
        if isinstance(e.type, EnumOf):
            return e.type
    return None


def _order_key(value: Any, enum: EnumOf | None) -> Any:
    if enum is not None:
        return enum.members.index(value)
    kind, raw = key(value)
    assert kind in ("number", "duration", "time", "clock"), f"reference: {value!r} has no order"
    return raw


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def _whole_days(seconds: int) -> int:
    # "part of a day added to a date is dropped": the fraction goes, towards zero, in both directions.
    days = abs(seconds) // SECONDS_PER_DAY
    return days if seconds >= 0 else -days


def _shift(moment: date | datetime, d: Duration) -> date | datetime:
    """date/datetime + duration: calendar months first, then whole days (date) or exact seconds (datetime)."""
    if isinstance(moment, datetime):
        day = _add_months(moment.date(), d.months)
        moved = datetime.combine(day, moment.timetz())
        # seconds are real time: on a zone's clock (local) they are added in UTC and read back there
        return (moved.astimezone(UTC) + timedelta(seconds=d.seconds)).astimezone(moment.tzinfo)
    return _add_months(moment, d.months) + timedelta(days=_whole_days(d.seconds))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | Decimal) and not isinstance(v, bool)


def _floor(d: Decimal) -> int:
    return int(d.to_integral_value(rounding=ROUND_FLOOR))


def _scale(d: Duration, factor: int | Decimal) -> Duration:
    if isinstance(factor, int):
        # Multiplying by a whole int is exact, so calendar months stay months (2 * 1mo is two months).
        return Duration(d.months * factor, d.seconds * factor)
    return Duration(0, _floor(Decimal(total_seconds(d)) * factor))


def _division_by_zero() -> policylang.EvaluationError:
    return policylang.EvaluationError("division by zero")


def calculate(op: str, a: Any, b: Any) -> Any:
    """`a op b` for present values; a date or time out of range is an EvaluationError, like division
    by zero (a decision that cannot be made; the house style: facts never cause a traceback)."""
    try:
        return _calculate(op, a, b)
    except (OverflowError, ValueError) as exc:
        raise policylang.EvaluationError(f"`{op}` gives a value out of range: {exc}") from None


def _calculate(op: str, a: Any, b: Any) -> Any:
    """`a op b` by the table in docs/language.md ("Arithmetic")."""
    if _is_number(a) and _is_number(b):
        if op == "/":
            if b == 0:
                raise _division_by_zero()
            return Decimal(a) / Decimal(b)
        if isinstance(a, int) and isinstance(b, int):
            return {"+": a + b, "-": a - b, "*": a * b}[op]
        x, y = Decimal(a), Decimal(b)
        return {"+": x + y, "-": x - y, "*": x * y}[op]
    if isinstance(a, Duration) and isinstance(b, Duration):
        if op == "+":
            return Duration(a.months + b.months, a.seconds + b.seconds)
        if op == "-":
            return Duration(a.months - b.months, a.seconds - b.seconds)
        if op == "/":
            if total_seconds(b) == 0:
                raise _division_by_zero()
            return Decimal(total_seconds(a)) / Decimal(total_seconds(b))
    if op == "*" and isinstance(a, Duration) and _is_number(b):
        return _scale(a, b)
    if op == "*" and _is_number(a) and isinstance(b, Duration):
        return _scale(b, a)
    if op == "/" and isinstance(a, Duration) and _is_number(b):
        if b == 0:
            raise _division_by_zero()
        return Duration(0, _floor(Decimal(total_seconds(a)) / Decimal(b)))
    if isinstance(a, date) and isinstance(b, Duration) and op in "+-":
        return _shift(a, b if op == "+" else Duration(-b.months, -b.seconds))
    if op == "+" and isinstance(a, Duration) and isinstance(b, date):
        return _shift(b, a)
    if op == "-" and isinstance(a, date) and isinstance(b, date):
        if not isinstance(a, datetime) and not isinstance(b, datetime):
            return Duration(0, (a - b).days * SECONDS_PER_DAY)
        x = a if isinstance(a, datetime) else _midnight(a)
        y = b if isinstance(b, datetime) else _midnight(b)
        delta = x - y
        return Duration(0, delta.days * SECONDS_PER_DAY + delta.seconds)
    raise AssertionError(f"reference: cannot compute {a!r} {op} {b!r}")


def call(function: str, args: list[Any], number: bool) -> Any:
    """A built-in function on present values, by docs/language.md ("Functions"), written out here
    rather than taken from core/operators.py so that the two can disagree: min and max pick the
    first of the least (greatest) by value, durations by length; abs drops the sign. A number-typed
    call gives a decimal even when it picks an int."""
    if function in ("min", "max"):
        keys = [_order_key(a, None) for a in args]
        best = keys.index(min(keys) if function == "min" else max(keys))
        picked = args[best]
    elif function == "abs":
        (value,) = args
        if isinstance(value, Duration):
            picked = Duration(-value.months, -value.seconds) if total_seconds(value) < 0 else value
        elif isinstance(value, Decimal):
            picked = value.copy_negate() if value < 0 else value  # exact, whatever the context's precision
        else:
            picked = -value if value < 0 else value
    elif function in ("round", "floor", "ceil"):
        picked = _rounded(function, *args)
    elif function == "time_of_day":
        (moment,) = args
        picked = time(moment.hour, moment.minute, moment.second)
    elif function in ("year", "month", "day", "hour", "minute"):
        (moment,) = args
        picked = getattr(moment, function)
    elif function == "weekday":
        (moment,) = args
        picked = calendar.day_name[moment.weekday()].lower()
    elif function == "local":
        moment, zone = args
        try:
            picked = moment.astimezone(zoneinfo.ZoneInfo(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise policylang.EvaluationError(f"no time zone {zone!r}") from None
    else:
        raise AssertionError(f"reference: unknown function {function!r}")
    return Decimal(picked) if number and not isinstance(picked, Duration) else picked


def _rounded(function: str, value: Any, places: Any = None) -> Any:
    """round (halves away from zero), floor and ceil, by docs/language.md ("Functions"), through
    Python's own decimal module: the digit at `places` is kept, the rest rounded off."""
    x = Decimal(value)
    if function == "floor":
        return int(x.to_integral_value(rounding=ROUND_FLOOR))
    if function == "ceil":
        return int(x.to_integral_value(rounding=ROUND_CEILING))
    if places is None:
        return int(x.to_integral_value(rounding=ROUND_HALF_UP))
    with decimal.localcontext(decimal.Context(prec=400)):
        unit = Decimal(10) ** -places
        return (x / unit).to_integral_value(rounding=ROUND_HALF_UP) * unit


def compare(op: str, a: Any, b: Any, enum: EnumOf | None) -> bool:
    if op == "==":
        return key(a) == key(b)
    if op == "!=":
        return key(a) != key(b)
    x, y = _order_key(a, enum), _order_key(b, enum)
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


# --- the decision ----------------------------------------------------------------------------------


@dataclass
class _State:
    policy: c.CheckedPolicy
    facts: dict[str, Any]
    now: datetime
    derived: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)  # resolved: a value or MISSING


def evaluate(e: c.CheckedExpr, s: _State) -> Any:
    """An expression's value: MISSING for a missing value and for an unknown condition."""
    if isinstance(e, c.Const):
        return e.value
    if isinstance(e, c.FactRef):
        return s.facts.get(e.name, MISSING)
    if isinstance(e, c.OutputRef):
        return s.outputs[e.name]
    if isinstance(e, c.DerivedRef):
        return s.derived[e.key]
    if isinstance(e, c.Now):
        return s.now
    if isinstance(e, c.Compare):
        a, b = evaluate(e.left, s), evaluate(e.right, s)
        if a is MISSING or b is MISSING:
            return MISSING
        return compare(e.op, a, b, _enum_of(e.left, e.right))
    if isinstance(e, c.Membership):
        a, b = evaluate(e.left, s), evaluate(e.right, s)
        if a is MISSING or b is MISSING:
            return MISSING
        element, collection = (b, a) if e.op == "contains" else (a, b)
        found = any(key(element) == key(member) for member in collection)
        return not found if e.op == "not in" else found
    if isinstance(e, c.Between):
        v, low, high = evaluate(e.value, s), evaluate(e.low, s), evaluate(e.high, s)
        if MISSING in (v, low, high):
            return MISSING
        enum = _enum_of(e.value, e.low, e.high)
        if isinstance(v, time) and compare(">", low, high, None):
            # docs/language.md, "Times of day": a span whose start is after its end crosses midnight
            return compare("<=", low, v, None) or compare("<=", v, high, None)
        return compare("<=", low, v, enum) and compare("<=", v, high, enum)
    if isinstance(e, c.Presence):
        is_missing = evaluate(e.target, s) is MISSING
        return is_missing if e.missing else not is_missing
    if isinstance(e, c.BoolOp):
        # Kleene, left to right, stopping at the first operand that decides.
        deciding = e.op == "or"  # `true` decides an `or`, `false` an `and`
        result: Any = not deciding
        for operand in e.operands:
            v = evaluate(operand, s)
            if v is MISSING:
                result = MISSING
            elif v is deciding:
                return deciding
        return result
    if isinstance(e, c.Not):
        v = evaluate(e.operand, s)
        return MISSING if v is MISSING else not v
    if isinstance(e, c.Arithmetic):
        a, b = evaluate(e.left, s), evaluate(e.right, s)
        if a is MISSING or b is MISSING:
            return MISSING
        return calculate(e.op, a, b)
    if isinstance(e, c.Negate):
        v = evaluate(e.operand, s)
        if v is MISSING:
            return MISSING
        if isinstance(v, Duration):
            return Duration(-v.months, -v.seconds)
        return -v
    if isinstance(e, c.Call):
        args = [evaluate(x, s) for x in e.args]
        if any(x is MISSING for x in args):
            return MISSING  # as arithmetic: a missing argument makes the call missing
        return call(e.function, args, number=e.type == NUMBER)
    if isinstance(e, c.SetLiteral):
        elements = [evaluate(x, s) for x in e.elements]
        if any(x is MISSING for x in elements):
            return MISSING
        return frozenset(elements)
    if isinstance(e, c.Conditional):
        # docs/language.md, "Conditional values": an unknown condition gives no value; only the
        # value it picks is evaluated (so an error in the other one is never raised).
        chosen = evaluate(e.condition, s)
        if chosen is MISSING:
            return MISSING
        return evaluate(e.then_value if chosen else e.else_value, s)
    raise AssertionError(f"reference: unknown expression {e!r}")


def reads(e: c.CheckedExpr) -> tuple[set[str], set[str]]:
    """(derived keys, output names) that an expression reads directly."""
    derived: set[str] = set()
    outputs: set[str] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, c.DerivedRef):
            derived.add(x.key)
        elif isinstance(x, c.OutputRef):
            outputs.add(x.name)
        elif isinstance(x, c.Compare | c.Membership | c.Arithmetic):
            stack += [x.left, x.right]
        elif isinstance(x, c.Between):
            stack += [x.value, x.low, x.high]
        elif isinstance(x, c.Presence):
            stack.append(x.target)
        elif isinstance(x, c.BoolOp):
            stack += list(x.operands)
        elif isinstance(x, c.Not | c.Negate):
            stack.append(x.operand)
        elif isinstance(x, c.SetLiteral):
            stack += list(x.elements)
        elif isinstance(x, c.Call):
            stack += list(x.args)
        elif isinstance(x, c.Conditional):
            stack += [x.condition, x.then_value, x.else_value]
    return derived, outputs


@dataclass
class Outcome:
    """One output's resolution by the reference: status "value", "default", "absent" or "conflict"."""

    status: str
    value: Any = None
    candidates: tuple[tuple[str, Any], ...] = ()


def resolve(output: c.Output, proposals: list[tuple[c.CheckedRule, Any]]) -> Outcome:
    """docs/evaluation.md section 5, by hand. `proposals` are (rule, value) in rule order."""
    if not proposals:
        return Outcome("default", output.default) if output.has_default else Outcome("absent")
    strategy = output.resolution
    enum = output.type if isinstance(output.type, EnumOf) else None
    values = [v for _, v in proposals]
    if strategy in ("unique", "priority"):
        if strategy == "priority":
            top = max(r.priority for r, _ in proposals)
            proposals = [(r, v) for r, v in proposals if r.priority == top]
        if all(key(v) == key(proposals[0][1]) for _, v in proposals):
            return Outcome("value", proposals[0][1])
        return Outcome("conflict", candidates=tuple((r.id, v) for r, v in proposals))
    if strategy == "first":
        return Outcome("value", values[0])
    if strategy in ("min", "max"):
        best = values[0]
        for v in values[1:]:
            smaller = _order_key(v, enum) < _order_key(best, enum)
            larger = _order_key(v, enum) > _order_key(best, enum)
            if (strategy == "min" and smaller) or (strategy == "max" and larger):
                best = v
        return Outcome("value", best)
    if strategy == "any":
        return Outcome("value", any(v is True for v in values))
    if strategy == "all":
        return Outcome("value", all(v is True for v in values))
    if strategy == "union":
        merged: frozenset[Any] = frozenset()
        for v in values:
            merged = merged | v
        return Outcome("value", merged)
    raise AssertionError(f"reference: unknown resolution {strategy}")


@dataclass
class ReferenceDecision:
    outputs: dict[str, Any]
    fired: list[str]
    conflicts: dict[str, tuple[tuple[str, Any], ...]]
    proposals: dict[str, list[tuple[str, int, int, Any]]]  # output -> (rule id, order, priority, value)
    outcomes: dict[str, Outcome]

    def as_dict(self) -> dict[str, Any]:
        return {"outputs": self.outputs, "fired": self.fired, "conflicts": self.conflicts}


def _moment(as_of: datetime | str | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    return _as_moment(as_of)


def reference_run(
    text: str,
    filename: str,
    facts: Mapping[str, Any],
    as_of: datetime | str | None = None,
    on_conflict: str = "raise",
    *,
    unknown_facts: str = "reject",
    conflict_timing: str = "late",
) -> ReferenceDecision:
    """The decision, with each output's proposals; raises what `decide` should raise.

    Where evaluation order is free (docs/evaluation.md section 3 fixes only "after what it reads"),
    the order matters only to *which* error a decision that has two (a conflict under
    on_conflict="raise" and a division by zero) raises first. `conflict_timing` picks the two
    extremes: "late" resolves an output only when something waiting needs it (and the rest at the
    end), "early" resolves each output as soon as every rule that sets it has been evaluated.
    """
    # docs/evaluation.md section 6: numbers compute with 60 significant digits; leaving the range is
    # an EvaluationError.
    context = decimal.Context(prec=60, Emax=10_000, Emin=-10_000, traps=[decimal.Overflow, decimal.InvalidOperation])
    try:
        with decimal.localcontext(context):
            return _reference_run(text, filename, facts, as_of, on_conflict, unknown_facts, conflict_timing)
    except decimal.DecimalException as exc:
        raise policylang.EvaluationError(f"number out of range ({type(exc).__name__})") from exc


def _reference_run(
    text: str,
    filename: str,
    facts: Mapping[str, Any],
    as_of: datetime | str | None,
    on_conflict: str,
    unknown_facts: str,
    conflict_timing: str,
) -> ReferenceDecision:
    report = policylang.check_source(text, filename)
    if not report.ok or report.policy is None:
        raise policylang.PolicyError(report.diagnostics, report.sources)
    policy = report.policy
    state = _State(policy, validate_facts(policy, facts, unknown_facts), _moment(as_of))

    rules = sorted(policy.rules, key=lambda r: r.order)
    setters: dict[str, set[str]] = {name: set() for name in policy.outputs}
    rule_reads: dict[str, tuple[set[str], set[str]]] = {}
    for rule in rules:
        derived, outputs = reads(rule.condition)
        for action in rule.actions:
            setters[action.output].add(rule.id)
            more_derived, more_outputs = reads(action.value)
            derived |= more_derived
            outputs |= more_outputs
        rule_reads[rule.id] = (derived, outputs)
    derived_reads = {k: reads(d.expr) for k, d in policy.derived.items()}

    proposals: dict[str, list[tuple[c.CheckedRule, Any]]] = {name: [] for name in policy.outputs}
    outcomes: dict[str, Outcome] = {}
    fired: list[c.CheckedRule] = []
    done_rules: set[str] = set()
    pending_derived = list(policy.derived)
    pending_rules = list(rules)

    def ready(needs: tuple[set[str], set[str]]) -> bool:
        derived, outputs = needs
        return derived <= state.derived.keys() and outputs <= state.outputs.keys()

    def settle(name: str) -> None:
        output = policy.outputs[name]
        # Proposals arrive in evaluation order; resolution reads them in rule order (section 5).
        proposals[name].sort(key=lambda proposal: proposal[0].order)
        outcome = resolve(output, proposals[name])
        outcomes[name] = outcome
        if outcome.status == "conflict":
            if on_conflict == "raise":
                resolved = Resolved(
                    "conflict",
                    conflicting=tuple(
                        Contribution(r.id, r.order, r.priority, v)
                        for r, v in proposals[name]
                        if r.id in {rid for rid, _ in outcome.candidates}
                    ),
                )
                raise policylang.ConflictError(name, resolved)
            state.outputs[name] = MISSING  # "mark": a rule that reads it sees it as missing
        elif outcome.status == "absent":
            state.outputs[name] = MISSING
        else:
            state.outputs[name] = outcome.value

    def settle_early() -> bool:
        for name in policy.outputs:
            if name not in state.outputs and setters[name] <= done_rules:
                settle(name)
                return True
        return False

    while pending_derived or pending_rules:
        progress = False
        if conflict_timing == "early" and settle_early():
            continue
        for k in list(pending_derived):
            if ready(derived_reads[k]):
                state.derived[k] = evaluate(policy.derived[k].expr, state)
                pending_derived.remove(k)
                progress = True
        if progress:
            continue
        for rule in list(pending_rules):
            if not ready(rule_reads[rule.id]):
                continue
            pending_rules.remove(rule)
            done_rules.add(rule.id)
            progress = True
            if evaluate(rule.condition, state) is not True:
                continue  # a rule matches only when its condition is true
            fired.append(rule)
            for action in rule.actions:
                value = evaluate(action.value, state)
                if value is MISSING:
                    continue  # an action whose value is missing proposes nothing
                output = policy.outputs[action.output]
                if action.op == "add" and output.has_default:
                    value = output.default | value
                proposals[action.output].append((rule, value))
            if conflict_timing == "early":
                break
        if progress:
            continue
        waiting = set().union(
            *(derived_reads[k][1] for k in pending_derived), *(rule_reads[r.id][1] for r in pending_rules)
        )
        settleable = [o for o in policy.outputs if o in waiting and o not in state.outputs and setters[o] <= done_rules]
        if not settleable:
            raise ReferenceCycle("nothing is ready: a cycle between outputs")
        settle(settleable[0])
    for name in policy.outputs:
        if name not in state.outputs:
            settle(name)

    return ReferenceDecision(
        outputs={name: o.value for name, o in outcomes.items() if o.status in ("value", "default")},
        fired=[r.id for r in sorted(fired, key=lambda r: r.order)],
        conflicts={name: o.candidates for name, o in outcomes.items() if o.status == "conflict"},
        proposals={name: [(r.id, r.order, r.priority, v) for r, v in props] for name, props in proposals.items()},
        outcomes=outcomes,
    )


def reference_decide(
    text: str,
    filename: str,
    facts: Mapping[str, Any],
    as_of: datetime | str | None = None,
    on_conflict: str = "raise",
    *,
    unknown_facts: str = "reject",
    conflict_timing: str = "late",
) -> dict[str, Any]:
    """`dict(outputs=..., fired=[...], conflicts=...)` for the decision, or raises FactsError,
    EvaluationError, ConflictError or PolicyError as `Policy.decide` should.

    `conflicts` maps each conflicted output to its ((rule id, value), ...) in rule order; it can be
    non-empty only with on_conflict="mark".
    """
    return reference_run(
        text, filename, facts, as_of, on_conflict, unknown_facts=unknown_facts, conflict_timing=conflict_timing
    ).as_dict()


# --- comparing decisions ---------------------------------------------------------------------------


def normalise(value: Any) -> Any:
    """A value in a form where equal decisions compare equal: the semantic `key`."""
    return key(value)


def normalise_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    return {name: key(v) for name, v in outputs.items()}


def normalise_conflicts(conflicts: Mapping[str, Any]) -> dict[str, Any]:
    return {name: [(rule, key(v)) for rule, v in pairs] for name, pairs in conflicts.items()}


__all__ = [
    "Outcome",
    "ReferenceCycle",
    "ReferenceDecision",
    "calculate",
    "compare",
    "evaluate",
    "key",
    "normalise_conflicts",
    "normalise_outputs",
    "reference_decide",
    "reference_run",
    "resolve",
    "total_seconds",
    "validate_facts",
]
