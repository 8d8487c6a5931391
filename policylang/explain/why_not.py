"""Why-not questions: "why did this customer not get `sla=4h`, and what would it take?"

For every rule that can set the output to the asked value, the smallest change to the decision's
facts that makes the rule apply and the output take that value. Each fact's values are cut into
the classes the static analysis uses (fact_domains.py: no condition tells two values of one class
apart), so trying one value per class, nearest the current value first, and changing one fact,
then two, then three, finds the fewest facts to change. Every change is verified by deciding
again on the changed facts with the policy's own decision function: an answer is never a guess.
When no rule sets the output to that value, it says so.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import yaml

from ..analysis.fact_domains import constants_by_fact, facts_in_arithmetic, reads, representatives
from ..analysis.regions import compiled_test
from ..core import operators as ops
from ..core.datatypes import BOOL, SetOf
from ..core.diagnostics import did_you_mean
from ..core.errors import UsageError
from ..core.json_codec import to_json_value
from ..core.resolution import Prefer, Resolved, resolution_of
from ..core.spelling import spell
from ..core.values import MISSING, Duration, same_value
from ..core.yaml_exact import exact_yaml_loader

# The answer's shapes are the engine's (Decision.why_not returns them); importable from here as documented.
from ..engine.answers import Candidate as Candidate
from ..engine.answers import Change as Change
from ..engine.answers import WhyNot as WhyNot
from ..engine.evaluator import Decision, Policy, Record, full_record, recorded
from ..engine.facts import converter_for
from ..engine.runtime import EvaluationError
from ..semantics import typed_tree as c

MAX_FACTS_CHANGED = 3
MAX_TRIES = 20_000
"""Decisions tried per rule before giving up on finding a change (and saying so)."""


DEFAULT = "(default)"
"""The name of the candidate that gives the output its default: no rule that sets it applies."""


class _GaveUp(Exception):
    """MAX_TRIES decisions were tried for one rule without an answer."""


class WhyNotError(UsageError):
    """The question names an output the policy does not have, or a value of the wrong type: a
    `usage` error (a ValueError), as `policy explain --why-not` prints it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def why_not(decision: Decision, wanted: str, value: Any = None) -> WhyNot:
    policy = decision.policy
    assert isinstance(policy, Policy)  # the only kind of policy that makes decisions
    checked = policy.checked
    output_name, target = _question(checked, wanted, value)
    output = checked.outputs[output_name]
    shown = spell(to_json_value(target))
    current = decision.outputs.get(output_name, MISSING)
    if current is not MISSING and same_value(current, target):
        return WhyNot(output=output_name, wanted=shown, status="already", summary=f"{output_name} is already {shown}.")
    setters = [rule for rule in checked.rules if any(a.output == output_name for a in rule.actions)]
    able = [rule for rule in setters if _can_propose(rule, output_name, target, output)]
    by_default = output.has_default and same_value(output.default, target)
    if not able and not by_default:
        values = sorted(
            {
                spell(to_json_value(a.value.value))
                for rule in setters
                for a in rule.actions
                if a.output == output_name and isinstance(a.value, c.Const)
            }
        )
        said = f" Its rules set {', '.join(values)}." if values else " No rule sets it."
        default = f" Its default is {spell(to_json_value(output.default))}." if output.has_default else ""
        return WhyNot(
            output=output_name,
            wanted=shown,
            status="impossible",
            summary=f"No rule can ever set {output_name} to {shown}.{said}{default}",
        )
    search = _Search(policy, decision, output_name, target)
    candidates = [search.candidate(rule) for rule in able]
    if by_default:
        candidates.append(search.default_candidate())
    found = [x for x in candidates if x.verified]
    now = _current(decision, output_name, to_json_value)
    if found:
        fewest = min(len(x.changes) for x in found)
        if len(found) == 1:
            who = "The default" if found[0].rule == DEFAULT else f"Rule {found[0].rule}"
            could = f"{who} would give {output_name} = {shown} with {_facts(fewest)} changed."
        else:
            could = f"{len(found)} ways give {output_name} = {shown}; the fewest facts to change is {fewest}."
        summary = f"{output_name} is {now}, not {shown}. {could}"
        status: Literal["possible", "not-found"] = "possible"
    else:
        summary = (
            f"{output_name} is {now}, not {shown}. Rules can set {shown}, "
            f"but no change of up to {_facts(MAX_FACTS_CHANGED)} that makes one of them do so was found."
        )
        status = "not-found"
    candidates.sort(key=lambda x: (not x.verified, len(x.changes)))
    return WhyNot(output=output_name, wanted=shown, status=status, summary=summary, candidates=candidates)


