"""Charts with matplotlib, drawn headless (Agg): the right lines, markers and bars, in a CJK font.

``filterwarnings = error`` turns matplotlib's "Glyph … missing from font" warning into a failure,
so saving a figure with Chinese labels also checks that no character is drawn as a box.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import targetkit as tk

matplotlib = pytest.importorskip("matplotlib", reason="charts need the 'plots' extra (matplotlib)")
matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from targetkit.render import charts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "yichang_2023"


@pytest.fixture(scope="module")
def plan() -> tk.Plan:
    return tk.load(EXAMPLE / "plan.toml")


@pytest.fixture(scope="module")
def actuals(plan: tk.Plan) -> tk.Actuals:
    return tk.read_actuals(EXAMPLE / "actuals", plan)


@pytest.fixture(scope="module")
def autumn(plan: tk.Plan, actuals: tk.Actuals) -> tk.Evaluation:
    return tk.evaluate(plan, actuals, as_of=dt.date(2023, 10, 31))


def gids(ax: Axes) -> list[str | None]:
    return [line.get_gid() for line in ax.lines]


def ydata(line: Line2D) -> list[float]:
    return np.asarray(line.get_ydata(), dtype=float).tolist()  # type: ignore[no-any-return]


def render(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return buf.getvalue()


def test_a_cjk_font_is_found() -> None:
    family = charts.find_cjk_font()
    if family is None:
        pytest.fail(
            "no font with Chinese glyphs: install one (Debian: apt-get install fonts-noto-cjk, "
            "or run scripts/install-test-deps as root)"
        )
    assert family in charts.CJK_FONT_FAMILIES or family
    path = font_manager.findfont(font_manager.FontProperties(family=family))
    assert charts._has_glyphs(path)


def test_paced_target_has_actual_pace_target_and_as_of(
    autumn: tk.Evaluation, actuals: tk.Actuals
) -> None:
    fig = charts.plot_target(autumn, "talent_recruited", actuals)
    ax = fig.axes[0]
    assert gids(ax) == ["pace", "target", "actual", "as_of"]
    actual = next(line for line in ax.lines if line.get_gid() == "actual")
    # 1–3月 620, 1–6月 1340 (revised), 1–9月 2310: the figures reported by 2023-10-31
    assert ydata(actual) == [620, 1340, 2310]
    pace = next(line for line in ax.lines if line.get_gid() == "pace")
    assert max(ydata(pace)) == 3000
    target = next(line for line in ax.lines if line.get_gid() == "target")
    assert ydata(target) == [3000, 3000]
    # markers by status: two yellow (behind in March and June), one green (on track in September)
    markers = {c.get_gid(): len(c.get_offsets()) for c in ax.collections}  # type: ignore[arg-type]
    assert markers == {"status-green": 1, "status-yellow": 2}
    assert ax.get_title(loc="left") == "● 达序时 · 引育各类科技人才3000人"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [  # type: ignore[union-attr]
        "序时进度",
        "目标",
        "实际",
        "截至 2023-10-31",
    ]
    assert render(fig).startswith(b"\x89PNG")


def test_level_target_has_a_baseline_and_no_pace(
    autumn: tk.Evaluation, actuals: tk.Actuals
) -> None:
    fig = charts.plot_target(autumn, "hightech_va_share", actuals)
    ax = fig.axes[0]
    assert gids(ax) == ["target", "baseline", "actual", "as_of"]
    assert len(ax.lines[2].get_xdata()) == 3  # type: ignore[arg-type]
    render(fig)


def test_rank_is_drawn_upside_down(autumn: tk.Evaluation, actuals: tk.Actuals) -> None:
    ax = charts.plot_target(autumn, "rd_intensity_rank", actuals).axes[0]
    bottom, top = ax.get_ylim()
    assert bottom > top  # rank 1 at the top


def test_milestone_is_a_timeline(autumn: tk.Evaluation, actuals: tk.Actuals) -> None:
    fig = charts.plot_target(autumn, "lab_work_plan_issued", actuals)
    ax = fig.axes[0]
    assert gids(ax) == ["period", "deadline"]
    assert [c.get_gid() for c in ax.collections] == ["status-green"]
    assert any(t.get_text() == "完成 2023-05-26" for t in ax.texts)
    render(fig)


def test_no_data_target_says_so(autumn: tk.Evaluation, actuals: tk.Actuals) -> None:
    ax = charts.plot_target(autumn, "rd_spending", actuals).axes[0]
    assert gids(ax) == ["target", "as_of"]  # the target is a fact of the plan, data or not
    assert [t.get_text() for t in ax.texts] == ["暂无数据"]


def test_draws_into_given_axes_in_english(autumn: tk.Evaluation, actuals: tk.Actuals) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    got = charts.plot_target(autumn, "tech_contract_turnover", actuals, ax, lang="en")
    assert got is fig
    assert ax.get_title(loc="left") == "● on track · 技术合同成交额达到360亿元以上"
    assert "expected pace" in [t.get_text() for t in ax.get_legend().get_texts()]  # type: ignore[union-attr]


def test_without_actuals_only_the_current_value(autumn: tk.Evaluation) -> None:
    ax = charts.plot_target(autumn, "talent_recruited").axes[0]
    actual = next(line for line in ax.lines if line.get_gid() == "actual")
    assert ydata(actual) == [2310]


def test_unknown_target(autumn: tk.Evaluation) -> None:
    with pytest.raises(KeyError):
        charts.plot_target(autumn, "no_such_target")


def test_overview_has_a_bar_per_target(autumn: tk.Evaluation) -> None:
    fig = charts.plot_overview(autumn)
    ax = fig.axes[0]
    bars = ax.containers[0]
    assert len(bars) == len(autumn.results)
    # bar lengths are completion rates in %; targets without one get no bar
    widths = [patch.get_width() for patch in bars]
    for width, r in zip(widths, autumn.results, strict=True):
        expected = 0.0 if r.completion is None else min(max(100 * r.completion, 0.0), 150.0)
        assert width == pytest.approx(expected)
    colours = {r.light for r in autumn.results}
    assert len({patch.get_facecolor() for patch in bars}) == len(colours)
    expected_ticks = [c for c in ax.collections if c.get_gid() == "expected"]
    assert len(expected_ticks) == 1
    assert len(expected_ticks[0].get_offsets()) == sum(  # type: ignore[arg-type]
        1 for r in autumn.results if r.expected is not None
    )
    assert [t.get_text() for t in ax.get_yticklabels()] == [r.title for r in autumn.results]
    labels = [t.get_text() for t in ax.texts]
    assert "50.0% ▲ 滞后" in labels  # new_innovation_platforms: colour and words
    render(fig)


def test_missing_font_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(charts, "CJK_FONT_FAMILIES", ("No Such Font",))
    monkeypatch.setattr(charts, "_CJK_FILE", re.compile("no-such-font-file"))
    charts.find_cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="targetkit.render.charts"):
            assert charts.find_cjk_font() is None
            assert charts.find_cjk_font() is None
        warnings = [r for r in caplog.records if r.name == "targetkit.render.charts"]
        assert len(warnings) == 1
        assert "fonts-noto-cjk" in warnings[0].getMessage()
    finally:
        charts.find_cjk_font.cache_clear()


def test_without_matplotlib_the_error_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import datetime as dt, targetkit as tk\n"
        "from targetkit.render import charts\n"
        "plan = tk.load('examples/yichang_2023/plan.toml')\n"
        "ev = tk.evaluate(plan, None, as_of=dt.date(2023, 6, 30))\n"
        "try:\n"
        "    charts.plot_overview(ev)\n"
        "except tk.TargetkitError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("PlotsUnavailableError ")
    assert "pip install 'targetkit[plots]'" in done.stdout


def test_a_new_chart_shows_itself_in_a_notebook(
    autumn: tk.Evaluation, actuals: tk.Actuals, tmp_path: Path
) -> None:
    for fig in (
        charts.plot_target(autumn, "talent_recruited", actuals),
        charts.plot_overview(autumn),
    ):
        assert isinstance(fig, Figure)
        png, size = fig._repr_png_()  # type: ignore[attr-defined]
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        # drawn at twice the figure's dpi, shown at its size in CSS pixels (cropped tight)
        width, height = struct.unpack(">II", png[16:24])
        assert size == {"width": width // 2, "height": height // 2}
        assert size["width"] <= fig.get_figwidth() * fig.dpi + 20
        fig.savefig(tmp_path / "chart.png")
        assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")


def test_a_chart_drawn_into_given_axes_keeps_their_figure(
    autumn: tk.Evaluation, actuals: tk.Actuals
) -> None:
    fig = Figure()
    got = charts.plot_target(autumn, "talent_recruited", actuals, fig.add_subplot())
    assert type(got) is Figure


# --------------------------------------------------------------------------- parts against pace

MEISHAN = ROOT / "tests" / "data" / "parts" / "meishan_2019"


@pytest.fixture(scope="module")
def meishan() -> tk.Evaluation:
    plan = tk.load(MEISHAN / "plan.toml")
    actuals = tk.read_actuals(MEISHAN / "actuals.csv", plan)
    return tk.evaluate(plan, actuals, as_of=dt.date(2020, 1, 22))


@pytest.fixture(scope="module")
def districts(plan: tk.Plan) -> tk.Evaluation:
    actuals = tk.read_actuals([EXAMPLE / "actuals", EXAMPLE / "districts"], plan)
    return tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 20))


def test_parts_are_bars_in_ranking_order_with_the_whole_last(meishan: tk.Evaluation) -> None:
    fig = charts.plot_parts(meishan, "new_jobs")
    ax = fig.axes[0]
    parts, whole = ax.containers
    assert {p.get_gid() for p in parts} == {"parts"}
    assert {p.get_gid() for p in whole} == {"whole"}
    # the published rates, the best first; bars beyond 200% are cut there
    assert [p.get_width() for p in parts] == pytest.approx(
        [200, 200, 161.5, 159.4, 142.4, 108.0], abs=0.05
    )
    assert [p.get_width() for p in whole] == pytest.approx([187.9], abs=0.05)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "东坡区",
        "青神县",
        "彭山区",
        "丹棱县",
        "仁寿县",
        "洪雅县",
        "合计",
    ]
    labels = [t.get_text() for t in ax.texts]
    assert labels[0] == "286.5% ● 已完成"  # the label gives the figure the bar cannot
    assert labels[-1] == "187.9% ● 已完成"
    (ticks,) = [c for c in ax.collections if c.get_gid() == "expected"]
    assert np.asarray(ticks.get_offsets())[:, 0].tolist() == [100.0] * 7
    assert ax.get_title(loc="left").startswith("城镇新增就业27800人：各单位完成率与序时进度")
    render(fig)


def test_lagging_parts_are_marked_by_colour_hatch_and_words(districts: tk.Evaluation) -> None:
    fig = charts.plot_parts(districts, "tech_contract_turnover", lang="en")
    ax = fig.axes[0]
    ranked = districts.ranking("tech_contract_turnover")
    bars = list(ax.containers[0])
    behind = [b for b, p in zip(bars, ranked, strict=True) if p.status is tk.Status.BEHIND]
    assert len(behind) == 4
    assert {b.get_hatch() for b in behind} == {"//"}
    # 点军区 3.1 of 8 亿元 = 38.8% against 6/12, last of the parts
    assert ax.get_yticklabels()[len(ranked) - 1].get_text() == "点军区"
    assert ax.texts[len(ranked) - 1].get_text() == "38.8% ▲ behind"
    (ticks,) = [c for c in ax.collections if c.get_gid() == "expected"]
    assert set(np.asarray(ticks.get_offsets())[:, 0].tolist()) == {50.0}
    png, _size = fig._repr_png_()  # type: ignore[attr-defined]
    assert png.startswith(b"\x89PNG")


def test_parts_of_a_target_without_parts(meishan: tk.Evaluation, autumn: tk.Evaluation) -> None:
    with pytest.raises(ValueError, match="has no parts"):
        charts.plot_parts(autumn, "talent_recruited")
    with pytest.raises(KeyError):
        charts.plot_parts(meishan, "no_such_target")
