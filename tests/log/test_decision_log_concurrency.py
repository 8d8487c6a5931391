"""Many writers at once (threads, processes) and a writer killed mid-stream: the chain stays whole and every
id a writer was given is on disk."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from log_helpers import AS_OF, SUPPORT, record_many

import policylang
from policylang.decision_log import DecisionLog

pytest_plugins = ["log_fixtures"]  # log_target: each test on a SQLite file and on a PostgreSQL schema


def _assert_whole(path: str, ids: list[str], count: int) -> None:
    with DecisionLog(path, create=False) as log:
        records = log.list()
        report = log.verify()
    assert report.ok, report.problems
    assert report.count == count == len(records)
    assert [r.seq for r in records] == list(range(1, count + 1))
    assert len({r.id for r in records}) == count
    assert sorted(r.id for r in records) == [r.id for r in records]  # ids increase along the chain
    assert sorted(ids) == sorted(r.id for r in records)


def test_eight_threads_share_one_log(log_target: str) -> None:
    path = log_target
    policy = policylang.compile(SUPPORT, filename="support.policy")
    ids: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    with DecisionLog(path) as log:

        def write(worker: int) -> None:
            try:
                start.wait()
                for i in range(200):
                    facts = {"tier": "premium", "tenure": f"{i + 1}d", "tags": {f"t{worker}"}}
                    ids.append(log.record(policy, facts, policy.decide(facts, as_of=AS_OF)))
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)

        reports: list[tuple[bool, int]] = []

        def audit() -> None:  # verify while the writers write: each view is a whole chain
            try:
                while any(thread.is_alive() for thread in threads):
                    report = log.verify()
                    reports.append((report.ok, report.count))
                    time.sleep(0.02)  # leave the writers the GIL between their round trips to a server
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        auditor = threading.Thread(target=audit)
        auditor.start()
        for thread in [*threads, auditor]:
            thread.join()
    assert failures == []
    assert reports and all(ok for ok, _ in reports)
    counts = [count for _, count in reports]
    assert counts == sorted(counts)
    _assert_whole(path, ids, 1600)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_log_opened_before_fork_is_used_in_the_child(log_target: str) -> None:
    """Connections must not cross a fork: the child opens its own, the parent keeps using its one."""
    path = log_target
    policy = policylang.compile(SUPPORT, filename="support.policy")
    facts = {"tier": "basic", "tenure": "1d"}
    with DecisionLog(path) as log:
        log.record(policy, facts, policy.decide(facts))
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit status
            code = 1
            try:
                for _ in range(20):
                    log.record(policy, facts, policy.decide(facts))
                code = 0
            finally:
                os._exit(code)  # never back into pytest
        for _ in range(20):
            log.record(policy, facts, policy.decide(facts))
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        report = log.verify()
    assert report.ok and report.count == 41


def test_threads_each_with_their_own_handle(log_target: str) -> None:
    """Separate DecisionLog objects on one log meet only at the database's lock, as separate processes do."""
    path = log_target
    DecisionLog(path).close()
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda n=n: results.append(record_many(str(path), 50, f"h{n}"))) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _assert_whole(path, [i for ids in results for i in ids], 200)


def test_four_processes_write_one_log(log_target: str) -> None:
    path = log_target  # not created beforehand: the processes race to create it
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.starmap(record_many, [(str(path), 100, f"p{n}") for n in range(4)])
    _assert_whole(path, [i for ids in results for i in ids], 400)


_WRITER = textwrap.dedent(
    """
    import sys
    import policylang
    from policylang.decision_log import DecisionLog

    policy = policylang.compile(sys.argv[2], filename="support.policy")
    log = DecisionLog(sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        facts = {"tier": "premium", "tenure": f"{i}d", "tags": {"k"}}
        decision_id = log.record(policy, facts, policy.decide(facts))
        print(decision_id, flush=True)  # after record() returned: the id must be on disk
    """
)


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.35, 0.5])
def test_a_writer_killed_mid_stream_loses_nothing_it_was_given(log_target: str, delay: float) -> None:
    path = log_target
    reported: list[str] = []
    for _round in range(2):  # the second writer continues the chain the first one left
        child = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), SUPPORT],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        # Read through the same buffered stream as readline() did: ids it already took from the pipe
        # are in its buffer, which communicate() (reading the pipe itself) would skip.
        out = child.stdout.read()
        err = child.stderr.read() if child.stderr else ""
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL, err
        lines = out.splitlines()
        # The last line may have been cut off mid-write by the kill: only whole ids count.
        reported += [line for line in lines if len(line) == 36]
        assert len(lines) - len([line for line in lines if len(line) == 36]) <= 1
    assert len(reported) > 2
    with DecisionLog(path, create=False) as log:
        report = log.verify()
        stored = {r.id for r in log.list()}
    assert report.ok, report.problems
    assert set(reported) <= stored
    assert report.count == len(stored) <= len(reported) + 2  # at most one unreported commit per killed writer


def test_the_connections_of_ended_threads_are_closed(log_target: str) -> None:
    """A server that starts a thread per request must not collect one open connection per thread."""
    import gc

    with DecisionLog(log_target) as log:
        for _ in range(50):
            thread = threading.Thread(target=log.head)
            thread.start()
            thread.join()
        gc.collect()
        assert len(log._storage._connections) <= 2  # type: ignore[attr-defined]  # this thread's, perhaps the last's
