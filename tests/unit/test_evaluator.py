"""The semantics of a decision, row by row from docs/evaluation.md, plus thread safety and code-injection safety."""

from __future__ import annotations

import io
import json
import threading
import tokenize
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import policylang
from policylang import MISSING
from policylang.core.values import Duration

AS_OF = "2026-01-31T09:00:00Z"
DAY = 86_400


def compile_text(text: str, **options: Any) -> policylang.Policy:
    return policylang.compile(text, filename="t.policy", **options)


def decide(text: str, facts: dict[str, Any] | None = None, **options: Any) -> policylang.Decision:
    options.setdefault("as_of", AS_OF)
    return compile_text(text).decide(facts or {}, **options)


# --- 1. facts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_text", "given", "expected"),
    [
        ("bool", True, True),
        ("bool", False, False),
        ("int", 3, 3),
        ("int", 3.0, 3),
        ("int", "3", 3),
        ("int", "10_000", 10_000),
        ("number", 3, Decimal(3)),
        ("number", 0.1, Decimal("0.1")),
        ("number", 19.99, Decimal("19.99")),
        ("number", "19.99", Decimal("19.99")),
        ("number", Decimal("0.5"), Decimal("0.5")),
        ("string", "eu", "eu"),
        ("duration", "3y", Duration(36, 0)),
        ("duration", "400d", Duration(0, 400 * DAY)),
        ("duration", "1y6mo", Duration(18, 0)),
        ("duration", "P3Y", Duration(36, 0)),
        ("duration", "PT4H", Duration(0, 4 * 3600)),
        ("duration", Duration(0, 90), Duration(0, 90)),
        ("duration", timedelta(days=2), Duration(0, 2 * DAY)),
        ("date", "2026-01-31", date(2026, 1, 31)),
        ("date", date(2026, 1, 31), date(2026, 1, 31)),
        ("datetime", "2026-01-31T09:00:00Z", datetime(2026, 1, 31, 9, tzinfo=UTC)),
        ("datetime", "2026-01-31T10:00:00+01:00", datetime(2026, 1, 31, 9, tzinfo=UTC)),
        ("datetime", datetime(2026, 1, 31, 9, tzinfo=UTC), datetime(2026, 1, 31, 9, tzinfo=UTC)),
        ("enum(basic, premium)", "premium", "premium"),
        ("set[string]", ["a", "b", "a"], frozenset({"a", "b"})),
        ("set[string]", {"a"}, frozenset({"a"})),
        ("set[int]", [1, 2], frozenset({1, 2})),
        ("set[duration]", ["1d", "24h"], frozenset({Duration(0, DAY)})),
    ],
)
def test_facts_are_converted_by_their_declared_type(type_text: str, given: Any, expected: Any) -> None:
    policy = compile_text(f"input {{ x: {type_text} }}\noutput {{ o: bool = false resolve any }}\n")
    value = policy.validate_facts({"x": given})["x"]
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(value, datetime):
        assert value.utcoffset() == timedelta(0)
    if isinstance(value, Duration):
        assert (value.months, value.seconds) == (expected.months, expected.seconds)


@pytest.mark.parametrize(
    ("type_text", "expected", "given"),
    [
        ("bool", "a bool", "true"),
        ("bool", "a bool", 1),
        ("int", "an int", 2.5),
        ("int", "an int", "three"),
        ("int", "an int", True),
        ("number", "a number", True),
        ("number", "a number", "abc"),
        ("number", "a number", float("nan")),
        ("string", "a string", 5),
        ("duration", "a duration", 3),
        ("duration", "a duration", "3 years"),
        ("date", "a date", "2026-02-30"),
        ("date", "a date", datetime(2026, 1, 31, tzinfo=UTC)),
        ("datetime", "a datetime", "2026-01-31T09:00:00"),
        ("datetime", "a datetime", datetime(2026, 1, 31, 9)),
        ("enum(basic, premium)", "an enum(basic, premium)", "Premium"),
        ("set[string]", "a set[string]", "a"),
        ("set[int]", "a set[int]", ["x"]),
    ],
)
def test_a_fact_of_the_wrong_type_names_the_fact_what_was_expected_and_given(
    type_text: str, expected: str, given: Any
) -> None:
    policy = compile_text(f"input {{ x: {type_text} }}\noutput {{ o: bool = false resolve any }}\n")
    with pytest.raises(policylang.FactsError) as caught:
        policy.decide({"x": given}, as_of=AS_OF)
    (problem,) = caught.value.problems
    assert problem.fact == "x"
    assert problem.expected == expected
    assert problem.given is given
    assert "`x`" in problem.message


def test_a_required_fact_not_given_is_an_error_naming_it() -> None:
    policy = compile_text(
        "input { tier: enum(basic, premium)  tenure: duration }\noutput { o: bool = false resolve any }\n"
    )
    with pytest.raises(policylang.FactsError) as caught:
        policy.decide({"tier": "basic"}, as_of=AS_OF)
    (problem,) = caught.value.problems
    assert (problem.fact, problem.expected, problem.given) == ("tenure", "a duration", None)
    assert "missing" in problem.message


