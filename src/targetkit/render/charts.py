"""Charts with matplotlib: one target's path against its pace, and the plan at a glance.

matplotlib is an optional extra (``pip install 'targetkit[plots]'``), imported only when a chart
is drawn. Figures are made without pyplot, so they work headless (the Agg renderer) and leave
pyplot's global state alone; save them with ``fig.savefig(...)``. A new figure is a `Figure`
subclass with IPython's ``_repr_png_``: left as a notebook cell's value it is shown as a picture,
with no pyplot import and no ``%matplotlib`` magic.

Chinese labels need a font with Chinese glyphs. `find_cjk_font` picks the first installed font
from `CJK_FONT_FAMILIES` (Noto Sans CJK, Source Han Sans, WenQuanYi, …) and logs one warning
when there is none; Chinese text is then drawn as empty boxes. On Debian or Ubuntu install one
with ``apt-get install fonts-noto-cjk``; on other systems install Noto Sans CJK SC or Source Han
Sans SC. A font can also be named per call (``font="Source Han Sans SC"``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from targetkit.actuals import Actuals
from targetkit.evaluation import Evaluation
from targetkit.exceptions import TargetkitError
from targetkit.forecast import Forecast
from targetkit.model import Light, Status
from targetkit.rules import fmt
from targetkit.trajectory import Trajectory, trajectories

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CJK_FONT_FAMILIES",
    "PlotsUnavailableError",
    "find_cjk_font",
    "plot_forecast",
    "plot_overview",
    "plot_parts",
    "plot_target",
]

log = logging.getLogger(__name__)

CJK_FONT_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Arial Unicode MS",
)
"""Font families with Chinese glyphs, in order of preference."""

# Font files whose names suggest Chinese glyphs, for fonts installed after matplotlib built its
# font cache (its cache is not refreshed by installing a font).
_CJK_FILE = re.compile(
    r"notosanscjk|notoserifcjk|sourcehan|notosanssc|wqy|droidsansfallback|uming|ukai|msyh|simhei|pingfang",
    re.IGNORECASE,
)
_PROBE = "中文进度"
_LATIN_FALLBACK = "DejaVu Sans"

_FILL = {
    Light.GREEN: "#1a7f37",
    Light.YELLOW: "#9a6700",
    Light.RED: "#cf222e",
    Light.GREY: "#6e7781",
}
_SHAPE = {Light.GREEN: "o", Light.YELLOW: "^", Light.RED: "s", Light.GREY: "o"}
_HATCH = {Light.GREEN: "", Light.YELLOW: "//", Light.RED: "xx", Light.GREY: ".."}
_MARK = {Light.GREEN: "●", Light.YELLOW: "▲", Light.RED: "■", Light.GREY: "○"}
_ACTUAL, _PACE, _TARGET, _BASE, _AS_OF = "#0a3069", "#57606a", "#1f2328", "#8c959f", "#afb8c1"
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_WORDS = {
    "zh": {
        "actual": "实际",
        "pace": "序时进度",
        "target": "目标",
        "baseline": "基期",
        "as_of": "截至 {date}",
        "deadline": "期限 {date}",
        "done": "完成 {date}",
        "not_done": "未完成",
        "no_data": "暂无数据",
        "unit": "单位：{unit}",
        "completion": "完成率（%）",
        "overview": "{plan}：完成率与序时进度（截至 {date}）",
        "expected": "序时进度",
        "full": "目标（100%）",
        "forecast": "预计全年",
        "interval": "预计区间",
        "parts": "{title}：各单位完成率与序时进度（截至 {date}）",
        "whole": "合计",
    },
    "en": {
        "actual": "actual",
        "pace": "expected pace",
        "target": "target",
        "baseline": "baseline",
        "as_of": "as of {date}",
        "deadline": "deadline {date}",
        "done": "done {date}",
        "not_done": "not done",
        "no_data": "no data yet",
        "unit": "unit: {unit}",
        "completion": "completion (%)",
        "overview": "{plan}: completion against expected pace (as of {date})",
        "expected": "expected pace",
        "full": "target (100%)",
        "forecast": "forecast",
        "interval": "forecast range",
        "parts": "{title}: completion of each scope against expected pace (as of {date})",
        "whole": "whole",
    },
}


class PlotsUnavailableError(TargetkitError, ImportError):
    """matplotlib, which charts need, is not installed."""


def _matplotlib() -> Any:
    try:
        import matplotlib  # noqa: PLC0415 - an optional extra, imported when first needed
    except ImportError as exc:
        raise PlotsUnavailableError(
            "targetkit charts need matplotlib, which is not installed; "
            "install it with: pip install 'targetkit[plots]'"
        ) from exc
    return matplotlib


def _words(lang: str) -> dict[str, str]:
    try:
        return _WORDS[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; choose 'zh' or 'en'") from None


def _has_glyphs(path: str) -> bool:
    from matplotlib import ft2font  # noqa: PLC0415

    try:
        face = ft2font.FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(face.get_char_index(ord(ch)) for ch in _PROBE)


def _installed(family: str) -> str | None:
    """Return the file of an installed font family that has Chinese glyphs, or None."""
    from matplotlib import font_manager  # noqa: PLC0415

    if not any(f.name == family for f in font_manager.fontManager.ttflist):
        return None
    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        return None
    return path if _has_glyphs(path) else None


@functools.cache
def find_cjk_font() -> str | None:
    """Return the name of an installed font family with Chinese glyphs, or None.

    Looks for the families of `CJK_FONT_FAMILIES` in matplotlib's font list, then among the
    system's font files (a font installed after matplotlib built its font cache is added).
    When there is none, logs a warning once, saying how to install one.

    Raises:
        PlotsUnavailableError: When matplotlib is not installed.
    """
    _matplotlib()
    from matplotlib import font_manager  # noqa: PLC0415

    for family in CJK_FONT_FAMILIES:
        if _installed(family):
            return family
    added = False
    for path in font_manager.findSystemFonts():
        if _CJK_FILE.search(Path(path).name.replace("-", "").replace("_", "")):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
            added = True
    if added:
        for family in CJK_FONT_FAMILIES:
            if _installed(family):
                return family
        for entry in font_manager.fontManager.ttflist:
            if _CJK_FILE.search(Path(entry.fname).name) and _has_glyphs(entry.fname):
                return str(entry.name)
    log.warning(
        "targetkit charts: no font with Chinese glyphs found, so Chinese labels will show as "
        "boxes; install one (Debian/Ubuntu: apt-get install fonts-noto-cjk; elsewhere: Noto "
        "Sans CJK SC or Source Han Sans SC) or pass font='<family>'"
    )
    return None


def _families(font: str | None) -> list[str]:
    cjk = font or find_cjk_font()
    return [cjk, _LATIN_FALLBACK] if cjk else [_LATIN_FALLBACK]


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    _matplotlib()
    from targetkit.render._figure import Chart  # noqa: PLC0415 - it imports matplotlib

    if ax is not None:
        figure = ax.get_figure()
        if figure is None:  # pragma: no cover - an Axes always belongs to a figure
            raise ValueError("the axes belong to no figure")
        return figure, ax  # type: ignore[return-value]
    fig = Chart(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _dates() -> Any:
    """Return matplotlib.dates (typed loosely: some of its functions carry no annotations)."""
    from matplotlib import dates  # noqa: PLC0415

    return dates


def _x(day: dt.date) -> float:
    """Return a date as matplotlib's date number."""
    return float(_dates().date2num(day))


