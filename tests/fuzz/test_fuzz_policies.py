"""Fuzzing `policy check` and `policy fmt` (and `policylang.check_file`, `format_file`, `load`) with
generated, mutated and hostile policies: diagnostics or success, never an internal error, a
traceback or a hang; and a policy `check` passes always loads (issue 12: "`policy check` never
passes a policy that cannot load")."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzz_harness import (
    FuzzFailure,
    api,
    assert_no_internal_error,
    cli,
    fuzz_settings,
    tolerating_known_open,
)
from fuzz_inputs import PolicyCase, policy_cases
from hypothesis import given

import policylang


def check_policy_everywhere(case: PolicyCase, folder: Path) -> None:
    """The policy through the API (check, format, load) and the CLI (check text and JSON, fmt --check)."""
    path = case.write(folder)
    checked = api("check_file", lambda: policylang.check_file(path))
    report = checked.value
    assert report is not None
    assert_no_internal_error(report.diagnostics, "check_file")
    api("rendering check_file's report", report.render)
    formatted = api("format_file", lambda: policylang.format_file(path))
    assert_no_internal_error(formatted.value[2], "format_file")
    if report.ok:
        loaded = api("load", lambda: policylang.load(path, refuse_conflicts=False))
        if loaded.error is not None:
            raise FuzzFailure("check passes a policy that cannot load", str(loaded.error)[:1500])
    run = cli(["check", case.name], cwd=folder)
    if run.code == 0 and not report.ok:
        raise FuzzFailure("`policy check` exits 0 on a policy with errors", run.output[-1500:])
    cli(["check", "--format", "json", "--strict", case.name], cwd=folder)
    cli(["fmt", "--check", case.name], cwd=folder)


@fuzz_settings(short=60, long=3000)
@given(policy_cases)
def test_any_policy_through_check_and_fmt(case: PolicyCase) -> None:
    with tempfile.TemporaryDirectory() as tmp, tolerating_known_open(case):
        check_policy_everywhere(case, Path(tmp))
