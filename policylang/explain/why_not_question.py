"""Reading a why-not question: "sla=4h", ("sla", value) or "not skip_fraud_check" -> (output, value).

The value after `=` is written as the policy writes it (`4h`, `premium`, `"a b"`, `{a, b}`) and
converted to the output's type; a question the policy cannot answer (no such output, a value of
the wrong type) is a `usage` error with a hint, as `policy explain --why-not` prints it.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..core.datatypes import BOOL, SetOf
from ..core.diagnostics import did_you_mean
from ..core.errors import UsageError
from ..core.yaml_exact import exact_yaml_loader
from ..engine.facts import converter_for
from ..semantics import typed_tree as c


class WhyNotError(UsageError):
    """The question names an output the policy does not have, or a value of the wrong type: a
    `usage` error (a ValueError), as `policy explain --why-not` prints it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def parse_question(checked: c.CheckedPolicy, wanted: str, value: Any = None) -> tuple[str, Any]:
    """The output and value a why-not question asks for; WhyNotError when the policy cannot answer it."""
    return question(checked, wanted, value)


def question(checked: c.CheckedPolicy, wanted: str, value: Any) -> tuple[str, Any]:
    """("sla=4h") or ("sla", value) -> (output, runtime value of the output's type)."""
    if not isinstance(wanted, str):
        raise WhyNotError(f"a why-not question is text, not {type(wanted).__name__}", 'ask like "sla=4h"')
    name, sep, raw = wanted.partition("=")
    name = name.strip()
    if not name:
        raise WhyNotError(f"`{wanted}` names no output", 'write it as OUTPUT=VALUE, for example "sla=4h"')
    negated = False
    if not sep and value is None and name.startswith("not "):
        name, negated = name[4:].strip(), True
    if name not in checked.outputs:
        close = did_you_mean(name, list(checked.outputs))
        known = ", ".join(f"`{o}`" for o in checked.outputs) or "none"
        raise WhyNotError(f"the policy has no output `{name}`", close or f"its outputs: {known}")
    output = checked.outputs[name]
    if sep:
        value = raw.strip()
        if not value:
            raise WhyNotError(f"`{wanted}` gives no value", f'write the value after `=`, for example "{name}=..."')
    elif value is None:
        if output.type != BOOL:
            raise WhyNotError(f"`{name}` is not a flag: ask for a value", f'write it as "{name}=VALUE"')
        return name, not negated
    try:
        return name, _convert(output.type, value) if sep else converter_for(output.type)(value)
    except ValueError as exc:
        message = getattr(exc, "message", str(exc))
        hint = getattr(exc, "hint", None) or f"write a value of `{name}` as the policy writes it, such as its default"
        raise WhyNotError(f"`{value}` is not a value of `{name}`: {message}", hint) from None


def _convert(t: Any, value: Any) -> Any:
    """A value as written after `=` ("4h", "premium", "\"a b\"", "{a, b}") in the output's type."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise _ValueProblem("no value after `=`")
        if t == BOOL and text in ("true", "false"):
            return text == "true"
        if isinstance(t, SetOf):
            value = _set_items(text)
        elif text[0] in "\"'":
            value = _quoted(text)
        else:
            value = text
    return converter_for(t)(value)


class _ValueProblem(ValueError):
    pass


def _quoted(text: str) -> str:
    """A string in double quotes (with the language's escapes) or single quotes."""
    if len(text) < 2 or text[-1] != text[0]:
        raise _ValueProblem(f"`{text}` has no closing quote")
    if text[0] == "'":
        return text[1:-1]
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        raise _ValueProblem(f"`{text}` is not a string the language can read") from None
    if not isinstance(found, str):
        raise _ValueProblem(f"`{text}` is not a string")
    return found


def _set_items(text: str) -> list[Any]:
    """`{a, "b c"}` or `[a, b]`: read as a YAML flow sequence, so quotes and commas inside them work."""
    if text[0] not in "{[":
        text = "{" + text + "}"  # `a, b` alone
    if text[0] + text[-1] not in ("{}", "[]"):
        raise _ValueProblem(f"`{text}` is not a set: write it as {{a, b}}")
    try:
        items = yaml.load("[" + text[1:-1] + "]", Loader=exact_yaml_loader())
    except yaml.YAMLError:
        raise _ValueProblem(f"`{text}` is not a set: write it as {{a, b}}") from None
    if not isinstance(items, list) or any(isinstance(i, list | dict) for i in items):
        raise _ValueProblem(f"`{text}` is not a set of plain values: write it as {{a, b}}")
    return items
