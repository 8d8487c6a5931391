"""YAML read the way JSON reads, for facts and test files: exact numbers, no YAML 1.1 surprises."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any


def exact_yaml_loader() -> Any:
    """A SafeLoader that reads YAML the way JSON reads: numbers exactly (decimals, not binary floats),
    and without YAML 1.1's surprises: `012` is twelve, not octal ten; `3:00` is text, not 180;
    `yes`, `no`, `on`, `off` are text (only `true` and `false` are booleans)."""
    import yaml

    loader = _EXACT_LOADER.get("loader")
    if loader is not None:
        return loader

    class ExactLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
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
    ExactLoader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: int(node.value))
    ExactLoader.add_constructor("tag:yaml.org,2002:float", lambda loader, node: Decimal(node.value))
    _EXACT_LOADER["loader"] = ExactLoader
    return ExactLoader


_EXACT_LOADER: dict[str, Any] = {}


def _timestamp_or_text(loader: Any, node: Any) -> Any:
    """A date or time as YAML reads it; an impossible one (`2026-02-30`) stays text, so that the
    fact's own check reports it with its name instead of the YAML reader failing on it."""
    import yaml

    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value
