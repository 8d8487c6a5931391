"""On large domains the analysis's "no conflict" verdict survives 2,000 random fact sets, and the
overlaps it lists on request are real.

The small-domain test (test_analysis_exhaustive.py) compares the analysis with every combination of
facts; here the policies compare numbers, durations and ints with constants spread over wide ranges,
where trying every value is impossible, so random facts are the check: wherever the analysis is
complete and reports no conflict on an output, 2,000 random fact sets decided with
`on_conflict="mark"` must never conflict on it.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import policylang
from policylang import Code

INPUT = """\
input {
    tier: enum(basic, standard, premium, key)
    spend: number
    tenure: duration
    complaints: int
    vip: bool?
}
"""
OUTPUTS = """\
output {
    queue: enum(general, priority, key_accounts) = general resolve priority
    note: string
}
"""


@st.composite
def conditions(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["tier", "spend", "tenure", "complaints", "vip"]))
        if kind == "tier":
            parts.append(
                f"tier {draw(st.sampled_from(['==', '!=']))} {draw(st.sampled_from(['basic', 'premium', 'key']))}"
            )
        elif kind == "spend":
            parts.append(f"spend {draw(st.sampled_from(['<', '>=', '>']))} {draw(st.integers(0, 100_000))}")
        elif kind == "tenure":
            parts.append(f"tenure {draw(st.sampled_from(['<', '>']))} {draw(st.integers(0, 3_650))}d")
        elif kind == "complaints":
            low = draw(st.integers(0, 1_000))
            parts.append(f"complaints between {low} and {low + draw(st.integers(0, 500))}")
        else:
            parts.append(draw(st.sampled_from(["vip", "not vip", "vip is missing"])))
    return " and ".join(parts)


@st.composite
def policies(draw: st.DrawFn) -> str:
    lines = [INPUT, OUTPUTS]
    for i in range(draw(st.integers(2, 6))):
        if draw(st.booleans()):
            queue = draw(st.sampled_from(["general", "priority", "key_accounts"]))
            lines.append(
                f"rule q{i} priority {draw(st.sampled_from([10, 20]))}: if {draw(conditions())} then queue = {queue}"
            )
        else:
            lines.append(f'rule n{i}: if {draw(conditions())} then note = "{draw(st.sampled_from(["a", "b"]))}"')
    return "\n".join(lines) + "\n"


def random_facts(rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "tier": rng.choice(["basic", "standard", "premium", "key"]),
        "spend": Decimal(rng.randint(-1_000, 120_000)) / rng.choice([1, 10, 100]),
        "tenure": f"{rng.randint(0, 4_000)}d",
        "complaints": rng.randint(0, 1_600),
    }
    if rng.random() < 0.7:
        facts["vip"] = rng.random() < 0.5
    return facts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.integers(0, 2**32 - 1))
def test_no_conflict_verdict_survives_random_facts(text: str, seed: int) -> None:
    policy = policylang.compile(text, filename="large.policy")
    findings = policy.analyse()

    def output_of(message: str) -> str:
        return (
            message.split("`")[1] if message.startswith("the analysis of") else message.split("set `")[1].split("`")[0]
        )

    settled = {"queue", "note"} - {
        output_of(d.message) for d in findings if d.code in (Code.CONFLICT, Code.ANALYSIS_INCOMPLETE)
    }
    event(f"outputs without a conflict, analysed completely: {len(settled)}")
    if not settled:
        return
    rng = random.Random(seed)
    for _ in range(2_000):
        facts = random_facts(rng)
        conflicted = set(policy.decide(facts, as_of="2026-01-01T00:00:00Z", on_conflict="mark").conflicts)
        assert not (conflicted & settled), (
            f"the analysis said no conflict on {conflicted & settled}, but {facts}\n{text}"
        )


def test_overlaps_name_the_winner_and_replay() -> None:
    text = (
        "input {\n    tier: enum(basic, standard, premium)\n    tenure: duration\n}\n"
        "output {\n    sla: duration = 72h resolve min\n}\n"
        "rule premium_trusted: if tier == premium and tenure > 2y then sla = 4h\n"
        "rule standard_sla: if tier != basic then sla = 24h\n"
    )
    policy = policylang.compile(text, filename="overlap.policy")
    assert [d.code for d in policy.analyse()] == []
    (overlap,) = policy.analyse(overlaps=True)
    assert overlap.code is Code.OVERLAP and overlap.rules == ("premium_trusted", "standard_sla")
    assert overlap.witness is not None
    decision = policy.decide(overlap.witness)
    assert decision.resolutions["sla"].winners == ("premium_trusted",)
    assert decision.resolutions["sla"].overridden == ("standard_sla",)
