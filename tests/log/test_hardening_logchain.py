"""Issue 12, the decision log's integrity: verify finds any change to a record's stored bytes (L1), a cut
at the end of the log whenever something outside the cut remembers the head (L2), and writers refuse a
file that SQLite's quick check rejects (L3). Each test starts from the issue's reproduction."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import suppress
from pathlib import Path

import pytest
from log_helpers import AS_OF, BASIC, PREMIUM, SUPPORT_V2, is_postgres, raw, rows, run_cli, support_policy

from policylang.decision_log import Anchor, DecisionLog, LogError, VerifyReport

pytest_plugins = ["log_fixtures"]  # log_target: each test on a SQLite file and on a PostgreSQL schema


def record(target: str, folder: Path, count: int, text: str | None = None) -> list[str]:
    policy = support_policy(folder) if text is None else support_policy(folder, text)
    with DecisionLog(target) as log:
        return [
            log.record(policy, facts, policy.decide(facts, as_of=AS_OF))
            for facts in [PREMIUM if i % 2 == 0 else {**BASIC, "tenure": f"{i + 1}d"} for i in range(count)]
        ]


def verify(target: str | Path, expect_head: str | Anchor | None = None) -> VerifyReport:
    with DecisionLog(target, create=False) as log:
        return log.verify(expect_head=expect_head)


def kinds(report: VerifyReport) -> list[tuple[str, int | None]]:
    return [(p.kind, p.seq) for p in report.problems]


# --- L1: the hash covers what is stored ---------------------------------------------------------


def test_a_duplicate_key_prepended_to_the_stored_facts_is_an_edit(tmp_path: Path, log_target: str) -> None:
    """The issue's reproduction: a duplicate key in front of the stored facts. JSON readers keep the last
    `tier` (premium, so the parsed record and its old hash were unchanged), SQL's json_extract the first."""
    record(log_target, tmp_path, 3)
    raw(log_target, """UPDATE decisions SET facts = '{"tier":"key",' || substr(facts, 2) WHERE seq = 1""")
    ((text,),) = rows(log_target, "SELECT facts FROM decisions WHERE seq = 1")
    assert text.startswith('{"tier":"key","tier":"premium"') and json.loads(text)["tier"] == "premium"
    if not is_postgres(log_target):
        assert rows(log_target, "SELECT json_extract(facts, '$.tier') FROM decisions WHERE seq = 1") == [("key",)]
    report = verify(log_target)
    assert kinds(report) == [("edited", 1)]
    assert report.problems[0].message.endswith("was edited: its hash does not match its contents")


@pytest.mark.parametrize(
    ("edit", "changes"),
    [
        ("UPDATE decisions SET outputs = replace(outputs, ',', ', ') WHERE seq = 2", True),  # spacing
        ("UPDATE decisions SET facts = facts || ' ' WHERE seq = 2", True),  # a trailing space
        ("""UPDATE decisions SET facts = '{"tenure":"2d","tier":"basic"}' WHERE seq = 2""", True),  # keys reordered
        ("""UPDATE decisions SET facts = replace(facts, '"2d"', '"\\u0032d"') WHERE seq = 2""", True),  # an escape
        ("""UPDATE decisions SET fired = replace(fired, '"', '"') WHERE seq = 2""", False),  # the control
    ],
)
def test_text_that_parses_the_same_is_still_an_edit(tmp_path: Path, log_target: str, edit: str, changes: bool) -> None:
    record(log_target, tmp_path, 3)
    ((before,),) = rows(log_target, "SELECT facts || outputs || fired FROM decisions WHERE seq = 2")
    raw(log_target, edit)
    ((after,),) = rows(log_target, "SELECT facts || outputs || fired FROM decisions WHERE seq = 2")
    assert (after != before) == changes  # the edit did what it says
    assert json.loads(after[: after.index("}") + 1]) == json.loads(before[: before.index("}") + 1])
    assert kinds(verify(log_target)) == ([("edited", 2)] if changes else [])


