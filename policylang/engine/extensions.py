"""What the layers above the engine plug into it: the analysis behind `Policy.analyse`, the tracer
behind `Policy.trace`, the explanation and why-not answers behind `Decision.explain` and
`Decision.why_not`, and the shape of a decision log for `decide(log=...)`.

Imports point down only (docs/architecture.md), so the engine may not import the layers that use
it; it calls them through what they install here. `policylang/api.py` installs them, and importing
any part of policylang imports `policylang` (hence api) first, so they are always in place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..core.diagnostics import Diagnostic
from ..semantics.typed_tree import CheckedPolicy

if TYPE_CHECKING:  # answers.py loads pydantic, which `import policylang` (which imports this) must not
    from .answers import Trace, WhyNot

# The engine's own Policy and Decision appear below as `Any`: naming them would make this module
# and evaluator.py import each other.


class DecisionRecorder(Protocol):
    """What `Policy.decide(log=...)` needs of a decision log (policylang.decision_log.DecisionLog)."""

    def record(self, policy: Any, facts: Mapping[str, Any], decision: Any) -> str:
        """Store the decision `policy` made on `facts` (as given); its id in the log."""
        ...


class DecisionTracer(Protocol):
    """Traces decisions of one policy (explain/trace.py `Tracer`), made once per policy."""

    def trace(self, decision: Any, only: Collection[str] | None = None, detail: Any = "full") -> Trace:
        """The decision's trace, for the outputs in `only` (None: every output), full, summarised or
        either by size (`detail`: "full", "summary", "auto")."""
        ...


@dataclass(frozen=True)
class Extensions:
    """The answers the engine's Policy and Decision give through the layers above it."""

    analyse: Callable[..., list[Diagnostic]]
    """(policy, *, overlaps, budget, progress, max_findings): the static analysis's findings
    (analysis/analyser.py `analyse`)."""
    tracer: Callable[[CheckedPolicy], DecisionTracer]
    """A policy's tracer (explain/trace.py `Tracer`)."""
    explain_text: Callable[..., str]
    """(decision, *, width, why_not, outputs, detail): the plain-text explanation (explain/rendering.py)."""
    why_not: Callable[..., WhyNot]
    """(decision, wanted, value): the why-not answer (explain/why_not.py `why_not`)."""


_installed: list[Extensions] = []


def install(extensions: Extensions) -> None:
    """Put `extensions` in place of any installed before."""
    _installed[:] = [extensions]


def installed() -> Extensions:
    """The extensions in place. Raises RuntimeError when none are, which importing policylang prevents."""
    if not _installed:
        raise RuntimeError("policylang's analysis and explain layers are not installed; import policylang first")
    return _installed[0]
