"""Layer 5: static analysis of a compiled policy: conflicts, unreachable, shadowed and redundant rules,
gaps and overlaps, each with a witness, within a time budget.

The layers and which way imports go: docs/architecture.md.
"""
