"""Issue 13, item 7: the analysis fails closed.

The issue's example copies a fact into an output (`value = response_time`) that another rule
reads (`if value > 200`). The analysis called `slow` unreachable (it fires for response_time =
300), reported no conflict on `level`, and `load()` accepted the policy, whose `decide()` then
raised a conflict. Now: no claim of absence where the analysis is not exact, the conflict found
with its witness, `analysis-incomplete` notes naming what it could not follow, a warning from
`load()` where it cannot rule conflicts out, and any expression kind or operator the analysis
does not know treated as opaque (incomplete), never as understood.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import policylang
from policylang import AnalysisIncompleteWarning, Code
from policylang.analysis import fact_domains
from policylang.semantics import typed_tree as c

EXAMPLE = """\
input { response_time: number }
output {
    value: number
    level: enum(low, high)
}
rule copy: if response_time > 0 then value = response_time
rule slow: if value > 200 then level = high
rule fast_enough: if response_time > 100 then level = low
"""

NO_CONFLICT = EXAMPLE.replace("if response_time > 100", "if response_time < 0")
"""The same, with `fast_enough` where `value` is never set: nothing conflicts, but the analysis
cannot prove it without following `value` (it says so; `load` warns)."""


def _findings(text: str) -> list[policylang.Diagnostic]:
    return policylang.compile(text, filename="issue13.policy").analyse()


def _incomplete(findings: list[policylang.Diagnostic]) -> dict[str, tuple[str, ...]]:
    """output -> the notes of its `analysis-incomplete` finding"""
    found = {}
    for finding in findings:
        if finding.code is Code.ANALYSIS_INCOMPLETE:
            output = finding.message.split("`")[1]
            found[output] = finding.notes
    return found


def test_the_issue_example_is_not_called_unreachable_and_its_conflict_is_found() -> None:
    findings = _findings(EXAMPLE)
    assert not [f for f in findings if f.code is Code.UNREACHABLE_RULE]
    (conflict,) = [f for f in findings if f.code is Code.CONFLICT]
    assert set(conflict.rules) == {"slow", "fast_enough"}
    assert conflict.witness is not None and conflict.witness["response_time"] > 200
    policy = policylang.compile(EXAMPLE, filename="issue13.policy")
    with pytest.raises(policylang.ConflictError):
        policy.decide(conflict.witness)
    with pytest.raises(policylang.ConflictError):
        policy.decide({"response_time": 300})  # the issue's facts
    notes = _incomplete(findings)
    assert "rule `slow`: it reads `value`, whose value the analysis cannot follow (see rule `copy`)" in notes["level"]
    assert (
        "rule `copy`: `value` is copied from `response_time`, whose values the analysis does not enumerate"
        in notes["value"]
    )


def test_where_it_finds_no_conflict_it_says_it_could_not_rule_one_out() -> None:
    findings = _findings(NO_CONFLICT)
    assert not [f for f in findings if f.code in (Code.CONFLICT, Code.UNREACHABLE_RULE, Code.SHADOWED_RULE)]
    assert set(_incomplete(findings)) == {"value", "level"}


def test_load_refuses_the_example_and_warns_where_it_cannot_rule_conflicts_out(tmp_path: Path) -> None:
    path = tmp_path / "issue13.policy"
    path.write_text(EXAMPLE)
    with pytest.raises(policylang.PolicyError) as raised:
        policylang.load(path)
    assert [d.code for d in raised.value.diagnostics] == [Code.CONFLICT]

    path.write_text(NO_CONFLICT)
    for _ in range(2):  # analysed, then remembered: the warning each time
        # `value` is set by `copy` alone: one action never conflicts with itself, however little is known of it
        with pytest.warns(AnalysisIncompleteWarning, match="could not rule out conflicts on `level`;"):
            policy = policylang.load(path)
    assert policy.decide({"response_time": 300})["level"] == "high"
    with warnings.catch_warnings():
        warnings.simplefilter("error", AnalysisIncompleteWarning)
        with pytest.raises(AnalysisIncompleteWarning):
            policylang.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        policylang.load(path, refuse_conflicts=False)  # no analysis: nothing to say


def test_an_output_one_action_sets_cannot_conflict_and_loads_without_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "one_setter.policy"
    path.write_text(
        "input {\n    open_tickets: int\n    reopened: int\n}\n"
        "output { priority: enum(normal, high) = normal resolve priority }\n"
        "rule busy: if max(open_tickets, reopened) > 3 then priority = high\n"
    )
    assert Code.ANALYSIS_INCOMPLETE in [d.code for d in policylang.load(path, refuse_conflicts=False).analyse()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        policylang.load(path)


def test_an_exact_policy_loads_without_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "exact.policy"
    path.write_text(EXAMPLE.replace("then value = response_time", "then value = 1"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            policylang.load(path)


SWAPPED = """\
input { x: int }
output { o: int = 0 }
rule never: if x between 5 and 1 then o = 1
rule impossible: if x > 5 and x < 3 then o = 2
"""


def test_without_opaque_nodes_the_contradictions_are_unreachable() -> None:
    found = {f.rules for f in _findings(SWAPPED) if f.code is Code.UNREACHABLE_RULE}
    assert found == {("never",), ("impossible",)}


def test_a_node_kind_the_analysis_does_not_know_is_opaque(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(fact_domains.ANALYSED, c.Between)
    findings = _findings(SWAPPED)
    assert {f.rules for f in findings if f.code is Code.UNREACHABLE_RULE} == {("impossible",)}
    assert "rule `never`: the analysis does not know `Between`" in _incomplete(findings)["o"]


def test_an_operator_the_analysis_does_not_know_is_opaque(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fact_domains.ANALYSED, c.Compare, frozenset({"==", "!=", "<", "<=", ">="}))
    findings = _findings(SWAPPED)
    assert {f.rules for f in findings if f.code is Code.UNREACHABLE_RULE} == {("never",)}
    assert "rule `impossible`: the analysis does not know the operator `>`" in _incomplete(findings)["o"]


MIXED = """\
input {
    response_time: number
    tier: enum(basic, premium)
}
output {
    value: number = 0
    queue: enum(general, priority) = general
    level: enum(low, high) = low
}
rule copy: if tier == premium then value = response_time, queue = priority
rule fast: if queue == priority then level = high
rule never: if queue == priority and tier == basic then level = high
"""


def test_an_output_set_to_a_constant_stays_exact_beside_a_computed_one() -> None:
    # `copy` computes `value`, which nothing reads; the `queue` it sets is a constant, so `level`,
    # which reads `queue`, is still decided exactly: `never` is proven unreachable.
    findings = _findings(MIXED)
    assert set(_incomplete(findings)) == {"value"}
    assert [f.rules for f in findings if f.code is Code.UNREACHABLE_RULE] == [("never",)]


PIECEWISE = """\
input {
    x: int?
    y: int
}
output { v: int = 0 }
rule pos: if x > 0 then v = x * 2
rule neg: if x <= 0 then v = 0
"""
"""Two rules that compute `v` where the other cannot match: the conditions are in the exact
fragment and disjoint, so no facts make them conflict, however `v` is computed (issue 13
follow-up: `load` warned about it)."""


def _warnings_of_load(path: Path, text: str) -> list[str]:
    path.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):  # analysed, then remembered: the same verdict
            policylang.load(path)
    return [str(w.message) for w in caught if issubclass(w.category, AnalysisIncompleteWarning)]


@pytest.mark.parametrize(
    "text",
    [
        PIECEWISE,
        PIECEWISE.replace("v = x * 2", "v = max(x, y)"),
        PIECEWISE.replace("if x > 0", "if x is present").replace("if x <= 0", "if x is missing"),
        # overlapping, but the priorities decide
        PIECEWISE.replace("rule neg: if x <= 0", "rule neg priority 1: if x <= 5").replace(
            "int = 0 }", "int = 0 resolve priority }"
        ),
        # overlapping, but both compute the same value
        PIECEWISE.replace("if x <= 0 then v = 0", "if x > 5 then v = x * 2"),
    ],
    ids=["times", "max", "presence", "priorities", "same-value"],
)
def test_rules_that_compute_but_cannot_conflict_load_without_a_warning(tmp_path: Path, text: str) -> None:
    path = tmp_path / "piecewise.policy"
    assert Code.ANALYSIS_INCOMPLETE in [d.code for d in policylang.compile(text).analyse()]  # (the values)
    assert _warnings_of_load(path, text) == []


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        # a condition outside the fragment (two facts compared) may meet the other, and does here
        (PIECEWISE.replace("if x <= 0", "if x < y"), {"x": 1, "y": 5}),
        # the conditions meet where x > 5, and the analysis cannot tell that `x + x` is `x * 2`
        (PIECEWISE.replace("if x <= 0 then v = 0", "if x > 5 then v = x + x"), None),
        # the same with equal priorities, which do not decide
        (
            PIECEWISE.replace("rule neg: if x <= 0 then v = 0", "rule neg priority 1: if x <= 5 then v = x + x")
            .replace("rule pos:", "rule pos priority 1:")
            .replace("int = 0 }", "int = 0 resolve priority }"),
            None,
        ),
    ],
    ids=["two-facts", "overlapping", "equal-priorities"],
)
def test_rules_that_compute_and_may_conflict_still_warn(
    tmp_path: Path, text: str, facts: dict[str, int] | None
) -> None:
    path = tmp_path / "overlapping.policy"
    assert (
        _warnings_of_load(path, text)
        == [
            "overlapping: the analysis could not rule out conflicts on `v`; the policy is loaded, and a conflict "
            "raises ConflictError when it happens (`policy check` says why)"
        ]
        * 2
    )
    if facts is not None:  # a conflict the analysis did not find, which the warning covers
        with pytest.raises(policylang.ConflictError):
            policylang.load(path, refuse_conflicts=False).decide(facts)


def test_a_rules_reasons_are_told_apart_and_a_let_says_what_it_computes_from() -> None:
    # The reasons were joined with `, `, which runs them together ("..., it calls `abs`, which the
    # analysis does not look inside, it computes (arithmetic)"); a let "computes" from what?
    text = """\
