"""Reads a test file (`NAME.test.yaml`) into cases, checking its shape: every problem is a
diagnostic at its line and column, and a file with problems runs nothing.

Names are not checked here (the policy is not loaded yet): binding.py checks outputs, rules and
values against the policy.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from ..core.diagnostics import Code, Label, did_you_mean
from ..core.facts_input import FactsInputError, read_text
from ..core.source import Span
from ..engine.facts import convert_datetime
from .model import DEFAULT_AS_OF, ERROR_KINDS, CaseSpec, Expected, ExpectedError, RuleRef, TestFile
from .yaml_nodes import INVALID, YamlDocument

TEST_SUFFIX = ".test.yaml"
TOP_KEYS = ["policy", "as_of", "cases"]
CASE_KEYS = ["name", "facts", "as_of", "expect", "fired", "fired_includes", "not_fired", "error"]
ERROR_KEYS = ["code", "message"]
RULE_LISTS = ("fired", "fired_includes", "not_fired")

_FILE_HINT = "a test file is a mapping with `cases:`, a list of cases, each with `name`, `facts` and `expect`"
_CASE_HINT = "a case is a mapping: `- name: ...` with `facts:` and `expect:` below it"


def policy_for(test_path: str) -> str | None:
    """The policy a test file tests when it does not say: `NAME.test.yaml` tests `NAME.policy` beside it."""
    if test_path.endswith(TEST_SUFFIX):
        return test_path[: -len(TEST_SUFFIX)] + ".policy"
    return None


def read_test_file(path: str) -> TestFile:
    """A test file read from disk; an unreadable file is a test file with one `io-error`."""
    try:
        name, text = read_text(path)
    except FactsInputError as exc:
        problem = exc.diagnostic
        if problem.hint:
            problem = dataclasses.replace(problem, hint="test files are YAML in UTF-8")
        return TestFile(path, None, None, None, (), (problem,))
    return parse_test_file(name, text)


def parse_test_file(name: str, text: str) -> TestFile:
    """A test file from its text; `name` locates it (the policy is found relative to it)."""
    doc = YamlDocument(name, text)
    root = doc.root(hint=_FILE_HINT)
    policy_path, policy_span = policy_for(name), None
    cases: list[CaseSpec] = []
    if root is None and not doc.diagnostics:
        doc.problem(Code.FACTS_ERROR, "the test file is empty", doc.source.span(0, 0), hint=_FILE_HINT)
    pairs = doc.pairs(root, "a test file", _FILE_HINT) if root is not None else None
    if pairs is None:
        policy_path = None  # unread, the file may name another policy: none is loaded
    if root is not None and pairs is not None:
        doc.unknown_keys(pairs, TOP_KEYS, "a test file")
        keys = {key: (key_node, value_node) for key, key_node, value_node in pairs}
        as_of = DEFAULT_AS_OF
        if "as_of" in keys:
            as_of = _moment(doc, keys["as_of"][1]) or DEFAULT_AS_OF
        if "policy" in keys:
            written = doc.text(
                keys["policy"][1], "`policy`", hint="write the policy file's path, such as `support.policy`"
            )
            if written is not None:
                policy_path = os.path.normpath(os.path.join(os.path.dirname(name), written))
                policy_span = doc.span(keys["policy"][1])
        if "cases" in keys:
            cases = _cases(doc, keys["cases"][1], as_of)
        else:
            doc.problem(Code.FACTS_ERROR, "the test file has no `cases`", doc.span(root), hint=_FILE_HINT)
    if policy_path is None and not doc.diagnostics:
        doc.problem(
            Code.FACTS_ERROR,
            f"cannot tell which policy `{name}` tests",
            doc.span(root) if root is not None else None,
            hint=f"name it NAME{TEST_SUFFIX} beside NAME.policy, or add `policy: NAME.policy`",
        )
    return TestFile(name, doc.source, policy_path, policy_span, tuple(cases), tuple(doc.diagnostics))


def _cases(doc: YamlDocument, node: Node, as_of: datetime) -> list[CaseSpec]:
    items = doc.items(node, "`cases`", hint="write each case as an item of the list: `- name: ...`")
    if items is None:
        return []
    if not items:
        doc.problem(Code.FACTS_ERROR, "`cases` is empty", doc.span(node), hint="add at least one case")
    cases: list[CaseSpec] = []
    first: dict[str, Span] = {}
    for item in items:
        named = _name_of(doc, item)
        duplicate = named is not None and named[0] in first
        if named is not None and duplicate:
            doc.problem(
                Code.DUPLICATE_NAME,
                f"two cases are named `{named[0]}`",
                named[1],
                labels=(Label(first[named[0]], "first named here"),),
                hint="give every case its own name: failures and CI reports tell cases apart by name",
            )
        elif named is not None:
            first[named[0]] = named[1]
        case = _case(doc, item, as_of)  # read even when its name is taken, to report its other problems
        if case is not None and not duplicate:
            cases.append(case)
    return cases


def _name_of(doc: YamlDocument, node: Node) -> tuple[str, Span] | None:
    """A case's name and its span, read without reporting anything (`_case` reports its problems)."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == "name" and isinstance(value_node, ScalarNode):
            name = doc.quiet_value(value_node)
            return (name, doc.span(value_node)) if isinstance(name, str) and name.strip() else None
    return None


