"""checker.py (with expressions.py, datatypes.py, modules.py): names, imports, types, cycles, CheckedPolicy."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT, check_text, under_span

from policylang import Code, Diagnostic
from policylang.core.datatypes import (
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    INT,
    NUMBER,
    STRING,
    EnumOf,
    SetOf,
)
from policylang.core.values import parse_duration_literal
from policylang.semantics import typed_tree as c
from policylang.semantics.checker import CheckResult, check

TIER = EnumOf(("basic", "standard", "premium", "key"))
QUEUE = EnumOf(("general", "priority", "key_accounts"))

SCHEMA = """input {
    tier: enum(basic, standard, premium, key)
    tenure: duration
    spend: number
    n: int
    name: string
    tags: set[string]
    flag: bool
    d: date
    dt: datetime
    vip: bool?
}
output {
    sla: duration = 72h resolve min
    skip: bool = false resolve any
    queue: enum(general, priority, key_accounts) = general resolve priority
    perks: set[string] = {} resolve union
    mgr: string
}
"""


def with_schema(body: str) -> str:
    return SCHEMA + body


def clean(text: str, filename: str = "test.policy") -> c.CheckedPolicy:
    result = check_text(text, filename)
    assert result.diagnostics == (), [(d.code.value, d.message) for d in result.diagnostics]
    assert result.policy is not None
    return result.policy


def one_diagnostic(text: str, filename: str = "test.policy") -> Diagnostic:
    result = check_text(text, filename)
    assert len(result.diagnostics) == 1, [(d.code.value, d.message) for d in result.diagnostics]
    return result.diagnostics[0]


def assert_diagnostic(
    diag: Diagnostic,
    text: str,
    code: Code,
    message: str,
    under: str,
    hint: str | None = "",
) -> None:
    """Code, a message fragment, the source text under the span and (unless "") the exact hint."""
    assert diag.code is code, (diag.code, diag.message)
    assert message in diag.message, diag.message
    assert under_span(diag, text) == under
    if hint != "":
        assert diag.hint == hint


def rule_condition(policy: c.CheckedPolicy, index: int = 0) -> c.CheckedExpr:
    return policy.rules[index].condition


def derived_type(body: str, key: str = "x") -> object:
    return clean(with_schema(body)).derived[key].type


# --- name resolution ----------------------------------------------------------------------------


def test_facts_outputs_segments_and_lets_resolve() -> None:
    policy = clean(
        with_schema(
            "segment big = spend > 100\n"
            "let yearly = spend * 12\n"
            "if big and yearly > 1000 and queue == general and flag then skip"
        )
    )
    cond = rule_condition(policy)
    assert isinstance(cond, c.BoolOp)
    big, yearly_cmp, queue_cmp, flag = cond.operands
    assert big == c.DerivedRef("big", BOOL)
    assert isinstance(yearly_cmp, c.Compare)
    assert yearly_cmp.left == c.DerivedRef("yearly", NUMBER)
    assert isinstance(queue_cmp, c.Compare)
    assert queue_cmp.left == c.OutputRef("queue", QUEUE)
    assert queue_cmp.right == c.Const("general", QUEUE)
    assert flag == c.FactRef("flag", BOOL)


@pytest.mark.parametrize("condition", ["tier == premium", "premium == tier"])
def test_enum_member_resolves_on_either_side(condition: str) -> None:
    policy = clean(with_schema(f"if {condition} then skip"))
    cond = rule_condition(policy)
    assert isinstance(cond, c.Compare)
    assert {cond.left, cond.right} == {c.FactRef("tier", TIER), c.Const("premium", TIER)}


def test_enum_members_in_a_set() -> None:
    cond = rule_condition(clean(with_schema("if tier in {basic, key} then skip")))
    assert isinstance(cond, c.Membership)
    assert cond.right == c.Const(frozenset({"basic", "key"}), SetOf(TIER))


def test_symbols_in_string_sets_and_string_values() -> None:
    policy = clean(with_schema("if tags contains vip_tag then perks += {named_rep, gold}, mgr = alice"))
    (rule,) = policy.rules
    perks, mgr = rule.actions
    assert perks == c.Assignment("perks", "add", c.Const(frozenset({"named_rep", "gold"}), SetOf(STRING)), perks.span)
    assert mgr.value == c.Const("alice", STRING)
    cond = rule.condition
    assert isinstance(cond, c.Membership)
    assert cond.right == c.Const("vip_tag", STRING)


def test_an_enum_member_wins_over_a_fact_of_the_same_name() -> None:
    text = "input {\n  key: int\n  tier: enum(basic, key)\n}\nif tier == key then x"
    cond = rule_condition(clean(text))
    assert isinstance(cond, c.Compare)
    assert cond.right == c.Const("key", EnumOf(("basic", "key")))


def test_unknown_fact_with_did_you_mean() -> None:
    text = with_schema("if tenur > 1y then skip")
    assert_diagnostic(
        one_diagnostic(text), text, Code.UNKNOWN_NAME, "unknown name `tenur`", "tenur", "did you mean `tenure`?"
    )


def test_unknown_enum_member_with_did_you_mean() -> None:
    text = with_schema("if tier == premum then skip")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.UNKNOWN_NAME,
        "`premum` is not a member of enum(basic, standard, premium, key)",
        "premum",
        "did you mean `premium`?",
    )


def test_unknown_enum_member_lists_the_members() -> None:
    text = with_schema("if flag then queue = fast")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.UNKNOWN_NAME,
        "`fast` is not a member of enum(general, priority, key_accounts)",
        "fast",
        "expected one of: `general`, `priority`, `key_accounts`",
    )


def test_quoted_enum_member_says_to_drop_the_quotes() -> None:
    text = with_schema('if tier == "premium" then skip')
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        'cannot compare `tier` (enum(basic, standard, premium, key)) with `"premium"` (string)',
        '"premium"',
        "enum members are written without quotes: `premium`",
    )


@pytest.mark.parametrize(
    ("word", "hint"),
    [("True", "write `true`"), ("null", "test for a missing fact with `is missing`")],
)
def test_words_from_other_languages_get_a_hint(word: str, hint: str) -> None:
    text = with_schema(f"if n == {word} then skip")
    assert_diagnostic(one_diagnostic(text), text, Code.UNKNOWN_NAME, f"unknown name `{word}`", word, hint)


def test_setting_an_unknown_output() -> None:
    text = with_schema("if flag then skp")
    assert_diagnostic(
        one_diagnostic(text), text, Code.UNKNOWN_NAME, "unknown output `skp`", "skp", "did you mean `skip`?"
    )


def test_setting_an_input_is_an_error() -> None:
    text = with_schema("if flag then tier = key")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.UNKNOWN_NAME,
        "`tier` is an input; rules can only set outputs",
        "tier",
        "declare it in the `output` block, or set another output",
    )


def test_unknown_names_are_not_reported_in_a_file_with_syntax_errors() -> None:
    result = check_text("if zzz then x\nif a = b then c")
    assert [d.code for d in result.diagnostics] == [Code.SYNTAX_ERROR]


# --- imports ------------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def check_file_at(path: Path) -> CheckResult:
    return check(path.read_text(encoding="utf-8"), str(path))


def test_stdlib_import_resolves_from_stdlib_policies() -> None:
    result = check_text("import stdlib.segments\nif segments.high_spend and tenure > 1y then x")
    assert result.diagnostics == ()
    assert result.modules[0].name.endswith("segments.policy")
    assert Path(result.modules[0].name).resolve().parent == (ROOT / "stdlib_policies").resolve()
    policy = result.policy
    assert policy is not None
    assert policy.derived["segments.high_spend"].type == BOOL
    assert policy.derived["segments.yearly_spend"].type == NUMBER
    assert policy.facts["monthly_spend"].type == NUMBER
    cond = rule_condition(policy)
    assert isinstance(cond, c.BoolOp)
    assert cond.operands[0] == c.DerivedRef("segments.high_spend", BOOL)


def test_stdlib_import_with_alias() -> None:
    policy = clean("import stdlib.segments as seg\nif seg.strategic then x")
    assert rule_condition(policy) == c.DerivedRef("segments.strategic", BOOL)


def test_unknown_stdlib_module_suggests_the_close_one() -> None:
    text = "import stdlib.segmnts"
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.IMPORT_ERROR,
        "the standard library has no module `segmnts`",
        text,
        "did you mean `stdlib.segments`?",
    )


def test_unknown_module_outside_stdlib() -> None:
    text = "import foo.bar"
    diag = one_diagnostic(text)
    assert_diagnostic(diag, text, Code.IMPORT_ERROR, "unknown module `foo.bar`", text)
    assert diag.hint is not None and 'import "rules.policy"' in diag.hint


def test_relative_file_import_and_qualified_segment(tmp_path: Path) -> None:
    write(tmp_path, "fraud.policy", "input { tenure: duration }\nsegment new_customer = tenure < 90d\n")
    root = write(tmp_path, "root.policy", 'import "fraud.policy"\nif fraud.new_customer then check')
    result = check_file_at(root)
    assert result.diagnostics == ()
    assert [m.prefix for m in result.modules] == ["fraud", ""]
    assert result.policy is not None
    assert rule_condition(result.policy) == c.DerivedRef("fraud.new_customer", BOOL)


def test_file_import_alias(tmp_path: Path) -> None:
    write(tmp_path, "sub/fraud_rules.policy", "input { tenure: duration }\nsegment risky = tenure < 90d\n")
    root = write(tmp_path, "root.policy", 'import "sub/fraud_rules.policy" as fraud\nif fraud.risky then check')
    result = check_file_at(root)
    assert result.diagnostics == ()
    assert result.policy is not None
    assert rule_condition(result.policy) == c.DerivedRef("fraud_rules.risky", BOOL)


def test_alias_hides_the_file_stem(tmp_path: Path) -> None:
    write(tmp_path, "fraud.policy", "input { tenure: duration }\nsegment risky = tenure < 90d\n")
    text = 'import "fraud.policy" as f\nif fraud.risky then check'
    root = write(tmp_path, "root.policy", text)
    diag = check_file_at(root).diagnostics[0]
    assert_diagnostic(diag, text, Code.UNKNOWN_NAME, "no import is called `fraud`", "fraud.risky")


def test_qualified_name_of_a_missing_segment_lists_what_exists(tmp_path: Path) -> None:
    write(tmp_path, "fraud.policy", "input { tenure: duration }\nsegment risky = tenure < 90d\nlet age = tenure\n")
    text = 'import "fraud.policy"\nif fraud.risk then check'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert_diagnostic(
        diag, text, Code.UNKNOWN_NAME, "`fraud` has no segment or let called `risk`", "fraud.risk",
        "did you mean `risky`?",
    )  # fmt: skip


def test_qualified_fact_says_facts_are_shared() -> None:
    text = "import stdlib.segments\nif segments.tenure > 1y then x"
    diag = check_text(text).diagnostics[0]
    assert_diagnostic(
        diag,
        text,
        Code.UNKNOWN_NAME,
        "`segments` has no segment or let called `tenure`",
        "segments.tenure",
        "facts and outputs are shared by all files: write `tenure`",
    )


def test_unknown_import_alias() -> None:
    text = "if s.high_spend then x"
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.UNKNOWN_NAME,
        "no import is called `s`",
        "s.high_spend",
        "import a module first, such as `import stdlib.segments`",
    )


def test_diamond_import_loads_the_shared_file_once(tmp_path: Path) -> None:
    write(tmp_path, "d.policy", "input { spend: number }\nsegment ds = spend > 10\n")
    write(tmp_path, "b.policy", 'import "d.policy"\nsegment bs = d.ds\n')
    write(tmp_path, "c.policy", 'import "d.policy" as dd\nsegment cs = dd.ds\n')
    root = write(tmp_path, "a.policy", 'import "b.policy"\nimport "c.policy"\nsegment x = b.bs and c.cs\n')
    result = check_file_at(root)
    assert result.diagnostics == ()
    names = [Path(m.name).name for m in result.modules]
    assert names == ["d.policy", "b.policy", "c.policy", "a.policy"]
    policy = result.policy
    assert policy is not None
    assert list(policy.derived) == ["d.ds", "b.bs", "c.cs", "x"]
    assert policy.derived["b.bs"].expr == c.DerivedRef("d.ds", BOOL)
    assert policy.derived["c.cs"].expr == c.DerivedRef("d.ds", BOOL)


def test_import_cycle_is_a_cycle_diagnostic(tmp_path: Path) -> None:
    write(tmp_path, "two.policy", 'import "one.policy"\n')
    root = write(tmp_path, "one.policy", 'import "two.policy"\n')
    result = check_file_at(root)
    (diag,) = result.diagnostics
    assert diag.code is Code.CYCLE
    assert diag.message.startswith("import cycle: ")
    path_names = [Path(part).name for part in diag.message.removeprefix("import cycle: ").split(" -> ")]
    assert path_names == ["one.policy", "two.policy", "one.policy"]
    assert diag.span is not None and diag.span.file.endswith("two.policy")
    assert under_span(diag, 'import "one.policy"\n') == 'import "one.policy"'
    assert diag.hint == "move what both files need into a third file that both import"


def test_file_importing_itself_is_a_cycle(tmp_path: Path) -> None:
    text = 'import "self.policy"\n'
    root = write(tmp_path, "self.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert diag.code is Code.CYCLE
    assert under_span(diag, text) == 'import "self.policy"'


def test_missing_import_file_with_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path, "fraud.policy", "segment s = true\n")
    text = 'import "frad.policy"\n'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert_diagnostic(
        diag,
        text,
        Code.IMPORT_ERROR,
        "cannot find `frad.policy`",
        'import "frad.policy"',
        "did you mean `fraud.policy`?",
    )


def test_missing_import_file_without_a_close_name_says_where_it_looked(tmp_path: Path) -> None:
    text = 'import "nothing/like/it.policy"\n'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert diag.code is Code.IMPORT_ERROR
    assert diag.hint is not None and diag.hint.startswith("paths are relative to the importing file")


def test_two_imports_with_one_name(tmp_path: Path) -> None:
    write(tmp_path, "d.policy", "segment s = true\n")
    text = 'import "d.policy"\nimport "d.policy"\n'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert diag.code is Code.DUPLICATE_NAME
    assert diag.message == "two imports are both called `d`"
    assert diag.span is not None and diag.span.line == 2
    assert diag.hint == "give one of them another name with `as`, such as `as d_2`"


def test_inputs_declared_identically_in_two_files_merge(tmp_path: Path) -> None:
    write(tmp_path, "d.policy", "input { spend: number\n tier: enum(a, b) }\nsegment big = spend > 10\n")
    root = write(tmp_path, "root.policy", 'import "d.policy"\ninput { spend: number\n tier: enum(a, b) }\n')
    policy = check_file_at(root).policy
    assert check_file_at(root).diagnostics == ()
    assert policy is not None
    assert policy.facts["spend"].type == NUMBER
    assert policy.facts["tier"].type == EnumOf(("a", "b"))


def test_merged_input_with_a_default_in_one_file_only_is_a_mismatch(tmp_path: Path) -> None:
    # Files that share a fact declare it identically, default included: an imported default
    # must never apply silently to a file that declared the fact required.
    write(tmp_path, "d.policy", "input { spend: number }\n")
    text = 'import "d.policy"\ninput { spend: number = 5 }\n'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert diag.code is Code.TYPE_MISMATCH
    assert under_span(diag, text) == "spend"
    assert "(type, `?` and default)" in (diag.hint or "")


def test_inputs_declared_differently_are_a_type_mismatch(tmp_path: Path) -> None:
    write(tmp_path, "d.policy", "input { spend: number }\n")
    text = 'import "d.policy"\ninput { spend: int }\n'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert_diagnostic(
        diag,
        text,
        Code.TYPE_MISMATCH,
        "input `spend` is declared as an int here but as a number elsewhere",
        "spend",
        "files that share a fact must declare it the same way (type, `?` and default)",
    )
    assert [label.text for label in diag.labels] == ["declared here"]
    assert diag.labels[0].span.file.endswith("d.policy")


def test_optional_and_required_declarations_are_different(tmp_path: Path) -> None:
    write(tmp_path, "d.policy", "input { vip: bool? }\n")
    text = 'import "d.policy"\ninput { vip: bool }\n'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert diag.code is Code.TYPE_MISMATCH
    assert under_span(diag, text) == "vip"


def test_outputs_declared_differently_are_a_type_mismatch(tmp_path: Path) -> None:
    write(tmp_path, "d.policy", "output { sla: duration = 72h resolve min }\n")
    text = 'import "d.policy"\noutput { sla: duration = 72h resolve max }\n'
    root = write(tmp_path, "root.policy", text)
    (diag,) = check_file_at(root).diagnostics
    assert_diagnostic(
        diag,
        text,
        Code.TYPE_MISMATCH,
        "output `sla` is declared differently in two places",
        "sla",
        "files that share an output must give it the same type, `?`, default and resolution",
    )


def test_same_file_name_in_two_folders_gets_two_prefixes(tmp_path: Path) -> None:
    body = "input { a: bool }\nsegment s = a\nrule named: if a then y\n"
    write(tmp_path, "rules.policy", body)
    write(tmp_path, "sub/rules.policy", body)
    root = write(tmp_path, "root.policy", 'import "rules.policy"\nimport "sub/rules.policy" as other\n')
    result = check_file_at(root)
    assert result.diagnostics == ()
    assert [m.prefix for m in result.modules] == ["rules", "rules_2", ""]
    assert result.policy is not None
    assert {"rules.s", "rules_2.s"} <= set(result.policy.derived)
    assert [r.id for r in result.policy.rules] == ["rules.named", "rules_2.named"]


def test_anonymous_rules_of_same_named_files_keep_distinct_ids(tmp_path: Path) -> None:
    # Each imported file gets its own prefix, so its anonymous rules must not collide either.
    body = "input { a: bool }\nif a then x\n"
    write(tmp_path, "rules.policy", body)
    write(tmp_path, "sub/rules.policy", body)
    root = write(tmp_path, "root.policy", 'import "rules.policy"\nimport "sub/rules.policy" as other\n')
    result = check_file_at(root)
    assert result.diagnostics == ()
    assert result.policy is not None
    ids = [r.id for r in result.policy.rules]
    assert len(ids) == 2
    assert len(set(ids)) == 2


# --- duplicates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("segment s = true\nlet s = 1", "name"),
        ("segment s = true\nsegment s = false", "name"),
        ("rule r: if true then x\nrule r: if true then y", "rule"),
        ("input {\n  x: int\n  x: int\n}", "input"),
        ("output {\n  o: int\n  o: int\n}", "output"),
        ("input { o: int }\noutput { o: int }", "name"),
        ("input { s: int }\nsegment s = true", "name"),
    ],
)
def test_duplicates_point_at_the_second_with_a_label_on_the_first(text: str, what: str) -> None:
    diag = one_diagnostic(text)
    name = under_span(diag, text)
    assert diag.code is Code.DUPLICATE_NAME
    assert diag.message == f"`{name}` is defined twice"
    assert diag.hint == f"rename one of them; each {what} is defined once"
    assert diag.span is not None
    assert [label.text for label in diag.labels] == ["first defined here"]
    assert diag.labels[0].span.start < diag.span.start
    assert text[diag.labels[0].span.start : diag.labels[0].span.end] == name


def test_setting_one_output_twice_in_a_rule() -> None:
    text = "if true then x, y, x"
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag, text, Code.DUPLICATE_NAME, "`x` is set twice in this rule", "x", "set each output once per rule"
    )
    assert diag.span is not None and diag.span.column == 20
    assert [label.text for label in diag.labels] == ["first set here"]


def test_enum_member_listed_twice() -> None:
    text = "input { x: enum(a, b, a) }"
    diag = one_diagnostic(text)
    assert diag.code is Code.DUPLICATE_NAME
    assert diag.message == "enum member `a` is listed twice"
    assert diag.hint == "list each member once"
    assert "a" in under_span(diag, text)


# --- type rules: comparisons --------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        "tenure > 2y",
        "spend >= 10_000",
        "n == 3",
        "n < spend",  # int with number
        "spend > 0.1 + 0.2",
        "name == mgr",  # a fact with an output
        'name != "eu"',
        "d < 2026-01-31",
        "dt >= 2026-01-31T09:00:00Z",
        "d > dt",  # date with datetime
        "dt > now - 1d",
        "tier < premium",  # enums are ordered by declaration
        "tier >= basic",
        "flag == true",
        "tags == {a, b}",
        "vip",
        "vip is missing or vip is present",
    ],
)
def test_well_typed_conditions(condition: str) -> None:
    policy = clean(with_schema(f"if {condition} then skip"))
    assert policy.rules[0].condition.type == BOOL


def test_enum_order_follows_declaration() -> None:
    cond = rule_condition(clean("input { t: enum(lo, mid, hi) }\nif t >= mid then y"))
    assert isinstance(cond, c.Compare)
    assert cond.right == c.Const("mid", EnumOf(("lo", "mid", "hi")))


def test_duration_compared_with_number() -> None:
    text = with_schema("if tenure > 2 then skip")
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag,
        text,
        Code.TYPE_MISMATCH,
        "cannot compare `tenure` (duration) with `2` (int)",
        "2",
        "write a duration such as `2y`, `30d` or `4h`",
    )
    assert diag.label == "an int, not a duration"


def test_number_compared_with_string() -> None:
    text = with_schema('if n == "42" then skip')
    assert_diagnostic(
        one_diagnostic(text), text, Code.TYPE_MISMATCH, "cannot compare `n` (int) with `\"42\"` (string)", '"42"',
        "numbers are written without quotes",
    )  # fmt: skip


def test_two_different_enums_do_not_compare() -> None:
    text = "input {\n  t: enum(lo, hi)\n  u: enum(lo, hi, top)\n}\nif t == u then y"
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "cannot compare `t` (enum(lo, hi)) with `u` (enum(lo, hi, top))",
        "u",
        "these are two different enums; compare each with its own members",
    )


@pytest.mark.parametrize(
    ("condition", "under", "hint"),
    [
        ('name > "a"', 'name > "a"', "strings have no order; compare them with `==`, `!=` or `in {...}`"),
        ("flag < true", "flag < true", "compare bools with `==`, or use the condition itself"),
        ("tags <= {a}", "tags <= {a}", "test sets with `contains` or `==`"),
    ],
)
def test_ordering_needs_ordered_values(condition: str, under: str, hint: str) -> None:
    text = with_schema(f"if {condition} then skip")
    op = condition.split()[1]
    assert_diagnostic(one_diagnostic(text), text, Code.TYPE_MISMATCH, f"`{op}` needs values with an order", under, hint)


def test_condition_must_be_bool() -> None:
    text = with_schema("if spend then skip")
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag,
        text,
        Code.TYPE_MISMATCH,
        "a condition must be true or false, but `spend` is a number",
        "spend",
        "compare it with a value, such as `x > 10`",
    )


def test_and_operands_must_be_bool() -> None:
    text = with_schema("if flag and name then skip")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "`and`, `or` and `not` combine conditions, but `name` is a string",
        "name",
        "compare it with a value, such as `x == y`",
    )


def test_not_operand_must_be_bool() -> None:
    text = with_schema("if not tags then skip")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "`and`, `or` and `not` combine conditions, but `tags` is a set[string]",
        "tags",
        'test membership with `contains`, such as `tags contains "vip"`',
    )


# --- type rules: membership, contains, between --------------------------------------------------


def test_membership_mixes_int_and_number() -> None:
    cond = rule_condition(clean(with_schema("if n in {1, 2.5} then skip")))
    assert isinstance(cond, c.Membership)
    assert isinstance(cond.right, c.Const)
    assert cond.right.value == frozenset({1, Decimal("2.5")})


def test_in_needs_a_set_on_the_right() -> None:
    text = with_schema("if n in 5 then skip")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "`in` needs a set on its right, but `5` is an int",
        "5",
        "write the choices as a set: `n in {a, b}`",
    )


def test_not_in_needs_a_set_on_the_right() -> None:
    text = with_schema("if n not in spend then skip")
    assert_diagnostic(one_diagnostic(text), text, Code.TYPE_MISMATCH, "`not in` needs a set on its right", "spend")


def test_set_elements_must_share_a_type() -> None:
    text = with_schema('if n in {1, "a"} then skip')
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag, text, Code.TYPE_MISMATCH, '`"a"` is a string', '"a"', "all elements of a set have the same type"
    )
    assert diag.message == 'this set holds int values, but `"a"` is a string'


def test_quoted_member_in_an_enum_set() -> None:
    text = with_schema('if tier in {"key"} then skip')
    diag = one_diagnostic(text)
    assert diag.code is Code.TYPE_MISMATCH
    assert under_span(diag, text) == '"key"'


def test_contains_needs_a_set_on_the_left() -> None:
    text = with_schema("if n contains 1 then skip")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "`contains` needs a set on its left, but `n` is an int",
        "n",
        "to test one value against several, write `x in {a, b}`",
    )


def test_contains_element_of_the_wrong_type() -> None:
    text = with_schema("if tags contains 1 then skip")
    diag = one_diagnostic(text)
    assert diag.code is Code.TYPE_MISMATCH
    assert under_span(diag, text) == "1"
    assert diag.hint == 'write the value in quotes, such as `"42"`'
    # `tags` is a set of strings; the message must not call the set itself a string.
    assert "`tags` (string)" not in diag.message
    assert "set[string]" in diag.message or "strings" in diag.message


def test_between_on_ordered_values() -> None:
    cond = rule_condition(
        clean(with_schema("if tier between basic and premium and tenure between 1y and 2y then skip"))
    )
    assert isinstance(cond, c.BoolOp)
    first, second = cond.operands
    assert isinstance(first, c.Between)
    assert first.low == c.Const("basic", TIER)
    assert first.high == c.Const("premium", TIER)
    assert isinstance(second, c.Between)
    assert second.high == c.Const(parse_duration_literal("2y"), DURATION)


def test_between_needs_an_order() -> None:
    text = with_schema("if flag between true and false then skip")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "`between` needs values with an order, but `flag` is a bool",
        "flag",
        "compare bools with `==`, or use the condition itself",
    )


def test_between_bounds_must_match() -> None:
    text = with_schema("if spend between 1d and 2d then skip")
    result = check_text(text)
    assert {d.code for d in result.diagnostics} == {Code.TYPE_MISMATCH}
    assert sorted(under_span(d, text) for d in result.diagnostics) == ["1d", "2d"]


# --- type rules: arithmetic ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "result"),
    [
        ("spend * 12", NUMBER),
        ("n + 2", INT),
        ("n * 2", INT),
        ("n / 2", NUMBER),  # division gives a number
        ("n * 0.5", NUMBER),
        ("tenure + 1mo", DURATION),
        ("tenure - 1d", DURATION),
        ("1d / 1h", NUMBER),
        ("1d / 2", DURATION),
        ("2 * 1d", DURATION),  # number * duration
        ("1d * 2", DURATION),
        ("spend * 1d", DURATION),
        ("d + 1mo", DATE),
        ("1d + d", DATE),
        ("d - 30d", DATE),
        ("d - d", DURATION),  # date - date = duration
        ("d - 2026-01-01", DURATION),
        ("dt - 1h", DATETIME),
        ("dt - d", DURATION),
        ("now - 1d", DATETIME),
        ("-tenure", DURATION),
        ("-n", INT),
        ("{1, 2}", SetOf(INT)),
    ],
)
def test_arithmetic_result_types(expr: str, result: object) -> None:
    assert derived_type(f"let x = {expr}") == result


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("d + d", "cannot add `d` (date) and `d` (date)"),
        ("1d * 1d", "cannot multiply `1d` (duration) and `1d` (duration)"),
        ('"a" + "b"', 'cannot add `"a"` (string) and `"b"` (string)'),
        ("2 - 1d", "cannot subtract `2` (int) and `1d` (duration)"),
        ("d * 2", "cannot multiply `d` (date) and `2` (int)"),
        ("tenure + 1", "cannot add `tenure` (duration) and `1` (int)"),
        ("2 / 1d", "cannot divide `2` (int) and `1d` (duration)"),
        ("tier + 1", "cannot add `tier` (enum(basic, standard, premium, key)) and `1` (int)"),
    ],
)
def test_arithmetic_that_makes_no_sense(expr: str, message: str) -> None:
    text = with_schema(f"let x = {expr}")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        message,
        expr,
        "arithmetic works on numbers, durations (+ -), dates with durations, and number * duration",
    )


def test_negating_a_string() -> None:
    text = with_schema("let x = -name")
    assert_diagnostic(
        one_diagnostic(text), text, Code.TYPE_MISMATCH, "cannot negate `name` (string)", "-name",
        "only numbers and durations have a sign",
    )  # fmt: skip


# --- type rules: actions and defaults -----------------------------------------------------------


def test_action_value_of_the_wrong_type() -> None:
    text = with_schema("if flag then sla = 1")
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag,
        text,
        Code.TYPE_MISMATCH,
        "output `sla` is a duration, but this value is an int",
        "1",
        "write a duration such as `2y`, `30d` or `4h`",
    )
    assert diag.label == "an int"


def test_flag_action_on_a_non_bool_output() -> None:
    text = with_schema("if flag then sla")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "`sla` sets a bool, but output `sla` is a duration",
        "sla",
        "give it a value: `sla = ...`",
    )


def test_unflag_action_on_a_non_bool_output() -> None:
    text = with_schema("if flag then not mgr")
    diag = one_diagnostic(text)
    assert_diagnostic(diag, text, Code.TYPE_MISMATCH, "`not mgr` sets a bool, but output `mgr` is a string", "not mgr")


def test_add_action_on_a_non_set_output() -> None:
    text = with_schema("if flag then sla += {1d}")
    assert_diagnostic(
        one_diagnostic(text),
        text,
        Code.TYPE_MISMATCH,
        "`+=` adds to a set, but output `sla` is a duration",
        "sla += {1d}",
        "write `sla = ...`",
    )


def test_add_action_with_a_single_symbol() -> None:
    # `perks += {named_rep}` and `perks += named_rep` both add one symbol to a set of strings.
    policy = clean(with_schema("if flag then perks += named_rep"))
    (action,) = policy.rules[0].actions
    assert action.op == "add"
    assert action.value == c.Const(frozenset({"named_rep"}), SetOf(STRING))


def test_int_widens_to_a_number_output() -> None:
    policy = clean("output { limit: number }\nif true then limit = 5")
    assert policy.rules[0].actions[0].value == c.Const(5, INT)


@pytest.mark.parametrize(
    ("decl", "message", "under", "hint"),
    [
        ('input { x: int = "a" }', "the default of `x` is a string, but `x` is an int", '"a"', None),
        ('input { x: bool = "yes" }', "the default of `x` is a string, but `x` is a bool", '"yes"',
         "write `true` or `false`"),
        ("output { s: set[int] = 1 }", "the default of `s` is an int, but `s` is a set[int]", "1",
         "write a set such as `{}` or `{a, b}`"),
        ("input { x: int = y + 1 }", "the default of `x` must be a constant", "y + 1",
         "write a literal value such as `0`, `\"eu\"`, `72h` or `{}`"),
    ],
)  # fmt: skip
def test_defaults_must_be_constants_of_the_declared_type(decl: str, message: str, under: str, hint: str | None) -> None:
    text = decl
    result = check_text(text)
    diag = next(d for d in result.diagnostics if d.code is Code.TYPE_MISMATCH)
    assert_diagnostic(diag, text, Code.TYPE_MISMATCH, message, under, hint)


def test_unknown_type_with_did_you_mean() -> None:
    text = "input { x: integer }"
    assert_diagnostic(
        one_diagnostic(text), text, Code.UNKNOWN_NAME, "unknown type `integer`", "integer", "did you mean `int`?"
    )


def test_set_of_sets_is_rejected() -> None:
    text = "input { x: set[set[int]] }"
    assert_diagnostic(
        one_diagnostic(text), text, Code.TYPE_MISMATCH, "a set cannot hold sets", "set[set[int]]",
        "use a set of plain values",
    )  # fmt: skip


# --- resolutions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decl", "resolution"),
    [
        ("x: duration resolve min", "min"),
        ("x: number resolve max", "max"),
        ("x: enum(lo, hi) resolve max", "max"),
        ("x: date resolve min", "min"),
        ("x: bool resolve any", "any"),
        ("x: bool resolve all", "all"),
        ("x: set[string] resolve union", "union"),
        ("x: string resolve first", "first"),
        ("x: string resolve priority", "priority"),
        ("x: set[int] resolve unique", "unique"),
        ("x: string", "unique"),
    ],
)
def test_resolutions_that_fit(decl: str, resolution: str) -> None:
    assert clean(f"output {{ {decl} }}").outputs["x"].resolution == resolution


@pytest.mark.parametrize(
    ("decl", "under", "message", "hint"),
    [
        ("b: bool resolve min", "min", "`resolve min` cannot combine bool values",
         "use `resolve any` or `resolve all` for a bool"),
        ("b: string resolve max", "max", "`resolve max` cannot combine string values",
         "use `resolve unique`, `first` or `priority`; `min` and `max` need an order"),
        ("b: int resolve union", "union", "`resolve union` cannot combine int values", None),
        ("b: set[int] resolve any", "any", "`resolve any` cannot combine set[int] values",
         "use `resolve union` for a set"),
        ("b: duration resolve all", "all", "`resolve all` cannot combine duration values", None),
    ],
)  # fmt: skip
def test_resolutions_that_do_not_fit(decl: str, under: str, message: str, hint: str | None) -> None:
    text = f"output {{ {decl} }}"
    diag = one_diagnostic(text)
    assert diag.code is Code.TYPE_MISMATCH
    assert under_span(diag, text) == under
    assert diag.message == message
    if hint is not None:
        assert diag.hint == hint


def test_unknown_resolution_with_did_you_mean() -> None:
    text = "output { b: int resolve mini }"
    assert_diagnostic(
        one_diagnostic(text), text, Code.UNKNOWN_NAME, "unknown resolution `mini`", "mini", "did you mean `min`?"
    )


# --- cycles -------------------------------------------------------------------------------------


def test_segment_cycle_names_the_path() -> None:
    text = "segment a = b\nsegment b = c\nsegment c = a"
    diag = one_diagnostic(text)
    assert diag.code is Code.CYCLE
    path = diag.message.split(": ", 1)[1].split(" -> ")
    assert path[0] == path[-1]
    # Any rotation of a -> b -> c is the same cycle.
    assert " -> ".join(path[:-1]) in ("a -> b -> c", "b -> c -> a", "c -> a -> b")
    assert diag.hint == "a segment or let cannot use its own value; break the cycle"
    assert [label.text for label in diag.labels] == ["part of the cycle", "part of the cycle"]


def test_segment_cycle_is_reported_from_its_first_defined_name() -> None:
    text = "segment a = b\nsegment b = c\nsegment c = a"
    diag = one_diagnostic(text)
    assert diag.message == "`a` depends on itself: a -> b -> c -> a"
    assert under_span(diag, text) == "a"
    assert diag.span is not None and diag.span.line == 1


def test_let_cycle_through_arithmetic() -> None:
    text = "let a = b + 1\nlet b = a * 2"
    diag = one_diagnostic(text)
    assert diag.code is Code.CYCLE
    assert diag.message.endswith(("a -> b -> a", "b -> a -> b"))
    assert under_span(diag, text) in ("a", "b")


def test_self_reference_is_a_cycle() -> None:
    text = "let x = x + 1"
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag, text, Code.CYCLE, "`x` depends on itself: x -> x", "x",
        "a segment or let cannot use its own value; break the cycle",
    )  # fmt: skip


def test_cycle_does_not_poison_the_rest() -> None:
    result = check_text("let a = b\nlet b = a\nsegment ok = true\nif ok then x")
    assert [d.code for d in result.diagnostics] == [Code.CYCLE]
    assert result.policy is not None
    assert result.policy.derived["ok"].type == BOOL


def test_output_cycle_through_rules() -> None:
    text = "input { a: bool }\nif a then x\nif x then y\nif y then x"
    diag = one_diagnostic(text, "FILE.policy")
    assert diag.code is Code.CYCLE
    assert diag.message == "outputs depend on each other in a cycle: x -> y -> x"
    assert set(diag.rules) == {"FILE#2", "FILE#3"}
    assert sorted(diag.notes) == [
        "rule `FILE#2` reads `x` and sets `y`",
        "rule `FILE#3` reads `y` and sets `x`",
    ]
    assert under_span(diag, text) in ("if x then y", "if y then x")
    assert diag.hint == "an output cannot depend on its own value; break the cycle"


def test_output_cycle_through_a_segment() -> None:
    text = (
        "output {\n  x: bool\n  y: bool\n}\ninput { a: bool }\n"
        "segment sx = x\nrule r1: if a and sx then y\nrule r2: if y then x"
    )
    diag = one_diagnostic(text)
    assert diag.code is Code.CYCLE
    assert diag.message.startswith("outputs depend on each other in a cycle: ")
    assert set(diag.rules) == {"r1", "r2"}
    assert under_span(diag, text) in ("r1", "r2")


def test_rule_reading_the_output_it_sets_is_a_cycle() -> None:
    text = with_schema("rule again: if queue == key_accounts then queue = general")
    diag = one_diagnostic(text)
    assert_diagnostic(diag, text, Code.CYCLE, "queue -> queue", "again")
    assert diag.rules == ("again",)


def test_reading_an_output_another_rule_sets_is_fine() -> None:
    policy = clean(with_schema("if tier == key then queue = key_accounts\nif queue == key_accounts then sla = 1h"))
    cond = rule_condition(policy, 1)
    assert isinstance(cond, c.Compare)
    assert cond.left == c.OutputRef("queue", QUEUE)


# --- schema-less mode ---------------------------------------------------------------------------


def test_the_design_one_liner_alone() -> None:
    policy = clean("if tier == premium and tenure > 2y then skip_fraud_check, sla=4h", "FILE.policy")
    assert {k: (v.type, v.declared) for k, v in policy.facts.items()} == {
        "tier": (STRING, False),
        "tenure": (DURATION, False),
    }
    assert {k: (v.type, v.resolution, v.declared) for k, v in policy.outputs.items()} == {
        "skip_fraud_check": (BOOL, "unique", False),
        "sla": (DURATION, "unique", False),
    }
    (rule,) = policy.rules
    assert rule.id == "FILE#1"
    assert rule.name is None
    cond = rule.condition
    assert isinstance(cond, c.BoolOp)
    tier = cond.operands[0]
    assert isinstance(tier, c.Compare)
    assert isinstance(tier.left, c.FactRef) and tier.left.name == "tier"
    assert tier.right == c.Const("premium", STRING)
    assert rule.actions[1].value == c.Const(parse_duration_literal("4h"), DURATION)
    assert not policy.facts_declared
    assert not policy.outputs_declared
    assert policy.name == "FILE"


@pytest.mark.parametrize(
    ("condition", "fact", "fact_type"),
    [
        ("spend * 12 > 100", "spend", NUMBER),
        ("spend > 100", "spend", NUMBER),  # `> 100` says a number, not that it is whole
        ("x between 1 and 5", "x", NUMBER),
        ("tags contains vip", "tags", SetOf(STRING)),
        ('tags contains "vip"', "tags", SetOf(STRING)),
        ("d - 2026-01-01 > 30d", "d", DATE),
        ("seen < now", "seen", DATETIME),
        ("region != eu", "region", STRING),
        ("active", "active", BOOL),
        ("vip is missing", "vip", None),
    ],
)
def test_schemaless_fact_types_are_inferred_from_use(condition: str, fact: str, fact_type: object) -> None:
    policy = clean(f"if {condition} then out")
    assert fact in policy.facts
    if fact_type is not None:
        assert policy.facts[fact].type == fact_type
    assert policy.facts[fact].optional


@pytest.mark.parametrize("condition", ['region == "eu"', 'region in {"eu", "us"}', "region in {eu, us}"])
def test_schemaless_name_on_the_left_of_a_string_is_a_fact(condition: str) -> None:
    # "names on the left are facts": comparing with a string literal must not turn `region` into a symbol.
    policy = clean(f"if {condition} then out")
    assert policy.facts["region"].type == STRING
    cond = rule_condition(policy)
    assert isinstance(cond, c.Compare | c.Membership)
    assert cond.left == c.FactRef("region", STRING)


def test_schemaless_fact_used_two_ways() -> None:
    text = "if tenure > 2y then x\nif tenure == premium then y"
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag,
        text,
        Code.TYPE_MISMATCH,
        "fact `tenure` is used as a string here, but as a duration before",
        "tenure",
        "a fact has one type; declare it in an `input` block to say which",
    )
    assert diag.span is not None and diag.span.line == 2
    assert [label.text for label in diag.labels] == ["used as a duration here"]
    assert diag.labels[0].span.line == 1


def test_schemaless_output_set_two_ways() -> None:
    text = "if a then x = 1\nif b then x = 2y"
    diag = one_diagnostic(text)
    assert diag.code is Code.TYPE_MISMATCH
    assert under_span(diag, text) == "2y"
    assert "output `x` is an int" in diag.message


def test_schemaless_outputs_widen_int_and_number() -> None:
    policy = clean("if a then x = 1\nif b then x = 2.5")
    assert policy.outputs["x"].type == NUMBER


def test_schemaless_set_output_from_add() -> None:
    policy = clean("if a then perks += {named_rep}")
    assert policy.outputs["perks"].type == SetOf(STRING)


def test_schemaless_rules_may_read_outputs() -> None:
    policy = clean("if a then flagged\nif flagged then b")
    assert set(policy.outputs) == {"flagged", "b"}
    assert rule_condition(policy, 1) == c.OutputRef("flagged", BOOL)


def test_setting_a_fact_without_an_output_block_is_an_error() -> None:
    text = "input { tier: enum(a, b) }\nif tier == a then tier = b"
    diag = one_diagnostic(text)
    assert_diagnostic(
        diag,
        text,
        Code.UNKNOWN_NAME,
        "`tier` is a fact; rules can only set outputs",
        "tier",
        "give the output another name",
    )
    assert diag.span is not None and (diag.span.line, diag.span.column) == (2, 19)


def test_schemaless_name_read_and_set_by_one_rule_is_an_output_cycle() -> None:
    # Without declarations a name that a rule sets is an output, so reading it there is a cycle.
    text = "if tier == key then tier = premium"
    diag = one_diagnostic(text, "FILE.policy")
    assert_diagnostic(diag, text, Code.CYCLE, "outputs depend on each other in a cycle: tier -> tier", text)
    assert diag.rules == ("FILE#1",)


def _fact_refs(expr: object) -> list[c.FactRef]:
    found = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, c.FactRef):
            found.append(node)
        for attr in ("left", "right", "operand", "value", "low", "high", "target"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(node, c.Const):
                stack.append(child)
        stack.extend(getattr(node, "operands", ()))
        stack.extend(getattr(node, "elements", ()))
    return found


@pytest.mark.parametrize(
    "text",
    [
        "if tier == premium and tenure > 2y then skip_fraud_check, sla=4h",
        "if spend > 100 then big",
        "if premium == tier then x",
        "segment rich = spend * 12 > 1000\nif rich and region != eu then x",
    ],
)
def test_schemaless_fact_references_carry_the_inferred_type(text: str) -> None:
    # What the compiler reads (each FactRef's type) must agree with `policy.facts`.
    policy = clean(text)
    exprs = [r.condition for r in policy.rules] + [d.expr for d in policy.derived.values()]
    refs = [ref for expr in exprs for ref in _fact_refs(expr)]
    assert refs
    assert [(ref.name, ref.type) for ref in refs] == [(ref.name, policy.facts[ref.name].type) for ref in refs]


# --- the checked policy -------------------------------------------------------------------------


def test_checked_policy_of_the_support_example() -> None:
    path = ROOT / "examples" / "support" / "support.policy"
    result = check_file_at(path)
    assert result.diagnostics == ()
    policy = result.policy
    assert policy is not None
    assert policy.name == "support_levels"
    assert policy.description == "Service levels for every customer segment"
    assert policy.facts_declared and policy.outputs_declared
    facts = policy.facts
    assert facts["tier"].type == TIER
    assert facts["tenure"].type == DURATION
    assert facts["monthly_spend"].type == NUMBER
    assert (facts["region"].type, facts["region"].default, facts["region"].has_default) == (STRING, "eu", True)
    assert (facts["past_complaints"].type, facts["past_complaints"].default) == (INT, 0)
    assert (facts["tags"].type, facts["tags"].default) == (SetOf(STRING), frozenset())
    assert (facts["vip"].type, facts["vip"].optional, facts["vip"].has_default) == (BOOL, True, False)
    assert facts["orders_last_year"].type == INT  # from stdlib.segments
    outputs = policy.outputs
    assert (outputs["sla"].type, outputs["sla"].resolution, outputs["sla"].default) == (
        DURATION, "min", parse_duration_literal("72h"),
    )  # fmt: skip
    assert (outputs["skip_fraud_check"].resolution, outputs["skip_fraud_check"].default) == ("any", False)
    assert (outputs["queue"].type, outputs["queue"].resolution, outputs["queue"].default) == (
        QUEUE,
        "priority",
        "general",
    )
    assert (outputs["perks"].type, outputs["perks"].resolution) == (SetOf(STRING), "union")
    assert (outputs["account_manager"].resolution, outputs["account_manager"].has_default) == ("unique", False)
    derived = policy.derived
    assert (derived["key_customer"].kind, derived["key_customer"].type) == ("segment", BOOL)
    assert (derived["yearly_spend"].kind, derived["yearly_spend"].type) == ("let", NUMBER)
    assert derived["segments.strategic"].module == "segments"
    assert derived["fraud.large_order_risk"].module == "fraud"
    keys = list(derived)
    for key, item in derived.items():  # dependency order: each after what it reads
        for ref in _derived_refs(item.expr):
            assert keys.index(ref) < keys.index(key)
    assert [(r.id, r.priority, r.order) for r in policy.rules] == [
        ("support#1", 0, 0),
        ("key_accounts", 100, 1),
        ("frustrated", 50, 2),
    ]
    key_accounts = policy.rules[1]
    assert key_accounts.because == "Key customers never wait behind simple tickets"
    assert key_accounts.condition == c.DerivedRef("key_customer", BOOL)
    assert [(a.output, a.op, a.value) for a in key_accounts.actions] == [
        ("queue", "set", c.Const("key_accounts", QUEUE)),
        ("sla", "set", c.Const(parse_duration_literal("2h"), DURATION)),
        ("perks", "add", c.Const(frozenset({"named_rep"}), SetOf(STRING))),
    ]
    assert all(r.condition.type == BOOL for r in policy.rules)


def _derived_refs(expr: object) -> list[str]:
    found = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, c.DerivedRef):
            found.append(node.key)
        for attr in ("left", "right", "operand", "value", "low", "high", "target"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(node, c.Const):
                stack.append(child)
        stack.extend(getattr(node, "operands", ()))
        stack.extend(getattr(node, "elements", ()))
    return found


def test_rule_ids_of_imported_named_rules_are_qualified(tmp_path: Path) -> None:
    write(tmp_path, "extra.policy", "input { a: bool }\nrule bonus priority -3: if a then y\n")
    root = write(tmp_path, "root.policy", 'import "extra.policy"\nrule bonus: if a then z\n')
    policy = check_file_at(root).policy
    assert policy is not None
    assert [(r.id, r.module, r.priority) for r in policy.rules] == [("extra.bonus", "extra", -3), ("bonus", "", 0)]


def test_content_hash_follows_the_text() -> None:
    first = clean("if a then x")
    assert first.content_hash == clean("if a then x").content_hash
    assert first.content_hash != clean("if a then y").content_hash
    assert len(first.content_hash) == 64


def test_decimal_constants_stay_exact() -> None:
    policy = clean(with_schema("if spend >= 0.1 + 0.2 then skip"))
    cond = rule_condition(policy)
    assert isinstance(cond, c.Compare)
    assert isinstance(cond.right, c.Arithmetic)
    assert cond.right.left == c.Const(Decimal("0.1"), NUMBER)