def test_every_problem_is_reported_at_once() -> None:
    policy = policylang.load(Path(__file__).parents[2] / "examples" / "support" / "support.policy")
    with pytest.raises(policylang.FactsError) as caught:
        policy.decide({"tier": "gold", "tenure": 3, "colour": "red"}, as_of=AS_OF)
    assert {p.fact for p in caught.value.problems} == {"tier", "tenure", "monthly_spend", "colour"}


def test_defaults_fill_in_and_optional_facts_are_missing() -> None:
    policy = compile_text(
        'input { region: string = "eu"  n: int = 0  vip: bool?  tags: set[string] = {} }\n'
        "output { o: bool = false resolve any }\n"
    )
    assert policy.validate_facts({}) == {"region": "eu", "n": 0, "vip": MISSING, "tags": frozenset()}
    assert policy.validate_facts({"region": "us", "vip": True})["region"] == "us"


def test_unknown_facts_are_rejected_by_default() -> None:
    text = "input { tier: enum(basic, premium) }\noutput { o: bool = false resolve any }\nif tier == premium then o\n"
    with pytest.raises(policylang.FactsError) as caught:
        compile_text(text).decide({"tier": "premium", "teir": "basic"}, as_of=AS_OF)
    (problem,) = caught.value.problems
    assert (problem.fact, problem.expected, problem.given) == ("teir", "no such fact", "basic")


def test_unknown_facts_are_ignored_when_asked() -> None:
    text = "input { tier: enum(basic, premium) }\noutput { o: bool = false resolve any }\nif tier == premium then o\n"
    decision = compile_text(text, unknown_facts="ignore").decide({"tier": "premium", "teir": "basic"}, as_of=AS_OF)
    assert decision.outputs == {"o": True}


def test_schemaless_facts_are_read_by_their_inferred_type() -> None:
    policy = compile_text("if tier == premium and tenure > 2y then skip_fraud_check, sla = 4h\n")
    facts = policy.validate_facts({"tier": "premium", "tenure": "3y", "anything": [1, 2]})
    assert facts["tenure"] == Duration(36, 0)
    decision = policy.decide({"tier": "premium", "tenure": "3y"}, as_of=AS_OF)
    assert decision.outputs == {"skip_fraud_check": True, "sla": Duration(0, 4 * 3600)}
    assert decision.fired == ("t#1",)
    assert policy.decide({"tier": "premium", "tenure": "800d"}, as_of=AS_OF).fired == ("t#1",)
    assert policy.decide({"tier": "premium", "tenure": "1y"}, as_of=AS_OF).fired == ()


def test_schemaless_facts_are_all_optional_and_any_fact_is_accepted() -> None:
    policy = compile_text("if tenure > 2y then long_standing\n")
    decision = policy.decide({"unrelated": "x"}, as_of=AS_OF)
    assert decision.outputs == {}
    assert decision.fired == ()
    with pytest.raises(policylang.FactsError) as caught:
        policy.decide({"tenure": "long"}, as_of=AS_OF)
    assert caught.value.problems[0].fact == "tenure"


# --- 2. missing values and three-valued conditions -------------------------------------------------

_TRUTH = {"true": True, "false": False, "unknown": None}
_AND = {  # docs/evaluation.md, the `a and b` table
    ("true", "true"): "true",
    ("true", "false"): "false",
    ("true", "unknown"): "unknown",
    ("false", "true"): "false",
    ("false", "false"): "false",
    ("false", "unknown"): "false",
    ("unknown", "true"): "unknown",
    ("unknown", "false"): "false",
    ("unknown", "unknown"): "unknown",
}
_OR = {  # the dual: true wins
    ("true", "true"): "true",
    ("true", "false"): "true",
    ("true", "unknown"): "true",
    ("false", "true"): "true",
    ("false", "false"): "false",
    ("false", "unknown"): "unknown",
    ("unknown", "true"): "true",
    ("unknown", "false"): "unknown",
    ("unknown", "unknown"): "unknown",
}
_NOT = {"true": "false", "false": "true", "unknown": "unknown"}
_LOGIC_HEAD = (
    "input { a: bool?  b: bool? }\noutput { holds: bool = false resolve any  fails: bool = false resolve any }\n"
)


def _truth_of(condition: str, a: str, b: str = "unknown") -> str:
    """Whether `condition` is true, false or unknown, seen through which rules match."""
    text = _LOGIC_HEAD + f"rule holds: if {condition} then holds\nrule fails: if not ({condition}) then fails\n"
    facts = {name: _TRUTH[v] for name, v in (("a", a), ("b", b)) if _TRUTH[v] is not None}
    decision = decide(text, facts)
    assert not (decision["holds"] and decision["fails"])
    return "true" if decision["holds"] else "false" if decision["fails"] else "unknown"


@pytest.mark.parametrize(("a", "b"), sorted(_AND))
def test_and_follows_kleene(a: str, b: str) -> None:
    assert _truth_of("a and b", a, b) == _AND[(a, b)]


@pytest.mark.parametrize(("a", "b"), sorted(_OR))
def test_or_follows_kleene(a: str, b: str) -> None:
    assert _truth_of("a or b", a, b) == _OR[(a, b)]


