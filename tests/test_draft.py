"""Drafting a plan file from a plan's raw text: one test per phrasing, then properties, then the
Yichang seed text against the hand-written example plan."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit.cli import main
from targetkit.draft import Draft, draft_plan, parse_number, read_text_file, save_draft
from targetkit.rules import (
    FROM_INDICATOR,
    Drafting,
    DraftRole,
    Field,
    FieldType,
    Kind,
    builtin_rule_kinds,
    drafting_of,
    kind_of,
    rule_kind,
    unregister_rule_kind,
)

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).resolve().parents[1] / "examples" / "yichang_2023" / "work_points.txt"
EXAMPLE_PLAN = ROOT / "examples" / "yichang_2023" / "plan.toml"

HEAD = "2023年全市科技工作要点\n一、重点任务\n"


def draft_of(body: str, **kwargs: Any) -> Draft:
    """Draft a one-section plan whose first item is ``body``."""
    kwargs.setdefault("year", 2023)
    return draft_plan(HEAD + "1." + body + "\n", **kwargs)


def rules(body: str) -> list[dict[str, Any]]:
    """Return each drafted target's rule (without indicator ids) plus binding and deadline."""
    d = draft_of(body)
    out = []
    for t in d.plan.targets:
        cfg = kind_of(t.rule).to_config(t.rule)
        for key in ("indicator", "numerator", "denominator"):
            cfg.pop(key, None)
        cfg["binding"] = t.binding
        if t.deadline is not None:
            cfg["deadline"] = t.deadline.isoformat()
        out.append(cfg)
    return out


def one(body: str) -> dict[str, Any]:
    found = rules(body)
    assert len(found) == 1, found
    return found[0]


def at_least(
    value: float, unit: str, *, binding: bool = True, strict: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "at_least", "value": value, "unit": unit, "binding": binding}
    if strict:
        out["strict"] = True
    return out


# --------------------------------------------------------------------------- the wording table


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("确保全社会R&D经费投入不低于220亿元。", at_least(220, "亿元")),
        ("新增省级以上孵化载体2家以上。", at_least(2, "家")),
        ("技术转移示范机构达到18家。", at_least(18, "家")),
        ("技术合同成交额突破200亿元。", at_least(200, "亿元", strict=True)),
        ("高新技术企业总数超过1200家。", at_least(1200, "家", strict=True)),
        ("科技型中小企业入库 1300家。", at_least(1300, "家")),
        ("组织开展科技活动不少于10场。", at_least(10, "场")),
        ("全社会研发投入强度达到2.5%以上。", at_least(2.5, "%")),
        ("每万人高价值发明专利拥有量达到8件。", at_least(8, "件")),
        ("城镇新增就业2.5万人。", at_least(2.5, "万人")),
    ],
)
def test_floors_read_as_at_least(body: str, expected: dict[str, Any]) -> None:
    assert one(body) == expected


@pytest.mark.parametrize(
    ("body", "kind", "than"),
    [
        ("技术合同成交额突破200亿元。", "at_least", "more than 200亿元"),
        ("在孵企业超过5000家。", "at_least", "more than 5000家"),
        ("财政收入超30亿元。", "at_least", "more than 30亿元"),
        ("PM2.5平均浓度低于35微克/立方米。", "at_most", "less than 35微克/立方米"),
    ],
)
def test_more_than_and_less_than_are_strict_and_noted(body: str, kind: str, than: str) -> None:
    d = draft_of(body)
    (target,) = d.plan.targets
    assert (target.rule.kind, getattr(target.rule, "strict", None)) == (kind, True)
    assert than in d.findings[0].note
    assert "strict = true" in d.to_toml()
    # the file round-trips with the strict floor
    assert tk.parse(tomllib.loads(d.to_toml())) == d.plan


def test_at_least_and_reaching_are_not_strict() -> None:
    assert "strict" not in one("技术合同成交额达到200亿元以上。")
    assert "strict" not in one("高新技术企业不低于1200家。")


@pytest.mark.parametrize(
    ("body", "value", "unit"),
    [
        ("城镇登记失业率控制在4.5%以内。", 4.5, "%"),
        ("PM2.5平均浓度控制在35微克/立方米以内。", 35, "微克/立方米"),
        ("行政事业单位一般性支出不超过3000万元。", 3000, "万元"),
        ("办理时限压缩至3个工作日以内。", 3, "工作日"),
    ],
)
def test_caps_read_as_at_most(body: str, value: float, unit: str) -> None:
    assert one(body) == {"kind": "at_most", "value": value, "unit": unit, "binding": True}


def test_a_range_hoped_for_is_a_floor_with_a_stretch() -> None:
    assert one("争取1到2名本土人才入选国家科技人才引导计划。") == {
        "kind": "between",
        "low": 1.0,
        "high": 2.0,
        "unit": "名",
        "high_is_stretch": True,
        "binding": False,
    }


def test_a_committed_range_is_a_band_with_a_note() -> None:
    d = draft_of("组建产业技术创新战略联盟3-5个。")
    (target,) = d.plan.targets
    assert kind_of(target.rule).to_config(target.rule) == {
        "kind": "between",
        "indicator": target.id,
        "low": 3.0,
        "high": 5.0,
        "unit": "个",
    }
    assert "band" in d.findings[0].note


