"""Replay: a recorded decision made again with its stored policy version, facts and `as_of`, and the
differences from what was recorded."""

from __future__ import annotations

from typing import Any

from ..core.json_codec import canonical
from ..core.spelling import spell, spell_number
from ..engine.facts import FactsError
from ..engine.loading import PolicyError, compile_snapshot
from ..engine.runtime import EvaluationError
from ..semantics.typed_tree import legacy_rule_ids
from .errors import ErrorFactory, LogError
from .records import LoggedDecision, Replay


def replay(record: LoggedDecision, snapshot: dict[str, Any], error: ErrorFactory) -> Replay:
    """Decide `record` again with its policy compiled from `snapshot`. Raises LogError when the stored
    policy no longer compiles or no longer matches its hash, or the facts no longer validate."""
    label = f"decision {record.id} ({record.policy_name}, {record.policy_hash[:12]})"
    try:
        # "ignore": the original policy either ignored unknown facts or the facts had none
        policy = compile_snapshot(snapshot, unknown_facts="ignore")
    except PolicyError as exc:
        raise error(
            f"the policy of {label} no longer compiles with this version of policylang: {exc.args[0]}",
            "replay it with the policylang version that recorded it",
        ) from None
    if policy.content_hash != record.policy_hash:
        raise error(
            f"the stored policy of {label} does not match its hash: the log was edited", "run `policy log verify`"
        )
    try:
        decision = policy.decide(record.facts_given(), as_of=record.as_of, on_conflict="mark")
    except LogError as exc:
        raise error(exc.message, exc.hint) from None
    except FactsError as exc:
        raise error(
            f"the facts of {label} no longer fit its policy with this version of policylang: {exc}",
            f"`policy log show {record.id}` shows the record as stored; replay it with the policylang "
            "version that recorded it",
        ) from None
    except EvaluationError as exc:
        raise error(
            f"{label} cannot be replayed: {exc}", "replay it with the policylang version that recorded it"
        ) from None
    return Replay(record, policy, decision, _differences(record, decision.to_dict(), legacy_rule_ids(policy.checked)))


def _differences(record: LoggedDecision, replayed: dict[str, Any], legacy: dict[str, str]) -> list[str]:
    """What the replay decided differently. A record from policylang 0.1 names anonymous rules by
    line (`support:12`); `legacy` renames them to today's ids (`support#3`) before comparing, so
    the new names alone are no difference."""
    if legacy:
        fired = tuple(legacy.get(rule, rule) for rule in record.fired)
        conflicts = record.conflicts and {
            name: [_renamed(item, legacy) for item in items] if isinstance(items, list) else items
            for name, items in record.conflicts.items()
        }
        record = record.model_copy(update={"fired": fired, "conflicts": conflicts})
    found = []
    before, after = record.outputs, replayed["outputs"]
    for name in [*before, *(n for n in after if n not in before)]:
        if canonical(before.get(name)) != canonical(after.get(name)) or (name in before) != (name in after):
            old = _spelled(before[name]) if name in before else "no value"
            new = _spelled(after[name]) if name in after else "no value"
            found.append(f"output `{name}`: recorded {old}, replayed {new}")
    if list(record.fired) != replayed["fired"]:
        found.append(f"fired: recorded {_rules(record.fired)}, replayed {_rules(replayed['fired'])}")
    if canonical(record.conflicts) != canonical(replayed.get("conflicts")):
        found.append(
            f"conflicts: recorded {_conflicts(record.conflicts)}, replayed {_conflicts(replayed.get('conflicts'))}"
        )
    return found


def _spelled(value: Any) -> str:
    """A recorded (JSON) value as the language writes it (`4h`, `{a, b}`, `true`); a shape no
    decision writes (an edited record's object) as its JSON, which is the clearest form for it."""
    return spell(value, absent="no value", other=lambda v: canonical(v) if isinstance(v, dict) else spell_number(v))


def _rules(fired: Any) -> str:
    if not isinstance(fired, list | tuple):
        return canonical(fired)  # an edited record's: shown as stored
    return ", ".join(f"`{rule}`" if isinstance(rule, str) else canonical(rule) for rule in fired) or "none"


def _conflicts(conflicts: Any) -> str:
    """`level`: `r1` says high, `r2` says low; an edited record's other shapes as their JSON."""
    if not conflicts:
        return "none"
    if not isinstance(conflicts, dict):
        return canonical(conflicts)
    parts = []
    for name, items in conflicts.items():
        if isinstance(items, list) and all(isinstance(x, dict) and set(x) == {"rule", "value"} for x in items):
            said = ", ".join(f"`{x['rule']}` says {_spelled(x['value'])}" for x in items)
        else:
            said = canonical(items)
        parts.append(f"`{name}`: {said}")
    return "; ".join(parts)


def _renamed(item: Any, legacy: dict[str, str]) -> Any:
    if isinstance(item, dict) and isinstance(item.get("rule"), str):
        return {**item, "rule": legacy.get(item["rule"], item["rule"])}
    return item
