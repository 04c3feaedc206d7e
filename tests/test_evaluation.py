"""Evaluation, worked by hand: each case states the numbers and the status DESIGN.md gives."""

from __future__ import annotations

import datetime as dt

import pytest

import targetkit as tk
from targetkit import Light, Severity, Status

from .conftest import check, make_actuals, make_plan

TURNOVER = """
[[indicators]]
id = "turnover"
name = "技术合同成交额"
name_en = "technology contract turnover"
unit = "亿元"
kind = "cumulative"

[[targets]]
id = "turnover"
title = "技术成交额达到360亿元以上"
binding = false
rule = { kind = "at_least", indicator = "turnover", value = 360, unit = "亿元" }
"""


def turnover(
    value: str, date: str = "2023-06-30", unit: str = "亿元", as_of: str = "2023-07-20"
) -> tk.TargetResult:
    plan = make_plan(TURNOVER)
    ev = check(plan, f"indicator,date,value,unit\nturnover,{date},{value},{unit}\n", as_of)
    return ev.result("turnover")


class TestMonthPace:
    def test_behind_pace(self) -> None:
        # 150 / 360 = 41.67%; six months of twelve = 50%; gap = -8.33 pp → behind (yellow)
        r = turnover("150")
        assert r.status is Status.BEHIND
        assert r.light is Light.YELLOW
        assert r.completion == pytest.approx(150 / 360)
        assert r.expected == pytest.approx(0.5)
        assert r.gap_pp == pytest.approx(-8.3333, abs=1e-3)
        assert r.actual == 150
        assert r.unit == "亿元"
        assert r.message_zh == (
            "1–6月累计 150 亿元，完成年度目标（360 亿元）的 41.7%，低于序时进度 8.3 个百分点（序时进度 50.0%）"
        )
        assert "8.3 pp behind pace" in r.message_en

    def test_expected_is_taken_at_the_observation_date(self) -> None:
        # 1–5月 data checked on June 20: E = 5/12, not 6/12. 150/360 - 5/12 = 0 → on track
        r = turnover("150", date="2023-05-31", as_of="2023-06-20")
        assert r.expected == pytest.approx(5 / 12)
        assert r.gap_pp == pytest.approx(0.0, abs=1e-9)
        assert r.status is Status.ON_TRACK

    def test_exactly_on_pace_is_on_track(self) -> None:
        assert turnover("180").status is Status.ON_TRACK  # 50% vs 50%

    def test_seriously_behind_is_off_track(self) -> None:
        # 60/360 = 16.7%, gap -33.3 pp < -30 → off_track (red)
        r = turnover("60")
        assert r.status is Status.OFF_TRACK
        assert r.light is Light.RED

    def test_band_edge_minus_30_is_behind(self) -> None:
        # 72/360 = 20%, gap exactly -30 pp → behind (edges are inclusive on the better side)
        assert turnover("72").status is Status.BEHIND

    def test_reaching_the_target_is_met_before_the_deadline(self) -> None:
        assert turnover("361").status is Status.MET

    def test_after_the_deadline_an_unreached_target_is_missed(self) -> None:
        r = turnover("300", date="2023-12-31", as_of="2024-01-20")
        assert r.status is Status.MISSED

    def test_a_full_year_value_is_final_even_on_the_deadline(self) -> None:
        # a value dated on the deadline covers the whole period
        assert turnover("300", date="2023-12-31", as_of="2023-12-31").status is Status.MISSED

    def test_units_convert_wan_to_yi(self) -> None:
        r = turnover("1500000", unit="万元")
        assert r.actual == pytest.approx(150)
        assert r.status is Status.BEHIND

    def test_no_rows_is_no_data(self) -> None:
        plan = make_plan(TURNOVER)
        r = tk.evaluate(plan, None, as_of=dt.date(2023, 7, 1)).result("turnover")
        assert r.status is Status.NO_DATA
        assert r.light is Light.GREY

    def test_rows_dated_after_as_of_are_invisible(self) -> None:
        assert turnover("150", as_of="2023-06-29").status is Status.NO_DATA