def test_a_column_replaced_by_a_json_string_of_its_text_is_an_edit(tmp_path: Path, log_target: str) -> None:
    """The two ways of hashing cannot be played against each other: a record whose facts became a JSON
    string holding the facts' text would hash, parsed, exactly as the record hashed as stored, were it
    not for the `"format": 2` that only the second has."""
    record(log_target, tmp_path, 2)
    ((text,),) = rows(log_target, "SELECT facts FROM decisions WHERE seq = 1")
    raw(log_target, "UPDATE decisions SET facts = ? WHERE seq = 1", parameters=(json.dumps(text),))
    assert kinds(verify(log_target)) == [("edited", 1)]


def test_a_duplicate_key_or_spacing_in_a_stored_policy_is_an_edit(tmp_path: Path, log_target: str) -> None:
    """A stored policy is checked by compiling it, which reads the last of two equal keys; its text must
    also be exactly what policylang wrote, so that SQL reading the first cannot be shown another policy."""
    record(log_target, tmp_path, 1)
    ((text,),) = rows(log_target, "SELECT snapshot FROM policies")
    for edited in ('{"root":"elsewhere",' + text[1:], text.replace(",", ", ", 1)):
        raw(log_target, "UPDATE policies SET snapshot = ?", parameters=(edited,))
        assert json.loads(edited) == json.loads(text)
        problems = verify(log_target).problems
        assert [(p.kind, p.message.partition(") ")[2]) for p in problems] == [
            ("policy", "was edited: its stored text is not as policylang wrote it (a repeated key, spacing)")
        ]
    raw(log_target, "UPDATE policies SET snapshot = ?", parameters=(text,))
    assert verify(log_target).ok


def test_an_invalid_byte_in_place_of_the_replacement_character_is_an_edit(tmp_path: Path) -> None:
    """Readers show bytes that are not UTF-8 as U+FFFD; verify reads them as they are, so replacing a
    stored U+FFFD (EF BF BD) by the byte FF is not the same text to it."""
    path = str(tmp_path / "decisions.db")
    policy = support_policy(tmp_path)
    facts = {**BASIC, "note": "\ufffd"}
    with DecisionLog(path) as log:
        log.record(policy, facts, policy.decide({**BASIC}, as_of=AS_OF))
    raw(path, "UPDATE decisions SET facts = CAST(replace(CAST(facts AS BLOB), X'EFBFBD', X'FF') AS TEXT)")
    with DecisionLog(path, create=False) as log:
        assert log.list()[0].facts["note"] == "\ufffd"  # a reader cannot tell ...
        report = log.verify()  # ... verify can
    assert kinds(report) == [("edited", 1)]
    assert run_cli(["verify", "--log", path, "--format", "json"]).code == 1


def test_an_id_with_a_byte_that_is_not_utf8_is_reported_in_words(tmp_path: Path) -> None:
    """verify reads the byte as it is (a lone surrogate), and shows it as `?` in text and in JSON."""
    path = str(tmp_path / "decisions.db")
    record(path, tmp_path, 2)
    raw(path, "UPDATE decisions SET id = CAST(X'FF' || CAST(id AS BLOB) AS TEXT) WHERE seq = 1")
    report = verify(path)
    assert kinds(report)[0] == ("edited", 1)
    assert report.problems[0].id is not None and report.problems[0].id.startswith("?")
    assert report.problems[0].message.startswith("record 1 (id ?")
    for output in ("text", "json"):
        run = run_cli(["verify", "--log", path, "--format", output])
        assert run.code == 1 and "record 1 (id ?" in run.stdout


def test_a_log_marked_by_a_newer_policylang_meanwhile_takes_no_record(tmp_path: Path, log_target: str) -> None:
    policy = support_policy(tmp_path)
    with DecisionLog(log_target) as log:
        raw(log_target, "UPDATE meta SET value = '3' WHERE key = 'version'")
        with pytest.raises(LogError) as caught:
            log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
        assert "written by a newer policylang (log format version 3" in caught.value.message
        assert caught.value.hint == "upgrade policylang to write to this log"
    assert rows(log_target, "SELECT count(*) FROM decisions") == [(0,)]


