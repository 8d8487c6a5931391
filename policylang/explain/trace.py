"""Typed traces of a decision: for every output, where its value came from; for every rule that
could set it, whether it matched and, part by part, why.

Nothing here runs when `decide()` is called, so deciding pays nothing for it: a trace is made on
request, by evaluating the policy's conditions once more on the decision's own facts and time
(evaluation is deterministic, so it describes exactly the decision made). Each part of a condition
is evaluated by code that the decision function's own generator makes for that part, so a trace
and its decision cannot disagree. A trace is data (pydantic models, whose JSON schema tools can
rely on); it never formats text: explanations are rendered from it.

A trace is full (every rule that can set each output, part by part) or a summary (the rules that
matched, part by part, and the nearest misses: the rules that failed by the fewest condition
parts). A summary costs what its rules cost plus one call per output of a generated function that
counts every rule's failed parts, so a 1,000-rule policy is summarised in a few milliseconds.
"""

from __future__ import annotations

import decimal
import heapq
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from ..core.datatypes import BOOL
from ..core.json_codec import to_json_value
from ..core.values import MISSING

# The trace's shapes are the engine's (Policy.trace returns them); importable from here as documented.
from ..engine.answers import ConditionPart as ConditionPart
from ..engine.answers import OutputTrace as OutputTrace
from ..engine.answers import RuleTrace as RuleTrace
from ..engine.answers import Trace as Trace
from ..engine.codegen import CodeGen, Names
from ..engine.evaluator import Decision
from ..engine.runtime import ARITHMETIC, bool3, helpers
from ..semantics import typed_tree as c

Detail = Literal["auto", "summary", "full"]
DETAILS: tuple[Detail, ...] = ("auto", "summary", "full")

SUMMARY_ABOVE = 60
"""`detail="auto"` summarises when more than this many rules can set the outputs explained (counted
once per output they set). A rule takes about five lines of a full tree, so that is a tree of about
300 lines, more than a person reads; every example policy (at most 19 rules in all, counted per
output they set) is still explained in full."""

NEAREST = 5
"""How many nearest misses a summary lists per output."""


def conjuncts(expr: c.CheckedExpr) -> list[c.CheckedExpr]:
    """The parts a rule's condition needs all of: the operands of its top-level `and` (nested `and`s
    flattened), or the condition itself. A nearest miss is counted in these."""
    if isinstance(expr, c.BoolOp) and expr.op == "and":
        return [part for operand in expr.operands for part in conjuncts(operand)]
    return [expr]


def conjunct_parts(part: ConditionPart) -> list[ConditionPart]:
    """`conjuncts` of a traced condition: the parts of its top-level `and`, or the part itself."""
    if part.kind == "and":
        return [inner for operand in part.parts for inner in conjunct_parts(operand)]
    return [part]


