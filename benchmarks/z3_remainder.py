"""Would an SMT solver (z3) earn its weight for the part of the analysis that is not exact?

policylang's analysis (policylang/analysis/analyser.py) decides conflicts exactly for conditions that compare
one fact (or a value computed from one fact with constants) with constants. Outside that fragment
(`monthly_spend * months >= 1_000_000`, `spend > budget`) it tries value combinations, notes
`analysis-incomplete`, and can miss real conflicts
(tests/golden/analysis/incomplete_misses_conflict.policy). This script measures what z3 would do
there, to decide whether `z3-solver` is worth offering as an optional extra:

- it translates checked expressions (facts of type int, number, bool, enum and duration; lets and
  segments; `and` / `or` / `not` with missing facts as the evaluator's three-valued logic) into z3,
  and refuses (counts as "refused") whatever else it meets: strings, dates, sets, `now`, outputs
  read by conditions, division by anything but a non-zero constant;
- for each `resolve unique` output it asks z3, pair by pair, whether two rules setting different
  constant values can match together, and replays every model through `Policy.decide(...,
  on_conflict="mark")` to check that the conflict really shows;
- it times `import z3` (fresh interpreters), the size of the installed distribution, each pair
  query, and `Policy.analyse()` on the same policies, and prints a markdown table.

Optional facts are modelled with one extra Bool (present or not) per fact; a rule "matches" when its
condition is True (not False, not unknown). Integers and decimals are unbounded in z3 as in
policylang (whose decimals carry 60 significant digits; the replay catches any difference).

    pip install z3-solver
    python benchmarks/z3_remainder.py                 # golden files, then 10, 100 and 1,000 rules
    python benchmarks/z3_remainder.py --quick         # 10 and 100 rules only
    python benchmarks/z3_remainder.py --max-pairs 500 --timeout-ms 1000

It runs on one core (the process is pinned to one CPU where the OS allows it), in about 4 minutes.
Policies with more candidate pairs than --max-pairs (300,000: the 1,000-rule policy has about
255,000, so by default every pair is queried) have a fixed random sample of pairs queried; the table
then says so and extrapolates z3's total time to every pair. Nothing is written; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:
    import z3
except ImportError:
    sys.exit("z3 is not installed: `pip install z3-solver` (about 38 MB), then run this again.")

import policylang  # noqa: E402
from policylang.core.datatypes import BOOL, DATE, DATETIME, DURATION, INT, NUMBER, STRING, EnumOf, SetOf  # noqa: E402
from policylang.core.values import Duration  # noqa: E402
from policylang.semantics import typed_tree as c  # noqa: E402

AS_OF = "2026-01-01T00:00:00Z"
GOLDEN = ROOT / "tests" / "golden" / "analysis"
GOLDEN_FILES = ("incomplete_misses_conflict.policy", "incomplete_computing_let.policy")
SIZES = (10, 100, 1_000)
QUICK_SIZES = (10, 100)


class Refused(Exception):
    """A construct or type the translation does not handle."""


# --- translation: checked expressions to z3 ---

Truth = tuple[Any, Any]
"""(true, false) formulas of a condition; neither holds when it reads a missing fact."""
Term = tuple[Any, Any]
"""(value, defined) of a non-bool expression; `defined` is false when it reads a missing fact."""


class Translator:
    """The facts of one policy as z3 constants, and its conditions as z3 formulas."""

    def __init__(self, policy: c.CheckedPolicy) -> None:
        self.policy = policy
        self.vars: dict[str, Any] = {}
        self.present: dict[str, Any] = {}
        self.domain: list[Any] = []
        """Constraints every model must satisfy (an enum's rank among its members)."""
        self._derived: dict[str, Any] = {}
        for name, fact in policy.facts.items():
            t = fact.type
            if t == BOOL:
                var = z3.Bool(name)
            elif t in (INT, DURATION) or isinstance(t, EnumOf):  # durations as whole seconds
                var = z3.Int(name)
                if isinstance(t, EnumOf):
                    self.domain += [var >= 0, var < len(t.members)]
            elif t == NUMBER:
                var = z3.Real(name)
            else:
                continue  # strings, dates, sets, schema-less: refused where read
            self.vars[name] = var
            if fact.optional:
                self.present[name] = z3.Bool(f"{name}?")

    def condition(self, expr: c.CheckedExpr) -> Any | None:
        """The formula for "the condition is True", or None when the translation refuses it."""
        try:
            return self.truth(expr)[0]
        except Refused:
            return None

    def truth(self, expr: c.CheckedExpr) -> Truth:
        match expr:
            case c.Const():
                return (z3.BoolVal(bool(expr.value)), z3.BoolVal(not expr.value))
            case c.FactRef():
                var, defined = self.term_of_fact(expr)
                return (z3.And(defined, var), z3.And(defined, z3.Not(var)))
            case c.DerivedRef():
                return self.derived(expr.key)  # type: ignore[no-any-return]
            case c.Compare():
                if expr.left.type == BOOL:  # `vip == true`: compare the truths
                    if expr.op not in ("==", "!="):
                        raise Refused("ordering of bools")
                    (lt, lf), (rt, rf) = self.truth(expr.left), self.truth(expr.right)
                    same = lt == rt
                    return _guarded(z3.And(z3.Or(lt, lf), z3.Or(rt, rf)), same if expr.op == "==" else z3.Not(same))
                (a, da), (b, db) = self.term(expr.left), self.term(expr.right)
                return _guarded(z3.And(da, db), _compare(expr.op, a, b))
            case c.Between():
                (v, dv), (lo, dl), (hi, dh) = self.term(expr.value), self.term(expr.low), self.term(expr.high)
                return _guarded(z3.And(dv, dl, dh), z3.And(lo <= v, v <= hi))
            case c.Membership():
                if expr.op not in ("in", "not in") or not isinstance(expr.right, c.Const):
                    raise Refused(f"membership `{expr.op}` in a computed set")
                a, da = self.term(expr.left)
                assert isinstance(expr.right.type, SetOf)
                element = expr.right.type.element
                inside = z3.Or([a == self.const(v, element) for v in expr.right.value])
                return _guarded(da, inside if expr.op == "in" else z3.Not(inside))
            case c.Presence():
                if expr.target.type == BOOL:
                    t, f = self.truth(expr.target)
                    defined = z3.Or(t, f)
                else:
                    defined = self.term(expr.target)[1]
                return (z3.Not(defined), defined) if expr.missing else (defined, z3.Not(defined))
            case c.BoolOp():
                parts = [self.truth(e) for e in expr.operands]
                trues, falses = [p[0] for p in parts], [p[1] for p in parts]
                if expr.op == "and":
                    return (z3.And(trues), z3.Or(falses))
                return (z3.Or(trues), z3.And(falses))
            case c.Not():
                t, f = self.truth(expr.operand)
                return (f, t)
            case _:
                raise Refused(type(expr).__name__)

    def term(self, expr: c.CheckedExpr) -> Term:
        match expr:
            case c.Const():
                return (self.const(expr.value, expr.type), z3.BoolVal(True))
            case c.FactRef():
                return self.term_of_fact(expr)
            case c.DerivedRef():
                return self.derived(expr.key)  # type: ignore[no-any-return]
            case c.Negate():
                v, d = self.term(expr.operand)
                return (-v, d)
            case c.Arithmetic():
                return self.calculation(expr)
            case _:
                raise Refused(type(expr).__name__)

    def term_of_fact(self, expr: c.FactRef) -> Term:
        if expr.name not in self.vars:
            raise Refused(f"fact `{expr.name}` of type {expr.type}")
        return (self.vars[expr.name], self.present.get(expr.name, z3.BoolVal(True)))

    def derived(self, key: str) -> Any:
        if key not in self._derived:
            item = self.policy.derived[key]
            self._derived[key] = self.truth(item.expr) if item.type == BOOL else self.term(item.expr)
        return self._derived[key]

    def const(self, value: Any, t: Any) -> Any:
        if isinstance(t, EnumOf):
            return z3.IntVal(t.members.index(value))
        if isinstance(value, bool):
            return z3.BoolVal(value)
        if isinstance(value, int):
            return z3.IntVal(value)
        if isinstance(value, Decimal):
            ratio = Fraction(value)
            return z3.RealVal(f"{ratio.numerator}/{ratio.denominator}")
        if isinstance(value, Duration):
            return z3.IntVal(value.total_seconds)
        raise Refused(f"constant of type {t}")

    def calculation(self, expr: c.Arithmetic) -> Term:
        lt, rt, op = expr.left.type, expr.right.type, expr.op
        if DATE in (lt, rt) or DATETIME in (lt, rt) or STRING in (lt, rt):
            raise Refused("date or string arithmetic")
        (a, da), (b, db) = self.term(expr.left), self.term(expr.right)
        defined = z3.And(da, db)
        if op == "/":
            # Division by zero is an error, not a missing value: only non-zero constants are divided by.
            if not isinstance(expr.right, c.Const) or not expr.right.value:
                raise Refused("division by a computed value")
            if lt == DURATION and rt != DURATION:  # duration / number: whole seconds, rounded down
                return (z3.ToInt(_real(a) / _real(b)), defined)
            return (_real(a) / _real(b), defined)
        if op == "*" and DURATION in (lt, rt):
            seconds, factor = (a, b) if lt == DURATION else (b, a)
            factor_type = rt if lt == DURATION else lt
            if factor_type == INT:  # exact, months and seconds scaled alike
                return (seconds * factor, defined)
            return (z3.ToInt(_real(seconds) * factor), defined)  # Duration.scale rounds down
        values = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b}
        return (values[op](), defined)


