"""Year-end forecasts (预计全年), worked by hand: the functions alone, then through evaluate."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import targetkit as tk
from targetkit import Status
from targetkit.cli import main
from targetkit.forecast import ForecastMethod, forecast_series, profile_share
from targetkit.pace import Pace, PaceMethod

from .conftest import check, make_plan

D = dt.date
START, END = D(2023, 1, 1), D(2023, 12, 31)

INVESTMENT = """
[[indicators]]
id = "investment"
name = "重点项目完成投资"
name_en = "key-project investment"
unit = "亿元"
kind = "cumulative"

[[targets]]
id = "investment"
title = "重点项目完成投资100亿元"
rule = { kind = "at_least", indicator = "investment", value = 100, unit = "亿元" }
"""

LAST_YEAR = """\
investment,2022-03-31,15,亿元
investment,2022-06-30,40,亿元
investment,2022-09-30,65,亿元
investment,2022-12-31,100,亿元
"""


# --------------------------------------------------------------------------- the functions


def test_last_years_profile_gives_110_not_the_linear_88() -> None:
    # 44 by June; last year stood at 40 of its 100 by June (40%): 44 / 0.40 = 110
    past = [(D(2022, 6, 30), 40.0), (D(2022, 12, 31), 100.0)]
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END, past=past, target=100)
    assert made is not None
    assert made.method is ForecastMethod.PROFILE
    assert made.value == pytest.approx(110.0)
    assert made.completion == pytest.approx(1.10)
    assert made.share == pytest.approx(0.40)
    assert made.low <= 110.0 <= made.high
    assert made.basis == "2022年同期进度 40.0%"
    # without last year's figures: the run rate of the months pace, 44 / (6/12) = 88
    linear = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END, target=100)
    assert linear is not None
    assert linear.method is ForecastMethod.RUN_RATE
    assert linear.value == pytest.approx(88.0)


def test_the_interval_of_one_figure_on_the_run_rate() -> None:
    # one estimate: half-width 0.4 × (1 − 0.5) × (1 + 1/1) = 40% of 88
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END)
    assert made is not None
    assert (made.low, made.high) == pytest.approx((88 * 0.6, 88 * 1.4))


def test_the_run_rate_since_an_earlier_figure_widens_the_interval() -> None:
    # 20 by March and 44 by June: 24 in a quarter, so 44 + 24 / 0.25 × 0.5 = 92 by December
    made = forecast_series([(D(2023, 3, 31), 20.0), (D(2023, 6, 30), 44.0)], start=START, end=END)
    assert made is not None
    assert made.value == pytest.approx(88.0)
    half = 0.4 * 0.5 * 1.5  # two estimates
    assert made.low == pytest.approx(88 * (1 - half))
    assert made.high == pytest.approx(max(92.0, 88 * (1 + half)))


def test_the_declared_pace_curve_is_the_run_rate() -> None:
    # a back-loaded schedule: 35% by the end of June, so 44 / 0.35 ≈ 125.7
    pace = Pace(method=PaceMethod.SCHEDULE, points=((D(2023, 6, 30), 0.35),))
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END, pace=pace)
    assert made is not None
    assert made.value == pytest.approx(44 / 0.35)
    assert made.basis == "序时进度 35.0%"


def test_several_past_years_each_give_an_estimate() -> None:
    past = [
        (D(2022, 6, 30), 40.0),
        (D(2022, 12, 31), 100.0),
        (D(2021, 6, 30), 50.0),
        (D(2021, 12, 31), 100.0),
    ]
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END, past=past)
    assert made is not None
    assert made.value == pytest.approx(110.0)  # the latest year decides the value
    assert made.low <= 88.0  # 44 / 0.5, the 2021 profile, lies inside the interval
    assert made.high >= 110.0


def test_a_year_end_figure_alone_is_no_profile() -> None:
    # a straight line from zero to last year's total is the run rate, not a profile
    past = [(D(2022, 12, 31), 100.0)]
    assert profile_share(past, start=START, end=END, on=D(2023, 6, 30)) is None
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END, past=past)
    assert made is not None
    assert made.method is ForecastMethod.RUN_RATE


def test_no_figure_no_forecast_and_a_figure_at_the_deadline_is_final() -> None:
    assert forecast_series([], start=START, end=END) is None
    assert forecast_series([(D(2022, 12, 31), 5.0)], start=START, end=END) is None
    final = forecast_series([(END, 97.0)], start=START, end=END, target=100)
    assert final is not None
    assert (final.value, final.low, final.high) == (97.0, 97.0, 97.0)
    assert final.method is ForecastMethod.FINAL
    assert final.falls_short()


def test_the_path_runs_from_the_latest_figure_to_the_deadline() -> None:
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END)
    assert made is not None
    assert [p[0] for p in made.path] == [
        D(2023, 7, 31),
        D(2023, 8, 31),
        D(2023, 9, 30),
        D(2023, 10, 31),
        D(2023, 11, 30),
        END,
    ]
    assert made.path[-1][1:] == pytest.approx((made.value, made.low, made.high))
    assert made.path[0][1] == pytest.approx(44 + 44 / 6)  # one more month at the run rate


def test_sentences() -> None:
    past = [(D(2022, 6, 30), 40.0), (D(2022, 12, 31), 100.0)]
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END, past=past, target=100)
    assert made is not None
    zh = made.sentence("亿元")
    assert zh.startswith("按当前进度，预计全年完成 110 亿元（完成年度目标的110.0%，区间 ")
    assert "2022年同期进度 40.0%" in zh
    assert made.sentence("亿元", "en").startswith("at the current pace the year should end at 110")


@given(
    figures=st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=11),
    share=st.floats(0.05, 0.95),
)
def test_the_value_lies_within_the_interval_and_never_below_the_figure(
    figures: list[float], share: float
) -> None:
    cumulative = [sum(figures[: k + 1]) for k in range(len(figures))]
    points = [(D(2023, k + 2, 1) - dt.timedelta(days=1), v) for k, v in enumerate(cumulative)]
    on = points[-1][0]
    past = [(on.replace(year=2022), 100 * share), (D(2022, 12, 31), 100.0)]
    for made in (
        forecast_series(points, start=START, end=END),
        forecast_series(points, start=START, end=END, past=past),
    ):
        assert made is not None
        assert made.low <= made.value <= made.high
        assert made.low >= cumulative[-1]


# --------------------------------------------------------------------------- through evaluate


def _investment(rows: str, as_of: str = "2023-07-20") -> tk.Evaluation:
    plan = make_plan(INVESTMENT)
    return check(plan, f"indicator,date,value,unit\n{rows}", as_of)


def test_evaluate_uses_last_years_figures_in_the_actuals() -> None:
    ev = _investment(LAST_YEAR + "investment,2023-06-30,44,亿元\n")
    r = ev.result("investment")
    assert r.forecast is not None
    assert r.forecast.method is ForecastMethod.PROFILE
    assert r.forecast.value == pytest.approx(110.0)
    assert r.status is Status.BEHIND  # 44% against 50% of the year: behind, but heading past 100
    assert not r.at_risk
    without = _investment("investment,2023-06-30,44,亿元\n").result("investment")
    assert without.forecast is not None
    assert without.forecast.value == pytest.approx(88.0)


def test_a_green_target_heading_short_is_at_risk() -> None:
    # 52 by June is ahead of pace (52% ≥ 50%), but last year 60% was done by June: 52 / 0.6 ≈ 86.7
    front = LAST_YEAR.replace("2022-06-30,40", "2022-06-30,60")
    r = _investment(front + "investment,2023-06-30,52,亿元\n").result("investment")
    assert r.status is Status.ON_TRACK
    assert r.forecast is not None
    assert r.forecast.value == pytest.approx(52 / 0.6)
    assert r.at_risk
    assert "预计全年完成 86.67 亿元" in r.forecast_message()


def test_a_net_increase_is_forecast_on_the_increase() -> None:
    plan = make_plan(
        """
        [[indicators]]
        id = "firms"
        name = "高新技术企业"
        unit = "家"
        kind = "stock"

        [[targets]]
        id = "firms"
        title = "净增高新技术企业100家"
        rule = { kind = "net_increase", indicator = "firms", value = 100 }
        """
    )
    ev = check(
        plan,
        "indicator,date,value,unit\nfirms,2022-12-31,1000,家\nfirms,2023-06-30,1060,家\n",
        "2023-07-20",
    )
    r = ev.result("firms")
    assert r.forecast is not None
    assert r.forecast.value == pytest.approx(120.0)  # 60 in half a year → 120
    assert r.forecast.completion == pytest.approx(1.2)


GROWTH = """
[[indicators]]
id = "output"
name = "规上工业产值"
unit = "亿元"
kind = "cumulative"

