"""Every function in policylang/ that dispatches on the class of a typed-tree node is either a
visitor, whose `match` has a case for every class of CheckedExpr and raises UnhandledNode on any
other (in the analysis: names it as a reason the analysis is incomplete, failing closed), or is
listed here as a filter with the reason it needs no case for the other classes.

A node class added to semantics/typed_tree.py without a case in some visitor then fails mypy (the
`match` ends in `typed_tree.unhandled`, which takes `Never`) and, at run time, raises an
`internal-error` instead of falling through to an answer nobody chose; a new function that tests
node classes fails test_every_dispatch_on_a_node_class_is_listed until it is sorted into one of
the two lists.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import typing
from collections.abc import Callable
from typing import Any

import pytest

import policylang
from policylang.analysis import fact_domains, regions
from policylang.core.datatypes import INT
from policylang.engine import compiler, evaluator, rule_index
from policylang.engine.codegen import CodeGen, Names
from policylang.explain import trace, why_not_reading, why_not_values, why_not_words
from policylang.semantics import checker, nesting
from policylang.semantics import typed_tree as c

PACKAGE = pathlib.Path(policylang.__file__).parent
CLASSES = {cls.__name__ for cls in typing.get_args(c.CheckedExpr)}


@dataclasses.dataclass(frozen=True)
class _Stranger:
    """A typed node class no visitor knows."""

    child_fields: typing.ClassVar[tuple[str, ...]] = ()
    type: Any = INT
    node: Any = None


STRANGER: Any = _Stranger()


@dataclasses.dataclass(frozen=True)
class _StrangerOver:
    """A typed node class no visitor knows, over an operand."""

    child_fields: typing.ClassVar[tuple[str, ...]] = ("operand",)
    operand: Any
    type: Any = INT
    node: Any = None


OVER_A: Any = _StrangerOver(c.FactRef("a", INT))

TEXT = """input {
    a: int
}
output {
    hit: bool = false
}
segment small = a < 3
rule probe: if small and a > 1 then hit
"""


def _policy() -> c.CheckedPolicy:
    report = policylang.check_source(TEXT, "probe.policy")
    assert report.ok and report.policy is not None, [d.message for d in report.diagnostics]
    return report.policy


def _with_stranger(policy: c.CheckedPolicy, stranger: Any = STRANGER) -> c.CheckedPolicy:
    """The policy with its rule's condition replaced by a stranger."""
    rule = dataclasses.replace(policy.rules[0], condition=stranger)
    return dataclasses.replace(policy, rules=(rule,))


def _conditions(policy: c.CheckedPolicy) -> regions.Conditions:
    return regions.Conditions(policy, {name: [0] for name in policy.facts}, set())


def _checker_retype(node: Any) -> Any:
    # The class patterns fail before any guard reads the checker's environment, so no checker is needed.
    return checker._Checker._retype(typing.cast(Any, None), node)


VISITORS: dict[str, Callable[[c.CheckedPolicy], Any]] = {
    "engine.codegen:CodeGen._maybe": lambda p: CodeGen(Names()).maybe(STRANGER),
    "engine.codegen:CodeGen._cond": lambda p: CodeGen(Names()).cond(STRANGER),
    "engine.codegen:CodeGen._value": lambda p: CodeGen(Names()).value(STRANGER),
    "engine.codegen:CodeGen.ref": lambda p: CodeGen(Names()).ref(STRANGER),
    "engine.compiler:_atoms": lambda p: list(compiler._atoms(STRANGER)),
    "engine.compiler:_pure": lambda p: compiler._pure(STRANGER),
    "engine.compiler:_has_division": lambda p: compiler._has_division(STRANGER),
    "engine.evaluator:_uses_context": lambda p: evaluator._computes(_with_stranger(p)),
    "engine.rule_index:constraints": lambda p: rule_index.constraints(_with_stranger(p).rules[0], 0),
    "engine.rule_index:_read_segment": lambda p: rule_index._read_segment(STRANGER, {}, 0, {}),
    "engine.rule_index:may_raise": lambda p: rule_index.may_raise(STRANGER),
    "engine.rule_index:_read_atom": lambda p: rule_index._read_atom(STRANGER, {}),
    "explain.trace:_Shape.of": lambda p: trace._Shape.of(STRANGER, p),
    "explain.why_not_words:_atoms_of": lambda p: why_not_words._atoms_of(_with_stranger(p).rules[0], p),
    "explain.why_not_words:_need": lambda p: why_not_words._need(STRANGER, str, False),
    "explain.why_not_values:_solve": lambda p: why_not_values._solve(why_not_reading._read(p), STRANGER, "a", 1, {}),
    "semantics.checker:_Checker._retype": lambda p: _checker_retype(STRANGER),
    "semantics.nesting:_depths": lambda p: nesting._depths(STRANGER, {}),
}
"""Each visitor, and a call that makes it meet the stranger (directly or through its caller)."""

