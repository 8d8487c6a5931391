"""docs/tutorial.md is a transcript: its console blocks, run in order in one empty folder, print
exactly what the page shows, and every file it shows is the file the commands see.

The page's conventions, which this test holds it to:

- A ```console block is a sequence of `$ COMMAND` lines, each followed by what it prints. Only two
  commands appear: `cat FILE` and `policy ...`.
- `$ cat FILE` before the first `$ policy` line of its block is an edit the reader makes: the test
  writes the lines that follow into FILE. After a `$ policy` line in the same block, it shows what
  the commands left in the file (`policy fmt` rewrote it): the test compares.
- `$ policy ...` runs `python -m policylang ...` in the folder with only `NO_COLOR=1` and a plain
  PATH (plus the test session's analysis cache folder). What it prints is what a terminal shows:
  standard output and standard error in the order they were written. Trailing spaces are not
  shown (`diff` prints one on a blank context line), so they are not compared.
- The exit code is 0 unless the command line ends in `  # exit code N` (the shell ignores the
  comment, so the reader can copy the whole line). Any other comment fails the test.
- Three things change on every run and are masked on both sides before comparing: a decision id
  (a UUID, or the 13-character prefix after `--decision`, which the test replaces with the real
  id's), a recording time (a UTC time with a fraction of a second), and the duration `policy
  test` ends with (`in 0.25s`). The page says so where they appear.
- No `policy` command hides in a ```sh block, so nothing on the page escapes this test.

`pytest tests/unit/test_tutorial.py --update-golden` rewrites the page's outputs, files and exit
codes from a real run; review the diff before committing it.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

DOC = ROOT / "docs" / "tutorial.md"
AS_OF = "--as-of 2026-01-31T09:00:00Z"

_BLOCK = re.compile(r"```console\n(.*?)```", re.S)
_EXIT = re.compile(r"^(?P<command>.*?)  # exit code (?P<code>[12])$")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_MASKS = (
    (_UUID, "<decision id>"),
    (re.compile(r"(--decision )\S+"), r"\1<decision id>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"), "<recorded at>"),
    (re.compile(r" in \d+\.\d\ds$", re.M), " in <duration>"),
)


def _masked(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    if "POLICYLANG_CACHE_DIR" in os.environ:  # conftest's per-session folder, not ~/.cache
        env["POLICYLANG_CACHE_DIR"] = os.environ["POLICYLANG_CACHE_DIR"]
    return subprocess.run(
        [sys.executable, "-m", "policylang", *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        timeout=120,
    )


def _lines(text: str) -> list[str]:
    """Printed text as the page shows it: one entry per line, trailing spaces dropped."""
    if not text:
        return []
    return [line.rstrip() for line in text.removesuffix("\n").split("\n")]


class _Transcript:
    """Runs the page's console blocks in order in one folder and rebuilds them from what really
    happened, so that the rebuilt page equals the page exactly when the page is true."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.decision_id: str | None = None
        self.commands: list[list[str]] = []

    def rebuild(self, block: str) -> str:
        steps: list[tuple[str, list[str]]] = []
        for line in block.removesuffix("\n").split("\n"):
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"a console block must start with a `$` line: {block[:80]!r}"
                steps[-1][1].append(line)
        out: list[str] = []
        ran_policy = False
        for command, shown in steps:
            if command.startswith("cat "):
                path = self.folder / command[len("cat ") :]
                if not ran_policy:
                    path.write_text("".join(line + "\n" for line in shown), encoding="utf-8")
                    out += [f"$ {command}", *shown]
                else:
                    out += [f"$ {command}", *_lines(path.read_text(encoding="utf-8"))]
                continue
            out += self._policy(command)
            ran_policy = True
        return "\n".join(out) + "\n"

    def _policy(self, command: str) -> list[str]:
        if match := _EXIT.match(command):
            command = match["command"]  # the real exit code is compared through the rebuilt line
        assert "#" not in command, f"the only comment a command may carry is `  # exit code N`: {command}"
        argv = shlex.split(command)
        assert argv[0] == "policy", f"the page runs only `cat` and `policy`: {command}"
        if "--decision" in argv:
            assert self.decision_id, "`--decision` before any command printed a decision id"
            at = argv.index("--decision") + 1
            argv[at] = self.decision_id[: len(argv[at])]
            command = shlex.join(argv)
        result = _run(argv[1:], self.folder)
        self.commands.append(argv)
        if ids := _UUID.findall(result.stdout):
            self.decision_id = ids[-1]
        assert result.returncode in (0, 1, 2), (command, result.stdout)  # never a crash
        exit_comment = f"  # exit code {result.returncode}" if result.returncode else ""
        return [f"$ {command}{exit_comment}", *_lines(result.stdout)]


def test_the_tutorial_prints_what_it_shows(tmp_path: Path, update_golden: bool) -> None:
    page = DOC.read_text(encoding="utf-8")
    transcript = _Transcript(tmp_path)
    actual = _BLOCK.sub(lambda block: f"```console\n{transcript.rebuild(block.group(1))}```", page)
    if update_golden:
        DOC.write_text(actual, encoding="utf-8")
        return
    if _masked(actual) != _masked(page):
        diff = "".join(
            difflib.unified_diff(
                _masked(page).splitlines(keepends=True),
                _masked(actual).splitlines(keepends=True),
                "docs/tutorial.md",
                "the real output",
            )
        )
        pytest.fail(f"docs/tutorial.md differs from what its commands do (masked values shown as <...>):\n{diff}")

    # The page covers what issue 6 asks of it, and pins the clock wherever time matters.
    ran = [" ".join(argv) for argv in transcript.commands]
    for wanted in (
        "policy check support.policy",
        "policy check --overlaps",
        "policy fmt --diff",
        "--why-not",
        "policy test --coverage",
        "--log decisions.db",
        "policy explain --decision",
    ):
        assert any(wanted in command for command in ran), f"the tutorial no longer runs `{wanted}`"
    for argv in transcript.commands:
        if argv[1] in ("eval", "explain") and "--decision" not in argv:
            assert AS_OF in " ".join(argv), f"`{' '.join(argv)}` depends on the clock; pass {AS_OF}"
    assert "error[conflict]" in page and "FAILED support.test.yaml" in page and "rule coverage: 100%" in page


def test_no_policy_command_escapes_the_transcript() -> None:
    fence: str | None = None  # the info string of the open fence, if any
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
        elif fence is not None and fence != "console":
            assert not re.match(r"(\$ )?policy ", line), f"run it in a ```console block with its output: {line}"
