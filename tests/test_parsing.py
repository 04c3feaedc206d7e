"""The one parse kit: the same key path is found, and the same value read, in every user file."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import tomllib
from pathlib import Path

import pytest
import tomli
from hypothesis import given
from hypothesis import strategies as st

from targetkit import _parsing as kit

TOML = """\
[plan]
id = "p"

[[targets]]
id = "a"
rule = { kind = "at_least", unit = "亿元" }

[[targets]]
id = "b"

[targets.rule]
kind = "at_most"
unit = "家"

[notify]
lang = "zh"

[[notify.routes]]
owner = "x"
to = ["a@example.org"]

[[notify.routes]]
owner = "y"
to = ["b@example.org"]
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (["plan", "id"], 2),
        (["targets", 0, "rule", "unit"], 6),
        (["targets", 1, "rule", "unit"], 13),
        (["notify", "lang"], 16),
        (["notify", "routes", 1, "to"], 24),
        (["notify", "routes", 0, "owner"], 19),
        (["notify", "routes", 5, "to"], None),
    ],
)
def test_a_key_path_is_found_on_its_line(path: list[str | int], line: int | None) -> None:
    assert kit.Lines(TOML).find(path) == line


def test_a_key_path_is_found_in_json_by_the_item_id() -> None:
    data = {"targets": [{"id": "a", "rule": {"unit": "亿元"}}, {"id": "b", "rule": {"unit": "家"}}]}
    text = json.dumps(data, ensure_ascii=False, indent=2)
    line = kit.Lines(text, data).find(["targets", 1, "rule", "unit"])
    assert line is not None
    assert '"家"' in text.splitlines()[line - 1]


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"


def test_choices_are_read_in_any_letter_case_with_a_suggestion() -> None:
    convert = kit.choice(Colour)
    assert convert(" Red ") is Colour.RED
    with pytest.raises(ValueError, match="must be one of red, green; did you mean 'green'"):
        convert("gren")


def test_problems_carry_path_line_value_and_hint() -> None:
    errs = kit.Collector(source="plan.toml", lines=kit.Lines(TOML))
    kit.check_keys({"kind": 1, "unti": 2}, ["kind", "unit"], ["targets", 1, "rule"], errs)
    assert kit.get({"n": "x"}, "n", ["plan"], errs, kit.boolean, expect="true or false") is None
    assert [str(p) for p in errs.problems] == [
        "plan.toml:11: targets[1].rule.unti: unknown key 'unti'; did you mean 'unit'?",
        "plan.toml:1: plan.n: expected true or false (got 'x'); write true or false",
    ]


def test_one_line_texts_refuse_line_breaks_and_names_take_one_or_many() -> None:
    assert kit.text(" a\nb ") == "a\nb"
    with pytest.raises(ValueError, match="one line"):
        kit.one_line("a\nb")
    assert kit.names("a@x") == ("a@x",)
    assert kit.names(["a@x", " ", "b@x"]) == ("a@x", "b@x")


# --------------------------------------------------------------------------- the TOML reader

ROOT = Path(__file__).resolve().parent.parent
GOOD = sorted(
    [
        ROOT / "examples" / "yichang_2023" / "plan.toml",
        ROOT / "tests" / "data" / "every_kind.toml",
        *(ROOT / "docs").rglob("*.toml"),
        *(ROOT / "examples").rglob("*.toml"),
    ]
)
BAD = [
    "a = 1\nb = ",
    "x = [1,2",
    "[a]\nb=1\n[a]\n",
    "a = 1 2",
    "a = {x = 1,\n y = 2}",  # TOML 1.1: newlines in an inline table
    "a = {x=1,}",  # TOML 1.1: a trailing comma
    'a = "\\e"',  # TOML 1.1: the escape \e
    "t = 07:32",  # TOML 1.1: a time without seconds
    'k = "abc',
    "[plan]\nid = 'x'\nid = 'y'\n",
    "a.b = 1\na = 2",
    "d = 2023-02-30",
]


def test_the_fast_reader_is_the_one_the_test_extra_installs() -> None:
    # tomli's compiled TOML 1.0 build (the fast extra); the suite and the benchmarks run on it
    assert kit.toml_reader() == "tomli"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_both_readers_give_the_same_mapping(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert tomli.loads(text) == tomllib.loads(text) == kit.read_toml(text)


@pytest.mark.parametrize("text", BAD)
def test_both_readers_refuse_the_same_texts_with_the_same_words(text: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as standard:
        tomllib.loads(text)
    with pytest.raises(tomli.TOMLDecodeError) as fast:
        tomli.loads(text)
    assert str(fast.value) == str(standard.value)
    with pytest.raises(kit.TomlSyntaxError) as ours:
        kit.read_toml(text)
    assert ours.value.message == str(standard.value)
    line = re.search(r"at line (\d+)", str(standard.value))
    assert ours.value.line == (int(line[1]) if line else None)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.integers(-(2**63), 2**63 - 1),
            st.floats(allow_nan=False),
            st.text(max_size=20),
            st.booleans(),
            st.dates(),
            st.lists(st.integers(0, 9), max_size=4),
        ),
        max_size=6,
    )
)
def test_both_readers_read_any_written_table_alike(table: dict[str, object]) -> None:
    lines = [f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}" for k, v in table.items()]
    text = "\n".join(lines)
    outcomes = []
    for reader in (tomllib, tomli):
        try:
            outcomes.append(reader.loads(text))
        except (tomllib.TOMLDecodeError, tomli.TOMLDecodeError) as exc:
            outcomes.append(str(exc))  # a control character json.dumps leaves raw, say
    assert outcomes[0] == outcomes[1]
    if isinstance(outcomes[0], dict):
        assert outcomes[0] == table


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
