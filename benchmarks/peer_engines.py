"""The engines the peer benchmark compares: how each is built from a `peer_rules.RuleSet`, what one
decision is (the timed call), and how its answer is normalised for the agreement check.

Every engine gets the same customers. What is *timed* is `Built.decide(prepared)`, one call per
customer; `prepare` (turning the neutral customer dict into the engine's input form) and
`normalise` (turning the answer into the common dict) are never timed. `INCLUDES` says, per
engine, what the timed call does.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import peer_rules as pr  # beside this file; peers.py and the tests put this folder on sys.path

REGO_PACKAGE = "gordon-to-regorus"  # the Python wheel of regorus on PyPI (microsoft/regorus publishes none)


@dataclass
class Built:
    decide: Callable[[Any], Any]
    """The timed call: one decision for one prepared customer."""
    prepare: Callable[[dict[str, Any]], Any]
    normalise: Callable[[Any], dict[str, Any]]
    fired: Callable[[Any], list[int]] | None = None
    """Rule indexes that matched, where the engine says (used to minimise a disagreement)."""
    decide_many: Callable[[list[Any]], Iterable[Any]] | None = None
    keep_alive: Any = None


@dataclass(frozen=True)
class Engine:
    key: str
    label: str
    module: str | None
    """Module that must import for the engine to run (None: always available)."""
    package: str | None
    """Distribution name, for the version."""
    render: Callable[[pr.RuleSet], Any]
    """The rules in the engine's own form (text, JSON, ...): authoring, not timed as build."""
    load: Callable[[Any, pr.RuleSet], Built]
    """Builds the engine from the rendered form: the timed build ("compile")."""
    includes: str
    is_peer: bool = True
    """A rules engine policylang aims to beat (the hand-written function is a yardstick, not a peer)."""

    def build(self, rules: pr.RuleSet) -> Built:
        return self.load(self.render(rules), rules)

    def available(self) -> tuple[bool, str | None]:
        if self.module is None:
            return True, None
        try:
            importlib.import_module(self.module)
        except ImportError as exc:
            return False, f"`{self.module}` does not import ({exc}); pip install -r benchmarks/requirements.txt"
        return True, None

    def version(self) -> str | None:
        if self.package is None:
            return None
        try:
            return metadata.version(self.package)
        except metadata.PackageNotFoundError:
            return None


# --- policylang ---


def load_policylang(text: str, rules: pr.RuleSet) -> Built:
    import policylang

    policy = policylang.compile(text, filename=f"peers_{len(rules)}.policy")
    index_of = {rule_id: i for i, rule_id in enumerate(policy.decision_graph.rule_ids)}
    order = [rule.index for rule in rules.rules]

    def fired(decision: Any) -> list[int]:
        return [order[index_of[rule_id]] for rule_id in decision.fired]

    return Built(
        decide=policy.decide,
        prepare=pr.policylang_facts,
        normalise=lambda decision: pr.normalise_policylang(decision.outputs),
        fired=fired,
        decide_many=policy.decide_many,
        keep_alive=policy,
    )


def load_policylang_explained(text: str, rules: pr.RuleSet) -> Built:
    """`decide()` and then every rule that matched and every output's winners and overridden rules:
    what an explained or logged decision costs."""
    built = load_policylang(text, rules)
    decide = built.keep_alive.decide

    def explained(facts: dict[str, Any]) -> Any:
        decision = decide(facts)
        decision.fired  # noqa: B018  # built on first read: that is what is timed
        decision.resolutions  # noqa: B018
        return decision

    return Built(
        decide=explained,
        prepare=built.prepare,
        normalise=built.normalise,
        fired=built.fired,
        keep_alive=built.keep_alive,
    )


# --- the hand-written function ---


def load_python(source: str, rules: pr.RuleSet) -> Built:
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<hand-written {len(rules)} rules>", "exec"), namespace)  # our own generated source
    decide = namespace["decide"]
    return Built(decide=decide, prepare=dict, normalise=pr.normalise_plain, keep_alive=decide)


# --- Cedar (cedarpy) ---


