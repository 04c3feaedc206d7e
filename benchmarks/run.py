"""targetkit benchmarks: scale, the vectorised floor, the naive loop, and CLI start-up.

Run from the repository root::

    .venv/bin/python -m benchmarks.run            # full run (100 … 50,000 targets)
    .venv/bin/python -m benchmarks.run --quick    # small sizes, for a smoke test

Every figure is printed with a ratio against a baseline measured in the same process run, so
the figures can be compared across machines; absolute times vary with the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

import targetkit as tk
from benchmarks.synthetic import plan_mapping, write_actuals
from targetkit.render.formats import render

T = TypeVar("T")
AS_OF = dt.date(2023, 7, 20)
ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    """Return the best wall time of ``repeat`` runs (seconds) and the last result."""
    best = float("inf")
    result: Any = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_memory(fn: Callable[[], object]) -> float:
    """Return the peak memory (MiB) Python and numpy allocate while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


# --------------------------------------------------------------------------- the floor


def floor_inputs(plan: tk.Plan, actuals: tk.Actuals) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pre-converted float columns, as a hand-written pipeline would hold them."""
    frame = actuals.frame[["indicator", "date", "value", "reported_at"]].copy()
    rows = []
    for t in plan.targets:
        rule = t.rule
        ref = rule.indicator_ids()[0]
        goal = float(getattr(rule, "value", 1.0) or 1.0)
        rows.append((t.id, ref, goal, rule.kind))
    targets = pd.DataFrame(rows, columns=["target", "indicator", "goal", "kind"])
    return frame, targets


def floor_evaluate(frame: pd.DataFrame, targets: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The same comparisons in plain pandas/numpy: no units, no pace curves, no provenance."""
    cutoff = np.datetime64(as_of, "s")
    visible = (frame["date"].to_numpy() <= cutoff) & ~(frame["reported_at"].to_numpy() > cutoff)
    rows = frame.loc[visible].sort_values(["indicator", "date", "reported_at"], na_position="first")
    latest = rows.drop_duplicates("indicator", keep="last").set_index("indicator")
    base_rows = rows[rows["date"] == np.datetime64("2022-12-31", "s")]
    base = base_rows.drop_duplicates("indicator", keep="last").set_index("indicator")["value"]
    out = targets.join(latest[["date", "value"]], on="indicator")
    out["baseline"] = out["indicator"].map(base.to_dict())
    done = np.where(out["kind"] == "net_increase", out["value"] - out["baseline"], out["value"])
    completion = done / out["goal"].to_numpy()
    months = out["date"].dt.month.to_numpy()
    expected = months / 12.0
    gap = 100.0 * (completion - expected)
    out["status"] = np.select(
        [np.isnan(completion), completion >= 1.0, gap >= 0, gap >= -30],
        ["no_data", "met", "on_track", "behind"],
        "off_track",
    )
    return out


# --------------------------------------------------------------------------- the naive loop


def naive_evaluate(plan: tk.Plan, actuals: tk.Actuals, as_of: dt.date) -> list[str]:
    """The obvious loop: per target, scan its rows and build a pint Quantity per value."""
    import pint  # noqa: PLC0415 - the benchmark's own registry, as a naive script would build it

    ureg: pint.UnitRegistry[float] = pint.UnitRegistry(None)
    ureg.load_definitions(str(ROOT / "src" / "targetkit" / "units.txt"))
    f = actuals.frame
    dates = f["date"].to_numpy().astype("datetime64[D]").astype(object).tolist()
    reported = f["reported_at"].to_numpy().astype("datetime64[D]").astype(object).tolist()
    by_indicator: dict[str, list[tuple[dt.date, dt.date | None, float]]] = {}
    for ind, day, rep, value in zip(
        f["indicator"].tolist(), dates, reported, f["value"].tolist(), strict=True
    ):
        by_indicator.setdefault(str(ind), []).append((day, rep, float(value)))
    statuses = []
    for t in plan.targets:
        ref = t.rule.indicator_ids()[0]
        unit = plan.indicator(ref).unit
        best: tuple[dt.date, dt.date, Any] | None = None
        for day, rep, value in by_indicator.get(ref, []):
            if day > as_of or (rep is not None and rep > as_of):
                continue
            q = ureg.Quantity(value, unit or "")  # one Quantity per value
            key = (day, rep or dt.date.min)
            if best is None or key >= (best[0], best[1]):
                best = (key[0], key[1], q)
        if best is None:
            statuses.append("no_data")
            continue
        goal = ureg.Quantity(float(getattr(t.rule, "value", 1.0) or 1.0), unit or "")
        completion = float((best[2] / goal).to("").magnitude)
        gap = 100 * (completion - best[0].month / 12)
        statuses.append(
            "met"
            if completion >= 1
            else "on_track"
            if gap >= 0
            else "behind"
            if gap >= -30
            else "off_track"
        )
    return statuses


