"""Targets split into parts (目标分解): plan, actuals, rollup, results, CLI, worked by hand."""

from __future__ import annotations

import datetime as dt
import io
import json
import textwrap
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import targetkit as tk
from targetkit import Status
from targetkit.cli import main
from targetkit.config import dump, dumps, load
from targetkit.exceptions import Problem
from targetkit.render.formats import render

from .conftest import PLAN_HEAD, check, make_actuals, make_plan

SPLIT = """
[[indicators]]
id = "contracts"
name = "技术合同成交额"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "hte"
name = "高新技术企业数"
unit = "家"
kind = "stock"

[[indicators]]
id = "rd"
name = "研发经费"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "gdp"
name = "地区生产总值"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "rate"
name = "增速"
unit = "%"
kind = "level"

[[targets]]
id = "contracts"
title = "技术合同成交额达到100亿元"
owner = "市科技局"
rule = { kind = "at_least", indicator = "contracts", value = 100 }
parts = [
  { scope = "甲区", value = 60, owner = "甲区科技局" },
  { scope = "乙县", value = 40, owner = "乙县科技局" },
]

[[targets]]
id = "hte"
title = "高新技术企业净增50家"
rule = { kind = "net_increase", indicator = "hte", value = 50 }

[[targets.parts]]
scope = "甲区"
value = 30

[[targets.parts]]
scope = "乙县"
value = 20

[[targets]]
id = "share"
title = "研发经费占GDP比重2.5%"
rule = { kind = "share", numerator = "rd", denominator = "gdp", value = 2.5 }
parts = [{ scope = "甲区", value = 3 }, { scope = "乙县", value = 2 }]

[[targets]]
id = "rate"
title = "增速8%"
rule = { kind = "at_least", indicator = "rate", value = 8 }
parts = [{ scope = "甲区", value = 8 }, { scope = "乙县", value = 8 }]
"""

ROWS = """\
indicator,date,value,unit,scope
contracts,2023-06-30,24,亿元,甲区
contracts,2023-06-30,25,亿元,乙县
hte,2022-12-31,100,家,甲区
hte,2022-12-31,80,家,乙县
hte,2023-06-30,115,家,甲区
hte,2023-06-30,90,家,乙县
rd,2023-06-30,3,亿元,甲区
rd,2023-06-30,1,亿元,乙县
gdp,2023-06-30,100,亿元,甲区
gdp,2023-06-30,100,亿元,乙县
rate,2023-06-30,9,%,甲区
rate,2023-06-30,7,%,乙县
"""

AS_OF = "2023-07-20"


@pytest.fixture
def plan() -> tk.Plan:
    return make_plan(SPLIT)


def test_the_plan_reads_parts_inline_and_as_tables(plan: tk.Plan) -> None:
    contracts = plan.target("contracts")
    assert [(p.scope, p.value, p.owner) for p in contracts.parts] == [
        ("甲区", 60, "甲区科技局"),
        ("乙县", 40, "乙县科技局"),
    ]
    assert [(p.scope, p.value) for p in plan.target("hte").parts] == [("甲区", 30), ("乙县", 20)]


def test_parts_survive_the_round_trip(plan: tk.Plan) -> None:
    assert tk.parse(dump(plan)) == plan
    text = dumps(plan)
    assert tk.parse(tomllib.loads(text)) == plan


def test_a_sum_of_flows_rolls_up(plan: tk.Plan) -> None:
    # 甲区 24 of 60 = 40% (gap -10 → behind), 乙县 25 of 40 = 62.5% (+12.5 → on track);
    # the city has no figure: 24 + 25 = 49 of 100 = 49%, six months of twelve = 50% → -1 behind
    ev = check(plan, ROWS, AS_OF)
    whole = ev.result("contracts")
    assert whole.scope is None
    assert whole.actual == pytest.approx(49)
    assert whole.completion == pytest.approx(0.49)
    assert whole.gap_pp == pytest.approx(-1.0)
    assert whole.status is Status.BEHIND
    assert whole.evidence[0].source == "分项合计"
    jia, yi = ev.parts("contracts")
    assert (jia.scope, jia.actual, jia.target_value, jia.status) == (
        "甲区",
        24,
        60,
        Status.BEHIND,
    )
    assert jia.gap_pp == pytest.approx(-10.0)
    assert jia.owner == "甲区科技局"
    assert (yi.scope, yi.status) == ("乙县", Status.ON_TRACK)
    assert yi.completion == pytest.approx(0.625)
    assert yi.evidence[0].line == 2  # DataFrame rows count from 1


