"""Hypothesis strategies for random, valid-by-construction ASTs (`nodes.PolicyFile`) of every construct.

Every tree drawn here is one the parser itself could produce, so `parse(format_tree(tree)).tree ==
tree` is a fair property:

- `and` never sits directly inside `and` (nor `or` inside `or`): the parser keeps chains flat, even
  through parentheses;
- `Negate` never wraps a non-negative int, number or duration literal: the parser folds `-5` and
  `-(5)` into the literal `-5` (negative literals are drawn directly instead), but folds only once,
  so `-(-5)` is a Negate of the literal `-5`;
- names are never reserved keywords (read from NAME's regex in grammar.lark) nor contextual ones;
- `Literal.raw` is None, so the formatter prints the canonical spelling of every value;
- expressions nest at most `MAX_EXPR_DEPTH` deep, far below the parser's limit of 100.
"""

from __future__ import annotations

import functools
import string
from datetime import UTC
from decimal import Decimal

from hypothesis import strategies as st

from policylang.core.operators import FUNCTIONS
from policylang.core.values import Duration
from policylang.syntax import keywords
from policylang.syntax import nodes as n

MAX_EXPR_DEPTH = 4


RESERVED = frozenset(keywords.RESERVED)
CONTEXTUAL = frozenset(keywords.CONTEXTUAL)
KEYWORDS = RESERVED | CONTEXTUAL

_NAME_START = string.ascii_letters + "_"
_NAME_REST = string.ascii_letters + string.digits + "_"

_plain_names = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(_NAME_START),
    st.text(alphabet=_NAME_REST, max_size=8),
)
# Names that begin with a keyword (`notify`, `index`, `iffy`, `island`, `thenx`, `now_`) are the
# ones a lexer gets wrong, so they are drawn often.
_keyword_prefixed = st.builds(
    lambda word, tail: word + tail,
    st.sampled_from(sorted(KEYWORDS)),
    st.text(alphabet=_NAME_REST, min_size=1, max_size=3),
)
names = st.one_of(_plain_names, _keyword_prefixed).filter(lambda s: s not in KEYWORDS)

# --- literals -------------------------------------------------------------------------------------

_interesting_chars = st.sampled_from(
    ['"', "\\", "\n", "\t", "\r", "\0", "#", "{", "}", "\x7f", "\x1b", "é", "ß", "\u2028", "\u00a0", "💥", "\ufeff"]
)
strings = st.text(alphabet=st.one_of(st.characters(exclude_categories=["Cs"]), _interesting_chars), max_size=12)

_ints = st.one_of(st.integers(min_value=-1000, max_value=1000), st.integers(min_value=-(10**30), max_value=10**30))
_decimals = st.one_of(
    st.builds(
        lambda mantissa, places: Decimal(mantissa).scaleb(-places),
        st.integers(min_value=-(10**15), max_value=10**15),
        st.integers(min_value=0, max_value=8),
    ),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9),
)


def _duration(months: int, seconds: int, negative: bool) -> Duration:
    return Duration(-months, -seconds) if negative else Duration(months, seconds)


_months = st.one_of(st.just(0), st.integers(min_value=0, max_value=2400))
_seconds = st.one_of(st.just(0), st.integers(min_value=0, max_value=10**10))
# The parser only makes durations whose parts share a sign: `1y6mo` or, folded, `-1y6mo`.
_durations = st.builds(_duration, _months, _seconds, st.booleans())


def _negative_decimal(value: Decimal) -> Decimal:
    return value.copy_abs().copy_negate() if value else Decimal("-0.5")  # copy_*: exact, never rounded


_folded_literals = st.one_of(
    st.builds(n.Literal, kind=st.just("int"), value=_ints),
    st.builds(n.Literal, kind=st.just("number"), value=_decimals),
    st.builds(n.Literal, kind=st.just("duration"), value=_durations),
)
_other_literals = st.one_of(
    st.builds(n.Literal, kind=st.just("string"), value=strings),
    st.builds(n.Literal, kind=st.just("bool"), value=st.booleans()),
    st.builds(n.Literal, kind=st.just("date"), value=st.dates()),
    st.builds(n.Literal, kind=st.just("datetime"), value=st.datetimes(timezones=st.just(UTC))),
)
literals = st.one_of(_folded_literals, _other_literals)

qualified_names = st.builds(n.Name, parts=st.lists(names, min_size=1, max_size=3).map(tuple))
leaves = st.one_of(qualified_names, literals, st.builds(n.Now))
# What `-x` may wrap directly: the parser folds `-5`, `-0.5` and `-2d` (also `-(5)`) into negative
# literals, but folds only once, so `-(-5)` is a Negate of the literal `-5`.
_negatable_leaves = st.one_of(
    qualified_names,
    _other_literals,
    st.builds(n.Now),
    st.builds(n.Literal, kind=st.just("int"), value=_ints.map(lambda v: -abs(v) or -1)),
    st.builds(n.Literal, kind=st.just("number"), value=_decimals.map(_negative_decimal)),
    st.builds(
        n.Literal,
        kind=st.just("duration"),
        value=st.builds(_duration, _months, st.integers(min_value=1, max_value=10**10), st.just(True)),
    ),
)

