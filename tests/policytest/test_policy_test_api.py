"""`policylang.policy_tests.run_tests` in process: every malformed test file is a positioned
diagnostic, values compare as the language means them, coverage counts rules where they are
defined, and each policy is loaded once per run."""

from __future__ import annotations

from pathlib import Path

import pytest
from policytest_helpers import FAILING, PASSING, SHIPPING, write

from policylang import Code, ExitCode
from policylang.policy_tests import DEFAULT_AS_OF, TestReport, junit_xml, run_tests

HEAD = "policy: shipping.policy\ncases:\n"


def _run(tmp_path: Path, files: dict[str, str], *paths: str) -> TestReport:
    write(tmp_path, {"shipping.policy": SHIPPING, **files})
    return run_tests([tmp_path / p for p in paths] or [tmp_path])


# (test file text, code, line, column, text under the caret, part of the hint)
MALFORMED = [
    pytest.param(
        HEAD + "  - name: x\n    facts: {tier: gold\n    expect: {fee: 0}\n",
        Code.FACTS_ERROR, 5, 11, ":", "a test file is a mapping",
        id="malformed-yaml",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {tier: gold, weight: 1}\n    expect: {fees: 0}\n",
        Code.UNKNOWN_NAME, 5, 14, "fees", "did you mean `fee`?",
        id="unknown-output",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {tier: gold, weight: 1}\n    fired: [gold_fee]\n",
        Code.UNKNOWN_NAME, 5, 13, "gold_fee", "did you mean `gold_free`?",
        id="unknown-rule-in-fired",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {tier: gold, weight: 1}\n    not_fired: [nope]\n",
        Code.UNKNOWN_NAME, 5, 17, "nope", "its rules are `gold_free`, `heavy`",
        id="unknown-rule-in-not-fired",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {tier: gold, weight: 1}\n    expect:\n      speed: quick\n",
        Code.TYPE_MISMATCH, 6, 14, "quick", "enum members are matched exactly",
        id="value-not-a-member",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {tier: gold, weight: 1}\n    expect: {extras: tracking}\n",
        Code.TYPE_MISMATCH, 5, 22, "tracking", 'write a list such as ["a", "b"]',
        id="set-written-as-one-value",
    ),
    pytest.param(
        HEAD + "  - name: no facts here\n    expect: {fee: 0}\n",
        Code.FACTS_ERROR, 3, 11, "no facts here", "`facts: {}` for none",
        id="missing-facts",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: ~\n    expect: {fee: 0}\n",
        Code.FACTS_ERROR, 4, 12, "~", "facts are a mapping",
        id="facts-not-a-mapping",
    ),
    pytest.param(
        HEAD + "  - facts: {}\n    expect: {fee: 5}\n",
        Code.FACTS_ERROR, 3, 5, "facts: {}", "give every case a `name:`",
        id="missing-name",
    ),
    pytest.param(
        HEAD + "  - name: same\n    facts: {}\n    fired: []\n  - name: same\n    facts: {}\n    fired: []\n",
        Code.DUPLICATE_NAME, 6, 11, "same", "give every case its own name",
        id="duplicate-case-name",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {tier: gold, tier: basic}\n    fired: []\n",
        Code.DUPLICATE_NAME, 4, 25, "tier", "give each key once",
        id="fact-given-twice",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {}\n    expected: {fee: 0}\n",
        Code.UNKNOWN_NAME, 5, 5, "expected", "did you mean `expect`?",
        id="misspelt-key",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {}\n",
        Code.FACTS_ERROR, 3, 11, "x", "add `expect:`",
        id="case-expects-nothing",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {}\n    expect: {fee: 0}\n    error: conflict\n",
        Code.FACTS_ERROR, 6, 5, "error", "a case that expects an error has no decision",
        id="error-and-expect",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {}\n    error: conflit\n",
        Code.UNKNOWN_NAME, 5, 12, "conflit", "did you mean `conflict`?",
        id="unknown-error-kind",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {}\n    fired: [heavy]\n    fired_includes: [heavy]\n",
        Code.FACTS_ERROR, 6, 5, "fired_includes", "use `fired` alone",
        id="fired-with-fired-includes",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {}\n    fired: heavy\n",
        Code.FACTS_ERROR, 5, 12, "heavy", "write a list of rule ids",
        id="fired-not-a-list",
    ),
    pytest.param(
        HEAD + "  - name: x\n    as_of: 2026-03-01T10:00:00\n    facts: {}\n    fired: []\n",
        Code.TYPE_MISMATCH, 4, 12, "2026-03-01T10:00:00", "add `Z` for UTC",
        id="as-of-without-a-zone",
    ),
    pytest.param(
        "policy: elsewhere.policy\ncases:\n  - name: x\n    facts: {}\n    fired: []\n",
        Code.IO_ERROR, 1, 9, "elsewhere.policy", "relative to the test file's folder",
        id="policy-not-found",
    ),
    pytest.param(
        "policy: shipping.policy\ncase:\n  - name: x\n",
        Code.UNKNOWN_NAME, 2, 1, "case", "did you mean `cases`?",
        id="misspelt-top-level-key",
    ),
    pytest.param(
        "- name: x\n  facts: {}\n",
        Code.FACTS_ERROR, 1, 1, "- name: x", "a test file is a mapping with `cases:`",
        id="a-list-at-the-top",
    ),
    pytest.param(
        HEAD + "  - name: x\n    facts: {weight: !!python/object:os.system echo}\n    fired: []\n",
        Code.FACTS_ERROR, 4, 21, "!!python/object:os.system echo", "plain values",
        id="unsafe-tag",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "code", "line", "column", "under", "hint"), MALFORMED)