def test_a_net_increase_rolls_up_with_summed_baselines(plan: tk.Plan) -> None:
    # baselines 100 + 80 = 180, now 115 + 90 = 205: net 25 of 50 = 50% = pace → on track
    ev = check(plan, ROWS, AS_OF)
    whole = ev.result("hte")
    assert whole.baseline == pytest.approx(180)
    assert whole.actual == pytest.approx(25)
    assert whole.status is Status.ON_TRACK
    assert [p.actual for p in ev.parts("hte")] == [15, 10]


def test_a_share_is_recomputed_from_summed_numerator_and_denominator(plan: tk.Plan) -> None:
    # (3 + 1) / (100 + 100) = 2%, not the average of 3% and 1% (also 2% here) weighted wrong:
    # make the denominators differ so that the two answers part
    rows = ROWS.replace("gdp,2023-06-30,100,亿元,乙县", "gdp,2023-06-30,300,亿元,乙县")
    ev = check(plan, rows, AS_OF)
    whole = ev.result("share")
    assert whole.actual == pytest.approx(100 * 4 / 400)  # 1%, while the mean of shares is 1.67%
    jia, yi = ev.parts("share")
    assert jia.actual == pytest.approx(3.0)
    assert yi.actual == pytest.approx(100 / 300)


def test_a_rate_does_not_roll_up_and_says_so(plan: tk.Plan) -> None:
    ev = check(plan, ROWS, AS_OF)
    whole = ev.result("rate")
    assert whole.status is Status.NO_DATA
    assert any("需要总数本身的数据" in n for n in whole.notes)
    assert [p.status for p in ev.parts("rate")] == [Status.ON_TRACK, Status.BEHIND]
    # with a figure of its own the whole is judged on it
    ev = check(plan, ROWS + "rate,2023-06-30,8.2,%,\n", AS_OF)
    assert ev.result("rate").actual == pytest.approx(8.2)
    assert ev.result("rate").notes == ()


def test_a_whole_that_disagrees_with_its_parts_keeps_its_own_figure(plan: tk.Plan) -> None:
    ev = check(plan, ROWS + "contracts,2023-06-30,60,亿元,\n", AS_OF)
    whole = ev.result("contracts")
    assert whole.actual == pytest.approx(60)
    assert whole.evidence[0].line == 13
    (note,) = whole.notes
    assert "分项合计与总数不一致" in note
    assert "分项合计 49" in note
    assert "总数 60" in note
    # within the tolerance there is no note
    ev = check(plan, ROWS + "contracts,2023-06-30,49.01,亿元,\n", AS_OF)
    assert ev.result("contracts").notes == ()


def test_no_rollup_while_a_part_has_no_figure(plan: tk.Plan) -> None:
    rows = "\n".join(line for line in ROWS.splitlines() if "乙县" not in line) + "\n"
    ev = check(plan, rows, AS_OF)
    assert ev.result("contracts").status is Status.NO_DATA
    assert ev.parts("contracts")[1].status is Status.NO_DATA


def test_json_csv_and_frame_carry_the_scope(plan: tk.Plan) -> None:
    ev = check(plan, ROWS, AS_OF)
    doc = ev.to_dict()
    entries = [(r["target"], r["scope"]) for r in doc["results"]]
    assert entries[:3] == [("contracts", None), ("contracts", "甲区"), ("contracts", "乙县")]
    assert len(entries) == 12
    assert doc["summary"]["behind"] == 2  # wholes only
    frame = ev.to_frame()
    assert list(frame["scope"][:3]) == [None, "甲区", "乙县"]
    fast = ev.to_frame(messages=False)
    assert list(fast["scope"][:3]) == [None, "甲区", "乙县"]
    assert list(fast["status"]) == list(frame["status"])
    text = render(ev, "csv")
    assert text.splitlines()[0].startswith("target,scope,title")
    assert text.splitlines()[2].startswith("contracts,甲区,")


