"""YAML read the way JSON reads, for facts and test files: exact numbers, no YAML 1.1 surprises.

libyaml's C parser reads the text where PyYAML was built with it (about ten times as fast as the
pure-Python parser); the resolvers and constructors that give values their meaning are the same
Python code either way, so both loaders give the same values (a property test compares them).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

MAX_NESTING = 100
"""Lists and mappings in facts and test files nest at most this deep (the top-level mapping counts as
one); deeper input is refused before anything recurses through it."""

MAX_REPEATED_VALUES = 100_000
"""YAML aliases (`*name`) in facts and test files repeat at most this many values in all."""

MAX_INT_TEXT_DIGITS = 101
"""An int read from YAML or JSON with more digits than this (beyond any int a fact may have) is read
as an exact decimal, so that the fact's check says it is too large instead of Python's int parser
failing on it (it refuses more than 4,300 digits) or spending time on it."""


def whole_number(text: str) -> int | Decimal:
    """The number a text of digits (`-12`, `+7`, `0012`) means: an int, or a Decimal past 101 digits."""
    if len(text) > MAX_INT_TEXT_DIGITS and len(text.lstrip("+-").lstrip("0")) > MAX_INT_TEXT_DIGITS:
        return Decimal(text)
    return int(text)


def exact_yaml_loader(pure: bool = False) -> Any:
    """A safe loader that reads YAML the way JSON reads: numbers exactly (decimals, not binary floats),
    and without YAML 1.1's surprises: `012` is twelve, not octal ten; `3:00` is text, not 180;
    `yes`, `no`, `on`, `off` are text (only `true` and `false` are booleans); no `!!python/...` tags.

    It is built on libyaml's C parser when PyYAML has it (`pure=False`), else on the pure-Python
    one. Lists and mappings nesting deeper than MAX_NESTING, and aliases repeating more than
    MAX_REPEATED_VALUES values, raise the error `nesting_error()` gives.
    """
    return _exact_loader(pure or not _has_libyaml())


def _has_libyaml() -> bool:
    import yaml  # deferred: start-up (PyYAML: `policy check` never reads YAML)

    return bool(getattr(yaml, "__with_libyaml__", False)) and hasattr(yaml, "CSafeLoader")


@functools.cache
def nesting_error() -> Any:
    """The error of a YAML text nesting too deep: a MarkedYAMLError (so that every reader of YAML
    already handles it) that readers can tell apart to report it as a limit."""
    import yaml  # deferred: start-up (PyYAML)

    class NestingTooDeep(yaml.MarkedYAMLError):
        def __init__(self, mark: Any, repeated: bool = False) -> None:
            self.repeated = repeated
            problem = (
                f"aliases repeat more than {MAX_REPEATED_VALUES:,} values"
                if repeated
                else f"lists and mappings nest deeper than {MAX_NESTING} levels"
            )
            super().__init__(None, None, problem, mark)

    return NestingTooDeep


@functools.cache
def _exact_loader(pure: bool) -> Any:
    import yaml  # deferred: start-up (PyYAML)

    base: Any = yaml.SafeLoader if pure else yaml.CSafeLoader
    too_deep = nesting_error()

    class ExactLoader(base):  # type: ignore[misc]  # a base chosen at run time
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            # The pure-Python composer recurses once per level: stop before Python's stack does.
            # (libyaml's composer is C code and stops by itself at 1,000 levels.)
            if self._depth >= MAX_NESTING and self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
                raise too_deep(self.peek_event().start_mark)  # a list or mapping one level too deep
            self._depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def __init__(self, stream: Any) -> None:
            self._text = stream
            super().__init__(stream)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            # An empty node tagged only `!` (`a: !`): libyaml asks with (False, False), the pure
            # parser with (True, False), which reads it as null. Asked the pure parser's way, both
            # loaders read it alike. No other node reaches here with an empty value and (False, False).
            if not pure and value == "" and kind is yaml.ScalarNode and implicit == (False, False):
                implicit = (True, False)
            return super().resolve(kind, value, implicit)

        def get_single_node(self) -> Any:
            try:
                node = super().get_single_node()
            except too_deep:
                raise
            except yaml.MarkedYAMLError as exc:
                if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit
                    raise too_deep(exc.problem_mark) from None
                if pure or (node := _pure_reading(self._text)) is _TOO_LARGE:
                    raise
            except yaml.YAMLError:
                if pure or (node := _pure_reading(self._text)) is _TOO_LARGE:
                    raise
            if node is not None:
                check_nodes(node)
            return node

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag in _KEY_TAGS:
                    continue  # `<<: *base` merges a mapping in (its keys may be overridden), `=` is a value
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, Hashable):
                    break  # a list or mapping as a key: PyYAML's own check below says "found unhashable key"
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the fact `{key}` is given twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    resolvers = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [
            (tag, regexp)
            for tag, regexp in entries
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        ]
        resolvers[first] = kept
    ExactLoader.yaml_implicit_resolvers = resolvers
    ExactLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    ExactLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
    ExactLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
        list("-+0123456789."),
    )
    ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)
    ExactLoader.add_constructor(None, _undefined_tag)
    ExactLoader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: whole_number(node.value))
    ExactLoader.add_constructor("tag:yaml.org,2002:float", lambda loader, node: Decimal(node.value))
    return ExactLoader


PURE_ERROR_TEXT = 64 * 1024
"""A malformed YAML text up to this size is read again by the pure-Python parser, for its message."""


_TOO_LARGE = object()
"""What `_pure_reading` returns for a text too large to read again: libyaml's own error stands."""


