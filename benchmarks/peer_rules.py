"""One abstract rule set, rendered for policylang and for the peer engines the benchmark compares it with.

`generate_rules(n, seed)` makes a deterministic list of `Rule`s over six facts about a customer:

| fact | policylang sees | every peer sees |
| --- | --- | --- |
| tier | `enum(basic, standard, premium, key)` | the member's name, a string |
| region | `string` | a string |
| tenure | `duration`, given as `"400d"` | `tenure_days`, an int |
| monthly_spend | `number` (a float in, an exact decimal inside) | a float |
| complaints | `int` | an int |
| vip | `bool` | a bool |

and four outputs, each with a default and a resolution that every rendering reproduces exactly:

| output | default | resolve | peers return |
| --- | --- | --- | --- |
| sla | 72h | min | hours, an int |
| queue | general | priority (every rule that sets it has its own priority, so no ties) | a string |
| discount | 0 | max | a float |
| skip_fraud_check | false | any | a bool |

Renderings (each a string or JSON, built without running anything):

- `to_policylang(rules)`: policy text, named rules with `priority` for those that set `queue`,
  one-line anonymous rules for the others;
- `to_python(rules)`: the source of a plain Python function with one `if` per rule, what a
  developer would write by hand; `build_python(rules)` execs it;
- `to_zen(rules)`: a GoRules JSON Decision Model. Two variants: `collect` (one decision table with
  the "collect" hit policy, then an expression node that folds the matched rows by min / max /
  priority / any) and `first` (one table per output with the "first" hit policy, rows sorted so
  that the first match is the resolved value, a catch-all default row last);
- `to_rule_engine(rules)`: one `rule_engine.Rule` text per rule (outputs folded in Python);
- `to_rego(rules)`: a Rego module, one partial-set rule per policy rule, folded by comprehensions.

`random_customers(count, seed)` gives facts in the neutral (peer) form; `policylang_facts(c)`
converts one for policylang. `normalise_*` turn each engine's answer into the same plain dict
`{"sla": int hours, "queue": str, "discount": float, "skip_fraud_check": bool}`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

TIERS = ("basic", "standard", "premium", "key")
TIER_WEIGHTS = (40, 35, 20, 5)
REGIONS = ("eu", "uk", "us", "apac", "latam", "mena")
QUEUES = ("general", "priority", "billing", "technical", "retention", "key_accounts")
SLA_HOURS = (1, 2, 4, 8, 12, 24, 48)
DISCOUNTS = ("0.02", "0.05", "0.1", "0.15", "0.2", "0.25")
# Tenure thresholds as policylang duration literals; a month is 2,629,746 s (docs/evaluation.md).
SECONDS_PER_MONTH = 2_629_746
DURATIONS = ("30d", "90d", "180d", "6mo", "1y", "400d", "18mo", "2y", "3y", "5y")
SPENDS = (50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000)
COMPLAINTS = (1, 2, 3, 4, 5)

DEFAULTS = {"sla": 72, "queue": "general", "discount": 0.0, "skip_fraud_check": False}
FIELDS = ("tier", "region", "tenure_days", "monthly_spend", "complaints", "vip")


# --- the abstract rule set ---


@dataclass(frozen=True)
class Atom:
    """One test of one fact. `field` is a peer fact name; `op` is one of
    == != in not_in > >= < <= between; `value` is a str / tuple / number / (low, high) / bool.
    Tenure values are duration literals ("6mo"); `days()` gives them in days for the peers."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class All:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    part: Any


@dataclass(frozen=True)
class Rule:
    index: int
    name: str
    condition: All
    sla: int | None = None
    queue: str | None = None
    priority: int = 0
    discount: str | None = None
    skip: bool | None = None
    named: bool = True
    because: str | None = None

    @property
    def actions(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sla is not None:
            out["sla"] = self.sla
        if self.queue is not None:
            out["queue"] = self.queue
        if self.discount is not None:
            out["discount"] = self.discount
        if self.skip is not None:
            out["skip_fraud_check"] = self.skip
        return out


@dataclass
class RuleSet:
    rules: list[Rule]
    seed: int
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rules)

    def subset(self, indexes: list[int]) -> RuleSet:
        keep = set(indexes)
        return RuleSet([r for r in self.rules if r.index in keep], self.seed, {"subset_of": len(self.rules)})


def duration_seconds(literal: str) -> int:
    number, unit = int(literal.rstrip("dmoy")), literal.lstrip("0123456789")
    return number * {"d": 86_400, "mo": SECONDS_PER_MONTH, "y": 12 * SECONDS_PER_MONTH}[unit]


