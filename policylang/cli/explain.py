"""`policy explain FILE --input FACTS | --decision ID`: why a decision came out as it did.

Text is a tree per output (coloured on a terminal, plain otherwise, fitted to the width); JSON is
the documented `Explanation` model; Markdown and HTML are reports to archive or print.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from policylang import Code, ExitCode, PolicyError, load, render_text

from ..core.diagnostics import did_you_mean
from ..core.facts_input import FactsInputError, parse_assignment, parse_document, read_text
from ..core.values import format_datetime
from .evaluate import decide_one, show_input_error
from .files import cache_dir_option, import_root_option
from .terminal import escaped_strings, json_safe, one_line, safe_text, use_color

if TYPE_CHECKING:
    from policylang import Decision, Policy

    from ..explain.rendering import Explanation, Replay

FORMATS = ["text", "json", "markdown", "html"]


@click.command("explain")
@click.argument("file", type=click.Path(), required=False)
@click.option("--input", "-i", "facts_path", help="Facts: a .json or .yaml file, or - for standard input.")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="Set a fact (repeatable).")
@click.option("--as-of", "as_of", help="The time `now` means, ISO 8601 with a zone (default: the clock).")
@click.option(
    "--why-not",
    "why_not",
    multiple=True,
    metavar="OUTPUT=VALUE",
    help='Also say what would give an output that value, e.g. --why-not "sla=4h" (repeatable).',
)
@click.option(
    "--only",
    "only_outputs",
    multiple=True,
    metavar="NAME",
    help="Explain only this output (repeatable); the others are not traced. Default: every output.",
)
@click.option(
    "--detail",
    type=click.Choice(["auto", "summary", "full"]),
    default="auto",
    show_default=True,
    help="full: every rule that can set each output; summary: the rules that matched, the nearest misses and "
    "a count of the rest; auto: a summary when more than 60 rules can set the outputs explained.",
)
@click.option("--decision", "decision_id", metavar="ID", help="Explain a logged decision, replayed from the log alone.")
@click.option(
    "--log",
    "log_path",
    envvar="POLICYLANG_LOG",
    metavar="PATH",
    help="The decision log: read with --decision (default decisions.db); with FILE, record the decision in it.",
)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--width", type=click.IntRange(40, 1000), help="Wrap text at this many columns (default: the terminal's, or 100)."
)
@click.option("--output", "-o", "output_path", type=click.Path(), help="Write the explanation to this file.")
@click.option("--schema", is_flag=True, help="Print the JSON schema of --format json and exit.")
@click.option("--unknown-facts", type=click.Choice(["reject", "ignore"]), default="reject", show_default=True)
@import_root_option
@cache_dir_option
def explain_command(
    file: str | None,
    facts_path: str | None,
    assignments: tuple[str, ...],
    as_of: str | None,
    why_not: tuple[str, ...],
    only_outputs: tuple[str, ...],
    detail: str,
    decision_id: str | None,
    log_path: str | None,
    output_format: str,
    width: int | None,
    output_path: str | None,
    schema: bool,
    unknown_facts: str,
    import_root: str | None,
    cache_dir: str | None,
) -> int:
    """Explain a decision: every output's value and where it came from, every rule that could set it
    and why it did or did not apply, with the values it read.

    Either decide now (FILE with --input/--set), or explain a recorded decision (--decision ID),
    replayed with the policy version stored in the log; the replay says loudly if it differs from
    the record. A run-time conflict is explained, not refused. Exit codes: 0 explained; 1 the
    policy has errors, or the replay differs from the record; 2 unreadable files, bad facts, a bad
    --why-not or --only, bad options or a bad log.
    """
    from ..explain.rendering import explanation_schema  # deferred: start-up (explanations load pydantic)

    if schema:
        click.echo(json.dumps(explanation_schema(), indent=2))
        return ExitCode.OK
    if decision_id is not None:
        if file is not None or facts_path is not None or assignments or as_of is not None:
            raise click.UsageError(
                "--decision explains a logged decision with its recorded facts and time: "
                "give no FILE, --input, --set or --as-of with it"
            )
        found = _logged(decision_id, log_path or "decisions.db", why_not, only_outputs or None, detail)
        if isinstance(found, int):
            return found
        explained, code = found
    else:
        if file is None:
            raise click.UsageError("give a policy FILE and its facts (--input), or --decision ID")
        made = _decide(
            file, facts_path, assignments, as_of, unknown_facts, log_path, why_not, only_outputs, import_root, cache_dir
        )
        if isinstance(made, int):
            return made
        if made.id is not None:  # recorded: whatever happens next, the command must report its id
            return _explain_recorded(made, why_not, only_outputs, detail, output_format, width, output_path)
        answered = _explained(made, why_not, only_outputs or None, detail)
        if isinstance(answered, int):
            return answered
        explained, code = answered, ExitCode.OK
    _write(explained, output_format, width, output_path)
    return code


def _explain_recorded(
    decision: Decision,
    why_not: tuple[str, ...],
    only: tuple[str, ...],
    detail: str,
    output_format: str,
    width: int | None,
    output_path: str | None,
) -> int:
    """Explain a decision just recorded in the log; if that fails, say so with the decision's id, so
    that no record exists that the command did not report."""
    try:
        answered = _explained(decision, why_not, only or None, detail)
        if isinstance(answered, int):
            return answered
        _write(answered, output_format, width, output_path)
    except (ValueError, TypeError, LookupError, RecursionError, OverflowError) as exc:
        click.echo(
            f"error[internal-error]: decision {decision.id} was recorded in the log, but it cannot be explained: "
            f"{one_line(f'{type(exc).__name__}: {exc}')}\n"
            "  = hint: this is a bug in policylang; please report it with the command and files you used",
            err=True,
        )
        return ExitCode.USAGE
    return ExitCode.OK


def _decide(
    file: str,
    facts_path: str | None,
    assignments: tuple[str, ...],
    as_of: str | None,
    unknown: str,
    log: str | None,
    why_not: tuple[str, ...],
    only: tuple[str, ...],
    import_root: str | None,
    cache_dir: str | None = None,
) -> Decision | int:
    try:
        policy = load(file, unknown_facts=unknown, refuse_conflicts=False, import_root=import_root, cache_dir=cache_dir)
    except PolicyError as exc:
        click.echo(safe_text(render_text(exc.diagnostics, exc.sources)), err=True)
        return ExitCode.USAGE if any(d.code == "io-error" for d in exc.diagnostics) else ExitCode.FINDINGS
    problem = _bad_question(policy, why_not, only)  # before deciding, so that a bad question logs nothing
    if problem is not None:
        _usage_error(*problem)
        return ExitCode.USAGE
    try:
        facts: dict[str, Any] = {}
        if facts_path is not None:
            name, text = read_text(facts_path)
            facts = parse_document(name, text)
        facts.update(dict(parse_assignment(a) for a in assignments))
    except FactsInputError as exc:
        show_input_error(exc)
        return ExitCode.USAGE
    if log is None:
        code, decision = decide_one(policy, facts, as_of, "mark")
        return decision if decision is not None else code
    from ..decision_log import LogError, open_log  # deferred: start-up (the decision log loads pydantic and sqlite3)

    try:
        with open_log(log) as opened:
            code, decision = decide_one(policy, facts, as_of, "mark", opened)
    except LogError as exc:
        click.echo(safe_text(str(exc)), err=True)
        return ExitCode.USAGE
    return decision if decision is not None else code


def _logged(
    decision_id: str, log_path: str, why_not: tuple[str, ...], outputs: tuple[str, ...] | None, detail: str
) -> tuple[Explanation, int] | int:
    """The explanation of a logged decision, replayed with the stored policy version."""
    # deferred: start-up (the decision log and explanations load pydantic)
    from ..decision_log import LogError, open_log
    from ..explain.rendering import Replay

    try:
        with open_log(log_path, create=False) as log:
            replayed = log.replay(decision_id)
    except LogError as exc:
        click.echo(safe_text(str(exc)), err=True)
        return ExitCode.USAGE
    record = replayed.record
    recorded = (
        format_datetime(record.recorded_at) if isinstance(record.recorded_at, datetime) else str(record.recorded_at)
    )
    check = Replay(decision_id=record.id, recorded_at=recorded, differences=list(replayed.differences))
    answered = _explained(replayed.decision, why_not, outputs, detail, check)
    if isinstance(answered, int):
        return answered
    explained = answered
    shape = {"id": record.id, **explained.decision}
    explained = explained.model_copy(update={"decision": shape})
    if check.differences:
        click.echo(
            f"error[{Code.REPLAY_DIFFERS}]: deciding decision {record.id} again with its stored policy does not "
            "reproduce the record:\n" + "\n".join(f"  - {one_line(d)}" for d in check.differences),
            err=True,
        )
        return explained, ExitCode.FINDINGS
    return explained, ExitCode.OK


def _write(explained: Explanation, output_format: str, width: int | None, output_path: str | None) -> None:
    # deferred: start-up (explanations load pydantic)
    from ..explain.rendering import RENDERERS, render_json, render_text

    if output_format == "json":
        text = json_safe(render_json(explained)) + "\n"
    elif output_format == "text":
        color = output_path is None and use_color()
        if width is None and not color:
            width = 100
        text = render_text(_escaped(explained), width=width, color=color)
    else:
        text = RENDERERS[output_format](_escaped(explained))
    if output_path is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output_path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        _usage_error(f"cannot write `{output_path}`: {exc.strerror or exc}", "check the folder exists and is writable")
        raise click.exceptions.Exit(ExitCode.USAGE) from None


def _escaped(explained: Explanation) -> Explanation:
    """The explanation with every text in it (facts, values, because texts, names) on one line, its
    control characters escaped: what a policy, the facts or a log record hold cannot drive a terminal."""
    shape = escaped_strings(explained.model_dump(mode="json"), _VALUES, _MAPS_OF_VALUES)
    return type(explained).model_validate(shape)


_VALUES = frozenset({"proposes", "value", "default", "was", "to"})
_MAPS_OF_VALUES = frozenset({"facts", "derived", "reads"})
"""Where an explanation holds JSON values: the renderers quote text values themselves (`literal`), with
their control characters escaped, so these are left as they are (their names are escaped)."""


def _explained(
    decision: Decision,
    why_not: tuple[str, ...],
    outputs: tuple[str, ...] | None,
    detail: str,
    replay: Replay | None = None,
) -> Explanation | int:
    """The explanation, or the exit code after saying why a --why-not or --only cannot be answered."""
    from ..explain.rendering import explanation  # deferred: start-up (explanations load pydantic)
    from ..explain.why_not import WhyNotError

    try:
        return explanation(decision, why_not=why_not, replay=replay, outputs=outputs, detail=detail)  # type: ignore[arg-type]
    except WhyNotError as exc:
        _usage_error(str(exc), exc.hint)
    except ValueError as exc:  # an --only the policy does not have
        message, _, hint = str(exc).partition("; ")
        _usage_error(message, hint)
    return ExitCode.USAGE


def _bad_question(policy: Policy, why_not: tuple[str, ...], only: tuple[str, ...]) -> tuple[str, str] | None:
    """(message, hint) for the first --why-not or --only the policy cannot answer, or None."""
    from ..explain.why_not import WhyNotError, parse_question  # deferred: start-up (explanations load pydantic)

    for question in why_not:
        try:
            parse_question(policy.checked, question)
        except WhyNotError as exc:
            return str(exc), exc.hint
    for name in only:
        if name not in policy.checked.outputs:
            known = ", ".join(policy.checked.outputs)
            return f"the policy has no output `{name}`", did_you_mean(
                name, list(policy.checked.outputs)
            ) or f"its outputs: {known}"
    return None


def _usage_error(message: str, hint: str) -> None:
    click.echo(f"error[{Code.USAGE}]: {safe_text(message)}\n  = hint: {safe_text(hint)}", err=True)
