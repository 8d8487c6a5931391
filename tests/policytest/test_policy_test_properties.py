"""Properties of `policy test` on the support example: a case written from a real decision's
outputs and fired rules passes; changing one expected output fails that case alone, with exactly
that output in its differences."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import policylang
from policylang.engine.evaluator import to_json_value
from policylang.policy_tests import run_tests

SUPPORT = Path(__file__).resolve().parents[2] / "examples" / "support" / "support.policy"
AS_OF = "2026-03-01T12:00:00Z"

facts = st.fixed_dictionaries(
    {
        "tier": st.sampled_from(["basic", "standard", "premium", "key"]),
        "tenure": st.integers(0, 3000).map(lambda days: f"{days}d") | st.sampled_from(["2y", "3y", "1y6mo"]),
        "monthly_spend": st.integers(0, 20_000),
    },
    optional={"past_complaints": st.integers(0, 6), "region": st.sampled_from(["eu", "us"])},
)

_OTHER = {
    "sla": ["1h", "5h", "7d"],
    "skip_fraud_check": [True, False],
    "queue": ["general", "priority", "key_accounts"],
    "perks": [["named_rep", "gift"], ["gift"]],
    "account_manager": ["ada"],
}
"""Values each output can be expected to have instead; one of them always differs from the actual."""


def _suite(decisions: list[tuple[dict[str, Any], policylang.Decision]]) -> list[dict[str, Any]]:
    cases = []
    for i, (given_facts, decision) in enumerate(decisions):
        expect = {name: to_json_value(decision.outputs.get(name)) for name in decision.policy.checked.outputs}
        cases.append({"name": f"case {i}", "facts": given_facts, "expect": expect, "fired": list(decision.fired)})
    return cases


def _run(cases: list[dict[str, Any]]) -> Any:
    # JSON is YAML: the suite is written as JSON, read back by the YAML reader.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.test.yaml"
        path.write_text(json.dumps({"policy": str(SUPPORT), "as_of": AS_OF, "cases": cases}), encoding="utf-8")
        return run_tests([path])


@settings(max_examples=25, deadline=None)
@given(st.lists(facts, min_size=1, max_size=6), st.data())
def test_cases_from_decisions_pass_and_one_changed_output_fails_alone(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    policy = policylang.load(SUPPORT, refuse_conflicts=False)
    decisions = [(f, policy.decide(f, as_of=AS_OF)) for f in batch]
    cases = _suite(decisions)
    report = _run(cases)
    assert report.ok, [(c.name, [m.text for m in c.mismatches], c.problems) for c in report.cases]
    assert report.passed == len(cases)

    target = data.draw(st.integers(0, len(cases) - 1), label="case")
    output = data.draw(st.sampled_from(sorted(_OTHER)), label="output")
    actual = cases[target]["expect"][output]
    other = data.draw(st.sampled_from([v for v in _OTHER[output] if v != actual]), label="expected instead")
    cases[target]["expect"][output] = other
    report = _run(cases)
    failed = [case for case in report.cases if case.status != "passed"]
    assert [case.name for case in failed] == [f"case {target}"]
    assert [m.what for m in failed[0].mismatches] == [output]
    assert failed[0].status == "failed" and report.exit_code == 1
