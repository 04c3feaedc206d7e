"""Read actuals from Parquet files (pyarrow, the ``parquet`` extra) with the long columns.

Typed columns are used as they are: a ``date32`` or timestamp column is a date, a float column
a number; text columns are read as a CSV's cells would be.
"""

from __future__ import annotations

from pathlib import Path

from targetkit.exceptions import DataError
from targetkit.sources import Rows, frame_rows, require

__all__ = ["read_parquet"]


def read_parquet(path: Path, *, partial: bool = False) -> Rows:
    """Read one Parquet file into `Rows`; rows count from 1.

    Raises:
        DataError: the file cannot be read as Parquet.
    """
    source = str(path)
    pq = require("pyarrow.parquet", "parquet", source)
    arrow = require("pyarrow", "parquet", source)
    try:
        table = pq.read_table(path)
    except (OSError, arrow.ArrowException) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DataError.single(
            source,
            "",
            f"cannot be read as Parquet ({reason})",
            "check that the file is a complete Parquet file",
        ) from exc
    frame = table.to_pandas(date_as_object=False)
    return frame_rows(frame, source=source, partial=partial)
