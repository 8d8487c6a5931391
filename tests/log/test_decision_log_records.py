"""The decision log's records: what goes in comes out (facts with their types), ids, policy versions, filters."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from log_helpers import AS_OF, BASIC, PREMIUM, SUPPORT_V2, facts_of_every_kind, rows, same, support_policy

import policylang
from policylang.decision_log import DecisionLog, LogError, open_log

pytest_plugins = ["log_fixtures"]  # log_target: each test on a SQLite file and on a PostgreSQL schema


def test_a_record_comes_back_as_it_was_given(tmp_path: Path, log_target: str) -> None:
    policy = support_policy(tmp_path)
    decision = policy.decide(PREMIUM, as_of=AS_OF)
    with DecisionLog(log_target) as log:
        decision_id = log.record(policy, PREMIUM, decision)
        record = log.get(decision_id)
    given = record.facts_given()
    assert same(given, PREMIUM)
    assert type(given["spend"]) is Decimal and str(given["spend"]) == "10000.50"
    assert type(given["tags"]) is set
    assert type(given["tenure"]) is str and given["tenure"] == "3y"  # not turned into a Duration
    assert record.outputs == {"sla": "4h", "queue": "priority", "perks": ["lounge", "named_rep"], "discount": 10.5}
    assert record.outputs == decision.to_dict()["outputs"]
    assert record.fired == ("support#1", "big")
    assert record.as_of == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert record.conflicts is None
    assert (record.policy_name, record.policy_hash) == ("support", policy.content_hash)
    assert record.seq == 1 and record.id == decision_id
    assert abs(record.recorded_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_facts_of_every_kind_keep_their_types(log_target: str) -> None:
    policy = policylang.compile("if tier == premium then fast", filename="open.policy")  # takes any facts
    facts = facts_of_every_kind()
    with DecisionLog(log_target) as log:
        record = log.get(log.record(policy, facts, policy.decide(facts)))
    assert record.facts["amount"] == {"$decimal": "10.50"}
    assert record.facts["tenure"] == "3y" and record.facts["count"] == 3  # plain JSON stays plain
    given = record.facts_given()
    assert same(given, facts), {k: (facts[k], given[k]) for k in facts if not same(facts[k], given.get(k))}
    assert given["local"].fold == 1 and str(given["local"].tzinfo) == "Europe/Berlin"


def test_a_fact_the_log_cannot_record_is_named(log_target: str) -> None:
    policy = policylang.compile("if tier == premium then fast", filename="open.policy")
    facts = {"tier": "premium", "handle": object()}
    with DecisionLog(log_target) as log:
        with pytest.raises(LogError) as caught:
            log.record(policy, facts, policy.decide(facts))
        assert log.head() is None  # nothing half-written
    message = str(caught.value)
    assert message.startswith(f"{log.name}: error[log-error]: the fact `handle` holds a object value")
    assert "\n  = hint: give facts as JSON values" in message


def test_facts_json_cannot_hold_are_named(log_target: str) -> None:
    policy = policylang.compile("if tier == premium then fast", filename="open.policy")
    loop: list[object] = []
    loop.append(loop)
    with DecisionLog(log_target) as log:
        for name, value, message in [
            ("huge", 10**5000, "the fact `huge` cannot be recorded: Exceeds the limit"),
            ("huge_in_set", {10**5000}, "the fact `huge_in_set` cannot be recorded: Exceeds the limit"),
            ("loop", loop, "the fact `loop` is nested too deeply (or contains itself)"),
            ("keys", {1: "a"}, "the fact `keys` holds a dict with keys that are not text"),
        ]:
            facts = {"tier": "premium", name: value}
            # decided without the fact: `decide` itself now refuses a value nested past the facts-depth limit
            with pytest.raises(LogError, match=re.escape(message)):
                log.record(policy, facts, policy.decide({"tier": "premium"}))
        assert log.head() is None


def test_a_decision_of_another_policy_is_refused(tmp_path: Path) -> None:
    first = support_policy(tmp_path)
    second = policylang.compile(SUPPORT_V2, filename="other.policy")
    with DecisionLog(tmp_path / "decisions.db") as log, pytest.raises(LogError, match="another policy"):
        log.record(first, BASIC, second.decide(BASIC))


def test_ids_are_unique_uuid7_and_increase_with_seq(tmp_path: Path, log_target: str) -> None:
    policy = support_policy(tmp_path)
    decision = policy.decide(BASIC, as_of=AS_OF)
    with DecisionLog(log_target) as log:
        ids = [log.record(policy, BASIC, decision) for _ in range(300)]
        records = log.list()
    assert len(set(ids)) == 300
    assert ids == sorted(ids)  # many fall in one millisecond: still increasing
    assert [r.id for r in records] == ids and [r.seq for r in records] == list(range(1, 301))
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    milliseconds = parsed.int >> 80
    assert abs(milliseconds / 1000 - datetime.now(UTC).timestamp()) < 60


def test_a_policy_version_is_stored_once(tmp_path: Path, log_target: str) -> None:
    path = log_target
    first = support_policy(tmp_path)
    with DecisionLog(path) as log:
        for _ in range(20):
            log.record(first, PREMIUM, first.decide(PREMIUM))
    second = support_policy(tmp_path, SUPPORT_V2)
    with DecisionLog(path) as log:  # a new handle does not know what the last one stored
        for _ in range(3):
            log.record(first, PREMIUM, first.decide(PREMIUM))
            log.record(second, PREMIUM, second.decide(PREMIUM))
        assert log.policy_snapshot(first.content_hash) == first.snapshot()
        assert policylang.compile_snapshot(log.policy_snapshot(second.content_hash)).content_hash == second.content_hash
    stored = rows(path, "SELECT hash, name FROM policies ORDER BY first_seen")
    counts = rows(path, "SELECT policy_hash, count(*) FROM decisions GROUP BY policy_hash")
    assert stored == [(first.content_hash, "support"), (second.content_hash, "support")]
    assert dict(counts) == {first.content_hash: 23, second.content_hash: 3}


def test_head_is_the_last_record(tmp_path: Path, log_target: str) -> None:
    policy = support_policy(tmp_path)
    with DecisionLog(log_target) as log:
        assert log.head() is None
        log.record(policy, BASIC, policy.decide(BASIC))
        last = log.get(log.record(policy, BASIC, policy.decide(BASIC)))
        assert log.head() == (2, last.hash)
        assert last.prev_hash == log.get(log.list()[0].id).hash


def test_get_takes_a_unique_prefix_and_names_an_unknown_id(tmp_path: Path, log_target: str) -> None:
    policy = support_policy(tmp_path)
    with DecisionLog(log_target) as log:
        decision_id = log.record(policy, BASIC, policy.decide(BASIC))
        assert log.get(decision_id[:13]).id == decision_id
        with pytest.raises(LogError, match="no decision `0000` in the log"):
            log.get("0000")


def test_list_filters_by_output_policy_and_time(tmp_path: Path, log_target: str) -> None:
    first = support_policy(tmp_path)
    second = support_policy(tmp_path, SUPPORT_V2)
    with DecisionLog(log_target) as log:
        a = log.record(first, PREMIUM, first.decide(PREMIUM))  # sla 4h, perks {lounge, named_rep}, discount 10.5
        b = log.record(first, BASIC, first.decide(BASIC))  # sla 72h, queue general
        c = log.record(second, PREMIUM, second.decide(PREMIUM))  # sla 2h
        big = {"tier": "basic", "tenure": "1d", "spend": 10_000}
        d = log.record(first, big, first.decide(big))  # discount 10.5, queue priority

        def ids(**query: object) -> list[str]:
            return [r.id for r in log.list(**query)]  # type: ignore[arg-type]

        assert ids() == [a, b, c, d]
        assert ids(where=["sla=4h"]) == [a]
        assert ids(where=["sla=240m"]) == [a]  # the value as the language writes it
        assert ids(where=["sla=3d"]) == [b, d]  # 72h
        assert ids(where=["perks=lounge"]) == [a, c]  # a set output contains it
        assert ids(where=["perks=named_rep", "sla=2h"]) == [c]
        assert ids(where=["discount=10.50"]) == [a, c, d]
        assert ids(where=["discount=0"]) == [b]
        assert ids(where=["queue=priority"]) == [a, c, d]
        assert ids(where=['queue="priority"']) == [a, c, d]
        assert ids(where=["nosuch=1"]) == []
        assert ids(policy=second.content_hash[:8]) == [c]
        assert ids(policy="support") == [a, b, c, d]
        assert ids(policy="other") == []
        assert ids(limit=2, where=["queue=priority"]) == [a, c]
        recorded = [r.recorded_at for r in log.list()]
        assert ids(since=recorded[1]) == [b, c, d]
        assert ids(until=recorded[1]) == [a]
        assert ids(since=recorded[1], until=recorded[3]) == [b, c]
        assert ids(since=recorded[1].isoformat()) == [b, c, d]
        assert ids(since="1h") == [a, b, c, d]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        assert ids(since=tomorrow) == []
        with pytest.raises(LogError, match="`since` `yesterday` is not a date"):
            log.list(since="yesterday")
        with pytest.raises(LogError, match="is not `output=value`"):
            log.list(where=["sla"])
        with pytest.raises(LogError, match="has no time zone"):
            log.list(since=datetime(2026, 1, 1))


def test_numbers_and_booleans_match_as_the_language_writes_them(tmp_path: Path, log_target: str) -> None:
    policy = policylang.compile(
        "input { n: int }\noutput { big: bool = false\n amount: number = 0 }\nif n > 5 then big, amount = 10_000",
        filename="numbers.policy",
    )
    with DecisionLog(log_target) as log:
        small = log.record(policy, {"n": 1}, policy.decide({"n": 1}))
        large = log.record(policy, {"n": 9}, policy.decide({"n": 9}))
        assert [r.id for r in log.list(where=["big=true"])] == [large]
        assert [r.id for r in log.list(where=["big=false"])] == [small]
        assert [r.id for r in log.list(where=["amount=10_000"])] == [large]
        assert [r.id for r in log.list(where=["amount=10000.0"])] == [large]


def test_conflicts_are_recorded_with_on_conflict_mark(tmp_path: Path, log_target: str) -> None:
    policy = policylang.compile("input { a: bool }\nif a then x = 1\nif a then x = 2", filename="c.policy")
    decision = policy.decide({"a": True}, on_conflict="mark")
    with DecisionLog(log_target) as log:
        record = log.get(log.record(policy, {"a": True}, decision))
        assert record.conflicts == {"x": [{"rule": "c#1", "value": 1}, {"rule": "c#2", "value": 2}]}
        assert "x" not in record.outputs
        assert log.replay(record.id).differences == []
        assert log.verify().ok


def test_the_log_is_usable_across_threads_and_closes(tmp_path: Path, log_target: str) -> None:
    import threading

    policy = support_policy(tmp_path)
    log = DecisionLog(log_target)
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(len(log.list())))
    log.record(policy, BASIC, policy.decide(BASIC))
    thread.start()
    thread.join()
    assert seen == [1]
    log.close()
    with pytest.raises(LogError, match="closed"):
        log.list()


def test_open_log_takes_paths_and_refuses_other_databases(tmp_path: Path) -> None:
    with open_log(tmp_path / "a.db") as log:
        assert log.head() is None and log.name == str(tmp_path / "a.db")
    with open_log(f"sqlite:///{tmp_path / 'b.db'}") as log:
        assert log.path == tmp_path / "b.db"
    with pytest.raises(LogError) as caught:
        open_log("mysql://auditor:secret@db/decisions")
    assert str(caught.value).startswith("error[log-error]: `mysql://` is not a kind of decision log")
    assert "postgresql://" in str(caught.value.hint) and "secret" not in str(caught.value)
