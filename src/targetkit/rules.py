"""Rules: how a target's actuals are judged.

Each built-in kind is a frozen class with a ``judge(ctx)`` method that turns the observations in a
`RuleContext` into a `Judgement`. A user adds a kind of their own by writing a class that satisfies
the `Rule` protocol and registering a factory for plan files with `register_rule_kind`.

Statuses follow DESIGN: cumulative flows and stocks are pro-rated by pace (gap G = 100·(R − E)
percentage points, banded by the thresholds) and ``met`` once reached; levels (shares, rates, ranks,
caps) are ``on_track`` while satisfied and ``met`` only once final; below target but not below the
baseline is ``behind``, below the baseline (regressing) is ``off_track``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import attrs

from targetkit.model import Indicator, IndicatorKind, Plan, Stage, Status, Target
from targetkit.pace import expected_progress

__all__ = [
    "AtLeast",
    "AtMost",
    "Between",
    "ChangePP",
    "Growth",
    "Increase",
    "Judgement",
    "Milestone",
    "NetIncrease",
    "Observation",
    "Rank",
    "Rule",
    "RuleContext",
    "RuleFactory",
    "Series",
    "Share",
    "builtin_rule_kinds",
    "register_rule_kind",
    "rule_factory",
]


# --------------------------------------------------------------------------- observations


@attrs.frozen(kw_only=True)
class Observation:
    """One selected (latest-revision) value of an indicator.

    ``value`` is in the indicator's unit; for milestones 1.0 means done, 0.0 not done. ``row`` is
    the row's position in the actuals table, for provenance.
    """

    indicator: str
    date: dt.date
    value: float
    row: int
    stage: str = ""


@attrs.frozen(kw_only=True)
class Series:
    """An indicator's visible observations at the as-of date, one per date, sorted by date."""

    indicator: str
    dates: tuple[dt.date, ...] = ()
    values: tuple[float, ...] = ()
    rows: tuple[int, ...] = ()
    stages: tuple[str, ...] = ()

    def _obs(self, i: int) -> Observation:
        return Observation(
            indicator=self.indicator,
            date=self.dates[i],
            value=self.values[i],
            row=self.rows[i],
            stage=self.stages[i] if self.stages else "",
        )

    def __len__(self) -> int:
        return len(self.dates)

    def latest(self, stage: str = "") -> Observation | None:
        """Return the observation with the latest date (of one milestone stage), or None."""
        for i in range(len(self.dates) - 1, -1, -1):
            if not self.stages or self.stages[i] == stage:
                return self._obs(i)
        return None

    def on(self, date: dt.date, stage: str = "") -> Observation | None:
        """Return the observation dated exactly ``date``, or None."""
        i = bisect.bisect_left(self.dates, date)
        while i < len(self.dates) and self.dates[i] == date:
            if not self.stages or self.stages[i] == stage:
                return self._obs(i)
            i += 1
        return None

    def done_on(self, stage: str = "") -> Observation | None:
        """Return the first observation marking (a stage of) a milestone done, if still done."""
        latest = self.latest(stage)
        if latest is None or latest.value < 0.5:
            return None
        first = latest
        for i in range(len(self.dates) - 1, -1, -1):
            if self.stages and self.stages[i] != stage:
                continue
            if self.values[i] < 0.5:
                break
            first = self._obs(i)
        return first

    def common_dates(self, other: Series) -> list[dt.date]:
        """Return the dates present in both series, sorted."""
        return sorted(set(self.dates) & set(other.dates))


@attrs.frozen(kw_only=True)
class RuleContext:
    """What a rule may look at: the plan, the target, the as-of date and the visible series."""

    plan: Plan
    target: Target
    as_of: dt.date
    series: Mapping[str, Series]

    @property
    def deadline(self) -> dt.date:
        """Return the target's deadline (default: the plan's end)."""
        return self.plan.deadline_of(self.target)

    def indicator(self, indicator_id: str) -> Indicator:
        """Return a plan indicator."""
        return self.plan.indicator(indicator_id)

    def series_of(self, indicator_id: str) -> Series:
        """Return the visible observations of an indicator (possibly empty)."""
        return self.series.get(indicator_id) or Series(indicator=indicator_id)

    def expected(self, on: dt.date) -> float | None:
        """Return expected progress (0..1) at an observation's date, or None when not pro-rated."""
        return expected_progress(self.plan.pace_of(self.target), self.plan.start, self.deadline, on)

    def current(self, indicator_id: str, stage: str = "") -> Observation | None:
        """Return the latest observation dated within the period (a baseline does not count)."""
        obs = self.series_of(indicator_id).latest(stage)
        if obs is None or obs.date < self.plan.start:
            return None
        return obs

    def baseline(self, indicator_id: str) -> Observation | None:
        """Return the observation dated the day before the period starts, if any."""
        return self.series_of(indicator_id).on(self.plan.start - dt.timedelta(days=1))

    def is_final(self, on: dt.date, indicator_id: str) -> bool:
        """Return True when a value dated ``on`` is judged for good (met or missed).

        A value dated on or after the deadline covers the whole period; and once the as-of date
        is past the deadline the period is over, so the latest value is final even when the
        whole-period figure is not yet published (the indicator's ``lag_days`` only times the
        overdue-data alert). ``indicator_id`` is there for rule kinds that judge otherwise.
        """
        del indicator_id
        return on >= self.deadline or self.as_of > self.deadline

    def convert(self, value: float, unit: str, indicator_id: str) -> float:
        """Convert a value given in ``unit`` into the indicator's unit."""
        return value * self.plan.units.factor(unit, self.indicator(indicator_id).unit)

    def band(self, gap_pp: float) -> Status:
        """Return on_track, behind or off_track for a pace gap in percentage points."""
        th = self.plan.thresholds_of(self.target)
        if ge(gap_pp, th.on_track):
            return Status.ON_TRACK
        if ge(gap_pp, th.behind):
            return Status.BEHIND
        return Status.OFF_TRACK


