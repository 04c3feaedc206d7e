"""The plan as data: Plan, Indicator, Target, and the settings that shape a judgement.

Classes here are frozen and valid once built; they know nothing of TOML or JSON (`targetkit.config`
builds them from files). Rule kinds live in `targetkit.rules`.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from targetkit.pace import Pace, PaceMethod

if TYPE_CHECKING:
    from targetkit.units import UnitSystem

__all__ = [
    "DEFAULT_TIMEZONE",
    "Indicator",
    "IndicatorKind",
    "Light",
    "Pace",
    "PaceMethod",
    "Part",
    "Plan",
    "Rule",
    "Severity",
    "Stage",
    "Status",
    "Target",
    "Thresholds",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Light(enum.StrEnum):
    """Traffic light of a status."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"

    @property
    def rank(self) -> int:
        """Return how bad the light is: grey 0 < green 1 < yellow 2 < red 3."""
        return {"grey": 0, "green": 1, "yellow": 2, "red": 3}[self.value]


class Status(enum.StrEnum):
    """Where a target stands at the as-of date (see DESIGN: Statuses and lights)."""

    MET = "met"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    OFF_TRACK = "off_track"
    MISSED = "missed"
    NO_DATA = "no_data"

    @property
    def light(self) -> Light:
        """Return the traffic light of this status."""
        return _LIGHTS[self]

    @property
    def label_zh(self) -> str:
        """Return the Chinese name used in reports (已完成, 达序时, 滞后 …)."""
        return _LABELS_ZH[self]

    @property
    def label_en(self) -> str:
        """Return the English name used in reports."""
        return _LABELS_EN[self]


_LIGHTS = {
    Status.MET: Light.GREEN,
    Status.ON_TRACK: Light.GREEN,
    Status.BEHIND: Light.YELLOW,
    Status.OFF_TRACK: Light.RED,
    Status.MISSED: Light.RED,
    Status.NO_DATA: Light.GREY,
}
_LABELS_ZH = {
    Status.MET: "已完成",
    Status.ON_TRACK: "达序时",
    Status.BEHIND: "滞后",
    Status.OFF_TRACK: "严重滞后",
    Status.MISSED: "未完成",
    Status.NO_DATA: "无数据",
}
_LABELS_EN = {
    Status.MET: "met",
    Status.ON_TRACK: "on track",
    Status.BEHIND: "behind",
    Status.OFF_TRACK: "off track",
    Status.MISSED: "missed",
    Status.NO_DATA: "no data",
}


class Severity(enum.StrEnum):
    """Severity of an alert."""

    WARNING = "warning"
    CRITICAL = "critical"


class IndicatorKind(enum.StrEnum):
    """How an indicator's values behave over the period."""

    CUMULATIVE = "cumulative"
    """A year-to-date flow (1–N月累计): grows through the period; pro-rated by pace."""
    STOCK = "stock"
    """A level counted at a date (number of enterprises); pro-rated by pace when asked."""
    LEVEL = "level"
    """A share, rate or rank: never pro-rated, judged on its current value."""
    MILESTONE = "milestone"
    """Done or not done: rows with value ``done`` (or 1/true) record completion."""


@runtime_checkable
class Rule(Protocol):
    """A target's rule: a frozen value naming its kind and the indicators it reads.

    How a kind is read from plan files, judged, worded and shown lives in its `RuleKind`
    (`targetkit.rules`), registered under the same name.
    """

    @property
    def kind(self) -> str:
        """Return the kind's name as written in plan files (``at_least``)."""
        ...

    def indicator_ids(self) -> tuple[str, ...]:
        """Return the indicators this rule reads."""
        ...


def _indicator_tuple(items: Iterable[Indicator]) -> tuple[Indicator, ...]:
    return tuple(items)


def _target_tuple(items: Iterable[Target]) -> tuple[Target, ...]:
    return tuple(items)


