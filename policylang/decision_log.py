"""The decision log: each decision with its facts and policy version, in SQLite, chained by hashes so that an
edited, removed or reordered record is found by `verify`, and any record can be replayed later."""

from __future__ import annotations

import builtins
import hashlib
import json
import math
import os
import secrets
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from .facts import MISSING
from .values import (
    Duration,
    ValueParseError,
    format_datetime,
    format_duration,
    parse_date_literal,
    parse_datetime_literal,
    parse_decimal_literal,
    parse_duration_literal,
    parse_int_literal,
    parse_string_literal,
)

if TYPE_CHECKING:  # the evaluator (networkx, 0.3 s) is imported when a decision is replayed, not to list
    from .evaluator import Decision, Policy

FORMAT = "policylang-decision-log"
VERSION = 1
"""The log format this version writes and reads; a newer number is refused, never guessed at."""
GENESIS = "0" * 64
"""The `prev_hash` of the first record."""
BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another process's write transaction before giving up (a LogError)."""

_FIELDS = ("seq", "id", "recorded_at", "as_of", "policy_name", "policy_hash", "facts", "outputs", "fired", "conflicts")
"""What a record's hash covers, besides the hash before it."""
_COLUMNS = (*_FIELDS, "prev_hash", "hash")
_JSON_COLUMNS = ("facts", "outputs", "fired", "conflicts")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM decisions"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS policies "
    "(hash TEXT PRIMARY KEY, name TEXT NOT NULL, snapshot TEXT NOT NULL, first_seen TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS decisions (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
    "recorded_at TEXT NOT NULL, as_of TEXT NOT NULL, policy_name TEXT NOT NULL, policy_hash TEXT NOT NULL, "
    "facts TEXT NOT NULL, outputs TEXT NOT NULL, fired TEXT NOT NULL, conflicts TEXT, "
    "prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)",
    "CREATE INDEX IF NOT EXISTS decisions_recorded_at ON decisions (recorded_at)",
)


class LogError(Exception):
    """A decision log that cannot be opened, read or written: what happened, and a hint what to do."""

    def __init__(self, message: str, hint: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}error[log-error]: {self.message}" + (f"\n  = hint: {self.hint}" if self.hint else "")


# --- facts exactly as given: JSON with tagged values --------------------------------------------


class _Unrecordable(Exception):
    pass


def encode_value(value: Any) -> Any:
    """A Python value as JSON; values JSON lacks become one-key objects (`{"$decimal": "10.50"}`) that
    `decode_value` turns back into equal values of the same type. Raises _Unrecordable otherwise."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
    if isinstance(value, str | int):  # str and int subclasses (enums) are recorded as their plain value
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        zone = value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
        return {"$datetime": value.isoformat() + (f"[{zone}]" if zone else "")}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, clock_time):
        return {"$time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Duration):
        return {"$duration": [value.months, value.seconds]}
    if value is MISSING:
        return {"$missing": True}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v) for v in value]}
    if isinstance(value, set | frozenset):
        items = sorted((encode_value(v) for v in value), key=_canonical)  # one text for one set
        return {"$frozenset" if isinstance(value, frozenset) else "$set": items}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise _Unrecordable(f"a {kind.__name__} with keys that are not text")
        encoded = {k: encode_value(v) for k, v in value.items()}
        # A user's object that looks like a tag ({"$date": ...}) is wrapped, so it decodes as itself.
        return {"$object": encoded} if len(encoded) == 1 and next(iter(encoded)).startswith("$") else encoded
    raise _Unrecordable(f"a {kind.__name__} value")


def _decode_datetime(text: str) -> datetime:
    text, _, zone = text.partition("[")
    moment = datetime.fromisoformat(text)
    if not zone:
        return moment
    local = moment.replace(tzinfo=ZoneInfo(zone.rstrip("]")))
    return local if local.utcoffset() == moment.utcoffset() else local.replace(fold=1)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$decimal": Decimal,
    "$float": float,
    "$datetime": _decode_datetime,
    "$date": date.fromisoformat,
    "$time": clock_time.fromisoformat,
    "$timedelta": lambda v: timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "$duration": lambda v: Duration(int(v[0]), int(v[1])),
    "$missing": lambda v: MISSING,
    "$tuple": lambda v: tuple(decode_value(x) for x in v),
    "$set": lambda v: {decode_value(x) for x in v},
    "$frozenset": lambda v: frozenset(decode_value(x) for x in v),
    "$object": lambda v: {k: decode_value(x) for k, x in v.items()},
}


def decode_value(value: Any) -> Any:
    """The inverse of `encode_value`. Raises ValueError (or TypeError) for JSON it did not write."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key.startswith("$"):
                if key not in _DECODERS:
                    raise ValueError(f"unknown tag `{key}`")
                return _DECODERS[key](inner)
        return {k: decode_value(v) for k, v in value.items()}
    return value


