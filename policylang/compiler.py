"""CheckedPolicy -> DecisionGraph: a networkx graph of facts, derived values, shared atoms, rules and outputs,
and the Python decision function generated from its topological order.

networkx builds, checks and orders the graph once, at compile time; the hot path runs only the
generated function and never walks networkx or the AST.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from . import checked as c
from . import runtime
from .codegen import CodeGen, Names
from .datatypes import BOOL
from .resolution import Resolved

Node = tuple[str, str]
"""Graph nodes are (kind, name): ("fact", "tier"), ("derived", "key_customer"), ("atom", "a3"),
("rule", "key_accounts"), ("output", "sla")."""


@dataclass(frozen=True, eq=False)
class DecisionGraph:
    """The compiled form of a policy. Immutable; `run` may be called from many threads at once."""

    policy: c.CheckedPolicy
    graph: nx.DiGraph
    schedule: tuple[Node, ...]
    source: str
    run: Callable[[dict[str, Any], Any, bool], tuple[list[int], tuple[Resolved, ...]]]
    rule_ids: tuple[str, ...]
    output_names: tuple[str, ...]
    atoms: dict[str, str]
    """atom local name -> the atom's source text, for the graph export."""


def compile_policy(policy: c.CheckedPolicy) -> DecisionGraph:
    """Build the decision graph and generate its decision function.

    The policy must have checked without errors (the checker already rejected cycles; networkx's
    topological sort would fail loudly on one rather than produce a wrong order).
    """
    builder = _Builder(policy)
    return builder.build()


