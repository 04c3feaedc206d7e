"""Properties every evaluation must have, whatever the numbers: checked with hypothesis."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import attrs
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit import Status
from targetkit.actuals import _repeats
from targetkit.evaluation import _factorized, _sorted_by
from targetkit.rules import fmt

from .conftest import make_plan

# how good a status is; more progress must never move a target down this order
GOODNESS = {
    Status.MISSED: 0,
    Status.OFF_TRACK: 1,
    Status.BEHIND: 2,
    Status.ON_TRACK: 3,
    Status.MET: 4,
}

PLAN = make_plan(
    """
    [[indicators]]
    id = "turnover"
    name = "技术合同成交额"
    unit = "亿元"
    kind = "cumulative"

    [[indicators]]
    id = "firms"
    name = "高新技术企业数"
    unit = "家"
    kind = "stock"

    [[indicators]]
    id = "energy"
    name = "能源消费量"
    unit = "万吨"
    kind = "cumulative"

    [[indicators]]
    id = "va"
    name = "增加值"
    unit = "亿元"
    kind = "cumulative"

    [[indicators]]
    id = "gdp"
    name = "生产总值"
    unit = "亿元"
    kind = "cumulative"

    [[indicators]]
    id = "rank"
    name = "位次"
    unit = ""
    kind = "level"

    [[indicators]]
    id = "talent"
    name = "人才"
    unit = "人"
    kind = "cumulative"

    [[targets]]
    id = "turnover"
    title = "成交额360亿元"
    rule = { kind = "at_least", indicator = "turnover", value = 360, unit = "亿元" }

    [[targets]]
    id = "firms"
    title = "净增100家"
    rule = { kind = "net_increase", indicator = "firms", value = 100, unit = "家" }

    [[targets]]
    id = "energy"
    title = "能耗100万吨以内"
    rule = { kind = "at_most", indicator = "energy", value = 100, unit = "万吨" }

    [[targets]]
    id = "share"
    title = "占比20%"
    rule = { kind = "share", numerator = "va", denominator = "gdp", value = 20, unit = "%" }

    [[targets]]
    id = "rank"
    title = "前3"
    rule = { kind = "rank", indicator = "rank", value = 3 }

    [[targets]]
    id = "talent"
    title = "人才3000名"
    pace = "days"
    rule = { kind = "at_least", indicator = "talent", value = 3000, unit = "名" }
    """
)

dates = st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2023, 12, 31))
as_of_dates = st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2024, 6, 30))
# amounts as plans carry them: zero, or sizes within the range targetkit computes with
amounts = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1000))


def evaluate_rows(rows: list[tuple[str, dt.date, float, str]], as_of: dt.date) -> tk.Evaluation:
    frame = pd.DataFrame(rows, columns=["indicator", "date", "value", "unit"])
    return tk.evaluate(PLAN, tk.Actuals.from_frame(frame, PLAN), as_of=as_of)


def status_of(target: str, rows: list[tuple[str, dt.date, float, str]], as_of: dt.date) -> Status:
    return evaluate_rows(rows, as_of).result(target).status


@given(dates, as_of_dates, amounts, amounts)
def test_more_turnover_never_gives_a_worse_status(
    day: dt.date, as_of: dt.date, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    as_of = max(as_of, day)
    s_low = status_of("turnover", [("turnover", day, low, "亿元")], as_of)
    s_high = status_of("turnover", [("turnover", day, high, "亿元")], as_of)
    assert GOODNESS[s_low] <= GOODNESS[s_high]


@given(dates, as_of_dates, st.integers(0, 400), st.integers(0, 400))
def test_more_firms_never_gives_a_worse_status(
    day: dt.date, as_of: dt.date, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    as_of = max(as_of, day)
    base = ("firms", dt.date(2022, 12, 31), 500.0, "家")
    s_low = status_of("firms", [base, ("firms", day, 500.0 + low, "家")], as_of)
    s_high = status_of("firms", [base, ("firms", day, 500.0 + high, "家")], as_of)
    assert GOODNESS[s_low] <= GOODNESS[s_high]


@given(dates, as_of_dates, amounts, amounts)
def test_using_more_of_a_cap_never_gives_a_better_status(
    day: dt.date, as_of: dt.date, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    as_of = max(as_of, day)
    s_low = status_of("energy", [("energy", day, low, "万吨")], as_of)
    s_high = status_of("energy", [("energy", day, high, "万吨")], as_of)
    assert GOODNESS[s_low] >= GOODNESS[s_high]


@given(dates, as_of_dates, st.integers(1, 30), st.integers(1, 30))
def test_a_better_rank_never_gives_a_worse_status(
    day: dt.date, as_of: dt.date, a: int, b: int
) -> None:
    better, worse = sorted((a, b))
    as_of = max(as_of, day)
    base = ("rank", dt.date(2022, 12, 31), 5.0, "")
    s_better = status_of("rank", [base, ("rank", day, float(better), "")], as_of)
    s_worse = status_of("rank", [base, ("rank", day, float(worse), "")], as_of)
    assert GOODNESS[s_better] >= GOODNESS[s_worse]


@given(
    dates,
    as_of_dates,
    st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=5000)),
    st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=5000)),
)
def test_a_larger_numerator_never_gives_a_worse_share_status(
    day: dt.date, as_of: dt.date, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    as_of = max(as_of, day)
    base = [
        ("va", dt.date(2022, 12, 31), 900.0, "亿元"),
        ("gdp", dt.date(2022, 12, 31), 5000.0, "亿元"),
    ]
    s_low = status_of(
        "share", [*base, ("va", day, low, "亿元"), ("gdp", day, 5000.0, "亿元")], as_of
    )
    s_high = status_of(
        "share", [*base, ("va", day, high, "亿元"), ("gdp", day, 5000.0, "亿元")], as_of
    )
    assert GOODNESS[s_low] <= GOODNESS[s_high]


@given(dates, as_of_dates, st.integers(0, 10_000_000))
def test_the_unit_a_value_is_given_in_never_changes_the_status(
    day: dt.date, as_of: dt.date, wan: int
) -> None:
    # the same amount as 亿元, 万元 and 元; the same people as 人 and 名
    as_of = max(as_of, day)
    yi = wan / 10_000
    in_yi = evaluate_rows([("turnover", day, yi, "亿元"), ("talent", day, wan / 1000, "人")], as_of)
    in_wan = evaluate_rows(
        [("turnover", day, float(wan), "万元"), ("talent", day, wan / 1000, "名")], as_of
    )
    in_yuan = evaluate_rows(
        [("turnover", day, wan * 10_000.0, "元"), ("talent", day, wan / 1000, "人")], as_of
    )
    for target in ("turnover", "talent"):
        statuses = {ev.result(target).status for ev in (in_yi, in_wan, in_yuan)}
        assert len(statuses) == 1, (target, statuses)


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["turnover", "firms", "va", "gdp", "talent"]),
        st.dates(min_value=dt.date(2022, 12, 31), max_value=dt.date(2023, 12, 31)),
        st.integers(0, 2000),
        st.one_of(
            st.none(), st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2024, 3, 1))
        ),
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda r: (r[0], r[1], r[3]),
)
UNITS = {"turnover": "亿元", "firms": "家", "va": "亿元", "gdp": "亿元", "talent": "人"}


@settings(max_examples=60)
@given(rows_strategy, as_of_dates)
def test_row_order_never_changes_the_answer(
    rows: list[tuple[str, dt.date, int, dt.date | None]], as_of: dt.date
) -> None:
    frame = pd.DataFrame(
        [(i, d, float(v), UNITS[i], r) for i, d, v, r in rows],
        columns=["indicator", "date", "value", "unit", "reported_at"],
    )
    shuffled = frame.sample(frac=1.0, random_state=len(rows)).reset_index(drop=True)
    first = tk.evaluate(PLAN, tk.Actuals.from_frame(frame, PLAN), as_of=as_of).to_dict()
    second = tk.evaluate(PLAN, tk.Actuals.from_frame(shuffled, PLAN), as_of=as_of).to_dict()
    again = tk.evaluate(PLAN, tk.Actuals.from_frame(frame, PLAN), as_of=as_of).to_dict()
    assert first == again  # deterministic

    def without_lines(doc: dict[str, object]) -> dict[str, object]:
        # evidence names the row's line, which moves with the row: compare everything else
        results = doc["results"]
        assert isinstance(results, list)
        for r in results:
            for e in r["evidence"]:
                e.pop("line")
        return doc

    assert without_lines(first) == without_lines(second)


EVERY_KIND = tk.load(Path(__file__).parent / "data" / "every_kind.toml")
EVERY_UNITS = {
    "flow": ["亿元", "万元"],
    "stock": ["家"],
    "level": ["%"],
    "rank": [""],
    "den": ["万元", "亿元"],
    "ms": [""],
    "ms2": [""],
    "energy": ["万吨"],
}


def _shown(indicator: str, value: int) -> object:
    if indicator == "ms":
        return "done" if value % 3 else "0"
    if indicator == "ms2":
        return ("done", "0", "approved", "started")[value % 4]
    if indicator == "level":
        return value / 1000
    if indicator == "rank":
        return value % 10 + 1
    return value


every_rows = st.lists(
    st.tuples(
        st.sampled_from(sorted(EVERY_UNITS)),
        st.dates(min_value=dt.date(2021, 12, 1), max_value=dt.date(2024, 1, 31)),
        st.integers(0, 4000),
        st.one_of(
            st.none(), st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2024, 3, 1))
        ),
        st.integers(0, 1),
    ),
    max_size=30,
    unique_by=lambda r: (r[0], r[1], r[3]),
)


@settings(max_examples=60)
@given(every_rows, st.dates(min_value=dt.date(2022, 12, 1), max_value=dt.date(2024, 6, 30)))
def test_a_target_judged_alone_is_judged_as_in_its_plan(
    rows: list[tuple[str, dt.date, int, dt.date | None, int]], as_of: dt.date
) -> None:
    # one judgement per kind over a batch: a batch of one gives the same result, sentence and
    # evidence included, as the target among all the others of its kind
    records = [
        (ind, day, _shown(ind, value), EVERY_UNITS[ind][pick % len(EVERY_UNITS[ind])], reported)
        for ind, day, value, reported, pick in rows
    ]
    frame = pd.DataFrame(records, columns=["indicator", "date", "value", "unit", "reported_at"])
    actuals = tk.Actuals.from_frame(frame, EVERY_KIND)
    whole = tk.evaluate(EVERY_KIND, actuals, as_of=as_of)
    for target in EVERY_KIND.targets:
        alone = tk.evaluate(attrs.evolve(EVERY_KIND, targets=(target,)), actuals, as_of=as_of)
        assert alone.results[0] == whole.result(target.id), target.id


def _assert_ordered_as_one_lexsort(rows: list[tuple[int, int, float]]) -> None:
    key = np.array([r[0] for r in rows], dtype=np.int64)
    then = np.array([r[1] for r in rows], dtype=np.int64)
    last = np.array([r[2] for r in rows], dtype=np.float64)
    expected = np.lexsort((last, then, key))
    assert _sorted_by(key, then, last).tolist() == expected.tolist()


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(-3, 3),
            st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 1)),
        ),
        max_size=60,
    )
)
def test_rows_are_ordered_as_one_lexsort_of_key_revision_and_value(
    rows: list[tuple[int, int, float]],
) -> None:
    # few distinct keys, so most rows tie on the key and are ordered by revision, then value
    _assert_ordered_as_one_lexsort(rows)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(-3, 3),
            st.one_of(st.just(math.nan), st.floats(-10, 10, allow_nan=False).map(round)),
        ),
        max_size=60,
    ),
    st.integers(0, 3),
)
def test_rows_listed_in_order_keep_the_order_one_lexsort_gives(
    rows: list[tuple[int, int, float]], swaps: int
) -> None:
    # as tables come: by key, each revision after what it revises (a few rows out of place,
    # and NaN values, which a lexsort puts last)
    rows = sorted(
        rows, key=lambda r: (r[0], r[1], math.isnan(r[2]), 0 if math.isnan(r[2]) else r[2])
    )
    for k in range(min(swaps, len(rows) - 1)):
        rows[k], rows[k + 1] = rows[k + 1], rows[k]
    _assert_ordered_as_one_lexsort(rows)


@given(
    st.lists(
        st.one_of(st.sampled_from(["a", "b", "", "研发"]), st.none(), st.just(math.nan)),
        max_size=40,
    ).flatmap(
        lambda xs: st.lists(st.integers(1, 12), min_size=len(xs), max_size=len(xs)).map(
            lambda ns: [x for x, n in zip(xs, ns, strict=True) for _ in range(n)]
        )
    )
)
def test_a_column_read_run_by_run_factorises_as_pandas_does(cells: list[object]) -> None:
    # columns of long runs (an indicator's months) and of short ones alike
    values = np.array(cells, dtype=object)
    codes, uniques = _factorized(values)
    want_codes, want_uniques = pd.factorize(values)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques)


NAIVE_FROM = dt.datetime(2022, 1, 1)  # noqa: DTZ001 - reported_at is a naive time, as read
NAIVE_TO = dt.datetime(2022, 1, 2)  # noqa: DTZ001


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "研发"]),
            st.sampled_from(["", "s1"]),
            st.one_of(st.none(), st.dates(dt.date(2022, 1, 1), dt.date(2022, 1, 9))),
            st.one_of(st.none(), st.datetimes(NAIVE_FROM, NAIVE_TO)),
        ),
        max_size=30,
    )
)
def test_repeated_rows_are_found_as_pandas_finds_them(
    rows: list[tuple[str, str, dt.date | None, dt.datetime | None]],
) -> None:
    frame = pd.DataFrame(
        {
            "indicator": pd.Series([r[0] for r in rows], dtype=object),
            "stage": pd.Series([r[1] for r in rows], dtype=object),
            "date": pd.Series([r[2] for r in rows], dtype="datetime64[s]"),
            "reported_at": pd.Series([r[3] for r in rows], dtype="datetime64[s]"),
        }
    )
    key = ["indicator", "stage", "date", "reported_at"]
    assert _repeats(frame, key) == bool(frame.duplicated(key).any())


@given(st.one_of(st.floats(-1e12, 1e12, allow_nan=False), st.sampled_from([9999.999, -9999.995])))
def test_a_number_in_a_sentence_reads_back_as_itself_to_two_decimals(value: float) -> None:
    text = fmt(value)
    plain = text.replace(",", "")
    assert float(plain) == float(f"{value:.2f}")
    assert not ("." in text and text.endswith(("0", ".")))  # no trailing zeros
    # thousands are grouped from 10,000 on, never below (9999.999 reads 10000)
    assert ("," in text) == (abs(value) >= 10000)
