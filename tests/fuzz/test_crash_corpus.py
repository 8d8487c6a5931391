"""Every crash the fuzzers found, replayed: tests/fuzz/corpus/*.json, one file per crash (the input
files, the command, and the item of issue 12 it belongs to). A case of an item still open in
corpus/manifest.json is xfail (strict=False); once the lead marks the item fixed, it must pass.

A case file holds:

- `item`: the item of issue 12 ("M9"), or null for a crash outside the issue's list (fixed here);
- `found_by`: which fuzz test found it; `note`: what goes wrong;
- `files`: name -> content, a string or a list of [piece, times] pairs (100,000 brackets in a line);
- `setup`: commands to run first (a log to write), whose outcome is not judged;
- `sql`: statements (with parameters) run on `decisions.db` after the setup (a damaged log);
- `patch`: [offset, hex bytes] pairs written over `decisions.db` after that (a damaged file);
- `argv`: the command under test, run as `policy ARGV` in the case's folder;
- `cpu_limit`: seconds of CPU time, when the case is a hang (default: the harness's CPU_LIMIT).

The command must exit 0, 1 or 2 with no internal error, no traceback and no raw terminal control
in its output, within the CPU limit (fuzz_harness.cli).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fuzz_harness import CORPUS, CPU_LIMIT, ITEMS, assert_cli_sound, run_cli, within_cpu, xfail_marks

CASES = sorted(CORPUS.glob("*.json"))
CASES.remove(CORPUS / "manifest.json")


def _content(spec: str | list[list[Any]]) -> str:
    if isinstance(spec, str):
        return spec
    return "".join(piece * times for piece, times in spec)


def _load(path: Path) -> dict[str, Any]:
    case = json.loads(path.read_text(encoding="utf-8"))
    assert set(case) <= {"item", "found_by", "note", "files", "setup", "sql", "patch", "argv", "cpu_limit"}, path.name
    assert case["item"] is None or case["item"] in ITEMS, f"{path.name}: unknown item {case['item']}"
    assert case["argv"] and case["note"] and case["found_by"], path.name
    return case


def _params() -> list[Any]:
    params = []
    for path in CASES:
        case = _load(path)
        params.append(pytest.param(path, id=path.stem, marks=xfail_marks(case["item"])))
    return params


def test_the_corpus_is_found() -> None:
    assert len(CASES) >= 10, CASES


@pytest.mark.parametrize("path", _params())
def test_crash_corpus_case(path: Path) -> None:
    case = _load(path)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, spec in case.get("files", {}).items():
            # surrogatepass: a case may hold a file that is not UTF-8 on purpose
            (folder / name).write_bytes(_content(spec).encode("utf-8", errors="surrogatepass"))
        for argv in case.get("setup", []):
            run_cli(argv, cwd=folder)
        if case.get("sql"):
            with sqlite3.connect(folder / "decisions.db") as connection:
                for statement, parameters in case["sql"]:
                    connection.execute(statement, parameters)
        if case.get("patch"):
            damaged = bytearray((folder / "decisions.db").read_bytes())
            for offset, replacement in case["patch"]:
                damaged[offset : offset + len(bytes.fromhex(replacement))] = bytes.fromhex(replacement)
            (folder / "decisions.db").write_bytes(bytes(damaged))
        with within_cpu(f"policy {' '.join(case['argv'][:2])}", case.get("cpu_limit", CPU_LIMIT)):
            run = run_cli(case["argv"], cwd=folder)
        assert_cli_sound(run)
