"""Issue 12, the decision log's readers and what prints facts and values: H2 (one hostile fact blinds the
log's readers), M6 (lone surrogate escapes), L4 (terminal escapes), L7 (--since overflow) and --where
values no output can have. Each test runs the issue's own reproduction, through a real `policy` process
where printing is what failed (its stdout is strict UTF-8, as on a terminal)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policylang
from policylang import FactsError
from policylang.decision_log import DecisionLog
from policylang.engine.facts import MAX_FACT_DEPTH

ROOT = Path(__file__).resolve().parents[2]

ECHO = 'input { s: string }\noutput { note: string }\nif s != "" then note = s\n'
"""The issue's policy: its output is the fact as given."""
SCHEMALESS = 'output { note: string }\nif s != "" then note = "x"\n'
"""No input block: any fact is accepted, and recorded as given."""


def policy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "policylang", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        cwd=cwd,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    assert "Traceback" not in result.stdout + result.stderr and "internal-error" not in result.stderr, result.stderr
    return result


def nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def record_unchecked(log: DecisionLog, policy_: policylang.Policy, facts: dict[str, Any]) -> str:
    """A record as policylang wrote it before this fix, when `decide` took facts no reader could show:
    the decision is made without the facts check, then recorded as usual (a valid chain)."""
    decision = policy_._decide_validated(dict(facts), datetime.now(UTC), True)
    return log.record(policy_, facts, decision)


@pytest.fixture
def echo(tmp_path: Path) -> Path:
    (tmp_path / "echo.policy").write_text(ECHO)
    (tmp_path / "good.json").write_text('{"s": "hello"}')
    (tmp_path / "bad.json").write_text('{"s": "\\udc00"}')
    return tmp_path


# --- H2 (1): facts that cannot be stored faithfully are refused before deciding or recording ----------------


def test_h2_a_lone_surrogate_fact_is_refused_and_the_log_stays_readable(echo: Path) -> None:
    first = policy("eval", "echo.policy", "--input", "good.json", "--log", "d.db", cwd=echo)
    bad = policy("eval", "echo.policy", "--input", "bad.json", "--log", "d.db", cwd=echo)
    last = policy("eval", "echo.policy", "--input", "good.json", "--log", "d.db", cwd=echo)
    assert first.returncode == last.returncode == 0
    assert bad.returncode == 2 and bad.stdout == ""
    assert "error[facts-error]: fact `s`: the text at `s` holds a lone surrogate `\\udc00`" in bad.stderr
    assert "hint: facts are Unicode text" in bad.stderr
    listed = policy("log", "list", "--log", "d.db", cwd=echo)
    assert listed.returncode == 0
    assert [line.split()[-1] for line in listed.stdout.splitlines()] == ["note=hello", "note=hello"]
    verified = policy("log", "verify", "--log", "d.db", cwd=echo)
    assert verified.returncode == 0 and "intact: 2 decisions" in verified.stdout


def test_h2_a_deeply_nested_unknown_fact_is_refused_before_recording(tmp_path: Path) -> None:
    (tmp_path / "free.policy").write_text(SCHEMALESS)
    (tmp_path / "deep.json").write_text(json.dumps({"s": "y", "deep": nested(300)}))
    result = policy("eval", "free.policy", "--input", "deep.json", "--log", "d.db", cwd=tmp_path)
    assert result.returncode == 2 and "decision id" not in result.stdout
    # the facts reader refuses it first (its place in the file); decide() refuses it too (below)
    assert "deep.json:1:" in result.stderr and "error[limit-exceeded]" in result.stderr
    assert f"nest deeper than {MAX_FACT_DEPTH} levels" in result.stderr
    with DecisionLog(tmp_path / "d.db") as log:
        assert log.head() is None


