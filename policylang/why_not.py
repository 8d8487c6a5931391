"""Why-not questions: "why did this customer not get `sla=4h`, and what would it take?"

For every rule that can set the output to the asked value, the smallest change to the decision's
facts that makes the rule apply and the output take that value. Each fact's values are cut into
the classes the static analysis uses (domains.py: no condition tells two values of one class
apart), so trying one value per class, nearest the current value first, and changing one fact,
then two, then three, finds the fewest facts to change. Every change is verified by deciding
again on the changed facts with the policy's own decision function: an answer is never a guess.
When no rule sets the output to that value, it says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from . import checked as c
from .datatypes import BOOL, SetOf
from .domains import constants_by_fact, facts_in_arithmetic, reads, representatives
from .facts import MISSING, converter_for
from .values import Duration

if TYPE_CHECKING:
    from .evaluator import Decision, Policy, Record

MAX_FACTS_CHANGED = 3
MAX_TRIES = 20_000
"""Decisions tried per rule before giving up on finding a change (and saying so)."""


class Change(BaseModel):
    """One fact to change: from what it is to a value that works, and which condition wants it."""

    model_config = ConfigDict(frozen=True)

    fact: str
    was: Any
    """The fact's value in the decision (null when missing)."""
    to: Any
    """A value that works (JSON; null means leaving the fact out)."""
    text: str
    """In words: "`tenure > 2y`: is `1y3m`, needs more than `2y` (for example `731d`)"."""


class Candidate(BaseModel):
    """A rule that can set the output to the asked value, and what it would take."""

    model_config = ConfigDict(frozen=True)

    rule: str
    location: str
    sets: str
    verified: bool
    """True when deciding again with `changes` applied gives the output the asked value from this rule."""
    changes: list[Change] = []
    summary: str


class WhyNot(BaseModel):
    """The answer to "why not `output = wanted`?"."""

    model_config = ConfigDict(frozen=True)

    output: str
    wanted: str
    """The asked value as the language writes it."""
    status: Literal["already", "possible", "not-found", "impossible"]
    """`already`: the decision has it; `possible`: some rule gets it with the changes shown;
    `not-found`: rules can set it but no change of up to three facts was found; `impossible`:
    no rule can ever set the output to that value."""
    summary: str
    candidates: list[Candidate] = []


class _GaveUp(Exception):
    """MAX_TRIES decisions were tried for one rule without an answer."""


