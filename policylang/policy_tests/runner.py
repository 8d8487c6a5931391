"""Runs test files: each policy is loaded once per run, each case decided at its own fixed time
and compared with what it expects; failures become mismatches, unexpected errors diagnostics."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ..api import PolicyError, load
from ..core.diagnostics import Code, Diagnostic, Label, error
from ..core.json_codec import to_json_value
from ..engine.facts import FactsError
from ..engine.runtime import ConflictError, EvaluationError
from .binding import ABSENT, BoundCase, bind, show
from .coverage import CoverageCounter
from .discovery import find_test_files
from .model import CaseResult, CaseSpec, ExpectedError, FileResult, Mismatch, TestFile, TestReport
from .suite import read_test_file

if TYPE_CHECKING:
    from ..engine.evaluator import Decision, Policy
    from ..engine.facts import FactProblem


def run_tests(
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    progress: Callable[[FileResult], None] | None = None,
    import_root: str | os.PathLike[str] | None = None,
) -> TestReport:
    """Run the test files that `paths` name (test files, policies, folders; none: the working
    directory) and measure the rules' coverage. Never raises for bad input: unreadable paths,
    malformed test files and broken policies are in the report. `progress` is called with each
    file's result as soon as it is known. `import_root` is where the policies' imports may read
    (default: each policy's own folder).

    >>> report = run_tests(["examples"])
    >>> report.exit_code, report.coverage.percent
    (<ExitCode.OK: 0>, 100.0)
    """
    started = perf_counter()
    found, problems = find_test_files([os.fspath(p) for p in paths] or ["."])
    policies = _Policies(import_root)
    counter = CoverageCounter()
    files = []
    for path in found:
        result = run_file(path, policies, counter)
        files.append(result)
        if progress is not None:
            progress(result)
    return TestReport(tuple(files), counter.result(), tuple(problems), perf_counter() - started)


class _Policies:
    """Each policy loaded once per run, by its real path: the Policy, or the PolicyError it raised."""

    def __init__(self, import_root: str | os.PathLike[str] | None = None) -> None:
        self._loaded: dict[str, Policy | PolicyError] = {}
        self._import_root = import_root

    def load(self, path: str) -> Policy | PolicyError:
        key = os.path.realpath(path)
        if key not in self._loaded:
            try:
                # Conflicts the static analysis could find are not refused: cases show them (or
                # expect them with `error: conflict`), and `policy check` is the place to find them all.
                root = None if self._import_root is None else os.fspath(self._import_root)
                self._loaded[key] = load(path, refuse_conflicts=False, import_root=root)
            except PolicyError as exc:
                self._loaded[key] = exc
        return self._loaded[key]


def run_file(path: str, policies: _Policies, counter: CoverageCounter) -> FileResult:
    """One test file's outcome (see FileResult)."""
    started = perf_counter()
    spec = read_test_file(path)
    sources = {spec.source.name: spec.source} if spec.source else {}
    name = os.path.basename(spec.policy_path or path).removesuffix(".policy")
    if spec.policy_path is None:
        return FileResult(path, None, name, (), spec.diagnostics, sources=sources)
    loaded = policies.load(spec.policy_path)
    if isinstance(loaded, PolicyError):
        sources |= loaded.sources
        unreadable = [d for d in loaded.diagnostics if d.code is Code.IO_ERROR]
        if unreadable:
            every = (*spec.diagnostics, _unreadable_policy(spec, unreadable[0]))
            return FileResult(path, spec.policy_path, name, (), every, sources=sources)
        errors = tuple(d for d in loaded.diagnostics if d.is_error)
        cases = () if spec.diagnostics else tuple(CaseResult(c.name, path, c.line, name, "error") for c in spec.cases)
        elapsed = perf_counter() - started
        return FileResult(path, spec.policy_path, name, cases, spec.diagnostics, errors, sources, elapsed)
    policy = loaded
    sources |= policy.checked.sources
    bound, problems = bind(spec.cases, policy)
    if spec.diagnostics or problems:
        every = tuple(sorted((*spec.diagnostics, *problems), key=Diagnostic.sort_key))
        return FileResult(path, spec.policy_path, policy.name, (), every, sources=sources)
    counter.add(policy)
    results = tuple(run_case(policy, case, path, counter) for case in bound)
    return FileResult(path, spec.policy_path, policy.name, results, sources=sources, duration=perf_counter() - started)


def _unreadable_policy(spec: TestFile, problem: Diagnostic) -> Diagnostic:
    if spec.policy_span is not None:
        return error(
            Code.IO_ERROR, problem.message, spec.policy_span, hint="the path is relative to the test file's folder"
        )
    return error(
        Code.IO_ERROR,
        f"`{spec.path}` tests `{spec.policy_path}`, which cannot be read: {problem.message}",
        None,
        hint="name the test file after its policy (`NAME.test.yaml` tests `NAME.policy`), or add `policy: FILE`",
    )


def run_case(policy: Policy, case: BoundCase, path: str, counter: CoverageCounter) -> CaseResult:
    """Decide one case and compare; the decision is counted for coverage, whatever the outcome."""
    spec = case.spec
    started = perf_counter()
    decision: Decision | None = None
    failure: tuple[str, Exception] | None = None
    try:
        # A conflict is marked rather than raised, so that the rules that matched still count
        # for coverage; it fails the case all the same (or is what the case expects).
        decision = policy.decide(spec.facts, as_of=spec.as_of, on_conflict="mark")
    except FactsError as exc:
        failure = ("facts-error", exc)
    except EvaluationError as exc:
        failure = ("evaluation-error", exc)
    elapsed = perf_counter() - started
    outputs: dict[str, Any] = {}
    fired: tuple[str, ...] = ()
    if decision is not None:
        counter.record(policy, decision)
        outputs = {name: to_json_value(value) for name, value in decision.outputs.items()}
        fired = decision.fired
        if decision.conflicts:
            output = next(iter(decision.conflicts))
            failure = ("conflict", ConflictError(output, decision.resolutions[output]))
            decision = None
    result = CaseResult(spec.name, path, spec.line, policy.name, "passed", fired=fired, outputs=outputs)
    if spec.error is not None:
        mismatches = _error_mismatches(spec.error, failure)
    elif failure is not None:
        problems = _problems(failure[1], spec, policy)
        return _replace(result, status="error", problems=problems, duration=elapsed)
    else:
        assert decision is not None  # no failure, so a decision
        mismatches = [*_value_mismatches(case, decision, policy), *_fired_mismatches(spec, decision.fired)]
    if mismatches:
        return _replace(result, status="failed", mismatches=tuple(mismatches), duration=elapsed, decision=decision)
    return _replace(result, duration=elapsed)


def _replace(result: CaseResult, **changes: Any) -> CaseResult:
    return dataclasses.replace(result, **changes)


def _value_mismatches(case: BoundCase, decision: Decision, policy: Policy) -> list[Mismatch]:
    found = []
    derived: dict[str, Any] | None = None
    for expected in case.expectations:
        if expected.derived:
            if derived is None:
                derived = policy.trace(
                    decision, ()
                ).derived  # segments and lets (no output traced), only when a case asks
            actual = derived.get(expected.name)
            wanted = None if expected.value is ABSENT else to_json_value(expected.value)
            if actual != wanted:
                found.append(Mismatch(expected.name, expected.shown, show(actual)))
            continue
        has_value = expected.name in decision.outputs
        value = decision.outputs.get(expected.name)
        if (value == expected.value) if has_value else (expected.value is ABSENT):
            continue
        shown = show(to_json_value(value)) if has_value else "no value"
        found.append(Mismatch(expected.name, expected.shown, shown, _origin(decision, expected.name)))
    return found


def _origin(decision: Decision, output: str) -> str:
    """Where the actual value came from: `the default`, `set by key_accounts, overriding support:29`."""
    resolved = decision.resolutions[output]
    if resolved.status == "default":
        return "the default"
    if resolved.status == "absent":
        return "no rule matched and it has no default"
    origin = "set by " + ", ".join(resolved.winners)
    if resolved.overridden:
        origin += ", overriding " + ", ".join(resolved.overridden)
    return origin


def _fired_mismatches(spec: CaseSpec, fired: tuple[str, ...]) -> list[Mismatch]:
    actual = "[" + ", ".join(fired) + "]"
    found = []
    if spec.fired is not None:
        expected = [ref.rule for ref in spec.fired]
        missing = [rule for rule in expected if rule not in fired]
        unexpected = [rule for rule in fired if rule not in expected]
        notes = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"not expected {', '.join(unexpected)}"] if unexpected else []
        )
        if notes:
            found.append(Mismatch("fired", "[" + ", ".join(expected) + "]", actual, "; ".join(notes)))
    missing = [ref.rule for ref in spec.fired_includes if ref.rule not in fired]
    if missing:
        found.append(Mismatch("fired", "to include " + ", ".join(missing), actual))
    present = [ref.rule for ref in spec.not_fired if ref.rule in fired]
    if present:
        found.append(Mismatch("fired", "not to include " + ", ".join(present), actual))
    return found


