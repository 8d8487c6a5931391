"""Loads a policy file and everything it imports: parsed modules in dependency order, import diagnostics."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.diagnostics import Code, Diagnostic, Label, did_you_mean, error
from ..core.source import SourceFile
from ..syntax import nodes as n
from ..syntax.parser import ParseResult, parse
from .stdlib import find_stdlib_module, stdlib_module_names

MAX_IMPORT_DEPTH = 64


@dataclass
class Module:
    """One parsed file of a policy. `prefix` qualifies its rule ids and derived keys ("" for the root)."""

    key: str
    prefix: str
    parsed: ParseResult
    directory: Path
    imports: dict[str, str] = field(default_factory=dict)
    legacy_prefix: str = ""
    """The prefix policylang 0.1 gave this file, whose anonymous rules' ids (`prefix:line`) old
    decision records hold; it differs from `prefix` only where the root's name is taken (below)."""

    @property
    def name(self) -> str:
        return self.parsed.source.name

    @property
    def tree(self) -> n.PolicyFile:
        return self.parsed.tree


def read_text(path: Path) -> str:
    """Read a policy file as UTF-8. Raises OSError or UnicodeDecodeError; callers turn them into diagnostics."""
    data = path.read_bytes()
    return data.decode("utf-8")


def display_name(path: Path) -> str:
    """A path as shown in diagnostics: relative to the working directory when it is below it."""
    try:
        rel = os.path.relpath(path)
    except (ValueError, OSError):  # another drive; or no working directory (it was deleted)
        return str(path)
    return str(path) if rel.startswith("..") else rel


def decode_error(name: str, data_error: UnicodeDecodeError, text: bytes) -> Diagnostic:
    """A diagnostic pointing at the first byte that is not UTF-8."""
    prefix = text[: data_error.start].decode("utf-8", errors="replace")
    source = SourceFile(name, prefix + "?")
    return error(
        Code.IO_ERROR,
        "the file is not UTF-8 text",
        source.span(len(prefix)),
        label=f"byte 0x{text[data_error.start]:02x} here",
        hint="save the policy as UTF-8; a binary file cannot be a policy",
    )


Snapshot = dict[str, Any]
"""A policy's files as they were loaded, JSON-ready: {"root": key, "modules": {key: {"name", "text",
"imports": {alias: key}}}}. Loading from a snapshot reads no file, so a logged decision replays
with the policy version that made it after the files have changed (decision_log.py)."""


def snapshot_of(modules: list[Module]) -> Snapshot:
    return {
        "root": modules[-1].key,
        "modules": {m.key: {"name": m.name, "text": m.parsed.source.text, "imports": dict(m.imports)} for m in modules},
    }


