"""The shipped Yichang 2023 example: the story told in examples/yichang_2023/STORY.md."""

from __future__ import annotations

import datetime as dt
import io
import json
import runpy
from pathlib import Path

import pytest

import targetkit as tk
from targetkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "yichang_2023"
PLAN = EXAMPLE / "plan.toml"
ACTUALS = EXAMPLE / "actuals"

DATES = ("2023-03-31", "2023-06-30", "2023-09-30", "2023-12-31", "2024-01-31")

# Worked out by hand in STORY.md (R, E and G for each cell are there).
STORY = """
cmcc_datacenter_approved   on_track  on_track  on_track  met       met
cmcc_datacenter_started    on_track  on_track  on_track  behind    missed
rd_spending                no_data   no_data   no_data   no_data   no_data
rd_intensity_rank          no_data   behind    on_track  on_track  met
industrial_rd_share        no_data   off_track behind    on_track  met
talent_recruited           no_data   behind    behind    on_track  met
national_talent_selected   no_data   on_track  on_track  on_track  met
lab_work_plan_issued       on_track  met       met       met       met
lab_2022_assessment_done   on_track  on_track  met       met       met
new_innovation_platforms   no_data   behind    off_track behind    met
new_provincial_incubators  no_data   on_track  on_track  on_track  met
new_municipal_incubators   no_data   on_track  on_track  on_track  missed
hightech_va_share          no_data   off_track behind    on_track  met
hightech_enterprises_net   no_data   on_track  on_track  on_track  met
tech_sme_registered        on_track  on_track  on_track  on_track  met
tech_transfer_institutions no_data   on_track  on_track  met       met
new_tech_brokers           no_data   behind    on_track  on_track  met
tech_contract_turnover     on_track  on_track  on_track  on_track  met
reform_action_plan_issued  on_track  on_track  met       met       met
agri_problems_solved       no_data   behind    on_track  on_track  met
finance_plan_issued        on_track  on_track  on_track  behind    met
sci_loan_new_firms         behind    behind    behind    on_track  met
sci_loans_count            behind    on_track  on_track  met       met
sci_loans_amount           behind    behind    behind    behind    met
"""
EXPECTED = {
    line.split()[0]: dict(zip(DATES, line.split()[1:], strict=True))
    for line in STORY.strip().splitlines()
}
EXIT_CODES = {"2023-03-31": 1, "2023-06-30": 2, "2023-09-30": 2, "2023-12-31": 1, "2024-01-31": 2}


@pytest.fixture(scope="module")
def plan() -> tk.Plan:
    return tk.load(PLAN)


@pytest.fixture(scope="module")
def actuals(plan: tk.Plan) -> tk.Actuals:
    return tk.read_actuals(ACTUALS, plan)


def test_plan_has_the_agreed_ids(plan: tk.Plan) -> None:
    assert plan.id == "yichang-2023-sti"
    assert [t.id for t in plan.targets] == list(EXPECTED)
    assert (plan.start, plan.end) == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert plan.timezone == "Asia/Shanghai"
    share = plan.target("hightech_va_share").rule
    assert share.indicator_ids() == ("hightech_value_added", "gdp")


def test_binding_follows_the_wording(plan: tk.Plan) -> None:
    binding = {t.id for t in plan.targets if t.binding}
    assert {
        "rd_spending",
        "industrial_rd_share",
        "agri_problems_solved",
        "rd_intensity_rank",
    } <= binding
    assert {
        "talent_recruited",
        "new_innovation_platforms",
        "tech_contract_turnover",
        "cmcc_datacenter_started",
    }.isdisjoint(binding)


def test_sources_are_quoted_from_the_seed(plan: tk.Plan) -> None:
    text = (ROOT / "examples" / "yichang_2023" / "work_points.txt").read_text(encoding="utf-8")
    for target in plan.targets:
        assert target.source, target.id
        assert target.source in text, target.id


@pytest.mark.parametrize("as_of", DATES)
def test_statuses_follow_the_story(plan: tk.Plan, actuals: tk.Actuals, as_of: str) -> None:
    ev = tk.evaluate(plan, actuals, as_of=dt.date.fromisoformat(as_of))
    got = {r.target: r.status.value for r in ev.results}
    want = {target: row[as_of] for target, row in EXPECTED.items()}
    assert got == want


