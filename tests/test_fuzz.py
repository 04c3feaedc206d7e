"""Hostile and broken input: every edge either works or raises a clear `TargetkitError`.

Two halves:

- **fuzzing** (hypothesis): arbitrary and almost-valid plan mappings and plan files, arbitrary
  bytes and messy CSV exports, unit strings, dates and command lines. The only outcomes allowed are
  a result or a `TargetkitError` whose every message is one of the forms catalogued in
  docs/reference/errors.md; at the command line, an exit code of 0–3 and, on 3, one ``error: ``
  line per problem and never a traceback or an "internal error";
- **regressions**: one hand-written case per kind of real-world mess (BOM, CRLF, GBK, full-width
  digits and ％, thousands separators, blank lines, trailing spaces, Excel serial dates, NaN/inf,
  huge and negative values, empty and header-only files, duplicate headers, formula cells, a
  200,000-row file), each asserting the precise behaviour.

The fuzz budget is bounded for CI (well under a minute); the number of examples each fuzz test
ran, and what they gave, is printed at the end of the pytest run. ``TARGETKIT_FUZZ_SCALE=20``
multiplies every budget for a long campaign (docs/how-to/fuzzing.md).
"""

from __future__ import annotations

import collections
import contextlib
import copy
import csv
import datetime as dt
import io
import json
import math
import os
import time
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit.cli import main
from targetkit.dates import parse_date
from targetkit.exceptions import TargetkitError, UnitError
from targetkit.render.formats import render
from targetkit.units import default_units, units_with

from .errors_catalogue import matching_forms
from .strategies import plan_mappings

# --------------------------------------------------------------------------- budget and tally


def _scale() -> float:
    raw = os.environ.get("TARGETKIT_FUZZ_SCALE", "1")
    try:
        value = float(raw)
    except ValueError:
        raise pytest.UsageError(f"TARGETKIT_FUZZ_SCALE={raw!r} is not a number") from None
    return max(value, 0.01)


SCALE = _scale()

# what each fuzz test saw: examples run, and how each ended; printed by conftest's summary hook
FUZZ_TALLY: dict[str, collections.Counter[str]] = {}
FUZZ_SECONDS: dict[str, float] = {}
_FIRST_SEEN: dict[str, float] = {}


def fuzz(examples: int) -> Callable[[Any], Any]:
    """Return hypothesis settings for a fuzz test: ``examples`` times the scale, no deadline."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


@contextlib.contextmanager
def tally(test: str) -> Iterator[collections.Counter[str]]:
    """Count one example of ``test``; the body records its outcome in the yielded counter."""
    counter = FUZZ_TALLY.setdefault(test, collections.Counter())
    now = time.perf_counter()
    _FIRST_SEEN.setdefault(test, now)
    counter["examples"] += 1
    try:
        yield counter
    finally:
        # wall time from the first example to the last, generation and shrinking included
        FUZZ_SECONDS[test] = time.perf_counter() - _FIRST_SEEN[test]


def assert_clear(exc: TargetkitError) -> None:
    """Assert that an error reads well: a place, a catalogued message, no Python internals."""
    text = str(exc)
    assert text.strip(), f"{type(exc).__name__} without a message"
    assert "Traceback" not in text
    problems = getattr(exc, "problems", None)
    if problems is not None:
        for p in problems:
            assert p.source, f"a problem without its source: {p}"
            assert p.message.strip(), f"a problem without a message: {p!r}"
            assert matching_forms(p.message), (
                f"{p.message!r} matches no message form in docs/reference/errors.md"
            )
    elif isinstance(exc, UnitError):
        assert matching_forms(exc.message), (
            f"{exc.message!r} matches no message form in docs/reference/errors.md"
        )


def outcome(counter: collections.Counter[str], fn: Callable[[], Any]) -> Any:
    """Run ``fn``; count "ok" or "error" (a clear TargetkitError); let anything else fail."""
    try:
        value = fn()
    except TargetkitError as exc:
        assert_clear(exc)
        counter["error"] += 1
        return None
    counter["ok"] += 1
    return value


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --------------------------------------------------------------------------- junk values

# values people type into the wrong place, and values that break naive code
_NASTY_TEXT = [
    "",
    " ",
    "\t",
    "\ufeff",
    "a\x00b",
    "１２０",
    "２０％",
    "220 亿圆",
    "220 亿元",
    "1,5",
    "1,234,567",
    "=SUM(A1:A3)",
    "nan",
    "inf",
    "-1e308",
    "1e999 亿元",
    "45107",
    "2023-02-30",
    "2023-13-01",
    "2023年6月",
    "0001-01-01",
    "9999-12-31",
    "0",
    "-1",
    "亿元",
    "%",
    "0.2%",
    "百分点",
    "done",
    "at_least",
    "milestone",
    "schedule",
    "months",
    "Asia/Shanghai",
    "Mars/Olympus",
    "../../etc/passwd",
    "x" * 300,
]
_NASTY_NUMBERS = [0, -1, 1, 2**63, -(2**63), 10**400, -(10**400), 1e308, -1e308, 5e-324, 0.2]
_NASTY_FLOATS = st.floats(allow_nan=True, allow_infinity=True)

scalars = st.one_of(
    st.sampled_from(_NASTY_TEXT),
    st.sampled_from(_NASTY_NUMBERS),
    _NASTY_FLOATS,
    st.integers(),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.times(),
)
json_like: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)

_TOP_KEYS = ["schema", "plan", "defaults", "units", "indicators", "targets", "notify"]
_PLAN_WORDS = [
    "id",
    "title",
    "period",
    "start",
    "end",
    "timezone",
    "kind",
    "unit",
    "value",
    "indicator",
    "rule",
    "pace",
    "points",
    "stages",
    "deadline",
    "thresholds",
    "baseline",
    "stretch",
    "low",
    "high",
    "numerator",
    "denominator",
]


# --------------------------------------------------------------------------- plan parser


def _spots(obj: Any) -> Iterator[tuple[Any, Any]]:
    """Yield (container, key) for every value inside a nested mapping/list."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield obj, key
            yield from _spots(value)
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield obj, index
            yield from _spots(value)


def _tweaks(old: Any) -> st.SearchStrategy[Any]:
    """Return values of the same kind as ``old`` that a person might have typed instead."""
    if isinstance(old, bool):
        return st.sampled_from([not old, "true", 1])
    if isinstance(old, int | float):
        candidates = [*_NASTY_NUMBERS, -old, old * 1000, str(old), 0.5]
        with contextlib.suppress(OverflowError):  # 10**400 / 1000 is no float
            candidates.append(old / 1000)
        return st.sampled_from(candidates)
    if isinstance(old, str):
        return st.sampled_from([*_NASTY_TEXT, old.upper(), f" {old} ", old + "x", old[:-1]])
    if isinstance(old, dt.date):
        return st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)) | st.just(str(old))
    if isinstance(old, list):
        return st.just(old[::-1] + old[:1])
    return json_like


@st.composite
def mutated_plans(draw: st.DrawFn) -> dict[str, Any]:
    """Return a valid plan mapping with one to four random mutations: the almost-right file."""
    data = copy.deepcopy(draw(plan_mappings()))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))):
        spots = list(_spots(data))
        container, key = draw(st.sampled_from(spots))
        action = draw(st.sampled_from(["tweak", "tweak", "replace", "delete", "add", "duplicate"]))
        if action == "tweak":
            container[key] = draw(_tweaks(container[key]))
        elif action == "replace":
            container[key] = draw(json_like)
        elif action == "delete":
            del container[key]
        elif action == "duplicate" and isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
        elif action in ("add", "duplicate"):
            target = container[key] if isinstance(container[key], dict) else container
            if isinstance(target, dict):
                target[draw(st.sampled_from(_PLAN_WORDS) | st.text(max_size=6))] = draw(json_like)
    return data