def test_a_plan_without_parts_has_a_scope_column_of_nulls() -> None:
    plan = make_plan(SPLIT.split("[[targets]]", maxsplit=1)[0] + _ONE_TARGET)
    ev = check(plan, "indicator,date,value,unit\ncontracts,2023-06-30,50,亿元\n", AS_OF)
    assert ev.to_dict()["results"][0]["scope"] is None
    assert ev.parts("contracts") == ()
    assert list(ev.to_frame(messages=False)["scope"]) == [None]
    with pytest.raises(KeyError):
        ev.parts("nope")


_ONE_TARGET = """
[[targets]]
id = "contracts"
title = "技术合同成交额达到100亿元"
rule = { kind = "at_least", indicator = "contracts", value = 100 }
"""


def test_alerts_go_to_the_parts_owner_and_the_whole_names_its_lagging_parts(
    plan: tk.Plan,
) -> None:
    ev = check(plan, ROWS, AS_OF)
    by_key = {a.key: a for a in ev.alerts}
    part = by_key["contracts:status:甲区"]
    assert part.owner == "甲区科技局"
    assert part.scope == "甲区"
    assert part.message_zh.startswith("技术合同成交额达到100亿元（甲区）：滞后。")
    whole = by_key["contracts:status"]
    assert whole.owner == "市科技局"
    assert whole.message_zh.endswith("滞后的分项：甲区")
    assert "contracts:status:乙县" not in by_key


def test_a_lagging_parts_notice_tells_the_parts_own_figures(plan: tk.Plan) -> None:
    from targetkit.alerts import Snapshot, scope_of_key

    ev = check(plan, ROWS, AS_OF)
    by_key = {a.key: a for a in Snapshot.from_evaluation(ev).alerts}
    part, whole = by_key["contracts:status:甲区"], by_key["contracts:status"]
    assert (part.scope, part.status, part.owner) == ("甲区", "behind", "甲区科技局")
    # 甲区's 24 of 60, not the whole's 49 of 100
    assert part.message_zh == ev.parts("contracts")[0].message_zh
    assert "24 亿元" in part.message_zh
    assert "60 亿元" in part.message_zh
    assert whole.scope == ""
    assert whole.message_zh == ev.result("contracts").message_zh
    assert scope_of_key(part.key, "contracts") == "甲区"
    assert scope_of_key(whole.key, "contracts") == ""
    assert scope_of_key("contracts:overdue", "contracts") == ""


# --------------------------------------------------------------------------- bad input


def _problems(body: str) -> list[str]:
    with pytest.raises(tk.ConfigError) as info:
        make_plan(body)
    return [str(p) for p in info.value.problems]


def test_a_scope_no_part_names_is_an_error_with_a_suggestion(plan: tk.Plan) -> None:
    with pytest.raises(tk.DataError) as info:
        make_actuals(plan, ROWS + "contracts,2023-06-30,5,亿元,甲 区\n")
    (problem,) = info.value.problems
    assert str(problem) == (
        "actuals.csv:13: scope: no part of the plan has the scope '甲 区'; did you mean '甲区'?"
    )


def test_a_scope_in_a_plan_without_parts_is_an_error() -> None:
    plan = make_plan(SPLIT.split("[[targets]]", maxsplit=1)[0] + _ONE_TARGET)
    with pytest.raises(tk.DataError, match="the plan splits no target into parts"):
        make_actuals(plan, "indicator,date,value,unit,scope\ncontracts,2023-06-30,5,亿元,甲区\n")


def test_duplicate_scopes_are_an_error_with_their_line() -> None:
    body = (
        _ONE_TARGET + 'parts = [{ scope = "甲区", value = 60 }, { scope = "甲区", value = 40 }]\n'
    )
    problems = _problems(SPLIT.split("[[targets]]", maxsplit=1)[0] + body)
    assert problems == [
        "plan.toml:42: targets[0].parts[1].scope: the scope '甲区' is listed twice; "
        "give each scope one part"
    ]


