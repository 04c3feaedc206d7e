"""Plan files: TOML (and JSON with the same structure) to a `Plan`, and back.

`parse` is pure (a mapping in, a Plan out); `load` reads a file. Every problem in a file is
collected and reported together, each with its key path, the line where it stands (found in the
file's text), the offending value and a fix.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from targetkit._parsing import Collector as _Collector
from targetkit._parsing import Lines as _Lines
from targetkit._parsing import boolean as _bool
from targetkit._parsing import check_keys as _check_keys
from targetkit._parsing import choice as _choice
from targetkit._parsing import did_you_mean as _did_you_mean
from targetkit._parsing import get as _get
from targetkit._parsing import nonempty_text as _nonempty_text
from targetkit._parsing import path_text as _path_text
from targetkit._parsing import read_document as _read_document
from targetkit._parsing import text as _text
from targetkit._parsing import text_list as _text_list
from targetkit.dates import parse_date
from targetkit.exceptions import ConfigError, Problem, UnitError
from targetkit.model import (
    DEFAULT_TIMEZONE,
    Indicator,
    IndicatorKind,
    Pace,
    PaceMethod,
    Part,
    Plan,
    Severity,
    Stage,
    Target,
    Thresholds,
)
from targetkit.rules import (
    FROM_INDICATOR,
    FROM_TARGET,
    Field,
    FieldType,
    Rollup,
    Rule,
    RuleKind,
    kind_of,
    rule_kind,
    rule_kinds,
)
from targetkit.units import HUGE, TINY, UnitSystem, units_with

__all__ = ["dump", "dumps", "load", "parse", "parse_document", "read_document"]

_INDICATOR_KIND = _choice(IndicatorKind)
_SEVERITY = _choice(Severity)

SCHEMA_VERSION = 1

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ID_HINT = "start with a letter or digit and use only letters, digits, '_', '-' and '.'"
_CADENCES = ("monthly", "quarterly", "annual")
_INT_LIMIT = 1_000_000  # days, ranks, item numbers; beyond it date arithmetic overflows
_YEARS = (1900, 2199)  # a plan period within these leaves room for lags and baselines

_TOP_KEYS = ("schema", "plan", "defaults", "units", "indicators", "targets", "notify")
_PLAN_KEYS = ("id", "title", "issuer", "period", "timezone", "source")
_DEFAULT_KEYS = ("pace", "thresholds", "warning_days", "aspirational_severity")
_INDICATOR_KEYS = (
    "id",
    "name",
    "name_en",
    "aliases",
    "unit",
    "kind",
    "cadence",
    "lag_days",
    "description",
)
_TARGET_KEYS = (
    "id",
    "title",
    "section",
    "item",
    "source",
    "binding",
    "owner",
    "tags",
    "deadline",
    "rule",
    "parts",
    *_DEFAULT_KEYS,
)
_PART_KEYS = ("scope", "value", "stretch", "deadline", "owner")


# --------------------------------------------------------------------------- typed getters


def _int(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError("expected a whole number")
    if abs(raw) > _INT_LIMIT:  # TOML and JSON integers are unbounded; days and ranks are not
        raise ValueError(f"must be between -{_INT_LIMIT:,} and {_INT_LIMIT:,}")
    return raw


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise TypeError("expected a number")
    try:
        value = float(raw)  # an int beyond float's range (10**400) overflows
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    if value and not TINY <= abs(value) <= HUGE:  # beyond these, ratios and gaps overflow
        raise ValueError(f"must be 0 or between {TINY:g} and {HUGE:g} in size")
    return value


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise TypeError("expected a date without a time")
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        return parse_date(raw)
    raise TypeError("expected a date")


# --------------------------------------------------------------------------- sections


def _parse_pace(
    raw: Any,
    path: Sequence[str | int],
    errs: _Collector,
    period: tuple[dt.date, dt.date] | None = None,
) -> Pace | None:
    if isinstance(raw, str):
        method = _get({"pace": raw}, "pace", path[:-1], errs, _choice(PaceMethod))
        if method is PaceMethod.SCHEDULE:
            errs.add(
                path,
                "a schedule pace needs points",
                'write pace = { method = "schedule", points = [{ date = 2023-03-31, progress = 10 }, …] }',
            )
            return None
        return None if method is None else Pace(method=method)
    if not isinstance(raw, dict):
        errs.add(
            path,
            f"pace must be text or a table (got {raw!r})",
            'write pace = "months", "days" or "none"',
        )
        return None
    _check_keys(raw, ("method", "points"), path, errs)
    method = _get(
        raw, "method", path, errs, _choice(PaceMethod), required=True, expect='"schedule"'
    )
    points: list[tuple[dt.date, float]] = []
    bad_points = False
    raw_points = raw.get("points", [])
    if not isinstance(raw_points, list):
        errs.add(
            [*path, "points"],
            f"points must be a list (got {raw_points!r})",
            "write points = [{ date = 2023-03-31, progress = 10 }, …]",
        )
        return None
    for i, point in enumerate(raw_points):
        ppath = [*path, "points", i]
        if not isinstance(point, dict):
            errs.add(
                ppath,
                f"a point must be a table (got {point!r})",
                "write { date = 2023-03-31, progress = 10 }",
            )
            bad_points = True
            continue
        _check_keys(point, ("date", "progress"), ppath, errs)
        day = _get(point, "date", ppath, errs, _date, required=True, expect="2023-03-31")
        progress = _get(
            point, "progress", ppath, errs, _number, required=True, expect="a percentage such as 35"
        )
        if day is None or progress is None:
            bad_points = True
            continue
        if not 0 <= progress <= 100:
            errs.add(
                [*ppath, "progress"],
                f"progress is a percentage from 0 to 100 (got {progress:g})",
                "write e.g. progress = 35 for 35%",
            )
            bad_points = True
            continue
        if 0 < progress < 1:
            errs.add(
                [*ppath, "progress"],
                f"progress {progress:g} reads as {progress:g}%, not {progress * 100:g}%",
                f"progress is a percentage: write {progress * 100:g} for {progress * 100:g}%",
            )
            bad_points = True
            continue
        if period is not None and not period[0] <= day <= period[1]:
            errs.add(
                [*ppath, "date"],
                f"the point {day.isoformat()} is outside the plan period "
                f"{period[0].isoformat()}..{period[1].isoformat()}",
                "give a date within the period",
            )
            bad_points = True
            continue
        points.append((day, progress / 100.0))
    if method is None or bad_points:
        return None
    try:
        return Pace(method=method, points=tuple(points))
    except ValueError as exc:
        errs.add(path, str(exc), "list points in date order with non-decreasing progress")
        return None


def _parse_thresholds(raw: Any, path: Sequence[str | int], errs: _Collector) -> Thresholds | None:
    if not isinstance(raw, dict):
        errs.add(
            path,
            f"thresholds must be a table (got {raw!r})",
            "write thresholds = { on_track = 0, behind = -30 }",
        )
        return None
    _check_keys(raw, ("on_track", "behind"), path, errs)
    on_track = _get(raw, "on_track", path, errs, _number, default=0.0)
    behind = _get(raw, "behind", path, errs, _number, default=-30.0)
    try:
        return Thresholds(on_track=on_track, behind=behind)
    except ValueError as exc:
        errs.add(path, str(exc), "behind is the lower gap (e.g. -30), on_track the upper (e.g. 0)")
        return None


def _parse_settings(
    table: Mapping[str, Any],
    path: Sequence[str | int],
    errs: _Collector,
    period: tuple[dt.date, dt.date] | None = None,
) -> dict[str, Any]:
    """Parse the keys [defaults] and a target share."""
    out: dict[str, Any] = {}
    if "pace" in table:
        out["pace"] = _parse_pace(table["pace"], [*path, "pace"], errs, period)
    if "thresholds" in table:
        out["thresholds"] = _parse_thresholds(table["thresholds"], [*path, "thresholds"], errs)
    if "warning_days" in table:
        days = _get(table, "warning_days", path, errs, _int, expect="a number of days, e.g. 30")
        if days is not None and days < 0:
            errs.add([*path, "warning_days"], f"must not be negative (got {days})", "write e.g. 30")
            days = None
        out["warning_days"] = days
    if "aspirational_severity" in table:
        out["aspirational_severity"] = _get(
            table,
            "aspirational_severity",
            path,
            errs,
            _SEVERITY,
            expect='"warning" or "critical"',
        )
    return {k: v for k, v in out.items() if v is not None}


def _parse_units(raw: Any, errs: _Collector) -> tuple[tuple[tuple[str, str], ...], UnitSystem]:
    if not isinstance(raw, dict):
        errs.add(
            ["units"],
            f"[units] must be a table (got {raw!r})",
            'write [units] then "床位" = "[bed]"',
        )
        return (), units_with(())
    pairs: list[tuple[str, str]] = []
    for name, definition in raw.items():
        if not isinstance(definition, str):
            errs.add(
                ["units", name],
                f"a unit definition is text (got {definition!r})",
                'write e.g. "万床位" = "10000 床位"',
            )
            continue
        candidate = (*pairs, (name, definition))
        try:
            units_with(tuple(f"{n} = {d}" for n, d in candidate))
        except UnitError as exc:
            errs.add(["units", name], exc.message, exc.hint)
            continue
        pairs.append((name, definition))
    return tuple(pairs), units_with(tuple(f"{n} = {d}" for n, d in pairs))


def _parse_indicator(raw: Any, i: int, units: UnitSystem, errs: _Collector) -> Indicator | None:
    path: list[str | int] = ["indicators", i]
    if not isinstance(raw, dict):
        errs.add(
            path,
            f"an indicator must be a table (got {raw!r})",
            "write [[indicators]] with id, name, unit, kind",
        )
        return None
    _check_keys(raw, _INDICATOR_KEYS, path, errs)
    ident = _read(raw, "id", path, errs, _nonempty_text, '"rd_spending"')
    name = _read(raw, "name", path, errs, _nonempty_text, '"全社会R&D经费投入"')
    unit = _get(raw, "unit", path, errs, _text, default="")
    kind = _read(
        raw, "kind", path, errs, _INDICATOR_KIND, '"cumulative", "stock", "level" or "milestone"'
    )
    cadence = _get(raw, "cadence", path, errs, _text) if "cadence" in raw else None
    if cadence and cadence not in _CADENCES:
        hint = _did_you_mean(cadence, _CADENCES) or "write " + ", ".join(repr(c) for c in _CADENCES)
        errs.add([*path, "cadence"], f"unknown cadence {cadence!r}", hint)
        return None
    if ident is not None and not _ID.match(ident):
        errs.add([*path, "id"], f"the id {ident!r} holds characters an id cannot have", _ID_HINT)
        return None
    lag = (
        _get(raw, "lag_days", path, errs, _int, default=0, expect="a number of days")
        if "lag_days" in raw
        else 0
    )
    if unit:
        try:
            unit = units.check(unit)
        except UnitError as exc:
            errs.add([*path, "unit"], exc.message, exc.hint)
            return None
    if kind is IndicatorKind.MILESTONE and unit:
        errs.add(
            [*path, "unit"],
            f"a milestone has no unit (got {unit!r})",
            'remove the unit or write unit = ""',
        )
        return None
    if None in (ident, name, kind):
        return None
    try:
        return Indicator(
            id=ident,
            name=name,
            unit=unit,
            kind=kind,
            name_en=_get(raw, "name_en", path, errs, _text, default="") if "name_en" in raw else "",
            cadence=cadence or None,
            lag_days=lag if lag is not None else 0,
            description=_get(raw, "description", path, errs, _text, default="")
            if "description" in raw
            else "",
            aliases=_parse_aliases(raw["aliases"], path, errs) if "aliases" in raw else (),
        )
    except ValueError as exc:
        field = (
            "cadence" if "cadence" in str(exc) else "lag_days" if "lag_days" in str(exc) else "id"
        )
        hint = {
            "cadence": 'write "monthly", "quarterly" or "annual"',
            "lag_days": "write a number of days, 0 or more",
            "id": "use letters, digits, '_', '-' and '.'",
        }[field]
        errs.add([*path, field], str(exc), hint)
        return None


def _parse_aliases(raw: Any, path: list[str | int], errs: _Collector) -> tuple[str, ...]:
    """Read an indicator's other names, as workbooks write them: a list of non-empty texts."""
    if not isinstance(raw, list):
        errs.add(
            [*path, "aliases"],
            f"aliases must be a list of names (got {raw!r})",
            'write aliases = ["技术合同成交额", "技术合同登记额"]',
        )
        return ()
    names: list[str] = []
    for k, name in enumerate(raw):
        if not isinstance(name, str) or not name.strip():
            errs.add(
                [*path, "aliases", k],
                f"an alias is a non-empty name (got {name!r})",
                "write the name as a workbook writes it, or remove the entry",
            )
            continue
        names.append(name.strip())
    return tuple(names)


