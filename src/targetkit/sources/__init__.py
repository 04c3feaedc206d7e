"""Where actuals come from besides CSV: workbooks, databases, Parquet files, a sources file.

Every reader here turns its input into `Rows`: raw text columns named as a CSV header would name
them, with the place each row came from (``统计月报.xlsx!6月!D7``, ``sqlite:///stats.db?table=t``)
and its line. `targetkit.actuals` checks and converts `Rows` exactly as it does a CSV file, so a
workbook, a database table and a CSV file with the same figures give the same table.

This package imports no optional dependency at import time; each reader imports its library when
it is used and says which extra to install when the library is missing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import importlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from targetkit.exceptions import DataError
from targetkit.model import Indicator, Plan

__all__ = [
    "HEADER_WORDS",
    "NameIndex",
    "Rows",
    "canonical_column",
    "cell_text",
    "require",
]

# Column names people write, NFKC-normalised, lower case, without spaces → the canonical column.
HEADER_WORDS: Mapping[str, str] = {
    **dict.fromkeys(("indicator", "指标", "指标名称", "指标代码", "指标id", "指标项"), "indicator"),
    **dict.fromkeys(("date", "日期", "时间", "期别", "报告期", "统计期", "时期"), "date"),
    **dict.fromkeys(
        ("value", "数值", "本期", "累计", "数据", "本期数", "累计数", "本年累计"), "value"
    ),
    **dict.fromkeys(("unit", "单位", "计量单位"), "unit"),
    **dict.fromkeys(("reported_at", "报送日期", "发布日期", "填报日期"), "reported_at"),
    **dict.fromkeys(("source", "来源", "数据来源"), "source"),
    **dict.fromkeys(("note", "备注", "说明"), "note"),
    **dict.fromkeys(
        ("scope", "县市区", "区县", "县市", "地区", "责任单位", "分解单位", "范围"), "scope"
    ),
}

_SPACES = re.compile(r"\s+")
# quotes and brackets people add or drop around a name: “财政科技创新贷” vs 财政科技创新贷
_NAME_NOISE = re.compile(r"[\s\"'“”‘’《》「」『』〈〉]")


def canonical_column(header: str) -> str | None:
    """Return the canonical column a header cell names (English or Chinese), or None."""
    key = _SPACES.sub("", unicodedata.normalize("NFKC", header).lstrip("\ufeff")).lower()
    return HEADER_WORDS.get(key)


def cell_text(value: Any) -> str:
    """Turn a spreadsheet, database or DataFrame cell into the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if type(value).__name__ in ("NaTType", "NAType"):
        return ""
    if hasattr(value, "strftime"):  # pandas Timestamp, numpy datetime via pandas
        return str(value.strftime("%Y-%m-%d"))
    if hasattr(value, "item"):  # numpy scalars
        return cell_text(value.item())
    return str(value)


@attrs.frozen(kw_only=True)
class Rows:
    """Raw observations from one source, before they are checked against the plan.

    Attributes:
        source: The name of the whole source, for problems not tied to one row.
        header: The column names as the source wrote them.
        columns: One list of cell texts per header name.
        lines: The line (sheet row, result row) of each row.
        places: Where each row came from (``book.xlsx!6月!D7``); empty means ``source``.
        header_line: The line of the header, when there is one.
        partial: Rows naming no indicator of the plan are dropped with a note, not an error.
        notes: What was skipped and why, one sentence each.
    """

    source: str
    header: tuple[str, ...]
    columns: tuple[list[str], ...]
    lines: list[int]
    places: list[str] = attrs.field(factory=list)
    header_line: int | None = None
    partial: bool = False
    notes: tuple[str, ...] = ()


def _name_key(text: str) -> str:
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


