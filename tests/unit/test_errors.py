"""One root error class (issue 13, item 6): every exception policylang raises on purpose is a
PolicylangError whose `code` is a documented Code, and each public failure is caught as one."""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import pickle
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import policylang
from policylang import Code, PolicylangError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "policylang"

INTERNAL_SIGNALS = {
    "policylang.analysis.budget.OutOfTime": "the analysis's deadline; analyser.py catches it and notes the outputs",
    "policylang.analysis.boxes.TooComplex": "a region grown too large; the analysis catches it and says incomplete",
}
"""Public-named exception classes that never leave their package, so are no failure a caller sees.
(Private ones, named with `_`, are internal by their name.)"""

LOCAL_CLASSES = {"NestingTooDeep": "a YAML error the exact loader raises, read as any YAML error by its callers"}
"""Exception classes defined inside a function (so not found as module members), and why they are internal."""


def _documented_codes() -> set[str]:
    docs = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^## `([a-z-]+)`", docs, flags=re.MULTILINE))


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined at the top of a module of policylang, by qualified name."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(policylang.__path__, "policylang."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_exception_class_of_the_package_is_a_policylang_error_with_a_documented_code() -> None:
    classes = _exception_classes()
    assert len(classes) >= 15 and "policylang.engine.facts.FactsError" in classes  # the walk saw the package
    documented = _documented_codes()
    for name in INTERNAL_SIGNALS:
        assert name in classes, f"{name} is listed as internal but no longer exists: drop it from INTERNAL_SIGNALS"
    wrong = []
    for name, cls in sorted(classes.items()):
        if cls.__name__.startswith("_") or name in INTERNAL_SIGNALS or cls is PolicylangError:
            continue
        if not issubclass(cls, PolicylangError):
            wrong.append(f"{name} does not derive from PolicylangError")
        elif not isinstance(getattr(cls, "code", None), Code):
            wrong.append(f"{name} has no Code")
        elif cls.code.value not in documented:
            wrong.append(f"{name}'s code `{cls.code}` has no section in docs/diagnostics.md")
    assert not wrong, "\n".join(wrong)


def test_exception_classes_defined_inside_functions_are_known_internal_ones() -> None:
    """The walk above sees module members only; a class made inside a function is found in the source."""
    local = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                local.update(
                    node.name
                    for node in ast.walk(function)
                    if isinstance(node, ast.ClassDef) and re.search(r"Error|Exception", ast.unparse(node.bases[0]))
                    if node.bases
                )
    assert local == set(LOCAL_CLASSES)


def test_every_code_is_documented() -> None:
    assert {code.value for code in Code} <= _documented_codes()


def test_the_root_and_the_old_bases() -> None:
    assert "PolicylangError" in policylang.__all__ and "UsageError" in policylang.__all__
    exported = [getattr(policylang, name) for name in policylang.__all__]
    errors = [x for x in exported if inspect.isclass(x) and issubclass(x, BaseException)]
    assert len(errors) >= 8 and all(issubclass(x, PolicylangError) for x in errors)
    # The bases they had before the root, so that `except ValueError` and the like keep catching them.
    assert issubclass(policylang.FactsError, ValueError) and issubclass(policylang.UsageError, ValueError)
    assert issubclass(policylang.EvaluationError, ArithmeticError)
    assert issubclass(policylang.ConflictError, policylang.EvaluationError)
    assert issubclass(policylang.InternalError, policylang.EvaluationError)


def test_a_subclass_without_a_code_is_refused_where_it_is_defined() -> None:
    with pytest.raises(TypeError, match="declares no `code`"):
        type("Nameless", (PolicylangError,), {})


# --- each public failure, caught through the root --------------------------------------------------

CONFLICTING = """\
input { n: number }
output { level: enum(low, high) }
rule low_one: if n > 1 then level = low
rule high_one: if n > 2 then level = high
"""

DIVIDING = "input { n: number }\nif 10 / n > 1 then x\n"


def _caught(call: Callable[[], Any]) -> PolicylangError:
    try:
        call()
    except PolicylangError as error:
        return error
    raise AssertionError("no PolicylangError raised")