class Tracer:
    """Evaluators for every part of a policy's conditions, made once per policy."""

    def __init__(self, policy: c.CheckedPolicy) -> None:
        self.policy = policy
        names = Names()
        for i, (name, fact) in enumerate(policy.facts.items()):
            names.facts[name] = f"V[{i}]"
            if fact.optional and not fact.has_default:
                names.maybe_missing.add(f"V[{i}]")
        for i, name in enumerate(policy.outputs):
            names.outputs[name] = f"O[{i}]"
            names.maybe_missing.add(f"O[{i}]")  # absent, or conflicted
        self.gen = CodeGen(names)
        for i, (key, derived) in enumerate(policy.derived.items()):
            names.derived[key] = f"D[{i}]"
            if self.gen.maybe(derived.expr):
                names.maybe_missing.add(f"D[{i}]")
        self.derived = [
            (key, self._compile(self.gen.cond(d.expr) if d.type == BOOL else self.gen.value(d.expr)))
            for key, d in policy.derived.items()
        ]
        self._parts: dict[int, Any] = {}
        self._shapes: dict[int, _Shape] = {}
        self._actions: dict[tuple[str, str], str] = {}
        self._counters: dict[str, Any] = {}
        self.setting: dict[str, list[tuple[c.CheckedRule, tuple[c.Assignment, ...]]]] = {n: [] for n in policy.outputs}
        """Per output, the rules that set it with their actions on it, in file order: found in one
        pass, so that a rule with thousands of actions is not searched once per output."""
        for rule in policy.rules:
            actions: dict[str, list[c.Assignment]] = {}
            for action in rule.actions:
                actions.setdefault(action.output, []).append(action)
            for output, mine in actions.items():
                self.setting[output].append((rule, tuple(mine)))

    def _compile(self, code: str) -> Any:
        namespace = {**helpers(), **self.gen.constants}
        if self.gen.parts:
            exec(self.gen.parts_source(), namespace)  # the deepest parts of deep code (codegen.MAX_BRACKETS)
        return eval(compile(f"lambda V, D, O, now: {code}", "<trace>", "eval"), namespace)

    def shape(self, expr: c.CheckedExpr) -> _Shape:
        """What does not change between decisions: a part's text, kind, operands and references."""
        key = id(expr)
        if key not in self._shapes:
            self._shapes[key] = _Shape.of(expr, self.policy)
        return self._shapes[key]

    def action_text(self, rule: c.CheckedRule, output: str, actions: tuple[c.Assignment, ...] | None = None) -> str:
        """The rule's actions on the output as written (`actions`: those actions, if known)."""
        key = (rule.id, output)
        if key not in self._actions:
            texts = []
            for action in rule.actions if actions is None else actions:
                if action.output == output:
                    source = self.policy.sources.get(action.span.file)
                    texts.append(source.text[action.span.start : action.span.end] if source else output)
            self._actions[key] = ", ".join(texts)
        return self._actions[key]

    def _evaluator(self, expr: c.CheckedExpr, as_condition: bool = True) -> Any:
        key = id(expr) * 2 + as_condition
        if key not in self._parts:
            self._parts[key] = self._compile(self.gen.cond(expr) if as_condition else self.gen.value(expr))
        return self._parts[key]

    def counter(self, output: str) -> Any:
        """One generated function per output that gives, for each rule that can set it (in file
        order), how many of its condition's parts (`conjuncts`) are not true: what a summary needs
        of the rules it does not show, without tracing them part by part. A rule one of whose parts
        raises on its own (`x != 0 and 10 / x > 1`) gets None there, and is counted part by part."""
        found = self._counters.get(output)
        if found is None:
            lines = [f"def count(V, D, O, now):\n    found = [None] * {len(self.setting[output])}"]
            for i, (rule, _) in enumerate(self.setting[output]):
                tests = "+".join(f"(({self.gen.cond(part)}) is not True)" for part in conjuncts(rule.condition))
                lines.append(f"    try:\n        found[{i}] = 0+{tests}\n    except _RAISES:\n        pass")
            lines.append("    return found\n")
            namespace = {**helpers(), **self.gen.constants, "_RAISES": (ArithmeticError, TypeError)}
            exec(self.gen.parts_source() + "\n".join(lines), namespace)
            found = self._counters[output] = namespace["count"]
        return found

    def detail(self, outputs: Collection[str], detail: Detail) -> Literal["summary", "full"]:
        """The detail `detail` means for explaining `outputs` (`auto`: by size, SUMMARY_ABOVE)."""
        if detail == "auto":
            rules = sum(len(self.setting[name]) for name in outputs)
            return "summary" if rules > SUMMARY_ABOVE else "full"
        return detail

    def trace(self, decision: Decision, only: Collection[str] | None = None, detail: Detail = "full") -> Trace:
        policy = self.policy
        names = [name for name in policy.outputs if only is None or name in only]
        mode = self.detail(names, detail)
        with decimal.localcontext(ARITHMETIC):
            facts = [
                bool3(decision.facts.get(name, MISSING)) if fact.type == BOOL else decision.facts.get(name, MISSING)
                for name, fact in policy.facts.items()
            ]
            outputs = [
                decision.outputs.get(name, None if output.type == BOOL else MISSING)
                for name, output in policy.outputs.items()
            ]
            derived: list[Any] = []
            for _, evaluate in self.derived:
                derived.append(evaluate(facts, derived, outputs, decision.as_of))
            env = _Env(self, facts, derived, outputs, decision.as_of, to_json_value)
            traces = []
            resolutions = decision.resolutions
            for name in names:
                output = policy.outputs[name]
                resolved = resolutions[name]
                others = 0
                if mode == "full":
                    rules = [env.rule(rule, name, actions) for rule, actions in self.setting[name]]
                else:
                    rules, others = env.summary(name)
                traces.append(
                    OutputTrace(
                        output=name,
                        status=resolved.status,  # type: ignore[arg-type]
                        value=None if resolved.status in ("absent", "conflict") else to_json_value(resolved.value),
                        default=to_json_value(output.default) if output.has_default else None,
                        resolution=output.resolution,
                        winners=list(resolved.winners),
                        overridden=list(resolved.overridden),
                        conflicting=list(dict.fromkeys(x.rule for x in resolved.conflicting)),
                        rules=rules,
                        others=others,
                    )
                )
        return Trace(
            policy=policy.name,
            content_hash=policy.content_hash,
            as_of=str(to_json_value(decision.as_of)),
            facts={name: to_json_value(value) for name, value in decision.facts.items() if value is not MISSING},
            missing=[name for name in policy.facts if decision.facts.get(name, MISSING) is MISSING],
            derived={key: env.json(value) for (key, _), value in zip(self.derived, derived, strict=True)},
            outputs=traces,
            detail=mode,
        )