def _date_axis(ax: Axes, tr: Trajectory, lang: str, families: Sequence[str]) -> None:
    from matplotlib import ticker  # noqa: PLC0415

    mdates = _dates()

    months = (tr.deadline.year - tr.start.year) * 12 + tr.deadline.month - tr.start.month + 1
    every = 1 if months <= 6 else 3 if months <= 18 else 6 if months <= 36 else 12
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonthday=-1, interval=every))
    multi_year = months > 12

    def label(value: float, _pos: int | None = None) -> str:
        d = mdates.num2date(value).date()
        if lang == "zh":
            return f"{d.year % 100:02d}年{d.month}月" if multi_year else f"{d.month}月"
        return (
            f"{_MONTHS_EN[d.month - 1]} {d.year % 100:02d}"
            if multi_year
            else _MONTHS_EN[d.month - 1]
        )

    ax.xaxis.set_major_formatter(ticker.FuncFormatter(label))
    ax.set_xlim(
        _x(tr.start - dt.timedelta(days=1)),
        _x(max([tr.deadline, *(p.date for p in tr.points)])),
    )
    ax.tick_params(labelfontfamily=list(families))


def _status_title(ax: Axes, title: str, status: Status, lang: str, families: Sequence[str]) -> None:
    label = status.label_zh if lang == "zh" else status.label_en
    ax.set_title(
        f"{_MARK[status.light]} {label} · {title}",
        loc="left",
        fontsize=11,
        fontfamily=list(families),
        color="#1f2328",
    )


