"""Golden explanations: each tests/golden/explain/NAME.facts.yaml, decided by its policy and
explained, against NAME.txt (`policy explain` text at 100 columns, plain) and NAME.json (the
`Explanation` model). Header comments as in test_golden_decisions.py, plus `# why_not: OUT=VALUE`
lines, `# only: OUTPUT` lines (explain only those outputs), `# detail: summary|full` (default: auto)
and `# markdown: yes` (also NAME.md, the Markdown report). Regenerate with
`pytest tests/golden --update-golden` and read the diff.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import assert_golden

import policylang
from policylang.explain.rendering import explanation, render_json, render_markdown, render_text

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = Path(__file__).resolve().parent / "explain"
CASES = sorted(CASES_DIR.glob("*.facts.yaml"))
AS_OF = "2026-01-31T09:00:00Z"
_HEADER = re.compile(r"#\s*(policy|on_conflict|as_of|why_not|only|detail|markdown):\s*(\S+)\s*$")


def _settings(facts_path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in facts_path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def _name(facts_path: Path) -> str:
    return facts_path.name.removesuffix(".facts.yaml")


def test_there_are_cases() -> None:
    assert len(CASES) >= 5


@pytest.mark.parametrize("facts_path", CASES, ids=_name)
def test_golden_explanation(facts_path: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # rule locations are shown relative to the working directory
    settings = _settings(facts_path)
    policy_path = (facts_path.parent / settings["policy"][0]).resolve().relative_to(ROOT)
    facts: dict[str, Any] = yaml.safe_load(facts_path.read_text(encoding="utf-8")) or {}
    policy = policylang.load(policy_path, refuse_conflicts=False)
    decision = policy.decide(
        facts, as_of=settings.get("as_of", [AS_OF])[0], on_conflict=settings.get("on_conflict", ["raise"])[0]
    )
    why_not, only, detail = settings.get("why_not", []), settings.get("only"), settings.get("detail", ["auto"])[0]
    explained = explanation(decision, why_not=why_not, outputs=only, detail=detail)  # type: ignore[arg-type]
    assert_golden(facts_path.with_name(_name(facts_path) + ".txt"), render_text(explained, width=100), update_golden)
    assert_golden(facts_path.with_name(_name(facts_path) + ".json"), render_json(explained) + "\n", update_golden)
    if settings.get("markdown"):
        assert_golden(facts_path.with_name(_name(facts_path) + ".md"), render_markdown(explained), update_golden)
    # Decision.explain() is the same text, and the JSON reads back into the same model.
    text = decision.explain(width=100, why_not=why_not, outputs=only, detail=detail)
    assert text == render_text(explained, width=100)
    assert type(explained).model_validate_json(render_json(explained)) == explained
