"""Every operator and function in core/operators.py, and every typed node class, is handled by every stage.

From each table entry's examples a tiny policy is built; it must check cleanly, decide as the
reference interpreter does on a grid of facts (including a missing one), trace and explain with
its text, answer why-not, format and parse back to the same tree, and be analysed: exactly, or,
for an OPAQUE entry, with an `analysis-incomplete` note that names it. Adding a table entry or a
node class without handling it in one of these stages fails here.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import typing
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from support import reference
from support.reference import normalise_outputs, reference_run

import policylang
from policylang.api import with_analysis
from policylang.core import operators as ops
from policylang.core.datatypes import INT
from policylang.core.diagnostics import Code
from policylang.core.values import Duration
from policylang.engine.codegen import CodeGen, Names
from policylang.semantics import typed_tree as c
from policylang.syntax import keywords
from policylang.syntax import nodes as n
from policylang.syntax.formatter import unparse_expr

FACTS = """input {
    a: int
    b: int
    n: number?
    d: duration
    e: duration
    s: string
    t: set[string]
    f: bool
}"""

GRID = {
    "a": [-3, 2],
    "b": [0, 5],
    "n": [None, "-1.5", "2.5"],
    "d": ["-2d", "3d"],
    "e": ["1w"],
    "s": ["x"],
    "t": [["x"]],
    "f": [True, False],
}
AS_OF = "2026-01-31T09:00:00Z"


def _facts() -> list[dict[str, Any]]:
    names = list(GRID)
    found = []
    for values in itertools.product(*GRID.values()):
        given = {name: value for name, value in zip(names, values, strict=True) if value is not None}
        found.append(given)
    return found


def _condition_policy(condition: str) -> str:
    return f"{FACTS}\noutput {{\n    hit: bool = false\n}}\nrule probe: if {condition} then hit\n"


def _value_policy(value: str, output_type: str) -> str:
    return (
        f"{FACTS}\noutput {{\n    v: {output_type}\n    hit: bool = false\n}}\n"
        f"rule probe: if {value} >= {value} then v = {value}, hit\n"
    )


def _cases() -> list[tuple[str, str, Any]]:
    """(id, policy text, the entry) for every operator and every function example."""
    cases: list[tuple[str, str, Any]] = [
        (f"op {op.spelling}", _condition_policy(op.example), op) for op in ops.OPERATORS
    ]
    for function in ops.FUNCTIONS.values():
        for example in function.examples:
            checked = policylang.check_source(_condition_policy(f"{example} == {example}"))
            assert checked.ok, f"{example}: {[d.message for d in checked.diagnostics]}"
            cases.append((f"fn {example}", _value_policy(example, _type_of(example)), function))
    return cases


def _type_of(example: str) -> str:
    report = policylang.check_source(f"{FACTS}\nlet probe_value = {example}\n")
    assert report.ok and report.policy is not None, [d.message for d in report.diagnostics]
    return str(next(iter(report.policy.derived.values())).type)


CASES = _cases()


@pytest.mark.parametrize(("text", "entry"), [(text, entry) for _, text, entry in CASES], ids=[i for i, _, _ in CASES])
def test_every_stage_handles_the_entry(text: str, entry: Any) -> None:
    report = policylang.check_source(text, "probe.policy")
    assert report.ok, [d.message for d in report.diagnostics]
    policy = policylang.compile(text, filename="probe.policy")

    # decide == the reference interpreter; trace and explain show the rule's condition as written
    for given in _facts():
        decision = policy.decide(given, as_of=AS_OF, on_conflict="mark")
        reference = reference_run(text, "probe.policy", given, AS_OF, "mark")
        assert normalise_outputs(decision.outputs) == normalise_outputs(reference.outputs), (text, given)
        assert list(decision.fired) == reference.fired
    decision = policy.decide(_facts()[-1], as_of=AS_OF)
    condition = unparse_expr(_rule_condition(text))
    explained = " ".join(decision.explain(width=None).split())
    assert condition in explained
    if isinstance(entry, ops.Function):  # the trace shows each call with its value
        shown = unparse_expr(_rule_condition(text).left)  # type: ignore[attr-defined]  # (`call >= call`)
        assert f"{shown} is " in explained, explained
    trace = decision.trace()
    assert trace.outputs

    # why-not answers (a proposal or a reason), never raises
    answer = decision.why_not("hit", not decision.outputs["hit"])
    assert answer.summary

    # the formatter round trip
    formatted = policylang.format_source(text, "probe.policy")
    assert formatted.text is not None
    assert policylang.parse(formatted.text, "probe.policy").tree == policylang.parse(text, "probe.policy").tree

    # the analysis: exact, or incomplete and saying why
    analysed = with_analysis(report)
    notes = [d for d in analysed.diagnostics if d.code == Code.ANALYSIS_INCOMPLETE]
    assert not [d for d in analysed.diagnostics if d.code == Code.INTERNAL_ERROR]
    if isinstance(entry, ops.Function) and entry.analysis is ops.Analysis.OPAQUE:
        assert any(f"`{entry.name}`" in " ".join(d.notes) for d in notes), analysed.diagnostics


def _rule_condition(text: str) -> n.Expr:
    tree = policylang.parse(text, "probe.policy").tree
    rule = next(item for item in tree.items if isinstance(item, n.Rule))
    return rule.condition


def _typed_classes() -> set[type]:
    return set(typing.get_args(c.CheckedExpr))


def test_every_typed_node_class_is_an_expression_with_declared_children() -> None:
    defined = {
        cls
        for cls in vars(c).values()
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and "child_fields" in vars(cls)
    }
    assert defined == _typed_classes()
    for cls in defined:
        assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), f"{cls.__name__} has no docstring"
        names = {f.name for f in dataclasses.fields(cls)}
        assert set(cls.child_fields) <= names


def test_every_syntax_node_class_has_a_docstring() -> None:
    for cls in vars(n).values():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == n.__name__:
            assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), f"{cls.__name__} has no docstring"


def test_the_cases_reach_every_typed_node_class() -> None:
    """A node class no table example produces would go untested by test_every_stage_handles_the_entry."""
    seen: set[type] = set()
    for _, text, _ in CASES:
        report = policylang.check_source(text)
        assert report.policy is not None
        seen |= {type(node) for node in c.walk(c.policy_expressions(report.policy))}
    seen |= {c.OutputRef, c.DerivedRef, c.Now, c.SetLiteral}  # covered by the differential property tests
    assert _typed_classes() <= seen, _typed_classes() - seen


def test_every_syntax_operator_spelling_is_in_the_table() -> None:
    assert set(n.COMPARE_OPS) == {"==", "!=", "<", "<=", ">", ">="}
    assert set(n.MEMBERSHIP_OPS) == {"in", "not in", "contains"}
    assert set(n.ARITH_OPS) == {"+", "-", "*", "/"}
    assert {op.node for op in ops.OPERATORS} == {
        "BoolOp",
        "Not",
        "Compare",
        "Membership",
        "Between",
        "Presence",
        "Arithmetic",
        "Negate",
        "Conditional",
    }


def test_the_grammar_nests_operators_as_the_table_says() -> None:
    """The formatter parenthesises by the table's levels; the parser nests by the grammar. They must
    agree: unparsing a tree built to the table's levels parses back to the same tree."""
    a, b, cc = (n.Name(parts=(x,)) for x in "abc")
    looser_first = sorted({(op.level, op.spelling) for op in ops.OPERATORS if op.node == "Arithmetic"})
    for (low_level, low), (high_level, high) in itertools.product(looser_first, repeat=2):
        tree = n.Arithmetic(op=low, left=a, right=n.Arithmetic(op=high, left=b, right=cc))
        text = unparse_expr(tree)
        assert ("(" in text) == (high_level <= low_level), text
        parsed = policylang.parse(f"let x = {text}").tree.items[0]
        assert isinstance(parsed, n.Let) and parsed.value == tree


