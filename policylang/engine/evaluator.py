"""Policy: facts in, validated, run through the compiled decision graph, outputs resolved into a
Decision (decision.py).

A Policy is immutable after construction and holds no per-decision state, so one instance may
serve many threads at once.
"""

from __future__ import annotations

import decimal
import itertools
import pickle
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from ..core.diagnostics import Diagnostic, did_you_mean, internal_error
from ..core.errors import UsageError
from ..core.json_codec import to_json_value as to_json_value  # its home until issue 13; still importable here
from ..core.version import build_id
from ..semantics import typed_tree as c
from ..semantics.typed_tree import CheckedPolicy, policy_expressions, walk
from ..syntax.parser import collector_paused
from .answers import Trace
from .batch import BatchFunction, batch_function
from .compiler import DecisionGraph, compile_policy, to_dot, to_json_graph

# Decision and Record live in decision.py; they stay importable from here, where every layer above
# (and every pickled Decision made before the split) looks for them.
from .decision import Decision as Decision
from .decision import Record as Record
from .decision import (
    _api_boundary,
    _moment_of,
    _new_decision,
    _set_conflicts,
    _set_id,
    _set_made,
    _set_outputs,
    _set_record,
)
from .extensions import DecisionRecorder, DecisionTracer, installed
from .facts import FactProblem, FactsError, FactsValidator, convert_datetime
from .runtime import ARITHMETIC, ConflictError, EvaluationError, InternalError
from .typed_facts import Facts, make_facts

CONFLICT_MODES = ("raise", "mark")
_clock = time.time_ns
"""The clock a decision without `as_of` reads: nanoseconds since the epoch, an int, a quarter of
the cost of `datetime.now(UTC)`; the datetime is made from it when first needed (`_moment_of`)."""
_CHUNK = 256
"""decide_many decides this many fact sets at a time with the garbage collector paused."""


DETAILS = ("auto", "summary", "full")
"""What `Policy.trace(detail=...)` and `Decision.explain(detail=...)` take (explain/trace.py)."""