def _exercise_plan(plan: tk.Plan, as_of: dt.date) -> None:
    """Use a plan that parsed: evaluate it, render it, and round-trip it through TOML."""
    evaluation = tk.evaluate(plan, tk.Actuals.empty(), as_of=as_of)
    for result in evaluation.results:
        assert result.status is tk.Status.NO_DATA or result.rule_kind == "milestone"
    for fmt in ("table", "json"):
        assert render(evaluation, fmt, lang="en")
    text = tk.dumps(plan)
    again = tk.parse(tomllib.loads(text), source="again.toml", text=text)
    assert tk.dump(again) == tk.dump(plan)


@fuzz(400)
@given(
    data=st.dictionaries(st.sampled_from(_TOP_KEYS) | st.text(max_size=6), json_like, max_size=6)
)
def test_parse_arbitrary_mappings(data: dict[str, Any]) -> None:
    with tally("parse: arbitrary mappings") as counter:
        outcome(counter, lambda: tk.parse(data, source="fuzz.toml"))


@fuzz(500)
@given(data=mutated_plans(), as_of=st.dates(dt.date(2020, 1, 1), dt.date(2027, 12, 31)))
def test_parse_mutated_plans(data: dict[str, Any], as_of: dt.date) -> None:
    with tally("parse: mutated valid plans") as counter:
        plan = outcome(counter, lambda: tk.parse(data, source="fuzz.toml"))
        if plan is not None:
            _exercise_plan(plan, as_of)


_BASE_TOML = (Path(__file__).parent.parent / "docs/examples/first-plan/plan.toml").read_text(
    encoding="utf-8"
)


@st.composite
def mangled_texts(draw: st.DrawFn, base: str) -> bytes:
    """Return ``base`` with random edits, line ends, BOM and encoding: a hand-edited file."""
    text = base
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        pos = draw(st.integers(min_value=0, max_value=len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace_line"]))
        if edit == "insert":
            text = (
                text[:pos]
                + draw(st.sampled_from([*_NASTY_TEXT, "[", "]", '"', "=", "\n"]))
                + text[pos:]
            )
        elif edit == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 20)) :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(st.text(max_size=30))
            text = "\n".join(lines)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(max_size=4)) + data[pos:]
    return data


