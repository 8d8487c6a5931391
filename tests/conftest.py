"""Shared fixtures: `--update-golden` rewrites golden files; helpers to parse and check policy text."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import policylang
from policylang.engine import compiler
from policylang.semantics.checker import CheckResult, check

# In CI (CI=true), property tests replay a fixed, derandomized set of examples, so a submission's
# CI result is the one its author saw; everywhere else they explore new random examples each run.
settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _analysis_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`policylang.load` caches clean analyses on disk; tests use a folder of their own, not ~/.cache
    (subprocesses started by the tests inherit it)."""
    os.environ["POLICYLANG_CACHE_DIR"] = str(tmp_path_factory.mktemp("policylang-cache"))


DESIGN_SKETCH = ROOT.parent / "shared" / "design" / "policy-language.md"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output (review the diff in git)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def assert_golden(path: Path, actual: str, update: bool) -> None:
    """Compare `actual` with the golden file at `path`; show a unified diff on mismatch."""
    if update or not path.exists():
        if not update:
            pytest.fail(f"golden file {path} is missing; run pytest --update-golden and review it")
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True), str(path), "actual"
            )
        )
        pytest.fail(f"output differs from {path.name} (run pytest --update-golden to accept):\n{diff}")


def check_text(text: str, filename: str = "test.policy") -> CheckResult:
    """Parse and check policy text (imports resolved from the working directory)."""
    return check(text, filename)


def under_span(diagnostic: policylang.Diagnostic, text: str) -> str:
    """The source text under a diagnostic's primary span (what the caret underlines)."""
    assert diagnostic.span is not None
    return text[diagnostic.span.start : diagnostic.span.end]


@pytest.fixture(scope="module")
def index_from_48_rules() -> Iterator[None]:
    """Policies of 48 rules and more are indexed, as any run of INDEX_THRESHOLD rules is; the
    threshold is set where the index starts to pay, above the sizes property tests draw. A module
    that tests the index asks for this with `pytestmark = pytest.mark.usefixtures(...)`."""
    saved = compiler.INDEX_THRESHOLD
    compiler.INDEX_THRESHOLD = 48
    try:
        yield
    finally:
        compiler.INDEX_THRESHOLD = saved