def _real(value: Any) -> Any:
    return z3.ToReal(value) if z3.is_int(value) else value


def _guarded(defined: Any, holds: Any) -> Truth:
    return (z3.And(defined, holds), z3.And(defined, z3.Not(holds)))


def _compare(op: str, a: Any, b: Any) -> Any:
    return {
        "==": lambda: a == b,
        "!=": lambda: a != b,
        "<": lambda: a < b,
        "<=": lambda: a <= b,
        ">": lambda: a > b,
        ">=": lambda: a >= b,
    }[op]()


# --- models back to facts ---


def _number_text(value: Any) -> str:
    """A z3 real as decimal text: exact when it has a finite expansion (z3's models usually do)."""
    if z3.is_algebraic_value(value):
        value = value.approx(40)
    ratio = Fraction(value.as_fraction())
    with localcontext() as context:
        context.prec = 100
        return format(Decimal(ratio.numerator) / Decimal(ratio.denominator), "f")


PLAIN: dict[Any, Any] = {
    INT: 0,
    NUMBER: 0,
    BOOL: False,
    DURATION: "0s",
    STRING: "",
    DATE: "2026-01-01",
    DATETIME: AS_OF,
}


def _plain(t: Any) -> Any:
    """A value for a required fact that the translation does not model."""
    if isinstance(t, EnumOf):
        return t.members[0]
    return [] if isinstance(t, SetOf) else PLAIN.get(t, "")


