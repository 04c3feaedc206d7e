"""The analyst's views: changes between two evaluations (环比) and the styled frame.

The numbers of the change from 2023-06-30 to 2023-09-30 are worked by hand from the tables of
examples/yichang_2023/STORY.md (R, E and G per target at both dates).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import attrs
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit.render import notebook
from targetkit.render.notebook import Change, Changes, NotebookUnavailableError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "yichang_2023"
Q2, Q3 = dt.date(2023, 6, 30), dt.date(2023, 9, 30)


@pytest.fixture(scope="module")
def plan() -> tk.Plan:
    return tk.load(EXAMPLE / "plan.toml")


@pytest.fixture(scope="module")
def actuals(plan: tk.Plan) -> tk.Actuals:
    return tk.read_actuals(EXAMPLE / "actuals", plan)


@pytest.fixture(scope="module")
def q2(plan: tk.Plan, actuals: tk.Actuals) -> tk.Evaluation:
    return tk.evaluate(plan, actuals, as_of=Q2)


@pytest.fixture(scope="module")
def q3(plan: tk.Plan, actuals: tk.Actuals) -> tk.Evaluation:
    return tk.evaluate(plan, actuals, as_of=Q3)


# --------------------------------------------------------------------------- changes

# STORY.md, as-of 2023-06-30 → as-of 2023-09-30: the eight targets whose status changed.
CHANGED = {
    "rd_intensity_rank": ("behind", "on_track", "better"),  # rank 4 (= baseline) → 3
    "industrial_rd_share": ("off_track", "behind", "better"),  # 1.58% → 1.62% (= baseline)
    "lab_2022_assessment_done": ("on_track", "met", "better"),  # done 2023-08-18
    "new_innovation_platforms": ("behind", "off_track", "worse"),  # −25.00 → −35.71
    "hightech_va_share": ("off_track", "behind", "better"),  # 18.35% → 19.39%
    "new_tech_brokers": ("behind", "on_track", "better"),  # −13.57 → +8.57
    "reform_action_plan_issued": ("on_track", "met", "better"),  # done 2023-09-12
    "agri_problems_solved": ("behind", "on_track", "better"),  # −5.00 → 0.00
}

# Gap moves G(09-30) − G(06-30) in points, from R and E of STORY.md's tables.
GAP_MOVES = {
    "talent_recruited": (1340 / 3000 - 6 / 12) * 100 - (620 / 3000 - 3 / 12) * 100,  # −1.00
    "new_innovation_platforms": (2 / 14 - 6 / 12) * 100 - (0 / 14 - 3 / 12) * 100,  # −10.71
    "tech_sme_registered": (1052 / 1300 - 6 / 12) * 100 - (618 / 1300 - 3 / 12) * 100,  # +8.38
    "new_tech_brokers": (41 / 70 - 6 / 12) * 100 - (8 / 70 - 3 / 12) * 100,  # +22.14
    "tech_contract_turnover": (201.2 / 360 - 6 / 12) * 100 - (98.5 / 360 - 3 / 12) * 100,
    "agri_problems_solved": (5 / 10 - 6 / 12) * 100 - (2 / 10 - 3 / 12) * 100,  # +5.00
    "sci_loan_new_firms": (13 / 30 - 6 / 12) * 100 - (7 / 30 - 3 / 12) * 100,  # −5.00
    "sci_loans_count": (17 / 30 - 6 / 12) * 100 - (8 / 30 - 3 / 12) * 100,  # +5.00
    "sci_loans_amount": (1.2 / 3 - 6 / 12) * 100 - (0.38 / 3 - 3 / 12) * 100,  # +2.33
    # levels: the gap is the distance to the target (share − 20%) or to the baseline (1.62%)
    "hightech_va_share": (527.0 / 2718.3 - 0.20) * 100 - (231.6 / 1262.4 - 0.20) * 100,
    "industrial_rd_share": (1.62 - 1.62) - (1.58 - 1.62),  # +0.04
}


def test_changes_from_mid_year_to_the_third_quarter(q2: tk.Evaluation, q3: tk.Evaluation) -> None:
    got = q3.changes(q2)
    assert isinstance(got, Changes)
    assert (got.previous_as_of, got.current_as_of) == (Q2, Q3)
    assert len(got) == 24
    assert [r.target for r in got] == [t.id for t in q3.plan.targets]
    assert {
        r.target: (str(r.previous), str(r.current), r.direction) for r in got.changed
    } == CHANGED
    assert [r.target for r in got.worse] == ["new_innovation_platforms"]
    assert len(got.better) == 7
    moves = {r.target: r.gap_move_pp for r in got if r.gap_move_pp is not None}
    assert moves == pytest.approx(GAP_MOVES, abs=1e-9)
    assert got["talent_recruited"].gap_move_pp == pytest.approx(-1.0)
    assert got["new_innovation_platforms"].gap_move_pp == pytest.approx(-75 / 7)  # −10.71
    # unchanged statuses are "same"; targets without a gap at either date have no move
    assert got["talent_recruited"].direction == "same"
    assert got["rd_spending"].direction == "same"  # no_data on both sides
    assert got["rd_intensity_rank"].gap_move_pp is None
    with pytest.raises(KeyError):
        got["no_such_target"]


def test_changes_is_the_same_from_the_method_and_the_function(
    q2: tk.Evaluation, q3: tk.Evaluation
) -> None:
    assert q3.changes(q2) == notebook.changes(q3, q2)
    # a frozen value: equal inputs, equal values; nothing to assign
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        notebook.changes(q3, q2).rows = ()  # type: ignore[misc]


def test_changes_to_frame(q2: tk.Evaluation, q3: tk.Evaluation) -> None:
    frame = q3.changes(q2).to_frame()
    assert list(frame.columns) == [
        "target",
        "title",
        "previous_status",
        "current_status",
        "direction",
        "status_changed",
        "previous_gap_pp",
        "current_gap_pp",
        "gap_move_pp",
    ]
    assert frame["status_changed"].sum() == 8
    assert str(frame["gap_move_pp"].dtype) == "float64"
    row = frame.set_index("target").loc["new_tech_brokers"]
    assert (row["previous_status"], row["current_status"]) == ("behind", "on_track")
    assert row["gap_move_pp"] == pytest.approx(GAP_MOVES["new_tech_brokers"])


def test_changes_html_lists_the_changed_targets_first(q2: tk.Evaluation, q3: tk.Evaluation) -> None:
    text = q3.changes(q2)._repr_html_()
    assert text.startswith('<div class="tk-nb"><style>')
    assert "状态变化 8 项（好转 7，变差 1）" in text
    order = [text.index(f'data-target="{t}"') for t in (*CHANGED, "talent_recruited")]
    assert order == sorted(order)  # changed first, in plan order; then the rest
    assert 'data-direction="worse"' in text
    assert "↓ -10.7" in text  # new_innovation_platforms
    assert "↑ +22.1" in text  # new_tech_brokers
    english = q3.changes(q2).to_html(lang="en")
    assert "8 changed status (7 better, 1 worse)" in english
    assert "Gap move (pp)" in english
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        q3.changes(q2).to_html(lang="fr")


def test_nothing_changed(q3: tk.Evaluation) -> None:
    same = q3.changes(q3)
    assert same.changed == ()
    assert all(r.gap_move_pp in (None, 0.0) for r in same)
    assert "没有目标的状态发生变化" in same._repr_html_()


def test_a_revised_plan_compares_by_target_id(
    plan: tk.Plan, actuals: tk.Actuals, q3: tk.Evaluation
) -> None:
    shorter = attrs.evolve(plan, targets=plan.targets[1:])
    earlier = tk.evaluate(shorter, actuals, as_of=Q2)
    later = tk.evaluate(shorter, actuals, as_of=Q3)
    added = q3.changes(earlier)
    assert added.rows[0].target == "cmcc_datacenter_approved"
    assert (added.rows[0].previous, added.rows[0].direction) == (None, "new")
    dropped = later.changes(tk.evaluate(plan, actuals, as_of=Q2))
    assert len(dropped) == 24
    assert dropped.rows[-1].target == "cmcc_datacenter_approved"
    assert (dropped.rows[-1].current, dropped.rows[-1].direction) == (None, "dropped")
    assert dropped.rows[-1].status_changed
    html = dropped.to_html()
    assert "已删除" in html


def test_direction_of_a_change() -> None:
    def change(before: str, after: str) -> Change:
        return Change(target="t", title="t", previous=tk.Status(before), current=tk.Status(after))

    assert change("behind", "off_track").direction == "worse"
    assert change("off_track", "missed").direction == "worse"
    assert change("on_track", "met").direction == "better"
    assert change("no_data", "behind").direction == "unknown"
    assert change("met", "no_data").direction == "unknown"
    assert change("no_data", "no_data").direction == "same"


def test_changes_refuses_other_plans_and_swapped_dates(
    plan: tk.Plan, q2: tk.Evaluation, q3: tk.Evaluation
) -> None:
    with pytest.raises(ValueError, match=r"later than the current one \(as of 2023-06-30\)"):
        q2.changes(q3)
    other = tk.evaluate(attrs.evolve(plan, id="another"), None, as_of=Q2)
    with pytest.raises(ValueError, match="different plans"):
        q3.changes(other)


# --------------------------------------------------------------------------- styled frame


def test_styled_frame_has_lights_bars_and_pace_ticks(q3: tk.Evaluation) -> None:
    styler = q3.styled()
    frame = styler.data  # type: ignore[attr-defined]  # not in pandas-stubs
    assert list(frame.columns) == [
        "状态",
        "目标",
        "实际",
        "单位",
        "目标值",
        "完成率",
        "序时进度",
        "差距(个百分点)",
        "责任单位",
        "说明",
    ]
    assert frame.index.name == "id"
    assert list(frame.index) == [t.id for t in q3.plan.targets]
    assert frame.loc["new_innovation_platforms", "状态"] == "■ 严重滞后"
    assert frame.loc["talent_recruited", "完成率"] == pytest.approx(1340 / 3000)
    html = styler.to_html()
    # the completion bar of talent_recruited: 44.7% filled in yellow, a tick at 50%
    assert "rgba(154, 103, 0, 0.35) 44.7%" in html
    assert "#1f2328 calc(50.0% - 1px) calc(50.0% + 1px)" in html
    assert "#fff8c5" in html  # the yellow tint of the status cell
    assert ">44.7%<" in html
    assert ">-5.3<" in html
    english = q3.styled(lang="en").data  # type: ignore[attr-defined]
    assert english.loc["new_innovation_platforms", "Status"] == "■ off track"
    assert english.loc["talent_recruited", "Explanation"].startswith("Jan–Jun cumulative")


def test_styled_frame_exports_to_excel(q3: tk.Evaluation, tmp_path: Path) -> None:
    path = tmp_path / "q3.xlsx"
    q3.styled().to_excel(path, sheet_name="2023-09-30")
    sheet = openpyxl.load_workbook(path)["2023-09-30"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["id", "状态", "目标"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert len(rows) == 24
    talent = rows["talent_recruited"]
    status, completion, expected, gap = (
        talent[header.index(c)] for c in ("状态", "完成率", "序时进度", "差距(个百分点)")
    )
    assert status.value == "▲ 滞后"
    assert status.fill.fgColor.rgb == "00FFF8C5"
    assert status.font.color.rgb == "007D4E00"
    assert status.font.b
    assert completion.value == pytest.approx(1340 / 3000)
    assert completion.number_format == "0.0%"
    assert expected.value == pytest.approx(0.5)
    assert gap.value == pytest.approx(-16 / 3)
    assert gap.number_format == "+0.0;-0.0;0.0"
    assert rows["rd_spending"][header.index("状态")].fill.fgColor.rgb == "00EAEEF2"


def test_styled_unknown_language(q3: tk.Evaluation) -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        q3.styled(lang="fr")


@pytest.mark.parametrize(
    ("missing", "call"),
    [("jinja2", "ev.styled()"), ("openpyxl", "ev.styled().to_excel('never-written.xlsx')")],
)
def test_without_the_extra_the_error_says_what_to_install(
    missing: str, call: str, tmp_path: Path
) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "import datetime as dt, targetkit as tk\n"
        f"plan = tk.load({str(EXAMPLE / 'plan.toml')!r})\n"
        "ev = tk.evaluate(plan, None, as_of=dt.date(2023, 6, 30))\n"
        "try:\n"
        f"    {call}\n"
        "except tk.TargetkitError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("NotebookUnavailableError ")
    assert missing in done.stdout
    assert "pip install 'targetkit[notebook]'" in done.stdout
    assert not (tmp_path / "never-written.xlsx").exists()


def test_notebook_errors_are_import_errors() -> None:
    assert issubclass(NotebookUnavailableError, ImportError)
    assert issubclass(NotebookUnavailableError, tk.TargetkitError)


# --------------------------------------------------------------------------- properties

_YEAR = st.dates(min_value=dt.date(2022, 12, 1), max_value=dt.date(2024, 2, 29))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=_YEAR, second=_YEAR)
def test_changes_add_up_to_the_summaries(
    plan: tk.Plan, actuals: tk.Actuals, first: dt.date, second: dt.date
) -> None:
    earlier, later = sorted((first, second))
    before = tk.evaluate(plan, actuals, as_of=earlier)
    after = tk.evaluate(plan, actuals, as_of=later)
    got = after.changes(before)
    # the counts per status move exactly as the rows say
    for status in tk.Status:
        into = sum(1 for r in got if r.current == status)
        out_of = sum(1 for r in got if r.previous == status)
        assert into - out_of == after.summary[status] - before.summary[status]
    # a status changes exactly when the rows differ, and better/worse split the changes
    assert {r.target for r in got.changed} == {
        a.target for a, b in zip(after.results, before.results, strict=True) if a.status != b.status
    }
    assert set(got.better).isdisjoint(got.worse)
    assert len(got.better) + len(got.worse) <= len(got.changed)
    # comparing an evaluation with itself changes nothing
    assert after.changes(after).changed == ()


def test_the_notebook_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import notebook as bench

    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for words in ("baseline", "changes()", "styled().to_html()"):
        assert words in out
