"""The data of `policy test`: cases as a test file writes them, and what running them gave.

Everything is a frozen dataclass: a report is plain data that the text, JSON and JUnit renderers
read and that applications can inspect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ..core.diagnostics import Diagnostic, ExitCode, to_dict
from ..core.source import SourceFile, Span
from .coverage import Coverage

if TYPE_CHECKING:
    from ..engine.evaluator import Decision

DEFAULT_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
"""What `now` means in a case without `as_of`: fixed, never the clock, so that a test gives the
same result on every day it runs."""

ERROR_KINDS = ("facts-error", "conflict", "evaluation-error")
"""The errors a case may expect instead of a decision."""


# --- as written ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expected:
    """One `expect` entry as written: an output (or a segment or let) and its value; a `null`
    value (`written` None) expects the output to have no value."""

    name: str
    written: Any
    name_span: Span
    value_span: Span


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule id in `fired`, `fired_includes` or `not_fired`, with where it is written."""

    rule: str
    span: Span


@dataclass(frozen=True, slots=True)
class ExpectedError:
    """An `error` a case expects instead of a decision; `message` must occur in the error's text."""

    kind: str
    message: str | None
    span: Span


@dataclass(frozen=True)
class CaseSpec:
    """One case as written: facts, the time, and what it expects (already checked for shape)."""

    name: str
    span: Span
    """The case's `name` value: where failures point."""
    facts: dict[str, Any]
    fact_spans: dict[str, tuple[Span, Span]]
    """Per fact, the spans of its key and of its value, for facts the policy rejects."""
    facts_span: Span
    as_of: datetime
    expect: tuple[Expected, ...] = ()
    fired: tuple[RuleRef, ...] | None = None
    fired_includes: tuple[RuleRef, ...] = ()
    not_fired: tuple[RuleRef, ...] = ()
    error: ExpectedError | None = None

    @property
    def line(self) -> int:
        return self.span.line


@dataclass(frozen=True)
class TestFile:
    """A test file as read: the policy it tests, its cases, and every problem in its text."""

    __test__ = False  # not a pytest test class, whatever its name

    path: str
    source: SourceFile | None
    policy_path: str | None
    """The policy file, relative to the working directory as the test file's path is."""
    policy_span: Span | None
    """The `policy:` value, when the file names its policy."""
    cases: tuple[CaseSpec, ...]
    diagnostics: tuple[Diagnostic, ...]


# --- results -------------------------------------------------------------------------------------

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One way a case's outcome differs from what it expects. `what` is an output, segment or let,
    `fired`, or `error`; `expected` and `actual` are written as the language writes values."""

    what: str
    expected: str
    actual: str
    note: str = ""

    @property
    def text(self) -> str:
        """`sla: expected 4h, got 3d (the default)`."""
        return f"{self.what}: expected {self.expected}, got {self.actual}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class CaseResult:
    """What one case gave: passed, failed (with every mismatch) or error (with diagnostics)."""

    name: str
    file: str
    line: int
    policy: str
    """The name of the policy under test (JUnit's classname)."""
    status: Status
    mismatches: tuple[Mismatch, ...] = ()
    problems: tuple[Diagnostic, ...] = ()
    """Why the case is an error: facts the policy rejects, a conflict, an evaluation error."""
    fired: tuple[str, ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)
    """The decision's outputs as JSON values (empty when there was no decision)."""
    duration: float = 0.0
    decision: Decision | None = field(default=None, compare=False, repr=False)
    """The decision of a failed case, for its explanation."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "policy": self.policy,
            "status": self.status,
            "mismatches": [
                {"what": m.what, "expected": m.expected, "actual": m.actual, "note": m.note, "text": m.text}
                for m in self.mismatches
            ],
            "problems": [to_dict(d) for d in self.problems],
            "fired": list(self.fired),
            "outputs": self.outputs,
            "duration": round(self.duration, 6),
        }


@dataclass(frozen=True)
class FileResult:
    """One test file's outcome. A file with `problems` ran nothing; a policy with errors
    (`policy_problems`) makes every case an error."""

    path: str
    policy_file: str | None
    policy_name: str
    cases: tuple[CaseResult, ...]
    problems: tuple[Diagnostic, ...] = ()
    policy_problems: tuple[Diagnostic, ...] = ()
    sources: dict[str, SourceFile] = field(default_factory=dict, compare=False, repr=False)
    duration: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for case in self.cases if case.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "policy_file": self.policy_file,
            "policy": self.policy_name,
            "cases": [case.to_dict() for case in self.cases],
            "problems": [to_dict(d) for d in self.problems],
            "policy_problems": [to_dict(d) for d in self.policy_problems],
            "duration": round(self.duration, 6),
        }


@dataclass(frozen=True)
class TestReport:
    """Everything a run gave: per file and case, the rules' coverage, and the paths that named
    nothing to test. `exit_code` is what `policy test` exits with."""

    __test__ = False  # not a pytest test class, whatever its name

    files: tuple[FileResult, ...]
    coverage: Coverage
    problems: tuple[Diagnostic, ...] = ()
    duration: float = 0.0

    @property
    def cases(self) -> list[CaseResult]:
        return [case for file in self.files for case in file.cases]

    @property
    def passed(self) -> int:
        return sum(file.count("passed") for file in self.files)

    @property
    def failed(self) -> int:
        return sum(file.count("failed") for file in self.files)

    @property
    def errors(self) -> int:
        return sum(file.count("error") for file in self.files)

    @property
    def bad_files(self) -> list[FileResult]:
        """Test files with problems of their own, which ran nothing."""
        return [file for file in self.files if file.problems]

    @property
    def ok(self) -> bool:
        """Every case passed and every test file could be read."""
        return self.exit_code == ExitCode.OK

    @property
    def exit_code(self) -> ExitCode:
        """2 when a path or a test file is bad (usage), 1 when a case failed or errored, else 0."""
        if self.problems or self.bad_files:
            return ExitCode.USAGE
        if self.failed or self.errors:
            return ExitCode.FINDINGS
        return ExitCode.OK

    def sources(self) -> dict[str, SourceFile]:
        """Every text a diagnostic of the report may point into."""
        found: dict[str, SourceFile] = {}
        for file in self.files:
            found.update(file.sources)
        return found

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `policy test --format json`."""
        return {
            "summary": {
                "passed": self.passed,
                "failed": self.failed,
                "errors": self.errors,
                "bad_files": len(self.bad_files),
                "duration": round(self.duration, 6),
                "exit_code": int(self.exit_code),
            },
            "files": [file.to_dict() for file in self.files],
            "problems": [to_dict(d) for d in self.problems],
            "coverage": self.coverage.to_dict(),
        }