def test_share_of_a_total_has_numerator_and_denominator() -> None:
    d = draft_of("力争全市高新技术产业增加值占生产总值比重提高到20%以上。")
    (target,) = d.plan.targets
    assert isinstance(target.rule, tk.Share)
    assert (target.rule.value, target.rule.unit, target.binding) == (20.0, "%", False)
    assert d.plan.indicator(target.rule.numerator).name == "全市高新技术产业增加值"
    assert d.plan.indicator(target.rule.denominator).name == "生产总值"


def test_net_increase_is_a_change_of_a_stock() -> None:
    d = draft_of("全年净增高新技术企业100家以上。")
    assert one("全年净增高新技术企业100家以上。") == {
        "kind": "net_increase",
        "value": 100.0,
        "unit": "家",
        "binding": True,
    }
    assert d.plan.indicators[0].kind is tk.IndicatorKind.STOCK


def test_new_additions_are_a_flow_counted_over_the_year() -> None:
    d = draft_of("力争新增省级以上创新平台14家。")
    assert one("力争新增省级以上创新平台14家。") == at_least(14, "家", binding=False)
    assert d.plan.indicators[0].kind is tk.IndicatorKind.CUMULATIVE
    assert d.plan.indicators[0].name == "新增省级以上创新平台"


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ("高新技术产业增加值增长12%以上。", 12.0),
        ("规上工业增加值同比增长8%。", 8.0),
        ("全市研发经费投入增长百分之十以上。", 10.0),
        ("力争技术合同成交额实现翻一番。", 100.0),
    ],
)
def test_growth(body: str, value: float) -> None:
    assert one(body)["kind"] == "growth"
    assert one(body)["value"] == value


def test_growth_around_a_figure_is_a_floor_with_a_note() -> None:
    d = draft_of("地区生产总值增长6%左右。")
    assert d.findings[0].kind == "uncertain"
    assert "左右" in d.findings[0].note


@pytest.mark.parametrize(
    ("body", "low", "high", "unit"),
    [
        ("粮食产量1.4万亿斤左右。", 1.33, 1.47, "万亿斤"),
        ("城镇新增就业1200万人左右。", 1140, 1260, "万人"),
        ("近岸海域水质优良比例达到70%左右。", 66.5, 73.5, "%"),
        ("力争高新技术产业增加值达到6500亿元上下。", 6175, 6825, "亿元"),
    ],
)
def test_about_a_figure_is_a_band_of_five_percent_with_a_note(
    body: str, low: float, high: float, unit: str
) -> None:
    d = draft_of(body)
    (target,) = d.plan.targets
    assert kind_of(target.rule).to_config(target.rule) == {
        "kind": "between",
        "indicator": target.id,
        "low": low,
        "high": high,
        "unit": unit,
    }
    note = d.findings[0].note
    assert f"read as a band of ±5% around {(low + high) / 2:g}, {low:g}–{high:g}{unit}" in note
    assert "read as a floor" not in note


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("城镇调查失业率5.5%左右。", "at_most"),  # lower is better: a cap
        ("居民消费价格涨幅3%左右。", "at_most"),
        ("地区生产总值增长6%左右。", "growth"),  # a change: its floor
        ("单位地区生产总值能耗降低2.5%左右。", "decrease"),
    ],
)
def test_about_a_figure_stays_a_cap_or_a_change_where_a_band_does_not_fit(
    body: str, kind: str
) -> None:
    assert one(body)["kind"] == kind


def test_change_in_percentage_points() -> None:
    d = draft_of("研发投入强度提高0.2个百分点。")
    assert one("研发投入强度提高0.2个百分点。") == {
        "kind": "change_pp",
        "value": 0.2,
        "unit": "百分点",
        "binding": True,
    }
    assert d.plan.indicators[0].unit == "%"


def test_a_rising_share_without_a_figure_is_an_increase() -> None:
    d = draft_of("确保规上工业企业研发投入占营业收入的比重逐步提高。")
    assert one("确保规上工业企业研发投入占营业收入的比重逐步提高。") == {
        "kind": "increase",
        "binding": True,
    }
    assert d.plan.indicators[0].unit == "%"


def test_a_rising_quality_is_not_a_target() -> None:
    with pytest.raises(tk.ConfigError, match="no quantitative or dated target"):
        draft_of("持续提升企业创新能力。")


@pytest.mark.parametrize(
    ("body", "value", "uncertain"),
    [
        ("占GDP比重位居全省同等市州前列。", 3, True),
        ("区域创新能力保持全省前三。", 3, False),
        ("力争进入全国创新型城市前50位。", 50, False),
        ("综合科技创新水平指数位居全省第2位。", 2, False),
    ],
)
def test_ranks(body: str, value: int, uncertain: bool) -> None:
    d = draft_of("研发投入强度达到2.5%," + body)
    rank = [t for t in d.plan.targets if t.rule.kind == "rank"]
    assert [kind_of(t.rule).to_config(t.rule)["value"] for t in rank] == [value]
    finding = next(f for f in d.findings if f.target_id == rank[0].id)
    assert (finding.kind == "uncertain") is uncertain


def test_rank_without_a_number_names_the_subject_of_the_clause_before() -> None:
    d = draft_of("确保全社会R&D经费投入上报数不低于220亿元,占GDP比重位居全省同等市州前列。")
    rank = d.plan.targets[1]
    assert d.plan.indicator(rank.rule.indicator_ids()[0]).name == (
        "全社会R&D经费投入上报数占GDP比重位次"
    )
    assert "前列" in d.findings[1].note


# --------------------------------------------------------------------------- milestones