def test_a_column_stored_as_a_blob_of_the_same_bytes_is_an_edit(tmp_path: Path) -> None:
    path = str(tmp_path / "decisions.db")
    record(path, tmp_path, 2)
    raw(path, "UPDATE decisions SET outputs = CAST(outputs AS BLOB) WHERE seq = 2")
    assert rows(path, "SELECT typeof(outputs) FROM decisions WHERE seq = 2") == [("blob",)]
    report = verify(path)
    assert kinds(report) == [("edited", 2)] and "cannot be read" in report.problems[0].message


def as_format_1(target: str) -> None:
    """Rewrite a log as policylang wrote it before format 2: each hash over the parsed JSON, version 1,
    no head checkpoint (what every log written until this change looks like)."""
    previous = "0" * 64
    fields = (
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
    )
    statements = []
    for row in rows(target, f"SELECT {', '.join(fields)} FROM decisions ORDER BY seq"):
        body = dict(zip(fields, row, strict=True))
        for name in ("facts", "outputs", "fired", "conflicts"):
            body[name] = None if body[name] is None else json.loads(body[name])
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        new = hashlib.sha256((previous + text).encode("utf-8")).hexdigest()
        statements.append((f"UPDATE decisions SET prev_hash = ?, hash = ? WHERE seq = {body['seq']}", (previous, new)))
        previous = new
    for statement, values in statements:
        raw(target, statement, parameters=values)
    raw(target, "UPDATE meta SET value = '1' WHERE key = 'version'", "DELETE FROM meta WHERE key = 'head'")


def test_a_log_of_format_1_still_verifies_and_takes_new_records(tmp_path: Path, log_target: str) -> None:
    record(log_target, tmp_path, 4)
    as_format_1(log_target)
    report = verify(log_target)
    assert report.ok and report.count == 4  # every record written the old way still verifies
    record(log_target, tmp_path, 2)  # a newer policylang appends: the log becomes format 2
    meta = dict(rows(log_target, "SELECT key, value FROM meta"))
    assert meta["version"] == "2" and meta["head"] == f"6:{verify(log_target).head}"
    report = verify(log_target)
    assert report.ok and report.count == 6
    # On an old record the text must still be exactly what policylang wrote: the duplicate key is found.
    raw(log_target, """UPDATE decisions SET facts = '{"tier":"key",' || substr(facts, 2) WHERE seq = 1""")
    raw(log_target, "UPDATE decisions SET outputs = replace(outputs, ',', ', ') WHERE seq = 3")
    assert kinds(verify(log_target)) == [("edited", 1), ("edited", 3)]


def changed_anywhere(row: dict[str, object]) -> list[dict[str, object]]:
    """The record's columns with one character (or the seq) changed, for every character of every column."""
    variants: list[dict[str, object]] = [{**row, "seq": int(row["seq"]) + 1}]  # type: ignore[call-overload]
    for name, value in row.items():
        if isinstance(value, str):
            for at, char in enumerate(value):
                variants.append({**row, name: value[:at] + ("y" if char == "x" else "x") + value[at + 1 :]})
    return variants


def test_a_change_to_any_character_of_any_stored_column_changes_the_hash(tmp_path: Path) -> None:
    """Exhaustively, on one record of each format: no single changed character keeps a hash that matches."""
    from policylang.decision_log.chain import FIELDS, hash_matches

    path = str(tmp_path / "decisions.db")
    record(path, tmp_path, 1)
    for written in ("format 2", "format 1"):
        if written == "format 1":
            as_format_1(path)
        ((*values, prev_hash, stored_hash),) = rows(path, f"SELECT {', '.join(FIELDS)}, prev_hash, hash FROM decisions")
        row = dict(zip(FIELDS, values, strict=True))
        assert hash_matches(prev_hash, row, stored_hash)
        variants = changed_anywhere(row)
        assert len(variants) > 300
        for variant in variants:
            with suppress(ValueError):  # text that is no longer JSON: verify reports it edited too
                assert not hash_matches(prev_hash, variant, stored_hash), (written, variant)


