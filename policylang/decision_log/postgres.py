"""The decision log in a PostgreSQL database, for writers on several machines: a connection per thread,
appends serialised by a transaction-scoped advisory lock, one consistent view for verify, and the
server's errors in words (never with the password)."""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

# psycopg 3 rather than psycopg2 or asyncpg: it is the maintained successor of psycopg2, its binary
# wheels bundle libpq (so `pip install 'policylang[postgres]'` needs no compiler or system library),
# and it sends parameters separately from the SQL text (server-side binding), so a fact's text is never
# spliced into a statement.
import psycopg

from .connections import ThreadConnections
from .errors import LogError, printable
from .schema import check_format, create_tables

LOCK_TIMEOUT = "30s"
"""How long a writer waits for another writer's append before giving up (a LogError), unless the
connection sets its own `lock_timeout`."""
CONNECT_TIMEOUT = 10
"""Seconds to wait for the server to answer a connection, unless the URL says `connect_timeout`."""

_LOCK_CLASS = 0x706C6F67  # "plog": the advisory lock's first key; the second is the log's schema
_SETUP = (
    "SELECT current_setting('server_encoding'), current_schema(), "
    "(SELECT oid::int FROM pg_namespace WHERE nspname = current_schema()), "
    # Durable as SQLite's synchronous=FULL: a server or role that turned synchronous_commit off gets
    # it back on for this connection (stricter settings, such as remote_apply, are kept).
    "set_config('synchronous_commit', CASE current_setting('synchronous_commit') WHEN 'off' THEN 'on' "
    "ELSE current_setting('synchronous_commit') END, false), "
    "set_config('lock_timeout', CASE current_setting('lock_timeout') WHEN '0' THEN %s "
    "ELSE current_setting('lock_timeout') END, false), "
    # An append reads the last record after it holds the lock, which needs each statement to see what
    # was committed when it began (READ COMMITTED), whatever the server's default isolation is.
    "set_config('default_transaction_isolation', 'read committed', false)"
)
_CURSOR_NAMES = itertools.count()

Connection = psycopg.Connection[tuple[Any, ...]]