def duration_days(literal: str) -> int | float:
    """The exact length in days, as an int when whole (so that `tenure_days > 90` is exact)."""
    days = Fraction(duration_seconds(literal), 86_400)
    return int(days) if days.denominator == 1 else float(days)


def generate_rules(count: int, seed: int = 0) -> RuleSet:
    """`count` rules, the same for the same (count, seed). Most rules test tier or region (what an
    index would discriminate on), then one or two of tenure / spend / complaints / vip; some have an
    `or` group or a negated test. Each rule sets one to three outputs. Rules that set `queue` get
    distinct priorities (a random permutation), so `resolve priority` never ties."""
    rng = random.Random(f"peer-rules:{seed}")
    rules: list[Rule] = []
    queue_rules = [i for i in range(count) if rng.random() < 0.35]
    priorities = list(range(1, len(queue_rules) + 1))
    rng.shuffle(priorities)
    priority_of = dict(zip(queue_rules, priorities, strict=True))
    for i in range(count):
        condition = _condition(rng)
        outputs = _outputs(rng, i in priority_of)
        queue = rng.choice(QUEUES[1:]) if "queue" in outputs else None
        named = queue is not None or rng.random() < 0.3
        rules.append(
            Rule(
                index=i,
                name=f"r{i}",
                condition=condition,
                sla=rng.choice(SLA_HOURS) if "sla" in outputs else None,
                queue=queue,
                priority=priority_of.get(i, 0),
                discount=rng.choice(DISCOUNTS) if "discount" in outputs else None,
                skip=(rng.random() < 0.85) if "skip" in outputs else None,
                named=named,
                because=f"generated rule {i}" if named and rng.random() < 0.5 else None,
            )
        )
    return RuleSet(rules, seed)


def _outputs(rng: random.Random, sets_queue: bool) -> set[str]:
    chosen = {"queue"} if sets_queue else set()
    others = ["sla", "discount", "skip"]
    wanted = rng.choice((1, 1, 2, 2, 3)) - len(chosen)
    chosen.update(rng.sample(others, k=max(0, wanted)))
    if not chosen:
        chosen.add(rng.choice(others))
    return chosen


def _condition(rng: random.Random) -> All:
    parts: list[Any] = []
    used: set[str] = set()
    roll = rng.random()
    # The discriminating tests. A large service policy is large because it has rules for each
    # segment (a tier in a region), not because it has thousands of rules for everybody, so the mix
    # is: 70% one segment (tier == X and region == Y), 15% one tier or one region, 10% a set of
    # tiers or regions (in / not in / !=), 5% no tier or region test at all. The mix does not
    # depend on the rule count.
    if roll < 0.70:
        parts.append(_atom(rng, "tier", eq_only=True))
        parts.append(_atom(rng, "region", eq_only=True))
        used.update(("tier", "region"))
    elif roll < 0.85:
        name = rng.choice(("tier", "region"))
        parts.append(_atom(rng, name, eq_only=True))
        used.add(name)
    elif roll < 0.95:
        name = rng.choice(("tier", "region"))
        parts.append(_atom(rng, name, eq_only=False))
        used.add(name)
    others = [f for f in ("tenure_days", "monthly_spend", "complaints", "vip") if f not in used]
    for name in rng.sample(others, k=rng.choice((1, 1, 2))):
        parts.append(_atom(rng, name))
        used.add(name)
    shape = rng.random()
    free = [f for f in FIELDS if f not in used]
    if shape < 0.15 and len(free) >= 2:
        a, b = rng.sample(free, k=2)
        parts.append(AnyOf((_atom(rng, a), _atom(rng, b))))
    elif shape < 0.25 and free:
        parts.append(Not(_atom(rng, rng.choice(free))))
    return All(tuple(parts))


def _atom(rng: random.Random, name: str, eq_only: bool = False) -> Atom:
    if name == "tier":
        if eq_only:
            return Atom("tier", "==", rng.choice(TIERS))
        op = rng.choice(("in", "not_in", "!="))
        if op == "!=":
            return Atom("tier", "!=", rng.choice(TIERS))
        return Atom("tier", op, tuple(sorted(rng.sample(TIERS, k=2), key=TIERS.index)))
    if name == "region":
        if eq_only:
            return Atom("region", "==", rng.choice(REGIONS))
        op = rng.choice(("in", "not_in"))
        return Atom("region", op, tuple(sorted(rng.sample(REGIONS, k=rng.choice((2, 3))), key=REGIONS.index)))
    if name == "vip":
        return Atom("vip", "==", rng.random() < 0.7)
    if name == "complaints":
        op = rng.choice((">=", ">=", "==", "<"))
        return Atom("complaints", op, rng.choice(COMPLAINTS))
    values = DURATIONS if name == "tenure_days" else SPENDS
    op = rng.choice((">", ">=", "<", "<=", "between"))
    if op == "between":
        pair: list[Any] = rng.sample(values, k=2)
        low, high = sorted(pair, key=duration_seconds) if name == "tenure_days" else sorted(pair)
        return Atom(name, "between", (low, high))
    return Atom(name, op, rng.choice(values))


