"""What the analysis reads of a policy before it proves anything: each fact's classes of values
(fact_domains.py), which rules set each output and what they propose, and, per output, its scope:
the rules that can affect it (those that set it and, transitively, those setting the outputs they
read), the facts they read, and why a rule is outside the region fragment where it is.

`PolicyReading` is the bottom of the analysis's classes: witnesses.py proves findings on it,
region_findings.py finds them by regions, and analyser.py runs the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.datatypes import BOOL, EnumOf
from ..core.json_codec import to_json_value
from ..core.resolution import resolution_of
from ..core.values import MISSING, order_key
from ..engine.evaluator import Policy
from ..engine.facts import fact_default
from ..semantics import typed_tree as c
from .budget import Deadline, budget_seconds
from .enumeration import Scope
from .fact_domains import Reads, constants_by_fact, facts_in_arithmetic, reads, representatives
from .progress import Progress
from .regions import (
    Conditions,
)


class PolicyReading:
    """A policy read for its analysis: its facts' classes, its rules' outputs and proposals, and
    what has been learnt about the rules so far (the sets the findings are worked out from)."""

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
            self.deadline.check()  # (reading is linear, but a policy of 100k rules has 100k constants)
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
        self.readable = []
        for name in self.checked.facts:
            self.deadline.check()
            self.readable.append(sorted(range(len(self.domains[name])), key=self._plainness(name)))
        """Per fact, its classes from the one whose value reads best in a witness (short, not negative)."""
        self.readable_rank = [{cls: k for k, cls in enumerate(order)} for order in self.readable]
        self.setters: dict[str, list[int]] = {name: [] for name in self.checked.outputs}
        self.proposals: list[dict[str, Any]] = []
        """Per rule, the value it proposes for each output it sets to a constant (`_constant`)."""
        self.computing: list[set[str]] = []
        """Per rule, the outputs it sets to a computed value."""
        for i, rule in enumerate(self.rules):
            if i % 1024 == 0:
                self.deadline.check()
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
        self.redundant: set[int] = set()
        self.exact_for: set[int] = set()
        """Rules whose reachability some exhaustive enumeration covered."""

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

    def _values(self, point: list[int]) -> dict[str, Any]:
        return {name: self.domains[name][cls] for name, cls in zip(self.checked.facts, point, strict=True)}

    def _plainness(self, name: str) -> Any:
        values = self.domains[name]

        def key(cls: int) -> tuple[bool, int, int]:
            text = str(to_json_value(values[cls]))
            return (text.startswith("-"), len(text), cls)

        return key

    def base_value(self, name: str) -> Any:
        fact = self.checked.facts[name]
        if fact.has_default:
            return fact_default(fact)
        if fact.optional:
            return MISSING
        return self.domains[name][0]

    def computing_on(self, output: str, *rule_ids: str) -> bool:
        """Whether any of the rules sets the output to a computed value (which differs by facts)."""
        return any(output in self.computing[self.position[r]] for r in rule_ids)

    def _rule(self, rule_id: str) -> c.CheckedRule:
        return self.rules[self.position[rule_id]]

    def _outputs_of(self, i: int) -> list[str]:
        return self._outputs[i]


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


def _actions(rule: c.CheckedRule) -> frozenset[tuple[str, str, Any]]:
    return frozenset(
        (a.output, a.op, (type(a.value.value).__name__, a.value.value) if isinstance(a.value, c.Const) else id(a))
        for a in rule.actions
    )