[[targets]]
id = "output"
title = "规上工业产值增长8%"
rule = { kind = "growth", indicator = "output", value = 8, unit = "%" }
"""

# last year month by month: 10, 20, … 120 by December (half of the year's total by June)
GROWTH_LAST_YEAR = "".join(
    f"output,{D(2022, m, calendar.monthrange(2022, m)[1])},{10 * m},亿元\n" for m in range(1, 13)
)
# this year 11, 22, … 66 by June: 10% more than last year's same months
GROWTH_THIS_YEAR = "".join(
    f"output,{D(2023, m, calendar.monthrange(2023, m)[1])},{11 * m},亿元\n" for m in range(1, 7)
)


def _growth(rows: str) -> tk.Evaluation:
    return check(make_plan(GROWTH), f"indicator,date,value,unit\n{rows}", "2023-07-20")


def test_a_growth_target_on_a_flow_is_forecast_on_the_flow() -> None:
    # this year 11, 22, … 66 by June: 10% on last year's 60; last year's profile says half of
    # the year is done by June, so the year heads for 66 / 0.5 = 132, that is 10% on 120,
    # against the target 120 × 1.08 = 129.6
    ev = _growth(GROWTH_LAST_YEAR + GROWTH_THIS_YEAR)
    r = ev.result("output")
    assert r.actual == pytest.approx(10.0)  # the judged value is the rate, in %
    assert r.forecast is not None
    assert r.forecast.method is ForecastMethod.PROFILE
    assert r.forecast.value == pytest.approx(132.0)
    assert r.forecast.target == pytest.approx(129.6)
    assert r.forecast.unit == "亿元"
    assert r.forecast.growth == pytest.approx(0.10)
    assert r.forecast.completion == pytest.approx(132 / 129.6)
    assert not r.at_risk
    assert r.forecast_message().startswith(
        "按当前进度，预计全年完成 132 亿元，同比增长 10.0%（完成年度目标的101.9%，区间 "
    )
    assert r.forecast_message().endswith("亿元；2022年同期进度 50.0%）")
    assert "+10.0% on last year" in r.forecast_message("en")
    data = ev.to_dict()
    assert data["results"][0]["forecast"]["unit"] == "亿元"
    assert data["results"][0]["forecast"]["growth"] == pytest.approx(0.1)


def test_a_growth_target_without_last_years_total_gets_no_forecast() -> None:
    # a same-period figure but no year total: nothing to grow the target from
    r = _growth("output,2022-06-30,60,亿元\noutput,2023-06-30,66,亿元\n").result("output")
    assert r.actual == pytest.approx(10.0)
    assert r.forecast is None


def test_a_growth_target_judged_as_progress_is_forecast_against_its_goal() -> None:
    # no same-period figure a year before: judged as progress towards 100 × 1.08 = 108
    r = _growth("output,2022-12-31,100,亿元\noutput,2023-06-30,54,亿元\n").result("output")
    assert r.target_value == pytest.approx(108.0)
    assert r.forecast is not None
    assert r.forecast.value == pytest.approx(108.0)  # 54 at half the year on the run rate
    assert r.forecast.target == pytest.approx(108.0)
    assert r.forecast.growth == pytest.approx(0.08)


def test_levels_unprorated_and_finished_targets_get_no_forecast() -> None:
    plan = make_plan(
        INVESTMENT
        + """
        [[indicators]]
        id = "share"
        name = "占比"
        unit = "%"
        kind = "level"

        [[targets]]
        id = "share"
        title = "占比达到20%"
        rule = { kind = "at_least", indicator = "share", value = 20, unit = "%" }

        [[targets]]
        id = "yearly"
        title = "全年完成投资100亿元（不按序时）"
        pace = "none"
        rule = { kind = "at_least", indicator = "investment", value = 100, unit = "亿元" }
        """
    )
    rows = "indicator,date,value,unit\ninvestment,2023-06-30,44,亿元\nshare,2023-06-30,19,%\n"
    ev = check(plan, rows, "2023-07-20")
    assert ev.result("share").forecast is None
    assert ev.result("yearly").forecast is None
    assert ev.result("investment").forecast is not None
    done = check(plan, rows + "investment,2023-12-31,101,亿元\n", "2024-01-20")
    assert done.result("investment").forecast is None


def test_json_and_frames_carry_the_forecast() -> None:
    ev = _investment(LAST_YEAR + "investment,2023-06-30,44,亿元\n")
    doc = ev.to_dict()["results"][0]
    assert doc["forecast"]["value"] == pytest.approx(110.0)
    assert doc["forecast"]["method"] == "profile"
    assert doc["forecast"]["message"].startswith("按当前进度，预计全年完成 110 亿元")
    assert doc["at_risk"] is False
    frame = ev.to_frame()
    fast = ev.to_frame(messages=False)
    for f in (frame, fast):
        assert f.loc[0, "forecast"] == pytest.approx(110.0)
        assert f.loc[0, "forecast_method"] == "profile"
        assert not bool(f.loc[0, "at_risk"])
    none = _investment("").to_dict()["results"][0]
    assert none["forecast"] is None
    forecast_columns = {"forecast", "forecast_low", "forecast_high", "forecast_method", "at_risk"}
    for messages in (True, False):
        bare = ev.to_frame(messages=messages, forecasts=False)
        assert not forecast_columns & set(bare.columns)
        full = ev.to_frame(messages=messages)
        assert list(bare.columns) == [c for c in full.columns if c not in forecast_columns]
        assert bare.loc[0, "completion"] == pytest.approx(full.loc[0, "completion"])


def test_cli_csv_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[plan]\nid = "p"\ntitle = "t"\nperiod = { start = 2023-01-01, end = 2023-12-31 }\n'
        + INVESTMENT,
        encoding="utf-8",
    )
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(
        "indicator,date,value,unit\n" + LAST_YEAR + "investment,2023-06-30,44,亿元\n",
        encoding="utf-8",
    )
    args = ["check", str(plan), "--actuals", str(actuals), "--as-of", "2023-07-20"]
    main([*args, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert float(rows[0]["forecast"]) == pytest.approx(110.0)
    assert rows[0]["forecast_method"] == "profile"
    assert rows[0]["at_risk"] == "false"
    main([*args, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["results"][0]["forecast"]["completion"] == pytest.approx(1.1)


def test_the_chart_draws_figures_path_and_interval() -> None:
    from targetkit.forecast import plot_forecast

    past = [(D(2022, 6, 30), 40.0), (D(2022, 12, 31), 100.0)]
    made = forecast_series([(D(2023, 6, 30), 44.0)], start=START, end=END, past=past, target=100)
    assert made is not None
    fig = plot_forecast(made, title="重点项目完成投资", unit="亿元")
    ax = fig.axes[0]
    lines = {line.get_gid(): line for line in ax.lines}
    assert set(lines) == {"actual", "forecast", "target"}
    assert float(np.asarray(lines["forecast"].get_ydata())[-1]) == pytest.approx(110.0)
    assert [c.get_gid() for c in ax.collections] == ["interval"]
    png, size = fig._repr_png_()  # type: ignore[attr-defined]
    assert png.startswith(b"\x89PNG")
    assert size["width"] > 0


# --------------------------------------------------------------------------- alerts


def test_notify_at_risk_adds_at_risk_targets_to_the_alerts(tmp_path: Path) -> None:
    import email
    import email.policy
    import mailbox
    import tomllib

    from targetkit.notify import deliver, parse_settings
    from targetkit.state import AT_RISK, Snapshot

    front = LAST_YEAR.replace("2022-06-30,40", "2022-06-30,60")
    ev = _investment(front + "investment,2023-06-30,52,亿元\n")
    assert ev.alerts == ()  # on track: no status alert
    assert Snapshot.from_evaluation(ev).alerts == ()
    [alert] = Snapshot.from_evaluation(ev, at_risk=True).alerts
    assert (alert.key, alert.kind, alert.status) == ("investment:at_risk", AT_RISK, AT_RISK)
    assert alert.message_zh.startswith("按当前进度，预计全年完成 86.67 亿元")

    text = "[notify]\nnotify_at_risk = true\n"
    settings = parse_settings(
        tomllib.loads(text)["notify"], source="notify.toml", base_dir=tmp_path
    )
    assert settings.notify_at_risk
    now = dt.datetime(2023, 7, 20, 9, tzinfo=dt.UTC)
    report = deliver(ev, settings, now=now, environ={})
    assert not report.failed
    box = mailbox.Maildir(tmp_path / ".targetkit" / "outbox", create=False)
    [key] = box.keys()
    message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "预计难以完成" in body.get_content()
    # without the setting the same evaluation sends nothing
    quiet = parse_settings({}, source="notify.toml", base_dir=tmp_path / "other")
    deliver(ev, quiet, now=now, environ={})
    assert not (tmp_path / "other" / ".targetkit" / "outbox").exists() or not list(
        mailbox.Maildir(tmp_path / "other" / ".targetkit" / "outbox", create=False).keys()
    )


def test_notify_at_risk_must_be_a_boolean() -> None:
    from targetkit.exceptions import ConfigError
    from targetkit.notify import parse_settings

    with pytest.raises(ConfigError, match="notify_at_risk"):
        parse_settings({"notify_at_risk": "yes"}, source="notify.toml")


# --------------------------------------------------------------------------- renderers


def _at_risk() -> tk.Evaluation:
    front = LAST_YEAR.replace("2022-06-30,40", "2022-06-30,60")
    return _investment(front + "investment,2023-06-30,52,亿元\n")


def test_the_terminal_table_lists_at_risk_targets() -> None:
    from targetkit.render.formats import render

    text = render(_at_risk(), "table", lang="zh")
    assert "● 达序时·预计难以完成" in text
    lines = text.splitlines()
    start = lines.index("预计难以完成：")
    assert lines[start + 1].startswith("  investment: 按当前进度，预计全年完成 86.67 亿元")
    en = render(_at_risk(), "table", lang="en")
    assert "at risk" in en
    assert "At risk (green now, forecast short):" in en.splitlines()
    assert "预计难以完成" not in render(_investment("investment,2023-06-30,52,亿元\n"), "table")


def test_the_report_has_a_forecast_column_and_an_at_risk_list() -> None:
    from targetkit.render.report import notebook_html, render_html, render_markdown

    ev = _at_risk()
    md = render_markdown(ev)
    assert "| 预计全年 |" in md.splitlines()[md.splitlines().index("## 二、各项目标完成情况") + 2]
    row = next(line for line in md.splitlines() if line.startswith("| 重点项目完成投资100亿元 |"))
    # one estimate on a 60% profile: ± 0.15 × (1 − 0.6) × 2 = 12% of 86.67
    assert row.endswith("| 86.67亿元（76.27–97.07） 预计难以完成 |")
    assert "以下 1 项目标目前达到序时进度，但按预计全年完成数难以完成（预计难以完成）：" in md
    html = render_html(ev)
    assert 'id="risk-investment"' in html
    assert "预计难以完成" in notebook_html(ev)
    assert "预计全年" in notebook_html(ev)


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match=r"end 2022-12-31 is before start 2023-01-01"):
        forecast_series([(D(2023, 6, 30), 1.0)], start=START, end=D(2022, 12, 31))


def test_nan_figures_are_ignored() -> None:
    made = forecast_series(
        [(D(2023, 3, 31), float("nan")), (D(2023, 6, 30), 44.0)], start=START, end=END
    )
    assert made is not None
    assert made.points == ((D(2023, 6, 30), 44.0),)
