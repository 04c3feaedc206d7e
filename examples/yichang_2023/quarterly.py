"""Evaluate the Yichang 2023 plan at the end of each quarter, as an analyst would in a notebook.

Run it from the repository root::

    .venv/bin/python examples/yichang_2023/quarterly.py

Each cell-like block below is what you would type into Jupyter; `print` stands in for the
notebook's display. The notebook itself, with the change since the last quarter, the charts and
the styled table, is ``quarterly.ipynb`` next to this file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

import targetkit as tk

HERE = Path(__file__).resolve().parent

# 1. Load the plan and every actuals file (a folder of CSVs is read in name order).
plan = tk.load(HERE / "plan.toml")
actuals = tk.read_actuals(HERE / "actuals", plan)
print(f"{plan.title}: {len(plan.targets)} targets, {len(actuals)} observation rows")

# 2. Evaluate at each quarter's end and once the year's figures are in.
dates = [
    dt.date(2023, 3, 31),
    dt.date(2023, 6, 30),
    dt.date(2023, 9, 30),
    dt.date(2023, 12, 31),
    dt.date(2024, 1, 31),
]
evaluations = {d: tk.evaluate(plan, actuals, as_of=d) for d in dates}

# 3. One table: a status per target (rows) and date (columns).
statuses = pd.DataFrame(
    {d.isoformat(): ev.to_frame().set_index("target")["status"] for d, ev in evaluations.items()}
)
print(statuses.to_string())

# 4. Counts per status, per date: how the year went.
counts = pd.DataFrame({d.isoformat(): ev.summary for d, ev in evaluations.items()})
print(counts.to_string())

# 5. What needed attention at mid-year, with the sentence an official would read.
mid_year = evaluations[dt.date(2023, 6, 30)]
for alert in mid_year.alerts:
    print(f"[{alert.severity.value}] {alert.message()}")
