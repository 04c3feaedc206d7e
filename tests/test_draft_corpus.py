"""Score the drafter on real plan texts from other places and domains, annotated by hand.

Each ``tests/data/plans/NAME.txt`` is a stored copy of a real plan text (its source address in
the ``#`` header), and ``NAME.toml`` lists its numeric targets as a reader finds them (quote,
value, unit, kind, deadline, binding). A drafted number counts as found when a target of the
annotation has the same (value, unit) after scaling 万/亿 (1.5万人 = 15000 人); each annotated
number matches at most one drafted number. Milestones, bare increases and ranks read from 前列 carry no
number written in the text and are not scored here. A band drafted around X左右 (±5% of X) is
scored by the number written, X, its centre; its annotation gives X as ``value``.

The test prints recall and precision per document and overall, and fails only below the
regression floors, which sit a little under the figures measured when they were set.
"""

from __future__ import annotations

import math
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import targetkit as tk
from targetkit.draft import Draft, draft_plan
from targetkit.rules import kind_of

PLANS = Path(__file__).resolve().parent / "data" / "plans"
NAMES = sorted(p.stem for p in PLANS.glob("*.txt"))

# Regression floors (recall, precision) per set, a little under what was measured when they
# were set (see the printed tables). The "tuning" texts were read while the drafter's rules were
# written; the "check" texts, and later the "fresh" ones, were collected and annotated afterwards
# and measured before any change for them (check: recall 100%, precision 75.0%; fresh: 84.2%,
# 53.3%), then the general faults they showed were fixed. The "heldback" texts were collected
# and annotated later still, before the drafter was run on them (first measured: recall 96.7%
# 29/30, precision 80.6% 29/36, the misses: 2021's results reported by a speaker, read as
# targets, and a per-county cap); the general fault, a year a speaker reports on, was then
# fixed (96.7%, 100%). Falling below a floor is a regression to look at, not a threshold to tune.
FLOORS = {
    "tuning": (0.96, 0.97),
    "check": (0.95, 0.95),
    "fresh": (0.90, 0.95),
    "heldback": (0.95, 0.97),
}

_SCALES = (("万亿", 1e12), ("千万", 1e7), ("百万", 1e6), ("十万", 1e5), ("亿", 1e8), ("万", 1e4))

Number = tuple[float, str]


def plan_text(name: str) -> str:
    """Return the plan text of ``NAME.txt`` without its ``#`` header."""
    lines = (PLANS / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines) + "\n"


def annotation(name: str) -> dict[str, Any]:
    with (PLANS / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def normal(value: float, unit: str) -> Number:
    """Return (value, unit) with a leading 万/亿 of the unit scaled into the value."""
    for prefix, factor in _SCALES:
        if unit.startswith(prefix) and len(unit) > len(prefix):
            value, unit = value * factor, unit[len(prefix) :]
            break
    return (round(value, 6), unit)


def annotated_numbers(ann: dict[str, Any]) -> list[Number]:
    out: list[Number] = []
    for t in ann.get("targets", []):
        unit = "" if t["kind"] == "rank" else t["unit"]
        out.append(normal(float(t["value"]), unit))
        if "stretch" in t:
            out.append(normal(float(t["stretch"]), unit))
        if "high" in t:
            out.append(normal(float(t["high"]), unit))
    return out


def drafted_numbers(draft: Draft) -> list[Number]:
    out: list[Number] = []
    unwritten = {f.target_id for f in draft.findings if "前列 gives no number" in f.note}
    around = {f.target_id for f in draft.findings if "read as a band of ±5% around" in f.note}
    for target in draft.plan.targets:
        if target.id in unwritten:
            continue
        cfg = kind_of(target.rule).to_config(target.rule)
        unit = str(cfg.get("unit", ""))
        if target.id in around:
            out.append(normal((float(cfg["low"]) + float(cfg["high"])) / 2, unit))
            continue
        for key in ("value", "low", "high", "stretch"):
            if isinstance(cfg.get(key), int | float) and not isinstance(cfg.get(key), bool):
                out.append(normal(float(cfg[key]), unit))
    return out


def draft_of(name: str, ann: dict[str, Any]) -> Draft | None:
    """Draft as a user would: without --year, and with it only when the text does not say.

    Returns None when the drafter finds no target at all (a review, not a plan).
    """
    text = plan_text(name)
    try:
        try:
            return draft_plan(text, source=f"{name}.txt")
        except tk.ConfigError as exc:
            if "cannot tell the plan's year" not in str(exc):
                raise
            return draft_plan(text, year=int(ann["year"]), source=f"{name}.txt")
    except tk.ConfigError as exc:
        if "no quantitative or dated target" in str(exc):
            return None
        raise


def score(name: str) -> tuple[int, int, int]:
    """Return (matched, annotated, drafted) numbers of one document."""
    ann = annotation(name)
    expected = Counter(annotated_numbers(ann))
    draft = draft_of(name, ann)
    got = Counter(drafted_numbers(draft) if draft is not None else [])
    matched = sum((expected & got).values())
    return matched, sum(expected.values()), sum(got.values())


def _ratio(a: int, b: int) -> float:
    return a / b if b else math.nan


def test_every_text_has_an_annotation_with_its_source() -> None:
    assert len(NAMES) >= 15
    assert {annotation(n)["set"] for n in NAMES} == set(FLOORS)
    for name in NAMES:
        head = (PLANS / f"{name}.txt").read_text(encoding="utf-8").splitlines()[0]
        ann = annotation(name)
        assert head == f"# source: {ann['source']}", name
        for t in ann["targets"]:
            assert set(t) >= {"quote", "value", "unit", "kind", "deadline", "binding"}, (name, t)


def table(rows: list[tuple[str, int, int, int]], label: str) -> tuple[str, float, float]:
    """Return the printed table of ``rows`` with its overall recall and precision."""
    matched = sum(r[1] for r in rows)
    annotated = sum(r[2] for r in rows)
    drafted = sum(r[3] for r in rows)
    recall, precision = _ratio(matched, annotated), _ratio(matched, drafted)
    lines = [f"{label:34} {'found':>5} {'targets':>7} {'drafted':>7} {'recall':>7} {'prec.':>7}"]
    lines += [
        f"{name:34} {m:5} {a:7} {d:7} {_ratio(m, a):7.1%} {_ratio(m, d):7.1%}"
        for name, m, a, d in rows
    ]
    lines.append(
        f"{'overall':34} {matched:5} {annotated:7} {drafted:7} {recall:7.1%} {precision:7.1%}"
    )
    return "\n".join(lines), recall, precision


@pytest.mark.parametrize("which", list(FLOORS))
def test_recall_and_precision_on_real_plans(which: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(name, *score(name)) for name in NAMES if annotation(name)["set"] == which]
    text, recall, precision = table(rows, f"{which} set")
    with capsys.disabled():
        sys.stdout.write("\n" + text + "\n")
    assert recall >= FLOORS[which][0]
    assert precision >= FLOORS[which][1]


@pytest.mark.parametrize("name", NAMES)
def test_every_draft_is_a_valid_plan_file(name: str) -> None:
    draft = draft_of(name, annotation(name))
    if draft is None:
        assert annotation(name)["targets"] == []
        return
    tk.parse(tomllib.loads(draft.to_toml()), source=f"{name}.toml")
