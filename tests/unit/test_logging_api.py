"""Logging from the Python API: a log given at load time or per call records every decision, with
the facts exactly as given, before `decide()` returns; the record explains itself later."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import policylang

AS_OF = "2026-01-31T09:00:00Z"
EXAMPLE = "examples/support/support.policy"
FACTS = {"tier": "premium", "tenure": "3y", "monthly_spend": Decimal("500.50")}


def test_a_log_given_at_load_records_every_decision(tmp_path: Path) -> None:
    with policylang.open_log(tmp_path / "d.db") as log:
        policy = policylang.load(EXAMPLE, log=log)
        first = policy.decide(FACTS, as_of=AS_OF)
        many = list(policy.decide_many([FACTS, {**FACTS, "tier": "basic"}], as_of=AS_OF))
        assert first.id is not None and all(d.id for d in many)
        assert len({first.id, *(d.id for d in many)}) == 3
        assert first.to_dict()["id"] == first.id and next(iter(first.to_dict())) == "id"
        records = log.list()
        assert [r.id for r in records] == [first.id, many[0].id, many[1].id]
        assert records[0].facts_given() == FACTS
        assert type(records[0].facts_given()["monthly_spend"]) is Decimal
        assert records[2].outputs["sla"] == "3d"


def test_a_log_per_call_and_no_log_otherwise(tmp_path: Path) -> None:
    policy = policylang.load(EXAMPLE)
    assert policy.decide(FACTS, as_of=AS_OF).id is None
    assert "id" not in policy.decide(FACTS, as_of=AS_OF).to_dict()
    with policylang.open_log(tmp_path / "d.db") as log:
        decision = policy.decide(FACTS, as_of=AS_OF, log=log)
        replay = log.replay(decision.id)
        assert replay.differences == []
        # The replay is a new decision (not itself recorded), so only the id line differs.
        id_line = f"├── Decision id: {decision.id}\n"
        assert id_line in decision.explain()
        assert replay.decision.explain() == decision.explain().replace(id_line, "")


def test_bad_facts_record_nothing(tmp_path: Path) -> None:
    with policylang.open_log(tmp_path / "d.db") as log:
        policy = policylang.load(EXAMPLE, log=log)
        with pytest.raises(policylang.FactsError):
            policy.decide({**FACTS, "tier": "gold"}, as_of=AS_OF)
        assert log.list() == []
