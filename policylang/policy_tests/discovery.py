"""Which test files the paths of `policy test` name: a test file, a policy (its `NAME.test.yaml`),
or a folder (every `*.test.yaml` below it, sorted; hidden folders and virtual environments skipped)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..core.diagnostics import Code, Diagnostic, error
from .suite import TEST_SUFFIX

_SKIPPED = {"__pycache__", "node_modules"}
_HINT = f"a test file `NAME{TEST_SUFFIX}` beside `NAME.policy` holds its cases (see docs/testing.md)"


def find_test_files(paths: Sequence[str]) -> tuple[list[str], list[Diagnostic]]:
    """The test files, each once, in the order named; and an `io-error` for each path that names
    none (a missing path, a policy without a test file, a folder without test files)."""
    found: list[str] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        if os.path.isdir(raw):
            below, unreadable = _walk(raw)
            if not below and not unreadable:
                problems.append(error(Code.IO_ERROR, f"no test files (`*{TEST_SUFFIX}`) in `{raw}`", None, hint=_HINT))
            found.extend(below)
            problems.extend(error(Code.IO_ERROR, f"cannot read the folder `{u}`", None) for u in unreadable)
        elif raw.endswith(".policy") and not raw.endswith(TEST_SUFFIX):
            test_file = raw[: -len(".policy")] + TEST_SUFFIX
            if os.path.isfile(test_file):
                found.append(test_file)
            elif not os.path.exists(raw):
                problems.append(error(Code.IO_ERROR, f"cannot read `{raw}`: no such file", None))
            else:
                problems.append(
                    error(Code.IO_ERROR, f"`{raw}` has no test file: `{test_file}` does not exist", None, hint=_HINT)
                )
        elif os.path.exists(raw):
            found.append(raw)
        else:
            problems.append(error(Code.IO_ERROR, f"cannot read `{raw}`: no such file or folder", None))
    unique: dict[str, str] = {}
    for path in found:
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values()), problems


def _walk(folder: str) -> tuple[list[str], list[str]]:
    found: list[str] = []
    unreadable: list[str] = []

    def note(exc: OSError) -> None:
        unreadable.append(str(exc.filename))

    for here, dirs, files in os.walk(folder, onerror=note):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIPPED
            and not os.path.exists(os.path.join(here, d, "pyvenv.cfg"))  # a virtual environment
        )
        found.extend(os.path.normpath(os.path.join(here, f)) for f in sorted(files) if f.endswith(TEST_SUFFIX))
    return found, unreadable
