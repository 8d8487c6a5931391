"""Issue 16 item 6 (optional outputs) and the "also found on the way" list.

Optional outputs: `note: string?` declares that no value is a valid result, so `policy check
--strict` reports no coverage gap for it; decisions, explanations and `policy test` are unchanged,
and so is the generated code. Also found: `[1..5]` suggests `between` (both ends included, as the
docs now say), `max(a, b)` parses, `customer.tier` waits for records.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import policylang
from policylang.api import with_analysis
from policylang.core.diagnostics import Code
from policylang.syntax.formatter import format_tree
from policylang.syntax.nodes import OutputBlock
from policylang.syntax.parser import parse

OPTIONAL = """\
input {
    tier: enum(basic, premium)
}

output {
    sla: duration = 72h resolve min
    account_manager: string?
    note: string? resolve first
}

rule premium: if tier == premium then sla = 8h, account_manager = "Dana", note = "vip"
"""


def _codes(text: str) -> list[tuple[str, str]]:
    """What `policy check` reports: the checker's diagnostics and the analysis' findings."""
    report = with_analysis(policylang.check_source(text))
    return [(d.code.value, d.message) for d in report.diagnostics]


def test_an_optional_output_left_without_a_value_is_no_coverage_gap() -> None:
    assert _codes(OPTIONAL) == []
    # the same policy without the `?`: each absence is a gap (the test above could fail)
    without = OPTIONAL.replace("string?", "string")
    gaps = [message for code, message in _codes(without) if code == Code.COVERAGE_GAP.value]
    assert len(gaps) == 2 and "`account_manager`" in gaps[0] and "`note`" in gaps[1]


def test_an_optional_output_is_absent_from_a_decision_as_one_without_a_default_is() -> None:
    policy = policylang.compile(OPTIONAL)
    basic = policy.decide({"tier": "basic"})
    assert set(basic.outputs) == {"sla"}
    assert "account_manager" not in basic and basic.resolutions["account_manager"].status == "absent"
    assert policy.decide({"tier": "premium"})["note"] == "vip"
    assert "note: no value" in basic.explain()


def test_optional_and_a_default_is_an_error_that_says_which_to_remove() -> None:
    report = policylang.check_source(OPTIONAL.replace("note: string?", 'note: string? = "none"'))
    (problem,) = report.diagnostics
    assert problem.code == Code.TYPE_MISMATCH and "optional and has a default" in problem.message
    assert problem.hint is not None and "remove the `?`" in problem.hint and '= "none"' in problem.hint


def test_an_optional_output_no_rule_sets_is_still_a_warning() -> None:
    text = OPTIONAL.replace("output {\n", "output {\n    unused: int?\n")
    (finding,) = [message for code, message in _codes(text) if code == Code.COVERAGE_GAP.value]
    assert finding == "output `unused` has no default and no rule sets it: no decision ever has it"


def test_the_question_mark_round_trips_through_the_formatter() -> None:
    tree = parse(OPTIONAL).tree
    (block,) = [item for item in tree.items if isinstance(item, OutputBlock)]
    assert [f.optional for f in block.fields] == [False, True, True]
    assert parse(format_tree(tree)).tree == tree
    assert "    account_manager: string?\n" in policylang.format_source(OPTIONAL).text


def test_the_question_mark_does_not_change_the_generated_code() -> None:
    def sources(text: str) -> list[str]:
        program = policylang.compile(text).decision_graph.program
        return [unit.source for unit in (program.parts, program.full, program.outputs) if unit is not None]

    assert sources(OPTIONAL) == sources(OPTIONAL.replace("string?", "string"))


def test_policy_test_expects_an_absent_optional_output_with_a_tilde(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(OPTIONAL)
    (tmp_path / "p.test.yaml").write_text(
        "cases:\n  - name: basic has no manager\n    facts: {tier: basic}\n    expect: {account_manager: ~}\n"
        "  - name: premium has one\n    facts: {tier: premium}\n    expect: {account_manager: ~}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "policylang", "test", "p.test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout and "1 failed" in result.stdout
    assert 'account_manager: expected no value, got "Dana"' in result.stdout or "got Dana" in result.stdout


# -- also found on the way ---------------------------------------------------------------------


def test_a_range_in_brackets_suggests_between() -> None:
    (problem,) = policylang.check_source(
        "input { age: int }\noutput { ok: bool = false }\nif age in [18..65] then ok\n"
    ).diagnostics
    assert problem.code == Code.SYNTAX_ERROR and problem.message == "`[18..65]` is not a range"
    assert problem.hint == "write `age between 18 and 65` (both ends included)"


def test_between_includes_both_ends_as_the_docs_say() -> None:
    policy = policylang.compile("input { x: int }\noutput { ok: bool = false }\nif x between 1 and 5 then ok\n")
    assert [policy.decide({"x": x})["ok"] for x in range(7)] == [False, True, True, True, True, True, False]
    docs = (Path(__file__).resolve().parents[2] / "docs" / "language.md").read_text()
    assert "it is `1 <= x and x <= 5`" in docs and "`x between 1 and 5`, or\n  `1 < x and x < 5`" not in docs


def test_max_of_two_facts_parses() -> None:
    text = "input { a: int b: int }\noutput { n: int = 0 }\nrule r: if a > 0 then n = max(a, b)\n"
    assert [d for d in policylang.check_source(text).diagnostics if d.is_error] == []
    assert policylang.compile(text).decide({"a": 1, "b": 7})["n"] == 7


def test_a_dotted_fact_is_still_read_as_an_import_until_records_land() -> None:
    """Left for records (issue 16 item 1): `customer.tier` reads as import `customer`'s `tier`."""
    (problem,) = policylang.check_source(
        "input { x: int }\noutput { ok: bool = false }\nif customer.tier == gold then ok\n"
    ).diagnostics
    assert problem.code == Code.UNKNOWN_NAME and problem.message == "no import is called `customer`"
