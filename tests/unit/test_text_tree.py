"""The explanation's own tree drawing (policylang/explain/text_tree.py) draws what rich drew: the
same guides and the same wrapping, on random trees of random words (wide characters, words longer
than a line, runs of spaces, newlines), at random widths; and its colours are only added codes.
"""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from policylang.explain.text_tree import Node, draw

WORDS = st.text(alphabet="abcXYZ019_=()`✓✗·→…漢字é", min_size=1, max_size=30)
LABELS = st.lists(st.tuples(WORDS, st.sampled_from([" ", "   ", " ", "\n"])), min_size=1, max_size=12).map(
    lambda pairs: "".join(word + gap for word, gap in pairs).rstrip(" ")
)
STYLE = st.sampled_from(["", "bold", "dim", "red", "green italic"])


def _trees(depth: int = 3) -> st.SearchStrategy[tuple[str, str, list]]:  # type: ignore[type-arg]
    leaf = st.tuples(LABELS, STYLE, st.just([]))
    if depth == 0:
        return leaf
    return st.tuples(LABELS, STYLE, st.lists(_trees(depth - 1), max_size=4))


def _node(tree: tuple[str, str, list]) -> Node:  # type: ignore[type-arg]
    label, style, children = tree
    node = Node([(label, style)])
    node.children = [_node(child) for child in children]
    return node


def _rich(tree: tuple[str, str, list], width: int) -> list[str]:  # type: ignore[type-arg]
    def build(parent: Tree | None, spec: tuple[str, str, list]) -> Tree:  # type: ignore[type-arg]
        label, style, children = spec
        node = Tree(Text(label, style=style)) if parent is None else parent.add(Text(label, style=style))
        for child in children:
            build(node, child)
        return node

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, no_color=True, highlight=False, emoji=False)
    console.print(build(None, tree))
    return [line.rstrip() for line in buffer.getvalue().split("\n")][:-1]


@settings(max_examples=300, deadline=None)
@given(tree=_trees(), width=st.integers(min_value=20, max_value=120))
def test_the_tree_is_drawn_as_rich_draws_it(tree: tuple[str, str, list], width: int) -> None:  # type: ignore[type-arg]
    drawn = [line.rstrip() for line in draw(_node(tree), width)]
    assert drawn == _rich(tree, width)


@settings(max_examples=100, deadline=None)
@given(tree=_trees(2), width=st.integers(min_value=20, max_value=120))
def test_colours_are_only_codes_added_to_the_plain_lines(tree: tuple[str, str, list], width: int) -> None:  # type: ignore[type-arg]
    plain = [line.rstrip() for line in draw(_node(tree), width)]
    coloured = draw(_node(tree), width, color=True)
    assert [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in coloured] == plain
    _, style, _ = tree
    if style and plain[0]:  # a styled root whose first line has text shows its style's code
        assert coloured[0].startswith("\x1b[")