@pytest.mark.parametrize(
    ("source", "unknown_facts", "facts", "fact", "message"),
    [
        (ECHO, "reject", {"s": "ok\ud800"}, "s", "the text at `s` holds a lone surrogate `\\ud800`"),
        (ECHO, "ignore", {"s": "ok", "extra": ["a", {"b": "\udfff"}]}, "extra", "the text at `extra[1].b`"),
        (SCHEMALESS, "reject", {"s": "y", "meta": {"k\udc80": 1}}, "meta", 'the text at `meta["k\\udc80"]`'),
        (SCHEMALESS, "reject", {"s": "y", "deep": nested(MAX_FACT_DEPTH + 1)}, "deep", "more than 100 levels deep"),
        (SCHEMALESS, "reject", {"s": "y", "sets": [frozenset({"\udc00"})]}, "sets", "lone surrogate"),
    ],
)
def test_h2_decide_refuses_facts_no_log_or_printer_could_hold(
    tmp_path: Path, source: str, unknown_facts: str, facts: dict[str, Any], fact: str, message: str
) -> None:
    compiled = policylang.compile(source, "p.policy", unknown_facts=unknown_facts)
    with DecisionLog(tmp_path / "d.db") as log:
        with pytest.raises(FactsError) as caught:
            compiled.decide(facts, log=log)
        assert log.head() is None  # refused before deciding, so nothing was recorded
    (problem,) = caught.value.problems
    assert problem.fact == fact and message in problem.message
    assert caught.value.diagnostics[0].code == "facts-error"


def test_h2_a_fact_that_contains_itself_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(FactsError, match="more than 100 levels deep"):
        policylang.compile(SCHEMALESS, "p.policy").decide({"s": "y", "loop": loop})


def test_h2_facts_nested_at_the_limit_are_decided_and_recorded(tmp_path: Path) -> None:
    compiled = policylang.compile(SCHEMALESS, "p.policy")
    facts = {"s": "y", "deep": nested(MAX_FACT_DEPTH), "text": "héllo \U0001f600"}
    with DecisionLog(tmp_path / "d.db") as log:
        decision = compiled.decide(facts, log=log)
        assert log.get(decision.id or "").facts_given() == facts


# --- H2 (3): every reader survives one record it cannot decode or print -------------------------------


def test_h2_readers_survive_a_lone_surrogate_record_written_before_the_fix(echo: Path) -> None:
    compiled = policylang.load(echo / "echo.policy")
    with DecisionLog(echo / "d.db") as log:
        compiled.decide({"s": "hello"}, log=log)
        poisoned = record_unchecked(log, compiled, {"s": "\udc00"})
        last = compiled.decide({"s": "bye"}, log=log).id
    listed = policy("log", "list", "--log", "d.db", cwd=echo)
    assert listed.returncode == 0
    assert [line.split()[-1] for line in listed.stdout.splitlines()] == [
        "note=hello",
        'note="\\u{dc00}"',
        "note=bye",
    ]  # quoted: it holds an escape
    as_json = policy("log", "list", "--log", "d.db", "--format", "json", cwd=echo)
    assert as_json.returncode == 0
    assert [r["outputs"]["note"] for r in json.loads(as_json.stdout)] == ["hello", "\udc00", "bye"]
    shown = policy("log", "show", poisoned, "--log", "d.db", cwd=echo)
    assert shown.returncode == 0 and '  s  "\\udc00"' in shown.stdout
    explained = policy("explain", "--decision", str(last), "--log", "d.db", cwd=echo)
    assert explained.returncode == 0 and "note = bye" in explained.stdout
    refused = policy("explain", "--decision", poisoned, "--log", "d.db", cwd=echo)
    assert refused.returncode == 2 and f"decision {poisoned}" in refused.stderr and "lone surrogate" in refused.stderr


