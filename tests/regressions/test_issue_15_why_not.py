"""Issue 15's two wrong why-not answers, where a fact is compared with another fact.

`teams contains editors` answered "no change of up to 2 facts makes it give the value" although one
fact changed is enough, and `owner == user` proposed changing both facts to an invented `other`
where giving one the other's value is enough. A fact compared with another now borrows that
fact's value (or its members, or joins it to its own set) before any invented value.
"""

from __future__ import annotations

from typing import Any

import policylang

TEAMS = """\
input {
    teams: set[string] = {}
    editors: string
}
output { allow: bool = false resolve any }
rule editor: if teams contains editors then allow
"""

OWNER = """\
input {
    owner: string
    user: string
}
output { allow: bool = false resolve any }
rule own: if owner == user then allow
"""

IN_SET = """\
input {
    role: string
    allowed: set[string] = {}
}
output { allow: bool = false resolve any }
rule listed: if role in allowed then allow
"""


def _answer(text: str, facts: dict[str, Any]) -> Any:
    decision = policylang.compile(text).decide(facts)
    assert decision["allow"] is False
    return decision.why_not("allow=true")


def _only_change(answer: Any) -> tuple[str, Any]:
    assert answer.status == "possible"
    (candidate,) = answer.candidates
    assert candidate.verified
    (change,) = candidate.changes
    return change.fact, change.to


def test_a_set_that_contains_another_fact_needs_one_fact_changed() -> None:
    fact, to = _only_change(_answer(TEAMS, {"teams": ["readers"], "editors": "writers"}))
    assert (fact, sorted(to) if fact == "teams" else to) in [("teams", ["readers", "writers"]), ("editors", "readers")]


def test_two_facts_compared_need_one_given_the_others_value() -> None:
    assert _only_change(_answer(OWNER, {"owner": "emina", "user": "aaron"})) in {
        ("owner", "aaron"),
        ("user", "emina"),
    }


def test_a_fact_in_a_set_fact_borrows_a_member_or_joins_the_set() -> None:
    fact, to = _only_change(_answer(IN_SET, {"role": "guest", "allowed": ["admin", "staff"]}))
    assert (fact, to) == ("role", "admin") or (fact == "allowed" and "guest" in to)


def test_the_cli_answer_is_one_fact_with_the_value_of_the_other(tmp_path: Any) -> None:
    from click.testing import CliRunner  # deferred: only this test drives the CLI

    from policylang.cli import app

    path = tmp_path / "own.policy"
    path.write_text(OWNER, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["explain", str(path), "--set", "owner=emina", "--set", "user=aaron", "--why-not", "allow=true"]
    )
    assert result.exit_code == 0, result.output
    assert "with 1 fact changed" in result.output
    assert "change to `other`" not in result.output
