"""The fuzzing suite's invariants: run an input through the public API or through `policy` itself (in this
process, `policylang.cli.main` with argv) and fail on anything but a decision or a diagnostic.

"Anything else" is: an exception the API does not document, an `internal-error` diagnostic or
message, a traceback, an exit code other than 0, 1 or 2, output a UTF-8 terminal cannot print, or
more CPU time than `CPU_LIMIT` seconds for one run (a hang or a blow-up in complexity; the limit is
many times what a case needs, so a busy machine does not trip it).

A failure that matches an item of issue 12 still open in corpus/manifest.json (by the regular
expression of its `signature`) is reported as that item (`KnownOpen`) rather than as a new bug, so
the fuzz tests stay green until the item's fix is merged and the lead marks it fixed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from policylang.core.diagnostics import Code, Diagnostic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
MANIFEST = CORPUS / "manifest.json"

CPU_LIMIT = float(os.environ.get("POLICYLANG_FUZZ_CPU_LIMIT", "30"))
"""Seconds of CPU time one command (or API call chain) may take on one input before it counts as a hang."""

OUTPUT_LIMIT = 2_000_000
"""Characters of output one command may print for inputs of a few kilobytes (more is a blow-up)."""

# Raw control characters a terminal acts on: C0 (ESC starts escape sequences, CR overwrites a line;
# tab and newline are text) and the C1 controls that start sequences (DCS, SOS, CSI, OSC, PM, APC);
# and the bidirectional controls that reorder what is shown (trojan-source).
_TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x90\x98\x9b\x9d-\x9f]")
_BIDI_CONTROLS = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class FuzzFailure(AssertionError):
    """An input made a command do something other than decide or diagnose; `what` names the failure."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what}: {detail}")
        self.what = what
        self.detail = detail


# --- the manifest of known-open items ---------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """An item of issue 12: `open` until its fix is merged; `signature` recognises its failures."""

    name: str
    status: str
    reason: str
    signature: re.Pattern[str] | None


def _load_manifest() -> dict[str, Item]:
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    items = {}
    for name, entry in data["items"].items():
        assert entry["status"] in ("open", "fixed"), f"{name}: status is `open` or `fixed`"
        signature = re.compile(entry["signature"], re.DOTALL) if entry.get("signature") else None
        items[name] = Item(name, entry["status"], entry["reason"], signature)
    return items


ITEMS = _load_manifest()


def known_open(failure: FuzzFailure) -> Item | None:
    """The open item of issue 12 this failure is an instance of, if any."""
    text = f"{failure.what}: {failure.detail}"
    for item in ITEMS.values():
        if item.status == "open" and item.signature is not None and item.signature.search(text):
            return item
    return None


COLLECT = os.environ.get("POLICYLANG_FUZZ_COLLECT")
"""A file to append every failure to (one JSON line: what, detail, the input) instead of stopping at
the first one: for a long run whose findings are sorted afterwards."""