def test_a_kind_that_cannot_take_parts_is_an_error() -> None:
    body = """
    [[indicators]]
    id = "law"
    name = "条例"
    kind = "milestone"

    [[targets]]
    id = "law"
    title = "出台条例"
    rule = { kind = "milestone", indicator = "law" }
    parts = [{ scope = "甲区", value = 1 }]
    """
    (problem,) = _problems(body)
    assert problem == (
        "plan.toml:16: targets[0].parts: a milestone target cannot be split into parts; "
        "give each scope a target of its own, or drop parts"
    )


def test_a_part_of_a_rank_takes_a_whole_number() -> None:
    body = """
    [[indicators]]
    id = "pos"
    name = "位次"
    kind = "level"

    [[targets]]
    id = "pos"
    title = "位次前3"
    rule = { kind = "rank", indicator = "pos", value = 3 }
    parts = [{ scope = "甲区", value = 2.5 }]
    """
    (problem,) = _problems(body)
    assert problem.endswith(
        "targets[0].parts[0].value: a part of a rank target takes a whole number (got 2.5); "
        "write a whole number such as 3"
    )


def test_a_part_without_a_value_and_with_an_unknown_key() -> None:
    body = _ONE_TARGET + 'parts = [{ scope = "甲区", valeu = 60 }]\n'
    problems = _problems(SPLIT.split("[[targets]]", maxsplit=1)[0] + body)
    assert any("parts[0].valeu: unknown key 'valeu'; did you mean 'value'?" in p for p in problems)
    assert any("parts[0].value: the key 'value' is missing" in p for p in problems)


def test_parts_that_do_not_add_up_are_a_warning(tmp_path: Path) -> None:
    text = textwrap.dedent(PLAN_HEAD) + textwrap.dedent(
        SPLIT.replace(
            '{ scope = "乙县", value = 40, owner = "乙县科技局" }', '{ scope = "乙县", value = 35 }'
        )
    )
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    warnings: list[Problem] = []
    load(path, warnings=warnings)
    (warning,) = warnings  # the share's parts need not add up; the rate's never roll up
    assert warning.path == "targets[0].parts"
    assert "the parts add up to 95, not to the target's 100 (difference -5)" in warning.message
    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", str(path)], stdout=out, stderr=err) == 0
    assert err.getvalue().startswith(f"warning: {path}:{warning.line}: targets[0].parts: ")


# --------------------------------------------------------------------------- properties


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 500)), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
)
def test_the_rolled_up_whole_is_the_sum_of_its_parts(
    split: list[tuple[int, int]], rnd: object
) -> None:
    scopes = [f"s{k}" for k in range(len(split))]
    parts = ", ".join(
        f'{{ scope = "{s}", value = {v + 1} }}' for s, (v, _) in zip(scopes, split, strict=True)
    )
    body = (
        SPLIT.split("[[targets]]", maxsplit=1)[0]
        + f"""
[[targets]]
id = "contracts"
title = "成交额"
rule = {{ kind = "at_least", indicator = "contracts", value = {sum(v + 1 for v, _ in split)} }}
parts = [{parts}]

[[targets]]
id = "hte"
title = "净增"
rule = {{ kind = "net_increase", indicator = "hte", value = {sum(v + 1 for v, _ in split)} }}
parts = [{parts}]
"""
    )
    plan = make_plan(body)
    rows = [
        line
        for s, (v, b) in zip(scopes, split, strict=True)
        for line in (
            f"contracts,2023-06-30,{v},亿元,{s}",
            f"hte,2022-12-31,{b},家,{s}",
            f"hte,2023-06-30,{b + v},家,{s}",
        )
    ]
    shuffled = list(rows)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    header = "indicator,date,value,unit,scope\n"
    ev = check(plan, header + "\n".join(rows) + "\n", AS_OF)
    total = sum(v for v, _ in split)
    assert ev.result("contracts").actual == pytest.approx(total)
    assert ev.result("hte").actual == pytest.approx(total)
    assert ev.result("hte").baseline == pytest.approx(sum(b for _, b in split))
    again = check(plan, header + "\n".join(shuffled) + "\n", AS_OF)
    assert again.to_dict() == ev.to_dict() or _same_but_evidence(again, ev)


