"""Layer 1, the bottom: what every other layer shares and nothing else defines: source files and spans,
diagnostics, the value types, values and their spelling, output resolution, the exact YAML reader,
the version. Imports nothing from the layers above.

The layers and which way imports go: docs/architecture.md.
"""
