"""Issue 16, item 5: rounding, conditional values, date parts, times of day and time zones, end to end.

Each test asserts what docs/language.md ("Conditional values", "Functions", "Times of day") says,
through the public API, the `policy test` runner and the analysis.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from support.reference import reference_run

import policylang
from policylang.api import with_analysis
from policylang.core.diagnostics import Code
from policylang.engine.facts import FactsError
from policylang.policy_tests import run_tests

AS_OF = "2026-01-31T09:00:00Z"

ROUNDING = """input {
    x: number
}
output {
    whole: int
    cents: number
    tens: number
    down: int
    up: int
}
if x == x then whole = round(x), cents = round(x, 2), tens = round(x, -1), down = floor(x), up = ceil(x)
"""


@pytest.mark.parametrize(
    ("x", "whole", "cents", "tens", "down", "up"),
    [
        ("2.5", 3, "2.5", "0", 2, 3),
        ("-2.5", -3, "-2.5", "0", -3, -2),
        ("0.125", 0, "0.13", "0", 0, 1),
        ("-0.125", 0, "-0.13", "0", -1, 0),
        ("1234.5678", 1235, "1234.57", "1230", 1234, 1235),
        ("15", 15, "15", "20", 15, 15),
        ("-15", -15, "-15", "-20", -15, -15),
        ("2.345", 2, "2.35", "0", 2, 3),
    ],
)
def test_round_takes_halves_away_from_zero_and_floor_and_ceil_go_down_and_up(
    x: str, whole: int, cents: str, tens: str, down: int, up: int
) -> None:
    outputs = policylang.compile(ROUNDING).decide({"x": x}).outputs
    assert outputs["whole"] == whole and type(outputs["whole"]) is int
    assert outputs["cents"] == Decimal(cents)
    assert outputs["tens"] == Decimal(tens)
    assert (outputs["down"], outputs["up"]) == (down, up)
    reference = reference_run(ROUNDING, "r.policy", {"x": x}, AS_OF, "mark")
    assert {k: Decimal(v) for k, v in reference.outputs.items()} == {k: Decimal(v) for k, v in outputs.items()}


CHOICE = """input {
    vip: bool?
    orders: int
    total: number
}
output {
    fee: number
    share: number
    label: enum(small, big)
}
rule fee: if orders >= 0 then fee = if vip then 0 else 5
rule share: if orders >= 0 then share = if orders > 0 then total / orders else 0
rule label: if orders >= 0 then label = if total > 100 then big else small
"""


def test_a_conditional_value_is_missing_where_its_condition_is_unknown() -> None:
    policy = policylang.compile(CHOICE)
    assert policy.decide({"vip": True, "orders": 1, "total": 10}).outputs["fee"] == 0
    assert policy.decide({"vip": False, "orders": 1, "total": 10}).outputs["fee"] == 5
    unknown = policy.decide({"orders": 1, "total": 10})
    assert "fee" not in unknown.outputs  # not the else value: "not known to be a VIP" is no answer
    assert "fee" in unknown.fired  # the rule still applied; its value was missing


def test_only_the_value_a_conditional_picks_is_computed() -> None:
    decision = policylang.compile(CHOICE).decide({"vip": False, "orders": 0, "total": 10})
    assert decision.outputs["share"] == 0  # `total / orders` was never divided by zero
    assert decision.outputs["label"] == "small"


def test_a_conditional_in_a_comparison_needs_parentheses_and_formats_with_them() -> None:
    text = "input {\n    vip: bool\n    waited: duration\n}\nif waited > (if vip then 4h else 1d) then escalate\n"
    formatted = policylang.format_source(text)
    assert formatted.text is not None and "(if vip then 4h else 1d)" in formatted.text
    bare = policylang.check_source(text.replace("(if vip then 4h else 1d)", "if vip then 4h else 1d"))
    assert [d.code for d in bare.diagnostics if d.is_error] == [Code.SYNTAX_ERROR]


def test_the_analysis_never_decides_across_a_conditional_value() -> None:
    text = (
        "input {\n    vip: bool\n    total: int\n}\noutput {\n    fee: int\n}\n"
        "rule a: if (if vip then total else 0) > 5 then fee = 1\n"
        "rule b: if (if vip then total else 0) > 5 and total < 3 then fee = 2\n"
    )
    report = with_analysis(policylang.check_source(text, "c.policy"))
    codes = {d.code for d in report.diagnostics}
    assert Code.ANALYSIS_INCOMPLETE in codes
    assert Code.UNREACHABLE_RULE not in codes  # b never matches (total > 5 and total < 3), but it is not claimed
    notes = " ".join(n for d in report.diagnostics for n in d.notes)
    assert "`if then else`" in notes


PARTS = """input {
    at: datetime
    zone: string = "Europe/London"
}
output {
    local_hour: int
    utc_hour: int
    day_name: enum(monday, tuesday, wednesday, thursday, friday, saturday, sunday)
    weekend: bool = false
    clock: time
    later: datetime
}
rule parts: if at == at then local_hour = hour(local(at, zone)), utc_hour = hour(at), clock = time_of_day(local(at, zone))
rule day: if at == at then day_name = weekday(local(at, zone)), later = local(at, zone) + 24h
rule weekend: if weekday(local(at, zone)) in {saturday, sunday} then weekend
"""


def test_local_reads_a_moment_on_a_zones_clock_with_summer_time() -> None:
    policy = policylang.compile(PARTS)
    summer = policy.decide({"at": "2026-07-04T23:30:00Z"}).outputs
    assert (summer["local_hour"], summer["utc_hour"]) == (0, 23)  # 00:30 on Sunday in London (BST)
    assert summer["day_name"] == "sunday" and summer["weekend"] is True
    assert summer["clock"] == time(0, 30)
    winter = policy.decide({"at": "2026-01-03T23:30:00Z"}).outputs
    assert winter["local_hour"] == 23 and winter["day_name"] == "saturday"
    india = policy.decide({"at": "2026-01-05T20:00:00Z", "zone": "Asia/Kolkata"}).outputs
    assert india["clock"] == time(1, 30) and india["day_name"] == "tuesday"


def test_a_duration_added_to_a_local_moment_is_real_time_across_summer_time() -> None:
    # 2026-03-29 01:00 UTC: London's clocks go from 01:00 GMT to 02:00 BST.
    outputs = policylang.compile(PARTS).decide({"at": "2026-03-28T12:00:00Z"}).outputs
    assert outputs["later"] == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # the same moment as 24h of real time
    assert outputs["later"].hour == 13  # which is 13:00 on the new clock, not 12:00


def test_a_zone_that_does_not_exist_is_a_check_error_when_written_and_an_evaluation_error_when_given() -> None:
    written = policylang.check_source(PARTS.replace("zone)), utc_hour", '"Europe/Lodnon")), utc_hour'))
    [problem] = [d for d in written.diagnostics if d.is_error]
    assert problem.code == Code.UNKNOWN_NAME and problem.hint == "did you mean `Europe/London`?"
    with pytest.raises(policylang.EvaluationError, match="Mars/Base"):
        policylang.compile(PARTS).decide({"at": "2026-07-04T23:30:00Z", "zone": "Mars/Base"})
    for hostile in ("../../etc/passwd", "/etc/localtime", "", "Europe/London\x00"):
        with pytest.raises(policylang.EvaluationError):
            policylang.compile(PARTS).decide({"at": "2026-07-04T23:30:00Z", "zone": hostile})


HOURS = """input {
    at: time
}
output {
    open: bool = false
    night: bool = false
    shift: enum(day, night)
}
rule open: if at between 09:00 and 17:30 then open
rule night: if at between 22:00 and 06:00 then night
rule day_shift: if at between 06:00 and 21:59:59 then shift = day
rule night_shift: if at between 22:00 and 05:59:59 then shift = night
"""


@pytest.mark.parametrize(
    ("at", "open_", "night", "shift"),
    [
        ("09:00", True, False, "day"),
        ("17:30", True, False, "day"),
        ("17:30:01", False, False, "day"),
        ("22:00", False, True, "night"),
        ("23:59:59", False, True, "night"),
        ("00:00", False, True, "night"),
        ("06:00", False, True, "day"),
        ("05:59:59", False, True, "night"),
    ],
)
def test_between_on_times_of_day_includes_both_ends_and_crosses_midnight(
    at: str, open_: bool, night: bool, shift: str
) -> None:
    outputs = policylang.compile(HOURS).decide({"at": at}).outputs
    assert (outputs["open"], outputs["night"], outputs["shift"]) == (open_, night, shift)


def test_the_analysis_is_exact_for_times_of_day_across_midnight() -> None:
    report = with_analysis(policylang.check_source(HOURS, "hours.policy"))
    assert not [d for d in report.diagnostics if d.code in (Code.CONFLICT, Code.ANALYSIS_INCOMPLETE)]
    overlapping = HOURS.replace("between 22:00 and 05:59:59", "between 21:00 and 06:00")
    report = with_analysis(policylang.check_source(overlapping, "hours.policy"))
    [conflict] = [d for d in report.diagnostics if d.code == Code.CONFLICT]
    assert conflict.witness is not None and conflict.witness["at"] in ("21:00", "21:59:59", "06:00", "21:30")
    never = HOURS + "rule never: if at between 23:00 and 01:00 and at between 02:00 and 03:00 then open\n"
    report = with_analysis(policylang.check_source(never, "hours.policy"))
    assert [d.rules for d in report.diagnostics if d.code == Code.UNREACHABLE_RULE] == [("never",)]


@pytest.mark.parametrize(
    ("given", "hint"),
    [("25:00", "HH:MM"), (540, "in YAML, in quotes"), ("9:00", "HH:MM"), ("09:00:00.5", "HH:MM")],
)
def test_a_time_of_day_fact_that_is_not_one_is_a_facts_error_that_says_how(given: object, hint: str) -> None:
    with pytest.raises(FactsError) as caught:
        policylang.compile(HOURS).decide({"at": given})
    [problem] = caught.value.problems
    assert problem.fact == "at" and hint in (problem.hint or "")


def test_policy_test_cases_give_and_expect_times_numbers_and_weekdays(tmp_path: Path) -> None:
    policy = (
        "input {\n    at: datetime\n    desk: time\n    price: number\n}\n"
        "output {\n    clock: time\n    total: number\n    day_name: enum(monday, tuesday, wednesday, thursday,"
        " friday, saturday, sunday)\n    night: bool = false\n}\n"
        'rule parts: if price > 0 then clock = time_of_day(local(at, "America/New_York")), total = round(price * 1.2, 2),'
        " day_name = weekday(at)\n"
        "rule night: if desk between 22:00 and 06:00 then night\n"
    )
    cases = (
        "cases:\n"
        "  - name: an evening in New York is the next day in UTC\n"
        '    facts: {at: "2026-07-04T01:15:00Z", desk: "23:30", price: "2.345"}\n'
        '    expect: {clock: "21:15", total: 2.81, day_name: saturday, night: true}\n'
        "    fired: [parts, night]\n"
        "  - name: a morning desk time is not the night\n"
        '    facts: {at: "2026-07-06T13:00:00Z", desk: "06:00:01", price: 1}\n'
        '    expect: {clock: "09:00", total: 1.2, day_name: monday, night: false}\n'
    )
    (tmp_path / "clock.policy").write_text(policy, encoding="utf-8")
    (tmp_path / "clock.test.yaml").write_text(cases, encoding="utf-8")
    report = run_tests([tmp_path / "clock.test.yaml"])
    assert report.ok, [d.message for f in report.files for d in f.problems] + [
        m.text for case in report.cases for m in case.mismatches
    ]
    assert [case.status for case in report.cases] == ["passed", "passed"]


def test_why_not_through_a_conditional_proposes_only_what_deciding_again_confirms() -> None:
    policy = policylang.compile(CHOICE)
    decision = policy.decide({"vip": False, "orders": 1, "total": 10})
    answer = decision.why_not("fee", 0)
    assert answer.summary
    for candidate in answer.candidates:
        for change in candidate.changes:
            assert change.fact in ("vip", "orders", "total")
    changed = {"vip": True, "orders": 1, "total": 10}
    assert policy.decide(changed).outputs["fee"] == 0


WHY_NOT_FUNCTIONS = """input {
    a: int
    b: int
    vip: bool
    t: datetime
}
output {
    rounded: bool = false
    chosen: bool = false
    dated: bool = false
}
rule r: if round(a / 4) >= b then rounded
rule s: if (if vip then a else 1) > b then chosen
rule d: if year(t) > 2030 and a > 2 then dated
"""


def test_why_not_solves_through_rounding_to_where_it_steps() -> None:
    # round(a / 4) >= 5 first holds at a = 18 (4.5 rounds up): the nearest value, not 20.
    decision = policylang.compile(WHY_NOT_FUNCTIONS).decide({"a": 3, "b": 5, "vip": True, "t": AS_OF})
    answer = decision.why_not("rounded", True)
    assert answer.status == "possible"
    assert [(c.fact, c.to) for c in answer.candidates[0].changes] == [("a", 18)]


def test_why_not_solves_each_value_of_a_conditional() -> None:
    decision = policylang.compile(WHY_NOT_FUNCTIONS).decide({"a": 3, "b": 6, "vip": True, "t": AS_OF})
    answer = decision.why_not("chosen", True)
    assert answer.status == "possible"
    assert [(c.fact, c.to) for c in answer.candidates[0].changes] == [("a", 7)]


def test_why_not_says_it_cannot_propose_a_date_through_a_date_part() -> None:
    # year, month, day, weekday, hour, minute, time_of_day and local are Proposal.NONE: no date in
    # a given year is made up, and the answer says so rather than "no change works".
    decision = policylang.compile(WHY_NOT_FUNCTIONS).decide({"a": 3, "b": 6, "vip": True, "t": AS_OF})
    answer = decision.why_not("dated", True)
    assert answer.status == "not-found"
    assert "why-not cannot propose a value for `year(t)`" in answer.summary


def test_a_logged_decision_with_times_and_local_moments_replays_exactly(tmp_path: Path) -> None:
    text = (
        "input {\n    at: time\n    when: datetime\n    price: number\n}\n"
        "output {\n    clock: time\n    there: datetime\n    total: number\n    night: bool = false\n}\n"
        'rule r: if at between 22:00 and 06:00 then night, clock = at, there = local(when, "Asia/Kolkata"),'
        " total = if price > 10 then round(price, 1) else price\n"
    )
    (tmp_path / "n.policy").write_text(text, encoding="utf-8")
    policy = policylang.load(str(tmp_path / "n.policy"))
    log = policylang.open_log(str(tmp_path / "log.sqlite"))
    decision = policy.decide({"at": "23:00", "when": "2026-07-01T12:00:00Z", "price": "12.25"}, log=log)
    assert decision.id is not None
    replayed = log.replay(decision.id)
    assert replayed.reproduced, replayed.differences
    assert replayed.decision.outputs == decision.outputs
    assert decision.outputs["clock"] == time(23, 0) and decision.outputs["total"] == Decimal("12.3")


@pytest.mark.parametrize("call", ["ceil()", "round(1, 2, 3)", "year()", "local(now)", "hour(now, now)"])
def test_a_new_function_given_the_wrong_number_of_arguments_is_a_diagnostic_not_a_crash(call: str) -> None:
    # Found by test_parser_robustness: `"" + ceil()` reached the type rule through the schema-less
    # inference, which read argument 1 of an empty call.
    with pytest.raises(policylang.PolicyError) as raised:
        policylang.compile(f'segment a = "" + {call}\n')
    codes = {d.code for d in raised.value.diagnostics}
    assert Code.INTERNAL_ERROR not in codes and Code.TYPE_MISMATCH in codes, raised.value.diagnostics
