"""Layer 2: the text of a policy as a tree: the grammar, the parser and its error messages, the syntax
tree, the formatter. Imports only `core`.

The layers and which way imports go: docs/architecture.md.
"""
