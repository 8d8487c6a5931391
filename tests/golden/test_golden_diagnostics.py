"""Golden diagnostics: each tests/golden/diagnostics/NAME.policy against its `# expect:` lines, NAME.txt and NAME.json.

A case file starts with comment lines; those of the form

    # expect: CODE LINE:COLUMN "TEXT"
    # expect: CODE imports/other.policy:LINE:COLUMN "TEXT"

say that `policy check` reports CODE with its primary span at LINE:COLUMN (1-based, in the case
file or in a file relative to it), and that TEXT is the exact source text under the caret (a JSON
string, so `\\"`, `\\\\` and `\\u0000` work). Every expectation must be met, and every error reported
must be expected. The rendered text and JSON are compared with the golden files; regenerate them
with `pytest tests/golden --update-golden` and read the diff.

Helper files that cases import live in diagnostics/imports/ and are not cases themselves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import assert_golden

import policylang
from policylang.core.diagnostics import Code, Diagnostic

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = Path(__file__).resolve().parent / "diagnostics"
POLICIES = sorted(CASES.glob("*.policy"))  # not recursive: diagnostics/imports/ holds helpers

_EXPECT = re.compile(
    r"^#\s*expect:\s*(?P<code>[a-z-]+)\s+(?:(?P<file>\S+):)?(?P<line>\d+):(?P<column>\d+)\s+(?P<text>\".*\")\s*$"
)


@dataclass(frozen=True)
class Expectation:
    code: str
    file: Path
    line: int
    column: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {_shown(self.file)}:{self.line}:{self.column} {json.dumps(self.text, ensure_ascii=False)}"


def _read(path: Path) -> str:
    """A file's text as the diagnostics see it; bytes that are not UTF-8 read as U+FFFD (the io-error case)."""
    return path.read_bytes().decode("utf-8", errors="replace")


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def expectations(path: Path) -> list[Expectation]:
    """The `# expect:` lines of the comment block that opens a case file."""
    found = []
    for line in _read(path).splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# expect:") or line.startswith("#expect:"):
            match = _EXPECT.match(line)
            assert match, f"{path.name}: malformed expectation line: {line}"
            file = (path.parent / match["file"]).resolve() if match["file"] else path.resolve()
            found.append(
                Expectation(match["code"], file, int(match["line"]), int(match["column"]), json.loads(match["text"]))
            )
    return found


def _actual(diag: Diagnostic) -> Expectation | None:
    """A diagnostic in the shape of an expectation (None when it has no span)."""
    if diag.span is None:
        return None
    file = (ROOT / diag.span.file).resolve()
    text = _read(file)[diag.span.start : diag.span.end] if file.is_file() else "<unreadable>"
    return Expectation(diag.code.value, file, diag.span.line, diag.span.column, text)


def _problems(wanted: list[Expectation], diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    remaining = [(d, _actual(d)) for d in diagnostics]
    problems = []
    for expectation in wanted:
        match = next((i for i, (_, actual) in enumerate(remaining) if actual == expectation), None)
        if match is None:
            problems.append(f"expected, not reported: {expectation}")
        else:
            remaining.pop(match)
    for diag, actual in remaining:
        if diag.is_error:
            where = str(actual) if actual is not None else f"{diag.code.value} (no span)"
            problems.append(f"reported, not expected: {where}: {diag.message}")
    return problems


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_golden_diagnostics(path: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Run from the repository root with a relative path, so that file names in the goldens are
    # the same on every machine (imports resolve relative to the case file either way).
    monkeypatch.chdir(ROOT)
    report = policylang.check_file(path.relative_to(ROOT).as_posix())
    text = policylang.render_text(report.diagnostics, report.sources) + "\n"
    as_json = policylang.render_json(report.diagnostics) + "\n"
    wanted = expectations(path)
    assert wanted, f"{path.name} has no `# expect:` lines; every case is a broken policy"
    if update_golden:  # write the goldens even while expectations fail, so that they can be read
        assert_golden(path.with_suffix(".txt"), text, update_golden)
        assert_golden(path.with_suffix(".json"), as_json, update_golden)
    problems = _problems(wanted, report.diagnostics)
    assert not problems, "\n".join([*problems, "", "what policy check says:", text])
    assert_golden(path.with_suffix(".txt"), text, update_golden)
    assert_golden(path.with_suffix(".json"), as_json, update_golden)


# Codes that `policy check` reports today; the others belong to the analysis and the evaluator.
CHECKER_CODES = {
    Code.SYNTAX_ERROR,
    Code.UNKNOWN_NAME,
    Code.TYPE_MISMATCH,
    Code.DUPLICATE_NAME,
    Code.IMPORT_ERROR,
    Code.CYCLE,
    Code.IO_ERROR,
}


def test_corpus_covers_every_checker_code() -> None:
    covered = {e.code for path in POLICIES for e in expectations(path)}
    missing = {code.value for code in CHECKER_CODES} - covered
    assert not missing, f"no golden case expects: {sorted(missing)}"
    assert len(POLICIES) >= 45


def test_docs_have_a_section_per_code() -> None:
    docs = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## `([a-z-]+)`", docs, flags=re.MULTILINE))
    assert headings >= {code.value for code in Code}, sorted({code.value for code in Code} - headings)


def test_docs_quote_the_goldens() -> None:
    """Every output quoted in docs/diagnostics.md is still what the golden file says (refresh the docs when not)."""
    docs = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```text\n(.*?)^```", docs, flags=re.MULTILINE | re.DOTALL)
    quoted = [b for b in blocks if b.startswith("tests/golden/diagnostics/")]
    assert quoted
    stale = []
    for block in quoted:
        name = block.split(":", 1)[0]
        golden = (ROOT / name).with_suffix(".txt").read_text(encoding="utf-8")
        if block not in golden:
            stale.append(block.splitlines()[0])
    assert not stale, "docs/diagnostics.md quotes output that its golden file no longer has:\n" + "\n".join(stale)
