"""Workbooks: the long and the wide 报表 layouts, written with openpyxl as office software writes them."""

from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit.cli import main
from targetkit.sources.workbook import column_index, column_letter, period_date

from .conftest import make_plan

PLAN = make_plan(
    """
    [[indicators]]
    id = "turnover"
    name = "技术合同成交额"
    aliases = ["技术合同登记额"]
    unit = "亿元"
    kind = "cumulative"

    [[indicators]]
    id = "turnover_growth"
    name = "技术合同成交额增速"
    unit = "%"
    kind = "level"

    [[indicators]]
    id = "loans"
    name = "“财政科技创新贷”贷款金额"
    unit = "亿元"
    kind = "cumulative"

    [[indicators]]
    id = "firms"
    name = "科技型中小企业入库数"
    unit = "家"
    kind = "cumulative"

    [[indicators]]
    id = "rank"
    name = "全省位次"
    unit = ""
    kind = "level"

    [[indicators]]
    id = "lab_plan"
    name = "实验室工作方案出台"
    kind = "milestone"

    [[targets]]
    id = "turnover"
    title = "技术合同成交额突破360亿元"
    rule = { kind = "at_least", indicator = "turnover", value = 360 }

    [[targets]]
    id = "turnover_growth"
    title = "增长10%"
    rule = { kind = "at_least", indicator = "turnover_growth", value = 10 }

    [[targets]]
    id = "loans"
    title = "贷款3亿元"
    rule = { kind = "at_least", indicator = "loans", value = 3 }

    [[targets]]
    id = "firms"
    title = "入库1200家"
    rule = { kind = "at_least", indicator = "firms", value = 1200 }

    [[targets]]
    id = "rank"
    title = "位居前三"
    rule = { kind = "rank", indicator = "rank", value = 3 }

    [[targets]]
    id = "lab_plan"
    title = "出台工作方案"
    deadline = 2023-06-30
    rule = { kind = "milestone", indicator = "lab_plan" }
    """
)


