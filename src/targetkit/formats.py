"""The old path of `targetkit.render.formats`, where the table, JSON, CSV writers live now.

Existing code that imports ``targetkit.formats`` keeps working: this module re-exports the public
names of `targetkit.render.formats` (its ``__all__``) and nothing else. New code imports
`targetkit.render.formats`.
"""

from targetkit.render.formats import (
    FORMATS,
    by_scope_dict,
    render,
    render_by_scope,
    write,
)

__all__ = [
    "FORMATS",
    "by_scope_dict",
    "render",
    "render_by_scope",
    "write",
]
