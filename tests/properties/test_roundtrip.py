"""Round trip and formatter properties on generated ASTs (STYLE.md section 6, properties 1 and 2).

- `parse(format_tree(tree)).tree == tree`, with no diagnostics at all;
- the formatter is idempotent: `format_source` of formatted text gives the same text back, and never
  refuses a generated tree with `internal-error`;
- comments survive: `# ...` lines and trailing comments inserted anywhere outside strings come out
  of `format_source` again (the same multiset of texts), and formatting stays idempotent.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import expressions, policy_files

from policylang.core.diagnostics import Code, Diagnostic
from policylang.core.values import Duration
from policylang.syntax import nodes as n
from policylang.syntax.formatter import format_source, format_tree, unparse_expr
from policylang.syntax.parser import parse


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _file(*items: n.Declaration) -> n.PolicyFile:
    return n.PolicyFile(header=None, items=items)


def _segment(value: n.Expr) -> n.PolicyFile:
    return _file(n.Segment(name="s", condition=value))


def _describe(diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    return [f"{d.code}: {d.message}" for d in diagnostics]


@_settings(150)
@given(policy_files())
@example(_file(n.Import(path='a"b'), n.Import(path="c\\d", alias="e"), n.Import(path="x\ny")))
@example(_segment(n.Literal(kind="datetime", value=datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC))))
@example(_segment(n.Literal(kind="number", value=Decimal("-1.0000000000000000000000000001"))))
@example(_segment(n.Literal(kind="number", value=Decimal("1.0000000000000000000000000001"))))
@example(_segment(n.Literal(kind="duration", value=Duration(-18, -3600))))
@example(_segment(n.Negate(operand=n.Negate(operand=n.Name(parts=("a",))))))
@example(_segment(n.Negate(operand=n.Literal(kind="int", value=-5))))  # `-(-5)`: folded once only
@example(_segment(n.Negate(operand=n.Literal(kind="duration", value=Duration(0, -86400)))))
@example(_segment(n.Negate(operand=n.Literal(kind="string", value="x"))))
@example(_segment(n.Arithmetic(op="-", left=n.Name(parts=("a",)), right=n.Literal(kind="int", value=-5))))
def test_parse_of_format_is_the_same_tree(tree: n.PolicyFile) -> None:
    text = format_tree(tree)
    result = parse(text, "generated.policy")
    assert result.diagnostics == (), f"{text}\n{_describe(result.diagnostics)}"
    assert result.tree == tree, text


@_settings(200)
@given(expressions())
def test_expression_round_trip(expr: n.Expr) -> None:
    """Every expression, alone as a segment's condition, re-parses to itself (shrinks to smaller examples)."""
    text = f"segment s = {unparse_expr(expr)}\n"
    result = parse(text, "expr.policy")
    assert result.diagnostics == (), f"{text}\n{_describe(result.diagnostics)}"
    assert result.tree.items == (n.Segment(name="s", condition=expr),), text


@_settings(100)
@given(policy_files())
def test_format_source_is_idempotent_on_formatted_trees(tree: n.PolicyFile) -> None:
    text = format_tree(tree)
    result = format_source(text, "generated.policy")
    assert not any(d.code is Code.INTERNAL_ERROR for d in result.diagnostics), _describe(result.diagnostics)
    assert result.diagnostics == (), _describe(result.diagnostics)
    assert result.text == text
    again = format_source(result.text, "generated.policy")
    assert again.text == result.text


# --- comments ---------------------------------------------------------------------------------------

# Comment bodies: any character but a line break ("\n", or a lone "\r", which also ends a line),
# including `#`, quotes, control characters and unicode.
_comment_texts = st.builds(
    lambda body: "#" + body,
    st.text(
        alphabet=st.one_of(
            st.characters(exclude_categories=["Cs", "Cf"], exclude_characters="\n\r"),  # Cf: hidden-text warns
            st.sampled_from(['"', "\\", "#", "{", "}", " ", "\t"]),
        ),
        max_size=15,
    ),
)


def _insert_comments(
    text: str, own_lines: list[tuple[int, str, str]], trailing: list[tuple[int, str]]
) -> tuple[str, list[str]]:
    """`text` with comment lines put before some lines and comments appended at the end of others,
    and the comments inserted.

    Formatted text never has a newline inside a string (they are escaped), so every line end is
    outside a string and a comment there cannot change a string's value.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    before: dict[int, list[str]] = {}
    after: dict[int, list[str]] = {}
    for position, indent, comment in own_lines:
        before.setdefault(position % (len(lines) + 1), []).append(indent + comment)
    for position, comment in trailing:
        if lines:
            after.setdefault(position % len(lines), []).append(comment)
    out: list[str] = []
    inserted: list[str] = []
    for index in range(len(lines) + 1):
        for comment in before.get(index, []):
            out.append(comment)
            inserted.append(comment.lstrip(" \t"))
        if index < len(lines):
            line = lines[index]
            if index in after:
                comment = after[index][0]  # a second one on the same line would be part of the first
                line = f"{line}  {comment}"
                inserted.append(comment)
            out.append(line)
    return "\n".join(out) + "\n", inserted


def _comment_texts_of(text: str) -> Counter[str]:
    return Counter(c.text for c in parse(text, "comments.policy").tree.comments)


@_settings(100)
@given(
    policy_files(max_items=6),
    st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["", "    ", "\t", "  "]), _comment_texts), max_size=6),
    st.lists(st.tuples(st.integers(0, 10_000), _comment_texts), max_size=6),
)
@example(
    tree=n.PolicyFile(
        header=None,
        items=(
            n.InputBlock(fields=(n.InputDecl(name="a", type=n.SimpleType(name="int")),)),
            n.Rule(
                name="r",
                condition=n.Name(parts=("a",)),
                actions=(n.FlagAction(output="x", value=True),),
                priority=1,
                because="why",
            ),
        ),
    ),
    own_lines=[(0, "", "# top"), (2, "    ", "# inside"), (5, "", "# before then"), (7, "", "# end")],
    trailing=[(0, "# after brace"), (3, "# after rule"), (5, "# after because")],
)
def test_comments_survive_formatting(
    tree: n.PolicyFile, own_lines: list[tuple[int, str, str]], trailing: list[tuple[int, str]]
) -> None:
    commented, inserted = _insert_comments(format_tree(tree), own_lines, trailing)
    parsed = parse(commented, "comments.policy")
    assert parsed.diagnostics == (), f"{commented}\n{_describe(parsed.diagnostics)}"
    assert parsed.tree == tree, commented  # the insertion itself must not change the policy
    wanted = Counter(inserted)
    assert Counter(c.text for c in parsed.tree.comments) == wanted

    result = format_source(commented, "comments.policy")
    assert result.diagnostics == (), f"{commented}\n{_describe(result.diagnostics)}"
    assert result.text is not None
    assert _comment_texts_of(result.text) == wanted, f"{commented}\n--- formatted ---\n{result.text}"
    assert parse(result.text, "comments.policy").tree == tree
    again = format_source(result.text, "comments.policy")
    assert again.diagnostics == (), _describe(again.diagnostics)
    assert again.text == result.text, f"{result.text}\n--- formatted again ---\n{again.text}"
