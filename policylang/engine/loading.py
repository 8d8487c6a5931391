"""A checked policy made a Policy, every failure a PolicyError carrying its diagnostics: what
`policylang.compile`, `load` and `compile_snapshot` share, below the decision log, which compiles
stored snapshots to replay and verify them.

Importing this module does not import the evaluator (networkx, pydantic): `import policylang` and
`policy check` load it without deciding anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.diagnostics import Code, Diagnostic, error, internal_error, render_text
from ..core.errors import PolicylangError, UsageError
from ..core.source import SourceFile
from ..semantics.checker import check
from ..semantics.typed_tree import CheckedPolicy

if TYPE_CHECKING:  # only for the annotations; see the module's docstring
    from .evaluator import Policy
    from .extensions import DecisionRecorder


class PolicyError(PolicylangError):
    """A policy that cannot be used; `diagnostics` says every reason, with spans.

    Its `code` is its first error's: `syntax-error`, `type-mismatch`, `conflict` (refused by `load`),
    `io-error`, `internal-error` (a policy that checks but then fails to compile: a bug) ... The
    class's own code, `internal-error`, is left only on one raised without an error diagnostic.
    """

    code = Code.INTERNAL_ERROR

    def __init__(self, diagnostics: tuple[Diagnostic, ...], sources: dict[str, SourceFile] | None = None) -> None:
        self.diagnostics = diagnostics
        self.sources = sources or {}
        first_error = next((d for d in diagnostics if d.is_error), None)
        if first_error is not None:
            self.code = first_error.code
        first = first_error or (diagnostics[0] if diagnostics else None)
        super().__init__(first.message if first else "invalid policy")

    def __str__(self) -> str:
        return render_text(self.diagnostics, self.sources)


STAGES = {"check": "checking", "compile": "compiling", "analyse": "the analysis", "format": "formatting"}
"""The stages `unexpected` names, each with the words its diagnostic uses."""


def unexpected(exc: Exception, stage: str, content_hash: str = "") -> Diagnostic:
    """The diagnostic for an exception that no bad input should cause: `limit-exceeded` when the
    machine ran out of memory (the policy is too large for it), `internal-error` (a bug) otherwise.
    `stage` is a key of STAGES."""
    if isinstance(exc, MemoryError):
        return error(
            Code.LIMIT_EXCEEDED,
            f"the policy is too large to {stage} in the memory available (MemoryError)",
            None,
            hint="give the process more memory, or split the policy into smaller ones",
        )
    return internal_error(exc, STAGES[stage], content_hash=content_hash)


def check_unknown_facts(unknown_facts: str) -> None:
    """A wrong `unknown_facts` is the caller's ValueError, raised before any work (not an internal error)."""
    if unknown_facts not in ("reject", "ignore"):
        raise UsageError(f"unknown_facts must be 'reject' or 'ignore', got {unknown_facts!r}")


def policy_from(
    checked: CheckedPolicy | None,
    diagnostics: tuple[Diagnostic, ...],
    sources: Mapping[str, SourceFile],
    unknown_facts: str,
    log: DecisionRecorder | None = None,
) -> Policy:
    """The compiled Policy of a checked policy. Raises PolicyError with `diagnostics` when they
    hold an error (or there is no policy), and with an `internal-error` added when compiling fails."""
    if checked is None or any(d.is_error for d in diagnostics):
        raise PolicyError(diagnostics, dict(sources))
    from .evaluator import Policy  # deferred: start-up (networkx, pydantic; see the module's docstring)

    try:
        return Policy(checked, diagnostics, unknown_facts=unknown_facts, log=log)
    except Exception as exc:  # the checker passed it, so this is a bug, or no memory left
        problem = unexpected(exc, "compile", checked.content_hash)
        raise PolicyError((*diagnostics, problem), dict(sources)) from exc


def compile_snapshot(snapshot: dict[str, Any], *, unknown_facts: str = "reject") -> Policy:
    """The policy a snapshot (`Policy.snapshot`) was taken of, compiled from the stored texts alone:
    no file is read, so it is the version that was stored even when the files have changed since.
    Raises PolicyError (a snapshot that is not well formed too)."""
    try:
        root = snapshot["modules"][snapshot["root"]]
        text, name = root["text"], root["name"]
        if not isinstance(text, str) or not isinstance(name, str):
            raise TypeError("texts and names are strings")
    except (KeyError, TypeError) as exc:
        problem = error(Code.IO_ERROR, f"the stored policy is incomplete ({exc})", None)
        raise PolicyError((problem,)) from None
    check_unknown_facts(unknown_facts)
    try:
        result = check(text, name, snapshot=snapshot)
    except Exception as exc:  # a bug (or no memory left), or a snapshot whose inner shapes are wrong
        raise PolicyError((unexpected(exc, "check"),)) from exc
    sources = {m.name: m.parsed.source for m in result.modules}
    return policy_from(result.policy, result.diagnostics, sources, unknown_facts)