def test_h2_readers_report_an_undecodable_record_by_number_and_id_and_go_on(echo: Path) -> None:
    compiled = policylang.load(echo / "echo.policy")
    with DecisionLog(echo / "d.db") as log:
        ids = [compiled.decide({"s": word}, log=log).id for word in ("one", "two", "three")]
    with sqlite3.connect(echo / "d.db") as db:
        db.execute("UPDATE decisions SET outputs = '{not json' WHERE seq = 2")
    listed = policy("log", "list", "--log", "d.db", cwd=echo)
    assert listed.returncode == 2
    assert [line.split()[-1] for line in listed.stdout.splitlines()] == ["note=one", "note=three"]
    assert f"error[log-error]: record 2 (id {ids[1]}) cannot be read: " in listed.stderr
    as_json = policy("log", "list", "--log", "d.db", "--format", "json", cwd=echo)
    assert as_json.returncode == 2 and f"record 2 (id {ids[1]})" in as_json.stderr
    assert [r["id"] for r in json.loads(as_json.stdout)] == [ids[0], ids[2]]
    with DecisionLog(echo / "d.db") as log:
        records = log.list()
        assert [r.id for r in records] == [ids[0], ids[2]]
        assert [(bad.seq, bad.id) for bad in records.unreadable] == [(2, ids[1])]
    verified = policy("log", "verify", "--log", "d.db", cwd=echo)
    assert verified.returncode == 1 and "record 2" in verified.stdout


def test_h2_a_record_nested_deeper_than_json_reads_is_reported_and_the_others_listed(tmp_path: Path) -> None:
    compiled = policylang.compile(SCHEMALESS, "free.policy")
    with DecisionLog(tmp_path / "d.db") as log:
        ids = [compiled.decide({"s": "y"}, log=log).id for _ in range(3)]
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    with sqlite3.connect(tmp_path / "d.db") as db:
        db.execute("UPDATE decisions SET facts = ? WHERE seq = 2", ('{"s": ' + deep + "}",))
    listed = policy("log", "list", "--log", "d.db", cwd=tmp_path)
    assert listed.returncode == 2 and [line.split()[0] for line in listed.stdout.splitlines()] == [ids[0], ids[2]]
    assert f"record 2 (id {ids[1]}) cannot be read: maximum recursion depth exceeded" in listed.stderr
    verified = policy("log", "verify", "--log", "d.db", cwd=tmp_path)
    assert verified.returncode == 1 and f"record 2 (id {ids[1]}) was edited or damaged" in verified.stdout


def test_h2_a_record_nested_deeper_than_pydantic_serializes_is_still_shown_as_json(tmp_path: Path) -> None:
    compiled = policylang.compile(SCHEMALESS, "free.policy")
    with DecisionLog(tmp_path / "d.db") as log:
        deep = record_unchecked(log, compiled, {"s": "y", "deep": nested(300)})
    as_json = policy("log", "list", "--log", "d.db", "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)[0]["facts"]["deep"] == nested(300)
    shown = policy("log", "show", deep, "--log", "d.db", "--format", "json", cwd=tmp_path)
    assert shown.returncode == 0 and json.loads(shown.stdout)["facts"]["deep"] == nested(300)


# --- M6: lone surrogate escapes in a policy ----------------------------------------------------------------


def test_m6_a_lone_surrogate_escape_is_a_syntax_error_at_the_escape(tmp_path: Path) -> None:
    (tmp_path / "s.policy").write_text('output { note: string }\nif s != "" then note = "a\\u{D800}b"\n')
    result = policy("check", "s.policy", cwd=tmp_path)
    assert result.returncode == 1
    assert "s.policy:2:26: error[syntax-error]: `\\u{D800}` is not a Unicode scalar value" in result.stdout
    assert (
        "^^^^^^^^" in result.stdout and "hint: D800 to DFFF are the halves of UTF-16 surrogate pairs" in result.stdout
    )


# --- L4: control characters from policies, facts and records ------------------------------------------------


def test_l4_control_characters_in_facts_and_because_texts_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "b.policy").write_text(
        'input { s: string }\noutput { note: string }\nrule r: if s != "" then note = s because "x\\u{1b}[2J\\nforged"\n'
    )
    hostile = "a\x1b[31mRED\nforged\x9b\x7f"
    (tmp_path / "esc.json").write_text(json.dumps({"s": hostile}))
    text = policy("eval", "b.policy", "--input", "esc.json", "--log", "d.db", cwd=tmp_path)
    as_json = policy("eval", "b.policy", "--input", "esc.json", "--format", "json", cwd=tmp_path)
    explained = policy("explain", "b.policy", "--input", "esc.json", cwd=tmp_path)
    listed = policy("log", "list", "--log", "d.db", cwd=tmp_path)
    decision_id = listed.stdout.split()[0]
    shown = policy("log", "show", decision_id, "--log", "d.db", cwd=tmp_path)
    for run in (text, as_json, explained, listed, shown):
        assert run.returncode == 0
        assert not any(ch in run.stdout for ch in "\x1b\x9b\x7f"), run.stdout
    assert '  note  "a\\u{1b}[31mRED\\nforged\\u{9b}\\u{7f}"  <- r' in text.stdout
    assert json.loads(as_json.stdout)["outputs"]["note"] == hostile
    assert 'because "x\\u{1b}[2J\\nforged"' in explained.stdout
    assert len(listed.stdout.splitlines()) == 1 and listed.stdout.rstrip().endswith(
        'note="a\\u{1b}[31mRED\\nforged\\u{9b}\\u{7f}"'
    )
    assert '  s  "a\\u001b[31mRED\\nforged\\u009b\\u007f"' in shown.stdout  # facts as JSON writes them