def load_cedar(text: str, rules: pr.RuleSet) -> Built:
    import cedarpy

    policies = cedarpy.PolicySet.from_str(text)
    entities = cedarpy.Entities.from_json_str("[]")
    is_authorized = cedarpy.is_authorized
    by_reason = {f"policy{i}": rule for i, rule in enumerate(rules.rules)}
    fold = pr.fold
    request = {"principal": 'Customer::"c"', "action": 'Action::"decide"', "resource": 'Service::"support"'}

    def decide(context: dict[str, Any]) -> dict[str, Any]:
        answer = is_authorized({**request, "context": context}, policies, entities)
        errors = answer.diagnostics.errors
        if errors:  # a Cedar evaluation error skips the permit: a wrong answer, not a slow one
            raise RuntimeError(f"cedar: {errors[0]}")
        return fold([by_reason[reason] for reason in answer.diagnostics.reasons])

    return Built(decide=decide, prepare=pr.cedar_context, normalise=pr.normalise_plain, keep_alive=policies)


# --- zen-engine ---


def _zen_loader(variant: str) -> Callable[[Any, pr.RuleSet], Built]:
    def load(model: dict[str, Any], rules: pr.RuleSet) -> Built:
        import zen

        # `engine.evaluate(key, facts)` through a static loader is zen's fast path from Python: the
        # decision is loaded once and cached by key. (`engine.create_decision(json).evaluate(facts)`
        # gives the same answers about five times slower per call with zen-engine 2.1.)
        key = f"peers_{len(rules)}_{variant}"
        engine = zen.ZenEngine({"loader": {"type": "static", "content": {key: model}}})
        engine.evaluate(
            key, pr.random_customers(1, seed=99)[0]
        )  # loads and checks the model now, not on the first timed call
        evaluate = engine.evaluate

        def decide(facts: dict[str, Any]) -> Any:
            return evaluate(key, facts)

        def normalise(response: dict[str, Any]) -> dict[str, Any]:
            return pr.normalise_plain(response["result"])

        return Built(decide=decide, prepare=dict, normalise=normalise, keep_alive=engine)

    return load


# --- rule-engine ---


def load_rule_engine(texts: list[str], rules: pr.RuleSet) -> Built:
    import rule_engine

    compiled = [(rule_engine.Rule(text), rule) for text, rule in zip(texts, rules.rules, strict=True)]
    fold = pr.fold

    def decide(facts: dict[str, Any]) -> dict[str, Any]:
        return fold([rule for matcher, rule in compiled if matcher.matches(facts)])

    return Built(decide=decide, prepare=dict, normalise=pr.normalise_plain, keep_alive=compiled)


# --- Rego (regorus) ---


def load_rego_interpreter(text: str, rules: pr.RuleSet) -> Built:
    import regorus

    engine = regorus.Engine()
    # regorus refuses policy files over 1 MiB by default; 10,000 rules are about 2 MB of Rego.
    engine.set_policy_length_config(max_col=10_000, max_file_bytes=64 * 2**20, max_lines=1_000_000)
    engine.add_policy(f"peers_{len(rules)}.rego", text)
    set_input = engine.set_input
    eval_rule = engine.eval_rule

    def decide(facts: dict[str, Any]) -> Any:
        set_input(facts)
        return eval_rule("data.peers.decision")

    return Built(decide=decide, prepare=dict, normalise=pr.normalise_plain, keep_alive=engine)


def load_rego_vm(text: str, rules: pr.RuleSet) -> Built:
    import regorus

    program = regorus.Program.compile_from_modules("{}", [(f"peers_{len(rules)}.rego", text)], ["data.peers.decision"])
    vm = regorus.Rvm()
    vm.load_program(program)
    set_input_json = vm.set_input_json
    execute = vm.execute
    dumps, loads = json.dumps, json.loads

    def decide(facts: dict[str, Any]) -> Any:
        set_input_json(dumps(facts))
        return loads(execute())

    return Built(decide=decide, prepare=dict, normalise=pr.normalise_plain, keep_alive=(program, vm))


