"""Reports to look at: the HTML 通报, the Markdown 通报, the notebook view and trajectories.

The HTML report of the shipped Yichang example is also opened in a real headless Chromium
(installed by scripts/install-test-deps): no console error, no network request, every target row
with its status text, Chinese drawn with a CJK font (not boxes), a layout that fits the window,
a screenshot with ink and the status colours, and A4 pages when printed.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs as attrs_
import numpy as np
import pytest

import targetkit as tk
from targetkit.model import Pace, PaceMethod
from targetkit.render.report import notebook_html, render_html, render_markdown
from targetkit.trajectory import pace_curve, trajectories, visible_rows

from .chromium import CHROMIUM, Chromium
from .conftest import make_actuals, make_plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "yichang_2023"
MID_YEAR = dt.date(2023, 6, 30)
YEAR_END = dt.date(2024, 1, 31)
COLUMNS_ZH = [
    "指标",
    "年度目标",
    "累计完成",
    "完成率",
    "序时进度",
    "差距(个百分点)",
    "状态",
    "责任单位",
    "预计全年",
]
COLUMNS_EN = [
    "Indicator",
    "Target",
    "Actual to date",
    "Completion",
    "Expected (pace)",
    "Gap (pp)",
    "Status",
    "Responsible unit",
    "Year-end forecast",
]


@pytest.fixture(scope="module")
def plan() -> tk.Plan:
    return tk.load(EXAMPLE / "plan.toml")


@pytest.fixture(scope="module")
def actuals(plan: tk.Plan) -> tk.Actuals:
    return tk.read_actuals(EXAMPLE / "actuals", plan)


@pytest.fixture(scope="module")
def mid_year(plan: tk.Plan, actuals: tk.Actuals) -> tk.Evaluation:
    return tk.evaluate(plan, actuals, as_of=MID_YEAR)


@pytest.fixture(scope="module")
def report(mid_year: tk.Evaluation, actuals: tk.Actuals) -> str:
    return render_html(mid_year, history=actuals)


# --------------------------------------------------------------------------- HTML parsing


class Page(HTMLParser):
    """Collect what the tests look at: every start tag, table headers and rows, and text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.headers: list[str] = []
        self.rows: dict[str, dict[str, Any]] = {}
        self.text: list[str] = []
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._in_thead = False
        self._stack: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        self._stack.append(tag)
        if tag == "thead":
            self._in_thead = True
        elif tag == "tr" and "data-target" in a:
            self._row = a["data-target"]
            self.rows[self._row] = {"status": a.get("data-status"), "cells": []}
        elif tag in ("th", "td") and (self._row is not None or self._in_thead):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()
        if tag == "thead":
            self._in_thead = False
        elif tag in ("th", "td") and self._cell is not None:
            text = "".join(self._cell).strip()
            if self._in_thead:
                self.headers.append(text)
            elif self._row is not None:
                self.rows[self._row]["cells"].append(text)
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def all_text(self) -> str:
        return "".join(self.text)


# --------------------------------------------------------------------------- HTML structure


def test_report_is_one_complete_document(report: str) -> None:
    assert report.startswith("<!DOCTYPE html>\n")
    page = Page(report)
    names = [tag for tag, _ in page.tags]
    assert names[:3] == ["html", "head", "meta"]
    assert names.count("style") == 1
    assert dict(page.tags[0][1])["lang"] == "zh-CN"
    assert report.rstrip().endswith("</html>")


def test_report_refers_to_nothing_outside_itself(report: str) -> None:
    assert not re.search(r"https?:", report, re.IGNORECASE)
    assert "url(" not in report
    assert "@import" not in report
    page = Page(report)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        assert not {"src", "href", "xlink:href", "action", "srcset"} & set(attrs), (tag, attrs)


def test_table_headers_follow_the_tongbao(report: str) -> None:
    headers = Page(report).headers
    assert headers[: len(COLUMNS_ZH)] == COLUMNS_ZH
    # then the annex of the two targets split across the districts: scorecard, two rankings
    assert headers[len(COLUMNS_ZH)] == "单位"
    assert headers.count("排名") == 2