def test_l4_a_policy_file_name_with_control_characters_is_refused(tmp_path: Path) -> None:
    name = "ev\x1b[31mil\nx.policy"
    (tmp_path / name).write_text(ECHO)
    for command in ("check", "eval"):
        result = policy(command, name, cwd=tmp_path)
        assert result.returncode == 2
        said = result.stdout + result.stderr  # check reports on stdout, eval on stderr
        assert "error[io-error]: the path `ev\\u{1b}[31mil\\u{a}x.policy` holds control characters" in said
        assert "\x1b" not in result.stdout + result.stderr


# --- L7: --since and --until past the calendar ---------------------------------------------------------------


@pytest.mark.parametrize(("option", "value"), [("--since", "3000y"), ("--until", "99999999999y")])
def test_l7_a_duration_reaching_before_the_year_1_is_a_usage_error_that_says_the_range(
    echo: Path, option: str, value: str
) -> None:
    policy("eval", "echo.policy", "--input", "good.json", "--log", "d.db", cwd=echo)
    result = policy("log", "list", "--log", "d.db", option, value, cwd=echo)
    assert result.returncode == 2
    assert f"error[log-error]: `{option[2:]}` `{value}` ago is before the year 1" in result.stderr
    assert "a duration reaches back at most to 0001-01-01" in result.stderr


# --- --where with a value the output cannot have ---------------------------------------------------------------


def test_where_with_a_value_the_output_cannot_have_says_so(tmp_path: Path) -> None:
    (tmp_path / "w.policy").write_text(
        "input { tier: enum(basic, premium) }\n"
        "output {\n    sla: duration = 8h\n    queue: enum(general, priority, urgent) = general\n}\n"
        "if tier == premium then sla = 4h, queue = priority\n"
    )
    policy("eval", "w.policy", "--set", "tier=premium", "--log", "d.db", cwd=tmp_path)
    banana = policy("log", "list", "--log", "d.db", "--where", "sla=banana", cwd=tmp_path)
    assert "note: output `sla` cannot be `banana`: it is a duration" in banana.stderr
    misspelt = policy("log", "list", "--log", "d.db", "--where", "queue=priorty", cwd=tmp_path)
    assert (
        "note: output `queue` cannot be `priorty`: its values are general, priority, urgent; did you mean `priority`?"
        in misspelt.stderr
    )
    possible = policy("log", "list", "--log", "d.db", "--where", "queue=urgent", cwd=tmp_path)
    assert "note:" not in possible.stderr and "no decisions match" in possible.stderr


