"""The parse + check benchmark runs and returns well-formed results; nothing here asserts a timing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from policylang.semantics.checker import check

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    """A module from benchmarks/ (a folder of scripts, not a package), imported by path."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))  # run.py imports its neighbours by plain name
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    return _load("generate")


@pytest.fixture(scope="module")
def run() -> ModuleType:
    return _load("run")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_generated_policy_checks_without_diagnostics(generate: ModuleType, seed: int) -> None:
    text = generate.generate_policy(40, seed)
    result = check(text, "generated.policy")
    assert result.diagnostics == ()
    assert result.policy is not None
    assert len(result.policy.rules) == 40
    named = [r for r in result.policy.rules if r.name is not None]
    assert named and len(named) < 40  # a mix of named and one-line anonymous rules


def test_generator_is_deterministic_and_seeded(generate: ModuleType) -> None:
    assert generate.generate_policy(30, 3) == generate.generate_policy(30, 3)
    assert generate.generate_policy(30, 3) != generate.generate_policy(30, 4)


def test_generated_policy_uses_the_promised_constructs(generate: ModuleType) -> None:
    text = generate.generate_policy(200, 0)
    for construct in ("segment ", "let ", " priority ", "because ", " between ", " in {", " or ", "not ", "+= {"):
        assert construct in text, construct
    assert text.count("\nif ") > 20  # one-line anonymous rules


def test_measure_size_returns_a_well_formed_entry(run: ModuleType) -> None:
    entry = run.measure_size(50, repeats=2)
    assert entry["rules"] == 50
    assert entry["diagnostics"] == 0
    assert entry["lines"] > 50
    for key in ("parse", "parse_check"):
        for clock in ("wall", "cpu"):
            stats = entry[key][clock]
            assert stats["runs"] == 2
            assert 0 <= stats["min"] <= stats["median"] <= stats["max"]
    assert entry["rules_per_second"] > 0
    assert isinstance(entry["check_only_seconds"], float)
    assert isinstance(entry["check_only_cpu_seconds"], float)
    assert entry["peak_memory_bytes"] > 0


def test_results_render_as_a_table_and_a_doc_section(run: ModuleType) -> None:
    results = {
        "machine": run.machine_info(),
        "sizes": [run.measure_size(20, repeats=1, memory=True)],
    }
    results["aims"] = run._aims(results)
    assert results["aims"] == {}  # neither 10,000 rules nor the CLI were measured
    section = run.render_section(results)
    assert section.startswith("## Parse and check")
    assert "| 20 |" in section
    assert run.render_table(results).splitlines()[1].split()[0] == "20"


def test_a_section_is_replaced_between_its_markers_and_nothing_else_changes() -> None:
    report = _load("report")
    begin, end = report.markers("parse_check")
    other_begin, other_end = report.markers("evaluate")
    document = f"# Performance\n\nintro\n\n{begin}\nold\n{end}\n\n{other_begin}\nkeep\n{other_end}\n"
    updated = report.replace_section(document, "parse_check", "new")
    assert updated == document.replace("\nold\n", "\nnew\n")
    start, stop = report.markers("startup")
    appended = report.replace_section("# Performance\n", "startup", "body")
    assert appended == f"# Performance\n\n{start}\nbody\n{stop}\n"


@pytest.fixture(scope="module")
def peer_shapes() -> ModuleType:
    return _load("peer_shapes")


@pytest.mark.parametrize("seed", [0, 5])
def test_the_first_match_baseline_gives_the_rule_order_functions_answers(seed: int) -> None:
    """The fair baseline returns at the first match in resolution order; it must still be exact."""
    engines = _load("peer_engines")
    rules_module = engines.pr  # the module its engines were built with (isinstance checks)
    rules = rules_module.generate_rules(150, seed)
    customers = rules_module.random_customers(300, seed + 1)
    every_rule = engines.BY_KEY["python"].build(rules)
    first_match = engines.BY_KEY["python_first"].build(rules)
    assert "return" in rules_module.to_python_first(rules)
    for customer in customers:
        assert first_match.decide(dict(customer)) == every_rule.decide(dict(customer))


