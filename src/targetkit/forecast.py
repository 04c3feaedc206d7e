"""Year-end forecasts (预计全年): where a cumulative figure is heading by the deadline.

Pure functions on `datetime.date` and floats, usable on their own. `forecast_series` takes this
period's cumulative figures (1–N月累计, counted from zero at the period's start), the pace curve
and, optionally, the figures of earlier periods, and returns a `Forecast`:

- ``profile`` when an earlier period's figures give its share done by the same day of its year
  (last year's 1–6月 ÷ last year's whole year): value = this year's figure ÷ that share, so 44 by
  June on a profile of 40% by June gives 110;
- ``run_rate`` otherwise: value = this year's figure ÷ the expected progress (序时进度) of the
  pace curve at its date, so 44 by June on the months pace gives 88.

The interval [low, high] holds the other estimates the evidence gives (each earlier point of this
year, each earlier year's profile, the run rate since each earlier point), widened by a margin
that shrinks as the year fills and grows when there are few estimates. docs/explanation/forecast.md
gives the rules and the backtest behind the margins.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from targetkit.pace import Pace, PaceMethod, expected_progress
from targetkit.rules import fmt, qty

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PROFILE_MARGIN",
    "RUN_RATE_MARGIN",
    "Forecast",
    "ForecastMethod",
    "forecast_series",
    "plot_forecast",
    "profile_share",
]

# Relative half-width of the interval per unit of the year still to come, for one estimate
# twice this; see docs/explanation/forecast.md for where the figures come from.
PROFILE_MARGIN = 0.15
RUN_RATE_MARGIN = 0.4

Point = tuple[dt.date, float]


class ForecastMethod(enum.StrEnum):
    """How a forecast was made."""

    PROFILE = "profile"
    RUN_RATE = "run_rate"
    FINAL = "final"


@attrs.frozen(kw_only=True)
class Forecast:
    """A forecast of a cumulative figure at the deadline, with its interval and its evidence.

    Attributes:
        value: The forecast value at ``deadline``.
        low: The low end of the interval.
        high: The high end of the interval.
        method: `ForecastMethod` used.
        basis: What the forecast rests on, in words ("2022年同期进度 40.0%").
        basis_en: The same in English.
        observed_on: The date of the latest figure used.
        deadline: The date forecast.
        share: The share of the period's total taken as done on ``observed_on``.
        target: The target value the forecast is compared with, if any.
        points: This period's figures used.
        path: Month-end points from the latest figure to the deadline: (date, value, low, high).
        unit: The unit of the figures when it is not the result's own (a growth target's
            forecast is of its flow, in the indicator's unit); None: the result's unit.
        base: For a growth target judged against last year's same period: last year's figure
            at the deadline; ``target`` is then that figure grown by the target rate, and
            `growth` the rate the forecast gives.
    """

    value: float
    low: float
    high: float
    method: ForecastMethod
    basis: str
    basis_en: str
    observed_on: dt.date
    deadline: dt.date
    share: float
    target: float | None = None
    points: tuple[Point, ...] = ()
    path: tuple[tuple[dt.date, float, float, float], ...] = ()
    unit: str | None = None
    base: float | None = None

    @property
    def growth(self) -> float | None:
        """Return the growth of ``value`` over ``base`` as a fraction (None without a base)."""
        if self.base is None or not self.base > 0:
            return None
        return self.value / self.base - 1

    @property
    def completion(self) -> float | None:
        """Return the forecast as a fraction of the target (None without a nonzero target)."""
        if self.target is None or self.target == 0 or math.isnan(self.target):
            return None
        return self.value / self.target

    def falls_short(self, *, lower_is_better: bool = False) -> bool:
        """Return whether the forecast misses the target (exceeds it, for a cap)."""
        if self.target is None or math.isnan(self.target):
            return False
        return self.value > self.target if lower_is_better else self.value < self.target

    def sentence(self, unit: str = "", lang: str = "zh") -> str:
        """Return the forecast in one sentence, in Chinese (``zh``) or English (``en``).

        ``unit`` is the result's; a forecast with a `unit` of its own uses that one.
        """
        unit = self.unit if self.unit is not None else unit
        value, low, high = qty(self.value, unit), fmt(self.low), qty(self.high, unit)
        done, growth = self.completion, self.growth
        if lang == "en":
            part = f"{100 * done:.1f}% of the target, " if done is not None else ""
            rate = f", {100 * growth:+.1f}% on last year" if growth is not None else ""
            return (
                f"at the current pace the year should end at {value}{rate} ({part}range "
                f"{low}–{high}; {self.basis_en})"
            )
        part = f"完成年度目标的{100 * done:.1f}%，" if done is not None else ""
        rate = f"，同比增长 {100 * growth:.1f}%" if growth is not None else ""
        return f"按当前进度，预计全年完成 {value}{rate}（{part}区间 {low}–{high}；{self.basis}）"

    def as_dict(self) -> dict[str, Any]:
        """Return the forecast as JSON-ready values (the ``forecast`` object of the JSON)."""
        done = self.completion
        return {
            "value": round(self.value, 6),
            "completion": None if done is None else round(done, 6),
            "low": round(self.low, 6),
            "high": round(self.high, 6),
            "method": self.method.value,
            "basis": self.basis,
            "basis_en": self.basis_en,
            "observed_on": self.observed_on.isoformat(),
            "unit": self.unit,
            "growth": None if self.growth is None else round(self.growth, 6),
        }


def _shifted(day: dt.date, years: int) -> dt.date:
    """Return the same day ``years`` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _interpolate(points: Sequence[Point], day: dt.date) -> float | None:
    """Return the value on ``day`` on the line through ``points`` (sorted), or None outside."""
    for (d0, v0), (d1, v1) in itertools.pairwise(points):
        if d0 <= day <= d1:
            span = (d1 - d0).days
            return v1 if span == 0 else v0 + (v1 - v0) * (day - d0).days / span
    if points and points[-1][0] == day:
        return points[-1][1]
    return None


