"""The forecast's backtest on published series with known outcomes (benchmarks/forecast_backtest)."""

from __future__ import annotations

import pytest
from benchmarks import forecast_backtest as backtest


def test_held_out_real_series_meets_the_bar() -> None:
    # eight figures of the 2022 national real-estate release, forecast from 1–7月, known at year end
    cases = backtest.published(backtest.DATA / f"{backtest.HELD_OUT}.csv")
    assert len(cases) == 8
    assert {c.method for c in cases} == {"profile"}
    mae, inside, total = backtest.summary(cases)
    assert total == 8
    assert mae <= 0.12
    assert inside >= 6


def test_the_profile_catches_a_back_loaded_series_the_run_rate_misses() -> None:
    # 房屋竣工面积: 32028 by July is 37% of the year's 86222; the straight line says 54905
    run = {
        c.series: c
        for c in backtest.published(backtest.DATA / f"{backtest.HELD_OUT}.csv", profile=False)
    }
    prof = {c.series: c for c in backtest.published(backtest.DATA / f"{backtest.HELD_OUT}.csv")}
    assert run["房屋竣工面积"].value == pytest.approx(32028 / (7 / 12))
    assert not run["房屋竣工面积"].inside
    assert prof["房屋竣工面积"].inside
    assert abs(prof["房屋竣工面积"].error) < abs(run["房屋竣工面积"].error)


def test_the_script_prints_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert backtest.main([]) == 0
    out = capsys.readouterr().out
    for words in ("national_2022_real_estate", "run rate only", "worked example", "median |error|"):
        assert words in out
