"""`within(seconds, what)`: the guard that hostile-input, hardening and fuzz tests put around a case."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def within(seconds: float, what: str) -> Iterator[None]:
    """Fail if the block uses more than `seconds` of CPU time (it still runs to the end).

    A guard against hangs and blow-ups in complexity, not a timing: the limits are several times what
    a case needs. CPU time, not wall time: a runaway loop burns CPU, while a machine shared with other
    jobs only stretches the wall clock. Both are printed (`pytest -s`) to see how long each case takes.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{what}: {cpu:.2f} s CPU, {wall:.2f} s wall")
    assert cpu < seconds, f"{what} took {cpu:.1f} s of CPU time (limit {seconds} s)"
