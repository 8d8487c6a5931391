"""Fuzzing `policy eval`, `explain`, `test` and the decision log with facts for any policy's `input`
block (fitting values at every edge, and hostile ones), through the API and the CLI: a decision or
a diagnostic, never an internal error, a traceback or a hang; and a recorded decision reads back,
verifies and replays as it was made (issue 12: "a recorded decision is never lost or altered")."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fuzz_harness import (
    FuzzFailure,
    api,
    cli,
    facts_file,
    fuzz_settings,
    tolerating_known_open,
)
from fuzz_inputs import (
    HOSTILE_FACT_TEXTS,
    SEEDS,
    PolicyCase,
    facts_for,
    facts_text,
    hostile_policies,
    mutated_policies,
    policy_strategies,
)
from hypothesis import given
from hypothesis import strategies as st

import policylang

AS_OF = (
    "2026-01-31T09:00:00Z",
    "2026-01-31T10:00:00+01:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
)

_generated = policy_strategies.policies().map(lambda text: PolicyCase("generated.policy", text))
_seeds = st.sampled_from(SEEDS)
# Mostly policies that check clean (generated ones and the real ones), so that most examples get
# as far as a decision; hostile and mutated ones for the error paths of eval, explain and test.
_policies = st.one_of(_generated, _seeds, _generated, _seeds, hostile_policies(), mutated_policies())


def _test_file(policy: str, facts: dict[str, Any], as_of: str) -> str:
    """A `policy test` file with one case giving these facts (JSON is YAML's flow style)."""
    return f"policy: {policy}\ncases:\n  - name: fuzzed\n    facts: {facts_file(facts)}\n    as_of: '{as_of}'\n    fired: []\n"


def decide_everywhere(folder: Path, case: PolicyCase, data: st.DataObject) -> None:
    path = case.write(folder)
    report = api("check_file", lambda: policylang.check_file(path)).value
    if report.policy is None or not report.ok:
        cli(["eval", case.name, "--set", "x=1"], cwd=folder)
        return
    types = {name: fact.type for name, fact in report.policy.facts.items()}
    if case.name == "generated.policy" and data.draw(st.booleans()):
        facts = data.draw(policy_strategies.facts())
    else:
        facts = data.draw(facts_for(types))
    as_of = data.draw(st.sampled_from(AS_OF))

    # --- the API ---
    loaded = api("load", lambda: policylang.load(path, refuse_conflicts=False))
    if loaded.error is not None:
        raise FuzzFailure("check passes a policy that cannot load", str(loaded.error)[:1500])
    policy = loaded.value
    decided = api("decide", lambda: policy.decide(facts, as_of=as_of, on_conflict="mark"))
    decision = decided.value
    if decision is not None:
        api("explain", lambda: decision.explain(width=80))
        api("to_json", decision.to_json)
        for output, value in list(decision.outputs.items())[:1]:
            api("why_not", lambda output=output, value=value: decision.why_not(output, value))
        log_path = folder / "api.db"
        opened = api("open_log", lambda: policylang.open_log(log_path))
        with opened.value as log:
            recorded = api("decide with a log", lambda: policy.decide(facts, as_of=as_of, on_conflict="mark", log=log))
            if recorded.value is not None:
                the_id = recorded.value.id
                api("log.get", lambda: log.get(the_id).facts_given())
                verified = api("log.verify", log.verify).value
                if verified is not None and not verified.ok:
                    raise FuzzFailure("a recorded decision does not verify", repr(verified.problems)[:1500])
                replayed = api("log.replay", lambda: log.replay(the_id))
                if replayed.error is not None:
                    raise FuzzFailure("a recorded decision does not replay", str(replayed.error)[:1500])
                if replayed.value.differences:
                    raise FuzzFailure("a recorded decision replays differently", repr(replayed.value.differences))

    # --- the command line ---
    name, text = facts_text(facts, yaml_form=data.draw(st.booleans()))
    (folder / name).write_text(text, encoding="utf-8")
    common = ["--input", name, "--as-of", as_of]
    cli(
        ["eval", case.name, *common, "--format", data.draw(st.sampled_from(("text", "json"))), "--on-conflict", "mark"],
        cwd=folder,
    )
    explain = [
        "explain",
        case.name,
        *common,
        "--format",
        data.draw(st.sampled_from(("text", "json", "markdown", "html"))),
    ]
    if decision is not None and decision.outputs and data.draw(st.booleans()):
        output = data.draw(st.sampled_from(sorted(decision.outputs)))
        explain += [
            "--why-not",
            f"{output}={data.draw(st.sampled_from(('x', '1', '4h', 'true', '{a}', '9999-12-31')))}",
        ]
    cli(explain, cwd=folder)
    (folder / "fuzzed.test.yaml").write_text(_test_file(case.name, facts, as_of), encoding="utf-8")
    cli(["test", "fuzzed.test.yaml", "--format", data.draw(st.sampled_from(("text", "json")))], cwd=folder)
    logged = cli(
        ["eval", case.name, *common, "--format", "json", "--on-conflict", "mark", "--log", "cli.db"], cwd=folder
    )
    if logged.code == 0:
        the_id = json.loads(logged.stdout)["id"]
        cli(["log", "list", "--log", "cli.db"], cwd=folder)
        cli(["log", "show", the_id, "--log", "cli.db"], cwd=folder)
        verified = cli(["log", "verify", "--log", "cli.db"], cwd=folder)
        if verified.code != 0:
            raise FuzzFailure("`policy log verify` fails on a log only policy eval wrote", verified.output[-1500:])
        replayed = cli(["explain", "--decision", the_id, "--log", "cli.db"], cwd=folder)
        if replayed.code != 0:
            raise FuzzFailure("`policy explain --decision` fails on a decision eval recorded", replayed.output[-1500:])


@fuzz_settings(short=60, long=2000)
@given(_policies, st.data())
def test_any_facts_through_eval_explain_test_and_the_log(case: PolicyCase, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp, tolerating_known_open(case):
        decide_everywhere(Path(tmp), case, data)


POLICY = """\
input {
    x: set[string]?
    n: int?
    d: date?
}
output { hit: bool = false resolve any }
if x contains "a" then hit
if n > 1 then hit
if d < 2026-01-01 then hit
"""


def test_hostile_facts_files_through_every_command() -> None:
    """Facts files whose text is hostile (deep nesting, 5,000 digits, alias bombs, surrogates, tags)."""
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "p.policy").write_text(POLICY, encoding="utf-8")
        for what, text in HOSTILE_FACT_TEXTS.items():
            name = "facts.json" if text.startswith("{") else "facts.yaml"
            (folder / name).write_text(text, encoding="utf-8")
            (folder / "p.test.yaml").write_text(
                "cases:\n  - name: hostile\n    facts:\n"
                + "".join(f"      {line}\n" for line in text.splitlines())
                + "    fired: []\n",
                encoding="utf-8",
            )
            for argv in (
                ["eval", "p.policy", "--input", name, "--as-of", "2026-01-01T00:00:00Z"],
                ["eval", "p.policy", "--input", name, "--jsonl"],
                ["explain", "p.policy", "--input", name, "--as-of", "2026-01-01T00:00:00Z", "--format", "json"],
                ["eval", "p.policy", "--input", name, "--log", "h.db", "--as-of", "2026-01-01T00:00:00Z"],
                ["test", "p.test.yaml"],
            ):
                try:
                    with tolerating_known_open((what, argv)) as known:
                        cli(argv, cwd=folder)
                except FuzzFailure as failure:
                    failures.append(f"{what}: {failure}"[:600])
                if known:
                    print(f"{what}: {argv[0]}: known open item {known[0].name}")
    assert not failures, "\n".join(failures)
