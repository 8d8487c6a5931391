"""Issue 12 (hardening), the formatter, rule ids, imports, hidden text and the CLI's pipes: M8, L5, L6, L8."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import policylang
from policylang.core.diagnostics import Code, Diagnostic, Severity
from policylang.core.source import HIDDEN_CHARACTER
from policylang.decision_log import DecisionLog
from policylang.semantics.typed_tree import legacy_rule_ids
from policylang.syntax import nodes as n
from policylang.syntax import parser
from policylang.syntax.formatter import format_source
from policylang.syntax.parser import MAX_HIDDEN_TEXT_WARNINGS, parse

PIPE_BUFFER = 1 << 16
"""Linux's default pipe capacity: a command writing more than this to a reader that has gone must
meet a broken pipe, so each case below first checks that its output is larger."""


_REASON = "a reason long enough that a few hundred rules fill a pipe " * 5


def _big_policy(rules: int) -> str:
    lines = ["policy big", "input {", *(f"    f{i}: int" for i in range(rules)), "}", "output { o: int resolve max }"]
    lines += [f'if f{i} > 1 and f{i} < 0 then o = {i} because "{_REASON}"' for i in range(rules)]
    return "\n".join(lines) + "\n"


def _policy(*args: str, cwd: Path, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `policy ARGS` to the end: exit code, standard output, standard error."""
    done = subprocess.run(
        [sys.executable, "-m", "policylang", *args], cwd=cwd, input=stdin, capture_output=True, text=True
    )
    return done.returncode, done.stdout, done.stderr