@pytest.mark.parametrize(
    ("body", "deadline"),
    [
        ("年内出台《科技服务业发展行动方案》。", "2023-12-31"),
        ("上半年完成科技创新条例修订。", "2023-06-30"),
        ("6月底前印发实施方案。", "2023-06-30"),
        ("9月底前启动三峡实验室二期工程建设。", "2023-09-30"),
        ("一季度完成年度计划编制。", "2023-03-31"),
        ("前三季度建成市级科技创新服务中心。", "2023-09-30"),
        ("年底前建成市级科技创新服务中心。", "2023-12-31"),
        ("出台科技体制改革三年行动方案。", "2023-12-31"),
        ("推动实验室高质量完成2022年度考核评估。", "2023-12-31"),
    ],
)
def test_dated_steps_are_milestones(body: str, deadline: str) -> None:
    assert one(body) == {"kind": "milestone", "binding": True, "deadline": deadline}


def test_two_steps_in_one_phrase_are_two_milestones() -> None:
    d = draft_of("加快中国移动宜昌三峡数据中心项目建设,力争年内立项动工。")
    assert [t.id for t in d.plan.targets] == [
        "item1_milestone_approved",
        "item1_milestone_started",
    ]
    assert [d.plan.indicator(t.id).name for t in d.plan.targets] == [
        "中国移动宜昌三峡数据中心项目立项",
        "中国移动宜昌三峡数据中心项目动工",
    ]
    assert {t.binding for t in d.plan.targets} == {False}


@pytest.mark.parametrize(
    "body",
    [
        "出台支持政策。",  # no document named, no date
        "完善科技项目组织、验收、评价机制。",  # a list of nouns
        "加快建成区域科技创新中心。",  # effort, not a dated step
        "谋划推进一批新型研发机构布局落地。",
    ],
)
def test_undated_or_vague_steps_are_not_milestones(body: str) -> None:
    with pytest.raises(tk.ConfigError, match="no quantitative or dated target"):
        draft_of(body)


def test_a_vague_document_with_a_date_is_uncertain() -> None:
    d = draft_of("年内出台支持政策。")
    assert d.findings[0].kind == "uncertain"
    assert "does not name the document" in d.findings[0].note


def test_a_numeric_target_with_an_early_date_gets_that_deadline() -> None:
    found = rules("力争年内新开工项目50个,6月底前开工30个。")
    assert [r.get("deadline") for r in found] == [None, "2023-06-30"]


# --------------------------------------------------------------------------- binding


def test_soft_wording_governs_to_the_end_of_its_sentence_only() -> None:
    found = rules(
        "力争新增省级以上孵化载体2家以上,新增市级以上孵化载体5家以上。解决农业关键技术难题10项以上。"
    )
    assert [r["binding"] for r in found] == [False, False, True]


def test_ensure_then_strive_is_a_floor_with_a_stretch() -> None:
    assert one("地区生产总值增长确保6%、力争7%。") == {
        "kind": "growth",
        "value": 6.0,
        "unit": "%",
        "stretch": 7.0,
        "binding": True,
    }


@pytest.mark.parametrize(
    "body",
    [
        "确保完成固定资产投资100亿元、力争120亿元。",  # the subject left out
        "地区生产总值确保增长6%，力争7%。",  # the subject and the rule word left out
        "确保地区生产总值增长6%、力争地区生产总值增长7%。",  # the subject repeated
        "技术合同成交额确保达到100亿元，力争达到120亿元。",  # the rule word repeated
        "高新技术企业总数达到500家以上，力争550家。",  # a plain commitment, then 力争
        "单位地区生产总值能耗确保下降3%、力争下降3.5%。",  # a fall
    ],
)
def test_ensure_then_strive_is_one_target_however_it_is_worded(body: str) -> None:
    (found,) = rules(body)
    assert found["binding"] is True
    assert found["stretch"] > found["value"]
    assert "确保X、力争Y" in draft_of(body).findings[0].note


def test_ensure_then_strive_on_two_subjects_stays_two_targets() -> None:
    found = rules("确保新增高新技术企业50家，力争新增科技型企业100家。")
    assert [(r["value"], r["binding"], "stretch" in r) for r in found] == [
        (50.0, True, False),
        (100.0, False, False),
    ]


def indicator_kind(body: str) -> str:
    d = draft_of(body)
    (target,) = d.plan.targets
    return d.plan.indicator(target.rule.indicator_ids()[0]).kind.value


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        # standing amounts at a date: stocks
        ("金融机构贷款余额达到500亿元。", "stock"),
        ("年末常住人口达到100万人。", "stock"),
        ("城乡居民养老保险参保人数达到100万人。", "stock"),
        ("高新技术企业总数达到500家。", "stock"),
        ("人才资源总量达到50万人。", "stock"),
        ("汽车保有量控制在50万辆以内。", "stock"),
        ("居民储蓄存款余额增长10%。", "stock"),
        ("市场主体数量增长10%。", "stock"),
        # amounts over the period and what is added in it: flows
        ("完成固定资产投资100亿元。", "cumulative"),
        ("规模以上工业增加值达到300亿元。", "cumulative"),
        ("技术合同成交额达到200亿元。", "cumulative"),
        ("粮食产量达到50万吨。", "cumulative"),
        ("接待游客人数达到1000万人次。", "cumulative"),
        ("培训技能人才3000人。", "cumulative"),
        ("新增高新技术企业50家。", "cumulative"),
        ("能源消费总量控制在500万吨标准煤以内。", "cumulative"),
        ("地区生产总值增长6%。", "cumulative"),
        # rates, shares, indices, intensities, per-capita figures: levels
        ("森林覆盖率达到60%。", "level"),
        ("研发投入强度达到2.5%。", "level"),
        ("每万人发明专利拥有量达到8件。", "level"),
        ("科技创新指数达到160以上。", "level"),
        ("城镇登记失业率控制在4.5%以内。", "level"),
    ],
)
def test_the_indicator_kind_follows_the_subject(body: str, kind: str) -> None:
    assert indicator_kind(body) == kind


