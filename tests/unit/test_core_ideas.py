"""Each core idea is said once, in policylang/core (issue 13 item 5), and the old restatements stay gone.

One short test per idea: output resolution (the RESOLUTIONS table), a bool never equals a number
(same_value), the order key, MISSING, the JSON codec and the value spelling; then an AST scan of the
package for the restatements that were removed.
"""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import policylang
from policylang.core import json_codec, resolution, spelling, values
from policylang.core.datatypes import BOOL, DATE, DURATION, INT, NUMBER, STRING, UNKNOWN, EnumOf, SetOf
from policylang.core.resolution import RESOLUTIONS, Contribution, Prefer, resolve
from policylang.core.values import MISSING, Duration, order_key, same_value

PACKAGE = Path(policylang.__file__).parent

# --- output resolution ---------------------------------------------------------------------------


def test_every_resolution_is_one_entry_that_says_what_it_prefers_fits_and_how_it_is_worded() -> None:
    assert list(RESOLUTIONS) == ["unique", "first", "priority", "min", "max", "any", "all", "union"]
    assert RESOLUTIONS["min"].prefer is Prefer.SMALLER_VALUE and RESOLUTIONS["min"].phrase == "the smallest value wins"
    assert RESOLUTIONS["min"].fits(DURATION) and not RESOLUTIONS["min"].fits(BOOL)
    assert RESOLUTIONS["any"].fits(BOOL) and not RESOLUTIONS["any"].fits(SetOf(INT))
    assert RESOLUTIONS["union"].fits(SetOf(STRING)) and RESOLUTIONS["union"].needs_every_match
    assert all(entry.fits(UNKNOWN) for entry in RESOLUTIONS.values())
    assert {name for name, entry in RESOLUTIONS.items() if entry.may_conflict} == {"unique", "priority"}


def test_resolve_reads_the_table_rank_for_who_wins() -> None:
    def c(rule: str, order: int, priority: int, value: object) -> Contribution:
        return Contribution(rule, order, priority, value)

    three = [c("a", 0, 1, 3), c("b", 1, 5, 1), c("c", 2, 5, 1)]
    assert resolve("min", three) == resolution.Resolved("value", 1, ("b", "c"), ("a",))
    assert resolve("max", three) == resolution.Resolved("value", 3, ("a",), ("b", "c"))
    assert resolve("first", three).winners == ("a",)
    assert resolve("priority", three) == resolution.Resolved("value", 1, ("b", "c"), ("a",))
    assert resolve("unique", three).status == "conflict"
    flags = [c("a", 0, 0, False), c("b", 1, 0, True)]
    assert resolve("any", flags).value is True and resolve("all", flags).value is False


def test_the_explanation_words_a_resolution_as_its_entry_does() -> None:
    policy = policylang.compile(
        "input { x: int }\noutput { n: int = 0 resolve max }\nif x > 0 then n = 1\nif x > 1 then n = 2\n",
        filename="p.policy",
    )
    assert RESOLUTIONS["max"].phrase in policy.decide({"x": 5}).explain()


# --- a bool never equals a number ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [(True, 1, False), (False, Decimal(0), False), (True, True, True), (1, Decimal(1), True), ("a", "a", True)],
)
def test_same_value_never_lets_a_bool_equal_a_number(a: object, b: object, same: bool) -> None:
    assert same_value(a, b) is same
    assert same_value(b, a) is same


def test_a_unique_output_proposed_true_and_1_conflicts() -> None:
    outcome = resolve("unique", [Contribution("a", 0, 0, True), Contribution("b", 1, 0, 1)])
    assert outcome.status == "conflict"


# --- the order key -------------------------------------------------------------------------------


def test_order_key_sorts_each_type_as_the_language_does() -> None:
    level = EnumOf(("low", "high", "medium"))
    assert sorted(["medium", "low", "high"], key=order_key(level)) == ["low", "high", "medium"]
    assert sorted([Duration(1, 0), Duration(0, 86_400)], key=order_key(DURATION)) == [Duration(0, 86_400), Duration(1)]
    moments = [datetime(2026, 1, 1, 12, tzinfo=UTC), date(2026, 1, 1)]
    assert sorted(moments, key=order_key(DATE)) == [date(2026, 1, 1), datetime(2026, 1, 1, 12, tzinfo=UTC)]
    assert order_key(NUMBER) is None and order_key(STRING) is None


# --- MISSING -------------------------------------------------------------------------------------


def test_missing_is_one_object_wherever_it_is_imported_from() -> None:
    from policylang.engine import facts

    assert values.MISSING is facts.MISSING is policylang.MISSING is MISSING
    assert type(MISSING)() is MISSING and not MISSING