@fuzz(300)
@given(data=mangled_texts(_BASE_TOML), suffix=st.sampled_from([".toml", ".json", ".txt", ""]))
def test_load_mangled_plan_files(workdir: Path, data: bytes, suffix: str) -> None:
    path = workdir / f"plan{suffix}"
    if suffix == ".json":
        try:
            plan = tk.parse(tomllib.loads(_BASE_TOML))
            data = tk.dumps(plan, format="json").encode()[: len(data)] + data[len(data) // 2 :]
        except tomllib.TOMLDecodeError:
            pass
    path.write_bytes(data)
    with tally("load: mangled plan files") as counter:
        outcome(counter, lambda: tk.load(path))


# --------------------------------------------------------------------------- actuals

PLAN = tk.parse(tomllib.loads(_BASE_TOML), source="plan.toml", text=_BASE_TOML)
_KNOWN_COLUMNS = ["indicator", "date", "value", "unit", "reported_at", "source", "note"]
_INDICATORS = [
    "tech_contract_turnover",
    "hightech_enterprises",
    "action_plan_issued",
    "tech_contract_turnove",
    "",
    " tech_contract_turnover ",
    "ｔｅｃｈ_contract_turnover",
    "未知指标",
]
_DATES = [
    "2023-03-31",
    "2023/3/31",
    "2023年3月31日",
    "2023-03",
    "2023年1-3月",
    "2023Q1",
    "2023年一季度",
    "2022-12-31",
    "2023-06-30",
    "45016",
    "45016.5",
    "2023/3/31 0:00",
    "2023-02-30",
    "2023-13-01",
    "",
    "31/03/2023",
    "２０２３－０３－３１",
    "0001-01-01",
    "9999-12-31",
    "#VALUE!",
]
_VALUES = [
    "98.5",
    "１２０",
    "２０％",
    "1,234",
    "1,234.5",
    "1,5",
    "=SUM(A1:A3)",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "-1e308",
    "1e308",
    "1e309",
    "-5",
    "0",
    "",
    "done",
    "完成",
    "1",
    " 12 ",
    "1e-320",
    "１，２３４",
    "#DIV/0!",
    "12亿元",
    "+3",
    ".5",
    "1_000",
]
_UNITS = [
    "亿元",
    "万元",
    "元",
    "家",
    "个",
    "%",
    "％",
    "",
    "亿圆",
    "百分点",
    "万亿元",
    " 亿元 ",
    "kg",
]


@st.composite
def csv_texts(draw: st.DrawFn, *, messy: bool = True) -> str:
    """Return CSV text as spreadsheets export it, with the mess ``messy`` allows."""
    columns = draw(st.permutations(_KNOWN_COLUMNS[:4])) + draw(
        st.lists(st.sampled_from(_KNOWN_COLUMNS[4:]), unique=True, max_size=3)
    )
    header = list(columns)
    if messy:
        mess = draw(st.sampled_from(["none"] * 4 + ["case", "space", "dup", "drop", "typo"]))
        i = draw(st.integers(0, len(header) - 1))
        if mess == "case":
            header[i] = header[i].upper()
        elif mess == "space":
            header[i] = f" {header[i]}  "
        elif mess == "dup":
            header.append(header[i])
        elif mess == "drop":
            del header[i]
        elif mess == "typo":
            header[i] = header[i][:-1] + "x"

    def cell(column: str) -> str:
        odd = messy and draw(st.integers(0, 3)) == 0  # most cells are fine, as in real files
        name = column.strip().lower()
        if name == "indicator":
            return draw(st.sampled_from(_INDICATORS if odd else _INDICATORS[:2]))
        if name in ("date", "reported_at"):
            return draw(st.sampled_from(_DATES if odd else _DATES[:9]))
        if name == "value":
            return draw(st.sampled_from(_VALUES if odd else _VALUES[:6]))
        if name == "unit":
            return draw(st.sampled_from(_UNITS if odd else _UNITS[:3]))
        return draw(st.sampled_from(["统计快报", "", "1–3月累计", "备注，含逗号", '引号"']))

    rows = [[cell(c) for c in header] for _ in range(draw(st.integers(0, 8)))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        if messy and draw(st.integers(0, 9)) == 0:
            out.write(",".join(row) + "\n")  # written by hand: commas unquoted
        else:
            writer.writerow(row)
    text = out.getvalue()
    if messy:
        lines = text.split("\n")
        for _ in range(draw(st.integers(0, 3))):
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", ","])))
        if draw(st.booleans()):
            lines = [line + draw(st.sampled_from(["", " ", "\t"])) for line in lines]
        text = "\n".join(lines)
    return text


_ENCODINGS = ["utf-8", "utf-8", "utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """Return the bytes of a messy CSV file: line ends, encoding and stray bytes included."""
    text = draw(csv_texts())
    text = text.replace("\n", draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])))
    encoding = draw(st.sampled_from(_ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 4)) == 0:
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(min_size=1, max_size=3)) + data[pos:]
    return data


def _read(path: Path) -> tk.Actuals:
    return tk.read_actuals(path, PLAN)


@fuzz(250)
@given(data=st.binary(max_size=400))
def test_read_actuals_arbitrary_bytes(workdir: Path, data: bytes) -> None:
    path = workdir / "bytes.csv"
    path.write_bytes(data)
    with tally("actuals: arbitrary bytes") as counter:
        outcome(counter, lambda: _read(path))


@fuzz(600)
@given(data=csv_files(), as_of=st.dates(dt.date(2022, 6, 1), dt.date(2024, 6, 30)))
def test_read_messy_csv_files(workdir: Path, data: bytes, as_of: dt.date) -> None:
    path = workdir / "messy.csv"
    path.write_bytes(data)
    with tally("actuals: messy CSV exports") as counter:
        actuals = outcome(counter, lambda: _read(path))
        if actuals is not None:
            assert np.isfinite(actuals.frame["value"].to_numpy()).all()
            evaluation = tk.evaluate(PLAN, actuals, as_of=as_of)
            assert len(evaluation) == len(PLAN.targets)


def _observed(path: Path) -> Any:
    """Return what reading ``path`` gives, in a form comparable across encodings and line ends."""
    try:
        frame = _read(path).frame
    except tk.DataError as exc:
        folder = str(path.parent)
        return [(p.line, p.path, p.message.replace(folder, ""), p.hint) for p in exc.problems]
    return frame[["indicator", "stage", "date", "value", "unit", "line"]].to_dict("records")


@fuzz(200)
@given(text=csv_texts(messy=False), bom=st.booleans(), crlf=st.booleans())
def test_encoding_and_line_ends_do_not_change_values(
    workdir: Path, text: str, bom: bool, crlf: bool
) -> None:
    gbk = text.encode("gbk")
    with contextlib.suppress(UnicodeDecodeError):
        gbk.decode("utf-8")
        assume(False)  # GBK bytes that are also valid UTF-8 are UTF-8: nothing to compare
    twin = text.replace("\n", "\r\n") if crlf else text
    plain, other = workdir / "a" / "x.csv", workdir / "b" / "x.csv"
    plain.parent.mkdir(exist_ok=True)
    other.parent.mkdir(exist_ok=True)
    plain.write_text(text, encoding="utf-8")
    other.write_bytes(
        twin.encode("utf-8-sig") if bom else gbk.replace(b"\n", b"\r\n") if crlf else gbk
    )
    with tally("actuals: UTF-8 vs GBK/BOM/CRLF twins") as counter:
        assert _observed(plain) == _observed(other)
        counter["ok"] += 1


_CELLS = st.one_of(
    st.none(),
    st.floats(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=8),
    st.sampled_from([*_VALUES, *_DATES, *_UNITS, *_INDICATORS]),
    st.dates(),
    st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2250, 1, 1)),  # noqa: DTZ001 - naive, as in a frame
    st.just(pd.NaT),
)


@fuzz(200)
@given(
    rows=st.lists(st.fixed_dictionaries(dict.fromkeys(_KNOWN_COLUMNS[:4], _CELLS)), max_size=6),
    extra=st.sampled_from([[], ["reported_at"], ["Value"], ["note", "note"]]),
)
def test_actuals_from_arbitrary_frames(rows: list[dict[str, Any]], extra: list[str]) -> None:
    frame = pd.DataFrame(rows, columns=_KNOWN_COLUMNS[:4], dtype=object)
    for name in extra:
        frame.insert(len(frame.columns), name, [None] * len(frame), allow_duplicates=True)
    with tally("actuals: arbitrary DataFrames") as counter:
        outcome(counter, lambda: tk.Actuals.from_frame(frame, PLAN))


@st.composite
def observations(draw: st.DrawFn, plan: tk.Plan) -> pd.DataFrame:
    """Return rows for a plan's indicators: dates in and around the period, extreme values."""
    rows = []
    span = (plan.end - plan.start).days
    for _ in range(draw(st.integers(0, 8))):
        ind = draw(st.sampled_from(plan.indicators))
        day = plan.start + dt.timedelta(days=draw(st.integers(-400, span + 400)))
        if ind.kind is tk.IndicatorKind.MILESTONE:
            value: Any = draw(st.sampled_from(["done", "0", "1", "是"]))
        else:
            value = draw(
                st.sampled_from([0.0, -1.0, 1e-300, 1e300, -1e300, 5e-324, 1e15])
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.integers(-(10**6), 10**6)
            )
        rows.append({"indicator": ind.id, "date": day, "value": value, "unit": ind.unit})
    return pd.DataFrame(rows, columns=["indicator", "date", "value", "unit"])


@fuzz(250)
@given(data=mutated_plans(), draw=st.data(), lang=st.sampled_from(["zh", "en"]))
def test_evaluate_and_render_odd_plans_with_data(
    data: dict[str, Any], draw: st.DataObject, lang: str
) -> None:
    with tally("evaluate: mutated plans with odd data") as counter:
        plan = outcome(counter, lambda: tk.parse(data, source="fuzz.toml"))
        if plan is None:
            return
        frame = draw.draw(observations(plan))
        actuals = outcome(counter, lambda: tk.Actuals.from_frame(frame, plan))
        if actuals is None:
            return
        as_of = plan.start + dt.timedelta(days=draw.draw(st.integers(-30, 800)))
        evaluation = tk.evaluate(plan, actuals, as_of=as_of)
        for fmt in ("table", "json", "csv", "markdown"):
            assert render(evaluation, fmt, lang=lang)
        for result in evaluation.results:
            for number in (result.completion, result.gap_pp, result.expected):
                assert number is None or not math.isnan(number), result


_NOTIFY_BASE: dict[str, Any] = {
    "lang": "zh",
    "from": "目标监测 <targetkit@kjj.example.gov.cn>",
    "repeat_interval": "7d",
    "send_resolved": True,
    "state": ".targetkit/state.sqlite",
    "outbox": ".targetkit/outbox",
    "lock_timeout": 60,
    "smtp": {
        "host": "smtp.example.gov.cn",
        "port": 587,
        "security": "starttls",
        "username": "targetkit@kjj.example.gov.cn",
        "password_env": "TARGETKIT_SMTP_PASSWORD",
    },
    "routes": [
        {"to": ["规划科 <guihua@kjj.example.gov.cn>"]},
        {"to": ["director@kjj.example.gov.cn"], "severity": "critical", "lang": "en"},
    ],
    "webhooks": [
        {
            "name": "科技局工作群",
            "format": "dingtalk",
            "url_env": "TARGETKIT_DINGTALK_URL",
            "secret_env": "TARGETKIT_DINGTALK_SECRET",
        }
    ],
}


def _leaves(obj: Any) -> Iterator[Any]:
    """Yield every value inside a nested mapping/list that is not itself a container."""
    if isinstance(obj, dict | list):
        for _container, key in _spots(obj):
            value = _container[key]
            if not isinstance(value, dict | list):
                yield value
    else:
        yield obj


@st.composite
def notify_tables(draw: st.DrawFn) -> Any:
    """Return the reference's complete [notify] table with one to three random mutations."""
    table = copy.deepcopy(_NOTIFY_BASE)
    for _ in range(draw(st.integers(1, 3))):
        spots = list(_spots(table))
        container, key = draw(st.sampled_from(spots))
        if draw(st.booleans()):
            container[key] = draw(json_like)
        else:
            del container[key]
    return table


@fuzz(250)
@given(table=notify_tables() | json_like, from_plan=st.booleans())
def test_notify_settings(workdir: Path, table: Any, from_plan: bool) -> None:
    from targetkit.notify.settings import parse_settings

    # integers beyond float's range are the known bug of test_notify_huge_whole_number_seconds
    assume(not any(isinstance(v, int) and abs(v) > 2**1000 for v in _leaves(table)))
    with tally("notify: settings tables") as counter:
        outcome(
            counter,
            lambda: parse_settings(
                table, source="notify.toml", base_dir=workdir, from_plan=from_plan
            ),
        )


@st.composite
def plan_texts(draw: st.DrawFn) -> str:
    """Return a plan's text as copied from a web page: a title, numbered items, some noise."""

    def pick(options: list[str]) -> str:
        return draw(st.sampled_from(options))

    lines = [pick(["2023年科技工作要点", "2024年全市科技工作要点", "关于印发工作计划的通知", ""])]
    for _ in range(draw(st.integers(0, 6))):
        lines.append(
            pick(["一、", "（一）", "1.", "2．", "", "　　"])
            + pick(["确保", "力争", "争取", "全力", ""])
            + pick(
                [
                    "全年技术合同成交额",
                    "高新技术企业",
                    "研发投入占GDP比重",
                    "新增科技型中小企业",
                    "引进人才",
                    "发明专利拥有量",
                ]
            )
            + pick(["达到", "净增", "提高到", "不低于", "增长", "突破", "控制在", "新增"])
            + pick(["360", "１２０", "三千五百", "1,300", "0.5", "2.5", "百", "1.5万"])
            + pick(["亿元", "家", "%", "个百分点", "人", "项", "件", ""])
            + pick(["以上", "以内", "。", "，", "；", "", "左右"])
        )
        if draw(st.integers(0, 3)) == 0:
            lines.append(
                pick(
                    [
                        "上半年出台《科技成果转化行动方案》。",
                        "年底前完成验收。",
                        "6月底前启动建设。",
                    ]
                )
            )
    text = pick(["\n", "\r\n", "\n\n"]).join(lines)
    for _ in range(draw(st.integers(0, 2))):
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.text(max_size=4)) + text[pos:]
    return text


@fuzz(200)
@given(
    text=plan_texts(),
    year=st.none() | st.sampled_from([2023, 2023, 0, -1, 10**6]),
    prefix=st.none() | st.sampled_from(["yc", "", "坏 id", "a" * 80]),
)
def test_draft_from_text(text: str, year: int | None, prefix: str | None) -> None:
    from targetkit.draft import draft_plan

    # control characters are the known bug of test_draft_keeps_control_characters_out_of_toml
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    with tally("draft: plan texts") as counter:
        draft = outcome(counter, lambda: draft_plan(text, year=year, id_prefix=prefix))
        if draft is not None:
            toml_text = draft.to_toml()
            assert tk.parse(tomllib.loads(toml_text), text=toml_text) == draft.plan


# --------------------------------------------------------------------------- units and dates

_UNIT_WORDS = [
    "元",
    "万元",
    "亿元",
    "个亿",
    "家",
    "人",
    "名",
    "项",
    "笔",
    "个",
    "%",
    "％",
    "百分点",
]
_UNIT_WORDS += [
    "吨",
    "千瓦时",
    "微克/立方米",
    "kg",
    "m",
    "s",
    "1",
    "0",
    "/",
    "*",
    "^",
    "**",
    "(",
    ")",
]
_UNIT_WORDS += [
    " ",
    "-",
    "2",
    "1e999",
    "亿圆",
    "\x00",
    "e",
    "_",
    ".",
    "‰",
    "μ",
    "µ",
    "Ω",
    "１",
    "\n",
]
unit_texts = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(_UNIT_WORDS), max_size=6).map("".join),
)


