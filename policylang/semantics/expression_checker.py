"""Types expressions: resolves each name (fact, output, segment, let, enum member, symbol) and checks operators.

Bare words take their meaning from the other side: in `tier == premium`, `premium` is a member of
`tier`'s enum; against a string it is the symbol "premium". In schema-less mode a name in subject
position (the left of a comparison, a bare condition) that nothing declares becomes a fact whose
type is inferred from how it is used.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import assert_never

from ..core import operators as ops
from ..core.datatypes import (
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    INT,
    NUMBER,
    STRING,
    TIME,
    UNKNOWN,
    EnumOf,
    SetOf,
    Type,
    arithmetic_result,
    comparable,
    describe,
    is_numeric,
    is_ordered,
    join,
)
from ..core.diagnostics import Code, Diagnostic, Label, did_you_mean, error
from ..core.source import SourceFile, Span
from ..syntax import nodes as n
from . import typed_tree as c

LITERAL_TYPES: dict[str, Type] = {
    "int": INT,
    "number": NUMBER,
    "string": STRING,
    "bool": BOOL,
    "duration": DURATION,
    "date": DATE,
    "datetime": DATETIME,
    "time": TIME,
}


@dataclass
class InferredName:
    """A schema-less fact or output: its type so far and where that type was first fixed."""

    type: Type
    span: Span


@dataclass
class Environment:
    """Everything names can resolve to, shared by every module of one policy."""

    facts: dict[str, c.Fact] = field(default_factory=dict)
    outputs: dict[str, c.Output] = field(default_factory=dict)
    facts_declared: bool = True
    outputs_declared: bool = True
    inferred_facts: dict[str, InferredName] = field(default_factory=dict)
    inferred_outputs: dict[str, InferredName] = field(default_factory=dict)
    derived_types: dict[str, Type] = field(default_factory=dict)
    local_derived: dict[str, dict[str, str]] = field(default_factory=dict)
    """module prefix -> {name as written there -> derived key}"""
    module_imports: dict[str, dict[str, str]] = field(default_factory=dict)
    """module prefix -> {alias -> imported module prefix}"""
    failed_imports: dict[str, set[str]] = field(default_factory=dict)
    """module prefix -> aliases of imports that failed (their uses are not reported again)"""

    def fact_type(self, name: str) -> Type | None:
        if name in self.facts:
            return self.facts[name].type
        if name in self.inferred_facts:
            return self.inferred_facts[name].type
        return None

    def output_type(self, name: str) -> Type | None:
        if name in self.outputs:
            return self.outputs[name].type
        if name in self.inferred_outputs:
            return self.inferred_outputs[name].type
        return None


class ExpressionChecker:
    """Types the expressions of one module, appending diagnostics to a shared list."""

    def __init__(self, env: Environment, prefix: str, source: SourceFile, diagnostics: list[Diagnostic]) -> None:
        self.env = env
        self.prefix = prefix
        self.source = source
        self.diagnostics = diagnostics
        self.quiet = False
        """Set while typing the other side of a comparison whose first side was already an error."""

    # --- entry points ---

    def condition(self, expr: n.Expr) -> c.CheckedExpr:
        """A condition: must be a bool."""
        result = self.expr(expr, BOOL, subject=True)
        self._refine(result, BOOL)
        if result.type not in (BOOL, UNKNOWN):
            self._error(
                Code.TYPE_MISMATCH,
                f"a condition must be true or false, but `{self._text(expr)}` is {describe(result.type)}",
                expr.span,
                label=f"{describe(result.type)}",
                hint=_condition_hint(result.type),
            )
        return result

    def value(self, expr: n.Expr, expected: Type | None) -> c.CheckedExpr:
        """A value in value position (action values, defaults): bare words are members or symbols."""
        return self.expr(expr, expected, subject=False)

    # --- dispatch ---

    def expr(self, expr: n.Expr, expected: Type | None, *, subject: bool = False) -> c.CheckedExpr:
        match expr:
            case n.Literal():
                return self._literal(expr)
            case n.Name():
                return self._name(expr, expected, subject)
            case n.SetLiteral():
                return self._set(expr, expected)
            case n.Now():
                return c.Now(DATETIME, expr)
            case n.Compare():
                return self._compare(expr)
            case n.Membership():
                return self._membership(expr)
            case n.Between():
                return self._between(expr)
            case n.Presence():
                target = self.expr(expr.target, None, subject=True)
                return c.Presence(target, expr.missing, BOOL, expr)
            case n.BoolOp():
                operands = tuple(self._bool_operand(op) for op in expr.operands)
                return c.BoolOp(expr.op, operands, BOOL, expr)
            case n.Not():
                return c.Not(self._bool_operand(expr.operand), BOOL, expr)
            case n.Arithmetic():
                return self._arithmetic(expr, expected)
            case n.Negate():
                return self._negate(expr, expected)
            case n.Call():
                return self._call(expr, expected)
            case n.Conditional():
                return self._conditional(expr, expected)
            case _:
                assert_never(expr)

    # --- leaves ---

    def _literal(self, expr: n.Literal) -> c.CheckedExpr:
        return c.Const(expr.value, LITERAL_TYPES[expr.kind], expr)

    def _name(self, expr: n.Name, expected: Type | None, subject: bool) -> c.CheckedExpr:
        if len(expr.parts) > 1:
            return self._qualified(expr)
        name = expr.parts[0]
        if isinstance(expected, EnumOf) and name in expected.members:
            return c.Const(name, expected, expr)
        resolved = self._lookup(name, expr)
        if resolved is not None:
            return resolved
        if not self.env.facts_declared and subject:
            # Schema-less: "names on the left are facts, bare words in value position are symbols".
            inferred_type = expected if expected is not None and expected != STRING else UNKNOWN
            self.env.inferred_facts[name] = InferredName(inferred_type, expr.span)
            return c.FactRef(name, inferred_type, expr)
        if expected == STRING or not self.env.facts_declared:
            return c.Const(name, STRING, expr)
        if self.quiet:
            return c.Const(None, UNKNOWN, expr)
        self._unknown_name(expr, expected)
        return c.Const(None, UNKNOWN, expr)

    def _lookup(self, name: str, expr: n.Expr) -> c.CheckedExpr | None:
        local = self.env.local_derived.get(self.prefix, {})
        if name in local:
            key = local[name]
            return c.DerivedRef(key, self.env.derived_types.get(key, UNKNOWN), expr)
        fact_type = self.env.fact_type(name)
        if fact_type is not None:
            return c.FactRef(name, fact_type, expr)
        output_type = self.env.output_type(name)
        if output_type is not None:
            return c.OutputRef(name, output_type, expr)
        return None

    def _qualified(self, expr: n.Name) -> c.CheckedExpr:
        alias, *rest = expr.parts
        imports = self.env.module_imports.get(self.prefix, {})
        if alias not in imports:
            if alias in self.env.failed_imports.get(self.prefix, set()):
                return c.Const(None, UNKNOWN, expr)  # the import itself is already reported
            self._error(
                Code.UNKNOWN_NAME,
                f"no import is called `{alias}`",
                expr.span,
                hint=did_you_mean(alias, imports) or "import a module first, such as `import stdlib.segments`",
            )
            return c.Const(None, UNKNOWN, expr)
        target = imports[alias]
        names = self.env.local_derived.get(target, {})
        member = ".".join(rest)
        if member not in names:
            shown = did_you_mean(member, names)
            if self.env.fact_type(member) is not None or self.env.output_type(member) is not None:
                shown = f"facts and outputs are shared by all files: write `{member}`"
            self._error(
                Code.UNKNOWN_NAME,
                f"`{alias}` has no segment or let called `{member}`",
                expr.span,
                hint=shown or (f"`{alias}` defines: " + ", ".join(f"`{x}`" for x in sorted(names)) if names else None),
            )
            return c.Const(None, UNKNOWN, expr)
        key = names[member]
        return c.DerivedRef(key, self.env.derived_types.get(key, UNKNOWN), expr)

    def _unknown_name(self, expr: n.Name, expected: Type | None) -> None:
        name = expr.parts[0]
        candidates = set(self.env.facts) | set(self.env.outputs) | set(self.env.inferred_outputs)
        candidates |= set(self.env.local_derived.get(self.prefix, {}))
        for alias, target in self.env.module_imports.get(self.prefix, {}).items():
            candidates |= {f"{alias}.{member}" for member in self.env.local_derived.get(target, {})}
        if isinstance(expected, EnumOf):
            candidates |= set(expected.members)
        hint = did_you_mean(name, candidates)
        qualified = [cand for cand in candidates if cand.endswith(f".{name}")]
        if qualified:
            hint = f"did you mean `{sorted(qualified)[0]}`?"
        if name in ("True", "False", "TRUE", "FALSE", "yes", "no"):
            hint = "write `true`" if name.lower() in ("true", "yes") else "write `false`"
        elif name in ("True", "False", "TRUE", "FALSE"):
            hint = f"write `{name.lower()}`"
        elif hint is None and isinstance(expected, EnumOf):
            hint = "expected one of: " + ", ".join(f"`{m}`" for m in expected.members)
        elif hint is None and name in ("null", "None", "nil"):
            hint = "test for a missing fact with `is missing`"
        if isinstance(expected, EnumOf):
            message = f"`{name}` is not a member of {expected}"
        else:
            message = f"unknown name `{name}`"
        self._error(Code.UNKNOWN_NAME, message, expr.span, hint=hint)

    def _set(self, expr: n.SetLiteral, expected: Type | None) -> c.CheckedExpr:
        element_expected = expected.element if isinstance(expected, SetOf) else None
        elements = [self.expr(e, element_expected) for e in expr.elements]
        element_type: Type = UNKNOWN
        if element_expected is None or element_expected == UNKNOWN:
            for elem in elements:
                joined = join(element_type, elem.type)
                if joined is None:
                    self._mismatch_in_set(elem, element_type)
                else:
                    element_type = joined
        else:
            element_type = element_expected
            for elem in elements:
                if not comparable(elem.type, element_type):
                    self._mismatch_in_set(elem, element_type)
        if isinstance(element_type, SetOf):
            self._error(Code.TYPE_MISMATCH, "a set cannot hold sets", expr.span, hint="use a set of plain values")
        set_type = SetOf(element_type)
        if all(isinstance(e, c.Const) for e in elements):
            return c.Const(frozenset(e.value for e in elements if isinstance(e, c.Const)), set_type, expr)
        return c.SetLiteral(tuple(elements), set_type, expr)

    def _mismatch_in_set(self, elem: c.CheckedExpr, element_type: Type) -> None:
        node = elem.node
        self._error(
            Code.TYPE_MISMATCH,
            f"this set holds {element_type} values, but `{self._text(node)}` is {describe(elem.type)}",
            node.span if node else None,
            label=describe(elem.type),
            hint="all elements of a set have the same type",
        )

    # --- operators ---

    def _pair(
        self, left: n.Expr, right: n.Expr, right_expected_from_left: bool = True
    ) -> tuple[c.CheckedExpr, c.CheckedExpr]:
        """Type both sides so that a bare word on either side reads its meaning from the other."""
        if self._is_unbound(left) and not self._is_unbound(right):
            r = self.expr(right, None, subject=False)
            # A bare word reads its meaning from a reference on the other side (`premium == tier`),
            # never from a constant: `regoin == "eu"` is a misspelt fact, not the symbol "regoin".
            l_ = self.expr(left, None if isinstance(r, c.Const) else r.type, subject=True)
        else:
            l_ = self.expr(left, None, subject=True)
            failed = isinstance(l_, c.Const) and l_.value is None and l_.type == UNKNOWN
            self.quiet, was_quiet = failed or self.quiet, self.quiet
            try:
                r = self.expr(right, l_.type if right_expected_from_left else None, subject=False)
            finally:
                self.quiet = was_quiet
        self._refine(l_, r.type)
        self._refine(r, l_.type)
        return l_, r

    def _compare(self, expr: n.Compare) -> c.CheckedExpr:
        before = len(self.diagnostics)
        left, right = self._pair(expr.left, expr.right)
        # Schema-less `a + b > 0.3`: the sum is a number, so both facts are numbers.
        self._refine_operands(left, self._current_type(right))
        self._refine_operands(right, self._current_type(left))
        lt, rt = self._current_type(left), self._current_type(right)
        if len(self.diagnostics) > before:
            pass  # the operands were already reported (a schema-less fact used two ways)
        elif not comparable(lt, rt):
            self._compare_mismatch(expr, left, right, lt, rt)
        elif expr.op not in ("==", "!=") and not (is_ordered(lt) and is_ordered(rt)):
            bad = lt if not is_ordered(lt) else rt
            self._error(
                Code.TYPE_MISMATCH,
                f"`{expr.op}` needs values with an order, but `{self._text(expr.left)}` is {describe(bad)}",
                expr.span,
                hint=_order_hint(bad),
            )
        return c.Compare(expr.op, left, right, BOOL, expr)

    def _compare_mismatch(self, expr: n.Expr, left: c.CheckedExpr, right: c.CheckedExpr, lt: Type, rt: Type) -> None:
        left_node = left.node or expr
        right_node = right.node or expr
        message = f"cannot compare `{self._text(left_node)}` ({lt}) with `{self._text(right_node)}` ({rt})"
        label = f"{describe(rt)}, not {describe(lt)}"
        self._error(
            Code.TYPE_MISMATCH,
            message,
            right_node.span,
            label=label,
            hint=mismatch_hint(lt, rt, right_node),
        )

    def _membership(self, expr: n.Membership) -> c.CheckedExpr:
        if expr.op == "contains":
            container = self.expr(expr.left, None, subject=True)
            ctype = self._current_type(container)
            if ctype == UNKNOWN and not self.env.facts_declared:
                element = self.expr(expr.right, None)
                self._refine(container, SetOf(element.type))
                return c.Membership(expr.op, container, element, BOOL, expr)
            element_expected = ctype.element if isinstance(ctype, SetOf) else None
            element = self.expr(expr.right, element_expected)
            if not isinstance(ctype, SetOf) and ctype != UNKNOWN:
                self._error(
                    Code.TYPE_MISMATCH,
                    f"`contains` needs a set on its left, but `{self._text(expr.left)}` is {describe(ctype)}",
                    expr.left.span,
                    hint="to test one value against several, write `x in {a, b}`",
                )
            elif isinstance(ctype, SetOf) and not comparable(ctype.element, element.type):
                self._error(
                    Code.TYPE_MISMATCH,
                    f"`{self._text(expr.left)}` is a {ctype}, "
                    f"but `{self._text(expr.right)}` is {describe(element.type)}",
                    expr.right.span,
                    label=describe(element.type),
                    hint=mismatch_hint(ctype.element, element.type, expr.right),
                )
            return c.Membership(expr.op, container, element, BOOL, expr)
        if self._is_unbound(expr.left) and not self._is_unbound(expr.right):
            right = self.expr(expr.right, None)
            rtype = self._current_type(right)
            left = self.expr(expr.left, rtype.element if isinstance(rtype, SetOf) else None, subject=True)
        else:
            left = self.expr(expr.left, None, subject=True)
            right = self.expr(expr.right, SetOf(self._current_type(left)))
        ltype, rtype = self._current_type(left), self._current_type(right)
        if isinstance(rtype, SetOf):
            self._refine(left, rtype.element)
            if not comparable(self._current_type(left), rtype.element):
                self._error(
                    Code.TYPE_MISMATCH,
                    f"`{self._text(expr.left)}` is {describe(ltype)}, but the set holds {rtype.element} values",
                    expr.right.span,
                    label=f"a set of {rtype.element}",
                    hint=mismatch_hint(ltype, rtype.element, expr.right),
                )
        elif rtype != UNKNOWN:
            self._error(
                Code.TYPE_MISMATCH,
                f"`{expr.op}` needs a set on its right, but `{self._text(expr.right)}` is {describe(rtype)}",
                expr.right.span,
                hint=f"write the choices as a set: `{self._text(expr.left)} {expr.op} {{a, b}}`",
            )
        return c.Membership(expr.op, left, right, BOOL, expr)

    def _between(self, expr: n.Between) -> c.CheckedExpr:
        value = self.expr(expr.value, None, subject=True)
        if self._current_type(value) == UNKNOWN:
            low = self.expr(expr.low, None)
            self._refine(value, low.type)
        vtype = self._current_type(value)
        low = self.expr(expr.low, vtype)
        high = self.expr(expr.high, vtype)
        for bound in (low, high):
            if not comparable(vtype, bound.type):
                self._compare_mismatch(expr, value, bound, vtype, bound.type)
        if not is_ordered(vtype):
            self._error(
                Code.TYPE_MISMATCH,
                f"`between` needs values with an order, but `{self._text(expr.value)}` is {describe(vtype)}",
                expr.value.span,
                hint=_order_hint(vtype),
            )
        return c.Between(value, low, high, BOOL, expr)

    def _bool_operand(self, expr: n.Expr) -> c.CheckedExpr:
        result = self.expr(expr, BOOL, subject=True)
        self._refine(result, BOOL)
        rtype = self._current_type(result)
        if rtype not in (BOOL, UNKNOWN):
            self._error(
                Code.TYPE_MISMATCH,
                f"`and`, `or` and `not` combine conditions, but `{self._text(expr)}` is {describe(rtype)}",
                expr.span,
                label=describe(rtype),
                hint=_condition_hint(rtype),
            )
        return result

    def _conditional(self, expr: n.Conditional, expected: Type | None) -> c.CheckedExpr:
        """`if c then a else b`: a condition, and two values of one type (their join: an int and a number
        give a number). Bare words in a branch are members of the expected enum, or of the other
        branch's (`if vip then gold else silver` where an output of the enum is set), or symbols."""
        condition = self.expr(expr.condition, BOOL, subject=True)
        self._refine(condition, BOOL)
        ctype = self._current_type(condition)
        if ctype not in (BOOL, UNKNOWN):
            self._error(
                Code.TYPE_MISMATCH,
                f"`if` needs a condition, but `{self._text(expr.condition)}` is {describe(ctype)}",
                expr.condition.span,
                label=describe(ctype),
                hint=_condition_hint(ctype),
            )
        then_value = self.expr(expr.then_value, expected, subject=expected is None)
        then_type = self._current_type(then_value)
        else_value = self.expr(expr.else_value, expected or (then_type if then_type != UNKNOWN else None))
        else_type = self._current_type(else_value)
        if then_type == UNKNOWN and else_type != UNKNOWN:
            self._refine(then_value, else_type)
        elif else_type == UNKNOWN and then_type != UNKNOWN:
            self._refine(else_value, then_type)
        joined = join(self._current_type(then_value), self._current_type(else_value))
        if joined is None:
            self._error(
                Code.TYPE_MISMATCH,
                f"the two values of `if ... then ... else` must have one type, but `then` gives "
                f"{describe(then_type)} and `else` {describe(else_type)}",
                expr.else_value.span,
                label=describe(else_type),
                labels=(Label(expr.then_value.span, describe(then_type)),),
                hint="give both values the same type; a condition with no value to give is a rule's `if`",
            )
            joined = UNKNOWN
        return c.Conditional(condition, then_value, else_value, joined, expr)

    def _arithmetic(self, expr: n.Arithmetic, expected: Type | None) -> c.CheckedExpr:
        left = self.expr(expr.left, None, subject=True)
        right = self.expr(expr.right, None, subject=True)
        lt, rt = self._current_type(left), self._current_type(right)
        # Schema-less facts take their type from the other operand: `monthly_spend * 12` is a number.
        if lt == UNKNOWN and rt != UNKNOWN:
            self._refine(left, NUMBER if expr.op in ("*", "/") and rt == DURATION else rt)
        elif rt == UNKNOWN and lt != UNKNOWN:
            self._refine(right, _other_operand_type(expr.op, lt))
        calculation = c.Arithmetic(expr.op, left, right, UNKNOWN, expr)
        result = self._arithmetic_type(calculation)
        if result == UNKNOWN and expected is not None:
            # `y = c + d` with `y: number`: the value the sum must give types its schema-less operands.
            self._refine_operands(calculation, expected)
            result = self._arithmetic_type(calculation)
        return dataclasses.replace(calculation, type=result)

    def _arithmetic_type(self, result: c.Arithmetic) -> Type:
        """The type of `left op right` from its operands' types so far; reports (once) an operation that
        makes no sense and then gives UNKNOWN."""
        lt, rt = self._current_type(result.left), self._current_type(result.right)
        typed = arithmetic_result(result.op, lt, rt)
        if typed is not None:
            return typed
        node = result.node if isinstance(result.node, n.Arithmetic) else None
        verb = ops.BY_SPELLING[result.op].verb
        left, right = (self._text(node.left), self._text(node.right)) if node else ("this", "that")
        self._error_once(
            Code.TYPE_MISMATCH,
            f"cannot {verb} `{left}` ({lt}) and `{right}` ({rt})",
            node.span if node else None,
            hint="arithmetic works on numbers, durations (+ -), dates with durations, and number * duration",
        )
        return UNKNOWN

    def _negate(self, expr: n.Negate, expected: Type | None) -> c.CheckedExpr:
        operand = self.expr(expr.operand, expected, subject=True)
        otype = self._current_type(operand)
        if not (is_numeric(otype) or otype in (DURATION, UNKNOWN)):
            self._error(
                Code.TYPE_MISMATCH,
                f"cannot {ops.BY_SPELLING['-x'].verb} `{self._text(expr.operand)}` ({otype})",
                expr.span,
                hint="only numbers and durations have a sign",
            )
            otype = UNKNOWN
        return c.Negate(operand, otype, expr)

    def _call(self, expr: n.Call, expected: Type | None) -> c.CheckedExpr:
        """A built-in function call, typed by its table entry's type rule (core/operators.py).

        Schema-less facts among the arguments take their type from the other arguments
        (`max(spend, 10)`: a number), else from the value the call must give (`expected`: an action's
        output, the other side of a comparison), else from what it is compared with later
        (_refine_operands), else, once every rule is checked, they are numbers (settle). The type
        rule runs again after each of these, so a schema-less fact is never left to hold what the
        function cannot take.
        """
        args = tuple(self.expr(arg, None, subject=True) for arg in expr.args)
        function = ops.FUNCTIONS.get(expr.name)
        if function is None:
            self._error(
                Code.UNKNOWN_NAME,
                f"there is no function called `{expr.name}`",
                expr.name_span,
                hint=did_you_mean(expr.name, ops.FUNCTIONS)
                or "the functions are " + ", ".join(f"`{name}`" for name in ops.FUNCTIONS),
            )
            return c.Call(expr.name, args, UNKNOWN, expr)
        if len(args) < function.min_args or (function.max_args is not None and len(args) > function.max_args):
            self._error(
                Code.TYPE_MISMATCH,
                f"`{expr.name}` takes {function.arity}, but is given {len(args)}",
                expr.span,
                hint=f"write it as `{function.examples[0]}`",
            )
            return c.Call(expr.name, args, UNKNOWN, expr)
        known = [
            t
            for index, arg in enumerate(args)
            if _follows_result(function, index) and (t := self._current_type(arg)) != UNKNOWN
        ]
        for index, arg in enumerate(args):
            fixed = _parameter(function, index)
            if fixed is not None:
                self._refine(arg, fixed)
            elif known:
                self._refine(arg, known[0])
        call = c.Call(expr.name, args, UNKNOWN, expr)
        result = self._call_type(call)
        if result == UNKNOWN and expected is not None:
            self._refine_operands(call, expected)
            result = self._call_type(call)
        if result != UNKNOWN:
            self._check_constants(function, call)
        return dataclasses.replace(call, type=result)

    def _check_constants(self, function: ops.Function, call: c.Call) -> None:
        """A function's check of its constant arguments (a time zone's name), reported where the argument is."""
        check = function.constant_check
        if check is None:
            return
        refused = check([arg.value if isinstance(arg, c.Const) else None for arg in call.args])
        if refused is None:
            return
        node = call.node if isinstance(call.node, n.Call) else None
        where = None if node is None else node.span if refused.argument is None else node.args[refused.argument].span
        self._error_once(refused.code, refused.message, where, hint=refused.hint)

    def _call_type(self, call: c.Call) -> Type:
        """The call's type from its arguments' types so far (UNKNOWN while one is unknown); reports (once)
        a refusal of the function's type rule, pointed at the argument it names, and then gives UNKNOWN."""
        function = ops.FUNCTIONS.get(call.function)
        if function is None:
            return UNKNOWN  # already reported
        typed = function.type_rule(call.function, [self._current_type(arg) for arg in call.args])
        if not isinstance(typed, ops.Refusal):
            return typed
        node = call.node if isinstance(call.node, n.Call) else None
        where = None if node is None else node.span if typed.argument is None else node.args[typed.argument].span
        self._error_once(Code.TYPE_MISMATCH, typed.message, where, hint=typed.hint)
        return UNKNOWN

    # --- schema-less inference ---

    def _refine_operands(self, result: c.CheckedExpr, other: Type) -> None:
        """Give the schema-less facts inside an untyped calculation or call the type its result must have
        (`other`: what it is compared with, or the output it sets). When the calculation could not give
        that type with them (`min(e, f) == g`, `g` a word: `min` gives no text), it is a type-mismatch
        and the facts are left as they were."""
        if isinstance(result, c.Negate):  # `-x` has its operand's type
            self._refine_side(result.operand, other)
            return
        if not isinstance(result, c.Arithmetic | c.Call) or other == UNKNOWN:
            return
        if self._current_type(result) != UNKNOWN:
            return
        if other == INT:
            other = NUMBER  # as _refine: `max(a, b) > 5` says they are numbers, not that they are whole
        operands: tuple[c.CheckedExpr, ...]
        wanted: tuple[Type, ...]
        if isinstance(result, c.Call):  # min, max, abs: the arguments have the result's type
            function = ops.FUNCTIONS.get(result.function)
            if function is None:
                return
            operands = result.args
            if isinstance(function.type_rule(result.function, [self._current_type(x) for x in operands]), ops.Refusal):
                return  # refused as it is (reported by _call_type): no type to give its facts
            wanted = tuple(_parameter(function, i) or other for i in range(len(operands)))
            typed = function.type_rule(result.function, self._candidate(operands, wanted))
        else:  # `a + b` is a date when `a` is one and `b` a duration; `*` and `/` work on numbers
            operands = (result.left, result.right)
            if arithmetic_result(result.op, *(self._current_type(x) for x in operands)) is None:
                return  # refused as it is (reported by _arithmetic_type)
            wanted = (other, _other_operand_type(result.op, other)) if result.op in ("+", "-") else (NUMBER, NUMBER)
            typed = arithmetic_result(result.op, *self._candidate(operands, wanted)) or ops.Refusal("", "")
        if isinstance(typed, ops.Refusal) or not comparable(typed, other):
            self._cannot_be(result, other, typed if isinstance(typed, ops.Refusal) and typed.hint else None)
            return
        for operand, operand_type in zip(operands, wanted, strict=True):
            if self._current_type(operand) == UNKNOWN:
                self._refine(operand, operand_type)
                self._refine_operands(operand, operand_type)

    def _candidate(self, operands: tuple[c.CheckedExpr, ...], wanted: tuple[Type, ...]) -> list[Type]:
        """The operands' types if the untyped ones took the wanted types."""
        return [w if (t := self._current_type(x)) == UNKNOWN else t for x, w in zip(operands, wanted, strict=True)]

    def _cannot_be(self, result: c.Arithmetic | c.Call, wanted: Type, refused: ops.Refusal | None) -> None:
        """A calculation over schema-less facts that is used as a value it cannot give."""
        node = result.node
        if isinstance(result, c.Call):
            message = (
                f"`{self._text(node)}` is used as {describe(wanted)} here, but `{result.function}` cannot give one"
            )
            hint = refused.hint if refused else f"give `{result.function}` numbers or durations"
        else:
            message = (
                f"`{self._text(node)}` is used as {describe(wanted)} here, "
                "but arithmetic over facts whose types are not declared cannot give one"
            )
            hint = "declare the facts' types in an `input` block"
        if wanted == STRING:
            hint += "; a bare word on the other side of a comparison is text, not a fact"
        self._error_once(Code.TYPE_MISMATCH, message, node.span if node else None, label=describe(wanted), hint=hint)

    def settle(self, expr: c.CheckedExpr) -> None:
        """Once every rule is checked: schema-less facts that are still untyped where they are computed
        with (a function's arguments, arithmetic, a negation) take the type of the other operands, or
        else are numbers; a function or operator that their final types do not fit is reported here
        (its types may have been fixed by a rule checked after it). Facts validation then refuses a
        value of another type, as for a declared fact, instead of computing with it."""
        for node in c.walk([expr]):
            if isinstance(node, c.Call):
                if node.function not in ops.FUNCTIONS or self._call_type(node) != UNKNOWN:
                    continue
                known = [t for arg in node.args if (t := self._current_type(arg)) != UNKNOWN]
                self._refine_operands(node, known[0] if known else NUMBER)
                self._call_type(node)
            elif isinstance(node, c.Arithmetic):
                lt, rt = self._current_type(node.left), self._current_type(node.right)
                if lt == UNKNOWN and rt == UNKNOWN:
                    self._refine_operands(node, NUMBER)
                elif lt == UNKNOWN:
                    self._refine_side(node.left, NUMBER if node.op in ("*", "/") and rt == DURATION else rt)
                elif rt == UNKNOWN:
                    self._refine_side(node.right, _other_operand_type(node.op, lt))
                self._arithmetic_type(node)
            elif isinstance(node, c.Negate) and self._current_type(node.operand) == UNKNOWN:
                self._refine_side(node.operand, NUMBER)

    def _refine_side(self, operand: c.CheckedExpr, t: Type) -> None:
        """Type one schema-less operand, a fact or a calculation over facts."""
        if t == UNKNOWN or self._current_type(operand) != UNKNOWN:
            return
        self._refine(operand, t)
        self._refine_operands(operand, t)

    def _is_unbound(self, expr: n.Expr) -> bool:
        if not isinstance(expr, n.Name) or len(expr.parts) != 1:
            return False
        return self._lookup(expr.parts[0], expr) is None

    def _current_type(self, result: c.CheckedExpr) -> Type:
        """The expression's type so far: a schema-less fact's as inferred until now, and a calculation or
        call typed before its schema-less operands were, from their types now (without reporting)."""
        if isinstance(result, c.FactRef) and result.name in self.env.inferred_facts:
            return self.env.inferred_facts[result.name].type
        if result.type != UNKNOWN:
            return result.type
        if isinstance(result, c.Arithmetic):
            return (
                arithmetic_result(result.op, self._current_type(result.left), self._current_type(result.right))
                or UNKNOWN
            )
        if isinstance(result, c.Negate):
            operand = self._current_type(result.operand)
            return operand if is_numeric(operand) or operand == DURATION else UNKNOWN
        if isinstance(result, c.Conditional):
            return join(self._current_type(result.then_value), self._current_type(result.else_value)) or UNKNOWN
        if isinstance(result, c.Call) and result.function in ops.FUNCTIONS:
            typed = ops.FUNCTIONS[result.function].type_rule(
                result.function, [self._current_type(arg) for arg in result.args]
            )
            return UNKNOWN if isinstance(typed, ops.Refusal) else typed
        return result.type

    def _refine(self, result: c.CheckedExpr, other: Type) -> None:
        """Fix or widen the type of a schema-less fact from how it is used here."""
        if not isinstance(result, c.FactRef) or result.name not in self.env.inferred_facts or other == UNKNOWN:
            return
        inferred = self.env.inferred_facts[result.name]
        if other == INT:
            other = NUMBER  # `spend > 100` says spend is a number, not that it is whole
        if inferred.type == UNKNOWN:
            inferred.type = other
            inferred.span = result.node.span if result.node else inferred.span
            return
        joined = join(inferred.type, other)
        if joined is None:
            self._error(
                Code.TYPE_MISMATCH,
                f"fact `{result.name}` is used as {describe(other)} here, but as {describe(inferred.type)} before",
                result.node.span if result.node else None,
                labels=(Label(inferred.span, f"used as {describe(inferred.type)} here"),),
                hint="a fact has one type; declare it in an `input` block to say which",
            )
        else:
            inferred.type = joined

    # --- helpers ---

    def _text(self, node: n.Expr | None) -> str:
        if node is None or node.span.file != self.source.name:
            return "this"
        text = " ".join(self.source.text[node.span.start : node.span.end].split())
        return text if len(text) <= 40 else text[:37] + "..."

    def _error(self, code: Code, message: str, span: Span | None, **extra: object) -> None:
        self.diagnostics.append(error(code, message, span, **extra))

    def _error_once(self, code: Code, message: str, span: Span | None, **extra: object) -> None:
        """An error that a later look at the same expression (settle) would find again: reported once per span."""
        if span is not None and any(d.code == code and d.span == span for d in self.diagnostics):
            return
        self._error(code, message, span, **extra)


