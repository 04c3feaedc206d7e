"""Actuals: the observed figures, read from CSV files or pandas DataFrames into one checked table.

The canonical table has one row per observation with the value already converted to its
indicator's unit (one cached factor per unit pair, applied to whole columns). Every row keeps the
file and line it came from, so each result can show its evidence.

Reading is strict: every bad row is reported with its file, line, column, value and a fix, and all
problems of a source are collected before `DataError` is raised.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd

from targetkit.dates import DATE_HINT, parse_date
from targetkit.exceptions import DataError, Problem, UnitError
from targetkit.model import IndicatorKind, Plan
from targetkit.sources import NameIndex, Rows, canonical_column
from targetkit.units import HUGE, TINY

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "Actuals", "read_actuals"]

REQUIRED_COLUMNS = ("indicator", "date", "value", "unit")
OPTIONAL_COLUMNS = ("reported_at", "source", "note", "scope")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_PROBLEMS = 50

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?$|^[+-]?\.\d+$")
_EXCEL_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")  # 10000 … 99999: 1927-05-18 … 2173-10-14
_DONE = frozenset({"done", "1", "1.0", "true", "yes", "y", "是", "完成", "已完成", "✓", "√"})
_NOT_DONE = frozenset({"0", "0.0", "false", "no", "n", "否", "未完成", "not done", "pending"})

_FRAME_DTYPES: Mapping[str, Any] = {
    "indicator": "object",
    "stage": "object",
    "date": "datetime64[s]",
    "value": "float64",
    "reported_at": "datetime64[s]",
    "raw_value": "object",
    "unit": "object",
    "source": "object",
    "note": "object",
    "file": "object",
    "line": "int64",
    "scope": "object",
}


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen(eq=False)
class Actuals:
    """A checked table of observations for one plan.

    Build it with `read_actuals` (CSV files or folders) or `Actuals.from_frame` (a DataFrame).
    ``frame`` has the columns indicator, stage, date, value (in the indicator's unit),
    reported_at, raw_value, unit (as written), source, note, file, line and scope (whose
    figure a row is: a part of a split target, '' for the whole).
    """

    frame: pd.DataFrame
    notes: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    """What a source skipped and why (rows of no indicator in a partial source, ignored
    columns, sheets without a header): one sentence each, for the user to see."""

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def empty(cls) -> Actuals:
        """Return a table with no observations."""
        return cls(pd.DataFrame({c: pd.Series(dtype=t) for c, t in _FRAME_DTYPES.items()}))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, plan: Plan, *, source: str = "<DataFrame>") -> Actuals:
        """Check and convert a DataFrame with columns indicator, date, value, unit [, reported_at, source, note].

        Row numbers in errors count from 1 for the frame's first row.

        Raises:
            DataError: listing every bad row.
        """
        problems: list[Problem] = []
        columns = _check_columns([str(c) for c in frame.columns], source, problems, line=None)
        if problems:
            raise DataError(problems)
        table = {
            name: [_cell(v) for v in frame[original].tolist()] for original, name in columns.items()
        }
        lines = list(range(1, len(frame) + 1))
        return cls(_build(table, lines, plan, source, problems))

    def concat(self, *others: Actuals) -> Actuals:
        """Return one table holding this one's rows and the others'; conflicting rows are an error."""
        notes = tuple(n for a in (self, *others) for n in a.notes)
        frames = [self.frame, *(o.frame for o in others)]
        frames = [f for f in frames if len(f)]
        if not frames:
            return Actuals(Actuals.empty().frame, notes)
        merged = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        problems: list[Problem] = []
        merged = _drop_duplicates(merged, problems)
        if problems:
            raise DataError(problems)
        return Actuals(merged, notes)

    def indicators(self) -> tuple[str, ...]:
        """Return the indicator ids that have rows, sorted."""
        return tuple(sorted(self.frame["indicator"].unique()))


def _cell(value: Any) -> str:
    """Turn a DataFrame cell into the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


_FOLDER_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".ods", ".parquet")


