"""Command-line arguments that name policy files: folders expand to the `.policy` files below them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click


def expand_policy_paths(paths: tuple[str, ...]) -> list[str]:
    """Each argument as given, except that a folder becomes its `*.policy` files (sorted, recursive).

    A folder that cannot be read stays in the list as itself, so that reading it fails loudly
    (io-error, exit 2) instead of its policies being skipped in silence.
    """
    expanded: list[str] = []
    for raw in paths:
        path = Path(raw)
        if raw and path.is_dir():
            unreadable: list[str] = []
            found: list[str] = []
            for folder, _dirs, files in os.walk(path, onerror=_collect(unreadable)):
                found.extend(os.path.join(folder, f) for f in files if f.endswith(".policy"))
            expanded.extend(sorted(found))
            expanded.extend(unreadable)
        else:
            expanded.append(raw)
    return expanded


def _collect(unreadable: list[str]) -> Callable[[OSError], None]:
    """An os.walk error handler that remembers each folder it could not read."""

    def note(exc: OSError) -> None:
        unreadable.append(str(exc.filename))

    return note


import_root_option = click.option(
    "--import-root",
    "import_root",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Imported files must lie in this folder or below (default: the folder of the policy file).",
)
"""`--import-root DIR`: where imports may read files; the standard library is always importable."""


def _a_folder(context: click.Context, parameter: click.Parameter, value: str | None) -> str | None:
    """An empty `--cache-dir` would be the working directory: refused as a usage error (exit 2)."""
    if value == "":
        raise click.BadParameter("give a folder's path (an empty one would be the working directory)")
    return value


cache_dir_option = click.option(
    "--cache-dir",
    "cache_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    callback=_a_folder,
    help="Keep compiled policies in this folder and load them from it when nothing changed "
    "(or the POLICYLANG_COMPILE_CACHE environment variable). Its files are trusted like code: "
    "name a folder only you can write to.",
)
"""`--cache-dir DIR`: the compile cache (engine/compile_cache.py) of the commands that compile a policy."""
