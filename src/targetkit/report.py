"""The old path of `targetkit.render.report`, where the Markdown 通报 and the HTML report live now.

Existing code that imports ``targetkit.report`` keeps working: this module re-exports the public
names of `targetkit.render.report` (its ``__all__``) and nothing else. New code imports
`targetkit.render.report`.
"""

from targetkit.render.report import (
    LANGUAGES,
    notebook_html,
    parts_svg,
    render_html,
    render_markdown,
)

__all__ = [
    "LANGUAGES",
    "notebook_html",
    "parts_svg",
    "render_html",
    "render_markdown",
]