def test_every_problem_of_a_test_file_points_at_its_line_and_column(
    tmp_path: Path, text: str, code: Code, line: int, column: int, under: str, hint: str | None
) -> None:
    report = _run(tmp_path, {"t.test.yaml": text}, "t.test.yaml")
    assert report.exit_code == ExitCode.USAGE
    [file] = report.files
    assert file.cases == ()  # a test file with problems runs nothing
    found = [d for d in file.problems if d.code == code and d.span is not None and d.span.line == line]
    assert found, [(d.code, d.span and d.span.line, d.message) for d in file.problems]
    problem = found[0]
    assert problem.span is not None and problem.span.column == column
    assert text[problem.span.start : problem.span.end] == under
    if hint is not None:
        assert problem.hint is not None and hint in problem.hint
    assert problem.message and not problem.message[0].isupper() and not problem.message.endswith(".")


def test_a_problem_in_one_case_is_reported_with_the_others_in_one_pass(tmp_path: Path) -> None:
    text = HEAD + (
        "  - name: a\n    facts: {}\n    expect: {fees: 0}\n"
        "  - name: b\n    facts: {}\n    expect: {fee: lots}\n"
        "  - name: c\n    facts: {}\n    fired: [heavyy]\n"
    )
    report = _run(tmp_path, {"t.test.yaml": text}, "t.test.yaml")
    codes = [(d.code, d.span.line if d.span else 0) for d in report.files[0].problems]
    assert codes == [(Code.UNKNOWN_NAME, 5), (Code.TYPE_MISMATCH, 8), (Code.UNKNOWN_NAME, 11)]


def test_expected_values_are_converted_to_the_outputs_type(tmp_path: Path) -> None:
    support = Path(__file__).resolve().parents[2] / "examples" / "support" / "support.policy"
    text = (
        f"policy: {support}\ncases:\n"
        "  - name: minutes are hours\n    facts: {tier: premium, tenure: 3y, monthly_spend: 500}\n"
        "    expect: {sla: 240m, skip_fraud_check: true, perks: []}\n"
        "  - name: days are hours\n    facts: {tier: basic, tenure: 3y, monthly_spend: 500}\n"
        "    expect: {sla: 3d}\n"
        "  - name: hours are not days\n    facts: {tier: basic, tenure: 3y, monthly_spend: 500}\n"
        "    expect: {sla: 71h}\n"
    )
    report = run_tests([write(tmp_path, {"s.test.yaml": text}) / "s.test.yaml"])
    statuses = [case.status for case in report.cases]
    assert statuses == ["passed", "passed", "failed"]
    [mismatch] = report.cases[2].mismatches
    assert mismatch.text == "sla: expected 2d23h, got 3d (the default)"


