"""Issue 12 (hardening), the formatter, rule ids, imports, hidden text and the CLI's pipes: M8, L5, L6, L8."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PIPE_BUFFER = 1 << 16
"""Linux's default pipe capacity: a command writing more than this to a reader that has gone must
meet a broken pipe, so each case below first checks that its output is larger."""


_REASON = "a reason long enough that a few hundred rules fill a pipe " * 5


def _big_policy(rules: int) -> str:
    lines = ["policy big", "input {", *(f"    f{i}: int" for i in range(rules)), "}", "output { o: int resolve max }"]
    lines += [f'if f{i} > 1 and f{i} < 0 then o = {i} because "{_REASON}"' for i in range(rules)]
    return "\n".join(lines) + "\n"


def _policy(*args: str, cwd: Path, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `policy ARGS` to the end: exit code, standard output, standard error."""
    done = subprocess.run(
        [sys.executable, "-m", "policylang", *args], cwd=cwd, input=stdin, capture_output=True, text=True
    )
    return done.returncode, done.stdout, done.stderr


def _policy_read_one_line(*args: str, cwd: Path, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `policy ARGS | head -1`: read one line, close the pipe, and wait. Exit code, line, stderr."""
    stdin_file = cwd / "stdin.txt"
    stdin_file.write_text(stdin or "", encoding="utf-8")
    stderr_file = cwd / "stderr.txt"
    with stdin_file.open("rb") as given, stderr_file.open("wb") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "policylang", *args], cwd=cwd, stdin=given, stdout=subprocess.PIPE, stderr=errors
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        proc.stdout.close()
        code = proc.wait(timeout=120)
    return code, line, stderr_file.read_text(encoding="utf-8")


# --- L8: a reader that stops early ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["check", "big.policy"], None),
        (["check", "--strict", "big.policy"], None),
        (["check", "--format", "json", "big.policy"], None),
        (["graph", "--format", "json", "big.policy"], None),
        (["fmt", "-"], "big"),
        (["eval", "small.policy", "--jsonl", "-i", "-", "--as-of", "2026-01-01T00:00:00Z"], "facts"),
    ],
    ids=["check", "check-strict", "check-json", "graph", "fmt-stdin", "eval-jsonl"],
)
def test_issue_12_l8_a_closed_pipe_keeps_the_commands_exit_code(
    tmp_path: Path, args: list[str], stdin: str | None
) -> None:
    policy = _big_policy(400)
    (tmp_path / "big.policy").write_text(policy, encoding="utf-8")
    (tmp_path / "small.policy").write_text(
        "policy small\ninput { a: int }\noutput { o: int = 0 }\nif a > 1 then o = a\n", encoding="utf-8"
    )
    facts = "\n".join(json.dumps({"a": i}) for i in range(20_000)) + "\n"
    given = {"big": policy, "facts": facts, None: None}[stdin]
    full_code, full_out, _ = _policy(*args, cwd=tmp_path, stdin=given)
    assert len(full_out.encode()) > 2 * PIPE_BUFFER, "the output must overflow the pipe for the test to mean anything"
    code, line, errors = _policy_read_one_line(*args, cwd=tmp_path, stdin=given)
    assert line == full_out.splitlines(keepends=True)[0]
    assert code == full_code
    assert "BrokenPipeError" not in errors and "Exception ignored" not in errors
    if "--strict" in args:
        assert code == 1  # warnings under --strict: the early reader does not turn a failure into a pass
