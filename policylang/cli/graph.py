"""`policy graph FILE [--format dot|json]`: the compiled decision graph, for Graphviz or tools."""

from __future__ import annotations

import json

import click

from policylang import ExitCode, PolicyError, load, render_text

from .files import cache_dir_option, import_root_option
from .progress import ProgressLine


@click.command("graph")
@click.argument("file", type=click.Path())
@click.option("--format", "output_format", type=click.Choice(["dot", "json"]), default="dot", show_default=True)
@import_root_option
@cache_dir_option
def graph_command(file: str, output_format: str, import_root: str | None, cache_dir: str | None) -> int:
    """Print the decision graph: facts, segments and lets, shared condition atoms, rules and outputs.

    `policy graph support.policy | dot -Tpng -o graph.png` draws it with Graphviz.
    """
    try:
        with ProgressLine(file) as line:
            policy = load(file, import_root=import_root, cache_dir=cache_dir, progress=line)
    except PolicyError as exc:
        click.echo(render_text(exc.diagnostics, exc.sources), err=True)
        return ExitCode.USAGE if any(d.code == "io-error" for d in exc.diagnostics) else ExitCode.FINDINGS
    if output_format == "json":
        click.echo(json.dumps(policy.graph_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(policy.graph_dot(), nl=False)
    return ExitCode.OK