# how a rule field's raw value is converted
_CONVERTERS: dict[FieldType, Callable[[Any], Any]] = {
    FieldType.INDICATOR: _nonempty_text,
    FieldType.NUMBER: _number,
    FieldType.INTEGER: _int,
    FieldType.BOOL: _bool,
    FieldType.TEXT: _text,
    FieldType.UNIT: _text,
    FieldType.STAGES: lambda raw: raw,
}


@attrs.frozen
class _Schema:
    """What reading a kind's rule table needs of its fields, worked out once per kind."""

    kind: RuleKind
    keys: tuple[str, ...]  # the allowed keys, "kind" first
    fields: tuple[tuple[Field, Callable[[Any], Any], str], ...]  # field, converter, expect
    quantities: tuple[str, ...]
    refs: tuple[Field, ...]
    stages: tuple[Field, ...]
    units: tuple[Field, ...]

    @classmethod
    def of(cls, kind: RuleKind) -> _Schema:
        known = _SCHEMAS.get(kind.name)
        if known is not None and known.kind is kind:
            return known
        fields = kind.fields
        schema = cls(
            kind=kind,
            keys=("kind", *(f.name for f in fields)),
            fields=tuple((f, _CONVERTERS[f.type], f.expect()) for f in fields),
            quantities=tuple(f.name for f in fields if f.quantity),
            refs=tuple(f for f in fields if f.type is FieldType.INDICATOR),
            stages=tuple(f for f in fields if f.type is FieldType.STAGES),
            units=tuple(f for f in fields if f.type is FieldType.UNIT),
        )
        _SCHEMAS[kind.name] = schema
        return schema