def plot_target(
    evaluation: Evaluation,
    target_id: str,
    actuals: Actuals | None = None,
    ax: Axes | None = None,
    *,
    lang: str = "zh",
    font: str | None = None,
) -> Figure:
    """Draw one target's values over time against its expected pace and its target.

    Lines (each with a ``gid`` to find it by): ``actual`` (the value judged at each observation
    date, from the latest revision known at the as-of date), ``pace`` (expected progress times
    the target, for pro-rated targets), ``target``, ``baseline`` (for levels with one) and
    ``as_of``. Markers give the status at each date by colour and shape (● green, ▲ yellow,
    ■ red). A milestone is drawn as a timeline with its deadline and the day it was done.

    Args:
        evaluation: The evaluation (its plan and as-of date).
        target_id: The target to draw.
        actuals: The actuals the evaluation was made from, for the values over time; without
            them only the current value is drawn.
        ax: Axes to draw into; a new figure is made when None.
        lang: ``zh`` (default) or ``en`` for labels.
        font: A font family for Chinese text; default: `find_cjk_font`.

    Returns:
        The figure drawn on: a new one, shown as a picture when it is a notebook cell's value,
        unless ``ax`` was given.

    Raises:
        PlotsUnavailableError: When matplotlib is not installed.
        KeyError: When the evaluation has no such target.
    """
    words = _words(lang)
    result = evaluation.result(target_id)
    tr = trajectories(evaluation, actuals)[target_id]
    fig, ax = _axes(ax, (6.4, 3.6))
    families = _families(font)
    _status_title(ax, result.title, result.status, lang, families)
    _date_axis(ax, tr, lang, families)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if tr.is_milestone:
        _plot_milestone(ax, tr, words, families)
        return fig
    ax.grid(axis="y", color="#d8dee4", linewidth=0.8)
    if tr.pace and tr.target_value is not None:
        ax.plot(
            [_x(d) for d, _ in tr.pace],
            [f * tr.target_value for _, f in tr.pace],
            linestyle="--",
            color=_PACE,
            linewidth=1.4,
            label=words["pace"],
            gid="pace",
        )
    if tr.target_value is not None:
        ax.axhline(
            tr.target_value,
            linestyle=":",
            color=_TARGET,
            linewidth=1.5,
            label=words["target"],
            gid="target",
        )
    if tr.baseline is not None and tr.baseline != tr.target_value:
        ax.axhline(
            tr.baseline,
            linestyle="-.",
            color=_BASE,
            linewidth=1.2,
            label=words["baseline"],
            gid="baseline",
        )
    if tr.points:
        ax.plot(
            [_x(p.date) for p in tr.points],
            [p.actual for p in tr.points],
            color=_ACTUAL,
            linewidth=2,
            label=words["actual"],
            gid="actual",
            zorder=3,
        )
        for light in Light:
            pts = [p for p in tr.points if p.status.light is light]
            if pts:
                ax.scatter(
                    [_x(p.date) for p in pts],
                    [p.actual for p in pts],
                    marker=_SHAPE[light],
                    s=60,
                    color="white" if light is Light.GREY else _FILL[light],
                    edgecolors=_FILL[light] if light is Light.GREY else "white",
                    linewidths=1.2,
                    zorder=4,
                    gid=f"status-{light.value}",
                )
        last = tr.points[-1]
        ax.annotate(
            fmt(last.actual) + (tr.unit if tr.unit == "%" else ""),
            (_x(last.date), last.actual),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=9,
            fontweight="bold",
            color=_ACTUAL,
            fontfamily=families,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )
    else:
        ax.text(
            0.5,
            0.5,
            words["no_data"],
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=_PACE,
            fontfamily=families,
        )
    if tr.from_zero or tr.pace:
        ax.set_ylim(bottom=min([0.0, *(p.actual for p in tr.points)]))
    if tr.ordinal:
        from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ranks = [p.actual for p in tr.points]
        if tr.target_value is not None:
            ranks.append(tr.target_value)
        if tr.baseline is not None:
            ranks.append(tr.baseline)
        ax.set_ylim(max([1.0, *ranks]) + 0.5, 0.5)  # rank 1 at the top
    ax.axvline(
        _x(tr.as_of),
        color=_AS_OF,
        linewidth=1,
        label=words["as_of"].format(date=tr.as_of.isoformat()),
        gid="as_of",
    )
    if tr.unit:
        ax.set_ylabel(words["unit"].format(unit=tr.unit), fontfamily=families)
    _legend_below(ax, families)
    return fig


