"""How each target got where it is: its judged values over time, with the pace curve and target.

A `Trajectory` holds, for one target, a point per observation date up to the as-of date (the
value the target is judged on, in the target's unit, and the status it had then), the expected
progress curve (序时进度) over the period, the target value and the baseline. Charts and reports
draw from it; nothing here draws.

Points are computed by judging the target again at each observation date, from the rows visible
at the evaluation's as-of date (latest revision per date, DESIGN § Actuals). Every rule kind,
shares and net increases included, is thus plotted in the terms it is judged in. A point shows
what is known now about that date, not what was known then: a revised figure replaces the first
estimate everywhere.

Pure: no file, clock or environment is read.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
import pandas as pd

from targetkit.actuals import Actuals
from targetkit.evaluation import (
    CompiledPlan,
    Evaluation,
    SortedActuals,
    TargetResult,
    compile_plan,
    evaluate,
)
from targetkit.model import PaceMethod, Plan, Status, Target
from targetkit.pace import Pace, expected_progress
from targetkit.rules import kind_of

__all__ = ["Trajectory", "TrajectoryPoint", "pace_curve", "trajectories", "visible_rows"]


@attrs.frozen(kw_only=True)
class TrajectoryPoint:
    """The target as judged on one observation date, from the figures known at the as-of date.

    ``actual`` is in the target's unit (for a net increase, the increase; for a share, the share).
    ``completion`` and ``expected`` are fractions; ``gap_pp`` is in percentage points.
    """

    date: dt.date
    actual: float
    status: Status
    completion: float | None = None
    expected: float | None = None
    gap_pp: float | None = None


@attrs.frozen(kw_only=True)
class Trajectory:
    """One target's path through the period.

    Attributes:
        pace: Vertices (date, expected fraction 0..1) of the expected-progress curve from the day
            before the period starts to the deadline; empty when the target is not pro-rated.
            Multiply by ``target_value`` for the expected value in the target's unit.
        lower_is_better: True for ranks and caps, where the value should stay at or below target.
        from_zero: True for flows and stocks counted up from zero through the period (a chart's
            value axis starts at zero); False for levels such as shares and ranks.
        baseline: The level at the period's start, in the terms of ``points``; None where the
            judged value is itself a change (net increase, growth) or there is no baseline.
        done_on: For a milestone, the date it was done (None while not done).
        milestone: The target is done or not done (no values to draw).
        ordinal: The value is a position, 1 the best (a rank): whole numbers, 1 on top.
    """

    target: str
    title: str
    rule_kind: str
    unit: str
    start: dt.date
    deadline: dt.date
    as_of: dt.date
    status: Status
    target_value: float | None = None
    baseline: float | None = None
    points: tuple[TrajectoryPoint, ...] = ()
    pace: tuple[tuple[dt.date, float], ...] = ()
    lower_is_better: bool = False
    from_zero: bool = False
    done_on: dt.date | None = None
    milestone: bool = False
    ordinal: bool = False

    @property
    def is_milestone(self) -> bool:
        """Return True when the target is a milestone (done or not done)."""
        return self.milestone

    def pace_value(self, fraction: float) -> float | None:
        """Return the expected value in the target's unit for an expected fraction, if any."""
        return None if self.target_value is None else fraction * self.target_value


def visible_rows(actuals: Actuals, as_of: dt.date) -> pd.DataFrame:
    """Return the rows of ``actuals`` visible at ``as_of``: one per indicator, stage and date.

    A row is visible when it is dated on or before ``as_of`` and reported on or before it (when
    ``reported_at`` is given); among revisions of the same date the latest ``reported_at`` wins,
    a revision with a date beating one without (DESIGN § Actuals). Sorted by indicator, date, stage.
    """
    frame = actuals.frame
    if frame.empty:
        return frame
    cutoff = pd.Timestamp(as_of)
    shown = (frame["date"] <= cutoff) & ~(frame["reported_at"] > cutoff)
    rows = frame.loc[shown]
    rows = rows.sort_values(
        ["indicator", "date", "stage", "reported_at", "value"],
        na_position="first",
        kind="mergesort",
    )
    return rows.drop_duplicates(["indicator", "stage", "date"], keep="last")


