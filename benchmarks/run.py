"""Parse + check benchmark: generated policies of 100 to 10,000 rules, CLI start-up, Lark's grammar cache.

    python benchmarks/run.py [--quick] [--large] [--profile] [--no-write]

Prints a table; a full run (not --quick) also writes benchmarks/results/parse_check.json and the
`parse_check` section of docs/performance.md. Nothing here is a test: timings are reported, never
asserted. See docs/performance.md for how to read the numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import gc
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lark

sys.path.insert(0, str(Path(__file__).resolve().parent))  # generate.py and report.py sit beside this file

from generate import generate_policy  # found through the path above
from parse_check_doc import RESULTS_FILE, render_section, render_table  # found through the path above
from report import RESULTS, ROOT, load_average, machine_info, write_section

from policylang.semantics.checker import check
from policylang.syntax import parser as parser_module
from policylang.syntax.parser import parse

SECTION = "parse_check"
SMALL_FILE = "examples/support/support.policy"
AIM_10K_SECONDS = 3.0
AIM_CLI_SECONDS = 0.3
LARGE_RULES = 100_000
GC_THRESHOLD_TRIED = (50_000, 50, 50)
"""A what-if for the profile: young-generation collections every 50,000 allocations instead of 700."""


@dataclass(frozen=True)
class Settings:
    """How much to measure: sizes with their repeat counts, and runs of each subprocess measurement."""

    repeats: dict[int, int]
    cli_runs: int
    cache_runs: int
    importtime_runs: int
    profile_gc_runs: int = 2
    seed: int = 0
    sizes: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(self.repeats))


FULL = Settings(repeats={100: 15, 1_000: 7, 10_000: 5}, cli_runs=15, cache_runs=15, importtime_runs=7)
QUICK = Settings(repeats={100: 5, 1_000: 3}, cli_runs=5, cache_runs=3, importtime_runs=1, profile_gc_runs=1)


# --- parse and check in this process ---


def measure_size(
    rules: int, repeats: int, seed: int = 0, memory: bool = True, parse_too: bool = True
) -> dict[str, Any]:
    """Times `parse` and `check` (which parses too) on a generated policy of `rules` rules.

    Asserts first that the policy checks with zero errors and has exactly `rules` rules, so that a
    regression in the generator or checker never shows up as a mysteriously fast benchmark.
    """
    started = time.perf_counter()
    text = generate_policy(rules, seed)
    generated = time.perf_counter() - started
    filename = f"generated_{rules}.policy"
    result = check(text, filename)  # also builds the Lark parser, so no timed run pays for that
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, f"the generated policy with {rules} rules has errors: {errors[:3]}"
    assert result.policy is not None and len(result.policy.rules) == rules
    entry: dict[str, Any] = {
        "rules": rules,
        "seed": seed,
        "lines": text.count("\n"),
        "bytes": len(text.encode()),
        "generate_seconds": round(generated, 4),
        "diagnostics": len(result.diagnostics),
        "repeats": repeats,
    }
    del result
    actions: dict[str, Callable[[], object]] = {"parse_check": lambda: check(text, filename)}
    if parse_too:
        actions = {"parse": lambda: parse(text, filename), **actions}
    entry.update(_time(actions, repeats))
    wall, cpu = entry["parse_check"]["wall"]["median"], entry["parse_check"]["cpu"]["median"]
    entry["rules_per_second"] = round(rules / wall) if wall else None
    entry["rules_per_cpu_second"] = round(rules / cpu) if cpu else None
    if parse_too:
        entry["check_only_seconds"] = round(wall - entry["parse"]["wall"]["median"], 4)
        entry["check_only_cpu_seconds"] = round(cpu - entry["parse"]["cpu"]["median"], 4)
    if memory:
        gc.collect()
        tracemalloc.start()
        try:
            check(text, filename)
            entry["peak_memory_bytes"] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return entry


def _time(actions: dict[str, Callable[[], object]], repeats: int) -> dict[str, dict[str, Any]]:
    """Wall and CPU seconds of `repeats` calls of each action, each call started from a freshly
    collected heap. The actions take turns, so a burst of load on the machine hits them alike."""
    wall: dict[str, list[float]] = {name: [] for name in actions}
    cpu: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            action()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return {name: {"wall": _stats(wall[name]), "cpu": _stats(cpu[name])} for name in actions}


def _stats(values: Sequence[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), 5),
        "min": round(min(values), 5),
        "max": round(max(values), 5),
        "runs": len(values),
    }


# --- the command line, in subprocesses ---


def measure_cli(runs: int) -> dict[str, Any]:
    """Wall and CPU time of whole processes: the interpreter alone, importing the CLI, and `policy check` on
    a small file. Commands take turns run by run, so a burst of load on the machine hits them all alike."""
    python = sys.executable
    commands: dict[str, list[str]] = {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import policylang.cli'": [python, "-c", "import policylang.cli"],
    }
    script = Path(python).parent / "policy"
    on_path = shutil.which("policy")
    if script.exists():
        commands[f"policy check {SMALL_FILE}"] = [str(script), "check", SMALL_FILE]
    else:
        commands[f"python -m policylang check {SMALL_FILE}"] = [python, "-m", "policylang", "check", SMALL_FILE]
    if on_path and (not script.exists() or Path(on_path).resolve() != script.resolve()):
        commands[f"policy check {SMALL_FILE} (via {on_path})"] = [on_path, "check", SMALL_FILE]
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            done, wall_seconds, cpu_seconds = _run_process(command)
            wall[name].append(wall_seconds)
            cpu[name].append(cpu_seconds)
            if done.returncode != 0:
                raise RuntimeError(f"{command} failed with exit code {done.returncode}: {done.stderr[-500:]}")
    return {
        "small_file": SMALL_FILE,
        "entry_script": str(script) if script.exists() else None,
        "on_path": on_path,
        "commands": {name: {"wall": _stats(wall[name]), "cpu": _stats(cpu[name])} for name in commands},
    }


def _run_process(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a command from the repository root: its result, wall seconds, and CPU seconds (user + system,
    its own children included), the latter from getrusage of reaped children before and after."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


# The child process for the Lark cache comparison. It runs the real `policy check` (policylang.cli.main)
# on the small file; the only difference between modes is the cache:
#   off  -- policylang.syntax.parser's module-level name `Lark` is replaced by a wrapper that passes cache=False,
#           so the grammar and every other option stay exactly as policylang.syntax.parser has them;
#   cold -- policylang unchanged (cache=True), TMPDIR is an empty folder, so Lark must build the parser
#           and write its cache file;
#   warm -- policylang unchanged, TMPDIR holds the cache file from an earlier run (the everyday case).
_CACHE_CHILD = r"""
import contextlib, io, json, sys, time
started, started_cpu = time.perf_counter(), time.process_time()
import policylang.syntax.parser as parser_module
if sys.argv[1] == "off":
    _real_lark = parser_module.Lark
    def _uncached(*args, **kwargs):
        kwargs["cache"] = False
        return _real_lark(*args, **kwargs)
    parser_module.Lark = _uncached
