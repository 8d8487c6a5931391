"""Issue 12 (hardening), the compile part: H1 (`policy check` passed policies that could not be
compiled), M3 (chains of lets and segments crashed check, load and explain), the message for a
MemoryError while compiling, and one rule for internal errors at the public API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.cpu_guard import within

import policylang
from policylang import Code, EvaluationError, FactsError, InternalError, PolicyError
from policylang.api import check_file, check_source, with_analysis
from policylang.cli import main
from policylang.core.diagnostics import Diagnostic
from policylang.engine import evaluator
from policylang.explain.rendering import explanation, render_json, render_text
from policylang.syntax.parser import MAX_DEPTH


def policy_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "policylang", *args], capture_output=True, text=True, cwd=cwd,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def invoke(args: list[str]) -> tuple[int, str, str]:
    """`policy ARGS` in this process (so that a test can break the package on purpose)."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()


def under_span(diagnostic: Diagnostic, text: str) -> str:
    assert diagnostic.span is not None
    return text[diagnostic.span.start : diagnostic.span.end]


HEADER = "input { n: int?\n b: bool? }\noutput { x: bool = false resolve any }\n"


def added(levels: int) -> str:
    """`((n + 1) + 1) ...`: an addition nested `levels` deep on an optional fact."""
    expr = "n"
    for _ in range(levels):
        expr = f"({expr} + 1)"
    return expr


# --- H1: `policy check` passes only policies that load -------------------------------------------


def issue_h1_policy() -> str:
    """The issue's reproduction: 66 levels of `(n + 1)` and an unreachable rule."""
    return f"input {{ n: int? }}\noutput {{ x: bool = false resolve any }}\nif {added(66)} > 3 then x\nif n > 1 and n < 1 then x\n"


def test_h1_sixty_six_nested_additions_check_load_and_decide_and_the_analysis_runs(tmp_path: Path) -> None:
    path = tmp_path / "d.policy"
    path.write_text(issue_h1_policy())
    result = policy_cli("check", "d.policy", cwd=tmp_path)
    assert "warning[unreachable-rule]: rule `d#2` can never match" in result.stdout, result.stdout
    assert result.returncode == 0  # a warning; the policy compiles
    policy = policylang.load(path, refuse_conflicts=False)
    assert policy.decide({"n": -64})["x"] is False  # -64 + 66 = 2, not > 3
    assert policy.decide({"n": -62})["x"] is True  # 4 > 3
    assert policy.decide({})["x"] is False  # a missing fact: the comparison is not true
    evaluated = policy_cli("eval", "d.policy", "--set", "n=-62", cwd=tmp_path)
    assert evaluated.returncode == 0 and "x  true" in evaluated.stdout, evaluated.stdout + evaluated.stderr


SHAPES = {
    # each nests exactly MAX_DEPTH levels as written, the parser's limit
    "additions": f"if {added(MAX_DEPTH - 1)} > 3 then x",
    "negations": "if " + "not (" * (MAX_DEPTH - 2) + "n > 1" + ")" * (MAX_DEPTH - 2) + " then x",
    "and of optional bools": "if " + "(b and " * (MAX_DEPTH - 1) + "n > 1" + ")" * (MAX_DEPTH - 1) + " then x",
    "or of four": "if " + "(b or n > 1 or n < -5 or " * (MAX_DEPTH - 2) + "b" + ")" * (MAX_DEPTH - 2) + " then x",
    "between": f"if {added(MAX_DEPTH - 1)} between n and n + 200 then x",
    "presence": f"if {added(MAX_DEPTH - 2).replace('+', '*')} is present then x",
    "let": f"let big = {added(MAX_DEPTH - 1)}\nif big > 3 then x",
}


@pytest.mark.parametrize("body", SHAPES.values(), ids=SHAPES.keys())
def test_h1_every_shape_at_the_nesting_limit_checks_compiles_decides_and_explains(body: str) -> None:
    text = HEADER + body + "\n"
    with within(120, "a policy at the nesting limit"):
        report = with_analysis(check_source(text, "deep.policy"))
        assert report.ok, report.render()
        policy = policylang.compile(text, "deep.policy")
        for facts in ({"n": 1, "b": True}, {"n": 5, "b": False}, {}):
            decision = policy.decide(facts)
            explained = explanation(decision, why_not=[] if decision["x"] else ["x"])
            assert "x" in render_text(explained) and render_json(explained)
    assert policy.decide({"n": 5, "b": True})["x"] is True  # every shape holds for these facts
    assert len(policy.decide({"n": 5, "b": True}).fired) == 1


