"""Policy.facts(): facts validated once (engine/typed_facts.py), taken by decide() and decide_many()
as they are, refused by a policy whose facts are declared otherwise."""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path

import pytest

import policylang
from policylang import Facts, FactsError
from policylang.core.values import MISSING, Duration

INPUT = 'input { tier: enum(basic, premium)  spend: number  tenure: duration  vip: bool?  region: string = "eu" }\n'
RULES = "output { big: bool = false resolve any }\nrule r: if spend > 100 and tier == premium then big\n"
POLICY = policylang.compile(INPUT + RULES, filename="facts.policy")
GIVEN = {"tier": "premium", "spend": 120.5, "tenure": "400d"}
AS_OF = "2026-01-31T09:00:00Z"


def test_facts_are_the_values_the_policy_sees_and_decide_as_the_dict_does() -> None:
    facts = POLICY.facts(GIVEN)
    assert isinstance(facts, Facts)
    assert dict(facts) == POLICY.validate_facts(GIVEN)
    assert facts["spend"] == Decimal("120.5") and facts["tenure"] == Duration(0, 400 * 86_400)
    assert facts["vip"] is MISSING and facts["region"] == "eu"
    assert dict(facts.given) == GIVEN
    assert POLICY.decide(facts, as_of=AS_OF) == POLICY.decide(GIVEN, as_of=AS_OF)
    assert list(POLICY.decide_many([facts, GIVEN, facts], as_of=AS_OF)) == [POLICY.decide(GIVEN, as_of=AS_OF)] * 3


def test_facts_are_not_validated_again() -> None:
    facts = POLICY.facts(GIVEN)
    policy = policylang.compile(INPUT + RULES, filename="other.policy")
    policy._validator._model = None  # type: ignore[assignment]  # any use of the pydantic model would fail
    policy._validator.fast = lambda given: None  # and the generated validator takes nothing
    assert policy.decide(facts, as_of=AS_OF).outputs == {"big": True}
    assert [d.outputs for d in policy.decide_many([facts], as_of=AS_OF)] == [{"big": True}]


def test_facts_are_immutable_hashable_and_pickle() -> None:
    facts = POLICY.facts(GIVEN)
    with pytest.raises(AttributeError):
        facts._values = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        facts["tier"] = "basic"  # type: ignore[index]
    with pytest.raises(TypeError):
        Facts(GIVEN)
    same = POLICY.facts(dict(GIVEN))
    assert facts == same and hash(facts) == hash(same) and len({facts, same}) == 1
    assert facts != POLICY.facts({**GIVEN, "spend": 99})
    copy = pickle.loads(pickle.dumps(facts))
    assert copy == facts and POLICY.decide(copy, as_of=AS_OF) == POLICY.decide(facts, as_of=AS_OF)
    assert POLICY.facts(facts) is facts


def test_bad_facts_are_refused_when_made() -> None:
    with pytest.raises(FactsError, match="fact `tier`: expected one of basic, premium"):
        POLICY.facts({**GIVEN, "tier": "gold"})
    with pytest.raises(FactsError, match="unknown fact `spnd`"):
        POLICY.facts({**GIVEN, "spnd": 1})


def test_a_policy_with_the_same_facts_takes_them_and_another_refuses_them() -> None:
    facts = POLICY.facts(GIVEN)
    same_inputs = policylang.compile(
        INPUT + "output { small: bool = false resolve any }\nrule s: if spend < 10 then small\n", filename="same.policy"
    )
    assert same_inputs.decide(facts, as_of=AS_OF).outputs == {"small": False}
    others = [
        INPUT.replace("spend: number", "spend: int"),  # a type
        INPUT.replace('region: string = "eu"', 'region: string = "uk"'),  # a default
        INPUT.replace("vip: bool?", "vip: bool = false"),  # optionality
        INPUT.replace("tenure: duration", "tenure: duration  age: int?"),  # one more fact
    ]
    for text in others:
        other = policylang.compile(text + RULES, filename="other.policy")
        with pytest.raises(FactsError, match="validated by a policy whose facts differ") as raised:
            other.decide(facts)
        assert raised.value.diagnostics[0].hint == "make them with this policy's `facts(...)`, or give them as a dict"
        with pytest.raises(FactsError, match="validated by a policy whose facts differ"):
            list(other.decide_many([facts]))
        with pytest.raises(FactsError, match="validated by a policy whose facts differ"):
            other.facts(facts)
    lenient = policylang.compile(INPUT + RULES, filename="lenient.policy", unknown_facts="ignore")
    with pytest.raises(FactsError, match="validated by a policy whose facts differ"):
        lenient.decide(facts)  # facts checked for unknown names are not facts that may have them, nor back
    with pytest.raises(FactsError, match="validated by a policy whose facts differ"):
        POLICY.decide(lenient.facts({**GIVEN, "extra": 1}))


def test_a_logged_decision_records_the_facts_as_given(tmp_path: Path) -> None:
    with policylang.open_log(tmp_path / "d.db") as log:
        decision = POLICY.decide(POLICY.facts(GIVEN), as_of=AS_OF, log=log)
        assert decision.id is not None
        assert log.list()[0].facts_given() == {**GIVEN, "spend": Decimal("120.5")}