# by kind name; a kind registered anew under the same name replaces its entry (see `of`)
_SCHEMAS: dict[str, _Schema] = {}


def _quantity_values(
    raw: dict[str, Any],
    keys: Sequence[str],
    path: Sequence[str | int],
    units: UnitSystem,
    errs: _Collector,
) -> dict[str, Any] | None:
    """Let values be written as quantity strings ("220 亿元", "20%"): split them into value and unit."""
    for key in keys:
        if isinstance(raw.get(key), str):
            break
    else:
        return raw  # plain numbers: nothing to split
    out = dict(raw)
    for key in keys:
        value = out.get(key)
        if not isinstance(value, str):
            continue
        try:
            number, unit = units.parse_quantity(value)
        except UnitError as exc:
            errs.add([*path, key], exc.message, exc.hint)
            return None
        given = out.get("unit")
        if isinstance(given, str) and given.strip() and units.check(given) != unit:
            try:
                number *= units.factor(unit, given)
            except UnitError as exc:
                errs.add([*path, key], exc.message, exc.hint)
                return None
        else:
            out["unit"] = unit
        out[key] = number
        out.setdefault("_explicit", set()).add(key)
    return out


def _parse_rule(
    raw: Any,
    path: list[str | int],
    target_id: str | None,
    indicators: dict[str, Indicator],
    units: UnitSystem,
    errs: _Collector,
    implicit: dict[str, Indicator],
    target_title: str,
    broken: set[str],
) -> Rule | None:
    """Read a rule table through its kind's fields: every kind, built in or not, alike."""
    if not isinstance(raw, dict):
        errs.add(
            path,
            f"rule must be a table (got {raw!r})",
            'write rule = { kind = "at_least", indicator = "…", value = 1 }',
        )
        return None
    name = raw.get("kind")
    if not isinstance(name, str) or not name.strip():
        errs.add(
            [*path, "kind"],
            "the rule's kind is missing",
            "choose one of " + ", ".join(rule_kinds()),
        )
        return None
    name = name.strip()
    kind = rule_kind(name)
    if kind is None:
        hint = _did_you_mean(name, rule_kinds()) or "choose one of " + ", ".join(rule_kinds())
        errs.add([*path, "kind"], f"unknown rule kind {name!r}", hint)
        return None
    schema = _Schema.of(kind)
    _check_keys(raw, schema.keys, path, errs)
    quantities = schema.quantities
    table = _quantity_values(raw, quantities, path, units, errs)
    if table is None:
        return None
    explicit: set[str] = table.pop("_explicit", set()) if table is not raw else set()
    values: dict[str, Any] = {}
    ok = True
    for field, convert, expect in schema.fields:
        if field.name not in table:
            if field.required:
                errs.add(
                    [*path, field.name],
                    f"the key {field.name!r} is missing",
                    f"add {field.name} = {expect}",
                )
                ok = False
            continue
        try:
            value = convert(table[field.name])
        except (ValueError, TypeError):  # read again through the kit, which records why
            value = _get(table, field.name, path, errs, convert, expect=expect)
        if value is None:
            ok = False
        values[field.name] = value
    if not ok:
        return None
    refs = schema.refs
    for field in refs:
        if field.default != FROM_TARGET:
            continue
        # an indicator named after the target, declared implicitly when the plan does not
        given = values.get(field.name)
        ind_id = given or target_id or ""
        values[field.name] = ind_id
        if not _ID.match(ind_id):
            if given is not None:  # the target's own id is reported with it
                errs.add(
                    [*path, field.name],
                    f"the id {ind_id!r} holds characters an id cannot have",
                    _ID_HINT,
                )
            return None
        if ind_id not in indicators and ind_id not in implicit:
            implicit[ind_id] = Indicator(
                id=ind_id,
                name=target_title or ind_id,
                unit="",
                kind=field.kinds[0] if field.kinds else IndicatorKind.CUMULATIVE,
            )
    for field in schema.stages:
        if field.name in values:
            stages = _parse_stages(values[field.name], [*path, field.name], errs)
            if stages is None:
                return None
            values[field.name] = stages
    for field in refs:
        ref = values.get(field.name)
        if ref is not None and ref in broken:
            ok = False  # the indicator's own problem is reported where it is declared
        elif ref is not None and ref not in indicators and ref not in implicit:
            errs.add(
                [*path, field.name],
                f"unknown indicator {ref!r}",
                _did_you_mean(ref, [*indicators, *implicit]) or "declare it under [[indicators]]",
            )
            ok = False
    if not ok or not refs or refs[0].name not in values:
        return None if not ok else _build_rule(kind, values, path, errs)
    first_field = refs[0]
    first = indicators.get(values[first_field.name]) or implicit[values[first_field.name]]
    if first_field.kinds and first.kind not in first_field.kinds:
        wanted = " or ".join(k.value for k in first_field.kinds)
        errs.add(
            [*path, first_field.name],
            f"indicator {first.id!r} is {first.kind.value}, not a {wanted}",
            f'give the indicator kind = "{first_field.kinds[0].value}", or use a value rule',
        )
        return None
    if not first_field.kinds and first.kind is IndicatorKind.MILESTONE:
        errs.add(
            [*path, "kind"],
            f"indicator {first.id!r} is a milestone; rule {name!r} needs numbers",
            'use kind = "milestone"',
        )
        return None
    for field in schema.units:
        unit = values.get(field.name)
        if unit is None:
            unit = first.unit if field.default == FROM_INDICATOR else field.default
        if unit is None:
            continue
        try:
            values[field.name] = units.check(unit)
        except UnitError as exc:
            errs.add([*path, field.name], exc.message, exc.hint)
            return None
    unit = values.get("unit")
    if unit and units.is_dimensionless(unit) and abs(units.factor(unit, "%") - 1.0) < 1e-12:
        for key in quantities:
            value = values.get(key)
            if isinstance(value, float) and 0 < abs(value) < 1 and key not in explicit:
                errs.add(
                    [*path, key],
                    f"{value:g} with unit '%' reads as {value:g}%, not {value * 100:g}%",
                    f'write {key} = {value * 100:g} for {value * 100:g}%, or {key} = "{value:g}%" '
                    f"if {value:g}% is meant",
                )
                ok = False
    if not ok:
        return None
    return _build_rule(kind, values, path, errs)