@dataclass(frozen=True)
class _Shape:
    text: str
    kind: Literal["and", "or", "not", "segment", "test"]
    operands: tuple[c.CheckedExpr, ...]
    reads: tuple[tuple[str, str, int], ...]
    """(name, "fact" / "output" / "derived", position) of everything the part reads."""
    calls: tuple[c.Call | c.Conditional, ...] = ()
    """The function calls and conditional values in a test part (`abs(x) > 5`, `(if vip then 5 else
    10) > x`): the trace shows each one's value too."""

    @staticmethod
    def of(expr: c.CheckedExpr, policy: c.CheckedPolicy) -> _Shape:
        kind: Literal["and", "or", "not", "segment", "test"] = "test"
        operands: tuple[c.CheckedExpr, ...] = ()
        match expr:
            case c.BoolOp():
                kind, operands = ("and" if expr.op == "and" else "or"), tuple(expr.operands)
            case c.Not():
                kind, operands = "not", (expr.operand,)
            case c.DerivedRef() if policy.derived[expr.key].kind == "segment":
                kind, operands = "segment", (policy.derived[expr.key].expr,)  # shown with its own parts
            case (
                c.Const()
                | c.FactRef()
                | c.OutputRef()
                | c.DerivedRef()
                | c.Now()
                | c.Compare()
                | c.Membership()
                | c.Between()
                | c.Presence()
                | c.Arithmetic()
                | c.Negate()
                | c.SetLiteral()
                | c.Call()
                | c.Conditional()
            ):
                pass  # a test: shown as one part with its value (a let by its value, not its parts)
            case _:
                c.unhandled(expr)
        positions = {
            "fact": {name: i for i, name in enumerate(policy.facts)},
            "output": {name: i for i, name in enumerate(policy.outputs)},
            "derived": {key: i for i, key in enumerate(policy.derived)},
        }
        reads: dict[str, tuple[str, str, int]] = {}
        calls: list[c.Call | c.Conditional] = []
        for node in c.walk([expr]):
            if isinstance(node, c.Call | c.Conditional) and kind == "test" and node.type != BOOL:
                calls.append(node)
            elif isinstance(node, c.FactRef):
                reads[node.name] = (node.name, "fact", positions["fact"][node.name])
            elif isinstance(node, c.OutputRef):
                reads[node.name] = (node.name, "output", positions["output"][node.name])
            elif isinstance(node, c.DerivedRef):
                reads[node.key] = (node.key, "derived", positions["derived"][node.key])
        return _Shape(c.text_of(expr), kind, operands, tuple(sorted(reads.values())), tuple(calls))


_Model = TypeVar("_Model", bound=BaseModel)


def _trusted(model: type[_Model], **fields: Any) -> _Model:
    """`model.model_construct(**fields)` for fields made here, every one given and of its declared
    type: what model_construct sets, without its search for aliases and defaults, which was most of
    a large trace's cost. The golden tests read each trace back through validation and compare."""
    made = model.__new__(model)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", set(fields))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