def test_function_names_stay_usable_as_fact_names() -> None:
    text = "input {\n    min: int\n    max: int\n    abs: int\n}\noutput { x: int = 0 }\n"
    text += "rule r: if min < max and abs(min - max) > abs then x = max(min, max, abs)\n"
    policy = policylang.compile(text)
    assert policy.decide({"min": 1, "max": 9, "abs": 2}).outputs["x"] == 9


@pytest.mark.parametrize(
    ("expression", "code", "message", "hint"),
    [
        ("mni(a, b)", Code.UNKNOWN_NAME, "there is no function called `mni`", "did you mean `min`?"),
        ("max(a)", Code.TYPE_MISMATCH, "`max` takes 2 or more arguments, but is given 1", "write it as `max(a, b)`"),
        ("abs(a, b)", Code.TYPE_MISMATCH, "`abs` takes 1 argument, but is given 2", "write it as `abs(a)`"),
        (
            "min(a, d)",
            Code.TYPE_MISMATCH,
            "`min` cannot mix numbers and durations: argument 1 is a number, argument 2 a duration",
            "give every argument the same kind; a number of days as a duration is `n * 1d`",
        ),
        ("abs(s)", Code.TYPE_MISMATCH, "`abs` works on numbers and durations, but argument 1 is a string", None),
    ],
)
def test_call_diagnostics(expression: str, code: Code, message: str, hint: str | None) -> None:
    text = f"{FACTS}\nlet x = {expression}\n"
    report = policylang.check_source(text)
    [problem] = report.diagnostics
    assert (problem.code, problem.message) == (code, message)
    if hint is not None:
        assert problem.hint == hint
    assert problem.span is not None
    under = text[problem.span.start : problem.span.end]
    assert under in {"mni", expression, "d", "s", "b"}