class WhyNotError(ValueError):
    """The question names an output the policy does not have, or a value of the wrong type."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def why_not(decision: Decision, wanted: str, value: Any = None) -> WhyNot:
    from .evaluator import to_json_value

    policy = decision.policy
    checked = policy.checked
    output_name, target = _question(checked, wanted, value)
    output = checked.outputs[output_name]
    shown = _literal(to_json_value(target))
    current = decision.outputs.get(output_name, MISSING)
    if current is not MISSING and _same(current, target):
        return WhyNot(output=output_name, wanted=shown, status="already", summary=f"{output_name} is already {shown}.")
    setters = [rule for rule in checked.rules if any(a.output == output_name for a in rule.actions)]
    able = [rule for rule in setters if _can_propose(rule, output_name, target, output)]
    if not able:
        values = sorted(
            {
                _literal(to_json_value(a.value.value))
                for rule in setters
                for a in rule.actions
                if a.output == output_name and isinstance(a.value, c.Const)
            }
        )
        said = f" Its rules set {', '.join(values)}." if values else " No rule sets it."
        default = f" Its default is {_literal(to_json_value(output.default))}." if output.has_default else ""
        return WhyNot(
            output=output_name,
            wanted=shown,
            status="impossible",
            summary=f"No rule can ever set {output_name} to {shown}.{said}{default}",
        )
    search = _Search(policy, decision, output_name, target)
    candidates = [search.candidate(rule) for rule in able]
    found = [x for x in candidates if x.verified]
    if found:
        fewest = min(len(x.changes) for x in found)
        facts = f"{fewest} fact" + ("" if fewest == 1 else "s")
        if len(found) == 1:
            could = f"{found[0].rule} would give {shown} with {facts} changed."
        else:
            could = f"{len(found)} rules could give {shown}; the fewest facts to change is {fewest}."
        summary = f"{output_name} is {_current(current, to_json_value)}, not {shown}. {could}"
        status: Literal["possible", "not-found"] = "possible"
    else:
        summary = (
            f"{output_name} is {_current(current, to_json_value)}, not {shown}. Rules can set {shown}, "
            f"but no change of up to {MAX_FACTS_CHANGED} facts that makes one of them do so was found."
        )
        status = "not-found"
    candidates.sort(key=lambda x: (not x.verified, len(x.changes)))
    return WhyNot(output=output_name, wanted=shown, status=status, summary=summary, candidates=candidates)


def _question(checked: c.CheckedPolicy, wanted: str, value: Any) -> tuple[str, Any]:
    """("sla=4h") or ("sla", value) -> (output, runtime value of the output's type)."""
    name, sep, raw = wanted.partition("=")
    name = name.strip()
    negated = False
    if not sep and value is None and name.startswith("not "):
        name, negated = name[4:].strip(), True
    if name not in checked.outputs:
        from .diagnostics import did_you_mean

        close = did_you_mean(name, list(checked.outputs))
        known = ", ".join(f"`{o}`" for o in checked.outputs) or "none"
        raise WhyNotError(f"the policy has no output `{name}`", close or f"its outputs: {known}")
    output = checked.outputs[name]
    if sep:
        value = raw.strip()
    elif value is None:
        if output.type != BOOL:
            raise WhyNotError(f"`{name}` is not a flag: ask for a value", f'write it as "{name}=VALUE"')
        return name, not negated
    try:
        return name, _convert(output.type, value)
    except ValueError as exc:
        message = getattr(exc, "message", str(exc))
        hint = getattr(exc, "hint", None) or f"write a value of `{name}` as the policy writes it, such as its default"
        raise WhyNotError(f"`{value}` is not a value of `{name}`: {message}", hint) from None


def _convert(t: Any, value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if t == BOOL and text in ("true", "false"):
            return text == "true"
        if isinstance(t, SetOf):
            inner = text.strip("{}[]")
            value = [item.strip().strip("\"'") for item in inner.split(",") if item.strip()]
        elif len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            value = text[1:-1]
        else:
            value = text
    return converter_for(t)(value)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _can_propose(rule: c.CheckedRule, output_name: str, target: Any, output: c.Output) -> bool:
    """Whether the rule can propose a value that makes the output `target` (a computed value may)."""
    for action in rule.actions:
        if action.output != output_name:
            continue
        if not isinstance(action.value, c.Const):
            return True
        proposed = action.value.value
        if action.op == "add" or output.resolution == "union":
            if isinstance(target, frozenset) and frozenset(proposed) <= target:
                return True
        elif _same(proposed, target) or (
            output.type == BOOL and output.resolution == "all" and target is False and proposed is False
        ):
            return True
    return False


class _Search:
    """Decides again on changed facts, fewest facts changed first, nearest values first."""

    def __init__(self, policy: Policy, decision: Decision, output: str, target: Any) -> None:
        self.policy, self.decision, self.output, self.target = policy, decision, output, target
        checked = policy.checked
        self.checked = checked
        self.values = dict(decision.facts)
        constants = constants_by_fact(checked)
        computed = facts_in_arithmetic(checked)
        self.alternatives: dict[str, list[Any]] = {}
        for name, fact in checked.facts.items():
            found, _ = representatives(fact, constants[name], name in computed)
            now = self.values.get(name, MISSING)
            others = [v for v in found if not _identical(v, now)]
            self.alternatives[name] = sorted(others, key=_nearness(now))
        self.index = list(policy.decision_graph.output_names).index(output)
        self.tracer_parts = _atoms_by_fact(checked)
        self.position = {rule.id: i for i, rule in enumerate(checked.rules)}
        self.memo: dict[tuple[Any, ...], Record | None] = {}
        self.tries = 0

    def candidate(self, rule: c.CheckedRule) -> Candidate:
        from .evaluator import to_json_value

        location = f"{rule.span.file}:{rule.span.line}"
        sets = ", ".join(
            self.checked.sources[a.span.file].text[a.span.start : a.span.end]
            for a in rule.actions
            if a.output == self.output and a.span.file in self.checked.sources
        )
        own, rivals = self._facts_for(rule)
        try:
            changed = self._smallest(rule, own, rivals)
        except _GaveUp:
            return Candidate(
                rule=rule.id,
                location=location,
                sets=sets,
                verified=False,
                summary=f"no change found in {MAX_TRIES:,} decisions tried",
            )
        if changed is None:
            if not own:
                summary = "its condition reads no fact, and it does not give the value on these facts"
            else:
                most = min(MAX_FACTS_CHANGED, len(own) + len(rivals))
                summary = f"no change of up to {most} facts makes it give the value"
            return Candidate(rule=rule.id, location=location, sets=sets, verified=False, summary=summary)
        changes = [
            Change(
                fact=name,
                was=_json(self.values.get(name, MISSING), to_json_value),
                to=_json(value, to_json_value),
                text=self._words(rule, name, value, to_json_value),
            )
            for name, value in changed.items()
        ]
        summary = "applies and gives the value with these changes" if changes else "already applies to these facts"
        return Candidate(rule=rule.id, location=location, sets=sets, verified=True, changes=changes, summary=summary)

    def _smallest(self, rule: c.CheckedRule, own: list[str], rivals: list[str]) -> dict[str, Any] | None:
        """The fewest facts to change so that the rule gives the output the value, or None.

        First the rule's own facts alone: every change of up to MAX_FACTS_CHANGED of them is
        decided, and each one either gives the value (a solution), makes the rule match but lose
        to a stronger rule, or neither. Only a change of the second kind is then extended with
        changes to the rivals' facts, so that the stronger rule stops applying. Sizes are taken in
        order over both, so the first solution found changes the fewest facts."""
        solutions: dict[int, dict[str, Any]] = {}
        losing: dict[int, list[dict[str, Any]]] = {}
        self.tries = 0
        for count in range(0, min(MAX_FACTS_CHANGED, len(own)) + 1):
            for changed in self._changes(own, count):
                matched, works = self._outcome(rule, changed)
                if works:
                    solutions.setdefault(count, changed)
                    break
                if matched:
                    losing.setdefault(count, []).append(changed)
            if count in solutions:
                break
        for total in range(0, MAX_FACTS_CHANGED + 1):
            if total in solutions:
                return solutions[total]
            for size in range(0, total):
                for base in losing.get(size, []):
                    for extra in self._changes(rivals, total - size):
                        changed = {**base, **extra}
                        if self._outcome(rule, changed)[1]:
                            return changed
        return None

    def _changes(self, facts: list[str], count: int) -> Iterator[dict[str, Any]]:
        """Every change of `count` of the facts, one value per class, nearest values first."""
        for chosen in itertools.combinations(facts, count):
            for values in itertools.product(*(self.alternatives[name] for name in chosen)):
                yield dict(zip(chosen, values, strict=True))

    def _facts_for(self, rule: c.CheckedRule) -> tuple[list[str], list[str]]:
        """The facts the rule reads (through segments, lets and outputs), and then the other facts
        of the rules that set the output (a stronger rule may have to stop applying), in policy order."""
        own = self._facts_read([rule])
        rivals = [r for r in self.checked.rules if r is not rule and any(a.output == self.output for a in r.actions)]
        other = self._facts_read(rivals) - own
        order = list(self.checked.facts)
        return sorted(own, key=order.index), sorted(other, key=order.index)

    def _facts_read(self, rules: list[c.CheckedRule]) -> set[str]:
        facts: set[str] = set()
        seen_outputs: set[str] = set()
        seen_derived: set[str] = set()
        pending: list[c.CheckedExpr] = [r.condition for r in rules]
        pending += [a.value for r in rules for a in r.actions]
        while pending:
            found = reads(pending.pop())
            facts |= found.facts
            for key in found.derived - seen_derived:
                seen_derived.add(key)
                pending.append(self.checked.derived[key].expr)
            for name in found.outputs - seen_outputs:
                seen_outputs.add(name)
                for r in self.checked.rules:
                    if any(a.output == name for a in r.actions):
                        pending.append(r.condition)
                        pending.extend(a.value for a in r.actions)
        return facts

    def _outcome(self, rule: c.CheckedRule, changed: dict[str, Any]) -> tuple[bool, bool]:
        """Deciding again on the changed facts: (the rule matched, it gave the output the asked
        value). Decisions are remembered across the rules asked about: they often try the same changes."""
        from .runtime import EvaluationError

        key = tuple(sorted((name, _hashable(value)) for name, value in changed.items()))
        if key not in self.memo:
            self.tries += 1
            if self.tries > MAX_TRIES:
                raise _GaveUp
            try:
                self.memo[key] = self.policy._full_record({**self.values, **changed}, self.decision.as_of)
            except (EvaluationError, ArithmeticError, TypeError):
                self.memo[key] = None  # these facts cannot be decided: not an answer
        record = self.memo[key]
        if record is None:
            return False, False
        matched = self.position[rule.id] in record[0]
        if not matched:
            return False, False
        resolved = self.policy.decision_graph.resolvers[self.index](record[1][self.index])
        works = resolved.status == "value" and _same(resolved.value, self.target) and rule.id in resolved.winners
        return True, works

    def _words(self, rule: c.CheckedRule, name: str, value: Any, to_json: Any) -> str:
        """ "`tenure > 2y`: is `1y3m`, needs more than `2y` (for example `731d`)"."""
        was = _literal(_json(self.values.get(name, MISSING), to_json))
        example = "left out" if value is MISSING else _literal(_json(value, to_json))
        for expr in self.tracer_parts.get(name, []):
            if expr not in _atoms_of(rule, self.checked):
                continue
            need = _need(expr, name, to_json)
            if need is None:
                continue
            text = _text(expr)
            return f"`{text}`: is `{was}`, needs {need} (for example `{example}`)"
        if name not in self._facts_for(rule)[0]:
            return f"`{name}`: is `{was}`, change to `{example}` (so that no stronger rule takes the output)"
        return f"`{name}`: is `{was}`, change to `{example}`"


def _atoms_of(rule: c.CheckedRule, checked: c.CheckedPolicy) -> list[c.CheckedExpr]:
    """The comparisons in a rule's condition, through its segments and lets."""
    found: list[c.CheckedExpr] = []
    stack: list[Any] = [rule.condition]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, c.DerivedRef):
            if node.key not in seen:
                seen.add(node.key)
                stack.append(checked.derived[node.key].expr)
            continue
        if isinstance(node, c.Comparison | c.MembershipTest | c.Range | c.PresenceTest):
            found.append(node)
        stack.extend(c.children(node))
    return found


def _atoms_by_fact(checked: c.CheckedPolicy) -> dict[str, list[c.CheckedExpr]]:
    """Comparisons of one fact with constants, by fact."""
    by_fact: dict[str, list[c.CheckedExpr]] = {}
    for node in c.walk(c.policy_expressions(checked)):
        if isinstance(node, c.Comparison | c.MembershipTest | c.Range | c.PresenceTest):
            found = reads(node)
            if len(found.facts) == 1 and not found.outputs and not found.derived:
                by_fact.setdefault(next(iter(found.facts)), []).append(node)
    return by_fact


_NEEDS = {
    "<": "less than",
    "<=": "at most",
    ">": "more than",
    ">=": "at least",
    "==": "to be",
    "!=": "not to be",
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _need(expr: c.CheckedExpr, name: str, to_json: Any) -> str | None:
    """What a comparison of the fact with a constant asks of it, in words."""
    if isinstance(expr, c.Comparison):
        left, op, right = expr.left, expr.op, expr.right
        if isinstance(left, c.Const) and isinstance(right, c.FactRef):
            left, right, op = right, left, _FLIPPED.get(op, op)
        if isinstance(left, c.FactRef) and isinstance(right, c.Const) and op in _NEEDS:
            return f"{_NEEDS[op]} `{_literal(to_json(right.value))}`"
    if isinstance(expr, c.MembershipTest) and isinstance(expr.left, c.FactRef) and isinstance(expr.right, c.Const):
        words = {"in": "to be one of", "not in": "not to be one of", "contains": "to contain"}.get(expr.op)
        return f"{words} `{_literal(to_json(expr.right.value))}`" if words else None
    if isinstance(expr, c.PresenceTest) and isinstance(expr.target, c.FactRef):
        return "to be missing" if expr.missing else "to be given"
    if isinstance(expr, c.Range) and isinstance(expr.low, c.Const) and isinstance(expr.high, c.Const):
        return f"between `{_literal(to_json(expr.low.value))}` and `{_literal(to_json(expr.high.value))}`"
    return None


def _text(expr: c.CheckedExpr) -> str:
    from .trace import _text as text_of

    return text_of(expr)


def _hashable(value: Any) -> Any:
    """A key for a fact's value: its type too, so that `1` and `true` never share a decision."""
    return (type(value).__name__, value)


def _identical(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and a == b)


def _nearness(current: Any) -> Any:
    """Sort key: values nearest the current one first (by size for ordered types), missing last."""

    def key(value: Any) -> tuple[int, Any]:
        if value is MISSING:
            return (2, 0)
        try:
            if isinstance(value, Duration) and isinstance(current, Duration):
                return (0, abs(value.total_seconds - current.total_seconds))
            if isinstance(value, datetime) and isinstance(current, datetime):
                return (0, abs((value - current).total_seconds()))
            if isinstance(value, date) and isinstance(current, date) and not isinstance(value, datetime):
                return (0, abs((value - current).days))
            if isinstance(value, int | Decimal) and isinstance(current, int | Decimal) and not isinstance(value, bool):
                return (0, abs(Decimal(value) - Decimal(current)))
        except (TypeError, ArithmeticError):
            pass
        return (1, 0)

    return key


def _json(value: Any, to_json: Any) -> Any:
    return None if value is MISSING else to_json(value)


def _literal(value: Any) -> str:
    from .explain import literal

    return literal(value)


def _current(value: Any, to_json: Any) -> str:
    return "missing (no value)" if value is MISSING else _literal(to_json(value))
