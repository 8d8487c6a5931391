"""Command-line arguments that name policy files: folders expand to the `.policy` files below them."""

from __future__ import annotations

from pathlib import Path


def expand_policy_paths(paths: tuple[str, ...]) -> list[str]:
    """Each argument as given, except that a folder becomes its `*.policy` files (sorted, recursive)."""
    expanded: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            expanded.extend(str(p) for p in sorted(path.rglob("*.policy")))
        else:
            expanded.append(raw)
    return expanded
