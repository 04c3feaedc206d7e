"""Actuals: CSV files and DataFrames into the checked table, and every bad row with its place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import targetkit as tk
from targetkit import Status

from .conftest import make_plan

PLAN = make_plan(
    """
    [[indicators]]
    id = "turnover"
    name = "技术合同成交额"
    unit = "亿元"
    kind = "cumulative"

    [[indicators]]
    id = "talent"
    name = "引进人才"
    unit = "人"
    kind = "stock"

    [[indicators]]
    id = "hitech_share"
    name = "高新技术产业增加值占比"
    unit = "%"
    kind = "level"

    [[indicators]]
    id = "rank"
    name = "全省位次"
    unit = ""
    kind = "level"

    [[targets]]
    id = "turnover"
    title = "技术合同成交额突破220亿元"
    rule = { kind = "at_least", indicator = "turnover", value = 220 }

    [[targets]]
    id = "talent"
    title = "引进人才1500人"
    rule = { kind = "at_least", indicator = "talent", value = 1500 }

    [[targets]]
    id = "hitech"
    title = "占比达到20%"
    rule = { kind = "at_least", indicator = "hitech_share", value = 20 }

    [[targets]]
    id = "rank"
    title = "位居全省前三"
    rule = { kind = "rank", indicator = "rank", value = 3 }

    [[targets]]
    id = "policy"
    title = "出台科技创新条例"
    deadline = 2023-06-30
    rule = { kind = "milestone", stages = [{ id = "draft", due = 2023-03-31 }, { id = "issued", due = 2023-06-30 }] }
    """
)

HEADER = "indicator,date,value,unit\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def read(tmp_path: Path, text: str, name: str = "actuals.csv") -> tk.Actuals:
    return tk.read_actuals(write(tmp_path / name, text), PLAN)


def problems_of(paths: Path | list[Path]) -> tuple[tk.Problem, ...]:
    with pytest.raises(tk.DataError) as info:
        tk.read_actuals(paths, PLAN)
    return info.value.problems


def only(problems: tuple[tk.Problem, ...]) -> tk.Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def dates(actuals: tk.Actuals) -> list[dt.date]:
    return [pd.Timestamp(d).date() for d in actuals.frame["date"]]


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2023-06-30", dt.date(2023, 6, 30)),
        ("2023/6/30", dt.date(2023, 6, 30)),
        ("2023年6月30日", dt.date(2023, 6, 30)),
        ("2023-06", dt.date(2023, 6, 30)),
        ("2023年6月", dt.date(2023, 6, 30)),
        ("2023年1-6月", dt.date(2023, 6, 30)),
        ("2023-02", dt.date(2023, 2, 28)),
        ("2024年2月", dt.date(2024, 2, 29)),
        ("2023-12", dt.date(2023, 12, 31)),
    ],
)
def test_a_date_is_read_in_the_ways_people_write_it(
    tmp_path: Path, cell: str, day: dt.date
) -> None:
    actuals = read(tmp_path, HEADER + f"turnover,{cell},100,亿元\n")
    assert dates(actuals) == [day]


def test_reported_at_is_read_as_a_date(tmp_path: Path) -> None:
    actuals = read(
        tmp_path,
        "indicator,date,value,unit,reported_at\n"
        "turnover,2023-06,100,亿元,2023年7月15日\n"
        "turnover,2023-05,80,亿元,\n",
    )
    reported = actuals.frame["reported_at"]
    assert pd.Timestamp(reported[0]).date() == dt.date(2023, 7, 15)
    assert pd.isna(reported[1])


# --------------------------------------------------------------------------- encodings and layout


def test_utf8_with_bom_and_crlf_line_ends(tmp_path: Path) -> None:
    text = "\ufeffindicator,date,value,unit\r\nturnover,2023-05-31,80,亿元\r\ntalent,2023-05-31,300,人\r\n"
    actuals = tk.read_actuals(write(tmp_path / "bom.csv", text), PLAN)
    assert list(actuals.frame["indicator"]) == ["turnover", "talent"]
    assert list(actuals.frame["value"]) == [80.0, 300.0]
    assert list(actuals.frame["line"]) == [2, 3]
    assert list(actuals.frame["unit"]) == ["亿元", "人"]


def test_crlf_lines_are_counted_right_in_errors(tmp_path: Path) -> None:
    text = "indicator,date,value,unit\r\n\r\nturnover,2023-05-31,80,亿元\r\nturnover,2023-06-30,abc,亿元\r\n"
    path = write(tmp_path / "crlf.csv", text)
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 4, "value")


def test_a_gb18030_file_is_read(tmp_path: Path) -> None:
    text = (
        "indicator,date,value,unit,source,note\n"
        "talent,2023年6月30日,12,名,市人社局,新增高层次人才\n"
        "turnover,2023年6月,120,亿元,市科技局,1–6月累计\n"
    )
    path = write(tmp_path / "gbk.csv", text, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    actuals = tk.read_actuals(path, PLAN)
    assert list(actuals.frame["value"]) == [12.0, 120.0]
    assert list(actuals.frame["source"]) == ["市人社局", "市科技局"]
    assert list(actuals.frame["note"]) == ["新增高层次人才", "1–6月累计"]


def test_an_error_in_a_gb18030_file_names_its_line(tmp_path: Path) -> None:
    text = "indicator,date,value,unit\n人才,2023-06-30,12,名\n"
    path = write(tmp_path / "gbk.csv", text, encoding="gb18030")
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 2, "indicator")
    assert "'人才'" in problem.message


def test_blank_lines_are_skipped_and_lines_still_counted(tmp_path: Path) -> None:
    actuals = read(tmp_path, "\n" + HEADER + "\nturnover,2023-05-31,80,亿元\n\n,,,\n")
    assert list(actuals.frame["line"]) == [4]


def test_a_header_only_file_has_no_rows(tmp_path: Path) -> None:
    actuals = read(tmp_path, HEADER)
    assert len(actuals) == 0


# --------------------------------------------------------------------------- numbers and units


def test_thousands_separators_are_read(tmp_path: Path) -> None:
    actuals = read(tmp_path, HEADER + 'turnover,2023-06-30,"1,234,567",万元\n')
    assert actuals.frame["value"][0] == pytest.approx(123.4567)
    assert actuals.frame["raw_value"][0] == "1,234,567"


def test_values_are_converted_to_the_indicator_unit(tmp_path: Path) -> None:
    actuals = read(
        tmp_path,
        HEADER
        + 'turnover,2023-05-31,"2,200,000",万元\n'
        + "turnover,2023-06-30,230,亿元\n"
        + "talent,2023-06-30,12,名\n"
        + "talent,2023-05-31,10,人\n",
    )
    frame = actuals.frame
    assert list(frame["value"]) == pytest.approx([220.0, 230.0, 12.0, 10.0])
    # what was written is kept, for evidence
    assert list(frame["unit"]) == ["万元", "亿元", "名", "人"]
    assert list(frame["raw_value"]) == ["2,200,000", "230", "12", "10"]


def test_a_percent_sign_in_the_value_stands_for_the_unit(tmp_path: Path) -> None:
    actuals = read(tmp_path, HEADER + "hitech_share,2023-06-30,18.5%,\n")
    assert actuals.frame["value"][0] == pytest.approx(18.5)


def test_an_empty_unit_for_a_percent_indicator_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "pct.csv", HEADER + "hitech_share,2023-06-30,18.5,\n")
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 2, "unit")
    assert "'%'" in problem.hint


def test_a_unitless_indicator_takes_an_empty_unit(tmp_path: Path) -> None:
    actuals = read(tmp_path, HEADER + "rank,2023-06-30,2,\n")
    assert actuals.frame["value"][0] == 2.0


def test_a_dataframe_is_checked_and_converted() -> None:
    frame = pd.DataFrame(
        {
            "indicator": ["turnover", "turnover", "talent", "policy"],
            "date": [pd.Timestamp("2023-06-30"), dt.date(2023, 5, 31), "2023年4月", "2023-03-01"],
            "value": [2_200_000, 1.5, 12, "done"],
            "unit": ["万元", "亿元", "名", None],
        }
    )
    actuals = tk.Actuals.from_frame(frame, PLAN)
    assert list(actuals.frame["value"]) == pytest.approx([220.0, 1.5, 12.0, 1.0])
    assert dates(actuals) == [
        dt.date(2023, 6, 30),
        dt.date(2023, 5, 31),
        dt.date(2023, 4, 30),
        dt.date(2023, 3, 1),
    ]
    assert list(actuals.frame["line"]) == [1, 2, 3, 4]
    assert set(actuals.frame["file"]) == {"<DataFrame>"}


def test_dataframe_errors_count_rows_from_one() -> None:
    frame = pd.DataFrame(
        {
            "indicator": ["turnover", "turnover"],
            "date": ["2023-06-30", "6/30/2023"],
            "value": ["1,5", 3],
            "unit": ["亿元", "亿元"],
        }
    )
    with pytest.raises(tk.DataError) as info:
        tk.Actuals.from_frame(frame, PLAN, source="upload")
    found = sorted((p.line, p.path) for p in info.value.problems)
    assert found == [(1, "value"), (2, "date")]
    assert {p.source for p in info.value.problems} == {"upload"}


# --------------------------------------------------------------------------- bad rows


@pytest.mark.parametrize(
    ("row", "column", "in_message", "in_hint"),
    [
        ("turnover,2023-06-30,abc,亿元", "value", ["'abc' is not a number"], ["plain number"]),
        ('turnover,2023-06-30,"1,5",亿元', "value", ["'1,5'"], ["decimal mark is '.'"]),
        ("turnover,2023-06-30,=SUM(A1),亿元", "value", ["'=SUM(A1)'"], ["formula"]),
        ("turnover,2023-06-30,,亿元", "value", ["the value for 'turnover' is empty"], ["number"]),
        ("turnover,30/06/2023,100,亿元", "date", ["'30/06/2023' is not a date"], ["2023-06-30"]),
        ("turnover,2023-02-30,100,亿元", "date", ["'2023-02-30'"], ["2023年6月"]),
        ("turnover,,100,亿元", "date", ["the date is empty"], ["2023-06-30"]),
        ("turnovr,2023-06-30,100,亿元", "indicator", ["'turnovr'"], ["did you mean 'turnover'?"]),
        ("talent,2023-06-30,12,家", "unit", ["'家'", "'人'", "'talent'"], ["'人'"]),
        ("turnover,2023-06-30,100,", "unit", ["empty", "'turnover'", "'亿元'"], ["'亿元'"]),
        ("turnover,2023-06-30,100,亿圆", "unit", ["'亿圆'"], ["'亿元'"]),
    ],
)
def test_a_bad_row_is_named_with_file_line_value_and_fix(
    tmp_path: Path, row: str, column: str, in_message: list[str], in_hint: list[str]
) -> None:
    path = write(tmp_path / "bad.csv", HEADER + "turnover,2023-05-31,80,亿元\n" + row + "\n")
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 3, column)
    for text in in_message:
        assert text in problem.message
    for text in in_hint:
        assert text in problem.hint
    assert str(problem).startswith(f"{path}:3: {column}: ")


def test_every_bad_row_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        HEADER
        + "turnover,2023-05-31,abc,亿元\n"
        + "turnover,2023-13-01,80,亿元\n"
        + "talent,2023-05-31,12,家\n"
        + "turnover,2023-04-30,70,亿元\n"
        + "rnak,2023-05-31,2,\n",
    )
    problems = problems_of(path)
    assert sorted((p.line, p.path) for p in problems) == [
        (2, "value"),
        (3, "date"),
        (4, "unit"),
        (6, "indicator"),
    ]
    assert all(p.source == str(path) for p in problems)


def test_a_reported_at_that_is_not_a_date_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        "indicator,date,value,unit,reported_at\nturnover,2023-06-30,100,亿元,soon\n",
    )
    problem = only(problems_of(path))
    assert (problem.line, problem.path) == (2, "reported_at")
    assert "'soon'" in problem.message


# --------------------------------------------------------------------------- duplicates


def test_conflicting_rows_in_one_file_are_named_with_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dup.csv",
        HEADER
        + "turnover,2023-06-30,100,亿元\n"
        + "turnover,2023-05-31,80,亿元\n"
        + "turnover,2023-06-30,110,亿元\n",
    )
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 2, "value")
    assert "'turnover'" in problem.message
    assert "2023-06-30" in problem.message
    assert "100 亿元" in problem.message
    assert "110 亿元" in problem.message
    assert f"{path}:4" in problem.message
    assert "reported_at" in problem.hint


def test_conflicting_rows_with_the_same_reported_at_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dup.csv",
        "indicator,date,value,unit,reported_at\n"
        "turnover,2023-06-30,100,亿元,2023-07-15\n"
        "turnover,2023-06-30,101,亿元,2023-07-15\n",
    )
    problem = only(problems_of(path))
    assert (problem.line, problem.path) == (2, "value")
    assert f"{path}:3" in problem.message


def test_conflicting_rows_across_two_files_name_both_files(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", HEADER + "turnover,2023-06-30,100,亿元\n")
    second = write(
        tmp_path / "b.csv", HEADER + "talent,2023-06-30,12,人\nturnover,2023-06-30,105,亿元\n"
    )
    problem = only(problems_of([first, second]))
    assert (problem.source, problem.line, problem.path) == (str(first), 2, "value")
    assert "100 亿元" in problem.message
    assert "105 亿元" in problem.message
    assert f"{second}:3" in problem.message


def test_identical_duplicates_are_accepted_once(tmp_path: Path) -> None:
    actuals = read(
        tmp_path,
        HEADER
        + "turnover,2023-06-30,220,亿元\n"
        + 'turnover,2023-06-30,"2,200,000",万元\n'
        + "turnover,2023-06-30,220,亿元\n",
    )
    assert len(actuals) == 1
    assert actuals.frame["value"][0] == pytest.approx(220.0)
    assert actuals.frame["line"][0] == 2


def test_identical_duplicates_across_files_are_accepted_once(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", HEADER + "turnover,2023-06-30,100,亿元\n")
    second = write(tmp_path / "b.csv", HEADER + "turnover,2023-06-30,1000000,万元\n")
    actuals = tk.read_actuals([first, second], PLAN)
    assert len(actuals) == 1
    assert actuals.frame["file"][0] == str(first)


def test_revisions_with_a_later_reported_at_are_kept(tmp_path: Path) -> None:
    actuals = read(
        tmp_path,
        "indicator,date,value,unit,reported_at\n"
        "turnover,2023-06-30,100,亿元,2023-07-15\n"
        "turnover,2023-06-30,104,亿元,2023-08-15\n",
    )
    assert list(actuals.frame["value"]) == [100.0, 104.0]


# --------------------------------------------------------------------------- bad files


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "cols.csv", "indicator,date,value\nturnover,2023-06-30,100\n")
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 1, "unit")
    assert problem.message == "the required column 'unit' is missing"
    assert "indicator,date,value,unit" in problem.hint


def test_a_mistyped_column_suggests_the_right_name(tmp_path: Path) -> None:
    path = write(
        tmp_path / "cols.csv",
        "indicator,date,value,unit,reportd_at\nturnover,2023-06-30,100,亿元,2023-07-15\n",
    )
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 1, "reportd_at")
    assert problem.message == "unknown column 'reportd_at'"
    assert problem.hint == "did you mean 'reported_at'?"


def test_a_mistyped_required_column_is_named_twice(tmp_path: Path) -> None:
    path = write(tmp_path / "cols.csv", "indicator,date,valeu,unit\nturnover,2023-06-30,100,亿元\n")
    problems = problems_of(path)
    assert [(p.path, p.line) for p in problems] == [("valeu", 1), ("value", 1)]
    assert problems[0].hint == "did you mean 'value'?"


def test_column_names_ignore_case_and_spaces(tmp_path: Path) -> None:
    actuals = read(tmp_path, " Indicator , DATE ,Value,Unit\nturnover,2023-06-30,100,亿元\n")
    assert list(actuals.frame["value"]) == [100.0]


def test_a_ragged_row_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ragged.csv",
        HEADER
        + "turnover,2023-05-31,80,亿元\nturnover,2023-06-30,1,234,亿元\nturnover,2023-04-30\n",
    )
    problems = problems_of(path)
    assert [(p.line, p.message) for p in problems] == [
        (3, "the row has 5 fields but the header has 4"),
        (4, "the row has 2 fields but the header has 4"),
    ]
    assert all(p.source == str(path) for p in problems)
    assert "quote" in problems[0].hint


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf", b"  \r\n"])
def test_an_empty_file_is_named(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    problem = only(problems_of(path))
    assert (problem.source, problem.line) == (str(path), 1)
    assert problem.message == "the file is empty"
    assert "indicator,date,value,unit" in problem.hint


def test_a_folder_is_read_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "actuals"
    folder.mkdir()
    write(folder / "2023-06.csv", HEADER + "turnover,2023-06-30,120,亿元\n")
    write(folder / "2023-04.csv", HEADER + "turnover,2023-04-30,70,亿元\n")
    write(folder / "2023-05.CSV", HEADER + "turnover,2023-05-31,90,亿元\n")
    write(folder / "README.txt", "not data\n")
    (folder / "old").mkdir()
    write(folder / "old" / "2022.csv", HEADER + "turnover,2022-12-31,200,亿元\n")
    actuals = tk.read_actuals(folder, PLAN)
    assert [Path(f).name for f in actuals.frame["file"]] == [
        "2023-04.csv",
        "2023-05.CSV",
        "2023-06.csv",
    ]
    assert list(actuals.frame["value"]) == [70.0, 90.0, 120.0]


def test_errors_of_every_file_in_a_folder_are_collected(tmp_path: Path) -> None:
    folder = tmp_path / "actuals"
    folder.mkdir()
    a = write(folder / "a.csv", HEADER + "turnover,2023-06-30,x,亿元\n")
    b = write(folder / "b.csv", HEADER + "talent,2023-06-30,1,家\n")
    problems = problems_of(folder)
    assert [(p.source, p.line, p.path) for p in problems] == [
        (str(a), 2, "value"),
        (str(b), 2, "unit"),
    ]


def test_an_empty_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "none"
    folder.mkdir()
    problem = only(problems_of(folder))
    assert problem.source == str(folder)
    assert "no actuals file" in problem.message


def test_a_path_that_does_not_exist_is_named(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    problem = only(problems_of(path))
    assert (problem.source, problem.line) == (str(path), None)
    assert problem.message == "no such file or folder"
    assert problem.hint == "check the path"


def test_a_missing_path_among_good_ones_is_named(tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", HEADER + "turnover,2023-06-30,120,亿元\n")
    problem = only(problems_of([good, tmp_path / "gone"]))
    assert problem.source == str(tmp_path / "gone")


def test_data_error_is_a_value_error(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", HEADER + "turnover,2023-06-30,abc,亿元\n")
    with pytest.raises(ValueError, match="'abc' is not a number"):
        tk.read_actuals(path, PLAN)


# --------------------------------------------------------------------------- milestones


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("done", 1.0),
        ("Done", 1.0),
        ("1", 1.0),
        ("true", 1.0),
        ("TRUE", 1.0),
        ("完成", 1.0),
        ("已完成", 1.0),
        ("0", 0.0),
        ("false", 0.0),
        ("未完成", 0.0),
    ],
)
def test_milestone_values(tmp_path: Path, cell: str, value: float) -> None:
    actuals = read(tmp_path, HEADER + f"policy,2023-05-20,{cell},\n")
    assert list(actuals.frame["value"]) == [value]
    assert list(actuals.frame["stage"]) == [""]


def test_a_stage_id_records_that_stage(tmp_path: Path) -> None:
    actuals = read(tmp_path, HEADER + "policy,2023-03-20,draft,\npolicy,2023-06-20,issued,\n")
    assert list(actuals.frame["stage"]) == ["draft", "issued"]
    assert list(actuals.frame["value"]) == [1.0, 1.0]


def test_a_stage_and_done_on_the_same_day_do_not_conflict(tmp_path: Path) -> None:
    actuals = read(tmp_path, HEADER + "policy,2023-06-20,issued,\npolicy,2023-06-20,done,\n")
    assert len(actuals) == 2


def test_an_unknown_milestone_value_lists_the_accepted_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "ms.csv", HEADER + "policy,2023-03-20,drafted,\n")
    problem = only(problems_of(path))
    assert (problem.line, problem.path) == (2, "value")
    assert "'drafted'" in problem.message
    assert "'policy'" in problem.message
    assert "'done'" in problem.hint
    assert "'draft'" in problem.hint
    assert "'issued'" in problem.hint


@pytest.mark.parametrize("unit", ["亿元", "%", "项"])
def test_a_unit_on_a_milestone_row_is_refused_with_its_place(tmp_path: Path, unit: str) -> None:
    path = write(tmp_path / "ms.csv", HEADER + f"policy,2023-04-15,done,{unit}\n")
    problem = only(problems_of(path))
    assert (problem.source, problem.line, problem.path) == (str(path), 2, "unit")
    assert problem.message == (
        f"'policy' is a milestone, done or not done, but the row gives the unit '{unit}'"
    )
    assert "leave the unit cell empty" in problem.hint


def test_milestone_rows_from_a_file_decide_the_status(tmp_path: Path) -> None:
    actuals = read(tmp_path, HEADER + "policy,2023-03-20,draft,\npolicy,2023年6月20日,完成,\n")
    result = tk.evaluate(PLAN, actuals, as_of=dt.date(2023, 7, 1)).result("policy")
    assert result.status is Status.MET
    assert result.observed_on == dt.date(2023, 6, 20)
    assert sorted(e.line for e in result.evidence) == [2, 3]


def test_concat_of_two_tables_keeps_both(tmp_path: Path) -> None:
    a = read(tmp_path, HEADER + "turnover,2023-05-31,80,亿元\n", name="a.csv")
    b = read(tmp_path, HEADER + "turnover,2023-06-30,120,亿元\n", name="b.csv")
    both = a.concat(b)
    assert list(both.frame["value"]) == [80.0, 120.0]
    assert both.indicators() == ("turnover",)
