"""The public entry points behind `policylang.*`: files in, reports out, never a traceback for bad input."""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis.budget import budget_seconds
from .analysis.progress import CallerProgress, ProgressCallback, progress_callback
from .analysis.summary import findings_limit, limited
from .core.diagnostics import Code, Diagnostic, Severity, did_you_mean, error, render_text
from .core.errors import require_text
from .core.source import SourceFile
from .engine import compile_cache
from .engine.extensions import DecisionTracer, Extensions, install
from .engine.loading import PolicyError, check_unknown_facts, compile_snapshot, policy_from, unexpected
from .semantics.checker import check
from .semantics.modules import decode_error, display_name
from .semantics.typed_tree import CheckedPolicy
from .syntax import formatter

if TYPE_CHECKING:  # the evaluator is imported when a policy is compiled, not when one is checked
    from .decision_log import DecisionLog
    from .engine.answers import WhyNot
    from .engine.evaluator import Decision, Policy
    from .syntax.formatter import FormatResult


@dataclass(frozen=True)
class CheckReport:
    """What `policy check` says about one file: diagnostics (sorted), the sources to render them, the policy."""

    filename: str
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, SourceFile]
    policy: CheckedPolicy | None
    left_out: dict[str, int] = field(default_factory=dict)
    """With `with_analysis(max_findings=N)`: how many diagnostics of each code are not in
    `diagnostics` (most frequent first)."""
    errors_left_out: int = 0
    """How many of those left out are errors: `ok` counts them."""

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed), those left out by `max_findings` included."""
        return not self.errors_left_out and not any(d.is_error for d in self.diagnostics)

    @property
    def io_failed(self) -> bool:
        return any(d.code is Code.IO_ERROR for d in self.diagnostics)

    def render(self, color: bool = False) -> str:
        return render_text(self.diagnostics, self.sources, color=color)


def check_source(text: str, filename: str = "<policy>", *, import_root: str | Path | None = None) -> CheckReport:
    """Check policy text; relative imports are resolved from `filename`'s folder (or the working
    directory), and must lie under `import_root`, which defaults to that same folder. Text or a
    file name that is not a str is the caller's mistake: UsageError."""
    require_text(text, filename, "check_source()")
    try:
        result = check(text, filename, import_root=None if import_root is None else Path(import_root))
    except Exception as exc:  # a bug, or no memory left: a report that says so, never a traceback
        return CheckReport(filename, (unexpected(exc, "check"),), {}, None)
    sources = {m.name: m.parsed.source for m in result.modules}
    return CheckReport(filename, result.diagnostics, sources, result.policy)


def with_analysis(
    report: CheckReport,
    *,
    overlaps: bool = False,
    budget: float | None = None,
    progress: ProgressCallback | None = None,
    max_findings: int | None = None,
) -> CheckReport:
    """The report plus the static analysis's findings (analyser.py), for a policy that checked
    without errors; a report with errors is returned as it is. A policy that then cannot be
    compiled gets the error `load` would raise, so that a clean report means it loads. `budget`
    is the analysis's time in seconds (None: 120; `math.inf`: no limit; zero or less is a
    ValueError); out of time, it reports what it has proven and notes each output not decided.
    `progress` is called a few times a second at most with how far the analysis has got
    (analysis/progress.py `AnalysisProgress`). With `max_findings` N (None or 0: all), the
    report keeps the first N diagnostics as `policy check` prints them, and counts the others by
    code in `left_out` (and its errors in `errors_left_out`, which `ok` reads)."""
    budget = budget_seconds(budget)
    limit = findings_limit(max_findings)
    callback = progress_callback(progress)
    if not report.ok or report.policy is None:
        return _limited(report, limit)
    # deferred: start-up (the analysis and the evaluator load pydantic and networkx)
    from .analysis.analyser import analyse
    from .engine.evaluator import Policy

    try:
        policy = Policy(report.policy, report.diagnostics)
    except Exception as exc:
        problem = unexpected(exc, "compile", report.policy.content_hash)
        return _limited(
            CheckReport(report.filename, (*report.diagnostics, problem), report.sources, report.policy), limit
        )
    watched = None if callback is None else CallerProgress(callback)
    try:
        found = analyse(policy, overlaps=overlaps, budget=budget, progress=watched)
        findings = tuple(sorted(found, key=Diagnostic.sort_key))
    except Exception as exc:
        if watched is not None and watched.raised is exc:
            raise  # the caller's callback raised it: theirs, as it was raised, not a bug here
        findings = (unexpected(exc, "analyse", report.policy.content_hash),)
    analysed = CheckReport(report.filename, report.diagnostics + findings, report.sources, report.policy)
    return _limited(analysed, limit)


