"""`policy eval` and `policy graph` end to end: facts from every source, every output format, every exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

SUPPORT = ROOT / "examples" / "support" / "support.policy"
PREMIUM = ROOT / "examples" / "support" / "premium.facts.yaml"
AS_OF = "2026-11-23T10:00:00Z"


def policy(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "policylang", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def test_eval_yaml_facts_as_text_shows_values_and_their_rules() -> None:
    result = policy("eval", str(SUPPORT), "--input", str(PREMIUM), "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("policy support_levels (") and lines[0].endswith(f"as of {AS_OF}")
    assert any(line.split()[:2] == ["sla", "4h"] and "support#1" in line for line in lines)
    assert any(line.split()[:2] == ["queue", "general"] and "(default)" in line for line in lines)
    assert any(line.split()[0] == "account_manager" and "no rule matched" in line for line in lines)
    assert lines[-1] == "fired: support#1"


def test_eval_json_has_the_design_sketch_shape() -> None:
    result = policy("eval", str(SUPPORT), "--input", str(PREMIUM), "--as-of", AS_OF, "--format", "json")
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["outputs"] == {"sla": "4h", "skip_fraud_check": True, "queue": "general", "perks": []}
    assert decision["fired"] == ["support#1"]
    assert decision["policy"]["name"] == "support_levels" and len(decision["policy"]["hash"]) == 64
    assert decision["as_of"] == AS_OF


def test_set_overrides_facts_and_reads_values_as_yaml() -> None:
    result = policy(
        "eval", str(SUPPORT), "-i", str(PREMIUM), "--set", "tier=key", "--set", "tags=[a, b]", "--as-of", AS_OF,
        "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)["outputs"]
    assert outputs["queue"] == "key_accounts" and outputs["sla"] == "2h" and outputs["perks"] == ["named_rep"]


def test_facts_from_standard_input_as_json() -> None:
    facts = json.dumps({"tier": "basic", "tenure": "P1Y", "monthly_spend": 20})
    result = policy("eval", str(SUPPORT), "--input", "-", "--as-of", AS_OF, "--format", "json", stdin=facts)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["sla"] == "3d"


def test_json_lines_stream_one_decision_per_line_and_report_bad_lines(tmp_path: Path) -> None:
    lines = tmp_path / "many.jsonl"
    lines.write_text(
        '{"tier": "premium", "tenure": "3y", "monthly_spend": 1}\n'
        "\n"
        '{"tier": "gold", "tenure": "3y", "monthly_spend": 1}\n'
        "not json\n"
        '{"tier": "key", "tenure": "1d", "monthly_spend": 1}\n'
    )
    result = policy("eval", str(SUPPORT), "--input", str(lines), "--as-of", AS_OF, "--format", "json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 3, 4, 5]
    assert records[0]["outputs"]["sla"] == "4h" and records[3]["outputs"]["queue"] == "key_accounts"
    assert records[1]["error"]["code"] == "facts-error" and "gold" in records[1]["error"]["message"]
    assert records[2]["error"]["code"] == "facts-error" and records[2]["error"]["line"] == 4
    assert result.returncode == 2


def test_json_lines_read_the_clock_once_and_print_every_line_in_order(tmp_path: Path) -> None:
    lines = tmp_path / "many.jsonl"
    good = '{"tier": "premium", "tenure": "3y", "monthly_spend": 1}\n'
    lines.write_text(good * 300 + '{"tier": "gold", "tenure": "3y", "monthly_spend": 1}\n' + good * 300)
    result = policy("eval", str(SUPPORT), "--input", str(lines), "--format", "json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in records] == list(range(1, 602))  # more than one block, in order
    assert len({r["as_of"] for r in records if "as_of" in r}) == 1
    assert records[300]["error"]["code"] == "facts-error"
    text = policy("eval", str(SUPPORT), "--input", str(lines), "--as-of", AS_OF)
    assert text.stdout.count("# line ") == 600 and "line 301: error[facts-error]" in text.stderr


def test_bad_facts_name_the_fact_the_expected_type_and_the_value() -> None:
    result = policy("eval", str(SUPPORT), "--set", "tier=gold", "--set", "tenure=3", "--set", "monthly_spend=1")
    assert result.returncode == 2
    assert 'fact `tier`: expected one of basic, standard, premium, key, got "gold"' in result.stderr
    assert "fact `tenure`: expected a duration, got 3" in result.stderr
    assert "support.policy:" in result.stderr  # points at the input declaration


def test_malformed_yaml_points_at_line_and_column(tmp_path: Path) -> None:
    facts = tmp_path / "bad.yaml"
    facts.write_text("tier: premium\ntenure: [3y\n")
    result = policy("eval", str(SUPPORT), "--input", str(facts))
    assert result.returncode == 2
    assert f"{facts}:3:1: error[facts-error]: invalid YAML" in result.stderr


def test_malformed_json_points_at_line_and_column(tmp_path: Path) -> None:
    facts = tmp_path / "bad.json"
    facts.write_text('{"tier": "premium",\n "tenure": }\n')
    result = policy("eval", str(SUPPORT), "--input", str(facts))
    assert result.returncode == 2
    assert f"{facts}:2:12: error[facts-error]: invalid JSON" in result.stderr
    assert "^" in result.stderr


def test_conflict_fails_unless_marked(tmp_path: Path) -> None:
    path = tmp_path / "c.policy"
    path.write_text("if a then sla = 4h\nif b then sla = 2h\n")
    failed = policy("eval", str(path), "--set", "a=true", "--set", "b=true")
    assert failed.returncode == 1
    assert "conflict on output `sla`" in failed.stderr and "c#1" in failed.stderr and "c#2" in failed.stderr
    marked = policy(
        "eval", str(path), "--set", "a=true", "--set", "b=true", "--on-conflict", "mark", "--format", "json"
    )
    assert marked.returncode == 0
    assert json.loads(marked.stdout)["conflicts"]["sla"] == [
        {"rule": "c#1", "value": "4h"},
        {"rule": "c#2", "value": "2h"},
    ]


def test_unknown_facts_are_rejected_unless_ignored() -> None:
    args = ["eval", str(SUPPORT), "-i", str(PREMIUM), "--set", "tenur=3y", "--as-of", AS_OF]
    rejected = policy(*args)
    assert rejected.returncode == 2 and "unknown fact `tenur`" in rejected.stderr and "`tenure`" in rejected.stderr
    assert policy(*args, "--unknown-facts", "ignore").returncode == 0


def test_policy_errors_and_missing_files() -> None:
    missing = policy("eval", "nothere.policy")
    assert missing.returncode == 2 and "cannot read `nothere.policy`" in missing.stderr
    missing_facts = policy("eval", str(SUPPORT), "--input", "nothere.yaml")
    assert missing_facts.returncode == 2 and "cannot read `nothere.yaml`" in missing_facts.stderr


def test_broken_policy_exits_1_with_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "b.policy"
    path.write_text("if tier = premium then x\n")
    result = policy("eval", str(path))
    assert result.returncode == 1 and "error[syntax-error]" in result.stderr


def test_graph_dot_has_every_node_and_edge() -> None:
    result = policy("graph", str(SUPPORT))
    assert result.returncode == 0
    dot = result.stdout
    assert dot.startswith('digraph "support_levels" {') and dot.rstrip().endswith("}")
    for label in (
        '"tier: enum(basic, standard, premium, key)"',
        '"key_accounts\\npriority 100"',
        '"sla: duration\\nresolve min"',
    ):
        assert f"label={label}" in dot, label
    graph = json.loads(policy("graph", str(SUPPORT), "--format", "json").stdout)
    assert dot.count(" -> ") == len(graph["edges"])
    assert dot.count("[label=") == len(graph["nodes"])


def test_graph_json_orders_rules_after_the_outputs_they_read(tmp_path: Path) -> None:
    path = tmp_path / "g.policy"
    path.write_text(
        "output { queue: enum(general, priority) = general resolve first\n sla: duration = 72h resolve min }\n"
        "if queue == priority then sla = 8h\nrule prio: if vip then queue = priority\n"
    )
    graph = json.loads(policy("graph", str(path), "--format", "json").stdout)
    ids = {node["id"] for node in graph["nodes"]}
    assert {"fact:vip", "output:queue", "output:sla", "rule:prio", "rule:g#1"} <= ids
    assert {"from": "output:queue", "to": "rule:g#1"} in graph["edges"]
    order = graph["schedule"]
    assert order.index("rule:prio") < order.index("output:queue") < order.index("rule:g#1") < order.index("output:sla")


@pytest.mark.skipif(
    subprocess.run(["which", "dot"], capture_output=True).returncode != 0, reason="Graphviz `dot` is not installed"
)
def test_graph_dot_renders_with_graphviz(tmp_path: Path) -> None:
    dot = policy("graph", str(SUPPORT)).stdout
    rendered = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    assert "<svg" in rendered.stdout