def _build_rule(
    kind: RuleKind, values: dict[str, Any], path: list[str | int], errs: _Collector
) -> Rule | None:
    try:
        return kind.build(values)
    except (ValueError, TypeError) as exc:
        errs.add(
            path,
            f"rule kind {kind.name!r} rejected the table: {exc}",
            "see the rule kind's documentation",
        )
        return None


def _parse_stages(raw: Any, path: list[str | int], errs: _Collector) -> tuple[Stage, ...] | None:
    if not isinstance(raw, list):
        errs.add(
            path,
            f"stages must be a list of tables (got {raw!r})",
            'write stages = [{ id = "approved", name = "立项", due = 2023-06-30 }]',
        )
        return None
    stages: list[Stage] = []
    for i, item in enumerate(raw):
        spath = [*path, i]
        if not isinstance(item, dict):
            errs.add(
                spath,
                f"a stage must be a table (got {item!r})",
                'write { id = "approved", due = 2023-06-30 }',
            )
            return None
        _check_keys(item, ("id", "name", "due"), spath, errs)
        ident = _get(item, "id", spath, errs, _nonempty_text, required=True, expect='"approved"')
        due = _get(item, "due", spath, errs, _date, required=True, expect="2023-06-30")
        name = _get(item, "name", spath, errs, _text, default="")
        if ident is None or due is None:
            return None
        try:
            stages.append(Stage(id=ident, name=name, due=due))
        except ValueError as exc:
            errs.add([*spath, "id"], str(exc), "use letters, digits, '_', '-' and '.'")
            return None
    return tuple(stages)