def pace_curve(plan: Plan, target: Target) -> tuple[tuple[dt.date, float], ...]:
    """Return the vertices (date, fraction) of the target's expected-progress curve.

    The curve runs from the day before the period starts (0) to the deadline (1). A ``months``
    pace is a staircase (a step on each month's last day), ``days`` a straight line, a
    ``schedule`` its points. Empty for ``none``.
    """
    pace = plan.pace_of(target)
    if pace.method is PaceMethod.NONE:
        return ()
    return _curve(pace, plan.start, plan.deadline_of(target))


@functools.lru_cache(maxsize=1024)
def _curve(pace: Pace, start: dt.date, deadline: dt.date) -> tuple[tuple[dt.date, float], ...]:
    """Return the vertices of one pace curve (targets sharing pace and deadline share it)."""
    first = start - dt.timedelta(days=1)
    days = [first + dt.timedelta(days=i) for i in range((deadline - first).days + 1)]
    values = [expected_progress(pace, start, deadline, d) or 0.0 for d in days]
    keep = [0]
    for i in range(1, len(days) - 1):
        before, after = values[i] - values[i - 1], values[i + 1] - values[i]
        if not math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-12):
            keep.append(i)
    if len(days) > 1:
        keep.append(len(days) - 1)
    return tuple((days[i], values[i]) for i in keep)


def _counts_up(plan: Plan, target: Target) -> bool:
    """Return True when the target's judged value is a flow or stock growing from zero."""
    ids = target.rule.indicator_ids()
    if len(ids) != 1:
        return False
    return plan.indicator(ids[0]).kind in kind_of(target.rule).display.counts_up_on


def _is_paced(plan: Plan, target: Target, points: Iterable[TrajectoryPoint]) -> bool:
    if plan.pace_of(target).method is PaceMethod.NONE:
        return False
    return any(p.expected is not None for p in points) or _counts_up(plan, target)


def _point(result: TargetResult) -> TrajectoryPoint | None:
    return _point_of(
        result.status,
        result.actual,
        result.observed_on,
        result.completion,
        result.expected,
        result.gap_pp,
    )


def _point_of(
    status: Status,
    actual: float | None,
    observed: dt.date | None,
    completion: float | None,
    expected: float | None,
    gap_pp: float | None,
) -> TrajectoryPoint | None:
    if actual is None or observed is None or status is Status.NO_DATA:
        return None
    return TrajectoryPoint(
        date=observed,
        actual=actual,
        status=status,
        completion=completion,
        expected=expected,
        gap_pp=gap_pp,
    )


def _number(value: Any) -> float | None:
    """Return a frame cell as a float, None for NaN (a figure the judgement did not have)."""
    return None if value is None or math.isnan(value) else float(value)


def _build(
    plan: Plan, result: TargetResult, as_of: dt.date, points: tuple[TrajectoryPoint, ...]
) -> Trajectory:
    target = plan.target(result.target)
    display = kind_of(target.rule).display
    milestone = display.done_or_not
    done = milestone and result.completion == 1.0 and result.observed_on is not None
    return Trajectory(
        target=result.target,
        title=result.title,
        rule_kind=result.rule_kind,
        unit=result.unit,
        start=plan.start,
        deadline=result.deadline,
        as_of=as_of,
        status=result.status,
        target_value=result.target_value,
        baseline=result.baseline if display.baseline_comparable else None,
        points=() if milestone else points,
        pace=() if milestone or not _is_paced(plan, target, points) else pace_curve(plan, target),
        lower_is_better=display.lower_is_better,
        from_zero=not milestone and _counts_up(plan, target),
        done_on=result.observed_on if done else None,
        milestone=milestone,
        ordinal=display.ordinal,
    )


