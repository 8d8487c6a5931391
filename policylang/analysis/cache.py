"""Remembers which policies the static analysis found free of conflicts, by content hash, on disk.

`policylang.load` refuses a policy with conflicts, and warns about one whose conflicts the analysis
could not rule out; analysing a large policy takes seconds, so a policy analysed once (the same
text of it and of every import, the same policylang version) is not analysed again. Only those
two verdicts are stored (clean; or no conflict found, with the outputs it could not decide): a
policy with conflicts is refused, and analysed afresh each time, so the error shows the current
witnesses. The cache is a folder of marker files: `$POLICYLANG_CACHE_DIR`, else
`$XDG_CACHE_HOME/policylang`, else `~/.cache/policylang`. A cache that cannot be read or written
is simply not used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.diagnostics import Code, Diagnostic
from ..core.errors import PolicylangError
from ..core.version import VERSION as __version__
from . import analyser
from .progress import ProgressCallback

if TYPE_CHECKING:
    from ..engine.evaluator import Policy


def cache_dir() -> Path:
    explicit = os.environ.get("POLICYLANG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policylang"


class AnalysisIncompleteWarning(PolicylangError, UserWarning):
    """`policylang.load` accepted a policy whose conflicts the analysis could not rule out: its
    rules compute, compare facts with each other or read what the analysis cannot follow, or it
    ran out of time. The policy is loaded, and a conflict that happens raises `ConflictError` at
    run time; `policy check` or `policy.analyse()` says why, output by output. Turned into an
    error with `warnings.simplefilter("error", AnalysisIncompleteWarning)`, `load` raises it (a
    PolicylangError too, so `except policylang.PolicylangError` catches that refusal)."""

    code = Code.ANALYSIS_INCOMPLETE


@dataclass(frozen=True)
class Verdict:
    """What `load` needs of the analysis: the conflicts found, and the outputs on which one
    could not be ruled out: an `analysis-incomplete` note on the output, and two rules setting it
    that might both match and propose values its resolution cannot decide between
    (analyser's `_Analysis.may_conflict`: rules whose conditions are both in the region fragment
    and never meet cannot conflict, however their values are computed)."""

    conflicts: list[Diagnostic]
    undecided: tuple[str, ...] = ()


VERDICTS = 3
"""Which analysis wrote a remembered verdict: raised whenever the analysis changes what it can
prove (2: it fails closed on what it cannot follow; 3: an output whose setting rules cannot match
together is decided, however its values are computed; issue 13), so that a verdict an older
analysis left on disk under the same version number is not trusted (a less careful one's clean
verdict, or a less precise one's warning)."""


def _marker(policy: Policy, kind: str = "clean") -> Path:
    return cache_dir() / "analysis" / f"{policy.content_hash}-{__version__}-v{VERDICTS}.{kind}"


def verdict(policy: Policy, budget: float | None = None, progress: ProgressCallback | None = None) -> Verdict:
    """The policy's `conflict` findings and the outputs it could not decide, or what a previous
    analysis found (a clean verdict, or one that could not rule conflicts out on some outputs:
    both are remembered). An analysis that ran out of its time `budget` (seconds;
    analyser.analyse) gives the conflicts it found and is not remembered: with more time it might
    find more. `progress` is told how far an analysis has got (progress.py)."""
    clean, undecided = _marker(policy), _marker(policy, "undecided")
    try:
        if clean.exists():
            return Verdict([])
        if undecided.exists():
            return Verdict([], tuple(undecided.read_text(encoding="utf-8").split()))
    except OSError:
        pass
    findings, stopped, may_conflict = analyser.analyse_within(policy, budget=budget, progress=progress)
    found = [d for d in findings if d.code is Code.CONFLICT]
    outputs = {output.span: name for name, output in policy.checked.outputs.items()}
    noted = (outputs.get(d.span) for d in findings if d.code is Code.ANALYSIS_INCOMPLETE)
    names = tuple(dict.fromkeys(n for n in noted if n and may_conflict(n)))
    if not found and not stopped:
        try:
            clean.parent.mkdir(parents=True, exist_ok=True)
            if names:
                undecided.write_text("\n".join(names) + "\n", encoding="utf-8")
            else:
                clean.touch()
        except OSError:
            pass  # a read-only home, a full disk: analyse again next time
    return Verdict(found, names)