_UNKNOWN = ["the analysis does not know `_Stranger`"]
FAILING_CLOSED: dict[str, Callable[[c.CheckedPolicy], bool]] = {
    "analysis.fact_domains:reads": lambda p: fact_domains.reads(STRANGER).outside == _UNKNOWN,
    "analysis.fact_domains:affine": lambda p: fact_domains.affine(STRANGER, p) is None,
    "analysis.fact_domains:_calculates": lambda p: fact_domains.facts_in_arithmetic(_with_stranger(p, OVER_A)) == {"a"},
    "analysis.regions:Conditions._reads_of": lambda p: _conditions(p)._reads_through(STRANGER).outside == _UNKNOWN,
    "analysis.regions:Conditions._truth": lambda p: _conditions(p).truth(c.Not(STRANGER, INT)) is None,
}
"""The analysis' visitors: each has a case for every class too, but first asks fact_domains.opaque,
which names a kind it does not know as a reason the analysis is incomplete (it fails closed)
instead of raising; each, and what it answers for the stranger (the answer that claims nothing)."""

_CONSTANT = "asks only whether a value is a constant (known when compiling)"
FILTERS: dict[str, str] = {
    "engine.codegen:_ascending": _CONSTANT + " (both bounds of a `between` of times of day)",
    "semantics.expression_checker:ExpressionChecker._check_constants": _CONSTANT
    + " (a function checks only the arguments written as constants)",
    "analysis.reading:PolicyReading.__init__": _CONSTANT,
    "explain.trace:conjuncts": "opens only a top-level `and` (any other node is one condition part, as a whole)",
    "analysis.reading:PolicyReading._rule_reads": _CONSTANT,
    "analysis.reading:PolicyReading._proposed": _CONSTANT,
    "analysis.reading:_actions": _CONSTANT,
    "analysis.witnesses:_written": _CONSTANT,
    "analysis.reading:_computed": "words a value copied from a fact apart from one computed (reads() names its facts)",
    "analysis.reading:PolicyReading._enumerated": "asks only whether a value is a copy of a fact (anything else is "
    "outside the fragment, as before)",
    "analysis.analyser:_Analysis.may_conflict.disagree": _CONSTANT + " (anything else may differ)",
    "analysis.fact_domains:_is_const": _CONSTANT,
    "analysis.fact_domains:constants_by_fact.constant": _CONSTANT + ", through the lets that name one",
    "analysis.regions:Conditions._constant": _CONSTANT + ", through the lets that name one",
    "analysis.fact_domains:constants_by_fact": "picks the comparisons out of a walk, for their constants",
    "analysis.fact_domains:constants_by_fact.compared": "a compared side that is a fact or a let naming one; "
    "anything else goes to affine(), a visitor",
    "analysis.fact_domains:facts_in_arithmetic": "picks the facts out of a walk; what computes is _calculates",
    "analysis.regions:Conditions._ordered_sides": "recognises `fact < constant` in atoms _reads_of accepted",
    "analysis.regions:_equality_constants": "recognises `fact == constant` and `fact in {constants}`; any "
    "other condition is tried on every class",
    "analysis.regions:Conditions._affine_atom": "recognises comparisons in atoms _reads_of accepted",
    "analysis.regions:_derived_read": "picks the lets and segments out of a walk",
    "explain.why_not_reading:_read": "picks the comparisons out of a walk, and among them those of a fact with a "
    "constant (whose classes cover them); every other comparison is solved through (_solve, a visitor)",
    "explain.why_not_reading:_proposal": "asks the operator table about a node with an operator or a function; "
    "any other node has no proposal of its own (its parts are asked)",
    "explain.why_not_values:_targets": "a comparison _read picked, by its kind; the sides are solved by _solve",
    "explain.why_not_values:_side": _CONSTANT,
    "explain.why_not_values:_evaluate": "a constant or a fact is read directly; anything else is compiled",
    "explain.why_not_values:_compiled": "picks the lets and segments out of a walk",
    "engine.codegen:CodeGen._range": _CONSTANT,
    "engine.codegen:CodeGen._keys.seconds": _CONSTANT + ", to fold its key",
    "engine.codegen:CodeGen._keys.number": _CONSTANT + ", to fold its key",
    "engine.codegen:CodeGen._keys.moment": _CONSTANT + ", to fold its key",
    "engine.codegen:CodeGen._enum_key.key": _CONSTANT + ", to fold its key",
    "engine.compiler:_Builder._shared_atoms": "skips the plain references among the atoms _atoms gave",
    "engine.compiler:_Builder._rule_block": _CONSTANT + ", to write its proposal once",
    "engine.compiler:_Builder._constant_value": _CONSTANT,
    "engine.compiler:_references": "picks the names read out of a walk",
    "engine.evaluator:_reads_now": "picks `now` out of a walk, to read the clock only for a policy that reads it",
    "engine.first_hit:generate": _CONSTANT,
    "explain.trace:_Env._part": "a segment part, as _Shape.of classified it",
    "explain.why_not:why_not": _CONSTANT,
    "explain.why_not:_can_propose": _CONSTANT,
    "explain.why_not:_blind": "picks the comparisons out of a walk",
    "explain.why_not:_derived_of": "picks the lets and segments out of a walk",
    "explain.why_not_words:words": "a flag among the atoms _atoms_of gave",
    "explain.why_not_words:atoms_by_fact": "picks the comparisons out of a walk",
    "semantics.checker:_Checker._constant": _CONSTANT,
    "semantics.checker:_Checker._action": _CONSTANT,
    "semantics.checker:_Checker._check_derived": "a let that names a schema-less fact takes its inferred type",
    "semantics.checker:_outputs_read": "picks the outputs and derived values read out of a walk",
    "semantics.expression_checker:ExpressionChecker._set": _CONSTANT,
    "semantics.expression_checker:ExpressionChecker._pair": _CONSTANT,
    "semantics.expression_checker:ExpressionChecker._refine_operands": "types the schema-less operands of "
    "arithmetic and calls just built; no other result has operands left untyped",
    "semantics.expression_checker:ExpressionChecker._current_type": "a schema-less fact's type so far, and "
    "a calculation's typed before its operands were; every other result's type is fixed when it is built",
    "semantics.expression_checker:ExpressionChecker._cannot_be": "words the error for the two kinds "
    "_refine_operands types (arithmetic or a call)",
    "semantics.expression_checker:ExpressionChecker.settle": "picks the calculations (calls, arithmetic, "
    "negations) out of a walk: only their operands can be schema-less facts left untyped",
    "semantics.expression_checker:ExpressionChecker._refine": "a schema-less fact's type so far",
    "semantics.nesting:_locate": "follows the deepest child _depths measured, stopping at a let or segment",
    "semantics.typed_tree:text_of": "a derived value's key is its text when it has no syntax node",
}
"""Functions that test node classes without dispatching on every one, and why that is enough."""