def test_null_expects_no_value_and_segments_and_lets_can_be_expected(tmp_path: Path) -> None:
    report = _run(tmp_path, {"shipping.test.yaml": PASSING, "failing.test.yaml": FAILING}, "failing.test.yaml")
    courier = report.files[0].cases[3]
    assert [m.what for m in courier.mismatches] == ["speed"]  # courier: ~ held; speed has its default
    support = Path(__file__).resolve().parents[2] / "examples" / "support" / "support.policy"
    text = (
        f"policy: {support}\ncases:\n  - name: segments\n"
        "    facts: {tier: premium, tenure: 3y, monthly_spend: 10_000}\n"
        "    expect: {key_customer: false, yearly_spend: 120_000, segments.high_spend: true, fraud.new_customer: ~}\n"
    )
    report = run_tests([write(tmp_path, {"s.test.yaml": text}) / "s.test.yaml"])
    [case] = report.cases
    assert [m.text for m in case.mismatches] == [
        "key_customer: expected false, got true",
        "fraud.new_customer: expected no value, got false",
    ]


def test_yaml_merge_keys_share_facts_between_cases(tmp_path: Path) -> None:
    text = HEAD + (
        "  - name: gold\n    facts: &gold {tier: gold, weight: 1}\n    expect: {fee: 0}\n"
        "  - name: gold and heavy\n    facts: {<<: *gold, weight: 30}\n    fired: [gold_free, heavy]\n"
    )
    report = _run(tmp_path, {"t.test.yaml": text}, "t.test.yaml")
    assert report.ok, [d.message for f in report.files for d in f.problems] + [c.mismatches for c in report.cases]


def test_now_is_a_fixed_instant_unless_a_case_says_otherwise(tmp_path: Path) -> None:
    policy = "input {\n    signed_up: datetime\n}\nif now - signed_up < 30d then welcome\n"
    text = (
        "as_of: 2026-06-01T00:00:00Z\ncases:\n"
        "  - name: the file's time\n    facts: {signed_up: 2026-05-20T00:00:00Z}\n    expect: {welcome: true}\n"
        "  - name: the case's own time\n    as_of: 2027-01-01T00:00:00+01:00\n"
        "    facts: {signed_up: 2026-05-20T00:00:00Z}\n    fired: []\n"
    )
    default = "cases:\n  - name: default\n    facts: {signed_up: 2025-12-15T00:00:00Z}\n    expect: {welcome: true}\n"
    write(tmp_path, {"welcome.policy": policy, "welcome.test.yaml": text, "d/welcome.policy": policy})
    write(tmp_path, {"d/welcome.test.yaml": default})
    report = run_tests([tmp_path])
    assert report.ok, [c.mismatches for c in report.cases]
    assert DEFAULT_AS_OF.isoformat() == "2026-01-01T00:00:00+00:00"


def test_a_policy_with_errors_makes_every_case_an_error_and_exits_1(tmp_path: Path) -> None:
    broken = SHIPPING.replace("tier == gold", 'tier == "gold"')
    write(tmp_path, {"shipping.policy": broken, "shipping.test.yaml": PASSING})
    report = run_tests([tmp_path / "shipping.test.yaml"])
    assert report.exit_code == ExitCode.FINDINGS
    [file] = report.files
    assert [case.status for case in file.cases] == ["error"] * 3
    assert [d.code for d in file.policy_problems] == [Code.TYPE_MISMATCH]
    assert '<error type="type-mismatch" message="the policy `' in junit_xml(report)


