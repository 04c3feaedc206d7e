"""Vectorised judgement of the built-in rule kinds: whole columns of targets at once.

`evaluate` judges each built-in kind here, one numpy pass per kind, instead of calling
``rule.judge`` target by target. The scalar ``judge`` methods in `targetkit.rules` stay the
reference: they also write each result's explanation and evidence, and the test suite checks that
both give the same status and numbers. Targets whose rule has no kernel here (a user's own kind,
``growth``, milestones with stages) are judged by their scalar ``judge``.

Dates are whole days since 1970-01-01 (int64) throughout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from targetkit.model import IndicatorKind, Pace, PaceMethod, Plan, Target
from targetkit.pace import expected_progress
from targetkit.rules import (
    AtLeast,
    AtMost,
    Between,
    ChangePP,
    Increase,
    Milestone,
    NetIncrease,
    Rank,
    Share,
)

__all__ = ["STATUS_ORDER", "Columns", "Lookup", "judge_vectorised"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# status codes, in the order of targetkit.model.Status
MET, ON_TRACK, BEHIND, OFF_TRACK, MISSED, NO_DATA = range(6)
STATUS_ORDER = ("met", "on_track", "behind", "off_track", "missed", "no_data")
NAT = np.iinfo(np.int64).min
_REL = 1e-9
_ABS = 1e-9


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _close(a: Floats, b: Floats | float) -> Bools:
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.abs(a - b_arr) <= np.maximum(_REL * np.maximum(np.abs(a), np.abs(b_arr)), _ABS)
        )


def ge(a: Floats, b: Floats | float) -> Bools:
    """Vectorised `targetkit.rules.ge`."""
    with np.errstate(invalid="ignore"):
        return np.asarray((a >= b) | _close(a, b))


def le(a: Floats, b: Floats | float) -> Bools:
    """Vectorised `targetkit.rules.le`."""
    with np.errstate(invalid="ignore"):
        return np.asarray((a <= b) | _close(a, b))


def gt(a: Floats, b: Floats | float) -> Bools:
    return ~le(a, b)


def lt(a: Floats, b: Floats | float) -> Bools:
    return ~ge(a, b)


def _last_per_code(codes: Ints, mask: Bools) -> tuple[Ints, Ints]:
    """Return each code's last row (in row order) among the masked rows: (codes, row positions)."""
    where = np.flatnonzero(mask)
    if not len(where):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    reversed_codes = codes[where][::-1]
    uniq, first_in_reversed = np.unique(reversed_codes, return_index=True)
    return uniq, where[::-1][first_in_reversed]


def indicator_positions(plan: Plan) -> dict[str, int]:
    """Return each indicator id's position in the plan (computed once per plan)."""
    positions: dict[str, int] | None = plan._get_derived("indicator_positions")
    if positions is None:
        positions = {i.id: k for k, i in enumerate(plan.indicators)}
        plan._set_derived("indicator_positions", positions)
    return positions


def indicator_index(plan: Plan) -> pd.Index:
    """Return the plan's indicator ids as a pandas Index (computed once per plan)."""
    index: pd.Index | None = plan._get_derived("indicator_index")
    if index is None:
        index = pd.Index([i.id for i in plan.indicators])
        plan._set_derived("indicator_index", index)
    return index


