"""Actuals: the observed figures, read from CSV files or pandas DataFrames into one checked table.

The canonical table has one row per observation with the value already converted to its
indicator's unit (one cached factor per unit pair, applied to whole columns). Every row keeps the
file and line it came from, so each result can show its evidence.

Reading is strict: every bad row is reported with its file, line, column, value and a fix, and all
problems of a source are collected before `DataError` is raised.
"""

from __future__ import annotations

import codecs
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
import numpy.typing as npt
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
    # one source's rows were checked for repeats as it was read
    return parts[0] if len(parts) == 1 else parts[0].concat(*parts[1:])


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


def _is_utf8(data: bytes) -> bool:
    """Return whether ``data`` is UTF-8, decoding a megabyte at a time (the text is not kept)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    step = 1 << 20
    try:
        for at in range(0, len(data), step):
            decoder.decode(view[at : at + step])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf8(path: Path) -> bytes:
    """Return a CSV file's content as UTF-8 bytes (without a BOM), from UTF-8 or GB18030/GBK."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError.single(
            str(path), "", f"cannot be read ({exc.strerror})", "check the path and its permissions"
        ) from exc
    data = data.removeprefix(b"\xef\xbb\xbf")
    if _is_utf8(data):
        return data
    try:
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        pass
    raise DataError.single(
        str(path), "", "is neither UTF-8 nor GB18030/GBK text", "save the file as UTF-8 CSV"
    )


def _read_csv(path: Path, plan: Plan) -> Actuals:
    data = _utf8(path)
    plain = _plain_columns(data, str(path)) if data and not data.isspace() else None
    if plain is not None:
        del data  # the columns hold the cells now: the file's bytes go before the frame is built
        table, lines = plain
        return Actuals(_build(table, lines, plan, str(path), [], let_go=True))
    text = data.decode("utf-8")
    _check_not_empty(text, str(path))
    return _read_any_csv(text, plan, str(path))


def read_csv_text(text: str, plan: Plan, *, source: str) -> Actuals:
    """Read actuals from CSV text as from a file named ``source`` (lines counted in the text)."""
    _check_not_empty(text, source)
    plain = _plain_columns(text.encode("utf-8"), source)
    if plain is None:
        return _read_any_csv(text, plan, source)
    return Actuals(_build(*plain, plan, source, [], let_go=True))


def _check_not_empty(text: str, source: str) -> None:
    if not text.strip():
        raise DataError.single(
            source,
            "",
            "the file is empty",
            "a CSV needs a header line: indicator,date,value,unit[,reported_at,source,note]",
            line=1,
        )


def _read_any_csv(text: str, plan: Plan, source: str) -> Actuals:
    """Read CSV text the plain reader declined (quotes, ragged rows …) with the csv module."""
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