@pytest.mark.parametrize("a", sorted(_NOT))
def test_not_unknown_is_unknown(a: str) -> None:
    text = _LOGIC_HEAD + "rule holds: if not a then holds\nrule fails: if a then fails\n"
    facts = {} if _TRUTH[a] is None else {"a": _TRUTH[a]}
    decision = decide(text, facts)
    seen = "true" if decision["holds"] else "false" if decision["fails"] else "unknown"
    assert seen == _NOT[a]


_ZERO_HEAD = "input { flag: bool?  zero: int = 0 }\noutput { hit: bool = false resolve any }\n"


@pytest.mark.parametrize(
    ("condition", "flag", "outcome"),
    [
        ("flag and 1 / zero > 0", False, False),  # false decides an `and`: the rest is not evaluated
        ("flag and 1 / zero > 0", True, "raises"),
        ("flag and 1 / zero > 0", None, "raises"),  # unknown decides nothing
        ("flag or 1 / zero > 0", True, True),  # true decides an `or`
        ("flag or 1 / zero > 0", False, "raises"),
        ("flag or 1 / zero > 0", None, "raises"),
        ("1 / zero > 0 and flag", False, "raises"),  # left to right
        ("1 / zero > 0 or flag", True, "raises"),
    ],
)
def test_and_or_stop_at_the_first_operand_that_decides(condition: str, flag: bool | None, outcome: Any) -> None:
    policy = compile_text(_ZERO_HEAD + f"if {condition} then hit\n")
    facts = {} if flag is None else {"flag": flag}
    if outcome == "raises":
        with pytest.raises(policylang.EvaluationError):
            policy.decide(facts, as_of=AS_OF)
    else:
        assert policy.decide(facts, as_of=AS_OF).outputs == {"hit": outcome}


_MISSING_HEAD = (
    "input { tier: enum(basic, premium)  vip: bool?  spend: number?  tags: set[string]?  tenure: duration? }\n"
    "output { hit: bool = false resolve any  miss: bool = false resolve any }\n"
)


@pytest.mark.parametrize(
    "condition",
    [
        "spend > 100",
        "spend == spend",
        "spend != 1",
        "tenure <= 2y",
        "spend in {1, 2}",
        "spend not in {1, 2}",
        "tags contains lounge",
        "spend between 1 and 10",
        "tenure between 1d and 2y",
        "spend * 12 > 0",
        "-spend < 0",
        "tier in {basic, premium} and vip == true",
        "vip",
    ],
)
def test_a_condition_reading_a_missing_fact_is_unknown(condition: str) -> None:
    text = _MISSING_HEAD + f"rule hit: if {condition} then hit\nrule miss: if not ({condition}) then miss\n"
    decision = decide(text, {"tier": "basic"})
    assert decision.outputs == {"hit": False, "miss": False}
    assert decision.fired == ()


@pytest.mark.parametrize(
    ("condition", "expected"),
    [("vip is missing", True), ("vip is present", False), ("not (vip is missing)", False), ("spend is missing", True)],
)
def test_is_missing_and_is_present_are_never_unknown(condition: str, expected: bool) -> None:
    decision = decide(_MISSING_HEAD + f"if {condition} then hit\nif not ({condition}) then miss\n", {"tier": "basic"})
    assert decision.outputs == {"hit": expected, "miss": not expected}


def test_not_vip_true_does_not_match_when_vip_is_missing() -> None:
    decision = decide(_MISSING_HEAD + "if not (vip == true) then hit\n", {"tier": "basic"})
    assert decision["hit"] is False
    assert decision.fired == ()


def test_a_segment_can_be_unknown() -> None:
    text = _MISSING_HEAD + "segment big = spend > 100\nif big then hit\nif not big then miss\n"
    assert decide(text, {"tier": "basic"}).outputs == {"hit": False, "miss": False}
    assert decide(text, {"tier": "basic", "spend": 5}).outputs == {"hit": False, "miss": True}


def test_lets_and_set_literals_with_a_missing_operand_are_missing() -> None:
    text = _MISSING_HEAD + (
        "output { note: string }\n"
        "let yearly = spend * 12\n"
        "let both = {tier, tier}\n"
        "if yearly is missing then hit\n"
        "if {spend, 1} is missing then miss\n"
        'if yearly is present then note = "present"\n'
    )
    decision = decide(text, {"tier": "basic"})
    assert decision.outputs == {"hit": True, "miss": True}


def test_an_output_with_no_value_is_missing() -> None:
    text = (
        "input { tier: enum(basic, key) }\n"
        "output { manager: string  note: string }\n"
        'rule assign: if tier == key then manager = "Dana"\n'
        'rule nobody: if manager is missing then note = "no manager"\n'
        'rule named: if manager == "Dana" then note = manager\n'
    )
    assert decide(text, {"tier": "basic"}).outputs == {"note": "no manager"}
    assert decide(text, {"tier": "key"}).outputs == {"manager": "Dana", "note": "Dana"}


# --- 3. order --------------------------------------------------------------------------------------


