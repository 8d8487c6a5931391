"""Validates facts against the policy's `input` block: the converters below say what each type accepts.

A pydantic model built per policy applies them, collects every problem and reports them; a
generated function applies the same converters first, without pydantic's bookkeeping, and hands
anything it does not accept outright (a missing or unknown fact, a value a converter rejects, a
mapping that is not a dict) to the pydantic model, so both paths give the same facts or the same
errors. Facts arrive from JSON, YAML, the command line or Python: durations as `"3y"`, `"P3Y"` or
Duration; dates and datetimes as ISO 8601; sets as lists; enum members by name; numbers become
exact Decimals. Optional facts that are not given are MISSING; defaults are filled in.
"""

from __future__ import annotations

import functools
import math
import re
import reprlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BeforeValidator, ConfigDict, create_model

from ..core.datatypes import (
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    INT,
    NUMBER,
    STRING,
    TIME,
    UNKNOWN,
    EnumOf,
    SetOf,
    Type,
    describe,
)
from ..core.diagnostics import Code, Diagnostic, did_you_mean, error
from ..core.errors import PolicylangError, UsageError
from ..core.spelling import quoted, spell, spell_number, spell_value
from ..core.values import (
    DURATION_LIMIT_HINT,
    INT_LIMIT,
    LIMIT_EXPONENT,
    LIMIT_HINT,
    NUMBER_LIMIT,
    Duration,
    NotADuration,
    ValueParseError,
    duration_in_range,
    format_duration,
    parse_duration,
    parse_time_literal,
)
from ..core.values import MISSING as MISSING  # defined in core (every layer uses it); still importable from here
from ..semantics.typed_tree import CheckedPolicy, Fact
from .typed_facts import Facts, Schema


class FactsError(PolicylangError, ValueError):
    """Facts that do not fit the policy: every problem names the fact, what was expected and what was given."""

    code = Code.FACTS_ERROR

    def __init__(self, problems: list[FactProblem], diagnostics: tuple[Diagnostic, ...] = ()) -> None:
        self.problems = problems
        self.diagnostics = diagnostics
        super().__init__("; ".join(p.message for p in problems))


class FactProblem:
    """One fact that does not fit."""

    def __init__(self, fact: str, message: str, expected: str, given: Any, hint: str | None = None) -> None:
        self.fact = fact
        self.message = message
        self.expected = expected
        self.given = given
        self.hint = hint

    def __repr__(self) -> str:
        return f"FactProblem({self.fact!r}, {self.message!r})"


class _Invalid(ValueError):
    """Raised inside converters; pydantic collects it, and we turn it into a FactProblem."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class _Unstorable(_Invalid):
    """A value no log, terminal or JSON reader could hold as given: text that is not Unicode (a lone
    surrogate) or nesting past MAX_FACT_DEPTH. `at` is where inside the fact (`.a[2]`, empty for
    the fact itself); the message is finished by `where` once the fact's name is known."""

    def __init__(self, what: str, at: str, hint: str) -> None:
        super().__init__(what, hint)
        self.what = what
        self.at = at

    def where(self, fact: str) -> str:
        place = fact + self.at
        return self.what.format(at=f"`{place if len(place) <= 60 else place[:59] + '…'}`")


MAX_FACT_DEPTH = 100
"""How deeply lists, sets, tuples and objects may nest inside one fact (docs/limits.md). Deeper facts
are refused before deciding: the log's JSON, its readers and the printers all recurse over them."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_HINT = (
    "facts are Unicode text; a lone surrogate (`\\ud800` to `\\udfff` in JSON, without its pair) cannot "
    "be recorded or printed: give the character itself, or both halves of its surrogate pair"
)
_DEPTH_HINT = f"facts nest at most {MAX_FACT_DEPTH} levels of lists and objects: flatten the value"


def _lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in `text`, escaped (`\\udc00`), or None for Unicode text."""
    if text.isascii():  # O(1) in CPython: the common case costs nothing
        return None
    found = _SURROGATE.search(text)
    return None if found is None else f"\\u{ord(found.group()):04x}"