def _limited(report: CheckReport, limit: int | None) -> CheckReport:
    """The report with its first `limit` diagnostics (all when None) and the others counted."""
    if limit is None:
        return report
    shown = limited(report.diagnostics, limit)
    return CheckReport(
        report.filename, tuple(shown), report.sources, report.policy, shown.left_out, shown.errors_left_out
    )


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0, DEL, C1 and lone surrogates (an undecodable file name): none may be in a policy's path."""


def read_policy(path: str | Path) -> tuple[str | None, Diagnostic | None]:
    """A policy file's text, or an `io-error` diagnostic saying why it cannot be read."""
    path = Path(path)
    name = str(path)
    if not name or name == ".":
        return None, error(Code.IO_ERROR, "no policy file named", None, hint="give the path of a `.policy` file")
    if _CONTROL.search(name):  # the name becomes the policy's name and its rules' ids: printed everywhere
        shown = _CONTROL.sub(lambda m: f"\\u{{{ord(m.group()):x}}}", name)
        return None, error(
            Code.IO_ERROR,
            f"the path `{shown}` holds control characters, which would show in every decision and rule id",
            None,
            hint="rename the file (or folder) without them",
        )
    try:
        data = path.read_bytes()
    except (ValueError, RuntimeError) as exc:  # a NUL byte in the name; a symlink loop
        return None, error(Code.IO_ERROR, f"cannot read `{name}`: {exc}", None)
    except FileNotFoundError:
        siblings = {p.stem: p.name for p in path.parent.glob("*.policy")} if path.parent.is_dir() else {}
        close = did_you_mean(path.stem, siblings)
        hint = f"did you mean `{siblings[close.split('`')[1]]}`?" if close else None
        return None, error(
            Code.IO_ERROR,
            f"cannot read `{name}`: no such file",
            None,
            hint=hint or "check the path; policies usually end in `.policy`",
        )
    except IsADirectoryError:
        if not os.access(path, os.R_OK | os.X_OK):
            return None, error(Code.IO_ERROR, f"cannot read the folder `{name}`: permission denied", None)
        return None, error(Code.IO_ERROR, f"`{name}` is a folder, not a policy file", None)
    except OSError as exc:
        return None, error(Code.IO_ERROR, f"cannot read `{name}`: {exc.strerror or exc}", None)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, decode_error(name, exc, data)


def check_file(path: str | Path, *, import_root: str | Path | None = None) -> CheckReport:
    """Check a policy file and its imports (which must lie under `import_root`, by default the
    file's folder). A missing or unreadable file is an `io-error` in the report."""
    try:
        return _check_file(path, import_root)
    except Exception as exc:
        return CheckReport(str(path), (unexpected(exc, "check"),), {}, None)


def _check_file(path: str | Path, import_root: str | Path | None) -> CheckReport:
    text, problem = read_policy(path)
    if problem is not None or text is None:
        assert problem is not None
        sources = {}
        if problem.span is not None:
            raw = Path(path).read_bytes()
            sources[problem.span.file] = SourceFile(problem.span.file, raw.decode("utf-8", errors="replace"))
        return CheckReport(str(path), (problem,), sources, None)
    name = display_name(Path(path).resolve()) if Path(path).is_absolute() else str(path)
    return check_source(text, name, import_root=import_root)


