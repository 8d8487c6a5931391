"""The analysis of an output whose rules leave the region fragment: by enumerating facts.

Rules that read other outputs, compute from two or more facts, or set a computed value are not
regions (regions.py). For their outputs the facts those rules read are enumerated over their
representatives (fact_domains.py), every combination run through the policy's own full decision
function, so what is found is what `decide()` does: exhaustive up to MAX_COMBINATIONS (fewer for
a very large policy: DECISION_WORK), a fixed sample beyond, with an `analysis-incomplete`
note wherever the absence of a finding was not proven. The findings go through the same witness
replay as the region analysis's (analyser.py).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ..core.diagnostics import Diagnostic
from ..core.values import same_value
from ..engine.evaluator import Policy, full_record
from ..engine.runtime import EvaluationError
from ..semantics.typed_tree import CheckedPolicy
from .budget import Deadline
from .progress import Progress

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
"""The time analysed decisions are made at (policies that read `now` are outside the fragment)."""

MAX_COMBINATIONS = 20_000
"""Per output, combinations of representative facts decided; beyond this the analysis samples."""
DECISION_WORK = 4_000_000
"""Per output, combinations decided times the size of the policy (its facts and the parts of its
conditions and values): a very large policy gets fewer combinations (at least MIN_COMBINATIONS),
so that the work stays linear in its size (20,000 combinations of 20,000 facts was minutes)."""
MIN_COMBINATIONS = 100


@dataclass
class Scope:
    """What one output's analysis enumerates: its rules, their facts, and why it may be inexact."""

    output: str
    rules: list[int]
    facts: list[str]
    outside: dict[int, list[str]] = field(default_factory=dict)
    reads: frozenset[str] = frozenset()
    """The outputs its rules read, transitively: a conflict on one of them leaves this output unset."""
    sampled: int = 0
    """How many combinations of facts were decided, when they were a sample (enumeration.py)."""
    tried: int = 0
    """How many combinations of facts are decided, sample or not (what progress counts to)."""


class Analysis(Protocol):
    """What the enumeration reads and adds to of an analysis in progress (analyser.py): its
    policy, each fact's representatives, what has been learnt about the rules so far, and how
    each kind of finding is proven (by a witness replayed with the real evaluator) and worded."""

    policy: Policy
    checked: CheckedPolicy
    deadline: Deadline
    progress: Progress
    domains: dict[str, list[Any]]
    size: int
    setters: dict[str, list[int]]
    position: dict[str, int]
    want_overlaps: bool
    reached: set[int]
    won: set[int]
    overridden: dict[int, tuple[str, dict[str, Any]]]
    exact_for: set[int]
    exact_outputs: set[str]

    def base_value(self, name: str) -> Any: ...
    def conflict_finding(
        self,
        output: str,
        first: str,
        second: str,
        first_value: Any,
        second_value: Any,
        values: dict[str, Any],
        plainest: bool = False,
    ) -> Diagnostic | None: ...
    def gap_finding(
        self, output: str, values: dict[str, Any], reads: frozenset[str] = frozenset()
    ) -> Diagnostic | None: ...
    def redundant_findings(self, output: str, implied: dict[int, set[int]]) -> list[Diagnostic]: ...
    def overlap_finding(self, output: str, pair: tuple[str, str], values: dict[str, Any]) -> Diagnostic | None: ...
    def incomplete_note(
        self, scope: Scope, inexact: dict[int, list[str]], exhaustive: bool, failures: int, reason: str = ""
    ) -> Diagnostic: ...


