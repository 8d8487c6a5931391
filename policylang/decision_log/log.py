"""DecisionLog: record decisions with their facts and policy version, read them back, `verify` the
hash chain and `replay` any record, the same on every storage (a SQLite file, a PostgreSQL database)."""

from __future__ import annotations

import builtins
import dataclasses
import json
from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.json_codec import column
from .backends import open_storage
from .chain import COLUMNS, FIELDS, GENESIS, IDS, JSON_COLUMNS, SELECT, chain_hash, timestamp
from .encoding import encode_facts, facts_column
from .errors import LogError
from .filters import moment, where_matcher
from .records import Anchor, LoggedDecision, Records, Replay, Unreadable, VerifyReport
from .replay import replay
from .schema import upgrade_format, write_head
from .verify import check_one, parse_anchor, verify_records

if TYPE_CHECKING:  # the evaluator (networkx, 0.3 s) is imported when a decision is replayed, not to list
    from ..engine.evaluator import Decision, Policy


class DecisionLog:
    """A decision log, safe for many threads and processes: in a SQLite file (WAL, every commit synced)
    given its path, or in PostgreSQL given a `postgresql://user:password@host:port/database` URL, where
    writers on many machines append to one chain. `create=False` (for commands that only read) refuses
    a log that does not exist yet instead of starting one.

    >>> with DecisionLog("decisions.db") as log:  # doctest: +SKIP
    ...     decision_id = log.record(policy, facts, policy.decide(facts))
    """

    def __init__(self, target: str | Path, *, create: bool = True) -> None:
        self._storage = open_storage(target, create)
        self.path = self._storage.path
        """The SQLite file; None for a PostgreSQL log."""
        self.name = self._storage.name
        """How messages name the log: its path, or its URL without the password."""
        self._stored_policies: set[str] = set()
        self._format_current = False  # set once an append found the log of this format (or made it so)

    def __repr__(self) -> str:
        return f"DecisionLog({self.name!r})"

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every thread's connection; the log cannot be used afterwards."""
        self._storage.close()

    def _error(self, message: str, hint: str | None = None) -> LogError:
        return LogError(message, hint, self.name)

    # --- writing ---

    def record(self, policy: Policy, facts: Mapping[str, Any], decision: Decision) -> str:
        """Store one decision (and its policy's texts, once per version); returns its id once committed
        to disk. Raises LogError, for example for a fact value the log cannot record."""
        if decision.policy_hash != policy.content_hash:
            raise self._error(
                "the decision was made by another policy (or another version of it)",
                "record a decision together with the policy that made it",
            )
        shape = decision.to_dict()
        try:
            given = encode_facts(facts)
            columns = {name: column(shape.get(name)) for name in ("outputs", "fired", "conflicts")}
            columns["facts"] = facts_column(given)
        except LogError as exc:
            raise self._error(exc.message, exc.hint) from None
        except (ValueError, RecursionError) as exc:  # an output JSON cannot hold (an infinite number)
            raise self._error(
                f"the decision cannot be recorded: {exc}", "its outputs must be values JSON can hold"
            ) from None
        known = policy.content_hash in self._stored_policies
        snapshot = None if known else column(policy.snapshot())
        with self._storage.appending("record the decision") as session:
            if not self._format_current:
                upgrade_format(session, self._error)
            last = session.execute("SELECT seq, id, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
            now = datetime.now(UTC)
            try:
                decision_id = IDS.next(int(now.timestamp() * 1000), last[1] if last else None)
            except ValueError:
                raise self._error(
                    f"the last record's id `{last[1]}` is not an id: the log was edited",
                    "run `policy log verify`",
                ) from None
            body = {
                "seq": last[0] + 1 if last else 1,
                "id": decision_id,
                "recorded_at": timestamp(now),
                "as_of": shape["as_of"],
                "policy_name": decision.policy_name,
                "policy_hash": decision.policy_hash,
                "facts": given,
                "outputs": shape["outputs"],
                "fired": shape["fired"],
                "conflicts": shape.get("conflicts"),
            }
            prev_hash = last[2] if last else GENESIS
            if snapshot is not None:
                session.execute(
                    "INSERT INTO policies VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (policy.content_hash, policy.name, snapshot, body["recorded_at"]),
                )
            stored = {name: columns[name] if name in columns else body[name] for name in FIELDS}
            record_hash = chain_hash(prev_hash, stored)  # what is stored is what is hashed
            session.execute(
                f"INSERT INTO decisions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [*stored.values(), prev_hash, record_hash],
            )
            write_head(session, body["seq"], record_hash)
        self._format_current = True
        self._stored_policies.add(policy.content_hash)
        return decision_id

    # --- reading ---

    def _decoded(self, row: Sequence[Any]) -> LoggedDecision:
        data = dict(zip(COLUMNS, row, strict=True))
        try:
            for name in JSON_COLUMNS:
                data[name] = None if data[name] is None else json.loads(data[name])
            return LoggedDecision.model_validate(data)
        except (ValueError, TypeError, RecursionError) as exc:  # pydantic's ValidationError is a ValueError
            raise self._error(
                f"record {data['seq']} (id {data['id']}) cannot be read: {str(exc).splitlines()[0]}",
                "the log was edited or damaged; `policy log verify` says more",
            ) from None

    def get(self, decision_id: str) -> LoggedDecision:
        """The record with this id (or the only one whose id starts with it). Raises LogError if none."""
        wanted = decision_id.strip().lower()
        with self._storage.reading("read the log") as session:
            rows = session.execute(f"{SELECT} WHERE id = ?", (wanted,)).fetchall()
            if not rows and len(wanted) >= 4:
                query = f"{SELECT} WHERE substr(id, 1, ?) = ? ORDER BY seq LIMIT 2"
                rows = session.execute(query, (len(wanted), wanted)).fetchall()
        if len(rows) > 1:
            raise self._error(f"more than one decision's id starts with `{decision_id}`", "give more of the id")
        if not rows:
            raise self._error(f"no decision `{decision_id}` in the log", "`policy log list` shows the recorded ids")
        return self._decoded(rows[0])

    def list(
        self,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        policy: str | None = None,
        where: Sequence[str] = (),
        limit: int | None = None,
    ) -> Records:
        """Records in log order, recorded in [since, until) (a time, a date, or a duration such as `24h`
        meaning that long ago), of a policy (its name, or a prefix of its hash), whose outputs match
        every `where` (`sla=4h`: the output equals the value as the language writes it; a set output
        contains it), at most `limit` of them. A record that cannot be decoded does not hide the
        others: it is left out and listed in the result's `unreadable` (number, id, why)."""
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if since is not None:
            clauses.append("recorded_at >= ?")
            params.append(moment(since, "since", self._error))
        if until is not None:
            clauses.append("recorded_at < ?")
            params.append(moment(until, "until", self._error))
        if policy:
            clauses.append("(policy_name = ? OR substr(policy_hash, 1, ?) = ?)")
            params += [policy, len(policy), policy.lower()]
        if limit is not None and limit < 0:
            raise self._error(f"the limit must be 0 or more, not {limit}", "leave it out for every record")
        matches = where_matcher(where, self._error)
        sql = SELECT + (f" WHERE {' AND '.join(clauses)}" if clauses else "") + " ORDER BY seq"
        found = Records()
        unreadable: builtins.list[Unreadable] = []
        with self._storage.reading("read the log") as session, closing(session.stream(sql, params)) as rows:
            for row in rows:
                if limit is not None and len(found) >= limit:
                    break
                try:
                    record = self._decoded(row)
                except LogError as exc:
                    seq = row[0] if isinstance(row[0], int) else str(row[0])  # an edited seq may be any text
                    unreadable.append(Unreadable(seq=seq, id=str(row[1]), message=exc.message))
                    continue
                if matches(record.outputs):
                    found.append(record)
        found.unreadable = tuple(unreadable)
        return found

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last record, None for an empty log. An auditor who keeps the hash can later
        prove with `verify(expect_head=...)` that no record was cut off the end."""
        with self._storage.reading("read the log") as session:
            row = session.execute("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def anchor(self) -> Anchor:
        """The head to keep outside the log (`str()` of it is `SEQ:HASH`): `verify(expect_head=anchor)`
        later fails if a record it covers was cut off the end or rewritten. An empty log's is seq 0."""
        with self._storage.reading("read the log") as session:
            row = session.execute("SELECT seq, hash, recorded_at FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return Anchor(seq=0, hash=GENESIS)
        try:
            return Anchor(seq=int(row[0]), hash=str(row[1]), recorded_at=row[2])
        except ValueError:  # pydantic's ValidationError: a recording time that is not one
            return Anchor(seq=int(row[0]), hash=str(row[1]))

    def policy_snapshot(self, policy_hash: str) -> dict[str, Any]:
        """The stored texts of a policy version (`policylang.compile_snapshot` compiles them)."""
        with self._storage.reading("read the log") as session:
            row = session.execute("SELECT snapshot FROM policies WHERE hash = ?", (policy_hash,)).fetchone()
        if row is None:
            raise self._error(f"no stored policy with hash {policy_hash[:12]}", "run `policy log verify`")
        try:
            snapshot = json.loads(row[0])
            if not isinstance(snapshot, dict):
                raise TypeError("not an object")
        except (ValueError, TypeError, RecursionError) as exc:
            raise self._error(
                f"the stored policy {policy_hash[:12]} cannot be read ({exc})", "run `policy log verify`"
            ) from None
        return snapshot

    # --- checking ---

    def verify(self, expect_head: str | Anchor | None = None) -> VerifyReport:
        """Check the whole log in one consistent view while writers go on: the database's own integrity
        check (SQLite's), seqs contiguous from 1, every record's hash (over its stored text) and link to
        the one before, every stored policy's hash and use by a record, that the chain still reaches the
        head checkpoint the log keeps, and (given a head kept from an earlier `anchor` or verify, as
        `SEQ:HASH` or a bare hash) that it is still in the chain. A damaged file raises LogError; what
        was changed is listed."""
        anchor = parse_anchor(expect_head, self._error)
        with self._storage.checking("verify the log") as session:
            return verify_records(session, self.name, anchor)

    def replay(self, decision_id: str) -> Replay:
        """Decide a record again with its stored policy version, facts and `as_of`, and compare. Raises
        LogError when the stored policy no longer compiles or the facts no longer validate."""
        record = self.get(decision_id)
        replayed = replay(record, self.policy_snapshot(record.policy_hash), self._error)
        with self._storage.reading("read the log") as session:
            problems = check_one(session, record.seq)
        if not problems:
            return replayed
        # A record that was edited is not evidence, even when its edit is consistent with a replay.
        said = [f"the record itself: {problem.message}" for problem in problems]
        return dataclasses.replace(replayed, differences=[*said, *replayed.differences])
