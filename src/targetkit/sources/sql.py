"""Read actuals from SQL databases: sqlite (stdlib), PostgreSQL (psycopg), DuckDB.

A URL names the database and, with ``?table=``, a table or view whose columns are the actuals
columns (``actuals`` when no table is named)::

    sqlite:///stats.db?table=monthly          a file relative to the working folder
    sqlite:////srv/stats.db                   an absolute path (four slashes)
    postgresql://stats@db.example:5432/stats?table=figures
    duckdb:///lake.duckdb?table=figures       duckdb:// alone is an in-memory database

A sources file may give a query instead of a table, so that aggregation runs in the database; the
as-of date is bound to ``:as_of`` as a parameter, never written into the SQL text. Passwords come
only from the environment (``PGPASSWORD``, or the variable a source names) and are masked in every
message.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import attrs
import pandas as pd

from targetkit.exceptions import DataError, Problem
from targetkit.sources import Rows, frame_rows, require, split_query, truthy

__all__ = ["SCHEMES", "Database", "parse_url", "read_database"]

SCHEMES = ("sqlite", "postgresql", "postgres", "duckdb")
_TABLE = re.compile(
    r"^[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff$]*(?:\.[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff$]*)?$"
)
_AS_OF = re.compile(r"(?<![:\w]):as_of\b")
_TIMEOUT_S = 10


@attrs.frozen(kw_only=True)
class Database:
    """A database named by a URL, with the password (if any) kept out of every message.

    Attributes:
        url: The URL as given, without its ``?…`` options.
        masked: The URL as shown in messages.
        scheme: ``sqlite``, ``postgresql`` or ``duckdb``.
        table: The table or view to read (``actuals`` by default).
        partial: Rows naming no indicator of the plan are skipped with a note.
    """

    url: str
    masked: str
    scheme: str
    table: str = "actuals"
    partial: bool = False
    password_env: str = "PGPASSWORD"  # noqa: S105 - the name of a variable, not a password

    def label(self, query_name: str | None = None) -> str:
        """Return how rows from this database are named in evidence and messages."""
        if query_name is not None:
            return f"{self.masked} (query {query_name})"
        return f"{self.masked}?table={self.table}"


def mask(url: str) -> str:
    """Return the URL with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def parse_url(text: str, *, password_env: str = "PGPASSWORD") -> Database:  # noqa: S107
    """Read a database URL; raise DataError when it cannot name a database."""
    base, options = split_query(text)
    scheme = base.partition("://")[0].lower()
    masked = mask(base)
    if scheme not in SCHEMES:
        raise DataError.single(
            masked,
            "",
            f"unknown database URL scheme {scheme!r}",
            "write sqlite:///file.db, postgresql://user@host:5432/db or duckdb:///file.duckdb; "
            "reach other engines through a query in a sources file",
        )
    if scheme in ("postgresql", "postgres") and urlsplit(base).password is not None:
        raise DataError.single(
            masked,
            "",
            "the URL holds a password",
            f"remove it from the URL and set it in the environment variable {password_env}",
        )
    table = options.pop("table", "") or "actuals"
    partial = truthy(options.pop("partial")) if "partial" in options else False
    if options:
        raise DataError.single(
            masked,
            "",
            "unknown URL option " + ", ".join(repr(k) for k in sorted(options)),
            "the options are table= and partial=",
        )
    if not _TABLE.match(table):
        raise DataError.single(
            masked,
            "table",
            f"the table name {table!r} is not a plain name",
            "name a table or view as name or schema.name; use a query in a sources file for more",
        )
    return Database(
        url=base,
        masked=masked,
        scheme="postgresql" if scheme == "postgres" else scheme,
        table=table,
        partial=partial,
        password_env=password_env,
    )


def _select_all(table: str) -> str:
    """Return ``SELECT * FROM "schema"."table"`` for a name `parse_url` has checked.

    A table name cannot be a bound parameter; it is accepted only as plain words (``_TABLE``)
    and written as quoted identifiers, so no value of the user's reaches the SQL as code.
    """
    if not _TABLE.match(table):
        raise ValueError(f"the table name {table!r} is not a plain name")
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))
    return "SELECT * FROM " + quoted  # noqa: S608 - checked, quoted identifiers only


def _local_path(db: Database) -> str:
    rest = db.url.partition("://")[2]
    if not rest:
        return ":memory:"
    if not rest.startswith("/"):
        raise DataError.single(
            db.masked,
            "",
            f"a {db.scheme} URL has three slashes before a relative path",
            f"write {db.scheme}:///stats.db (relative) or {db.scheme}:////srv/stats.db (absolute)",
        )
    path = unquote(rest[1:])
    return path or ":memory:"


def read_database(
    db: Database,
    *,
    query: str | None = None,
    query_name: str | None = None,
    as_of: dt.date | None = None,
) -> Rows:
    """Read a table (or run a query) and return its rows, named by the masked URL.

    Raises:
        DataError: the database cannot be reached, the table does not exist, the query fails.
    """
    label = db.label(query_name)
    params: dict[str, Any] = {}
    if query is not None and _AS_OF.search(query):
        if as_of is None:
            raise DataError.single(
                label,
                "query",
                "the query uses :as_of but no as-of date was given",
                "pass as_of= to read_actuals (the command line passes --as-of, or today)",
            )
        params["as_of"] = as_of
    if db.scheme == "duckdb":
        frame = _read_duckdb(db, label, query, params)
    else:
        reader = _read_sqlite if db.scheme == "sqlite" else _read_postgres
        names, records = reader(db, label, query, params)
        frame = pd.DataFrame.from_records(records, columns=names, coerce_float=False)
    return frame_rows(frame, source=label, partial=db.partial)