def _case(doc: YamlDocument, node: Node, default_as_of: datetime) -> CaseSpec | None:
    """One case, or None when it has problems (recorded in `doc`)."""
    before = len(doc.diagnostics)
    pairs = doc.pairs(node, "a case", _CASE_HINT)
    if pairs is None:
        return None
    misspelt = doc.unknown_keys(pairs, CASE_KEYS, "a case")
    keys = {key: (key_node, value_node) for key, key_node, value_node in pairs}
    where = doc.span(node)
    name = "this case"
    if "name" in keys:
        name = doc.text(keys["name"][1], "a case's `name`") or name
        where = doc.span(keys["name"][1])
    else:
        doc.problem(
            Code.FACTS_ERROR, "this case has no `name`", where, hint="give every case a `name:` that says what it shows"
        )
    facts: dict[str, Any] = {}
    fact_spans: dict[str, Any] = {}
    if "facts" in keys:
        facts_span = doc.span(keys["facts"][0])
        fact_pairs = doc.pairs(
            keys["facts"][1], "`facts`", hint="facts are a mapping such as `tier: premium` (`facts: {}` for none)"
        )
        for fact, key_node, value_node in fact_pairs or []:
            value = doc.value(value_node)
            facts[fact] = value
            fact_spans[fact] = (doc.span(key_node), doc.span(value_node))
    else:
        facts_span = where
        doc.problem(
            Code.FACTS_ERROR,
            f"case `{name}` has no `facts`",
            where,
            hint="give the facts under `facts:` as a mapping, or `facts: {}` for none",
        )
    as_of = _moment(doc, keys["as_of"][1]) if "as_of" in keys else default_as_of
    expect = _expect(doc, keys["expect"][1]) if "expect" in keys else ()
    rules = {key: _rules(doc, keys[key][1], key) for key in RULE_LISTS if key in keys}
    expected_error = _error(doc, keys["error"][1]) if "error" in keys else None
    _check_combination(doc, keys, name, where, misspelt)
    if len(doc.diagnostics) > before or as_of is None or any(v is INVALID for v in facts.values()):
        return None
    return CaseSpec(
        name=name,
        span=where,
        facts=facts,
        fact_spans=fact_spans,
        facts_span=facts_span,
        as_of=as_of,
        expect=expect,
        fired=rules.get("fired"),
        fired_includes=rules.get("fired_includes", ()),
        not_fired=rules.get("not_fired", ()),
        error=expected_error,
    )


