"""Issue 12 (fuzzing): crashes the fuzzing suite found outside the issue's list, one test per reproduction."""

from __future__ import annotations

from pathlib import Path

import pytest

from policylang.core.diagnostics import Code
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


def test_issue_12_a_log_whose_schema_is_not_utf8_is_a_damaged_log(tmp_path: Path) -> None:
    """The fuzzer's reproduction: bytes of the schema overwritten with ones that are not UTF-8. SQLite's
    message quotes them, and Python's sqlite3 raised UnicodeDecodeError (an internal error of every
    `policy log` command) instead of an error about the file."""
    import policylang
    from policylang.decision_log import LogError, open_log

    path = tmp_path / "decisions.db"
    with open_log(path) as log:
        policy = policylang.compile(POLICY, "p.policy", log=log)
        policy.decide({"n": 2}, as_of="2026-01-01T00:00:00Z")
    content = bytearray(path.read_bytes())
    # the fuzzer's bytes, over the end of the index's SQL: SQLite's message quotes them
    at = content.index(b"ON decisions (recorded_at)") + len(b"ON decisions (re")
    content[at : at + 8] = b"\xbf%\x9b\xf0\xb9lpS"
    path.write_bytes(bytes(content))
    with pytest.raises(LogError) as raised:
        open_log(path, create=False)
    assert "the file is damaged" in raised.value.message
    assert raised.value.hint is not None and "backup" in raised.value.hint
