"""Durability: a run killed at any moment (SIGKILL) leaves the state readable and loses no alert.

``python -m targetkit check PLAN --actuals … --notify`` runs as a child process against a real
SMTP server (aiosmtpd, in this process, on 127.0.0.1) and is killed at random moments: at a
random time, or by the server while it receives a digest, before or after it accepts it. After
every kill the state file must open and pass ``PRAGMA integrity_check``; after each as-of date a
run to completion must leave nothing queued. At the end the notices decided and delivered must
be those of a reference sequence that was never killed: each delivered at least once, and more
than once only when a kill fell between the server accepting a digest and the state recording
it — the documented window (docs/explanation/security.md), where the duplicate is the same
message with the same Message-ID.

The randomness is seeded; the seed is printed, and ``TARGETKIT_KILL_SEED=<seed>`` replays a run.
"""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import email.utils
import json
import mailbox
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from targetkit.state import StateStore

from .test_notify import free_port

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

STEPS = ("2023-02-20", "2023-03-20", "2023-04-20", "2023-05-20", "2023-06-20")
KILLS_PER_STEP = 4
DATA_DELAY = 0.03  # seconds the server takes per digest: widens the window a kill can hit

PLAN = """\
[plan]
id = "durable"
title = "耐久性测试计划"
period = {{ start = 2023-01-01, end = 2023-12-31 }}

[[indicators]]
id = "turnover"
name = "技术合同成交额"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "rd"
name = "研发经费"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "patents"
name = "专利授权"
unit = "项"
kind = "cumulative"

[[indicators]]
id = "enterprises"
name = "新增企业"
unit = "家"
kind = "cumulative"

[[targets]]
id = "turnover"
title = "技术合同成交额达到120亿元"
owner = "市科技局"
binding = true
rule = {{ kind = "at_least", indicator = "turnover", value = 120, unit = "亿元" }}

[[targets]]
id = "rd"
title = "研发经费力争达到120亿元"
tags = ["研发"]
binding = false
rule = {{ kind = "at_least", indicator = "rd", value = 120, unit = "亿元" }}

[[targets]]
id = "patents"
title = "专利授权力争120项"
owner = "统计局"
binding = false
rule = {{ kind = "at_least", indicator = "patents", value = 120, unit = "项" }}

[[targets]]
id = "enterprises"
title = "新增企业120家"
owner = "市科技局"
tags = ["研发"]
binding = true
rule = {{ kind = "at_least", indicator = "enterprises", value = 120, unit = "家" }}

[notify]
from = "targetkit <alerts@example.org>"
repeat_interval = "30d"

[notify.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout = 10

[[notify.routes]]
to = ["office@example.org"]
owners = ["市科技局"]

[[notify.routes]]
to = ["rd@example.org"]
tags = ["研发"]

[[notify.routes]]
to = ["director@example.org"]
severity = "critical"
"""
# Monthly cumulative figures, months 1–5; expected progress N/12. Across the five as-of dates
# they give new, changed and resolved notices to every route, and warnings that no route takes
# (patents, owned by 统计局) go to the Maildir outbox.
VALUES = {
    "turnover": ("亿元", (10, 12, 30, 3, 40)),
    "rd": ("亿元", (5, 30, 10, 50, 10)),
    "patents": ("项", (1, 2, 3, 4, 5)),
    "enterprises": ("家", (0, 0, 40, 40, 40)),
}
MONTH_ENDS = ("2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31")


