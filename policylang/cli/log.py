"""`policy log list|show|verify|anchor [--log PATH|URL]`: read recorded decisions, prove that none was changed,
and print the head to keep elsewhere so that a later verify proves none was cut off the end."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from policylang import Code, ExitCode, PolicyError, compile_snapshot

from ..core.datatypes import BOOL, DATE, DATETIME, DURATION, INT, NUMBER, EnumOf, SetOf, describe
from ..core.diagnostics import did_you_mean
from ..core.spelling import spell, spell_number
from ..core.values import (
    Duration,
    format_datetime,
    parse_date_literal,
    parse_datetime_literal,
    parse_decimal_literal,
    parse_duration_literal,
    parse_int_literal,
)
from .terminal import json_text, one_line, safe_text, shown_value

if TYPE_CHECKING:  # the log package (pydantic, sqlite3) is imported when a sub-command runs
    from ..decision_log import Anchor, DecisionLog, LoggedDecision, VerifyReport

F = TypeVar("F", bound=Callable[..., Any])


def _log_option(command: F) -> F:
    return click.option(
        "--log",
        "log_path",
        envvar="POLICYLANG_LOG",
        default="decisions.db",
        show_default=True,
        metavar="PATH|URL",
        help="The decision log: a SQLite file, or a postgresql://user:password@host/database URL (or the "
        "POLICYLANG_LOG environment variable).",
    )(command)


def _format_option(command: F) -> F:
    return click.option(
        "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
    )(command)


@click.group("log")
def log_command() -> None:
    """Read the decision log: list and show recorded decisions, verify that none was changed, print its head.

    Exit codes: 0 done (verify: intact), 1 verify found problems, 2 the log cannot be read or the
    command was misused.
    """


def _open(log_path: str) -> DecisionLog | None:
    """The log opened for reading, or None after printing why it cannot be."""
    from ..decision_log import LogError, open_log  # deferred: start-up (the decision log loads pydantic and sqlite3)

    try:
        return open_log(log_path, create=False)
    except LogError as exc:
        click.echo(safe_text(str(exc)), err=True)
        return None


_UNPRINTABLE = (ValueError, TypeError, LookupError, AttributeError, RecursionError, OverflowError)
"""What showing a record read from disk can raise (a record nested past what JSON can write, say):
that record is reported, the others are still shown."""


def _report_unreadable(message: str) -> None:
    click.echo(
        f"error[{Code.LOG_ERROR}]: {one_line(message)}\n"
        "  = hint: the other records are shown; `policy log verify` says whether the log was edited",
        err=True,
    )


def _unshowable(record: LoggedDecision, exc: Exception) -> str:
    return f"record {record.seq} (id {record.id}) cannot be shown: {exc}"


@log_command.command("list")
@_log_option
@click.option("--since", metavar="T", help="Recorded at or after T: 2026-11-23, 2026-11-23T10:00:00Z, or 24h ago.")
@click.option("--until", metavar="T", help="Recorded before T (same forms as --since).")
@click.option("--policy", "policy_filter", metavar="NAME", help="Only this policy: its name or a prefix of its hash.")
@click.option(
    "--where",
    multiple=True,
    metavar="OUTPUT=VALUE",
    help="Only decisions whose output has this value (repeatable): sla=4h; a set output must contain it.",
)
@click.option(
    "--limit", type=click.IntRange(min=0), metavar="N", help="At most this many decisions (the oldest first)."
)
@_format_option
def list_command(
    log_path: str,
    since: str | None,
    until: str | None,
    policy_filter: str | None,
    where: tuple[str, ...],
    limit: int | None,
    output_format: str,
) -> int:
    """List recorded decisions, oldest first: id, time, policy and outputs."""
    from ..decision_log import LogError  # deferred: start-up (the decision log loads pydantic and sqlite3)

    log = _open(log_path)
    if log is None:
        return ExitCode.USAGE
    try:
        with log:
            records = log.list(since=since, until=until, policy=policy_filter, where=list(where), limit=limit)
            notes = _where_notes(log, where) if where and not records else []
    except LogError as exc:
        click.echo(safe_text(str(exc)), err=True)
        return ExitCode.USAGE
    for note in notes:
        click.echo(f"note: {note}", err=True)
    failed = len(records.unreadable)
    for bad in records.unreadable:
        _report_unreadable(bad.message)
    if output_format == "json":
        shapes = []
        for record in records:
            try:
                shapes.append(_record_json(record))
            except _UNPRINTABLE as exc:
                _report_unreadable(_unshowable(record, exc))
                failed += 1
        click.echo(json_text(shapes, indent=2))
        return ExitCode.USAGE if failed else ExitCode.OK
    if not records and not failed:
        click.echo("no decisions match", err=True)
    for record in records:
        try:
            line = _list_line(record)
        except _UNPRINTABLE as exc:
            _report_unreadable(_unshowable(record, exc))
            failed += 1
            continue
        click.echo(line)
    return ExitCode.USAGE if failed else ExitCode.OK


_STORED_JSON = ("facts", "outputs", "conflicts")


def _record_json(record: LoggedDecision) -> dict[str, Any]:
    """The record's JSON shape; the columns stored as JSON are passed on as they were read, not through
    pydantic's serializer, which refuses data nested past 255 levels that `json` writes."""
    shape = record.model_dump(mode="json", exclude=set(_STORED_JSON))
    return {name: getattr(record, name) if name in _STORED_JSON else shape[name] for name in type(record).model_fields}