class _Loader:
    def __init__(self, snapshot: Snapshot | None, import_root: Path) -> None:
        self.snapshot = snapshot
        self.import_root = import_root
        self.modules: dict[str, Module] = {}
        self.order: list[str] = []
        self.diagnostics: list[Diagnostic] = []
        self.prefixes: set[str] = {""}
        self.legacy_prefixes: set[str] = {""}

    def add(self, module: Module, chain: tuple[str, ...]) -> None:
        self.modules[module.key] = module
        seen_aliases: dict[str, n.Import] = {}
        for item in module.tree.items:
            if not isinstance(item, n.Import):
                continue
            alias = item.alias or (item.module[-1] if item.module else _stem(item.path or ""))
            if alias in seen_aliases:
                self.diagnostics.append(
                    error(
                        Code.DUPLICATE_NAME,
                        f"two imports are both called `{alias}`",
                        item.span,
                        labels=(Label(seen_aliases[alias].span, "first import here"),),
                        hint=f"give one of them another name with `as`, such as `as {alias}_2`",
                    )
                )
                continue
            seen_aliases[alias] = item
            target = self.resolve(item, module)
            if target is None:
                continue
            key = str(target)
            if key in chain or key == module.key:
                path_names = [self.modules[k].name for k in (*chain, module.key) if k in self.modules]
                start = path_names.index(self.modules[key].name) if key in self.modules else 0
                cycle = " -> ".join([*path_names[start:], self.modules[key].name])
                self.diagnostics.append(
                    error(
                        Code.CYCLE,
                        f"import cycle: {cycle}",
                        item.span,
                        hint="move what both files need into a third file that both import",
                    )
                )
                continue
            if len(chain) >= MAX_IMPORT_DEPTH:
                self.diagnostics.append(
                    error(Code.IMPORT_ERROR, f"imports nest more than {MAX_IMPORT_DEPTH} files deep", item.span)
                )
                continue
            module.imports[alias] = key
            if key not in self.modules:
                child = self.load_file(target, item)
                if child is None:
                    module.imports.pop(alias)
                    continue
                self.add(child, (*chain, module.key))
        self.order.append(module.key)

    def resolve(self, item: n.Import, module: Module) -> Path | None:
        if self.snapshot is not None:
            alias = item.alias or (item.module[-1] if item.module else _stem(item.path or ""))
            stored = self.snapshot["modules"].get(module.key, {}).get("imports", {}).get(alias)
            if stored is None or stored not in self.snapshot["modules"]:
                self.diagnostics.append(
                    error(Code.IMPORT_ERROR, f"the stored policy has no file for `{item.target}`", item.span)
                )
                return None
            return Path(stored)
        if item.module is not None:
            if item.module[0] != "stdlib" or len(item.module) != 2:
                self.diagnostics.append(
                    error(
                        Code.IMPORT_ERROR,
                        f"unknown module `{item.target}`",
                        item.span,
                        hint="import the standard library as `stdlib.NAME`, and your own files by path: "
                        '`import "rules.policy"`',
                    )
                )
                return None
            found = find_stdlib_module(item.module[1])
            if found is None:
                names = stdlib_module_names()
                hint = did_you_mean(item.module[1], names)
                hint = hint.replace("`", "`stdlib.", 1) if hint else None
                self.diagnostics.append(
                    error(
                        Code.IMPORT_ERROR,
                        f"the standard library has no module `{item.module[1]}`",
                        item.span,
                        hint=hint or "available: " + ", ".join(f"`stdlib.{m}`" for m in names),
                    )
                )
                return None
            return found.resolve()
        try:
            path = (module.directory / (item.path or "")).resolve()
            outside = not path.is_relative_to(self.import_root)
            exists = not outside and path.exists()
            regular = exists and path.is_file()
        except (ValueError, OSError, RuntimeError) as exc:  # a NUL byte, a name too long, a symlink loop
            self.diagnostics.append(
                error(Code.IMPORT_ERROR, f"`{item.path}` is not a usable file path ({exc})", item.span)
            )
            return None
        if outside:
            # Nothing about the file is looked at, not even whether it exists: an import must not
            # become a way to probe or quote files (`import "/etc/passwd"`).
            self.diagnostics.append(
                error(
                    Code.IMPORT_ERROR,
                    f"`{item.path}` is outside the import root `{self.import_root}`",
                    item.span,
                    hint="a policy imports files in its own folder and below; to allow more, widen the root "
                    "with `--import-root DIR` (`import_root=` in the API)",
                )
            )
            return None
        if not path.name.endswith(".policy"):
            self.diagnostics.append(
                error(
                    Code.IMPORT_ERROR,
                    f"`{item.path}` is not a policy file",
                    item.span,
                    hint="imports name `.policy` files; the standard library is `import stdlib.NAME`",
                )
            )
            return None
        if exists and not regular:
            what = "a folder" if path.is_dir() else "not a regular file (a pipe, a device or a socket)"
            self.diagnostics.append(
                error(
                    Code.IMPORT_ERROR,
                    f"`{item.path}` is {what}",
                    item.span,
                    hint="import a `.policy` file",
                )
            )
            return None
        if not exists:
            # Candidates are written the way the import writes them: relative to the importing file.
            folder = path.parent
            prefix = str(Path(item.path or "").parent)
            prefix = "" if prefix == "." else prefix + "/"
            siblings = [prefix + p.name for p in folder.glob("*.policy") if p.is_file()] if folder.is_dir() else []
            hint = did_you_mean(item.path or "", siblings)
            self.diagnostics.append(
                error(
                    Code.IMPORT_ERROR,
                    f"cannot find `{item.path}`",
                    item.span,
                    hint=hint or f"paths are relative to the importing file (looked for {display_name(path)})",
                )
            )
            return None
        return path

    def load_file(self, path: Path, item: n.Import) -> Module | None:
        name = display_name(path)
        if self.snapshot is not None:
            stored = self.snapshot["modules"][str(path)]
            return self._module(path, stored["name"], stored["text"])
        try:
            data = _read_regular_file(path)
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.diagnostics.append(decode_error(name, exc, data))
            self.diagnostics.append(
                error(Code.IMPORT_ERROR, f"cannot import `{name}`: it is not UTF-8 text", item.span)
            )
            return None
        except OSError as exc:
            self.diagnostics.append(error(Code.IMPORT_ERROR, f"cannot read `{name}`: {exc.strerror or exc}", item.span))
            return None
        return self._module(path, name, text)

    def _module(self, path: Path, name: str, text: str) -> Module:
        stem = _stem(path.name)
        prefix, legacy_prefix = _unique(stem, self.prefixes), _unique(stem, self.legacy_prefixes)
        return Module(str(path), prefix, parse(text, name), path.parent, legacy_prefix=legacy_prefix)