def _same_but_evidence(a: tk.Evaluation, b: tk.Evaluation) -> bool:
    def strip(ev: tk.Evaluation) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "evidence"} for r in ev.to_dict()["results"]]

    return strip(a) == strip(b)


def test_permuting_parts_changes_nothing(plan: tk.Plan) -> None:
    import attrs

    swapped = attrs.evolve(
        plan,
        targets=[attrs.evolve(t, parts=tuple(reversed(t.parts))) for t in plan.targets],
    )
    actuals = make_actuals(plan, ROWS)
    a = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 20))
    b = tk.evaluate(swapped, actuals, as_of=dt.date(2023, 7, 20))
    for r in plan.targets:
        assert a.result(r.id) == b.result(r.id)
        assert sorted(a.parts(r.id), key=lambda x: str(x.scope)) == sorted(
            b.parts(r.id), key=lambda x: str(x.scope)
        )


# --------------------------------------------------------------------------- CLI


def test_check_shows_parts_and_ranks_them_by_scope(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text(textwrap.dedent(PLAN_HEAD) + SPLIT, encoding="utf-8")
    (tmp_path / "actuals.csv").write_text(ROWS, encoding="utf-8")
    args = ["check", str(tmp_path / "plan.toml"), "-a", str(tmp_path / "actuals.csv")]
    args += ["--as-of", AS_OF]
    out, err = io.StringIO(), io.StringIO()
    assert main(args, stdout=out, stderr=err) == 1
    lines = out.getvalue().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("contracts"))
    assert lines[at + 1].split()[:4] == ["└", "甲区", "▲", "滞后"]
    assert lines[at + 2].split()[:4] == ["└", "乙县", "●", "达序时"]
    out = io.StringIO()
    assert main([*args, "--by", "scope"], stdout=out, stderr=err) == 1
    text = out.getvalue()
    assert "甲区       0       3     1         0       0       0" in text
    ranking = text.split("contracts 技术合同成交额达到100亿元\n")[1].split("\n\n")[0].splitlines()
    assert [row.split()[:2] for row in ranking[2:4]] == [["1", "乙县"], ["2", "甲区"]]
    assert ranking[4].split()[0] == "合计"
    out = io.StringIO()
    assert main([*args, "--format", "json"], stdout=out, stderr=err) == 1
    doc = json.loads(out.getvalue())
    assert [r["scope"] for r in doc["results"][:3]] == [None, "甲区", "乙县"]


