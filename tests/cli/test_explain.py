"""`policy explain` end to end: every format, why-not, the schema, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT
from test_eval_graph import AS_OF, PREMIUM, SUPPORT, policy

import policylang
from policylang.explain.rendering import Explanation, explanation_schema


def test_text_is_a_tree_per_output_with_the_rules_and_their_values() -> None:
    result = policy("explain", str(SUPPORT), "--input", str(PREMIUM), "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Decision of support_levels (version ")
    assert "sla = 4h   set by support#1 (min: the smallest value wins)" in out
    assert "│       └── ✓ tenure > 2y   tenure is 3y" in out
    assert "queue = general   the default: no rule that sets it matched" in out
    assert '    ├── because "Key customers never wait behind simple tickets"' in out
    assert "\x1b[" not in out  # plain when not a terminal
    assert max(len(line) for line in out.splitlines()) <= 100


def test_width_is_honoured() -> None:
    result = policy("explain", str(SUPPORT), "--input", str(PREMIUM), "--as-of", AS_OF, "--width", "60")
    assert result.returncode == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 60


def test_json_is_the_documented_model() -> None:
    result = policy(
        "explain",
        str(SUPPORT),
        "-i",
        str(PREMIUM),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--why-not",
        "queue=key_accounts",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    model = Explanation.model_validate(data)
    assert model.format == "policylang.explanation/1"
    assert model.decision["outputs"]["sla"] == "4h" and model.decision["fired"] == ["support#1"]
    assert model.why_not[0].status == "possible"
    assert model.why_not[0].candidates[0].changes[0].fact == "monthly_spend"


def test_html_is_one_self_contained_page(tmp_path: Path) -> None:
    out = tmp_path / "decision.html"
    result = policy("explain", str(SUPPORT), "-i", str(PREMIUM), "--as-of", AS_OF, "--format", "html", "-o", str(out))
    assert result.returncode == 0 and result.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "http" not in page and "<link" not in page  # nothing fetched
    assert "<code>sla = 4h</code>" in page and "because “Key customers never wait behind simple tickets”" in page


def test_markdown_has_a_heading_per_output() -> None:
    result = policy("explain", str(SUPPORT), "-i", str(PREMIUM), "--as-of", AS_OF, "--format", "markdown")
    assert result.returncode == 0
    headings = [line for line in result.stdout.splitlines() if line.startswith("## ")]
    assert headings == [
        "## `sla = 4h`",
        "## `skip_fraud_check = true`",
        "## `queue = general`",
        "## `perks = {}`",
        "## `account_manager: no value`",
    ]


def test_why_not_in_text() -> None:
    result = policy(
        "explain", str(SUPPORT), "-i", str(PREMIUM), "--set", "tenure=1y", "--as-of", AS_OF, "--why-not", "sla=4h"
    )
    assert result.returncode == 0, result.stderr
    assert "Why not sla = 4h?" in result.stdout
    assert "`tenure > 2y`: is `1y`, needs to be more than `2y`" in result.stdout


def test_bad_why_not_is_a_usage_error_with_a_hint() -> None:
    result = policy("explain", str(SUPPORT), "-i", str(PREMIUM), "--why-not", "slaa=4h")
    assert result.returncode == 2
    assert result.stderr.startswith("error[usage]: the policy has no output `slaa`")
    assert "= hint: did you mean `sla`?" in result.stderr


def test_missing_policy_and_missing_facts_are_clear() -> None:
    result = policy("explain", "nope.policy", "-i", str(PREMIUM))
    assert result.returncode == 2 and "cannot read `nope.policy`: no such file" in result.stderr
    result = policy("explain", str(SUPPORT), "-i", "nope.yaml")
    assert result.returncode == 2 and "nope.yaml" in result.stderr
    result = policy("explain")
    assert result.returncode == 2 and "give a policy FILE" in result.stderr


def test_bad_facts_name_the_fact() -> None:
    result = policy("explain", str(SUPPORT), "--set", "tier=gold", "--set", "tenure=1y", "--set", "monthly_spend=1")
    assert result.returncode == 2 and "tier" in result.stderr and "gold" in result.stderr


def test_schema_is_printed_and_kept_in_docs() -> None:
    result = policy("explain", "--schema")
    assert result.returncode == 0
    printed = json.loads(result.stdout)
    assert printed == explanation_schema()
    kept = json.loads((ROOT / "docs" / "explanation.schema.json").read_text(encoding="utf-8"))
    assert kept == printed, (
        "docs/explanation.schema.json is stale: policy explain --schema > docs/explanation.schema.json"
    )


def test_the_cli_text_is_decision_explain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # locations are shown relative to the working directory, as the CLI's are
    relative = "examples/support/support.policy"
    result = policy(
        "explain",
        relative,
        "--set",
        "tier=premium",
        "--set",
        "tenure=3y",
        "--set",
        "monthly_spend=500",
        "--as-of",
        AS_OF,
    )
    decision = policylang.load(relative).decide({"tier": "premium", "tenure": "3y", "monthly_spend": 500}, as_of=AS_OF)
    assert result.stdout == decision.explain(width=100)


def _logged_decision(tmp_path: Path) -> tuple[Path, Path, str]:
    """A copy of the example decided once with --log; returns (policy, log, decision id)."""
    folder = tmp_path / "support"
    folder.mkdir()
    for name in ("support.policy", "fraud.policy"):
        (folder / name).write_text((SUPPORT.parent / name).read_text(encoding="utf-8"), encoding="utf-8")
    log = tmp_path / "decisions.db"
    result = policy(
        "eval",
        str(folder / "support.policy"),
        "-i",
        str(PREMIUM),
        "--as-of",
        AS_OF,
        "--log",
        str(log),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    return folder / "support.policy", log, json.loads(result.stdout)["id"]


def test_a_logged_decision_is_explained_from_the_record_after_the_policy_changed(tmp_path: Path) -> None:
    policy_file, log, decision_id = _logged_decision(tmp_path)
    # Today's file gives premium customers a different SLA; the record must still explain 4h.
    text = policy_file.read_text(encoding="utf-8").replace("sla = 4h", "sla = 8h")
    policy_file.write_text(text, encoding="utf-8")
    result = policy("explain", "--decision", decision_id[:13], "--log", str(log), "--why-not", "queue=key_accounts")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Recorded {lines[0].split()[1]} as decision {decision_id}."
    assert lines[1] == "Replayed with the stored policy version: the same outputs and rules."
    assert "sla = 4h   set by support#1 (min: the smallest value wins)" in result.stdout
    assert f"├── Decision id: {decision_id}" in result.stdout
    assert "Why not queue = key_accounts?" in result.stdout
    as_json = policy("explain", "--decision", decision_id, "--log", str(log), "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["decision"]["id"] == decision_id and data["replay"]["differences"] == []
    assert data["decision"]["as_of"] == AS_OF


def test_a_tampered_record_is_explained_with_a_loud_warning_and_exit_1(tmp_path: Path) -> None:
    import sqlite3

    _, log, decision_id = _logged_decision(tmp_path)
    with sqlite3.connect(log) as connection:
        connection.execute("UPDATE decisions SET outputs = replace(outputs, '\"4h\"', '\"2h\"')")
    result = policy("explain", "--decision", decision_id, "--log", str(log))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error[replay-differs]: deciding decision {decision_id} again")
    assert "  - output `sla`: recorded 2h, replayed 4h" in result.stderr
    assert "WARNING: deciding again with the stored policy does NOT reproduce the record:" in result.stdout


def test_explain_of_a_missing_log_or_decision_is_a_clear_error(tmp_path: Path) -> None:
    result = policy("explain", "--decision", "0123", "--log", str(tmp_path / "none.db"))
    assert (
        result.returncode == 2 and "error[log-error]: no decision log at" in result.stderr and "hint" in result.stderr
    )
    _, log, _ = _logged_decision(tmp_path)
    result = policy("explain", "--decision", "ffff", "--log", str(log))
    assert result.returncode == 2 and "no decision `ffff` in the log" in result.stderr
    result = policy("explain", str(SUPPORT), "--decision", "ffff", "--log", str(log))
    assert result.returncode == 2 and "give no FILE" in result.stderr


def test_only_some_outputs_are_explained_when_asked() -> None:
    result = policy("explain", str(SUPPORT), "-i", str(PREMIUM), "--as-of", AS_OF, "--only", "queue", "--only", "sla")
    assert result.returncode == 0, result.stderr
    heads = [line.split("   ")[0] for line in result.stdout.splitlines() if line[:1].isalpha() and " = " in line]
    assert heads == ["sla = 4h", "queue = general"]  # in the policy's order
    result = policy("explain", str(SUPPORT), "-i", str(PREMIUM), "--only", "slaa")
    assert result.returncode == 2
    assert result.stderr == "error[usage]: the policy has no output `slaa`\n  = hint: did you mean `sla`?\n"


def test_a_bad_question_is_refused_before_anything_is_decided_or_logged(tmp_path: Path) -> None:
    log = tmp_path / "decisions.db"
    result = policy("explain", str(SUPPORT), "-i", str(PREMIUM), "--log", str(log), "--why-not", "sla=banana")
    assert result.returncode == 2 and "`banana` is not a value of `sla`" in result.stderr
    assert not log.exists()


def test_a_set_written_as_the_language_writes_it_can_be_given_with_set() -> None:
    from policylang.core.facts_input import parse_assignment

    assert parse_assignment('tags={vip, "b c"}') == ("tags", ["vip", "b c"])
    assert parse_assignment("tags={}") == ("tags", [])
    assert parse_assignment("tags=[a, b]") == ("tags", ["a", "b"])
    result = policy(
        "eval", str(SUPPORT), "-i", str(PREMIUM), "--set", 'tags={vip, "b c"}', "--format", "json", "--as-of", AS_OF
    )
    assert result.returncode == 0, result.stderr
    result = policy("eval", str(SUPPORT), "-i", str(PREMIUM), "--set", "tags={}", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr


def test_an_edited_record_that_still_replays_is_not_trusted(tmp_path: Path) -> None:
    import sqlite3

    _, log, decision_id = _logged_decision(tmp_path)
    # 4 years instead of 3 gives the same decision: only the record's own hash can tell.
    with sqlite3.connect(log) as connection:
        connection.execute("UPDATE decisions SET facts = replace(facts, '\"3y\"', '\"4y\"')")
    result = policy("explain", "--decision", decision_id, "--log", str(log))
    assert result.returncode == 1
    assert (
        f"  - the record itself: record 1 (id {decision_id}) was edited: its hash does not match its contents"
        in result.stderr
    )


MANY = ROOT / "tests" / "golden" / "explain" / "many_queue_rules.policy"
MANY_FACTS = ROOT / "tests" / "golden" / "explain" / "many_queue_auto.facts.yaml"


def test_a_large_policy_is_summarised_unless_the_full_detail_is_asked() -> None:
    summary = policy("explain", str(MANY), "-i", str(MANY_FACTS), "--as-of", AS_OF, "--only", "queue")
    assert summary.returncode == 0, summary.stderr
    assert "nearest misses (up to 5)" in summary.stdout
    assert "other rules that can set `queue` did not apply" in summary.stdout
    full = policy("explain", str(MANY), "-i", str(MANY_FACTS), "--as-of", AS_OF, "--only", "queue", "--detail", "full")
    assert full.returncode == 0, full.stderr
    listed = [
        line for line in full.stdout.splitlines() if line.startswith(("├── ✓ q", "├── ✗ q", "└── ✓ q", "└── ✗ q"))
    ]
    assert len(listed) == 64 and "nearest misses" not in full.stdout
    small = policy(
        "explain", str(SUPPORT), "-i", str(PREMIUM), "--as-of", AS_OF, "--detail", "summary", "--format", "json"
    )
    assert small.returncode == 0, small.stderr
    assert json.loads(small.stdout)["trace"]["detail"] == "summary"
    bad = policy("explain", str(SUPPORT), "-i", str(PREMIUM), "--detail", "brief")
    assert bad.returncode == 2 and "'brief' is not one of 'auto', 'summary', 'full'" in bad.stderr
