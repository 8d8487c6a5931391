"""An import inside a function is there only to keep start-up fast (`import policylang` and
`policy check` load neither the evaluator nor pydantic, networkx, rich, PyYAML or psycopg), and says
so with a `# deferred:` comment on its line or just above its block of imports; every other import
belongs at the top of its module, where the layers contract and readers see it."""

from __future__ import annotations

import ast
from pathlib import Path

import policylang

PACKAGE = Path(policylang.__file__).parent
MARK = "# deferred:"


def _local_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(n for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom))
    return found


def _explained(lines: list[str], node: ast.Import | ast.ImportFrom) -> bool:
    """The mark is on one of the import's lines, or above the block of imports it belongs to."""
    if any(MARK in line for line in lines[node.lineno - 1 : node.end_lineno]):
        return True
    above = node.lineno - 2
    while above >= 0 and lines[above].lstrip().startswith(("import ", "from ")):
        if MARK in lines[above]:
            return True
        above -= 1
    return above >= 0 and lines[above].lstrip().startswith(MARK)


def test_every_function_local_import_says_why() -> None:
    unexplained = []
    counted = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in _local_imports(ast.parse(text)):
            counted += 1
            if not _explained(lines, node):
                where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                unexplained.append(f"{where}: {lines[node.lineno - 1].strip()}")
    assert counted > 10  # the scan sees the package's deferred imports (the evaluator, PyYAML, rich, ...)
    assert not unexplained, (
        f"function-local imports without a `{MARK} <why>` comment; move them to the top of the module "
        "unless they keep start-up fast:\n" + "\n".join(unexplained)
    )


def test_the_scan_finds_an_unexplained_import() -> None:
    source = "def f():\n    import json\n\n    # deferred: start-up\n    import yaml\n    import rich\n"
    lines = source.splitlines()
    json_import, yaml_import, rich_import = _local_imports(ast.parse(source))
    assert not _explained(lines, json_import)
    assert _explained(lines, yaml_import)
    assert _explained(lines, rich_import)
