"""Checks a policy and its imports (declarations, names, types, resolutions, cycles) -> CheckedPolicy + diagnostics."""

from __future__ import annotations

import dataclasses
import graphlib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import operators as ops
from ..core.datatypes import (
    BOOL,
    DURATION,
    PRIMITIVES,
    TYPE_NAMES,
    UNKNOWN,
    EnumOf,
    SetOf,
    Type,
    arithmetic_result,
    assignable,
    describe,
    is_numeric,
    is_ordered,
    join,
)
from ..core.diagnostics import Code, Diagnostic, Label, did_you_mean, error, sort_and_cap
from ..core.resolution import RESOLUTIONS, resolution_fits
from ..syntax import nodes as n
from ..syntax.formatter import unparse_expr
from ..syntax.parser import anonymous_rule_id, collector_paused
from . import typed_tree as c
from .expression_checker import LITERAL_TYPES, Environment, ExpressionChecker, InferredName, mismatch_hint
from .modules import Module, Snapshot, load, snapshot_of
from .nesting import check_nesting

_TYPE_ALIASES = {
    "integer": "int", "float": "number", "decimal": "number", "double": "number", "money": "number",
    "str": "string", "text": "string", "boolean": "bool", "timestamp": "datetime", "time": "datetime",
    "list": "set", "array": "set", "timedelta": "duration", "interval": "duration",
}  # fmt: skip


