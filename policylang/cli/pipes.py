"""Standard output and error that survive a reader who stops early (`policy check x | head -1`).

When the reading end of a pipe closes, the next write raises BrokenPipeError. click turns that into
exit code 1, and Python's final flush prints "Exception ignored ... BrokenPipeError". Neither says
anything true about the command: `| head -1` chose to read one line. So the first broken pipe points
the stream's file descriptor at the null device and the command runs on to its own exit code, which
is what `set -o pipefail` then reports (a check that finds errors still exits 1, a clean one 0).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TextIO


class PipeSafeStream:
    """A text stream that, once its reader has gone, discards what is written instead of raising."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard_from_now_on()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard_from_now_on()

    def _discard_from_now_on(self) -> None:
        """Point the descriptor at the null device: buffered text and later writes (ours and the
        interpreter's last flush at exit) then go nowhere, silently."""
        self.reader_gone = True
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self._stream.fileno())
        finally:
            os.close(null)
        with contextlib.suppress(BrokenPipeError, ValueError):
            self._stream.flush()  # the text still buffered now drains into the null device

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_standard_streams() -> None:
    """Make sys.stdout and sys.stderr pipe-safe (a no-op for streams without a file descriptor)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or isinstance(stream, PipeSafeStream):
            continue
        try:
            stream.fileno()
        except (AttributeError, ValueError, OSError):
            continue  # an in-memory stream (a test runner's): no pipe to break
        setattr(sys, name, PipeSafeStream(stream))
