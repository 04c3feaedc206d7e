"""Tell what an ``--actuals`` item is, and read it: a file, a folder, a URL or a sources file.

A sources file (TOML) names several sources, each with the layout keys a workbook needs when its
layout is not recognised, or the SQL query whose result has the actuals columns::

    [[sources]]
    path = "统计月报.xlsx"
    sheets = ["6月"]
    header_row = 4
    indicator_column = "A"
    unit = "万元"
    partial = true

    [[sources]]
    name = "monthly"
    url = "postgresql://stats@db.example:5432/stats"
    query = "SELECT indicator, date, value, unit FROM figures WHERE date <= :as_of"
    password_env = "STATS_PG_PASSWORD"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from targetkit._parsing import (
    Collector,
    KeyPath,
    Lines,
    TomlSyntaxError,
    check_keys,
    get,
    path_text,
    read_toml,
)
from targetkit.dates import parse_date
from targetkit.exceptions import DataError
from targetkit.sources import NameIndex, Rows, split_query, truthy
from targetkit.sources.workbook import SUFFIXES, Layout, column_index

__all__ = ["FOLDER_SUFFIXES", "read_item"]

FOLDER_SUFFIXES = (".csv", *SUFFIXES, ".parquet")
_DATABASE_KEYS = ("table", "query", "password_env")
_WORKBOOK_KEYS = (
    "sheets",
    "header_row",
    "indicator_column",
    "unit_column",
    "unit",
    "periods",
    "reported_at",
    "scope_column",
    "sheet_scopes",
    "whole",
)
_SOURCE_KEYS = ("name", "path", "url", *_DATABASE_KEYS, "partial", *_WORKBOOK_KEYS)
_TEXT_KEYS = ("name", "path", "url", *_DATABASE_KEYS, "unit")


def _is_lock_file(path: Path) -> bool:
    # Excel's owner file (~$book.xlsx) and LibreOffice's lock (.~lock.book.xlsx#)
    return path.name.startswith(("~$", ".~lock."))


Reader = Callable[[], Iterable["Rows | Path"]]


def read_item(item: str | Path, names: NameIndex, *, as_of: dt.date | None = None) -> list[Reader]:
    """Return one reader per file or database an ``--actuals`` item names.

    Calling a reader returns the rows of its source; a CSV file is returned as its path. Each
    reader raises its own `DataError`, so the problems of every file of a folder are collected.

    Raises:
        DataError: the item names nothing that can be read.
    """
    text = str(item)
    if "://" in text.partition("?")[0]:
        from targetkit.sources.sql import parse_url, read_database  # noqa: PLC0415

        return [lambda: [read_database(parse_url(text), as_of=as_of)]]
    path = Path(item)
    options: dict[str, str] = {}
    if not path.exists() and "?" in text and Path(split_query(text)[0]).exists():
        base, options = split_query(text)
        path = Path(base)
        unknown = sorted(set(options) - {"partial"})
        if unknown:
            raise DataError.single(
                text,
                "",
                "unknown option " + ", ".join(repr(k) for k in unknown),
                "the only option of a file is ?partial=true",
            )
    partial = truthy(options["partial"]) if "partial" in options else False
    if path.is_dir():
        found = sorted(
            p
            for p in path.iterdir()
            if p.suffix.lower() in FOLDER_SUFFIXES and p.is_file() and not _is_lock_file(p)
        )
        if not found:
            raise DataError.single(
                str(path),
                "",
                "the folder holds no actuals file",
                "point --actuals at a folder of .csv, .xlsx or .parquet files, or at one file",
            )
        return [_reader(file, names, partial=partial, as_of=as_of) for file in found]
    if not path.is_file():
        raise DataError.single(str(path), "", "no such file or folder", "check the path")
    return [_reader(path, names, partial=partial, as_of=as_of)]


def _reader(path: Path, names: NameIndex, *, partial: bool, as_of: dt.date | None) -> Reader:
    return lambda: list(_read_file(path, names, partial=partial, as_of=as_of))


def _read_file(
    path: Path, names: NameIndex, *, partial: bool, as_of: dt.date | None
) -> Iterator[Rows | Path]:
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        from targetkit.sources.workbook import read_workbook  # noqa: PLC0415

        yield from read_workbook(path, names, layout=Layout(partial=partial))
    elif suffix == ".parquet":
        from targetkit.sources.parquet import read_parquet  # noqa: PLC0415

        yield read_parquet(path, partial=partial)
    elif suffix == ".toml":
        yield from read_sources_file(path, names, as_of=as_of)
    else:
        yield path


def read_sources_file(
    path: Path,
    names: NameIndex,
    *,
    as_of: dt.date | None = None,
    trace: list[str] | None = None,
) -> Iterator[Rows | Path]:
    """Read every source a sources file names.

    Raises:
        DataError: listing every problem of the file, then of each source.
    """
    from targetkit.sources.sql import parse_url, read_database  # noqa: PLC0415
    from targetkit.sources.workbook import read_workbook  # noqa: PLC0415

    specs = load_sources(path)
    for spec in specs:
        if "url" in spec:
            url = _beside(spec["url"], path.resolve().parent)
            url += f"?table={spec['table']}" if spec.get("table") else ""
            db = parse_url(url, password_env=spec.get("password_env", "PGPASSWORD"))
            db = attrs.evolve(db, partial=spec["partial"])
            yield read_database(
                db, query=spec.get("query"), query_name=spec.get("name", "query"), as_of=as_of
            )
            continue
        file = Path(spec["path"])
        if not file.is_absolute():
            file = path.parent / file
        if not file.is_file():
            raise DataError.single(
                str(path),
                spec["where"] + ".path",
                f"no such file {spec['path']!r}",
                "check the path (relative to the sources file)",
            )
        if file.suffix.lower() in SUFFIXES:
            yield from read_workbook(file, names, layout=spec["layout"], trace=trace)
        elif file.suffix.lower() == ".parquet":
            from targetkit.sources.parquet import read_parquet  # noqa: PLC0415

            yield read_parquet(file, partial=spec["layout"].partial)
        else:
            yield file


def _beside(url: str, folder: Path) -> str:
    """Make the relative path of a sqlite or DuckDB URL relative to the sources file's folder."""
    scheme, _, rest = url.partition("://")
    if (
        scheme.lower() in ("sqlite", "duckdb")
        and rest.startswith("/")
        and rest[1:2] not in ("/", "")
    ):
        return f"{scheme}:///{(folder / rest[1:]).as_posix()}"
    return url


