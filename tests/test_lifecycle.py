"""Alerts people can live with: silences, escalation (督办) and retention.

The pure decision first (`decide` with silences and escalations), then end to end with a real
SMTP server (aiosmtpd) and real sqlite files, the command line as cron runs it, a state file
written by targetkit's schema 1, and a pruning process killed with SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit.cli import main
from targetkit.notify import prune, silence, silences, unsilence, who_from
from targetkit.notify.settings import parse_after
from targetkit.state import (
    SCHEMA_VERSION,
    AlertRecord,
    Decision,
    Escalation,
    NoticeKind,
    Policy,
    Silence,
    Snapshot,
    StateError,
    StateStore,
    decide,
    plan_silence,
    read_history,
    read_records,
)

from .conftest import PLAN_HEAD, make_plan
from .test_notify import (
    DAY,
    PLAN,
    T0,
    SmtpServer,
    day,
    evaluation,
    free_port,
    one_route,
    parts,
    run,
    start_smtp,
    subject,
)
from .test_state import alert, snap

D0 = dt.date(2023, 7, 20)
REPO = Path(__file__).resolve().parent.parent
V1_STATE = Path(__file__).resolve().parent / "data" / "state-v1.sqlite"
# written by the previous release (schema 2) for examples/yichang_2023 at 2023-07-20, the SMTP
# server down: 10 alerts, 4 of them parts (tech_contract_turnover:status:伍家岗区 …), 10 notices
# queued. That release stored a part's alert with the whole's message; the next run mends it.
V2_STATE = Path(__file__).resolve().parent / "data" / "state-v2.sqlite"


POLICY = Policy()


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    server = start_smtp()
    yield server
    server.controller.stop()


def a_silence(
    until: dt.date, targets: tuple[str, ...] = ("turnover",), ended: dt.datetime | None = None
) -> Silence:
    return Silence(
        id=1,
        plan_id="demo",
        targets=targets,
        until=until,
        reason="约谈已开",
        created_at=T0,
        created_as_of=D0,
        ended_at=ended,
    )


class Lifecycle:
    """Feed snapshots through `decide` with silences, keeping the records as the store would."""

    def __init__(self, policy: Policy = POLICY, quiet: tuple[Silence, ...] = ()) -> None:
        self.records: dict[str, AlertRecord] = {}
        self.last_as_of: dt.date | None = None
        self.policy = policy
        self.quiet = quiet

    def run(self, snapshot: Snapshot, now: dt.datetime) -> Decision:
        decision = decide(
            self.records,
            snapshot,
            now=now,
            policy=self.policy,
            last_as_of=self.last_as_of,
            silences=self.quiet,
        )
        if not decision.stale:
            self.records.update({r.key: r for r in decision.records})
            self.last_as_of = snapshot.as_of
        return decision


def kinds(decision: Decision) -> list[str]:
    return [n.kind.value for n in decision.notices]


def on(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


# --------------------------------------------------------------------------- pure: silences


class TestSilenceDecision:
    def test_a_silenced_problem_sends_nothing_and_its_end_sends_once(self) -> None:
        life = Lifecycle(quiet=(a_silence(until=on(3)),))
        # silenced from the start: no new, no change, no repeat
        assert kinds(life.run(snap(alert(), as_of=on(0)), T0)) == []
        worse = alert("off_track", tk.Severity.CRITICAL)
        assert kinds(life.run(snap(worse, as_of=on(1)), T0 + DAY)) == []
        assert kinds(life.run(snap(worse, as_of=on(3)), T0 + 30 * DAY)) == []
        assert life.records["turnover:status"].silenced
        # the first as-of date after `until`: told once, as new (it was never told)
        decision = life.run(snap(worse, as_of=on(4)), T0 + 31 * DAY)
        assert kinds(decision) == ["new"]
        assert decision.notices[0].after_silence
        assert kinds(life.run(snap(worse, as_of=on(5)), T0 + 32 * DAY)) == []

    def test_the_end_of_a_silence_repeats_a_problem_already_told(self) -> None:
        life = Lifecycle(quiet=(a_silence(until=on(2)),))
        life.quiet = ()
        assert kinds(life.run(snap(alert(), as_of=on(0)), T0)) == ["new"]
        life.quiet = (a_silence(until=on(2)),)
        assert kinds(life.run(snap(alert(), as_of=on(1)), T0 + DAY)) == []
        decision = life.run(snap(alert(), as_of=on(3)), T0 + 2 * DAY)  # within repeat_interval
        assert kinds(decision) == ["repeat"]
        assert decision.notices[0].notified == 1  # on day 0; not on day 1, silenced

    def test_a_rerun_of_a_silenced_date_stays_silent(self) -> None:
        life = Lifecycle(quiet=(a_silence(until=on(5)),))
        for minutes in (0, 5, 60):
            assert kinds(life.run(snap(alert(), as_of=on(5)), T0 + minutes * DAY / 1440)) == []

    def test_a_silence_never_hides_another_target(self) -> None:
        rd = alert(key="rd:status", target="rd")
        life = Lifecycle(quiet=(a_silence(until=on(30)),))
        decision = life.run(snap(alert(), rd, as_of=on(0)), T0)
        assert [(n.kind.value, n.target) for n in decision.notices] == [("new", "rd")]

    def test_a_silence_by_owner_is_fixed_to_the_targets_of_that_day(self) -> None:
        plan = make_plan(PLAN)
        made = plan_silence(
            plan, owners=["市科技局"], until=on(30), reason="约谈", as_of=on(0), now=T0
        )
        assert made.targets == ("turnover",)
        # a target added later with the same owner is not covered
        newcomer = alert(key="new_one:status", target="new_one")
        decision = Lifecycle(quiet=(made,)).run(snap(alert(), newcomer, as_of=on(1)), T0)
        assert [n.target for n in decision.notices] == ["new_one"]

    def test_a_silence_covers_its_targets_only(self) -> None:
        held = a_silence(until=on(3), targets=("turnover", "rd"))
        assert held.covers("rd")
        assert not held.covers("other")

    def test_an_ended_silence_holds_nothing_from_its_end_on(self) -> None:
        ended = a_silence(until=on(30), ended=T0 + DAY)
        assert ended.active(as_of=on(0), now=T0)
        assert not ended.active(as_of=on(0), now=T0 + DAY)
        assert not a_silence(until=on(3)).active(as_of=on(4), now=T0)
        assert a_silence(until=on(3)).active(as_of=on(3), now=T0 + 100 * DAY)

    def test_a_resolution_under_a_silence_is_not_sent(self) -> None:
        life = Lifecycle()
        life.run(snap(alert(), as_of=on(0)), T0)
        life.quiet = (a_silence(until=on(9)),)
        assert kinds(life.run(snap(as_of=on(1)), T0 + DAY)) == []
        assert not life.records["turnover:status"].firing


class TestPlanSilence:
    def test_every_problem_is_listed_and_nothing_is_built(self) -> None:
        plan = make_plan(PLAN)
        with pytest.raises(tk.ConfigError) as info:
            plan_silence(
                plan,
                targets=["turnovr"],
                owners=["市科技"],
                tags=["未知"],
                until=on(-1),
                reason="  ",
                as_of=on(0),
                now=T0,
            )
        lines = info.value.lines()
        assert lines == [
            "targetkit alerts silence: --target: plan 'demo' has no target 'turnovr'; "
            "did you mean 'turnover'?",
            "targetkit alerts silence: --owner: no target of plan 'demo' has the owner '市科技'; "
            "did you mean '市科技局'?",
            "targetkit alerts silence: --tag: no target of plan 'demo' has the tag '未知'; "
            "tags in the plan: 成果转化、研发",
            "targetkit alerts silence: --until: 2023-07-19 is before the as-of date 2023-07-20 "
            "(a silence cannot end in the past); give a date on or after it, e.g. the day the "
            "figure is due",
            "targetkit alerts silence: --reason: the reason is empty; say why, e.g. --reason "
            '"R&D figure is published in autumn"',
        ]

    def test_no_target_chosen(self) -> None:
        with pytest.raises(tk.ConfigError, match="no target chosen"):
            plan_silence(make_plan(PLAN), until=on(1), reason="x", as_of=on(0), now=T0)

    def test_who_comes_from_the_environment(self) -> None:
        assert who_from({"TARGETKIT_USER": "王五", "USER": "root"}) == "王五"
        assert who_from({"USER": "zhang", "LOGNAME": "li"}) == "zhang"
        assert who_from({"LOGNAME": "li"}) == "li"
        assert who_from({}) == ""
        assert who_from({"TARGETKIT_USER": "evil\x1b]0;x\x07"}) == "evil]0;x"


# --------------------------------------------------------------------------- pure: escalation


class TestEscalationDecision:
    def test_after_three_runs_once_per_episode(self) -> None:
        rule = Escalation(name="督办", runs=3, to=("leader@example.org",))
        life = Lifecycle(policy=Policy(escalations=(rule,)))
        assert kinds(life.run(snap(alert(), as_of=on(0)), T0)) == ["new"]
        assert kinds(life.run(snap(alert(), as_of=on(1)), T0 + DAY)) == []
        assert kinds(life.run(snap(alert(), as_of=on(1)), T0 + DAY)) == []  # a rerun: not a run
        decision = life.run(snap(alert(), as_of=on(2)), T0 + 2 * DAY)
        assert kinds(decision) == ["escalated"]
        [notice] = decision.notices
        assert (notice.severity, notice.open_runs, notice.notified) == (
            tk.Severity.CRITICAL,
            3,
            1,
        )
        assert notice.open_since == on(0)
        for n in range(3, 12):
            assert "escalated" not in kinds(life.run(snap(alert(), as_of=on(n)), T0 + n * DAY))
        # a repeat in the escalated episode is critical; the resolution reaches the escalation
        resolved = life.run(snap(as_of=on(12)), T0 + 12 * DAY)
        assert kinds(resolved) == ["resolved"]
        assert resolved.notices[0].escalations == ("督办",)
        # a new episode escalates again
        for n in (13, 14):
            life.run(snap(alert(), as_of=on(n)), T0 + n * DAY)
        assert kinds(life.run(snap(alert(), as_of=on(15)), T0 + 15 * DAY)) == ["escalated"]

    def test_an_improvement_restarts_the_clock_and_worse_keeps_it(self) -> None:
        rule = Escalation(name="督办", days=30)
        life = Lifecycle(policy=Policy(escalations=(rule,)))
        life.run(snap(alert(), as_of=on(0)), T0)
        worse = alert("off_track", tk.Severity.CRITICAL)
        assert kinds(life.run(snap(worse, as_of=on(10)), T0 + 10 * DAY)) == ["changed"]
        assert kinds(life.run(snap(alert(), as_of=on(20)), T0 + 20 * DAY)) == ["changed"]
        assert kinds(life.run(snap(alert(), as_of=on(49)), T0 + 49 * DAY)) == ["repeat"]
        assert kinds(life.run(snap(alert(), as_of=on(50)), T0 + 50 * DAY)) == ["escalated"]

    def test_an_escalation_waits_for_the_end_of_a_silence(self) -> None:
        rule = Escalation(name="督办", runs=2)
        life = Lifecycle(policy=Policy(escalations=(rule,)), quiet=(a_silence(until=on(5)),))
        for n in range(6):
            assert kinds(life.run(snap(alert(), as_of=on(n)), T0 + n * DAY)) == []
        assert kinds(life.run(snap(alert(), as_of=on(6)), T0 + 6 * DAY)) == ["escalated", "new"]

    def test_an_escalation_takes_only_its_owners(self) -> None:
        rule = Escalation(name="督办", runs=1, owners=("别的单位",))
        decision = Lifecycle(policy=Policy(escalations=(rule,))).run(snap(alert()), T0)
        assert kinds(decision) == ["new"]

    def test_an_escalation_needs_one_positive_condition(self) -> None:
        with pytest.raises(ValueError, match="either runs or days"):
            Escalation(name="x")
        with pytest.raises(ValueError, match="either runs or days"):
            Escalation(name="x", runs=1, days=1)
        with pytest.raises(ValueError, match="runs must be at least 1"):
            Escalation(name="x", runs=0)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("3 runs", (3, None)), ("1 run", (1, None)), ("5次", (5, None)), ("30d", (None, 30))],
    )
    def test_after(self, text: str, expected: tuple[int | None, int | None]) -> None:
        assert parse_after(text) == expected
        assert parse_after("2w") == (None, 14)

    @pytest.mark.parametrize("text", ["3 rounds", "0 runs", "36h", "", "soon"])
    def test_bad_after(self, text: str) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through the CLI
            parse_after(text)


# --------------------------------------------------------------------------- over SMTP


def test_a_silenced_change_is_not_mailed_and_its_end_mails_once(
    mail: SmtpServer, tmp_path: Path
) -> None:
    settings = one_route(mail.port, tmp_path)
    plan = make_plan(PLAN)
    inbox = mail.inbox
    run(evaluation(150, 50, day(0)), settings, T0)
    assert len(inbox.received) == 1
    made = silence(
        plan,
        settings,
        targets=["turnover"],
        until=on(5),
        reason="已约谈市科技局",
        as_of=on(0),
        now=T0,
        who="王五",
    )
    assert made.id == 1
    report = run(evaluation(60, 50, day(1)), settings, T0 + DAY)  # worse: a change, silenced
    assert report.notices == ()
    assert report.silenced == 1
    for n in range(2, 6):
        run(evaluation(60, 50, day(n)), settings, T0 + n * DAY)
    assert len(inbox.received) == 1
    assert [s.id for s in silences(settings, "demo", as_of=on(5), now=T0 + 5 * DAY)] == [1]
    history = tk.notify.history_text(settings.state, "demo", as_of=on(5), now=T0 + 5 * DAY)
    assert "已静默至 2023-07-25（已约谈市科技局）" in history
    assert "设置人 王五" in history
    # day 6: the silence is over; the still-open problem is mailed once, changed or not
    run(evaluation(60, 50, day(6)), settings, T0 + 6 * DAY)
    assert [subject(r) for r in inbox.received[1:]] == [
        "[targetkit] 【严重】示例计划：仍未解决1项（截至2023-07-26）"
    ]
    assert "（静默已结束，问题仍未解决）" in parts(inbox.received[1].message)[0]
    for n in (7, 8):
        run(evaluation(60, 50, day(n)), settings, T0 + n * DAY)
    assert len(inbox.received) == 2
    assert silences(settings, "demo", as_of=on(6), now=T0 + 6 * DAY) == []


def test_unsilence_ends_a_silence_early(mail: SmtpServer, tmp_path: Path) -> None:
    settings = one_route(mail.port, tmp_path)
    plan = make_plan(PLAN)
    made = silence(
        plan, settings, tags=["研发"], until=on(60), reason="秋季公布", as_of=on(0), now=T0
    )
    run(evaluation(150, 20, day(0)), settings, T0)
    [first] = mail.inbox.received
    text, _ = parts(first.message)
    assert "技术合同成交额" in text
    assert "研发经费投入" not in text
    ended = unsilence(settings, "demo", made.id, now=T0 + DAY, who="王五")
    assert ended.ended_by == "王五"
    run(evaluation(150, 20, day(1)), settings, T0 + 2 * DAY)
    assert len(mail.inbox.received) == 2
    text, _ = parts(mail.inbox.received[1].message)
    assert "研发经费投入" in text
    assert "技术合同成交额" not in text
    run(evaluation(150, 20, day(2)), settings, T0 + 3 * DAY)
    assert len(mail.inbox.received) == 2
    with pytest.raises(StateError, match="already ended"):
        unsilence(settings, "demo", made.id, now=T0 + 4 * DAY)
    with pytest.raises(StateError, match="has no silence 7; its silences are 1"):
        unsilence(settings, "demo", 7, now=T0 + 4 * DAY)


ESCALATION = """
history_retention = "30d"

