"""Shared by the decision log tests: a small policy, facts of every kind, workers for other processes, and
SQL run behind a log's back on either kind of log."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import policylang
from policylang.decision_log import DecisionLog

SUPPORT = """\
policy support "test"
input {
    tier: enum(basic, premium, key)
    tenure: duration
    spend: number = 0
    tags: set[string] = {}
}
output {
    sla: duration = 72h resolve min
    queue: enum(general, priority) = general resolve priority
    perks: set[string] = {} resolve union
    discount: number = 0 resolve max
}
if tier == premium and tenure > 2y then sla = 4h, perks += {lounge}
rule big priority 10:
    if spend >= 10_000 or "vip" in tags then queue = priority, discount = 10.5, perks += {named_rep}
"""
"""The policy most tests record with: a duration, an enum, a set and a decimal output."""

SUPPORT_V2 = SUPPORT.replace("sla = 4h", "sla = 2h")
"""The same policy, changed: premium customers now get 2h."""

PREMIUM = {"tier": "premium", "tenure": "3y", "spend": Decimal("10000.50"), "tags": {"vip"}}
BASIC = {"tier": "basic", "tenure": "30d"}
AS_OF = "2026-11-23T10:00:00Z"


def write_policy(folder: Path, text: str = SUPPORT, name: str = "support.policy") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def support_policy(folder: Path, text: str = SUPPORT) -> policylang.Policy:
    return policylang.load(write_policy(folder, text))


def record_many(log_path: str, count: int, tag: str) -> list[str]:
    """Records `count` decisions from a fresh log handle; a top-level function so that spawned processes can run it."""
    policy = policylang.compile(SUPPORT, filename="support.policy")
    ids = []
    with DecisionLog(log_path) as log:
        for i in range(count):
            facts = {"tier": "premium", "tenure": f"{i + 1}d", "tags": {tag}}
            ids.append(log.record(policy, facts, policy.decide(facts, as_of=AS_OF)))
    return ids


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """`policy log ...` in process, through `policylang.cli.main` with the log group registered as it will be."""
    from policylang.cli import app, main
    from policylang.cli.log import log_command

    runner = CliRunner(env=env)
    added = "log" not in app.commands
    if added:
        app.add_command(log_command)
    try:
        with runner.isolation() as (out, err, _):
            try:
                main(["log", *args])
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    finally:
        if added:
            app.commands.pop("log")
    assert "Traceback" not in stdout + stderr
    assert "internal-error" not in stdout + stderr
    return Run(code, stdout, stderr)


def facts_of_every_kind() -> dict[str, Any]:
    """Facts a schema-less policy takes as they are: every type the log encodes with a tag."""
    from datetime import UTC, date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from policylang.core.values import Duration

    return {
        "tier": "premium",
        "tenure": "3y",
        "amount": Decimal("10.50"),
        "ratio": 0.25,
        "count": 3,
        "flag": True,
        "nothing": None,
        "tags": {"a", "b"},
        "frozen": frozenset({1, 2}),
        "pair": (1, "x"),
        "list": [Decimal("1.0"), [date(2026, 1, 31)], {"nested": (True,)}],
        "day": date(2026, 1, 31),
        "moment": datetime(2026, 1, 31, 9, 30, tzinfo=UTC),
        "local": datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1),
        "naive": datetime(2026, 1, 31, 9, 30),
        "clock": time(9, 30, 15),
        "wait": timedelta(days=1, seconds=5, microseconds=7),
        "duration": Duration(18, 3600),
        "looks_tagged": {"$decimal": "not a decimal"},
        "dollar_keys": {"$a": 1, "$b": 2},
        "infinite": float("inf"),
        "unicode": "größe ✓",
    }


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, all the way down (Decimal("10.50") is not Decimal("10.5") here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, set | frozenset):
        return a == b and sorted(map(repr, a)) == sorted(map(repr, b))
    if hasattr(a, "utcoffset") and hasattr(a, "tzinfo") and a.tzinfo is not None:
        return bool(a == b and a.utcoffset() == b.utcoffset() and str(a.tzinfo) == str(b.tzinfo))
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


# --- the logs tests run on -------------------------------------------------------------------

POSTGRES = os.environ.get("POLICYLANG_TEST_POSTGRES", "")
"""A PostgreSQL URL whose user may create schemas (.ci/run starts a throwaway server and sets it)."""
NO_POSTGRES = "POLICYLANG_TEST_POSTGRES is not set: no PostgreSQL server to test against (.ci/run starts one)"


def with_search_path(url: str, schema: str) -> str:
    """The URL with `schema` first in its search_path, where the log's tables go."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith("postgresql://")


def raw(target: str | Path, *statements: str, parameters: Sequence[Any] = ()) -> None:
    """Run SQL on the log behind its back (as someone tampering with it would), committed."""
    if is_postgres(target):
        import psycopg

        with psycopg.connect(str(target)) as connection:
            for statement in statements:
                connection.execute(statement.replace("?", "%s") if parameters else statement, parameters or None)
        return
    with sqlite3.connect(target) as connection:
        for statement in statements:
            connection.execute(statement, parameters)
    connection.close()


def rows(target: str | Path, query: str) -> list[tuple[Any, ...]]:
    """The rows of a query run behind the log's back."""
    if is_postgres(target):
        import psycopg

        with psycopg.connect(str(target)) as connection:
            return connection.execute(query).fetchall()
    with sqlite3.connect(target) as connection:
        found = connection.execute(query).fetchall()
    connection.close()
    return found
