"""Source text and spans: a SourceFile knows its lines, a Span points into one by offsets and 1-based line/column."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .pickling import pickle_slots_quickly

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

HIDDEN_CHARACTER = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001]"
)
"""A character that is invisible or reorders the text around it when shown: Unicode's format
characters (category Cf, as of Unicode 15: bidirectional controls such as U+202E, zero-width
spaces, the byte-order mark). Raw in a policy, one can make the text read differently from what
it does ("Trojan Source"), so the parser warns (`hidden-text`), the formatter writes them as
escapes and diagnostics show them as `?`. Three kinds of format characters are left out because
ordinary text needs them and they reorder nothing: the zero-width joiner and non-joiner (U+200C,
U+200D: emoji sequences such as a family, Persian and Indic words) and the tag characters
(U+E0020-E007F: the flags of Scotland or Wales)."""

LINE_OR_DIRECTION_CONTROL = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
"""Characters (for a regular expression's class) that start a new line for some readers (U+2028,
U+2029) or reorder the text shown around them (the bidirectional controls): a printed value shows
them escaped, so that no value can forge a line or turn the text around it."""


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range [start, end) in a file, with 1-based line and column of both ends.

    Columns count characters, not bytes; `end_column` is the column just after the last character.
    """

    file: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def union(self, other: Span) -> Span:
        """The smallest span covering both (they must be in the same file)."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return Span(self.file, first.start, last.end, first.line, first.column, last.end_line, last.end_column)


@dataclass(frozen=True)
class SourceFile:
    """The text of one policy file, with the offsets of its line starts for line/column lookups."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # "\n", "\r\n" and a lone "\r" (old Mac files) each end a line, as in an editor.
        starts = [0]
        if "\r" in self.text:
            starts.extend(m.end() for m in _LINE_BREAK.finditer(self.text))
        else:
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def span(self, start: int, end: int | None = None) -> Span:
        """A span from offsets; `end` defaults to one character after `start` (or `start` at end of text)."""
        if end is None:
            end = min(start + 1, len(self.text))
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(self.name, start, end, line, column, end_line, end_column)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset_of_line(self, line: int) -> int:
        """Offset of the first character of a 1-based line."""
        return self._line_starts[max(0, min(line - 1, len(self._line_starts) - 1))]


pickle_slots_quickly(globals())
