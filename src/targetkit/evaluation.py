"""Evaluation: a plan, its actuals and an as-of date in; a result per target and alerts out.

`evaluate` is pure: it reads no clock, file or environment, and gives the same answer for the same
inputs whatever the order of the actuals' rows.

Selection at as-of T (DESIGN § Actuals): rows dated on or before T and reported on or before T
(when ``reported_at`` is given); per indicator and date the latest ``reported_at`` wins.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from targetkit.forecast import Forecast, forecast_series
from targetkit.model import IndicatorKind, Light, Part, Plan, Severity, Status, Target
from targetkit.rules import (
    NAT,
    NO_DATA,
    Batch,
    Observations,
    Rollup,
    Row,
    RuleKind,
    Verdicts,
    fmt,
    rule_kind,
)
from targetkit.rules._base import STATUSES, _Settings, date_of, day_of, members_of

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = [
    "ActualsTable",
    "Alert",
    "CompiledPlan",
    "Evaluation",
    "Evidence",
    "SortedActuals",
    "TargetResult",
    "compile_plan",
    "evaluate",
    "set_view",
]

# How evaluations show in notebooks: the rendering layer (targetkit.report, targetkit.notebook)
# registers its views here, so that the core never imports it.
_VIEWS: dict[str, Callable[..., Any]] = {}


def set_view(name: str, view: Callable[..., Any]) -> None:
    """Register a view of evaluations: ``html`` (Jupyter), ``changes`` or ``styled``."""
    _VIEWS[name] = view


def _view(name: str) -> Callable[..., Any]:
    if name not in _VIEWS:
        import importlib  # noqa: PLC0415 - the views register themselves on import

        importlib.import_module(
            "targetkit.render.notebook" if name != "html" else "targetkit.render.report"
        )
    return _VIEWS[name]


def _html(value: Any) -> str:
    html: str = _view("html")(value)
    return html


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
    forecast: Forecast | None = None
    at_risk: bool = False
    scope: str | None = None
    notes: tuple[str, ...] = ()

    def forecast_message(self, lang: str = "zh") -> str:
        """Return the year-end forecast in one sentence (预计全年), or "" without a forecast."""
        return "" if self.forecast is None else self.forecast.sentence(self.unit, lang)

    @property
    def light(self) -> Light:
        """Return the traffic light of the status."""
        return self.status.light

    def message(self, lang: str = "zh") -> str:
        """Return the one-sentence explanation in Chinese (``zh``) or English (``en``)."""
        return self.message_en if lang == "en" else self.message_zh

    def _repr_html_(self) -> str:
        return _html(self)


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
    scope: str | None = None

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
    _work: _Work = attrs.field(alias="work", repr=False)

    def __iter__(self) -> Iterator[TargetResult]:
        return iter(self.results)

    def _repr_html_(self) -> str:
        """Show the evaluation in Jupyter: lights, numbers, a progress bar with the pace marker."""
        return _html(self)

    def __len__(self) -> int:
        return len(self.plan.targets)

    @property
    def results(self) -> tuple[TargetResult, ...]:
        """Return one result per target, in plan order."""
        return self._work.results()

    def with_parts(self) -> tuple[TargetResult, ...]:
        """Return every result in plan order, each split target followed by its parts' results.

        These are the entries of the JSON document's ``results`` and the rows of `to_frame`.
        """
        return self._work.with_parts()

    def stream(self) -> Iterator[TargetResult]:
        """Yield the results of `with_parts` one at a time, without keeping them all.

        For writing a large evaluation out: each result is built when it is reached and let go
        after (the alerts keep the sentences they quote), so memory holds one at a time. They
        equal the results `with_parts` gives; asking for `results` after a stream builds them
        again.
        """
        return self._work.stream()

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Return the alerts: lagging targets first (plan order), then overdue data."""
        return self._work.alerts()

    @property
    def statuses(self) -> tuple[Status, ...]:
        """Return each target's status, in plan order, without building the results."""
        return tuple(_STATUSES[int(code)] for code in self._work.status)

    def parts(self, target_id: str) -> tuple[TargetResult, ...]:
        """Return the results of a split target's parts, in the plan's order of its parts.

        Empty for a target without parts; KeyError if the plan has no such target.
        """
        self.plan.target_position(target_id)  # KeyError if the plan has no such target
        return self._work.parts_of(target_id)

    def ranking(self, target_id: str) -> tuple[TargetResult, ...]:
        """Return a split target's parts ranked (各县市区完成情况排名): the better first.

        Ranked by completion, then by the gap to pace; for kinds where a smaller value is
        better (caps, ranks) a smaller completion ranks higher. Parts without a completion come
        last, in the plan's order.
        """
        results = self.parts(target_id)
        if not results:
            return ()
        kind = rule_kind(results[0].rule_kind)
        lower = kind is not None and kind.display.lower_is_better

        def key(r: TargetResult) -> tuple[int, float, float]:
            if r.completion is None:
                return (1, 0.0, 0.0)
            done = r.completion if lower else -r.completion
            return (0, done, -(r.gap_pp if r.gap_pp is not None else -np.inf))

        return tuple(sorted(results, key=key))

    def scorecard(self) -> dict[str, dict[str, int]]:
        """Return, per scope, how many of its parts are in each status (every status listed)."""
        out: dict[str, dict[str, int]] = {}
        for r in self.results:
            for p in self.parts(r.target):
                counts = out.setdefault(str(p.scope), {s.value: 0 for s in _STATUSES})
                counts[p.status.value] += 1
        return out

    def result(self, target_id: str) -> TargetResult:
        """Return the result of one target (KeyError if the plan has no such target)."""
        return self._work.result(self.plan.target_position(target_id))

    @property
    def summary(self) -> dict[str, int]:
        """Return how many targets are in each status (every status listed, zeros included)."""
        counts = np.bincount(self._work.status.astype(np.int64), minlength=len(_STATUSES))
        return {s.value: int(counts[i]) for i, s in enumerate(_STATUSES)}

    @property
    def worst_light(self) -> Light:
        """Return the worst light over all results (grey < green < yellow < red)."""
        lights = {_STATUSES[int(c)].light for c in np.unique(self._work.status)} or {Light.GREY}
        return max(lights, key=lambda light: light.rank)

    def to_frame(self, *, messages: bool = True, forecasts: bool = True) -> pd.DataFrame:
        """Return one tidy row per target: ids, status, light, numbers and (optionally) messages.

        Args:
            messages: Include the Chinese and English explanations. Without them the frame is
                built straight from the computed columns, which is much faster for large plans.
            forecasts: Include the year-end forecast columns (``forecast``, ``forecast_low``,
                ``forecast_high``, ``forecast_method``, ``at_risk``). Without them and without
                messages the frame holds only what the judgement computed: the cheapest view.
        """
        if not messages:
            frame = self._work.frame_without_messages(forecasts=forecasts)
            return frame if forecasts else frame.drop(columns=list(FRAME_COLUMNS[-5:]))
        rows = [frame_row(r, messages=True) for r in self._work.with_parts()]
        frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
        frame["scope"] = pd.Series([row["scope"] for row in rows], dtype="object")
        for column in (
            "actual",
            "target_value",
            "completion",
            "expected",
            "gap_pp",
            "forecast",
            "forecast_low",
            "forecast_high",
        ):
            frame[column] = frame[column].astype("float64")
        return frame if forecasts else frame.drop(columns=list(FRAME_COLUMNS[-5:]))

    def to_dict(self, *, lang: str = "zh") -> dict[str, Any]:
        """Return the JSON document of ``targetkit check --format json`` (documented schema).

        ``message`` is in ``lang``; ``message_zh`` and ``message_en`` are always both present.
        """
        return {
            "plan": {"id": self.plan.id, "title": self.plan.title},
            "as_of": self.as_of.isoformat(),
            "lang": lang,
            "results": [result_dict(r, lang) for r in self._work.with_parts()],
            "alerts": [alert_dict(a, lang) for a in self.alerts],
            "summary": self.summary,
            "worst_light": self.worst_light.value,
        }

    def changes(self, previous: Evaluation) -> Any:
        """Compare with an earlier evaluation of the plan (环比): `targetkit.notebook.changes`.

        Returns a `targetkit.notebook.Changes` (typed there; the core does not import it).
        """
        return _view("changes")(self, previous)

    def styled(self, *, lang: str = "zh") -> Styler:
        """Return a pandas Styler with lights, bars and 序时 ticks: `targetkit.notebook.styled`."""
        styler: Styler = _view("styled")(self, lang=lang)
        return styler


