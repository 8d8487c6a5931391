"""A YAML text as nodes that keep their positions, read with the facts files' exact loader.

PyYAML's composer gives nodes with start and end marks; values are made from them with the same
loader `policy eval` reads facts with (`012` is twelve, `yes` is text, numbers are exact), so a
fact in a test case means what it means in a facts file. Every problem becomes a diagnostic
with a span, never an exception.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..core.diagnostics import Code, Diagnostic, Label, did_you_mean, error
from ..core.source import SourceFile, Span
from ..core.spelling import spell
from ..core.yaml_exact import MAX_NESTING, exact_yaml_loader, foreign_tag, nesting_error

_PLAIN_VALUES = "test files hold plain values: text, numbers, true and false, lists and mappings"

INVALID: Any = object()
"""What `value()` gives for a node it could not make a value of (the problem is recorded)."""


class YamlDocument:
    """One YAML text, composed; its problems collect in `diagnostics`."""

    def __init__(self, name: str, text: str) -> None:
        self._too_deep = nesting_error()
        self.source = SourceFile(name, text)
        self.diagnostics: list[Diagnostic] = []
        # The reader checks every character as the loader is made, before any parsing: a character
        # YAML does not allow (a NUL, an ESC, U+FFFE) is reported by root() like any other YAML error.
        self._unreadable: yaml.reader.ReaderError | None = None
        try:
            self._loader = exact_yaml_loader(pure=True)(text)  # node end marks make spans: libyaml's differ
        except yaml.reader.ReaderError as exc:
            self._unreadable = exc
            self._loader = exact_yaml_loader(pure=True)("")

    def root(self, hint: str) -> Node | None:
        """The document's single node; None (with a diagnostic) for malformed YAML, several
        documents, or an empty text."""
        if self._unreadable is not None:
            where = self._unreadable.position
            inside = 0 <= where < len(self.source.text)
            self.problem(
                Code.FACTS_ERROR,
                f"invalid YAML: the character U+{self._unreadable.character:04X} is not allowed in YAML",
                self.source.span(where, where + 1) if inside else None,
                hint='remove it, or write it as an escape in a double-quoted string, such as "\\x1b"',
            )
            return None
        try:
            node: Node | None = self._loader.get_single_node()
        except self._too_deep as exc:  # a limit, checked before anything recurses through the nodes
            self.problem(
                Code.LIMIT_EXCEEDED,
                f"{exc.problem} in the test file",
                self.mark_span(exc.problem_mark),
                label="repeated here" if exc.repeated else "too deep here",
                hint="test files hold plain values; write them out"
                if exc.repeated
                else f"test files hold names and plain values; lists and mappings nest at most {MAX_NESTING} levels",
            )
            return None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "not YAML"
            self.problem(Code.FACTS_ERROR, f"invalid YAML: {problem}", self.mark_span(mark), hint=hint)
            return None
        except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
            self.problem(Code.FACTS_ERROR, f"invalid YAML: {exc}", None, hint=hint)
            return None
        finally:
            self._loader.dispose()
        return node

    def problem(self, code: Code, message: str, span: Span | None, **extra: Any) -> None:
        self.diagnostics.append(error(code, message, span, **extra))

    def mark_span(self, mark: Any) -> Span | None:
        if mark is None:
            return None
        return self.source.span(self._offset(mark))

    def _offset(self, mark: Any) -> int:
        return self.source.offset_of_line(int(mark.line) + 1) + int(mark.column)

    def span(self, node: Node) -> Span:
        """The node's text; a block that runs over several lines is marked on its first line only."""
        start = self._offset(node.start_mark)
        end = self._offset(node.end_mark)
        line_end = self.source.text.find("\n", start)
        if line_end != -1 and end > line_end:
            end = line_end
        end = max(end, start + 1) if start < len(self.source.text) else start
        return self.source.span(start, min(end, len(self.source.text)))

    def value(self, node: Node) -> Any:
        """The node's value as the facts loader reads it, or INVALID (with a diagnostic)."""
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            span = self.span(node) if isinstance(node, ScalarNode) else self.mark_span(exc.problem_mark)
            self.problem(
                Code.FACTS_ERROR,
                f"invalid value: {exc.problem or exc}",
                span or self.span(node),
                hint=_PLAIN_VALUES,
            )
            return INVALID

    def quiet_value(self, node: Node) -> Any:
        """The node's value, or INVALID without a diagnostic (for describing a node in a message)."""
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            return INVALID

    def text(self, node: Node, what: str, hint: str | None = None) -> str | None:
        """A plain text scalar, or None with a diagnostic."""
        if isinstance(node, ScalarNode):
            value = self.value(node)
            if isinstance(value, str) and value.strip():
                return value
            if value is INVALID:
                return None
        self.problem(
            Code.TYPE_MISMATCH,
            f"{what} must be a text, not {describe(node, self)}",
            self.span(node),
            hint=hint or "write it as text; quote it if YAML reads it as something else",
        )
        return None

    def items(self, node: Node, what: str, hint: str) -> list[Node] | None:
        """The items of a sequence node, or None with a diagnostic."""
        if self.foreign(node):
            return None
        if isinstance(node, SequenceNode):
            return list(node.value)
        self.problem(Code.FACTS_ERROR, f"{what} must be a list, not {describe(node, self)}", self.span(node), hint=hint)
        return None

    def pairs(self, node: Node, what: str, hint: str) -> list[tuple[str, Node, Node]] | None:
        """(key, key node, value node) of a mapping node whose keys are texts, each once; `<<: *anchor`
        merges are applied first (their keys may be overridden). None with a diagnostic when the
        node is not a mapping."""
        if self.foreign(node):
            return None
        if not isinstance(node, MappingNode):
            self.problem(
                Code.FACTS_ERROR, f"{what} must be a mapping, not {describe(node, self)}", self.span(node), hint=hint
            )
            return None
        own = {id(key) for key, _ in node.value}
        try:
            self._loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            self.problem(Code.FACTS_ERROR, f"invalid merge: {exc.problem}", self.mark_span(exc.problem_mark))
            return None
        found: dict[str, tuple[str, Node, Node]] = {}
        first: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node) if isinstance(key_node, ScalarNode) else INVALID
            if not isinstance(key, str):
                if key is not INVALID or not isinstance(key_node, ScalarNode):
                    self.problem(
                        Code.FACTS_ERROR,
                        f"a key of {what} must be a name, not {describe(key_node, self)}",
                        self.span(key_node),
                    )
                continue
            if key in first and id(key_node) in own and id(first[key]) in own:
                self.problem(
                    Code.DUPLICATE_NAME,
                    f"`{key}` is given twice in {what}",
                    self.span(key_node),
                    labels=(Label(self.span(first[key]), "first given here"),),
                    hint="give each key once",
                )
                continue
            first.setdefault(key, key_node)
            if key in found and id(key_node) not in own:
                continue  # a merged key never overrides one the mapping writes itself
            found[key] = (key, key_node, value_node)
        return list(found.values())

    def foreign(self, node: Node) -> bool:
        """Whether the node has a tag the facts loader refuses (`!!python/tuple`); if so, says so."""
        tag = foreign_tag(node.tag)
        if tag is not None:
            self.problem(Code.FACTS_ERROR, f"the tag `{tag}` is not allowed", self.span(node), hint=_PLAIN_VALUES)
        return tag is not None

    def unknown_keys(self, pairs: list[tuple[str, Node, Node]], allowed: list[str], where: str) -> int:
        """An `unknown-name` diagnostic for each key that is not one of `allowed`; how many there were."""
        unknown = [(key, key_node) for key, key_node, _ in pairs if key not in allowed]
        for key, key_node in unknown:
            self.problem(
                Code.UNKNOWN_NAME,
                f"unknown key `{key}` in {where}",
                self.span(key_node),
                hint=did_you_mean(key, allowed) or "the keys are " + ", ".join(f"`{k}`" for k in allowed),
            )
        return len(unknown)


def describe(node: Node, document: YamlDocument) -> str:
    """What a node is, in words: `a list`, `a mapping`, `null`, `the number 3`, `the text "x"`."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    value = document.quiet_value(node)
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {spell(value)}"
    if isinstance(value, str):
        return "an empty text" if not value.strip() else f'the text "{value}"'
    return f"`{node.value}`" if isinstance(node, ScalarNode) else "a value"
