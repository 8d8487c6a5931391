"""Hypothesis strategies for random, checker-clean policy *texts* over one fixed typed schema, and facts for it.

Every policy reads the facts of `INPUT_BLOCK` and declares its own outputs (every type, every
resolution that fits, with and without defaults), segments and lets (in shuffled file order, each
reading only values with a lower index, so they never form a cycle), named rules with priorities
and reasons, and anonymous rules. Rules may read outputs: outputs are numbered, and a rule reads
only outputs numbered below every output it sets, so output dependencies are acyclic by
construction. Bare words (symbols, enum members) only appear where the checker can resolve them:
on the right of a comparison, in a set literal compared with something, and as an action's value.

`schemaless_cases` draws small policies without `input` and `output` blocks together with facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from policylang import MISSING
from policylang.core.values import Duration, quote_string

# --- the schema ------------------------------------------------------------------------------------

BOOL, INT, NUM, STR, DUR, DATE, DT, TIME = "bool", "int", "number", "string", "duration", "date", "datetime", "time"
TIER, QUEUE, SSET, ISET = "tier", "queue", "sset", "iset"

TIER_MEMBERS = ("basic", "standard", "premium", "key")
QUEUE_MEMBERS = ("general", "priority", "urgent")
TYPE_TEXT = {
    BOOL: "bool",
    INT: "int",
    NUM: "number",
    STR: "string",
    DUR: "duration",
    DATE: "date",
    DT: "datetime",
    TIME: "time",
    TIER: f"enum({', '.join(TIER_MEMBERS)})",
    QUEUE: f"enum({', '.join(QUEUE_MEMBERS)})",
    SSET: "set[string]",
    ISET: "set[int]",
}

INPUT_BLOCK = """\
input {
    tier: enum(basic, standard, premium, key)
    tenure: duration
    spend: number
    complaints: int = 0
    region: string = "eu"
    tags: set[string] = {}
    codes: set[int] = {}
    vip: bool?
    signup: date
    last_seen: datetime?
    referrals: int?
    credit: number?
    grace: duration?
    opens: time?
}
"""

FACTS: dict[str, tuple[str, ...]] = {
    BOOL: ("vip",),
    INT: ("complaints", "referrals"),
    NUM: ("spend", "credit"),
    STR: ("region",),
    DUR: ("tenure", "grace"),
    DATE: ("signup",),
    DT: ("last_seen",),
    TIME: ("opens",),
    TIER: ("tier",),
    QUEUE: (),
    SSET: ("tags",),
    ISET: ("codes",),
}
REQUIRED_FACTS = ("tier", "tenure", "spend", "signup")
ORDERED = (INT, NUM, DUR, DATE, DT, TIME, TIER, QUEUE)
SYMBOLS = ("eu", "uk", "us", "named_rep", "lounge", "b_c")  # never a fact's name: names win over symbols
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STRINGS = ("eu", "b c", "", 'say "hi"', "back\\slash", "line\nbreak", "é")

RESOLUTIONS = {
    BOOL: ("unique", "first", "priority", "any", "all"),
    SSET: ("unique", "first", "priority", "union"),
    ISET: ("unique", "first", "priority", "union"),
    STR: ("unique", "first", "priority"),
}
OUTPUT_TYPES = (BOOL, INT, NUM, STR, DUR, DATE, DT, TIME, TIER, QUEUE, SSET, ISET)


def resolutions_for(t: str) -> tuple[str, ...]:
    return RESOLUTIONS.get(t, ("unique", "first", "priority", "min", "max"))


# --- literals --------------------------------------------------------------------------------------

INT_LITERALS = ("0", "1", "2", "3", "5", "-1", "-3", "10", "10_000")
NUM_LITERALS = ("0.5", "0.1", "19.99", "2.0", "10_000.50", "-0.25", "500")
DUR_LITERALS = (
    "0s",
    "90s",
    "15m",
    "4h",
    "1d",
    "2d",
    "3w",
    "30d",
    "1mo",
    "6mo",
    "12mo",
    "1y",
    "2y",
    "1y6mo",
    "1d12h",
    "365d",
    "-2d",
    "2629746s",
)
DATE_LITERALS = ("2026-01-31", "2024-02-29", "2025-12-31", "2026-03-01", "2020-01-01")
TIME_LITERALS = ("00:00", "06:00", "09:00", "17:30", "22:00", "23:59:59", "12:00:30")
DT_LITERALS = ("2026-01-31T09:00:00Z", "2026-01-31T10:00:00+01:00", "2025-06-15T12:00:00Z", "2026-03-01T00:00:00Z")


def _literal(draw: st.DrawFn, t: str, symbols: bool = True) -> str:
    """A constant of type t; enum members and symbols only when `symbols` (the context resolves them)."""
    if t == BOOL:
        return draw(st.sampled_from(("true", "false")))
    if t == INT:
        return draw(st.sampled_from(INT_LITERALS))
    if t == NUM:
        return draw(st.sampled_from(NUM_LITERALS + INT_LITERALS[:4]))
    if t == DUR:
        return draw(st.sampled_from(DUR_LITERALS))
    if t == DATE:
        return draw(st.sampled_from(DATE_LITERALS))
    if t == DT:
        return draw(st.sampled_from(DT_LITERALS))
    if t == TIME:
        return draw(st.sampled_from(TIME_LITERALS))
    if t == STR:
        if symbols and draw(st.booleans()):
            return draw(st.sampled_from(SYMBOLS))
        return quote_string(draw(st.sampled_from(STRINGS)))
    if t in (TIER, QUEUE):
        assert symbols
        return draw(st.sampled_from(TIER_MEMBERS if t == TIER else QUEUE_MEMBERS))
    if t in (SSET, ISET):
        element = STR if t == SSET else INT
        items = [_literal(draw, element, symbols) for _ in range(draw(st.integers(0, 3)))]
        if not items and not symbols:
            items = [_literal(draw, element, False)]  # `{}` needs a context that says its element type
        return "{" + ", ".join(items) + "}"
    raise AssertionError(t)


# --- expressions -----------------------------------------------------------------------------------


@dataclass
class Scope:
    """What an expression may read: outputs and derived values (name, type) that cannot make a cycle."""

    outputs: list[tuple[str, str]] = field(default_factory=list)
    derived: list[tuple[str, str]] = field(default_factory=list)

    def names(self, t: str) -> list[str]:
        found = list(FACTS[t])
        found += [n for n, ty in self.outputs if ty == t]
        found += [n for n, ty in self.derived if ty == t]
        return found


def _paren(text: str) -> str:
    return f"({text})"


def expr(draw: st.DrawFn, t: str, depth: int, scope: Scope, symbols: bool = False) -> str:
    """Text of an expression of type t, safe to use as an operand (composites come in parentheses)."""
    if t == BOOL:
        return condition(draw, depth, scope)
    names = scope.names(t)
    choices = ["literal"] if (symbols or t not in (TIER, QUEUE)) else []
    if symbols:
        choices *= 3  # the right of a comparison: mostly a constant, so that conditions vary
    if names:
        choices += ["name", "name"]
    if depth > 0:
        choices += _composites(t)
        if t not in (TIER, QUEUE) or names:
            choices.append("choose")
    if not choices:
        choices = ["name"] if names else ["literal"]
    kind = draw(st.sampled_from(choices))
    if kind == "literal":
        return _literal(draw, t, symbols)
    if kind == "name":
        return draw(st.sampled_from(names))
    d = depth - 1
    if kind == "arith":  # same-type + - (and * for numbers)
        ops = ("+", "-", "*") if t in (INT, NUM) else ("+", "-")
        op = draw(st.sampled_from(ops))
        left_t = right_t = t
        if t == NUM:
            left_t, right_t = draw(st.sampled_from(((NUM, NUM), (INT, NUM), (NUM, INT))))
        return _paren(f"{expr(draw, left_t, d, scope)} {op} {expr(draw, right_t, d, scope)}")
    if kind == "divide":  # number: int / int, number / number, duration / duration
        left_t = draw(st.sampled_from((INT, NUM, DUR)))
        right_t = DUR if left_t == DUR else draw(st.sampled_from((INT, NUM)))
        return _paren(f"{expr(draw, left_t, d, scope)} / {expr(draw, right_t, d, scope)}")
    if kind == "negate":
        return f"-{_paren(expr(draw, t, d, scope))}"
    if kind == "scale":  # duration * number, number * duration, duration / number
        factor = expr(draw, draw(st.sampled_from((INT, NUM))), d, scope)
        length = expr(draw, DUR, d, scope)
        form = draw(st.integers(0, 2))
        if form == 0:
            return _paren(f"{length} * {factor}")
        if form == 1:
            return _paren(f"{factor} * {length}")
        return _paren(f"{length} / {factor}")
    if kind == "difference":  # date - date, datetime - datetime, datetime - date
        left_t, right_t = draw(st.sampled_from(((DATE, DATE), (DT, DT), (DT, DATE), (DATE, DT))))
        return _paren(f"{expr(draw, left_t, d, scope)} - {expr(draw, right_t, d, scope)}")
    if kind == "shift":  # date/datetime +- duration, duration + date
        moment = expr(draw, t, d, scope)
        length = expr(draw, DUR, d, scope)
        form = draw(st.integers(0, 2))
        if form == 0:
            return _paren(f"{moment} + {length}")
        if form == 1:
            return _paren(f"{moment} - {length}")
        return _paren(f"{length} + {moment}")
    if kind == "call":  # a built-in function (core/operators.FUNCTIONS): min, max of 2-3, or abs
        function = draw(st.sampled_from(("min", "max", "abs")))
        count = 1 if function == "abs" else draw(st.integers(2, 3))
        arg_types = [t] * count
        if t == NUM:  # a number-typed call: ints and numbers, at least one number
            arg_types = [draw(st.sampled_from((INT, NUM))) for _ in range(count)]
            arg_types[draw(st.integers(0, count - 1))] = NUM
        return f"{function}({', '.join(expr(draw, arg_t, d, scope) for arg_t in arg_types)})"
    if kind == "choose":  # a conditional value; the first value never a bare word (nothing to resolve it by)
        chosen_by = condition(draw, d, scope)
        first = expr(draw, t, d, scope)
        return _paren(f"if {chosen_by} then {first} else {expr(draw, t, d, scope, symbols=symbols)}")
    if kind == "rounding":  # an int from a number: floor, ceil, round (halves away from zero)
        function = draw(st.sampled_from(("floor", "ceil", "round")))
        return f"{function}({expr(draw, draw(st.sampled_from((NUM, INT))), d, scope)})"
    if kind == "round_places":  # a number rounded to places, negative ones to tens
        places = draw(st.sampled_from(("0", "1", "2", "-1")))
        return f"round({expr(draw, draw(st.sampled_from((NUM, INT))), d, scope)}, {places})"
    if kind == "part":  # a date part of a date or datetime, or hour/minute of a datetime
        function = draw(st.sampled_from(("year", "month", "day", "hour", "minute")))
        moment_t = DT if function in ("hour", "minute") else draw(st.sampled_from((DATE, DT)))
        return f"{function}({expr(draw, moment_t, d, scope)})"
    if kind == "local":  # the same moment on a zone's clock
        return f"local({expr(draw, DT, d, scope)}, {quote_string(draw(st.sampled_from(ZONES)))})"
    if kind == "clock":  # the time of day of a moment, on its zone's clock
        return f"time_of_day({expr(draw, DT, d, scope)})"
    if kind == "now":
        return "now"
    if kind == "build":  # a set literal with non-constant elements
        element = STR if t == SSET else INT
        items = [expr(draw, element, d, scope) for _ in range(draw(st.integers(1, 3)))]
        return "{" + ", ".join(items) + "}"
    raise AssertionError(kind)


def _composites(t: str) -> list[str]:
    return {
        INT: ["arith", "negate", "call", "rounding", "part"],
        NUM: ["arith", "divide", "negate", "call", "round_places"],
        DUR: ["arith", "scale", "difference", "negate", "call"],
        DATE: ["shift"],
        DT: ["shift", "now", "local"],
        TIME: ["clock"],
        SSET: ["build"],
        ISET: ["build"],
    }.get(t, [])


def condition(draw: st.DrawFn, depth: int, scope: Scope) -> str:
    """A bool expression: literals, bool names, comparisons, membership, between, presence, and/or/not."""
    choices = ["bool_name", "compare", "compare", "member", "presence", "between", "literal", "weekday"]
    if depth > 0:
        choices += ["and", "or", "not", "and", "or", "choose"]
    kind = draw(st.sampled_from(choices))
    d = max(depth - 1, 0)
    if kind == "literal":
        return _literal(draw, BOOL)
    if kind == "bool_name":
        return draw(st.sampled_from(scope.names(BOOL)))
    if kind == "choose":  # a condition chosen by a condition
        parts = [condition(draw, d, scope) for _ in range(3)]
        return _paren(f"if {parts[0]} then {parts[1]} else {parts[2]}")
    if kind == "weekday":  # weekday(...) against its enum's members: in a set, or ordered Monday first
        moment = expr(draw, draw(st.sampled_from((DATE, DT))), d, scope)
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3))
        if draw(st.booleans()):
            return _paren(f"weekday({moment}) in {{{', '.join(days)}}}")
        return _paren(f"weekday({moment}) {draw(st.sampled_from(('==', '<', '>=')))} {days[0]}")
    if kind == "compare":
        t = draw(st.sampled_from([ty for ty in (*ORDERED, STR, BOOL, SSET, ISET) if scope.names(ty)]))
        ops = ("==", "!=", "<", "<=", ">", ">=") if t in ORDERED else ("==", "!=")
        op = draw(st.sampled_from(ops))
        left = _subject(draw, t, d, scope)
        right = expr(draw, t, d, scope, symbols=True) if t != BOOL else _paren(condition(draw, d, scope))
        return _paren(f"{left} {op} {right}")
    if kind == "member":
        t = draw(st.sampled_from([ty for ty in (STR, INT, TIER, QUEUE, DUR, NUM) if scope.names(ty)]))
        element = _subject(draw, t, d, scope)
        set_t = {STR: SSET, INT: ISET}.get(t)
        if set_t is not None and draw(st.booleans()):
            collection = expr(draw, set_t, d, scope)
            if draw(st.booleans()):
                return _paren(f"{collection} contains {expr(draw, t, d, scope, symbols=True)}")
        else:
            items = [_literal(draw, t) for _ in range(draw(st.integers(1, 3)))]
            collection = "{" + ", ".join(items) + "}"
        op = draw(st.sampled_from(("in", "not in")))
        return _paren(f"{element} {op} {collection}")
    if kind == "between":
        t = draw(st.sampled_from([ty for ty in ORDERED if scope.names(ty)]))
        value = _subject(draw, t, d, scope)
        low = expr(draw, t, d, scope, symbols=True)
        high = expr(draw, t, d, scope, symbols=True)
        return _paren(f"{value} between {low} and {high}")
    if kind == "presence":
        t = draw(st.sampled_from(OUTPUT_TYPES))
        target = expr(draw, t, d, scope) if t != QUEUE or scope.names(QUEUE) else "vip"
        word = draw(st.sampled_from(("missing", "present")))
        return _paren(f"{target} is {word}")
    if kind == "not":
        return f"not {_paren(condition(draw, d, scope))}"
    operands = [condition(draw, d, scope) for _ in range(draw(st.integers(2, 3)))]
    return _paren(f" {kind} ".join(operands))


def _subject(draw: st.DrawFn, t: str, depth: int, scope: Scope) -> str:
    """The left of a comparison: never a bare word, so the right side can be one."""
    if t in (TIER, QUEUE, BOOL) or draw(st.booleans()):
        return draw(st.sampled_from(scope.names(t)))
    return expr(draw, t, depth, scope)


# --- declarations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputSpec:
    name: str
    type: str
    resolution: str | None  # None: no `resolve` (unique)
    default: str | None
    optional: bool = False  # `?`: only without a default; decides exactly as without it


@st.composite
def output_specs(draw: st.DrawFn) -> list[OutputSpec]:
    types = draw(st.lists(st.sampled_from(OUTPUT_TYPES), min_size=1, max_size=5))
    specs = []
    for i, t in enumerate(types):
        resolution = draw(st.sampled_from((None, *resolutions_for(t))))
        default = _literal(draw, t) if draw(st.booleans()) else None
        optional = default is None and draw(st.booleans())
        specs.append(OutputSpec(f"out{i}", t, resolution, default, optional))
    return specs


def _output_block(specs: list[OutputSpec]) -> str:
    lines = []
    for spec in specs:
        line = f"    {spec.name}: {TYPE_TEXT[spec.type]}" + ("?" if spec.optional else "")
        if spec.default is not None:
            line += f" = {spec.default}"
        if spec.resolution is not None:
            line += f" resolve {spec.resolution}"
        lines.append(line)
    return "output {\n" + "\n".join(lines) + "\n}\n"


def _action(draw: st.DrawFn, spec: OutputSpec, depth: int, scope: Scope) -> str:
    t = spec.type
    if t == BOOL:
        form = draw(st.integers(0, 2))
        if form == 0:
            return spec.name
        if form == 1:
            return f"not {spec.name}"
        return f"{spec.name} = {condition(draw, depth, scope)}"
    if t in (SSET, ISET) and draw(st.booleans()):
        element = STR if t == SSET else INT
        if draw(st.booleans()):
            items = [expr(draw, element, depth, scope, symbols=True) for _ in range(draw(st.integers(1, 3)))]
            return f"{spec.name} += {{{', '.join(items)}}}"
        return f"{spec.name} += {expr(draw, t, depth, scope, symbols=True)}"
    value_t = draw(st.sampled_from((NUM, INT))) if t == NUM else t
    return f"{spec.name} = {expr(draw, value_t, depth, scope, symbols=True)}"


REASONS = ("Key customers never wait", 'quotes " and \\ backslashes', "")


@st.composite
def policies(draw: st.DrawFn, max_depth: int = 2) -> str:
    """A whole policy text over INPUT_BLOCK: header, outputs, derived values, rules."""
    specs = draw(output_specs())
    parts = []
    if draw(st.booleans()):
        parts.append('policy generated "A random policy"\n')
    parts.append(INPUT_BLOCK)
    parts.append(_output_block(specs))

    # Derived values: index k reads derived < k and outputs below its cap (0: none, usually).
    derived: list[tuple[str, str, int]] = []  # (name, type, output cap)
    lines = []
    for k in range(draw(st.integers(0, 4))):
        cap = draw(st.sampled_from((0, 0, 0, len(specs))))
        scope = Scope(
            outputs=[(s.name, s.type) for s in specs[:cap]],
            derived=[(n, t) for n, t, c in derived if c <= cap],
        )
        if draw(st.booleans()):
            name, t = f"seg{k}", BOOL
            lines.append(f"segment {name} = {condition(draw, max_depth, scope)}")
        else:
            t = draw(st.sampled_from((INT, NUM, DUR, DATE, DT, STR, BOOL, SSET, TIER)))
            name = f"let{k}"
            lines.append(f"let {name} = {expr(draw, t, max_depth, scope)}")
        derived.append((name, t, cap))
    parts.extend(line + "\n" for line in draw(st.permutations(lines)))

    for i in range(draw(st.integers(1, 6))):
        chosen = draw(st.lists(st.integers(0, len(specs) - 1), min_size=1, max_size=3, unique=True))
        limit = min(chosen)
        scope = Scope(
            outputs=[(s.name, s.type) for s in specs[:limit]],
            derived=[(n, t) for n, t, c in derived if c <= limit],
        )
        cond = condition(draw, max_depth, scope)
        actions = ", ".join(_action(draw, specs[j], 1, scope) for j in chosen)
        because = ""
        if draw(st.integers(0, 3)) == 0:
            because = f" because {quote_string(draw(st.sampled_from(REASONS)))}"
        if draw(st.booleans()):
            priority = draw(st.sampled_from(("", "", " priority 1", " priority 2", " priority -1", " priority 1_000")))
            parts.append(f"rule r{i}{priority}:\n    if {cond}\n    then {actions}{because}\n")
        else:
            parts.append(f"if {cond} then {actions}{because}\n")
    return "".join(parts)


# --- facts -----------------------------------------------------------------------------------------

AS_OF = ("2026-01-31T09:00:00Z", "2026-03-01T00:00:00Z", datetime(2025, 6, 15, 12, 0, tzinfo=UTC))

_FACT_VALUES: dict[str, tuple[Any, ...]] = {
    "tier": TIER_MEMBERS,
    "tenure": (
        "0s",
        "90d",
        "1y",
        "12mo",
        "2y",
        "1y6mo",
        "400d",
        "3y",
        "P3Y",
        "PT4H",
        "P1Y6M",
        Duration(0, 400 * 86_400),
        timedelta(days=30),
        "2629746s",
    ),
    "spend": (0, 1, 500, 499.99, 10_000, "10_000", "0.1", Decimal("12.5"), 0.1, 2.5, -3),
    "complaints": (0, 1, 3, 5, "3", 3.0),
    "region": (*STRINGS, "uk", "us", "named_rep"),
    "vip": (True, False, MISSING),
    "signup": ("2024-02-29", "2025-01-31", "2026-01-31", "2026-03-01", date(2025, 12, 31)),
    "last_seen": ("2026-01-31T09:00:00Z", "2026-01-30T10:00:00+01:00", datetime(2026, 1, 1, tzinfo=UTC)),
    "referrals": (0, 1, 2, 3),
    "credit": (-5, 0, 1.5, "100", Decimal("0.5")),
    "grace": ("0s", "2d", "1mo", "P1M"),
    "opens": ("09:00", "22:30", "05:59:59", "00:00", time(17, 30)),
}
_SET_VALUES = {"tags": ("vip", "a", "b c", "eu", "named_rep", ""), "codes": (0, 1, 2, 3, 10_000)}

BAD_FACTS: tuple[tuple[str, Any], ...] = (
    ("tier", "gold"),
    ("tier", "Premium"),
    ("spend", "abc"),
    ("spend", True),
    ("tenure", 3),
    ("tenure", "3 years"),
    ("complaints", "three"),
    ("complaints", 2.5),
    ("vip", "yes"),
    ("signup", "2026-02-30"),
    ("last_seen", "2026-01-31T09:00:00"),
    ("tags", "vip"),
    ("codes", ["x"]),
    ("region", 5),
    ("opens", "25:00"),
    ("opens", 540),
    ("tierr", "premium"),
)


@st.composite
def facts(draw: st.DrawFn, valid: bool | None = None) -> dict[str, Any]:
    """Facts for INPUT_BLOCK: optional and defaulted facts are often left out; sometimes (unless
    `valid`) one fact is wrong, unknown or a required one is missing."""
    result: dict[str, Any] = {}
    for name, values in _FACT_VALUES.items():
        if name in REQUIRED_FACTS or draw(st.booleans()):
            result[name] = draw(st.sampled_from(values))
    for name, values in _SET_VALUES.items():
        if draw(st.booleans()):
            result[name] = draw(st.lists(st.sampled_from(values), max_size=3))
    # One draw in fifteen is broken on purpose (7: hypothesis favours the ends of a range).
    if valid is False or (valid is None and draw(st.integers(0, 14)) == 7):
        if draw(st.booleans()):
            name, value = draw(st.sampled_from(BAD_FACTS))
            result[name] = value
        else:
            del result[draw(st.sampled_from(REQUIRED_FACTS))]
    return result


# --- schema-less policies --------------------------------------------------------------------------

# Each schema-less fact has one type, fixed by the form of the comparisons it appears in.
_SCHEMALESS_CONDITIONS = (
    ("plan == premium", {"plan": ("premium", "basic", 3)}),
    ("plan != basic", {"plan": ("premium", "basic")}),
    ("membership > 2y", {"membership": ("3y", "1y", "P3Y", "730d", "2y", 5)}),
    ("membership <= 400d", {"membership": ("3y", "400d", "1y1mo")}),
    ("budget * 12 > 10_000", {"budget": (500, 1000, "999.99", 0.5, "x")}),
    ("budget between 100 and 1_000", {"budget": (100, 1000, 5, "250")}),
    ("labels contains vip", {"labels": (["vip"], ["a", "vip"], [], ["b"])}),
    ("blocked", {"blocked": (True, False)}),
    ("not blocked", {"blocked": (True, False)}),
    ("joined < 2025-01-01", {"joined": ("2024-06-01", "2025-06-01")}),
    ("visits is missing", {"visits": (1, 2)}),
    ("visits >= 3", {"visits": (1, 3, 4, "5")}),
    ("zone in {eu, uk}", {"zone": ("eu", "us")}),
)
_SCHEMALESS_ACTIONS = (
    "skip_fraud_check",
    "not skip_fraud_check",
    "sla = 4h",
    "sla = 24h",
    "perks += {lounge}",
    "perks += {lounge, named_rep}",
    "team = emea",
    'team = "americas support"',
    "level = 2",
)


@st.composite
def schemaless_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(policy text without declarations, facts for it)."""
    lines = []
    facts_for: dict[str, tuple[Any, ...]] = {}
    for _ in range(draw(st.integers(1, 4))):
        picked = draw(st.lists(st.sampled_from(_SCHEMALESS_CONDITIONS), min_size=1, max_size=3))
        op = draw(st.sampled_from((" and ", " or ")))
        cond = op.join(text for text, _ in picked)
        for _, values in picked:
            facts_for.update(values)
        outputs = draw(
            st.lists(
                st.sampled_from(_SCHEMALESS_ACTIONS),
                min_size=1,
                max_size=2,
                unique_by=lambda a: a.split()[-1] if a.startswith("not") else a.split()[0],
            )
        )
        lines.append(f"if {cond} then {', '.join(outputs)}\n")
    given = {name: draw(st.sampled_from(values)) for name, values in facts_for.items() if draw(st.integers(0, 4))}
    if draw(st.integers(0, 5)) == 0:
        given["unrelated"] = "ignored"
    return "".join(lines), given