[[notify.escalations]]
name = "督办"
after = "3 runs"
to = ["局长 <leader@example.org>"]
"""


def test_escalation_after_three_runs_reaches_its_recipients_once(
    mail: SmtpServer, tmp_path: Path
) -> None:
    settings = one_route(mail.port, tmp_path, ESCALATION)
    inbox = mail.inbox
    for n in range(6):
        run(evaluation(150, 50, day(n)), settings, T0 + n * DAY)
        run(evaluation(150, 50, day(n)), settings, T0 + n * DAY)  # a rerun adds nothing
    to_leader = inbox.to("leader@example.org")
    assert [subject(r) for r in to_leader] == [
        "[targetkit] 【督办】示例计划：督办1项（截至2023-07-22）"
    ]
    text, html = parts(to_leader[0].message)
    assert "督办：问题持续未解决，请督促整改（1）" in text
    assert "持续情况：自2023-07-20起未解决，已连续3次检查未改善，此前已提醒1次" in text
    assert "完成年度目标" in text  # the figures
    assert "同一问题持续期间只发送一次" in text
    assert "督办" in html
    assert [r.rcpt_tos for r in inbox.received] == [["team@example.org"], ["leader@example.org"]]
    # resolved: the team and whoever it was escalated to hear it once
    run(evaluation(180, 50, day(6)), settings, T0 + 6 * DAY)
    assert sorted(r.rcpt_tos[0] for r in inbox.received[2:]) == [
        "leader@example.org",
        "team@example.org",
    ]
    assert all("已恢复1项" in subject(r) for r in inbox.received[2:])
    history = tk.notify.history_text(settings.state, "demo")
    assert "escalated" in history


def test_pruning_keeps_queued_notices(tmp_path: Path) -> None:
    port = free_port()
    settings = one_route(port, tmp_path, 'history_retention = "30d"')
    server = start_smtp(port)
    try:
        run(evaluation(150, 50, day(0)), settings, T0)  # new, delivered
        run(evaluation(180, 50, day(1)), settings, T0 + DAY)  # resolved, delivered
    finally:
        server.controller.stop()
    report = run(evaluation(60, 50, day(2)), settings, T0 + 2 * DAY)  # new again, queued
    assert report.failed
    # 40 days later the old episode and its notices go; the queued notice stays
    later = T0 + 42 * DAY
    dry = prune(settings, "demo", now=later, dry_run=True)
    assert (dry.notices, dry.problems) == (2, 0)  # the alert is firing again: kept
    assert len(read_history(settings.state, "demo")) == 3
    done = prune(settings, "demo", now=later)
    assert done.notices == 2
    [left] = read_history(settings.state, "demo")
    assert not left.delivered
    server = start_smtp(port)
    try:
        report = run(evaluation(60, 50, day(40)), settings, later)
        assert not report.failed
        assert [r.rcpt_tos for r in server.inbox.received] == [["team@example.org"]]
        assert "新增1项" in subject(server.inbox.received[0])
    finally:
        server.controller.stop()


def test_a_run_prunes_resolved_episodes_and_old_maildir_messages(tmp_path: Path) -> None:
    (tmp_path / "notify.toml").write_text('[notify]\nhistory_retention = "30d"\n')
    settings = tk.notify.load_settings(tmp_path / "plan.toml", tmp_path / "notify.toml")
    run(evaluation(150, 50, day(0)), settings, T0)
    run(evaluation(180, 50, day(1)), settings, T0 + DAY)
    box = settings.outbox / "new"
    messages = sorted(box.iterdir())
    assert len(messages) == 2
    old = (T0 - 100 * DAY).timestamp()
    os.utime(messages[0], (old, old))
    report = run(evaluation(180, 50, day(40)), settings, T0 + 40 * DAY)
    assert report.pruned is not None
    assert (report.pruned.notices, report.pruned.problems, report.pruned.messages) == (2, 1, 1)
    assert any(line.startswith("notify: pruned 2 delivered notices") for line in report.lines())
    assert read_records(settings.state, "demo") == {}
    assert sorted(box.iterdir()) == messages[1:]


# --------------------------------------------------------------------------- SIGKILL during pruning

_PRUNE_CHILD = """
import datetime as dt, sys, time
from targetkit.state import StateStore