input {
    x: int
    y: int
}
output { o: int = 0 }
let worst = x * y
rule big: if max(x, y) > abs(x - 1) then o = 1
rule worse: if worst > 3 then o = 2
"""
    notes = _incomplete(_findings(text))["o"]
    assert "rule `worse`: it reads the let `worst`, which is computed from `x`, `y`" in notes
    (big,) = [note for note in notes if note.startswith("rule `big`: ")]
    reasons = big.removeprefix("rule `big`: ").split("; ")
    assert sorted(reasons) == [
        "it calls `abs`, which the analysis does not look inside",
        "it calls `max`, which the analysis does not look inside",
        "it compares two values that are not constants",
        "it computes (arithmetic)",
    ]


COPIES = """\
input {
    requested: enum(general, priority, key_accounts)
    urgent: bool = false
    note: string
}
output {
    queue: enum(general, priority, key_accounts) = general
    level: int = 0
    flagged: bool = false
    label: string = ""
}
rule copy: if requested != general then queue = requested
rule never: if queue == general and requested == priority then level = 1
rule keys: if queue == key_accounts then level = 2
rule also_keys: if requested == key_accounts then level = 3
rule flag: if requested == priority then flagged = urgent
rule unflag: if urgent == true then flagged = false
rule label: if note != "" then label = note
"""


def test_a_copy_of_a_bool_or_enum_fact_is_analysed_exactly() -> None:
    # Every value of a bool or an enum is a class of its own: the enumeration tries each value the
    # copy can take, so `queue` and `flagged`, and `level`, which reads `queue`, are decided
    # exactly (`never` is proven unreachable). (A fact that can be missing is left out: a rule
    # copying it then matches and sets nothing.) A string's classes are the constants it is compared
    # with and one other string: a copy of one stays incomplete.
    findings = _findings(COPIES)
    assert set(_incomplete(findings)) == {"label"}
    assert _incomplete(findings)["label"] == (
        "rule `label`: `label` is copied from `note`, whose values the analysis does not enumerate",
    )
    assert [f.rules for f in findings if f.code is Code.UNREACHABLE_RULE] == [("never",)]
    conflicts = {f.rules: f.witness for f in findings if f.code is Code.CONFLICT}
    assert set(conflicts) == {("keys", "also_keys"), ("flag", "unflag")}
    assert conflicts["keys", "also_keys"]["requested"] == "key_accounts"  # (required facts at their plain values)
    assert conflicts["flag", "unflag"]["urgent"] is True and conflicts["flag", "unflag"]["requested"] == "priority"
