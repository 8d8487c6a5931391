"""Issue 12 (fuzzing): crashes the fuzzing suite found outside the issue's list, one test per reproduction."""

from __future__ import annotations

from pathlib import Path

import pytest

from policylang.diagnostics import Code
from policylang.policy_tests import read_test_file, run_tests

POLICY = "input { n: int? }\noutput { hit: bool = false resolve any }\nif n > 1 then hit\n"


@pytest.mark.parametrize(
    ("text", "character"),
    [
        ("cases:\n  - name: odd\ufffe\n    facts: {n: 2}\n    expect: {hit: true}\n", "\ufffe"),
        ("# a comment \x8b\ncases:\n  - name: odd\n    facts: {n: 2}\n    expect: {hit: true}\n", "\x8b"),
        ("cases:\n  - name: odd\n    facts: {n: 2}\x00\n    expect: {hit: true}\n", "\x00"),
    ],
    ids=["U+FFFE in a name", "U+008B in a comment", "a NUL after a value"],
)
def test_issue_12_a_character_yaml_refuses_in_a_test_file_is_a_facts_error(
    tmp_path: Path, text: str, character: str
) -> None:
    """The fuzzer's reproduction: such a file ended `policy test` in internal-error (ReaderError)."""
    (tmp_path / "p.policy").write_text(POLICY, encoding="utf-8")
    path = tmp_path / "p.test.yaml"
    path.write_text(text, encoding="utf-8")
    report = run_tests([str(path)])
    assert not report.ok
    problems = [d for result in report.files for d in result.problems]
    assert [d.code for d in problems] == [Code.FACTS_ERROR]
    problem = problems[0]
    assert problem.message == f"invalid YAML: the character U+{ord(character):04X} is not allowed in YAML"
    assert problem.hint
    assert problem.span is not None
    assert text[problem.span.start : problem.span.end] == character
    assert read_test_file(str(path)).cases == ()
