"""Bad input found by the adversarial review of stop 7: each once gave a wrong decision or a traceback."""

from __future__ import annotations

import decimal
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT

import policylang

SUPPORT = ROOT / "examples" / "support" / "support.policy"


def policy(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "policylang", *args], input=stdin, capture_output=True, text=True, cwd=cwd,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr and "internal-error" not in result.stderr, result.stderr
    return result


def test_json_numbers_are_read_exactly_not_through_binary_floats(tmp_path: Path) -> None:
    facts = tmp_path / "p.json"
    facts.write_text('{"tier": "premium", "tenure": "1y", "monthly_spend": 9999.99999999999999}')
    decision = json.loads(policy("eval", str(SUPPORT), "-i", str(facts), "--format", "json").stdout)
    assert decision["outputs"]["queue"] == "general"  # 9999.99999999999999 < 10_000, however close


def test_yaml_reads_like_yaml_1_2_no_octal_no_sexagesimal_no_yes_no(tmp_path: Path) -> None:
    facts = tmp_path / "o.yaml"
    facts.write_text("tier: premium\ntenure: 3y\nmonthly_spend: 012000\n")
    decision = json.loads(policy("eval", str(SUPPORT), "-i", str(facts), "--format", "json").stdout)
    assert decision["outputs"]["queue"] == "key_accounts"  # twelve thousand, not octal 5120
    enum_policy = tmp_path / "yn.policy"
    enum_policy.write_text(
        "input { answer: enum(yes, no) }\noutput { said_no: bool = false resolve any }\nif answer == no then said_no\n"
    )
    said = json.loads(policy("eval", str(enum_policy), "--set", "answer=no", "--format", "json").stdout)
    assert said["outputs"]["said_no"] is True


def test_numbers_in_json_output_are_exact(tmp_path: Path) -> None:
    path = tmp_path / "out.policy"
    path.write_text("input { a: number }\noutput { total: number  price: number  half: number }\n"
                    "if a > 0 then total = a * 3, price = a, half = 0.5\n")  # fmt: skip
    outputs = json.loads(policy("eval", str(path), "--set", "a=3002399751580331", "--format", "json").stdout)["outputs"]
    assert outputs["total"] == "9007199254740993"  # past 2**53: exact text, not a rounded float
    assert outputs["half"] == 0.5  # exactly representable: a JSON number
    outputs = json.loads(policy("eval", str(path), "--set", "a=123456789.123456789", "--format", "json").stdout)[
        "outputs"
    ]
    assert outputs["price"] == "123456789.123456789"


def test_arithmetic_does_not_depend_on_the_callers_decimal_context() -> None:
    compiled = policylang.compile(
        "input { a: number  b: number }\noutput { bigger: bool = false resolve any }\nlet s = a + b\nif s > a then bigger\n",
        filename="prec.policy",
    )
    assert compiled.decide({"a": "10000000000000000000000000000", "b": "0.01"})["bigger"] is True
    with decimal.localcontext(decimal.Context(prec=3)):
        assert compiled.decide({"a": "1000", "b": "1"})["bigger"] is True


@pytest.mark.parametrize("value", [float("inf"), Decimal("sNaN"), Decimal("Infinity"), "1" * 5000])
def test_impossible_whole_numbers_are_fact_errors(value: object) -> None:
    compiled = policylang.compile("input { n: int }\nif n > 1 then big\n", filename="n.policy")
    with pytest.raises(policylang.FactsError) as info:
        compiled.decide({"n": value})
    assert info.value.problems[0].fact == "n"


def test_overflow_in_arithmetic_is_an_evaluation_error() -> None:
    # Facts stay within 1e100, but squaring seven times leaves any finite range: an EvaluationError.
    lets = "let s0 = m\n" + "".join(f"let s{i} = s{i - 1} * s{i - 1}\n" for i in range(1, 8))
    compiled = policylang.compile("input { m: number }\n" + lets + "if s7 > 1 then big\n", filename="o.policy")
    with pytest.raises(policylang.FactsError):
        compiled.decide({"m": "1e999999999"})  # rejected on the way in
    with pytest.raises(policylang.EvaluationError):
        compiled.decide({"m": "1e90"})
    assert compiled.decide({"m": "1.0001"})["big"] is True


