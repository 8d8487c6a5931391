"""`policy eval FILE --input FACTS [--set k=v]... [--as-of T] [--format text|json]`: decide, once or per line."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from policylang import ExitCode, PolicyError, load, render_text

from ..core.diagnostics import to_dict
from ..core.facts_input import FactsInputError, iter_json_lines, parse_assignment, parse_document, read_text
from ..core.json_codec import to_json_value
from ..core.spelling import spell_number, spell_value
from .files import cache_dir_option, import_root_option
from .terminal import json_text, one_line, safe_text, shown_value

if TYPE_CHECKING:
    from policylang import Decision, Policy

    from ..decision_log import DecisionLog


@click.command("eval")
@click.argument("file", type=click.Path())
@click.option(
    "--input",
    "-i",
    "facts_path",
    help="Facts: a .json or .yaml file, a .jsonl file (one decision per line), or - for standard input.",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a fact (repeatable); the value is read as YAML: 3, true, 3y, [a, b].",
)
@click.option(
    "--as-of",
    "as_of",
    help="The time `now` means, ISO 8601 with a zone (default: the clock, read once for all the lines of a "
    ".jsonl file).",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--jsonl", "force_lines", is_flag=True, help="Read the input as JSON lines even without a .jsonl name.")
@click.option(
    "--on-conflict",
    type=click.Choice(["raise", "mark"]),
    default="raise",
    show_default=True,
    help="What a run-time conflict does: fail, or leave the output out and list it under conflicts.",
)
@click.option("--unknown-facts", type=click.Choice(["reject", "ignore"]), default="reject", show_default=True)
@click.option(
    "--log",
    "log_path",
    envvar="POLICYLANG_LOG",
    metavar="PATH",
    help="Record every decision in this decision log (created if need be; or the POLICYLANG_LOG "
    "environment variable); its id is printed.",
)
@import_root_option
@cache_dir_option
def eval_command(
    file: str,
    facts_path: str | None,
    assignments: tuple[str, ...],
    as_of: str | None,
    output_format: str,
    force_lines: bool,
    on_conflict: str,
    unknown_facts: str,
    log_path: str | None,
    import_root: str | None,
    cache_dir: str | None,
) -> int:
    """Decide for the given facts and print the outputs and the rules that fired.

    Exit codes: 0 decided; 1 the policy has errors or rules conflicted; 2 unreadable files, bad facts
    or bad options. With JSON lines, every line is decided (bad lines are reported as they come) and
    the exit code is that of the worst line.
    """
    try:
        # eval shows what deciding these facts does, even for a policy `policy check` would reject
        # for a conflict: a conflict on these facts is reported as at run time.
        policy = load(
            file, unknown_facts=unknown_facts, refuse_conflicts=False, import_root=import_root, cache_dir=cache_dir
        )
    except PolicyError as exc:
        click.echo(safe_text(render_text(exc.diagnostics, exc.sources)), err=True)
        return ExitCode.USAGE if any(d.code == "io-error" for d in exc.diagnostics) else ExitCode.FINDINGS
    if log_path is None:
        return _eval(policy, facts_path, assignments, as_of, output_format, force_lines, on_conflict, None)
    from ..decision_log import LogError, open_log  # deferred: start-up (the decision log loads pydantic and sqlite3)

    try:
        with open_log(log_path) as log:
            return _eval(policy, facts_path, assignments, as_of, output_format, force_lines, on_conflict, log)
    except LogError as exc:
        click.echo(safe_text(str(exc)), err=True)
        return ExitCode.USAGE


def _eval(
    policy: Policy,
    facts_path: str | None,
    assignments: tuple[str, ...],
    as_of: str | None,
    output_format: str,
    force_lines: bool,
    on_conflict: str,
    log: DecisionLog | None,
) -> int:
    try:
        overrides = dict(parse_assignment(a) for a in assignments)
        if facts_path is not None and (force_lines or facts_path.endswith(".jsonl")):
            return _decide_lines(policy, facts_path, overrides, as_of, output_format, on_conflict, log)
        facts: dict[str, Any] = {}
        if facts_path is not None:
            name, text = read_text(facts_path)
            facts = parse_document(name, text)
        facts.update(overrides)
    except FactsInputError as exc:
        show_input_error(exc)
        return ExitCode.USAGE
    code, payload = decide_one(policy, facts, as_of, on_conflict, log)
    if payload is None:
        return code
    return _print_decision(payload, policy, output_format) or code


def _print_decision(
    decision: Decision,
    policy: Policy,
    output_format: str,
    line: int | None = None,
    lines: _Lines | None = None,
    encoder: _JsonLines | None = None,
) -> ExitCode | None:
    """Print a decision (to `lines` when given); None when done. If it cannot be shown, say so, and
    give its id when it was recorded: a record must never exist that the command did not report."""
    try:
        if output_format == "json" and line is not None and encoder is not None:
            text = encoder.line(decision, line)
        elif output_format == "json":
            text = _json(decision) if line is None else _json(decision, line=line)
        else:
            text = ("" if line is None else f"# line {line}\n") + render_decision(decision, policy)
    except (ValueError, TypeError, LookupError, RecursionError, OverflowError) as exc:
        if lines is not None:
            lines.flush()  # what was decided before is printed before the error
        recorded = f" decision {decision.id} was recorded in the log, but" if decision.id else ""
        click.echo(
            f"error[internal-error]:{recorded} the decision cannot be shown: {one_line(f'{type(exc).__name__}: {exc}')}"
            "\n  = hint: this is a bug in policylang; please report it with the command and files you used",
            err=True,
        )
        return ExitCode.USAGE
    if lines is None:
        click.echo(text)
    else:
        lines.add(text)
    return None


def _json(decision: Decision, **extra: Any) -> str:
    """The decision's JSON shape, with its log id first when it was recorded."""
    shape = {**extra, **decision.to_dict()}
    return json_text(shape, indent=None if extra else 2)


