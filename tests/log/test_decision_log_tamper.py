"""Tampering with a log behind its back (raw SQL on the file) is found by verify, and replay reproduces
recorded decisions from the stored policy version after the policy file has changed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from log_helpers import AS_OF, BASIC, PREMIUM, SUPPORT_V2, raw, rows, run_cli, support_policy, write_policy

import policylang
from policylang.decision_log import DecisionLog, LogError, VerifyReport

pytest_plugins = ["log_fixtures"]  # log_target: each test on a SQLite file and on a PostgreSQL schema


@pytest.fixture
def log_path(tmp_path: Path, log_target: str) -> str:
    """A log of 30 decisions (seq 1 to 30) by one policy; the odd ones are premium (sla 4h)."""
    path = log_target
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        for i in range(30):
            facts = PREMIUM if i % 2 == 0 else {**BASIC, "tenure": f"{i + 1}d"}
            log.record(policy, facts, policy.decide(facts, as_of=AS_OF))
    return path


def verify(path: str, expect_head: str | None = None) -> VerifyReport:
    with DecisionLog(path, create=False) as log:
        return log.verify(expect_head=expect_head)


def kinds(report: VerifyReport) -> Iterator[tuple[str, int | None]]:
    return ((p.kind, p.seq) for p in report.problems)


def test_an_untouched_log_is_intact(log_path: str) -> None:
    report = verify(log_path)
    assert report.ok and report.problems == ()
    assert (report.count, report.head_seq, report.policies) == (30, 30, 1)
    assert report.head == verify(log_path).head and report.head is not None and len(report.head) == 64


def test_an_edited_output_is_found(log_path: str) -> None:
    raw(log_path, """UPDATE decisions SET outputs = replace(outputs, '"4h"', '"1h"') WHERE seq = 17""")
    report = verify(log_path)
    assert list(kinds(report)) == [("edited", 17)]
    record_id = report.problems[0].id
    assert report.problems[0].message == f"record 17 (id {record_id}) was edited: its hash does not match its contents"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(log_path: str) -> None:
    raw(log_path, "UPDATE decisions SET hash = '" + "ab" * 32 + "', facts = '{}' WHERE seq = 12")
    assert list(kinds(verify(log_path))) == [("edited", 12), ("unlinked", 13)]


def test_a_deleted_record_is_found(log_path: str) -> None:
    raw(log_path, "DELETE FROM decisions WHERE seq = 18")
    report = verify(log_path)
    assert list(kinds(report)) == [("missing", 18)]
    assert report.problems[0].message == "record 18 is missing: the chain jumps from 17 to 19"
    raw(log_path, "DELETE FROM decisions WHERE seq IN (1, 2)")
    assert verify(log_path).problems[0].message == "records 1 to 2 are missing: the chain starts at 3"


def test_swapped_records_are_found(log_path: str) -> None:
    raw(
        log_path,
        "UPDATE decisions SET seq = -1 WHERE seq = 20",
        "UPDATE decisions SET seq = 20 WHERE seq = 21",
        "UPDATE decisions SET seq = 21 WHERE seq = -1",
    )
    report = verify(log_path)
    assert list(kinds(report)) == [("out-of-order", 20), ("out-of-order", 21)]
    assert report.problems[0].message.endswith("is out of order: it was recorded as record 21")


def test_renumbering_after_a_deletion_is_found(log_path: str) -> None:
    raw(log_path, "DELETE FROM decisions WHERE seq = 5", "UPDATE decisions SET seq = seq - 1 WHERE seq > 5")
    report = verify(log_path)
    assert report.count == 29
    assert {kind for kind, _ in kinds(report)} == {"out-of-order"}
    assert {seq for _, seq in kinds(report)} == set(range(5, 30))


def test_a_removed_last_record_is_found_by_the_checkpoint_or_a_kept_head(log_path: str) -> None:
    kept = verify(log_path).head
    assert kept is not None
    raw(log_path, "DELETE FROM decisions WHERE seq = 30")
    report = verify(log_path)  # the head checkpoint the log keeps still names record 30
    assert list(kinds(report)) == [("truncated", None)]
    assert report.problems[0].message == (
        f"the log's head checkpoint is record 30 ({kept[:12]}…), but the log ends at record 29: record 30 was "
        "removed from its end"
    )
    ((seq, head),) = rows(log_path, "SELECT seq, hash FROM decisions WHERE seq = 29")
    raw(log_path, "UPDATE meta SET value = ? WHERE key = 'head'", parameters=(f"{seq}:{head}",))
    assert verify(log_path).ok  # a cut that rewrote the checkpoint too is a whole chain ...
    report = verify(log_path, expect_head=kept)  # ... but not the one whose head was kept elsewhere
    assert list(kinds(report)) == [("truncated", None)]
    assert "is not in the log: records were removed from its end" in report.problems[0].message
    assert verify(log_path, expect_head=verify(log_path).head).ok  # an older head is still in the chain


def test_a_malformed_head_is_a_usage_error(log_path: str) -> None:
    with pytest.raises(LogError, match="is not a head hash"):
        verify(log_path, expect_head="abc")


def test_an_edited_policy_snapshot_is_found(log_path: str) -> None:
    ((text,),) = rows(log_path, "SELECT snapshot FROM policies")
    snapshot = json.loads(text)
    for module in snapshot["modules"].values():
        module["text"] = module["text"].replace("sla = 4h", "sla = 1h")
    raw(log_path, "UPDATE policies SET snapshot = ?", parameters=(json.dumps(snapshot),))
    report = verify(log_path)
    assert list(kinds(report)) == [("policy", None)]
    assert report.problems[0].message.endswith("was edited: its texts do not match its hash")
    raw(log_path, "UPDATE policies SET snapshot = '{\"root\": 1}'")
    assert "does not compile" in verify(log_path).problems[0].message
    raw(log_path, "DELETE FROM policies")
    report = verify(log_path)
    assert [(p.kind, p.seq) for p in report.problems] == [("policy", 1)]
    assert "record 1 and 29 more refer to policy" in report.problems[0].message


def test_replay_uses_the_stored_policy_after_the_file_changed(tmp_path: Path, log_target: str) -> None:
    path = log_target
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        decision_id = log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
    changed = write_policy(tmp_path, SUPPORT_V2)
    assert policylang.load(changed).decide(PREMIUM, as_of=AS_OF)["sla"] != policy.decide(PREMIUM)["sla"]
    with DecisionLog(path, create=False) as log:
        replay = log.replay(decision_id)
    assert replay.differences == [] and replay.reproduced
    assert replay.policy.content_hash == policy.content_hash
    assert replay.decision.to_dict() == policy.decide(PREMIUM, as_of=AS_OF).to_dict()
    assert replay.record.id == decision_id


def test_replay_shows_an_edited_outcome_and_verify_finds_it(tmp_path: Path, log_target: str) -> None:
    path = log_target
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        decision_id = log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
    raw(
        path,
        """UPDATE decisions SET outputs = replace(outputs, '"4h"', '"1h"'), fired = '["big"]'""",
    )
    with DecisionLog(path, create=False) as log:
        assert log.replay(decision_id).differences == [
            f"the record itself: record 1 (id {decision_id}) was edited: its hash does not match its contents",
            "output `sla`: recorded 1h, replayed 4h",
            "fired: recorded `big`, replayed `support#1`, `big`",
        ]
        assert [p.kind for p in log.verify().problems] == ["edited"]


def test_replay_of_a_policy_that_no_longer_compiles_is_a_log_error(tmp_path: Path, log_target: str) -> None:
    path = log_target
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        decision_id = log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
    ((text,),) = rows(path, "SELECT snapshot FROM policies")
    snapshot = json.loads(text)
    for module in snapshot["modules"].values():
        module["text"] += "\nif then\n"  # as if a later policylang no longer accepted the text
    raw(path, "UPDATE policies SET snapshot = ?", parameters=(json.dumps(snapshot),))
    with DecisionLog(path, create=False) as log, pytest.raises(LogError) as caught:
        log.replay(decision_id)
    assert "no longer compiles with this version of policylang" in str(caught.value)


def test_replay_of_facts_that_no_longer_fit_is_a_log_error(tmp_path: Path, log_target: str) -> None:
    path = log_target
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        decision_id = log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
    raw(path, """UPDATE decisions SET facts = replace(facts, '"3y"', '"three years"')""")
    with DecisionLog(path, create=False) as log, pytest.raises(LogError) as caught:
        log.replay(decision_id)
    assert "no longer fit its policy" in str(caught.value) and "tenure" in str(caught.value)


def test_an_auditor_can_recompute_the_chain_without_policylang(log_path: str) -> None:
    """The documented rule, by hand: hash = sha256(prev_hash + canonical JSON of the other fields as stored,
    the JSON columns as their text, with "format": 2)."""
    import hashlib

    fields = [
        "seq",
        "id",
        "recorded_at",
        "as_of",
        "policy_name",
        "policy_hash",
        "facts",
        "outputs",
        "fired",
        "conflicts",
    ]
    previous = "0" * 64
    for row in rows(log_path, f"SELECT {', '.join(fields)}, prev_hash, hash FROM decisions ORDER BY seq"):
        body = {**dict(zip(fields, row[:10], strict=True)), "format": 2}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row[10] == previous
        assert row[11] == hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()
        previous = row[11]
    assert previous == verify(log_path).head


def test_a_record_that_cannot_be_decoded(log_path: str) -> None:
    raw(log_path, "UPDATE decisions SET outputs = 'not json' WHERE seq = 3")
    with DecisionLog(log_path, create=False) as log:
        records = log.list()  # the record is named, and hides none of the others (issue 12, H2)
        assert 3 not in [r.seq for r in records] and len(records) == log.verify().count - 1
        (bad,) = records.unreadable
        assert bad.seq == 3 and re.match(r"record 3 \(id .*\) cannot be read", bad.message)
        assert log.list(limit=2)[1].seq == 2  # the records before it still read
        assert [(p.kind, p.seq) for p in log.verify().problems] == [("edited", 3)]
    raw(
        log_path,
        "UPDATE decisions SET outputs = '{}' WHERE seq = 3",
        """UPDATE decisions SET facts = '{"tier": {"$pickle": "x"}}' WHERE seq = 4""",
    )
    with DecisionLog(log_path, create=False) as log:
        record = log.list()[3]
        with pytest.raises(LogError, match=r"the facts of record 4 .* cannot be decoded: unknown tag `\$pickle`"):
            record.facts_given()
        with pytest.raises(LogError, match="cannot be decoded"):
            log.replay(record.id)
    assert run_cli(["show", record.id, "--log", str(log_path)]).code == 2


def test_an_edited_policy_name_is_found(log_path: str) -> None:
    raw(log_path, "UPDATE policies SET name = 'other'")
    assert [p.message for p in verify(log_path).problems] == [
        f"the stored policy other ({verify(log_path).problems[0].policy[:12]}) was edited: its texts name it `support`"  # type: ignore[index]
    ]


def test_replay_of_a_policy_with_imports_after_an_import_changed(tmp_path: Path, log_target: str) -> None:
    """The design sketch's example imports stdlib.segments and fraud.policy: both are stored with it."""
    import shutil

    from conftest import ROOT

    folder = tmp_path / "support"
    shutil.copytree(ROOT / "examples" / "support", folder)
    policy = policylang.load(folder / "support.policy", refuse_conflicts=False)
    facts = {"tier": "premium", "tenure": "3y", "monthly_spend": 500}
    with DecisionLog(log_target) as log:
        decision_id = log.record(policy, facts, policy.decide(facts, as_of=AS_OF))
    fraud = folder / "fraud.policy"
    fraud.write_text(fraud.read_text(encoding="utf-8").replace("tenure < 90d", "tenure < 9y"), encoding="utf-8")
    assert policylang.load(folder / "support.policy", refuse_conflicts=False).content_hash != policy.content_hash
    with DecisionLog(log_target, create=False) as log:
        replay = log.replay(decision_id)
        assert log.verify().ok
    assert replay.differences == []
    assert replay.decision.to_dict() == policy.decide(facts, as_of=AS_OF).to_dict()
    assert set(replay.policy.snapshot()["modules"]) == set(policy.snapshot()["modules"])
    assert len(policy.snapshot()["modules"]) == 3
