"""Read Excel workbooks (.xlsx, .xlsm, .xls, .ods) in the long layout or the wide 报表 layout.

The cells are read with python-calamine (the ``xlsx`` extra): it reads values and merged ranges of
every sheet in Rust, several times faster than openpyxl (see benchmarks/sources.py), and reads the
old binary .xls too. Formulas are not evaluated by any reader; a formula cell whose workbook was
saved without computed values is found by scanning the sheet's XML (stdlib) and reported.

Each sheet is read on its own and recognised without configuration:

- **long**: a header row naming the indicator, date and value columns (English or Chinese words,
  see `targetkit.sources.HEADER_WORDS`), one observation per row;
- **wide** (报表): a header naming an indicator column and period columns (1-6月, 上半年,
  2023年6月, 2023-06 …), one indicator per row, title rows above and footnotes below.

A `Layout` (from a sources file) names the header row, the indicator column and the period
columns where a sheet's layout cannot be recognised.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

import attrs

from targetkit.dates import parse_date
from targetkit.exceptions import DataError, Problem
from targetkit.model import IndicatorKind
from targetkit.sources import NameIndex, Rows, canonical_column, cell_text, require

__all__ = ["SUFFIXES", "WHOLE_NAMES", "Layout", "read_workbook"]

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_HEADER_SCAN = 30  # rows searched for a header

# cells meaning "no figure": not zero, not an error
NO_FIGURE = frozenset(
    {"", "—", "——", "-", "--", "–", "/", "…", "……", "...", "空白", "暂无", "无数据", "n/a", "#n/a"}
)
_FOOTNOTE = re.compile(r"^(?:注|说明|资料来源|数据来源|备注|附注)\s*\d*\s*[:：.]|^注\s*\d|^[*※]")
_UNIT_LINE = re.compile(r"(?:计量)?单位\s*[:：]\s*([^\s,，;；、/)）]+)")
_REPORTED_LINE = re.compile(r"(?:报送|发布|填报|报出)(?:日期|时间)\s*[:：]\s*([^\s,，;；)）]+)")
_NUMBERING = re.compile(
    r"^(?:[（(]?[一二三四五六七八九十]+[)）、.．]|[（(]\d+[)）]|\d+[、.．](?!\d)|其中\s*[:：]?|[#△▲*※]+)\s*"
)
_TABLE_NO = re.compile(
    r"^(?:附)?表\s*[\d一二三四五六七八九十]+(?:[-.－]\d+)*[:：]?$"
)  # 表1, 附表2-1
_PAREN_TAIL = re.compile(r"[（(]([^()（）]+)[)）]\s*$")
_YEAR_IN_TEXT = re.compile(r"((?:19|20)\d{2})\s*年")
_YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_GROWTH = re.compile(r"同比|增长|增速|增幅|比上年|±")
_MONTH_ONLY = frozenset({"本月", "当月", "本月数", "当月数"})
_PRIOR = re.compile(r"上年|去年|同期")
_VALUE_WORDS = re.compile(r"(?:本年累计|累计数|累计|本期数|本期|数值|期末数|期末|本月末)$")
_NUMBER_TEXT = re.compile(r"^\s*[+-]?[\d.,]+\s*$")
_ZH = {"一": 1, "二": 2, "三": 3, "四": 4}

# sheet names and scope cells meaning the whole (the city, the county), not one of its parts
WHOLE_NAMES = frozenset(
    {"全市", "全县", "全区", "全省", "全州", "全盟", "全旗", "合计", "总计", "汇总", "总体", "全部"}
)

# period labels without a year: (pattern, month the period ends)
_SPAN = re.compile(r"^(\d{1,2})\s*[-–—~～至到]\s*(\d{1,2})\s*月(?:份)?(?:末|底)?$")
_MONTH = re.compile(r"^(\d{1,2})\s*月(?:份)?(?:末|底)?$")
_QUARTER = re.compile(r"^(?:第)?([1-4一二三四])\s*季度(?:末)?$")
_NAMED = {
    "上半年": 6,
    "前三季度": 9,
    "全年": 12,
    "年度": 12,
    "全年累计": 12,
    "年末": 12,
    "年底": 12,
}
_ISO_MONTH = re.compile(r"^((?:19|20)\d{2})\s*[-./]\s*(\d{1,2})$")


@attrs.frozen(kw_only=True)
class Layout:
    """How to read sheets whose layout is not recognised; every field is optional.

    Attributes:
        sheets: Read only these sheets (names), in this order; empty reads all.
        header_row: The 1-based row holding the column labels (the last one of a multi-row header).
        indicator_column: The column letter holding indicator ids, names or aliases.
        unit_column: The column letter holding the unit of each row.
        unit: The unit of every value the sheet gives without one.
        periods: Column letter → the date its values are for (the end of the period).
        reported_at: The date the figures became known, for rows without their own.
        partial: Rows naming no indicator of the plan are skipped with a note.
        scope_column: The column letter holding each row's scope (县市区, 责任单位 …).
        sheet_scopes: Whether each sheet is named after its scope (one sheet per 县市区): None
            decides from the sheet names (some sheet is named after a scope of the plan's
            parts), True and False say so.
        whole: More sheet names and scope cells that mean the whole (besides `WHOLE_NAMES`).
    """

    sheets: tuple[str, ...] = ()
    header_row: int | None = None
    indicator_column: str | None = None
    unit_column: str | None = None
    unit: str = ""
    periods: Mapping[str, dt.date] = attrs.field(factory=dict)
    reported_at: dt.date | None = None
    partial: bool = False
    scope_column: str | None = None
    sheet_scopes: bool | None = None
    whole: tuple[str, ...] = ()


def column_letter(index: int) -> str:
    """Return the letter of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letter: str) -> int:
    """Return the 0-based index of a column letter: A → 0."""
    index = 0
    for ch in letter.strip().upper():
        if not "A" <= ch <= "Z":
            raise ValueError(f"{letter!r} is not a column letter")
        index = index * 26 + ord(ch) - 64
    if index == 0:
        raise ValueError(f"{letter!r} is not a column letter")
    return index - 1