@fuzz(600)
@given(unit=unit_texts, other=unit_texts)
def test_unit_strings(unit: str, other: str) -> None:
    units = default_units()
    with tally("units: check / factor") as counter:
        checked = outcome(counter, lambda: units.check(unit))
        if checked is not None:
            assert units.check(checked) == checked
            factor = outcome(counter, lambda: units.factor(unit, other))
            if factor is not None:
                assert isinstance(factor, float)


@fuzz(500)
@given(
    text=st.one_of(
        st.text(max_size=16),
        st.tuples(
            st.sampled_from(["220", "1,234,567", "１２０", "-3.5", "1e308", "1e999", "0.2", ""]),
            st.sampled_from(["", " ", "\u3000"]),
            st.sampled_from(_UNIT_WORDS),
        ).map("".join),
    )
)
def test_quantity_strings(text: str) -> None:
    with tally("units: parse_quantity") as counter:
        parsed = outcome(counter, lambda: default_units().parse_quantity(text))
        if parsed is not None:
            assert math.isfinite(parsed[0])


@fuzz(60)
@given(
    definitions=st.lists(
        st.tuples(
            st.sampled_from(["床位", "万床位", "元", "x", "", "a b", "1", "%"])
            | st.text(max_size=4),
            st.sampled_from(["[bed]", "10000 床位", "元", "1/0", "[", "0 * 元", "1e999 元"])
            | st.text(max_size=8),
        ),
        min_size=1,
        max_size=2,
    )
)
def test_unit_definitions(definitions: list[tuple[str, str]]) -> None:
    with tally("units: plan [units] definitions") as counter:
        outcome(counter, lambda: units_with(tuple(f"{n} = {d}" for n, d in definitions)))


@fuzz(500)
@given(
    text=st.one_of(
        st.text(max_size=20),
        st.sampled_from(_DATES),
        st.from_regex(r"\d{1,5}[-/.年]\d{1,3}([-/.月]\d{1,3}日?)?", fullmatch=True),
    )
)
def test_date_strings(text: str) -> None:
    with tally("dates: parse_date") as counter:
        try:
            day: dt.date | str = parse_date(text)
        except ValueError as exc:  # the contract: readers turn it into a problem with str(exc)
            day = str(exc)
        if isinstance(day, str):
            assert matching_forms(day), f"{day} matches no message form in errors.md"
            counter["error"] += 1
        else:
            counter["ok"] += 1


# --------------------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def cli_files(workdir: Path) -> dict[str, list[str]]:
    """Write the files the command-line fuzzing picks from; outputs go to a folder of their own."""
    root = workdir / "cli"
    (root / "out").mkdir(parents=True)
    plan = root / "plan.toml"
    plan.write_text(_BASE_TOML, encoding="utf-8")
    (root / "plan.json").write_text(tk.dumps(PLAN, format="json"), encoding="utf-8")
    (root / "gbk_plan.toml").write_bytes(_BASE_TOML.encode("gbk"))
    (root / "broken.toml").write_text(_BASE_TOML.replace('"at_least"', '"at_leest"'))
    (root / "bad_syntax.toml").write_text("[plan\nid = ")
    (root / "empty.toml").write_bytes(b"")
    (root / "binary.toml").write_bytes(bytes(range(256)))
    head = "indicator,date,value,unit\n"
    rows = "tech_contract_turnover,2023-03-31,98.5,亿元\nhightech_enterprises,2022-12-31,820,家\n"
    (root / "good.csv").write_text(head + rows, encoding="utf-8")
    (root / "gbk.csv").write_bytes((head + rows).encode("gbk"))
    (root / "crlf_bom.csv").write_bytes(("\ufeff" + head + rows).replace("\n", "\r\n").encode())
    (root / "formula.csv").write_text(head + "tech_contract_turnover,2023-03-31,=SUM(A1:A3),亿元\n")
    (root / "excel_date.csv").write_text(head + "tech_contract_turnover,45016,98.5,亿元\n")
    (root / "empty.csv").write_bytes(b"")
    (root / "header_only.csv").write_text(head)
    (root / "dup_header.csv").write_text("indicator,date,value,value,unit\n")
    (root / "folder").mkdir()
    (root / "folder" / "a.csv").write_text(head + rows)
    (root / "empty_folder").mkdir()
    (root / "plan.txt").write_text(
        "2023年科技工作要点\n一、确保全年技术合同成交额达到360亿元。\n二、上半年出台行动方案。\n",
        encoding="utf-8",
    )
    (root / "gbk_plan.txt").write_bytes(
        "2023年科技工作要点\n高新技术企业净增100家。\n".encode("gbk")
    )
    (root / "no_target.txt").write_text("今天天气很好。\n", encoding="utf-8")
    (root / "notify.toml").write_text('[notify]\nlang = "xx"\n', encoding="utf-8")
    inputs = sorted(str(p) for p in root.iterdir() if p.name != "out")
    return {
        "inputs": [*inputs, str(root / "missing.toml"), str(root / "out")],
        "outputs": [
            str(root / "out" / "report.html"),
            str(root / "out" / "draft.toml"),
            str(root / "out"),
            str(root / "out" / "no" / "such" / "dir.html"),
        ],
    }