def _other_operand_type(op: str, known: Type) -> Type:
    """What a schema-less fact must be to sit on the right of `known op fact`."""
    if op in ("*", "/"):
        return NUMBER
    if known in (DATE, DATETIME):
        return DURATION
    return known


def _condition_hint(t: Type) -> str | None:
    if t == STRING or isinstance(t, EnumOf):
        return "compare it with a value, such as `x == y`"
    if is_numeric(t) or t == DURATION:
        return "compare it with a value, such as `x > 10`"
    if isinstance(t, SetOf):
        return 'test membership with `contains`, such as `tags contains "vip"`'
    return None


def _order_hint(t: Type) -> str:
    if t == STRING:
        return "strings have no order; compare them with `==`, `!=` or `in {...}`"
    if t == BOOL:
        return "compare bools with `==`, or use the condition itself"
    if isinstance(t, SetOf):
        return "test sets with `contains` or `==`"
    return "use `==` or `!=`"


def mismatch_hint(expected: Type, got: Type, node: n.Expr) -> str | None:
    """What to write instead when `node`, of type `got`, stands where a `expected` is wanted (None: no advice)."""
    if expected == DURATION and is_numeric(got):
        return "write a duration such as `2y`, `30d` or `4h`"
    if isinstance(expected, EnumOf) and got == STRING:
        if isinstance(node, n.Literal) and isinstance(node.value, str):
            if node.value in expected.members:
                return f"enum members are written without quotes: `{node.value}`"
            suggestion = did_you_mean(node.value, expected.members)
            if suggestion:
                return f"enum members are written without quotes; {suggestion}"
        return "expected one of: " + ", ".join(f"`{m}`" for m in expected.members)
    if isinstance(expected, EnumOf) and isinstance(got, EnumOf):
        return "these are two different enums; compare each with its own members"
    if expected == STRING and is_numeric(got):
        return 'write the value in quotes, such as `"42"`'
    if is_numeric(expected) and got == STRING:
        return "numbers are written without quotes"
    if expected == BOOL and got == STRING:
        return "write `true` or `false` without quotes"
    if expected == DURATION and got == STRING:
        return "write a duration literal without quotes, such as `2y`"
    return None


def _parameter(function: ops.Function, index: int) -> Type | None:
    """The type the function fixes for its argument `index` (`year` reads a datetime), or None."""
    return function.parameters[index] if index < len(function.parameters) else None


def _follows_result(function: ops.Function, index: int) -> bool:
    """Whether argument `index` has the type of the others (`min`), rather than one of its own."""
    return _parameter(function, index) is None