ENGINES: tuple[Engine, ...] = (
    Engine(
        "policylang",
        "policylang decide()",
        "policylang",
        "policylang",
        pr.to_policylang,
        load_policylang,
        "`policy.decide(facts)` with no `as_of`: validating the facts against the `input` block (the tenure "
        'literal `"400d"` parsed, the spend float read as an exact decimal), reading the clock, running the '
        "generated outputs-only function (per output, the rules in the order its resolution prefers, up to the "
        "first match), building the `Decision`. Its `fired` and per-output resolutions are built when first "
        "read (next line). Build = `policylang.compile` on the text: parse, check (names, types, conflicts), "
        "decision graph, code generation of both decision functions.",
        is_peer=False,
    ),
    Engine(
        "policylang_explained",
        "policylang decide() + fired and resolutions",
        "policylang",
        "policylang",
        pr.to_policylang,
        load_policylang_explained,
        "As above, then reading `decision.fired` and `decision.resolutions`: the full decision function runs "
        "on the same facts, finding every matching rule and each output's winners and overridden rules, "
        "as an explained or logged decision needs. Comparable in work to zen-engine's collect table.",
        is_peer=False,
    ),
    Engine(
        "python",
        "hand-written Python",
        None,
        None,
        pr.to_python,
        load_python,
        "One call of a plain function with one `if` per rule (generated source, exec'd once): reads the six "
        "facts from the dict, tests every rule, folds min / max / priority / any inline, returns a dict. "
        "No validation, no record of which rules fired. Build = `compile()` + `exec` of the source.",
        is_peer=False,
    ),
    Engine(
        "python_first",
        "hand-written Python, first match",
        None,
        None,
        pr.to_python_first,
        load_python,
        "The fair yardstick: a plain function calling one function per output, whose `if`s are that "
        "output's rules in the order its resolution prefers and which returns at the first match (as "
        "policylang's outputs-only function and zen's first-hit tables do). No validation, no record of "
        "which rules fired. Build = `compile()` + `exec` of the source.",
        is_peer=False,
    ),
    Engine(
        "cedar",
        "Cedar (cedarpy)",
        "cedarpy",
        "cedarpy",
        pr.to_cedar,
        load_cedar,
        "`cedarpy.is_authorized(request, policy_set, entities)` with the policies and the (empty) entity "
        "store parsed once: the context dict converted into Cedar values, every `permit` evaluated, the "
        "determining policies returned; then the same min / max / priority / any fold in Python over those "
        "rules' actions. Cedar has no decimals or durations in its core, so tenure is given in seconds and "
        "spend in cents (exact integers). Build = `PolicySet.from_str(text)`.",
    ),
    Engine(
        "zen_collect",
        "zen-engine (collect table + expression)",
        "zen",
        "zen-engine",
        lambda rules: pr.to_zen(rules, "collect"),
        _zen_loader("collect"),
        "`engine.evaluate(key, facts)` (static loader, decision cached): the Python dict converted into "
        "zen's values, one decision table with "
        "hit policy `collect` over every rule, an expression node folding the matched rows (min, max, "
        "priority, any), the result converted back to a Python dict (with zen's performance string). "
        "Build = `ZenEngine` with a static loader + the first evaluation (which loads the model).",
    ),
    Engine(
        "zen_first",
        "zen-engine (first-hit table per output)",
        "zen",
        "zen-engine",
        lambda rules: pr.to_zen(rules, "first"),
        _zen_loader("first"),
        "`engine.evaluate(key, facts)` on four decision tables with hit policy `first`, one per output, whose "
        "rows are sorted by the value they set so that the first match is the resolved value (a catch-all "
        "row gives the default): the table stops at its first match. Same conversions as above. This encoding "
        "only computes the outputs: like policylang's outputs-only function, it never learns which other rules "
        "matched, so it can skip most rows.",
    ),
    Engine(
        "rule_engine",
        "rule-engine",
        "rule_engine",
        "rule-engine",
        pr.to_rule_engine,
        load_rule_engine,
        "`Rule.matches(facts)` for every rule (one `rule_engine.Rule` per policy rule), then the same "
        "min / max / priority / any fold in Python over the matching rules' actions. Build = parsing one "
        "`rule_engine.Rule` per rule.",
    ),
    Engine(
        "rego_interpreter",
        "Rego (regorus interpreter)",
        "regorus",
        REGO_PACKAGE,
        pr.to_rego,
        load_rego_interpreter,
        '`engine.set_input(facts)` then `engine.eval_rule("data.peers.decision")`: the dict converted into '
        "Rego values, every `contrib` rule evaluated, the comprehensions folding them, the decision object "
        "converted back. Build = `Engine().add_policy(text)` (parse).",
    ),
    Engine(
        "rego_vm",
        "Rego (regorus RVM)",
        "regorus",
        REGO_PACKAGE,
        pr.to_rego,
        load_rego_vm,
        "`vm.set_input_json(json.dumps(facts))`, `vm.execute()`, `json.loads(...)`: regorus's compiled "
        "virtual machine, which takes and gives JSON text (the JSON encoding and decoding are timed). "
        "Build = `Program.compile_from_modules` + `Rvm().load_program`.",
    ),
)

BY_KEY = {engine.key: engine for engine in ENGINES}
HERE = Path(__file__).resolve().parent