def test_every_target_has_a_row_with_its_status_text(report: str, mid_year: tk.Evaluation) -> None:
    rows = Page(report).rows
    assert list(rows) == [r.target for r in mid_year.results]
    for r in mid_year.results:
        row = rows[r.target]
        assert row["status"] == r.status.value
        cells = row["cells"]
        assert len(cells) == 9
        assert cells[0].startswith(r.title)
        assert r.status.label_zh in cells[6]


def test_row_numbers_for_a_paced_target(report: str) -> None:
    # talent_recruited at mid-year: 1–3月 620 of 3000 = 20.7%, expected 25.0%, gap −4.3 pp
    cells = Page(report).rows["talent_recruited"]["cells"]
    assert cells[1] == "3000人"
    assert cells[2].startswith("620人")
    assert cells[3] == "20.7%"
    assert cells[4] == "25.0%"
    assert cells[5] == "-4.3"
    assert cells[6].endswith("滞后")
    assert cells[7] == "宜昌市科学技术局"  # no owner: the issuer is responsible


def test_row_texts_for_other_kinds(report: str) -> None:
    rows = Page(report).rows
    assert rows["lab_2022_assessment_done"]["cells"][7] == "三峡实验室"
    assert rows["lab_work_plan_issued"]["cells"][2] == "已完成（5月26日）"
    assert rows["cmcc_datacenter_started"]["cells"][1] == "12月31日前完成"
    assert rows["rd_intensity_rank"]["cells"][1:3] == ["前3位", "第4位3月31日"]
    assert rows["national_talent_selected"]["cells"][1] == "1名（力争2名）"
    assert rows["hightech_enterprises_net"]["cells"][1] == "净增100家"
    assert rows["rd_spending"]["cells"][2:6] == ["—", "—", "—", "—"]


def test_header_counts_and_shares(report: str, mid_year: tk.Evaluation) -> None:
    page = Page(report)
    lead = page.all_text()
    assert "共有量化目标 24 项" in lead
    summary = mid_year.summary
    for status in tk.Status:
        n = summary[status.value]
        li = [a for tag, a in page.tags if tag == "li" and a.get("data-status") == status.value]
        assert len(li) == 1, status
        if n:
            assert f"{status.label_zh} {n} 项（占 {100 * n / 24:.1f}%）" in lead
    # 1 met, 13 on track, 7 behind, 2 off track, 1 no data at mid-year (see STORY.md)
    assert "已完成 1 项（占 4.2%），达序时 13 项（占 54.2%），滞后 7 项（占 29.2%）" in lead


def test_lagging_list_names_each_target_with_its_explanation(
    report: str, mid_year: tk.Evaluation
) -> None:
    page = Page(report)
    lagging = [
        a["data-target"]
        for tag, a in page.tags
        if tag == "li" and "id" in a and a["id"].startswith("lag-")
    ]
    expected = [r for r in mid_year.results if r.status in (tk.Status.BEHIND, tk.Status.OFF_TRACK)]
    assert sorted(lagging) == sorted(r.target for r in expected)
    # worst first: the two off-track targets lead the list
    assert set(lagging[:2]) == {"industrial_rd_share", "hightech_va_share"}
    text = page.all_text()
    for r in expected:
        assert r.message_zh in text
    assert "以下 9 项目标滞后于序时进度或未完成" in text


def test_a_chart_per_target_with_a_text_description(report: str, mid_year: tk.Evaluation) -> None:
    page = Page(report)
    figures = [
        a["data-target"] for tag, a in page.tags if tag == "figure" and a["class"] == "chart"
    ]
    assert figures == [r.target for r in mid_year.results]
    svgs = [a for tag, a in page.tags if tag == "svg" and a.get("role") == "img"]
    # and one picture of the parts against their pace per split target, in the annex
    split = [r for r in mid_year.results if mid_year.parts(r.target)]
    assert len(svgs) == len(mid_year.results) + len(split) == len(mid_year.results) + 2
    assert all(a["aria-labelledby"] for a in svgs)
    # the description says the revised figure, not the first estimate
    assert "2023-03-31 620人 (滞后)" in report