# --------------------------------------------------------------------------- comparisons

# Values reach a rule through a unit conversion (220 亿元 may arrive as 2,200,000 万元 × 1e-4), so
# comparisons treat numbers within a relative 1e-9 as equal: a unit must never change a status.
_REL = 1e-9
_ABS = 1e-9


def ge(a: float, b: float) -> bool:
    """Return a ≥ b, counting nearly equal numbers as equal."""
    return a >= b or math.isclose(a, b, rel_tol=_REL, abs_tol=_ABS)


def le(a: float, b: float) -> bool:
    """Return a ≤ b, counting nearly equal numbers as equal."""
    return a <= b or math.isclose(a, b, rel_tol=_REL, abs_tol=_ABS)


def gt(a: float, b: float) -> bool:
    """Return a > b, where nearly equal numbers are not greater."""
    return not le(a, b)


def lt(a: float, b: float) -> bool:
    """Return a < b, where nearly equal numbers are not less."""
    return not ge(a, b)


# --------------------------------------------------------------------------- judgements


@attrs.frozen(kw_only=True)
class Judgement:
    """A rule's verdict with the numbers behind it.

    ``actual`` and ``target_value`` are in ``unit`` (the target's unit); ``completion`` and
    ``expected`` are fractions (0.417 for 41.7%); ``gap_pp`` is in percentage points: the pace gap
    for pro-rated targets, the distance to target for targets on a percentage.
    """

    status: Status
    message_zh: str
    message_en: str
    actual: float | None = None
    unit: str = ""
    target_value: float | None = None
    completion: float | None = None
    expected: float | None = None
    gap_pp: float | None = None
    observed_on: dt.date | None = None
    baseline: float | None = None
    stretch_value: float | None = None
    stretch_met: bool | None = None
    evidence: tuple[Observation, ...] = ()


@runtime_checkable
class Rule(Protocol):
    """What a rule kind provides. Built-in kinds and users' own kinds alike."""

    @property
    def kind(self) -> str:
        """Return the kind's name as written in plan files (``at_least``)."""
        ...

    def indicator_ids(self) -> tuple[str, ...]:
        """Return the indicators this rule reads."""
        ...

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        """Return (field, problem, hint) triples for a plan this rule cannot work with."""
        ...

    def judge(self, ctx: RuleContext) -> Judgement:
        """Judge the target at ``ctx.as_of``. Must be pure and deterministic."""
        ...

    def to_config(self) -> dict[str, Any]:
        """Return the rule as a plan-file table (with ``kind``), for round trips."""
        ...


RuleFactory = Callable[[Mapping[str, Any]], Rule]
"""Build a rule from its plan-file table (without ``kind``); raise ValueError/TypeError if bad."""

_FACTORIES: dict[str, RuleFactory] = {}


def register_rule_kind(kind: str, factory: RuleFactory, *, replace: bool = False) -> None:
    """Make a rule kind usable from plan files (``rule = { kind = "<kind>", … }``).

    Args:
        kind: The name plan files use.
        factory: Builds the rule from the rule table (without ``kind``). Raise ValueError or
            TypeError with a readable message for a bad table; it is reported with its place.
        replace: Allow replacing an already registered kind.
    """
    if kind in _FACTORIES and not replace:
        raise ValueError(f"rule kind {kind!r} is already registered (pass replace=True)")
    _FACTORIES[kind] = factory


def rule_factory(kind: str) -> RuleFactory | None:
    """Return the factory registered for a kind, or None."""
    return _FACTORIES.get(kind)


def builtin_rule_kinds() -> tuple[str, ...]:
    """Return the names of the built-in rule kinds."""
    return tuple(cls.kind for cls in _BUILTINS)


# --------------------------------------------------------------------------- wording


