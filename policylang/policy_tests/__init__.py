"""Policy tests: YAML files of cases beside the policies (`NAME.test.yaml`), run against the
policy with coverage of its rules; `policy test` is a thin layer over `run_tests` (docs/testing.md).

>>> from policylang.policy_tests import run_tests
>>> report = run_tests(["examples/support"])
>>> report.ok, report.passed > 0
(True, True)
"""

from __future__ import annotations

from .coverage import Coverage, FileCoverage, RuleCoverage
from .junit import junit_xml
from .model import DEFAULT_AS_OF, ERROR_KINDS, CaseResult, FileResult, Mismatch, TestFile, TestReport
from .render import render_report
from .runner import run_tests
from .suite import parse_test_file, read_test_file

__all__ = [
    "DEFAULT_AS_OF",
    "ERROR_KINDS",
    "CaseResult",
    "Coverage",
    "FileCoverage",
    "FileResult",
    "Mismatch",
    "RuleCoverage",
    "TestFile",
    "TestReport",
    "junit_xml",
    "parse_test_file",
    "read_test_file",
    "render_report",
    "run_tests",
]
