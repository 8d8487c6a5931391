"""The root of every exception policylang raises on purpose, and the one for a wrong argument; each names its `Code`."""

from __future__ import annotations

from typing import Any

from .diagnostics import Code, Diagnostic


class PolicylangError(Exception):
    """The root of every exception policylang raises on purpose: a bad policy, bad facts, a
    conflict, a decision log that cannot be used, a question or argument it cannot take. So
    `except policylang.PolicylangError` catches every failure a caller can cause, and whatever
    else escapes is a bug. It is never raised itself.

    `code` is the diagnostic code that names the failure (docs/diagnostics.md): each subclass
    declares one, and an instance may narrow it (a PolicyError takes its first error's code).
    `diagnostics` holds the diagnostics behind it when there are any, and is empty otherwise.
    Each subclass keeps the built-in base it had before this root existed (FactsError is still a
    ValueError), so that callers' older `except` clauses keep working.
    """

    code: Code
    diagnostics: tuple[Diagnostic, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass without a code is refused where it is defined, not when first raised."""
        super().__init_subclass__(**kwargs)
        if not isinstance(getattr(cls, "code", None), Code):
            raise TypeError(f"{cls.__name__} derives from PolicylangError but declares no `code` (a Code member)")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled and copied by state, not by calling `__init__` again with `args` (the message
        alone): the subclasses' constructors take diagnostics, problems or rules instead."""
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(cls: type[PolicylangError], args: tuple[Any, ...], state: dict[str, Any]) -> PolicylangError:
    """An exception of `cls` with `args` and the attributes `state`, made without its `__init__`."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class UsageError(PolicylangError, ValueError):
    """A wrong argument to a public function (`unknown_facts="maybe"`, an output the policy does
    not have, a decision traced with another policy): the caller's mistake, said before any work
    is done. A ValueError, as these were before they had a code of their own."""

    code = Code.USAGE


def require_text(text: object, filename: object, doing: str) -> None:
    """Policy text and its file name are strings: anything else (None, bytes, a Path as the text) is
    the caller's mistake, said as such, not a bug deep in the parser."""
    if not isinstance(text, str):
        hint = " (decode bytes first: text.decode('utf-8'))" if isinstance(text, bytes | bytearray) else ""
        raise UsageError(f"{doing} takes the policy's text as a str, not {type(text).__name__}{hint}")
    if not isinstance(filename, str):
        raise UsageError(f"{doing} takes the file name as a str, not {type(filename).__name__}")


__all__ = ["PolicylangError", "UsageError", "require_text"]