def _plot_milestone(ax: Axes, tr: Trajectory, words: dict[str, str], families: list[str]) -> None:
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.axhline(0, color=_BASE, linewidth=2, gid="period")
    ax.axvline(
        _x(tr.deadline),
        color=_TARGET,
        linestyle=":",
        linewidth=1.5,
        gid="deadline",
        label=words["deadline"].format(date=tr.deadline.isoformat()),
    )
    if tr.done_on is not None:
        light = Light.GREEN if tr.done_on <= tr.deadline else Light.RED
        when = tr.done_on
        text = words["done"].format(date=tr.done_on.isoformat())
    else:
        light = tr.status.light
        when = min(tr.as_of, tr.deadline)
        text = words["not_done"]
    ax.scatter(
        [_x(when)],
        [0],
        marker=_SHAPE[light],
        s=90,
        color=_FILL[light],
        zorder=4,
        gid=f"status-{light.value}",
    )
    ax.annotate(
        text,
        (_x(when), 0),
        textcoords="offset points",
        xytext=(0, 12),
        ha="center",
        fontsize=9,
        fontweight="bold",
        color=_FILL[light],
        fontfamily=families,
    )
    _legend_below(ax, families)


def _legend_below(ax: Axes, families: list[str]) -> None:
    ax.legend(
        prop={"family": families, "size": 9},
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncols=5,
        frameon=False,
    )


def plot_overview(
    evaluation: Evaluation,
    ax: Axes | None = None,
    *,
    lang: str = "zh",
    font: str | None = None,
) -> Figure:
    """Draw the plan at a glance: a bar per target of its completion rate, with expected pace.

    Bars (in plan order, top to bottom) are coloured and hatched by light, each labelled with its
    rate and status text; a black tick marks the expected progress (序时进度) of pro-rated
    targets, and a dotted line the 100% target. Targets without a completion rate (ranks, no
    data) get a label and no bar. Bars longer than 150% are cut there.

    Returns:
        The figure drawn on: a new one, shown as a picture when it is a notebook cell's value,
        unless ``ax`` was given.

    Raises:
        PlotsUnavailableError: When matplotlib is not installed.
    """
    words = _words(lang)
    results = list(evaluation.results)
    fig, ax = _axes(ax, (9.0, 0.34 * len(results) + 1.4))
    families = _families(font)
    ys = list(range(len(results)))
    widths = [
        0.0 if r.completion is None else min(max(100 * r.completion, 0.0), 150.0) for r in results
    ]
    bars = ax.barh(
        ys,
        widths,
        color=[_FILL[r.light] for r in results],
        edgecolor="white",
        height=0.66,
        gid="completion",
    )
    for bar, r in zip(bars, results, strict=True):
        bar.set_hatch(_HATCH[r.light])
    _expected_ticks(
        ax,
        [(y, 100 * r.expected) for y, r in zip(ys, results, strict=True) if r.expected is not None],
        words["expected"],
    )
    ax.axvline(100, color=_TARGET, linestyle=":", linewidth=1.2, label=words["full"], gid="target")
    for y, w, r in zip(ys, widths, results, strict=True):
        label = r.status.label_zh if lang == "zh" else r.status.label_en
        rate = "—" if r.completion is None else f"{100 * r.completion:.1f}%"
        ax.text(
            w + 2,
            y,
            f"{rate} {_MARK[r.light]} {label}",
            va="center",
            fontsize=8.5,
            color=_FILL[r.light] if r.light is not Light.YELLOW else "#7d4e00",
            fontfamily=families,
        )
    ax.set_yticks(ys, [r.title for r in results])
    ax.tick_params(axis="y", labelsize=8.5, length=0)
    ax.tick_params(labelfontfamily=families)
    ax.invert_yaxis()
    ax.set_xlim(0, 185)
    ax.set_xticks([0, 25, 50, 75, 100, 125, 150])
    ax.set_xlabel(words["completion"], fontfamily=families)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        words["overview"].format(plan=evaluation.plan.title, date=evaluation.as_of.isoformat()),
        loc="left",
        fontsize=11,
        fontfamily=families,
    )
    ax.legend(prop={"family": families, "size": 9}, loc="lower right", frameon=False)
    return fig


