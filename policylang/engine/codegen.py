"""Checked expressions -> Python source for the decision function, injection-safe by construction.

No text from a policy is ever pasted into the source: facts, outputs, segments, lets and atoms
become numbered locals (`v3`, `o1`, `d2`, `a7`), constants become numbered module globals (`K4`)
or `repr()` of an int or str, and operators come from fixed tables. A rule named
`x"); import os; ("` only ever reaches the code as data.

Conditions use three-valued logic: True, False, or None when they read a missing fact ("a
condition that reads a missing fact is false unless it asks `is missing`"). Values are the
runtime value or MISSING. Bool-typed values are always in condition form (None = unknown).

Generated code must assign every local before it reads it, on every path. batch.py inlines the
outputs-only function's body into a loop over many items, where a local left over from the item
before would otherwise be read silently (in a plain function it would raise UnboundLocalError);
tests/properties/test_batch.py holds decide_many to a loop over decide() on generated policies.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..core import operators as ops
from ..core.datatypes import BOOL, DATE, DATETIME, DURATION, INT, NUMBER, TIME, UNKNOWN, EnumOf, Type, is_numeric
from ..core.values import Duration, as_datetime, enum_ranks
from ..semantics import typed_tree as c

_ATOM_TYPES = (c.Compare, c.Membership, c.Between, c.Presence)
_COMPARE = {op: python for op in ops.spellings("Compare") if (python := ops.BY_SPELLING[op].python)}
_ARITH = {op: python for op in ops.spellings("Arithmetic") if (python := ops.BY_SPELLING[op].python)}

MAX_BRACKETS = 40
"""Generated code nests at most about this many brackets deep before a part of it is moved into a
function of its own (`_part3(v0, d1)`): CPython refuses a statement with more than 200 nested
brackets, and one level of a policy expression costs up to a handful of them (a comparison of a
value that may be missing is three), so 100 levels (parser.MAX_DEPTH) written in one piece would
not compile."""

_BRACKET_OR_STRING = re.compile(r"[()\[\]{}]" r"|'(?:[^'\\\n]|\\.)*'" r'|"(?:[^"\\\n]|\\.)*"')
_LOCAL_NAME = re.compile(r"(?<![\w.])(?:[vodae]\d+s?|[vVDO]|now)(?!\w)")
"""The names generated code reads from its function's locals (codegen's numbered locals, the
tracer's V/D/O lists, the analysis's v); temporaries (`t3`) are local to the code that assigns them."""


@dataclass
class Names:
    """What each checked reference is called in the generated code, and which ones may be absent."""

    facts: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    maybe_missing: set[str] = field(default_factory=set)
    """Local names whose value may be MISSING (or None for bools)."""
    seconds: dict[str, str] = field(default_factory=dict)
    """Duration locals that are never missing -> the local holding their length in seconds."""


class CodeGen:
    """Turns checked expressions into Python expression strings, collecting constants as globals."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.constants: dict[str, Any] = {}
        self._constant_ids: dict[tuple[str, Any], str] = {}
        self._temps = 0
        self._tables = 0
        self.atoms: dict[c.CheckedExpr, str] = {}
        self._maybe_memo: dict[c.CheckedExpr, bool] = {}
        """Shared condition atoms, already computed into locals (structural key -> local name)."""
        self.parts: list[str] = []
        """Definitions of the functions deep code was split into (MAX_BRACKETS); whoever runs the
        generated code runs `parts_source()` in the same namespace first."""
        self._part_calls: dict[str, str] = {}

    def parts_source(self) -> str:
        """The source of every function the generated code calls for its deepest parts ("" if none)."""
        return "".join(self.parts)

    def _shallow(self, code: str) -> str:
        """The code itself, or, nested past MAX_BRACKETS, a call of a new function that computes it.

        The function takes the locals the code reads as arguments; a lazily computed shared atom
        it assigns (`a3 := ...`) is then remembered only inside it and is computed again where
        read next (the same value: evaluation is deterministic), which only deep policies pay."""
        if code.count("(") + code.count("[") + code.count("{") <= MAX_BRACKETS or _nesting(code) <= MAX_BRACKETS:
            return code
        if code in self._part_calls:  # the same deep code twice (a rule's condition, a shared test)
            return self._part_calls[code]
        without_strings = _BRACKET_OR_STRING.sub(lambda m: m.group() if len(m.group()) == 1 else "''", code)
        arguments = ", ".join(dict.fromkeys(_LOCAL_NAME.findall(without_strings)))
        name = f"_part{len(self.parts)}"
        self.parts.append(f"def {name}({arguments}):\n    return {code}\n")
        call = self._part_calls[code] = f"{name}({arguments})"
        return call

    # --- bookkeeping ---

    def constant(self, value: Any) -> str:
        """Code for a constant: an int or str literal by repr(), anything else a module global."""
        if isinstance(value, bool):
            return "True" if value else "False"
        if type(value) is int or type(value) is str:
            return repr(value)
        key = (type(value).__name__, value)
        if key not in self._constant_ids:
            name = f"K{len(self._constant_ids)}"
            self._constant_ids[key] = name
            self.constants[name] = value
        return self._constant_ids[key]

    def table(self, value: Any) -> str:
        """A module global holding `value` as it is (an index's masks and tables), never deduplicated
        or written into the source: a mask of 10,000 rules is a 10,000-bit int."""
        name = f"X{self._tables}"
        self._tables += 1
        self.constants[name] = value
        return name

    @contextlib.contextmanager
    def atoms_known(self, known: dict[c.CheckedExpr, str]) -> Iterator[None]:
        """Within the block, these atoms are the given code (a constant or a local); then as before."""
        saved = {atom: self.atoms.get(atom) for atom in known}
        self.atoms.update(known)
        try:
            yield
        finally:
            for atom, previous in saved.items():
                if previous is None:
                    self.atoms.pop(atom, None)
                else:
                    self.atoms[atom] = previous

    def temp(self) -> str:
        self._temps += 1
        return f"t{self._temps}"

    # --- may an expression be missing? ---

    def maybe(self, expr: c.CheckedExpr) -> bool:
        """Whether the expression's value may be missing (None for a condition). Remembered per
        expression: the compiler asks again wherever an expression recurs."""
        try:
            return self._maybe_memo[expr]
        except KeyError:
            answer = self._maybe_memo[expr] = self._maybe(expr)
            return answer

    def _maybe(self, expr: c.CheckedExpr) -> bool:
        match expr:
            case c.Const() | c.Now() | c.Presence():
                return False
            case c.FactRef():
                return self.names.facts[expr.name] in self.names.maybe_missing
            case c.OutputRef():
                return self.names.outputs[expr.name] in self.names.maybe_missing
            case c.DerivedRef():
                return self.names.derived[expr.key] in self.names.maybe_missing
            case c.Compare() | c.Membership() | c.Arithmetic():
                return self.maybe(expr.left) or self.maybe(expr.right)
            case c.Between():
                return self.maybe(expr.value) or self.maybe(expr.low) or self.maybe(expr.high)
            case c.BoolOp():
                return any(self.maybe(e) for e in expr.operands)
            case c.Not() | c.Negate():
                return self.maybe(expr.operand)
            case c.SetLiteral():
                return any(self.maybe(e) for e in expr.elements)
            case c.Call():
                return any(self.maybe(e) for e in expr.args)
            case c.Conditional():
                return self.maybe(expr.condition) or self.maybe(expr.then_value) or self.maybe(expr.else_value)
            case _:
                c.unhandled(expr)

    # --- conditions (bool-typed) ---

    def cond(self, expr: c.CheckedExpr) -> str:
        """Code giving True / False, or None when the answer depends on something missing."""
        return self._shallow(self._cond(expr))

    def _cond(self, expr: c.CheckedExpr) -> str:
        # Only leaf atoms are shared; looking up an and/or tree would hash the whole tree each time.
        if isinstance(expr, _ATOM_TYPES) and expr in self.atoms:
            return self.atoms[expr]
        match expr:
            case c.Const():
                return "True" if expr.value else "False"
            case c.FactRef() | c.OutputRef() | c.DerivedRef():
                return self.ref(expr)
            case c.Compare():
                return self._comparison(expr)
            case c.Membership():
                return self._membership(expr)
            case c.Between():
                return self._range(expr)
            case c.Presence():
                if not self.maybe(expr.target):
                    # Never missing; still evaluated, so an error inside it (a division) is raised.
                    answer = "False" if expr.missing else "True"
                    if isinstance(expr.target, c.Const | c.FactRef | c.OutputRef | c.DerivedRef | c.Now):
                        return answer
                    return f"(({self.value(expr.target)},) and {answer})"
                target = self.value(expr.target)
                absent = "None" if expr.target.type == BOOL else "MISSING"
                return f"({target} is {absent})" if expr.missing else f"({target} is not {absent})"
            case c.BoolOp():
                operands, parts = _folded(expr.op, list(expr.operands), [self.cond(e) for e in expr.operands])
                if len(parts) == 1:
                    return parts[0]
                if any(self.maybe(e) for e in operands):
                    return self._balanced_kleene(expr.op, parts)
                return "(" + f" {expr.op} ".join(parts) + ")"
            case c.Not():
                inner = self.cond(expr.operand)
                if inner in ("True", "False"):
                    return "False" if inner == "True" else "True"
                if self.maybe(expr.operand):
                    t = self.temp()
                    return f"(None if ({t} := {inner}) is None else not {t})"
                return f"(not {inner})"
            case c.Conditional():
                return self._choice(expr)
            case c.Now() | c.Arithmetic() | c.Negate() | c.SetLiteral() | c.Call():
                raise TypeError(f"not a condition: {type(expr).__name__}")
            case _:
                c.unhandled(expr)

    def _balanced_kleene(self, op: str, parts: list[str]) -> str:
        """Long chains are split in halves, each half a three-valued group: the same answer and order
        (both operators are associative), but Python's 200-level limit on nested parentheses is
        reached only by chains of astronomical length."""
        if len(parts) <= 4:
            return self._kleene(op, parts)
        middle = len(parts) // 2
        return self._kleene(op, [self._balanced_kleene(op, parts[:middle]), self._balanced_kleene(op, parts[middle:])])

    def _kleene(self, op: str, parts: list[str]) -> str:
        """Three-valued `and` / `or`, left to right, stopping at the first operand that decides
        (False for `and`, True for `or`); unknown (None) only when nothing decided and one was unknown."""
        decisive, otherwise = ("False", "True") if op == "and" else ("True", "False")
        temps = [self.temp() for _ in parts]
        code = f"(None if ({' or '.join(f'{t} is None' for t in temps)}) else {otherwise})"
        for t, part in reversed(list(zip(temps, parts, strict=True))):
            code = f"({decisive} if ({t} := {part}) is {decisive} else {code})"
        return code

    def ref(self, expr: c.FactRef | c.OutputRef | c.DerivedRef) -> str:
        """The local a fact, output or derived value is read from."""
        match expr:
            case c.FactRef():
                return self.names.facts[expr.name]
            case c.OutputRef():
                return self.names.outputs[expr.name]
            case c.DerivedRef():
                return self.names.derived[expr.key]
            case _:
                c.unhandled(expr)

    def _guarded(
        self, operands: list[c.CheckedExpr], build: Any, when_missing: str = "None", evaluate_all: bool = False
    ) -> str:
        """`build(codes)` where the codes are temporaries checked for MISSING first, if any may be missing.

        `evaluate_all` evaluates every operand first even when none may be missing, for a `build`
        that would otherwise skip one (Python's chained `a <= b <= c` stops at the first false part).
        """
        if not evaluate_all and not any(self.maybe(e) for e in operands):
            return str(build([self.value(e) for e in operands]))
        # Every operand is evaluated (left to right) before a missing one makes the result missing, so
        # an error in any operand (a division by zero) is never hidden by a missing neighbour.
        temps = []
        assigns = []
        checks = []
        for operand in operands:
            t = self.temp()
            assigns.append(f"({t} := {self.value(operand)})")
            temps.append(t)
            if self.maybe(operand):
                absent = "None" if operand.type == BOOL else "MISSING"
                checks.append(f"{t} is {absent}")
        if not checks:
            return f"(({', '.join(assigns)},) and {build(temps)})"
        return f"(({', '.join(assigns)},) and ({when_missing} if {' or '.join(checks)} else {build(temps)}))"

    def _comparison(self, expr: c.Compare) -> str:
        op = _COMPARE[expr.op]
        key_left, key_right = self._keys(expr.left.type, expr.right.type, ordering=expr.op not in ("==", "!="))
        return self._guarded(
            [expr.left, expr.right],
            lambda codes: f"({key_left(codes[0], expr.left)} {op} {key_right(codes[1], expr.right)})",
        )

    def _range(self, expr: c.Between) -> str:
        types = {expr.value.type, expr.low.type, expr.high.type}
        if types == {TIME} and not _ascending(expr.low, expr.high):
            # Times of day may cross midnight (`between 22:00 and 06:00`): a helper that knows.
            return self._guarded(
                [expr.value, expr.low, expr.high],
                lambda codes: f"_clock_between({', '.join(codes)})",
                evaluate_all=True,
            )
        if {DATE, DATETIME} <= types:  # one side a date, another a moment: all three as moments
            key_value, key_low = self._keys(DATE, DATETIME, ordering=True)
            key_high = key_low
        else:
            key_value, key_low = self._keys(expr.value.type, expr.low.type, ordering=True)
            _, key_high = self._keys(expr.value.type, expr.high.type, ordering=True)
        return self._guarded(
            [expr.value, expr.low, expr.high],
            lambda codes: (
                f"({key_low(codes[1], expr.low)} <= {key_value(codes[0], expr.value)}"
                f" <= {key_high(codes[2], expr.high)})"
            ),
            evaluate_all=any(not isinstance(bound, c.Const) for bound in (expr.low, expr.high)),
        )

    def _membership(self, expr: c.Membership) -> str:
        if expr.op == "contains":
            return self._guarded([expr.left, expr.right], lambda codes: f"({codes[1]} in {codes[0]})")
        op = "in" if expr.op == "in" else "not in"
        return self._guarded([expr.left, expr.right], lambda codes: f"({codes[0]} {op} {codes[1]})")

    def _keys(self, left: Type, right: Type, ordering: bool) -> tuple[Any, Any]:
        """Functions (code, expr) -> code that map both sides to one comparable representation."""

        def plain(code: str, expr: c.CheckedExpr) -> str:
            return code

        def seconds(code: str, expr: c.CheckedExpr) -> str:
            if isinstance(expr, c.Const) and isinstance(expr.value, Duration):
                return repr(expr.value.total_seconds)
            if code in self.names.seconds:
                return self.names.seconds[code]
            return f"{code}.total_seconds"

        def number(code: str, expr: c.CheckedExpr) -> str:
            # Decimal against Decimal compares about twice as fast as Decimal against int, and the same.
            if isinstance(expr, c.Const) and type(expr.value) is int:
                return self.constant(Decimal(expr.value))
            return code

        def moment(code: str, expr: c.CheckedExpr) -> str:
            if isinstance(expr, c.Const) and isinstance(expr.value, date):
                return self.constant(as_datetime(expr.value))
            return f"_as_datetime({code})"

        if left == DURATION or right == DURATION:
            return seconds, seconds
        if {left, right} == {DATE, DATETIME}:
            return moment, moment
        if ordering and isinstance(left, EnumOf):
            return self._enum_key(left.members), self._enum_key(left.members)
        if NUMBER in (left, right) and {left, right} <= {NUMBER, INT}:
            return number, number
        return plain, plain

    def _enum_key(self, members: tuple[str, ...]) -> Any:
        """Enums order by declaration: compare member positions through a precomputed table."""
        ranks = enum_ranks(members)
        table_key = ("enum-rank", members)
        if table_key not in self._constant_ids:
            name = f"K{len(self._constant_ids)}"
            self._constant_ids[table_key] = name
            self.constants[name] = ranks
        table = self._constant_ids[table_key]

        def key(code: str, expr: c.CheckedExpr) -> str:
            if isinstance(expr, c.Const) and isinstance(expr.value, str):
                return repr(ranks[expr.value])
            return f"{table}[{code}]"

        return key

    # --- values ---

    def value(self, expr: c.CheckedExpr) -> str:
        """Code giving the runtime value (or MISSING); bool-typed expressions give True / False / None."""
        return self._shallow(self._value(expr))

    def _value(self, expr: c.CheckedExpr) -> str:
        if expr.type == BOOL and not isinstance(expr, c.Const):
            return self.cond(expr)
        match expr:
            case c.Const():
                return self.constant(expr.value)
            case c.FactRef() | c.OutputRef() | c.DerivedRef():
                return self.ref(expr)
            case c.Now():
                return "now"
            case c.Arithmetic():
                return self._guarded([expr.left, expr.right], lambda codes: self._arith(expr, codes), "MISSING")
            case c.Negate():
                return self._guarded([expr.operand], lambda codes: f"(-{codes[0]})", "MISSING")
            case c.SetLiteral():
                return self._guarded(list(expr.elements), lambda codes: f"frozenset(({', '.join(codes)},))", "MISSING")
            case c.Call():
                return self._guarded(list(expr.args), lambda codes: self._call(expr, codes), "MISSING")
            case c.Conditional():
                return self._choice(expr)
            case c.Compare() | c.Membership() | c.Between() | c.Presence() | c.BoolOp() | c.Not():
                return self.cond(expr)
            case _:
                c.unhandled(expr)

    def _choice(self, expr: c.Conditional) -> str:
        """`if c then a else b` as Python's `a if c else b`: the condition first, then only the value
        it picks; an unknown condition gives the missing value (None for a bool, as conditions are)."""
        condition = self.cond(expr.condition)
        then_code, else_code = self.value(expr.then_value), self.value(expr.else_value)
        if condition in ("True", "False"):  # the index already knows the answer
            return then_code if condition == "True" else else_code
        if not self.maybe(expr.condition):
            return f"({then_code} if {condition} else {else_code})"
        t = self.temp()
        missing = "None" if expr.type == BOOL else "MISSING"
        return f"({then_code} if ({t} := {condition}) else ({missing} if {t} is None else {else_code}))"

    def _call(self, expr: c.Call, codes: list[str]) -> str:
        """A built-in function on present arguments (a missing one made the call missing already,
        as for arithmetic); an int it picks for a number-typed call becomes a decimal, as `1 + 0.5` does."""
        if expr.type == UNKNOWN:  # schema-less values of types not known until run time
            return f"_call_any({expr.function!r}, {', '.join(codes)})"
        code = f"{ops.FUNCTIONS[expr.function].helper}({', '.join(codes)})"
        if expr.type == NUMBER and any(arg.type == INT for arg in expr.args):
            return f"_number({code})"
        return code

    def _arith(self, expr: c.Arithmetic, codes: list[str]) -> str:
        left, right = expr.left.type, expr.right.type
        a, b = codes
        op = expr.op
        if (is_numeric(left) or left == UNKNOWN) and (is_numeric(right) or right == UNKNOWN):
            if op == "/":
                return f"_divide({a}, {b})"
            if expr.type in (INT, UNKNOWN):  # Python's ints never overflow: the bound is checked here
                return f"_bounded({a} {_ARITH[op]} {b})"
            return f"({a} {_ARITH[op]} {b})"
        if left == DURATION and right == DURATION:
            if op == "/":
                return f"_duration_ratio({a}, {b})"
            return f"_bounded({a} {_ARITH[op]} {b})"
        if left in (DATE, DATETIME) and right == DURATION:
            shift = "_shift_date" if left == DATE else "_shift_datetime"
            return f"{shift}({a}, {b})" if op == "+" else f"{shift}({a}, -{b})"
        if left == DURATION and right in (DATE, DATETIME):
            return f"{'_shift_date' if right == DATE else '_shift_datetime'}({b}, {a})"
        if op == "-" and left in (DATE, DATETIME) and right in (DATE, DATETIME):
            return f"_difference({a}, {b})"
        if op == "*":
            return f"_scale({b}, {a})" if right == DURATION else f"_scale({a}, {b})"
        if op == "/" and left == DURATION:
            return f"_scale_down({a}, {b})"
        return f"_arith_any({op!r}, {a}, {b})"


