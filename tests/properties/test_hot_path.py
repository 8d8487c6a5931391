"""The decision hot path's shortcuts agree with the general code they stand in for.

- Each output's picker (the value-only resolver the generated code calls) gives what the full
  resolver puts in `Resolved.value`, for every strategy, ties, out-of-order proposals, and values
  that are equal but of different kinds (True and 1).
- The generated facts validator accepts exactly what the pydantic model accepts, with the same
  values; everything else goes to the model, which reports it.
- A Decision built on the hot path is immutable, equal to itself rebuilt, picklable, and builds
  `fired` and `resolutions` on demand equal to what the resolvers say.
- Folding the constants the index tree knows never skips an operand that could raise.
"""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_strategies import INPUT_BLOCK, facts

import policylang
from policylang.core.datatypes import BOOL, DATE, DURATION, INT, NUMBER, STRING, EnumOf, SetOf
from policylang.core.values import Duration
from policylang.engine import runtime
from policylang.engine.facts import MISSING, FactsError, FactsValidator
from policylang.semantics import typed_tree as c

# --- pickers and resolvers ----------------------------------------------------------------------

QUEUE = EnumOf(("general", "priority", "urgent"))
VALUES: dict[Any, st.SearchStrategy[Any]] = {
    NUMBER: st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), 1, 2, True]),
    INT: st.sampled_from([0, 1, 2, True, False]),
    BOOL: st.booleans(),
    STRING: st.sampled_from(["a", "b", "c"]),
    QUEUE: st.sampled_from(QUEUE.members),
    DURATION: st.sampled_from([Duration(0, 86_400), Duration(0, 3_600), Duration(1, 0), Duration(0, 2_629_746)]),
    DATE: st.sampled_from([date(2026, 1, 1), date(2025, 6, 30), datetime(2026, 1, 1, tzinfo=UTC)]),
    SetOf(STRING): st.frozensets(st.sampled_from(["x", "y", "z"]), max_size=3),
}
STRATEGIES_FOR = {
    NUMBER: ("unique", "first", "priority", "min", "max"),
    INT: ("unique", "first", "priority", "min", "max"),
    BOOL: ("unique", "first", "priority", "any", "all"),
    STRING: ("unique", "first", "priority"),
    QUEUE: ("unique", "first", "priority", "min", "max"),
    DURATION: ("unique", "first", "priority", "min", "max"),
    DATE: ("unique", "first", "min", "max"),
    SetOf(STRING): ("unique", "first", "union"),
}


@st.composite
def resolver_cases(draw: st.DrawFn) -> tuple[Any, ...]:
    t = draw(st.sampled_from(list(STRATEGIES_FOR)))
    strategy = draw(st.sampled_from(STRATEGIES_FOR[t]))
    rule_count = draw(st.integers(1, 6))
    rules = tuple(SimpleNamespace(id=f"r{i}", priority=draw(st.sampled_from([0, 10, 20]))) for i in range(rule_count))
    has_default = draw(st.booleans())
    default = draw(VALUES[t]) if has_default else None
    output = c.Output("out", t, strategy, default, has_default)
    indexes = draw(st.lists(st.integers(0, rule_count - 1), max_size=rule_count, unique=True))
    may_reorder = draw(st.booleans())
    if not may_reorder:
        indexes.sort()  # without rules that read outputs, proposals arrive in rule order
    proposals = [(i, draw(VALUES[t])) for i in indexes]
    return output, rules, proposals, may_reorder


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(resolver_cases())
def test_the_picker_gives_the_resolvers_value(case: tuple[Any, ...]) -> None:
    output, rules, proposals, may_reorder = case
    resolved = runtime.make_resolver(output, rules, may_reorder)(list(proposals))
    picked = runtime.make_picker(output, rules, may_reorder)(list(proposals))
    if resolved.status == "conflict":
        assert picked is runtime.CONFLICTED
    elif resolved.status == "absent":
        assert picked is runtime.NO_VALUE
    else:
        assert picked is not runtime.CONFLICTED and picked is not runtime.NO_VALUE
        assert picked == resolved.value and type(picked) is type(resolved.value), (picked, resolved)


