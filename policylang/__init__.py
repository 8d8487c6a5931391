"""policylang: declarative service policies, checked like a compiler checks code.

>>> import policylang
>>> report = policylang.check_source("if tier == premium then skip_fraud_check", "demo.policy")
>>> report.ok
True
"""

from __future__ import annotations

import importlib
from typing import Any

from .api import CheckReport, PolicyError, check_file, check_source, compile_snapshot, format_file, format_source, load
from .api import compile_source as compile  # the design sketch's name: policylang.compile
from .core.diagnostics import Code, Diagnostic, ExitCode, Severity, render_json, render_text, summary_line
from .core.errors import PolicylangError, UsageError
from .core.version import VERSION
from .engine.compile_cache import CompileCacheWarning
from .syntax.parser import ParseResult, parse

# The evaluator pulls in networkx and pydantic (about 0.3 s); `policy check` and `policy fmt` never
# need them, so these names load on first use.
_LAZY = {
    "AnalysisIncompleteWarning": ("analysis.cache", "AnalysisIncompleteWarning"),
    "FormatResult": ("syntax.formatter", "FormatResult"),
    "Decision": ("engine.evaluator", "Decision"),
    "Policy": ("engine.evaluator", "Policy"),
    "MISSING": ("engine.facts", "MISSING"),
    "FactsError": ("engine.facts", "FactsError"),
    "Facts": ("engine.typed_facts", "Facts"),
    "ConflictError": ("engine.runtime", "ConflictError"),
    "EvaluationError": ("engine.runtime", "EvaluationError"),
    "InternalError": ("engine.runtime", "InternalError"),
    "DecisionLog": ("decision_log", "DecisionLog"),
    "LogError": ("decision_log", "LogError"),
    "open_log": ("decision_log", "open_log"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'policylang' has no attribute {name!r}")


__version__ = VERSION

__all__ = [
    "MISSING",
    "AnalysisIncompleteWarning",
    "CheckReport",
    "Code",
    "CompileCacheWarning",
    "ConflictError",
    "Decision",
    "DecisionLog",
    "Diagnostic",
    "EvaluationError",
    "ExitCode",
    "Facts",
    "FactsError",
    "FormatResult",
    "InternalError",
    "LogError",
    "ParseResult",
    "Policy",
    "PolicyError",
    "PolicylangError",
    "Severity",
    "UsageError",
    "__version__",
    "check_file",
    "check_source",
    "compile",
    "compile_snapshot",
    "format_file",
    "format_source",
    "load",
    "open_log",
    "parse",
    "render_json",
    "render_text",
    "summary_line",
]