def test_conflicts_can_be_expected_and_their_rules_still_count_as_matched(tmp_path: Path) -> None:
    policy = "input {\n    a: bool\n    b: bool\n}\nrule one:\n    if a\n    then sla = 4h\nrule two:\n    if b\n    then sla = 2h\n"
    text = (
        "cases:\n  - name: both\n    facts: {a: true, b: true}\n    error: {code: conflict, message: sla}\n"
        "  - name: unexpected\n    facts: {a: true, b: true}\n    expect: {sla: 4h}\n"
    )
    write(tmp_path, {"c.policy": policy, "c.test.yaml": text})
    report = run_tests([tmp_path])
    assert [case.status for case in report.cases] == ["passed", "error"]
    problem = report.cases[1].problems[0]
    assert problem.code == Code.CONFLICT and [label.text for label in problem.labels] == [
        "`one` says 4h",
        "`two` says 2h",
    ]
    [file] = report.coverage.files
    assert (file.matched, file.decided, [r.rule for r in file.never_decided]) == (2, 0, ["one", "two"])


def test_imported_rules_count_for_the_file_that_defines_them(tmp_path: Path) -> None:
    library = "input {\n    n: int\n}\nrule small:\n    if n < 10\n    then size = 1\nrule large:\n    if n >= 10\n    then size = 2\n"
    app = 'import "lib.policy"\n\nrule special:\n    if n == 7\n    then lucky\n'
    cases = "cases:\n  - name: seven\n    facts: {n: 7}\n    fired: [special, lib.small]\n"
    write(tmp_path, {"lib.policy": library, "app.policy": app, "app.test.yaml": cases})
    coverage = run_tests([tmp_path / "app.test.yaml"]).coverage
    assert [(f.file.rsplit("/", 1)[-1], f.tested, f.matched, len(f.rules)) for f in coverage.files] == [
        ("app.policy", True, 1, 1),
        ("lib.policy", False, 1, 2),
    ]
    assert coverage.percent == 100.0  # the library's unused rule does not count against the app
    write(tmp_path, {"lib.test.yaml": "cases:\n  - name: big\n    facts: {n: 99}\n    expect: {size: 2}\n"})
    coverage = run_tests([tmp_path]).coverage
    library_file = next(f for f in coverage.files if f.file.endswith("lib.policy"))
    assert library_file.tested and [r.rule for r in library_file.rules] == ["small", "large"]
    assert (library_file.matched, coverage.rules, coverage.matched) == (2, 3, 3)  # small: by the app's case


def test_each_policy_is_loaded_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policylang.policy_tests import runner

    loads: list[str] = []
    real = runner.load

    def counting(path: str, **options: object) -> object:
        loads.append(path)
        return real(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "load", counting)
    report = _run(tmp_path, {"shipping.test.yaml": PASSING, "failing.test.yaml": FAILING})
    assert len(report.files) == 2 and len(loads) == 1


def test_folders_skip_hidden_folders_and_virtual_environments(tmp_path: Path) -> None:
    write(tmp_path, {"shipping.test.yaml": PASSING, ".hidden/x.test.yaml": "junk", "venv/pyvenv.cfg": ""})
    write(
        tmp_path, {"venv/lib/y.test.yaml": "junk", "sub/shipping.policy": SHIPPING, "sub/shipping.test.yaml": PASSING}
    )
    report = _run(tmp_path, {})
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in report.files] == [
        "shipping.test.yaml",
        "sub/shipping.test.yaml",
    ]
    assert report.ok


def test_a_bad_test_file_of_a_broken_policy_shows_both_and_runs_nothing(tmp_path: Path) -> None:
    from policylang.policy_tests import render_report

    broken = SHIPPING.replace("weight > 20", "weight > 20kg")
    write(tmp_path, {"shipping.policy": broken, "shipping.test.yaml": PASSING.replace("fired:", "fird:", 1)})
    report = run_tests([tmp_path])
    [file] = report.files
    assert report.exit_code == ExitCode.USAGE and file.cases == ()
    assert [d.code for d in file.problems] == [Code.UNKNOWN_NAME]
    assert [d.code for d in file.policy_problems] == [Code.SYNTAX_ERROR]
    text = render_report(report)
    assert "PROBLEMS " in text and "has errors\n" in text
    assert text.rstrip().endswith("1 test file not run in " + text.rstrip()[-5:])