# --- customers ---


def random_customers(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """Facts in the peer form. About a fifth of the numbers sit exactly on a threshold the rules use,
    so that an off-by-one (`>` against `>=`, an inexact decimal) shows up as a disagreement."""
    rng = random.Random(f"peer-customers:{seed}")
    boundary_days = sorted({int(d) for d in (duration_days(x) for x in DURATIONS) for d in (d, d + 1)})
    customers = []
    for _ in range(count):
        tenure = rng.choice(boundary_days) if rng.random() < 0.2 else rng.randint(0, 3_650)
        spend = float(rng.choice(SPENDS)) if rng.random() < 0.2 else round(rng.uniform(0, 30_000), 2)
        customers.append(
            {
                "tier": rng.choices(TIERS, weights=TIER_WEIGHTS)[0],
                "region": rng.choice(REGIONS),
                "tenure_days": tenure,
                "monthly_spend": spend,
                "complaints": rng.choice((0, 0, 0, 1, 1, 2, 3, 4, 5, 6)),
                "vip": rng.random() < 0.15,
            }
        )
    return customers


def policylang_facts(customer: dict[str, Any]) -> dict[str, Any]:
    """The same customer for policylang: tenure as a duration literal in days."""
    return {
        "tier": customer["tier"],
        "region": customer["region"],
        "tenure": f"{customer['tenure_days']}d",
        "monthly_spend": customer["monthly_spend"],
        "complaints": customer["complaints"],
        "vip": customer["vip"],
    }


# --- normalised outputs ---


def normalised(sla_hours: Any, queue: Any, discount: Any, skip: Any) -> dict[str, Any]:
    return {
        "sla": int(sla_hours) if float(sla_hours) == int(sla_hours) else float(sla_hours),
        "queue": str(queue),
        "discount": round(float(discount), 9),
        "skip_fraud_check": bool(skip) if isinstance(skip, bool) else skip,
    }


def normalise_policylang(outputs: dict[str, Any]) -> dict[str, Any]:
    sla = outputs["sla"]
    hours = Fraction(sla.total_seconds, 3_600)
    return normalised(hours, outputs["queue"], outputs["discount"], outputs["skip_fraud_check"])


def normalise_plain(outputs: dict[str, Any]) -> dict[str, Any]:
    return normalised(outputs["sla"], outputs["queue"], outputs["discount"], outputs["skip_fraud_check"])


# --- policylang ---


def _pl_value(name: str, value: Any) -> str:
    if name in ("tier", "tenure_days"):
        return str(value)
    if name == "region":
        return json.dumps(value)
    if name == "vip":
        return "true" if value else "false"
    if name == "monthly_spend":
        return f"{value:_}"
    return str(value)


_PL_FIELD = {"tenure_days": "tenure"}


def _pl_cond(node: Any, top: bool = False) -> str:
    if isinstance(node, All):
        text = " and ".join(_pl_cond(p) for p in node.parts)
        return text if top else f"({text})"
    if isinstance(node, AnyOf):
        return "(" + " or ".join(_pl_cond(p) for p in node.parts) + ")"
    if isinstance(node, Not):
        return f"not ({_pl_cond(node.part)})"
    name = _PL_FIELD.get(node.field, node.field)
    op, value = node.op, node.value
    if node.field == "vip" and op == "==":
        return "vip" if value else "not vip"
    if op in ("in", "not_in"):
        members = ", ".join(_pl_value(node.field, v) for v in value)
        return f"{name} {'in' if op == 'in' else 'not in'} {{{members}}}"
    if op == "between":
        return f"{name} between {_pl_value(node.field, value[0])} and {_pl_value(node.field, value[1])}"
    return f"{name} {op} {_pl_value(node.field, value)}"


def _pl_actions(rule: Rule) -> str:
    parts = []
    if rule.queue is not None:
        parts.append(f"queue = {rule.queue}")
    if rule.sla is not None:
        parts.append(f"sla = {rule.sla}h")
    if rule.discount is not None:
        parts.append(f"discount = {rule.discount}")
    if rule.skip is not None:
        parts.append("skip_fraud_check" if rule.skip else "not skip_fraud_check")
    return ", ".join(parts)


def to_policylang(rules: RuleSet) -> str:
    lines = [
        f"# Generated by benchmarks/peer_rules.py: {len(rules)} rules, seed {rules.seed}.",
        f'policy peers_{len(rules)} "The peer-benchmark service policy with {len(rules)} rules"',
        "",
        "input {",
        f"    tier: enum({', '.join(TIERS)})",
        "    region: string",
        "    tenure: duration",
        "    monthly_spend: number",
        "    complaints: int",
        "    vip: bool",
        "}",
        "",
        "output {",
        "    sla: duration = 72h resolve min",
        f"    queue: enum({', '.join(QUEUES)}) = general resolve priority",
        "    discount: number = 0 resolve max",
        "    skip_fraud_check: bool = false resolve any",
        "}",
        "",
    ]
    for rule in rules.rules:
        condition = _pl_cond(rule.condition, top=True)
        if rule.named:
            head = f"rule {rule.name} priority {rule.priority}:" if rule.priority else f"rule {rule.name}:"
            lines.append(head)
            lines.append(f"    if {condition}")
            lines.append(f"    then {_pl_actions(rule)}")
            if rule.because:
                lines.append(f'    because "{rule.because}"')
        else:
            lines.append(f"if {condition} then {_pl_actions(rule)}")
    return "\n".join(lines) + "\n"


# --- plain Python: what a developer would write ---


def _py_value(name: str, value: Any) -> str:
    if name == "tenure_days":
        return repr(duration_days(value))
    return repr(value)


def _py_cond(node: Any, top: bool = False) -> str:
    if isinstance(node, All):
        text = " and ".join(_py_cond(p) for p in node.parts)
        return text if top else f"({text})"
    if isinstance(node, AnyOf):
        return "(" + " or ".join(_py_cond(p) for p in node.parts) + ")"
    if isinstance(node, Not):
        return f"not {_py_cond(node.part)}"
    name, op, value = node.field, node.op, node.value
    if name == "vip" and op == "==":
        return "vip" if value else "(not vip)"
    if op in ("in", "not_in"):
        members = ", ".join(_py_value(name, v) for v in value)
        return f"({name} {'in' if op == 'in' else 'not in'} {{{members}}})"
    if op == "between":
        return f"({_py_value(name, value[0])} <= {name} <= {_py_value(name, value[1])})"
    return f"({name} {op} {_py_value(name, value)})"


def to_python(rules: RuleSet) -> str:
    lines = [
        "def decide(facts):",
        "    tier = facts['tier']",
        "    region = facts['region']",
        "    tenure_days = facts['tenure_days']",
        "    monthly_spend = facts['monthly_spend']",
        "    complaints = facts['complaints']",
        "    vip = facts['vip']",
        "    sla = None",
        "    queue = None",
        "    queue_priority = None",
        "    discount = None",
        "    skip_fraud_check = False",
    ]
    for rule in rules.rules:
        lines.append(f"    if {_py_cond(rule.condition, top=True)}:  # {rule.name}")
        if rule.sla is not None:
            lines.append(f"        if sla is None or {rule.sla} < sla:")
            lines.append(f"            sla = {rule.sla}")
        if rule.queue is not None:
            lines.append(f"        if queue_priority is None or {rule.priority} > queue_priority:")
            lines.append(f"            queue, queue_priority = {rule.queue!r}, {rule.priority}")
        if rule.discount is not None:
            lines.append(f"        if discount is None or {rule.discount} > discount:")
            lines.append(f"            discount = {rule.discount}")
        if rule.skip:
            lines.append("        skip_fraud_check = True")
        elif rule.skip is False:
            lines.append("        pass  # proposes skip_fraud_check = false: `any` keeps what other rules say")
    lines += [
        "    return {",
        "        'sla': 72 if sla is None else sla,",
        "        'queue': 'general' if queue is None else queue,",
        "        'discount': 0.0 if discount is None else discount,",
        "        'skip_fraud_check': skip_fraud_check,",
        "    }",
    ]
    return "\n".join(lines) + "\n"


def build_python(rules: RuleSet) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(to_python(rules), f"<hand-written {len(rules)} rules>", "exec"), namespace)
    return namespace["decide"]