def book(path: Path, sheets: dict[str, Any], merged: dict[str, list[str]] | None = None) -> Path:
    """Write a workbook: one list of rows per sheet, and the ranges to merge."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for ref in (merged or {}).get(name, []):
            ws.merge_cells(ref)
    wb.save(path)
    return path


def read(path: Path | str, plan: tk.Plan = PLAN) -> tk.Actuals:
    return tk.read_actuals(path, plan)


def problems(path: Path | str, plan: tk.Plan = PLAN) -> list[tk.Problem]:
    with pytest.raises(tk.DataError) as info:
        tk.read_actuals(path, plan)
    return list(info.value.problems)


def observations(actuals: tk.Actuals) -> list[tuple[str, str, float, str, str]]:
    f = actuals.frame
    return [
        (ind, str(day.date()), value, unit, file.rsplit("!", 1)[-1])
        for ind, day, value, unit, file in zip(
            f["indicator"], f["date"], f["value"], f["unit"], f["file"], strict=True
        )
    ]


MONTHLY = [
    ["2023年1-6月科技创新主要指标"],
    [None, None, None, None, "单位：亿元"],
    ["指标名称", "计量单位", "1-6月", None, "备注"],
    [None, None, "本期", "同比增长(%)", None],
    ["一、科技成果转化"],
    ["技术合同登记额", None, 201.2, 12.5, "登记"],
    ["  其中：“财政科技创新贷”贷款金额", "万元", 12000, "—"],
    ["科技型中小企业入库数", "家", "1,052", None],
    ["全省位次", "—", 3, "/"],
    [],
    ["注：本表为示例数据。"],
    ["资料来源：示例。", None, 999],
]
MONTHLY_MERGED = ["A1:E1", "A3:A4", "B3:B4", "C3:D3", "E3:E4"]


def test_a_wide_sheet_with_merged_headers_units_and_footnotes(tmp_path: Path) -> None:
    path = book(tmp_path / "统计月报.xlsx", {"6月": MONTHLY}, {"6月": MONTHLY_MERGED})
    actuals = read(path)
    assert observations(actuals) == [
        ("turnover", "2023-06-30", 201.2, "亿元", "C6"),  # the sheet's 单位 line
        ("turnover_growth", "2023-06-30", 12.5, "%", "D6"),
        ("loans", "2023-06-30", 1.2, "万元", "C7"),  # 12000 万元 in 亿元
        ("firms", "2023-06-30", 1052.0, "家", "C8"),
        ("rank", "2023-06-30", 3.0, "", "C9"),
    ]
    frame = actuals.frame
    assert frame["file"][0] == f"{path}!6月!C6"
    assert frame["line"].tolist() == [6, 6, 7, 8, 9]
    assert frame["note"][0] == "登记"
    assert actuals.notes == ()


def test_evidence_and_messages_name_the_cell(tmp_path: Path) -> None:
    path = book(tmp_path / "统计月报.xlsx", {"6月": MONTHLY}, {"6月": MONTHLY_MERGED})
    ev = tk.evaluate(PLAN, read(path), as_of=dt.date(2023, 7, 31))
    evidence = ev.result("loans").evidence[0]
    assert (evidence.file, evidence.line) == (f"{path}!6月!C7", 7)


def test_cells_meaning_no_figure_are_no_observation(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["指标名称", "单位", "1-3月", "1-6月", "1-9月", "全年"]]
    for token in ["—", "-", "/", "…", "空白", "", None, "——", "暂无"]:
        rows.append(["技术合同成交额", "亿元", token, 100, token, token])
    rows.append(["科技型中小企业入库数", "家", "—", "/", "…", None])
    path = book(tmp_path / "b_2023.xlsx", {"Sheet1": rows})
    assert observations(read(path)) == [("turnover", "2023-06-30", 100.0, "亿元", "D2")]


def test_growth_figures_without_a_growth_indicator_get_one_note(tmp_path: Path) -> None:
    plan = make_plan(
        """
        [[indicators]]
        id = "turnover"
        name = "技术合同成交额"
        unit = "亿元"
        kind = "cumulative"

        [[targets]]
        id = "t"
        title = "t"
        rule = { kind = "at_least", indicator = "turnover", value = 1 }
        """
    )
    rows = [["指标名称", "单位", "1-6月", "同比增长(%)"], ["技术合同成交额", "亿元", 201.2, 12.5]]
    path = book(tmp_path / "g_2023.xlsx", {"6月": rows})
    actuals = read(path, plan)
    assert len(actuals) == 1
    assert actuals.notes == (
        f"{path}!6月: the growth (同比) figures of 1 rows were not read: "
        "the plan has no growth-rate indicator for them",
    )


def test_names_match_ids_names_and_aliases_ignoring_quotes_and_numbering(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["项目", "单位", "2023年6月"],
        ["turnover", "亿元", 1],
        ["(二) 技术合同登记额", "亿元", 2],
        ["1. 财政科技创新贷贷款金额", "亿元", 3],
        ["科技型中小企业入库数（家）", None, 4],
    ]
    path = book(
        tmp_path / "n.xlsx", {"a": rows[:2], "b": [rows[0], rows[2]], "c": [rows[0], *rows[3:]]}
    )
    with pytest.raises(tk.DataError) as info:  # 1 and 2 亿元 for the same month: a conflict
        read(path)
    (problem,) = info.value.problems
    assert problem.source == f"{path}!a!C2"
    assert "conflicting values for 'turnover' on 2023-06-30: 1 亿元, 2 亿元" in problem.message
    assert f"{path}!b!C2" in problem.message
    rows[2][2] = 1  # the same value twice is kept once
    path = book(
        tmp_path / "n2.xlsx", {"a": rows[:2], "b": [rows[0], rows[2]], "c": [rows[0], *rows[3:]]}
    )
    assert observations(read(path)) == [
        ("turnover", "2023-06-30", 1.0, "亿元", "C2"),
        ("loans", "2023-06-30", 3.0, "亿元", "C2"),
        ("firms", "2023-06-30", 4.0, "家", "C3"),
    ]


def test_an_unknown_name_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    rows = [["指标名称", "单位", "1-6月"], ["技术合同成交頟", "亿元", 1], ["一、小计"]]
    path = book(tmp_path / "u_2023.xlsx", {"6月": rows})
    (problem,) = problems(path)
    assert str(problem) == (
        f"{path}!6月!A2:2: indicator: '技术合同成交頟' matches no indicator id, name or alias; "
        "did you mean '技术合同成交额' (turnover)? Or add the name to the indicator's aliases"
    )


def test_a_partial_workbook_notes_unknown_names(tmp_path: Path) -> None:
    rows = [
        ["指标名称", "单位", "1-6月"],
        ["技术合同成交额", "亿元", 1],
        ["规上工业增加值", "亿元", 9],
    ]
    path = book(tmp_path / "p_2023.xlsx", {"6月": rows})
    actuals = read(f"{path}?partial=true")
    assert observations(actuals) == [("turnover", "2023-06-30", 1.0, "亿元", "C2")]
    assert actuals.notes == (
        f"{path}!6月: 1 rows match no indicator and were skipped: '规上工业增加值'",
    )


def test_a_formula_without_a_computed_value_is_an_error(tmp_path: Path) -> None:
    rows = [["指标名称", "单位", "1-3月", "1-6月"], ["技术合同成交额", "亿元", 90, "=C2*2"]]
    path = book(tmp_path / "f_2023.xlsx", {"6月": rows})
    (problem,) = problems(path)
    assert problem.source == f"{path}!6月!D2"
    assert problem.message == "the formula cell has no computed value"


def test_a_merged_figure_is_an_error(tmp_path: Path) -> None:
    rows = [["指标名称", "单位", "1-3月", "1-6月"], ["技术合同成交额", "亿元", 90, None]]
    path = book(tmp_path / "m_2023.xlsx", {"6月": rows}, {"6月": ["C2:D2"]})
    (problem,) = problems(path)
    assert problem.source == f"{path}!6月!C2"
    assert problem.message == "the figure is in a merged cell (C2:D2)"


def test_a_unit_that_conflicts_with_the_indicator_is_an_error(tmp_path: Path) -> None:
    rows = [["指标名称", "单位", "1-6月"], ["技术合同成交额", "家", 90]]
    path = book(tmp_path / "x_2023.xlsx", {"6月": rows})
    (problem,) = problems(path)
    assert (problem.source, problem.line, problem.path) == (f"{path}!6月!C2", 2, "unit")
    assert "cannot be converted to '亿元'" in problem.message


def test_a_label_without_a_year_needs_one(tmp_path: Path) -> None:
    plan = make_plan(
        """
        [[indicators]]
        id = "turnover"
        name = "技术合同成交额"
        unit = "亿元"
        kind = "cumulative"

        [[targets]]
        id = "t"
        title = "t"
        rule = { kind = "at_least", indicator = "turnover", value = 1 }
        """,
        head='[plan]\nid = "p"\ntitle = "五年"\nperiod = { start = 2021-01-01, end = 2025-12-31 }\n',
    )
    rows = [["指标名称", "单位", "1-6月"], ["技术合同成交额", "亿元", 1]]
    (problem,) = problems(book(tmp_path / "y.xlsx", {"Sheet1": rows}), plan)
    assert problem.message == "the period label '1-6月' gives no year"
    # the title row gives it
    rows.insert(0, ["2024年上半年主要指标"])
    actuals = read(book(tmp_path / "y2.xlsx", {"Sheet1": rows}), plan)
    assert observations(actuals) == [("turnover", "2024-06-30", 1.0, "亿元", "C3")]


def test_a_span_is_read_rather_than_the_bare_month(tmp_path: Path) -> None:
    rows = [["指标名称", "单位", "6月", "1-6月"], ["技术合同成交额", "亿元", 30, 201.2]]
    assert observations(read(book(tmp_path / "s_2023.xlsx", {"6月": rows}))) == [
        ("turnover", "2023-06-30", 201.2, "亿元", "D2")
    ]


def test_value_words_take_the_period_of_the_sheet(tmp_path: Path) -> None:
    rows = [["指标名称", "计量单位", "本月", "本年累计"], ["技术合同成交额", "亿元", 30, 201.2]]
    assert observations(read(book(tmp_path / "v.xlsx", {"2023年6月": rows}))) == [
        ("turnover", "2023-06-30", 201.2, "亿元", "D2")
    ]


def test_milestone_cells(tmp_path: Path) -> None:
    rows = [
        ["指标名称", "1-3月", "1-6月"],
        ["实验室工作方案出台", "未完成", dt.date(2023, 5, 26)],
    ]
    frame = read(book(tmp_path / "ms_2023.xlsx", {"Sheet1": rows})).frame
    assert [(str(d.date()), v) for d, v in zip(frame["date"], frame["value"], strict=True)] == [
        ("2023-03-31", 0.0),
        ("2023-05-26", 1.0),
    ]


def test_a_long_sheet_with_chinese_headers(tmp_path: Path) -> None:
    rows = [
        ["宜昌市科技统计（长表）"],
        ["指标", "日期", "数值", "计量单位", "报送日期", "备注"],
        ["turnover", dt.date(2023, 6, 30), 201.2, "亿元", dt.date(2023, 7, 14), "快报"],
        ["loans", "2023年1-6月", 12000, "万元", None, None],
        ["firms", "2023-06", "—", "家", None, None],
        ["注：示例。"],
    ]
    actuals = read(book(tmp_path / "long.xlsx", {"Sheet1": rows}))
    assert observations(actuals) == [
        ("turnover", "2023-06-30", 201.2, "亿元", "C3"),
        ("loans", "2023-06-30", 1.2, "万元", "C4"),
    ]
    assert str(actuals.frame["reported_at"][0].date()) == "2023-07-14"


def test_sheets_without_a_header_are_skipped_with_a_note(tmp_path: Path) -> None:
    rows = [["指标名称", "单位", "1-6月"], ["技术合同成交额", "亿元", 1]]
    path = book(
        tmp_path / "w_2023.xlsx", {"说明": [["本表由统计局编制"], ["请勿修改"]], "6月": rows}
    )
    actuals = read(path)
    assert len(actuals) == 1
    assert actuals.notes == (f"{path}: sheets without a recognisable header were skipped: '说明'",)
    (problem,) = problems(book(tmp_path / "none.xlsx", {"说明": [["本表由统计局编制"]]}))
    assert problem.message.startswith("no sheet has a header")


def test_a_broken_or_locked_workbook_exits_3(tmp_path: Path, repo_root: Path) -> None:
    good = book(tmp_path / "good_2023.xlsx", {"6月": [["指标名称", "单位", "1-6月"]]})
    half = tmp_path / "half.xlsx"
    half.write_bytes(good.read_bytes()[:300])  # a copy interrupted while being written
    out, err = io.StringIO(), io.StringIO()
    plan = repo_root / "examples" / "yichang_2023" / "plan.toml"
    code = main(
        ["check", str(plan), "-a", str(half), "--as-of", "2023-06-30"], stdout=out, stderr=err
    )
    assert code == 3
    assert err.getvalue().startswith(f"error: {half}: cannot be read as a workbook (")
    assert "Traceback" not in err.getvalue()
    # an office lock file beside the workbook is not read from a folder
    (tmp_path / "~$good_2023.xlsx").write_bytes(b"\x00lock")
    half.unlink()
    assert len(read(tmp_path)) == 0


def test_a_missing_reader_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = book(tmp_path / "r.xlsx", {"6月": MONTHLY})
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # as if not installed
    (problem,) = problems(path)
    assert (
        problem.message
        == "reading this needs the 'python_calamine' library, which is not installed"
    )
    assert problem.hint == "pip install 'targetkit[xlsx]'"


def test_a_sources_file_describes_a_layout_that_is_not_recognised(tmp_path: Path) -> None:
    rows = [
        ["科技统计"],
        ["代码", "名目", "x", "y"],
        [None, "技术合同成交额", 90, 201.2],
        [None, "科技型中小企业入库数", 600, 1052],
    ]
    book(tmp_path / "odd.xlsx", {"数据": rows, "封面": [["封面"]]})
    sources = tmp_path / "sources.toml"
    sources.write_text(
        """