# --- L2: a cut at the end -----------------------------------------------------------------------


def test_every_record_cut_off_is_found(tmp_path: Path, log_target: str) -> None:
    """The issue's reproduction: cutting records off the end, even all of them, passed verify."""
    record(log_target, tmp_path, 5)
    head = verify(log_target).head
    assert head is not None
    raw(log_target, "DELETE FROM decisions")
    report = verify(log_target)
    assert report.count == 0
    messages = [p.message for p in report.problems]
    assert [p.kind for p in report.problems] == ["truncated", "truncated"]
    assert messages[0].endswith(
        "is used by no record: it is stored with the first decision it makes, so the records it decided were removed"
    )
    assert messages[1] == (
        f"the log's head checkpoint is record 5 ({head[:12]}…), but the log ends at record 0: records 1 to 5 were "
        "removed from its end"
    )
    run = run_cli(["verify", "--log", log_target])
    assert run.code == 1 and "records 1 to 5 were removed from its end" in run.stdout


def test_a_cut_that_rewrote_the_checkpoint_is_found_by_the_policy_it_orphaned(tmp_path: Path, log_target: str) -> None:
    record(log_target, tmp_path, 3)
    record(log_target, tmp_path, 2, SUPPORT_V2)  # records 4 and 5, by the policy's next version
    ((new_version,),) = rows(log_target, "SELECT policy_hash FROM decisions WHERE seq = 5")
    ((head,),) = rows(log_target, "SELECT hash FROM decisions WHERE seq = 3")
    raw(log_target, "DELETE FROM decisions WHERE seq > 3")
    raw(log_target, "UPDATE meta SET value = ? WHERE key = 'head'", parameters=(f"3:{head}",))
    report = verify(log_target)
    assert [(p.kind, p.policy) for p in report.problems] == [("truncated", new_version)]
    assert "support" in report.problems[0].message and "is used by no record" in report.problems[0].message


def test_a_removed_or_edited_checkpoint_is_reported(tmp_path: Path, log_target: str) -> None:
    record(log_target, tmp_path, 2)
    raw(log_target, "UPDATE meta SET value = 'nonsense' WHERE key = 'head'")
    assert [p.message for p in verify(log_target).problems] == [
        "the log's head checkpoint `nonsense` was edited: it is not `SEQ:HASH`"
    ]
    raw(log_target, "DELETE FROM meta WHERE key = 'head'")
    assert [p.message for p in verify(log_target).problems] == [
        "the log's head checkpoint is missing: it was deleted, so records may have been cut off its end"
    ]


def test_an_anchor_kept_elsewhere_finds_a_cut_that_left_nothing_behind(tmp_path: Path, log_target: str) -> None:
    """`policy log anchor` prints the head; verify --anchor FILE (or --expect-head SEQ:HASH) checks it,
    also when whoever cut the records rewrote the checkpoint and used no policy version of their own."""
    record(log_target, tmp_path, 4)
    run = run_cli(["anchor", "--log", log_target])
    assert run.code == 0
    anchor = run.stdout.strip()
    with DecisionLog(log_target, create=False) as log:
        assert anchor == str(log.anchor()) == f"4:{log.head()[1]}"  # type: ignore[index]
    assert "record 4, recorded 20" in run.stderr and f"--expect-head {anchor}" in run.stderr
    text_file, json_file = tmp_path / "head.txt", tmp_path / "head.json"
    text_file.write_text(run.stdout, encoding="utf-8")
    json_file.write_text(run_cli(["anchor", "--log", log_target, "--format", "json"]).stdout, encoding="utf-8")
    assert json.loads(json_file.read_text(encoding="utf-8"))["seq"] == 4
    for kept in (text_file, json_file):
        assert run_cli(["verify", "--log", log_target, "--anchor", str(kept)]).code == 0

    ((head,),) = rows(log_target, "SELECT hash FROM decisions WHERE seq = 3")
    raw(log_target, "DELETE FROM decisions WHERE seq = 4")
    raw(log_target, "UPDATE meta SET value = ? WHERE key = 'head'", parameters=(f"3:{head}",))
    assert verify(log_target).ok  # nothing in the log remembers record 4 ...
    for kept in (text_file, json_file):  # ... but the anchor does
        cut = run_cli(["verify", "--log", log_target, "--anchor", str(kept)])
        assert cut.code == 1
        assert "the head you kept is record 4 (" in cut.stdout
        assert "but the log ends at record 3: record 4 was removed from its end" in cut.stdout
    assert run_cli(["verify", "--log", log_target, "--expect-head", anchor]).code == 1
    assert run_cli(["verify", "--log", log_target, "--expect-head", anchor.partition(":")[2]]).code == 1