def compile_source(
    text: str,
    filename: str = "<policy>",
    *,
    unknown_facts: str = "reject",
    log: DecisionLog | None = None,
    import_root: str | Path | None = None,
) -> Policy:
    """Check and compile policy text (exported as `policylang.compile`). Raises PolicyError with every
    diagnostic when the policy has errors.

    `unknown_facts="ignore"` accepts facts the `input` block does not declare (the default rejects
    them, so that a misspelt fact is an error instead of silently missing). With `log`, every
    decision is recorded in that decision log (decision_log.py). Imports must lie under
    `import_root` (default: `filename`'s folder, or the working directory).
    """
    check_unknown_facts(unknown_facts)
    require_text(text, filename, "compile()")
    report = check_source(text, filename, import_root=import_root)
    return policy_from(report.policy, report.diagnostics, report.sources, unknown_facts, log)


def load(
    path: str | Path,
    *,
    unknown_facts: str = "reject",
    refuse_conflicts: bool = True,
    log: DecisionLog | None = None,
    import_root: str | Path | None = None,
    analysis_budget: float | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
) -> Policy:
    """Check and compile a policy file with its imports. Raises PolicyError (an unreadable file too).

    By default a policy whose rules can conflict (a `conflict` finding of the static analysis,
    with its witness) is refused too: such a policy would fail at run time on some facts. The
    verdict is cached by the policy's content hash (analysis/cache.py), so a policy that was once
    found clean loads without analysing it again. `refuse_conflicts=False` skips the analysis, for
    example for a very large policy analysed in CI instead; a conflict that then happens at run
    time raises ConflictError as always. With `log`, every decision is recorded in that decision
    log (decision_log.py), so that it can be explained later from the record alone. Imported files
    must lie under `import_root` (default: the policy file's folder); the standard library is
    always importable.

    A policy whose conflicts the analysis could not rule out on some output (an
    `analysis-incomplete` note there: its rules compute, or read what the analysis cannot follow;
    and two rules setting it that might both match and disagree undecided) is loaded with an
    `AnalysisIncompleteWarning` naming those outputs; make that warning an error
    (`warnings.simplefilter("error", policylang.AnalysisIncompleteWarning)`) to refuse such a
    policy instead.

    `analysis_budget` is the analysis's time in seconds (None: 120; `math.inf`: no limit; zero or
    less is a ValueError). A policy whose analysis runs out of time is refused for the conflicts
    found by then and otherwise loaded with that warning, as one whose analysis is incomplete for
    other reasons; it is not remembered, so the next `load` analyses it again. `progress` is
    called a few times a second at most, while the analysis runs, with how far it has got
    (analysis/progress.py `AnalysisProgress`; a remembered verdict is not reported on).

    `cache_dir` (or the `POLICYLANG_COMPILE_CACHE` environment variable) names a folder of compiled
    policies (engine/compile_cache.py): a policy found there, with the same text, imports, options
    and policylang build, is unpickled instead of compiled, in a fraction of the time; one not found
    is compiled and stored. Its entries are pickles, which run code when read: name only a folder
    that only you can write to (docs/performance.md, "Compile cache").
    """
    check_unknown_facts(unknown_facts)
    budget = budget_seconds(analysis_budget)
    callback = progress_callback(progress)
    folder = compile_cache.cache_folder(cache_dir)
    if folder is None:
        report = check_file(path, import_root=import_root)
        policy = policy_from(report.policy, report.diagnostics, report.sources, unknown_facts, log)
    else:
        policy = _load_cached(path, folder, unknown_facts, import_root, log)
    if refuse_conflicts:
        from .analysis import cache as analysis_cache  # deferred: start-up (the analysis loads pydantic and networkx)

        watched = None if callback is None else CallerProgress(callback)
        try:
            verdict = analysis_cache.verdict(policy, budget, watched)
        except Exception as exc:
            if watched is not None and watched.raised is exc:
                raise  # the caller's callback raised it: theirs, as it was raised, not a bug here
            problem = unexpected(exc, "analyse", policy.content_hash)
            raise PolicyError((problem,), policy.checked.sources) from exc
        if verdict.conflicts:
            raise PolicyError(tuple(verdict.conflicts), policy.checked.sources)
        if verdict.undecided:
            named = ", ".join(f"`{name}`" for name in verdict.undecided)
            warnings.warn(
                analysis_cache.AnalysisIncompleteWarning(
                    f"{policy.name}: the analysis could not rule out conflicts on {named}; the policy is "
                    "loaded, and a conflict raises ConflictError when it happens (`policy check` says why)"
                ),
                stacklevel=2,
            )
    return policy