_PARTS_CAP = 200.0  # percent: longer bars are cut there, their labels give the figure


def _expected_ticks(ax: Any, points: list[tuple[float, float]], label: str) -> None:
    """Mark each bar's expected progress (序时进度) with a tick: ``points`` are (y, percent)."""
    if points:
        ax.scatter(
            [x for _, x in points],
            [y for y, _ in points],
            marker="|",
            s=260,
            linewidths=2.2,
            color=_TARGET,
            zorder=4,
            label=label,
            gid="expected",
        )


def plot_parts(
    evaluation: Evaluation,
    target_id: str,
    ax: Axes | None = None,
    *,
    lang: str = "zh",
    font: str | None = None,
) -> Figure:
    """Draw a split target's parts against their pace (序时进度), with the whole.

    One bar per part, in ranking order (`Evaluation.ranking`, the best on top), then the whole
    (合计) below a gap. Bars (``gid`` ``parts``, the whole's ``whole``) are coloured and hatched
    by light and labelled with the rate and the status mark; a black tick marks each row's
    expected progress (``gid`` ``expected``) and a dotted line the 100% target (``target``).
    Bars longer than 200% are cut there; parts without a rate get a label and no bar.

    Args:
        evaluation: An evaluation of a plan with parts.
        target_id: The split target.
        ax: Axes to draw into; a new figure is made when None.
        lang: ``zh`` (default) or ``en`` for labels.
        font: A font family for Chinese text; default: `find_cjk_font`.

    Returns:
        The figure drawn on; a new one shows itself as a picture in a notebook.

    Raises:
        KeyError: The plan has no such target.
        ValueError: The target has no parts.
        PlotsUnavailableError: When matplotlib is not installed.
    """
    words = _words(lang)
    ranked = list(evaluation.ranking(target_id))  # KeyError for an unknown target
    if not ranked:
        raise ValueError(
            f"target {target_id!r} has no parts; give it parts = [{{ scope = …, value = … }}]"
            " in the plan, or draw it with plot_target"
        )
    whole = evaluation.result(target_id)
    rows = [*ranked, whole]
    names = [str(p.scope) for p in ranked] + [words["whole"]]
    fig, ax = _axes(ax, (8.0, 0.36 * len(rows) + 1.6))
    families = _families(font)
    ys = [float(i) for i in range(len(ranked))] + [len(ranked) + 0.4]
    rates = [None if r.completion is None else 100 * r.completion for r in rows]
    widths = [0.0 if v is None else min(max(v, 0.0), _PARTS_CAP) for v in rates]
    for gid, picked in (("parts", slice(0, -1)), ("whole", slice(-1, None))):
        bars = ax.barh(
            ys[picked],
            widths[picked],
            color=[_FILL[r.light] for r in rows[picked]],
            edgecolor="white",
            height=0.66,
            gid=gid,
        )
        for bar, r in zip(bars, rows[picked], strict=True):
            bar.set_hatch(_HATCH[r.light])
    expected = [(y, 100 * r.expected) for y, r in zip(ys, rows, strict=True) if r.expected]
    _expected_ticks(ax, [(y, min(x, _PARTS_CAP)) for y, x in expected], words["expected"])
    ax.axvline(100, color=_TARGET, linestyle=":", linewidth=1.2, label=words["full"], gid="target")
    for y, w, rate, r in zip(ys, widths, rates, rows, strict=True):
        label = r.status.label_zh if lang == "zh" else r.status.label_en
        shown = "—" if rate is None else f"{rate:.1f}%"
        # right of the bar and of the pace tick, so that neither hides the other
        tick = min(100 * r.expected, _PARTS_CAP) if r.expected is not None else 0.0
        ax.text(
            max(w, tick + 1) + 2,
            y,
            f"{shown} {_MARK[r.light]} {label}",
            va="center",
            fontsize=8.5,
            color=_FILL[r.light] if r.light is not Light.YELLOW else "#7d4e00",
            fontfamily=families,
        )
    ax.set_yticks(ys, names)
    ax.tick_params(axis="y", labelsize=9, length=0)
    ax.tick_params(labelfontfamily=families)
    ax.get_yticklabels()[-1].set_fontweight("bold")
    ax.invert_yaxis()
    top = max([100.0, *widths, *(x for _, x in expected)])
    ax.set_xlim(0, min(top, _PARTS_CAP) * 1.25)
    ax.set_xlabel(words["completion"], fontfamily=families)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        words["parts"].format(title=whole.title, date=evaluation.as_of.isoformat()),
        loc="left",
        fontsize=11,
        fontfamily=families,
    )
    ax.legend(prop={"family": families, "size": 9}, loc="lower right", frameon=False)
    return fig