def test_custom_thresholds() -> None:
    plan = make_plan(
        TURNOVER.replace(
            "binding = false", "binding = false\nthresholds = { on_track = -5, behind = -10 }"
        )
    )
    # gap -8.3 pp: below on_track (-5), at or above behind (-10) → behind; 100 → gap -22.2 → off_track
    csv = "indicator,date,value,unit\nturnover,2023-06-30,{v},亿元\n"
    assert check(plan, csv.format(v=150), "2023-07-01").result("turnover").status is Status.BEHIND
    assert (
        check(plan, csv.format(v=100), "2023-07-01").result("turnover").status is Status.OFF_TRACK
    )
    # gap -2.8 pp is on track under these bands
    assert check(plan, csv.format(v=170), "2023-07-01").result("turnover").status is Status.ON_TRACK


def test_day_pace() -> None:
    plan = make_plan(TURNOVER.replace("binding = false", 'binding = false\npace = "days"'))
    # 2023-03-31 is day 90 of 365: E = 0.24658; 80/360 = 0.22222; gap = -2.44 pp → behind
    r = check(
        plan, "indicator,date,value,unit\nturnover,2023-03-31,80,亿元\n", "2023-04-10"
    ).result("turnover")
    assert r.expected == pytest.approx(90 / 365)
    assert r.gap_pp == pytest.approx(100 * (80 / 360 - 90 / 365))
    assert r.status is Status.BEHIND


def test_schedule_pace() -> None:
    schedule = (
        'pace = { method = "schedule", points = [{ date = 2023-03-31, progress = 10 }, '
        "{ date = 2023-06-30, progress = 35 }, { date = 2023-09-30, progress = 60 }] }"
    )
    plan = make_plan(TURNOVER.replace("binding = false", "binding = false\n" + schedule))
    # back-loaded: at 06-30 only 35% is expected; 130/360 = 36.1% → on track (+1.1 pp)
    r = check(
        plan, "indicator,date,value,unit\nturnover,2023-06-30,130,亿元\n", "2023-07-10"
    ).result("turnover")
    assert r.expected == pytest.approx(0.35)
    assert r.status is Status.ON_TRACK


class TestRevisions:
    CSV = """
    indicator,date,value,unit,reported_at
    turnover,2023-05-31,140,亿元,2023-06-10
    turnover,2023-06-30,150,亿元,2023-07-10
    turnover,2023-06-30,170,亿元,2023-07-25
    """

    def test_latest_reported_at_wins(self) -> None:
        plan = make_plan(TURNOVER)
        assert check(plan, self.CSV, "2023-07-31").result("turnover").actual == 170

    def test_revision_not_yet_reported_is_invisible(self) -> None:
        plan = make_plan(TURNOVER)
        r = check(plan, self.CSV, "2023-07-20").result("turnover")
        assert r.actual == 150
        assert r.evidence[0].reported_at == dt.date(2023, 7, 10)

    def test_row_reported_after_as_of_falls_back_to_the_previous_month(self) -> None:
        plan = make_plan(TURNOVER)
        r = check(plan, self.CSV, "2023-07-05").result("turnover")
        assert r.actual == 140
        assert r.observed_on == dt.date(2023, 5, 31)


FIRMS = """
[[indicators]]
id = "firms"
name = "高新技术企业数"
unit = "家"
kind = "stock"

[[targets]]
id = "firms_net"
title = "净增高新技术企业100家以上"
pace = "none"
rule = { kind = "net_increase", indicator = "firms", value = 100, unit = "家" }
"""


