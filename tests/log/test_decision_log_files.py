"""Files that are not (or no longer) a decision log: each is a LogError with a clear message, and the
`policy log` commands exit 2 with it on stderr, never a traceback; a damaged log is never called intact."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from log_helpers import AS_OF, PREMIUM, run_cli, support_policy

from policylang.decision_log import DecisionLog, LogError


@pytest.fixture
def real_log(tmp_path: Path) -> Path:
    """A closed log of 300 decisions (its write-ahead log folded back into the file), about 230 kB."""
    path = tmp_path / "real.db"
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        for i in range(300):
            facts = {**PREMIUM, "tenure": f"{i + 1}d"}
            log.record(policy, facts, policy.decide(facts, as_of=AS_OF))
    assert not Path(f"{path}-wal").exists()
    return path


def refused(path: Path, message: str) -> LogError:
    """Opening for reading fails with `message`, and so do `policy log list` and `verify` (exit 2)."""
    with pytest.raises(LogError) as caught:
        DecisionLog(path, create=False)
    text = str(caught.value)
    assert text.startswith(f"{path}: error[log-error]: "), text
    assert message in text, text
    for command in ("list", "verify"):
        run = run_cli([command, "--log", str(path)])
        assert run.code == 2, (command, run)
        assert message in run.stderr and run.stdout == ""
    return caught.value


def test_a_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nothing.db", "no decision log at")
    assert not (tmp_path / "nothing.db").exists()  # reading never creates one


def test_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("decisions, to do\n", encoding="utf-8")
    error = refused(path, "is not a decision log: it is not a SQLite database")
    assert error.hint is not None
    assert path.read_text(encoding="utf-8") == "decisions, to do\n"


def test_a_folder(tmp_path: Path) -> None:
    refused(tmp_path, "is a folder, not a decision log")


def test_an_empty_file_is_no_log_to_read_but_becomes_a_new_log_to_write(tmp_path: Path) -> None:
    """A 0-byte file is what a log cut off to nothing looks like: reading refuses it rather than calling
    it an intact empty log. Writing to it starts a new log, as SQLite treats it (mktemp's files)."""
    path = tmp_path / "empty.db"
    path.touch()
    refused(path, "is empty (0 bytes), not a decision log")
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        log.record(policy, PREMIUM, policy.decide(PREMIUM))
    with DecisionLog(path, create=False) as log:
        assert log.verify().count == 1


def test_the_database_of_another_application(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
        connection.execute("CREATE TABLE meta (name TEXT)")  # even a `meta` table of its own
    refused(path, "is a SQLite database but not a policylang decision log (its tables: meta, orders)")
    with pytest.raises(LogError, match="not a policylang decision log"):
        DecisionLog(path)  # nor is it written into
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"orders", "meta"}


def test_an_empty_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "blank.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 1").close()
    refused(path, "is an empty SQLite database, not a decision log")


def test_a_log_of_a_newer_format(real_log: Path) -> None:
    with sqlite3.connect(real_log) as connection:
        connection.execute("UPDATE meta SET value = '999' WHERE key = 'version'")
    error = refused(
        real_log, "was written by a newer policylang (log format version 999; this version reads versions 1 to 2)"
    )
    assert error.hint == "upgrade policylang to read this log"


def test_a_log_with_a_nonsense_version(real_log: Path) -> None:
    with sqlite3.connect(real_log) as connection:
        connection.execute("UPDATE meta SET value = 'x1' WHERE key = 'version'")
    refused(real_log, "has an unknown log format version `x1`")


def test_a_log_cut_to_half_its_size(real_log: Path) -> None:
    data = real_log.read_bytes()
    half = real_log.with_name("half.db")
    half.write_bytes(data[: len(data) // 2])
    refused(half, "the file is damaged")


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_in_the_middle_are_found_or_touched_nothing(real_log: Path, seed: int) -> None:
    """Where the bytes land decides what breaks (an index, a page, a record's text): the log cannot be read
    (exit 2), or verify names the damage (exit 1), or they landed in unused space and every record is
    still exactly what was written (the same head hash over all 300)."""
    with DecisionLog(real_log, create=False) as log:
        before = log.verify()
    damaged = real_log.with_name(f"damaged{seed}.db")
    shutil.copy(real_log, damaged)
    data = bytearray(damaged.read_bytes())
    rng = random.Random(seed)
    start = len(data) // 4 + rng.randrange(len(data) // 2)
    data[start : start + 64] = rng.randbytes(64)
    damaged.write_bytes(bytes(data))
    try:
        with DecisionLog(damaged, create=False) as log:
            report = log.verify()
            records = len(log.list()) if report.ok else None
    except LogError as exc:
        assert "damaged" in str(exc) or "cannot be read" in str(exc), str(exc)
        expected = 2
    else:
        expected = 0 if report.ok else 1
        if report.ok:
            assert (report.count, report.head, records) == (300, before.head, 300)
    run = run_cli(["verify", "--log", str(damaged)])
    assert run.code == expected, run


def test_bytes_changed_inside_a_record_are_an_edit(real_log: Path) -> None:
    """Damage that leaves SQLite's structure whole but changes a record's text shows as that record edited."""
    data = bytearray(real_log.read_bytes())
    at = data.find(b'"tenure":"150d"')
    assert at > 0
    data[at + 10 : at + 13] = b"999"
    real_log.write_bytes(bytes(data))
    with DecisionLog(real_log, create=False) as log:
        assert [(p.kind, p.seq) for p in log.verify().problems] == [("edited", 150)]
    assert run_cli(["verify", "--log", str(real_log)]).code == 1


def test_a_log_locked_by_another_writer_for_too_long(real_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import policylang.decision_log.sqlite as module

    monkeypatch.setattr(module, "BUSY_TIMEOUT", 0.2)
    policy = support_policy(real_log.parent)
    holder = sqlite3.connect(real_log, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with DecisionLog(real_log) as log, pytest.raises(LogError) as caught:
            log.record(policy, PREMIUM, policy.decide(PREMIUM))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "another process kept the log locked" in str(caught.value)
    assert caught.value.hint is not None and "try again" in caught.value.hint


def test_a_full_disk_is_a_log_error_and_records_nothing(real_log: Path) -> None:
    policy = support_policy(real_log.parent)
    with DecisionLog(real_log) as log:
        connection = log._storage._connection()  # type: ignore[attr-defined]  # SQLite's page limit stands in for a full disk: the same SQLITE_FULL
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        connection.execute(f"PRAGMA max_page_count = {pages}")
        big = {**PREMIUM, "tags": {f"tag{i}" for i in range(2000)}}
        with pytest.raises(LogError) as caught:
            log.record(policy, big, policy.decide(big))
        assert "could not record the decision: the disk is full" in str(caught.value)
        assert caught.value.hint == "free some space; nothing was recorded"
        report = log.verify()
    assert report.ok and report.count == 300


def test_the_file_is_a_wal_sqlite_database_with_its_format_named(tmp_path: Path) -> None:
    path = tmp_path / "decisions.db"
    with DecisionLog(path) as log:
        (synchronous,) = log._storage._connection().execute("PRAGMA synchronous").fetchone()  # type: ignore[attr-defined]
        assert synchronous == 2  # FULL: a commit is on disk before record() returns
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    assert meta == {"format": "policylang-decision-log", "version": "2"}  # no record yet: no head checkpoint