def read_actuals(
    paths: str | Path | Iterable[str | Path],
    plan: Plan,
    *,
    as_of: dt.date | None = None,
) -> Actuals:
    """Read actuals from files, folders and databases, all into one table.

    Each item is one of:

    - a CSV file (UTF-8 with or without BOM, or GB18030/GBK; CRLF line ends are fine);
    - a workbook (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) in the long or the wide 报表 layout;
    - a Parquet file (``.parquet``) with the long columns;
    - a database URL: ``sqlite:///stats.db?table=monthly``, ``postgresql://user@host/db?table=t``,
      ``duckdb:///lake.duckdb?table=t``;
    - a sources file (``.toml``) naming workbooks with their layout and SQL queries;
    - a folder: every CSV, workbook and Parquet file directly in it, in name order.

    A file path may end in ``?partial=true``: rows naming no indicator of the plan are then
    skipped with a note instead of being an error.

    Args:
        paths: One item or several.
        plan: The plan whose indicators the rows are checked against.
        as_of: The date bound to ``:as_of`` in the queries of a sources file.

    Raises:
        DataError: listing every bad row of every source, each with its place.
    """
    from targetkit.sources import reading  # noqa: PLC0415 - the readers load lazily

    items = [paths] if isinstance(paths, str | Path) else list(paths)
    problems: list[Problem] = []
    parts: list[Actuals] = []
    names = NameIndex.of(plan)
    readers: list[reading.Reader] = []
    for item in items:
        try:
            readers.extend(reading.read_item(item, names, as_of=as_of))
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems)
    for reader in readers:
        try:
            for rows in reader():
                if isinstance(rows, Path):
                    parts.append(_read_csv(rows, plan))
                else:
                    parts.append(actuals_from_rows(rows, plan))
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems)
    if not parts:
        return Actuals.empty()
    return parts[0].concat(*parts[1:])


def actuals_from_rows(rows: Rows, plan: Plan) -> Actuals:
    """Check and convert the raw rows of a workbook sheet, a query result or a Parquet file."""
    problems: list[Problem] = []
    columns = _check_columns(list(rows.header), rows.source, problems, line=rows.header_line)
    if problems:
        raise DataError(problems)
    index = {name: rows.header.index(original) for original, name in columns.items()}
    table = {name: rows.columns[i] for name, i in index.items()}
    notes: list[str] = list(rows.notes)
    frame = _build(
        table,
        rows.lines,
        plan,
        rows.source,
        problems,
        places=rows.places or None,
        partial=rows.partial,
        notes=notes,
    )
    return Actuals(frame, notes)


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError.single(
            str(path), "", f"cannot be read ({exc.strerror})", "check the path and its permissions"
        ) from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError.single(
        str(path), "", "is neither UTF-8 nor GB18030/GBK text", "save the file as UTF-8 CSV"
    )


def _read_csv(path: Path, plan: Plan) -> Actuals:
    return read_csv_text(_decode(path), plan, source=str(path))


def read_csv_text(text: str, plan: Plan, *, source: str) -> Actuals:
    """Read actuals from CSV text as from a file named ``source`` (lines counted in the text)."""
    if not text.strip():
        raise DataError.single(
            source,
            "",
            "the file is empty",
            "a CSV needs a header line: indicator,date,value,unit[,reported_at,source,note]",
            line=1,
        )
    fast = _read_plain_csv(text, source, plan)
    if fast is not None:
        return fast
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    ended = 0  # the line the previous record ended on
    try:
        for record in reader:
            # a quoted cell may hold line breaks: a record is named by the line it starts on
            start, ended = ended + 1, reader.line_num
            if header is None:
                if not any(c.strip() for c in record):
                    continue
                header = record
                header_line = start
                continue
            if not any(record) or "".join(record).isspace():
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise DataError.single(
            source, "", f"is not valid CSV ({exc})", "check quoting", line=reader.line_num
        ) from exc
    if header is None:  # only blank records
        raise DataError.single(
            source, "", "the file holds no header line", "add indicator,date,value,unit", line=1
        )
    columns = _check_columns(header, source, problems, line=header_line)
    if problems:
        raise DataError(problems)
    width = len(header)
    for record, line in zip(rows, lines, strict=True):
        if len(record) < width or (len(record) > width and any(c.strip() for c in record[width:])):
            problems.append(
                Problem(
                    source=source,
                    path="",
                    line=line,
                    message=f"the row has {len(record)} fields but the header has {width}",
                    hint='quote values that contain commas, e.g. "1,234"',
                )
            )
    if problems:
        raise DataError(problems[:MAX_PROBLEMS])
    index = {name: header.index(original) for original, name in columns.items()}
    table = {name: [r[i] for r in rows] for name, i in index.items()}
    return Actuals(_build(table, lines, plan, source, problems))


