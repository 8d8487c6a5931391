"""Policy and Decision: facts in, validated, run through the compiled decision graph, outputs resolved.

A Policy is immutable after construction and holds no per-decision state, so one instance may
serve many threads at once.
"""

from __future__ import annotations

import decimal
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .checked import CheckedPolicy
from .compiler import DecisionGraph, compile_policy, to_dot, to_json_graph
from .diagnostics import Diagnostic
from .facts import MISSING, FactProblem, FactsError, FactsValidator, convert_datetime
from .parser import collector_paused
from .resolution import Resolved
from .runtime import ConflictError, EvaluationError
from .values import Duration, format_datetime, format_decimal, format_duration

CONFLICT_MODES = ("raise", "mark")
ARITHMETIC = decimal.Context(prec=60, Emax=10_000, Emin=-10_000, traps=[decimal.Overflow, decimal.InvalidOperation])
"""Decisions compute in this context, never the caller's: 60 significant digits, overflow an error."""
_CHUNK = 256
"""decide_many decides this many fact sets at a time with the garbage collector paused."""


@dataclass(frozen=True)
class Decision:
    """The outcome of one `decide()`.

    `outputs` holds every output that got a value (from rules or its default); an output with no
    value is absent, and one whose rules conflicted (with `on_conflict="mark"`) is listed in
    `conflicts` instead. `fired` lists the ids of the rules that matched, in rule order.
    """

    outputs: dict[str, Any]
    fired: tuple[str, ...]
    as_of: datetime
    policy_name: str
    policy_hash: str
    resolutions: dict[str, Resolved] = field(repr=False)
    facts: dict[str, Any] = field(repr=False)
    conflicts: dict[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    def __contains__(self, name: object) -> bool:
        return name in self.outputs

    def get(self, name: str, default: Any = None) -> Any:
        return self.outputs.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the design sketch: outputs (durations as literals, sets as sorted lists),
        fired, policy (name and content hash), as_of; plus conflicts when there are any."""
        result: dict[str, Any] = {
            "outputs": {name: to_json_value(value) for name, value in self.outputs.items()},
            "fired": list(self.fired),
            "policy": {"name": self.policy_name, "hash": self.policy_hash},
            "as_of": format_datetime(self.as_of),
        }
        if self.conflicts:
            result["conflicts"] = {
                name: [{"rule": rule, "value": to_json_value(value)} for rule, value in items]
                for name, items in self.conflicts.items()
            }
        return result

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def to_json_value(value: Any) -> Any:
    """A runtime value in JSON: durations as normalised literals, sets as sorted lists, decimals as numbers."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        # A JSON number only where it is exact; otherwise the exact decimal as text, never a rounded float.
        if value == value.to_integral_value():
            return int(value) if abs(value) < 2**53 else format_decimal(value).removesuffix(".0")
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else format_decimal(value)
    if isinstance(value, Duration):
        return format_duration(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        # In the values' own order (durations by length, dates by time), not by their text.
        try:
            ordered = sorted(value)
        except TypeError:
            ordered = sorted(value, key=lambda v: (str(type(v)), str(v)))
        return [to_json_value(v) for v in ordered]
    if value is MISSING:
        return None
    return str(value)


class Policy:
    """A checked, compiled policy, ready to decide.

    >>> policy = compile("if tier == premium then skip_fraud_check", filename="demo.policy")
    >>> policy.decide({"tier": "premium"})["skip_fraud_check"]
    True
    """

    def __init__(
        self,
        checked: CheckedPolicy,
        diagnostics: tuple[Diagnostic, ...] = (),
        *,
        unknown_facts: str = "reject",
    ) -> None:
        self._checked = checked
        self._graph = compile_policy(checked)
        self._validator = FactsValidator(checked, unknown_facts)
        self._diagnostics = diagnostics
        self._run = self._graph.run
        self._rule_ids = self._graph.rule_ids
        self._output_names = self._graph.output_names

    @property
    def name(self) -> str:
        return self._checked.name

    @property
    def description(self) -> str | None:
        return self._checked.description

    @property
    def content_hash(self) -> str:
        """SHA-256 over the texts of the policy and its imports: the version a decision was made with."""
        return self._checked.content_hash

    @property
    def checked(self) -> CheckedPolicy:
        return self._checked

    @property
    def decision_graph(self) -> DecisionGraph:
        return self._graph

    def graph_dot(self) -> str:
        """The decision graph in Graphviz dot (`policy graph --format dot`)."""
        return to_dot(self._graph)

    def graph_json(self) -> dict[str, Any]:
        """The decision graph as JSON-ready data (`policy graph --format json`)."""
        return to_json_graph(self._graph)

    def check(self) -> list[Diagnostic]:
        """The diagnostics found when the policy was loaded (warnings and notes; errors prevent loading)."""
        return list(self._diagnostics)

    def validate_facts(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """Facts as the policy sees them (defaults filled, MISSING where optional). Raises FactsError."""
        return self._validator.validate(facts)

    def decide(
        self, facts: Mapping[str, Any], *, as_of: datetime | str | None = None, on_conflict: str = "raise"
    ) -> Decision:
        """Decide for one set of facts.

        `as_of` is the time `now` means (an aware datetime or ISO 8601 text); without it the clock is
        read, and either way it is recorded in the decision. A conflict at run time raises
        ConflictError, or with `on_conflict="mark"` leaves the output out of `outputs` and lists it
        in `conflicts`. Bad facts raise FactsError, naming the fact, what was expected and what was given.
        """
        moment = _moment(as_of)
        strict = _strict(on_conflict)
        values = self._validator.validate(facts)
        return self._finish(values, moment, strict)

    def decide_many(
        self, batch: Iterable[Mapping[str, Any]], *, as_of: datetime | str | None = None, on_conflict: str = "raise"
    ) -> Iterator[Decision]:
        """Decide for many sets of facts, lazily, in order; faster per decision than a loop over `decide`.

        The clock is read once for the whole batch when `as_of` is not given.
        """
        moment = _moment(as_of)
        strict = _strict(on_conflict)
        validate = self._validator.validate
        finish = self._finish
        iterator = iter(batch)
        while True:
            chunk: list[Decision] = []
            error: Exception | None = None
            # A chunk is decided with the cyclic collector paused (decisions hold no cycles, but the
            # collector would rescan every one of them); it runs again before control returns to
            # the caller, so no caller code ever runs with it off.
            with collector_paused():
                try:
                    for facts in itertools.islice(iterator, _CHUNK):
                        chunk.append(finish(validate(facts), moment, strict))
                except Exception as exc:  # raised below, after the good decisions
                    error = exc
            yield from chunk
            if error is not None:
                raise error
            if len(chunk) < _CHUNK:
                return

    def _finish(self, values: dict[str, Any], moment: datetime, strict: bool) -> Decision:
        try:
            with decimal.localcontext(ARITHMETIC):
                fired_indexes, resolved = self._run(values, moment, strict)
        except decimal.DecimalException as exc:
            raise EvaluationError(f"number out of range in this decision ({type(exc).__name__})") from exc
        except (TypeError, AttributeError) as exc:
            if self._checked.facts_declared:
                raise  # with declared facts every value is converted first: this would be a bug
            # Schema-less facts are taken as given; ones the rules cannot combine are the caller's error.
            raise EvaluationError(
                f"facts of types the rules cannot combine ({exc}); declare them in an `input` block"
            ) from exc
        fired_indexes.sort()  # rules that read outputs run later, but `fired` is in rule order
        outputs: dict[str, Any] = {}
        conflicts: dict[str, tuple[tuple[str, Any], ...]] = {}
        resolutions = dict(zip(self._output_names, resolved, strict=True))
        for name, result in resolutions.items():
            status = result.status
            if status == "value" or status == "default":
                outputs[name] = result.value
            elif status == "conflict":
                if strict:
                    raise ConflictError(name, result)
                conflicts[name] = tuple((x.rule, x.value) for x in result.conflicting)
        rule_ids = self._rule_ids
        return Decision(
            outputs=outputs,
            fired=tuple(rule_ids[i] for i in fired_indexes),
            as_of=moment,
            policy_name=self._checked.name,
            policy_hash=self._checked.content_hash,
            resolutions=resolutions,
            facts=values,
            conflicts=conflicts,
        )


def _moment(as_of: datetime | str | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    try:
        return convert_datetime(as_of)
    except ValueError as exc:
        message = getattr(exc, "message", str(exc))
        raise FactsError(
            [
                FactProblem(
                    "as_of", f"`as_of`: {message}", "a date and time with a zone", as_of, getattr(exc, "hint", None)
                )
            ]
        ) from None


def _strict(on_conflict: str) -> bool:
    if on_conflict not in CONFLICT_MODES:
        raise ValueError(f"on_conflict must be one of {CONFLICT_MODES}, got {on_conflict!r}")
    return on_conflict == "raise"