def parse_question(checked: c.CheckedPolicy, wanted: str, value: Any = None) -> tuple[str, Any]:
    """The output and value a why-not question asks for; WhyNotError when the policy cannot answer it."""
    return _question(checked, wanted, value)


def _question(checked: c.CheckedPolicy, wanted: str, value: Any) -> tuple[str, Any]:
    """("sla=4h") or ("sla", value) -> (output, runtime value of the output's type)."""
    if not isinstance(wanted, str):
        raise WhyNotError(f"a why-not question is text, not {type(wanted).__name__}", 'ask like "sla=4h"')
    name, sep, raw = wanted.partition("=")
    name = name.strip()
    if not name:
        raise WhyNotError(f"`{wanted}` names no output", 'write it as OUTPUT=VALUE, for example "sla=4h"')
    negated = False
    if not sep and value is None and name.startswith("not "):
        name, negated = name[4:].strip(), True
    if name not in checked.outputs:
        close = did_you_mean(name, list(checked.outputs))
        known = ", ".join(f"`{o}`" for o in checked.outputs) or "none"
        raise WhyNotError(f"the policy has no output `{name}`", close or f"its outputs: {known}")
    output = checked.outputs[name]
    if sep:
        value = raw.strip()
        if not value:
            raise WhyNotError(f"`{wanted}` gives no value", f'write the value after `=`, for example "{name}=..."')
    elif value is None:
        if output.type != BOOL:
            raise WhyNotError(f"`{name}` is not a flag: ask for a value", f'write it as "{name}=VALUE"')
        return name, not negated
    try:
        return name, _convert(output.type, value) if sep else converter_for(output.type)(value)
    except ValueError as exc:
        message = getattr(exc, "message", str(exc))
        hint = getattr(exc, "hint", None) or f"write a value of `{name}` as the policy writes it, such as its default"
        raise WhyNotError(f"`{value}` is not a value of `{name}`: {message}", hint) from None