def test_mid_year_numbers(plan: tk.Plan, actuals: tk.Actuals) -> None:
    ev = tk.evaluate(plan, actuals, as_of=dt.date(2023, 9, 30))
    talent = ev.result("talent_recruited")
    # the revision of 2023-08-09 (1340) replaces the first report (1520)
    assert talent.actual == 1340
    assert talent.gap_pp == pytest.approx(100 * (1340 / 3000 - 0.5))
    platforms = ev.result("new_innovation_platforms")
    assert platforms.gap_pp == pytest.approx(100 * (2 / 14 - 0.5))
    assert platforms.status is tk.Status.OFF_TRACK


def test_revision_visible_only_once_reported(plan: tk.Plan, actuals: tk.Actuals) -> None:
    before = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 31)).result("talent_recruited")
    after = tk.evaluate(plan, actuals, as_of=dt.date(2023, 8, 31)).result("talent_recruited")
    assert (before.actual, before.status) == (1520, tk.Status.ON_TRACK)
    assert (after.actual, after.status) == (1340, tk.Status.BEHIND)


def test_loans_given_in_wan_convert_to_yi(plan: tk.Plan, actuals: tk.Actuals) -> None:
    r = tk.evaluate(plan, actuals, as_of=dt.date(2024, 1, 31)).result("sci_loans_amount")
    assert r.unit == "亿元"
    assert r.actual == pytest.approx(3.26)
    assert any(e.unit == "万元" for e in r.evidence)


@pytest.mark.parametrize("as_of", DATES)
def test_cli_json_and_exit_code(as_of: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["check", str(PLAN), "--actuals", str(ACTUALS), "--as-of", as_of, "--format", "json"],
        stdout=out,
        stderr=err,
    )
    assert err.getvalue() == ""
    assert code == EXIT_CODES[as_of]
    doc = json.loads(out.getvalue())
    assert doc["plan"]["id"] == "yichang-2023-sti"
    assert {r["target"]: r["status"] for r in doc["results"] if r["scope"] is None} == {
        t: row[as_of] for t, row in EXPECTED.items()
    }


def test_validate_exits_zero() -> None:
    out = io.StringIO()
    assert main(["validate", str(PLAN)], stdout=out, stderr=io.StringIO()) == 0
    assert "24 targets" in out.getvalue()


def test_readme_main_command_prints_the_table() -> None:
    out = io.StringIO()
    code = main(
        [
            "check",
            str(PLAN),
            "--actuals",
            str(ACTUALS),
            "--as-of",
            "2023-06-30",
            "--fail-on",
            "never",
        ],
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    assert "talent_recruited" in out.getvalue()
    assert "滞后" in out.getvalue()


def test_quarterly_notebook_script_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLE / "quarterly.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "2023-06-30" in printed
    assert "talent_recruited" in printed


WORKBOOK = EXAMPLE / "统计月报_2023.xlsx"
WORKBOOK_DATES = (*DATES, "2023-05-31", "2023-07-31", "2023-08-31", "2023-11-30")


@pytest.fixture(scope="module")
def workbook_actuals(plan: tk.Plan) -> tk.Actuals:
    return tk.read_actuals(WORKBOOK, plan)


def test_the_workbook_holds_the_figures_of_the_csv_files(
    actuals: tk.Actuals, workbook_actuals: tk.Actuals
) -> None:
    columns = ["indicator", "stage", "date", "value", "reported_at"]

    def rows(a: tk.Actuals) -> list[tuple[object, ...]]:
        return sorted(a.frame[columns].itertuples(index=False, name=None), key=str)

    assert rows(workbook_actuals) == rows(actuals)
    # every observation says which cell it came from
    files = set(workbook_actuals.frame["file"])
    assert f"{WORKBOOK}!6月!C5" in files
    assert all(str(f).startswith(f"{WORKBOOK}!") for f in files)
    # the growth column of the 3月 sheet has no growth-rate indicator in the plan: one note
    assert [n for n in workbook_actuals.notes if "同比" in n] == [
        f"{WORKBOOK}!3月: the growth (同比) figures of 1 rows were not read: "
        "the plan has no growth-rate indicator for them"
    ]


@pytest.mark.parametrize("as_of", WORKBOOK_DATES)
def test_the_workbook_gives_the_statuses_of_the_csv_files(
    plan: tk.Plan, actuals: tk.Actuals, workbook_actuals: tk.Actuals, as_of: str
) -> None:
    day = dt.date.fromisoformat(as_of)
    from_csv = tk.evaluate(plan, actuals, as_of=day)
    from_book = tk.evaluate(plan, workbook_actuals, as_of=day)
    assert from_book.to_frame().equals(from_csv.to_frame())
    if as_of in EXPECTED["talent_recruited"]:
        assert {r.target: r.status.value for r in from_book.results} == {
            t: row[as_of] for t, row in EXPECTED.items()
        }


def test_the_workbook_checks_from_the_command_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["check", str(PLAN), "-a", str(WORKBOOK), "--as-of", "2023-06-30", "--format", "json"],
        stdout=out,
        stderr=err,
    )
    assert code == EXIT_CODES["2023-06-30"]
    doc = json.loads(out.getvalue())
    assert {r["target"]: r["status"] for r in doc["results"] if r["scope"] is None} == {
        t: row["2023-06-30"] for t, row in EXPECTED.items()
    }
    # what was not read is said on stderr, once
    assert err.getvalue() == (
        f"note: {WORKBOOK}!3月: the growth (同比) figures of 1 rows were not read: "
        "the plan has no growth-rate indicator for them\n"
    )


