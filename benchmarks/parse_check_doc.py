"""Renders parse_check results (the dict benchmarks/run.py collects) as a console table and a Markdown section."""

from __future__ import annotations

from typing import Any

from report import RESULTS, ROOT

RESULTS_FILE = RESULTS / "parse_check.json"


def render_table(results: dict[str, Any]) -> str:
    """The plain-text summary printed at the end of a run (CPU medians first, wall medians after)."""
    lines = [
        f"{'rules':>8} {'lines':>8} {'parse':>9} {'parse+chk':>10} {'chk only':>9} {'wall p+c':>9} "
        f"{'rules/cpu-s':>11} {'peak MiB':>9}   (CPU medians unless marked wall)",
    ]
    for s in results["sizes"]:
        lines.append(
            f"{s['rules']:>8,} {s['lines']:>8,} {_s(_median(s, 'parse', 'cpu')):>9} "
            f"{_s(_median(s, 'parse_check', 'cpu')):>10} {_s(s.get('check_only_cpu_seconds')):>9} "
            f"{_s(_median(s, 'parse_check', 'wall')):>9} {s.get('rules_per_cpu_second') or 0:>11,} "
            f"{_mib(s.get('peak_memory_bytes')):>9}"
        )
    large = results.get("large")
    if large and large.get("completed"):
        lines.append(
            f"{large['rules']:>8,} {large['lines']:>8,} {'':>9} {_s(_median(large, 'parse_check', 'cpu')):>10} "
            f"{'':>9} {_s(_median(large, 'parse_check', 'wall')):>9} {large.get('rules_per_cpu_second') or 0:>11,}"
        )
    elif large:
        lines.append(f"{large['rules']:>8,}  did not complete: {large.get('error') or 'time limit'}")
    for key in ("growth_1k_to_10k", "growth_10k_to_100k"):
        if key in results:
            lines.append(f"{key}: {results[key]}")
    cli = results.get("cli")
    if cli:
        lines.append("")
        for name, t in cli["commands"].items():
            cpu, wall, fastest = t["cpu"]["median"], t["wall"]["median"], t["wall"]["min"]
            lines.append(f"{_s(cpu):>9} CPU {_s(wall):>9} wall (min {_s(fastest)})  {name}")
    cache = results.get("lark_cache")
    if cache:
        lines.append("")
        for mode, parts in cache["modes"].items():
            lines.append(
                f"lark cache {mode:<5} process {_s(parts['process_cpu']['median'])} CPU "
                f"{_s(parts['process']['median'])} wall; build {_s(parts['build_cpu']['median'])} CPU"
            )
    imports = results.get("import_time")
    if imports:
        lines.append(f"import time (total) {imports['total_ms']} ms: {imports['by_package_self_ms']}")
    profile = results.get("profile")
    if profile:
        for entry in profile["garbage_collector"]:
            lines.append(f"gc share at {entry['rules']:,} rules: {entry['gc_share']:.0%}")
        lines.extend(f"  {share:6.1%}  {label}" for label, share in profile["components"].items())
    for name, aim in results.get("aims", {}).items():
        verdict = "met" if aim["met_cpu"] else "MISSED"
        lines.append(f"aim {name}: {verdict} on CPU time ({_s(aim['cpu'])} CPU, {_s(aim['wall'])} wall)")
    return "\n".join(lines)


def render_section(results: dict[str, Any]) -> str:
    """The `parse_check` section of docs/performance.md, in Markdown."""
    m = results["machine"]
    out = [
        "## Parse and check",
        "",
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m.get('usable_cores', m['cores'])} usable), "
        f"{m['implementation']} {m['python']}, lark {m['lark']}, policylang {m['policylang']}"
        + (f" at `{m['git_commit']}`" if m.get("git_commit") else "")
        + f". Load average before / after the run: {_load(m.get('load_average_before'))} /"
        f" {_load(m.get('load_average_after'))} on {m['cores']} cores"
        + (
            ": other jobs were running, so wall times are inflated and CPU times are the numbers to trust."
            if _busy(m)
            else "."
        ),
        "",
    ]
    out += _render_aims(results)
    out += _render_sizes(results)
    if "cli" in results:
        out += _render_cli(results["cli"])
    if "lark_cache" in results:
        out += _render_cache(results["lark_cache"])
    if "import_time" in results:
        out += _render_import_time(results["import_time"])
    if "profile" in results:
        out += _render_profile(results["profile"])
    out.append(f"Raw numbers: `{RESULTS_FILE.relative_to(ROOT)}`.")
    return "\n".join(out)