@pytest.mark.parametrize("word", ["力争", "争取"])
def test_soft_words(word: str) -> None:
    assert one(f"{word}引育各类科技人才3000人。")["binding"] is False


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("220", 220),
        ("1,300", 1300),
        ("1.5万", 15000),
        ("3千", 3000),
        ("三千", 3000),
        ("两百五十", 250),
        ("一百零五", 105),
        ("三千五", 3500),
        ("两万三", 23000),
        ("十五", 15),
        ("一亿五千万", 150_000_000),
        ("２２０", 220),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_parse_number_rejects_words() -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number("一批")


@pytest.mark.parametrize(
    ("body", "value", "unit"),
    [
        ("助力科技型中小企业融资3个亿。", 3, "亿元"),
        ("新增科技型中小企业三千家。", 3000, "家"),
        ("新增高企1.5万家。", 15000, "家"),
        ("新增省级以上研发平台两家。", 2, "家"),
        ("引进资金3亿。", 3, "亿元"),
        ("新增减税降费三千万元。", 3000, "万元"),
        ("融资规模达到1.2万亿元。", 1.2, "万亿元"),
        ("新建院士专家工作站三个。", 3, "个"),
    ],
)
def test_numerals_and_units(body: str, value: float, unit: str) -> None:
    found = one(body)
    assert (found["value"], found["unit"]) == (value, unit)


def test_units_not_built_in_are_defined_in_the_draft() -> None:
    d = draft_of("粮食播种面积稳定在300万亩以上,开工建设保障性住房3000套。")
    assert dict(d.plan.unit_definitions) == {"万亩": "1e4 亩", "套": "[set]"}


# --------------------------------------------------------------------------- several targets


def test_one_sentence_with_several_targets() -> None:
    d = draft_of(
        "力争技术转移示范机构达到18家,新增培养技术经纪人70名以上,技术成交额达到360亿元以上。"
    )
    assert [
        (kind_of(t.rule).to_config(t.rule)["value"], kind_of(t.rule).to_config(t.rule)["unit"])
        for t in d.plan.targets
    ] == [
        (18.0, "家"),
        (70.0, "名"),
        (360.0, "亿元"),
    ]
    assert [d.plan.indicator(t.id).name for t in d.plan.targets] == [
        "技术转移示范机构",
        "新增培养技术经纪人",
        "技术成交额",
    ]


def test_a_list_shares_its_verb() -> None:
    d = draft_of("引进高层次人才100名、创新团队10个。")
    assert [d.plan.indicator(t.id).name for t in d.plan.targets] == [
        "引进高层次人才",
        "引进创新团队",
    ]


def test_respectively_shares_its_wording_and_says_so() -> None:
    d = draft_of("城乡居民人均可支配收入分别增长7%和8%。")
    assert [t.rule.kind for t in d.plan.targets] == ["growth", "growth"]
    assert all("分别" in f.note for f in d.findings)


def test_a_starting_level_is_not_a_second_target() -> None:
    d = draft_of("研发投入强度由2.1%提高到2.5%。")
    (target,) = d.plan.targets
    assert kind_of(target.rule).to_config(target.rule)["value"] == 2.5
    assert "2.1%" in d.findings[0].note


# --------------------------------------------------------------------------- untracked numbers


@pytest.mark.parametrize(
    ("body", "word", "why"),
    [
        ("围绕1+4人才新政,力争引育各类科技人才3000人。", "1+4", "1+N"),
        ("按照“三个三”目标,力争新增支持入库企业30家。", "“三个三”", "quotes"),
        ("培育营收10亿元以上企业5家。", "10亿元", "attribute"),
        ("新增高企100家,对新认定的高企给予30万元奖励。", "30万元", "incentive"),
        ("目前全市已有高新技术企业800家,力争今年新增100家。", "800家", "past"),
        ("建成5G基站3000个。", "5", "code"),
    ],
)
def test_numbers_not_read_as_targets_are_listed(body: str, word: str, why: str) -> None:
    d = draft_of(body)
    (untracked,) = d.untracked
    assert untracked.sentence == body.rstrip("。")
    assert word in untracked.note
    assert why in untracked.note


def test_years_and_dates_are_not_listed() -> None:
    d = draft_of("2023年新增高企100家。")
    assert d.untracked == ()


def test_a_review_section_holds_past_figures() -> None:
    text = (
        "2024年工作要点\n一、2023年工作回顾\n1.全年新增高企150家。\n"
        "二、2024年重点任务\n2.新增高企200家。\n"
    )
    d = draft_plan(text)
    assert [kind_of(t.rule).to_config(t.rule)["value"] for t in d.plan.targets] == [200.0]
    assert d.untracked[0].item == 1
    assert "past" in d.untracked[0].note


