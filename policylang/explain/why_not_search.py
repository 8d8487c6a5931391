"""The search behind a why-not answer: the fewest facts to change, then the smallest change.

Each way to the asked value (a rule that can set it, or the default) is searched one size at a
time, all ways at a size before any at the next, so the first size at which some way works is the
fewest facts any way needs (within MAX_FACTS_CHANGED), and no way is searched past it: a
thousand-rule policy is not searched to three facts for rules that cannot beat one.

At one size, a way tries its own facts (what its rule reads, through segments, lets and outputs),
every choice of that many of them, each fact over the values why_not_values.py gives it (its
classes, and what its comparisons with other facts point to on the change tried so far). A change
that makes the rule match but lose to another rule is kept, and at the larger sizes extended with
the facts of the rules that beat it (or, for a set output, of every rule that adds to it), so that
they stop applying (or start). Every change is decided again with the policy's own decision
function, and counts only when the output then has the value from this way.

The change found is then made the smallest of its size (why_not_values.nearness): each changed
fact in turn takes the nearest value that still works, the others kept, until none moves.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core.resolution import Resolved
from ..core.values import MISSING, same_value
from ..engine.evaluator import Decision, Policy, Record, full_record, recorded
from ..engine.runtime import EvaluationError
from ..semantics import typed_tree as c
from .why_not_reading import Reading, reading
from .why_not_values import class_values, identical, nearer_values, nearness, proposed, rule_matches

MAX_FACTS_CHANGED = 3
MAX_TRIES = 20_000
"""Decisions tried per way (a rule or the default) before giving up on it (and saying so)."""


class _GaveUp(Exception):
    """MAX_TRIES decisions were tried for one way without an answer."""


@dataclass
class Way:
    """A way to the asked value: a rule that can set it (`rule`), or the default (`rule` None)."""

    rule: c.CheckedRule | None
    own: list[str]
    """The facts it reads, in policy order (for the default: those of every rule that sets the output)."""
    losing: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """By size, the changes of its own facts that make its rule match but lose."""
    solution: dict[str, Any] | None = None
    searched: int = -1
    """The largest size searched without an answer."""
    gave_up: bool = False
    tries: int = 0


class Search:
    """Decides again on changed facts for one question, remembering every decision made."""

    def __init__(self, policy: Policy, decision: Decision, output: str, target: Any) -> None:
        self.policy, self.decision, self.output, self.target = policy, decision, output, target
        self.read: Reading = reading(policy)
        self.checked = policy.checked
        self.values: dict[str, Any] = dict(decision.facts)
        self.index = list(policy.decision_graph.output_names).index(output)
        self.resolve = policy.decision_graph.resolvers[self.index]
        self.memo: dict[tuple[Any, ...], Record | None] = {}
        self.classes: dict[str, list[Any]] = {}
        self.order = {name: i for i, name in enumerate(self.checked.facts)}
        self.setters = self.read.setters[output]
        self.way: Way | None = None

    def way_of(self, rule: c.CheckedRule | None) -> Way:
        if rule is None:
            facts: set[str] = set()
            for setter in self.setters:
                facts |= self.read.reads[setter.id]
        else:
            facts = set(self.read.reads[rule.id])
        return Way(rule, sorted(facts, key=self.order.__getitem__))

    # --- one size ---------------------------------------------------------------------------------

    def attempt(self, way: Way, size: int) -> dict[str, Any] | None:
        """A change of exactly `size` facts that gives the value by this way, made the smallest of
        its size, or None; past MAX_TRIES decisions for the way, None with `way.gave_up` set."""
        try:
            found = self._attempt(way, size)
            return None if found is None else self._tightened(way, found)
        except _GaveUp:
            way.gave_up = True
            return None

    def _attempt(self, way: Way, size: int) -> dict[str, Any] | None:
        self.way = way
        for changed in self._assignments(way.own, size, {}):
            if way.rule is not None and rule_matches(self.read, way.rule, {**self.values, **changed}) is False:
                continue  # its rule does not match: neither an answer nor a change to build on
            works, matched = self._outcome(way, changed)
            if works:
                return changed
            if matched and way.rule is not None:
                way.losing.setdefault(size, []).append(changed)
        for smaller in range(size):
            for base in way.losing.get(smaller, []):
                rivals = self._rivals(way, base)
                if self._fewest_to_stop(way, base, rivals) > size - smaller:
                    continue  # the rules that win now read too few of these facts to all stop
                for changed in self._assignments(rivals, size - smaller, base):
                    if self._outcome(way, changed)[0]:
                        return changed
        way.searched = size
        return None

    def can_grow(self, way: Way, size: int) -> bool:
        """Whether searching `size` facts can find anything new for the way."""
        return size <= len(way.own) or any(way.losing.get(s) for s in range(size))

    def _rivals(self, way: Way, base: dict[str, Any]) -> list[str]:
        """The facts of the rules that must stop (or start) applying for the way's rule to give the
        value: the other setters that matched on the change (all other setters, for a set output,
        where another rule may have to add its elements too)."""
        record = self._record(base)
        matched = set(record[0]) if record is not None else set()
        every = isinstance(self.target, frozenset)
        facts: set[str] = set()
        for rule in self.setters:
            if rule is not way.rule and (every or self.read.position[rule.id] in matched):
                facts |= self.read.reads[rule.id]
        return sorted(facts - set(way.own) - set(base), key=self.order.__getitem__)

    def _fewest_to_stop(self, way: Way, base: dict[str, Any], rivals: list[str]) -> int:
        """A lower bound on the rival facts to change: every rule that wins on the change now
        (the way's rule matches and loses) must stop matching, which only a change of a fact it
        reads can do; no fact is read by more than the most of them any one fact is. 0 when the
        output is in conflict or is a set (another rule may have to start instead)."""
        resolved = self.resolved(base)
        if resolved is None or resolved.status != "value" or isinstance(self.target, frozenset):
            return 0
        winners = [self.read.reads[w] for w in resolved.winners if way.rule is None or w != way.rule.id]
        if not winners:
            return 0
        allowed = set(rivals)
        most = 0
        for name in allowed:
            most = max(most, sum(name in read for read in winners))
        if most == 0 or any(not (read & allowed) for read in winners):
            return MAX_FACTS_CHANGED + 1  # a winner reads none of the facts left to change
        return -(-len(winners) // most)

    def _assignments(self, facts: list[str], count: int, base: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every change of `count` of the facts (added to `base`), one value per class each, each
        fact's values worked out on the values already chosen for the ones before it."""
        for chosen in itertools.combinations(facts, count):
            related = [name for name in chosen if self.read.relations[name]]
            if len(related) < 2:
                yield from self._extend(list(chosen), dict(base))
                continue
            # Facts compared with each other: each fact's values are worked out on those chosen
            # before it, so every order is tried (`i0 < i1 and i1 * 2 <= i0` from 0, 0 needs
            # i1 = -1 chosen first, then i0 = -2 below it).
            for order in itertools.permutations(chosen):
                yield from self._extend(list(order), dict(base))

    def _extend(self, chosen: list[str], changed: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if not chosen:
            yield dict(changed)
            return
        name, rest = chosen[0], chosen[1:]
        for value in self._values(name, changed):
            changed[name] = value
            yield from self._extend(rest, changed)
        changed.pop(name, None)

    def _values(self, name: str, changed: dict[str, Any]) -> list[Any]:
        """The fact's values to try: what its comparisons with other facts point to on the change
        so far, then one per class, nearest the current value first; never the current value."""
        if name not in self.classes:
            self.classes[name] = class_values(self.read, name, self.values.get(name, MISSING))
        if not self.read.relations[name]:
            return self.classes[name]
        now = self.values.get(name, MISSING)
        found: list[Any] = []
        for value in [*proposed(self.read, name, {**self.values, **changed}), *self.classes[name]]:
            if not identical(value, now) and not any(identical(value, kept) for kept in found):
                found.append(value)
        return found

    # --- deciding again -----------------------------------------------------------------------------

    def _record(self, changed: dict[str, Any]) -> Record | None:
        """The full decision on the changed facts (None when they cannot be decided), remembered
        across the ways asked about: they often try the same changes."""
        key = _key(changed)
        if key not in self.memo:
            way = self.way
            if way is not None:
                way.tries += 1
                if way.tries > MAX_TRIES:
                    raise _GaveUp
            try:
                self.memo[key] = full_record(self.policy, {**self.values, **changed}, self.decision.as_of)
            except (EvaluationError, ArithmeticError, TypeError):
                self.memo[key] = None  # these facts cannot be decided: not an answer
        return self.memo[key]

    def resolved(self, changed: dict[str, Any]) -> Resolved | None:
        record = self._record(changed)
        return None if record is None else self.resolve(record[1][self.index])

    def _outcome(self, way: Way, changed: dict[str, Any]) -> tuple[bool, bool]:
        """(it gives the value by this way, the way's rule matched)."""
        record = self._record(changed)
        if record is None:
            return False, False
        resolved = self.resolve(record[1][self.index])
        if way.rule is None:
            return resolved.status == "default", False
        if self.read.position[way.rule.id] not in record[0]:
            return False, False
        works = (
            resolved.status == "value" and same_value(resolved.value, self.target) and way.rule.id in resolved.winners
        )
        return works, True

    # --- the smallest change of the size found ----------------------------------------------------

    def _tightened(self, way: Way, changed: dict[str, Any]) -> dict[str, Any]:
        """The change with each fact moved to the nearest value that still works, the others kept,
        until no fact moves (every fact then has the nearest value it can have with the others)."""
        for _ in range(len(changed) + 1):
            moved = False
            for name in list(changed):
                now = self.values.get(name, MISSING)
                others = {**self.values, **changed}
                existing = [*self.read.constants[name], *(v for k, v in others.items() if k != name)]
                key = nearness(now, self.checked.facts[name].type, existing)
                for value in nearer_values(self.read, name, now, others):
                    if key(value) >= key(changed[name]):
                        break
                    trial = {**changed, name: value}
                    if self._outcome(way, trial)[0]:
                        changed, moved = trial, True
                        break
            if not moved:
                break
        return changed

    def stopped_and_started(self, way: Way, changed: dict[str, Any]) -> tuple[list[str], list[str]]:
        """The other rules that set the output and stop, or start, applying with the change."""
        before = set(recorded(self.decision)[0])
        record = self._record(changed)
        after = set(record[0]) if record is not None else before
        mine = self.read.position[way.rule.id] if way.rule is not None else None
        setters = {self.read.position[r.id] for r in self.setters} - {mine}
        ids = [r.id for r in self.checked.rules]
        return [ids[i] for i in sorted((before - after) & setters)], [
            ids[i] for i in sorted((after - before) & setters)
        ]

    def exact(self) -> bool:
        """Whether the values tried are every class there is: every fact the rules that set the
        output read is compared with constants only, and its classes are exact
        (fact_domains.representatives: not a sample of a large set, nor of a fact compared with `now`)."""
        facts: set[str] = set()
        for rule in self.setters:
            facts |= self.read.reads[rule.id]
        return all(self.read.classes[n][1] and not self.read.relations[n] for n in facts)


def _key(changed: dict[str, Any]) -> tuple[Any, ...]:
    """A key for a change: each value with its type, so that `1` and `true` never share a decision."""
    return tuple(sorted((name, type(value).__name__, value) for name, value in changed.items()))