def test_charts_plot_every_observation_and_the_pace(report: str) -> None:
    chart = report[report.index('id="chart-tech_contract_turnover"') :]
    chart = chart[: chart.index("</figure>")]
    actual = re.search(r'<polyline class="actual" points="([^"]+)"', chart)
    assert actual is not None
    # visible on 2023-06-30: 1–2月 and 1–3月 (the 1–6月 figure is reported on 2023-07-14)
    assert len(actual[1].split()) == 2
    assert 'stroke-dasharray="5 3"' in chart  # the pace staircase
    milestone = report[report.index('id="chart-lab_work_plan_issued"') :]
    assert "已完成 2023-05-26" in milestone[: milestone.index("</figure>")]


def test_user_text_is_escaped() -> None:
    nasty = '<script>alert("x")</script>&'
    plan = make_plan(
        f"""
        [[indicators]]
        id = "n"
        name = "{nasty.replace('"', "'")}"
        unit = "家"
        kind = "cumulative"

        [[targets]]
        id = "t"
        title = '{nasty}'
        owner = '{nasty}'
        section = '{nasty}'
        rule = {{ kind = "at_least", indicator = "n", value = 10, unit = "家" }}
        """,
        head=f"""
        [plan]
        id = "demo"
        title = '{nasty}'
        issuer = '{nasty}'
        period = {{ start = 2023-01-01, end = 2023-12-31 }}
        """,
    )
    actuals = make_actuals(plan, "indicator,date,value,unit,note\nn,2023-06-30,3,家,<b>x</b>\n")
    ev = tk.evaluate(plan, actuals, as_of=MID_YEAR)
    for text in (render_html(ev, history=actuals), notebook_html(ev), notebook_html(ev.results[0])):
        assert "<script" not in text
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in text
        assert "<b>" not in text
    page = Page(render_html(ev))
    assert page.rows["t"]["cells"][0].startswith(nasty)
    markdown = render_markdown(ev)
    assert "<script>" not in markdown
    assert r'\<script\>alert("x")\</script\>&' in markdown


def test_english_report(mid_year: tk.Evaluation, actuals: tk.Actuals) -> None:
    text = render_html(mid_year, lang="en", history=actuals)
    page = Page(text)
    assert page.headers[: len(COLUMNS_EN)] == COLUMNS_EN
    assert page.headers[len(COLUMNS_EN)] == "Scope"
    assert dict(page.tags[0][1])["lang"] == "en"
    for r in mid_year.results:
        assert r.status.label_en in page.rows[r.target]["cells"][6]
    assert mid_year.result("talent_recruited").message_en in page.all_text()
    assert "3000 人" in page.rows["talent_recruited"]["cells"][1]


def test_without_history_each_chart_shows_the_current_value(mid_year: tk.Evaluation) -> None:
    text = render_html(mid_year)
    chart = text[text.index('id="chart-tech_contract_turnover"') :]
    actual = re.search(r'<polyline class="actual" points="([^"]+)"', chart)
    assert actual is not None
    assert len(actual[1].split()) == 1


def test_unknown_language_is_refused(mid_year: tk.Evaluation) -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        render_html(mid_year, lang="fr")
    with pytest.raises(ValueError, match="unknown language"):
        render_markdown(mid_year, lang="fr")
    with pytest.raises(ValueError, match="unknown language"):
        notebook_html(mid_year, lang="fr")


def test_report_is_deterministic(mid_year: tk.Evaluation, actuals: tk.Actuals) -> None:
    assert render_html(mid_year, history=actuals) == render_html(mid_year, history=actuals)


def test_year_end_report_lists_missed_targets(plan: tk.Plan, actuals: tk.Actuals) -> None:
    ev = tk.evaluate(plan, actuals, as_of=YEAR_END)
    page = Page(render_html(ev, history=actuals))
    lagging = [
        a["data-target"]
        for tag, a in page.tags
        if tag == "li" and a.get("id", "").startswith("lag-")
    ]
    assert lagging == ["cmcc_datacenter_started", "new_municipal_incubators"]
    assert page.rows["cmcc_datacenter_started"]["cells"][6].endswith("未完成")