def _dispatches() -> dict[str, set[str]]:
    """module:function -> the typed node classes it names in `isinstance` or a `case` pattern."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        modules, names = _typed_tree_names(tree)
        if path.name == "typed_tree.py":
            names = set(CLASSES)

        def classes(expr: ast.AST, modules: set[str] = modules, names: set[str] = names) -> set[str]:
            seen = set()
            for sub in ast.walk(expr):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id in modules:
                    seen.add(sub.attr)
                elif isinstance(sub, ast.Name) and sub.id in names:
                    seen.add(sub.id)
            return seen & CLASSES

        def visit(node: ast.AST, scope: tuple[str, ...], module: str = module) -> None:
            for child in ast.iter_child_nodes(node):
                tested: set[str] = set()
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "isinstance":
                    tested = classes(child.args[1]) if len(child.args) == 2 else set()
                elif isinstance(child, ast.MatchClass):
                    tested = classes(child.cls)
                if tested:
                    found.setdefault(f"{module}:{'.'.join(scope)}", set()).update(tested)
                inner = (*scope, child.name) if isinstance(child, ast.FunctionDef | ast.ClassDef) else scope
                visit(child, inner)

        visit(tree, ())
    return found


def _typed_tree_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names a module gives typed_tree (`c`) and the node classes it imports from it by name."""
    modules, names = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "typed_tree":
                    modules.add(alias.asname or alias.name)
                elif (node.module or "").endswith("typed_tree") and alias.name in CLASSES:
                    names.add(alias.asname or alias.name)
    return modules, names


