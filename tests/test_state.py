"""Alert state: the pure lifecycle decision, then the sqlite file (schema, lock, outbox, errors)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import attrs
import pytest

from targetkit import Severity, Status
from targetkit.state import (
    RECEIVED,
    SCHEMA_VERSION,
    AlertRecord,
    ChangePolicy,
    CurrentAlert,
    Decision,
    Notice,
    NoticeKind,
    Policy,
    Snapshot,
    StateError,
    StateStore,
    decide,
    lock_path,
    read_history,
    read_records,
)

from .conftest import check, make_plan

T0 = dt.datetime(2023, 7, 20, 1, 0, tzinfo=dt.UTC)
D0 = dt.date(2023, 7, 20)
POLICY = Policy()


def alert(
    status: str = "behind",
    severity: Severity = Severity.WARNING,
    key: str = "turnover:status",
    target: str = "turnover",
    kind: str = "status",
) -> CurrentAlert:
    return CurrentAlert(
        key=key,
        kind=kind,
        target=target,
        title="技术合同成交额达到360亿元",
        severity=severity,
        status=status,
        owner="市科技局",
        tags=("成果转化",),
        message_zh="说明",
        message_en="details",
    )


def snap(
    *alerts: CurrentAlert, as_of: dt.date = D0, statuses: dict[str, str] | None = None
) -> Snapshot:
    return Snapshot(
        plan_id="demo",
        plan_title="示例计划",
        as_of=as_of,
        alerts=alerts,
        statuses=statuses if statuses is not None else {"turnover": "on_track"},
    )


class Lifecycle:
    """Feed snapshots through `decide`, keeping the records as the store would."""

    def __init__(self, policy: Policy = POLICY) -> None:
        self.records: dict[str, AlertRecord] = {}
        self.last_as_of: dt.date | None = None
        self.policy = policy

    def run(self, snapshot: Snapshot, now: dt.datetime) -> Decision:
        decision = decide(
            self.records, snapshot, now=now, policy=self.policy, last_as_of=self.last_as_of
        )
        if not decision.stale:
            self.records.update({r.key: r for r in decision.records})
            self.last_as_of = snapshot.as_of
        return decision


def kinds(decision: Decision) -> list[str]:
    return [n.kind.value for n in decision.notices]


# --------------------------------------------------------------------------- pure decisions


class TestDecide:
    def test_first_sight_notifies_new(self) -> None:
        decision = decide({}, snap(alert()), now=T0, policy=POLICY)
        [notice] = decision.notices
        assert notice.kind is NoticeKind.NEW
        assert notice.status == "behind"
        assert notice.previous_status == ""
        assert notice.first_seen_as_of == D0
        [record] = decision.records
        assert record.firing
        assert record.first_seen == T0
        assert record.last_notified == T0
        assert record.last_notified_as_of == D0

    def test_rerun_for_the_same_as_of_sends_nothing(self) -> None:
        life = Lifecycle()
        life.run(snap(alert()), T0)
        # even long after, the same as-of date repeats nothing
        assert kinds(life.run(snap(alert()), T0 + dt.timedelta(days=30))) == []

    def test_status_change_notifies_worse_and_better(self) -> None:
        life = Lifecycle()
        life.run(snap(alert("behind")), T0)
        worse = life.run(
            snap(alert("off_track", Severity.CRITICAL), as_of=D0 + dt.timedelta(days=1)),
            T0 + dt.timedelta(days=1),
        )
        [notice] = worse.notices
        assert notice.kind is NoticeKind.CHANGED
        assert (notice.previous_status, notice.status) == ("behind", "off_track")
        assert notice.first_seen_as_of == D0
        better = life.run(
            snap(alert("behind"), as_of=D0 + dt.timedelta(days=2)), T0 + dt.timedelta(days=2)
        )
        assert kinds(better) == ["changed"]
        assert better.notices[0].previous_status == "off_track"
        # routing keeps the episode's peak severity: whoever heard "critical" hears it improved
        assert better.notices[0].severity is Severity.WARNING
        assert better.notices[0].peak_severity is Severity.CRITICAL

    def test_unchanged_problem_repeats_after_the_interval(self) -> None:
        life = Lifecycle(Policy(repeat_interval=dt.timedelta(days=7)))
        life.run(snap(alert()), T0)
        day = dt.timedelta(days=1)
        assert kinds(life.run(snap(alert(), as_of=D0 + 6 * day), T0 + 6 * day)) == []
        repeat = life.run(snap(alert(), as_of=D0 + 7 * day), T0 + 7 * day)
        assert kinds(repeat) == ["repeat"]
        assert repeat.notices[0].first_seen_as_of == D0
        # the interval restarts from the repeat
        assert kinds(life.run(snap(alert(), as_of=D0 + 8 * day), T0 + 8 * day)) == []
        assert kinds(life.run(snap(alert(), as_of=D0 + 14 * day), T0 + 14 * day)) == ["repeat"]

    def test_repeat_needs_a_later_as_of_as_well_as_the_interval(self) -> None:
        life = Lifecycle()
        life.run(snap(alert()), T0)
        # backfilling the next day a second later: the interval has not passed
        assert kinds(life.run(snap(alert(), as_of=D0 + dt.timedelta(days=9)), T0)) == []

    def test_recovery_sends_one_resolved_notice(self) -> None:
        life = Lifecycle()
        life.run(snap(alert("off_track", Severity.CRITICAL)), T0)
        later = D0 + dt.timedelta(days=1)
        resolved = life.run(snap(as_of=later), T0 + dt.timedelta(days=1))
        [notice] = resolved.notices
        assert notice.kind is NoticeKind.RESOLVED
        assert (notice.previous_status, notice.status) == ("off_track", "on_track")
        assert notice.severity is Severity.CRITICAL
        record = life.records["turnover:status"]
        assert not record.firing
        assert record.last_resolved == T0 + dt.timedelta(days=1)
        for days in (2, 9, 30):
            quiet = life.run(snap(as_of=D0 + dt.timedelta(days=days)), T0 + dt.timedelta(days=days))
            assert kinds(quiet) == []

    def test_a_problem_that_comes_back_is_new_again(self) -> None:
        life = Lifecycle()
        life.run(snap(alert()), T0)
        life.run(snap(as_of=D0 + dt.timedelta(days=1)), T0 + dt.timedelta(days=1))
        back = life.run(snap(alert(), as_of=D0 + dt.timedelta(days=2)), T0 + dt.timedelta(days=2))
        [notice] = back.notices
        assert notice.kind is NoticeKind.NEW
        assert notice.previous_status == "on_track"
        assert notice.first_seen_as_of == D0 + dt.timedelta(days=2)
        assert life.records["turnover:status"].last_resolved == T0 + dt.timedelta(days=1)

    def test_worse_only_policy_updates_silently_on_improvement(self) -> None:
        life = Lifecycle(Policy(on_change=ChangePolicy.WORSE))
        life.run(snap(alert("off_track", Severity.CRITICAL)), T0)
        next_day = D0 + dt.timedelta(days=1)
        assert kinds(life.run(snap(alert("behind"), as_of=next_day), T0)) == []
        assert life.records["turnover:status"].status == "behind"
        worse = life.run(
            snap(alert("missed", Severity.CRITICAL), as_of=next_day + dt.timedelta(days=1)), T0
        )
        assert kinds(worse) == ["changed"]

    def test_no_resolved_notices_when_turned_off(self) -> None:
        life = Lifecycle(Policy(send_resolved=False))
        life.run(snap(alert()), T0)
        decision = life.run(snap(as_of=D0 + dt.timedelta(days=1)), T0)
        assert kinds(decision) == []
        assert not life.records["turnover:status"].firing

    def test_an_earlier_as_of_changes_nothing(self) -> None:
        life = Lifecycle()
        life.run(snap(alert(), as_of=D0), T0)
        stale = life.run(snap(as_of=D0 - dt.timedelta(days=20)), T0 + dt.timedelta(hours=1))
        assert stale.stale
        assert stale.notices == ()
        assert stale.records == ()

    def test_overdue_data_resolves_as_received(self) -> None:
        life = Lifecycle()
        overdue = alert("overdue", key="turnover:overdue:turnover", kind="overdue")
        # the target is still in the plan (statuses lists it); its figure came in
        assert kinds(life.run(snap(overdue), T0)) == ["new"]
        [notice] = life.run(snap(as_of=D0 + dt.timedelta(days=1)), T0).notices
        assert notice.kind is NoticeKind.RESOLVED
        assert notice.status == RECEIVED

    def test_a_target_removed_from_the_plan_is_resolved(self) -> None:
        life = Lifecycle()
        life.run(snap(alert()), T0)
        [notice] = life.run(snap(as_of=D0 + dt.timedelta(days=1), statuses={}), T0).notices
        assert (notice.kind, notice.status) == (NoticeKind.RESOLVED, "removed")

    def test_several_alerts_are_independent(self) -> None:
        life = Lifecycle()
        a = alert(key="a:status", target="a")
        b = alert(key="b:status", target="b")
        assert kinds(life.run(snap(a), T0)) == ["new"]
        decision = life.run(snap(a, b, as_of=D0 + dt.timedelta(days=1)), T0)
        assert [(n.kind.value, n.target) for n in decision.notices] == [("new", "b")]

    def test_the_clock_must_be_timezone_aware(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            decide({}, snap(alert()), now=dt.datetime(2023, 7, 20), policy=POLICY)  # noqa: DTZ001

    def test_the_repeat_interval_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            Policy(repeat_interval=dt.timedelta(0))


def test_notice_json_round_trip() -> None:
    [notice] = decide({}, snap(alert()), now=T0, policy=POLICY).notices
    assert Notice.from_json(notice.to_json()) == notice


PLAN = """
[[indicators]]
id = "turnover"
name = "技术合同成交额"
unit = "亿元"
kind = "cumulative"
cadence = "monthly"
lag_days = 20

