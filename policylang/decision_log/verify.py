"""`verify`'s checks over one consistent view of the log: seqs contiguous from 1, every record's hash and
link to the one before, ids increasing, every stored policy's texts against its hash, and a kept head."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .chain import FIELDS, GENESIS, JSON_COLUMNS, SELECT, chain_hash
from .errors import ErrorFactory
from .records import Problem, ProblemKind, VerifyReport

if TYPE_CHECKING:  # a Protocol, for annotations only
    from .storage import Session


@dataclass
class _Row:
    """What verify keeps of the previous record."""

    seq: int
    id: str
    hash: str
    moved: bool  # found out of order: the next record's link is not checked against it


def head_hash(expect_head: str | None, error: ErrorFactory) -> str | None:
    """A kept head hash as verify compares it (lowercase, trimmed); other text is a LogError."""
    if expect_head is None:
        return None
    expect_head = expect_head.strip().lower()
    if len(expect_head) != 64 or any(c not in "0123456789abcdef" for c in expect_head):
        raise error(f"`{expect_head}` is not a head hash", "a head hash is 64 hex digits")
    return expect_head


def verify_records(session: Session, name: str, expect_head: str | None) -> VerifyReport:
    """Every check but the database's own, in the caller's session (one consistent view)."""
    problems: list[Problem] = []
    previous: _Row | None = None
    count = 0
    with closing(session.stream(f"{SELECT} ORDER BY seq")) as rows:
        for row in rows:
            count += 1
            found = _check_record(session, row, previous)
            problems += found
            moved = any(p.kind == "out-of-order" and p.seq == row[0] for p in found)
            previous = _Row(int(row[0]), str(row[1]), str(row[11]), moved)
    problems += _check_policies(session)
    policies = int(session.execute("SELECT count(*) FROM policies").fetchone()[0])
    if (
        expect_head is not None
        and session.execute("SELECT 1 FROM decisions WHERE hash = ?", (expect_head,)).fetchone() is None
    ):
        problems.append(
            Problem(
                kind="truncated",
                message=f"the head you kept ({expect_head[:12]}…) is not in the log: records were removed "
                "from its end, or it was rewritten",
            )
        )
    return VerifyReport(
        path=name,
        count=count,
        head_seq=previous.seq if previous else None,
        head=previous.hash if previous else None,
        policies=policies,
        problems=tuple(problems),
    )


def check_one(session: Session, seq: int) -> list[Problem]:
    """verify's checks of one record alone: its hash against its contents, its link to the record
    before it, and the next record's link to it (an edit whose hash was recomputed breaks that)."""
    rows = session.execute(f"{SELECT} WHERE seq BETWEEN ? AND ? ORDER BY seq", (seq - 1, seq + 1)).fetchall()
    by_seq = {int(row[0]): row for row in rows}
    if seq not in by_seq:
        return []
    before = by_seq.get(seq - 1)
    previous = _Row(seq - 1, str(before[1]), str(before[11]), False) if before is not None else None
    if previous is None and seq > 1:
        previous = _Row(seq - 1, "", str(by_seq[seq][10]), True)  # the record before is missing: verify says so
    found = _check_record(session, by_seq[seq], previous)
    after = by_seq.get(seq + 1)
    if after is not None and str(after[10]) != str(by_seq[seq][11]):
        found.append(
            Problem(
                kind="unlinked",
                message=f"record {seq + 1} does not link to record {seq}: record {seq} was rewritten after it "
                "was recorded",
                seq=seq,
                id=str(by_seq[seq][1]),
            )
        )
    return found


