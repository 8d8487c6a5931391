"""Every policy example in the docs, the README and the design sketch checks the way its fence says.

Fences in docs/*.md and README.md:

- ```policy: must check with no errors, and the formatter must accept it (`format_source(...).ok`).
- ```policy-invalid: must produce at least one error, and must be followed by a ```text fence
  with the `policy check` output; every `FILE:LINE:COL: error[CODE]` line shown there must be a
  diagnostic that `policy check` really reports.
- `file=NAME.policy` after either tag names the block's file. Such blocks are written into the
  temporary folder before any example of the same document is checked, so that other examples
  can import them. An example without `file=` is checked as `example.policy`.

From the design sketch (../shared/design/policy-language.md), its policy fences are checked the
same way (the support example beside examples/support/fraud.policy), and so is the one-liner that
must work alone in a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import policylang

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
README = ROOT / "README.md"
DESIGN_SKETCH = ROOT.parent / "shared" / "design" / "policy-language.md"
EXAMPLES = ROOT / "examples"

DEFAULT_NAME = "example.policy"
ONE_LINER = "if tier == premium and tenure > 2y then skip_fraud_check, sla=4h"
DESIGN_COMPANIONS = {"fraud.policy": EXAMPLES / "support" / "fraud.policy"}
"""Files the design sketch's examples import, and where they live in this repository."""

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")
_HEADER = re.compile(r"^(?P<file>\S+?):(?P<line>\d+):(?P<column>\d+): error\[(?P<code>[a-z-]+)\]", re.MULTILINE)
_FILE_COMMENT = re.compile(r"^#\s*(?P<name>[\w.-]+\.policy)\s*$")
_POLICY_START = re.compile(
    r'^(?:policy\s+\w+(?:\s+"(?:[^"\\]|\\.)*")?\s*(?:#.*)?$|(?:import|input|output|segment|let|rule|if)\b)'
)


@dataclass(frozen=True)
class Fence:
    """One fenced block of a Markdown file: its tag (first word of the info string), attributes and text."""

    source: Path
    line: int
    tag: str
    attrs: dict[str, str]
    text: str


@dataclass(frozen=True)
class Example:
    """A policy to check: as which file, which companion files sit beside it, and what to expect."""

    id: str
    name: str
    text: str
    valid: bool
    companions: dict[str, str] = field(default_factory=dict)
    output: Fence | None = None
    """The ```text fence after a ```policy-invalid block (None when it is missing)."""


def read_fences(path: Path) -> list[Fence]:
    """The fenced blocks of a Markdown file, as CommonMark delimits them (``` or ~~~, any length)."""
    fences: list[Fence] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            body.append(lines[end])
            end += 1
        words = opening["info"].split()
        attrs = dict(word.split("=", 1) for word in words[1:] if "=" in word)
        text = "\n".join(body) + "\n" if body else ""
        fences.append(Fence(path, index + 1, words[0] if words else "", attrs, text))
        index = end + 1
    return fences


def _doc_examples(path: Path) -> Iterator[Example]:
    fences = read_fences(path)
    companions = {
        f.attrs["file"]: f.text for f in fences if f.tag in ("policy", "policy-invalid") and "file" in f.attrs
    }
    for position, fence in enumerate(fences):
        if fence.tag not in ("policy", "policy-invalid"):
            continue
        following = fences[position + 1] if position + 1 < len(fences) else None
        yield Example(
            id=f"{path.name}:{fence.line}",
            name=fence.attrs.get("file", DEFAULT_NAME),
            text=fence.text,
            valid=fence.tag == "policy",
            companions=companions,
            output=following if following is not None and following.tag == "text" else None,
        )


def _is_design_policy(fence: Fence) -> bool:
    """The design sketch tags no fences: a policy example is one whose first line is policy text."""
    if fence.tag == "policy":
        return True
    if fence.tag:
        return False
    first = next((line.strip() for line in fence.text.splitlines() if line.strip()), "")
    return bool(_FILE_COMMENT.match(first) or _POLICY_START.match(first))


def _design_examples() -> Iterator[Example]:
    if not DESIGN_SKETCH.exists():
        return
    companions = {name: path.read_text(encoding="utf-8") for name, path in DESIGN_COMPANIONS.items()}
    for fence in read_fences(DESIGN_SKETCH):
        if not _is_design_policy(fence):
            continue
        first = fence.text.lstrip().splitlines()[0]
        named = _FILE_COMMENT.match(first)
        yield Example(
            id=f"design:{fence.line}",
            name=named["name"] if named else DEFAULT_NAME,
            text=fence.text,
            valid=True,
            companions=companions,
        )


