"""The standard library of service policies (stdlib_policies/): every module checks clean under
`--strict`, documents itself, gives every rule a reason, and works alongside all the others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import policylang
from policylang.api import with_analysis

STDLIB = ROOT / "stdlib_policies"
MODULES = sorted(path.stem for path in STDLIB.glob("*.policy"))
ISSUE_6_MODULES = ["segments", "service_levels", "fraud_checks", "routing", "service_charges", "account_mandates"]

EVERY_MODULE = "\n".join(
    [
        'policy all_stdlib "Every standard module at once"',
        "",
        *(f"import stdlib.{name}" for name in MODULES),
        "",
        "output {",
        "    welcome_call: bool = false resolve any",
        "}",
        "",
        "rule welcome_new_key_accounts:",
        "    if segments.new_customer and segments.strategic",
        "    then welcome_call",
        '    because "A new key account hears from us in its first weeks"',
        "",
    ]
)


def _strict_findings(report: policylang.CheckReport) -> list[str]:
    """Every diagnostic `policy check --strict` fails on (errors and warnings), rendered."""
    analysed = with_analysis(report)
    return [f"{d.code} {d.message}" for d in analysed.diagnostics if d.severity.name in {"ERROR", "WARNING"}]


def test_the_issue_6_modules_are_all_shipped() -> None:
    assert set(ISSUE_6_MODULES) <= set(MODULES)
    for name in MODULES:
        assert (STDLIB / f"{name}.test.yaml").is_file(), f"{name}.policy has no test file"


@pytest.mark.parametrize("name", MODULES)
def test_module_checks_with_no_findings_under_strict(name: str) -> None:
    report = policylang.check_file(STDLIB / f"{name}.policy")
    assert report.ok, report.render()
    assert _strict_findings(report) == []


@pytest.mark.parametrize("name", MODULES)
def test_every_rule_has_a_because(name: str) -> None:
    report = policylang.check_file(STDLIB / f"{name}.policy")
    assert report.policy is not None, report.render()
    own = [rule for rule in report.policy.rules if "." not in rule.id]
    without = [rule.id for rule in own if not (rule.because or "").strip()]
    assert without == []
    assert all(rule.name for rule in own), "every stdlib rule is named, so its id survives edits"


@pytest.mark.parametrize("name", MODULES)
def test_module_starts_with_a_header_comment(name: str) -> None:
    lines = (STDLIB / f"{name}.policy").read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    assert len([line for line in header if line.strip("# ")]) >= 3, f"{name}.policy needs a header comment"
    text = " ".join(header)
    assert "adapt" in text and "import" in text, "the header says how to import and adapt the module"


def test_a_policy_importing_every_module_checks_clean_under_strict(tmp_path: Path) -> None:
    report = policylang.check_source(EVERY_MODULE, str(tmp_path / "all.policy"))
    assert report.ok, report.render()
    assert _strict_findings(report) == []
    assert report.policy is not None
    # Each module's rules join the policy under its own name; segments has none.
    prefixes = {rule.id.split(".")[0] for rule in report.policy.rules if "." in rule.id}
    assert prefixes == {name for name in MODULES if name != "segments"}


def test_a_key_customer_under_every_module() -> None:
    policy = policylang.compile(EVERY_MODULE, "all.policy")
    decision = policy.decide(
        {
            "tenure": "3y",
            "monthly_spend": 6_000,
            "orders_last_year": 30,
            "frustrations_last_year": 3,
            "order_total": 20_000,
            "service_plan": "standard",
            "mandate": "signed",
            "in_contract": False,
            "third_party_involved": True,
        }
    )
    outputs = decision.outputs
    assert str(outputs["first_response"]) == "2h" and str(outputs["resolution_target"]) == "1d"
    assert outputs["support_channels"] == {"email", "web_form", "phone", "chat", "named_contact"}
    assert outputs["skip_payment_clearance"] is True and outputs["skip_fraud_screening"] is True
    assert outputs["manual_fraud_review"] is False
    assert outputs["support_queue"] == "key_accounts" and outputs["handler"] == "senior_staff"
    assert outputs["skip_escalation_ladder"] is True and outputs["inform_account_manager"] is True
    assert {outputs[extra] for extra in ("express_delivery", "returns_pickup", "onsite_visit", "custom_setup")} == {
        "free"
    }
    assert outputs["work_scope"] == "everything" and outputs["handle_third_parties"] is True
    assert outputs["billing"] == "invoice_after"
    assert outputs["welcome_call"] is False
    assert "fraud_checks.key_customers_skip_checks" in decision.fired
    assert "routing.key_customers_to_senior_staff" in decision.fired


def test_a_new_unprofitable_customer_under_every_module() -> None:
    policy = policylang.compile(EVERY_MODULE, "all.policy")
    decision = policy.decide(
        {
            "tenure": "10d",
            "monthly_spend": 50,
            "yearly_margin": -20,
            "first_order": True,
            "order_total": 1_500,
            "wants_everything_handled": True,
            "in_contract": False,
            "service_plan": "premium",
        }
    )
    outputs = decision.outputs
    assert str(outputs["first_response"]) == "4h"  # the bought plan still gives its SLA
    assert outputs["skip_payment_clearance"] is False and outputs["manual_fraud_review"] is True
    assert outputs["support_queue"] == "general" and outputs["handler"] == "first_line"
    assert outputs["express_delivery"] == "billed"  # billing the unprofitable beats the plan's free extras
    assert outputs["offer_mandate"] is False and outputs["billing"] == "pay_up_front"
    assert sorted(decision.fired) == [
        "account_mandates.out_of_contract_quoted_first",
        "account_mandates.unprofitable_pay_up_front",
        "fraud_checks.new_customer_large_first_order",
        "service_charges.premium_plan_extras_free",
        "service_charges.unprofitable_pay_for_extras",
        "service_levels.every_customer",
        "service_levels.premium_plan",
    ]


def test_a_fact_shared_by_two_modules_is_declared_the_same_way(tmp_path: Path) -> None:
    """`service_plan` is declared by service_levels and service_charges: a policy redeclaring it
    differently is refused, so the shared declaration is really checked."""
    text = "import stdlib.service_levels\nimport stdlib.service_charges\n\ninput {\n    service_plan: string\n}\n"
    report = policylang.check_source(text, str(tmp_path / "clash.policy"))
    assert not report.ok
    assert any(d.code == "type-mismatch" and "service_plan" in d.message for d in report.diagnostics)


def test_policy_test_passes_with_full_rule_coverage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "policylang", "test", "stdlib_policies", "--fail-under", "100"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stdout and "100%" in result.stdout


def test_policy_check_strict_on_every_module_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "policylang", "check", "--strict", *(f"stdlib_policies/{n}.policy" for n in MODULES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found" in result.stdout