def _plain_columns(
    encoded: bytes, source: str
) -> tuple[dict[str, Cells], npt.NDArray[np.int64]] | None:
    """Read a CSV without quotes, blank header lines or odd rows with pandas' C parser.

    Returns the text columns by canonical name and each row's line number. Large exports are
    usually this plain; then every line is one record, so line numbers stay exact. Anything
    else returns None and is read by the csv module, which reports each odd row. The lines are
    checked on the file's UTF-8 bytes with numpy (commas per line), not one by one, and the
    text is never held as a Python string.
    """
    if b'"' in encoded:
        return None
    data = np.frombuffer(encoded, dtype=np.uint8)
    step = 1 << 22  # bytes at a time: the masks of a whole large file would cost its size again
    breaks = np.concatenate(
        [np.flatnonzero(data[at : at + step] == 10) + at for at in range(0, len(data), step)]
        or [np.zeros(0, dtype=np.int64)]
    )  # "\n"
    for at in range(0, len(data), step):
        returns = np.flatnonzero(data[at : at + step] == 13) + at  # "\r" only before "\n"
        if len(returns) and (returns[-1] + 1 >= len(data) or not (data[returns + 1] == 10).all()):
            return None
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(data)]])
    commas = np.zeros(len(starts), dtype=np.int64)  # "," on each line
    for at in range(0, len(data), step):
        lines = np.searchsorted(breaks, np.flatnonzero(data[at : at + step] == 44) + at)
        if len(lines):  # the chunk's lines are consecutive: count on that stretch only
            counts = np.bincount(lines - lines[0])
            commas[lines[0] : lines[0] + len(counts)] += counts
    del data
    header = encoded[: int(ends[0])].decode("utf-8").removesuffix("\r")
    if not header.strip():
        return None
    width = header.count(",")
    # a line without commas may be blank (spaces, a lone "\r"): look at those few closely
    blank = np.zeros(len(starts), dtype=bool)
    candidates = np.flatnonzero(commas == 0)
    if len(candidates):
        for k in candidates.tolist():
            blank[k] = not encoded[int(starts[k]) : int(ends[k])].decode("utf-8").strip()
    if (commas[~blank] != width).any():
        return None  # a ragged row: the csv module names it
    problems: list[Problem] = []
    names = header.split(",")
    columns = _check_columns(names, source, problems, line=1)
    if problems:
        raise DataError(problems)
    frame = pd.read_csv(
        io.BytesIO(encoded),  # bytes: a StringIO would hold the text again, four bytes a character
        encoding="utf-8",
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        header=0,
        names=[f"c{i}" for i in range(width + 1)],
        engine="c",
    )
    # data rows start on line 2; blank lines became rows of empty cells and are dropped here
    keep = np.flatnonzero(~blank[1:])
    keep = keep[keep < len(frame)]
    table: dict[str, Cells] = {}
    for original, name in columns.items():
        column = frame[f"c{names.index(original)}"]
        table[name] = column if len(keep) == len(frame) else column.iloc[keep]
    return table, keep + 2


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


Cells = Sequence[str] | pd.Series
"""A column of cell texts: a list, or a Series of strings (what pandas' CSV reader gives)."""


