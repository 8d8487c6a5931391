"""LogError, the one exception of the decision log: a message, a hint what to do, and the log it concerns."""

from __future__ import annotations

from collections.abc import Callable

from ..core.diagnostics import Code
from ..core.errors import PolicylangError


class LogError(PolicylangError):
    """A decision log that cannot be opened, read or written: what happened, and a hint what to do."""

    code = Code.LOG_ERROR

    def __init__(self, message: str, hint: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}error[{self.code}]: {self.message}" + (f"\n  = hint: {self.hint}" if self.hint else "")


def printable(text: str, limit: int = 300) -> str:
    """A database's message without control characters (it may quote a damaged file's bytes), cut short."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


ErrorFactory = Callable[[str, str | None], LogError]
"""Makes a LogError (message, hint) that names the log; the checks that know no log take one."""