def first_match_order(rules: RuleSet) -> dict[str, list[tuple[Rule, str]]]:
    """Per output, the rules that set it in the order its resolution prefers their values (min: the
    smallest first; priority and max: the largest first; any: the rules that set true), each with
    the value as Python source. The first of these that matches is the resolved value, so a
    function may stop there: what policylang's outputs-only function does, and zen's first-hit tables."""
    slas = sorted((r for r in rules.rules if r.sla is not None), key=lambda r: r.sla or 0)
    queues = sorted((r for r in rules.rules if r.queue is not None), key=lambda r: -r.priority)
    discounts = sorted((r for r in rules.rules if r.discount is not None), key=lambda r: -float(r.discount or 0))
    return {
        "sla": [(r, repr(r.sla)) for r in slas],
        "queue": [(r, repr(r.queue)) for r in queues],
        "discount": [(r, repr(float(r.discount or 0))) for r in discounts],
        "skip_fraud_check": [(r, "True") for r in rules.rules if r.skip],
    }


def to_python_first(rules: RuleSet) -> str:
    """The fair hand-written baseline: one function per output whose `if`s are in resolution order
    and which returns at the first match (a developer who knows the resolution writes this; the
    rule-order function above tests every rule). Same facts, same answers."""
    facts = ", ".join(FIELDS)
    lines: list[str] = []
    for output, ordered in first_match_order(rules).items():
        lines.append(f"def _{output}({facts}):")
        for rule, value in ordered:
            lines.append(f"    if {_py_cond(rule.condition, top=True)}:  # {rule.name}")
            lines.append(f"        return {value}")
        lines.append(f"    return {DEFAULTS[output]!r}")
        lines.append("")
    lines += [
        "def decide(facts):",
        "    tier = facts['tier']",
        "    region = facts['region']",
        "    tenure_days = facts['tenure_days']",
        "    monthly_spend = facts['monthly_spend']",
        "    complaints = facts['complaints']",
        "    vip = facts['vip']",
        "    return {",
    ]
    for output in DEFAULTS:
        lines.append(f"        {output!r}: _{output}({facts}),")
    lines.append("    }")
    return "\n".join(lines) + "\n"