def _check_text(text: str, at: str) -> None:
    bad = _lone_surrogate(text)
    if bad is not None:
        raise _Unstorable(
            f"the text at {{at}} holds a lone surrogate `{bad}`, which is not Unicode text", at, _SURROGATE_HINT
        )


def _check_storable(value: Any, at: str = "", depth: int = 0) -> None:
    """Raises _Unstorable for text with a lone surrogate anywhere in `value` (keys too) and for
    nesting past MAX_FACT_DEPTH (a value that contains itself included); other values pass, as the
    converters and the log judge them. `at` names the place for the message (`.a[2]`)."""
    if isinstance(value, str):
        _check_text(value, at)
        return
    if not isinstance(value, Mapping | list | tuple | set | frozenset):
        return
    if depth >= MAX_FACT_DEPTH:
        raise _Unstorable(f"{{at}} nests lists or objects more than {MAX_FACT_DEPTH} levels deep", at, _DEPTH_HINT)
    if isinstance(value, Mapping):
        for key, item in value.items():
            place = f"{at}.{key}" if isinstance(key, str) and key.isidentifier() else f"{at}[{_shown(key)}]"
            if isinstance(key, str):
                _check_text(key, f"{at}[{_shown(key)}]")
            _check_storable(item, place, depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_storable(item, f"{at}[{index}]", depth + 1)
    else:
        for item in value:
            _check_storable(item, f"{at}[…]", depth + 1)


def _is_unstorable(value: Any) -> bool:
    """True when _check_storable would refuse `value`; the generated validator's quick test, on every
    decision that is given facts the policy does not declare. A walk without the places that
    _check_storable names for its message (building them is most of its cost: a 1,000-item list in
    an undeclared fact took 9 ms a decision): the message is made only for a value refused."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = item.__class__
        if kind is int or kind is bool or kind is float or item is None:
            continue
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return True
        elif isinstance(item, Mapping):
            if depth >= MAX_FACT_DEPTH:
                return True
            for key, inner in item.items():
                if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                    return True
                stack.append((inner, depth + 1))
        elif isinstance(item, list | tuple | set | frozenset):
            if depth >= MAX_FACT_DEPTH:
                return True
            stack.extend((inner, depth + 1) for inner in item)
    return False


class _Shown(reprlib.Repr):
    """A given value as the facts are written (JSON and YAML), bounded: `"abc"`, `true`, `null`,
    `[1, 2]`, `{"a": true}`; values the language has literals for read as the language writes them
    (`10000.5`, `2026-01-01`, `4h`), never as Python reprs (`'abc'`, `True`, `Decimal('10000.5')`).
    A value that is neither (an object a Python caller passed) stays its bounded repr: that is the
    clearest thing to show for it."""

    def repr_str(self, value: str, level: int) -> str:
        text = quoted(value)
        return text if len(text) <= self.maxstring else text[: self.maxstring - 4] + '..."'

    def repr_bool(self, value: bool, level: int) -> str:
        return spell(value)

    def repr_NoneType(self, value: None, level: int) -> str:  # reprlib's naming
        return "null"

    def repr_tuple(self, value: tuple[Any, ...], level: int) -> str:
        return self.repr_list(list(value), level)

    def repr_frozenset(self, value: frozenset[Any], level: int) -> str:
        return self.repr_set(set(value), level)

    def repr_dict(self, value: dict[Any, Any], level: int) -> str:
        if not value:
            return "{}"
        if level <= 0:
            return "{...}"
        items = list(value.items())[: self.maxdict]
        shown = ", ".join(f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}" for k, v in items)
        return "{" + shown + (", ..." if len(value) > self.maxdict else "") + "}"

    def repr_Decimal(self, value: Decimal, level: int) -> str:  # reprlib's naming
        if value.is_finite() and abs(value.adjusted()) <= LIMIT_EXPONENT:
            return spell_value(value)
        return str(value)  # 1E+999999999 as given: written out, it would be a billion digits

    def repr_float(self, value: float, level: int) -> str:
        return spell_number(value)

    def repr_date(self, value: date, level: int) -> str:
        return value.isoformat()

    def repr_datetime(self, value: datetime, level: int) -> str:
        return value.isoformat()

    def repr_Duration(self, value: Duration, level: int) -> str:
        return format_duration(value)

    def repr_int(self, value: int, level: int) -> str:
        if -INT_LIMIT <= value <= INT_LIMIT:
            return str(value)
        # Python refuses to write an int of more than 4,300 digits (and writing one is slow).
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"


_REPR = _Shown()
_REPR.maxstring = 60
_REPR.maxother = 60


def _shown(value: Any) -> str:
    """A given value for a message, bounded however large or deeply nested it is."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def convert_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Invalid(f"expected true or false, got {_shown(value)}", "write `true` or `false`")


def convert_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid(f"expected a whole number, got {_shown(value)}")
    if isinstance(value, int):
        if -INT_LIMIT <= value <= INT_LIMIT:
            return value
        raise _too_large(value)
    try:
        finite = value.is_finite() if isinstance(value, Decimal) else isinstance(value, float) and math.isfinite(value)
        if isinstance(value, float | Decimal) and finite:
            if (value.copy_abs() if isinstance(value, Decimal) else abs(value)) > INT_LIMIT:
                # before int(), which would write out 1e999999999 digit by digit
                raise _too_large(value)
            if value == int(value):
                return int(value)
        if isinstance(value, str):
            text = value.strip().replace("_", "")
            if len(text.lstrip("+-").lstrip("0")) > LIMIT_EXPONENT + 1:  # before int(), which refuses 4,300
                raise _too_large(value)
            return convert_int(int(text, 10))
    except (ValueError, OverflowError, ArithmeticError) as exc:
        if isinstance(exc, _Invalid):
            raise
        # infinities, NaN, signalling NaN, text that is no number: all "not a whole number"
    raise _Invalid(f"expected a whole number, got {_shown(value)}")


def _too_large(value: Any) -> _Invalid:
    """A whole number past the limit; one too long to show is said to have its number of digits."""
    digits = 0
    if isinstance(value, Decimal):
        digits = value.adjusted() + 1
    elif isinstance(value, int) and value.bit_length() < 14_000:  # under 4,300 digits, which str() refuses
        digits = len(str(abs(value)))
    elif isinstance(value, int):
        digits = int(abs(value).bit_length() * 0.30103) + 1
    elif isinstance(value, str):
        digits = len(value.strip().lstrip("+-").replace("_", "").lstrip("0"))
    if digits > 60:
        return _Invalid(
            f"a number of {'about ' if isinstance(value, int) and value.bit_length() >= 14_000 else ''}"
            f"{digits:,} digits is too large",
            LIMIT_HINT,
        )
    return _Invalid(f"{_shown(value)} is too large", LIMIT_HINT)


def convert_number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Invalid(f"expected a number, got {_shown(value)}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        if -INT_LIMIT <= value <= INT_LIMIT:
            return Decimal(value)
        raise _too_large(value)
    elif isinstance(value, float):
        # str() first: 0.1 is the decimal 0.1 the author wrote, not 0.1000000000000000055...
        result = Decimal(str(value)) if math.isfinite(value) else Decimal("NaN")
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except (InvalidOperation, ValueError):
            raise _Invalid(f"expected a number, got {_shown(value)}") from None
    else:
        raise _Invalid(f"expected a number, got {_shown(value)}")
    if not result.is_finite():
        raise _Invalid(f"expected a finite number, got {_shown(value)}")
    if not _in_range(result):
        raise _Invalid(f"{_shown(value)} is too large or too small for a fact", "numbers stay within 1e-100 to 1e100")
    return result


def _in_range(number: Decimal) -> bool:
    """Whether a finite number is 0 or between 1e-100 and 1e100 in size, as `int`s are (up to 1e100)."""
    return not number or (number.adjusted() >= -LIMIT_EXPONENT and number.copy_abs() <= NUMBER_LIMIT)


def convert_string(value: Any) -> str:
    if isinstance(value, str):
        _check_text(value, "")
        return value
    raise _Invalid(f"expected a string, got {_shown(value)}")


def convert_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        if duration_in_range(value):
            return value
        raise _Invalid(f"{_shown(value)} is too large", DURATION_LIMIT_HINT)
    if isinstance(value, timedelta):
        return Duration(0, value.days * 86_400 + value.seconds)
    if isinstance(value, str):
        try:
            return _parse_duration_text(value)
        except NotADuration:
            pass
        except ValueParseError as exc:  # a duration's own problem: `1y1y`, a number of 200 digits
            raise _Invalid(f"{exc.message}", exc.hint) from None
    hint = 'write a duration such as "3y", "400d", "1y6mo" or ISO 8601 "P3Y"'
    if isinstance(value, int | float) and not isinstance(value, bool):
        hint = f'a bare number has no unit; write for example "{value}d"'
    raise _Invalid(f"expected a duration, got {_shown(value)}", hint)


_parse_duration_text = functools.lru_cache(maxsize=4096)(parse_duration)
"""Facts repeat the same few tenures ("400d", "3y"); Durations are immutable, so parses are shared."""


def convert_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise _Invalid(f"expected a date, got a date and time {_shown(value)}", "give the date alone: 2026-01-31")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Invalid(f"expected a date, got {_shown(value)}", 'write dates as ISO 8601: "2026-01-31"')


def convert_datetime(value: Any) -> datetime:
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            parsed = None
    if parsed is None:
        raise _Invalid(
            f"expected a date and time, got {_shown(value)}", 'write ISO 8601 with a zone: "2026-01-31T09:00:00Z"'
        )
    if parsed.tzinfo is None:
        raise _Invalid(f"{_shown(value)} has no time zone", "add `Z` for UTC or an offset such as `+01:00`")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _Invalid(f"{_shown(value)} is outside the years 1 to 9999 in UTC") from None


def convert_time(value: Any) -> time:
    """A time of day: a `time`, or text as the language writes one (`"09:00"`, `"17:30:15"`)."""
    if isinstance(value, time):
        if value.tzinfo is not None or value.microsecond:
            raise _Invalid(f"expected a time of day, got {_shown(value)}", 'give hours and minutes: "09:00"')
        return value
    if isinstance(value, str):
        try:
            return parse_time_literal(value.strip())
        except ValueParseError:
            pass
    hint = 'write times of day as "HH:MM", such as "09:00" or "17:30"'
    if isinstance(value, int) and not isinstance(value, bool):
        hint += " (in YAML, in quotes: unquoted, 09:00 may read as a number)"
    raise _Invalid(f"expected a time of day, got {_shown(value)}", hint)


def _enum_converter(t: EnumOf) -> Callable[[Any], str]:
    members = frozenset(t.members)

    def convert(value: Any) -> str:
        if isinstance(value, str) and value in members:
            return value
        hint = did_you_mean(value, t.members) if isinstance(value, str) else None
        raise _Invalid(
            f"expected one of {', '.join(t.members)}, got {_shown(value)}",
            hint or "enum members are matched exactly, by name",
        )

    return convert


def _set_converter(t: SetOf) -> Callable[[Any], frozenset[Any]]:
    element = converter_for(t.element)

    def convert(value: Any) -> frozenset[Any]:
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(element(v) for v in value)
        raise _Invalid(f"expected a list of values (a set), got {_shown(value)}", 'write a list such as ["a", "b"]')

    return convert


def _as_given(value: Any) -> Any:
    """A fact of unknown type is kept as given, once it is known that the log and printers can hold it."""
    _check_storable(value)
    return value


_CONVERTERS: dict[Type, Callable[[Any], Any]] = {
    BOOL: convert_bool,
    INT: convert_int,
    NUMBER: convert_number,
    STRING: convert_string,
    DURATION: convert_duration,
    DATE: convert_date,
    DATETIME: convert_datetime,
    TIME: convert_time,
    UNKNOWN: _as_given,
}


def converter_for(t: Type) -> Callable[[Any], Any]:
    """The function that turns a given value into the runtime value of type `t`, or raises."""
    if isinstance(t, EnumOf):
        return _enum_converter(t)
    if isinstance(t, SetOf):
        return _set_converter(t)
    return _CONVERTERS[t]


def fact_default(fact: Fact) -> Any:
    """The value a fact takes when it is not given: its declared default as a runtime value, MISSING
    when it is optional, `...` (pydantic's "required") otherwise. The analysis starts from it too."""
    if fact.has_default:
        # Through the converter, so `spend: number = 0` gives Decimal 0 like a given fact would.
        return converter_for(fact.type)(fact.default)
    if fact.optional:
        return MISSING
    return ...


class FactsValidator:
    """Validates fact dictionaries for one policy. Built once per policy; safe to share between threads.

    `unknown_facts` is "reject" (the default: a misspelt fact is an error, not silently ignored) or
    "ignore". Schema-less policies accept any fact and convert the ones the rules use by their
    inferred type.
    """

    def __init__(self, policy: CheckedPolicy, unknown_facts: str = "reject") -> None:
        if unknown_facts not in ("reject", "ignore"):
            raise UsageError("unknown_facts must be 'reject' or 'ignore'")
        self.facts = dict(policy.facts)
        self.declared = policy.facts_declared
        self.spans = {name: fact.span for name, fact in policy.facts.items()}
        extra: Literal["forbid", "ignore"] = "forbid" if unknown_facts == "reject" and self.declared else "ignore"
        fields: dict[str, Any] = {}
        for name, fact in self.facts.items():
            annotation = Annotated[Any, BeforeValidator(_wrap(converter_for(fact.type)))]
            fields[name] = (annotation, fact_default(fact))
        # Fact names are policy identifiers; pydantic reserves names starting with `model_` and `_`,
        # so fields get neutral aliases and the model is addressed by alias.
        aliased = {
            f"f{i}": (ann, pydantic.Field(default, alias=name))
            for i, (name, (ann, default)) in enumerate(fields.items())
        }
        self._names = list(fields)
        self._reject_unknown = extra == "forbid"
        config = ConfigDict(extra=extra, populate_by_name=False, arbitrary_types_allowed=True)
        self._model: type[pydantic.BaseModel] = create_model("Facts", __config__=config, **aliased)  # type: ignore[call-overload]  # field definitions built at run time
        defaults = {name: fact_default(fact) for name, fact in self.facts.items()}
        self.fast: Callable[[Any], dict[str, Any] | None] = _fast_validator(self.facts, defaults, extra == "forbid")
        self.schema: Schema = (
            self.declared,
            self._reject_unknown,
            tuple(
                (name, repr(fact.type), fact.optional, fact.has_default, repr(defaults[name]))
                for name, fact in self.facts.items()
            ),
        )
        """What validation depends on: Facts validated by a validator of an equal schema fit this one."""

    fast: Callable[[Any], dict[str, Any] | None]
    """The facts as runtime values when `given` is a plain dict that is entirely right, else None
    (then `validate` says what is wrong): the generated function `validate` tries first, for a
    caller on a hot path that handles None by calling `validate`."""

    def validate(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The facts as runtime values, every declared fact present (MISSING where optional and not given).

        Raises FactsError naming each fact that is missing, unknown or of the wrong type.
        """
        fast = self.fast(given)  # first: it takes the common case, a plain dict, without the checks below
        if fast is not None:
            return fast
        if given.__class__ is Facts:
            return self.validated(given)
        if not isinstance(given, Mapping):
            raise FactsError(
                [
                    FactProblem(
                        "", f"facts must be a mapping of names to values, got {_shown(given)}", "a mapping", given
                    )
                ]
            )
        if any(value is MISSING for value in given.values()):
            # MISSING given for a fact is the fact not given: its default, missing, or an error.
            given = {name: value for name, value in given.items() if value is not MISSING}
        unstorable = self._unstorable_extras(given)
        try:
            model = self._model.model_validate(given)
        except pydantic.ValidationError as exc:
            raise self._problems(exc, given, unstorable) from None
        if unstorable:
            raise self._facts_error(unstorable)
        values = model.__dict__
        return {name: values[f"f{i}"] for i, name in enumerate(self._names)}

    def validated(self, facts: Facts) -> dict[str, Any]:
        """The values of Facts made by a policy (`Policy.facts`), taken as they are when that policy's
        facts are this one's; otherwise a FactsError, since they were never checked against these."""
        if facts._schema is self.schema or facts._schema == self.schema:
            return facts._values
        problem = FactProblem(
            "",
            "these facts were validated by a policy whose facts differ from this policy's "
            "(a name, type, default or optionality, or its `unknown_facts` setting)",
            "facts made by this policy",
            facts,
            "make them with this policy's `facts(...)`, or give them as a dict",
        )
        raise self._facts_error([problem])

    def _unstorable_extras(self, given: Mapping[str, Any]) -> list[FactProblem]:
        """Facts the policy does not read (a schema-less policy's extras, or ignored unknown facts)
        are still recorded as given: those no log or printer could hold are refused all the same."""
        problems: list[FactProblem] = []
        if self._reject_unknown:
            return problems  # each is an unknown fact already
        for name, value in given.items():
            if name in self.facts:
                continue
            try:
                if isinstance(name, str):
                    _check_text(name, "")
                _check_storable(value)
            except _Unstorable as cause:
                shown = name if isinstance(name, str) and _lone_surrogate(name) is None else _shown(name)
                problems.append(
                    FactProblem(str(shown), f"fact `{shown}`: {cause.where(str(shown))}", "", value, cause.hint)
                )
        return problems

    def _problems(
        self, exc: pydantic.ValidationError, given: Mapping[str, Any], unstorable: Sequence[FactProblem] = ()
    ) -> FactsError:
        problems: list[FactProblem] = list(unstorable)
        for item in exc.errors():
            name = str(item["loc"][0]) if item["loc"] else ""
            fact = self.facts.get(name)
            expected = describe(fact.type) if fact else "no such fact"
            if item["type"] == "missing":
                problems.append(
                    FactProblem(
                        name,
                        f"fact `{name}` is missing; expected {expected}",
                        expected,
                        None,
                        "give it a value, or declare it optional with `?` or a default",
                    )
                )
            elif item["type"] == "extra_forbidden":
                hint = did_you_mean(name, self.facts)
                problems.append(
                    FactProblem(
                        name,
                        f"unknown fact `{name}`",
                        "no such fact",
                        given.get(name),
                        hint or "the policy's `input` block declares: " + ", ".join(f"`{f}`" for f in self.facts),
                    )
                )
            else:
                cause = item.get("ctx", {}).get("error")
                message = cause.message if isinstance(cause, _Invalid) else item["msg"]
                if isinstance(cause, _Unstorable):
                    message = cause.where(name)
                hint = cause.hint if isinstance(cause, _Invalid) else None
                problems.append(FactProblem(name, f"fact `{name}`: {message}", expected, given.get(name), hint))
        return self._facts_error(problems)

    def _facts_error(self, problems: list[FactProblem]) -> FactsError:
        diagnostics = tuple(
            error(
                Code.FACTS_ERROR,
                p.message,
                self.spans.get(p.fact),
                hint=p.hint,
                label=self._label(p),
            )
            for p in problems
        )
        return FactsError(problems, diagnostics)

    def _label(self, problem: FactProblem) -> str | None:
        """What the fact's span shows: its declaration, or for a schema-less fact the use its type was inferred from."""
        fact = self.facts.get(problem.fact)
        if fact is None or problem.fact not in self.spans:
            return None
        return f"declared as {problem.expected}" if fact.declared else f"used as {problem.expected} here"


def _wrap(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def validator(value: Any) -> Any:
        if value is MISSING:
            return value
        return convert(value)

    return validator


_ABSENT = object()


_FLOATS: dict[float, Decimal] = {}
"""Floats already read as numbers, and their Decimals: facts repeat the same amounts (`49.99`),
and reading one through its text is most of what validating a number fact costs. Never zero:
`-0.0 == 0.0` share a key but not a Decimal (`-0.0` and `0.0`). Bounded by _FLOATS_KEPT."""
_FLOATS_KEPT = 4096


def float_number(value: float) -> Decimal | None:
    """A float fact as the exact Decimal of its shortest text (`0.1` is 0.1, as convert_number
    reads it), or None when convert_number refuses it (infinities, NaN, out of range): the caller
    then asks the pydantic model, which says why.

    The range is judged on the float, before any text is made: the shortest text of floats keeps
    their order, so `1e-100 <= abs(value) <= 1e100` holds exactly when the Decimal is within the
    limits (the text of the float nearest 1e100 is `1e+100`).
    """
    if not (1e-100 <= abs(value) <= 1e100):  # NaN and the infinities fail this too
        return Decimal(repr(value)) if value == 0.0 else None  # keeps the sign of -0.0
    number = Decimal(repr(value))
    if len(_FLOATS) >= _FLOATS_KEPT:
        _FLOATS.clear()  # a dict's clear and set are atomic: threads may share it
    _FLOATS[value] = number
    return number


def _extras_unstorable(given: dict[str, Any], known: frozenset[str]) -> bool:
    """True when a fact the policy does not declare (name or value) could not be recorded as given.
    On every decision of a schema-less policy: plain text and numbers are judged inline."""
    for name, value in given.items():
        if name in known:
            continue
        if name.__class__ is str and not name.isascii() and _SURROGATE.search(name):
            return True
        kind = value.__class__
        if kind is str:
            if not value.isascii() and _SURROGATE.search(value):
                return True
        elif kind is not int and kind is not bool and kind is not float and _is_unstorable(value):
            return True
    return False


def _fast_validator(
    facts: dict[str, Fact], defaults: dict[str, Any], reject_unknown: bool
) -> Callable[[Any], dict[str, Any] | None]:
    """A function that converts a dict of facts that is entirely right, or returns None.

    Generated per policy (one local per fact, the common types checked inline), because a decision
    at 10 rules otherwise spends most of its time here. It returns None for a missing required
    fact, an unknown fact, a value a converter rejects, or anything that is not a plain dict; the
    caller then runs the pydantic model, which gives the same result or reports every problem.
    No policy text enters the source: fact names appear as `repr()` of identifiers, everything
    else as numbered globals.
    """
    namespace, body, result = validator_code(facts, defaults, reject_unknown, given="given", fail="return None")
    namespace["__builtins__"] = {}
    lines = ["def validate(given):", *("    " + line for line in body), f"    return {result}"]
    code = compile("\n".join(lines) + "\n", "<facts validator>", "exec")
    exec(code, namespace)
    validate: Callable[[Any], dict[str, Any] | None] = namespace["validate"]
    return validate


def validator_code(
    facts: dict[str, Fact], defaults: dict[str, Any], reject_unknown: bool, *, given: str, fail: str, prefix: str = ""
) -> tuple[dict[str, Any], list[str], str]:
    """The generated validator's parts, for `_fast_validator` and for the batch function that
    inlines them in its loop (batch.py): the globals it reads (their names start with `prefix`),
    its statements (indented from column 0; its locals' names start with `prefix` too; each place
    that refuses runs `fail`, which must leave the statements), and the expression of the result
    dict, valid after them. It reads the facts from the variable `given`."""
    p = prefix
    namespace: dict[str, Any] = {
        f"{p}ABSENT": _ABSENT,
        f"{p}MISSING": MISSING,
        f"{p}dict": dict,
        f"{p}str": str,
        f"{p}int": int,
        f"{p}len": len,
        f"{p}Exception": Exception,
        f"{p}Decimal": Decimal,
        f"{p}float": float,
        f"{p}PD": _parse_duration_text,
        f"{p}SUR": _SURROGATE.search,
        f"{p}UNSTORABLE": _is_unstorable,
        f"{p}EXTRAS_UNSTORABLE": _extras_unstorable,
        f"{p}KNOWN": frozenset(facts),
        f"{p}INT_LIMIT": INT_LIMIT,
        f"{p}IN_RANGE": _in_range,
        f"{p}FLOATS": _FLOATS,
        f"{p}FLOAT_NUMBER": float_number,
        f"{p}FLOATS_KEPT": _FLOATS_KEPT,
        f"{p}abs": abs,
        f"{p}repr": repr,
    }
    found = f"{p}found"
    lines = [
        f"if {given}.__class__ is not {p}dict:",
        f"    {fail}",
        f"{found} = 0  # facts given that are optional or have a default",
        "try:",
    ]
    result = []
    required = 0
    for i, (name, fact) in enumerate(facts.items()):
        key = repr(name)
        local = f"{p}x{i}"
        result.append(f"{key}: {local}")
        default = defaults[name]
        if default is ...:  # a KeyError is caught below: the model reports the missing fact
            required += 1
            lines.append(f"    {local} = {given}[{key}]")
            at = " " * 4
        else:
            namespace[f"{p}D{i}"] = default
            lines.append(f"    {local} = {given}.get({key}, {p}ABSENT)")
            lines.append(f"    if {local} is {p}ABSENT:")
            lines.append(f"        {local} = {p}D{i}")
            lines.append("    else:")
            lines.append(f"        {found} += 1")
            at = " " * 8
        t = fact.type
        # The common types are taken as they are when exactly right; the others go through their converter.
        inline: dict[Type, str] = {
            STRING: f"{local}.__class__ is not {p}str or not {local}.isascii() and {p}SUR({local})",
            BOOL: f"{local} is not True and {local} is not False",
            INT: f"{local}.__class__ is not {p}int or not -{p}INT_LIMIT <= {local} <= {p}INT_LIMIT",
            UNKNOWN: f"{local} is {p}MISSING or {p}UNSTORABLE({local})",
        }
        rejected = inline.get(t)
        if isinstance(t, EnumOf):
            namespace[f"{p}E{i}"] = frozenset(t.members)
            rejected = f"{local}.__class__ is not {p}str or {local} not in {p}E{i}"
        if rejected is None:
            namespace[f"{p}C{i}"] = converter_for(t)
            if t == NUMBER:
                # A float read through its decimal text, as convert_number does (float_number); the
                # rare cases (infinities, NaN, out of range) give None and the model reports them.
                # float_number inlined for the common case, a float within the limits not seen before.
                lines.append(f"{at}if {local}.__class__ is {p}float:")
                lines.append(f"{at}    {p}number = {p}FLOATS.get({local})")
                lines.append(f"{at}    if {p}number is not None:")
                lines.append(f"{at}        {local} = {p}number")
                lines.append(f"{at}    elif 1e-100 <= {p}abs({local}) <= 1e100:")
                lines.append(f"{at}        if {p}len({p}FLOATS) >= {p}FLOATS_KEPT:")
                lines.append(f"{at}            {p}FLOATS.clear()")
                lines.append(f"{at}        {p}number = {p}FLOATS[{local}] = {p}Decimal({p}repr({local}))")
                lines.append(f"{at}        {local} = {p}number")
                lines.append(f"{at}    else:")
                lines.append(f"{at}        {local} = {p}FLOAT_NUMBER({local})")
                lines.append(f"{at}        if {local} is None:")
                lines.append(f"{at}            {fail}")
                # a Decimal (JSON facts are read into them) is taken as it is when convert_number would
                lines.append(f"{at}elif {local}.__class__ is {p}Decimal:")
                lines.append(f"{at}    if not {local}.is_finite() or not {p}IN_RANGE({local}):")
                lines.append(f"{at}        {fail}")
                lines.append(f"{at}else:")
                lines.append(f"{at}    {local} = {p}C{i}({local})")
            elif t == DURATION:
                lines.append(f"{at}{local} = {p}PD({local}) if {local}.__class__ is {p}str else {p}C{i}({local})")
            else:
                lines.append(f"{at}{local} = {p}C{i}({local})")
        else:
            lines.append(f"{at}if {rejected}:")
            lines.append(f"{at}    {fail}")
    if not facts:
        lines.append("    pass  # a policy that reads no facts")
    lines.append(f"except {p}Exception:")
    lines.append(f"    {fail}  # the pydantic model says what is wrong")
    given_count = f"{found} + {required}" if required < len(facts) else str(required)
    if reject_unknown:
        lines.append(f"if {given_count} != {p}len({given}):")
        lines.append(f"    {fail}")
    else:  # facts the rules do not read are recorded as given: the model refuses those no log could hold
        lines.append(f"if {given_count} != {p}len({given}) and {p}EXTRAS_UNSTORABLE({given}, {p}KNOWN):")
        lines.append(f"    {fail}")
    return namespace, lines, "{" + ", ".join(result) + "}"
