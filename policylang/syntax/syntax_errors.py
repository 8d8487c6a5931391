"""Lark's parse errors -> syntax-error diagnostics in the language's words, with hints for common mistakes."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..core.diagnostics import Code, Diagnostic, Label, did_you_mean, error
from ..core.operators import FUNCTIONS
from ..core.source import SourceFile, Span
from .keywords import ITEM_KEYWORDS, RESERVED

# What each regex terminal is, in words (string terminals are shown as their text in backticks).
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "SIGNED_INT": "a whole number",
    "DECIMAL": "a number",
    "DURATION": "a duration",
    "DATE": "a date",
    "DATETIME": "a date and time",
    "TIME": "a time of day",
    "COMPARE_OP": "a comparison such as `==`",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "$END": "the end of the file",
}
_EXPRESSION_START = {
    "NAME", "INT", "DECIMAL", "STRING", "DURATION", "DATE", "DATETIME", "TIME", "TRUE", "FALSE", "LPAR",
}  # fmt: skip
_ITEM_KEYWORDS = {word.upper() for word in ITEM_KEYWORDS}
_OPERATOR_WORDS = {
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "and",
    "or",
    "not",
    "in",
    "contains",
    "between",
}
"""What comes before a conditional value that must be in parentheses (`x > if ...`)."""
_KEYWORD_TYPES = {word.upper() for word in RESERVED}
_UNIT_WORDS = re.compile(r"(?:year|yr|month|mon|week|wk|day|hour|hr|minute|min|second|sec)s?$", re.IGNORECASE)
_UNIT_LETTER = {
    "year": "y", "yr": "y", "month": "mo", "mon": "mo", "week": "w", "wk": "w", "day": "d",
    "hour": "h", "hr": "h", "minute": "m", "min": "m", "second": "s", "sec": "s",
}  # fmt: skip


def describe_syntax_error(exc: UnexpectedInput, source: SourceFile, patterns: Mapping[str, str]) -> Diagnostic:
    """One `syntax-error` diagnostic for a Lark error: where, what was found, what fits there, and a hint."""
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_character(exc, source)
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(exc, source, patterns)
    if isinstance(exc, UnexpectedEOF):
        return _at_end(set(exc.expected), source, patterns)
    return error(Code.SYNTAX_ERROR, "this cannot be parsed", source.span(0), hint="check the syntax near here")


def _token_span(token: Token, source: SourceFile) -> Span:
    start = token.start_pos or 0
    end = token.end_pos if token.end_pos is not None else start + len(str(token))
    return source.span(start, max(end, start + 1) if start < len(source.text) else start)


def _found(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    text = str(token)
    if len(text) > 30:
        text = text[:27] + "..."
    return f"`{text}`"


def describe_expected(expected: set[str], patterns: Mapping[str, str]) -> str:
    """The expected terminals as a short phrase: "`then`", "an expression", "`,` or `}`"."""
    expected = set(expected)
    phrases: list[str] = []
    if {"NAME", "INT", "STRING"} <= expected:
        phrases.append("an expression")
        expected -= _EXPRESSION_START | {"MINUS", "NOT", "NOW", "LBRACE", "SET", "ENUM"}
    if {"ENUM", "SET", "NAME"} <= expected:
        phrases.append("a type such as `int`, `enum(a, b)` or `set[string]`")
        expected -= {"ENUM", "SET", "NAME"}
    if expected & _ITEM_KEYWORDS and len(expected & _ITEM_KEYWORDS) >= 4:
        phrases.append("a new item (`rule`, `if`, `segment`, `let`, `input`, `output` or `import`)")
        expected -= _ITEM_KEYWORDS | {"$END"}
    # Operators that could continue an expression are noise next to the real alternatives.
    operators = {"COMPARE_OP", "ADD_OP", "MUL_OP", "AND", "OR", "IN", "NOT", "CONTAINS", "BETWEEN", "IS", "DOT"}
    if expected - operators:
        expected -= operators
    for name in sorted(expected, key=_expected_order):
        if name in patterns:
            phrases.append(f"`{patterns[name]}`")
        else:
            phrases.append(_TERMINAL_WORDS.get(name, name.lower()))
    phrases = list(dict.fromkeys(phrases))
    if not phrases:
        return "something else"
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _expected_order(name: str) -> tuple[int, str]:
    order = ["THEN", "COLON", "EQUAL", "RBRACE", "RPAR", "RSQB", "COMMA", "NAME", "STRING"]
    return (order.index(name) if name in order else len(order), name)


def _previous_token_text(source: SourceFile, offset: int) -> str:
    """The token just before `offset`, skipping whitespace and comments (punctuation stands alone)."""
    window = source.text[max(0, offset - 400) : offset]
    window = _STRING_OR_COMMENT.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", window)
    match = re.search(r"([A-Za-z_0-9.]+|[^\sA-Za-z_0-9])\s*$", window)
    return match.group(1) if match else ""


_RANGE = re.compile(r"\[[ \t]*([\w.:+-]+?)[ \t]*\.\.\.?[ \t]*([\w.:+-]+?)[ \t]*\]")
"""`[1..5]`, `[1...5]`, `[2024-01-01..2024-12-31]`: a range as other languages write it."""


def _subject_before_in(source: SourceFile, offset: int) -> str:
    """The name before `in` in `x in [...]` (a dotted name too), or `x` when it is something else."""
    window = source.text[max(0, offset - 200) : offset]
    match = re.search(r"([A-Za-z_][\w.]*)\s+in\s*$", window)
    return match.group(1) if match else "x"


STRING_OR_COMMENT = r'"(?:[^"\\\n]|\\.)*+"?|#[^\n]*'
"""A string or a comment, as a regex that scans in linear time: the possessive `*+` never gives back
what it has read, so an unterminated string (`"\\"\\"\\"...`) is read once, to the end of its line,
instead of once from every quote inside it (which was quadratic: 55 s for 128 KB)."""

_STRING_OR_COMMENT = re.compile(STRING_OR_COMMENT)


def _unexpected_token(exc: UnexpectedToken, source: SourceFile, patterns: Mapping[str, str]) -> Diagnostic:
    token = exc.token
    expected = set(exc.expected or exc.accepts or ())
    if token.type == "$END":
        return _at_end(expected, source, patterns)
    span = _token_span(token, source)
    found = _found(token)
    previous = _previous_token_text(source, token.start_pos or 0)

    text = source.text
    start = token.start_pos or 0
    if str(token) == "=" and previous == "=" and "COMPARE_OP" not in expected:
        return error(
            Code.SYNTAX_ERROR,
            "an action sets an output with `=`; `==` compares",
            source.span(start - 1, start + 1),
            hint="write `name = value` after `then`",
        )
    if str(token) == ">" and previous == "<":
        return error(Code.SYNTAX_ERROR, "`<>` is not an operator", source.span(start - 1, start + 1), hint="use `!=`")
    if token.type == "NOT" and previous == "is":
        return error(Code.SYNTAX_ERROR, "`is not missing` is not a test", span, hint="write `is present`")
    if token.type == "NAME" and previous == "is" and str(token) in ("null", "None", "nil", "empty", "none"):
        return error(Code.SYNTAX_ERROR, f"`is {token}` is not a test", span, hint="write `is missing` or `is present`")
    if (
        token.type == "NAME"
        and re.fullmatch(r"\d[\d_]*\.\d+", previous)
        and re.fullmatch(r"y|mo|w|d|h|m|s", str(token))
    ):
        return error(
            Code.SYNTAX_ERROR,
            f"`{previous}{token}` is not a duration",
            source.span(start - len(previous), token.end_pos or start + 1),
            hint="durations use whole units: write `1y6mo` instead of `1.5y`, or `90m` instead of `1.5h`",
        )
    if token.type == "NAME" and re.fullmatch(r"\d[\d_]*", previous) and re.fullmatch(r"Y|MO|Mo|W|D|H|M|S", str(token)):
        return error(
            Code.SYNTAX_ERROR,
            f"`{previous}{token}` is not a duration",
            source.span(start - len(previous), token.end_pos or start + 1),
            hint=f"unit letters are lowercase: `{previous}{str(token).lower()}`",
        )
    if token.type == "LSQB":
        range_text = _RANGE.match(text, start)
        if range_text:  # `x in [1..5]` (Kotlin, Pascal, Ruby) means a range, not a set of two values
            low, high = range_text.group(1), range_text.group(2)
            subject = _subject_before_in(source, start) if previous == "in" else "x"
            return error(
                Code.SYNTAX_ERROR,
                f"`{range_text.group(0)}` is not a range",
                source.span(start, range_text.end()),
                hint=f"write `{subject} between {low} and {high}` (both ends included)",
            )
        return error(Code.SYNTAX_ERROR, "sets are written with braces", span, hint="write a set such as `{a, b}`")
    if token.type == "COLON" and re.fullmatch(r"\d", previous) and text[start + 1 : start + 3].isdigit():
        return error(
            Code.SYNTAX_ERROR,
            f"`{previous}:{text[start + 1 : start + 3]}` is not a time of day",
            source.span(start - 1, start + 3),
            hint=f"write the hour with two digits: `0{previous}:{text[start + 1 : start + 3]}`",
        )
    if token.type == "IF" and previous in _OPERATOR_WORDS:
        return error(
            Code.SYNTAX_ERROR,
            f"a value chosen by `if` needs parentheses after `{previous}`",
            span,
            hint="write `(if condition then a else b)`: it binds looser than any operator",
        )
    if "ELSE" in expected and "THEN" not in expected and token.type not in ("COMPARE_OP", "ADD_OP", "MUL_OP"):
        return error(
            Code.SYNTAX_ERROR,
            f"expected `else` and the other value, found {found}",
            span,
            hint="a value chosen by `if` always has both: `if condition then a else b`",
        )
    if token.type == "NAME" and previous == "because":
        return error(
            Code.SYNTAX_ERROR,
            "the reason after `because` is a string",
            span,
            hint=f'put it in double quotes: because "{token} ..."',
        )
    if token.type in _ITEM_KEYWORDS and _inside_brackets(source, token.start_pos or 0):
        unclosed = _unclosed_brace(source, token.start_pos or 0, span)
        if unclosed is not None:
            return unclosed
    keyword_as_name = token.type in _KEYWORD_TYPES and "NAME" in expected
    if keyword_as_name and previous not in ("then", ",") and not (expected & (_EXPRESSION_START - {"NAME"})):
        return error(
            Code.SYNTAX_ERROR,
            f"`{token}` is a keyword and cannot be a name",
            span,
            hint=f"choose another name, such as `{token}_1`",
        )
    if token.type == "COMPARE_OP" and "THEN" in expected:
        return error(Code.SYNTAX_ERROR, "comparisons cannot be chained", span, hint="write `a == b and b == c`")
    if str(token) == "=" and ("COMPARE_OP" in expected or "THEN" in expected):
        return error(
            Code.SYNTAX_ERROR,
            "`=` sets an output; a condition compares with `==`",
            span,
            label="use `==` here",
            hint="use `==` to compare",
        )
    if token.type == "NAME" and _UNIT_WORDS.fullmatch(str(token)) and re.fullmatch(r"\d[\d_]*", previous):
        unit = str(token).lower().rstrip("s")
        letter = _UNIT_LETTER.get(unit, "d")
        number_start = text.rfind(previous, 0, start)
        joined = number_start + len(previous) == start
        written = f"{previous}{token}" if joined else f"{previous} {token}"
        return error(
            Code.SYNTAX_ERROR,
            f"`{written}` is not a duration",
            source.span(number_start if number_start >= 0 else start, token.end_pos or start + 1),
            hint=f"write `{previous}{letter}`: a number and a unit letter, with no space",
        )
    if token.type == "ELSE" and "ELSE" not in expected:
        return error(
            Code.SYNTAX_ERROR,
            "a rule has no `else`: `else` belongs to a value chosen by `if ... then ... else`",
            span,
            hint="write a second rule with the opposite condition, or give the output a default; "
            "to choose a value, write `x = if condition then a else b`",
        )
    if token.type == "NAME" and str(token) in ("elif", "otherwise"):
        return error(
            Code.SYNTAX_ERROR,
            f"`{token}` is not part of the language",
            span,
            hint="write a second rule with the opposite condition, or give the output a default",
        )
    if token.type == "LPAR" and _DOTTED.fullmatch(previous):
        return _dotted_call(previous, source, start)
    parenthesis = _open_parenthesis(source, start)
    if parenthesis is not None:
        # LALR reports the error after reducing what came before, so its expected set can name `then`
        # or `}` although the mistake is inside the parentheses: words for that place instead.
        inside = _inside_parentheses(token, found, span, parenthesis, source)
        if inside is not None:
            return inside
    if "THEN" in expected:
        return error(
            Code.SYNTAX_ERROR,
            f"expected `then` after the condition, found {found}",
            span,
            label="`then` goes before this",
            hint="write `if CONDITION then ACTION`; combine conditions with `and` / `or`",
        )
    if previous in ("then", ",") and "NAME" in expected and "INT" not in expected:
        return error(
            Code.SYNTAX_ERROR,
            f"expected an action after `{previous}`, found {found}",
            span,
            hint="an action sets an output: `flag`, `not flag`, `name = value` or `name += {x}`",
        )
    if token.type in _ITEM_KEYWORDS and _inside_brackets(source, token.start_pos or 0):
        return _unclosed_brace(source, token.start_pos or 0, span) or error(
            Code.SYNTAX_ERROR, f"expected `}}`, found {found}", span, hint="close the block with `}`"
        )
    if "COLON" in expected and token.type == "IF":
        return error(
            Code.SYNTAX_ERROR,
            "expected `:` after the rule's name",
            span,
            hint="write `rule NAME:` or `rule NAME priority 10:` before the `if`",
        )
    if str(token) in ("&", "|", "!"):
        return _mistaken_operator(str(token), span)
    message = f"unexpected {found}, expected {describe_expected(expected, patterns)}"
    hint = None
    if token.type == "STRING" and "NAME" in expected and "INT" not in expected:
        hint = "names and enum members are written without quotes"
    elif token.type in _ITEM_KEYWORDS and expected & _EXPRESSION_START:
        hint = "the item above ends too early: something is missing before this line"
    elif "COMMA" in expected and token.type == "NAME":
        hint = "separate actions and set elements with `,`"
    return error(Code.SYNTAX_ERROR, message, span, hint=hint)


_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_CALLED = re.compile(r"([A-Za-z_]\w*)\s*$")
_FUNCTION_NAMES = ", ".join(f"`{name}`" for name in FUNCTIONS)


def _dotted_call(written: str, source: SourceFile, paren: int) -> Diagnostic:
    """`stdlib.max(a, 1)` or `a.max(1)`: functions belong to no module and no value."""
    start = source.text.rfind(written, 0, paren)
    name = written.rpartition(".")[2]
    if name in FUNCTIONS:
        hint = f"write `{name}(...)` with every value inside the parentheses, such as `{FUNCTIONS[name].examples[0]}`"
    else:
        hint = did_you_mean(name, FUNCTIONS) or f"the functions are {_FUNCTION_NAMES}"
    return error(
        Code.SYNTAX_ERROR,
        "functions are called by their name alone, not through a value or a module",
        source.span(start, paren + 1),
        label=f"`{written}` is not a function",
        hint=hint,
    )


def _open_parenthesis(source: SourceFile, offset: int) -> str | None:
    """None unless the innermost bracket open at `offset` is a `(`; then the name of the function it
    calls, or "" for grouping parentheses."""
    opened = _open_bracket(source, offset)
    if opened is None or opened[0] != "(":
        return None
    before = _CALLED.search(source.text, max(0, opened[1] - 100), opened[1])
    called = before.group(1) if before else None
    return "" if called is None or called in RESERVED else called


def _inside_parentheses(token: Token, found: str, span: Span, called: str, source: SourceFile) -> Diagnostic | None:
    """A token that cannot continue what is inside an open `(`: a second value with no `,` between
    (`max(a 1)`), or the rule going on (`then`) before the `)`."""
    if token.type in _ITEM_KEYWORDS or token.type == "THEN":
        return _unclosed_brace(source, token.start_pos or 0, span)
    if token.type not in _EXPRESSION_START | {"SIGNED_INT", "MINUS", "NOT", "NOW", "LBRACE"}:
        return None
    if called == "enum":
        return error(Code.SYNTAX_ERROR, "separate an enum's members with `,`", span, hint="write `enum(a, b)`")
    if called:
        example = FUNCTIONS[called].examples[0] if called in FUNCTIONS else f"{called}(a, b)"
        return error(
            Code.SYNTAX_ERROR,
            "separate a function's arguments with `,`",
            span,
            label="`,` goes before this",
            hint=f"write the arguments as `{example}`",
        )
    return error(
        Code.SYNTAX_ERROR,
        f"expected `)` or an operator, found {found}",
        span,
        hint="join the two with an operator such as `and` or `+`, or close the parentheses with `)`",
    )


def _at_end(expected: set[str], source: SourceFile, patterns: Mapping[str, str]) -> Diagnostic:
    end = len(source.text)
    span = source.span(end, end)
    if "RBRACE" in expected:
        unclosed = _unclosed_brace(source, end, span)
        if unclosed is not None:
            return unclosed
    if "THEN" in expected:
        return error(
            Code.SYNTAX_ERROR,
            "the file ends inside a rule: expected `then` after the condition",
            span,
            hint="write `if CONDITION then ACTION`",
        )
    return error(
        Code.SYNTAX_ERROR,
        f"the file ends too early: expected {describe_expected(expected, patterns)}",
        span,
        hint="finish the last item",
    )


def _inside_brackets(source: SourceFile, offset: int) -> bool:
    return _open_bracket(source, offset) is not None


_BRACKETS = re.compile(STRING_OR_COMMENT + r"|[{}()\[\]]")
_CLOSERS = {"}": "{", ")": "(", "]": "["}


def _unclosed_brace(source: SourceFile, offset: int, found_span: Span) -> Diagnostic | None:
    """Point at the `{`, `(` or `[` that is still open at `offset`, if any."""
    opened = _open_bracket(source, offset)
    if opened is None:
        return None
    bracket, start = opened
    closer = {"{": "}", "(": ")", "[": "]"}[bracket]
    at_end = offset >= len(source.text)
    return error(
        Code.SYNTAX_ERROR,
        f"unclosed `{bracket}`",
        source.span(start, start + 1),
        label="opened here",
        labels=() if at_end else (Label(found_span, f"expected `{closer}` before this"),),
        hint=f"add `{closer}` to close it",
    )


def _open_bracket(source: SourceFile, offset: int) -> tuple[str, int] | None:
    stack: list[tuple[str, int]] = []
    for match in _BRACKETS.finditer(source.text, 0, offset):
        text = match.group(0)
        if text in "{([":
            stack.append((text, match.start()))
        elif text in _CLOSERS and stack and stack[-1][0] == _CLOSERS[text]:
            stack.pop()
    return stack[-1] if stack else None


def _mistaken_operator(text: str, span: Span) -> Diagnostic:
    if text.startswith("&"):
        return error(Code.SYNTAX_ERROR, "`&&` is not an operator here", span, hint="use `and` to combine conditions")
    if text.startswith("|"):
        return error(Code.SYNTAX_ERROR, "`||` is not an operator here", span, hint="use `or` for alternatives")
    return error(Code.SYNTAX_ERROR, "`!` is not an operator here", span, hint="use `not` to negate, or `!=` to compare")


def _unexpected_character(exc: UnexpectedCharacters, source: SourceFile) -> Diagnostic:
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else 0
    text = source.text
    char = text[pos] if pos < len(text) else ""
    two = text[pos : pos + 2]
    span = source.span(pos, pos + 1)
    if two in ("&&", "||") or char in "&|":
        return _mistaken_operator(
            two if two in ("&&", "||") else char * 2, source.span(pos, pos + len(two.strip()) or 1)
        )
    if char == "!":
        return _mistaken_operator("!", span)
    if char == '"':
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end == -1 else line_end
        return error(
            Code.SYNTAX_ERROR,
            "unterminated string",
            source.span(pos, line_end),
            label='this string has no closing `"`',
            hint='close it with `"` on the same line; write `\\"` for a quote inside',
        )
    if char in "'\u201c\u201d\u2018\u2019":
        closer = {"'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}.get(char, char)
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end == -1 else line_end
        close = text.find(closer, pos + 1, line_end)
        end = close + 1 if close > pos else pos + 1
        inner = text[pos + 1 : end - 1] if end > pos + 1 else "text"
        curly = char != "'"
        return error(
            Code.SYNTAX_ERROR,
            "strings are written in straight double quotes",
            source.span(pos, end),
            hint=f'use straight double quotes: `"{inner}"`' if curly else f'write `"{inner}"`',
        )
    if char == "=":
        return error(
            Code.SYNTAX_ERROR,
            "`=` sets an output; a condition compares with `==`",
            span,
            label="use `==` here",
            hint="use `==` to compare",
        )
    if char == "\ufffd" or not char.isprintable():
        shown = f"U+{ord(char):04X}" if char else "end of file"
        return error(
            Code.SYNTAX_ERROR,
            f"unexpected character {shown}",
            span,
            hint="this looks like binary data; a policy is UTF-8 text",
        )
    if char.isdigit():
        return error(Code.SYNTAX_ERROR, f"unexpected number `{char}`", span, hint="check the literal here")
    return error(Code.SYNTAX_ERROR, f"unexpected character `{char}`", span, hint=_character_hint(char))


def _character_hint(char: str) -> str | None:
    return {
        ";": "statements need no `;`: each item starts with its keyword",
        "@": "`@` is not part of the language",
        "$": "names are written without `$`",
        "%": "write percentages as decimals, such as `0.15`",
        "<": "use `<`, `<=` or `!=`",
    }.get(char)
