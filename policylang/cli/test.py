"""`policy test [PATH...]`: run the test files beside the policies, print like pytest, and measure
which rules the cases cover (docs/testing.md); a thin layer over `policylang.policy_tests.run_tests`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from policylang import ExitCode

from .files import import_root_option
from .terminal import json_text, safe_coloured, use_color


class _Percent(click.FloatRange):
    """0 to 100; `nan` is refused (it compares false with everything, so it would pass any coverage)."""

    def __init__(self) -> None:
        super().__init__(0, 100)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail("nan is not a percentage", param, ctx)
        return float(number)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--coverage", "show_coverage", is_flag=True, help="Show which rules no case matched, per policy file and in total."
)
@click.option(
    "--fail-under",
    type=_Percent(),
    metavar="PERCENT",
    help="Exit 1 when fewer than PERCENT of the rules matched in some case (implies --coverage).",
)
@click.option(
    "--explain", "explain", is_flag=True, help="Add the explanation (as `policy explain` prints it) of each failure."
)
@click.option(
    "--junit-xml", "junit_path", metavar="FILE", type=click.Path(dir_okay=False), help="Also write JUnit XML for CI."
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@import_root_option
def test_command(
    paths: tuple[str, ...],
    show_coverage: bool,
    fail_under: float | None,
    explain: bool,
    junit_path: str | None,
    output_format: str,
    import_root: str | None,
) -> int:
    """Run policy tests: PATH is a test file (NAME.test.yaml), a policy (its NAME.test.yaml), or a
    folder (every *.test.yaml below it); no PATH means the current folder.

    Exit codes: 0 every case passed; 1 a case failed or errored, a policy under test has errors, or
    coverage is below --fail-under; 2 a path names nothing to test, a test file is malformed, or
    the JUnit file cannot be written.
    """
    from ..policy_tests import junit_xml, run_tests  # deferred: start-up (`policy check` never runs tests)
    from ..policy_tests.render import coverage_table, details, explain_failure, file_line, summary

    color = use_color()
    show_coverage = show_coverage or fail_under is not None
    text = output_format == "text"
    report = run_tests(
        paths,
        progress=(lambda result: click.echo(safe_coloured(file_line(result, color=color)))) if text else None,
        import_root=import_root,
    )
    code = report.exit_code
    if junit_path is not None:
        try:
            Path(junit_path).write_text(junit_xml(report), encoding="utf-8")
        except OSError as exc:
            click.echo(f"error[io-error]: cannot write `{junit_path}`: {exc.strerror or exc}", err=True)
            code = max(code, ExitCode.USAGE)
    below = fail_under is not None and report.coverage.below(fail_under)
    if below:
        code = max(code, ExitCode.FINDINGS)
    if not text:
        payload = report.to_dict()
        if explain:
            for file, shown in zip(report.files, payload["files"], strict=True):
                for case, entry in zip(file.cases, shown["cases"], strict=True):
                    if case.decision is not None:
                        entry["explanation"] = explain_failure(case, width=None)
        click.echo(json_text(payload, indent=2, default=str))
        return code
    body = details(report, explain=explain, color=color)
    if body:
        click.echo()
        click.echo(safe_coloured(body))
    if show_coverage:
        click.echo()
        click.echo(safe_coloured(coverage_table(report.coverage)))
        if below:
            # deferred: start-up (the test runner loads PyYAML and the evaluator)
            from ..policy_tests.coverage import format_percent

            click.echo(f"rule coverage {format_percent(report.coverage.percent)} is below --fail-under {fail_under:g}%")
    click.echo()
    click.echo(safe_coloured(summary(report, color=color)))
    return code
