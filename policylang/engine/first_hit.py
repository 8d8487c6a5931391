"""The outputs-only decision function: per output, the cheapest way to its exact value, chosen per output.

`decide()` must give every output's value; which rules matched (`fired`) and who won and lost
(`resolutions`) are wanted far less often, and finding every matching rule costs time in
proportion to the rules that match, which grows with the policy. So alongside the full decision
function (compiler.py) a policy gets this one when it can. An output whose actions all set
constants gets a chain: its rules in the order its resolution prefers (for `resolve min` from the
smallest value up, for `priority` from the highest priority down, for `any` the rules proposing
true first, and so on), and the first rule that matches gives the answer. An output that needs
every match (`union`), whose values are computed, or whose chain would need too many conflict
checks is enumerated instead: its matching rules are found through the compiler's rule index over
that output's rules alone (`priority` level by level, highest first) and resolved by its picker.
A Decision made this way builds `fired` and `resolutions` with the full function when first asked
(evaluation is deterministic, so the answer is the same).

It is generated only where no rule condition can raise (a division, a schema-less value), because
an error the full function would meet must not be skipped; an action that raises (enumerated
outputs evaluate every matching rule's) makes the function hand over, so the full function raises
it exactly as before. When two matching rules could conflict (`unique`, or a `priority` tie), a
chain checks the rules that could disagree with the first match and an enumerated output checks
its picker's answer; on a conflict the function returns None: the caller then runs the full
function, which reports the conflict.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from ..core.datatypes import BOOL
from ..core.resolution import Prefer, resolution_of
from ..core.values import order_key, same_value
from ..semantics import typed_tree as c
from . import rule_index
from .codegen import CodeGen, Names

MAX_CONFLICT_CHECKS = 4
"""Per proposal, on average, at most this many conflict checks; more and the output is not worth it."""


class _Entry:
    """One rule's constant proposal for one output."""

    __slots__ = ("priority", "rule", "value")

    def __init__(self, rule: int, priority: int, value: Any) -> None:
        self.rule = rule
        self.priority = priority
        self.value = value


def generate(
    policy: c.CheckedPolicy,
    names: Names,
    gen: CodeGen,
    schedule: tuple[tuple[str, str], ...],
    header: list[str],
    read_outputs: set[str],
    enumerate_rules: Callable[[int, list[int]], list[str]],
) -> str | None:
    """The source of `decide_outputs(facts, now)` -> the outputs dict, or None (run the full function);
    or None when this policy cannot have one (see the module docstring).

    `enumerate_rules(output, rules)` gives the code that appends to `c{output}` the proposals of
    those of `rules` that match (the compiler's index over them)."""
    if any(rule_index.may_raise(rule.condition) for rule in policy.rules):
        return None
    chains: dict[str, list[_Entry]] = {name: [] for name in policy.outputs}
    setters: dict[str, list[int]] = {name: [] for name in policy.outputs}
    computed: set[str] = set()
    for i, rule in enumerate(policy.rules):
        for action in rule.actions:
            setters[action.output].append(i)
            if not isinstance(action.value, c.Const):
                computed.add(action.output)
                continue
            output = policy.outputs[action.output]
            value = action.value.value
            if action.op == "add" and output.has_default:
                value = output.default | value
            chains[action.output].append(_Entry(i, rule.priority, value))
    # A computed action may raise (a division by zero): the body then hands over to the full
    # function, which raises the error it meets first, as it always did.
    guard = any(rule_index.may_raise(a.value) for rule in policy.rules for a in rule.actions)
    lines = ["def decide_outputs(facts, now):", *header]
    matches = _Conditions(policy, gen)
    output_index = {name: i for i, name in enumerate(policy.outputs)}
    # Outputs whose enumeration may find a conflict go first when nothing reads an output (so no
    # order between them matters): a decision that hands over then wastes the least work.
    handing_over: list[list[str]] = []
    first_output: int | None = None  # where the first output's block starts (every derived value before it)
    for kind, name in schedule:
        if kind == "derived":
            lines.append(f"    {names.derived[name]} = {gen.value(policy.derived[name].expr)}")
        elif kind == "output":
            first_output = len(lines) if first_output is None else first_output
            i = output_index[name]
            block = None
            if name not in computed:
                block = _output_block(policy, gen, matches, name, i, chains[name])
            if block is None:
                # Every match is needed (union), the values are computed, or too many ties could
                # conflict: this output's matching rules are enumerated through the index instead.
                levels = [enumerate_rules(i, level) for level in _levels(policy, name, setters[name])]
                block = _enumerated_block(policy, gen, name, i, levels)
                if not read_outputs and resolution_of(policy.outputs[name].resolution).may_conflict:
                    handing_over.append(block)
                    continue
            lines.extend(block)
            if name in read_outputs:
                i = output_index[name]
                absent = "None" if policy.outputs[name].type == BOOL else "MISSING"
                lines.append(f"    o{i} = {absent} if r{i} is NO_VALUE else r{i}")
    if handing_over and first_output is not None:
        # With no output read, no derived value reads one either: the schedule put them all first.
        lines[first_output:first_output] = [line for block in handing_over for line in block]
    lines.append("    out = {}")
    for i, (name, output) in enumerate(policy.outputs.items()):
        if output.has_default:
            lines.append(f"    out[{name!r}] = r{i}")
        else:
            lines.append(f"    if r{i} is not NO_VALUE:")
            lines.append(f"        out[{name!r}] = r{i}")
    lines.append("    return out")
    if guard:
        body = ["    " + line for line in lines[1:]]
        lines = [lines[0], "    try:", *body, "    except _Failure:", "        return None  # the full function raises"]
    return "\n".join(lines) + "\n"


