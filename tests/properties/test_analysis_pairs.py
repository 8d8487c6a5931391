"""The shortcuts that make big policies' analysis linear (issue 14), against the long way round.

1. `x == "a"` / `x != "a"`, `x in {"a", "b"}` / `x not in {...}` / `{...} contains x` on a
   string or enum fact is decided by looking the constants up among the fact's classes
   (`Conditions._equality_sides`); it must give exactly the classes that trying the condition on
   every class gives, missing values included.
2. The pairs of rules that can match together (`RuleRegions.meeting_pairs`: a sweep over runs of
   the splitting fact's classes, broad rules compared directly) are exactly the pairs whose hulls
   meet, all pairs compared, on a fact of many classes with masks of several runs.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

import policylang
from policylang.analysis.analyser import _Analysis
from policylang.analysis.boxes import hull, meets
from policylang.analysis.regions import Conditions, RuleRegions

WORDS = ("a", "b", "c", "d")


@st.composite
def equality_policies(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["string", "enum(a, b, c)"]))
    optional = draw(st.booleans())
    lines = [
        "input {",
        f"    x: {kind}{'?' if optional else ''}",
        "}",
        "",
        "output {",
        "    y: int = 0 resolve max",
        "}",
        "",
    ]
    for k in range(draw(st.integers(min_value=1, max_value=6))):
        words = WORDS if kind == "string" else WORDS[:3]
        spelt = [f'"{w}"' if kind == "string" else w for w in words]
        op = draw(st.sampled_from(["==", "!=", "in", "not in", "contains"]))
        if op in ("==", "!="):
            left, right = "x", draw(st.sampled_from(spelt))
            if draw(st.booleans()):
                left, right = right, left
        else:
            members = draw(st.lists(st.sampled_from(spelt), min_size=1 if kind != "string" else 0, unique=True))
            left, right = "x", "{" + ", ".join(members) + "}"
            if op == "contains" and kind == "string":  # (`{a} contains x` of an enum is not typed: no context)
                left, right = right, left
            elif op == "contains":
                op = "in"
        lines += [f"rule r{k}:", f"    if {left} {op} {right}", f"    then y = {k}", ""]
    return "\n".join(lines)


@settings(max_examples=60, deadline=None)
@given(equality_policies())
def test_equality_and_membership_by_lookup_is_trying_every_class(text: str) -> None:
    policy = policylang.compile(text)
    analysis = _Analysis(policy)
    every_class = Conditions(analysis.checked, analysis.domains, analysis.inexact_facts)
    every_class._equality_sides = lambda *args: None  # type: ignore[method-assign]
    for rule in analysis.checked.rules:
        fast, slow = analysis.conditions.truth(rule.condition), every_class.truth(rule.condition)
        assert fast is not None and slow is not None
        assert (fast.true, fast.false) == (slow.true, slow.false), rule.id
    assert analysis.conditions._string_index  # (the lookup was taken, not fallen back from)


WIDTHS = (12, 3)
FULL = [(1 << w) - 1 for w in WIDTHS]


@st.composite
def runs_boxes(draw: st.DrawFn) -> dict[int, int]:
    """A box whose mask on the wide fact is a union of a few runs (ranges), sometimes most classes."""
    box = {}
    if draw(st.booleans()):
        mask = 0
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            start = draw(st.integers(min_value=0, max_value=WIDTHS[0] - 1))
            end = draw(st.integers(min_value=start, max_value=WIDTHS[0] - 1))
            mask |= ((1 << (end + 1)) - 1) & ~((1 << start) - 1)
        box[0] = mask
    if draw(st.booleans()):
        box[1] = draw(st.integers(min_value=1, max_value=FULL[1]))
    return box


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(runs_boxes(), min_size=1, max_size=2), min_size=2, max_size=12), st.data())
def test_swept_pairs_are_all_meeting_pairs(truths: list[list[dict[int, int]]], data: st.DataObject) -> None:
    rank = {i: data.draw(st.integers(min_value=0, max_value=1)) for i in range(len(truths))}
    index = RuleRegions(dict(enumerate(truths)), FULL, rank)
    every_pair = [
        (i, j) for i, j in itertools.combinations(range(len(truths)), 2) if meets(hull(truths[i]), hull(truths[j]))
    ]
    assert index.meeting_pairs(range(len(truths))) == every_pair
    chosen = range(0, len(truths), 2)
    assert index.meeting_pairs(chosen) == [(i, j) for i, j in every_pair if i in chosen and j in chosen]


def test_membership_in_a_table_of_thousands_of_classes_costs_per_member() -> None:
    """`region in {"rK", "rK+1", "rK+2"}` against a fact of 3,000 classes: each rule tries its
    members' classes and one other, never every class (3,000 rules x 3,000 classes before)."""
    count = 3_000
    lines = ["input {", "    region: string", "}", "", "output {", '    zone: string = "none" resolve first', "}", ""]
    for k in range(count):
        members = ", ".join(f'"r{m}"' for m in (k, k + 1, k + 2))
        op = "not in" if k % 500 == 0 else "in"
        lines += [f"rule r{k}:", f"    if region {op} {{{members}}}", f'    then zone = "z{k}"', ""]
    analysis = _Analysis(policylang.compile("\n".join(lines)))
    before = analysis.conditions.tests_left
    truths = [analysis.conditions.truth(rule.condition) for rule in analysis.checked.rules]
    assert all(truth is not None for truth in truths)
    assert before - analysis.conditions.tests_left <= 5 * count  # (members + one other + missing), not classes
    region = list(analysis.checked.facts).index("region")
    (box,) = truths[7].true  # type: ignore[union-attr]
    assert sorted(analysis.domains["region"][cls] for cls in range(count + 3) if box[region] >> cls & 1) == [
        "r7",
        "r8",
        "r9",
    ]