# --------------------------------------------------------------------------- runs


def scale(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            mapping = plan_mapping(n)
            plan = tk.parse(mapping)
            path = Path(tmp) / f"actuals_{n}.csv"
            rows = write_actuals(mapping, path)
            t_load, actuals = timed(functools.partial(tk.read_actuals, path, plan), repeat)
            # the first evaluation of a freshly loaded plan compiles it and sorts the actuals;
            # a warm one reuses both (a compiled plan and sorted actuals the caller keeps).
            # Best of `repeat` plans, each parsed anew; once with the rows as the file lists
            # them (by indicator and date) and once shuffled, which the sort must reorder.
            t_first = _first(mapping, actuals, repeat)
            t_first_shuffled = _first(mapping, _shuffled(actuals), repeat)
            parts = _first_parts(mapping, actuals, repeat)
            compiled = tk.compile_plan(plan)
            sorted_actuals = compiled.sort(actuals)
            t_eval, ev = timed(
                functools.partial(tk.evaluate, compiled, sorted_actuals, as_of=AS_OF), repeat
            )
            # both on a fresh evaluation, as a user pays them the first time (an evaluation keeps
            # its forecasts, so a repeat on the same one would leave them out of the plain frame)
            t_plain, t_results = _paired(compiled, sorted_actuals, 1 if repeat == 1 else 5)
            t_frame, _ = timed(ev.to_frame, repeat)
            t_json, _ = timed(functools.partial(render, ev, "json"), repeat)
            frame, targets = floor_inputs(plan, actuals)
            t_floor, _ = timed(functools.partial(floor_evaluate, frame, targets, AS_OF), repeat)
            mem_load = peak_memory(functools.partial(tk.read_actuals, path, plan))
            mem_eval = peak_memory(functools.partial(_evaluate_to_frame, plan, actuals))
            records.append(
                {
                    "targets": n,
                    "rows": rows,
                    "load_s": t_load,
                    "evaluate_s": t_eval,
                    "evaluate_first_s": t_first,
                    "first_vs_warm": t_first / t_eval,
                    "evaluate_first_shuffled_s": t_first_shuffled,
                    **parts,
                    "first_shuffled_vs_warm": t_first_shuffled / t_eval,
                    "results_s": t_results,
                    "results_vs_plain_frame": t_results / t_plain,
                    "to_frame_s": t_frame,
                    "json_s": t_json,
                    "floor_s": t_floor,
                    "evaluate_vs_floor": t_eval / t_floor,
                    "peak_load_mib": mem_load,
                    "peak_evaluate_mib": mem_eval,
                }
            )
            print(
                f"{n:>7} targets {rows:>8} rows | load {t_load:7.3f}s  evaluate {t_eval:7.3f}s "
                f"(first {t_first:6.3f}s = {t_first / t_eval:4.1f}x warm, rows shuffled "
                f"{t_first_shuffled:6.3f}s = {t_first_shuffled / t_eval:4.1f}x)  "
                f"results {t_results:6.3f}s = {t_results / t_plain:4.1f}x to_frame(messages=False) {t_plain:6.3f}s  "
                f"to_frame {t_frame:6.3f}s  json {t_json:6.3f}s | floor {t_floor:6.3f}s  "
                f"evaluate/floor {t_eval / t_floor:5.2f}x | peak MiB load {mem_load:6.1f} evaluate {mem_eval:6.1f}",
                flush=True,
            )
    return records


@dataclasses.dataclass(frozen=True)
class _Rows:
    """An actuals table as evaluation reads it: its frame."""

    frame: pd.DataFrame


def _shuffled(actuals: tk.Actuals) -> _Rows:
    return _Rows(actuals.frame.sample(frac=1.0, random_state=0).reset_index(drop=True))


def _first(mapping: dict[str, Any], actuals: tk.Actuals | _Rows, repeat: int) -> float:
    """Return the best time of a first evaluation over ``repeat`` freshly parsed plans."""
    best = float("inf")
    for _ in range(repeat):
        fresh = tk.parse(mapping)
        t, _ = timed(functools.partial(tk.evaluate, fresh, actuals, as_of=AS_OF), 1)
        best = min(best, t)
    return best


def _first_parts(mapping: dict[str, Any], actuals: tk.Actuals, repeat: int) -> dict[str, float]:
    """Return the best times, over freshly parsed plans, of what a first evaluation adds to a
    warm one — compiling the plan and sorting the actuals — and of a floor for the compile:
    each target's fields read once (its rule's kind, indicator, value, unit and stretch, its
    deadline, pace, bands and warning window) and its indicator looked up, with nothing resolved,
    converted or arranged per kind."""
    best = {"compile_s": float("inf"), "sort_s": float("inf"), "read_floor_s": float("inf")}
    for _ in range(repeat):
        plan = tk.parse(mapping)
        gc.collect()
        start = time.perf_counter()
        targets = plan.targets
        rules = [t.rule for t in targets]
        for field in ("kind", "value", "unit", "stretch"):
            [getattr(r, field, None) for r in rules]
        plan.positions([r.indicator_ids()[0] for r in rules])
        for field in ("deadline", "pace", "thresholds", "warning_days"):
            [getattr(t, field) for t in targets]
        read = time.perf_counter() - start
        plan = tk.parse(mapping)
        gc.collect()
        start = time.perf_counter()
        compiled = tk.compile_plan(plan)
        middle = time.perf_counter()
        compiled.sort(actuals)
        end = time.perf_counter()
        for key, value in (
            ("compile_s", middle - start),
            ("sort_s", end - middle),
            ("read_floor_s", read),
        ):
            best[key] = min(best[key], value)
    return best


def _paired(compiled: tk.CompiledPlan, rows: tk.SortedActuals, rounds: int) -> tuple[float, float]:
    """Return the best times of `to_frame(messages=False)` and of all results, each built on a
    fresh evaluation (the judgement not timed), the two taken in turn so that the machine's
    drift falls on both alike."""
    plain = results = float("inf")
    for _ in range(rounds):
        for build in ("plain", "results"):
            evaluation = tk.evaluate(compiled, rows, as_of=AS_OF)
            gc.collect()
            start = time.perf_counter()
            if build == "plain":
                evaluation.to_frame(messages=False)
                plain = min(plain, time.perf_counter() - start)
            else:
                evaluation.results  # noqa: B018 - building them is what is timed
                results = min(results, time.perf_counter() - start)
    return plain, results


def _evaluate_to_frame(plan: tk.Plan, actuals: tk.Actuals) -> pd.DataFrame:
    return tk.evaluate(plan, actuals, as_of=AS_OF).to_frame()


def growth(records: list[dict[str, Any]]) -> None:
    """Print time per target relative to the smallest size ≥ 1,000: 1.0 means linear."""
    base = next((r for r in records if r["targets"] >= 1000), records[0])
    print("\ngrowth (time per target, relative to the first size ≥ 1,000; 1.00 = linear):")
    for r in records:
        cells = []
        for key in ("load_s", "evaluate_s", "to_frame_s", "json_s"):
            per = r[key] / r["targets"]
            cells.append(f"{key[:-2]} {per / (base[key] / base['targets']):5.2f}")
        print(f"  {r['targets']:>7}: " + "  ".join(cells))


# (what, record key, at most): ratios the rule-kind core aims for at the largest size run
GOALS = (
    ("all results within 3x of to_frame(messages=False)", "results_vs_plain_frame", 3.0),
    ("first evaluation of a freshly loaded plan within 2x of a warm one", "first_vs_warm", 2.0),
)


def goals(records: list[dict[str, Any]]) -> None:
    """Print each goal with its figure at the largest size, and whether it is met."""
    largest = max(records, key=lambda r: r["targets"])
    print(f"\ngoals (at {largest['targets']:,} targets):")
    for what, key, most in GOALS:
        figure = largest[key]
        verdict = "met" if figure <= most else "NOT met"
        print(f"  {what}: {figure:.2f}x — {verdict}")
    print(
        f"  (a first evaluation adds compiling the plan, {largest['compile_s']:.3f}s, and sorting "
        f"the actuals, {largest['sort_s']:.3f}s, to a warm one's {largest['evaluate_s']:.3f}s; "
        f"reading each target's fields once, without arranging them, takes "
        f"{largest['read_floor_s']:.3f}s)"
    )


def naive(n: int) -> None:
    mapping = plan_mapping(n)
    plan = tk.parse(mapping)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.csv"
        write_actuals(mapping, path)
        actuals = tk.read_actuals(path, plan)
    t_naive, _ = timed(lambda: naive_evaluate(plan, actuals, AS_OF), 1)
    t_eval, _ = timed(lambda: tk.evaluate(plan, actuals, as_of=AS_OF), 3)
    print(
        f"\nnaive per-target loop with a pint Quantity per value, {n} targets: {t_naive:.3f}s; "
        f"targetkit {t_eval:.3f}s: {t_naive / t_eval:.1f}x faster"
    )


def _rss_worker(n: int) -> None:
    """Load, evaluate and tabulate ``n`` targets in this process (run as a child by `peak_rss`)."""
    mapping = plan_mapping(n)
    plan = tk.parse(mapping)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.csv"
        write_actuals(mapping, path)
        actuals = tk.read_actuals(path, plan)
    tk.evaluate(plan, actuals, as_of=AS_OF).to_frame()


def peak_rss(n: int) -> None:
    """Print the peak resident memory of a fresh process that loads and evaluates ``n`` targets."""
    import resource  # noqa: PLC0415 - POSIX only, and only here

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--rss-worker", str(n)], check=True, cwd=ROOT
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    note = "" if peak > before else " (an earlier child was larger)"
    print(
        f"\npeak resident memory, {n} targets loaded, evaluated and tabulated in a fresh process: "
        f"{peak / 1024:.0f} MiB{note}"
    )


def cli_start(repeat: int) -> None:
    example = ROOT / "examples" / "yichang_2023"
    check = [
        sys.executable,
        "-m",
        "targetkit",
        "check",
        str(example / "plan.toml"),
        "--actuals",
        str(example / "actuals"),
        "--as-of",
        "2023-06-30",
        "--fail-on",
        "never",
    ]
    floor = [sys.executable, "-c", "import pandas, pint"]

    def run(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - start

    run(floor)  # warm the file cache
    t_check = statistics.median(run(check) for _ in range(repeat))
    t_floor = statistics.median(run(floor) for _ in range(repeat))
    print(
        f"\nCLI start: targetkit check on the Yichang example {t_check:.3f}s; "
        f"python -c 'import pandas, pint' {t_floor:.3f}s: {t_check / t_floor:.2f}x the import floor"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repeat (a smoke test)"
    )
    parser.add_argument("--sizes", type=int, nargs="*", help="target counts to run")
    parser.add_argument("--json", type=Path, help="also write the scale figures to this file")
    parser.add_argument("--rss-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_worker:
        _rss_worker(args.rss_worker)
        return 0
    sizes = args.sizes or ([20, 100] if args.quick else [100, 1000, 10_000, 50_000])
    repeat = 1 if args.quick else 3
    print(
        f"targetkit {tk.__version__}, Python {sys.version.split()[0]}, pandas {pd.__version__}, numpy {np.__version__}\n"
    )
    peak_rss(max(sizes))
    records = scale(sizes, repeat)
    growth(records)
    goals(records)
    naive(100 if args.quick else 1000)
    cli_start(1 if args.quick else 7)
    if args.json:
        args.json.write_text(json.dumps(records, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
