"""One database connection per thread of a log handle: opened on first use, opened afresh in a forked
child (a connection must not cross a fork), closed when its thread ends or the log is closed."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from contextlib import suppress
from typing import Generic, TypeVar

C = TypeVar("C")


class _Slot(Generic[C]):
    """A thread's connection; dropped with the thread's locals when the thread ends, it closes the
    connection, so that a server starting a thread per request keeps no connections open."""

    def __init__(self, connection: C, close: Callable[[C], None]) -> None:
        self.connection = connection
        self._close: Callable[[C], None] | None = close
        self._pid = os.getpid()

    def release(self) -> None:
        close, self._close = self._close, None
        if close is not None and os.getpid() == self._pid:  # a forked child must not close its parent's
            with suppress(Exception):  # closing is best effort: the connection may be broken already
                close(self.connection)

    def __del__(self) -> None:
        self.release()


class ThreadConnections(Generic[C]):
    """The connections of one log handle, one per thread: readers never wait for each other."""

    def __init__(self, opener: Callable[[], C], closer: Callable[[C], None]) -> None:
        self._opener = opener
        self._closer = closer
        self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._local = threading.local()
        self._slots: weakref.WeakSet[_Slot[C]] = weakref.WeakSet()
        self._registry = threading.Lock()

    def __len__(self) -> int:
        """How many connections are open (those of ended threads may wait for the garbage collector)."""
        return len(self._slots)

    def get(self) -> C:
        """This thread's connection, opened now if it has none. In a forked child the parent's
        connections are forgotten: never used, never closed."""
        if os.getpid() != self._pid:
            self._start()
        slot: _Slot[C] | None = getattr(self._local, "slot", None)
        if slot is None:
            slot = _Slot(self._opener(), self._closer)
            self._local.slot = slot
            with self._registry:
                self._slots.add(slot)
        return slot.connection

    def discard(self) -> None:
        """Close this thread's connection (one found broken); the next `get` opens another."""
        slot: _Slot[C] | None = getattr(self._local, "slot", None)
        self._local.slot = None
        if slot is not None:
            slot.release()

    def close(self) -> None:
        """Close every thread's connection."""
        with self._registry:
            slots, self._slots = list(self._slots), weakref.WeakSet()
        for slot in slots:
            slot.release()
