"""What why-not needs of a policy, worked out once per policy and kept with it, as the tracer is.

A question about a policy of a thousand rules must not walk every rule's condition again for every
rule it asks about: which rules set each output, which facts each rule reads (through segments,
lets and the outputs it reads), each fact's classes (analysis/fact_domains.py), the comparisons of
a fact with another fact or a computed value, and where a comparison reads a fact through an
operator or function that cannot propose a value (core/operators.py, `Proposal.NONE`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..analysis.fact_domains import constants_by_fact, facts_in_arithmetic, reads, representatives
from ..core import operators as ops
from ..semantics import typed_tree as c

Evaluate = Callable[[dict[str, Any]], Any]


@dataclass
class Relation:
    """A comparison why-not cannot cut into classes: two facts, or a computed value, compared."""

    node: c.CheckedExpr
    facts: frozenset[str]


@dataclass
class Reading:
    """What why-not needs of a policy, worked out once per policy."""

    checked: c.CheckedPolicy
    setters: dict[str, list[c.CheckedRule]]
    """Per output, the rules that set it, in file order."""
    reads: dict[str, frozenset[str]]
    """Per rule id, the facts its condition and actions read, through segments, lets and outputs."""
    classes: dict[str, tuple[list[Any], bool]]
    """Per fact, one value per class (fact_domains.representatives), and whether they are exact."""
    constants: dict[str, list[Any]]
    relations: dict[str, list[Relation]]
    """Per fact, the comparisons of it with another fact or a computed value."""
    blind: dict[str, str]
    """Per fact, a comparison that reads it through an operator or function that cannot propose a
    value (its text), when there is one."""
    position: dict[str, int]
    """Per rule id, its index in the policy's rules."""

    evaluators: dict[c.CheckedExpr, Evaluate] = field(default_factory=dict)
    """Compiled sides of comparisons (`_evaluate`), made when first needed."""
    matchers: dict[str, Evaluate | None] = field(default_factory=dict)
    """Per rule id, its condition compiled alone (why_not_values.rule_matches), when first needed."""
    derived_facts: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per segment or let, the facts it reads."""
    words: dict[str, list[c.CheckedExpr]] | None = None
    """Comparisons of one fact with constants, by fact (why_not_words.atoms_by_fact), when first needed."""


_READINGS: weakref.WeakKeyDictionary[Any, Reading] = weakref.WeakKeyDictionary()


def reading(policy: Any) -> Reading:
    """The policy's Reading, made the first time a why-not question is asked of it, and kept as
    long as the policy lives (a Policy: its checked tree is a value, not a key)."""
    found = _READINGS.get(policy)
    if found is None:
        found = _READINGS[policy] = _read(policy.checked)
    return found


def _read(checked: c.CheckedPolicy) -> Reading:
    setters: dict[str, list[c.CheckedRule]] = {name: [] for name in checked.outputs}
    for rule in checked.rules:
        for name in dict.fromkeys(a.output for a in rule.actions):
            setters[name].append(rule)
    derived_facts: dict[str, frozenset[str]] = {}
    output_facts: dict[str, frozenset[str]] = {}

    def facts_of(expr: c.CheckedExpr, following: frozenset[str]) -> set[str]:
        found = reads(expr)
        facts = set(found.facts)
        for key in found.derived:
            if key not in derived_facts:
                derived_facts[key] = frozenset(facts_of(checked.derived[key].expr, following))
            facts |= derived_facts[key]
        for name in found.outputs:
            facts |= output_read(name, following)
        return facts

    def output_read(name: str, following: frozenset[str]) -> frozenset[str]:
        if name in output_facts:
            return output_facts[name]
        if name in following:
            return frozenset()  # (outputs never depend on themselves: the checker refuses cycles)
        facts: set[str] = set()
        for rule in setters[name]:
            facts |= facts_of(rule.condition, following | {name})
            for action in rule.actions:
                facts |= facts_of(action.value, following | {name})
        output_facts[name] = frozenset(facts)
        return output_facts[name]

    rule_reads: dict[str, frozenset[str]] = {}
    for rule in checked.rules:
        facts = facts_of(rule.condition, frozenset())
        for action in rule.actions:
            facts |= facts_of(action.value, frozenset())
        rule_reads[rule.id] = frozenset(facts)
    constants = constants_by_fact(checked)
    computed = facts_in_arithmetic(checked)
    classes = {name: representatives(fact, constants[name], name in computed) for name, fact in checked.facts.items()}
    relations: dict[str, list[Relation]] = {name: [] for name in checked.facts}
    blind: dict[str, str] = {}
    for node in c.walk(c.policy_expressions(checked)):
        if not isinstance(node, c.Compare | c.Membership | c.Between):
            continue
        sides = c.children(node)
        if sum(not isinstance(side, c.Const) for side in sides) < 2 and all(
            isinstance(side, c.Const | c.FactRef)
            or (isinstance(side, c.DerivedRef) and checked.derived[side.key].kind != "let")
            for side in sides
        ):
            continue  # one fact (or a segment) against constants: its classes cover it
        compared = frozenset(facts_of(node, frozenset()))
        relation = Relation(node, compared)
        for name in compared:
            relations[name].append(relation)
            if (why := cannot_propose(node)) is not None:
                blind.setdefault(name, why)
    position = {rule.id: i for i, rule in enumerate(checked.rules)}
    read = Reading(checked, setters, rule_reads, classes, constants, relations, blind, position)
    read.derived_facts = derived_facts
    return read


def facts_in(read: Reading, expr: c.CheckedExpr) -> frozenset[str]:
    """The facts an expression reads, through the lets and segments it reads (not outputs)."""
    found = reads(expr)
    facts = set(found.facts)
    for key in found.derived:
        if key not in read.derived_facts:
            read.derived_facts[key] = facts_in(read, read.checked.derived[key].expr)
        facts |= read.derived_facts[key]
    return frozenset(facts)


def cannot_propose(node: c.CheckedExpr) -> str | None:
    """The text of a part of a comparison that reads a fact through an operator or function
    whose table entry says why-not cannot propose a value through it, or None."""
    for part in c.walk([node]):
        proposal = _proposal(part)
        if proposal is ops.Proposal.NONE and reads(part).facts:
            return c.text_of(part)
    return None


def _proposal(node: c.CheckedExpr) -> ops.Proposal | None:
    """The operator table's Proposal for a node that has an operator or a function, else None."""
    if isinstance(node, c.Call):
        function = ops.FUNCTIONS.get(node.function)
        return ops.Proposal.NONE if function is None else function.why_not
    spelling = "-x" if isinstance(node, c.Negate) else getattr(node, "op", None)
    if isinstance(node, c.Conditional):
        spelling = "if then else"
    if isinstance(node, c.Between):
        spelling = "between"
    if isinstance(node, c.Presence):
        spelling = "is missing" if node.missing else "is present"
    if spelling is None:
        return None
    operator = ops.BY_SPELLING.get(spelling)
    return ops.Proposal.NONE if operator is None else operator.why_not
