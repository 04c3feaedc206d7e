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
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from targetkit.dates import parse_date
from targetkit.exceptions import DataError, Problem
from targetkit.sources import NameIndex, Rows, split_query, truthy
from targetkit.sources.workbook import SUFFIXES, Layout, column_index

__all__ = ["FOLDER_SUFFIXES", "read_item"]

FOLDER_SUFFIXES = (".csv", *SUFFIXES, ".parquet")
_SOURCE_KEYS = (
    "name",
    "path",
    "url",
    "table",
    "query",
    "password_env",
    "partial",
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
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError.single(
            source, "", f"cannot be read as a sources file ({exc})", "write it as TOML in UTF-8"
        ) from exc
    raw = data.get("sources")
    if not isinstance(raw, list) or not raw:
        raise DataError.single(
            source,
            "sources",
            "the file names no [[sources]]",
            "add a [[sources]] table with a path or a url",
        )
    problems: list[Problem] = []
    specs: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        where = f"sources[{i}]"

        def problem(where: str, key: str, message: str, hint: str) -> None:
            problems.append(
                Problem(source=source, path=f"{where}.{key}", message=message, hint=hint)
            )

        if not isinstance(item, Mapping):
            problem(where, "", "a source is a table", "write [[sources]] with path = … or url = …")
            continue
        for key in item:
            if key not in _SOURCE_KEYS:
                import difflib  # noqa: PLC0415

                close = difflib.get_close_matches(key, _SOURCE_KEYS, n=1)
                problem(
                    where,
                    key,
                    f"unknown key {key!r}",
                    f"did you mean {close[0]!r}?"
                    if close
                    else "the keys are " + ", ".join(_SOURCE_KEYS),
                )
        has_path, has_url = isinstance(item.get("path"), str), isinstance(item.get("url"), str)
        if has_path == has_url:
            problem(
                where,
                "path",
                "a source needs either path or url",
                'write path = "统计月报.xlsx" or url = "sqlite:///stats.db"',
            )
            continue
        spec: dict[str, Any] = {"where": where}
        for key in ("name", "path", "url", "table", "query", "password_env", "unit"):
            if key in item:
                if not isinstance(item[key], str) or not item[key].strip():
                    problem(
                        where,
                        key,
                        f"{key} must be non-empty text (got {item[key]!r})",
                        f'write {key} = "…"',
                    )
                else:
                    spec[key] = item[key].strip() if key != "query" else item[key]
        partial = item.get("partial", False)
        if not isinstance(partial, bool):
            problem(
                where,
                "partial",
                f"partial must be true or false (got {partial!r})",
                "write partial = true",
            )
            partial = False
        spec["partial"] = partial
        if has_url:
            for key in (
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
            ):
                if key in item:
                    problem(
                        where,
                        key,
                        f"{key!r} is a workbook key, but this source is a database",
                        "remove it, or give path = … instead of url",
                    )
            if "table" in spec and "query" in spec:
                problem(where, "query", "a source gives either table or query", "keep one of them")
            specs.append(spec)
            continue
        for key in ("table", "query", "password_env"):
            if key in item:
                problem(
                    where,
                    key,
                    f"{key!r} is a database key, but this source is a file",
                    "remove it, or give url = … instead of path",
                )
        sheets = item.get("sheets", [])
        if isinstance(sheets, str):
            sheets = [sheets]
        if not isinstance(sheets, list) or not all(isinstance(s, str) and s for s in sheets):
            problem(
                where,
                "sheets",
                f"sheets must be a list of sheet names (got {sheets!r})",
                'write sheets = ["6月"]',
            )
            sheets = []
        header_row = item.get("header_row")
        if header_row is not None and (
            isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1
        ):
            problem(
                where,
                "header_row",
                f"header_row must be a row number from 1 (got {header_row!r})",
                "write header_row = 4",
            )
            header_row = None
        letters: dict[str, str | None] = {}
        for key in ("indicator_column", "unit_column", "scope_column"):
            value = item.get(key)
            letters[key] = None
            if value is not None:
                try:
                    column_index(str(value))
                    letters[key] = str(value).strip().upper()
                except ValueError:
                    problem(
                        where,
                        key,
                        f"{value!r} is not a column letter",
                        'write a letter such as "A"',
                    )
        periods: dict[str, dt.date] = {}
        raw_periods = item.get("periods", {})
        if not isinstance(raw_periods, Mapping):
            problem(
                where,
                "periods",
                "periods must be a table of column = date",
                'write periods = { C = "2023-06-30" }',
            )
            raw_periods = {}
        for letter, day in raw_periods.items():
            try:
                column_index(letter)
            except ValueError:
                problem(
                    where,
                    f"periods.{letter}",
                    f"{letter!r} is not a column letter",
                    'write a letter such as "C"',
                )
                continue
            parsed = _date(day)
            if parsed is None:
                problem(
                    where,
                    f"periods.{letter}",
                    f"{day!r} is not a date",
                    "write the end of the period, e.g. 2023-06-30",
                )
                continue
            periods[letter.upper()] = parsed
        reported = item.get("reported_at")
        reported_day = _date(reported) if reported is not None else None
        if reported is not None and reported_day is None:
            problem(where, "reported_at", f"{reported!r} is not a date", "write e.g. 2023-07-14")
        sheet_scopes = item.get("sheet_scopes")
        if sheet_scopes is not None and not isinstance(sheet_scopes, bool):
            problem(
                where,
                "sheet_scopes",
                f"sheet_scopes must be true or false (got {sheet_scopes!r})",
                "write sheet_scopes = true (each sheet is named after its scope) or false",
            )
            sheet_scopes = None
        whole = item.get("whole", [])
        if isinstance(whole, str):
            whole = [whole]
        if not isinstance(whole, list) or not all(isinstance(w, str) and w.strip() for w in whole):
            problem(
                where,
                "whole",
                f"whole must be a list of names (got {whole!r})",
                'write whole = ["眉山市"]',
            )
            whole = []
        spec["layout"] = Layout(
            scope_column=letters["scope_column"],
            sheet_scopes=sheet_scopes,
            whole=tuple(whole),
            sheets=tuple(sheets),
            header_row=header_row,
            indicator_column=letters["indicator_column"],
            unit_column=letters["unit_column"],
            unit=spec.get("unit", ""),
            periods=periods,
            reported_at=reported_day,
            partial=partial,
        )
        specs.append(spec)
    if problems:
        raise DataError(problems)
    return specs


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
