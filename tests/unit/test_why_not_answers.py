"""Why-not answers on hand-written cases: the words an auditor reads, and each change verified."""

from __future__ import annotations

import pickle

import pytest

import policylang
from policylang.why_not import WhyNotError

AS_OF = "2026-01-31T09:00:00Z"
EXAMPLE = "examples/support/support.policy"


@pytest.fixture(scope="module")
def young_premium() -> policylang.Decision:
    policy = policylang.load(EXAMPLE)
    return policy.decide({"tier": "premium", "tenure": "1y3m", "monthly_spend": 500}, as_of=AS_OF)


def test_the_smallest_change_is_named_in_words_and_works(young_premium: policylang.Decision) -> None:
    answer = young_premium.why_not("sla=4h")
    assert answer.status == "possible" and answer.wanted == "4h"
    (candidate,) = answer.candidates
    assert candidate.rule == "support:29" and candidate.verified
    (change,) = candidate.changes
    assert change.fact == "tenure" and change.was == "1y3m"
    assert change.text.startswith("`tenure > 2y`: is `1y3m`, needs more than `2y`")
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
    assert "so that no stronger rule takes the output" in low.changes[0].text


def test_two_facts_when_one_is_not_enough() -> None:
    policy = policylang.compile(
        "input { a: int\n b: int }\noutput { o: bool = false resolve any }\nif a > 3 and b < 0 then o\n",
        filename="two.policy",
    )
    answer = policy.decide({"a": 0, "b": 5}, as_of=AS_OF).why_not("o")
    (candidate,) = answer.candidates
    assert candidate.verified and {x.fact for x in candidate.changes} == {"a", "b"}
    texts = " | ".join(x.text for x in candidate.changes)
    assert "needs more than `3`" in texts and "needs less than `0`" in texts


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
    assert "Why not sla = 4h?" in text and "needs more than `2y`" in text


def test_a_pickled_decision_cannot_explain_without_its_policy(young_premium: policylang.Decision) -> None:
    copy = pickle.loads(pickle.dumps(young_premium))
    with pytest.raises(ValueError, match="no longer holds its policy"):
        copy.explain()