import policylang.cli
imported, imported_cpu = time.perf_counter(), time.process_time()
parser_module._lark()
built, built_cpu = time.perf_counter(), time.process_time()
code = 0
with contextlib.redirect_stdout(io.StringIO()):
    try:
        policylang.cli.main(["check", sys.argv[2]])
    except SystemExit as exc:
        code = exc.code
checked = time.perf_counter()
print(json.dumps({
    "import": imported - started, "build": built - imported, "check": checked - built,
    "import_cpu": imported_cpu - started_cpu, "build_cpu": built_cpu - imported_cpu, "code": code,
}))
"""


def measure_lark_cache(runs: int) -> dict[str, Any]:
    """`policy check` on the small file with Lark's cache off, on but empty (cold), and on and filled (warm)."""
    modes = ("off", "cold", "warm")
    parts = ("process", "process_cpu", "import", "import_cpu", "build", "build_cpu", "check")
    samples: dict[str, dict[str, list[float]]] = {m: {part: [] for part in parts} for m in modes}
    cache_bytes = None
    with tempfile.TemporaryDirectory(prefix="lark-cache-bench-") as warm_dir:
        _cache_child("warm", warm_dir)  # fills the warm cache
        for _ in range(runs):
            for mode in modes:
                with tempfile.TemporaryDirectory(prefix="lark-cache-bench-") as fresh_dir:
                    folder = warm_dir if mode == "warm" else fresh_dir
                    process_seconds, process_cpu, inner = _cache_child(mode, folder)
                    written = [p for p in Path(folder).iterdir() if p.name.startswith(".lark_cache")]
                    if mode == "off":
                        assert not written, "cache=False still wrote a cache file"
                    else:
                        assert written, "cache=True wrote no cache file"
                        cache_bytes = written[0].stat().st_size
                samples[mode]["process"].append(process_seconds)
                samples[mode]["process_cpu"].append(process_cpu)
                for key in parts[2:]:
                    samples[mode][key].append(inner[key])
    return {
        "method": "policylang.cli.main(['check', SMALL_FILE]) in a fresh process; mode off patches "
        "policylang.syntax.parser.Lark to pass cache=False, cold/warm run unchanged code with TMPDIR empty / "
        "pre-filled",
        "small_file": SMALL_FILE,
        "cache_file_bytes": cache_bytes,
        "modes": {mode: {key: _stats(values) for key, values in parts.items()} for mode, parts in samples.items()},
    }


