"""Checks a test file's cases against the policy they test: every output, segment, let and rule
they name exists, and every expected value converts to its type (so `240m` expects what `4h` does).

Problems point at the test file; a file with any of them runs nothing (exit 2).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.datatypes import describe
from ..core.diagnostics import Code, Diagnostic, did_you_mean, error
from ..core.json_codec import to_json_value
from ..core.spelling import spell
from ..engine.facts import converter_for
from ..semantics.typed_tree import legacy_rule_ids
from .model import CaseSpec, Expected, RuleRef

if TYPE_CHECKING:
    from ..engine.evaluator import Policy

ABSENT: Any = object()
"""The expected value of an output written as `null`: it must have no value."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """One expected value, converted to its output's type. `derived`: a segment or let, read from
    the decision's trace rather than its outputs."""

    name: str
    derived: bool
    value: Any
    shown: str


@dataclass(frozen=True)
class BoundCase:
    """A case whose names and values fit its policy, ready to run."""

    spec: CaseSpec
    expectations: tuple[Expectation, ...]


def bind(cases: tuple[CaseSpec, ...], policy: Policy) -> tuple[list[BoundCase], list[Diagnostic]]:
    """The cases ready to run, and the problems with their names and values (every one of them)."""
    bound: list[BoundCase] = []
    problems: list[Diagnostic] = []
    rule_ids = [rule.id for rule in policy.checked.rules]
    legacy = legacy_rule_ids(policy.checked)
    for case in cases:
        expectations = [x for x in (_expectation(e, policy, problems) for e in case.expect) if x is not None]
        refs: list[RuleRef] = [*(case.fired or ()), *case.fired_includes, *case.not_fired]
        for ref in refs:
            if ref.rule not in rule_ids:
                problems.append(_unknown_rule(ref, rule_ids, policy.checked.root, legacy.get(ref.rule)))
        bound.append(BoundCase(case, tuple(expectations)))
    return bound, problems


def _expectation(expected: Expected, policy: Policy, problems: list[Diagnostic]) -> Expectation | None:
    checked = policy.checked
    name = expected.name
    if name in checked.outputs:
        kind, derived = checked.outputs[name].type, False
    elif name in checked.derived:
        kind, derived = checked.derived[name].type, True
    else:
        names = [*checked.outputs, *checked.derived]
        listed = ", ".join(f"`{n}`" for n in checked.outputs) or "none"
        problems.append(
            error(
                Code.UNKNOWN_NAME,
                f"`{name}` is not an output, segment or let of `{checked.root}`",
                expected.name_span,
                hint=did_you_mean(name, names) or f"its outputs are {listed}",
            )
        )
        return None
    if expected.written is None:
        return Expectation(name, derived, ABSENT, "no value")
    try:
        value = converter_for(kind)(expected.written)
    except ValueError as exc:
        problems.append(
            error(
                Code.TYPE_MISMATCH,
                f"`{name}`: {getattr(exc, 'message', str(exc))}",
                expected.value_span,
                label=f"`{name}` is {describe(kind)}",
                hint=getattr(exc, "hint", None) or "write the value as a facts file would give it",
            )
        )
        return None
    return Expectation(name, derived, value, show(to_json_value(value)))


def _unknown_rule(ref: RuleRef, rule_ids: list[str], root: str, renamed: str | None) -> Diagnostic:
    """`renamed` is today's id of the rule when `ref` is the line-based id policylang 0.1 gave it."""
    shown = ", ".join(f"`{r}`" for r in rule_ids[:8]) + (", ..." if len(rule_ids) > 8 else "")
    if renamed is not None:
        hint = f"anonymous rules are numbered now, not named by line: write `{renamed}`"
    else:
        hint = did_you_mean(ref.rule, rule_ids) or (f"its rules are {shown}" if rule_ids else "it has no rules")
    return error(Code.UNKNOWN_NAME, f"`{root}` has no rule `{ref.rule}`", ref.span, hint=hint)


_BARE = re.compile(r"^[\w.:+-]+$")


def _quoted_unless_bare(text: str) -> str:
    # Unlike an explanation, a test report leaves C1 and bidi characters as they are (the CLI escapes
    # what it prints) and keeps a text ending in one newline bare (`$` matches before it): kept as it was.
    return text if _BARE.match(text) else json.dumps(text, ensure_ascii=False)


def show(value: Any) -> str:
    """A JSON value (`to_json_value`) as the language writes it (core.spelling): `4h`, `true`, `{a, b}`,
    `priority`; text that would not read back as itself is quoted."""
    return spell(value, absent="no value", text=_quoted_unless_bare)
