"""Layer 4: deciding: the typed tree compiled to a decision graph and a generated Python function,
facts validated, decisions made. Knows nothing of the analysis, explanations or the log above it.

The layers and which way imports go: docs/architecture.md.
"""