def progress(step, count):
    print(step, count, flush=True)
    if step == "notices":
        time.sleep(600)  # the parent kills the process here, inside the transaction

with StateStore.open(sys.argv[1]) as store:
    store.prune("demo", before=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), progress=progress)
print("committed", flush=True)
"""


def _fill(path: Path, delivered: int, queued: int) -> None:
    """Write a state file with many delivered notices and a few queued ones."""
    with StateStore.open(path) as store:
        store.run(snap(alert()), now=T0, policy=Policy(), route=lambda ns: [])
    notice = decide({}, snap(alert()), now=T0, policy=Policy()).notices[0].to_json()
    with sqlite3.connect(path) as db:
        rows = [
            (1, "demo", "示例计划", "email", f"p{i}@example.org", "zh", notice, "2023-07-20")
            for i in range(delivered + queued)
        ]
        db.executemany(
            "INSERT INTO outbox (run, plan, plan_title, channel, recipient, lang, notice, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute(
            "UPDATE outbox SET sent = '2023-07-20T01:00:00+00:00' WHERE id <= ?", (delivered,)
        )


def test_sigkill_during_pruning_leaves_a_consistent_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    _fill(path, delivered=20_000, queued=3)
    child = subprocess.Popen(
        [sys.executable, "-c", _PRUNE_CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().split() == ["notices", "20000"]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    journal = path.with_name(path.name + "-journal")
    assert journal.stat().st_size > 0  # killed with the deletes pending
    history = read_history(path, "demo")  # rolls the hot journal back
    assert len(history) == 20_003
    assert sum(1 for h in history if not h.delivered) == 3
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # the next prune finishes the work and still keeps the queued notices
    with StateStore.open(path) as store:
        report = store.prune("demo", before=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        assert report.notices == 20_000
        assert len(store.pending("demo")) == 3


# --------------------------------------------------------------------------- schema 1 files


def _v1_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "plan"
    shutil.copytree(REPO / "docs" / "examples" / "first-plan", folder)
    (folder / ".targetkit").mkdir()
    shutil.copy(V1_STATE, folder / ".targetkit" / "state.sqlite")
    return folder


def test_a_schema_1_file_is_read_untouched_and_upgraded_in_place(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    state = folder / ".targetkit" / "state.sqlite"
    original = state.read_bytes()
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT max(version) FROM targetkit_schema").fetchone() == (1,)
    # reading (history, check's marks) never upgrades
    records = read_records(state, "demo-2023")
    assert sorted(records) == ["action_plan_issued:status", "hightech_net_increase:status"]
    read_only = records["hightech_net_increase:status"]
    assert (read_only.open_runs, read_only.notified) == (5, 3)  # as the upgrade will count
    assert len(read_history(state, "demo-2023")) == 6
    assert state.read_bytes() == original
    # the first run that writes upgrades it, keeping every record and the queued notice
    with StateStore.open(state) as store:
        assert store.version == SCHEMA_VERSION
        upgraded = store.records("demo-2023")
        assert [len(store.pending("demo-2023")), len(store.history("demo-2023"))] == [1, 6]
    lagging = upgraded["hightech_net_increase:status"]
    assert (lagging.firing, lagging.status, lagging.first_seen_as_of) == (
        True,
        "off_track",
        dt.date(2023, 6, 10),
    )
    assert (lagging.open_runs, lagging.notified) == (5, 3)  # counted from the runs it saw
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT version FROM targetkit_schema ORDER BY version").fetchall() == [
            (1,),
            (SCHEMA_VERSION,),
        ]


def test_a_failed_upgrade_leaves_the_schema_1_file_as_it_was(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    shutil.copy(V1_STATE, state)
    with sqlite3.connect(state) as db:  # a column in the way makes the upgrade fail halfway
        db.execute("CREATE TABLE silences (id INTEGER)")
    original = state.read_bytes()
    with pytest.raises(StateError, match="table silences already exists"):
        StateStore.open(state).close()
    assert state.read_bytes() == original
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT max(version) FROM targetkit_schema").fetchone() == (1,)
        columns = [row[1] for row in db.execute("PRAGMA table_info(alerts)")]
    assert "silenced" not in columns


def test_a_schema_1_file_through_the_command_line(mail: SmtpServer, tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    (folder / "notify.toml").write_text(
        textwrap.dedent(
            f"""
            [notify]
            state = ".targetkit/state.sqlite"

            [notify.smtp]
            host = "127.0.0.1"
            port = {mail.port}
            security = "none"

            [[notify.routes]]
            to = ["team@example.org"]
            """
        )
    )
    plan = str(folder / "plan.toml")
    notify = str(folder / "notify.toml")
    data = [str(folder / "actuals.csv"), str(folder / "july.csv")]
    out, err = _io()
    args = ["check", plan, "-a", data[0], "-a", data[1], "--as-of", "2023-08-01"]
    assert main([*args, "--notify", notify], stdout=out, stderr=err) == 2, err.getvalue()
    # the notice a schema 1 run left queued is delivered once, now
    assert [r.rcpt_tos for r in mail.inbox.received] == [["team@example.org"]]
    assert "仍未解决1项" in subject(mail.inbox.received[0])
    code = main(
        [
            "alerts",
            "silence",
            plan,
            "--target",
            "hightech_net_increase",
            "--until",
            "2023-09-30",
            "--reason",
            "等三季度数据",
            "--as-of",
            "2023-08-01",
            "--notify",
            notify,
        ],
        stdout=(out := _io()[0]),
        stderr=err,
    )
    assert (code, out.getvalue()) == (0, "1\n")


def _v2_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "yichang"
    shutil.copytree(REPO / "examples" / "yichang_2023", folder)
    (folder / ".targetkit").mkdir()
    shutil.copy(V2_STATE, folder / ".targetkit" / "state.sqlite")
    return folder


_PARTS_LAGGING = ["伍家岗区", "兴山县", "枝江市", "点军区"]


def test_a_schema_2_file_is_read_untouched_and_upgraded_in_place(tmp_path: Path) -> None:
    state = _v2_copy(tmp_path) / ".targetkit" / "state.sqlite"
    original = state.read_bytes()
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT max(version) FROM targetkit_schema").fetchone() == (2,)
    # reading (history, check's marks) never upgrades; the scope comes from the key meanwhile
    records = read_records(state, "yichang-2023-sti")
    assert len(records) == 10
    assert sorted(r.scope for r in records.values() if r.scope) == sorted(_PARTS_LAGGING)
    assert records["tech_contract_turnover:status:点军区"].target == "tech_contract_turnover"
    assert records["sci_loans_amount:status"].scope == ""
    history = tk.notify.history_text(state, "yichang-2023-sti")
    assert "  tech_contract_turnover@点军区  滞后  (warning, 2023-07-20 →)" in history
    assert sum("tech_contract_turnover@" in line for line in history.splitlines()) == 8
    notices = [e.item.notice for e in read_history(state, "yichang-2023-sti")]
    assert sorted(n.scope for n in notices if n.scope) == sorted(_PARTS_LAGGING)
    assert state.read_bytes() == original
    # the first store opened for writing upgrades it, keeping every record and queued notice
    with StateStore.open(state) as store:
        assert store.version == SCHEMA_VERSION == 3
        assert store.records("yichang-2023-sti") == records
        assert len(store.pending("yichang-2023-sti")) == 10
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT version FROM targetkit_schema ORDER BY version").fetchall() == [
            (2,),
            (3,),
        ]
        stored = db.execute("SELECT scope FROM alerts WHERE scope != '' ORDER BY scope").fetchall()
    assert [s for (s,) in stored] == sorted(_PARTS_LAGGING)


def test_a_failed_upgrade_leaves_the_schema_2_file_as_it_was(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    shutil.copy(V2_STATE, state)
    with sqlite3.connect(state) as db:  # the UPDATE after the ALTER TABLE fails: halfway
        db.execute(
            "CREATE TRIGGER in_the_way BEFORE UPDATE ON alerts"
            " BEGIN SELECT RAISE(ABORT, 'in the way'); END"
        )
    original = state.read_bytes()
    with pytest.raises(StateError, match="in the way"):
        StateStore.open(state).close()
    assert state.read_bytes() == original
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT max(version) FROM targetkit_schema").fetchone() == (2,)
        columns = [row[1] for row in db.execute("PRAGMA table_info(alerts)")]
    assert "scope" not in columns


def test_a_schema_2_file_through_the_command_line(mail: SmtpServer, tmp_path: Path) -> None:
    folder = _v2_copy(tmp_path)
    (folder / "notify.toml").write_text(
        textwrap.dedent(
            f"""
            [notify]
            state = ".targetkit/state.sqlite"

            [notify.smtp]
            host = "127.0.0.1"
            port = {mail.port}
            security = "none"

            [[notify.routes]]
            to = ["team@example.org"]
            """
        )
    )
    plan, notify = str(folder / "plan.toml"), str(folder / "notify.toml")
    data = ["actuals/2022-12-31_baseline.csv", "actuals/2023-03-31.csv", "actuals/2023-06-30.csv"]
    args = ["check", plan, "--as-of", "2023-07-20", "--notify", notify]
    for item in [*data, "districts"]:
        args += ["-a", str(folder / item)]
    out, err = _io()
    assert main(args, stdout=out, stderr=err) == 2, err.getvalue()
    # the notices the schema 2 run left queued are delivered once, now, naming the parts
    assert [r.rcpt_tos for r in mail.inbox.received] == [["team@example.org"]]
    plain, html = parts(mail.inbox.received[0].message)
    assert "(tech_contract_turnover@点军区)" in plain
    assert "(tech_contract_turnover@点军区)" in html
    records = read_records(folder / ".targetkit" / "state.sqlite", "yichang-2023-sti")
    # the rerun of the same date stores the part's own figures, not the whole's
    assert records["tech_contract_turnover:status:点军区"].message_zh.startswith(
        "1–6月累计 3.1 亿元，完成年度目标（8 亿元）的 38.8%"
    )
    out, err = _io()
    assert main(["alerts", "history", plan, "--notify", notify], stdout=out, stderr=err) == 0
    assert "tech_contract_turnover@点军区" in out.getvalue()


# --------------------------------------------------------------------------- the command line


def _io() -> tuple[io.StringIO, io.StringIO]:
    return io.StringIO(), io.StringIO()


def _plan_folder(tmp_path: Path) -> Path:
    (tmp_path / "plan.toml").write_text(textwrap.dedent(PLAN_HEAD) + textwrap.dedent(PLAN))
    (tmp_path / "actuals.csv").write_text(
        "indicator,date,value,unit\nturnover,2023-06-30,60,亿元\nrd,2023-06-30,20,亿元\n"
    )
    return tmp_path


def cli(*args: str) -> tuple[int, str, str]:
    out, err = _io()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_silence_through_the_command_line(tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    plan, data = str(folder / "plan.toml"), str(folder / "actuals.csv")
    code, out, err = cli(
        "alerts", "silence", plan, "--target", "rd", "--until", "2023-10-31",
        "--reason", "研发数据秋季发布", "--as-of", "2023-07-20",
    )  # fmt: skip
    assert (code, out) == (0, "1\n")
    assert "silence 1: rd silenced until 2023-10-31 (研发数据秋季发布)" in err
    code, out, _ = cli("check", plan, "-a", data, "--as-of", "2023-07-20", "--notify")
    assert code == 2
    assert "静默：\n  rd 已静默至 2023-10-31（研发数据秋季发布）" in out
    assert "notify: 1 new (as of 2023-07-20)" in out  # turnover only
    assert "1 open problem silenced" in out
    code, out, _ = cli("check", plan, "-a", data, "--as-of", "2023-07-20", "-f", "json")
    results = {r["target"]: r for r in json.loads(out)["results"]}
    assert results["rd"]["silenced"]["until"] == "2023-10-31"
    assert "silenced" not in results["turnover"]
    code, out, _ = cli("report", plan, "-a", data, "--as-of", "2023-07-20", "-f", "markdown")
    assert code == 0
    [row] = [line for line in out.splitlines() if line.startswith("| 研发经费投入")]
    assert "已静默至 2023-10-31（研发数据秋季发布）" in row
    code, out, _ = cli("report", plan, "-a", data, "--as-of", "2023-07-20", "--lang", "en")
    assert '<span class="silenced">silenced until 2023-10-31 (研发数据秋季发布)</span>' in out
    code, out, _ = cli("alerts", "silences", plan, "--as-of", "2023-07-20")
    assert out.startswith("1\trd\t已静默至 2023-10-31（研发数据秋季发布）\t生效中")
    code, out, _ = cli("alerts", "silences", plan, "--as-of", "2023-11-01")
    assert out == "没有生效中的静默（截至 2023-11-01）\n"
    code, out, _ = cli("alerts", "silences", plan, "--as-of", "2023-11-01", "--all")
    assert "\t已到期\t" in out
    assert cli("alerts", "unsilence", plan, "1")[0] == 0
    code, out, _ = cli("alerts", "silences", plan, "--all", "--lang", "en")
    assert "\tended " in out
    code, out, _ = cli("alerts", "prune", plan, "--dry-run", "--older-than", "400d")
    assert code == 0
    assert out.startswith("would prune 0 delivered notices")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--target", "rd", "--until", "2023-07-01", "--reason", "x"],
            "--until: 2023-07-01 is before the as-of date 2023-07-20",
        ),
        (
            ["--target", "rd", "--until", "next autumn", "--reason", "x"],
            "argument --until: ",
        ),
        (
            ["--target", "rdd", "--until", "2023-09-01", "--reason", "x"],
            "has no target 'rdd'; did you mean 'rd'?",
        ),
        (
            ["--owner", "市科技", "--until", "2023-09-01", "--reason", "x"],
            "did you mean '市科技局'?",
        ),
        (["--target", "rd", "--until", "2023-09-01", "--reason", " "], "the reason is empty"),
        (
            ["--target", "rd", "--until", "2023-09-01", "--reason", "ok\x1b[2J"],
            "--reason: the reason holds a control character (got 'ok\\x1b[2J')",
        ),
        (
            ["--target", "rd", "--until", "2023-09-01", "--reason", "长" * 501],
            "the reason is 501 characters long",
        ),
    ],
)
def test_bad_silences_are_clear_errors_and_write_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    folder = _plan_folder(tmp_path)
    code, out, err = cli(
        "alerts", "silence", str(folder / "plan.toml"), "--as-of", "2023-07-20", *args
    )
    assert code == 3
    assert out == ""
    assert expected in err
    assert "Traceback" not in err
    assert not (folder / ".targetkit").exists()


def test_bad_escalations_and_retention_are_clear_errors(tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    (folder / "notify.toml").write_text(
        textwrap.dedent(
            """
            [notify]
            history_retention = "12h"

            [[notify.escalations]]
            after = "3 rounds"
            to = ["leader@example.org"]

            [[notify.escalations]]
            after = "2 runs"
            """
        )
    )
    code, _, err = cli("check", str(folder / "plan.toml"), "--notify", str(folder / "notify.toml"))
    assert code == 3
    assert err.splitlines() == [
        f"error: {folder / 'notify.toml'}:3: notify.history_retention: must be at least one day "
        "(got '12h'); write a duration of whole days such as \"400d\" (or leave it out to keep "
        "everything)",
        f"error: {folder / 'notify.toml'}:6: notify.escalations[0].after: is neither a number "
        "of runs nor a number of days (got '3 rounds'); write after = \"3 runs\" (runs with the "
        'problem open) or after = "30d" (days)',
        f"error: {folder / 'notify.toml'}:9: notify.escalations[1].to: the key 'to' is missing; "
        'add to = ["leader@example.org"]',
    ]
    assert not (folder / ".targetkit").exists()


def test_prune_without_a_retention_says_how(tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    code, _, err = cli("alerts", "prune", str(folder / "plan.toml"))
    assert code == 3
    assert "notify.history_retention: is not set" in err
    assert "--older-than 400d" in err
    code, _, err = cli("alerts", "prune", str(folder / "plan.toml"), "--older-than", "12h")
    assert (code, "'12h' is shorter than a day; write e.g. 400d" in err) == (3, True)
    code, _, err = cli("alerts", "prune", str(folder / "plan.toml"), "--older-than", "soon")
    assert (code, "'soon' is not a duration" in err) == (3, True)
    assert not (folder / ".targetkit").exists()


def test_check_without_notify_warns_when_it_cannot_read_the_silences(tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    plan, data = str(folder / "plan.toml"), str(folder / "actuals.csv")
    (folder / ".targetkit").mkdir()
    (folder / ".targetkit" / "state.sqlite").write_bytes(b"not a database at all" * 50)
    code, out, err = cli("check", plan, "-a", data, "--as-of", "2023-07-20", "-f", "csv")
    assert code == 2
    assert out.startswith("target,")
    assert err.startswith("warning: silences not shown: ")
    assert "is not a readable targetkit alert state file" in err
    # with --notify the state file is the run's business: a clear error, exit 3
    code, _, err = cli("check", plan, "-a", data, "--as-of", "2023-07-20", "--notify")
    assert code == 3
    assert err.startswith("error: ")


def test_csv_output_and_a_report_with_a_separate_notify_file(tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    plan, data = str(folder / "plan.toml"), str(folder / "actuals.csv")
    (folder / "ops").mkdir()
    (folder / "ops" / "notify.toml").write_text('[notify]\nstate = "state.sqlite"\n')
    notify = str(folder / "ops" / "notify.toml")
    assert cli(
        "alerts", "silence", plan, "--target", "turnover", "--until", "2023-12-31",
        "--reason", "专项督导中", "--as-of", "2023-07-20", "--notify", notify,
    )[0] == 0  # fmt: skip
    assert (folder / "ops" / "state.sqlite").exists()
    code, out, err = cli(
        "check", plan, "-a", data, "--as-of", "2023-07-20", "-f", "csv", "--notify", notify
    )
    assert code == 2
    assert "静默" not in out  # CSV keeps its fixed columns
    assert "notify: 1 open problem silenced" in err  # notify's lines go to stderr with CSV
    code, out, _ = cli(
        "report", plan, "-a", data, "--as-of", "2023-07-20", "-f", "markdown", "--notify", notify
    )
    assert code == 0
    assert "已静默至 2023-12-31（专项督导中）" in out
    code, out, _ = cli("report", plan, "-a", data, "--as-of", "2023-07-20", "-f", "markdown")
    assert "已静默" not in out  # the plan's own [notify] names another state file


def test_unsilence_of_an_unknown_silence(tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    code, _, err = cli("alerts", "unsilence", str(folder / "plan.toml"), "3")
    assert code == 3
    assert "has no silence 3; it has none" in err
    for bad in ("x", "0", str(2**63)):
        code, _, err = cli("alerts", "unsilence", str(folder / "plan.toml"), bad)
        assert code == 3
        assert f"'{bad}' is not a silence number" in err


def test_two_runs_and_a_silence_at_once_keep_the_state_consistent(tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    plan, data = str(folder / "plan.toml"), str(folder / "actuals.csv")
    exe = [sys.executable, "-m", "targetkit"]
    commands = [
        [*exe, "check", plan, "-a", data, "--as-of", "2023-07-20", "--notify"],
        [*exe, "check", plan, "-a", data, "--as-of", "2023-07-20", "--notify"],
        [*exe, "alerts", "silence", plan, "--target", "rd", "--until", "2023-12-31",
         "--reason", "并发测试", "--as-of", "2023-07-20"],
    ]  # fmt: skip
    env = {**os.environ, "TARGETKIT_USER": "cron"}
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for c in commands
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [2, 2, 0], results
    state = folder / ".targetkit" / "state.sqlite"
    [made] = silences(state, "demo")
    assert made.created_by == "cron"
    history = read_history(state, "demo")
    # each alert is queued once, whichever order the three took the lock in
    assert len({h.item.notice.key for h in history}) == len(history)
    assert {h.item.notice.kind for h in history} == {NoticeKind.NEW}
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        runs = db.execute("SELECT count(*), sum(notices) FROM runs").fetchone()
    assert runs[0] == 2
    assert runs[1] == len(history)


# --------------------------------------------------------------------------- properties

_STATUS = st.sampled_from(
    [None, ("behind", tk.Severity.WARNING), ("off_track", tk.Severity.CRITICAL)]
)


def _snapshots(days: list[tuple[object, object]]) -> list[Snapshot]:
    out = []
    for n, states in enumerate(days):
        alerts = [
            alert(state[0], state[1], key=f"{target}:status", target=target)  # type: ignore[index]
            for target, state in zip(("turnover", "rd"), states, strict=True)
            if state is not None
        ]
        out.append(snap(*alerts, as_of=on(n), statuses={"turnover": "on_track", "rd": "on_track"}))
    return out


@given(
    days=st.lists(st.tuples(_STATUS, _STATUS), min_size=1, max_size=25),
    until=st.integers(min_value=0, max_value=25),
)
def test_a_silence_changes_nothing_for_another_target_and_only_delays_its_own(
    days: list[tuple[object, object]], until: int
) -> None:
    rule = Escalation(name="督办", runs=3)
    policy = Policy(repeat_interval=dt.timedelta(days=3), escalations=(rule,))
    plain = Lifecycle(policy=policy)
    quiet = Lifecycle(policy=policy, quiet=(a_silence(until=on(until)),))
    first_after: list[str] | None = None
    for n, snapshot in enumerate(_snapshots(days)):
        now = T0 + n * DAY
        loud, held = plain.run(snapshot, now), quiet.run(snapshot, now)

        def about(decision: Decision, target: str) -> list[tuple[str, str]]:
            return [(x.kind.value, x.status) for x in decision.notices if x.target == target]

        # another target is told exactly as without the silence
        assert about(held, "rd") == about(loud, "rd")
        if n <= until:
            assert about(held, "turnover") == []
        elif first_after is None:
            first_after = [k for k, _ in about(held, "turnover")]
            still_open = quiet.records.get("turnover:status")
            if still_open is not None and still_open.firing:
                # the first run after the silence tells a problem still open, once
                assert first_after[-1:] in (["new"], ["repeat"], ["changed"]), first_after
        # the silenced target is tracked all along: the records agree on what is open
        assert {k: r.firing for k, r in quiet.records.items()} == {
            k: r.firing for k, r in plain.records.items()
        }


def test_pruning_keeps_a_silence_a_later_run_can_still_use(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    later = T0 + 1000 * DAY  # the clock is far ahead of the as-of dates (a replay of 2023)
    with StateStore.open(path) as store:
        store.run(snap(alert(), as_of=on(3)), now=T0, policy=POLICY, route=lambda ns: [])
        kept = store.add_silence(a_silence(until=on(5)))
        ended = store.add_silence(a_silence(until=on(60)))
        store.end_silence("demo", ended.id, now=T0 + DAY)
        report = store.prune("demo", before=later)
        assert report.silences == 1
        assert [s.id for s in store.silences("demo")] == [kept.id]
        store.run(snap(alert(), as_of=on(10)), now=T0, policy=POLICY, route=lambda ns: [])
        assert store.prune("demo", before=later).silences == 1  # now behind the latest run
        assert store.silences("demo") == []


_CRON_NOTIFY = """
[notify]
history_retention = "400d"

