"""Static analysis of a compiled policy: conflicts, unreachable, shadowed and redundant rules,
coverage gaps and overlaps, each with proof.

For each output, the rules that can affect it are the rules that set it and, transitively, the
rules setting the outputs they read. Where all of them stay in the fragment (conditions comparing
one fact, or a value computed from one fact, with constants; constant actions; no outputs read),
each rule's condition is a region over the facts' classes (regions.py) and every finding is an
intersection or difference of regions (`_by_regions`): exact, and without enumerating facts.
Otherwise the facts those rules read are enumerated over their representatives (fact_domains.py),
every combination run through the policy's own full decision function (enumeration.py): exhaustive up
to MAX_COMBINATIONS, sampled beyond, with an `analysis-incomplete` note naming the rules wherever
the absence of a finding was not proven.

Findings carry a witness: concrete facts, rendered as a facts file would give them, that are
decided once more through `Policy.decide` before they are reported; one that does not show what
is claimed is never reported.
"""

from __future__ import annotations

import contextlib
import decimal
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..core.datatypes import BOOL, EnumOf
from ..core.diagnostics import Code, Diagnostic, Label, Severity, error, warning
from ..core.json_codec import to_json_value
from ..core.resolution import Prefer, Resolved, resolution_of
from ..core.spelling import spell_value
from ..core.values import MISSING, order_key, same_value
from ..engine.evaluator import Policy, full_record
from ..engine.facts import FactsError, fact_default
from ..engine.runtime import ARITHMETIC, EvaluationError
from ..semantics import typed_tree as c
from ..syntax.formatter import unparse_expr
from .budget import Deadline, OutOfTime, budget_seconds, shown_seconds
from .enumeration import AS_OF, MAX_COMBINATIONS, Scope, by_enumeration
from .fact_domains import Reads, constants_by_fact, facts_in_arithmetic, reads, representatives
from .progress import Progress, ProgressCallback
from .regions import (
    EVERYTHING,
    Box,
    Conditions,
    Region,
    RuleRegions,
    TooComplex,
    contains,
    difference,
    intersect,
    runs_of,
)
from .summary import Findings, findings_limit, limited

SHARED_WITNESSES = 256
"""How many recent conflict witnesses of an output a new conflict tries before making its own."""
RETRIES = 12
"""Other facts tried for a conflict whose plainest witness cannot be decided (another rule raises)."""


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
    with decimal.localcontext(ARITHMETIC):  # the classes' values, as decisions compute, whatever the caller's context
        analysis = _Analysis(policy, overlaps, deadline, Progress(progress))
        return analysis.run(), analysis.stopped, analysis.may_conflict


class _Replayed:
    """One witness's decision, as much of it as the findings' checks read."""

    def __init__(self, policy: Policy, record: Any, position: dict[str, int]) -> None:
        fired, self.proposals, self.outputs, conflicted = record
        self.graph = policy.decision_graph
        self.names = list(policy.checked.outputs)
        self.position = position
        self._fired = set(fired)
        self.conflicted = {self.names[i] for i in conflicted or ()}
        self._resolved: dict[str, Resolved] = {}
        self._conflicting: dict[str, set[str]] = {}

    def fired(self, rule: str) -> bool:
        return self.position[rule] in self._fired

    def resolution(self, output: str) -> Resolved:
        if output not in self._resolved:
            index = self.names.index(output)
            self._resolved[output] = self.graph.resolvers[index](self.proposals[index])
        return self._resolved[output]

    def values(self, output: str, first: str, second: str) -> tuple[Any, ...]:
        """The values two rules propose for the output in this decision, if both are among the
        conflicting and they differ; else ()."""
        if not {first, second} <= self.conflicting(output):
            return ()
        proposed = {x.rule: x.value for x in self.resolution(output).conflicting}
        a, b = proposed[first], proposed[second]
        return () if same_value(a, b) else (a, b)

    def conflicting(self, output: str) -> set[str]:
        """The rules whose values for the output conflict in this decision."""
        if output not in self.conflicted:
            return set()
        if output not in self._conflicting:
            self._conflicting[output] = {contribution.rule for contribution in self.resolution(output).conflicting}
        return self._conflicting[output]


