"""The static analysis (policylang/analysis.py) against brute force, on small policies over small finite domains.

Every random policy reads at most the facts of `INPUT_BLOCK` (an enum, a bool, an optional bool, an
int, an optional int and a defaulted bool), compares the ints only with the constants 0..3, and
sets one or two outputs with constant values. Deciding it on every combination of fact values
(the ints over -2..5: every constant +-2, which is every class a comparison with 0..3 can tell
apart) is then a complete account of what it can do, and the analysis must agree with it:

1. `conflict`: the (output, {rule, rule}) pairs reported are exactly the pairs of rules that some
   combination shows conflicting on that output with different values (soundness always;
   completeness where no `analysis-incomplete` names the output);
2. every witness replays through `decide(..., on_conflict="mark")`;
3. `unreachable-rule` names exactly the rules no combination fires;
4. `coverage-gap` names exactly the outputs without a default that some combination leaves with no
   value and not conflicted.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import policylang
from policylang import Code

AS_OF = "2026-01-01T00:00:00Z"

INPUT_BLOCK = """\
input {
    a: enum(x, y, z)
    b: bool
    c: bool?
    n: int
    k: int?
    d: bool = true
}
"""

CONSTANTS = (0, 1, 2, 3)
INTS = tuple(range(min(CONSTANTS) - 2, max(CONSTANTS) + 3))
ABSENT = object()
"""A fact left out of the facts given to `decide`."""

DOMAINS: dict[str, tuple[Any, ...]] = {
    "a": ("x", "y", "z"),
    "b": (False, True),
    "c": (False, True, ABSENT),
    "n": INTS,
    "k": (*INTS, ABSENT),
    "d": (False, True, ABSENT),
}
REQUIRED = {"a": "x", "b": False, "n": 0}
"""What a required fact the policy never mentions is given as (it cannot change the decision)."""

OUTPUTS = {
    "out0": ("int", ("1", "2", "3")),
    "out1": ("enum(lo, mid, hi)", ("lo", "mid", "hi")),
    "out2": ("bool", ("true", "false")),
}
ORDERED_RESOLUTIONS = (None, "unique", "priority", "first", "min", "max")
RESOLUTIONS = {
    "out0": ORDERED_RESOLUTIONS,
    "out1": ORDERED_RESOLUTIONS,
    "out2": (None, "priority", "first", "any", "all"),
}

# --- the policies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    text: str
    outputs: tuple[str, ...]
    rules: tuple[str, ...]


def _int_atom(draw: st.DrawFn, name: str) -> str:
    kind = draw(st.sampled_from(("==", "!=", "<", "<=", ">", ">=", "between", "in", "not in")))
    const = st.sampled_from(CONSTANTS)
    if kind == "between":
        return f"{name} between {draw(const)} and {draw(const)}"
    if kind in ("in", "not in"):
        items = draw(st.lists(const, min_size=1, max_size=3, unique=True))
        return f"{name} {kind} {{{', '.join(map(str, items))}}}"
    return f"{name} {kind} {draw(const)}"


def _atom(draw: st.DrawFn, reads: tuple[str, ...]) -> str:
    """One comparison of one fact (or readable output or segment) with constants."""
    kinds = ["a", "a", "b", "c", "n", "n", "k", "d", "presence"]
    kinds += [f"read:{r}" for r in reads]
    kind = draw(st.sampled_from(kinds))
    if kind == "a":
        op = draw(st.sampled_from(("==", "!=", "in", "not in")))
        if op in ("in", "not in"):
            members = draw(st.lists(st.sampled_from(DOMAINS["a"]), min_size=1, max_size=2, unique=True))
            return f"a {op} {{{', '.join(members)}}}"
        return f"a {op} {draw(st.sampled_from(DOMAINS['a']))}"
    if kind in ("b", "c", "d"):
        form = draw(st.integers(0, 2))
        return (kind, f"not {kind}", f"{kind} == {draw(st.sampled_from(('true', 'false')))}")[form]
    if kind in ("n", "k"):
        return _int_atom(draw, kind)
    if kind == "presence":
        return f"{draw(st.sampled_from(('c', 'k')))} is {draw(st.sampled_from(('missing', 'present')))}"
    read = kind.removeprefix("read:")
    if read == "s":
        return "s"
    # an output read by a rule that only sets later outputs
    form = draw(st.integers(0, 2))
    if form == 0:
        return f"{read} is {draw(st.sampled_from(('missing', 'present')))}"
    if OUTPUTS[read][0] == "bool":
        return (read, f"not {read}")[form - 1]
    if form == 1:
        return f"{read} >= {draw(st.sampled_from(OUTPUTS[read][1]))}"
    return f"{read} == {draw(st.sampled_from(OUTPUTS[read][1]))}"


def _condition(draw: st.DrawFn, depth: int, reads: tuple[str, ...]) -> str:
    kind = draw(st.sampled_from(("atom", "atom", "and", "or", "not") if depth > 0 else ("atom",)))
    if kind == "atom":
        return _atom(draw, reads)
    if kind == "not":
        return f"not ({_condition(draw, depth - 1, reads)})"
    operands = [_condition(draw, depth - 1, reads) for _ in range(draw(st.integers(2, 3)))]
    return "(" + f" {kind} ".join(operands) + ")"


def _action(draw: st.DrawFn, output: str) -> str:
    if OUTPUTS[output][0] == "bool":
        return draw(st.sampled_from((output, f"not {output}", f"{output} = true", f"{output} = false")))
    return f"{output} = {draw(st.sampled_from(OUTPUTS[output][1]))}"


@st.composite
def small_policies(draw: st.DrawFn) -> Generated:
    """A policy over INPUT_BLOCK: 1-2 of OUTPUTS (each set by at least one rule), maybe a segment, 2-6 rules."""
    names = sorted(draw(st.sets(st.sampled_from(tuple(OUTPUTS)), min_size=1, max_size=2)))
    lines = []
    for name in names:
        type_text, values = OUTPUTS[name]
        line = f"    {name}: {type_text}"
        if draw(st.booleans()):
            line += f" = {draw(st.sampled_from(values))}"
        resolution = draw(st.sampled_from(RESOLUTIONS[name]))
        if resolution is not None:
            line += f" resolve {resolution}"
        lines.append(line)
    parts = [INPUT_BLOCK, "output {\n" + "\n".join(lines) + "\n}\n"]
    segment = draw(st.booleans())
    if segment:
        parts.append(f"segment s = {_condition(draw, 2, ())}\n")

    count = draw(st.integers(2, 6))
    # every output is set by some rule; then each rule sets one or two outputs
    sets = [[name] for name in names] + [
        draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)) for _ in range(count - len(names))
    ]
    sets = draw(st.permutations(sets))
    rules = []
    for i, outputs in enumerate(sets):
        first = min(names.index(o) for o in outputs)
        reads = tuple(names[:first]) + (("s",) if segment else ())
        if not draw(st.integers(0, 3)):
            reads = ()
        cond = _condition(draw, 2, reads)
        actions = ", ".join(_action(draw, o) for o in sorted(outputs))
        priority = draw(st.sampled_from(("", "", " priority 1", " priority 2")))
        rule_id = f"r{i}"
        rules.append(rule_id)
        parts.append(f"rule {rule_id}{priority}:\n    if {cond}\n    then {actions}\n")
    return Generated("".join(parts), tuple(names), tuple(rules))


# --- brute force -----------------------------------------------------------------------------------


def every_facts(text: str) -> Iterator[dict[str, Any]]:
    """Every combination of the values of the facts the text mentions (the others fixed)."""
    body = text[len(INPUT_BLOCK) :]
    mentioned = [name for name in DOMAINS if re.search(rf"\b{name}\b", body)]
    for values in itertools.product(*(DOMAINS[name] for name in mentioned)):
        facts = dict(REQUIRED)
        facts.update(zip(mentioned, values, strict=True))
        yield {name: value for name, value in facts.items() if value is not ABSENT}


@dataclass
class Truth:
    conflicts: dict[tuple[str, frozenset[str]], dict[str, Any]]
    """(output, {rule, rule}) -> facts that show it"""
    fired: set[str]
    gaps: dict[str, dict[str, Any]]
    """output -> facts that leave it without a value"""


def _differ(x: Any, y: Any) -> bool:
    return x != y or isinstance(x, bool) != isinstance(y, bool)


def brute_force(policy: policylang.Policy, generated: Generated, defaults: set[str]) -> Truth:
    truth = Truth({}, set(), {})
    for facts in every_facts(generated.text):
        decision = policy.decide(facts, as_of=AS_OF, on_conflict="mark")
        fired = set(decision.fired)
        truth.fired |= fired
        for output, contributions in decision.conflicts.items():
            assert {rule for rule, _ in contributions} <= fired
            for (r1, v1), (r2, v2) in itertools.combinations(contributions, 2):
                if r1 != r2 and _differ(v1, v2):
                    truth.conflicts.setdefault((output, frozenset((r1, r2))), facts)
        for output in generated.outputs:
            if output not in defaults and output not in decision.outputs and output not in decision.conflicts:
                truth.gaps.setdefault(output, facts)
    return truth


# --- the findings ----------------------------------------------------------------------------------

_CONFLICT = re.compile(r"can both match and set `(\w+)` to different values")
_GAP = re.compile(r"^output `(\w+)` has no default")
_INCOMPLETE = re.compile(r"^the analysis of `(\w+)` is incomplete")


def _named(pattern: re.Pattern[str], message: str) -> str:
    found = pattern.search(message)
    assert found is not None, message
    return found.group(1)


def check_against_brute_force(text: str, generated: Generated, log: Callable[[str], object] = print) -> list[str]:
    """Assert properties 1-4 for one policy; returns what kind of policy it was (for `event`)."""
    log(text)
    policy = policylang.compile(text, filename="generated.policy")
    defaults = {name for name, output in policy.checked.outputs.items() if output.has_default}
    findings = policy.analyse()
    truth = brute_force(policy, generated, defaults)

    reported: set[tuple[str, frozenset[str]]] = set()
    gaps: set[str] = set()
    unreachable: set[str] = set()
    incomplete_outputs: set[str] = set()
    incomplete_rules: set[str] = set()
    for finding in findings:
        log(f"{finding.code}: {finding.message} rules={finding.rules} witness={finding.witness}")
        if finding.code == Code.CONFLICT:
            output = _named(_CONFLICT, finding.message)
            assert len(set(finding.rules)) == 2
            reported.add((output, frozenset(finding.rules)))
            # 2. the witness replays: the output conflicted, both rules among the conflicting
            assert finding.witness is not None
            decision = policy.decide(finding.witness, as_of=AS_OF, on_conflict="mark")
            shown = dict(decision.conflicts.get(output, ()))
            assert set(finding.rules) <= set(shown), (finding.witness, decision.conflicts)
            first, second = finding.rules
            assert _differ(shown[first], shown[second])
        elif finding.code == Code.COVERAGE_GAP:
            output = _named(_GAP, finding.message)
            gaps.add(output)
            assert finding.witness is not None
            decision = policy.decide(finding.witness, as_of=AS_OF, on_conflict="mark")
            assert output not in decision.outputs, (finding.witness, decision.outputs)
            assert output not in decision.conflicts
        elif finding.code == Code.UNREACHABLE_RULE:
            (rule,) = finding.rules
            unreachable.add(rule)
        elif finding.code == Code.ANALYSIS_INCOMPLETE:
            incomplete_outputs.add(_named(_INCOMPLETE, finding.message))
            incomplete_rules.update(finding.rules)
    kinds = [
        f"incomplete outputs: {len(incomplete_outputs)}",
        f"conflicts: {bool(truth.conflicts)}, gaps: {bool(truth.gaps)}, unfired: {bool(set(generated.rules) - truth.fired)}",
    ]

    # 1. conflicts: sound everywhere, complete where the analysis claims to be
    assert reported <= set(truth.conflicts), f"false conflicts: {reported - set(truth.conflicts)}"
    missed = {key: facts for key, facts in truth.conflicts.items() if key not in reported}
    missed = {key: facts for key, facts in missed.items() if key[0] not in incomplete_outputs}
    assert not missed, f"missed conflicts (with facts that show them): {missed}"

    # 3. unreachable rules: exactly the rules nothing fires
    never = set(generated.rules) - truth.fired
    assert unreachable <= never, f"reported unreachable but fires: {unreachable - never}"
    assert never - incomplete_rules <= unreachable, f"never fire but not reported: {never - unreachable}"

    # 4. coverage gaps: exactly the outputs without a default that some facts leave without a value
    assert gaps <= set(truth.gaps), f"false gaps: {gaps - set(truth.gaps)}"
    missed_gaps = {o: f for o, f in truth.gaps.items() if o not in gaps and o not in incomplete_outputs}
    assert not missed_gaps, f"missed gaps (with facts that show them): {missed_gaps}"
    return kinds


# --- the tests -------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_policies())
def test_analysis_agrees_with_brute_force(generated: Generated) -> None:
    for kind in check_against_brute_force(generated.text, generated, note):
        event(kind)


def test_output_no_rule_sets_is_a_coverage_gap() -> None:
    text = INPUT_BLOCK + "output {\n    out0: int\n    out1: int\n}\nrule r0:\n    if b\n    then out1 = 1\n"
    check_against_brute_force(text, Generated(text, ("out0", "out1"), ("r0",)))
