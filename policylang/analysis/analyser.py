"""Static analysis of a compiled policy: conflicts, unreachable, shadowed and redundant rules,
coverage gaps and overlaps, each with proof.

For each output, the rules that can affect it are the rules that set it and, transitively, the
rules setting the outputs they read (its scope: reading.py). Where all of them stay in the
fragment (conditions comparing one fact, or a value computed from one fact, with constants;
constant actions; no outputs read), each rule's condition is a region over the facts' classes
(regions.py) and every finding is an intersection or difference of regions (region_findings.py):
exact, and without enumerating facts. Otherwise the facts those rules read are enumerated over
their representatives (fact_domains.py), every combination run through the policy's own full
decision function (enumeration.py): exhaustive up to MAX_COMBINATIONS, sampled beyond, with an
`analysis-incomplete` note naming the rules wherever the absence of a finding was not proven.

Findings carry a witness: concrete facts, rendered as a facts file would give them, that are
decided once more through `Policy.decide` before they are reported; one that does not show what
is claimed is never reported (witnesses.py).

The analysis is one object built in layers, each module a class on the one below it:
`PolicyReading` (reading.py: the facts' classes, the rules' proposals, scopes) <- `Witnesses`
(witnesses.py: proving and wording findings; unreachable and shadowed rules) <- `RegionFindings`
(region_findings.py) <- `_Analysis` here, which runs each output in turn and answers
`may_conflict` for the verdict cache (cache.py).
"""

from __future__ import annotations

import contextlib
import decimal
from collections.abc import Callable

from ..core.diagnostics import Diagnostic
from ..core.resolution import resolution_of
from ..core.values import same_value
from ..engine.evaluator import Policy
from ..engine.runtime import ARITHMETIC
from ..semantics import typed_tree as c
from .boxes import Region, TooComplex, intersect
from .budget import Deadline, OutOfTime, budget_seconds
from .enumeration import Scope, by_enumeration
from .progress import Progress, ProgressCallback, progress_callback
from .region_findings import RegionFindings
from .regions import RuleRegions
from .summary import Findings, findings_limit, limited
from .witnesses import UNDECIDED_GAP, out_of_time_note


def analyse(
    policy: Policy,
    *,
    overlaps: bool = False,
    budget: float | None = None,
    progress: ProgressCallback | None = None,
    max_findings: int | None = None,
) -> Findings:
    """Every conflict, unreachable, shadowed and redundant rule and coverage gap the analysis can
    prove, plus notes where it could not decide; with `overlaps`, also which rule wins over which
    (info). The policy must have checked without errors. `budget` is the time allowed, in seconds
    (None: budget.DEFAULT_BUDGET; `math.inf`: no limit; zero or less is a ValueError); when it
    runs out, what is proven so far is reported, with a note on every output not decided.
    `progress` is called a few times a second at most with how far the analysis has got
    (progress.py). With `max_findings` N, the first N findings in the order `policy check` prints
    them, and the count of the others by kind in the result's `left_out` (summary.py)."""
    limit = findings_limit(max_findings)
    return limited(analyse_within(policy, overlaps=overlaps, budget=budget, progress=progress)[0], limit)


def analyse_within(
    policy: Policy, *, overlaps: bool = False, budget: float | None = None, progress: ProgressCallback | None = None
) -> tuple[list[Diagnostic], bool, Callable[[str], bool]]:
    """`analyse`'s findings; whether the analysis stopped at its time budget: then the absence of
    a finding proves nothing, so that verdict is not remembered (analysis/cache.py); and a test of whether
    an output could conflict at all (`_Analysis.may_conflict`), which the cache asks of the
    outputs noted incomplete, so that `load` warns only where a conflict can happen."""
    deadline = Deadline(budget_seconds(budget))
    progress = progress_callback(progress)
    with decimal.localcontext(ARITHMETIC):  # the classes' values, as decisions compute, whatever the caller's context
        try:
            analysis = _Analysis(policy, overlaps, deadline, Progress(progress))
        except OutOfTime:  # reading the policy took the whole budget: nothing is decided
            return _unread(policy.checked, deadline), True, lambda output: True
        return analysis.run(), analysis.stopped, analysis.may_conflict


