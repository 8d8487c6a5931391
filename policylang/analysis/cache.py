"""Remembers which policies the static analysis found free of conflicts, by content hash, on disk.

`policylang.load` refuses a policy with conflicts, and analysing a large policy takes seconds; a
policy that was found clean once (the same text of it and of every import, the same policylang
version) is not analysed again. Only the clean verdict is stored: a policy with conflicts is
refused, and analysed afresh each time, so the error shows the current witnesses. The cache is a
folder of empty marker files: `$POLICYLANG_CACHE_DIR`, else `$XDG_CACHE_HOME/policylang`, else
`~/.cache/policylang`. A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.diagnostics import Code, Diagnostic
from ..core.version import VERSION as __version__
from . import analyser

if TYPE_CHECKING:
    from ..engine.evaluator import Policy


def cache_dir() -> Path:
    explicit = os.environ.get("POLICYLANG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policylang"


def _marker(policy: Policy) -> Path:
    return cache_dir() / "analysis" / f"{policy.content_hash}-{__version__}.clean"


def conflicts(policy: Policy, budget: float | None = None) -> list[Diagnostic]:
    """The policy's `conflict` findings, or none when a previous analysis found it clean. An
    analysis that ran out of its time `budget` (seconds; analysis.analyse) gives the conflicts it
    found, and is not remembered as clean: with more time it might find more."""
    marker = _marker(policy)
    try:
        if marker.exists():
            return []
    except OSError:
        pass
    findings, stopped = analyser.analyse_within(policy, budget=budget)
    found = [d for d in findings if d.code is Code.CONFLICT]
    if not found and not stopped:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # a read-only home, a full disk: analyse again next time
    return found
