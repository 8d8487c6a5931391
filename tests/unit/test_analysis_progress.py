"""Progress within one analysis (`progress=`) and the first N findings (`max_findings=`) from
Python (issue 14 item 4): analysis/progress.py, analysis/summary.py, and how `policy check` and
`policy graph` draw the progress on a terminal (cli/progress.py)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest

import policylang
from policylang.analysis import progress as analysis_progress
from policylang.analysis.progress import AnalysisProgress, Progress
from policylang.api import check_source, with_analysis
from policylang.cli import progress as cli_progress
from policylang.cli.progress import ERASE, ProgressLine
from policylang.core.diagnostics import Diagnostic
from policylang.core.errors import UsageError
from tests.cli.test_check_max_findings import OVERLAPPING
from tests.cli.test_cli import invoke


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_reports_a_phase_at_once_and_steps_at_most_every_interval() -> None:
    clock, seen = FakeClock(), []
    progress = Progress(seen.append, clock)
    progress.phase("conflicts", 10, "pairs of rules")
    assert seen == [AnalysisProgress("conflicts", 0, 10, "pairs of rules", 0.0)]
    progress.step()
    progress.step()
    assert len(seen) == 1  # within the interval: counted, not reported
    clock.now += analysis_progress.INTERVAL
    progress.step()
    assert seen[-1] == AnalysisProgress("conflicts", 3, 10, "pairs of rules", analysis_progress.INTERVAL)
    assert seen[-1].line() == "conflicts: 3/10 pairs of rules, 0 s"
    assert AnalysisProgress("facts", 1_234, 0, "rules", 12.4).line() == "facts: 1,234 rules, 12 s"


def test_progress_without_a_callback_only_counts() -> None:
    progress = Progress(None)
    progress.phase("x", 3)
    progress.step(2)
    assert (progress.name, progress.done, progress.total) == ("x", 2, 3)


@pytest.fixture
def every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every step reported: the small policies here are analysed faster than one interval."""
    monkeypatch.setattr(analysis_progress, "INTERVAL", 0.0)


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.usefixtures("every_step")
def test_policy_analyse_reports_each_phase_and_counts_up_to_its_total() -> None:
    policy = policylang.compile(OVERLAPPING, filename="overlapping.policy")
    seen: list[AnalysisProgress] = []
    findings = policy.analyse(budget=math.inf, progress=seen.append)
    phases = list(dict.fromkeys(report.phase for report in seen))
    assert phases[0] == "reading the facts' values"
    assert "`y` (1/1 outputs): conflicts" in phases and phases[-1] == "shadowed rules"
    conflicts = [report for report in seen if report.phase == "`y` (1/1 outputs): conflicts"]
    assert conflicts[-1].done == conflicts[-1].total == 10 == sum(d.code.value == "conflict" for d in findings)
    assert all(report.done <= report.total for report in seen if report.total)
    elapsed = [report.elapsed for report in seen]
    assert elapsed == sorted(elapsed)
    assert policy.analyse(budget=math.inf) == findings  # (the same findings without progress)


@pytest.mark.usefixtures("every_step")
def test_progress_counts_the_combinations_an_enumerated_output_tries() -> None:
    text = OVERLAPPING.replace("then y = 0", "then y = n * 2")  # a computed value: enumerated
    seen: list[AnalysisProgress] = []
    policylang.compile(text).analyse(progress=seen.append)
    tried = [report for report in seen if report.unit == "combinations of facts"]
    assert tried and tried[-1].done == tried[-1].total > 0


@pytest.mark.usefixtures("every_step")
def test_load_reports_progress_while_it_analyses_and_not_for_a_remembered_verdict(tmp_path: Path) -> None:
    path = tmp_path / "clean.policy"
    path.write_text(
        "input {\n    n: int\n}\n\noutput {\n    y: int = 0\n}\n\nrule only:\n    if n > 3\n    then y = 1\n"
    )
    seen: list[AnalysisProgress] = []
    policylang.load(path, progress=seen.append)
    assert any(report.phase == "`y` (1/1 outputs): where its rules match" for report in seen)
    again: list[AnalysisProgress] = []
    policylang.load(path, progress=again.append)
    assert again == []  # (the clean verdict is remembered: nothing is analysed)


def test_max_findings_keeps_the_first_in_printed_order_and_counts_the_rest() -> None:
    policy = policylang.compile(OVERLAPPING, filename="overlapping.policy")
    every = sorted(policy.analyse(budget=math.inf), key=Diagnostic.sort_key)
    first = policy.analyse(budget=math.inf, max_findings=3)
    assert list(first) == every[:3]
    assert first.left_out == {"conflict": 7} and first.errors_left_out == 7 and first.total == 10
    for everything in (None, 0, 10, 50):
        found = policy.analyse(budget=math.inf, max_findings=everything)
        assert len(found) == 10 and found.left_out == {} and found.errors_left_out == 0


