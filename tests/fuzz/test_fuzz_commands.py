"""Fuzzing what the other fuzz tests hold fixed: the options of every command (`--set`, `--as-of`,
`--why-not`, `--only`, `--since`, `--where`, `--fail-under`...) given hostile values, `policy fmt`
rewriting files and `policy graph`, and mutated `policy test` files (the examples' and the
standard library's). Each run ends in a decision, a report or a diagnostic: never an internal
error, a traceback or a hang."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from fuzz_harness import ROOT, cli, fuzz_settings, run_cli, tolerating_known_open
from fuzz_inputs import EXTREME_LITERALS, HOSTILE_CHARACTERS, mutated_policies
from hypothesis import given
from hypothesis import strategies as st

SUPPORT = ROOT / "examples" / "support"
TEST_FILES = sorted([*ROOT.glob("examples/*/*.test.yaml"), *ROOT.glob("stdlib_policies/*.test.yaml")])

_odd = st.one_of(
    st.sampled_from(HOSTILE_CHARACTERS),
    st.sampled_from(EXTREME_LITERALS),
    st.sampled_from(("", "=", "==", "sla", "sla=", "=4h", "{a, b}", "[", "]", "{", "- x", "!!binary x", "&a *a")),
    st.text(max_size=6),
)
_values = st.lists(_odd, min_size=1, max_size=3).map("".join)
_outputs = st.sampled_from(("sla", "queue", "perks", "skip_fraud_check", "account_manager", "nope", ""))
_facts = st.sampled_from(("tier", "tenure", "monthly_spend", "tags", "vip", "region", "past_complaints", "x"))


@st.composite
def _argv(draw: st.DrawFn) -> list[str]:
    """A command line with hostile option values, over examples/support (copied into the folder)."""
    kind = draw(st.sampled_from(("eval", "explain", "log", "test", "graph")))
    sets = [f"--set={draw(_facts)}={draw(_values)}" for _ in range(draw(st.integers(0, 2)))]
    base = ["--input", "premium.facts.yaml"] if draw(st.booleans()) else ["--set=tier=premium", "--set=tenure=3y"]
    as_of = ["--as-of", draw(st.one_of(_values, st.sampled_from(("2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z"))))]
    if kind == "eval":
        return ["eval", "support.policy", *base, *sets, *as_of, "--format", draw(st.sampled_from(("text", "json")))]
    if kind == "explain":
        question = [f"--why-not={draw(_outputs)}={draw(_values)}"] if draw(st.booleans()) else []
        only = [f"--only={draw(_outputs)}"] if draw(st.booleans()) else []
        width = ["--width", str(draw(st.sampled_from((40, 41, 1000))))]
        form = draw(st.sampled_from(("text", "json", "markdown", "html")))
        return ["explain", "support.policy", *base, *sets, *as_of, *question, *only, *width, "--format", form]
    if kind == "log":
        command = draw(st.sampled_from(("list", "show", "verify")))
        if command == "list":
            options = [
                f"--since={draw(_values)}",
                f"--until={draw(_values)}",
                f"--where={draw(_outputs)}={draw(_values)}",
            ]
            options += [f"--policy={draw(_values)}"]
            return ["log", "list", "--log", "decisions.db", *draw(st.lists(st.sampled_from(options), max_size=3))]
        if command == "show":
            return ["log", "show", draw(_values), "--log", "decisions.db"]
        return ["log", "verify", "--log", "decisions.db", f"--expect-head={draw(_values)}"]
    if kind == "test":
        return ["test", "support.test.yaml", f"--fail-under={draw(_values)}", "--coverage"]
    return ["graph", "support.policy", "--format", draw(st.sampled_from(("dot", "json")))]


def _support_folder(folder: Path) -> None:
    for path in SUPPORT.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    run_cli(["eval", "support.policy", "--input", "premium.facts.yaml", "--log", "decisions.db"], cwd=folder)


@fuzz_settings(short=30, long=2000)
@given(_argv())
def test_hostile_option_values(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, tolerating_known_open(argv):
        folder = Path(tmp)
        _support_folder(folder)
        cli(argv, cwd=folder)


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|\d[\d_.:-]*[A-Za-z]*|\s+|.", re.DOTALL)


@st.composite
def _mutated_test_file(draw: st.DrawFn) -> tuple[Path, str]:
    """A real test file after one to four edits of its tokens or lines."""
    path = draw(st.sampled_from(TEST_FILES))
    text = path.read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        tokens = _TOKEN.findall(text) or [""]
        at = draw(st.integers(0, len(tokens) - 1))
        edit = draw(st.sampled_from(("delete", "duplicate", "replace", "replace", "line")))
        if edit == "delete":
            del tokens[at]
        elif edit == "duplicate":
            tokens.insert(draw(st.integers(0, len(tokens))), tokens[at])
        elif edit == "replace":
            tokens[at] = draw(_odd)
        else:
            lines = "".join(tokens).splitlines(keepends=True) or [""]
            line = draw(st.integers(0, len(lines) - 1))
            lines.insert(draw(st.integers(0, len(lines))), lines[line])
            tokens = lines
        text = "".join(tokens)
    return path, text


@fuzz_settings(short=30, long=2000)
@given(_mutated_test_file(), st.sampled_from(("text", "json")))
def test_mutated_test_files(case: tuple[Path, str], output_format: str) -> None:
    source, text = case
    with tempfile.TemporaryDirectory() as tmp, tolerating_known_open(case):
        folder = Path(tmp)
        for path in source.parent.iterdir():
            if path.suffix in (".policy", ".yaml", ".json"):
                shutil.copy(path, folder / path.name)
        (folder / source.name).write_bytes(text.encode("utf-8", errors="surrogatepass"))  # not UTF-8: a case too
        cli(["test", source.name, "--format", output_format, "--coverage"], cwd=folder)
        cli(["test", source.name, "--junit-xml", "junit.xml"], cwd=folder)


@fuzz_settings(short=25, long=2000)
@given(mutated_policies())
def test_fmt_rewrites_and_graph(case: object) -> None:
    with tempfile.TemporaryDirectory() as tmp, tolerating_known_open(case):
        folder = Path(tmp)
        path = case.write(folder)  # type: ignore[attr-defined]  # a PolicyCase
        cli(["fmt", "--diff", path.name], cwd=folder)
        rewritten = cli(["fmt", path.name], cwd=folder)
        if rewritten.code == 0:
            again = cli(["fmt", "--check", path.name], cwd=folder)
            assert again.code == 0, f"policy fmt is not idempotent:\n{again.output[-1500:]}"
        cli(["graph", path.name, "--format", "json"], cwd=folder)