class Lookup:
    """Per plan indicator: the latest observation within the period and the baseline.

    Built once per evaluation from the selected rows (sorted by indicator, date, stage).
    """

    def __init__(self, plan: Plan, selected: pd.DataFrame) -> None:
        n = len(plan.indicators)
        self.plan = plan
        self._position = indicator_positions(plan)
        self.cur_value = np.full(n, np.nan)
        self.cur_date = np.full(n, NAT, dtype=np.int64)
        self.base_value = np.full(n, np.nan)
        if selected.empty:
            self.codes = np.zeros(0, dtype=np.int64)
            self.days = np.zeros(0, dtype=np.int64)
            self.values = np.zeros(0)
            self.rows = np.zeros(0, dtype=np.int64)
            self.plain = np.zeros(0, dtype=bool)
            return
        self.codes = selected["code"].to_numpy().astype(np.int64)
        self.days = selected["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        self.values = selected["value"].to_numpy().astype(np.float64)
        self.rows = selected["row"].to_numpy().astype(np.int64)
        self.plain = (selected["stage"].to_numpy() == "") & (self.codes >= 0)
        start = _day(plan.start)
        code, at = _last_per_code(self.codes, self.plain & (self.days >= start))
        self.cur_value[code] = self.values[at]
        self.cur_date[code] = self.days[at]
        code, at = _last_per_code(self.codes, self.plain & (self.days == start - 1))
        self.base_value[code] = self.values[at]

    def code(self, indicator_id: str) -> int:
        return self._position[indicator_id]


class Columns:
    """The result columns of an evaluation, one entry per target in plan order."""

    def __init__(self, n: int) -> None:
        self.status = np.full(n, NO_DATA, dtype=np.int8)
        self.actual = np.full(n, np.nan)
        self.target_value = np.full(n, np.nan)
        self.completion = np.full(n, np.nan)
        self.expected = np.full(n, np.nan)
        self.gap = np.full(n, np.nan)
        self.observed = np.full(n, NAT, dtype=np.int64)
        self.baseline = np.full(n, np.nan)
        self.stretch = np.full(n, np.nan)
        self.stretch_met = np.full(n, -1, dtype=np.int8)  # -1 none, 0 no, 1 yes
        self.unit: list[str] = [""] * n
        self.done = np.zeros(n, dtype=bool)  # positions filled by a kernel

    def put(self, pos: Ints, **cols: Any) -> None:
        for name, values in cols.items():
            getattr(self, name)[pos] = values
        self.done[pos] = True


class _Batch:
    """Plan-constant arrays for the targets of one kernel."""

    def __init__(self, plan: Plan, items: Sequence[tuple[int, Target]]) -> None:
        self.pos = np.array([i for i, _ in items], dtype=np.int64)
        targets = [t for _, t in items]
        self.targets = targets
        self.deadline = np.array([_day(plan.deadline_of(t)) for t in targets], dtype=np.int64)
        th = [plan.thresholds_of(t) for t in targets]
        self.on_thr = np.array([x.on_track for x in th])
        self.behind_thr = np.array([x.behind for x in th])
        self.warning = np.array([plan.warning_days_of(t) for t in targets], dtype=np.int64)
        self.paces = [(plan.pace_of(t), plan.deadline_of(t)) for t in targets]
        self._memo: dict[str, Any] = {}

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """Return a plan-constant value of this batch, computing it on first use."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]


def _final(obs: Ints, deadline: Ints, as_of: int) -> Bools:
    """Vectorised `RuleContext.is_final`."""
    return np.asarray((obs >= deadline) | (as_of > deadline))


def _expected(plan: Plan, batch: _Batch, obs: Ints) -> Floats:
    """Expected progress at each observation's day (NaN where not pro-rated or no observation)."""
    out = np.full(len(obs), np.nan)

    def pace_groups() -> list[tuple[Pace, dt.date, Ints]]:
        groups: dict[tuple[Pace, dt.date], list[int]] = {}
        for i, key in enumerate(batch.paces):
            groups.setdefault(key, []).append(i)
        return [
            (pace, deadline, np.array(members, dtype=np.int64))
            for (pace, deadline), members in groups.items()
            if pace.method is not PaceMethod.NONE
        ]

    epoch = dt.date(1970, 1, 1)
    for pace, deadline, idx in batch.memo("pace_groups", pace_groups):
        days = obs[idx]
        have = days != NAT
        uniq = np.unique(days[have])
        table = {
            int(d): expected_progress(pace, plan.start, deadline, epoch + dt.timedelta(days=int(d)))
            for d in uniq
        }
        # one lookup per distinct day, spread back with searchsorted
        keys = np.array(sorted(table), dtype=np.int64)
        vals = np.array([table[int(k)] for k in keys], dtype=np.float64)
        pos = np.searchsorted(keys, days)
        found = have & (pos < len(keys))
        values = np.full(len(days), np.nan)
        values[found] = vals[pos[found]]
        out[idx] = values
    return out


def _progress_status(
    reached: Bools, final: Bools, expected: Floats, gap: Floats, batch: _Batch
) -> npt.NDArray[np.int8]:
    band = np.where(
        ge(gap, batch.on_thr), ON_TRACK, np.where(ge(gap, batch.behind_thr), BEHIND, OFF_TRACK)
    )
    status = np.where(np.isnan(expected), ON_TRACK, band)
    status = np.where(final, MISSED, status)
    return np.where(reached, MET, status).astype(np.int8)


def _level_status(satisfied: Bools, final: Bools, regressing: Bools) -> npt.NDArray[np.int8]:
    return np.select(
        [satisfied & final, satisfied, final, regressing],
        [MET, ON_TRACK, MISSED, OFF_TRACK],
        BEHIND,
    ).astype(np.int8)


def _factor(plan: Plan, unit: str, indicator_unit: str) -> float:
    return plan.units.factor(unit, indicator_unit)


def _stretch_met(value: Floats, stretch: Floats, higher: bool) -> npt.NDArray[np.int8]:
    met = ge(value, stretch) if higher else le(value, stretch)
    return np.where(np.isnan(stretch), -1, met.astype(np.int8)).astype(np.int8)


def _threshold_kernel(
    plan: Plan,
    batch: _Batch,
    look: Lookup,
    cols: Columns,
    as_of: int,
    *,
    upper: bool,
) -> None:
    """at_least (upper=False) and at_most (upper=True); between-with-stretch arrives as at_least."""
    rules: list[Any] = batch.memo("rules", lambda: [t.rule for t in batch.targets])
    normal = batch.memo("normal", lambda: [_as_threshold(r) for r in rules])
    codes = batch.memo("codes", lambda: np.array([look.code(r[0]) for r in normal], dtype=np.int64))
    value = batch.memo("value", lambda: np.array([r[1] for r in normal]))
    units = batch.memo("units", lambda: [r[2] for r in normal])
    stretch = batch.memo(
        "stretch", lambda: np.array([np.nan if r[3] is None else r[3] for r in normal])
    )
    strict = batch.memo("strict", lambda: np.array([r[4] for r in normal], dtype=bool))
    ind_units = batch.memo("ind_units", lambda: [plan.indicators[c].unit for c in codes.tolist()])
    factor = batch.memo(
        "factor",
        lambda: np.array([_factor(plan, u, iu) for u, iu in zip(units, ind_units, strict=True)]),
    )
    kinds = batch.memo("kinds", lambda: [plan.indicators[c].kind for c in codes.tolist()])
    obs = look.cur_date[codes]
    have = obs != NAT
    v = look.cur_value[codes] / factor
    base = look.base_value[codes] / factor
    final = _final(obs, batch.deadline, as_of)
    if upper:
        ok = np.where(strict, lt(v, value), le(v, value))
        level = np.array([k is not IndicatorKind.CUMULATIVE for k in kinds], dtype=bool)
    else:
        ok = np.where(strict, gt(v, value), ge(v, value))
        level = np.array([k is IndicatorKind.LEVEL for k in kinds], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(value != 0, v / value, np.nan)
    expected = _expected(plan, batch, obs)
    is_pct = batch.memo("is_pct", lambda: np.array([u == "%" for u in units], dtype=bool))
    # pro-rated path
    if upper:
        completion_p = np.where(value != 0, ratio, np.where(ok, 0.0, 1.0))
        gap_p = 100.0 * (expected - completion_p)
        band = np.where(
            ge(gap_p, batch.on_thr),
            ON_TRACK,
            np.where(ge(gap_p, batch.behind_thr), BEHIND, OFF_TRACK),
        )
        whole = obs >= batch.deadline
        status_p = np.select(
            [~ok & final, ~ok, final & whole, final, np.isnan(expected)],
            [MISSED, OFF_TRACK, MET, MISSED, ON_TRACK],
            band,
        ).astype(np.int8)
        regressing = ~np.isnan(base) & gt(v, base)
        gap_l = np.where(is_pct, value - v, np.nan)
    else:
        completion_p = np.where(value != 0, ratio, np.where(ok, 1.0, 0.0))
        gap_p = 100.0 * (completion_p - expected)
        status_p = _progress_status(ok, final, expected, gap_p, batch)
        regressing = ~np.isnan(base) & lt(v, base)
        gap_l = np.where(is_pct, v - value, np.nan)
    status_l = _level_status(ok, final, regressing)
    status = np.where(have, np.where(level, status_l, status_p), NO_DATA).astype(np.int8)
    cols.put(
        batch.pos,
        status=status,
        actual=np.where(have, v, np.nan),
        target_value=np.where(have, value, np.nan),
        completion=np.where(have, np.where(level, ratio, completion_p), np.nan),
        expected=np.where(have & ~level, expected, np.nan),
        gap=np.where(have, np.where(level, gap_l, gap_p), np.nan),
        observed=obs,
        baseline=np.where(have & level, base, np.nan),
        stretch=np.where(have, stretch, np.nan),
        stretch_met=np.where(have, _stretch_met(v, stretch, higher=not upper), -1),
    )
    for p, u, h in zip(batch.pos.tolist(), units, have.tolist(), strict=True):
        cols.unit[p] = u if h else ""


def _as_threshold(rule: Any) -> tuple[str, float, str, float | None, bool]:
    if isinstance(rule, Between):
        return rule.indicator, rule.low, rule.unit, rule.high, False
    return rule.indicator, rule.value, rule.unit, rule.stretch, rule.strict


def _net_increase_kernel(
    plan: Plan, batch: _Batch, look: Lookup, cols: Columns, as_of: int
) -> None:
    rules: list[NetIncrease] = [t.rule for t in batch.targets]  # type: ignore[misc]
    codes = batch.memo(
        "codes", lambda: np.array([look.code(r.indicator) for r in rules], dtype=np.int64)
    )
    value = batch.memo("value", lambda: np.array([r.value for r in rules]))
    stretch = batch.memo(
        "stretch", lambda: np.array([np.nan if r.stretch is None else r.stretch for r in rules])
    )
    written = batch.memo(
        "written", lambda: np.array([np.nan if r.baseline is None else r.baseline for r in rules])
    )
    factor = batch.memo(
        "factor",
        lambda: np.array(
            [
                _factor(plan, r.unit, plan.indicators[c].unit)
                for r, c in zip(rules, codes.tolist(), strict=True)
            ]
        ),
    )
    obs = look.cur_date[codes]
    observed_base = look.base_value[codes] / factor
    base = np.where(np.isnan(observed_base), written, observed_base)
    have = (obs != NAT) & ~np.isnan(base)
    increase = look.cur_value[codes] / factor - base
    reached = ge(increase, value)
    with np.errstate(divide="ignore", invalid="ignore"):
        completion = np.where(value != 0, increase / value, np.where(reached, 1.0, 0.0))
    expected = _expected(plan, batch, obs)
    final = _final(obs, batch.deadline, as_of)
    gap = 100.0 * (completion - expected)
    status = np.where(have, _progress_status(reached, final, expected, gap, batch), NO_DATA).astype(
        np.int8
    )
    cols.put(
        batch.pos,
        status=status,
        actual=np.where(have, increase, np.nan),
        target_value=np.where(have, value, np.nan),
        completion=np.where(have, completion, np.nan),
        expected=np.where(have, expected, np.nan),
        gap=np.where(have, gap, np.nan),
        observed=np.where(have, obs, NAT),
        baseline=np.where(have, base, np.nan),
        stretch=np.where(have, stretch, np.nan),
        stretch_met=np.where(have, _stretch_met(increase, stretch, higher=True), -1),
    )
    for p, r, h in zip(batch.pos.tolist(), rules, have.tolist(), strict=True):
        cols.unit[p] = r.unit if h else ""


def _level_kernel(plan: Plan, batch: _Batch, look: Lookup, cols: Columns, as_of: int) -> None:
    """rank, increase and change_pp: one value against a goal or the baseline."""
    rules: list[Any] = [t.rule for t in batch.targets]
    codes = batch.memo(
        "codes", lambda: np.array([look.code(r.indicator) for r in rules], dtype=np.int64)
    )
    n = len(rules)
    kind = batch.memo(
        "kind",
        lambda: np.array(
            [{"rank": 0, "increase": 1, "change_pp": 2}[r.kind] for r in rules], dtype=np.int8
        ),
    )
    written = batch.memo(
        "written",
        lambda: np.array(
            [np.nan if getattr(r, "baseline", None) is None else r.baseline for r in rules]
        ),
    )
    goal = batch.memo(
        "goal", lambda: np.array([float(getattr(r, "value", 0.0) or 0.0) for r in rules])
    )
    stretch = batch.memo(
        "stretch",
        lambda: np.array(
            [np.nan if getattr(r, "stretch", None) is None else float(r.stretch) for r in rules]
        ),
    )
    units = batch.memo(
        "units",
        lambda: [
            ""
            if r.kind == "rank"
            else "个百分点"
            if r.kind == "change_pp"
            else (r.unit if r.unit is not None else plan.indicators[c].unit)
            for r, c in zip(rules, codes.tolist(), strict=True)
        ],
    )

    def level_factors() -> Floats:
        factor = np.ones(n)
        for i, (r, c) in enumerate(zip(rules, codes.tolist(), strict=True)):
            iu = plan.indicators[c].unit
            if r.kind == "increase":
                factor[i] = _factor(plan, units[i], iu)
            elif r.kind == "change_pp":
                factor[i] = 1.0 / plan.units.factor(iu, "%")  # value / factor = value in %
        return factor

    factor = batch.memo("factor", level_factors)
    obs = look.cur_date[codes]
    v = look.cur_value[codes] / factor
    observed_base = look.base_value[codes] / factor
    base = np.where(
        kind == 0, observed_base, np.where(np.isnan(observed_base), written, observed_base)
    )
    final = _final(obs, batch.deadline, as_of)
    has_base = ~np.isnan(base)
    change = v - base
    satisfied = np.select([kind == 0, kind == 1], [le(v, goal), gt(v, base)], ge(change, goal))
    regressing = np.select(
        [kind == 0, kind == 1], [has_base & gt(v, base), lt(v, base)], lt(change, np.zeros(n))
    )
    have = (obs != NAT) & ((kind == 0) | has_base)
    status = np.where(have, _level_status(satisfied, final, regressing), NO_DATA).astype(np.int8)
    actual = np.select([kind == 2], [change], v)
    target_value = np.select([kind == 1], [base], goal)
    with np.errstate(divide="ignore", invalid="ignore"):
        completion = np.where(kind == 2, np.where(goal != 0, change / goal, np.nan), np.nan)
    is_pct = batch.memo("is_pct", lambda: np.array([u == "%" for u in units], dtype=bool))
    gap = np.select([kind == 2, (kind == 1) & is_pct], [change - goal, v - base], np.nan)
    better = np.where(kind == 0, le(actual, stretch), ge(actual, stretch))
    stretch_met = np.where(np.isnan(stretch), -1, better.astype(np.int8)).astype(np.int8)
    cols.put(
        batch.pos,
        status=status,
        actual=np.where(have, actual, np.nan),
        target_value=np.where(have, target_value, np.nan),
        completion=np.where(have, completion, np.nan),
        gap=np.where(have, gap, np.nan),
        observed=np.where(have, obs, NAT),
        baseline=np.where(have, base, np.nan),
        stretch=np.where(have, stretch, np.nan),
        stretch_met=np.where(have, stretch_met, -1),
    )
    for p, u, h in zip(batch.pos.tolist(), units, have.tolist(), strict=True):
        cols.unit[p] = u if h else ""


def _share_kernel(plan: Plan, batch: _Batch, look: Lookup, cols: Columns, as_of: int) -> None:
    rules: list[Share] = [t.rule for t in batch.targets]  # type: ignore[misc]
    num = batch.memo(
        "num", lambda: np.array([look.code(r.numerator) for r in rules], dtype=np.int64)
    )
    den = batch.memo(
        "den", lambda: np.array([look.code(r.denominator) for r in rules], dtype=np.int64)
    )
    value = batch.memo("value", lambda: np.array([r.value for r in rules]))
    stretch = batch.memo(
        "stretch", lambda: np.array([np.nan if r.stretch is None else r.stretch for r in rules])
    )
    ratio_factor = batch.memo(
        "ratio_factor",
        lambda: np.array(
            [
                plan.units.factor(plan.indicators[a].unit, plan.indicators[b].unit)
                for a, b in zip(num.tolist(), den.tolist(), strict=True)
            ]
        ),
    )
    to_target = batch.memo(
        "to_target", lambda: np.array([plan.units.factor("", r.unit) for r in rules])
    )
    to_pct = batch.memo(
        "to_pct",
        lambda: np.array([plan.units.factor(r.unit, "%") if r.unit else np.nan for r in rules]),
    )
    n = len(rules)
    start = _day(plan.start)
    # the latest day ≥ start on which numerator and denominator both have a value
    keep = look.plain & (look.days >= start)
    obs_num = pd.DataFrame(
        {"code": look.codes[keep], "day": look.days[keep], "value": look.values[keep]}
    )
    targets = pd.DataFrame({"t": np.arange(n), "num": num, "den": den})
    a = targets.merge(obs_num.rename(columns={"code": "num", "value": "nv"}), on="num")
    b = a.merge(obs_num.rename(columns={"code": "den", "value": "dv"}), on=["den", "day"])
    b = b.sort_values(["t", "day"], kind="mergesort").drop_duplicates("t", keep="last")
    day = np.full(n, NAT, dtype=np.int64)
    nv = np.full(n, np.nan)
    dv = np.full(n, np.nan)
    t_idx = b["t"].to_numpy()
    day[t_idx] = b["day"].to_numpy()
    nv[t_idx] = b["nv"].to_numpy()
    dv[t_idx] = b["dv"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(dv != 0, nv * ratio_factor / dv * to_target, np.nan)
        base_share = np.where(
            look.base_value[den] != 0,
            look.base_value[num] * ratio_factor / look.base_value[den] * to_target,
            np.nan,
        )
    have = (day != NAT) & ~np.isnan(share)
    satisfied = ge(share, value)
    regressing = ~np.isnan(base_share) & lt(share, base_share)
    final = _final(day, batch.deadline, as_of)
    status = np.where(have, _level_status(satisfied, final, regressing), NO_DATA).astype(np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        completion = np.where(value != 0, share / value, np.nan)
    cols.put(
        batch.pos,
        status=status,
        actual=np.where(have, share, np.nan),
        target_value=np.where(have, value, np.nan),
        completion=np.where(have, completion, np.nan),
        gap=np.where(have, (share - value) * to_pct, np.nan),
        observed=np.where(have, day, NAT),
        baseline=np.where(have, base_share, np.nan),
        stretch=np.where(have, stretch, np.nan),
        stretch_met=np.where(have, _stretch_met(share, stretch, higher=True), -1),
    )
    for p, r, h in zip(batch.pos.tolist(), rules, have.tolist(), strict=True):
        cols.unit[p] = r.unit if h else ""


def _milestone_kernel(plan: Plan, batch: _Batch, look: Lookup, cols: Columns, as_of: int) -> None:
    codes = batch.memo(
        "codes",
        lambda: np.array(
            [look.code(t.rule.indicator_ids()[0]) for t in batch.targets], dtype=np.int64
        ),
    )
    n_ind = len(plan.indicators)
    # per indicator: the latest plain row's value, the last not-done day, and done days after it
    plain = look.plain
    c, d, v = look.codes[plain], look.days[plain], look.values[plain]
    latest_done = np.zeros(n_ind, dtype=bool)
    last_code, last_at = _last_per_code(look.codes, plain)  # rows are in date order per indicator
    latest_done[last_code] = look.values[last_at] >= 0.5
    last_not_done = np.full(n_ind, NAT, dtype=np.int64)
    nd = v < 0.5
    np.maximum.at(last_not_done, c[nd], d[nd])
    first_done = np.full(n_ind, np.iinfo(np.int64).max, dtype=np.int64)
    after = (v >= 0.5) & (d > last_not_done[c])
    np.minimum.at(first_done, c[after], d[after])
    done = latest_done[codes]
    done_on = np.where(done, first_done[codes], NAT)
    deadline = batch.deadline
    on_time = done & (done_on <= deadline)
    status = np.select(
        [on_time, done, as_of > deadline, as_of + batch.warning >= deadline],
        [MET, MISSED, MISSED, BEHIND],
        ON_TRACK,
    ).astype(np.int8)
    cols.put(
        batch.pos,
        status=status,
        actual=np.where(done, 1.0, 0.0),
        target_value=np.ones(len(codes)),
        completion=np.where(done, 1.0, 0.0),
        observed=done_on,
    )


def _groups(plan: Plan) -> dict[str, list[tuple[int, Target]]]:
    """Sort the plan's targets by the kernel that judges them; the rest are left out."""
    groups: dict[str, list[tuple[int, Target]]] = {}
    for i, target in enumerate(plan.targets):
        rule = target.rule
        kind = type(rule)
        if kind is AtLeast or (kind is Between and rule.high_is_stretch):  # type: ignore[attr-defined]
            groups.setdefault("at_least", []).append((i, target))
        elif kind is AtMost:
            groups.setdefault("at_most", []).append((i, target))
        elif kind is NetIncrease:
            groups.setdefault("net_increase", []).append((i, target))
        elif kind in (Rank, Increase, ChangePP):
            groups.setdefault("level", []).append((i, target))
        elif kind is Share:
            groups.setdefault("share", []).append((i, target))
        elif kind is Milestone and not rule.stages:  # type: ignore[attr-defined]
            groups.setdefault("milestone", []).append((i, target))
    return groups


def judge_vectorised(plan: Plan, look: Lookup, as_of: dt.date) -> Columns:
    """Judge every target whose rule has a kernel; the rest are left for scalar judgement."""
    cols = Columns(len(plan.targets))
    batches: dict[str, _Batch] | None = plan._get_derived("kernel_batches")
    if batches is None:
        batches = {name: _Batch(plan, items) for name, items in _groups(plan).items()}
        plan._set_derived("kernel_batches", batches)
    day = _day(as_of)
    for name, batch in batches.items():
        if name == "at_least":
            _threshold_kernel(plan, batch, look, cols, day, upper=False)
        elif name == "at_most":
            _threshold_kernel(plan, batch, look, cols, day, upper=True)
        elif name == "net_increase":
            _net_increase_kernel(plan, batch, look, cols, day)
        elif name == "level":
            _level_kernel(plan, batch, look, cols, day)
        elif name == "share":
            _share_kernel(plan, batch, look, cols, day)
        else:
            _milestone_kernel(plan, batch, look, cols, day)
    return cols
