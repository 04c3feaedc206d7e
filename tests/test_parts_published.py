"""A real published district table (眉山市 2019 年民生工程就业目标) reproduced part by part.

The plan, the districts' figures and the printed table are in tests/data/parts/meishan_2019/,
with the address they were read from. The city's figures are not given: they are rolled up.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

import targetkit as tk
from targetkit import Status

DATA = Path(__file__).parent / "data" / "parts" / "meishan_2019"
SOURCE = "https://www.ms.gov.cn/info/5565/1083570.htm"


def _printed(value: float) -> str:
    """Write a percentage as the table prints it: one decimal, half up, no trailing zero."""
    text = str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return text.removesuffix(".0")


@pytest.fixture(scope="module")
def evaluation() -> tk.Evaluation:
    plan = tk.load(DATA / "plan.toml")
    actuals = tk.read_actuals(DATA / "actuals.csv", plan)
    return tk.evaluate(plan, actuals, as_of=dt.date(2020, 1, 22))


def _published() -> list[dict[str, str]]:
    with (DATA / "published.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_source_is_recorded_beside_every_figure() -> None:
    assert SOURCE in (DATA / "plan.toml").read_text(encoding="utf-8")
    assert SOURCE in (DATA / "README.md").read_text(encoding="utf-8")
    with (DATA / "actuals.csv").open(encoding="utf-8") as f:
        assert {row["source"] for row in csv.DictReader(f)} == {SOURCE}


def test_the_parts_add_up_to_the_city_as_printed() -> None:
    plan = tk.load(DATA / "plan.toml")
    totals = {t.id: sum(p.value for p in t.parts) for t in plan.targets}
    # the rate is no sum: every district has the city's 4.3%
    assert totals == {
        "new_jobs": 27800,
        "reemployed": 4400,
        "hard_to_employ": 2000,
        "unemployment_rate": pytest.approx(6 * 4.3),
        "laid_off": 400,
    }


@pytest.mark.parametrize(
    "row", _published(), ids=lambda r: f"{r['indicator']}-{r['scope'] or '全市'}"
)
def test_every_printed_figure_is_reproduced(evaluation: tk.Evaluation, row: dict[str, str]) -> None:
    scope = row["scope"] or None
    if scope is None:
        result = evaluation.result(row["indicator"])
    else:
        (result,) = [p for p in evaluation.parts(row["indicator"]) if p.scope == scope]
    assert result.target_value == pytest.approx(float(row["target"]))
    assert result.actual == pytest.approx(float(row["actual"]))
    assert result.status is Status.MET
    if row["completion_pct"]:
        assert result.completion is not None
        assert _printed(100 * result.completion) == row["completion_pct"]


def test_the_city_is_rolled_up_from_the_districts(evaluation: tk.Evaluation) -> None:
    jobs = evaluation.result("new_jobs")
    assert jobs.actual == 22921 + 6138 + 12244 + 3889 + 3029 + 4021 == 52242
    assert [e.source for e in jobs.evidence] == ["分项合计"]
    # the rate cannot be added up: the city's own 3.57% is used
    rate = evaluation.result("unemployment_rate")
    assert rate.actual == pytest.approx(3.57)


def test_all_29_printed_rates_and_the_ranking(evaluation: tk.Evaluation) -> None:
    rates = [r for r in _published() if r["completion_pct"]]
    assert len(rates) == 29  # 4 targets × (city + 6 districts) + 市本级
    ranked = [p.scope for p in evaluation.ranking("new_jobs")]
    # the table prints no ranking; ordered by the printed 完成比例: 286.5 > 211.6 > 161.5 > …
    assert ranked == ["东坡区", "青神县", "彭山区", "丹棱县", "仁寿县", "洪雅县"]
    # half up, as printed: 121 of 80 is 151.25%, printed 151.3
    assert _printed(151.25) == "151.3"


def test_the_rankings_as_json_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from targetkit.cli import main

    args = ["check", str(DATA / "plan.toml"), "-a", str(DATA / "actuals.csv")]
    assert main([*args, "--as-of", "2020-01-22", "--by", "scope", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    printed = {(r["indicator"], r["scope"]): r["completion_pct"] for r in _published()}
    reproduced = 0
    for target in doc["targets"]:
        for entry in [target["whole"], *target["ranking"]]:
            rate = printed[(target["target"], entry["scope"] or "")]
            if rate:
                assert _printed(100 * entry["completion"]) == rate
                reproduced += 1
    assert reproduced == 29
    scopes = {s["scope"]: s for s in doc["scopes"]}
    assert scopes["东坡区"]["parts"] == 5
    assert scopes["东坡区"]["counts"]["met"] == 5
    assert scopes["市本级"]["parts"] == 1


def test_the_districts_figures_typed_in_a_workbook_give_the_same_rates(tmp_path: Path) -> None:
    import openpyxl

    plan = tk.load(DATA / "plan.toml")
    with (DATA / "actuals.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = {i.id: i.name for i in plan.indicators}
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "2019年"
    ws.append(["2019年十大民生工程项目完成情况表"])
    ws.append(["指标名称", "县市区", "单位", "全年"])
    last = ""
    for row in rows:  # the name written once per indicator, as such tables do
        name = names[row["indicator"]]
        ws.append(
            ["" if name == last else name, row["scope"] or "全市", row["unit"], float(row["value"])]
        )
        last = name
    path = tmp_path / "眉山民生工程_2019.xlsx"
    wb.save(path)
    ev = tk.evaluate(plan, tk.read_actuals(path, plan), as_of=dt.date(2020, 1, 22))
    reproduced = 0
    for row in _published():
        if not row["completion_pct"]:
            continue
        scope = row["scope"] or None
        result = (
            ev.result(row["indicator"])
            if scope is None
            else next(p for p in ev.parts(row["indicator"]) if p.scope == scope)
        )
        assert result.completion is not None
        assert _printed(100 * result.completion) == row["completion_pct"]
        reproduced += 1
    assert reproduced == 29
    evidence = ev.parts("new_jobs")[0].evidence[0]
    assert (evidence.file, evidence.line) == (f"{path}!2019年!D3", 3)
