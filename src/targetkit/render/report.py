"""Reports to look at: a self-contained HTML 通报, a Markdown 通报 and the notebook view.

Pure renderers: each takes an `Evaluation` and returns a string; nothing is read or written.

- `render_html` returns one complete HTML document in the layout of a monthly status report
  (通报): counts and shares per status, the indicator table (指标 | 年度目标 | 累计完成 | 完成率 |
  序时进度 | 差距(个百分点) | 状态 | 责任单位), the named list of lagging targets with their
  explanations, and a chart per target. CSS and SVG charts are inline; the document refers to
  nothing outside itself, so it opens offline, mails as an attachment and prints on A4.
- `render_markdown` returns the same 通报 as Markdown, for chat tools and e-mail bodies.
- `notebook_html` returns an HTML fragment for Jupyter (``_repr_html_``) of an evaluation or of
  one result.

Colour is never the only signal: every light comes with its status text and a shape
(● green, ▲ yellow, ■ red, ○ grey). Chinese text needs a CJK font on the reader's machine; the
font list below names the common ones (on Debian: ``apt-get install fonts-noto-cjk``).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from targetkit._version import __version__
from targetkit.actuals import Actuals
from targetkit.evaluation import Alert, Evaluation, TargetResult, set_view
from targetkit.model import Light, Plan, Status, Target
from targetkit.rules import Kind, RuleKind, Shown, fmt, rule_kind
from targetkit.trajectory import Trajectory, trajectories

__all__ = ["LANGUAGES", "notebook_html", "parts_svg", "render_html", "render_markdown"]

LANGUAGES = ("zh", "en")

MARKS = {Light.GREEN: "●", Light.YELLOW: "▲", Light.RED: "■", Light.GREY: "○"}

# Fonts that hold Chinese glyphs, most common first; the browser takes the first one installed.
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "Source Han Sans CN", '
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", '
    '"WenQuanYi Zen Hei", "Droid Sans Fallback", sans-serif'
)

# Colours: fills for bars and markers (≥ 3:1 on white), and ink on tinted badges (≥ 4.5:1).
_FILL = {
    Light.GREEN: "#1a7f37",
    Light.YELLOW: "#9a6700",
    Light.RED: "#cf222e",
    Light.GREY: "#6e7781",
}
_INK = {
    Light.GREEN: "#116329",
    Light.YELLOW: "#7d4e00",
    Light.RED: "#a40e26",
    Light.GREY: "#424a53",
}
_TINT = {
    Light.GREEN: "#dafbe1",
    Light.YELLOW: "#fff8c5",
    Light.RED: "#ffebe9",
    Light.GREY: "#eaeef2",
}
_LAGGING = (Status.OFF_TRACK, Status.MISSED, Status.BEHIND)
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "doc_title": "{plan}目标进展情况通报",
        "as_of": "数据截至{date}",
        "period": "计划期 {start} 至 {end}",
        "h_overview": "一、总体情况",
        "h_table": "二、各项目标完成情况",
        "h_lagging": "三、滞后目标",
        "h_charts": "四、分项走势",
        "h_notes": "说明",
        "lead": "{plan}共有量化目标 {n} 项。截至{date}，",
        "count_share": "{label} {n} 项（占 {share}）",
        "caption": "表1 各项目标完成情况（截至 {date}）",
        "cols": "指标|年度目标|累计完成|完成率|序时进度|差距(个百分点)|状态|责任单位|预计全年",
        "at_risk_intro": "以下 {n} 项目标目前达到序时进度，但按预计全年完成数难以完成（预计难以完成）：",
        "at_risk": "预计难以完成",
        "lagging_intro": "以下 {n} 项目标滞后于序时进度或未完成，请责任单位加快推进：",
        "lagging_none": "截至{date}，没有滞后或未完成的目标。",
        "no_data": "暂无数据（{n} 项）",
        "overdue": "数据报送提醒",
        "owner": "责任单位",
        "aspirational": "力争",
        "done": "已完成",
        "not_done": "未完成",
        "done_on": "已完成（{date}）",
        "by": "{date}前完成",
        "rank_target": "前{v}位",
        "rank_actual": "第{v}位",
        "above_base": "高于基期{v}",
        "at_most": "不超过{v}",
        "net": "净增{v}",
        "growth": "增长{v}",
        "change": "提高{v}",
        "stretch": "（力争{v}）",
        "legend_actual": "实际",
        "legend_pace": "序时进度",
        "legend_target": "目标",
        "legend_baseline": "基期",
        "as_of_short": "截至",
        "deadline": "期限",
        "unit": "单位：{unit}",
        "no_data_chart": "暂无数据",
        "chart_desc": "{title}：{points}",
        "chart_none": "暂无数据",
        "notes": (
            "序时进度：数据所属期末按计划应完成的比例（默认按整月计，1–N月累计对应 N/12；"
            "个别目标按天数或自定进度表计）。|"
            "差距 = 完成率 − 序时进度，单位为个百分点，负数表示落后；占比、增速等水平类目标不按序时"
            "进度考核，差距为实际值与目标值之差。|"
            "状态：● 已完成、达序时（绿）；▲ 滞后，落后序时进度 {band} 个百分点以内（黄）；"
            "■ 严重滞后、未完成（红）；○ 无数据（灰）。|"
            "图中折线为实际值，虚线为序时进度，点线为目标值；点的形状和颜色表示当时的状态。"
        ),
        "source": "依据：{source}",
        "count_list": "目标状态统计",
        "colon": "：",
        "semi": "；",
        "lp": "（",
        "rp": "）",
    },
    "en": {
        "doc_title": "{plan}: progress report",
        "as_of": "Data as of {date}",
        "period": "Plan period {start} to {end}",
        "h_overview": "1. Overview",
        "h_table": "2. Targets",
        "h_lagging": "3. Targets behind",
        "h_charts": "4. Progress charts",
        "h_notes": "Notes",
        "lead": "{plan} has {n} quantified targets. As of {date}: ",
        "count_share": "{label} {n} ({share})",
        "caption": "Table 1. Targets as of {date}",
        "cols": "Indicator|Target|Actual to date|Completion|Expected (pace)|Gap (pp)|Status|Responsible unit|Year-end forecast",
        "at_risk_intro": "Targets on pace now whose year-end forecast falls short (at risk, {n}):",
        "at_risk": "at risk",
        "lagging_intro": "Targets behind pace or missed ({n}):",
        "lagging_none": "As of {date}, no target is behind or missed.",
        "no_data": "No data yet ({n})",
        "overdue": "Figures overdue",
        "owner": "responsible unit",
        "aspirational": "aspirational",
        "done": "done",
        "not_done": "not done",
        "done_on": "done ({date})",
        "by": "by {date}",
        "rank_target": "top {v}",
        "rank_actual": "rank {v}",
        "above_base": "above baseline {v}",
        "at_most": "at most {v}",
        "net": "net +{v}",
        "growth": "growth {v}",
        "change": "+{v}",
        "stretch": " (stretch {v})",
        "legend_actual": "actual",
        "legend_pace": "expected pace",
        "legend_target": "target",
        "legend_baseline": "baseline",
        "as_of_short": "as of",
        "deadline": "deadline",
        "unit": "unit: {unit}",
        "no_data_chart": "no data yet",
        "chart_desc": "{title}: {points}",
        "chart_none": "no data yet",
        "notes": (
            "Expected progress (pace): the share of the target due by the end of the period a "
            "figure covers (by default whole months: Jan–N cumulative → N/12; some targets use "
            "days or a schedule).|"
            "Gap = completion − expected progress, in percentage points; negative is behind. "
            "Levels (shares, rates) are not pro-rated; their gap is the distance to the target.|"
            "Status: ● met, on track (green); ▲ behind, within {band} pp of pace (yellow); "
            "■ off track, missed (red); ○ no data (grey).|"
            "In the charts the solid line is the actual value, the dashed line the expected pace, "
            "the dotted line the target; the marker's shape and colour give the status then."
        ),
        "source": "Source: {source}",
        "count_list": "Targets by status",
        "colon": ": ",
        "semi": "; ",
        "lp": " (",
        "rp": ")",
    },
}


# --------------------------------------------------------------------------- text helpers


def _t(lang: str) -> dict[str, str]:
    try:
        return _TEXT[lang]
    except KeyError:
        raise ValueError(
            f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}"
        ) from None


def _e(text: object) -> str:
    """Escape any text for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


def _label(status: Status, lang: str) -> str:
    return status.label_zh if lang == "zh" else status.label_en