def test_a_single_proposal_is_taken_as_is_by_the_generated_code() -> None:
    # The generated code skips the picker for one proposal; every strategy's answer is that value.
    policy = policylang.compile(
        "output {\n    n: number = 0 resolve max\n}\nif tier == key then n = 3\n", filename="one.policy"
    )
    decision = policy.decide({"tier": "key"})
    assert decision["n"] == 3
    assert decision.resolutions["n"].winners == ("one#1",)


# --- the facts validator ------------------------------------------------------------------------

SCHEMA_POLICY = policylang.compile(INPUT_BLOCK + "if spend > 0 then ok\n", filename="schema.policy")


def _slow(validator: FactsValidator, given: Any) -> Any:
    """The pydantic model alone: what `validate` did before the generated path existed."""
    fast = validator.fast
    validator.fast = lambda _given: None
    try:
        return validator.validate(given)
    except FactsError as exc:
        return ("error", [p.fact for p in exc.problems])
    finally:
        validator.fast = fast


def _fast_or_slow(validator: FactsValidator, given: Any) -> Any:
    try:
        return validator.validate(given)
    except FactsError as exc:
        return ("error", [p.fact for p in exc.problems])


ODD_VALUES = st.sampled_from(
    [
        None,
        MISSING,
        True,
        0,
        -3,
        10**120,
        1.5,
        float("nan"),
        float("inf"),
        Decimal("2.50"),
        Decimal("1e200"),
        "3y",
        "P3Y",
        "400d",
        "2 years",
        "basic",
        "premium",
        "gold",
        "",
        "12",
        "2026-01-31",
        "2026-01-31T09:00:00Z",
        "2026-01-31T09:00:00",
        ["a", "b"],
        [1, 2],
        {"a": 1},
        timedelta(days=3),
        Duration(0, 60),
        date(2026, 1, 31),
        datetime(2026, 1, 31, 9, tzinfo=UTC),
    ]
)


@st.composite
def fact_dicts(draw: st.DrawFn) -> dict[str, Any]:
    given = dict(draw(facts()))
    for name in draw(st.lists(st.sampled_from(sorted(given)), max_size=3, unique=True)):
        choice = draw(st.integers(0, 2))
        if choice == 0:
            del given[name]
        else:
            given[name] = draw(ODD_VALUES)
    if draw(st.integers(0, 5)) == 0:
        given[draw(st.sampled_from(["tierr", "extra", "Tier"]))] = draw(ODD_VALUES)
    return given


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_dicts(), st.sampled_from(["reject", "ignore"]))
def test_the_generated_validator_agrees_with_the_pydantic_model(given: dict[str, Any], unknown: str) -> None:
    validator = FactsValidator(SCHEMA_POLICY.checked, unknown)
    expected = _slow(validator, given)
    assert _fast_or_slow(validator, given) == expected
    fast = validator.fast(given)
    if fast is not None:  # what it accepts, it accepts with exactly the model's values
        assert fast == expected
        assert {k: type(v) for k, v in fast.items()} == {k: type(v) for k, v in expected.items()}


def test_the_generated_validator_accepts_plain_facts_and_passes_the_rest_on() -> None:
    validator = FactsValidator(SCHEMA_POLICY.checked)
    plain = {"tier": "key", "tenure": "400d", "spend": 12.5, "signup": "2026-01-31"}
    assert validator.fast(plain) is not None
    assert validator.fast({**plain, "tier": "gold"}) is None  # the model reports it
    assert validator.fast({**plain, "extra": 1}) is None
    assert validator.fast({k: v for k, v in plain.items() if k != "tier"}) is None
    assert validator.fast({**plain, "complaints": True}) is None  # a bool is not an int
    with pytest.raises(FactsError, match='fact `tier`: expected one of basic, standard, premium, key, got "gold"'):
        validator.validate({**plain, "tier": "gold"})


# --- the Decision object ------------------------------------------------------------------------

