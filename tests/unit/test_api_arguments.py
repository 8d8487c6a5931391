"""Policy text that is not a str is the caller's mistake, said as a UsageError (code `usage`) that
names the function and the type given, never a TypeError from inside the parser nor an
`internal-error` that calls it a bug (found by the review of issue 13)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import policylang

CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "parse()": lambda text, name: policylang.parse(text, name),
    "compile()": lambda text, name: policylang.compile(text, filename=name),
    "check_source()": lambda text, name: policylang.check_source(text, name),
    "format_source()": lambda text, name: policylang.format_source(text, name),
}


@pytest.mark.parametrize("function", sorted(CALLS))
@pytest.mark.parametrize("text", [None, 5, b"if a then b", ["if a then b"]])
def test_text_that_is_not_a_str_is_a_usage_error(function: str, text: Any) -> None:
    with pytest.raises(policylang.UsageError) as raised:
        CALLS[function](text, "p.policy")
    assert raised.value.code is policylang.Code.USAGE
    assert str(raised.value).startswith(f"{function} takes the policy's text as a str, not {type(text).__name__}")
    assert ("decode bytes first" in str(raised.value)) == isinstance(text, bytes)


@pytest.mark.parametrize("function", sorted(CALLS))
def test_a_file_name_that_is_not_a_str_is_a_usage_error(function: str) -> None:
    with pytest.raises(policylang.UsageError) as raised:
        CALLS[function]("if tier == premium then skip_fraud_check", 3)
    assert str(raised.value) == f"{function} takes the file name as a str, not int"


@pytest.mark.parametrize("function", sorted(CALLS))
def test_str_text_still_works(function: str) -> None:
    assert CALLS[function]("if tier == premium then skip_fraud_check", "p.policy") is not None
