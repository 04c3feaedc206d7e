"""Units: the private registry, strict parsing, conversions and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetkit import IndicatorKind, rules
from targetkit.exceptions import UnitError
from targetkit.units import _UNIT_SYSTEMS, UnitSystem, default_units, units_with

from .conftest import make_plan

U = default_units()


@pytest.mark.parametrize(
    ("src", "dst", "factor"),
    [
        ("亿元", "万元", 10_000.0),
        ("万元", "亿元", 1e-4),
        ("个亿", "亿元", 1.0),
        ("千元", "元", 1_000.0),
        ("名", "人", 1.0),
        ("%", "", 0.01),
        ("吨", "kg", 1_000.0),
        ("万千瓦时", "千瓦时", 10_000.0),
        ("微克/立方米", "µg/m3", 1.0),
        ("万元/家", "元/家", 10_000.0),
    ],
)
def test_factor_between_compatible_units(src: str, dst: str, factor: float) -> None:
    assert U.factor(src, dst) == pytest.approx(factor)


def test_220_yi_equals_2200000_wan() -> None:
    assert U.convert(220, "亿元", "万元") == pytest.approx(2_200_000)


@pytest.mark.parametrize(
    ("src", "dst"), [("家", "人"), ("人", "项"), ("笔", "家"), ("百分点", "%"), ("亿元", "家")]
)
def test_counts_and_points_do_not_mix(src: str, dst: str) -> None:
    with pytest.raises(UnitError) as err:
        U.factor(src, dst)
    assert repr(src) in str(err.value)
    assert repr(dst) in str(err.value)


def test_unknown_unit_suggests_a_close_one() -> None:
    with pytest.raises(UnitError, match=r"'亿圆' is not defined; did you mean .*'亿元'"):
        U.check("亿圆")


@pytest.mark.parametrize("text", ["20 ¥", "元$", "k元"])
def test_characters_pint_would_drop_are_rejected(text: str) -> None:
    with pytest.raises(UnitError):
        U.check(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("220 亿元", (220.0, "亿元")),
        ("220亿元", (220.0, "亿元")),
        ("２２０亿元", (220.0, "亿元")),
        ("20 ％", (20.0, "%")),
        ("1,234,567 元", (1_234_567.0, "元")),
        ("-3.5 %", (-3.5, "%")),
    ],
)
def test_parse_quantity(text: str, expected: tuple[float, str]) -> None:
    assert U.parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["1,5 元", "abc", "220", "12,34 元"])
def test_parse_quantity_rejects_ambiguous_text(text: str) -> None:
    with pytest.raises(UnitError):
        U.parse_quantity(text)


def test_plan_units_extend_the_registry_without_touching_the_default() -> None:
    extended = units_with(("床 = [bed]", "万床 = 10000 床"))
    assert extended.factor("万床", "床") == 10_000
    with pytest.raises(UnitError):
        U.check("万床")


def test_redefining_a_builtin_unit_is_an_error() -> None:
    with pytest.raises(UnitError, match="already defined"):
        UnitSystem(("亿元 = 1e9 元",))


@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.sampled_from(["元", "万元", "亿元", "千元"]),
)
def test_conversion_round_trips(value: float, unit: str) -> None:
    there = U.convert(value, unit, "亿元")
    back = U.convert(there, "亿元", unit)
    assert back == pytest.approx(value, rel=1e-12, abs=1e-9)


# --------------------------------------------------------------------------- columns of factors

PLAN = make_plan(
    """
    [[indicators]]
    id = "rd"
    name = "研发投入"
    unit = "亿元"
    kind = "cumulative"

    [[indicators]]
    id = "firms"
    name = "高新技术企业数"
    unit = "家"
    kind = "stock"

    [[targets]]
    id = "rd_target"
    title = "研发投入220亿元"
    rule = { kind = "at_least", indicator = "rd", value = 220 }
    """
)


def test_a_column_of_factors_converts_each_pair_as_one_factor_would() -> None:
    got = rules.factors(PLAN, ["万元", "亿元", "万元", "千元"], ["亿元", "亿元", "亿元", "万元"])
    assert got.tolist() == pytest.approx([1e-4, 1.0, 1e-4, 0.1])
    # one unit stands for a whole side
    assert rules.factors(PLAN, "%", ["", "%"]).tolist() == pytest.approx([0.01, 1.0])
    assert rules.factors(PLAN, ["亿元", "万元"], "万元").tolist() == pytest.approx([1e4, 1.0])
    assert rules.factors(PLAN, [], "万元").shape == (0,)


def test_a_column_of_factors_refuses_what_one_factor_refuses() -> None:
    with pytest.raises(UnitError) as caught:
        rules.factors(PLAN, ["亿元", "家"], ["亿元", "亿元"])
    assert caught.value.unit == "家"
    with pytest.raises(ValueError, match="2 units to convert from but 1 to convert to"):
        rules.factors(PLAN, ["亿元", "万元"], ["亿元"])


def test_positions_and_kind_masks_of_indicator_ids() -> None:
    assert PLAN.positions(["firms", "rd", "firms"]) == [1, 0, 1]
    assert PLAN.positions(["rd", "nope"], missing=-1) == [0, -1]
    with pytest.raises(KeyError, match="nope"):
        PLAN.positions(["nope"])
    codes = rules.codes_of(PLAN, ["firms", "rd"])
    assert codes.tolist() == [1, 0]
    assert rules.kind_mask(PLAN, codes, IndicatorKind.CUMULATIVE).tolist() == [False, True]
    assert rules.kind_mask(PLAN, codes, IndicatorKind.STOCK, IndicatorKind.CUMULATIVE).all()
    values = rules.floats([1, None, 2.5])
    assert values[[0, 2]].tolist() == [1.0, 2.5]
    assert np.isnan(values[1])


def test_unit_systems_of_many_distinct_definitions_are_not_all_kept() -> None:
    for k in range(_UNIT_SYSTEMS + 10):
        system = units_with((f"batch{k} = {k + 1} * 家",))
        assert system.factor(f"batch{k}", "家") == pytest.approx(k + 1)
    assert units_with.cache_info().currsize <= _UNIT_SYSTEMS
    # the same definitions still give the same system
    assert units_with(("batch0 = 1 * 家",)) is units_with(("batch0 = 1 * 家",))