def _read(
    table: Mapping[str, Any],
    key: str,
    path: list[str | int],
    errs: _Collector,
    convert: Callable[[Any], Any],
    expect: str,
) -> Any:
    """Return ``convert(table[key])``; a missing or bad value goes through the kit's `get`,
    which records the problem with its place (the common, good case costs one call)."""
    if key in table:
        try:
            return convert(table[key])
        except (ValueError, TypeError):
            pass
    return _get(table, key, path, errs, convert, required=True, expect=expect)


# a target's optional keys: (key, converter, default, how a good value looks)
_TARGET_OPTIONAL: tuple[tuple[str, Callable[[Any], Any], Any, str], ...] = (
    ("binding", _bool, True, "true or false"),
    ("section", _text, "", ""),
    ("item", _int, None, "the item number, e.g. 4"),
    ("source", _text, "", ""),
    ("owner", _text, "", ""),
    ("tags", _text_list, (), '["tag", …]'),
)


def _parse_target(
    raw: Any,
    i: int,
    indicators: dict[str, Indicator],
    implicit: dict[str, Indicator],
    units: UnitSystem,
    period: tuple[dt.date, dt.date] | None,
    errs: _Collector,
    broken: set[str],
) -> Target | None:
    path: list[str | int] = ["targets", i]
    if not isinstance(raw, dict):
        errs.add(
            path,
            f"a target must be a table (got {raw!r})",
            "write [[targets]] with id, title and rule",
        )
        return None
    _check_keys(raw, _TARGET_KEYS, path, errs)
    ident = _read(raw, "id", path, errs, _nonempty_text, '"rd_spending"')
    title = _read(raw, "title", path, errs, _nonempty_text, "a short title")
    deadline = (
        _get(raw, "deadline", path, errs, _date, expect="a date such as 2023-12-31")
        if "deadline" in raw
        else None
    )
    if deadline is not None and period is not None and not period[0] <= deadline <= period[1]:
        errs.add(
            [*path, "deadline"],
            f"the deadline {deadline.isoformat()} is outside the plan period "
            f"{period[0].isoformat()}..{period[1].isoformat()}",
            "give a deadline within the period, or widen [plan].period",
        )
        deadline = None
    settings = _parse_settings(raw, path, errs, period)
    rule = None
    if "rule" not in raw:
        errs.add(
            [*path, "rule"],
            "the key 'rule' is missing",
            'add rule = { kind = "at_least", indicator = "…", value = … }',
        )
    else:
        rule = _parse_rule(
            raw["rule"],
            [*path, "rule"],
            ident,
            indicators,
            units,
            errs,
            implicit,
            title or "",
            broken,
        )
    if rule is not None and period is not None:
        end = deadline or period[1]
        for stage in getattr(rule, "stages", ()):
            if not period[0] <= stage.due <= end:
                errs.add(
                    [*path, "rule", "stages"],
                    f"stage {stage.id!r} is due {stage.due.isoformat()}, outside "
                    f"{period[0].isoformat()}..{end.isoformat()}",
                    "give a due date within the period and before the target's deadline",
                )
                rule = None
                break
    fields = {
        key: _get(raw, key, path, errs, convert, default=default, expect=expect)
        if key in raw
        else default
        for key, convert, default, expect in _TARGET_OPTIONAL
    }
    parts = _parse_parts(raw, path, rule, deadline, period, errs)
    if ident is not None and not _ID.match(ident):
        errs.add([*path, "id"], f"the id {ident!r} holds characters an id cannot have", _ID_HINT)
        return None
    if ident is None or title is None or rule is None or parts is None:
        return None
    return Target(
        id=ident, title=title, rule=rule, deadline=deadline, parts=parts, **fields, **settings
    )


