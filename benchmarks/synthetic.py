"""Deterministic synthetic plans and actuals for the benchmarks (and their smoke test).

A plan of N targets mixes every common rule kind in realistic proportions, each target on its own
indicator; actuals hold 12 month-end observations per indicator, a 2022-12-31 baseline where a
rule needs one, and revisions of about one row in ten. Units are mixed on purpose: amounts are
declared in 亿元 and half of their rows are written in 万元; persons are declared in 人 and half
their rows are in 名.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# (kind, indicator kind, unit, share of targets)
MIX = (
    ("at_least", "cumulative", "亿元", 0.30),
    ("at_least", "cumulative", "人", 0.15),
    ("net_increase", "stock", "家", 0.15),
    ("share", "cumulative", "亿元", 0.08),
    ("at_most", "cumulative", "万吨", 0.05),
    ("rank", "level", "", 0.05),
    ("increase", "level", "%", 0.07),
    ("milestone", "milestone", "", 0.15),
)
MONTH_ENDS = tuple(
    (dt.date(2023, m + 1, 1) if m < 12 else dt.date(2024, 1, 1)) - dt.timedelta(days=1)
    for m in range(1, 13)
)


def _kinds(n: int) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for kind, ind_kind, unit, share in MIX:
        out += [(kind, ind_kind, unit)] * round(n * share)
    while len(out) < n:
        out.append(MIX[0][:3])
    return out[:n]


def plan_mapping(n: int, seed: int = 7) -> dict[str, Any]:
    """Return a plan-file mapping with ``n`` targets."""
    rnd = random.Random(seed)
    indicators: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    for i, (kind, ind_kind, unit) in enumerate(_kinds(n)):
        tid = f"t{i:06d}"
        if kind == "milestone":
            targets.append({"id": tid, "title": f"目标{i}", "rule": {"kind": "milestone"}})
            continue
        if kind == "share":
            indicators.append(
                {"id": f"{tid}_num", "name": f"分子{i}", "unit": unit, "kind": ind_kind}
            )
            indicators.append(
                {"id": f"{tid}_den", "name": f"分母{i}", "unit": unit, "kind": ind_kind}
            )
            rule: dict[str, Any] = {
                "kind": "share",
                "numerator": f"{tid}_num",
                "denominator": f"{tid}_den",
                "value": 20,
            }
        else:
            indicators.append({"id": tid, "name": f"指标{i}", "unit": unit, "kind": ind_kind})
            if kind == "rank":
                rule = {"kind": "rank", "indicator": tid, "value": 3}
            elif kind == "increase":
                rule = {"kind": "increase", "indicator": tid}
            else:
                rule = {
                    "kind": kind,
                    "indicator": tid,
                    "value": float(rnd.randint(50, 500)),
                    "unit": unit,
                }
        targets.append(
            {"id": tid, "title": f"目标{i}", "binding": rnd.random() < 0.5, "rule": rule}
        )
    return {
        "plan": {
            "id": f"synthetic-{n}",
            "title": f"合成计划 {n}",
            "period": {"start": dt.date(2023, 1, 1), "end": dt.date(2023, 12, 31)},
        },
        "indicators": indicators,
        "targets": targets,
    }


def actual_rows(plan: dict[str, Any], seed: int = 11) -> Iterator[tuple[str, str, str, str, str]]:
    """Yield (indicator, date, value, unit, reported_at) rows for a plan mapping."""
    rnd = random.Random(seed)
    units = {i["id"]: i["unit"] for i in plan["indicators"]}
    kinds = {i["id"]: i["kind"] for i in plan["indicators"]}
    for target in plan["targets"]:
        rule = target["rule"]
        if rule["kind"] == "milestone":
            if rnd.random() < 0.6:
                day = MONTH_ENDS[rnd.randint(0, 11)]
                yield target["id"], day.isoformat(), "done", "", ""
            continue
        refs = [rule[k] for k in ("indicator", "numerator", "denominator") if k in rule]
        for ref in refs:
            unit, kind = units[ref], kinds[ref]
            goal = float(rule.get("value", 100.0))
            level = rnd.uniform(0.5, 1.5)
            base = goal * rnd.uniform(2, 5) if kind == "stock" else rnd.uniform(1, 30)
            if rule["kind"] == "share":
                base = 100.0 if ref.endswith("_num") else 500.0
            if kind in ("stock", "level") or rule["kind"] == "share":
                yield ref, "2022-12-31", _fmt(base), unit, ""
            for m, day in enumerate(MONTH_ENDS, start=1):
                if kind == "cumulative":
                    value = (
                        goal * level * m / 12 if rule["kind"] != "share" else base * m / 12 * level
                    )
                elif kind == "stock":
                    value = base + goal * level * m / 12
                else:
                    value = base * rnd.uniform(0.9, 1.1) if unit else float(rnd.randint(1, 8))
                shown, shown_unit = value, unit
                if unit == "亿元" and rnd.random() < 0.5:
                    shown, shown_unit = value * 10_000, "万元"
                elif unit == "人" and rnd.random() < 0.5:
                    shown_unit = "名"
                reported = day + dt.timedelta(days=10)
                yield ref, day.isoformat(), _fmt(shown), shown_unit, reported.isoformat()
                if rnd.random() < 0.1:  # a revision, reported later
                    revised = shown * rnd.uniform(0.95, 1.05)
                    yield (
                        ref,
                        day.isoformat(),
                        _fmt(revised),
                        shown_unit,
                        (reported + dt.timedelta(days=15)).isoformat(),
                    )


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def write_actuals(plan: dict[str, Any], path: Path) -> int:
    """Write the plan's actuals as a CSV file; return the number of rows."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["indicator", "date", "value", "unit", "reported_at"])
        for row in actual_rows(plan):
            writer.writerow(row)
            n += 1
    return n