def load_sources(path: Path) -> list[dict[str, Any]]:
    """Read and check a sources file; return one checked spec per source.

    Raises:
        DataError: listing every problem, each with its ``sources[i].key``.
    """
    # No line numbers: a sources file's problems name the key path alone, as they always have.
    errs = Collector(source=str(path), lines=Lines(None))
    try:
        data = read_toml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TomlSyntaxError) as exc:
        errs.add([], f"cannot be read as a sources file ({exc})", "write it as TOML in UTF-8")
        raise DataError(errs.problems) from exc
    raw = data.get("sources")
    if not isinstance(raw, list) or not raw:
        errs.add(
            ["sources"],
            "the file names no [[sources]]",
            "add a [[sources]] table with a path or a url",
        )
        raise DataError(errs.problems)
    specs: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        spec = _source(item, ["sources", i], errs)
        if spec is not None:
            specs.append(spec)
    if errs.problems:
        raise DataError(errs.problems)
    return specs


def _source(item: Any, where: KeyPath, errs: Collector) -> dict[str, Any] | None:
    """Check one ``[[sources]]`` table; return its spec, or None when it is not one."""
    if not isinstance(item, Mapping):
        errs.add([*where, ""], "a source is a table", "write [[sources]] with path = … or url = …")
        return None
    check_keys(item, _SOURCE_KEYS, where, errs, listing="the keys are ")
    has_path, has_url = isinstance(item.get("path"), str), isinstance(item.get("url"), str)
    if has_path == has_url:
        errs.add(
            [*where, "path"],
            "a source needs either path or url",
            'write path = "统计月报.xlsx" or url = "sqlite:///stats.db"',
        )
        return None
    spec: dict[str, Any] = {"where": path_text(where)}
    for key in _TEXT_KEYS:
        value = get(item, key, where, errs, _nonempty_text(key), expect=f'{key} = "…"')
        if value is not None:
            spec[key] = value.strip() if key != "query" else value
    spec["partial"] = get(
        item, "partial", where, errs, _boolean("partial"), default=False, expect="partial = true"
    )
    if has_url:
        for key in (k for k in _WORKBOOK_KEYS if k in item):
            errs.add(
                [*where, key],
                f"{key!r} is a workbook key, but this source is a database",
                "remove it, or give path = … instead of url",
            )
        if "table" in spec and "query" in spec:
            errs.add([*where, "query"], "a source gives either table or query", "keep one of them")
        return spec
    for key in (k for k in _DATABASE_KEYS if k in item):
        errs.add(
            [*where, key],
            f"{key!r} is a database key, but this source is a file",
            "remove it, or give url = … instead of path",
        )
    spec["layout"] = _layout(item, where, errs, unit=spec.get("unit", ""), partial=spec["partial"])
    return spec


