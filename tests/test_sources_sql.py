"""Databases and Parquet: sqlite and DuckDB files in tmp_path, a real PostgreSQL server, pyarrow.

The key check: the Yichang actuals loaded into each of them give the statuses of the CSV files.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import targetkit as tk
from targetkit.cli import main

from . import postgres
from .conftest import make_plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "yichang_2023"
DATES = ("2023-03-31", "2023-06-30", "2023-08-31", "2023-09-30", "2023-12-31", "2024-01-31")


@pytest.fixture(scope="module")
def plan() -> tk.Plan:
    return tk.load(EXAMPLE / "plan.toml")


@pytest.fixture(scope="module")
def csv_actuals(plan: tk.Plan) -> tk.Actuals:
    return tk.read_actuals(EXAMPLE / "actuals", plan)


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The example's CSV rows as text, the way a loader script would put them in a database."""
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((EXAMPLE / "actuals").glob("*.csv"))
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def typed(raw: pd.DataFrame) -> pd.DataFrame:
    """The same rows with typed columns: dates as dates, numbers as floats (done as text)."""
    out = raw.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.date
    out["reported_at"] = pd.to_datetime(out["reported_at"]).dt.date
    return out


def same_statuses(plan: tk.Plan, a: tk.Actuals, b: tk.Actuals) -> None:
    for day in DATES:
        as_of = dt.date.fromisoformat(day)
        left = tk.evaluate(plan, a, as_of=as_of).to_frame()
        right = tk.evaluate(plan, b, as_of=as_of).to_frame()
        assert right.equals(left), day


def problem_of(item: str | Path, plan: tk.Plan, **kwargs: object) -> tk.Problem:
    with pytest.raises(tk.DataError) as info:
        tk.read_actuals(item, plan, **kwargs)  # type: ignore[arg-type]
    (problem,) = info.value.problems
    return problem


# --------------------------------------------------------------------------- sqlite


@pytest.fixture
def stats_db(tmp_path: Path, raw: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "stats.db"
    with sqlite3.connect(path) as con:
        raw.to_sql("monthly", con, index=False)
        raw.rename(columns={"indicator": "指标", "value": "数值"}).to_sql(
            "actuals", con, index=False
        )
        con.execute("CREATE TABLE contracts (signed_on TEXT, amount REAL)")
        con.executemany(
            "INSERT INTO contracts VALUES (?, ?)",
            [("2023-01-15", 100.0), ("2023-02-10", 200.0), ("2023-03-05", 300.0)],
        )
    con.close()
    monkeypatch.chdir(tmp_path)
    return path


def test_a_sqlite_table_gives_the_statuses_of_the_csv_files(
    stats_db: Path, plan: tk.Plan, csv_actuals: tk.Actuals
) -> None:
    from_db = tk.read_actuals("sqlite:///stats.db?table=monthly", plan)
    same_statuses(plan, csv_actuals, from_db)
    assert from_db.frame["file"][0] == "sqlite:///stats.db?table=monthly"
    assert from_db.frame["line"][0] == 1
    # the default table is `actuals`, and its Chinese column names are read too
    same_statuses(plan, csv_actuals, tk.read_actuals(f"sqlite:///{stats_db}", plan))


def test_a_query_aggregates_in_the_database_with_the_as_of_date_bound(
    stats_db: Path, tmp_path: Path
) -> None:
    plan = make_plan(
        """
        [[indicators]]
        id = "turnover"
        name = "技术合同成交额"
        unit = "亿元"
        kind = "cumulative"

        [[targets]]
        id = "turnover"
        title = "成交额1亿元"
        rule = { kind = "at_least", indicator = "turnover", value = 0.12 }
        """
    )
    (tmp_path / "sources.toml").write_text(
        """
[[sources]]
name = "contracts"
url = "sqlite:///stats.db"
query = '''
SELECT 'turnover' AS indicator, :as_of AS date, sum(amount) AS value, '万元' AS unit
FROM contracts WHERE signed_on <= :as_of
'''
""",
        encoding="utf-8",
    )
    feb = tk.read_actuals("sources.toml", plan, as_of=dt.date(2023, 2, 28))
    assert feb.frame["value"].tolist() == [pytest.approx(0.03)]  # 100 + 200 万元
    # a database file named in a sources file is found beside it
    assert feb.frame["file"][0] == f"sqlite:///{tmp_path}/stats.db (query contracts)"
    out = io.StringIO()
    argv = ["check", "plan.toml", "-a", "sources.toml", "--as-of", "2023-03-31", "-f", "json"]
    (tmp_path / "plan.toml").write_text(tk.dumps(plan), encoding="utf-8")
    assert main(argv, stdout=out, stderr=io.StringIO()) == 0
    assert '"actual": 0.06' in out.getvalue()  # 600 万元 by 31 March: 50% of 0.12 亿元 at 3/12
    # a query that binds :as_of needs the date
    problem = problem_of("sources.toml", plan)
    assert problem.message == "the query uses :as_of but no as-of date was given"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///stats.db?table=yearly", "the database has no table 'yearly'"),
        ("sqlite:///nothing.db", "no such database file 'nothing.db'"),
        ("sqlite://stats.db", "a sqlite URL has three slashes before a relative path"),
        ("mysql://u@h/db", "unknown database URL scheme 'mysql'"),
        (
            "sqlite:///stats.db?table=x;drop table y",
            "the table name 'x;drop table y' is not a plain name",
        ),
        ("sqlite:///stats.db?tabel=monthly", "unknown URL option 'tabel'"),
    ],
)
def test_bad_database_urls(stats_db: Path, plan: tk.Plan, url: str, message: str) -> None:
    assert problem_of(url, plan).message == message