def test_anchors_of_an_empty_log_and_bad_anchors(tmp_path: Path) -> None:
    path = str(tmp_path / "decisions.db")
    DecisionLog(path).close()
    run = run_cli(["anchor", "--log", path])
    assert run.code == 0 and run.stdout.strip() == "0:" + "0" * 64 and "the log is empty" in run.stderr
    assert run_cli(["verify", "--log", path, "--expect-head", run.stdout.strip()]).code == 0
    record(path, tmp_path, 1)
    assert run_cli(["verify", "--log", path, "--expect-head", run.stdout.strip()]).code == 0
    saved = tmp_path / "saved.txt"  # as an editor on Windows saves it: a byte order mark, CRLF
    saved.write_bytes(b"\xef\xbb\xbf" + run_cli(["anchor", "--log", path]).stdout.strip().encode() + b"\r\n")
    assert run_cli(["verify", "--log", path, "--anchor", str(saved)]).code == 0
    (tmp_path / "two.txt").write_text("1:ab\n2:cd\n", encoding="utf-8")
    two = run_cli(["verify", "--log", path, "--anchor", str(tmp_path / "two.txt")])
    assert two.code == 2 and "holds 2 lines" in two.stderr
    missing = run_cli(["verify", "--log", path, "--anchor", str(tmp_path / "none.txt")])
    assert missing.code == 2 and "cannot read the anchor file" in missing.stderr
    both = run_cli(["verify", "--log", path, "--anchor", str(tmp_path / "two.txt"), "--expect-head", "1:ab"])
    assert both.code == 2 and "not both" in both.stderr
    bad = run_cli(["verify", "--log", path, "--expect-head", "1:xyz"])
    assert bad.code == 2 and "`1:xyz` is not a head hash" in bad.stderr
    with pytest.raises(LogError, match="is not a head hash"):
        verify(path, expect_head="-1:" + "a" * 64)


def test_a_kept_head_whose_record_was_rewritten(tmp_path: Path, log_target: str) -> None:
    record(log_target, tmp_path, 3)
    kept = verify(log_target).anchor
    raw(log_target, "UPDATE decisions SET hash = ? WHERE seq = 2", parameters=("ab" * 32,))
    report = verify(
        log_target,
        expect_head=Anchor(seq=2, hash=rows(log_target, "SELECT prev_hash FROM decisions WHERE seq = 3")[0][0]),
    )
    assert ("truncated", None) in kinds(report)
    assert any(p.message.endswith("which is not in the log: it was rewritten") for p in report.problems)
    assert verify(log_target, expect_head=kept).problems == report.problems[:-1]


# --- L3: writers refuse a damaged file ------------------------------------------------------------