def _layout(
    item: Mapping[str, Any], where: KeyPath, errs: Collector, *, unit: str, partial: bool
) -> Layout:
    """Read the workbook layout keys of a file source."""
    sheets = item.get("sheets", [])
    if isinstance(sheets, str):
        sheets = [sheets]
    if not isinstance(sheets, list) or not all(isinstance(s, str) and s for s in sheets):
        errs.add(
            [*where, "sheets"],
            f"sheets must be a list of sheet names (got {sheets!r})",
            'write sheets = ["6月"]',
        )
        sheets = []
    header_row = get(item, "header_row", where, errs, _row_number, expect="header_row = 4")
    letters: dict[str, str | None] = {}
    for key in ("indicator_column", "unit_column", "scope_column"):
        value = item.get(key)
        letters[key] = None
        if value is not None:
            try:
                column_index(str(value))
                letters[key] = str(value).strip().upper()
            except ValueError:
                errs.add(
                    [*where, key], f"{value!r} is not a column letter", 'write a letter such as "A"'
                )
    periods: dict[str, dt.date] = {}
    raw_periods = item.get("periods", {})
    if not isinstance(raw_periods, Mapping):
        errs.add(
            [*where, "periods"],
            "periods must be a table of column = date",
            'write periods = { C = "2023-06-30" }',
        )
        raw_periods = {}
    for letter, day in raw_periods.items():
        place = [*where, "periods", letter]
        try:
            column_index(letter)
        except ValueError:
            errs.add(place, f"{letter!r} is not a column letter", 'write a letter such as "C"')
            continue
        parsed = _date(day)
        if parsed is None:
            errs.add(
                place, f"{day!r} is not a date", "write the end of the period, e.g. 2023-06-30"
            )
            continue
        periods[letter.upper()] = parsed
    reported = item.get("reported_at")
    reported_day = _date(reported) if reported is not None else None
    if reported is not None and reported_day is None:
        errs.add([*where, "reported_at"], f"{reported!r} is not a date", "write e.g. 2023-07-14")
    sheet_scopes = get(
        item,
        "sheet_scopes",
        where,
        errs,
        _boolean("sheet_scopes"),
        expect="sheet_scopes = true (each sheet is named after its scope) or false",
    )
    whole = item.get("whole", [])
    if isinstance(whole, str):
        whole = [whole]
    if not isinstance(whole, list) or not all(isinstance(w, str) and w.strip() for w in whole):
        errs.add(
            [*where, "whole"],
            f"whole must be a list of names (got {whole!r})",
            'write whole = ["眉山市"]',
        )
        whole = []
    return Layout(
        scope_column=letters["scope_column"],
        sheet_scopes=sheet_scopes,
        whole=tuple(whole),
        sheets=tuple(sheets),
        header_row=header_row,
        indicator_column=letters["indicator_column"],
        unit_column=letters["unit_column"],
        unit=unit,
        periods=periods,
        reported_at=reported_day,
        partial=partial,
    )


def _nonempty_text(key: str) -> Callable[[Any], str]:
    def convert(raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError(f"{key} must be non-empty text")
        return raw

    return convert


def _boolean(key: str) -> Callable[[Any], bool]:
    def convert(raw: Any) -> bool:
        if not isinstance(raw, bool):
            raise TypeError(f"{key} must be true or false")
        return raw

    return convert


def _row_number(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValueError("header_row must be a row number from 1")
    return raw


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            return None
    return None