# --------------------------------------------------------------------------- Markdown


def test_markdown_tongbao(mid_year: tk.Evaluation) -> None:
    text = render_markdown(mid_year)
    lines = text.splitlines()
    assert lines[0] == "# 2023年全市科技工作要点目标进展情况通报"
    assert "宜昌市科学技术局 · 数据截至2023年6月30日" in lines
    header = "| " + " | ".join(COLUMNS_ZH) + " |"
    start = lines.index(header)
    assert lines[start + 1].startswith("|---|---:|")
    rows = lines[start + 2 : start + 2 + len(mid_year.results)]
    assert all(row.startswith("| ") and row.count(" | ") == 8 for row in rows)
    talent = next(row for row in rows if row.startswith("| 引育各类科技人才3000人 "))
    assert talent == (
        "| 引育各类科技人才3000人 | 3000人 | 620人 | 20.7% | 25.0% | -4.3 | ▲ 滞后 | 宜昌市科学技术局 | 2480人（992–3968） |"
    )
    assert "- ▲ 滞后：7（29.2%）" in lines
    assert "## 三、滞后目标" in lines
    assert any(
        line.startswith("1. **规上工业企业研发投入占营业收入比重逐步提高**（■ 严重滞后；")
        for line in lines
    )
    assert "### 暂无数据（1 项）" in lines
    assert "<" not in text.replace("\\<", "")


def test_markdown_escapes_pipes_and_line_breaks() -> None:
    plan = make_plan(
        """
        [[indicators]]
        id = "n"
        name = "n"
        unit = "家"
        kind = "cumulative"

        [[targets]]
        id = "t"
        title = "a|b *c* _d_"
        rule = { kind = "at_least", indicator = "n", value = 10, unit = "家" }
        """
    )
    ev = tk.evaluate(
        plan, make_actuals(plan, "indicator,date,value,unit\nn,2023-06-30,3,家\n"), as_of=MID_YEAR
    )
    text = render_markdown(ev)
    assert r"| a\|b \*c\* \_d\_ |" in text


def test_markdown_in_english(mid_year: tk.Evaluation) -> None:
    text = render_markdown(mid_year, lang="en")
    assert "| " + " | ".join(COLUMNS_EN) + " |" in text
    assert "- ▲ behind: 7 (29.2%)" in text
    assert (
        "1. **规上工业企业研发投入占营业收入比重逐步提高** (■ off track; responsible unit: " in text
    )


# --------------------------------------------------------------------------- notebook


def test_notebook_view_of_an_evaluation(mid_year: tk.Evaluation) -> None:
    text = notebook_html(mid_year)
    assert text.startswith('<div class="tk-nb">')
    page = Page(text)
    assert list(page.rows) == [r.target for r in mid_year.results]
    talent = page.rows["talent_recruited"]["cells"]
    assert talent[0] == "▲ 滞后"
    assert talent[2] == "620人 / 3000人"
    assert talent[3] == "20.7%"
    assert talent[5:8] == ["25.0%", "-4.3", "宜昌市科学技术局"]
    assert talent[8] == mid_year.result("talent_recruited").message_zh
    # a progress bar for each target with a completion rate, with a pace tick where paced
    bars = text.count('<svg class="bar"')
    assert bars == sum(1 for r in mid_year.results if r.completion is not None)
    assert text.count('fill="#1f2328"/>') == sum(
        1 for r in mid_year.results if r.expected is not None
    )
    assert "<table>" in text
    assert "<thead>" in text


def test_notebook_view_of_one_result(mid_year: tk.Evaluation) -> None:
    result = mid_year.result("sci_loans_amount")
    text = notebook_html(result, lang="en")
    page = Page(text)
    assert list(page.rows) == ["sci_loans_amount"]
    assert page.rows["sci_loans_amount"]["cells"][0] == "▲ behind"
    # the evidence: the row in 亿元 as it was written, with its file and line
    assert "sci_loans_amount 2023-03-31: 0.38 亿元 — " in page.all_text()
    assert "2023-03-31.csv:" in text


