"""Explanations in summary (the rules that matched, the nearest misses, a count of the rest) and
full detail: which rules are traced at all, what each mode lists, and the JSON shape tools read.

The summary's text is in golden files (tests/golden/explain/many_queue_*, support_summary); here:
explaining one output traces only the rules that can set it, a summary traces only the rules it
shows, its counts agree with the full trace, and the JSON stays readable by tools of the full shape.
"""

from __future__ import annotations

import heapq
import json
from pathlib import Path
from typing import Any

import pytest

import policylang
from policylang.explain import explanation, render_html, render_json, render_markdown
from policylang.explain import trace as trace_module
from policylang.explain.rendering import Explanation
from policylang.explain.trace import NEAREST, SUMMARY_ABOVE

ROOT = Path(__file__).resolve().parents[2]
MANY = ROOT / "tests" / "golden" / "explain" / "many_queue_rules.policy"
AS_OF = "2026-01-31T09:00:00Z"
FACTS = {"tier": "premium", "region": "eu", "tenure": "2y6mo", "complaints": 2}


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(rule, output) for every rule traced part by part, in order."""
    seen: list[tuple[str, str]] = []
    original = trace_module._Env.rule

    def spy(self: Any, rule: Any, output: str, actions: Any = None) -> Any:
        seen.append((rule.id, output))
        return original(self, rule, output, actions)

    monkeypatch.setattr(trace_module._Env, "rule", spy)
    return seen


def _decision() -> policylang.Decision:
    return policylang.load(MANY).decide(FACTS, as_of=AS_OF)


def _setting(policy: policylang.Policy, output: str) -> list[str]:
    return [rule.id for rule in policy.checked.rules if any(a.output == output for a in rule.actions)]


def test_explaining_one_output_traces_only_the_rules_that_can_set_it(traced: list[tuple[str, str]]) -> None:
    decision = _decision()
    sla_rules = _setting(decision.policy, "sla")  # type: ignore[arg-type]
    assert 0 < len(sla_rules) < 64
    for render in (render_json, render_markdown, render_html):
        traced.clear()
        explained = explanation(decision, outputs=["sla"], detail="full")
        render(explained)
        assert [output.output for output in explained.trace.outputs] == ["sla"]
        assert traced == [(rule, "sla") for rule in sla_rules]
    traced.clear()
    decision.explain(outputs=["sla"], detail="full")
    assert traced == [(rule, "sla") for rule in sla_rules]


def test_a_summary_traces_only_the_rules_it_shows(traced: list[tuple[str, str]]) -> None:
    decision = _decision()
    summary = decision.trace(["queue"], detail="summary")
    (queue,) = summary.outputs
    assert summary.detail == "summary"
    assert traced == [(rule.rule, "queue") for rule in queue.rules]
    assert len(queue.rules) + queue.others == 64
    assert sum(not rule.matched for rule in queue.rules) == NEAREST


def test_auto_summarises_above_the_threshold_only() -> None:
    decision = _decision()
    assert decision.trace(detail="auto").detail == "summary"  # 64 + 8 rules
    assert decision.trace(["sla"], detail="auto").detail == "full"  # 8 rules
    assert decision.trace().detail == "full"  # the data API's default is every rule
    for rules, expected in ((SUMMARY_ABOVE, "full"), (SUMMARY_ABOVE + 1, "summary")):
        text = "input { n: int }\noutput { level: int = 0 resolve max }\n" + "".join(
            f"rule r{i}: if n > {i} then level = {i}\n" for i in range(rules)
        )
        policy = policylang.compile(text, filename="many.policy")
        assert policy.trace(policy.decide({"n": 3}), detail="auto").detail == expected


def _nearest(rules: list[Any]) -> list[Any]:
    matched = [rule for rule in rules if rule.matched]
    missed = heapq.nsmallest(NEAREST, ((rule.misses, i) for i, rule in enumerate(rules) if not rule.matched))
    return matched + [rules[i] for _, i in missed]


@pytest.mark.parametrize(
    "facts",
    [FACTS, {"tier": "basic", "region": "us", "tenure": "3mo", "complaints": 0, "vip": True}, {"tier": "key"}],
    ids=["premium", "basic", "mostly-missing"],
)
def test_a_summary_is_the_full_trace_cut_down(facts: dict[str, Any]) -> None:
    policy = policylang.load(MANY, unknown_facts="ignore")
    try:
        decision = policy.decide(facts, as_of=AS_OF)
    except policylang.FactsError:
        facts = {**facts, "region": "eu", "tenure": "1y", "complaints": 1}
        decision = policy.decide(facts, as_of=AS_OF)
    full, summary = policy.trace(decision, detail="full"), policy.trace(decision, detail="summary")
    for whole, cut in zip(full.outputs, summary.outputs, strict=True):
        assert whole.model_copy(update={"rules": [], "others": 0}) == cut.model_copy(update={"rules": [], "others": 0})
        assert cut.rules == _nearest(whole.rules)
        assert cut.others == len(whole.rules) - len(cut.rules)
        for rule in whole.rules:  # misses counts the top-level `and`'s parts that are not true
            parts = rule.condition.parts if rule.condition.kind == "and" else [rule.condition]
            assert all(part.kind != "and" for part in parts)  # this policy's `and`s are not nested
            assert rule.misses == sum(part.result is not True for part in parts)
            assert (rule.misses == 0) == rule.matched


def test_a_part_that_raises_is_counted_as_failed() -> None:
    text = (
        "input { x: int }\noutput { big: bool = false resolve any }\n"
        "rule guarded: if x != 0 and 10 / x > 1 then big\n"
        "rule plain: if x > 5 then big\n"
    )
    policy = policylang.compile(text, filename="guard.policy")
    decision = policy.decide({"x": 0})
    full, summary = policy.trace(decision, detail="full"), policy.trace(decision, detail="summary")
    rules = summary.outputs[0].rules
    assert [(rule.rule, rule.misses) for rule in rules] == [("plain", 1), ("guarded", 2)]  # nearest first
    assert rules == _nearest(full.outputs[0].rules)
    assert full.outputs[0].rules[0].condition.parts[1].error is not None


def test_an_unknown_detail_is_a_usage_error() -> None:
    decision = _decision()
    with pytest.raises(policylang.UsageError, match="unknown detail 'brief'; use one of: auto, summary, full"):
        decision.trace(detail="brief")
    with pytest.raises(policylang.UsageError, match="unknown detail"):
        decision.explain(detail="brief")


def test_the_json_says_its_mode_and_reads_without_the_new_fields() -> None:
    """Tools written for the full shape read a summary, and documents made before `detail`,
    `others` and `misses` existed read as full traces."""
    explained = explanation(_decision())
    shape = json.loads(render_json(explained))
    assert shape["trace"]["detail"] == "summary"
    assert shape["trace"]["outputs"][0]["others"] == 64 - len(shape["trace"]["outputs"][0]["rules"])
    old = json.loads(render_json(explanation(_decision(), detail="full")))
    del old["trace"]["detail"]
    for output in old["trace"]["outputs"]:
        del output["others"]
        for rule in output["rules"]:
            del rule["misses"]
    read = Explanation.model_validate(old)
    assert read.trace.detail == "full" and read.trace.outputs[0].others == 0
    schema = Explanation.model_json_schema()["$defs"]
    for model, field in (("Trace", "detail"), ("OutputTrace", "others"), ("RuleTrace", "misses")):
        assert field in schema[model]["properties"] and field not in schema[model].get("required", [])


def test_the_renderers_list_the_nearest_misses_and_count_the_rest() -> None:
    explained = explanation(_decision(), outputs=["queue"])
    others = explained.trace.outputs[0].others
    line = f"and {others} other rules that can set `queue` did not apply"
    assert "nearest misses" in render_markdown(explained).lower()
    assert "and " + str(others) + " other rules that can set \\`queue\\` did not apply" in render_markdown(explained)
    assert line in render_html(explained) and "Nearest misses" in render_html(explained)
    assert line in _decision().explain(outputs=["queue"], width=200)


def test_trace_models_built_without_validation_are_whole_and_valid() -> None:
    """trace.py builds rules and parts without pydantic's model_construct (`_trusted`): each must
    have every field, and read back through validation as the same model."""
    from policylang.explain.trace import ConditionPart, RuleTrace

    trace = _decision().trace(detail="full")
    stack: list[ConditionPart] = []
    for output in trace.outputs:
        for rule in output.rules:
            assert set(vars(rule)) == set(RuleTrace.model_fields)
            assert RuleTrace.model_validate(rule.model_dump()) == rule
            stack.append(rule.condition)
    while stack:
        part = stack.pop()
        assert set(vars(part)) == set(ConditionPart.model_fields)
        stack.extend(part.parts)


def test_a_test_written_twice_differently_keeps_each_text() -> None:
    """Tests are traced once per text and structure: `tenure > 2y` and `tenure > 24mo` compare the
    same values, and each rule still shows its own text."""
    text = (
        "input { tenure: duration }\noutput { a: bool = false resolve any\n b: bool = false resolve any }\n"
        "rule one: if tenure > 2y then a\nrule two: if tenure > 24mo then b\n"
    )
    policy = policylang.compile(text, filename="twice.policy")
    trace = policy.trace(policy.decide({"tenure": "1y"}))
    assert [output.rules[0].condition.text for output in trace.outputs] == ["tenure > 2y", "tenure > 24mo"]
