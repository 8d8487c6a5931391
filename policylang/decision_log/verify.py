"""`verify`'s checks over one consistent view of the log: seqs contiguous from 1, every record's hash and
link to the one before, ids increasing, every stored policy's texts against its hash and use by a record,
and the heads that must still be in the chain: the checkpoint the log keeps and an anchor kept elsewhere."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.json_codec import column
from ..engine.loading import PolicyError, compile_snapshot
from .chain import FIELDS, GENESIS, SELECT, chain_hash, hash_matches
from .errors import ErrorFactory, printable
from .records import Anchor, Problem, ProblemKind, VerifyReport
from .schema import HEAD_KEPT, HEAD_KEY

if TYPE_CHECKING:  # a Protocol, for annotations only
    from .storage import Session


@dataclass
class _Row:
    """What verify keeps of the previous record."""

    seq: int
    id: str
    hash: str
    moved: bool  # found out of order: the next record's link is not checked against it


_ANCHOR = re.compile(r"(?:(\d{1,18}):)?([0-9a-f]{64})")


def parse_anchor(text: str | Anchor | None, error: ErrorFactory) -> Anchor | None:
    """A kept head as verify compares it: `SEQ:HASH` as `policy log anchor` prints it, or a bare head
    hash (lowercase, trimmed); other text is a LogError."""
    if text is None or isinstance(text, Anchor):
        return text
    shown = printable(text.strip(), 80)
    found = _ANCHOR.fullmatch(text.strip().lower())
    if found is None:
        raise error(
            f"`{shown}` is not a head hash, nor a head as `policy log anchor` prints it (`SEQ:HASH`)",
            "a head hash is 64 hex digits; copy the line `policy log anchor` printed",
        )
    return Anchor(seq=None if found[1] is None else int(found[1]), hash=found[2])


def verify_records(session: Session, name: str, expect_head: Anchor | None) -> VerifyReport:
    """Every check but the database's own, in the caller's session (one consistent view)."""
    problems: list[Problem] = []
    previous: _Row | None = None
    count = 0
    used: set[str] = set()
    with closing(session.stream(f"{SELECT} ORDER BY seq")) as rows:
        for row in rows:
            count += 1
            found = _check_record(session, row, previous)
            problems += found
            used.add(str(row[5]))
            moved = any(p.kind == "out-of-order" and p.seq == row[0] for p in found)
            previous = _Row(int(row[0]), str(row[1]), str(row[11]), moved)
    problems += _check_policies(session, used)
    policies = int(session.execute("SELECT count(*) FROM policies").fetchone()[0])
    last_seq = previous.seq if previous else 0
    problems += _check_checkpoint(session, last_seq, count)
    if expect_head is not None:
        problems += _check_head(session, expect_head, last_seq, "the head you kept")
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


def _check_checkpoint(session: Session, last_seq: int, count: int) -> list[Problem]:
    """The head the log keeps in `meta`, rewritten with every append since format 2: a record cut off the
    end is found unless whoever cut it rewrote the checkpoint too (what an anchor kept elsewhere catches)."""
    meta = {str(key): value for key, value in session.execute("SELECT key, value FROM meta").fetchall()}
    kept = meta.get(HEAD_KEY)
    if kept is None:
        version = str(meta.get("version", ""))
        if count and ((version.isdigit() and int(version) >= HEAD_KEPT) or _hashed_as_stored(session, last_seq)):
            message = "the log's head checkpoint is missing: it was deleted, so records may have been cut off its end"
            return [Problem(kind="truncated", message=message)]
        return []  # a log no policylang of format 2 or later has appended to yet
    found = _ANCHOR.fullmatch(str(kept))
    if found is None or found[1] is None:
        message = f"the log's head checkpoint `{printable(str(kept), 80)}` was edited: it is not `SEQ:HASH`"
        return [Problem(kind="truncated", message=message)]
    checkpoint = Anchor(seq=int(found[1]), hash=found[2])
    return _check_head(session, checkpoint, last_seq, "the log's head checkpoint", at_its_seq=False)


def _hashed_as_stored(session: Session, last_seq: int) -> bool:
    """Whether the last record was hashed the way format 2 hashes (so a policylang that keeps the head
    checkpoint wrote it), whatever `meta` says the version is: setting the version back must not make
    a deleted checkpoint look like a log that never had one."""
    row = session.execute(f"{SELECT} WHERE seq = ?", (last_seq,)).fetchone()
    if row is None:
        return False
    try:
        return bool(chain_hash(row[-2], dict(zip(FIELDS, row[:-2], strict=True))) == row[-1])
    except (TypeError, ValueError):
        return False


def _check_head(session: Session, head: Anchor, last_seq: int, whose: str, at_its_seq: bool = True) -> list[Problem]:
    """A head must still be a record of the chain, and a kept anchor at the place it names, so that a
    mistyped number is not passed over. The checkpoint is not held to its number: records renumbered
    after a deletion move it, and the chain reports them already."""
    short = f"{head.hash[:12]}…"
    found = session.execute("SELECT seq FROM decisions WHERE hash = ?", (head.hash,)).fetchone()
    if head.hash == GENESIS or (found is not None and (not at_its_seq or head.seq in (None, found[0]))):
        return []
    if found is not None:
        message = f"{whose} is record {head.seq} ({short}), but that hash is record {found[0]}'s: the head is mistyped"
        return [Problem(kind="truncated", message=message)]
    if head.seq is None:
        message = f"{whose} ({short}) is not in the log: records were removed from its end, or it was rewritten"
    elif head.seq > last_seq:
        cut = f"record {head.seq} was" if head.seq == last_seq + 1 else f"records {last_seq + 1} to {head.seq} were"
        message = (
            f"{whose} is record {head.seq} ({short}), but the log ends at record {last_seq}: {cut} removed from its end"
        )
    else:
        message = f"{whose} is record {head.seq} ({short}), which is not in the log: it was rewritten"
    return [Problem(kind="truncated", message=message)]


def _check_record(session: Session, row: Sequence[Any], previous: _Row | None) -> list[Problem]:
    seq, record_id, prev_hash, stored = row[0], row[1], row[10], row[11]
    label = f"record {seq} (id {printable(str(record_id), 80)})"

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
        matches = hash_matches(prev_hash, body, stored)
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
        if hash_matches(prev_hash, {**body, "seq": seq}, stored):
            return int(seq)
    return None


def _check_policies(session: Session, used: set[str]) -> list[Problem]:
    found = []
    for policy_hash, name, text in session.execute("SELECT hash, name, snapshot FROM policies").fetchall():
        label = f"the stored policy {printable(str(name), 80)} ({printable(str(policy_hash)[:12])})"
        if str(policy_hash) not in used:  # stored in the transaction of the first record it decided
            message = (
                f"{label} is used by no record: it is stored with the first decision it makes, so the records "
                "it decided were removed"
            )
            found.append(Problem(kind="truncated", message=message, policy=policy_hash))
        try:
            snapshot = json.loads(text)
            compiled = compile_snapshot(snapshot, unknown_facts="ignore")
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
        elif column(snapshot) != text:  # what SQL's JSON functions read differs from what policylang reads
            message = f"{label} was edited: its stored text is not as policylang wrote it (a repeated key, spacing)"
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
