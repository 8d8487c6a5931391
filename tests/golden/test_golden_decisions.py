"""Golden decisions: each tests/golden/decisions/NAME.facts.yaml, decided by its policy, against NAME.json.

The policy is NAME.policy next to the facts, unless the facts file starts with a comment
`# policy: PATH` (relative to the facts file), which lets several cases share one policy, such as
examples/support/support.policy. A comment `# on_conflict: mark` or `# as_of: ISO-8601` changes
how the decision is made; `as_of` is otherwise fixed, so the files never depend on the clock.
NAME.json is `decision.to_dict()` as indented JSON. Each decision is also checked against the
reference interpreter. Regenerate with `pytest tests/golden --update-golden` and read the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import assert_golden
from support.reference import normalise_conflicts, normalise_outputs, reference_decide

import policylang

CASES_DIR = Path(__file__).resolve().parent / "decisions"
CASES = sorted(CASES_DIR.glob("*.facts.yaml"))
AS_OF = "2026-01-31T09:00:00Z"
_HEADER = re.compile(r"#\s*(policy|on_conflict|as_of):\s*(\S+)\s*$")


def _settings(facts_path: Path) -> dict[str, str]:
    """The `# key: value` lines at the top of a facts file."""
    found = {}
    for line in facts_path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _case_name(facts_path: Path) -> str:
    return facts_path.name.removesuffix(".facts.yaml")


def _policy_path(facts_path: Path, settings: dict[str, str]) -> Path:
    if "policy" in settings:
        return (facts_path.parent / settings["policy"]).resolve()
    return facts_path.with_name(_case_name(facts_path) + ".policy")


def test_there_are_cases() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("facts_path", CASES, ids=_case_name)
def test_golden_decision(facts_path: Path, update_golden: bool) -> None:
    settings = _settings(facts_path)
    policy_path = _policy_path(facts_path, settings)
    facts: dict[str, Any] = yaml.safe_load(facts_path.read_text(encoding="utf-8")) or {}
    as_of = settings.get("as_of", AS_OF)
    on_conflict = settings.get("on_conflict", "raise")

    decision = policylang.load(policy_path, refuse_conflicts=False).decide(facts, as_of=as_of, on_conflict=on_conflict)
    actual = json.dumps(decision.to_dict(), indent=2, ensure_ascii=False) + "\n"
    assert_golden(facts_path.with_name(_case_name(facts_path) + ".json"), actual, update_golden)

    text = policy_path.read_text(encoding="utf-8")
    expected = reference_decide(text, str(policy_path), facts, as_of, on_conflict)
    assert normalise_outputs(decision.outputs) == normalise_outputs(expected["outputs"])
    assert list(decision.fired) == expected["fired"]
    assert normalise_conflicts(decision.conflicts) == normalise_conflicts(expected["conflicts"])