_COMMANDS = [
    [],
    ["validate"],
    ["check"],
    ["check"],
    ["report"],
    ["draft"],
    ["units"],
    ["alerts"],
    ["alerts", "history"],
    ["bogus"],
    ["--version"],
]
_AS_OF = ["2023-06-30", "2023/6/30", "2023年6月30日", "2023-06", "2023-02-30", "45107", "x", ""]
_AS_OF += ["0001-01-01", "9999-12-31", "2023Q2", "１９９９－０１－０１"]


@st.composite
def argvs(draw: st.DrawFn, files: dict[str, list[str]]) -> list[str]:
    """Return a command line: a command, file arguments, options with good and bad values."""
    argv = list(draw(st.sampled_from(_COMMANDS)))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9))
        if kind <= 2:
            argv.append(draw(st.sampled_from(files["inputs"])))
        elif kind == 3:
            argv += [
                draw(st.sampled_from(["--actuals", "-a"])),
                draw(st.sampled_from(files["inputs"])),
            ]
        elif kind == 4:
            argv += ["--as-of", draw(st.sampled_from(_AS_OF) | st.text(max_size=6))]
        elif kind == 5:
            option = draw(
                st.sampled_from(
                    ["--format", "-f", "--lang", "--fail-on", "--year", "--id", "--limit"]
                )
            )
            value = [
                "table",
                "json",
                "csv",
                "markdown",
                "html",
                "zh",
                "en",
                "red",
                "never",
                "2023",
                "-1",
            ]
            argv += [option, draw(st.sampled_from(value) | st.text(max_size=5))]
        elif kind == 6:
            argv += [
                draw(st.sampled_from(["-o", "--output"])),
                draw(st.sampled_from(files["outputs"])),
            ]
        elif kind == 7:
            argv.append(
                draw(
                    st.sampled_from(["--notify", "--dry-run", "-q", "--quiet", "--force", "--help"])
                )
            )
        elif kind == 8:  # (a NUL byte in a path is test_nul_byte_in_a_path, a known bug)
            argv.append(draw(st.text(st.characters(exclude_characters="\x00"), max_size=6)))
        else:
            argv += ["--notify", draw(st.sampled_from(files["inputs"]))]
    return argv


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_clean_exit(argv: list[str], code: int, out: str, err: str) -> None:
    """The command-line contract: 0–3, and on 3 one clear line per problem, never a traceback."""
    shown = f"targetkit {' '.join(argv)!r} → {code}\nstdout: {out[:500]}\nstderr: {err[:2000]}"
    assert code in (0, 1, 2, 3), shown
    assert "Traceback" not in err + out, shown
    assert "internal error" not in err, shown
    if code == 3 and err:
        lines = err.rstrip("\n").split("\n")
        if lines[0].startswith("targetkit"):  # a bad command line: what is wrong, then --help
            assert len(lines) == 1 or (
                len(lines) == 2 and lines[1].startswith("run 'targetkit --help'")
            ), shown
        else:
            assert all(line.startswith("error: ") for line in lines), shown
            assert all(len(line) > len("error: ") + 5 for line in lines), shown


@fuzz(250)
@given(data=st.data())
def test_cli_command_lines(cli_files: dict[str, list[str]], data: st.DataObject) -> None:
    argv = data.draw(argvs(cli_files))
    with tally("cli: command lines") as counter:
        code, out, err = run_cli(argv)
        assert_clean_exit(argv, code, out, err)
        counter[f"exit {code}"] += 1


@fuzz(200)
@given(csv_data=csv_files(), fmt=st.sampled_from(["table", "json", "csv", "markdown"]))
def test_cli_check_messy_files(workdir: Path, csv_data: bytes, fmt: str) -> None:
    folder = workdir / "cli-check"
    folder.mkdir(exist_ok=True)
    plan = folder / "plan.toml"
    if not plan.exists():
        plan.write_text(_BASE_TOML, encoding="utf-8")
    (folder / "actuals.csv").write_bytes(csv_data)
    argv = ["check", str(plan), "-a", str(folder / "actuals.csv"), "--as-of", "2023-06-30"]
    argv += ["--format", fmt]
    with tally("cli: check on messy CSV files") as counter:
        code, out, err = run_cli(argv)
        assert_clean_exit(argv, code, out, err)
        counter[f"exit {code}"] += 1
        if code == 3:
            assert out == ""
            # each line names the file, and a line number unless the whole file is at fault
            for line in err.splitlines():
                assert "actuals.csv" in line, line


@fuzz(150)
@given(data=mangled_texts(_BASE_TOML))
def test_cli_validate_mangled_plans(workdir: Path, data: bytes) -> None:
    path = workdir / "mangled.toml"
    path.write_bytes(data)
    argv = ["validate", str(path)]
    with tally("cli: validate mangled plans") as counter:
        code, out, err = run_cli(argv)
        assert_clean_exit(argv, code, out, err)
        assert code in (0, 3)
        counter[f"exit {code}"] += 1
        if code == 3:
            assert all("mangled.toml" in line for line in err.splitlines()), err


# =========================================================================== regressions
#
# The worked example (docs/examples/first-plan): 360 亿元 turnover, cumulative; on 2023-06-30 the
# latest figure dated 2023-03-31 gives expected progress E = 3/12 = 25%.

HEAD = "indicator,date,value,unit\n"


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def values(path: Path) -> list[tuple[str, str, float, str]]:
    frame = tk.read_actuals(path, PLAN).frame
    days = [d.date().isoformat() for d in pd.to_datetime(frame["date"])]
    return list(
        zip(frame["indicator"], days, frame["value"].astype(float), frame["unit"], strict=True)
    )


def problems(path: Path) -> list[str]:
    with pytest.raises(tk.DataError) as info:
        tk.read_actuals(path, PLAN)
    assert_clear(info.value)
    return [f"{p.line}: {p.path}: {p.message}; {p.hint}" for p in info.value.problems]


def check_json(tmp_path: Path, csv_path: Path, *extra: str) -> tuple[int, dict[str, str], str]:
    plan = tmp_path / "plan.toml"
    plan.write_text(_BASE_TOML, encoding="utf-8")
    argv = ["check", str(plan), "-a", str(csv_path), "--as-of", "2023-06-30", "-f", "json", *extra]
    code, out, err = run_cli(argv)
    assert_clean_exit(argv, code, out, err)
    if code == 3:
        return code, {}, err
    statuses = {r["target"]: r["status"] for r in json.loads(out)["results"]}
    return code, statuses, err


ROW = "tech_contract_turnover,2023-03-31,98.5,亿元\n"
EXPECTED = [("tech_contract_turnover", "2023-03-31", 98.5, "亿元")]