def _finite_decimal(value: Any) -> bool:
    if not z3.is_rational_value(value):
        return False
    d = value.denominator_as_long()
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def decimal_model(solver: Any, tr: Translator, formulas: list[Any], places: int = 6, tries: int = 4) -> Any:
    """The solver's model, or, when a number in it has no finite decimal expansion (4_999_999 / 4_996),
    one whose numbers have at most `places` decimals, if a few quick tries find one: facts are
    decimals, and a rational on the boundary of `budget >= monthly_spend * 12` does not survive
    rounding. Each try keeps the other facts as the model has them (the products become linear: a
    quick query), then asks for a model with other values of those facts. Adds to `solver`: the
    caller pops."""
    first = model = solver.model()
    reals = [v for v in tr.vars.values() if z3.is_real(v)]
    if all(_finite_decimal(model.eval(v, model_completion=True)) for v in reals):
        return model
    others = [v for v in tr.vars.values() if not z3.is_real(v)] + list(tr.present.values())
    decimals = [v * 10**places == z3.ToReal(z3.Int(f"{v}*10^{places}")) for v in reals]
    for _ in range(tries):
        if all(_finite_decimal(model.eval(v, model_completion=True)) for v in reals):
            return model
        kept = [(v, model.eval(v, model_completion=True)) for v in others]
        retry = z3.Solver()
        retry.set("timeout", 500)
        retry.add(tr.domain + [z3.substitute(f, *kept) for f in formulas] + [v == x for v, x in kept] + decimals)
        if retry.check() == z3.sat:
            return retry.model()
        solver.add(z3.Or([v != value for v, value in kept]))
        if solver.check() != z3.sat:
            break
        model = solver.model()
    return first


