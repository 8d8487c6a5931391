"""The words of a why-not change: which comparison of the rule it makes come out as the rule
needs it, what the fact is and what it needs to be ("`tenure > 2y`: is `1y3mo`, needs to be more
than `2y` (for example `731d`)"), or which other rules it stops or starts.

The wording of each comparison is the operator table's (core/operators.py: `needs`, `negated`,
`flipped`; for a function, whether its `why_not` proposal lets it be worded).
"""

from __future__ import annotations

from typing import Any

from ..analysis.fact_domains import reads
from ..analysis.regions import compiled_test
from ..core import operators as ops
from ..core.json_codec import to_json_value
from ..core.spelling import spell
from ..core.values import MISSING
from ..engine.answers import Change
from ..semantics import typed_tree as c


def describe(
    checked: c.CheckedPolicy,
    by_fact: dict[str, list[c.CheckedExpr]],
    facts: dict[str, Any],
    rule: c.CheckedRule | None,
    changed: dict[str, Any],
    own: set[str],
    stopped: list[str],
    started: list[str],
) -> list[Change]:
    """The changes in words: the comparison each satisfies, or which other rules it stops or starts."""
    by_id = {r.id: r for r in checked.rules}
    changes = []
    for name, value in changed.items():
        text = words(checked, by_fact, facts, rule, name, value) if rule is not None and name in own else None
        for other in stopped if text is None else ():
            text = words(checked, by_fact, facts, by_id[other], name, value, holds=False)
            if text is not None:
                text += f" so that `{other}` no longer applies"
                break
        if text is None:
            was = spell(json_of(facts.get(name, MISSING)))
            to = "leave it out" if value is MISSING else f"change to `{spell(json_of(value))}`"
            why = []
            if stopped:
                why.append(f"{_names(stopped)} no longer {'applies' if len(stopped) == 1 else 'apply'}")
            if started:
                why.append(f"{_names(started)} {'applies' if len(started) == 1 else 'apply'} too")
            reason = f" so that {' and '.join(why)}" if why else ""
            text = f"`{name}`: is `{was}`, {to}{reason}"
        changes.append(Change(fact=name, was=json_of(facts.get(name, MISSING)), to=json_of(value), text=text))
    return changes


def words(
    checked: c.CheckedPolicy,
    comparisons_by_fact: dict[str, list[c.CheckedExpr]],
    facts: dict[str, Any],
    rule: c.CheckedRule,
    name: str,
    value: Any,
    holds: bool = True,
) -> str | None:
    """ "`tenure > 2y`: is `1y3mo`, needs to be more than `2y` (for example `731d`)": the
    comparison of the rule that the change makes come out as the rule needs it (`holds`), or,
    for a rule the change stops, as it must come out for that rule to fail, in words."""
    to_json = to_json_value
    fact = checked.facts[name]
    old = facts.get(name, MISSING)
    was = spell(json_of(old))
    example = "leave it out" if value is MISSING else f"for example `{spell(json_of(value))}`"
    candidates = set(map(id, comparisons_by_fact.get(name, [])))
    for expr, negated in _atoms_of(rule, checked):
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
        text = f"`{c.text_of(expr)}`: is `{was}`, {need}"
        # No example for a flag, nor when the example is the bound itself (`at least `10000``).
        if isinstance(expr, c.FactRef) or (
            value is not MISSING and need.endswith(example.removeprefix("for example "))
        ):
            return text
        return f"{text} ({example})"
    return None


def json_of(value: Any) -> Any:
    return None if value is MISSING else to_json_value(value)


def _names(rules: list[str]) -> str:
    return ", ".join(f"`{r}`" for r in rules)


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
            case c.Conditional():
                found.append((node, negated))  # a condition chosen by a condition: changed, never worded
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


def atoms_by_fact(checked: c.CheckedPolicy) -> dict[str, list[c.CheckedExpr]]:
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
            | c.Conditional()
        ):
            return None  # not a comparison of one fact with constants: the change is proposed without words
        case _:
            c.unhandled(expr)


def _worded(call: c.Call) -> bool:
    """Whether the table lets why-not word a comparison of this call's value."""
    function = ops.FUNCTIONS.get(call.function)
    return function is not None and function.why_not is not ops.Proposal.NONE


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
