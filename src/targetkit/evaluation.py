"""Evaluation: a plan, its actuals and an as-of date in; a result per target and alerts out.

`evaluate` is pure: it reads no clock, file or environment, and gives the same answer for the same
inputs whatever the order of the actuals' rows.

Selection at as-of T (DESIGN § Actuals): rows dated on or before T and reported on or before T
(when ``reported_at`` is given); per indicator and date the latest ``reported_at`` wins.
"""

from __future__ import annotations

import datetime as dt
import itertools
import weakref
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from targetkit.actuals import Actuals
from targetkit.kernels import NAT, STATUS_ORDER, Lookup, indicator_index, judge_vectorised
from targetkit.model import Light, Plan, Severity, Status
from targetkit.rules import Judgement, Observation, RuleContext, Series

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from targetkit.notebook import Changes

__all__ = ["Alert", "Evaluation", "Evidence", "TargetResult", "evaluate"]


@attrs.frozen(kw_only=True)
class Evidence:
    """One actuals row a result used, as it was written, with where it came from."""

    indicator: str
    date: dt.date
    value: float
    raw_value: str
    unit: str
    reported_at: dt.date | None
    source: str
    note: str
    file: str
    line: int
    stage: str = ""


@attrs.frozen(kw_only=True)
class TargetResult:
    """Where one target stands at the as-of date, with the numbers and rows behind the verdict."""

    target: str
    title: str
    status: Status
    message_zh: str
    message_en: str
    indicators: tuple[str, ...]
    deadline: dt.date
    binding: bool
    owner: str = ""
    rule_kind: str = ""
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
    evidence: tuple[Evidence, ...] = ()

    @property
    def light(self) -> Light:
        """Return the traffic light of the status."""
        return self.status.light

    def message(self, lang: str = "zh") -> str:
        """Return the one-sentence explanation in Chinese (``zh``) or English (``en``)."""
        return self.message_en if lang == "en" else self.message_zh

    def _repr_html_(self) -> str:
        from targetkit.report import notebook_html  # noqa: PLC0415 - report imports this module

        return notebook_html(self)


@attrs.frozen(kw_only=True)
class Alert:
    """A value describing something a person should hear about; sending it is not done here.

    ``kind`` is ``status`` (a target behind, off track or missed) or ``overdue`` (data due and
    not in). ``key`` identifies the alert across runs, for de-duplication.
    """

    key: str
    kind: str
    target: str
    severity: Severity
    status: Status | None
    message_zh: str
    message_en: str
    indicator: str = ""
    owner: str = ""

    def message(self, lang: str = "zh") -> str:
        """Return the alert's text in Chinese (``zh``) or English (``en``)."""
        return self.message_en if lang == "en" else self.message_zh


