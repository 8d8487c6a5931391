"""The hash chain: which fields a record's hash covers, how it is computed (over the stored text since log
format 2; over the parsed JSON before), and the ids and timestamps that order records along it (UUIDv7
ids increase within a process and along the log)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from ..core.json_codec import canonical, column

GENESIS = "0" * 64
"""The `prev_hash` of the first record."""
FIELDS = ("seq", "id", "recorded_at", "as_of", "policy_name", "policy_hash", "facts", "outputs", "fired", "conflicts")
"""What a record's hash covers, besides the hash before it."""
COLUMNS = (*FIELDS, "prev_hash", "hash")
JSON_COLUMNS = ("facts", "outputs", "fired", "conflicts")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM decisions"


TEXT_HASHED = 2
"""The log format from which a record's hash covers its columns as stored (the JSON columns as their text);
the key `"format": 2` in what is hashed keeps the two ways apart (no record hashes the same both ways)."""


def chain_hash(prev_hash: str, stored: dict[str, Any]) -> str:
    """sha256 of the previous hash followed by the canonical JSON of the record's FIELDS exactly as stored
    (the JSON columns as their text, so that any change to a stored byte changes the hash) and
    `"format": 2`. Raises TypeError for a column of another type than the log writes (a BLOB)."""
    return _sha256(prev_hash + canonical({**stored, "format": TEXT_HASHED}))


def parsed_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """How records written before log format 2 were hashed: the canonical JSON of their FIELDS with the
    JSON columns decoded (so a change to the text that parses the same, such as a duplicate key, kept
    the hash; verify also checks such a record's text is exactly what policylang writes)."""
    return _sha256(prev_hash + canonical(body))


def hash_matches(prev_hash: str, stored: dict[str, Any], stored_hash: str) -> bool:
    """Whether a record's columns as stored give its hash: as stored (format 2), or, for a record written
    before format 2, parsed, with every JSON column's text exactly what policylang writes for its value
    (a duplicate key or changed spacing is found there too; only keys reordered inside a value are not).
    Raises ValueError or TypeError for columns that cannot be read."""
    if chain_hash(prev_hash, stored) == stored_hash:
        return True
    body = dict(stored)
    for name in JSON_COLUMNS:
        body[name] = None if stored[name] is None else json.loads(stored[name])
    if parsed_hash(prev_hash, body) != stored_hash:
        return False
    return all(stored[name] is None or column(body[name]) == stored[name] for name in JSON_COLUMNS)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class _Ids:
    """UUIDv7: 48-bit milliseconds, then random bits; never equal to or before the last one handed out."""

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


IDS = _Ids()
os.register_at_fork(after_in_child=IDS.forget)


def timestamp(moment: datetime) -> str:
    """Fixed width (microseconds always shown), so that text order is time order in SQL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
