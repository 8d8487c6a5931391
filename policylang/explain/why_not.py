"""Why-not questions: "why did this customer not get `sla=4h`, and what would it take?"

For every way the output can take the asked value (a rule that sets it, or its default), the
fewest facts to change, and among changes of that size the smallest, that make the output take
that value that way. What is tried and in what order is why_not_search.py; the values tried for
each fact why_not_values.py; the question's parsing why_not_question.py; the words of each change
why_not_words.py. Every change is verified by deciding again on the changed facts with the
policy's own decision function: an answer is never a guess. When no rule sets the output to that
value, it says so; when no change within the bound (MAX_FACTS_CHANGED facts) works, it says
that, with the bound; when the search gave up, it says that instead.
"""

from __future__ import annotations

from typing import Any, Literal

from ..core.datatypes import BOOL
from ..core.json_codec import to_json_value
from ..core.resolution import Prefer, resolution_of
from ..core.spelling import spell
from ..core.values import MISSING, same_value

# The answer's shapes are the engine's (Decision.why_not returns them); importable from here as documented.
from ..engine.answers import Candidate as Candidate
from ..engine.answers import Change as Change
from ..engine.answers import WhyNot as WhyNot
from ..engine.evaluator import Decision, Policy
from ..semantics import typed_tree as c
from .why_not_question import WhyNotError as WhyNotError
from .why_not_question import parse_question as parse_question
from .why_not_question import question
from .why_not_reading import cannot_propose
from .why_not_search import MAX_FACTS_CHANGED, MAX_TRIES, Search, Way
from .why_not_words import atoms_by_fact, describe

__all__ = ["DEFAULT", "MAX_FACTS_CHANGED", "MAX_TRIES", "WhyNotError", "parse_question", "why_not"]

DEFAULT = "(default)"
"""The name of the candidate that gives the output its default: no rule that sets it applies."""

EVERY_CLASS = "trying every class of values the policy tells apart"
SOME_VALUES = (
    "trying every class of values the policy tells apart by constants and the values that comparisons "
    "of facts with each other or with computed values point to (not every value there is)"
)


def why_not(decision: Decision, wanted: str, value: Any = None) -> WhyNot:
    policy = decision.policy
    assert isinstance(policy, Policy)  # the only kind of policy that makes decisions
    checked = policy.checked
    output_name, target = question(checked, wanted, value)
    output = checked.outputs[output_name]
    shown = spell(to_json_value(target))
    current = decision.outputs.get(output_name, MISSING)
    if current is not MISSING and same_value(current, target) and output_name not in decision.conflicts:
        return WhyNot(output=output_name, wanted=shown, status="already", summary=f"{output_name} is already {shown}.")
    search = Search(policy, decision, output_name, target)
    setters = search.setters
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
    ways = [search.way_of(rule) for rule in able] + ([search.way_of(None)] if by_default else [])
    fewest = _search(search, ways)
    candidates = [_candidate(search, way, fewest) for way in ways]
    found = [x for x in candidates if x.verified]
    now = _current(decision, output_name, to_json_value)
    status: Literal["possible", "not-found"] = "possible" if found else "not-found"
    if found:
        if len(found) == 1:
            who = "The default" if found[0].rule == DEFAULT else f"Rule {found[0].rule}"
            could = f"{who} would give {output_name} = {shown} with {_facts(len(found[0].changes))} changed."
        else:
            could = f"{len(found)} ways give {output_name} = {shown}; the fewest facts to change is {fewest}."
        summary = f"{output_name} is {now}, not {shown}. {could}"
    else:
        summary = f"{output_name} is {now}, not {shown}. Rules can set {shown}, but {_nothing(search, ways)}."
    candidates.sort(key=lambda x: (not x.verified, len(x.changes)))
    return WhyNot(output=output_name, wanted=shown, status=status, summary=summary, candidates=candidates)


def _search(search: Search, ways: list[Way]) -> int | None:
    """Every way, one size at a time: the first size at which some way works (the fewest facts any
    way needs), or None when none does within MAX_FACTS_CHANGED. No way is searched past it."""
    for size in range(MAX_FACTS_CHANGED + 1):
        for way in ways:
            if way.gave_up or not search.can_grow(way, size):
                continue
            way.solution = search.attempt(way, size)
        if any(way.solution is not None for way in ways):
            return size
    return None