# --- Cedar (cedarpy) ---


def cedar_context(customer: dict[str, Any]) -> dict[str, Any]:
    """The customer for Cedar, whose numbers are 64-bit integers: tenure in seconds and spend in
    cents, both exact (the thresholds convert the same way)."""
    return {
        "tier": customer["tier"],
        "region": customer["region"],
        "tenure_seconds": customer["tenure_days"] * 86_400,
        "spend_cents": round(customer["monthly_spend"] * 100),
        "complaints": customer["complaints"],
        "vip": customer["vip"],
    }


_CEDAR_FIELD = {"tenure_days": "tenure_seconds", "monthly_spend": "spend_cents"}


def _cedar_value(name: str, value: Any) -> str:
    if name == "tenure_days":
        return str(duration_seconds(value))
    if name == "monthly_spend":
        return str(value * 100)
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str) else str(value)


def _cedar_cond(node: Any) -> str:
    if isinstance(node, All):
        return "(" + " && ".join(_cedar_cond(p) for p in node.parts) + ")"
    if isinstance(node, AnyOf):
        return "(" + " || ".join(_cedar_cond(p) for p in node.parts) + ")"
    if isinstance(node, Not):
        return f"!{_cedar_cond(node.part)}"
    name, op, value = node.field, node.op, node.value
    ref = f"context.{_CEDAR_FIELD.get(name, name)}"
    if op in ("in", "not_in"):
        members = ", ".join(_cedar_value(name, v) for v in value)
        return f"({'!' if op == 'not_in' else ''}[{members}].contains({ref}))"
    if op == "between":
        return f"({_cedar_value(name, value[0])} <= {ref} && {ref} <= {_cedar_value(name, value[1])})"
    return f"({ref} {op} {_cedar_value(name, value)})"


def to_cedar(rules: RuleSet) -> str:
    """One `permit` per rule, in rule order (Cedar names them policy0, policy1, ...); the engine
    answers which permits apply and `fold()` resolves their actions, as for rule-engine."""
    return "".join(
        f"permit(principal, action, resource) when {{ {_cedar_cond(rule.condition)} }};\n" for rule in rules.rules
    )


# --- GoRules zen-engine (JSON Decision Model) ---