def _ascending(low: c.CheckedExpr, high: c.CheckedExpr) -> bool:
    """Whether both bounds are constants and the first is not after the second."""
    return isinstance(low, c.Const) and isinstance(high, c.Const) and low.value <= high.value


def _nesting(code: str) -> int:
    """How deep brackets nest in generated code (brackets inside string constants do not count)."""
    depth = deepest = 0
    for match in _BRACKET_OR_STRING.finditer(code):
        token = match.group()
        if token in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in ")]}":
            depth -= 1
    return deepest


def _folded(op: str, operands: list[c.CheckedExpr], parts: list[str]) -> tuple[list[c.CheckedExpr], list[str]]:
    """An and/or with its constant operands folded away, keeping evaluation order and errors.

    Constants appear where the rule index already knows an atom's answer (`tier == premium` in a
    candidate the index found through the `tier` table). `True` in an `and` (`False` in an `or`)
    changes nothing and is dropped; `False` in an `and` (`True` in an `or`) decides, so the operands after it, which
    short-circuiting never reaches, are dropped, and the operands before it are kept, since one
    of them may still raise (a division by zero).
    """
    neutral, decisive = ("True", "False") if op == "and" else ("False", "True")
    kept_operands: list[c.CheckedExpr] = []
    kept: list[str] = []
    for operand, part in zip(operands, parts, strict=True):
        if part == neutral:
            continue
        if part == decisive:
            if not kept:
                return [], [decisive]
            # The earlier operands run first and may be unknown; `x and False` is False either way,
            # but x must still be evaluated (for its errors), so the constant stays as the last operand.
            kept_operands.append(operand)
            kept.append(part)
            return kept_operands, kept
        kept_operands.append(operand)
        kept.append(part)
    if not kept:
        return [], [neutral]
    return kept_operands, kept