def _parse_parts(
    raw: Mapping[str, Any],
    path: list[str | int],
    rule: Rule | None,
    deadline: dt.date | None,
    period: tuple[dt.date, dt.date] | None,
    errs: _Collector,
) -> tuple[Part, ...] | None:
    """Read a target's ``parts`` (目标分解): None when any part is wrong (reported)."""
    items = raw.get("parts", [])
    where = [*path, "parts"]
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        errs.add(
            where,
            f"parts must be a list of tables (got {items!r})",
            'write parts = [{ scope = "东坡区", value = 8000 }, …] or [[targets.parts]] tables',
        )
        return None
    if not items:
        return ()
    if rule is None:
        return None
    kind = kind_of(rule)
    if not kind.display.part_field:
        errs.add(
            where,
            f"a {kind.name} target cannot be split into parts",
            "give each scope a target of its own, or drop parts",
        )
        return None
    ok = True
    out: list[Part] = []
    seen: set[str] = set()
    for k, item in enumerate(items):
        p: list[str | int] = [*where, k]
        _check_keys(item, _PART_KEYS, p, errs)
        scope = _get(item, "scope", p, errs, _nonempty_text, required=True, expect='"东坡区"')
        value = _get(item, "value", p, errs, _number, required=True, expect="a number")
        stretch = _get(item, "stretch", p, errs, _number, expect="a number")
        due = _get(item, "deadline", p, errs, _date, expect="a date such as 2023-12-31")
        owner = _get(item, "owner", p, errs, _text, default="")
        whole = isinstance(getattr(rule, kind.display.part_field, None), int)
        for key, number in (("value", value), ("stretch", stretch)):
            if whole and number is not None and not float(number).is_integer():
                errs.add(
                    [*p, key],
                    f"a part of a {kind.name} target takes a whole number (got {number!r})",
                    "write a whole number such as 3",
                )
                ok = False
        if stretch is not None and not hasattr(rule, "stretch"):
            errs.add([*p, "stretch"], f"a {kind.name} rule has no stretch", "drop stretch")
            stretch, ok = None, False
        end = deadline or (period[1] if period else None)
        if (
            due is not None
            and period is not None
            and end is not None
            and not period[0] <= due <= end
        ):
            errs.add(
                [*p, "deadline"],
                f"the deadline {due.isoformat()} is outside {period[0].isoformat()}.."
                f"{end.isoformat()}",
                "give a date within the period and not after the target's deadline",
            )
            ok = False
        if scope is not None and scope in seen:
            errs.add(
                [*p, "scope"],
                f"the scope {scope!r} is listed twice",
                "give each scope one part",
            )
            ok = False
        if scope is None or value is None:
            ok = False
            continue
        seen.add(scope)
        out.append(Part(scope=scope, value=value, stretch=stretch, deadline=due, owner=owner))
    return tuple(out) if ok else None


def _part_warnings(plan: Plan, positions: Sequence[int], errs: _Collector) -> list[Problem]:
    """Return a warning for each split target of an additive kind whose parts do not add up."""
    warnings: list[Problem] = []
    for index, target in zip(positions, plan.targets, strict=True):
        kind = kind_of(target.rule)
        if not target.parts or kind.display.rollup is not Rollup.SUM:
            continue
        flows = (IndicatorKind.CUMULATIVE, IndicatorKind.STOCK)
        if any(plan.indicator(x).kind not in flows for x in target.rule.indicator_ids()):
            continue  # a level (a rate) is never added up
        whole = float(getattr(target.rule, kind.display.part_field))
        total = math.fsum(p.value for p in target.parts)
        if math.isclose(total, whole, rel_tol=1e-9, abs_tol=1e-9):
            continue
        path: list[str | int] = ["targets", index, "parts"]
        warnings.append(
            Problem(
                source=errs.source,
                path=_path_text(path),
                message=(
                    f"the parts add up to {total:g}, not to the target's {whole:g} "
                    f"(difference {total - whole:+g})"
                ),
                hint="check the parts' values, or add the missing part",
                line=errs.lines.find(path),
            )
        )
    return warnings