class _Analysis:
    def __init__(
        self,
        policy: Policy,
        overlaps: bool = False,
        deadline: Deadline | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.policy = policy
        self.deadline = deadline or Deadline(budget_seconds(None))
        self.progress = progress or Progress(None)
        self.stopped = False
        """Whether the analysis ran out of time (`_out_of_time` says where)."""
        self.checked: c.CheckedPolicy = policy.checked
        self.rules = self.checked.rules
        constants = constants_by_fact(self.checked)
        computed = facts_in_arithmetic(self.checked)
        self.domains: dict[str, list[Any]] = {}
        self.inexact_facts: set[str] = set()
        self.progress.phase("reading the facts' values", len(self.checked.facts), "facts")
        for name, fact in self.checked.facts.items():
            self.progress.step()
            values, exact = representatives(fact, constants[name], name in computed)
            self.domains[name] = values
            if not exact:
                self.inexact_facts.add(name)
        # Each fact's plain value is one of its representatives (another of its class, if need be),
        # so witnesses leave every fact they do not need at that value.
        self.base_class: list[int] = []
        for name in self.checked.facts:
            base, values = self.base_value(name), self.domains[name]
            found = [k for k, v in enumerate(values) if v is base or (type(v) is type(base) and v == base)]
            if not found:
                values.append(base)
            self.base_class.append(found[0] if found else len(values) - 1)
        self.conditions = Conditions(self.checked, self.domains, self.inexact_facts, self.deadline)
        self.size = len(self.checked.facts) + sum(1 for _ in c.walk(c.policy_expressions(self.checked)))
        """How much one decision has to read and compute, about: what enumeration.py budgets by."""
        self.readable = [
            sorted(range(len(self.domains[name])), key=self._plainness(name)) for name in self.checked.facts
        ]
        """Per fact, its classes from the one whose value reads best in a witness (short, not negative)."""
        self.readable_rank = [{cls: k for k, cls in enumerate(order)} for order in self.readable]
        self.setters: dict[str, list[int]] = {name: [] for name in self.checked.outputs}
        self.proposals: list[dict[str, Any]] = []
        """Per rule, the value it proposes for each output it sets to a constant (`_constant`)."""
        self.computing: list[set[str]] = []
        """Per rule, the outputs it sets to a computed value."""
        for i, rule in enumerate(self.rules):
            for action in rule.actions:
                setters = self.setters[action.output]
                if not setters or setters[-1] != i:  # (rules come in order: i is the last if it is there)
                    setters.append(i)
            self.proposals.append(self._proposed(i))
            self.computing.append({a.output for a in rule.actions if not isinstance(a.value, c.Const)})
        self._outputs = [list(dict.fromkeys(action.output for action in rule.actions)) for rule in self.rules]
        self._action_keys = [_actions(rule) for rule in self.rules]
        self._direct_reads: dict[int, Reads] = {}
        self.position = {rule.id: i for i, rule in enumerate(self.rules)}
        self._derived_order = {key: i for i, key in enumerate(self.checked.derived)}
        self._taint: dict[str, _Taint] | None = None
        self.want_overlaps = overlaps
        self.reached: set[int] = set()
        self.won: set[int] = set()
        """Rules that won an output (or took part in a conflict) for some facts: they can change a decision."""
        self.overridden: dict[int, tuple[str, dict[str, Any]]] = {}
        """Rule -> the first (output, facts) where it matched and lost."""
        self.exact_outputs: set[str] = set()
        self.replayed: dict[str, _Replayed | None] = {}
        self.redundant: set[int] = set()
        self.exact_for: set[int] = set()
        """Rules whose reachability some exhaustive enumeration covered."""

    # --- scopes ---

    def _scope(self, output: str) -> Scope:
        rules: list[int] = []
        facts: set[str] = set()
        outside: dict[int, list[str]] = {}
        pending = list(self.setters[output])
        seen_outputs = {output}
        seen_derived: set[str] = set()
        read_by: dict[int, set[str]] = {}
        taken: set[int] = set()  # (a list's `in` made this quadratic: 100k rules setting one output)
        while pending:
            index = pending.pop()
            if index in taken:
                continue
            taken.add(index)
            rules.append(index)
            self.deadline.check()
            direct = self._rule_reads(index)
            found = Reads(set(direct.facts), set(direct.outputs), set(direct.derived), list(direct.outside))
            derived = list(found.derived)
            while derived:  # the facts and outputs of the segments and lets read (once per scope)
                key = derived.pop()
                if key in seen_derived:
                    continue
                seen_derived.add(key)
                inner = reads(self.checked.derived[key].expr)
                found.facts |= inner.facts
                found.outputs |= inner.outputs
                derived.extend(inner.derived)
            facts |= found.facts
            # Why the rule is outside the fragment: its own reasons and those of every segment and
            # let it reads, even one that another rule of the scope read first.
            taint = _Taint(list(direct.outside), [], sorted(direct.facts & self.inexact_facts))
            for key in direct.derived:
                taint.add(self._taints()[key])
            reasons = list(dict.fromkeys(taint.outside))
            computing = sorted(set(taint.computing), key=self._derived_order.__getitem__, reverse=True)
            reasons += _lets_that_compute(computing, self._computed_from(computing))
            reasons += [f"`{f}` takes too many values to try them all" for f in sorted(set(taint.inexact))]
            if reasons:
                outside[index] = reasons
            read_by[index] = found.outputs
            for read in found.outputs - seen_outputs:
                seen_outputs.add(read)
                pending.extend(self.setters[read])
        for i in list(outside):
            if not set(self._unsure_outputs(i, outside[i])) & seen_outputs:
                del outside[i]  # it computes only outputs that nothing here reads: exact here
        self._through_outputs(rules, outside, read_by)
        return Scope(output, sorted(rules), sorted(facts), outside, frozenset(seen_outputs - {output}))

    def _through_outputs(self, rules: list[int], outside: dict[int, list[str]], read_by: dict[int, set[str]]) -> None:
        """Marks outside the fragment every rule that reads an output some rule outside it sets,
        transitively: the classes of the facts do not decide such an output's value (it is computed,
        or set where the analysis cannot follow), so they do not decide the reader's condition either,
        and trying every class proves nothing about it (`if value > 200` with `value = response_time`)."""
        unsure: dict[str, int] = {}
        """output -> a rule outside the fragment that sets it"""
        changed = True
        while changed:
            changed = False
            for i in rules:
                if i in outside:
                    for name in self._unsure_outputs(i, outside[i]):
                        if name not in unsure:
                            unsure[name] = i
                            changed = True
                    continue
                read = sorted(read_by[i] & unsure.keys())
                if read:
                    outside[i] = [
                        f"it reads `{name}`, whose value the analysis cannot follow (see rule "
                        f"`{self.rules[unsure[name]].id}`)"
                        for name in read[:3]
                    ]
                    changed = True

    def _unsure_outputs(self, i: int, reasons: list[str]) -> list[str]:
        """The outputs of rule i (outside the fragment for these reasons) whose values the classes
        do not decide: only those it computes, when computing them is all that takes it outside
        (its condition is exact, so the constants it sets are too); else every output it sets."""
        computed = {_computed(a) for a in self.rules[i].actions if a.output in self.computing[i]}
        if set(reasons) <= computed:
            return [name for name in self._outputs_of(i) if name in self.computing[i]]
        return self._outputs_of(i)

    def _taints(self) -> dict[str, _Taint]:
        """Per segment and let, why a rule reading it is outside the fragment (through the ones it
        reads too), worked out once for all, in dependency order."""
        if self._taint is None:
            self._taint = {}
            for key, item in self.checked.derived.items():  # (each after what it reads)
                inner = reads(item.expr)
                computes = item.kind == "let" and bool(inner.outside)
                taint = _Taint(
                    [] if computes else list(inner.outside),
                    [key] if computes else [],
                    sorted(inner.facts & self.inexact_facts),
                )
                for read in sorted(inner.derived, key=self._derived_order.__getitem__, reverse=True):
                    taint.add(self._taint[read])
                self._taint[key] = taint
        return self._taint

    def _enumerated(self, value: c.CheckedExpr) -> bool:
        """Whether a computed value is a copy of a fact whose every value is one of its classes (a
        bool, an enum, never missing): the enumeration (enumeration.py) tries each of them, so it decides exactly
        what the copy can be, there and in every rule reading the output. (A string's classes are
        the constants it is compared with and one "other", a number's are ranges: a copy of one
        takes values the classes do not.)"""
        if not isinstance(value, c.FactRef) or value.name in self.inexact_facts:
            return False
        fact = self.checked.facts[value.name]
        if fact.optional and not fact.has_default:
            return False  # (a rule copying a missing fact matches and sets nothing: not a case the findings word)
        return fact.type == BOOL or isinstance(fact.type, EnumOf)

    def _computed_from(self, keys: list[str]) -> dict[str, list[str]]:
        """Per let, what it computes from, through the lets and segments it reads: its facts,
        then the outputs it reads and `now`, each quoted."""
        found = {}
        for key in keys:
            sources: set[str] = set()
            outside: list[str] = []
            pending, seen = [key], {key}
            while pending:
                inner = reads(self.checked.derived[pending.pop()].expr)
                sources |= inner.facts | inner.outputs
                outside += inner.outside
                pending += [k for k in inner.derived if k not in seen]
                seen |= inner.derived
            named = [f"`{name}`" for name in sorted(sources, key=lambda n: (n not in self.checked.facts, n))]
            named += ["`now`"] if "it reads `now`" in outside else []
            found[key] = named
        return found

    def _rule_reads(self, i: int) -> Reads:
        """What rule i's condition and actions read themselves (not through lets), worked out once:
        a rule with thousands of actions is in the scope of each output it sets."""
        if i not in self._direct_reads:
            rule = self.rules[i]
            found = reads(rule.condition)
            for action in rule.actions:
                value = reads(action.value)
                found.facts |= value.facts
                found.outputs |= value.outputs
                found.derived |= value.derived
                if not isinstance(action.value, c.Const) and not self._enumerated(action.value):
                    found.outside.append(_computed(action))
            found.outside = list(dict.fromkeys(found.outside))
            self._direct_reads[i] = found
        return self._direct_reads[i]

    # --- running ---

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
                self.progress.phase(f"`{output}` ({k + 1}/{len(pending)} outputs): finding its rules")
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
                        else self.incomplete_note(Scope(output, [], []), {}, True, 0, _UNDECIDED_GAP)
                    )
            except OutOfTime:
                self.exact_outputs.discard(output)  # (its rules are never said shadowed)
                findings.extend(self._out_of_time(name) for name in pending[k:])
                break
        findings.extend(self._unreachable())
        self.progress.phase("shadowed rules", len(self.overridden))
        findings.extend(self._shadowed())
        return findings

    def _out_of_time(self, output: str) -> Diagnostic:
        """The note on an output the analysis did not finish deciding before its deadline."""
        self.stopped = True
        return Diagnostic(
            code=Code.ANALYSIS_INCOMPLETE,
            severity=Severity.INFO,
            message=f"the analysis stopped at its time budget of {shown_seconds(self.deadline.seconds)} "
            f"before deciding `{output}`; what it reports is proven",
            span=self.checked.outputs[output].span,
            notes=("it cannot promise there is nothing more",),
            hint="give it more time with `policy check --analysis-budget SECONDS` (`inf` for no limit; "
            "`budget=` from Python)",
            rules=tuple(self.rules[i].id for i in self.setters[output]),
        )

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

    # --- regions: the exact fragment, decided without enumerating ---

    def _truths(self, scope: Scope) -> dict[int, Region] | None:
        """Where each of the output's rules matches, or None when one of them is outside the region
        fragment (it reads an output, computes, or sets this output to a computed value)."""
        if scope.reads:
            return None
        truths: dict[int, Region] = {}
        self.progress.phase(f"`{scope.output}`: where its rules match", len(scope.rules))
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
        self.progress.phase(f"`{name}`: which rules can win", len(live))
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
            self.progress.phase(f"`{name}`: conflicts", len(pairs), "pairs of rules")
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
            self.progress.phase(f"`{name}`: overlaps", len(pairs), "pairs of rules")
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
        if output.declared and not output.has_default:
            try:
                point = self._point_outside(EVERYTHING, [truths[k] for k in live])
            except TooComplex:
                undecided.update(live)
                point = None
            if point is not None:
                found = self.gap_finding(name, self._values(point), scope.reads)
                if found is None:
                    diagnostics.append(self.incomplete_note(scope, {}, True, 0, _UNDECIDED_GAP))
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
        self.progress.phase(f"`{output}`: redundant rules", len(live))
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

    def _ranks(self, output: str, values: dict[int, Any]) -> dict[int, int]:
        """Each rule's strength on the output: whenever two rules match together, the one of higher
        rank wins and the other is overridden (by the output's resolution); equal ranks tie."""
        declared = self.checked.outputs[output]
        resolution = resolution_of(declared.resolution)
        key = order_key(declared.type) or (lambda v: v)
        strength = {i: resolution.rank(i, self.rules[i].priority, key(v)) for i, v in values.items()}
        place = {rank: k for k, rank in enumerate(sorted(set(strength.values())))}
        return {i: place[rank] for i, rank in strength.items()}  # small ints, in the resolution's order

    def _constant(self, i: int, output: str) -> Any:
        """The value rule i proposes for the output (its last action on it, as the rule itself
        does; `+=` adds to the output's default, as the decision function does)."""
        return self.proposals[i].get(output)

    def _proposed(self, i: int) -> dict[str, Any]:
        """Every constant value rule i proposes, by output, in one pass over its actions."""
        values: dict[str, Any] = {}
        for action in self.rules[i].actions:
            if isinstance(action.value, c.Const):
                value = action.value.value
                declared = self.checked.outputs[action.output]
                if action.op == "add" and declared.has_default:
                    value = declared.default | value
                values[action.output] = value
        return values

    @property
    def full(self) -> list[int]:
        return self.conditions.full

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

    def _plainness(self, name: str) -> Any:
        values = self.domains[name]

        def key(cls: int) -> tuple[bool, int, int]:
            text = str(to_json_value(values[cls]))
            return (text.startswith("-"), len(text), cls)

        return key

    def _values(self, point: list[int]) -> dict[str, Any]:
        return {name: self.domains[name][cls] for name, cls in zip(self.checked.facts, point, strict=True)}

    def base_value(self, name: str) -> Any:
        fact = self.checked.facts[name]
        if fact.has_default:
            return fact_default(fact)
        if fact.optional:
            return MISSING
        return self.domains[name][0]

    # --- findings ---

    def computing_on(self, output: str, *rule_ids: str) -> bool:
        """Whether any of the rules sets the output to a computed value (which differs by facts)."""
        return any(output in self.computing[self.position[r]] for r in rule_ids)

    def _rule(self, rule_id: str) -> c.CheckedRule:
        return self.rules[self.position[rule_id]]

    def conflict_finding(
        self,
        output: str,
        first: str,
        second: str,
        first_value: Any,
        second_value: Any,
        values: dict[str, Any],
        plainest: bool = False,
    ) -> Diagnostic | None:
        def shows_it(witness: dict[str, Any]) -> bool:
            # Both among the conflicting, with values that differ: a third rule can keep the output
            # conflicted where two computed values happen to agree.
            replayed = self._replay(witness)
            return replayed is not None and len(replayed.values(output, first, second)) == 2

        witness = self._minimal(values, shows_it, trials=not plainest)
        if witness is None:
            return None  # never report what the real evaluator does not show
        if self.computing_on(output, first, second):  # (as at the witness, not where it was found)
            replayed = self._replay(witness)
            assert replayed is not None  # it has just shown the conflict
            first_value, second_value = replayed.values(output, first, second)
        resolution = self.checked.outputs[output].resolution
        a, b = self._rule(first), self._rule(second)
        by_priority = resolution_of(resolution).prefer is Prefer.HIGHER_PRIORITY
        why = f"equal priorities ({a.priority})" if by_priority else f"`resolve {resolution}`"
        first_text, second_text = _written(a, output, first_value), _written(b, output, second_value)
        return error(
            Code.CONFLICT,
            f"rules `{first}` and `{second}` can both match and set `{output}` to different values "
            f"({first_text} and {second_text}); {why} cannot decide between them",
            b.span,
            label=f"sets `{output}` = {second_text}",
            labels=(Label(a.span, f"sets `{output}` = {first_text}"),),
            hint=f"make their conditions exclude each other, or give `{output}` a resolution that decides "
            "(`resolve first`, `min`, `max`, or `priority` with different priorities)",
            rules=(first, second),
            witness=witness,
        )

    def gap_finding(
        self, output: str, values: dict[str, Any], reads: frozenset[str] = frozenset()
    ) -> Diagnostic | None:
        def shows_it(witness: dict[str, Any]) -> bool:
            # Unset, and not because it or an output its rules read conflicted (that is the conflict).
            replayed = self._replay(witness)
            return (
                replayed is not None and output not in replayed.outputs and not replayed.conflicted & (reads | {output})
            )

        witness = self._minimal(values, shows_it)
        if witness is None:
            return None
        declared = self.checked.outputs[output]
        setters = tuple(self.rules[i].id for i in self.setters[output])
        if not setters:
            message = f"output `{output}` has no default and no rule sets it: no decision ever has it"
            hint = f"give `{output}` a default, or add the rules that set it"
        else:
            message = f"output `{output}` has no default, and no rule sets it for some facts"
            hint = f"give `{output}` a default, or add a rule for facts like the witness"
        return warning(Code.COVERAGE_GAP, message, declared.span, hint=hint, rules=setters, witness=witness)

    def _replay(self, witness: dict[str, Any]) -> _Replayed | None:
        """The witness decided by the real evaluator: the facts the policy's validator makes of it
        (as of a facts file), through the full decision function `decide()` runs, conflicts
        marked. None if it is not valid facts or cannot be decided (never reported). Findings
        often share a witness, so each is decided once."""
        key = json.dumps(witness, sort_keys=True)
        if key not in self.replayed:
            self.deadline.check()
            try:
                record = full_record(self.policy, self.policy.validate_facts(witness), AS_OF)
            except (FactsError, EvaluationError):
                self.replayed[key] = None
            else:
                self.replayed[key] = _Replayed(self.policy, record, self.position)
        return self.replayed[key]

    def _minimal(self, values: dict[str, Any], shows_it: Any, trials: bool = True) -> dict[str, Any] | None:
        """The facts as a facts file gives them, with every fact that the finding does not need put
        back to its plain value; None if even the full witness does not show it (never reported).
        Without `trials` the facts are already as plain as the finding allows (chosen so within
        its region): they are only replayed."""
        if not shows_it(render_witness(self.checked, values)):
            return None
        if not trials:
            return render_witness(self.checked, values)
        current = dict(values)
        for name in self.checked.facts:
            plain = self.base_value(name)
            if current[name] is plain or current[name] == plain:
                continue
            trial = {**current, name: plain}
            if shows_it(render_witness(self.checked, trial)):
                current = trial
        return render_witness(self.checked, current)

    def _unreachable(self) -> list[Diagnostic]:
        found = []
        for i in sorted(self.exact_for - self.reached):
            rule = self.rules[i]
            found.append(
                warning(
                    Code.UNREACHABLE_RULE,
                    f"rule `{rule.id}` can never match: no facts within the declared types satisfy its condition",
                    rule.span,
                    hint=(
                        "it reads outputs that never take the values it compares them with; check the rules "
                        "that set them"
                        if reads(rule.condition).outputs
                        else "its comparisons exclude each other; check the constants and `and` / `or`"
                    ),
                    rules=(rule.id,),
                )
            )
        return found

    def _outputs_of(self, i: int) -> list[str]:
        return self._outputs[i]

    def _shadowed(self) -> list[Diagnostic]:
        """Rules that match for some facts but, wherever they match, lose every output they set."""
        found = []
        late: dict[str, None] = {}
        """Outputs with a rule whose witness was not replayed in time (in order, once each)."""
        for i, (output, values) in sorted(self.overridden.items()):
            self.progress.step()
            rule = self.rules[i]
            if i in self.won or i in self.redundant or i not in self.exact_for:
                continue
            if not set(self._outputs_of(i)) <= self.exact_outputs:
                continue

            def shows_it(witness: dict[str, Any], rule_id: str = rule.id, output: str = output) -> bool:
                replayed = self._replay(witness)
                return (
                    replayed is not None
                    and replayed.fired(rule_id)
                    and rule_id in replayed.resolution(output).overridden
                )

            try:
                witness = self._minimal(values, shows_it)
            except OutOfTime:
                late[output] = None  # (the witnesses already replayed still prove the others)
                continue
            if witness is None:  # never report what the real evaluator does not show, but say so
                why = "the facts that would show it shadowed cannot be decided (another rule raises an error there)"
                found.append(self.incomplete_note(Scope(output, [i], []), {i: [why]}, True, 0))
                continue
            replayed = self._replay(witness)
            assert replayed is not None  # it has just shown the finding
            resolved = replayed.resolution(output)
            deciding = resolved.winners or tuple(dict.fromkeys(x.rule for x in resolved.conflicting))
            names = ", ".join(f"`{w}`" for w in deciding) + ("" if resolved.winners else " in conflict")
            found.append(
                warning(
                    Code.SHADOWED_RULE,
                    f"rule `{rule.id}` never changes a decision: whenever it matches, other rules decide "
                    f"everything it sets (here {names} on `{output}`)",
                    rule.span,
                    hint="remove it, or change its condition or values so that it matters",
                    rules=(rule.id, *deciding),
                    witness=witness,
                )
            )
        found.extend(self._out_of_time(output) for output in late)
        return found

    def redundant_findings(self, output: str, implied: dict[int, set[int]]) -> list[Diagnostic]:
        """A rule that another rule with exactly the same actions always accompanies."""
        found = []
        for i, others in sorted(implied.items()):
            rule = self.rules[i]
            actions = self._action_keys[i]
            for j in sorted(others - {i}):
                other = self.rules[j]
                if self._action_keys[j] != actions or j in self.redundant or not self._as_strong(j, i):
                    continue
                if i in implied.get(j, set()) and j > i and self._as_strong(i, j):
                    continue  # the two always match together and stand in for each other: report the later only
                if output != self._outputs_of(i)[0]:
                    continue  # reported once, for the rule's first output
                self.redundant.add(i)
                found.append(
                    warning(
                        Code.REDUNDANT_RULE,
                        f"rule `{rule.id}` is redundant: whenever it matches, `{other.id}` matches too and "
                        "sets exactly the same values",
                        rule.span,
                        labels=(Label(other.span, "this rule already does it"),),
                        hint=f"remove `{rule.id}`, or merge its reason into `{other.id}`",
                        rules=(rule.id, other.id),
                    )
                )
                break
        return found

    def _as_strong(self, j: int, i: int) -> bool:
        """Whether rule j stands wherever rule i would on every output i sets: earlier under
        `resolve first`, of at least i's priority under `resolve priority`. Without i a rule
        between them could otherwise win (or break a tie) where i did."""
        for output in self._outputs_of(i):
            resolution = resolution_of(self.checked.outputs[output].resolution)
            if not resolution.ranks_rules:
                continue  # the values decide, wherever the rules stand
            if resolution.rank(j, self.rules[j].priority, None) < resolution.rank(i, self.rules[i].priority, None):
                return False
        return True

    def overlap_finding(self, output: str, pair: tuple[str, str], values: dict[str, Any]) -> Diagnostic | None:
        winner, loser = pair

        def shows_it(witness: dict[str, Any]) -> bool:
            replayed = self._replay(witness)
            if replayed is None:
                return False
            resolved = replayed.resolution(output)
            return winner in resolved.winners and loser in resolved.overridden

        witness = self._minimal(values, shows_it)
        if witness is None:
            return None  # never report what the real evaluator does not show
        resolution = self.checked.outputs[output].resolution
        return Diagnostic(
            code=Code.OVERLAP,
            severity=Severity.INFO,
            message=f"`{winner}` overrides `{loser}` on `{output}` by `resolve {resolution}` when both match",
            span=self._rule(loser).span,
            labels=(Label(self._rule(winner).span, "wins"),),
            rules=(winner, loser),
            witness=witness,
        )

    def incomplete_note(
        self, scope: Scope, inexact: dict[int, list[str]], exhaustive: bool, failures: int, reason: str = ""
    ) -> Diagnostic:
        reasons = [reason] if reason else []
        if not exhaustive:
            reasons.append(
                "its rules read facts with too many combinations to try them all; "
                f"{scope.sampled or MAX_COMBINATIONS:,} were sampled"
            )
        if failures:
            reasons.append(
                f"{failures} combinations of facts could not be decided (an error such as a division by zero)"
            )
        for i, why in inexact.items():
            reasons.append(f"rule `{self.rules[i].id}`: {'; '.join(why)}")
        named = tuple(self.rules[i].id for i in (inexact or scope.rules))
        return Diagnostic(
            code=Code.ANALYSIS_INCOMPLETE,
            severity=Severity.INFO,
            message=f"the analysis of `{scope.output}` is incomplete: what it reports is proven, "
            "but it cannot promise there is nothing more",
            span=self.checked.outputs[scope.output].span,
            notes=tuple(reasons),
            rules=named,
        )