def _check_record(session: Session, row: Sequence[Any], previous: _Row | None) -> list[Problem]:
    seq, record_id, prev_hash, stored = row[0], row[1], row[10], row[11]
    label = f"record {seq} (id {record_id})"

    def problem(kind: ProblemKind, message: str, at: int = seq) -> Problem:
        return Problem(kind=kind, message=message, seq=at, id=str(record_id) if at == seq else None)

    found = []
    expected = previous.seq + 1 if previous else 1
    gap = seq != expected
    if gap and isinstance(seq, int) and seq > expected:
        which = f"record {expected} is" if seq == expected + 1 else f"records {expected} to {seq - 1} are"
        where = f"the chain jumps from {previous.seq} to {seq}" if previous else f"the chain starts at {seq}"
        found.append(problem("missing", f"{which} missing: {where}", expected))
    try:
        body = dict(zip(FIELDS, row[:-2], strict=True))
        for column in JSON_COLUMNS:
            body[column] = None if body[column] is None else json.loads(body[column])
        matches = chain_hash(prev_hash, body) == stored
    except (ValueError, TypeError, RecursionError):  # RecursionError: JSON nested past what json.loads reads
        return [*found, problem("edited", f"{label} was edited or damaged: it cannot be read")]
    if not matches:
        moved_from = _recorded_seq(session, body, prev_hash, stored)
        if moved_from is not None:
            found.append(problem("out-of-order", f"{label} is out of order: it was recorded as record {moved_from}"))
        else:
            found.append(problem("edited", f"{label} was edited: its hash does not match its contents"))
    elif previous is not None and previous.moved:
        pass  # its link is to where the moved record was: already reported
    elif not gap and prev_hash != (previous.hash if previous else GENESIS):
        before = f"record {seq - 1}" if previous else "the start of the log"
        found.append(
            problem(
                "unlinked",
                f"{label} does not link to {before}: its prev_hash is not that record's hash "
                "(a record was rewritten, replaced or inserted)",
            )
        )
    elif previous is not None and str(record_id) <= previous.id:
        found.append(problem("out-of-order", f"records {previous.seq} and {seq} are out of order by their ids"))
    return found


def _recorded_seq(session: Session, body: dict[str, Any], prev_hash: str, stored: str) -> int | None:
    """The seq a record was written with, if only its seq changed (a moved record)."""
    linked = session.execute("SELECT seq FROM decisions WHERE hash = ?", (prev_hash,)).fetchone()
    candidates = {body["seq"] - 1, body["seq"] + 1, (linked[0] if linked else 0) + 1}
    for seq in sorted(candidates - {body["seq"]}):
        if chain_hash(prev_hash, {**body, "seq": seq}) == stored:
            return int(seq)
    return None


def _check_policies(session: Session) -> list[Problem]:
    from ..facade import PolicyError, compile_snapshot

    found = []
    for policy_hash, name, text in session.execute("SELECT hash, name, snapshot FROM policies").fetchall():
        label = f"the stored policy {name} ({str(policy_hash)[:12]})"
        try:
            compiled = compile_snapshot(json.loads(text), unknown_facts="ignore")
        except PolicyError as exc:
            message = (
                f"{label} does not compile: it was edited, or this version of policylang refuses it ({exc.args[0]})"
            )
            found.append(Problem(kind="policy", message=message, policy=policy_hash))
            continue
        except (ValueError, TypeError, AttributeError, RecursionError):
            found.append(Problem(kind="policy", message=f"{label} was edited: it cannot be read", policy=policy_hash))
            continue
        if compiled.content_hash != policy_hash:
            message = f"{label} was edited: its texts do not match its hash"
            found.append(Problem(kind="policy", message=message, policy=policy_hash))
        elif compiled.name != name:
            message = f"{label} was edited: its texts name it `{compiled.name}`"
            found.append(Problem(kind="policy", message=message, policy=policy_hash))
    orphans = session.execute(
        "SELECT policy_hash, min(seq), count(*) FROM decisions WHERE policy_hash NOT IN "
        "(SELECT hash FROM policies) GROUP BY policy_hash ORDER BY min(seq)"
    ).fetchall()
    for policy_hash, seq, count in orphans:
        more = f" and {count - 1} more" if count > 1 else ""
        message = f"record {seq}{more} refer to policy {str(policy_hash)[:12]}, whose stored texts are missing"
        found.append(Problem(kind="policy", message=message, seq=seq, policy=policy_hash))
    return found
