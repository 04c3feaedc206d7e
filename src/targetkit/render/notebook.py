"""What an analyst reaches for in a notebook after the status table: changes and a styled frame.

- `changes` compares two evaluations of one plan (this quarter against the last: 环比): per
  target the previous and the current status, whether it got better or worse, and by how many
  points the gap to 序时进度 moved. The result, `Changes`, is a frozen value that shows itself as
  a table in Jupyter (``_repr_html_``) and gives a tidy DataFrame (`Changes.to_frame`).
- `styled` returns a pandas ``Styler`` of an evaluation: the status cell in its light's colours
  with shape and words, the completion rate with a bar and a tick at the 序时进度, the gap with
  its sign. It shows in Jupyter and exports with ``Styler.to_excel`` (fills, font colours and
  number formats; Excel has no gradient, so the bars stay in the notebook).

Pure: nothing is read or written here. ``Styler`` needs jinja2 and Excel export needs openpyxl;
both come with ``pip install 'targetkit[notebook]'``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs
import pandas as pd

from targetkit.evaluation import Evaluation, TargetResult, set_view
from targetkit.exceptions import TargetkitError
from targetkit.model import Status

# The notebook view's stylesheet, badges and number formats live in report.py; the views here
# reuse them so that a change table and the evaluation table look the same.
from targetkit.render.report import (
    _FILL,
    _INK,
    _NB_CSS,
    _TINT,
    FONT_STACK,
    MARKS,
    _e,
    _gap,
    _label,
    _nb_badge,
    _owner,
    _pct,
)
from targetkit.rules import fmt

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = ["Change", "Changes", "NotebookUnavailableError", "changes", "styled"]

# How bad a status is, for "better" and "worse"; no_data is not on this scale.
_SEVERITY = {
    Status.MET: 0,
    Status.ON_TRACK: 1,
    Status.BEHIND: 2,
    Status.OFF_TRACK: 3,
    Status.MISSED: 4,
}

_PACE_INK = "#1f2328"

_WORDS = {
    "zh": {
        "title": "{plan}：{current}较{previous}的变化",
        "changed": "状态变化 {n} 项（好转 {better}，变差 {worse}）",
        "none": "没有目标的状态发生变化",
        "cols": "目标|上期|本期|变化|上期差距|本期差距|差距变动(个百分点)",
        "better": "好转",
        "worse": "变差",
        "same": "持平",
        "unknown": "—",
        "new": "新增",
        "dropped": "已删除",
        "styled": "状态|目标|实际|单位|目标值|完成率|序时进度|差距(个百分点)|责任单位|说明",
    },
    "en": {
        "title": "{plan}: changes from {previous} to {current}",
        "changed": "{n} changed status ({better} better, {worse} worse)",
        "none": "No target changed status",
        "cols": "Target|Previous|Current|Change|Previous gap|Current gap|Gap move (pp)",
        "better": "better",
        "worse": "worse",
        "same": "same",
        "unknown": "—",
        "new": "new",
        "dropped": "dropped",
        "styled": "Status|Target|Actual|Unit|Target value|Completion|Expected|Gap (pp)|Responsible unit|Explanation",
    },
}


class NotebookUnavailableError(TargetkitError, ImportError):
    """A package the styled frame needs (jinja2, or openpyxl for Excel) is not installed."""


def _words(lang: str) -> dict[str, str]:
    try:
        return _WORDS[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; choose 'zh' or 'en'") from None


# --------------------------------------------------------------------------- changes


@attrs.frozen(kw_only=True)
class Change:
    """One target between two evaluations: its status and its gap then and now.

    ``previous`` is None for a target the earlier plan did not have, ``current`` for one the
    later plan dropped. Gaps are in points, as in `TargetResult.gap_pp` (percentage points of
    completion against 序时进度, or a level's distance to its target).
    """

    target: str
    title: str
    previous: Status | None
    current: Status | None
    previous_gap_pp: float | None = None
    current_gap_pp: float | None = None

    @property
    def status_changed(self) -> bool:
        """Return whether the status differs (a target added or dropped counts as changed)."""
        return self.previous != self.current

    @property
    def gap_move_pp(self) -> float | None:
        """Return by how many points the gap moved (current − previous); positive is better.

        None when either evaluation has no gap for the target.
        """
        if self.previous_gap_pp is None or self.current_gap_pp is None:
            return None
        return self.current_gap_pp - self.previous_gap_pp

    @property
    def direction(self) -> str:
        """Return ``better``, ``worse`` or ``same`` by status; ``new``, ``dropped`` or ``unknown``.

        The scale is met < on_track < behind < off_track < missed. A move to or from no_data is
        ``unknown``; no_data on both sides is ``same``.
        """
        if self.previous is None:
            return "new"
        if self.current is None:
            return "dropped"
        if self.previous == self.current:
            return "same"
        if Status.NO_DATA in (self.previous, self.current):
            return "unknown"
        return "better" if _SEVERITY[self.current] < _SEVERITY[self.previous] else "worse"


_CHANGE_COLUMNS = (
    "target",
    "title",
    "previous_status",
    "current_status",
    "direction",
    "status_changed",
    "previous_gap_pp",
    "current_gap_pp",
    "gap_move_pp",
)


@attrs.frozen(kw_only=True)
class Changes:
    """How one plan's targets moved between two evaluations (环比), in plan order.

    ``rows`` holds every target of the current evaluation, then any the previous one had and
    the current one does not.
    """

    plan_title: str
    previous_as_of: dt.date
    current_as_of: dt.date
    rows: tuple[Change, ...]

    def __iter__(self) -> Iterator[Change]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, target_id: str) -> Change:
        """Return the change of one target (KeyError if neither evaluation has it)."""
        for row in self.rows:
            if row.target == target_id:
                return row
        raise KeyError(target_id)

    @property
    def changed(self) -> tuple[Change, ...]:
        """Return the targets whose status changed, in plan order."""
        return tuple(r for r in self.rows if r.status_changed)

    @property
    def better(self) -> tuple[Change, ...]:
        """Return the targets whose status got better."""
        return tuple(r for r in self.rows if r.direction == "better")

    @property
    def worse(self) -> tuple[Change, ...]:
        """Return the targets whose status got worse."""
        return tuple(r for r in self.rows if r.direction == "worse")

    def to_frame(self) -> pd.DataFrame:
        """Return one tidy row per target: statuses as strings, gaps and the move as floats."""
        frame = pd.DataFrame(
            [
                {
                    "target": r.target,
                    "title": r.title,
                    "previous_status": r.previous.value if r.previous else None,
                    "current_status": r.current.value if r.current else None,
                    "direction": r.direction,
                    "status_changed": r.status_changed,
                    "previous_gap_pp": r.previous_gap_pp,
                    "current_gap_pp": r.current_gap_pp,
                    "gap_move_pp": r.gap_move_pp,
                }
                for r in self.rows
            ],
            columns=list(_CHANGE_COLUMNS),
        )
        for column in ("previous_gap_pp", "current_gap_pp", "gap_move_pp"):
            frame[column] = frame[column].astype("float64")
        return frame

    def to_html(self, *, lang: str = "zh") -> str:
        """Return an HTML fragment: the changed targets first, then the others, with badges."""
        w = _words(lang)
        head = "".join(f"<th>{_e(c)}</th>" for c in w["cols"].split("|"))
        ordered = [*self.changed, *(r for r in self.rows if not r.status_changed)]
        rows = "".join(_change_row(r, lang) for r in ordered)
        changed = self.changed
        summary = (
            w["changed"].format(n=len(changed), better=len(self.better), worse=len(self.worse))
            if changed
            else w["none"]
        )
        title = w["title"].format(
            plan=self.plan_title,
            previous=self.previous_as_of.isoformat(),
            current=self.current_as_of.isoformat(),
        )
        return (
            f'<div class="tk-nb"><style>{_NB_CSS % {"font": FONT_STACK}}</style>'
            f'<p class="tk-head"><strong>{_e(title)}</strong> · {_e(summary)}</p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def _status_cell(status: Status | None, lang: str, missing: str) -> str:
    return _nb_badge(status, lang) if status is not None else _e(missing)


def _change_row(r: Change, lang: str) -> str:
    w = _words(lang)
    move = r.gap_move_pp
    arrow = "" if move is None or abs(move) < 0.05 else ("↑ " if move > 0 else "↓ ")
    direction = w[r.direction]
    if r.direction in ("better", "worse"):
        direction = f"<strong>{_e(direction)}</strong>"
    else:
        direction = _e(direction)
    return (
        f'<tr data-target="{_e(r.target)}" data-direction="{r.direction}">'
        f'<td>{_e(r.title)}<span class="tk-id">{_e(r.target)}</span></td>'
        f"<td>{_status_cell(r.previous, lang, w['new'])}</td>"
        f"<td>{_status_cell(r.current, lang, w['dropped'])}</td>"
        f"<td>{direction}</td>"
        f'<td class="tk-num">{_e(_gap(r.previous_gap_pp))}</td>'
        f'<td class="tk-num">{_e(_gap(r.current_gap_pp))}</td>'
        f'<td class="tk-num">{_e(arrow + _gap(move))}</td>'
        "</tr>"
    )


def changes(current: Evaluation, previous: Evaluation) -> Changes:
    """Compare two evaluations of one plan: statuses then and now, and the gap's move (环比).

    Targets are matched by id, so a plan revised between the two dates still compares; a target
    only one side has is listed with None on the other.

    Args:
        current: The later evaluation.
        previous: The earlier one (its as-of date on or before the current one's).

    Returns:
        A `Changes` with one row per target.

    Raises:
        ValueError: When the evaluations are of different plans (by plan id), or the previous
            one is later than the current one.
    """
    if current.plan.id != previous.plan.id:
        raise ValueError(
            f"changes: the evaluations are of different plans ({current.plan.id!r} and "
            f"{previous.plan.id!r}); compare two evaluations of the same plan"
        )
    if previous.as_of > current.as_of:
        raise ValueError(
            f"changes: the previous evaluation (as of {previous.as_of.isoformat()}) is later than "
            f"the current one (as of {current.as_of.isoformat()}); call "
            "later.changes(earlier)"
        )
    before = {r.target: r for r in previous.results}
    now = {r.target: r for r in current.results}
    rows = [_change(now[t], before.get(t)) for t in now]
    rows += [_dropped(r) for t, r in before.items() if t not in now]
    return Changes(
        plan_title=current.plan.title,
        previous_as_of=previous.as_of,
        current_as_of=current.as_of,
        rows=tuple(rows),
    )


def _change(now: TargetResult, before: TargetResult | None) -> Change:
    return Change(
        target=now.target,
        title=now.title,
        previous=before.status if before is not None else None,
        current=now.status,
        previous_gap_pp=before.gap_pp if before is not None else None,
        current_gap_pp=now.gap_pp,
    )


def _dropped(before: TargetResult) -> Change:
    return Change(
        target=before.target,
        title=before.title,
        previous=before.status,
        current=None,
        previous_gap_pp=before.gap_pp,
    )


# --------------------------------------------------------------------------- styled frame


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _bar_css(result: TargetResult) -> str:
    """Return the CSS of a completion cell: a bar in the light's colour, a tick at 序时进度."""
    css = "number-format: 0.0%; min-width: 7em; text-align: right"
    if result.completion is None or math.isnan(result.completion):
        return css
    done = 100 * min(max(result.completion, 0.0), 1.0)
    layers = []
    if result.expected is not None:
        at = 100 * min(max(result.expected, 0.0), 1.0)
        layers.append(
            f"linear-gradient(90deg, transparent calc({at:.1f}% - 1px), {_PACE_INK} "
            f"calc({at:.1f}% - 1px) calc({at:.1f}% + 1px), transparent calc({at:.1f}% + 1px))"
        )
    fill = _rgba(_FILL[result.light], 0.35)
    layers.append(f"linear-gradient(90deg, {fill} {done:.1f}%, transparent {done:.1f}%)")
    return f"{css}; background: {', '.join(layers)}"


def _jinja2() -> None:
    try:
        import jinja2  # noqa: F401, PLC0415 - pandas' Styler needs it; an optional extra
    except ImportError as exc:
        raise NotebookUnavailableError(
            "targetkit.notebook.styled needs jinja2 (pandas' Styler uses it), which is not "
            "installed; install it with: pip install 'targetkit[notebook]'"
        ) from exc


@functools.cache
def _styler_class() -> type[Styler]:
    from pandas.io.formats.style import Styler  # noqa: PLC0415 - imports jinja2

    class StyledEvaluation(Styler):
        """A Styler whose Excel export says which extra to install when openpyxl is missing."""

        def to_excel(self, *args: Any, **kwargs: Any) -> None:
            # openpyxl stores a text starting with "=" as a formula, which the spreadsheet
            # would run; a leading apostrophe keeps plan text text, as in the CLI's CSV.
            shown: pd.DataFrame = self.data  # type: ignore[has-type]  # not in pandas-stubs
            self.data = shown.map(_not_a_formula)
            try:
                super().to_excel(*args, **kwargs)
            except ImportError as exc:
                if "openpyxl" not in str(exc):
                    raise
                raise NotebookUnavailableError(
                    "exporting the styled frame to Excel needs openpyxl, which is not "
                    "installed; install it with: pip install 'targetkit[notebook]'"
                ) from exc
            finally:
                self.data = shown

    return StyledEvaluation


def _not_a_formula(value: object) -> object:
    if isinstance(value, str) and value.lstrip(" \t\r\n")[:1] == "=":
        return "'" + value
    return value


def styled(evaluation: Evaluation, *, lang: str = "zh") -> Styler:
    """Return a pandas Styler of an evaluation: lights, completion bars and 序时 ticks.

    One row per target (indexed by target id), with the columns 状态 (shape and words on the
    light's colours), 目标, 实际, 单位, 目标值, 完成率 (a bar in the light's colour with a dark
    tick at the 序时进度), 序时进度, 差距(个百分点) (in the light's ink), 责任单位 and 说明;
    ``lang="en"`` gives English headers, statuses and explanations. The Styler renders in
    Jupyter (``_repr_html_``), to HTML (``.to_html()``) and to Excel (``.to_excel(path)``),
    where the status fills, font colours and number formats (``0.0%``, ``+0.0``) carry over.

    Raises:
        NotebookUnavailableError: When jinja2 is not installed (and, from ``to_excel``, when
            openpyxl is not).
        ValueError: For a language other than ``zh`` or ``en``.
    """
    w = _words(lang)
    _jinja2()
    cols = w["styled"].split("|")
    results = evaluation.results
    frame = pd.DataFrame(
        [
            [
                f"{MARKS[r.light]} {_label(r.status, lang)}",
                r.title,
                r.actual,
                r.unit,
                r.target_value,
                r.completion,
                r.expected,
                r.gap_pp,
                _owner(r, evaluation.plan),
                r.message(lang),
            ]
            for r in results
        ],
        columns=cols,
        index=pd.Index([r.target for r in results], name="id"),
    )
    for column in (cols[2], cols[4], cols[5], cols[6], cols[7]):
        frame[column] = frame[column].astype("float64")
    status, completion, expected, gap = cols[0], cols[5], cols[6], cols[7]
    # One CSS text per cell, built column by column (setting cells one at a time is slow).
    css = pd.DataFrame("", index=frame.index, columns=frame.columns)
    css[status] = [
        f"background-color: {_TINT[r.light]}; color: {_INK[r.light]}; font-weight: bold; "
        "white-space: nowrap"
        for r in results
    ]
    css[completion] = [_bar_css(r) for r in results]
    css[expected] = "number-format: 0.0%; text-align: right"
    css[gap] = [f"number-format: +0.0§-0.0§0.0; color: {_INK[r.light]}" for r in results]
    # Widths for the notebook (Excel ignores them): titles and sentences wrap as text, not
    # one character per line.
    css[cols[1]] = "min-width: 14em"
    css[cols[8]] = "white-space: nowrap"
    css[cols[9]] = "min-width: 26em"
    styler = _styler_class()(frame)
    styler.apply(lambda _: css, axis=None)
    styler.format(lambda v: _pct(_value(v)), subset=[completion, expected])
    styler.format(lambda v: _gap(_value(v)), subset=[gap])
    styler.format(_amount, subset=[cols[2], cols[4]])
    # Plan text is shown as text: the Styler does not escape cell values unless told to.
    styler.format(escape="html", subset=[cols[0], cols[1], cols[3], cols[8], cols[9]])
    styler.format_index(escape="html")
    styler.set_caption(
        f"{_e(evaluation.plan.title)} · {_e(evaluation.as_of.isoformat())}",
    )
    styler.set_table_styles(
        [
            {"selector": "", "props": f"font-family: {FONT_STACK}; border-collapse: collapse"},
            {"selector": "td, th", "props": "padding: 2px 8px; border-bottom: 1px solid #d0d7de"},
            {"selector": "caption", "props": "text-align: left; font-weight: bold"},
            {"selector": "th", "props": "white-space: nowrap; text-align: left"},
        ]
    )
    styler.hide(axis="index", names=True)  # the "id" header row; the Excel sheet keeps it
    return styler


def _value(value: object) -> float | None:
    """Return a frame's float cell as a number, or None for a missing one (NaN)."""
    if isinstance(value, int | float) and not math.isnan(value):
        return float(value)
    return None


def _amount(value: object) -> str:
    number = _value(value)
    return "—" if number is None else fmt(number)


set_view("changes", changes)
set_view("styled", styled)
