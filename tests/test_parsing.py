"""The one parse kit: the same key path is found, and the same value read, in every user file."""

from __future__ import annotations

import enum
import json

import pytest

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
