"""The decrease kind: 下降X%, 降低X%, 减少X% — the value falls at least X% below its reference.

Written with the public API of `targetkit.rules` alone, as a user's own kind would be (it is the
worked example of docs/how-to/custom-rule-kind.md). The reference is the same period a year
earlier for a year-to-date flow (as ``growth`` uses), else the baseline (the figure dated the day
before the period starts); a ``baseline`` written in the plan stands in when the actuals hold no
reference figure. The fall is 100·(1 − value / reference) %; exactly X is met. A value above its
reference is regressing (off track, red) before the deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
import numpy as np

from targetkit.model import IndicatorKind, Plan
from targetkit.rules import (
    NAT,
    NO_DATA,
    Batch,
    Display,
    Drafting,
    DraftRole,
    Field,
    FieldType,
    Kind,
    Rollup,
    Row,
    Shown,
    Verdicts,
    codes_of,
    factors,
    floats,
    floor_stretch_problem,
    kind_mask,
    level_words,
    ref_problems,
    safe_div,
    same_period_last_year,
    stretch_codes,
    vge,
    vgt,
)

__all__ = ["DECREASE", "Decrease"]

_NO_DATA, _LEVEL, _NO_REFERENCE, _ZERO_REFERENCE = 0, 2, 5, 6


@attrs.frozen(kw_only=True)
class Decrease:
    """下降X%: 100·(1 − value / reference) ≥ X."""

    kind: ClassVar[str] = "decrease"
    indicator: str
    value: float
    unit: str = "%"
    baseline: float | None = None
    stretch: float | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


class DecreaseKind(Kind[Decrease]):
    """The ``decrease`` kind."""

    name = "decrease"
    rule_class = Decrease
    doc = "value falls at least X% below its reference (下降X%, 降低X%, 减少X%)"
    fields = (
        Field(
            name="indicator", type=FieldType.INDICATOR, required=True, doc="the indicator judged"
        ),
        Field(name="value", type=FieldType.NUMBER, required=True, quantity=True, doc="the fall X"),
        Field(name="unit", type=FieldType.UNIT, default="%", doc="the unit of X"),
        Field(
            name="baseline",
            type=FieldType.NUMBER,
            doc="the reference figure (indicator's unit) when the actuals hold none",
        ),
        Field(name="stretch", type=FieldType.NUMBER, quantity=True, doc="a hoped-for larger fall"),
    )
    display = Display(baseline_comparable=False, part_field="value", rollup=Rollup.RATIO)
    drafting = Drafting(
        words=("下降", "降低", "减少", "压减", "压缩", "缩短", "削减", "缩减"),
        slug="decrease_{value}{unit}",
        role=DraftRole.FALL,
    )

    def check(self, rule: Decrease, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *ref_problems(plan, "indicator", rule.indicator),
            *floor_stretch_problem(rule.value, rule.stretch, higher=True),
        ]
        if not plan.units.is_dimensionless(rule.unit):
            out.append(("unit", f"a fall is given in '%' (got {rule.unit!r})", "write unit = '%'"))
        return out

    def prepare(self, plan: Plan, rules: Sequence[Decrease]) -> dict[str, Any]:
        falls = [r for r in rules if isinstance(r, Decrease)]
        codes = codes_of(plan, [r.indicator for r in falls])
        return {
            "codes": codes,
            "value": floats([r.value for r in falls]),
            "written": floats([r.baseline for r in falls]),
            "stretch": floats([r.stretch for r in falls]),
            "units": [r.unit for r in falls],
            "to_unit": factors(plan, "", [r.unit for r in falls]),
            "to_pct": factors(plan, [r.unit for r in falls], "%"),
            "flow": kind_mask(plan, codes, IndicatorKind.CUMULATIVE),
        }

    def judge(self, batch: Batch) -> Verdicts:
        p = batch.prepared
        v = Verdicts(len(batch))
        v.unit[:] = p["units"]
        v.target_value[:] = p["value"]
        v.stretch[:] = p["stretch"]
        value, day, row = batch.current(p["codes"])
        prior, prior_row = batch.on(p["codes"], same_period_last_year(day))
        base, base_row = batch.baseline(p["codes"])
        observed_ref = np.where(p["flow"], prior, base)
        ref_row = np.where(p["flow"], prior_row, base_row)
        ref = np.where(np.isnan(observed_ref), p["written"], observed_ref)
        fall = (1.0 - safe_div(value, ref)) * p["to_unit"]
        status = batch.level_status(vge(fall, p["value"]), batch.final(day), vgt(value, ref))
        observed = day != NAT
        have = observed & ~np.isnan(ref) & (ref != 0)
        v.status[:] = np.where(have, status, NO_DATA)
        v.actual[:] = np.where(have, fall, np.nan)
        v.completion[:] = np.where(have, safe_div(fall, p["value"]), np.nan)
        v.gap[:] = np.where(have, (fall - p["value"]) * p["to_pct"], np.nan)
        v.observed[:] = np.where(have, day, NAT)
        v.stretch_met[:] = np.where(have, stretch_codes(fall, p["stretch"], higher=True), -1)
        v.form[:] = np.select(
            [have, ~observed, np.isnan(ref)], [_LEVEL, _NO_DATA, _NO_REFERENCE], _ZERO_REFERENCE
        )
        v.cite(np.where(have, ref_row, -1), np.where(have, row, -1))
        return v

    def describe(self, row: Row[Decrease]) -> tuple[str, str]:
        rule = row.rule
        if row.form == _NO_DATA:
            return row.no_data(rule.indicator)
        if row.form == _NO_REFERENCE:
            return row.no_data(rule.indicator, "（缺少基期或上年同期数据）")
        if row.form == _ZERO_REFERENCE:
            return row.no_data(rule.indicator, "（基期为零，无法计算降幅）")
        return level_words(
            row,
            rule.indicator,
            relation=("下降不少于", "a fall of at least"),
            target_value=rule.value,
            what=("降幅", " fall"),
        )

    def show_target(self, shown: Shown) -> str:
        if shown.value is None:
            return "—"
        text = ("下降{v}" if shown.lang == "zh" else "down {v}").format(
            v=shown.qty(shown.value, shown.unit)
        )
        if shown.stretch is not None:
            text += shown.words["stretch"].format(v=shown.qty(shown.stretch, shown.unit))
        return text


DECREASE = DecreaseKind()
KINDS = (DECREASE,)
