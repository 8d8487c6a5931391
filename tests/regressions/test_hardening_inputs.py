"""Issue 12, hardening of the inputs: the lexer, literals, numbers, and the readers of facts and test files.

One test per reproduction from the issue, with the issue's own input. CPU-time guards are generous
(many times what the case needs): a failure means a hang or a blow-up in complexity, not a busy machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from policylang.checker import check
from policylang.diagnostics import Code
from policylang.formatter import format_source


@contextmanager
def within(seconds: float, what: str) -> Iterator[None]:
    """Fail if the block uses more than `seconds` of CPU time (as tests/unit/test_hostile_input.py's)."""
    cpu = time.process_time()
    yield
    cpu = time.process_time() - cpu
    assert cpu < seconds, f"{what} took {cpu:.1f} s of CPU time (limit {seconds} s)"


# --- M4: an unterminated string of `\"` escapes scanned in linear time ------------------------------

UNTERMINATED = {
    "to the end of the line": 'if x == "' + '\\"' * 300_000 + "\n",
    "to the end of the file": 'if x == "' + '\\"' * 300_000,
    "inside braces": 'let a = {"' + '\\"' * 300_000 + "\n",
    "after another error": 'if x == then y\nlet a = {"' + '\\"' * 300_000 + "\n",
}


@pytest.mark.parametrize("text", UNTERMINATED.values(), ids=UNTERMINATED.keys())
def test_an_unterminated_string_of_escaped_quotes_is_scanned_in_linear_time(text: str) -> None:
    # 600 KB: this took more than 300 s when every quote restarted the scan of the string.
    with within(20, "check of an unterminated string"):
        result = check(text, "quotes.policy")
        formatted = format_source(text, "quotes.policy")
    messages = [d.message for d in result.diagnostics if d.code is Code.SYNTAX_ERROR]
    assert "unterminated string" in messages, messages
    assert formatted.text is None


def test_a_comment_after_a_string_with_escaped_quotes_is_still_a_comment() -> None:
    text = 'if x == "a \\" # not a comment" then y  # a comment\n'
    result = check(text, "comment.policy")
    assert result.ok, [d.message for d in result.diagnostics]
    comments = [c.text for c in result.modules[0].parsed.tree.comments]
    assert comments == ["# a comment"]
