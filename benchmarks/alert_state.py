"""Alert state benchmarks: the lifecycle decision with silences and escalations, and pruning.

Run from the repository root::

    .venv/bin/python -m benchmarks.alert_state           # 2,000 alerts, 200,000 notices
    .venv/bin/python -m benchmarks.alert_state --quick   # small sizes, for a smoke test

Each figure is printed with a ratio against a baseline measured in the same process run:

- ``decide`` with 100 silences and 3 escalations against plain ``decide`` (no silences, no
  escalations), over the same snapshots;
- ``StateStore.prune`` (conditional deletes that keep queued notices, the latest run and the
  runs notices refer to, in one transaction) against an unconditional ``DELETE FROM outbox`` of
  the same file, the floor of what sqlite can do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from benchmarks.run import timed
from targetkit import Severity
from targetkit.state import (
    CurrentAlert,
    Escalation,
    Policy,
    Silence,
    Snapshot,
    StateStore,
    decide,
)

T0 = dt.datetime(2023, 7, 20, 0, 30, tzinfo=dt.UTC)
D0 = dt.date(2023, 7, 20)


def _snapshot(n: int, day: int) -> Snapshot:
    alerts = [
        CurrentAlert(
            key=f"t{i}:status",
            kind="status",
            target=f"t{i}",
            title=f"目标{i}",
            severity=Severity.WARNING if (i + day) % 3 else Severity.CRITICAL,
            status="behind" if (i + day) % 3 else "off_track",
            owner=f"单位{i % 20}",
            tags=(f"tag{i % 7}",),
        )
        for i in range(n)
    ]
    return Snapshot(
        plan_id="bench",
        plan_title="bench",
        as_of=D0 + dt.timedelta(days=day),
        alerts=alerts,
        statuses={f"t{i}": "behind" for i in range(n)},
    )


def _lifecycle(n: int, days: int, policy: Policy, silences: tuple[Silence, ...]) -> int:
    records: dict[str, object] = {}
    sent = 0
    for day in range(days):
        decision = decide(
            records,  # type: ignore[arg-type]
            _snapshots[(n, day)],
            now=T0 + dt.timedelta(days=day),
            policy=policy,
            silences=silences,
        )
        records.update({r.key: r for r in decision.records})
        sent += len(decision.notices)
    return sent


_snapshots: dict[tuple[int, int], Snapshot] = {}


def lifecycle(n: int, days: int, repeat: int) -> None:
    for day in range(days):
        _snapshots[(n, day)] = _snapshot(n, day)
    silences = tuple(
        Silence(
            id=i + 1,
            plan_id="bench",
            targets=tuple(f"t{j}" for j in range(i, n, 100)),
            until=D0 + dt.timedelta(days=days // 2),
            reason="bench",
            created_at=T0,
            created_as_of=D0,
        )
        for i in range(100)
    )
    escalations = (
        Escalation(name="a", runs=3),
        Escalation(name="b", days=10),
        Escalation(name="c", runs=5, owners=("单位1",)),
    )
    base, plain_sent = timed(lambda: _lifecycle(n, days, Policy(), ()), repeat)
    full, full_sent = timed(
        lambda: _lifecycle(n, days, Policy(escalations=escalations), silences), repeat
    )
    print(f"decide, {n} alerts × {days} runs")
    print(f"  plain                         {base * 1e3:9.1f} ms  1.00×  ({plain_sent} notices)")
    print(
        f"  100 silences + 3 escalations  {full * 1e3:9.1f} ms  {full / base:4.2f}×"
        f"  ({full_sent} notices)"
    )
    print(f"  per alert and run             {full / (n * days) * 1e6:9.2f} µs")


def _fill(path: Path, notices: int) -> None:
    with StateStore.open(path):
        pass
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO runs (id, plan, as_of, at, notices) VALUES (?, 'bench', ?, ?, 1)",
            [
                (i + 1, (D0 + dt.timedelta(days=i % 400)).isoformat(), "2023-07-20T00:30:00+00:00")
                for i in range(notices // 10)
            ],
        )
        db.executemany(
            "INSERT INTO outbox (run, plan, plan_title, channel, recipient, lang, notice, created,"
            " sent) VALUES (?, 'bench', 'bench', 'email', ?, 'zh', '{}', ?, ?)",
            [
                (
                    i // 10 + 1,
                    f"p{i % 50}@example.org",
                    "2023-07-20T00:30:00+00:00",
                    None if i % 1000 == 0 else "2023-07-20T00:31:00+00:00",
                )
                for i in range(notices)
            ],
        )


def pruning(notices: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        master = Path(tmp) / "master.sqlite"
        _fill(master, notices)
        work = Path(tmp) / "work.sqlite"

        def floor() -> int:
            shutil.copy(master, work)
            with sqlite3.connect(work, isolation_level=None) as db:
                db.execute("BEGIN IMMEDIATE")
                count = db.execute("DELETE FROM outbox").rowcount
                db.execute("COMMIT")
            return int(count)

        def prune() -> int:
            shutil.copy(master, work)
            with StateStore.open(work) as store:
                report = store.prune("bench", before=T0 + dt.timedelta(days=1))
            return report.notices

        copy, _ = timed(lambda: shutil.copy(master, work), repeat)
        base, floor_count = timed(floor, repeat)
        ours, pruned = timed(prune, repeat)
        base, ours = base - copy, ours - copy
        print(f"\nprune, {notices} notices ({notices // 1000} queued) and {notices // 10} runs")
        print(f"  floor: delete every row       {base * 1e3:9.1f} ms  1.00×  ({floor_count} rows)")
        print(
            f"  StateStore.prune              {ours * 1e3:9.1f} ms  {ours / base:4.2f}×"
            f"  ({pruned} notices; queued ones kept)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 3
    lifecycle(200 if args.quick else 2000, 10 if args.quick else 30, repeat)
    pruning(2000 if args.quick else 200_000, repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