def _levels(policy: c.CheckedPolicy, name: str, rules: list[int]) -> list[list[int]]:
    """An output's rules in groups that its resolution tries in turn, stopping at the first group
    with a proposal: by priority, highest first, for `priority`; otherwise one group."""
    if resolution_of(policy.outputs[name].resolution).prefer is not Prefer.HIGHER_PRIORITY:
        return [rules]
    by_priority: dict[int, list[int]] = {}
    for rule in rules:
        by_priority.setdefault(policy.rules[rule].priority, []).append(rule)
    return [by_priority[priority] for priority in sorted(by_priority, reverse=True)]


def _enumerated_block(policy: c.CheckedPolicy, gen: CodeGen, name: str, i: int, levels: list[list[str]]) -> list[str]:
    """An output decided from its matching rules (each level's code fills c{i} through the index),
    resolved by its picker as the full function does; a conflict hands over to the full function.
    A level's proposals outrank all later levels', so the first level with one decides."""
    output = policy.outputs[name]
    nothing = gen.constant(output.default) if output.has_default else "NO_VALUE"
    lines = [f"    c{i} = []"]
    if len(levels) == 1:
        lines.extend(levels[0])
    else:
        lines.append("    while True:")
        for level in levels:
            lines.extend("    " + line for line in level)
            lines.append(f"        if c{i}:")
            lines.append("            break")
        lines.append("        break")
    lines.append(f"    r{i} = (c{i}[0][1] if len(c{i}) == 1 else _pick{i}(c{i})) if c{i} else {nothing}")
    if resolution_of(output.resolution).may_conflict:
        lines.append(f"    if r{i} is CONFLICTED:")
        lines.append("        return None  # matching rules disagree: the full function reports it")
    return lines


def _output_block(
    policy: c.CheckedPolicy, gen: CodeGen, matches: _Conditions, name: str, i: int, entries: list[_Entry]
) -> list[str] | None:
    output = policy.outputs[name]
    strategy = output.resolution
    if resolution_of(strategy).needs_every_match:
        return None
    ordered = _ordered(strategy, output, entries)
    checks = _conflicts_after(strategy, ordered, MAX_CONFLICT_CHECKS * max(1, len(ordered)))
    if checks is None:
        return None
    nothing = gen.constant(output.default) if output.has_default else "NO_VALUE"
    # A flat loop with `break`, not an if/elif chain: CPython nests elif, and 10,000 of them
    # overflow its compiler.
    lines = ["    while True:"]
    for entry, conflicts in zip(ordered, checks, strict=True):
        lines.append(f"        if {matches(entry.rule)}:")
        lines.append(f"            r{i} = {gen.constant(entry.value)}")
        if conflicts:
            tests = " or ".join(matches(other.rule) for other in conflicts)
            lines.append(f"            if {tests}:")
            lines.append("                return None  # matching rules disagree: the full function reports it")
        lines.append("            break")
    lines.append(f"        r{i} = {nothing}")
    lines.append("        break")
    return lines


