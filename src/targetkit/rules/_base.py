"""The base every rule kind is built on: schema fields, the batch a kind judges, its verdicts.

A rule kind (`RuleKind`) is one plug-in: the fields of its plan-file table, one vectorised
judgement over all targets of the kind (`RuleKind.judge` turns a `Batch` into `Verdicts`), its
sentences written from those verdicts (`RuleKind.describe`), and how renderers show it
(`Display`, `RuleKind.show_target`, `RuleKind.show_actual`). Built-in kinds and users' kinds use
exactly this API.

Dates are whole days since 1970-01-01 (int64) inside a batch; ``NAT`` marks "no date".
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import attrs
import numpy as np
import numpy.typing as npt

from targetkit.model import Indicator, IndicatorKind, Plan, Rule, Status, Target
from targetkit.pace import PaceMethod, expected_progress

__all__ = [
    "BEHIND",
    "MET",
    "MISSED",
    "NAT",
    "NO_DATA",
    "OFF_TRACK",
    "ON_TRACK",
    "STATUSES",
    "Batch",
    "Bools",
    "Display",
    "DraftRole",
    "Drafting",
    "Field",
    "FieldType",
    "Floats",
    "Ints",
    "Kind",
    "Observations",
    "Rollup",
    "Row",
    "RuleKind",
    "Shown",
    "Verdicts",
    "date_of",
    "day_of",
    "fmt",
    "ge",
    "gt",
    "le",
    "lt",
    "pct",
    "qty",
    "vge",
    "vgt",
    "vle",
    "vlt",
    "when_label",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int8]

# status codes, in the order of `targetkit.model.Status`
MET, ON_TRACK, BEHIND, OFF_TRACK, MISSED, NO_DATA = range(6)
STATUSES: tuple[Status, ...] = tuple(Status)
NAT = int(np.iinfo(np.int64).min)
_EPOCH = dt.date(1970, 1, 1)


def day_of(d: dt.date) -> int:
    """Return a date as whole days since 1970-01-01."""
    return (d - _EPOCH).days


def date_of(day: int) -> dt.date | None:
    """Return the date of a day number, or None for ``NAT``."""
    return None if day == NAT else _EPOCH + dt.timedelta(days=int(day))


# --------------------------------------------------------------------------- comparisons

# Values reach a rule through a unit conversion (220 亿元 may arrive as 2,200,000 万元 × 1e-4), so
# comparisons treat numbers within a relative 1e-9 as equal: a unit must never change a status.
_REL = 1e-9
_ABS = 1e-9


def ge(a: float, b: float) -> bool:
    """Return a ≥ b, counting nearly equal numbers as equal."""
    return a >= b or math.isclose(a, b, rel_tol=_REL, abs_tol=_ABS)


def le(a: float, b: float) -> bool:
    """Return a ≤ b, counting nearly equal numbers as equal."""
    return a <= b or math.isclose(a, b, rel_tol=_REL, abs_tol=_ABS)


def gt(a: float, b: float) -> bool:
    """Return a > b, where nearly equal numbers are not greater."""
    return not le(a, b)


def lt(a: float, b: float) -> bool:
    """Return a < b, where nearly equal numbers are not less."""
    return not ge(a, b)


def _close(a: Floats, b: Floats | float) -> Bools:
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.abs(a - b_arr) <= np.maximum(_REL * np.maximum(np.abs(a), np.abs(b_arr)), _ABS)
        )


def vge(a: Floats, b: Floats | float) -> Bools:
    """Return a ≥ b element-wise, as `ge` does (False where either side is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.asarray((a >= b) | _close(a, b))


def vle(a: Floats, b: Floats | float) -> Bools:
    """Return a ≤ b element-wise, as `le` does (False where either side is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.asarray((a <= b) | _close(a, b))


def vgt(a: Floats, b: Floats | float) -> Bools:
    """Return a > b element-wise, as `gt` does (True where either side is NaN)."""
    return ~vle(a, b)


def vlt(a: Floats, b: Floats | float) -> Bools:
    """Return a < b element-wise, as `lt` does (True where either side is NaN)."""
    return ~vge(a, b)


def safe_div(a: Floats, b: Floats | float) -> Floats:
    """Return a / b element-wise, NaN where b is zero."""
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), np.shape(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b_arr != 0, np.asarray(a) / np.where(b_arr != 0, b_arr, 1.0), np.nan)


# --------------------------------------------------------------------------- schema


class FieldType(enum.StrEnum):
    """What a field of a rule table holds."""

    INDICATOR = "indicator"
    NUMBER = "number"
    INTEGER = "integer"
    BOOL = "bool"
    TEXT = "text"
    UNIT = "unit"
    STAGES = "stages"


FROM_INDICATOR = "@indicator"
"""A unit field's default meaning "the unit of the rule's first indicator"."""
FROM_TARGET = "@target"
"""An indicator field's default meaning "the target's own id" (milestones)."""


@attrs.frozen(kw_only=True)
class Field:
    """One key of a rule kind's plan-file table.

    Attributes:
        name: The key as written in plan files.
        type: What it holds; the plan reader converts and checks it, with the key's place.
        required: Whether a plan must give it.
        default: The value when absent (None: absent). For a unit, `FROM_INDICATOR` takes the
            first indicator's unit; for an indicator, `FROM_TARGET` takes the target's id.
        doc: One line for the plan reference.
        quantity: The value may be written with its unit ("220 亿元", "20%"), and a value of
            0 < |x| < 1 with unit '%' is refused as ambiguous.
        kinds: For an indicator field, the indicator kinds it accepts (empty: any numeric).
    """

    name: str
    type: FieldType
    required: bool = False
    default: Any = None
    doc: str = ""
    quantity: bool = False
    kinds: tuple[IndicatorKind, ...] = ()

    def expect(self) -> str:
        """Return how a correct value looks, for hints."""
        return {
            FieldType.INDICATOR: "an indicator id",
            FieldType.NUMBER: "a number",
            FieldType.INTEGER: "a whole number such as 3",
            FieldType.BOOL: "true or false",
            FieldType.TEXT: "text",
            FieldType.UNIT: f'"{self.default}"'
            if isinstance(self.default, str) and not self.default.startswith("@")
            else "a unit",
            FieldType.STAGES: "a list of stages",
        }[self.type]


class DraftRole(enum.StrEnum):
    """A way `targetkit draft` reads a figure, which a kind may take on (`Drafting.role`).

    The drafter knows how each of these is written in a plan and what it reads from it (the
    subject, the indicator's kind and unit, the notes for review); a kind that takes a role is
    drafted where the text reads that way, whether its own words or the text's shape chose it.
    """

    FLOOR = "floor"
    """A figure to reach: the plain figure, with or without a floor word (不低于220亿元)."""
    CAP = "cap"
    """A figure to stay within: a cap word or 以内/以下, and lower-is-better subjects (失业率5.5%)."""
    BAND = "band"
    """A range (6%-7%) or a plain figure about a value (1.4万亿斤左右)."""
    POINTS = "points"
    """A change in percentage points (提高2个百分点)."""
    RISE = "rise"
    """A rise in % of an amount over last year (增长7%, 翻一番)."""
    FALL = "fall"
    """A fall in % against last year (下降3%); a fall in points is tracked as a floor on the fall."""
    NET_ADD = "net_add"
    """An amount added to a standing level during the year (净增100家)."""
    SHARE = "share"
    """The share of one amount in another (占全市的30%)."""
    POSITION = "position"
    """A place in a ranking (前三, 第5位, 前列)."""
    UPWARD = "upward"
    """A rise with no figure (有所提高)."""
    STEPS = "steps"
    """Dated steps to done (6月底前出台方案, 年底前建成)."""


@attrs.frozen(kw_only=True)
class Drafting:
    """How `targetkit draft` writes a target of this kind read from a plan's text.

    The drafter reads a figure, its unit and its subject; a kind that declares ``words`` is
    chosen when one of them stands before the figure (``不低于220亿元`` → at_least), and its rule
    is built with `RuleKind.build` from the kind's own fields: each indicator field gets a
    drafted indicator, and ``value``, ``low``, ``high``, ``unit``, ``stretch`` and
    ``high_is_stretch`` the figures read, where the kind has such fields.

    A kind with words and no ``role`` is drafted plainly: the figure after its words, with its
    unit and subject. A kind with a ``role`` is read the way the drafter reads that role (a cap
    word before a figure in 百分点 reads as a fall in points, a rise word before 100家 as
    ``count_as``, …), and the first registered kind of each role is the one the text's shape
    chooses when no word of a kind does (前三 → the `DraftRole.POSITION` kind).

    Attributes:
        words: Wordings that introduce the kind before its figure, as plans write them (plain
            text; the longest match wins across all kinds).
        slug: The drafted target id after its location (``item4_``), a `str.format` template
            over ``kind``, the rule's numbers (``value``, ``low``, ``high``, written 2p5) and
            ``unit`` (a short ASCII name: yi, pct …), and ``label`` for a milestone's step.
        indicators: The ids of the drafted indicators, one per indicator field in field order,
            templates over ``id`` (the target's id).
        role: How the drafter reads the kind (`DraftRole`); None: plainly, by its words only.
        nouns: Subject nouns that choose the kind for a figure in % whose words do not say
            down (工业增加值增速7% → growth, as 增长7% would): plain text, anywhere in the subject.
        count_as: The kind the words read as before a figure with a count or amount unit rather
            than a %, by its name ('': the kind itself). 增长100家 is a net increase, not growth.
        gloss: How the review notes name a reading of this kind (``“增长100家” read as …``);
            '': the kind's name.
        carries_to_levels: Whether the words carry on to a following figure of a level subject
            that has no words of its own (``增长7%、占比30%``: 占比 is no growth).
    """

    words: tuple[str, ...] = ()
    slug: str = "{kind}_{value}_{unit}"
    indicators: tuple[str, ...] = ("{id}",)
    role: DraftRole | None = None
    nouns: tuple[str, ...] = ()
    count_as: str = ""
    gloss: str = ""
    carries_to_levels: bool = True


DRAFTING = Drafting()
"""The drafting of a kind that declares none: no words of its own, the default id form."""


def drafting_of(kind: object) -> Drafting:
    """Return how the drafter writes targets of ``kind`` (`DRAFTING` when it declares nothing).

    ``drafting`` is optional for a kind, so that kinds written before it keep working.
    """
    found = getattr(kind, "drafting", DRAFTING)
    return found if isinstance(found, Drafting) else DRAFTING


@attrs.frozen(kw_only=True)
class Display:
    """How renderers (table, JSON/CSV, reports, charts, trajectories) treat a kind's results.

    Attributes:
        counts_up_on: Indicator kinds on which the judged value is a flow or stock counted up
            from zero through the period and pro-rated by pace (a chart starts at zero).
        grows_on: Indicator kinds on which the judged value is the growth of a flow over the same
            period a year earlier (同比): the year-end forecast is of the flow itself, against
            last year's figure at the deadline grown by the target rate.
        lower_is_better: A smaller value is the better one (caps, ranks).
        baseline_comparable: The result's baseline is in the terms of its judged value (False
            where the judged value is itself a change: a net increase, a growth rate).
        ordinal: The value is a position (1 is best): whole numbers, axis with 1 on top.
        done_or_not: The value is done (1) or not done (0): a milestone.
        part_field: The rule field a part's value replaces when a target is split into parts
            (目标分解), ``stretch`` too when the rule has one; empty: the kind takes no parts.
        rollup: How the whole's result comes from its parts' figures where the whole has none
            of its own (`Rollup`). Only flows and stocks are ever summed: on a level indicator
            (a rate, a rank) no kind rolls up.
    """

    counts_up_on: frozenset[IndicatorKind] = frozenset()
    grows_on: frozenset[IndicatorKind] = frozenset()
    lower_is_better: bool = False
    baseline_comparable: bool = True
    ordinal: bool = False
    done_or_not: bool = False
    part_field: str = ""
    rollup: Rollup = attrs.field(factory=lambda: Rollup.NONE)


class Rollup(enum.StrEnum):
    """How a split target's whole follows from its parts (`Display.rollup`).

    ``sum``: the whole's figures are the sums of the parts' figures (baselines too), and the
    parts' values add up to the whole's value (net increases, totals at least or at most X).
    ``ratio``: the figures are summed and the kind computes its value from the sums (a share from
    summed numerator and denominator, a growth from summed values and baselines); the parts'
    values need not add up. ``none``: the whole needs a figure of its own (ranks, pp changes).
    """

    SUM = "sum"
    RATIO = "ratio"
    NONE = "none"


# --------------------------------------------------------------------------- observations


class Observations:
    """The visible rows at the as-of date (latest revision per indicator, stage and date).

    Arrays are sorted by indicator position (``codes``), date (``days``) and stage; ``rows`` are
    positions in the actuals table, for evidence. Per indicator position, ``cur_*`` describe the
    latest plain (not staged) row dated within the period, ``base_*`` the row dated the day before
    the period starts, and ``last_day`` the latest plain row of any date.
    """

    def __init__(
        self,
        n_indicators: int,
        start: int,
        codes: Ints,
        days: Ints,
        values: Floats,
        rows: Ints,
        stages: npt.NDArray[np.object_],
    ) -> None:
        self.codes, self.days, self.values, self.rows, self.stages = (
            codes,
            days,
            values,
            rows,
            stages,
        )
        self.plain: Bools = np.asarray(stages == "", dtype=bool) & (codes >= 0)
        self.cur_value = np.full(n_indicators, np.nan)
        self.cur_day = np.full(n_indicators, NAT, dtype=np.int64)
        self.cur_row = np.full(n_indicators, -1, dtype=np.int64)
        self.base_value = np.full(n_indicators, np.nan)
        self.base_row = np.full(n_indicators, -1, dtype=np.int64)
        self.last_day = np.full(n_indicators, NAT, dtype=np.int64)
        self.count = np.bincount(codes[codes >= 0], minlength=n_indicators)[:n_indicators]
        code, at = last_per_code(codes, self.plain & (days >= start))
        self.cur_value[code], self.cur_day[code], self.cur_row[code] = (
            values[at],
            days[at],
            rows[at],
        )
        code, at = last_per_code(codes, self.plain & (days == start - 1))
        self.base_value[code], self.base_row[code] = values[at], rows[at]
        code, at = last_per_code(codes, self.plain)
        self.last_day[code] = days[at]
        plain_at = np.flatnonzero(self.plain)
        self._keys = _key(codes[plain_at], days[plain_at])  # sorted: codes, then days
        self._plain_at = plain_at

    def on(self, codes: Ints, days: Ints) -> tuple[Floats, Ints]:
        """Return (value, row) of each indicator's plain row dated exactly on each day."""
        want = _key(codes, days)
        pos = np.searchsorted(self._keys, want)
        pos_ok = np.minimum(pos, max(len(self._keys) - 1, 0))
        found = (pos < len(self._keys)) & (days != NAT)
        if len(self._keys):
            found &= self._keys[pos_ok] == want
        at = self._plain_at[pos_ok] if len(self._plain_at) else np.zeros(len(codes), np.int64)
        values = np.where(found, self.values[at] if len(self.values) else np.nan, np.nan)
        rows = np.where(found, self.rows[at] if len(self.rows) else -1, -1)
        return values.astype(np.float64), rows.astype(np.int64)


def _key(codes: Ints, days: Ints) -> Ints:
    # days span 1900..2200 (±2^17 around 1970); shift them positive and pack with the code
    return np.asarray(codes, dtype=np.int64) * (1 << 20) + (
        np.clip(np.asarray(days, dtype=np.int64), -(1 << 19), (1 << 19) - 1) + (1 << 19)
    )


def last_per_code(codes: Ints, mask: Bools) -> tuple[Ints, Ints]:
    """Return each code's last row (in row order) among the masked rows: (codes, positions)."""
    where = np.flatnonzero(mask)
    if not len(where):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    reversed_codes = codes[where][::-1]
    uniq, first_in_reversed = np.unique(reversed_codes, return_index=True)
    return uniq.astype(np.int64), where[::-1][first_in_reversed]


# --------------------------------------------------------------------------- batch


class Batch:
    """The targets of one kind, and what their judgement may look at.

    ``rules``, ``targets`` and the per-target arrays are in the same order; ``prepared`` is what
    the kind's `RuleKind.prepare` computed for them once per plan.
    """

    def __init__(
        self,
        *,
        plan: Plan,
        as_of: dt.date,
        targets: tuple[Target, ...],
        prepared: Any,
        observations: Observations,
        setting: _Settings,
    ) -> None:
        self.plan = plan
        self.as_of = as_of
        self.day = day_of(as_of)
        self.start = day_of(plan.start)
        self.targets = targets
        self.rules: tuple[Any, ...] = tuple(t.rule for t in targets)
        self.prepared = prepared
        self.obs = observations
        self._setting = setting
        self.deadline = setting.deadline
        self.warning = setting.warning

    def __len__(self) -> int:
        return len(self.targets)

    def current(self, codes: Ints) -> tuple[Floats, Ints, Ints]:
        """Return (value, day, row) of each indicator's latest figure dated within the period."""
        return self.obs.cur_value[codes], self.obs.cur_day[codes], self.obs.cur_row[codes]

    def baseline(self, codes: Ints) -> tuple[Floats, Ints]:
        """Return (value, row) of each indicator's figure dated the day before the period."""
        return self.obs.base_value[codes], self.obs.base_row[codes]

    def on(self, codes: Ints, days: Ints) -> tuple[Floats, Ints]:
        """Return (value, row) of each indicator's figure dated exactly on each day."""
        return self.obs.on(codes, days)

    def has_rows(self, codes: Ints) -> Bools:
        """Return whether each indicator has any visible row (baselines included)."""
        return np.asarray(self.obs.count[codes] > 0)

    def final(self, days: Ints) -> Bools:
        """Return whether a figure dated on each day is judged for good (met or missed).

        A figure dated on or after the deadline covers the whole period; once the as-of date is
        past the deadline the period is over and the latest figure is final.
        """
        return np.asarray((days >= self.deadline) | (self.day > self.deadline))

    def expected(self, days: Ints) -> Floats:
        """Return expected progress (0..1) at each figure's day; NaN where not pro-rated."""
        out = np.full(len(days), np.nan)
        plan = self.plan
        for pace, deadline, idx in self._setting.pace_groups:
            at = days[idx]
            have = at != NAT
            uniq = np.unique(at[have])
            if not len(uniq):
                continue
            vals = np.array(
                [
                    expected_progress(pace, plan.start, deadline, _EPOCH + dt.timedelta(days=d))
                    for d in uniq.tolist()
                ],
                dtype=np.float64,
            )
            pos = np.clip(np.searchsorted(uniq, at), 0, len(uniq) - 1)
            out[idx] = np.where(have, vals[pos], np.nan)
        return out

    def band(self, gap: Floats) -> Codes:
        """Return on_track, behind or off_track for each pace gap (percentage points)."""
        s = self._setting
        return np.where(
            vge(gap, s.on_threshold),
            ON_TRACK,
            np.where(vge(gap, s.behind_threshold), BEHIND, OFF_TRACK),
        ).astype(np.int8)

    def progress_status(self, reached: Bools, final: Bools, expected: Floats, gap: Floats) -> Codes:
        """Return the status of flows and stocks: met once reached, missed when final, else banded."""
        status = np.where(np.isnan(expected), ON_TRACK, self.band(gap))
        status = np.where(final, MISSED, status)
        return np.where(reached, MET, status).astype(np.int8)

    @staticmethod
    def level_status(satisfied: Bools, final: Bools, regressing: Bools) -> Codes:
        """Return the status of levels: on_track/met while satisfied, behind or off_track else."""
        return np.select(
            [satisfied & final, satisfied, final, regressing],
            [MET, ON_TRACK, MISSED, OFF_TRACK],
            BEHIND,
        ).astype(np.int8)


@attrs.frozen(eq=False)
class _Settings:
    """Plan-constant arrays of one kind's targets: deadlines, thresholds, paces."""

    deadline: Ints
    warning: Ints
    on_threshold: Floats
    behind_threshold: Floats
    pace_groups: tuple[tuple[Any, dt.date, Ints], ...]

    @classmethod
    def of(cls, plan: Plan, targets: Sequence[Target]) -> _Settings:
        # targets share a few deadlines, bands and paces: the plan resolves each distinct one
        # once (on a target that has it), and the targets take theirs by lookup
        raw_deadlines = [t.deadline for t in targets]
        deadlines = _resolved(targets, raw_deadlines, plan.deadline_of)
        days = {k: day_of(d) for k, d in deadlines.items()}
        raw_bands = [t.thresholds for t in targets]
        bands = _resolved(targets, raw_bands, plan.thresholds_of)
        raw_warnings = [t.warning_days for t in targets]
        warnings = _resolved(targets, raw_warnings, plan.warning_days_of)
        raw_paces = [t.pace for t in targets]
        paces = _resolved(targets, raw_paces, plan.pace_of)
        # grouped by the pace object itself: targets sharing the plan's default share one group
        numbered = {k: i for i, k in enumerate(paces)}
        deadline_numbers = {k: i for i, k in enumerate(deadlines)}
        key = _column(raw_paces, numbered, np.int64) * len(deadline_numbers) + _column(
            raw_deadlines, deadline_numbers, np.int64
        )
        codes, firsts = _first_codes(key)
        groups = []
        for first, members in zip(firsts.tolist(), members_of(codes, len(firsts)), strict=True):
            pace = paces[raw_paces[first]]
            if pace.method is not PaceMethod.NONE:
                groups.append((pace, deadlines[raw_deadlines[first]], members.astype(np.int64)))
        return cls(
            deadline=_column(raw_deadlines, days, np.int64),
            warning=_column(raw_warnings, warnings, np.int64),
            on_threshold=_column(raw_bands, {k: b.on_track for k, b in bands.items()}, np.float64),
            behind_threshold=_column(
                raw_bands, {k: b.behind for k, b in bands.items()}, np.float64
            ),
            pace_groups=tuple(groups),
        )


_T = TypeVar("_T")
_V = TypeVar("_V")


def _resolved(
    targets: Sequence[Target], raw: Sequence[_T], resolve: Callable[[Target], _V]
) -> dict[_T, _V]:
    """Return, per distinct raw setting, what the plan makes of it (asked of one target)."""
    one_each = dict(zip(raw, targets, strict=True))
    return {k: resolve(t) for k, t in one_each.items()}


def _column(raw: Sequence[_T], table: Mapping[_T, Any], dtype: type[Any]) -> npt.NDArray[Any]:
    """Return ``table[r]`` for each raw value, as an array."""
    if len(table) == 1:  # usual: every target keeps the plan's setting
        return np.full(len(raw), next(iter(table.values())), dtype=dtype)
    return np.fromiter(map(table.__getitem__, raw), dtype=dtype, count=len(raw))


def members_of(codes: npt.NDArray[np.integer[Any]], count: int) -> list[Ints]:
    """Return, for each code 0 … count − 1, the positions that hold it, in order."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(count + 1)).tolist()
    return [order[a:b] for a, b in itertools.pairwise(bounds)]


def _first_codes(values: npt.NDArray[np.int64]) -> tuple[Ints, Ints]:
    """Return the codes of integers numbered in order of first appearance, and each code's
    first position."""
    _, first, codes = np.unique(values, return_index=True, return_inverse=True)
    rank = np.argsort(first, kind="stable")
    renumber = np.empty(len(rank), dtype=np.int64)
    renumber[rank] = np.arange(len(rank))
    return renumber[codes.reshape(-1)], first[rank].astype(np.int64)


# --------------------------------------------------------------------------- verdicts


class Verdicts:
    """The result columns a kind's judgement fills, one entry per target of its batch.

    Numbers are in the target's unit (``unit``); ``completion`` and ``expected`` are fractions;
    ``gap`` is in percentage points; ``observed`` is the day of the figure judged (``NAT`` for
    none); ``stretch_met`` is -1 (no stretch), 0 or 1; ``form`` is the kind's own code for which
    sentence fits (read back by its `RuleKind.describe`). Each `cite` adds a column of evidence:
    positions in the actuals table, -1 where a target cites nothing there.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.status = np.full(n, NO_DATA, dtype=np.int8)
        self.actual = np.full(n, np.nan)
        self.target_value = np.full(n, np.nan)
        self.completion = np.full(n, np.nan)
        self.expected = np.full(n, np.nan)
        self.gap = np.full(n, np.nan)
        self.observed = np.full(n, NAT, dtype=np.int64)
        self.baseline = np.full(n, np.nan)
        self.stretch = np.full(n, np.nan)
        self.stretch_met = np.full(n, -1, dtype=np.int8)
        self.unit: npt.NDArray[np.object_] = np.full(n, "", dtype=object)
        self.form = np.zeros(n, dtype=np.int16)
        self.evidence: list[Ints] = []

    def cite(self, *rows: Ints) -> None:
        """Add evidence columns (actuals positions, -1 for none), in the order they are shown."""
        for r in rows:
            self.evidence.append(np.asarray(r, dtype=np.int64))


def stretch_codes(value: Floats, stretch: Floats, *, higher: bool) -> Codes:
    """Return the ``stretch_met`` column: -1 without a stretch, else 1 when reached."""
    met = vge(value, stretch) if higher else vle(value, stretch)
    return np.where(np.isnan(stretch), -1, met.astype(np.int8)).astype(np.int8)


# --------------------------------------------------------------------------- wording


def fmt(value: float) -> str:
    """Format a number for messages: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}" if -10000 < value < 10000 else f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def qty(value: float, unit: str) -> str:
    """Format a number with its unit: '150 亿元', '19.23%', '3'."""
    if not unit:
        return fmt(value)
    if unit in ("%", "‰"):
        return f"{fmt(value)}{unit}"
    return f"{fmt(value)} {unit}"


def pct(fraction: float) -> str:
    """Format a fraction as a percentage with one decimal."""
    return f"{100 * fraction:.1f}%"


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def is_month_end(d: dt.date) -> bool:
    """Return True on a month's last day."""
    return (d + dt.timedelta(days=1)).day == 1


def when_label(plan: Plan, indicator: Indicator, on: dt.date) -> tuple[str, str]:
    """Return how the period a value covers is named: ('1–6月累计', 'Jan–Jun cumulative')."""
    start = plan.start
    if indicator.kind is IndicatorKind.CUMULATIVE:
        if is_month_end(on) and on.year == start.year and start.day == 1 and on >= start:
            m0, m1 = start.month, on.month
            zh = f"{m0}–{m1}月累计" if m1 > m0 else f"{m1}月"
            en = f"{_MONTHS_EN[m0 - 1]}–{_MONTHS_EN[m1 - 1]}" if m1 > m0 else _MONTHS_EN[m1 - 1]
            return zh, f"{en} cumulative"
        return f"截至{on.year}年{on.month}月{on.day}日累计", f"cumulative to {on.isoformat()}"
    if is_month_end(on):
        return f"{on.year}年{on.month}月末", f"end of {_MONTHS_EN[on.month - 1]} {on.year}"
    return f"{on.year}年{on.month}月{on.day}日", f"on {on.isoformat()}"


def pace_words(gap: float) -> tuple[str, str]:
    """Return how a pace gap reads: '高于序时进度 2.4 个百分点'."""
    if abs(gap) < 0.05:
        return "与序时进度持平", "exactly on pace"
    if gap > 0:
        return f"高于序时进度 {gap:.1f} 个百分点", f"{gap:.1f} pp ahead of pace"
    return f"低于序时进度 {-gap:.1f} 个百分点", f"{-gap:.1f} pp behind pace"


R = TypeVar("R")


class Row(Generic[R]):
    """One target's verdict, as its kind's `RuleKind.describe` reads it to write the sentence."""

    __slots__ = (
        "actual",
        "as_of",
        "baseline",
        "completion",
        "deadline",
        "expected",
        "form",
        "gap",
        "observed",
        "plan",
        "rule",
        "status",
        "stretch",
        "stretch_met",
        "target",
        "target_value",
        "unit",
    )

    def __init__(
        self,
        *,
        plan: Plan,
        target: Target,
        as_of: dt.date,
        status: Status,
        actual: float | None,
        unit: str,
        target_value: float | None,
        completion: float | None,
        expected: float | None,
        gap: float | None,
        observed: dt.date | None,
        baseline: float | None,
        stretch: float | None,
        stretch_met: bool | None,
        form: int,
    ) -> None:
        self.plan, self.target, self.as_of = plan, target, as_of
        self.rule: R = target.rule  # type: ignore[assignment]  # the kind's own rule class
        self.deadline = plan.deadline_of(target)
        self.status, self.actual, self.unit = status, actual, unit
        self.target_value, self.completion, self.expected, self.gap = (
            target_value,
            completion,
            expected,
            gap,
        )
        self.observed, self.baseline, self.form = observed, baseline, form
        self.stretch, self.stretch_met = stretch, stretch_met

    def indicator(self, indicator_id: str) -> Indicator:
        """Return a plan indicator."""
        return self.plan.indicator(indicator_id)

    def label(self, indicator_id: str) -> tuple[str, str]:
        """Return how the period of the judged figure is named, for this indicator."""
        assert self.observed is not None  # noqa: S101 - only asked of results with a figure
        return when_label(self.plan, self.indicator(indicator_id), self.observed)

    def goal_words(self) -> tuple[str, str]:
        """Return '年度目标' for a target running the plan's whole year, else '目标'."""
        start, deadline = self.plan.start, self.deadline
        months = (deadline.year - start.year) * 12 + deadline.month - start.month + 1
        return ("年度目标", "the annual target") if months == 12 else ("目标", "the target")

    def no_data(self, indicator_id: str, what: str = "") -> tuple[str, str]:
        """Return the sentence for a target without a usable figure of an indicator."""
        ind = self.indicator(indicator_id)
        day = self.as_of.isoformat()
        zh = f"截至{day}尚无{ind.name}数据{what}"
        en = f"no {ind.name_en or ind.name} figure up to {day}{' ' + what if what else ''}"
        if ind.lag_days:
            zh += f"（该数据一般在期末后约{ind.lag_days}天公布）"
            en += f" (usually published about {ind.lag_days} days after the period ends)"
        return zh, en

    def stretch_words(self, unit: str | None = None) -> tuple[str, str]:
        """Return '；力争目标 X 已实现' (empty without a stretch)."""
        if self.stretch_met is None or self.stretch is None:
            return "", ""
        u = self.unit if unit is None else unit
        s = qty(self.stretch, u)
        return (
            f"；力争目标 {s} {'已实现' if self.stretch_met else '未实现'}",
            f"; stretch {s} {'reached' if self.stretch_met else 'not reached'}",
        )


@attrs.frozen(kw_only=True)
class Shown:
    """What a renderer knows of a result, for `RuleKind.show_target` and `show_actual`.

    ``qty`` formats a number with a unit and ``date`` a date, in the renderer's own style and
    language; ``words`` holds the renderer's phrases (keys such as 'at_most', 'net', 'by').
    """

    rule: Rule | None
    lang: str
    value: float | None
    actual: float | None
    unit: str
    stretch: float | None
    deadline: dt.date
    observed: dt.date | None
    completion: float | None
    qty: Callable[[float, str], str]
    date: Callable[[dt.date], str]
    words: Mapping[str, str]


# --------------------------------------------------------------------------- the kind protocol


@runtime_checkable
class RuleKind(Protocol):
    """A rule kind: everything about it in one object, registered with `register_rule_kind`."""

    @property
    def name(self) -> str:
        """Return the name plan files use (``rule = { kind = "<name>", … }``)."""
        ...

    @property
    def fields(self) -> tuple[Field, ...]:
        """Return the keys of the rule table (without ``kind``)."""
        ...

    @property
    def display(self) -> Display:
        """Return how renderers treat this kind's results."""
        ...

    def build(self, values: Mapping[str, Any]) -> Rule:
        """Return the rule for checked field values (absent optional fields left out)."""
        ...

    def to_config(self, rule: Any) -> dict[str, Any]:
        """Return the rule as a plan-file table with ``kind``, for round trips."""
        ...

    def check(self, rule: Any, plan: Plan) -> Sequence[tuple[str, str, str]]:
        """Return (field, problem, hint) triples for a plan this rule cannot work with."""
        ...

    def prepare(self, plan: Plan, rules: Sequence[Any]) -> Any:
        """Return plan-constant data for judging these rules (computed once per plan)."""
        ...

    def judge(self, batch: Batch) -> Verdicts:
        """Judge every target of the batch at ``batch.as_of``: pure and deterministic."""
        ...

    def describe(self, row: Row[Any]) -> tuple[str, str]:
        """Return the Chinese and English sentence of one verdict."""
        ...

    def show_target(self, shown: Shown) -> str:
        """Return the target as a 通报's 年度目标 column shows it."""
        ...

    def show_actual(self, shown: Shown) -> str:
        """Return the figure as a 通报's 累计完成 column shows it."""
        ...


class Kind(Generic[R]):
    """A base for rule kinds: fields-driven `build` and `to_config`, plain renderings.

    Subclasses set ``name``, ``rule_class``, ``fields`` and ``display`` and write `judge` and
    `describe`; `prepare`, `check`, `show_target` and `show_actual` have defaults.
    """

    name: ClassVar[str]
    rule_class: ClassVar[type[Any]]
    fields: ClassVar[tuple[Field, ...]]
    display: ClassVar[Display] = Display()
    drafting: ClassVar[Drafting] = DRAFTING
    doc: ClassVar[str] = ""

    def build(self, values: Mapping[str, Any]) -> Rule:
        rule: Rule = self.rule_class(**values)
        return rule

    def to_config(self, rule: R) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.name}
        for f in self.fields:
            value = getattr(rule, f.name)
            if value is None or (f.type is FieldType.BOOL and value is False and not f.required):
                continue
            if f.type is FieldType.STAGES:
                if value:
                    out[f.name] = [
                        {"id": s.id, **({"name": s.name} if s.name else {}), "due": s.due}
                        for s in value
                    ]
                continue
            out[f.name] = value
        return out

    def check(self, rule: R, plan: Plan) -> Sequence[tuple[str, str, str]]:
        del rule, plan
        return ()

    def prepare(self, plan: Plan, rules: Sequence[R]) -> Any:
        del plan, rules
        return None

    def judge(self, batch: Batch) -> Verdicts:
        raise NotImplementedError

    def describe(self, row: Row[R]) -> tuple[str, str]:
        raise NotImplementedError

    def show_target(self, shown: Shown) -> str:
        if shown.value is None:
            return "—"
        text = shown.qty(shown.value, shown.unit)
        if shown.stretch is not None:
            text += shown.words["stretch"].format(v=shown.qty(shown.stretch, shown.unit))
        return text

    def show_actual(self, shown: Shown) -> str:
        return "—" if shown.actual is None else shown.qty(shown.actual, shown.unit)


