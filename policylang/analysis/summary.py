"""Many findings shown as the first few in full and a count of the rest, by kind.

A policy of heavily overlapping rules can have a hundred thousand conflicts, each proven with
its own witness; printed in full, they bury everything else. What a reader needs is the first
few in full (they show the pattern) and how many there are of each kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..core.diagnostics import Diagnostic

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


def left_out_line(left_out: dict[str, int]) -> str:
    """One line saying what first_findings left out, e.g. `... and 115,135 more not shown
    (115,135 conflict)`."""
    total = sum(left_out.values())
    kinds = ", ".join(f"{count:,} {code}" for code, count in left_out.items())
    return f"... and {total:,} more not shown ({kinds}); `--max-findings 0` shows them all"