def trajectories(evaluation: Evaluation, actuals: Actuals | None = None) -> dict[str, Trajectory]:
    """Return every target's trajectory, keyed by target id, in plan order.

    Args:
        evaluation: The evaluation whose plan and as-of date set the scene.
        actuals: The observations the evaluation was made from. Without them each trajectory
            holds only the point the evaluation itself judged.

    Returns:
        One `Trajectory` per result of ``evaluation``.
    """
    plan, as_of = evaluation.plan, evaluation.as_of
    if actuals is None:
        return {
            r.target: _build(plan, r, as_of, tuple(p for p in (_point(r),) if p is not None))
            for r in evaluation.results
        }
    rows = visible_rows(actuals, as_of)
    # Every visible row is now final for this picture: a later evaluation date must not bring
    # back a first estimate that a revision replaced, so the report date's selection is frozen.
    unknown = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[s]")
    frozen = Actuals(rows.assign(reported_at=unknown))
    dates_of: dict[str, set[dt.date]] = {}
    if not rows.empty:
        # one (indicator, day) pair each; numpy days become `date`s in one call
        pairs = pd.DataFrame(
            {
                "indicator": rows["indicator"].to_numpy(dtype=object),
                "day": rows["date"].to_numpy().astype("datetime64[D]"),
            }
        ).drop_duplicates()
        for indicator, date in zip(
            pairs["indicator"].tolist(),
            pairs["day"].to_numpy().astype("datetime64[D]").tolist(),
            strict=True,
        ):
            dates_of.setdefault(str(indicator), set()).add(date)
    wanted: dict[str, set[dt.date]] = {}
    for target in plan.targets:
        wanted[target.id] = {
            d
            for ref in target.rule.indicator_ids()
            for d in dates_of.get(ref, ())
            if plan.start <= d <= as_of
        }
    points: dict[str, list[TrajectoryPoint]] = {t.id: [] for t in plan.targets}
    whole: tuple[CompiledPlan, SortedActuals] | None = None
    for date in sorted(set().union(*wanted.values()) if wanted else set()):
        due = tuple(t for t in plan.targets if date in wanted[t.id])
        if 4 * len(due) >= len(plan.targets):
            # most targets have a figure on this date: judge the whole plan, compiled and
            # sorted once for every such date
            if whole is None:
                compiled = compile_plan(plan)
                whole = (compiled, compiled.sort(frozen))
            judged = evaluate(whole[0], whole[1], as_of=date)
        else:
            # a few: judge only them, so that the work grows with the points drawn
            judged = evaluate(attrs.evolve(plan, targets=due), frozen, as_of=date)
        chosen = {t.id for t in due}
        # the judged numbers are all a point needs: no sentences, evidence or forecasts
        table = judged.to_frame(messages=False, forecasts=False)
        whole_rows = table["scope"].isna().to_numpy()
        texts = {
            c: table[c].to_numpy(dtype=object)[whole_rows].tolist()
            for c in ("target", "status", "observed_on")
        }
        numbers = {
            c: table[c].to_numpy(dtype=np.float64)[whole_rows].tolist()
            for c in ("actual", "completion", "expected", "gap_pp")
        }
        for k, target_id in enumerate(texts["target"]):
            if target_id not in chosen:
                continue
            observed = texts["observed_on"][k]
            point = _point_of(
                Status(str(texts["status"][k])),
                _number(numbers["actual"][k]),
                observed if isinstance(observed, dt.date) else None,
                _number(numbers["completion"][k]),
                _number(numbers["expected"][k]),
                _number(numbers["gap_pp"][k]),
            )
            # A result judged on an older date (a share whose denominator is not in yet) adds
            # nothing new on this date.
            if point is not None and point.date == date:
                points[str(target_id)].append(point)
    return {
        r.target: _build(plan, r, as_of, tuple(points.get(r.target, ())))
        for r in evaluation.results
    }
