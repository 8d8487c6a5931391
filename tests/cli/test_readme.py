"""The README's commands work as written and print what the README shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _run_policy(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `policy ARGS` (or `.venv/bin/policy ARGS`) with this interpreter's policylang."""
    assert argv[0].endswith("policy"), argv
    return subprocess.run(
        [sys.executable, "-m", "policylang", *argv[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_main_job_command_runs_every_policy_step() -> None:
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", README, re.S)
    assert block, "the README lost its two commands"
    commands = [line for line in block.group(1).splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    main_job, tests = commands
    assert tests.endswith("python -m pytest") and "'.[test]'" in tests
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith(tests), ".ci/run must run the README's test command"
    steps = [shlex.split(step) for step in main_job.split("&&")]
    policy_steps = [step for step in steps if step[0].endswith("/policy")]
    assert len(policy_steps) == 2
    for step in policy_steps:
        result = _run_policy(step, ROOT)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
    explained = _run_policy(policy_steps[1], ROOT).stdout
    assert "fraud_check = manual_review   set by risky_requests (priority: the highest priority wins)" in explained
    assert "Why not fraud_check = standard?" in explained
    assert "`tenure < 90d`: is `42d`, needs to be at least `90d` so that `risky_requests` no longer" in explained


def test_text_excerpts_are_lines_of_the_real_output_in_order() -> None:
    """A ```text block that starts with `$ policy ...` shows an excerpt: every line but `...`
    appears in the command's real output, in that order."""
    blocks = [b for b in re.findall(r"```text\n(.*?)```", README, re.S) if b.startswith("$ policy ")]
    assert blocks, "the README lost its explain excerpt"
    for block in blocks:
        command, *shown = block.rstrip("\n").splitlines()
        result = _run_policy(shlex.split(command[2:]), ROOT)
        assert result.returncode == 0, result.stderr
        actual = result.stdout.splitlines()
        position = 0
        for line in shown:
            if line == "...":
                continue
            assert line in actual[position:], (line, result.stdout)
            position = actual.index(line, position) + 1


def test_console_examples_print_what_the_readme_shows(tmp_path: Path) -> None:
    blocks = re.findall(r"```console\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        files: dict[str, str] = {}
        commands: list[tuple[list[str], list[str]]] = []
        current: list[str] | None = None
        for line in block.splitlines():
            if line.startswith("$ cat "):
                current = []
                files[line[len("$ cat ") :]] = ""  # filled from the lines that follow
                commands.append((["cat", line[len("$ cat ") :]], current))
            elif line.startswith("$ "):
                current = []
                commands.append((shlex.split(line[2:]), current))
            elif current is not None:
                current.append(line)
        for argv, shown in commands:
            if argv[0] == "cat":
                (tmp_path / argv[1]).write_text("\n".join(shown) + "\n", encoding="utf-8")
                continue
            cwd = tmp_path if all((tmp_path / a).exists() for a in argv[1:] if a.endswith(".policy")) else ROOT
            result = _run_policy(argv, cwd)
            assert result.stdout.rstrip("\n").splitlines() == shown, (argv, result.stdout, result.stderr)