def test_h2_a_recorded_decision_that_cannot_be_shown_still_gets_its_id_reported(
    echo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defence in depth: whatever fails while printing, a decision already in the log is reported by id.
    from click.testing import CliRunner

    from policylang.cli import evaluate, main

    def broken(*args: object) -> str:
        raise ValueError("cannot render")

    monkeypatch.setattr(evaluate, "render_decision", broken)
    monkeypatch.chdir(echo)
    with CliRunner().isolation() as (out, err, _), pytest.raises(SystemExit) as exited:
        main(["eval", "echo.policy", "--input", "good.json", "--log", "d.db"])
    with DecisionLog(echo / "d.db") as log:
        (record,) = log.list()
    assert exited.value.code == 2 and out.getvalue() == b""
    assert f"decision {record.id} was recorded in the log, but the decision cannot be shown" in err.getvalue().decode()


def test_l4_check_escapes_control_characters_quoted_from_the_policy(tmp_path: Path) -> None:
    (tmp_path / "q.policy").write_text(
        'output { note: string }\nif s != "" then note = "x" "a\x1b[2Jb\x9b"\nif "q\x1b[31m" then note = "y"\n',
        encoding="utf-8",
    )
    text = policy("check", "q.policy", cwd=tmp_path)
    as_json = policy("check", "q.policy", "--format", "json", cwd=tmp_path)
    for run in (text, as_json):
        assert run.returncode == 1 and not any(ch in run.stdout for ch in "\x1b\x9b"), run.stdout
    assert 'found `"a\\u{1b}[2Jb\\u{9b}"`' in text.stdout and 'but `"q\\u{1b}[31m"` is a string' in text.stdout
    messages = [d["message"] for d in json.loads(as_json.stdout)["diagnostics"]]
    assert any('"a\x1b[2Jb\x9b"' in message for message in messages)  # JSON keeps the exact text


def test_h2_a_recorded_decision_that_cannot_be_explained_still_gets_its_id_reported(
    echo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from policylang.cli import explain, main

    def broken(*args: object) -> None:
        raise ValueError("cannot render")

    monkeypatch.setattr(explain, "_write", broken)
    monkeypatch.chdir(echo)
    with CliRunner().isolation() as (out, err, _), pytest.raises(SystemExit) as exited:
        main(["explain", "echo.policy", "--input", "good.json", "--log", "d.db"])
    with DecisionLog(echo / "d.db") as log:
        (record,) = log.list()
    assert exited.value.code == 2 and out.getvalue() == b""
    assert f"decision {record.id} was recorded in the log, but it cannot be explained" in err.getvalue().decode()


_TEXT = st.text(alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x1b\n\x9b")))
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12,
)


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_VALUES)
def test_h2_any_fact_is_refused_or_recorded_read_back_and_shown_on_one_line(tmp_path: Path, value: Any) -> None:
    from policylang.cli.log import _list_line, _render_record

    compiled = policylang.compile(SCHEMALESS, "free.policy")
    facts = {"s": "y", "given": value}
    with DecisionLog(tmp_path / "d.db") as log:
        before = log.head()
        try:
            decision = compiled.decide(facts, log=log)
        except FactsError as exc:
            assert _has_surrogate(value) and "lone surrogate" in str(exc)
            assert log.head() == before  # nothing recorded
            return
        assert not _has_surrogate(value)
        record = log.get(decision.id or "")
    assert record.facts_given() == facts
    line = _list_line(record)
    shown = _render_record(record, record.facts_given())
    for text in (line, shown):
        assert not any(ch in text for ch in "\x1b\x9b")
    assert "\n" not in line and len(shown.splitlines()) == 13  # one line per field: nothing forged a line
