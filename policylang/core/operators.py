"""Every operator and built-in function of the language, declared once: what each stage needs to know of it.

The grammar (syntax/grammar.lark) fixes how operators nest; everything else about an operator is
read from here: the formatter's binding levels and spellings, the checker's wording, the Python
operator the code generator emits, whether the analysis understands it, and how why-not words a
comparison. A built-in function is one `Function` entry: its name, arity, type rule, Python
implementation (what decisions and traces compute), its meaning for the analysis and why-not, and
an example the operator-table test builds a policy from. Adding one is this entry, a test and the
docs (docs/architecture.md, "Adding an operator or a function").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from . import function_values as fv
from .datatypes import DATE, DATETIME, DURATION, INT, NUMBER, STRING, TIME, UNKNOWN, EnumOf, Type, describe, is_numeric
from .diagnostics import Code, did_you_mean
from .values import Duration

# Binding levels, loosest first: an operand that binds looser than its slot is parenthesised by the
# formatter. grammar.lark's expression rules are written in this order (tests/unit/test_operator_table.py).
CONDITIONAL, OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, ATOM = range(0, 9)


class Analysis(StrEnum):
    """What the analysis knows of an operator or function.

    EXACT: the region and domain code splits fact values at its constants and decides it exactly.
    AFFINE: exact where it computes `scale * fact + offset` of one fact with constants
    (fact_domains.affine); anywhere else it takes the expression outside the fragment.
    OPAQUE: the analysis does not look inside; whatever reads it is outside the fragment, so the
    analysis reports `analysis-incomplete` for it and never claims an absence there.
    """

    EXACT = "exact"
    AFFINE = "affine"
    OPAQUE = "opaque"


class Proposal(StrEnum):
    """How why-not proposes a value for a fact that an operator or function reads (explain/why_not_values.py).

    Why-not tries, for each fact, one value per class of values the policy tells apart; a fact
    compared with another value that is not a constant (another fact, a computed value) has no
    such classes, so the operator contributes the values that matter for it, worked out on the
    other side's value as the change being tried makes it:

    PASS: a logical operator (`and`, `or`, `not`): its operands propose.
    BOUNDARY: `==`, `!=` and ordering: the other side's value and its neighbours in the fact's
    order (`owner == user` proposes `user`'s value for `owner`; `a < b` proposes b - 1, b, b + 1).
    MEMBERS: `in`, `contains`: each member of the set side for the element, and the set with the
    element added or removed for the set.
    PRESENCE: `is missing`, `is present`: missing, or a value of the fact's classes.
    INVERT: arithmetic: the value is solved for the fact through the operator (`a + b > 5` with
    `b = 1` proposes `a = 4`, `5`, `6`).
    EACH_ARGUMENT: `min`, `max`: each argument solved for the bound in turn; `if then else`: each of
    its two values (the condition's comparisons propose for their own facts).
    BOTH_SIGNS: `abs`: the argument solved for the bound and for its negation.
    ROUNDING: `round`, `floor`, `ceil`: the argument solved for the bound and for the points where
    the rounded value steps, half a unit and a unit either side of it (the unit 1, or 10^-places
    for `round(x, places)`; the places are not solved for), so that `round(a / 4) >= 5` proposes
    `a = 18`, where it first holds.
    NONE: why-not cannot propose a value through it (the date and time parts and `local`: a date
    in a given year, or a moment at a given hour, is not solved for); an answer that needs one
    says "why-not cannot propose a value for `...`" instead of "no change works".
    """

    PASS = "pass"
    BOUNDARY = "boundary"
    MEMBERS = "members"
    PRESENCE = "presence"
    INVERT = "invert"
    EACH_ARGUMENT = "each argument"
    BOTH_SIGNS = "both signs"
    ROUNDING = "rounding"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator as written (`spelling`) in the syntax node class `node`.

    `python` is the Python operator the code generator emits for plain operands (None: a helper or
    special code); `verb` names it in a type error ("cannot add ..."); `needs` is why-not's wording of
    what a comparison with constants asks of a fact, `negated` the operator that holds when this one
    does not (why-not under `not`), `flipped` the operator with its sides swapped (`5 < x` is `x > 5`),
    and `why_not` how why-not proposes a value for a fact it reads (`Proposal`).
    """

    spelling: str
    node: str
    level: int
    analysis: Analysis
    example: str
    """A condition using it over the operator-table test's facts (`a`, `b`: int, `n`: number?,
    `d`, `e`: duration, `s`: string, `t`: set[string], `f`: bool)."""
    python: str | None = None
    verb: str | None = None
    needs: str | None = None
    negated: str | None = None
    flipped: str | None = None
    why_not: Proposal = Proposal.NONE


OPERATORS: tuple[Operator, ...] = (
    Operator(
        "if then else",
        "Conditional",
        CONDITIONAL,
        Analysis.OPAQUE,
        "(if f then a else b) > 1",
        why_not=Proposal.EACH_ARGUMENT,
    ),
    Operator("or", "BoolOp", OR, Analysis.EXACT, "f or a > b", python="or", why_not=Proposal.PASS),
    Operator("and", "BoolOp", AND, Analysis.EXACT, "f and a > b", python="and", why_not=Proposal.PASS),
    Operator("not", "Not", NOT, Analysis.EXACT, "not f", python="not", why_not=Proposal.PASS),
    Operator(
        "==",
        "Compare",
        COMPARE,
        Analysis.EXACT,
        "a == b",
        "==",
        needs="needs to be",
        negated="!=",
        flipped="==",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        "!=",
        "Compare",
        COMPARE,
        Analysis.EXACT,
        "a != 3",
        "!=",
        needs="must not be",
        negated="==",
        flipped="!=",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        "<",
        "Compare",
        COMPARE,
        Analysis.EXACT,
        "d < 5d",
        "<",
        needs="needs to be less than",
        negated=">=",
        flipped=">",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        "<=",
        "Compare",
        COMPARE,
        Analysis.EXACT,
        "n <= 2.5",
        "<=",
        needs="needs to be at most",
        negated=">",
        flipped=">=",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        ">",
        "Compare",
        COMPARE,
        Analysis.EXACT,
        "a > 1",
        ">",
        needs="needs to be more than",
        negated="<=",
        flipped="<",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        ">=",
        "Compare",
        COMPARE,
        Analysis.EXACT,
        "3 >= b",
        ">=",
        needs="needs to be at least",
        negated="<",
        flipped="<=",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        "in",
        "Membership",
        COMPARE,
        Analysis.EXACT,
        's in {"x", "y"}',
        "in",
        needs="needs to be one of",
        negated="not in",
        why_not=Proposal.MEMBERS,
    ),
    Operator(
        "not in",
        "Membership",
        COMPARE,
        Analysis.EXACT,
        's not in {"x"}',
        "not in",
        needs="must not be one of",
        negated="in",
        why_not=Proposal.MEMBERS,
    ),
    Operator(
        "contains",
        "Membership",
        COMPARE,
        Analysis.EXACT,
        't contains "x"',
        needs="needs to contain",
        negated="not contains",
        why_not=Proposal.MEMBERS,
    ),
    Operator(
        "not contains",
        "Membership",
        COMPARE,
        Analysis.EXACT,
        'not (t contains "y")',
        needs="must not contain",
        negated="contains",
        why_not=Proposal.MEMBERS,
    ),
    Operator(
        "between",
        "Between",
        COMPARE,
        Analysis.EXACT,
        "a between 1 and 4",
        needs="needs to be between",
        negated="not between",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        "not between",
        "Between",
        COMPARE,
        Analysis.EXACT,
        "not (d between 1d and 2w)",
        needs="must not be between",
        negated="between",
        why_not=Proposal.BOUNDARY,
    ),
    Operator(
        "is missing",
        "Presence",
        COMPARE,
        Analysis.EXACT,
        "n is missing",
        needs="needs to be left out",
        negated="is present",
        why_not=Proposal.PRESENCE,
    ),
    Operator(
        "is present",
        "Presence",
        COMPARE,
        Analysis.EXACT,
        "n is present",
        needs="needs to be given",
        negated="is missing",
        why_not=Proposal.PRESENCE,
    ),
    Operator("+", "Arithmetic", SUM, Analysis.AFFINE, "a + b > 2", "+", verb="add", why_not=Proposal.INVERT),
    Operator("-", "Arithmetic", SUM, Analysis.AFFINE, "d - e < 1d", "-", verb="subtract", why_not=Proposal.INVERT),
    Operator("*", "Arithmetic", PRODUCT, Analysis.AFFINE, "n * 2 > 3", "*", verb="multiply", why_not=Proposal.INVERT),
    Operator("/", "Arithmetic", PRODUCT, Analysis.AFFINE, "a / 4 >= n", verb="divide", why_not=Proposal.INVERT),
    Operator("-x", "Negate", UNARY, Analysis.AFFINE, "-a < b", "-", verb="negate", why_not=Proposal.INVERT),
)
"""Every operator; `not contains` and `not between` exist only as why-not's negations."""

BY_SPELLING: dict[str, Operator] = {op.spelling: op for op in OPERATORS}


def spellings(node: str) -> tuple[str, ...]:
    """The operators a syntax node class holds, as written (`Compare` -> `==`, `!=`, ...)."""
    written = {"not contains", "not between", "is missing", "is present", "-x", "if then else"}
    return tuple(op.spelling for op in OPERATORS if op.node == node and op.spelling not in written)


# --- built-in functions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a call does not type: the message, which argument it points at (None: the whole call) and a hint."""

    message: str
    hint: str
    argument: int | None = None
    code: Code = Code.TYPE_MISMATCH


TypeRule = Callable[[str, list[Type]], "Type | Refusal"]


@dataclass(frozen=True, slots=True)
class Function:
    """A built-in function, called as `name(arg, ...)`.

    `type_rule(name, argument types)` gives the result type or a Refusal; UNKNOWN arguments (already
    reported, or schema-less values not yet typed) give UNKNOWN. `implementation` computes the value
    from present argument values; a MISSING argument makes the call MISSING before it is called,
    as with arithmetic, so it never sees one. A schema-less fact given as an argument takes the type
    of the other arguments, or of what the call is used as, else number (expression_checker.settle).
    `examples` are calls over the facts
    `a: int`, `b: int`, `n: number`, `d: duration`, `e: duration` that the operator-table test
    decides, traces, explains, formats and analyses.
    """

    name: str
    min_args: int
    max_args: int | None
    type_rule: TypeRule
    implementation: Callable[..., Any]
    analysis: Analysis
    why_not: Proposal
    """How why-not proposes a value for a fact the call reads (`Proposal`), and whether it words a
    comparison of the call with a constant (`abs(x)` needs to be more than `5`): any but NONE does."""
    summary: str
    examples: tuple[str, ...]
    parameters: tuple[Type | None, ...] = ()
    """The type each argument must have where the function fixes it (`year` takes a datetime, whatever
    it gives), read by the schema-less inference; empty or None: the argument has the result's type
    (`min`, `max`, `abs`)."""
    may_fail: bool = False
    """True: the implementation may raise function_values.CannotCompute (an unknown time zone named by
    a fact), which the runtime turns into an EvaluationError; False: it never raises."""
    constant_check: Callable[[list[Any]], Refusal | None] | None = None
    """Checks the arguments that are constants at `policy check` (the others are None), so that
    `local(now, "Europe/Londn")` is a diagnostic there instead of an error at every decision."""

    @property
    def helper(self) -> str:
        """The name generated code calls it by (`_fn_min`), bound by engine/runtime.helpers()."""
        return f"_fn_{self.name}"

    @property
    def arity(self) -> str:
        """The arity in words, for diagnostics and docs."""
        if self.max_args is None:
            return f"{self.min_args} or more arguments"
        if self.min_args == self.max_args:
            return "1 argument" if self.min_args == 1 else f"{self.min_args} arguments"
        return f"{self.min_args} to {self.max_args} arguments"


def numbers_or_durations(name: str, types: list[Type]) -> Type | Refusal:
    """All numbers (int if every one is an int, else number, as for `+`) or all durations."""
    for index, t in enumerate(types):
        if t != UNKNOWN and not (is_numeric(t) or t == DURATION):
            return Refusal(
                f"`{name}` works on numbers and durations, but argument {index + 1} is {describe(t)}",
                f"give `{name}` numbers or durations",
                index,
            )
    known = [t for t in types if t != UNKNOWN]
    if len(known) < len(types):
        return UNKNOWN
    if all(t == DURATION for t in known):
        return DURATION
    if all(is_numeric(t) for t in known):
        return INT if all(t == INT for t in known) else NUMBER
    first_duration = next(i for i, t in enumerate(known) if t == DURATION)
    first_number = next(i for i, t in enumerate(known) if t != DURATION)
    return Refusal(
        f"`{name}` cannot mix numbers and durations: argument {first_number + 1} is a number, "
        f"argument {first_duration + 1} a duration",
        "give every argument the same kind; a number of days as a duration is `n * 1d`",
        max(first_number, first_duration),
    )


def absolute(value: Any) -> Any:
    """|value| for an int, a decimal or a duration; exact (Decimal.copy_abs ignores the context's precision)."""
    if isinstance(value, Decimal):
        return value.copy_abs()
    if isinstance(value, Duration):
        return -value if value.total_seconds < 0 else value
    return abs(value)


WEEKDAY = EnumOf(fv.WEEKDAYS)
"""The type of `weekday(d)`: an enum of the days, Monday first, so `weekday(d) in {saturday, sunday}`."""


def _numeric_argument(name: str, types: list[Type], index: int, what: str) -> Refusal | None:
    t = types[index]
    if t != UNKNOWN and not is_numeric(t):
        return Refusal(f"`{name}` {what}, but argument {index + 1} is {describe(t)}", f"give `{name}` a number", index)
    return None


def _miscounted(name: str, types: list[Type], counts: tuple[int, ...]) -> Refusal | None:
    """A refusal when the call has the wrong number of arguments. The checker reports that itself
    (from `min_args` / `max_args`), but the schema-less inference also asks type rules about calls
    as written (`ceil()`), so a rule that reads its arguments by position checks first."""
    if len(types) in counts:
        return None
    return Refusal(f"`{name}` is given {len(types)} arguments", f"give `{name}` {' or '.join(map(str, counts))}")


def rounding(name: str, types: list[Type]) -> Type | Refusal:
    """`round(x)`, `floor(x)`, `ceil(x)`: an int; `round(x, places)`: a number (places an int)."""
    if (miscounted := _miscounted(name, types, (1, 2))) is not None:
        return miscounted
    refused = _numeric_argument(name, types, 0, "rounds numbers")
    if refused is not None:
        return refused
    if len(types) == 2 and types[1] not in (INT, UNKNOWN):
        return Refusal(
            f"`{name}`'s places (argument 2) must be an int, but it is {describe(types[1])}",
            "write how many digits to keep after the point, as in `round(price, 2)`",
            1,
        )
    if UNKNOWN in types:
        return UNKNOWN
    return INT if len(types) == 1 else NUMBER


def _part_of(result: Type, *, dates: bool) -> TypeRule:
    """The type rule of a date or time part: a datetime (or a date too, when `dates`) gives `result`."""

    def rule(name: str, types: list[Type]) -> Type | Refusal:
        if (miscounted := _miscounted(name, types, (1,))) is not None:
            return miscounted
        t = types[0]
        if t == UNKNOWN:
            return UNKNOWN
        if t == DATETIME or (dates and t == DATE):
            return result
        if t == DATE:
            return Refusal(
                f"`{name}` reads a datetime, but argument 1 is a date, which has no time of day",
                'give it a datetime, such as `now` or `local(now, "Europe/London")`',
                0,
            )
        takes = "a date or a datetime" if dates else "a datetime"
        return Refusal(f"`{name}` takes {takes}, but argument 1 is {describe(t)}", f"give `{name}` {takes}", 0)

    return rule


def in_zone(name: str, types: list[Type]) -> Type | Refusal:
    """`local(moment, zone)`: a datetime and a zone's name give a datetime."""
    if (miscounted := _miscounted(name, types, (2,))) is not None:
        return miscounted
    moment, zone = types
    if moment not in (DATETIME, UNKNOWN):
        return Refusal(
            f"`{name}` reads a moment in a time zone, but argument 1 is {describe(moment)}",
            "give it a datetime, such as `now`",
            0,
        )
    if zone not in (STRING, UNKNOWN):
        return Refusal(
            f"`{name}`'s time zone (argument 2) is a name in quotes, but it is {describe(zone)}",
            'write the zone as text, such as `"Europe/London"`',
            1,
        )
    return UNKNOWN if UNKNOWN in types else DATETIME


def known_zone(values: list[Any]) -> Refusal | None:
    """A constant zone name must name a zone (checked at `policy check`)."""
    zone = values[1]
    if not isinstance(zone, str) or fv.time_zone(zone) is not None:
        return None
    suggestion = did_you_mean(zone, fv.time_zone_names())
    return Refusal(
        f"there is no time zone called `{zone}`",
        suggestion or "write an IANA zone name such as `Europe/London`, `America/New_York` or `UTC`",
        1,
        Code.UNKNOWN_NAME,
    )


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "min",
            2,
            None,
            numbers_or_durations,
            min,
            Analysis.OPAQUE,
            why_not=Proposal.EACH_ARGUMENT,
            summary="the least of its arguments (the first of equal ones)",
            examples=("min(a, b)", "min(a, n, 3)", "min(d, e)"),
        ),
        Function(
            "max",
            2,
            None,
            numbers_or_durations,
            max,
            Analysis.OPAQUE,
            why_not=Proposal.EACH_ARGUMENT,
            summary="the greatest of its arguments (the first of equal ones)",
            examples=("max(a, b)", "max(n, a, -2)", "max(d, e, 1d)"),
        ),
        Function(
            "abs",
            1,
            1,
            numbers_or_durations,
            absolute,
            Analysis.OPAQUE,
            why_not=Proposal.BOTH_SIGNS,
            summary="the argument without its sign",
            examples=("abs(a)", "abs(n)", "abs(d)"),
        ),
        Function(
            "round",
            1,
            2,
            rounding,
            fv.round_half_up,
            Analysis.OPAQUE,
            why_not=Proposal.ROUNDING,
            summary="the nearest int, or with places (`round(x, 2)`) a number with that many digits after the "
            "point; halves go away from zero (2.5 is 3, -2.5 is -3)",
            examples=("round(n)", "round(n, 1)", "round(a / 4, 1)"),
            parameters=(NUMBER, INT),
            may_fail=True,
        ),
        Function(
            "floor",
            1,
            1,
            rounding,
            fv.round_down,
            Analysis.OPAQUE,
            why_not=Proposal.ROUNDING,
            summary="the greatest int not above it (-2.5 is -3)",
            examples=("floor(n)", "floor(a / 4)"),
            parameters=(NUMBER,),
        ),
        Function(
            "ceil",
            1,
            1,
            rounding,
            fv.round_up,
            Analysis.OPAQUE,
            why_not=Proposal.ROUNDING,
            summary="the least int not below it (-2.5 is -2)",
            examples=("ceil(n)", "ceil(a / 4)"),
            parameters=(NUMBER,),
        ),
        Function(
            "year",
            1,
            1,
            _part_of(INT, dates=True),
            fv.year_of,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary="the year of a date or datetime",
            examples=("year(now)", "year(now + d)"),
            parameters=(DATETIME,),
        ),
        Function(
            "month",
            1,
            1,
            _part_of(INT, dates=True),
            fv.month_of,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary="the month of a date or datetime, 1 to 12",
            examples=("month(now)", "month(now - d)"),
            parameters=(DATETIME,),
        ),
        Function(
            "day",
            1,
            1,
            _part_of(INT, dates=True),
            fv.day_of,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary="the day of the month of a date or datetime, 1 to 31",
            examples=("day(now)", "day(now + e)"),
            parameters=(DATETIME,),
        ),
        Function(
            "weekday",
            1,
            1,
            _part_of(WEEKDAY, dates=True),
            fv.weekday_of,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary="the day of the week of a date or datetime: `monday` to `sunday`, in that order",
            examples=("weekday(now)", "weekday(now + d)"),
            parameters=(DATETIME,),
        ),
        Function(
            "hour",
            1,
            1,
            _part_of(INT, dates=False),
            fv.hour_of,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary="the hour of a datetime, 0 to 23, on its zone's clock (UTC unless it comes from `local`)",
            examples=("hour(now)", "hour(now + d)"),
            parameters=(DATETIME,),
        ),
        Function(
            "minute",
            1,
            1,
            _part_of(INT, dates=False),
            fv.minute_of,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary="the minute of a datetime, 0 to 59",
            examples=("minute(now)", "minute(now - d)"),
            parameters=(DATETIME,),
        ),
        Function(
            "time_of_day",
            1,
            1,
            _part_of(TIME, dates=False),
            fv.time_of_day,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary='what the clock shows at a datetime (`time_of_day(local(now, "Europe/Paris")) between 09:00 '
            "and 17:30`), to the second, on its zone's clock",
            examples=("time_of_day(now)", "time_of_day(now + d)"),
            parameters=(DATETIME,),
        ),
        Function(
            "local",
            2,
            2,
            in_zone,
            fv.local_time,
            Analysis.OPAQUE,
            why_not=Proposal.NONE,
            summary='the same moment on the clock of an IANA time zone (`local(now, "Europe/London")`), '
            "so that its `hour`, `minute` and date parts are that zone's",
            examples=('local(now, "Europe/London")', 'local(now + d, "America/New_York")'),
            parameters=(DATETIME, STRING),
            may_fail=True,
            constant_check=known_zone,
        ),
    )
}
"""The built-in functions by name. Their names are not reserved: `min` is still a fact's name; a
name is a call when the next thing after it is `(`, spaces or line breaks allowed (`max ( a, 1 )`)."""