class _Conditions:
    """Each rule's condition as code, generated once however many outputs' chains test it."""

    def __init__(self, policy: c.CheckedPolicy, gen: CodeGen) -> None:
        self.policy = policy
        self.gen = gen
        self.codes: dict[int, str] = {}

    def __call__(self, rule_index: int) -> str:
        code = self.codes.get(rule_index)
        if code is None:
            condition = self.policy.rules[rule_index].condition
            code = self.gen.cond(condition)
            code = self.codes[rule_index] = f"({code} is True)" if self.gen.maybe(condition) else code
        return code


def _ordered(strategy: str, output: c.Output, entries: list[_Entry]) -> list[_Entry]:
    """The proposals in the order the resolution prefers them (highest rank first); among equals, in rule order."""
    resolution = resolution_of(strategy)
    key = order_key(output.type) or _identity
    in_rule_order = sorted(entries, key=lambda e: e.rule)
    ranked = sorted(in_rule_order, key=lambda e: resolution.rank(e.rule, e.priority, key(e.value)), reverse=True)
    if resolution.prefer in (Prefer.TRUE, Prefer.FALSE) and output.has_default:
        preferred = resolution.prefer is Prefer.TRUE  # `any`: a true proposal decides; `all`: a false one does
        if output.default is (not preferred):
            return [e for e in ranked if bool(e.value) == preferred]  # the others only give what the default does
    return ranked  # sorted() is stable, also with reverse=True


def _conflicts_after(strategy: str, ordered: list[_Entry], limit: int) -> list[list[_Entry]] | None:
    """Per position, the later proposals that would make a conflict if they matched along with the
    one there: those of the same rank (a tie) with another value. None when there are more than
    `limit` in all (the chain is not worth it).

    In time linear in the proposals plus the checks found: ranks are computed once, the proposals
    fall into runs of equal rank (`ordered` is sorted by rank), and a run's checks are counted from
    how many later proposals of the run have the same value before any list is built (asking every
    later proposal of every proposal was quadratic: 4.4 million rank calls at 10,000 rules)."""
    resolution = resolution_of(strategy)
    checks: list[list[_Entry]] = [[] for _ in ordered]
    if not resolution.may_conflict or not resolution.ranks_rules:
        return checks
    ranks = [resolution.rank(entry.rule, entry.priority, None) for entry in ordered]
    total = 0  # checks found so far
    start = 0
    while start < len(ordered):
        end = start + 1
        while end < len(ordered) and ranks[end] == ranks[start]:
            end += 1
        if end - start > 1:
            found = _tie_checks(ordered[start:end], limit - total)
            if found is None:
                return None
            checks[start:end] = found
            total += sum(len(later) for later in found)
        start = end
    return checks


def _tie_checks(run: list[_Entry], limit: int) -> list[list[_Entry]] | None:
    """For each proposal of a run of equal rank, the later ones with another value, in order; None
    when there are more than `limit` in all. Counted first (from how many later proposals share
    each value), then listed from each other value's positions: the time grows with the run times
    its distinct values plus the checks found, never with the run's square."""
    try:
        keys = [_value_key(entry.value) for entry in run]
    except TypeError:  # an unhashable value: compare pairwise, within the limit
        pairwise: list[list[_Entry]] = []
        for i, a in enumerate(run):
            pairwise.append([b for b in run[i + 1 :] if not same_value(a.value, b.value)])
            limit -= len(pairwise[-1])
            if limit < 0:
                return None
        return pairwise
    counts = [0] * len(run)
    seen: dict[Any, int] = {}
    for i in range(len(run) - 1, -1, -1):
        same = seen.get(keys[i], 0)
        counts[i] = len(run) - 1 - i - same
        seen[keys[i]] = same + 1
    if sum(counts) > limit:
        return None
    positions: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        positions.setdefault(key, []).append(i)
    found: list[list[_Entry]] = []
    for i, count in enumerate(counts):
        if not count:
            found.append([])
            continue
        later = [j for key, at in positions.items() if key != keys[i] for j in at[bisect.bisect_right(at, i) :]]
        found.append([run[j] for j in sorted(later)])
    return found


def _value_key(value: Any) -> Any:
    """Keys equal exactly for values `same_value` calls the same (a bool equals only a bool; 1 and
    Decimal("1.0") are one value and hash alike). Raises TypeError for an unhashable value."""
    key = (value.__class__ is bool, value)
    hash(key)
    return key


def _identity(value: Any) -> Any:
    return value
