"""Checked policy -> `limit-exceeded` diagnostics for expressions nested past MAX_DEPTH levels, counting
each let and segment they read as written out in place, since that is how the analysis and the
explanations read them."""

from __future__ import annotations

from typing import Any

from ..core.diagnostics import Code, Diagnostic, Label, error
from ..core.source import Span
from ..syntax.parser import MAX_DEPTH
from . import typed_tree as c


def check_nesting(policy: c.CheckedPolicy) -> list[Diagnostic]:
    """One diagnostic per expression (a let, a segment, a rule's condition or value) that nests more
    than MAX_DEPTH levels deep with the lets and segments it reads written out in place, at the
    level past the limit or at the let or segment that takes it there. An expression reading a let
    already past the limit is not reported again: the let is.

    The parser limits each expression as written; this limits chains of them, which the analysis,
    the trace and why-not walk through (a chain of 1,000 lets was a RecursionError there).
    """
    derived_depth: dict[str, int] = {}
    found: list[Diagnostic] = []
    for key, derived in policy.derived.items():  # in dependency order: what a let reads comes first
        depth = _depths(derived.expr, derived_depth)
        derived_depth[key] = depth[id(derived.expr)]
        found.extend(_locate(derived.expr, depth, derived_depth, policy, derived.span))
    for rule in policy.rules:
        for expr in (rule.condition, *(action.value for action in rule.actions)):
            found.extend(_locate(expr, _depths(expr, derived_depth), derived_depth, policy, rule.span))
    return found


def _depths(root: c.CheckedExpr, derived_depth: dict[str, int]) -> dict[int, int]:
    """id(node) -> how many levels deep the node's expression goes (0 for a name or a constant),
    lets and segments counted as written out; without recursion."""
    depth: dict[int, int] = {}
    stack: list[tuple[c.CheckedExpr, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        match node:
            case c.DerivedRef():
                # As deep as the let or segment written out (a let in a cycle is reported as one).
                depth[id(node)] = derived_depth.get(node.key, 0)
            case c.Const() | c.FactRef() | c.OutputRef() | c.Now():
                depth[id(node)] = 0  # a name or a constant: no level of its own
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
                # An operator or call is one level above its deepest operand (measured first).
                if done:
                    depth[id(node)] = 1 + max((depth[id(child)] for child in c.children(node)), default=0)
                else:
                    stack.append((node, True))
                    stack.extend((child, False) for child in c.children(node))
            case _:
                c.unhandled(node)
    return depth


def _locate(
    root: c.CheckedExpr,
    depth: dict[int, int],
    derived_depth: dict[str, int],
    policy: c.CheckedPolicy,
    fallback: Span,
) -> list[Diagnostic]:
    if depth[id(root)] <= MAX_DEPTH:
        return []
    node: Any = root
    level = 1
    while True:
        if isinstance(node, c.DerivedRef):
            depth_of_let = derived_depth.get(node.key, 0)
            if depth_of_let > MAX_DEPTH or node.key not in policy.derived:
                return []  # the let or segment itself is reported (or its cycle is)
            definition = policy.derived[node.key]
            return [
                error(
                    Code.LIMIT_EXCEEDED,
                    f"`{node.key}` nests {depth_of_let} levels deep written out, which takes this "
                    f"expression past {MAX_DEPTH} levels",
                    _span(node, fallback),
                    label="read here",
                    labels=(Label(definition.span, f"`{node.key}` is defined here"),),
                    hint=f"lets and segments count as written out where they are read (at most {MAX_DEPTH} "
                    "levels in all): build on fewer of them, one upon another",
                )
            ]
        if level > MAX_DEPTH:
            return [
                error(
                    Code.LIMIT_EXCEEDED,
                    f"expression nested more than {MAX_DEPTH} levels deep",
                    _span(node, fallback),
                    hint="write it as several simpler conditions or rules",
                )
            ]
        node = max(c.children(node), key=lambda child: depth[id(child)])
        level += 1


def _span(node: Any, fallback: Span) -> Span:
    syntax = getattr(node, "node", None)
    span = getattr(syntax, "span", None)
    return span if isinstance(span, Span) else fallback
