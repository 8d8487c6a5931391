"""What the log gives back: a recorded decision, what `verify` found, a head to keep, and a replayed decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from ..core.json_codec import decode_value
from .errors import LogError

if TYPE_CHECKING:  # the evaluator (networkx, 0.3 s) is imported when a decision is replayed, not to list
    from ..engine.evaluator import Decision, Policy


class LoggedDecision(BaseModel):
    """One record of the log, JSON decoded; `facts` is the stored form (tagged JSON), `facts_given()`
    the facts as the caller gave them."""

    model_config = ConfigDict(frozen=True)

    seq: int
    id: str
    recorded_at: datetime
    as_of: datetime
    policy_name: str
    policy_hash: str
    facts: dict[str, Any]
    outputs: dict[str, Any]
    fired: tuple[str, ...]
    conflicts: dict[str, Any] | None
    prev_hash: str
    hash: str

    def facts_given(self) -> dict[str, Any]:
        """The facts as given to `record`: Decimals, dates, sets and tuples are themselves again.
        Raises LogError for stored facts this module did not write."""
        try:
            decoded: dict[str, Any] = decode_value(self.facts)
        except (ValueError, TypeError, LookupError, AttributeError, OverflowError, RecursionError) as exc:
            raise LogError(
                f"the facts of record {self.seq} (id {self.id}) cannot be decoded: {exc}",
                "the log was edited or damaged; `policy log verify` says more",
            ) from None
        return decoded


ProblemKind = Literal["missing", "edited", "out-of-order", "unlinked", "policy", "truncated"]


class Problem(BaseModel):
    """One thing `verify` found, in plain words, with the record or policy it concerns."""

    model_config = ConfigDict(frozen=True)

    kind: ProblemKind
    message: str
    seq: int | None = None
    id: str | None = None
    policy: str | None = None

    @field_validator("message", "id", "policy")
    @classmethod
    def _encodable(cls, text: str | None) -> str | None:
        """A damaged record's bytes, read for verify as they are stored, can hold lone surrogates, which no
        terminal or JSON output takes: they are shown as `?`."""
        return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


class Anchor(BaseModel):
    """A log's head, kept outside the log (a ticket, an email, a write-once store) so that `verify` can
    later prove that no record was cut off its end: the last record's seq (None for a bare head hash) and
    hash. `str(anchor)` is `SEQ:HASH`, what `verify --expect-head` takes; an empty log's is `0:` and 64 zeros."""

    model_config = ConfigDict(frozen=True)

    seq: int | None
    hash: str
    recorded_at: datetime | None = None

    def __str__(self) -> str:
        return self.hash if self.seq is None else f"{self.seq}:{self.hash}"


class VerifyReport(BaseModel):
    """What `verify` found: every problem, the number of records, and the head (last record's) hash."""

    model_config = ConfigDict(frozen=True)

    path: str
    count: int
    head_seq: int | None
    head: str | None
    policies: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def anchor(self) -> Anchor:
        """The head as `policy log anchor` prints it, to keep."""
        return Anchor(seq=self.head_seq or 0, hash=self.head or "0" * 64)


@dataclass(frozen=True)
class Replay:
    """A recorded decision made again with its stored policy, facts and time; `differences` is empty
    when the replay agrees with the record."""

    record: LoggedDecision
    policy: Policy
    decision: Decision
    differences: list[str]

    @property
    def reproduced(self) -> bool:
        return not self.differences


class Unreadable(BaseModel):
    """A record a reader could not decode: its number, its id and why, so that one damaged or hostile
    record is reported without hiding the records around it."""

    model_config = ConfigDict(frozen=True)

    seq: int | str  # as stored: an edited record's number may be any text
    id: str
    message: str


class Records(list[LoggedDecision]):
    """The records `list` found, in log order; `unreadable` the records it had to leave out (in
    range of the filters but impossible to decode), each with its number, id and why."""

    unreadable: tuple[Unreadable, ...] = ()