def _list_line(record: LoggedDecision) -> str:
    """One record on one line: every text from the record escaped, so that none can forge another line."""
    outputs = " ".join(f"{one_line(name)}={one_line(_show(value))}" for name, value in record.outputs.items())
    conflicts = " ".join(f"{one_line(name)}=CONFLICT" for name in record.conflicts or {})
    when = _recorded(record.recorded_at)
    policy = f"{one_line(record.policy_name)} {one_line(record.policy_hash[:12])}"
    return f"{one_line(record.id)}  {when}  {policy}  {outputs} {conflicts}".rstrip()


@log_command.command("show")
@click.argument("decision_id", metavar="ID")
@_log_option
@_format_option
def show_command(decision_id: str, log_path: str, output_format: str) -> int:
    """Show one recorded decision in full: facts as given, outputs, rules fired, policy, chain hashes."""
    from ..decision_log import LogError  # deferred: start-up (the decision log loads pydantic and sqlite3)

    log = _open(log_path)
    if log is None:
        return ExitCode.USAGE
    try:
        with log:
            record = log.get(decision_id)
            facts = record.facts_given()
    except LogError as exc:
        exc.path = exc.path or log.name  # the name, never the URL: it may hold a password
        click.echo(safe_text(str(exc)), err=True)
        return ExitCode.USAGE
    try:
        json_shape = output_format == "json"
        text = json_text(_record_json(record), indent=2) if json_shape else _render_record(record, facts)
    except _UNPRINTABLE as exc:
        _report_unreadable(_unshowable(record, exc))
        return ExitCode.USAGE
    click.echo(text)
    return ExitCode.OK


def _render_record(record: LoggedDecision, facts: dict[str, Any]) -> str:
    """The record in text, every text from it on one line (its control characters escaped)."""
    lines = [
        f"decision {one_line(record.id)}",
        f"  record       {record.seq}",
        f"  recorded at  {_recorded(record.recorded_at)}",
        f"  as of        {_timestamp(record.as_of)}",
        f"  policy       {one_line(record.policy_name)} ({one_line(record.policy_hash)})",
        "facts (as given):",
    ]
    lines += _table(facts, _show_given) or ["  (none)"]
    lines.append("outputs:")
    outputs = dict(record.outputs)
    for name, items in (record.conflicts or {}).items():
        outputs[name] = "CONFLICT: " + ", ".join(f"{i.get('rule')} says {_show(i.get('value'))}" for i in items)
    lines += [line for line in _table(outputs, lambda v: v if isinstance(v, str) else _show(v))] or ["  (none)"]
    lines.append("fired: " + (", ".join(one_line(rule) for rule in record.fired) if record.fired else "none"))
    lines.append(f"prev hash  {one_line(record.prev_hash)}")
    lines.append(f"hash       {one_line(record.hash)}")
    return "\n".join(lines)


def _table(values: dict[str, Any], show: Callable[[Any], str]) -> list[str]:
    names = {name: one_line(str(name)) for name in values}
    width = max((len(name) for name in names.values()), default=0)
    return [f"  {names[name].ljust(width)}  {one_line(show(value))}" for name, value in values.items()]


def _timestamp(moment: datetime) -> str:
    return format_datetime(moment)