def _qty(value: float, unit: str, lang: str) -> str:
    """Format a value with its unit: '3000人' in Chinese, '3000 人' in English, '20%' in both."""
    if not unit:
        return fmt(value)
    sep = "" if lang == "zh" or unit in ("%", "‰") else " "
    return f"{fmt(value)}{sep}{unit}"


def _pct(fraction: float | None) -> str:
    return "—" if fraction is None else f"{100 * fraction:.1f}%"


def _gap(gap: float | None) -> str:
    """Format a gap in points with its sign; a gap that rounds to zero shows as 0.0."""
    if gap is None:
        return "—"
    return "0.0" if abs(gap) < 0.05 else f"{gap:+.1f}"


def _long_date(d: dt.date, lang: str) -> str:
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


def _short_date(d: dt.date, lang: str, *, year: int | None = None) -> str:
    """Name a date briefly: '6月30日' (or '2023年6月30日' when not in ``year``)."""
    if lang == "zh":
        text = f"{d.month}月{d.day}日"
        return text if d.year == year else f"{d.year}年{text}"
    text = f"{d.day} {_MONTHS_EN[d.month - 1]}"
    return text if d.year == year else f"{text} {d.year}"


def _plan_target(plan: Plan | None, target_id: str) -> Target | None:
    if plan is None:
        return None
    try:
        return plan.target(target_id)
    except KeyError:
        return None


def _owner(result: TargetResult, plan: Plan | None) -> str:
    """Return the responsible unit: the target's owner, else the plan's issuer (who owns its plan)."""
    return result.owner or (plan.issuer if plan is not None else "") or "—"


def _shown(result: TargetResult, plan: Plan | None, lang: str, year: int | None) -> Shown:
    target = _plan_target(plan, result.target)
    return Shown(
        rule=target.rule if target is not None else None,
        lang=lang,
        value=result.target_value,
        actual=result.actual,
        unit=result.unit,
        stretch=result.stretch_value,
        deadline=result.deadline,
        observed=result.observed_on,
        completion=result.completion,
        qty=lambda v, u: _qty(v, u, lang),
        date=lambda d: _short_date(d, lang, year=year),
        words=_t(lang),
    )


def _kind(result: TargetResult) -> RuleKind:
    return rule_kind(result.rule_kind) or _PLAIN


class _PlainKind(Kind[Any]):
    """How a result shows whose kind is not registered here (numbers as they are)."""

    name = ""
    fields = ()


_PLAIN = _PlainKind()


def _target_text(
    result: TargetResult, plan: Plan | None, lang: str, year: int | None = None
) -> str:
    """Describe what the target asks for, in the words of a 通报's 年度目标 column.

    Dates in ``year`` are written without it.
    """
    return _kind(result).show_target(_shown(result, plan, lang, year))


def _actual_text(
    result: TargetResult, lang: str, year: int | None = None, plan: Plan | None = None
) -> str:
    return _kind(result).show_actual(_shown(result, plan, lang, year))


def _counts(evaluation: Evaluation) -> list[tuple[Status, int, float]]:
    total = len(evaluation.results)
    counts = evaluation.summary
    return [
        (s, counts[s.value], counts[s.value] / total if total else 0.0)
        for s in Status  # the order of DESIGN's status table: met, on_track, behind, …
    ]