class TestNetIncrease:
    def test_not_pro_rated_before_the_deadline_is_on_track(self) -> None:
        plan = make_plan(FIRMS)
        csv = "indicator,date,value,unit\nfirms,2022-12-31,800,家\nfirms,2023-06-30,830,家\n"
        r = check(plan, csv, "2023-07-10").result("firms_net")
        assert r.actual == 30
        assert r.completion == pytest.approx(0.3)
        assert r.baseline == 800
        assert r.status is Status.ON_TRACK
        assert len(r.evidence) == 2

    def test_met_and_missed_at_year_end(self) -> None:
        plan = make_plan(FIRMS)
        base = "indicator,date,value,unit\nfirms,2022-12-31,800,家\n"
        assert (
            check(plan, base + "firms,2023-12-31,905,家\n", "2024-01-10").result("firms_net").status
            is Status.MET
        )
        assert (
            check(plan, base + "firms,2023-12-31,890,家\n", "2024-01-10").result("firms_net").status
            is Status.MISSED
        )

    def test_with_month_pace(self) -> None:
        plan = make_plan(FIRMS.replace('pace = "none"', 'pace = "months"'))
        csv = "indicator,date,value,unit\nfirms,2022-12-31,800,家\nfirms,2023-06-30,830,家\n"
        r = check(plan, csv, "2023-07-10").result("firms_net")
        # (830 - 800) / 100 = 30%, expected 50% → gap -20 pp → behind
        assert r.gap_pp == pytest.approx(-20)
        assert r.status is Status.BEHIND

    def test_no_baseline_is_no_data_and_says_why(self) -> None:
        plan = make_plan(FIRMS)
        r = check(
            plan, "indicator,date,value,unit\nfirms,2023-06-30,830,家\n", "2023-07-10"
        ).result("firms_net")
        assert r.status is Status.NO_DATA
        assert "2022-12-31" in r.message_zh
        assert "baseline" in r.message_en

    def test_plan_baseline_is_used_only_without_an_observation(self) -> None:
        plan = make_plan(FIRMS.replace('unit = "家" }', 'unit = "家", baseline = 790 }'))
        only = "indicator,date,value,unit\nfirms,2023-06-30,830,家\n"
        assert check(plan, only, "2023-07-10").result("firms_net").actual == 40
        both = "indicator,date,value,unit\nfirms,2022-12-31,800,家\nfirms,2023-06-30,830,家\n"
        assert check(plan, both, "2023-07-10").result("firms_net").actual == 30


SHARE = """
[[indicators]]
id = "va"
name = "高新技术产业增加值"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "gdp"
name = "地区生产总值"
unit = "亿元"
kind = "cumulative"

[[targets]]
id = "va_share"
title = "高新技术产业增加值占比20%以上"
rule = { kind = "share", numerator = "va", denominator = "gdp", value = 20, unit = "%" }
"""


class TestShare:
    def test_below_target_above_baseline_is_behind(self) -> None:
        plan = make_plan(SHARE)
        csv = """
        indicator,date,value,unit
        va,2022-12-31,900,亿元
        gdp,2022-12-31,5000,亿元
        va,2023-06-30,500,亿元
        gdp,2023-06-30,2600,亿元
        """
        r = check(plan, csv, "2023-07-31").result("va_share")
        # 500 / 2600 = 19.23% < 20%; baseline 900 / 5000 = 18% → behind, gap -0.77 pp
        assert r.actual == pytest.approx(100 * 500 / 2600)
        assert r.baseline == pytest.approx(18)
        assert r.gap_pp == pytest.approx(100 * 500 / 2600 - 20)
        assert r.status is Status.BEHIND
        assert len(r.evidence) == 4

    def test_below_baseline_is_off_track(self) -> None:
        plan = make_plan(SHARE)
        csv = "indicator,date,value,unit\nva,2022-12-31,1000,亿元\ngdp,2022-12-31,5000,亿元\nva,2023-06-30,500,亿元\ngdp,2023-06-30,2600,亿元\n"
        assert check(plan, csv, "2023-07-31").result("va_share").status is Status.OFF_TRACK

    def test_satisfied_level_is_on_track_until_final_then_met(self) -> None:
        plan = make_plan(SHARE)
        mid = (
            "indicator,date,value,unit\nva,2023-06-30,600,亿元\ngdp,2023-06-30,2600,万元\n".replace(
                "万元", "亿元"
            )
        )
        assert check(plan, mid, "2023-07-31").result("va_share").status is Status.ON_TRACK
        year = "indicator,date,value,unit\nva,2023-12-31,1100,亿元\ngdp,2023-12-31,50000000,万元\n"
        r = check(plan, year, "2024-02-01").result("va_share")
        assert r.actual == pytest.approx(22)
        assert r.status is Status.MET

    def test_mixed_units_numerator_in_wan(self) -> None:
        plan = make_plan(SHARE)
        csv = "indicator,date,value,unit\nva,2023-06-30,5000000,万元\ngdp,2023-06-30,2600,亿元\n"
        assert check(plan, csv, "2023-07-31").result("va_share").actual == pytest.approx(
            100 * 500 / 2600
        )