def test_a_later_year_is_flagged() -> None:
    d = draft_of("到2025年,全市研发投入强度达到3%。")
    assert d.findings[0].kind == "uncertain"
    assert "2025" in d.findings[0].note


# --------------------------------------------------------------------------- structure


def test_sections_and_items() -> None:
    text = (
        "某市发展和改革委员会\n2024年全市发展改革工作要点\n\n一、总体要求\n"
        "地区生产总值增长6%左右。\n二、重点任务\n（一）扩大有效投资\n"
        "1．全年实施重点项目300个。6月底前出台《重点项目建设攻坚行动方案》。\n"
        "（二）培育创新动能\n2、新增高新技术企业100家。（1）新增省级工程研究中心5家；（2）新增企业技术中心10家。\n"
    )
    d = draft_plan(text)
    plan = d.plan
    assert (plan.title, plan.issuer, plan.start, plan.end) == (
        "2024年全市发展改革工作要点",
        "某市发展和改革委员会",
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
    )
    placed = [(t.section, t.item, t.id) for t in plan.targets]
    assert placed == [
        ("一、总体要求", None, "s1_growth_6pct"),
        ("二、重点任务 （一）扩大有效投资", 1, "item1_at_least_300_ge"),
        ("二、重点任务 （一）扩大有效投资", 1, "item1_milestone_issued"),
        ("二、重点任务 （二）培育创新动能", 2, "item2_at_least_100_jia"),
        ("二、重点任务 （二）培育创新动能", 2, "item2_at_least_5_jia"),
        ("二、重点任务 （二）培育创新动能", 2, "item2_at_least_10_jia"),
    ]
    assert plan.target("item2_at_least_5_jia").title == "新增省级工程研究中心5家"
    assert d.untracked == ()


def test_items_numbered_within_sections_get_section_ids() -> None:
    text = (
        "2024年市科技局工作计划\n一、强化创新主体\n（一）壮大科技企业。力争新增高企80家。\n"
        "二、优化创新生态\n（一）扩大科技金融。科技贷款余额达到50亿元。\n"
    )
    d = draft_plan(text)
    assert [(t.item, t.id) for t in d.plan.targets] == [
        (1, "s1_item1_at_least_80_jia"),
        (1, "s2_item1_at_least_50_yi"),
    ]
    assert d.plan.issuer == "市科技局"


def test_a_text_on_one_line_is_split_at_its_markers() -> None:
    text = (
        "2024年科技工作要点\n一、加强创新。1.新增高企80家。2.技术合同成交额达到100亿元。"
        "二、优化服务。3.年内出台《科技服务业发展行动方案》。\n"
    )
    placed = [(t.section, t.item) for t in draft_plan(text).plan.targets]
    assert placed == [("一、加强创新", 1), ("一、加强创新", 2), ("二、优化服务", 3)]


def test_year_from_the_text_or_given() -> None:
    assert draft_plan(HEAD + "1.新增高企80家。").plan.start == dt.date(2023, 1, 1)
    assert draft_plan("工作要点\n1.新增高企80家。", year=2025).plan.end == dt.date(2025, 12, 31)


def test_no_year_is_an_error_with_a_hint() -> None:
    with pytest.raises(tk.ConfigError, match="--year") as info:
        draft_plan("工作要点\n1.新增高企80家。", source="plan.txt")
    assert info.value.problems[0].source == "plan.txt"


def test_ids_are_readable_unique_stable_and_prefixed() -> None:
    body = "新增高企80家,新增高企80家。"
    first = draft_of(body, id_prefix="yc")
    assert [t.id for t in first.plan.targets] == [
        "yc.item1_at_least_80_jia",
        "yc.item1_at_least_80_jia_2",
    ]
    assert first.plan.id == "yc"
    assert draft_of(body, id_prefix="yc") == first


def test_a_bad_prefix_is_an_error() -> None:
    with pytest.raises(tk.ConfigError, match="not a valid id prefix"):
        draft_of("新增高企80家。", id_prefix="宜昌")


def test_plan_id_from_the_source_name() -> None:
    assert draft_of("新增高企80家。", source="texts/yichang 2023.txt").plan.id == "yichang-2023"
    assert draft_of("新增高企80家。").plan.id == "plan-2023"


# --------------------------------------------------------------------------- the file


def test_the_toml_round_trips_and_carries_its_comments() -> None:
    d = draft_of(
        "力争新增省级以上创新平台14家,占GDP比重位居全省同等市州前列。围绕1+4人才新政,引育人才3000人。"
    )
    text = d.to_toml()
    assert tk.parse(tomllib.loads(text), source="draft.toml", text=text) == d.plan
    assert text.startswith("# DRAFT plan file")
    assert "# 原文: 力争新增省级以上创新平台14家,占GDP比重位居全省同等市州前列" in text
    assert "# NOTE: 前列 gives no number" in text
    assert "# UNTRACKED: 围绕1+4人才新政,引育人才3000人" in text


def test_the_cli_validates_the_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.toml"
    save_draft(draft_of("新增高企80家,年内出台《科技服务业发展行动方案》。"), path)
    assert main(["validate", str(path)]) == 0
    assert "2 targets" in capsys.readouterr().out