def _render_aims(results: dict[str, Any]) -> list[str]:
    aims = results.get("aims") or {}
    if not aims:
        return []
    out = [
        "| aim | CPU (median) | wall (median) | met on CPU time? | met on wall time? |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    big = aims.get("10k_rules_parse_check")
    if big:
        out.append(
            f"| 10,000 rules parse + check in under {big['aim_seconds']:g} s on one core | {_s(big['cpu'])} "
            f"| {_s(big['wall'])} | {_yes(big['met_cpu'])} | {_yes(big['met_wall'])} |"
        )
    cli = aims.get("small_file_cli")
    if cli:
        out.append(
            f"| `policy check` on a small file in under {cli['aim_seconds']:g} s, start-up included "
            f"| {_s(cli['cpu'])} | {_s(cli['wall'])} (min {_s(cli['wall_min'])}) | {_yes(cli['met_cpu'])} "
            f"| {_yes(cli['met_wall'])} |"
        )
    return [*out, ""]


def _render_sizes(results: dict[str, Any]) -> list[str]:
    repeats = ", ".join(f"{s['repeats']} at {s['rules']:,}" for s in results["sizes"])
    out = [
        "### Generated policies",
        "",
        f"Medians of several runs (repeats: {repeats}); parse and parse + check take turns. CPU is"
        " `time.process_time`; rules per second are per CPU second of parse + check.",
        "",
        "| rules | lines | size | parse (CPU) | parse + check (CPU) | check only (CPU) | parse + check (wall) "
        "| rules/s | peak memory |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in results["sizes"]:
        out.append(
            f"| {s['rules']:,} | {s['lines']:,} | {s['bytes'] / 1024:,.0f} KiB | {_s(_median(s, 'parse', 'cpu'))} "
            f"| {_s(_median(s, 'parse_check', 'cpu'))} | {_s(s.get('check_only_cpu_seconds'))} "
            f"| {_s(_median(s, 'parse_check', 'wall'))} | {s['rules_per_cpu_second']:,} "
            f"| {_mib(s.get('peak_memory_bytes'))} MiB |"
        )
    large = results.get("large")
    if large and large.get("completed"):
        out.append(
            f"| {large['rules']:,} (`--large`, one run) | {large['lines']:,} | {large['bytes'] / 1024:,.0f} KiB | - "
            f"| {_s(_median(large, 'parse_check', 'cpu'))} | - | {_s(_median(large, 'parse_check', 'wall'))} "
            f"| {large['rules_per_cpu_second']:,} | - |"
        )
    out.append("")
    growth = results.get("growth_1k_to_10k")
    if growth:
        out.append(
            "From 1,000 to 10,000 rules (10x the rules) the CPU time grows"
            f" {growth['parse_cpu_ratio']:.1f}x for parse and {growth['parse_check_cpu_ratio']:.1f}x for parse"
            f" + check (wall: {growth['parse_wall_ratio']:.1f}x and {growth['parse_check_wall_ratio']:.1f}x);"
            " 10x would be linear."
        )
    big_growth = results.get("growth_10k_to_100k")
    if large and large.get("completed") and big_growth:
        out.append(
            f"From 10,000 to 100,000 rules parse + check grows {big_growth['parse_check_cpu_ratio']:.1f}x in CPU time."
        )
    elif large and "timeout_seconds" in large:
        out.append(
            f"The 100,000-rule run (`--large`) did not finish within its limit of {large['timeout_seconds']:.0f} s"
            " wall time (generation, one parse + check, in a subprocess)."
        )
    elif large:
        out.append("The 100,000-rule run (`--large`) failed; see `error` in the results file.")
    else:
        out.append("The 100,000-rule point is measured with `--large` (not part of this run).")
    return [*out, ""]


def _render_cli(cli: dict[str, Any]) -> list[str]:
    runs = next(iter(cli["commands"].values()))["wall"]["runs"]
    out = [
        "### Command-line start-up",
        "",
        f"Whole processes started from the repository root, {runs} runs each, taking turns. CPU is the"
        " process's user + system time (from `getrusage`), wall is the time until it exits. The first"
        " two rows are the floor: the interpreter alone, and importing the CLI.",
        "",
        "| command | CPU (median) | wall (median) | wall (min) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, t in cli["commands"].items():
        out.append(f"| `{name}` | {_s(t['cpu']['median'])} | {_s(t['wall']['median'])} | {_s(t['wall']['min'])} |")
    if any("via" in name for name in cli["commands"]):
        out += [
            "",
            "The `via` row runs `policy` as found on `PATH`; here that is a pyenv shim (a shell script that"
            " runs `pyenv exec`), which adds its own start-up before Python starts. The row above it runs"
            " the installed entry-point script directly, as a virtual environment or a pip-installed"
            " `policy` does.",
        ]
    return [*out, ""]


def _render_cache(cache: dict[str, Any]) -> list[str]:
    modes = cache["modes"]
    runs = modes["warm"]["process"]["runs"]
    labels = {
        "off": "`cache=False`: grammar compiled in every process",
        "cold": "`cache=True`, no cache file yet: compile, then write it",
        "warm": "`cache=True`, cache file present (the usual case)",
    }
    out = [
        "### Does Lark's `cache=True` help start-up?",
        "",
        "Method: each run is a fresh `python -c` process that imports `policylang.cli`, builds the parser"
        " (`policylang.syntax.parser._lark()`, timed on its own) and runs `policylang.cli.main(['check', ...])`"
        f" on `{cache.get('small_file', 'a small file')}`. The code under test is unchanged except in the"
        " `off` mode, where the child replaces the name `Lark` inside `policylang.syntax.parser` with a wrapper"
        " that passes `cache=False`, so the grammar and every other option are exactly policylang's. Lark"
        " keeps its cache in `tempfile.gettempdir()`, so each child gets `TMPDIR` set to an empty folder"
        " (`off`, `cold`) or to a folder filled by an earlier run (`warm`); the benchmark checks that"
        f" `off` writes no cache file and the others do. {runs} runs per mode, taking turns.",
        "",
        "| Lark parser | build the parser (CPU) | build (wall) | whole process (CPU) | whole process (wall) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for mode in ("off", "cold", "warm"):
        p = modes[mode]
        out.append(
            f"| {labels[mode]} | {_s(p['build_cpu']['median'])} | {_s(p['build']['median'])} "
            f"| {_s(p['process_cpu']['median'])} | {_s(p['process']['median'])} |"
        )
    saved = modes["off"]["build_cpu"]["median"] - modes["warm"]["build_cpu"]["median"]
    saved_process = modes["off"]["process_cpu"]["median"] - modes["warm"]["process_cpu"]["median"]
    size = cache.get("cache_file_bytes")
    share = saved_process / modes["off"]["process_cpu"]["median"] if modes["off"]["process_cpu"]["median"] else 0
    out += [
        "",
        f"Yes: a warm cache saves about {saved * 1000:.0f} ms of CPU building the parser in every process"
        f" (whole process: {saved_process * 1000:.0f} ms, {share:.0%} of `policy check`'s CPU time), for a"
        " one-off cost when the file is first written"
        + (f" ({size / 1024:.0f} KiB in the temp folder)." if size else ".")
        + " Lark names the file after a hash of the grammar, the options, the Lark version and the Python"
        " version, so a changed grammar gets a new file rather than a stale parser.",
        "",
    ]
    return out


def _render_import_time(data: dict[str, Any]) -> list[str]:
    out = [
        "### Import time",
        "",
        f"`{data['command']}`, median of {data['runs']} runs; total {data['total_ms']:.0f} ms"
        " (the sum of the top-level imports). These are wall times, inflated by load like the other wall"
        " times and by `-X importtime`'s own overhead; read them as shares.",
        "",
        "| package (self time of all its modules) | self |",
        "| --- | ---: |",
    ]
    out += [f"| `{package}` | {ms:.1f} ms |" for package, ms in list(data["by_package_self_ms"].items())[:8]]
    out += ["", "| module | self | cumulative |", "| --- | ---: | ---: |"]
    out += [
        f"| `{row['module']}` | {row['self_ms']:.1f} ms | {row['cumulative_ms']:.1f} ms |"
        for row in data["top_self"][:8]
    ]
    return [*out, ""]


def _render_profile(profile: dict[str, Any]) -> list[str]:
    threshold = ", ".join(f"{n:_}" for n in profile["gc_threshold_tried"])
    out = [
        "### Where the time goes",
        "",
        "Garbage collection: parse + check with the collector as Python sets it, with `gc.disable()`, and"
        f" with `gc.set_threshold({threshold})` (collect the young generation every"
        f" {profile['gc_threshold_tried'][0]:,} allocations instead of 700). CPU medians.",
        "",
        "| rules | gc default | gc off | share of the time spent collecting | `set_threshold` | saved by it |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in profile["garbage_collector"]:
        out.append(
            f"| {entry['rules']:,} | {_s(_median(entry, 'gc_on', 'cpu'))} | {_s(_median(entry, 'gc_off', 'cpu'))} "
            f"| {entry['gc_share']:.0%} | {_s(_median(entry, 'gc_threshold', 'cpu'))} "
            f"| {entry['gc_threshold_saving']:.0%} |"
        )
    gc_entries = profile["garbage_collector"]
    if len(gc_entries) >= 2:
        first, last = gc_entries[0], gc_entries[-1]
        ratio = last["gc_off"]["cpu"]["median"] / first["gc_off"]["cpu"]["median"]
        out += [
            "",
            f"With gc off, {last['rules'] // first['rules']}x the rules take {ratio:.1f}x the time: parsing and"
            " checking scale about linearly, and what grows faster is collection. A parse builds hundreds of"
            " thousands of objects that form no cycles, and every collection of the older generations walks"
            " all of them again.",
        ]
    positions = profile.get("propagate_positions")
    if positions:
        on, off = _median(positions, "positions_on", "cpu"), _median(positions, "positions_off", "cpu")
        out += [
            "",
            f"Lark's `propagate_positions=True`: Lark's parse alone (no Transformer, gc off) of the"
            f" {profile['rules']:,}-rule policy takes {_s(on)} with policylang's grammar and options and"
            f" {_s(off)} with only `propagate_positions` turned off, so the positions are"
            f" {positions['share_of_lark_parse']:.0%} of Lark's parse.",
        ]
    out += [
        "",
        f"A cProfile of one parse + check of {profile['rules']:,} rules with gc off, by component (self time;"
        " the profiler's own overhead makes code with many small calls, such as Lark's inner loop, look"
        " somewhat larger than it is):",
        "",
        "| component | share |",
        "| --- | ---: |",
    ]
    out += [f"| {label} | {share:.0%} |" for label, share in profile["components"].items() if share >= 0.005]
    out += ["", "| stage (cumulative) | share |", "| --- | ---: |"]
    out += [f"| {label} | {share:.0%} |" for label, share in profile["key_cumulative_shares"].items()]
    out += ["", "| function | calls | self | cumulative |", "| --- | ---: | ---: | ---: |"]
    out += [
        f"| `{f['function']}` | {f['calls']:,} | {f['self_share']:.0%} | {f['cumulative_share']:.0%} |"
        for f in profile["top_functions"][:10]
    ]
    return [*out, ""]


def _median(entry: dict[str, Any], key: str, clock: str) -> float | None:
    timing = entry.get(key)
    return None if timing is None else float(timing[clock]["median"])


def _busy(machine: dict[str, Any]) -> bool:
    loads = (machine.get("load_average_before") or []) + (machine.get("load_average_after") or [])
    return bool(loads) and max(loads[:1] + loads[3:4]) > 0.5 * (machine.get("cores") or 1)


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _mib(size: int | None) -> str:
    return "-" if size is None else f"{size / 2**20:,.1f}"


def _load(values: list[float] | None) -> str:
    return "unknown" if not values else " ".join(f"{v:.2f}" for v in values)