def test_to_frame_stays_tidy(mid_year: tk.Evaluation) -> None:
    frame = mid_year.to_frame()
    assert len(frame[frame["scope"].isna()]) == len(mid_year.results)
    parts = sum(len(mid_year.parts(r.target)) for r in mid_year.results)
    assert len(frame) == len(mid_year.results) + parts
    assert "<" not in "".join(frame.columns)


# --------------------------------------------------------------------------- trajectories


def test_trajectory_uses_the_latest_revision_known_at_as_of(
    plan: tk.Plan, actuals: tk.Actuals
) -> None:
    # 1–6月 talent: first reported 1520 (2023-07-12), revised to 1340 (2023-08-09)
    early = trajectories(tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 31)), actuals)
    late = trajectories(tk.evaluate(plan, actuals, as_of=dt.date(2023, 9, 30)), actuals)
    assert [(p.date, p.actual) for p in early["talent_recruited"].points] == [
        (dt.date(2023, 3, 31), 620),
        (dt.date(2023, 6, 30), 1520),
    ]
    points = late["talent_recruited"].points
    assert [(p.date, p.actual, p.status) for p in points] == [
        (dt.date(2023, 3, 31), 620, tk.Status.BEHIND),
        (dt.date(2023, 6, 30), 1340, tk.Status.BEHIND),
    ]
    assert points[-1].expected == pytest.approx(0.5)
    assert points[-1].gap_pp == pytest.approx(100 * (1340 / 3000 - 0.5))


def test_a_trajectory_does_not_depend_on_the_other_targets(
    plan: tk.Plan, actuals: tk.Actuals
) -> None:
    # dates on which most targets have a figure are judged on the whole plan, the others on
    # the targets with a figure: each target's points are those of its own plan of one target
    together = trajectories(tk.evaluate(plan, actuals, as_of=YEAR_END), actuals)
    for target in plan.targets:
        alone = attrs_.evolve(plan, targets=(target,))
        own = trajectories(tk.evaluate(alone, actuals, as_of=YEAR_END), actuals)
        assert together[target.id].points == own[target.id].points, target.id


def test_trajectory_of_a_share_and_a_net_increase(plan: tk.Plan, actuals: tk.Actuals) -> None:
    paths = trajectories(tk.evaluate(plan, actuals, as_of=YEAR_END), actuals)
    share = paths["hightech_va_share"]
    assert [round(p.actual, 2) for p in share.points] == [18.35, 19.39, 20.2, 20.22]
    assert share.baseline == pytest.approx(1040.5 / 5502.69 * 100)
    assert not share.pace
    assert not share.from_zero
    net = paths["hightech_enterprises_net"]
    assert [p.actual for p in net.points] == [-6, -12, 6, 115]
    assert net.baseline is None
    assert net.from_zero
    rank = paths["rd_intensity_rank"]
    assert rank.lower_is_better
    assert [p.actual for p in rank.points] == [4, 3, 2, 3]
    done = paths["lab_work_plan_issued"]
    assert done.is_milestone
    assert done.done_on == dt.date(2023, 5, 26)
    assert not done.points
    assert paths["cmcc_datacenter_started"].done_on is None


def test_visible_rows_pick_one_revision_per_date(plan: tk.Plan, actuals: tk.Actuals) -> None:
    rows = visible_rows(actuals, dt.date(2023, 8, 31))
    talent = rows[rows["indicator"] == "talent_recruited"]
    assert talent["value"].tolist() == [620, 1340]
    assert visible_rows(tk.Actuals.empty(), MID_YEAR).empty