[[targets]]
id = "turnover"
title = "技术成交额达到360亿元以上"
owner = "市科技局"
tags = ["成果转化"]
rule = { kind = "at_least", indicator = "turnover", value = 360, unit = "亿元" }
"""


def test_snapshot_of_an_evaluation() -> None:
    plan = make_plan(PLAN)
    # 60/360 against 6/12: off track, binding → critical; June's figure is in, July's not due
    ev = check(plan, "indicator,date,value,unit\nturnover,2023-06-30,60,亿元\n", "2023-07-20")
    snapshot = Snapshot.from_evaluation(ev)
    [current] = snapshot.alerts
    assert current.status == "off_track"
    assert current.severity is Severity.CRITICAL
    assert current.title == "技术成交额达到360亿元以上"
    assert current.tags == ("成果转化",)
    assert current.owner == "市科技局"
    assert current.message_zh == ev.result("turnover").message_zh
    assert snapshot.statuses == {"turnover": Status.OFF_TRACK.value}
    # in late August the July figure is overdue: a second alert, of kind overdue
    late = Snapshot.from_evaluation(
        check(plan, "indicator,date,value,unit\nturnover,2023-06-30,200,亿元\n", "2023-08-25")
    )
    [overdue] = late.alerts
    assert (overdue.kind, overdue.status) == ("overdue", "overdue")
    assert "2023-07-31" in overdue.message_zh


# --------------------------------------------------------------------------- the sqlite file


def route_all(notices: object) -> list[tuple[str, str, str, Notice]]:
    assert isinstance(notices, tuple)
    return [("email", "zhang@example.org", "zh", n) for n in notices]


def test_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.sqlite"
    with StateStore.open(path) as store:
        decision, items = store.run(snap(alert()), now=T0, policy=POLICY, route=route_all)
        assert kinds(decision) == ["new"]
        assert [i.recipient for i in items] == ["zhang@example.org"]
        assert [p.id for p in store.pending("demo")] == [items[0].id]
        store.mark_failed([items[0].id], now=T0, error="server down")
        [pending] = store.pending("demo")
        assert (pending.attempts, pending.last_error) == (1, "server down")
        store.mark_sent([items[0].id], now=T0, message_id="<m@x>")
        assert store.pending("demo") == []
        store.mark_sent([items[0].id], now=T0 + dt.timedelta(hours=1), message_id="<again>")
    assert lock_path(path).exists()
    records = read_records(path, "demo")
    assert records["turnover:status"].first_seen == T0
    assert records["turnover:status"].tags == ("成果转化",)
    [entry] = read_history(path, "demo")
    assert entry.delivered
    assert entry.item.message_id == "<m@x>"  # sent once: a second mark_sent changes nothing
    assert entry.item.attempts == 2
    assert entry.run_as_of == D0
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM targetkit_schema").fetchone() == (SCHEMA_VERSION,)


def test_rerun_through_the_store_queues_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    for _ in range(3):
        with StateStore.open(path) as store:
            store.run(snap(alert()), now=T0, policy=POLICY, route=route_all)
    assert len(read_history(path, "demo")) == 1


def test_read_only_access_never_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    assert StateStore.open_readonly(path) is None
    assert read_records(path, "demo") == {}
    assert read_history(path, "demo") == []
    assert not path.exists()


def test_a_failed_transaction_leaves_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"

    def broken_route(notices: object) -> list[tuple[str, str, str, Notice]]:
        raise RuntimeError("boom")

    with StateStore.open(path) as store, pytest.raises(RuntimeError):
        store.run(snap(alert()), now=T0, policy=POLICY, route=broken_route)
    assert read_records(path, "demo") == {}
    with StateStore.open(path) as store:
        decision, _ = store.run(snap(alert()), now=T0, policy=POLICY, route=route_all)
    assert kinds(decision) == ["new"]


class TestBadFiles:
    def test_garbage_is_a_clear_error_and_the_file_is_kept(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        garbage = b"this is not a database\n" * 200
        path.write_bytes(garbage)
        with pytest.raises(StateError) as info:
            StateStore.open(path)
        message = str(info.value)
        assert message.startswith(str(path))
        assert "not a readable targetkit alert state file" in message
        assert "move it aside" in message
        assert path.read_bytes() == garbage
        with pytest.raises(StateError):
            read_history(path, "demo")

    def test_a_damaged_database_is_a_clear_error(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        many = [alert(key=f"t{i}:status", target=f"t{i}") for i in range(300)]
        with StateStore.open(path) as store:
            store.run(snap(*many), now=T0, policy=POLICY, route=route_all)
        data = bytearray(path.read_bytes())
        for offset in range(4096 + 100, len(data), 1024):  # scribble over every page but the first
            data[offset : offset + 64] = b"\xff" * 64
        path.write_bytes(bytes(data))
        with pytest.raises(StateError, match=r"state\.sqlite: is (damaged|not a readable)"):
            StateStore.open(path)

    def test_a_newer_schema_is_refused_untouched(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        StateStore.open(path).close()
        with sqlite3.connect(path) as db:
            db.execute("UPDATE targetkit_schema SET version = ?", (SCHEMA_VERSION + 1,))
        before = path.read_bytes()
        with pytest.raises(StateError, match="newer targetkit") as info:
            StateStore.open(path)
        assert "upgrade targetkit" in str(info.value)
        assert path.read_bytes() == before

    def test_another_applications_database_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE accounts (id INTEGER)")
        with pytest.raises(StateError, match="not a targetkit alert state file"):
            StateStore.open(path)

    def test_an_empty_file_becomes_a_new_state_file(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        path.touch()
        StateStore.open(path).close()
        assert read_records(path, "demo") == {}


class TestLock:
    def test_a_lock_held_by_another_process_times_out_clearly(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        script = (
            "import fcntl, sys\n"
            f"f = open({str(lock_path(path))!r}, 'a+b')\n"
            "fcntl.flock(f, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
        )
        # a second process holding the lock, as a running job would
        with subprocess.Popen(
            [sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as holder:
            assert holder.stdout is not None
            assert holder.stdin is not None
            try:
                assert holder.stdout.readline().strip() == "locked"
                with pytest.raises(StateError, match="locked by another targetkit run"):
                    StateStore.open(path, lock_timeout=0.2)
            finally:
                holder.stdin.close()
                holder.wait(timeout=10)
        StateStore.open(path, lock_timeout=5).close()  # released when the process ended

    def test_two_runs_at_once_queue_once(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        StateStore.open(path).close()
        barrier = threading.Barrier(2)
        decisions: list[Decision] = []

        def one_run() -> None:
            barrier.wait()
            with StateStore.open(path, lock_timeout=10) as store:
                decision, _ = store.run(snap(alert()), now=T0, policy=POLICY, route=route_all)
                decisions.append(decision)

        threads = [threading.Thread(target=one_run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(len(d.notices) for d in decisions) == [0, 1]
        assert len(read_history(path, "demo")) == 1


def test_values_are_frozen() -> None:
    notice = decide({}, snap(alert()), now=T0, policy=POLICY).notices[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        notice.status = "met"  # type: ignore[misc]