def decide_one(
    policy: Policy, facts: dict[str, Any], as_of: str | None, on_conflict: str, log: DecisionLog | None = None
) -> tuple[ExitCode, Decision | None]:
    # deferred: start-up (the engine's errors load pydantic)
    from policylang import ConflictError, EvaluationError, FactsError, InternalError

    try:
        return ExitCode.OK, policy.decide(facts, as_of=as_of, on_conflict=on_conflict, log=log)
    except InternalError as exc:
        click.echo(render_text((exc.diagnostic,), {}), err=True)
        return ExitCode.USAGE, None
    except FactsError as exc:
        click.echo(safe_text(render_text(exc.diagnostics, _sources(policy)) if exc.diagnostics else str(exc)), err=True)
        return ExitCode.USAGE, None
    except ConflictError as exc:
        click.echo(f"error[{exc.code}]: {safe_text(str(exc))}", err=True)
        click.echo(
            "  = hint: use --on-conflict mark to see the other outputs, or give the output a resolution", err=True
        )
        return ExitCode.FINDINGS, None
    except EvaluationError as exc:
        click.echo(f"error[{exc.code}]: {safe_text(str(exc))}", err=True)
        return ExitCode.FINDINGS, None


def _decide_lines(
    policy: Policy,
    path: str,
    overrides: dict[str, Any],
    as_of: str | None,
    output_format: str,
    on_conflict: str,
    log: DecisionLog | None = None,
) -> int:
    """One decision per line, printed as it is made (JSON lines, or text blocks)."""
    name, text = read_text(path)
    # The policy and everything loaded so far live until the lines are decided: the collector need
    # not walk them again on every collection meanwhile (about 7% of a line's time). Unfrozen after,
    # for a caller that runs the command in its own process (tests do).
    gc.freeze()
    try:
        return _decide_each(policy, name, text, overrides, as_of, output_format, on_conflict, log)
    finally:
        gc.unfreeze()


def _decide_each(
    policy: Policy,
    name: str,
    text: str,
    overrides: dict[str, Any],
    as_of: str | None,
    output_format: str,
    on_conflict: str,
    log: DecisionLog | None,
) -> int:
    """_decide_lines once the file is read."""
    # deferred: start-up (the engine's errors load pydantic)
    from policylang import ConflictError, EvaluationError, FactsError, InternalError

    worst = ExitCode.OK
    # With a log every decision is printed as soon as it is recorded; without, lines are printed
    # in blocks (one write per block, not one per line).
    lines = _Lines(1 if log is not None else _BLOCK)
    moment: Any = as_of  # the first decision's `as_of` (the clock, or --as-of read once) is every line's
    if log is None and _readable_as_of(policy, as_of):
        try:
            read = iter_json_lines(name, text)
            return _decide_batches(policy, read, overrides, as_of, output_format, on_conflict, lines)
        finally:
            lines.flush()  # what was decided is printed, whatever stopped the loop
    try:
        for number, item in iter_json_lines(name, text):
            if isinstance(item, FactsInputError):
                _line_error(number, to_dict(item.diagnostic), output_format, lines)
                worst = max(worst, ExitCode.USAGE)
                continue
            facts = {**item, **overrides}
            try:
                decision = policy.decide(facts, as_of=moment, on_conflict=on_conflict, log=log)
            except FactsError as exc:
                _line_error(number, {"code": "facts-error", "message": str(exc)}, output_format, lines)
                worst = max(worst, ExitCode.USAGE)
                continue
            except InternalError as exc:
                _line_error(number, to_dict(exc.diagnostic), output_format, lines)
                worst = max(worst, ExitCode.USAGE)
                continue
            except EvaluationError as exc:
                code = "conflict" if isinstance(exc, ConflictError) else "evaluation-error"
                _line_error(number, {"code": code, "message": str(exc)}, output_format, lines)
                worst = max(worst, ExitCode.FINDINGS)
                continue
            moment = decision.as_of
            worst = max(worst, _print_decision(decision, policy, output_format, number, lines) or ExitCode.OK)
    finally:
        lines.flush()  # what was decided is printed, whatever stopped the loop
    return worst


