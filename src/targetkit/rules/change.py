"""Kinds judged against a baseline: net_increase (净增N), growth (增长X%), change_pp (提高X个百分点)
and increase (逐步提高).

The baseline is the observation dated the day before the period starts (latest revision); only
where none exists is a ``baseline`` written in the plan used. A growth on a cumulative flow is
measured against the same period a year earlier (同比) when that figure exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import ClassVar

import attrs
import numpy as np

from targetkit.model import IndicatorKind, Plan
from targetkit.rules._base import (
    FROM_INDICATOR,
    NAT,
    NO_DATA,
    Batch,
    Bools,
    Display,
    Drafting,
    DraftRole,
    Field,
    FieldType,
    Floats,
    Ints,
    Kind,
    Rollup,
    Row,
    Shown,
    Verdicts,
    codes_of,
    date_of,
    day_of,
    factors,
    floats,
    floor_stretch_problem,
    is_month_end,
    kind_mask,
    level_words,
    progress_words,
    ref_problems,
    safe_div,
    stretch_codes,
    unit_problems,
    vge,
    vgt,
    vlt,
)

__all__ = [
    "CHANGE_PP",
    "GROWTH",
    "INCREASE",
    "NET_INCREASE",
    "ChangePP",
    "Growth",
    "Increase",
    "NetIncrease",
    "same_day_last_year",
]

# sentence forms
_NO_DATA, _PROGRESS, _LEVEL, _NO_BASELINE, _ZERO_BASELINE = 0, 1, 2, 5, 6

_INDICATOR = Field(
    name="indicator", type=FieldType.INDICATOR, required=True, doc="the indicator judged"
)
_BASELINE = Field(
    name="baseline",
    type=FieldType.NUMBER,
    doc="the baseline when the actuals hold no figure dated the day before the period",
)
_STRETCH = Field(
    name="stretch",
    type=FieldType.NUMBER,
    quantity=True,
    doc="a hoped-for value beyond the floor (力争)",
)


@attrs.frozen(kw_only=True)
class NetIncrease:
    """净增N, 新增N: value − baseline ≥ N, the baseline being the stock at the period's start."""

    kind: ClassVar[str] = "net_increase"
    indicator: str
    value: float
    unit: str
    baseline: float | None = None
    stretch: float | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


@attrs.frozen(kw_only=True)
class Growth:
    """增长X%: value / baseline − 1 ≥ X.

    For a cumulative flow the baseline is the same period a year earlier (同比) when that
    observation exists; otherwise the prior year's total, and the target becomes
    ``baseline × (1 + X)`` pro-rated by pace. An indicator that *is* the official growth rate
    is better judged with ``at_least`` on a level indicator.
    """

    kind: ClassVar[str] = "growth"
    indicator: str
    value: float
    unit: str = "%"
    baseline: float | None = None
    stretch: float | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


@attrs.frozen(kw_only=True)
class ChangePP:
    """提高X个百分点: level − baseline level ≥ X percentage points (the indicator is in %)."""

    kind: ClassVar[str] = "change_pp"
    indicator: str
    value: float
    unit: str = "百分点"
    baseline: float | None = None
    stretch: float | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


@attrs.frozen(kw_only=True)
class Increase:
    """逐步提高, 持续提升: value > baseline."""

    kind: ClassVar[str] = "increase"
    indicator: str
    baseline: float | None = None
    unit: str | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


