"""docs/testing.md shows real behaviour: its test files run as it says, its console output is what
`policy test` prints, and its excerpts are lines of the real output (or of this folder's golden
files, which other tests compare with the real output)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import ROOT
from policytest_helpers import SHIPPING, policy_test, steady, write

from policylang.policy_tests import run_tests

DOC = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
GOLDEN = Path(__file__).parent / "golden"
SUPPORT = ROOT / "examples" / "support"


def _blocks(tag: str) -> list[str]:
    return re.findall(rf"```{tag}\n(.*?)```", DOC, re.S)


def _in_order(shown: list[str], actual: list[str]) -> None:
    """Every shown line but `...` is a line of `actual`, in the same order."""
    position = 0
    for line in shown:
        if line.strip() == "...":
            continue
        assert line in actual[position:], (line, actual)
        position = actual.index(line, position) + 1


def _support_copy(folder: Path, extra_case: str = "") -> Path:
    target = folder / "examples" / "support"
    target.mkdir(parents=True)
    for name in ("support.policy", "fraud.policy"):
        shutil.copy(SUPPORT / name, target / name)
    text = (SUPPORT / "support.test.yaml").read_text(encoding="utf-8")
    (target / "support.test.yaml").write_text(text + ("\n" + extra_case if extra_case else ""), encoding="utf-8")
    return folder


def test_the_format_example_is_part_of_the_real_suite_and_passes(tmp_path: Path) -> None:
    example = _blocks("yaml")[0]
    real = (SUPPORT / "support.test.yaml").read_text(encoding="utf-8")
    for case in example.split("\n\n"):
        assert case.strip().removeprefix("cases:\n").strip() in real, case
    path = write(tmp_path, {"x.test.yaml": f"policy: {SUPPORT / 'support.policy'}\n{example}"}) / "x.test.yaml"
    report = run_tests([path])
    assert report.ok and report.passed == 4


def test_the_merge_key_example_runs_on_the_shipping_policy(tmp_path: Path) -> None:
    fragment = next(block for block in _blocks("yaml") if "<<: *gold" in block)
    write(tmp_path, {"shipping.policy": SHIPPING, "shipping.test.yaml": "cases:\n" + fragment})
    report = run_tests([tmp_path])
    assert report.ok and report.passed == 2


def test_the_failing_case_prints_what_the_docs_show(tmp_path: Path) -> None:
    fragment = next(block for block in _blocks("yaml") if "eighteen months" in block)
    [console] = [block for block in _blocks("console") if block.startswith("$ policy test examples/support\n")]
    command, *shown = console.rstrip("\n").split("\n")
    folder = _support_copy(tmp_path, fragment)
    result = policy_test(*command.split()[3:], cwd=folder)
    assert result.returncode == 1
    assert steady(result.stdout).rstrip("\n").split("\n") == steady("\n".join(shown)).split("\n")
    explained = policy_test(*command.split()[3:], "--explain", cwd=folder).stdout.splitlines()
    [excerpt] = [block for block in _blocks("text") if block.startswith("  explanation (as")]
    _in_order(excerpt.rstrip("\n").split("\n"), explained)


def test_the_excerpts_are_lines_of_the_golden_outputs() -> None:
    failing = (GOLDEN / "failing.txt").read_text(encoding="utf-8").splitlines()
    malformed = (GOLDEN / "malformed.txt").read_text(encoding="utf-8").splitlines()
    coverage = (GOLDEN / "coverage.txt").read_text(encoding="utf-8")
    texts = _blocks("text")
    [error] = [block for block in texts if block.startswith("ERROR failing.test.yaml")]
    _in_order(error.rstrip("\n").split("\n"), failing)
    [problems] = [block for block in texts if block.startswith("PROBLEMS bad/names.test.yaml")]
    _in_order(problems.rstrip("\n").split("\n"), malformed)
    [table] = [block for block in texts if block.startswith("$ policy test shipping.test.yaml --coverage")]
    assert table.split("\n", 1)[1] == coverage
    [junit] = _blocks("xml")
    assert 'name="a wrong fee and extras" file="failing.test.yaml" line="7"' in junit