def _part_tuple(items: Iterable[Part]) -> tuple[Part, ...]:
    return tuple(items)


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _pair_tuple(items: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in items)


def _check_id(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _ID.match(value):
        raise ValueError(
            f"{attribute.name} {value!r} must start with a letter or digit and hold only "
            "letters, digits, '_', '-' and '.'"
        )


@attrs.frozen(kw_only=True)
class Thresholds:
    """Gap bands in percentage points: G ≥ on_track → on_track; G ≥ behind → behind; else off_track."""

    on_track: float = 0.0
    behind: float = -30.0

    def __attrs_post_init__(self) -> None:
        if not self.behind <= self.on_track:
            raise ValueError(
                f"thresholds overlap: behind ({self.behind}) must be at or below on_track "
                f"({self.on_track})"
            )


@attrs.frozen(kw_only=True)
class Stage:
    """One stage of a milestone (立项 → 动工 → 验收), due on a date."""

    id: str = attrs.field(validator=_check_id)
    name: str = ""
    due: dt.date


@attrs.frozen(kw_only=True)
class Indicator:
    """What is measured: a value series with one unit.

    Attributes:
        unit: The unit values are stored in ('' for ranks and milestones).
        cadence: How often values are reported ('monthly', 'quarterly', 'annual'), if regular.
        lag_days: Days after a reporting period ends until its figure is published; with a
            cadence, a figure not in by then raises an overdue-data alert.
    """

    id: str = attrs.field(validator=_check_id)
    name: str
    unit: str = ""
    kind: IndicatorKind = IndicatorKind.CUMULATIVE
    name_en: str = ""
    cadence: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(
            attrs.validators.in_(("monthly", "quarterly", "annual"))
        ),
    )
    lag_days: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


@attrs.frozen(kw_only=True)
class Part:
    """One scope's share of a target split across districts or units (目标分解).

    ``scope`` names whose figure it is (a 县市区, a 责任单位), as the actuals' ``scope`` column
    writes it. ``value`` and ``stretch`` replace the rule's own, in the rule's unit; ``deadline``
    and ``owner`` default to the target's.
    """

    scope: str = attrs.field(validator=attrs.validators.min_len(1))
    value: float
    stretch: float | None = None
    deadline: dt.date | None = None
    owner: str = ""


@attrs.frozen(kw_only=True)
class Target:
    """One commitment about one or more indicators, judged by a Rule.

    ``deadline`` None means the plan's end. ``binding`` is True for 确保/不低于 wording and False
    for 力争/争取 ("aspirational"); it sets alert severity.
    """

    id: str = attrs.field(validator=_check_id)
    title: str
    rule: Rule
    deadline: dt.date | None = None
    binding: bool = True
    pace: Pace | None = None
    thresholds: Thresholds | None = None
    warning_days: int | None = None
    aspirational_severity: Severity | None = None
    section: str = ""
    item: int | None = None
    source: str = ""
    owner: str = ""
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    parts: tuple[Part, ...] = attrs.field(default=(), converter=_part_tuple)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for part in self.parts:
            if part.scope in seen:
                raise ValueError(f"target {self.id!r} lists the part {part.scope!r} twice")
            seen.add(part.scope)

    def part(self, scope: str) -> Part:
        """Return the part of this scope (KeyError if the target has none)."""
        for part in self.parts:
            if part.scope == scope:
                return part
        raise KeyError(scope)