GROWTH = """
[[indicators]]
id = "exports"
name = "高新技术产品出口额"
unit = "亿元"
kind = "cumulative"

[[targets]]
id = "exports_growth"
title = "出口增长10%"
rule = { kind = "growth", indicator = "exports", value = 10, unit = "%" }
"""


class TestGrowth:
    @pytest.mark.parametrize(
        ("value", "status"),
        [("112", Status.ON_TRACK), ("108", Status.BEHIND), ("95", Status.OFF_TRACK)],
    )
    def test_same_period_last_year(self, value: str, status: Status) -> None:
        # 1–6月 2023 against 1–6月 2022 (100): 12% ≥ 10% on track; 8% behind; -5% regressing
        plan = make_plan(GROWTH)
        csv = f"indicator,date,value,unit\nexports,2022-06-30,100,亿元\nexports,2023-06-30,{value},亿元\n"
        r = check(plan, csv, "2023-07-31").result("exports_growth")
        assert r.actual == pytest.approx(float(value) - 100)
        assert r.status is status

    def test_against_last_years_total_is_pro_rated(self) -> None:
        # no 2022-06-30 row: the goal is 2022's total × 1.1 = 220, pro-rated: 100/220 = 45.5% vs 50%
        plan = make_plan(GROWTH)
        csv = (
            "indicator,date,value,unit\nexports,2022-12-31,200,亿元\nexports,2023-06-30,100,亿元\n"
        )
        r = check(plan, csv, "2023-07-31").result("exports_growth")
        assert r.target_value == pytest.approx(220)
        assert r.gap_pp == pytest.approx(100 * (100 / 220 - 0.5))
        assert r.status is Status.BEHIND


RANK = """
[[indicators]]
id = "rank"
name = "研发投入强度全省位次"
unit = ""
kind = "level"

[[targets]]
id = "rank"
title = "位居全省前列"
rule = { kind = "rank", indicator = "rank", value = 3 }
"""


class TestRank:
    @pytest.mark.parametrize(
        ("base", "now", "as_of", "status"),
        [
            ("4", "2", "2023-07-31", Status.ON_TRACK),
            ("4", "5", "2023-07-31", Status.OFF_TRACK),  # worse than the baseline rank
            ("6", "5", "2023-07-31", Status.BEHIND),  # better than before, not yet in the top 3
            ("4", "3", "2023-07-31", Status.ON_TRACK),  # rank exactly 3 is within
        ],
    )
    def test_rank_levels(self, base: str, now: str, as_of: str, status: Status) -> None:
        plan = make_plan(RANK)
        csv = f"indicator,date,value,unit\nrank,2022-12-31,{base},\nrank,2023-06-30,{now},\n"
        assert check(plan, csv, as_of).result("rank").status is status

    def test_final_rank(self) -> None:
        plan = make_plan(RANK)
        assert (
            check(plan, "indicator,date,value,unit\nrank,2023-12-31,2,\n", "2024-03-01")
            .result("rank")
            .status
            is Status.MET
        )
        assert (
            check(plan, "indicator,date,value,unit\nrank,2023-12-31,4,\n", "2024-03-01")
            .result("rank")
            .status
            is Status.MISSED
        )