def _read_plain_csv(text: str, source: str, plan: Plan) -> Actuals | None:
    """Read a CSV without quotes, blank header lines or odd rows with pandas' C parser.

    Large exports are usually this plain; then every line is one record, so line numbers stay
    exact. Anything else returns None and is read by the csv module, which reports each odd row.
    """
    if '"' in text or "\r" in text.replace("\r\n", ""):
        return None
    lines = text.split("\n")
    header = lines[0].removesuffix("\r")
    if not header.strip():
        return None
    width = header.count(",")
    blank = [not line.strip() for line in lines]
    if any(line.count(",") != width for line, empty in zip(lines, blank, strict=True) if not empty):
        return None  # a ragged row: the csv module names it
    problems: list[Problem] = []
    names = header.split(",")
    columns = _check_columns(names, source, problems, line=1)
    if problems:
        raise DataError(problems)
    frame = pd.read_csv(
        io.StringIO(text),
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        header=0,
        names=[f"c{i}" for i in range(width + 1)],
        engine="c",
    )
    # data rows start on line 2; blank lines became rows of empty cells and are dropped here
    keep = [i for i, empty in enumerate(blank[1:]) if not empty and i < len(frame)]
    line_numbers = [i + 2 for i in keep]
    table = {
        name: frame[f"c{names.index(original)}"].to_numpy()[keep].tolist()
        for original, name in columns.items()
    }
    return Actuals(_build(table, line_numbers, plan, source, problems))


def _check_columns(
    header: Sequence[str], source: str, problems: list[Problem], *, line: int | None
) -> dict[str, str]:
    """Map the header's names to canonical column names, reporting missing and mistyped ones."""
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for original in header:
        name = unicodedata.normalize("NFKC", original).strip().lstrip("\ufeff").lower()
        name = canonical_column(original) or name
        if name in COLUMNS:
            if name in seen:
                problems.append(
                    Problem(
                        source=source,
                        path=name,
                        line=line,
                        message=f"the column {name!r} appears twice",
                        hint="keep one of them",
                    )
                )
            seen[name] = original
            mapping[original] = name
            continue
        close = difflib.get_close_matches(name, COLUMNS, n=1, cutoff=0.75)
        if close and close[0] not in [
            unicodedata.normalize("NFKC", h).strip().lower() for h in header
        ]:
            problems.append(
                Problem(
                    source=source,
                    path=original if original.isprintable() else repr(original),  # one line
                    line=line,
                    message=f"unknown column {original!r}",
                    hint=f"did you mean {close[0]!r}?",
                )
            )
    hint = "the header must hold indicator,date,value,unit (and optionally reported_at,source,note)"
    if len(header) == 1 and (sep := next((s for s in ";\t|" if s in header[0]), None)):
        hint = (
            f"the columns are separated by {sep!r}, not ','; save the file as CSV (comma delimited)"
        )
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(
                Problem(
                    source=source,
                    path=name,
                    line=line,
                    message=f"the required column {name!r} is missing",
                    hint=hint,
                )
            )
    return mapping