def test_bom_is_ignored(tmp_path: Path) -> None:
    assert values(write(tmp_path, "bom.csv", "\ufeff" + HEAD + ROW)) == EXPECTED


def test_crlf_line_ends(tmp_path: Path) -> None:
    path = write(
        tmp_path, "crlf.csv", (HEAD + ROW + ROW.replace("98.5", "x")).replace("\n", "\r\n")
    )
    assert problems(path) == [
        "3: value: 'x' is not a number; write a plain number such as 1234.5 or 1,234.5, "
        "and the unit in the unit column"
    ]
    assert values(write(tmp_path, "ok.csv", (HEAD + ROW).replace("\n", "\r\n"))) == EXPECTED


def test_old_mac_line_ends(tmp_path: Path) -> None:
    assert values(write(tmp_path, "cr.csv", (HEAD + ROW).replace("\n", "\r"))) == EXPECTED


def test_gbk_file_reads_as_its_utf8_twin(tmp_path: Path) -> None:
    text = HEAD + ROW + "hightech_enterprises,2023年3月31日,835,家\n"
    utf8 = write(tmp_path, "utf8.csv", text)
    gbk = write(tmp_path, "gbk.csv", text.encode("gbk"))
    gb18030 = write(tmp_path, "gb18030.csv", text.encode("gb18030"))
    assert values(gbk) == values(utf8) == values(gb18030)
    assert values(utf8)[1] == ("hightech_enterprises", "2023-03-31", 835.0, "家")
    code_utf8, statuses_utf8, _ = check_json(tmp_path, utf8)
    code_gbk, statuses_gbk, _ = check_json(tmp_path, gbk)
    assert (code_gbk, statuses_gbk) == (code_utf8, statuses_utf8)


def test_utf16_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "u16.csv", ("\ufeff" + HEAD + ROW).encode("utf-16"))
    with pytest.raises(tk.DataError) as info:
        tk.read_actuals(path, PLAN)
    assert (
        str(info.value)
        == f"{path}: is neither UTF-8 nor GB18030/GBK text; save the file as UTF-8 CSV"
    )


def test_full_width_digits_and_percent(tmp_path: Path) -> None:
    path = write(tmp_path, "fw.csv", HEAD + "tech_contract_turnover,2023-03-31,１２０,亿元\n")
    assert values(path) == [("tech_contract_turnover", "2023-03-31", 120.0, "亿元")]
    path = write(
        tmp_path, "fwsep.csv", HEAD + "tech_contract_turnover,2023-03-31,１，２３４．５,亿元\n"
    )
    assert values(path)[0][2] == 1234.5
    # ％ is %: a share indicator reads "１９.５％" as 19.5 %, unit column left empty
    share = tk.parse(
        tomllib.loads(
            _BASE_TOML
            + '\n[[indicators]]\nid = "share"\nname = "占比"\nunit = "%"\nkind = "level"\n'
        )
    )
    path = write(
        tmp_path, "pct.csv", HEAD + "share,2023-03-31,１９.５％,\nshare,2023-06-30,20,％\n"
    )
    frame = tk.read_actuals(path, share).frame
    assert frame["value"].tolist() == [19.5, 20.0]
    assert frame["unit"].tolist() == ["%", "%"]


def test_percent_sign_in_the_value_and_the_unit(tmp_path: Path) -> None:
    share = tk.parse(
        tomllib.loads(
            _BASE_TOML
            + '\n[[indicators]]\nid = "share"\nname = "占比"\nunit = "%"\nkind = "level"\n'
        )
    )
    rows = "share,2023-03-31,19.5%,%\nshare,2023-06-30,２０％,％\nshare,2023-09-30,21%,\n"
    frame = tk.read_actuals(write(tmp_path, "pct.csv", HEAD + rows), share).frame
    assert frame["value"].tolist() == [19.5, 20.0, 21.0]
    path = write(tmp_path, "pp.csv", HEAD + "share,2023-03-31,19.5%,百分点\n")
    with pytest.raises(tk.DataError) as info:
        tk.read_actuals(path, share)
    assert info.value.problems[0].message == "'19.5%' is not a number"


@pytest.mark.parametrize("sep", [";", "\t"])
def test_other_separators_are_named(tmp_path: Path, sep: str) -> None:
    text = sep.join(["indicator", "date", "value", "unit"]) + "\n"
    text += sep.join(["tech_contract_turnover", "2023-03-31", "98.5", "亿元"]) + "\n"
    lines = problems(write(tmp_path, "sep.csv", text))
    assert len(lines) == 4
    assert lines[0] == (
        f"1: indicator: the required column 'indicator' is missing; the columns are separated "
        f"by {sep!r}, not ','; save the file as CSV (comma delimited)"
    )


def test_thousands_separators(tmp_path: Path) -> None:
    path = write(tmp_path, "k.csv", HEAD + 'tech_contract_turnover,2023-03-31,"1,234,567.5",万元\n')
    assert values(path) == [("tech_contract_turnover", "2023-03-31", 123.45675, "万元")]
    # unquoted, the separator splits the row: the line is named, and the fix
    path = write(tmp_path, "u.csv", HEAD + "tech_contract_turnover,2023-03-31,1,234,万元\n")
    assert problems(path) == [
        '2: : the row has 5 fields but the header has 4; quote values that contain commas, e.g. "1,234"'
    ]


def test_decimal_comma_gets_its_own_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "dc.csv", HEAD + 'tech_contract_turnover,2023-03-31,"1,5",亿元\n')
    assert problems(path) == [
        "2: value: '1,5' is not a number; the decimal mark is '.', and ',' only separates "
        "thousands (1,234,567)"
    ]


def test_blank_lines_and_trailing_spaces(tmp_path: Path) -> None:
    text = "\n \n" + "indicator , date,value ,unit \n\n" + ROW.replace(",", " , ") + "\n  \n"
    path = write(tmp_path, "blank.csv", text)
    assert values(path) == EXPECTED
    assert tk.read_actuals(path, PLAN).frame["line"].tolist() == [5]  # lines keep counting


def test_excel_serial_date_is_refused_naming_the_date(tmp_path: Path) -> None:
    # Decision: a bare number in a date column is not read as a date (a spreadsheet's serial day
    # number and a year-month like 202306 look alike); the message says which day it would be.
    path = write(tmp_path, "xl.csv", HEAD + "tech_contract_turnover,45016,98.5,亿元\n")
    [line] = problems(path)
    assert line.startswith("2: date: '45016' is not a date; ")
    assert "Excel serial date for 2023-03-31" in line
    path = write(tmp_path, "xl2.csv", HEAD + "tech_contract_turnover,45107.75,98.5,亿元\n")
    assert "Excel serial date for 2023-06-30" in problems(path)[0]
    # a date-time as Excel writes it is fine
    path = write(tmp_path, "xl3.csv", HEAD + "tech_contract_turnover,2023/3/31 0:00,98.5,亿元\n")
    assert values(path) == EXPECTED


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity", "#DIV/0!", "#N/A"])
def test_not_a_number_cells(tmp_path: Path, cell: str) -> None:
    path = write(tmp_path, "nan.csv", HEAD + f"tech_contract_turnover,2023-03-31,{cell},亿元\n")
    assert problems(path) == [
        f"2: value: {cell!r} is not a number; write a plain number such as 1234.5 or 1,234.5, "
        "and the unit in the unit column"
    ]