[notify.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout = 5

[[notify.routes]]
to = ["team@example.org"]

[[notify.escalations]]
name = "督办"
after = "3 runs"
to = ["leader@example.org"]
"""


def test_cron_runs_through_the_command_line(mail: SmtpServer, tmp_path: Path) -> None:
    folder = _plan_folder(tmp_path)
    (folder / "notify.toml").write_text(_CRON_NOTIFY.format(port=mail.port))
    exe = [sys.executable, "-m", "targetkit"]
    plan, data, notify = str(folder / "plan.toml"), str(folder / "actuals.csv"), "notify.toml"
    env = {**os.environ, "TARGETKIT_USER": "王五"}

    def cron(as_of: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*exe, "check", plan, "-a", data, "--as-of", as_of, "--notify", notify],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert cron("2023-07-20").returncode == 2  # turnover off_track, rd behind: both new
    silenced = subprocess.run(
        [*exe, "alerts", "silence", plan, "--target", "rd", "--until", "2023-07-31",
         "--reason", "秋季公布", "--as-of", "2023-07-20", "--notify", notify],
        cwd=folder, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (silenced.returncode, silenced.stdout) == (0, "1\n")
    for date in ("2023-07-21", "2023-07-22", "2023-07-31"):
        done = cron(date)
        assert done.returncode == 2, done.stderr
    done = cron("2023-08-01")
    assert "notify: 1 repeat" in done.stdout  # rd, once its silence ended
    to_team = [subject(r) for r in mail.inbox.to("team@example.org")]
    to_leader = [subject(r) for r in mail.inbox.to("leader@example.org")]
    # (the runs are seconds apart: no repeat interval passes; rd is now critical, escalated)
    assert to_team == [
        "[targetkit] 【严重】示例计划：新增2项（截至2023-07-20）",
        "[targetkit] 【严重】示例计划：仍未解决1项（截至2023-08-01）",
    ]
    # turnover escalated on its third run; rd, silenced meanwhile, on the first run after
    assert to_leader == [
        "[targetkit] 【督办】示例计划：督办1项（截至2023-07-22）",
        "[targetkit] 【督办】示例计划：督办1项（截至2023-08-01）",
    ]
    history = subprocess.run(
        [*exe, "alerts", "history", plan, "--notify", notify],
        cwd=folder, env=env, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    assert "已督办：督办" in history


@given(days=st.lists(st.tuples(_STATUS, _STATUS), min_size=1, max_size=30))
def test_each_escalation_is_sent_at_most_once_per_episode(
    days: list[tuple[object, object]],
) -> None:
    rules = (Escalation(name="a", runs=2), Escalation(name="b", days=4))
    life = Lifecycle(policy=Policy(escalations=rules))
    sent: dict[tuple[str, str], int] = {}
    for n, snapshot in enumerate(_snapshots(days)):
        decision = life.run(snapshot, T0 + n * DAY)
        for notice in decision.notices:
            if notice.kind is NoticeKind.RESOLVED:
                for name in ("a", "b"):
                    sent.pop((notice.key, name), None)
            elif notice.kind is NoticeKind.ESCALATED:
                [name] = notice.escalations
                sent[(notice.key, name)] = sent.get((notice.key, name), 0) + 1
                assert sent[(notice.key, name)] == 1
                assert notice.severity is tk.Severity.CRITICAL
                assert notice.open_runs >= 2 or name == "b"
        for record in life.records.values():
            # the episode reached an escalation exactly when its notice was sent
            if record.firing:
                assert {name for (key, name) in sent if key == record.key} == set(record.escalated)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"escalations": "督办"}, "notify.escalations: escalations must be an array of tables"),
        ({"escalations": ["x"]}, "notify.escalations[0]: an escalation must be a table"),
        ({"escalations": [{"to": ["a@example.org"]}]}, "the key 'after' is missing"),
        ({"escalations": [{"after": 3, "to": ["a@example.org"]}]}, 'such as "3 runs" or "30d"'),
        ({"escalations": [{"after": "0 runs", "to": ["a@example.org"]}]}, "between 1 and"),
        ({"escalations": [{"after": "36h", "to": ["a@example.org"]}]}, "must be whole days"),
        ({"escalations": [{"after": "3 runs", "to": []}]}, "a non-empty list of addresses"),
        ({"escalations": [{"after": "3 runs", "to": ["nobody"]}]}, "'nobody' is not an email"),
        ({"escalations": [{"after": "3 runs", "to": [3]}]}, "expected text (got 3)"),
        ({"escalations": [{"after": "3 runs", "to": ["a@b.org"], "whom": 1}]}, "unknown key"),
        (
            {"escalations": [{"after": "1 run", "to": ["a@b.org"], "name": "x"}] * 2},
            "duplicate escalation name 'x'",
        ),
        ({"history_retention": "300000d"}, "must be at most 100000 days"),
        ({"history_retention": 400}, 'expected a duration in quotes such as "7d"'),
    ],
)
def test_bad_notify_tables(table: dict[str, object], expected: str, tmp_path: Path) -> None:
    with pytest.raises(tk.ConfigError, match=re.escape(expected)):
        tk.notify.parse_settings(table, base_dir=tmp_path)


def test_an_escalation_table_parses(tmp_path: Path) -> None:
    settings = tk.notify.parse_settings(
        {
            "history_retention": "52w",
            "escalations": [
                {"after": "3 runs", "to": ["a@b.org"], "owners": ["市科技局"], "lang": "en"},
                {"after": "90d", "to": ["c@d.org"], "name": "局长督办"},
            ],
        },
        base_dir=tmp_path,
    )
    assert settings.history_retention == dt.timedelta(weeks=52)
    assert [(e.name, e.runs, e.days, e.owners, e.lang) for e in settings.escalations] == [
        ("escalation1", 3, None, ("市科技局",), "en"),
        ("局长督办", None, 90, (), None),
    ]
    assert settings.policy.escalations == settings.escalations


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)


@settings(max_examples=60)
@given(
    target=st.one_of(st.sampled_from(["rd", "turnover"]), _TEXT),
    until=st.one_of(st.sampled_from(["2023-07-20", "2023-12-31", "2023-07-19"]), _TEXT),
    reason=_TEXT,
)
def test_any_silence_arguments_are_stored_or_refused_cleanly(
    tmp_path_factory: pytest.TempPathFactory, target: str, until: str, reason: str
) -> None:
    folder = _plan_folder(tmp_path_factory.mktemp("fuzz"))
    code, out, err = cli(
        "alerts", "silence", str(folder / "plan.toml"), "--target", target, "--until", until,
        "--reason", reason, "--as-of", "2023-07-20",
    )  # fmt: skip
    assert code in (0, 3), err
    assert "internal error" not in err
    assert "Traceback" not in err
    state = folder / ".targetkit" / "state.sqlite"
    if code == 3:
        assert out == ""
        assert not state.exists()
    else:
        [made] = silences(state, "demo")
        assert out == f"{made.id}\n"
        assert made.targets == (target,)
        assert made.reason == " ".join(reason.split())
