"""The command line as a user types it: exit codes, output formats and error messages.

Statuses of the small plans below, worked by hand (months pace, 12-month plan, default bands):
an observation dated 2023-06-30 has expected progress E = 6/12 = 50%.
  turnover  at_least 240 亿元, 120 亿元 on 2023-06-30: R = 50%,  G =   0 pp → on_track (green)
  patents   at_least 100 项,    40 项   on 2023-06-30: R = 40%,  G = −10 pp → behind   (yellow)
  projects  at_least 100 项,    10 项   on 2023-06-30: R = 10%,  G = −40 pp → off_track (red)
  policy    milestone due 2023-06-30, not done, as of 2023-07-20      → missed   (red)
  rank      rank ≤ 3, no row                                         → no_data  (grey)
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import subprocess
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

import targetkit as tk
from targetkit.cli import main

HEAD = """\
[plan]
id = "cli-demo"
title = "命令行示例"
period = { start = 2023-01-01, end = 2023-12-31 }

[[indicators]]
id = "turnover"
name = "技术合同成交额"
name_en = "Technology contract turnover"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "patents"
name = "专利授权"
name_en = "Patents granted"
unit = "项"
kind = "cumulative"

[[indicators]]
id = "projects"
name = "重大项目"
unit = "项"
kind = "cumulative"

[[indicators]]
id = "rank"
name = "全省位次"
unit = ""
kind = "level"
"""

TARGETS = {
    "turnover": """
[[targets]]
id = "turnover"
title = "技术合同成交额达到240亿元"
rule = { kind = "at_least", indicator = "turnover", value = 240 }
""",
    "patents": """
[[targets]]
id = "patents"
title = "专利授权100项"
owner = "市市场监管局"
rule = { kind = "at_least", indicator = "patents", value = 100 }
""",
    "projects": """
[[targets]]
id = "projects"
title = "实施重大项目100项"
rule = { kind = "at_least", indicator = "projects", value = 100 }
""",
    "policy": """
[[targets]]
id = "policy"
title = "出台科技创新条例"
deadline = 2023-06-30
rule = { kind = "milestone" }
""",
    "rank": """
