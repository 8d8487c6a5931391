"""parser.py: the AST shape of every construct, spans, rule ids, comments and keywords."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from policylang import Code, parse
from policylang.core.values import parse_duration_literal
from policylang.syntax import nodes as n


def items(text: str, filename: str = "t.policy") -> tuple[n.Declaration, ...]:
    result = parse(text, filename)
    assert result.diagnostics == (), [d.message for d in result.diagnostics]
    return result.tree.items


def only(text: str, filename: str = "t.policy") -> n.Declaration:
    found = items(text, filename)
    assert len(found) == 1
    return found[0]


def condition(cond: str) -> n.Expr:
    rule = only(f"if {cond} then x")
    assert isinstance(rule, n.Rule)
    return rule.condition


def value(expr: str) -> n.Expr:
    rule = only(f"if a then x = {expr}")
    assert isinstance(rule, n.Rule)
    action = rule.actions[0]
    assert isinstance(action, n.SetAction)
    return action.value


def name(*parts: str) -> n.Name:
    return n.Name(parts=parts)


def lit(kind: str, val: object) -> n.Literal:
    return n.Literal(kind=kind, value=val)


def cmp(left: n.Expr, op: str, right: n.Expr) -> n.Compare:
    return n.Compare(op=op, left=left, right=right)


def text_at(text: str, span: object) -> str:
    return text[span.start : span.end]  # type: ignore[attr-defined]  # a Span


A, B, C, D, E = (name(x) for x in "abcde")


# --- header and imports -------------------------------------------------------------------------


def test_header_with_and_without_description() -> None:
    tree = parse('policy support_levels "Service levels"\nif a then x', "t.policy").tree
    assert tree.header == n.Header(name="support_levels", description="Service levels")
    assert parse("policy bare", "t.policy").tree.header == n.Header(name="bare", description=None)
    assert parse("if a then x", "t.policy").tree.header is None


def test_header_description_escapes_are_decoded() -> None:
    tree = parse(r'policy p "say \"hi\"\n"', "t.policy").tree
    assert tree.header is not None
    assert tree.header.description == 'say "hi"\n'


def test_imports_module_path_and_alias() -> None:
    found = items(
        'import stdlib.segments\nimport stdlib.segments as seg\nimport "fraud.policy"\nimport "a b/c.policy" as fraud'
    )
    assert found == (
        n.Import(module=("stdlib", "segments")),
        n.Import(module=("stdlib", "segments"), alias="seg"),
        n.Import(path="fraud.policy"),
        n.Import(path="a b/c.policy", alias="fraud"),
    )
    assert [i.target for i in found if isinstance(i, n.Import)] == [
        "stdlib.segments",
        "stdlib.segments",
        '"fraud.policy"',
        '"a b/c.policy"',
    ]


# --- declarations -------------------------------------------------------------------------------


def test_input_block_types_optional_and_defaults() -> None:
    block = only(
        """input {
            tier: enum(basic, standard, premium, key)
            tenure: duration
            region: string = "eu"
            past_complaints: int = 0
            tags: set[string] = {}
            vip: bool?
            limit: int? = 3
            kinds: set[enum(a, b,)]
        }"""
    )
    assert block == n.InputBlock(
        fields=(
            n.InputDecl(name="tier", type=n.EnumType(members=("basic", "standard", "premium", "key"))),
            n.InputDecl(name="tenure", type=n.SimpleType(name="duration")),
            n.InputDecl(name="region", type=n.SimpleType(name="string"), default=lit("string", "eu")),
            n.InputDecl(name="past_complaints", type=n.SimpleType(name="int"), default=lit("int", 0)),
            n.InputDecl(
                name="tags", type=n.SetType(element=n.SimpleType(name="string")), default=n.SetLiteral(elements=())
            ),
            n.InputDecl(name="vip", type=n.SimpleType(name="bool"), optional=True),
            n.InputDecl(name="limit", type=n.SimpleType(name="int"), optional=True, default=lit("int", 3)),
            n.InputDecl(name="kinds", type=n.SetType(element=n.EnumType(members=("a", "b")))),
        )
    )


def test_output_block_defaults_and_resolve() -> None:
    block = only(
        """output {
            sla: duration = 72h resolve min
            queue: enum(general, priority, key_accounts) = general resolve priority
            perks: set[string] = {} resolve union
            account_manager: string
        }"""
    )
    assert block == n.OutputBlock(
        fields=(
            n.OutputDecl(
                name="sla", type=n.SimpleType(name="duration"), default=lit("duration", parse_duration_literal("3d")),
                resolve="min",
            ),
            n.OutputDecl(
                name="queue", type=n.EnumType(members=("general", "priority", "key_accounts")),
                default=name("general"), resolve="priority",
            ),
            n.OutputDecl(
                name="perks", type=n.SetType(element=n.SimpleType(name="string")),
                default=n.SetLiteral(elements=()), resolve="union",
            ),
            n.OutputDecl(name="account_manager", type=n.SimpleType(name="string")),
        )
    )  # fmt: skip


def test_empty_blocks() -> None:
    assert items("input {}\noutput {\n}") == (n.InputBlock(fields=()), n.OutputBlock(fields=()))


def test_segment_and_let() -> None:
    found = items("segment key_customer = tier == key\nlet yearly_spend = monthly_spend * 12")
    assert found == (
        n.Segment(name="key_customer", condition=cmp(name("tier"), "==", name("key"))),
        n.Let(
            name="yearly_spend",
            value=n.Arithmetic(op="*", left=name("monthly_spend"), right=lit("int", 12)),
        ),
    )


# --- rules --------------------------------------------------------------------------------------


def test_anonymous_rule() -> None:
    rule = only("if tier == premium and tenure > 2y then skip_fraud_check, sla=4h")
    assert rule == n.Rule(
        name=None,
        condition=n.BoolOp(
            op="and",
            operands=(
                cmp(name("tier"), "==", name("premium")),
                cmp(name("tenure"), ">", lit("duration", parse_duration_literal("2y"))),
            ),
        ),
        actions=(
            n.FlagAction(output="skip_fraud_check", value=True),
            n.SetAction(output="sla", value=lit("duration", parse_duration_literal("4h"))),
        ),
    )


def test_named_rule_with_priority_and_because() -> None:
    rule = only(
        """rule key_accounts priority 100:
            if key_customer
            then queue = key_accounts, sla = 2h, perks += {named_rep}
            because "Key customers never wait behind simple tickets"
        """
    )
    assert rule == n.Rule(
        name="key_accounts",
        priority=100,
        because="Key customers never wait behind simple tickets",
        condition=name("key_customer"),
        actions=(
            n.SetAction(output="queue", value=name("key_accounts")),
            n.SetAction(output="sla", value=lit("duration", parse_duration_literal("2h"))),
            n.AddAction(output="perks", value=n.SetLiteral(elements=(name("named_rep"),))),
        ),
    )


@pytest.mark.parametrize(("written", "priority"), [("100", 100), ("-5", -5), ("0", 0), ("1_000", 1000), ("-1_0", -10)])
def test_rule_priority_including_negative(written: str, priority: int) -> None:
    rule = only(f"rule r priority {written}: if a then x")
    assert isinstance(rule, n.Rule)
    assert rule.priority == priority


def test_rule_without_priority_has_none() -> None:
    rule = only("rule r: if a then x")
    assert isinstance(rule, n.Rule)
    assert rule.priority is None
    assert rule.because is None


def test_anonymous_rule_with_because() -> None:
    rule = only('if a then x because "reason \\"quoted\\""')
    assert isinstance(rule, n.Rule)
    assert rule.because == 'reason "quoted"'


def test_every_action() -> None:
    rule = only("if a then flag, not other, name = 1, perks += {x, y}, one += z")
    assert isinstance(rule, n.Rule)
    assert rule.actions == (
        n.FlagAction(output="flag", value=True),
        n.FlagAction(output="other", value=False),
        n.SetAction(output="name", value=lit("int", 1)),
        n.AddAction(output="perks", value=n.SetLiteral(elements=(name("x"), name("y")))),
        n.AddAction(output="one", value=name("z")),
    )


def test_items_keep_file_order() -> None:
    found = items("if a then x\nsegment s = b\nrule r: if c then y\nlet l = 1\nimport stdlib.segments")
    assert [type(i) for i in found] == [n.Rule, n.Segment, n.Rule, n.Let, n.Import]


# --- operators ----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparison_operators(op: str) -> None:
    assert condition(f"a {op} b") == cmp(A, op, B)


def test_membership_operators() -> None:
    assert condition("a in {b, c}") == n.Membership(op="in", left=A, right=n.SetLiteral(elements=(B, C)))
    assert condition("a not in {b, c}") == n.Membership(op="not in", left=A, right=n.SetLiteral(elements=(B, C)))
    assert condition("a not in b") == n.Membership(op="not in", left=A, right=B)
    assert condition("tags contains vip") == n.Membership(op="contains", left=name("tags"), right=name("vip"))


def test_not_in_is_not_a_negated_membership() -> None:
    assert condition("a not in {b}") != condition("not a in {b}")
    assert condition("not a in {b}") == n.Not(operand=n.Membership(op="in", left=A, right=n.SetLiteral(elements=(B,))))


def test_between_and_presence() -> None:
    assert condition("a between 1 and 5") == n.Between(value=A, low=lit("int", 1), high=lit("int", 5))
    assert condition("a is missing") == n.Presence(target=A, missing=True)
    assert condition("a is present") == n.Presence(target=A, missing=False)


def test_between_inside_an_and_chain() -> None:
    # The `and` of `between` belongs to it; the next `and` combines conditions.
    assert condition("a between 1 and 5 and b and c between d and e") == n.BoolOp(
        op="and",
        operands=(
            n.Between(value=A, low=lit("int", 1), high=lit("int", 5)),
            B,
            n.Between(value=C, low=D, high=E),
        ),
    )


def test_between_bounds_may_be_arithmetic() -> None:
    assert condition("a between b - 1 and b + 1") == n.Between(
        value=A,
        low=n.Arithmetic(op="-", left=B, right=lit("int", 1)),
        high=n.Arithmetic(op="+", left=B, right=lit("int", 1)),
    )


def test_and_binds_tighter_than_or_and_chains_are_flat() -> None:
    assert condition("a and b and c or d or e") == n.BoolOp(
        op="or", operands=(n.BoolOp(op="and", operands=(A, B, C)), D, E)
    )
    assert condition("a or b and c") == n.BoolOp(op="or", operands=(A, n.BoolOp(op="and", operands=(B, C))))


def test_parenthesised_chains_of_the_same_operator_are_flattened() -> None:
    flat_and = n.BoolOp(op="and", operands=(A, B, C))
    assert condition("(a and b) and c") == flat_and
    assert condition("a and (b and c)") == flat_and
    assert condition("a or (b or c)") == n.BoolOp(op="or", operands=(A, B, C))


def test_parentheses_keep_a_different_operator_nested() -> None:
    assert condition("(a or b) and c") == n.BoolOp(op="and", operands=(n.BoolOp(op="or", operands=(A, B)), C))


def test_not_binds_looser_than_comparison() -> None:
    assert condition("not a == b") == n.Not(operand=cmp(A, "==", B))
    assert condition("not a and b") == n.BoolOp(op="and", operands=(n.Not(operand=A), B))
    assert condition("not (a and b)") == n.Not(operand=n.BoolOp(op="and", operands=(A, B)))
    assert condition("not not a") == n.Not(operand=n.Not(operand=A))


def test_arithmetic_precedence_and_left_associativity() -> None:
    assert condition("a + b * c - d / e > 1") == cmp(
        n.Arithmetic(
            op="-",
            left=n.Arithmetic(op="+", left=A, right=n.Arithmetic(op="*", left=B, right=C)),
            right=n.Arithmetic(op="/", left=D, right=E),
        ),
        ">",
        lit("int", 1),
    )
    assert value("a - b - c") == n.Arithmetic(op="-", left=n.Arithmetic(op="-", left=A, right=B), right=C)
    assert value("a - (b - c)") == n.Arithmetic(op="-", left=A, right=n.Arithmetic(op="-", left=B, right=C))


def test_comparison_does_not_chain() -> None:
    result = parse("if a == b == c then x", "t.policy")
    assert [d.code for d in result.diagnostics] == [Code.SYNTAX_ERROR]


def test_parenthesised_comparison_as_operand() -> None:
    assert condition("a == (b == c)") == cmp(A, "==", cmp(B, "==", C))


@pytest.mark.parametrize(
    ("written", "kind", "val"),
    [
        ("-5", "int", -5),
        ("- 5", "int", -5),
        ("-(5)", "int", -5),
        ("-0.5", "number", Decimal("-0.5")),
        ("-2d", "duration", parse_duration_literal("-2d")),
        ("-1y6mo", "duration", parse_duration_literal("-1y6mo")),
    ],
)
def test_negative_literals_are_literals(written: str, kind: str, val: object) -> None:
    expr = condition(f"a == {written}")
    assert isinstance(expr, n.Compare)
    assert expr.right == lit(kind, val)
    assert isinstance(expr.right, n.Literal)
    assert expr.right.value == val


def test_negating_a_name_is_a_negation() -> None:
    assert condition("-a > 1") == cmp(n.Negate(operand=A), ">", lit("int", 1))
    assert value("-(a * 2)") == n.Negate(operand=n.Arithmetic(op="*", left=A, right=lit("int", 2)))
    assert value("a - -5") == n.Arithmetic(op="-", left=A, right=lit("int", -5))


def test_literals_of_every_kind() -> None:
    assert value("10_000") == lit("int", 10_000)
    assert value("0.5") == lit("number", Decimal("0.5"))
    assert value('"text"') == lit("string", "text")
    assert value("true") == lit("bool", True)
    assert value("false") == lit("bool", False)
    assert value("1y6mo") == lit("duration", parse_duration_literal("18mo"))
    assert value("2026-01-31") == lit("date", date(2026, 1, 31))
    assert value("2026-01-31T09:00:00Z") == lit("datetime", datetime(2026, 1, 31, 9, tzinfo=UTC))
    assert value("now") == n.Now()


def test_bool_literal_is_not_the_int_one() -> None:
    assert value("true") != lit("int", 1)


def test_literal_raw_keeps_the_authors_spelling() -> None:
    literal = value("10_000")
    assert isinstance(literal, n.Literal)
    assert literal.raw == "10_000"
    negative = value("-2d")
    assert isinstance(negative, n.Literal)
    assert negative.raw == "-2d"


def test_set_literals() -> None:
    assert value("{}") == n.SetLiteral(elements=())
    assert value("{1, 2,}") == n.SetLiteral(elements=(lit("int", 1), lit("int", 2)))
    assert value("{a, b + 1}") == n.SetLiteral(elements=(A, n.Arithmetic(op="+", left=B, right=lit("int", 1))))


def test_qualified_names() -> None:
    assert condition("segments.high_spend") == name("segments", "high_spend")
    assert condition("a.b.c") == name("a", "b", "c")
    assert name("a", "b").text == "a.b"


# --- spans --------------------------------------------------------------------------------------

SPAN_TEXT = """# c1
policy p "d"  # c2

