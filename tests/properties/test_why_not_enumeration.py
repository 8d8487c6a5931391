"""Why-not answers against brute force over every value of every fact (issue 15).

Hypothesis writes small policies whose facts have small domains: enums of three members, ints
compared with the constants 1 to 3 (tried from -2 to 6), flags, sets over a three-member enum,
optional facts that may be missing. Conditions compare facts with constants and with each other
(`==` `!=` `<` `<=` `in` `contains`), compute (`+`, `*`, `min`, `max`, `abs`, `round` `floor`
`ceil` of a quotient, `if c then a else b`), sit under `not`, `and`, `or` and segments; rules have
priorities, and outputs every resolution that fits. For a random value of a random output, the
why-not answer is compared with every assignment of the facts (each value, and missing where a
fact may be missing), which decides what the answer must be:

(a) every verified change, applied to the facts and decided again, gives the value from the
    rule the answer names (or the default);
(b) the fewest facts changed in the answer is the fewest any assignment within the bound
    (MAX_FACTS_CHANGED facts) needs;
(c) `not-found` only when no assignment within the bound gives the value, and `impossible` only
    when no assignment at all does;
(d) the answer's change is the smallest of its size in the sense docs/explaining.md defines: no
    changed fact could take a value nearer its own (`nearness`) with the others kept as proposed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import policylang
from policylang import MISSING
from policylang.explain.why_not import DEFAULT, MAX_FACTS_CHANGED

MEMBERS = ("x", "y", "z")
LEVELS = ("p", "q", "r")
INTS = tuple(range(-2, 7))
"""Every int fact is tried from -2 to 6: the constants are 1 to 3 and facts are given 0 to 4, so
every class (and a neighbour past another fact's value) has a member here."""
STRINGS = ("u", "v", "w", "other")
"""Strings are compared with "u" and "v" and given "u" to "w": "other" stands for every string the
policy and the facts do not name."""
SUBSETS = tuple(frozenset(c) for k in range(4) for c in itertools.combinations(MEMBERS, k))


@dataclass(frozen=True)
class Fact:
    name: str
    kind: str  # enum, int, bool, set, string
    optional: bool

    @property
    def declaration(self) -> str:
        written = {
            "enum": "enum(x, y, z)",
            "int": "int",
            "bool": "bool",
            "set": "set[enum(x, y, z)]",
            "string": "string",
        }[self.kind]
        if self.kind == "set":
            return f"{self.name}: {written} = {{}}"
        return f"{self.name}: {written}{'?' if self.optional else ''}"

    @property
    def domain(self) -> tuple[Any, ...]:
        values: tuple[Any, ...] = {
            "enum": MEMBERS,
            "int": INTS,
            "bool": (False, True),
            "set": SUBSETS,
            "string": STRINGS,
        }[self.kind]
        return (*values, MISSING) if self.optional else values


def nearness(fact: Fact, old: Any, new: Any, existing: set[Any]) -> int:
    """How far a change moves a fact (docs/explaining.md, "the smallest change"): the distance in
    the fact's order for ints and enums (declaration order), the elements added or removed for a
    set, 1 for a flag or for giving a missing fact a value, for a string 1 when it is a value the
    policy compares the fact with or another fact's value (`existing`) and 2 when it is invented,
    and leaving a fact out farthest of all."""
    if new is MISSING:
        return 1_000
    if fact.kind == "string":
        return 1 if new in existing else 2
    if old is MISSING or fact.kind == "bool":
        return 1
    if fact.kind == "int":
        return int(abs(new - old))
    if fact.kind == "enum":
        return abs(MEMBERS.index(new) - MEMBERS.index(old))
    return len(old ^ new)


@st.composite
def cases(draw: Any) -> tuple[str, list[Fact], dict[str, Any], str, Any]:
    kinds = draw(
        st.lists(
            st.sampled_from(["enum", "enum", "int", "int", "bool", "set", "string", "string"]), min_size=2, max_size=4
        ).filter(
            lambda ks: (
                sum(k == "set" for k in ks) <= 1
                and sum(k == "int" for k in ks) <= 2
                and sum(k == "string" for k in ks) <= 2
            )
        )
    )
    facts = [Fact(f"{k[0]}{i}", k, k != "set" and draw(st.booleans())) for i, k in enumerate(kinds)]
    by_kind = {k: [f for f in facts if f.kind == k] for k in ("enum", "int", "bool", "set", "string")}

    def atom() -> str:
        choices = []
        for f in by_kind["enum"]:
            choices += [
                f"{f.name} == {draw(st.sampled_from(MEMBERS))}",
                f"{f.name} != {draw(st.sampled_from(MEMBERS))}",
                f"{f.name} < {draw(st.sampled_from(MEMBERS))}",
                f"{f.name} in {{{', '.join(draw(st.sets(st.sampled_from(MEMBERS), min_size=1, max_size=2)))}}}",
            ]
            if f.optional:
                choices.append(f"{f.name} is missing")
        for f in by_kind["int"]:
            k = draw(st.integers(1, 3))
            choices += [f"{f.name} {draw(st.sampled_from(['<', '<=', '>', '>=', '==', '!=']))} {k}"]
            choices += [f"abs({f.name} - {k}) < 2", f"{f.name} between 1 and {k + 1}"]
            choices += [f"round({f.name} / 2) == {k}", f"ceil({f.name} / 3) >= {k - 1}"]
            for flag in by_kind["bool"]:
                choices.append(f"(if {flag.name} then {f.name} else {k}) >= {k + 1}")
        for f in by_kind["bool"]:
            choices += [f.name, f"not {f.name}"]
        for f in by_kind["string"]:
            choices += [f'{f.name} == "u"', f'{f.name} != "v"', f'{f.name} in {{"u", "v"}}']
            if f.optional:
                choices.append(f"{f.name} is present")
        for a, b in itertools.permutations(by_kind["string"], 2):
            choices += [f"{a.name} == {b.name}", f"{a.name} != {b.name}"]
        for f in by_kind["set"]:
            choices += [f"{f.name} contains {draw(st.sampled_from(MEMBERS))}", f"{f.name} == {{x}}"]
            for e in by_kind["enum"]:
                choices += [f"{e.name} in {f.name}", f"{f.name} contains {e.name}"]
        for a, b in itertools.permutations(by_kind["enum"], 2):
            choices += [f"{a.name} {op} {b.name}" for op in ("==", "!=", "<", "<=")]
        for a, b in itertools.permutations(by_kind["int"], 2):
            k = draw(st.integers(1, 3))
            choices += [f"{a.name} {op} {b.name}" for op in ("==", "!=", "<", "<=")]
            choices += [
                f"{a.name} + {b.name} > {k}",
                f"total >= {k + 2}",
                f"max({a.name}, {b.name}) >= {k + 1}",
                f"min({a.name}, {b.name}) < {k}",
                f"{a.name} * 2 <= {b.name}",
                f"round({a.name} / 4) >= {b.name}",
                f"floor({a.name} / 4) <= {b.name}",
                f"ceil({a.name} / 2) == {b.name}",
                f"(if {a.name} > {k} then {a.name} else {k}) < {b.name}",
                f"(if {b.name} is missing then 0 else {a.name}) > {b.name}",
            ]
        return str(draw(st.sampled_from(choices)))

    def condition(depth: int = 0) -> str:
        shape = draw(st.sampled_from(["atom", "atom", "and", "or", "not"] if depth < 2 else ["atom"]))
        if shape == "atom":
            return atom()
        if shape == "not":
            return f"not ({condition(depth + 1)})"
        return f"({condition(depth + 1)} {shape} {condition(depth + 1)})"

    bool_resolution = draw(st.sampled_from(["any", "all", "first", "unique"]))
    level_resolution = draw(st.sampled_from(["first", "priority", "min", "max", "unique"]))
    level_default = draw(st.sampled_from(["", " = p"]))
    segments = [f"segment g{i} = {condition()}" for i in range(draw(st.integers(0, 1)))]
    if len(by_kind["int"]) == 2:  # a let that computes, read by `total >= k`
        segments.insert(0, f"let total = {by_kind['int'][0].name} - {by_kind['int'][1].name} * 2")
    rules, actions = [], []
    for i in range(draw(st.integers(1, 3))):
        when = condition()
        if segments and draw(st.booleans()):
            when = f"g0 {draw(st.sampled_from(['and', 'or']))} {when}"
        action = draw(
            st.sampled_from(["ok", "ok = false", "lvl = p", "lvl = q", "lvl = r", "tags += {p}", "tags += {q, r}"])
        )
        actions.append(action)
        priority = f" priority {draw(st.integers(0, 2))}" if draw(st.booleans()) else ""
        rules.append(f"rule r{i}{priority}: if {when} then {action}")
    text = "\n".join(
        [
            "input {",
            *(f"    {f.declaration}" for f in facts),
            "}",
            "output {",
            f"    ok: bool = false resolve {bool_resolution}",
            f"    lvl: enum(p, q, r){level_default} resolve {level_resolution}",
            "    tags: set[enum(p, q, r)] = {} resolve union",
            "}",
            *segments,
            *rules,
            "",
        ]
    )
    given_facts: dict[str, Any] = {}
    for f in facts:
        value = draw(
            st.sampled_from(
                {
                    "enum": MEMBERS,
                    "int": (0, 1, 2, 3, 4),
                    "bool": (False, True),
                    "set": SUBSETS,
                    "string": ("u", "v", "w"),
                }[f.kind]
            )
        )
        if not (f.optional and draw(st.booleans())):
            given_facts[f.name] = value
    # Mostly a value some rule sets (the interesting case), sometimes any value of the output.
    set_values = [
        ("ok", a != "ok = false") if a.startswith("ok") else ("lvl", a[-1]) for a in actions if "tags" not in a
    ]
    set_values += [("tags", frozenset(a[a.index("{") + 1 : -1].split(", "))) for a in actions if "tags" in a]
    if draw(st.integers(0, 4)) > 0:
        output, target = draw(st.sampled_from(set_values))
    else:
        output = draw(st.sampled_from(["ok", "lvl", "tags"]))
        target = draw(st.sampled_from({"ok": (False, True), "lvl": LEVELS, "tags": SUBSETS_OF_LEVELS}[output]))
    return text, facts, given_facts, output, target


SUBSETS_OF_LEVELS = tuple(frozenset(c) for k in range(4) for c in itertools.combinations(LEVELS, k))


def _compared_strings(text: str, name: str) -> set[str]:
    """The strings the policy compares a string fact with (`s0 == "u"`, `s0 in {"u", "v"}`)."""
    found = set(re.findall(rf'\b{name} (?:==|!=) "(\w+)"', text))
    for members in re.findall(rf"\b{name} in {{([^}}]*)}}", text):
        found |= set(re.findall(r'"(\w+)"', members))
    return found


def _as_given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in values.items() if v is not MISSING}