def profile_share(
    past: Sequence[Point], *, start: dt.date, end: dt.date, on: dt.date, years_back: int = 1
) -> float | None:
    """Return the share of an earlier period's total done by the same day of its year.

    Args:
        past: Cumulative figures of earlier periods, each counted from zero at its own start.
        start: First day of this period.
        end: Last day of this period (the deadline).
        on: The day in this period.
        years_back: Which earlier period: 1 for last year.

    Returns:
        The earlier period's figure on the day ``years_back`` years before ``on``, divided by its
        figure on its last day, linear between two of its figures; None when it has no figure
        on its last day, no figures on both sides of the day, or a total that is not positive.
    """
    curve = _profile(past, start, end, years_back)
    return None if curve is None else curve(on)


def _profile(
    past: Sequence[Point], start: dt.date, end: dt.date, years_back: int
) -> Callable[[dt.date], float | None] | None:
    """Return the share curve of the earlier period ``years_back`` (None without its total)."""
    s, e = _shifted(start, years_back), _shifted(end, years_back)
    own = sorted((day, v) for day, v in past if s <= day <= e)
    total = dict(own).get(e)
    if total is None or not total > 0:
        return None

    def share(on: dt.date) -> float | None:
        # only the earlier period's own figures count: a share made up between its opening
        # zero and its year total would be a straight line passed off as a profile
        part = _interpolate(own, _shifted(on, years_back))
        return None if part is None else part / total

    return share


