"""Issue 13 review: `min`, `max`, `abs` and arithmetic over schema-less facts, and syntax errors in calls.

A policy with no `input` block infers each fact's type from how it is used. A call's arguments (and
the operands of `+`) took no type from the output the action sets, nor from a comparison with a
bare word, so `policy check` passed and decisions computed with whatever was given: `y = max(c, d)`
in a number output became `true` or `"y"`, `z = abs(e)` in a duration output became the int 3,
`min(f, g)` compared a bool with a number. Now the output's type and the compared type flow into the
arguments, the type rule runs again after each refinement, facts still untyped at the end are
numbers, and facts validation refuses a value of another type with the usual facts-error.
"""

from __future__ import annotations

from typing import Any

import pytest

import policylang
from policylang import Code
from policylang.api import check_source

OUTPUTS = "output { x: bool = false\n y: number = 0\n z: duration = 0s }\n"
POLICY = (
    OUTPUTS
    + "rule r: if max(a, b) > 5 then x\n"
    + "rule q: if c is present then y = max(c, d)\n"
    + "rule w: if e is present then z = abs(e)\n"
    + "rule v: if min(f, g) == min(h, i) then x\n"
)


def _types(text: str) -> dict[str, str]:
    report = check_source(text, "review.policy")
    assert report.ok, [d.message for d in report.diagnostics]
    assert report.policy is not None
    return {name: str(fact.type) for name, fact in report.policy.facts.items()}


def _refused(policy: policylang.Policy, facts: dict[str, Any]) -> list[str]:
    with pytest.raises(policylang.FactsError) as caught:
        policy.decide(facts)
    assert all(d.code == Code.FACTS_ERROR and d.span is not None for d in caught.value.diagnostics)
    return [p.message for p in caught.value.problems]


def test_arguments_take_the_type_of_the_output_or_the_comparison() -> None:
    assert _types(POLICY) == {
        "a": "number",
        "b": "number",
        "c": "number",  # y is a number
        "d": "number",
        "e": "duration",  # z is a duration
        "f": "number",  # nothing says: a function's arguments are numbers
        "g": "number",
        "h": "number",
        "i": "number",
    }


@pytest.mark.parametrize(
    ("facts", "problems"),
    [
        ({"c": True, "d": False}, ["fact `c`: expected a number, got true", "fact `d`: expected a number, got false"]),
        ({"c": "x", "d": "y"}, ['fact `c`: expected a number, got "x"', 'fact `d`: expected a number, got "y"']),
        ({"e": -3}, ["fact `e`: expected a duration, got -3"]),
        ({"f": True, "g": 1, "h": 1, "i": 2}, ["fact `f`: expected a number, got true"]),
    ],
)
def test_values_of_another_type_are_refused(facts: dict[str, Any], problems: list[str]) -> None:
    assert _refused(policylang.compile(POLICY), facts) == problems


def test_values_of_the_right_type_are_decided() -> None:
    policy = policylang.compile(POLICY)
    assert policy.decide({"c": 1, "d": 2.5}).outputs["y"] == 2.5
    assert str(policy.decide({"e": "-3d"}).outputs["z"]) == "3d"
    assert policy.decide({"f": 2, "g": 1, "h": 1, "i": 3}).outputs["x"] is True
    assert policy.decide({"a": 1, "b": 6}).outputs["x"] is True


def test_the_label_says_where_a_schema_less_fact_got_its_type() -> None:
    with pytest.raises(policylang.FactsError) as caught:
        policylang.compile(POLICY).decide({"e": -3})
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.labels == () or diagnostic.label == "used as a duration here"


def test_a_call_compared_with_a_bare_word_is_a_type_mismatch() -> None:
    text = OUTPUTS + "rule z: if min(e, f) == g then x\n"
    report = check_source(text, "review.policy")
    (diagnostic,) = report.diagnostics
    assert diagnostic.code == Code.TYPE_MISMATCH
    assert diagnostic.message == "`min(e, f)` is used as a string here, but `min` cannot give one"
    assert diagnostic.span is not None and text[diagnostic.span.start : diagnostic.span.end] == "min(e, f)"
    assert diagnostic.hint is not None and diagnostic.hint.startswith("give `min` numbers or durations")