MILESTONE = """
[[targets]]
id = "plan_issued"
title = "出台工作方案"
rule = { kind = "milestone" }
"""


class TestMilestone:
    @pytest.mark.parametrize(
        ("as_of", "status"),
        [
            ("2023-11-30", Status.ON_TRACK),  # 31 days left: outside the 30-day window
            ("2023-12-01", Status.BEHIND),  # 30 days left: within the window
            ("2023-12-31", Status.BEHIND),  # the deadline day itself
            ("2024-01-01", Status.MISSED),
        ],
    )
    def test_not_done(self, as_of: str, status: Status) -> None:
        plan = make_plan(MILESTONE)
        r = tk.evaluate(plan, None, as_of=dt.date.fromisoformat(as_of)).result("plan_issued")
        assert r.status is status

    def test_done_early_is_met(self) -> None:
        plan = make_plan(MILESTONE)
        r = check(
            plan, "indicator,date,value,unit\nplan_issued,2023-05-20,done,\n", "2023-06-01"
        ).result("plan_issued")
        assert r.status is Status.MET
        assert r.observed_on == dt.date(2023, 5, 20)
        assert "2023-05-20" in r.message_zh

    def test_done_late_is_missed(self) -> None:
        plan = make_plan(MILESTONE)
        r = check(
            plan, "indicator,date,value,unit\nplan_issued,2024-01-05,done,\n", "2024-01-10"
        ).result("plan_issued")
        assert r.status is Status.MISSED

    def test_stages(self) -> None:
        plan = make_plan(
            """
            [[targets]]
            id = "dc"
            title = "数据中心立项动工"
            rule = { kind = "milestone", stages = [{ id = "approved", name = "立项", due = 2023-06-30 }, { id = "started", name = "动工", due = 2023-12-31 }] }
            """
        )
        none = tk.evaluate(plan, None, as_of=dt.date(2023, 7, 15)).result("dc")
        assert none.status is Status.BEHIND  # 立项 overdue
        assert "立项" in none.message_zh
        approved = check(
            plan, "indicator,date,value,unit\ndc,2023-06-15,approved,\n", "2023-07-15"
        ).result("dc")
        assert approved.status is Status.ON_TRACK
        assert approved.completion == pytest.approx(0.5)
        both = check(
            plan,
            "indicator,date,value,unit\ndc,2023-06-15,approved,\ndc,2023-10-08,started,\n",
            "2023-10-10",
        )
        assert both.result("dc").status is Status.MET
        assert both.result("dc").observed_on == dt.date(2023, 10, 8)


LEVEL = """
[[indicators]]
id = "rd_share"
name = "规上工业企业研发投入占营业收入比重"
unit = "%"
kind = "level"

[[targets]]
id = "rd_share"
title = "比重逐步提高"
rule = { kind = "increase", indicator = "rd_share" }
"""


@pytest.mark.parametrize(
    ("now", "date", "as_of", "status"),
    [
        ("2.3", "2023-06-30", "2023-07-31", Status.ON_TRACK),
        ("2.1", "2023-06-30", "2023-07-31", Status.BEHIND),  # not above the baseline, not below it
        ("2.0", "2023-06-30", "2023-07-31", Status.OFF_TRACK),
        ("2.3", "2023-12-31", "2024-03-01", Status.MET),
        ("2.1", "2023-12-31", "2024-03-01", Status.MISSED),
    ],
)
def test_increase_over_baseline(now: str, date: str, as_of: str, status: Status) -> None:
    plan = make_plan(LEVEL)
    csv = f"indicator,date,value,unit\nrd_share,2022-12-31,2.1,%\nrd_share,{date},{now},%\n"
    assert check(plan, csv, as_of).result("rd_share").status is status


CAP = """
[[indicators]]
id = "energy"
name = "能源消费量"
unit = "万吨标准煤"
kind = "cumulative"

[[targets]]
id = "energy_cap"
title = "能源消费总量控制在100万吨标准煤以内"
rule = { kind = "at_most", indicator = "energy", value = 100 }
"""


