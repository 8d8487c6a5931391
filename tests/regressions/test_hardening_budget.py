"""Issue 12 (hardening), the analysis time budget: the static analysis stops at a deadline (120 s
unless told otherwise), keeps what it has proven, and notes every output it did not decide.

Where the analysis stops must not depend on the machine, so most tests read a clock that moves one
second each time it is read (`ticking`): a budget of k seconds is then k checks of the deadline,
and the same k stops it at the same place everywhere. The issue's own reproduction runs on the
real clock, with a CPU-time guard against a hang (generous: it needs a few seconds; without the
budget it would need hours).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from support.cpu_guard import within

import policylang
from policylang import Code, Diagnostic, Severity
from policylang.analysis import budget as deadline
from policylang.api import check_source, with_analysis
from policylang.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support" / "support.policy"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `policy ARGS` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err


class Ticking:
    """A clock that moves one second each time it is read: with it, `budget=k` is k checks of
    the deadline (one more reading makes the deadline)."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return float(self.reads)


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> Ticking:
    clock = Ticking()
    monkeypatch.setattr(deadline, "monotonic", clock)
    return clock


def overlapping(count: int, output: str = "y") -> str:
    """The issue's reproduction: `if x != i then y = i` for i in 1..count; every pair of rules conflicts."""
    return "".join(f"if x != {i} then {output} = {i}\n" for i in range(1, count + 1))


def out_of_time(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code is Code.ANALYSIS_INCOMPLETE and "time budget" in d.message]


def message(output: str, budget: str) -> str:
    return f"the analysis stopped at its time budget of {budget} before deciding `{output}`; what it reports is proven"


# --- the reproduction --------------------------------------------------------------------


