"""The renderers: an `Evaluation` shown as text, documents, charts and notebook views.

- `formats`: the terminal table, JSON, CSV and Markdown writers (`render`, `write`,
  `render_by_scope`, `by_scope_dict`).
- `report`: the Markdown 通报, the self-contained HTML report and the notebook HTML view
  (`render_markdown`, `render_html`, `notebook_html`, `parts_svg`).
- `charts`: charts with matplotlib (`plot_target`, `plot_overview`, `plot_parts`,
  `plot_forecast`); `_figure` holds its figure class, which imports matplotlib.
- `notebook`: the change table and the styled frame (`changes`, `styled`).

Importing this package imports none of them (nor pandas or matplotlib); import the module you
need, e.g. ``from targetkit.render.report import render_html``. The old paths
(`targetkit.formats`, `targetkit.report`, `targetkit.charts`, `targetkit.notebook`) still work.
"""