def fmt(value: float) -> str:
    """Format a number for messages: at most two decimals, no trailing zeros."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", "") if abs(value) < 10000 else text


def qty(value: float, unit: str) -> str:
    """Format a number with its unit: '150 亿元', '19.23%', '3'."""
    if not unit:
        return fmt(value)
    if unit in ("%", "‰"):
        return f"{fmt(value)}{unit}"
    return f"{fmt(value)} {unit}"


def _goal_word(ctx: RuleContext) -> tuple[str, str]:
    months = (
        (ctx.deadline.year - ctx.plan.start.year) * 12
        + ctx.deadline.month
        - ctx.plan.start.month
        + 1
    )
    return ("年度目标", "the annual target") if months == 12 else ("目标", "the target")


def pct(fraction: float) -> str:
    """Format a fraction as a percentage with one decimal."""
    return f"{100 * fraction:.1f}%"


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _is_month_end(d: dt.date) -> bool:
    return (d + dt.timedelta(days=1)).day == 1


def when_label(ctx: RuleContext, indicator_id: str, on: dt.date) -> tuple[str, str]:
    """Return how the period a value covers is named: ('1–6月累计', 'Jan–Jun cumulative')."""
    kind = ctx.indicator(indicator_id).kind
    start = ctx.plan.start
    if kind is IndicatorKind.CUMULATIVE:
        if _is_month_end(on) and on.year == start.year and start.day == 1 and on >= start:
            m0, m1 = start.month, on.month
            zh = f"{m0}–{m1}月累计" if m1 > m0 else f"{m1}月"
            en = f"{_MONTHS_EN[m0 - 1]}–{_MONTHS_EN[m1 - 1]}" if m1 > m0 else _MONTHS_EN[m1 - 1]
            return zh, f"{en} cumulative"
        return f"截至{on.year}年{on.month}月{on.day}日累计", f"cumulative to {on.isoformat()}"
    if _is_month_end(on):
        return f"{on.year}年{on.month}月末", f"end of {_MONTHS_EN[on.month - 1]} {on.year}"
    return f"{on.year}年{on.month}月{on.day}日", f"on {on.isoformat()}"


def _period_label(ctx: RuleContext, indicator_id: str, on: dt.date) -> tuple[str, str]:
    """Name the period a ratio of two flows covers: '1–6月', 'Jan–Jun'."""
    zh, en = when_label(ctx, indicator_id, on)
    return zh.removesuffix("累计"), en.removesuffix(" cumulative")


def _pace_words(gap: float) -> tuple[str, str]:
    if abs(gap) < 0.05:
        return "与序时进度持平", "exactly on pace"
    if gap > 0:
        return f"高于序时进度 {gap:.1f} 个百分点", f"{gap:.1f} pp ahead of pace"
    return f"低于序时进度 {-gap:.1f} 个百分点", f"{-gap:.1f} pp behind pace"


def _no_data(ctx: RuleContext, indicator_id: str, what: str = "") -> Judgement:
    ind = ctx.indicator(indicator_id)
    zh = f"截至{ctx.as_of.isoformat()}尚无{ind.name}数据{what}"
    en = f"no {ind.name_en or ind.name} figure up to {ctx.as_of.isoformat()}{' ' + what if what else ''}"
    if ind.lag_days:
        zh += f"（该数据一般在期末后约{ind.lag_days}天公布）"
        en += f" (usually published about {ind.lag_days} days after the period ends)"
    return Judgement(status=Status.NO_DATA, message_zh=zh, message_en=en)


def _level_status(satisfied: bool, final: bool, regressing: bool) -> Status:
    if satisfied:
        return Status.MET if final else Status.ON_TRACK
    if final:
        return Status.MISSED
    return Status.OFF_TRACK if regressing else Status.BEHIND


def _status_words(status: Status, final: bool, ctx: RuleContext) -> tuple[str, str]:
    if status is Status.MET:
        return "已完成目标", "target met"
    if status is Status.MISSED:
        return "期末未完成目标", "target missed at the deadline"
    if status is Status.ON_TRACK and not final:
        d = ctx.deadline.isoformat()
        return f"目前达标，期末（{d}）确认", f"satisfied so far; confirmed at the deadline ({d})"
    if status is Status.BEHIND:
        return "尚未达到目标，但不差于基期", "not at target yet, but not worse than the baseline"
    if status is Status.OFF_TRACK:
        return "差于基期水平", "worse than the baseline (regressing)"
    return "", ""


def _stretch(value: float, stretch: float | None, higher_is_better: bool = True) -> bool | None:
    if stretch is None:
        return None
    return ge(value, stretch) if higher_is_better else le(value, stretch)


# --------------------------------------------------------------------------- built-in kinds


def _judge_progress(
    ctx: RuleContext,
    *,
    indicator_id: str,
    obs: Observation,
    done_value: float,
    goal: float,
    reached: bool,
    unit: str,
    shown_actual: float,
    shown_target: float,
    what_zh: str = "",
    what_en: str = "",
    baseline: float | None = None,
    stretch_value: float | None = None,
    stretch_met: bool | None = None,
    evidence: tuple[Observation, ...] = (),
) -> Judgement:
    """Judge a flow or stock towards ``goal`` (done so far ``done_value``), pro-rated by pace."""
    completion = done_value / goal if goal else (1.0 if reached else 0.0)
    expected = ctx.expected(obs.date)
    final = ctx.is_final(obs.date, indicator_id)
    gap = None if expected is None else 100.0 * (completion - expected)
    if reached:
        status = Status.MET
    elif final:
        status = Status.MISSED
    elif gap is None:
        status = Status.ON_TRACK
    else:
        status = ctx.band(gap)
    label_zh, label_en = when_label(ctx, indicator_id, obs.date)
    goal_zh, goal_en = _goal_word(ctx)
    zh = f"{label_zh}{what_zh} {qty(shown_actual, unit)}，完成{goal_zh}（{qty(shown_target, unit)}）的 {pct(completion)}"
    en = f"{label_en}{what_en} {qty(shown_actual, unit)}: {pct(completion)} of {goal_en} {qty(shown_target, unit)}"
    if status is Status.MET:
        zh += "，已完成目标"
        en += "; target met"
    elif status is Status.MISSED:
        zh += "，期末未完成目标"
        en += "; target missed at the deadline"
    elif gap is None:
        d = ctx.deadline.isoformat()
        zh += f"，不按序时进度考核，期末（{d}）判定"
        en += f"; not pro-rated, judged at the deadline ({d})"
    else:
        pz, pe = _pace_words(gap)
        zh += f"，{pz}（序时进度 {pct(expected or 0.0)}）"
        en += f", {pe} (expected {pct(expected or 0.0)})"
    if stretch_met is not None and stretch_value is not None:
        zh += f"；力争目标 {qty(stretch_value, unit)} {'已实现' if stretch_met else '未实现'}"
        en += f"; stretch {qty(stretch_value, unit)} {'reached' if stretch_met else 'not reached'}"
    return Judgement(
        status=status,
        message_zh=zh,
        message_en=en,
        actual=shown_actual,
        unit=unit,
        target_value=shown_target,
        completion=completion,
        expected=expected,
        gap_pp=gap,
        observed_on=obs.date,
        baseline=baseline,
        stretch_value=stretch_value,
        stretch_met=stretch_met,
        evidence=evidence or (obs,),
    )


def _judge_level(
    ctx: RuleContext,
    *,
    indicator_id: str,
    obs: Observation,
    satisfied: bool,
    regressing: bool,
    actual: float,
    target_value: float,
    unit: str,
    relation_zh: str,
    relation_en: str,
    completion: float | None,
    gap_pp: float | None = None,
    baseline: float | None = None,
    stretch_value: float | None = None,
    stretch_met: bool | None = None,
    evidence: tuple[Observation, ...] = (),
    what_zh: str = "",
    what_en: str = "",
    label: tuple[str, str] | None = None,
    show_baseline: bool = True,
    baseline_unit: str | None = None,
) -> Judgement:
    final = ctx.is_final(obs.date, indicator_id)
    status = _level_status(satisfied, final, regressing)
    label_zh, label_en = label or when_label(ctx, indicator_id, obs.date)
    zh = f"{label_zh}{what_zh} {qty(actual, unit)}（目标：{relation_zh} {qty(target_value, unit)}"
    en = f"{label_en}{what_en} {qty(actual, unit)} (target {relation_en} {qty(target_value, unit)}"
    if baseline is not None and show_baseline:
        bu = unit if baseline_unit is None else baseline_unit
        zh += f"，基期 {qty(baseline, bu)}"
        en += f", baseline {qty(baseline, bu)}"
    wz, we = _status_words(status, final, ctx)
    zh += f"），{wz}"
    en += f"): {we}"
    if stretch_met is not None and stretch_value is not None:
        zh += f"；力争目标 {qty(stretch_value, unit)} {'已实现' if stretch_met else '未实现'}"
        en += f"; stretch {qty(stretch_value, unit)} {'reached' if stretch_met else 'not reached'}"
    return Judgement(
        status=status,
        message_zh=zh,
        message_en=en,
        actual=actual,
        unit=unit,
        target_value=target_value,
        completion=completion,
        gap_pp=gap_pp,
        observed_on=obs.date,
        baseline=baseline,
        stretch_value=stretch_value,
        stretch_met=stretch_met,
        evidence=evidence or (obs,),
    )


def _unit_problems(
    plan: Plan, indicator_id: str, unit: str, field: str
) -> list[tuple[str, str, str]]:
    if not plan.has_indicator(indicator_id):
        return []
    ind = plan.indicator(indicator_id)
    units = plan.units
    if not units.compatible(unit, ind.unit):
        return [
            (
                field,
                f"unit {unit!r} ({units.dimensionality(unit)}) is not compatible with indicator "
                f"{indicator_id!r}, measured in {ind.unit!r} ({units.dimensionality(ind.unit)})",
                f"use {ind.unit!r} or a unit of the same kind",
            )
        ]
    return []


def _ref_problems(plan: Plan, field: str, indicator_id: str) -> list[tuple[str, str, str]]:
    if plan.has_indicator(indicator_id):
        return []
    import difflib  # noqa: PLC0415 - only on the error path

    close = difflib.get_close_matches(indicator_id, [i.id for i in plan.indicators], n=1)
    hint = f"did you mean {close[0]!r}?" if close else "declare it under [[indicators]]"
    return [(field, f"unknown indicator {indicator_id!r}", hint)]


def _floor_stretch_problem(
    value: float, stretch: float | None, higher: bool
) -> list[tuple[str, str, str]]:
    if stretch is None or (stretch >= value if higher else stretch <= value):
        return []
    word = "above" if higher else "below"
    return [
        ("stretch", f"stretch {fmt(stretch)} is not {word} the floor {fmt(value)}", "swap them")
    ]


@attrs.frozen(kw_only=True)
class _Threshold:
    """Shared fields of at_least / at_most: a value in a unit, with an optional stretch."""

    indicator: str
    value: float
    unit: str
    stretch: float | None = None
    strict: bool = False

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,  # type: ignore[attr-defined]
            "indicator": self.indicator,
            "value": self.value,
            "unit": self.unit,
        }
        if self.stretch is not None:
            out["stretch"] = self.stretch
        if self.strict:
            out["strict"] = True
        return out


@attrs.frozen(kw_only=True)
class AtLeast(_Threshold):
    """不低于X, X以上, 达到X, 突破X: value ≥ X (strict: value > X)."""

    kind: ClassVar[str] = "at_least"

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        return [
            *_ref_problems(plan, "indicator", self.indicator),
            *_unit_problems(plan, self.indicator, self.unit, "unit"),
            *_floor_stretch_problem(self.value, self.stretch, higher=True),
        ]

    def judge(self, ctx: RuleContext) -> Judgement:
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        factor = ctx.convert(1.0, self.unit, self.indicator)
        actual = obs.value / factor
        reached = gt(actual, self.value) if self.strict else ge(actual, self.value)
        stretch_met = _stretch(actual, self.stretch)
        if ctx.indicator(self.indicator).kind is IndicatorKind.LEVEL:
            base = ctx.baseline(self.indicator)
            base_v = None if base is None else base.value / factor
            return _judge_level(
                ctx,
                indicator_id=self.indicator,
                obs=obs,
                satisfied=reached,
                regressing=base_v is not None and lt(actual, base_v),
                actual=actual,
                target_value=self.value,
                unit=self.unit,
                relation_zh="不低于" if not self.strict else "高于",
                relation_en="at least" if not self.strict else "above",
                completion=actual / self.value if self.value else None,
                gap_pp=actual - self.value if self.unit == "%" else None,
                baseline=base_v,
                stretch_value=self.stretch,
                stretch_met=stretch_met,
                evidence=(obs,) if base is None else (base, obs),
            )
        return _judge_progress(
            ctx,
            indicator_id=self.indicator,
            obs=obs,
            done_value=actual,
            goal=self.value,
            reached=reached,
            unit=self.unit,
            shown_actual=actual,
            shown_target=self.value,
            stretch_value=self.stretch,
            stretch_met=stretch_met,
        )


@attrs.frozen(kw_only=True)
class AtMost(_Threshold):
    """控制在X以内, 不超过X: value ≤ X. On a cumulative flow it is a budget: ahead of pace is bad."""

    kind: ClassVar[str] = "at_most"

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        return [
            *_ref_problems(plan, "indicator", self.indicator),
            *_unit_problems(plan, self.indicator, self.unit, "unit"),
            *_floor_stretch_problem(self.value, self.stretch, higher=False),
        ]

    def judge(self, ctx: RuleContext) -> Judgement:
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        factor = ctx.convert(1.0, self.unit, self.indicator)
        actual = obs.value / factor
        within = lt(actual, self.value) if self.strict else le(actual, self.value)
        stretch_met = _stretch(actual, self.stretch, higher_is_better=False)
        kind = ctx.indicator(self.indicator).kind
        if kind is not IndicatorKind.CUMULATIVE:
            base = ctx.baseline(self.indicator)
            base_v = None if base is None else base.value / factor
            return _judge_level(
                ctx,
                indicator_id=self.indicator,
                obs=obs,
                satisfied=within,
                regressing=base_v is not None and gt(actual, base_v),
                actual=actual,
                target_value=self.value,
                unit=self.unit,
                relation_zh="不超过",
                relation_en="at most",
                completion=actual / self.value if self.value else None,
                gap_pp=self.value - actual if self.unit == "%" else None,
                baseline=base_v,
                stretch_value=self.stretch,
                stretch_met=stretch_met,
                evidence=(obs,) if base is None else (base, obs),
            )
        completion = actual / self.value if self.value else (0.0 if within else 1.0)
        expected = ctx.expected(obs.date)
        final = ctx.is_final(obs.date, self.indicator)
        gap = None if expected is None else 100.0 * (expected - completion)
        whole = obs.date >= ctx.deadline  # a figure covering the whole period
        if not within:
            status = Status.MISSED if final else Status.OFF_TRACK
        elif final:
            # after the deadline (and the publication lag) only a whole-period figure shows the
            # cap was kept; an older one cannot confirm it
            status = Status.MET if whole else Status.MISSED
        elif gap is None:
            status = Status.ON_TRACK
        else:
            status = ctx.band(gap)
        label_zh, label_en = when_label(ctx, self.indicator, obs.date)
        u = self.unit
        zh = f"{label_zh} {qty(actual, u)}，已用上限（{qty(self.value, u)}）的 {pct(completion)}"
        en = f"{label_en} {qty(actual, u)}: {pct(completion)} of the cap {qty(self.value, u)}"
        if not within:
            zh += "，已超出上限"
            en += "; the cap is exceeded"
        elif status is Status.MET:
            zh += "，期末控制在上限以内"
            en += "; kept within the cap"
        elif status is Status.MISSED:
            zh += "，期限已过但缺少全期数据，无法确认控制在上限以内"
            en += "; the deadline has passed without a figure for the whole period, so the cap is not confirmed"
        elif gap is not None:
            if gap < 0:
                zh += f"，快于序时进度 {-gap:.1f} 个百分点"
                en += f", {-gap:.1f} pp faster than pace (expected {pct(expected or 0.0)})"
            else:
                zh += f"，未超序时进度（{pct(expected or 0.0)}）"
                en += f", within pace (expected {pct(expected or 0.0)})"
        return Judgement(
            status=status,
            message_zh=zh,
            message_en=en,
            actual=actual,
            unit=u,
            target_value=self.value,
            completion=completion,
            expected=expected,
            gap_pp=gap,
            observed_on=obs.date,
            stretch_value=self.stretch,
            stretch_met=stretch_met,
            evidence=(obs,),
        )


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

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "indicator": self.indicator,
            "low": self.low,
            "high": self.high,
            "unit": self.unit,
        }
        if self.high_is_stretch:
            out["high_is_stretch"] = True
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *_ref_problems(plan, "indicator", self.indicator),
            *_unit_problems(plan, self.indicator, self.unit, "unit"),
        ]
        if self.high < self.low:
            out.append(("high", f"high {fmt(self.high)} is below low {fmt(self.low)}", "swap them"))
        return out

    def judge(self, ctx: RuleContext) -> Judgement:
        if self.high_is_stretch:
            floor = AtLeast(
                indicator=self.indicator, value=self.low, unit=self.unit, stretch=self.high
            )
            return floor.judge(ctx)
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        factor = ctx.convert(1.0, self.unit, self.indicator)
        actual = obs.value / factor
        inside = ge(actual, self.low) and le(actual, self.high)
        kind = ctx.indicator(self.indicator).kind
        if kind is IndicatorKind.CUMULATIVE and lt(actual, self.low):
            j = _judge_progress(
                ctx,
                indicator_id=self.indicator,
                obs=obs,
                done_value=actual,
                goal=self.low,
                reached=False,
                unit=self.unit,
                shown_actual=actual,
                shown_target=self.low,
            )
            return attrs.evolve(
                j, message_zh=j.message_zh + f"（区间{fmt(self.low)}–{fmt(self.high)}{self.unit}）"
            )
        base = ctx.baseline(self.indicator)
        base_v = None if base is None else base.value / factor

        def distance(v: float) -> float:
            return max(self.low - v, v - self.high, 0.0)

        regressing = kind is IndicatorKind.CUMULATIVE and gt(actual, self.high)
        if base_v is not None and not inside:
            regressing = regressing or gt(distance(actual), distance(base_v))
        return _judge_level(
            ctx,
            indicator_id=self.indicator,
            obs=obs,
            satisfied=inside,
            regressing=regressing,
            actual=actual,
            target_value=self.low,
            unit=self.unit,
            relation_zh=f"在{fmt(self.low)}–{fmt(self.high)}之间，下限",
            relation_en=f"between {fmt(self.low)} and {fmt(self.high)}, low",
            completion=actual / self.low if self.low else None,
            baseline=base_v,
            evidence=(obs,) if base is None else (base, obs),
        )


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

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "unit": self.unit,
        }
        if self.stretch is not None:
            out["stretch"] = self.stretch
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *_ref_problems(plan, "numerator", self.numerator),
            *_ref_problems(plan, "denominator", self.denominator),
            *_floor_stretch_problem(self.value, self.stretch, higher=True),
        ]
        if out:
            return out
        units = plan.units
        num, den = plan.indicator(self.numerator).unit, plan.indicator(self.denominator).unit
        if not units.compatible(num, den):
            out.append(
                (
                    "denominator",
                    f"numerator {self.numerator!r} ({num!r}) and denominator {self.denominator!r} "
                    f"({den!r}) are not in compatible units",
                    "a share divides two amounts of the same kind (e.g. both 亿元)",
                )
            )
        if not units.is_dimensionless(self.unit):
            out.append(
                ("unit", f"a share's unit must be '%' (got {self.unit!r})", "write unit = '%'")
            )
        return out

    def judge(self, ctx: RuleContext) -> Judgement:
        num_s, den_s = ctx.series_of(self.numerator), ctx.series_of(self.denominator)
        dates = [d for d in num_s.common_dates(den_s) if d >= ctx.plan.start]
        if not dates:
            if len(num_s) and len(den_s):
                return attrs.evolve(
                    _no_data(ctx, self.numerator),
                    message_zh=f"{ctx.indicator(self.numerator).name}与{ctx.indicator(self.denominator).name}"
                    "没有同一日期的数据，无法计算占比",
                    message_en=f"{self.numerator} and {self.denominator} have no date in common: "
                    "the share cannot be computed",
                )
            return _no_data(ctx, self.numerator if not len(num_s) else self.denominator)
        units = ctx.plan.units
        num_unit = ctx.indicator(self.numerator).unit
        den_unit = ctx.indicator(self.denominator).unit
        to_target = units.factor("", self.unit)  # fraction → the target's unit (%)
        ratio_factor = units.factor(num_unit, den_unit)

        def share_at(d: dt.date) -> tuple[float, Observation, Observation] | None:
            n, q = num_s.on(d), den_s.on(d)
            if n is None or q is None or q.value == 0:
                return None
            return n.value * ratio_factor / q.value * to_target, n, q

        current = share_at(dates[-1])
        if current is None:
            return _no_data(ctx, self.denominator, "(denominator is zero)")
        actual, n_obs, d_obs = current
        base = share_at(ctx.plan.start - dt.timedelta(days=1))
        base_v = None if base is None else base[0]
        evidence = (n_obs, d_obs) if base is None else (base[1], base[2], n_obs, d_obs)
        num_name = ctx.indicator(self.numerator).name
        return _judge_level(
            ctx,
            indicator_id=self.numerator,
            obs=n_obs,
            satisfied=ge(actual, self.value),
            regressing=base_v is not None and lt(actual, base_v),
            actual=actual,
            target_value=self.value,
            unit=self.unit,
            relation_zh="不低于",
            relation_en="at least",
            completion=actual / self.value if self.value else None,
            gap_pp=(actual - self.value) * units.factor(self.unit, "%") if self.unit else None,
            baseline=base_v,
            stretch_value=self.stretch,
            stretch_met=_stretch(actual, self.stretch),
            evidence=evidence,
            what_zh=f"{num_name}占比",
            what_en=f" share of {ctx.indicator(self.numerator).name_en or num_name}",
            label=_period_label(ctx, self.numerator, n_obs.date),
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

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "indicator": self.indicator,
            "value": self.value,
            "unit": self.unit,
        }
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.stretch is not None:
            out["stretch"] = self.stretch
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        return [
            *_ref_problems(plan, "indicator", self.indicator),
            *_unit_problems(plan, self.indicator, self.unit, "unit"),
            *_floor_stretch_problem(self.value, self.stretch, higher=True),
        ]

    def judge(self, ctx: RuleContext) -> Judgement:
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        factor = ctx.convert(1.0, self.unit, self.indicator)
        base = ctx.baseline(self.indicator)
        if base is not None:
            base_v = base.value / factor
        elif self.baseline is not None:
            base_v = self.baseline
        else:
            start = (ctx.plan.start - dt.timedelta(days=1)).isoformat()
            return attrs.evolve(
                _no_data(ctx, self.indicator),
                message_zh=f"缺少{start}的基期数据，无法计算净增量",
                message_en=f"no baseline observation dated {start} (nor a baseline in the plan): "
                "the net increase cannot be computed",
            )
        actual = obs.value / factor
        increase = actual - base_v
        return _judge_progress(
            ctx,
            indicator_id=self.indicator,
            obs=obs,
            done_value=increase,
            goal=self.value,
            reached=ge(increase, self.value),
            unit=self.unit,
            shown_actual=increase,
            shown_target=self.value,
            what_zh="净增",
            what_en=" net increase",
            baseline=base_v,
            stretch_value=self.stretch,
            stretch_met=_stretch(increase, self.stretch),
            evidence=(obs,) if base is None else (base, obs),
        )


def _same_day_last_year(d: dt.date) -> dt.date:
    if _is_month_end(d):
        first = dt.date(d.year - 1, d.month, 1)
        return (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


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

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "indicator": self.indicator,
            "value": self.value,
            "unit": self.unit,
        }
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.stretch is not None:
            out["stretch"] = self.stretch
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *_ref_problems(plan, "indicator", self.indicator),
            *_floor_stretch_problem(self.value, self.stretch, higher=True),
        ]
        if not plan.units.is_dimensionless(self.unit):
            out.append(
                (
                    "unit",
                    f"a growth rate's unit must be '%' (got {self.unit!r})",
                    "write unit = '%'",
                )
            )
        return out

    def judge(self, ctx: RuleContext) -> Judgement:
        series = ctx.series_of(self.indicator)
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        rate_goal = self.value * ctx.plan.units.factor(self.unit, "")
        ind = ctx.indicator(self.indicator)
        prior = series.on(_same_day_last_year(obs.date))
        base_obs = ctx.baseline(self.indicator)
        if ind.kind is IndicatorKind.CUMULATIVE and prior is None:
            if base_obs is None and self.baseline is None:
                return _no_data(ctx, self.indicator, "（缺少基期）")
            base_v = base_obs.value if base_obs is not None else float(self.baseline or 0.0)
            goal = base_v * (1 + rate_goal)
            return _judge_progress(
                ctx,
                indicator_id=self.indicator,
                obs=obs,
                done_value=obs.value,
                goal=goal,
                reached=ge(obs.value, goal),
                unit=ind.unit,
                shown_actual=obs.value,
                shown_target=goal,
                baseline=base_v,
                evidence=(obs,) if base_obs is None else (base_obs, obs),
            )
        ref = prior if ind.kind is IndicatorKind.CUMULATIVE else base_obs
        if ref is None and self.baseline is None:
            return _no_data(ctx, self.indicator, "（缺少基期）")
        ref_v = ref.value if ref is not None else float(self.baseline or 0.0)
        if ref_v == 0:
            return _no_data(ctx, self.indicator, "（基期为零，无法计算增速）")
        to_unit = ctx.plan.units.factor("", self.unit)
        rate = (obs.value / ref_v - 1) * to_unit
        return _judge_level(
            ctx,
            indicator_id=self.indicator,
            obs=obs,
            satisfied=ge(rate, self.value),
            regressing=lt(rate, 0.0),
            actual=rate,
            target_value=self.value,
            unit=self.unit,
            relation_zh="增长不低于",
            relation_en="growth of at least",
            completion=rate / self.value if self.value else None,
            gap_pp=(rate - self.value) * ctx.plan.units.factor(self.unit, "%"),
            stretch_value=self.stretch,
            stretch_met=_stretch(rate, self.stretch),
            evidence=(obs,) if ref is None else (ref, obs),
            what_zh="增速",
            what_en=" growth",
        )


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

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "indicator": self.indicator,
            "value": self.value,
            "unit": self.unit,
        }
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.stretch is not None:
            out["stretch"] = self.stretch
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [
            *_ref_problems(plan, "indicator", self.indicator),
            *_floor_stretch_problem(self.value, self.stretch, higher=True),
        ]
        units = plan.units
        if units.check(self.unit) not in ("百分点", "个百分点", "percentage_point"):
            out.append(
                (
                    "unit",
                    f"a change in points is given in 百分点 (got {self.unit!r})",
                    "write unit = '百分点'",
                )
            )
        if not out and not units.is_dimensionless(plan.indicator(self.indicator).unit):
            out.append(
                (
                    "indicator",
                    f"indicator {self.indicator!r} is in {plan.indicator(self.indicator).unit!r}, "
                    "not a percentage",
                    "change_pp needs an indicator measured in %",
                )
            )
        return out

    def judge(self, ctx: RuleContext) -> Judgement:
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        to_pct = ctx.plan.units.factor(ctx.indicator(self.indicator).unit, "%")
        base = ctx.baseline(self.indicator)
        if base is not None:
            base_v = base.value * to_pct
        elif self.baseline is not None:
            base_v = self.baseline
        else:
            return _no_data(ctx, self.indicator, "（缺少基期）")
        change = obs.value * to_pct - base_v
        return _judge_level(
            ctx,
            indicator_id=self.indicator,
            obs=obs,
            satisfied=ge(change, self.value),
            regressing=lt(change, 0.0),
            actual=change,
            target_value=self.value,
            unit="个百分点",
            relation_zh="提高",
            relation_en="a rise of",
            completion=change / self.value if self.value else None,
            gap_pp=change - self.value,
            baseline=base_v,
            stretch_value=self.stretch,
            stretch_met=_stretch(change, self.stretch),
            evidence=(obs,) if base is None else (base, obs),
            what_zh="较基期变化",
            what_en=" change on the baseline",
            baseline_unit="%",
        )


@attrs.frozen(kw_only=True)
class Increase:
    """逐步提高, 持续提升: value > baseline."""

    kind: ClassVar[str] = "increase"
    indicator: str
    baseline: float | None = None
    unit: str | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "indicator": self.indicator}
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.unit is not None:
            out["unit"] = self.unit
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [*_ref_problems(plan, "indicator", self.indicator)]
        if not out and self.unit is not None:
            out.extend(_unit_problems(plan, self.indicator, self.unit, "unit"))
        return out

    def judge(self, ctx: RuleContext) -> Judgement:
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        unit = self.unit if self.unit is not None else ctx.indicator(self.indicator).unit
        factor = ctx.convert(1.0, unit, self.indicator)
        base = ctx.baseline(self.indicator)
        if base is not None:
            base_v = base.value / factor
        elif self.baseline is not None:
            base_v = self.baseline
        else:
            return _no_data(ctx, self.indicator, "（缺少基期）")
        actual = obs.value / factor
        return _judge_level(
            ctx,
            indicator_id=self.indicator,
            obs=obs,
            satisfied=gt(actual, base_v),
            regressing=lt(actual, base_v),
            actual=actual,
            target_value=base_v,
            unit=unit,
            relation_zh="高于基期",
            relation_en="above the baseline",
            show_baseline=False,
            completion=None,
            gap_pp=(actual - base_v) if unit == "%" else None,
            baseline=base_v,
            evidence=(obs,) if base is None else (base, obs),
        )


@attrs.frozen(kw_only=True)
class Rank:
    """位居前列, 前N: rank ≤ N (1 is best)."""

    kind: ClassVar[str] = "rank"
    indicator: str
    value: int
    stretch: int | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "indicator": self.indicator, "value": self.value}
        if self.stretch is not None:
            out["stretch"] = self.stretch
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [*_ref_problems(plan, "indicator", self.indicator)]
        if self.value < 1:
            out.append(
                (
                    "value",
                    f"a rank target must be 1 or more (got {self.value})",
                    "1 is the best rank",
                )
            )
        out.extend(_floor_stretch_problem(self.value, self.stretch, higher=False))
        return out

    def judge(self, ctx: RuleContext) -> Judgement:
        obs = ctx.current(self.indicator)
        if obs is None:
            return _no_data(ctx, self.indicator)
        base = ctx.baseline(self.indicator)
        return _judge_level(
            ctx,
            indicator_id=self.indicator,
            obs=obs,
            satisfied=le(obs.value, self.value),
            regressing=base is not None and gt(obs.value, base.value),
            actual=obs.value,
            target_value=self.value,
            unit="",
            relation_zh="前",
            relation_en="rank at most",
            completion=None,
            baseline=None if base is None else base.value,
            stretch_value=None if self.stretch is None else float(self.stretch),
            stretch_met=_stretch(obs.value, self.stretch, higher_is_better=False),
            evidence=(obs,) if base is None else (base, obs),
            what_zh="排名第",
            what_en=" rank",
        )


def _stage_tuple(items: Iterable[Stage]) -> tuple[Stage, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Milestone:
    """出台, 立项, 动工, 验收 … by the deadline; optionally in stages, each with its own due date.

    An actuals row with value ``done`` (or 1/true) records completion on its date; with stages,
    a row whose value is a stage id records that stage.
    """

    kind: ClassVar[str] = "milestone"
    indicator: str
    stages: tuple[Stage, ...] = attrs.field(default=(), converter=_stage_tuple)

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)

    def to_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "indicator": self.indicator}
        if self.stages:
            out["stages"] = [
                {"id": s.id, **({"name": s.name} if s.name else {}), "due": s.due}
                for s in self.stages
            ]
        return out

    def check(self, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [*_ref_problems(plan, "indicator", self.indicator)]
        ids = [s.id for s in self.stages]
        if len(set(ids)) != len(ids):
            out.append(("stages", "stage ids repeat", "give each stage its own id"))
        dues = [s.due for s in self.stages]
        if dues != sorted(dues):
            out.append(
                ("stages", "stages are not in order of their due dates", "list them in order")
            )
        return out

    def judge(self, ctx: RuleContext) -> Judgement:
        series = ctx.series_of(self.indicator)
        deadline = ctx.deadline
        window = dt.timedelta(days=ctx.plan.warning_days_of(ctx.target))
        done = series.done_on()
        stage_done = {s.id: series.done_on(s.id) for s in self.stages}
        if done is None and self.stages and all(stage_done.values()):
            done = max((o for o in stage_done.values() if o is not None), key=lambda o: o.date)
        n_done = sum(1 for o in stage_done.values() if o is not None)
        completion = 1.0 if done else (n_done / len(self.stages) if self.stages else 0.0)
        evidence = tuple(o for o in stage_done.values() if o is not None)
        if done is not None:
            evidence = evidence if done in evidence else (*evidence, done)
            on_time = done.date <= deadline
            zh = f"已于{done.date.isoformat()}完成" + (
                "" if on_time else f"，晚于期限{deadline.isoformat()}"
            )
            en = f"done on {done.date.isoformat()}" + (
                "" if on_time else f", after the deadline {deadline.isoformat()}"
            )
            return Judgement(
                status=Status.MET if on_time else Status.MISSED,
                message_zh=zh,
                message_en=en,
                actual=1.0,
                target_value=1.0,
                completion=1.0,
                observed_on=done.date,
                evidence=evidence,
            )
        days_left = (deadline - ctx.as_of).days
        if ctx.as_of > deadline:
            status = Status.MISSED
            zh = f"期限{deadline.isoformat()}已过，尚未完成"
            en = f"not done; the deadline {deadline.isoformat()} has passed"
        elif ctx.as_of + window >= deadline:
            status = Status.BEHIND
            zh = f"尚未完成，距期限{deadline.isoformat()}还有{days_left}天"
            en = f"not done, {days_left} days before the deadline {deadline.isoformat()}"
        else:
            status = Status.ON_TRACK
            zh = f"尚未完成，期限{deadline.isoformat()}"
            en = f"not done yet; due {deadline.isoformat()}"
        if status is Status.ON_TRACK:
            for stage in self.stages:
                if stage_done[stage.id] is not None:
                    continue
                label = stage.name or stage.id
                if ctx.as_of > stage.due:
                    status = Status.BEHIND
                    zh += f"；阶段“{label}”已逾期（应于{stage.due.isoformat()}前完成）"
                    en += f"; stage '{label}' is overdue (due {stage.due.isoformat()})"
                    break
                if ctx.as_of + window >= stage.due:
                    status = Status.BEHIND
                    zh += f"；阶段“{label}”将于{stage.due.isoformat()}到期"
                    en += f"; stage '{label}' is due {stage.due.isoformat()}"
                    break
        if self.stages:
            zh += f"（已完成{n_done}/{len(self.stages)}个阶段）"
            en += f" ({n_done} of {len(self.stages)} stages done)"
        return Judgement(
            status=status,
            message_zh=zh,
            message_en=en,
            actual=0.0,
            target_value=1.0,
            completion=completion,
            observed_on=None,
            evidence=evidence,
        )


_BUILTINS: tuple[type[Any], ...] = (
    AtLeast,
    AtMost,
    Between,
    Share,
    NetIncrease,
    Growth,
    ChangePP,
    Increase,
    Rank,
    Milestone,
)