def write_case(folder: Path, port: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    plan = folder / "plan.toml"
    plan.write_text(PLAN.format(port=port), encoding="utf-8")
    rows = ["indicator,date,value,unit"]
    for indicator, (unit, values) in VALUES.items():
        rows += [f"{indicator},{d},{v},{unit}" for d, v in zip(MONTH_ENDS, values, strict=True)]
    actuals = folder / "actuals.csv"
    actuals.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return plan, actuals


@attrs.define
class Delivery:
    recipient: str
    message_id: str
    body: str


class KillingInbox:
    """An aiosmtpd handler that keeps what it accepts and can kill the sending child mid-DATA."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        self.lock = threading.Lock()
        self.child: subprocess.Popen[bytes] | None = None
        self.kill_at: int = 0  # kill the child at this digest of its run (0: never)
        self.accept_first = False  # kill after keeping the message (the window) or before
        self.seen = 0
        self.first_data: float | None = None
        self.killed = False

    def arm(
        self, child: subprocess.Popen[bytes] | None, kill_at: int = 0, *, accept_first: bool = False
    ) -> None:
        with self.lock:
            self.child, self.kill_at, self.accept_first = child, kill_at, accept_first
            self.seen, self.first_data, self.killed = 0, None, False

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        await asyncio.sleep(DATA_DELAY)
        with self.lock:
            self.seen += 1
            if self.first_data is None:
                self.first_data = time.monotonic()
            kill = self.child is not None and self.seen == self.kill_at
            if kill and not self.accept_first:
                self._kill()
                return "451 4.3.0 the sender is gone"
            raw = envelope.original_content or b""
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            text = message.get_body(preferencelist=("plain",))
            assert isinstance(text, EmailMessage)
            for address in envelope.rcpt_tos:
                self.received.append(
                    Delivery(address, str(message["Message-ID"]), str(text.get_content()))
                )
            if kill:
                self._kill()  # the server has the message; the child never hears "250"
            return "250 OK"

    def _kill(self) -> None:
        assert self.child is not None
        self.child.send_signal(signal.SIGKILL)
        self.killed = True


@attrs.define
class Server:
    inbox: KillingInbox
    controller: Controller
    port: int


def start_server() -> Server:
    inbox = KillingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return Server(inbox=inbox, controller=controller, port=port)


TARGETKIT = (sys.executable, "-m", "targetkit")
NOTIFY = ("--notify", "--fail-on", "never")


def say(text: str) -> None:
    """Show a line in the test's output (pytest shows it with -s, and for a failing test)."""
    print(text)  # noqa: T201 - the seed must be visible to replay a run


def seeded(name: str) -> tuple[int, random.Random]:
    seed = int(os.environ.get("TARGETKIT_KILL_SEED") or random.SystemRandom().randrange(2**32))
    say(f"{name} seed: {seed} (replay with TARGETKIT_KILL_SEED={seed})")
    return seed, random.Random(seed)  # noqa: S311 - when to kill, not cryptography


def spawn(plan: Path, actuals: Path, as_of: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*TARGETKIT, "check", str(plan), "-a", str(actuals), "--as-of", as_of, *NOTIFY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run_to_completion(plan: Path, actuals: Path, as_of: str, context: str) -> float:
    started = time.monotonic()
    child = spawn(plan, actuals, as_of)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, f"{context}: {err.decode(errors='replace')}"
    return time.monotonic() - started


def assert_state_readable(state: Path, context: str) -> None:
    """After a kill: the read-only path (history, dry runs) opens it, and it is intact."""
    if not state.exists():
        return
    store = StateStore.open_readonly(state)  # rolls back a run's unfinished transaction
    if store is not None:
        with store:
            store.pending("durable")
    db = sqlite3.connect(state)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), context
        db.execute("SELECT count(*) FROM outbox").fetchone()
    finally:
        db.close()


def outbox_rows(state: Path) -> list[tuple[str, str, str, str | None]]:
    """Return (channel, recipient, notice, message_id) of every queued or sent notice."""
    db = sqlite3.connect(state)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        pending = db.execute("SELECT count(*) FROM outbox WHERE sent IS NULL").fetchone()[0]
        assert pending == 0, "a notice is still queued after a run to completion"
        rows = db.execute(
            "SELECT channel, recipient, notice, message_id FROM outbox ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    return [(str(c), str(r), str(n), m) for c, r, n, m in rows]


def decided(rows: list[tuple[str, str, str, str | None]]) -> collections.Counter[tuple[str, ...]]:
    """Return the notices as what they say, without ids or clocks."""
    out: collections.Counter[tuple[str, ...]] = collections.Counter()
    for channel, recipient, notice, _ in rows:
        n = json.loads(notice)
        out[(channel, recipient, n["kind"], n["key"], n["status"], n["as_of"])] += 1
    return out


def maildir_messages(folder: Path) -> list[tuple[str, str]]:
    """Return (Message-ID, text body) of every message in the Maildir outbox."""
    if not folder.exists():
        return []
    box = mailbox.Maildir(folder, create=False)
    out = []
    for key in box.iterkeys():
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        text = message.get_body(preferencelist=("plain",))
        assert isinstance(text, EmailMessage)
        out.append((str(message["Message-ID"]), str(text.get_content())))
    return out


def test_killed_runs_lose_no_alert(tmp_path: Path) -> None:
    seed, rng = seeded("kill test")
    started = time.monotonic()

    # ---- the reference: the same sequence, never killed
    ref_server = start_server()
    try:
        ref_plan, ref_actuals = write_case(tmp_path / "reference", ref_server.port)
        timings: list[tuple[float, float]] = []
        for as_of in STEPS:
            begin = time.monotonic()
            ref_server.inbox.arm(None)
            took = run_to_completion(ref_plan, ref_actuals, as_of, f"reference {as_of}")
            first = ref_server.inbox.first_data
            timings.append((took, (first - begin) if first is not None else took))
        reference = outbox_rows(tmp_path / "reference" / ".targetkit" / "state.sqlite")
        ref_mail = len(maildir_messages(tmp_path / "reference" / ".targetkit" / "outbox"))
    finally:
        ref_server.controller.stop()
    by_id = collections.Counter(d.message_id for d in ref_server.inbox.received)
    assert all(n == 1 for n in by_id.values())  # the reference sends each digest once
    assert len(ref_server.inbox.received) >= 8
    assert ref_mail >= 2
    kinds = {key[2] for key in decided(reference)}
    assert kinds == {"new", "changed", "resolved"}

    # ---- the same sequence, killed at random moments
    server = start_server()
    inbox = server.inbox
    plan, actuals = write_case(tmp_path / "killed", server.port)
    state = tmp_path / "killed" / ".targetkit" / "state.sqlite"
    log: list[str] = []
    kills = {"time": 0, "before accept": 0, "after accept": 0}
    try:
        for step, as_of in enumerate(STEPS):
            total, first_data = timings[step]
            for attempt in range(KILLS_PER_STEP):
                mode = rng.choices(["time", "before accept", "after accept"], [3, 1, 1])[0]
                child = spawn(plan, actuals, as_of)
                context = f"seed {seed}, {as_of}, attempt {attempt}, {mode}"
                if mode == "time":
                    # half the kills anywhere in the run, half while it talks to the server
                    lo = 0.0 if rng.random() < 0.5 else max(first_data - 0.1, 0.0)
                    delay = rng.uniform(lo, total * 1.05)
                    inbox.arm(child)
                    try:
                        child.wait(timeout=delay)
                    except subprocess.TimeoutExpired:
                        child.send_signal(signal.SIGKILL)
                        kills["time"] += 1
                    context += f" at {delay:.3f} s, after {inbox.seen} digest(s)"
                else:
                    inbox.arm(child, rng.randint(1, 3), accept_first=mode == "after accept")
                child.communicate(timeout=120)
                if inbox.killed:
                    kills[mode] += 1
                log.append(f"{context}: exit {child.returncode}")
                assert child.returncode in (0, -signal.SIGKILL), context
                assert_state_readable(state, context)
            inbox.arm(None)
            run_to_completion(plan, actuals, as_of, f"seed {seed}, {as_of}, completion")
            assert_state_readable(state, f"seed {seed}, {as_of}, completion")
    finally:
        server.controller.stop()
    say("\n".join(log))
    say(f"kills: {kills}; {time.monotonic() - started:.1f} s")
    context = f"seed {seed}; kills {kills}"

    # the same notices were decided, for the same recipients, as without kills
    rows = outbox_rows(state)
    assert decided(rows) == decided(reference), context

    # every notice was delivered at least once, in the message the state names
    received: dict[str, list[Delivery]] = collections.defaultdict(list)
    for d in inbox.received:
        received[d.message_id].append(d)
    mail: dict[str, list[str]] = collections.defaultdict(list)
    for message_id, body in maildir_messages(tmp_path / "killed" / ".targetkit" / "outbox"):
        mail[message_id].append(body)
    for channel, recipient, notice, sent_as in rows:
        target = json.loads(notice)["target"]
        assert sent_as, context
        copies = (
            [d.body for d in received[sent_as] if d.recipient == _address(recipient)]
            if channel == "email"
            else mail[sent_as]
        )
        assert copies, f"{context}: {channel} {recipient} {target} never delivered"
        assert all(f"({target})" in body for body in copies), context

    # nothing was delivered that the state does not know as sent …
    known = {message_id for *_, message_id in rows}
    assert set(received) <= known, context
    assert set(mail) <= known, context
    # … and twice only inside the window: one duplicate at most per kill, the same message
    duplicates = sum(len(v) - 1 for v in received.values()) + sum(len(v) - 1 for v in mail.values())
    assert duplicates >= kills["after accept"], context  # a kill there always duplicates …
    assert duplicates <= kills["after accept"] + kills["time"], context  # … a kill before, never
    say(f"duplicates (the documented window): {duplicates}")


def _address(recipient: str) -> str:
    return email.utils.parseaddr(recipient)[1]


# --------------------------------------------------------------------------- report -o


def test_a_killed_report_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    seed, rng = seeded("report kill")
    plan, actuals = write_case(tmp_path, 25)
    complete = tmp_path / "complete.html"
    args = [sys.executable, "-m", "targetkit", "report", str(plan), "-a", str(actuals)]
    args += ["--as-of", "2023-06-20"]
    begin = time.monotonic()
    subprocess.run([*args, "-o", str(complete)], check=True, capture_output=True, timeout=120)
    total = time.monotonic() - begin
    new = complete.read_bytes()
    assert new.endswith(b"</html>\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "report.html"
    old = textwrap.dedent("<!DOCTYPE html><p>last month's report</p>\n").encode()
    outcomes = collections.Counter[str]()
    for attempt in range(8):
        out.write_bytes(old)
        delay = rng.uniform(total * 0.4, total * 1.05)  # most of a run is start-up
        child = subprocess.Popen([*args, "-o", str(out)], stderr=subprocess.DEVNULL)
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=120)
        now = out.read_bytes()
        context = f"seed {seed}, attempt {attempt}, kill at {delay:.3f} s"
        assert now in (old, new), context  # never half a report
        outcomes["old" if now == old else "new"] += 1
        leftovers = {p.name for p in out_dir.iterdir()} - {"report.html"}
        # a kill between creating the temporary file and renaming it leaves that file behind,
        # hidden, beside the report; it never replaces the report
        assert all(n.startswith(".report.html.") and n.endswith(".tmp") for n in leftovers)
        for name in leftovers:
            (out_dir / name).unlink()
    say(f"outcomes: {dict(outcomes)}")


# --------------------------------------------------------------------------- a hot journal

_WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size = 1")  # spill to the file at once, as a large transaction does
db.execute("BEGIN IMMEDIATE")
for i in range(3000):
    db.execute(
        "INSERT INTO runs (plan, as_of, at, notices) VALUES ('durable', '2099-01-01', ?, 0)",
        ("x" * 200,),
    )
print("inside", flush=True)
time.sleep(60)
"""


def test_history_reads_the_state_after_a_kill_inside_a_transaction(tmp_path: Path) -> None:
    plan, actuals = write_case(tmp_path, free_port())
    plan.write_text(
        plan.read_text("utf-8").split("[notify.smtp]")[0].replace("repeat", "# repeat"), "utf-8"
    )  # no SMTP: the digests go to the Maildir outbox
    first = subprocess.run(
        [*TARGETKIT, "check", str(plan), "-a", str(actuals), "--as-of", STEPS[-1], *NOTIFY],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    state = tmp_path / ".targetkit" / "state.sqlite"
    before = outbox_rows(state)
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(state)], stdout=subprocess.PIPE, text=True
    ) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "inside\n"
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    journal = state.with_name(state.name + "-journal")
    assert journal.stat().st_size > 0  # a hot journal: the transaction was never finished
    history = subprocess.run(
        [*TARGETKIT, "alerts", "history", str(plan), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert history.returncode == 0, history.stderr  # not "move it aside"
    assert "durable alert history" in history.stdout
    assert outbox_rows(state) == before  # the unfinished transaction was rolled back
    db = sqlite3.connect(state)
    assert db.execute("SELECT count(*) FROM runs WHERE as_of = '2099-01-01'").fetchone() == (0,)
    db.close()