@attrs.frozen(kw_only=True)
class Plan:
    """One document's targets, with the defaults every target falls back to."""

    id: str = attrs.field(validator=_check_id)
    title: str
    start: dt.date
    end: dt.date
    indicators: tuple[Indicator, ...] = attrs.field(converter=_indicator_tuple)
    targets: tuple[Target, ...] = attrs.field(converter=_target_tuple)
    issuer: str = ""
    timezone: str = DEFAULT_TIMEZONE
    source: str = ""
    pace: Pace = attrs.field(factory=Pace)
    thresholds: Thresholds = attrs.field(factory=Thresholds)
    warning_days: int = attrs.field(default=30, validator=attrs.validators.ge(0))
    aspirational_severity: Severity = Severity.WARNING
    unit_definitions: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pair_tuple)
    _indicator_index: Mapping[str, Indicator] = attrs.field(
        init=False, repr=False, eq=False, alias="_indicator_index"
    )
    _target_index: Mapping[str, int] = attrs.field(
        init=False, repr=False, eq=False, alias="_target_index"
    )
    _positions: Mapping[str, int] = attrs.field(
        init=False, repr=False, eq=False, alias="_positions"
    )
    _units: UnitSystem = attrs.field(init=False, repr=False, eq=False, alias="_units")

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        object.__setattr__(self, "_indicator_index", {i.id: i for i in self.indicators})
        object.__setattr__(self, "_positions", {i.id: k for k, i in enumerate(self.indicators)})
        object.__setattr__(
            self,
            "_target_index",
            dict(zip([t.id for t in self.targets], range(len(self.targets)), strict=True)),
        )
        for kind, ids in (("indicator", self.indicators), ("target", self.targets)):
            seen: set[str] = set()
            for item in ids:
                if item.id in seen:
                    raise ValueError(f"duplicate {kind} id {item.id!r}")
                seen.add(item.id)
        for target in self.targets:
            for ref in target.rule.indicator_ids():
                if ref not in self._indicator_index:
                    raise ValueError(f"target {target.id!r} refers to unknown indicator {ref!r}")
        from targetkit.units import units_with  # noqa: PLC0415 - units build pint lazily

        definitions = tuple(f"{name} = {d}" for name, d in self.unit_definitions)
        object.__setattr__(self, "_units", units_with(definitions))

    @property
    def units(self) -> UnitSystem:
        """Return the unit system with this plan's own unit definitions."""
        return self._units

    def position(self, indicator_id: str) -> int:
        """Return the indicator's position in ``indicators`` (KeyError if none)."""
        return self._positions[indicator_id]

    def positions(self, indicator_ids: Iterable[str], missing: int | None = None) -> list[int]:
        """Return the positions of indicator ids (`position` of each, in one call).

        An id the plan does not declare gives ``missing``, or KeyError when it is None.
        """
        if missing is None:
            return list(map(self._positions.__getitem__, indicator_ids))
        get = self._positions.get
        return [get(i, missing) for i in indicator_ids]

    def indicator(self, indicator_id: str) -> Indicator:
        """Return the indicator with this id (KeyError if none)."""
        return self._indicator_index[indicator_id]

    def target(self, target_id: str) -> Target:
        """Return the target with this id (KeyError if none)."""
        return self.targets[self._target_index[target_id]]

    def target_position(self, target_id: str) -> int:
        """Return the target's position in ``targets`` (KeyError if none)."""
        return self._target_index[target_id]

    def has_indicator(self, indicator_id: str) -> bool:
        """Return True when the plan declares this indicator."""
        return indicator_id in self._indicator_index

    def deadline_of(self, target: Target) -> dt.date:
        """Return the target's deadline, or the plan's end."""
        return target.deadline or self.end

    def pace_of(self, target: Target) -> Pace:
        """Return the target's pace, or the plan's default."""
        return target.pace or self.pace

    def thresholds_of(self, target: Target) -> Thresholds:
        """Return the target's gap bands, or the plan's."""
        return target.thresholds or self.thresholds

    def warning_days_of(self, target: Target) -> int:
        """Return the milestone warning window of the target, in days."""
        return self.warning_days if target.warning_days is None else target.warning_days

    def severity_of(self, target: Target, status: Status) -> Severity | None:
        """Return the alert severity for a target in this status, or None for no alert."""
        if status is Status.BEHIND:
            return Severity.WARNING
        if status in (Status.OFF_TRACK, Status.MISSED):
            if target.binding:
                return Severity.CRITICAL
            return target.aspirational_severity or self.aspirational_severity
        return None