def facts_from_model(tr: Translator, model: Any) -> dict[str, Any]:
    """The model as facts, the way a facts file gives them."""
    facts: dict[str, Any] = {}
    for name, fact in tr.policy.facts.items():
        if name in tr.present and not z3.is_true(model.eval(tr.present[name], model_completion=True)):
            continue  # not given
        if name not in tr.vars:
            if not fact.optional and not fact.has_default:
                facts[name] = _plain(fact.type)
            continue
        value = model.eval(tr.vars[name], model_completion=True)
        if fact.type == BOOL:
            facts[name] = z3.is_true(value)
        elif fact.type == INT:
            facts[name] = value.as_long()
        elif fact.type == DURATION:
            facts[name] = f"{value.as_long()}s"
        elif isinstance(fact.type, EnumOf):
            facts[name] = fact.type.members[value.as_long()]
        else:
            facts[name] = _number_text(value)
    return facts


# --- the pair queries ---


@dataclass
class Result:
    name: str
    rules: int
    pairs_total: int = 0
    pairs_queried: int = 0
    refused: int = 0
    sat: int = 0
    unsat: int = 0
    unknown: int = 0
    replayed: int = 0
    not_replayed: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    query_ms: list[float] = field(default_factory=list)
    translate_s: float = 0.0
    replay_s: float = 0.0
    z3_found: set[tuple[str, frozenset[str]]] = field(default_factory=set)
    queried: set[tuple[str, frozenset[str]]] = field(default_factory=set)
    analysis_s: float = 0.0
    analysis_found: set[tuple[str, frozenset[str]]] = field(default_factory=set)


def _constant(rule: c.CheckedRule, output: str) -> tuple[bool, Any]:
    """(whether the rule sets the output to a constant, that value)."""
    value: Any = None
    for action in rule.actions:
        if action.output == output:
            if action.op != "set" or not isinstance(action.value, c.Const):
                return False, None
            value = action.value.value
    return True, value


def _agree(a: Any, b: Any) -> bool:
    return bool(a == b and isinstance(a, bool) == isinstance(b, bool))