def _share(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def _lead(evaluation: Evaluation, lang: str) -> str:
    """Return the 通报's opening sentence: how many targets, and how many in each status."""
    t = _t(lang)
    parts = [
        t["count_share"].format(label=_label(s, lang), n=n, share=_share(f))
        for s, n, f in _counts(evaluation)
        if n
    ]
    head = t["lead"].format(
        plan=evaluation.plan.title,
        n=len(evaluation.results),
        date=_long_date(evaluation.as_of, lang),
    )
    sep = "，" if lang == "zh" else ", "
    end = "。" if lang == "zh" else "."
    return head + sep.join(parts) + end


def _sections(results: Sequence[TargetResult], plan: Plan) -> list[tuple[str, list[TargetResult]]]:
    """Group results into runs of the same plan section, keeping plan order."""
    groups: list[tuple[str, list[TargetResult]]] = []
    for r in results:
        target = _plan_target(plan, r.target)
        section = target.section if target is not None else ""
        if groups and groups[-1][0] == section:
            groups[-1][1].append(r)
        else:
            groups.append((section, [r]))
    return groups


# --------------------------------------------------------------------------- SVG pieces


def _num(x: float) -> str:
    """Format an SVG coordinate briefly."""
    return f"{x:.1f}".removesuffix(".0")


def _progress_bar(result: TargetResult, *, width: int = 96, height: int = 10) -> str:
    """Return a small bar: completion filled in the light's colour, a tick at expected progress.

    Decorative (aria-hidden): the numbers next to it carry the same information.
    """
    if result.completion is None:
        return ""
    done = min(max(result.completion, 0.0), 1.0)
    fill = _FILL[result.light]
    parts = [
        f'<svg class="bar" width="{width}" height="{height + 6}" viewBox="0 0 {width} {height + 6}"'
        ' aria-hidden="true" focusable="false">',
        f'<rect x="0.5" y="3.5" width="{width - 1}" height="{height - 1}" rx="2" fill="#eaeef2"'
        ' stroke="#8c959f" stroke-width="1"/>',
    ]
    if done > 0:
        parts.append(
            f'<rect x="0.5" y="3.5" width="{_num(max((width - 1) * done, 1.5))}" '
            f'height="{height - 1}" rx="2" fill="{fill}"/>'
        )
    if result.completion > 1.0:
        parts.append(
            f'<path d="M{width - 7} 5.5 l4 {(height - 5) / 2} l-4 {(height - 5) / 2}" '
            'fill="none" stroke="#ffffff" stroke-width="1.6"/>'
        )
    if result.expected is not None:
        x = 0.5 + (width - 1) * min(max(result.expected, 0.0), 1.0)
        parts.append(
            f'<path d="M{_num(x)} 1 v{height + 4}" stroke="#1f2328" stroke-width="2"/>'
            f'<path d="M{_num(x - 3)} 0 h6 l-3 3 z" fill="#1f2328"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _status_strip(evaluation: Evaluation) -> str:
    """Return one bar split by status, with the counts; decorative beside the written counts."""
    width, height = 600, 22
    total = len(evaluation.results) or 1
    x = 0.0
    parts = [
        f'<svg class="strip" viewBox="0 0 {width} {height}" preserveAspectRatio="none"'
        ' aria-hidden="true" focusable="false">'
    ]
    for status, n, _ in _counts(evaluation):
        if not n:
            continue
        w = width * n / total
        light = status.light
        # Two statuses share a light (met/on_track, off_track/missed): the second is lighter.
        opacity = "0.72" if status in (Status.ON_TRACK, Status.MISSED) else "1"
        parts.append(
            f'<rect x="{_num(x)}" y="0" width="{_num(w)}" height="{height}" '
            f'fill="{_FILL[light]}" fill-opacity="{opacity}" stroke="#ffffff" stroke-width="1.5"/>'
        )
        if w >= 22:
            parts.append(
                f'<text x="{_num(x + w / 2)}" y="{height / 2 + 4.5}" text-anchor="middle" '
                f'fill="#ffffff" font-size="13" font-weight="700">{n}</text>'
            )
        x += w
    parts.append("</svg>")
    return "".join(parts)


def _nice_ticks(lo: float, hi: float, count: int = 4, *, integer: bool = False) -> list[float]:
    """Return round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 times a power of 10)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    if integer:
        step = max(1.0, math.ceil(step))
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    n = round((last - first) / step)
    return [first + i * step for i in range(n + 1)]


def _month_ticks(x0: dt.date, x1: dt.date) -> list[dt.date]:
    """Return month ends between x0 and x1, every 1, 2, 3, 6 or 12 months (at most 6 of them)."""
    return list(_month_ticks_of(x0, x1))


@functools.lru_cache(maxsize=1024)
def _month_ticks_of(x0: dt.date, x1: dt.date) -> tuple[dt.date, ...]:
    """`_month_ticks`, worked out once per period (most charts of a plan share theirs)."""
    ends: list[dt.date] = []
    year, month = x0.year, x0.month
    while True:
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        last = nxt - dt.timedelta(days=1)
        if last > x1:
            break
        if last > x0:
            ends.append(last)
        year, month = nxt.year, nxt.month
    for every in (1, 3, 6, 12, 24, 60):
        picked = [d for d in ends if d.month % every == 0 or (every > 12 and d.month == 12)]
        if every > 12:
            picked = picked[:: every // 12]
        if len(picked) <= 6:
            return tuple(picked)
    return tuple(ends[-1:])


def _tick_label(d: dt.date, lang: str, *, multi_year: bool) -> str:
    if lang == "zh":
        return f"{d.year % 100:02d}年{d.month}月" if multi_year else f"{d.month}月"
    return (
        f"{_MONTHS_EN[d.month - 1]} {d.year % 100:02d}" if multi_year else _MONTHS_EN[d.month - 1]
    )


def _marker(x: float, y: float, light: Light, size: float = 4.2) -> str:
    """Draw a status marker: circle green, triangle yellow, square red, hollow circle grey."""
    fill, stroke = _FILL[light], "#ffffff"
    if light is Light.YELLOW:
        s = size * 1.25
        return (
            f'<path d="M{_num(x)} {_num(y - s)} L{_num(x + s)} {_num(y + s * 0.8)} '
            f'L{_num(x - s)} {_num(y + s * 0.8)} Z" fill="{fill}" stroke="{stroke}" stroke-width="1"/>'
        )
    if light is Light.RED:
        s = size * 0.95
        return (
            f'<rect x="{_num(x - s)}" y="{_num(y - s)}" width="{_num(2 * s)}" height="{_num(2 * s)}"'
            f' fill="{fill}" stroke="{stroke}" stroke-width="1"/>'
        )
    if light is Light.GREY:
        return (
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(size)}" fill="#ffffff" '
            f'stroke="{fill}" stroke-width="1.8"/>'
        )
    return (
        f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(size)}" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="1"/>'
    )


_W, _H = 340, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 12, 40, 24


def _legend(items: Sequence[tuple[str, str]], y: float = 12) -> str:
    """Draw legend entries (label, SVG sample) in one row at the top of a chart."""
    return _legend_of(tuple(items), y)


@functools.lru_cache(maxsize=256)
def _legend_of(items: tuple[tuple[str, str], ...], y: float) -> str:
    """`_legend`, drawn once per set of entries (charts of one kind share theirs)."""
    parts, x = [], float(_LEFT)
    for label, sample in items:
        parts.append(f'<g transform="translate({_num(x)} {_num(y)})">{sample}')
        parts.append(f'<text x="22" y="4" font-size="11" fill="#424a53">{_e(label)}</text></g>')
        x += 30 + 11 * _text_width(label)
    return "".join(parts)


def _text_width(text: str) -> float:
    """Return a text's width in em: CJK characters are one em, others about half."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.56 for ch in text)


_ACTUAL_COLOUR = "#0a3069"
_PACE_COLOUR = "#57606a"
_TARGET_COLOUR = "#1f2328"
_BASE_COLOUR = "#8c959f"


def _chart_svg(tr: Trajectory, lang: str, chart_id: str) -> str:
    """Draw one target's chart: actual values over time against pace curve and target line."""
    if tr.is_milestone:
        return _milestone_svg(tr, lang, chart_id)
    t = _t(lang)
    x0 = tr.start - dt.timedelta(days=1)
    x1 = max([tr.deadline, *(p.date for p in tr.points)])
    span = max((x1 - x0).days, 1)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(d: dt.date) -> float:
        return _LEFT + plot_w * (d - x0).days / span

    values = [p.actual for p in tr.points]
    if tr.target_value is not None:
        values.append(tr.target_value)
    if tr.baseline is not None:
        values.append(tr.baseline)
    # Ranks, and small counts (家, 人, 项 …), get whole-number ticks.
    integer = tr.ordinal or (
        bool(values)
        and all(float(v).is_integer() for v in values)
        and max(values) - min([0.0, *values]) <= 10
    )
    if tr.from_zero or tr.pace:
        values.append(0.0)
    if tr.ordinal:
        values.append(1.0)  # the best rank heads the axis
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if not tr.ordinal and not tr.from_zero and not tr.pace:
        pad = (hi - lo) * 0.15 or abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    ticks = _nice_ticks(lo, hi, integer=integer)
    # Without a value or a target there is no value axis to draw, only the period.
    grid = ticks if tr.points or tr.target_value is not None else []
    y_lo, y_hi = ticks[0], ticks[-1]

    def y(v: float) -> float:
        frac = (v - y_lo) / (y_hi - y_lo)
        return _TOP + plot_h * (frac if tr.lower_is_better else 1 - frac)

    title_id, desc_id = f"{chart_id}-t", f"{chart_id}-d"
    out = [
        f'<svg class="chart-svg" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-labelledby="{_e(title_id)} {_e(desc_id)}">',
        f'<title id="{_e(title_id)}">{_e(tr.title)}</title>',
        f'<desc id="{_e(desc_id)}">{_e(_chart_description(tr, lang))}</desc>',
    ]
    # grid and value axis
    for v in grid:
        yy = y(v)
        out.append(
            f'<path d="M{_LEFT} {_num(yy)} H{_W - _RIGHT}" stroke="#d8dee4" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_LEFT - 5}" y="{_num(yy + 3.5)}" text-anchor="end" font-size="11" '
            f'fill="#57606a">{_e(fmt(v))}</text>'
        )
    # time axis
    multi_year = x1.year != x0.year + 1 or x0.month != 12
    out.append(
        f'<path d="M{_LEFT} {_TOP + plot_h} H{_W - _RIGHT}" stroke="#8c959f" stroke-width="1"/>'
    )
    for d in _month_ticks(x0, x1):
        xx = x(d)
        out.append(
            f'<path d="M{_num(xx)} {_TOP + plot_h} v4" stroke="#8c959f" stroke-width="1"/>'
            f'<text x="{_num(xx)}" y="{_TOP + plot_h + 15}" text-anchor="middle" font-size="11"'
            f' fill="#57606a">{_e(_tick_label(d, lang, multi_year=multi_year))}</text>'
        )
    if tr.unit:
        out.append(
            f'<text x="4" y="{_TOP - 8}" font-size="11" fill="#57606a">'
            f"{_e(t['unit'].format(unit=tr.unit))}</text>"
        )
    legend: list[tuple[str, str]] = []
    # as-of line
    if x0 <= tr.as_of <= x1:
        xa = x(tr.as_of)
        out.append(
            f'<path d="M{_num(xa)} {_TOP} V{_TOP + plot_h}" stroke="#afb8c1" stroke-width="1"/>'
            f'<text x="{_num(xa - 3)}" y="{_TOP + 9}" text-anchor="end" font-size="10.5" '
            f'fill="#57606a">{_e(t["as_of_short"])}</text>'
        )
    # An "increase" target's value is its baseline: one line says both.
    if tr.baseline is not None and tr.baseline != tr.target_value:
        yb = y(tr.baseline)
        out.append(
            f'<path d="M{_LEFT} {_num(yb)} H{_W - _RIGHT}" stroke="{_BASE_COLOUR}" '
            'stroke-width="1.4" stroke-dasharray="7 3 2 3" fill="none"/>'
        )
        legend.append(
            (
                t["legend_baseline"],
                f'<path d="M0 0 H18" stroke="{_BASE_COLOUR}" stroke-width="1.4" '
                'stroke-dasharray="7 3 2 3"/>',
            )
        )
    if tr.target_value is not None:
        yt = y(tr.target_value)
        out.append(
            f'<path d="M{_LEFT} {_num(yt)} H{_W - _RIGHT}" stroke="{_TARGET_COLOUR}" '
            'stroke-width="1.4" stroke-dasharray="2 3" fill="none"/>'
        )
        legend.append(
            (
                t["legend_target"],
                f'<path d="M0 0 H18" stroke="{_TARGET_COLOUR}" stroke-width="1.4" '
                'stroke-dasharray="2 3"/>',
            )
        )
    if tr.pace and tr.target_value is not None:
        pts = " ".join(
            f"{_num(x(d))},{_num(y(f * tr.target_value))}" for d, f in tr.pace if d <= x1
        )
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{_PACE_COLOUR}" stroke-width="1.5" '
            'stroke-dasharray="5 3"/>'
        )
        legend.append(
            (
                t["legend_pace"],
                f'<path d="M0 0 H18" stroke="{_PACE_COLOUR}" stroke-width="1.5" '
                'stroke-dasharray="5 3"/>',
            )
        )
    if tr.points:
        pts = " ".join(f"{_num(x(p.date))},{_num(y(p.actual))}" for p in tr.points)
        out.append(
            f'<polyline class="actual" points="{pts}" fill="none" stroke="{_ACTUAL_COLOUR}" '
            'stroke-width="2" stroke-linejoin="round"/>'
        )
        out.extend(_marker(x(p.date), y(p.actual), p.status.light) for p in tr.points)
        last = tr.points[-1]
        label = fmt(last.actual) if tr.ordinal else _qty(last.actual, tr.unit, lang)
        lx = x(last.date)
        anchor = "end" if lx > _LEFT + plot_w * 0.7 else "start"
        dx = -7 if anchor == "end" else 7
        ly = y(last.actual) + (14 if y(last.actual) < _TOP + 14 else -7)
        out.append(
            f'<text x="{_num(lx + dx)}" y="{_num(ly)}" text-anchor="{anchor}" font-size="11" '
            f'font-weight="700" fill="{_ACTUAL_COLOUR}">{_e(label)}</text>'
        )
        legend.insert(
            0,
            (
                t["legend_actual"],
                f'<path d="M0 0 H18" stroke="{_ACTUAL_COLOUR}" stroke-width="2"/>'
                f'<circle cx="9" cy="0" r="3" fill="{_ACTUAL_COLOUR}"/>',
            ),
        )
    else:
        out.append(
            f'<text x="{_LEFT + plot_w / 2}" y="{_TOP + plot_h / 2}" text-anchor="middle" '
            f'font-size="13" fill="#57606a">{_e(t["no_data_chart"])}</text>'
        )
    out.append(_legend(legend))
    out.append("</svg>")
    return "".join(out)


def _milestone_svg(tr: Trajectory, lang: str, chart_id: str) -> str:
    """Draw a milestone as a timeline: the period, the deadline, the day it was done (if)."""
    t = _t(lang)
    height = 96
    x0 = tr.start - dt.timedelta(days=1)
    x1 = max(d for d in (tr.deadline, tr.done_on or tr.deadline, tr.start))
    span = max((x1 - x0).days, 1)
    plot_w = _W - _LEFT - _RIGHT

    def x(d: dt.date) -> float:
        return _LEFT + plot_w * min(max((d - x0).days, 0), span) / span

    axis_y = 52
    title_id, desc_id = f"{chart_id}-t", f"{chart_id}-d"
    out = [
        f'<svg class="chart-svg milestone" viewBox="0 0 {_W} {height}" role="img" '
        f'aria-labelledby="{_e(title_id)} {_e(desc_id)}">',
        f'<title id="{_e(title_id)}">{_e(tr.title)}</title>',
        f'<desc id="{_e(desc_id)}">{_e(_chart_description(tr, lang))}</desc>',
        f'<path d="M{_LEFT} {axis_y} H{_W - _RIGHT}" stroke="#8c959f" stroke-width="2"/>',
    ]
    multi_year = x1.year != x0.year + 1 or x0.month != 12
    for d in _month_ticks(x0, x1):
        xx = x(d)
        out.append(
            f'<path d="M{_num(xx)} {axis_y} v4" stroke="#8c959f" stroke-width="1"/>'
            f'<text x="{_num(xx)}" y="{axis_y + 16}" text-anchor="middle" font-size="11" '
            f'fill="#57606a">{_e(_tick_label(d, lang, multi_year=multi_year))}</text>'
        )
    xd = x(tr.deadline)
    out.append(
        f'<path d="M{_num(xd)} {axis_y - 16} V{axis_y + 4}" stroke="{_TARGET_COLOUR}" '
        'stroke-width="1.6" stroke-dasharray="2 2"/>'
        f'<text x="{_num(xd)}" y="{axis_y - 20}" text-anchor="end" font-size="11" '
        f'fill="{_TARGET_COLOUR}">{_e(t["deadline"])} {_e(tr.deadline.isoformat())}</text>'
    )
    if x0 <= tr.as_of <= x1 and tr.done_on is None:
        xa = x(tr.as_of)
        out.append(
            f'<path d="M{_num(xa)} {axis_y - 10} V{axis_y + 10}" stroke="#afb8c1" '
            'stroke-width="1"/>'
        )
    if tr.done_on is not None:
        xdn = x(tr.done_on)
        light = Light.GREEN if tr.done_on <= tr.deadline else Light.RED
        out.append(_marker(xdn, axis_y, light, size=6))
        anchor = "start" if xdn < _LEFT + plot_w * 0.6 else "end"
        out.append(
            f'<text x="{_num(xdn + (9 if anchor == "start" else -9))}" y="{axis_y - 9}" '
            f'text-anchor="{anchor}" font-size="11" font-weight="700" fill="{_INK[light]}">'
            f"{_e(t['done'])} {_e(tr.done_on.isoformat())}</text>"
        )
    else:
        xa = x(min(tr.as_of, x1))
        out.append(_marker(xa, axis_y, tr.status.light, size=6))
        out.append(
            f'<text x="{_num(xa + 9 if xa < _LEFT + plot_w * 0.6 else xa - 9)}" '
            f'y="{axis_y - 9}" text-anchor="{"start" if xa < _LEFT + plot_w * 0.6 else "end"}" '
            f'font-size="11" font-weight="700" fill="{_INK[tr.status.light]}">'
            f"{_e(t['not_done'])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _chart_description(tr: Trajectory, lang: str) -> str:
    """Say in words what a chart shows: every point with its date, value and status."""
    t = _t(lang)
    if tr.is_milestone:
        state = (
            t["done_on"].format(date=tr.done_on.isoformat())
            if tr.done_on is not None
            else t["not_done"]
        )
        points = f"{t['deadline']} {tr.deadline.isoformat()}; {state}"
    elif tr.points:
        sep = "；" if lang == "zh" else "; "
        points = sep.join(
            f"{p.date.isoformat()} {_qty(p.actual, tr.unit, lang)} ({_label(p.status, lang)})"
            for p in tr.points
        )
        if tr.target_value is not None:
            points += f"{sep}{t['legend_target']} {_qty(tr.target_value, tr.unit, lang)}"
    else:
        points = t["chart_none"]
    return t["chart_desc"].format(title=tr.title, points=points)


# --------------------------------------------------------------------------- HTML report

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
html { background: #ffffff; }
body { margin: 0 auto; padding: 24px 28px 40px; max-width: 1060px; color: #1f2328;
  background: #ffffff; font-family: %(font)s; font-size: 14px; line-height: 1.6; }
header.masthead { border-bottom: 3px solid #a40e26; padding-bottom: 10px; margin-bottom: 18px; }
.issuer { margin: 0; color: #a40e26; font-size: 15px; font-weight: 700; letter-spacing: 0.08em; }
h1 { margin: 6px 0 4px; font-size: 24px; line-height: 1.35; }
.meta { margin: 0; color: #424a53; }
h2 { font-size: 18px; margin: 26px 0 10px; padding-left: 8px; border-left: 4px solid #a40e26;
  break-after: avoid; }
h3 { font-size: 15px; margin: 16px 0 6px; break-after: avoid; }
p.lead { margin: 0 0 12px; }
ul.counts { list-style: none; margin: 10px 0; padding: 0; display: flex; flex-wrap: wrap; gap: 8px; }
ul.counts li { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px 10px; flex: 1 1 0;
  min-width: 92px; white-space: nowrap; }
ul.counts .n { font-size: 20px; font-weight: 700; margin-left: 4px; }
ul.counts .share { display: block; color: #424a53; font-size: 12px; }
ul.counts li.zero { color: #57606a; border-style: dashed; }
svg.strip { display: block; width: 100%%; height: 22px; margin: 6px 0 4px; }
.badge { display: inline-block; white-space: nowrap; border-radius: 4px; padding: 0 6px;
  font-weight: 700; font-size: 13px; border: 1px solid currentColor; }
.l-green { color: #116329; background: #dafbe1; }
.l-yellow { color: #7d4e00; background: #fff8c5; }
.l-red { color: #a40e26; background: #ffebe9; }
.l-grey { color: #424a53; background: #eaeef2; }
ul.counts li.l-green, ul.counts li.l-yellow, ul.counts li.l-red, ul.counts li.l-grey {
  border-color: currentColor; }
ul.counts li.zero { background: #ffffff; color: #57606a; border-color: #d0d7de; }
table.indicators { width: 100%%; border-collapse: collapse; font-size: 13px;
  font-variant-numeric: tabular-nums; }
table.indicators caption { caption-side: top; text-align: left; font-weight: 700;
  padding: 0 0 6px; }
table.indicators th, table.indicators td { border: 1px solid #d0d7de; padding: 4px 6px;
  vertical-align: middle; }
table.indicators thead th { background: #f6f8fa; font-weight: 700; text-align: center; }
table.indicators tbody th[scope=row] { text-align: left; font-weight: 400; }
table.indicators tbody th[scope=rowgroup] { text-align: left; background: #f6f8fa;
  font-weight: 700; }
td.num { text-align: right; white-space: nowrap; }
td.status, td.owner { text-align: center; }
td.owner { min-width: 5.5em; }
td.gap.neg { color: #a40e26; font-weight: 700; }
.tid { display: block; color: #57606a; font-size: 11px; }
.asp { color: #57606a; font-size: 11px; border: 1px solid #afb8c1; border-radius: 3px;
  padding: 0 3px; margin-left: 4px; white-space: nowrap; }
.obs { display: block; color: #57606a; font-size: 11px; }
svg.bar { display: block; margin: 2px 0 0 auto; }
thead { display: table-header-group; }
tr, li, figure { break-inside: avoid; }
ol.lagging { padding-left: 1.6em; }
ol.lagging li { margin: 0 0 8px; }
ol.lagging .why { display: block; color: #1f2328; }
ol.lagging .who { color: #424a53; font-size: 13px; }
.silenced { display: inline-block; color: #57606a; font-size: 12px; margin-left: 4px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
figure.chart { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px;
  display: flex; flex-direction: column; }
figure.chart svg.chart-svg { margin-top: auto; }
figure.chart figcaption { font-size: 13px; margin-bottom: 4px; }
figure.chart figcaption .msg { display: block; color: #424a53; font-size: 12px; }
svg.chart-svg { display: block; width: 100%%; height: auto;
  font-family: %(font)s; }
figure.parts-chart { margin: 8px 0 14px; max-width: 720px; }
svg.parts-svg { display: block; width: 100%%; height: auto; font-family: %(font)s; }
footer { margin-top: 28px; border-top: 1px solid #d0d7de; padding-top: 8px; color: #424a53;
  font-size: 12px; }
footer ul { padding-left: 1.2em; margin: 4px 0; }
@page { size: A4 portrait; margin: 14mm 12mm 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h1 { font-size: 18pt; }
  h2 { font-size: 13pt; margin-top: 14pt; }
  table.indicators { font-size: 8pt; }
  ul.counts li { padding: 2pt 6pt; min-width: 0; }
  ul.counts .n { font-size: 13pt; }
  table.indicators th, table.indicators td { padding: 2pt 3pt; }
  .badge { font-size: 8pt; padding: 0 3pt; }
  svg.bar { width: 64px; }
  .charts { grid-template-columns: 1fr 1fr; gap: 8pt; }
  figure.chart { padding: 4pt 6pt; }
  section.charts-section { break-before: page; }
}
"""


def _badge(status: Status, lang: str) -> str:
    light = status.light
    return (
        f'<span class="badge l-{light.value}" data-status="{status.value}">'
        f"{MARKS[light]} {_e(_label(status, lang))}</span>"
    )


def _html_counts(evaluation: Evaluation, lang: str) -> str:
    t = _t(lang)
    items = []
    for status, n, share in _counts(evaluation):
        cls = f"l-{status.light.value}" if n else "zero"
        items.append(
            f'<li class="{cls}" data-status="{status.value}">'
            f'<span class="mark" aria-hidden="true">{MARKS[status.light]}</span> '
            f'<span class="label">{_e(_label(status, lang))}</span>'
            f'<span class="n">{n}</span>{"项" if lang == "zh" else ""}'
            f'<span class="share">{_e(_share(share))}</span></li>'
        )
    return f'<ul class="counts" aria-label="{_e(t["count_list"])}">{"".join(items)}</ul>'


def _observed(result: TargetResult, as_of: dt.date, lang: str) -> str:
    if result.observed_on is None or _kind(result).display.done_or_not:
        return ""
    return f'<span class="obs">{_e(_short_date(result.observed_on, lang, year=as_of.year))}</span>'


Silenced = Mapping[str, tuple[dt.date, str]]
"""Targets whose alerts are silenced: target id → (until, reason)."""


def _silence_label(target: str, silenced: Silenced | None, lang: str) -> str:
    """Return ``已静默至 DATE（reason）`` for a silenced target, else an empty string."""
    if not silenced or target not in silenced:
        return ""
    until, reason = silenced[target]
    if lang == "zh":
        return f"已静默至 {until.isoformat()}（{reason}）"
    return f"silenced until {until.isoformat()} ({reason})"


def _silence_html(target: str, silenced: Silenced | None, lang: str) -> str:
    label = _silence_label(target, silenced, lang)
    return f'<span class="silenced">{_e(label)}</span>' if label else ""


def _table_row(
    result: TargetResult, plan: Plan, as_of: dt.date, lang: str, silenced: Silenced | None = None
) -> str:
    t = _t(lang)
    target = _plan_target(plan, result.target)
    asp = (
        f'<span class="asp">{_e(t["aspirational"])}</span>'
        if target is not None and not target.binding
        else ""
    )
    gap_cls = "gap neg" if result.gap_pp is not None and result.gap_pp <= -0.05 else "gap"
    return (
        f'<tr id="row-{_e(result.target)}" data-target="{_e(result.target)}" '
        f'data-status="{result.status.value}">'
        f'<th scope="row">{_e(result.title)}{asp}<span class="tid">{_e(result.target)}</span></th>'
        f'<td class="num">{_e(_target_text(result, plan, lang, as_of.year))}</td>'
        f'<td class="num">{_e(_actual_text(result, lang, as_of.year))}{_observed(result, as_of, lang)}</td>'
        f'<td class="num">{_e(_pct(result.completion))}{_progress_bar(result)}</td>'
        f'<td class="num">{_e(_pct(result.expected))}</td>'
        f'<td class="num {gap_cls}">{_e(_gap(result.gap_pp))}</td>'
        f'<td class="status">{_badge(result.status, lang)}'
        f"{_silence_html(result.target, silenced, lang)}</td>"
        f'<td class="owner">{_e(_owner(result, plan))}</td>'
        f'<td class="num forecast">{_e(_forecast_text(result, lang))}</td>'
        "</tr>"
    )


def _forecast_text(result: TargetResult, lang: str) -> str:
    """Return the year-end forecast cell: value and interval, and the at-risk mark."""
    made = result.forecast
    if made is None:
        return "—"
    sep = "" if lang == "zh" or result.unit in ("", "%") else " "
    text = f"{fmt(made.value)}{sep}{result.unit}（{fmt(made.low)}–{fmt(made.high)}）"
    if lang == "en":
        text = f"{fmt(made.value)}{sep}{result.unit} ({fmt(made.low)}–{fmt(made.high)})"
    return f"{text} {_t(lang)['at_risk']}" if result.at_risk else text


def _html_table(evaluation: Evaluation, lang: str, silenced: Silenced | None = None) -> str:
    t = _t(lang)
    plan = evaluation.plan
    cols = t["cols"].split("|")
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in cols)
    bodies = []
    for section, results in _sections(evaluation.results, plan):
        rows = []
        if section:
            rows.append(
                f'<tr class="section"><th scope="rowgroup" colspan="{len(cols)}">'
                f"{_e(section)}</th></tr>"
            )
        rows.extend(_table_row(r, plan, evaluation.as_of, lang, silenced) for r in results)
        bodies.append(f"<tbody>{''.join(rows)}</tbody>")
    caption = t["caption"].format(date=evaluation.as_of.isoformat())
    return (
        f'<table class="indicators"><caption>{_e(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead>{''.join(bodies)}</table>"
    )


def _lagging(evaluation: Evaluation) -> list[TargetResult]:
    """Return the targets behind or missed, worst first, in plan order within a status."""
    order = {s: i for i, s in enumerate(_LAGGING)}
    picked = [r for r in evaluation.results if r.status in order]
    return sorted(picked, key=lambda r: order[r.status])


def _html_lagging(evaluation: Evaluation, lang: str, silenced: Silenced | None = None) -> str:
    t = _t(lang)
    plan = evaluation.plan
    lagging = _lagging(evaluation)
    out = []
    if lagging:
        out.append(f"<p>{_e(t['lagging_intro'].format(n=len(lagging)))}</p>")
        items = []
        for r in lagging:
            items.append(
                f'<li id="lag-{_e(r.target)}" data-target="{_e(r.target)}">'
                f"<strong>{_e(r.title)}</strong> {_badge(r.status, lang)} "
                f"{_silence_html(r.target, silenced, lang)}"
                f'<span class="who">{_e(t["owner"])}{t["colon"]}{_e(_owner(r, plan))}</span>'
                f'<span class="why">{_e(r.message(lang))}</span></li>'
            )
        out.append(f'<ol class="lagging">{"".join(items)}</ol>')
    else:
        out.append(
            f"<p>{_e(t['lagging_none'].format(date=_long_date(evaluation.as_of, lang)))}</p>"
        )
    at_risk = [r for r in evaluation.results if r.at_risk]
    if at_risk:
        out.append(f"<p>{_e(t['at_risk_intro'].format(n=len(at_risk)))}</p>")
        out.append('<ul class="at-risk">')
        out.extend(
            f'<li id="risk-{_e(r.target)}" data-target="{_e(r.target)}">'
            f"<strong>{_e(r.title)}</strong>{t['colon']}{_e(r.forecast_message(lang))}</li>"
            for r in at_risk
        )
        out.append("</ul>")
    no_data = [r for r in evaluation.results if r.status is Status.NO_DATA]
    if no_data:
        out.append(f"<h3>{_e(t['no_data'].format(n=len(no_data)))}</h3><ul>")
        out.extend(
            f'<li data-target="{_e(r.target)}"><strong>{_e(r.title)}</strong>{t["colon"]}'
            f"{_e(r.message(lang))}</li>"
            for r in no_data
        )
        out.append("</ul>")
    overdue = [a for a in evaluation.alerts if a.kind == "overdue"]
    if overdue:
        out.append(f"<h3>{_e(t['overdue'])}</h3><ul>")
        out.extend(_overdue_item(a, lang) for a in _unique_overdue(overdue))
        out.append("</ul>")
    return "".join(out)


_PARTS_WORDS = {
    "zh": {
        "h": "附：分解目标完成情况",
        "card": "各单位完成情况",
        "scope": "单位",
        "cols": "排名|单位|年度目标|累计完成|完成率|差距(个百分点)|状态",
        "whole": "合计",
    },
    "en": {
        "h": "Annex: targets split across scopes",
        "card": "Scorecard of the scopes",
        "scope": "Scope",
        "cols": "Rank|Scope|Target|Actual to date|Completion|Gap (pp)|Status",
        "whole": "Whole",
    },
}


def _split_rows(evaluation: Evaluation, lang: str) -> list[tuple[TargetResult, list[list[str]]]]:
    """Return each split target with its ranked parts' cells, then the whole's (合计)."""
    plan, year = evaluation.plan, evaluation.as_of.year
    words = _PARTS_WORDS[lang]
    out = []
    for r in evaluation.results:
        ranked = evaluation.ranking(r.target)
        if not ranked:
            continue

        def cells(x: TargetResult, rank: str, scope: str) -> list[str]:
            return [
                rank,
                scope,
                _target_text(x, plan, lang, year),
                _actual_text(x, lang, year),
                _pct(x.completion),
                _gap(x.gap_pp),
                f"{MARKS[x.light]} {_label(x.status, lang)}",
            ]

        rows = [cells(p, str(n), str(p.scope)) for n, p in enumerate(ranked, start=1)]
        rows.append(cells(r, "", words["whole"]))
        out.append((r, rows))
    return out


def _markdown_parts(evaluation: Evaluation, lang: str) -> list[str]:
    card = evaluation.scorecard()
    if not card:
        return []
    words = _PARTS_WORDS[lang]
    statuses = list(Status)
    lines = ["", f"## {_md(words['h'])}", "", f"### {_md(words['card'])}", ""]
    head = [words["scope"], *(_label(s, lang) for s in statuses)]
    lines.append("| " + " | ".join(_md(c) for c in head) + " |")
    lines.append("|---|" + "---:|" * len(statuses))
    for scope, counts in card.items():
        lines.append(
            "| " + " | ".join([_md(scope), *(str(counts[s.value]) for s in statuses)]) + " |"
        )
    cols = words["cols"].split("|")
    for r, rows in _split_rows(evaluation, lang):
        lines += ["", f"### {_md(r.title)}", ""]
        lines.append("| " + " | ".join(_md(c) for c in cols) + " |")
        lines.append("|---:|---|---:|---:|---:|---:|---|")
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


_PARTS_CHART_WORDS = {
    "zh": {
        "caption": "各单位完成率与序时进度",
        "pace": "序时进度",
        "full": "目标（100%）",
        "desc": "{scope}完成{rate}（{status}）",
        "expected": "，序时进度{pace}",
        "none": "{scope}无完成率（{status}）",
    },
    "en": {
        "caption": "Completion of each scope against expected pace",
        "pace": "expected pace",
        "full": "target (100%)",
        "desc": "{scope} {rate} done ({status})",
        "expected": ", expected {pace}",
        "none": "{scope} has no completion ({status})",
    },
}
_PARTS_CAP = 2.0  # bars longer than 200% are cut there, with a chevron; the label says how far


def parts_svg(evaluation: Evaluation, target_id: str, *, lang: str = "zh") -> str:
    """Return an SVG of a split target's parts against their pace (序时进度), the whole last.

    One bar per part in ranking order (`Evaluation.ranking`), then the whole (合计): the bar is
    the completion, coloured and marked by light (● ▲ ■ ○, so colour is not the only cue), a
    dark tick at the part's expected progress and a dotted line at 100%. The picture has a title
    and a description listing every part's figures, for screen readers. Empty for a target
    without parts.
    """
    ranked = evaluation.ranking(target_id)
    if not ranked:
        return ""
    whole = evaluation.result(target_id)
    words = _PARTS_CHART_WORDS[lang]
    names = [str(p.scope) for p in ranked] + [_PARTS_WORDS[lang]["whole"]]
    rows = [*ranked, whole]
    label_w = 12 + 12 * max(_text_width(n) for n in names)
    width, row_h, top, bottom, right = 640, 22, 30, 26, 64
    height = top + row_h * len(rows) + 8 + bottom
    done = [r.completion for r in rows if r.completion is not None]
    hi = min(max([1.0, *done, *(r.expected or 0 for r in rows)]), _PARTS_CAP)
    ticks = [t for t in _nice_ticks(0, 100 * hi) if t <= 100 * hi + 1e-9]
    hi = max(hi, ticks[-1] / 100)
    plot_w = width - label_w - right

    def x(fraction: float) -> float:
        return label_w + plot_w * min(max(fraction, 0.0), hi) / hi

    def y(i: int) -> float:  # the whole sits below a gap
        return top + row_h * i + (8 if i == len(rows) - 1 else 0)

    chart_id = f"parts-{target_id}"
    description = []
    for name, r in zip(names, rows, strict=True):
        status = _label(r.status, lang)
        if r.completion is None:
            description.append(words["none"].format(scope=name, status=status))
            continue
        text = words["desc"].format(scope=name, rate=_pct(r.completion), status=status)
        if r.expected is not None:
            text += words["expected"].format(pace=_pct(r.expected))
        description.append(text)
    sep = "；" if lang == "zh" else "; "
    out = [
        f'<svg class="parts-svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{_e(chart_id)}-t {_e(chart_id)}-d" data-target="{_e(target_id)}">',
        f'<title id="{_e(chart_id)}-t">{_e(whole.title)}：{_e(words["caption"])}</title>'
        if lang == "zh"
        else f'<title id="{_e(chart_id)}-t">{_e(whole.title)}: {_e(words["caption"])}</title>',
        f'<desc id="{_e(chart_id)}-d">{_e(sep.join(description))}</desc>',
        _legend(
            [
                (words["pace"], '<path d="M8 -7 v14" stroke="#1f2328" stroke-width="2.4"/>'),
                (
                    words["full"],
                    '<path d="M8 -7 v14" stroke="#1f2328" stroke-width="1.2" '
                    'stroke-dasharray="2 2"/>',
                ),
            ]
        ),
    ]
    base = y(len(rows) - 1) + row_h
    for t in ticks:
        xx = x(t / 100)
        out.append(
            f'<path d="M{_num(xx)} {top - 4} V{_num(base)}" stroke="#d8dee4" stroke-width="1"/>'
            f'<text x="{_num(xx)}" y="{_num(base + 15)}" text-anchor="middle" font-size="11" '
            f'fill="#57606a">{_num(t)}%</text>'
        )
    for i, (name, r) in enumerate(zip(names, rows, strict=True)):
        yy = y(i)
        mid = yy + row_h / 2
        weight = ' font-weight="700"' if r is whole else ""
        out.append(
            f'<text x="{_num(label_w - 8)}" y="{_num(mid + 4)}" text-anchor="end" font-size="12"'
            f' fill="#1f2328"{weight}>{_e(name)}</text>'
        )
        end = x(r.completion) if r.completion is not None else label_w
        if r.completion is not None and r.completion > 0:
            out.append(
                f'<rect x="{_num(label_w)}" y="{_num(yy + 4)}" width="{_num(end - label_w)}" '
                f'height="{row_h - 8}" fill="{_FILL[r.light]}"'
                + (' fill-opacity="0.85"' if r is not whole else "")
                + "/>"
            )
        if r.completion is not None and r.completion > hi:
            out.append(
                f'<path d="M{_num(end - 8)} {_num(yy + 6)} l4 {(row_h - 12) / 2} '
                f'l-4 {(row_h - 12) / 2}" fill="none" stroke="#ffffff" stroke-width="1.6"/>'
            )
        if r.expected is not None:
            xe = x(r.expected)
            out.append(
                f'<path d="M{_num(xe)} {_num(yy + 1)} v{row_h - 2}" stroke="#1f2328" '
                'stroke-width="2.4"/>'
            )
        rate = _pct(r.completion) if r.completion is not None else "—"
        # right of the bar and of the pace tick, so that neither hides the other
        after = max(end, x(r.expected) + 2 if r.expected is not None else end)
        out.append(_marker(after + 9, mid, r.light, 4.0))
        out.append(
            f'<text x="{_num(after + 17)}" y="{_num(mid + 4)}" font-size="11" '
            f'fill="{_INK[r.light]}" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{_e(rate)}</text>"
        )
    full = x(1.0)
    out.append(
        f'<path d="M{_num(full)} {top - 4} V{_num(base)}" stroke="#1f2328" stroke-width="1.2" '
        'stroke-dasharray="2 2"/>'
    )
    out.append("</svg>")
    return "".join(out)


def _html_parts(evaluation: Evaluation, lang: str) -> str:
    card = evaluation.scorecard()
    if not card:
        return ""
    words = _PARTS_WORDS[lang]
    statuses = list(Status)
    head = "".join(
        f'<th scope="col">{_e(c)}</th>'
        for c in [words["scope"], *(_label(s, lang) for s in statuses)]
    )
    body = "".join(
        f'<tr><th scope="row">{_e(scope)}</th>'
        + "".join(f'<td class="num">{counts[s.value]}</td>' for s in statuses)
        + "</tr>"
        for scope, counts in card.items()
    )
    out = [
        '<section class="parts-section" aria-labelledby="h-parts">'
        f'<h2 id="h-parts">{_e(words["h"])}</h2><h3>{_e(words["card"])}</h3>'
        f'<table class="scorecard"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    ]
    cols = "".join(f'<th scope="col">{_e(c)}</th>' for c in words["cols"].split("|"))
    for r, rows in _split_rows(evaluation, lang):
        trs = "".join(
            "<tr"
            + (' class="whole"' if not row[0] else "")
            + ">"
            + "".join(
                f'<td class="num">{_e(c)}</td>' if i in (0, 2, 3, 4, 5) else f"<td>{_e(c)}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
            for row in rows
        )
        out.append(
            f'<h3 data-target="{_e(r.target)}">{_e(r.title)}</h3>'
            f'<table class="ranking"><thead><tr>{cols}</tr></thead><tbody>{trs}</tbody></table>'
            f'<figure class="parts-chart">{parts_svg(evaluation, r.target, lang=lang)}</figure>'
        )
    out.append("</section>\n")
    return "".join(out)


def _unique_overdue(alerts: Iterable[Alert]) -> list[Alert]:
    """Return one overdue alert per indicator (several targets may share an indicator)."""
    seen: set[str] = set()
    out = []
    for a in alerts:
        if a.indicator in seen:
            continue
        seen.add(a.indicator)
        out.append(a)
    return out


def _overdue_item(alert: Alert, lang: str) -> str:
    return f"<li>{_e(alert.message(lang))}</li>"


def _html_charts(evaluation: Evaluation, paths: dict[str, Trajectory], lang: str) -> str:
    figures = []
    for r in evaluation.results:
        tr = paths[r.target]
        chart_id = f"chart-{r.target}"
        figures.append(
            f'<figure class="chart" id="{_e(chart_id)}" data-target="{_e(r.target)}">'
            f"<figcaption>{_badge(r.status, lang)} <strong>{_e(r.title)}</strong>"
            f'<span class="msg">{_e(r.message(lang))}</span></figcaption>'
            f"{_chart_svg(tr, lang, chart_id)}</figure>"
        )
    return f'<div class="charts">{"".join(figures)}</div>'


def render_html(
    evaluation: Evaluation,
    *,
    lang: str = "zh",
    history: Actuals | None = None,
    silenced: Silenced | None = None,
) -> str:
    """Return the evaluation as one self-contained HTML 通报 (status report).

    The document has inline CSS and inline SVG charts and no reference to anything outside
    itself (no scripts, fonts, images or links), prints on A4, and names every status in words
    as well as by colour.

    Args:
        evaluation: What to report.
        lang: ``zh`` (default) or ``en`` for headings, labels and explanations.
        history: The actuals the evaluation was made from. With them, each target's chart shows
            its values at every observation date up to the as-of date (the latest revision of
            each, as known at the as-of date); without them, only the value judged now.
        silenced: Targets whose alerts are silenced (target → until, reason): they are
            reported as usual and marked 已静默至 DATE（reason）.

    Returns:
        The HTML document, starting with ``<!DOCTYPE html>``.

    Raises:
        ValueError: For a language other than ``zh`` or ``en``.
    """
    t = _t(lang)
    plan = evaluation.plan
    paths = trajectories(evaluation, history)
    doc_title = t["doc_title"].format(plan=plan.title)
    as_of = t["as_of"].format(date=_long_date(evaluation.as_of, lang))
    period = t["period"].format(start=plan.start.isoformat(), end=plan.end.isoformat())
    band = fmt(-plan.thresholds.behind)
    notes = "".join(f"<li>{_e(n.format(band=band))}</li>" for n in t["notes"].split("|"))
    source = f"<p>{_e(t['source'].format(source=plan.source))}</p>" if plan.source else ""
    css = _CSS % {"font": FONT_STACK}
    issuer = f'<p class="issuer">{_e(plan.issuer)}</p>' if plan.issuer else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="targetkit {_e(__version__)}">\n'
        f"<title>{_e(doc_title)}{t['lp']}{_e(evaluation.as_of.isoformat())}{t['rp']}</title>\n"
        f"<style>{css}</style>\n</head>\n<body>\n"
        f'<header class="masthead">{issuer}<h1>{_e(doc_title)}</h1>'
        f'<p class="meta">{_e(as_of)} · {_e(period)}</p></header>\n<main>\n'
        f'<section class="overview" aria-labelledby="h-overview">'
        f'<h2 id="h-overview">{_e(t["h_overview"])}</h2>'
        f'<p class="lead">{_e(_lead(evaluation, lang))}</p>'
        f"{_status_strip(evaluation)}{_html_counts(evaluation, lang)}</section>\n"
        f'<section class="table-section" aria-labelledby="h-table">'
        f'<h2 id="h-table">{_e(t["h_table"])}</h2>{_html_table(evaluation, lang, silenced)}</section>\n'
        f'<section class="lagging-section" aria-labelledby="h-lagging">'
        f'<h2 id="h-lagging">{_e(t["h_lagging"])}</h2>{_html_lagging(evaluation, lang, silenced)}</section>\n'
        f'<section class="charts-section" aria-labelledby="h-charts">'
        f'<h2 id="h-charts">{_e(t["h_charts"])}</h2>{_html_charts(evaluation, paths, lang)}'
        f"</section>\n{_html_parts(evaluation, lang)}</main>\n"
        f'<footer><h2 class="notes">{_e(t["h_notes"])}</h2><ul>{notes}</ul>{source}</footer>\n'
        "</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = frozenset("\\`*_[]<>|~")


def _md(text: str) -> str:
    """Escape text for a Markdown table cell or list item: specials, pipes, line breaks.

    Control characters (an ESC sequence in a title, say) become spaces as line breaks do.
    """
    out = "".join(
        "\\" + ch if ch in _MD_SPECIAL else " " if unicodedata.category(ch) == "Cc" else ch
        for ch in text
    )
    return " ".join(out.splitlines())


def render_markdown(
    evaluation: Evaluation, *, lang: str = "zh", silenced: Silenced | None = None
) -> str:
    """Return the evaluation as a Markdown 通报, for chat tools and e-mail bodies.

    The layout follows `render_html` without the charts: a heading with the as-of date, the
    count and share of targets per status, the indicator table and the named list of targets
    behind, with their explanations. Targets in ``silenced`` are marked 已静默至 DATE（reason）.

    Raises:
        ValueError: For a language other than ``zh`` or ``en``.
    """
    t = _t(lang)
    plan = evaluation.plan
    cols = t["cols"].split("|")
    lines = [f"# {_md(t['doc_title'].format(plan=plan.title))}", ""]
    meta = t["as_of"].format(date=_long_date(evaluation.as_of, lang))
    if plan.issuer:
        meta = f"{plan.issuer} · {meta}"
    lines += [_md(meta), "", f"## {_md(t['h_overview'])}", "", _md(_lead(evaluation, lang)), ""]
    for status, n, share in _counts(evaluation):
        if n:
            lines.append(
                f"- {MARKS[status.light]} {_md(_label(status, lang))}{t['colon']}{n}"
                f"{t['lp']}{_share(share)}{t['rp']}"
            )
    lines += ["", f"## {_md(t['h_table'])}", ""]
    lines.append("| " + " | ".join(_md(c) for c in cols) + " |")
    right = {1, 2, 3, 4, 5, 8}
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(cols))) + "|")
    for r in evaluation.results:
        cells = [
            r.title,
            _target_text(r, plan, lang, evaluation.as_of.year),
            _actual_text(r, lang, evaluation.as_of.year),
            _pct(r.completion),
            _pct(r.expected),
            _gap(r.gap_pp),
            f"{MARKS[r.light]} {_label(r.status, lang)}"
            + (f" {label}" if (label := _silence_label(r.target, silenced, lang)) else ""),
            _owner(r, plan),
            _forecast_text(r, lang),
        ]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    lines += ["", f"## {_md(t['h_lagging'])}", ""]
    lagging = _lagging(evaluation)
    if lagging:
        lines += [_md(t["lagging_intro"].format(n=len(lagging))), ""]
        for i, r in enumerate(lagging, 1):
            lines.append(
                f"{i}. **{_md(r.title)}**{t['lp']}{MARKS[r.light]} {_md(_label(r.status, lang))}"
                f"{t['semi']}{_md(t['owner'])}{t['colon']}{_md(_owner(r, plan))}{t['rp']}"
                f"{t['colon']}{_md(r.message(lang))}"
                + (f" {_md(label)}" if (label := _silence_label(r.target, silenced, lang)) else "")
            )
    else:
        lines.append(_md(t["lagging_none"].format(date=_long_date(evaluation.as_of, lang))))
    at_risk = [r for r in evaluation.results if r.at_risk]
    if at_risk:
        lines += ["", _md(t["at_risk_intro"].format(n=len(at_risk))), ""]
        lines += [
            f"- **{_md(r.title)}**{t['colon']}{_md(r.forecast_message(lang))}" for r in at_risk
        ]
    no_data = [r for r in evaluation.results if r.status is Status.NO_DATA]
    if no_data:
        lines += ["", f"### {_md(t['no_data'].format(n=len(no_data)))}", ""]
        lines += [f"- **{_md(r.title)}**{t['colon']}{_md(r.message(lang))}" for r in no_data]
    overdue = _unique_overdue(a for a in evaluation.alerts if a.kind == "overdue")
    if overdue:
        lines += ["", f"### {_md(t['overdue'])}", ""]
        lines += [f"- {_md(a.message(lang))}" for a in overdue]
    lines += _markdown_parts(evaluation, lang)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- notebook

_NB_CSS = """
.tk-nb { font-family: %(font)s; font-size: 13px; line-height: 1.5; }
.tk-nb .tk-head { margin: 0 0 6px; }
.tk-nb table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.tk-nb th, .tk-nb td { border-bottom: 1px solid #d0d7de; padding: 3px 8px; text-align: left;
  vertical-align: middle; }
.tk-nb thead th { border-bottom: 2px solid #8c959f; }
.tk-nb td.tk-num { text-align: right; white-space: nowrap; }
.tk-nb .tk-badge { display: inline-block; white-space: nowrap; border-radius: 4px; padding: 0 6px;
  font-weight: 700; border: 1px solid currentColor; }
.tk-nb .l-green { color: #116329; background: #dafbe1; }
.tk-nb .l-yellow { color: #7d4e00; background: #fff8c5; }
.tk-nb .l-red { color: #a40e26; background: #ffebe9; }
.tk-nb .l-grey { color: #424a53; background: #eaeef2; }
.tk-nb .tk-id { display: block; opacity: 0.7; font-size: 11px; }
.tk-nb .tk-msg { max-width: 36em; }
.tk-nb .tk-owner { min-width: 6em; }
.tk-nb svg.bar { display: block; }
"""


def _nb_badge(status: Status, lang: str) -> str:
    light = status.light
    return (
        f'<span class="tk-badge l-{light.value}" data-status="{status.value}">'
        f"{MARKS[light]} {_e(_label(status, lang))}</span>"
    )


def _nb_row(result: TargetResult, plan: Plan | None, lang: str, year: int) -> str:
    versus = f"{_actual_text(result, lang, year)} / {_target_text(result, plan, lang, year)}"
    return (
        f'<tr data-target="{_e(result.target)}" data-status="{result.status.value}">'
        f"<td>{_nb_badge(result.status, lang)}</td>"
        f'<td>{_e(result.title)}<span class="tk-id">{_e(result.target)}</span></td>'
        f'<td class="tk-num">{_e(versus)}</td>'
        f'<td class="tk-num">{_e(_pct(result.completion))}</td>'
        f"<td>{_progress_bar(result, width=120)}</td>"
        f'<td class="tk-num">{_e(_pct(result.expected))}</td>'
        f'<td class="tk-num">{_e(_gap(result.gap_pp))}</td>'
        f'<td class="tk-owner">{_e(_owner(result, plan))}</td>'
        f'<td class="tk-msg">{_e(result.message(lang))}</td>'
        f'<td class="tk-num">{_e(_forecast_text(result, lang))}</td>'
        "</tr>"
    )


_NB_COLS = {
    "zh": (
        "状态",
        "目标",
        "实际 / 目标",
        "完成率",
        "进度（竖线为序时进度）",
        "序时进度",
        "差距(个百分点)",
        "责任单位",
        "说明",
        "预计全年",
    ),
    "en": (
        "Status",
        "Target",
        "Actual / target",
        "Completion",
        "Progress (tick: expected)",
        "Expected",
        "Gap (pp)",
        "Responsible unit",
        "Explanation",
        "Year-end forecast",
    ),
}


def notebook_html(evaluation_or_result: Evaluation | TargetResult, *, lang: str = "zh") -> str:
    """Return an HTML fragment showing an evaluation (or one result) in a Jupyter notebook.

    A table with, per target: the light with its status text, actual against target with units,
    the completion rate, a progress bar with a tick at the expected progress (序时进度), the gap
    in percentage points, the responsible unit and the explanation. A single result also lists
    the evidence rows it used. Meant for ``_repr_html_``.

    Raises:
        ValueError: For a language other than ``zh`` or ``en``.
    """
    t = _t(lang)
    css = _NB_CSS % {"font": FONT_STACK}
    head = "".join(f"<th>{_e(c)}</th>" for c in _NB_COLS[lang])
    if isinstance(evaluation_or_result, Evaluation):
        ev = evaluation_or_result
        counts = " ".join(f"{_nb_badge(s, lang)} {n}" for s, n, _ in _counts(ev) if n)
        title = (
            f'<p class="tk-head"><strong>{_e(ev.plan.title)}</strong> · '
            f"{_e(t['as_of'].format(date=ev.as_of.isoformat()))} · {counts}</p>"
        )
        rows = "".join(_nb_row(r, ev.plan, lang, ev.as_of.year) for r in ev.results)
        extra = ""
    else:
        r = evaluation_or_result
        title = f'<p class="tk-head"><strong>{_e(r.title)}</strong> ({_e(r.target)})</p>'
        rows = _nb_row(r, None, lang, r.deadline.year)
        evidence = "".join(
            f"<li>{_e(e.indicator)} {_e(e.date.isoformat())}: {_e(e.raw_value)} {_e(e.unit)}"
            f" — {_e(e.file)}:{e.line}</li>"
            for e in r.evidence
        )
        extra = f'<ul class="tk-evidence">{evidence}</ul>' if evidence else ""
    return (
        f'<div class="tk-nb"><style>{css}</style>{title}'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{extra}</div>"
    )


set_view("html", notebook_html)
