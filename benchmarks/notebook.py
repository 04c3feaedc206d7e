"""How the analyst's notebook views scale: changes (环比) and the styled frame, against their inputs.

Run from the repository root::

    .venv/bin/python -m benchmarks.notebook            # 100, 1,000 and 10,000 targets
    .venv/bin/python -m benchmarks.notebook --quick    # small sizes, for a smoke test

The baseline, measured in the same run, is what every view starts from: building the results of
two evaluations (`Evaluation.results`, with their explanations). Each view is printed with its
time and its ratio to that baseline, so the cost the view adds on top is visible whatever the
machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

import targetkit as tk
from benchmarks.run import timed
from benchmarks.synthetic import plan_mapping, write_actuals

EARLIER, LATER = dt.date(2023, 6, 30), dt.date(2023, 7, 20)


def measure(n: int, repeat: int) -> None:
    mapping = plan_mapping(n)
    plan = tk.parse(mapping)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "actuals.csv"
        write_actuals(mapping, path)
        actuals = tk.read_actuals(path, plan)

    def both() -> tuple[tk.Evaluation, tk.Evaluation]:
        return tk.evaluate(plan, actuals, as_of=LATER), tk.evaluate(plan, actuals, as_of=EARLIER)

    def results() -> int:
        later, earlier = both()
        return len(later.results) + len(earlier.results)

    def changes() -> int:
        later, earlier = both()
        return len(later.changes(earlier).changed)

    def changes_html() -> int:
        later, earlier = both()
        return len(later.changes(earlier).to_html())

    def styled_html() -> int:
        later, _ = both()
        return len(later.styled().to_html())

    # one untimed run first: the first evaluation of an actuals table also sorts it (kept for
    # later evaluations), which is not a cost of any view
    results()
    base, _ = timed(results, repeat)
    print(f"{n:>6} targets  baseline (results of two evaluations): {base * 1000:9.1f} ms")
    for name, fn in (
        ("changes()", changes),
        ("changes().to_html()", changes_html),
        ("styled().to_html() (one evaluation)", styled_html),
    ):
        seconds, _ = timed(fn, repeat)
        print(f"{'':>14}{name:<38} {seconds * 1000:9.1f} ms  x{seconds / base:5.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    args = parser.parse_args(argv)
    sizes = [50, 200] if args.quick else [100, 1000, 10000]
    for n in sizes:
        # the best of three runs; one run at the largest size, which takes minutes
        measure(n, 1 if args.quick or n > 1000 else 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
