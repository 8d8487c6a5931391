"""What a decision answers when asked: its trace (`Policy.trace`) and why-not answers
(`Decision.why_not`), as pydantic data whose JSON schema tools can rely on.

The engine's public methods return these, so they are defined here; the explain layer above
(explain/trace.py, explain/why_not.py) computes and renders them, and keeps them importable under
its own names (`policylang.explain.trace.Trace`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class ConditionPart(BaseModel):
    """One part of a condition: its text as the policy writes it, its value, what it read."""

    model_config = ConfigDict(frozen=True)

    text: str
    kind: Literal["and", "or", "not", "segment", "test"]
    """`test` is a comparison, membership, range, presence test, flag or constant."""
    result: bool | None
    """True or False; None when it is unknown because it read a missing fact."""
    reads: dict[str, Any] = {}
    """The facts, segments, lets and outputs it reads, and the function calls in it (by their text,
    `max(a, b)`), with their values (null when missing)."""
    parts: list[ConditionPart] = []
    """For `and` / `or` / `not` and segments: every operand, each evaluated (all branches of an `or`).
    A segment that a condition reads again, directly or through other segments, has its parts
    only where it is first shown; there it has none (each segment is traced once per rule, so a
    trace stays as large as the policy, even when segments read one another many times over)."""
    error: str | None = None
    """Why this part has no value: on its own it raises (a division by zero), and the decision
    never evaluated it because `and` / `or` had already decided."""


class RuleTrace(BaseModel):
    """A rule that could set an output: whether it matched, what it proposed, and why."""

    model_config = ConfigDict(frozen=True)

    rule: str
    location: str
    """Where the rule is written: `file:line`."""
    priority: int = 0
    matched: bool
    sets: str = ""
    """Its actions on the output, as written (`sla = 2h`, `perks += {named_rep}`)."""
    proposes: Any = None
    """The value it proposed for the output (when it matched)."""
    because: str | None = None
    condition: ConditionPart
    failed: list[str] = []
    """For a rule that did not match: the texts of the smallest parts that were false or unknown."""
    misses: int = 0
    """How many of the condition's parts (the operands of its top-level `and`, or the whole
    condition when it is not an `and`) were false or unknown: 0 for a rule that matched. A
    summary's nearest misses are the rules that did not match with the fewest."""


class OutputTrace(BaseModel):
    """An output's value and where it came from."""

    model_config = ConfigDict(frozen=True)

    output: str
    status: Literal["value", "default", "absent", "conflict"]
    value: Any = None
    default: Any = None
    """The output's declared default (null when it has none)."""
    resolution: str
    winners: list[str] = []
    overridden: list[str] = []
    conflicting: list[str] = []
    rules: list[RuleTrace] = []
    """In a full trace, every rule that could set the output, in file order, matched or not. In a
    summary (`Trace.detail`), the rules that matched, in file order, then the nearest misses,
    nearest first (fewest `misses`, then file order)."""
    others: int = 0
    """In a summary, how many rules that can set the output did not match and are not listed
    (not among the nearest misses); 0 in a full trace."""


class Trace(BaseModel):
    """Everything a decision did, as data."""

    model_config = ConfigDict(frozen=True)

    policy: str
    content_hash: str
    as_of: str
    facts: dict[str, Any]
    missing: list[str]
    """Facts that were not given and have no default."""
    derived: dict[str, Any]
    """Segments and lets, with their values."""
    outputs: list[OutputTrace]
    """Every output in declaration order (only those asked for, when the trace was asked for some)."""
    detail: Literal["full", "summary"] = "full"
    """`full`: every rule that can set each output is in `rules`, part by part. `summary`: only the
    rules that matched and the nearest misses are (`OutputTrace.others` counts the rest)."""


class Change(BaseModel):
    """One fact to change: from what it is to a value that works, and which condition wants it."""

    model_config = ConfigDict(frozen=True)

    fact: str
    was: Any
    """The fact's value in the decision (null when missing)."""
    to: Any
    """A value that works (JSON; null means leaving the fact out)."""
    text: str
    """In words: "`tenure > 2y`: is `1y3m`, needs more than `2y` (for example `731d`)"."""


class Candidate(BaseModel):
    """A rule that can set the output to the asked value, and what it would take."""

    model_config = ConfigDict(frozen=True)

    rule: str
    location: str
    sets: str
    verified: bool
    """True when deciding again with `changes` applied gives the output the asked value from this rule."""
    changes: list[Change] = []
    summary: str


class WhyNot(BaseModel):
    """The answer to "why not `output = wanted`?"."""

    model_config = ConfigDict(frozen=True)

    output: str
    wanted: str
    """The asked value as the language writes it."""
    status: Literal["already", "possible", "not-found", "impossible"]
    """`already`: the decision has it; `possible`: some rule gets it with the changes shown;
    `not-found`: rules can set it but no change of up to three facts was found; `impossible`:
    no rule can ever set the output to that value."""
    summary: str
    candidates: list[Candidate] = []