def _norm(value: Any) -> str:
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return cell_text(value)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _scope_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class _Scopes:
    """The scopes of a plan's parts, as sheet names and scope cells may write them."""

    def __init__(self, names: NameIndex, layout: Layout) -> None:
        self.known = names.plan is not None
        self.named: dict[str, str] = {}
        plan = names.plan
        for target in plan.targets if plan is not None else ():
            for part in target.parts:
                self.named.setdefault(_scope_key(part.scope), part.scope)
        self.whole = WHOLE_NAMES | {_scope_key(w) for w in layout.whole}

    def resolve(self, text: str) -> str | None:
        """Return the scope ``text`` names ("" for the whole), or None when it names none."""
        key = _scope_key(text)
        if key in self.whole:
            return ""
        if not self.known:
            return key
        return self.named.get(key)

    def hint(self, text: str) -> str:
        if not self.named:
            return "the plan splits no target into parts: leave the scope out"
        close = difflib.get_close_matches(_scope_key(text), list(self.named), n=1, cutoff=0.5)
        listed = ", ".join(self.named.values())
        head = f"did you mean {self.named[close[0]]!r}? " if close else ""
        return f"{head}write one of the plan's scopes ({listed}), or 全市/合计 for the whole"


@attrs.frozen
class _Column:
    role: (
        str  # indicator, scope, unit, period, growth, sheet_period, note, source, reported_at, skip
    )
    label: str
    date: dt.date | None = None
    unit: str = ""
    cumulative: bool = True  # a span (1-6月), a quarter or half-year: preferred over a bare month


def _split_unit(label: str, units: Any) -> tuple[str, str]:
    """Split a unit suffix such as (亿元) off a label, when it names a unit."""
    m = _PAREN_TAIL.search(label)
    if m and units is not None:
        candidate = m[1].strip()
        if candidate in ("%", "％"):
            return label[: m.start()].strip(), "%"
        try:
            units.check(candidate)
        except ValueError:
            return label, ""
        return label[: m.start()].strip(), candidate
    return label, ""


def period_date(label: str, year: int | None) -> tuple[dt.date | None, bool, str]:
    """Read a period label; return (end date, whether cumulative-looking, why it failed)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", label))
    text = text.removesuffix("累计").removesuffix("止")
    if not text:
        return None, False, "empty"
    if m := _ISO_MONTH.match(text):
        return _month_end(int(m[1]), int(m[2])), False, ""
    own = _YEAR_IN_TEXT.match(text)
    rest = text[own.end() :] if own else text
    the_year = int(own[1]) if own else year
    cumulative = True
    month: int | None = None
    if m := _SPAN.match(rest):
        if int(m[1]) > int(m[2]):
            return None, False, f"the months in {label!r} run backwards"
        month = int(m[2])
    elif m := _MONTH.match(rest):
        month, cumulative = int(m[1]), False
    elif m := _QUARTER.match(rest):
        month = 3 * (_ZH.get(m[1]) or int(m[1]))
    elif rest in _NAMED:
        month = _NAMED[rest]
    elif own and rest in ("", "末", "底"):
        month = 12
    else:
        try:
            return parse_date(text), False, ""
        except ValueError:
            return None, False, "not a period"
    if not 1 <= month <= 12:
        return None, False, f"{label!r} names no month"
    if the_year is None:
        return None, cumulative, "no year"
    return _month_end(the_year, month), cumulative, ""


class _Texts:
    """The normalised text of a sheet's rows, made when a row is first looked at."""

    def __init__(self, cells: list[list[Any]], width: int) -> None:
        self._cells = cells
        self._width = width
        self._rows: dict[int, list[str]] = {}

    def __getitem__(self, row: int) -> list[str]:
        found = self._rows.get(row)
        if found is None:
            raw = self._cells[row]
            found = [_norm(v) for v in raw] + [""] * (self._width - len(raw))
            self._rows[row] = found
        return found