def _cache_child(mode: str, tmpdir: str) -> tuple[float, float, dict[str, float]]:
    env = {**os.environ, "TMPDIR": tmpdir}
    done, elapsed, cpu = _run_process([sys.executable, "-c", _CACHE_CHILD, mode, SMALL_FILE], env)
    if done.returncode != 0:
        raise RuntimeError(f"the Lark cache child ({mode}) failed: {done.stderr[-800:]}")
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    if inner["code"] not in (0, None):
        raise RuntimeError(f"`policy check {SMALL_FILE}` exited with {inner['code']} in the Lark cache child")
    return elapsed, cpu, inner


def measure_import_time(runs: int) -> dict[str, Any]:
    """`python -X importtime -m policylang --version`: median self and cumulative time per module."""
    per_module: dict[str, dict[str, list[int]]] = {}
    depth: dict[str, int] = {}
    totals: list[int] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "policylang", "--version"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        total = 0
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "imported package" in line:
                continue
            self_us, cumulative_us, name = line[len("import time:") :].split("|", 2)
            module = name.strip()
            level = (len(name) - len(name.lstrip()) - 1) // 2
            depth[module] = level
            times = per_module.setdefault(module, {"self": [], "cumulative": []})
            times["self"].append(int(self_us))
            times["cumulative"].append(int(cumulative_us))
            if level == 0:
                total += int(cumulative_us)
        totals.append(total)
    medians = {
        m: {"self_ms": statistics.median(t["self"]) / 1000, "cumulative_ms": statistics.median(t["cumulative"]) / 1000}
        for m, t in per_module.items()
    }
    by_package: dict[str, float] = {}
    for module, t in medians.items():
        package = module.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + t["self_ms"]
    top_level = sorted((m for m in medians if depth[m] == 0), key=lambda m: -medians[m]["cumulative_ms"])
    return {
        "command": "python -X importtime -m policylang --version",
        "runs": runs,
        "total_ms": round(statistics.median(totals) / 1000, 1),
        "top_level": [{"module": m, **_rounded(medians[m])} for m in top_level[:6]],
        "by_package_self_ms": dict(sorted(((p, round(v, 1)) for p, v in by_package.items()), key=lambda x: -x[1])[:8]),
        "top_self": [
            {"module": m, **_rounded(medians[m])} for m in sorted(medians, key=lambda m: -medians[m]["self_ms"])[:8]
        ],
    }


def _rounded(times: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 1) for key, value in times.items()}


