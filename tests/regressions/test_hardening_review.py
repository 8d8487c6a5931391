"""Issue 12, found by review of the merged hardening: each test fails without its fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import policylang
from policylang.core.diagnostics import Code
from policylang.engine.facts import MAX_FACT_DEPTH, _check_storable, _is_unstorable, _Unstorable
from policylang.syntax.formatter import format_source

_TEXTS = st.text(alphabet=st.sampled_from(["a", "é", "\ud800", "\udc00", "😀"]), max_size=3)
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _TEXTS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(_TEXTS, inner, max_size=3),
        st.tuples(inner),
        st.frozensets(st.integers() | _TEXTS, max_size=2),
    ),
    max_leaves=40,
)


def _refused(value: Any) -> bool:
    try:
        _check_storable(value)
    except _Unstorable:
        return True
    return False


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_the_quick_storable_test_agrees_with_the_one_that_names_the_place(value: Any) -> None:
    # the quick test walks without building places (a 1,000-item undeclared fact cost 9 ms a decision)
    assert _is_unstorable(value) == _refused(value)


def test_the_quick_storable_test_stops_at_the_same_depth() -> None:
    for depth in (MAX_FACT_DEPTH - 1, MAX_FACT_DEPTH, MAX_FACT_DEPTH + 1):
        assert _is_unstorable(_nested(depth)) == _refused(_nested(depth)), depth


def test_explain_escapes_line_separators_and_bidi_controls_in_values(tmp_path: Path) -> None:
    (tmp_path / "esc.policy").write_text('input { s: string }\noutput { note: string }\nif s != "" then note = s\n')
    (tmp_path / "esc.json").write_text(json.dumps({"s": "a\u2028b\u202ec"}))
    for output_format in ("text", "markdown", "html"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "policylang",
                "explain",
                "esc.policy",
                "--input",
                "esc.json",
                "--format",
                output_format,
            ],
            cwd=tmp_path,
            capture_output=True,
            encoding="utf-8",
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "\u2028" not in result.stdout and "\u202e" not in result.stdout, output_format
        assert "\\u2028" in result.stdout and "\\u202e" in result.stdout, output_format


def test_joiners_and_flag_tags_in_ordinary_text_are_not_hidden_text() -> None:
    # a family emoji (zero-width joiners), a Persian word (a zero-width non-joiner), Scotland's flag (tags)
    text = (
        "# 👨\u200d👩\u200d👧 and می\u200cخواهم and 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f\n"  # noqa: RUF001
        'input { s: string }\noutput { note: string }\nif s != "👨\u200d👩\u200d👧 می\u200cخواهم" then note = s\n'  # noqa: RUF001
    )
    report = policylang.check_source(text, "ordinary.policy")
    assert not [d for d in report.diagnostics if d.code == Code.HIDDEN_TEXT]
    formatted = format_source(text, "ordinary.policy")
    assert "\\u{200d}" not in (formatted.text or "") and "\u200d" in (formatted.text or "")
    override = policylang.check_source(text.replace("می", "\u202eمی", 1), "override.policy")
    assert [d.code for d in override.diagnostics] == [Code.HIDDEN_TEXT]


def test_trace_explain_and_why_not_turn_a_bug_into_an_internal_error() -> None:
    # "every command and API entry point turns it into error[internal-error]": decide() did, the
    # methods that explain a decision let a RecursionError or TypeError out raw
    from unittest import mock

    policy = policylang.compile(
        "input { n: int }\noutput { x: bool = false resolve any }\nif n > 1 then x\n", filename="t.policy"
    )
    decision = policy.decide({"n": 2})
    with mock.patch("policylang.explain.trace.Tracer.trace", side_effect=RecursionError("deep")):
        for call in (decision.trace, decision.explain, lambda: policy.trace(decision)):
            try:
                call()
            except policylang.InternalError as exc:
                assert exc.diagnostic.code == Code.INTERNAL_ERROR and "RecursionError: deep" in str(exc)
            else:
                raise AssertionError("no InternalError")
    with mock.patch("policylang.explain.why_not.why_not", side_effect=TypeError("bug")):
        try:
            decision.why_not("x=true")
        except policylang.InternalError as exc:
            assert "TypeError: bug" in str(exc)
        else:
            raise AssertionError("no InternalError")
    try:  # a bad argument is still the caller's ValueError, not an internal error
        policy.trace(decision, ["nope"])
    except policylang.InternalError:
        raise AssertionError("a usage error became an internal error") from None
    except ValueError as exc:
        assert "no output `nope`" in str(exc)


def test_eval_quotes_a_value_that_holds_a_backslash_so_it_cannot_pass_for_an_escape(tmp_path: Path) -> None:
    # found by review: the two characters `\n` and a new line printed alike (`a\nb`)
    (tmp_path / "esc.policy").write_text('input { s: string }\noutput { note: string }\nif s != "" then note = s\n')
    shown = {}
    for name, text in {"backslash": "a\\nb", "newline": "a\nb", "path": "C:\\temp", "plain": "é b"}.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"s": text}))
        result = subprocess.run(
            [sys.executable, "-m", "policylang", "eval", "esc.policy", "--input", f"{name}.json"],
            cwd=tmp_path,
            capture_output=True,
            encoding="utf-8",
            check=False,
        )
        assert result.returncode == 0, result.stderr
        (line,) = [line for line in result.stdout.splitlines() if line.startswith("  note")]
        shown[name] = line.split("  ")[2]
    assert shown == {"backslash": '"a\\\\nb"', "newline": '"a\\nb"', "path": '"C:\\\\temp"', "plain": "é b"}