class TestCap:
    def test_using_a_budget_faster_than_pace_is_bad(self) -> None:
        # 60 of 100 used by June: R = 60%, E = 50%; G = 100·(E − R) = -10 pp → behind
        plan = make_plan(CAP)
        r = check(
            plan, "indicator,date,value,unit\nenergy,2023-06-30,60,万吨标准煤\n", "2023-07-10"
        ).result("energy_cap")
        assert r.gap_pp == pytest.approx(-10)
        assert r.status is Status.BEHIND

    def test_under_pace_is_on_track_and_exceeded_is_off_track(self) -> None:
        plan = make_plan(CAP)
        csv = "indicator,date,value,unit\nenergy,2023-06-30,{v},万吨标准煤\n"
        assert (
            check(plan, csv.format(v=45), "2023-07-10").result("energy_cap").status
            is Status.ON_TRACK
        )
        assert (
            check(plan, csv.format(v=101), "2023-07-10").result("energy_cap").status
            is Status.OFF_TRACK
        )

    def test_kept_within_at_year_end_is_met(self) -> None:
        plan = make_plan(CAP)
        csv = "indicator,date,value,unit\nenergy,2023-12-31,1000000,吨标准煤\n"
        assert check(plan, csv, "2024-01-10").result("energy_cap").status is Status.MET


BAND = """
[[indicators]]
id = "cpi"
name = "居民消费价格涨幅"
unit = "%"
kind = "level"

[[indicators]]
id = "selected"
name = "入选国家人才计划人数"
unit = "人"
kind = "cumulative"

[[targets]]
id = "cpi"
title = "涨幅控制在2%到3%"
rule = { kind = "between", indicator = "cpi", low = 2, high = 3, unit = "%" }

[[targets]]
id = "selected"
title = "争取1到2名"
binding = false
pace = "none"
rule = { kind = "between", indicator = "selected", low = 1, high = 2, unit = "名", high_is_stretch = true }
"""


class TestBetween:
    @pytest.mark.parametrize(
        ("value", "status"),
        [
            ("2.5", Status.ON_TRACK),
            ("3", Status.ON_TRACK),
            ("3.4", Status.BEHIND),
            ("4", Status.OFF_TRACK),
        ],
    )
    def test_band_both_ends_enforced(self, value: str, status: Status) -> None:
        # baseline 3.5 is 0.5 above the band: 3.4 is closer (behind), 4 is farther (off track)
        plan = make_plan(BAND)
        csv = f"indicator,date,value,unit\ncpi,2022-12-31,3.5,%\ncpi,2023-06-30,{value},%\n"
        assert check(plan, csv, "2023-07-10").result("cpi").status is status

    def test_floor_with_stretch(self) -> None:
        plan = make_plan(BAND)
        one = check(
            plan, "indicator,date,value,unit\nselected,2023-09-30,1,人\n", "2023-10-10"
        ).result("selected")
        assert one.status is Status.MET
        assert one.stretch_met is False
        three = check(
            plan, "indicator,date,value,unit\nselected,2023-09-30,3,名\n", "2023-10-10"
        ).result("selected")
        assert three.status is Status.MET  # exceeding the hoped-for 2 is fine
        assert three.stretch_met is True
        none = check(
            plan, "indicator,date,value,unit\nselected,2023-09-30,0,名\n", "2023-10-10"
        ).result("selected")
        assert none.status is Status.ON_TRACK  # not pro-rated; judged at the deadline


CHANGE = """
[[indicators]]
id = "rd_intensity"
name = "研发投入强度"
unit = "%"
kind = "level"

[[targets]]
id = "rd_intensity_up"
title = "提高0.2个百分点"
rule = { kind = "change_pp", indicator = "rd_intensity", value = 0.2, unit = "百分点" }
"""