# --------------------------------------------------------------------------- shared pieces


def codes_of(plan: Plan, ids: Sequence[str]) -> Ints:
    """Return the plan positions of indicator ids."""
    return np.array(plan.positions(ids), dtype=np.int64)


def kind_mask(plan: Plan, codes: Ints, *kinds: IndicatorKind) -> Bools:
    """Return True where the indicator at each plan position is of one of ``kinds``."""
    indicators = plan.indicators
    return np.array([indicators[c].kind in kinds for c in codes.tolist()], dtype=bool)


def floats(values: Sequence[float | None]) -> Floats:
    """Return a float column, NaN for None."""
    nan = math.nan
    return np.array([nan if v is None else v for v in values], dtype=np.float64)


def factors(plan: Plan, from_units: Sequence[str] | str, to_units: Sequence[str] | str) -> Floats:
    """Return the numbers converting each value in ``from_units`` to its ``to_units``.

    Either side may be one unit for all. Each distinct pair is converted once, so a column of a
    few units costs a lookup a target. Raises `UnitError` as `UnitSystem.factor` does.
    """
    n = max(len(side) if not isinstance(side, str) else 0 for side in (from_units, to_units))
    a = [from_units] * n if isinstance(from_units, str) else list(from_units)
    b = [to_units] * n if isinstance(to_units, str) else list(to_units)
    if len(a) != len(b):
        raise ValueError(f"{len(a)} units to convert from but {len(b)} to convert to")
    # each side numbered by its distinct units, each pair by one number
    names_a, codes_a = _numbered(a)
    names_b, codes_b = _numbered(b)
    width = max(len(names_b), 1)
    pairs, inverse = np.unique(codes_a * width + codes_b, return_inverse=True)
    system = plan.units
    table = [system.factor(names_a[p // width], names_b[p % width]) for p in pairs.tolist()]
    return np.array(table, dtype=np.float64)[inverse.reshape(-1)] if n else np.zeros(0)


def _numbered(values: list[str]) -> tuple[list[str], Ints]:
    """Return the distinct values (in order of first appearance) and each value's number."""
    if values and values.count(values[0]) == len(values):  # usual: one unit for all
        return values[:1], np.zeros(len(values), dtype=np.int64)
    number = {u: k for k, u in enumerate(dict.fromkeys(values))}
    return list(number), np.fromiter(map(number.__getitem__, values), np.int64, len(values))


def unit_problems(
    plan: Plan, indicator_id: str, unit: str, field: str
) -> list[tuple[str, str, str]]:
    """Return a problem when ``unit`` cannot measure the indicator."""
    if not plan.has_indicator(indicator_id):
        return []
    ind = plan.indicator(indicator_id)
    units = plan.units
    if not units.compatible(unit, ind.unit):
        return [
            (
                field,
                f"unit {unit!r} ({units.dimensionality(unit)}) is not compatible with indicator "
                f"{indicator_id!r}, measured in {ind.unit!r} ({units.dimensionality(ind.unit)})",
                f"use {ind.unit!r} or a unit of the same kind",
            )
        ]
    return []


def ref_problems(plan: Plan, field: str, indicator_id: str) -> list[tuple[str, str, str]]:
    """Return a problem when the plan does not declare the indicator."""
    if plan.has_indicator(indicator_id):
        return []
    import difflib  # noqa: PLC0415 - only on the error path

    close = difflib.get_close_matches(indicator_id, [i.id for i in plan.indicators], n=1)
    hint = f"did you mean {close[0]!r}?" if close else "declare it under [[indicators]]"
    return [(field, f"unknown indicator {indicator_id!r}", hint)]


def floor_stretch_problem(
    value: float, stretch: float | None, *, higher: bool
) -> list[tuple[str, str, str]]:
    """Return a problem when a stretch is not beyond its floor."""
    if stretch is None or (stretch >= value if higher else stretch <= value):
        return []
    word = "above" if higher else "below"
    return [
        ("stretch", f"stretch {fmt(stretch)} is not {word} the floor {fmt(value)}", "swap them")
    ]


def progress_words(
    row: Row[Any],
    indicator_id: str,
    *,
    shown_actual: float,
    shown_target: float,
    what: tuple[str, str] = ("", ""),
) -> tuple[str, str]:
    """Return the sentence of a flow or stock judged towards its goal, pro-rated by pace."""
    label_zh, label_en = row.label(indicator_id)
    goal_zh, goal_en = row.goal_words()
    unit, completion = row.unit, row.completion or 0.0
    zh = (
        f"{label_zh}{what[0]} {qty(shown_actual, unit)}，完成{goal_zh}（{qty(shown_target, unit)}）"
        f"的 {pct(completion)}"
    )
    en = f"{label_en}{what[1]} {qty(shown_actual, unit)}: {pct(completion)} of {goal_en} {qty(shown_target, unit)}"
    if row.status is Status.MET:
        zh += "，已完成目标"
        en += "; target met"
    elif row.status is Status.MISSED:
        zh += "，期末未完成目标"
        en += "; target missed at the deadline"
    elif row.gap is None:
        d = row.deadline.isoformat()
        zh += f"，不按序时进度考核，期末（{d}）判定"
        en += f"; not pro-rated, judged at the deadline ({d})"
    else:
        pz, pe = pace_words(row.gap)
        zh += f"，{pz}（序时进度 {pct(row.expected or 0.0)}）"
        en += f", {pe} (expected {pct(row.expected or 0.0)})"
    sz, se = row.stretch_words()
    return zh + sz, en + se


def level_words(
    row: Row[Any],
    indicator_id: str,
    *,
    relation: tuple[str, str],
    target_value: float,
    what: tuple[str, str] = ("", ""),
    label: tuple[str, str] | None = None,
    show_baseline: bool = True,
    baseline_unit: str | None = None,
) -> tuple[str, str]:
    """Return the sentence of a level (share, rate, rank, cap) judged on its current value."""
    label_zh, label_en = label or row.label(indicator_id)
    unit, actual = row.unit, row.actual or 0.0
    zh = f"{label_zh}{what[0]} {qty(actual, unit)}（目标：{relation[0]} {qty(target_value, unit)}"
    en = f"{label_en}{what[1]} {qty(actual, unit)} (target {relation[1]} {qty(target_value, unit)}"
    if row.baseline is not None and show_baseline:
        bu = unit if baseline_unit is None else baseline_unit
        zh += f"，基期 {qty(row.baseline, bu)}"
        en += f", baseline {qty(row.baseline, bu)}"
    status = row.status
    if status is Status.MET:
        wz, we = "已完成目标", "target met"
    elif status is Status.MISSED:
        wz, we = "期末未完成目标", "target missed at the deadline"
    elif status is Status.ON_TRACK:
        d = row.deadline.isoformat()
        wz, we = f"目前达标，期末（{d}）确认", f"satisfied so far; confirmed at the deadline ({d})"
    elif status is Status.BEHIND:
        wz, we = "尚未达到目标，但不差于基期", "not at target yet, but not worse than the baseline"
    else:
        wz, we = "差于基期水平", "worse than the baseline (regressing)"
    sz, se = row.stretch_words()
    return f"{zh}），{wz}{sz}", f"{en}): {we}{se}"