@dataclass(frozen=True)
class CheckResult:
    """The checked policy (None when a module could not be loaded at all) and every diagnostic, sorted."""

    policy: c.CheckedPolicy | None
    diagnostics: tuple[Diagnostic, ...]
    modules: tuple[Module, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def check(
    text: str,
    filename: str = "<policy>",
    directory: Path | None = None,
    snapshot: Snapshot | None = None,
    import_root: Path | None = None,
) -> CheckResult:
    """Parse and check a policy file with its imports (confined to `import_root`: modules.load).

    Never raises for bad input: everything wrong comes back as diagnostics. The checker still runs
    after syntax errors, on whatever parsed, but drops `unknown-name` findings in files with syntax
    errors, since those are mostly echoes of the broken declarations.
    """
    with collector_paused():
        modules, diagnostics = load(text, filename, directory, snapshot, import_root)
        state = _Checker(modules, diagnostics)
        policy = state.run()
    # An item dropped for a syntax error may have declared a name that later uses now miss; such
    # unknown-name findings are echoes. Only names that appear in a dropped item are suppressed.
    broken_names: dict[str, set[str]] = {}
    for module in modules:
        text = module.parsed.source.text
        for start, end in module.parsed.broken:
            broken_names.setdefault(module.name, set()).update(_IDENTIFIER.findall(text, start, end))
    kept = [d for d in state.diagnostics if not _echo_of_broken_item(d, broken_names, modules)]
    return CheckResult(policy, tuple(sort_and_cap(kept)), tuple(modules))


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _echo_of_broken_item(diag: Diagnostic, broken_names: dict[str, set[str]], modules: list[Module]) -> bool:
    if diag.code is not Code.UNKNOWN_NAME or diag.span is None or diag.span.file not in broken_names:
        return False
    source = next((m.parsed.source for m in modules if m.name == diag.span.file), None)
    if source is None:
        return False
    written = source.text[diag.span.start : diag.span.end]
    return bool(set(_IDENTIFIER.findall(written)) & broken_names[diag.span.file])


class _Checker:
    def __init__(self, modules: list[Module], diagnostics: list[Diagnostic]) -> None:
        self.modules = modules
        self.diagnostics = diagnostics
        self.env = Environment()
        self.fact_decls: dict[str, tuple[n.InputDecl, Module]] = {}
        self.output_decls: dict[str, tuple[n.OutputDecl, Module]] = {}
        self.derived_nodes: dict[str, tuple[n.Segment | n.Let, Module]] = {}

    def _error(self, code: Code, message: str, span: Any, **extra: Any) -> None:
        self.diagnostics.append(error(code, message, span, **extra))

    def run(self) -> c.CheckedPolicy:
        self.env.facts_declared = any(isinstance(i, n.InputBlock) for m in self.modules for i in m.tree.items)
        self.env.outputs_declared = any(isinstance(i, n.OutputBlock) for m in self.modules for i in m.tree.items)
        # A block dropped for a syntax error still says the policy declares its facts or outputs.
        for module in self.modules:
            for start, _ in module.parsed.broken:
                head = module.parsed.source.text[start : start + 7]
                self.env.facts_declared |= head.startswith("input")
                self.env.outputs_declared |= head.startswith("output")
        for module in self.modules:
            self._declare_module(module)
        for module in self.modules:
            self._check_declarations(module)
        if not self.env.outputs_declared:
            self._preinfer_outputs()
        derived = self._check_derived()
        rules = self._check_rules()
        self._check_output_cycles(rules, derived)
        if self.env.inferred_facts:
            self._settle(derived, rules)
        policy = self._build(derived, rules)
        self.diagnostics.extend(check_nesting(policy))
        return policy

    # --- declarations ---

    def _declare_module(self, module: Module) -> None:
        prefix = module.prefix
        self.env.module_imports[prefix] = {
            alias: next(m.prefix for m in self.modules if m.key == key) for alias, key in module.imports.items()
        }
        self.env.failed_imports[prefix] = {
            item.alias or (item.module[-1] if item.module else Path(item.path or "").stem)
            for item in module.tree.items
            if isinstance(item, n.Import)
        } - set(module.imports)
        local: dict[str, str] = {}
        first_seen: dict[str, n.Segment | n.Let] = {}
        for item in module.tree.items:
            if isinstance(item, n.Segment | n.Let):
                if item.name in first_seen:
                    self._duplicate(item.name, item.name_span, first_seen[item.name].name_span)
                    continue
                first_seen[item.name] = item
                key = item.name if not prefix else f"{prefix}.{item.name}"
                local[item.name] = key
                self.derived_nodes[key] = (item, module)
        self.env.local_derived[prefix] = local

    def _duplicate(self, name: str, span: Any, first: Any, what: str = "name") -> None:
        self._error(
            Code.DUPLICATE_NAME,
            f"`{name}` is defined twice",
            span,
            labels=(Label(first, "first defined here"),),
            hint=f"rename one of them; each {what} is defined once",
        )

    def _resolve_type(self, node: n.TypeExpr) -> Type:
        match node:
            case n.SimpleType():
                if node.name in PRIMITIVES:
                    return PRIMITIVES[node.name]
                hint = None
                if node.name in _TYPE_ALIASES:
                    hint = f"did you mean `{_TYPE_ALIASES[node.name]}`?"
                elif node.name in ("enum", "set"):
                    hint = "write `enum(a, b, c)` or `set[string]`"
                self._error(
                    Code.UNKNOWN_NAME,
                    f"unknown type `{node.name}`",
                    node.span,
                    hint=hint or did_you_mean(node.name, TYPE_NAMES) or "types: " + ", ".join(TYPE_NAMES),
                )
                return UNKNOWN
            case n.EnumType():
                seen: dict[str, Any] = {}
                spans = node.member_spans or tuple(node.span for _ in node.members)
                for member, span in zip(node.members, spans, strict=True):
                    if member in seen:
                        self._error(
                            Code.DUPLICATE_NAME,
                            f"enum member `{member}` is listed twice",
                            span,
                            labels=(Label(seen[member], "first listed here"),),
                            hint="list each member once",
                        )
                    seen.setdefault(member, span)
                return EnumOf(tuple(dict.fromkeys(node.members)))
            case n.SetType():
                element = self._resolve_type(node.element)
                if isinstance(element, SetOf):
                    self._error(
                        Code.TYPE_MISMATCH, "a set cannot hold sets", node.span, hint="use a set of plain values"
                    )
                    return SetOf(UNKNOWN)
                return SetOf(element)
        return UNKNOWN

    def _check_declarations(self, module: Module) -> None:
        checker = ExpressionChecker(self.env, module.prefix, module.parsed.source, self.diagnostics)
        for item in module.tree.items:
            if isinstance(item, n.InputBlock):
                for decl in item.fields:
                    self._declare_fact(decl, module, checker)
            elif isinstance(item, n.OutputBlock):
                for out in item.fields:
                    self._declare_output(out, module, checker)
        local = self.env.local_derived.get(module.prefix, {})
        for name in local:
            clash = self.fact_decls.get(name) or self.output_decls.get(name)
            if clash is not None:
                item, _ = self.derived_nodes[local[name]]
                self._duplicate(name, item.name_span, clash[0].name_span)

    def _constant(self, decl: n.InputDecl | n.OutputDecl, t: Type, checker: ExpressionChecker) -> tuple[Any, bool]:
        if decl.default is None:
            return None, False
        value = checker.value(decl.default, t)
        if not isinstance(value, c.Const):
            self._error(
                Code.TYPE_MISMATCH,
                f"the default of `{decl.name}` must be a constant",
                decl.default.span,
                hint='write a literal value such as `0`, `"eu"`, `72h` or `{}`',
            )
            return None, False
        if not assignable(value.type, t):
            self._error(
                Code.TYPE_MISMATCH,
                f"the default of `{decl.name}` is {describe(value.type)}, but `{decl.name}` is {describe(t)}",
                decl.default.span,
                label=describe(value.type),
                hint=_default_hint(t),
            )
            return None, False
        return value.value, True

    def _declare_fact(self, decl: n.InputDecl, module: Module, checker: ExpressionChecker) -> None:
        t = self._resolve_type(decl.type)
        default, has_default = self._constant(decl, t, checker)
        fact = c.Fact(decl.name, t, decl.optional, default, has_default, decl.name_span)
        if decl.name in self.fact_decls:
            first, _ = self.fact_decls[decl.name]
            existing = self.env.facts[decl.name]
            if (
                existing.type != t
                or existing.optional != fact.optional
                or (has_default, default) != (existing.has_default, existing.default)
            ):
                self._error(
                    Code.TYPE_MISMATCH,
                    f"input `{decl.name}` is declared as {describe(t)} here but as {describe(existing.type)} elsewhere",
                    decl.name_span,
                    labels=(Label(first.name_span, "declared here"),),
                    hint="files that share a fact must declare it the same way (type, `?` and default)",
                )
                # Uses of the fact would now be checked against one of two answers; stop the echoes.
                self.env.facts[decl.name] = dataclasses.replace(existing, type=UNKNOWN)
            elif first.span.file == decl.span.file:
                self._duplicate(decl.name, decl.name_span, first.name_span, "input")
            elif has_default and not existing.has_default:
                self.env.facts[decl.name] = fact
            return
        self.fact_decls[decl.name] = (decl, module)
        self.env.facts[decl.name] = fact

    def _declare_output(self, decl: n.OutputDecl, module: Module, checker: ExpressionChecker) -> None:
        t = self._resolve_type(decl.type)
        resolution = decl.resolve or "unique"
        if decl.resolve is not None and decl.resolve not in RESOLUTIONS:
            self._error(
                Code.UNKNOWN_NAME,
                f"unknown resolution `{decl.resolve}`",
                decl.resolve_span,
                hint=did_you_mean(decl.resolve, RESOLUTIONS) or "resolutions: " + ", ".join(RESOLUTIONS),
            )
            resolution = "unique"
        elif not resolution_fits(resolution, t):
            self._error(
                Code.TYPE_MISMATCH,
                f"`resolve {resolution}` cannot combine {t} values",
                decl.resolve_span,
                label=f"`{decl.name}` is {describe(t)}",
                hint=_resolution_hint(t),
            )
        if decl.name in self.fact_decls:
            self._duplicate(decl.name, decl.name_span, self.fact_decls[decl.name][0].name_span)
            return
        default, has_default = self._constant(decl, t, checker)
        if decl.optional and decl.default is not None:
            self._error(
                Code.TYPE_MISMATCH,
                f"output `{decl.name}` is optional and has a default: with a default it is never without a value",
                decl.default.span,
                label="its default",
                hint=f"remove the `?` (no rule matching gives the default), or remove `= {unparse_expr(decl.default)}` "
                "(no rule matching leaves it without a value)",
            )
        output = c.Output(decl.name, t, resolution, default, has_default, decl.name_span, optional=decl.optional)
        if decl.name in self.output_decls:
            first, _ = self.output_decls[decl.name]
            existing = self.env.outputs[decl.name]
            if (existing.type, existing.resolution, existing.optional) != (t, resolution, decl.optional) or (
                (has_default, default) != (existing.has_default, existing.default)
            ):
                self._error(
                    Code.TYPE_MISMATCH,
                    f"output `{decl.name}` is declared differently in two places",
                    decl.name_span,
                    labels=(Label(first.name_span, "declared here"),),
                    hint="files that share an output must give it the same type, `?`, default and resolution",
                )
            elif first.span.file == decl.span.file:
                self._duplicate(decl.name, decl.name_span, first.name_span, "output")
            elif has_default and not existing.has_default:
                self.env.outputs[decl.name] = output
            return
        self.output_decls[decl.name] = (decl, module)
        self.env.outputs[decl.name] = output

    def _preinfer_outputs(self) -> None:
        """Schema-less outputs: whatever rules set, typed from the first action that says (flags are bools)."""
        for module in self.modules:
            for item in module.tree.items:
                if not isinstance(item, n.Rule):
                    continue
                for action in item.actions:
                    if action.output in self.env.inferred_outputs:
                        continue
                    guess: Type = UNKNOWN
                    if isinstance(action, n.FlagAction):
                        guess = BOOL
                    elif isinstance(action.value, n.Literal):
                        guess = LITERAL_TYPES[action.value.kind]
                        if isinstance(action, n.AddAction):
                            guess = SetOf(guess)
                    self.env.inferred_outputs[action.output] = InferredName(guess, action.output_span)

    # --- segments and lets ---

    def _check_derived(self) -> dict[str, c.Derived]:
        graph: dict[str, set[str]] = {}
        for key, (item, module) in self.derived_nodes.items():
            body = item.condition if isinstance(item, n.Segment) else item.value
            graph[key] = set(self._derived_reads(body, module))
        cyclic: set[str] = set()
        definition_order = {key: i for i, key in enumerate(self.derived_nodes)}
        for found in _find_cycles(graph):
            start = min(range(len(found)), key=lambda i: definition_order.get(found[i], 0))
            cycle = found[start:] + found[:start]
            first, module = self.derived_nodes[cycle[0]]
            path = " -> ".join([*cycle, cycle[0]])
            self._error(
                Code.CYCLE,
                f"`{first.name}` depends on itself: {path}",
                first.name_span,
                labels=tuple(Label(self.derived_nodes[k][0].name_span, "part of the cycle") for k in cycle[1:]),
                hint="a segment or let cannot use its own value; break the cycle",
            )
            cyclic.update(cycle)
        order = list(
            graphlib.TopologicalSorter({k: v - cyclic for k, v in graph.items() if k not in cyclic}).static_order()
        )
        derived: dict[str, c.Derived] = {}
        for key in order:
            if key not in self.derived_nodes:
                continue
            item, module = self.derived_nodes[key]
            checker = ExpressionChecker(self.env, module.prefix, module.parsed.source, self.diagnostics)
            t: Type
            if isinstance(item, n.Segment):
                expr = checker.condition(item.condition)
                kind, t = "segment", BOOL
            else:
                expr = checker.value(item.value, None)
                kind, t = "let", expr.type
                if isinstance(expr, c.FactRef) and expr.name in self.env.inferred_facts:
                    t = self.env.inferred_facts[expr.name].type
            self.env.derived_types[key] = t
            derived[key] = c.Derived(key, kind, t, expr, module.prefix, item.span)
        for key in cyclic:
            self.env.derived_types[key] = UNKNOWN
        return derived

    def _derived_reads(self, expr: n.Expr, module: Module) -> Iterable[str]:
        local = self.env.local_derived.get(module.prefix, {})
        imports = self.env.module_imports.get(module.prefix, {})
        for node in n.walk(expr):
            if not isinstance(node, n.Name):
                continue
            if len(node.parts) == 1 and node.parts[0] in local:
                yield local[node.parts[0]]
            elif len(node.parts) == 2 and node.parts[0] in imports:
                target = self.env.local_derived.get(imports[node.parts[0]], {})
                if node.parts[1] in target:
                    yield target[node.parts[1]]

    # --- rules ---

    def _check_rules(self) -> list[c.CheckedRule]:
        rules: list[c.CheckedRule] = []
        ids: dict[str, n.Rule] = {}
        order = 0
        for module in self.modules:
            checker = ExpressionChecker(self.env, module.prefix, module.parsed.source, self.diagnostics)
            anonymous = 0
            for item in module.tree.items:
                if not isinstance(item, n.Rule):
                    continue
                anonymous += item.name is None
                legacy_id = ""
                if not module.prefix:
                    rule_id = item.id
                    legacy_id = f"{rule_id.rpartition('#')[0]}:{item.span.line}" if item.name is None else ""
                elif item.name is None:
                    rule_id = anonymous_rule_id(module.prefix, anonymous)
                    legacy_id = f"{module.legacy_prefix}:{item.span.line}"
                else:
                    rule_id = f"{module.prefix}.{item.name}"
                if rule_id in ids:
                    self._duplicate(item.name or rule_id, item.name_span, ids[rule_id].name_span, "rule")
                    continue
                ids[rule_id] = item
                condition = checker.condition(item.condition)
                actions = self._check_actions(item, checker)
                rules.append(
                    c.CheckedRule(
                        id=rule_id,
                        name=item.name,
                        module=module.prefix,
                        order=order,
                        priority=item.priority or 0,
                        condition=condition,
                        actions=actions,
                        because=item.because,
                        span=item.span,
                        node=item,
                        legacy_id=legacy_id,
                    )
                )
                order += 1
        return rules

    def _check_actions(self, rule: n.Rule, checker: ExpressionChecker) -> tuple[c.Assignment, ...]:
        result: list[c.Assignment] = []
        seen: dict[str, n.Action] = {}
        for action in rule.actions:
            if action.output in seen:
                self._error(
                    Code.DUPLICATE_NAME,
                    f"`{action.output}` is set twice in this rule",
                    action.output_span,
                    labels=(Label(seen[action.output].output_span, "first set here"),),
                    hint="set each output once per rule",
                )
                continue
            seen[action.output] = action
            target = self._action_target(action)
            if target is None:
                continue
            assignment = self._action(action, target, checker)
            if assignment is not None:
                result.append(assignment)
        return tuple(result)

    def _action_target(self, action: n.Action) -> Type | None:
        name = action.output
        if self.env.outputs_declared:
            if name in self.env.outputs:
                return self.env.outputs[name].type
            if name in self.env.facts:
                self._error(
                    Code.UNKNOWN_NAME,
                    f"`{name}` is an input; rules can only set outputs",
                    action.output_span,
                    hint="declare it in the `output` block, or set another output",
                )
                return None
            self._error(
                Code.UNKNOWN_NAME,
                f"unknown output `{name}`",
                action.output_span,
                hint=did_you_mean(name, self.env.outputs) or "declare it in the `output` block",
            )
            return None
        if name in self.env.facts or (name in self.env.inferred_facts and name not in self.env.inferred_outputs):
            self._error(
                Code.UNKNOWN_NAME,
                f"`{name}` is a fact; rules can only set outputs",
                action.output_span,
                hint="give the output another name",
            )
            return None
        return self.env.inferred_outputs[name].type if name in self.env.inferred_outputs else UNKNOWN

    def _action(self, action: n.Action, target: Type, checker: ExpressionChecker) -> c.Assignment | None:
        name = action.output
        if isinstance(action, n.FlagAction):
            if target not in (BOOL, UNKNOWN):
                word = f"`{name}`" if action.value else f"`not {name}`"
                self._error(
                    Code.TYPE_MISMATCH,
                    f"{word} sets a bool, but output `{name}` is {describe(target)}",
                    action.span,
                    hint=f"give it a value: `{name} = ...`",
                )
                return None
            self._infer_output(name, BOOL, action)
            return c.Assignment(name, "set", c.Const(action.value, BOOL), action.span)
        if isinstance(action, n.AddAction):
            if not isinstance(target, SetOf) and target != UNKNOWN:
                self._error(
                    Code.TYPE_MISMATCH,
                    f"`+=` adds to a set, but output `{name}` is {describe(target)}",
                    action.span,
                    hint=f"write `{name} = ...`",
                )
                return None
            expected = target if isinstance(target, SetOf) else None
            # `perks += named_rep` adds one element: a bare word reads as the element type.
            single = isinstance(action.value, n.Name) and isinstance(expected, SetOf)
            value = checker.value(action.value, expected.element if single and expected else expected)
            if (
                isinstance(expected, SetOf)
                and not isinstance(value.type, SetOf)
                and assignable(value.type, expected.element)
            ):
                value = (
                    c.SetLiteral((value,), expected, action.value)
                    if not isinstance(value, c.Const)
                    else c.Const(frozenset({value.value}), expected, action.value)
                )
            if not isinstance(value.type, SetOf) and value.type != UNKNOWN:
                value = c.Const(frozenset(), SetOf(value.type), action.value)
            if not assignable(value.type, target):
                self._assign_mismatch(action, value.type, target)
                return None
            self._infer_output(name, value.type, action)
            return c.Assignment(name, "add", value, action.span)
        value = checker.value(action.value, target if target != UNKNOWN else None)
        widens = not self.env.outputs_declared and join(value.type, target) is not None
        if not assignable(value.type, target) and not widens:
            self._assign_mismatch(action, value.type, target)
            return None
        self._infer_output(name, value.type, action)
        return c.Assignment(name, "set", value, action.span)

    def _assign_mismatch(self, action: n.SetAction | n.AddAction, got: Type, target: Type) -> None:
        self._error(
            Code.TYPE_MISMATCH,
            f"output `{action.output}` is {describe(target)}, but this value is {describe(got)}",
            action.value.span,
            label=describe(got),
            hint=mismatch_hint(target, got, action.value),
        )

    def _infer_output(self, name: str, t: Type, action: n.Action) -> None:
        if self.env.outputs_declared or t == UNKNOWN:
            return
        current = self.env.inferred_outputs.get(name)
        if current is None or current.type == UNKNOWN:
            self.env.inferred_outputs[name] = InferredName(t, action.output_span)
            return
        joined = join(current.type, t)
        if joined is None:
            self._error(
                Code.TYPE_MISMATCH,
                f"output `{name}` is set to {describe(t)} here, but to {describe(current.type)} before",
                action.span,
                labels=(Label(current.span, f"set to {describe(current.type)} here"),),
                hint="an output has one type; declare it in an `output` block to say which",
            )
        else:
            current.type = joined

    def _check_output_cycles(self, rules: list[c.CheckedRule], derived: dict[str, c.Derived]) -> None:
        """Rules may read outputs that other rules set, but never in a circle (sla -> queue -> sla)."""
        derived_outputs: dict[str, set[str]] = {}
        for key, item in derived.items():
            derived_outputs[key] = _outputs_read(item.expr, derived_outputs)
        graph: dict[str, set[str]] = {}
        writers: dict[tuple[str, str], str] = {}
        for rule in rules:
            reads = _outputs_read(rule.condition, derived_outputs)
            for action in rule.actions:
                reads |= _outputs_read(action.value, derived_outputs)
            for action in rule.actions:
                graph.setdefault(action.output, set()).update(reads)
                for read in reads:
                    writers.setdefault((read, action.output), rule.id)
        for cycle in _find_cycles(graph):
            ordered = list(reversed(cycle))
            path = " -> ".join([*ordered, ordered[0]])
            involved = [writers.get((ordered[i], ordered[(i + 1) % len(ordered)]), "?") for i in range(len(ordered))]
            first_rule = next((r for r in rules if r.id == involved[-1]), rules[0] if rules else None)
            self._error(
                Code.CYCLE,
                f"outputs depend on each other in a cycle: {path}",
                first_rule.node.name_span if first_rule else None,
                rules=tuple(dict.fromkeys(involved)),
                notes=tuple(
                    f"rule `{rid}` reads `{ordered[i]}` and sets `{ordered[(i + 1) % len(ordered)]}`"
                    for i, rid in enumerate(involved)
                ),
                hint="an output cannot depend on its own value; break the cycle",
            )

    def _settle(self, derived: dict[str, c.Derived], rules: list[c.CheckedRule]) -> None:
        """Schema-less facts still untyped where they are computed with get their type now that every
        use is known (ExpressionChecker.settle), each module's expressions with that module's checker."""
        for module in self.modules:
            checker = ExpressionChecker(self.env, module.prefix, module.parsed.source, self.diagnostics)
            for item in derived.values():
                if item.module == module.prefix:
                    checker.settle(item.expr)
            for rule in rules:
                if rule.module == module.prefix:
                    checker.settle(rule.condition)
                    for action in rule.actions:
                        checker.settle(action.value)

    # --- result ---

    def _retype(self, expr: c.CheckedExpr) -> c.CheckedExpr:
        """The expression with schema-less facts and outputs at their final inferred types (their first
        uses were typed before later uses widened or fixed them)."""
        match expr:
            case c.FactRef() if expr.name in self.env.inferred_facts:
                return dataclasses.replace(expr, type=self.env.inferred_facts[expr.name].type)
            case c.OutputRef() if expr.name in self.env.inferred_outputs:
                return dataclasses.replace(expr, type=self.env.inferred_outputs[expr.name].type)
            case c.Const() | c.FactRef() | c.OutputRef() | c.DerivedRef() | c.Now():
                # A declared name, a constant or `now`: typed once and for all (a let's or
                # segment's own expression is retyped where it is defined).
                return expr
            case c.Call():
                # A call typed before its arguments were known takes its type from them now.
                changes = self._retyped_children(expr)
                if expr.type == UNKNOWN and expr.function in ops.FUNCTIONS:
                    args = changes.get("args", expr.args)
                    typed = ops.FUNCTIONS[expr.function].type_rule(expr.function, [arg.type for arg in args])
                    changes["type"] = UNKNOWN if isinstance(typed, ops.Refusal) else typed
                return dataclasses.replace(expr, **changes) if changes else expr
            case c.Arithmetic():
                # Arithmetic typed before its operands were known takes its type from them now.
                changes = self._retyped_children(expr)
                if expr.type == UNKNOWN:
                    left, right = changes.get("left", expr.left), changes.get("right", expr.right)
                    changes["type"] = arithmetic_result(expr.op, left.type, right.type) or UNKNOWN
                return dataclasses.replace(expr, **changes) if changes else expr
            case c.Negate():
                # A negation typed before its operand was (`max(-c, 1)`) has its operand's type now.
                changes = self._retyped_children(expr)
                if expr.type == UNKNOWN:
                    operand = changes["operand"].type
                    changes["type"] = operand if is_numeric(operand) or operand == DURATION else UNKNOWN
                return dataclasses.replace(expr, **changes)
            case c.Conditional():
                # Typed before a schema-less branch was: the join of the branches now.
                changes = self._retyped_children(expr)
                if expr.type == UNKNOWN:
                    then_value = changes.get("then_value", expr.then_value)
                    else_value = changes.get("else_value", expr.else_value)
                    changes["type"] = join(then_value.type, else_value.type) or UNKNOWN
                return dataclasses.replace(expr, **changes) if changes else expr
            case c.Compare() | c.Membership() | c.Between() | c.Presence() | c.BoolOp() | c.Not() | c.SetLiteral():
                # Conditions are bool whatever they read; a set literal's type was settled when
                # checked: only their operands are retyped.
                changes = self._retyped_children(expr)
                return dataclasses.replace(expr, **changes) if changes else expr
            case _:
                c.unhandled(expr)

    def _retyped_children(self, expr: c.CheckedExpr) -> dict[str, Any]:
        """Each child field of the node (its class's `child_fields`), retyped."""
        changes: dict[str, Any] = {}
        for name in expr.child_fields:
            value = getattr(expr, name)
            changes[name] = tuple(map(self._retype, value)) if isinstance(value, tuple) else self._retype(value)
        return changes

    def _retyped_derived(self, item: c.Derived) -> c.Derived:
        """A segment or let with its expression retyped; a let typed before its schema-less facts were
        (`let worst = max(a, b)`) takes its expression's final type."""
        expr = self._retype(item.expr)
        typed = expr.type if item.kind == "let" and item.type == UNKNOWN else item.type
        return dataclasses.replace(item, expr=expr, type=typed)

    def _build(self, derived: dict[str, c.Derived], rules: list[c.CheckedRule]) -> c.CheckedPolicy:
        if self.env.inferred_facts or self.env.inferred_outputs:
            derived = {k: self._retyped_derived(d) for k, d in derived.items()}
            rules = [
                dataclasses.replace(
                    r,
                    condition=self._retype(r.condition),
                    actions=tuple(dataclasses.replace(a, value=self._retype(a.value)) for a in r.actions),
                )
                for r in rules
            ]
        root = self.modules[-1]
        header = root.tree.header
        facts = dict(self.env.facts)
        for name, inferred in self.env.inferred_facts.items():
            facts.setdefault(name, c.Fact(name, inferred.type, True, span=inferred.span, declared=False))
        outputs = dict(self.env.outputs)
        for name, inferred in self.env.inferred_outputs.items():
            outputs.setdefault(name, c.Output(name, inferred.type, "unique", span=inferred.span, declared=False))
        digest = hashlib.sha256()
        for module in self.modules:
            digest.update((module.prefix + "\0" + module.parsed.source.text + "\0").encode("utf-8", "surrogatepass"))
        return c.CheckedPolicy(
            name=header.name if header else _stem(root.name),
            description=header.description if header else None,
            root=root.name,
            sources={m.name: m.parsed.source for m in self.modules},
            facts=facts,
            outputs=outputs,
            derived=derived,
            rules=tuple(rules),
            facts_declared=self.env.facts_declared,
            outputs_declared=self.env.outputs_declared,
            content_hash=digest.hexdigest(),
            snapshot=snapshot_of(self.modules),
        )


def _outputs_read(expr: c.CheckedExpr, derived_outputs: dict[str, set[str]]) -> set[str]:
    """The outputs an expression reads, directly or through the lets and segments it reads."""
    found: set[str] = set()
    for node in c.walk([expr]):
        if isinstance(node, c.OutputRef):
            found.add(node.name)
        elif isinstance(node, c.DerivedRef):
            found |= derived_outputs.get(node.key, set())
    return found


def _find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle graphlib finds, one at a time (each reported, its nodes removed, then search again)."""
    cycles: list[list[str]] = []
    remaining = {k: set(v) for k, v in graph.items()}
    for _ in range(1000):
        try:
            graphlib.TopologicalSorter(remaining).prepare()
            return cycles
        except graphlib.CycleError as exc:
            cycle = list(exc.args[1])[:-1]
            # graphlib lists the cycle in "depends on" order; report it from its first defined node
            cycles.append(list(reversed(cycle)))
            for node in cycle:
                remaining.pop(node, None)
            for deps in remaining.values():
                deps.difference_update(cycle)
    return cycles


def _default_hint(t: Type) -> str | None:
    if t == BOOL:
        return "write `true` or `false`"
    if isinstance(t, EnumOf):
        return "use one of: " + ", ".join(f"`{m}`" for m in t.members)
    if isinstance(t, SetOf):
        return "write a set such as `{}` or `{a, b}`"
    return None


def _resolution_hint(t: Type) -> str:
    if t == BOOL:
        return "use `resolve any` or `resolve all` for a bool"
    if isinstance(t, SetOf):
        return "use `resolve union` for a set"
    if is_ordered(t):
        return "use `resolve unique`, `first`, `priority`, `min` or `max`; `any`/`all` are for bools"
    return "use `resolve unique`, `first` or `priority`; `min` and `max` need an order"


def _stem(path: str) -> str:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return base[: -len(".policy")] if base.endswith(".policy") else base