@functools.lru_cache(maxsize=4096)
def _month_ends(after: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    """Return the month ends strictly between ``after`` and ``end``, then ``end``."""
    days: list[dt.date] = []
    year, month = after.year, after.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        month_end = dt.date(year, month, 1) - dt.timedelta(days=1)
        if month_end >= end:
            return (*days, end)
        if month_end > after:
            days.append(month_end)


def _steps(
    curve: Sequence[tuple[dt.date, float | None]], share: float, end: dt.date
) -> tuple[tuple[dt.date, float], ...]:
    """Return each month end's share of the way from the latest figure to the forecast.

    ``curve`` gives the expected share done at each month end after the latest figure (None
    where unknown: no move); the deadline is the whole way.
    """
    out = []
    for day, known in curve:
        g = 1.0 if day >= end else (known or share)
        f = 1.0 if share >= 1 else max(0.0, min(1.0, (g - share) / (1 - share)))
        out.append((day, f))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _run_rate_steps(
    pace: Pace, start: dt.date, end: dt.date, on: dt.date
) -> tuple[tuple[dt.date, float], ...]:
    """`_steps` along the pace curve: the same for every target of a period and a date."""
    share = expected_progress(pace, start, end, on) or 0.0
    return _steps(
        [(d, expected_progress(pace, start, end, d)) for d in _month_ends(on, end)], share, end
    )


def forecast_series(
    points: Sequence[Point],
    *,
    start: dt.date,
    end: dt.date,
    pace: Pace | None = None,
    past: Sequence[Point] = (),
    target: float | None = None,
) -> Forecast | None:
    """Return the forecast at ``end`` of a cumulative figure, or None without a figure.

    Args:
        points: This period's cumulative figures (date, value), counted from zero at ``start``;
            any order. Figures dated outside [start, end] are ignored.
        start: First day of the period.
        end: The deadline forecast.
        pace: The pace curve of the plan (months when None or ``none``).
        past: Earlier periods' cumulative figures (last year's 1–N月 and its year total, and
            earlier years'), each counted from zero at its own start. With last year's total and
            its figure at the same month the ``profile`` method is used.
        target: The target value, for ``completion``.

    Returns:
        A `Forecast`, or None when no figure is dated within the period (or the only figures
        fall where the pace expects nothing yet). Figures that are NaN are ignored.

    Raises:
        ValueError: When ``end`` is before ``start``.
    """
    if end < start:
        raise ValueError(
            f"forecast period: end {end.isoformat()} is before start {start.isoformat()}; "
            "give the period's first day as start and the deadline as end"
        )
    ours = sorted((d, float(v)) for d, v in points if start <= d <= end and not math.isnan(v))
    if not ours:
        return None
    on, now = ours[-1]
    if on >= end:
        return Forecast(
            value=now,
            low=now,
            high=now,
            method=ForecastMethod.FINAL,
            basis="期末数据",
            basis_en="the figure at the deadline",
            observed_on=on,
            deadline=end,
            share=1.0,
            target=target,
            points=tuple(ours),
        )
    rising = all(b >= a for (_, a), (_, b) in itertools.pairwise(ours)) and now >= 0

    # the earlier periods the figures reach back to (none: the run rate, without looking)
    back = min(10, start.year - min(d.year for d, _ in past)) if past else 0
    profiles = [(k, c) for k in range(1, back + 1) if (c := _profile(past, start, end, k))]
    years = [(k, found) for k, c in profiles if (found := c(on))]
    estimates: list[float] = []
    if years:
        method = ForecastMethod.PROFILE
        first, share = years[0]
        curve = dict(profiles)[first]
        value = now / share
        estimates.extend(now / found for _, found in years)
        for d, v in ours[:-1]:
            earlier = curve(d)
            if earlier:
                estimates.append(v / earlier)
        year = _shifted(on, first).year
        basis = f"{year}年同期进度 {100 * share:.1f}%"
        basis_en = f"{year}'s profile: {100 * share:.1f}% done by the same day"
        margin = PROFILE_MARGIN
        steps = _steps([(day, curve(day)) for day in _month_ends(on, end)], share, end)
    else:
        method = ForecastMethod.RUN_RATE
        use = pace if pace is not None and pace.method is not PaceMethod.NONE else Pace()
        share = expected_progress(use, start, end, on) or 0.0
        if share <= 0:
            return None
        value = now / share
        estimates.append(value)
        for d, v in ours[:-1]:
            earlier = expected_progress(use, start, end, d) or 0.0
            if earlier < share:
                estimates.append(now + (now - v) / (share - earlier) * (1 - share))
        basis = f"序时进度 {100 * share:.1f}%"
        basis_en = f"run rate: {100 * share:.1f}% of the period elapsed"
        margin = RUN_RATE_MARGIN
        steps = _run_rate_steps(use, start, end, on)
    width = margin * (1 - share) * (1 + 1 / len(estimates))
    low = min([*estimates, value * (1 - width) if value >= 0 else value * (1 + width)])
    high = max([*estimates, value * (1 + width) if value >= 0 else value * (1 - width)])
    if rising:
        low = max(low, now)
    up, down, top = value - now, low - now, high - now
    path = tuple((day, now + up * f, now + down * f, now + top * f) for day, f in steps)
    return Forecast(
        value=value,
        low=low,
        high=high,
        method=method,
        basis=basis,
        basis_en=basis_en,
        observed_on=on,
        deadline=end,
        share=share,
        target=target,
        points=tuple(ours),
        path=path,
    )


def plot_forecast(forecast: Forecast, **options: Any) -> Figure:
    """Draw the figures, the forecast path and its interval (`targetkit.charts`).

    Needs matplotlib (``pip install 'targetkit[plots]'``); the figure shows itself in Jupyter.
    Options (``title``, ``unit``, ``lang``, ``font``) are those of
    `targetkit.charts.plot_forecast`.
    """
    import importlib  # noqa: PLC0415 - the renderer is an edge module the core never imports

    draw = importlib.import_module("targetkit.render.charts").plot_forecast
    figure: Figure = draw(forecast, **options)
    return figure