def test_cedar_gives_the_hand_written_answers() -> None:
    pytest.importorskip("cedarpy")  # a benchmark-only dependency (benchmarks/requirements.txt)
    engines = _load("peer_engines")
    rules_module = engines.pr  # the module its engines were built with (isinstance checks)
    rules = rules_module.generate_rules(60, 2)
    every_rule = engines.BY_KEY["python"].build(rules)
    cedar = engines.BY_KEY["cedar"].build(rules)
    for customer in rules_module.random_customers(200, 3):
        want = every_rule.normalise(every_rule.decide(dict(customer)))
        assert cedar.normalise(cedar.decide(cedar.prepare(customer))) == want


def test_every_shape_compiles_and_the_variants_only_add_an_output(peer_shapes: ModuleType) -> None:
    import policylang

    rules = peer_shapes.peer_rules.generate_rules(40, 0)
    outputs = {}
    for shape in peer_shapes.SHAPES:
        policy = policylang.compile(peer_shapes.shape_text(shape, rules))
        facts = (
            peer_shapes.realistic_facts(30)
            if shape == "realistic"
            else [peer_shapes.peer_rules.policylang_facts(c) for c in peer_shapes.peer_rules.random_customers(30)]
        )
        outputs[shape] = [policy.decide(f, on_conflict="mark").outputs for f in facts]
    assert set(outputs["peer_union"][0]) == set(outputs["peer"][0]) | {"flags"}
    assert set(outputs["peer_computed"][0]) == set(outputs["peer"][0]) | {"credit"}
    for shape in ("peer_union", "peer_computed"):
        assert [{k: o[k] for k in outputs["peer"][0]} for o in outputs[shape]] == outputs["peer"]
    assert "perks" in outputs["realistic"][0]  # the realistic generator's union output


def test_the_shapes_table_is_well_formed(peer_shapes: ModuleType) -> None:
    results = peer_shapes.measure((10,), customers=20, rounds=1)
    (size,) = results["sizes"]
    paths = {(row["shape"], row["path"]) for row in size["rows"]}
    expected = {("peer", key) for key in peer_shapes.BASELINES}
    expected |= {(shape, path) for shape in peer_shapes.SHAPES for path in peer_shapes.PATHS}
    assert paths == expected
    fair = next(row for row in size["rows"] if row["path"] == "python_first")
    assert fair["of_fair_hand_written"] == 1.0
    assert all(row["decisions_per_cpu_second"] > 0 and row["passes"] >= 1 for row in size["rows"])
    section = peer_shapes.render_section(results)
    assert section.startswith("## Decisions per second by policy shape and path")
    assert section.count("\n| 10 |") == 1 + len(peer_shapes.SHAPES)  # one line by shape, one per shape's paths
    for label in peer_shapes.SHAPES.values():
        assert label in section


def test_the_aims_compare_decide_with_the_fair_baseline_per_cpu_second() -> None:
    engines = _load("peer_engines")
    peers = _load("peers")

    def entry(rate: float) -> dict[str, object]:
        return {"status": "ok", "decisions_per_second": rate, "decisions_per_cpu_second": rate}

    sizes = [
        {"rules": n, "engines": {"policylang": entry(100.0), "python_first": entry(fair), "python": entry(150.0)}}
        for n, fair in ((100, 150.0), (1_000, 250.0))
    ]
    aims = {aim["aim"]: aim for aim in peers.evaluate_aims(sizes, list(engines.ENGINES))}
    fair_aims = [aim for text, aim in aims.items() if "fair hand-written" in text]
    assert [aim["met"] for aim in fair_aims] == [True, False]  # 100/150 >= 0.5; 100/250 < 0.5
    assert fair_aims[1]["measured"].startswith("0.400 ")


def test_every_compile_phase_runs_and_the_pickle_loads(tmp_path: Path) -> None:
    """benchmarks/compile_phases.py measures each phase in a process of the tree given (this one)."""
    phases = _load("compile_phases")
    policy = tmp_path / "small.policy"
    policy.write_text(phases.policy_text("peer", 20), encoding="utf-8")
    tree = BENCHMARKS.parent
    pickled = tmp_path / "small.pickle"
    for phase in phases.PHASES:
        found = phases.one_phase(tree, phase, policy, pickled)
        assert isinstance(found["cpu"], float) and found["cpu"] >= 0
        assert isinstance(found["peak_mb"], float) and found["peak_mb"] > 0
    assert pickled.stat().st_size > 0
