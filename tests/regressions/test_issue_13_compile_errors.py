"""Issue 13, item 6: a compile error is no longer reported as `syntax-error`.

Until issue 12 a policy that checked but could not be compiled (a CompileError: generated code
nested too deeply for Python) raised a PolicyError holding a `syntax-error` with no place. Since
then the nesting limits make every policy the checker passes compile, and a failure while
compiling anyway is a bug: `internal-error` ("compiling failed"), or `limit-exceeded` when the
memory ran out. These tests pin that down at each door: the API, the PolicyError's own `code`
(new with PolicylangError), `policy check` and `policy eval`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import policylang
from policylang import Code, PolicyError, PolicylangError
from policylang.api import check_source, with_analysis
from policylang.cli import main

POLICY = "input { n: number }\nif n > 1 then x\n"


def _invoke(args: list[str]) -> tuple[int, str]:
    """`policy ARGS` in this process, so that the compiler broken below is the one it runs: the
    exit code and what it printed (standard output, then standard error)."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode() + err.getvalue().decode()


@pytest.fixture
def broken_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code generator's output refused by Python, as deep nesting once made it."""

    def refuse(policy: Any) -> Any:
        raise SyntaxError("too many statically nested blocks")

    monkeypatch.setattr("policylang.engine.evaluator.compile_policy", refuse)


@pytest.mark.usefixtures("broken_compiler")
def test_a_compile_failure_is_an_internal_error_never_a_syntax_error(tmp_path: Path) -> None:
    with pytest.raises(PolicylangError) as raised:
        policylang.compile(POLICY, "c.policy")
    error = raised.value
    assert isinstance(error, PolicyError)
    assert error.code is Code.INTERNAL_ERROR
    assert [d.code for d in error.diagnostics if d.is_error] == [Code.INTERNAL_ERROR]
    assert "compiling failed" in error.diagnostics[-1].message

    report = with_analysis(check_source(POLICY, "c.policy"))
    assert [d.code for d in report.diagnostics] == [Code.INTERNAL_ERROR]

    path = tmp_path / "c.policy"
    path.write_text(POLICY)
    with pytest.raises(PolicyError) as loaded:
        policylang.load(path)
    assert loaded.value.code is Code.INTERNAL_ERROR

    checked, printed = _invoke(["check", str(path)])
    assert checked == 1 and "error[internal-error]: compiling failed" in printed and "syntax-error" not in printed
    evaluated, printed = _invoke(["eval", str(path), "--set", "n=2"])
    assert evaluated == 1 and "error[internal-error]" in printed and "syntax-error" not in printed


def test_running_out_of_memory_while_compiling_is_limit_exceeded(monkeypatch: pytest.MonkeyPatch) -> None:
    def out_of_memory(policy: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr("policylang.engine.evaluator.compile_policy", out_of_memory)
    with pytest.raises(PolicyError) as raised:
        policylang.compile(POLICY, "c.policy")
    assert raised.value.code is Code.LIMIT_EXCEEDED


def test_a_real_syntax_error_keeps_its_code() -> None:
    with pytest.raises(PolicyError) as raised:
        policylang.compile("if n > then x\n", "c.policy")
    assert raised.value.code is Code.SYNTAX_ERROR
