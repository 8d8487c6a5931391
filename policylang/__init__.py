"""policylang: declarative service policies, checked like a compiler checks code.

>>> import policylang
>>> report = policylang.check_source("if tier == premium then skip_fraud_check", "demo.policy")
>>> report.ok
True
"""

from __future__ import annotations

from .diagnostics import Code, Diagnostic, ExitCode, Severity, render_json, render_text, summary_line
from .facade import CheckReport, PolicyError, check_file, check_source, format_file, format_source
from .formatter import FormatResult
from .parser import ParseResult, parse

__version__ = "0.1.0"

__all__ = [
    "CheckReport",
    "Code",
    "Diagnostic",
    "ExitCode",
    "FormatResult",
    "ParseResult",
    "PolicyError",
    "Severity",
    "__version__",
    "check_file",
    "check_source",
    "format_file",
    "format_source",
    "parse",
    "render_json",
    "render_text",
    "summary_line",
]
