"""Plan files: parsing TOML and JSON, every kind of mistake with its place and fix, round trips."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import targetkit as tk
from targetkit import IndicatorKind, PaceMethod, Severity, Status, rules

from .strategies import plan_mappings

HEAD = """\
[plan]
id = "demo"
title = "示例计划"
period = { start = 2023-01-01, end = 2023-12-31 }

[[indicators]]
id = "talent"
name = "引进人才"
unit = "人"
kind = "stock"

[[indicators]]
id = "turnover"
name = "技术合同成交额"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "hitech_share"
name = "高新技术产业增加值占比"
unit = "%"
kind = "level"

[[indicators]]
id = "sci_share"
name = "科普经费占比"
unit = "%"
kind = "level"
"""

GOOD_TARGET = """
[[targets]]
id = "turnover"
title = "技术合同成交额突破220亿元"
rule = { kind = "at_least", indicator = "turnover", value = 220 }
"""


def plan_text(body: str) -> str:
    """Return a whole plan file: the shared head followed by ``body``."""
    return HEAD + textwrap.dedent(body)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """Return the 1-based number of the line holding ``needle`` (its n-th occurrence)."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} occurs {len(hits)} times"
    return hits[occurrence - 1]


def write(tmp_path: Path, text: str, name: str = "plan.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, name: str = "plan.toml") -> tuple[tk.Problem, ...]:
    """Load ``text`` from a file and return the problems of the ConfigError it must raise."""
    path = write(tmp_path, text, name)
    with pytest.raises(tk.ConfigError) as info:
        tk.load(path)
    assert all(p.source == str(path) for p in info.value.problems)
    return info.value.problems


def only(problems: Sequence[tk.Problem]) -> tk.Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# --------------------------------------------------------------------------- a valid plan

VALID = """\
[plan]
id = "demo-2023"
title = "2023年科技工作要点"
issuer = "示例市科学技术局"
period = { start = 2023-01-01, end = 2023-12-31 }
source = "示例市《2023年科技工作要点》"

[defaults]
pace = "months"
thresholds = { on_track = 0, behind = -20 }
warning_days = 15
aspirational_severity = "critical"

[units]
"场次" = "[session]"

[[indicators]]
id = "turnover"
name = "技术合同成交额"
name_en = "Technology contract turnover"
unit = "亿元"
kind = "cumulative"
cadence = "monthly"
lag_days = 20

[[indicators]]
id = "talent"
name = "引进人才"
unit = "人"
kind = "stock"

[[indicators]]
id = "hitech_share"
name = "高新技术产业增加值占比"
unit = "%"
kind = "level"

[[indicators]]
id = "events"
name = "科普活动"
unit = "场次"
kind = "cumulative"

[[targets]]
id = "turnover"
title = "技术合同成交额突破220亿元"
section = "二、加大科技创新投入"
item = 4
source = "技术合同成交额突破220亿元"
tags = ["成果转化"]
rule = { kind = "at_least", indicator = "turnover", value = "220 亿元" }

[[targets]]
id = "talent"
title = "力争引进人才1500人"
binding = false
owner = "市人社局"
deadline = 2023-10-31
pace = "none"
rule = { kind = "at_least", indicator = "talent", value = 1500, stretch = 2000 }

[[targets]]
id = "hitech"
title = "高新技术产业增加值占比提高到20%以上"
thresholds = { on_track = -5, behind = -15 }
rule = { kind = "at_least", indicator = "hitech_share", value = 20, unit = "%" }

[[targets]]
id = "policy"
title = "出台科技创新条例"
deadline = 2023-06-30
warning_days = 10
rule = { kind = "milestone", stages = [{ id = "draft", name = "起草", due = 2023-03-31 }, { id = "issued", due = 2023-06-30 }] }

[[targets]]
id = "events"
title = "举办科普活动120场次"
pace = { method = "schedule", points = [{ date = 2023-03-31, progress = 10 }, { date = 2023-06-30, progress = 35 }, { date = 2023-09-30, progress = 60 }] }
rule = { kind = "at_least", indicator = "events", value = 120 }
"""


def untyped(value: object) -> Any:
    """Return ``value`` typed as Any.

    Needed for the tags and stages arguments, which mypy rejects whatever their value (see
    test_tags_and_stages_type_check).
    """
    return value


def expected_valid_plan() -> tk.Plan:
    """Return, built by hand, the plan that VALID describes."""
    return tk.Plan(
        id="demo-2023",
        title="2023年科技工作要点",
        issuer="示例市科学技术局",
        start=dt.date(2023, 1, 1),
        end=dt.date(2023, 12, 31),
        source="示例市《2023年科技工作要点》",
        pace=tk.Pace(method=PaceMethod.MONTHS),
        thresholds=tk.Thresholds(on_track=0.0, behind=-20.0),
        warning_days=15,
        aspirational_severity=Severity.CRITICAL,
        unit_definitions=(("场次", "[session]"),),
        indicators=(
            tk.Indicator(
                id="turnover",
                name="技术合同成交额",
                name_en="Technology contract turnover",
                unit="亿元",
                kind=IndicatorKind.CUMULATIVE,
                cadence="monthly",
                lag_days=20,
            ),
            tk.Indicator(id="talent", name="引进人才", unit="人", kind=IndicatorKind.STOCK),
            tk.Indicator(
                id="hitech_share", name="高新技术产业增加值占比", unit="%", kind=IndicatorKind.LEVEL
            ),
            tk.Indicator(id="events", name="科普活动", unit="场次", kind=IndicatorKind.CUMULATIVE),
            # a milestone rule without an indicator gets one named after its target
            tk.Indicator(
                id="policy", name="出台科技创新条例", unit="", kind=IndicatorKind.MILESTONE
            ),
        ),
        targets=(
            tk.Target(
                id="turnover",
                title="技术合同成交额突破220亿元",
                section="二、加大科技创新投入",
                item=4,
                source="技术合同成交额突破220亿元",
                tags=untyped(("成果转化",)),
                rule=tk.AtLeast(indicator="turnover", value=220.0, unit="亿元"),
            ),
            tk.Target(
                id="talent",
                title="力争引进人才1500人",
                binding=False,
                owner="市人社局",
                deadline=dt.date(2023, 10, 31),
                pace=tk.Pace(method=PaceMethod.NONE),
                rule=tk.AtLeast(indicator="talent", value=1500.0, unit="人", stretch=2000.0),
            ),
            tk.Target(
                id="hitech",
                title="高新技术产业增加值占比提高到20%以上",
                thresholds=tk.Thresholds(on_track=-5.0, behind=-15.0),
                rule=tk.AtLeast(indicator="hitech_share", value=20.0, unit="%"),
            ),
            tk.Target(
                id="policy",
                title="出台科技创新条例",
                deadline=dt.date(2023, 6, 30),
                warning_days=10,
                rule=tk.Milestone(
                    indicator="policy",
                    stages=untyped(
                        (
                            tk.Stage(id="draft", name="起草", due=dt.date(2023, 3, 31)),
                            tk.Stage(id="issued", due=dt.date(2023, 6, 30)),
                        )
                    ),
                ),
            ),
            tk.Target(
                id="events",
                title="举办科普活动120场次",
                pace=tk.Pace(
                    method=PaceMethod.SCHEDULE,
                    points=(
                        (dt.date(2023, 3, 31), 0.10),
                        (dt.date(2023, 6, 30), 0.35),
                        (dt.date(2023, 9, 30), 0.60),
                    ),
                ),
                rule=tk.AtLeast(indicator="events", value=120.0, unit="场次"),
            ),
        ),
    )


def test_a_valid_plan_parses_into_the_plan_it_describes(tmp_path: Path) -> None:
    plan = tk.load(write(tmp_path, VALID))
    assert plan == expected_valid_plan()
    assert plan.timezone == "Asia/Shanghai"
    assert plan.deadline_of(plan.target("turnover")) == dt.date(2023, 12, 31)
    assert plan.target("turnover").binding is True
    assert plan.units.factor("场次", "场次") == 1.0


TYPED_USE = """\
import datetime as dt

import targetkit as tk

rule = tk.Milestone(indicator="p", stages=(tk.Stage(id="a", due=dt.date(2023, 1, 1)),))
target = tk.Target(id="t", title="x", rule=rule, tags=("a",))
"""


def test_tags_and_stages_type_check(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(TYPED_USE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), snippet],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout


def test_parse_of_a_mapping_equals_load_of_the_file(tmp_path: Path) -> None:
    from_file = tk.load(write(tmp_path, VALID))
    from_mapping = tk.parse(tomllib.loads(VALID))
    assert from_mapping == from_file


def test_a_plan_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    assert tk.load(path) == expected_valid_plan()


def test_config_error_is_a_value_error_listing_one_line_per_problem(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额突破220亿元"
        rule = { kind = "at_least", indicator = "turnover", value = 220, unit = "亿圆" }
        """
    )
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match="亿圆") as info:
        tk.load(path)
    assert isinstance(info.value, tk.ConfigError)
    line = line_of(text, '"亿圆"')
    assert str(info.value) == (
        f"{path}:{line}: targets[0].rule.unit: unit '亿圆' is not defined; "
        f"{info.value.problems[0].hint}"
    )
    assert info.value.lines() == [str(info.value)]


def test_parse_without_the_text_gives_no_line() -> None:
    text = plan_text(
        """
        [[targets]]
        id = "t"
        title = "标题"
        rule = { kind = "at_least", indicator = "talen", value = 10 }
        """
    )
    with pytest.raises(tk.ConfigError) as info:
        tk.parse(tomllib.loads(text), source="inline")
    problem = only(info.value.problems)
    assert (problem.source, problem.path, problem.line) == (
        "inline",
        "targets[0].rule.indicator",
        None,
    )


def test_a_missing_plan_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(tk.ConfigError) as info:
        tk.load(path)
    problem = only(info.value.problems)
    assert problem.source == str(path)
    assert "cannot be read" in problem.message


def test_a_plan_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes(VALID.encode("gb18030"))
    with pytest.raises(tk.ConfigError) as info:
        tk.load(path)
    problem = only(info.value.problems)
    assert "not UTF-8" in problem.message
    assert "UTF-8" in problem.hint


# --------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("body", "path", "needle", "key", "suggestion"),
    [
        pytest.param(
            """
            [[targets]]
            id = "turnover"
            title = "技术合同成交额"
            titel = "typo"
            rule = { kind = "at_least", indicator = "turnover", value = 220 }
            """,
            "targets[0].titel",
            "titel =",
            "titel",
            "title",
            id="target key",
        ),
        pytest.param(
            """
            [[targets]]
            id = "turnover"
            title = "技术合同成交额"
            rule = { kind = "at_least", indicator = "turnover", value = 220, strcit = true }
            """,
            "targets[0].rule.strcit",
            "strcit",
            "strcit",
            "strict",
            id="rule key",
        ),
        pytest.param(
            """
            [[indicators]]
            id = "patents"
            name = "专利"
            unit = "项"
            kind = "cumulative"
            cadense = "monthly"
            """
            + GOOD_TARGET,
            "indicators[4].cadense",
            "cadense",
            "cadense",
            "cadence",
            id="indicator key",
        ),
        pytest.param(
            """
            [defaults]
            warning_dayz = 10
            """
            + GOOD_TARGET,
            "defaults.warning_dayz",
            "warning_dayz",
            "warning_dayz",
            "warning_days",
            id="defaults key",
        ),
        pytest.param(
            """
            [[targetz]]
            id = "x"
            """
            + GOOD_TARGET,
            "targetz",
            "[[targetz]]",
            "targetz",
            "targets",
            id="top-level table",
        ),
    ],
)
def test_an_unknown_key_is_named_with_a_suggestion(
    tmp_path: Path, body: str, path: str, needle: str, key: str, suggestion: str
) -> None:
    text = plan_text(body)
    problem = only(problems_of(tmp_path, text))
    assert problem.path == path
    assert problem.line == line_of(text, needle)
    assert problem.message == f"unknown key {key!r}"
    assert problem.hint == f"did you mean {suggestion!r}?"


def test_an_unknown_key_in_the_plan_head_is_named(tmp_path: Path) -> None:
    text = HEAD.replace('title = "示例计划"', 'title = "示例计划"\nisuer = "科技局"') + GOOD_TARGET
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("plan.isuer", line_of(text, "isuer"))
    assert problem.hint == "did you mean 'issuer'?"


def test_a_misspelt_rule_key_also_reports_the_missing_key(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额"
        rule = { kind = "at_least", indicator = "turnover", valeu = 220 }
        """
    )
    problems = problems_of(tmp_path, text)
    line = line_of(text, "valeu")
    assert [(p.path, p.line) for p in problems] == [
        ("targets[0].rule.valeu", line),
        ("targets[0].rule.value", line),
    ]
    assert problems[0].hint == "did you mean 'value'?"
    assert problems[1].message == "the key 'value' is missing"


def test_an_unknown_rule_kind_suggests_a_close_one(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额"
        rule = { kind = "at_lest", indicator = "turnover", value = 220 }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("targets[0].rule.kind", line_of(text, "at_lest"))
    assert problem.message == "unknown rule kind 'at_lest'"
    assert problem.hint == "did you mean 'at_least'?"


@pytest.mark.parametrize(
    ("kind", "cadence", "field", "written", "suggestion"),
    [
        ("levels", "monthly", "kind", "'levels'", "did you mean 'level'?"),
        ("cumulative", "montly", "cadence", "'montly'", "'monthly'"),
    ],
)
def test_an_unknown_choice_names_the_value_and_the_choices(
    tmp_path: Path, kind: str, cadence: str, field: str, written: str, suggestion: str
) -> None:
    text = plan_text(
        f"""
        [[indicators]]
        id = "patents"
        name = "专利"
        unit = "项"
        kind = "{kind}"
        cadence = "{cadence}"
        """
        + GOOD_TARGET
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == f"indicators[4].{field}"
    assert problem.line == line_of(text, f"{field} = {written}".replace("'", '"'))
    assert written in problem.message
    assert suggestion in problem.message + problem.hint


# --------------------------------------------------------------------------- units


def test_an_unknown_unit_in_a_rule_suggests_the_close_one(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额突破220亿元"
        rule = { kind = "at_least", indicator = "turnover", value = 220, unit = "亿圆" }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[0].rule.unit"
    assert problem.line == line_of(text, "亿圆")
    assert problem.message == "unit '亿圆' is not defined"
    assert problem.hint.startswith("did you mean ")
    assert "'亿元'" in problem.hint


def test_an_unknown_unit_in_a_quantity_string_is_named(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额突破220亿元"
        rule = { kind = "at_least", indicator = "turnover", value = "220 亿圆" }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("targets[0].rule.value", line_of(text, "亿圆"))
    assert "'亿圆'" in problem.message
    assert "'亿元'" in problem.hint


def test_an_unknown_unit_of_an_indicator_is_named(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[indicators]]
        id = "funds"
        name = "科技经费"
        unit = "万圆"
        kind = "cumulative"
        """
        + GOOD_TARGET
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("indicators[4].unit", line_of(text, "万圆"))
    assert problem.message == "unit '万圆' is not defined"
    assert "'万元'" in problem.hint


def test_a_unit_of_another_kind_than_the_indicator_names_both_units(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "talent"
        title = "引进人才1500人"
        rule = { kind = "at_least", indicator = "talent", value = 1500, unit = "家" }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[0].rule.unit"
    assert problem.line == line_of(text, 'unit = "家"')
    assert "'家'" in problem.message
    assert "'人'" in problem.message
    assert "'talent'" in problem.message
    assert "'人'" in problem.hint


def test_a_compatible_unit_is_kept_as_written(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额突破220亿元"
        rule = { kind = "at_least", indicator = "turnover", value = "2,200,000 万元" }

        [[targets]]
        id = "talent"
        title = "引进人才1500名"
        rule = { kind = "at_least", indicator = "talent", value = 1500, unit = "名" }
        """
    )
    plan = tk.load(write(tmp_path, text))
    assert plan.target("turnover").rule == tk.AtLeast(
        indicator="turnover", value=2_200_000.0, unit="万元"
    )
    assert plan.target("talent").rule == tk.AtLeast(indicator="talent", value=1500.0, unit="名")


def test_a_plan_may_define_its_own_units(tmp_path: Path) -> None:
    text = (
        HEAD.replace(
            "[[indicators]]", '[units]\n"床" = "[bed]"\n"万床" = "1e4 床"\n\n[[indicators]]', 1
        )
        + """
[[indicators]]
id = "beds"
name = "床位"
unit = "床"
kind = "stock"

[[targets]]
id = "beds"
title = "床位达到1.2万张"
rule = { kind = "at_least", indicator = "beds", value = "1.2 万床" }
"""
    )
    plan = tk.load(write(tmp_path, text))
    assert plan.unit_definitions == (("床", "[bed]"), ("万床", "1e4 床"))
    assert plan.target("beds").rule == tk.AtLeast(indicator="beds", value=1.2, unit="万床")
    assert plan.units.factor("万床", "床") == pytest.approx(10_000)


# --------------------------------------------------------------------------- references and ids


def test_an_unknown_indicator_reference_suggests_a_close_one(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额"
        rule = { kind = "at_least", indicator = "turnovr", value = 220 }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("targets[0].rule.indicator", line_of(text, "turnovr"))
    assert problem.message == "unknown indicator 'turnovr'"
    assert problem.hint == "did you mean 'turnover'?"


def test_an_unknown_share_denominator_is_named(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "share"
        title = "占比"
        rule = { kind = "share", numerator = "turnover", denominator = "gdpp", value = 20 }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[0].rule.denominator"
    assert problem.message == "unknown indicator 'gdpp'"
    assert problem.hint == "declare it under [[indicators]]"


def test_a_duplicate_target_id_is_named_at_the_second_one(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额"
        rule = { kind = "at_least", indicator = "turnover", value = 220 }

        [[targets]]
        id = "turnover"
        title = "又一个"
        rule = { kind = "at_least", indicator = "turnover", value = 300 }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[1].id"
    assert problem.line == line_of(text, 'id = "turnover"', occurrence=3)
    assert problem.message == "duplicate target id 'turnover'"
    assert problem.hint


def test_a_duplicate_indicator_id_is_named_at_the_second_one(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[indicators]]
        id = "talent"
        name = "人才（重复）"
        unit = "人"
        kind = "stock"
        """
        + GOOD_TARGET
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "indicators[4].id"
    assert problem.line == line_of(text, 'id = "talent"', occurrence=2)
    assert problem.message == "duplicate indicator id 'talent'"
    assert problem.hint


def test_an_id_with_a_space_is_rejected(tmp_path: Path) -> None:
    text = plan_text(GOOD_TARGET.replace('id = "turnover"', 'id = "turn over"'))
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("targets[0].id", line_of(text, "turn over"))
    assert "'turn over'" in problem.message


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("deadline", ["2022-12-31", "2024-01-31"])
def test_a_deadline_outside_the_period_is_rejected(tmp_path: Path, deadline: str) -> None:
    text = plan_text(
        f"""
        [[targets]]
        id = "turnover"
        title = "技术合同成交额"
        deadline = {deadline}
        rule = {{ kind = "at_least", indicator = "turnover", value = 220 }}
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("targets[0].deadline", line_of(text, "deadline ="))
    assert deadline in problem.message
    assert "2023-01-01..2023-12-31" in problem.message
    assert "within the period" in problem.hint


def test_a_deadline_on_the_period_edges_is_accepted(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "first"
        title = "首日"
        deadline = 2023-01-01
        rule = { kind = "milestone" }

        [[targets]]
        id = "last"
        title = "末日"
        deadline = "2023年12月"
        rule = { kind = "milestone" }
        """
    )
    plan = tk.load(write(tmp_path, text))
    assert plan.target("first").deadline == dt.date(2023, 1, 1)
    assert plan.target("last").deadline == dt.date(2023, 12, 31)


def test_a_stage_due_outside_the_period_is_rejected(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "lab"
        title = "实验室验收"
        rule = { kind = "milestone", stages = [{ id = "built", due = 2024-02-01 }] }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("targets[0].rule.stages", line_of(text, "2024-02-01"))
    assert "'built'" in problem.message
    assert "2024-02-01" in problem.message


def test_a_period_that_ends_before_it_starts_is_rejected(tmp_path: Path) -> None:
    text = HEAD.replace("end = 2023-12-31", "end = 2022-12-31") + GOOD_TARGET
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("plan.period", line_of(text, "period ="))
    assert "2022-12-31" in problem.message
    assert "swap" in problem.hint


# --------------------------------------------------------------------------- percentages


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ('{ kind = "at_least", indicator = "hitech_share", value = 0.2, unit = "%" }', "value"),
        ('{ kind = "at_least", indicator = "hitech_share", value = 0.2 }', "value"),
        ('{ kind = "share", numerator = "talent", denominator = "talent", value = 0.2 }', "value"),
        ('{ kind = "growth", indicator = "turnover", value = 0.2 }', "value"),
        ('{ kind = "between", indicator = "hitech_share", low = 0.2, high = 30 }', "low"),
    ],
)
def test_a_fraction_given_as_percent_is_flagged_with_a_fix(
    tmp_path: Path, rule: str, key: str
) -> None:
    text = plan_text(
        f"""
        [[targets]]
        id = "hitech"
        title = "占比提高到20%以上"
        rule = {rule}
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == f"targets[0].rule.{key}"
    assert problem.line == line_of(text, "rule =")
    assert problem.message == "0.2 with unit '%' reads as 0.2%, not 20%"
    assert f"write {key} = 20 for 20%" in problem.hint
    assert f'{key} = "0.2%"' in problem.hint


def test_a_fraction_as_stretch_is_flagged_too(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "hitech"
        title = "占比提高到20%以上"
        rule = { kind = "at_least", indicator = "hitech_share", value = 20, stretch = 0.25 }
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[0].rule.stretch"
    assert "write stretch = 25 for 25%" in problem.hint


@pytest.mark.parametrize(
    ("written", "value"),
    [('"0.2%"', 0.2), ('"0.2 %"', 0.2), ('"20%"', 20.0), ("20", 20.0), ('"２０％"', 20.0)],
)
def test_a_percent_written_out_is_accepted(tmp_path: Path, written: str, value: float) -> None:
    text = plan_text(
        f"""
        [[targets]]
        id = "hitech"
        title = "占比"
        rule = {{ kind = "at_least", indicator = "hitech_share", value = {written} }}
        """
    )
    plan = tk.load(write(tmp_path, text))
    assert plan.target("hitech").rule == tk.AtLeast(indicator="hitech_share", value=value, unit="%")


def test_half_a_percentage_point_is_not_mistaken_for_a_fraction(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "sci"
        title = "科普经费占比提高0.5个百分点"
        rule = { kind = "change_pp", indicator = "sci_share", value = 0.5 }
        """
    )
    plan = tk.load(write(tmp_path, text))
    assert plan.target("sci").rule == tk.ChangePP(indicator="sci_share", value=0.5, unit="百分点")


# --------------------------------------------------------------------------- pace and thresholds


def schedule_target(points: str, pace: str | None = None) -> str:
    pace = pace or f'{{ method = "schedule", points = [{points}] }}'
    return f"""
[[targets]]
id = "turnover"
title = "技术合同成交额"
pace = {pace}
rule = {{ kind = "at_least", indicator = "turnover", value = 220 }}
"""


@pytest.mark.parametrize(
    ("pace", "path", "message"),
    [
        ('"monthly"', "targets[0].pace", "did you mean 'months'?"),
        ("5", "targets[0].pace", "pace must be text or a table (got 5)"),
        ('"schedule"', "targets[0].pace", "a schedule pace needs points"),
        (
            '{ method = "schedule", points = [{ date = 2023-06-30, progress = 35 }, '
            "{ date = 2023-03-31, progress = 10 }] }",
            "targets[0].pace",
            "schedule points must have increasing dates",
        ),
        (
            '{ method = "schedule", points = [{ date = 2023-03-31, progress = 40 }, '
            "{ date = 2023-06-30, progress = 35 }] }",
            "targets[0].pace",
            "schedule progress must be non-decreasing",
        ),
        (
            '{ method = "schedule", points = [{ date = 2023-03-31, progres = 10 }] }',
            "targets[0].pace.points[0].progres",
            "unknown key 'progres'",
        ),
        (
            '{ method = "days", points = [{ date = 2023-03-31, progress = 10 }] }',
            "targets[0].pace",
            "pace 'days' takes no points",
        ),
    ],
)
def test_a_bad_pace_is_named(tmp_path: Path, pace: str, path: str, message: str) -> None:
    text = plan_text(schedule_target("", pace=pace))
    problems = problems_of(tmp_path, text)
    found = [p for p in problems if p.path == path and message in p.message]
    assert found, "\n".join(map(str, problems))
    assert found[0].line == line_of(text, "pace =")
    assert all(p.path.startswith("targets[0].pace") for p in problems)


def test_a_progress_above_100_is_named_at_its_point(tmp_path: Path) -> None:
    text = plan_text(schedule_target("{ date = 2023-06-30, progress = 160 }"))
    problems = problems_of(tmp_path, text)
    assert problems[0].path == "targets[0].pace.points[0].progress"
    assert problems[0].line == line_of(text, "pace =")
    assert "160" in problems[0].message
    assert "progress = 35 for 35%" in problems[0].hint


def test_a_bad_schedule_point_is_reported_once(tmp_path: Path) -> None:
    text = plan_text(schedule_target("{ date = 2023-06-30, progress = 160 }"))
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[0].pace.points[0].progress"


def test_a_schedule_point_outside_the_period_is_rejected(tmp_path: Path) -> None:
    text = plan_text(
        schedule_target(
            "{ date = 2023-06-30, progress = 35 }, { date = 2024-03-31, progress = 80 }"
        )
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path.startswith("targets[0].pace")
    assert "2024-03-31" in problem.message


def test_a_schedule_is_read_as_fractions(tmp_path: Path) -> None:
    text = plan_text(
        schedule_target(
            "{ date = 2023-03-31, progress = 10 }, { date = 2023-06-30, progress = 35 }"
        )
    )
    plan = tk.load(write(tmp_path, text))
    assert plan.target("turnover").pace == tk.Pace(
        method=PaceMethod.SCHEDULE,
        points=((dt.date(2023, 3, 31), 0.10), (dt.date(2023, 6, 30), 0.35)),
    )


@pytest.mark.parametrize(
    ("where", "path"),
    [("defaults", "defaults.thresholds"), ("target", "targets[0].thresholds")],
)
def test_overlapping_thresholds_are_rejected(tmp_path: Path, where: str, path: str) -> None:
    bad = "thresholds = { on_track = -10, behind = 5 }"
    if where == "defaults":
        text = plan_text(f"\n[defaults]\n{bad}\n" + GOOD_TARGET)
    else:
        text = plan_text(
            GOOD_TARGET.replace('title = "技术合同成交额突破220亿元"', f'title = "t"\n{bad}')
        )
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == (path, line_of(text, "thresholds ="))
    assert "overlap" in problem.message
    assert "5.0" in problem.message
    assert "-10.0" in problem.message
    assert "-30" in problem.hint


def test_touching_thresholds_are_accepted(tmp_path: Path) -> None:
    text = plan_text("\n[defaults]\nthresholds = { on_track = -10, behind = -10 }\n" + GOOD_TARGET)
    plan = tk.load(write(tmp_path, text))
    assert plan.thresholds == tk.Thresholds(on_track=-10.0, behind=-10.0)


def test_a_negative_warning_window_is_rejected(tmp_path: Path) -> None:
    text = plan_text("\n[defaults]\nwarning_days = -3\n" + GOOD_TARGET)
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("defaults.warning_days", line_of(text, "warning_days"))
    assert "-3" in problem.message


# --------------------------------------------------------------------------- syntax


def test_bad_toml_syntax_names_the_line_in_the_message(tmp_path: Path) -> None:
    text = '[plan]\nid = "x"\ntitle = \n'
    problem = only(problems_of(tmp_path, text))
    assert "is not valid TOML" in problem.message
    assert "line 3" in problem.message
    assert problem.hint == "fix the syntax"


def test_bad_toml_syntax_gives_the_line_of_the_problem(tmp_path: Path) -> None:
    text = '[plan]\nid = "x"\ntitle = \n'
    problem = only(problems_of(tmp_path, text))
    assert problem.line == 3


def test_bad_json_syntax_gives_the_line(tmp_path: Path) -> None:
    text = '{\n  "plan": {\n    "id": "x",\n  }\n}\n'
    problem = only(problems_of(tmp_path, text, name="plan.json"))
    assert problem.line == 4
    assert "is not valid JSON" in problem.message


def test_a_plan_file_that_is_not_a_table_is_rejected(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, "[1, 2]\n", name="plan.json"))
    assert "table at its top level" in problem.message


# --------------------------------------------------------------------------- JSON

VALID_JSON = {
    "plan": {
        "id": "demo-2023",
        "title": "2023年科技工作要点",
        "issuer": "示例市科学技术局",
        "period": {"start": "2023-01-01", "end": "2023-12-31"},
        "source": "示例市《2023年科技工作要点》",
    },
    "defaults": {
        "pace": "months",
        "thresholds": {"on_track": 0, "behind": -20},
        "warning_days": 15,
        "aspirational_severity": "critical",
    },
    "units": {"场次": "[session]"},
    "indicators": [
        {
            "id": "turnover",
            "name": "技术合同成交额",
            "name_en": "Technology contract turnover",
            "unit": "亿元",
            "kind": "cumulative",
            "cadence": "monthly",
            "lag_days": 20,
        },
        {"id": "talent", "name": "引进人才", "unit": "人", "kind": "stock"},
        {"id": "hitech_share", "name": "高新技术产业增加值占比", "unit": "%", "kind": "level"},
        {"id": "events", "name": "科普活动", "unit": "场次", "kind": "cumulative"},
    ],
    "targets": [
        {
            "id": "turnover",
            "title": "技术合同成交额突破220亿元",
            "section": "二、加大科技创新投入",
            "item": 4,
            "source": "技术合同成交额突破220亿元",
            "tags": ["成果转化"],
            "rule": {"kind": "at_least", "indicator": "turnover", "value": "220 亿元"},
        },
        {
            "id": "talent",
            "title": "力争引进人才1500人",
            "binding": False,
            "owner": "市人社局",
            "deadline": "2023-10-31",
            "pace": "none",
            "rule": {"kind": "at_least", "indicator": "talent", "value": 1500, "stretch": 2000},
        },
        {
            "id": "hitech",
            "title": "高新技术产业增加值占比提高到20%以上",
            "thresholds": {"on_track": -5, "behind": -15},
            "rule": {"kind": "at_least", "indicator": "hitech_share", "value": 20, "unit": "%"},
        },
        {
            "id": "policy",
            "title": "出台科技创新条例",
            "deadline": "2023-06-30",
            "warning_days": 10,
            "rule": {
                "kind": "milestone",
                "stages": [
                    {"id": "draft", "name": "起草", "due": "2023-03-31"},
                    {"id": "issued", "due": "2023-06-30"},
                ],
            },
        },
        {
            "id": "events",
            "title": "举办科普活动120场次",
            "pace": {
                "method": "schedule",
                "points": [
                    {"date": "2023-03-31", "progress": 10},
                    {"date": "2023-06-30", "progress": 35},
                    {"date": "2023-09-30", "progress": 60},
                ],
            },
            "rule": {"kind": "at_least", "indicator": "events", "value": 120},
        },
    ],
}


def test_a_json_plan_with_the_same_structure_gives_the_same_plan(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(VALID_JSON, ensure_ascii=False, indent=2), "plan.json")
    assert tk.load(path) == expected_valid_plan()


def test_a_json_plan_reports_problems_with_their_path_and_value(tmp_path: Path) -> None:
    data: dict[str, Any] = json.loads(json.dumps(VALID_JSON))
    data["targets"][2]["rule"]["unit"] = "亿圆"
    data["targets"][1]["deadline"] = "2024-03-01"
    problems = problems_of(tmp_path, json.dumps(data, ensure_ascii=False, indent=2), "plan.json")
    assert [p.path for p in problems] == ["targets[1].deadline", "targets[2].rule.unit"]
    assert "2024-03-01" in problems[0].message
    assert "'亿圆'" in problems[1].message
    assert "'亿元'" in problems[1].hint
    assert all(p.line is not None for p in problems)


def test_a_json_problem_gives_the_line_of_the_offending_key(tmp_path: Path) -> None:
    data: dict[str, Any] = json.loads(json.dumps(VALID_JSON))
    data["targets"][2]["rule"]["unit"] = "亿圆"
    text = json.dumps(data, ensure_ascii=False, indent=2)
    problem = only(problems_of(tmp_path, text, "plan.json"))
    assert problem.line == line_of(text, '"亿圆"')


# --------------------------------------------------------------------------- many problems at once


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        HEAD.replace('title = "示例计划"', 'title = "示例计划"\nisuer = "科技局"')
        + """
[[indicators]]
id = "funds"
name = "科技经费"
unit = "万圆"
kind = "cumulative"

[[targets]]
id = "talent"
title = "引进人才"
rule = { kind = "at_least", indicator = "talnet", value = 1500 }

[[targets]]
id = "turnover"
title = "技术合同成交额"
deadline = 2024-06-30
rule = { kind = "at_least", indicator = "turnover", value = 220 }

[[targets]]
id = "hitech"
title = "占比"
rule = { kind = "at_least", indicator = "hitech_share", value = 0.2 }

[[targets]]
id = "turnover"
title = "技术合同成交额（重复）"
rule = { kind = "at_least", indicator = "turnover", value = 300 }
"""
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 6
    assert [(p.path, p.line) for p in problems] == [
        ("plan.isuer", line_of(text, "isuer")),
        ("indicators[4].unit", line_of(text, "万圆")),
        ("targets[0].rule.indicator", line_of(text, "talnet")),
        ("targets[1].deadline", line_of(text, "2024-06-30")),
        ("targets[2].rule.value", line_of(text, "value = 0.2 }")),
        ("targets[3].id", line_of(text, 'id = "turnover"', occurrence=3)),
    ]
    assert all(p.hint for p in problems)


def test_a_rule_check_problem_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "talent"
        title = "引进人才"
        rule = { kind = "at_least", indicator = "talent", value = 1500, unit = "家" }

        [[targets]]
        id = "turnover"
        title = "技术合同成交额"
        rule = { kind = "at_least", indicator = "turnovr", value = 220 }
        """
    )
    problems = problems_of(tmp_path, text)
    assert [p.path for p in problems] == ["targets[0].rule.unit", "targets[1].rule.indicator"]


def test_a_bad_field_is_reported_even_when_the_rule_is_bad(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "talent"
        title = "引进人才"
        binding = "yes"
        rule = { kind = "at_least", indicator = "talnet", value = 1500 }
        """
    )
    problems = problems_of(tmp_path, text)
    assert sorted(p.path for p in problems) == ["targets[0].binding", "targets[0].rule.indicator"]


def test_a_duplicate_of_a_target_with_a_bad_rule_is_reported(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "talent"
        title = "引进人才"
        rule = { kind = "at_least", indicator = "talnet", value = 1500 }

        [[targets]]
        id = "talent"
        title = "引进人才（重复）"
        rule = { kind = "at_least", indicator = "talent", value = 1500 }
        """
    )
    problems = problems_of(tmp_path, text)
    assert [p.path for p in problems] == ["targets[0].rule.indicator", "targets[1].id"]


def test_a_problem_in_a_rule_sub_table_gives_the_line_of_the_key(tmp_path: Path) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "turnover"
        title = "技术合同成交额"

        [targets.rule]
        kind = "at_least"
        indicator = "turnovr"
        value = 220
        """
    )
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[0].rule.indicator"
    assert problem.line == line_of(text, "turnovr")


# --------------------------------------------------------------------------- round trips


def reparse(plan: tk.Plan, fmt: str) -> tk.Plan:
    text = tk.dumps(plan, format=fmt)
    data = json.loads(text) if fmt == "json" else tomllib.loads(text)
    return tk.parse(data, source=f"dumped.{fmt}", text=text)


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_a_plan_round_trips_through_text(tmp_path: Path, fmt: str) -> None:
    plan = tk.load(write(tmp_path, VALID))
    assert reparse(plan, fmt) == plan


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_the_shipped_example_round_trips(repo_root: Path, fmt: str) -> None:
    plan = tk.load(repo_root / "examples" / "yichang_2023" / "plan.toml")
    assert reparse(plan, fmt) == plan


def test_a_dumped_plan_file_loads_from_disk(tmp_path: Path) -> None:
    plan = tk.load(write(tmp_path, VALID))
    for name, fmt in (("again.toml", "toml"), ("again.json", "json")):
        path = write(tmp_path, tk.dumps(plan, format=fmt), name)
        assert tk.load(path) == plan


def test_dumps_rejects_an_unknown_format() -> None:
    plan = tk.parse(tomllib.loads(VALID))
    with pytest.raises(ValueError, match="'yaml'"):
        tk.dumps(plan, format="yaml")


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_a_small_percent_round_trips(tmp_path: Path, fmt: str) -> None:
    text = plan_text(
        """
        [[targets]]
        id = "hitech"
        title = "占比提高0.2%"
        rule = { kind = "at_least", indicator = "hitech_share", value = "0.2%" }
        """
    )
    plan = tk.load(write(tmp_path, text))
    assert reparse(plan, fmt) == plan


def test_a_title_with_a_control_character_round_trips_through_toml(tmp_path: Path) -> None:
    data = json.loads(json.dumps(VALID_JSON))
    data["targets"][0]["title"] = "技术合同\x7f成交额"
    plan = tk.parse(data)
    assert reparse(plan, "toml") == plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_mappings())
def test_generated_plans_round_trip(data: Mapping[str, Any]) -> None:
    plan = tk.parse(data)
    assert reparse(plan, "toml") == plan
    assert reparse(plan, "json") == plan
    assert tk.parse(tk.dump(plan)) == plan


# --------------------------------------------------------------------------- users' own rule kinds


@attrs.frozen(kw_only=True)
class LatestAtLeast:
    """A user's rule: the latest figure must reach ``value``; no pro-rating, no baseline."""

    kind: ClassVar[str] = "my_kind"
    indicator: str
    value: float

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


class LatestAtLeastKind(rules.Kind[LatestAtLeast]):
    """The whole plug-in: schema, one vectorised judgement, wording, display."""

    name = "my_kind"
    rule_class = LatestAtLeast
    fields = (
        rules.Field(name="indicator", type=rules.FieldType.INDICATOR, required=True),
        rules.Field(name="value", type=rules.FieldType.NUMBER, required=True, quantity=True),
    )

    def check(self, rule: LatestAtLeast, plan: tk.Plan) -> Sequence[tuple[str, str, str]]:
        if rule.value <= 0:
            return [("value", f"value must be positive (got {rule.value})", "write e.g. 10")]
        return []

    def prepare(self, plan: tk.Plan, rules_: Sequence[LatestAtLeast]) -> Any:
        return (
            rules.codes_of(plan, [r.indicator for r in rules_]),
            rules.floats([r.value for r in rules_]),
        )

    def judge(self, batch: rules.Batch) -> rules.Verdicts:
        codes, value = batch.prepared
        v = rules.Verdicts(len(batch))
        figure, day, row = batch.current(codes)
        have = day != rules.NAT
        v.status[:] = np.where(
            have, np.where(rules.vge(figure, value), rules.MET, rules.BEHIND), rules.NO_DATA
        )
        v.actual[:] = np.where(have, figure, np.nan)
        v.target_value[:] = value
        v.observed[:] = day
        v.cite(np.where(have, row, -1))
        return v

    def describe(self, row: rules.Row[LatestAtLeast]) -> tuple[str, str]:
        if row.actual is None:
            return "无数据", "no data"
        return f"最新 {row.actual:g}", f"latest {row.actual:g}"


@pytest.fixture
def my_kind() -> Iterator[str]:
    rules.register_rule_kind(LatestAtLeastKind())
    yield "my_kind"
    rules.unregister_rule_kind("my_kind")


MY_KIND_PLAN = """
[[targets]]
id = "talent"
title = "人才达到10人"
rule = { kind = "my_kind", indicator = "talent", value = 10 }
"""


def test_a_user_rule_and_kind_satisfy_the_protocols() -> None:
    assert isinstance(LatestAtLeast(indicator="talent", value=10.0), tk.Rule)
    assert isinstance(LatestAtLeastKind(), tk.RuleKind)


@pytest.mark.usefixtures("my_kind")
@pytest.mark.parametrize(
    ("figure", "status"), [(12, Status.MET), (10, Status.MET), (8, Status.BEHIND)]
)
def test_a_registered_rule_kind_is_used_from_a_plan_file(
    tmp_path: Path, figure: int, status: Status
) -> None:
    import pandas as pd

    plan = tk.load(write(tmp_path, plan_text(MY_KIND_PLAN)))
    assert plan.target("talent").rule == LatestAtLeast(indicator="talent", value=10.0)
    frame = pd.DataFrame(
        {
            "indicator": ["talent", "talent"],
            "date": ["2023-03-31", "2023-06-30"],
            "value": [3, figure],
            "unit": ["人", "人"],
        }
    )
    actuals = tk.Actuals.from_frame(frame, plan)
    result = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 15)).result("talent")
    assert result.status is status
    assert result.rule_kind == "my_kind"
    assert result.actual == figure
    assert result.observed_on == dt.date(2023, 6, 30)
    assert [e.line for e in result.evidence] == [2]
    assert result.message_en == f"latest {figure:g}"


@pytest.mark.usefixtures("my_kind")
def test_a_registered_rule_kind_round_trips(tmp_path: Path) -> None:
    plan = tk.load(write(tmp_path, plan_text(MY_KIND_PLAN)))
    assert reparse(plan, "toml") == plan
    assert reparse(plan, "json") == plan


@pytest.mark.usefixtures("my_kind")
def test_a_user_kind_gets_key_path_errors_like_a_built_in(tmp_path: Path) -> None:
    text = plan_text(MY_KIND_PLAN.replace("value = 10", "valu = 10"))
    problems = problems_of(tmp_path, text)
    assert [(p.path, p.line) for p in problems] == [
        ("targets[0].rule.valu", line_of(text, "my_kind")),
        ("targets[0].rule.value", line_of(text, "my_kind")),
    ]
    assert problems[0].message == "unknown key 'valu'"
    assert problems[0].hint == "did you mean 'value'?"
    assert problems[1].message == "the key 'value' is missing"


@pytest.mark.usefixtures("my_kind")
def test_a_user_kind_reads_quantities_like_a_built_in(tmp_path: Path) -> None:
    text = plan_text(MY_KIND_PLAN.replace("value = 10", 'value = "ten"'))
    problem = only(problems_of(tmp_path, text))
    assert problem.path == "targets[0].rule.value"
    assert "'ten'" in problem.message


@pytest.mark.usefixtures("my_kind")
def test_a_user_rule_check_problem_is_reported_with_its_place(tmp_path: Path) -> None:
    text = plan_text(MY_KIND_PLAN.replace("value = 10", "value = -1"))
    problem = only(problems_of(tmp_path, text))
    assert (problem.path, problem.line) == ("targets[0].rule.value", line_of(text, "my_kind"))
    assert problem.message == "value must be positive (got -1.0)"
    assert problem.hint == "write e.g. 10"


def test_an_unregistered_kind_is_unknown(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, plan_text(MY_KIND_PLAN)))
    assert problem.path == "targets[0].rule.kind"
    assert problem.message == "unknown rule kind 'my_kind'"


@pytest.mark.usefixtures("my_kind")
def test_registering_a_kind_twice_needs_replace() -> None:
    with pytest.raises(ValueError, match="already registered"):
        tk.register_rule_kind(LatestAtLeastKind())
    again = LatestAtLeastKind()
    tk.register_rule_kind(again, replace=True)
    assert rules.rule_kind("my_kind") is again


def test_registering_something_that_is_not_a_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="not a rule kind"):
        tk.register_rule_kind(object())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- indicator aliases

_ALIASED = """
[plan]
id = "p"
title = "p"
period = { start = 2023-01-01, end = 2023-12-31 }

[[indicators]]
id = "turnover"
name = "技术合同成交额"
aliases = ["技术合同登记额", "技术市场成交额"]
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "firms"
name = "科技型中小企业入库数"
aliases = ALIASES
unit = "家"
kind = "cumulative"

[[targets]]
id = "t"
title = "t"
rule = { kind = "at_least", indicator = "turnover", value = 1 }
"""


def test_aliases_are_read_and_dumped(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(_ALIASED.replace("ALIASES", '[" 入库企业数 "]'), encoding="utf-8")
    plan = tk.load(path)
    assert plan.indicator("turnover").aliases == ("技术合同登记额", "技术市场成交额")
    assert plan.indicator("firms").aliases == ("入库企业数",)
    assert tk.parse(tk.dump(plan)) == plan
    assert tk.dump(plan)["indicators"][0]["aliases"] == ["技术合同登记额", "技术市场成交额"]


@pytest.mark.parametrize(
    ("aliases", "path", "message"),
    [
        (
            '"入库企业数"',
            "indicators[1].aliases",
            "aliases must be a list of names (got '入库企业数')",
        ),
        ('["", 3]', "indicators[1].aliases[0]", "an alias is a non-empty name (got '')"),
        (
            '["技术合同登记额"]',
            "indicators[1].aliases[0]",
            "the alias '技术合同登记额' is already an alias of 'turnover'",
        ),
    ],
)
def test_bad_aliases(tmp_path: Path, aliases: str, path: str, message: str) -> None:
    found = problems_of(tmp_path, _ALIASED.replace("ALIASES", aliases))
    assert (found[0].path, found[0].message) == (path, message)
    assert found[0].line is not None
