"""What the log gives back: a recorded decision, what `verify` found, and a replayed decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from .encoding import decode_value
from .errors import LogError

if TYPE_CHECKING:  # the evaluator (networkx, 0.3 s) is imported when a decision is replayed, not to list
    from ..evaluator import Decision, Policy


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
