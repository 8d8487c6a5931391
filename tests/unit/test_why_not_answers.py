"""Why-not answers on hand-written cases: the words an auditor reads, and each change verified."""

from __future__ import annotations

import pickle

import pytest

import policylang
from policylang.explain.why_not import WhyNotError

AS_OF = "2026-01-31T09:00:00Z"
EXAMPLE = "examples/support/support.policy"


@pytest.fixture(scope="module")
def young_premium() -> policylang.Decision:
    policy = policylang.load(EXAMPLE)
    return policy.decide({"tier": "premium", "tenure": "1y3mo", "monthly_spend": 500}, as_of=AS_OF)


def test_the_smallest_change_is_named_in_words_and_works(young_premium: policylang.Decision) -> None:
    answer = young_premium.why_not("sla=4h")
    assert answer.status == "possible" and answer.wanted == "4h"
    (candidate,) = answer.candidates
    assert candidate.rule == "support#1" and candidate.verified
    (change,) = candidate.changes
    assert change.fact == "tenure" and change.was == "1y3mo"
    assert change.text.startswith("`tenure > 2y`: is `1y3mo`, needs to be more than `2y`")
    again = young_premium.policy.decide({"tier": "premium", "tenure": change.to, "monthly_spend": 500}, as_of=AS_OF)
    assert again["sla"] == policylang.compile("output { d: duration = 4h }").decide({})["d"]


def test_a_value_no_rule_gives_is_impossible(young_premium: policylang.Decision) -> None:
    answer = young_premium.why_not("sla=3h")
    assert answer.status == "impossible" and not answer.candidates
    assert "No rule can ever set sla to 3h" in answer.summary and "2h, 4h" in answer.summary


def test_a_value_the_decision_has_is_already_there(young_premium: policylang.Decision) -> None:
    assert young_premium.why_not("queue=general").status == "already"
    assert young_premium.why_not("not skip_fraud_check").status == "already"


def test_a_flag_alone_asks_for_true(young_premium: policylang.Decision) -> None:
    answer = young_premium.why_not("skip_fraud_check")
    assert answer.wanted == "true" and answer.status == "possible"


def test_an_overriding_rule_must_stop_applying() -> None:
    policy = policylang.compile(
        "input { a: bool\n b: bool }\noutput { q: enum(x, y, z) = x resolve priority }\n"
        "rule low priority 1: if a then q = y\nrule high priority 9: if b then q = z\n",
        filename="override.policy",
    )
    decision = policy.decide({"a": True, "b": True}, as_of=AS_OF)
    answer = decision.why_not("q=y")
    low = next(x for x in answer.candidates if x.rule == "low")
    assert low.verified and [(x.fact, x.was, x.to) for x in low.changes] == [("b", True, False)]
    assert low.changes[0].text == "`b`: is `true`, needs to be `false` so that `high` no longer applies"


def test_two_facts_when_one_is_not_enough() -> None:
    policy = policylang.compile(
        "input { a: int\n b: int }\noutput { o: bool = false resolve any }\nif a > 3 and b < 0 then o\n",
        filename="two.policy",
    )
    answer = policy.decide({"a": 0, "b": 5}, as_of=AS_OF).why_not("o")
    (candidate,) = answer.candidates
    assert candidate.verified and {x.fact for x in candidate.changes} == {"a", "b"}
    texts = " | ".join(x.text for x in candidate.changes)
    assert "needs to be more than `3`" in texts and "needs to be less than `0`" in texts


def test_bad_questions_are_clear_errors(young_premium: policylang.Decision) -> None:
    with pytest.raises(WhyNotError, match="no output `que`") as info:
        young_premium.why_not("que=general")
    assert info.value.hint == "did you mean `queue`?"
    with pytest.raises(WhyNotError, match="`banana` is not a value of `sla`"):
        young_premium.why_not("sla=banana")
    with pytest.raises(WhyNotError, match="not a flag"):
        young_premium.why_not("sla")


def test_explain_is_the_text_of_policy_explain(young_premium: policylang.Decision) -> None:
    text = young_premium.explain(why_not="sla=4h")
    assert text.startswith("Decision of support_levels")
    assert "sla = 3d   the default: no rule that sets it matched" in text
    assert "Why not sla = 4h?" in text and "needs to be more than `2y`" in text


def test_a_pickled_decision_cannot_explain_without_its_policy(young_premium: policylang.Decision) -> None:
    copy = pickle.loads(pickle.dumps(young_premium))
    with pytest.raises(ValueError, match="no longer holds its policy"):
        copy.explain()


def test_words_are_the_opposite_under_not() -> None:
    policy = policylang.compile(
        "input { tenure: duration\n tier: enum(basic, premium)\n score: int\n vip: bool? }\n"
        "output { a: bool = false resolve any\n c: bool = false resolve any\n f: bool = false resolve any }\n"
        "if not (tenure > 2y) then a\n"
        "if not (tier == premium) and not (score >= 10) then c\n"
        "if not (vip is missing) and vip then f\n",
        filename="neg.policy",
    )
    decision = policy.decide({"tenure": "3y", "tier": "premium", "score": 12}, as_of=AS_OF)
    (a,) = decision.why_not("a").candidates
    assert a.changes[0].text.startswith("`tenure > 2y`: is `3y`, needs to be at most `2y`")
    (c,) = decision.why_not("c").candidates
    assert [x.text.split(" (")[0] for x in c.changes] == [
        "`tier == premium`: is `premium`, must not be `premium`",
        "`score >= 10`: is `12`, needs to be less than `10`",
    ]
    (f,) = decision.why_not("f").candidates
    assert f.changes[0].text == "`vip`: is `missing`, needs to be `true`"


def test_the_default_is_a_way_to_get_its_value(young_premium: policylang.Decision) -> None:
    policy = young_premium.policy
    decision = policy.decide({"tier": "premium", "tenure": "3y", "monthly_spend": 500}, as_of=AS_OF)
    answer = decision.why_not("not skip_fraud_check")
    assert answer.status == "possible"
    (default,) = answer.candidates
    assert default.rule == "(default)" and default.sets == "skip_fraud_check = false (the default)"
    (change,) = default.changes
    assert change.fact == "tenure" and change.text.endswith("so that `support#1` no longer applies")
    assert answer.summary.startswith("skip_fraud_check is true, not false. The default would give")


def test_a_conflicted_output_is_said_to_be_in_conflict() -> None:
    policy = policylang.compile(
        "input { a: bool }\noutput { o: int = 0 }\nrule x: if a then o = 1\nrule y: if a then o = 2\n",
        filename="clash.policy",
    )
    decision = policy.decide({"a": True}, as_of=AS_OF, on_conflict="mark")
    assert decision.why_not("o=1").summary.startswith("o is in conflict (its rules disagree), not 1.")


def test_values_are_read_as_the_language_writes_them() -> None:
    policy = policylang.compile(
        'input { t: bool }\noutput { s: string = "none" resolve first\n tags: set[string] = {} resolve union }\n'
        'if t then s = "a \\"quoted\\" b", tags += {x, "y, z"}\n',
        filename="values.policy",
    )
    decision = policy.decide({"t": False}, as_of=AS_OF)
    assert decision.why_not('s="a \\"quoted\\" b"').status == "possible"
    assert decision.why_not('tags={x, "y, z"}').status == "possible"
    for bad, message in (
        ("s=", "gives no value"),
        ("tags={x", "is not a set"),
        ('s="x', "no closing quote"),
        ("=x", "names no output"),
    ):
        with pytest.raises(WhyNotError, match=message):
            decision.why_not(bad)
