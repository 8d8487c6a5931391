"""How far one analysis has got, told to whoever asked, a few times a second at most.

The analysis of a policy of many thousands of rules takes a minute; a terminal showing nothing
for that minute looks stuck. The analysis says which phase it is in (reading the facts, then per
output: where its rules match, which can win, which are redundant, which conflict, then the
shadowed rules) and how much of it is done; `Progress` passes that on to a callback, throttled by
the clock, so that the loops that report can do so on every step for the price of a clock read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import Any

from ..core.errors import UsageError

INTERVAL = 0.25
"""Seconds between two reports: a terminal line redrawn four times a second reads as moving
without flickering, and the callback (a print) costs nothing the analysis would notice."""


@dataclass(frozen=True)
class AnalysisProgress:
    """One report: the phase (`conflicts on \\`limit\\``), how many of its steps are done out of
    how many (`total` 0: not known), what a step is (`rules`, `pairs of rules`, `combinations of
    facts`), and the seconds since the analysis started."""

    phase: str
    done: int
    total: int
    unit: str
    elapsed: float

    def line(self) -> str:
        """The report as one short line: `conflicts on \\`limit\\`: 3,400/10,000 pairs of rules, 12 s`."""
        count = f"{self.done:,}/{self.total:,} {self.unit}" if self.total else f"{self.done:,} {self.unit}"
        return f"{self.phase}: {count}, {self.elapsed:.0f} s"


ProgressCallback = Callable[[AnalysisProgress], None]
"""What `analyse(progress=...)`, `Policy.analyse(progress=...)` and `load(progress=...)` call."""


def progress_callback(progress: Any) -> ProgressCallback | None:
    """A `progress=` a caller gave, checked before any work is done: None, or something to call
    with each report; anything else (a number, a string, `True`) is the caller's mistake, said now
    rather than as a TypeError from the middle of the analysis."""
    if progress is None or callable(progress):
        return progress  # type: ignore[no-any-return]  # checked: callable
    raise UsageError(
        f"progress must be a function taking an AnalysisProgress (or None), got {type(progress).__name__} {progress!r}"
    )


class CallerProgress:
    """The caller's callback, remembering the exception it raised: that exception ends the analysis
    and reaches the caller as it was raised (docs/analysis.md#progress), where `load` and
    `with_analysis` would otherwise report any exception out of the analysis as a bug of policylang."""

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback
        self.raised: BaseException | None = None

    def __call__(self, report: AnalysisProgress) -> None:
        try:
            self.callback(report)
        except BaseException as exc:
            self.raised = exc
            raise


class Progress:
    """The analysis's reporter: `phase` starts a phase (reported at once unless the last report
    was less than INTERVAL ago), `step` counts one step of it (reported at most every INTERVAL).
    Without a callback both do nothing but count."""

    def __init__(self, callback: ProgressCallback | None, clock: Callable[[], float] = monotonic) -> None:
        self.callback = callback
        self.clock = clock
        self.started = clock()
        self.section = ""
        """What the phases are part of (the output being decided, e.g. "`limit` (1/3 outputs)"), if anything."""
        self.name = ""
        self.done = 0
        self.total = 0
        self.unit = "rules"
        self._next = self.started  # (the first report goes out at once)

    def phase(self, name: str, total: int = 0, unit: str = "rules") -> None:
        """A new phase of `total` steps, each one `unit` (named after the section, if any)."""
        self.name = f"{self.section}: {name}" if self.section else name
        self.done, self.total, self.unit = 0, total, unit
        self._report()

    def step(self, count: int = 1) -> None:
        """`count` more steps of the current phase done."""
        self.done += count
        if self.callback is not None:
            self._report()

    def _report(self) -> None:
        if self.callback is None:
            return
        now = self.clock()
        if now < self._next:
            return
        self._next = now + INTERVAL
        self.callback(AnalysisProgress(self.name, self.done, self.total, self.unit, now - self.started))