[[sources]]
path = "odd.xlsx"
sheets = ["数据"]
header_row = 2
indicator_column = "B"
unit = "亿元"
periods = { C = 2023-03-31, D = "2023-06-30" }
reported_at = 2023-07-14
""",
        encoding="utf-8",
    )
    with pytest.raises(tk.DataError) as info:
        read(sources)
    assert [p.source for p in info.value.problems] == [
        f"{tmp_path}/odd.xlsx!数据!C4",
        f"{tmp_path}/odd.xlsx!数据!D4",
    ]
    sources.write_text(
        sources.read_text(encoding="utf-8").replace(
            'unit = "亿元"', 'unit_column = "A"\nunit = "亿元"'
        ),
        encoding="utf-8",
    )
    # 家 rows need their own unit: give it in column A
    wb = openpyxl.load_workbook(tmp_path / "odd.xlsx")
    wb["数据"]["A4"] = "家"
    wb.save(tmp_path / "odd.xlsx")
    actuals = read(sources)
    assert observations(actuals) == [
        ("turnover", "2023-03-31", 90.0, "亿元", "C3"),
        ("turnover", "2023-06-30", 201.2, "亿元", "D3"),
        ("firms", "2023-03-31", 600.0, "家", "C4"),
        ("firms", "2023-06-30", 1052.0, "家", "D4"),
    ]
    assert {str(d.date()) for d in actuals.frame["reported_at"]} == {"2023-07-14"}


def test_a_bad_sources_file_names_each_key(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[sources]]\npath = "x.xlsx"\nheader_row = 0\nindicator_colum = "A"\nperiods = { "1" = 2023-06-30 }\n',
        encoding="utf-8",
    )
    assert [(p.path, p.message) for p in problems(sources)] == [
        ("sources[0].indicator_colum", "unknown key 'indicator_colum'"),
        ("sources[0].header_row", "header_row must be a row number from 1 (got 0)"),
        ("sources[0].periods.1", "'1' is not a column letter"),
    ]


def test_sources_show_prints_which_cell_became_which_observation(tmp_path: Path) -> None:
    path = book(tmp_path / "统计月报.xlsx", {"6月": MONTHLY}, {"6月": MONTHLY_MERGED})
    plan = tmp_path / "plan.toml"
    plan.write_text(tk.dumps(PLAN), encoding="utf-8")
    out = io.StringIO()
    assert (
        main(["sources", "show", str(path), "--plan", str(plan)], stdout=out, stderr=io.StringIO())
        == 0
    )
    assert out.getvalue().splitlines() == [
        f"{path}!6月: wide layout, header rows 3–4, unit 亿元",
        "  column A '指标名称': indicator",
        "  column B '计量单位': unit",
        "  column C '1-6月本期': period 2023-06-30",
        "  column D '1-6月同比增长(%)': growth 2023-06-30",
        "  column E '备注': note",
        "  row 5 '科技成果转化': heading, no figures",
        "  C6: turnover 2023-06-30 201.2 亿元",
        "  D6: turnover_growth 2023-06-30 12.5 %",
        "  C7: loans 2023-06-30 12000 万元",
        "  C8: firms 2023-06-30 1,052 家",
        "  C9: rank 2023-06-30 3",
        "  row 11: footnote, it and the rows below are not read",
    ]


@pytest.mark.parametrize(
    ("label", "day"),
    [
        ("1-3月", "2023-03-31"),
        ("1—6月", "2023-06-30"),
        ("1~6月累计", "2023-06-30"),
        ("2022年1-6月", "2022-06-30"),
        ("一季度", "2023-03-31"),
        ("第三季度末", "2023-09-30"),
        ("上半年", "2023-06-30"),
        ("前三季度", "2023-09-30"),
        ("全年", "2023-12-31"),
        ("6月末", "2023-06-30"),
        ("2023年6月", "2023-06-30"),
        ("2023-06", "2023-06-30"),
        ("2023.06", "2023-06-30"),
        ("2022年末", "2022-12-31"),
        ("２０２３年２月", "2023-02-28"),
    ],
)
def test_period_labels(label: str, day: str) -> None:
    assert str(period_date(label, 2023)[0]) == day


@given(st.integers(1900, 2100), st.integers(1, 12))
def test_every_way_of_writing_a_month_gives_its_last_day(year: int, month: int) -> None:
    days = {
        period_date(label, year)[0]
        for label in (
            f"1-{month}月",
            f"{year}年{month}月",
            f"{year}-{month:02d}",
            f"{year}.{month:02d}",
            f"{month}月末",
            f"{year}年1—{month}月累计",
        )
    }
    assert len(days) == 1
    (day,) = days
    assert day is not None
    assert (day.year, day.month) == (year, month)
    assert (day + dt.timedelta(days=1)).day == 1


@given(st.integers(0, 16383))
def test_column_letters_round_trip(index: int) -> None:
    assert column_index(column_letter(index)) == index


def test_date_cells_as_period_labels(tmp_path: Path) -> None:
    # office software stores a typed "2023-6" as 2023-06-01: the month, not its first day
    rows = [
        ["指标名称", "单位", dt.date(2023, 3, 1), dt.date(2023, 6, 1), dt.date(2023, 9, 30)],
        ["技术合同成交额", "亿元", 98.5, 201.2, 296.8],
    ]
    assert [o[1] for o in observations(read(book(tmp_path / "d.xlsx", {"Sheet1": rows})))] == [
        "2023-03-31",
        "2023-06-30",
        "2023-09-30",
    ]


def test_a_missing_path_with_a_question_mark_is_a_missing_path(tmp_path: Path) -> None:
    (problem,) = problems(f"{tmp_path}/nothing.xlsx?partial=true")
    assert problem.message == "no such file or folder"
    path = book(tmp_path / "q_2023.xlsx", {"6月": [["指标名称", "单位", "1-6月"]]})
    (problem,) = problems(f"{path}?sheet=6月")
    assert (problem.message, problem.hint) == (
        "unknown option 'sheet'",
        "the only option of a file is ?partial=true",
    )


def test_a_csv_file_may_use_the_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "中文表头.csv"
    path.write_text(
        "指标名称,日期,数值,计量单位\n技术合同登记额,2023年1-6月,201.2,亿元\n", encoding="utf-8"
    )
    assert observations(read(path)) == [("turnover", "2023-06-30", 201.2, "亿元", str(path))]


@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(st.integers(1, 12), st.decimals(0, 10_000, places=2), st.booleans()),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_a_workbook_reads_as_the_same_rows_in_a_dataframe(
    rows: list[tuple[int, Any, bool]],
) -> None:
    # 万元 or 亿元 per row, any month order: the same values as the long DataFrame of them
    with tempfile.TemporaryDirectory() as tmp:
        sheet: list[list[Any]] = [["指标名称", "单位", *(f"1-{m}月" for m, _, _ in rows)]]
        by_unit: dict[str, list[Any]] = {"亿元": [], "万元": []}
        for m, value, wan in rows:
            by_unit["万元" if wan else "亿元"].append((m, float(value) * (10_000 if wan else 1)))
        long = []
        for unit, cells in by_unit.items():
            line: list[Any] = ["技术合同成交额", unit]
            for m, _, _ in rows:
                found = [v for month, v in cells if month == m]
                line.append(found[0] if found else "—")
                if found:
                    long.append(
                        {
                            "indicator": "turnover",
                            "date": f"2023-{m:02d}",
                            "value": found[0],
                            "unit": unit,
                        }
                    )
            sheet.append(line)
        path = book(Path(tmp) / "p_2023.xlsx", {"Sheet1": sheet})
        got = read(path).frame.sort_values("date")["value"].tolist()
        want = tk.Actuals.from_frame(pd.DataFrame(long), PLAN).frame.sort_values("date")["value"]
        assert got == pytest.approx(want.tolist())
        assert got == pytest.approx([float(v) for _, v, _ in sorted(rows)])


def test_a_bureau_table_with_a_number_column_and_columns_not_read(tmp_path: Path) -> None:
    rows = [
        ["表1", "2023年6月科技创新主要指标"],
        ["单位：亿元、家、%"],  # lists the rows' units: no unit for the whole sheet
        ["序号", "指标名称", "计量单位", "本月", "1-6月\n累计", "上年同期", "增长%"],
        [1, "技术合同成交额", "亿元", 30.1, 201.2, 180.0, 11.8],
        [2, "科技型中小企业入库数", "家", 100, 1052, 900, 16.9],
        [3, "全省位次", None, None, 3, 4, "—"],
        ["注：1.本表为示例；2.增长为同比。"],
    ]
    actuals = read(book(tmp_path / "t.xlsx", {"Sheet1": rows}))
    assert observations(actuals) == [
        ("turnover", "2023-06-30", 201.2, "亿元", "E4"),
        ("turnover_growth", "2023-06-30", 11.8, "%", "G4"),
        ("firms", "2023-06-30", 1052.0, "家", "E5"),
        ("rank", "2023-06-30", 3.0, "", "E6"),
    ]
    assert len(actuals.notes) == 1  # the growth of 科技型中小企业入库数 has no indicator


def test_the_column_of_names_needs_no_header_word(tmp_path: Path) -> None:
    rows = [
        [None, "单位", "1-3月", "1-6月"],
        ["技术合同成交额", "亿元", 98.5, 201.2],
        ["科技型中小企业入库数", "家", 618, 1052],
    ]
    assert [o[:3] for o in observations(read(book(tmp_path / "h_2023.xlsx", {"S": rows})))] == [
        ("turnover", "2023-03-31", 98.5),
        ("turnover", "2023-06-30", 201.2),
        ("firms", "2023-03-31", 618.0),
        ("firms", "2023-06-30", 1052.0),
    ]


# --------------------------------------------------------------------------- parts: 目标分解

PARTS = make_plan(
    """
    [[indicators]]
    id = "jobs"
    name = "城镇新增就业"
    unit = "人"
    kind = "cumulative"

    [[indicators]]
    id = "hard"
    name = "就业困难人员就业"
    unit = "人"
    kind = "cumulative"

    [[targets]]
    id = "jobs"
    title = "城镇新增就业16600人"
    rule = { kind = "at_least", indicator = "jobs", value = 16600 }
    parts = [{ scope = "东坡区", value = 8000 }, { scope = "仁寿县", value = 8600 }]

    [[targets]]
    id = "hard"
    title = "就业困难人员就业1000人"
    rule = { kind = "at_least", indicator = "hard", value = 1000 }
    parts = [{ scope = "东坡区", value = 500 }, { scope = "仁寿县", value = 500 }]
    """
)
REPORT = [["2023年1-6月就业目标完成情况"], ["指标名称", "单位", "1-6月"]]


def scoped(actuals: tk.Actuals) -> list[tuple[str, str, float, str]]:
    f = actuals.frame
    return [
        (ind, scope, value, file.rsplit("!", 2)[-2] + "!" + file.rsplit("!", 1)[-1])
        for ind, scope, value, file in zip(
            f["indicator"], f["scope"], f["value"], f["file"], strict=True
        )
    ]


def test_one_sheet_per_scope_gives_each_sheet_its_scope(tmp_path: Path) -> None:
    sheets = {
        "说明": [["各县（区）报送，单位：人"]],  # no figures: skipped, as before
        "全市": [*REPORT, ["城镇新增就业", "人", 7000]],
        "东坡区": [*REPORT, ["城镇新增就业", "人", 4000], ["就业困难人员就业", "人", 260]],
        " 仁寿县 ": [*REPORT, ["城镇新增就业", "人", 3000], ["就业困难人员就业", "人", 240]],
    }
    path = book(tmp_path / "分县.xlsx", sheets)
    actuals = read(path, PARTS)
    assert scoped(actuals) == [
        ("jobs", "", 7000.0, "全市!C3"),
        ("jobs", "东坡区", 4000.0, "东坡区!C3"),
        ("hard", "东坡区", 260.0, "东坡区!C4"),
        ("jobs", "仁寿县", 3000.0, " 仁寿县 !C3"),
        ("hard", "仁寿县", 240.0, " 仁寿县 !C4"),
    ]
    ev = tk.evaluate(PARTS, actuals, as_of=dt.date(2023, 7, 20))
    # 东坡区 4000 of 8000 = 50.0% on 6/12: on pace; 仁寿县 3000 of 8600 = 34.9%: behind
    east, ren = ev.parts("jobs")
    assert (east.completion, east.status) == (0.5, tk.Status.ON_TRACK)
    assert (round(ren.completion or 0, 4), ren.status) == (0.3488, tk.Status.BEHIND)
    # the whole has its own figure, 7000 = 4000 + 3000; 就业困难 is rolled up: 260 + 240
    assert ev.result("jobs").actual == 7000
    assert ev.result("hard").actual == 500
    assert ev.result("hard").evidence[0].source == "分项合计"


def test_one_sheet_per_scope_in_the_long_layout(tmp_path: Path) -> None:
    long = [["指标", "日期", "数值", "单位"], ["城镇新增就业", "2023-06-30", 4000, "人"]]
    path = book(tmp_path / "long.xlsx", {"东坡区": long, "合计": long})
    assert [(ind, scope) for ind, scope, *_ in scoped(read(path, PARTS))] == [
        ("jobs", "东坡区"),
        ("jobs", ""),
    ]


def test_a_sheet_named_after_no_scope_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    sheets = {
        "东坡区": [*REPORT, ["城镇新增就业", "人", 4000]],
        "仁寿区": [*REPORT, ["城镇新增就业", "人", 3000]],
    }
    path = book(tmp_path / "分县.xlsx", sheets)
    (problem,) = problems(path, PARTS)
    assert str(problem) == (
        f"{path}!仁寿区: sheet: the sheet '仁寿区' is named after no scope of the plan's parts, "
        "while the sheets '东坡区' are: its figures would belong to no one; did you mean '仁寿县'? "
        "rename the sheet to one of the plan's scopes (东坡区, 仁寿县), or 全市/合计 for the "
        "whole, or describe the workbook in a sources file with sheet_scopes = false"
    )


def test_sheet_scopes_can_be_turned_off_or_on_in_a_sources_file(tmp_path: Path) -> None:
    sheets = {"东坡区": [*REPORT, ["城镇新增就业", "人", 4000]]}
    book(tmp_path / "b.xlsx", sheets)
    (tmp_path / "off.toml").write_text(
        '[[sources]]\npath = "b.xlsx"\nsheet_scopes = false\n', encoding="utf-8"
    )
    assert [s for _, s, *_ in scoped(read(tmp_path / "off.toml", PARTS))] == [""]
    book(tmp_path / "c.xlsx", {"眉山市": [*REPORT, ["城镇新增就业", "人", 7000]]})
    (tmp_path / "whole.toml").write_text(
        '[[sources]]\npath = "c.xlsx"\nsheet_scopes = true\nwhole = ["眉山市"]\n',
        encoding="utf-8",
    )
    assert [s for _, s, *_ in scoped(read(tmp_path / "whole.toml", PARTS))] == [""]
    (tmp_path / "bad.toml").write_text(
        '[[sources]]\npath = "c.xlsx"\nsheet_scopes = "yes"\nscope_column = "1"\n',
        encoding="utf-8",
    )
    assert [(p.path, p.message) for p in problems(tmp_path / "bad.toml", PARTS)] == [
        ("sources[0].scope_column", "'1' is not a column letter"),
        ("sources[0].sheet_scopes", "sheet_scopes must be true or false (got 'yes')"),
    ]


WIDE_SCOPES: list[list[Any]] = [
    ["2023年1-6月各县（区）就业目标完成情况"],
    ["指标名称", "县市区", "单位", "1-5月", "1-6月"],
    ["城镇新增就业", "全市", "人", 5600, 7000],
    [None, "东坡区", "人", 3100, 4000],
    [None, "仁寿县", "人", 2500, 3000],
    ["就业困难人员就业", "东坡区", "人", "—", 260],
    ["", "仁寿县", "人", None, 240],
    ["注：全市为各县（区）合计。"],
]


def test_a_scope_column_in_the_wide_layout(tmp_path: Path) -> None:
    rows = [list(r) for r in WIDE_SCOPES]
    rows[5][0], rows[6][0] = "就业困难人员就业", None  # merged over B6:B7 below
    path = book(tmp_path / "分县报表.xlsx", {"6月": rows}, {"6月": ["A6:A7"]})
    actuals = read(path, PARTS)
    assert scoped(actuals) == [
        ("jobs", "", 5600.0, "6月!D3"),
        ("jobs", "", 7000.0, "6月!E3"),
        ("jobs", "东坡区", 3100.0, "6月!D4"),  # the name above carries down
        ("jobs", "东坡区", 4000.0, "6月!E4"),
        ("jobs", "仁寿县", 2500.0, "6月!D5"),
        ("jobs", "仁寿县", 3000.0, "6月!E5"),
        ("hard", "东坡区", 260.0, "6月!E6"),
        ("hard", "仁寿县", 240.0, "6月!E7"),  # a merged name
    ]
    ev = tk.evaluate(PARTS, actuals, as_of=dt.date(2023, 7, 20))
    assert [(p.scope, p.actual) for p in ev.ranking("hard")] == [("东坡区", 260), ("仁寿县", 240)]


def test_a_scope_column_left_of_the_names_groups_by_scope(tmp_path: Path) -> None:
    rows = [
        ["单位：人"],
        ["地区", "指标名称", "1-6月"],
        ["东坡区", "城镇新增就业", 4000],
        [None, "就业困难人员就业", 260],
        ["仁寿县", "城镇新增就业", 3000],
        [None, "就业困难人员就业", 240],
        ["合计", "城镇新增就业", 7000],
    ]
    path = book(tmp_path / "by_scope_2023.xlsx", {"Sheet1": rows})
    assert [(i, s, v) for i, s, v, _ in scoped(read(path, PARTS))] == [
        ("jobs", "东坡区", 4000.0),
        ("hard", "东坡区", 260.0),
        ("jobs", "仁寿县", 3000.0),
        ("hard", "仁寿县", 240.0),
        ("jobs", "", 7000.0),
    ]


def test_a_bad_scope_cell_names_the_cell_value_and_fix(tmp_path: Path) -> None:
    rows = [list(r) for r in WIDE_SCOPES]
    rows[4][1] = "仁寿"
    path = book(tmp_path / "分县报表.xlsx", {"6月": rows})
    assert [str(p) for p in problems(path, PARTS)] == [
        f"{path}!6月!B5:5: scope: no part of the plan has the scope '仁寿'; did you mean "
        "'仁寿县'? write one of the plan's scopes (东坡区, 仁寿县), or 全市/合计 for the whole"
    ]


def test_a_scope_cell_that_contradicts_its_sheet_is_an_error(tmp_path: Path) -> None:
    rows = [["指标名称", "县市区", "单位", "1-6月"], ["城镇新增就业", "仁寿县", "人", 3000]]
    path = book(tmp_path / "b_2023.xlsx", {"东坡区": rows, "仁寿县": rows})
    assert [str(p) for p in problems(path, PARTS)] == [
        f"{path}!东坡区!B2:2: scope: the row is for '仁寿县', but it is on the sheet of "
        "'东坡区'; leave the cell empty, or move the row to the sheet of '仁寿县'"
    ]


def test_a_scope_column_in_a_plan_without_parts(tmp_path: Path) -> None:
    # a bureau's 地区 column holding the city's name: not read, as before parts existed
    rows = [["指标名称", "地区", "单位", "1-6月"], ["技术合同成交额", "宜昌市", "亿元", 30]]
    path = book(tmp_path / "b_2023.xlsx", {"Sheet1": rows})
    assert observations(read(path)) == [("turnover", "2023-06-30", 30.0, "亿元", "D2")]
    # named in a sources file, it is read, and a scope there is an error
    (tmp_path / "s.toml").write_text(
        '[[sources]]\npath = "b_2023.xlsx"\nscope_column = "B"\n', encoding="utf-8"
    )
    (problem,) = problems(tmp_path / "s.toml")
    assert (problem.source, problem.path) == (f"{tmp_path / 'b_2023.xlsx'}!Sheet1!B2", "scope")
    assert problem.hint == "the plan splits no target into parts: leave the scope out"


@settings(max_examples=12)
@given(
    figures=st.lists(st.tuples(st.integers(0, 9000), st.integers(0, 600)), min_size=2, max_size=2),
    scope_left=st.booleans(),
)
def test_one_split_three_ways_gives_one_evaluation(
    figures: list[tuple[int, int]], scope_left: bool
) -> None:
    scopes = ["东坡区", "仁寿县"]
    csv_rows = ["indicator,date,value,unit,scope"]
    per_sheet: dict[str, Any] = {}
    column: list[list[Any]] = [
        ["单位：人"],
        ["县市区", "指标名称", "1-6月"] if scope_left else ["指标名称", "县市区", "1-6月"],
    ]
    for scope, (jobs, hard) in zip(scopes, figures, strict=True):
        csv_rows += [f"jobs,2023-06-30,{jobs},人,{scope}", f"hard,2023-06-30,{hard},人,{scope}"]
        per_sheet[scope] = [*REPORT, ["城镇新增就业", "人", jobs], ["就业困难人员就业", "人", hard]]
        pairs = [("城镇新增就业", jobs), ("就业困难人员就业", hard)]
        for k, (name, value) in enumerate(pairs):
            if scope_left:  # the scope written once per group
                column.append([scope if k == 0 else None, name, value])
            else:
                column.append([name, scope, value])
    with tempfile.TemporaryDirectory() as folder:
        a = book(Path(folder) / "per_sheet_2023.xlsx", per_sheet)
        b = book(Path(folder) / "column_2023.xlsx", {"6月": column})
        (Path(folder) / "rows.csv").write_text("\n".join(csv_rows) + "\n", encoding="utf-8")
        results = []
        for source in (a, b, Path(folder) / "rows.csv"):
            ev = tk.evaluate(PARTS, read(source, PARTS), as_of=dt.date(2023, 7, 20))
            results.append(
                [
                    (r.target, r.scope, r.status, r.actual, r.completion)
                    for t in ev.results
                    for r in (t, *ev.parts(t.target))
                ]
            )
    assert results[0] == results[1] == results[2]
    # the whole is rolled up from the two parts in every case
    assert results[0][0][3] == figures[0][0] + figures[1][0]


def test_sources_show_tells_each_sheets_and_cells_scope(tmp_path: Path) -> None:
    sheets = {
        "全市": [*REPORT, ["城镇新增就业", "人", 7000]],
        "东坡区": [["指标名称", "县市区", "单位", "1-6月"], ["城镇新增就业", None, "人", 4000]],
    }
    path = book(tmp_path / "分县.xlsx", sheets)
    plan = tmp_path / "plan.toml"
    plan.write_text(tk.dumps(PARTS), encoding="utf-8")
    out = io.StringIO()
    args = ["sources", "show", str(path), "--plan", str(plan)]
    assert main(args, stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().splitlines() == [
        f"{path}: one sheet per scope",
        f"{path}!全市: wide layout, header row 2, the whole",
        "  column A '指标名称': indicator",
        "  column B '单位': unit",
        "  column C '1-6月': period 2023-06-30",
        "  C3: jobs 2023-06-30 7000 人",
        f"{path}!东坡区: wide layout, header row 1, scope 东坡区",
        "  column A '指标名称': indicator",
        "  column B '县市区': scope",
        "  column C '单位': unit",
        "  column D '1-6月': period 2023-06-30",
        "  D2: jobs @东坡区 2023-06-30 4000 人",
    ]