@dataclass
class _Taint:
    """Why a rule reading a segment or let is outside the fragment: reasons, the lets that compute
    and the facts with too many values, each kept short (a few are enough to say why)."""

    outside: list[str]
    computing: list[str]
    inexact: list[str]

    def add(self, other: _Taint) -> None:
        self.outside = list(dict.fromkeys(self.outside + other.outside))[:_TAINT_NAMES]
        self.computing = list(dict.fromkeys(self.computing + other.computing))[:_TAINT_NAMES]
        self.inexact = list(dict.fromkeys(self.inexact + other.inexact))[:_TAINT_NAMES]


_TAINT_NAMES = 4
"""Lets (or facts, or reasons) kept per segment or let: three are named, a fourth says there are more."""


def _lets_that_compute(keys: list[str], sources: dict[str, list[str]]) -> list[str]:
    """The reason a rule reading these lets is outside the fragment, with what each computes from
    (`sources`: `_Analysis._computed_from`): the first few are named (a chain of lets, each
    computing from the one before, would otherwise name every one of them)."""
    if len(keys) <= 3:
        return [f"it reads the let `{key}`, which is computed from {_listed(sources[key])}" for key in keys]
    named = ", ".join(f"`{key}`" for key in keys[:3])
    inputs = _listed(list(dict.fromkeys(name for key in keys for name in sources[key])))
    return [f"it reads the lets {named} and others, which are computed from {inputs}"]