def test_a_rule_reading_an_output_runs_after_it_is_resolved_and_fired_is_in_rule_order() -> None:
    text = (
        "input { tier: enum(basic, premium) }\n"
        "output { queue: enum(general, priority) = general resolve priority  sla: duration = 72h resolve min }\n"
        "if queue == priority then sla = 8h\n"
        "rule premium_queue priority 10: if tier == premium then queue = priority\n"
    )
    decision = decide(text, {"tier": "premium"})
    assert decision.outputs == {"queue": "priority", "sla": Duration(0, 8 * 3600)}
    # docs/evaluation.md section 3: "`fired` lists the matched rules in that order" (rule order).
    assert decision.fired == ("t#1", "premium_queue")


def test_first_and_conflicts_follow_rule_order_even_when_a_rule_waits_for_an_output() -> None:
    """`first` is "the first proposal in rule order" (section 5), whatever order the graph evaluates in."""
    text = (
        "input { a: int }\n"
        "output { level: int  source: string resolve first  note: string }\n"
        'rule reads_level: if level == 1 then source = "reads_level", note = "reads_level"\n'
        'rule sets_level: if a > 0 then level = 1, source = "sets_level", note = "sets_level"\n'
    )
    decision = decide(text, {"a": 1}, on_conflict="mark")
    assert decision["source"] == "reads_level"
    assert decision.conflicts == {"note": (("reads_level", "reads_level"), ("sets_level", "sets_level"))}


def test_imported_rules_come_first(tmp_path: Path) -> None:
    (tmp_path / "lib.policy").write_text(
        "input { x: int }\noutput { first_seen: string resolve first  seen: set[string] = {} resolve union }\n"
        'rule imported: if x > 0 then first_seen = "lib", seen += {lib}\n'
        "if x > 0 then seen += {lib_anonymous}\n",
        encoding="utf-8",
    )
    main = tmp_path / "main.policy"
    main.write_text(
        'import "lib.policy"\n\nrule own: if x > 0 then first_seen = "main", seen += {main}\n', encoding="utf-8"
    )
    decision = policylang.load(main).decide({"x": 1}, as_of=AS_OF)
    assert decision.fired == ("lib.imported", "lib#1", "own")
    assert decision.outputs == {"first_seen": "lib", "seen": frozenset({"lib", "lib_anonymous", "main"})}


def test_segments_and_lets_may_be_defined_after_their_use() -> None:
    text = (
        "input { spend: number }\noutput { hit: bool = false resolve any }\n"
        "if whale then hit\nsegment whale = yearly > 100_000\nlet yearly = spend * 12\n"
    )
    assert decide(text, {"spend": 10_000}).outputs == {"hit": True}
    assert decide(text, {"spend": 10}).outputs == {"hit": False}


def test_lets_are_evaluated_even_when_no_rule_reads_them() -> None:
    text = (
        "input { zero: int = 0 }\noutput { hit: bool = false resolve any }\nlet broken = 1 / zero\nif true then hit\n"
    )
    with pytest.raises(policylang.EvaluationError):
        decide(text)


# --- 4. actions ------------------------------------------------------------------------------------

_ACTIONS_HEAD = (
    "input { tier: enum(basic, premium)  spend: number?  tags: set[string] = {} }\n"
    "output {\n"
    "    fast: bool = false resolve any\n"
    "    slow: bool = true resolve all\n"
    "    label: string\n"
    "    perks: set[string] = {welcome} resolve union\n"
    "    extras: set[string] resolve union\n"
    "    discount: number = 0 resolve max\n"
    "}\n"
)


def test_flags_set_true_and_not_flag_sets_false() -> None:
    decision = decide(_ACTIONS_HEAD + "if tier == premium then fast, not slow\n", {"tier": "premium"})
    assert (decision["fast"], decision["slow"]) == (True, False)


def test_assignment_proposes_the_expressions_value() -> None:
    decision = decide(
        _ACTIONS_HEAD + "if tier == premium then label = premium, discount = spend * 0.05\n",
        {"tier": "premium", "spend": 200},
    )
    assert decision["label"] == "premium"
    assert decision["discount"] == Decimal("10")


def test_add_proposes_the_default_together_with_the_elements() -> None:
    decision = decide(
        _ACTIONS_HEAD + "if tier == premium then perks += {lounge}, extras += {lounge}\n", {"tier": "premium"}
    )
    assert decision["perks"] == frozenset({"welcome", "lounge"})
    assert decision["extras"] == frozenset({"lounge"})


def test_add_with_default_under_unique_resolution() -> None:
    text = (
        "input { tier: enum(basic, premium) }\noutput { perks: set[string] = {welcome} }\n"
        "if tier == premium then perks += {lounge}\nif tier != basic then perks += {lounge}\n"
    )
    assert decide(text, {"tier": "premium"})["perks"] == frozenset({"welcome", "lounge"})


def test_an_action_whose_value_is_missing_proposes_nothing_but_its_rule_fires() -> None:
    text = _ACTIONS_HEAD + "rule r: if tier == premium then discount = spend, perks += {lounge}, extras += {label}\n"
    decision = decide(text, {"tier": "premium"})
    assert decision["discount"] == 0  # `spend` is missing: the default stays
    assert decision["perks"] == frozenset({"welcome", "lounge"})
    assert "extras" not in decision.outputs  # `{label}` reads an output with no value
    assert decision.fired == ("r",)