def plot_forecast(
    forecast: Forecast,
    ax: Axes | None = None,
    *,
    title: str = "",
    unit: str = "",
    lang: str = "zh",
    font: str | None = None,
) -> Figure:
    """Draw a forecast: the figures so far, the path to the deadline and its interval.

    Lines and areas (each with a ``gid``): ``actual`` (the figures used), ``forecast`` (the
    path from the latest figure to the deadline), ``interval`` (the band between low and high)
    and ``target`` when the forecast has one.

    Args:
        forecast: A `targetkit.forecast.Forecast` (from `forecast_series` or a result's
            ``forecast``).
        ax: Axes to draw into; a new figure is made when None.
        title: A title for the chart.
        unit: The unit, shown on the y axis.
        lang: ``zh`` (default) or ``en`` for labels.
        font: A font family for Chinese text; default: `find_cjk_font`.

    Returns:
        The figure drawn on; a new one shows itself as a picture in a notebook.

    Raises:
        PlotsUnavailableError: When matplotlib is not installed.
    """
    words = _words(lang)
    fig, ax = _axes(ax, (6.4, 3.6))
    families = _families(font)
    if title:
        ax.set_title(title, loc="left", fontsize=11, fontfamily=families)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#d8dee4", linewidth=0.8)
    seen = list(forecast.points)
    ax.plot(
        [_x(d) for d, _ in seen],
        [v for _, v in seen],
        color=_ACTUAL,
        linewidth=2,
        marker="o",
        label=words["actual"],
        gid="actual",
        zorder=3,
    )
    now = forecast.points[-1][1] if forecast.points else forecast.value
    path = [(forecast.observed_on, now, now, now), *forecast.path]
    xs = [_x(p[0]) for p in path]
    ax.fill_between(
        xs,
        [p[2] for p in path],
        [p[3] for p in path],
        color=_PACE,
        alpha=0.18,
        linewidth=0,
        label=words["interval"],
        gid="interval",
    )
    ax.plot(
        xs,
        [p[1] for p in path],
        linestyle="--",
        color=_ACTUAL,
        linewidth=1.6,
        label=words["forecast"],
        gid="forecast",
    )
    if forecast.target is not None:
        ax.axhline(
            forecast.target,
            linestyle=":",
            color=_TARGET,
            linewidth=1.5,
            label=words["target"],
            gid="target",
        )
    ax.annotate(
        f"{fmt(forecast.value)} ({fmt(forecast.low)}–{fmt(forecast.high)})",
        (_x(forecast.deadline), forecast.value),
        textcoords="offset points",
        xytext=(-6, 8),
        ha="right",
        fontsize=9,
        color=_ACTUAL,
        fontfamily=families,
    )
    ax.set_ylim(bottom=min(0.0, forecast.low))
    if unit:
        ax.set_ylabel(words["unit"].format(unit=unit), fontfamily=families)
    dates = _dates()
    ax.xaxis.set_major_locator(dates.MonthLocator(bymonthday=1, interval=2))
    ax.xaxis.set_major_formatter(dates.DateFormatter("%m"))
    ax.legend(loc="upper left", fontsize=8, frameon=False, prop={"family": families})
    return fig
