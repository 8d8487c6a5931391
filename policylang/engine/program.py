"""The generated code of a compiled policy as code objects, and linking them into the functions that decide.

A DecisionGraph's functions are made by running generated source in a namespace of the runtime's
helpers and the policy's constants. Compiling that source is a good part of compiling a policy
(about a second at 10,000 rules), and functions cannot be pickled; code objects can be kept
(marshal), so a pickled policy carries them, and a worker that unpickles it links them again without
generating or compiling anything. Marshal's format belongs to one Python version: a program
unpickled by another compiles the source it also carries instead.
"""

from __future__ import annotations

import importlib.util
import marshal
from dataclasses import dataclass
from types import CodeType
from typing import Any

from ..semantics import typed_tree as c
from . import runtime

BYTECODE = importlib.util.MAGIC_NUMBER
"""The bytecode version marshalled code objects are valid for (changes with Python's minor version)."""


@dataclass(frozen=True, eq=False)
class Unit:
    """One piece of generated source and its code object; `label` names it in tracebacks."""

    label: str
    source: str
    code: CodeType


@dataclass(frozen=True, eq=False)
class Program:
    """What the generated functions of one policy are made from: the constants the code reads as
    globals, whether rules run after an output they read (the resolvers then check the order), and
    the compiled units: the deep parts, the full function, and the outputs-only function (run in a
    copy of the full function's namespace)."""

    name: str
    constants: dict[str, Any]
    reads_outputs: bool
    parts: Unit | None
    full: Unit
    outputs: Unit | None

    def link(self, policy: c.CheckedPolicy) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The full function's namespace (holding `decide` and every `_resolve{i}`) and the
        outputs-only function's (holding `decide_outputs`), or None when there is none."""
        namespace = runtime.namespace(policy, {rule.id: i for i, rule in enumerate(policy.rules)}, self.reads_outputs)
        namespace.update(self.constants)
        if self.parts is not None:
            exec(self.parts.code, namespace)
        exec(self.full.code, namespace)
        if self.outputs is None:
            return namespace, None
        outputs_namespace = dict(namespace)
        exec(self.outputs.code, outputs_namespace)
        return namespace, outputs_namespace

    def __reduce__(self) -> tuple[Any, ...]:
        units = [_unit_state(unit) for unit in (self.parts, self.full, self.outputs)]
        return (_unpickled, (BYTECODE, self.name, self.constants, self.reads_outputs, *units))


def compile_program(
    name: str, constants: dict[str, Any], reads_outputs: bool, parts: str, full: str, outputs: str | None
) -> Program:
    """The program of a policy named `name` from its generated sources. The parts and the full
    function must compile (a policy that checked must); the outputs-only function may fail to
    (a SyntaxError, RecursionError or MemoryError of a very deep one), and is then left out."""
    parts_unit = Unit("deep parts", parts, _compile(parts, f"<policy {name}, deep parts>")) if parts else None
    full_unit = Unit("", full, _compile(full, f"<policy {name}>"))
    outputs_unit = None
    if outputs is not None:
        try:
            outputs_unit = Unit("outputs only", outputs, _compile(outputs, f"<policy {name}, outputs only>"))
        except (SyntaxError, RecursionError, MemoryError):
            outputs_unit = None  # the full function serves alone
    return Program(name, constants, reads_outputs, parts_unit, full_unit, outputs_unit)


def _compile(source: str, filename: str) -> CodeType:
    # The source is built only from the checked IR (codegen.py), never from policy text.
    return compile(source, filename, "exec")


_UnitState = tuple[str, str, bytes] | None


def _unit_state(unit: Unit | None) -> _UnitState:
    if unit is None:
        return None
    return (unit.label, unit.source, marshal.dumps(unit.code))


def _unit_of(state: _UnitState, same_python: bool, name: str) -> Unit | None:
    if state is None:
        return None
    label, source, code = state
    if same_python:
        return Unit(label, source, marshal.loads(code))
    filename = f"<policy {name}, {label}>" if label else f"<policy {name}>"
    return Unit(label, source, _compile(source, filename))  # another Python: its own bytecode


def _unpickled(
    bytecode: bytes,
    name: str,
    constants: dict[str, Any],
    reads_outputs: bool,
    parts: _UnitState,
    full: _UnitState,
    outputs: _UnitState,
) -> Program:
    same_python = bytecode == BYTECODE
    full_unit = _unit_of(full, same_python, name)
    assert full_unit is not None
    return Program(
        name,
        constants,
        reads_outputs,
        _unit_of(parts, same_python, name),
        full_unit,
        _unit_of(outputs, same_python, name),
    )