SUPPORT = policylang.compile(
    """\
policy demo
input {
    tier: enum(basic, premium, key)
    spend: number
}
output {
    sla: duration = 72h resolve min
    queue: enum(general, priority) = general resolve priority
}
rule fast priority 10: if tier == premium then sla = 4h, queue = priority
rule slower: if spend > 100 then sla = 8h
rule quiet priority 5: if spend > 100 then queue = general
""",
    filename="demo.policy",
)
AS_OF = "2026-01-31T09:00:00Z"


def test_a_decision_is_immutable() -> None:
    decision = SUPPORT.decide({"tier": "premium", "spend": 200}, as_of=AS_OF)
    for name in ("outputs", "fired", "as_of", "facts", "policy_name", "conflicts", "resolutions", "_record"):
        with pytest.raises(AttributeError):
            setattr(decision, name, None)
    with pytest.raises(AttributeError):
        del decision.outputs


def test_fired_and_resolutions_are_built_on_first_use_and_then_kept() -> None:
    decision = SUPPORT.decide({"tier": "premium", "spend": 200}, as_of=AS_OF)
    assert decision.fired == ("fast", "slower", "quiet")
    assert decision.fired is decision.fired
    sla = decision.resolutions["sla"]
    assert (sla.status, sla.winners, sla.overridden) == ("value", ("fast",), ("slower",))
    queue = decision.resolutions["queue"]
    assert (queue.value, queue.winners, queue.overridden) == ("priority", ("fast",), ("quiet",))
    assert decision.resolutions is decision.resolutions
    assert decision.conflicts == {}


def test_a_decision_pickles_to_plain_data_and_compares_equal() -> None:
    decision = SUPPORT.decide({"tier": "basic", "spend": 200}, as_of=AS_OF)
    again = pickle.loads(pickle.dumps(decision))
    assert again == decision
    assert again.resolutions == decision.resolutions
    assert again.to_dict() == decision.to_dict()
    other = SUPPORT.decide({"tier": "premium", "spend": 200}, as_of=AS_OF)
    assert other != decision
    assert "Decision(outputs=" in repr(decision) and "fired=('slower', 'quiet')" in repr(decision)


def test_the_public_constructor_still_builds_a_decision() -> None:
    built = policylang.Decision(
        outputs={"sla": Duration(0, 3600)},
        fired=("r",),
        as_of=datetime(2026, 1, 31, tzinfo=UTC),
        policy_name="p",
        policy_hash="0" * 64,
        resolutions={},
        facts={},
    )
    assert built.fired == ("r",) and built.policy_name == "p" and built.conflicts == {}
    assert built.to_dict()["outputs"] == {"sla": "1h"}


# --- constant folding in the index tree -----------------------------------------------------------


def _indexed_policy(condition: str) -> policylang.Policy:
    """Enough rules on `tier` for the index tree, plus one rule with `condition`."""
    lines = ["input {", "    tier: enum(basic, premium, key)", "    spend: number", "    zero: number = 0", "}"]
    lines += ["output {", "    n: number = 0 resolve max", "}"]
    lines += [f"if tier == {('basic', 'premium', 'key')[i % 3]} and spend > {i} then n = {i}" for i in range(60)]
    lines.append(f"rule odd: if {condition} then n = 1000")
    return policylang.compile("\n".join(lines) + "\n", filename="indexed.policy")


def test_folding_a_known_atom_still_evaluates_what_comes_before_it() -> None:
    policy = _indexed_policy("spend / zero > 1 and tier == premium")
    assert "rule 60" in policy.decision_graph.source
    # Under the `tier == basic` branch `tier == premium` is known false, but the division runs first.
    with pytest.raises(policylang.EvaluationError, match="division by zero"):
        policy.decide({"tier": "basic", "spend": 5})


def test_folding_drops_what_short_circuiting_never_reaches() -> None:
    policy = _indexed_policy("tier == premium and spend / zero > 1")
    assert policy.decide({"tier": "basic", "spend": 5})["n"] == 3  # the division is never reached
    with pytest.raises(policylang.EvaluationError, match="division by zero"):
        policy.decide({"tier": "premium", "spend": 5})


# --- the outputs-only function (first_hit.py) ---------------------------------------------------------

FIRST_HIT_INPUT = """\
input {
    tier: enum(basic, premium, key)
    spend: number
    zero: number = 0
}
"""


