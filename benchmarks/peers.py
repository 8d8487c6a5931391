"""policylang against peer rules engines: the same rules, the same customers, the same answers, then speed.

    python benchmarks/peers.py            # the whole benchmark (installs the peers first if missing)
    python benchmarks/peers.py --quick    # 10 and 100 rules, 200 customers; prints, writes nothing
    python benchmarks/peers.py --shapes-only  # only the table by policy shape and path (peer_shapes.py)
    python benchmarks/peers.py --render   # the doc section again from benchmarks/results/peers.json

For 10, 100, 1,000 and 10,000 rules (`peer_rules.generate_rules`), each engine in `peer_engines`
is built from its rendering of the same rule set and must give exactly the outputs of the
hand-written function on every one of 2,000 random customers (which is itself checked against a
direct evaluation of the abstract rules). An engine that disagrees is reported with a minimised
example (the fewest rules and one customer) and gets no timings at that size. Then, single-threaded:

- decisions per second: the median of several timed passes over all the customers, the engines
  interleaved pass by pass so that a burst of load on the machine hits them all;
- policylang's `decide_many` throughput (the same passes through the batch API);
- build ("compile") time: the median of up to three builds from the engine's rendered form;
- memory of the built engine, each in a fresh subprocess: `tracemalloc` (Python allocations held
  after the build, and the peak during it) and the process's resident set (growth after the build,
  and the peak during it), since zen-engine's and regorus's Rust heaps are invisible to tracemalloc.

A full run writes benchmarks/results/peers.json, docs/performance-throughput.png and the section of
docs/performance.md between `<!-- peers:start -->` and `<!-- peers:end -->`, then runs
`peer_shapes.py` (policylang on four policy shapes and three paths, beside the hand-written
baselines) and rewrites its section. The yardsticks are two hand-written functions: one tests every
rule, the fair one stops at the first match in resolution order as policylang does. Timings are
reported, never asserted; the machine is shared, so read ratios within one run.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # peer_rules.py, peer_engines.py and report.py sit beside this file

import report  # noqa: E402  # found through the path set just above

REQUIREMENTS = HERE / "requirements.txt"
RESULTS_FILE = HERE / "results" / "peers.json"
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "performance-throughput.png"
START, END = "<!-- peers:start -->", "<!-- peers:end -->"

FULL_SIZES = (10, 100, 1_000, 10_000)
QUICK_SIZES = (10, 100)
PASS_LIMIT_SECONDS = 120.0
"""An engine whose one pass over the customers (the agreement check) would take longer is skipped at that size."""
TIMING_BUDGET_SECONDS = 60.0
"""Timed passes after the agreement check stop once an engine has spent this long (at least one pass is kept)."""
BUILD_REPEAT_LIMIT_SECONDS = 3.0
"""Builds faster than this are repeated (three in all) and the median reported."""
PROFILE_SIZES = (100, 10_000)
AIM_PEER_RATIO = 1.0
AIM_HANDWRITTEN_RATIO_AT_100 = 0.5
AIM_FAIR_RATIO = 0.5
"""Issue 14: decide() at least half the speed of the hand-written function that stops at the first match."""
AIM_SCALING_RATIO_10K_TO_100 = 0.25
AIM_COMPILE_SECONDS_10K = 5.0
AIM_MEMORY_MB_10K = 200.0


# --- installing the peers ---


def ensure_requirements(install: bool) -> list[str]:
    """Installs benchmarks/requirements.txt when one of its modules does not import; returns notes."""
    wanted = {
        "zen": "zen-engine",
        "rule_engine": "rule-engine",
        "regorus": "gordon-to-regorus",
        "cedarpy": "cedarpy",
        "matplotlib": "matplotlib",
    }
    missing = [module for module in wanted if not _imports(module)]
    if not missing:
        return []
    notes = [f"missing: {', '.join(missing)}"]
    if not install:
        return [*notes, "not installing (--no-install); those engines are reported as unavailable"]
    print(f"installing benchmark requirements ({', '.join(missing)} missing) ...", flush=True)
    command = [sys.executable, "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
    if subprocess.run(command, check=False).returncode != 0:
        # One package that does not install on this platform must not stop the others.
        for line in REQUIREMENTS.read_text().splitlines():
            requirement = line.split("#", 1)[0].strip()
            if requirement:
                done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement], check=False)
                if done.returncode != 0:
                    notes.append(f"`pip install {requirement}` failed")
    import importlib

    importlib.invalidate_caches()
    still = [module for module in wanted if not _imports(module)]
    notes.append(f"still missing after install: {', '.join(still)}" if still else "installed")
    return notes


def _imports(module: str) -> bool:
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


# --- the machine ---


def machine_info() -> dict[str, Any]:
    """The shared machine record of report.py, plus memory and the policylang source hash."""
    info: dict[str, Any] = dict(report.machine_info())
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        info["memory_gib"] = None
    info["policylang_source_sha256"] = _source_hash()
    return info


def _source_hash() -> str:
    """A hash of policylang's sources as measured: the working tree may hold changes no commit names."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "policylang").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".lark"):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --- memory of one build, in a fresh process ---


_WARM: set[str] = set()