[[targets]]
id = "rank"
title = "位居全省前三"
rule = { kind = "rank", indicator = "rank", value = 3 }
""",
}

ACTUALS = """\
indicator,date,value,unit
turnover,2023-06-30,"1,200,000",万元
patents,2023-06-30,40,项
projects,2023-06-30,10,项
"""

AS_OF = "2023-07-20"
HEAD_ROW = "indicator,date,value,unit\n"


def make_files(tmp_path: Path, *targets: str) -> tuple[Path, Path]:
    """Write a plan with the named targets and the shared actuals; return both paths."""
    plan = tmp_path / "plan.toml"
    plan.write_text(HEAD + "".join(TARGETS[t] for t in targets), encoding="utf-8")
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(ACTUALS, encoding="utf-8")
    return plan, actuals


def run(*args: str | Path) -> tuple[int, str, str]:
    """Run ``targetkit ARGS`` in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def run_process(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m targetkit ARGS`` as a separate process, as a shell would."""
    return subprocess.run(
        [sys.executable, "-m", "targetkit", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        check=False,
        timeout=120,
    )


def check_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    code, out, err = run("check", *args, "--format", "json")
    assert err == ""
    document: dict[str, Any] = json.loads(out)
    return code, document


# --------------------------------------------------------------------------- validate


def test_validate_a_good_plan(tmp_path: Path) -> None:
    plan, _ = make_files(tmp_path, "turnover", "patents", "policy")
    code, out, err = run("validate", plan)
    assert code == 0
    assert err == ""
    assert out == (
        f"{plan}: ok — plan 'cli-demo', 2023-01-01..2023-12-31, 5 indicators, 3 targets "
        "(at_least 2, milestone 1)\n"
    )


def test_validate_quietly_prints_nothing(tmp_path: Path) -> None:
    plan, _ = make_files(tmp_path, "turnover")
    assert run("validate", "--quiet", plan) == (0, "", "")


def test_validate_a_json_plan(tmp_path: Path) -> None:
    toml_plan, _ = make_files(tmp_path, "turnover")
    json_plan = tmp_path / "plan.json"
    json_plan.write_text(tk.dumps(tk.load(toml_plan), format="json"), encoding="utf-8")
    code, out, _ = run("validate", json_plan)
    assert code == 0
    assert out.startswith(f"{json_plan}: ok — plan 'cli-demo'")


def test_validate_a_bad_plan_lists_each_problem_with_file_and_line(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    text = (
        HEAD
        + """
[[targets]]
id = "turnover"
title = "技术合同成交额"
rule = { kind = "at_least", indicator = "turnover", value = 240, unit = "亿圆" }

[[targets]]
id = "patents"
titel = "专利"
title = "专利"
rule = { kind = "at_least", indicator = "patent", value = 100 }
"""
    )
    plan.write_text(text, encoding="utf-8")
    text_lines = text.splitlines()

    def line(needle: str) -> int:
        return next(n for n, t in enumerate(text_lines, start=1) if needle in t)

    unknown_ref = line('"patent"')
    code, out, err = run("validate", plan)
    assert code == 3
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        f"error: {plan}:{line('亿圆')}: targets[0].rule.unit: unit '亿圆' is not defined; "
        "did you mean "
    )
    assert "'亿元'" in lines[0]
    assert lines[1] == (
        f"error: {plan}:{line('titel')}: targets[1].titel: unknown key 'titel'; "
        "did you mean 'title'?"
    )
    assert lines[2] == (
        f"error: {plan}:{unknown_ref}: targets[1].rule.indicator: unknown indicator "
        "'patent'; did you mean 'patents'?"
    )


def test_validate_bad_toml_syntax_exits_3_naming_the_file(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('[plan]\nid = "x"\ntitle = \n', encoding="utf-8")
    code, out, err = run("validate", plan)
    assert code == 3
    assert out == ""
    assert err.startswith(f"error: {plan}")
    assert "line 3" in err
    assert len(err.splitlines()) == 1


def test_validate_a_missing_plan_file(tmp_path: Path) -> None:
    code, out, err = run("validate", tmp_path / "nope.toml")
    assert code == 3
    assert out == ""
    assert err.startswith(f"error: {tmp_path / 'nope.toml'}: cannot be read")


# --------------------------------------------------------------------------- check: exit codes


@pytest.mark.parametrize(
    ("targets", "fail_on", "code"),
    [
        (("turnover",), "yellow", 0),
        (("turnover",), "red", 0),
        (("turnover",), "never", 0),
        (("turnover", "rank"), "yellow", 0),  # grey is neither yellow nor red
        (("turnover", "patents"), "yellow", 1),
        (("turnover", "patents"), "red", 0),
        (("turnover", "patents"), "never", 0),
        (("turnover", "patents", "projects"), "yellow", 2),
        (("turnover", "patents", "projects"), "red", 2),
        (("turnover", "patents", "projects"), "never", 0),
        (("policy",), "yellow", 2),
        (("policy",), "red", 2),
    ],
)
def test_check_exit_code_follows_the_worst_light(
    tmp_path: Path, targets: tuple[str, ...], fail_on: str, code: int
) -> None:
    plan, actuals = make_files(tmp_path, *targets)
    got, out, err = run("check", plan, "-a", actuals, "--as-of", AS_OF, "--fail-on", fail_on)
    assert (got, err) == (code, "")
    assert out


def test_check_without_fail_on_fails_on_yellow(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover", "patents")
    assert run("check", plan, "-a", actuals, "--as-of", AS_OF)[0] == 1


def test_a_gap_of_exactly_minus_30_is_still_yellow(tmp_path: Path) -> None:
    # 48 of 240 on 2023-06-30: R = 20%, E = 50%, G = −30 pp, the edge of the behind band
    plan, actuals = make_files(tmp_path, "turnover")
    actuals.write_text(HEAD_ROW + "turnover,2023-06-30,48,亿元\n", encoding="utf-8")
    code, document = check_json(plan, "-a", actuals, "--as-of", AS_OF)
    assert code == 1
    assert document["results"][0]["status"] == "behind"
    assert document["results"][0]["gap_pp"] == pytest.approx(-30.0)


# --------------------------------------------------------------------------- check: formats


def test_check_json_document(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover", "patents", "policy", "rank")
    code, doc = check_json(plan, "--actuals", actuals, "--as-of", AS_OF)
    assert code == 2
    assert doc["plan"] == {"id": "cli-demo", "title": "命令行示例"}
    assert doc["as_of"] == AS_OF
    results = {r["target"]: r for r in doc["results"]}
    assert [r["target"] for r in doc["results"]] == ["turnover", "patents", "policy", "rank"]
    for r in doc["results"]:
        for key in (
            "target",
            "status",
            "light",
            "actual",
            "unit",
            "target_value",
            "completion",
            "expected",
            "gap_pp",
            "message",
        ):
            assert key in r

    turnover = results["turnover"]
    assert (turnover["status"], turnover["light"]) == ("on_track", "green")
    assert (turnover["actual"], turnover["unit"], turnover["target_value"]) == (
        120.0,
        "亿元",
        240.0,
    )
    assert turnover["completion"] == pytest.approx(0.5)
    assert turnover["expected"] == pytest.approx(0.5)
    assert turnover["gap_pp"] == pytest.approx(0.0)
    assert turnover["evidence"][0]["value"] == "1,200,000"
    assert turnover["evidence"][0]["unit"] == "万元"
    assert turnover["evidence"][0]["line"] == 2

    patents = results["patents"]
    assert (patents["status"], patents["light"]) == ("behind", "yellow")
    assert (patents["actual"], patents["unit"], patents["target_value"]) == (40.0, "项", 100.0)
    assert patents["completion"] == pytest.approx(0.4)
    assert patents["expected"] == pytest.approx(0.5)
    assert patents["gap_pp"] == pytest.approx(-10.0)
    assert "低于序时进度 10.0 个百分点" in patents["message"]

    assert (results["policy"]["status"], results["policy"]["light"]) == ("missed", "red")
    assert (results["rank"]["status"], results["rank"]["light"]) == ("no_data", "grey")
    assert results["rank"]["actual"] is None

    assert [(a["target"], a["severity"]) for a in doc["alerts"]] == [
        ("patents", "warning"),
        ("policy", "critical"),
    ]
    assert all(a["message"] for a in doc["alerts"])
    assert doc["alerts"][0]["owner"] == "市市场监管局"
    assert doc["summary"] == {
        "met": 0,
        "on_track": 1,
        "behind": 1,
        "off_track": 0,
        "missed": 1,
        "no_data": 1,
    }


def test_check_table_in_chinese(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover", "patents")
    code, out, err = run("check", plan, "-a", actuals, "--as-of", AS_OF)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == "命令行示例（cli-demo）截至 2023-07-20"
    assert lines[1].split()[:2] == ["目标", "状态"]
    patents = next(line for line in lines if line.startswith("patents "))
    assert "滞后" in patents
    assert "40项" in patents
    assert "-10.0" in patents
    assert "共 2 项目标：达序时 1 项，滞后 1 项" in lines
    assert "提醒：" in lines


def test_check_table_in_english(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover", "patents")
    code, out, _ = run("check", plan, "-a", actuals, "--as-of", AS_OF, "--lang", "en")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "命令行示例 (cli-demo) as of 2023-07-20"
    assert lines[1].split()[:2] == ["target", "status"]
    patents = next(line for line in lines if line.startswith("patents "))
    assert "behind" in patents
    assert "10.0 pp behind pace" in patents
    assert "Alerts:" in lines


def test_check_csv(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover", "patents")
    code, out, _ = run("check", plan, "-a", actuals, "--as-of", AS_OF, "--format", "csv")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["target"] for r in rows] == ["turnover", "patents"]
    assert [r["status"] for r in rows] == ["on_track", "behind"]
    assert [r["light"] for r in rows] == ["green", "yellow"]
    assert float(rows[1]["actual"]) == 40.0
    assert float(rows[1]["gap_pp"]) == pytest.approx(-10.0)
    assert rows[1]["unit"] == "项"


def test_check_markdown(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover", "patents")
    args = ("check", plan, "-a", actuals, "--as-of", AS_OF, "--format", "markdown", "--lang", "en")
    code, out, _ = run(*args)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "# 命令行示例: progress report"
    header = "| Indicator | Target | Actual to date | Completion | Expected (pace) | Gap (pp) | Status | Responsible unit | Year-end forecast |"
    assert header in lines
    patents = next(line for line in lines if line.startswith("| 专利授权100项 |"))
    assert "▲ behind" in patents
    assert "| -10.0 |" in patents
    assert "## 3. Targets behind" in lines


def test_as_of_hides_later_rows(tmp_path: Path) -> None:
    # as of 2023-06-29 the rows dated 2023-06-30 are not yet visible: every target has no data
    plan, actuals = make_files(tmp_path, "turnover", "patents")
    code, doc = check_json(plan, "-a", actuals, "--as-of", "2023-06-29")
    assert code == 0
    assert [r["status"] for r in doc["results"]] == ["no_data", "no_data"]
    assert doc["as_of"] == "2023-06-29"


def test_as_of_in_chinese_date_form(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "patents")
    code, doc = check_json(plan, "-a", actuals, "--as-of", "2023年7月20日")
    assert (code, doc["as_of"]) == (1, AS_OF)


def test_check_without_actuals_gives_no_data(tmp_path: Path) -> None:
    plan, _ = make_files(tmp_path, "turnover")
    code, doc = check_json(plan, "--as-of", AS_OF)
    assert code == 0
    assert doc["summary"]["no_data"] == 1


def test_check_reads_a_folder_and_repeated_actuals(tmp_path: Path) -> None:
    plan, _ = make_files(tmp_path, "turnover", "patents")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "turnover.csv").write_text(HEAD_ROW + "turnover,2023-06-30,120,亿元\n", "utf-8")
    extra = tmp_path / "patents.csv"
    extra.write_text(HEAD_ROW + "patents,2023-06-30,50,项\n", encoding="utf-8")
    code, doc = check_json(plan, "-a", folder, "-a", extra, "--as-of", AS_OF)
    assert code == 0
    assert [r["status"] for r in doc["results"]] == ["on_track", "on_track"]


def test_default_as_of_is_today_in_the_plan_time_zone(tmp_path: Path) -> None:
    # the 2023 plan is over by today: 120 of 240 亿元 at the end is a missed target
    plan, actuals = make_files(tmp_path, "turnover")
    before = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    code, doc = check_json(plan, "-a", actuals)
    after = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    assert before <= dt.date.fromisoformat(doc["as_of"]) <= after
    assert code == 2
    assert doc["results"][0]["status"] == "missed"


# --------------------------------------------------------------------------- bad command lines


def test_an_unknown_option_exits_3(tmp_path: Path) -> None:
    plan, _ = make_files(tmp_path, "turnover")
    code, out, err = run("check", plan, "--bogus")
    assert code == 3
    assert out == ""
    assert "unrecognized arguments: --bogus" in err
    assert "--help" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("date", ["2023-13-01", "2023-02-30", "yesterday"])
def test_a_bad_as_of_date_exits_3(tmp_path: Path, date: str) -> None:
    plan, actuals = make_files(tmp_path, "turnover")
    code, out, err = run("check", plan, "-a", actuals, "--as-of", date)
    assert code == 3
    assert out == ""
    assert "--as-of" in err
    assert repr(date) in err
    assert "YYYY-MM-DD" in err


@pytest.mark.parametrize("option", [("--format", "yaml"), ("--fail-on", "blue"), ("--lang", "fr")])
def test_a_bad_choice_exits_3(tmp_path: Path, option: tuple[str, str]) -> None:
    plan, _ = make_files(tmp_path, "turnover")
    code, _, err = run("check", plan, *option)
    assert code == 3
    assert f"invalid choice: '{option[1]}'" in err


def test_no_command_exits_3_with_the_usage(tmp_path: Path) -> None:
    code, out, _ = run()
    assert code == 3
    assert "usage: targetkit" in out


def test_check_a_missing_plan_file(tmp_path: Path) -> None:
    code, out, err = run("check", tmp_path / "nope.toml", "--as-of", AS_OF)
    assert code == 3
    assert out == ""
    assert err == (
        f"error: {tmp_path / 'nope.toml'}: cannot be read (No such file or directory); "
        "check the path\n"
    )


def test_check_a_missing_actuals_file(tmp_path: Path) -> None:
    plan, _ = make_files(tmp_path, "turnover")
    code, out, err = run("check", plan, "-a", tmp_path / "nope.csv", "--as-of", AS_OF)
    assert code == 3
    assert out == ""
    assert err == f"error: {tmp_path / 'nope.csv'}: no such file or folder; check the path\n"


def test_check_a_bad_actuals_file_lists_each_bad_row(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover", "patents")
    actuals.write_text(
        HEAD_ROW + "turnover,2023-06-30,abc,亿元\npatents,2023-06-30,40,家\n", encoding="utf-8"
    )
    code, out, err = run("check", plan, "-a", actuals, "--as-of", AS_OF)
    assert code == 3
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {actuals}:2: value: 'abc' is not a number; ")
    assert lines[1].startswith(f"error: {actuals}:3: unit: unit '家'")
    assert "'项'" in lines[1]


def test_check_a_bad_plan_exits_3(tmp_path: Path) -> None:
    plan, actuals = make_files(tmp_path, "turnover")
    plan.write_text(
        plan.read_text("utf-8").replace("value = 240", "value = 240, unit = 'x元'"), "utf-8"
    )
    code, out, err = run("check", plan, "-a", actuals, "--as-of", AS_OF)
    assert code == 3
    assert out == ""
    assert err.startswith(f"error: {plan}:")
    assert "'x元'" in err


@pytest.mark.parametrize("args", [["--version"], ["check", "--help"]])
def test_help_and_version_go_to_the_given_stdout(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(*args)
    capsys.readouterr()
    assert code == 0
    assert out
    assert err == ""


# --------------------------------------------------------------------------- units


def test_units_lists_the_built_in_units() -> None:
    code, out, err = run("units")
    assert (code, err) == (0, "")
    currency = next(line for line in out.splitlines() if line.startswith("[currency]:"))
    assert {"元", "万元", "亿元", "个亿"} <= set(currency.split(":", 1)[1].split())
    person = next(line for line in out.splitlines() if line.startswith("[person]:"))
    assert {"人", "名"} <= set(person.split(":", 1)[1].split())


def test_units_of_a_plan_include_its_own(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        HEAD.replace("[[indicators]]", '[units]\n"床" = "[bed]"\n\n[[indicators]]', 1)
        + TARGETS["turnover"],
        encoding="utf-8",
    )
    code, out, _ = run("units", plan)
    assert code == 0
    assert "[bed]: 床" in out.splitlines()


# --------------------------------------------------------------------------- as a separate process


def test_process_validate_and_check(tmp_path: Path) -> None:
    make_files(tmp_path, "turnover", "patents")
    done = run_process("validate", "plan.toml", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("plan.toml: ok")

    done = run_process(
        "check", "plan.toml", "-a", "actuals.csv", "--as-of", AS_OF, "-f", "json", cwd=tmp_path
    )
    assert (done.returncode, done.stderr) == (1, "")
    doc = json.loads(done.stdout)
    assert [r["status"] for r in doc["results"]] == ["on_track", "behind"]


def test_process_default_as_of_does_not_crash(tmp_path: Path) -> None:
    make_files(tmp_path, "turnover")
    done = run_process("check", "plan.toml", "-a", "actuals.csv", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert done.stderr == ""
    assert done.returncode == 2  # the 2023 plan is over: 120 of 240 亿元 is missed


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("check", "plan.toml", "--as-of", "2023-13-01"), "'2023-13-01' is not a valid date"),
        (("check", "missing.toml"), "error: missing.toml: cannot be read"),
        (("check", "plan.toml", "-a", "bad.csv", "--as-of", AS_OF), "error: bad.csv:2: value:"),
        (("validate", "broken.toml"), "error: broken.toml:"),
        (("check", "plan.toml", "--nope"), "unrecognized arguments: --nope"),
    ],
)
def test_process_errors_exit_3_without_traceback(
    tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    make_files(tmp_path, "turnover")
    (tmp_path / "bad.csv").write_text(HEAD_ROW + "turnover,2023-06-30,=SUM(A1),亿元\n", "utf-8")
    (tmp_path / "broken.toml").write_text(
        HEAD + TARGETS["turnover"].replace("240", "0.2, unit = '%'"), encoding="utf-8"
    )
    done = run_process(*args, cwd=tmp_path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert needle in done.stderr
    assert done.stdout == ""


def test_process_units_lists_yi_yuan(tmp_path: Path) -> None:
    done = run_process("units", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert "亿元" in done.stdout.split()


def test_a_command_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    # the command keeps what it loaded out of the collector's passes while it runs (gc.freeze)
    # and gives it back when it returns, whether it succeeds or fails
    plan, actuals = make_files(tmp_path, "turnover", "patents", "policy")
    assert gc.get_freeze_count() == 0
    assert run("check", plan, "--actuals", actuals, "--as-of", AS_OF)[0] in (0, 1, 2)
    assert gc.get_freeze_count() == 0
    assert run("validate", tmp_path / "missing.toml")[0] == 3
    assert gc.get_freeze_count() == 0
    assert run("report", plan, "--actuals", actuals, "--as-of", AS_OF)[0] == 0
    assert gc.get_freeze_count() == 0
    # a caller's own frozen objects stay frozen, and are not thawed by the command
    kept = [object() for _ in range(3)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert run("validate", plan)[0] == 0
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    del kept