def measure_large(rules: int, timeout: float, seed: int) -> dict[str, Any]:
    """One parse + check of `rules` rules in a subprocess, given up after `timeout` seconds."""
    command = [sys.executable, str(Path(__file__).resolve()), "--single", str(rules), "--seed", str(seed)]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"rules": rules, "completed": False, "timeout_seconds": timeout}
    if done.returncode != 0:
        return {"rules": rules, "completed": False, "error": done.stderr[-800:]}
    return {"completed": True, **json.loads(done.stdout)}


# --- where the time goes ---

_COMPONENTS = (
    ("lark/parsers/", "Lark LALR parser loop"),
    ("lark/lexer.py", "Lark contextual lexer"),
    ("lark/parse_tree_builder.py", "Lark tree building + propagate_positions"),
    ("lark/tree.py", "Lark tree building + propagate_positions"),
    ("lark/visitors.py", "Lark Transformer dispatch + v_args wrappers"),
    ("/lark/", "Lark, other"),
    ("policylang/syntax/parser.py", "policylang.syntax.parser (node building, _too_deep)"),
    ("policylang/semantics/checker.py", "policylang checker (checker, expressions, datatypes)"),
    ("policylang/semantics/expression_checker.py", "policylang checker (checker, expressions, datatypes)"),
    ("policylang/core/datatypes.py", "policylang checker (checker, expressions, datatypes)"),
    ("policylang/", "policylang, other (nodes, source, values, diagnostics)"),
    ("~", "built-ins (getattr, isinstance, re.match, ...)"),
)


def profile_check(sizes: Sequence[int], seed: int, gc_runs: int) -> dict[str, Any]:
    """Where parse + check spends its time: the garbage collector's share at each size (CPU time with gc
    on and off, taking turns), and a cProfile of one run at the largest size with gc off, grouped by
    component and by function (gc off, so that collections are not charged to whichever function
    happened to allocate when one started)."""
    garbage_collector: list[dict[str, Any]] = []
    for rules in sizes:
        text = generate_policy(rules, seed)
        filename = f"generated_{rules}.policy"
        check(text, filename)
        timing = _time(
            {
                "gc_on": functools.partial(check, text, filename),
                "gc_off": functools.partial(_without_gc, check, text, filename),
                "gc_threshold": functools.partial(_with_gc_threshold, text, filename),
            },
            gc_runs,
        )
        on, off = timing["gc_on"]["cpu"]["median"], timing["gc_off"]["cpu"]["median"]
        tuned = timing["gc_threshold"]["cpu"]["median"]
        garbage_collector.append(
            {
                "rules": rules,
                **timing,
                "gc_share": round((on - off) / on, 3) if on else None,
                "gc_threshold_saving": round((on - tuned) / on, 3) if on else None,
            }
        )
    rules = max(sizes)
    positions = _propagate_positions_cost(text, gc_runs)
    gc.disable()
    try:
        profiler = cProfile.Profile()
        profiler.enable()
        check(text, filename)
        profiler.disable()
    finally:
        gc.enable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]  # pstats keeps its table here, untyped
    total = sum(entry[2] for entry in raw.values())
    components: dict[str, float] = {}
    functions: list[tuple[float, float, int, str]] = []
    for (path, line, name), (_cc, calls, tottime, cumtime, _callers) in raw.items():
        label = next((label for key, label in _COMPONENTS if key in path.replace("\\", "/")), "Python stdlib")
        components[label] = components.get(label, 0.0) + tottime
        short = _short_path(path)
        functions.append((tottime, cumtime, calls, f"{short}:{line}({name})"))
    functions.sort(reverse=True)
    return {
        "rules": rules,
        "garbage_collector": garbage_collector,
        "gc_threshold_tried": GC_THRESHOLD_TRIED,
        "propagate_positions": positions,
        "profiled_seconds": round(total, 3),
        "components": {k: round(v / total, 3) for k, v in sorted(components.items(), key=lambda kv: -kv[1])},
        "top_functions": [
            {
                "function": f,
                "calls": calls,
                "self_share": round(tt / total, 3),
                "cumulative_share": round(ct / total, 3),
            }
            for tt, ct, calls, f in functions[:12]
        ],
        "key_cumulative_shares": _key_shares(raw, total),
    }