def z3_conflicts(policy: Any, name: str, max_pairs: int, timeout_ms: int, seed: int = 0) -> Result:
    """Every pair of rules that set a `resolve unique` output to different constants (a sample of
    `max_pairs` if there are more), asked of one incremental solver (push, both conditions, check,
    pop); each model is replayed through `Policy.decide`."""
    checked: c.CheckedPolicy = policy.checked
    result = Result(name, len(checked.rules))
    started = time.perf_counter()
    tr = Translator(checked)
    conditions = [tr.condition(rule.condition) for rule in checked.rules]
    result.translate_s = time.perf_counter() - started
    candidates: list[tuple[str, int, int]] = []
    for output, declared in checked.outputs.items():
        if declared.resolution != "unique":
            continue
        setters = []
        for i, rule in enumerate(checked.rules):
            constant, value = _constant(rule, output)
            if constant and any(action.output == output for action in rule.actions):
                setters.append((i, value))
        for k, (i, first) in enumerate(setters):
            for j, second in setters[k + 1 :]:
                if not _agree(first, second):
                    candidates.append((output, i, j))
    result.pairs_total = len(candidates)
    if len(candidates) > max_pairs:
        candidates = sorted(random.Random(seed).sample(candidates, max_pairs))
    result.pairs_queried = len(candidates)
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(tr.domain)
    for output, i, j in candidates:
        a, b = checked.rules[i], checked.rules[j]
        pair = (output, frozenset((a.id, b.id)))
        result.queried.add(pair)
        if conditions[i] is None or conditions[j] is None:
            result.refused += 1
            continue
        started = time.perf_counter()
        solver.push()
        solver.add(conditions[i], conditions[j])
        answer = solver.check()
        facts = (
            facts_from_model(tr, decimal_model(solver, tr, [conditions[i], conditions[j]]))
            if answer == z3.sat
            else None
        )
        solver.pop()
        result.query_ms.append((time.perf_counter() - started) * 1000)
        if facts is not None:
            result.sat += 1
            started = time.perf_counter()
            shown = _replays(policy, facts, output, a.id, b.id)
            result.replay_s += time.perf_counter() - started
            if shown:
                result.replayed += 1
                result.z3_found.add(pair)
            else:
                result.not_replayed.append((output, a.id, b.id, facts))
        elif answer == z3.unsat:
            result.unsat += 1
        else:
            result.unknown += 1
    return result


def _replays(policy: Any, facts: dict[str, Any], output: str, first: str, second: str) -> bool:
    try:
        decision = policy.decide(facts, as_of=AS_OF, on_conflict="mark")
    except Exception:  # a fact the evaluator rejects, or an evaluation error: not shown
        return False
    return {first, second} <= {rule for rule, _ in decision.conflicts.get(output, ())}


CONFLICT_OUTPUT = re.compile(r"can both match and set `([^`]+)` to different values")


def run_analysis(policy: Any, result: Result) -> None:
    started = time.process_time()
    findings = policy.analyse()
    result.analysis_s = time.process_time() - started
    for d in findings:
        if d.code.value == "conflict":
            match = CONFLICT_OUTPUT.search(d.message)
            assert match is not None, d.message
            if policy.checked.outputs[match[1]].resolution == "unique":
                result.analysis_found.add((match[1], frozenset(d.rules)))


# --- the generated family ---

TIERS = ("basic", "standard", "premium", "key")
PLANS = ("bronze", "silver", "gold", "platinum")
SLAS = ("2h", "4h", "8h", "24h")

HEADER = """\
policy z3_family_{rules} "Generated by benchmarks/z3_remainder.py: {rules} rules, seed {seed}"

input {{
    tier: enum({tiers})
    monthly_spend: number
    months: int
    budget: number
    seats: int
    vip: bool
    tenure: duration
    credit: number?
}}

output {{
    plan: enum({plans}) = bronze
    sla: duration = 72h
}}

let lifetime = monthly_spend * months
let headroom = budget - monthly_spend * 12
segment over_budget = monthly_spend * 12 > budget
"""


def _one_fact(rng: random.Random) -> str:
    """A comparison of one fact with constants (the exact fragment)."""
    kind = rng.randrange(8)
    if kind == 0:
        return f"tier in {{{', '.join(sorted(rng.sample(TIERS, 2), key=TIERS.index))}}}"
    if kind == 1:
        low = rng.choice((0, 100, 500, 1_000, 5_000))
        return f"monthly_spend between {low} and {low * rng.choice((2, 10)) + 1}"
    if kind == 2:
        return f"months {rng.choice(('>', '<='))} {rng.choice((1, 6, 12, 24, 36))}"
    if kind == 3:
        return f"seats {rng.choice(('>', '<='))} {rng.choice((5, 10, 50, 200))}"
    if kind == 4:
        return rng.choice(("vip", "not vip"))
    if kind == 5:
        return f"tenure {rng.choice(('>', '<='))} {rng.choice(('90d', '1y', '2y', '5y'))}"
    if kind == 6:
        return rng.choice(("credit is missing", f"credit < {rng.choice((0, 100, 1_000))}"))
    return f"budget {rng.choice(('>=', '<'))} {rng.choice((1_000, 10_000, 100_000))}"


