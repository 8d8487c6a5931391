"""The decision log in a SQLite file (WAL, every commit synced): the file's checks on opening, a
connection per thread, appends serialised across threads and processes, and SQLite's errors in words."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .connections import ThreadConnections
from .errors import LogError, printable
from .schema import check_format, create_tables

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another process's write transaction before giving up (a LogError)."""


class _Session:
    """A SQLite connection as a Session: its cursors already step through rows as they are read."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> sqlite3.Cursor:
        return self._connection.execute(sql, parameters)

    def stream(self, sql: str, parameters: Sequence[Any] = (), /) -> Generator[Sequence[Any], None, None]:
        yield from self._connection.execute(sql, parameters)


def _readable(data: bytes) -> str:
    return data.decode("utf-8", "replace")


class SQLiteStorage:
    """A log's SQLite file, safe for many threads and processes. Each thread gets its own connection, so
    readers never wait for each other; writers in one process queue on a lock (handed over at once), and
    across processes on SQLite's write lock (`BEGIN IMMEDIATE`, waiting up to BUSY_TIMEOUT), which keeps
    the chain linear. `create=False` refuses a missing or empty file instead of starting a new log."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path: Path | None = Path(path)
        self._file = Path(path)
        self.name = str(path)
        self._create = create
        self._write_lock = threading.Lock()
        self._lock_pid = os.getpid()
        self._connections = ThreadConnections(self._open, sqlite3.Connection.close)
        self._closed = False
        self._checked_for_writing = False  # PRAGMA quick_check passed before this handle's first append
        self._check_file()
        self._connection()  # a file that is not a log fails here, not at the first record

    def close(self) -> None:
        self._closed = True
        self._connections.close()

    def _error(self, message: str, hint: str | None = None) -> LogError:
        return LogError(message, hint, self.name)

    # --- sessions ---

    @contextmanager
    def reading(self, doing: str) -> Iterator[_Session]:
        connection = self._connection()
        with self._sqlite(connection, doing):
            yield _Session(connection)

    @contextmanager
    def checking(self, doing: str) -> Iterator[_Session]:
        connection = self._connection()
        with self._sqlite(connection, doing):
            connection.execute("BEGIN")  # one consistent view while writers go on
            self._check_integrity(connection, "PRAGMA integrity_check(10)")
            # Text exactly as stored: bytes that are not UTF-8 become lone surrogates (distinct for distinct
            # bytes), not U+FFFD, so that no change to a stored byte reads as the text it replaced.
            connection.text_factory = lambda data: data.decode("utf-8", "surrogateescape")
            try:
                yield _Session(connection)
            finally:
                connection.text_factory = _readable
            connection.execute("COMMIT")

    @contextmanager
    def appending(self, doing: str) -> Iterator[_Session]:
        connection = self._connection()
        if self._lock_pid != os.getpid():  # forked: the parent's lock may have been held at the fork
            self._write_lock, self._lock_pid = threading.Lock(), os.getpid()
        if not self._checked_for_writing:
            # Appending to a damaged file buries the damage under new records: refused once, before the
            # first append of this handle (quick_check reads every page, but checks no index against its table).
            with self._sqlite(connection, doing):
                self._check_integrity(connection, "PRAGMA quick_check(10)", writing=True)
            self._checked_for_writing = True
        with self._write_lock, self._sqlite(connection, doing):
            connection.execute("BEGIN IMMEDIATE")
            yield _Session(connection)
            connection.execute("COMMIT")

    def _check_integrity(self, connection: sqlite3.Connection, pragma: str, *, writing: bool = False) -> None:
        try:
            damage = [str(row[0]) for row in connection.execute(pragma)]
        except sqlite3.DatabaseError as exc:  # a page so damaged that the check itself stops
            if not (getattr(exc, "sqlite_errorname", "") or "").startswith("SQLITE_CORRUPT"):
                raise
            damage = [str(exc)]
        if damage != ["ok"]:
            lines = [line for row in damage for line in row.splitlines() if not line.startswith("***")]
            hint = "restore the log from a backup (a copy of a log in use must include its `-wal` file)"
            raise self._error(
                f"the file is damaged: {printable('; '.join(lines[:3]))}"
                + ("; no decision is appended to a damaged log" if writing else ""),
                hint + ("; `policy log list` still reads the records it can" if writing else ""),
            )

    # --- opening ---

    def _check_file(self) -> None:
        try:
            self._check_path()
        except ValueError as exc:  # a NUL byte in the path
            raise self._error(f"cannot open `{self.name}`: {exc}", "check the path") from None

    def _check_path(self) -> None:
        name = self.name
        if not name:
            raise self._error("no decision log named", "give the path of a decision log, such as decisions.db")
        if self._file.is_dir():
            raise self._error(f"`{name}` is a folder, not a decision log", "give the path of a file")
        try:
            with self._file.open("rb") as file:
                header = file.read(16)
        except FileNotFoundError:
            if not self._create:
                raise self._error(
                    f"no decision log at `{name}`",
                    "give the log's path with --log or the POLICYLANG_LOG environment variable",
                ) from None
            if not self._file.parent.is_dir():
                raise self._error(
                    f"cannot create the log: the folder `{self._file.parent}` does not exist", "create the folder first"
                ) from None
            return
        except OSError as exc:
            raise self._error(f"cannot read `{name}`: {exc.strerror or exc}", "check the file's permissions") from None
        if not header:
            if not self._create:
                raise self._error(
                    f"`{name}` is empty (0 bytes), not a decision log",
                    "a log cut off to nothing looks like this: restore it from a backup",
                )
            return  # an empty file (say, from mktemp) becomes a new log, as SQLite would have it
        if header != b"SQLite format 3\x00":
            raise self._error(
                f"`{name}` is not a decision log: it is not a SQLite database",
                "check the path; a decision log is the SQLite file that DecisionLog writes",
            )

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise self._error("the decision log is closed", "open it again")
        return self._connections.get()

    def _open(self) -> sqlite3.Connection:
        mode = "rwc" if self._create else "rw"
        try:
            connection = sqlite3.connect(
                f"{self._file.resolve().as_uri()}?mode={mode}",
                uri=True,
                timeout=BUSY_TIMEOUT,
                isolation_level=None,  # transactions are begun explicitly: BEGIN IMMEDIATE to write
                check_same_thread=False,  # only so that close() can close other threads' connections
            )
        except sqlite3.Error as exc:
            raise self._translate(exc, "open the log") from None
        try:
            with self._sqlite(connection, "open the log"):
                # A damaged file can hold bytes that are not UTF-8: read as U+FFFD, so the record fails its
                # hash check (verify names it) instead of the whole read failing.
                connection.text_factory = _readable
                connection.execute("PRAGMA synchronous = FULL")
                self._check_format(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _check_format(self, connection: sqlite3.Connection) -> None:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            if not self._create:
                raise self._error(
                    f"`{self.name}` is an empty SQLite database, not a decision log",
                    "check the path; a log is created when the first decision is recorded",
                )
            connection.execute("PRAGMA journal_mode = WAL")  # stored in the file: readers never block the writer
            connection.execute("BEGIN IMMEDIATE")  # two processes creating one log: the second finds it made
            create_tables(_Session(connection), "INTEGER")
            connection.execute("COMMIT")
            return
        check_format(self.name, "a SQLite database", tables, lambda: self._meta(connection), self._error)

    @staticmethod
    def _meta(connection: sqlite3.Connection) -> dict[str, Any] | None:
        try:
            return {str(k): v for k, v in connection.execute("SELECT key, value FROM meta")}
        except sqlite3.OperationalError:  # a `meta` table with other columns
            return None

    @contextmanager
    def _sqlite(self, connection: sqlite3.Connection, doing: str) -> Iterator[None]:
        """Rolls back an open transaction on any error and turns SQLite's errors into LogErrors."""
        try:
            yield
        except BaseException as exc:
            if connection.in_transaction:
                with suppress(sqlite3.Error):  # the original error says more than a failed rollback
                    connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._translate(exc, doing) from None
            if isinstance(exc, UnicodeDecodeError):  # sqlite3 decodes SQLite's message strictly, and the
                # message about a damaged schema quotes its bytes, which need not be UTF-8
                raise self._error(
                    f"could not {doing}: the file is damaged (SQLite's description of the damage is not UTF-8)",
                    "restore the log from a backup (a copy of a log in use must include its `-wal` file)",
                ) from None
            raise

    def _translate(self, exc: sqlite3.Error, doing: str) -> LogError:
        code = getattr(exc, "sqlite_errorname", "") or ""
        text = printable(str(exc))
        if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
            return self._error(
                f"could not {doing}: another process kept the log locked for over {BUSY_TIMEOUT:.0f} s",
                "a long write transaction holds it (an open `sqlite3` shell?); try again when it has ended",
            )
        if code.startswith("SQLITE_CORRUPT") or "malformed" in text:
            return self._error(
                f"could not {doing}: the file is damaged (SQLite: {text})",
                "restore the log from a backup (a copy of a log in use must include its `-wal` file)",
            )
        if code.startswith("SQLITE_NOTADB"):
            return self._error(
                f"could not {doing}: the file is not a SQLite database ({text})",
                "check the path; if it was a decision log, restore it from a backup",
            )
        if code.startswith("SQLITE_FULL"):
            return self._error(f"could not {doing}: the disk is full", "free some space; nothing was recorded")
        if code.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN", "SQLITE_AUTH")):
            return self._error(
                f"could not {doing}: {text}",
                "check that the file and its folder can be read and written (SQLite writes `-wal` and `-shm` files "
                "next to it)",
            )
        return self._error(
            f"could not {doing}: {text} ({code or type(exc).__name__})",
            "if this keeps happening, please report it with the SQLite message above",
        )