def _readable_as_of(policy: Policy, as_of: str | None) -> bool:
    """Whether `--as-of` is a time: if not, every line reports it, as `decide()` does line by line."""
    from policylang import FactsError  # deferred: start-up (the engine's errors load pydantic)

    try:
        list(policy.decide_many((), as_of=as_of))
    except FactsError:
        return False
    return True


def _decide_batches(
    policy: Policy,
    read: Iterator[tuple[int, dict[str, Any] | FactsInputError]],
    overrides: dict[str, Any],
    as_of: str | None,
    output_format: str,
    on_conflict: str,
    lines: _Lines,
) -> int:
    """`_decide_lines` without a decision log: the lines decided by `decide_many` (its batch function,
    one run of the full function each since `fired` is printed), in runs between the lines it cannot
    decide. A line that cannot be read ends a run; a line whose decision fails ends it with that
    error; either is reported in its place and the next run starts after it. Every line is decided
    and reported exactly as `decide()` line by line would, with the same `as_of`."""
    # deferred: start-up (the engine's errors load pydantic)
    from policylang import ConflictError, EvaluationError, FactsError, InternalError

    worst = ExitCode.OK
    moment: Any = as_of
    encoder = _JsonLines() if output_format == "json" else None
    while True:
        numbers: deque[int] = deque()  # the line numbers of the facts handed to decide_many, not yet printed
        unreadable: list[tuple[int, FactsInputError]] = []
        run = _facts_of(read, overrides, numbers, unreadable)
        try:
            for decision in policy.decide_many(run, as_of=moment, on_conflict=on_conflict, fired=True):
                moment = decision.as_of
                shown = _print_decision(decision, policy, output_format, numbers.popleft(), lines, encoder)
                worst = max(worst, shown or ExitCode.OK)
        except FactsError as exc:
            _line_error(numbers.popleft(), {"code": "facts-error", "message": str(exc)}, output_format, lines)
            worst = max(worst, ExitCode.USAGE)
            continue
        except InternalError as exc:
            _line_error(numbers.popleft(), to_dict(exc.diagnostic), output_format, lines)
            worst = max(worst, ExitCode.USAGE)
            continue
        except EvaluationError as exc:
            code = "conflict" if isinstance(exc, ConflictError) else "evaluation-error"
            _line_error(numbers.popleft(), {"code": code, "message": str(exc)}, output_format, lines)
            worst = max(worst, ExitCode.FINDINGS)
            continue
        if not unreadable:
            return worst
        number, problem = unreadable[0]
        _line_error(number, to_dict(problem.diagnostic), output_format, lines)
        worst = max(worst, ExitCode.USAGE)


def _facts_of(
    read: Iterator[tuple[int, dict[str, Any] | FactsInputError]],
    overrides: dict[str, Any],
    numbers: deque[int],
    unreadable: list[tuple[int, FactsInputError]],
) -> Iterator[dict[str, Any]]:
    """The facts of the lines `read` gives, each line's number appended to `numbers` as it is handed
    on, up to the first line that cannot be read (put in `unreadable`; the next run goes on after it)."""
    for number, item in read:
        if isinstance(item, FactsInputError):
            unreadable.append((number, item))
            return
        numbers.append(number)
        yield {**item, **overrides} if overrides else item


