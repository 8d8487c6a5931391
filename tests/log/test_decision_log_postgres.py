"""A decision log on PostgreSQL: URLs, what cannot be connected to or is not a log (a clear LogError that
never shows the password), the append lock, durability settings, a lost connection, and the CLI on a URL.
The behaviour shared with SQLite is tested on both in the other files."""

from __future__ import annotations

import json
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from log_helpers import AS_OF, BASIC, NO_POSTGRES, POSTGRES, PREMIUM, raw, rows, run_cli, support_policy

import policylang
from policylang.decision_log import DecisionLog, LogError, open_log

pytest_plugins = ["log_fixtures"]  # postgres_url: a fresh schema on the test server

needs_server = pytest.mark.skipif(not POSTGRES, reason=NO_POSTGRES)


def _refused(url: str, message: str, *, create: bool = False, secret: str = "sekret") -> LogError:
    """Opening fails with `message` and a hint, showing neither `secret` nor the test server's password."""
    with pytest.raises(LogError) as caught:
        open_log(url, create=create)
    text = str(caught.value)
    assert message in text, text
    assert caught.value.hint, text
    for password in (secret, _password(POSTGRES) if POSTGRES else ""):
        assert not password or password not in text, text
    return caught.value


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _password(url: str) -> str:
    return unquote(urlsplit(url).password or "")