rule big priority 10:   # c3
    if a > 1   # c4
    then x = 2
    because "r"

  if b then y   # c5
"""


def test_named_rule_span_and_name_span() -> None:
    rule = parse(SPAN_TEXT, "dir/my.policy").tree.items[0]
    assert isinstance(rule, n.Rule)
    span = rule.span
    assert (span.file, span.line, span.column, span.end_line, span.end_column) == ("dir/my.policy", 4, 1, 7, 16)
    assert text_at(SPAN_TEXT, span).startswith("rule big priority 10:")
    assert text_at(SPAN_TEXT, span).endswith('because "r"')
    name_span = rule.name_span
    assert text_at(SPAN_TEXT, name_span) == "big"
    assert (name_span.line, name_span.column, name_span.end_line, name_span.end_column) == (4, 6, 4, 9)


def test_condition_and_action_spans() -> None:
    rule = parse(SPAN_TEXT, "t.policy").tree.items[0]
    assert isinstance(rule, n.Rule)
    assert text_at(SPAN_TEXT, rule.condition.span) == "a > 1"
    assert (rule.condition.span.line, rule.condition.span.column) == (5, 8)
    action = rule.actions[0]
    assert isinstance(action, n.SetAction)
    assert text_at(SPAN_TEXT, action.span) == "x = 2"
    assert text_at(SPAN_TEXT, action.output_span) == "x"
    assert text_at(SPAN_TEXT, action.value.span) == "2"


def test_anonymous_rule_span_starts_at_if() -> None:
    rule = parse(SPAN_TEXT, "t.policy").tree.items[1]
    assert isinstance(rule, n.Rule)
    assert text_at(SPAN_TEXT, rule.span) == "if b then y"
    assert (rule.span.line, rule.span.column, rule.span.end_line, rule.span.end_column) == (9, 3, 9, 14)


def test_declaration_name_spans() -> None:
    text = (
        "input {\n  tier: enum(a, b)?\n}\noutput {\n  sla: duration = 4h resolve min\n}\nsegment seg = a\nlet total = 1"
    )
    block_in, block_out, segment, let = parse(text, "t.policy").tree.items
    assert isinstance(block_in, n.InputBlock)
    assert isinstance(block_out, n.OutputBlock)
    assert isinstance(segment, n.Segment)
    assert isinstance(let, n.Let)
    decl = block_in.fields[0]
    assert text_at(text, decl.name_span) == "tier"
    assert (decl.name_span.line, decl.name_span.column) == (2, 3)
    assert text_at(text, decl.type.span) == "enum(a, b)"
    out = block_out.fields[0]
    assert text_at(text, out.name_span) == "sla"
    assert text_at(text, out.resolve_span) == "min"
    assert text_at(text, segment.name_span) == "seg"
    assert text_at(text, let.name_span) == "total"
    assert text_at(text, block_in.span) == "input {\n  tier: enum(a, b)?\n}"


def test_span_columns_count_characters_not_bytes() -> None:
    text = 'if name == "é😀" and b then x'
    rule = parse(text, "t.policy").tree.items[0]
    assert isinstance(rule, n.Rule)
    second = rule.condition
    assert isinstance(second, n.BoolOp)
    b = second.operands[1]
    assert text_at(text, b.span) == "b"
    assert b.span.column == text.index(" b ") + 2


def test_spans_do_not_take_part_in_equality() -> None:
    first = parse("if a then x", "one.policy").tree
    second = parse("\n\n   if   a\n then   x", "two.policy").tree
    assert first == second
    assert hash(first.items[0].condition) == hash(second.items[0].condition)


def test_header_span() -> None:
    header = parse(SPAN_TEXT, "t.policy").tree.header
    assert header is not None
    assert text_at(SPAN_TEXT, header.span) == 'policy p "d"'
    assert (header.span.line, header.span.column) == (2, 1)


# --- rule ids -----------------------------------------------------------------------------------


def test_named_rule_id_is_its_name() -> None:
    rule = only("rule frustrated priority 50: if a then x", "examples/support/support.policy")
    assert isinstance(rule, n.Rule)
    assert rule.id == "frustrated"


@pytest.mark.parametrize(
    ("filename", "rule_id"),
    [
        ("support.policy", "support#1"),
        ("examples/support/support.policy", "support#1"),
        ("C:\\policies\\support.policy", "support#1"),
        ("rules.txt", "rules.txt#1"),
        ("<stdin>", "<stdin>#1"),
    ],
)
def test_anonymous_rule_id_is_stem_and_ordinal(filename: str, rule_id: str) -> None:
    rule = only("# comment\n\nif a then x", filename)
    assert isinstance(rule, n.Rule)
    assert rule.id == rule_id


def test_anonymous_rule_ids_count_anonymous_rules_only() -> None:
    found = items("if a then x\n\n  if b\n  then y\nrule named:\n  if c then z\nif d then w", "FILE.policy")
    assert [r.id for r in found if isinstance(r, n.Rule)] == ["FILE#1", "FILE#2", "named", "FILE#3"]


def test_rule_id_is_ignored_by_equality() -> None:
    first = only("if a then x", "one.policy")
    second = only("\nif a then x", "two.policy")
    assert isinstance(first, n.Rule)
    assert isinstance(second, n.Rule)
    assert first.id != second.id
    assert first == second


# --- comments -----------------------------------------------------------------------------------


def test_comments_are_collected_with_spans() -> None:
    tree = parse(SPAN_TEXT, "t.policy").tree
    assert [c.text for c in tree.comments] == ["# c1", "# c2", "# c3", "# c4", "# c5"]
    assert [(c.span.line, c.span.column) for c in tree.comments] == [(1, 1), (2, 15), (4, 25), (5, 16), (9, 17)]
    for comment in tree.comments:
        assert text_at(SPAN_TEXT, comment.span) == comment.text


def test_hash_inside_a_string_is_not_a_comment() -> None:
    text = 'if a == "x # y" then z  # real'
    tree = parse(text, "t.policy").tree
    assert [c.text for c in tree.comments] == ["# real"]
    rule = tree.items[0]
    assert isinstance(rule, n.Rule)
    assert rule.condition == cmp(A, "==", lit("string", "x # y"))


def test_comments_do_not_take_part_in_equality() -> None:
    assert parse("if a then x # one", "t.policy").tree == parse("# other\nif a then x", "t.policy").tree


def test_comment_only_file() -> None:
    tree = parse("# nothing but a comment\n", "t.policy").tree
    assert tree.items == ()
    assert tree.header is None
    assert [c.text for c in tree.comments] == ["# nothing but a comment"]


# --- contextual and reserved keywords -----------------------------------------------------------


def test_contextual_keywords_as_enum_members() -> None:
    block = only("input { kind: enum(priority, resolve, as, set, enum, missing, present) }")
    assert isinstance(block, n.InputBlock)
    assert block.fields[0].type == n.EnumType(
        members=("priority", "resolve", "as", "set", "enum", "missing", "present")
    )


def test_priority_as_enum_member_and_value() -> None:
    found = items("output { queue: enum(general, priority) = general resolve priority }\nif a then queue = priority")
    block, rule = found
    assert isinstance(block, n.OutputBlock)
    assert block.fields[0].resolve == "priority"
    assert isinstance(rule, n.Rule)
    assert rule.actions == (n.SetAction(output="queue", value=name("priority")),)


@pytest.mark.parametrize("strategy", ["unique", "first", "priority", "min", "max", "any", "all", "union", "resolve"])
def test_resolve_strategy_names_are_plain_names(strategy: str) -> None:
    block = only(f"output {{ x: int resolve {strategy} }}")
    assert isinstance(block, n.OutputBlock)
    assert block.fields[0].resolve == strategy


def test_contextual_keywords_as_names_of_things() -> None:
    found = items(
        "output { resolve: int resolve max }\n"
        "segment missing = present\n"
        "let priority = 1\n"
        "if priority == resolve then as = set"
    )
    assert [getattr(i, "name", None) for i in found] == [None, "missing", "priority", None]
    block = found[0]
    assert isinstance(block, n.OutputBlock)
    assert block.fields[0].name == "resolve"
    rule = found[3]
    assert isinstance(rule, n.Rule)
    assert rule.condition == cmp(name("priority"), "==", name("resolve"))
    assert rule.actions == (n.SetAction(output="as", value=name("set")),)


def test_import_alias_may_be_a_contextual_keyword() -> None:
    assert only('import "x.policy" as as') == n.Import(path="x.policy", alias="as")


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("segment and = a", "and"),
        ("let now = 1", "now"),
        ("segment if = a", "if"),
        ("input { then: int }", "then"),
        ("output { because: int }", "because"),
        ("rule if: if a then b", "if"),
        ("if a then true", "true"),
        ("if a then x = 1, contains = 2", "contains"),
        ("input { x: enum(a, or) }", "or"),
    ],
)
def test_reserved_keywords_are_rejected_as_names(text: str, keyword: str) -> None:
    result = parse(text, "t.policy")
    assert [d.code for d in result.diagnostics] == [Code.SYNTAX_ERROR]
    diag = result.diagnostics[0]
    assert diag.span is not None
    assert text_at(text, diag.span) == keyword
    assert f"`{keyword}`" in diag.message


def test_keyword_prefix_is_still_a_name() -> None:
    # `iffy`, `notable`, `android` start with keywords but are names.
    assert condition("iffy and notable or android") == n.BoolOp(
        op="or", operands=(n.BoolOp(op="and", operands=(name("iffy"), name("notable"))), name("android"))
    )


# --- syntax errors: the parser reports and recovers ----------------------------------------------


def test_assignment_in_condition_is_a_syntax_error_with_hint() -> None:
    text = "if a = b then c"
    diag = parse(text, "t.policy").diagnostics[0]
    assert diag.code is Code.SYNTAX_ERROR
    assert diag.message == "`=` sets an output; a condition compares with `==`"
    assert diag.hint == "use `==` to compare"
    assert diag.span is not None
    assert text_at(text, diag.span) == "="


def test_missing_then_points_at_the_token() -> None:
    text = "if a tehn b"
    diag = parse(text, "t.policy").diagnostics[0]
    assert diag.message == "expected `then` after the condition, found `tehn`"
    assert diag.hint is not None and "then" in diag.hint
    assert diag.span is not None
    assert text_at(text, diag.span) == "tehn"


def test_recovery_keeps_the_items_around_a_broken_one() -> None:
    text = "if a then b\nrule r: if a tehn b\nif c then d"
    result = parse(text, "t.policy")
    assert [d.code for d in result.diagnostics] == [Code.SYNTAX_ERROR]
    assert [(r.id, r.span.line) for r in result.tree.items if isinstance(r, n.Rule)] == [("t#1", 1), ("t#2", 3)]
    assert not result.ok


def test_malformed_literal_is_a_diagnostic_on_its_token() -> None:
    text = "if a then x = 2026-02-30"
    result = parse(text, "t.policy")
    (diag,) = result.diagnostics
    assert diag.code is Code.SYNTAX_ERROR
    assert diag.message == "`2026-02-30` is not a valid date"
    assert diag.hint == "write dates as YYYY-MM-DD, such as `2026-01-31`"
    assert diag.span is not None
    assert text_at(text, diag.span) == "2026-02-30"


def test_bad_priority_number_is_a_diagnostic() -> None:
    text = "rule r priority 1__0: if a then b"
    (diag,) = parse(text, "t.policy").diagnostics
    assert diag.message == "`1__0` is not a valid number"
    assert diag.span is not None
    assert text_at(text, diag.span) == "1__0"


def test_unknown_escape_in_string_is_a_diagnostic() -> None:
    text = 'if a then x = "\\q"'
    (diag,) = parse(text, "t.policy").diagnostics
    assert diag.code is Code.SYNTAX_ERROR
    assert diag.message == "unknown escape `\\q` in a string"
    assert diag.span is not None
    assert text_at(text, diag.span) == "\\q"  # the caret sits on the escape, not the whole string


def test_empty_text_is_an_empty_policy() -> None:
    result = parse("", "t.policy")
    assert result.ok
    assert result.tree == n.PolicyFile(header=None, items=())


def test_walk_visits_every_node_in_order() -> None:
    rule = only("if a and not b then x = c + 1")
    kinds = [type(node).__name__ for node in n.walk(rule)]
    assert kinds == ["Rule", "BoolOp", "Name", "Not", "Name", "SetAction", "Arithmetic", "Name", "Literal"]