DISTRICTS = EXAMPLE / "districts"


def _with_districts(as_of: str) -> tk.Evaluation:
    plan = tk.load_plan(PLAN)
    actuals = tk.read_actuals([ACTUALS, DISTRICTS], plan, as_of=dt.date.fromisoformat(as_of))
    return tk.evaluate(plan, actuals, as_of=dt.date.fromisoformat(as_of))


@pytest.mark.parametrize("as_of", DATES)
def test_the_district_figures_leave_the_city_results_alone(as_of: str) -> None:
    ev = _with_districts(as_of)
    assert {r.target: r.status.value for r in ev.results} == {
        t: row[as_of] for t, row in EXPECTED.items()
    }
    assert all(not r.notes for r in ev.results)  # the parts add up to the city's figures


def test_the_districts_at_the_third_quarter() -> None:
    # STORY.md § 目标分解: 1–6月 figures, E = 6/12
    ev = _with_districts("2023-09-30")
    parts = {p.scope: p for p in ev.parts("tech_contract_turnover")}
    assert len(parts) == 14
    assert sum(p.target_value or 0 for p in parts.values()) == pytest.approx(360)
    assert sum(p.actual or 0 for p in parts.values()) == pytest.approx(201.2)
    behind = {s for s, p in parts.items() if p.status is tk.Status.BEHIND}
    assert behind == {"伍家岗区", "枝江市", "兴山县", "点军区"}
    assert parts["点军区"].gap_pp == pytest.approx(-11.25)
    assert parts["宜昌高新区"].completion == pytest.approx(73.5 / 110)
    ranked = [str(p.scope) for p in ev.ranking("tech_contract_turnover")]
    assert (ranked[0], ranked[-1]) == ("宜昌高新区", "点军区")
    statuses = {p.status for p in ev.parts("hightech_enterprises_net")}
    assert statuses == {tk.Status.ON_TRACK}
    lagging = [a for a in ev.alerts if a.scope]
    assert sorted(str(a.scope) for a in lagging) == sorted(str(s) for s in behind)


def test_the_districts_at_the_year_end() -> None:
    ev = _with_districts("2024-01-31")
    missed = {
        t: {p.scope for p in ev.parts(t) if p.status is tk.Status.MISSED}
        for t in ("tech_contract_turnover", "hightech_enterprises_net")
    }
    assert missed == {
        "tech_contract_turnover": {"点军区", "兴山县"},
        "hightech_enterprises_net": {"点军区", "枝江市", "兴山县"},
    }
    met = [p for p in ev.parts("hightech_enterprises_net") if p.status is tk.Status.MET]
    assert len(met) == 11
    assert ev.result("hightech_enterprises_net").actual == pytest.approx(115)


def test_without_the_district_file_every_part_has_no_data() -> None:
    plan = tk.load_plan(PLAN)
    actuals = tk.read_actuals(ACTUALS, plan, as_of=dt.date(2024, 1, 31))
    ev = tk.evaluate(plan, actuals, as_of=dt.date(2024, 1, 31))
    assert {p.status for p in ev.parts("tech_contract_turnover")} == {tk.Status.NO_DATA}


def test_the_worked_example_streams_the_results_it_returns(
    plan: tk.Plan, actuals: tk.Actuals
) -> None:
    for as_of in DATES:
        day = dt.date.fromisoformat(as_of)
        streamed = list(tk.evaluate(plan, actuals, as_of=day).stream())
        assert streamed == list(tk.evaluate(plan, actuals, as_of=day).with_parts())
        statuses = {r.target: r.status.value for r in streamed if r.scope is None}
        assert [r.target for r in streamed if r.scope is None] == [t.id for t in plan.targets]
        assert {t: statuses[t] for t in EXPECTED} == {t: e[as_of] for t, e in EXPECTED.items()}