def test_pace_curves() -> None:
    plan = make_plan(
        """
        [[indicators]]
        id = "n"
        name = "n"
        unit = "家"
        kind = "cumulative"

        [[targets]]
        id = "t"
        title = "t"
        rule = { kind = "at_least", indicator = "n", value = 10, unit = "家" }
        """
    )
    target = plan.targets[0]
    months = pace_curve(plan, target)
    # a staircase: 0 until Jan 30, 1/12 on Jan 31, … , 1 on Dec 31
    assert months[0] == (dt.date(2022, 12, 31), 0.0)
    assert months[1] == (dt.date(2023, 1, 30), 0.0)
    assert months[2][0] == dt.date(2023, 1, 31)
    assert months[2][1] == pytest.approx(1 / 12)
    assert months[-1] == (dt.date(2023, 12, 31), 1.0)
    days = pace_curve(
        plan, tk.Target(id="d", title="d", rule=target.rule, pace=Pace(method=PaceMethod.DAYS))
    )
    assert days == ((dt.date(2022, 12, 31), 0.0), (dt.date(2023, 12, 31), 1.0))
    schedule = Pace(
        method=PaceMethod.SCHEDULE,
        points=((dt.date(2023, 6, 30), 0.35), (dt.date(2023, 12, 31), 1.0)),
    )
    curve = pace_curve(plan, tk.Target(id="s", title="s", rule=target.rule, pace=schedule))
    assert [(d, round(f, 6)) for d, f in curve] == [
        (dt.date(2022, 12, 31), 0.0),
        (dt.date(2023, 6, 30), 0.35),
        (dt.date(2023, 12, 31), 1.0),
    ]
    none = tk.Target(id="x", title="x", rule=target.rule, pace=Pace(method=PaceMethod.NONE))
    assert pace_curve(plan, none) == ()


# --------------------------------------------------------------------------- the real browser


def decode_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB or RGBA PNG (not interlaced) into an array of shape (h, w, channels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if chunk == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8
            assert colour in (2, 6)
            assert interlace == 0
            channels = 3 if colour == 2 else 4
        elif chunk == b"IDAT":
            chunks.append(body)
        elif chunk == b"IEND":
            break
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = int(raw[y, 0]), raw[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per channel
            cur = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average and Paeth depend on the byte just decoded: byte by byte
            cur_list = [0] * stride
            above = prev.tolist()
            for i, v in enumerate(line.tolist()):
                left = cur_list[i - channels] if i >= channels else 0
                if kind == 3:
                    cur_list[i] = (v + (left + above[i]) // 2) % 256
                else:
                    up_left = above[i - channels] if i >= channels else 0
                    p = left + above[i] - up_left
                    pa, pb, pc = abs(p - left), abs(p - above[i]), abs(p - up_left)
                    pred = left if pa <= pb and pa <= pc else above[i] if pb <= pc else up_left
                    cur_list[i] = (v + pred) % 256
            cur = np.array(cur_list, np.int32)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, channels)[:, :, :3]


def test_png_decoder_handles_every_filter() -> None:
    # a 3×2 RGB image written with filters Sub and Paeth, then Up and Average
    pixels = np.array(
        [[[10, 20, 30], [40, 50, 60], [70, 80, 90]], [[15, 25, 35], [45, 55, 65], [75, 85, 95]]],
        np.uint8,
    )

    def encode(filters: tuple[int, int]) -> bytes:
        rows = []
        prev = np.zeros(9, np.int32)
        for y, f in enumerate(filters):
            line = pixels[y].reshape(-1).astype(np.int32)
            left = np.concatenate([np.zeros(3, np.int32), line[:-3]])
            up_left = np.concatenate([np.zeros(3, np.int32), prev[:-3]])
            if f == 0:
                enc = line
            elif f == 1:
                enc = line - left
            elif f == 2:
                enc = line - prev
            elif f == 3:
                enc = line - (left + prev) // 2
            else:
                pred = []
                for a, b, c in zip(left.tolist(), prev.tolist(), up_left.tolist(), strict=True):
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred.append(a if pa <= pb and pa <= pc else b if pb <= pc else c)
                enc = line - np.array(pred)
            rows.append(bytes([f]) + bytes((enc % 256).astype(np.uint8)))
            prev = line

        def chunk(kind: bytes, body: bytes) -> bytes:
            return (
                struct.pack(">I", len(body))
                + kind
                + body
                + struct.pack(">I", zlib.crc32(kind + body))
            )

        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b"")
        )

    for filters in ((1, 4), (2, 3), (0, 1), (4, 2)):
        assert (decode_png(encode(filters)) == pixels).all(), filters


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is not installed; run scripts/install-test-deps (as root) to install "
    "Chromium and a CJK font for the browser tests",
)