def _zen_literal(name: str, value: Any) -> str:
    if name == "tenure_days":
        return repr(duration_days(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _zen_unary(atom: Atom) -> str:
    """A cell of a column bound to the atom's field: zen's unary test syntax, `$` is the field's value."""
    name, op, value = atom.field, atom.op, atom.value
    if op == "==":
        return _zen_literal(name, value)
    if op == "in":
        return ", ".join(_zen_literal(name, v) for v in value)
    if op == "not_in":
        return f"not ($ in [{', '.join(_zen_literal(name, v) for v in value)}])"
    if op == "!=":
        return f"$ != {_zen_literal(name, value)}"
    if op == "between":
        return f"[{_zen_literal(name, value[0])}..{_zen_literal(name, value[1])}]"
    return f"{op} {_zen_literal(name, value)}"


def _zen_expr(node: Any) -> str:
    """A full zen expression (for the field-less condition column), reading facts by name."""
    if isinstance(node, All):
        return "(" + " and ".join(_zen_expr(p) for p in node.parts) + ")"
    if isinstance(node, AnyOf):
        return "(" + " or ".join(_zen_expr(p) for p in node.parts) + ")"
    if isinstance(node, Not):
        return f"not ({_zen_expr(node.part)})"
    name, op, value = node.field, node.op, node.value
    if op in ("in", "not_in"):
        members = ", ".join(_zen_literal(name, v) for v in value)
        return f"({'not ' if op == 'not_in' else ''}({name} in [{members}]))"
    if op == "between":
        return f"({name} >= {_zen_literal(name, value[0])} and {name} <= {_zen_literal(name, value[1])})"
    return f"({name} {op} {_zen_literal(name, value)})"


def _zen_row_conditions(rule: Rule) -> dict[str, str]:
    cells = {f"in_{f}": "" for f in FIELDS}
    cells["in_other"] = ""
    others = []
    for part in rule.condition.parts:
        if isinstance(part, Atom):
            cells[f"in_{part.field}"] = _zen_unary(part)
        else:
            others.append(_zen_expr(part))
    if others:
        cells["in_other"] = " and ".join(others)
    return cells


def _zen_inputs() -> list[dict[str, str]]:
    columns = [{"id": f"in_{f}", "name": f, "field": f} for f in FIELDS]
    columns.append({"id": "in_other", "name": "other conditions"})  # no field: full expressions
    return columns


def _zen_graph(tables: list[tuple[str, dict[str, Any]]], expression: dict[str, Any] | None) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "input", "type": "inputNode", "name": "customer", "position": {"x": 0, "y": 0}}
    ]
    edges: list[dict[str, Any]] = []
    for i, (node_id, content) in enumerate(tables):
        nodes.append(
            {
                "id": node_id,
                "type": "decisionTableNode",
                "name": node_id,
                "position": {"x": 300, "y": 100 * i},
                "content": content,
            }
        )
        edges.append({"id": f"e_in_{node_id}", "sourceId": "input", "targetId": node_id, "type": "edge"})
    last = [node_id for node_id, _ in tables]
    if expression is not None:
        nodes.append(
            {
                "id": "fold",
                "type": "expressionNode",
                "name": "fold",
                "position": {"x": 600, "y": 0},
                "content": expression,
            }
        )
        edges += [{"id": f"e_{n}_fold", "sourceId": n, "targetId": "fold", "type": "edge"} for n in last]
        last = ["fold"]
    nodes.append({"id": "output", "type": "outputNode", "name": "decision", "position": {"x": 900, "y": 0}})
    edges += [{"id": f"e_{n}_out", "sourceId": n, "targetId": "output", "type": "edge"} for n in last]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def to_zen(rules: RuleSet, variant: str = "collect") -> dict[str, Any]:
    if variant == "collect":
        return _zen_collect(rules)
    if variant == "first":
        return _zen_first(rules)
    raise ValueError(f"unknown zen variant {variant!r}")


def _zen_collect(rules: RuleSet) -> dict[str, Any]:
    """One table, hit policy `collect` (every matching row, in order, into `rows`), then an expression
    node folds the rows per output the way the policy resolves it."""
    outputs = [
        {"id": "out_sla", "name": "sla", "field": "sla"},
        {"id": "out_queue", "name": "queue", "field": "queue"},
        {"id": "out_priority", "name": "priority", "field": "priority"},
        {"id": "out_discount", "name": "discount", "field": "discount"},
        {"id": "out_skip", "name": "skip", "field": "skip"},
    ]
    rows = []
    for rule in rules.rules:
        row: dict[str, str] = {"_id": rule.name, **_zen_row_conditions(rule)}
        row["out_sla"] = str(rule.sla) if rule.sla is not None else ""
        row["out_queue"] = json.dumps(rule.queue) if rule.queue is not None else ""
        row["out_priority"] = str(rule.priority) if rule.queue is not None else ""
        row["out_discount"] = rule.discount if rule.discount is not None else ""
        row["out_skip"] = ("true" if rule.skip else "false") if rule.skip is not None else ""
        rows.append(row)
    table = {"hitPolicy": "collect", "outputPath": "rows", "inputs": _zen_inputs(), "outputs": outputs, "rules": rows}
    expressions = [
        ("slas", "map(filter(rows, #.sla != null), #.sla)"),
        ("queued", "filter(rows, #.priority != null)"),
        ("top", "len($.queued) > 0 ? max(map($.queued, #.priority)) : null"),
        ("discounts", "map(filter(rows, #.discount != null), #.discount)"),
        ("sla", "len($.slas) > 0 ? min($.slas) : 72"),
        ("queue", '$.top != null ? filter($.queued, #.priority == $.top)[0].queue : "general"'),
        ("discount", "len($.discounts) > 0 ? max($.discounts) : 0"),
        ("skip_fraud_check", "some(rows, #.skip == true)"),
    ]
    expression = {"expressions": [{"id": f"x_{key}", "key": key, "value": value} for key, value in expressions]}
    return _zen_graph([("rules", table)], expression)