def test_a_missing_table_lists_the_tables(stats_db: Path, plan: tk.Plan) -> None:
    problem = problem_of("sqlite:///stats.db?table=yearly", plan)
    assert problem.hint == "the tables are 'actuals', 'contracts', 'monthly'; name one with ?table="


def test_a_file_that_is_not_a_database(tmp_path: Path, plan: tk.Plan) -> None:
    (tmp_path / "notes.db").write_text("just text, not sqlite", encoding="utf-8")
    err = io.StringIO()
    code = main(
        ["check", str(EXAMPLE / "plan.toml"), "-a", f"sqlite:///{tmp_path}/notes.db"],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 3
    assert "cannot read the database (file is not a database)" in err.getvalue()


# --------------------------------------------------------------------------- DuckDB and Parquet


def test_duckdb_and_parquet_give_the_statuses_of_the_csv_files(
    tmp_path: Path, plan: tk.Plan, csv_actuals: tk.Actuals, typed: pd.DataFrame
) -> None:
    table = pa.Table.from_pandas(
        typed.assign(value=typed["value"].map(_number)), preserve_index=False
    )
    assert table.schema.field("date").type == pa.date32()
    pq.write_table(table, tmp_path / "figures.parquet")
    same_statuses(plan, csv_actuals, tk.read_actuals(tmp_path / "figures.parquet", plan))

    lake = tmp_path / "lake.duckdb"
    con = duckdb.connect(str(lake))
    con.execute(
        f"CREATE TABLE figures AS SELECT * FROM read_parquet('{tmp_path / 'figures.parquet'}')"
    )
    con.close()
    same_statuses(plan, csv_actuals, tk.read_actuals(f"duckdb:///{lake}?table=figures", plan))
    # DuckDB reads the Parquet file in place, in memory
    (tmp_path / "sources.toml").write_text(
        f"""
[[sources]]
name = "lake"
url = "duckdb://"
query = "SELECT * FROM read_parquet('{tmp_path / "figures.parquet"}') WHERE date <= :as_of"
""",
        encoding="utf-8",
    )
    for day in DATES:
        as_of = dt.date.fromisoformat(day)
        got = tk.read_actuals(tmp_path / "sources.toml", plan, as_of=as_of)
        left = tk.evaluate(plan, csv_actuals, as_of=as_of).to_frame()
        assert tk.evaluate(plan, got, as_of=as_of).to_frame().equals(left)


def _number(text: str) -> float:
    return 1.0 if text == "done" else float(text)  # a float column records a milestone as 1


def test_a_broken_parquet_file(tmp_path: Path, plan: tk.Plan) -> None:
    (tmp_path / "half.parquet").write_bytes(b"PAR1\x00\x00")
    problem = problem_of(tmp_path / "half.parquet", plan)
    assert problem.message.startswith("cannot be read as Parquet (")


def test_a_duckdb_query_error_names_the_query(tmp_path: Path, plan: tk.Plan) -> None:
    (tmp_path / "s.toml").write_text(
        '[[sources]]\nname = "bad"\nurl = "duckdb://"\nquery = "SELEC 1"\n', encoding="utf-8"
    )
    problem = problem_of(tmp_path / "s.toml", plan)
    assert problem.source == "duckdb:// (query bad)"
    assert problem.message.startswith("the query failed (")


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg() -> Iterator[postgres.Server]:
    try:
        context = postgres.server()
        found = context.__enter__()
    except (RuntimeError, OSError, FileNotFoundError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the PostgreSQL test server did not start: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    try:
        yield found
    finally:
        context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def pg_loaded(pg: postgres.Server, typed: pd.DataFrame) -> postgres.Server:
    with psycopg.connect(
        host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=pg.database
    ) as con:
        con.execute("CREATE SCHEMA bureau")
        con.execute(
            "CREATE TABLE bureau.figures (indicator text, date date, value text, unit text,"
            " reported_at date, source text, note text)"
        )
        with con.cursor().copy("COPY bureau.figures FROM STDIN") as copy:
            for row in typed.itertuples(index=False):
                copy.write_row(list(row))
    return pg


def test_a_postgresql_table_gives_the_statuses_of_the_csv_files(
    pg_loaded: postgres.Server,
    plan: tk.Plan,
    csv_actuals: tk.Actuals,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGPASSWORD", pg_loaded.password)
    url = pg_loaded.url("bureau.figures")
    from_pg = tk.read_actuals(url, plan)
    same_statuses(plan, csv_actuals, from_pg)
    assert from_pg.frame["file"][0] == url


def test_a_postgresql_query_with_the_password_from_a_named_variable(
    pg_loaded: postgres.Server,
    plan: tk.Plan,
    csv_actuals: tk.Actuals,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("STATS_PG_PASSWORD", pg_loaded.password)
    (tmp_path / "sources.toml").write_text(
        f"""
[[sources]]
name = "figures"
url = "{pg_loaded.url()}"
password_env = "STATS_PG_PASSWORD"
query = '''
SELECT indicator, date, value, unit, reported_at, note FROM bureau.figures
WHERE date <= :as_of AND note NOT LIKE '%不存在的备注%'
'''
""",
        encoding="utf-8",
    )
    for day in DATES:
        as_of = dt.date.fromisoformat(day)
        got = tk.read_actuals(tmp_path / "sources.toml", plan, as_of=as_of)
        assert (got.frame["date"] <= pd.Timestamp(as_of)).all()  # filtered in the database
        left = tk.evaluate(plan, csv_actuals, as_of=as_of).to_frame()
        assert tk.evaluate(plan, got, as_of=as_of).to_frame().equals(left)


def test_postgresql_errors_never_show_the_password(
    pg_loaded: postgres.Server, plan: tk.Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = pg_loaded.password
    monkeypatch.setenv("PGPASSWORD", "wrong-" + secret)
    problem = problem_of(pg_loaded.url("bureau.figures"), plan)
    assert problem.message.startswith("cannot connect to the database (")
    assert "password authentication failed" in problem.message
    assert secret not in str(problem)
    # a password in the URL is refused, and masked
    with_password = pg_loaded.url("bureau.figures").replace("@", f":{secret}@")
    problem = problem_of(with_password, plan)
    assert problem.message == "the URL holds a password"
    assert (
        problem.source
        == f"postgresql://{pg_loaded.user}:***@{pg_loaded.host}:{pg_loaded.port}/{pg_loaded.database}"
    )
    assert secret not in str(problem)
    monkeypatch.setenv("PGPASSWORD", secret)
    problem = problem_of(pg_loaded.url("bureau.nothing"), plan)
    assert problem.message == "the database has no table 'bureau.nothing'"
    assert "'figures'" in problem.hint


def test_an_unreachable_postgresql_server_exits_3(pg: postgres.Server) -> None:
    err = io.StringIO()
    url = f"postgresql://nobody@127.0.0.1:{pg.port + 1}/db?table=t"
    code = main(["check", str(EXAMPLE / "plan.toml"), "-a", url], stdout=io.StringIO(), stderr=err)
    assert code == 3
    assert err.getvalue().startswith(
        f"error: postgresql://nobody@127.0.0.1:{pg.port + 1}/db?table=t: cannot connect"
    )
    assert "Traceback" not in err.getvalue()


def test_sources_show_a_table_and_its_problems(stats_db: Path, raw: pd.DataFrame) -> None:
    out = io.StringIO()
    argv = ["sources", "show", "sqlite:///stats.db?table=monthly"]
    assert main(argv, stdout=out, stderr=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"sqlite:///stats.db?table=monthly: {len(raw)} rows, "
        "columns indicator, date, value, unit, reported_at, source, note"
    )
    assert lines[1].startswith("  row 1: gdp, 2022-12-31, 5502.69, 亿元, 2023-01-20")
    assert lines[-1] == f"  … and {len(raw) - 20} more rows"
    # with a plan whose indicators are not in the table, each row's problem is listed
    plan = stats_db.parent / "plan.toml"
    plan.write_text(
        tk.dumps(
            make_plan(
                """
                [[indicators]]
                id = "gdp"
                name = "地区生产总值"
                unit = "亿元"
                kind = "cumulative"

                [[targets]]
                id = "t"
                title = "t"
                rule = { kind = "at_least", indicator = "gdp", value = 1 }
                """
            )
        ),
        encoding="utf-8",
    )
    out = io.StringIO()
    assert main([*argv, "--plan", str(plan)], stdout=out, stderr=io.StringIO()) == 0
    problems = [line for line in out.getvalue().splitlines() if line.startswith("problem: ")]
    assert problems[0] == (
        "problem: sqlite:///stats.db?table=monthly:2: indicator: unknown indicator "
        "'hightech_enterprises'; use an indicator id declared in the plan"
    )
