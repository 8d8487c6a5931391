"""What DecisionLog asks of a database, so that SQLite and PostgreSQL share the encoding, the chain,
verify and replay: sessions that run the log's SQL (`?` placeholders) to read, to check one consistent
view, and to append one record at a time; and `open_storage`, which picks the backend from the target."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from .errors import LogError


class Cursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Session(Protocol):
    """One connection, inside whatever transaction the storage began for it."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        """Run one statement; its rows are fetched at once."""
        ...

    def stream(self, sql: str, parameters: Sequence[Any] = (), /) -> Generator[Sequence[Any], None, None]:
        """Run one query and give its rows as they are read (a whole log need not fit in memory)."""
        ...


class Storage(Protocol):
    """A decision log's database; every method raises LogError for the database's errors, in words."""

    name: str
    """How messages and reports name the log: a path, or a URL without its password."""
    path: Path | None
    """The SQLite file; None for a server's database."""

    def reading(self, doing: str) -> AbstractContextManager[Session]:
        """A session to read in; `doing` ("read the log") goes into error messages."""
        ...

    def checking(self, doing: str) -> AbstractContextManager[Session]:
        """A session with one consistent view of the whole log while writers go on, after the
        database's own integrity check (a damaged database raises LogError)."""
        ...

    def appending(self, doing: str) -> AbstractContextManager[Session]:
        """A session that no other writer, in any thread, process or machine, appends alongside: the
        last record it reads stays the last until it commits, which happens (durably) on leaving it."""
        ...

    def close(self) -> None:
        """Close every connection; the storage cannot be used afterwards."""
        ...


def open_storage(target: str | Path, create: bool) -> Storage:
    """The storage a target names: a path or `sqlite:///path` is a SQLite file, `postgresql://` (or
    `postgres://`) a PostgreSQL database. Raises LogError for other URLs and a missing driver."""
    text = str(target)
    if "://" not in text:
        from .sqlite import SQLiteStorage

        return SQLiteStorage(target, create=create)
    scheme = text.partition("://")[0].lower()
    if scheme == "sqlite" and text[len("sqlite://") :].startswith("/"):
        from .sqlite import SQLiteStorage

        return SQLiteStorage(text[len("sqlite:///") :], create=create)  # sqlite:////abs/path or sqlite:///rel
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStorage
        except ImportError as exc:  # the URL may hold a password: it is not repeated in the message
            if exc.name and not exc.name.startswith("psycopg"):
                raise
            raise LogError(
                f"a PostgreSQL log needs the psycopg driver, which cannot be imported ({exc})",
                "pip install 'policylang[postgres]'",
            ) from None
        return PostgresStorage(text, create=create)
    raise LogError(
        f"`{scheme}://` is not a kind of decision log",
        "give the path of a SQLite file, or a postgresql://user:password@host/database URL",
    )