def _recorded(moment: datetime) -> str:
    """Recording times to the microsecond, always six digits, so that lines of `list` align."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _show(value: Any) -> str:
    """A stored (JSON) output value as `policy eval` shows it (core.spelling): sets in braces, booleans in
    lowercase, no value as `-`."""
    return spell(value, absent="-", text=shown_value, other=_other)


def _other(value: Any) -> str:
    return json_text(value) if isinstance(value, dict) else shown_value(spell_number(value))


def _show_given(value: Any) -> str:
    """A fact as the caller gave it, with its Python type where JSON would not tell it."""
    if isinstance(value, bool):
        return spell(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return json_text(value)
    if isinstance(value, Decimal | datetime | date | time | timedelta | Duration):
        shown = value.isoformat() if isinstance(value, datetime | date | time) else str(value)
        return f"{shown} ({type(value).__name__})"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(_show_given(v) for v in value)) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show_given(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_show_given(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show_given(v)}" for k, v in value.items()) + "}"
    return str(value)


@log_command.command("verify")
@_log_option
@click.option(
    "--expect-head",
    metavar="SEQ:HASH",
    help="A head kept from `policy log anchor` (or a head hash from an earlier verify): fail if it is no longer "
    "in the log.",
)
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A file holding what `policy log anchor` printed (text or JSON): as --expect-head.",
)
@_format_option
def verify_command(log_path: str, expect_head: str | None, anchor_file: Path | None, output_format: str) -> int:
    """Prove that no recorded decision was edited, removed or reordered, that the log still reaches the
    head it keeps and the one you kept, and that the stored policies are the ones that decided. Exit
    codes: 0 intact, 1 problems found, 2 the log cannot be read."""
    from ..decision_log import LogError  # deferred: start-up (the decision log loads pydantic and sqlite3)

    if anchor_file is not None:
        if expect_head is not None:
            raise click.UsageError("give a kept head with --expect-head or with --anchor, not both")
        expect_head = _read_anchor(anchor_file)
        if expect_head is None:
            return ExitCode.USAGE
    log = _open(log_path)
    if log is None:
        return ExitCode.USAGE
    try:
        with log:
            report = log.verify(expect_head=expect_head)
    except LogError as exc:
        click.echo(safe_text(str(exc)), err=True)
        return ExitCode.USAGE
    if output_format == "json":
        click.echo(json_text({"ok": report.ok, **report.model_dump(mode="json")}, indent=2))
    else:
        click.echo(_render_report(report))
    return ExitCode.OK if report.ok else ExitCode.FINDINGS


def _render_report(report: VerifyReport) -> str:
    decisions = f"{report.count} decision{'' if report.count == 1 else 's'}"
    versions = f"{report.policies} policy version{'' if report.policies == 1 else 's'}"
    if report.problems:
        lines = [f"{report.path}: {one_line(p.message)}" for p in report.problems]
        count = len(report.problems)
        lines.append(f"{report.path}: {count} problem{'' if count == 1 else 's'} in {decisions}, {versions}")
        return "\n".join(lines)
    lines = [f"{report.path}: intact: {decisions}, {versions}"]
    if report.head is None:
        lines.append("the log is empty")
    else:
        lines.append(f"head: record {report.head_seq}, hash {report.head}")
        lines.append("keep this head hash: verifying later with it proves that no record was removed from the end:")
        lines.append(f"  policy log verify --log {shlex.quote(report.path)} --expect-head {report.anchor}")
    return "\n".join(lines)


ANCHOR_FILE_CHARS = 100_000
"""How much of an --anchor file is read: far more than `policy log anchor` writes (its JSON is under 300)."""


def _read_anchor(path: Path) -> str | None:
    """The head in a file `policy log anchor` wrote (its `SEQ:HASH` line, or its JSON), or None after
    printing why there is none; verify checks the head's form."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as file:
            text = file.read(ANCHOR_FILE_CHARS)  # an anchor is one short line: a huge file is not read whole
    except OSError as exc:
        click.echo(
            f"error[io-error]: cannot read the anchor file `{path}`: {exc.strerror or exc}\n"
            "  = hint: give the file that `policy log anchor > FILE` wrote",
            err=True,
        )
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("anchor"), str):
        return str(data["anchor"])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        click.echo(
            f"error[io-error]: the anchor file `{path}` holds {len(lines)} lines, not the one `policy log anchor` "
            "printed\n"
            "  = hint: write it with `policy log anchor > FILE`, or give the head with --expect-head SEQ:HASH",
            err=True,
        )
        return None
    return lines[0]


