"""`policy fmt FILE... [--check] [--diff]`: rewrite files in canonical form, keeping comments and meaning."""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from pathlib import Path

import click

from policylang import ExitCode, format_file, format_source, render_text

from ..core.diagnostics import Code
from ..core.source import SourceFile
from .files import expand_policy_paths


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if any file would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Print what would change as a unified diff; change nothing.")
def fmt_command(files: tuple[str, ...], check_only: bool, show_diff: bool) -> int:
    """Format policy files in place (`-` reads standard input and writes standard output).

    The formatter re-parses its own output and leaves a file untouched unless the result is the
    same policy with the same comments. Exit codes: 0 done (or nothing to change), 1 a file would
    change under --check or has syntax errors, 2 a file could not be read or written.
    """
    worst = ExitCode.OK
    paths = expand_policy_paths(files)
    if not paths:
        click.echo("error[io-error]: no `.policy` files found in the given folders", err=True)
        return ExitCode.USAGE
    for path in paths:
        code = _format_stdin() if path == "-" else _format_path(path, check_only, show_diff)
        worst = max(worst, code)
    return worst


def _format_stdin() -> ExitCode:
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        click.echo("error[io-error]: standard input is not UTF-8 text", err=True)
        return ExitCode.USAGE
    result = format_source(text, "<stdin>")
    if result.text is None:
        click.echo(render_text(result.diagnostics, {"<stdin>": SourceFile("<stdin>", text)}), err=True)
        return ExitCode.FINDINGS
    click.echo(result.text, nl=False)
    return ExitCode.OK


def _format_path(path: str, check_only: bool, show_diff: bool) -> ExitCode:
    original, formatted, diagnostics = format_file(path)
    if original is None:
        click.echo(render_text(diagnostics, {}), err=True)
        return ExitCode.USAGE
    if formatted is None:
        click.echo(render_text(diagnostics, {path: SourceFile(path, original)}), err=True)
        internal = any(d.code is Code.INTERNAL_ERROR for d in diagnostics)
        return ExitCode.USAGE if internal else ExitCode.FINDINGS
    if formatted == original:
        return ExitCode.OK
    if show_diff:
        diff = difflib.unified_diff(
            original.splitlines(keepends=True), formatted.splitlines(keepends=True), f"{path}", f"{path} (formatted)"
        )
        click.echo("".join(diff), nl=False)
    if check_only or show_diff:
        click.echo(f"would reformat {path}", err=True)
        return ExitCode.FINDINGS
    target = Path(path).resolve()  # write through a symbolic link to the file it names
    if not os.access(target, os.W_OK) or not os.access(target.parent, os.W_OK):
        click.echo(f"error[io-error]: cannot write `{path}`: permission denied", err=True)
        return ExitCode.USAGE
    try:
        _replace_atomically(target, formatted)
    except OSError as exc:
        click.echo(f"error[io-error]: cannot write `{path}`: {exc.strerror or exc}", err=True)
        return ExitCode.USAGE
    click.echo(f"reformatted {path}", err=True)
    return ExitCode.OK


def _replace_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it over: a crash never leaves half a file."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
