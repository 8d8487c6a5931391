"""Layer 3: the syntax tree made meaningful: imports and the standard library resolved, names bound,
types checked, the typed tree the engine and the analysis read. Imports `core` and `syntax`.

The layers and which way imports go: docs/architecture.md.
"""