@contextlib.contextmanager
def tolerating_known_open(case: object = None) -> Iterator[list[Item]]:
    """Turn a failure of an open issue-12 item into an entry of the yielded list (so that hypothesis
    goes on looking for other failures); any other failure propagates, unless POLICYLANG_FUZZ_COLLECT
    names a file to collect it in."""
    seen: list[Item] = []
    try:
        yield seen
    except FuzzFailure as failure:
        item = known_open(failure)
        if COLLECT:
            entry = {"item": item.name if item else None, "what": failure.what, "detail": failure.detail[:3000]}
            entry["case"] = ascii(case)[:20_000]
            with open(COLLECT, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")
            return
        if item is None:
            raise
        print(f"issue 12 item {item.name} (open): {failure.what}")
        seen.append(item)


# --- CPU guard ------------------------------------------------------------------------------------------


class _OverCpuLimit(BaseException):
    """Raised by the CPU timer's signal; a BaseException, so that no `except Exception` of the code
    under test (the CLI's last guard) mistakes it for an error of its own."""


@contextlib.contextmanager
def within_cpu(what: str, seconds: float = CPU_LIMIT) -> Iterator[None]:
    """Stop the block after `seconds` of CPU time and fail as a hang (a blow-up in complexity).

    CPU time, not wall time, as in tests/unit/test_hostile_input.py: a machine shared with other
    jobs stretches the wall clock, while only a runaway computation burns CPU. The block is
    interrupted (ITIMER_PROF's signal), not left to run: an exponential case would otherwise take
    hours. Nested guards leave the outer timer in charge.
    """
    if not hasattr(signal, "setitimer") or signal.getitimer(signal.ITIMER_PROF)[0] > 0:
        # no CPU timer (Windows), or an outer guard's is running: measure only
        start = time.process_time()
        yield
        used = time.process_time() - start
        if used > seconds:
            raise FuzzFailure("hang", f"{what} took {used:.1f} s of CPU time (limit {seconds:.0f} s)")
        return

    def over_limit(signum: int, frame: object) -> None:
        raise _OverCpuLimit

    previous = signal.signal(signal.SIGPROF, over_limit)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    start = time.process_time()
    try:
        yield
    except _OverCpuLimit:
        used = time.process_time() - start
        raise FuzzFailure(
            "hang", f"{what} was stopped after {used:.1f} s of CPU time (limit {seconds:.0f} s)"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


# --- the command line, in this process ---------------------------------------------------------------


@dataclass
class CliRun:
    argv: list[str]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _utf8_stream() -> io.TextIOWrapper:
    # errors="strict", as a UTF-8 terminal's stdout: output it cannot print (a lone surrogate) fails here too
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n", write_through=True)


def _read(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


def run_cli(argv: Sequence[str], *, cwd: Path, stdin: bytes = b"") -> CliRun:
    """Run `policy ARGV` in this process, as the `policy` script does (`policylang.cli.main`), with
    stdin, stdout and stderr replaced by UTF-8 streams; the exit code comes from its SystemExit."""
    from policylang.cli import main

    out, err = _utf8_stream(), _utf8_stream()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    code: Any = None
    env = {"NO_COLOR": "1", "COLUMNS": "100", "POLICYLANG_LOG": None}
    saved_env = {name: os.environ.get(name) for name in env}
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        with contextlib.chdir(cwd):
            main(list(argv))
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return CliRun(list(argv), code if isinstance(code, int) else -1, _read(out), _read(err))


def assert_cli_sound(run: CliRun) -> None:
    """No internal error, no traceback, an exit code of the documented three, printable output with no
    raw terminal or bidirectional control (except from `policy fmt`, whose output is policy text)."""
    command = " ".join(run.argv[:2])
    tail = run.output[-1500:]
    if "internal-error" in run.output or "Traceback (most recent call last)" in run.output:
        raise FuzzFailure(f"internal error in `policy {command}`", tail)
    if run.code not in (0, 1, 2):
        raise FuzzFailure(f"exit code {run.code} of `policy {command}`", tail)
    if len(run.output) > OUTPUT_LIMIT:
        raise FuzzFailure(f"output blow-up in `policy {command}`", f"{len(run.output)} characters")
    if run.argv[:1] == ["fmt"]:
        return  # `policy fmt` prints the policy's own text (formatted, or a diff of it): it must stay exact
    for pattern, what in ((_TERMINAL_CONTROLS, "control character"), (_BIDI_CONTROLS, "bidirectional control")):
        found = pattern.search(run.output)
        if found:
            around = run.output[max(0, found.start() - 80) : found.end() + 80]
            raise FuzzFailure(f"raw {what} in the output of `policy {command}`", ascii(around))


def cli(argv: Sequence[str], *, cwd: Path, stdin: bytes = b"") -> CliRun:
    """`run_cli` under the CPU guard, then `assert_cli_sound`."""
    with within_cpu(f"policy {' '.join(argv[:2])}"):
        run = run_cli(argv, cwd=cwd, stdin=stdin)
    assert_cli_sound(run)
    return run


# --- the public API -------------------------------------------------------------------------------------


def _documented() -> tuple[type[BaseException], ...]:
    """What the API raises on purpose: PolicylangError (PolicyError, FactsError, EvaluationError,
    LogError, WhyNotError...). An InternalError is one too, but its diagnostic fails the run below."""
    from policylang import PolicylangError

    return (PolicylangError,)


def assert_no_internal_error(diagnostics: Sequence[Diagnostic], what: str) -> None:
    for diag in diagnostics:
        if diag.code is Code.INTERNAL_ERROR:
            raise FuzzFailure(f"internal-error diagnostic from {what}", diag.message[:1500])


@dataclass
class ApiCall:
    """The outcome of one API call: its value, or the documented exception it raised."""

    what: str
    value: Any = None
    error: BaseException | None = None
    notes: list[str] = field(default_factory=list)


def api(what: str, call: Callable[[], Any]) -> ApiCall:
    """Call the API; a documented exception (PolicyError, FactsError...) is an outcome, any other a failure."""
    try:
        with within_cpu(what):
            value = call()
    except _documented() as exc:
        diagnostics = getattr(exc, "diagnostics", ()) or ()
        assert_no_internal_error(diagnostics, what)
        try:
            str(exc)  # a PolicyError renders its diagnostics here
        except Exception as render:
            raise FuzzFailure(
                f"{type(render).__name__} rendering the {type(exc).__name__} of {what}", repr(render)
            ) from render
        return ApiCall(what, error=exc)
    except FuzzFailure:
        raise
    except (Exception, RecursionError) as exc:
        raise FuzzFailure(f"{type(exc).__name__} from {what}", _short(exc)) from exc
    return ApiCall(what, value=value)


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" (at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno})" if tb is not None else ""
    return ascii(text[:1200]) + where


def xfail_marks(item_name: str | None) -> list[pytest.MarkDecorator]:
    """The marks of a corpus case: xfail while its item is open, none once the lead marks it fixed."""
    if item_name is None:
        return []
    item = ITEMS[item_name]
    if item.status == "open":
        return [pytest.mark.xfail(strict=False, reason=f"issue 12 item {item.name}: {item.reason}")]
    return []


def facts_file(facts: dict[str, Any]) -> str:
    """A JSON facts file's text for facts drawn by the strategies (dates, Decimals, sets as JSON)."""
    from datetime import timedelta
    from decimal import Decimal

    from policylang import MISSING
    from policylang.core.values import Duration, format_duration

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return _RawNumber(str(value))
        if isinstance(value, set | frozenset | tuple):
            return [plain(v) for v in value]
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):  # MISSING (an optional fact left out on purpose) is no key at all
            return {str(k): plain(v) for k, v in value.items() if v is not MISSING}
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, Duration):
            return format_duration(value)
        if isinstance(value, timedelta):
            return f"{int(value.total_seconds())}s"
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)

    return _dumps(plain(facts))


