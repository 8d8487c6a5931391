"""A pickled Policy is the same policy (issue 14): a worker that unpickles it decides, fires,
traces and analyses exactly as the process that compiled it, without compiling again.

Policies come from both generators: policy_strategies.policies (every type, resolution and
expression form, over one schema) and test_full_path_index.indexed_policies (48 to 72 rules, large
enough for the index tree and the outputs-only function's enumerations). One test sends a policy
through a real worker process (concurrent.futures.ProcessPoolExecutor), which unpickles it in a
process of its own: string hashes differ there, so a hash carried over would show.
"""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_strategies import AS_OF, facts, policies
from test_full_path_index import indexed_policies

import policylang
from policylang.engine import compiler, evaluator, program

FILENAME = "pickled.policy"


def _outcome(policy: policylang.Policy, given_facts: dict[str, Any], as_of: Any, on_conflict: str) -> Any:
    """Everything a decision says, or the error it raises (type and message)."""
    try:
        decision = policy.decide(given_facts, as_of=as_of, on_conflict=on_conflict)
    except policylang.PolicylangError as exc:
        return (type(exc).__name__, str(exc))
    trace = policy.trace(decision)
    return (decision.to_dict(), decision.resolutions, repr(trace))


def _same_policy(original: policylang.Policy, copy: policylang.Policy, batch: list[dict[str, Any]], as_of: Any) -> None:
    assert copy is not original
    assert copy.content_hash == original.content_hash
    assert copy.decision_graph.source == original.decision_graph.source
    assert copy.decision_graph.outputs_source == original.decision_graph.outputs_source
    assert copy.check() == original.check()
    assert copy.graph_json() == original.graph_json()
    for given_facts in batch:
        for on_conflict in ("mark", "raise"):
            assert _outcome(copy, given_facts, as_of, on_conflict) == _outcome(
                original, given_facts, as_of, on_conflict
            )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=policies(), batch=st.lists(facts(), min_size=1, max_size=4), as_of=st.sampled_from(AS_OF))
def test_a_pickled_policy_decides_and_traces_as_the_original(
    text: str, batch: list[dict[str, Any]], as_of: Any
) -> None:
    original = policylang.compile(text, filename=FILENAME)
    _same_policy(original, pickle.loads(pickle.dumps(original)), batch, as_of)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=indexed_policies(), batch=st.lists(facts(valid=True), min_size=1, max_size=3), as_of=st.sampled_from(AS_OF))
def test_a_pickled_large_policy_decides_as_the_original(text: str, batch: list[dict[str, Any]], as_of: Any) -> None:
    original = policylang.compile(text, filename=FILENAME)
    copy = pickle.loads(pickle.dumps(original))
    _same_policy(original, copy, batch, as_of)
    assert [str(d) for d in copy.analyse()] == [str(d) for d in original.analyse()]


def _decide_in_worker(data: bytes, batch: list[dict[str, Any]], as_of: str) -> list[Any]:
    policy = pickle.loads(data)
    assert isinstance(policy, policylang.Policy)
    return [policy.decide(given_facts, as_of=as_of, on_conflict="mark").to_dict() for given_facts in batch]


def test_a_worker_process_decides_with_a_pickled_policy() -> None:
    policy = policylang.compile(_WORKER_POLICY, filename=FILENAME)
    batch = [
        {"tier": tier, "region": region, "spend": spend, "tenure": "400d", "complaints": 1}
        for tier in ("basic", "premium", "key")
        for region in ("eu", "us")
        for spend in (0, 600, 20_000)
    ]
    as_of = "2026-01-31T09:00:00Z"
    expected = [policy.decide(f, as_of=as_of, on_conflict="mark").to_dict() for f in batch]
    with ProcessPoolExecutor(max_workers=1) as pool:
        # The policy itself as an argument (pickled by the pool), and as bytes pickled here.
        in_worker = pool.submit(_decide_in_worker, pickle.dumps(policy), batch, as_of).result()
        sent = pool.submit(_decide_with, policy, batch, as_of).result()
    assert in_worker == expected
    assert sent == expected


def _decide_with(policy: policylang.Policy, batch: list[dict[str, Any]], as_of: str) -> list[Any]:
    return [policy.decide(given_facts, as_of=as_of, on_conflict="mark").to_dict() for given_facts in batch]


_WORKER_POLICY = """\
input {
    tier: enum(basic, standard, premium, key)
    region: string
    spend: number
    tenure: duration
    complaints: int = 0
}
output {
    perks: set[string] = {} resolve union
    queue: enum(general, priority, urgent) = general resolve priority
    sla: duration = 72h resolve min
}
segment big = tier in {premium, key} and spend >= 500
""" + "".join(
    f"rule r{i} priority {i % 3}:\n    if {cond}\n    then {action}\n"
    for i, (cond, action) in enumerate(
        [
            (f'region == "{region}" and spend >= {limit}', action)
            for region in ("eu", "us", "uk")
            for limit in (0, 100, 500, 1000, 10_000)
            for action in (f'perks += {{"p{limit}"}}', f"sla = {1 + limit % 7}h")
        ]
        + [("big", "queue = priority"), ("big and complaints >= 1", "queue = urgent"), ("tenure > 1y", "sla = 2h")]
    )
)


def test_a_policy_with_a_decision_log_refuses_to_pickle(tmp_path: Any) -> None:
    log = policylang.DecisionLog(tmp_path / "log.db")
    policy = policylang.compile("if tier == premium then skip_fraud_check", filename=FILENAME, log=log)
    with pytest.raises(policylang.UsageError, match="decision log"):
        pickle.dumps(policy)


def test_a_pickle_from_another_build_is_refused() -> None:
    policy = policylang.compile("if tier == premium then skip_fraud_check", filename=FILENAME)
    data = pickle.dumps(policy)
    with mock.patch.object(evaluator, "_PICKLE_FORMAT", 99), pytest.raises(policylang.UsageError, match="compile"):
        pickle.loads(data)


def test_another_python_compiles_the_carried_source() -> None:
    """A program marshalled by another Python version is compiled from its source, not loaded."""
    policy = policylang.compile(_WORKER_POLICY, filename=FILENAME)
    data = pickle.dumps(policy)
    facts_ = {"tier": "key", "region": "eu", "spend": 700, "tenure": "400d"}
    with mock.patch.object(program, "BYTECODE", b"\0\0\r\n"), mock.patch.object(program.marshal, "loads") as loads:
        copy = pickle.loads(data)
    loads.assert_not_called()
    assert copy.decide(facts_).outputs == policy.decide(facts_).outputs


def test_a_memoised_hash_is_not_carried() -> None:
    """typed_tree's memoised hashes hash strings, which differ between processes: a copy recomputes them."""
    policy = policylang.compile(_WORKER_POLICY, filename=FILENAME)
    condition = policy.checked.rules[0].condition
    hash(condition)  # memoised now
    copy = pickle.loads(pickle.dumps(condition))
    assert copy._hash is None
    assert copy == condition and hash(copy) == hash(condition)


def test_unpickling_does_not_compile_again() -> None:
    policy = policylang.compile(_WORKER_POLICY, filename=FILENAME)
    data = pickle.dumps(policy)
    with (
        mock.patch.object(compiler, "compile_policy", side_effect=AssertionError("compiled again")),
        mock.patch.object(program, "_compile", side_effect=AssertionError("compiled again")),
    ):
        copy = pickle.loads(data)
    assert (
        copy.decide({"tier": "basic", "region": "us", "spend": 5, "tenure": "1d"}).outputs
        == policy.decide({"tier": "basic", "region": "us", "spend": 5, "tenure": "1d"}).outputs
    )