@attrs.frozen(kw_only=True, eq=False)
class Evaluation:
    """All results of one evaluation, in plan order, and the alerts they raise.

    Statuses and numbers are computed for all targets at once when the evaluation is made; the
    per-target `TargetResult` objects (with their explanations and evidence) and the alerts are
    built the first time they are asked for. ``summary``, ``statuses`` and ``worst_light`` never
    need them, so checking ten thousand targets for the worst light stays cheap.
    """

    plan: Plan
    as_of: dt.date
    _work: _Work = attrs.field(alias="_work", repr=False)

    def __iter__(self) -> Iterator[TargetResult]:
        return iter(self.results)

    def _repr_html_(self) -> str:
        """Show the evaluation in Jupyter: lights, numbers, a progress bar with the pace marker."""
        from targetkit.report import notebook_html  # noqa: PLC0415 - report imports this module

        return notebook_html(self)

    def __len__(self) -> int:
        return len(self.plan.targets)

    @property
    def results(self) -> tuple[TargetResult, ...]:
        """Return one result per target, in plan order."""
        return self._work.results()

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Return the alerts: lagging targets first (plan order), then overdue data."""
        return self._work.alerts()

    @property
    def statuses(self) -> tuple[Status, ...]:
        """Return each target's status, in plan order, without building the results."""
        return tuple(_STATUSES[int(code)] for code in self._work.columns.status)

    def result(self, target_id: str) -> TargetResult:
        """Return the result of one target (KeyError if the plan has no such target)."""
        for i, t in enumerate(self.plan.targets):
            if t.id == target_id:
                return self._work.result(i)
        raise KeyError(target_id)

    @property
    def summary(self) -> dict[str, int]:
        """Return how many targets are in each status (every status listed, zeros included)."""
        counts = np.bincount(self._work.columns.status.astype(np.int64), minlength=len(_STATUSES))
        return {s.value: int(counts[i]) for i, s in enumerate(_STATUSES)}

    @property
    def worst_light(self) -> Light:
        """Return the worst light over all results (grey < green < yellow < red)."""
        lights = {_STATUSES[int(c)].light for c in np.unique(self._work.columns.status)} or {
            Light.GREY
        }
        return max(lights, key=lambda light: light.rank)

    def to_frame(self, *, messages: bool = True) -> pd.DataFrame:
        """Return one tidy row per target: ids, status, light, numbers and (optionally) messages.

        Args:
            messages: Include the Chinese and English explanations. Without them the frame is
                built straight from the computed columns, which is much faster for large plans.
        """
        if not messages:
            return self._work.frame_without_messages()
        rows = [
            {
                "target": r.target,
                "title": r.title,
                "rule": r.rule_kind,
                "status": r.status.value,
                "light": r.light.value,
                "actual": r.actual,
                "unit": r.unit,
                "target_value": r.target_value,
                "completion": r.completion,
                "expected": r.expected,
                "gap_pp": r.gap_pp,
                "observed_on": r.observed_on,
                "deadline": r.deadline,
                "binding": r.binding,
                "owner": r.owner,
                "message_zh": r.message_zh,
                "message_en": r.message_en,
            }
            for r in self.results
        ]
        frame = pd.DataFrame(rows, columns=list(_FRAME_COLUMNS))
        for column in ("actual", "target_value", "completion", "expected", "gap_pp"):
            frame[column] = frame[column].astype("float64")
        return frame

    def to_dict(self, *, lang: str = "zh") -> dict[str, Any]:
        """Return the JSON document of ``targetkit check --format json`` (documented schema).

        ``message`` is in ``lang``; ``message_zh`` and ``message_en`` are always both present.
        """
        return {
            "plan": {"id": self.plan.id, "title": self.plan.title},
            "as_of": self.as_of.isoformat(),
            "lang": lang,
            "results": [_result_dict(r, lang) for r in self.results],
            "alerts": [
                {
                    "key": a.key,
                    "kind": a.kind,
                    "target": a.target,
                    "indicator": a.indicator or None,
                    "severity": a.severity.value,
                    "status": a.status.value if a.status else None,
                    "owner": a.owner or None,
                    "message": a.message(lang),
                    "message_zh": a.message_zh,
                    "message_en": a.message_en,
                }
                for a in self.alerts
            ],
            "summary": self.summary,
            "worst_light": self.worst_light.value,
        }

    def changes(self, previous: Evaluation) -> Changes:
        """Compare with an earlier evaluation of the plan (环比); see `targetkit.notebook.changes`."""
        from targetkit.notebook import changes  # noqa: PLC0415 - notebook imports this module

        return changes(self, previous)

    def styled(self, *, lang: str = "zh") -> Styler:
        """Return a pandas Styler with lights, bars and 序时 ticks; see `targetkit.notebook.styled`."""
        from targetkit.notebook import styled  # noqa: PLC0415 - notebook imports this module

        return styled(self, lang=lang)