@pytest.mark.parametrize("wrong", [-1, 2.5, "3", True])
def test_max_findings_that_is_not_a_count_is_refused_before_any_work(wrong: object) -> None:
    policy = policylang.compile(OVERLAPPING)
    with pytest.raises(UsageError, match="max_findings"):
        policy.analyse(max_findings=wrong)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="max_findings"):
        with_analysis(check_source(OVERLAPPING), max_findings=wrong)  # type: ignore[arg-type]


def test_with_analysis_max_findings_still_fails_on_errors_it_leaves_out() -> None:
    report = with_analysis(check_source(OVERLAPPING, "overlapping.policy"), budget=math.inf, max_findings=1)
    assert len(report.diagnostics) == 1 and report.left_out == {"conflict": 9} and report.errors_left_out == 9
    assert not report.ok
    every = with_analysis(check_source(OVERLAPPING, "overlapping.policy"), budget=math.inf)
    assert report.diagnostics == every.diagnostics[:1] and every.left_out == {}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_draws_in_place_cuts_to_the_width_and_erases() -> None:
    stream = FakeTerminal()
    with ProgressLine("big.policy", stream) as line:
        line.start()
        line(AnalysisProgress("`limit` (1/1 outputs): conflicts", 3_400, 10_000, "pairs of rules", 12.2))
        line(AnalysisProgress("x" * 500, 1, 2, "rules", 1))
    drawn = stream.getvalue().split(ERASE)
    assert drawn == [
        "",
        "analysing big.policy ...",
        "analysing big.policy: `limit` (1/1 outputs): conflicts: 3,400/10,000 pairs of rules, 12 s",
        drawn[3],
        "",
    ]
    assert len(drawn[3]) == 199 and drawn[3].endswith("...") and "\n" not in stream.getvalue()


def test_progress_line_shortens_a_long_path_to_the_file_name_before_cutting_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    stream = FakeTerminal()
    ProgressLine("/a/very/long/folder/" * 5 + "big.policy", stream)(AnalysisProgress("conflicts", 1, 2, "rules", 0))
    assert stream.getvalue() == f"{ERASE}analysing .../big.policy: conflicts: 1/2 rules, 0 s"


def test_progress_line_writes_nothing_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with ProgressLine("big.policy", stream) as line:
        line.start()
        line(AnalysisProgress("conflicts", 1, 2, "rules", 0))
    assert stream.getvalue() == "" and not line.active


def test_progress_line_escapes_a_file_name_that_could_move_the_cursor() -> None:
    stream = FakeTerminal()
    ProgressLine("a\x1b[2Jb.policy", stream).start()
    assert "\x1b[2J" not in stream.getvalue()


@pytest.mark.usefixtures("every_step")
def test_check_on_a_terminal_shows_the_analysis_on_stderr_and_never_in_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_progress, "is_terminal", lambda stream: True)
    (tmp_path / "overlapping.policy").write_text(OVERLAPPING)
    run = invoke(["check", str(tmp_path / "overlapping.policy")])
    assert f"{ERASE}analysing " in run.stderr and "conflicts: 10/10 pairs of rules" in run.stderr
    last = run.stderr.rsplit(ERASE, 1)[1]
    assert last.startswith("analysed ") and last.endswith(" s\n")  # (the progress erased, then the time)
    assert "\x1b" not in run.stdout
    as_json = invoke(["check", "--format", "json", str(tmp_path / "overlapping.policy")])
    assert len(json.loads(as_json.stdout)["diagnostics"]) == 10  # stdout stays JSON


def test_check_off_a_terminal_prints_no_progress(tmp_path: Path) -> None:
    (tmp_path / "overlapping.policy").write_text(OVERLAPPING)
    run = invoke(["check", str(tmp_path / "overlapping.policy")])
    assert "analysing" not in run.stderr and "\x1b" not in run.stderr


@pytest.mark.usefixtures("every_step")
def test_graph_on_a_terminal_shows_the_analysis_of_load_and_erases_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_progress, "is_terminal", lambda stream: True)
    path = tmp_path / "one.policy"
    path.write_text("input {\n    n: int\n}\n\noutput {\n    y: int = 0\n}\n\nrule r:\n    if n > 1\n    then y = 1\n")
    run = invoke(["graph", str(path)])
    assert run.code == 0 and "one.policy: shadowed rules" in run.stderr and run.stderr.endswith(ERASE)
    assert "\x1b" not in run.stdout
