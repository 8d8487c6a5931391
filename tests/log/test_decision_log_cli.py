"""`policy log list|show|verify`: exit codes, the lines people read, JSON for tools."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from log_helpers import AS_OF, BASIC, PREMIUM, run_cli, support_policy

import policylang
from policylang.decision_log import DecisionLog


@pytest.fixture
def log_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICYLANG_LOG", raising=False)
    path = tmp_path / "decisions.db"
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
        log.record(policy, BASIC, policy.decide(BASIC, as_of=AS_OF))
    return path


def ids(path: Path) -> list[str]:
    with DecisionLog(path, create=False) as log:
        return [r.id for r in log.list()]


def test_list_prints_one_line_per_decision_from_decisions_db_by_default(log_path: Path) -> None:
    run = run_cli(["list"])
    assert run.code == 0 and run.stderr == ""
    first, second = ids(log_path)
    lines = run.stdout.splitlines()
    assert len(lines) == 2
    when = r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
    assert re.fullmatch(
        f"{first}  {when}  support [0-9a-f]{{12}}  sla=4h queue=priority perks={{lounge, named_rep}} discount=10.5",
        lines[0],
    ), lines[0]
    assert re.fullmatch(
        f"{second}  {when}  support [0-9a-f]{{12}}  sla=3d queue=general perks={{}} discount=0", lines[1]
    )


def test_list_filters_and_json(log_path: Path) -> None:
    first, second = ids(log_path)
    run = run_cli(["list", "--where", "sla=240m", "--format", "json"])
    assert run.code == 0
    records = json.loads(run.stdout)
    assert [r["id"] for r in records] == [first]
    assert records[0]["facts"]["spend"] == {"$decimal": "10000.50"}
    assert records[0]["fired"] == ["support#1", "big"]
    assert run_cli(["list", "--where", "queue=general"]).stdout.startswith(second)
    assert run_cli(["list", "--limit", "1"]).stdout.startswith(first)
    nothing = run_cli(["list", "--policy", "elsewhere"])
    assert (nothing.code, nothing.stdout, nothing.stderr) == (0, "", "no decisions match\n")
    bad = run_cli(["list", "--since", "last week"])
    assert bad.code == 2 and "error[log-error]: `since` `last week` is not a date" in bad.stderr


def test_the_log_comes_from_the_option_or_the_environment(log_path: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.db"
    log_path.rename(moved)
    missing = run_cli(["list"])
    assert missing.code == 2
    assert missing.stderr.startswith("decisions.db: error[log-error]: no decision log at `decisions.db`")
    assert "= hint: give the log's path with --log or the POLICYLANG_LOG environment variable" in missing.stderr
    assert len(run_cli(["list", "--log", str(moved)]).stdout.splitlines()) == 2
    assert len(run_cli(["list"], env={"POLICYLANG_LOG": str(moved)}).stdout.splitlines()) == 2


def test_show_prints_the_whole_record(log_path: Path) -> None:
    first, second = ids(log_path)
    common = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
    ambiguous = run_cli(["show", first[: max(common, 4)]])
    assert ambiguous.code == 2 and "more than one decision's id starts with" in ambiguous.stderr
    run = run_cli(["show", first[: max(common + 1, 8)]])  # a unique prefix is enough
    assert run.code == 0, run
    lines = run.stdout.splitlines()
    assert lines[0] == f"decision {first}"
    assert "  as of        2026-11-23T10:00:00Z" in lines
    assert "  spend   10000.50 (Decimal)" in lines
    assert '  tenure  "3y"' in lines and '  tags    {"vip"}' in lines
    assert "  sla       4h" in lines and "  perks     {lounge, named_rep}" in lines
    assert "fired: support#1, big" in lines
    assert lines[-2] == "prev hash  " + "0" * 64
    shown = json.loads(run_cli(["show", first, "--format", "json"]).stdout)
    assert shown["id"] == first and shown["outputs"]["sla"] == "4h" and shown["prev_hash"] == "0" * 64
    unknown = run_cli(["show", "01234567-nope"])
    assert unknown.code == 2 and "no decision `01234567-nope` in the log" in unknown.stderr


def test_verify_intact_then_edited_then_truncated(log_path: Path) -> None:
    run = run_cli(["verify"])
    assert run.code == 0, run
    lines = run.stdout.splitlines()
    assert lines[0] == "decisions.db: intact: 2 decisions, 1 policy version"
    head = lines[1].split("hash ")[1]
    assert lines[1] == f"head: record 2, hash {head}"
    assert lines[2].startswith("keep this head hash")
    assert lines[3] == f"  policy log verify --log decisions.db --expect-head 2:{head}"
    as_json = json.loads(run_cli(["verify", "--format", "json"]).stdout)
    assert as_json["ok"] is True and as_json["head"] == head and as_json["count"] == 2

    with sqlite3.connect(log_path) as connection:
        connection.execute("DELETE FROM decisions WHERE seq = 2")
        # whoever cut the record rewrote the head checkpoint the log keeps, too
        connection.execute("UPDATE meta SET value = '1:' || (SELECT hash FROM decisions) WHERE key = 'head'")
    assert run_cli(["verify"]).code == 0  # a shorter chain is whole ...
    cut = run_cli(["verify", "--expect-head", head])  # ... but not the chain the auditor saw
    assert cut.code == 1
    assert "is not in the log: records were removed from its end" in cut.stdout

    with sqlite3.connect(log_path) as connection:
        connection.execute("UPDATE decisions SET fired = '[]' WHERE seq = 1")
    edited = run_cli(["verify", "--format", "json"])
    assert edited.code == 1
    problems = json.loads(edited.stdout)["problems"]
    assert [(p["kind"], p["seq"]) for p in problems] == [("edited", 1)]
    text = run_cli(["verify"]).stdout.splitlines()
    assert text[0].endswith("was edited: its hash does not match its contents")
    assert text[-1] == "decisions.db: 1 problem in 1 decision, 1 policy version"
    assert run_cli(["verify", "--expect-head", "xyz"]).code == 2


def test_verify_in_a_new_process_never_shows_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(os.urandom(4096))
    script = (
        "import sys; from policylang.cli import app, main; from policylang.cli.log import log_command; "
        "app.add_command(log_command); main(sys.argv[1:])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "log", "verify", "--log", "junk.db"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("junk.db: error[log-error]: `junk.db` is not a decision log")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_list_where_an_output_no_decision_has_says_so(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from policylang.cli.log import log_command

    path = tmp_path / "d.db"
    policy = policylang.load("examples/support/support.policy")
    with policylang.open_log(path) as log:
        policy.decide({"tier": "premium", "tenure": "3y", "monthly_spend": 500}, log=log)
    result = CliRunner().invoke(log_command, ["list", "--log", str(path), "--where", "slaa=4h"])
    assert result.exit_code == 0
    assert "note: no recorded decision has an output `slaa`; check its spelling" in result.output
    result = CliRunner().invoke(log_command, ["list", "--log", str(path), "--where", "sla=8h"])
    assert "note:" not in result.output