def _check_combination(
    doc: YamlDocument, keys: dict[str, tuple[Node, Node]], name: str, where: Any, misspelt: int
) -> None:
    """A case expects an error, or outputs and fired rules; `fired` is exact, so it stands alone.
    (A case with a misspelt key is not also said to expect nothing: the misspelling says why.)"""
    asserting = [key for key in ("expect", *RULE_LISTS) if key in keys]
    if "error" in keys and asserting:
        doc.problem(
            Code.FACTS_ERROR,
            f"case `{name}` expects an `error` and `{asserting[0]}` at once",
            doc.span(keys["error"][0]),
            labels=(Label(doc.span(keys[asserting[0]][0]), "a decision's outputs or rules"),),
            hint="a case that expects an error has no decision: keep `error`, or move the rest to another case",
        )
    if "fired" in keys:
        for other in ("fired_includes", "not_fired"):
            if other in keys:
                doc.problem(
                    Code.FACTS_ERROR,
                    f"`{other}` next to `fired`, which already lists exactly the rules that fire",
                    doc.span(keys[other][0]),
                    hint="use `fired` alone, or `fired_includes` and `not_fired` without it",
                )
    if not asserting and "error" not in keys and not misspelt:
        doc.problem(
            Code.FACTS_ERROR,
            f"case `{name}` expects nothing",
            where,
            hint="add `expect:` with outputs and their values, `fired:` with the rules that fire, or `error:`",
        )


def _moment(doc: YamlDocument, node: Node) -> datetime | None:
    value = doc.value(node)
    if value is INVALID:
        return None
    hint = "write ISO 8601 with a zone, such as 2026-01-31T09:00:00Z"
    if isinstance(value, date) and not isinstance(value, datetime):
        doc.problem(Code.TYPE_MISMATCH, "`as_of` needs a time and a zone, not only a date", doc.span(node), hint=hint)
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        doc.problem(
            Code.TYPE_MISMATCH,
            "`as_of` has no time zone",
            doc.span(node),
            hint="add `Z` for UTC or an offset such as `+01:00`: a test must mean the same instant everywhere",
        )
        return None
    try:
        return convert_datetime(value)
    except ValueError as exc:
        message = getattr(exc, "message", str(exc))
        doc.problem(Code.TYPE_MISMATCH, f"`as_of`: {message}", doc.span(node), hint=getattr(exc, "hint", None) or hint)
        return None


def _expect(doc: YamlDocument, node: Node) -> tuple[Expected, ...]:
    pairs = doc.pairs(node, "`expect`", hint="`expect` maps outputs to values, such as `sla: 4h` on its own line")
    found = []
    for name, key_node, value_node in pairs or []:
        value = doc.value(value_node)
        if value is not INVALID:
            found.append(Expected(name, value, doc.span(key_node), doc.span(value_node)))
    return tuple(found)


def _rules(doc: YamlDocument, node: Node, key: str) -> tuple[RuleRef, ...]:
    items = doc.items(node, f"`{key}`", hint="write a list of rule ids, such as [key_accounts, support:29]")
    found = []
    for item in items or []:
        rule = doc.text(
            item, f"a rule id in `{key}`", hint="rule ids are names (`key_accounts`) or `file#N` (`support#1`)"
        )
        if rule is not None:
            found.append(RuleRef(rule, doc.span(item)))
    return tuple(found)


def _error(doc: YamlDocument, node: Node) -> ExpectedError | None:
    hint = "write `error: conflict`, or `error: {code: conflict, message: sla}` to match part of its message"
    message = None
    code_node = node
    if not isinstance(node, ScalarNode):
        pairs = doc.pairs(node, "`error`", hint)
        if pairs is None:
            return None
        doc.unknown_keys(pairs, ERROR_KEYS, "`error`")
        keys = {key: value_node for key, _, value_node in pairs}
        if "message" in keys:
            message = doc.text(keys["message"], "`message`", hint="a part of the error's message, as text")
        if "code" not in keys:
            doc.problem(Code.FACTS_ERROR, "`error` has no `code`", doc.span(node), hint=hint)
            return None
        code_node = keys["code"]
    kind = doc.text(code_node, "`error`", hint)
    if kind is None:
        return None
    if kind not in ERROR_KINDS:
        doc.problem(
            Code.UNKNOWN_NAME,
            f"unknown error `{kind}`",
            doc.span(code_node),
            hint=did_you_mean(kind, ERROR_KINDS) or "a case can expect " + ", ".join(f"`{k}`" for k in ERROR_KINDS),
        )
        return None
    return ExpectedError(kind, message, doc.span(code_node))