@attrs.frozen
class _Factored:
    """A column as codes into its distinct cells: work per distinct cell, spread by ``codes``."""

    codes: npt.NDArray[np.int32]  # four bytes a row: a column has far fewer distinct cells
    uniques: list[str]  # each distinct cell, stripped

    @classmethod
    def of(cls, cells: Cells | None, n: int) -> _Factored:
        if cells is None:
            return cls(np.zeros(n, dtype=np.int32), [""])
        series = cells if isinstance(cells, pd.Series) else pd.Series(cells, dtype="object")
        codes, uniques = pd.factorize(series, use_na_sentinel=False)
        found = [str(u).strip() for u in uniques.tolist()]
        return cls(codes.astype(np.int32), found or [""])

    def cells(self) -> npt.NDArray[np.object_]:
        """Return each row's (stripped) cell, as an array of references to the distinct texts."""
        return np.array(self.uniques, dtype=object)[self.codes]

    def take(self, rows: npt.NDArray[np.intp]) -> _Factored:
        return _Factored(self.codes[rows], self.uniques)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _build(
    table: Mapping[str, Cells],
    lines: Sequence[int] | npt.NDArray[np.int64],
    plan: Plan,
    source: str,
    problems: list[Problem],
    *,
    places: Sequence[str] | None = None,
    partial: bool = False,
    notes: list[str] | None = None,
    let_go: bool = False,
) -> pd.DataFrame:
    """Validate and convert raw text columns into the canonical frame.

    ``places`` names where each row came from (a workbook cell) instead of ``source``; with
    ``partial``, rows naming no indicator are dropped with a note in ``notes``; with
    ``let_go``, ``table`` (a dict the caller has no further use for) is emptied once read.

    Work is done once per distinct cell (dates, units, indicator ids, sources, notes) or
    column-wise (numbers); only rows that need a closer look (thousands separators, a % sign,
    milestones, errors) are read one by one, and no Python object is made per row but the
    value's own text.
    """
    # the plan's own id objects, so that the table's ids are the plan's (found by identity)
    known = {i.id: i.id for i in plan.indicators}
    names = NameIndex.of(plan)
    line_numbers = np.asarray(lines, dtype=np.int64)
    n = len(line_numbers)

    def to_id(cell: str) -> str:
        text = _nfkc(cell)
        found = known.get(text) or names.resolve(text)
        return text if found is None else known.get(found, found)

    factored = {name: _Factored.of(table[name], n) for name in table if name != "value"}
    raw_column: Cells = table["value"] if "value" in table else [""] * n
    if isinstance(table, dict) and let_go:
        table.clear()  # the caller's own columns, read now: their memory goes before the frame's
    ind_f = factored.get("indicator") or _Factored.of(None, n)
    resolved = [to_id(u) for u in ind_f.uniques]
    ind_f = _Factored(ind_f.codes, resolved)  # codes now point at resolved ids
    if partial:
        wanted = np.array([r in known for r in resolved], dtype=bool)
        mask = wanted[ind_f.codes]
        if not mask.all():
            skipped = sorted({r for r, w in zip(resolved, wanted.tolist(), strict=True) if not w})
            if notes is not None:
                notes.append(
                    f"{source}: {n - int(mask.sum())} rows name no indicator of the plan "
                    "and were skipped: " + ", ".join(repr(s) for s in skipped[:10])
                )
            rows = np.flatnonzero(mask)
            factored = {k: f.take(rows) for k, f in factored.items()}
            ind_f = ind_f.take(rows)
            raw_column = (
                raw_column.iloc[rows].reset_index(drop=True)
                if isinstance(raw_column, pd.Series)
                else [raw_column[i] for i in rows.tolist()]
            )
            line_numbers = line_numbers[rows]
            places = [places[i] for i in rows.tolist()] if places else None
            n = len(rows)
    indicators = ind_f.cells()
    row_places = np.asarray(places, dtype=object) if places else _same(n, source)

    def col(name: str) -> _Factored:
        return factored.get(name) or _Factored.of(None, n)

    def problem(i: int, column: str, message: str, hint: str = "") -> None:
        problems.append(
            Problem(
                source=str(row_places[i]),
                path=column,
                line=int(line_numbers[i]),
                message=message,
                hint=hint,
            )
        )

    unknown: dict[str, str] = {}
    bad_ids = [k for k, r in enumerate(resolved) if r not in known]
    if bad_ids:
        for i in np.flatnonzero(np.isin(ind_f.codes, bad_ids)).tolist():
            ind = str(indicators[i])
            if not ind:
                problem(
                    i, "indicator", "the indicator is empty", "give the indicator id of the plan"
                )
                continue
            if ind not in unknown:
                close = difflib.get_close_matches(ind, sorted(known), n=1, cutoff=0.6)
                unknown[ind] = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "use an indicator id declared in the plan"
                )
            problem(i, "indicator", f"unknown indicator {ind!r}", unknown[ind])

    scope_f = _Factored(col("scope").codes, [_nfkc(u) for u in col("scope").uniques])
    scopes = scope_f.cells()
    if "scope" in table and any(scope_f.uniques):
        _check_scopes(scope_f, plan, problem)
    dates = _parse_dates(col("date"), "date", problem, required=True)
    reported = _parse_dates(col("reported_at"), "reported_at", problem, required=False)

    # stage ids a milestone indicator accepts as values
    stage_ids: dict[str, set[str]] = {}
    for target in plan.targets:
        for stage in getattr(target.rule, "stages", ()):
            stage_ids.setdefault(target.rule.indicator_ids()[0], set()).add(stage.id)

    raw_series = (
        raw_column.reset_index(drop=True)
        if isinstance(raw_column, pd.Series)
        else pd.Series(raw_column, dtype="object")
    )
    # strings held by pandas (a CSV column) strip in one vectorised call and stay pandas
    # strings (no Python object a cell); a list is stripped cell by cell
    stripped: pd.Series[Any]
    if raw_series.dtype == object:
        stripped = pd.Series([str(c).strip() for c in raw_series.tolist()], dtype="object")
    else:
        stripped = raw_series.str.strip()
    raw_values = stripped.array  # a cell by position: raw_values[i]
    unit_f = col("unit")
    unit_codes = unit_f.codes.copy()
    unit_texts = [_nfkc(u) for u in unit_f.uniques]
    is_known = np.array([r in known for r in resolved], dtype=bool)[ind_f.codes]
    milestones = {i.id for i in plan.indicators if i.kind is IndicatorKind.MILESTONE}
    is_milestone = np.array([r in milestones for r in resolved], dtype=bool)[ind_f.codes]
    # column-wise first: plain numbers parse in C; everything else is read row by row below
    numbers = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    plain = is_known & ~is_milestone & np.isfinite(numbers)
    values = np.where(plain, numbers, np.nan)
    stages = _same(n, "")
    parsed = plain.copy()  # rows whose number is known, still in the row's own unit
    percent = -1  # the unit code of "%", added when a value carries its own % sign
    for i in np.flatnonzero(is_known & ~plain).tolist():
        ind_id = str(indicators[i])
        raw = _nfkc(str(stripped.iat[i]))
        unit = unit_texts[unit_codes[i]]
        if is_milestone[i]:
            token = raw.lower()
            if unit:
                problem(
                    i,
                    "unit",
                    f"{ind_id!r} is a milestone, done or not done, but the row gives the unit "
                    f"{unit!r}",
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
        if raw.endswith("%") and unit in ("", "%"):  # 19.5% with or without unit %
            if percent < 0:
                if "%" not in unit_texts:
                    unit_texts.append("%")
                percent = unit_texts.index("%")
            raw, unit_codes[i] = raw[:-1].strip(), percent
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
    units_of = np.array(unit_texts, dtype=object)

    # units: one check and one factor per distinct (indicator, unit) pair
    if parsed.any():
        rows = np.flatnonzero(parsed)
        pair = ind_f.codes[rows].astype(np.int64) * len(unit_texts) + unit_codes[rows]
        codes, uniques = pd.factorize(pair)
        factors = np.full(len(uniques), np.nan)
        verdicts: list[tuple[str, str] | None] = []
        for k, key in enumerate(uniques.tolist()):
            ind_id, unit = resolved[key // len(unit_texts)], unit_texts[key % len(unit_texts)]
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
                f"{raw_values[i]!r} {units_of[unit_codes[i]]} is out of the range targetkit "
                f"computes with (in {plan.indicator(str(indicators[i])).unit!r})",
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
    columns = {
        "indicator": (indicators, "object"),
        "stage": (stages, "object"),
        "date": (dates, "datetime64[s]"),
        "value": (values, "float64"),
        "reported_at": (reported, "datetime64[s]"),
        "raw_value": (stripped, stripped.dtype),
        "unit": (units_of[unit_codes], "object"),
        "source": (col("source").cells(), "object"),
        "note": (col("note").cells(), "object"),
        "file": (row_places, "object"),
        "line": (line_numbers, "int64"),
        "scope": (scopes, "object"),
    }
    # the arrays are this function's own: the frame takes them as they are (a default frame
    # copies every column into one block per type, doubling the memory for a moment)
    frame = pd.DataFrame(
        {
            name: pd.Series(cells, dtype=dtype, copy=False)
            for name, (cells, dtype) in columns.items()
        },
        copy=False,
    )
    del columns
    frame = _drop_duplicates(frame, problems)
    if problems:
        raise DataError(problems)
    return frame


def _same(n: int, text: str) -> npt.NDArray[np.object_]:
    """Return ``n`` references to one text (``np.full`` would make ``n`` copies of it)."""
    out = np.empty(n, dtype=object)
    out.fill(text)
    return out


def _check_scopes(scopes: _Factored, plan: Plan, problem: Any) -> None:
    """Report each row whose scope no part of the plan names, with the closest scope."""
    named = sorted({p.scope for t in plan.targets for p in t.parts})
    for k, scope in enumerate(scopes.uniques):
        if not scope or scope in named:
            continue
        close = difflib.get_close_matches(scope, named, n=1, cutoff=0.5)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "name a scope listed in a target's parts, or leave the cell empty for the whole"
            if named
            else "the plan splits no target into parts: leave the scope empty"
        )
        for i in np.flatnonzero(scopes.codes == k).tolist():
            problem(i, "scope", f"no part of the plan has the scope {scope!r}", hint)


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


def _parse_dates(
    cells: _Factored, column: str, problem: Any, *, required: bool
) -> npt.NDArray[np.datetime64]:
    """Return the column as datetime64[s] (NaT where empty), parsing each distinct cell once."""
    parsed: list[Any] = []
    for cell in cells.uniques:
        if not cell:
            parsed.append(None)
            continue
        try:
            parsed.append(np.datetime64(parse_date(cell), "s"))
        except ValueError as exc:
            parsed.append(exc)
    for k, value in enumerate(parsed):
        if isinstance(value, ValueError) or (value is None and required):
            for i in np.flatnonzero(cells.codes == k).tolist():
                if isinstance(value, ValueError):
                    problem(i, column, str(value), _date_hint(cells.uniques[k]))
                else:
                    problem(i, column, "the date is empty", DATE_HINT)
    days = np.array(
        [v if isinstance(v, np.datetime64) else np.datetime64("NaT", "s") for v in parsed],
        dtype="datetime64[s]",
    )
    return days[cells.codes]


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


def _repeats(frame: pd.DataFrame, key: Sequence[str]) -> bool:
    """Return whether two rows agree on all ``key`` columns: one integer code a row, sorted.

    A fraction of what ``frame.duplicated`` holds at once for a large table (it hashes every
    row's tuple of cells); rows that do repeat are then looked at with it.
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for name in key:
        codes, width = _small_codes(frame[name].to_numpy())
        if size * width >= 1 << 62:  # keep the code within 64 bits: renumber what is seen so far
            combined, seen = pd.factorize(combined)
            size = len(seen)
        combined = combined * width + codes
        size *= width
    ordered = np.sort(combined)
    return bool((ordered[1:] == ordered[:-1]).any())


def _small_codes(cells: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], int]:
    """Return a code per cell, equal for equal cells, and a bound on the codes.

    Dates are their distance from the earliest (in days when all are whole days; NaT 0); other
    cells are numbered by a hash table grown to the distinct cells, not sized for every row as
    pandas would by default.
    """
    if cells.dtype.kind == "M":
        stamps = cells.view(np.int64)
        missing = np.isnat(cells)
        if missing.all():
            return np.zeros(len(cells), dtype=np.int64), 1
        seen = stamps[~missing]
        step = (
            86_400 if cells.dtype == np.dtype("datetime64[s]") and not (seen % 86_400).any() else 1
        )
        low = int(seen.min()) // step
        codes = np.where(missing, 0, stamps // step - (low - 1))  # whole days: a narrow range
        return codes, int(codes.max()) + 1
    found, uniques = pd.factorize(cells, use_na_sentinel=False, size_hint=1024)
    return found.astype(np.int64, copy=False), len(uniques)


def _drop_duplicates(frame: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Drop rows repeating another row's value; report rows that contradict one another."""
    key = ["indicator", "stage", "date", "reported_at"]
    if "scope" in frame.columns and (frame["scope"].to_numpy() != "").any():
        key.append("scope")  # the same indicator and date in two scopes is no conflict
    if not _repeats(frame, key):
        return frame  # the usual case, found without hashing whole rows
    dup = frame.duplicated(key, keep=False)
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