def test_save_never_overwrites_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text("# mine\n", encoding="utf-8")
    d = draft_of("新增高企80家。")
    with pytest.raises(tk.ConfigError, match="already exists") as info:
        save_draft(d, path)
    assert "--force" in str(info.value)
    assert path.read_text(encoding="utf-8") == "# mine\n"
    save_draft(d, path, force=True)
    assert tk.load(path) == d.plan
    assert [p.name for p in tmp_path.iterdir()] == ["plan.toml"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_read_text_in_the_encodings_sites_use(tmp_path: Path, encoding: str) -> None:
    text = "2023年全市科技工作要点\n1.力争新增高企“100家”，技术合同成交额达到360亿元。\n"
    path = tmp_path / "plan.txt"
    path.write_bytes(text.encode(encoding))
    assert read_text_file(path) == text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x81\x30\xff\xfe\x00", "binary"),
        (b"\x80\x80\x80 plan", "neither UTF-8 nor GB18030"),
        ("café olé".encode("latin-1"), "neither UTF-8 nor GB18030"),
    ],
)
def test_undecodable_text_is_an_error_with_a_fix(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "plan.txt"
    path.write_bytes(data)
    with pytest.raises(tk.ConfigError, match=message) as info:
        read_text_file(path)
    problem = info.value.problems[0]
    assert problem.source == str(path)
    assert "UTF-8" in problem.hint


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(tk.ConfigError, match="cannot be read"):
        read_text_file(tmp_path / "nope.txt")


# --------------------------------------------------------------------------- properties

SUBJECTS = (
    "技术合同成交额",
    "科技型中小企业入库数",
    "引育各类科技人才",
    "新增省级以上创新平台",
    "全社会研发经费投入",
    "培养技术经纪人",
    "“财政科技创新贷”贷款",
)
UNITS = ("亿元", "万元", "家", "人", "名", "项", "笔", "个", "件", "万人次", "套", "亩")
CN_DIGITS = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """Write a whole number below 10^12 in Chinese numerals (三千零五, 一亿二千万 …)."""

    def below_10000(x: int) -> str:
        out, zero = "", False
        for power, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = x // power % 10
            if digit == 0:
                zero = bool(out)
                continue
            out += ("零" if zero else "") + CN_DIGITS[digit] + name
            zero = False
        return out

    if n == 0:
        return "零"
    yi, rest = divmod(n, 10**8)
    wan, low = divmod(rest, 10**4)
    text = ""
    for part, name in ((yi, "亿"), (wan, "万"), (low, "")):
        if part:
            if text and part < 1000:
                text += "零"
            text += below_10000(part) + name
        elif text and not text.endswith("零"):
            text += "零"
    return text.rstrip("零")


@given(st.integers(min_value=1, max_value=10**11))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert parse_number(to_chinese(n)) == n


def numbers() -> st.SearchStrategy[tuple[str, float]]:
    """Numbers as plans write them: 220, 1,300, 2.5, 三千, 1.5万."""
    whole = st.integers(min_value=1, max_value=999_999)
    return st.one_of(
        whole.map(lambda n: (str(n), float(n))),
        whole.filter(lambda n: n >= 1000).map(lambda n: (f"{n:,}", float(n))),
        st.integers(min_value=1, max_value=9999).map(lambda n: (f"{n / 10:g}", n / 10)),
        st.integers(min_value=2, max_value=99_999).map(lambda n: (to_chinese(n), float(n))),
        st.integers(min_value=11, max_value=99).map(lambda n: (f"{n / 10:g}万", n * 1000.0)),
    )


def same_quantity(found: dict[str, Any], value: float, unit: str, key: str = "value") -> bool:
    factor = 1.0 if found["unit"] == unit else tk.default_units().factor(found["unit"], unit)
    return bool(abs(found[key] * factor - value) <= 1e-9 * max(1.0, abs(value)))


@settings(max_examples=150, deadline=None)
@given(
    subject=st.sampled_from(SUBJECTS),
    number=numbers(),
    unit=st.sampled_from(UNITS),
    modal=st.sampled_from(["力争", "争取", "确保", ""]),
    verb=st.sampled_from(["达到", "不低于", "突破", "超过", ""]),
    tail=st.sampled_from(["以上", ""]),
)
def test_generated_floors_round_trip(
    subject: str, number: tuple[str, float], unit: str, modal: str, verb: str, tail: str
) -> None:
    text, value = number
    if text[-1] in "万" and unit in ("亿元", "万元", "万人次", "亩"):
        unit = "家"  # 1.5万万元 is not written
    found = one(f"{modal}{subject}{verb}{text}{unit}{tail}。")
    assert found["kind"] == "at_least"
    assert same_quantity(found, value, unit)
    assert found["binding"] is (modal not in ("力争", "争取"))


@settings(max_examples=60, deadline=None)
@given(number=numbers(), unit=st.sampled_from(("亿元", "万元", "%", "家", "吨")))
def test_generated_caps_round_trip(number: tuple[str, float], unit: str) -> None:
    text, value = number
    if text.endswith("万") and unit != "家":
        unit = "家"
    found = one(f"能源消费总量控制在{text}{unit}以内。")
    assert found["kind"] == "at_most"
    assert same_quantity(found, value, unit)


@settings(max_examples=60, deadline=None)
@given(
    low=st.integers(min_value=1, max_value=500),
    extra=st.integers(min_value=1, max_value=500),
    unit=st.sampled_from(("家", "名", "项", "个")),
    modal=st.sampled_from(["力争", "争取", ""]),
    dash=st.sampled_from(["到", "至", "-", "—"]),
)
def test_generated_ranges_round_trip(
    low: int, extra: int, unit: str, modal: str, dash: str
) -> None:
    found = one(f"{modal}新增孵化载体{low}{dash}{low + extra}{unit}。")
    assert (found["kind"], found["low"], found["high"], found["unit"]) == (
        "between",
        low,
        low + extra,
        unit,
    )
    assert found.get("high_is_stretch", False) is bool(modal)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=300).map(lambda n: n / 10),
    form=st.sampled_from(["增长{}%", "同比增长{}%以上", "增长{}%左右"]),
)
def test_generated_growth_round_trip(rate: float, form: str) -> None:
    found = one("高新技术产业增加值" + form.format(f"{rate:g}") + "。")
    assert (found["kind"], found["value"], found["unit"]) == ("growth", rate, "%")


