"""The `policy` command end to end: exit codes, text and JSON output, `fmt` in place, stdin, usage errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from policylang import CheckReport, Code, Severity, __version__
from policylang.cli import main
from policylang.cli.check import _exit_code
from policylang.core.diagnostics import warning

SUPPORT = ROOT / "examples" / "support" / "support.policy"
STDLIB = ROOT / "stdlib_policies"
ANSI = re.compile(r"\x1b\[")

CLEAN = "input { tier: enum(basic, premium) }\nif tier == premium then fast\n"
BROKEN = "input { x: int }\nif x > 2y then y\n"
UNFORMATTED = "if  a   then b\n"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def no_traceback(run: Run) -> Run:
    assert "Traceback" not in run.output
    return run


def policy(*args: str, stdin: bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """The real thing: a new Python process running `python -m policylang ARGS`."""
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "policylang", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=60,
    )
    return no_traceback(
        Run(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
    )


def invoke(args: Sequence[str], stdin: str | bytes | None = None) -> Run:
    """In process, through `policylang.cli.main` (the console script's entry), with click's test streams."""
    runner = CliRunner()
    with runner.isolation(input=stdin) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return no_traceback(Run(code, stdout, stderr))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "clean.policy").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "broken.policy").write_text(BROKEN, encoding="utf-8")
    return tmp_path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Display names are relative to the working directory; keep it fixed and away from the checkout.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield


# --- policy check: exit codes -------------------------------------------------------------------


def test_check_clean_example_and_stdlib_exit_0_in_a_new_process() -> None:
    run = policy("check", "examples/support/support.policy", "stdlib_policies", cwd=ROOT)
    count = 1 + len(list(STDLIB.rglob("*.policy")))
    assert run.code == 0
    # The one finding is true: the design sketch's `account_manager` has no default and no rule sets it.
    assert "warning[coverage-gap]: output `account_manager` has no default and no rule sets it" in run.stdout
    assert run.stdout.strip().endswith(f"checked {count} files: 1 warning")
    assert run.stderr == ""
    names_only = policy("check", "--no-analysis", "examples/support/support.policy", "stdlib_policies", cwd=ROOT)
    assert names_only.stdout.strip() == f"checked {count} files: no problems found"


def test_check_stdlib_folder_exits_0() -> None:
    run = invoke(["check", str(STDLIB)])
    assert run.code == 0
    count = len(list(STDLIB.rglob("*.policy")))
    word = "file" if count == 1 else "files"
    assert run.stdout.strip().endswith(f"checked {count} {word}: no problems found")


def test_check_errors_exit_1_with_a_compiler_style_message(folder: Path) -> None:
    run = invoke(["check", "broken.policy"])
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert lines[0] == "broken.policy:2:8: error[type-mismatch]: cannot compare `x` (int) with `2y` (duration)"
    assert lines[1:4] == ["  |", "2 | if x > 2y then y", "  |        ^^ a duration, not an int"]
    assert lines[-1] == "checked 1 file: 1 error"


def test_check_errors_exit_1_in_a_new_process_without_colour(folder: Path) -> None:
    # Captured output is not a terminal, so there is no colour even without NO_COLOR.
    run = policy("check", str(folder / "broken.policy"))
    assert run.code == 1
    assert "error[type-mismatch]" in run.stdout
    assert run.stdout.rstrip().endswith("checked 1 file: 1 error")
    assert not ANSI.search(run.output)


def test_check_syntax_error_exits_1(tmp_path: Path) -> None:
    (tmp_path / "syntax.policy").write_text("if a = b then c\n", encoding="utf-8")
    run = invoke(["check", "syntax.policy"])
    assert run.code == 1
    assert "syntax.policy:1:6: error[syntax-error]: `=` sets an output; a condition compares with `==`" in run.stdout
    assert "= hint: use `==` to compare" in run.stdout


def test_check_missing_file_exits_2_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "support.policy").write_text(CLEAN, encoding="utf-8")
    run = invoke(["check", "suport.policy"])
    assert run.code == 2
    assert "error[io-error]: cannot read `suport.policy`: no such file" in run.output
    assert "did you mean `support.policy`?" in run.output


def test_check_missing_file_exits_2_in_a_new_process() -> None:
    run = policy("check", "no/such/file.policy")
    assert run.code == 2
    assert "error[io-error]" in run.output
    assert "no such file" in run.output


def test_check_folder_without_policies_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a policy", encoding="utf-8")
    run = invoke(["check", "empty"])
    assert run.code == 2
    assert "error[io-error]: no `.policy` files found in the given folders" in run.stderr


def test_check_non_utf8_file_exits_2_and_points_at_the_byte(tmp_path: Path) -> None:
    (tmp_path / "binary.policy").write_bytes(b"if a then b\xff\n")
    run = invoke(["check", "binary.policy"])
    assert run.code == 2
    assert "binary.policy:1:12: error[io-error]: the file is not UTF-8 text" in run.stdout
    assert "byte 0xff here" in run.stdout


def test_check_accepts_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    # Editors on Windows often save UTF-8 with a BOM; it is not part of the policy text.
    (tmp_path / "bom.policy").write_bytes(b"\xef\xbb\xbf" + CLEAN.encode())
    run = invoke(["check", "bom.policy"])
    assert run.code == 0, run.output
    assert "no problems found" in run.stdout


def test_check_missing_file_next_to_errors_still_exits_2(folder: Path) -> None:
    run = invoke(["check", "broken.policy", "missing.policy"])
    assert run.code == 2
    assert "error[type-mismatch]" in run.stdout


def test_check_missing_import_is_a_finding_not_an_io_error(tmp_path: Path) -> None:
    (tmp_path / "root.policy").write_text('import "gone.policy"\n', encoding="utf-8")
    run = invoke(["check", "root.policy"])
    assert run.code == 1
    assert "error[import-error]: cannot find `gone.policy`" in run.stdout


# --- policy check: several files, folders, JSON --------------------------------------------------


def test_check_several_files_and_folder_expansion(folder: Path) -> None:
    nested = folder / "nested" / "deeper"
    nested.mkdir(parents=True)
    (nested / "more.policy").write_text(CLEAN, encoding="utf-8")
    (folder / "ignored.txt").write_text("if a = b then c", encoding="utf-8")
    run = invoke(["check", "--no-analysis", ".", str(SUPPORT)])
    assert run.code == 1
    assert run.stdout.rstrip().endswith("checked 4 files: 1 error")


def test_check_json_shape_for_one_file(folder: Path) -> None:
    run = invoke(["check", "--format", "json", "broken.policy"])
    assert run.code == 1
    payload = json.loads(run.stdout)
    assert list(payload) == ["diagnostics"]
    (diag,) = payload["diagnostics"]
    assert {"code", "severity", "message", "file", "line", "column", "rules", "witness"} <= set(diag)
    assert diag["code"] == "type-mismatch"
    assert diag["severity"] == "error"
    assert diag["message"] == "cannot compare `x` (int) with `2y` (duration)"
    assert (diag["file"], diag["line"], diag["column"]) == ("broken.policy", 2, 8)
    assert diag["rules"] == []
    assert diag["witness"] is None


def test_check_json_for_a_clean_file_is_an_empty_list() -> None:
    run = invoke(["check", "--format", "json", "--no-analysis", str(SUPPORT)])
    assert run.code == 0
    assert json.loads(run.stdout) == {"diagnostics": []}
    analysed = json.loads(invoke(["check", "--format", "json", str(SUPPORT)]).stdout)["diagnostics"]
    assert [(d["code"], d["rules"], sorted(d["witness"])) for d in analysed] == [
        ("coverage-gap", [], ["monthly_spend", "tenure", "tier"])
    ]


def test_check_json_for_several_files_lists_each_file(folder: Path) -> None:
    run = invoke(["check", "--format", "json", "clean.policy", "broken.policy"])
    assert run.code == 1
    payload = json.loads(run.stdout)
    assert [d["code"] for d in payload["diagnostics"]] == ["type-mismatch"]
    assert payload["files"] == [{"file": "clean.policy", "ok": True}, {"file": "broken.policy", "ok": False}]


def test_check_json_rules_of_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "cycle.policy").write_text(
        "input { a: bool }\nif a then x\nif x then y\nif y then x\n", encoding="utf-8"
    )
    run = invoke(["check", "--format", "json", "cycle.policy"])
    assert run.code == 1
    (diag,) = json.loads(run.stdout)["diagnostics"]
    assert diag["code"] == "cycle"
    assert sorted(diag["rules"]) == ["cycle#2", "cycle#3"]


def test_check_json_of_an_io_error_is_still_json(tmp_path: Path) -> None:
    run = invoke(["check", "--format", "json", "missing.policy"])
    assert run.code == 2
    (diag,) = json.loads(run.stdout)["diagnostics"]
    assert diag["code"] == "io-error"
    assert diag["file"] is None


# --- policy check --strict ----------------------------------------------------------------------


def test_strict_with_an_error_and_a_clean_file(folder: Path) -> None:
    assert invoke(["check", "--strict", "clean.policy"]).code == 0
    assert invoke(["check", "--strict", "broken.policy", "clean.policy"]).code == 1
    assert invoke(["check", "broken.policy", "clean.policy"]).code == 1


def test_strict_turns_warnings_into_findings() -> None:
    # The checker emits no warnings yet, so drive the exit logic with a report that has one.
    finding = warning(Code.SHADOWED_RULE, "rule `b` never decides anything", None)
    report = CheckReport("x.policy", (finding,), {}, None)
    assert report.ok
    assert _exit_code([report], strict=False) == 0
    assert _exit_code([report], strict=True) == 1
    info = finding.__class__(code=Code.CONFLICT, severity=Severity.INFO, message="note")
    assert _exit_code([CheckReport("x.policy", (info,), {}, None)], strict=True) == 0


# --- policy fmt ---------------------------------------------------------------------------------


def test_fmt_rewrites_in_place(tmp_path: Path) -> None:
    path = tmp_path / "messy.policy"
    path.write_text(UNFORMATTED, encoding="utf-8")
    run = invoke(["fmt", "messy.policy"])
    assert run.code == 0
    assert path.read_text(encoding="utf-8") == "if a then b\n"
    assert "reformatted messy.policy" in run.stderr
    again = invoke(["fmt", "messy.policy"])
    assert again.code == 0
    assert again.output == ""


def test_fmt_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "messy.policy"
    path.write_text(UNFORMATTED, encoding="utf-8")
    path.chmod(0o640)
    assert invoke(["fmt", "messy.policy"]).code == 0
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["messy.policy"]  # no temporary file left behind


def test_fmt_check_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "messy.policy"
    path.write_text(UNFORMATTED, encoding="utf-8")
    run = invoke(["fmt", "--check", "messy.policy"])
    assert run.code == 1
    assert "would reformat messy.policy" in run.stderr
    assert path.read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_check_on_formatted_files_exits_0(tmp_path: Path) -> None:
    (tmp_path / "tidy.policy").write_text("if a then b\n", encoding="utf-8")
    run = invoke(["fmt", "--check", "tidy.policy"])
    assert run.code == 0
    assert run.output == ""


def test_fmt_check_on_the_example_and_stdlib() -> None:
    run = invoke(["fmt", "--check", str(SUPPORT), str(STDLIB)])
    assert run.code == 0, run.output


def test_fmt_diff_prints_a_unified_diff_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "messy.policy"
    path.write_text(UNFORMATTED, encoding="utf-8")
    run = invoke(["fmt", "--diff", "messy.policy"])
    assert run.code == 1
    assert run.stdout.splitlines() == [
        "--- messy.policy",
        "+++ messy.policy (formatted)",
        "@@ -1 +1 @@",
        "-if  a   then b",
        "+if a then b",
    ]
    assert path.read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_stdin_to_stdout_in_a_new_process() -> None:
    run = policy("fmt", "-", stdin=UNFORMATTED.encode())
    assert run.code == 0
    assert run.stdout == "if a then b\n"
    assert run.stderr == ""


def test_fmt_stdin_in_process() -> None:
    run = invoke(["fmt", "-"], stdin="segment   s=a==1  # c\n")
    assert run.code == 0
    assert run.stdout == "segment s = a == 1  # c\n"


def test_fmt_stdin_with_a_syntax_error_exits_1() -> None:
    run = invoke(["fmt", "-"], stdin="if a = b then c\n")
    assert run.code == 1
    assert run.stdout == ""
    assert "<stdin>:1:6: error[syntax-error]" in run.stderr


def test_fmt_stdin_not_utf8_exits_2() -> None:
    run = invoke(["fmt", "-"], stdin=b"if a then b\xff\n")
    assert run.code == 2
    assert "error[io-error]: standard input is not UTF-8 text" in run.stderr


def test_fmt_syntax_error_exits_1_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.policy"
    text = "if  a = b then c\n"
    path.write_text(text, encoding="utf-8")
    run = invoke(["fmt", "broken.policy"])
    assert run.code == 1
    assert "broken.policy:1:7: error[syntax-error]" in run.stderr
    assert path.read_text(encoding="utf-8") == text


def test_fmt_missing_file_exits_2() -> None:
    run = invoke(["fmt", "missing.policy"])
    assert run.code == 2
    assert "cannot read `missing.policy`: no such file" in run.stderr


def test_fmt_non_utf8_file_exits_2_and_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "binary.policy"
    path.write_bytes(b"if  a then b\xff\n")
    run = invoke(["fmt", "binary.policy"])
    assert run.code == 2
    assert "the file is not UTF-8 text" in run.stderr
    assert path.read_bytes() == b"if  a then b\xff\n"


def test_fmt_folder_formats_every_policy_below_it(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.policy").write_text(UNFORMATTED, encoding="utf-8")
    (tmp_path / "two.policy").write_text(UNFORMATTED, encoding="utf-8")
    (tmp_path / "notes.txt").write_text(UNFORMATTED, encoding="utf-8")
    run = invoke(["fmt", "."])
    assert run.code == 0
    assert (tmp_path / "a" / "one.policy").read_text(encoding="utf-8") == "if a then b\n"
    assert (tmp_path / "two.policy").read_text(encoding="utf-8") == "if a then b\n"
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_worst_exit_code_wins(tmp_path: Path) -> None:
    (tmp_path / "messy.policy").write_text(UNFORMATTED, encoding="utf-8")
    (tmp_path / "tidy.policy").write_text("if a then b\n", encoding="utf-8")
    assert invoke(["fmt", "--check", "tidy.policy", "messy.policy"]).code == 1
    assert invoke(["fmt", "--check", "messy.policy", "missing.policy"]).code == 2


# --- version, usage errors ----------------------------------------------------------------------


def test_version_in_a_new_process() -> None:
    run = policy("--version")
    assert run.code == 0
    assert run.stdout.strip() == f"policy, version {__version__}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["check", "--bogus", "x.policy"], "No such option '--bogus'"),
        (["check"], "Missing argument 'FILES...'"),
        (["fmt"], "Missing argument 'FILES...'"),
        (["check", "--format", "xml", "x.policy"], "'xml' is not one of 'text', 'json'"),
    ],
)
def test_usage_errors_exit_2_with_usage(args: list[str], message: str) -> None:
    run = invoke(args)
    assert run.code == 2
    assert "Usage: policy" in run.stderr
    assert message in run.stderr
    assert run.stdout == ""


def test_unknown_subcommand_in_a_new_process() -> None:
    run = policy("frobnicate")
    assert run.code == 2
    assert "Usage: policy" in run.stderr
    assert "No such command 'frobnicate'" in run.stderr


def test_help_lists_the_commands() -> None:
    run = invoke(["--help"])
    assert run.code == 0
    assert "check" in run.stdout
    assert "fmt" in run.stdout


# --- colour -------------------------------------------------------------------------------------


def test_no_ansi_escapes_in_process(folder: Path) -> None:
    run = invoke(["check", "broken.policy", "missing.policy"])
    assert "error[type-mismatch]" in run.stdout
    assert not ANSI.search(run.output)


def _run_on_a_terminal(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update(env)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "policylang", *args],
            stdout=slave,
            stderr=subprocess.PIPE,
            env=full_env,
            timeout=60,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO once the terminal's other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_colour_on_a_terminal_and_never_with_no_color(folder: Path) -> None:
    args = ["check", str(folder / "broken.policy")]
    code, coloured = _run_on_a_terminal(args, {})
    assert code == 1
    assert ANSI.search(coloured), "a terminal without NO_COLOR gets colour"
    code, plain = _run_on_a_terminal(args, {"NO_COLOR": "1"})
    assert code == 1
    assert "error[type-mismatch]" in plain
    assert not ANSI.search(plain)
    assert "Traceback" not in coloured + plain


# --- never a traceback --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01\x02binary",
        b"\xef\xbb\xbfif a then b\n",  # a UTF-8 byte-order mark
        b"if " + b"(" * 500 + b"a" + b")" * 500 + b" then b\n",
        b'if a then b = "unterminated\n',
        b"input {\n",
        b"rule r priority 99999999999999999999999: if a then b\n",
        b"if a then x = 9999-99-99\n",
        'if a then x = "\u202e\U0001f600"\n'.encode(),
    ],
)
def test_hostile_files_never_show_a_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.policy"
    path.write_bytes(content)
    for args in (
        ["check", "hostile.policy"],
        ["check", "--format", "json", "hostile.policy"],
        ["fmt", "--check", "hostile.policy"],
    ):
        run = invoke(args)
        assert run.code in (0, 1, 2)
        if "json" in args:
            json.loads(run.stdout)
    assert path.read_bytes() == content


def test_fmt_folder_without_policies_exits_2_like_check(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    run = invoke(["fmt", "sub"])
    assert run.code == 2
    assert "no `.policy` files found" in run.stderr
