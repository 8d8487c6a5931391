"""Text trees, drawn directly: the guides (`├── `, `│   `, `└── `), each label wrapped to the width
left beside its guides, and the label's colours as ANSI codes when asked.

`policy explain` draws a tree per output. rich drew them, at about 140 µs a line: 1.5 s for the
11,000 lines of a 1,000-rule policy's full explanation. This draws the same characters (its test
compares the two on the golden explanations and on random trees) in a few µs a line. It wraps as
rich does (`Text.wrap`: words with the spaces after them, a word longer than a line folded), measured
in terminal cells by rich's own `cell_len`, so wide characters wrap as they did.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rich.cells import cell_len, chop_cells

Segment = tuple[str, str]
"""(text, style): a style is "" or names from STYLES separated by spaces ("bold red")."""

STYLES = {"bold": "1", "dim": "2", "italic": "3", "red": "31", "green": "32", "yellow": "33"}
"""The ANSI codes of the styles explanations use (SGR: bold, faint, italic, and the standard colours)."""


@dataclass
class Node:
    """A line of the tree (its label: segments of text and style) and the nodes under it."""

    label: list[Segment]
    children: list[Node] = field(default_factory=list)

    def add(self, *label: Segment) -> Node:
        child = Node(list(label))
        self.children.append(child)
        return child


def draw(root: Node, width: int, color: bool = False) -> list[str]:
    """The tree's lines, each at most `width` cells wide (a label folded if even one word will not fit)."""
    out: list[str] = []
    _draw(root, "", "", width, color, out)
    return out


def _draw(node: Node, first: str, rest: str, width: int, color: bool, out: list[str]) -> None:
    for i, line in enumerate(_wrapped(node.label, max(width - cell_len(first), 1), color)):
        out.append((first if i == 0 else rest) + line)
    last = len(node.children) - 1
    for i, child in enumerate(node.children):
        if i < last:
            _draw(child, rest + "├── ", rest + "│   ", width, color, out)
        else:
            _draw(child, rest + "└── ", rest + "    ", width, color, out)


def _wrapped(label: list[Segment], width: int, color: bool) -> Iterator[str]:
    """The label's lines: split at newlines, tabs expanded, each wrapped to `width` cells."""
    text = "".join(piece for piece, _ in label)
    if "\t" in text:
        label = [(piece.expandtabs(8), style) for piece, style in label]
        text = "".join(piece for piece, _ in label)
    start = 0
    for physical in text.split("\n"):
        breaks = [0, *divide_line(physical, width), len(physical)]
        for a, b in itertools.pairwise(breaks):
            yield _styled(label, start + a, start + b, color) if color else physical[a:b].rstrip()
        start += len(physical) + 1


def _styled(label: list[Segment], begin: int, end: int, color: bool) -> str:
    """The label's characters from `begin` to `end`, each run in its style's ANSI codes."""
    out, at = [], 0
    for piece, style in label:
        a, b = max(begin, at), min(end, at + len(piece))
        at += len(piece)
        if a >= b:
            continue
        chunk = piece[a - (at - len(piece)) : b - (at - len(piece))]
        if at >= end:
            chunk = chunk.rstrip()
        if chunk and style:
            codes = ";".join(STYLES[name] for name in style.split())
            out.append(f"\x1b[{codes}m{chunk}\x1b[0m")
        else:
            out.append(chunk)
    return "".join(out)


_WORD = re.compile(r"\s*\S+\s*")


def divide_line(text: str, width: int) -> list[int]:
    """Where to break `text` so that each line fits in `width` cells: rich's `divide_line` with
    folding (rich/_wrap.py, kept here because rich keeps it private), so trees wrap as they did."""
    measure = len if text.isascii() and text.isprintable() else cell_len  # a printable ASCII character is a cell
    if measure(text) <= width:
        return []  # the common case: every word fits
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = measure(word.rstrip())
        if width - offset >= length:
            offset += measure(word)
        elif length > width:  # longer than a line: folded
            folded = chop_cells(word, width)
            for i, line in enumerate(folded):
                if start:
                    breaks.append(start)
                if i == len(folded) - 1:
                    offset = measure(line)
                else:
                    start += len(line)
        elif offset and start:
            breaks.append(start)
            offset = measure(word)
    return breaks
