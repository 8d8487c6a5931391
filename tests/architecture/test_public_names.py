"""Every public name of policylang keeps working across the restack into layers (issue 13).

The lists are the names `policylang`, `policylang.explain`, `policylang.decision_log` and
`policylang.policy_tests` offered before the restack, written out so that a name cannot disappear
without this test failing: a name may be added, never lost.
"""

from __future__ import annotations

import importlib

import pytest

BEFORE_THE_RESTACK = {
    "policylang": [
        "CheckReport",
        "Code",
        "ConflictError",
        "Decision",
        "DecisionLog",
        "Diagnostic",
        "EvaluationError",
        "ExitCode",
        "FactsError",
        "FormatResult",
        "InternalError",
        "LogError",
        "MISSING",
        "ParseResult",
        "Policy",
        "PolicyError",
        "Severity",
        "__version__",
        "check_file",
        "check_source",
        "compile",
        "compile_snapshot",
        "format_file",
        "format_source",
        "load",
        "open_log",
        "parse",
        "render_json",
        "render_text",
        "summary_line",
    ],
    # docs/api.md and docs/explaining.md show `from policylang.explain import explanation, render_text, ...`
    "policylang.explain": [
        "Explanation",
        "Replay",
        "explain_text",
        "explanation",
        "explanation_schema",
        "render_html",
        "render_json",
        "render_markdown",
        "render_text",
    ],
    "policylang.decision_log": [
        "Anchor",
        "DecisionLog",
        "LogError",
        "LoggedDecision",
        "Problem",
        "Records",
        "Replay",
        "Unreadable",
        "VerifyReport",
        "decode_value",
        "encode_value",
        "open_log",
    ],
    "policylang.policy_tests": [
        "CaseResult",
        "Coverage",
        "DEFAULT_AS_OF",
        "ERROR_KINDS",
        "FileCoverage",
        "FileResult",
        "Mismatch",
        "RuleCoverage",
        "TestFile",
        "TestReport",
        "junit_xml",
        "parse_test_file",
        "read_test_file",
        "render_report",
        "run_tests",
    ],
}


@pytest.mark.parametrize(
    ("module", "name"), [(module, name) for module, names in BEFORE_THE_RESTACK.items() for name in names]
)
def test_a_public_name_is_still_there(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is not None


def test_the_root_lists_every_name_it_offers() -> None:
    import policylang

    assert set(BEFORE_THE_RESTACK["policylang"]) <= set(policylang.__all__)
    for name in policylang.__all__:
        assert hasattr(policylang, name), name


def test_the_engine_names_the_root_loads_lazily_are_the_engine_classes() -> None:
    import policylang
    from policylang.engine.evaluator import Decision, Policy

    assert policylang.Policy is Policy and policylang.Decision is Decision
    assert (
        policylang.compile("if tier == premium then skip_fraud_check", "demo.policy").decide({"tier": "premium"})[
            "skip_fraud_check"
        ]
        is True
    )
