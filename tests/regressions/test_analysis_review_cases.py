"""Cases the reviews of the region analysis found: each once a false finding, a silent miss or a crash."""

from __future__ import annotations

import policylang
from policylang import Code

AS_OF = "2026-01-01T00:00:00Z"


def findings(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((d.code.value, tuple(d.rules)) for d in policylang.compile(text).analyse())


def test_lets_naming_constants_split_the_facts_they_are_compared_with() -> None:
    text = """input { s: string
 n: int }
output { o: int = 0 }
let home = "eu"
let lo = 5
rule x: if s == home then o = 1
rule y: if n between lo and 10 then o = 2
rule z: if n > 7 then o = 3
"""
    assert findings(text) == [("conflict", ("x", "y")), ("conflict", ("x", "z")), ("conflict", ("y", "z"))]


def test_sets_of_dates_and_bools_compared_with_whole_sets_have_a_larger_set() -> None:
    for element, member in (("date", "2026-01-01"), ("bool", "true"), ("duration", "1d"), ("int", "3")):
        text = f"""input {{ g: set[{element}] }}
output {{ o: int = 0 }}
rule a: if g == {{{member}}} then o = 1
rule b: if g contains {member} and not (g == {{{member}}}) then o = 2
rule c: if g != {{}} then o = 3
"""
        found = findings(text)
        assert not [f for f in found if f[0] == Code.UNREACHABLE_RULE.value], (element, found)


def test_a_gap_whose_witness_raises_elsewhere_is_said_to_be_unproven() -> None:
    text = """input { n: int }
output { o: int
 p: int = 0 }
rule x: if n > 1 and n < 1 then o = 1
rule z: if 10 / n > 1 then p = 1
"""
    policy = policylang.compile(text)
    notes = [d for d in policy.analyse() if d.code == Code.ANALYSIS_INCOMPLETE]
    assert any("`o`" in d.message for d in notes), [d.message for d in notes]


def test_a_date_between_a_date_and_a_moment_is_decided() -> None:
    policy = policylang.compile(
        """input { dt: date }
output { o: int = 0 }
rule x: if dt between 2025-12-31 and 2026-01-01T12:00:00Z then o = 1
"""
    )
    assert policy.decide({"dt": "2026-01-01"}, as_of=AS_OF).outputs == {"o": 1}
    assert policy.decide({"dt": "2026-01-02"}, as_of=AS_OF).outputs == {"o": 0}
    assert policy.analyse() == []


def test_a_conflict_whose_plain_facts_make_another_rule_raise_is_found_elsewhere() -> None:
    text = """input {
    tier: enum(basic, premium)
    orders: int
    spend: number
}
output {
    discount: int
    review: bool = false resolve any
}
rule premium: if tier == premium then discount = 10
rule basic: if tier == basic then discount = 5
rule loyal: if tier == premium then discount = 15
rule odd: if spend / orders > 100 then review
"""
    policy = policylang.compile(text)
    conflicts = [d for d in policy.analyse() if d.code == Code.CONFLICT]
    assert [d.rules for d in conflicts] == [("premium", "loyal")]
    witness = conflicts[0].witness
    assert witness is not None and witness["orders"] != 0
    assert "discount" in policy.decide(witness, as_of=AS_OF, on_conflict="mark").conflicts
