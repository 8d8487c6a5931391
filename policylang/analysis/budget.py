"""The static analysis's time budget: a deadline that its loops check, and the check of a budget a caller gives.

The analysis's other budgets count work (classes tried, combinations decided), so the same policy
always gets the same answer; some policies are still too large for them (thousands of rules that
all overlap: each pair is a finding to prove). The deadline bounds the wall-clock time instead.
When it passes, the check raises OutOfTime, and the analysis keeps what it has proven and says
which outputs it did not decide (analyser.py).
"""

from __future__ import annotations

import math
from time import monotonic

from ..core.errors import UsageError

DEFAULT_BUDGET = 120.0
"""Seconds of analysis per policy. The largest documented analyses (10,000 rules: 11 s and 48 s
of CPU time, docs/analysis.md) fit more than twice over, for a slower or busier machine than the
one measured; a policy that needs longer is far outside what the analysis is built for, and two
minutes is about as long as a check in CI or a `load` at start-up should wait before saying so."""


class OutOfTime(Exception):
    """The analysis reached its deadline: it stops where it is."""


class Deadline:
    """The moment, on the monotonic clock, after which the analysis stops. `check` costs one
    reading of the clock (about 50 ns), so it is called once per unit of work that takes
    microseconds or more (a pair of rules, a combination of facts, a replayed witness), and the
    analysis stops well within a second of the deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = monotonic() + seconds  # (inf for no budget: never reached)

    def check(self) -> None:
        """Raises OutOfTime once the deadline has passed."""
        if monotonic() > self.at:
            raise OutOfTime


def budget_seconds(budget: float | None) -> float:
    """The budget a caller gave, in seconds: None is DEFAULT_BUDGET and `math.inf` is no limit.
    Raises ValueError for zero, a negative number, NaN or anything that is not a number: a
    mistake of the caller's, said before any work is done."""
    if budget is None:
        return DEFAULT_BUDGET
    if isinstance(budget, bool) or not isinstance(budget, int | float):
        raise UsageError(f"the analysis budget must be a number of seconds, got {budget!r}")
    if math.isnan(budget) or budget <= 0:
        raise UsageError(f"the analysis budget must be more than 0 seconds (or inf for no limit), got {budget!r}")
    return float(budget)


def shown_seconds(seconds: float) -> str:
    """A budget as a message gives it: `120 s`, `0.05 s`."""
    if math.isinf(seconds):
        return "no limit"
    text = f"{seconds:,.3f}".rstrip("0").rstrip(".")
    return f"{text if text != '0' else f'{seconds:g}'} s"
