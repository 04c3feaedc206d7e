"""Expected progress (序时进度) at a date: the share of the period that should be done.

All functions are pure and work on `datetime.date`. ``expected_progress`` returns a fraction in
0..1, or None for the ``none`` method (not pro-rated).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools

from targetkit.model import Pace, PaceMethod

__all__ = ["completed_months", "expected_progress", "months_in_period"]


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