def _changed(url: str, *, password: str | None = None, database: str | None = None) -> str:
    """The URL with another password or database."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if password is not None:
        user = parts.username or ""
        netloc = f"{user}:{password}@{netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}" if database else parts.path))


def test_a_missing_driver_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` finds when it is not installed
    monkeypatch.delitem(sys.modules, "policylang.decision_log.postgres", raising=False)
    error = _refused("postgresql://auditor:sekret@db.example/decisions", "a PostgreSQL log needs the psycopg driver")
    assert error.hint == "pip install 'policylang[postgres]'"


def test_a_server_that_is_not_there() -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://auditor:sekret@127.0.0.1:{_free_port()}/decisions"
    error = _refused(url, "cannot connect to the PostgreSQL server")
    assert "Connection refused" in error.message and "check the host and port" in str(error.hint)
    assert str(error).startswith(f"postgresql://auditor@127.0.0.1:{url.split(':')[3]}: error[log-error]")


def test_a_url_that_cannot_be_read_never_shows_its_password() -> None:
    pytest.importorskip("psycopg")
    error = _refused("postgresql://auditor:se%zzkret@127.0.0.1/decisions", "the URL cannot be read", secret="zzkret")
    assert "percent-encoding" in str(error.hint)
    _refused("postgres://auditor@127.0.0.1/db?password=sekret&nonsense=1", "the URL cannot be read")


@needs_server
def test_a_wrong_password_or_user() -> None:
    password = _password(POSTGRES)
    if not password:
        pytest.skip("the test server's URL has no password, so the server does not check one")
    error = _refused(_changed(POSTGRES, password="sekret"), "cannot connect: the server refused the user or password")
    assert "password" in str(error.hint) and password not in str(error)


@needs_server
def test_a_database_that_does_not_exist() -> None:
    url = _changed(POSTGRES, database=f"nosuch_{uuid.uuid4().hex[:8]}")
    error = _refused(url, "does not exist")
    assert "createdb" in str(error.hint)


def test_both_url_schemes_open_the_same_log(postgres_url: str) -> None:
    policy = policylang.compile("if tier == premium then fast", filename="open.policy")
    with open_log(postgres_url) as log:
        decision_id = log.record(policy, PREMIUM, policy.decide(PREMIUM))
        assert log.path is None and "://" in log.name and (_password(postgres_url) or "@") not in log.name.split("@")[0]
    with open_log(postgres_url.replace("postgresql://", "postgres://", 1), create=False) as log:
        assert log.get(decision_id).facts_given()["tier"] == "premium"
    with DecisionLog(postgres_url) as log:  # DecisionLog takes the URL as well
        assert log.head() is not None and log.verify().ok


def test_an_empty_schema_is_no_log_to_read_but_becomes_one_to_write(postgres_url: str) -> None:
    _refused(postgres_url, "there is no decision log in the schema `test_")
    assert rows(postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()") == []
    with open_log(postgres_url) as log:
        assert log.head() is None
    found = rows(postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    assert sorted(t for (t,) in found) == ["decisions", "meta", "policies"]
    seq = (
        "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'seq'"
    )
    assert rows(postgres_url, seq) == [("bigint",)]


def test_the_schema_of_another_application(postgres_url: str) -> None:
    raw(postgres_url, "CREATE TABLE orders (id bigint PRIMARY KEY, total text)", "CREATE TABLE meta (name text)")
    for create in (False, True):
        error = _refused(postgres_url, "but not a policylang decision log (its tables: meta, orders)", create=create)
        assert "is a PostgreSQL schema (`test_" in error.message
        assert "search_path" in str(error.hint) and "never writes into another application's" in str(error.hint)
    assert rows(postgres_url, "SELECT count(*) FROM orders") == [(0,)]  # untouched


def test_a_log_written_by_a_newer_policylang(postgres_url: str) -> None:
    open_log(postgres_url).close()
    raw(postgres_url, "UPDATE meta SET value = '99' WHERE key = 'version'")
    error = _refused(postgres_url, "was written by a newer policylang (log format version 99")
    assert error.hint == "upgrade policylang to read this log"
    raw(postgres_url, "DROP TABLE decisions")
    raw(postgres_url, "UPDATE meta SET value = '1' WHERE key = 'version'")
    _refused(postgres_url, "is a damaged decision log: its tables decisions are missing")


def test_a_search_path_without_a_schema(postgres_url: str) -> None:
    url = postgres_url.replace("search_path%3Dtest_", "search_path%3Dnosuch_", 1)
    _refused(url, "no schema of the connection's search_path exists", create=True)


@needs_server
def test_a_database_not_in_utf8() -> None:
    import psycopg

    name = f"latin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        try:
            connection.execute(
                f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
            )
        except psycopg.Error as exc:
            pytest.skip(f"the test server cannot create a LATIN1 database: {exc}")
        try:
            error = _refused(_changed(POSTGRES, database=name), "the database's encoding is LATIN1", create=True)
            assert "UTF8" in str(error.hint)
        finally:
            connection.execute(f"DROP DATABASE {name}")


def test_synchronous_commit_off_is_turned_back_on(postgres_url: str) -> None:
    """A role or server with synchronous_commit=off would lose acknowledged records in a crash."""
    with open_log(f"{postgres_url}%20-csynchronous_commit%3Doff") as log:
        connection = log._storage._connection()  # type: ignore[attr-defined]
        assert connection.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        assert connection.execute("SHOW lock_timeout").fetchone()[0] == "30s"


@pytest.fixture
def held_lock(postgres_url: str) -> Iterator[str]:
    """The log's append lock, held by another session (as a writer in the middle of an append would)."""
    import psycopg

    from policylang.decision_log.postgres import _LOCK_CLASS

    open_log(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute(
            "SELECT pg_advisory_lock(%s, (SELECT oid::int FROM pg_namespace WHERE nspname = current_schema()))",
            (_LOCK_CLASS,),
        )
        yield postgres_url


def test_an_append_waits_for_the_lock_and_gives_up_in_words(held_lock: str, tmp_path: Path) -> None:
    policy = support_policy(tmp_path)
    with open_log(f"{held_lock}%20-clock_timeout%3D200ms") as log:
        with pytest.raises(LogError) as caught:
            log.record(policy, BASIC, policy.decide(BASIC))
        assert "another writer kept the log locked" in caught.value.message
        assert "try again" in str(caught.value.hint)
        assert log.head() is None and log.list() == []  # reading takes no lock


def test_a_lost_connection_fails_one_call_and_the_next_reconnects(postgres_url: str, tmp_path: Path) -> None:
    policy = support_policy(tmp_path)
    with open_log(postgres_url) as log:
        first = log.record(policy, BASIC, policy.decide(BASIC, as_of=AS_OF))
        (backend,) = log._storage._connection().execute("SELECT pg_backend_pid()").fetchone()  # type: ignore[attr-defined]
        raw(postgres_url, f"SELECT pg_terminate_backend({int(backend)})")  # the server restarting, say
        with pytest.raises(LogError) as caught:
            log.record(policy, BASIC, policy.decide(BASIC, as_of=AS_OF))
        assert "the connection to the server was lost" in caught.value.message
        assert "may or may not have been committed" in str(caught.value.hint)
        second = log.record(policy, BASIC, policy.decide(BASIC, as_of=AS_OF))
        assert [r.id for r in log.list()] == [first, second] and log.verify().ok


def test_the_cli_reads_a_postgres_log_and_never_prints_the_password(postgres_url: str, tmp_path: Path) -> None:
    policy = support_policy(tmp_path)
    with open_log(postgres_url) as log:
        decision_id = log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
    password = _password(postgres_url) or "@@"
    listed = run_cli(["list", "--log", postgres_url])
    assert listed.code == 0 and listed.stdout.startswith(decision_id), listed
    shown = run_cli(["show", decision_id, "--format", "json"], env={"POLICYLANG_LOG": postgres_url})
    assert shown.code == 0 and json.loads(shown.stdout)["facts"]["spend"] == {"$decimal": "10000.50"}
    verified = run_cli(["verify", "--log", postgres_url])
    assert verified.code == 0 and "intact: 1 decision, 1 policy version" in verified.stdout
    assert verified.stdout.startswith("postgresql://")
    raw(postgres_url, "UPDATE decisions SET fired = '[]'")
    edited = run_cli(["verify", "--log", postgres_url])
    assert edited.code == 1 and "was edited: its hash does not match its contents" in edited.stdout
    missing = run_cli(["show", "0000", "--log", postgres_url])
    assert missing.code == 2 and "no decision `0000` in the log" in missing.stderr
    for run in (listed, shown, verified, edited, missing):
        assert password not in run.stdout + run.stderr


def test_appends_stay_linear_whatever_the_servers_default_isolation(postgres_url: str) -> None:
    """Under REPEATABLE READ a writer would read the last record from before it took the lock."""
    import threading

    from log_helpers import record_many

    url = f"{postgres_url}%20-cdefault_transaction_isolation%3Drepeatable%5C%20read"
    open_log(url).close()
    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda n=n: results.append(record_many(url, 25, f"h{n}"))) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open_log(url, create=False) as log:
        report = log.verify()
        assert log._storage._connection().execute("SHOW transaction_isolation").fetchone()[0] == "read committed"  # type: ignore[attr-defined]
    assert report.ok and report.count == 100 == len({i for ids in results for i in ids})