def _known_outputs(policy: CheckedPolicy, outputs: Iterable[str]) -> set[str]:
    wanted = {outputs} if isinstance(outputs, str) else set(outputs)
    unknown = sorted(wanted - set(policy.outputs))
    if unknown:
        hint = did_you_mean(unknown[0], list(policy.outputs)) or "its outputs: " + ", ".join(policy.outputs)
        raise UsageError(f"the policy has no output `{unknown[0]}`; {hint}")
    return wanted


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
        log: DecisionRecorder | None = None,
    ) -> None:
        self._setup(checked, diagnostics, unknown_facts, log, compile_policy(checked))

    def _setup(
        self,
        checked: CheckedPolicy,
        diagnostics: tuple[Diagnostic, ...],
        unknown_facts: str,
        log: DecisionRecorder | None,
        graph: DecisionGraph,
        reads: tuple[bool, bool] | None = None,
    ) -> None:
        self._checked = checked
        self._log = log
        self._graph = graph
        self._unknown_facts = unknown_facts
        self._validator = FactsValidator(checked, unknown_facts)
        self._validate = self._validator.validate  # which tries the generated fast path first
        self._diagnostics = diagnostics
        self._run = self._graph.run
        self._output_names = self._graph.output_names
        self._origin = (checked.name, checked.content_hash, self._graph, self._full_record, self)
        self._decide_outputs = self._graph.decide_outputs
        self._tracer: DecisionTracer | None = None
        # Both walk every expression (a quarter of unpickling 10,000 rules): a pickle carries them.
        self._needs_context, self._reads_now = reads if reads is not None else (_computes(checked), _reads_now(checked))
        # With no arithmetic and declared (so converted) facts there is nothing for _evaluate to guard.
        self._outputs_unguarded = self._decide_outputs if not self._needs_context and checked.facts_declared else None

    def __reduce__(self) -> tuple[Any, ...]:
        """A policy pickles as its checked tree and compiled program (DecisionGraph, program.py), so
        that a worker process unpickles a working policy, equal in every decision, trace and
        analysis, without parsing, checking or compiling again. The state is pickled into bytes of
        its own, unpickled with the cyclic garbage collector paused: restoring the tens of thousands
        of small objects of a large policy otherwise triggers it over and over (four fifths of the
        time). Unpickling runs code, like any pickle: only unpickle a policy from a source you trust."""
        if self._log is not None:
            raise UsageError(
                "a policy loaded with a decision log cannot be pickled (its connection cannot travel); "
                "pickle one loaded without `log=`, and give each worker its own log (`decide(log=...)`)"
            )
        reads = (self._needs_context, self._reads_now)
        state = (self._checked, self._diagnostics, self._unknown_facts, self._graph, reads)
        return (_unpickled_policy, (_made_by(), pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)))

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

    def snapshot(self) -> dict[str, Any]:
        """The policy's files (its imports too) as they were loaded, JSON-ready:
        `policylang.compile_snapshot` makes this policy again from it, without reading a file."""
        return self._checked.snapshot

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

    def analyse(
        self,
        *,
        overlaps: bool = False,
        budget: float | None = None,
        progress: Callable[[Any], None] | None = None,
        max_findings: int | None = None,
    ) -> list[Diagnostic]:
        """Conflicts, coverage gaps, unreachable, shadowed and redundant rules, proven by witnesses
        (docs/analysis.md), and `analysis-incomplete` notes where the analysis could not decide; with
        `overlaps`, also which rule overrides which (info). `budget` is the time allowed in seconds
        (None: 120; `math.inf`: no limit; zero or less is a ValueError): out of time, the analysis
        reports what it has proven and notes each output it did not decide. `progress` is called
        a few times a second at most with an `AnalysisProgress` (phase, done, total, unit,
        elapsed). With `max_findings` N (None or 0: all), the list holds the first N findings in
        the order `policy check` prints them, and its `left_out` counts the others by kind."""
        return installed().analyse(self, overlaps=overlaps, budget=budget, progress=progress, max_findings=max_findings)

    @_api_boundary("tracing")
    def trace(self, decision: Decision, outputs: Iterable[str] | None = None, *, detail: str = "full") -> Trace:
        """What the decision did, as data (explain/trace.py): for every output (or those named
        in `outputs`) its value and source, for every rule that could set it whether it matched
        and, part by part, why. Made on request, never while deciding; the decision must come from
        this policy. An output the policy does not have is a ValueError naming it.

        `detail`: "full" (every rule that can set each output), "summary" (the rules that matched
        and the nearest misses; `OutputTrace.others` counts the rest), or "auto" (a summary when
        more than 60 rules can set the outputs traced). Only the outputs asked about are traced."""
        if decision.policy_hash != self.content_hash:
            raise UsageError("the decision was made by another policy (or another version of it)")
        if detail not in DETAILS:
            raise UsageError(f"unknown detail {detail!r}; use one of: {', '.join(DETAILS)}")
        wanted = None if outputs is None else _known_outputs(self._checked, outputs)
        if self._tracer is None:
            self._tracer = installed().tracer(self._checked)
        return self._tracer.trace(decision, wanted, detail)

    def check(self) -> list[Diagnostic]:
        """The diagnostics found when the policy was loaded (warnings and notes; errors prevent loading)."""
        return list(self._diagnostics)

    def validate_facts(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """Facts as the policy sees them (defaults filled, MISSING where optional). Raises FactsError."""
        values = self._validator.validate(facts)
        return dict(values) if isinstance(facts, Facts) else values  # a Facts' own dict stays its own

    @_api_boundary("validating facts")
    def facts(self, given: Mapping[str, Any]) -> Facts:
        """The facts validated once, to decide with many times: `decide()` and `decide_many()` take
        the result without validating again, and so does every policy whose facts are declared
        exactly as this one's (another raises FactsError). Raises FactsError as `decide()` would."""
        if isinstance(given, Facts):
            self._validator.validated(given)  # raises unless made for facts declared as these
            return given
        values = self._validator.validate(given)
        return make_facts(dict(given), values, self._validator.schema)

    def decide(
        self,
        facts: Mapping[str, Any],
        *,
        as_of: datetime | str | None = None,
        on_conflict: str = "raise",
        log: DecisionRecorder | None = None,
    ) -> Decision:
        """Decide for one set of facts.

        `as_of` is the time `now` means (an aware datetime or ISO 8601 text); without it the clock is
        read, and either way it is recorded in the decision. A conflict at run time raises
        ConflictError, or with `on_conflict="mark"` leaves the output out of `outputs` and lists it
        in `conflicts`. Bad facts raise FactsError, naming the fact, what was expected and what was given.

        With a decision log (`log`, or the one the policy was loaded with), the decision is recorded
        with the facts exactly as given before it is returned; `decision.id` is its id in the log.
        """
        moment: datetime | int
        if as_of is not None:
            moment = _moment(as_of)
        elif self._reads_now:
            moment = _moment_of(_clock())
        else:  # the decision functions never read it: the datetime is made if `as_of` is read
            moment = _clock()
        strict = True if on_conflict == "raise" else _strict(on_conflict)
        try:  # free in CPython 3.11 when nothing is raised (benchmarks/: no change)
            # The generated validator and the outputs-only function called from here, not through
            # FactsValidator.validate and _decide_validated: two call layers are a tenth of a decision.
            values = self._validator.fast(facts)
            if values is None:  # not taken outright (or a Facts): the validator says why, or takes it
                values = self._validate(facts)
            unguarded = self._outputs_unguarded
            if unguarded is None:  # guarded (arithmetic, schema-less facts), or no outputs-only function
                decision = self._decide_validated(values, moment, strict)
            else:
                outputs = unguarded(values, moment)
                if outputs is None:  # handed over: the full function decides (and reports a conflict)
                    decision = self._finish(values, moment, strict)
                else:
                    decision = _new_decision(Decision)
                    _set_outputs(decision, outputs)
                    _set_made(decision, (moment, values, self._origin))
        except (FactsError, EvaluationError):
            raise
        except Exception as exc:
            raise self._internal(exc) from exc
        log = log or self._log
        if log is not None:
            given = facts._given if isinstance(facts, Facts) else facts  # the log keeps the facts as given
            _set_id(decision, log.record(self, given, decision))
        return decision

    def decide_many(
        self,
        batch: Iterable[Mapping[str, Any]],
        *,
        as_of: datetime | str | None = None,
        on_conflict: str = "raise",
        log: DecisionRecorder | None = None,
        fired: bool = False,
    ) -> Iterator[Decision]:
        """Decide for many sets of facts, lazily, in order; faster per decision than a loop over `decide`.

        The clock is read once for the whole batch when `as_of` is not given. With a decision log,
        each decision is recorded before it is yielded (one durable commit each). With `fired=True`
        every decision is made by the full decision function, which finds every matching rule, so
        that `fired` and `resolutions` are ready: for a caller that reads them on every decision
        (`policy eval` does), one run instead of two. The decisions are the same either way.
        """
        if batch.__class__ is not list and batch.__class__ is not tuple:  # (the common case, checked at no cost)
            batch = _fact_sets(batch)
        if fired is not True and fired is not False:
            raise UsageError(f"fired must be True or False, got {fired!r}")
        log = log or self._log
        if log is not None:
            moment = _moment(as_of)
            for facts in batch:
                yield self.decide(facts, as_of=moment, on_conflict=on_conflict, log=log)
            return
        moment = _moment(as_of)
        strict = _strict(on_conflict)
        raised: list[Exception] = []  # what the caller's iterable raised, if it did
        # A list or tuple cannot fail to give its items; anything else (a generator reading a file)
        # may, and its exception is the caller's own: raised as it was, not as a bug of policylang.
        iterator = iter(batch) if batch.__class__ is list or batch.__class__ is tuple else _items(batch, raised)
        while True:
            chunk: list[Decision] = []
            error: Exception | None = None
            # A chunk is decided with the cyclic collector paused (decisions hold no cycles, but the
            # collector would rescan every one of them); it runs again before control returns to
            # the caller, so no caller code ever runs with it off.
            with collector_paused():
                try:
                    decide_chunk = self._decide_chunk_fully if fired else self._decide_chunk
                    decide_chunk(itertools.islice(iterator, _CHUNK), moment, strict, chunk)
                except (FactsError, EvaluationError) as exc:  # raised below, after the good decisions
                    error = exc
                except Exception as exc:
                    if raised and exc is raised[0]:
                        error = exc
                    else:
                        error = self._internal(exc)
                        error.__cause__ = exc
            yield from chunk
            if error is not None:
                raise error
            if len(chunk) < _CHUNK:
                return

    def _decide_chunk(
        self, batch: Iterable[Mapping[str, Any]], moment: datetime, strict: bool, decided: list[Decision]
    ) -> None:
        """Appends to `decided` the decision for each set of facts, in order, until one fails (its
        error is raised, the decisions before it stay appended): through the policy's batch function
        (batch.py: validation and decision in one generated loop) where it has one, else a loop with
        `_decide_validated` and `decide`'s validation inlined, every name a local."""
        function = self._batch_function()
        if function is not None:
            function(
                batch,
                moment,
                strict,
                decided,
                self._decide_given,
                self._finish,
                self._origin,
                _new_decision,
                Decision,
                _set_outputs,
                _set_made,
            )
            return
        validate = self._validator.validate  # the generated fast path first, then the model
        outputs_of = self._outputs_unguarded
        origin = self._origin
        finish = self._decide_validated
        append = decided.append
        new, set_outputs, set_made = _new_decision, _set_outputs, _set_made
        for facts in batch:
            values = validate(facts)
            outputs = None if outputs_of is None else outputs_of(values, moment)
            if outputs is None:  # the outputs-only function does not apply: the general path
                append(finish(values, moment, strict))
                continue
            decision = new(Decision)
            set_outputs(decision, outputs)
            set_made(decision, (moment, values, origin))
            append(decision)

    def _decide_chunk_fully(
        self, batch: Iterable[Mapping[str, Any]], moment: datetime, strict: bool, decided: list[Decision]
    ) -> None:
        """_decide_chunk through the full decision function alone (decide_many's `fired=True`)."""
        fast, validate = self._validator.fast, self._validate
        finish = self._finish
        append = decided.append
        for facts in batch:
            values = fast(facts)
            append(finish(validate(facts) if values is None else values, moment, strict))

    def _batch_function(self) -> BatchFunction | None:
        """The policy's batch function, generated on the first decide_many and kept beside the
        policy (not on it: a Policy holds no generated code it did not hold before), or None where
        it has none: the outputs-only function must apply unguarded (declared facts, no arithmetic)."""
        try:
            return _BATCHES[self]
        except KeyError:
            pass
        function = None
        unguarded = self._outputs_unguarded
        source = self._graph.outputs_source
        if unguarded is not None and source is not None:
            function = batch_function(self._validator, source, unguarded.__globals__)
        _BATCHES[self] = function
        return function

    def _decide_given(self, facts: Mapping[str, Any], moment: datetime | int, strict: bool) -> Decision:
        """`decide()`'s path for one set of facts, after the clock and the arguments are read."""
        return self._decide_validated(self._validate(facts), moment, strict)

    def _internal(self, exc: Exception) -> EvaluationError:
        """What a decision that failed on a bug raises: InternalError (an EvaluationError) naming the
        exception; a MemoryError is a plain EvaluationError (the decision is too large, not wrong)."""
        if isinstance(exc, MemoryError):
            return EvaluationError("not enough memory to make this decision (MemoryError)")
        return InternalError(internal_error(exc, "deciding", content_hash=self.content_hash))

    def _decide_validated(self, values: dict[str, Any], moment: datetime | int, strict: bool) -> Decision:
        guarded = self._decide_outputs
        if guarded is not None:
            unguarded = self._outputs_unguarded
            outputs = unguarded(values, moment) if unguarded is not None else self._evaluate(guarded, values, moment)
            if outputs is not None:
                decision = _new_decision(Decision)
                _set_outputs(decision, outputs)
                _set_made(decision, (moment, values, self._origin))
                return decision
        return self._finish(values, moment, strict)

    def _evaluate(self, function: Callable[..., Any], *args: Any) -> Any:
        """Runs a generated decision function in the policy's decimal context, with its errors made
        the caller's: EvaluationError for numbers out of range and for schema-less facts of types the
        rules cannot combine."""
        try:
            if self._needs_context:
                with decimal.localcontext(ARITHMETIC):
                    return function(*args)
            return function(*args)
        except decimal.DecimalException as exc:
            raise EvaluationError(f"number out of range in this decision ({type(exc).__name__})") from exc
        except (TypeError, AttributeError) as exc:
            if self._checked.facts_declared:
                raise  # with declared facts every value is converted first: this would be a bug
            # Schema-less facts are taken as given; ones the rules cannot combine are the caller's error.
            raise EvaluationError(
                f"facts of types the rules cannot combine ({exc}); declare them in an `input` block"
            ) from exc

    def _full_record(self, values: dict[str, Any], moment: datetime) -> Record:
        record: Record = self._evaluate(self._run, values, moment, False)
        return record

    def _finish(self, values: dict[str, Any], moment: datetime | int, strict: bool) -> Decision:
        record: Record = self._evaluate(self._run, values, moment, strict)
        # record: (fired rule indexes, every output's proposals, the outputs that have a value,
        # the indexes of the outputs whose rules conflicted or None)
        decision = _new_decision(Decision)
        _set_outputs(decision, record[2])
        _set_made(decision, (moment, values, self._origin))
        _set_record(decision, record)
        if record[3] is not None:
            conflicts: dict[str, tuple[tuple[str, Any], ...]] = {}
            for index in record[3]:
                name = self._output_names[index]
                result = self._graph.resolvers[index](record[1][index])
                if strict:
                    raise ConflictError(name, result)
                conflicts[name] = tuple((x.rule, x.value) for x in result.conflicting)
            _set_conflicts(decision, conflicts)
        return decision


_PICKLE_FORMAT = 1


def _made_by() -> str:
    """What a pickled Policy says made it: one made by another build is refused on load, not
    misread (its generated code calls the runtime helpers of the build that generated it)."""
    return f"policylang {build_id()}, pickle format {_PICKLE_FORMAT}"


def _unpickled_policy(made_by: str, data: bytes) -> Policy:
    if made_by != _made_by():
        raise UsageError(f"this pickled policy was made by {made_by}, not {_made_by()}; compile the policy again")
    with collector_paused():
        # The caller unpickled the policy, so trusts these bytes (Policy.__reduce__).
        checked, diagnostics, unknown_facts, graph, reads = pickle.loads(data)
    policy = Policy.__new__(Policy)
    policy._setup(checked, diagnostics, unknown_facts, None, graph, reads)
    return policy


def logging_to(policy: Policy, log: DecisionRecorder) -> Policy:
    """The policy, recording every decision in `log`: for a policy just unpickled from the compile
    cache (a pickle never carries a log), before anyone else holds it."""
    policy._log = log
    return policy


def full_record(policy: Policy, values: dict[str, Any], as_of: datetime) -> Record:
    """What the policy's full decision function records for facts already validated
    (`Policy.validate_facts`), conflicts marked, not raised: the analysis and why-not answers decide
    through it, so that what they find is what `decide()` does."""
    return policy._full_record(values, as_of)


def recorded(decision: Decision) -> Record:
    """What the full decision function recorded for the decision (run again, on its own facts and
    time, for one made by the outputs-only function)."""
    return decision._recorded()


_BATCHES: weakref.WeakKeyDictionary[Policy, BatchFunction | None] = weakref.WeakKeyDictionary()
"""Each policy's batch function (Policy._batch_function), for as long as the policy lives."""


def _moment(as_of: datetime | str | None) -> datetime:
    if as_of is None:
        return _moment_of(_clock())
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


def _items(batch: Iterable[Mapping[str, Any]], raised: list[Exception]) -> Iterator[Mapping[str, Any]]:
    """The items of a caller's iterable, with the exception it raises, if any, kept in `raised`."""
    try:
        yield from batch
    except Exception as exc:
        raised.append(exc)
        raise


def _fact_sets(batch: Any) -> Iterable[Mapping[str, Any]]:
    """decide_many's `batch`, which must be an iterable of fact sets: one set of facts (a mapping,
    whose iteration gives its names) or text (its characters) is the caller's mistake, said as
    such rather than as a facts error about a name, and so is anything that cannot be iterated."""
    if isinstance(batch, Mapping | str | bytes | bytearray):
        raise UsageError(
            f"decide_many takes an iterable of fact sets (a list of dicts, a generator), got a "
            f"{type(batch).__name__}; to decide for one set of facts use decide(), or give [facts]"
        )
    try:
        iter(batch)
    except TypeError:
        raise UsageError(
            f"decide_many takes an iterable of fact sets (a list of dicts, a generator), got {type(batch).__name__}"
        ) from None
    return batch  # type: ignore[no-any-return]  # checked: iterable


def _strict(on_conflict: str) -> bool:
    if on_conflict not in CONFLICT_MODES:
        raise UsageError(f"on_conflict must be one of {CONFLICT_MODES}, got {on_conflict!r}")
    return on_conflict == "raise"


def _reads_now(policy: CheckedPolicy) -> bool:
    """Whether any expression of the policy reads `now`: a decision of one that does not, made
    without `as_of`, keeps the clock's reading as an int and makes the datetime only if asked."""
    return any(isinstance(node, c.Now) for node in walk(policy_expressions(policy)))


def _computes(policy: CheckedPolicy) -> bool:
    """Whether any expression of the policy does arithmetic, the only thing the decimal context
    affects (comparisons of decimals are exact in any context); a policy that only compares skips
    entering the context on every decision."""
    return any(_uses_context(node) for node in walk(policy_expressions(policy)))


def _uses_context(node: c.CheckedExpr) -> bool:
    """Whether computing this node (not its operands) rounds or traps in the decimal context."""
    match node:
        case c.Arithmetic() | c.Negate():
            return True  # decimal arithmetic rounds to the context's precision and traps overflow
        case c.Call(function="round"):
            return True  # `round(x, places)` quantizes, which is bounded by the context's precision
        case (
            c.Const()
            | c.FactRef()
            | c.OutputRef()
            | c.DerivedRef()
            | c.Now()
            | c.Compare()
            | c.Membership()
            | c.Between()
            | c.Presence()
            | c.BoolOp()
            | c.Not()
            | c.SetLiteral()
            | c.Call()
            | c.Conditional()
        ):
            # Reading, comparing, choosing and collecting values is exact in any context; the other
            # built-in functions are too (min and max compare, abs is Decimal.copy_abs, floor and
            # ceil take the integral value).
            return False
        case _:
            c.unhandled(node)