def parse(
    data: Mapping[str, Any],
    *,
    source: str = "<mapping>",
    text: str | None = None,
    warnings: list[Problem] | None = None,
) -> Plan:
    """Build a Plan from a plan-file mapping (as read from TOML or JSON).

    Args:
        data: The parsed file.
        source: The file name, used in error messages.
        text: The file's text, used to find the line of each problem.
        warnings: A list to which what is odd but not wrong is added (parts of an additive
            target that do not add up to its value), with its place.

    Raises:
        ConfigError: listing every problem in the mapping.
    """
    errs = _Collector(source=source, lines=_Lines(text, data))
    if not isinstance(data, Mapping):
        errs.add(
            [], "a plan file holds a table at its top level", "see docs/reference/plan-file.md"
        )
        raise ConfigError(errs.problems)
    _check_keys(data, _TOP_KEYS, [], errs)
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        errs.add(
            ["schema"],
            f"this targetkit reads plan schema {SCHEMA_VERSION} (got {schema!r})",
            "upgrade targetkit, or write schema = 1",
        )
        raise ConfigError(errs.problems)
    head = data.get("plan")
    if not isinstance(head, dict):
        errs.add(["plan"], "the [plan] table is missing", "add [plan] with id, title and period")
        head = {}
    _check_keys(head, _PLAN_KEYS, ["plan"], errs)
    plan_id = _get(
        head, "id", ["plan"], errs, _nonempty_text, required=True, expect='"yichang-2023-sti"'
    )
    title = _get(
        head, "title", ["plan"], errs, _nonempty_text, required=True, expect="the plan's title"
    )
    if plan_id is not None and not _ID.match(plan_id):
        errs.add(["plan", "id"], f"the id {plan_id!r} holds characters an id cannot have", _ID_HINT)
        plan_id = None
    timezone = _get(head, "timezone", ["plan"], errs, _text, default=DEFAULT_TIMEZONE)
    if timezone:
        _check_timezone(timezone, errs)
    period = _parse_period(head, errs)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        errs.add(
            ["defaults"], "[defaults] must be a table", 'write [defaults] then pace = "months"'
        )
        defaults = {}
    _check_keys(defaults, _DEFAULT_KEYS, ["defaults"], errs)
    settings = _parse_settings(defaults, ["defaults"], errs, period)
    unit_pairs, units = _parse_units(data.get("units", {}), errs)

    indicators: dict[str, Indicator] = {}
    raw_indicators = data.get("indicators", [])
    if not isinstance(raw_indicators, list):
        errs.add(
            ["indicators"], "indicators must be an array of tables", "write [[indicators]] for each"
        )
        raw_indicators = []
    broken: set[str] = set()  # indicators with a problem of their own: do not report their uses
    alias_owner: dict[str, str] = {}
    for i, raw in enumerate(raw_indicators):
        ind = _parse_indicator(raw, i, units, errs)
        if ind is None:
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                broken.add(raw["id"].strip())
            continue
        if ind.id in indicators:
            errs.add(
                ["indicators", i, "id"],
                f"duplicate indicator id {ind.id!r}",
                "give each indicator its own id",
            )
            continue
        indicators[ind.id] = ind
        for k, alias in enumerate(ind.aliases):
            owner = alias_owner.setdefault(alias, ind.id)
            if owner != ind.id:
                errs.add(
                    ["indicators", i, "aliases", k],
                    f"the alias {alias!r} is already an alias of {owner!r}",
                    "give each name to one indicator only",
                )

    implicit: dict[str, Indicator] = {}
    targets: list[Target] = []
    raw_targets = data.get("targets", [])
    if not isinstance(raw_targets, list):
        errs.add(["targets"], "targets must be an array of tables", "write [[targets]] for each")
        raw_targets = []
    if not raw_targets and isinstance(raw_targets, list):
        errs.add(["targets"], "the plan has no targets", "add at least one [[targets]] table")
    seen: set[str] = set()
    positions: list[int] = []  # each parsed target's index in the file, for error paths
    for i, raw in enumerate(raw_targets):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str) and raw_id.strip() in seen:
            errs.add(
                ["targets", i, "id"],
                f"duplicate target id {raw_id.strip()!r}",
                "give each target its own id",
            )
            continue
        if isinstance(raw_id, str):
            seen.add(raw_id.strip())
        target = _parse_target(raw, i, indicators, implicit, units, period, errs, broken)
        if target is None:
            continue
        targets.append(target)
        positions.append(i)

    all_indicators = (*indicators.values(), *implicit.values())
    plan: Plan | None = None
    refused: ValueError | None = None
    if not errs.problems and period is not None and plan_id is not None and title is not None:
        try:
            plan = Plan(
                id=plan_id,
                title=title,
                start=period[0],
                end=period[1],
                indicators=all_indicators,
                targets=tuple(targets),
                issuer=_get(head, "issuer", ["plan"], errs, _text, default=""),
                timezone=timezone or DEFAULT_TIMEZONE,
                source=_get(head, "source", ["plan"], errs, _text, default=""),
                unit_definitions=unit_pairs,
                **settings,
            )
        except ValueError as exc:
            refused = exc
    # Every rule checks itself against the indicators that did parse, whatever else is wrong,
    # so that one run lists every problem of the file (on the plan itself when it could be made)
    probe = plan or Plan(
        id="probe",
        title="probe",
        start=period[0] if period else dt.date(2000, 1, 1),
        end=period[1] if period else dt.date(2000, 12, 31),
        indicators=all_indicators,
        targets=(),
        unit_definitions=unit_pairs,
    )
    for index, target in zip(positions, targets, strict=True):
        for field, message, hint in kind_of(target.rule).check(target.rule, probe):
            errs.add(["targets", index, "rule", field], message, hint)
    if errs.problems:
        # in file order, so a user works down the file; problems without a line keep their order
        raise ConfigError(sorted(errs.problems, key=lambda p: (p.line is None, p.line or 0)))
    if refused is not None:
        raise ConfigError([Problem(source=source, path="plan", message=str(refused))]) from refused
    if plan is None:  # reported above: the period, id or title is missing
        raise ConfigError(errs.problems)
    if warnings is not None:
        warnings.extend(_part_warnings(plan, positions, errs))
    return plan


def _check_timezone(name: str, errs: _Collector) -> None:
    import zoneinfo  # noqa: PLC0415 - only plans naming a zone pay for it

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errs.add(
            ["plan", "timezone"],
            f"unknown time zone {name!r}",
            'write an IANA name such as "Asia/Shanghai"',
        )


def _parse_period(head: Mapping[str, Any], errs: _Collector) -> tuple[dt.date, dt.date] | None:
    raw = head.get("period")
    path: list[str | int] = ["plan", "period"]
    if raw is None:
        errs.add(
            path,
            "the key 'period' is missing",
            "add period = { start = 2023-01-01, end = 2023-12-31 }",
        )
        return None
    if not isinstance(raw, dict):
        errs.add(
            path,
            f"period must be a table (got {raw!r})",
            "write period = { start = 2023-01-01, end = 2023-12-31 }",
        )
        return None
    _check_keys(raw, ("start", "end"), path, errs)
    start = _get(raw, "start", path, errs, _date, required=True, expect="2023-01-01")
    end = _get(raw, "end", path, errs, _date, required=True, expect="2023-12-31")
    if start is None or end is None:
        return None
    if end < start:
        errs.add(path, f"the period ends ({end}) before it starts ({start})", "swap start and end")
        return None
    if start.year < _YEARS[0] or end.year > _YEARS[1]:
        errs.add(
            path,
            f"the period {start}..{end} is not within the years {_YEARS[0]}–{_YEARS[1]}",
            "check the years of start and end",
        )
        return None
    return start, end