@pytest.mark.parametrize(
    ("now", "status", "change"),
    [("2.35", Status.ON_TRACK, 0.25), ("2.2", Status.BEHIND, 0.1), ("2.0", Status.OFF_TRACK, -0.1)],
)
def test_change_in_percentage_points(now: str, status: Status, change: float) -> None:
    plan = make_plan(CHANGE)
    csv = f"indicator,date,value,unit\nrd_intensity,2022-12-31,2.1,%\nrd_intensity,2023-06-30,{now},%\n"
    r = check(plan, csv, "2023-07-31").result("rd_intensity_up")
    assert r.actual == pytest.approx(change)
    assert r.gap_pp == pytest.approx(change - 0.2)
    assert r.status is status


class TestAfterTheDeadline:
    PLAN = TURNOVER.replace('kind = "cumulative"', 'kind = "cumulative"\nlag_days = 30')

    def test_the_period_is_over_the_day_after_the_deadline(self) -> None:
        # DESIGN: missed once the period is over and the target is not met, even while the
        # December figure (due within lag_days) is not yet published; 1–11月 300 < 360
        plan = make_plan(self.PLAN)
        r = check(
            plan, "indicator,date,value,unit\nturnover,2023-11-30,300,亿元\n", "2024-01-01"
        ).result("turnover")
        assert r.status is Status.MISSED

    def test_on_the_deadline_day_an_older_figure_is_still_judged_on_pace(self) -> None:
        # 300/360 = 83.3% against 11/12 = 91.7%: -8.3 pp, behind
        plan = make_plan(self.PLAN)
        r = check(
            plan, "indicator,date,value,unit\nturnover,2023-11-30,300,亿元\n", "2023-12-31"
        ).result("turnover")
        assert r.status is Status.BEHIND

    def test_a_late_whole_year_figure_that_reaches_the_target_is_met(self) -> None:
        plan = make_plan(self.PLAN)
        csv = "indicator,date,value,unit,reported_at\nturnover,2023-11-30,300,亿元,\nturnover,2023-12-31,365,亿元,2024-01-20\n"
        assert check(plan, csv, "2024-01-10").result("turnover").status is Status.MISSED
        assert check(plan, csv, "2024-01-25").result("turnover").status is Status.MET


class TestAlerts:
    def test_severity_follows_binding(self) -> None:
        body = TURNOVER + TURNOVER.replace(
            'id = "turnover"\ntitle', 'id = "turnover_binding"\ntitle'
        ).replace("binding = false", "binding = true").split("[[targets]]")[1].join(
            ["[[targets]]", ""]
        )
        plan = make_plan(body)
        ev = check(plan, "indicator,date,value,unit\nturnover,2023-06-30,60,亿元\n", "2023-07-05")
        by_target = {a.target: a for a in ev.alerts}
        assert by_target["turnover"].severity is Severity.WARNING  # aspirational, off track
        assert by_target["turnover_binding"].severity is Severity.CRITICAL
        assert by_target["turnover"].status is Status.OFF_TRACK

    def test_aspirational_severity_can_be_raised(self) -> None:
        plan = make_plan('[defaults]\naspirational_severity = "critical"\n' + TURNOVER)
        ev = check(plan, "indicator,date,value,unit\nturnover,2023-06-30,60,亿元\n", "2023-07-05")
        assert ev.alerts[0].severity is Severity.CRITICAL

    def test_behind_is_a_warning_and_green_raises_nothing(self) -> None:
        plan = make_plan(TURNOVER)
        assert (
            check(plan, "indicator,date,value,unit\nturnover,2023-06-30,150,亿元\n", "2023-07-05")
            .alerts[0]
            .severity
            is Severity.WARNING
        )
        assert (
            check(
                plan, "indicator,date,value,unit\nturnover,2023-06-30,200,亿元\n", "2023-07-05"
            ).alerts
            == ()
        )

    def test_overdue_data(self) -> None:
        plan = make_plan(
            TURNOVER.replace(
                'kind = "cumulative"', 'kind = "cumulative"\ncadence = "monthly"\nlag_days = 20'
            )
        )
        csv = "indicator,date,value,unit\nturnover,2023-05-31,160,亿元\n"
        # June's figure is due 2023-07-20; on 07-19 nothing is late, on 07-25 it is
        assert [a.kind for a in check(plan, csv, "2023-07-19").alerts] == []
        late = check(plan, csv, "2023-07-25").alerts
        assert [a.kind for a in late] == ["overdue"]
        assert "2023-06-30" in late[0].message_zh


