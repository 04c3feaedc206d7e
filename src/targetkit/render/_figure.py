"""The figure class of `targetkit.render.charts`: a matplotlib Figure that shows itself in Jupyter.

A `matplotlib.figure.Figure` made without pyplot has no display of its own: IPython shows a
figure as a picture only after pyplot has loaded the inline backend, which registers a PNG
formatter for the Figure type. `Chart` carries IPython's ``_repr_png_`` hook instead, so a chart
that is the value of a cell is drawn whether or not pyplot was ever imported, and it stays a
Figure in every other respect (``savefig``, ``axes``, drawing into it).

This module imports matplotlib at the top; `charts` imports it only when a chart is drawn,
which keeps matplotlib an optional extra.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["Chart"]

# Pixels per CSS pixel of the picture shown in a notebook: drawn at twice the figure's dpi and
# shown at its nominal size, so that it stays sharp on high-density screens.
_DENSITY = 2


class Chart(Figure):
    """A matplotlib Figure that Jupyter shows as a PNG picture when it is a cell's value."""

    def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
        """Return the figure as PNG bytes, with its display size in CSS pixels (for IPython)."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=_DENSITY * self.dpi, bbox_inches="tight")
        data = buf.getvalue()
        # The PNG header gives the size drawn; IHDR holds width and height at bytes 16..24.
        width = int.from_bytes(data[16:20], "big") // _DENSITY
        height = int.from_bytes(data[20:24], "big") // _DENSITY
        return data, {"width": width, "height": height}
