"""The decision log: each decision with its facts and policy version, in SQLite, chained by hashes so that an
edited, removed or reordered record is found by `verify`, and any record can be replayed later."""

from __future__ import annotations

from pathlib import Path

from .encoding import decode_value, encode_value
from .errors import LogError
from .log import DecisionLog
from .records import LoggedDecision, Problem, Replay, VerifyReport


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