def _two_facts(rng: random.Random) -> str:
    """A comparison over two or more facts (outside the fragment: the analysis samples)."""
    kind = rng.randrange(7)
    if kind == 0:
        return f"monthly_spend * months {rng.choice(('>=', '<'))} {rng.choice((10_000, 50_000, 100_000, 1_000_000))}"
    if kind == 1:  # a narrow window, like incomplete_misses_conflict.policy's
        low = rng.choice((99_991, 250_003, 1_000_001, 4_999_999))
        return f"lifetime between {low} and {low + rng.choice((0, 3, 9))}"
    if kind == 2:
        return f"seats * {rng.choice((10, 25, 100))} {rng.choice(('>', '<='))} budget"
    if kind == 3:
        return rng.choice(("monthly_spend > budget", "monthly_spend <= budget"))
    if kind == 4:
        return f"headroom {rng.choice(('<', '>='))} {rng.choice((-1_000, 0, 5_000))}"
    if kind == 5:
        return f"seats * months {rng.choice(('<=', '>'))} {rng.choice((12, 100, 1_000))}"
    return rng.choice(("over_budget", "not over_budget"))


def generate(rules: int, seed: int = 0) -> str:
    """N rules, each `tier == X` (or another one-fact comparison) and one or two more, with one
    comparison over two facts among them, setting a `resolve unique` output (plan, or now and then
    sla) to one of a few values. Rules of different tiers never meet; within a tier, the analysis
    has to decide the rest."""
    rng = random.Random(seed)
    lines = [HEADER.format(rules=rules, seed=seed, tiers=", ".join(TIERS), plans=", ".join(PLANS))]
    for k in range(rules):
        first = f"tier == {rng.choice(TIERS)}" if rng.random() < 0.8 else _one_fact(rng)
        parts = [first, *(_one_fact(rng) for _ in range(rng.choice((0, 1, 1, 2))))]
        parts.insert(rng.randrange(1, len(parts) + 1), _two_facts(rng))
        action = f"sla = {rng.choice(SLAS)}" if rng.random() < 0.2 else f"plan = {rng.choice(PLANS)}"
        lines.append(f"rule r{k}:\n    if {' and '.join(parts)}\n    then {action}\n")
    return "\n".join(lines)


# --- cost of the dependency ---