_FRAME_COLUMNS = (
    "target",
    "title",
    "rule",
    "status",
    "light",
    "actual",
    "unit",
    "target_value",
    "completion",
    "expected",
    "gap_pp",
    "observed_on",
    "deadline",
    "binding",
    "owner",
    "message_zh",
    "message_en",
)


def _num(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def _result_dict(r: TargetResult, lang: str) -> dict[str, Any]:
    return {
        "target": r.target,
        "title": r.title,
        "rule": r.rule_kind,
        "status": r.status.value,
        "light": r.light.value,
        "actual": _num(r.actual),
        "unit": r.unit,
        "target_value": _num(r.target_value),
        "completion": _num(r.completion),
        "expected": _num(r.expected),
        "gap_pp": _num(r.gap_pp, 4),
        "observed_on": r.observed_on.isoformat() if r.observed_on else None,
        "deadline": r.deadline.isoformat(),
        "binding": r.binding,
        "owner": r.owner or None,
        "baseline": _num(r.baseline),
        "stretch": _num(r.stretch_value),
        "stretch_met": r.stretch_met,
        "message": r.message(lang),
        "message_zh": r.message_zh,
        "message_en": r.message_en,
        "evidence": [
            {
                "indicator": e.indicator,
                "date": e.date.isoformat(),
                "value": e.raw_value,
                "unit": e.unit,
                "reported_at": e.reported_at.isoformat() if e.reported_at else None,
                "source": e.source or None,
                "note": e.note or None,
                "file": e.file,
                "line": e.line,
                **({"stage": e.stage} if e.stage else {}),
            }
            for e in r.evidence
        ],
    }


# --------------------------------------------------------------------------- selection


@attrs.frozen
class _Order:
    """The rows of an actuals table for one plan, sorted once for every as-of date.

    Sorted by the indicator's position in the plan, date, stage, reported_at (NaT first: a
    revision with a reported_at beats a row without one) and value (so that the order of rows
    never matters). Rows of indicators the plan does not declare are left out.
    """

    plan: Plan
    rows: npt.NDArray[np.int64]
    code: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    stage: npt.NDArray[np.int64]
    reported: npt.NDArray[np.int64]


# one sorted order per actuals table, for the plan it was last evaluated with: a notebook that
# evaluates many as-of dates sorts once
_ORDERS: weakref.WeakKeyDictionary[Actuals, _Order] = weakref.WeakKeyDictionary()


def _order(frame: pd.DataFrame, plan: Plan) -> _Order:
    codes = indicator_index(plan).get_indexer(pd.Index(frame["indicator"].to_numpy()))
    known = np.flatnonzero(codes >= 0)
    stage, _ = pd.factorize(frame["stage"].to_numpy()[known])
    day = frame["date"].to_numpy()[known].astype(np.int64)
    reported = frame["reported_at"].to_numpy()[known].astype(np.int64)  # NaT is the smallest
    value = frame["value"].to_numpy()[known]
    code = codes[known].astype(np.int64)
    order = np.lexsort((value, reported, stage, day, code))
    return _Order(
        plan=plan,
        rows=known[order].astype(np.int64),
        code=code[order],
        day=day[order],
        stage=stage[order].astype(np.int64),
        reported=reported[order],
    )


def _sorted(actuals: Actuals | None, frame: pd.DataFrame, plan: Plan) -> _Order:
    if actuals is None:
        return _order(frame, plan)
    cached = _ORDERS.get(actuals)
    if cached is None or cached.plan is not plan:
        cached = _order(frame, plan)
        _ORDERS[actuals] = cached
    return cached


def _select(frame: pd.DataFrame, as_of: dt.date, order: _Order) -> pd.DataFrame:
    """Return the visible rows at ``as_of``, one per (indicator, stage, date), latest revision.

    The result follows ``order`` (plan position, date, stage) and carries the plan position as
    ``code`` and each row's position in ``frame`` as ``row``.
    """
    cutoff = np.datetime64(as_of, "s").astype(np.int64)
    nat = np.iinfo(np.int64).min
    visible = (order.day <= cutoff) & ((order.reported == nat) | (order.reported <= cutoff))
    code, day, stage = order.code[visible], order.day[visible], order.stage[visible]
    last = np.ones(len(code), dtype=bool)
    if len(code) > 1:
        same = (code[1:] == code[:-1]) & (day[1:] == day[:-1]) & (stage[1:] == stage[:-1])
        last[:-1] = ~same
    keep = order.rows[visible][last]
    return pd.DataFrame(
        {
            "indicator": frame["indicator"].to_numpy()[keep],
            "stage": frame["stage"].to_numpy()[keep],
            "date": frame["date"].to_numpy()[keep],
            "value": frame["value"].to_numpy()[keep],
            "row": keep.astype(np.int64),
            "code": code[last],
        }
    )


class _SeriesMap(Mapping[str, Series]):
    """The selected rows as one `Series` per indicator, each built the first time it is read."""

    def __init__(self, selected: pd.DataFrame) -> None:
        self._selected = selected
        self._bounds: dict[str, tuple[int, int]] | None = None
        self._built: dict[str, Series] = {}

    def _index(self) -> dict[str, tuple[int, int]]:
        if self._bounds is None:
            ids = self._selected["indicator"].to_numpy()
            starts = (
                [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist(), len(ids)]
                if len(ids)
                else [0]
            )
            self._bounds = {str(ids[a]): (a, b) for a, b in itertools.pairwise(starts)}
        return self._bounds

    def __getitem__(self, indicator: str) -> Series:
        if indicator not in self._built:
            a, b = self._index()[indicator]
            part = self._selected.iloc[a:b]
            self._built[indicator] = Series(
                indicator=indicator,
                dates=tuple(part["date"].to_numpy().astype("datetime64[D]").astype(object)),
                values=tuple(part["value"].to_numpy().tolist()),
                rows=tuple(part["row"].to_numpy().tolist()),
                stages=tuple(str(x) for x in part["stage"].to_numpy()),
            )
        return self._built[indicator]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())