def test_overflowing_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", HEAD + "tech_contract_turnover,2023-03-31,1e309,亿元\n")
    assert problems(path) == ["2: value: '1e309' is not a finite number; give a finite number"]
    # finite as written, infinite once converted to the indicator's unit: refused, not "met"
    path = write(tmp_path, "conv.csv", HEAD + "tech_contract_turnover,2023-03-31,1e308,万亿元\n")
    assert problems(path) == [
        "2: value: '1e308' 万亿元 is out of the range targetkit computes with (in '亿元'); "
        "give 0 or a size between 1e-100 and 1e+100; check the value and its unit"
    ]
    for cell in ["-1e308", "1e-320", "1e101", "-1e-101"]:
        path = write(tmp_path, "x.csv", HEAD + f"tech_contract_turnover,2023-03-31,{cell},亿元\n")
        assert problems(path)[0].startswith(f"2: value: '{cell}' 亿元 is out of the range"), cell


def test_extreme_but_accepted_values_evaluate(tmp_path: Path) -> None:
    # 360 亿元 by year end, E = 25%: G = 100·(V/360) − 25; the milestone is behind (yellow)
    for cell, status, code in [
        ("-1e100", "off_track", 2),  # G ≈ −2.8e99
        ("-5", "behind", 1),  # G = −26.4
        ("1e-100", "behind", 1),  # G = −25
        ("0", "behind", 1),  # G = −25
        ("1e100", "met", 1),
    ]:
        path = write(tmp_path, "x.csv", HEAD + f"tech_contract_turnover,2023-03-31,{cell},亿元\n")
        got_code, statuses, _ = check_json(tmp_path, path)
        assert (statuses["tech_contract_turnover"], got_code) == (status, code), cell
        for fmt in (["-f", "table"], ["-f", "markdown"]):
            assert run_cli(["check", str(tmp_path / "plan.toml"), "-a", str(path), *fmt])[0] < 3
        report = ["report", str(tmp_path / "plan.toml"), "-a", str(path), "--as-of", "2023-06-30"]
        code_report, _, err = run_cli(report)
        assert (code_report, err) == (0, ""), cell


def test_plan_numbers_out_of_range(tmp_path: Path) -> None:
    for value, shown in [("1e101", "1e+101"), ("5e-324", "5e-324"), ("1e400", "inf")]:
        text = _BASE_TOML.replace('value = "360 亿元"', f'value = {value}, unit = "亿元"')
        with pytest.raises(tk.ConfigError) as info:
            tk.load(write(tmp_path, "plan.toml", text))
        assert_clear(info.value)
        [problem] = info.value.problems
        assert problem.path == "targets[0].rule.value"
        if value == "1e400":  # TOML reads it as inf
            assert problem.message == "expected a finite number (got inf)"
        else:
            assert problem.message == (
                f"must be 0 or between 1e-100 and 1e+100 in size (got {shown})"
            )
    # integers are unbounded in TOML; counts of days and ranks are not
    text = _BASE_TOML.replace("lag_days = 20", "lag_days = " + "9" * 40)
    with pytest.raises(tk.ConfigError) as info:
        tk.load(write(tmp_path, "plan.toml", text))
    assert info.value.problems[0].message.startswith(
        "must be between -1,000,000 and 1,000,000 (got 9999"
    )


def test_negative_value_is_read_and_judged(tmp_path: Path) -> None:
    path = write(tmp_path, "neg.csv", HEAD + "tech_contract_turnover,2023-03-31,-5,亿元\n")
    assert values(path) == [("tech_contract_turnover", "2023-03-31", -5.0, "亿元")]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"  \r\n\t\r\n", b"\xef\xbb\xbf"])
def test_empty_files(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "empty.csv", data)
    assert problems(path) == [
        "1: : the file is empty; a CSV needs a header line: "
        "indicator,date,value,unit[,reported_at,source,note]"
    ]
    code, _, err = check_json(tmp_path, path)
    assert code == 3
    assert (
        err
        == f"error: {path}:1: the file is empty; a CSV needs a header line: indicator,date,value,unit[,reported_at,source,note]\n"
    )


@pytest.mark.parametrize(
    "text", [HEAD, HEAD.strip(), "\n" + HEAD + "\n\n", HEAD.replace("\n", "\r\n")]
)
def test_header_only_file_has_no_rows(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "h.csv", text)
    assert len(tk.read_actuals(path, PLAN)) == 0
    code, statuses, _ = check_json(tmp_path, path)
    assert statuses["tech_contract_turnover"] == "no_data"
    assert statuses["action_plan_issued"] == "behind"  # due today, not done
    assert code == 1


def test_duplicate_header(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "indicator,date,value,Value,unit\n" + "x,2023-03-31,1,2,亿元\n")
    assert problems(path) == ["1: value: the column 'value' appears twice; keep one of them"]


@pytest.mark.parametrize("cell", ["=SUM(A1:A3)", '"=SUM(A1,A3)"', "=B2*1.1"])
def test_formula_cells(tmp_path: Path, cell: str) -> None:
    path = write(tmp_path, "f.csv", HEAD + f"tech_contract_turnover,2023-03-31,{cell},亿元\n")
    [line] = problems(path)
    assert line.endswith(
        "is not a number; this is a spreadsheet formula: export the computed value instead"
    )


def test_huge_file_loads(tmp_path: Path) -> None:
    start = dt.date(2023, 1, 1)
    days = [(start + dt.timedelta(days=i % 365)).isoformat() for i in range(200_000)]
    # each day revised about 550 times: (date, reported_at) pairs never repeat
    revised = [
        (dt.date(2024, 1, 1) + dt.timedelta(days=i // 365)).isoformat() for i in range(200_000)
    ]
    rows = [
        f"tech_contract_turnover,{d},{i % 997}.5,亿元,{r}\n"
        for i, (d, r) in enumerate(zip(days, revised, strict=True))
    ]
    path = write(tmp_path, "big.csv", "indicator,date,value,unit,reported_at\n" + "".join(rows))
    began = time.perf_counter()
    actuals = tk.read_actuals(path, PLAN)
    assert len(actuals) == 200_000
    assert time.perf_counter() - began < 30  # a few seconds on a laptop; generous for loaded CI
    evaluation = tk.evaluate(PLAN, actuals, as_of=dt.date(2023, 12, 31))
    assert evaluation.result("tech_contract_turnover").status is not None


def test_many_bad_rows_are_capped(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", HEAD + "tech_contract_turnover,2023-03-31,x,亿元\n" * 120)
    lines = problems(path)
    assert len(lines) == 51
    assert lines[-1] == "None: : … and 70 more problems; "


def test_binary_garbage_and_nul_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "bin.csv", bytes(range(256)) * 4)
    assert problems(path) == [
        "None: : is neither UTF-8 nor GB18030/GBK text; save the file as UTF-8 CSV"
    ]
    path = write(tmp_path, "nul.csv", HEAD + "tech_contract_turnover,2023-03-31,1\x00,亿元\n")
    assert problems(path)[0].startswith("2: value: '1\\x00' is not a number")


def test_cli_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", HEAD + ROW + "tech_contract_turnover,2023-04-31,1,亿圆\n")
    code, _, err = check_json(tmp_path, path)
    assert code == 3
    assert err.splitlines() == [
        f"error: {path}:3: date: '2023-04-31' is not a valid date (day is out of range for month); "
        "write a date as 2023-06-30, 2023/6/30 or 2023年6月30日, or a month as 2023-06 or "
        "2023年6月 (meaning its last day)",
        f"error: {path}:3: unit: unit '亿圆' is not defined (indicator 'tech_contract_turnover' is "
        "in '亿元'); did you mean '亿吨' or '亿元' or '个亿'?",
    ]


def test_cli_good_mess_gives_the_right_status(tmp_path: Path) -> None:
    text = "\ufeffindicator,date,value,unit\r\n\r\n tech_contract_turnover ,2023年1-3月, １２０ ,亿元 \r\n"
    path = write(tmp_path, "mess.csv", text.encode("utf-8"))
    code, statuses, _ = check_json(tmp_path, path)
    # 120/360 = 33.3% against 25% expected: on track; the milestone due today is behind
    assert statuses["tech_contract_turnover"] == "on_track"
    assert statuses["action_plan_issued"] == "behind"
    assert code == 1
    code, statuses, _ = check_json(tmp_path, path, "--fail-on", "never")
    assert code == 0


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2023-02-30", "'2023-02-30' is not a valid date (day is out of range for month)"),
        ("45107", "'45107' is not a date"),
    ],
)
def test_cli_bad_as_of(tmp_path: Path, as_of: str, message: str) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(_BASE_TOML, encoding="utf-8")
    argv = ["check", str(plan), "--as-of", as_of]
    code, out, err = run_cli(argv)
    assert_clean_exit(argv, code, out, err)
    assert code == 3
    assert message in err


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_cli_extreme_as_of(tmp_path: Path, as_of: str) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(_BASE_TOML, encoding="utf-8")
    for command in (["check", "-f", "json"], ["report"]):
        argv = [command[0], str(plan), "--as-of", as_of, *command[1:]]
        code, out, err = run_cli(argv)
        assert_clean_exit(argv, code, out, err)


