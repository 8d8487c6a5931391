"""Which database a decision log's target names: a path or `sqlite:///path` is a SQLite file,
`postgresql://` (or `postgres://`) a PostgreSQL database (storage.py says what each must do)."""

from __future__ import annotations

from pathlib import Path

from .errors import LogError
from .sqlite import SQLiteStorage
from .storage import Storage


def open_storage(target: str | Path, create: bool) -> Storage:
    """The storage a target names. Raises LogError for other URLs and a missing driver."""
    text = str(target)
    if "://" not in text:
        return SQLiteStorage(target, create=create)
    scheme = text.partition("://")[0].lower()
    if scheme == "sqlite" and text[len("sqlite://") :].startswith("/"):
        return SQLiteStorage(text[len("sqlite:///") :], create=create)  # sqlite:////abs/path or sqlite:///rel
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStorage  # deferred: psycopg is optional (the postgres extra)
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