class _EvidenceTable:
    """Column arrays of the actuals frame, to build `Evidence` for the few rows a result cites."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._cols = {
            c: frame[c].to_numpy() for c in ("raw_value", "unit", "source", "note", "file", "line")
        }
        self._reported = frame["reported_at"].to_numpy().astype("datetime64[D]")

    def evidence(self, obs: Observation) -> Evidence:
        c = self._cols
        i = obs.row
        reported = self._reported[i]
        return Evidence(
            indicator=obs.indicator,
            date=obs.date,
            value=obs.value,
            raw_value=str(c["raw_value"][i]),
            unit=str(c["unit"][i]),
            reported_at=None if np.isnat(reported) else reported.item(),
            source=str(c["source"][i]),
            note=str(c["note"][i]),
            file=str(c["file"][i]),
            line=int(c["line"][i]),
            stage=obs.stage,
        )


# --------------------------------------------------------------------------- evaluate


_STATUSES = tuple(Status(v) for v in STATUS_ORDER)


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


class _Work:
    """What an evaluation computed, and what it builds on demand (results, alerts)."""

    def __init__(self, plan: Plan, as_of: dt.date, frame: pd.DataFrame, order: _Order) -> None:
        self.plan = plan
        self.as_of = as_of
        self.frame = frame
        selected = _select(frame, as_of, order)
        self.series = _SeriesMap(selected)
        self.columns = judge_vectorised(plan, Lookup(plan, selected), as_of)
        self.judgements: dict[int, Judgement] = {}
        # targets without a kernel: judge them now, their verdicts fill the columns
        for i in np.flatnonzero(~self.columns.done).tolist():
            j = self._judge(i)
            self.columns.put(
                np.array([i]),
                status=_STATUSES.index(j.status),
                actual=np.nan if j.actual is None else j.actual,
                target_value=np.nan if j.target_value is None else j.target_value,
                completion=np.nan if j.completion is None else j.completion,
                expected=np.nan if j.expected is None else j.expected,
                gap=np.nan if j.gap_pp is None else j.gap_pp,
                observed=NAT
                if j.observed_on is None
                else (j.observed_on - dt.date(1970, 1, 1)).days,
                baseline=np.nan if j.baseline is None else j.baseline,
                stretch=np.nan if j.stretch_value is None else j.stretch_value,
                stretch_met=-1 if j.stretch_met is None else int(j.stretch_met),
            )
            self.columns.unit[i] = j.unit
        self._results: list[TargetResult | None] = [None] * len(plan.targets)
        self._all: tuple[TargetResult, ...] | None = None
        self._alerts: tuple[Alert, ...] | None = None
        self._evidence: _EvidenceTable | None = None

    def _judge(self, i: int) -> Judgement:
        if i not in self.judgements:
            target = self.plan.targets[i]
            ctx = RuleContext(plan=self.plan, target=target, as_of=self.as_of, series=self.series)
            self.judgements[i] = target.rule.judge(ctx)
        return self.judgements[i]

    def result(self, i: int) -> TargetResult:
        cached = self._results[i]
        if cached is not None:
            return cached
        if self._evidence is None:
            self._evidence = _EvidenceTable(self.frame)
        table = self._evidence
        plan, target, c = self.plan, self.plan.targets[i], self.columns
        j = self._judge(i)  # the explanation and the evidence
        observed = int(c.observed[i])
        met = int(c.stretch_met[i])
        result = TargetResult(
            target=target.id,
            title=target.title,
            status=_STATUSES[int(c.status[i])],
            message_zh=j.message_zh,
            message_en=j.message_en,
            indicators=target.rule.indicator_ids(),
            deadline=plan.deadline_of(target),
            binding=target.binding,
            owner=target.owner,
            rule_kind=target.rule.kind,
            actual=_opt(c.actual[i]),
            unit=c.unit[i],
            target_value=_opt(c.target_value[i]),
            completion=_opt(c.completion[i]),
            expected=_opt(c.expected[i]),
            gap_pp=_opt(c.gap[i]),
            observed_on=None
            if observed == NAT
            else dt.date(1970, 1, 1) + dt.timedelta(days=observed),
            baseline=_opt(c.baseline[i]),
            stretch_value=_opt(c.stretch[i]),
            stretch_met=None if met < 0 else bool(met),
            evidence=tuple(table.evidence(o) for o in j.evidence),
        )
        self._results[i] = result
        return result

    def results(self) -> tuple[TargetResult, ...]:
        if self._all is None:
            self._all = tuple(self.result(i) for i in range(len(self.plan.targets)))
        return self._all

    def alerts(self) -> tuple[Alert, ...]:
        if self._alerts is None:
            alerts: list[Alert] = []
            for i, target in enumerate(self.plan.targets):
                status = _STATUSES[int(self.columns.status[i])]
                severity = self.plan.severity_of(target, status)
                if severity is None:
                    continue
                result = self.result(i)
                alerts.append(
                    Alert(
                        key=f"{target.id}:status",
                        kind="status",
                        target=target.id,
                        severity=severity,
                        status=status,
                        message_zh=f"{target.title}：{status.label_zh}。{result.message_zh}",
                        message_en=f"{target.title}: {status.label_en}. {result.message_en}",
                        owner=target.owner,
                    )
                )
            met = {
                t.id
                for t, code in zip(self.plan.targets, self.columns.status, strict=True)
                if _STATUSES[int(code)] is Status.MET
            }
            alerts.extend(_overdue_alerts(self.plan, self.series, self.as_of, met))
            self._alerts = tuple(alerts)
        return self._alerts

    def frame_without_messages(self) -> pd.DataFrame:
        c, plan = self.columns, self.plan
        observed = c.observed.copy()
        return pd.DataFrame(
            {
                "target": [t.id for t in plan.targets],
                "title": [t.title for t in plan.targets],
                "rule": [t.rule.kind for t in plan.targets],
                "status": np.array(STATUS_ORDER, dtype=object)[c.status.astype(np.int64)],
                "light": [_STATUSES[int(x)].light.value for x in c.status],
                "actual": c.actual,
                "unit": c.unit,
                "target_value": c.target_value,
                "completion": c.completion,
                "expected": c.expected,
                "gap_pp": c.gap,
                "observed_on": [
                    None if d == NAT else dt.date(1970, 1, 1) + dt.timedelta(days=int(d))
                    for d in observed
                ],
                "deadline": [plan.deadline_of(t) for t in plan.targets],
                "binding": [t.binding for t in plan.targets],
                "owner": [t.owner for t in plan.targets],
            }
        )


def evaluate(plan: Plan, actuals: Actuals | None, *, as_of: dt.date) -> Evaluation:
    """Judge every target of ``plan`` against ``actuals`` as known on ``as_of``.

    Args:
        plan: The plan.
        actuals: The observations (`read_actuals`, `Actuals.from_frame`); None for none yet.
        as_of: The date the evaluation stands on. Rows dated or reported later are invisible.

    Returns:
        An `Evaluation` with one result per target, in plan order, and the alerts.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    frame = actuals.frame if actuals is not None else Actuals.empty().frame
    order = _sorted(actuals, frame, plan)
    return Evaluation(plan=plan, as_of=as_of, _work=_Work(plan, as_of, frame, order))