def damage_a_page(path: Path, offset: int, damage: bytes) -> None:
    """Overwrite bytes of the b-tree header of a page of the decisions table (a leaf page amid the others):
    the last record, which an append reads, still reads."""
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    pages = [n for n in range(len(data) // size - 1, 1, -1) if data[n * size] == 0x0D]
    assert len(pages) > 10
    at = pages[len(pages) // 2] * size + offset
    data[at : at + len(damage)] = damage
    path.write_bytes(bytes(data))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT seq FROM decisions ORDER BY seq DESC LIMIT 1").fetchone() == (300,)
    connection.close()


@pytest.mark.parametrize(
    ("offset", "damage", "said"),
    [
        (1, b"\x00\x20", "free space corruption"),  # the first freeblock: quick_check lists the damage
        (0, b"\xff" * 12, "database disk image is malformed"),  # the page type: quick_check itself stops
    ],
)
def test_appending_to_a_damaged_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], offset: int, damage: bytes, said: str
) -> None:
    """The issue's reproduction: writers kept appending to a log that SQLite's integrity check rejects."""
    path = tmp_path / "decisions.db"
    record(str(path), tmp_path, 300)
    assert not Path(f"{path}-wal").exists()
    damage_a_page(path, offset, damage)
    before = path.read_bytes()
    policy = support_policy(tmp_path)
    with DecisionLog(path) as log:
        for _ in range(2):  # refused again, not only the first time
            with pytest.raises(LogError) as caught:
                log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
            assert "the file is damaged" in caught.value.message and said in caught.value.message
            assert "no decision is appended to a damaged log" in caught.value.message
            assert caught.value.hint is not None and "restore the log from a backup" in caught.value.hint
    assert path.read_bytes() == before
    listed = run_cli(["list", "--log", str(path)])  # reading what can be read: records, or a clear error
    assert (listed.code == 2 and "the file is damaged" in listed.stderr) or listed.stdout.count("\n") == 300
    verified = run_cli(["verify", "--log", str(path)])
    assert verified.code == 2 and "the file is damaged" in verified.stderr
    evaluated = tmp_path / "facts.yaml"
    evaluated.write_text("tier: premium\ntenure: 3y\n", encoding="utf-8")
    from policylang.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["eval", str(tmp_path / "support.policy"), "--input", str(evaluated), "--log", str(path)])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "the file is damaged" in error and "internal-error" not in error and "Traceback" not in error
    assert path.read_bytes() == before


def test_a_sound_file_is_checked_once_per_handle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import policylang.decision_log.sqlite as module

    seen: list[str] = []
    original = module.SQLiteStorage._check_integrity

    def counted(self: module.SQLiteStorage, connection: sqlite3.Connection, pragma: str, **options: bool) -> None:
        seen.append(pragma)
        original(self, connection, pragma, **options)

    monkeypatch.setattr(module.SQLiteStorage, "_check_integrity", counted)
    policy = support_policy(tmp_path)
    with DecisionLog(tmp_path / "decisions.db") as log:
        for _ in range(3):
            log.record(policy, PREMIUM, policy.decide(PREMIUM, as_of=AS_OF))
    assert seen == ["PRAGMA quick_check(10)"]


def test_a_deleted_checkpoint_is_reported_even_with_the_version_set_back(tmp_path: Path, log_target: str) -> None:
    # found by review: with `meta.version` set back to 1, a log without a checkpoint looked like one
    # that never had one, so a tail cut that also deleted the checkpoint passed verify
    record(log_target, tmp_path, 3)
    raw(
        log_target,
        "DELETE FROM decisions WHERE seq = 3",
        "DELETE FROM meta WHERE key = 'head'",
        "UPDATE meta SET value = '1' WHERE key = 'version'",
    )
    assert [p.message for p in verify(log_target).problems] == [
        "the log's head checkpoint is missing: it was deleted, so records may have been cut off its end"
    ]


def test_a_kept_head_with_the_wrong_record_number_is_reported(tmp_path: Path, log_target: str) -> None:
    record(log_target, tmp_path, 3)
    head = verify(log_target).head
    assert verify(log_target, expect_head=f"3:{head}").ok
    (problem,) = verify(log_target, expect_head=f"999:{head}").problems
    assert problem.message.endswith("but that hash is record 3's: the head is mistyped")
