"""A policy `load` warns about (its conflicts could not be ruled out) gets a diagnostic line from the
CLI, not Python's `file:line: Warning` report; and with Python warnings made errors
(PYTHONWARNINGS=error) the command refuses it with that diagnostic and exit 1, not an internal error.
Found by the review of issue 13 (`policy graph`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

UNDECIDED = """\
input { response_time: number }
output {
    value: number
    level: enum(low, high)
}
rule copy: if response_time > 0 then value = response_time
rule slow: if value > 200 then level = high
rule fast_enough: if response_time < 0 then level = low
"""


def policy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m policylang ARGS` in a new process, with its own analysis cache."""
    return subprocess.run(
        [sys.executable, "-m", "policylang", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


WARNING = "warning[analysis-incomplete]: undecided: the analysis could not rule out conflicts on `level`"


def test_the_warning_is_a_diagnostic_line(tmp_path: Path) -> None:
    file = tmp_path / "undecided.policy"
    file.write_text(UNDECIDED)
    run = policy("graph", str(file), env={"POLICYLANG_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith(WARNING), run.stderr
    assert "AnalysisIncompleteWarning" not in run.stderr and ".py:" not in run.stderr


def test_warnings_as_errors_refuse_the_policy_with_its_code(tmp_path: Path) -> None:
    file = tmp_path / "undecided.policy"
    file.write_text(UNDECIDED)
    run = policy("graph", str(file), env={"PYTHONWARNINGS": "error", "POLICYLANG_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith("error[analysis-incomplete]: undecided: the analysis could not rule out"), run.stderr
    assert "internal-error" not in run.stderr and run.stdout == ""