def warm_up(engine: Any) -> None:
    """Builds and runs the engine once on a one-rule policy, so that lazy imports, grammar tables and
    the like are not counted in the first real build's time or memory."""
    import peer_rules as pr

    if engine.key in _WARM:
        return
    _WARM.add(engine.key)
    try:
        built = engine.build(pr.generate_rules(1, 12345))
        built.decide(built.prepare(pr.random_customers(1, 12345)[0]))
    except Exception:
        pass  # the real build reports the problem


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _malloc_trim() -> bool:
    """glibc keeps freed heap pages; malloc_trim(0) returns them to the system (False if unavailable)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def measure_memory_here(engine_key: str, rules_count: int, seed: int, mode: str) -> dict[str, Any]:
    """Runs inside the subprocess: render (not counted), then build and measure. `mode` is "rss" or
    "tracemalloc" (tracemalloc's own bookkeeping would inflate the resident set, so they run apart)."""
    import peer_engines as pe
    import peer_rules as pr

    engine = pe.BY_KEY[engine_key]
    warm_up(engine)
    rules = pr.generate_rules(rules_count, seed)
    rendered = engine.render(rules)
    gc.collect()
    result: dict[str, Any] = {"engine": engine_key, "rules": rules_count, "mode": mode}
    if mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        built = engine.load(rendered, rules)
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_retained_bytes"] = current - before
        result["tracemalloc_peak_bytes"] = peak - before
    else:
        try:  # reset the high-water mark so that VmHWM is the peak of the build alone
            Path("/proc/self/clear_refs").write_text("5")
            result["hwm_reset"] = True
        except OSError:
            result["hwm_reset"] = False
        _malloc_trim()
        rss_before = _status_kib("VmRSS")
        built = engine.load(rendered, rules)
        gc.collect()
        rss_after = _status_kib("VmRSS")
        hwm = _status_kib("VmHWM")
        trimmed = _malloc_trim()
        rss_trimmed = _status_kib("VmRSS")
        if rss_before is not None and rss_after is not None:
            result["rss_untrimmed_growth_bytes"] = (rss_after - rss_before) * 1024
            # What the process still holds once the C allocator has given freed pages back: the
            # resident-set cost of keeping the built engine (compile-time garbage excluded).
            result["rss_growth_bytes"] = ((rss_trimmed if trimmed and rss_trimmed else rss_after) - rss_before) * 1024
            result["malloc_trim"] = trimmed
            if hwm is not None and result["hwm_reset"]:
                result["rss_peak_growth_bytes"] = (hwm - rss_before) * 1024
    del built
    return result


def measure_memory(engine_key: str, rules_count: int, seed: int) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for mode in ("rss", "tracemalloc"):
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--memory-probe",
            engine_key,
            str(rules_count),
            str(seed),
            mode,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            merged[f"{mode}_error"] = "timed out after 900 s"
            continue
        if done.returncode != 0:
            merged[f"{mode}_error"] = (done.stderr.strip().splitlines() or ["failed"])[-1][:300]
            continue
        merged.update(json.loads(done.stdout.strip().splitlines()[-1]))
    merged.pop("mode", None)
    return merged


# --- agreement ---


def minimise(
    engine: Any, rules: Any, customer: dict[str, Any], expected_of: Any, fired: list[int] | None
) -> dict[str, Any]:
    """The fewest rules (greedy, one at a time) for which `engine` still disagrees with the reference on
    `customer`. Starts from the rules that match (by direct evaluation) plus those the engine says fired."""
    import peer_rules as pr

    def disagrees(indexes: list[int]) -> tuple[bool, Any, Any]:
        subset = rules.subset(indexes)
        try:
            built = engine.build(subset)
            got = built.normalise(built.decide(built.prepare(customer)))
        except Exception as exc:  # an engine that fails on a subset: that is a disagreement too
            got = f"error: {type(exc).__name__}: {str(exc)[:200]}"
        want = expected_of(subset)
        return got != want, got, want

    candidates = sorted({r.index for r in rules.rules if pr.matches(r.condition, customer)} | set(fired or ()))
    builds = 0
    still, got, want = disagrees(candidates)
    builds += 1
    if not still:
        candidates = [r.index for r in rules.rules]
        still, got, want = True, None, None
    if len(candidates) <= 200:
        changed = True
        while changed and builds < 400:
            changed = False
            for index in list(candidates):
                trial = [i for i in candidates if i != index]
                if not trial:
                    continue
                builds += 1
                bad, g, w = disagrees(trial)
                if bad:
                    candidates, got, want, changed = trial, g, w, True
    if got is None:
        _, got, want = disagrees(candidates)
    kept = [r for r in rules.rules if r.index in set(candidates)]
    rendered = engine.render(rules.subset(candidates))
    return {
        "rules": [pr.describe_rule(r) for r in kept],
        "rendered": rendered if isinstance(rendered, str) else json.dumps(rendered)[:4000],
        "facts": customer,
        "engine_says": got,
        "reference_says": want,
        "minimised": len(kept) < len(rules.rules),
        "rule_indexes": [r.index for r in kept],
    }


# --- timing ---


def timed_pass(decide: Any, prepared: list[Any]) -> tuple[float, float, list[Any]]:
    """(wall seconds, CPU seconds of this process, answers) for one decision per prepared customer."""
    cpu, started = time.process_time(), time.perf_counter()
    raws = [decide(p) for p in prepared]
    return time.perf_counter() - started, time.process_time() - cpu, raws


def timed_batch(decide_many: Any, prepared: list[Any]) -> tuple[float, float, list[Any]]:
    cpu, started = time.process_time(), time.perf_counter()
    raws = list(decide_many(prepared))
    return time.perf_counter() - started, time.process_time() - cpu, raws


def profile_decide(built: Any, prepared: list[Any], rules_count: int) -> dict[str, Any]:
    """cProfile of one pass of `decide`: the top functions by own time, and own time grouped by where it is."""
    profiler = cProfile.Profile()
    profiler.enable()
    for facts in prepared:
        built.decide(facts)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    groups: dict[str, float] = defaultdict(float)
    for (filename, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = _where(filename)
        groups[where] += tottime
        rows.append(
            {
                "function": f"{where}:{line}({function})" if line else f"{where}({function})",
                "calls": calls,
                "own_seconds": round(tottime, 4),
                "cumulative_seconds": round(cumtime, 4),
            }
        )
    rows.sort(key=lambda r: -r["own_seconds"])

    def callees(is_parent: Any) -> list[dict[str, Any]]:
        """Cumulative time of each function called by the function(s) `is_parent` picks, largest first."""
        found = []
        for (filename, line, function), (_, _, _, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
            for (c_file, _c_line, c_function), edge in callers.items():
                if is_parent(c_file, c_function):
                    found.append(
                        {
                            "function": f"{_where(filename)}:{line}({function})"
                            if line
                            else f"{_where(filename)}({function})",
                            "share": round(edge[3] / total, 3),
                        }
                    )
        return sorted(found, key=lambda r: -r["share"])[:8]

    decide_own = sum(
        tottime
        for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items()  # type: ignore[attr-defined]
        if filename.startswith("<policy") and function == "decide"
    )
    return {
        "phases_of_decide": callees(lambda f, fn: f.endswith("evaluator.py") and fn == "decide"),
        "called_by_generated_function": callees(lambda f, fn: f.startswith("<policy") and fn == "decide"),
        "generated_function_own_share": round(decide_own / total, 3),
        "rules": rules_count,
        "decisions": len(prepared),
        "profiled_seconds": round(total, 4),
        "microseconds_per_decision_profiled": round(total / len(prepared) * 1e6, 1),
        "by_place": {k: round(v / total, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:10]},
        "top_own_time": rows[:15],
    }


def _where(filename: str) -> str:
    if filename.startswith("<policy"):
        return "generated decide() " + filename
    if filename == "~":
        return "builtins"
    path = filename.replace("\\", "/")
    for marker in ("/policylang/", "/site-packages/"):
        if marker in path:
            return path.split(marker, 1)[1] if marker == "/site-packages/" else "policylang/" + path.split(marker, 1)[1]
    return Path(path).name


# --- one size ---


def run_size(
    rules_count: int,
    customers_count: int,
    seed: int,
    engines: list[Any],
    repeats: int,
    projected_pass: dict[str, float],
    memory: bool,
    profile: bool,
) -> dict[str, Any]:
    import peer_rules as pr

    print(f"\n== {rules_count:,} rules, {customers_count:,} customers", flush=True)
    rules = pr.generate_rules(rules_count, seed)
    customers = pr.random_customers(customers_count, seed + 1)
    direct = [pr.normalise_plain(pr.fold([r for r in rules.rules if pr.matches(r.condition, c)])) for c in customers]
    matched = [sum(1 for r in rules.rules if pr.matches(r.condition, c)) for c in customers]
    size: dict[str, Any] = {
        "rules": rules_count,
        "customers": customers_count,
        "rules_matched_per_decision": round(statistics.mean(matched), 2),
        "policylang_lines": pr.to_policylang(rules).count("\n"),
        "engines": {},
    }

    def reference_for(subset: Any) -> dict[str, Any]:
        return pr.normalise_plain(pr.build_python(subset)(dict(customer_box["c"])))

    customer_box: dict[str, Any] = {}
    state: dict[str, dict[str, Any]] = {}
    reference: list[dict[str, Any]] | None = None
    for engine in engines:
        entry: dict[str, Any] = {"label": engine.label}
        size["engines"][engine.key] = entry
        ok, why = engine.available()
        if not ok:
            entry.update(status="unavailable", reason=why)
            print(f"  {engine.key:<18} unavailable: {why}", flush=True)
            continue
        projected = projected_pass.get(engine.key)
        if projected is not None and projected > 3 * PASS_LIMIT_SECONDS:
            # Far over the limit by the previous size (10x the rules): not even built. Closer calls
            # are built and measured on a few customers below.
            entry.update(
                status="skipped",
                reason=f"one pass over {customers_count:,} customers would take about {projected:,.0f} s "
                f"(> {PASS_LIMIT_SECONDS:.0f} s), projected from the previous size (10x fewer rules)",
            )
            projected_pass[engine.key] = projected * 10
            print(f"  {engine.key:<18} skipped: {entry['reason']}", flush=True)
            continue
        warm_up(engine)
        rendered = engine.render(rules)
        gc.collect()
        try:
            started = time.perf_counter()
            built = engine.load(rendered, rules)
            build_seconds = [time.perf_counter() - started]
        except Exception as exc:
            entry.update(status="failed", reason=f"build failed: {type(exc).__name__}: {_first_line(exc)}")
            print(f"  {engine.key:<18} {entry['reason']}", flush=True)
            continue
        prepared = [built.prepare(c) for c in customers]
        probe = prepared[: min(20, len(prepared))]
        try:
            probe_seconds, _, _ = timed_pass(built.decide, probe)
        except Exception as exc:
            entry.update(status="failed", reason=f"decide failed: {type(exc).__name__}: {_first_line(exc)}")
            print(f"  {engine.key:<18} {entry['reason']}", flush=True)
            continue
        estimate = probe_seconds / len(probe) * len(prepared)
        if estimate > PASS_LIMIT_SECONDS:
            entry.update(
                status="skipped",
                reason=f"one pass over {customers_count:,} customers would take about {estimate:,.0f} s "
                f"(> {PASS_LIMIT_SECONDS:.0f} s), measured on {len(probe)} customers",
            )
            projected_pass[engine.key] = estimate * 10
            print(f"  {engine.key:<18} skipped: {entry['reason']}", flush=True)
            continue
        # The agreement check is also the first timed pass.
        try:
            seconds, cpu_seconds, raws = timed_pass(built.decide, prepared)
            outputs = [built.normalise(r) for r in raws]
        except Exception as exc:
            entry.update(status="failed", reason=f"decide failed: {type(exc).__name__}: {_first_line(exc)}")
            print(f"  {engine.key:<18} {entry['reason']}", flush=True)
            continue
        projected_pass[engine.key] = seconds * 10
        if engine.key == "python":
            wrong = [i for i, (a, b) in enumerate(zip(outputs, direct, strict=True)) if a != b]
            if wrong:
                raise SystemExit(
                    f"the hand-written function disagrees with direct evaluation of the rules on {len(wrong)} "
                    f"customers (first: {customers[wrong[0]]}: {outputs[wrong[0]]} != {direct[wrong[0]]}): "
                    "a bug in benchmarks/peer_rules.py; no timings are valid"
                )
            reference = outputs
        expected = reference if reference is not None else direct
        wrong = [i for i, (a, b) in enumerate(zip(outputs, expected, strict=True)) if a != b]
        if wrong:
            first = wrong[0]
            customer_box["c"] = customers[first]
            fired = built.fired(raws[first]) if built.fired else None
            example = minimise(engine, rules, customers[first], reference_for, fired)
            entry.update(
                status="disagrees",
                reason=f"different outputs on {len(wrong):,} of {customers_count:,} customers; no timings reported",
                disagreements=len(wrong),
                example=example,
            )
            print(f"  {engine.key:<18} DISAGREES on {len(wrong):,} customers; minimal example:", flush=True)
            for line in example["rules"]:
                print(f"      {line}")
            print(
                f"      facts {example['facts']}\n      engine {example['engine_says']}\n"
                f"      reference {example['reference_says']}"
            )
            continue
        del raws, outputs
        entry.update(status="ok", version=engine.version())
        # More builds for the median when they are cheap.
        while build_seconds[-1] < BUILD_REPEAT_LIMIT_SECONDS and len(build_seconds) < 3:
            del built
            gc.collect()
            started = time.perf_counter()
            built = engine.load(rendered, rules)
            build_seconds.append(time.perf_counter() - started)
        entry["build_seconds"] = round(statistics.median(build_seconds), 4)
        entry["build_samples"] = [round(s, 4) for s in build_seconds]
        state[engine.key] = {
            "built": built,
            "prepared": prepared,
            "samples": [seconds],
            "cpu_samples": [cpu_seconds],
            "spent": seconds,
        }
        print(
            f"  {engine.key:<18} agrees; first pass {len(prepared) / seconds:>12,.0f} decisions/s; "
            f"build {entry['build_seconds']:.3f} s",
            flush=True,
        )
        if engine.key == "policylang" and built.decide_many is not None:
            batch_seconds, batch_cpu, batch_raws = timed_batch(built.decide_many, prepared)
            batch_outputs = [built.normalise(r) for r in batch_raws]
            if batch_outputs != expected:
                size["engines"]["policylang_many"] = {
                    "label": "policylang decide_many()",
                    "status": "disagrees",
                    "reason": "decide_many differs from the reference",
                }
            else:
                size["engines"]["policylang_many"] = {
                    "label": "policylang decide_many()",
                    "status": "ok",
                    "version": engine.version(),
                }
                state["policylang_many"] = {
                    "built": built,
                    "prepared": prepared,
                    "samples": [batch_seconds],
                    "cpu_samples": [batch_cpu],
                    "spent": batch_seconds,
                    "batch": True,
                }
            del batch_raws, batch_outputs

    # Is the disagreeing engine the odd one out? The other engines that agreed at this size, on the
    # minimal example.
    for entry in size["engines"].values():
        example = entry.get("example")
        if not example:
            continue
        subset = rules.subset(example["rule_indexes"])
        others: dict[str, Any] = {}
        for engine in engines:
            if size["engines"].get(engine.key, {}).get("status") != "ok":
                continue
            try:
                built_other = engine.build(subset)
                others[engine.label] = built_other.normalise(built_other.decide(built_other.prepare(example["facts"])))
            except Exception as exc:
                others[engine.label] = f"error: {_first_line(exc)}"
        example["other_engines_say"] = others
        example["others_agree_with_reference"] = all(v == example["reference_says"] for v in others.values())

    # Interleaved timed passes.
    for _ in range(repeats - 1):
        for st in state.values():
            if st["spent"] >= TIMING_BUDGET_SECONDS:
                continue
            if st.get("batch"):
                seconds, cpu_seconds, _ = timed_batch(st["built"].decide_many, st["prepared"])
            else:
                seconds, cpu_seconds, _ = timed_pass(st["built"].decide, st["prepared"])
            st["samples"].append(seconds)
            st["cpu_samples"].append(cpu_seconds)
            st["spent"] += seconds
    for key, st in state.items():
        entry = size["engines"][key]
        rates = [customers_count / s for s in st["samples"]]
        cpu_rates = [customers_count / s for s in st["cpu_samples"] if s > 0]
        entry["decisions_per_cpu_second"] = round(statistics.median(cpu_rates), 1) if cpu_rates else None
        entry["decisions_per_second"] = round(statistics.median(rates), 1)
        entry["passes"] = len(rates)
        entry["rate_min"] = round(min(rates), 1)
        entry["rate_max"] = round(max(rates), 1)
        entry["microseconds_per_decision"] = round(1e6 / entry["decisions_per_second"], 2)
    if "policylang_many" in state and "build_seconds" in size["engines"].get("policylang", {}):
        size["engines"]["policylang_many"]["build_seconds"] = size["engines"]["policylang"]["build_seconds"]
    if profile and "policylang" in state:
        size["profile"] = profile_decide(state["policylang"]["built"], state["policylang"]["prepared"], rules_count)
    ordered = sorted(
        ((k, e) for k, e in size["engines"].items() if e.get("status") == "ok"),
        key=lambda kv: -kv[1]["decisions_per_second"],
    )
    for key, entry in ordered:
        print(
            f"  {key:<18} {entry['decisions_per_second']:>12,.0f} decisions/s (median of {entry['passes']})", flush=True
        )
    state.clear()
    gc.collect()
    if memory:
        for key, entry in size["engines"].items():
            if entry.get("status") == "ok" and key != "policylang_many":
                entry["memory"] = measure_memory(key, rules_count, seed)
                mem = entry["memory"]
                print(
                    f"  {key:<18} memory: retained {_mb(mem.get('tracemalloc_retained_bytes'))} MB (tracemalloc), "
                    f"RSS growth {_mb(mem.get('rss_growth_bytes'))} MB, "
                    f"RSS peak {_mb(mem.get('rss_peak_growth_bytes'))} MB",
                    flush=True,
                )
    return size


def _first_line(exc: BaseException) -> str:
    """An exception's message without the native backtrace some Rust bindings append."""
    text = str(exc).strip()
    return (text.split("\n\nStack backtrace:")[0].splitlines() or [""])[0][:300]


def _mb(value: Any) -> str:
    return "-" if value is None else f"{value / 1e6:,.1f}"


# --- aims ---


def _cpu_rate(by_rules: dict[int, Any], rules: int, key: str) -> float | None:
    entry = by_rules.get(rules, {}).get("engines", {}).get(key, {})
    return entry.get("decisions_per_cpu_second") if entry.get("status") == "ok" else None


def evaluate_aims(sizes: list[dict[str, Any]], engines: list[Any]) -> list[dict[str, Any]]:
    by_rules = {s["rules"]: s for s in sizes}
    peers = [e.key for e in engines if e.is_peer]
    aims: list[dict[str, Any]] = []

    def rate(rules: int, key: str) -> float | None:
        entry = by_rules.get(rules, {}).get("engines", {}).get(key, {})
        return entry.get("decisions_per_second") if entry.get("status") == "ok" else None

    def cpu_ratio(rules_a: int, key_a: str, rules_b: int, key_b: str) -> str:
        """The same ratio per CPU-second, which load from other jobs disturbs less."""
        a = by_rules.get(rules_a, {}).get("engines", {}).get(key_a, {}).get("decisions_per_cpu_second")
        b = by_rules.get(rules_b, {}).get("engines", {}).get(key_b, {}).get("decisions_per_cpu_second")
        return f"{a / b:,.3g}" if a and b else "?"

    for s in sizes:
        ours = rate(s["rules"], "policylang")
        compared = []
        met = ours is not None
        for key in peers:
            theirs = rate(s["rules"], key)
            if theirs is None:
                continue
            ratio = ours / theirs if ours else None
            on_cpu = cpu_ratio(s["rules"], "policylang", s["rules"], key)
            compared.append(f"{s['engines'][key]['label']} x{ratio:,.2f} (CPU x{on_cpu})" if ratio else key)
            met = met and ratio is not None and ratio > AIM_PEER_RATIO
        not_compared = [
            f"{s['engines'][k]['label']} ({s['engines'][k]['status']})"
            for k in peers
            if k in s["engines"] and s["engines"][k].get("status") != "ok"
        ]
        aims.append(
            {
                "aim": f"{s['rules']:,} rules: more decisions/s than every peer engine",
                "met": bool(met and compared),
                "measured": "policylang decide() / peer: "
                + (", ".join(compared) or "no peer measured")
                + (f"; not compared: {', '.join(not_compared)}" if not_compared else ""),
            }
        )
    ours, hand = rate(100, "policylang"), rate(100, "python")
    if ours and hand:
        aims.append(
            {
                "aim": f"100 rules: at least {AIM_HANDWRITTEN_RATIO_AT_100:.0%} of the hand-written function's speed",
                "met": ours / hand >= AIM_HANDWRITTEN_RATIO_AT_100,
                "measured": f"{ours / hand:.3f} ({ours:,.0f} / {hand:,.0f} decisions/s; "
                f"per CPU-second {cpu_ratio(100, 'policylang', 100, 'python')})",
            }
        )
    for rules in (100, 1_000, 10_000):
        ours_cpu = _cpu_rate(by_rules, rules, "policylang")
        fair_cpu = _cpu_rate(by_rules, rules, "python_first")
        if ours_cpu and fair_cpu:
            aims.append(
                {
                    "aim": f"{rules:,} rules: at least {AIM_FAIR_RATIO:.0%} of the fair hand-written function's speed "
                    "(first match, per CPU-second)",
                    "met": ours_cpu / fair_cpu >= AIM_FAIR_RATIO,
                    "measured": f"{ours_cpu / fair_cpu:.3f} "
                    f"({ours_cpu:,.0f} / {fair_cpu:,.0f} decisions per CPU-second)",
                }
            )
    small, large = rate(100, "policylang"), rate(10_000, "policylang")
    if small and large:
        aims.append(
            {
                "aim": f"10,000 rules: at least {AIM_SCALING_RATIO_10K_TO_100:.0%} of the 100-rule throughput",
                "met": large / small >= AIM_SCALING_RATIO_10K_TO_100,
                "measured": f"{large / small:.4f} ({large:,.0f} / {small:,.0f} decisions/s; "
                f"per CPU-second {cpu_ratio(10_000, 'policylang', 100, 'policylang')})",
            }
        )
    big = by_rules.get(10_000, {}).get("engines", {}).get("policylang", {})
    if big.get("build_seconds") is not None:
        aims.append(
            {
                "aim": f"compile 10,000 rules in under {AIM_COMPILE_SECONDS_10K:.0f} s",
                "met": big["build_seconds"] < AIM_COMPILE_SECONDS_10K,
                "measured": f"{big['build_seconds']:,.1f} s",
            }
        )
    memory = big.get("memory", {})
    retained, rss = memory.get("tracemalloc_retained_bytes"), memory.get("rss_growth_bytes")
    if retained is not None or rss is not None:
        values = [v for v in (retained, rss) if v is not None]
        aims.append(
            {
                "aim": f"a compiled 10,000-rule policy under {AIM_MEMORY_MB_10K:.0f} MB",
                "met": max(values) < AIM_MEMORY_MB_10K * 1e6,
                "measured": f"{_mb(retained)} MB held (tracemalloc), {_mb(rss)} MB resident-set growth "
                f"({_mb(memory.get('rss_untrimmed_growth_bytes'))} MB before malloc_trim); "
                f"peak during compile {_mb(memory.get('tracemalloc_peak_bytes'))} MB (tracemalloc), "
                f"{_mb(memory.get('rss_peak_growth_bytes'))} MB (resident set)",
            }
        )
    return aims


# --- outputs: JSON, plot, Markdown ---


def write_plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=110)
    keys: list[str] = []
    for s in results["sizes"]:
        for key in s["engines"]:
            if key not in keys:
                keys.append(key)
    styles = {
        "policylang": ("C0", "-", "o", 2.6),
        "policylang_many": ("C0", "--", "o", 1.6),
        "policylang_explained": ("C0", "-.", "^", 1.6),
        "python": ("0.35", ":", "s", 1.6),
    }
    colours = iter(["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"])
    for key in keys:
        points = [
            (s["rules"], s["engines"][key]["decisions_per_second"])
            for s in results["sizes"]
            if s["engines"].get(key, {}).get("status") == "ok"
        ]
        if not points:
            continue
        label = next(s["engines"][key]["label"] for s in results["sizes"] if key in s["engines"])
        colour, line, marker, width = styles[key] if key in styles else (next(colours), "-", "^", 1.6)
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, line, marker=marker, color=colour, linewidth=width, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rules in the policy")
    ax.set_ylabel("decisions per second (single thread, median)")
    machine = results["machine"]
    ax.set_title(
        f"Throughput against rule count\n{machine['cpu']}, {machine['cores']} cores, {machine['date']}", fontsize=10
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def render_section(results: dict[str, Any], includes: dict[str, str]) -> str:
    m = results["machine"]
    lines = [
        "## Decisions per second against peer engines",
        "",
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), Python {m['python']}, "
        f"{m['platform']}; policylang {results['versions'].get('policylang')} at {m['git_commit']} (sources "
        f"sha256 {m.get('policylang_source_sha256')}). Load average "
        f"before / after: {m['load_average_before']} / {results.get('load_average_after')}. The machine is shared "
        "with other jobs (test suites, other benchmarks), so absolute numbers move by tens of percent between "
        "runs; the aims below are ratios measured within this one run, with the engines' timed passes interleaved.",
        "",
        "Regenerate with `python benchmarks/peers.py` (installs `benchmarks/requirements.txt` first when a peer "
        "is missing; `--quick` runs 10 and 100 rules on 200 customers and writes nothing). Raw numbers: "
        "`benchmarks/results/peers.json`.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items() if v) + ".",
        "",
        "![decisions per second against rule count, log-log, one line per engine](performance-throughput.png)",
        "",
        "### The workload",
        "",
        "`benchmarks/peer_rules.py` generates one abstract rule set per size (seed "
        f"{results['settings']['seed']}) and renders it for every engine: conditions over `tier` (enum), "
        "`region` (string), tenure, `monthly_spend` (number), `complaints` (int) and `vip` (bool), with `==`, "
        "`!=`, `in`, `not in`, ordered comparisons, `between`, `or` groups and `not`; 70% of rules are for one "
        "segment (a tier in a region), 15% for one tier or region, 10% for a set of them, 5% for everybody. "
        "Actions set `sla` (resolve min, default 72h), `queue` (resolve priority; each rule that sets it has its "
        "own priority), `discount` (resolve max, default 0) and `skip_fraud_check` (resolve any). policylang "
        'gets tenure as a duration literal (`"400d"`); the peers get `tenure_days` as an int and thresholds '
        "like `6mo` as exact days (182.62125). A fifth of the customers sit exactly on a threshold.",
        "",
        f"Before anything is timed, every engine's outputs on all {results['settings']['customers']:,} customers "
        "must equal the hand-written function's, which must equal a direct evaluation of the abstract rules; "
        "an engine that differs is reported with a minimised example and gets no timings at that size.",
        "",
        "### Results",
        "",
        "Decisions per second are wall-clock (the median pass); the CPU column divides by the process's own CPU "
        "time instead, which other jobs on the machine disturb less. Ratios come first: policylang decide()'s "
        "wall rate over the engine's (above 1: policylang is faster), then the engine's CPU rate over the fair "
        "hand-written function's (Python that stops at the first match in resolution order, as policylang's "
        "outputs-only function does; the rule-order function tests every rule). **Every number in this table is "
        "for one policy shape**, the peer policy: four outputs resolving by min, priority, max and any, every "
        "action a constant. The section *Decisions per second by policy shape and path* below gives decide(), "
        "decide() + fired and decide() + trace on the shapes outside it (a `union` output, a computed action, "
        "the realistic generator).",
        "",
        "| rules | matched / decision | engine | policylang decide() ÷ engine | engine ÷ fair hand-written (CPU) "
        "| decisions/s (median) | per CPU-second "
        "| build s | memory held MB (tracemalloc / RSS growth) | peak MB during build (tracemalloc / RSS) | note |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in results["sizes"]:
        ours = s["engines"].get("policylang", {}).get("decisions_per_second")
        fair = s["engines"].get("python_first", {})
        fair_cpu = fair.get("decisions_per_cpu_second") if fair.get("status") == "ok" else None
        first = True
        for key, e in sorted(
            s["engines"].items(),
            key=lambda kv: (kv[1].get("status") != "ok", -(kv[1].get("decisions_per_second") or 0)),
        ):
            if e.get("status") == "ok":
                rate = f"{e['decisions_per_second']:,.0f}"
                cpu = f"{e['decisions_per_cpu_second']:,.0f}" if e.get("decisions_per_cpu_second") else ""
                ratio = f"{ours / e['decisions_per_second']:,.2f}" if ours and key != "policylang" else ""
                e_cpu = e.get("decisions_per_cpu_second")
                of_fair = f"{e_cpu / fair_cpu:,.2f}" if e_cpu and fair_cpu else ""
                build = f"{e['build_seconds']:,.3f}" if e.get("build_seconds") is not None else ""
                mem = e.get("memory", {})
                held = (
                    f"{_mb(mem.get('tracemalloc_retained_bytes'))} / {_mb(mem.get('rss_growth_bytes'))}" if mem else ""
                )
                peak = (
                    f"{_mb(mem.get('tracemalloc_peak_bytes'))} / {_mb(mem.get('rss_peak_growth_bytes'))}" if mem else ""
                )
                note = f"{e['passes']} passes, {e['rate_min']:,.0f} to {e['rate_max']:,.0f}"
                if key == "policylang_many":
                    note += "; same compiled policy as decide()"
            else:
                rate, cpu, ratio, of_fair, build, held, peak = "—", "", "", "", "", "", ""
                note = f"**{e['status']}**: {e.get('reason', '')}"
            lead = f"{s['rules']:,} | {s['rules_matched_per_decision']:,}" if first else " | "
            first = False
            lines.append(
                f"| {lead} | {e['label']} | {ratio} | {of_fair} | {rate} | {cpu} | {build} | {held} | {peak} | {note} |"
            )
    lines += ["", "### Aims", "", "| aim | measured | met |", "| --- | --- | --- |"]
    for aim in results["aims"]:
        lines.append(f"| {aim['aim']} | {aim['measured']} | {'met' if aim['met'] else '**not met**'} |")
    disagreements = [
        (s["rules"], k, e) for s in results["sizes"] for k, e in s["engines"].items() if e.get("status") == "disagrees"
    ]
    if disagreements:
        lines += ["", "### Disagreements", ""]
        for rules, _key, e in disagreements:
            ex = e.get("example", {})
            lines.append(
                f"- **{e['label']}** at {rules:,} rules: {e['reason']}. Minimal example "
                f"({len(ex.get('rules', []))} rule(s)):"
            )
            for rule in ex.get("rules", []):
                lines.append(f"  - `{rule}`")
            lines.append(f"  - facts `{json.dumps(ex.get('facts'))}`")
            if ex.get("other_engines_say"):
                verdict = "all give the reference's answer" if ex.get("others_agree_with_reference") else "they differ"
                lines.append(
                    f"  - the other engines on these rules and facts ({', '.join(ex['other_engines_say'])}): {verdict}"
                )
            lines.append(
                f"  - engine says `{json.dumps(ex.get('engine_says'))}`, "
                f"the reference `{json.dumps(ex.get('reference_says'))}`"
            )
    profiles = [s["profile"] for s in results["sizes"] if s.get("profile")]
    if profiles:
        lines += ["", "### Where policylang's decide() spends its time (cProfile, one pass)", ""]
        for p in profiles:
            places = ", ".join(f"{k} {v:.0%}" for k, v in list(p["by_place"].items())[:6])
            lines.append(
                f"- **{p['rules']:,} rules** ({p['microseconds_per_decision_profiled']:,} µs per decision "
                f"under the profiler): {places}."
            )
            top = "; ".join(
                f"`{r['function']}` {r['own_seconds'] / p['profiled_seconds']:.0%}" for r in p["top_own_time"][:5]
            )
            lines.append(f"  Top own time: {top}.")
            phases = "; ".join(f"`{r['function']}` {r['share']:.0%}" for r in p["phases_of_decide"][:5])
            lines.append(f"  Inside `Policy.decide` (cumulative): {phases}.")
            inner = "; ".join(f"`{r['function']}` {r['share']:.0%}" for r in p["called_by_generated_function"][:4])
            lines.append(
                f"  The generated decision function's own time (testing conditions, collecting proposals): "
                f"{p['generated_function_own_share']:.0%}; what it calls (cumulative): {inner}."
            )
    lines += ["", "### What each timing includes", ""]
    for key, text in includes.items():
        lines.append(f"- **{key}**: {text}")
    lines += [
        "- **policylang decide_many()**: `list(policy.decide_many(all customers))`: the same work as decide() "
        "with the clock read once per batch and the per-call set-up hoisted out of the loop.",
        "- Every engine: one decision per call, single thread, customers already in the engine's input form "
        "(building that form and normalising the answers for the agreement check are not timed). Garbage "
        "collection stays on. Build time is the median of up to three builds from the rendered rules "
        "(text, JSON, rule strings), rendering not included. Memory is measured in a fresh process per "
        "engine and size: tracemalloc sees only Python allocations (zen-engine and regorus keep their rules "
        "in Rust memory, which only the resident-set columns show); resident-set growth is after the build, "
        "a garbage collection and glibc's `malloc_trim(0)` (so heap pages the build freed but the allocator "
        "kept are not counted; `rss_untrimmed_growth_bytes` in the JSON is the figure before the trim), "
        "the peak is the high-water mark during the build.",
    ]
    return "\n".join(lines) + "\n"


def write_doc(section: str, doc: Path = DOC) -> None:
    block = f"{START}\n{section.strip()}\n{END}"
    if doc.exists():
        text = doc.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
        text = (
            pattern.sub(lambda _: block, text, count=1)
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + block + "\n"
        )
    else:
        try:  # the shared introduction, if the parse/check benchmark's helpers are here
            from report import INTRO

            intro = INTRO
        except Exception:
            intro = "# Performance\n"
        text = intro.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def print_summary(results: dict[str, Any]) -> None:
    print("\n" + "=" * 100)
    print(f"{'rules':>7} {'engine':<42} {'decisions/s':>12} {'build s':>9} {'held MB':>9}  status")
    for s in results["sizes"]:
        for e in s["engines"].values():
            rate = f"{e['decisions_per_second']:,.0f}" if e.get("status") == "ok" else "-"
            build = f"{e['build_seconds']:.3f}" if e.get("build_seconds") is not None else "-"
            mem = e.get("memory", {})
            held = _mb(
                max(
                    (v for v in (mem.get("tracemalloc_retained_bytes"), mem.get("rss_growth_bytes")) if v is not None),
                    default=None,
                )
            )
            print(
                f"{s['rules']:>7,} {e['label']:<42} {rate:>12} {build:>9} {held:>9}  "
                f"{e.get('status')} {e.get('reason', '')[:80]}"
            )
    print("\naims:")
    for aim in results["aims"]:
        print(f"  [{'met' if aim['met'] else 'NOT MET'}] {aim['aim']}: {aim['measured']}")


# --- main ---


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="10 and 100 rules, 200 customers; writes nothing unless --write"
    )
    parser.add_argument(
        "--sizes", type=lambda s: tuple(int(x) for x in s.split(",")), help="comma-separated rule counts"
    )
    parser.add_argument("--customers", type=int, help="customers per size (default 2,000; 200 with --quick)")
    parser.add_argument("--engines", type=lambda s: s.split(","), help="comma-separated engine keys (default: all)")
    parser.add_argument("--repeats", type=int, help="timed passes per engine (default 5; 3 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile of decide()")
    parser.add_argument("--no-install", action="store_true", help="do not pip install missing peers")
    parser.add_argument(
        "--write", action="store_true", help="write results, plot and docs (the default without --quick)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--shapes-only",
        action="store_true",
        help="only the table by policy shape and path (peer_shapes.py), not the peer engines",
    )
    parser.add_argument("--no-shapes", action="store_true", help="skip the table by policy shape and path")
    parser.add_argument(
        "--render",
        action="store_true",
        help="rewrite the doc section from benchmarks/results/peers.json, measuring nothing",
    )
    parser.add_argument("--memory-probe", nargs=4, metavar=("ENGINE", "RULES", "SEED", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_probe:
        engine_key, rules_count, seed, mode = args.memory_probe
        print(json.dumps(measure_memory_here(engine_key, int(rules_count), int(seed), mode)))
        return 0

    if args.shapes_only:
        return run_shapes(args)
    if args.render:
        return render_saved()

    os.environ.setdefault("RUST_BACKTRACE", "0")  # zen-engine's errors otherwise carry a native backtrace
    install_notes = ensure_requirements(install=not args.no_install)
    for note in install_notes:
        print(f"requirements: {note}")

    import peer_engines as pe

    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    customers = args.customers or (200 if args.quick else 2_000)
    repeats = args.repeats or (3 if args.quick else 5)
    engines = [pe.BY_KEY[k] for k in args.engines] if args.engines else list(pe.ENGINES)
    if "python" not in {e.key for e in engines}:
        engines.insert(0, pe.BY_KEY["python"])  # the reference every engine is checked against
    engines.sort(key=lambda e: e.key != "python")
    write = (args.write or not args.quick) and not args.no_write

    machine = machine_info()
    print(f"{machine['cpu']}, {machine['cores']} cores; load {machine['load_average_before']}; {machine['date']}")
    versions: dict[str, Any] = {"python": machine["python"]}
    for e in engines:
        if e.package:
            versions[e.package] = e.version()
    projected: dict[str, float] = {}
    results: dict[str, Any] = {
        "machine": machine,
        "versions": versions,
        "settings": {
            "sizes": list(sizes),
            "customers": customers,
            "repeats": repeats,
            "seed": args.seed,
            "pass_limit_seconds": PASS_LIMIT_SECONDS,
            "timing_budget_seconds": TIMING_BUDGET_SECONDS,
            "install_notes": install_notes,
        },
        "sizes": [],
    }
    started = time.perf_counter()
    for n in sizes:
        try:
            size = run_size(
                n,
                customers,
                args.seed,
                engines,
                repeats,
                projected,
                memory=not args.no_memory,
                profile=not args.no_profile and n in PROFILE_SIZES,
            )
        except SystemExit:
            raise
        except Exception:
            traceback.print_exc()
            return 1
        results["sizes"].append(size)
    results["load_average_after"] = report.load_average()
    results["machine"]["load_average_after"] = results["load_average_after"]
    results["elapsed_seconds"] = round(time.perf_counter() - started, 1)
    results["aims"] = evaluate_aims(results["sizes"], engines)
    includes = {e.label: e.includes for e in engines}
    results["includes"] = includes
    print_summary(results)
    for s in results["sizes"]:
        if s.get("profile"):
            p = s["profile"]
            print(
                f"\nprofile of decide() at {p['rules']:,} rules "
                f"({p['microseconds_per_decision_profiled']} µs/decision under cProfile):"
            )
            for k, v in p["by_place"].items():
                print(f"  {v:6.1%}  {k}")
            print("  called by Policy.decide (cumulative):")
            for r in p["phases_of_decide"]:
                print(f"  {r['share']:6.1%}  {r['function']}")
            print(
                f"  generated decide() own time (rule conditions, collecting proposals): "
                f"{p['generated_function_own_share']:.1%}; called by it (cumulative):"
            )
            for r in p["called_by_generated_function"]:
                print(f"  {r['share']:6.1%}  {r['function']}")
            for r in p["top_own_time"][:10]:
                print(
                    f"  {r['own_seconds']:8.3f}s own {r['cumulative_seconds']:8.3f}s cum "
                    f"{r['calls']:>9} calls  {r['function']}"
                )
    if write:
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_FILE.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        write_plot(results, PLOT)
        write_doc(render_section(results, includes))
        print(
            f"\nwrote {RESULTS_FILE.relative_to(ROOT)}, {PLOT.relative_to(ROOT)} "
            f"and the peers section of {DOC.relative_to(ROOT)}"
        )
    if not args.no_shapes:
        run_shapes(args)
    print(f"\ndone in {time.perf_counter() - started:,.0f} s")
    return 0


def render_saved() -> int:
    """The doc section again from the saved results (after a change to the rendering or the aims)."""
    import peer_engines as pe

    results = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
    results["aims"] = evaluate_aims(results["sizes"], list(pe.ENGINES))
    RESULTS_FILE.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    write_doc(render_section(results, results["includes"]))
    print(f"rewrote the peers section of {DOC.relative_to(ROOT)} from {RESULTS_FILE.relative_to(ROOT)}")
    return 0


def run_shapes(args: argparse.Namespace) -> int:
    """The side-by-side table by policy shape and path (peer_shapes.py), with this run's settings."""
    import peer_shapes

    forwarded = ["--rounds", str(args.repeats)] if args.repeats else []
    if args.sizes:
        forwarded += ["--sizes", ",".join(str(n) for n in args.sizes)]
    if args.customers:
        forwarded += ["--customers", str(args.customers)]
    if args.quick:
        forwarded.append("--quick")
    if (args.write or not args.quick) and not args.no_write:
        forwarded.append("--write")
    print("\n== decisions per second by policy shape and path (peer_shapes.py)", flush=True)
    return peer_shapes.main(forwarded)


if __name__ == "__main__":
    sys.exit(main())
