"""`policy test`'s text: a line of dots per file as pytest prints it, then every failure with its
differences, every error with its diagnostics, the coverage table and the summary line."""

from __future__ import annotations

import click

from ..core.diagnostics import render_text
from .coverage import Coverage, FileCoverage, format_percent
from .model import CaseResult, FileResult, TestReport

_MARKS = {"passed": (".", "green"), "failed": ("F", "red"), "error": ("E", "red")}


def _style(text: str, color: bool, fg: str) -> str:
    if not color:
        return text

    return click.style(text, fg=fg, bold=True)


def file_line(result: FileResult, *, color: bool = False) -> str:
    """`examples/support/support.test.yaml ..F.` (or why nothing in it ran)."""
    if result.problems:
        return f"{result.path} {_style('not run: the test file has problems', color, 'red')}"
    marks = "".join(_style(_MARKS[case.status][0], color, _MARKS[case.status][1]) for case in result.cases)
    return f"{result.path} {marks}"


def details(report: TestReport, *, explain: bool = False, color: bool = False) -> str:
    """Every failure, error and problem of the report, in file order; empty when all passed."""
    sources = report.sources()
    blocks: list[str] = []
    for file in report.files:
        if file.problems:
            head = _style("PROBLEMS", color, "red") + f" {file.path}: none of its cases ran"
            blocks.append(head + "\n" + render_text(file.problems, sources, color=color))
        if file.policy_problems:
            count = len(file.cases)
            ran = f", so none of its {count} case{'' if count == 1 else 's'} ran" if count else ""
            head = _style("ERRORS", color, "red") + f" {file.path}: the policy `{file.policy_file}` has errors{ran}"
            blocks.append(head + "\n" + render_text(file.policy_problems, sources, color=color))
            continue
        for case in file.cases:
            if case.status == "failed":
                blocks.append(_failure(case, explain, color))
            elif case.status == "error":
                head = _style("ERROR", color, "red") + f" {case.file}:{case.line}: {case.name}"
                blocks.append(head + "\n" + render_text(case.problems, sources, color=color))
    if report.problems:
        blocks.append(render_text(report.problems, sources, color=color))
    return "\n\n".join(blocks)


def _failure(case: CaseResult, explain: bool, color: bool) -> str:
    lines = [_style("FAILED", color, "red") + f" {case.file}:{case.line}: {case.name}"]
    lines.extend(f"  {mismatch.text}" for mismatch in case.mismatches)
    if explain and case.decision is not None:
        lines.append("  explanation (as `policy explain` gives it):")
        lines.extend(f"    {line}".rstrip() for line in explain_failure(case, width=96).splitlines())
    return "\n".join(lines)


def explain_failure(case: CaseResult, *, width: int | None = 100) -> str:
    """The explanation of a failed case's decision: the outputs that differ (all of them when only
    the fired rules differ), each with why it does not have the expected value."""
    decision = case.decision
    if decision is None:
        return ""
    outputs = decision.policy.checked.outputs
    differing = [m for m in case.mismatches if m.what in outputs]
    names = [m.what for m in differing] or None
    questions = [f"{m.what}={m.expected}" for m in differing if m.expected != "no value"]
    try:
        return decision.explain(width=width, outputs=names, why_not=questions)
    except ValueError:  # a value why-not cannot ask about: the explanation alone
        return decision.explain(width=width, outputs=names)


def summary(report: TestReport, *, color: bool = False) -> str:
    """`12 passed, 1 failed in 0.15s`; bad test files and paths are counted too."""
    parts = []
    for count, word, fg in (
        (report.passed, "passed", "green"),
        (report.failed, "failed", "red"),
        (report.errors, "error" if report.errors == 1 else "errors", "red"),
    ):
        if count:
            parts.append(_style(f"{count} {word}", color, fg))
    bad = len(report.bad_files)
    if bad:
        parts.append(_style(f"{bad} test file{'' if bad == 1 else 's'} not run", color, "red"))
    if report.problems:
        count = len(report.problems)
        parts.append(_style(f"{count} path{'' if count == 1 else 's'} with nothing to test", color, "red"))
    return (", ".join(parts) or "no cases ran") + f" in {report.duration:.2f}s"


def coverage_table(coverage: Coverage) -> str:
    """The rules' coverage per file and in total, then the rules never matched and never decided."""
    lines = [f"rule coverage: {format_percent(coverage.percent)} of {coverage.rules} rules matched in some case"]
    tested = coverage.tested
    width = max([len("total"), *(len(f.file) for f in coverage.files)])
    lines.append(_row("file", "rules", "matched", "decided", "coverage", width))
    lines.extend(_file_row(file, width) for file in tested)
    lines.append(
        _row(
            "total",
            str(coverage.rules),
            str(coverage.matched),
            str(coverage.decided),
            format_percent(coverage.percent),
            width,
        )
    )
    never = [(file, rule) for file in tested for rule in file.never_matched]
    if never:
        lines.append("never matched:")
        lines.extend(f"  {rule.file}:{rule.line}  {rule.rule}" for _, rule in never)
    lost = [(file, rule) for file in tested for rule in file.never_decided]
    if lost:
        lines.append("matched but never decided an output (overridden or in conflict whenever they matched):")
        lines.extend(f"  {rule.file}:{rule.line}  {rule.rule}" for _, rule in lost)
    imported = [file for file in coverage.imported if file.rules]
    if imported:
        lines.append("imported, not counted in the total (no test file of their own in this run):")
        lines.extend(_file_row(file, width) for file in imported)
    return "\n".join(lines)


def _file_row(file: FileCoverage, width: int) -> str:
    if not file.rules:
        return _row(file.file, "0", "-", "-", "-", width)
    return _row(
        file.file, str(len(file.rules)), str(file.matched), str(file.decided), format_percent(file.percent), width
    )


def _row(name: str, rules: str, matched: str, decided: str, percent: str, width: int) -> str:
    return f"  {name.ljust(width)}  {rules:>5}  {matched:>7}  {decided:>7}  {percent:>8}"


def render_report(report: TestReport, *, explain: bool = False, coverage: bool = False, color: bool = False) -> str:
    """The whole text `policy test` prints: file lines, details, coverage, summary."""
    parts = ["\n".join(file_line(file, color=color) for file in report.files)]
    text = details(report, explain=explain, color=color)
    if text:
        parts.append(text)
    if coverage:
        parts.append(coverage_table(report.coverage))
    parts.append(summary(report, color=color))
    return "\n\n".join(part for part in parts if part) + "\n"