def test_a_missing_argument_makes_the_call_missing() -> None:
    text = f"{FACTS}\noutput {{\n    v: number = 0\n}}\nrule r: if max(n, a) is missing then v = 1\n"
    policy = policylang.compile(text)
    given = {"a": 1, "b": 1, "d": "1d", "e": "1d", "s": "x", "t": [], "f": True}
    assert policy.decide(given).outputs["v"] == 1
    assert policy.decide({**given, "n": 2}).outputs["v"] == 0


def test_number_results_are_decimals_and_durations_keep_their_kind() -> None:
    text = f"{FACTS}\noutput {{\n    lo: number\n    far: duration\n    most: duration\n}}\n"
    policy = policylang.compile(text + "rule r: if f then lo = min(a, n), far = abs(d), most = max(d, e, 1d)\n")
    given = {"a": -3, "b": 1, "n": "2.5", "d": "-2d", "e": "1w", "s": "x", "t": [], "f": True}
    outputs = policy.decide(given).outputs
    assert outputs["lo"] == -3 and type(outputs["lo"]) is Decimal
    assert outputs["far"] == Duration(0, 2 * 86_400) and outputs["most"] == Duration(0, 7 * 86_400)


def test_the_grammar_reserves_the_keyword_list() -> None:
    """grammar.lark's NAME lookahead is the one literal copy of syntax/keywords.RESERVED."""
    grammar = resources.files("policylang.syntax").joinpath("grammar.lark").read_text(encoding="utf-8")
    match = re.search(r"^NAME:\s*/\(\?!\(\?:([a-z|]+)\)", grammar, re.MULTILINE)
    assert match is not None, "NAME in grammar.lark no longer starts with a keyword lookahead"
    assert sorted(match.group(1).split("|")) == sorted(keywords.RESERVED)
    for word in keywords.RESERVED:
        assert not policylang.parse(f"let {word} = 1").ok
    for word in (*keywords.CONTEXTUAL, *ops.FUNCTIONS):
        assert policylang.parse(f"let {word} = 1").ok, word


@dataclasses.dataclass(frozen=True)
class _Stranger:
    """A typed node class no stage knows."""

    child_fields: typing.ClassVar[tuple[str, ...]] = ()
    type: Any = INT
    node: Any = None


def test_visitors_refuse_a_node_class_they_do_not_know() -> None:
    gen = CodeGen(Names())
    stranger: Any = _Stranger()
    for visit in (gen.maybe, gen.cond, gen.value):
        with pytest.raises(c.UnhandledNode):
            visit(stranger)
    with pytest.raises(AssertionError):
        reference.evaluate(stranger, None)  # type: ignore[arg-type]  # (it fails before reading the state)
    assert c.children(stranger) == []


def test_schemaless_arguments_take_their_type_from_the_comparison() -> None:
    policy = policylang.compile("if max(spend, 10) > 20 then big\nif min(a, b) < 1d then short\n")
    assert policy.decide({"spend": 30, "a": "2d", "b": "1h"}).outputs == {"big": True, "short": True}
    untyped = policylang.compile("if y > 0 then v = max(a, b)\n")
    assert untyped.decide({"y": 1, "a": 1, "b": 2}).outputs == {"v": 2}
    # Arguments nothing else types are numbers (issue 13 review): the facts are refused, not computed with.
    with pytest.raises(policylang.FactsError, match=r'fact `a`: expected a number, got "x"'):
        untyped.decide({"y": 1, "a": "x", "b": 2})
