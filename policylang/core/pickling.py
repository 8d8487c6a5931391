"""Quicker pickling for the frozen, slotted dataclasses a compiled policy is made of.

A pickled `Policy` carries its checked tree (tens of thousands of small frozen dataclasses at 10,000
rules: syntax nodes, checked expressions, spans, types). The `__setstate__` that `dataclass(slots=True)`
writes calls `dataclasses.fields()` for every object it restores, which was nine tenths of
unpickling one; these read and write the slots through their descriptors instead. The state is the
same list of field values in field order, so a pickle written either way loads either way, except
that a memoised hash (`_hash`, typed_tree's `_memo_hash`) is never carried: a str's hash differs from
one process to the next, so a hash kept from the pickling process would be wrong in the loading one.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from typing import Any


def pickle_slots_quickly(namespace: Mapping[str, Any]) -> None:
    """Give every frozen, slotted dataclass defined in a module (`globals()`, called at the module's
    end) the quicker `__getstate__` / `__setstate__`."""
    module = namespace["__name__"]
    for value in list(namespace.values()):
        if (
            isinstance(value, type)
            and value.__module__ == module
            and dataclasses.is_dataclass(value)
            and "__slots__" in value.__dict__
        ):
            _install(value)


def _install(cls: type) -> None:
    names = tuple(f.name for f in dataclasses.fields(cls))
    memo = names.index("_hash") if "_hash" in names else -1
    setters: tuple[Callable[[Any, Any], None], ...] = tuple(_slot(cls, name).__set__ for name in names)
    read: Callable[[Any], Any] = operator.attrgetter(*names) if names else (lambda self: ())

    def __getstate__(self: Any) -> Any:
        state = read(self)
        values = list(state) if len(names) != 1 else [state]
        if memo >= 0:
            values[memo] = None  # computed again, in this process, when first needed
        return values

    def __setstate__(self: Any, state: list[Any]) -> None:
        for write, value in zip(setters, state, strict=True):
            write(self, value)

    setattr(cls, "__getstate__", __getstate__)  # noqa: B010 - a method replaced on a class mypy checks
    setattr(cls, "__setstate__", __setstate__)  # noqa: B010


def _slot(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    raise AttributeError(name)  # pragma: no cover - every field of a slotted dataclass is a slot