def _failures(tmp_path: Path) -> dict[str, tuple[Callable[[], Any], Code, type[BaseException]]]:
    """Name -> (a call that fails, the code it must have, the class it must be)."""
    conflicting = tmp_path / "levels.policy"
    conflicting.write_text(CONFLICTING)
    junk = tmp_path / "junk.db"
    junk.write_text("not a log\n")
    typed = policylang.compile("input { n: number }\nif n > 1 then x\n", "typed.policy")
    decision = typed.decide({"n": 2})
    unrefused = policylang.load(conflicting, refuse_conflicts=False)
    dividing = policylang.compile(DIVIDING, "dividing.policy")
    return {
        "syntax error": (
            lambda: policylang.compile("if tier == then x\n", "a.policy"),
            Code.SYNTAX_ERROR,
            policylang.PolicyError,
        ),
        "type mismatch": (
            lambda: policylang.compile("input { n: number }\nif n > 2y then x\n", "b.policy"),
            Code.TYPE_MISMATCH,
            policylang.PolicyError,
        ),
        "missing file": (lambda: policylang.load(tmp_path / "nowhere.policy"), Code.IO_ERROR, policylang.PolicyError),
        "refused conflict": (lambda: policylang.load(conflicting), Code.CONFLICT, policylang.PolicyError),
        "bad facts": (lambda: typed.decide({"n": "many"}), Code.FACTS_ERROR, policylang.FactsError),
        "run-time conflict": (lambda: unrefused.decide({"n": 3}), Code.CONFLICT, policylang.ConflictError),
        "division by zero": (lambda: dividing.decide({"n": 0}), Code.EVALUATION_ERROR, policylang.EvaluationError),
        "bad log": (lambda: policylang.open_log(junk), Code.LOG_ERROR, policylang.LogError),
        "bad why-not question": (lambda: decision.why_not("slaa=4h"), Code.USAGE, _why_not_error()),
        "unknown output traced": (lambda: decision.trace(outputs=["slaa"]), Code.USAGE, policylang.UsageError),
        "bad argument": (
            lambda: policylang.compile("if a then b\n", unknown_facts="maybe"),
            Code.USAGE,
            policylang.UsageError,
        ),
        "bad budget": (
            lambda: policylang.load(conflicting, analysis_budget=0),
            Code.USAGE,
            policylang.UsageError,
        ),
    }


def _why_not_error() -> type[BaseException]:
    from policylang.explain.why_not import WhyNotError

    return WhyNotError


def test_each_public_failure_is_caught_as_a_policylang_error_with_its_code(tmp_path: Path) -> None:
    for what, (call, code, kind) in _failures(tmp_path).items():
        error = _caught(call)
        assert type(error) is kind, (what, type(error))
        assert error.code is code, (what, error.code)
        assert error.code.value in _documented_codes(), what


def test_a_policy_errors_code_is_its_first_errors_and_its_diagnostics_stay() -> None:
    error = _caught(lambda: policylang.compile("input { n: number }\nif n > 2y then x\nif tier == then y\n"))
    assert isinstance(error, policylang.PolicyError)
    first = next(d for d in error.diagnostics if d.is_error)
    assert error.code is first.code and len(error.diagnostics) >= 2


def test_errors_with_one_diagnostic_carry_it_in_diagnostics() -> None:
    from policylang.core.diagnostics import internal_error

    problem = internal_error(RuntimeError("boom"), "deciding")
    assert policylang.InternalError(problem).diagnostics == (problem,)
    assert policylang.UsageError("wrong").diagnostics == ()


def test_errors_read_from_facts_input_take_their_diagnostics_code(tmp_path: Path) -> None:
    from policylang.core.facts_input import FactsInputError, parse_document, read_text

    broken = _caught(lambda: parse_document("facts.json", '{"n": '))
    assert isinstance(broken, FactsInputError) and broken.code is Code.FACTS_ERROR
    missing = _caught(lambda: read_text(str(tmp_path / "nowhere.json")))
    assert isinstance(missing, FactsInputError) and missing.code is Code.IO_ERROR
    assert missing.diagnostics == (missing.diagnostic,)


def test_a_value_past_a_limit_is_limit_exceeded() -> None:
    from policylang.core.values import ValueParseError, parse_int_literal

    assert _caught(lambda: parse_int_literal("1" + "0" * 101)).code is Code.LIMIT_EXCEEDED
    malformed = _caught(lambda: parse_int_literal("1__0"))
    assert isinstance(malformed, ValueParseError) and malformed.code is Code.SYNTAX_ERROR


@pytest.mark.parametrize("duplicate", [pickle.loads, copy.copy, copy.deepcopy], ids=["pickle", "copy", "deepcopy"])
def test_errors_pickle_and_copy_with_their_code_and_attributes(tmp_path: Path, duplicate: Callable[[Any], Any]) -> None:
    for what, (call, _, _) in _failures(tmp_path).items():
        error = _caught(call)
        copied = duplicate(pickle.dumps(error)) if duplicate is pickle.loads else duplicate(error)
        assert type(copied) is type(error), what
        assert copied.code is error.code and copied.args == error.args and str(copied) == str(error), what
        assert copied.diagnostics == error.diagnostics, what
        assert vars(copied).keys() == vars(error).keys(), what