FRAME_COLUMNS = (
    "target",
    "scope",
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
    "forecast",
    "forecast_low",
    "forecast_high",
    "forecast_method",
    "at_risk",
)


def frame_row(r: TargetResult, *, messages: bool) -> dict[str, Any]:
    """Return one result as a row of the tidy frame (with or without its sentences).

    The keys are `FRAME_COLUMNS` (less the two sentences without ``messages``), in order.
    """
    row: dict[str, Any] = {
        "target": r.target,
        "scope": r.scope,
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
    }
    if messages:
        row["message_zh"], row["message_en"] = r.message_zh, r.message_en
    row.update(_forecast_columns(r.forecast, r.at_risk))
    return row


def _forecast_columns(forecast: Forecast | None, at_risk: bool) -> dict[str, Any]:
    """Return the flat forecast columns of the frame and CSV (NaN and "" where none)."""
    if forecast is None:
        return {
            "forecast": np.nan,
            "forecast_low": np.nan,
            "forecast_high": np.nan,
            "forecast_method": "",
            "at_risk": at_risk,
        }
    return {
        "forecast": forecast.value,
        "forecast_low": forecast.low,
        "forecast_high": forecast.high,
        "forecast_method": forecast.method.value,
        "at_risk": at_risk,
    }


def _num(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def alert_dict(a: Alert, lang: str) -> dict[str, Any]:
    """Return one alert as an entry of the JSON document's ``alerts``."""
    return {
        "key": a.key,
        "kind": a.kind,
        "target": a.target,
        "indicator": a.indicator or None,
        "severity": a.severity.value,
        "status": a.status.value if a.status else None,
        "owner": a.owner or None,
        "scope": a.scope,
        "message": a.message(lang),
        "message_zh": a.message_zh,
        "message_en": a.message_en,
    }


def result_dict(r: TargetResult, lang: str) -> dict[str, Any]:
    """Return one result as an entry of the JSON document's ``results`` (``message`` in ``lang``)."""
    forecast = None
    if r.forecast is not None:
        zh, en = r.forecast_message("zh"), r.forecast_message("en")
        forecast = {
            **r.forecast.as_dict(),
            "message": en if lang == "en" else zh,
            "message_zh": zh,
            "message_en": en,
        }
    return {
        "target": r.target,
        "scope": r.scope,
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
        "forecast": forecast,
        "at_risk": r.at_risk,
        "notes": list(r.notes),
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


# --------------------------------------------------------------------------- compiled plan


class ActualsTable(Protocol):
    """What evaluation reads of an actuals table (`targetkit.Actuals`): its canonical frame."""

    @property
    def frame(self) -> pd.DataFrame:
        """Return the canonical table (see `targetkit.Actuals`)."""
        ...


@attrs.frozen(eq=False)
class _Group:
    """The targets of one rule kind, with what their judgement needs from the plan."""

    kind: RuleKind
    positions: npt.NDArray[np.int64]
    targets: tuple[Target, ...]
    prepared: Any
    settings: _Settings


@attrs.frozen(eq=False)
class CompiledPlan:
    """A plan made ready for evaluation, to keep and reuse across as-of dates and actuals.

    Holds what evaluation derives from the plan alone: the indicator index, the targets grouped
    by rule kind, and each kind's plan-constant arrays (`RuleKind.prepare`). Built once by
    `compile_plan`; never changed afterwards, so one compiled plan can serve many threads.
    """

    plan: Plan
    groups: tuple[_Group, ...]
    # by plan position: the target's group and its place in it
    _group_of: npt.NDArray[np.int64] = attrs.field(alias="group_of", repr=False)
    _slot_of: npt.NDArray[np.int64] = attrs.field(alias="slot_of", repr=False)
    _parts: _Parts | None = attrs.field(default=None, alias="parts", repr=False)

    @property
    def indicator_ids(self) -> pd.Index:
        """Return the plan's indicator ids, in plan order (the positions actuals are sorted by)."""
        return pd.Index([i.id for i in self.plan.indicators], dtype=object)

    def _slot(self, i: int) -> tuple[int, int]:
        """Return the group of the target at plan position ``i`` and its place in the group."""
        return int(self._group_of[i]), int(self._slot_of[i])

    def evaluate(
        self, actuals: ActualsTable | SortedActuals | None, *, as_of: dt.date
    ) -> Evaluation:
        """Judge every target against ``actuals`` as known on ``as_of`` (see `evaluate`)."""
        return evaluate(self, actuals, as_of=as_of)

    def sort(self, actuals: ActualsTable) -> SortedActuals:
        """Return the actuals sorted for this plan, to evaluate many as-of dates without re-sorting."""
        return SortedActuals(plan=self, frame=actuals.frame, order=_order(actuals.frame, self))


def compile_plan(plan: Plan) -> CompiledPlan:
    """Return the plan ready for evaluation (see `CompiledPlan`)."""
    targets = plan.targets
    n = len(targets)
    groups = _grouped(plan, targets, np.arange(n, dtype=np.int64))
    group_of = np.zeros(n, dtype=np.int64)
    slot_of = np.zeros(n, dtype=np.int64)
    for g, group in enumerate(groups):
        group_of[group.positions] = g
        slot_of[group.positions] = np.arange(len(group.positions))
    return CompiledPlan(
        plan=plan,
        groups=tuple(groups),
        group_of=group_of,
        slot_of=slot_of,
        parts=_Parts.of(plan) if any(map(attrgetter("parts"), targets)) else None,
    )


def _grouped(
    plan: Plan, targets: tuple[Target, ...], positions: npt.NDArray[np.int64]
) -> list[_Group]:
    """Group targets by rule kind (in order of first appearance), each with its kind's arrays.

    ``positions`` numbers the targets (plan positions, or flat part numbers for parts).
    """
    rules = [t.rule for t in targets]
    codes, kinds = pd.factorize(np.array([r.kind for r in rules], dtype=object))
    groups: list[_Group] = []
    for name, members in zip(kinds.tolist(), members_of(codes, len(kinds)), strict=True):
        kind = rule_kind(name)
        if kind is None:
            raise KeyError(f"no rule kind {name!r} is registered")
        at = members.tolist()
        chosen = tuple(map(targets.__getitem__, at))
        groups.append(
            _Group(
                kind=kind,
                positions=positions[members].astype(np.int64),
                targets=chosen,
                prepared=kind.prepare(plan, list(map(rules.__getitem__, at))),
                settings=_Settings.of(plan, chosen),
            )
        )
    return groups


# The whole's own figure is used when the parts add up to within this relative difference;
# beyond it the result carries a data note with both numbers (分项合计与总数不一致).
_DISAGREE = 1e-3
_PARTS_SOURCE = "分项合计"


def _part_target(target: Target, part: Part) -> Target:
    """Return a part as a target of its own: the target's rule with the part's value."""
    kind = rule_kind(target.rule.kind)
    field = kind.display.part_field if kind is not None else ""
    if not field:
        raise ValueError(f"target {target.id!r}: a {target.rule.kind} target cannot take parts")
    current = getattr(target.rule, field)
    changes: dict[str, Any] = {field: type(current)(part.value)}
    if hasattr(target.rule, "stretch"):
        stretch = part.stretch
        changes["stretch"] = None if stretch is None else type(current)(stretch)
    return attrs.evolve(
        target,
        rule=attrs.evolve(target.rule, **changes),  # type: ignore[misc]
        deadline=part.deadline or target.deadline,
        owner=part.owner or target.owner,
        parts=(),
    )


@attrs.frozen(eq=False)
class _Parts:
    """The parts of a plan's split targets, grouped per scope and rule kind for judging.

    ``scopes`` numbers the scopes from 1 (0 is the whole); ``slots[k]`` is (plan position of
    the whole, scope number, part) of flat part ``k``; ``groups`` are (scope number, group)
    whose positions are flat part numbers; ``where[k]`` finds part ``k`` in its group;
    ``rollup`` maps an indicator position to the scope numbers whose figures add up to it.
    """

    scopes: tuple[str, ...]
    slots: tuple[tuple[int, int, Part], ...]
    groups: tuple[tuple[int, _Group], ...]
    where: tuple[tuple[int, int], ...]
    of_target: Mapping[int, tuple[int, ...]]
    rollup: Mapping[int, tuple[int, ...]]
    rolls: frozenset[int]

    @classmethod
    def of(cls, plan: Plan) -> _Parts:
        scopes: dict[str, int] = {}
        slots: list[tuple[int, int, Part]] = []
        for i, target in enumerate(plan.targets):
            for part in target.parts:
                slots.append((i, scopes.setdefault(part.scope, len(scopes) + 1), part))
        groups: list[tuple[int, _Group]] = []
        where: list[tuple[int, int]] = [(0, 0)] * len(slots)
        for number in scopes.values():
            members = [k for k, slot in enumerate(slots) if slot[1] == number]
            targets = tuple(_part_target(plan.targets[slots[k][0]], slots[k][2]) for k in members)
            made = _grouped(plan, targets, np.array(members, dtype=np.int64))
            for group in made:
                for j, k in enumerate(group.positions.tolist()):
                    where[k] = (len(groups), j)
                groups.append((number, group))
        of_target: dict[int, list[int]] = {}
        rollup: dict[int, set[int]] = {}
        rolls: set[int] = set()
        for k, (i, number, _part) in enumerate(slots):
            of_target.setdefault(i, []).append(k)
            target = plan.targets[i]
            kind = rule_kind(target.rule.kind)
            ids = target.rule.indicator_ids()
            addable = all(
                plan.indicator(x).kind in (IndicatorKind.CUMULATIVE, IndicatorKind.STOCK)
                for x in ids
            )
            if kind is None or kind.display.rollup is Rollup.NONE or not addable:
                continue
            rolls.add(i)
            for x in ids:
                rollup.setdefault(plan.position(x), set()).add(number)
        return cls(
            scopes=tuple(scopes),
            slots=tuple(slots),
            groups=tuple(groups),
            where=tuple(where),
            of_target={i: tuple(ks) for i, ks in of_target.items()},
            rollup={c: tuple(sorted(ns)) for c, ns in rollup.items()},
            rolls=frozenset(rolls),
        )


# --------------------------------------------------------------------------- selection


@attrs.frozen(eq=False)
class SortedActuals:
    """An actuals table sorted once for a compiled plan (`CompiledPlan.sort`).

    Sorted by the indicator's position in the plan, date, stage, reported_at (NaT first: a
    revision with a reported_at beats a row without one) and value (so that the order of rows
    never matters). Rows of indicators the plan does not declare are left out.
    """

    plan: CompiledPlan
    frame: pd.DataFrame
    order: _Order


@attrs.frozen(eq=False)
class _Order:
    rows: npt.NDArray[np.int64]
    code: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    stage: npt.NDArray[np.int64]
    reported: npt.NDArray[np.int64]
    scope: npt.NDArray[np.int64] | None = None  # 0 the whole, k the plan's k-th scope, -1 none


def _order(frame: pd.DataFrame, compiled: CompiledPlan) -> _Order:
    # each distinct id looked up once (the column holds few distinct texts, many times each)
    cells, ids = _factorized(frame["indicator"].to_numpy())
    codes = np.array(compiled.plan.positions(ids.tolist(), missing=-1), dtype=np.int64)[cells]
    known = np.flatnonzero(codes >= 0)
    whole = len(known) == len(frame)  # usual: every row names an indicator of the plan

    def column(name: str) -> npt.NDArray[Any]:
        values = frame[name].to_numpy()
        return values if whole else values[known]

    stage = _factorized(column("stage"))[0].astype(np.int64)
    day = column("date").astype(np.int64)
    reported = column("reported_at").astype(np.int64)  # NaT is the smallest
    value = column("value")
    code = codes if whole else codes[known]
    days = day // 86_400  # whole dates, in seconds since the epoch
    if (
        len(code)
        and code.max() < 1 << 25
        and stage.max(initial=0) < 1 << 16
        and np.abs(days).max() < 1 << 21
    ):
        # one packed key (plan position, date, stage) sorts as the three columns would
        packed = (code << 38) | ((days + (1 << 21)) << 16) | stage
        order = _sorted_by(packed, reported, value)
    else:
        order = np.lexsort((value, reported, stage, day, code))
    # rows that come in order (a table listed by indicator and date) need no reordering
    in_place = not len(order) or bool((order[1:] > order[:-1]).all())
    rows = known if in_place else known[order]

    def taken(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if in_place else values[order]

    scope = None
    # scopes are only looked at for a plan with parts: others keep today's path
    if compiled._parts is not None and "scope" in frame.columns:
        scopes = taken(column("scope"))
        found = pd.Index(compiled._parts.scopes).get_indexer(pd.Index(scopes))
        scope = np.where(scopes == "", 0, np.where(found >= 0, found + 1, -1)).astype(np.int64)
    return _Order(
        rows=rows.astype(np.int64, copy=False),
        code=taken(code),
        day=taken(day),
        stage=taken(stage),
        reported=taken(reported),
        scope=scope,
    )


def _factorized(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
    """Return `pd.factorize` of a column, looking once at each run of equal values.

    Tables list a figure's rows together (an indicator's months, a stage left empty), so a
    column usually holds far fewer runs than rows; a column of short runs is factorised whole.
    """
    n = len(values)
    glance = _changes(values[:_GLANCE])
    # runs of four or more on average in the first cells: worth reading the column run by run
    if n > 1 and glance is not None and 4 * (int(glance.sum()) + 1) <= min(n, _GLANCE):
        first = values[0]
        if isinstance(first, str) and values.tolist().count(first) == n:  # one text throughout
            return np.zeros(n, dtype=np.intp), np.array([first], dtype=object)
        change = _changes(values)
        if change is not None:
            heads = np.flatnonzero(np.r_[True, change])
            if 4 * len(heads) <= n:
                cells, uniques = pd.factorize(values[heads])
                return np.repeat(cells, np.diff(np.r_[heads, n])), uniques
    return pd.factorize(values)


_GLANCE = 4096  # the rows looked at first, to tell a column of runs from a shuffled one


def _changes(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_] | None:
    """Return where each cell differs from the one before it, or None for cells that do not
    compare to a truth value."""
    try:
        change = np.asarray(values[1:] != values[:-1])
    except (TypeError, ValueError):
        return None
    return change if change.dtype == np.bool_ and len(change) == max(len(values) - 1, 0) else None


def _sorted_by(
    key: npt.NDArray[np.int64], then: npt.NDArray[np.int64], last: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """Return the order `np.lexsort((last, then, key))` gives, sorting on ``key`` alone first.

    Rows sharing a key (revisions of one figure, repeated rows) are few: only those are sorted
    again on all three columns, in the places their key already gave them — unless they
    already stand in order (a revision listed after what it revises). Both sorts are stable,
    so rows equal in all three keep their order, as in one lexsort.
    """
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    tied = ordered[1:] == ordered[:-1]
    if tied.any():
        pairs = np.flatnonzero(tied)
        a, b = order[pairs], order[pairs + 1]
        # NaN values compare False: such rows take the full sort
        in_order = (then[a] < then[b]) | ((then[a] == then[b]) & (last[a] <= last[b]))
        if in_order.all():
            return order
        member = np.zeros(len(key), dtype=bool)
        member[1:] |= tied
        member[:-1] |= tied
        places = np.flatnonzero(member)
        rows = order[places]
        order[places] = rows[np.lexsort((last[rows], then[rows], key[rows]))]
    return order


def _observations(
    frame: pd.DataFrame | None, as_of: dt.date, order: _Order | None, plan: Plan, scope: int = 0
) -> Observations:
    """Return the visible rows at ``as_of``, one per (indicator, stage, date), latest revision.

    ``scope`` picks whose rows: 0 the whole's, k the k-th scope's (only for plans with parts).
    """
    n = len(plan.indicators)
    start = day_of(plan.start)
    if frame is None or order is None or not len(order.rows):
        empty = np.zeros(0, dtype=np.int64)
        return Observations(n, start, empty, empty, np.zeros(0), empty, np.zeros(0, dtype=object))
    cutoff = np.datetime64(as_of, "s").astype(np.int64)
    visible = (order.day <= cutoff) & ((order.reported == NAT) | (order.reported <= cutoff))
    if order.scope is not None:
        visible &= order.scope == scope
    code, day, stage = order.code[visible], order.day[visible], order.stage[visible]
    last = np.ones(len(code), dtype=bool)
    if len(code) > 1:
        same = (code[1:] == code[:-1]) & (day[1:] == day[:-1]) & (stage[1:] == stage[:-1])
        last[:-1] = ~same
    keep = order.rows[visible][last]
    days = day[last] // 86_400
    return Observations(
        n,
        start,
        code[last],
        days,
        frame["value"].to_numpy()[keep].astype(np.float64),
        keep.astype(np.int64),
        frame["stage"].to_numpy()[keep].astype(object),
    )


def _evidence(frame: pd.DataFrame, rows: npt.NDArray[np.int64]) -> dict[int, Evidence]:
    """Return the `Evidence` of these actuals rows, built column-wise, by row position."""
    # take the rows first: a whole string column as a numpy array is one Python object a row
    cols = {
        c: frame[c].iloc[rows].tolist()
        for c in (
            "indicator",
            "stage",
            "value",
            "raw_value",
            "unit",
            "source",
            "note",
            "file",
            "line",
        )
    }
    dates = frame["date"].to_numpy()[rows].astype("datetime64[D]").tolist()
    reported = frame["reported_at"].to_numpy()[rows].astype("datetime64[D]").tolist()
    return {
        r: Evidence(
            indicator=str(cols["indicator"][k]),
            date=dates[k],
            value=float(cols["value"][k]),
            raw_value=str(cols["raw_value"][k]),
            unit=str(cols["unit"][k]),
            reported_at=reported[k],
            source=str(cols["source"][k]),
            note=str(cols["note"][k]),
            file=str(cols["file"][k]),
            line=int(cols["line"][k]),
            stage=str(cols["stage"][k]),
        )
        for k, r in enumerate(rows.tolist())
    }


def _optional(values: npt.NDArray[np.float64]) -> list[float | None]:
    nan = np.isnan(values).tolist()
    return [None if missing else x for x, missing in zip(values.tolist(), nan, strict=True)]


def _dates(days: npt.NDArray[np.int64]) -> list[dt.date | None]:
    uniq, inverse = np.unique(days, return_inverse=True)
    known = [date_of(int(d)) for d in uniq.tolist()]
    return [known[i] for i in inverse.tolist()]


@attrs.frozen(eq=False)
class _Columns:
    """One kind's verdicts as Python values, to build its results without numpy scalars."""

    status: list[Status]
    actual: list[float | None]
    unit: list[str]
    target_value: list[float | None]
    completion: list[float | None]
    expected: list[float | None]
    gap: list[float | None]
    observed: list[dt.date | None]
    baseline: list[float | None]
    stretch: list[float | None]
    stretch_met: list[bool | None]
    form: list[int]
    cited: list[list[int]]

    @classmethod
    def of(cls, v: Verdicts) -> _Columns:
        cited = (
            [[r for r in row if r >= 0] for row in np.stack(v.evidence, axis=1).tolist()]
            if v.evidence
            else [[] for _ in range(v.n)]
        )
        return cls(
            status=[_STATUSES[c] for c in v.status.tolist()],
            actual=_optional(v.actual),
            unit=[str(u) for u in v.unit.tolist()],
            target_value=_optional(v.target_value),
            completion=_optional(v.completion),
            expected=_optional(v.expected),
            gap=_optional(v.gap),
            observed=_dates(v.observed),
            baseline=_optional(v.baseline),
            stretch=_optional(v.stretch),
            stretch_met=[None if m < 0 else bool(m) for m in v.stretch_met.tolist()],
            form=v.form.tolist(),
            cited=cited,
        )


# --------------------------------------------------------------------------- evaluate


_STATUSES = STATUSES


def _this_and_earlier(
    dates: list[dt.date],
    values: list[float],
    start: dt.date,
    deadline: dt.date,
    shift: float = 0.0,
) -> tuple[list[tuple[dt.date, float]], list[tuple[dt.date, float]]]:
    """Split an indicator's figures, less ``shift``, into this period's and earlier ones."""
    ours = [(d, x - shift) for d, x in zip(dates, values, strict=True) if start <= d <= deadline]
    past = [(d, x - shift) for d, x in zip(dates, values, strict=True) if d < start]
    return ours, past


class _Series:
    """The plain visible figures of an evaluation as Python values, per indicator position.

    Forecasts read one indicator's figures at a time; slicing Python lists (and one `date` per
    distinct day) costs far less than numpy calls on a few elements each.
    """

    def __init__(self, obs: Observations, indicators: int) -> None:
        keep = obs.plain
        codes = obs.codes[keep]
        # where each indicator position's figures start, found for all positions at once
        self._bounds: list[int] = np.searchsorted(codes, np.arange(indicators + 1)).tolist()
        days: list[int] = obs.days[keep].tolist()
        self._values: list[float] = obs.values[keep].tolist()
        self._dates: dict[int, dt.date] = {}
        self._days = [self.date(d) for d in days]

    def date(self, day: int) -> dt.date:
        known = self._dates.get(day)
        if known is None:
            known = self._dates[day] = _EPOCH + dt.timedelta(days=day)
        return known

    def figures(self, code: int, factor: float) -> tuple[list[dt.date], list[float]]:
        """Return the dates and values (divided by ``factor``) of indicator position ``code``."""
        lo, hi = self._bounds[code], self._bounds[code + 1]
        values = self._values[lo:hi]
        return self._days[lo:hi], values if factor == 1.0 else [x / factor for x in values]


class _Work:
    """What an evaluation judged (one `Verdicts` per kind) and what it builds on demand."""

    def __init__(
        self,
        compiled: CompiledPlan,
        as_of: dt.date,
        frame: pd.DataFrame | None,
        order: _Order | None,
    ) -> None:
        plan = compiled.plan
        self.compiled, self.plan, self.as_of, self.frame = compiled, plan, as_of, frame
        self.observations = obs = _observations(frame, as_of, order, plan)
        parts = compiled._parts
        self.disagree: dict[tuple[int, int], tuple[float, float]] = {}
        scoped: list[Observations] = []
        if parts is not None:
            scoped = [
                _observations(frame, as_of, order, plan, scope=k + 1)
                for k in range(len(parts.scopes))
            ]
            if frame is not None:
                obs, self.frame, self.disagree = _rolled_up(plan, parts, obs, scoped, frame)
                self.observations = obs
        self.verdicts: list[Verdicts] = []
        n = len(plan.targets)
        self.status = np.full(n, NO_DATA, dtype=np.int8)
        for group in compiled.groups:
            verdicts = _judge(group, plan, as_of, obs)
            self.verdicts.append(verdicts)
            self.status[group.positions] = verdicts.status
        self.part_verdicts: list[Verdicts] = []
        self.part_status = np.full(len(parts.slots) if parts else 0, NO_DATA, dtype=np.int8)
        for number, group in parts.groups if parts else ():
            verdicts = _judge(group, plan, as_of, scoped[number - 1])
            self.part_verdicts.append(verdicts)
            self.part_status[group.positions] = verdicts.status
        self._results: list[TargetResult | None] = [None] * n
        self._parts: dict[int, TargetResult] = {}
        self._all: tuple[TargetResult, ...] | None = None
        self._alerts: tuple[Alert, ...] | None = None
        self._columns: dict[tuple[bool, int], tuple[_Columns, dict[int, Evidence]]] = {}
        self._forecasts: list[Forecast | None] | None = None
        self._at_risk: list[bool] | None = None
        self._series: _Series | None = None
        self._quoted: dict[int, tuple[str, str]] = {}  # sentences alerts quote, from a stream

    def forecasts(self) -> tuple[list[Forecast | None], list[bool]]:
        """Return each target's year-end forecast and at-risk flag, in plan order."""
        if self._forecasts is None or self._at_risk is None:
            n = len(self.plan.targets)
            forecasts: list[Forecast | None] = [None] * n
            at_risk = [False] * n
            for g, group in enumerate(self.compiled.groups):
                display = group.kind.display
                if not display.counts_up_on and not display.grows_on:
                    continue
                for j, i in enumerate(group.positions.tolist()):
                    forecasts[i], at_risk[i] = self._forecast_of(g, j)
            self._forecasts, self._at_risk = forecasts, at_risk
        return self._forecasts, self._at_risk

    def _forecast_of(self, g: int, j: int) -> tuple[Forecast | None, bool]:
        """Return one target's forecast and at-risk flag (made now unless all were made)."""
        group, verdicts = self.compiled.groups[g], self.verdicts[g]
        if self._forecasts is not None and self._at_risk is not None:
            i = int(group.positions[j])
            return self._forecasts[i], self._at_risk[i]
        display = group.kind.display
        if not display.counts_up_on and not display.grows_on:
            return None, False
        if self._series is None:
            self._series = _Series(self.observations, len(self.plan.indicators))
        made = self._forecast(group, verdicts, j, self._series)
        if made is None:
            return None, False
        status = _STATUSES[int(verdicts.status[j])]
        risky = (
            status.light is Light.GREEN
            and status is not Status.MET
            and made.falls_short(lower_is_better=display.lower_is_better)
        )
        return made, risky

    def _forecast(self, group: _Group, v: Verdicts, j: int, series: _Series) -> Forecast | None:
        """Forecast one pro-rated target of a kind that counts up (`Display.counts_up_on`).

        The judged value is the indicator's figure in the target's unit, less the baseline
        where the kind judges a change (`Display.baseline_comparable` false: a net increase).
        """
        target, plan = group.targets[j], self.plan
        ids = target.rule.indicator_ids()
        status = _STATUSES[int(v.status[j])]
        if len(ids) != 1 or status in (Status.NO_DATA, Status.MISSED):
            return None
        indicator, display = plan.indicator(ids[0]), group.kind.display
        grows = indicator.kind in display.grows_on
        if indicator.kind not in display.counts_up_on and not grows:
            return None
        expected, actual, observed_day = (
            float(v.expected[j]),
            float(v.actual[j]),
            int(v.observed[j]),
        )
        if math.isnan(actual) or observed_day == NAT or (math.isnan(expected) and not grows):
            return None
        deadline = plan.deadline_of(target)
        observed = series.date(observed_day)
        if observed >= deadline:
            return None
        if grows:
            return self._growth_forecast(target, v, j, series, deadline)
        factor = plan.units.factor(str(v.unit[j]), indicator.unit)
        dates, values = series.figures(plan.position(ids[0]), factor)
        base = float(v.baseline[j])
        change = not display.baseline_comparable and not math.isnan(base)
        shift = base if change else 0.0
        start = plan.start
        ours, past = _this_and_earlier(dates, values, start, deadline, shift)
        if change:
            # each earlier year counted from its own start: less that year's opening figure
            figures = dict(zip(dates, values, strict=True))
            past = []
            for k in range(1, 11):
                opening = figures.get(_years_before(start, k) - dt.timedelta(days=1))
                if opening is None:
                    break
                first, last = _years_before(start, k), _years_before(start, k - 1)
                past += [(d, x - opening) for d, x in figures.items() if first <= d < last]
        return forecast_series(
            ours,
            start=start,
            end=deadline,
            pace=plan.pace_of(target),
            past=past,
            target=float(v.target_value[j]),
        )

    def _growth_forecast(
        self, target: Target, v: Verdicts, j: int, series: _Series, deadline: dt.date
    ) -> Forecast | None:
        """Forecast a growth target on a flow (`Display.grows_on`): the flow at the deadline.

        Judged against last year's same period, the verdict holds the rate; the forecast is of
        the flow, against last year's figure at the deadline grown by the target rate (so 8% on
        last year's 100 is a forecast against 108). Judged as progress towards baseline × (1 + X)
        (no same-period figure a year before), the verdict's target is that figure already.
        """
        plan = self.plan
        indicator = plan.indicator(target.rule.indicator_ids()[0])
        dates, values = series.figures(plan.position(indicator.id), 1.0)
        start = plan.start
        ours, past = _this_and_earlier(dates, values, start, deadline)
        goal, base = float(v.target_value[j]), float(v.baseline[j])
        if math.isnan(float(v.expected[j])):  # a rate against last year's same period
            figures = dict(zip(dates, values, strict=True))
            found = figures.get(_years_before(deadline, 1))
            if found is None or not found > 0:
                return None  # no year total to grow from: nothing to compare a forecast with
            base = found
            goal = base * (1 + goal * plan.units.factor(str(v.unit[j]), ""))
        made = forecast_series(
            ours, start=start, end=deadline, pace=plan.pace_of(target), past=past, target=goal
        )
        if made is None:
            return None
        return attrs.evolve(made, unit=indicator.unit, base=None if math.isnan(base) else base)

    def column(self, name: str) -> npt.NDArray[Any]:
        """Return one verdict column over all targets, in plan order."""
        first = getattr(self.verdicts[0], name) if self.verdicts else np.zeros(0)
        out = np.empty(len(self.plan.targets), dtype=first.dtype)
        for group, verdicts in zip(self.compiled.groups, self.verdicts, strict=True):
            out[group.positions] = getattr(verdicts, name)
        return out

    def result(self, i: int) -> TargetResult:
        cached = self._results[i]
        if cached is not None:
            return cached
        result = self._build(*self.compiled._slot(i))
        self._results[i] = result
        return result

    def _split(self) -> _Parts:
        parts = self.compiled._parts
        if parts is None:
            raise ValueError(f"plan {self.plan.id!r} splits no target into parts")
        return parts

    def part(self, k: int) -> TargetResult:
        """Return the result of flat part ``k`` (see `_Parts`)."""
        if k not in self._parts:
            parts = self._split()
            g, j = parts.where[k]
            self._parts[k] = self._build(g, j, scope=parts.scopes[parts.slots[k][1] - 1])
        return self._parts[k]

    def parts_of(self, target_id: str) -> tuple[TargetResult, ...]:
        parts = self.compiled._parts
        if parts is None:
            return ()
        i = self.plan.target_position(target_id)
        return tuple(self.part(k) for k in parts.of_target.get(i, ()))

    def with_parts(self) -> tuple[TargetResult, ...]:
        """Return every result in plan order, each split target followed by its parts."""
        results = self.results()
        parts = self.compiled._parts
        if parts is None:
            return results
        out: list[TargetResult] = []
        for i, result in enumerate(results):
            out.append(result)
            out.extend(self.part(k) for k in parts.of_target.get(i, ()))
        return tuple(out)

    def _columns_of(self, key: tuple[bool, int]) -> tuple[_Columns, dict[int, Evidence]]:
        if key not in self._columns:
            v = self.part_verdicts[key[1]] if key[0] else self.verdicts[key[1]]
            columns = _Columns.of(v)
            rows = (
                np.unique(np.concatenate([col[col >= 0] for col in v.evidence]))
                if v.evidence
                else np.zeros(0, dtype=np.int64)
            )
            table = _evidence(self.frame, rows) if self.frame is not None and len(rows) else {}
            self._columns[key] = (columns, table)
        return self._columns[key]

    def _build(self, g: int, j: int, *, scope: str | None = None) -> TargetResult:
        parts = self.compiled._parts
        group = self.compiled.groups[g] if scope is None else self._split().groups[g][1]
        c, table = self._columns_of((scope is not None, g))
        plan, target = self.plan, group.targets[j]
        row: Row[Any] = Row(
            plan=plan,
            target=target,
            as_of=self.as_of,
            status=c.status[j],
            actual=c.actual[j],
            unit=c.unit[j],
            target_value=c.target_value[j],
            completion=c.completion[j],
            expected=c.expected[j],
            gap=c.gap[j],
            observed=c.observed[j],
            baseline=c.baseline[j],
            stretch=c.stretch[j],
            stretch_met=c.stretch_met[j],
            form=c.form[j],
        )
        zh, en = group.kind.describe(row)
        notes: tuple[str, ...] = ()
        if scope is None and parts is not None and target.parts:
            notes = self._whole_notes(target, row)
        forecast, risky = self._forecast_of(g, j) if scope is None else (None, False)
        return TargetResult(
            target=target.id,
            title=target.title,
            status=row.status,
            message_zh=zh,
            message_en=en,
            indicators=target.rule.indicator_ids(),
            deadline=row.deadline,
            binding=target.binding,
            owner=target.owner,
            rule_kind=target.rule.kind,
            actual=row.actual,
            unit=row.unit,
            target_value=row.target_value,
            completion=row.completion,
            expected=row.expected,
            gap_pp=row.gap,
            observed_on=row.observed,
            baseline=row.baseline,
            stretch_value=row.stretch,
            stretch_met=row.stretch_met,
            evidence=tuple(table[k] for k in c.cited[j]),
            forecast=forecast,
            at_risk=risky,
            scope=scope,
            notes=notes,
        )

    def _whole_notes(self, target: Target, row: Row[Any]) -> tuple[str, ...]:
        """Return the data notes of a split target's whole: disagreeing sums, no rollup."""
        parts = self._split()
        plan, notes = self.plan, []
        days = [day_of(plan.start) - 1]
        if row.observed is not None:
            days.append(day_of(row.observed))
        for x in target.rule.indicator_ids():
            code = plan.position(x)
            ind = plan.indicator(x)
            for day in days:
                if (code, day) not in self.disagree:
                    continue
                whole, total = self.disagree[(code, day)]
                on = date_of(day)
                notes.append(
                    f"分项合计与总数不一致：{ind.name} {on} 分项合计 {fmt(total)}，总数 "
                    f"{fmt(whole)}，采用总数 (the parts add up to {fmt(total)}, the whole "
                    f"reports {fmt(whole)}; the whole's figure is used)"
                )
        if row.status is Status.NO_DATA and self.plan.target_position(target.id) not in parts.rolls:
            notes.append(
                "该目标不能由分项汇总，需要总数本身的数据 (this target cannot be rolled up from "
                "its parts: the whole needs a figure of its own)"
            )
        return tuple(notes)

    def stream(self) -> Iterator[TargetResult]:
        """Yield what `with_parts` returns, one result at a time, without keeping them all.

        The sentences an alert will quote (a target whose status is alerted) are kept for
        `alerts`; the results are let go once yielded, so writing a large evaluation holds one
        at a time.
        """
        if self._all is not None:
            yield from self.with_parts()
            return
        parts, plan = self.compiled._parts, self.plan
        for i, target in enumerate(plan.targets):
            result = self._results[i]
            if result is None:
                result = self._build(*self.compiled._slot(i))
                if plan.severity_of(target, _STATUSES[int(self.status[i])]) is not None:
                    self._quoted[i] = result.message_zh, result.message_en
            yield result
            if parts is not None:
                yield from (self.part(k) for k in parts.of_target.get(i, ()))

    def results(self) -> tuple[TargetResult, ...]:
        if self._all is None:
            # all of them are kept: the forecasts are made in one pass first, which is quicker
            # than one at a time between the results (`stream` makes them one at a time)
            self.forecasts()
            for g, group in enumerate(self.compiled.groups):
                for j, i in enumerate(group.positions.tolist()):
                    if self._results[i] is None:
                        self._results[i] = self._build(g, j)
            self._all = tuple(r for r in self._results if r is not None)
        return self._all

    def alerts(self) -> tuple[Alert, ...]:
        if self._alerts is None:
            alerts: list[Alert] = []
            parts = self.compiled._parts
            for i, target in enumerate(self.plan.targets):
                status = _STATUSES[int(self.status[i])]
                lagging: list[Alert] = []
                for k in parts.of_target.get(i, ()) if parts else ():
                    part_status = _STATUSES[int(self.part_status[k])]
                    part_severity = self.plan.severity_of(target, part_status)
                    if part_severity is None:
                        continue
                    r = self.part(k)
                    lagging.append(
                        Alert(
                            key=f"{target.id}:status:{r.scope}",
                            kind="status",
                            target=target.id,
                            severity=part_severity,
                            status=part_status,
                            message_zh=(
                                f"{target.title}（{r.scope}）：{part_status.label_zh}。{r.message_zh}"
                            ),
                            message_en=(
                                f"{target.title} ({r.scope}): {part_status.label_en}. "
                                f"{r.message_en}"
                            ),
                            owner=r.owner,
                            scope=r.scope,
                        )
                    )
                severity = self.plan.severity_of(target, status)
                if severity is not None:
                    said = self._quoted.get(i)
                    if said is None:
                        result = self.result(i)
                        said = result.message_zh, result.message_en
                    names = "、".join(str(a.scope) for a in lagging)
                    zh = f"{target.title}：{status.label_zh}。{said[0]}"
                    en = f"{target.title}: {status.label_en}. {said[1]}"
                    if lagging:
                        zh += f"；滞后的分项：{names}"
                        en += "; lagging parts: " + ", ".join(str(a.scope) for a in lagging)
                    alerts.append(
                        Alert(
                            key=f"{target.id}:status",
                            kind="status",
                            target=target.id,
                            severity=severity,
                            status=status,
                            message_zh=zh,
                            message_en=en,
                            owner=target.owner,
                        )
                    )
                alerts.extend(lagging)
            met = {
                t.id
                for t, code in zip(self.plan.targets, self.status, strict=True)
                if _STATUSES[int(code)] is Status.MET
            }
            alerts.extend(_overdue_alerts(self.plan, self.observations, self.as_of, met))
            self._alerts = tuple(alerts)
        return self._alerts

    def frame_without_messages(self, *, forecasts: bool = True) -> pd.DataFrame:
        plan = self.plan
        if self.compiled._parts is not None:
            return self._frame_with_parts()
        observed = self.column("observed")
        n = len(plan.targets)
        made, at_risk = self.forecasts() if forecasts else ([None] * n, [False] * n)
        flat = pd.DataFrame(
            [_forecast_columns(f, r) for f, r in zip(made, at_risk, strict=True)],
            columns=list(FRAME_COLUMNS[-5:]),
        )
        frame = pd.DataFrame(
            {
                "target": [t.id for t in plan.targets],
                "scope": pd.Series([None] * len(plan.targets), dtype="object"),
                "title": [t.title for t in plan.targets],
                "rule": [t.rule.kind for t in plan.targets],
                "status": np.array([s.value for s in _STATUSES], dtype=object)[
                    self.status.astype(np.int64)
                ],
                "light": np.array([s.light.value for s in _STATUSES], dtype=object)[
                    self.status.astype(np.int64)
                ],
                "actual": self.column("actual"),
                "unit": self.column("unit"),
                "target_value": self.column("target_value"),
                "completion": self.column("completion"),
                "expected": self.column("expected"),
                "gap_pp": self.column("gap"),
                "observed_on": [date_of(int(d)) for d in observed],
                "deadline": [plan.deadline_of(t) for t in plan.targets],
                "binding": [t.binding for t in plan.targets],
                "owner": [t.owner for t in plan.targets],
            }
        )
        for column in flat.columns:
            frame[column] = flat[column].to_numpy()
        return frame

    def _frame_with_parts(self) -> pd.DataFrame:
        columns = [c for c in FRAME_COLUMNS if not c.startswith("message_")]
        rows = [frame_row(r, messages=False) for r in self.with_parts()]
        frame = pd.DataFrame(rows, columns=columns)
        frame["scope"] = pd.Series([row["scope"] for row in rows], dtype="object")
        for column in ("actual", "target_value", "completion", "expected", "gap_pp"):
            frame[column] = frame[column].astype("float64")
        return frame


_EPOCH = dt.date(1970, 1, 1)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _judge(group: _Group, plan: Plan, as_of: dt.date, obs: Observations) -> Verdicts:
    batch = Batch(
        plan=plan,
        as_of=as_of,
        targets=group.targets,
        prepared=group.prepared,
        observations=obs,
        setting=group.settings,
    )
    verdicts = group.kind.judge(batch)
    if verdicts.n != len(group.targets):
        raise ValueError(
            f"rule kind {group.kind.name!r} judged {verdicts.n} targets of {len(group.targets)}"
        )
    return verdicts


def _rolled_up(
    plan: Plan,
    parts: _Parts,
    whole: Observations,
    scoped: list[Observations],
    frame: pd.DataFrame,
) -> tuple[Observations, pd.DataFrame, dict[tuple[int, int], tuple[float, float]]]:
    """Return the whole's observations with figures summed from its parts where it has none.

    A figure is summed for an indicator and date only when every scope whose parts read the
    indicator has a figure on that date. Where the whole has its own figure, it stays; a sum
    that differs from it by more than `_DISAGREE` is returned as (whole, sum) by (code, day).
    """
    pieces = []
    for number, obs in enumerate(scoped, start=1):
        take = obs.plain & np.isin(obs.codes, [c for c, ns in parts.rollup.items() if number in ns])
        if take.any():
            pieces.append(
                pd.DataFrame(
                    {"code": obs.codes[take], "day": obs.days[take], "value": obs.values[take]}
                )
            )
    disagree: dict[tuple[int, int], tuple[float, float]] = {}
    if not pieces:
        return whole, frame, disagree
    sums = pd.concat(pieces).groupby(["code", "day"], sort=True)["value"].agg(["sum", "count"])
    need = np.array([len(parts.rollup[int(c)]) for c in sums.index.get_level_values(0)])
    sums = sums[sums["count"].to_numpy() == need]
    if sums.empty:
        return whole, frame, disagree
    codes = sums.index.get_level_values(0).to_numpy().astype(np.int64)
    days = sums.index.get_level_values(1).to_numpy().astype(np.int64)
    totals = sums["sum"].to_numpy().astype(np.float64)
    own, _ = whole.on(codes, days)
    has_own = ~np.isnan(own)
    for c, d, w, t in zip(
        codes[has_own].tolist(),
        days[has_own].tolist(),
        own[has_own].tolist(),
        totals[has_own],
        strict=True,
    ):
        if abs(w - t) > _DISAGREE * max(abs(w), abs(t)):
            disagree[(c, d)] = (w, float(t))
    codes, days, totals = codes[~has_own], days[~has_own], totals[~has_own]
    if not len(codes):
        return whole, frame, disagree
    n = len(codes)
    ids = [plan.indicators[c].id for c in codes.tolist()]
    added = pd.DataFrame(
        {
            "indicator": pd.Series(ids, dtype="object"),
            "stage": pd.Series([""] * n, dtype="object"),
            "date": pd.Series((days * 86_400).astype("datetime64[s]")),
            "value": totals,
            "reported_at": pd.Series(np.full(n, NAT, dtype=np.int64).astype("datetime64[s]")),
            "raw_value": pd.Series([fmt(t) for t in totals.tolist()], dtype="object"),
            "unit": pd.Series([plan.indicators[c].unit for c in codes.tolist()], dtype="object"),
            "source": pd.Series([_PARTS_SOURCE] * n, dtype="object"),
            "note": pd.Series(
                [
                    ", ".join(sorted(parts.scopes[k - 1] for k in parts.rollup[c]))
                    for c in codes.tolist()
                ],
                dtype="object",
            ),
            "file": pd.Series(["<parts>"] * n, dtype="object"),
            "line": pd.Series(np.zeros(n, dtype=np.int64)),
            "scope": pd.Series([""] * n, dtype="object"),
        }
    )
    start = len(frame)
    extended = pd.concat(
        [frame, added[[c for c in frame.columns if c in added]]], ignore_index=True
    )
    all_codes = np.concatenate([whole.codes, codes])
    all_days = np.concatenate([whole.days, days])
    order = np.lexsort((all_days, all_codes))
    combined = Observations(
        len(plan.indicators),
        day_of(plan.start),
        all_codes[order],
        all_days[order],
        np.concatenate([whole.values, totals])[order],
        np.concatenate([whole.rows, np.arange(start, start + n, dtype=np.int64)])[order],
        np.concatenate([whole.stages, np.array([""] * n, dtype=object)])[order],
    )
    return combined, extended, disagree


def evaluate(
    plan: Plan | CompiledPlan, actuals: ActualsTable | SortedActuals | None, *, as_of: dt.date
) -> Evaluation:
    """Judge every target of ``plan`` against ``actuals`` as known on ``as_of``.

    Args:
        plan: The plan, or a `CompiledPlan` kept to evaluate many times without preparing again.
        actuals: The observations (`read_actuals`, `Actuals.from_frame`, or `CompiledPlan.sort`
            for many as-of dates); None for none yet.
        as_of: The date the evaluation stands on. Rows dated or reported later are invisible.

    Returns:
        An `Evaluation` with one result per target, in plan order, and the alerts.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    compiled = plan if isinstance(plan, CompiledPlan) else compile_plan(plan)
    if actuals is None:
        frame, order = None, None
    elif isinstance(actuals, SortedActuals):
        if actuals.plan is not compiled:
            raise ValueError(
                "these actuals were sorted for another compiled plan; sort them with this one"
            )
        frame, order = actuals.frame, actuals.order
    else:
        frame = actuals.frame
        order = _order(frame, compiled)
    return Evaluation(plan=compiled.plan, as_of=as_of, work=_Work(compiled, as_of, frame, order))


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
    plan: Plan, observations: Observations, as_of: dt.date, met: set[str]
) -> list[Alert]:
    """Alert each target whose indicator's figure is due (period end + lag_days) and not in.

    A target already met needs no more figures, and one whose deadline came before the due
    period only needs the figures up to its deadline.
    """
    alerts: list[Alert] = []
    for code, indicator in enumerate(plan.indicators):
        if indicator.cadence is None:
            continue
        due = _latest_due_period_end(
            plan, _CADENCE_MONTHS[indicator.cadence], indicator.lag_days, as_of
        )
        if due is None:
            continue
        latest = date_of(int(observations.last_day[code]))
        have_zh = f"最新数据截至{latest.isoformat()}" if latest else "尚无数据"
        have_en = f"latest figure dated {latest.isoformat()}" if latest else "no figure yet"
        for target in plan.targets:
            if indicator.id not in target.rule.indicator_ids():
                continue
            if target.id in met:
                continue
            if latest is not None and latest >= min(due, plan.deadline_of(target)):
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