def _error_mismatches(expected: ExpectedError, failure: tuple[str, Exception] | None) -> list[Mismatch]:
    wanted = expected.kind + (f" with {json.dumps(expected.message, ensure_ascii=False)}" if expected.message else "")
    if failure is None:
        return [Mismatch("error", wanted, "a decision")]
    kind, exc = failure
    if kind != expected.kind or (expected.message is not None and expected.message not in str(exc)):
        return [Mismatch("error", wanted, f"{kind}: {exc}")]
    return []


def _problems(exc: Exception, spec: CaseSpec, policy: Policy) -> tuple[Diagnostic, ...]:
    """An unexpected error as diagnostics pointing into the test file (and at the policy)."""
    if isinstance(exc, FactsError):
        return tuple(_fact_problem(p, spec, policy) for p in exc.problems)
    if isinstance(exc, ConflictError):
        rules = {rule.id: rule for rule in policy.checked.rules}
        labels = tuple(
            Label(rules[x.rule].span, f"`{x.rule}` says {show(to_json_value(x.value))}")
            for x in exc.contributions
            if x.rule in rules
        )
        return (
            error(
                Code.CONFLICT,
                str(exc),
                spec.span,
                label="for the facts of this case",
                labels=labels,
                rules=tuple(x.rule for x in exc.contributions),
                hint="expect it with `error: conflict`, or give the output a resolution that settles it",
            ),
        )
    return (
        error(
            Code.EVALUATION_ERROR,
            f"the decision failed: {exc}",
            spec.span,
            hint="expect it with `error: evaluation-error` if these facts should fail",
        ),
    )


def _fact_problem(problem: FactProblem, spec: CaseSpec, policy: Policy) -> Diagnostic:
    declared = policy.checked.facts.get(problem.fact)
    spans = spec.fact_spans.get(problem.fact)
    # A fact the case does not give points at `facts`; a bad value at the value; a fact the policy
    # does not declare at its name.
    span = spec.facts_span if spans is None else spans[1] if declared is not None else spans[0]
    labels: tuple[Label, ...] = ()
    if declared is not None and declared.span is not None:
        labels = (Label(declared.span, f"declared as {problem.expected}"),)
    return error(
        Code.FACTS_ERROR,
        problem.message,
        span,
        hint=problem.hint or "expect it with `error: facts-error` if these facts should be refused",
        labels=labels,
    )