def test_check_by_scope_as_json(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text(textwrap.dedent(PLAN_HEAD) + SPLIT, encoding="utf-8")
    (tmp_path / "actuals.csv").write_text(ROWS, encoding="utf-8")
    args = ["check", str(tmp_path / "plan.toml"), "-a", str(tmp_path / "actuals.csv")]
    args += ["--as-of", AS_OF, "--by", "scope", "--format", "json"]
    out, err = io.StringIO(), io.StringIO()
    assert main(args, stdout=out, stderr=err) == 1  # the same exit code as the table
    doc = json.loads(out.getvalue())
    assert (doc["plan"]["id"], doc["as_of"], doc["lang"]) == ("demo", AS_OF, "zh")
    scopes = {s["scope"]: s for s in doc["scopes"]}
    assert list(scopes) == ["甲区", "乙县"]
    # 甲区: contracts behind (40% of 50%); hte (15 of 30 on 6/12), share (3% of 3%) and rate
    # (9% of 8%) on track
    assert scopes["甲区"]["parts"] == 4
    assert scopes["甲区"]["counts"] == {
        "met": 0,
        "on_track": 3,
        "behind": 1,
        "off_track": 0,
        "missed": 0,
        "no_data": 0,
    }
    contracts = next(t for t in doc["targets"] if t["target"] == "contracts")
    assert contracts["title"] == "技术合同成交额达到100亿元"
    # 乙县 25 of 40 = 62.5% (+12.5 pp on 6/12), 甲区 24 of 60 = 40% (-10 pp)
    assert [
        (p["rank"], p["scope"], p["completion"], p["gap_pp"]) for p in contracts["ranking"]
    ] == [
        (1, "乙县", 0.625, 12.5),
        (2, "甲区", 0.4, -10.0),
    ]
    whole = contracts["whole"]
    assert (whole["scope"], whole["actual"], whole["target_value"], whole["unit"]) == (
        None,
        49.0,
        100.0,
        "亿元",
    )
    assert (whole["status"], whole["light"], whole["expected"]) == ("behind", "yellow", 0.5)
    assert contracts["ranking"][1]["owner"] == "甲区科技局"
    assert "rank" not in whole


def test_check_by_scope_refuses_csv(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text(textwrap.dedent(PLAN_HEAD) + SPLIT, encoding="utf-8")
    (tmp_path / "actuals.csv").write_text(ROWS, encoding="utf-8")
    args = ["check", str(tmp_path / "plan.toml"), "-a", str(tmp_path / "actuals.csv")]
    out, err = io.StringIO(), io.StringIO()
    assert main([*args, "--by", "scope", "--format", "csv"], stdout=out, stderr=err) == 3
    assert "--by scope prints a table or JSON (got --format csv)" in err.getvalue()
    assert out.getvalue() == ""


def test_a_dataframe_with_a_scope_column() -> None:
    plan = make_plan(SPLIT)
    frame = pd.read_csv(io.StringIO(ROWS), dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"scope": "县市区"})
    ev = tk.evaluate(plan, tk.Actuals.from_frame(frame, plan), as_of=dt.date(2023, 7, 20))
    assert ev.result("contracts").actual == pytest.approx(49)


# --------------------------------------------------------------------------- report


def test_the_report_ranks_the_parts_and_scores_the_scopes(plan: tk.Plan) -> None:
    from targetkit.render.report import render_html, render_markdown

    ev = check(plan, ROWS, AS_OF)
    text = render_markdown(ev)
    annex = text.split("## 附：分解目标完成情况\n")[1]
    assert "| 甲区 | 0 | 3 | 1 | 0 | 0 | 0 |" in annex
    ranking = annex.split("### 技术合同成交额达到100亿元\n\n")[1].split("\n\n")[0].splitlines()
    assert ranking[2] == "| 1 | 乙县 | 40亿元 | 25亿元 | 62.5% | +12.5 | ● 达序时 |"
    assert ranking[3] == "| 2 | 甲区 | 60亿元 | 24亿元 | 40.0% | -10.0 | ▲ 滞后 |"
    assert ranking[4] == "|  | 合计 | 100亿元 | 49亿元 | 49.0% | -1.0 | ▲ 滞后 |"
    html = render_html(ev, lang="en")
    assert '<section class="parts-section" aria-labelledby="h-parts">' in html
    assert html.count('<table class="ranking">') == 4
    assert "<td>Whole</td>" in html


def test_the_report_draws_the_parts_against_their_pace(plan: tk.Plan) -> None:
    import re

    from targetkit.render.report import parts_svg, render_html

    ev = check(plan, ROWS, AS_OF)
    svg = parts_svg(ev, "contracts")
    assert svg.startswith('<svg class="parts-svg"')
    assert (
        '<title id="parts-contracts-t">技术合同成交额达到100亿元：各单位完成率与序时进度</title>'
        in svg
    )
    # the ranking's order, then the whole; every figure is in the description
    assert re.search(r"<desc[^>]*>(.*?)</desc>", svg)[1] == (  # type: ignore[index]
        "乙县完成62.5%（达序时），序时进度50.0%；甲区完成40.0%（滞后），序时进度50.0%；"
        "合计完成49.0%（滞后），序时进度50.0%"
    )
    labels = re.findall(r'text-anchor="end" font-size="12"[^>]*>([^<]+)</text>', svg)
    assert labels == ["乙县", "甲区", "合计"]
    # bars in proportion: the axis runs to 100%; 62.5% is 0.625 of 40% ÷ 0.4 of the longest bar
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[0] / widths[1] == pytest.approx(0.625 / 0.4, rel=1e-2)
    assert widths[2] / widths[1] == pytest.approx(0.49 / 0.4, rel=1e-2)
    # one pace tick per row, all at 50%
    ticks = re.findall(r'<path d="M([\d.]+) [\d.]+ v20" stroke="#1f2328"', svg)
    assert len(ticks) == 3
    assert len(set(ticks)) == 1
    assert parts_svg(ev, "contracts") == svg  # deterministic
    html = render_html(ev)
    assert html.count('<figure class="parts-chart"><svg class="parts-svg"') == 4
    assert parts_svg(ev, "contracts") in html


def test_a_report_without_parts_has_no_annex() -> None:
    from targetkit.render.report import render_markdown

    plan = make_plan(SPLIT.split("[[targets]]", maxsplit=1)[0] + _ONE_TARGET)
    ev = check(plan, "indicator,date,value,unit\ncontracts,2023-06-30,50,亿元\n", AS_OF)
    assert "分解目标" not in render_markdown(ev)


def test_the_parts_chart_in_a_real_browser(tmp_path: Path) -> None:
    from targetkit.render.report import render_html

    from .chromium import CHROMIUM, Chromium

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed; run scripts/install-test-deps")
    example = Path(__file__).resolve().parent.parent / "examples" / "yichang_2023"
    plan = tk.load(example / "plan.toml")
    actuals = tk.read_actuals([example / "actuals", example / "districts"], plan)
    ev = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 20))
    path = tmp_path / "report.html"
    path.write_text(render_html(ev), encoding="utf-8")
    probe = """
    Array.from(document.querySelectorAll('svg.parts-svg')).map((svg) => {
      const r = svg.getBoundingClientRect();
      const labels = Array.from(svg.querySelectorAll('text[text-anchor="end"]'));
      return {
        target: svg.dataset.target, width: r.width, height: r.height,
        rows: labels.map((t) => t.textContent),
        labelWidths: labels.map((t) => t.getBBox().width),
        bars: Array.from(svg.querySelectorAll('rect')).map((b) => b.getBBox().width),
      };
    })
    """
    with Chromium() as browser:
        browser.open(path.as_uri(), width=1100, height=900)
        charts = browser.evaluate(probe)
        browser.drain(0.2)
        assert browser.console_errors() == []
    assert [c["target"] for c in charts] == ["hightech_enterprises_net", "tech_contract_turnover"]
    turnover = charts[1]
    ranked = ev.ranking("tech_contract_turnover")
    assert turnover["rows"] == [str(p.scope) for p in ranked] + ["合计"]
    assert 600 <= turnover["width"] <= 740
    assert turnover["height"] > 20 * len(ranked)
    # drawn glyphs, not empty boxes: a name of seven characters is wider than one of three
    widths = dict(zip(turnover["rows"], turnover["labelWidths"], strict=True))
    assert widths["长阳土家族自治县"] > 2 * widths["点军区"] > 0
    # bars in proportion to the completion rates: 66.8% against 38.8%
    bars = turnover["bars"]
    assert bars[0] / bars[len(ranked) - 1] == pytest.approx(
        (ranked[0].completion or 0) / (ranked[-1].completion or 1), rel=0.02
    )


def test_a_stream_gives_the_results_with_parts_and_leaves_the_alerts_as_they_were(
    plan: tk.Plan,
) -> None:
    streamed = check(plan, ROWS, AS_OF)
    kept = check(plan, ROWS, AS_OF)
    rows = list(streamed.stream())
    assert [(r.target, r.scope) for r in rows] == [
        ("contracts", None),
        ("contracts", "甲区"),
        ("contracts", "乙县"),
        ("hte", None),
        ("hte", "甲区"),
        ("hte", "乙县"),
        ("share", None),
        ("share", "甲区"),
        ("share", "乙县"),
        ("rate", None),
        ("rate", "甲区"),
        ("rate", "乙县"),
    ]
    assert rows == list(kept.with_parts())
    # the alerts quote the results the stream kept; the rest are built again when asked for
    assert streamed.alerts == kept.alerts
    assert streamed.results == kept.results
    assert list(streamed.stream()) == rows
