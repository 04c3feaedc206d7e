"""The rank kind: 位居前列, 前N — rank ≤ N, 1 being the best."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs
import numpy as np

from targetkit.model import Plan
from targetkit.rules._base import (
    NAT,
    NO_DATA,
    Batch,
    Display,
    Drafting,
    DraftRole,
    Field,
    FieldType,
    Floats,
    Ints,
    Kind,
    Row,
    Shown,
    Verdicts,
    codes_of,
    floats,
    floor_stretch_problem,
    fmt,
    level_words,
    ref_problems,
    stretch_codes,
    vgt,
    vle,
)

__all__ = ["RANK", "Rank"]

_NO_DATA, _LEVEL = 0, 2


@attrs.frozen(kw_only=True)
class Rank:
    """位居前列, 前N: rank ≤ N (1 is best)."""

    kind: ClassVar[str] = "rank"
    indicator: str
    value: int
    stretch: int | None = None

    def indicator_ids(self) -> tuple[str, ...]:
        return (self.indicator,)


@attrs.frozen(eq=False)
class _Prepared:
    codes: Ints
    value: Floats
    stretch: Floats


class RankKind(Kind[Rank]):
    """The ``rank`` kind."""

    name = "rank"
    rule_class = Rank
    doc = "rank ≤ N, 1 the best (位居前列, 前N)"
    fields = (
        Field(name="indicator", type=FieldType.INDICATOR, required=True, doc="the rank indicator"),
        Field(name="value", type=FieldType.INTEGER, required=True, doc="the worst rank allowed N"),
        Field(name="stretch", type=FieldType.INTEGER, doc="a hoped-for better rank"),
    )
    display = Display(lower_is_better=True, ordinal=True, part_field="value")
    drafting = Drafting(slug="rank_{value}", role=DraftRole.POSITION)

    def check(self, rule: Rank, plan: Plan) -> Sequence[tuple[str, str, str]]:
        out = [*ref_problems(plan, "indicator", rule.indicator)]
        if rule.value < 1:
            out.append(
                (
                    "value",
                    f"a rank target must be 1 or more (got {rule.value})",
                    "1 is the best rank",
                )
            )
        out.extend(floor_stretch_problem(rule.value, rule.stretch, higher=False))
        return out

    def prepare(self, plan: Plan, rules: Sequence[Rank]) -> _Prepared:
        ranks = [r for r in rules if isinstance(r, Rank)]
        return _Prepared(
            codes=codes_of(plan, [r.indicator for r in ranks]),
            value=floats([r.value for r in ranks]),
            stretch=floats([r.stretch for r in ranks]),
        )

    def judge(self, batch: Batch) -> Verdicts:
        p: _Prepared = batch.prepared
        v = Verdicts(len(batch))
        v.target_value[:] = p.value
        v.stretch[:] = p.stretch
        raw, day, row = batch.current(p.codes)
        base, base_row = batch.baseline(p.codes)
        have = day != NAT
        regressing = ~np.isnan(base) & vgt(raw, base)
        status = batch.level_status(vle(raw, p.value), batch.final(day), regressing)
        v.status[:] = np.where(have, status, NO_DATA)
        v.actual[:] = np.where(have, raw, np.nan)
        v.observed[:] = day
        v.baseline[:] = np.where(have, base, np.nan)
        v.stretch_met[:] = np.where(have, stretch_codes(raw, p.stretch, higher=False), -1)
        v.form[:] = np.where(have, _LEVEL, _NO_DATA)
        v.cite(np.where(have, base_row, -1), np.where(have, row, -1))
        return v

    def describe(self, row: Row[Rank]) -> tuple[str, str]:
        rule = row.rule
        if row.form == _NO_DATA:
            return row.no_data(rule.indicator)
        return level_words(
            row,
            rule.indicator,
            relation=("前", "rank at most"),
            target_value=rule.value,
            what=("排名第", " rank"),
        )

    def show_target(self, shown: Shown) -> str:
        if shown.value is None:
            return "—"
        return shown.words["rank_target"].format(v=fmt(shown.value))

    def show_actual(self, shown: Shown) -> str:
        if shown.actual is None:
            return "—"
        return shown.words["rank_actual"].format(v=fmt(shown.actual))


RANK = RankKind()
KINDS = (RANK,)
