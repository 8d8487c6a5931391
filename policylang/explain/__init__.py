"""Layer 6: why a decision came out as it did: traces of a decision, why-not answers, and their
rendering as text, Markdown, HTML and JSON.

The layers and which way imports go: docs/architecture.md.

`from policylang.explain import explanation, render_text, ...` is the documented way in, kept from
when this layer was one module.
"""

from .rendering import (
    RENDERERS,
    Explanation,
    Replay,
    explain_text,
    explanation,
    explanation_schema,
    render_html,
    render_json,
    render_markdown,
    render_text,
)

__all__ = [
    "RENDERERS",
    "Explanation",
    "Replay",
    "explain_text",
    "explanation",
    "explanation_schema",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
]
