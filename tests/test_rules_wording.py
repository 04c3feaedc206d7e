"""Every kind's sentence states the result's own status and figures (one judgement, one answer).

The status, the numbers and the sentence of a result come from the same verdict; these
properties check, over generated actuals and dates, that the words never tell a different story
from the columns: the status phrase matches the status, and the figures printed are the
result's own actual, expected progress and gap.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit import Status
from targetkit.rules import pct, qty, rule_kind

PLAN = tk.load(Path(__file__).parent / "data" / "every_kind.toml")
UNITS = {
    "flow": ["亿元", "万元"],
    "stock": ["家"],
    "level": ["%"],
    "rank": [""],
    "den": ["万元", "亿元"],
    "ms": [""],
    "ms2": [""],
    "energy": ["万吨"],
}

# What the Chinese sentence says for each status (any one of the phrases).
PHRASES = {
    Status.MET: ("已完成目标", "完成", "期末控制在上限以内"),
    Status.ON_TRACK: (
        "高于序时进度",
        "与序时进度持平",
        "目前达标",
        "不按序时进度考核",
        "未超序时进度",
        "尚未完成，期限",
    ),
    Status.BEHIND: ("低于序时进度", "尚未达到目标", "还有", "阶段", "快于序时进度"),
    Status.OFF_TRACK: ("低于序时进度", "差于基期水平", "已超出上限", "快于序时进度"),
    Status.MISSED: ("期末未完成目标", "已过", "晚于期限", "无法确认", "已超出上限"),
    Status.NO_DATA: ("尚无", "缺少", "没有同一日期", "无法计算"),
}
# phrases that belong to one status only
EXCLUSIVE = {
    "已完成目标": Status.MET,
    "期末未完成目标": Status.MISSED,
    "目前达标": Status.ON_TRACK,
    "差于基期水平": Status.OFF_TRACK,
    "尚未达到目标，但不差于基期": Status.BEHIND,
}


def _value(indicator: str, n: int) -> str:
    if indicator == "ms":
        return "done" if n % 3 else "0"
    if indicator == "ms2":
        return ("done", "0", "approved", "started")[n % 4]
    if indicator == "level":
        return str(n / 1000)
    if indicator == "rank":
        return str(n % 10 + 1)
    return str(n)


month_ends = st.builds(
    lambda y, m: dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1),
    st.sampled_from([2022, 2023]),
    st.integers(1, 12),
)
rows = st.lists(
    st.tuples(
        st.sampled_from(sorted(UNITS)),
        st.one_of(month_ends, st.dates(dt.date(2022, 12, 1), dt.date(2024, 1, 31))),
        st.integers(0, 4000),
        st.integers(0, 1),
    ),
    max_size=40,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(max_examples=100)
@given(rows, st.dates(dt.date(2023, 1, 1), dt.date(2024, 3, 31)))
def test_every_sentence_states_its_own_status_and_figures(
    data: list[tuple[str, dt.date, int, int]], as_of: dt.date
) -> None:
    frame = pd.DataFrame(
        [(i, d, _value(i, n), UNITS[i][pick % len(UNITS[i])]) for i, d, n, pick in data],
        columns=["indicator", "date", "value", "unit"],
    )
    evaluation = tk.evaluate(PLAN, tk.Actuals.from_frame(frame, PLAN), as_of=as_of)
    for r in evaluation.results:
        zh, en = r.message_zh, r.message_en
        phrases = PHRASES[r.status]
        if r.status is Status.ON_TRACK and r.gap_pp is not None and r.gap_pp < 0:
            phrases = (
                "低于序时进度",
            )  # within the plan's tolerance band (thresholds.on_track < 0)
        assert any(p in zh for p in phrases), (r.target, r.status, zh)
        for phrase, status in EXCLUSIVE.items():
            if phrase in zh:
                assert r.status is status, (r.target, r.status, zh)
        kind = rule_kind(r.rule_kind)
        assert kind is not None
        if r.status is Status.NO_DATA or kind.display.done_or_not:
            continue
        assert r.actual is not None
        assert qty(r.actual, r.unit) in zh, (r.target, r.actual, zh)
        assert qty(r.actual, r.unit) in en, (r.target, r.actual, en)
        if "已超出上限" in zh:
            continue  # an exceeded cap is told by the cap, not by the pace
        if r.expected is not None and r.status not in (Status.MET, Status.MISSED):
            assert pct(r.expected) in zh, (r.target, r.expected, zh)
            assert r.gap_pp is not None
            if abs(r.gap_pp) >= 0.05 and "未超序时进度" not in zh:  # a cap within pace
                assert f"{abs(r.gap_pp):.1f} " in zh, (r.target, r.gap_pp, zh)
                assert f"{abs(r.gap_pp):.1f} pp" in en, (r.target, r.gap_pp, en)


def test_the_plan_covers_every_built_in_kind() -> None:
    assert {t.rule.kind for t in PLAN.targets} == set(tk.rules.builtin_rule_kinds())
