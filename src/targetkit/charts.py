"""The old path of `targetkit.render.charts`, where the matplotlib charts live now.

Existing code that imports ``targetkit.charts`` keeps working: this module re-exports the public
names of `targetkit.render.charts` (its ``__all__``) and nothing else. New code imports
`targetkit.render.charts`.
"""

from targetkit.render.charts import (
    CJK_FONT_FAMILIES,
    PlotsUnavailableError,
    find_cjk_font,
    plot_forecast,
    plot_overview,
    plot_parts,
    plot_target,
)

__all__ = [
    "CJK_FONT_FAMILIES",
    "PlotsUnavailableError",
    "find_cjk_font",
    "plot_forecast",
    "plot_overview",
    "plot_parts",
    "plot_target",
]