# Draw two Chinese characters and an unassigned code point (always a missing-glyph box) in the
# heading's font on a canvas. With real glyphs the three drawings differ; with tofu all three are
# the same box.
_GLYPH_PROBE = """
(() => {
  const family = getComputedStyle(document.querySelector('h1')).fontFamily;
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const g = canvas.getContext('2d');
  const draw = (ch) => {
    g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
    g.fillStyle = '#000'; g.font = '48px ' + family; g.textBaseline = 'top';
    g.fillText(ch, 4, 4);
    return Array.from(g.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 0));
  };
  const a = draw('通'), b = draw('报'), box = draw('\\u0378');
  const ink = (v) => v.filter((x) => x < 128).length;
  const diff = (p, q) => p.filter((x, i) => Math.abs(x - q[i]) > 64).length;
  return {family, inkA: ink(a), inkB: ink(b), diffAB: diff(a, b), diffABox: diff(a, box)};
})()
"""

_LAYOUT = """
(() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; };
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    h1: box(document.querySelector('h1')),
    table: box(document.querySelector('table.indicators')),
    rows: Array.from(document.querySelectorAll('tr[data-target]')).map(
      (tr) => [tr.dataset.target, ...box(tr)]),
    charts: Array.from(document.querySelectorAll('figure.chart svg')).map((s) => box(s)),
    strip: box(document.querySelector('svg.strip')),
  };
})()
"""


class Browsed:
    """What one visit of the report in Chromium gave."""

    def __init__(self, path: Path) -> None:
        self.url = path.as_uri()
        with Chromium() as browser:
            browser.open(self.url, width=1100, height=900)
            self.dom: str = browser.evaluate("document.documentElement.outerHTML")
            self.layout: dict[str, Any] = browser.evaluate(_LAYOUT)
            self.glyphs: dict[str, Any] = browser.evaluate(_GLYPH_PROBE)
            self.fonts = browser.platform_fonts("h1")
            self.table_fonts = browser.platform_fonts("table.indicators tbody th[scope=row]")
            viewport = browser.call(
                "Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True}
            )["data"]
            self.full_page = browser.screenshot()
            self.pdf = browser.pdf()
            browser.drain(0.2)
            self.errors = browser.console_errors()
            self.requests = browser.requests()
        import base64

        self.viewport = decode_png(base64.b64decode(viewport))


@pytest.fixture(scope="module")
def browsed(report: str, tmp_path_factory: pytest.TempPathFactory) -> Browsed:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed; run scripts/install-test-deps")
    folder = tmp_path_factory.mktemp("report")
    path = folder / "report.html"
    path.write_text(report, encoding="utf-8")
    seen = Browsed(path)
    (folder / "report.png").write_bytes(seen.full_page)
    return seen


@needs_chromium
def test_browser_no_console_errors(browsed: Browsed) -> None:
    assert browsed.errors == []


@needs_chromium
def test_browser_makes_no_network_request(browsed: Browsed) -> None:
    assert browsed.requests == [browsed.url]


@needs_chromium
def test_browser_dom_has_every_row_with_its_status(
    browsed: Browsed, mid_year: tk.Evaluation
) -> None:
    rows = Page(browsed.dom).rows
    assert list(rows) == [r.target for r in mid_year.results]
    for r in mid_year.results:
        assert r.status.label_zh in rows[r.target]["cells"][6]


def _cjk_families() -> set[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        pytest.skip("fc-list (fontconfig) is not installed")
    out = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=True
    ).stdout
    return {name.strip() for line in out.splitlines() for name in line.split(",")}


