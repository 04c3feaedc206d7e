"""Threshold kinds: at_least (不低于X), at_most (控制在X以内) and between (X到Y).

On a flow or stock a floor is pro-rated by pace and ``met`` once reached; on a level it is judged
on the current value. A cap on a cumulative flow is a budget: running ahead of pace is the bad
direction (G = 100·(E − R)). ``between`` is a band, or with ``high_is_stretch`` a floor with
stretch (争取1到2名).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
import numpy as np

from targetkit.model import IndicatorKind, Plan
from targetkit.rules._base import (
    FROM_INDICATOR,
    MET,
    MISSED,
    NAT,
    NO_DATA,
    OFF_TRACK,
    ON_TRACK,
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
    factors,
    floats,
    floor_stretch_problem,
    fmt,
    kind_mask,
    level_words,
    pct,
    progress_words,
    qty,
    ref_problems,
    safe_div,
    stretch_codes,
    unit_problems,
    vge,
    vgt,
    vle,
    vlt,
)

__all__ = ["AT_LEAST", "AT_MOST", "BETWEEN", "AtLeast", "AtMost", "Between"]

# sentence forms
_NO_DATA, _PROGRESS, _LEVEL, _EXCEEDED = 0, 1, 2, 3

_INDICATOR = Field(
    name="indicator", type=FieldType.INDICATOR, required=True, doc="the indicator judged"
)
_UNIT = Field(
    name="unit",
    type=FieldType.UNIT,
    default=FROM_INDICATOR,
    doc="the unit of the values (default: the indicator's)",
)
_STRETCH = Field(
    name="stretch",
    type=FieldType.NUMBER,
    quantity=True,
    doc="a hoped-for value beyond the floor (力争)",
)
_STRICT = Field(
    name="strict",
    type=FieldType.BOOL,
    default=False,
    doc="exclude the value itself (突破X: more than X)",
)


@attrs.frozen(kw_only=True)
class AtLeast:
    """不低于X, X以上, 达到X, 突破X: value ≥ X (strict: value > X)."""

    kind: ClassVar[str] = "at_least"
    indicator: str
    value: float
    unit: str
    stretch: float | None = None
    strict: bool = False

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


@attrs.frozen(kw_only=True)
class AtMost:
    """控制在X以内, 不超过X: value ≤ X. On a cumulative flow it is a budget: ahead of pace is bad."""

    kind: ClassVar[str] = "at_most"
    indicator: str
    value: float
    unit: str
    stretch: float | None = None
    strict: bool = False

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


@attrs.frozen(kw_only=True)
class Between:
    """X到Y: low ≤ value ≤ high. With ``high_is_stretch`` (争取1到2名) the high end is only
    hoped for: the rule is a floor ``low`` with stretch ``high``, and exceeding it is fine."""

    kind: ClassVar[str] = "between"
    indicator: str
    low: float
    high: float
    unit: str
    high_is_stretch: bool = False

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


@attrs.frozen(eq=False)
class _Prepared:
    """Plan-constant columns of threshold targets."""

    codes: Ints
    value: Floats
    high: Floats
    stretch: Floats
    strict: Bools
    factor: Floats
    units: list[str]
    is_pct: Bools
    cumulative: Bools
    level: Bools  # judged on its current value (per kind: see _judge_*)


def _prepare(
    plan: Plan,
    rules: Sequence[Any],
    value_key: str,
    *,
    level_unless: set[IndicatorKind],
    band: bool = False,
) -> _Prepared:
    """Return the arrays of floors and ceilings (``band``: of `Between` rules, low to high)."""
    codes = codes_of(plan, [r.indicator for r in rules])
    units = [r.unit for r in rules]
    if band:
        high = floats([r.high for r in rules])
        stretch = floats([r.high if r.high_is_stretch else None for r in rules])
        strict = np.zeros(len(rules), dtype=bool)
    else:
        high = np.full(len(rules), np.nan)
        stretch = floats([r.stretch for r in rules])
        strict = np.array([r.strict for r in rules], dtype=bool)
    return _Prepared(
        codes=codes,
        value=floats([getattr(r, value_key) for r in rules]),
        high=high,
        stretch=stretch,
        strict=strict,
        factor=factors(plan, units, [plan.indicators[c].unit for c in codes.tolist()]),
        units=units,
        is_pct=np.array([u == "%" for u in units], dtype=bool),
        cumulative=kind_mask(plan, codes, IndicatorKind.CUMULATIVE),
        level=~kind_mask(plan, codes, *level_unless),
    )


def _put_units(v: Verdicts, p: _Prepared) -> None:
    v.unit[:] = p.units
    v.target_value[:] = p.value
    v.stretch[:] = p.stretch


def _judge_floor(batch: Batch, p: _Prepared, v: Verdicts) -> None:
    """Judge floors (at_least, and between with a stretch) into ``v``."""
    raw, day, row = batch.current(p.codes)
    base_raw, base_row = batch.baseline(p.codes)
    have = day != NAT
    value = p.value
    x = raw / p.factor
    base = base_raw / p.factor
    ok = np.where(p.strict, vgt(x, value), vge(x, value))
    final = batch.final(day)
    expected = batch.expected(day)
    ratio = safe_div(x, value)
    completion_p = np.where(value != 0, ratio, np.where(ok, 1.0, 0.0))
    gap_p = 100.0 * (completion_p - expected)
    status_p = batch.progress_status(ok, final, expected, gap_p)
    regressing = ~np.isnan(base) & vlt(x, base)
    status_l = batch.level_status(ok, final, regressing)
    level = p.level
    v.status[:] = np.where(have, np.where(level, status_l, status_p), NO_DATA)
    v.actual[:] = np.where(have, x, np.nan)
    v.completion[:] = np.where(have, np.where(level, ratio, completion_p), np.nan)
    v.expected[:] = np.where(have & ~level, expected, np.nan)
    v.gap[:] = np.where(have, np.where(level, np.where(p.is_pct, x - value, np.nan), gap_p), np.nan)
    v.observed[:] = day
    v.baseline[:] = np.where(have & level, base, np.nan)
    v.stretch_met[:] = np.where(have, stretch_codes(x, p.stretch, higher=True), -1)
    v.form[:] = np.where(have, np.where(level, _LEVEL, _PROGRESS), _NO_DATA)
    v.cite(np.where(have & level, base_row, -1), np.where(have, row, -1))


def _floor_words(row: Row[AtLeast] | Row[Between], strict: bool) -> tuple[str, str]:
    ind = row.rule.indicator
    if row.form == _NO_DATA:
        return row.no_data(ind)
    value = row.target_value if row.target_value is not None else 0.0
    if row.form == _LEVEL:
        return level_words(
            row,
            ind,
            relation=("高于", "above") if strict else ("不低于", "at least"),
            target_value=value,
        )
    return progress_words(row, ind, shown_actual=row.actual or 0.0, shown_target=value)


class AtLeastKind(Kind[AtLeast]):
    """The ``at_least`` kind."""

    name = "at_least"
    rule_class = AtLeast
    doc = "value ≥ X (不低于X, X以上, 达到X; strict: 突破X)"
    fields = (
        _INDICATOR,
        Field(name="value", type=FieldType.NUMBER, required=True, quantity=True, doc="the floor X"),
        _UNIT,
        _STRETCH,
        _STRICT,
    )
    display = Display(
        counts_up_on=frozenset({IndicatorKind.CUMULATIVE, IndicatorKind.STOCK}),
        part_field="value",
        rollup=Rollup.SUM,
    )
    drafting = Drafting(
        words=(
            "不低于",
            "不少于",
            "不小于",
            "达到",
            "突破",
            "超过",
            "高于",
            "多于",
            "提高到",
            "提高至",
            "提升到",
            "提升至",
            "增加到",
            "增加至",
            "增长到",
            "增长至",
            "扩大到",
            "扩大至",
            "增至",
            "升至",
            "提至",
            "保持在",
            "稳定在",
            "稳定",
            "保持",
            "实现",
            "完成",
            "达",
            "超",
        ),
        role=DraftRole.FLOOR,
    )

    def check(self, rule: AtLeast, plan: Plan) -> Sequence[tuple[str, str, str]]:
        return [
            *ref_problems(plan, "indicator", rule.indicator),
            *unit_problems(plan, rule.indicator, rule.unit, "unit"),
            *floor_stretch_problem(rule.value, rule.stretch, higher=True),
        ]

    def prepare(self, plan: Plan, rules: Sequence[AtLeast]) -> _Prepared:
        return _prepare(
            plan, rules, "value", level_unless={IndicatorKind.CUMULATIVE, IndicatorKind.STOCK}
        )

    def judge(self, batch: Batch) -> Verdicts:
        p: _Prepared = batch.prepared
        v = Verdicts(len(batch))
        _put_units(v, p)
        _judge_floor(batch, p, v)
        return v

    def describe(self, row: Row[AtLeast]) -> tuple[str, str]:
        return _floor_words(row, row.rule.strict)


class AtMostKind(Kind[AtMost]):
    """The ``at_most`` kind."""

    name = "at_most"
    rule_class = AtMost
    doc = "value ≤ X (控制在X以内, 不超过X); on a cumulative flow a budget used up by pace"
    fields = (
        _INDICATOR,
        Field(name="value", type=FieldType.NUMBER, required=True, quantity=True, doc="the cap X"),
        _UNIT,
        Field(
            name="stretch",
            type=FieldType.NUMBER,
            quantity=True,
            doc="a hoped-for value below the cap",
        ),
        _STRICT,
    )
    display = Display(
        counts_up_on=frozenset({IndicatorKind.CUMULATIVE}),
        lower_is_better=True,
        part_field="value",
        rollup=Rollup.SUM,
    )
    drafting = Drafting(
        words=(
            "不超过",
            "不超",
            "不高于",
            "不多于",
            "不大于",
            "控制在",
            "低于",
            "少于",
            "小于",
            "下降到",
            "下降至",
            "降到",
            "降至",
            "降低到",
            "降低至",
            "减少到",
            "减少至",
            "压缩到",
            "压缩至",
            "压减到",
            "压减至",
            "缩短到",
            "缩短至",
            "缩减到",
            "缩减至",
            "减至",
            "控制到",
        ),
        role=DraftRole.CAP,
    )

    def check(self, rule: AtMost, plan: Plan) -> Sequence[tuple[str, str, str]]:
        return [
            *ref_problems(plan, "indicator", rule.indicator),
            *unit_problems(plan, rule.indicator, rule.unit, "unit"),
            *floor_stretch_problem(rule.value, rule.stretch, higher=False),
        ]

    def prepare(self, plan: Plan, rules: Sequence[AtMost]) -> _Prepared:
        return _prepare(plan, rules, "value", level_unless={IndicatorKind.CUMULATIVE})

    def judge(self, batch: Batch) -> Verdicts:
        p: _Prepared = batch.prepared
        v = Verdicts(len(batch))
        _put_units(v, p)
        raw, day, row = batch.current(p.codes)
        base_raw, base_row = batch.baseline(p.codes)
        have = day != NAT
        value = p.value
        x = raw / p.factor
        base = base_raw / p.factor
        ok = np.where(p.strict, vlt(x, value), vle(x, value))
        final = batch.final(day)
        ratio = safe_div(x, value)
        # a budget on a cumulative flow
        expected = batch.expected(day)
        completion_p = np.where(value != 0, ratio, np.where(ok, 0.0, 1.0))
        gap_p = 100.0 * (expected - completion_p)
        whole = day >= batch.deadline  # a figure covering the whole period
        status_p = np.select(
            [~ok & final, ~ok, final & whole, final, np.isnan(expected)],
            [MISSED, OFF_TRACK, MET, MISSED, ON_TRACK],
            batch.band(gap_p),
        )
        # a level or stock kept under its cap
        regressing = ~np.isnan(base) & vgt(x, base)
        status_l = batch.level_status(ok, final, regressing)
        level = p.level
        v.status[:] = np.where(have, np.where(level, status_l, status_p), NO_DATA)
        v.actual[:] = np.where(have, x, np.nan)
        v.completion[:] = np.where(have, np.where(level, ratio, completion_p), np.nan)
        v.expected[:] = np.where(have & ~level, expected, np.nan)
        v.gap[:] = np.where(
            have, np.where(level, np.where(p.is_pct, value - x, np.nan), gap_p), np.nan
        )
        v.observed[:] = day
        v.baseline[:] = np.where(have & level, base, np.nan)
        v.stretch_met[:] = np.where(have, stretch_codes(x, p.stretch, higher=False), -1)
        v.form[:] = np.where(
            have, np.where(level, _LEVEL, np.where(ok, _PROGRESS, _EXCEEDED)), _NO_DATA
        )
        v.cite(np.where(have & level, base_row, -1), np.where(have, row, -1))
        return v

    def describe(self, row: Row[AtMost]) -> tuple[str, str]:
        ind = row.rule.indicator
        if row.form == _NO_DATA:
            return row.no_data(ind)
        value = row.target_value if row.target_value is not None else 0.0
        if row.form == _LEVEL:
            return level_words(row, ind, relation=("不超过", "at most"), target_value=value)
        label_zh, label_en = row.label(ind)
        u, actual, completion = row.unit, row.actual or 0.0, row.completion or 0.0
        zh = f"{label_zh} {qty(actual, u)}，已用上限（{qty(value, u)}）的 {pct(completion)}"
        en = f"{label_en} {qty(actual, u)}: {pct(completion)} of the cap {qty(value, u)}"
        if row.form == _EXCEEDED:
            return zh + "，已超出上限", en + "; the cap is exceeded"
        if row.status.value == "met":
            return zh + "，期末控制在上限以内", en + "; kept within the cap"
        if row.status.value == "missed":
            return (
                zh + "，期限已过但缺少全期数据，无法确认控制在上限以内",
                en
                + "; the deadline has passed without a figure for the whole period, so the cap is not confirmed",
            )
        if row.gap is None:
            d = row.deadline.isoformat()
            return (
                zh + f"，不按序时进度考核，期末（{d}）判定",
                en + f"; not pro-rated, judged at the deadline ({d})",
            )
        expected = pct(row.expected or 0.0)
        if row.gap < 0:
            return (
                zh + f"，快于序时进度 {-row.gap:.1f} 个百分点（序时进度 {expected}）",
                en + f", {-row.gap:.1f} pp faster than pace (expected {expected})",
            )
        return zh + f"，未超序时进度（{expected}）", en + f", within pace (expected {expected})"

    def show_target(self, shown: Shown) -> str:
        if shown.value is None:
            return "—"
        text = shown.words["at_most"].format(v=shown.qty(shown.value, shown.unit))
        if shown.stretch is not None:
            text += shown.words["stretch"].format(v=shown.qty(shown.stretch, shown.unit))
        return text


class BetweenKind(Kind[Between]):
    """The ``between`` kind."""

    name = "between"
    rule_class = Between
    doc = "low ≤ value ≤ high (X到Y); with high_is_stretch a floor X with stretch Y"
    fields = (
        _INDICATOR,
        Field(name="low", type=FieldType.NUMBER, required=True, quantity=True, doc="the low end X"),
        Field(
            name="high", type=FieldType.NUMBER, required=True, quantity=True, doc="the high end Y"
        ),
        _UNIT,
        Field(
            name="high_is_stretch",
            type=FieldType.BOOL,
            default=False,
            doc="the high end is only hoped for (争取X到Y): a floor X with stretch Y",
        ),
    )
    display = Display(counts_up_on=frozenset({IndicatorKind.CUMULATIVE}))
    drafting = Drafting(slug="between_{low}_{high}_{unit}", role=DraftRole.BAND)

    def check(self, rule: Between, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *ref_problems(plan, "indicator", rule.indicator),
            *unit_problems(plan, rule.indicator, rule.unit, "unit"),
        ]
        if rule.high < rule.low:
            out.append(("high", f"high {fmt(rule.high)} is below low {fmt(rule.low)}", "swap them"))
        return out

    def prepare(self, plan: Plan, rules: Sequence[Between]) -> tuple[_Prepared, Bools]:
        stretchy = np.array([bool(getattr(r, "high_is_stretch", False)) for r in rules], dtype=bool)
        floor = _prepare(
            plan,
            rules,
            "low",
            level_unless={IndicatorKind.CUMULATIVE, IndicatorKind.STOCK},
            band=True,
        )
        return floor, stretchy

    def judge(self, batch: Batch) -> Verdicts:
        p, stretchy = batch.prepared
        v = Verdicts(len(batch))
        _put_units(v, p)
        _judge_floor(batch, p, v)  # between with a stretch is a floor; the band overrides below
        band = ~stretchy
        if not band.any():
            return v
        raw, day, row = batch.current(p.codes)
        base_raw, base_row = batch.baseline(p.codes)
        have = (day != NAT) & band
        low, high = p.value, p.high
        x = raw / p.factor
        base = base_raw / p.factor
        inside = vge(x, low) & vle(x, high)
        final = batch.final(day)
        below = p.cumulative & vlt(x, low)  # a flow still on its way to the band: pro-rated
        expected = batch.expected(day)
        completion_p = np.where(low != 0, safe_div(x, low), 0.0)
        gap_p = 100.0 * (completion_p - expected)
        status_p = batch.progress_status(np.zeros(len(x), dtype=bool), final, expected, gap_p)

        def distance(a: Floats) -> Floats:
            out: Floats = np.maximum(np.maximum(low - a, a - high), 0.0)
            return out

        regressing = p.cumulative & vgt(x, high)
        regressing |= ~np.isnan(base) & ~inside & vgt(distance(x), distance(base))
        status_l = batch.level_status(inside, final, regressing)
        pick = np.flatnonzero(band)
        progress = below[pick]
        ok = have[pick]
        v.status[pick] = np.where(ok, np.where(progress, status_p[pick], status_l[pick]), NO_DATA)
        v.actual[pick] = np.where(ok, x[pick], np.nan)
        v.completion[pick] = np.where(
            ok, np.where(progress, completion_p[pick], safe_div(x, low)[pick]), np.nan
        )
        v.expected[pick] = np.where(ok & progress, expected[pick], np.nan)
        v.gap[pick] = np.where(ok & progress, gap_p[pick], np.nan)
        v.baseline[pick] = np.where(ok & ~progress, base[pick], np.nan)
        v.stretch_met[pick] = -1
        v.form[pick] = np.where(ok, np.where(progress, _PROGRESS, _LEVEL), _NO_DATA)
        v.evidence[0][pick] = np.where(ok & ~progress, base_row[pick], -1)
        v.evidence[1][pick] = np.where(ok, row[pick], -1)
        return v

    def describe(self, row: Row[Between]) -> tuple[str, str]:
        rule = row.rule
        if rule.high_is_stretch:
            return _floor_words(row, strict=False)
        if row.form == _NO_DATA:
            return row.no_data(rule.indicator)
        if row.form == _PROGRESS:
            zh, en = progress_words(
                row, rule.indicator, shown_actual=row.actual or 0.0, shown_target=rule.low
            )
            return zh + f"（区间{fmt(rule.low)}–{fmt(rule.high)}{rule.unit}）", en
        return level_words(
            row,
            rule.indicator,
            relation=(
                f"在{fmt(rule.low)}–{fmt(rule.high)}之间，下限",
                f"between {fmt(rule.low)} and {fmt(rule.high)}, low",
            ),
            target_value=rule.low,
        )

    def show_target(self, shown: Shown) -> str:
        rule = shown.rule
        if shown.value is None:
            return "—"
        if isinstance(rule, Between) and not rule.high_is_stretch:
            return f"{fmt(shown.value)}–{shown.qty(rule.high, shown.unit)}"
        return super().show_target(shown)


AT_LEAST = AtLeastKind()
AT_MOST = AtMostKind()
BETWEEN = BetweenKind()
KINDS = (AT_LEAST, AT_MOST, BETWEEN)
