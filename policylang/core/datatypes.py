"""Static types of the language and the rules for comparing, ordering, combining and assigning them."""

from __future__ import annotations

from dataclasses import dataclass

from .pickling import pickle_slots_quickly


@dataclass(frozen=True, slots=True)
class Primitive:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class EnumOf:
    """An enum type; two enums are the same type when they have the same members in the same order."""

    members: tuple[str, ...]

    def __str__(self) -> str:
        return f"enum({', '.join(self.members)})"


@dataclass(frozen=True, slots=True)
class SetOf:
    element: Type

    def __str__(self) -> str:
        return f"set[{self.element}]"


Type = Primitive | EnumOf | SetOf

BOOL = Primitive("bool")
INT = Primitive("int")
NUMBER = Primitive("number")
STRING = Primitive("string")
DURATION = Primitive("duration")
DATE = Primitive("date")
DATETIME = Primitive("datetime")
TIME = Primitive("time")
"""A time of day (`09:00`, `17:30:15`) on no particular day and in no zone: what a clock shows."""
UNKNOWN = Primitive("any")
"""The type of something whose type is not known (after an error, or a schema-less fact never compared
with anything): it fits everywhere, so one mistake is reported once, not again at every use."""

PRIMITIVES = {t.name: t for t in (BOOL, INT, NUMBER, STRING, DURATION, DATE, DATETIME, TIME)}
TYPE_NAMES = (*PRIMITIVES, "enum", "set")


def describe(t: Type) -> str:
    """A type in words for messages: "a duration", "an enum(a, b)", "a set[string]"."""
    text = str(t)
    return ("an " if text[0] in "aeiou" else "a ") + text


def is_numeric(t: Type) -> bool:
    return t in (INT, NUMBER)


def is_temporal(t: Type) -> bool:
    return t in (DATE, DATETIME)


def is_ordered(t: Type) -> bool:
    """Types with `<`: numbers, durations, dates, times of day, and enums (in declaration order)."""
    return t in (INT, NUMBER, DURATION, DATE, DATETIME, TIME, UNKNOWN) or isinstance(t, EnumOf)


def comparable(a: Type, b: Type) -> bool:
    """Whether `a == b` makes sense: the same type, int with number, date with datetime."""
    if a == UNKNOWN or b == UNKNOWN:
        return True
    if a == b:
        return True
    if is_numeric(a) and is_numeric(b):
        return True
    if is_temporal(a) and is_temporal(b):
        return True
    if isinstance(a, SetOf) and isinstance(b, SetOf):
        return comparable(a.element, b.element)
    return False


def assignable(value: Type, target: Type) -> bool:
    """Whether a value of type `value` may be stored where `target` is declared (int widens to number)."""
    if value == UNKNOWN or target == UNKNOWN:
        return True
    if value == target:
        return True
    if value == INT and target == NUMBER:
        return True
    if isinstance(value, SetOf) and isinstance(target, SetOf):
        return assignable(value.element, target.element)
    return False


def join(a: Type, b: Type) -> Type | None:
    """The type that holds both (int and number give number), or None when there is none."""
    if a == UNKNOWN:
        return b
    if b == UNKNOWN:
        return a
    if a == b:
        return a
    if is_numeric(a) and is_numeric(b):
        return NUMBER
    if isinstance(a, SetOf) and isinstance(b, SetOf):
        element = join(a.element, b.element)
        return SetOf(element) if element is not None else None
    return None


def arithmetic_result(op: str, left: Type, right: Type) -> Type | None:
    """The type of `left op right`, or None when the operation makes no sense (design sketch, "Values")."""
    if left == UNKNOWN or right == UNKNOWN:
        known = right if left == UNKNOWN else left
        if known == UNKNOWN:
            return UNKNOWN
        if op in ("*", "/") and known == DURATION:
            return DURATION
        return known if op in ("+", "-") or is_numeric(known) else None
    if is_numeric(left) and is_numeric(right):
        if op == "/":
            return NUMBER
        return INT if left == right == INT else NUMBER
    if left == DURATION and right == DURATION:
        if op in ("+", "-"):
            return DURATION
        if op == "/":
            return NUMBER
        return None
    if op in ("+", "-") and is_temporal(left) and right == DURATION:
        return left
    if op == "+" and left == DURATION and is_temporal(right):
        return right
    if op == "-" and is_temporal(left) and is_temporal(right):
        return DURATION
    if op == "*" and {left, right} <= {DURATION, INT, NUMBER} and DURATION in (left, right):
        return DURATION
    if op == "/" and left == DURATION and is_numeric(right):
        return DURATION
    return None


pickle_slots_quickly(globals())
