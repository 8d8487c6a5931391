"""Golden static analysis: each tests/golden/analysis/NAME.policy against its `# expect:` lines, NAME.txt and NAME.json.

A case is a small customer-service policy that checks without errors. The comment block that
opens it says what the analysis (policylang/analysis/analyser.py, as `policy check` runs it) must find:

    # expect: conflict OUTPUT RULE RULE      rules RULE and RULE conflict on OUTPUT (either order)
    # expect: coverage-gap OUTPUT            OUTPUT has no default and some facts leave it unset
    # expect: analysis-incomplete OUTPUT     the analysis of OUTPUT could not be exhaustive
    # expect: unreachable-rule RULE          (and any other code): CODE with exactly these rule ids
    # expect: nothing                        no finding at all
    # known-conflict: OUTPUT {FACTS}         a conflict the analysis does not report, where it
                                             says it is incomplete (OUTPUT must expect one)
    # xfail: REASON                          a known wrong or missing finding (strict xfail)

Rule ids are as diagnostics give them (`escalation.complaints` for a rule of an imported file).
Every expectation must be met and every finding must be expected, whatever its severity. Each
finding with a witness is also replayed: the witness decided through `Policy.decide(...,
on_conflict="mark")` and through the reference interpreter (tests/support/reference.py) must show
the conflict (both rules, different values) or leave the output unset. The rendered text
(`render_text(..., color=False)`) and JSON (`render_json`) are compared with the golden files;
regenerate them with `pytest tests/golden/test_analysis_golden.py --update-golden` and read the diff.

Helper files that cases import live in analysis/imports/ and are not cases themselves.

The last test runs `python3 -m policylang check` on the shipped policies (examples/support and
stdlib_policies): they must check clean, with no conflict.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_golden
from support.reference import key, reference_decide

import policylang
from policylang.analysis.enumeration import AS_OF
from policylang.api import with_analysis
from policylang.core.diagnostics import Code, Diagnostic

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = Path(__file__).resolve().parent / "analysis"
POLICIES = sorted(CASES.glob("*.policy"))  # not recursive: analysis/imports/ holds helpers

_EXPECT = re.compile(r"^#\s*expect:\s*(?P<code>[a-z-]+)((?:\s+\S+)*)\s*$")
_XFAIL = re.compile(r"^#\s*xfail:\s*(?P<reason>.+?)\s*$")
_KNOWN = re.compile(r"^#\s*known-conflict:\s*(?P<output>\S+)\s+(?P<facts>\{.*\})\s*$")
_OUTPUT_CODES = {Code.CONFLICT, Code.COVERAGE_GAP, Code.ANALYSIS_INCOMPLETE}
"""Codes whose expectation names the output first."""
_OUTPUT_IN_MESSAGE = {
    Code.CONFLICT: re.compile(r"can both match and set `([^`]+)`"),
    Code.COVERAGE_GAP: re.compile(r"^output `([^`]+)`"),
    Code.ANALYSIS_INCOMPLETE: re.compile(r"^the analysis of `([^`]+)`"),
}


@dataclass(frozen=True)
class Finding:
    """A finding in the shape of an expectation: its code, its output (or ""), its rule ids."""

    code: str
    output: str
    rules: frozenset[str]

    def __str__(self) -> str:
        return " ".join([self.code, *([self.output] if self.output else []), *sorted(self.rules)])


@dataclass(frozen=True)
class Case:
    path: Path
    expected: tuple[Finding, ...]
    nothing: bool
    xfail: str | None
    known_conflicts: tuple[tuple[str, dict[str, Any]], ...] = ()


def read_case(path: Path) -> Case:
    """The expectations in the comment block that opens a case file."""
    expected: list[Finding] = []
    nothing = False
    xfail = None
    known: list[tuple[str, dict[str, Any]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if match := _XFAIL.match(line):
            xfail = match["reason"]
        elif match := _KNOWN.match(line):
            known.append((match["output"], json.loads(match["facts"])))
        elif line.replace(" ", "").startswith("#expect:"):
            match = _EXPECT.match(line)
            assert match, f"{path.name}: malformed expectation line: {line}"
            code, names = match["code"], match[2].split()
            if code == "nothing":
                assert not names, f"{path.name}: `expect: nothing` takes no names"
                nothing = True
                continue
            assert code in {c.value for c in Code}, f"{path.name}: unknown code {code!r}"
            output = names.pop(0) if Code(code) in _OUTPUT_CODES else ""
            if Code(code) is Code.CONFLICT:
                assert len(names) == 2, f"{path.name}: a conflict names its output and two rules: {line}"
            expected.append(Finding(code, output, frozenset(names)))
    assert nothing != bool(expected), f"{path.name}: needs `# expect:` lines, or `# expect: nothing` alone"
    for output, _ in known:
        assert Finding(Code.ANALYSIS_INCOMPLETE.value, output, frozenset()) in expected, (
            f"{path.name}: a known conflict on `{output}` the analysis misses needs `expect: analysis-incomplete {output}`"
        )
    return Case(path, tuple(expected), nothing, xfail, tuple(known))


def as_finding(diag: Diagnostic) -> Finding:
    output = ""
    if diag.code in _OUTPUT_IN_MESSAGE:
        match = _OUTPUT_IN_MESSAGE[diag.code].search(diag.message)
        assert match, f"cannot tell the output of: {diag.message}"
        output = match[1]
    rules = frozenset(diag.rules) if diag.code not in {Code.COVERAGE_GAP, Code.ANALYSIS_INCOMPLETE} else frozenset()
    return Finding(diag.code.value, output, rules)


def _params() -> list[Any]:
    params = []
    for path in POLICIES:
        case = read_case(path)
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        params.append(pytest.param(case, id=path.stem, marks=marks))
    return params


def _analysed(path: Path) -> policylang.CheckReport:
    """What `policy check` reports for the case: the checker's diagnostics, then the analysis's."""
    checked = policylang.check_file(path.relative_to(ROOT).as_posix())
    assert checked.ok and checked.policy is not None, f"{path.name} must check without errors:\n{checked.render()}"
    return with_analysis(checked)


def _replay_problems(diag: Diagnostic, finding: Finding, path: Path) -> list[str]:
    """Why the witness does not show the finding, deciding it with the policy and the reference interpreter."""
    if diag.code not in {Code.CONFLICT, Code.COVERAGE_GAP}:
        return []
    witness = diag.witness
    if witness is None:
        return [f"{finding}: no witness"]
    relative = path.relative_to(ROOT).as_posix()
    policy = policylang.compile(path.read_text(encoding="utf-8"), relative)
    decision = policy.decide(witness, as_of=AS_OF, on_conflict="mark")
    reference = reference_decide(path.read_text(encoding="utf-8"), relative, witness, AS_OF, "mark")
    problems = []
    for who, outputs, conflicts in (
        ("decide", decision.outputs, decision.conflicts),
        ("reference", reference["outputs"], reference["conflicts"]),
    ):
        if diag.code is Code.CONFLICT:
            values = {rule: key(value) for rule, value in conflicts.get(finding.output, ())}
            if not finding.rules <= values.keys():
                problems.append(f"{finding}: {who} on {witness} shows no conflict of these rules: {conflicts}")
            elif len({values[rule] for rule in finding.rules}) != 2:
                problems.append(f"{finding}: {who} on {witness}: the rules set equal values: {values}")
        elif finding.output in outputs or finding.output in conflicts:
            problems.append(f"{finding}: {who} on {witness} decides `{finding.output}`: {outputs}")
    return problems


@pytest.mark.parametrize("case", _params())
def test_analysis_golden(case: Case, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # From the repository root with a relative path, so that file names in the goldens are the
    # same on every machine (imports resolve relative to the case file either way).
    monkeypatch.chdir(ROOT)
    report = _analysed(case.path)
    text = policylang.render_text(report.diagnostics, report.sources, color=False) + "\n"
    as_json = policylang.render_json(report.diagnostics) + "\n"
    if update_golden:  # write the goldens even while expectations fail, so that they can be read
        assert_golden(case.path.with_suffix(".txt"), text, update_golden)
        assert_golden(case.path.with_suffix(".json"), as_json, update_golden)

    findings = [(d, as_finding(d)) for d in report.diagnostics]
    problems = []
    missing = Counter(case.expected) - Counter(f for _, f in findings)
    unexpected = Counter(f for _, f in findings) - Counter(case.expected)
    problems += [f"expected, not reported: {f}" for f in missing.elements()]
    problems += [f"reported, not expected: {f}" for f in unexpected.elements()]
    for diag, finding in findings:
        problems += _replay_problems(diag, finding, case.path)
    for output, facts in case.known_conflicts:
        relative = case.path.relative_to(ROOT).as_posix()
        decision = policylang.compile(case.path.read_text(encoding="utf-8"), relative).decide(
            facts, as_of=AS_OF, on_conflict="mark"
        )
        if output not in decision.conflicts:
            problems.append(f"known-conflict {output} {facts}: no conflict: {decision.outputs}")
    assert not problems, "\n".join([*problems, "", "what policy check says:", text])

    assert_golden(case.path.with_suffix(".txt"), text, update_golden)
    assert_golden(case.path.with_suffix(".json"), as_json, update_golden)


def test_corpus_covers_every_analysis_code() -> None:
    covered = {f.code for path in POLICIES for f in read_case(path).expected}
    wanted = {Code.CONFLICT, Code.UNREACHABLE_RULE, Code.COVERAGE_GAP, Code.ANALYSIS_INCOMPLETE}
    missing = {code.value for code in wanted} - covered
    assert not missing, f"no analysis case expects: {sorted(missing)}"
    assert sum(read_case(path).nothing for path in POLICIES) >= 3, "keep the cases that must find nothing"


SHIPPED = sorted([*(ROOT / "examples" / "support").glob("*.policy"), *(ROOT / "stdlib_policies").glob("*.policy")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shipped_policies_have_no_conflict(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`policy check` with the analysis on the policies we ship: exit 0 and no conflict; whatever
    else it finds (support.policy's `account_manager` has no default and no rule: a coverage gap)
    must be true, its witness replayed like a case's."""
    env = {**os.environ, "NO_COLOR": "1", "POLICYLANG_CACHE_DIR": str(tmp_path)}
    relative = path.relative_to(ROOT).as_posix()
    run = subprocess.run(
        [sys.executable, "-m", "policylang", "check", "--format", "json", relative],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    reported = json.loads(run.stdout)["diagnostics"]
    assert not [d for d in reported if d["code"] == Code.CONFLICT.value], run.stdout
    assert all(d["severity"] != "error" for d in reported), run.stdout

    monkeypatch.chdir(ROOT)
    report = _analysed(path)
    assert [d.code.value for d in report.diagnostics] == [d["code"] for d in reported]
    problems = [p for d in report.diagnostics for p in _replay_problems(d, as_finding(d), path)]
    assert not problems, "\n".join(problems)