def test_every_dispatch_on_a_node_class_is_listed() -> None:
    found = set(_dispatches())
    listed = set(VISITORS) | set(FAILING_CLOSED) | set(FILTERS)
    assert len(listed) == len(VISITORS) + len(FAILING_CLOSED) + len(FILTERS)
    assert found - listed == set(), "sort these into VISITORS (exhaustive match) or FILTERS (with a reason)"
    assert listed - found == set(), "these no longer test node classes: take them off the lists"


def test_every_visitor_names_every_node_class() -> None:
    """A visitor's cases name every class (grouped as they share handling). Exempt: those that hand
    the rest to another visitor (the rule index's conjunction readers, regions' and/or/not), and
    CodeGen.ref, whose parameter's type is the three references (mypy checks its callers)."""
    exempt = {
        "engine.rule_index:constraints",
        "engine.rule_index:_read_segment",
        "analysis.regions:Conditions._truth",
        "engine.codegen:CodeGen.ref",
    }
    found = _dispatches()
    for name in (set(VISITORS) | set(FAILING_CLOSED)) - exempt:
        assert found[name] == CLASSES, f"{name} has no case for {sorted(CLASSES - found[name])}"


@pytest.mark.parametrize("name", sorted(VISITORS))
def test_a_visitor_refuses_a_node_class_it_does_not_know(name: str) -> None:
    with pytest.raises(c.UnhandledNode) as raised:
        VISITORS[name](_policy())
    assert raised.value.code == "internal-error"
    assert "_Stranger" in str(raised.value)


@pytest.mark.parametrize("name", sorted(FAILING_CLOSED))
def test_the_analysis_fails_closed_on_a_node_class_it_does_not_know(name: str) -> None:
    assert FAILING_CLOSED[name](_policy())


def test_no_module_lists_child_fields_itself() -> None:
    """Children are found through typed_tree.children / walk (each class's `child_fields`), never by
    a list of field names of its own that the next node class would be missing from."""
    fields = {name for cls in typing.get_args(c.CheckedExpr) for name in cls.child_fields}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "typed_tree.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                strings = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                assert len(strings & fields) < 2, f"{path.name}:{node.lineno} lists child fields {sorted(strings)}"
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
            ):
                name = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else None
                assert name not in fields, f"{path.name}:{node.lineno} reads child field {name!r} by name"


def test_a_cycle_through_a_function_call_is_found() -> None:
    """The cycle check walked a field list of its own that left out a call's arguments."""
    text = """input { x: int }
output {
    a: int = 0
    b: int = 0
}
rule one: if max(b, 1) > 0 then a = 1
rule two: if a > 0 then b = 1
"""
    [problem] = policylang.check_source(text).diagnostics
    assert (problem.code, problem.message) == ("cycle", "outputs depend on each other in a cycle: a -> b -> a")