def test_h1_deep_conditions_through_the_index_tree_and_shared_atoms_decide_as_written() -> None:
    """60 rules (dispatched through the index tree) with conditions deep enough to be split into
    functions, two rules sharing a deep atom, and an outputs-only function: every decision matches
    the conditions computed in plain Python."""
    levels = 70
    lines = [
        "input { tier: enum(t0, t1, t2, t3, t4)\n n: int?\n m: int? }",
        'output { q: string = "none" resolve first\n f: bool = false resolve any }',
    ]
    for i in range(60):
        m_part = added(levels - 5).replace("n", "m")
        lines.append(
            f'if tier == t{i % 5} and {added(levels)} > {i + levels} and ({m_part} < {i} or m is missing) then q = "r{i}", f'
        )
    lines.append(f"if {added(levels).replace('n', 'm')} > 80 then f")
    lines.append(f'if {added(levels).replace("n", "m")} > 80 and n is missing then q = "shared"')
    policy = policylang.compile("\n".join(lines) + "\n", "wide.policy")
    assert "_part" in policy.decision_graph.source  # the deep parts were split off
    cases = [(tier, n, m) for tier in range(5) for n in (None, -8, 3, 31, 69) for m in (None, -80, -20, 5, 11, 40)]
    for tier, n, m in cases:
        want_q, want_f = "none", False
        for i in range(60):
            if tier == i % 5 and n is not None and n > i and (m is None or m + levels - 5 < i):
                want_q, want_f = f"r{i}", True
                break
        if m is not None and m + levels > 80:
            want_f = True
            want_q = "shared" if want_q == "none" and n is None else want_q
        facts = {"tier": f"t{tier}"} | ({} if n is None else {"n": n}) | ({} if m is None else {"m": m})
        decision = policy.decide(facts)
        assert (decision["q"], decision["f"]) == (want_q, want_f), facts
        assert len(decision.fired) >= (want_q != "none")


def test_h1_one_level_past_the_limit_is_limit_exceeded_at_the_expression_from_check_load_and_eval(
    tmp_path: Path,
) -> None:
    text = HEADER + f"if {added(MAX_DEPTH)} > 3 then x\n"
    path = tmp_path / "deep.policy"
    path.write_text(text)
    (problem,) = check_file(path).diagnostics
    assert problem.code is Code.LIMIT_EXCEEDED
    assert problem.message == f"expression nested more than {MAX_DEPTH} levels deep"
    assert under_span(problem, text) == "n + 1"  # the level past the limit, the innermost one
    with pytest.raises(PolicyError) as raised:
        policylang.load(path)
    assert [d.code for d in raised.value.diagnostics] == [Code.LIMIT_EXCEEDED]
    evaluated = policy_cli("eval", "deep.policy", "--set", "n=1", cwd=tmp_path)
    assert evaluated.returncode == 1
    assert "deep.policy:4:" in evaluated.stderr and "error[limit-exceeded]" in evaluated.stderr


def test_h1_a_policy_that_fails_to_compile_is_an_error_of_check_never_no_problems_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(policy: Any) -> Any:
        raise SyntaxError("too many nested parentheses")

    monkeypatch.setattr("policylang.engine.evaluator.compile_policy", broken)
    report = with_analysis(check_source(issue_h1_policy(), "d.policy"))
    assert not report.ok
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code is Code.INTERNAL_ERROR
    assert "compiling failed" in problem.message and "SyntaxError: too many nested parentheses" in problem.message
    with pytest.raises(PolicyError) as raised:
        policylang.compile(issue_h1_policy(), "d.policy")
    assert [d.code for d in raised.value.diagnostics if d.is_error] == [Code.INTERNAL_ERROR]


def test_h1_memory_error_while_compiling_says_the_policy_is_too_large_not_too_deeply_nested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def out_of_memory(policy: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr("policylang.engine.evaluator.compile_policy", out_of_memory)
    report = with_analysis(check_source("if n > 1 then x\n", "big.policy"))
    (problem,) = report.diagnostics
    assert problem.code is Code.LIMIT_EXCEEDED
    assert problem.message == "the policy is too large to compile in the memory available (MemoryError)"
    assert "nested" not in problem.message and problem.hint
    with pytest.raises(PolicyError) as raised:
        policylang.compile("if n > 1 then x\n", "big.policy")
    assert raised.value.diagnostics == (problem,)


# --- M3: chains of lets and segments ---------------------------------------------------------------


def chain(kind: str, count: int) -> str:
    """The issue's chains: `let l{i} = l{i-1} + 1` or `segment s{i} = s{i-1} and n > {i}`, then a rule."""
    lines = [HEADER.rstrip("\n")]
    if kind == "let":
        lines.append("let l0 = n + 1")
        lines += [f"let l{i} = l{i - 1} + 1" for i in range(1, count)]
        lines.append(f"if l{count - 1} > 3 then x")
    else:
        lines.append("segment s0 = n > 1")
        lines += [f"segment s{i} = s{i - 1} and n > {i}" for i in range(1, count)]
        lines.append(f"if s{count - 1} then x")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("kind", "count"), [("let", 200), ("let", 1000), ("segment", 200), ("segment", 1000)])
