"""The line on a terminal that shows how far a policy's analysis has got, redrawn in place.

A large policy's analysis takes a minute; on a terminal, stderr shows its phase and how much of
it is done (`analysing support.policy: \\`limit\\` (1/3 outputs): conflicts: 3,400/10,000 pairs of
rules, 12 s`), redrawn at most a few times a second (analysis/progress.py throttles), cut to the
terminal's width so that it never wraps (a wrapped line cannot be redrawn), and erased when the
analysis ends. Nothing is written when stderr is not a terminal: a pipe, a file, CI's log.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import PurePath
from types import TracebackType
from typing import TextIO

from ..analysis.progress import AnalysisProgress
from .terminal import one_line

ERASE = "\r\x1b[K"
"""Back to the start of the line, and clear it."""


def is_terminal(stream: TextIO) -> bool:
    """Whether the stream is a terminal (a stream without `isatty` is not)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressLine:
    """A callback for `progress=` that draws `analysing NAME: <how far>` on stderr, when stderr
    is a terminal; as a context manager, it erases the line when the analysis ends (however it
    ends: an error message must not be printed after half a progress line)."""

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.active = is_terminal(self.stream)
        self.name = one_line(name)
        self.drawn = False

    def start(self) -> None:
        """The first line, before the analysis reports anything."""
        self._draw("analysing {} ...")

    def __call__(self, report: AnalysisProgress) -> None:
        self._draw("analysing {}: " + one_line(report.line()).replace("{", "{{").replace("}", "}}"))

    def erase(self) -> None:
        if self.active and self.drawn:
            self.drawn = False
            try:
                self.stream.write(ERASE)
                self.stream.flush()
            except (OSError, ValueError):  # as in _draw
                self.active = False

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.erase()

    def _draw(self, template: str) -> None:
        """The template with the file's name in it, cut to the terminal's width: the name first
        (to the file's own name: how far the analysis has got is what the line is for), then the end."""
        if not self.active:
            return
        width = shutil.get_terminal_size().columns - 1  # (the last column would wrap on some terminals)
        text = template.format(self.name)
        if len(text) > width:
            text = template.format(".../" + PurePath(self.name).name)
        if len(text) > width:
            text = text[: max(0, width - 3)] + "..."
        try:
            self.stream.write(ERASE + text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr gone (closed, a hung-up terminal): the analysis goes on without it
            self.active = False
            return
        self.drawn = True
