"""Issue 15 item 6: every value a user reads is spelled as the language (or, for given facts, the
facts file) writes it, never as a Python repr: `high` not `'high'`, `4h` not `Duration(...)`,
`{a, b}` not `frozenset(...)`, `true` not `True`, `0.00001` not `1e-05`.

One test per kind of message (run-time conflicts, facts errors, arithmetic errors, replay
differences, `policy test` failures, `policy eval`), and a scan of the messages of a broad run
(conflicts over every type, bad facts of every type) for anything that looks like a repr.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import policylang
from policylang.core.spelling import spell_value
from policylang.decision_log import DecisionLog

REPR = re.compile(
    r"'[^'\s]*'"  # a Python string repr
    r"|\b(?:True|False|None)\b"
    r"|\b(?:Decimal|Duration|frozenset|datetime|date|set)\("
    r"|\d[eE][+-]?\d"  # a number in exponent notation
)

EVERY_TYPE = """\
input { x: bool }
output {
    level: enum(low, high)
    flag: bool
    count: int
    amount: number
    wait: duration
    tags: set[enum(a, b, c)]
    note: string
    day: date
    moment: datetime
}
rule one: if x then level = high, flag = true, count = 1, amount = 0.00001, wait = 4h,
    tags = {a, b}, note = "two words", day = 2026-01-01, moment = 2026-01-01T09:00:00Z
rule two: if x then level = low, flag = false, count = 2, amount = 2.5, wait = 1d,
    tags = {c}, note = "x", day = 2026-02-01, moment = 2026-02-01T09:00:00Z