class TestEvaluationApi:
    def test_summary_and_worst_light(self) -> None:
        plan = make_plan(TURNOVER + MILESTONE)
        ev = check(plan, "indicator,date,value,unit\nturnover,2023-06-30,60,亿元\n", "2023-07-05")
        assert ev.summary["off_track"] == 1
        assert ev.summary["on_track"] == 1
        assert sum(ev.summary.values()) == 2
        assert ev.worst_light is Light.RED

    def test_to_frame_is_tidy(self) -> None:
        plan = make_plan(TURNOVER + MILESTONE)
        frame = check(
            plan, "indicator,date,value,unit\nturnover,2023-06-30,150,亿元\n", "2023-07-05"
        ).to_frame()
        assert list(frame["target"]) == ["turnover", "plan_issued"]
        assert list(frame["status"]) == ["behind", "on_track"]
        assert frame["completion"].dtype == "float64"

    def test_evidence_names_file_and_line(self) -> None:
        plan = make_plan(TURNOVER)
        actuals = make_actuals(
            plan,
            "indicator,date,value,unit,source\nturnover,2023-05-31,120,亿元,统计局\nturnover,2023-06-30,150,亿元,统计局\n",
        )
        r = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 1)).result("turnover")
        (e,) = r.evidence
        assert (e.file, e.line, e.raw_value, e.source) == ("actuals.csv", 2, "150", "统计局")

    def test_as_of_datetime_is_accepted(self) -> None:
        plan = make_plan(MILESTONE)
        ev = tk.evaluate(plan, None, as_of=dt.datetime(2023, 12, 1, 9, 0))  # noqa: DTZ001 - a naive date-time is what notebooks pass
        assert ev.as_of == dt.date(2023, 12, 1)


def test_a_baseline_row_is_not_progress_within_the_period() -> None:
    # last year's total (2022-12-31) says nothing about 2023's cumulative progress
    plan = make_plan(TURNOVER)
    r = check(
        plan, "indicator,date,value,unit\nturnover,2022-12-31,400,亿元\n", "2023-03-01"
    ).result("turnover")
    assert r.status is Status.NO_DATA


def test_milestone_done_on_the_deadline_day_is_met() -> None:
    plan = make_plan(MILESTONE)
    r = check(
        plan, "indicator,date,value,unit\nplan_issued,2023-12-31,done,\n", "2024-01-05"
    ).result("plan_issued")
    assert r.status is Status.MET


class TestOverdueAfterTheDeadline:
    PLAN = TURNOVER.replace(
        'kind = "cumulative"', 'kind = "cumulative"\ncadence = "monthly"\nlag_days = 20'
    )

    def test_the_year_figure_is_overdue_after_end_plus_lag(self) -> None:
        plan = make_plan(self.PLAN)
        csv = "indicator,date,value,unit\nturnover,2023-11-30,300,亿元\n"
        assert [a.kind for a in check(plan, csv, "2024-01-20").alerts] == [
            "status"
        ]  # due, not late
        late = check(plan, csv, "2024-01-21").alerts
        assert sorted(a.kind for a in late) == ["overdue", "status"]
        assert any("2023-12-31" in a.message_zh for a in late)

    def test_a_met_target_needs_no_more_figures(self) -> None:
        plan = make_plan(self.PLAN)
        csv = "indicator,date,value,unit\nturnover,2023-10-31,370,亿元\n"
        assert check(plan, csv, "2024-02-01").alerts == ()
