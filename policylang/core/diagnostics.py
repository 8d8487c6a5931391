"""Diagnostics: one shape for every problem a user can cause, and pure renderers to text and JSON."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from .pickling import pickle_slots_quickly
from .source import HIDDEN_CHARACTER, SourceFile, Span


class Code(StrEnum):
    """Stable diagnostic codes (design sketch, "What `policy check` finds"). Codes never change meaning."""

    SYNTAX_ERROR = "syntax-error"
    UNKNOWN_NAME = "unknown-name"
    TYPE_MISMATCH = "type-mismatch"
    DUPLICATE_NAME = "duplicate-name"
    IMPORT_ERROR = "import-error"
    CYCLE = "cycle"
    CONFLICT = "conflict"
    SHADOWED_RULE = "shadowed-rule"
    UNREACHABLE_RULE = "unreachable-rule"
    COVERAGE_GAP = "coverage-gap"
    REDUNDANT_RULE = "redundant-rule"
    ANALYSIS_INCOMPLETE = "analysis-incomplete"
    OVERLAP = "overlap"
    IO_ERROR = "io-error"
    FACTS_ERROR = "facts-error"
    EVALUATION_ERROR = "evaluation-error"
    LOG_ERROR = "log-error"
    REPLAY_DIFFERS = "replay-differs"
    USAGE = "usage"
    LIMIT_EXCEEDED = "limit-exceeded"
    HIDDEN_TEXT = "hidden-text"
    INTERNAL_ERROR = "internal-error"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ExitCode(IntEnum):
    """Process exit codes shared by every command: 0 clean, 1 findings, 2 usage or I/O errors."""

    OK = 0
    FINDINGS = 1
    USAGE = 2


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary span with a short text, such as "first declared here"."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """A problem found in a policy or in facts.

    `message` says what is wrong at the span (lowercase, no final period); `label` is the short
    text shown under the caret; `hint` says what to do. They are never joined into one string.
    """

    code: Code
    severity: Severity
    message: str
    span: Span | None = None
    label: str | None = None
    labels: tuple[Label, ...] = ()
    hint: str | None = None
    notes: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    witness: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code.value)
        return (self.span.file, self.span.line, self.span.column, self.code.value)


def error(code: Code, message: str, span: Span | None, **extra: Any) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.ERROR, message=message, span=span, **extra)


def warning(code: Code, message: str, span: Span | None, **extra: Any) -> Diagnostic:
    return Diagnostic(code=code, severity=Severity.WARNING, message=message, span=span, **extra)


def internal_error(exc: BaseException, doing: str, span: Span | None = None, content_hash: str = "") -> Diagnostic:
    """The `internal-error` for an exception policylang did not raise on purpose (a bug): what it was
    doing, the exception's type and message, and the policy's version when one is known."""
    version = f" (policy {content_hash[:12]})" if content_hash else ""
    return error(
        Code.INTERNAL_ERROR,
        f"{doing} failed{version}: {type(exc).__name__}: {exc}",
        span,
        hint="this is a bug in policylang; please report it with the policy (and the facts) you used",
    )


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean `x`?" hint from the closest candidate names, or None."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


MAX_PER_FILE = 50
"""At most this many diagnostics are rendered per file; the rest are summed up in one note."""


def sort_and_cap(diagnostics: Iterable[Diagnostic], cap: int = MAX_PER_FILE) -> list[Diagnostic]:
    """Diagnostics sorted by (file, line, column, code), duplicates dropped, at most `cap` per file.

    When a file has more, its last kept entry is followed by an info diagnostic saying how many
    more there were, so that nothing is dropped silently.
    """
    unique: dict[tuple[Any, ...], Diagnostic] = {}
    for diag in diagnostics:
        key = (diag.code, diag.severity, diag.message, diag.span, diag.hint, diag.rules)
        unique.setdefault(key, diag)
    ordered = sorted(unique.values(), key=Diagnostic.sort_key)
    kept: list[Diagnostic] = []
    per_file: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for diag in ordered:
        file = diag.span.file if diag.span else ""
        per_file[file] = per_file.get(file, 0) + 1
        if per_file[file] <= cap:
            kept.append(diag)
        else:
            dropped[file] = dropped.get(file, 0) + 1
    for file, count in dropped.items():
        kept.append(
            Diagnostic(
                code=_dominant_code(ordered, file),
                severity=Severity.INFO,
                message=f"{count} more diagnostics in `{file}` not shown",
                hint="fix the problems above and check again",
            )
        )
    return kept


def _dominant_code(diagnostics: Sequence[Diagnostic], file: str) -> Code:
    counts: dict[Code, int] = {}
    for diag in diagnostics:
        if (diag.span.file if diag.span else "") == file:
            counts[diag.code] = counts.get(diag.code, 0) + 1
    return max(counts, key=lambda code: counts[code])


# --- text rendering -----------------------------------------------------------------------------

_SNIPPET_WIDTH = 100
"""Lines longer than this are cut around the caret so that a 1 MB line still renders readably."""


def _visible(text: str) -> str:
    """Make control characters (C0, DEL, C1) and lone surrogates visible so that binary junk cannot
    garble a terminal or make printing fail, and hidden ones (a bidirectional override) so that they
    cannot reorder the line shown; one `?` each keeps the caret under its column."""
    out = []
    for ch in text:
        if ch == "\t":
            out.append("    ")
        elif ord(ch) < 32 or 127 <= ord(ch) <= 159 or 0xD800 <= ord(ch) <= 0xDFFF or HIDDEN_CHARACTER.match(ch):
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


def _snippet(source: SourceFile, span: Span, text: str | None, gutter: int, mark: str) -> list[str]:
    line = source.line_text(span.line)
    start_col = span.column - 1
    end_col = max(span.end_column - 1, start_col + 1) if span.end_line == span.line else max(len(line), start_col + 1)
    prefix = _visible(line[:start_col])
    marked = _visible(line[start_col:end_col]) or " "
    suffix = _visible(line[end_col:])
    # Cut very long lines to a window around the marked text; lines that fit are shown whole.
    if len(prefix) + len(marked) + len(suffix) <= _SNIPPET_WIDTH:
        pass
    elif len(prefix) > _SNIPPET_WIDTH // 2:
        prefix = "…" + prefix[-(_SNIPPET_WIDTH // 2) :]
    if len(marked) > _SNIPPET_WIDTH:
        marked = marked[:_SNIPPET_WIDTH] + "…"
    if len(prefix) + len(marked) + len(suffix) > _SNIPPET_WIDTH and len(suffix) > _SNIPPET_WIDTH // 2:
        suffix = suffix[: _SNIPPET_WIDTH // 2] + "…"
    shown = prefix + marked + suffix
    if span.end_line > span.line:
        shown += " …"
    number = str(span.line).rjust(gutter)
    underline = " " * len(prefix) + mark * max(1, min(len(marked), _SNIPPET_WIDTH))
    if text:
        underline += " " + text
    pad = " " * gutter
    return [f"{number} | {shown}", f"{pad} | {underline}"]


def render_text(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, SourceFile],
    *,
    color: bool = False,
) -> str:
    """Render diagnostics like a compiler: `file:line:col: severity[code]: message`, the source line,
    a caret under the span, secondary labels, then notes and the hint."""
    blocks = []
    for diag in diagnostics:
        blocks.append(_render_one(diag, sources, color))
    return "\n".join(blocks)


def _style(text: str, color: bool, fg: str, bold: bool = True) -> str:
    if not color:
        return text
    import click  # deferred: start-up (click, only when colour is wanted); click strips nothing itself here

    return click.style(text, fg=fg, bold=bold)


_SEVERITY_COLOR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _render_one(diag: Diagnostic, sources: Mapping[str, SourceFile], color: bool) -> str:
    head_sev = _style(f"{diag.severity.value}[{diag.code.value}]", color, _SEVERITY_COLOR[diag.severity])
    where = f"{diag.span.file}:{diag.span.line}:{diag.span.column}: " if diag.span is not None else ""
    lines = [f"{where}{head_sev}: {_style(diag.message, color, 'white')}"]
    spans = [(diag.span, diag.label, "^")] if diag.span is not None else []
    spans += [(label.span, label.text, "-") for label in diag.labels]
    shown = [(s, t, m) for s, t, m in spans if s is not None and s.file in sources]
    if shown:
        gutter = max(len(str(s.line)) for s, _, _ in shown)
        pad = " " * gutter
        lines.append(f"{pad} |")
        current_file = shown[0][0].file
        for span, text, mark in shown:
            if span.file != current_file:
                lines.append(f"{pad} = in {span.file}:{span.line}:{span.column}")
                current_file = span.file
            lines.extend(_snippet(sources[span.file], span, text, gutter, mark))
        prefix = f"{pad} = "
    else:
        prefix = "  = "
    for note in diag.notes:
        lines.append(f"{prefix}note: {note}")
    if diag.hint:
        lines.append(f"{prefix}{_style('hint', color, 'green')}: {diag.hint}")
    if diag.witness is not None:
        lines.append(f"{prefix}witness (facts that show it):")
        for line in json.dumps(diag.witness, indent=2, sort_keys=True, default=str).splitlines():
            lines.append(f"{prefix}  {line}")
    return "\n".join(lines)


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    """ "2 errors, 1 warning" (or "no problems found")."""
    counts = {sev: 0 for sev in Severity}
    for diag in diagnostics:
        counts[diag.severity] += 1
    parts = []
    for sev, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note")):
        n = counts[sev]
        if n:
            parts.append(f"{n} {word}{'' if n == 1 else 's'}")
    return ", ".join(parts) if parts else "no problems found"


# --- JSON rendering -----------------------------------------------------------------------------


def to_dict(diag: Diagnostic) -> dict[str, Any]:
    """The design sketch's JSON shape of one diagnostic, with end positions, labels and notes added."""
    span = diag.span
    return {
        "code": diag.code.value,
        "severity": diag.severity.value,
        "message": diag.message,
        "file": span.file if span else None,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
        "label": diag.label,
        "hint": diag.hint,
        "notes": list(diag.notes),
        "labels": [
            {"file": lb.span.file, "line": lb.span.line, "column": lb.span.column, "text": lb.text}
            for lb in diag.labels
        ],
        "rules": list(diag.rules),
        "witness": diag.witness,
    }


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    """`{"diagnostics": [...]}` as in the design sketch, indented for people and stable for tools."""
    return json.dumps({"diagnostics": [to_dict(d) for d in diagnostics]}, indent=2, ensure_ascii=False, default=str)


pickle_slots_quickly(globals())