_CADENCE_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}


def _latest_due_period_end(plan: Plan, months: int, lag: int, as_of: dt.date) -> dt.date | None:
    """Return the end of the latest reporting period whose figure should be out by ``as_of``."""
    due: dt.date | None = None
    year, month = plan.start.year, plan.start.month
    while True:
        month += months
        while month > 12:
            year, month = year + 1, month - 12
        end = dt.date(year, month, 1) - dt.timedelta(days=1)
        if end > plan.end or end + dt.timedelta(days=lag) >= as_of:
            return due  # a figure is late from the day after its end + lag
        due = end


def _overdue_alerts(
    plan: Plan, series: Mapping[str, Series], as_of: dt.date, met: set[str]
) -> list[Alert]:
    """Alert each target whose indicator's figure is due (period end + lag_days) and not in.

    A target already met needs no more figures, and one whose deadline came before the due
    period only needs the figures up to its deadline.
    """
    alerts: list[Alert] = []
    for indicator in plan.indicators:
        if indicator.cadence is None:
            continue
        due = _latest_due_period_end(
            plan, _CADENCE_MONTHS[indicator.cadence], indicator.lag_days, as_of
        )
        if due is None:
            continue
        s = series.get(indicator.id)
        latest = s.latest() if s is not None and len(s) else None
        have_zh = f"最新数据截至{latest.date.isoformat()}" if latest else "尚无数据"
        have_en = f"latest figure dated {latest.date.isoformat()}" if latest else "no figure yet"
        for target in plan.targets:
            if indicator.id not in target.rule.indicator_ids():
                continue
            if target.id in met:
                continue
            if latest is not None and latest.date >= min(due, plan.deadline_of(target)):
                continue
            alerts.append(
                Alert(
                    key=f"{target.id}:overdue:{indicator.id}",
                    kind="overdue",
                    target=target.id,
                    indicator=indicator.id,
                    severity=Severity.WARNING,
                    status=None,
                    message_zh=f"{indicator.name}：截至{due.isoformat()}的数据应已报送，{have_zh}",
                    message_en=(
                        f"{indicator.name_en or indicator.name}: the figure to {due.isoformat()} "
                        f"is overdue ({have_en})"
                    ),
                    owner=target.owner,
                )
            )
    return alerts
