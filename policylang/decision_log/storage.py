"""What DecisionLog asks of a database, so that SQLite and PostgreSQL share the encoding, the chain,
verify and replay: sessions that run the log's SQL (`?` placeholders) to read, to check one consistent
view, and to append one record at a time (backends.py picks the database from the target)."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol


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