def _policy_read_one_line(*args: str, cwd: Path, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `policy ARGS | head -1`: read one line, close the pipe, and wait. Exit code, line, stderr."""
    stdin_file = cwd / "stdin.txt"
    stdin_file.write_text(stdin or "", encoding="utf-8")
    stderr_file = cwd / "stderr.txt"
    with stdin_file.open("rb") as given, stderr_file.open("wb") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "policylang", *args], cwd=cwd, stdin=given, stdout=subprocess.PIPE, stderr=errors
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        proc.stdout.close()
        code = proc.wait(timeout=120)
    return code, line, stderr_file.read_text(encoding="utf-8")


# --- L8: a reader that stops early ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["check", "--max-findings", "0", "big.policy"], None),  # (every finding: output larger than the pipe)
        (["check", "--max-findings", "0", "--strict", "big.policy"], None),
        (["check", "--format", "json", "big.policy"], None),
        (["graph", "--format", "json", "big.policy"], None),
        (["fmt", "-"], "big"),
        (["eval", "small.policy", "--jsonl", "-i", "-", "--as-of", "2026-01-01T00:00:00Z"], "facts"),
    ],
    ids=["check", "check-strict", "check-json", "graph", "fmt-stdin", "eval-jsonl"],
)
def test_issue_12_l8_a_closed_pipe_keeps_the_commands_exit_code(
    tmp_path: Path, args: list[str], stdin: str | None
) -> None:
    policy = _big_policy(400)
    (tmp_path / "big.policy").write_text(policy, encoding="utf-8")
    (tmp_path / "small.policy").write_text(
        "policy small\ninput { a: int }\noutput { o: int = 0 }\nif a > 1 then o = a\n", encoding="utf-8"
    )
    facts = "\n".join(json.dumps({"a": i}) for i in range(20_000)) + "\n"
    given = {"big": policy, "facts": facts, None: None}[stdin]
    full_code, full_out, _ = _policy(*args, cwd=tmp_path, stdin=given)
    assert len(full_out.encode()) > 2 * PIPE_BUFFER, "the output must overflow the pipe for the test to mean anything"
    code, line, errors = _policy_read_one_line(*args, cwd=tmp_path, stdin=given)
    assert line == full_out.splitlines(keepends=True)[0]
    assert code == full_code
    assert "BrokenPipeError" not in errors and "Exception ignored" not in errors
    if "--strict" in args:
        assert code == 1  # warnings under --strict: the early reader does not turn a failure into a pass


# --- M8: formatting never changes a rule id ---------------------------------------------------------

_CRAMPED = "input { a: int }\noutput { o: bool = false resolve any  n: int = 0 resolve max }\nif a > 1 then o\nif a > 5 then n = 1\n"
"""The issue's reproduction: `p:3` became `p:9` once `policy fmt` had inserted blank lines."""


def test_issue_12_m8_fmt_keeps_the_ids_of_anonymous_rules() -> None:
    formatted = format_source(_CRAMPED, "p.policy").text
    assert formatted is not None and formatted != _CRAMPED
    assert formatted.splitlines().index("if a > 1 then o") > 2  # the rule really moved down
    ids = [r.id for r in policylang.compile(_CRAMPED, filename="p.policy").checked.rules]
    assert ids == ["p#1", "p#2"]
    assert [r.id for r in policylang.compile(formatted, filename="p.policy").checked.rules] == ids


def test_issue_12_m8_a_test_file_still_passes_after_fmt(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(_CRAMPED, encoding="utf-8")
    (tmp_path / "p.test.yaml").write_text(
        "policy: p.policy\ncases:\n  - name: big a\n    facts: {a: 9}\n    expect: {o: true, n: 1}\n"
        "    fired: [p#1, p#2]\n",
        encoding="utf-8",
    )
    assert _policy("test", "p.test.yaml", cwd=tmp_path)[0] == 0
    code, _out, errors = _policy("fmt", "p.policy", cwd=tmp_path)
    assert code == 0 and "reformatted" in errors
    code, out, _errors = _policy("test", "p.test.yaml", cwd=tmp_path)
    assert code == 0, out


def test_issue_12_m8_a_test_file_with_a_line_based_id_is_told_the_new_one(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(_CRAMPED, encoding="utf-8")
    (tmp_path / "p.test.yaml").write_text(
        "policy: p.policy\ncases:\n  - name: c\n    facts: {a: 9}\n    fired: [p:4]\n", encoding="utf-8"
    )
    code, out, errors = _policy("test", "p.test.yaml", cwd=tmp_path)
    assert code != 0
    assert "p.test.yaml:5:13: error[unknown-name]: `p.policy` has no rule `p:4`" in out + errors
    assert "anonymous rules are numbered now, not named by line: write `p#2`" in out + errors


def _legacy_ids(items: list[n.Declaration], prefix: str) -> list[n.Declaration]:
    """What policylang 0.1 did: an anonymous rule's id was `file:line`."""
    return [
        dataclasses.replace(item, id=f"{prefix}:{item.span.line}")
        if isinstance(item, n.Rule) and not item.name
        else item
        for item in items
    ]


def test_issue_12_m8_a_decision_recorded_with_line_based_ids_replays_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "input { a: int }\noutput { o: int resolve unique }\n\nif a > 1 then o = 1\nif a > 5 then o = 2\n"
    with monkeypatch.context() as old_version:
        old_version.setattr(parser, "_number_anonymous_rules", _legacy_ids)
        policy = policylang.compile(text, filename="p.policy")
        with DecisionLog(str(tmp_path / "log.db")) as log:
            plain = log.record(policy, {"a": 3}, policy.decide({"a": 3}))
            conflicted = log.record(policy, {"a": 9}, policy.decide({"a": 9}, on_conflict="mark"))
    with DecisionLog(str(tmp_path / "log.db")) as log:
        assert log.get(plain).fired == ("p:4",)  # the record holds the old id ...
        assert log.get(conflicted).conflicts == {"o": [{"rule": "p:4", "value": 1}, {"rule": "p:5", "value": 2}]}
        for decision_id in (plain, conflicted):
            replayed = log.replay(decision_id)
            assert replayed.differences == []  # ... and the replay, which says `p#1`, agrees with it
        assert log.replay(plain).decision.fired == ("p#1",)
        assert log.verify().ok


# --- L5: hidden and text-reordering characters ------------------------------------------------------

_ESCAPED = 'input { a: string }\noutput { o: bool = false }\nif a == "x\\u{202E}y\\u{200B}\\u{FEFF}" then o\n'
"""The issue's reproduction: `policy fmt` wrote these escapes back as the raw characters."""


def test_issue_12_l5_fmt_keeps_hidden_characters_escaped() -> None:
    formatted = format_source(_ESCAPED, "p.policy").text
    assert formatted is not None
    assert '"x\\u{202e}y\\u{200b}\\u{feff}"' in formatted
    assert not HIDDEN_CHARACTER.search(formatted)
    assert not parse(formatted, "p.policy").diagnostics


def test_issue_12_l5_a_raw_hidden_character_is_a_warning_at_it_wherever_it_is() -> None:
    text = 'input { a: string }\noutput { o: bool = false }\n# is\u202e this\nif a == "x\u200by" then o because "ok\u2066"\n'
    found = parse(text, "p.policy").diagnostics
    assert [(d.code, d.severity, d.span.line, text[d.span.start : d.span.end]) for d in found if d.span] == [
        (Code.HIDDEN_TEXT, Severity.WARNING, 3, "\u202e"),
        (Code.HIDDEN_TEXT, Severity.WARNING, 4, "\u200b"),
        (Code.HIDDEN_TEXT, Severity.WARNING, 4, "\u2066"),
    ]
    assert found[0].message == "hidden character U+202E (RIGHT-TO-LEFT OVERRIDE) written raw"
    assert found[1].hint is not None and "`\\u{200b}`" in found[1].hint
    formatted = format_source(text, "p.policy").text  # fmt escapes those in strings, keeps the comment's
    assert formatted is not None
    assert [text_of(d, formatted) for d in parse(formatted, "p.policy").diagnostics] == ["\u202e"]


def text_of(diagnostic: Diagnostic, text: str) -> str:
    assert diagnostic.span is not None
    return text[diagnostic.span.start : diagnostic.span.end]


def test_issue_12_l5_check_strict_fails_and_the_snippet_shows_no_raw_override(tmp_path: Path) -> None:
    (tmp_path / "p.policy").write_text(
        'input { a: string }\noutput { o: bool = false }\nif a == "admin\u202e" then o\n', encoding="utf-8"
    )
    assert _policy("check", "p.policy", cwd=tmp_path)[0] == 0
    code, out, _ = _policy("check", "--strict", "p.policy", cwd=tmp_path)
    assert code == 1
    assert "warning[hidden-text]" in out and "\u202e" not in out
    assert '3 | if a == "admin?" then o' in out


def test_issue_12_l5_a_leading_byte_order_mark_passes_and_a_flood_is_capped() -> None:
    assert not parse("\ufeffinput { a: int }\n", "p.policy").diagnostics
    found = parse("input { a: int }\n# " + "\u200b" * 10_000 + "\n", "p.policy").diagnostics
    assert len(found) == MAX_HIDDEN_TEXT_WARNINGS + 1
    assert found[-1].message == f"{10_000 - MAX_HIDDEN_TEXT_WARNINGS} more hidden characters, the first of them here"


def test_issue_12_l5_the_hidden_set_is_exactly_the_format_characters() -> None:
    # every format character (Cf) but the three kinds ordinary text needs and that reorder nothing:
    # the zero-width joiner and non-joiner (emoji sequences, Persian and Indic words) and the tags
    # of flag sequences (found by review: they warned on a family emoji and on Persian text)
    needed = {0x200C, 0x200D, *range(0xE0020, 0xE0080)}
    hidden = {c for c in range(sys.maxunicode + 1) if HIDDEN_CHARACTER.match(chr(c))}
    format_characters = {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}
    assert format_characters - needed <= hidden
    assert not hidden & needed
    assert all(unicodedata.category(chr(c)) in ("Cf", "Cn") for c in hidden - format_characters)  # newer Unicode
    assert {0x202A, 0x202E, 0x2066, 0x2069, 0x200E, 0x200F, 0x061C, 0x200B, 0x2060, 0xFEFF} <= hidden


# --- L6: imports stay inside the import root ----------------------------------------------------------

_SECRET = "SECRET-FIRST-LINE"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/root/main.policy (the policy), tmp/outside/secret.policy and tmp/root/notes.txt (not policies)."""
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.policy").write_text(
        f"# {_SECRET}\ninput {{ a: int }}\noutput {{ o: bool = false }}\nif a > 1 then o\n", encoding="utf-8"
    )
    (tmp_path / "root" / "notes.txt").write_text(f"{_SECRET} password=hunter2\n", encoding="utf-8")
    return tmp_path


def _check_main(tree: Path, imports: str, *args: str) -> tuple[int, str, str]:
    (tree / "root" / "main.policy").write_text(imports + "\n", encoding="utf-8")
    return _policy("check", *args, "main.policy", cwd=tree / "root")


def test_issue_12_l6_an_absolute_import_outside_the_root_is_refused_unread(tree: Path) -> None:
    code, out, _ = _check_main(tree, 'import "/etc/passwd" as pw')
    assert code == 1
    assert "error[import-error]: `/etc/passwd` is outside the import root" in out
    assert "--import-root DIR" in out
    assert "root:" not in out


def test_issue_12_l6_a_relative_import_climbing_out_is_refused_until_the_root_is_widened(tree: Path) -> None:
    code, out, _ = _check_main(tree, 'import "../outside/secret.policy" as s')
    assert code == 1
    assert f"`../outside/secret.policy` is outside the import root `{(tree / 'root').resolve()}`" in out
    assert _SECRET not in out
    code, out, _ = _check_main(tree, 'import "../outside/secret.policy" as s', "--import-root", "..")
    assert code == 0, out
    with pytest.raises(policylang.PolicyError, match="outside the import root"):
        policylang.load(tree / "root" / "main.policy")
    widened = policylang.load(tree / "root" / "main.policy", import_root=tree)
    assert [r.id for r in widened.checked.rules] == ["secret#1"]


def test_issue_12_l6_a_symbolic_link_out_of_the_root_is_refused(tree: Path) -> None:
    (tree / "root" / "link.policy").symlink_to(tree / "outside" / "secret.policy")
    code, out, _ = _check_main(tree, 'import "link.policy" as s')
    assert code == 1 and "`link.policy` is outside the import root" in out
    assert _SECRET not in out


def test_issue_12_l6_a_file_that_is_not_a_policy_is_never_read_or_quoted(tree: Path) -> None:
    code, out, _ = _check_main(tree, 'import "notes.txt" as n')
    assert code == 1
    assert "error[import-error]: `notes.txt` is not a policy file" in out
    assert _SECRET not in out and "hunter2" not in out


def test_issue_12_l6_a_fifo_is_not_a_regular_file_and_is_never_opened(tree: Path) -> None:
    os.mkfifo(tree / "root" / "fifo.policy")  # opening it for reading would wait for a writer forever
    code, out, _ = _check_main(tree, 'import "fifo.policy" as f')  # _policy has no timeout: a hang fails the run
    assert code == 1
    assert "error[import-error]: `fifo.policy` is not a regular file (a pipe, a device or a socket)" in out
    assert "did you mean" not in out


def test_issue_12_l6_the_standard_library_is_always_importable(tree: Path) -> None:
    code, out, _ = _check_main(tree, "import stdlib.segments")
    assert code == 0, out


def test_issue_12_l6_policy_test_takes_the_import_root_too(tree: Path) -> None:
    (tree / "root" / "main.policy").write_text('import "../outside/secret.policy" as s\n', encoding="utf-8")
    (tree / "root" / "main.test.yaml").write_text(
        "policy: main.policy\ncases:\n  - name: c\n    facts: {a: 2}\n    expect: {o: true}\n    fired: [secret#1]\n",
        encoding="utf-8",
    )
    code, out, _ = _policy("test", "main.test.yaml", cwd=tree / "root")
    assert code == 1 and "outside the import root" in out
    code, out, _ = _policy("test", "--import-root", "..", "main.test.yaml", cwd=tree / "root")
    assert code == 0, out


def test_issue_12_m8_an_import_named_like_the_root_gets_its_own_numbering(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "fraud.policy").write_text(
        "input { a: int }\noutput { o: bool = false resolve any }\nif a > 1 then o\n", encoding="utf-8"
    )
    (tmp_path / "fraud.policy").write_text('import "lib/fraud.policy" as lib\nif a > 5 then o\n', encoding="utf-8")
    policy = policylang.load(tmp_path / "fraud.policy")
    assert policy.decide({"a": 7}).fired == ("fraud_2#1", "fraud#1")
    # what policylang 0.1 called them (the imported file kept its own name then: lines kept them apart)
    assert legacy_rule_ids(policy.checked) == {"fraud:3": "fraud_2#1", "fraud:2": "fraud#1"}