def _listed(names: list[str]) -> str:
    """The first three of some names, already quoted, and "and others" if there are more; for
    none, "constants" (a let that computes from nothing else)."""
    if not names:
        return "constants"
    return ", ".join(names[:3]) + (" and others" if len(names) > 3 else "")


def _computed(action: c.Assignment) -> str:
    """Why an action that sets a computed value leaves the fragment, naming where the value comes from."""
    value = action.value
    if isinstance(value, c.FactRef):
        return f"`{action.output}` is copied from `{value.name}`, whose values the analysis does not enumerate"
    facts = sorted(reads(value).facts)
    if facts:
        named = ", ".join(f"`{f}`" for f in facts[:3]) + (" and others" if len(facts) > 3 else "")
        return f"`{action.output}` is computed from {named}, whose values the analysis does not enumerate"
    return f"`{action.output}` is computed, and the analysis does not enumerate its values"


def _set_bits(mask: int) -> Iterator[int]:
    for start, end in runs_of(mask):  # (a range of thousands of classes is one run)
        yield from range(start, end + 1)


_UNDECIDED_GAP = (
    "the facts that would show it left without a value cannot be decided (another rule raises an error there)"
)


def _actions(rule: c.CheckedRule) -> frozenset[tuple[str, str, Any]]:
    return frozenset(
        (a.output, a.op, (type(a.value.value).__name__, a.value.value) if isinstance(a.value, c.Const) else id(a))
        for a in rule.actions
    )


def _written(rule: c.CheckedRule, output: str, value: Any) -> str:
    """A rule's value for an output as the policy writes it (`24h`, not `1d`; strings quoted)."""
    for action in rule.actions:
        if action.op == "add":
            continue  # `+= {y}` proposes the default and y: shown as the value
        if action.output == output and isinstance(action.value, c.Const) and action.value.node is not None:
            return unparse_expr(action.value.node)
    return _shown(value)


def render_witness(policy: c.CheckedPolicy, values: dict[str, Any]) -> dict[str, Any]:
    """Runtime fact values as a facts file gives them (durations as literals, dates ISO 8601, sets as
    lists); facts that are missing or at their default are left out."""
    witness = {}
    for name, value in sorted(values.items()):
        fact = policy.facts[name]
        if value is MISSING or (fact.has_default and value == fact.default and type(value) is type(fact.default)):
            continue
        witness[name] = to_json_value(value)
    return witness


def _shown(value: Any) -> str:
    return spell_value(value, absent="None", text=str)
