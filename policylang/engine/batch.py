"""decide_many's batch function: validation and decision of every item in one generated loop.

A loop over `decide()` pays, per decision, for two generated functions (the facts validator and the
outputs-only function, first_hit.py), the dict of facts read back by the second one, the call
layers and the clock. The batch function inlines both generated bodies in one `for` loop: the
validator's statements leave the facts in locals and a dict, the outputs-only statements follow,
and the Decision is built in place. Anything the two would hand to a slower path goes to the same
slower path, item by item, so every decision and every error is the one `decide()` gives:

- facts the inlined validator does not take outright (a wrong or missing fact, not a plain dict)
  go through `one(given, now, strict)`, which is `decide()`'s own path (the pydantic model reports
  what is wrong);
- a `Facts` object is taken through its validator's check (`FactsValidator.validated`);
- where the outputs-only function would return None (a conflict, an error the full function must
  raise), `finish(facts, now, strict)` runs the full function, as `decide()` does.

The outputs-only source is read as generated; where it is not in the expected shape (one `return
out` at the end, every other return `return None`, no nested function) there is no batch function
and decide_many decides item by item, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .facts import FactsValidator, fact_default, validator_code
from .typed_facts import Facts

BatchFunction = Callable[..., None]
"""(batch, now, strict, decided, one, finish, origin, new, Decision, set_outputs, set_made) -> None:
appends to `decided` each item's Decision, in order, until one raises; the last four build a
Decision as evaluator.py's hot path does (this module sits below it)."""

_RETURN = re.compile(r"^(\s*)return\b(.*)$")
_HANDS_OVER = re.compile(r"^ None\s*(#.*)?$")
_NESTED = re.compile(r"^\s*(def|class|async|lambda|yield|global|nonlocal)\b|\blambda\b|\byield\b")


class _HandOver(Exception):
    """The outputs-only statements' `return None`: decide this item with the full function."""


def batch_function(
    validator: FactsValidator, outputs_source: str, outputs_namespace: dict[str, Any]
) -> BatchFunction | None:
    """The generated batch function for a policy, or None where its outputs-only function is not
    in the shape this module inlines (see the module docstring)."""
    body = _outputs_body(outputs_source)
    if body is None:
        return None
    defaults = {name: fact_default(fact) for name, fact in validator.facts.items()}
    names, checks, result = validator_code(
        validator.facts, defaults, validator._reject_unknown, given="_b_given", fail="break", prefix="_bv_"
    )
    if any(_NESTED.search(line) or line.lstrip().startswith(("for ", "while ")) for line in checks):
        return None  # `break` must leave the validator's statements, and nothing else
    lines = [
        "def decide_batch(",
        "    _b_batch, now, _b_strict, _b_decided, _b_one, _b_finish, _b_origin,",
        "    _b_new, _b_Decision, _b_outputs, _b_made,",
        "):",
        "    _b_append = _b_decided.append",
        "    for _b_given in _b_batch:",
        "        if _b_given.__class__ is _b_Facts:",
        "            facts = _b_validated(_b_given)",
        "        else:",
        "            facts = None",
        "            while True:  # the facts validator (facts.validator_code); `break` leaves it",
        *("                " + line for line in checks),
        f"                facts = {result}",
        "                break",
        "            if facts is None:  # not taken outright: decide()'s own path says what is wrong",
        "                _b_append(_b_one(_b_given, now, _b_strict))",
        "                continue",
        "        try:  # the outputs-only function (first_hit.py)",
        *("        " + line for line in body),
        "        except _b_HandOver:",
        "            out = None",
        "        if out is None:  # the full function decides, outside the except: no exception context",
        "            _b_append(_b_finish(facts, now, _b_strict))",
        "            continue",
        "        _b_decision = _b_new(_b_Decision)",
        "        _b_outputs(_b_decision, out)",
        "        _b_made(_b_decision, (now, facts, _b_origin))",
        "        _b_append(_b_decision)",
    ]
    namespace = dict(outputs_namespace)
    if any(name.startswith(("_b_", "_bv_")) for name in namespace):
        return None  # the names this function adds must not shadow the outputs-only function's
    namespace.update(names)
    namespace.update({"_b_Facts": Facts, "_b_validated": validator.validated, "_b_HandOver": _HandOver})
    try:
        exec(compile("\n".join(lines) + "\n", "<decide_many batch>", "exec"), namespace)
    except (SyntaxError, RecursionError, MemoryError):
        return None  # decide_many decides item by item
    function: BatchFunction = namespace["decide_batch"]
    return function


def _outputs_body(source: str) -> list[str] | None:
    """The outputs-only function's statements (indented by 4), its `return None`s raising _HandOver
    and its final `return out` left out; None where the source is not in that shape."""
    lines = source.rstrip("\n").split("\n")
    if len(lines) < 2 or lines[0] != "def decide_outputs(facts, now):" or lines[-1] != "    return out":
        return None
    body = []
    for line in lines[1:-1]:
        if _NESTED.search(line):
            return None
        found = _RETURN.match(line)
        if found is not None:
            if not _HANDS_OVER.match(found.group(2)):
                return None
            line = f"{found.group(1)}raise _b_HandOver  # a new one each time: a raised instance keeps its frames"
        body.append(line)
    return body