def _candidate(search: Search, way: Way, fewest: int | None) -> Candidate:
    checked = search.checked
    rule = way.rule
    if rule is None:
        declared = checked.outputs[search.output]
        name = DEFAULT
        location = f"{declared.span.file}:{declared.span.line}" if declared.span else checked.root
        sets = f"{search.output} = {spell(to_json_value(declared.default))} (the default)"
    else:
        name = rule.id
        location = f"{rule.span.file}:{rule.span.line}"
        sets = ", ".join(
            checked.sources[a.span.file].text[a.span.start : a.span.end]
            for a in rule.actions
            if a.output == search.output and a.span.file in checked.sources
        )
    if way.solution is not None:
        stopped, started = search.stopped_and_started(way, way.solution)
        if search.read.words is None:
            search.read.words = atoms_by_fact(checked)
        changes = describe(
            checked, search.read.words, search.values, rule, way.solution, set(way.own), stopped, started
        )
        if rule is None:
            summary = "applies when no rule that sets the output does, with these changes"
        else:
            summary = "applies and gives the value with these changes" if changes else "already applies to these facts"
        return Candidate(rule=name, location=location, sets=sets, verified=True, changes=changes, summary=summary)
    return Candidate(rule=name, location=location, sets=sets, verified=False, summary=_why_none(search, way, fewest))


def _why_none(search: Search, way: Way, fewest: int | None) -> str:
    """Why a way has no change: the search gave up, it was not searched past the fewest facts
    another way needs, or no change within the bound works (with what was tried)."""
    if way.gave_up:
        return (
            f"the search gave up after {MAX_TRIES:,} decisions without finding a change "
            f"(it searched changes of up to {_facts(max(way.searched, 0))}); a larger change may work"
        )
    if fewest is not None and way.searched < MAX_FACTS_CHANGED:
        return f"needs more than {_facts(fewest)} changed: not searched further, since another way needs only {fewest}"
    if way.rule is not None and not way.own:
        return "its condition reads no fact, and it does not give the value on these facts"
    blind = _blind(search, way)
    if blind is not None:
        return (
            f"why-not cannot propose a value for `{blind}`; no other change of up to {_facts(MAX_FACTS_CHANGED)} works"
        )
    tried = EVERY_CLASS if search.exact() else SOME_VALUES
    if way.rule is None:
        return f"no change of up to {_facts(MAX_FACTS_CHANGED)}, {tried}, stops every rule that sets it"
    return f"no change of up to {_facts(MAX_FACTS_CHANGED)}, {tried}, makes it give the value"


def _blind(search: Search, way: Way) -> str | None:
    """A comparison the way's rule reads a fact through, where why-not cannot propose a value."""
    if way.rule is None:
        return None
    for node in c.walk([way.rule.condition, *(search.checked.derived[k].expr for k in _derived_of(search, way.rule))]):
        if isinstance(node, c.Compare | c.Membership | c.Between) and (text := cannot_propose(node)) is not None:
            return text
    return None


def _derived_of(search: Search, rule: c.CheckedRule) -> list[str]:
    found: list[str] = []
    stack: list[c.CheckedExpr] = [rule.condition]
    while stack:
        for node in c.walk([stack.pop()]):
            if isinstance(node, c.DerivedRef) and node.key not in found:
                found.append(node.key)
                stack.append(search.checked.derived[node.key].expr)
    return found


def _nothing(search: Search, ways: list[Way]) -> str:
    """The not-found summary: the bound, and what stopped the search short of it."""
    bound = f"no change of up to {_facts(MAX_FACTS_CHANGED)}"
    gave_up = [way for way in ways if way.gave_up]
    if gave_up:
        names = ", ".join(DEFAULT if w.rule is None else w.rule.id for w in gave_up)
        return (
            f"{bound} that makes one of them do so was found, and the search gave up after {MAX_TRIES:,} "
            f"decisions for {names}: it does not show that no change works"
        )
    blind = [text for way in ways if (text := _blind(search, way)) is not None]
    if blind:
        return f"why-not cannot propose a value for `{blind[0]}`, and {bound} of the values it can propose works"
    tried = EVERY_CLASS if search.exact() else SOME_VALUES
    return f"{bound}, {tried}, makes one of them do so"


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


def _current(decision: Decision, output: str, to_json: Any) -> str:
    if output in decision.conflicts:
        return "in conflict (its rules disagree)"
    value = decision.outputs.get(output, MISSING)
    return "without a value" if value is MISSING else spell(to_json(value))


def _facts(count: int) -> str:
    return f"{count} fact" + ("" if count == 1 else "s")
