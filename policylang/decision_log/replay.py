"""Replay: a recorded decision made again with its stored policy version, facts and `as_of`, and the
differences from what was recorded."""

from __future__ import annotations

from typing import Any

from ..core.json_codec import canonical
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
        old = canonical(before[name]) if name in before else "no value"
        new = canonical(after[name]) if name in after else "no value"
        if old != new:
            found.append(f"output `{name}`: recorded {old}, replayed {new}")
    if list(record.fired) != replayed["fired"]:
        found.append(f"fired: recorded {canonical(list(record.fired))}, replayed {canonical(replayed['fired'])}")
    if canonical(record.conflicts) != canonical(replayed.get("conflicts")):
        found.append(
            f"conflicts: recorded {canonical(record.conflicts)}, replayed {canonical(replayed.get('conflicts'))}"
        )
    return found


def _renamed(item: Any, legacy: dict[str, str]) -> Any:
    if isinstance(item, dict) and isinstance(item.get("rule"), str):
        return {**item, "rule": legacy.get(item["rule"], item["rule"])}
    return item