def _first_hit(outputs: str, rules: str) -> policylang.Policy:
    return policylang.compile(FIRST_HIT_INPUT + "output {\n" + outputs + "\n}\n" + rules, filename="fh.policy")


@pytest.mark.parametrize(
    ("declaration", "facts", "expected", "winners"),
    [
        # min: the smallest matching value; the order of the file does not matter
        ("sla: duration = 72h resolve min", {"tier": "key", "spend": 50}, Duration(0, 3600), ("b",)),
        ("sla: duration = 72h resolve min", {"tier": "basic", "spend": 50}, Duration(0, 4 * 3600), ("c",)),
        ("sla: duration = 72h resolve min", {"tier": "basic", "spend": 1}, Duration(0, 72 * 3600), ()),
    ],
)
def test_min_tries_the_smallest_value_first(
    declaration: str, facts: dict[str, Any], expected: Any, winners: Any
) -> None:
    policy = _first_hit(
        "    " + declaration,
        "rule a: if spend > 10 then sla = 8h\nrule b: if tier == key then sla = 1h\nrule c: if spend > 20 then sla = 4h\n",
    )
    assert policy.decision_graph.decide_outputs is not None
    decision = policy.decide(facts)
    assert decision["sla"] == expected
    assert decision.resolutions["sla"].winners == winners


def test_equal_lengths_keep_the_first_rule_in_file_order() -> None:
    policy = _first_hit(
        "    sla: duration resolve min",
        "rule late: if spend > 1 then sla = 24h\nrule early: if spend > 1 then sla = 1d\n",
    )
    # Reordered by length the two tie; the earlier rule in the file gives the value, as the picker does.
    assert policy.decide({"tier": "key", "spend": 5})["sla"] == Duration(0, 86_400)
    assert policy.decide({"tier": "key", "spend": 5}).resolutions["sla"].winners == ("late", "early")


def test_priority_ties_that_disagree_hand_over_to_the_full_function() -> None:
    policy = _first_hit(
        "    queue: enum(general, priority, urgent) = general resolve priority",
        "rule a priority 10: if tier == key then queue = priority\n"
        "rule b priority 10: if spend > 100 then queue = urgent\n"
        "rule c priority 5: if spend > 0 then queue = general\n",
    )
    assert policy.decide({"tier": "key", "spend": 5})["queue"] == "priority"
    assert policy.decide({"tier": "basic", "spend": 500})["queue"] == "urgent"
    with pytest.raises(policylang.ConflictError, match="`a` says priority, `b` says urgent"):
        policy.decide({"tier": "key", "spend": 500})
    marked = policy.decide({"tier": "key", "spend": 500}, on_conflict="mark")
    assert "queue" not in marked.outputs and set(marked.conflicts) == {"queue"}


@pytest.mark.parametrize(
    ("declaration", "facts", "expected"),
    [
        ("flag: bool resolve any", {"tier": "key", "spend": 0}, False),
        ("flag: bool resolve any", {"tier": "key", "spend": 50}, True),
        ("flag: bool resolve all", {"tier": "key", "spend": 50}, False),
        ("flag: bool resolve all", {"tier": "basic", "spend": 50}, True),
        ("flag: bool resolve all", {"tier": "basic", "spend": 0}, None),
    ],
)
def test_any_and_all_try_the_deciding_value_first(declaration: str, facts: dict[str, Any], expected: Any) -> None:
    policy = _first_hit("    " + declaration, "if tier == key then flag = false\nif spend > 10 then flag = true\n")
    assert policy.decision_graph.decide_outputs is not None
    assert policy.decide(facts).get("flag") == expected


def test_unique_with_disagreeing_rules_still_conflicts() -> None:
    policy = _first_hit("    note: string", 'if tier == key then note = "a"\nif spend > 10 then note = "b"\n')
    assert policy.decide({"tier": "key", "spend": 1})["note"] == "a"
    with pytest.raises(policylang.ConflictError):
        policy.decide({"tier": "key", "spend": 50})


def test_a_condition_that_can_raise_leaves_no_outputs_only_function() -> None:
    policy = _first_hit("    n: number = 0 resolve max", "if spend / zero > 1 then n = 1\n")
    assert policy.decision_graph.decide_outputs is None
    assert policy.decision_graph.outputs_source is None


