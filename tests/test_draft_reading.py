"""What the drafter leaves out and how it reads plans that are not one year's 工作要点: one test per
case, with the answer worked out by hand from the sentence."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import attrs
import pandas as pd
import pytest

import targetkit as tk
from targetkit.cli import main
from targetkit.draft import Draft, draft_plan
from targetkit.rules import kind_of

# a news report of a plan: not titled as a plan, so each clause must commit on its own
NEWS = "今年我市科技工作目标敲定\n"


def values(d: Draft) -> list[tuple[str, float, str]]:
    out = []
    for t in d.plan.targets:
        cfg = kind_of(t.rule).to_config(t.rule)
        out.append((cfg["kind"], cfg.get("value", 0.0), cfg.get("unit", "")))
    return out


def untracked_notes(d: Draft) -> str:
    return " | ".join(f.note for f in d.untracked)


def news(body: str, **kwargs: Any) -> Draft:
    kwargs.setdefault("year", 2024)
    return draft_plan(NEWS + body + "\n", **kwargs)


# --------------------------------------------------------------------------- left out, and why


@pytest.mark.parametrize(
    ("body", "kept", "why"),
    [
        (
            "3月5日,十四届全国人大二次会议开幕。城镇新增就业1200万人以上。",
            [("at_least", 1200.0, "万人")],
            "ordinal of a meeting",
        ),
        (
            "会议传达了省委十一届三次全会精神,全年新增高企100家。",
            [("at_least", 100.0, "家")],
            "ordinal of a meeting",
        ),
        (
            "围绕六个方面提出了18项培育措施,力争新增高企100家。",
            [("at_least", 100.0, "家")],
            "count of the plan's own measures",
        ),
        ("今年将继续为民办二十一项实事,新增学位7万个。", [("at_least", 70000.0, "个")], "count"),
        (
            "截止2023年底,全市高新技术企业达285家,年均增长20%以上。新增高企100家。",
            [("at_least", 100.0, "家")],
            "past figure",
        ),
        (
            "拟安排专项债券4.4万亿元、比上年增加5000亿元。\n城镇新增就业1200万人以上。",
            [("at_least", 1200.0, "万人")],
            "planned allocation",
        ),
        (
            "市区空气质量优良天数332天,优良率为90.7%。优良天数不低于317天。",
            [("at_least", 317.0, "天")],
            "no commitment",
        ),
        (
            "全市城镇新增就业54972人,全部超额完成目标任务。\n今年新增就业5万人。",
            [("at_least", 5.0, "万人")],
            "past figure",
        ),
        ("各区至少办1所早教中心,新建幼儿园10所。", [("at_least", 10.0, "所")], "for each"),
        (
            "五年来,全市新增高企500家。今年新增高企100家。",
            [("at_least", 100.0, "家")],
            "past figure",
        ),
        (
            "过去一年,我们攻坚克难。全市地区生产总值达到1200亿元,增长6.5%。\n今年地区生产总值增长6%左右。",
            [("growth", 6.0, "%")],
            "past figure",
        ),
        (
            "目前全市共有高新技术企业800家,力争新增100家。",
            [("at_least", 100.0, "家")],
            "past figure",
        ),
        ("服务人员近6.8万人次,新增培训2万人次。", [("at_least", 2.0, "万人次")], "approximate"),
    ],
)
def test_numbers_that_are_not_targets_are_listed_with_the_reason(
    body: str, kept: list[tuple[str, float, str]], why: str
) -> None:
    d = news(body)
    assert values(d) == kept
    assert why in untracked_notes(d)


def test_a_document_title_is_not_read_for_targets() -> None:
    text = (
        "某市人民政府办公室关于印发2024年全市旅游业发展目标对9个县(市)分解意见的通知\n"
        "2024年我市计划接待游客582万人次,同比增长20%。\n"
    )
    d = draft_plan(text)
    assert values(d) == [("at_least", 582.0, "万人次"), ("growth", 20.0, "%")]
    assert "part of the document's title" in untracked_notes(d)


def test_a_figure_restated_later_is_drafted_once() -> None:
    d = news(
        "今年旅游总收入3.19万亿元,比上年增长11%。\n会议提出今年的目标:旅游总收入3.19万亿元,比上年增长11%;新增旅游就业50万人。"
    )
    assert values(d) == [
        ("at_least", 3.19, "万亿元"),
        ("growth", 11.0, "%"),
        ("at_least", 50.0, "万人"),
    ]
    assert "repeats the target" in untracked_notes(d)


def test_the_same_figure_for_another_subject_is_not_a_repeat() -> None:
    d = news("地区生产总值增长8%左右,一般公共预算收入增长8%左右。")
    assert values(d) == [("growth", 8.0, "%"), ("growth", 8.0, "%")]


# --------------------------------------------------------------------------- readings


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("城镇调查失业率5.5%左右。", ("at_most", 5.5, "%")),
        ("居民消费价格涨幅3%左右。", ("at_most", 3.0, "%")),
        ("PM2.5平均浓度达到30.5微克/立方米左右。", ("at_most", 30.5, "微克/立方米")),
        ("农村黑臭水体整治率达到80%以上。", ("at_least", 80.0, "%")),
        ("力争实现20%的村集体年收入超30万元。", ("at_least", 20.0, "%")),
        ("粮食产量1.3万亿斤以上。", ("at_least", 1.3, "万亿斤")),
        ("每万名就业人员中研发人员达到209人年以上。", ("at_least", 209.0, "人年")),
        ("实现麦积山景区年接待游客过百万人次的目标。", ("at_least", 100.0, "万人次")),
        ("计划接待国内游客582余万人次。", ("at_least", 582.0, "万人次")),
        ("力争科技型企业数量实现倍增。", ("growth", 100.0, "%")),
        ("实现区域科技创新指数达到160以上。", ("at_least", 160.0, "")),
    ],
)
def test_readings(body: str, expected: tuple[str, float, str]) -> None:
    assert values(news(body)) == [expected]


def test_per_capita_income_is_in_yuan_and_respective_subjects_are_paired() -> None:
    d = news("城镇和农村常住居民人均可支配收入分别增长8%左右和8.5%左右。")
    names = [(d.plan.indicator(t.rule.indicator_ids()[0])) for t in d.plan.targets]
    assert [(i.name, i.unit) for i in names] == [
        ("城镇常住居民人均可支配收入", "元"),
        ("农村常住居民人均可支配收入", "元"),
    ]


def test_a_share_relative_to_gdp() -> None:
    d = news("全社会研发经费支出相当于全市生产总值的比例保持在4%左右。")
    (target,) = d.plan.targets
    assert isinstance(target.rule, tk.Share)
    assert d.plan.indicator(target.rule.denominator).name == "全市生产总值"


def test_a_task_row_gives_owner_and_deadline() -> None:
    d = draft_plan(
        "2024年工作要点\n新认定科技型中小企业300家（责任单位：市科技局；完成时限：2024年9月底前）。\n"
    )
    (target,) = d.plan.targets
    assert (target.owner, target.deadline) == ("市科技局", dt.date(2024, 9, 30))


# --------------------------------------------------------------------------- multi-year plans

PLAN_2027 = (
    "某区科技创新实施方案(2023—2027年)\n"
    "到2025年,全区高新技术企业突破75家。到2027年,全区高新技术企业超过90家,"
    "科技型企业超过870家。\n"
)


def test_a_multi_year_plan_keeps_its_period_and_each_target_its_year() -> None:
    d = draft_plan(PLAN_2027)
    assert (d.plan.start, d.plan.end) == (dt.date(2023, 1, 1), dt.date(2027, 12, 31))
    assert [(kind_of(t.rule).to_config(t.rule)["value"], t.deadline) for t in d.plan.targets] == [
        (75.0, dt.date(2025, 12, 31)),
        (90.0, None),
        (870.0, None),
    ]
    # 突破/超过 are strict floors, and say so; nothing else is in doubt
    assert [f.note.split(":")[0] for f in d.uncertain] == ["突破75家", "超过90家", "超过870家"]
    assert all("(strict = true)" in f.note for f in d.uncertain)


def test_year_drafts_one_year_of_a_multi_year_plan() -> None:
    d = draft_plan(PLAN_2027, year=2025)
    assert (d.plan.start, d.plan.end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert values(d) == [("at_least", 75.0, "家")]
    assert "a target for 2027, not 2025 (the plan runs 2023–2027" in untracked_notes(d)


def test_a_year_outside_the_period_is_an_error() -> None:
    with pytest.raises(tk.ConfigError, match="2030 is outside the plan's period 2023–2027"):
        draft_plan(PLAN_2027, year=2030)


def test_a_period_from_the_years_its_targets_are_set_for_is_noted() -> None:
    d = draft_plan(
        "学前教育发展目标\n2007年,全市幼儿入园率达到96%以上。\n2010年,入园率达到98%以上。\n"
    )
    assert (d.plan.start, d.plan.end) == (dt.date(2007, 1, 1), dt.date(2010, 12, 31))
    assert [t.deadline for t in d.plan.targets] == [dt.date(2007, 12, 31), None]
    assert "# PERIOD: the text names no plan year" in d.to_toml()


def test_the_cli_drafts_one_year_and_the_draft_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_2027, encoding="utf-8")
    out = tmp_path / "plan.toml"
    assert main(["draft", str(source), "--year", "2025", "-o", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    plan = tomllib.loads(out.read_text(encoding="utf-8"))
    assert plan["plan"]["period"] == {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 12, 31)}
    assert main(["draft", str(source), "--year", "2031"]) == 3
    assert "2031 is outside the plan's period" in capsys.readouterr().err


def test_a_text_dated_after_the_year_it_reports_is_a_review() -> None:
    text = (
        "2019年上海着力破解民生难题\n2020年01月15日10:01 来源:人民网\n"
        "新建养老床位7202张,改建认知障碍照护床位1485张。\n"
    )
    with pytest.raises(tk.ConfigError, match="no quantitative or dated target"):
        draft_plan(text)
    d = draft_plan(text, year=2019)  # the user says it is the plan of 2019
    assert values(d) == [("at_least", 7202.0, "张"), ("at_least", 1485.0, "张")]


def test_a_year_a_speaker_reports_on_is_past_and_not_the_plan_year() -> None:
    text = (
        "国务院总理在政府工作报告中表示,2021年,国内生产总值达到114万亿元,增长8.1%。"
        "全国财政收入突破20万亿元。总理提出,今年发展主要预期目标是:国内生产总值增长5.5%左右;"
        "城镇新增就业1100万人以上。\n"
    )
    # the only year named is the one reported on: the text does not say which year it plans
    with pytest.raises(tk.ConfigError, match="cannot tell the plan's year"):
        draft_plan(text)
    d = draft_plan(text, year=2022)
    assert values(d) == [("growth", 5.5, "%"), ("at_least", 1100.0, "万人")]
    assert "114万亿元: a past figure" in untracked_notes(d)
    assert "20万亿元: a past figure" in untracked_notes(d)


# --------------------------------------------------------------------------- falls: the decrease kind


@pytest.mark.parametrize(
    ("body", "value", "indicator_kind", "unit"),
    [
        ("单位国内生产总值能耗降低2.5%左右。", 2.5, tk.IndicatorKind.LEVEL, ""),
        ("全市煤炭消费总量下降3%。", 3.0, tk.IndicatorKind.CUMULATIVE, ""),
        ("确保重度及以上污染天数减少30%以上。", 30.0, tk.IndicatorKind.LEVEL, ""),
        ("碳排放强度下降4%。", 4.0, tk.IndicatorKind.LEVEL, ""),
    ],
)
def test_falls_in_percent_are_drafted_as_decrease(
    body: str, value: float, indicator_kind: tk.IndicatorKind, unit: str
) -> None:
    d = news(body)
    assert values(d) == [("decrease", value, "%")]
    indicator = d.plan.indicators[0]
    assert (indicator.kind, indicator.unit) == (indicator_kind, unit)
    assert "fall in %" in " ".join(f.note for f in d.uncertain)


def test_a_drafted_decrease_is_judged_once_its_unit_is_set() -> None:
    d = news("全市煤炭消费总量下降3%。")
    target = d.plan.targets[0]
    indicator = d.plan.indicators[0]
    plan = tk.parse(tk.dump(d.plan))
    plan = attrs.evolve(
        plan, indicators=(attrs.evolve(indicator, unit="万吨"),)
    )  # the review step: the unit is set
    rows = pd.DataFrame(
        {
            "indicator": [indicator.id] * 2,
            "date": ["2023-06-30", "2024-06-30"],
            "value": [500, 480],
            "unit": ["万吨", "万吨"],
        }
    )
    result = tk.evaluate(plan, tk.Actuals.from_frame(rows, plan), as_of=dt.date(2024, 7, 20))
    assert result.result(target.id).status is tk.Status.ON_TRACK  # 4% down, 3% asked
    assert result.result(target.id).actual == pytest.approx(4.0)