_FACT_HINT = (
    "give facts as JSON values, Decimal, date, datetime, time, timedelta, Duration, lists, tuples, sets "
    "or dicts with text keys"
)


def _encode_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(facts, Mapping):
        raise LogError(
            f"facts must be a mapping of names to values, not {type(facts).__name__}",
            "record the facts given to `decide`",
        )
    encoded = {}
    for name, value in facts.items():
        if not isinstance(name, str):
            raise LogError(f"the fact name {name!r} is not text", hint="fact names are strings")
        try:
            encoded[name] = encode_value(value)
        except _Unrecordable as exc:
            raise LogError(f"the fact `{name}` holds {exc}, which the log cannot record", _FACT_HINT) from None
        except RecursionError:
            raise LogError(
                f"the fact `{name}` is nested too deeply (or contains itself) to record", _FACT_HINT
            ) from None
        except ValueError as exc:  # an int too long for JSON text, inside a set
            raise LogError(f"the fact `{name}` cannot be recorded: {exc}", _FACT_HINT) from None
    return encoded


def _facts_column(given: dict[str, Any]) -> str | None:
    """The facts' column; a value JSON cannot write (an int of over 4,300 digits) is a LogError naming its fact."""
    try:
        return _column(given)
    except (ValueError, RecursionError):
        for name, value in given.items():
            try:
                _column(value)
            except (ValueError, RecursionError) as exc:
                raise LogError(f"the fact `{name}` cannot be recorded: {exc}", _FACT_HINT) from None
        raise


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _column(value: Any) -> str | None:
    """JSON for a column, in the caller's order (the hash sorts); text with lone surrogates (which SQLite
    cannot store as UTF-8) is escaped."""
    if value is None:
        return None
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text