# --- 5. resolution ---------------------------------------------------------------------------------


def _resolution_policy(resolve: str, output_type: str, values: tuple[str, ...], default: str | None = None) -> str:
    """One output with `resolve`, set by one rule per value (all of which match)."""
    declared = f"o: {output_type}" + (f" = {default}" if default is not None else "") + f" resolve {resolve}"
    rules = "".join(f"rule r{i}: if go then o = {value}\n" for i, value in enumerate(values))
    return f"input {{ go: bool }}\noutput {{ {declared} }}\n{rules}"


@pytest.mark.parametrize(
    ("resolve", "output_type", "values", "expected"),
    [
        ("unique", "int", ("3", "3"), 3),
        ("unique", "duration", ("1y", "12mo"), Duration(12, 0)),
        ("unique", "number", ("1", "1.0"), Decimal(1)),
        ("first", "string", ('"a"', '"b"', '"a"'), "a"),
        ("min", "int", ("3", "-1", "2"), -1),
        ("max", "number", ("3", "2.5", "3.5"), Decimal("3.5")),
        ("min", "duration", ("1mo", "30d", "31d"), Duration(0, 30 * DAY)),
        ("max", "duration", ("1y", "365d"), Duration(12, 0)),
        ("min", "enum(low, medium, high)", ("high", "medium"), "medium"),
        ("max", "enum(low, medium, high)", ("low", "medium"), "medium"),
        ("max", "enum(zeta, alpha)", ("zeta", "alpha"), "alpha"),
        ("min", "date", ("2026-03-01", "2026-02-01"), date(2026, 2, 1)),
        (
            "max",
            "datetime",
            ("2026-01-31T10:00:00+01:00", "2026-01-31T08:30:00Z"),
            datetime(2026, 1, 31, 9, tzinfo=UTC),
        ),
        ("any", "bool", ("false", "true"), True),
        ("any", "bool", ("false", "false"), False),
        ("all", "bool", ("true", "false"), False),
        ("all", "bool", ("true", "true"), True),
        ("union", "set[string]", ("{a}", "{b, c}"), frozenset({"a", "b", "c"})),
    ],
)
def test_each_resolution(resolve: str, output_type: str, values: tuple[str, ...], expected: Any) -> None:
    decision = decide(_resolution_policy(resolve, output_type, values), {"go": True})
    assert decision["o"] == expected
    assert type(decision["o"]) is type(expected) or isinstance(expected, Decimal | int)
    assert decision.fired == tuple(f"r{i}" for i in range(len(values)))


@pytest.mark.parametrize("resolve", ["unique", "first", "priority", "min", "max"])
def test_no_proposal_gives_the_default_or_leaves_the_output_absent(resolve: str) -> None:
    with_default = decide(_resolution_policy(resolve, "int", ("1", "1"), default="7"), {"go": False})
    assert with_default.outputs == {"o": 7}
    without = decide(_resolution_policy(resolve, "int", ("1", "1")), {"go": False})
    assert without.outputs == {}


def test_unique_with_different_values_is_a_conflict_naming_output_rules_and_values() -> None:
    policy = compile_text(_resolution_policy("unique", "string", ('"alpha"', '"beta"')))
    with pytest.raises(policylang.ConflictError) as caught:
        policy.decide({"go": True}, as_of=AS_OF)
    assert caught.value.output == "o"
    message = str(caught.value)
    for part in ("`o`", "r0", "r1", "alpha", "beta"):
        assert part in message
    marked = policy.decide({"go": True}, as_of=AS_OF, on_conflict="mark")
    assert marked.outputs == {}
    assert marked.conflicts == {"o": (("r0", "alpha"), ("r1", "beta"))}
    assert marked.to_dict()["conflicts"] == {"o": [{"rule": "r0", "value": "alpha"}, {"rule": "r1", "value": "beta"}]}


_PRIORITY = (
    "input { go: bool }\n"
    "output { queue: enum(general, priority, urgent) = general resolve priority }\n"
    "rule low priority -1: if go then queue = urgent\n"
    "rule plain: if go then queue = priority\n"
)


def test_priority_picks_the_highest_and_rules_without_priority_have_zero() -> None:
    decision = decide(_PRIORITY, {"go": True})
    assert decision["queue"] == "priority"
    resolved = decision.resolutions["queue"]
    assert resolved.winners == ("plain",)
    assert resolved.overridden == ("low",)


def test_priority_ties_agree_or_conflict() -> None:
    agreeing = _PRIORITY + "rule tie priority 0: if go then queue = priority\n"
    assert decide(agreeing, {"go": True})["queue"] == "priority"
    disagreeing = _PRIORITY + "rule tie priority 0: if go then queue = urgent\n"
    with pytest.raises(policylang.ConflictError):
        decide(disagreeing, {"go": True})
    marked = decide(disagreeing, {"go": True}, on_conflict="mark")
    assert marked.conflicts == {"queue": (("plain", "priority"), ("tie", "urgent"))}
    assert "queue" not in marked.outputs