def _zen_first(rules: RuleSet) -> dict[str, Any]:
    """One table per output, hit policy `first`: rows sorted by the value they set (ascending for
    min, descending for max and priority, `true` only for any), so the first match is the resolved
    value; a last row with no conditions gives the default."""

    def table(output: str, proposals: list[tuple[Any, Rule, str]], default: str) -> dict[str, Any]:
        rows = []
        for _, rule, value in proposals:
            rows.append({"_id": rule.name, **_zen_row_conditions(rule), "out": value})
        rows.append({"_id": "default", **{c["id"]: "" for c in _zen_inputs()}, "out": default})
        return {
            "hitPolicy": "first",
            "inputs": _zen_inputs(),
            "outputs": [{"id": "out", "name": output, "field": output}],
            "rules": rows,
        }

    def stable(items: list[tuple[Any, Rule, str]], reverse: bool) -> list[tuple[Any, Rule, str]]:
        return sorted(items, key=lambda t: (-t[0] if reverse else t[0], t[1].index))

    slas = stable([(r.sla, r, str(r.sla)) for r in rules.rules if r.sla is not None], reverse=False)
    queues = stable([(r.priority, r, json.dumps(r.queue)) for r in rules.rules if r.queue is not None], reverse=True)
    discounts = stable(
        [(Decimal(r.discount), r, r.discount) for r in rules.rules if r.discount is not None], reverse=True
    )
    skips = [(0, r, "true") for r in rules.rules if r.skip]
    tables = [
        ("sla", table("sla", slas, "72")),
        ("queue", table("queue", queues, '"general"')),
        ("discount", table("discount", discounts, "0")),
        ("skip_fraud_check", table("skip_fraud_check", skips, "false")),
    ]
    return _zen_graph(tables, None)


# --- rule-engine (pure Python) ---


def _re_cond(node: Any) -> str:
    if isinstance(node, All):
        return "(" + " and ".join(_re_cond(p) for p in node.parts) + ")"
    if isinstance(node, AnyOf):
        return "(" + " or ".join(_re_cond(p) for p in node.parts) + ")"
    if isinstance(node, Not):
        return f"not {_re_cond(node.part)}"
    name, op, value = node.field, node.op, node.value
    if name == "vip" and op == "==":
        return "vip" if value else "(not vip)"
    if op in ("in", "not_in"):
        members = ", ".join(_zen_literal(name, v) for v in value)
        return f"({'not ' if op == 'not_in' else ''}({name} in [{members}]))"
    if op == "between":
        return f"({name} >= {_zen_literal(name, value[0])} and {name} <= {_zen_literal(name, value[1])})"
    return f"({name} {op} {_zen_literal(name, value)})"


def to_rule_engine(rules: RuleSet) -> list[str]:
    """One rule-engine expression per rule; `fold()` combines the actions of the matching ones."""
    return [_re_cond(rule.condition) for rule in rules.rules]


def fold(matching: list[Rule]) -> dict[str, Any]:
    """The policy's resolution over the actions of the matching rules, in rule order (used for the
    engines that only say which rules match)."""
    sla = None
    queue = None
    priority = None
    discount = None
    skip = False
    for rule in matching:
        if rule.sla is not None and (sla is None or rule.sla < sla):
            sla = rule.sla
        if rule.queue is not None and (priority is None or rule.priority > priority):
            queue, priority = rule.queue, rule.priority
        if rule.discount is not None:
            value = float(rule.discount)
            if discount is None or value > discount:
                discount = value
        if rule.skip:
            skip = True
    return {
        "sla": 72 if sla is None else sla,
        "queue": "general" if queue is None else queue,
        "discount": 0.0 if discount is None else discount,
        "skip_fraud_check": skip,
    }


# --- Rego ---