def _combined(kind: str, results: list[bool | None]) -> bool | None:
    """`and` / `or` / `not` of parts' results, in three-valued logic (None: unknown)."""
    if kind == "not":
        return None if results[0] is None else not results[0]
    if kind == "and":
        return False if False in results else None if None in results else True
    return True if True in results else None if None in results else False


class _Env:
    """One decision's values, and the parts of its conditions evaluated on them."""

    def __init__(
        self, tracer: Tracer, facts: list[Any], derived: list[Any], outputs: list[Any], now: Any, to_json: Any
    ) -> None:
        self.tracer, self.facts, self.derived, self.outputs, self.to_json = tracer, facts, derived, outputs, to_json
        self.now = now
        self.parts: dict[int, ConditionPart] = {}
        self.results: dict[int, tuple[bool | None, str | None]] = {}
        self.failures: dict[int, list[str]] = {}
        self.tests: dict[tuple[str, c.CheckedExpr], ConditionPart] = {}
        """Test parts by text and structure: `tier == premium` written in a hundred rules is
        evaluated and built once (a test's part has no parts, so it is the same wherever it
        appears). The text is in the key: `tenure > 2y` and `tenure > 24mo` may be one structure."""
        self.segments: dict[tuple[str, str], tuple[ConditionPart, frozenset[str]]] = {}
        """(segment, its text) -> its part traced on its own, and the segments shown in it (itself included)."""
        self.policy = tracer.policy

    def json(self, value: Any) -> Any:
        return None if value is MISSING else self.to_json(value)

    def run(self, expr: c.CheckedExpr, as_condition: bool = True) -> Any:
        return self.tracer._evaluator(expr, as_condition)(self.facts, self.derived, self.outputs, self.now)

    def summary(self, output: str) -> tuple[list[RuleTrace], int]:
        """The rules a summary lists for the output (those that matched, in file order, then the
        NEAREST nearest misses), and how many it leaves out. Only the listed rules are traced."""
        setting = self.tracer.setting[output]
        counts = self.tracer.counter(output)(self.facts, self.derived, self.outputs, self.now)
        for i, count in enumerate(counts):
            if count is None:  # a part that raises on its own: counted part by part
                counts[i] = self.misses(setting[i][0].condition)
        matched = [i for i, count in enumerate(counts) if count == 0]
        nearest = heapq.nsmallest(NEAREST, ((count, i) for i, count in enumerate(counts) if count))
        shown = matched + [i for _, i in nearest]
        return [self.rule(setting[i][0], output, setting[i][1]) for i in shown], len(setting) - len(shown)

    def misses(self, condition: c.CheckedExpr) -> int:
        """How many of the condition's parts (`conjuncts`) are not true (a part that raises is not)."""
        return sum(self._result(part)[0] is not True for part in conjuncts(condition))

    def rule(self, rule: c.CheckedRule, output: str, actions: tuple[c.Assignment, ...] | None = None) -> RuleTrace:
        """What became of the rule for the output (`actions`: its actions on it, if known)."""
        actions = rule.actions if actions is None else actions
        condition = self.part(rule.condition)
        matched = condition.result is True
        proposes = None
        if matched:
            declared = self.policy.outputs[output]
            for action in actions:
                if action.output == output:
                    proposes = self.run(action.value, as_condition=action.value.type == BOOL)
                    if proposes is MISSING or proposes is None:
                        proposes = None  # a value that reads a missing fact proposes nothing
                    elif action.op == "add" and declared.has_default:
                        proposes = declared.default | proposes
        return _trusted(
            RuleTrace,
            rule=rule.id,
            location=f"{rule.span.file}:{rule.span.line}",
            priority=rule.priority,
            matched=matched,
            sets=self.tracer.action_text(rule, output, actions),
            proposes=self.json(proposes) if matched else None,
            because=rule.because,
            condition=condition,
            failed=[] if matched else self.failed(rule.condition),
            misses=0 if matched else sum(part.result is not True for part in conjunct_parts(condition)),
        )

    def part(self, expr: c.CheckedExpr) -> ConditionPart:
        """The part and all its operands, evaluated; once per trace (a rule that sets several
        outputs is traced once), each segment shown in full once per part."""
        key = id(expr)
        if key not in self.parts:
            self.parts[key] = self._part(expr, set())
        return self.parts[key]

    def _part(self, expr: c.CheckedExpr, shown: set[str]) -> ConditionPart:
        """The part, with the segments in `shown` (those already shown in full in this condition)
        given without their parts; `shown` gains the segments shown here."""
        shape = self.tracer.shape(expr)
        if shape.kind == "test":
            found = self.tests.get((shape.text, expr))
            if found is None:
                found = self.tests[(shape.text, expr)] = self._built(expr, shape, [])
            return found
        if shape.kind == "segment":
            assert isinstance(expr, c.DerivedRef)
            if expr.key in shown:
                return self._built(expr, shape, [])
            alone = self.segments.get((expr.key, shape.text))
            if alone is None:
                inner: set[str] = {expr.key}
                part = self._built(expr, shape, [self._part(operand, inner) for operand in shape.operands])
                alone = self.segments[(expr.key, shape.text)] = (part, frozenset(inner))
            if alone[1].isdisjoint(shown):
                shown |= alone[1]  # the part traced on its own is the part here: shared, not rebuilt
                return alone[0]
            shown.add(expr.key)
        return self._built(expr, shape, [self._part(operand, shown) for operand in shape.operands])

    def failed(self, expr: c.CheckedExpr) -> list[str]:
        """The texts of the smallest parts that kept a condition from holding (false or unknown),
        worked out once per part: a segment read many times over is looked at once."""
        key = id(expr)
        found = self.failures.get(key)
        if found is None:
            found = self.failures[key] = self._failed(expr)
        return found

    def _failed(self, expr: c.CheckedExpr) -> list[str]:
        shape = self.tracer.shape(expr)
        if self._result(expr)[0] is True:
            return []
        if shape.kind == "not" or not shape.operands:
            return [shape.text]  # `not x` fails because x holds: the negation itself is the reason
        found: list[str] = []
        for operand in shape.operands:
            result, error = self._result(operand)
            if result is not True and error is None:  # an unevaluated part decided nothing
                found.extend(self.failed(operand))
        return list(dict.fromkeys(found)) or [shape.text]

    def _result(self, expr: c.CheckedExpr) -> tuple[bool | None, str | None]:
        """The part's value on this decision's facts, and why it has none (it raises on its own)."""
        key = id(expr)
        if key not in self.results:
            shape = self.tracer.shape(expr)
            shared = self.tests.get((shape.text, expr)) if shape.kind == "test" else None
            if shared is not None:
                self.results[key] = (shared.result, shared.error)
                return self.results[key]
            try:
                self.results[key] = (self.run(expr), None)
            except (ArithmeticError, TypeError) as exc:  # EvaluationError is an ArithmeticError
                # The decision never evaluated this part: `and` / `or` stopped before it.
                self.results[key] = (None, str(exc) or type(exc).__name__)
        return self.results[key]

    def _built(self, expr: c.CheckedExpr, shape: _Shape, parts: list[ConditionPart]) -> ConditionPart:
        if shape.kind in ("and", "or", "not") and id(expr) not in self.results and all(p.error is None for p in parts):
            # Follows from its parts by three-valued logic, as the decision computed it (the
            # property test tests/properties/test_trace.py checks this of every part).
            self.results[id(expr)] = (_combined(shape.kind, [p.result for p in parts]), None)
        result, error = self._result(expr)
        values = {"fact": self.facts, "output": self.outputs, "derived": self.derived}
        reads = {name: self.json(values[kind][index]) for name, kind, index in shape.reads}
        for call in shape.calls:
            try:
                reads[c.text_of(call)] = self.json(self.run(call, as_condition=False))
            except (ArithmeticError, TypeError):  # an argument that cannot be computed: its part says why
                continue
        return _trusted(
            ConditionPart,
            text=shape.text,
            kind=shape.kind,
            result=result,
            reads=reads,
            parts=parts,
            error=error,
        )