# --- the JSON codec ------------------------------------------------------------------------------


def test_the_json_codec_gives_the_readable_and_the_exact_form() -> None:
    from policylang.decision_log import decode_value, encode_value
    from policylang.engine.evaluator import to_json_value

    assert to_json_value is json_codec.to_json_value and encode_value is json_codec.encode_value
    assert decode_value is json_codec.decode_value
    assert json_codec.to_json_value(frozenset({Duration(0, 7200), Duration(0, 60)})) == ["1m", "2h"]
    exact = json_codec.encode_value({"d": Decimal("10.50"), "s": frozenset({2, 1})})
    assert json_codec.canonical(exact) == '{"d":{"$decimal":"10.50"},"s":{"$frozenset":[1,2]}}'
    assert json_codec.decode_value(exact) == {"d": Decimal("10.50"), "s": frozenset({1, 2})}


# --- the value spelling --------------------------------------------------------------------------


def test_spell_writes_a_value_as_the_language_does() -> None:
    assert spelling.spell_value(frozenset({"b", "a"})) == "{a, b}"
    assert spelling.spell_value(Duration(18, 0)) == "1y6mo"
    assert spelling.spell_value(MISSING) == "missing"
    assert spelling.spell(True) == "true" and spelling.spell([True, False]) == "{true, false}"
    assert spelling.spell("two words") == '"two words"'
    assert spelling.spell(None, absent="-") == "-"


# --- the restatements stay gone ------------------------------------------------------------------


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def _is_bool_test(node: ast.expr) -> bool:
    """`isinstance(x, bool)` or `x.__class__ is bool` / `type(x) is bool`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
        return len(node.args) == 2 and isinstance(node.args[1], ast.Name) and node.args[1].id == "bool"
    if isinstance(node, ast.Compare) and len(node.comparators) == 1 and isinstance(node.ops[0], ast.Is):
        right = node.comparators[0]
        return isinstance(right, ast.Name) and right.id == "bool"
    return False


def test_no_module_restates_that_a_bool_never_equals_a_number() -> None:
    # same_value is the one definition; the runtime's picker inlines it against a saved kind.
    found = [
        f"{name}:{node.lineno}"
        for name, tree in _modules()
        if name != "core/values.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and isinstance(node.ops[0], ast.Eq | ast.NotEq)
        and _is_bool_test(node.left)
        and _is_bool_test(node.comparators[0])
    ]
    assert found == []


def _names_a_resolution(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "resolution"
    return isinstance(node, ast.Name) and node.id in ("resolution", "strategy")


def _constants(node: ast.expr) -> set[object]:
    if isinstance(node, ast.Constant):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.Set | ast.List):
        return {e.value for e in node.elts if isinstance(e, ast.Constant)}
    return set()


def test_no_module_dispatches_on_a_resolutions_name() -> None:
    # Stages read a resolution's entry (what it prefers, how it combines), never compare its name.
    found = [
        f"{name}:{node.lineno}"
        for name, tree in _modules()
        if name != "core/resolution.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(_names_a_resolution(side) for side in (node.left, *node.comparators))
        and any(_constants(side) & set(RESOLUTIONS) for side in (node.left, *node.comparators))
    ]
    assert found == []


def test_each_core_idea_is_defined_in_one_module() -> None:
    defined: dict[str, list[str]] = {}
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined.setdefault(node.name, []).append(name)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        defined.setdefault(target.id, []).append(name)
    assert defined["MISSING"] == ["core/values.py"] and defined["_Missing"] == ["core/values.py"]
    assert defined["to_json_value"] == ["core/json_codec.py"]
    assert defined["encode_value"] == ["core/json_codec.py"] and defined["decode_value"] == ["core/json_codec.py"]
    assert defined["same_value"] == ["core/values.py"] and defined["order_key"] == ["core/values.py"]
    assert defined["RESOLUTIONS"] == ["core/resolution.py"]
    gone = {
        "literal": "explain/rendering.py",
        "_literal": "explain/why_not.py",
        "_same": "explain/why_not.py",
        "_agree": "analysis/analyser.py",
        "_sort_key": "engine/first_hit.py",
        "_moment": "engine/runtime.py",
    }
    for function, module in gone.items():
        assert module not in defined.get(function, []), (function, module)


def test_only_the_spelling_writes_true_and_false() -> None:
    # `"true" if value else "false"`: core/spelling.py says it; everything else calls spell.
    found = [
        f"{name}:{node.lineno}"
        for name, tree in _modules()
        if name != "core/spelling.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.IfExp) and _constants(node.body) == {"true"} and _constants(node.orelse) == {"false"}
    ]
    assert found == []
