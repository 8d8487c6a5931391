"""`policy check --max-findings N`: the first N findings in full, the rest counted by kind (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import invoke

# Five rules over one range each, all overlapping at 5 with five different values: ten conflicts.
OVERLAPPING = "\n".join(
    ["input {", "    n: int", "}", "", "output {", "    y: int = 0", "}", ""]
    + [line for k in range(5) for line in (f"rule r{k}:", f"    if n >= {k} and n <= {k + 5}", f"    then y = {k}", "")]
)


def test_check_prints_the_first_findings_and_counts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "overlapping.policy"
    path.write_text(OVERLAPPING)
    run = invoke(["check", str(path), "--max-findings", "3"])
    assert run.code == 1
    assert run.stdout.count("error[conflict]") == 3
    assert "... and 7 more not shown (7 conflict); `--max-findings 0` shows them all" in run.stdout
    assert "checked 1 file: 10 errors" in run.stdout
    every = invoke(["check", str(path), "--max-findings", "0"])
    assert every.stdout.count("error[conflict]") == 10 and "more not shown" not in every.stdout
    as_json = invoke(["check", str(path), "--format", "json", "--max-findings", "3"])
    assert len(json.loads(as_json.stdout)["diagnostics"]) == 10