def test_thousands_of_mutually_overlapping_rules_stop_at_the_budget(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "overlapping.policy"
    path.write_text("input { x: int }\noutput { y: int = 0 }\n" + overlapping(5_000), encoding="utf-8")
    with within(60, "check of 5,000 overlapping rules with a budget of 0.05 s"):  # (hours without it)
        code, out, err = cli(capsys, "check", "--analysis-budget", "0.05", str(path))
        json_code, json_out, _ = cli(capsys, "check", "--analysis-budget", "0.05", "--format", "json", str(path))
    # A note is information, as for any incomplete analysis: the exit code is 0 when nothing was
    # proven wrong in time, but the summary never says "no problems found".
    assert (code, json_code, err) == (0, 0, "")
    assert f"info[analysis-incomplete]: {message('y', '0.05 s')}" in out
    assert "= hint: give it more time with `policy check --analysis-budget SECONDS`" in out
    assert out.endswith("checked 1 file: 1 note\n")
    (note,) = json.loads(json_out)["diagnostics"]
    assert (note["code"], note["severity"], note["message"], note["line"]) == (
        "analysis-incomplete",
        "info",
        message("y", "0.05 s"),
        2,
    )
    assert note["notes"] == ["it cannot promise there is nothing more"]
    assert len(note["rules"]) == 5_000


# --- what was proven stays -----------------------------------------------------------------------

EARLY_CONFLICT = """input {
    x: int
    t: enum(a, b)
}
output {
    s: int = 0
    y: int = 0
}
rule one: if t == a then s = 1
rule two: if t == a then s = 2
"""


@pytest.mark.usefixtures("ticking")
def test_what_was_proven_before_the_deadline_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "early.policy"
    path.write_text(EARLY_CONFLICT + overlapping(300), encoding="utf-8")
    # `s` needs a few dozen checks, `y` (44,850 conflicting pairs) far more than 1,000.
    found = policylang.compile(path.read_text(encoding="utf-8"), str(path)).analyse(budget=1_000)
    assert [(d.code, d.rules, d.witness) for d in found if d.code is Code.CONFLICT] == [
        (Code.CONFLICT, ("one", "two"), {"t": "a", "x": 0})
    ]
    (note,) = out_of_time(found)
    assert (note.severity, note.message, note.span and note.span.line) == (Severity.INFO, message("y", "1,000 s"), 7)
    assert len(found) == 2
    code, out, _ = cli(capsys, "check", "--analysis-budget", "1000", str(path))
    assert code == 1  # the conflict found in time is an error, as always
    assert out.endswith("checked 1 file: 1 error, 1 note\n")


MIXED = """input {
    tier: enum(basic, premium)
    vip: bool
    n: int
    spend: int
    months: int
}
output {
    queue: enum(general, priority, key) = general
    sla: int = 0            resolve first
    level: int
    note: bool = false
    big: bool = false
}

rule p: if tier == premium then queue = priority
rule v: if vip then queue = key
rule first: if n > 5 then sla = 1
rule later: if n > 10 then sla = 2
rule never: if n > 5 and n < 3 then level = 1
rule lvl: if n > 0 then level = 2
rule same: if n > 20 then level = 2
rule general_high: if queue == general and n > 3 then note = true
rule general_higher: if queue == general and n > 4 then note = false
rule computes: if spend * months > 1000 then big = true
"""


def test_stopped_anywhere_it_reports_only_proven_findings_and_notes_what_it_did_not_decide(ticking: Ticking) -> None:
    policy = policylang.compile(MIXED, "mixed.policy")
    before = ticking.reads
    full = policy.analyse(budget=math.inf)
    needed = ticking.reads - before - 1  # the checks of a whole analysis (one reading made the deadline)
    assert sorted(d.code.value for d in full) == [
        "analysis-incomplete",  # `big` computes from two facts
        "conflict",  # p and v, by regions
        "conflict",  # general_high and general_higher, by enumeration (they read `queue`)
        "coverage-gap",
        "redundant-rule",
        "shadowed-rule",
        "unreachable-rule",
    ]
    outputs_of = {rule.id: {action.output for action in rule.actions} for rule in policy.checked.rules}

    def concerned(finding: Diagnostic) -> set[str]:
        """The outputs a finding is about: those its rules set, and the one it points at."""
        named = {output for rule in finding.rules for output in outputs_of[rule]}
        return named | {name for name, o in policy.checked.outputs.items() if o.span == finding.span}

    for budget in range(1, needed + 1):
        found = policy.analyse(budget=budget)
        notes = out_of_time(found)
        proven = [d for d in found if d not in notes]
        assert all(d in full for d in proven), budget  # never a finding the full analysis does not make
        undecided = {note.message.split("`")[1] for note in notes}
        assert len(undecided) == len(notes), budget  # one note per output
        assert all(note.message == message(note.message.split("`")[1], f"{budget:,} s") for note in notes)
        for missing in (d for d in full if d not in proven):
            assert concerned(missing) & undecided, (budget, missing.message, undecided)
        assert bool(notes) == (budget < needed), budget
    assert policy.analyse(budget=needed) == full


# --- load ---------------------------------------------------------------------------------------


def test_load_refuses_the_conflicts_found_in_time_and_never_caches_an_unfinished_verdict(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("POLICYLANG_CACHE_DIR", str(cache))
    early = tmp_path / "early.policy"
    early.write_text(EARLY_CONFLICT + overlapping(50), encoding="utf-8")
    late = tmp_path / "late.policy"
    late.write_text("input { x: int }\noutput { y: int = 0 }\n" + overlapping(50), encoding="utf-8")
    clean = tmp_path / "clean.policy"
    clean.write_text("input { x: int }\noutput { y: int = 0 }\nif x > 1 then y = 1\n", encoding="utf-8")
    with monkeypatch.context() as patched:
        patched.setattr(deadline, "monotonic", Ticking())
        with pytest.raises(policylang.PolicyError) as refused:
            policylang.load(early, analysis_budget=100)
        assert [(d.code, d.rules) for d in refused.value.diagnostics] == [(Code.CONFLICT, ("one", "two"))]
        # Out of time before proving any of its 1,225 conflicts: loaded, as an incomplete analysis
        # is; a conflict then raises when it happens, as with `refuse_conflicts=False`.
        loaded = policylang.load(late, analysis_budget=100)
        with pytest.raises(policylang.ConflictError):
            loaded.decide({"x": 5})
        clean_hash = policylang.load(clean, analysis_budget=100).content_hash
    assert [p.name.split("-")[0] for p in (cache / "analysis").iterdir()] == [clean_hash]  # the clean one only
    # Not remembered as clean: with the time it needs, the next load finds the conflicts.
    with pytest.raises(policylang.PolicyError) as refused:
        policylang.load(late)
    assert {d.code for d in refused.value.diagnostics} == {Code.CONFLICT}
    assert len(refused.value.diagnostics) == 50 * 49 // 2


# --- bad budgets --------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", ["0", "-1", "-0.5", "nan", "-inf", "soon", ""])
def test_a_budget_that_is_not_a_positive_time_is_a_usage_error(capsys: pytest.CaptureFixture[str], budget: str) -> None:
    code, out, err = cli(capsys, "check", "--analysis-budget", budget, str(EXAMPLE))
    assert (code, out) == (2, "")
    assert "Invalid value for '--analysis-budget'" in err and "Traceback" not in err
    if budget in ("0", "-1", "-0.5", "nan", "-inf"):
        assert "give a number of seconds above 0, or `inf` for no limit" in err


@pytest.mark.parametrize("budget", [0, -1, -0.5, math.nan, -math.inf, "5", True, [5]])
def test_a_budget_that_is_not_a_positive_time_is_a_value_error(budget: object, tmp_path: Path) -> None:
    policy = policylang.load(EXAMPLE)
    with pytest.raises(ValueError, match="the analysis budget must be"):
        policy.analyse(budget=budget)  # type: ignore[arg-type]  # (the wrong types are the point)
    with pytest.raises(ValueError, match="the analysis budget must be"):
        with_analysis(check_source("if a then b\n"), budget=budget)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the analysis budget must be"):  # before the file is even read
        policylang.load(tmp_path / "missing.policy", analysis_budget=budget)  # type: ignore[arg-type]


# --- a normal policy ----------------------------------------------------------------------------


def test_a_normal_policy_is_unaffected(capsys: pytest.CaptureFixture[str]) -> None:
    policy = policylang.load(EXAMPLE)
    found = policy.analyse()
    assert found and out_of_time(found) == []
    assert policy.analyse(budget=math.inf) == found == policy.analyse(budget=120)
    default = cli(capsys, "check", str(EXAMPLE))
    assert default == cli(capsys, "check", "--analysis-budget", "inf", str(EXAMPLE))
    assert default[0] == 0 and default[1].endswith("checked 1 file: 1 warning\n")
    mixed = policylang.compile(MIXED, "mixed.policy")
    assert out_of_time(mixed.analyse()) == [] and mixed.analyse() == mixed.analyse(budget=math.inf)


def test_reading_the_policy_stops_at_the_deadline_too(ticking: Ticking, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: reading the facts' values (before any output is decided) checks the deadline as
    well; out of time there, every output it would have decided gets its note."""
    from policylang.analysis import reading  # deferred: patched below, as the analysis reads it

    read: list[str] = []
    real = reading.representatives
    monkeypatch.setattr(reading, "representatives", lambda fact, *rest: read.append(fact.name) or real(fact, *rest))
    text = "input { a: int\n b: int\n c: int }\noutput { y: int = 0\n z: int\n w: int = 0 }\n"
    policy = policylang.compile(text + "if a > 1 then y = 1\nif b > 1 then y = 2\n")
    found = policy.analyse(budget=1)
    assert read == ["a"]  # (the second fact's check was past the deadline)
    assert [(d.code, d.rules) for d in found] == [
        (Code.ANALYSIS_INCOMPLETE, ("<policy>#1", "<policy>#2")),
        (Code.ANALYSIS_INCOMPLETE, ()),
    ]
    assert all("stopped at its time budget of 1 s before deciding" in d.message for d in found)