def test_a_rule_reading_a_conflicted_output_sees_it_missing_when_marked() -> None:
    text = (
        "input { a: int }\n"
        "output { x: int  seen_missing: bool = false resolve any }\n"
        "if a > 0 then x = 1\nif a > 1 then x = 2\nif x is missing then seen_missing\n"
    )
    marked = decide(text, {"a": 2}, on_conflict="mark")
    assert marked.outputs == {"seen_missing": True}
    assert set(marked.conflicts) == {"x"}


def test_a_conflicted_output_with_a_default_is_missing_to_its_readers_when_marked() -> None:
    text = (
        "input { a: int }\n"
        "output { x: int = 0  big: bool = false resolve any  unknown: bool = false resolve any }\n"
        "if a > 0 then x = 1\nif a > 1 then x = 2\n"
        "if x >= 1 then big\nif not (x >= 1) then unknown\n"
    )
    marked = decide(text, {"a": 2}, on_conflict="mark")
    assert marked.outputs == {"big": False, "unknown": False}
    assert set(marked.conflicts) == {"x"}


# --- 6. values and arithmetic ----------------------------------------------------------------------

_VALUES_HEAD = (
    "input { n: number = 0  i: int = 0  d: date = 2026-01-31  t: datetime = 2026-01-31T09:00:00Z  l: duration = 0s }\n"
)


def _value(expression: str, output_type: str, facts: dict[str, Any] | None = None) -> Any:
    text = _VALUES_HEAD + f"output {{ o: {output_type} }}\nif true then o = {expression}\n"
    return decide(text, facts).outputs.get("o", MISSING)