class _RawNumber(str):
    """A number to write as it is spelt (a 5,000-digit decimal that float() would round)."""


def _dumps(value: Any) -> str:
    if isinstance(value, _RawNumber):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(v) for v in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return _digits(value)  # json.dumps refuses ints of over 4,300 digits
    return json.dumps(value)


def _digits(value: int) -> str:
    """The digits of an int however long (str() refuses over 4,300 digits, a guard for parsers, not writers)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(value)
    finally:
        sys.set_int_max_str_digits(limit)


# --- how many examples --------------------------------------------------------------------------------

LONG_RUN = os.environ.get("POLICYLANG_FUZZ", "") == "long"
"""`POLICYLANG_FUZZ=long`: the long run, with new random examples every time and many more of them."""


def fuzz_settings(short: int, long: int) -> settings:
    """Hypothesis settings for a fuzz test: `short` examples, derandomized (the same ones on every
    machine and every run, so CI is stable), or with POLICYLANG_FUZZ=long `long` random ones
    (POLICYLANG_FUZZ_EXAMPLES overrides the count)."""
    examples = int(os.environ.get("POLICYLANG_FUZZ_EXAMPLES", long if LONG_RUN else short))
    return settings(
        max_examples=examples,
        derandomize=not LONG_RUN,
        database=None if not LONG_RUN else settings.default.database,
        deadline=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


__all__ = [
    "ITEMS",
    "ApiCall",
    "CliRun",
    "FuzzFailure",
    "Item",
    "api",
    "assert_cli_sound",
    "assert_no_internal_error",
    "cli",
    "facts_file",
    "fuzz_settings",
    "known_open",
    "run_cli",
    "tolerating_known_open",
    "within_cpu",
    "xfail_marks",
]
