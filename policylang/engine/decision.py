"""Decision: the outcome of one decide(), immutable, with its costly parts built on first read.

Kept apart from evaluator.py (the Policy that makes decisions) so each reads in one sitting. The hot
path in evaluator.py builds a Decision through its slots' setters (`_set_outputs`, `_set_made`, ...),
defined here beside the slots they write.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from ..core.diagnostics import internal_error
from ..core.errors import PolicylangError, UsageError
from ..core.json_codec import to_json_value
from ..core.resolution import Resolved
from ..core.values import format_datetime
from ..semantics.typed_tree import CheckedPolicy
from .answers import Trace, WhyNot
from .compiler import DecisionGraph
from .extensions import installed
from .runtime import InternalError


class DecidingPolicy(Protocol):
    """What a decision asks of the policy that made it (evaluator.Policy, which imports this module:
    naming it here would make the two import each other)."""

    @property
    def checked(self) -> CheckedPolicy: ...

    @property
    def decision_graph(self) -> DecisionGraph: ...

    def trace(self, decision: Decision, outputs: Iterable[str] | None = None, *, detail: str = "full") -> Trace: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Record = tuple[list[int], tuple[list[tuple[int, Any]], ...], dict[str, Any], list[int] | None]
"""What the full decision function returns: the fired rules' indexes, every output's proposals
(rule index, value), the outputs that have a value, the indexes of conflicted outputs or None."""
_Origin = tuple[
    str, str, DecisionGraph | None, Callable[[dict[str, Any], datetime], Record] | None, "DecidingPolicy | None"
]
"""(policy name, content hash, graph, full decision function, policy): what a decision keeps of its policy."""
_Method = TypeVar("_Method", bound=Callable[..., Any])


def _api_boundary(doing: str) -> Callable[[_Method], _Method]:
    """A public method that turns an exception policylang did not raise on purpose (a bug: a
    RecursionError, a TypeError, an encoding error...) into InternalError with an `internal-error`
    diagnostic, as decide() does, instead of letting it out raw. On purpose are exactly the
    PolicylangErrors (FactsError, WhyNotError, EvaluationError, a UsageError for a bad argument
    such as an output the policy does not have, ...)."""

    def wrap(method: _Method) -> _Method:
        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                if isinstance(exc, PolicylangError):
                    raise
                raise InternalError(internal_error(exc, doing)) from exc

        return guarded  # type: ignore[return-value]

    return wrap


class Decision:
    """The outcome of one `decide()`. Immutable.

    `outputs` holds every output that got a value (from rules or its default); an output with no
    value is absent, and one whose rules conflicted (with `on_conflict="mark"`) is listed in
    `conflicts` instead. `fired` lists the ids of the rules that matched, in rule order.
    `resolutions` says, per output, which rules won and which were overridden. `fired` and
    `resolutions` are built on first use from what the decision recorded (the matching rules and
    every output's proposals), since most callers on a hot path read only `outputs`.
    """

    __slots__ = ("_conflicts", "_fired", "_id", "_made", "_record", "_resolutions", "outputs")
    outputs: dict[str, Any]
    _made: tuple[datetime | int, dict[str, Any], _Origin]
    """(as_of, facts, origin), one field because the hot path sets each field through a call.

    as_of: the moment `now` meant, or, for a decision that read the clock and did not need it, the
    clock's reading in nanoseconds (`_clock`), made a datetime on the first read of `as_of`.
    facts: as validated. origin: (policy name, content hash, graph, full decision function, policy),
    shared by every decision of one policy; all but the first two are None after unpickling."""
    _id: str
    _record: Record
    _conflicts: dict[str, tuple[tuple[str, Any], ...]]
    _fired: tuple[str, ...]
    _resolutions: dict[str, Resolved]

    def __init__(
        self,
        outputs: dict[str, Any],
        fired: tuple[str, ...],
        as_of: datetime,
        policy_name: str,
        policy_hash: str,
        resolutions: dict[str, Resolved],
        facts: dict[str, Any],
        conflicts: dict[str, tuple[tuple[str, Any], ...]] | None = None,
    ) -> None:
        for name, value in (
            ("outputs", outputs),
            ("_made", (as_of, dict(facts), (policy_name, policy_hash, None, None, None))),
            ("_fired", tuple(fired)),
            ("_resolutions", resolutions),
            ("_conflicts", conflicts or {}),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Decision is immutable; cannot set `{name}`")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Decision is immutable; cannot delete `{name}`")

    @property
    def as_of(self) -> datetime:
        """The time `now` meant for this decision: `as_of` as given, or the clock when it was made."""
        moment, facts, origin = self._made
        if isinstance(moment, int):
            moment = _moment_of(moment)
            _set_made(self, (moment, facts, origin))
        return moment

    @property
    def facts(self) -> Mapping[str, Any]:
        """The facts as the policy saw them (validated, defaults filled), read-only: `fired` and
        `resolutions` may be built from them later, so they must stay as they were."""
        return MappingProxyType(self._made[1])

    @property
    def policy_name(self) -> str:
        return self._made[2][0]

    @property
    def policy_hash(self) -> str:
        """The content hash of the policy that decided (`Policy.content_hash`)."""
        return self._made[2][1]

    @property
    def id(self) -> str | None:
        """The decision's id in the decision log it was recorded in; None when it was not logged."""
        return getattr(self, "_id", None)

    @property
    def policy(self) -> DecidingPolicy:
        """The policy that made the decision (not kept by a pickled copy)."""
        policy = self._made[2][4]
        if policy is None:
            raise UsageError(
                "this decision no longer holds its policy (it was copied or unpickled); "
                "use policy.trace(decision) with the policy that made it"
            )
        return policy

    def trace(self, outputs: Iterable[str] | None = None, *, detail: str = "full") -> Trace:
        """What the decision did, as data (`Policy.trace`; `detail`: "full", "summary" or "auto")."""
        return self.policy.trace(self, outputs, detail=detail)

    @_api_boundary("explaining")
    def explain(
        self,
        *,
        width: int | None = 100,
        why_not: str | Iterable[str] = (),
        outputs: Iterable[str] | None = None,
        detail: str = "auto",
    ) -> str:
        """The explanation `policy explain` prints, as plain text fitted to `width` columns:
        per output its value and where it came from, every rule that could set it and why it did
        or did not apply; with `why_not` ("sla=4h"), what would have to change for that value;
        with `outputs`, only those outputs (the others are not traced). `detail`: "full" shows
        every rule that can set each output; "summary" the rules that matched, the nearest misses
        and a count of the rest; "auto" (the default) a summary when more than 60 rules can set
        the outputs explained (docs/explaining.md)."""
        return installed().explain_text(self, width=width, why_not=_as_list(why_not), outputs=outputs, detail=detail)

    @_api_boundary("answering why-not")
    def why_not(self, wanted: str, value: Any = None) -> WhyNot:
        """Why an output did not get a value, and what could give it that value: every rule that
        can, each with the smallest change to the facts that makes the output take the value
        (verified by deciding again), or a statement that no rule ever can. `wanted` is
        "output=value" ("sla=4h", "skip_fraud_check" for true), or an output name with `value`."""
        return installed().why_not(self, wanted, value)

    @property
    def conflicts(self) -> dict[str, tuple[tuple[str, Any], ...]]:
        """Outputs whose matching rules disagreed (with `on_conflict="mark"`): output -> (rule, value) pairs."""
        return getattr(self, "_conflicts", None) or {}

    @property
    def fired(self) -> tuple[str, ...]:
        """The ids of the rules that matched, in rule order."""
        try:
            return self._fired
        except AttributeError:
            graph = self._made[2][2]
            assert graph is not None  # set whenever _fired is not
            ids = graph.rule_ids
            fired = tuple([ids[i] for i in sorted(self._recorded()[0])])
            object.__setattr__(self, "_fired", fired)
            return fired

    @property
    def resolutions(self) -> dict[str, Resolved]:
        """Per output: its status, value, winning rules and overridden rules."""
        try:
            return self._resolutions
        except AttributeError:
            graph = self._made[2][2]
            assert graph is not None  # set whenever _resolutions is not
            resolutions = {
                name: resolve(proposals)
                for name, resolve, proposals in zip(
                    graph.output_names, graph.resolvers, self._recorded()[1], strict=True
                )
            }
            object.__setattr__(self, "_resolutions", resolutions)
            return resolutions

    def _recorded(self) -> Record:
        """What the full decision function recorded; a decision made by the outputs-only function
        (first_hit.py) runs it now, on the same facts and time, which gives the same outputs."""
        try:
            return self._record
        except AttributeError:
            rerun = self._made[2][3]
            assert rerun is not None  # set whenever _record is not
            record = rerun(self._made[1], self.as_of)
            object.__setattr__(self, "_record", record)
            return record

    def _key(self) -> tuple[Any, ...]:
        return (self.outputs, self.fired, self.as_of, self.policy_name, self.policy_hash, self.conflicts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # holds dicts

    def __repr__(self) -> str:
        return (
            f"Decision(outputs={self.outputs!r}, fired={self.fired!r}, as_of={self.as_of!r}, "
            f"policy_name={self.policy_name!r}, policy_hash={self.policy_hash!r}, conflicts={self.conflicts!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Plain data only: the lazily built parts are built now, the compiled policy is left behind.
        return (
            Decision,
            (
                self.outputs,
                self.fired,
                self.as_of,
                self.policy_name,
                self.policy_hash,
                self.resolutions,
                self._made[1],
                self.conflicts,
            ),
        )

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    def __contains__(self, name: object) -> bool:
        return name in self.outputs

    def get(self, name: str, default: Any = None) -> Any:
        return self.outputs.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the design sketch: outputs (durations as literals, sets as sorted lists),
        fired, policy (name and content hash), as_of; plus conflicts when there are any, and first
        the decision's `id` when it was recorded in a decision log."""
        result: dict[str, Any] = {} if self.id is None else {"id": self.id}
        result |= {
            "outputs": {name: to_json_value(value) for name, value in self.outputs.items()},
            "fired": list(self.fired),
            "policy": {"name": self.policy_name, "hash": self.policy_hash},
            "as_of": _as_of_text(self.as_of),
        }
        conflicts = self.conflicts
        if conflicts:
            result["conflicts"] = {
                name: [{"rule": rule, "value": to_json_value(value)} for rule, value in items]
                for name, items in conflicts.items()
            }
        return result

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _as_list(items: str | Iterable[str]) -> list[str]:
    return [items] if isinstance(items, str) else list(items)


# The hot path builds a Decision through its slots' own setters, the same immutable object the
# constructor gives without a call through __init__ and __setattr__ per field; `fired`,
# `resolutions` and `conflicts` stay unset until first read.
_new_decision = object.__new__
_SLOTS: dict[str, Any] = dict(vars(Decision))
_set_outputs = _SLOTS["outputs"].__set__
_set_made = _SLOTS["_made"].__set__
_set_record = _SLOTS["_record"].__set__
_set_conflicts = _SLOTS["_conflicts"].__set__
_set_id = _SLOTS["_id"].__set__


_last_as_of: tuple[datetime | None, str] = (None, "")


def _as_of_text(moment: datetime) -> str:
    """`format_datetime(moment)`, kept for the last moment formatted: the decisions of a batch, or
    of `policy eval --input x.jsonl`, share one, and formatting it is a third of `to_dict`'s cost."""
    global _last_as_of
    last, text = _last_as_of  # one tuple, read and replaced whole: threads may share it
    if last is not moment:
        text = format_datetime(moment)
        _last_as_of = (moment, text)
    return text


def _moment_of(clock: int) -> datetime:
    """The moment a reading of `_clock` stands for, in whole microseconds as `datetime.now` gives."""
    return _EPOCH + timedelta(microseconds=clock // 1000)