@pytest.mark.parametrize(
    ("expression", "output_type", "expected"),
    [
        ("7 / 2", "number", Decimal("3.5")),
        ("0.1 + 0.2", "number", Decimal("0.3")),
        ("i * 3 - 1", "int", -1),
        ("n * 12", "number", Decimal(0)),  # n's default, 0
        ("1y - 12mo", "duration", Duration(0, 0)),
        ("1y / 12mo", "number", Decimal(1)),
        ("1d * 0.5", "duration", Duration(0, DAY // 2)),
        ("0.3 * 1s", "duration", Duration(0, 0)),
        ("1d / 7", "duration", Duration(0, 12_342)),
        ("1mo / 2", "duration", Duration(0, 1_314_873)),
        ("-2d", "duration", Duration(0, -2 * DAY)),
        ("2026-01-31 + 1mo", "date", date(2026, 2, 28)),
        ("2024-02-29 + 1y", "date", date(2025, 2, 28)),
        ("2026-01-01 + 36h", "date", date(2026, 1, 2)),
        ("1mo + 2026-01-31", "date", date(2026, 2, 28)),
        ("2026-03-31 - 1mo", "date", date(2026, 2, 28)),
        ("2026-01-31T09:00:00Z + 1mo1h", "datetime", datetime(2026, 2, 28, 10, tzinfo=UTC)),
        ("2026-01-31T09:00:00Z - 90s", "datetime", datetime(2026, 1, 31, 8, 58, 30, tzinfo=UTC)),
        ("2026-03-01 - 2026-01-31", "duration", Duration(0, 29 * DAY)),
        ("2026-01-31T09:00:00Z - 2026-01-30T10:00:00+01:00", "duration", Duration(0, 24 * 3600)),
        ("2026-01-31T09:00:00Z - 2026-01-31", "duration", Duration(0, 9 * 3600)),
        ("now", "datetime", datetime(2026, 1, 31, 9, tzinfo=UTC)),
        ("now - d", "duration", Duration(0, 9 * 3600)),
    ],
)
def test_arithmetic(expression: str, output_type: str, expected: Any) -> None:
    value = _value(expression, output_type)
    assert value == expected
    if isinstance(expected, Duration):
        assert value.total_seconds == expected.total_seconds
    if output_type == "number" and "n" not in expression:
        assert isinstance(value, Decimal)


def test_part_of_a_day_is_dropped_when_subtracting_from_a_date() -> None:
    """docs/language.md: "part of a day added to a `date` is dropped"; 36h back is one whole day back."""
    assert _value("2026-01-31 - 36h", "date") == date(2026, 1, 30)
    assert _value("2026-01-31 + -36h", "date") == date(2026, 1, 30)


@pytest.mark.parametrize("expression", ["1 / i", "n / 0", "1.5 / (i * 2)", "1d / i", "1d / 0.0", "1y / 0s"])
def test_division_by_zero_raises(expression: str) -> None:
    output_type = "number" if expression in ("1 / i", "n / 0", "1.5 / (i * 2)", "1y / 0s") else "duration"
    with pytest.raises(policylang.EvaluationError):
        _value(expression, output_type)


@pytest.mark.parametrize(
    ("expression", "facts"),
    [
        ("d + n * 1y > 2020-01-01", {"n": 10_000}),
        ("d - n * 1y > 2020-01-01", {"n": 10_000}),
        ("d + n * 1d > 2020-01-01", {"n": "1e10"}),
        ("t + n * 1mo > now", {"n": 200_000}),
    ],
)
def test_a_date_out_of_range_is_an_evaluation_error(expression: str, facts: dict[str, Any]) -> None:
    """Facts must never cause a traceback (STYLE.md); a decision that cannot be made is an EvaluationError."""
    text = _VALUES_HEAD + f"output {{ o: bool = false resolve any }}\nif {expression} then o\n"
    with pytest.raises(policylang.EvaluationError):
        decide(text, facts)


@pytest.mark.parametrize(
    "expression",
    [
        "n / i > 0 and vip",  # the missing operand of `and` does not skip its other operand
        "(n / i) > missing_number",  # a comparison evaluates both sides
        "missing_number + n / i > 0",
        "missing_number between 0 and n / i",
    ],
)
def test_division_by_zero_raises_even_beside_a_missing_operand(expression: str) -> None:
    """docs/evaluation.md: only `and`/`or` stop early; division by zero raises EvaluationError."""
    text = (
        "input { n: number = 1  i: int = 0  vip: bool?  missing_number: number? }\n"
        f"output {{ o: bool = false resolve any }}\nif {expression} then o\n"
    )
    with pytest.raises(policylang.EvaluationError):
        decide(text)


@pytest.mark.parametrize(
    "condition", ["(n / i) is present", "(n / i) is missing", "vip is missing and (n / i) is missing"]
)
def test_division_by_zero_raises_inside_a_presence_test(condition: str) -> None:
    """`x is missing` is never unknown, but its operand is still evaluated: `n / 0` raises."""
    head = "input { n: number = 1  i: int = 0  vip: bool? }\noutput { o: bool = false resolve any }\n"
    text = head + f"if {condition} then o\n"
    with pytest.raises(policylang.EvaluationError):
        decide(text)


@pytest.mark.parametrize(
    "condition",
    [
        "1y == 12mo",
        "1y > 365d",
        "1y < 366d",
        "1mo > 30d",
        "1mo == 2629746s",
        "1y == 31556952s",
        "2w == 14d",
        "90s == 1m30s",
        "0.1 + 0.2 == 0.3",
        "n == 19.99",
        "7 / 2 == 3.5",
        "2026-01-31 == 2026-01-31T00:00:00Z",
        "2026-01-31 < 2026-01-31T00:00:01Z",
        "2026-01-31T10:00:00+01:00 == 2026-01-31T09:00:00Z",
        "tier < premium",
        "tier between basic and standard",
        "order < alpha",
        "now == 2026-01-31T09:00:00Z",
        "d < now",
    ],
)
def test_comparisons_that_hold(condition: str) -> None:
    text = (
        "input { n: number  tier: enum(basic, standard, premium)  order: enum(zeta, alpha)  d: date }\n"
        "output { o: bool = false resolve any }\n"
        f"if {condition} then o\n"
    )
    facts = {"n": 19.99, "tier": "standard", "order": "zeta", "d": "2026-01-31"}
    assert decide(text, facts).outputs == {"o": True}


def test_now_is_the_as_of_and_is_recorded() -> None:
    text = "input { since: datetime }\noutput { elapsed: duration }\nif true then elapsed = now - since\n"
    policy = compile_text(text)
    decision = policy.decide({"since": "2026-01-31T08:00:00Z"}, as_of="2026-01-31T10:00:00+01:00")
    assert decision["elapsed"] == Duration(0, 3600)
    assert decision.as_of == datetime(2026, 1, 31, 9, tzinfo=UTC)
    assert decision.to_dict()["as_of"] == "2026-01-31T09:00:00Z"
    given = datetime(2026, 2, 1, tzinfo=UTC)
    assert policy.decide({"since": "2026-01-31T00:00:00Z"}, as_of=given).as_of == given


def test_without_as_of_the_clock_is_read_and_recorded() -> None:
    policy = compile_text(
        "input { since: datetime }\noutput { elapsed: duration }\nif true then elapsed = now - since\n"
    )
    before = datetime.now(UTC)
    decision = policy.decide({"since": "2020-01-01T00:00:00Z"})
    after = datetime.now(UTC)
    assert before - timedelta(seconds=1) <= decision.as_of <= after
    expected = decision.as_of.replace(microsecond=0) - datetime(2020, 1, 1, tzinfo=UTC)
    assert decision["elapsed"].total_seconds == int(expected.total_seconds())


# --- 7. the decision -------------------------------------------------------------------------------


def test_the_decision_record_and_its_json_shape() -> None:
    text = (
        'policy demo "Demo"\n'
        "input { spend: number }\n"
        "output { sla: duration = 72h resolve min  perks: set[string] = {} resolve union  share: number\n"
        "         renewal: date  seen: datetime  top: enum(low, high) = low resolve max }\n"
        "rule r: if spend > 0 then sla = 4h, perks += {zeta, alpha}, share = spend / 4,"
        " renewal = 2026-01-31 + 1mo, seen = now, top = high\n"
    )
    decision = decide(text, {"spend": "10.5"})
    assert decision.policy_name == "demo"
    assert len(decision.policy_hash) == 64
    assert int(decision.policy_hash, 16) >= 0
    data = decision.to_dict()
    assert data["outputs"] == {
        "sla": "4h",
        "perks": ["alpha", "zeta"],
        "share": 2.625,
        "renewal": "2026-02-28",
        "seen": "2026-01-31T09:00:00Z",
        "top": "high",
    }
    assert data["fired"] == ["r"]
    assert data["policy"] == {"name": "demo", "hash": decision.policy_hash}
    assert data["as_of"] == "2026-01-31T09:00:00Z"
    assert json.loads(decision.to_json()) == data
    assert decision.resolutions["sla"].status == "value"
    assert decision.resolutions["sla"].winners == ("r",)


def test_the_policy_hash_covers_imported_files(tmp_path: Path) -> None:
    lib = tmp_path / "lib.policy"
    main = tmp_path / "main.policy"
    lib.write_text("input { x: int }\nsegment big = x > 10\n", encoding="utf-8")
    main.write_text(
        'import "lib.policy"\noutput { o: bool = false resolve any }\nif lib.big then o\n', encoding="utf-8"
    )
    first = policylang.load(main).decide({"x": 1}, as_of=AS_OF).policy_hash
    assert policylang.load(main).decide({"x": 1}, as_of=AS_OF).policy_hash == first
    lib.write_text("input { x: int }\nsegment big = x > 20\n", encoding="utf-8")
    assert policylang.load(main).decide({"x": 1}, as_of=AS_OF).policy_hash != first


# --- thread safety ---------------------------------------------------------------------------------


def test_one_policy_serves_eight_threads() -> None:
    policy = policylang.load(Path(__file__).parents[2] / "examples" / "support" / "support.policy")
    batch = [
        {"tier": tier, "tenure": tenure, "monthly_spend": spend, "past_complaints": complaints}
        for tier in ("basic", "standard", "premium", "key")
        for tenure in ("30d", "3y")
        for spend in (0, 500, 12_000)
        for complaints in (0, 4)
    ]
    expected = [policy.decide(facts, as_of=AS_OF).to_dict() for facts in batch]
    results: dict[int, list[dict[str, Any]]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(index: int) -> None:
        try:
            start.wait()
            mine = []
            for _ in range(20):
                mine = [policy.decide(facts, as_of=AS_OF).to_dict() for facts in batch]
                if mine != expected:
                    break
            results[index] = mine
        except BaseException as exc:  # reported below, on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(results[i] == expected for i in range(8))


# --- code-injection safety -------------------------------------------------------------------------

_PAYLOAD = '"); import os; os.system("echo pwned'
_INJECTED = r"""policy injected "\"); import os; os.system(\"echo pwned"

input {
    tier: enum(None, True, __import__, os, facts, MISSING)
    region: string
    fired: int = 0
    _bool3: bool?
    strict: string = "\\"
}

output {
    result: string
    __class__: set[string] = {} resolve union
    level: enum(None, True, __import__) = None resolve max
}

rule __import__ priority 1:
    if tier == __import__ and region == "\"); import os; os.system(\"echo pwned"
    then result = "__import__('os').system('echo pwned')", level = True
    because "'''\n\"\"\"\\ \"); import os; os.system(\"echo pwned"

rule exec:
    if region == "a\\b\n'c" or fired > 0 or _bool3 or strict == "x\"y"
    then __class__ += {"\"); import os; os.system(\"echo pwned", eval, __builtins__, "\n# comment", strict},
         level = __import__

if tier == MISSING then result = facts
"""


def _code_outside_string_literals(source: str) -> str:
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            kept.append(token.string)
    return " ".join(kept)


def test_policy_text_never_becomes_code(capfd: pytest.CaptureFixture[str]) -> None:
    policy = compile_text(_INJECTED)
    code = _code_outside_string_literals(policy.decision_graph.source)
    for fragment in ("os.system", "system", "pwned", "__import__", "__builtins__", "__class__", "eval", "exec"):
        assert fragment not in code, fragment
    first = policy.decide({"tier": "__import__", "region": _PAYLOAD}, as_of=AS_OF)
    assert first.outputs == {
        "result": "__import__('os').system('echo pwned')",
        "__class__": frozenset(),
        "level": "True",
    }
    assert first.fired == ("__import__",)
    second = policy.decide({"tier": "MISSING", "region": "a\\b\n'c", "_bool3": False}, as_of=AS_OF)
    assert second.outputs == {
        "result": "facts",
        "__class__": frozenset({_PAYLOAD, "eval", "__builtins__", "\n# comment", "\\"}),
        "level": "__import__",
    }
    assert second.fired == ("exec", "t#1")
    assert policy.description == _PAYLOAD
    assert policy.checked.rules[0].because == "'''\n\"\"\"\\ " + _PAYLOAD
    assert "pwned" not in capfd.readouterr().out


def test_compiling_a_policy_emits_no_warnings() -> None:
    """Presence tests on literals (`"x" is missing`) must not turn into `'x' is MISSING` (a SyntaxWarning,
    and a SyntaxError under `python -W error`)."""
    text = (
        "input { a: int }\noutput { o: bool = false resolve any }\n"
        'if "x" is missing or 2 is present or {1} is missing or a > 1 then o\n'
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        policy = compile_text(text)
    assert policy.decide({"a": 0}, as_of=AS_OF).outputs == {"o": True}
