"""The decision log in a SQLite file (WAL, every commit synced): opening and checking the file, one
connection per thread, appends serialised across threads and processes, and SQLite's errors in words."""

from __future__ import annotations

import builtins
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .errors import LogError, printable
from .schema import FORMAT, SCHEMA, VERSION, check_format

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another process's write transaction before giving up (a LogError)."""


class _Connection(sqlite3.Connection):
    """A connection that can be referred to weakly: one whose thread has ended is closed when its
    thread-local reference goes, so a server that starts a thread per request keeps no open files."""


class SQLiteFile:
    """The SQLite file under a DecisionLog: its checks on opening, a connection per thread (opened again
    after a fork), and `_sqlite`, which rolls back on errors and puts SQLite's errors in words."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self._name = str(path)
        self._create = create
        self._pid = os.getpid()
        self._local = threading.local()
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._registry = threading.Lock()
        self._write_lock = threading.Lock()
        self._stored_policies: set[str] = set()
        self._closed = False
        self._check_file()
        self._connection()  # a file that is not a log fails here, not at the first record

    def __repr__(self) -> str:
        return f"DecisionLog({self._name!r})"

    def close(self) -> None:
        """Close every thread's connection; the log cannot be used afterwards."""
        self._closed = True
        with self._registry:
            connections, self._connections = builtins.list(self._connections), weakref.WeakSet()
        if os.getpid() == self._pid:  # a forked child must not close its parent's connections
            for connection in connections:
                connection.close()

    def _error(self, message: str, hint: str | None = None) -> LogError:
        return LogError(message, hint, self._name)

    # --- opening ---

    def _check_file(self) -> None:
        try:
            self._check_path()
        except ValueError as exc:  # a NUL byte in the path
            raise self._error(f"cannot open `{self._name}`: {exc}", "check the path") from None

    def _check_path(self) -> None:
        name = self._name
        if not name:
            raise self._error("no decision log named", "give the path of a decision log, such as decisions.db")
        if self.path.is_dir():
            raise self._error(f"`{name}` is a folder, not a decision log", "give the path of a file")
        try:
            with self.path.open("rb") as file:
                header = file.read(16)
        except FileNotFoundError:
            if not self._create:
                raise self._error(
                    f"no decision log at `{name}`",
                    "give the log's path with --log or the POLICYLANG_LOG environment variable",
                ) from None
            if not self.path.parent.is_dir():
                raise self._error(
                    f"cannot create the log: the folder `{self.path.parent}` does not exist", "create the folder first"
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
        if os.getpid() != self._pid:  # forked: SQLite connections must not cross a fork
            self._pid = os.getpid()
            self._local = threading.local()
            self._connections = weakref.WeakSet()
            self._registry = threading.Lock()
            self._write_lock = threading.Lock()
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
            with self._registry:
                self._connections.add(connection)
        return connection

    def _open(self) -> _Connection:
        mode = "rwc" if self._create else "rw"
        try:
            connection = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={mode}",
                uri=True,
                timeout=BUSY_TIMEOUT,
                isolation_level=None,  # transactions are begun explicitly: BEGIN IMMEDIATE to write
                check_same_thread=False,  # only so that close() can close other threads' connections
                factory=_Connection,
            )
        except sqlite3.Error as exc:
            raise self._translate(exc, "open the log") from None
        try:
            with self._sqlite(connection, "open the log"):
                # A damaged file can hold bytes that are not UTF-8: read as U+FFFD, so the record fails its
                # hash check (verify names it) instead of the whole read failing.
                connection.text_factory = lambda data: data.decode("utf-8", "replace")
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
                    f"`{self._name}` is an empty SQLite database, not a decision log",
                    "check the path; a log is created when the first decision is recorded",
                )
            connection.execute("PRAGMA journal_mode = WAL")  # stored in the file: readers never block the writer
            connection.execute("BEGIN IMMEDIATE")  # two processes creating one log: the second finds it made
            for statement in SCHEMA:
                connection.execute(statement)
            connection.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?), ('version', ?)", (FORMAT, VERSION))
            connection.execute("COMMIT")
            return
        check_format(self._name, "a SQLite database", tables, lambda: self._meta(connection), self._error)

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
