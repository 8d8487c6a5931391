"""Fuzzing the decision log's readers (`policy log list|show|verify`, `policy explain --decision`, and
`DecisionLog.list/get/verify/replay`) with real logs that were then damaged: columns of records set
to any text, records deleted or renumbered, the stored policy or the format marker edited, bytes
of the file overwritten. Every reader says what is wrong or reads what is there, never an internal
error, a traceback or a hang; and `verify` reports every edit of a record (issue 12: "a recorded
decision is never lost or altered")."""

from __future__ import annotations

import contextlib
import functools
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from fuzz_harness import ROOT, FuzzFailure, api, cli, fuzz_settings, tolerating_known_open
from fuzz_inputs import byte_edits, log_edits
from hypothesis import given
from hypothesis import strategies as st

import policylang

FACTS = (
    {"tier": "premium", "tenure": "3y", "monthly_spend": 500},
    {"tier": "key", "tenure": "1y", "monthly_spend": "10_000.50", "tags": ["vip", "b c"], "vip": True},
    {"tier": "basic", "tenure": "P2M", "monthly_spend": 0, "region": "uk", "past_complaints": 4},
)


@functools.cache
def _base_log() -> tuple[bytes, tuple[str, ...], str]:
    """A real log of three decisions of examples/support: its bytes, the decisions' ids, its head hash."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "decisions.db"
        with policylang.open_log(path) as log:
            policy = policylang.load(ROOT / "examples" / "support" / "support.policy", log=log)
            ids = tuple(policy.decide(facts, as_of="2026-01-31T09:00:00Z").id or "" for facts in FACTS)
            head = log.head()
        assert head is not None
        return path.read_bytes(), ids, head[1]


def _dump(path: Path) -> list[Any]:
    """What a record is: every table but `policies.first_seen` (when a version was first used, which
    is not part of any decision and which no hash covers)."""
    with sqlite3.connect(path) as connection:
        return [
            row
            for query in (
                "SELECT * FROM meta ORDER BY 1",
                "SELECT hash, name, snapshot FROM policies ORDER BY 1",
                "SELECT * FROM decisions ORDER BY 1",
            )
            for row in connection.execute(query)
        ]


_SINCE = ("24h", "2026-01-31", "3000y", "99999999999d", "9999-12-31T23:59:59Z", "0001-01-01", "\x1b[2J", "-1d", "")


def read_everywhere(folder: Path, ids: tuple[str, ...], head: str, data: st.DataObject, changed: bool) -> None:
    """Every reader of the log, through the CLI and the API. When the records were `changed`,
    `policy log verify --expect-head` with the head the log had must say so (the head also catches
    records removed from the end). A hostile `--since` comes last: a failure ends the example, and
    the readers after it would go untried."""
    the_id = data.draw(st.sampled_from((*ids, ids[0][:20], "nope", "\x1b[31m", "")))
    since = data.draw(st.sampled_from(_SINCE))
    verified = cli(["log", "verify", "--log", "decisions.db", "--expect-head", head], cwd=folder)
    if changed and verified.code == 0:
        raise FuzzFailure("an edited log verifies as intact", verified.output[-1500:])
    cli(["log", "verify", "--log", "decisions.db"], cwd=folder)
    cli(["log", "list", "--log", "decisions.db"], cwd=folder)
    cli(["log", "show", the_id, "--log", "decisions.db"], cwd=folder)
    cli(["log", "show", the_id, "--log", "decisions.db", "--format", "json"], cwd=folder)
    cli(["explain", "--decision", the_id, "--log", "decisions.db", "--format", "json"], cwd=folder)
    opened = api("open_log", lambda: policylang.open_log(folder / "decisions.db", create=False))
    if opened.value is not None:
        with opened.value as log:
            api("log.get", lambda: log.get(the_id).facts_given())
            api("log.verify", log.verify)
            api("log.replay", lambda: log.replay(the_id))
            api("log.list", lambda: log.list(since=since or None))
    cli(["log", "list", "--log", "decisions.db", "--format", "json", "--since", since, "--where", "sla=4h"], cwd=folder)


@fuzz_settings(short=30, long=2000)
@given(log_edits(), st.data())
def test_a_log_edited_row_by_row(edits: list[tuple[str, tuple[Any, ...]]], data: st.DataObject) -> None:
    content, ids, head = _base_log()
    with tempfile.TemporaryDirectory() as tmp, tolerating_known_open(edits):
        folder = Path(tmp)
        path = folder / "decisions.db"
        path.write_bytes(content)
        before = _dump(path)
        with sqlite3.connect(path) as connection:
            for statement, parameters in edits:
                # a UNIQUE or NOT NULL column may refuse the edit: the log stays as it was
                with contextlib.suppress(sqlite3.IntegrityError):
                    connection.execute(statement, parameters)
        read_everywhere(folder, ids, head, data, changed=_dump(path) != before)


@fuzz_settings(short=15, long=1000)
@given(st.data())
def test_a_log_with_bytes_overwritten(data: st.DataObject) -> None:
    content, ids, head = _base_log()
    edits = data.draw(byte_edits(len(content)))
    with tempfile.TemporaryDirectory() as tmp, tolerating_known_open(edits):
        folder = Path(tmp)
        damaged = bytearray(content)
        for offset, replacement in edits:
            damaged[offset : offset + len(replacement)] = replacement
        (folder / "decisions.db").write_bytes(bytes(damaged[: len(content)]))
        read_everywhere(folder, ids, head, data, changed=False)  # the file may not even open: not judged


def test_the_base_log_is_intact() -> None:
    """The log the fuzzers damage verifies before they do (else their findings would mean nothing)."""
    content, ids, head = _base_log()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "decisions.db").write_bytes(content)
        run = cli(["log", "verify", "--log", "decisions.db"], cwd=folder)
        assert run.code == 0, run.output
        assert "intact: 3 decisions" in run.output
        assert f"hash {head}" in run.output
        assert all(ids)
        shutil.copy(folder / "decisions.db", folder / "copy.db")
        listed = cli(["log", "list", "--log", "copy.db"], cwd=folder)
        assert [line.split()[0] for line in listed.stdout.splitlines()] == list(ids)