class _Sheet:
    """One sheet's cells with merged ranges filled in, and what reading it found."""

    def __init__(
        self,
        book: str,
        name: str,
        cells: list[list[Any]],
        merged: Sequence[tuple[tuple[int, int], tuple[int, int]]],
        uncached: set[tuple[int, int]],
    ) -> None:
        self.book = book
        self.name = name
        self.raw = cells
        self.width = max((len(r) for r in cells), default=0)
        self.height = len(cells)
        self.text = _Texts(cells, self.width)
        self._letters = [column_letter(c) for c in range(self.width)]
        self.merged = list(merged)
        self.uncached = uncached
        # cell → the merged range it belongs to (top-left, bottom-right)
        self.merge_of: dict[tuple[int, int], tuple[tuple[int, int], tuple[int, int]]] = {}
        for (r0, c0), (r1, c1) in self.merged:
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    self.merge_of[(r, c)] = ((r0, c0), (r1, c1))

    def place(self, row: int, col: int) -> str:
        letter = self._letters[col] if col < self.width else column_letter(col)
        return f"{self.book}!{self.name}!{letter}{row + 1}"

    def filled(self, row: int, col: int) -> str:
        """Return a cell's text, or the text of the merged range it is part of."""
        merged = self.merge_of.get((row, col))
        if merged is not None:
            (row, col), _ = merged
        value = self.value(row, col)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value.day == 1:
            # office software turns a typed 2023-6 or 2023年6月 into the 1st of the month
            return f"{value.year}-{value.month:02d}"
        if isinstance(value, dt.datetime) and value.day == 1 and value.time() == dt.time():
            return f"{value.year}-{value.month:02d}"
        return value if value == "" else _norm(value)

    def value(self, row: int, col: int) -> Any:
        if row < len(self.raw) and col < len(self.raw[row]):
            return self.raw[row][col]
        return ""


def _first_text(row: Sequence[Any]) -> str:
    """Return the normalised text of a row's first non-empty cell."""
    for value in row:
        if value != "" and value is not None:
            text = _norm(value)
            if text:
                return text
    return ""


def _is_figure(value: Any) -> bool:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return True
    return _norm(value).lower() not in NO_FIGURE


def _uncached(path: Path) -> dict[str, set[tuple[int, int]]]:
    """Return, per sheet name, the formula cells saved without a computed value (.xlsx only).

    openpyxl and other writers that cannot compute formulas save ``<f>`` without ``<v>``; every
    reader then sees an empty cell, which would silently become "no figure".
    """
    found: dict[str, set[tuple[int, int]]] = {}
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return found
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        with zipfile.ZipFile(path) as archive:
            book = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
            rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
            targets = {r.get("Id"): r.get("Target", "") for r in rels}
            for sheet in book.iter(f"{ns}sheet"):
                target = targets.get(sheet.get(f"{rel_ns}id"), "")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                member = str(PurePosixPath(member))
                data = archive.read(member)
                if b"<f" not in data:
                    continue
                cells: set[tuple[int, int]] = set()
                for cell in ET.fromstring(data).iter(f"{ns}c"):  # noqa: S314
                    formula = cell.find(f"{ns}f")
                    if formula is None:
                        continue
                    value = cell.find(f"{ns}v")
                    if value is None or not (value.text or ""):
                        ref = cell.get("r", "")
                        m = re.match(r"([A-Z]+)(\d+)$", ref)
                        if m:
                            cells.add((int(m[2]) - 1, column_index(m[1])))
                found[sheet.get("name", "")] = cells
    except (KeyError, OSError, zipfile.BadZipFile, ET.ParseError):
        return found  # the reader itself reports a broken file
    return found


