"""Shared fixtures: build plans and actuals from small texts, as a user would write them."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

import targetkit as tk

# Timing is for benchmarks/, not for tests: a loaded machine must not fail a property.
settings.register_profile("targetkit", deadline=None, print_blob=True)
settings.load_profile("targetkit")

PLAN_HEAD = """
[plan]
id = "demo"
title = "示例计划"
period = { start = 2023-01-01, end = 2023-12-31 }
"""


def make_plan(body: str, head: str = PLAN_HEAD) -> tk.Plan:
    """Parse a plan from TOML text (a [plan] head is prepended)."""
    text = textwrap.dedent(head) + textwrap.dedent(body)
    return tk.parse(tomllib.loads(text), source="plan.toml", text=text)


def make_actuals(plan: tk.Plan, csv_text: str) -> tk.Actuals:
    """Read actuals from CSV text (header included)."""
    frame = pd.read_csv(
        io.StringIO(textwrap.dedent(csv_text).strip()), dtype=str, keep_default_na=False
    )
    return tk.Actuals.from_frame(frame, plan, source="actuals.csv")


def check(plan: tk.Plan, csv_text: str, as_of: str) -> tk.Evaluation:
    """Evaluate a plan against CSV text at a date given as YYYY-MM-DD."""
    return tk.evaluate(plan, make_actuals(plan, csv_text), as_of=dt.date.fromisoformat(as_of))


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many examples each fuzz test ran and how they ended (see tests/test_fuzz.py)."""
    import sys

    fuzz = sys.modules.get("tests.test_fuzz")
    if fuzz is None or not fuzz.FUZZ_TALLY:
        return
    tally, seconds = fuzz.FUZZ_TALLY, fuzz.FUZZ_SECONDS
    terminalreporter.write_sep("=", f"fuzz: examples run (TARGETKIT_FUZZ_SCALE={fuzz.SCALE:g})")
    width = max(len(name) for name in tally)
    for name, counter in sorted(tally.items()):
        ends = ", ".join(f"{n} {what}" for what, n in sorted(counter.items()) if what != "examples")
        terminalreporter.write_line(
            f"{name:<{width}}  {counter['examples']:>6} examples  {seconds.get(name, 0):6.1f} s  "
            + ends
        )
    total = sum(c["examples"] for c in tally.values())
    terminalreporter.write_line(
        f"{'total':<{width}}  {total:>6} examples  {sum(seconds.values()):6.1f} s"
    )