def _by_unique(cells: Sequence[str], fn: Any) -> list[Any]:
    """Apply ``fn`` once per distinct cell and spread the answers back over the column."""
    codes, uniques = pd.factorize(pd.Series(cells, dtype="object"), use_na_sentinel=False)
    answers = [fn(u) for u in uniques]
    return [answers[c] for c in codes.tolist()]


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _build(
    table: Mapping[str, list[str]],
    lines: list[int],
    plan: Plan,
    source: str,
    problems: list[Problem],
    *,
    places: list[str] | None = None,
    partial: bool = False,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Validate and convert raw text columns into the canonical frame.

    ``places`` names where each row came from (a workbook cell) instead of ``source``; with
    ``partial``, rows naming no indicator are dropped with a note in ``notes``.

    Work is done once per distinct cell (dates, units, indicator ids) or column-wise (numbers);
    only rows that need a closer look (thousands separators, a % sign, milestones, errors) are
    read one by one.
    """
    known = {i.id for i in plan.indicators}
    names = NameIndex.of(plan)

    def to_id(cell: str) -> str:
        text = _nfkc(cell)
        return text if text in known else (names.resolve(text) or text)

    indicators = _by_unique([c.strip() for c in table.get("indicator", [""] * len(lines))], to_id)
    if partial:
        keep = [i for i, ind in enumerate(indicators) if ind in known]
        if len(keep) < len(indicators):
            skipped = sorted({ind for ind in indicators if ind not in known})
            if notes is not None:
                notes.append(
                    f"{source}: {len(indicators) - len(keep)} rows name no indicator of the plan "
                    "and were skipped: " + ", ".join(repr(s) for s in skipped[:10])
                )
            table = {k: [v[i] for i in keep] for k, v in table.items()}
            lines = [lines[i] for i in keep]
            places = [places[i] for i in keep] if places else None
            indicators = [indicators[i] for i in keep]
    n = len(lines)
    row_places = places if places else [source] * n

    def col(name: str) -> list[str]:
        return [c.strip() for c in table[name]] if name in table else [""] * n

    def problem(i: int, column: str, message: str, hint: str = "") -> None:
        problems.append(
            Problem(source=row_places[i], path=column, line=lines[i], message=message, hint=hint)
        )

    unknown: dict[str, str] = {}
    for i, ind in enumerate(indicators):
        if ind in known:
            continue
        if not ind:
            problem(i, "indicator", "the indicator is empty", "give the indicator id of the plan")
            continue
        if ind not in unknown:
            close = difflib.get_close_matches(ind, sorted(known), n=1, cutoff=0.6)
            unknown[ind] = (
                f"did you mean {close[0]!r}?"
                if close
                else "use an indicator id declared in the plan"
            )
        problem(i, "indicator", f"unknown indicator {ind!r}", unknown[ind])

    scopes = _by_unique(col("scope"), _nfkc) if "scope" in table else [""] * n
    if "scope" in table and any(scopes):
        _check_scopes(scopes, plan, problem)
    dates = _parse_dates(col("date"), "date", problem, required=True)
    reported = _parse_dates(col("reported_at"), "reported_at", problem, required=False)

    # stage ids a milestone indicator accepts as values
    stage_ids: dict[str, set[str]] = {}
    for target in plan.targets:
        for stage in getattr(target.rule, "stages", ()):
            stage_ids.setdefault(target.rule.indicator_ids()[0], set()).add(stage.id)

    raw_values = col("value")
    row_units = _by_unique(col("unit"), _nfkc)
    ind_series = pd.Series(indicators, dtype="object")
    ind_arr = ind_series.to_numpy()
    # hash-based membership (np.isin on object arrays compares every pair)
    is_known = ind_series.isin(known).to_numpy()
    milestones = {i.id for i in plan.indicators if i.kind is IndicatorKind.MILESTONE}
    is_milestone = ind_series.isin(milestones).to_numpy()
    # column-wise first: plain numbers parse in C; everything else is read row by row below
    numbers = pd.to_numeric(pd.Series(raw_values, dtype="object"), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    plain = is_known & ~is_milestone & np.isfinite(numbers)
    values = np.where(plain, numbers, np.nan)
    stages = [""] * n
    parsed = plain.copy()  # rows whose number is known, still in the row's own unit
    for i in np.flatnonzero(is_known & ~plain).tolist():
        ind_id = indicators[i]
        raw = _nfkc(raw_values[i])
        if is_milestone[i]:
            token = raw.lower()
            if _nfkc(row_units[i]).strip():
                problem(
                    i,
                    "unit",
                    f"{ind_id!r} is a milestone, done or not done, but the row gives the unit "
                    f"{row_units[i]!r}",
                    "leave the unit cell empty (or is the row meant for another indicator?)",
                )
                continue
            if token in _DONE:
                values[i] = 1.0
            elif token in _NOT_DONE:
                values[i] = 0.0
            elif raw in stage_ids.get(ind_id, ()):
                values[i], stages[i] = 1.0, raw
            else:
                allowed = ["done", "0", *sorted(stage_ids.get(ind_id, ()))]
                problem(
                    i,
                    "value",
                    f"{raw_values[i]!r} is not a milestone value for {ind_id!r}",
                    "write one of " + ", ".join(repr(a) for a in allowed),
                )
            continue
        if raw.endswith("%") and row_units[i] in ("", "%"):  # 19.5% with or without unit %
            raw, row_units[i] = raw[:-1].strip(), "%"
        if not raw:
            problem(
                i,
                "value",
                f"the value for {ind_id!r} is empty",
                "give a number, or leave the row out",
            )
            continue
        if not _NUMBER.match(raw):
            hint = "write a plain number such as 1234.5 or 1,234.5, and the unit in the unit column"
            if re.match(r"^[+-]?\d[\d,]*,\d{1,2}$", raw):
                hint = "the decimal mark is '.', and ',' only separates thousands (1,234,567)"
            elif raw.startswith("="):
                hint = "this is a spreadsheet formula: export the computed value instead"
            problem(i, "value", f"{raw_values[i]!r} is not a number", hint)
            continue
        number = float(raw.replace(",", ""))
        if not math.isfinite(number):
            problem(i, "value", f"{raw_values[i]!r} is not a finite number", "give a finite number")
            continue
        values[i] = number
        parsed[i] = True

    # units: one check and one factor per distinct (indicator, unit) pair
    if parsed.any():
        rows = np.flatnonzero(parsed)
        pairs = pd.Series(ind_arr[rows]) + "\x1f" + pd.Series([row_units[i] for i in rows.tolist()])
        codes, uniques = pd.factorize(pairs)
        factors = np.full(len(uniques), np.nan)
        verdicts: list[tuple[str, str] | None] = []
        for k, pair in enumerate(uniques):
            ind_id, unit = str(pair).split("\x1f", 1)
            verdict = _unit_verdict(plan, ind_id, unit)
            if isinstance(verdict, float):
                factors[k] = verdict
                verdicts.append(None)
            else:
                verdicts.append(verdict)
        with np.errstate(over="ignore", under="ignore"):
            values[rows] = values[rows] * factors[codes]
        # 1e308 万亿元 is inf in 亿元, and a ratio of 1e-300 overflows: never a silent inf
        size = np.abs(values[rows])
        for i in rows[(size > HUGE) | ((size > 0) & (size < TINY))].tolist():
            problem(
                i,
                "value",
                f"{raw_values[i]!r} {row_units[i]} is out of the range targetkit computes "
                f"with (in {plan.indicator(indicators[i]).unit!r})",
                f"give 0 or a size between {TINY:g} and {HUGE:g}; check the value and its unit",
            )
        for k in np.flatnonzero(np.isnan(factors)).tolist():
            message, hint = verdicts[k] or ("", "")
            for i in rows[codes == k].tolist():
                problem(i, "unit", message, hint)
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            del problems[MAX_PROBLEMS:]
            problems.append(Problem(source=source, path="", message=f"… and {more} more problems"))
        raise DataError(problems)
    frame = pd.DataFrame(
        {
            "indicator": pd.Series(indicators, dtype="object"),
            "stage": pd.Series(stages, dtype="object"),
            "date": pd.Series(dates, dtype="datetime64[s]"),
            "value": values,
            "reported_at": pd.Series(reported, dtype="datetime64[s]"),
            "raw_value": pd.Series(raw_values, dtype="object"),
            "unit": pd.Series(row_units, dtype="object"),
            "source": pd.Series(col("source"), dtype="object"),
            "note": pd.Series(col("note"), dtype="object"),
            "file": pd.Series(row_places, dtype="object"),
            "line": pd.Series(lines, dtype="int64"),
            "scope": pd.Series(scopes, dtype="object"),
        }
    )
    frame = _drop_duplicates(frame, problems)
    if problems:
        raise DataError(problems)
    return frame


def _check_scopes(scopes: list[str], plan: Plan, problem: Any) -> None:
    """Report each row whose scope no part of the plan names, with the closest scope."""
    named = sorted({p.scope for t in plan.targets for p in t.parts})
    hints: dict[str, str] = {}
    for i, scope in enumerate(scopes):
        if not scope or scope in named:
            continue
        if scope not in hints:
            close = difflib.get_close_matches(scope, named, n=1, cutoff=0.5)
            hints[scope] = (
                f"did you mean {close[0]!r}?"
                if close
                else "name a scope listed in a target's parts, or leave the cell empty for the whole"
                if named
                else "the plan splits no target into parts: leave the scope empty"
            )
        problem(i, "scope", f"no part of the plan has the scope {scope!r}", hints[scope])


def _unit_verdict(plan: Plan, ind_id: str, unit: str) -> float | tuple[str, str]:
    """Return the factor from a row's unit to its indicator's, or (message, hint) when wrong."""
    indicator_unit = plan.indicator(ind_id).unit
    if not unit and indicator_unit:
        # an empty cell is never read as a fraction: 19.5 for a % indicator would become 1950%
        return (
            f"the unit is empty for {ind_id!r}, which is measured in {indicator_unit!r}",
            f"write the unit, e.g. {indicator_unit!r}",
        )
    if unit and not indicator_unit and unit != "1":
        return (
            f"{ind_id!r} has no unit (a rank or a count without one), but the row gives {unit!r}",
            "leave the unit cell empty",
        )
    try:
        return plan.units.factor(unit, indicator_unit)
    except UnitError as exc:
        return f"{exc.message} (indicator {ind_id!r} is in {indicator_unit!r})", exc.hint


def _parse_dates(cells: list[str], column: str, problem: Any, *, required: bool) -> list[Any]:
    def one(cell: str) -> Any:
        if not cell:
            return None
        try:
            return np.datetime64(parse_date(cell), "s")
        except ValueError as exc:
            return exc

    out = _by_unique(cells, one)
    for i, value in enumerate(out):
        if isinstance(value, ValueError):
            problem(i, column, str(value), _date_hint(cells[i]))
            out[i] = None
        elif value is None and required:
            problem(i, column, "the date is empty", DATE_HINT)
    return out


def _date_hint(cell: str) -> str:
    """Return the fix for a bad date cell; a spreadsheet's serial day number gets its own."""
    if _EXCEL_SERIAL.match(cell):
        # not read as a date: 45107 and a compact 202306 both look like plain numbers
        day = (dt.date(1899, 12, 30) + dt.timedelta(days=int(float(cell)))).isoformat()
        return (
            f"{cell} looks like an Excel serial date for {day}: format the column as a date "
            f"(yyyy-mm-dd) before saving the CSV, or write {day}"
        )
    return DATE_HINT


def _drop_duplicates(frame: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Drop rows repeating another row's value; report rows that contradict one another."""
    key = ["indicator", "stage", "date", "reported_at"]
    if "scope" in frame.columns and (frame["scope"].to_numpy() != "").any():
        key.append("scope")  # the same indicator and date in two scopes is no conflict
    dup = frame.duplicated(key, keep=False)
    if not dup.any():
        return frame
    groups = frame[dup].groupby(key, dropna=False, sort=True)
    for _key, group in groups:
        vals = group["value"].to_numpy()
        if np.allclose(vals, vals[0], rtol=1e-9, atol=0.0):
            continue
        files = [str(f) for f in group["file"]]
        lines = [int(n) for n in group["line"]]
        shown = [f"{v} {u}".strip() for v, u in zip(group["raw_value"], group["unit"], strict=True)]
        ind = str(group["indicator"].iloc[0])
        day = pd.Timestamp(group["date"].iloc[0]).date().isoformat()
        where = ", ".join(f"{f}:{n}" for f, n in zip(files[1:], lines[1:], strict=True))
        problems.append(
            Problem(
                source=files[0],
                path="value",
                line=lines[0],
                message=(
                    f"conflicting values for {ind!r} on {day}: "
                    + ", ".join(shown)
                    + f" (also at {where})"
                ),
                hint="a revision needs a later reported_at; otherwise keep one row",
            )
        )
    return frame.drop_duplicates(key, keep="first").reset_index(drop=True)