class NameIndex:
    """Find a plan's indicator by its id, its name or one of its aliases, as tables write them.

    Names are compared after NFKC normalisation, ignoring case, spaces and quotes, so
    ``“财政科技创新贷”贷款金额`` and ``财政科技创新贷 贷款金额`` are one name.
    """

    def __init__(self, plan: Plan | None) -> None:
        self.plan = plan
        indicators = plan.indicators if plan is not None else ()
        self._ids: dict[str, str] = {ind.id: ind.id for ind in indicators}
        self._names: dict[str, str] | None = None  # made when a text is not an id

    def _by_name(self) -> dict[str, str]:
        if self._names is None:
            names: dict[str, str] = {}
            for ind in self.plan.indicators if self.plan is not None else ():
                for name in (ind.id, ind.name, *getattr(ind, "aliases", ())):
                    names.setdefault(_name_key(name), ind.id)
            self._names = names
        return self._names

    @classmethod
    def of(cls, plan: Plan | None) -> NameIndex:
        """Return the index of a plan's indicator ids, names and aliases."""
        return cls(plan)

    def resolve(self, text: str) -> str | None:
        """Return the indicator id that ``text`` names, or None."""
        if text in self._ids:
            return text
        return self._by_name().get(_name_key(text))

    def indicator(self, ind_id: str) -> Indicator:
        """Return the plan's indicator with this id."""
        assert self.plan is not None  # noqa: S101 - resolve() returned the id
        return self.plan.indicator(ind_id)

    def suggest(self, text: str) -> str:
        """Return a did-you-mean hint for a name that matches nothing."""
        if self.plan is None:
            return "give a plan (--plan) to match names with indicators"
        names: dict[str, str] = {}
        for ind in self.plan.indicators:
            for name in (ind.id, ind.name, *getattr(ind, "aliases", ())):
                names.setdefault(name, ind.id)
        close = difflib.get_close_matches(text, list(names), n=1, cutoff=0.6)
        if close:
            ind_id = names[close[0]]
            shown = repr(close[0]) if close[0] == ind_id else f"{close[0]!r} ({ind_id})"
            return f"did you mean {shown}? Or add the name to the indicator's aliases"
        return "use an indicator id, name or alias of the plan, or mark the source partial"

    def growth_of(self, ind_id: str) -> str | None:
        """Return the plan's growth-rate indicator (in %) for ``ind_id``, if it has one."""
        if self.plan is None:
            return None
        ind = self.plan.indicator(ind_id)
        for base in (ind.name, *getattr(ind, "aliases", ())):
            for suffix in ("增速", "增长", "同比增长", "同比增速", "增长率", "同比增长率", "增幅"):
                found = self.resolve(base + suffix)
                if found and self.plan.indicator(found).unit == "%":
                    return found
        for suffix in ("_growth", "_yoy"):
            found = self.resolve(ind.id + suffix)
            if found and self.plan.indicator(found).unit == "%":
                return found
        return None


def require(module: str, extra: str, source: str) -> Any:
    """Import an optional library, or raise DataError saying which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DataError.single(
            source,
            "",
            f"reading this needs the {module.split('.', maxsplit=1)[0]!r} library, which is not installed",
            f"pip install 'targetkit[{extra}]'",
        ) from exc


def frame_rows(
    frame: Any,
    *,
    source: str,
    partial: bool = False,
    notes: Iterable[str] = (),
) -> Rows:
    """Turn a DataFrame (a query result, a Parquet file) into `Rows`; rows count from 1.

    Typed columns are used as they are: numbers and dates are written out once per column, in C
    where pandas can, instead of cell by cell.
    """
    import numpy as np  # noqa: PLC0415 - pandas (and numpy) load where used
    import pandas as pd  # noqa: PLC0415

    header = tuple(str(c) for c in frame.columns)
    columns: list[list[str]] = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%d").fillna("")
            columns.append(text.tolist())
        elif pd.api.types.is_float_dtype(series):
            values = series.to_numpy(dtype="float64", na_value=float("nan"))
            texts = [repr(v) for v in values.tolist()]
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(values) & (values == np.round(values)) & (abs(values) < 1e15)
            for i in np.flatnonzero(whole).tolist():
                texts[i] = str(int(values[i]))  # 3.0 is written 3, as a CSV would hold it
            for i in np.flatnonzero(np.isnan(values)).tolist():
                texts[i] = ""
            columns.append(texts)
        elif pd.api.types.is_integer_dtype(series) and not series.isna().any():
            columns.append(series.astype("int64").astype(str).tolist())
        elif pd.api.types.is_string_dtype(series):  # text only (None and NaN are empty)
            columns.append(series.astype(object).where(series.notna(), "").tolist())
        else:
            columns.append([cell_text(v) for v in series.tolist()])
    n = len(frame)
    return Rows(
        source=source,
        header=header,
        columns=tuple(columns),
        lines=list(range(1, n + 1)),
        partial=partial,
        notes=tuple(notes),
    )


def split_query(text: str) -> tuple[str, dict[str, str]]:
    """Split ``path?key=value&…`` into the path and its options (keys lower case)."""
    if "?" not in text:
        return text, {}
    path, _, query = text.partition("?")
    options: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        from urllib.parse import unquote  # noqa: PLC0415

        options[unquote(key).strip().lower()] = unquote(value).strip()
    return path, options


def truthy(value: str) -> bool:
    """Read an option such as ``partial=true`` (a bare ``partial`` is true too)."""
    return value.strip().lower() in ("", "1", "true", "yes", "y", "on")