def _with_gc_threshold(text: str, filename: str) -> None:
    old = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD_TRIED)
    try:
        check(text, filename)
    finally:
        gc.set_threshold(*old)


def _propagate_positions_cost(text: str, runs: int) -> dict[str, Any]:
    """Lark's parse alone (no Transformer) of `text`, with policylang's grammar and options as they are,
    and the same with propagate_positions=False: what the positions cost. gc off for both."""
    options = dict(parser_module._lark().options.options)
    grammar = parser_module._lark().source_grammar
    options.update(cache=False, propagate_positions=True)
    with_positions = lark.Lark(grammar, **options)
    options.update(propagate_positions=False)
    without_positions = lark.Lark(grammar, **options)
    timing = _time(
        {
            "positions_on": functools.partial(_without_gc, with_positions.parse, text),
            "positions_off": functools.partial(_without_gc, without_positions.parse, text),
        },
        runs,
    )
    on, off = timing["positions_on"]["cpu"]["median"], timing["positions_off"]["cpu"]["median"]
    return {**timing, "share_of_lark_parse": round((on - off) / on, 3) if on else None}


def _short_path(path: str) -> str:
    """`lark/lexer.py`, `policylang/syntax/parser.py`, `functools.py`: a profiled file without its install prefix."""
    path = path.replace("\\", "/")
    for marker in ("site-packages/", str(ROOT).replace("\\", "/") + "/", "/lib/python"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python":
                path = path.split("/", 1)[-1]  # drop the "3.11/" of the standard library folder
    return path


def _without_gc(action: Callable[..., object], *args: object) -> None:
    gc.disable()
    try:
        action(*args)
    finally:
        gc.enable()


def _key_shares(raw: dict[Any, Any], total: float) -> dict[str, float]:
    """Cumulative shares of the functions that mark the pipeline's stages."""
    marks = {
        "lark.Lark.parse (lex + LALR + tree)": ("lark/lark.py", "parse"),
        "lexing (lark lexer.lex)": ("lark/lexer.py", "lex"),
        "Transformer (_Builder.transform)": ("lark/visitors.py", "transform"),
        "_too_deep": ("policylang/syntax/parser.py", "_too_deep"),
        "checker (_Checker.run)": ("policylang/semantics/checker.py", "run"),
        "sort_and_cap": ("policylang/core/diagnostics.py", "sort_and_cap"),
    }
    shares: dict[str, float] = {}
    for label, (file_part, function) in marks.items():
        best = max(
            (entry[3] for (path, _line, name), entry in raw.items() if file_part in path and name == function),
            default=0.0,
        )
        shares[label] = round(best / total, 3)
    return shares


# --- putting it together ---


def collect(
    settings: Settings, large: bool = False, profile: bool = False, large_timeout: float = 150.0
) -> dict[str, Any]:
    """Every measurement of one run, as the dict that goes to parse_check.json."""
    results: dict[str, Any] = {"machine": machine_info(), "quick": settings.repeats == QUICK.repeats, "sizes": []}
    for rules in settings.sizes:
        _progress(f"parse + check, {rules:,} rules x {settings.repeats[rules]}")
        results["sizes"].append(measure_size(rules, settings.repeats[rules], settings.seed))
    by_rules = {entry["rules"]: entry for entry in results["sizes"]}
    if 1_000 in by_rules and 10_000 in by_rules:
        results["growth_1k_to_10k"] = _growth(by_rules[1_000], by_rules[10_000])
    if large:
        _progress(f"parse + check, {LARGE_RULES:,} rules x 1 (subprocess, limit {large_timeout:.0f} s)")
        results["large"] = measure_large(LARGE_RULES, large_timeout, settings.seed)
        if results["large"].get("completed") and 10_000 in by_rules:
            results["growth_10k_to_100k"] = _growth(by_rules[10_000], results["large"])
    _progress(f"CLI start-up x {settings.cli_runs}")
    results["cli"] = measure_cli(settings.cli_runs)
    _progress(f"Lark cache off / cold / warm x {settings.cache_runs}")
    results["lark_cache"] = measure_lark_cache(settings.cache_runs)
    _progress(f"import time x {settings.importtime_runs}")
    results["import_time"] = measure_import_time(settings.importtime_runs)
    if profile:
        sizes = [size for size in settings.sizes if size >= 1_000] or list(settings.sizes)
        _progress(f"garbage collector at {', '.join(f'{s:,}' for s in sizes)} rules; profile at {max(sizes):,}")
        results["profile"] = profile_check(sizes, settings.seed, settings.profile_gc_runs)
    results["aims"] = _aims(results)
    results["machine"]["load_average_after"] = load_average()
    return results


def _growth(smaller: dict[str, Any], larger: dict[str, Any]) -> dict[str, Any]:
    """How much longer the larger policy takes: ratios of the medians (equal to rules_ratio if linear)."""
    growth: dict[str, Any] = {
        "from": smaller["rules"],
        "to": larger["rules"],
        "rules_ratio": larger["rules"] / smaller["rules"],
    }
    for key in ("parse", "parse_check"):
        for clock in ("cpu", "wall"):
            if key in smaller and key in larger:
                ratio = larger[key][clock]["median"] / smaller[key][clock]["median"]
                growth[f"{key}_{clock}_ratio"] = round(ratio, 2)
    return growth


def _aims(results: dict[str, Any]) -> dict[str, Any]:
    """The issue's two aims, judged on CPU time (the machine is shared; see docs/performance.md), with
    the wall time alongside."""
    aims: dict[str, Any] = {}
    big = next((s for s in results["sizes"] if s["rules"] == 10_000), None)
    if big is not None:
        wall, cpu = big["parse_check"]["wall"]["median"], big["parse_check"]["cpu"]["median"]
        aims["10k_rules_parse_check"] = {
            "aim_seconds": AIM_10K_SECONDS,
            "cpu": cpu,
            "wall": wall,
            "met_cpu": cpu < AIM_10K_SECONDS,
            "met_wall": wall < AIM_10K_SECONDS,
        }
    commands = results.get("cli", {}).get("commands", {})
    name = next((k for k in commands if k.startswith(("policy check", "python -m")) and "via" not in k), None)
    if name is not None:
        timing = commands[name]
        aims["small_file_cli"] = {
            "aim_seconds": AIM_CLI_SECONDS,
            "command": name,
            "cpu": timing["cpu"]["median"],
            "wall": timing["wall"]["median"],
            "wall_min": timing["wall"]["min"],
            "met_cpu": timing["cpu"]["median"] < AIM_CLI_SECONDS,
            "met_wall": timing["wall"]["median"] < AIM_CLI_SECONDS,
        }
    return aims


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a fast smoke run: 100 and 1,000 rules, few repeats; writes nothing"
    )
    parser.add_argument(
        "--large", action="store_true", help=f"add one run at {LARGE_RULES:,} rules (subprocess, time limit)"
    )
    parser.add_argument("--large-timeout", type=float, default=150.0, help="seconds before the large run is given up")
    parser.add_argument("--profile", action="store_true", help="add a cProfile and garbage-collector breakdown")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file and docs alone")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated policies")
    parser.add_argument(
        "--render", action="store_true", help="rewrite the doc section from the saved results file; measure nothing"
    )
    parser.add_argument("--single", type=int, help=argparse.SUPPRESS)  # internal: one size, JSON out (for --large)
    args = parser.parse_args(argv)
    if args.single is not None:
        print(json.dumps(measure_size(args.single, repeats=1, seed=args.seed, memory=False, parse_too=False)))
        return
    if args.render:
        results = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
        write_section(SECTION, render_section(results))
        print(render_table(results))
        return
    base = QUICK if args.quick else FULL
    settings = dataclasses.replace(base, seed=args.seed)
    results = collect(settings, large=args.large, profile=args.profile, large_timeout=args.large_timeout)
    print(render_table(results))
    if args.quick or args.no_write:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS_FILE.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    tmp.replace(RESULTS_FILE)
    write_section(SECTION, render_section(results))
    print(f"wrote {RESULTS_FILE.relative_to(ROOT)} and {SECTION!r} in docs/performance.md", file=sys.stderr)


if __name__ == "__main__":
    main()
