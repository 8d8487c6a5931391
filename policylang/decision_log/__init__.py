"""The decision log: each decision with its facts and policy version, in SQLite or PostgreSQL, chained by
hashes so that an edited, removed or reordered record is found by `verify`, and any record can be replayed."""

from __future__ import annotations

from pathlib import Path

from ..core.json_codec import decode_value, encode_value
from .errors import LogError
from .log import DecisionLog
from .records import Anchor, LoggedDecision, Problem, Records, Replay, Unreadable, VerifyReport


def open_log(target: str | Path, *, create: bool = True) -> DecisionLog:
    """The decision log at a path, a `sqlite:///path` URL or a `postgresql://user:password@host/database`
    URL. Raises LogError for a log that cannot be opened, and for other kinds of URL."""
    return DecisionLog(target, create=create)


__all__ = [
    "Anchor",
    "DecisionLog",
    "LogError",
    "LoggedDecision",
    "Problem",
    "Records",
    "Replay",
    "Unreadable",
    "VerifyReport",
    "decode_value",
    "encode_value",
    "open_log",
]
