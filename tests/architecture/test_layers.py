"""The layers hold (docs/architecture.md): each imports only the layers below it, and no module
imports itself back through others, counting every import: top-level, function-local and
`if TYPE_CHECKING:` alike. The contract is pyproject.toml's `[tool.importlinter]`."""

from __future__ import annotations

import copy
from pathlib import Path

import grimp
import networkx as nx
import pytest
from importlinter import cli as importlinter_cli
from importlinter.api import read_configuration
from importlinter.contracts.layers import LayersContract

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
LAYERS = ["cli", "policy_tests", "api", "decision_log", "explain", "analysis", "engine", "semantics", "syntax", "core"]
"""Top to bottom, as the contract must list them."""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """Every import of the package, TYPE_CHECKING ones included (grimp's default, asked for explicitly)."""
    return grimp.build_graph("policylang", cache_dir=None, exclude_type_checking_imports=False)


def _layer_of(module: str) -> str:
    """`policylang.engine.evaluator` -> `policylang.engine`; the root package stays itself."""
    return ".".join(module.split(".")[:2])


def test_the_layers_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code = importlinter_cli.lint_imports(config_filenames=(str(PYPROJECT),), no_cache=True, no_logo=True)
    output = capsys.readouterr().out
    assert code == 0, output
    assert "Contracts: 1 kept, 0 broken." in output, output


def test_the_contract_lists_every_layer_and_counts_every_import() -> None:
    configuration = read_configuration(str(PYPROJECT))
    assert configuration["session_options"]["root_packages"] == ["policylang"]
    assert str(configuration["session_options"].get("exclude_type_checking_imports", False)).lower() == "false"
    (contract,) = configuration["contracts_options"]
    assert contract["type"] == "layers"
    assert contract["layers"] == LAYERS
    assert contract["containers"] == ["policylang"]
    assert str(contract["exhaustive"]).lower() == "true"
    assert not contract.get("ignore_imports")


def _contract() -> LayersContract:
    configuration = read_configuration(str(PYPROJECT))
    options = configuration["contracts_options"][0]
    return LayersContract(
        name=options["name"], session_options=configuration["session_options"], contract_options=options
    )


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("policylang.engine.evaluator", "policylang.explain.trace"),  # the import this contract was made to end
        ("policylang.core.values", "policylang.syntax.nodes"),
        ("policylang.decision_log.replay", "policylang.api"),
        ("policylang.policy_tests.suite", "policylang.cli.evaluate"),
    ],
)
def test_the_contract_breaks_on_an_upward_import(graph: grimp.ImportGraph, importer: str, imported: str) -> None:
    """The contract has teeth: the real graph keeps it, the same graph plus one upward import does not."""
    assert _contract().check(copy.deepcopy(graph), verbose=False).kept
    broken = copy.deepcopy(graph)
    broken.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not _contract().check(broken, verbose=False).kept


def test_the_import_graph_is_the_whole_package(graph: grimp.ImportGraph) -> None:
    """What the cycle test below looks at is really the package, every kind of import included."""
    assert len(graph.modules) > 50
    assert {_layer_of(m) for m in graph.modules} >= {f"policylang.{layer}" for layer in LAYERS}
    assert graph.direct_import_exists(importer="policylang.engine.evaluator", imported="policylang.engine.compiler")
    # a function-local import (the evaluator is loaded when a policy is compiled, not when checked)
    assert graph.direct_import_exists(importer="policylang.engine.loading", imported="policylang.engine.evaluator")
    # an `if TYPE_CHECKING:` import
    assert graph.direct_import_exists(importer="policylang.engine.extensions", imported="policylang.engine.answers")


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    """No cycle among modules, nor among the layer packages (a package counts as every module in it)."""
    modules = nx.DiGraph()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            modules.add_edge(importer, imported)
    tangled = [c for c in nx.strongly_connected_components(modules) if len(c) > 1]
    assert not tangled, "import cycles:\n" + "\n".join(_shown(nx.find_cycle(modules.subgraph(c))) for c in tangled)

    layers = nx.DiGraph()
    for importer, imported in modules.edges:
        if _layer_of(importer) != _layer_of(imported):
            layers.add_edge(_layer_of(importer), _layer_of(imported))
    assert layers.has_edge("policylang.engine", "policylang.core")
    try:
        cycle = nx.find_cycle(layers)
    except nx.NetworkXNoCycle:
        return
    pytest.fail("the layers import each other: " + _shown(cycle))


def _shown(cycle: list[tuple[str, str]]) -> str:
    """A cycle's edges as `a -> b -> a`."""
    return " -> ".join([a for a, _ in cycle] + [cycle[-1][1]])