# --- expressions ----------------------------------------------------------------------------------


def expressions(depth: int = MAX_EXPR_DEPTH) -> st.SearchStrategy[n.Expr]:
    """Any expression, at most `depth` nodes deep."""
    return _expressions(depth, None)


@functools.cache
def _expressions(depth: int, exclude: str | None) -> st.SearchStrategy[n.Expr]:
    """Expressions at most `depth` deep; `exclude` leaves out what may not appear in some slot.

    `exclude` is "and" or "or" for the operands of a BoolOp (chains are flat), or "negate" for the
    operand of a Negate (no non-negative int, number or duration literal). Choosing from smaller unions, rather
    than filtering, keeps generation fast and the strategies' reprs short.
    """
    if depth <= 1:
        return _negatable_leaves if exclude == "negate" else leaves
    sub = _lazy(depth - 1, None)
    options: list[st.SearchStrategy[n.Expr]] = [
        st.builds(n.SetLiteral, elements=st.lists(sub, max_size=3).map(tuple)),
        st.builds(n.Compare, op=st.sampled_from(n.COMPARE_OPS), left=sub, right=sub),
        st.builds(n.Membership, op=st.sampled_from(n.MEMBERSHIP_OPS), left=sub, right=sub),
        st.builds(n.Between, value=sub, low=sub, high=sub),
        st.builds(n.Presence, target=sub, missing=st.booleans()),
        st.builds(n.Not, operand=sub),
        st.builds(n.Arithmetic, op=st.sampled_from(n.ARITH_OPS), left=sub, right=sub),
        st.builds(n.Negate, operand=_lazy(depth - 1, "negate")),
        st.builds(
            n.Call,
            name=st.one_of(st.sampled_from(sorted(FUNCTIONS)), names),
            args=st.lists(sub, max_size=3).map(tuple),
        ),
        st.builds(n.Conditional, condition=sub, then_value=sub, else_value=sub),
    ]
    for op in ("and", "or"):
        if exclude != op:
            operands = st.lists(_lazy(depth - 1, op), min_size=2, max_size=4).map(tuple)
            options.append(st.builds(n.BoolOp, op=st.just(op), operands=operands))
    return st.one_of(_negatable_leaves if exclude == "negate" else leaves, *options)


def _lazy(depth: int, exclude: str | None) -> st.SearchStrategy[n.Expr]:
    return st.deferred(lambda: _expressions(depth, exclude))


# --- types, actions, declarations -----------------------------------------------------------------

types = st.recursive(
    st.one_of(
        st.builds(n.SimpleType, name=names),
        st.builds(n.EnumType, members=st.lists(names, min_size=1, max_size=5).map(tuple)),
    ),
    lambda inner: st.builds(n.SetType, element=inner),
    max_leaves=3,
)

_small_exprs = expressions(3)

actions = st.one_of(
    st.builds(n.FlagAction, output=names, value=st.booleans()),
    st.builds(n.SetAction, output=names, value=_small_exprs),
    st.builds(n.AddAction, output=names, value=_small_exprs),
)

headers = st.builds(n.Header, name=names, description=st.none() | strings)

imports = st.one_of(
    st.builds(n.Import, module=st.lists(names, min_size=1, max_size=3).map(tuple), alias=st.none() | names),
    st.builds(n.Import, path=strings, alias=st.none() | names),
)

_resolutions = st.sampled_from(["unique", "first", "priority", "min", "max", "any", "all", "union"])

input_decls = st.builds(n.InputDecl, name=names, type=types, optional=st.booleans(), default=st.none() | _small_exprs)
output_decls = st.builds(
    n.OutputDecl,
    name=names,
    type=types,
    optional=st.booleans(),
    default=st.none() | _small_exprs,
    resolve=st.none() | _resolutions | names,
)
input_blocks = st.builds(n.InputBlock, fields=st.lists(input_decls, max_size=4).map(tuple))
output_blocks = st.builds(n.OutputBlock, fields=st.lists(output_decls, max_size=4).map(tuple))

segments = st.builds(n.Segment, name=names, condition=expressions())
lets = st.builds(n.Let, name=names, value=expressions())

_priorities = st.integers(min_value=-1000, max_value=1000) | st.integers(min_value=-(10**20), max_value=10**20)
_actions = st.lists(actions, min_size=1, max_size=3).map(tuple)

named_rules = st.builds(
    n.Rule,
    name=names,
    condition=expressions(),
    actions=_actions,
    priority=st.none() | _priorities,
    because=st.none() | strings,
)
anonymous_rules = st.builds(
    n.Rule, name=st.none(), condition=expressions(), actions=_actions, because=st.none() | strings
)

declarations = st.one_of(imports, input_blocks, output_blocks, segments, lets, named_rules, anonymous_rules)


def policy_files(max_items: int = 8) -> st.SearchStrategy[n.PolicyFile]:
    """A whole file: an optional header, then up to `max_items` declarations of any kind, in any order."""
    return st.deferred(
        lambda: st.builds(
            n.PolicyFile, header=st.none() | headers, items=st.lists(declarations, max_size=max_items).map(tuple)
        )
    )