class _Session:
    """A connection as a Session: the log's `?` placeholders become psycopg's `%s`, and `stream`
    reads through a server-side cursor, a few hundred rows at a time."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[tuple[Any, ...]]:
        return self._connection.execute(_placeholders(sql), parameters)

    def stream(self, sql: str, parameters: Sequence[Any] = (), /) -> Generator[Sequence[Any], None, None]:
        with self._connection.cursor(name=f"policylang_{next(_CURSOR_NAMES)}") as cursor:
            cursor.itersize = 500
            cursor.execute(_placeholders(sql), parameters)
            yield from cursor


def _placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresStorage:
    """A log's tables in the first schema of a PostgreSQL database's search_path (`public` unless the
    URL's options say otherwise). Every append takes a transaction-scoped advisory lock on that schema
    before it reads the last record, and holds it until its commit, so the chain stays linear with
    writers on any number of machines; readers take no lock. `create=False` refuses a schema without
    the log's tables instead of creating them."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.path: Path | None = None
        self.name, self._secrets = _shown(url)
        self._create = create
        self._schema = ""
        self._schema_oid = 0
        self._parameters = self._conninfo(url)
        self._connections = ThreadConnections(self._open, psycopg.Connection.close)
        self._closed = False
        try:
            self._check_format(self._connection())  # a database that is not a log fails here
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._closed = True
        self._connections.close()

    def _error(self, message: str, hint: str | None = None) -> LogError:
        return LogError(self._scrub(message), hint, self.name)

    def _scrub(self, text: str) -> str:
        """The text with the password (as written in the URL, or decoded) masked: libpq quotes URLs."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # --- sessions ---

    def reading(self, doing: str) -> AbstractContextManager[_Session]:
        return self._session(doing)

    def checking(self, doing: str) -> AbstractContextManager[_Session]:
        # PostgreSQL checks its own pages (checksums, if the cluster has them) as it reads them; what
        # verify adds is the chain, seen in one snapshot while writers go on.
        return self._session(doing, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def appending(self, doing: str) -> AbstractContextManager[_Session]:
        return self._session(doing, lock=True)

    @contextmanager
    def _session(self, doing: str, begin: str | None = None, *, lock: bool = False) -> Iterator[_Session]:
        connection = self._connection()
        try:
            with connection.transaction():  # committed on leaving (durably), rolled back on any error
                if begin is not None:
                    connection.execute(begin)
                if lock:
                    self._lock(connection)
                yield _Session(connection)
        except psycopg.Error as exc:
            if connection.broken:
                self._connections.discard()
            raise self._translate(exc, doing) from None

    def _lock(self, connection: Connection) -> None:
        # An advisory lock rather than SELECT ... FOR UPDATE on a row: it needs no table, no UPDATE
        # privilege, and no row that an edit could remove. It is taken before the last record is read:
        # under READ COMMITTED each statement sees what was committed when it began, so the read after
        # the lock sees the previous writer's record, which was committed before it let the lock go.
        connection.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, self._schema_oid))

    # --- opening ---

    def _conninfo(self, url: str) -> dict[str, Any]:
        try:
            parameters: dict[str, Any] = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise self._error(
                f"the URL cannot be read: {printable(str(exc).strip())}",
                "write it as postgresql://user:password@host:port/database (a password with @, : or / in "
                "it needs percent-encoding: %40, %3A, %2F)",
            ) from None
        parameters.setdefault("connect_timeout", CONNECT_TIMEOUT)
        parameters.setdefault("application_name", "policylang")
        return parameters

    def _connection(self) -> Connection:
        if self._closed:
            raise self._error("the decision log is closed", "open it again")
        return self._connections.get()

    def _open(self) -> Connection:
        try:
            connection = psycopg.connect(**self._parameters, autocommit=True)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from None
        try:
            row = connection.execute(_SETUP, (LOCK_TIMEOUT,)).fetchone()
            encoding, schema, schema_oid = row[:3] if row else (None, None, None)
            if encoding != "UTF8":
                raise self._error(
                    f"the database's encoding is {encoding}, and a decision log needs UTF8",
                    "give the log a database created WITH ENCODING 'UTF8' (createdb -E UTF8 NAME)",
                )
            if schema is None:
                raise self._error(
                    "no schema of the connection's search_path exists",
                    "create the schema, or name one that exists in the URL (options=-csearch_path%3DNAME)",
                )
            self._schema, self._schema_oid = str(schema), int(schema_oid or 0)
        except psycopg.Error as exc:
            connection.close()
            raise self._translate(exc, "open the log") from None
        except BaseException:
            connection.close()
            raise
        return connection

    def _check_format(self, connection: Connection) -> None:
        try:
            tables = self._tables(connection)
            if not tables:
                if not self._create:
                    raise self._error(
                        f"there is no decision log in the schema `{self._schema}` (it has no tables)",
                        "check the URL's database and search_path; a log is created when the first decision "
                        "is recorded",
                    )
                with connection.transaction():
                    self._lock(connection)  # two processes creating one log: the second finds it made
                    if not self._tables(connection):
                        create_tables(_Session(connection), "BIGINT")
                return
        except psycopg.Error as exc:
            raise self._translate(exc, "open the log") from None
        check_format(
            self.name,
            f"a PostgreSQL schema (`{self._schema}`)",
            tables,
            lambda: self._meta(connection),
            self._error,
            check="check the URL's database and search_path",
        )

    @staticmethod
    def _tables(connection: Connection) -> set[str]:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {str(row[0]) for row in rows}

    def _meta(self, connection: Connection) -> dict[str, Any] | None:
        try:
            return {str(k): v for k, v in connection.execute("SELECT key, value FROM meta")}
        except psycopg.errors.UndefinedColumn:  # a `meta` table with other columns
            return None
        except psycopg.Error as exc:
            raise self._translate(exc, "open the log") from None

    # --- errors ---

    def _connect_error(self, exc: psycopg.Error) -> LogError:
        detail = _detail(self._scrub(printable(str(exc).replace("\n", " ").replace("\t", " ").strip())))
        lowered = detail.lower()
        if "password" in lowered or "authentication" in lowered or ("role" in lowered and "not exist" in lowered):
            return self._error(
                f"cannot connect: the server refused the user or password ({detail})",
                "check the user and password in the URL (or PGPASSWORD, ~/.pgpass)",
            )
        if "database" in lowered and "does not exist" in lowered:
            return self._error(
                f"cannot connect: {detail}", "check the database in the URL, or create it (createdb -E UTF8 NAME)"
            )
        if any(word in lowered for word in ("refused", "resolve", "translate host", "timeout", "no such file")):
            return self._error(
                f"cannot connect to the PostgreSQL server: {detail}",
                "check the host and port in the URL, and that the server is running and accepts connections",
            )
        return self._error(
            f"cannot connect to the PostgreSQL server: {detail}",
            "check the URL: postgresql://user:password@host:port/database",
        )

    def _translate(self, exc: psycopg.Error, doing: str) -> LogError:
        state = exc.sqlstate or ""
        text = self._scrub(printable(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__))
        if isinstance(exc, psycopg.OperationalError) and (state == "" or state.startswith(("08", "57P"))):
            return self._error(
                f"could not {doing}: the connection to the server was lost ({text})",
                "check that the server is running; a decision being recorded just then may or may not have been "
                "committed (`policy log list` shows it if it was)",
            )
        if state == "55P03":
            return self._error(
                f"could not {doing}: another writer kept the log locked for over {LOCK_TIMEOUT}",
                "a long transaction holds the log's lock; try again when it has ended",
            )
        if state == "42501":
            return self._error(
                f"could not {doing}: {text}",
                "grant the database user CREATE on the schema (to create the log), then SELECT and INSERT on "
                "its tables and UPDATE on `meta` (each append moves the head checkpoint kept there)",
            )
        if state in ("42P01", "42703"):
            return self._error(
                f"could not {doing}: the log's tables are damaged or were dropped ({text})",
                "restore the log from a backup",
            )
        if state == "25006":
            return self._error(
                f"could not {doing}: the server is read-only (a standby?)", "give the URL of the primary server"
            )
        if state.startswith("53"):
            return self._error(
                f"could not {doing}: the server is out of resources ({text})", "free some space; nothing was recorded"
            )
        if state == "23505":
            return self._error(
                f"could not {doing}: another writer appended without taking the log's lock ({text})",
                "write to the log only through policylang; `policy log verify` checks the chain",
            )
        return self._error(
            f"could not {doing}: {text}" + (f" (SQLSTATE {state})" if state else ""),
            "if this keeps happening, please report it with the PostgreSQL message above",
        )


def _detail(text: str) -> str:
    """libpq's message without its framing: `connection failed: connection to server at ... failed:`."""
    text = text.removeprefix("connection failed: ").removeprefix("connection is bad: ")
    return " ".join(text.replace("FATAL:", "").split())


def _shown(url: str) -> tuple[str, list[str]]:
    """The URL as messages show it (scheme, user, host, port and database; no password, no options),
    and the password's spellings to mask wherever the server or libpq quote the URL."""
    scheme, _, rest = url.partition("://")
    netloc, _, tail = rest.partition("/")
    database, _, query = tail.partition("?")
    if "?" in netloc:
        netloc, _, query = netloc.partition("?")
    userinfo, at, hostport = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    secrets = [password, unquote(password)] if password else []
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "password":
            secrets += [value, unquote(value)]
    shown = f"{scheme}://{user + '@' if at and user else ''}{hostport}/{database}"
    return shown, sorted({s for s in secrets if s}, key=len, reverse=True)
