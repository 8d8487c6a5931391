"""Golden formatter cases: golden/fmt/NAME.policy -> NAME.formatted.policy, plus idempotence and soundness."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_golden

from policylang import format_source, parse

FMT = Path(__file__).parent / "fmt"
CASES = sorted(p for p in FMT.glob("*.policy") if not p.name.endswith(".formatted.policy"))


def formatted_path(case: Path) -> Path:
    return case.with_name(case.name.removesuffix(".policy") + ".formatted.policy")


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_format_matches_golden(case: Path, update_golden: bool) -> None:
    text = case.read_text(encoding="utf-8")
    result = format_source(text, case.name)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.text is not None
    assert_golden(formatted_path(case), result.text, update_golden)


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_formatted_golden_is_a_fixed_point(case: Path) -> None:
    golden = formatted_path(case)
    if not golden.exists():
        pytest.skip("golden file not written yet (run with --update-golden)")
    text = golden.read_text(encoding="utf-8")
    again = format_source(text, golden.name)
    assert again.text == text


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_formatting_keeps_the_tree_and_every_comment(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    result = format_source(text, case.name)
    assert result.text is not None
    before = parse(text, case.name)
    after = parse(result.text, case.name)
    assert after.diagnostics == ()
    assert after.tree == before.tree
    assert sorted(c.text.rstrip() for c in after.tree.comments) == sorted(c.text.rstrip() for c in before.tree.comments)


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_formatted_lines_have_no_trailing_space_or_tabs(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    result = format_source(text, case.name)
    assert result.text is not None
    assert result.text == "" or result.text.endswith("\n")
    assert not result.text.endswith("\n\n")
    for line in result.text.splitlines():
        assert line == line.rstrip()
        assert "\t" not in line


# --- specific layouts that a golden file should not freeze ---------------------------------------


def fmt(text: str) -> str:
    result = format_source(text, "t.policy")
    assert result.text is not None, [d.message for d in result.diagnostics]
    return result.text


def test_formatting_twice_changes_nothing_with_a_comment_after_an_action_comma() -> None:
    once = fmt("if a then b, # after comma\n  c\n")
    assert fmt(once) == once


def test_trailing_comment_on_an_empty_block_stays_on_its_line() -> None:
    text = "input {}  # no inputs yet\n\nif a then b\n"
    assert fmt(text) == text


def test_trailing_comment_on_an_empty_multiline_block_stays_with_it() -> None:
    once = fmt("output {\n}  # none\nif a then b\n")
    assert once.splitlines()[0] == "output {}  # none"
    assert fmt(once) == once


def test_blank_line_between_comments_is_kept() -> None:
    text = "# Nothing here yet.\n\n# Just notes.\n"
    assert fmt(text) == text


def test_double_negation_is_not_printed_as_two_minus_signs() -> None:
    out = fmt("if balance == -(-5) then f\n")
    assert "--" not in out
    assert parse(out, "t.policy").tree == parse("if balance == -(-5) then f", "t.policy").tree


def test_empty_text_formats_to_empty_text() -> None:
    assert fmt("") == ""
    assert fmt("\n\n   \n") == ""


def test_crlf_input_becomes_lf() -> None:
    assert fmt("if a then b\r\nif c then d\r\n") == "if a then b\nif c then d\n"


def test_syntax_error_is_refused_with_diagnostics() -> None:
    result = format_source("if a = b then c\n", "t.policy")
    assert result.text is None
    assert not result.ok
    assert [d.code.value for d in result.diagnostics] == ["syntax-error"]
