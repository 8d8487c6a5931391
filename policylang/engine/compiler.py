"""CheckedPolicy -> DecisionGraph: a networkx graph of facts, derived values, shared atoms, rules and outputs,
and the Python decision function generated from its topological order.

networkx builds, checks and orders the graph once, at compile time; the hot path runs only the
generated function and never walks networkx or the AST.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..core.datatypes import BOOL, DURATION
from ..core.resolution import Resolved, resolution_of
from ..semantics import typed_tree as c
from . import first_hit, rule_index
from .codegen import CodeGen, Names
from .program import Program, compile_program

Node = tuple[str, str]
"""Graph nodes are (kind, name): ("fact", "tier"), ("derived", "key_customer"), ("atom", "a3"),
("rule", "key_accounts"), ("output", "sla")."""


@dataclass(frozen=True, eq=False)
class DecisionGraph:
    """The compiled form of a policy. Immutable; `run` may be called from many threads at once.

    It pickles as its policy, graph, schedule and program (the generated code's code objects,
    program.py): unpickling links the functions again without generating or compiling code."""

    policy: c.CheckedPolicy
    graph: nx.DiGraph[Node]
    schedule: tuple[Node, ...]
    program: Program
    run: Callable[
        [dict[str, Any], Any, bool],
        tuple[list[int], tuple[list[tuple[int, Any]], ...], dict[str, Any], list[int] | None],
    ]
    """(facts, now, strict) -> (fired rule indexes (a set to every reader: a clustered run appends
    them out of rule order), each output's proposals, the outputs that have a value, the indexes of
    the outputs whose rules conflicted or None)."""
    decide_outputs: Callable[[dict[str, Any], Any], dict[str, Any] | None] | None
    """(facts, now) -> the outputs, or None where the full function must decide (first_hit.py);
    None when this policy has no such function."""
    resolvers: tuple[Callable[[list[tuple[int, Any]]], Resolved], ...]
    """Each output's full resolver, for the winners and overridden rules a Decision builds on demand."""
    rule_ids: tuple[str, ...]
    output_names: tuple[str, ...]
    atoms: dict[str, str]
    """atom local name -> the atom's source text, for the graph export."""

    @property
    def source(self) -> str:
        """The full decision function's source."""
        return self.program.full.source

    @property
    def outputs_source(self) -> str | None:
        """The outputs-only function's source, or None when the policy has none."""
        return None if self.program.outputs is None else self.program.outputs.source

    def __reduce__(self) -> tuple[Any, ...]:
        return (linked, (self.policy, self.graph, self.schedule, self.program, self.atoms))