def _load_cached(
    path: str | Path, folder: Path, unknown_facts: str, import_root: str | Path | None, log: DecisionLog | None
) -> Policy:
    """`load`'s policy through the compile cache in `folder`: checked and compiled as `load` does
    without one, on a miss only."""
    text, problem = read_policy(path)
    name, key = str(path), None
    if problem is None and text is not None:
        try:
            name = display_name(Path(path).resolve()) if Path(path).is_absolute() else str(path)
            key = compile_cache.cache_key(path, name, text, import_root, (f"unknown_facts={unknown_facts}",))
        except OSError:  # the working directory was deleted: nothing to key on, so no cache
            key = None
    if key is None or text is None:
        report = check_file(path, import_root=import_root)  # the same report as without a cache
        return policy_from(report.policy, report.diagnostics, report.sources, unknown_facts, log)

    def compiled() -> tuple[Policy, Any]:
        try:
            result = check(text, name, import_root=None if import_root is None else Path(import_root))
        except Exception as exc:  # a bug, or no memory left: as check_source reports it
            raise PolicyError((unexpected(exc, "check"),)) from exc
        sources = {m.name: m.parsed.source for m in result.modules}
        policy = policy_from(result.policy, result.diagnostics, sources, unknown_facts)
        return policy, compile_cache.manifest(result.modules, result.modules[-1].key)

    policy = compile_cache.cached(folder, key, compiled)
    if log is None:
        return policy
    from .engine.evaluator import logging_to  # deferred: start-up (networkx, pydantic)

    return logging_to(policy, log)


def format_source(text: str, filename: str = "<policy>") -> FormatResult:
    """Canonical formatting; see `formatter.format_source`. A bug becomes an `internal-error`
    diagnostic of a result without text, never an exception; text that is not a str is UsageError."""
    require_text(text, filename, "format_source()")
    try:
        return formatter.format_source(text, filename)
    except Exception as exc:
        return formatter.FormatResult(None, (unexpected(exc, "format"),))


def format_file(path: str | Path) -> tuple[str | None, str | None, tuple[Diagnostic, ...]]:
    """(original text, formatted text, diagnostics) for a file; formatted is None when it cannot be formatted."""
    text, problem = read_policy(path)
    if problem is not None or text is None:
        return None, None, (problem,) if problem else ()
    result = format_source(text, str(path))
    return text, result.text, result.diagnostics


# The engine answers Policy.analyse, Policy.trace, Decision.explain and Decision.why_not through
# these (engine/extensions.py), since it may not import the layers above it. Each imports its layer
# on first use: they load pydantic (and the evaluator), which `policy check` never needs.


def _analyse(
    policy: Policy,
    *,
    overlaps: bool = False,
    budget: float | None = None,
    progress: ProgressCallback | None = None,
    max_findings: int | None = None,
) -> list[Diagnostic]:
    from .analysis.analyser import analyse  # deferred: start-up (pydantic)

    return analyse(policy, overlaps=overlaps, budget=budget, progress=progress, max_findings=max_findings)


def _tracer(checked: CheckedPolicy) -> DecisionTracer:
    from .explain.trace import Tracer  # deferred: start-up (pydantic)

    return Tracer(checked)


def _explain_text(decision: Decision, **options: Any) -> str:
    from .explain.rendering import explain_text  # deferred: start-up (pydantic)

    return explain_text(decision, **options)


def _why_not(decision: Decision, wanted: str, value: Any = None) -> WhyNot:
    from .explain.why_not import why_not  # deferred: start-up (pydantic)

    return why_not(decision, wanted, value)


install(Extensions(analyse=_analyse, tracer=_tracer, explain_text=_explain_text, why_not=_why_not))

__all__ = [
    "CheckReport",
    "PolicyError",
    "Severity",
    "check_file",
    "check_source",
    "compile_snapshot",
    "compile_source",
    "format_file",
    "format_source",
    "load",
    "with_analysis",
]
