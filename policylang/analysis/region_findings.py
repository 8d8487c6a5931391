"""One output's findings where all its rules stay in the region fragment (regions.py): each
rule's condition is a region over the facts' classes, and every finding is an intersection or a
difference of regions, exact and without enumerating facts; each answer is a class of facts, one
of which (the plainest) is the witness that witnesses.py proves.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

from ..core.diagnostics import Diagnostic
from ..core.resolution import resolution_of
from ..core.values import same_value
from .boxes import EVERYTHING, Box, Region, TooComplex, contains, difference, intersect
from .enumeration import Scope
from .regions import RuleRegions, runs_of
from .witnesses import UNDECIDED_GAP, Witnesses

SHARED_WITNESSES = 256
"""How many recent conflict witnesses of an output a new conflict tries before making its own."""


RETRIES = 12
"""Other facts tried for a conflict whose plainest witness cannot be decided (another rule raises)."""


class RegionFindings(Witnesses):
    """Findings by regions, for the outputs whose rules are all in the fragment."""

    def _truths(self, scope: Scope) -> dict[int, Region] | None:
        """Where each of the output's rules matches, or None when one of them is outside the region
        fragment (it reads an output, computes, or sets this output to a computed value)."""
        if scope.reads:
            return None
        truths: dict[int, Region] = {}
        self.progress.phase("where its rules match", len(scope.rules))
        for i in scope.rules:
            self.deadline.check()
            self.progress.step()
            rule = self.rules[i]
            if scope.output in self.computing[i]:
                return None
            truth = self.conditions.truth(rule.condition)
            if truth is None:
                return None
            try:
                truths[i] = truth.true
            except TooComplex:
                return None  # decided by enumeration instead, which says when it samples
        return truths

    def _by_regions(self, scope: Scope, truths: dict[int, Region], diagnostics: list[Diagnostic]) -> None:
        """One output's findings from where its rules match, added to `diagnostics` as each is
        proven (so that they stay when time runs out): each question is an intersection or a
        difference of regions, and each answer a class of facts, one of which is the witness."""
        name = scope.output
        output = self.checked.outputs[name]
        live = [i for i in scope.rules if truths[i]]
        self.reached.update(live)
        self.exact_for.update(scope.rules)
        self.exact_outputs.add(name)
        values = {i: self._constant(i, name) for i in live}
        rank = self._ranks(name, values)
        index = RuleRegions({i: truths[i] for i in live}, self.full, rank, self.deadline)
        packing, carry, guards = index.packing, index.packing.carry, index.packing.guards
        undecided: set[int] = set()
        unreplayed: set[int] = set()
        stronger: dict[int, list[Region]] = {}

        def beating(i: int) -> list[Region]:
            """The regions of the rules that beat rule i somewhere it matches (computed once)."""
            if i not in stronger:
                stronger[i] = index.stronger(i, index.hulls[i])
            return stronger[i]

        # Rules that can change the decision: somewhere they match and nothing beats them.
        self.progress.phase("which rules can win", len(live))
        for i in live:
            self.progress.step()
            if i in self.won:
                continue
            self.deadline.check()
            try:
                point = self._point_outside(truths[i], beating(i))
            except TooComplex:
                undecided.add(i)
                self.won.add(i)  # not proven to lose: never reported as shadowed
                continue
            if point is not None:
                self.won.add(i)
            else:
                self.overridden.setdefault(i, (name, self._values(self._point(truths[i][0]))))
        diagnostics.extend(self._redundant_by_regions(name, live, index, undecided))

        top: dict[int, Region | None] = {}
        shown: list[tuple[list[int], int]] = []
        """Witnesses of this output's conflicts so far, newest first: a pair whose facts hold at
        one of them reuses it, and its replay is already done."""

        def together(i: int, j: int) -> tuple[list[int] | None, bool]:
            """Facts where rules i and j both match and no rule beats i, if there are any, and
            whether they are already as plain as that allows. Where nothing beats i is worked out
            once per rule (i meets many rules of its rank), unless that region is too complex;
            then each pair is cut on its own."""
            if i not in top:
                try:
                    top[i] = difference(truths[i], beating(i), self.full, self.deadline)
                except TooComplex:
                    top[i] = None
            where = top[i]
            if where is not None:
                with contextlib.suppress(TooComplex):
                    both = intersect(where, truths[j], self.full)
                    if not both:
                        return None, False
                    boxes = [packing.pack(box) for box in both]
                    point = next(
                        (p for p, spot in shown if any(((box & spot) + carry) & guards == guards for box in boxes)),
                        None,
                    ) or self._point(both[0])
                    return self._plainest(both, point), True
            both = intersect(truths[i], truths[j], self.full)
            return (self._point_outside(both, beating(i)) if both else None), False

        def elsewhere(i: int, j: int, point: list[int]) -> Iterator[list[int]]:
            """Other facts where rules i and j both match and nothing beats i: the point with one
            fact moved to another of its best-reading classes."""
            with contextlib.suppress(TooComplex):
                both = intersect(truths[i], truths[j], self.full)
                for fact, cls in enumerate(point):
                    for other in self.readable[fact][:3]:
                        moved = [*point[:fact], other, *point[fact + 1 :]]
                        if other != cls and contains(both, moved) and not any(contains(o, moved) for o in beating(i)):
                            yield moved

        if resolution_of(output.resolution).may_conflict:

            def disagree(i: int, j: int) -> bool:
                return rank[i] == rank[j] and not same_value(values[i], values[j])

            pairs = index.meeting_pairs(live, disagree)
            self.progress.phase("conflicts", len(pairs), "pairs of rules")
            for i, j in pairs:
                self.deadline.check()
                self.progress.step()
                first, second = values[i], values[j]
                try:
                    point, plainest = together(i, j)
                except TooComplex:
                    undecided.update((i, j))
                    continue
                if point is not None:
                    a, b = self.rules[i], self.rules[j]
                    found = self.conflict_finding(name, a.id, b.id, first, second, self._values(point), plainest)
                    for other in [] if found is not None else itertools.islice(elsewhere(i, j, point), RETRIES):
                        # The plain facts make another rule raise (a division by a fact at 0): try others.
                        found = self.conflict_finding(name, a.id, b.id, first, second, self._values(other))
                        if found is not None:
                            break
                    if found is None:
                        unreplayed.update((i, j))  # the facts raise elsewhere: not proven either way
                        continue
                    diagnostics.append(found)
                    seen = (
                        point,
                        packing.pack_point(point),
                    )  # (packed: whether a region holds it is then one step per box)
                    if seen in shown:
                        shown.remove(seen)
                    shown.insert(0, seen)
                    del shown[SHARED_WITNESSES:]
        if self.want_overlaps:
            pairs = index.meeting_pairs(live, lambda i, j: rank[i] != rank[j])
            self.progress.phase("overlaps", len(pairs), "pairs of rules")
            for i, j in pairs:
                self.deadline.check()
                self.progress.step()
                winner, loser = (i, j) if rank[i] > rank[j] else (j, i)
                # The winner must not be caught in a tie that conflicts (equal priorities).
                tied = [
                    truths[k]
                    for k in live
                    if rank[k] == rank[winner] and not same_value(values[k], values[winner]) and index.meets(k, winner)
                ]
                try:
                    both = intersect(truths[winner], truths[loser], self.full)
                    point = self._point_outside(both, beating(winner) + tied) if both else None
                except TooComplex:
                    continue  # an overlap is information, not a verdict: nothing is claimed
                if point is not None:
                    found = self.overlap_finding(
                        name, (self.rules[winner].id, self.rules[loser].id), self._values(point)
                    )
                    diagnostics.extend([found] if found is not None else [])
        if output.declared and not output.has_default and not output.optional:
            try:
                point = self._point_outside(EVERYTHING, [truths[k] for k in live])
            except TooComplex:
                undecided.update(live)
                point = None
            if point is not None:
                found = self.gap_finding(name, self._values(point), scope.reads)
                if found is None:
                    diagnostics.append(self.incomplete_note(scope, {}, True, 0, UNDECIDED_GAP))
                diagnostics.extend([found] if found is not None else [])
        reasons: dict[int, list[str]] = {}
        for i in sorted(undecided):
            reasons[i] = ["the regions of facts where it matches, beside the other rules', grew too large to decide"]
        for i in sorted(unreplayed):
            reasons.setdefault(i, []).append(
                "the facts that would show a finding about it cannot be decided (another rule raises an error there)"
            )
        if reasons:
            diagnostics.append(self.incomplete_note(scope, dict(sorted(reasons.items())), True, 0))

    def _redundant_by_regions(
        self, output: str, live: list[int], index: RuleRegions, undecided: set[int]
    ) -> list[Diagnostic]:
        """A rule that another rule with exactly the same actions matches wherever it matches.
        Only the pairs whose hulls meet are compared (found by the index, not by trying every
        two rules of a group: a table of many rules setting a few values makes large groups)."""
        keys = self._action_keys
        near: dict[int, list[int]] = {i: [] for i in live}
        for i, j in index.meeting_pairs(live, lambda i, j: keys[i] == keys[j]):
            near[i].append(j)
            near[j].append(i)
        implied: dict[int, set[int]] = {}
        self.progress.phase("redundant rules", len(live))
        for i in live:
            self.progress.step()
            if output != self._outputs_of(i)[0]:
                continue
            self.deadline.check()
            covering = {i}
            for j in near[i]:
                try:
                    if not difference(index.truths[i], [index.truths[j]], self.full):
                        covering.add(j)
                except TooComplex:
                    undecided.add(i)  # not proven: not reported, and said so
                    continue
            implied[i] = covering
        return self.redundant_findings(output, implied)

    def _point_outside(self, region: Region, others: list[Region]) -> list[int] | None:
        """A class combination in the region and in none of the others, or None if they cover it.
        Only the regions that cover a candidate are cut away, one at a time: usually the first
        candidate, the plainest facts in the region, is already outside all of them."""
        rest = region
        while rest:
            self.deadline.check()
            point = self._point(rest[0])
            covering = next((other for other in others if contains(other, point)), None)
            if covering is None:
                return point
            rest = difference(rest, [covering], self.full)
        return None

    def _point(self, box: Box) -> list[int]:
        """The box's combination nearest the plain facts: each fact at its plain class if the box
        allows it, else at the allowed class whose value reads best."""
        point = list(self.base_class)
        for fact, mask in box.items():
            if not mask >> point[fact] & 1:
                if mask.bit_count() <= max(64, len(self.readable[fact]) // 8):
                    # A few classes of many: the best-reading of them, not a scan of all (each
                    # step of which shifts the whole mask).
                    rank = self.readable_rank[fact]
                    point[fact] = min(_set_bits(mask), key=rank.__getitem__)
                else:
                    point[fact] = next(cls for cls in self.readable[fact] if mask >> cls & 1)
        return point

    def _plainest(self, region: Region, point: list[int]) -> list[int]:
        """The point with every fact the region lets be plain put back to its plain class."""
        point = list(point)
        for fact, cls in enumerate(point):
            if cls != self.base_class[fact]:
                trial = [*point[:fact], self.base_class[fact], *point[fact + 1 :]]
                if contains(region, trial):
                    point = trial
        return point


def _set_bits(mask: int) -> Iterator[int]:
    for start, end in runs_of(mask):  # (a range of thousands of classes is one run)
        yield from range(start, end + 1)