def _failed(label: str, exc: BaseException, secret: str | None) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if secret:
        reason = reason.replace(secret, "***")
    return reason[:300]


def _missing_table(db: Database, label: str, tables: Sequence[str]) -> DataError:
    hint = (
        "the tables are " + ", ".join(repr(t) for t in sorted(tables)[:20])
        if tables
        else "the database holds no table"
    )
    return DataError(
        [
            Problem(
                source=label,
                path="table",
                message=f"the database has no table {db.table!r}",
                hint=hint + "; name one with ?table=",
            )
        ]
    )


def _read_sqlite(
    db: Database, label: str, query: str | None, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    path = _local_path(db)
    if path != ":memory:" and not Path(path).is_file():
        raise DataError.single(
            label, "", f"no such database file {path!r}", "check the path after sqlite:///"
        )
    uri = f"file:{path}?mode=ro" if path != ":memory:" else ":memory:"
    try:
        con = sqlite3.connect(uri, uri=path != ":memory:", timeout=_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise DataError.single(
            label,
            "",
            f"cannot open the database ({_failed(label, exc, None)})",
            "check the path and its permissions",
        ) from exc
    try:
        if query is None:
            tables = [
                r[0]
                for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                )
            ]
            if db.table not in tables:
                raise _missing_table(db, label, tables)
            sql, bound = _select_all(db.table), {}
        else:
            sql, bound = query, {k: v.isoformat() for k, v in params.items()}
        cursor = con.execute(sql, bound)
        names = [d[0] for d in cursor.description or ()]
        return names, cursor.fetchall()
    except sqlite3.DatabaseError as exc:
        raise _query_error(label, exc, None, query) from exc
    finally:
        con.close()


def _query_error(
    label: str, exc: BaseException, secret: str | None, query: str | None
) -> DataError:
    if query is None:
        problem = Problem(
            source=label,
            path="",
            message=f"cannot read the database ({_failed(label, exc, secret)})",
            hint="check that the file is a database of this kind and is not being written",
        )
    else:
        problem = Problem(
            source=label,
            path="query",
            message=f"the query failed ({_failed(label, exc, secret)})",
            hint="run the query in the database's own client to fix it",
        )
    return DataError([problem])


def _read_postgres(
    db: Database, label: str, query: str | None, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    psycopg = require("psycopg", "postgres", label)
    secret = os.environ.get(db.password_env) or None
    kwargs: dict[str, Any] = {"connect_timeout": _TIMEOUT_S}
    if secret is not None:
        kwargs["password"] = secret
    try:
        con = psycopg.connect(db.url, **kwargs)
    except (psycopg.Error, ValueError) as exc:
        raise DataError.single(
            label,
            "",
            f"cannot connect to the database ({_failed(label, exc, secret)})",
            f"check the host, port, database and user; the password is read from {db.password_env}",
        ) from exc
    try:
        with con.cursor() as cursor:
            if query is None:
                schema, _, name = db.table.rpartition(".")
                cursor.execute(
                    "SELECT 1 FROM information_schema.tables WHERE table_name = %s"
                    " AND (%s = '' OR table_schema = %s)",
                    (name, schema, schema),
                )
                if cursor.fetchone() is None:
                    cursor.execute(
                        "SELECT table_name FROM information_schema.tables"
                        " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                    )
                    raise _missing_table(db, label, [r[0] for r in cursor.fetchall()])
                statement = _select_all(db.table)
                cursor.execute(statement)
            else:
                sql = _AS_OF.sub("%(as_of)s", query.replace("%", "%%")) if params else query
                cursor.execute(sql, params or None)
            names = [d.name for d in cursor.description or ()]
            return names, cursor.fetchall()
    except psycopg.Error as exc:
        raise _query_error(label, exc, secret, query) from exc
    finally:
        con.close()


def _read_duckdb(
    db: Database, label: str, query: str | None, params: dict[str, Any]
) -> pd.DataFrame:
    duckdb = require("duckdb", "duckdb", label)
    path = _local_path(db)
    if path != ":memory:" and not Path(path).is_file():
        raise DataError.single(
            label, "", f"no such database file {path!r}", "check the path after duckdb:///"
        )
    try:
        con = duckdb.connect(path, read_only=path != ":memory:")
    except duckdb.Error as exc:
        raise DataError.single(
            label,
            "",
            f"cannot open the database ({_failed(label, exc, None)})",
            "check that the file is a DuckDB database and no other program holds it open for writing",
        ) from exc
    try:
        if query is None:
            tables = [
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            ]
            if db.table.rpartition(".")[2] not in tables:
                raise _missing_table(db, label, tables)
            statement = _select_all(db.table)
            result = con.execute(statement)
        else:
            sql = _AS_OF.sub("$as_of", query) if params else query
            result = con.execute(sql, params) if params else con.execute(sql)
        frame: pd.DataFrame = result.df()  # columnar, straight into pandas
        return frame
    except duckdb.Error as exc:
        raise _query_error(label, exc, None, query) from exc
    finally:
        con.close()
