"""Expected progress (序时进度): months, days, schedules, none — worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetkit.model import Pace, PaceMethod
from targetkit.pace import completed_months, expected_progress, months_in_period

D = dt.date
START, END = D(2023, 1, 1), D(2023, 12, 31)
MONTHS = Pace(method=PaceMethod.MONTHS)


@pytest.mark.parametrize(
    ("on", "months"),
    [
        (D(2023, 5, 31), 5),  # a month's last day completes it
        (D(2023, 6, 20), 5),  # mid-June: only five whole months
        (D(2023, 6, 30), 6),
        (D(2023, 1, 30), 0),
        (D(2023, 12, 31), 12),
        (D(2023, 2, 28), 2),
    ],
)
def test_completed_months(on: dt.date, months: int) -> None:
    assert completed_months(START, END, on) == months


def test_month_pace_is_months_over_twelve() -> None:
    assert expected_progress(MONTHS, START, END, D(2023, 5, 31)) == pytest.approx(5 / 12)
    assert expected_progress(MONTHS, START, END, D(2023, 6, 20)) == pytest.approx(5 / 12)
    assert expected_progress(MONTHS, START, END, D(2023, 3, 31)) == pytest.approx(1 / 4)  # q/4


def test_month_pace_over_a_half_year_deadline() -> None:
    # a target due at mid-year: months elapsed over six months
    assert months_in_period(START, D(2023, 6, 30)) == 6
    assert expected_progress(MONTHS, START, D(2023, 6, 30), D(2023, 3, 31)) == pytest.approx(0.5)


def test_day_pace_counts_days_inclusive() -> None:
    days = Pace(method=PaceMethod.DAYS)
    assert expected_progress(days, START, END, D(2023, 1, 1)) == pytest.approx(1 / 365)
    assert expected_progress(days, START, END, D(2023, 3, 31)) == pytest.approx(90 / 365)


def test_schedule_interpolates_linearly_between_points() -> None:
    pace = Pace(
        method=PaceMethod.SCHEDULE,
        points=((D(2023, 3, 31), 0.10), (D(2023, 6, 30), 0.35), (D(2023, 9, 30), 0.60)),
    )
    assert expected_progress(pace, START, END, D(2023, 6, 30)) == pytest.approx(0.35)
    # 2023-05-15 is 45 of the 91 days between 03-31 and 06-30
    assert expected_progress(pace, START, END, D(2023, 5, 15)) == pytest.approx(
        0.10 + 0.25 * 45 / 91
    )
    # after the last point the curve runs to 100% on the last day: 2023-11-15 is 46 of 92 days
    assert expected_progress(pace, START, END, D(2023, 11, 15)) == pytest.approx(
        0.60 + 0.40 * 46 / 92
    )
    # before the first point it starts from 0 on 2022-12-31: 2023-02-14 is 45 of 90 days
    assert expected_progress(pace, START, END, D(2023, 2, 14)) == pytest.approx(0.10 * 45 / 90)


def test_none_is_not_pro_rated() -> None:
    assert expected_progress(Pace(method=PaceMethod.NONE), START, END, D(2023, 6, 30)) is None


def test_bad_schedules_are_rejected() -> None:
    with pytest.raises(ValueError, match="increasing dates"):
        Pace(method=PaceMethod.SCHEDULE, points=((D(2023, 6, 30), 0.5), (D(2023, 3, 31), 0.6)))
    with pytest.raises(ValueError, match="non-decreasing"):
        Pace(method=PaceMethod.SCHEDULE, points=((D(2023, 3, 31), 0.5), (D(2023, 6, 30), 0.4)))
    with pytest.raises(ValueError, match="takes no points"):
        Pace(method=PaceMethod.MONTHS, points=((D(2023, 3, 31), 0.5),))


@given(
    st.sampled_from([PaceMethod.MONTHS, PaceMethod.DAYS]),
    st.dates(min_value=D(2022, 6, 1), max_value=D(2024, 6, 1)),
    st.dates(min_value=D(2022, 6, 1), max_value=D(2024, 6, 1)),
)
def test_pace_is_monotone_and_bounded(method: PaceMethod, a: dt.date, b: dt.date) -> None:
    pace = Pace(method=method)
    early, late = sorted((a, b))
    e1 = expected_progress(pace, START, END, early)
    e2 = expected_progress(pace, START, END, late)
    assert e1 is not None
    assert e2 is not None
    assert 0.0 <= e1 <= e2 <= 1.0