class _Builder:
    def __init__(self, policy: c.CheckedPolicy) -> None:
        self.policy = policy
        self.graph = nx.DiGraph(name=policy.name)
        self.names = Names()
        self.codegen = CodeGen(self.names)
        self.output_index = {name: i for i, name in enumerate(policy.outputs)}
        self.rule_index = {rule.id: i for i, rule in enumerate(policy.rules)}
        self.atom_text: dict[str, str] = {}

    # --- the graph ---

    def build(self) -> DecisionGraph:
        policy = self.policy
        for i, name in enumerate(policy.facts):
            self.names.facts[name] = f"v{i}"
            self.graph.add_node(("fact", name), kind="fact", type=str(policy.facts[name].type))
            fact = policy.facts[name]
            if fact.optional and not fact.has_default:
                self.names.maybe_missing.add(f"v{i}")
        for i, name in enumerate(policy.outputs):
            self.names.outputs[name] = f"o{i}"
            output = policy.outputs[name]
            self.graph.add_node(("output", name), kind="output", type=str(output.type), resolution=output.resolution)
            if not output.has_default:
                self.names.maybe_missing.add(f"o{i}")
        for i, (key, derived) in enumerate(policy.derived.items()):
            self.names.derived[key] = f"d{i}"
            self.graph.add_node(("derived", key), kind=derived.kind, type=str(derived.type))
        # Derived values in dependency order, so that "may be missing" is known before it is read.
        for key, derived in policy.derived.items():
            for ref in _references(derived.expr):
                self.graph.add_edge(ref, ("derived", key))
            if self.codegen.maybe(derived.expr):
                self.names.maybe_missing.add(self.names.derived[key])
        shared = self._shared_atoms()
        for rule in policy.rules:
            node = ("rule", rule.id)
            self.graph.add_node(node, kind="rule", priority=rule.priority, order=rule.order)
            for atom in _atoms(rule.condition):
                target = ("atom", shared[atom]) if atom in shared else None
                for ref in _references(atom):
                    self.graph.add_edge(ref, target or node)
                if target:
                    self.graph.add_edge(target, node)
            for action in rule.actions:
                for ref in _references(action.value):
                    self.graph.add_edge(ref, node)
                self.graph.add_edge(node, ("output", action.output))
        schedule = self._schedule()
        source = self._generate(schedule, shared)
        namespace = runtime.namespace(self.policy, self.rule_index)
        namespace.update(self.codegen.constants)
        exec(compile(source, f"<policy {policy.name}>", "exec"), namespace)  # noqa: S102  # source built only from checked IR, see codegen.py
        return DecisionGraph(
            policy=policy,
            graph=self.graph,
            schedule=schedule,
            source=source,
            run=namespace["decide"],
            rule_ids=tuple(rule.id for rule in policy.rules),
            output_names=tuple(policy.outputs),
            atoms=self.atom_text,
        )

    def _shared_atoms(self) -> dict[c.CheckedExpr, str]:
        """Atoms used by two or more rules are computed once per decision into a local."""
        counts: Counter[c.CheckedExpr] = Counter()
        for rule in self.policy.rules:
            counts.update(set(_atoms(rule.condition)))
        shared: dict[c.CheckedExpr, str] = {}
        for atom, count in counts.items():
            if count < 2 or _has_division(atom) or isinstance(atom, c.FactRef | c.OutputRef | c.DerivedRef):
                # A division may fail, so it is evaluated only where short-circuiting reaches it;
                # a plain reference is already a local.
                continue
            name = f"a{len(shared)}"
            shared[atom] = name
            self.graph.add_node(("atom", name), kind="atom", label=_describe(atom))
            self.atom_text[name] = _describe(atom)
        return shared

    def _schedule(self) -> tuple[Node, ...]:
        """Derived values, shared atoms, rules and outputs in an order that respects every edge;
        among the ready ones, rules keep their file order."""
        rank = {"derived": 0, "atom": 1, "rule": 2, "output": 3}

        def key(node: Node) -> tuple[int, int, str]:
            kind, name = node
            order = self.rule_index.get(name, 0) if kind == "rule" else 0
            return (rank.get(kind, 0), order, name)

        ordered = nx.lexicographical_topological_sort(self.graph, key=key)
        return tuple(node for node in ordered if node[0] != "fact")

    # --- the generated function ---

    def _generate(self, schedule: tuple[Node, ...], shared: dict[c.CheckedExpr, str]) -> str:
        gen = self.codegen
        policy = self.policy
        lines = ["def decide(facts, now, strict):"]
        for name, local in self.names.facts.items():
            fact = policy.facts[name]
            if fact.type == BOOL and local in self.names.maybe_missing:
                lines.append(f"    {local} = _bool3(facts[{name!r}])")
            else:
                lines.append(f"    {local} = facts[{name!r}]")
        lines.append("    fired = []")
        for i in range(len(policy.outputs)):
            lines.append(f"    c{i} = []")
        atom_by_name = {name: atom for atom, name in shared.items()}
        for kind, name in schedule:
            if kind == "derived":
                derived = policy.derived[name]
                code = gen.value(derived.expr)
                lines.append(f"    {self.names.derived[name]} = {code}")
            elif kind == "atom":
                atom = atom_by_name[name]
                lines.append(f"    {name} = {gen.cond(atom)}")
                gen.atoms[atom] = name
                if gen.maybe(atom):
                    self.names.maybe_missing.add(name)
            elif kind == "rule":
                lines.extend(self._rule_block(policy.rules[self.rule_index[name]]))
            elif kind == "output":
                i = self.output_index[name]
                lines.append(f"    r{i} = _resolve{i}(c{i})")
                is_bool = policy.outputs[name].type == BOOL
                lines.append(f"    o{i} = _present(r{i}, strict, {is_bool}, {name!r})")
        resolved = ", ".join(f"r{i}" for i in range(len(policy.outputs)))
        lines.append(f"    return fired, ({resolved}{',' if len(policy.outputs) == 1 else ''})")
        return "\n".join(lines) + "\n"

    def _rule_block(self, rule: c.CheckedRule) -> Iterator[str]:
        gen = self.codegen
        index = self.rule_index[rule.id]
        condition = gen.cond(rule.condition)
        test = f"{condition} is True" if gen.maybe(rule.condition) else condition
        yield f"    if {test}:  # rule {index}"
        yield f"        fired.append({index})"
        for action in rule.actions:
            out = self.output_index[action.output]
            value = gen.value(action.value)
            output = self.policy.outputs[action.output]
            if action.op == "add" and output.has_default:
                value = f"({gen.constant(output.default)} | {value})" if not gen.maybe(action.value) else value
            if gen.maybe(action.value):
                t = gen.temp()
                absent = "None" if action.value.type == BOOL else "MISSING"
                if action.op == "add" and output.has_default:
                    yield f"        if ({t} := {value}) is not {absent}: c{out}.append(({index}, {gen.constant(output.default)} | {t}))"
                else:
                    yield f"        if ({t} := {value}) is not {absent}: c{out}.append(({index}, {t}))"
            else:
                yield f"        c{out}.append(({index}, {value}))"


def _atoms(expr: c.CheckedExpr) -> Iterator[c.CheckedExpr]:
    """The leaves of a condition's and/or/not structure."""
    if isinstance(expr, c.Logical):
        for operand in expr.operands:
            yield from _atoms(operand)
    elif isinstance(expr, c.Negation):
        yield from _atoms(expr.operand)
    elif not isinstance(expr, c.Const):
        yield expr


def _references(expr: c.CheckedExpr) -> Iterator[Node]:
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, c.FactRef):
            yield ("fact", node.name)
        elif isinstance(node, c.OutputRef):
            yield ("output", node.name)
        elif isinstance(node, c.DerivedRef):
            yield ("derived", node.key)
        stack.extend(_children(node))


def _children(node: Any) -> Iterator[Any]:
    for attr in ("left", "right", "operand", "value", "low", "high", "target"):
        child = getattr(node, attr, None)
        if child is not None and hasattr(child, "type") and not isinstance(node, c.Const):
            yield child
    yield from getattr(node, "operands", ())
    yield from getattr(node, "elements", ())


def _has_division(expr: c.CheckedExpr) -> bool:
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, c.Calculation) and node.op == "/":
            return True
        stack.extend(_children(node))
    return False


def _describe(expr: c.CheckedExpr) -> str:
    node = expr.node
    if node is None:
        return type(expr).__name__
    from .formatter import unparse_expr

    return unparse_expr(node)

