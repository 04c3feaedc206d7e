"""Write 统计月报_2023.xlsx: the figures of actuals/*.csv as a statistics bureau lays them out.

One sheet per reporting period in the wide 报表 layout (one row per indicator, named as people
name it; a period column; units in a column, in a 单位 line or after the name; merged headers,
title rows and footnotes), a sheet for a revision, and the milestones in the long layout. Every
figure is the one of the CSV files, so both give the same statuses (tests/test_example.py).

    python examples/yichang_2023/make_workbook.py        # needs openpyxl (pip install openpyxl)
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

import targetkit as tk

HERE = Path(__file__).resolve().parent
OUT = HERE / "统计月报_2023.xlsx"

# the date a sheet's figures are for → (sheet name, period label, unit layout)
SHEETS = {
    "2022-12-31": ("2022年", "2022年末", "column"),
    "2023-02-28": ("2月", "1—2月", "column"),
    "2023-03-31": ("3月", "一季度", "two-row header"),
    "2023-06-30": ("6月", "1-6月累计", "unit line"),
    "2023-09-30": ("9月", "前三季度", "after the name"),
    "2023-12-31": ("12月", "2023年全年", "column"),
}
# names as the bureau writes them, where they differ from the plan's (aliases in plan.toml)
WRITTEN = {"tech_contract_turnover": "技术合同登记额", "gdp": "地区生产总值(GDP)"}
NOTE = "注：本表为示例数据（非官方统计），仅用于演示。"


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _number(value: str) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def _rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted((HERE / "actuals").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows


def _title(ws: Worksheet, text: str, width: int) -> None:
    ws.append([text])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)


def _wide(ws: Worksheet, rows: list[dict[str, str]], plan: tk.Plan, label: str, style: str) -> None:
    width = 6
    _title(ws, f"宜昌市科技创新主要指标（{label}）", width)
    if style == "unit line":
        ws.append([None, None, None, None, None, "单位：亿元"])
    if style == "two-row header":
        ws.append(["指标名称", "计量单位", "2023年", None, "报送日期", "备注"])
        ws.append([None, None, label, "同比增长(%)", None, None])
        top = ws.max_row - 1
        for col in (1, 2, 5, 6):
            ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
        ws.merge_cells(start_row=top, start_column=3, end_row=top, end_column=4)
    else:
        first = "项目" if style == "after the name" else "指标名称"
        ws.append([first, "计量单位", label, "报送日期", "数据来源", "备注"])
    for row in rows:
        ind = plan.indicator(row["indicator"])
        name = WRITTEN.get(ind.id, ind.name)
        unit: str | None = row["unit"] or "—"
        if style == "unit line" and row["unit"] == "亿元":
            unit = None  # the sheet's 单位 line applies
        if style == "after the name" and row["unit"]:
            name, unit = f"{name}({row['unit']})", None
        value = _number(row["value"])
        reported = _day(row["reported_at"])
        if style == "two-row header":
            growth = 12.5 if ind.id == "tech_contract_turnover" else "—"
            ws.append([name, unit, value, growth, reported, row["note"]])
        else:
            ws.append([name, unit, value, reported, row["source"], row["note"]])
        ws.cell(ws.max_row, 4 if style != "two-row header" else 5).number_format = "yyyy-mm-dd"
    ws.append([])
    ws.append([NOTE])
    ws.append(["资料来源：示例数据（非官方统计）。"])


def _long(ws: Worksheet, rows: list[dict[str, str]]) -> None:
    ws.append(["重点工作完成情况"])
    ws.append(["指标", "日期", "数值", "单位", "报送日期", "来源", "备注"])
    for row in rows:
        ws.append(
            [
                row["indicator"],
                _day(row["date"]),
                row["value"],
                None,
                _day(row["reported_at"]),
                row["source"],
                row["note"],
            ]
        )


def build(out: Path = OUT) -> Path:
    """Write the workbook and return its path."""
    plan = tk.load(HERE / "plan.toml")
    milestones = {i.id for i in plan.indicators if i.kind is tk.IndicatorKind.MILESTONE}
    rows = _rows()
    by_date: dict[str, list[dict[str, str]]] = {d: [] for d in SHEETS}
    revisions: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row["indicator"] in milestones:
            continue
        key = (row["indicator"], row["date"])
        (revisions if key in seen else by_date[row["date"]]).append(row)
        seen.add(key)
    book = openpyxl.Workbook()
    first: Any = book.active
    book.remove(first)
    for day, (sheet, label, style) in SHEETS.items():
        _wide(book.create_sheet(sheet), by_date[day], plan, label, style)
    _wide(book.create_sheet("修订"), revisions, plan, "2023年6月末", "column")
    _long(book.create_sheet("重点工作"), [r for r in rows if r["indicator"] in milestones])
    book.save(out)
    return out


if __name__ == "__main__":
    print(build())