def _all_doc_examples() -> list[Example]:
    sources = [*DOCS, *([README] if README.exists() else [])]
    return [example for path in sources for example in _doc_examples(path)]


DOC_EXAMPLES = _all_doc_examples()
DESIGN_EXAMPLES = list(_design_examples())


def check_example(example: Example, folder: Path, monkeypatch: pytest.MonkeyPatch) -> policylang.CheckReport:
    """Write the example and its companions into `folder` and check it as `policy check NAME` would there."""
    for name, text in example.companions.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / example.name).write_text(example.text, encoding="utf-8")
    monkeypatch.chdir(folder)
    return policylang.check_file(example.name)


def _errors(report: policylang.CheckReport) -> list[policylang.Diagnostic]:
    return [d for d in report.diagnostics if d.is_error]


def _assert_valid(example: Example, report: policylang.CheckReport) -> None:
    assert not _errors(report), f"{example.id} should check without errors:\n{report.render()}"
    formatted = policylang.format_source(example.text, example.name)
    assert formatted.ok, f"{example.id}: the formatter refuses it: {[d.message for d in formatted.diagnostics]}"


@pytest.mark.parametrize("example", DOC_EXAMPLES, ids=[e.id for e in DOC_EXAMPLES])
def test_doc_example(example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = check_example(example, tmp_path, monkeypatch)
    if example.valid:
        _assert_valid(example, report)
        return
    errors = _errors(report)
    assert errors, f"{example.id} is marked policy-invalid but checks without errors"
    assert example.output is not None, f"{example.id}: a policy-invalid block must be followed by a ```text block"
    shown = [m.groupdict() for m in _HEADER.finditer(example.output.text)]
    assert shown, f"{example.id}: its ```text block shows no `FILE:LINE:COL: error[CODE]` line"
    actual = {(d.span.file, str(d.span.line), str(d.span.column), d.code.value) for d in errors if d.span is not None}
    for header in shown:
        where = (header["file"], header["line"], header["column"], header["code"])
        assert where in actual, (
            f"{example.id}: the docs show `{':'.join(where[:3])}: error[{where[3]}]`, "
            f"but `policy check` says:\n{report.render()}"
        )


def test_language_reference_has_examples() -> None:
    """Guards against a fence syntax change that would silently leave nothing to test."""
    ids = [e.id for e in DOC_EXAMPLES if e.id.startswith("language.md:")]
    invalid = [e for e in DOC_EXAMPLES if e.id.startswith("language.md:") and not e.valid]
    assert len(ids) >= 20
    assert invalid


@pytest.mark.parametrize("path", [*DOCS, README], ids=lambda p: p.name)
def test_companion_file_names_are_unique(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} does not exist")
    names = [f.attrs["file"] for f in read_fences(path) if "file" in f.attrs]
    assert len(names) == len(set(names)), f"{path.name} defines a `file=` block twice: {names}"


@pytest.mark.parametrize("example", DESIGN_EXAMPLES or [None], ids=[e.id for e in DESIGN_EXAMPLES] or ["none"])
def test_design_sketch_example(example: Example | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not DESIGN_SKETCH.exists():
        pytest.skip(f"the design sketch is not at {DESIGN_SKETCH}")
    assert example is not None, "the design sketch has no policy example"
    _assert_valid(example, check_example(example, tmp_path, monkeypatch))


def test_design_sketch_has_the_support_example() -> None:
    if not DESIGN_SKETCH.exists():
        pytest.skip(f"the design sketch is not at {DESIGN_SKETCH}")
    assert "support.policy" in [e.name for e in DESIGN_EXAMPLES]


def test_design_sketch_one_liner_alone_in_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The design sketch: the one-liner "must also work alone in a file with no declarations at all"."""
    if not DESIGN_SKETCH.exists():
        pytest.skip(f"the design sketch is not at {DESIGN_SKETCH}")
    sketch = " ".join(DESIGN_SKETCH.read_text(encoding="utf-8").split())
    assert f"`{ONE_LINER}`" in sketch, "the design sketch no longer has this one-liner; update ONE_LINER"
    example = Example(id="design:one-liner", name="one_liner.policy", text=ONE_LINER + "\n", valid=True)
    _assert_valid(example, check_example(example, tmp_path, monkeypatch))
