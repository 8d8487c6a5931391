"""The `policy` command: one module per sub-command; exit codes 0 clean, 1 findings, 2 usage or I/O errors.

click is the CLI library: sub-commands, typed options, usage errors with exit code 2, and TTY-aware
colour, for about 20 ms of import time (the whole `policy check` on a small file stays under 0.3 s).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, TextIO

import click

from policylang import ExitCode, PolicylangError, __version__

from .check import check_command
from .evaluate import eval_command
from .explain import explain_command
from .fmt import fmt_command
from .graph import graph_command
from .log import log_command
from .pipes import guard_standard_streams
from .test import test_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="policy")
def app() -> None:
    """policylang: write service policies as rules, check them like code, and explain every decision."""


app.add_command(check_command)
app.add_command(eval_command)
app.add_command(explain_command)
app.add_command(fmt_command)
app.add_command(graph_command)
app.add_command(log_command)
app.add_command(test_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `policy` script. Bad input never shows a traceback; a bug says so and exits 2.

    A reader that stops early (`| head -1`) changes nothing: output it did not read is dropped and
    the exit code is the command's own (pipes.py).
    """
    guard_standard_streams()
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            code = app.main(args=argv, prog_name="policy", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = ExitCode.USAGE
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        code = ExitCode.USAGE
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 0
    except PolicylangError as exc:  # a warning of policylang's made an error (PYTHONWARNINGS=error)
        click.echo(f"error[{exc.code}]: {exc}", err=True)
        code = ExitCode.FINDINGS
    except Exception as exc:  # the last guard: a bug becomes a message, never a traceback
        click.echo(
            f"error[internal-error]: {type(exc).__name__}: {exc}\n"
            "  = hint: this is a bug in policylang; please report it with the command and files you used",
            err=True,
        )
        code = ExitCode.USAGE
    sys.exit(int(code or 0))


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning policylang gives on purpose (`AnalysisIncompleteWarning` from `load`) is printed as
    the command's own diagnostics are, `warning[CODE]: message`, not as Python's file:line report."""
    if isinstance(message, PolicylangError):
        click.echo(f"warning[{message.code}]: {message}", err=True)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning: Any = warnings.showwarning
