"""Many findings shown as the first few in full and a count of the rest, by kind.

A policy of heavily overlapping rules can have a hundred thousand conflicts, each proven with
its own witness; printed in full, they bury everything else. What a reader needs is the first
few in full (they show the pattern) and how many there are of each kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..core.diagnostics import Diagnostic
from ..core.errors import UsageError

DEFAULT_MAX_FINDINGS = 20
"""How many findings `policy check` prints in full per file unless told otherwise."""


def first_findings(
    diagnostics: Sequence[Diagnostic], limit: int | None
) -> tuple[tuple[Diagnostic, ...], dict[str, int]]:
    """The first `limit` diagnostics (all of them when `limit` is None or 0), and how many of
    each code are left out, most frequent first."""
    if not limit or len(diagnostics) <= limit:
        return tuple(diagnostics), {}
    left_out = Counter(d.code.value for d in diagnostics[limit:])
    return tuple(diagnostics[:limit]), dict(left_out.most_common())


class Findings(list[Diagnostic]):
    """The analysis's findings (a list, as `Policy.analyse` always gave), and, when they were cut
    to the first N (`max_findings=`), how many of each code were left out (`left_out`, most
    frequent first) and how many of those are errors (`errors_left_out`): a caller deciding
    whether a policy is clean must not read the first N alone."""

    def __init__(
        self, shown: Sequence[Diagnostic] = (), left_out: dict[str, int] | None = None, errors_left_out: int = 0
    ):
        super().__init__(shown)
        self.left_out: dict[str, int] = dict(left_out or {})
        self.errors_left_out = errors_left_out

    @property
    def total(self) -> int:
        """How many findings there were, those left out included."""
        return len(self) + sum(self.left_out.values())


def findings_limit(max_findings: int | None) -> int | None:
    """A `max_findings=` a caller gave, checked before any work is done: None or 0 is every
    finding; a negative number, or anything that is not an int, is the caller's mistake."""
    if max_findings is None:
        return None
    if isinstance(max_findings, bool) or not isinstance(max_findings, int) or max_findings < 0:
        raise UsageError(f"max_findings must be a whole number of findings, 0 or more (0: all), got {max_findings!r}")
    return max_findings or None


def limited(diagnostics: Sequence[Diagnostic], limit: int | None) -> Findings:
    """Every diagnostic, as given, when there is no limit; else the first `limit` of them in
    the order `policy check` prints them (Diagnostic.sort_key) and the count of the rest."""
    if limit is None:
        return Findings(diagnostics)
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    shown, left_out = first_findings(ordered, limit)
    return Findings(shown, left_out, sum(1 for d in ordered[len(shown) :] if d.is_error))


def left_out_line(left_out: dict[str, int]) -> str:
    """One line saying what first_findings left out, e.g. `... and 115,135 more not shown
    (115,135 conflict)`."""
    total = sum(left_out.values())
    kinds = ", ".join(f"{count:,} {code}" for code, count in left_out.items())
    return f"... and {total:,} more not shown ({kinds}); `--max-findings 0` shows them all"
