"""Backtest of the year-end forecast on series whose outcome is known.

Run from the repository root::

    .venv/bin/python -m benchmarks.forecast_backtest

For each series the forecast is made from the figures up to the end of July (what is known in
August) and compared with the year's figure. Two kinds of series:

- published national figures (tests/data/forecast/*.csv, with their addresses): last year's
  profile comes from each release's growth rate; the run rate alone is printed alongside, as the
  baseline the profile has to beat;
- the worked example (examples/yichang_2023): evaluated with targetkit as of 15 August 2023, the
  forecast of every pro-rated target against its figure at the year end (no last year's monthly
  figures there, so the run rate).

Printed: each series' error, whether the outcome fell inside [low, high], and per group the
median absolute error and the coverage.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import statistics
from collections.abc import Sequence
from pathlib import Path

import attrs

import targetkit as tk
from targetkit.forecast import Forecast, forecast_series

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "forecast"
EXAMPLE = ROOT / "examples" / "yichang_2023"
HELD_OUT = "national_2022_real_estate"


@attrs.frozen(kw_only=True)
class Case:
    """One forecast against its outcome."""

    group: str
    series: str
    method: str
    value: float
    low: float
    high: float
    outcome: float

    @property
    def error(self) -> float:
        """Return the relative error of the forecast (positive: too high)."""
        return (self.value - self.outcome) / self.outcome

    @property
    def inside(self) -> bool:
        """Return whether the outcome fell inside [low, high]."""
        return self.low <= self.outcome <= self.high


def _case(group: str, series: str, made: Forecast, outcome: float) -> Case:
    return Case(
        group=group,
        series=series,
        method=made.method.value,
        value=made.value,
        low=made.low,
        high=made.high,
        outcome=outcome,
    )


def published(path: Path, *, cutoff_month: int = 7, profile: bool = True) -> list[Case]:
    """Return the cases of one file of published figures (see tests/data/forecast/README.md)."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cases: list[Case] = []
    for indicator in dict.fromkeys(r["indicator"] for r in rows):
        mine = [r for r in rows if r["indicator"] == indicator]
        dates = [dt.date.fromisoformat(r["date"]) for r in mine]
        year = max(dates).year
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        values = [float(r["value"]) for r in mine]
        growth = [float(r["growth_pct"]) / 100 for r in mine]
        known = [(d, v) for d, v in zip(dates, values, strict=True) if d.month <= cutoff_month]
        past = [
            (d.replace(year=year - 1), v / (1 + g))
            for d, v, g in zip(dates, values, growth, strict=True)
        ]
        made = forecast_series(known, start=start, end=end, past=past if profile else ())
        outcome = dict(zip(dates, values, strict=True))[end]
        if made is not None:
            cases.append(_case(path.stem, mine[0]["name"], made, outcome))
    return cases


def worked_example(as_of: dt.date = dt.date(2023, 8, 15)) -> list[Case]:
    """Return the cases of the worked example: forecasts in August against the year's figures."""
    plan = tk.load_plan(EXAMPLE / "plan.toml")
    actuals = tk.read_actuals(EXAMPLE / "actuals", plan)
    august = tk.evaluate(plan, actuals, as_of=as_of)
    year_end = tk.evaluate(plan, actuals, as_of=dt.date(2024, 6, 30))
    cases: list[Case] = []
    for r in august:
        final = year_end.result(r.target)
        if r.forecast is None or final.actual is None or final.observed_on != plan.end:
            continue
        cases.append(_case("yichang_2023 (worked example)", r.title, r.forecast, final.actual))
    return cases


def summary(cases: Sequence[Case]) -> tuple[float, int, int]:
    """Return the median absolute error, how many outcomes fell inside, and how many cases."""
    mae = statistics.median(abs(c.error) for c in cases)
    return mae, sum(c.inside for c in cases), len(cases)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the backtest; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    groups: dict[str, list[Case]] = {}
    for path in sorted(DATA.glob("*.csv")):
        groups[path.stem] = published(path)
        groups[f"{path.stem}, run rate only"] = published(path, profile=False)
    groups["yichang_2023 (worked example)"] = worked_example()
    print(
        f"{'method':<9} {'forecast':>10} {'low':>10} {'high':>10} {'outcome':>10} {'error':>7}  in  series"
    )
    for name, cases in groups.items():
        print(f"-- {name}")
        for c in cases:
            print(
                f"{c.method:<9} {c.value:>10.1f} {c.low:>10.1f} {c.high:>10.1f} "
                f"{c.outcome:>10.1f} {100 * c.error:>+6.1f}%  {'yes' if c.inside else 'no ':<3} "
                f"{c.series}"
            )
    print()
    print("summary (forecast from figures up to July, outcome at year end)")
    for name, cases in groups.items():
        mae, inside, n = summary(cases)
        print(f"  {name:<48} median |error| {100 * mae:5.1f}%   inside {inside}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
