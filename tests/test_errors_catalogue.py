"""docs/reference/errors.md lists every error message, and every message it lists exists.

Both directions are checked on *message forms* read from the syntax tree of the source (see
`tests/errors_catalogue.py`), so reformatting, renamed variables and f-strings do not matter:
adding a message to the code without a row in errors.md fails here, and so does a row whose
message the code no longer produces. A sample of messages is then triggered for real and
compared with the catalogue.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import io
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import targetkit as tk
from targetkit.cli import main

from .errors_catalogue import (
    CATALOGUE,
    PLACEHOLDER,
    catalogue_forms,
    catalogue_rows,
    form_pattern,
    matching_forms,
    source_sites,
)

# Messages built by a library rather than written in src/targetkit, reachable through a file:
# form → how it is produced (each is triggered in test_external_forms_are_real).
EXTERNAL_FORMS = {
    "'…' must be >= …: …": "attrs.validators.ge on Indicator.lag_days",
}


def test_every_message_in_the_code_is_catalogued() -> None:
    documented = catalogue_forms()
    missing = [site for site in source_sites() if site.form not in documented]
    assert not missing, (
        "add a row for each of these messages to docs/reference/errors.md "
        "(| `form` | cause | fix |, with '…' for a quoted value and … for any other):\n"
        + "\n".join(str(s) for s in missing)
    )


def test_every_catalogued_message_exists() -> None:
    produced = {site.form for site in source_sites()} | set(EXTERNAL_FORMS)
    stale = {f: line for f, line in catalogue_forms().items() if f not in produced}
    assert not stale, "docs/reference/errors.md lists messages the code no longer produces:\n" + (
        "\n".join(f"errors.md:{line}: {f}" for f, line in stale.items())
    )


def test_every_row_has_a_message_a_cause_and_a_fix() -> None:
    rows = catalogue_rows()
    assert len(rows) > 100
    for line, form, cells in rows:
        assert form, f"errors.md:{line}: the message cell needs the form in backticks"
        assert len(cells) == 3, f"errors.md:{line}: a row needs message, cause and fix"
        assert all(cells), f"errors.md:{line}: a cell is empty"


def test_forms_are_what_messages_look_like() -> None:
    pattern = form_pattern("unknown indicator '…' (got …)")
    assert pattern.fullmatch("unknown indicator 'x' (got 3)")
    assert not pattern.fullmatch("unknown indicator 'x'")
    assert matching_forms("unknown indicator 'tech_contract_turnovr'") == ["unknown indicator '…'"]
    assert PLACEHOLDER == "…"


# --------------------------------------------------------------------------- triggered for real

PLAN = """
[plan]
id = "demo"
title = "示例"
period = { start = 2023-01-01, end = 2023-12-31 }

[[indicators]]
id = "turnover"
name = "技术合同成交额"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "rank"
name = "位次"
unit = ""
kind = "level"

[[targets]]
id = "turnover"
title = "技术合同成交额360亿元"
rule = { kind = "at_least", indicator = "turnover", value = 360, unit = "亿元" }

