"""The milestone kind: 出台, 立项, 动工, 验收 … by the deadline, optionally in stages.

An actuals row with value ``done`` (or 1/true) records completion on its date; with stages, a row
whose value is a stage id records that stage. A milestone is done from the first row of its
latest unbroken run of done rows (a later "0" row undoes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

import attrs
import numpy as np

from targetkit.model import IndicatorKind, Plan, Stage
from targetkit.rules._base import (
    BEHIND,
    FROM_TARGET,
    MET,
    MISSED,
    NAT,
    ON_TRACK,
    Batch,
    Display,
    Drafting,
    DraftRole,
    Field,
    FieldType,
    Ints,
    Kind,
    Observations,
    Row,
    Shown,
    Verdicts,
    codes_of,
    day_of,
    ref_problems,
)

__all__ = ["MILESTONE", "Milestone"]

# sentence forms: the low three bits; bit 3 an overdue (not merely due) stage; bits 4+ the stage
_DONE, _DONE_LATE, _PASSED, _DUE_SOON, _NOT_DUE = 1, 2, 3, 4, 5
_OVERDUE = 8


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


def _done_on(obs: Observations, code: int, stage: str) -> tuple[int, int]:
    """Return (day, row) from which (a stage of) a milestone is done and still done, or NAT."""
    at = np.flatnonzero((obs.codes == code) & (obs.stages == stage))
    if not len(at) or obs.values[at[-1]] < 0.5:
        return NAT, -1
    first = at[-1]
    for i in at[::-1].tolist():
        if obs.values[i] < 0.5:
            break
        first = i
    return int(obs.days[first]), int(obs.rows[first])


class MilestoneKind(Kind[Milestone]):
    """The ``milestone`` kind."""

    name = "milestone"
    rule_class = Milestone
    doc = "done on or before the deadline (出台, 立项, 动工, 验收 …), optionally in stages"
    fields = (
        Field(
            name="indicator",
            type=FieldType.INDICATOR,
            default=FROM_TARGET,
            kinds=(IndicatorKind.MILESTONE,),
            doc="the milestone indicator (default: one named after the target)",
        ),
        Field(name="stages", type=FieldType.STAGES, default=(), doc="stages with their due dates"),
    )
    display = Display(done_or_not=True)
    drafting = Drafting(slug="milestone_{label}", role=DraftRole.STEPS)

    def check(self, rule: Milestone, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [*ref_problems(plan, "indicator", rule.indicator)]
        ids = [s.id for s in rule.stages]
        if len(set(ids)) != len(ids):
            out.append(("stages", "stage ids repeat", "give each stage its own id"))
        dues = [s.due for s in rule.stages]
        if dues != sorted(dues):
            out.append(
                ("stages", "stages are not in order of their due dates", "list them in order")
            )
        return out

    def prepare(self, plan: Plan, rules: Sequence[Milestone]) -> tuple[Ints, Ints]:
        codes = codes_of(plan, [r.indicator_ids()[0] for r in rules])
        staged = np.flatnonzero([bool(getattr(r, "stages", ())) for r in rules]).astype(np.int64)
        return codes, staged

    def judge(self, batch: Batch) -> Verdicts:
        codes, staged = batch.prepared
        obs = batch.obs
        n = len(batch)
        v = Verdicts(n)
        v.target_value[:] = 1.0
        # per indicator: the latest plain row's value, the last not-done day, done days after it
        n_ind = len(batch.plan.indicators)
        plain = obs.plain
        c, d, x, r = obs.codes[plain], obs.days[plain], obs.values[plain], obs.rows[plain]
        latest_done = np.zeros(n_ind, dtype=bool)
        # rows are in date order per indicator, so each code's last plain row is its latest
        last = np.flatnonzero(np.r_[c[1:] != c[:-1], True]) if len(c) else np.zeros(0, np.int64)
        latest_done[c[last]] = x[last] >= 0.5
        last_not_done = np.full(n_ind, NAT, dtype=np.int64)
        not_done = x < 0.5
        np.maximum.at(last_not_done, c[not_done], d[not_done])
        after = np.flatnonzero((x >= 0.5) & (d > last_not_done[c]))
        # the first done row after the last not-done one (rows are sorted by day per code)
        first_day = np.full(n_ind, NAT, dtype=np.int64)
        first_row = np.full(n_ind, -1, dtype=np.int64)
        code, first = np.unique(c[after], return_index=True)
        first_day[code], first_row[code] = d[after][first], r[after][first]
        done = latest_done[codes]
        done_day = np.where(done, first_day[codes], NAT)
        done_row = np.where(done, first_row[codes], -1)
        deadline, day = batch.deadline, batch.day
        form = np.select(
            [done & (done_day <= deadline), done, day > deadline, day + batch.warning >= deadline],
            [_DONE, _DONE_LATE, _PASSED, _DUE_SOON],
            _NOT_DUE,
        ).astype(np.int16)
        completion = np.where(done, 1.0, 0.0)
        n_stages = max((len(batch.rules[i].stages) for i in staged.tolist()), default=0)
        stage_cols = np.full((n_stages, n), -1, dtype=np.int64)
        for i in staged.tolist():
            rule: Milestone = batch.rules[i]
            ind = int(codes[i])
            stage_done = [_done_on(obs, ind, s.id) for s in rule.stages]
            n_done = sum(1 for sd, _ in stage_done if sd != NAT)
            for k, (_, srow) in enumerate(stage_done):
                stage_cols[k, i] = srow
            if not done[i] and n_done == len(rule.stages):
                best = max(range(len(stage_done)), key=lambda k: stage_done[k][0])
                done[i] = True
                done_day[i] = stage_done[best][0]
                done_row[i] = -1  # already cited among the stages
                form[i] = _DONE if done_day[i] <= deadline[i] else _DONE_LATE
            if done[i]:
                completion[i] = 1.0
                continue
            completion[i] = n_done / len(rule.stages)
            if form[i] != _NOT_DUE:
                continue
            window = int(batch.warning[i])
            for k, stage in enumerate(rule.stages):
                if stage_done[k][0] != NAT:
                    continue
                due = day_of(stage.due)
                if day > due:
                    form[i] = _DUE_SOON + _OVERDUE + 16 * (k + 1)
                    break
                if day + window >= due:
                    form[i] = _DUE_SOON + 16 * (k + 1)
                    break
        v.status[:] = np.select(
            [form == _DONE, (form == _DONE_LATE) | (form == _PASSED), form == _NOT_DUE],
            [MET, MISSED, ON_TRACK],
            BEHIND,
        )
        v.actual[:] = np.where(done, 1.0, 0.0)
        v.completion[:] = completion
        v.observed[:] = done_day
        v.form[:] = form
        v.cite(*stage_cols, done_row)
        return v

    def describe(self, row: Row[Milestone]) -> tuple[str, str]:
        rule = row.rule
        deadline = row.deadline.isoformat()
        form = row.form & 7
        if form in (_DONE, _DONE_LATE):
            assert row.observed is not None  # noqa: S101 - a done milestone has its date
            on = row.observed.isoformat()
            if form == _DONE:
                return f"已于{on}完成", f"done on {on}"
            return (
                f"已于{on}完成，晚于期限{deadline}",
                f"done on {on}, after the deadline {deadline}",
            )
        days_left = (row.deadline - row.as_of).days
        if form == _PASSED:
            zh, en = (
                f"期限{deadline}已过，尚未完成",
                f"not done; the deadline {deadline} has passed",
            )
        elif form == _DUE_SOON and row.form < 16:
            zh = f"尚未完成，距期限{deadline}还有{days_left}天"
            en = f"not done, {days_left} days before the deadline {deadline}"
        else:
            zh, en = f"尚未完成，期限{deadline}", f"not done yet; due {deadline}"
        if row.form >= 16:
            stage = rule.stages[row.form // 16 - 1]
            label, due = stage.name or stage.id, stage.due.isoformat()
            if row.form & _OVERDUE:
                zh += f"；阶段“{label}”已逾期（应于{due}前完成）"
                en += f"; stage '{label}' is overdue (due {due})"
            else:
                zh += f"；阶段“{label}”将于{due}到期"
                en += f"; stage '{label}' is due {due}"
        if rule.stages:
            total = len(rule.stages)
            n_done = round((row.completion or 0.0) * total)
            zh += f"（已完成{n_done}/{total}个阶段）"
            en += f" ({n_done} of {total} stages done)"
        return zh, en

    def show_target(self, shown: Shown) -> str:
        return shown.words["by"].format(date=shown.date(shown.deadline))

    def show_actual(self, shown: Shown) -> str:
        if shown.completion == 1.0 and shown.observed is not None:
            return shown.words["done_on"].format(date=shown.date(shown.observed))
        return shown.words["not_done"]


MILESTONE = MilestoneKind()
KINDS = (MILESTONE,)
