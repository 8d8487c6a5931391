"""A folder of compiled policies, keyed by everything that went into compiling them, that a process
loads in a fraction of the time compiling takes (issue 14): `load(path, cache_dir=...)`, the
`POLICYLANG_COMPILE_CACHE` environment variable, `--cache-dir` on the commands that load.

An entry is a pickled Policy (evaluator.py), so reading one runs code: only a folder the user names
is ever read, never a default one, and an entry not owned by the user or writable by others is
ignored. The key is a SHA-256 of the policylang build (core.version.build_id: its version and the
digest of its own files), the policy file's resolved path, its text, the name it is loaded under, the
working directory (imported files are named relative to it), the import root, the standard
library's folder and the options (`unknown_facts`). An entry holds its own key (one renamed or
linked to another entry's name, by mistake or by someone who may write the folder, is another
policy's and is not used) and records every imported file with
the digest of its text and how each import resolved; a hit is used only when all are still so.
A missing, stale, unreadable or corrupt entry is compiled again (a corrupt one with a
CompileCacheWarning), and written anew; one that cannot be written (a read-only folder, a full
disk) is not, with a warning. Entries are written to a temporary file in the folder and renamed,
so a reader never sees half of one, and two processes that compile at once both write a whole one.
Only a policy without errors is cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.diagnostics import Code
from ..core.errors import PolicylangError, UsageError
from ..core.version import build_id
from ..semantics.modules import Module
from ..semantics.stdlib import stdlib_dir
from ..syntax import nodes as n

if TYPE_CHECKING:  # the evaluator loads networkx and pydantic; see loading.py
    from .evaluator import Policy

ENVIRONMENT = "POLICYLANG_COMPILE_CACHE"
"""The environment variable naming a compile cache folder, for `load` calls and commands given none."""

_MAGIC = b"policylang compiled policy 2\n"
"""Format 2: an entry holds its own key, so that one renamed or linked to another name is not used."""
_Manifest = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str], ...]]
"""((imported file, SHA-256 of its text), ...), ((importing file's folder, import path, resolved file), ...)."""


class CompileCacheWarning(PolicylangError, UserWarning):
    """A compile cache entry could not be used (corrupt, or not the user's own) or written: the
    policy was compiled instead, and the decision is the same; the cache is only slower.
    (A PolicylangError, as every warning and error policylang gives on purpose.)"""

    code = Code.IO_ERROR


def cache_folder(cache_dir: str | Path | None) -> Path | None:
    """The folder `load` caches in: `cache_dir`, else $POLICYLANG_COMPILE_CACHE, else none. A
    `cache_dir` that is not a path, or is empty (which would be the working directory), is the
    caller's mistake: UsageError, before any work is done."""
    if cache_dir is not None:
        if not isinstance(cache_dir, str | os.PathLike) or not os.fspath(cache_dir):
            raise UsageError(
                f"the compile cache (`cache_dir=`, `--cache-dir`) must be a folder's path, got {cache_dir!r}; "
                "leave it out to cache nowhere"
            )
        return Path(cache_dir)
    named = os.environ.get(ENVIRONMENT)
    return Path(named) if named else None


def cache_key(path: str | Path, name: str, text: str, import_root: str | Path | None, options: Iterable[str]) -> str:
    """The entry's name: a digest of everything besides the imported files that compiling reads."""
    digest = hashlib.sha256()
    for part in (
        build_id(),
        str(Path(path).resolve()),
        name,
        os.getcwd(),
        "" if import_root is None else str(Path(import_root).resolve()),
        str(stdlib_dir()),
        *options,
        text,
    ):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def manifest(modules: Iterable[Module], root_key: str) -> _Manifest:
    """What an entry must find unchanged besides its key: the imported files' texts, and where each
    file import resolves (a symbolic link pointed elsewhere changes it without changing a text)."""
    files: list[tuple[str, str]] = []
    imports: list[tuple[str, str, str]] = []
    for module in modules:
        if module.key != root_key:
            files.append((module.key, _digest(module.parsed.source.text)))
        for item in module.tree.items:
            if isinstance(item, n.Import) and item.path is not None:
                resolved = str((module.directory / item.path).resolve())
                imports.append((str(module.directory), item.path, resolved))
    return tuple(files), tuple(imports)


def cached(folder: Path, key: str, compile_policy: Callable[[], tuple[Policy, _Manifest]]) -> Policy:
    """The policy of entry `key` in `folder` when it is there and current; otherwise the one
    `compile_policy()` gives (which raises for a policy with errors), stored under `key`."""
    entry = folder / f"{key}.policy-cache"
    policy = _read(entry, key)
    if policy is not None:
        return policy
    policy, found = compile_policy()
    _write(folder, entry, key, policy, found)
    return policy


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _read(entry: Path, key: str) -> Policy | None:
    try:
        # Without blocking: a FIFO (or a link to one) in an entry's place would wait for a writer forever.
        with os.fdopen(os.open(entry, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                _warn(f"ignored {entry}: not a regular file")
                return None
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
                _warn(f"ignored {entry}: it is not owned by you, or others may write it")
                return None
            if handle.read(len(_MAGIC)) != _MAGIC:
                _warn(f"ignored {entry}: not a compile cache entry of this policylang")
                return None
            data = handle.read()
    except (FileNotFoundError, NotADirectoryError):  # not cached yet
        return None
    except OSError as exc:
        _warn(f"cannot read {entry} ({exc.strerror or exc}); compiling the policy")
        return None
    from .evaluator import Policy  # deferred: start-up (the evaluator loads networkx and pydantic)

    try:
        # The folder was named by the user, and the entry is theirs and not writable by others:
        # trusted as their own files are (the module's docstring).
        held, found, policy = pickle.loads(data)
        if held != key:  # renamed, copied or linked from another entry: another policy, or another version
            raise ValueError("it is the entry of another policy or version (renamed or linked here)")
        if not isinstance(policy, Policy):
            raise TypeError(f"it holds a {type(policy).__name__}, not a compiled policy")
        current = _current(found)
    except Exception as exc:  # a truncated or garbled entry, one of another build, or not an entry at all
        _warn(f"ignored {entry}: it cannot be read back ({type(exc).__name__}: {exc}); compiling the policy")
        return None
    return policy if current else None


def _current(found: _Manifest) -> bool:
    """Whether every imported file still has the text it had, and every import resolves as it did."""
    files, imports = found
    for folder, import_path, resolved in imports:
        try:
            if str((Path(folder) / import_path).resolve()) != resolved:
                return False
        except (OSError, RuntimeError, ValueError):
            return False
    for key, digest in files:
        try:
            text = Path(key).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        if _digest(text) != digest:
            return False
    return True


def _write(folder: Path, entry: Path, key: str, policy: Policy, found: _Manifest) -> None:
    try:
        data = pickle.dumps((key, found, policy), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a policy that cannot be pickled (one with a decision log is never passed here)
        _warn(f"cannot cache the compiled policy ({type(exc).__name__}: {exc})")
        return
    temporary = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".partial")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_MAGIC)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, entry)
        temporary = None
    except OSError as exc:
        _warn(f"cannot write the compile cache entry in {folder} ({exc.strerror or exc}); the policy is not cached")
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):  # already gone
                os.unlink(temporary)


def _warn(message: str) -> None:
    warnings.warn(CompileCacheWarning(message), stacklevel=4)
