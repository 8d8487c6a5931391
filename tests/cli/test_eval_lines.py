"""`policy eval --input x.jsonl` decides the lines in runs of decide_many (cli/evaluate.py,
`_decide_batches`) and writes JSON lines from cached parts (`_JsonLines`): its output, standard
error and exit code must be those of deciding line by line with decide(), the path it takes with a
decision log or an unreadable `--as-of`, for good and bad lines in every order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang.cli import app, evaluate

POLICY = """\
input { tier: enum(basic, premium)  spend: number  vip: bool?  note: string? }
output {
    big: bool = false resolve any
    level: int resolve unique
    ratio: number
    tags: set[string] = {} resolve union
    label: string resolve first
}
rule r: if spend > 100 then big
rule s: if tier == premium then level = 2
rule t: if vip then level = 3
rule u: if spend > 1000 then ratio = 100 / (spend - 2000)
rule w: if note is present then tags += {noted}
rule odd: if spend == 7 then tags += {"a\\u{85}b"}, label = "c\\u{7f}d"
"""
LINES = (
    '{"tier": "basic", "spend": 1}',
    '{"tier": "premium", "spend": 1, "vip": true}',  # a conflict
    '{"tier": "basic", "spend": 2',  # not JSON
    "",
    "   ",
    '{"tier": "gold", "spend": 2}',  # a wrong fact
    "[1]",  # not an object
    '{"tier": "basic", "spend": 2000}',  # division by zero
    '{"tier": "premium", "spend": 5, "spend": 6}',  # a fact given twice
    '{"tier": "premium", "spend": 3000.25, "vip": false, "note": "x"}',
    '{"tier": "basic", "spend": 7, "note": "\\u00e9\\u0085"}',
    '{"tier": "basic", "spend": 1e5}',
    '{"tier": "basic", "spend": 1, "extra": 1}',  # an unknown fact
    '{"tier": "basic", "spend": 0.1000000000000000000001}',
)


def _run(tmp_path: Path, lines: list[str], args: list[str], line_by_line: bool) -> tuple[int, str, str]:
    policy = tmp_path / "mixed.policy"
    policy.write_text(POLICY)
    facts = tmp_path / "mixed.jsonl"
    facts.write_text("\n".join(lines) + "\n")
    readable = evaluate._readable_as_of
    try:
        if line_by_line:
            evaluate._readable_as_of = lambda policy, as_of: False  # type: ignore[assignment]
        result = CliRunner().invoke(app, ["eval", str(policy), "--input", str(facts), *args], standalone_mode=False)
    finally:
        evaluate._readable_as_of = readable  # type: ignore[assignment]
    assert result.exception is None, result.exception
    assert "error[syntax-error]" not in result.stderr, result.stderr  # the policy itself loads
    return result.return_value, result.stdout, result.stderr


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.sampled_from(LINES), max_size=12),
    args=st.sampled_from(
        (
            ["--format", "json"],
            [],
            ["--format", "json", "--on-conflict", "mark"],
            ["--on-conflict", "mark"],
            ["--format", "json", "--set", "vip=true"],
        )
    ),
)
def test_runs_of_decide_many_print_what_decide_prints_line_by_line(
    tmp_path: Path, lines: list[str], args: list[str]
) -> None:
    args = [*args, "--as-of", "2026-01-31T09:00:00+01:00"]
    assert _run(tmp_path, lines, args, line_by_line=False) == _run(tmp_path, lines, args, line_by_line=True)


@pytest.mark.parametrize("line_by_line", [False, True])
def test_every_line_shares_one_as_of_read_from_the_clock(tmp_path: Path, line_by_line: bool) -> None:
    code, out, _ = _run(tmp_path, list(LINES), ["--format", "json"], line_by_line)
    assert code == 2
    moments = {json.loads(line)["as_of"] for line in out.splitlines() if "as_of" in line}
    assert len(moments) == 1