def test_bad_as_of_is_a_usage_error_not_a_bug() -> None:
    result = policy("eval", str(SUPPORT), "--set", "tier=basic", "--set", "tenure=1y", "--set", "monthly_spend=1",
                    "--as-of", "garbage")  # fmt: skip
    assert result.returncode == 2 and "`as_of`: expected a date and time" in result.stderr
    with pytest.raises(policylang.FactsError):
        policylang.load(SUPPORT).decide(
            {"tier": "basic", "tenure": "1y", "monthly_spend": 1}, as_of="2026-01-01T00:00:00"
        )


def test_long_three_valued_chains_compile() -> None:
    text = "if " + " and ".join(f"a{i}" for i in range(400)) + " then x\n"  # schema-less: every fact optional
    compiled = policylang.compile(text, filename="w.policy")
    facts = {f"a{i}": True for i in range(400)}
    assert compiled.decide(facts)["x"] is True
    facts["a399"] = False
    assert "x" not in compiled.decide(facts).outputs


def test_symlink_loops_and_nul_bytes_are_io_or_import_errors(tmp_path: Path) -> None:
    os.symlink(tmp_path / "loop1.policy", tmp_path / "loop2.policy")
    os.symlink(tmp_path / "loop2.policy", tmp_path / "loop1.policy")
    (tmp_path / "li.policy").write_text('import "loop1.policy"\nif a then x\n')
    report = policylang.check_file(tmp_path / "li.policy")
    assert [d.code for d in report.diagnostics] == [policylang.Code.IMPORT_ERROR]
    assert policylang.check_file("a\0b.policy").diagnostics[0].code is policylang.Code.IO_ERROR
    assert policylang.check_file("").diagnostics[0].code is policylang.Code.IO_ERROR


def test_json_lines_end_only_at_newlines(tmp_path: Path) -> None:
    lines = tmp_path / "u.jsonl"
    record = {"tier": "premium", "tenure": "3y", "monthly_spend": 1, "region": "a\u2028b"}
    lines.write_text(
        "\ufeff" + json.dumps(record, ensure_ascii=False) + "\n" + json.dumps(record, ensure_ascii=False) + "\n"
    )
    result = policy("eval", str(SUPPORT), "-i", str(lines), "--format", "json")
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1, 2]
    assert all("outputs" in json.loads(line) for line in result.stdout.splitlines())


def test_fmt_writes_through_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "target.policy"
    target.write_text("if   a then x\n")
    os.symlink(target, tmp_path / "link.policy")
    policy("fmt", str(tmp_path / "link.policy"))
    assert (tmp_path / "link.policy").is_symlink()
    assert target.read_text() == "if a then x\n"


def test_a_lone_carriage_return_ends_a_line_so_comments_swallow_nothing() -> None:
    compiled = policylang.compile("if a then x # c\rif b then y\n", filename="cr.policy")
    assert [(rule.id, rule.span.line) for rule in compiled.checked.rules] == [("cr#1", 1), ("cr#2", 2)]
    assert compiled.decide({"a": False, "b": True})["y"] is True


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dup.json", '{"tier": "premium", "tenure": "3y", "monthly_spend": 500, "tier": "basic"}'),
        ("dup.yaml", "tier: premium\ntenure: 3y\ntier: basic\nmonthly_spend: 1\n"),
    ],
)
def test_a_fact_given_twice_is_an_error_not_last_one_wins(tmp_path: Path, name: str, text: str) -> None:
    facts = tmp_path / name
    facts.write_text(text)
    result = policy("eval", str(SUPPORT), "-i", str(facts))
    assert result.returncode == 2
    assert "the fact `tier` is given twice" in result.stderr


def test_between_evaluates_all_three_operands_like_every_other_operator() -> None:
    # Python's chained `low <= value <= high` stops at the first false part; the language evaluates
    # every operand (docs/evaluation.md), so the division by zero in `high` is an error.
    compiled = policylang.compile(
        "input { a: int = 0 }\noutput { o: bool = false resolve any }\nif 0.5 between 19.99 and (1 / a) then o\n",
        filename="b.policy",
    )
    with pytest.raises(policylang.EvaluationError):
        compiled.decide({})
    assert compiled.decide({"a": 1}).outputs == {"o": False}