[[targets]]
id = "policy"
title = "出台方案"
rule = { kind = "milestone" }
"""


def plan_problems(text: str) -> list[str]:
    with pytest.raises(tk.ConfigError) as info:
        tk.parse(tomllib.loads(text), source="plan.toml", text=text)
    return [p.message for p in info.value.problems]


def actuals_problems(
    rows: str, tmp_path: Path, header: str = "indicator,date,value,unit"
) -> list[str]:
    plan = tk.parse(tomllib.loads(PLAN))
    path = tmp_path / "actuals.csv"
    path.write_text(header + "\n" + rows, encoding="utf-8")
    with pytest.raises(tk.DataError) as info:
        tk.read_actuals(path, plan)
    return [p.message for p in info.value.problems]


def _replace(old: str, new: str) -> str:
    assert old in PLAN
    return PLAN.replace(old, new)


# (what triggers it, the catalogued form its message must have)
PLAN_CASES: list[tuple[str, str]] = [
    (PLAN + '\ntitel = "x"\n', "unknown key '…'"),
    (_replace('kind = "at_least"', 'kind = "at_leest"'), "unknown rule kind '…'"),
    (_replace('title = "示例"\n', ""), "the key '…' is missing"),
    (_replace("2023-12-31 }", "2022-12-31 }"), "the period ends (…) before it starts (…)"),
    (_replace('unit = "亿元"\nkind', 'unit = "亿圆"\nkind'), "unit '…' is not defined"),
    (
        _replace('value = 360, unit = "亿元"', 'value = "１２０ 家"'),
        "unit '…' (…) is not compatible with indicator '…', measured in '…' (…)",
    ),
    (
        _replace('id = "turnover"\nname', 'id = "turn over"\nname'),
        "the id '…' holds characters an id cannot have",
    ),
    (_replace('kind = "cumulative"', 'kind = "cumulativ"'), "… (got '…')"),
    (_replace("value = 360,", 'value = "360",'), "'…' has no unit"),
    (_replace("value = 360,", 'value = "1e999 亿元",'), "'…' is not a finite number"),
    (_replace('kind = "cumulative"', 'kind = "cumulative"\nlag_days = -3'), "'…' must be >= …: …"),
    (PLAN + '\n[defaults]\npace = "schedule"\n', "a schedule pace needs points"),
    (PLAN + "\n[defaults]\nwarning_days = -1\n", "must not be negative (got …)"),
    (_replace("period = {", 'timezone = "Asia/Beijing"\nperiod = {'), "unknown time zone '…'"),
    (
        _replace('value = 360, unit = "亿元"', 'value = 360, unit = "亿元", stretch = 100'),
        "stretch … is not … the floor …",
    ),
]


@pytest.mark.parametrize(("text", "form"), PLAN_CASES, ids=[f for _, f in PLAN_CASES])
def test_plan_messages_match_their_form(text: str, form: str) -> None:
    messages = plan_problems(text)
    assert any(form in matching_forms(m) for m in messages), messages


def test_a_value_in_the_wrong_unit_kind(tmp_path: Path) -> None:
    text = _replace('value = 360, unit = "亿元"', 'value = 360, unit = "家"')
    [message] = plan_problems(text)
    assert matching_forms(message)[0] == (
        "unit '…' (…) is not compatible with indicator '…', measured in '…' (…)"
    )


ACTUALS_CASES: list[tuple[str, str]] = [
    ("turnover,2023-03-31,1,5,亿元\n", "the row has … fields but the header has …"),
    ('turnover,2023-03-31,"1,5",亿元\n', "'…' is not a number"),
    ("turnover,2023-03-31,=SUM(A1:A3),亿元\n", "'…' is not a number"),
    ("turnover,45016,98.5,亿元\n", "'…' is not a date"),
    ("turnover,2023-02-30,98.5,亿元\n", "'…' is not a valid date (…)"),
    ("turnover,2023年6-1月,98.5,亿元\n", "the months in '…' run backwards"),
    ("turnover,,98.5,亿元\n", "the date is empty"),
    ("turnover,2023-03-31,,亿元\n", "the value for '…' is empty"),
    (",2023-03-31,1,亿元\n", "the indicator is empty"),
    ("turnovr,2023-03-31,1,亿元\n", "unknown indicator '…'"),
    ("turnover,2023-03-31,1e309,亿元\n", "'…' is not a finite number"),
    (
        "turnover,2023-03-31,1e308,万亿元\n",
        "'…' … is out of the range targetkit computes with (in '…')",
    ),
    ("turnover,2023-03-31,1,\n", "the unit is empty for '…', which is measured in '…'"),
    (
        "rank,2023-03-31,1,名\n",
        "'…' has no unit (a rank or a count without one), but the row gives '…'",
    ),
    ("turnover,2023-03-31,1,家\n", "… (indicator '…' is in '…')"),
    ("policy,2023-03-31,maybe,\n", "'…' is not a milestone value for '…'"),
    (
        "turnover,2023-03-31,1,亿元\nturnover,2023-03-31,2,亿元\n",
        "conflicting values for '…' on …: … (also at …)",
    ),
    ("turnover,2023-03-31,x,亿元\n" * 60, "… and … more problems"),
]


@pytest.mark.parametrize(("rows", "form"), ACTUALS_CASES, ids=[f for _, f in ACTUALS_CASES])
def test_actuals_messages_match_their_form(tmp_path: Path, rows: str, form: str) -> None:
    messages = actuals_problems(rows, tmp_path)
    assert any(form in matching_forms(m) for m in messages), messages


@pytest.mark.parametrize(
    ("header", "form"),
    [
        ("indicator,date,value", "the required column '…' is missing"),
        ("indicator,date,value,unit,reportd_at", "unknown column '…'"),
        ("indicator,date,value,Value,unit", "the column '…' appears twice"),
    ],
)
def test_header_messages_match_their_form(tmp_path: Path, header: str, form: str) -> None:
    messages = actuals_problems("", tmp_path, header=header)
    assert any(form in matching_forms(m) for m in messages), messages


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, err.getvalue()


def _files(tmp_path: Path) -> dict[str, Path]:
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "u16.csv").write_bytes("indicator,date,value,unit\n".encode("utf-16"))
    (tmp_path / "gbk.toml").write_bytes(PLAN.encode("gbk"))
    (tmp_path / "bad.toml").write_text("[plan\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("今天天气很好。\n", encoding="utf-8")
    (tmp_path / "plan.txt").write_text(
        "2023年工作要点\n一、高新技术企业净增100家。\n", encoding="utf-8"
    )
    return {"plan": plan}


CLI_CASES: list[tuple[list[str], str]] = [
    (["check", "plan.toml", "-a", "empty.csv"], "the file is empty"),
    (["check", "plan.toml", "-a", "u16.csv"], "is neither UTF-8 nor GB18030/GBK text"),
    (["check", "plan.toml", "-a", "missing.csv"], "no such file or folder"),
    (["check", "plan.toml", "-a", "folder"], "the folder holds no actuals file"),
    (["validate", "gbk.toml"], "is not UTF-8 text"),
    (["validate", "bad.toml"], "is not valid TOML: …"),
    (["validate", "missing.toml"], "cannot be read (…)"),
    (
        ["check", "plan.toml", "--as-of", "2023-02-30"],
        "…; write the date as YYYY-MM-DD, e.g. 2023-06-30",
    ),
    (
        ["check", "plan.toml", "--dry-run"],
        "targetkit check: --dry-run only makes sense with --notify",
    ),
    (["alerts"], "targetkit alerts: choose an action: …"),
    (["report", "plan.toml", "-o", "folder"], "is a folder"),
    (["report", "plan.toml", "-o", "plan.toml"], "is one of this run's input files"),
    (["report", "plan.toml", "-o", "no/such/report.html"], "the folder '…' does not exist"),
    (
        ["draft", "notes.txt", "--year", "2023"],
        "no quantitative or dated target was found (… sentences with numbers, none read as a target)",
    ),
    (["draft", "notes.txt", "--year", "1066"], "… is not a plan year"),
    (
        ["draft", "plan.txt", "-o", "plan.txt"],
        "targetkit draft: --output must not be the input file",
    ),
]


@pytest.mark.parametrize(("argv", "form"), CLI_CASES, ids=[f for _, f in CLI_CASES])
def test_cli_messages_match_their_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], form: str
) -> None:
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, err = run(argv)
    assert code == 3, err
    first = err.splitlines()[0]
    # error: <file>[:<line>]: [<where>: ]<message>[; <fix>] — or a usage line as it is
    candidates = [first, *(first.split(": ", k)[-1] for k in range(1, 5))]
    candidates += [c.split("; ", 1)[0] for c in candidates]
    assert any(form in matching_forms(c) for c in candidates), err


def test_unit_messages_match_their_form() -> None:
    units = tk.default_units()
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: units.check("亿圆"), "unit '…' is not defined"),
        (lambda: units.check("亿元、"), "unit '…' contains the character '…', which no unit uses"),
        (lambda: units.factor("家", "亿元"), "unit '…' (…) cannot be converted to '…' (…)"),
        (lambda: units.parse_quantity("约220亿元"), "'…' is not a number followed by a unit"),
        (lambda: tk.units.units_with(("元 = [money]",)), "unit '…' is already defined"),
    ]
    for call, form in cases:
        with pytest.raises(tk.UnitError) as info:
            call()
        assert form in matching_forms(info.value.message), info.value.message


def test_api_messages_match_their_form() -> None:
    plan = tk.parse(tomllib.loads(PLAN))
    with pytest.raises(ValueError, match=r"format must be") as info:
        tk.dumps(plan, format="yaml")
    assert matching_forms(str(info.value))[0] == "format must be 'toml' or 'json' (got '…')"
    with pytest.raises(ValueError, match="at least one problem") as info:
        tk.DataError([])
    assert matching_forms(str(info.value)) == ["an input error needs at least one problem"]


def test_external_forms_are_real() -> None:
    from targetkit.model import Indicator, IndicatorKind

    with pytest.raises(ValueError, match="lag_days") as info:
        Indicator(id="a", name="a", unit="", kind=IndicatorKind.STOCK, lag_days=-3)
    assert form_pattern("'…' must be >= …: …").fullmatch(str(info.value))


def test_state_file_message(tmp_path: Path) -> None:
    import sqlite3

    from targetkit.state import StateStore

    path = tmp_path / "state.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(tk.StateError) as info:
        StateStore.open(path)
    message = str(info.value).removeprefix(f"{path}: ")
    assert matching_forms(message)[0] == (
        "is a sqlite database but not a targetkit alert state file; point notify.state at "
        "another path, or move this file aside"
    )


def test_catalogue_sections_cover_every_area() -> None:
    headings = re.findall(r"^## (.+)$", CATALOGUE.read_text(encoding="utf-8"), re.MULTILINE)
    for area in [
        "Plan file",
        "Units",
        "Dates",
        "Actuals",
        "Command line",
        "Notify settings",
        "Alert state file",
        "Delivery",
        "Draft",
        "Python API",
    ]:
        assert area in headings


def test_sites_are_found_in_every_module_that_reports_problems() -> None:
    files = collections.Counter(site.file for site in source_sites())
    for module in [
        "config.py",
        "actuals.py",
        "units.py",
        "dates.py",
        "cli.py",
        "rules/thresholds.py",
    ]:
        assert files[module] > 0, module
    for module in ["notify/settings.py", "state.py", "draft.py", "notify/email.py"]:
        assert files[module] > 0, module


def test_frame_rows_are_named_as_rows() -> None:
    plan = tk.parse(tomllib.loads(PLAN))
    frame = pd.DataFrame(
        {
            "indicator": ["turnover"],
            "date": [dt.date(2023, 3, 31)],
            "value": ["x"],
            "unit": ["亿元"],
        }
    )
    with pytest.raises(tk.DataError) as info:
        tk.Actuals.from_frame(frame, plan)
    [problem] = info.value.problems
    assert (problem.source, problem.line, problem.path) == ("<DataFrame>", 1, "value")
    assert matching_forms(problem.message)[0] == "'…' is not a number"