def same_day_last_year(d: dt.date) -> dt.date:
    """Return the same day a year earlier (a month's end stays a month's end)."""
    if is_month_end(d):
        first = dt.date(d.year - 1, d.month, 1)
        return (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def days_last_year(days: Ints) -> Ints:
    """Return `same_day_last_year` of each day (``NAT`` stays ``NAT``)."""
    out = np.full(len(days), NAT, dtype=np.int64)
    have = days != NAT
    uniq, inverse = np.unique(days[have], return_inverse=True)
    shifted = np.array(
        [day_of(same_day_last_year(date_of(d) or dt.date.min)) for d in uniq.tolist()],
        dtype=np.int64,
    )
    out[have] = shifted[inverse] if len(uniq) else []
    return out


def _no_baseline_text(row: Row[Growth] | Row[ChangePP] | Row[Increase]) -> tuple[str, str]:
    return row.no_data(row.rule.indicator, "（缺少基期）")


@attrs.frozen(eq=False)
class _Prepared:
    codes: Ints
    value: Floats
    written: Floats
    stretch: Floats
    factor: Floats
    units: list[str]
    cumulative: Bools
    is_pct: Bools


def _prepare(
    plan: Plan,
    rules: Sequence[NetIncrease | Growth | ChangePP | Increase],
    units: list[str],
    factor: Floats | None = None,
) -> _Prepared:
    """Return the arrays of one-indicator changes; ``factor`` converts the indicator to ``units``
    (by default each indicator's own unit converted to its rule's)."""
    codes = codes_of(plan, [r.indicator for r in rules])
    if factor is None:
        factor = factors(plan, units, [plan.indicators[c].unit for c in codes.tolist()])
    return _Prepared(
        codes=codes,
        value=floats([getattr(r, "value", None) for r in rules]),
        written=floats([r.baseline for r in rules]),
        stretch=floats([getattr(r, "stretch", None) for r in rules]),
        factor=factor,
        units=units,
        cumulative=kind_mask(plan, codes, IndicatorKind.CUMULATIVE),
        is_pct=np.array([u == "%" for u in units], dtype=bool),
    )


def _baseline(batch: Batch, p: _Prepared) -> tuple[Floats, Ints]:
    """Return the baseline in the rule's unit (observed, else written) and the row it came from."""
    observed, row = batch.baseline(p.codes)
    observed = observed / p.factor
    return np.where(np.isnan(observed), p.written, observed), row


class NetIncreaseKind(Kind[NetIncrease]):
    """The ``net_increase`` kind."""

    name = "net_increase"
    rule_class = NetIncrease
    doc = "value − baseline ≥ N (净增N), pro-rated by pace"
    fields = (
        _INDICATOR,
        Field(
            name="value", type=FieldType.NUMBER, required=True, quantity=True, doc="the increase N"
        ),
        Field(name="unit", type=FieldType.UNIT, default=FROM_INDICATOR, doc="the unit of N"),
        _BASELINE,
        _STRETCH,
    )
    display = Display(
        counts_up_on=frozenset({IndicatorKind.CUMULATIVE, IndicatorKind.STOCK}),
        baseline_comparable=False,
        part_field="value",
        rollup=Rollup.SUM,
    )
    drafting = Drafting(
        words=("净增加", "净增"),
        role=DraftRole.NET_ADD,
        gloss="a net increase on the level at the start of the year",
    )

    def check(self, rule: NetIncrease, plan: Plan) -> Sequence[tuple[str, str, str]]:
        return [
            *ref_problems(plan, "indicator", rule.indicator),
            *unit_problems(plan, rule.indicator, rule.unit, "unit"),
            *floor_stretch_problem(rule.value, rule.stretch, higher=True),
        ]

    def prepare(self, plan: Plan, rules: Sequence[NetIncrease]) -> _Prepared:
        return _prepare(plan, rules, [r.unit for r in rules])

    def judge(self, batch: Batch) -> Verdicts:
        p: _Prepared = batch.prepared
        v = Verdicts(len(batch))
        v.unit[:] = p.units
        v.target_value[:] = p.value
        v.stretch[:] = p.stretch
        raw, day, row = batch.current(p.codes)
        base, base_row = _baseline(batch, p)
        observed = day != NAT
        have = observed & ~np.isnan(base)
        increase = raw / p.factor - base
        reached = vge(increase, p.value)
        completion = np.where(
            p.value != 0, safe_div(increase, p.value), np.where(reached, 1.0, 0.0)
        )
        expected = batch.expected(day)
        gap = 100.0 * (completion - expected)
        status = batch.progress_status(reached, batch.final(day), expected, gap)
        v.status[:] = np.where(have, status, NO_DATA)
        v.actual[:] = np.where(have, increase, np.nan)
        v.completion[:] = np.where(have, completion, np.nan)
        v.expected[:] = np.where(have, expected, np.nan)
        v.gap[:] = np.where(have, gap, np.nan)
        v.observed[:] = np.where(have, day, NAT)
        v.baseline[:] = np.where(have, base, np.nan)
        v.stretch_met[:] = np.where(have, stretch_codes(increase, p.stretch, higher=True), -1)
        v.form[:] = np.where(have, _PROGRESS, np.where(observed, _NO_BASELINE, _NO_DATA))
        v.cite(np.where(have, base_row, -1), np.where(have, row, -1))
        return v

    def describe(self, row: Row[NetIncrease]) -> tuple[str, str]:
        rule = row.rule
        if row.form == _NO_DATA:
            return row.no_data(rule.indicator)
        if row.form == _NO_BASELINE:
            start = (row.plan.start - dt.timedelta(days=1)).isoformat()
            return (
                f"缺少{start}的基期数据，无法计算净增量",
                f"no baseline observation dated {start} (nor a baseline in the plan): "
                "the net increase cannot be computed",
            )
        return progress_words(
            row,
            rule.indicator,
            shown_actual=row.actual or 0.0,
            shown_target=rule.value,
            what=("净增", " net increase"),
        )

    def show_target(self, shown: Shown) -> str:
        return _worded(shown, "net")


def _worded(shown: Shown, key: str) -> str:
    if shown.value is None:
        return "—"
    text = shown.words[key].format(v=shown.qty(shown.value, shown.unit))
    if shown.stretch is not None:
        text += shown.words["stretch"].format(v=shown.qty(shown.stretch, shown.unit))
    return text


class GrowthKind(Kind[Growth]):
    """The ``growth`` kind."""

    name = "growth"
    rule_class = Growth
    doc = "value / baseline − 1 ≥ X (增长X%); 同比 for a cumulative flow"
    fields = (
        _INDICATOR,
        Field(
            name="value",
            type=FieldType.NUMBER,
            required=True,
            quantity=True,
            doc="the growth rate X",
        ),
        Field(name="unit", type=FieldType.UNIT, default="%", doc="the unit of X"),
        _BASELINE,
        _STRETCH,
    )
    display = Display(
        grows_on=frozenset({IndicatorKind.CUMULATIVE}),
        baseline_comparable=False,
        part_field="value",
        rollup=Rollup.RATIO,
    )
    drafting = Drafting(
        words=(
            "同比增长",
            "年均增长",
            "增长率",
            "增长",
            "增速",
            "增幅",
            "递增",
            "提高",
            "提升",
            "增加",
            "上升",
            "扩大",
        ),
        slug="growth_{value}{unit}",
        role=DraftRole.RISE,
        nouns=("增速", "增长率", "增幅", "增长"),
        count_as="net_increase",
        carries_to_levels=False,
    )

    def check(self, rule: Growth, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *ref_problems(plan, "indicator", rule.indicator),
            *floor_stretch_problem(rule.value, rule.stretch, higher=True),
        ]
        if not plan.units.is_dimensionless(rule.unit):
            out.append(
                (
                    "unit",
                    f"a growth rate's unit must be '%' (got {rule.unit!r})",
                    "write unit = '%'",
                )
            )
        return out

    def prepare(
        self, plan: Plan, rules: Sequence[Growth]
    ) -> tuple[_Prepared, Floats, Floats, Floats, list[str]]:
        units = [r.unit for r in rules]
        p = _prepare(plan, rules, units, np.ones(len(rules)))
        to_fraction = factors(plan, units, "")
        to_unit = factors(plan, "", units)
        to_pct = factors(plan, units, "%")
        indicator_units = [plan.indicators[c].unit for c in p.codes.tolist()]
        return p, to_fraction, to_unit, to_pct, indicator_units

    def judge(self, batch: Batch) -> Verdicts:
        p, to_fraction, to_unit, to_pct, indicator_units = batch.prepared
        v = Verdicts(len(batch))
        raw, day, row = batch.current(p.codes)
        observed = day != NAT
        prior, prior_row = batch.on(p.codes, days_last_year(day))
        base_obs, base_row = batch.baseline(p.codes)
        # a flow without last year's same-period figure: a pro-rated goal of baseline × (1 + X)
        progress = p.cumulative & np.isnan(prior)
        base_p = np.where(np.isnan(base_obs), p.written, base_obs)
        goal = base_p * (1 + p.value * to_fraction)
        reached = vge(raw, goal)
        completion_p = np.where(goal != 0, safe_div(raw, goal), np.where(reached, 1.0, 0.0))
        expected = batch.expected(day)
        gap_p = 100.0 * (completion_p - expected)
        final = batch.final(day)
        status_p = batch.progress_status(reached, final, expected, gap_p)
        # a rate against the reference: last year's same period (flows) or the baseline
        ref_obs = np.where(p.cumulative, prior, base_obs)
        ref_row = np.where(p.cumulative, prior_row, base_row)
        ref = np.where(np.isnan(ref_obs), p.written, ref_obs)
        rate = (safe_div(raw, ref) - 1) * to_unit
        satisfied = vge(rate, p.value)
        status_l = batch.level_status(satisfied, final, vlt(rate, 0.0))
        no_base = np.where(progress, np.isnan(base_p), np.isnan(ref))
        zero_base = ~progress & ~no_base & (ref == 0)
        have = observed & ~no_base & ~zero_base
        v.status[:] = np.where(have, np.where(progress, status_p, status_l), NO_DATA)
        v.actual[:] = np.where(have, np.where(progress, raw, rate), np.nan)
        v.unit[:] = [
            iu if pr else u
            for iu, u, pr in zip(indicator_units, p.units, (have & progress).tolist(), strict=True)
        ]
        v.target_value[:] = np.where(have & progress, goal, p.value)
        v.completion[:] = np.where(
            have, np.where(progress, completion_p, safe_div(rate, p.value)), np.nan
        )
        v.expected[:] = np.where(have & progress, expected, np.nan)
        v.gap[:] = np.where(have, np.where(progress, gap_p, (rate - p.value) * to_pct), np.nan)
        v.observed[:] = np.where(have, day, NAT)
        v.baseline[:] = np.where(have & progress, base_p, np.nan)
        v.stretch[:] = np.where(have & progress, np.nan, p.stretch)
        v.stretch_met[:] = np.where(
            have & ~progress, stretch_codes(rate, p.stretch, higher=True), -1
        )
        v.form[:] = np.select(
            [~observed, no_base, zero_base, progress],
            [_NO_DATA, _NO_BASELINE, _ZERO_BASELINE, _PROGRESS],
            _LEVEL,
        )
        v.cite(
            np.where(have, np.where(progress, base_row, ref_row), -1),
            np.where(have, row, -1),
        )
        return v

    def describe(self, row: Row[Growth]) -> tuple[str, str]:
        rule = row.rule
        if row.form == _NO_DATA:
            return row.no_data(rule.indicator)
        if row.form == _NO_BASELINE:
            return _no_baseline_text(row)
        if row.form == _ZERO_BASELINE:
            return row.no_data(rule.indicator, "（基期为零，无法计算增速）")
        if row.form == _PROGRESS:
            return progress_words(
                row,
                rule.indicator,
                shown_actual=row.actual or 0.0,
                shown_target=row.target_value or 0.0,
            )
        return level_words(
            row,
            rule.indicator,
            relation=("增长不低于", "growth of at least"),
            target_value=rule.value,
            what=("增速", " growth"),
        )

    def show_target(self, shown: Shown) -> str:
        return _worded(shown, "growth")


class ChangePPKind(Kind[ChangePP]):
    """The ``change_pp`` kind."""

    name = "change_pp"
    rule_class = ChangePP
    doc = "level − baseline level ≥ X percentage points (提高X个百分点)"
    fields = (
        Field(
            name="indicator",
            type=FieldType.INDICATOR,
            required=True,
            doc="the indicator judged (in %)",
        ),
        Field(name="value", type=FieldType.NUMBER, required=True, doc="the rise X in points"),
        Field(name="unit", type=FieldType.UNIT, default="百分点", doc="百分点"),
        _BASELINE,
        Field(name="stretch", type=FieldType.NUMBER, doc="a hoped-for rise beyond X"),
    )
    display = Display(baseline_comparable=False, part_field="value")
    drafting = Drafting(slug="change_{value}pp", role=DraftRole.POINTS)

    def check(self, rule: ChangePP, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *ref_problems(plan, "indicator", rule.indicator),
            *floor_stretch_problem(rule.value, rule.stretch, higher=True),
        ]
        units = plan.units
        if units.check(rule.unit) not in ("百分点", "个百分点", "percentage_point"):
            out.append(
                (
                    "unit",
                    f"a change in points is given in 百分点 (got {rule.unit!r})",
                    "write unit = '百分点'",
                )
            )
        if not out and not units.is_dimensionless(plan.indicator(rule.indicator).unit):
            out.append(
                (
                    "indicator",
                    f"indicator {rule.indicator!r} is in {plan.indicator(rule.indicator).unit!r}, "
                    "not a percentage",
                    "change_pp needs an indicator measured in %",
                )
            )
        return out

    def prepare(self, plan: Plan, rules: Sequence[ChangePP]) -> _Prepared:
        # value / factor = the value in %
        indicator_units = [plan.indicator(r.indicator).unit for r in rules]
        factor = 1.0 / factors(plan, indicator_units, "%")
        return _prepare(plan, rules, ["个百分点"] * len(rules), factor)

    def judge(self, batch: Batch) -> Verdicts:
        p: _Prepared = batch.prepared
        v = Verdicts(len(batch))
        v.unit[:] = p.units
        v.target_value[:] = p.value
        v.stretch[:] = p.stretch
        raw, day, row = batch.current(p.codes)
        base, base_row = _baseline(batch, p)
        observed = day != NAT
        have = observed & ~np.isnan(base)
        change = raw / p.factor - base
        status = batch.level_status(vge(change, p.value), batch.final(day), vlt(change, 0.0))
        v.status[:] = np.where(have, status, NO_DATA)
        v.actual[:] = np.where(have, change, np.nan)
        v.completion[:] = np.where(have, safe_div(change, p.value), np.nan)
        v.gap[:] = np.where(have, change - p.value, np.nan)
        v.observed[:] = np.where(have, day, NAT)
        v.baseline[:] = np.where(have, base, np.nan)
        v.stretch_met[:] = np.where(have, stretch_codes(change, p.stretch, higher=True), -1)
        v.form[:] = np.where(have, _LEVEL, np.where(observed, _NO_BASELINE, _NO_DATA))
        v.cite(np.where(have, base_row, -1), np.where(have, row, -1))
        return v

    def describe(self, row: Row[ChangePP]) -> tuple[str, str]:
        rule = row.rule
        if row.form == _NO_DATA:
            return row.no_data(rule.indicator)
        if row.form == _NO_BASELINE:
            return _no_baseline_text(row)
        return level_words(
            row,
            rule.indicator,
            relation=("提高", "a rise of"),
            target_value=rule.value,
            what=("较基期变化", " change on the baseline"),
            baseline_unit="%",
        )

    def show_target(self, shown: Shown) -> str:
        return _worded(shown, "change")


class IncreaseKind(Kind[Increase]):
    """The ``increase`` kind."""

    name = "increase"
    rule_class = Increase
    doc = "value > baseline (逐步提高, 持续提升)"
    fields = (
        _INDICATOR,
        _BASELINE,
        Field(
            name="unit",
            type=FieldType.UNIT,
            doc="the unit of the baseline (default: the indicator's)",
        ),
    )
    drafting = Drafting(slug="increase", role=DraftRole.UPWARD)

    def check(self, rule: Increase, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [*ref_problems(plan, "indicator", rule.indicator)]
        if not out and rule.unit is not None:
            out.extend(unit_problems(plan, rule.indicator, rule.unit, "unit"))
        return out

    def prepare(self, plan: Plan, rules: Sequence[Increase]) -> _Prepared:
        units = [r.unit if r.unit is not None else plan.indicator(r.indicator).unit for r in rules]
        return _prepare(plan, rules, units)

    def judge(self, batch: Batch) -> Verdicts:
        p: _Prepared = batch.prepared
        v = Verdicts(len(batch))
        v.unit[:] = p.units
        raw, day, row = batch.current(p.codes)
        base, base_row = _baseline(batch, p)
        observed = day != NAT
        have = observed & ~np.isnan(base)
        x = raw / p.factor
        status = batch.level_status(vgt(x, base), batch.final(day), vlt(x, base))
        v.status[:] = np.where(have, status, NO_DATA)
        v.actual[:] = np.where(have, x, np.nan)
        v.target_value[:] = base
        v.gap[:] = np.where(have & p.is_pct, x - base, np.nan)
        v.observed[:] = np.where(have, day, NAT)
        v.baseline[:] = np.where(have, base, np.nan)
        v.form[:] = np.where(have, _LEVEL, np.where(observed, _NO_BASELINE, _NO_DATA))
        v.cite(np.where(have, base_row, -1), np.where(have, row, -1))
        return v

    def describe(self, row: Row[Increase]) -> tuple[str, str]:
        rule = row.rule
        if row.form == _NO_DATA:
            return row.no_data(rule.indicator)
        if row.form == _NO_BASELINE:
            return _no_baseline_text(row)
        return level_words(
            row,
            rule.indicator,
            relation=("高于基期", "above the baseline"),
            target_value=row.target_value or 0.0,
            show_baseline=False,
        )

    def show_target(self, shown: Shown) -> str:
        if shown.value is None:
            return "—"
        return shown.words["above_base"].format(v=shown.qty(shown.value, shown.unit))


NET_INCREASE = NetIncreaseKind()
GROWTH = GrowthKind()
CHANGE_PP = ChangePPKind()
INCREASE = IncreaseKind()
KINDS = (NET_INCREASE, GROWTH, CHANGE_PP, INCREASE)
