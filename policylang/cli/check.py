"""`policy check FILE... [--format text|json] [--strict] [--analysis-budget SECONDS] [--max-findings N]`:
every problem of every file, like a compiler."""

from __future__ import annotations

import dataclasses
import time

import click

from policylang import CheckReport, ExitCode, check_file, render_json, render_text, summary_line

from ..analysis.budget import budget_seconds
from ..analysis.summary import DEFAULT_MAX_FINDINGS, first_findings, left_out_line
from ..api import with_analysis
from ..core.diagnostics import Diagnostic, Label, Severity, to_dict
from .files import expand_policy_paths, import_root_option
from .progress import ProgressLine
from .terminal import json_safe, json_text, safe_text, use_color


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as failures (exit 1).")
@click.option(
    "--analysis/--no-analysis",
    default=True,
    show_default=True,
    help="Look for conflicts, unreachable rules and coverage gaps (each with a witness).",
)
@click.option("--overlaps", is_flag=True, help="Also list which rule overrides which, and for which facts (info).")
@click.option(
    "--analysis-budget",
    type=float,
    default=None,
    metavar="SECONDS",
    callback=lambda ctx, param, value: _budget(value),
    help="Stop each file's analysis after this many seconds (default 120; `inf`: no limit), "
    "reporting what it has proven and a note on each output it did not decide.",
)
@click.option(
    "--max-findings",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_FINDINGS,
    show_default=True,
    metavar="N",
    help="Print the first N findings of each file in full and count the rest by kind (0: print all; "
    "`--format json` always lists all).",
)
@import_root_option
def check_command(
    files: tuple[str, ...],
    output_format: str,
    strict: bool,
    analysis: bool,
    overlaps: bool,
    analysis_budget: float,
    max_findings: int,
    import_root: str | None,
) -> int:
    """Check policy files (and their imports) for errors and warnings.

    Exit codes: 0 clean, 1 findings (errors, or warnings with --strict), 2 a file could not be read.
    """

    reports = [check_file(path, import_root=import_root) for path in expand_policy_paths(files)]
    if analysis:
        reports = [_analysed(report, overlaps, analysis_budget) for report in reports]
    if not reports:
        click.echo("error[io-error]: no `.policy` files found in the given folders", err=True)
        return ExitCode.USAGE
    diagnostics = [d for r in reports for d in r.diagnostics]
    if output_format == "json":
        if len(reports) == 1:
            click.echo(json_safe(render_json(reports[0].diagnostics)))
        else:
            payload = {
                "diagnostics": [to_dict(d) for d in diagnostics],
                "files": [{"file": r.filename, "ok": r.ok} for r in reports],
            }
            click.echo(json_text(payload, indent=2, default=str))
    else:
        color = use_color()
        for report in reports:
            if report.diagnostics:
                first, left_out = first_findings(report.diagnostics, max_findings)
                shown = tuple(_escaped(d) for d in first)
                click.echo(render_text(shown, report.sources, color=color))
                if left_out:
                    click.echo(left_out_line(left_out))
                click.echo()
        files_word = "file" if len(reports) == 1 else "files"
        click.echo(f"checked {len(reports)} {files_word}: {summary_line(diagnostics)}")
    return _exit_code(reports, strict)


def _analysed(report: CheckReport, overlaps: bool, budget: float) -> CheckReport:
    """The report with the analysis's findings; on a terminal, stderr shows which file is being
    analysed and how far its analysis has got (a large policy's analysis can take a minute,
    progress.py), then says how long it took."""
    started = time.monotonic()
    with ProgressLine(report.filename) as line:
        line.start()
        analysed = with_analysis(report, overlaps=overlaps, budget=budget, progress=line)
    if line.active:
        click.echo(f"analysed {safe_text(report.filename)} in {time.monotonic() - started:.1f} s", err=True)
    return analysed


def _budget(value: float | None) -> float:
    """The `--analysis-budget` given, or the default; zero, a negative number or `nan` is a usage error."""
    try:
        return budget_seconds(value)
    except ValueError:
        raise click.BadParameter(
            f"`{value:g}` is not a time the analysis can have: give a number of seconds above 0, or `inf` for no limit"
        ) from None


def _escaped(diagnostic: Diagnostic) -> Diagnostic:
    """The diagnostic with the control characters in its texts escaped: a message may quote a string of
    the policy, which may hold any character; done before colouring, so that the colours stay."""
    return dataclasses.replace(
        diagnostic,
        message=safe_text(diagnostic.message),
        label=None if diagnostic.label is None else safe_text(diagnostic.label),
        labels=tuple(Label(label.span, safe_text(label.text)) for label in diagnostic.labels),
        hint=None if diagnostic.hint is None else safe_text(diagnostic.hint),
        notes=tuple(safe_text(note) for note in diagnostic.notes),
    )


def _exit_code(reports: list[CheckReport], strict: bool) -> ExitCode:
    if any(r.io_failed for r in reports):
        return ExitCode.USAGE
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    if any(d.severity in failing for r in reports for d in r.diagnostics):
        return ExitCode.FINDINGS
    return ExitCode.OK
