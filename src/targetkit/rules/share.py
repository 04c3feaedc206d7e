"""The share kind: 占…比重提高到X%以上, numerator / denominator ≥ X (a level; gap in points).

The share is taken on the latest date within the period on which both figures exist, and its
baseline from the two figures dated the day before the period starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs
import numpy as np

from targetkit.model import Plan
from targetkit.rules._base import (
    NAT,
    NO_DATA,
    Batch,
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
    Verdicts,
    codes_of,
    factors,
    floats,
    floor_stretch_problem,
    level_words,
    ref_problems,
    safe_div,
    stretch_codes,
    vge,
    vlt,
)

__all__ = ["SHARE", "Share"]

_NO_NUMERATOR, _LEVEL, _NO_DENOMINATOR, _ZERO_DENOMINATOR, _NO_COMMON_DATE = 0, 2, 7, 8, 9


@attrs.frozen(kw_only=True)
class Share:
    """占…比重提高到X%以上: numerator / denominator ≥ X (a level; gap in percentage points)."""

    kind: ClassVar[str] = "share"
    numerator: str
    denominator: str
    value: float
    unit: str = "%"
    stretch: float | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator)


@attrs.frozen(eq=False)
class _Prepared:
    num: Ints
    den: Ints
    value: Floats
    stretch: Floats
    ratio_factor: Floats
    to_target: Floats
    to_pct: Floats
    units: list[str]


class ShareKind(Kind[Share]):
    """The ``share`` kind."""

    name = "share"
    rule_class = Share
    doc = "numerator / denominator ≥ X (占…比重达到X%)"
    fields = (
        Field(name="numerator", type=FieldType.INDICATOR, required=True, doc="the part"),
        Field(name="denominator", type=FieldType.INDICATOR, required=True, doc="the whole"),
        Field(name="value", type=FieldType.NUMBER, required=True, quantity=True, doc="the share X"),
        Field(name="unit", type=FieldType.UNIT, default="%", doc="the unit of X"),
        Field(
            name="stretch", type=FieldType.NUMBER, quantity=True, doc="a hoped-for share beyond X"
        ),
    )
    display = Display(part_field="value", rollup=Rollup.RATIO)
    drafting = Drafting(
        slug="share_{value}{unit}", indicators=("{id}_num", "{id}_den"), role=DraftRole.SHARE
    )

    def check(self, rule: Share, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *ref_problems(plan, "numerator", rule.numerator),
            *ref_problems(plan, "denominator", rule.denominator),
            *floor_stretch_problem(rule.value, rule.stretch, higher=True),
        ]
        if out:
            return out
        units = plan.units
        num, den = plan.indicator(rule.numerator).unit, plan.indicator(rule.denominator).unit
        if not units.compatible(num, den):
            out.append(
                (
                    "denominator",
                    f"numerator {rule.numerator!r} ({num!r}) and denominator {rule.denominator!r} "
                    f"({den!r}) are not in compatible units",
                    "a share divides two amounts of the same kind (e.g. both 亿元)",
                )
            )
        if not units.is_dimensionless(rule.unit):
            out.append(
                ("unit", f"a share's unit must be '%' (got {rule.unit!r})", "write unit = '%'")
            )
        return out

    def prepare(self, plan: Plan, rules: Sequence[Share]) -> _Prepared:
        shares: list[Share] = [r for r in rules if isinstance(r, Share)]
        num = codes_of(plan, [r.numerator for r in shares])
        den = codes_of(plan, [r.denominator for r in shares])
        indicators = plan.indicators
        units = [r.unit for r in shares]
        return _Prepared(
            num=num,
            den=den,
            value=floats([r.value for r in shares]),
            stretch=floats([r.stretch for r in shares]),
            ratio_factor=factors(
                plan,
                [indicators[a].unit for a in num.tolist()],
                [indicators[b].unit for b in den.tolist()],
            ),
            to_target=factors(plan, "", units),
            to_pct=np.where([bool(u) for u in units], factors(plan, units, "%"), np.nan),
            units=units,
        )

    def judge(self, batch: Batch) -> Verdicts:
        p: _Prepared = batch.prepared
        n = len(batch)
        v = Verdicts(n)
        v.unit[:] = p.units
        v.target_value[:] = p.value
        v.stretch[:] = p.stretch
        import pandas as pd  # noqa: PLC0415 - a plan read without judging needs no pandas

        obs = batch.obs
        # the latest day within the period on which numerator and denominator both have a figure
        keep = obs.plain & (obs.days >= batch.start)
        figures = pd.DataFrame(
            {
                "code": obs.codes[keep],
                "day": obs.days[keep],
                "value": obs.values[keep],
                "row": obs.rows[keep],
            }
        )
        targets = pd.DataFrame({"t": np.arange(n), "num": p.num, "den": p.den})
        a = targets.merge(
            figures.rename(columns={"code": "num", "value": "nv", "row": "nr"}), on="num"
        )
        b = a.merge(
            figures.rename(columns={"code": "den", "value": "dv", "row": "dr"}), on=["den", "day"]
        )
        b = b.sort_values(["t", "day"], kind="mergesort").drop_duplicates("t", keep="last")
        day = np.full(n, NAT, dtype=np.int64)
        nv, dv = np.full(n, np.nan), np.full(n, np.nan)
        nr, dr = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        t = b["t"].to_numpy()
        day[t] = b["day"].to_numpy()
        nv[t], dv[t] = b["nv"].to_numpy(), b["dv"].to_numpy()
        nr[t], dr[t] = b["nr"].to_numpy(), b["dr"].to_numpy()
        share = safe_div(nv * p.ratio_factor, dv) * p.to_target
        base_num, base_num_row = batch.baseline(p.num)
        base_den, base_den_row = batch.baseline(p.den)
        base_share = safe_div(base_num * p.ratio_factor, base_den) * p.to_target
        has_base = ~np.isnan(base_share)
        dated = day != NAT
        have = dated & ~np.isnan(share)
        status = batch.level_status(
            vge(share, p.value), batch.final(day), has_base & vlt(share, base_share)
        )
        v.status[:] = np.where(have, status, NO_DATA)
        v.actual[:] = np.where(have, share, np.nan)
        v.completion[:] = np.where(have, safe_div(share, p.value), np.nan)
        v.gap[:] = np.where(have, (share - p.value) * p.to_pct, np.nan)
        v.observed[:] = np.where(have, day, NAT)
        v.baseline[:] = np.where(have, base_share, np.nan)
        v.stretch_met[:] = np.where(have, stretch_codes(share, p.stretch, higher=True), -1)
        both_rows = batch.has_rows(p.num) & batch.has_rows(p.den)
        v.form[:] = np.select(
            [have, dated, both_rows, batch.has_rows(p.num)],
            [_LEVEL, _ZERO_DENOMINATOR, _NO_COMMON_DATE, _NO_DENOMINATOR],
            _NO_NUMERATOR,
        )
        cited = have & has_base
        v.cite(
            np.where(cited, base_num_row, -1),
            np.where(cited, base_den_row, -1),
            np.where(have, nr, -1),
            np.where(have, dr, -1),
        )
        return v

    def describe(self, row: Row[Share]) -> tuple[str, str]:
        rule = row.rule
        num, den = row.indicator(rule.numerator), row.indicator(rule.denominator)
        if row.form == _NO_NUMERATOR:
            return row.no_data(rule.numerator)
        if row.form == _NO_DENOMINATOR:
            return row.no_data(rule.denominator)
        if row.form == _ZERO_DENOMINATOR:
            return row.no_data(rule.denominator, "(denominator is zero)")
        if row.form == _NO_COMMON_DATE:
            return (
                f"{num.name}与{den.name}没有同一日期的数据，无法计算占比",
                f"{rule.numerator} and {rule.denominator} have no date in common: "
                "the share cannot be computed",
            )
        zh, en = row.label(rule.numerator)
        return level_words(
            row,
            rule.numerator,
            relation=("不低于", "at least"),
            target_value=rule.value,
            what=(f"{num.name}占比", f" share of {num.name_en or num.name}"),
            label=(zh.removesuffix("累计"), en.removesuffix(" cumulative")),
        )


SHARE = ShareKind()
KINDS = (SHARE,)
