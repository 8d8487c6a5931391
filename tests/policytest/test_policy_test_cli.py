"""`policy test` end to end, in a subprocess: what it prints (golden files), its exit codes,
coverage and --fail-under, JUnit XML read back, and malformed test files shown like a compiler."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import ROOT, assert_golden
from policytest_helpers import FAILING, PASSING, SHIPPING, policy_test, steady, write

GOLDEN = Path(__file__).parent / "golden"


def _shipping(tmp_path: Path) -> Path:
    return write(tmp_path, {"shipping.policy": SHIPPING, "shipping.test.yaml": PASSING, "failing.test.yaml": FAILING})


def test_a_passing_suite_prints_dots_and_exits_0(tmp_path: Path, update_golden: bool) -> None:
    result = policy_test("shipping.test.yaml", cwd=_shipping(tmp_path))
    assert result.returncode == 0, result.stdout
    assert_golden(GOLDEN / "passing.txt", steady(result.stdout), update_golden)


def test_a_failing_suite_shows_each_difference_and_exits_1(tmp_path: Path, update_golden: bool) -> None:
    result = policy_test("failing.test.yaml", cwd=_shipping(tmp_path))
    assert result.returncode == 1, result.stdout
    assert result.stdout.splitlines()[0] == "failing.test.yaml .FFFFE"
    assert "  fee: expected 5, got 0 (set by gold_free)" in result.stdout
    assert result.stdout.rstrip().endswith("1 passed, 4 failed, 1 error in " + result.stdout.rstrip()[-5:])
    assert_golden(GOLDEN / "failing.txt", steady(result.stdout), update_golden)


def test_explain_adds_why_the_output_differs_and_what_would_give_the_expected_value(tmp_path: Path) -> None:
    result = policy_test("failing.test.yaml", "--explain", cwd=_shipping(tmp_path))
    assert result.returncode == 1
    failure = result.stdout.split("FAILED failing.test.yaml:7:")[1].split("FAILED")[0]
    assert "explanation (as `policy explain` gives it):" in failure
    assert "    fee = 0   set by gold_free" in failure
    assert "Why not fee = 5?" in failure
    assert "speed = " not in failure  # only the outputs that differ are explained


def test_coverage_names_the_unmatched_and_the_overridden_rules(tmp_path: Path, update_golden: bool) -> None:
    result = policy_test("shipping.test.yaml", "--coverage", cwd=_shipping(tmp_path))
    assert result.returncode == 0
    table = result.stdout.split("rule coverage:")[1]
    assert "  shipping.policy      4        3        2       75%" in table
    assert "never matched:\n  shipping.policy:29  abroad\n" in table
    assert "  shipping.policy:21  heavy\n" in table.split("matched but never decided")[1]
    assert_golden(GOLDEN / "coverage.txt", steady(result.stdout), update_golden)


def test_fail_under_compares_the_total_coverage(tmp_path: Path) -> None:
    folder = _shipping(tmp_path)
    below = policy_test("shipping.test.yaml", "--fail-under", "75.1", cwd=folder)
    assert below.returncode == 1
    assert "rule coverage 75% is below --fail-under 75.1%" in below.stdout
    assert "3 passed" in below.stdout  # every case passed: the coverage alone fails the run
    enough = policy_test("shipping.test.yaml", "--fail-under", "75", cwd=folder)
    assert enough.returncode == 0, enough.stdout
    assert "rule coverage: 75% of 4 rules" in enough.stdout  # --fail-under shows the table


def test_malformed_test_files_are_positioned_diagnostics_and_exit_2(tmp_path: Path, update_golden: bool) -> None:
    write(
        tmp_path,
        {
            "shipping.policy": SHIPPING,
            "bad/shipping.policy": SHIPPING,
            "bad/yaml.test.yaml": "policy: shipping.policy\ncases:\n  - name: x\n    facts: {tier: gold\n    expect: {fee: 0}\n",
            "bad/names.test.yaml": (
                "policy: shipping.policy\ncases:\n  - name: typo\n    facts: {tier: gold, weight: 1}\n"
                "    expect: {fe: 0, fee: cheap}\n    fired: [gold_fre]\n"
                "  - name: typo\n    facts: {}\n    expected: {fee: 0}\n"
            ),
            "bad/empty.test.yaml": "",
            "bad/gone.test.yaml": "cases:\n  - name: x\n    facts: {}\n    expect: {fee: 0}\n",
        },
    )
    (tmp_path / "bad" / "binary.test.yaml").write_bytes(b"cases:\n  - name: \xff\n")
    result = policy_test("bad", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stdout.count("not run: the test file has problems") == 5
    assert "bad/names.test.yaml:5:14: error[unknown-name]: `fe` is not an output" in result.stdout
    assert_golden(GOLDEN / "malformed.txt", steady(result.stdout), update_golden)


def test_paths_that_name_nothing_to_test_exit_2(tmp_path: Path) -> None:
    folder = _shipping(tmp_path)
    (folder / "lonely.policy").write_text("if tier == gold then free\n", encoding="utf-8")
    (folder / "empty").mkdir()
    result = policy_test("lonely.policy", "missing.test.yaml", "empty", "shipping.policy", cwd=folder)
    assert result.returncode == 2
    assert "error[io-error]: `lonely.policy` has no test file: `lonely.test.yaml` does not exist" in result.stdout
    assert "error[io-error]: cannot read `missing.test.yaml`: no such file or folder" in result.stdout
    assert "error[io-error]: no test files (`*.test.yaml`) in `empty`" in result.stdout
    assert result.stdout.startswith("shipping.test.yaml ...")  # a policy stands for its test file, which still ran


def test_junit_xml_has_a_suite_per_file_and_a_case_per_case(tmp_path: Path) -> None:
    folder = _shipping(tmp_path)
    write(folder, {"broken.test.yaml": "policy: shipping.policy\ncases: {}\n"})
    unwritable = policy_test(".", "--junit-xml", "out/report.xml", cwd=folder)
    assert unwritable.returncode == 2
    assert "error[io-error]: cannot write `out/report.xml`: No such file or directory" in unwritable.stderr
    (folder / "out").mkdir()
    result = policy_test(".", "--junit-xml", "out/report.xml", cwd=folder)
    assert result.returncode == 2  # the broken test file
    root = ET.parse(folder / "out" / "report.xml").getroot()
    assert root.tag == "testsuites"
    # 3 + 6 cases, and the broken test file as one case with an error
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("10", "4", "2")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert list(suites) == ["broken.test.yaml", "failing.test.yaml", "shipping.test.yaml"]
    failing = suites["failing.test.yaml"]
    assert (failing.get("tests"), failing.get("failures"), failing.get("errors")) == ("6", "4", "1")
    cases = {case.get("name"): case for case in failing.iter("testcase")}
    assert {case.get("classname") for case in cases.values()} == {"shipping"}
    wrong = cases["a wrong fee and extras"]
    assert (wrong.get("file"), wrong.get("line")) == ("failing.test.yaml", "7")
    failure = wrong.find("failure")
    assert failure is not None and failure.get("message") == "fee: expected 5, got 0 (set by gold_free)"
    assert failure.text == (
        "fee: expected 5, got 0 (set by gold_free)\n"
        "extras: expected {insurance, tracking}, got {tracking} (set by gold_free)\n"
    )
    error = cases["a fact of the wrong type"].find("error")
    assert error is not None and error.get("type") == "facts-error"
    assert "failing.test.yaml:27:34: error[facts-error]" in (error.text or "")
    assert cases["basic parcels pay the standard fee"].find("failure") is None
    [bad] = suites["broken.test.yaml"].iter("testcase")
    assert bad.get("name") == "(test file)" and bad.find("error") is not None
    assert all(float(case.get("time", "x")) >= 0 for case in root.iter("testcase"))


def test_json_format_has_every_case_and_the_coverage(tmp_path: Path) -> None:
    result = policy_test("shipping.test.yaml", "failing.test.yaml", "--format", "json", cwd=_shipping(tmp_path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["summary"] | {"duration": 0} == {
        "passed": 4,
        "failed": 4,
        "errors": 1,
        "bad_files": 0,
        "duration": 0,
        "exit_code": 1,
    }
    statuses = [case["status"] for file in report["files"] for case in file["cases"]]
    assert statuses == ["passed"] * 3 + ["passed", "failed", "failed", "failed", "failed", "error"]
    wrong = report["files"][1]["cases"][2]
    assert wrong["mismatches"][0]["text"].startswith("fired: expected [heavy, express_delivery]")
    assert report["coverage"]["rules"] == 4 and report["coverage"]["matched"] == 3


def test_the_repository_suites_pass_with_every_rule_covered() -> None:
    result = policy_test("stdlib_policies", "examples", "--fail-under", "100", cwd=ROOT)
    assert result.returncode == 0, result.stdout
    assert re.search(r"^  examples/support/support\.policy +3 +3 +3 +100%$", result.stdout, re.M), result.stdout
    assert re.search(r"^  total +\d+ +\d+ +\d+ +100%$", result.stdout, re.M), result.stdout
    assert "failed" not in result.stdout and "error" not in result.stdout