def linked(
    policy: c.CheckedPolicy,
    graph: nx.DiGraph[Node],
    schedule: tuple[Node, ...],
    program: Program,
    atoms: dict[str, str],
) -> DecisionGraph:
    """The decision graph whose functions `program` makes (just compiled, or unpickled)."""
    namespace, outputs_namespace = program.link(policy)
    return DecisionGraph(
        policy=policy,
        graph=graph,
        schedule=schedule,
        program=program,
        run=namespace["decide"],
        decide_outputs=None if outputs_namespace is None else outputs_namespace["decide_outputs"],
        resolvers=tuple(namespace[f"_resolve{i}"] for i in range(len(policy.outputs))),
        rule_ids=tuple(rule.id for rule in policy.rules),
        output_names=tuple(policy.outputs),
        atoms=atoms,
    )


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
        self.graph: nx.DiGraph[Node] = nx.DiGraph(name=policy.name)
        self.names = Names()
        self.codegen = CodeGen(self.names)
        self.output_index = {name: i for i, name in enumerate(policy.outputs)}
        self.rule_index = {rule.id: i for i, rule in enumerate(policy.rules)}
        self.atom_text: dict[str, str] = {}
        self.eager_names: list[str] = []
        self.header: list[str] = []

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
            # Absent without a default; conflicted (seen as missing in "mark" mode) if it can conflict.
            if not output.has_default or resolution_of(output.resolution).may_conflict:
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
        read_outputs = {name for kind, name in schedule if kind == "output" and self.graph.out_degree(("output", name))}
        outputs_source = first_hit.generate(
            policy, self.names, self.codegen, schedule, self.header, read_outputs, self._enumeration
        )
        # Proposals reach a resolver out of rule order only when some rule runs after an output
        # it reads; otherwise the resolvers skip the check.
        # (directly, or through a shared atom or a let).
        reads_outputs = any(
            node[0] == "rule" for name in policy.outputs for node in nx.descendants(self.graph, ("output", name))
        )
        program = compile_program(
            policy.name, self.codegen.constants, reads_outputs, self.codegen.parts_source(), source, outputs_source
        )
        return linked(policy, self.graph, schedule, program, self.atom_text)

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
            self.graph.add_node(("atom", name), kind="atom", label=c.text_of(atom))
            self.atom_text[name] = c.text_of(atom)
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
        start = len(lines)
        for name, local in self.names.facts.items():
            fact = policy.facts[name]
            if fact.type == BOOL and local in self.names.maybe_missing:
                lines.append(f"    {local} = _bool3(facts[{name!r}])")
            else:
                lines.append(f"    {local} = facts[{name!r}]")
            if fact.type == DURATION and local not in self.names.maybe_missing:
                # Durations compare by length: read it once, not in every comparison.
                self.names.seconds[local] = f"{local}s"
                lines.append(f"    {local}s = {local}.total_seconds")
        # Shared atoms are computed on first use and remembered: at most once per decision, and never
        # when no rule that needs them is reached.
        # Pure atoms (no arithmetic, no schema-less values: nothing that can raise) are computed where
        # a run of rules starts (_block), which costs less than remembering them.
        lazy = {atom: name for atom, name in shared.items() if not _pure(atom)}
        if lazy:
            lines.append("    " + " = ".join(lazy.values()) + " = UNSET")
        for atom, name in lazy.items():
            gen.atoms[atom] = f"({name} if {name} is not UNSET else ({name} := {gen.cond(atom)}))"
        self.header = lines[start:]
        lines.append("    fired = []")
        for i in range(len(policy.outputs)):
            lines.append(f"    c{i} = []")
        run: list[c.CheckedRule] = []
        for kind, name in schedule:
            if kind == "rule":
                run.append(policy.rules[self.rule_index[name]])
                continue
            lines.extend(self._rules(run))
            run = []
            if kind == "derived":
                lines.append(f"    {self.names.derived[name]} = {gen.value(policy.derived[name].expr)}")
            elif kind == "output":
                i = self.output_index[name]
                is_bool = policy.outputs[name].type == BOOL
                output = policy.outputs[name]
                nothing = gen.constant(output.default) if output.has_default else "NO_VALUE"
                # One proposal is every strategy's answer by itself; the picker runs only for two or more.
                lines.append(f"    r{i} = (c{i}[0][1] if len(c{i}) == 1 else _pick{i}(c{i})) if c{i} else {nothing}")
                if self.graph.out_degree(("output", name)):
                    lines.append(f"    o{i} = _present(r{i}, c{i}, _resolve{i}, strict, {is_bool}, {name!r})")
        lines.extend(self._rules(run))
        lines.extend(self._outputs_dict())
        comma = "," if len(policy.outputs) == 1 else ""
        proposals = ", ".join(f"c{i}" for i in range(len(policy.outputs)))
        lines.append(f"    return fired, ({proposals}{comma}), out, bad")
        return "\n".join(lines) + "\n"

    def _outputs_dict(self) -> Iterator[str]:
        """`out`: the outputs that have a value, in declaration order; `bad`: the indexes of conflicted ones."""
        yield "    out = {}"
        yield "    bad = None"
        for i, (name, output) in enumerate(self.policy.outputs.items()):
            always = output.has_default and not resolution_of(output.resolution).may_conflict
            if always:
                yield f"    out[{name!r}] = r{i}"
                continue
            yield f"    if r{i} is CONFLICTED:"
            yield f"        bad = [{i}] if bad is None else bad + [{i}]"
            yield f"    elif r{i} is not NO_VALUE:"
            yield f"        out[{name!r}] = r{i}"

    def _enumeration(self, output: int, rules: list[int]) -> list[str]:
        """The code that appends to c{output} the proposals of those of `rules` that match, through the
        index over just these rules (for the outputs-only function's enumerated outputs)."""
        return list(self._rules([self.policy.rules[i] for i in rules], output))

    def _rules(self, run: list[c.CheckedRule], output: int | None = None) -> Iterator[str]:
        """A run of rules with nothing scheduled between them: in order, or through the index.
        With `output`, only that output's proposals are made (and `fired` is not kept)."""
        if len(run) < INDEX_THRESHOLD:
            yield from self._block(run, 1, output)
            return
        yield from self._indexed(run, output)

    def _indexed(self, run: list[c.CheckedRule], output: int | None) -> Iterator[str]:
        """The run through its discrimination structure (rule_index.py): the candidates' mask from one
        lookup per fact and one evaluation per shared test, then each candidate's code, reached by
        walking the mask's bytes: every rule's code is written once, whatever the rules' shape. A run
        of CLUSTER_THRESHOLD rules or more is walked in clustered order (rule_index.clustered_order),
        so that a decision's candidates stand together and zero words are skipped; the proposals it
        appends are then sorted back into rule order."""
        gen = self.codegen
        missing = self._missing_facts()
        found = [rule_index.constraints(rule, k, self.policy.derived, missing) for k, rule in enumerate(run)]
        pinned = [
            rule_index.may_raise(rule.condition) or any(rule_index.may_raise(a.value) for a in rule.actions)
            for rule in run
        ]
        in_rule_order = list(range(len(run)))
        order = rule_index.clustered_order(found, pinned) if len(run) >= CLUSTER_THRESHOLD else in_rule_order
        reordered = order != in_rule_order
        if reordered:
            run = [run[k] for k in order]
            found = [found[k] for k in order]
            for k, constraints in enumerate(found):
                constraints.rule = k
        tests = self._shared_tests(found)
        structure = rule_index.discriminate(found, tests)
        yield f"    m_ = {gen.table(structure.everyone)}"
        for table in structure.values:
            fact = self.names.facts[table.fact]
            unconstrained = gen.table(table.unconstrained)
            if table.masks is not None:
                yield f"    m_ &= {gen.table(table.masks)}.get({fact}, {unconstrained})"
            else:
                yield f"    t_ = {gen.table(table.shifted)}.get({fact})"
                yield f"    m_ &= {unconstrained} if t_ is None else {unconstrained} | t_[0] << t_[1]"
        for ranges in structure.ranges:
            fact = self.names.facts[ranges.fact]
            keys, regions = gen.table(ranges.keys), gen.table(ranges.regions)
            pad = "    "
            if ranges.fact in missing:
                yield f"    if {fact} is MISSING:"
                yield f"        m_ &= {gen.table(ranges.unconstrained)}"
                yield "    else:"
                pad = "        "
            key = fact
            if self.policy.facts[ranges.fact].type == DURATION:
                key = self.names.seconds.get(fact, f"{fact}.total_seconds")
            yield f"{pad}m_ &= {regions}[_bisect_left({keys}, {key}) + _bisect_right({keys}, {key})]"
        eager: dict[c.CheckedExpr, str] = {}
        for test, others in structure.tests:
            local = self._eager_local(test, eager)
            yield f"    {local} = {gen.cond(test)}"
            yield f"    if {local} is not True:" if gen.maybe(test) else f"    if not {local}:"
            yield f"        m_ &= {gen.table(others)}"
        # As in a plain run of rules (_block), the pure atoms two or more tested candidates read are
        # computed once, first, into locals.
        counts: Counter[c.CheckedExpr] = Counter()
        for k, rule in enumerate(run):
            if not structure.exact[k]:
                counts.update(set(_atoms(rule.condition)) - set(structure.known[k]))
        for atom, count in counts.items():
            if count >= 2 and atom not in eager and _pure(atom) and isinstance(atom, _EAGER_ATOMS):
                local = self._eager_local(atom, eager)
                yield f"    {local} = {gen.cond(atom)}"
        if not reordered:
            with gen.atoms_known(eager):
                yield from self._candidates(run, output, structure, skip_words=False)
            return
        # Walked out of rule order: the proposals the run appends are sorted back into it after the
        # walk, by their rule alone (a C key function: faster than comparing pairs, and a rule's two
        # proposals to one output keep their order). `fired` is not: every reader of it takes it as
        # a set, and Decision.fired sorts it (runs scheduled after an output may come out of order).
        proposed = {self.output_index[a.output] for rule in run for a in rule.actions}
        lists = [f"c{i}" for i in sorted(proposed) if output is None or output == i]
        for number, items in enumerate(lists):
            yield f"    n{number}_ = len({items})"
        with gen.atoms_known(eager):
            yield from self._candidates(run, output, structure, skip_words=True)
        for number, items in enumerate(lists):
            yield f"    _sort_tail({items}, n{number}_, _by_rule)"

    def _eager_local(self, atom: c.CheckedExpr, eager: dict[c.CheckedExpr, str]) -> str:
        local = eager[atom] = f"e{len(self.eager_names)}"
        self.eager_names.append(local)
        return local

    def _candidates(
        self, run: list[c.CheckedRule], output: int | None, structure: rule_index.Discrimination, skip_words: bool
    ) -> Iterator[str]:
        """From the candidates' mask `m_` to `fired` and the proposals, in the run's order: the mask's
        bytes are walked in order, a zero byte skips its eight rules at once, and each candidate's code
        runs where it stands; with `skip_words` (a clustered run, whose candidates stand together), a
        zero 64-bit word skips its 64 rules at once. A candidate whose whole condition is in the
        structure matches (`exact`): its code is its actions alone. (Bytes within words: a byte and
        its bits are small ints, which CPython tests without making a new int.)"""
        gen = self.codegen
        words = (len(run) + 63) // 64
        skip_words = skip_words and words > 1
        yield f"    bytes_ = m_.to_bytes({8 * words}, 'little')"
        if skip_words:
            yield "    w_ = _zero_words(bytes_)"
        for word in range(words):
            pad = "    "
            if skip_words:
                yield f"    if w_[{word}]:"
                pad = "     "
            for first in range(64 * word, min(64 * word + 64, len(run)), 8):
                yield f"{pad}b_ = bytes_[{first // 8}]"
                yield f"{pad}if b_:"
                for k in range(first, min(first + 8, len(run))):
                    # One space of indentation a level: most lines of the function are in here.
                    yield f"{pad} if b_ & {1 << (k - first)}:"
                    with gen.atoms_known(dict.fromkeys(structure.known[k], "True")):
                        body = list(self._rule_block(run[k], 0, output, tested=not structure.exact[k]))
                    yield from (pad + "  " + line for line in body or ["pass"])

    def _condition(self, rule: c.CheckedRule) -> str | None:
        """The test of a rule's condition (None: it cannot match here)."""
        gen = self.codegen
        condition = gen.cond(rule.condition)
        if condition == "False":
            return None
        return f"{condition} is True" if gen.maybe(rule.condition) else condition

    def _constant_value(self, action: c.Assignment) -> Any:
        """A constant action's proposal: `perks += {a}` proposes the default's union with {a}."""
        assert isinstance(action.value, c.Const)
        output = self.policy.outputs[action.output]
        if action.op == "add" and output.has_default:
            return output.default | action.value.value
        return action.value.value

    def _shared_tests(self, found: list[rule_index.RuleConstraints]) -> list[list[c.CheckedExpr]]:
        """Per rule, the conjuncts it needs true that are tested once for the whole run: pure ones
        (computing them cannot raise) that enough rules need (TEST_SHARE), at most MAX_SHARED_TESTS
        of them, the most needed first."""
        gen = self.codegen
        usable: list[list[c.CheckedExpr]] = []
        for r in found:
            # Before an operand that may raise, an unknown (None) conjunct does not stop the rule.
            usable.append([t for t in r.others if _pure(t) and not (r.raises_later and gen.maybe(t))])
        counts = Counter(t for these in usable for t in set(these))
        # A test ANDs a mask of every rule into the candidates: it pays when it can rule out enough of them.
        least = max(2, len(found) // TEST_SHARE)
        shared = {t for t, n in counts.most_common(MAX_SHARED_TESTS) if n >= least}
        return [[t for t in dict.fromkeys(these) if t in shared] for these in usable]

    def _missing_facts(self) -> set[str]:
        return {name for name, local in self.names.facts.items() if local in self.names.maybe_missing}

    def _block(self, rules: list[c.CheckedRule], depth: int, output: int | None = None) -> Iterator[str]:
        """Rules that run one after another, every one of them reached: the pure atoms two or more
        of them test are computed once, first, into locals; the rest are tested where they stand."""
        gen = self.codegen
        # An atom is certainly evaluated when it comes first in a condition (short-circuiting may
        # skip the others): computing one up front pays when two rules lead with it.
        counts: Counter[c.CheckedExpr] = Counter()
        for rule in rules:
            leading = next((a for a in _atoms(rule.condition) if gen.atoms.get(a) not in ("True", "False")), None)
            if leading is not None:
                counts[leading] += 1
        eager: dict[c.CheckedExpr, str] = {}
        for atom, count in counts.items():
            if count < 2 or not _pure(atom) or gen.atoms.get(atom) in ("True", "False"):
                continue
            code = gen.cond(atom)
            local = f"e{len(self.eager_names)}"
            self.eager_names.append(local)
            yield f"{'    ' * depth}{local} = {code}"
            eager[atom] = local
        with gen.atoms_known(eager):
            for rule in rules:
                yield from self._rule_block(rule, depth, output)

    def _rule_block(
        self, rule: c.CheckedRule, depth: int, only: int | None = None, tested: bool = True
    ) -> Iterator[str]:
        """A rule's code: `if condition: fired.append(k); c3.append(...)`; without `tested`, its
        actions alone (the index knows it matches)."""
        pad = "    " * depth
        gen = self.codegen
        index_ = self.rule_index[rule.id]
        if tested:
            condition = gen.cond(rule.condition)
            if condition == "False":
                return  # the index already knows this rule cannot match here
            test = f"{condition} is True" if gen.maybe(rule.condition) else condition
            yield f"{pad}if {test}:  # rule {index_}"
            pad += "    " if depth else " "  # depth 0: inside the index's walk, where every byte of code counts
        if only is None:
            yield f"{pad}fired.append({index_})"
        for action in rule.actions:
            out = self.output_index[action.output]
            if only is not None and out != only:
                continue
            output = self.policy.outputs[action.output]
            value = gen.value(action.value)
            default = gen.constant(output.default) if action.op == "add" and output.has_default else None
            if gen.maybe(action.value):
                t = gen.temp()
                absent = "None" if action.value.type == BOOL else "MISSING"
                proposal = f"{default} | {t}" if default else t
                yield f"{pad}if ({t} := {value}) is not {absent}: c{out}.append(({index_}, {proposal}))"
            elif isinstance(action.value, c.Const):  # `perks += {a}`: the union made once, here
                yield f"{pad}c{out}.append(({index_}, {gen.constant(self._constant_value(action))}))"
            else:
                proposal = f"({default} | {value})" if default else value
                yield f"{pad}c{out}.append(({index_}, {proposal}))"


_EAGER_ATOMS = (c.Compare, c.Membership, c.Between, c.Presence)
"""The atoms the code generator looks up among the known ones (codegen._ATOM_TYPES)."""

INDEX_THRESHOLD = 128
"""Runs of at least this many rules are dispatched through the index (rule_index.py). Below it, testing
every rule in turn (each test a few bytecodes, the pure atoms rules share computed first) costs no
more than finding the candidates (measured side by side at 100 and 300 rules)."""


CLUSTER_THRESHOLD = 4096
"""Runs of at least this many rules are walked in the clustered order of rule_index.clustered_order,
zero 64-bit words of the mask skipped, and the proposals they append sorted back into rule order. On
the peer policy, `decide()` then `fired` (measured in one process, the two orders alternating), the
clustered walk took 1.06x the time of the walk in rule order at 1,000 rules, 1.03x at 2,000 and 0.985x
at 4,000 (the full function alone: 0.79x at 10,000): below about 4,000 rules the sorts back into rule
order (the proposals here, `fired` in Decision.fired) cost what the skipped words save."""

MAX_SHARED_TESTS = 256
"""At most this many shared tests per run: each costs an evaluation and a mask AND on every decision."""
TEST_SHARE = 128
"""A test is shared when at least this share of the run's rules (1/128), and at least two, need it."""


def _atoms(expr: c.CheckedExpr) -> Iterator[c.CheckedExpr]:
    """The leaves of a condition's and/or/not structure."""
    match expr:
        case c.BoolOp() | c.Not():
            # The structure itself: its operands are where the atoms are.
            for operand in c.children(expr):
                yield from _atoms(operand)
        case c.Const():
            pass  # `true` / `false`: nothing to compute, so nothing to share or to know in advance
        case (
            c.FactRef()
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
            yield expr  # a value or test computed as a whole: the unit atoms are shared and known by
        case _:
            c.unhandled(expr)


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
        stack.extend(c.children(node))


@functools.lru_cache(maxsize=4096)
def _pure(atom: c.CheckedExpr) -> bool:
    """Whether evaluating an atom can neither raise nor cost more than a few comparisons: only
    references and constants of declared types, so it may be computed before any rule asks for it.
    Remembered (atoms repeat across rules), in a bounded cache."""
    if rule_index.may_raise(atom):
        return False
    stack: list[c.CheckedExpr] = [atom]
    while stack:
        node = stack.pop()
        match node:
            case c.SetLiteral():
                return False  # builds a set on every evaluation: not a few comparisons
            case c.Const() | c.FactRef() | c.OutputRef() | c.DerivedRef() | c.Now():
                pass  # a constant, or a value already computed into a local
            case (
                c.Compare()
                | c.Membership()
                | c.Between()
                | c.Presence()
                | c.BoolOp()
                | c.Not()
                | c.Arithmetic()
                | c.Negate()
                | c.Call()
                | c.Conditional()
            ):
                # Cheap on values of declared types (may_raise ruled out the rest): as pure as its operands.
                stack.extend(c.children(node))
            case _:
                c.unhandled(node)
    return True


def _has_division(expr: c.CheckedExpr) -> bool:
    """Whether the expression divides somewhere (a division by zero raises)."""
    stack: list[c.CheckedExpr] = [expr]
    while stack:
        node = stack.pop()
        match node:
            case c.Arithmetic(op="/"):
                return True
            case c.Const() | c.FactRef() | c.OutputRef() | c.DerivedRef() | c.Now():
                pass  # reading a value (a derived value was computed before any rule)
            case (
                c.Compare()
                | c.Membership()
                | c.Between()
                | c.Presence()
                | c.BoolOp()
                | c.Not()
                | c.Arithmetic()
                | c.Negate()
                | c.SetLiteral()
                | c.Call()
                | c.Conditional()
            ):
                stack.extend(c.children(node))  # divides if an operand does
            case _:
                c.unhandled(node)
    return False


def to_dot(decision_graph: DecisionGraph) -> str:
    """The decision graph in Graphviz dot: facts, derived values, shared atoms, rules and outputs."""
    shapes = {
        "fact": "ellipse",
        "segment": "hexagon",
        "let": "hexagon",
        "atom": "diamond",
        "rule": "box",
        "output": "doubleoctagon",
    }
    ids: dict[Node, str] = {}
    lines = [
        f"digraph {_dot_string(decision_graph.policy.name)} {{",
        "    rankdir=LR;",
        "    node [fontname=Helvetica];",
    ]
    nodes: Any = decision_graph.graph.nodes(data=True)  # the stubs type node data loosely
    for number, (node, data) in enumerate(nodes):
        ids[node] = f"n{number}"
        kind = data.get("kind", node[0])
        label = f"{node[1]}\\n{data['label']}" if kind == "atom" and "label" in data else node[1]
        if "type" in data:
            label = f"{node[1]}: {data['type']}"
        if kind == "output":
            label += f"\\nresolve {data.get('resolution', 'unique')}"
        if kind == "rule" and data.get("priority"):
            label += f"\\npriority {data['priority']}"
        label_code = _dot_string(label).replace("\\\\n", "\\n")
        lines.append(f"    {ids[node]} [label={label_code}, shape={shapes.get(kind, 'box')}];")
    for source, target in decision_graph.graph.edges():
        lines.append(f"    {ids[source]} -> {ids[target]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json_graph(decision_graph: DecisionGraph) -> dict[str, Any]:
    """The decision graph as {"nodes": [...], "edges": [...], "schedule": [...]}, node ids "kind:name"."""
    return {
        "policy": decision_graph.policy.name,
        "nodes": [
            {
                "id": f"{kind}:{name}",
                "kind": data.get("kind", kind),
                "name": name,
                **{k: v for k, v in data.items() if k != "kind"},
            }
            for (kind, name), data in _node_data(decision_graph)
        ],
        "edges": [{"from": f"{a[0]}:{a[1]}", "to": f"{b[0]}:{b[1]}"} for a, b in decision_graph.graph.edges()],
        "schedule": [f"{kind}:{name}" for kind, name in decision_graph.schedule],
    }


def _node_data(decision_graph: DecisionGraph) -> Any:
    return decision_graph.graph.nodes(data=True)


def _dot_string(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, no raw newlines."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