def test_m3_a_long_chain_is_one_limit_exceeded_where_it_passes_the_limit(kind: str, count: int, tmp_path: Path) -> None:
    text = chain(kind, count)
    path = tmp_path / "chain.policy"
    path.write_text(text)
    with within(60, f"{count} chained {kind}s"):
        report = with_analysis(check_file(path))
    (problem,) = report.diagnostics
    assert problem.code is Code.LIMIT_EXCEEDED
    name = "l99" if kind == "let" else "s99"  # l0 and s0 are one level; the 101st reads the 100th
    assert under_span(problem, text) == name
    lines = text.splitlines()
    reading, read = (f"{kind} {name[0]}100 =", f"{kind} {name} =")
    assert problem.span is not None and lines[problem.span.line - 1].startswith(reading)
    assert problem.message == f"`{name}` nests 100 levels deep written out, which takes this expression past 100 levels"
    assert [lines[label.span.line - 1].startswith(read) for label in problem.labels] == [True]
    with pytest.raises(PolicyError) as raised:
        policylang.load(path)
    assert raised.value.diagnostics == (problem,)
    for command in (["eval", "chain.policy", "--set", "n=5"], ["explain", "chain.policy", "--set", "n=5"]):
        result = policy_cli(*command, cwd=tmp_path)
        assert result.returncode == 1 and "error[limit-exceeded]" in result.stderr, result.stderr


@pytest.mark.parametrize(("kind", "count"), [("let", 99), ("segment", 100)])
def test_m3_a_chain_at_the_limit_works_in_check_eval_explain_trace_and_why_not(kind: str, count: int) -> None:
    text = chain(kind, count)
    with within(120, f"{count} chained {kind}s"):
        report = with_analysis(check_source(text, "chain.policy"))
        assert report.ok, report.render()
        policy = policylang.compile(text, "chain.policy")
        decisions = [policy.decide({"n": n}) for n in (-97, -96, 5, 200)] + [policy.decide({})]
        for decision in decisions:
            explained = explanation(decision, why_not=[] if decision["x"] else ["x"])
            assert render_text(explained) and render_json(explained)
            assert decision.trace().outputs[0].output == "x"
    if kind == "let":  # l98 = n + 99
        assert [d["x"] for d in decisions] == [False, False, True, True, False]
    else:  # s99 = n > 1 and n > 1 ... and n > 99
        assert [d["x"] for d in decisions] == [False, False, False, True, False]


def test_m3_segments_that_each_read_the_one_before_twice_explain_in_linear_size() -> None:
    lines = [HEADER.rstrip("\n"), "segment s0 = n > 1"]
    # 2^16 parts written out: past MAX_SHOWN_PARTS (and 2^100 at the nesting limit would never end)
    lines += [f"segment s{i} = s{i - 1} and (s{i - 1} or n > {i})" for i in range(1, 16)]
    text = "\n".join([*lines, "if s15 then x"]) + "\n"
    policy = policylang.compile(text, "twice.policy")
    with within(60, "explaining 2^16 parts written out"):
        decision = policy.decide({"n": 5})
        (rule,) = decision.trace().outputs[0].rules
        explained = explanation(decision)
        assert "s14" in render_text(explained) and len(render_json(explained)) < 200_000
    expanded = []
    stack = [rule.condition]
    while stack:
        part = stack.pop()
        if part.kind == "segment" and part.parts:
            expanded.append(part.text)
        stack.extend(part.parts)
    assert sorted(expanded) == sorted(f"s{i}" for i in range(16))  # each written out once
    assert rule.matched and rule.condition.result is True


# --- internal errors at the API: the package's own error, with an internal-error diagnostic --------