@pytest.mark.parametrize(
    ("outputs", "rules", "facts", "expected"),
    [
        (
            "    perks: set[string] = {} resolve union",
            "if spend > 1 then perks += {a}\nif tier == key then perks += {b}\n",
            {"tier": "key", "spend": 5},
            {"perks": frozenset({"a", "b"})},
        ),
        ("    n: number = 0 resolve max", "if spend > 1 then n = spend * 2\n", {"tier": "key", "spend": 5}, {"n": 10}),
    ],
    ids=["union needs every match", "a computed value"],
)
def test_outputs_that_need_every_match_are_enumerated(
    outputs: str, rules: str, facts: dict[str, Any], expected: dict[str, Any]
) -> None:
    # Issue 14: such an output's matching rules are enumerated; the other outputs keep their chains.
    policy = _first_hit(outputs, rules)
    decide_outputs = policy.decision_graph.decide_outputs
    assert decide_outputs is not None
    assert decide_outputs(policy.validate_facts(facts), AS_OF) == expected
    assert policy.decide(facts).outputs == expected


def test_a_decision_made_outputs_first_builds_fired_from_the_full_function() -> None:
    policy = _first_hit(
        "    sla: duration = 72h resolve min",
        "rule a: if spend > 10 then sla = 8h\nrule b: if tier == key then sla = 1h\n",
    )
    decision = policy.decide({"tier": "key", "spend": 50}, as_of=AS_OF)
    assert not hasattr(decision, "_record")  # nothing recorded yet: the outputs-only function decided
    assert decision.fired == ("a", "b")
    assert decision.resolutions["sla"].overridden == ("a",)
    assert decision.to_dict()["fired"] == ["a", "b"]


def test_thousands_of_rules_on_one_output_compile_into_a_flat_loop() -> None:
    rules = "".join(f"if spend > {i} then n = {i}\n" for i in range(3000))
    policy = _first_hit("    n: number = 0 resolve max", rules)
    assert policy.decision_graph.decide_outputs is not None
    assert policy.decide({"tier": "key", "spend": 1500})["n"] == 1499
    assert len(policy.decide({"tier": "key", "spend": 10}).fired) == 10


# --- found in review -------------------------------------------------------------------------------


def test_the_facts_a_decision_keeps_are_read_only() -> None:
    # fired and resolutions may be built later from these facts, so they must not change.
    policy = policylang.compile(
        "input {\n    tier: enum(basic, premium)\n}\noutput {\n    sla: duration = 72h resolve min\n}\n"
        "rule a: if tier == premium then sla = 4h\n",
        filename="ro.policy",
    )
    decision = policy.decide({"tier": "premium"})
    with pytest.raises(TypeError):
        decision.facts["tier"] = "basic"  # type: ignore[index]
    assert decision.fired == ("a",)
    assert decision.resolutions["sla"].winners == ("a",)


def test_missing_given_explicitly_is_a_fact_not_given() -> None:
    policy = policylang.compile(
        "input {\n    tenure: duration\n    grace: duration = 30d\n}\noutput {\n    x: bool = false resolve any\n}\n"
        "rule b: if tenure is missing then x\n",
        filename="missing.policy",
    )
    assert policy.decide({"tenure": "1y", "grace": MISSING}).outputs == {"x": False}
    assert policy.validate_facts({"tenure": "1y", "grace": MISSING})["grace"] == Duration(0, 30 * 86_400)
    with pytest.raises(FactsError, match="fact `tenure` is missing"):
        policy.decide({"tenure": MISSING})