def _open(path: Path, source: str) -> tuple[Any, list[str]]:
    calamine = require("python_calamine", "xlsx", source)
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError as exc:
        raise DataError.single(
            source,
            "",
            "the workbook is protected by a password",
            "save an unprotected copy and read that",
        ) from exc
    except (OSError, ValueError, calamine.CalamineError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError.single(
            source,
            "",
            f"cannot be read as a workbook ({reason})",
            "check that the file is a complete .xlsx/.xls workbook (not still being saved or "
            "locked by another program); save it again from Excel or LibreOffice",
        ) from exc
    visible = [
        m.name
        for m in book.sheets_metadata
        if str(getattr(m, "visible", "Visible")).endswith("Visible")
        and str(getattr(m, "typ", "WorkSheet")).endswith("WorkSheet")
    ]
    return book, visible


def read_workbook(
    path: Path,
    names: NameIndex,
    *,
    layout: Layout | None = None,
    trace: list[str] | None = None,
) -> list[Rows]:
    """Read every (visible) sheet of a workbook into `Rows`, one per sheet that holds figures.

    Args:
        path: The workbook.
        names: Finds indicators by id, name or alias.
        layout: Overrides for sheets whose layout is not recognised.
        trace: When given, receives one line per cell read or skipped (``targetkit sources show``).

    Raises:
        DataError: naming the workbook, sheet and cell of every problem.
    """
    source = str(path)
    layout = layout or Layout()
    book, visible = _open(path, source)
    calamine = require("python_calamine", "xlsx", source)
    sheet_names = list(layout.sheets) or visible
    problems: list[Problem] = []
    for wanted in layout.sheets:
        if wanted not in book.sheet_names:
            problems.append(
                Problem(
                    source=source,
                    path="sheet",
                    message=f"the workbook has no sheet {wanted!r}",
                    hint="the sheets are " + ", ".join(repr(s) for s in book.sheet_names),
                )
            )
    if problems:
        raise DataError(problems)
    uncached = _uncached(path)
    out: list[Rows] = []
    skipped: list[str] = []
    scopes = _Scopes(names, layout)
    by_sheet = _sheet_scopes(sheet_names, scopes, layout)
    if trace is not None and by_sheet is not None:
        trace.append(f"{source}: one sheet per scope")
    for name in sheet_names:
        try:
            sheet = book.get_sheet_by_name(name)
            cells = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except (ValueError, calamine.CalamineError) as exc:
            problems.append(
                Problem(
                    source=f"{source}!{name}",
                    path="",
                    message=f"the sheet cannot be read ({exc})",
                    hint="save the workbook again from Excel or LibreOffice",
                )
            )
            continue
        grid = _Sheet(source, name, cells, merged, uncached.get(name, set()))
        sheet_scope = None if by_sheet is None else by_sheet.get(name)
        try:
            rows = _read_sheet(grid, names, layout, path, trace, scopes, sheet_scope)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        if by_sheet is not None and sheet_scope is None and rows is not None and rows.lines:
            problems.append(_stray_sheet(source, name, by_sheet, scopes))
            continue
        if rows is None:
            skipped.append(name)
            if trace is not None:
                trace.append(
                    f"{source}!{name}: skipped: no header with indicator and period columns"
                )
            continue
        out.append(rows)
    if problems:
        raise DataError(problems)
    if not out:
        raise DataError.single(
            source,
            "",
            "no sheet has a header naming an indicator column and period or date columns",
            "give the header row a 指标名称 (or indicator) column and period columns such as "
            "1-6月 or 2023-06, or describe the layout in a sources file (see "
            "docs/reference/actuals.md#mappings)",
        )
    if skipped:
        note = f"{source}: sheets without a recognisable header were skipped: " + ", ".join(
            repr(s) for s in skipped
        )
        out[0] = attrs.evolve(out[0], notes=(*out[0].notes, note))
    return out


def _sheet_scopes(
    sheet_names: Sequence[str], scopes: _Scopes, layout: Layout
) -> dict[str, str] | None:
    """Return sheet name → its scope ("" for the whole) when each sheet is one scope's, else None.

    Automatic (``layout.sheet_scopes`` None): when the plan has parts and some sheet is named
    after one of their scopes. Sheets named after nothing are left out of the mapping.
    """
    if layout.sheet_scopes is False:
        return None
    found = {name: scopes.resolve(name) for name in sheet_names}
    if layout.sheet_scopes is None and not any(found.values()):
        return None
    return {name: scope for name, scope in found.items() if scope is not None}


def _stray_sheet(source: str, name: str, by_sheet: Mapping[str, str], scopes: _Scopes) -> Problem:
    named = [n for n, scope in by_sheet.items() if scope]
    shown = ", ".join(repr(n) for n in named[:4]) + (" …" if len(named) > 4 else "")
    return Problem(
        source=f"{source}!{name}",
        path="sheet",
        message=f"the sheet {name!r} is named after no scope of the plan's parts, while the "
        f"sheets {shown} are: its figures would belong to no one",
        hint=scopes.hint(name).replace("write one of", "rename the sheet to one of")
        + ", or describe the workbook in a sources file with sheet_scopes = false",
    )


def _year_hints(sheet: _Sheet, path: Path, names: NameIndex, title: Iterable[str]) -> int | None:
    for text in (sheet.name, *title):
        if m := _YEAR_IN_TEXT.search(text):
            return int(m[1])
    if m := _YEAR_IN_NAME.search(sheet.name):
        return int(m[1])
    if m := _YEAR_IN_NAME.search(path.stem):
        return int(m[1])
    plan = names.plan
    if plan is not None and plan.start.year == plan.end.year:
        return plan.start.year
    return None


def _is_title(texts: Sequence[str]) -> bool:
    distinct = {t for t in texts if t}
    return len(distinct) <= 1


def _read_sheet(
    sheet: _Sheet,
    names: NameIndex,
    layout: Layout,
    path: Path,
    trace: list[str] | None,
    scopes: _Scopes,
    sheet_scope: str | None,
) -> Rows | None:
    height = sheet.height
    if height == 0 or sheet.width == 0:
        return None
    units = names.plan.units if names.plan is not None else None
    scan = min(height, _HEADER_SCAN)
    filled = [[sheet.filled(r, c) for c in range(sheet.width)] for r in range(scan)]

    # sheet-wide facts written above the table: 单位：万元, 报送日期：2023-07-14, a year
    sheet_unit = layout.unit
    reported = layout.reported_at.isoformat() if layout.reported_at else ""
    title: list[str] = []

    # the long layout: a header row naming indicator, date and value columns
    if layout.header_row is None and not layout.periods:
        for r in range(scan):
            roles = [canonical_column(t) if t else None for t in filled[r]]
            if {"indicator", "date", "value"} <= set(roles):
                return _read_long(sheet, r, roles, layout, trace, scopes, sheet_scope)

    header_end: int | None = (layout.header_row - 1) if layout.header_row else None
    columns: dict[int, _Column] = {}
    first_header: int | None = None
    for r in range(scan):
        texts = filled[r]
        for t in texts:
            if (m := _UNIT_LINE.search(t)) and not sheet_unit and len(t) - len(m[0]) < 40:
                listed = t[m.end() :].lstrip()
                # 单位：亿元、家、% lists the units of the rows: it is no unit of the sheet
                if not listed.startswith(("、", ",", "，", "/", ";", "；")):
                    sheet_unit = m[1]
            if (m := _REPORTED_LINE.search(t)) and not reported:
                reported = m[1]
        if first_header is None:
            plain = [
                "" if _UNIT_LINE.search(t) or _REPORTED_LINE.search(t) or _TABLE_NO.match(t) else t
                for t in texts
            ]
            if _is_title(plain):
                title.extend(t for t in dict.fromkeys(texts) if t)
            else:
                first_header = r
    if first_header is None:
        return None
    if header_end is not None:
        first_header = min(first_header, header_end)
    year = _year_hints(sheet, path, names, title)
    sheet_period = _sheet_period(sheet.name, title, year)

    def classify(start: int, end: int) -> dict[int, _Column]:
        found: dict[int, _Column] = {}
        for c in range(sheet.width):
            parts: list[str] = []
            for r in range(start, end + 1):
                t = filled[r][c] if r < scan else sheet.filled(r, c)
                if t and (not parts or parts[-1] != t) and not _UNIT_LINE.fullmatch(t):
                    parts.append(t)
            label = "".join(parts)
            if label:
                found[c] = _classify(label, year, sheet_period, units)
        return found

    if header_end is not None:
        columns = classify(first_header, header_end)
    else:
        # the header block ends at the last row before the first row of figures
        for end in range(first_header, scan):
            candidate = classify(first_header, end)
            if any(col.role in ("period", "sheet_period", "growth") for col in candidate.values()):
                columns, header_end = candidate, end
                break
        if header_end is None:
            return None
        # a header may take several rows: 2023年 over 1-6月 over 本期 | 同比增长(%)
        while header_end + 1 < scan and not _has_figures(sheet, header_end + 1, columns):
            deeper = classify(first_header, header_end + 1)
            if sum(col.role != "skip" for col in deeper.values()) < sum(
                col.role != "skip" for col in columns.values()
            ) or not any(col.role in ("period", "sheet_period") for col in deeper.values()):
                break
            columns, header_end = deeper, header_end + 1
    for letter, day in layout.periods.items():
        columns[column_index(letter)] = _Column("period", letter, day)
    if layout.indicator_column:
        columns[column_index(layout.indicator_column)] = _Column("indicator", "")
    if layout.unit_column:
        columns[column_index(layout.unit_column)] = _Column("unit", "")
    if names.plan is not None and not scopes.named:
        # a plan without parts: a 地区 column (often the city's name on every row) says nothing
        # a plan can use, and is not read, as before parts existed
        for c, col in columns.items():
            if col.role == "scope":
                columns[c] = _Column("skip", col.label)
    if layout.scope_column:
        columns[column_index(layout.scope_column)] = _Column("scope", "")
    if not any(col.role == "indicator" for col in columns.values()):
        # the indicator column is the leftmost column of names before the first period column
        first_period = min(
            (c for c, col in columns.items() if col.role in ("period", "sheet_period")),
            default=0,
        )
        for c in range(first_period):
            if c in columns and columns[c].role != "skip":
                continue
            below = [
                sheet.value(r, c)
                for r in range(header_end + 1, min(height, header_end + 30))
                if not _FOOTNOTE.match(_first_text(sheet.raw[r]))
            ]
            given = [v for v in below if v not in ("", None)]
            texts = [v for v in given if isinstance(v, str) and not _NUMBER_TEXT.match(v)]
            if texts and len(texts) * 2 > len(given):  # mostly names, not numbers or codes
                columns[c] = _Column("indicator", columns[c].label if c in columns else "")
                break
    ind_col = next((c for c, col in columns.items() if col.role == "indicator"), None)
    if ind_col is None:
        return None
    problems: list[Problem] = []
    for c, col in sorted(columns.items()):
        if col.role == "period" and col.date is None:
            problems.append(
                Problem(
                    source=sheet.place(header_end, c),
                    path="",
                    message=f"the period label {col.label!r} gives no year",
                    hint="write the year in the label (2023年1-6月), the sheet name or a title row",
                )
            )
    if problems:
        raise DataError(problems)
    if trace is not None:
        trace.append(
            f"{sheet.book}!{sheet.name}: wide layout, header "
            + (
                f"row {header_end + 1}"
                if first_header == header_end
                else f"rows {first_header + 1}–{header_end + 1}"
            )
            + (f", unit {sheet_unit}" if sheet_unit else "")
            + (f", reported {reported}" if reported else "")
            + _scope_words(sheet_scope)
        )
        for c, col in sorted(columns.items()):
            what = col.role + (f" {col.date.isoformat()}" if col.date else "")
            trace.append(f"  column {column_letter(c)} {col.label!r}: {what}")
    _prefer_cumulative(columns, sheet, trace)
    return _read_wide(
        sheet,
        header_end + 1,
        columns,
        ind_col,
        names,
        layout,
        (sheet_unit, reported, sheet_period),
        units,
        trace,
        (scopes, sheet_scope),
    )


def _has_figures(sheet: _Sheet, row: int, columns: Mapping[int, _Column]) -> bool:
    for c in columns:
        value = sheet.value(row, c)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True
    return False


def _sheet_period(name: str, title: Sequence[str], year: int | None) -> dt.date | None:
    for text in (name, *title):
        norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
        for m in re.finditer(
            r"(?:(?:19|20)\d{2}年)?(?:\d{1,2}[-–—~～至到])?\d{1,2}月|(?:19|20)\d{2}[-./]\d{1,2}"
            r"|(?:(?:19|20)\d{2}年)?(?:第?[1-4一二三四]季度|上半年|前三季度|全年)",
            norm,
        ):
            day, _cum, _why = period_date(m[0], year)
            if day is not None:
                return day
    return None


def _classify(label: str, year: int | None, sheet_period: dt.date | None, units: Any) -> _Column:
    role = canonical_column(label)
    if role in ("indicator", "unit", "note", "source", "reported_at", "scope"):
        return _Column(role, label)
    if role == "date":
        return _Column("skip", label)
    compact = re.sub(r"\s+", "", label)
    if compact in ("名称", "项目", "项目名称", "指标名称及代码"):
        return _Column("indicator", label)
    base, unit = _split_unit(compact, units)
    if _GROWTH.search(base):
        rest = re.split(r"同比|增长|增速|增幅|比上年|±", base)[0]
        # a year alone (2023年 merged over the columns) leaves the period to the column on the left
        only_year = _YEAR_IN_TEXT.fullmatch(rest) is not None
        day = period_date(rest, year)[0] if rest and not only_year else None
        return _Column("growth", label, day, "%")
    if base in _MONTH_ONLY or _PRIOR.search(base):
        return _Column("skip", label)
    stripped = _VALUE_WORDS.sub("", base)
    if not stripped:
        if sheet_period is not None:
            return _Column("sheet_period", label, sheet_period, unit)
        return _Column("skip", label)
    day, cumulative, why = period_date(stripped, year)
    if day is not None:
        return _Column("period", label, day, unit, cumulative or stripped != base)
    if why == "no year":
        return _Column("period", label, None, unit)
    return _Column("skip", label)


def _prefer_cumulative(columns: dict[int, _Column], sheet: _Sheet, trace: list[str] | None) -> None:
    """Of a bare month (6月) and a span (1-6月) for the same date, read the span."""
    by_date: dict[dt.date, list[int]] = {}
    for c, col in columns.items():
        if col.role in ("period", "sheet_period") and col.date is not None:
            by_date.setdefault(col.date, []).append(c)
    for cols in by_date.values():
        if len(cols) > 1 and any(columns[c].cumulative for c in cols):
            for c in cols:
                if not columns[c].cumulative:
                    if trace is not None:
                        trace.append(
                            f"  column {column_letter(c)} {columns[c].label!r}: skipped, "
                            "the year-to-date column of the same month is read"
                        )
                    columns[c] = _Column("skip", columns[c].label)


def _clean_name(text: str, units: Any) -> tuple[str, str]:
    name = re.sub(r"\s+", "", text)
    while True:
        stripped = _NUMBERING.sub("", name, count=1)
        if stripped == name:
            break
        name = stripped
    name = name.rstrip(":：")
    return _split_unit(name, units)


def _read_wide(
    sheet: _Sheet,
    first_row: int,
    columns: Mapping[int, _Column],
    ind_col: int,
    names: NameIndex,
    layout: Layout,
    facts: tuple[str, str, dt.date | None],
    units: Any,
    trace: list[str] | None,
    scoping: tuple[_Scopes, str | None],
) -> Rows:
    sheet_unit, reported, sheet_period = facts
    scopes, sheet_scope = scoping
    problems: list[Problem] = []
    out: dict[str, list[str]] = {k: [] for k in ("indicator", "date", "value", "unit")}
    for k in ("reported_at", "note", "source"):
        out[k] = []
    scope_col = next((c for c, col in columns.items() if col.role == "scope"), None)
    if scope_col is not None or sheet_scope is not None:
        out["scope"] = []
    # rows = indicators × 县市区: the outer (left) of the two columns groups the rows, so a blank
    # cell in it repeats the name above, as a merged cell would
    outer = min(ind_col, scope_col) if scope_col is not None else None
    carried: tuple[str, int] = ("", 0)
    lines: list[int] = []
    places: list[str] = []
    unknown: list[str] = []
    growth_ignored: list[str] = []
    unit_col = next((c for c, col in columns.items() if col.role == "unit"), None)
    extra = {
        col.role: c for c, col in columns.items() if col.role in ("note", "source", "reported_at")
    }
    value_cols = [
        (c, col)
        for c, col in sorted(columns.items())
        if col.role in ("period", "sheet_period", "growth")
    ]
    # a growth column belongs to the nearest period column on its left
    last_day: dt.date | None = None
    growth_day: dict[int, dt.date | None] = {}
    for c, col in value_cols:
        if col.role == "growth":
            growth_day[c] = col.date if col.date is not None else last_day
        else:
            last_day = col.date
    for c, day in growth_day.items():
        growth_day[c] = day or sheet_period
    footnotes = False
    partial = layout.partial
    for r in range(first_row, sheet.height):
        first = _first_text(sheet.raw[r])
        if not first:
            continue
        if footnotes or _FOOTNOTE.match(first):
            if trace is not None and not footnotes:
                trace.append(f"  row {r + 1}: footnote, it and the rows below are not read")
            footnotes = True
            continue
        written = {c: (sheet.filled(r, c), r) for c in (ind_col, scope_col) if c is not None}
        if outer is not None:
            if written[outer][0]:
                carried = written[outer]
            elif carried[0]:
                written[outer] = carried
        raw_name, name_row = written[ind_col]
        name, name_unit = _clean_name(raw_name, units)
        cells = [(c, col, sheet.value(r, c)) for c, col in value_cols]
        figures = [(c, col, v) for c, col, v in cells if _is_figure(v) or (r, c) in sheet.uncached]
        if not name:
            if figures and trace is not None:
                trace.append(f"  row {r + 1}: skipped, no indicator name")
            continue
        ind_id = names.resolve(name)
        if ind_id is None:
            if figures:
                if partial or names.plan is None:
                    unknown.append(name)
                    if trace is not None:
                        trace.append(f"  row {r + 1} {name!r}: skipped, matches no indicator")
                else:
                    problems.append(
                        Problem(
                            source=sheet.place(name_row, ind_col),
                            path="indicator",
                            line=r + 1,
                            message=f"{name!r} matches no indicator id, name or alias",
                            hint=names.suggest(name),
                        )
                    )
            elif trace is not None:
                trace.append(f"  row {r + 1} {name!r}: heading, no figures")
            continue
        indicator = names.indicator(ind_id)
        row_scope = sheet_scope or ""
        if scope_col is not None and figures:
            text, scope_row = written[scope_col]
            if text and text.lower() not in NO_FIGURE:
                found = _row_scope(sheet, (scope_row, scope_col), text, scopes, sheet_scope)
                if isinstance(found, Problem):
                    problems.append(attrs.evolve(found, line=r + 1))
                    continue
                row_scope = found
        row_unit = sheet.filled(r, unit_col) if unit_col is not None else ""
        no_unit = row_unit.lower() in NO_FIGURE and row_unit != ""  # — : this row has no unit
        row_unit = "" if no_unit else (row_unit or name_unit)
        row_reported = reported
        if "reported_at" in extra and _norm(sheet.value(r, extra["reported_at"])):
            row_reported = cell_text(sheet.value(r, extra["reported_at"])).strip()
        row_note = _norm(sheet.value(r, extra["note"])) if "note" in extra else ""
        row_source = _norm(sheet.value(r, extra["source"])) if "source" in extra else ""
        for c, col, value in figures:
            place = sheet.place(r, c)
            if (r, c) in sheet.uncached:
                problems.append(
                    Problem(
                        source=place,
                        path="value",
                        line=r + 1,
                        message="the formula cell has no computed value",
                        hint="open the workbook in Excel or LibreOffice and save it, so that "
                        "formulas are computed, or write the figure itself",
                    )
                )
                continue
            merged = sheet.merge_of.get((r, c))
            if merged is not None and merged[0] != merged[1]:
                (r0, c0), (r1, c1) = merged
                span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
                problems.append(
                    Problem(
                        source=place,
                        path="value",
                        line=r + 1,
                        message=f"the figure is in a merged cell ({span})",
                        hint="unmerge the cells and give each period its own figure",
                    )
                )
                continue
            target_id, day = ind_id, col.date
            unit = "" if no_unit else (row_unit or col.unit or sheet_unit)
            if col.role == "growth":
                growth = names.growth_of(ind_id)
                if growth is None:
                    growth_ignored.append(name)
                    continue
                target_id, day, unit = growth, growth_day.get(c), "%"
                if day is None:
                    continue
            text = cell_text(value) if not isinstance(value, str) else value.strip()
            if (
                names.plan is not None
                and indicator.kind is IndicatorKind.MILESTONE
                and isinstance(value, dt.date)
                and target_id == ind_id
            ):
                # a date in a milestone's cell is the day it was done
                day, text = (
                    value.date() if isinstance(value, dt.datetime) else value,
                    "done",
                )
            assert day is not None  # noqa: S101 - period columns without a date were refused
            if trace is not None:
                where = f" @{row_scope}" if row_scope else ""
                trace.append(
                    f"  {column_letter(c)}{r + 1}: {target_id}{where} {day.isoformat()} {text} {unit}".rstrip()
                )
            out["indicator"].append(target_id)
            out["date"].append(day.isoformat())
            out["value"].append(text)
            out["unit"].append(unit)
            out["reported_at"].append(row_reported)
            out["note"].append(row_note)
            out["source"].append(row_source)
            if "scope" in out:
                out["scope"].append(row_scope)
            lines.append(r + 1)
            places.append(place)
    if problems:
        raise DataError(problems)
    notes: list[str] = []
    where = f"{sheet.book}!{sheet.name}"
    if unknown:
        shown = ", ".join(repr(u) for u in dict.fromkeys(unknown))
        notes.append(f"{where}: {len(unknown)} rows match no indicator and were skipped: {shown}")
    if growth_ignored:
        notes.append(
            f"{where}: the growth (同比) figures of {len(growth_ignored)} rows were not read: "
            "the plan has no growth-rate indicator for them"
        )
    return Rows(
        source=where,
        header=tuple(out),
        columns=tuple(out.values()),
        lines=lines,
        places=places,
        partial=False,
        notes=tuple(notes),
    )


def _scope_words(sheet_scope: str | None) -> str:
    if sheet_scope is None:
        return ""
    return f", scope {sheet_scope}" if sheet_scope else ", the whole"


def _row_scope(
    sheet: _Sheet,
    cell: tuple[int, int],
    text: str,
    scopes: _Scopes,
    sheet_scope: str | None,
) -> str | Problem:
    """Return the scope a scope cell names ("" for the whole), or the problem with it."""
    found = scopes.resolve(text)
    place = sheet.place(*cell)
    if found is None:
        return Problem(
            source=place,
            path="scope",
            message=f"no part of the plan has the scope {text!r}",
            hint=scopes.hint(text),
        )
    if sheet_scope is not None and found != sheet_scope:
        return _other_sheet(sheet, cell, text, found, sheet_scope)
    return found


def _other_sheet(
    sheet: _Sheet, cell: tuple[int, int], text: str, found: str, sheet_scope: str
) -> Problem:
    mine = repr(sheet_scope) if sheet_scope else f"the whole ({sheet.name!r})"
    return Problem(
        source=sheet.place(*cell),
        path="scope",
        line=cell[0] + 1,
        message=f"the row is for {text!r}, but it is on the sheet of {mine}",
        hint=f"leave the cell empty, or move the row to the sheet of {found or 'the whole'!r}",
    )


def _read_long(
    sheet: _Sheet,
    header: int,
    roles: Sequence[str | None],
    layout: Layout,
    trace: list[str] | None,
    scopes: _Scopes,
    sheet_scope: str | None,
) -> Rows:
    used = {c: role for c, role in enumerate(roles) if role}
    if layout.scope_column:
        used[column_index(layout.scope_column)] = "scope"
    scope_col = next((c for c, role in used.items() if role == "scope"), None)
    header_texts = ["scope" if used[c] == "scope" else sheet.text[header][c] for c in sorted(used)]
    if scope_col is None and sheet_scope is not None:
        header_texts.append("scope")
    value_col = next(c for c, role in used.items() if role == "value")
    columns: list[list[str]] = [[] for _ in header_texts]
    lines: list[int] = []
    places: list[str] = []
    shown: list[str] = []
    problems: list[Problem] = []
    for r in range(header + 1, sheet.height):
        first = _first_text(sheet.raw[r])
        if not first:
            continue
        if _FOOTNOTE.match(first):
            break
        if (r, value_col) in sheet.uncached:
            problems.append(
                Problem(
                    source=sheet.place(r, value_col),
                    path="value",
                    line=r + 1,
                    message="the formula cell has no computed value",
                    hint="open the workbook in Excel or LibreOffice and save it, so that "
                    "formulas are computed, or write the figure itself",
                )
            )
            continue
        bad = False
        for k, c in enumerate(sorted(used)):
            value = sheet.value(r, c)
            text = value.strip() if isinstance(value, str) else cell_text(value)
            if used[c] == "value" and text.lower() in NO_FIGURE and text:
                text = ""
            if used[c] == "scope" and text:
                # a whole word (全市, 合计) is the whole; a name no part has is reported with
                # the rest of the actuals, with its did-you-mean
                found = scopes.resolve(text)
                if found is not None and sheet_scope is not None and found != sheet_scope:
                    problems.append(_other_sheet(sheet, (r, c), text, found, sheet_scope))
                    bad = True
                elif found is not None:
                    text = found
            elif used[c] == "scope" and sheet_scope is not None:
                text = sheet_scope
            columns[k].append(text)
        if scope_col is None and sheet_scope is not None:
            columns[-1].append(sheet_scope)
        if bad:
            for col in columns:
                col.pop()
            continue
        lines.append(r + 1)
        places.append(sheet.place(r, value_col))
        shown.append(f"  row {r + 1}: " + ", ".join(c[-1] for c in columns))
    if problems:
        raise DataError(problems)
    if trace is not None:
        trace.append(
            f"{sheet.book}!{sheet.name}: long layout, header row {header + 1}"
            + _scope_words(sheet_scope)
        )
        trace.extend(shown)
    # "no figure" cells are no observation in the long layout too
    keep = [i for i, v in enumerate(columns[sorted(used).index(value_col)]) if v]
    return Rows(
        source=f"{sheet.book}!{sheet.name}",
        header=tuple(header_texts),
        columns=tuple([col[i] for i in keep] for col in columns),
        lines=[lines[i] for i in keep],
        places=[places[i] for i in keep],
        header_line=header + 1,
        partial=layout.partial,
    )
