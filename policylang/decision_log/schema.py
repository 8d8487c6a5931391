"""The log's tables and its format marker: what a new log is created with, and the check that an
existing database is a decision log of a format version this policylang reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ErrorFactory

if TYPE_CHECKING:  # a Protocol, for annotations only
    from .storage import Session

FORMAT = "policylang-decision-log"
VERSION = 2
"""The log format this version writes and reads; a newer number is refused, never guessed at. Version 2
hashes each record over its stored text and keeps a head checkpoint; a version 1 log is read as it is
and becomes version 2 with the first record a newer policylang appends (its records verify as before)."""
HEAD_KEY = "head"
"""The `meta` key of the head checkpoint, `SEQ:HASH` of the last record, rewritten with every append."""
HEAD_KEPT = 2
"""The format version from which every append rewrites the head checkpoint."""

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS policies "
    "(hash TEXT PRIMARY KEY, name TEXT NOT NULL, snapshot TEXT NOT NULL, first_seen TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS decisions (seq {integer} PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
    "recorded_at TEXT NOT NULL, as_of TEXT NOT NULL, policy_name TEXT NOT NULL, policy_hash TEXT NOT NULL, "
    "facts TEXT NOT NULL, outputs TEXT NOT NULL, fired TEXT NOT NULL, conflicts TEXT, "
    "prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)",
    "CREATE INDEX IF NOT EXISTS decisions_recorded_at ON decisions (recorded_at)",
)
"""SQL both SQLite and PostgreSQL take. Every value is TEXT, JSON included (not PostgreSQL's jsonb, which
would reorder keys and refuse `\\u0000`): the stored text is exactly what was hashed and what SQLite holds."""


def create_tables(session: Session, integer: str) -> None:
    """Create the tables and mark them as a log of this format; `integer` is the type of `seq`
    (SQLite's INTEGER, its rowid; PostgreSQL's BIGINT)."""
    for statement in _TABLES:
        session.execute(statement.format(integer=integer))
    session.execute(
        "INSERT INTO meta VALUES ('format', ?), ('version', ?) ON CONFLICT DO NOTHING", (FORMAT, str(VERSION))
    )


def upgrade_format(session: Session, error: ErrorFactory) -> None:
    """Inside an append, before it: mark a log of an older format as this version's, so that an older
    policylang refuses it rather than report the records hashed the new way as edited. Raises LogError
    for a log that a newer policylang marked meanwhile."""
    row = session.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    version = str(row[0]) if row else ""
    if version.isdigit() and int(version) > VERSION:
        raise error(
            f"the log was written by a newer policylang (log format version {version}; this version writes "
            f"version {VERSION})",
            "upgrade policylang to write to this log",
        )
    if not version.isdigit() or int(version) < 1:
        raise error(f"the log has an unknown format version `{version}`", "the log was edited or damaged")
    if int(version) < VERSION:
        session.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(VERSION),))


def write_head(session: Session, seq: int, record_hash: str) -> None:
    """The head checkpoint, in the append's transaction: verify reports a chain that no longer reaches it."""
    session.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (HEAD_KEY, f"{seq}:{record_hash}"),
    )


def check_format(
    name: str,
    kind: str,
    tables: set[str],
    read_meta: Callable[[], dict[str, Any] | None],
    error: ErrorFactory,
    *,
    check: str = "check the path",
) -> None:
    """Raise LogError unless a database with these (non-empty) `tables` is a decision log this version
    reads. `kind` says what it is ("a SQLite database"), `check` what to look at first; `read_meta`
    gives the `meta` table, or None when that table has other columns."""
    not_a_log = error(
        f"`{name}` is {kind} but not a policylang decision log (its tables: {', '.join(sorted(tables))})",
        f"{check}; policylang never writes into another application's database",
    )
    meta = read_meta() if "meta" in tables else None
    if meta is None or meta.get("format") != FORMAT:
        raise not_a_log
    version = str(meta.get("version"))
    if not version.isdigit() or int(version) < 1:
        raise error(
            f"`{name}` has an unknown log format version `{version}`",
            "the log was edited or damaged; restore it from a backup",
        )
    if int(version) > VERSION:
        raise error(
            f"`{name}` was written by a newer policylang (log format version {version}; "
            f"this version reads versions 1 to {VERSION})",
            "upgrade policylang to read this log",
        )
    if not {"policies", "decisions"} <= tables:
        raise error(
            f"`{name}` is a damaged decision log: its tables "
            f"{', '.join(sorted({'policies', 'decisions'} - tables))} are missing",
            "restore it from a backup",
        )
