"""Locates the shipped standard library of policies (`import stdlib.NAME`) through importlib.resources."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path


@functools.cache
def stdlib_dir() -> Path | None:
    """The folder holding `NAME.policy` files: inside the installed package, or the checkout's
    top-level `stdlib_policies/` when running from source without installing."""
    try:
        root = resources.files("policylang.stdlib_policies")
        path = Path(str(root))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    fallback = Path(__file__).resolve().parent.parent / "stdlib_policies"
    return fallback if fallback.is_dir() else None


def stdlib_module_names() -> list[str]:
    """Names importable as `stdlib.NAME`, sorted."""
    folder = stdlib_dir()
    if folder is None:
        return []
    return sorted(p.stem for p in folder.glob("*.policy"))


def find_stdlib_module(name: str) -> Path | None:
    """The file for `import stdlib.NAME`, or None."""
    folder = stdlib_dir()
    if folder is None or not name.isidentifier():
        return None
    candidate = folder / f"{name}.policy"
    return candidate if candidate.is_file() else None