@pytest.mark.parametrize("extra", ["", "    p: set[string] = {} resolve union\n"], ids=["outputs-only", "full only"])
def test_a_rule_reading_an_output_through_a_shared_atom_keeps_rule_order(extra: str) -> None:
    text = (
        "input {\n    a: bool\n    b: bool\n}\n"
        "output {\n    o0: bool resolve first\n    q: string resolve first\n    c: string resolve unique\n"
        + extra
        + "}\n"
        'rule r0: if o0 is missing then q = "r0", c = "x"\n'
        'rule r1: if a then q = "r1"\n'
        'rule r1b: if b then c = "y"\n'
        'rule r2: if o0 is missing then q = "r2"\n'
    )
    policy = policylang.compile(text, filename="order.policy")
    decision = policy.decide({"a": True, "b": False})
    assert decision["q"] == "r0"
    assert decision.resolutions["q"].winners == ("r0",)
    marked = policy.decide({"a": True, "b": True}, on_conflict="mark")
    assert marked.conflicts["c"] == (("r0", "x"), ("r1b", "y"))


@pytest.mark.parametrize("other_rules", [5, 60], ids=["no index", "index tree"])
def test_a_missing_indexed_fact_still_reaches_an_operand_that_raises(other_rules: int) -> None:
    members = [f"m{i}" for i in range(10)]
    lines = [
        "input {",
        f"    tier: enum({', '.join(members)})?",
        "    n: number",
        "}",
        "output {",
        "    x: number = 0 resolve max",
        "}",
    ]
    lines += [f"rule r{i}: if tier == m{i % 10} then x = {i}" for i in range(other_rules)]
    lines.append("rule boom: if tier == m3 and 10 / n > 1 then x = 1000")
    policy = policylang.compile("\n".join(lines) + "\n", filename="boom.policy")
    # `tier == m3` is unknown when tier is missing, so `and` goes on to the division (docs, section 2).
    with pytest.raises(policylang.EvaluationError, match="division by zero"):
        policy.decide({"n": 0})
    assert policy.decide({"n": 0, "tier": "m1"})["x"] == max([i for i in range(other_rules) if i % 10 == 1], default=0)


def test_a_policy_that_reads_no_facts_validates_an_empty_dict() -> None:
    policy = policylang.compile("output {\n    n: number = 1\n}\n", filename="nofacts.policy")
    assert policy._validator.fast({}) == {}
    assert policy.decide({}).outputs == {"n": 1}
    assert policy.decide({"x": 1}).outputs == {"n": 1}  # without an `input` block any facts are taken


# --- load refuses conflicts (analysis_cache.py) -------------------------------------------------------

CONFLICTING = """\
input {
    tier: enum(basic, premium)
    spend: number
}
output {
    sla: duration = 72h
}
rule premium_sla: if tier == premium then sla = 4h
rule big_spender: if spend > 100 then sla = 8h
"""


def test_load_refuses_a_policy_whose_rules_can_conflict(tmp_path: Any) -> None:
    path = tmp_path / "conflicting.policy"
    path.write_text(CONFLICTING)
    with pytest.raises(policylang.PolicyError) as raised:
        policylang.load(path)
    (finding,) = raised.value.diagnostics
    assert finding.code is policylang.Code.CONFLICT
    assert set(finding.rules) == {"premium_sla", "big_spender"}
    assert finding.witness is not None and finding.witness["tier"] == "premium"
    # The caller may opt out; the conflict then surfaces at run time, for the witness's facts.
    policy = policylang.load(path, refuse_conflicts=False)
    with pytest.raises(policylang.ConflictError):
        policy.decide(finding.witness)


def test_a_clean_policy_is_analysed_once_then_remembered(tmp_path: Any, monkeypatch: Any) -> None:
    from policylang.analysis import analyser as analysis
    from policylang.analysis import cache as analysis_cache

    monkeypatch.setenv("POLICYLANG_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "clean.policy"
    path.write_text(CONFLICTING.replace("if spend > 100", "if tier == basic"))
    calls = []
    original = analysis.analyse_within  # (what the cache calls: it says whether time ran out)

    def counting(policy: Any, **options: Any) -> Any:
        calls.append(1)
        return original(policy, **options)

    monkeypatch.setattr(analysis, "analyse_within", counting)
    policylang.load(path)
    policylang.load(path)
    assert len(calls) == 1
    assert list((tmp_path / "cache" / "analysis").iterdir())
    path.write_text(path.read_text() + "# edited\n")  # a new content hash: analysed again
    policylang.load(path)
    assert len(calls) == 2
    assert analysis_cache.cache_dir() == tmp_path / "cache"