def _unique(base: str, taken: set[str]) -> str:
    """`base`, or `base_2`, `base_3`... whichever is free; it is taken then."""
    prefix, counter = base, 2
    while prefix in taken:
        prefix, counter = f"{base}_{counter}", counter + 1
    taken.add(prefix)
    return prefix


def load(
    text: str,
    filename: str,
    directory: Path | None = None,
    snapshot: Snapshot | None = None,
    import_root: Path | None = None,
) -> tuple[list[Module], list[Diagnostic]]:
    """Parse `text` (the root file) and, transitively, its imports (from `snapshot` when given,
    instead of the file system).

    Returns the modules with every import before its importer (the root last) and the diagnostics
    of parsing and importing. A module imported twice (a diamond) is loaded once. Imported files
    must lie under `import_root` (after following symbolic links); it defaults to the root file's
    folder (`directory`), or the working directory for text without a file. The standard library
    is always importable.
    """
    if directory is None:
        directory = Path(filename).resolve().parent if filename and not filename.startswith("<") else Path.cwd()
    loader = _Loader(snapshot, Path(import_root or directory).resolve())
    # The root's anonymous rules are `STEM#N`: an imported file of the same name gets another prefix
    # (`fraud_2#1`), or the first anonymous rules of both would have the same id.
    loader.prefixes.add(filename.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".policy"))
    root_key = str(Path(filename).resolve()) if filename and not filename.startswith("<") else filename
    if snapshot is not None:
        root_key = snapshot["root"]
    root = Module(key=root_key, prefix="", parsed=parse(text, filename), directory=directory)
    loader.add(root, ())
    modules = [loader.modules[k] for k in loader.order]
    diagnostics = [d for m in modules for d in m.parsed.diagnostics] + loader.diagnostics
    return modules, diagnostics


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file. Opened without blocking, so that a file swapped for a pipe after
    `resolve` looked at it is refused (OSError) instead of waiting for a writer forever."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        with os.fdopen(fd, "rb") as handle:
            fd = -1  # the handle owns it now
            return handle.read()
    finally:
        if fd != -1:
            os.close(fd)


def _stem(path: str) -> str:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return base[: -len(".policy")] if base.endswith(".policy") else base.rsplit(".", 1)[0]