def combination_limit(size: int) -> int:
    """How many combinations are decided at most (every one, or a sample) for a policy of this size."""
    return max(MIN_COMBINATIONS, min(MAX_COMBINATIONS, DECISION_WORK // max(1, size)))


def combinations(analysis: Analysis, scope: Scope) -> tuple[Iterator[dict[str, Any]], bool]:
    """Fact dictionaries (runtime values) to decide, and whether they are every combination; the
    number decided is `scope.sampled` when they are a sample."""
    base = {name: analysis.base_value(name) for name in analysis.checked.facts}
    axes = [analysis.domains[name] for name in scope.facts]
    limit = combination_limit(analysis.size)
    total = 1
    for axis in axes:
        total *= len(axis)
        if total > limit:
            break  # (the product of thousands of facts' classes is not worth computing)
    if total <= limit:
        products: Iterator[tuple[Any, ...]] = itertools.product(*axes)
        exhaustive = True
        scope.tried = total
    else:
        rng = random.Random(0)  # the same policy always gets the same sample
        products = (tuple(rng.choice(axis) for axis in axes) for _ in range(limit))
        exhaustive = False
        scope.sampled = scope.tried = limit

    def facts() -> Iterator[dict[str, Any]]:
        for values in products:
            yield {**base, **dict(zip(scope.facts, values, strict=True))}

    return facts(), exhaustive


def by_enumeration(analysis: Analysis, scope: Scope, diagnostics: list[Diagnostic]) -> None:
    """One output's findings from running the policy's full decision function on every
    combination of its rules' facts' classes (or a fixed sample of them), added to `diagnostics`
    as each is proven (so that they stay when the analysis runs out of time)."""
    output = analysis.checked.outputs[scope.output]
    index = list(analysis.checked.outputs).index(scope.output)
    resolver = analysis.policy.decision_graph.resolvers[index]

    cases, exhaustive = combinations(analysis, scope)
    pairs: dict[tuple[str, str], tuple[dict[str, Any], Any, Any]] = {}
    overlaps: dict[tuple[str, str], dict[str, Any]] = {}
    implied: dict[int, set[int]] = {}
    """rule -> the rules setting this output that matched every time it matched"""
    setters = analysis.setters[scope.output]
    names = list(analysis.checked.outputs)
    reads_indexes = {names.index(read) for read in scope.reads}
    gap: dict[str, Any] | None = None
    failures = 0
    analysis.progress.phase("trying facts", scope.tried, "combinations of facts")
    for values in cases:
        analysis.deadline.check()
        analysis.progress.step()
        try:
            fired, proposals, outputs, conflicted = full_record(analysis.policy, values, AS_OF)
        except EvaluationError:
            failures += 1
            continue
        analysis.reached.update(fired)
        matched = [i for i in setters if i in fired]
        for i in matched:
            implied[i] = implied[i] & set(matched) if i in implied else set(matched)
        if conflicted is None or index not in conflicted:
            resolved = resolver(proposals[index])
            for winner in resolved.winners:
                analysis.won.add(analysis.position[winner])
            for loser in resolved.overridden:
                place = analysis.position[loser]
                analysis.overridden.setdefault(place, (scope.output, values))
                if resolved.winners:
                    overlaps.setdefault((resolved.winners[0], loser), values)
        else:
            resolved = resolver(proposals[index])
            for contribution in resolved.conflicting:
                analysis.won.add(analysis.position[contribution.rule])  # a conflict changes the decision
            for loser in resolved.overridden:  # below a tie that conflicts: it changes nothing
                analysis.overridden.setdefault(analysis.position[loser], (scope.output, values))
        if conflicted is not None and index in conflicted:
            contributions = resolver(proposals[index]).conflicting
            for a, b in itertools.combinations(contributions, 2):
                if a.rule != b.rule and not same_value(a.value, b.value):
                    pairs.setdefault((a.rule, b.rule), (values, a.value, b.value))
        elif (
            gap is None
            and not (conflicted and reads_indexes.intersection(conflicted))
            and output.declared
            and not output.has_default
            and not output.optional
            and scope.output not in outputs
        ):
            # (an output a schema-less policy only infers has no place to declare a default)
            gap = values
    inexact = scope.outside
    if exhaustive and failures == 0:
        analysis.exact_for.update(i for i in scope.rules if i not in inexact)
        if not inexact:
            analysis.exact_outputs.add(scope.output)
            diagnostics.extend(analysis.redundant_findings(scope.output, implied))
    if analysis.want_overlaps:
        for pair, values in overlaps.items():
            found = analysis.overlap_finding(scope.output, pair, values)
            diagnostics.extend([found] if found is not None else [])
    for (first, second), (values, first_value, second_value) in pairs.items():
        finding = analysis.conflict_finding(scope.output, first, second, first_value, second_value, values)
        if finding is not None:
            diagnostics.append(finding)
    if gap is not None:
        finding = analysis.gap_finding(scope.output, gap, scope.reads)
        if finding is not None:
            diagnostics.append(finding)
    if not exhaustive or inexact or failures:
        diagnostics.append(analysis.incomplete_note(scope, inexact, exhaustive, failures))