def _printable(text: str, limit: int = 300) -> str:
    """SQLite's message without control characters (it may quote a damaged file's bytes), cut short."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(body)).encode("utf-8", "surrogatepass")).hexdigest()


# --- ids: UUIDv7 (48-bit milliseconds, then random), increasing within a process and along the log --


class _Ids:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = (0, 0)  # (milliseconds, the 74 random bits)

    def next(self, ms: int, after: str | None) -> str:
        """A new id later than the last one this process made and than `after` (the log's last id)."""
        with self.lock:
            floor = max(self.last, _id_parts(after)) if after else self.last
            candidate = (ms, secrets.randbits(74))
            if candidate <= floor:  # same millisecond, or the clock went back: count up from the floor
                candidate = (floor[0], floor[1] + 1) if floor[1] + 1 < 1 << 74 else (floor[0] + 1, 0)
            self.last = candidate
        ms, rand = candidate
        value = ms << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
        return str(uuid.UUID(int=value))

    def forget(self) -> None:
        """After fork: a fresh lock (the parent's may be held) and no shared position."""
        self.lock = threading.Lock()
        self.last = (0, 0)


def _id_parts(text: str) -> tuple[int, int]:
    value = uuid.UUID(text).int
    return value >> 80, ((value >> 64) & 0xFFF) << 62 | (value & ((1 << 62) - 1))


_IDS = _Ids()
os.register_at_fork(after_in_child=_IDS.forget)


def _timestamp(moment: datetime) -> str:
    """Fixed width (microseconds always shown), so that text order is time order in SQL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the records ------------------------------------------------------------------------------


class LoggedDecision(BaseModel):
    """One record of the log, JSON decoded; `facts` is the stored form (tagged JSON), `facts_given()`
    the facts as the caller gave them."""

    model_config = ConfigDict(frozen=True)

    seq: int
    id: str
    recorded_at: datetime
    as_of: datetime
    policy_name: str
    policy_hash: str
    facts: dict[str, Any]
    outputs: dict[str, Any]
    fired: tuple[str, ...]
    conflicts: dict[str, Any] | None
    prev_hash: str
    hash: str

    def facts_given(self) -> dict[str, Any]:
        """The facts as given to `record`: Decimals, dates, sets and tuples are themselves again.
        Raises LogError for stored facts this module did not write."""
        try:
            decoded: dict[str, Any] = decode_value(self.facts)
        except (ValueError, TypeError, LookupError, AttributeError, OverflowError) as exc:
            raise LogError(
                f"the facts of record {self.seq} (id {self.id}) cannot be decoded: {exc}",
                "the log was edited or damaged; `policy log verify` says more",
            ) from None
        return decoded


ProblemKind = Literal["missing", "edited", "out-of-order", "unlinked", "policy", "truncated"]


class Problem(BaseModel):
    """One thing `verify` found, in plain words, with the record or policy it concerns."""

    model_config = ConfigDict(frozen=True)

    kind: ProblemKind
    message: str
    seq: int | None = None
    id: str | None = None
    policy: str | None = None


class VerifyReport(BaseModel):
    """What `verify` found: every problem, the number of records, and the head (last record's) hash."""

    model_config = ConfigDict(frozen=True)

    path: str
    count: int
    head_seq: int | None
    head: str | None
    policies: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Replay:
    """A recorded decision made again with its stored policy, facts and time; `differences` is empty
    when the replay agrees with the record."""

    record: LoggedDecision
    policy: Policy
    decision: Decision
    differences: builtins.list[str]

    @property
    def reproduced(self) -> bool:
        return not self.differences


class _Connection(sqlite3.Connection):
    """A connection that can be referred to weakly: one whose thread has ended is closed when its
    thread-local reference goes, so a server that starts a thread per request keeps no open files."""


@dataclass
class _Row:
    """What verify keeps of the previous record."""

    seq: int
    id: str
    hash: str
    moved: bool  # found out of order: the next record's link is not checked against it


# --- the log ---------------------------------------------------------------------------------


class DecisionLog:
    """A decision log in a SQLite file (WAL, every commit synced), safe for many threads and processes.

    Each thread gets its own connection, so readers never wait for each other; writers in one
    process queue on a lock (handed over at once), and across processes on SQLite's write lock
    (`BEGIN IMMEDIATE`, waiting up to BUSY_TIMEOUT), which keeps the chain linear. `create=False`
    (for commands that only read) refuses a missing or empty file instead of starting a new log.

    >>> with DecisionLog("decisions.db") as log:  # doctest: +SKIP
    ...     decision_id = log.record(policy, facts, policy.decide(facts))
    """

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

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?), ('version', ?)", (FORMAT, VERSION))
            connection.execute("COMMIT")
            return
        not_a_log = self._error(
            f"`{self._name}` is a SQLite database but not a policylang decision log "
            f"(its tables: {', '.join(sorted(tables))})",
            "check the path; policylang never writes into another application's database",
        )
        if "meta" not in tables:
            raise not_a_log
        try:
            meta = {str(k): v for k, v in connection.execute("SELECT key, value FROM meta")}
        except sqlite3.OperationalError:  # a `meta` table with other columns
            raise not_a_log from None
        if meta.get("format") != FORMAT:
            raise not_a_log
        version = str(meta.get("version"))
        if not version.isdigit() or int(version) < 1:
            raise self._error(
                f"`{self._name}` has an unknown log format version `{version}`",
                "the file was edited or damaged; restore it from a backup",
            )
        if int(version) > VERSION:
            raise self._error(
                f"`{self._name}` was written by a newer policylang (log format version {version}; "
                f"this version reads version {VERSION})",
                "upgrade policylang to read this log",
            )
        if not {"policies", "decisions"} <= tables:
            raise self._error(
                f"`{self._name}` is a damaged decision log: its tables "
                f"{', '.join(sorted({'policies', 'decisions'} - tables))} are missing",
                "restore it from a backup",
            )

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
        text = _printable(str(exc))
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

    # --- writing ---

    def record(self, policy: Policy, facts: Mapping[str, Any], decision: Decision) -> str:
        """Store one decision (and its policy's texts, once per version); returns its id once committed
        to disk. Raises LogError, for example for a fact value the log cannot record."""
        if decision.policy_hash != policy.content_hash:
            raise self._error(
                "the decision was made by another policy (or another version of it)",
                "record a decision together with the policy that made it",
            )
        shape = decision.to_dict()
        try:
            given = _encode_facts(facts)
            columns = {name: _column(shape.get(name)) for name in ("outputs", "fired", "conflicts")}
            columns["facts"] = _facts_column(given)
        except LogError as exc:
            raise self._error(exc.message, exc.hint) from None
        except (ValueError, RecursionError) as exc:  # an output JSON cannot hold (an infinite number)
            raise self._error(
                f"the decision cannot be recorded: {exc}", "its outputs must be values JSON can hold"
            ) from None
        stored = policy.content_hash in self._stored_policies
        snapshot = None if stored else _column(policy.snapshot())
        connection = self._connection()
        with self._write_lock, self._sqlite(connection, "record the decision"):
            connection.execute("BEGIN IMMEDIATE")
            last = connection.execute("SELECT seq, id, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
            now = datetime.now(UTC)
            try:
                decision_id = _IDS.next(int(now.timestamp() * 1000), last[1] if last else None)
            except ValueError:
                raise self._error(
                    f"the last record's id `{last[1]}` is not an id: the log was edited",
                    "run `policy log verify`",
                ) from None
            body = {
                "seq": last[0] + 1 if last else 1,
                "id": decision_id,
                "recorded_at": _timestamp(now),
                "as_of": shape["as_of"],
                "policy_name": decision.policy_name,
                "policy_hash": decision.policy_hash,
                "facts": given,
                "outputs": shape["outputs"],
                "fired": shape["fired"],
                "conflicts": shape.get("conflicts"),
            }
            prev_hash = last[2] if last else GENESIS
            if snapshot is not None:
                connection.execute(
                    "INSERT OR IGNORE INTO policies VALUES (?, ?, ?, ?)",
                    (policy.content_hash, policy.name, snapshot, body["recorded_at"]),
                )
            values = [columns[c] if c in columns else body[c] for c in _FIELDS]
            connection.execute(
                f"INSERT INTO decisions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                [*values, prev_hash, _chain_hash(prev_hash, body)],
            )
            connection.execute("COMMIT")
        self._stored_policies.add(policy.content_hash)
        return decision_id

    # --- reading ---

    def _decoded(self, row: Sequence[Any]) -> LoggedDecision:
        data = dict(zip(_COLUMNS, row, strict=True))
        try:
            for column in _JSON_COLUMNS:
                data[column] = None if data[column] is None else json.loads(data[column])
            return LoggedDecision.model_validate(data)
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            raise self._error(
                f"record {data['seq']} (id {data['id']}) cannot be read: {str(exc).splitlines()[0]}",
                "the file was edited or damaged; `policy log verify` says more",
            ) from None

    def get(self, decision_id: str) -> LoggedDecision:
        """The record with this id (or the only one whose id starts with it). Raises LogError if none."""
        connection = self._connection()
        wanted = decision_id.strip().lower()
        with self._sqlite(connection, "read the log"):
            rows = connection.execute(f"{_SELECT} WHERE id = ?", (wanted,)).fetchall()
            if not rows and len(wanted) >= 4:
                query = f"{_SELECT} WHERE substr(id, 1, ?) = ? ORDER BY seq LIMIT 2"
                rows = connection.execute(query, (len(wanted), wanted)).fetchall()
        if len(rows) > 1:
            raise self._error(f"more than one decision's id starts with `{decision_id}`", "give more of the id")
        if not rows:
            raise self._error(f"no decision `{decision_id}` in the log", "`policy log list` shows the recorded ids")
        return self._decoded(rows[0])

    def list(
        self,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        policy: str | None = None,
        where: Sequence[str] = (),
        limit: int | None = None,
    ) -> builtins.list[LoggedDecision]:
        """Records in log order, recorded in [since, until) (a time, a date, or a duration such as `24h`
        meaning that long ago), of a policy (its name, or a prefix of its hash), whose outputs match
        every `where` (`sla=4h`: the output equals the value as the language writes it; a set output
        contains it), at most `limit` of them."""
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if since is not None:
            clauses.append("recorded_at >= ?")
            params.append(self._moment(since, "since"))
        if until is not None:
            clauses.append("recorded_at < ?")
            params.append(self._moment(until, "until"))
        if policy:
            clauses.append("(policy_name = ? OR substr(policy_hash, 1, ?) = ?)")
            params += [policy, len(policy), policy.lower()]
        if limit is not None and limit < 0:
            raise self._error(f"the limit must be 0 or more, not {limit}", "leave it out for every record")
        matches = _where_matcher(where, self._error)
        sql = _SELECT + (f" WHERE {' AND '.join(clauses)}" if clauses else "") + " ORDER BY seq"
        found: builtins.list[LoggedDecision] = []
        connection = self._connection()
        with self._sqlite(connection, "read the log"):
            cursor = connection.execute(sql, params)
            while limit is None or len(found) < limit:
                row = cursor.fetchone()
                if row is None:
                    break
                record = self._decoded(row)
                if matches(record.outputs):
                    found.append(record)
        return found

    def _moment(self, value: datetime | str, name: str) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise self._error(f"`{name}` {value.isoformat()} has no time zone", "give an aware datetime")
            return _timestamp(value)
        text = value.strip()
        for parse in (parse_datetime_literal, parse_date_literal, parse_duration_literal):
            try:
                parsed = parse(text)
            except ValueError:
                continue
            if isinstance(parsed, Duration):
                return _timestamp(datetime.now(UTC) - timedelta(seconds=parsed.total_seconds))
            if not isinstance(parsed, datetime):
                parsed = datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
            return _timestamp(parsed)
        raise self._error(
            f"`{name}` `{value}` is not a date, a time or a duration",
            "write 2026-11-23, 2026-11-23T10:00:00Z, or 24h for a day ago",
        )

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last record, None for an empty log. An auditor who keeps the hash can later
        prove with `verify(expect_head=...)` that no record was cut off the end."""
        connection = self._connection()
        with self._sqlite(connection, "read the log"):
            row = connection.execute("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def policy_snapshot(self, policy_hash: str) -> dict[str, Any]:
        """The stored texts of a policy version (`policylang.compile_snapshot` compiles them)."""
        connection = self._connection()
        with self._sqlite(connection, "read the log"):
            row = connection.execute("SELECT snapshot FROM policies WHERE hash = ?", (policy_hash,)).fetchone()
        if row is None:
            raise self._error(f"no stored policy with hash {policy_hash[:12]}", "run `policy log verify`")
        try:
            snapshot = json.loads(row[0])
            if not isinstance(snapshot, dict):
                raise TypeError("not an object")
        except (ValueError, TypeError) as exc:
            raise self._error(
                f"the stored policy {policy_hash[:12]} cannot be read ({exc})", "run `policy log verify`"
            ) from None
        return snapshot

    # --- checking ---

    def verify(self, expect_head: str | None = None) -> VerifyReport:
        """Check the whole log: the file's integrity, seqs contiguous from 1, every record's hash and link
        to the one before, every stored policy's hash, and (given a head hash kept from an earlier
        verify) that it is still in the chain. A damaged file raises LogError; what was changed is listed."""
        if expect_head is not None:
            expect_head = expect_head.strip().lower()
            if len(expect_head) != 64 or any(c not in "0123456789abcdef" for c in expect_head):
                raise self._error(f"`{expect_head}` is not a head hash", "a head hash is 64 hex digits")
        connection = self._connection()
        problems: builtins.list[Problem] = []
        with self._sqlite(connection, "verify the log"):
            connection.execute("BEGIN")  # one consistent view while writers go on
            damage = [str(row[0]) for row in connection.execute("PRAGMA integrity_check(10)")]
            if damage != ["ok"]:
                lines = [line for row in damage for line in row.splitlines() if not line.startswith("***")]
                raise self._error(
                    f"the file is damaged: {_printable('; '.join(lines[:3]))}",
                    "restore the log from a backup (a copy of a log in use must include its `-wal` file)",
                )
            previous: _Row | None = None
            count = 0
            for row in connection.execute(f"{_SELECT} ORDER BY seq"):
                count += 1
                found = self._check_record(connection, row, previous)
                problems += found
                moved = any(p.kind == "out-of-order" and p.seq == row[0] for p in found)
                previous = _Row(int(row[0]), str(row[1]), str(row[11]), moved)
            problems += self._check_policies(connection)
            policies = int(connection.execute("SELECT count(*) FROM policies").fetchone()[0])
            if (
                expect_head is not None
                and connection.execute("SELECT 1 FROM decisions WHERE hash = ?", (expect_head,)).fetchone() is None
            ):
                problems.append(
                    Problem(
                        kind="truncated",
                        message=f"the head you kept ({expect_head[:12]}…) is not in the log: records were removed "
                        "from its end, or it was rewritten",
                    )
                )
            connection.execute("COMMIT")
        return VerifyReport(
            path=self._name,
            count=count,
            head_seq=previous.seq if previous else None,
            head=previous.hash if previous else None,
            policies=policies,
            problems=tuple(problems),
        )

    def _check_record(
        self, connection: sqlite3.Connection, row: Sequence[Any], previous: _Row | None
    ) -> builtins.list[Problem]:
        seq, record_id, prev_hash, stored = row[0], row[1], row[10], row[11]
        label = f"record {seq} (id {record_id})"

        def problem(kind: ProblemKind, message: str, at: int = seq) -> Problem:
            return Problem(kind=kind, message=message, seq=at, id=str(record_id) if at == seq else None)

        found = []
        expected = previous.seq + 1 if previous else 1
        gap = seq != expected
        if gap and isinstance(seq, int) and seq > expected:
            which = f"record {expected} is" if seq == expected + 1 else f"records {expected} to {seq - 1} are"
            where = f"the chain jumps from {previous.seq} to {seq}" if previous else f"the chain starts at {seq}"
            found.append(problem("missing", f"{which} missing: {where}", expected))
        try:
            body = dict(zip(_FIELDS, row[:-2], strict=True))
            for column in _JSON_COLUMNS:
                body[column] = None if body[column] is None else json.loads(body[column])
            matches = _chain_hash(prev_hash, body) == stored
        except (ValueError, TypeError):
            return [*found, problem("edited", f"{label} was edited or damaged: it cannot be read")]
        if not matches:
            moved_from = self._recorded_seq(connection, body, prev_hash, stored)
            if moved_from is not None:
                found.append(
                    problem("out-of-order", f"{label} is out of order: it was recorded as record {moved_from}")
                )
            else:
                found.append(problem("edited", f"{label} was edited: its hash does not match its contents"))
        elif previous is not None and previous.moved:
            pass  # its link is to where the moved record was: already reported
        elif not gap and prev_hash != (previous.hash if previous else GENESIS):
            before = f"record {seq - 1}" if previous else "the start of the log"
            found.append(
                problem(
                    "unlinked",
                    f"{label} does not link to {before}: its prev_hash is not that record's hash "
                    "(a record was rewritten, replaced or inserted)",
                )
            )
        elif previous is not None and str(record_id) <= previous.id:
            found.append(problem("out-of-order", f"records {previous.seq} and {seq} are out of order by their ids"))
        return found

    def _recorded_seq(
        self, connection: sqlite3.Connection, body: dict[str, Any], prev_hash: str, stored: str
    ) -> int | None:
        """The seq a record was written with, if only its seq changed (a moved record)."""
        linked = connection.execute("SELECT seq FROM decisions WHERE hash = ?", (prev_hash,)).fetchone()
        candidates = {body["seq"] - 1, body["seq"] + 1, (linked[0] if linked else 0) + 1}
        for seq in sorted(candidates - {body["seq"]}):
            if _chain_hash(prev_hash, {**body, "seq": seq}) == stored:
                return int(seq)
        return None

    def _check_policies(self, connection: sqlite3.Connection) -> builtins.list[Problem]:
        from .facade import PolicyError, compile_snapshot

        found = []
        for policy_hash, name, text in connection.execute("SELECT hash, name, snapshot FROM policies"):
            label = f"the stored policy {name} ({str(policy_hash)[:12]})"
            try:
                compiled = compile_snapshot(json.loads(text), unknown_facts="ignore")
            except PolicyError as exc:
                message = (
                    f"{label} does not compile: it was edited, or this version of policylang refuses it ({exc.args[0]})"
                )
                found.append(Problem(kind="policy", message=message, policy=policy_hash))
                continue
            except (ValueError, TypeError, AttributeError):
                found.append(
                    Problem(kind="policy", message=f"{label} was edited: it cannot be read", policy=policy_hash)
                )
                continue
            if compiled.content_hash != policy_hash:
                message = f"{label} was edited: its texts do not match its hash"
                found.append(Problem(kind="policy", message=message, policy=policy_hash))
            elif compiled.name != name:
                message = f"{label} was edited: its texts name it `{compiled.name}`"
                found.append(Problem(kind="policy", message=message, policy=policy_hash))
        orphans = connection.execute(
            "SELECT policy_hash, min(seq), count(*) FROM decisions WHERE policy_hash NOT IN "
            "(SELECT hash FROM policies) GROUP BY policy_hash ORDER BY min(seq)"
        )
        for policy_hash, seq, count in orphans:
            more = f" and {count - 1} more" if count > 1 else ""
            message = f"record {seq}{more} refer to policy {str(policy_hash)[:12]}, whose stored texts are missing"
            found.append(Problem(kind="policy", message=message, seq=seq, policy=policy_hash))
        return found

    def replay(self, decision_id: str) -> Replay:
        """Decide a record again with its stored policy version, facts and `as_of`, and compare. Raises
        LogError when the stored policy no longer compiles or the facts no longer validate."""
        from .facade import PolicyError, compile_snapshot
        from .facts import FactsError
        from .runtime import EvaluationError

        record = self.get(decision_id)
        label = f"decision {record.id} ({record.policy_name}, {record.policy_hash[:12]})"
        try:
            # "ignore": the original policy either ignored unknown facts or the facts had none
            policy = compile_snapshot(self.policy_snapshot(record.policy_hash), unknown_facts="ignore")
        except PolicyError as exc:
            raise self._error(
                f"the policy of {label} no longer compiles with this version of policylang: {exc.args[0]}",
                "replay it with the policylang version that recorded it",
            ) from None
        if policy.content_hash != record.policy_hash:
            raise self._error(
                f"the stored policy of {label} does not match its hash: the log was edited", "run `policy log verify`"
            )
        try:
            decision = policy.decide(record.facts_given(), as_of=record.as_of, on_conflict="mark")
        except LogError as exc:
            raise self._error(exc.message, exc.hint) from None
        except FactsError as exc:
            raise self._error(
                f"the facts of {label} no longer fit its policy with this version of policylang: {exc}",
                "replay it with the policylang version that recorded it",
            ) from None
        except EvaluationError as exc:
            raise self._error(
                f"{label} cannot be replayed: {exc}", "replay it with the policylang version that recorded it"
            ) from None
        return Replay(record, policy, decision, _differences(record, decision.to_dict()))


def _differences(record: LoggedDecision, replayed: dict[str, Any]) -> builtins.list[str]:
    found = []
    before, after = record.outputs, replayed["outputs"]
    for name in [*before, *(n for n in after if n not in before)]:
        old = _canonical(before[name]) if name in before else "no value"
        new = _canonical(after[name]) if name in after else "no value"
        if old != new:
            found.append(f"output `{name}`: recorded {old}, replayed {new}")
    if list(record.fired) != replayed["fired"]:
        found.append(f"fired: recorded {_canonical(list(record.fired))}, replayed {_canonical(replayed['fired'])}")
    if _canonical(record.conflicts) != _canonical(replayed.get("conflicts")):
        found.append(
            f"conflicts: recorded {_canonical(record.conflicts)}, replayed {_canonical(replayed.get('conflicts'))}"
        )
    return found


# --- where: outputs compared as the language writes them ----------------------------------------


def _where_matcher(items: Sequence[str], error: Callable[[str, str], LogError]) -> Callable[[dict[str, Any]], bool]:
    wanted: builtins.list[tuple[str, set[str]]] = []
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise error(f"`{item}` is not `output=value`", "write for example sla=4h or queue=priority")
        wanted.append((name.strip(), {raw.strip(), _normalised(raw.strip())}))

    def matches(outputs: dict[str, Any]) -> bool:
        for name, texts in wanted:
            if name not in outputs:
                return False
            value = outputs[name]
            values = value if isinstance(value, builtins.list) else [value]
            if not any(_as_text(v) in texts for v in values):
                return False
        return True

    return matches


def _normalised(text: str) -> str:
    """A value as the language writes it: `240m` -> `4h`, `10_000` -> `10000`, `"a"` -> `a`; else the text."""
    from .evaluator import to_json_value

    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return parse_string_literal(text)
        except ValueParseError:
            return text
    parsers: tuple[Callable[[str], Any], ...] = (
        parse_duration_literal,
        parse_int_literal,
        parse_decimal_literal,
        parse_datetime_literal,
        parse_date_literal,
    )
    for parse in parsers:
        try:
            value = parse(text)
        except ValueError:
            continue
        if isinstance(value, Duration):
            return format_duration(value)
        if isinstance(value, datetime):
            return format_datetime(value)
        return _as_text(to_json_value(value))
    return text


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return _canonical(value)


def open_log(target: str | Path, *, create: bool = True) -> DecisionLog:
    """The decision log at a path (or a `sqlite:///path` URL). Raises LogError for a log that cannot be
    opened, and for database URLs this version cannot use."""
    text = str(target)
    if "://" in text:
        scheme = text.partition("://")[0].lower()
        if scheme == "sqlite" and text[len("sqlite://") :].startswith("/"):
            return DecisionLog(text[len("sqlite:///") :], create=create)  # sqlite:////abs/path or sqlite:///rel
        if scheme in ("postgresql", "postgres"):
            # the URL may hold a password: it is not repeated in the message
            raise LogError(
                "PostgreSQL logs are not available in this version", "use a SQLite file, such as decisions.db"
            )
        raise LogError(f"`{scheme}://` is not a kind of decision log", "give the path of a SQLite file")
    return DecisionLog(target, create=create)


__all__ = [
    "DecisionLog",
    "LogError",
    "LoggedDecision",
    "Problem",
    "Replay",
    "VerifyReport",
    "decode_value",
    "encode_value",
    "open_log",
]
