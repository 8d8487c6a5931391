"""Facts validated once and decided with many times: what `Policy.facts({...})` gives.

Validating a fresh dict of facts is about half of what a decision costs on a small policy. A
caller that decides for the same facts again and again (a request's facts against several
policies of one schema, a customer decided at several times with `as_of`, a test) validates them
once into a `Facts`, and `decide()` and `decide_many()` take it as it is. It remembers the schema
it was validated against: a policy whose facts differ (another name, type, default, optionality,
or `unknown_facts` setting) refuses it with a FactsError instead of deciding on facts it never
checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

Schema = tuple[Any, ...]
"""What a policy's facts validation depends on (`FactsValidator.schema`): plain, comparable data."""


class Facts(Mapping[str, Any]):
    """Facts as one policy sees them (converted, defaults filled, MISSING where optional and not
    given), validated once. Immutable; a read-only mapping of those values; hashable when every
    value is (facts of no declared type are kept as given, and a list is not). `given` is the
    mapping as it was given, which a decision log records. Made by `Policy.facts(...)`."""

    __slots__ = ("_given", "_schema", "_values")
    _given: dict[str, Any]
    _values: dict[str, Any]
    _schema: Schema

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Facts are made by a policy: `policy.facts({...})`")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Facts are immutable; cannot set `{name}`")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Facts are immutable; cannot delete `{name}`")

    @property
    def given(self) -> Mapping[str, Any]:
        """The facts exactly as given, read-only."""
        return MappingProxyType(self._given)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Facts):
            return self._schema == other._schema and self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._schema, tuple(self._values.items())))

    def __repr__(self) -> str:
        return f"Facts({self._values!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (make_facts, (self._given, self._values, self._schema))


_SLOTS: dict[str, Any] = dict(vars(Facts))


def make_facts(given: dict[str, Any], values: dict[str, Any], schema: Schema) -> Facts:
    """A Facts holding these dicts, which no one else may change afterwards (the caller's copies)."""
    facts = object.__new__(Facts)
    _SLOTS["_given"].__set__(facts, given)
    _SLOTS["_values"].__set__(facts, values)
    _SLOTS["_schema"].__set__(facts, schema)
    return facts
