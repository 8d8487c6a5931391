"""The peer benchmark's rule generator and renderings: policylang, the hand-written function and a direct
evaluation of the abstract rules must give the same outputs (a real correctness test of policylang on
generated rules with min / max / priority / any resolution). Installed peers are checked too; nothing here
measures or asserts a timing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import policylang

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))  # a folder of scripts that import each other by plain name

import peer_engines as pe  # noqa: E402
import peer_rules as pr  # noqa: E402

RULES = 10
CUSTOMERS = 200


@pytest.fixture(scope="module")
def rules() -> pr.RuleSet:
    return pr.generate_rules(RULES, seed=0)


@pytest.fixture(scope="module")
def customers() -> list[dict[str, Any]]:
    return pr.random_customers(CUSTOMERS, seed=1)


@pytest.fixture(scope="module")
def direct(rules: pr.RuleSet, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The outputs by direct evaluation of the abstract rules: the oracle."""
    return [pr.normalise_plain(pr.fold([r for r in rules.rules if pr.matches(r.condition, c)])) for c in customers]


def test_generation_is_deterministic() -> None:
    assert pr.to_policylang(pr.generate_rules(25, 3)) == pr.to_policylang(pr.generate_rules(25, 3))
    assert pr.random_customers(5, 2) == pr.random_customers(5, 2)
    assert pr.to_policylang(pr.generate_rules(25, 3)) != pr.to_policylang(pr.generate_rules(25, 4))


def test_generated_policy_checks_clean(rules: pr.RuleSet) -> None:
    report = policylang.check_source(pr.to_policylang(rules), "peers.policy")
    assert report.ok, report.render()
    assert report.policy is not None
    assert len(report.policy.rules) == RULES


def test_hand_written_function_matches_direct_evaluation(
    rules: pr.RuleSet, customers: list[dict[str, Any]], direct: list[dict[str, Any]]
) -> None:
    decide = pr.build_python(rules)
    assert [pr.normalise_plain(decide(c)) for c in customers] == direct


def test_policylang_agrees_with_hand_written_function(
    rules: pr.RuleSet, customers: list[dict[str, Any]], direct: list[dict[str, Any]]
) -> None:
    policy = policylang.compile(pr.to_policylang(rules), filename="peers.policy")
    hand_written = pr.build_python(rules)
    for customer, expected in zip(customers, direct, strict=True):
        decision = policy.decide(pr.policylang_facts(customer), as_of="2026-01-01T00:00:00Z")
        got = pr.normalise_policylang(decision.outputs)
        assert got == pr.normalise_plain(hand_written(customer)) == expected, (customer, got, expected)


def test_decide_many_agrees_with_decide(
    rules: pr.RuleSet, customers: list[dict[str, Any]], direct: list[dict[str, Any]]
) -> None:
    policy = policylang.compile(pr.to_policylang(rules), filename="peers.policy")
    batch = policy.decide_many([pr.policylang_facts(c) for c in customers], as_of="2026-01-01T00:00:00Z")
    assert [pr.normalise_policylang(d.outputs) for d in batch] == direct


def test_customers_hit_thresholds_and_rules_fire(rules: pr.RuleSet, customers: list[dict[str, Any]]) -> None:
    """The check is only worth something if rules match and customers sit on the boundaries."""
    matched = [sum(pr.matches(r.condition, c) for r in rules.rules) for c in customers]
    assert sum(1 for m in matched if m) > CUSTOMERS // 10
    assert any(c["monthly_spend"] in pr.SPENDS for c in customers)
    assert any(c["tenure_days"] in (30, 90, 180, 400) for c in customers)


def test_every_resolution_is_exercised() -> None:
    """Across a few hundred rules every output is set by some rule, and some rules set several."""
    rules = pr.generate_rules(300, seed=0).rules
    assert all(any(name in r.actions for r in rules) for name in ("sla", "queue", "discount", "skip_fraud_check"))
    assert any(r.skip is False for r in rules) and any(r.skip for r in rules)
    priorities = [r.priority for r in rules if r.queue is not None]
    assert len(priorities) == len(set(priorities)), "priorities must not tie, or `resolve priority` conflicts"


@pytest.mark.parametrize(
    ("key", "module"),
    [("zen_collect", "zen"), ("zen_first", "zen"), ("rule_engine", "rule_engine"), ("rego_interpreter", "regorus")],
)
def test_installed_peer_agrees(
    key: str, module: str, rules: pr.RuleSet, customers: list[dict[str, Any]], direct: list[dict[str, Any]]
) -> None:
    pytest.importorskip(module)
    built = pe.BY_KEY[key].build(rules)
    got = [built.normalise(built.decide(built.prepare(c))) for c in customers]
    assert got == direct