def _unread(checked: c.CheckedPolicy, deadline: Deadline) -> list[Diagnostic]:
    """The notes of an analysis that ran out of time while still reading the policy: one on
    every output it would have decided (set by a rule, or declared without a default)."""
    setters: dict[str, list[str]] = {name: [] for name in checked.outputs}
    for rule in checked.rules:
        for output in dict.fromkeys(action.output for action in rule.actions):
            setters[output].append(rule.id)
    return [
        out_of_time_note(checked, name, deadline, tuple(setters[name]))
        for name, declared in checked.outputs.items()
        if setters[name] or (declared.declared and not declared.has_default)
    ]


class _Analysis(RegionFindings):
    """One analysis of one policy: each output in turn, by regions (region_findings.py) or by
    enumerating facts (enumeration.py), then the rules no output saw win (witnesses.py)."""

    def run(self) -> list[Diagnostic]:
        """The findings, output by output, then the rules no output's analysis saw match or win.
        Out of time, the findings proven so far stay (each output's are added as they are
        proven), and every output not decided gets a note."""
        findings: list[Diagnostic] = []
        pending = [
            name
            for name, declared in self.checked.outputs.items()
            if self.setters[name] or (declared.declared and not declared.has_default)
        ]
        for k, output in enumerate(pending):
            try:
                self.deadline.check()
                self.progress.section = f"`{output}` ({k + 1}/{len(pending)} outputs)"
                self.progress.phase("finding its rules")
                if self.setters[output]:
                    scope = self._scope(output)
                    truths = self._truths(scope)
                    if truths is None:
                        by_enumeration(self, scope, findings)
                    else:
                        self._by_regions(scope, truths, findings)
                else:  # No rule sets it at all: any facts show the gap.
                    gap = self.gap_finding(output, {name: self.base_value(name) for name in self.checked.facts})
                    findings.append(
                        gap
                        if gap is not None
                        else self.incomplete_note(Scope(output, [], []), {}, True, 0, UNDECIDED_GAP)
                    )
            except OutOfTime:
                self.exact_outputs.discard(output)  # (its rules are never said shadowed)
                findings.extend(self._out_of_time(name) for name in pending[k:])
                break
        findings.extend(self._unreachable())
        self.progress.section = ""
        self.progress.phase("shadowed rules", len(self.overridden))
        findings.extend(self._shadowed())
        return findings

    def may_conflict(self, output: str) -> bool:
        """Whether two rules setting the output might ever both match and propose values its
        resolution cannot decide between: of equal rank (`unique`, or `priority` with equal
        priorities), not proven to propose the same value (equal constants, or the same
        expression), and not proven never to match together (both conditions in the region
        fragment, and their regions disjoint). Sound wherever the rest of the analysis is not: it
        reads only the rules' conditions, so a piecewise policy (`if x > 0 then v = x * 2`, `if
        x <= 0 then v = 0`) cannot conflict however its values are computed. Out of time, or
        where the regions grow too large, it says they might."""
        resolution = resolution_of(self.checked.outputs[output].resolution)
        setters = self.setters[output]
        if not resolution.may_conflict or len(setters) < 2:
            return False
        rank = {i: resolution.rank(i, self.rules[i].priority, None) for i in setters}
        actions = {i: next(a for a in self.rules[i].actions if a.output == output) for i in setters}

        def disagree(i: int, j: int) -> bool:
            a, b = actions[i], actions[j]
            if rank[i] != rank[j] or (a.op == b.op and a.value == b.value):  # (the same expression, the same value)
                return False
            if isinstance(a.value, c.Const) and isinstance(b.value, c.Const):
                return not same_value(self._constant(i, output), self._constant(j, output))
            return True

        try:
            truths: dict[int, Region] = {}
            loose: list[int] = []
            """rules whose conditions are outside the fragment: they may match with any other"""
            for i in setters:
                truth = self.conditions.truth(self.rules[i].condition)
                try:
                    region = None if truth is None else truth.true
                except TooComplex:
                    region = None
                if region is None:
                    loose.append(i)
                elif region:  # (a rule that never matches proposes nothing)
                    truths[i] = region
            if any(disagree(i, j) for i in loose for j in [*loose, *truths] if i != j):
                return True
            index = RuleRegions(truths, self.full, rank, self.deadline)
            for i, j in index.meeting_pairs(truths, disagree):
                with contextlib.suppress(TooComplex):
                    if not intersect(truths[i], truths[j], self.full):
                        continue  # the hulls meet, the regions do not
                return True
        except OutOfTime:
            return True
        return False