def read_document(path: str | Path) -> tuple[dict[str, Any], str]:
    """Read a plan file once: its mapping and its text (for line numbers in messages).

    ``.json`` is read as JSON, anything else as TOML. `load` is `parse` of what this returns;
    the CLI reads a plan file once and hands the same document to the notify settings too.

    Raises:
        ConfigError: when the file cannot be read, is not UTF-8 or is not valid TOML/JSON.
    """
    data, text = _read_document(Path(path), save_hint="save the plan file as UTF-8")
    return data, text


def load(path: str | Path, *, warnings: list[Problem] | None = None) -> Plan:
    """Read a plan file: ``.toml`` (or anything else) as TOML, ``.json`` as JSON.

    ``warnings``, when given, receives what `parse` finds odd but not wrong.

    Raises:
        ConfigError: when the file cannot be read or holds problems (all listed).
    """
    return parse_document(read_document(path), path, warnings=warnings)


def parse_document(
    document: tuple[Mapping[str, Any], str],
    path: str | Path,
    *,
    warnings: list[Problem] | None = None,
) -> Plan:
    """Return the plan of a document `read_document` read from ``path`` (named as `load` does).

    Raises:
        ConfigError: listing every problem in the plan.
    """
    data, text = document
    return parse(data, source=str(Path(path)), text=text, warnings=warnings)


# --------------------------------------------------------------------------- dumping


def dump(plan: Plan) -> dict[str, Any]:
    """Return the plan as a plan-file mapping; `parse` of it gives an equal plan."""
    head: dict[str, Any] = {
        "id": plan.id,
        "title": plan.title,
        "period": {"start": plan.start, "end": plan.end},
    }
    if plan.issuer:
        head["issuer"] = plan.issuer
    head["timezone"] = plan.timezone
    if plan.source:
        head["source"] = plan.source
    out: dict[str, Any] = {"schema": SCHEMA_VERSION, "plan": head}
    defaults = _dump_settings(
        plan.pace, plan.thresholds, plan.warning_days, plan.aspirational_severity
    )
    if defaults:
        out["defaults"] = defaults
    if plan.unit_definitions:
        out["units"] = dict(plan.unit_definitions)
    out["indicators"] = [_dump_indicator(i) for i in plan.indicators]
    out["targets"] = [_dump_target(t) for t in plan.targets]
    return out


def _dump_settings(
    pace: Pace | None,
    thresholds: Thresholds | None,
    warning_days: int | None,
    severity: Severity | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if pace is not None:
        if pace.method is PaceMethod.SCHEDULE:
            out["pace"] = {
                "method": "schedule",
                "points": [{"date": d, "progress": round(f * 100, 10)} for d, f in pace.points],
            }
        else:
            out["pace"] = pace.method.value
    if thresholds is not None:
        out["thresholds"] = {"on_track": thresholds.on_track, "behind": thresholds.behind}
    if warning_days is not None:
        out["warning_days"] = warning_days
    if severity is not None:
        out["aspirational_severity"] = severity.value
    return out


def _dump_indicator(ind: Indicator) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ind.id, "name": ind.name}
    if ind.name_en:
        out["name_en"] = ind.name_en
    out["unit"] = ind.unit
    out["kind"] = ind.kind.value
    if ind.cadence:
        out["cadence"] = ind.cadence
    if ind.lag_days:
        out["lag_days"] = ind.lag_days
    if ind.description:
        out["description"] = ind.description
    if ind.aliases:
        out["aliases"] = list(ind.aliases)
    return out


def _dump_target(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "title": t.title}
    if t.section:
        out["section"] = t.section
    if t.item is not None:
        out["item"] = t.item
    if t.source:
        out["source"] = t.source
    out["binding"] = t.binding
    if t.owner:
        out["owner"] = t.owner
    if t.tags:
        out["tags"] = list(t.tags)
    if t.deadline is not None:
        out["deadline"] = t.deadline
    out.update(_dump_settings(t.pace, t.thresholds, t.warning_days, t.aspirational_severity))
    kind = kind_of(t.rule)
    rule = kind.to_config(t.rule)
    if rule.get("unit") == "%":
        for key in (f.name for f in kind.fields if f.quantity):
            value = rule.get(key)
            if isinstance(value, float) and 0 < abs(value) < 1:
                rule[key] = f"{value!r}%"  # a plain 0.2 with '%' would read as a fraction
    out["rule"] = rule
    if t.parts:
        out["parts"] = [
            {
                "scope": p.scope,
                "value": p.value,
                **({"stretch": p.stretch} if p.stretch is not None else {}),
                **({"deadline": p.deadline} if p.deadline is not None else {}),
                **({"owner": p.owner} if p.owner else {}),
            }
            for p in t.parts
        ]
    return out


def dumps(plan: Plan, *, format: str = "toml") -> str:  # noqa: A002 - mirrors the CLI flag
    """Return the plan as TOML or JSON text."""
    data = dump(plan)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n"
    if format != "toml":
        raise ValueError(f"format must be 'toml' or 'json' (got {format!r})")
    return _toml(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            repr(value)
            if math.isfinite(value)
            else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        # JSON's string escapes are TOML's, but TOML also forbids a raw DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else json.dumps(key, ensure_ascii=False)


def _toml(data: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for key, value in data.items():
        if not isinstance(value, dict | list):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{_toml_key(key)}]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines += ["", f"[[{_toml_key(key)}]]"]
                lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines).lstrip("\n") + "\n"
