"""Explanations: a decision's trace (and why-not answers) rendered for people, or as JSON for tools.

The trace is data (trace.py); this module only renders it. Text is a tree per output (text_tree.py
draws it, wrapped to the width, coloured on a terminal and plain when it is not); in a summary
(`Trace.detail`), the rules that matched, the nearest misses and a count of the rest. Markdown
and one self-contained HTML file are for reports an auditor can archive or print; JSON is the
`Explanation` model, whose schema (`explanation_schema()`, docs/explanation.schema.json) tools
can rely on.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from ..core.resolution import RESOLUTIONS, Prefer, resolution_of
from ..core.spelling import spell
from ..engine.answers import ConditionPart, OutputTrace, RuleTrace, Trace, WhyNot
from .text_tree import Node, Segment, draw
from .trace import NEAREST, Detail, conjunct_parts

if TYPE_CHECKING:
    from ..engine.evaluator import Decision


class Replay(BaseModel):
    """For a decision read back from a decision log: the record, and whether deciding again agrees."""

    model_config = ConfigDict(frozen=True)

    decision_id: str
    recorded_at: str
    differences: list[str] = []
    """How the replayed decision differs from the record; empty when it reproduces it exactly."""


class Explanation(BaseModel):
    """Everything `policy explain` says, as data. The JSON shape of `policy explain --format json`."""

    model_config = ConfigDict(frozen=True)

    format: Literal["policylang.explanation/1"] = "policylang.explanation/1"
    decision: dict[str, Any]
    """The decision as `policy eval --format json` prints it (outputs, fired, policy, as_of; `id` when logged)."""
    trace: Trace
    why_not: list[WhyNot] = []
    replay: Replay | None = None


def explanation(
    decision: Decision,
    *,
    why_not: Iterable[str] = (),
    replay: Replay | None = None,
    outputs: Iterable[str] | None = None,
    detail: Detail = "auto",
) -> Explanation:
    """The explanation of a decision made by a policy still at hand (`decision.policy`); with
    `outputs`, of those outputs only (a trace of the others is not even made). `detail`: "full",
    "summary" or "auto" (`Policy.trace`): a summary traces only the rules it shows."""
    return Explanation(
        decision=decision.to_dict(),
        trace=decision.trace(outputs, detail=detail),
        why_not=[decision.why_not(wanted) for wanted in why_not],
        replay=replay,
    )


def explain_text(
    decision: Decision,
    *,
    width: int | None = 100,
    why_not: Iterable[str] = (),
    outputs: Iterable[str] | None = None,
    detail: Detail = "auto",
) -> str:
    return render_text(explanation(decision, why_not=why_not, outputs=outputs, detail=detail), width=width)


def explanation_schema() -> dict[str, Any]:
    """The JSON schema of `policy explain --format json` (kept in docs/explanation.schema.json)."""
    return Explanation.model_json_schema()


def render_json(explained: Explanation, indent: int | None = 2) -> str:
    return json.dumps(explained.model_dump(mode="json"), indent=indent, ensure_ascii=False)


# --- words ---------------------------------------------------------------------------------------


def _phrase(resolution: str) -> str:
    """What a resolution does, in the words its RESOLUTIONS entry gives (the name, for one not declared)."""
    entry = RESOLUTIONS.get(resolution)
    return entry.phrase if entry is not None else resolution


def mark(result: bool | None) -> str:
    return {True: "✓", False: "✗", None: "?"}[result]


def headline(output: OutputTrace) -> tuple[str, str]:
    """(`sla = 4h`, how it got that value) for an output."""
    name = output.output
    if output.status == "value":
        rules = ", ".join(output.winners)
        how = f"set by {rules} ({output.resolution}: {_phrase(output.resolution)})"
        return f"{name} = {spell(output.value)}", how
    if output.status == "default":
        return f"{name} = {spell(output.value)}", "the default: no rule that sets it matched"
    if output.status == "conflict":
        clash = ", ".join(output.conflicting)
        return f"{name}: conflict", f"{clash} disagree and `resolve {output.resolution}` cannot choose"
    return f"{name}: no value", "no rule that sets it matched, and it has no default"


def rule_line(rule: RuleTrace, output: OutputTrace, *, counted: bool = False) -> str:
    """What became of one rule for one output (`counted`: say how many of its parts failed)."""
    where = f"({rule.location})"
    priority = f" priority {rule.priority}" if resolution_of(output.resolution).prefer is Prefer.HIGHER_PRIORITY else ""
    if not rule.matched:
        failed, parts = "", len(conjunct_parts(rule.condition))
        if counted and parts > 1:
            failed = f": {rule.misses} of its {parts} condition parts failed"
        return f"{mark(False)} {rule.rule}{priority} did not match{failed}, so `{rule.sets}` did not apply {where}"
    value = spell(rule.proposes)
    computed = "=" in rule.sets and not rule.sets.endswith((f"= {value}", f'= "{value}"'))
    proposed = f"`{rule.sets}`" + (f" → {value}" if computed else "")
    if rule.rule in output.conflicting:
        fate = "in conflict"
    elif rule.rule in output.winners:
        fate = "chosen"
    elif rule.rule in output.overridden:
        by = f" by {', '.join(output.winners)}" if output.winners else ""
        fate = f"overridden{by}: {_phrase(output.resolution)}"
    elif rule.proposes is None:
        fate = "proposed nothing: its value reads a missing fact"
    else:
        fate = "agrees with the value"
    return f"{mark(True)} {rule.rule}{priority} matched: {proposed}, {fate} {where}"


NEAREST_HEADING = f"nearest misses (up to {NEAREST}): the rules that failed by the fewest condition parts"


def others_line(output: OutputTrace) -> str:
    """The count a summary gives of the rules it does not list."""
    rules = "rule" if output.others == 1 else "rules"
    more = " other" if output.rules else ""
    return (
        f"… and {output.others:,}{more} {rules} that can set `{output.output}` did not apply"
        " (the full explanation lists every rule)"
    )


def shown_rules(output: OutputTrace, summary: bool) -> list[tuple[RuleTrace, list[ConditionPart]]]:
    """Per rule listed under the output, in order, the condition parts to show under it: all of
    it; in a summary, for a nearest miss only its parts that failed (`conjunct_parts`), and for an
    overridden rule none (its line says it matched, and which rule overrode it)."""
    shown = []
    for rule in output.rules:
        if not summary:
            parts = [rule.condition]
        elif not rule.matched:
            parts = [part for part in conjunct_parts(rule.condition) if part.result is not True]
        else:
            parts = [] if rule.rule in output.overridden else [rule.condition]
        shown.append((rule, parts))
    return shown


def part_pieces(part: ConditionPart) -> tuple[str, str, str]:
    """(mark, the part's text, what it read) for one part of a condition."""
    if part.error is not None:
        return "·", part.text, f"not evaluated ({part.error}); the decision did not need it"
    if part.kind in ("and", "or", "not"):
        return mark(part.result), part.text, ""
    if part.kind == "segment":
        # A segment read again is shown in full only the first time (trace.py).
        return mark(part.result), part.text, "(segment)" if part.parts else "(segment, shown above)"
    reads = "; ".join(f"{name} is {spell(value)}" for name, value in part.reads.items())
    if part.result is None:
        reads += " (unknown: it reads a missing fact)"
    return mark(part.result), part.text, reads.strip()


def part_line(part: ConditionPart) -> str:
    """One part of a condition with its result and the values it read."""
    sign, text, detail = part_pieces(part)
    return f"{sign} {text}   {detail}" if detail else f"{sign} {text}"


def header_lines(explained: Explanation) -> list[str]:
    trace = explained.trace
    lines = [f"Decision of {trace.policy} (version {trace.content_hash[:12]}) for {trace.as_of}"]
    decision_id = explained.decision.get("id")
    if decision_id:
        lines.append(f"Decision id: {decision_id}")
    facts = ", ".join(f"{name} = {spell(value)}" for name, value in trace.facts.items())
    lines.append(f"Facts: {facts or 'none'}")
    if trace.missing:
        lines.append(
            "Missing: "
            + ", ".join(trace.missing)
            + " (a condition that reads a missing fact is neither true nor false)"
        )
    read = _derived_read(trace)
    if read:
        lines.append("Segments and lets: " + ", ".join(f"{key} = {spell(trace.derived[key])}" for key in read))
    if trace.detail == "summary":
        lines.append(
            f"Summary: per output the rules that matched, the {NEAREST} nearest misses and a count of the"
            ' rest (the full explanation: policy explain --detail full, or explain(detail="full"))'
        )
    return lines


def replay_lines(replay: Replay | None) -> list[str]:
    if replay is None:
        return []
    lines = [f"Recorded {replay.recorded_at} as decision {replay.decision_id}."]
    if replay.differences:
        lines.append("WARNING: deciding again with the stored policy does NOT reproduce the record:")
        lines.extend(f"  - {difference}" for difference in replay.differences)
    else:
        lines.append("Replayed with the stored policy version: the same outputs and rules.")
    return lines


def _derived_read(trace: Trace) -> list[str]:
    """The segments and lets some shown condition reads, in the policy's order."""
    read: set[str] = set()
    stack = [rule.condition for output in trace.outputs for rule in output.rules]
    while stack:
        part = stack.pop()
        read.update(name for name in part.reads if name in trace.derived)
        stack.extend(part.parts)
    return [key for key in trace.derived if key in read]


# --- text ----------------------------------------------------------------------------------------


def render_text(explained: Explanation, *, width: int | None = 100, color: bool = False) -> str:
    """A tree per output, wrapped to `width` columns (None: the terminal's), coloured when asked."""
    if width is None:
        from rich.console import Console  # deferred: start-up (rich, only to find the terminal's width)

        width = Console().width
    lines: list[str] = []
    for line in replay_lines(explained.replay):
        lines += draw(Node([(line, "bold red" if line.startswith("WARNING") else "")]), width, color)
    header = header_lines(explained)
    top = Node([(header[0], "bold")])
    for line in header[1:]:
        top.add((line, ""))
    lines += draw(top, width, color)
    summary = explained.trace.detail == "summary"
    for output in explained.trace.outputs:
        value, how = headline(output)
        tree = Node([(value, "bold"), ("   ", ""), (how, "dim" if output.status != "conflict" else "red")])
        under: Node | None = None
        for rule, parts in shown_rules(output, summary):
            if summary and not rule.matched and under is None:
                under = tree.add((NEAREST_HEADING, "dim"))
            branch = (under or tree).add(*_marked(rule_line(rule, output, counted=summary)))
            if rule.because:
                branch.add((f'because "{rule.because}"', "italic"))
            for part in parts:
                _add_part(branch, part)
        if output.others:
            tree.add((others_line(output), "dim"))
        elif not output.rules:
            tree.add(("no rule sets it", "dim"))
        lines += ["", *draw(tree, width, color)]
    for answer in explained.why_not:
        tree = Node([(f"Why not {answer.output} = {answer.wanted}?", "bold")])
        tree.add((answer.summary, ""))
        for candidate, details in why_not_items(answer):
            branch = tree.add(*_marked(candidate))
            for line in details:
                branch.add((line, ""))
        lines += ["", *draw(tree, width, color)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


_MARK_STYLES = {"✓": "green", "✗": "red", "?": "yellow", "·": "dim"}


def _marked(line: str) -> tuple[Segment, ...]:
    """A line whose mark (✓ ✗ ? ·) is coloured."""
    style = _MARK_STYLES.get(line[:1])
    return ((line[0], style), (line[1:], "")) if style else ((line, ""),)


def _add_part(branch: Node, part: ConditionPart) -> None:
    node = branch.add(*_marked(part_line(part)))
    for inner in part.parts:
        _add_part(node, inner)


def why_not_items(answer: WhyNot) -> list[tuple[str, list[str]]]:
    """Per rule that can give the value: a line on it, and the lines of its changes."""
    items = []
    for candidate in answer.candidates:
        line = f"{mark(candidate.verified)} {candidate.rule}: {candidate.summary} ({candidate.location})"
        details = [change.text for change in candidate.changes]
        if candidate.verified and candidate.changes:
            details.append(f"checked: with {_changes(candidate.changes)}, {answer.output} is {answer.wanted}")
        items.append((line, details))
    return items


def _changes(changes: Iterable[Any]) -> str:
    return ", ".join(f"{c.fact} = {spell(c.to)}" for c in changes)


# --- Markdown ------------------------------------------------------------------------------------


def render_markdown(explained: Explanation) -> str:
    """Headings per output and nested lists for the rules and their conditions."""
    out: list[str] = [f"# Decision of {_code(explained.trace.policy)}", ""]
    for line in replay_lines(explained.replay):
        out.append(f"> {_plain_md(line)}" if line.startswith(("WARNING", "  -")) else _plain_md(line))
    out.extend(f"- {_plain_md(line)}" for line in header_lines(explained))
    summary = explained.trace.detail == "summary"
    for output in explained.trace.outputs:
        value, how = headline(output)
        out += ["", f"## {_code(value)}", "", _plain_md(how), ""]
        heading = False
        for rule, parts in shown_rules(output, summary):
            if summary and not rule.matched and not heading:
                out += ["", f"{_plain_md(NEAREST_HEADING[:1].upper() + NEAREST_HEADING[1:])}", ""]
                heading = True
            out.append(f"- {_plain_md(rule_line(rule, output, counted=summary))}")
            if rule.because:
                out.append(f'  - *because "{_plain_md(rule.because)}"*')
            for part in parts:
                _md_part(out, part, 1)
        if output.others:
            out += ["", _plain_md(others_line(output))]
    for answer in explained.why_not:
        out += ["", f"## Why not {_code(f'{answer.output} = {answer.wanted}')}?", ""]
        out.append(_plain_md(answer.summary))
        out.append("")
        for line, details in why_not_items(answer):
            out.append(f"- {_plain_md(line)}")
            out.extend(f"  - {_plain_md(detail)}" for detail in details)
    return "\n".join(out) + "\n"


def _md_part(out: list[str], part: ConditionPart, depth: int) -> None:
    sign, text, detail = part_pieces(part)
    out.append("  " * depth + f"- {sign} {_code(text)}" + (f" {_plain_md(detail)}" if detail else ""))
    for inner in part.parts:
        _md_part(out, inner, depth + 1)


def _code(text: str) -> str:
    """A Markdown code span that holds any text, backticks included."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") or fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plain_md(text: str) -> str:
    """Text with every Markdown character escaped: facts and values can never become markup."""
    for special in ("\\", "`", "*", "_", "<", ">", "[", "]", "|", "#"):
        text = text.replace(special, "\\" + special)
    return text


# --- HTML ----------------------------------------------------------------------------------------

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; border-bottom: 1px solid #ddd; }
code, .part { font-family: ui-monospace, monospace; font-size: 0.92em; }
ul { list-style: none; padding-left: 1.2rem; margin: 0.2rem 0; }
.yes { color: #116329; } .no { color: #a40e26; } .unknown { color: #9a6700; } .skipped { color: #777; }
.how { color: #555; } .because { font-style: italic; } .warning { color: #a40e26; font-weight: bold; }
.meta li { padding: 0.1rem 0; }
@media print { body { margin: 0; max-width: none; } }
"""


def render_html(explained: Explanation) -> str:
    """One self-contained page (no scripts, no external files) for an auditor to archive or print."""
    e = html.escape
    trace = explained.trace
    body: list[str] = [f"<h1>Decision of <code>{e(trace.policy)}</code></h1>"]
    for line in replay_lines(explained.replay):
        css = "warning" if line.startswith(("WARNING", "  -")) else "how"
        body.append(f'<p class="{css}">{e(line)}</p>')
    body.append('<ul class="meta">' + "".join(f"<li>{e(line)}</li>" for line in header_lines(explained)) + "</ul>")
    summary = trace.detail == "summary"
    for output in trace.outputs:
        value, how = headline(output)
        body.append(f'<h2><code>{e(value)}</code></h2><p class="how">{e(how)}</p><ul>')
        heading = False
        for rule, parts in shown_rules(output, summary):
            if summary and not rule.matched and not heading:
                body.append(f'</ul><p class="how">{e(NEAREST_HEADING[:1].upper() + NEAREST_HEADING[1:])}</p><ul>')
                heading = True
            line = rule_line(rule, output, counted=summary)
            body.append(f'<li><span class="{_css(line)}">{e(line)}</span>')
            if rule.because:
                body.append(f'<ul><li class="because">because “{e(rule.because)}”</li></ul>')
            body.append("<ul>" + "".join(_html_part(part) for part in parts) + "</ul></li>")
        body.append("</ul>")
        if output.others:
            body.append(f'<p class="how">{e(others_line(output))}</p>')
    for answer in explained.why_not:
        body.append(f"<h2>Why not <code>{e(answer.output)} = {e(answer.wanted)}</code>?</h2><ul>")
        body.append(f"<li>{e(answer.summary)}</li>")
        for line, details in why_not_items(answer):
            inner = "".join(f"<li>{e(detail)}</li>" for detail in details)
            body.append(f'<li><span class="{_css(line)}">{e(line)}</span><ul>{inner}</ul></li>')
        body.append("</ul>")
    title = e(f"Decision of {trace.policy}, {trace.as_of}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _html_part(part: ConditionPart) -> str:
    line = part_line(part)
    inner = "".join(_html_part(p) for p in part.parts)
    nested = f"<ul>{inner}</ul>" if inner else ""
    return f'<li><span class="part {_css(line)}">{html.escape(line)}</span>{nested}</li>'


def _css(line: str) -> str:
    return {"✓": "yes", "✗": "no", "?": "unknown", "·": "skipped"}.get(line[:1], "")


RENDERERS = {"markdown": render_markdown, "html": render_html}
