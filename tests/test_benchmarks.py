"""A tiny run of the benchmark script, so that it keeps working (no timing is asserted)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from benchmarks import run as bench
from benchmarks.synthetic import plan_mapping, write_actuals

import targetkit as tk
from targetkit.render.formats import render


def test_quick_benchmark_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for words in ("evaluate/floor", "growth", "naive per-target loop", "CLI start", "peak MiB"):
        assert words in out


def test_the_floor_and_targetkit_agree_on_simple_targets() -> None:
    # the floor is only a fair baseline if it does the same comparisons
    plan = tk.parse(plan_mapping(60))
    import tempfile
    from pathlib import Path

    from benchmarks.synthetic import write_actuals

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.csv"
        write_actuals(plan_mapping(60), path)
        actuals = tk.read_actuals(path, plan)
    ev = tk.evaluate(plan, actuals, as_of=bench.AS_OF)
    frame, targets = bench.floor_inputs(plan, actuals)
    floor = bench.floor_evaluate(frame, targets, bench.AS_OF).set_index("target")["status"]
    for r in ev.results:
        if r.rule_kind == "at_least" and r.unit in ("亿元", "人"):
            assert floor[r.target] == r.status.value, r.target
    assert ev.as_of == dt.date(2023, 7, 20)


def test_quick_alert_state_benchmark_prints_every_figure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks import alert_state

    assert alert_state.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for words in ("decide, 200 alerts", "100 silences + 3 escalations", "StateStore.prune"):
        assert words in out
    assert "(1998 notices; queued ones kept)" in out


def test_quick_sources_benchmark_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import sources

    assert sources.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for words in (
        "pandas.read_excel, openpyxl engine",
        "cells only: python-calamine",
        "duckdb:///",
    ):
        assert words in out


def test_the_commands_benchmark_times_every_command_and_its_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks import commands

    assert commands.main(["--sizes", "40"]) == 0
    out = capsys.readouterr().out
    for command in ("json", "csv", "validate", "report"):
        line = next(ln for ln in out.splitlines() if f" {command} " in ln)
        assert "targetkit" in line
        assert "floor" in line
        assert "peak RSS" in line
    # the goals, each with its figure and a verdict (nothing is asserted about the verdict)
    goals = out[out.index("goals (at 40 targets") :].splitlines()[1:]
    assert len(goals) == len(commands.GOALS)
    for (_, _, _, words), line in zip(commands.GOALS, goals, strict=True):
        assert line.strip().startswith(words)
        assert line.endswith(("— met", "— NOT met"))


def test_a_large_evaluation_is_written_whole_in_every_batch(tmp_path: Path) -> None:
    # more results and alerts than one write takes: every entry once, in order, one a line
    mapping = plan_mapping(700)
    plan = tk.parse(mapping)
    write_actuals(mapping, tmp_path / "a.csv")
    ev = tk.evaluate(plan, tk.read_actuals(tmp_path / "a.csv", plan), as_of=dt.date(2023, 7, 20))
    text = render(ev, "json")
    assert json.loads(text) == json.loads(json.dumps(ev.to_dict()))
    lines = text.splitlines()
    results = [line for line in lines if line.startswith('    {"target"')]
    assert len(results) == 700
    assert len(ev.alerts) > 256
    rows = list(csv.reader(io.StringIO(render(ev, "csv"))))
    assert len(rows) == 701
    assert [r[0] for r in rows[1:]] == [t.id for t in plan.targets]