def test_gbk_plan_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "plan.toml", _BASE_TOML.encode("gbk"))
    with pytest.raises(tk.ConfigError) as info:
        tk.load(path)
    assert str(info.value) == f"{path}: is not UTF-8 text; save the plan file as UTF-8"


def test_plan_with_bom_and_crlf_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "plan.toml", ("\ufeff" + _BASE_TOML).replace("\n", "\r\n"))
    assert tk.dump(tk.load(path)) == tk.dump(PLAN)


def test_plan_full_width_quantity(tmp_path: Path) -> None:
    text = _BASE_TOML.replace('value = "360 亿元"', 'value = "３６０ 亿元"')
    assert tk.dump(tk.load(write(tmp_path, "plan.toml", text))) == tk.dump(PLAN)
    text = _BASE_TOML.replace('value = "360 亿元"', 'value = "360 亿圆"')
    with pytest.raises(tk.ConfigError) as info:
        tk.load(write(tmp_path, "plan.toml", text))
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'plan.toml'}:36: targets[0].rule.value: unit '亿圆' is not defined; "
        "did you mean '亿吨' or '亿元' or '个亿'?"
    ]


@pytest.mark.parametrize(
    ("period", "shown"),
    [
        ("0001-01-01, end = 0001-12-31", "0001-01-01..0001-12-31"),
        ("2023-01-01, end = 9999-12-31", "2023-01-01..9999-12-31"),
    ],
)
def test_plan_period_in_far_years(tmp_path: Path, period: str, shown: str) -> None:
    text = _BASE_TOML.replace("2023-01-01, end = 2023-12-31", period)
    text = text.replace("deadline = 2023-06-30", "")
    with pytest.raises(tk.ConfigError) as info:
        tk.load(write(tmp_path, "plan.toml", text))
    assert [str(p).split(": ", 1)[1] for p in info.value.problems] == [
        f"plan.period: the period {shown} is not within the years 1900–2199; "
        "check the years of start and end"
    ]
    for years in ("1900-01-01, end = 1900-12-31", "2199-01-01, end = 2199-12-31"):
        edge = write(
            tmp_path,
            "edge.toml",
            _BASE_TOML.replace("2023-01-01, end = 2023-12-31", years).replace(
                "deadline = 2023-06-30", ""
            ),
        )
        for as_of in ("0001-01-01", "9999-12-31"):
            argv = ["check", str(edge), "--as-of", as_of, "-f", "json"]
            assert_clean_exit(argv, *run_cli(argv))


def test_quantity_overflow_is_an_error() -> None:
    with pytest.raises(UnitError) as info:
        default_units().parse_quantity("1e999 亿元")
    assert info.value.message == "'1e999 亿元' is not a finite number"


@pytest.mark.parametrize("char", ["\x08", "\x7f"])
def test_draft_keeps_control_characters_out_of_toml(tmp_path: Path, char: str) -> None:
    text = f"2023年科技工作要点\n一、确保全年技术合同成交额达到360亿元。{char}高新技术企业净增100家。\n"
    source = write(tmp_path, "plan.txt", text)
    argv = ["draft", str(source), "-o", str(tmp_path / "draft.toml")]
    code, out, err = run_cli(argv)
    assert_clean_exit(argv, code, out, err)
    assert code == 0
    assert run_cli(["validate", str(tmp_path / "draft.toml")])[0] == 0


@pytest.mark.parametrize("unit", ["亿\n元", "5\nr", "亿元\n%"])
def test_line_break_inside_a_unit(tmp_path: Path, unit: str) -> None:
    # found by the atheris "units" target: the character check let a line break through
    with pytest.raises(UnitError) as info:
        default_units().check(unit)
    assert info.value.message == f"unit {unit!r} contains the character '\\n', which no unit uses"
    path = write(tmp_path, "u.csv", HEAD + f'tech_contract_turnover,2023-03-31,1,"{unit}"\n')
    assert problems(path)[0].startswith(f"2: unit: unit {unit!r} contains the character '\\n'")


def test_line_breaks_in_names_stay_on_one_line(tmp_path: Path) -> None:
    # found by the atheris "cli" target: a file name holding a line break split the error line
    name = str(tmp_path / "a\nb.csv")
    argv = ["check", str(tmp_path / "plan.toml"), "-a", name, "--format", "x\ny"]
    code, out, err = run_cli(argv)
    assert (code, out) == (3, "")
    assert err.startswith("targetkit check: argument --format/-f: invalid choice: 'x\\ny'")
    write(tmp_path, "plan.toml", _BASE_TOML)
    code, out, err = run_cli(argv[:4])
    assert (code, out) == (3, "")
    assert err == f"error: {tmp_path}/a\\nb.csv: no such file or folder; check the path\n"


def test_nul_byte_in_a_plan_path() -> None:
    code, out, err = run_cli(["validate", "plan\x00.toml"])
    assert (code, out) == (3, "")
    assert err == "targetkit: an argument holds a NUL byte, which no file name or value can hold\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["draft", "plan\x00.txt"],
        ["check", "PLAN", "--notify", "notify\x00.toml", "--dry-run"],
        ["report", "PLAN", "-o", "report\x00.html"],
    ],
    ids=["draft", "notify", "output"],
)
def test_nul_byte_in_a_path(tmp_path: Path, argv: list[str]) -> None:
    plan = write(tmp_path, "plan.toml", _BASE_TOML)
    argv = [str(plan) if a == "PLAN" else a for a in argv]
    code, out, err = run_cli(argv)
    assert_clean_exit(argv, code, out, err)


@pytest.mark.parametrize("key", ["lock_timeout", "timeout"])
def test_notify_huge_whole_number_seconds(tmp_path: Path, key: str) -> None:
    from targetkit.notify.settings import parse_settings

    table: dict[str, Any] = {"lock_timeout": 10**400} if key == "lock_timeout" else {}
    if key == "timeout":
        table["smtp"] = {"host": "smtp.example.org", "timeout": 10**400}
        table["routes"] = [{"to": ["a@example.org"]}]
    with pytest.raises(tk.ConfigError) as info:
        parse_settings(table, source="notify.toml", base_dir=tmp_path)
    assert_clear(info.value)