class _JsonLines:
    """A decision's JSON line, `_json(decision, line=n)` to the byte, written from parts kept between
    lines: each output's name, each output value (by identity: the outputs of a policy are mostly
    its own constants), each rule id, and the policy and `as_of` that every line of a file shares.
    A decision with conflicts or a log id takes `_json`."""

    _KEPT = 4096

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[int, tuple[Any, str]] = {}
        self.rules: dict[str, str] = {}
        self.tail: tuple[Any, str] = (None, "")

    def line(self, decision: Decision, number: int) -> str:
        if decision.id is not None or decision.conflicts:
            return _json(decision, line=number)
        moment = decision.as_of
        last, tail = self.tail
        if last is not moment:
            shape = decision.to_dict()
            tail = f', "policy": {json_text(shape["policy"])}, "as_of": {json_text(shape["as_of"])}}}'
            self.tail = (moment, tail)
        names, values = self.names, self.values
        outputs = []
        for name, value in decision.outputs.items():
            key = names.get(name)
            if key is None:
                key = names[name] = json_text(name)
            known = values.get(id(value))
            if known is None or known[0] is not value:
                if len(values) >= self._KEPT:
                    values.clear()
                known = values[id(value)] = (value, json_text(to_json_value(value)))  # keeps `value` alive
            outputs.append(f"{key}: {known[1]}")
        rules = self.rules
        fired = []
        for rule in decision.fired:
            text = rules.get(rule)
            if text is None:
                text = rules[rule] = json_text(rule)
            fired.append(text)
        return f'{{"line": {number}, "outputs": {{{", ".join(outputs)}}}, "fired": [{", ".join(fired)}]{tail}'


_BLOCK = 256
"""How many lines `policy eval --input x.jsonl` prints at once without a decision log."""


class _Lines:
    """Standard output in blocks of `block` lines: one write (click.echo flushes) per block, not per
    line. Flushed before anything goes to standard error, so that the two keep their order."""

    def __init__(self, block: int) -> None:
        self.block = block
        self.pending: list[str] = []

    def add(self, text: str) -> None:
        self.pending.append(text)
        if len(self.pending) >= self.block:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            click.echo("\n".join(self.pending))
            self.pending.clear()


def _line_error(number: int, detail: dict[str, Any], output_format: str, lines: _Lines) -> None:
    if output_format == "json":
        lines.add(json_text({"line": number, "error": detail}, default=str))
    else:
        lines.flush()
        click.echo(f"line {number}: error[{detail.get('code')}]: {one_line(str(detail.get('message')))}", err=True)


def show_input_error(exc: FactsInputError) -> None:
    sources = {exc.source.name: exc.source} if exc.source is not None else {}
    click.echo(safe_text(render_text([exc.diagnostic], sources)), err=True)


def _sources(policy: Policy) -> dict[str, Any]:
    return dict(policy.checked.sources)


def render_decision(decision: Decision, policy: Policy) -> str:
    """A decision as a small table: each output, its value and where it came from; every text from the
    policy or the facts on one line, its control characters escaped."""
    name = one_line(decision.policy_name)
    lines = [f"policy {name} ({decision.policy_hash[:12]}) as of {to_json_value(decision.as_of)}"]
    if decision.id:
        lines.append(f"decision id {decision.id} (policy explain --decision {decision.id})")
    names = list(policy.checked.outputs)
    width = max((len(n) for n in names), default=0)
    for name in names:
        resolved = decision.resolutions[name]
        if name in decision.conflicts:
            said = ", ".join(f"{one_line(rule)} says {_show(v)}" for rule, v in decision.conflicts[name])
            lines.append(f"  {name.ljust(width)}  CONFLICT: {said}")
            continue
        if name not in decision.outputs:
            why = "optional" if policy.checked.outputs[name].optional else "no default"
            lines.append(f"  {name.ljust(width)}  -  (no rule matched, {why})")
            continue
        value = _show(decision.outputs[name])
        if resolved.status == "default":
            origin = "(default)"
        else:
            strategy = policy.checked.outputs[name].resolution
            origin = f"<- {', '.join(one_line(rule) for rule in resolved.winners)}" + (
                f" (resolve {strategy})" if len(resolved.winners) > 1 or resolved.overridden else ""
            )
        lines.append(f"  {name.ljust(width)}  {value}  {origin}")
    lines.append("fired: " + (", ".join(one_line(rule) for rule in decision.fired) if decision.fired else "none"))
    return "\n".join(lines)


def _show(value: Any) -> str:
    return spell_value(value, absent="missing", text=shown_value, other=_number)


def _number(value: Any) -> str:
    return shown_value(spell_number(value))