@pytest.mark.parametrize(
    ("rule", "argument"),
    [
        ('rule z: if c == "text" then x\nrule q: if c is present then y = max(c, 1)\n', "c"),
        ("rule z: if c then x\nrule q: if c is present then y = abs(c)\n", "c"),
        ("rule q: if c is present then y = max(c, 1)\nrule z: if c == true then x\n", None),
    ],
)
def test_a_fact_typed_elsewhere_that_a_function_cannot_take_is_reported(rule: str, argument: str | None) -> None:
    text = OUTPUTS + rule
    report = check_source(text, "review.policy")
    codes = [d.code for d in report.diagnostics]
    assert codes == [Code.TYPE_MISMATCH], [d.message for d in report.diagnostics]
    if argument is not None:  # the function's own refusal, at the argument
        (diagnostic,) = report.diagnostics
        assert diagnostic.span is not None and text[diagnostic.span.start : diagnostic.span.end] == argument
        assert "works on numbers and durations" in diagnostic.message


def test_arithmetic_takes_the_type_of_the_output_too() -> None:
    """The same hole in `y = c + d`: true became 1, and strings were joined."""
    text = "output { y: number = 0 }\nrule q: if c is present then y = c + d\n"
    assert _types(text) == {"c": "number", "d": "number"}
    policy = policylang.compile(text)
    assert _refused(policy, {"c": True, "d": False}) == [
        "fact `c`: expected a number, got true",
        "fact `d`: expected a number, got false",
    ]
    assert _refused(policy, {"c": "x", "d": "y"})[0] == 'fact `c`: expected a number, got "x"'
    assert policy.decide({"c": 1, "d": 2}).outputs["y"] == 3


def test_arithmetic_compared_with_a_bare_word_is_a_type_mismatch() -> None:
    text = OUTPUTS + "rule z: if a + b == g then x\n"
    (diagnostic,) = check_source(text, "review.policy").diagnostics
    assert diagnostic.code == Code.TYPE_MISMATCH
    assert diagnostic.span is not None and text[diagnostic.span.start : diagnostic.span.end] == "a + b"


def test_a_date_plus_a_schema_less_fact_is_a_duration() -> None:
    text = OUTPUTS + "rule r: if start + grace > 2026-01-01 then x\n"
    assert _types(text) == {"start": "date", "grace": "duration"}


@pytest.mark.parametrize(
    ("line", "message", "under"),
    [
        ("rule r: if a > 0 then y = max(a 1)\n", "separate a function's arguments with `,`", "1"),
        ("rule r: if max(a 1) > 0 then x\n", "separate a function's arguments with `,`", "1"),
        ("rule r: if max(a, b c) > 0 then x\n", "separate a function's arguments with `,`", "c"),
        (
            "rule r: if a > 0 then y = stdlib.max(a, 1)\n",
            "functions are called by their name alone, not through a value or a module",
            None,
        ),
        (
            "rule r: if a.max(1) > 0 then x\n",
            "functions are called by their name alone, not through a value or a module",
            "a.max(",
        ),
        ("rule r: if max(a, 1 > 0 then x\n", "unclosed `(`", "("),
        ("rule r: if (a 1) > 0 then x\n", "expected `)` or an operator, found `1`", "1"),
    ],
)
def test_syntax_errors_in_calls_say_what_is_wrong_there(line: str, message: str, under: str | None) -> None:
    text = OUTPUTS + line
    diagnostic = check_source(text, "review.policy").diagnostics[0]
    assert diagnostic.code == Code.SYNTAX_ERROR
    assert diagnostic.message == message
    assert diagnostic.hint
    assert diagnostic.span is not None
    assert text[diagnostic.span.start : diagnostic.span.end] == (under or "stdlib.max(")


def test_a_negated_argument_is_typed_too() -> None:
    text = "output { y: number = 0 }\nrule q: if c is present then y = max(-c, 1)\nrule n: if -e == -f then y = 2\n"
    assert _types(text) == {"c": "number", "e": "number", "f": "number"}
    assert _refused(policylang.compile(text), {"c": True}) == ["fact `c`: expected a number, got true"]