def _rego_value(name: str, value: Any) -> str:
    return _zen_literal(name, value)


def _rego_atom(atom: Atom) -> str:
    name, op, value = atom.field, atom.op, atom.value
    ref = f"input.{name}"
    if op in ("in", "not_in"):
        members = ", ".join(_rego_value(name, v) for v in value)
        return f"{'not ' if op == 'not_in' else ''}{ref} in {{{members}}}"
    if op == "between":
        return f"{ref} >= {_rego_value(name, value[0])}; {ref} <= {_rego_value(name, value[1])}"
    return f"{ref} {op} {_rego_value(name, value)}"


def to_rego(rules: RuleSet) -> str:
    """One `contrib contains {...} if {...}` per rule; an `or` group becomes a helper rule with one
    body per alternative, a negated test `not <test>` (a negated `between` a helper too)."""
    lines = ["package peers", "", "import rego.v1", ""]
    helpers: list[str] = []
    for rule in rules.rules:
        body = []
        for j, part in enumerate(rule.condition.parts):
            if isinstance(part, Atom):
                body.append(_rego_atom(part))
            elif isinstance(part, AnyOf):
                helper = f"{rule.name}_or{j}"
                for alternative in part.parts:
                    helpers.append(f"{helper} if {{ {_rego_atom(alternative)} }}")
                body.append(helper)
            elif isinstance(part, Not):
                inner = part.part
                if inner.op in ("between", "not_in"):
                    # `not` takes one expression: a two-part test, or one that already starts
                    # with `not`, goes through a helper rule
                    helper = f"{rule.name}_not{j}"
                    helpers.append(f"{helper} if {{ {_rego_atom(inner)} }}")
                    body.append(f"not {helper}")
                else:
                    body.append(f"not {_rego_atom(inner)}")
        entries = [f'"id": {rule.index}']
        if rule.sla is not None:
            entries.append(f'"sla": {rule.sla}')
        if rule.queue is not None:
            entries.append(f'"queue": "{rule.queue}", "priority": {rule.priority}')
        if rule.discount is not None:
            entries.append(f'"discount": {rule.discount}')
        if rule.skip is not None:
            entries.append(f'"skip": {"true" if rule.skip else "false"}')
        lines.append(f"contrib contains {{{', '.join(entries)}}} if {{")
        lines += [f"\t{b}" for b in "; ".join(body).split("; ")]
        lines.append("}")
        lines.append("")
    lines += helpers
    lines += [
        "",
        "slas := [v | some c in contrib; v := c.sla]",
        "queued := [[p, q] | some c in contrib; p := c.priority; q := c.queue]",
        "discounts := [v | some c in contrib; v := c.discount]",
        "",
        "default sla := 72",
        "sla := min(slas) if count(slas) > 0",
        'default queue := "general"',
        "queue := max(queued)[1] if count(queued) > 0",
        "default discount := 0",
        "discount := max(discounts) if count(discounts) > 0",
        "default skip_fraud_check := false",
        "skip_fraud_check if {",
        "\tsome c in contrib",
        "\tc.skip == true",
        "}",
        "",
        'decision := {"sla": sla, "queue": queue, "discount": discount, "skip_fraud_check": skip_fraud_check}',
    ]
    return "\n".join(lines) + "\n"


def matches(node: Any, facts: dict[str, Any]) -> bool:
    """Evaluates a condition directly (used to minimise a disagreement, never timed)."""
    if isinstance(node, All):
        return all(matches(p, facts) for p in node.parts)
    if isinstance(node, AnyOf):
        return any(matches(p, facts) for p in node.parts)
    if isinstance(node, Not):
        return not matches(node.part, facts)
    value = facts[node.field]
    target = node.value

    def convert(v: Any) -> Any:
        return duration_days(v) if node.field == "tenure_days" else v

    op = node.op
    if op == "==":
        return bool(value == convert(target))
    if op == "!=":
        return bool(value != convert(target))
    if op == "in":
        return value in {convert(v) for v in target}
    if op == "not_in":
        return value not in {convert(v) for v in target}
    if op == "between":
        return bool(convert(target[0]) <= value <= convert(target[1]))
    return bool(
        {
            ">": value > convert(target),
            ">=": value >= convert(target),
            "<": value < convert(target),
            "<=": value <= convert(target),
        }[op]
    )


def describe_rule(rule: Rule) -> str:
    """A one-line, engine-neutral description of a rule (for reports)."""
    return f"{rule.name}: if {_pl_cond(rule.condition, top=True)} then {_pl_actions(rule)}" + (
        f" (priority {rule.priority})" if rule.priority else ""
    )