@settings(max_examples=60, deadline=None)
@given(points=st.integers(min_value=1, max_value=50).map(lambda n: n / 10))
def test_generated_point_changes_round_trip(points: float) -> None:
    found = one(f"研发投入强度提高{points:g}个百分点。")
    assert (found["kind"], found["value"], found["unit"]) == ("change_pp", points, "百分点")


@settings(max_examples=30, deadline=None)
@given(
    bodies=st.lists(
        st.sampled_from(
            [
                "力争新增省级以上创新平台14家。",
                "确保全社会R&D经费投入不低于220亿元,占GDP比重位居全省同等市州前列。",
                "全年净增高新技术企业100家以上,科技型中小企业入库 1300家。",
                "年内出台《科技服务业发展行动方案》。",
                "围绕1+4人才新政,力争引育各类科技人才3000人。",
                "城镇登记失业率控制在4.5%以内。",
                "争取1到2名本土人才入选国家科技人才引导计划。",
            ]
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_draft_is_a_valid_plan_file_and_drafting_is_deterministic(
    bodies: list[str],
) -> None:
    text = HEAD + "".join(f"{i}.{body}\n" for i, body in enumerate(bodies, start=1))
    d = draft_plan(text)
    toml_text = d.to_toml()
    assert tk.parse(tomllib.loads(toml_text), text=toml_text) == d.plan
    assert draft_plan(text).to_toml() == toml_text
    assert len({t.id for t in d.plan.targets}) == len(d.plan.targets)


# --------------------------------------------------------------------------- the Yichang seed


def comparable(plan: tk.Plan, target: tk.Target) -> tuple[Any, ...]:
    """Return what the seed test compares: rule kind, values, unit, binding and deadline."""
    cfg = kind_of(target.rule).to_config(target.rule)
    for key in ("indicator", "numerator", "denominator", "stages"):
        cfg.pop(key, None)
    kind = cfg.pop("kind")
    unit = cfg.pop("unit", None)
    values = tuple(sorted((k, float(v) if not isinstance(v, bool) else v) for k, v in cfg.items()))
    return kind, values, unit, target.binding, plan.deadline_of(target)


def match(expected: tk.Plan, drafted: tk.Plan) -> tuple[list[str], list[str]]:
    """Pair every expected target with a drafted one; return (missing, extra) target ids."""
    pool = {t.id: comparable(drafted, t) for t in drafted.targets}
    missing = []
    for target in expected.targets:
        key = comparable(expected, target)
        found = next((tid for tid, k in pool.items() if k == key), None)
        if found is None:
            missing.append(target.id)
        else:
            del pool[found]
    return missing, sorted(pool)


@pytest.fixture(scope="module")
def yichang() -> Draft:
    return draft_plan(read_text_file(SEED), source=SEED.name)


def test_yichang_draft_finds_every_target_of_the_example(yichang: Draft) -> None:
    expected = tk.load(EXAMPLE_PLAN)
    assert len(expected.targets) == 24
    missing, extra = match(expected, yichang.plan)
    assert missing == []
    assert extra == []


def test_yichang_draft_places_targets_and_lists_the_rest(yichang: Draft) -> None:
    plan = yichang.plan
    assert (plan.title, plan.issuer, plan.start) == (
        "2023年全市科技工作要点",
        "宜昌市科学技术局",
        dt.date(2023, 1, 1),
    )
    assert {t.item for t in plan.targets} == {3, 4, 6, 7, 9, 10, 11, 12, 13, 15, 17, 18}
    assert plan.target("item13_share_20pct").section == "五、加快培育创新主体"
    assert plan.target("item4_at_least_220_yi").title == "全社会R&D经费投入上报数不低于220亿元"
    untracked = " ".join(f.note for f in yichang.untracked)
    for word in ("二十大", "“六个一”", "1+4", "“三个三”", "“四敢”"):
        assert word in untracked
    assert [f.target_id for f in yichang.uncertain] == ["item4_rank_3"]


def test_yichang_draft_validates(yichang: Draft, tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    save_draft(yichang, path)
    assert main(["validate", "--quiet", str(path)]) == 0
    assert tk.load(path) == yichang.plan


def test_lines_broken_mid_sentence_are_joined() -> None:
    text = (
        "2023年全市科技工作要点\n一、加快培育创新主体\n"
        "13.持续壮大创新主体。力争全市高新技术产业增加值占生产总值比重提高到20%以上，全年净增高新\n"
        "技术企业100家以上，科技型中小企业入库1300家。\n"
        "14.支持发展科技园区。\n"
    )
    d = draft_plan(text)
    assert [(t.item, t.rule.kind, t.binding) for t in d.plan.targets] == [
        (13, "share", False),
        (13, "net_increase", False),
        (13, "at_least", False),
    ]
    assert d.plan.indicators[2].name == "净增高新技术企业"


# --------------------------------------------------------------------------- kinds of one's own


@attrs.frozen(kw_only=True)
class _Coverage:
    kind: ClassVar[str] = "coverage"
    indicator: str
    value: float
    unit: str

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


class _CoverageKind(Kind[_Coverage]):
    name = "coverage"
    rule_class = _Coverage
    fields: ClassVar[tuple[Field, ...]] = (
        Field(name="indicator", type=FieldType.INDICATOR, required=True),
        Field(name="value", type=FieldType.NUMBER, required=True, quantity=True),
        Field(name="unit", type=FieldType.UNIT, default=FROM_INDICATOR),
    )
    drafting = Drafting(words=("覆盖到",), slug="coverage_{value}{unit}")


def test_a_users_kind_is_drafted_by_its_own_words() -> None:
    tk.register_rule_kind(_CoverageKind())
    try:
        d = draft_of("全市5G网络覆盖到95%，新增孵化器2家。")
        first, second = d.plan.targets
        assert first.id == "item1_coverage_95pct"
        assert kind_of(first.rule).to_config(first.rule) == {
            "kind": "coverage",
            "indicator": first.id,
            "value": 95.0,
            "unit": "%",
        }
        assert second.rule.kind == "at_least"
    finally:
        unregister_rule_kind("coverage")
    # without the kind its words are not rule words: 覆盖到95% reads as a plain level
    assert draft_of("全市5G网络覆盖到95%。").plan.targets[0].rule.kind == "at_least"


class _SurveyKind(_CoverageKind):
    name = "survey"
    fields = (*_CoverageKind.fields, Field(name="survey", type=FieldType.TEXT, required=True))
    drafting = Drafting(words=("满意度达到",))


def test_a_users_kind_needing_what_the_text_does_not_give_is_left_untracked() -> None:
    tk.register_rule_kind(_SurveyKind())
    try:
        d = draft_of("群众满意度达到95%，新增孵化器2家。")
    finally:
        unregister_rule_kind("survey")
    assert [t.rule.kind for t in d.plan.targets] == ["at_least"]
    assert "read as survey, whose fields the text does not give" in " ".join(
        f.note for f in d.untracked
    )


@attrs.frozen(kw_only=True)
class _Ceiling(_Coverage):
    kind: ClassVar[str] = "ceiling"


class _CeilingKind(_CoverageKind):
    name = "ceiling"
    rule_class = _Ceiling
    drafting = Drafting(words=("封顶",), slug="ceiling_{value}{unit}", role=DraftRole.CAP)


@attrs.frozen(kw_only=True)
class _Uplift(_Coverage):
    kind: ClassVar[str] = "uplift"


class _UpliftKind(_CoverageKind):
    name = "uplift"
    rule_class = _Uplift
    drafting = Drafting(
        words=("跃升",),
        slug="uplift_{value}{unit}",
        role=DraftRole.RISE,
        nouns=("升幅",),
        count_as="net_increase",
        carries_to_levels=False,
    )


def test_a_users_kind_with_a_role_is_drafted_through_its_hooks() -> None:
    tk.register_rule_kind(_CeilingKind())
    tk.register_rule_kind(_UpliftKind())
    try:
        read = {
            text: [(t.id, t.rule.kind) for t in draft_of(text).plan.targets]
            for text in (
                "全市城镇调查失业率封顶5.5%。",  # its words, read as a cap
                "单位GDP能耗封顶3个百分点。",  # a cap word before points: a fall in points
                "城镇调查失业率5.5%以内。",  # the shape alone keeps the first kind of the role
                "工业产值跃升8%、占比30%。",  # its words, and they do not carry on to a level
                "研发投入升幅达到9%。",  # its noun, under a floor word
                "规上企业跃升100家。",  # before a count: count_as
            )
        }
        counted = draft_of("规上企业跃升100家。")
    finally:
        unregister_rule_kind("ceiling")
        unregister_rule_kind("uplift")
    assert list(read.values()) == [
        [("item1_ceiling_5p5pct", "ceiling")],
        [("item1_decline_3pp", "at_least")],
        [("item1_at_most_5p5_pct", "at_most")],
        [("item1_uplift_8pct", "uplift"), ("item1_at_least_30_pct", "at_least")],
        [("item1_uplift_9pct", "uplift")],
        [("item1_net_increase_100_jia", "net_increase")],
    ]
    (target,) = counted.plan.targets
    assert counted.plan.indicator(target.rule.indicator_ids()[0]).kind is tk.IndicatorKind.STOCK
    assert "“跃升100家” read as a net increase on the level at the start of the year" in [
        f.note for f in counted.findings
    ]


def test_each_drafting_role_is_taken_by_one_built_in_kind() -> None:
    roles = [drafting_of(rule_kind(name)).role for name in builtin_rule_kinds()]
    taken = [r for r in roles if r is not None]
    assert sorted(taken) == sorted(DraftRole), "every role has exactly one built-in kind"


def test_the_built_in_kinds_declare_their_drafting() -> None:
    declared = {name: drafting_of(rule_kind(name)) for name in builtin_rule_kinds()}
    assert "不低于" in declared["at_least"].words
    assert "控制在" in declared["at_most"].words
    assert declared["share"].indicators == ("{id}_num", "{id}_den")
    words = [w for d in declared.values() for w in d.words]
    assert len(words) == len(set(words)), "a word belongs to one kind"