"""

SPELLED = {
    "level": ("high", "low"),
    "flag": ("true", "false"),
    "count": ("1", "2"),
    "amount": ("0.00001", "2.5"),
    "wait": ("4h", "1d"),
    "tags": ("{a, b}", "{c}"),
    "note": ('"two words"', "x"),
    "day": ("2026-01-01", "2026-02-01"),
    "moment": ("2026-01-01T09:00:00Z", "2026-02-01T09:00:00Z"),
}

FACTS_OF_EVERY_TYPE = """\
input {
    b: bool
    i: int
    n: number
    s: string
    d: duration
    w: date
    t: datetime
    e: enum(low, high)
    st: set[enum(a, b)]
}
output { ok: bool = false }
rule r: if b then ok
"""

BAD_FACTS = [
    {"b": "yes", "i": "x", "n": "abc", "s": 5, "d": True, "w": "nope", "t": "2026-01-01", "e": "medium", "st": "a"},
    {"b": None, "i": [1, 2], "n": {"a": True}, "s": [True, None, "x y"], "d": 1.5, "w": 3, "t": True, "e": 4},
    {"b": 1, "i": 1e-5, "n": float("inf"), "s": ("a",), "d": "3 years", "w": False, "t": 1, "e": None, "st": ["q"]},
]


def _facts_error(facts: dict[str, Any]) -> policylang.FactsError:
    with pytest.raises(policylang.FactsError) as caught:
        policylang.compile(FACTS_OF_EVERY_TYPE).decide(facts)
    return caught.value


@pytest.mark.parametrize("output", list(SPELLED))
def test_a_run_time_conflict_spells_both_values(output: str) -> None:
    policy = policylang.compile(EVERY_TYPE)
    with pytest.raises(policylang.ConflictError) as caught:
        policy.decide({"x": True})
    first, second = SPELLED[caught.value.output]
    assert str(caught.value) == f"conflict on output `{caught.value.output}`: `one` says {first}, `two` says {second}"
    marked = policy.decide({"x": True}, on_conflict="mark")
    said = dict(marked.conflicts[output])
    assert spell_value(said["one"]) == SPELLED[output][0]


def test_facts_errors_spell_the_given_values_as_a_facts_file_writes_them() -> None:
    problems = {p.fact: p.message for p in _facts_error(BAD_FACTS[0]).problems}
    assert problems["b"] == 'fact `b`: expected true or false, got "yes"'
    assert problems["n"] == 'fact `n`: expected a number, got "abc"'
    assert problems["d"] == "fact `d`: expected a duration, got true"
    assert problems["t"] == 'fact `t`: "2026-01-01" has no time zone'
    problems = {p.fact: p.message for p in _facts_error(BAD_FACTS[1]).problems}
    assert problems["b"] == "fact `b`: expected true or false, got null"
    assert problems["n"] == 'fact `n`: expected a number, got {"a": true}'
    assert problems["s"] == 'fact `s`: expected a string, got [true, null, "x y"]'
    problems = {p.fact: p.message for p in _facts_error(BAD_FACTS[2]).problems}
    assert problems["i"] == "fact `i`: expected a whole number, got 0.00001"


def test_a_division_by_zero_spells_its_operands() -> None:
    policy = policylang.compile(
        "input { a: number b: number }\noutput { r: number }\nrule q: if a > 0 then r = a / b\n"
    )
    with pytest.raises(policylang.EvaluationError) as caught:
        policy.decide({"a": "0.00001", "b": 0})
    assert str(caught.value) == "division by zero (0.00001 / 0)"


def test_the_scan_finds_reprs() -> None:
    """The scan below is honest: it catches what the messages used to say."""
    for old in ["got 'yes'", "got True", "got None", "Decimal('1.5')", "frozenset({'a'})", "1e-05"]:
        assert REPR.search(old), old


def test_no_message_of_a_broad_run_holds_a_repr() -> None:
    messages: list[str] = []
    policy = policylang.compile(EVERY_TYPE)
    with pytest.raises(policylang.ConflictError) as caught:
        policy.decide({"x": True})
    messages.append(str(caught.value))
    marked = policy.decide({"x": True}, on_conflict="mark")
    messages.append(marked.explain())
    for facts in BAD_FACTS:
        error = _facts_error(facts)
        messages.append(str(error))
        messages.extend(d.message for d in error.diagnostics)
    messages.extend(d.message for d in policylang.check_source(EVERY_TYPE).diagnostics)
    found = {m: REPR.search(m) for m in messages}
    assert not {m: hit.group() for m, hit in found.items() if hit}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policylang", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_policy_eval_prints_a_conflict_as_the_language_writes_it(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(EVERY_TYPE)
    result = _cli("eval", "p.policy", "--set", "x=true", "--on-conflict", "mark", cwd=tmp_path)
    assert "tags    CONFLICT: one says {a, b}, two says {c}" in result.stdout
    assert "amount  CONFLICT: one says 0.00001, two says 2.5" in result.stdout
    assert not REPR.search(result.stdout + result.stderr)


def test_a_failing_policy_test_spells_expected_and_actual(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(
        "input { x: bool }\noutput { wait: duration = 1h\n tags: set[enum(a, b)] = {} }\n"
        "rule r: if x then wait = 4h, tags = {a, b}\n"
    )
    (tmp_path / "p.test.yaml").write_text(
        "cases:\n  - name: wrong\n    facts: {x: true}\n    expect: {wait: 2h, tags: [b]}\n"
    )
    result = _cli("test", "p.test.yaml", cwd=tmp_path)
    assert "wait: expected 2h, got 4h" in result.stdout
    assert "tags: expected {b}, got {a, b}" in result.stdout
    assert not REPR.search(result.stdout)


def test_replay_differences_spell_values_and_rules(tmp_path: Path) -> None:
    policy = policylang.compile(
        "input { x: bool }\noutput { wait: duration = 1h\n tags: set[enum(a, b)] = {} }\n"
        "rule r: if x then wait = 4h, tags = {a, b}\n"
    )
    path = str(tmp_path / "log.db")
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    with DecisionLog(path) as log:
        decision_id = log.record(policy, {"x": True}, policy.decide({"x": True}, as_of=as_of))
    with sqlite3.connect(path) as db:
        db.execute("""UPDATE decisions SET outputs = '{"wait": "2h", "tags": ["b"]}', fired = '[]'""")
    with DecisionLog(path, create=False) as log:
        differences = log.replay(decision_id).differences[1:]  # after "the record itself: ... edited"
    assert differences == [
        "output `wait`: recorded 2h, replayed 4h",
        "output `tags`: recorded {b}, replayed {a, b}",
        "fired: recorded none, replayed `r`",
    ]
