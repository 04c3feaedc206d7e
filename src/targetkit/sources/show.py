"""``targetkit sources show``: how a workbook, file or database would be read, cell by cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from targetkit.exceptions import DataError
from targetkit.model import Plan
from targetkit.sources import NameIndex, Rows, split_query, truthy
from targetkit.sources.reading import read_item, read_sources_file
from targetkit.sources.workbook import SUFFIXES, Layout, read_workbook

__all__ = ["show"]

_SHOWN_ROWS = 20


def show(source: str, plan: Plan | None, *, as_of: dt.date | None = None) -> list[str]:
    """Return the lines that tell how ``source`` is read: layout, columns, cells, skips, problems.

    Without a plan, names are not matched with indicators (and rows of a wide sheet are shown as
    skipped); with one, the rows are also checked as ``check`` would, and each problem is listed.

    Raises:
        DataError: the source cannot be opened at all.
    """
    names = NameIndex.of(plan)
    trace: list[str] = []
    base, options = split_query(source) if not Path(source).exists() else (source, {})
    path = Path(base)
    partial = truthy(options["partial"]) if "partial" in options else False
    parts: list[Rows | Path] = []
    if path.is_file() and path.suffix.lower() in (*SUFFIXES, ".toml"):
        try:
            if path.suffix.lower() == ".toml":
                parts.extend(read_sources_file(path, names, as_of=as_of, trace=trace))
            else:
                parts.extend(
                    read_workbook(path, names, layout=Layout(partial=partial), trace=trace)
                )
        except DataError as exc:
            # what was read so far is in the trace; the problems say where reading stopped
            return [*trace, *(f"problem: {p}" for p in exc.problems)]
    else:
        parts = [rows for reader in read_item(source, names, as_of=as_of) for rows in reader()]
        for rows in parts:
            if isinstance(rows, Rows):
                trace.append(
                    f"{rows.source}: {len(rows.lines)} rows, columns {', '.join(rows.header)}"
                )
                for i in range(min(len(rows.lines), _SHOWN_ROWS)):
                    cells = ", ".join(col[i] for col in rows.columns)
                    trace.append(f"  row {rows.lines[i]}: {cells}")
                if len(rows.lines) > _SHOWN_ROWS:
                    trace.append(f"  … and {len(rows.lines) - _SHOWN_ROWS} more rows")
            else:
                trace.append(f"{rows}: a CSV file, read as the actuals reference describes")
    for rows in parts:
        if isinstance(rows, Rows):
            trace.extend(f"note: {n}" for n in rows.notes)
    if plan is not None:
        from targetkit.actuals import actuals_from_rows  # noqa: PLC0415

        for rows in parts:
            if not isinstance(rows, Rows):
                continue
            try:
                actuals = actuals_from_rows(rows, plan)
            except DataError as exc:
                trace.extend(f"problem: {p}" for p in exc.problems)
                continue
            trace.extend(f"note: {n}" for n in actuals.notes if n not in rows.notes)
    return trace