def _pure_reading(text: Any) -> Any:
    """The pure-Python parser's reading of a text libyaml refused: its node when it reads the text
    (libyaml refuses a few documents the pure parser reads, such as `[a:]`, and facts must not
    depend on which parser PyYAML has), else its error, whose messages say what it found where
    (`expected ',' or '}', but got ':'`) and stay the same whichever parser PyYAML has. Only a text
    libyaml refused pays for the second reading, and only one of up to 64 KB (the pure parser reads
    about 100 KB a second): a larger one keeps libyaml's message."""
    import yaml  # deferred: start-up (PyYAML)

    if not isinstance(text, str) or len(text) > PURE_ERROR_TEXT:
        return _TOO_LARGE
    try:
        return _exact_loader(True)(text).get_single_node()
    except yaml.YAMLError as exc:
        raise exc from None


def check_nodes(root: Any) -> None:
    """Check a composed document before any value is made of it, without recursion.

    Raises `nesting_error()` at the first list or mapping that lies deeper than MAX_NESTING below
    the root, counting through aliases (a list inside itself, `&a [*a]`, is infinitely deep), or
    where aliases (`*a`) have repeated more than MAX_REPEATED_VALUES values in all (a few lines of
    aliases of aliases can stand for billions of values).

    Level by level; it stops at either limit, so it costs time in the number of nodes written plus
    at most MAX_REPEATED_VALUES, never in the number the aliases stand for.
    """
    from yaml.nodes import MappingNode, ScalarNode  # deferred: start-up (PyYAML)

    level = [root]
    seen: set[int] = set()
    repeated = 0
    depth = 0
    while level:
        depth += 1
        below: list[Any] = []
        for node in level:
            if node.__class__ is ScalarNode:
                continue
            if depth > MAX_NESTING:
                raise nesting_error()(node.start_mark)
            children = [part for pair in node.value for part in pair] if node.__class__ is MappingNode else node.value
            if id(node) in seen:
                repeated += 1 + len(children)
                if repeated > MAX_REPEATED_VALUES:
                    raise nesting_error()(node.start_mark, repeated=True)
            else:
                seen.add(id(node))
            below += children
        level = below


def foreign_tag(tag: str | None) -> str | None:
    """A tag the exact loader has no constructor for, as written (`!!python/tuple`, `!custom`), or None."""
    if tag is None or tag in _exact_loader(True).yaml_constructors or tag in _KEY_TAGS:
        return None
    return "!!" + tag.removeprefix(_STANDARD) if tag.startswith(_STANDARD) else tag


_STANDARD = "tag:yaml.org,2002:"
_KEY_TAGS = (_STANDARD + "merge", _STANDARD + "value")
"""Tags of mapping keys that have no constructor of their own: `<<` merges a mapping in, `=` is a value."""


def _undefined_tag(loader: Any, node: Any) -> Any:
    """A tag YAML's safe loader does not know: refused by name, where it is written."""
    import yaml  # deferred: start-up (PyYAML)

    raise yaml.constructor.ConstructorError(
        None, None, f"the tag `{foreign_tag(node.tag) or node.tag}` is not allowed", node.start_mark
    )


def _timestamp_or_text(loader: Any, node: Any) -> Any:
    """A date or time as YAML reads it; an impossible one (`2026-02-30`) stays text, so that the
    fact's own check reports it with its name instead of the YAML reader failing on it."""
    import yaml  # deferred: start-up (PyYAML)

    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value