def _convert(t: Any, value: Any) -> Any:
    """A value as written after `=` ("4h", "premium", "\"a b\"", "{a, b}") in the output's type."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise _ValueProblem("no value after `=`")
        if t == BOOL and text in ("true", "false"):
            return text == "true"
        if isinstance(t, SetOf):
            value = _set_items(text)
        elif text[0] in "\"'":
            value = _quoted(text)
        else:
            value = text
    return converter_for(t)(value)


class _ValueProblem(ValueError):
    pass


def _quoted(text: str) -> str:
    """A string in double quotes (with the language's escapes) or single quotes."""
    if len(text) < 2 or text[-1] != text[0]:
        raise _ValueProblem(f"`{text}` has no closing quote")
    if text[0] == "'":
        return text[1:-1]
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        raise _ValueProblem(f"`{text}` is not a string the language can read") from None
    if not isinstance(found, str):
        raise _ValueProblem(f"`{text}` is not a string")
    return found


def _set_items(text: str) -> list[Any]:
    """`{a, "b c"}` or `[a, b]`: read as a YAML flow sequence, so quotes and commas inside them work."""
    if text[0] not in "{[":
        text = "{" + text + "}"  # `a, b` alone
    if text[0] + text[-1] not in ("{}", "[]"):
        raise _ValueProblem(f"`{text}` is not a set: write it as {{a, b}}")
    try:
        items = yaml.load("[" + text[1:-1] + "]", Loader=exact_yaml_loader())
    except yaml.YAMLError:
        raise _ValueProblem(f"`{text}` is not a set: write it as {{a, b}}") from None
    if not isinstance(items, list) or any(isinstance(i, list | dict) for i in items):
        raise _ValueProblem(f"`{text}` is not a set of plain values: write it as {{a, b}}")
    return items


def _can_propose(rule: c.CheckedRule, output_name: str, target: Any, output: c.Output) -> bool:
    """Whether the rule can propose a value that makes the output `target` (a computed value may)."""
    for action in rule.actions:
        if action.output != output_name:
            continue
        if not isinstance(action.value, c.Const):
            return True
        proposed = action.value.value
        if action.op == "add" or resolution_of(output.resolution).needs_every_match:
            if isinstance(target, frozenset) and frozenset(proposed) <= target:
                return True
        elif same_value(proposed, target) or (
            output.type == BOOL
            and resolution_of(output.resolution).prefer is Prefer.FALSE
            and target is False
            and proposed is False
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
        borrowed = _values_of_compared_facts(checked, self.values)
        for name, fact in checked.facts.items():
            found, _ = representatives(fact, constants[name], name in computed)
            now = self.values.get(name, MISSING)
            others = sorted((v for v in found if not _identical(v, now)), key=_nearness(now))
            # Another fact's value first: `owner == user` holds by giving one the other's value,
            # a change smaller than inventing a value for both.
            alternatives: list[Any] = []
            for value in [*borrowed[name], *others]:
                if not _identical(value, now) and not any(_identical(value, kept) for kept in alternatives):
                    alternatives.append(value)
            self.alternatives[name] = alternatives
        self.index = list(policy.decision_graph.output_names).index(output)
        self.comparisons_by_fact = _atoms_by_fact(checked)
        self.position = {rule.id: i for i, rule in enumerate(checked.rules)}
        self.memo: dict[tuple[Any, ...], Record | None] = {}
        self.tries = 0

    def candidate(self, rule: c.CheckedRule) -> Candidate:

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
                summary = f"no change of up to {_facts(most)} makes it give the value"
            return Candidate(rule=rule.id, location=location, sets=sets, verified=False, summary=summary)
        changes = self._described(rule, changed, set(own))
        summary = "applies and gives the value with these changes" if changes else "already applies to these facts"
        return Candidate(rule=rule.id, location=location, sets=sets, verified=True, changes=changes, summary=summary)

    def default_candidate(self) -> Candidate:
        """The default: the fewest facts to change so that no rule that sets the output applies."""
        declared = self.checked.outputs[self.output]
        location = f"{declared.span.file}:{declared.span.line}" if declared.span else self.checked.root
        sets = f"{self.output} = {spell(to_json_value(declared.default))} (the default)"
        setters = [r for r in self.checked.rules if any(a.output == self.output for a in r.actions)]
        order = list(self.checked.facts)
        facts = sorted(self._facts_read(setters), key=order.index)
        self.tries = 0
        try:
            for count in range(0, min(MAX_FACTS_CHANGED, len(facts)) + 1):
                for changed in self._changes(facts, count):
                    resolved = self._resolved(changed)
                    if resolved is not None and resolved.status == "default":
                        return Candidate(
                            rule=DEFAULT,
                            location=location,
                            sets=sets,
                            verified=True,
                            changes=self._described(None, changed, set()),
                            summary="applies when no rule that sets the output does, with these changes",
                        )
        except _GaveUp:
            return Candidate(
                rule=DEFAULT,
                location=location,
                sets=sets,
                verified=False,
                summary=f"no change found in {MAX_TRIES:,} decisions tried",
            )
        return Candidate(
            rule=DEFAULT,
            location=location,
            sets=sets,
            verified=False,
            summary=f"no change of up to {_facts(min(MAX_FACTS_CHANGED, len(facts)))} stops every rule that sets it",
        )

    def _described(self, rule: c.CheckedRule | None, changed: dict[str, Any], own: set[str]) -> list[Change]:
        """The changes in words: the comparison each satisfies, or which other rules it stops or starts."""
        before = set(recorded(self.decision)[0])
        after_record = self.memo.get(_key(changed))
        after = set(after_record[0]) if after_record else before
        mine = self.position.get(rule.id) if rule is not None else None
        setters = {
            i for i, r in enumerate(self.checked.rules) if i != mine and any(a.output == self.output for a in r.actions)
        }
        ids = [r.id for r in self.checked.rules]
        stopped = [ids[i] for i in sorted((before - after) & setters)]
        started = [ids[i] for i in sorted((after - before) & setters)]
        changes = []
        for name, value in changed.items():
            text = self._words(rule, name, value, to_json_value) if rule is not None and name in own else None
            for other in stopped if text is None else ():
                text = self._words(self.checked.rules[ids.index(other)], name, value, to_json_value, holds=False)
                if text is not None:
                    text += f" so that `{other}` no longer applies"
                    break
            if text is None:
                was = spell(_json(self.values.get(name, MISSING), to_json_value))
                to = "leave it out" if value is MISSING else f"change to `{spell(_json(value, to_json_value))}`"
                why = []
                if stopped:
                    why.append(f"{_names(stopped)} no longer {'applies' if len(stopped) == 1 else 'apply'}")
                if started:
                    why.append(f"{_names(started)} {'applies' if len(started) == 1 else 'apply'} too")
                reason = f" so that {' and '.join(why)}" if why else ""
                text = f"`{name}`: is `{was}`, {to}{reason}"
            changes.append(
                Change(
                    fact=name,
                    was=_json(self.values.get(name, MISSING), to_json_value),
                    to=_json(value, to_json_value),
                    text=text,
                )
            )
        return changes

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

    def _record(self, changed: dict[str, Any]) -> Record | None:
        """The full decision on the changed facts (None when they cannot be decided), remembered
        across the rules asked about: they often try the same changes."""
        key = _key(changed)
        if key not in self.memo:
            self.tries += 1
            if self.tries > MAX_TRIES:
                raise _GaveUp
            try:
                self.memo[key] = full_record(self.policy, {**self.values, **changed}, self.decision.as_of)
            except (EvaluationError, ArithmeticError, TypeError):
                self.memo[key] = None  # these facts cannot be decided: not an answer
        return self.memo[key]

    def _resolved(self, changed: dict[str, Any]) -> Resolved | None:
        record = self._record(changed)
        if record is None:
            return None
        return self.policy.decision_graph.resolvers[self.index](record[1][self.index])

    def _outcome(self, rule: c.CheckedRule, changed: dict[str, Any]) -> tuple[bool, bool]:
        """Deciding again on the changed facts: (the rule matched, it gave the output the asked value)."""
        record = self._record(changed)
        if record is None or self.position[rule.id] not in record[0]:
            return False, False
        resolved = self.policy.decision_graph.resolvers[self.index](record[1][self.index])
        works = resolved.status == "value" and same_value(resolved.value, self.target) and rule.id in resolved.winners
        return True, works

    def _words(self, rule: c.CheckedRule, name: str, value: Any, to_json: Any, holds: bool = True) -> str | None:
        """ "`tenure > 2y`: is `1y3mo`, needs to be more than `2y` (for example `731d`)": the
        comparison of the rule that the change makes come out as the rule needs it (`holds`), or,
        for a rule the change stops, as it must come out for that rule to fail, in words."""
        fact = self.checked.facts[name]
        old = self.values.get(name, MISSING)
        was = spell(_json(old, to_json))
        example = "leave it out" if value is MISSING else f"for example `{spell(_json(value, to_json))}`"
        candidates = set(map(id, self.comparisons_by_fact.get(name, [])))
        for expr, negated in _atoms_of(rule, self.checked):
            if id(expr) not in candidates and not (isinstance(expr, c.FactRef) and expr.name == name):
                continue
            try:
                test = _one_fact_test(expr, name, fact)
                before, after = test(old), test(value)
            except (NameError, TypeError, ArithmeticError):
                continue  # it reads `now` or another value besides the fact: no words for it alone
            wanted = (not negated) if holds else negated
            if before == after or after is not wanted:
                continue  # the change does not make this comparison come out as the rule needs
            need = _need(expr, to_json, not wanted)
            if need is None:
                continue
            words = f"`{c.text_of(expr)}`: is `{was}`, {need}"
            # No example for a flag, nor when the example is the bound itself (`at least `10000``).
            if isinstance(expr, c.FactRef) or (
                value is not MISSING and need.endswith(example.removeprefix("for example "))
            ):
                return words
            return f"{words} ({example})"
        return None


def _atoms_of(rule: c.CheckedRule, checked: c.CheckedPolicy) -> list[tuple[c.CheckedExpr, bool]]:
    """The comparisons in a rule's condition, through its segments and lets, each with whether it
    sits under an odd number of `not`s (then the rule needs it false)."""
    found: list[tuple[c.CheckedExpr, bool]] = []
    stack: list[tuple[c.CheckedExpr, bool]] = [(rule.condition, False)]
    seen: set[tuple[str, bool]] = set()
    while stack:
        node, negated = stack.pop()
        match node:
            case c.DerivedRef():
                # A segment (or a let of a condition) is read through, once each way round.
                if (node.key, negated) not in seen:
                    seen.add((node.key, negated))
                    stack.append((checked.derived[node.key].expr, negated))
            case c.Compare() | c.Membership() | c.Between() | c.Presence():
                found.append((node, negated))  # a comparison: what why-not words and changes
            case c.FactRef():
                found.append((node, negated))  # a flag used as a condition: `if blocked`
            case c.BoolOp():
                stack.extend((child, negated) for child in c.children(node))
            case c.Not():
                stack.append((node.operand, not negated))
            case c.Const() | c.OutputRef() | c.Now() | c.Arithmetic() | c.Negate() | c.SetLiteral() | c.Call():
                # Not a comparison of facts why-not can change (a constant, an output, `now`),
                # nor a condition at all (a value only sits under a comparison).
                pass
            case _:
                c.unhandled(node)
    return found


def _atoms_by_fact(checked: c.CheckedPolicy) -> dict[str, list[c.CheckedExpr]]:
    """Comparisons of one fact with constants, by fact."""
    by_fact: dict[str, list[c.CheckedExpr]] = {}
    for node in c.walk(c.policy_expressions(checked)):
        if isinstance(node, c.Compare | c.Membership | c.Between | c.Presence):
            found = reads(node)
            if len(found.facts) == 1 and not found.outputs and not found.derived:
                by_fact.setdefault(next(iter(found.facts)), []).append(node)
    return by_fact


_NEEDS = {op.spelling: op.needs for op in ops.OPERATORS if op.needs and op.node != "Presence"}
_NEGATED = {op.spelling: op.negated for op in ops.OPERATORS if op.negated and op.spelling in _NEEDS}
_FLIPPED = {op.spelling: op.flipped for op in ops.OPERATORS if op.flipped}


def _need(expr: c.CheckedExpr, to_json: Any, negated: bool) -> str | None:
    """What a comparison of the fact with constants asks of it, in words (its opposite under `not`)."""

    def words(op: str, *values: Any) -> str:
        op = _NEGATED.get(op, op) if negated else op
        shown = " and ".join(f"`{spell(to_json(v))}`" for v in values)
        return f"{_NEEDS[op]} {shown}"

    match expr:
        case c.Compare():
            left, op, right = expr.left, expr.op, expr.right
            if isinstance(left, c.Const) and isinstance(right, c.FactRef):
                left, right, op = right, left, _FLIPPED.get(op, op)
            if isinstance(left, c.FactRef) and isinstance(right, c.Const) and op in _NEEDS:
                return words(op, right.value)
            if isinstance(left, c.Const) and isinstance(right, c.Call):
                left, right, op = right, left, _FLIPPED.get(op, op)
            if isinstance(left, c.Call) and isinstance(right, c.Const) and op in _NEEDS and _worded(left):
                return _of_call(words(op, right.value), c.text_of(left))
            return None  # two computed sides: no words for one fact
        case c.Membership(left=c.FactRef(), right=c.Const() as constant):
            return words(expr.op, constant.value) if expr.op in _NEEDS else None
        case c.FactRef():
            return f"needs to be `{'false' if negated else 'true'}`"  # a flag
        case c.Presence(target=c.FactRef()):
            return ops.BY_SPELLING["is missing" if expr.missing != negated else "is present"].needs
        case c.Between(low=c.Const() as low, high=c.Const() as high):
            return words("between", low.value, high.value)
        case (
            c.Const()
            | c.OutputRef()
            | c.DerivedRef()
            | c.Now()
            | c.Membership()
            | c.Between()
            | c.Presence()
            | c.BoolOp()
            | c.Not()
            | c.Arithmetic()
            | c.Negate()
            | c.SetLiteral()
            | c.Call()
        ):
            return None  # not a comparison of one fact with constants: the change is proposed without words
        case _:
            c.unhandled(expr)


def _worded(call: c.Call) -> bool:
    """Whether the table lets why-not word a comparison of this call's value."""
    function = ops.FUNCTIONS.get(call.function)
    return function is not None and function.why_not


def _of_call(need: str, call: str) -> str:
    """`needs to be more than 5` said of a call's value: `needs `abs(x)` to be more than 5`."""
    for lead in ("needs to", "must not"):
        if need.startswith(lead):
            verb, rest = lead.split(" ")
            return f"{verb} `{call}` {rest}{need.removeprefix(lead)}"
    return f"`{call}` {need}"


def _one_fact_test(expr: c.CheckedExpr, name: str, fact: c.Fact) -> Any:
    """The comparison as a function of the one fact's value, made by the decision function's own
    code generator (regions.py), so that it answers exactly as a decision does."""
    return compiled_test(expr, name, fact)


def _values_of_compared_facts(checked: c.CheckedPolicy, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Per fact, the values it would need to meet a fact it is compared with, as that fact is now:
    no constant in the policy suggests them. `owner == user` (or `!=`, `<`...) borrows the other
    side's value; `teams contains editor` gives `editor` each member of `teams`, and `teams` its
    members plus `editor`."""
    borrowed: dict[str, list[Any]] = {name: [] for name in checked.facts}
    for node in c.walk(c.policy_expressions(checked)):
        if not isinstance(node, c.Compare | c.Membership):
            continue
        if not isinstance(node.left, c.FactRef) or not isinstance(node.right, c.FactRef):
            continue
        for mine, other in ((node.left, node.right), (node.right, node.left)):
            other_value = values.get(other.name, MISSING)
            if other_value is MISSING or mine.name not in borrowed:
                continue
            if mine.type == other.type:
                borrowed[mine.name].append(other_value)
            elif isinstance(mine.type, SetOf) and mine.type.element == other.type:
                current = values.get(mine.name, MISSING)
                members = current if isinstance(current, frozenset | set) else frozenset()
                borrowed[mine.name].append(frozenset(members) | {other_value})
            elif isinstance(other.type, SetOf) and other.type.element == mine.type:
                borrowed[mine.name].extend(sorted(other_value, key=str))
    return borrowed


def _key(changed: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((name, _hashable(value)) for name, value in changed.items()))


def _names(rules: list[str]) -> str:
    return ", ".join(f"`{r}`" for r in rules)


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


def _current(decision: Decision, output: str, to_json: Any) -> str:
    if output in decision.conflicts:
        return "in conflict (its rules disagree)"
    value = decision.outputs.get(output, MISSING)
    return "without a value" if value is MISSING else spell(to_json(value))


def _facts(count: int) -> str:
    return f"{count} fact" + ("" if count == 1 else "s")