@log_command.command("anchor")
@_log_option
@_format_option
def anchor_command(log_path: str, output_format: str) -> int:
    """Print the log's head (`SEQ:HASH`) to keep somewhere else (a ticket, an email, a write-once store):
    `policy log verify --expect-head SEQ:HASH` (or `--anchor FILE`) later fails if a record it covers
    was cut off the end or rewritten. Exit codes: 0 printed, 2 the log cannot be read."""
    from ..decision_log import LogError  # deferred: start-up (the decision log loads pydantic and sqlite3)

    log = _open(log_path)
    if log is None:
        return ExitCode.USAGE
    try:
        with log:
            anchor = log.anchor()
    except LogError as exc:
        click.echo(str(exc), err=True)
        return ExitCode.USAGE
    if output_format == "json":
        shown = {"log": log.name, "anchor": str(anchor), **anchor.model_dump(mode="json")}
        click.echo(json_text(shown, indent=2))
        return ExitCode.OK
    click.echo(str(anchor))
    click.echo(_anchor_note(log.name, anchor), err=True)
    return ExitCode.OK


def _anchor_note(name: str, anchor: Anchor) -> str:
    if not anchor.seq:
        return f"{name}: the log is empty; this head proves nothing yet"
    when = f", recorded {_recorded(anchor.recorded_at)}" if anchor.recorded_at else ""
    return (
        f"{name}: head: record {anchor.seq}{when}; keep `{anchor}` elsewhere: verifying later with it proves "
        f"that no record up to {anchor.seq} was removed or rewritten:\n"
        f"  policy log verify --log {shlex.quote(name)} --expect-head {anchor}"
    )


def _where_notes(log: DecisionLog, where: tuple[str, ...]) -> list[str]:
    """Why a --where matched nothing when it could not: an output no recorded decision has (a misspelt
    name), or a value the output cannot have in any recorded policy version (`sla=banana`)."""
    wanted = [(name.strip(), value.strip()) for name, _, value in (item.partition("=") for item in where)]
    seen: set[str] = set()
    versions: dict[str, None] = {}
    for record in log.list():
        seen.update(record.outputs)
        versions.setdefault(record.policy_hash)
    notes = [
        f"no recorded decision has an output `{one_line(name)}`; check its spelling"
        for name in dict.fromkeys(name for name, _ in wanted)
        if name not in seen
    ]
    types = _output_types(log, list(versions)[-_VERSIONS_ASKED:])
    for name, value in wanted:
        reasons = [_impossible(value, kind) for kind in types.get(name, [])]
        if name in seen and reasons and all(reasons):
            notes.append(f"output `{one_line(name)}` cannot be `{one_line(value)}`: {reasons[-1]}")
    return notes


_VERSIONS_ASKED = 20
"""The policy versions (the most recently used) whose output types a --where that matched nothing is
checked against: enough for any log's recent history, few enough to compile in a moment."""


def _output_types(log: DecisionLog, versions: list[str]) -> dict[str, list[Any]]:
    """Each output's type in each of these stored policy versions (those that still compile)."""
    from ..decision_log import LogError  # deferred: start-up (the decision log loads pydantic and sqlite3)

    types: dict[str, list[Any]] = {}
    for version in versions:
        try:
            checked = compile_snapshot(log.policy_snapshot(version), unknown_facts="ignore").checked
        except (LogError, PolicyError):
            continue  # `policy log verify` reports such a version; the note is only a courtesy
        for name, output in checked.outputs.items():
            types.setdefault(name, []).append(output.type)
    return types


def _impossible(text: str, kind: Any) -> str | None:
    """Why `text` (as --where writes it) cannot be a value of type `kind`, or None when it can be."""
    if isinstance(kind, SetOf):
        kind = kind.element  # a set output matches when it contains the value
    if isinstance(kind, EnumOf):
        if text in kind.members:
            return None
        return f"its values are {', '.join(kind.members)}" + (
            f"; {did_you_mean(text, kind.members)}" if did_you_mean(text, kind.members) else ""
        )
    parsers: dict[Any, Callable[[str], Any]] = {
        INT: parse_int_literal,
        NUMBER: parse_decimal_literal,
        DURATION: parse_duration_literal,
        DATE: parse_date_literal,
        DATETIME: parse_datetime_literal,
    }
    if kind == BOOL:
        return None if text in ("true", "false") else "it is true or false"
    parse = parsers.get(kind)
    if parse is None:
        return None  # text (a string output), or a type --where does not check
    try:
        parse(text)
    except ValueError:
        return f"it is {describe(kind)}"
    return None
