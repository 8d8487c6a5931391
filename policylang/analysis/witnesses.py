"""How each finding is proven and worded: its witness (concrete facts, rendered as a facts file
gives them) is decided once more by the real evaluator (`Policy.decide`'s full decision function)
and made as plain as the finding allows before it is reported; one that does not show what is
claimed is never reported. The findings that read what the whole analysis learnt (unreachable and
shadowed rules) are here too, and the notes where it could not decide.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.diagnostics import Code, Diagnostic, Label, Severity, error, warning
from ..core.json_codec import to_json_value
from ..core.resolution import Prefer, Resolved, resolution_of
from ..core.spelling import spell_value
from ..core.values import MISSING, same_value
from ..engine.evaluator import Policy, full_record
from ..engine.facts import FactsError
from ..engine.runtime import EvaluationError
from ..semantics import typed_tree as c
from ..syntax.formatter import unparse_expr
from .budget import Deadline, OutOfTime, shown_seconds
from .enumeration import AS_OF, MAX_COMBINATIONS, Scope
from .fact_domains import reads
from .progress import Progress
from .reading import PolicyReading


class _Replayed:
    """One witness's decision, as much of it as the findings' checks read."""

    def __init__(self, policy: Policy, record: Any, position: dict[str, int]) -> None:
        fired, self.proposals, self.outputs, conflicted = record
        self.graph = policy.decision_graph
        self.names = list(policy.checked.outputs)
        self.position = position
        self._fired = set(fired)
        self.conflicted = {self.names[i] for i in conflicted or ()}
        self._resolved: dict[str, Resolved] = {}
        self._conflicting: dict[str, set[str]] = {}

    def fired(self, rule: str) -> bool:
        return self.position[rule] in self._fired

    def resolution(self, output: str) -> Resolved:
        if output not in self._resolved:
            index = self.names.index(output)
            self._resolved[output] = self.graph.resolvers[index](self.proposals[index])
        return self._resolved[output]

    def values(self, output: str, first: str, second: str) -> tuple[Any, ...]:
        """The values two rules propose for the output in this decision, if both are among the
        conflicting and they differ; else ()."""
        if not {first, second} <= self.conflicting(output):
            return ()
        proposed = {x.rule: x.value for x in self.resolution(output).conflicting}
        a, b = proposed[first], proposed[second]
        return () if same_value(a, b) else (a, b)

    def conflicting(self, output: str) -> set[str]:
        """The rules whose values for the output conflict in this decision."""
        if output not in self.conflicted:
            return set()
        if output not in self._conflicting:
            self._conflicting[output] = {contribution.rule for contribution in self.resolution(output).conflicting}
        return self._conflicting[output]


def out_of_time_note(checked: c.CheckedPolicy, output: str, deadline: Deadline, rules: tuple[str, ...]) -> Diagnostic:
    """The note on an output the analysis did not finish deciding before its deadline; `rules`
    are the ids of the rules that set it."""
    return Diagnostic(
        code=Code.ANALYSIS_INCOMPLETE,
        severity=Severity.INFO,
        message=f"the analysis stopped at its time budget of {shown_seconds(deadline.seconds)} "
        f"before deciding `{output}`; what it reports is proven",
        span=checked.outputs[output].span,
        notes=("it cannot promise there is nothing more",),
        hint="give it more time with `policy check --analysis-budget SECONDS` (`inf` for no limit; "
        "`budget=` from Python)",
        rules=rules,
    )


class Witnesses(PolicyReading):
    """The analysis's findings, each proven by a replayed witness."""

    def __init__(
        self,
        policy: Policy,
        overlaps: bool = False,
        deadline: Deadline | None = None,
        progress: Progress | None = None,
    ) -> None:
        super().__init__(policy, overlaps, deadline, progress)
        self.replayed: dict[str, _Replayed | None] = {}
        """Each witness (as JSON) decided by the real evaluator, once (`_replay`)."""

    def conflict_finding(
        self,
        output: str,
        first: str,
        second: str,
        first_value: Any,
        second_value: Any,
        values: dict[str, Any],
        plainest: bool = False,
    ) -> Diagnostic | None:
        def shows_it(witness: dict[str, Any]) -> bool:
            # Both among the conflicting, with values that differ: a third rule can keep the output
            # conflicted where two computed values happen to agree.
            replayed = self._replay(witness)
            return replayed is not None and len(replayed.values(output, first, second)) == 2

        witness = self._minimal(values, shows_it, trials=not plainest)
        if witness is None:
            return None  # never report what the real evaluator does not show
        if self.computing_on(output, first, second):  # (as at the witness, not where it was found)
            replayed = self._replay(witness)
            assert replayed is not None  # it has just shown the conflict
            first_value, second_value = replayed.values(output, first, second)
        resolution = self.checked.outputs[output].resolution
        a, b = self._rule(first), self._rule(second)
        by_priority = resolution_of(resolution).prefer is Prefer.HIGHER_PRIORITY
        why = f"equal priorities ({a.priority})" if by_priority else f"`resolve {resolution}`"
        first_text, second_text = _written(a, output, first_value), _written(b, output, second_value)
        return error(
            Code.CONFLICT,
            f"rules `{first}` and `{second}` can both match and set `{output}` to different values "
            f"({first_text} and {second_text}); {why} cannot decide between them",
            b.span,
            label=f"sets `{output}` = {second_text}",
            labels=(Label(a.span, f"sets `{output}` = {first_text}"),),
            hint=f"make their conditions exclude each other, or give `{output}` a resolution that decides "
            "(`resolve first`, `min`, `max`, or `priority` with different priorities)",
            rules=(first, second),
            witness=witness,
        )

    def gap_finding(
        self, output: str, values: dict[str, Any], reads: frozenset[str] = frozenset()
    ) -> Diagnostic | None:
        def shows_it(witness: dict[str, Any]) -> bool:
            # Unset, and not because it or an output its rules read conflicted (that is the conflict).
            replayed = self._replay(witness)
            return (
                replayed is not None and output not in replayed.outputs and not replayed.conflicted & (reads | {output})
            )

        witness = self._minimal(values, shows_it)
        if witness is None:
            return None
        declared = self.checked.outputs[output]
        setters = tuple(self.rules[i].id for i in self.setters[output])
        if not setters:
            message = f"output `{output}` has no default and no rule sets it: no decision ever has it"
            hint = f"give `{output}` a default, or add the rules that set it"
        else:
            message = f"output `{output}` has no default, and no rule sets it for some facts"
            hint = (
                f"give `{output}` a default, add a rule for facts like the witness, or mark it optional "
                f"(`{output}: {declared.type}?`) if no value is a valid result"
            )
        return warning(Code.COVERAGE_GAP, message, declared.span, hint=hint, rules=setters, witness=witness)

    def _replay(self, witness: dict[str, Any]) -> _Replayed | None:
        """The witness decided by the real evaluator: the facts the policy's validator makes of it
        (as of a facts file), through the full decision function `decide()` runs, conflicts
        marked. None if it is not valid facts or cannot be decided (never reported). Findings
        often share a witness, so each is decided once."""
        key = json.dumps(witness, sort_keys=True)
        if key not in self.replayed:
            self.deadline.check()
            try:
                record = full_record(self.policy, self.policy.validate_facts(witness), AS_OF)
            except (FactsError, EvaluationError):
                self.replayed[key] = None
            else:
                self.replayed[key] = _Replayed(self.policy, record, self.position)
        return self.replayed[key]

    def _minimal(self, values: dict[str, Any], shows_it: Any, trials: bool = True) -> dict[str, Any] | None:
        """The facts as a facts file gives them, with every fact that the finding does not need put
        back to its plain value; None if even the full witness does not show it (never reported).
        Without `trials` the facts are already as plain as the finding allows (chosen so within
        its region): they are only replayed."""
        if not shows_it(render_witness(self.checked, values)):
            return None
        if not trials:
            return render_witness(self.checked, values)
        current = dict(values)
        for name in self.checked.facts:
            plain = self.base_value(name)
            if current[name] is plain or current[name] == plain:
                continue
            trial = {**current, name: plain}
            if shows_it(render_witness(self.checked, trial)):
                current = trial
        return render_witness(self.checked, current)

    def overlap_finding(self, output: str, pair: tuple[str, str], values: dict[str, Any]) -> Diagnostic | None:
        winner, loser = pair

        def shows_it(witness: dict[str, Any]) -> bool:
            replayed = self._replay(witness)
            if replayed is None:
                return False
            resolved = replayed.resolution(output)
            return winner in resolved.winners and loser in resolved.overridden

        witness = self._minimal(values, shows_it)
        if witness is None:
            return None  # never report what the real evaluator does not show
        resolution = self.checked.outputs[output].resolution
        return Diagnostic(
            code=Code.OVERLAP,
            severity=Severity.INFO,
            message=f"`{winner}` overrides `{loser}` on `{output}` by `resolve {resolution}` when both match",
            span=self._rule(loser).span,
            labels=(Label(self._rule(winner).span, "wins"),),
            rules=(winner, loser),
            witness=witness,
        )

    def redundant_findings(self, output: str, implied: dict[int, set[int]]) -> list[Diagnostic]:
        """A rule that another rule with exactly the same actions always accompanies."""
        found = []
        for i, others in sorted(implied.items()):
            rule = self.rules[i]
            actions = self._action_keys[i]
            for j in sorted(others - {i}):
                other = self.rules[j]
                if self._action_keys[j] != actions or j in self.redundant or not self._as_strong(j, i):
                    continue
                if i in implied.get(j, set()) and j > i and self._as_strong(i, j):
                    continue  # the two always match together and stand in for each other: report the later only
                if output != self._outputs_of(i)[0]:
                    continue  # reported once, for the rule's first output
                self.redundant.add(i)
                found.append(
                    warning(
                        Code.REDUNDANT_RULE,
                        f"rule `{rule.id}` is redundant: whenever it matches, `{other.id}` matches too and "
                        "sets exactly the same values",
                        rule.span,
                        labels=(Label(other.span, "this rule already does it"),),
                        hint=f"remove `{rule.id}`, or merge its reason into `{other.id}`",
                        rules=(rule.id, other.id),
                    )
                )
                break
        return found

    def _as_strong(self, j: int, i: int) -> bool:
        """Whether rule j stands wherever rule i would on every output i sets: earlier under
        `resolve first`, of at least i's priority under `resolve priority`. Without i a rule
        between them could otherwise win (or break a tie) where i did."""
        for output in self._outputs_of(i):
            resolution = resolution_of(self.checked.outputs[output].resolution)
            if not resolution.ranks_rules:
                continue  # the values decide, wherever the rules stand
            if resolution.rank(j, self.rules[j].priority, None) < resolution.rank(i, self.rules[i].priority, None):
                return False
        return True

    def incomplete_note(
        self, scope: Scope, inexact: dict[int, list[str]], exhaustive: bool, failures: int, reason: str = ""
    ) -> Diagnostic:
        reasons = [reason] if reason else []
        if not exhaustive:
            reasons.append(
                "its rules read facts with too many combinations to try them all; "
                f"{scope.sampled or MAX_COMBINATIONS:,} were sampled"
            )
        if failures:
            reasons.append(
                f"{failures} combinations of facts could not be decided (an error such as a division by zero)"
            )
        for i, why in inexact.items():
            reasons.append(f"rule `{self.rules[i].id}`: {'; '.join(why)}")
        named = tuple(self.rules[i].id for i in (inexact or scope.rules))
        return Diagnostic(
            code=Code.ANALYSIS_INCOMPLETE,
            severity=Severity.INFO,
            message=f"the analysis of `{scope.output}` is incomplete: what it reports is proven, "
            "but it cannot promise there is nothing more",
            span=self.checked.outputs[scope.output].span,
            notes=tuple(reasons),
            rules=named,
        )

    def _out_of_time(self, output: str) -> Diagnostic:
        """The note on an output the analysis did not finish deciding before its deadline."""
        self.stopped = True
        return out_of_time_note(
            self.checked, output, self.deadline, tuple(self.rules[i].id for i in self.setters[output])
        )

    def _unreachable(self) -> list[Diagnostic]:
        found = []
        for i in sorted(self.exact_for - self.reached):
            rule = self.rules[i]
            found.append(
                warning(
                    Code.UNREACHABLE_RULE,
                    f"rule `{rule.id}` can never match: no facts within the declared types satisfy its condition",
                    rule.span,
                    hint=(
                        "it reads outputs that never take the values it compares them with; check the rules "
                        "that set them"
                        if reads(rule.condition).outputs
                        else "its comparisons exclude each other; check the constants and `and` / `or`"
                    ),
                    rules=(rule.id,),
                )
            )
        return found

    def _shadowed(self) -> list[Diagnostic]:
        """Rules that match for some facts but, wherever they match, lose every output they set."""
        found = []
        late: dict[str, None] = {}
        """Outputs with a rule whose witness was not replayed in time (in order, once each)."""
        for i, (output, values) in sorted(self.overridden.items()):
            self.progress.step()
            rule = self.rules[i]
            if i in self.won or i in self.redundant or i not in self.exact_for:
                continue
            if not set(self._outputs_of(i)) <= self.exact_outputs:
                continue

            def shows_it(witness: dict[str, Any], rule_id: str = rule.id, output: str = output) -> bool:
                replayed = self._replay(witness)
                return (
                    replayed is not None
                    and replayed.fired(rule_id)
                    and rule_id in replayed.resolution(output).overridden
                )

            try:
                witness = self._minimal(values, shows_it)
            except OutOfTime:
                late[output] = None  # (the witnesses already replayed still prove the others)
                continue
            if witness is None:  # never report what the real evaluator does not show, but say so
                why = "the facts that would show it shadowed cannot be decided (another rule raises an error there)"
                found.append(self.incomplete_note(Scope(output, [i], []), {i: [why]}, True, 0))
                continue
            replayed = self._replay(witness)
            assert replayed is not None  # it has just shown the finding
            resolved = replayed.resolution(output)
            deciding = resolved.winners or tuple(dict.fromkeys(x.rule for x in resolved.conflicting))
            names = ", ".join(f"`{w}`" for w in deciding) + ("" if resolved.winners else " in conflict")
            found.append(
                warning(
                    Code.SHADOWED_RULE,
                    f"rule `{rule.id}` never changes a decision: whenever it matches, other rules decide "
                    f"everything it sets (here {names} on `{output}`)",
                    rule.span,
                    hint="remove it, or change its condition or values so that it matters",
                    rules=(rule.id, *deciding),
                    witness=witness,
                )
            )
        found.extend(self._out_of_time(output) for output in late)
        return found


UNDECIDED_GAP = (
    "the facts that would show it left without a value cannot be decided (another rule raises an error there)"
)


def _written(rule: c.CheckedRule, output: str, value: Any) -> str:
    """A rule's value for an output as the policy writes it (`24h`, not `1d`; strings quoted)."""
    for action in rule.actions:
        if action.op == "add":
            continue  # `+= {y}` proposes the default and y: shown as the value
        if action.output == output and isinstance(action.value, c.Const) and action.value.node is not None:
            return unparse_expr(action.value.node)
    return _shown(value)


def render_witness(policy: c.CheckedPolicy, values: dict[str, Any]) -> dict[str, Any]:
    """Runtime fact values as a facts file gives them (durations as literals, dates ISO 8601, sets as
    lists); facts that are missing or at their default are left out."""
    witness = {}
    for name, value in sorted(values.items()):
        fact = policy.facts[name]
        if value is MISSING or (fact.has_default and value == fact.default and type(value) is type(fact.default)):
            continue
        witness[name] = to_json_value(value)
    return witness


def _shown(value: Any) -> str:
    """A computed value in a finding, as the language writes it (`high`, `4h`, `"two words"`)."""
    return spell_value(value)
