"""libyaml's C loader reads facts exactly as the pure-Python loader does (issue 12, L9).

Documents are generated with the scalars YAML 1.1 reads in surprising ways (`012`, `yes`, `3:00`,
`1e5`, impossible dates), in block and flow style, with junk appended. Where the pure loader reads
a document, the C loader gives the same values of the same types and the same positions of lists
and mappings (the nesting limit points at those); where the C loader refuses one, the pure loader
refuses it too (the readers report the pure loader's error, which may name another problem). The
known difference: libyaml also reads some documents the pure loader refuses (`a: <tab>`, `[!, a]`).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylang.core.yaml_exact import exact_yaml_loader

pytestmark = pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML without libyaml")

SURPRISING = st.sampled_from(
    ["012", "yes", "no", "on", "1e5", "-3", "+7", "0.5", ".5", "1.", "2026-01-01", "2026-02-30",
     "2026-01-01T09:00:00Z", "3:00", "~", "null", "true", "False", "TRUE", "0x1F", "0o17", "1_000", ".inf",
     "NaN", "a b", "x", "-", "'q'", '"q\\u00e9"', "3y", "P3Y", "é", "1e999999", "9" * 120, "!!python/tuple [1]",
     "!", '! ""', "! 12", "&a x", "*a", "<<"]
)  # fmt: skip
SCALARS = st.one_of(
    SURPRISING, st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8), st.integers(), st.booleans()
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(SURPRISING, st.text(max_size=5)), inner, max_size=4)
    ),
    max_leaves=20,
)


def render(value: Any, flow: bool, indent: int = 0) -> str:
    """YAML text for a generated tree, with its scalars written plain, as a person would type them."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        if flow:
            return "{" + ", ".join(f"{render(k, True)}: {render(v, True)}" for k, v in value.items()) + "}"
        return "\n" + "\n".join(f"{pad}{render(k, True)}: {render(v, False, indent + 2)}" for k, v in value.items())
    if isinstance(value, list):
        if not value:
            return "[]"
        if flow:
            return "[" + ", ".join(render(v, True) for v in value) + "]"
        return "\n" + "\n".join(f"{pad}- {render(v, False, indent + 2).lstrip()}" for v in value)
    return str(value)


def outcome(text: str, pure: bool) -> tuple[Any, ...]:
    """What a loader makes of the text: the value and the positions of its lists and mappings, or the error."""
    try:
        loader = exact_yaml_loader(pure)(text)
        node = loader.get_single_node()
        places = []
        stack = [node] if node is not None else []
        while stack:
            item = stack.pop()
            if isinstance(item, yaml.SequenceNode):
                stack.extend(item.value)
            elif isinstance(item, yaml.MappingNode):
                stack.extend(part for pair in item.value for part in pair)
            else:
                continue
            places.append((item.tag, item.start_mark.line, item.start_mark.column))
        value = loader.construct_document(node) if node is not None else None
        return ("read", repr(value), places)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return ("refused", type(exc).__name__, getattr(exc, "problem", str(exc)), mark and (mark.line, mark.column))


def test_the_loaders_are_different_parsers() -> None:
    # Otherwise the property below would compare a loader with itself.
    assert exact_yaml_loader(pure=True).__mro__[1] is yaml.SafeLoader
    assert exact_yaml_loader(pure=False).__mro__[1] is yaml.CSafeLoader


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(TREES, st.booleans(), st.text(max_size=6))
def test_the_c_loader_reads_what_the_pure_loader_reads(tree: Any, flow: bool, junk: str) -> None:
    for text in (render(tree, flow), "facts: " + render(tree, flow, 2), render(tree, flow) + junk):
        pure, fast = outcome(text, pure=True), outcome(text, pure=False)
        if pure[0] == "read":
            assert fast == pure, text
        elif fast[0] == "refused":
            # both refuse; the error the readers show is the pure loader's (they read a refused text
            # of up to 64 KB again with it), so the two may name different first problems: a tag
            # `!0,` against `!0` in a flow list, or a tag before the tab the pure loader stops at
            assert pure[0] == "refused", text


@pytest.mark.parametrize("levels", [99, 100, 101, 5000])
def test_both_loaders_stop_at_the_same_nesting(levels: int) -> None:
    # The top-level mapping is the first level; a scalar inside the deepest list adds none.
    for text in ("a: " + "[" * levels + "x" + "]" * levels, "a:\n" + "".join("  " * i + "- \n" for i in range(levels))):
        pure, fast = outcome(text, pure=True), outcome(text, pure=False)
        assert pure[0] == fast[0] == ("read" if levels < 100 else "refused"), (pure, fast)
        if levels < 1000:  # past 1,000 levels libyaml stops by itself, a little further on
            assert pure == fast


@pytest.mark.parametrize("text", ["[0:]", "facts: [0:]", "tags: [gold:, silver]"])
def test_a_text_only_the_pure_parser_reads_is_read_the_same_with_libyaml(text: str) -> None:
    # libyaml refuses a plain scalar ending in `:` inside a flow list; the pure parser reads it as a
    # one-entry mapping. Hypothesis found `[0:]`: the C loader now takes the pure parser's reading.
    pure, fast = outcome(text, pure=True), outcome(text, pure=False)
    assert pure[0] == "read"
    assert fast == pure
