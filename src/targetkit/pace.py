"""Expected progress (序时进度) at a date: the share of the period that should be done.

All functions are pure and work on `datetime.date`. ``expected_progress`` returns a fraction in
0..1, or None for the ``none`` method (not pro-rated).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools

import attrs

__all__ = ["Pace", "PaceMethod", "completed_months", "expected_progress", "months_in_period"]


class PaceMethod(enum.StrEnum):
    """How expected progress (序时进度) grows through the period."""

    MONTHS = "months"
    DAYS = "days"
    SCHEDULE = "schedule"
    NONE = "none"


@attrs.frozen(kw_only=True, cache_hash=True)
class Pace:
    """Expected progress over a period: months (default), days, a schedule, or none.

    ``points`` (schedule only) are (date, fraction) pairs, fractions in 0..1, non-decreasing; the
    curve starts at 0 the day before the period and ends at 1 on its last day, linear in between.
    """

    method: PaceMethod = PaceMethod.MONTHS
    points: tuple[tuple[dt.date, float], ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.method is PaceMethod.SCHEDULE:
            if not self.points:
                raise ValueError("a schedule pace needs at least one point")
            dates = [d for d, _ in self.points]
            fractions = [f for _, f in self.points]
            if dates != sorted(set(dates)):
                raise ValueError("schedule points must have increasing dates")
            if any(not 0.0 <= f <= 1.0 for f in fractions) or fractions != sorted(fractions):
                raise ValueError("schedule progress must be non-decreasing between 0% and 100%")
        elif self.points:
            raise ValueError(f"pace {self.method.value!r} takes no points")


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


@functools.lru_cache(maxsize=1024)
def _month_ends(start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    """Return the last days of the months that end within [start, end]."""
    ends = []
    year, month = start.year, start.month
    while True:
        last = _month_end(year, month)
        if last > end:
            break
        if last >= start:
            ends.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(ends)


def months_in_period(start: dt.date, end: dt.date) -> int:
    """Return how many whole months the period holds (12 for a calendar year)."""
    return max(len(_month_ends(start, end)), 1)


def completed_months(start: dt.date, end: dt.date, on: dt.date) -> int:
    """Return the whole months of the period completed on date ``on``.

    A date on a month's last day completes that month: 2023-05-31 → 5, 2023-06-20 → 5.
    """
    return sum(1 for last in _month_ends(start, end) if last <= on)


@functools.lru_cache(maxsize=65536)
def expected_progress(pace: Pace, start: dt.date, end: dt.date, on: dt.date) -> float | None:
    """Return the fraction of the period [start, end] expected done on ``on``, or None.

    Args:
        pace: The pace method (and schedule points).
        start: First day of the period.
        end: Last day of the period (the target's deadline).
        on: The date of the observation being judged (not the as-of date).
    """
    if pace.method is PaceMethod.NONE:
        return None
    if on >= end:
        return 1.0
    if on < start:
        return 0.0
    if pace.method is PaceMethod.MONTHS:
        return completed_months(start, end, on) / months_in_period(start, end)
    if pace.method is PaceMethod.DAYS:
        return ((on - start).days + 1) / ((end - start).days + 1)
    # schedule: linear between (start - 1 day, 0), the user's points, and (end, 1)
    points = [(start - dt.timedelta(days=1), 0.0), *pace.points]
    if points[-1][0] < end:
        points.append((end, 1.0))
    for (d0, f0), (d1, f1) in itertools.pairwise(points):
        if d0 <= on <= d1:
            span = (d1 - d0).days
            return f0 if span == 0 else f0 + (f1 - f0) * (on - d0).days / span
    return points[-1][1]
