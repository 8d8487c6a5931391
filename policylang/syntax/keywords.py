"""The language's keywords, listed once: the parser, its error messages and the test strategies read them here.

grammar.lark spells the reserved words again in NAME's lookahead (a Lark terminal cannot read a
Python list); tests/unit/test_operator_table.py checks that the two lists are the same.
"""

from __future__ import annotations

ITEM_KEYWORDS = ("policy", "import", "input", "output", "segment", "let", "rule", "if")
"""Every item of a file starts with one of these: the parser resumes at the next one after an error."""

RESERVED = (
    *ITEM_KEYWORDS,
    "then",
    "else",
    "because",
    "and",
    "or",
    "not",
    "in",
    "contains",
    "between",
    "is",
    "true",
    "false",
    "now",
)
"""Never a name: an action's name on one line and `if` on the next must never read as one item."""

CONTEXTUAL = ("priority", "resolve", "as", "enum", "set", "missing", "present")
"""Keywords only where they can appear (`resolve min`, `x is missing`); names anywhere else. Built-in
function names (`min`, `max`, `abs`) are not keywords at all: only `name(` calls one."""