def import_seconds(module: str, runs: int = 5) -> list[float]:
    """`import module` in fresh interpreters (the first may include a cold disk cache)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        for _ in range(runs)
    ]


def installed_bytes() -> tuple[int, int, str]:
    """(bytes of the z3/ package folder, bytes of every file the distribution installed, version)."""
    package = Path(z3.__file__).parent
    folder = sum(p.stat().st_size for p in package.rglob("*") if p.is_file())
    dist = importlib.metadata.distribution("z3-solver")
    files: Iterable[Any] = dist.files or ()
    total = 0
    for item in files:
        path = Path(str(item.locate()))
        if path.is_file():
            total += path.stat().st_size
    return folder, total, dist.version


# --- the report ---


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.2f}"


def row(r: Result) -> str:
    sampled = r.pairs_queried < r.pairs_total
    queries_s = sum(r.query_ms) / 1000
    per_pair = (queries_s + r.replay_s) / max(1, r.pairs_queried)
    total = r.translate_s + queries_s + r.replay_s
    estimate = r.translate_s + per_pair * r.pairs_total
    total_text = f"{total:.2f}" + (f" (all pairs ≈ {estimate:,.0f})" if sampled else "")
    pairs = f"{r.pairs_queried:,} of {r.pairs_total:,}" if sampled else f"{r.pairs_total:,}"
    in_sample = {p for p in r.analysis_found if p in r.queried}
    z3_only = len(r.z3_found - r.analysis_found)
    analysis_only = len(in_sample - r.z3_found)
    analysis = f"{len(r.analysis_found)}" + (f" ({len(in_sample)} in sample)" if sampled else "")
    return (
        f"| {r.name} | {r.rules:,} | {pairs} | {r.sat} / {r.replayed} | {r.unsat} | {r.unknown} | {r.refused} "
        f"| {_ms(r.query_ms, 0.5)} / {_ms(r.query_ms, 0.95)} / {_ms(r.query_ms, 1.0)} | {total_text} "
        f"| {analysis} | {r.analysis_s:.2f} | {z3_only} | {analysis_only} |"
    )


HEAD = (
    "| policy | rules | pairs queried | z3 sat / replayed | unsat | unknown | refused "
    "| z3 ms per pair (median / p95 / max) | z3 total s | `analyse()` conflicts | `analyse()` s "
    "| z3 only | `analyse()` only |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 rules only")
    parser.add_argument("--max-pairs", type=int, default=300_000, help="pairs queried per policy (sampled beyond)")
    parser.add_argument("--timeout-ms", type=int, default=2_000, help="z3 time limit per pair query")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pinned = pin_one_core()

    imports = import_seconds("z3")
    base = import_seconds("policylang")
    folder, total, version = installed_bytes()
    print(f"z3-solver {version}, Python {sys.version.split()[0]}, {pinned}")
    print(
        f"- installed: z3/ package folder {folder / 1e6:.1f} MB; every file of the distribution "
        f"(with its `z3` executable) {total / 1e6:.1f} MB"
    )
    print(
        f"- `import z3` in a fresh interpreter: median {statistics.median(imports) * 1000:.0f} ms "
        f"(runs: {', '.join(f'{s * 1000:.0f}' for s in imports)} ms); "
        f"`import policylang`: median {statistics.median(base) * 1000:.0f} ms"
    )
    print(
        f"- per-query timeout {args.timeout_ms} ms; at most {args.max_pairs:,} pairs queried per policy "
        f"(a fixed random sample, seed {args.seed}, beyond)\n",
        flush=True,
    )

    jobs: list[tuple[str, str]] = [(name, (GOLDEN / name).read_text()) for name in GOLDEN_FILES]
    for rules in QUICK_SIZES if args.quick else SIZES:
        jobs.append((f"generated {rules}", generate(rules, args.seed)))
    results = []
    for name, text in jobs:
        policy = policylang.compile(text, filename=name)
        result = z3_conflicts(policy, name, args.max_pairs, args.timeout_ms, args.seed)
        run_analysis(policy, result)
        results.append(result)
        print(
            f"  done: {name} (z3 {sum(result.query_ms) / 1000:.1f} s in queries, analyse() {result.analysis_s:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    print(HEAD)
    for result in results:
        print(row(result))
    print(
        "\nz3 sat / replayed: pairs z3 found satisfiable / whose model `decide()` shows as that conflict. "
        "z3 only: replayed conflicts `analyse()` did not report; `analyse()` only: its conflicts among the "
        "queried pairs that z3 did not find (refused, unknown, or a translation bug). z3 ms per pair: push, "
        "assert both conditions, check, read the model (retried for decimals), pop; the replay is not in it. "
        "z3 total: wall seconds of translation, queries and replays; `analyse()`: CPU seconds."
    )
    for result in results:
        for output, first, second, facts in result.not_replayed[:3]:
            print(f"- {result.name}: z3's model for `{first}` / `{second}` on `{output}` did not replay: {facts}")
        for output, pair in sorted(result.z3_found - result.analysis_found, key=str)[:2]:
            print(f"- {result.name}: missed by `analyse()`: {' / '.join(sorted(pair))} on `{output}`")


if __name__ == "__main__":
    main()