def test_decide_turns_a_bug_into_internal_error_and_keeps_its_own_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = policylang.compile(HEADER + "if n > 1 then x\n", "p.policy")

    def overflow(facts: Any) -> Any:
        raise OverflowError("date value out of range")

    with pytest.raises(FactsError):  # an intentional error passes through untouched
        policy.decide({"n": "many"})
    monkeypatch.setattr(policy._validator, "fast", overflow)  # the generated validator decide() calls first
    with pytest.raises(InternalError) as raised:
        policy.decide({"n": 1})
    assert isinstance(raised.value, EvaluationError)
    assert raised.value.diagnostic.code is Code.INTERNAL_ERROR
    assert "OverflowError: date value out of range" in raised.value.diagnostic.message
    assert policy.content_hash[:12] in raised.value.diagnostic.message
    assert isinstance(raised.value.__cause__, OverflowError)


def test_decide_many_turns_a_bug_into_internal_error_after_the_good_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = policylang.compile(HEADER + "if n > 1 then x\n", "p.policy")
    assert policy._batch_function() is not None  # the bug is met in the generated batch loop
    set_made = evaluator._set_made

    def fails_on_seven(decision: Any, made: Any) -> Any:
        if made[1]["n"] == 7:
            raise RecursionError("maximum recursion depth exceeded")
        return set_made(decision, made)

    monkeypatch.setattr(evaluator, "_set_made", fails_on_seven)
    decided = []
    with pytest.raises(InternalError) as raised:
        for decision in policy.decide_many([{"n": 0}, {"n": 2}, {"n": 7}, {"n": 3}]):
            decided.append(decision["x"])
    assert decided == [False, True]
    assert "RecursionError" in raised.value.diagnostic.message


def test_eval_prints_internal_error_for_a_bug_while_deciding(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "p.policy"
    path.write_text(HEADER + "if n > 1 then x\n")

    def broken(cls: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("policylang.engine.evaluator._new_decision", broken)  # where decide() builds the Decision
    code, out, err = invoke(["eval", str(path), "--set", "n=2"])
    assert code == 2 and out == ""
    assert "error[internal-error]: deciding failed" in err and "ZeroDivisionError: a bug" in err, err
    assert "evaluation-error" not in err


def test_check_source_and_check_file_report_a_bug_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("policylang.api.check", broken)
    monkeypatch.setattr("policylang.engine.loading.check", broken)  # compile_snapshot's
    path = tmp_path / "p.policy"
    path.write_text("if n > 1 then x\n")
    for report in (check_source("if n > 1 then x\n", "p.policy"), check_file(path)):
        (problem,) = report.diagnostics
        assert problem.code is Code.INTERNAL_ERROR and "checking failed: RecursionError" in problem.message
        assert not report.ok
    for make in (lambda: policylang.compile("if n > 1 then x\n"), lambda: policylang.load(path)):
        with pytest.raises(PolicyError) as raised:
            make()
        assert [d.code for d in raised.value.diagnostics] == [Code.INTERNAL_ERROR]
    snapshot = {"root": "p.policy", "modules": {"p.policy": {"name": "p.policy", "text": "if n > 1 then x\n"}}}
    with pytest.raises(PolicyError) as raised:
        policylang.compile_snapshot(snapshot)
    assert [d.code for d in raised.value.diagnostics] == [Code.INTERNAL_ERROR]


def test_load_reports_a_bug_in_the_conflict_analysis_as_internal_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(policy: Any) -> Any:
        raise KeyError("a3")

    monkeypatch.setattr("policylang.analysis.cache.verdict", broken)
    path = tmp_path / "p.policy"
    path.write_text(HEADER + "if n > 1 then x\n")
    with pytest.raises(PolicyError) as raised:
        policylang.load(path)
    (problem,) = raised.value.diagnostics
    assert problem.code is Code.INTERNAL_ERROR and problem.message.startswith("the analysis failed")
    assert policylang.load(path, refuse_conflicts=False).decide({"n": 2})["x"] is True


def test_format_source_reports_a_bug_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str, filename: str) -> Any:
        raise IndexError("list index out of range")

    monkeypatch.setattr("policylang.syntax.formatter.format_source", broken)
    result = policylang.format_source("if n > 1 then x\n")
    assert result.text is None
    assert [d.code for d in result.diagnostics] == [Code.INTERNAL_ERROR]
    assert "IndexError: list index out of range" in result.diagnostics[0].message


def test_a_wrong_unknown_facts_is_still_the_callers_value_error() -> None:
    with pytest.raises(ValueError, match="unknown_facts"):
        policylang.compile("if n > 1 then x\n", unknown_facts="maybe")
