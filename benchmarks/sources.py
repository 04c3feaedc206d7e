"""Benchmarks of the actuals sources: a wide workbook and a large database table.

Run from the repository root::

    .venv/bin/python -m benchmarks.sources            # 5,000 × 12 workbook, 600,000-row table
    .venv/bin/python -m benchmarks.sources --quick    # small sizes, for a smoke test

Each figure is printed with its ratio against a baseline measured in the same run:

- the workbook: ``tk.read_actuals`` (cells read by python-calamine, layout recognised, every row
  checked and converted) against pandas' own ``read_excel`` of the same sheet with the openpyxl
  engine (which only reads cells) and with the calamine engine; and the raw readers alone, which
  is how the reader was chosen;
- the table: ``tk.read_actuals('sqlite:///…')`` and ``duckdb:///…`` against ``pandas.read_sql``
  of the same table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

import targetkit as tk

T = TypeVar("T")
MONTHS = [f"1-{m}月" if m > 1 else "1月" for m in range(1, 13)]


def same(got: int, want: int) -> None:
    """Stop the run when a reader did not read every row (the figures would mean nothing)."""
    if got != want:
        raise RuntimeError(f"read {got} rows, expected {want}")


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Return the best wall time of ``repeat`` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result  # type: ignore[return-value]


def plan_of(n: int) -> tk.Plan:
    """Return a one-year plan of ``n`` cumulative indicators in 亿元, each with a target."""
    return tk.parse(
        {
            "plan": {
                "id": "bench",
                "title": "bench",
                "period": {"start": dt.date(2023, 1, 1), "end": dt.date(2023, 12, 31)},
            },
            "indicators": [
                {"id": f"i{k}", "name": f"指标{k:05d}", "unit": "亿元", "kind": "cumulative"}
                for k in range(n)
            ],
            "targets": [
                {
                    "id": f"t{k}",
                    "title": "t",
                    "rule": {"kind": "at_least", "indicator": f"i{k}", "value": 100},
                }
                for k in range(n)
            ],
        }
    )


def write_workbook(path: Path, n: int) -> None:
    """Write a wide 报表 of ``n`` indicators × 12 months, half the rows in 万元."""
    import openpyxl  # noqa: PLC0415 - the test extra

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("2023年")
    ws.append(["2023年科技统计月报"])
    ws.append(["指标名称", "计量单位", *MONTHS])
    for k in range(n):
        unit = "万元" if k % 2 else "亿元"
        scale = 10_000 if k % 2 else 1
        ws.append([f"指标{k:05d}", unit, *(round((m + 1) * 8.3 * scale, 2) for m in range(12))])
    ws.append(["注：基准测试数据。"])
    wb.save(path)


def write_table(path: Path, rows: int) -> None:
    """Write a sqlite table ``actuals`` of ``rows`` observations (text dates, real values)."""
    n = max(1, rows // 12)
    days = [
        ((dt.date(2023, m + 1, 1) if m < 12 else dt.date(2024, 1, 1)) - dt.timedelta(days=1))
        for m in range(1, 13)
    ]
    records = [
        (f"i{k}", days[m].isoformat(), (m + 1) * 8.25, "亿元") for k in range(n) for m in range(12)
    ][:rows]
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE actuals (indicator TEXT, date TEXT, value REAL, unit TEXT)")
        con.executemany("INSERT INTO actuals VALUES (?, ?, ?, ?)", records)
    con.close()


def line(name: str, seconds: float, baseline: float, label: str) -> None:
    print(f"  {name:<44} {seconds * 1000:9.1f} ms   {seconds / baseline:5.2f}× {label}")


def workbook(n: int, repeat: int, tmp: Path) -> None:
    import openpyxl  # noqa: PLC0415
    import python_calamine  # noqa: PLC0415

    path = tmp / "wide.xlsx"
    write_workbook(path, n)
    plan = plan_of(n)
    print(f"wide workbook: {n:,} indicators × 12 periods ({n * 12:,} figures)")
    t_pandas, frame = timed(lambda: pd.read_excel(path, engine="openpyxl", header=1), repeat)
    t_pandas_cal, _ = timed(lambda: pd.read_excel(path, engine="calamine", header=1), repeat)
    t_tk, actuals = timed(lambda: tk.read_actuals(path, plan), repeat)
    same(len(actuals), n * 12)
    same(len(frame), n + 1)  # the footnote row is a row to pandas

    def raw_openpyxl() -> int:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for _ in wb["2023年"].iter_rows(values_only=True))
        wb.close()
        return count

    def raw_calamine() -> int:
        sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("2023年")
        return len(sheet.to_python(skip_empty_area=False))

    t_raw_opx, _ = timed(raw_openpyxl, repeat)
    t_raw_cal, _ = timed(raw_calamine, repeat)
    base = "of pandas.read_excel (openpyxl)"
    line("pandas.read_excel, openpyxl engine", t_pandas, t_pandas, base)
    line("pandas.read_excel, calamine engine", t_pandas_cal, t_pandas, base)
    line("tk.read_actuals (read, recognise, check)", t_tk, t_pandas, base)
    line("cells only: openpyxl read-only", t_raw_opx, t_raw_cal, "of calamine")
    line("cells only: python-calamine", t_raw_cal, t_raw_cal, "of calamine")


def table(rows: int, repeat: int, tmp: Path) -> None:
    import duckdb  # noqa: PLC0415

    path = tmp / "stats.db"
    write_table(path, rows)
    lake = tmp / "lake.duckdb"
    con = duckdb.connect(str(lake))
    frame = pd.read_sql("SELECT * FROM actuals", sqlite3.connect(path))
    con.register("source", frame)
    con.execute("CREATE TABLE actuals AS SELECT * FROM source")
    con.close()
    plan = plan_of(max(1, rows // 12))
    print(f"database table: {rows:,} rows")

    def pandas_sql() -> pd.DataFrame:
        with sqlite3.connect(path) as c:
            out = pd.read_sql("SELECT * FROM actuals", c)
        c.close()
        return out

    t_pandas, got = timed(pandas_sql, repeat)
    same(len(got), rows)
    t_sqlite, a = timed(lambda: tk.read_actuals(f"sqlite:///{path}", plan), repeat)
    same(len(a), rows)
    t_duck, b = timed(lambda: tk.read_actuals(f"duckdb:///{lake}", plan), repeat)
    same(len(b), rows)
    base = "of pandas.read_sql (sqlite)"
    line("pandas.read_sql (sqlite)", t_pandas, t_pandas, base)
    line("tk.read_actuals sqlite:/// (read, check)", t_sqlite, t_pandas, base)
    line("tk.read_actuals duckdb:/// (read, check)", t_duck, t_pandas, base)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args(argv)
    n, rows, repeat = (200, 6_000, 1) if args.quick else (5_000, 600_000, 3)
    with tempfile.TemporaryDirectory() as tmp:
        workbook(n, repeat, Path(tmp))
        table(rows, repeat, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