def _gives(policy: Any, values: dict[str, Any], output: str, target: Any, rule: str | None = None) -> bool:
    decision = policy.decide(_as_given(values), on_conflict="mark")
    if output in decision.conflicts or decision.outputs.get(output, MISSING) != target:
        return False
    if rule is None:
        return True
    resolved = decision.resolutions[output]
    return resolved.status == "default" if rule == DEFAULT else rule in resolved.winners


def _applied(given_facts: dict[str, Any], facts: list[Fact], changes: list[Any]) -> dict[str, Any]:
    values = {f.name: given_facts.get(f.name, MISSING) for f in facts}
    kinds = {f.name: f.kind for f in facts}
    for change in changes:
        to = change.to
        values[change.fact] = MISSING if to is None else frozenset(to) if kinds[change.fact] == "set" else to
    return values


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_why_not_matches_brute_force_over_every_value(case: tuple[str, list[Fact], dict[str, Any], str, Any]) -> None:
    text, facts, given_facts, output, target = case
    try:
        policy = policylang.compile(text, filename="gen.policy")
    except policylang.PolicyError:
        assume(False)
        return
    decision = policy.decide(given_facts, on_conflict="mark")
    answer = decision.why_not(output, sorted(target) if isinstance(target, frozenset) else target)
    event(f"why-not: {answer.status}")
    now = {f.name: given_facts.get(f.name, MISSING) for f in facts}
    # The fewest facts any assignment needs: every value of every fact, and every value the
    # answer proposes (a product may reach past the domain: `i1 * 2 <= i0` with i1 = 4 needs 8).
    domains = {f.name: list(f.domain) for f in facts}
    for candidate in answer.candidates:
        for name, value in _applied(given_facts, facts, candidate.changes).items():
            if value not in domains[name]:
                domains[name].append(value)
    fewest = None
    for combination in itertools.product(*domains.values()):
        assignment = dict(zip((f.name for f in facts), combination, strict=True))
        size = sum(assignment[n] != now[n] or (assignment[n] is MISSING) != (now[n] is MISSING) for n in now)
        if (fewest is None or size < fewest) and _gives(policy, assignment, output, target):
            fewest = size
    if answer.status == "already":
        assert fewest == 0, answer
        return
    if answer.status == "impossible":
        assert fewest is None, (answer.summary, fewest)
        return
    assert fewest != 0, answer
    found = [x for x in answer.candidates if x.verified]
    for candidate in found:  # (a)
        values = _applied(given_facts, facts, candidate.changes)
        assert _gives(policy, values, output, target, candidate.rule), candidate
    if fewest is None or fewest > MAX_FACTS_CHANGED:  # (c)
        assert answer.status == "not-found", (answer, fewest)
        assert f"up to {MAX_FACTS_CHANGED} facts" in answer.summary, answer.summary
        return
    assert answer.status == "possible", (answer, fewest)  # (c): a change within the bound exists
    assert min(len(x.changes) for x in found) == fewest, (answer, fewest)  # (b)
    kinds = {f.name: f for f in facts}
    for candidate in found:  # (d)
        values = _applied(given_facts, facts, candidate.changes)
        for change in candidate.changes:
            fact = kinds[change.fact]
            existing = {v for k, v in values.items() if k != fact.name} | _compared_strings(text, fact.name)
            chosen = nearness(fact, now[fact.name], values[fact.name], existing)
            for nearer in fact.domain:
                if nearer == now[fact.name] or nearness(fact, now[fact.name], nearer, existing) >= chosen:
                    continue
                tried = {**values, fact.name: nearer}
                assert not _gives(policy, tried, output, target, candidate.rule), (candidate, fact.name, nearer)
