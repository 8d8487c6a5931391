"""Findings of the stop-10 reviews of `policy test`, why-not and fact files, each once a crash or a wrong answer."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ENV = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}


def policy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "policylang", *args], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=60
    )
    assert "Traceback" not in result.stdout + result.stderr and "internal-error" not in result.stderr, result.stderr
    return result


def test_an_impossible_date_in_a_yaml_facts_file_is_a_facts_error(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(
        "input { due: date }\noutput { late: bool = false resolve any }\nif due < 2026-01-01 then late\n"
    )
    (tmp_path / "f.yaml").write_text("due: 2026-02-30\n")
    result = policy("eval", "p.policy", "--input", "f.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert 'expected a date, got "2026-02-30"' in result.stderr


def test_why_not_through_now_is_answered_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "c.policy").write_text(
        "input { signed: datetime? }\noutput { late: bool = false resolve any }\n"
        "if signed is present and signed < now - 30d then late\n"
    )
    (tmp_path / "c.test.yaml").write_text(
        "as_of: 2026-03-01T00:00:00Z\ncases:\n  - {name: a, facts: {signed: '2026-02-20T00:00:00Z'}, expect: {late: true}}\n"
    )
    result = policy("test", "c.test.yaml", "--explain", cwd=tmp_path)
    assert result.returncode == 1
    assert "Why not late = true?" in result.stdout and "checked: with signed = " in result.stdout


def test_junit_xml_stays_well_formed_with_control_characters(tmp_path: Path) -> None:
    (tmp_path / "c.policy").write_text("input { a: bool }\noutput { fee: int = 0 }\nif a then fee = 5\n")
    (tmp_path / "c.test.yaml").write_text('cases:\n  - {name: "a\\x01b", facts: {a: false}, expect: {fee: 5}}\n')
    result = policy("test", "c.test.yaml", "--junit-xml", "j.xml", cwd=tmp_path)
    assert result.returncode == 1
    root = ET.parse(tmp_path / "j.xml").getroot()  # raises on XML that CI would reject
    (case,) = root.iter("testcase")
    assert case.get("name") == "a\\x01b"


def test_fail_under_nan_is_refused(tmp_path: Path) -> None:
    result = policy("test", str(tmp_path), "--fail-under", "nan", cwd=tmp_path)
    assert result.returncode == 2 and "nan is not a percentage" in result.stderr


def test_fact_errors_show_values_as_the_language_writes_them(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text("input { n: int }\noutput { o: bool = false resolve any }\nif n > 3 then o\n")
    for given, shown in (("10000.5", "got 10000.5"), ("2026-01-01", "got 2026-01-01")):
        (tmp_path / "f.yaml").write_text(f"n: {given}\n")
        result = policy("eval", "p.policy", "--input", "f.yaml", cwd=tmp_path)
        assert result.returncode == 2
        assert f"fact `n`: expected a whole number, {shown}\n" in result.stderr, result.stderr


def test_a_division_by_zero_is_an_evaluation_error_in_eval_and_in_policy_test(tmp_path: Path) -> None:
    (tmp_path / "d.policy").write_text(
        "input { visits: int }\noutput { f: bool = false resolve any }\nif 100 / visits > 5 then f\n"
    )
    result = policy("eval", "d.policy", "--set", "visits=0", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr == "error[evaluation-error]: division by zero (100 / 0)\n"
    (tmp_path / "d.test.yaml").write_text("cases:\n  - {name: zero, facts: {visits: 0}, expect: {f: false}}\n")
    result = policy("test", "d.test.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "error[evaluation-error]: the decision failed: division by zero" in result.stdout