@needs_chromium
def test_browser_draws_chinese_with_a_cjk_font(browsed: Browsed) -> None:
    cjk = _cjk_families()
    assert cjk, "no font with Chinese glyphs is installed: run scripts/install-test-deps"
    for fonts in (browsed.fonts, browsed.table_fonts):
        used = {f["familyName"] for f in fonts}
        assert used, fonts
        assert used <= cjk, used
    glyphs = browsed.glyphs
    assert glyphs["inkA"] > 60, glyphs
    assert glyphs["inkB"] > 60, glyphs
    assert glyphs["diffAB"] > 60, glyphs  # two characters, two shapes: not two boxes
    assert glyphs["diffABox"] > 60, glyphs  # and not the missing-glyph box


@needs_chromium
def test_browser_layout_fits(browsed: Browsed, mid_year: tk.Evaluation) -> None:
    layout = browsed.layout
    assert layout["scrollWidth"] <= layout["innerWidth"]  # nothing sticks out sideways
    _x, y, w, h = layout["h1"]
    assert y < 80
    assert w > 300
    assert 20 < h < 80
    _tx, ty, tw, th = layout["table"]
    assert tw > 0.8 * 1000
    rows = layout["rows"]
    assert [r[0] for r in rows] == [r.target for r in mid_year.results]
    tops = [r[2] for r in rows]
    assert tops == sorted(tops)
    for _, _rx, ry, rw, rh in rows:
        assert 20 <= rh <= 120
        assert rw == pytest.approx(tw, abs=2)
        assert ty <= ry
        assert ry + rh <= ty + th + 1
    charts = layout["charts"]
    assert len(charts) == len(mid_year.results)
    assert all(c[2] >= 250 and c[3] >= 60 for c in charts)


@needs_chromium
def test_browser_screenshot_shows_the_report(browsed: Browsed) -> None:
    image = browsed.viewport.astype(np.int32)
    assert image.shape == (900, 1100, 3)
    dark = (image.sum(axis=2) < 200).mean()
    white = (image.min(axis=2) > 245).mean()
    assert 0.01 < dark < 0.3, dark  # text, not a blank or black page
    assert white > 0.5, white
    # the heading has ink where the layout says it is
    x, y, w, h = (round(v) for v in browsed.layout["h1"])
    heading = image[y : y + h, x : x + w]
    assert (heading.sum(axis=2) < 250).mean() > 0.05
    # the status strip shows its colours: green (met), amber (behind), red (off track)
    sx, sy, sw, sh = (round(v) for v in browsed.layout["strip"])
    strip = image[sy + 2 : sy + sh - 2, sx : sx + sw].reshape(-1, 3)
    for rgb in ((0x1A, 0x7F, 0x37), (0x9A, 0x67, 0x00), (0xCF, 0x22, 0x2E)):
        close = (np.abs(strip - np.array(rgb)).max(axis=1) < 12).mean()
        assert close > 0.02, rgb


@needs_chromium
def test_browser_prints_on_a4(browsed: Browsed) -> None:
    pdf = browsed.pdf
    assert pdf.startswith(b"%PDF")
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf))
    assert boxes, "no page size in the PDF"
    for w, h in boxes:
        assert float(w) == pytest.approx(595.28, abs=1.5)  # 210 mm
        assert float(h) == pytest.approx(841.89, abs=1.5)  # 297 mm
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert 2 <= pages <= 12


def test_install_script_is_idempotent() -> None:
    script = ROOT / "scripts" / "install-test-deps"
    assert script.stat().st_mode & 0o111
    if not CHROMIUM.exists() or not shutil.which("fc-list") or not _has_cjk_font():
        pytest.skip("the test tools are not installed here; running the script would install them")
    done = subprocess.run([str(script)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "nothing to do" in done.stdout


def _has_cjk_font() -> bool:
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return bool(out.strip())


def test_evaluation_and_result_render_in_jupyter() -> None:
    root = Path(__file__).resolve().parent.parent / "examples" / "yichang_2023"
    plan = tk.load(root / "plan.toml")
    ev = tk.evaluate(plan, tk.read_actuals(root / "actuals", plan), as_of=dt.date(2023, 9, 30))
    html = ev._repr_html_()
    assert "<table" in html
    assert html.count("talent_recruited") >= 1
    one = ev.result("talent_recruited")._repr_html_()
    assert "滞后" in one
