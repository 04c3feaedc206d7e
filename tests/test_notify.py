"""Notification end to end: a real SMTP server (aiosmtpd) and a real HTTP server on 127.0.0.1.

Messages are received over the wire, parsed with the `email` package and asserted: recipients,
decoded Chinese subjects and names, text and HTML parts. No SMTP or HTTP code is mocked.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import http.server
import io
import json
import mailbox
import re
import shutil
import socket
import ssl
import subprocess
import textwrap
import threading
import tomllib
import urllib.parse
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

import targetkit as tk
from targetkit.notify import (
    DeliveryReport,
    Digest,
    Notifier,
    NotifySettings,
    deliver,
    history_text,
    load_settings,
    parse_settings,
    route,
)
from targetkit.notify.email import SmtpNotifier
from targetkit.notify.maildir import MaildirNotifier
from targetkit.notify.settings import Security, parse_duration
from targetkit.notify.templates import render
from targetkit.notify.webhook import WebhookNotifier, dingtalk_sign, feishu_sign, generic_sign
from targetkit.state import NoticeKind, StateError, read_history

from .conftest import check, make_plan

# --------------------------------------------------------------------------- a plan with known statuses

PLAN = """
[[indicators]]
id = "turnover"
name = "技术合同成交额"
name_en = "technology contract turnover"
unit = "亿元"
kind = "cumulative"

[[indicators]]
id = "rd"
name = "研发经费投入"
name_en = "R&D spending"
unit = "亿元"
kind = "cumulative"

[[targets]]
id = "turnover"
title = "技术合同成交额达到360亿元"
binding = true
owner = "市科技局"
tags = ["成果转化"]
rule = { kind = "at_least", indicator = "turnover", value = 360, unit = "亿元" }

[[targets]]
id = "rd"
title = "研发经费投入力争达到100亿元"
binding = false
owner = "R&D <统计> 中心"
tags = ["研发"]
rule = { kind = "at_least", indicator = "rd", value = 100, unit = "亿元" }
"""
# With 1–6月 data (expected progress 50%):
#   turnover 150 → behind (warning) · 60 → off_track (critical: binding) · 180 → on_track
#   rd 20 → behind (warning, gap exactly -30) · 10 → off_track (warning: aspirational) · 50 → on_track


def evaluation(turnover: float, rd: float, as_of: str = "2023-07-20") -> tk.Evaluation:
    plan = make_plan(PLAN)
    csv = (
        f"indicator,date,value,unit\nturnover,2023-06-30,{turnover},亿元\nrd,2023-06-30,{rd},亿元\n"
    )
    return check(plan, csv, as_of)


T0 = dt.datetime(2023, 7, 20, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai
DAY = dt.timedelta(days=1)


def day(n: int) -> str:
    return (dt.date(2023, 7, 20) + dt.timedelta(days=n)).isoformat()


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@attrs.define
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    authenticated: bool


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.received: list[Received] = []
        self.refuse = refuse
        self.delay = 0.0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                raw=raw,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@attrs.define
class SmtpServer:
    port: int
    inbox: Inbox
    controller: Controller


def start_smtp(port: int | None = None, **kwargs: Any) -> SmtpServer:
    inbox = Inbox(refuse=kwargs.pop("refuse", ()))
    port = port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer(port=port, inbox=inbox, controller=controller)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp(refuse=("nobody@example.org",))
    yield server
    server.controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@attrs.define
class Posted:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class HookServer:
    """A real HTTP server in a thread, recording POSTs and answering with queued replies."""

    def __init__(self) -> None:
        self.posts: list[Posted] = []
        self.replies: list[tuple[int, bytes]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                parts = urllib.parse.urlsplit(self.path)
                server.posts.append(
                    Posted(
                        path=parts.path,
                        query=dict(urllib.parse.parse_qsl(parts.query)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=self.rfile.read(length),
                    )
                )
                status, body = server.replies.pop(0) if server.replies else (200, b"{}")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    server = HookServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(timeout=5)


# --------------------------------------------------------------------------- settings helpers


def settings_from(text: str, folder: Path) -> NotifySettings:
    text = textwrap.dedent(text)
    return parse_settings(
        tomllib.loads(text).get("notify"), source="notify.toml", text=text, base_dir=folder
    )


def smtp_settings(port: int, folder: Path, extra: str = "") -> NotifySettings:
    return settings_from(
        f"""
        [notify]
        from = "目标监测 <alerts@example.org>"
        {extra}

        [notify.smtp]
        host = "127.0.0.1"
        port = {port}
        security = "none"
        timeout = 5

        [[notify.routes]]
        to = ["张三 <zhang@example.org>"]
        owners = ["市科技局"]

        [[notify.routes]]
        to = ["li@example.org"]
        tags = ["研发"]
        lang = "en"

        [[notify.routes]]
        to = ["boss@example.org"]
        severity = "critical"
        """,
        folder,
    )


def one_route(port: int, folder: Path, extra: str = "") -> NotifySettings:
    return settings_from(
        f"""
        [notify]
        from = "targetkit <alerts@example.org>"
        {extra}

        [notify.smtp]
        host = "127.0.0.1"
        port = {port}
        security = "none"
        timeout = 5

        [[notify.routes]]
        to = ["team@example.org"]
        """,
        folder,
    )


def run(
    ev: tk.Evaluation, settings: NotifySettings, now: dt.datetime, **kwargs: Any
) -> DeliveryReport:
    return deliver(ev, settings, now=now, environ=kwargs.pop("environ", {}), **kwargs)


def subject(r: Received) -> str:
    return str(r.message["Subject"])


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return str(text.get_content()), str(html.get_content())


# --------------------------------------------------------------------------- email over SMTP


def test_first_run_sends_one_digest_per_recipient(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = smtp_settings(smtp.port, tmp_path)
    report = run(evaluation(turnover=60, rd=20), settings, T0)
    assert not report.failed
    assert [n.kind for n in report.notices] == [NoticeKind.NEW, NoticeKind.NEW]
    assert len(smtp.inbox.received) == 3  # zhang (owner), li (tag), boss (critical)

    [zhang] = smtp.inbox.to("zhang@example.org")
    assert zhang.rcpt_tos == ["zhang@example.org"]
    assert zhang.mail_from == "alerts@example.org"
    message = zhang.message
    assert subject(zhang) == "[targetkit] 【严重】示例计划：新增1项（截至2023-07-20）"
    assert b"=?utf-8?" in zhang.raw.split(b"\r\n\r\n", 1)[0].lower()  # RFC 2047 on the wire
    assert message["From"].addresses[0].display_name == "目标监测"
    assert message["To"].addresses[0].display_name == "张三"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert "\r" not in text
    assert "■ 新出现的问题（1）" in text
    assert "技术合同成交额达到360亿元 (turnover)" in text
    assert "状态：严重滞后" in text
    assert "责任单位：市科技局" in text
    assert "低于序时进度 33.3 个百分点" in text
    assert "研发经费" not in text  # not zhang's owner
    assert "<strong>技术合同成交额达到360亿元</strong>" in html
    assert "严重滞后" in html

    [li] = smtp.inbox.to("li@example.org")
    assert subject(li) == "[targetkit] 示例计划: 1 new (as of 2023-07-20)"
    text, html = parts(li.message)
    assert "Owner: R&D <统计> 中心" in text
    assert "R&amp;D &lt;统计&gt; 中心" in html  # every user string is escaped
    assert "<统计>" not in html
    assert "Status: behind" in text

    [boss] = smtp.inbox.to("boss@example.org")
    assert "turnover" in parts(boss.message)[0]
    assert "rd)" not in parts(boss.message)[0]

    assert any(
        "sent 1 notice to 张三 <zhang@example.org> via SMTP" in line for line in report.lines()
    )


def test_the_whole_lifecycle(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = one_route(smtp.port, tmp_path)
    inbox = smtp.inbox

    def sent_since(before: int) -> list[str]:
        return [subject(r) for r in inbox.received[before:]]

    # day 0: turnover behind → first run notifies
    run(evaluation(150, 50, day(0)), settings, T0)
    assert sent_since(0) == ["[targetkit] 示例计划：新增1项（截至2023-07-20）"]
    # rerun the same day, twice: nothing new
    for minutes in (1, 60):
        report = run(evaluation(150, 50, day(0)), settings, T0 + dt.timedelta(minutes=minutes))
        assert report.notices == ()
        assert report.lines() == ["notify: nothing new (as of 2023-07-20)"]
    assert len(inbox.received) == 1
    # day 1: worse → changed
    run(evaluation(60, 50, day(1)), settings, T0 + DAY)
    assert sent_since(1) == ["[targetkit] 【严重】示例计划：变化1项（截至2023-07-21）"]
    text, _ = parts(inbox.received[1].message)
    assert "状态：滞后 → 严重滞后" in text
    # days 2–7: unchanged, within the 7-day repeat interval → quiet
    for n in range(2, 8):
        run(evaluation(60, 50, day(n)), settings, T0 + n * DAY)
    assert len(inbox.received) == 2
    # day 8: seven days after the last notice → repeat
    run(evaluation(60, 50, day(8)), settings, T0 + 8 * DAY)
    assert sent_since(2) == ["[targetkit] 【严重】示例计划：仍未解决1项（截至2023-07-28）"]
    assert "首次发现：2023-07-20" in parts(inbox.received[2].message)[0]
    # day 9: recovered → one resolved notice, then silence
    run(evaluation(180, 50, day(9)), settings, T0 + 9 * DAY)
    assert sent_since(3) == ["[targetkit] 示例计划：已恢复1项（截至2023-07-29）"]
    assert "状态：严重滞后 → 达序时" in parts(inbox.received[3].message)[0]
    for n in (10, 20, 30):
        run(evaluation(180, 50, day(n)), settings, T0 + n * DAY)
    assert len(inbox.received) == 4
    # day 31: behind again → re-armed, new
    run(evaluation(150, 50, day(31)), settings, T0 + 31 * DAY)
    assert sent_since(4) == ["[targetkit] 示例计划：新增1项（截至2023-08-20）"]
    assert "（再次出现）" in parts(inbox.received[4].message)[0]

    history = history_text(settings.state, "demo", timezone="Asia/Shanghai")
    assert "2023-07-20 08:30  已送达" in history
    assert history.count("已送达") == 5
    assert "未解决的问题：1" in history


def test_an_earlier_as_of_sends_nothing(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = one_route(smtp.port, tmp_path)
    run(evaluation(150, 50, day(10)), settings, T0)
    report = run(evaluation(180, 50, day(0)), settings, T0 + DAY)
    assert report.stale
    assert "earlier than the last run (2023-07-30)" in report.lines()[0]
    assert len(smtp.inbox.received) == 1


def test_smtp_down_exits_4_then_delivers_exactly_once(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    settings = one_route(port, tmp_path)
    report = run(evaluation(60, 50), settings, T0)
    assert report.failed
    assert [n.kind for n in report.notices] == [NoticeKind.NEW]
    [failure] = report.failures
    assert failure.recipient == "team@example.org"
    assert f"cannot connect to SMTP server 127.0.0.1:{port}" in failure.error
    errors = report.error_lines()
    assert "notify: delivery to team@example.org failed: cannot connect" in errors[0]
    assert errors[0].endswith("1 notice kept for retry on the next run")
    assert "1 notice queued in" in errors[1]
    [entry] = read_history(settings.state, "demo")
    assert not entry.delivered
    assert entry.item.attempts == 1

    # still down an hour later: the same notice fails again, no duplicate is queued
    report = run(evaluation(60, 50), settings, T0 + dt.timedelta(hours=1))
    assert report.failed
    assert report.notices == ()
    assert len(read_history(settings.state, "demo")) == 1

    server = start_smtp(port)
    try:
        report = run(evaluation(60, 50), settings, T0 + dt.timedelta(hours=2))
        assert not report.failed
        assert report.queued == 0
        [received] = server.inbox.received
        assert "新增1项" in subject(received)
        assert "严重滞后" in parts(received.message)[0]
        # and never again
        run(evaluation(60, 50), settings, T0 + dt.timedelta(hours=3))
        run(evaluation(60, 50, day(1)), settings, T0 + DAY)
        assert len(server.inbox.received) == 1
    finally:
        server.controller.stop()
    [entry] = read_history(settings.state, "demo")
    assert entry.delivered
    assert entry.item.attempts == 3


def test_a_queued_notice_joins_the_next_digest(tmp_path: Path) -> None:
    port = free_port()
    settings = one_route(port, tmp_path)
    assert run(evaluation(150, 50, day(0)), settings, T0).failed
    server = start_smtp(port)
    try:
        run(evaluation(60, 50, day(1)), settings, T0 + DAY)
        [received] = server.inbox.received  # one digest per recipient per run
        assert "新增1项、变化1项" in subject(received)
        text, _ = parts(received.message)
        assert "（2023-07-20 的提醒，延迟送达）" in text
    finally:
        server.controller.stop()


def test_a_refused_recipient_is_retried_alone(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = settings_from(
        f"""
        [notify.smtp]
        host = "127.0.0.1"
        port = {smtp.port}
        security = "none"

        [[notify.routes]]
        to = ["team@example.org", "nobody@example.org"]
        """,
        tmp_path,
    )
    report = run(evaluation(60, 50), settings, T0)
    assert [a.ok for a in report.attempts] == [True, False]
    assert "refused the recipient nobody@example.org (550" in report.failures[0].error
    assert len(smtp.inbox.received) == 1
    smtp.inbox.refuse = ()
    report = run(evaluation(60, 50), settings, T0 + DAY)
    assert [a.recipient for a in report.attempts] == ["nobody@example.org"]
    assert [r.rcpt_tos for r in smtp.inbox.received] == [
        ["team@example.org"],
        ["nobody@example.org"],
    ]


def test_two_runs_at_once_send_once(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = one_route(smtp.port, tmp_path)
    smtp.inbox.delay = 0.2  # the first run holds the lock while the second starts
    ev = evaluation(60, 20)
    barrier = threading.Barrier(2)
    reports: list[DeliveryReport] = []

    def one_run() -> None:
        barrier.wait()
        reports.append(run(ev, settings, T0))

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(reports) == 2
    assert len(smtp.inbox.received) == 1
    assert sorted(len(r.attempts) for r in reports) == [0, 1]
    assert not any(r.failed for r in reports)


def test_corrupted_state_is_a_clear_error(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = one_route(smtp.port, tmp_path)
    settings.state.parent.mkdir(parents=True)
    settings.state.write_bytes(b"\x00garbage" * 500)
    with pytest.raises(StateError) as info:
        run(evaluation(60, 50), settings, T0)
    assert str(settings.state) in str(info.value)
    assert "move it aside" in str(info.value)
    assert isinstance(info.value, tk.TargetkitError)
    assert smtp.inbox.received == []
    with pytest.raises(StateError):
        run(evaluation(60, 50), settings, T0, dry_run=True, out=io.StringIO())


def test_starttls_and_login_with_the_password_from_the_environment(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret-%&", handled=False)

    server = start_smtp(
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    try:
        settings = settings_from(
            f"""
            [notify]
            from = "目标监测 <alerts@example.org>"
            [notify.smtp]
            host = "127.0.0.1"
            port = {server.port}
            security = "starttls"
            username = "alerts@example.org"
            password_env = "TK_TEST_SMTP_PASSWORD"
            ca_file = "{cert}"
            timeout = 5
            [[notify.routes]]
            to = ["team@example.org"]
            """,
            tmp_path,
        )
        report = run(evaluation(60, 50), settings, T0, environ={"TK_TEST_SMTP_PASSWORD": "x"})
        assert report.failed
        assert "refused the login of alerts@example.org (535" in report.failures[0].error
        assert "$TK_TEST_SMTP_PASSWORD" in report.failures[0].error
        password = "s3cret-%&"  # noqa: S105 - a test password for the local server
        report = run(evaluation(60, 50), settings, T0, environ={"TK_TEST_SMTP_PASSWORD": password})
        assert not report.failed
        [received] = server.inbox.received
        assert received.authenticated
        assert logins[-1] == (b"alerts@example.org", password.encode())
        every_line = "\n".join(report.lines() + report.error_lines())
        assert password not in every_line
        assert password not in history_text(settings.state, "demo")
    finally:
        server.controller.stop()


def test_implicit_tls(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server = start_smtp(ssl_context=server_context)
    try:
        settings = settings_from(
            f"""
            [notify.smtp]
            host = "127.0.0.1"
            port = {server.port}
            security = "tls"
            ca_file = "{cert}"
            timeout = 5
            [[notify.routes]]
            to = ["team@example.org"]
            """,
            tmp_path,
        )
        assert not run(evaluation(60, 50), settings, T0).failed
        assert len(server.inbox.received) == 1
    finally:
        server.controller.stop()


def test_an_untrusted_certificate_is_refused(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server = start_smtp(tls_context=server_context, require_starttls=True)
    try:
        settings = settings_from(
            f"""
            [notify.smtp]
            host = "127.0.0.1"
            port = {server.port}
            timeout = 5
            [[notify.routes]]
            to = ["team@example.org"]
            """,
            tmp_path,
        )  # starttls by default, no ca_file: the self-signed certificate is not trusted
        report = run(evaluation(60, 50), settings, T0)
        assert report.failed
        assert "TLS with SMTP server" in report.failures[0].error
        assert "ca_file" in report.failures[0].error
        assert server.inbox.received == []
    finally:
        server.controller.stop()


def test_a_missing_password_variable_keeps_the_notices(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = settings_from(
        f"""
        [notify.smtp]
        host = "127.0.0.1"
        port = {smtp.port}
        security = "none"
        username = "alerts"
        password_env = "TK_TEST_UNSET_PASSWORD"
        [[notify.routes]]
        to = ["a@example.org", "b@example.org"]
        """,
        tmp_path,
    )
    report = run(evaluation(60, 50), settings, T0)
    assert len(report.failures) == 2
    assert "TK_TEST_UNSET_PASSWORD" in report.failures[0].error
    assert "crontab" in report.failures[0].error
    assert report.queued == 2


# --------------------------------------------------------------------------- outbox, dry run, routing


def test_without_smtp_email_goes_to_the_maildir_outbox(tmp_path: Path) -> None:
    settings = NotifySettings.defaults(tmp_path)
    report = run(evaluation(60, 20), settings, T0)
    assert not report.failed
    assert report.unrouted == 0  # without routes, the outbox is the destination
    box = mailbox.Maildir(tmp_path / ".targetkit" / "outbox", create=False)
    [key] = box.keys()
    message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert str(message["Subject"]) == "[targetkit] 【严重】示例计划：新增2项（截至2023-07-20）"
    assert message["To"] is None
    text, html = parts(message)
    assert "技术合同成交额达到360亿元" in text
    assert "研发经费投入力争达到100亿元" in text
    assert "R&amp;D" in html
    assert (tmp_path / ".targetkit" / "state.sqlite").exists()
    # no routes at all is the outbox by design: nothing to warn about
    assert not any("matched no route" in line for line in report.lines())


def test_routes_send_email_to_the_outbox_without_smtp(tmp_path: Path) -> None:
    settings = settings_from(
        """
        [notify]
        outbox = "mail"
        [[notify.routes]]
        to = ["张三 <zhang@example.org>"]
        owners = ["市科技局"]
        """,
        tmp_path,
    )
    report = run(evaluation(60, 20), settings, T0)
    assert report.unrouted == 1  # rd has another owner
    assert any("matched no route" in line for line in report.lines())
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    tos = sorted(str(box[k]["To"] or "") for k in box.iterkeys())
    assert tos == ["", "=?utf-8?b?5byg5LiJ?= <zhang@example.org>"]


def test_dry_run_prints_and_changes_nothing(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = smtp_settings(smtp.port, tmp_path)
    out = io.StringIO()
    report = run(evaluation(60, 20), settings, T0, dry_run=True, out=out)
    printed = out.getvalue()
    assert "--- dry run: 1 notice to 张三 <zhang@example.org> via SMTP 127.0.0.1:" in printed
    assert "Subject: [targetkit] 【严重】示例计划：新增1项（截至2023-07-20）" in printed
    assert "状态：严重滞后" in printed
    assert report.previews == 3
    assert report.attempts == ()
    assert not report.failed
    assert report.lines()[-1].startswith("notify: dry run — 3 digests shown above, nothing sent")
    assert smtp.inbox.received == []
    assert not settings.state.exists()
    # the real run still sends everything, and a dry run afterwards shows nothing new
    run(evaluation(60, 20), settings, T0)
    assert len(smtp.inbox.received) == 3
    out = io.StringIO()
    report = run(evaluation(60, 20), settings, T0, dry_run=True, out=out)
    assert out.getvalue() == ""
    assert report.previews == 0


def test_dry_run_shows_queued_retries(tmp_path: Path) -> None:
    settings = one_route(free_port(), tmp_path)
    assert run(evaluation(60, 50), settings, T0).failed
    out = io.StringIO()
    report = run(evaluation(60, 50), settings, T0 + DAY, dry_run=True, out=out)
    assert "1 notice to team@example.org" in out.getvalue()
    assert report.queued == 1


def test_routing_by_owner_tag_and_severity(tmp_path: Path) -> None:
    settings = smtp_settings(25, tmp_path)
    notices = run(evaluation(60, 10), settings, T0, dry_run=True, out=io.StringIO()).notices
    rows = route(notices, settings)
    assert sorted((recipient, lang, n.target) for _, recipient, lang, n in rows) == [
        ("boss@example.org", "zh", "turnover"),
        ("li@example.org", "en", "rd"),
        ("张三 <zhang@example.org>", "zh", "turnover"),
    ]
    # rd is off track but aspirational: a warning, so the critical-only route does not take it
    assert [n.severity.value for n in notices] == ["critical", "warning"]


def test_a_custom_notifier(tmp_path: Path) -> None:
    class Collect:
        def __init__(self) -> None:
            self.digests: list[Digest] = []

        def describe(self) -> str:
            return "a list"

        def preview(self, digest: Digest, *, now: dt.datetime) -> str:
            return render(digest).text

        def send(self, digest: Digest, *, now: dt.datetime) -> str:
            self.digests.append(digest)
            return "kept"

        def close(self) -> None:
            pass

    collect = Collect()
    assert isinstance(collect, Notifier)
    run(evaluation(60, 20), NotifySettings.defaults(tmp_path), T0, notifiers={"maildir": collect})
    [digest] = collect.digests
    assert [n.target for n in digest.notices] == ["turnover", "rd"]  # critical first
    assert not (tmp_path / ".targetkit" / "outbox").exists()


# --------------------------------------------------------------------------- webhooks


def hook_settings(folder: Path, body: str) -> NotifySettings:
    return settings_from(f"[notify]\n{textwrap.dedent(body)}", folder)


def test_wecom_markdown(hooks: HookServer, tmp_path: Path) -> None:
    settings = hook_settings(
        tmp_path,
        """
        [[notify.webhooks]]
        name = "科技局群"
        format = "wecom"
        url_env = "TK_TEST_WECOM_URL"
        """,
    )
    hooks.replies.append((200, b'{"errcode": 0, "errmsg": "ok"}'))
    url = hooks.url("/cgi-bin/webhook/send?key=abc-123")
    report = run(evaluation(60, 20), settings, T0, environ={"TK_TEST_WECOM_URL": url})
    assert not report.failed
    [post] = hooks.posts
    assert post.path == "/cgi-bin/webhook/send"
    assert post.query == {"key": "abc-123"}
    assert post.headers["content-type"] == "application/json; charset=utf-8"
    body = post.json()
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith("### 示例计划\n")
    assert "**[严重] 技术合同成交额达到360亿元** `turnover` — 严重滞后" in content
    assert "abc-123" not in "\n".join(report.lines())  # the key is never printed


def test_dingtalk_signed(hooks: HookServer, tmp_path: Path) -> None:
    settings = hook_settings(
        tmp_path,
        f"""
        lang = "en"
        [[notify.webhooks]]
        format = "dingtalk"
        url = "{hooks.url("/robot/send?access_token=tok")}"
        secret_env = "TK_TEST_DING_SECRET"
        severity = "critical"
        """,
    )
    hooks.replies.append((200, b'{"errcode": 0, "errmsg": "ok"}'))
    secret = "SECabc123"  # noqa: S105 - a test secret for the local server
    report = run(evaluation(60, 20), settings, T0, environ={"TK_TEST_DING_SECRET": secret})
    assert not report.failed
    [post] = hooks.posts
    stamp = post.query["timestamp"]
    assert stamp == str(int(T0.timestamp() * 1000))
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert post.query["sign"] == expected  # parse_qsl undid the URL encoding
    assert urllib.parse.unquote_plus(dingtalk_sign(secret, int(stamp))) == expected
    assert post.query["access_token"] == "tok"  # noqa: S105 - the test url's token
    body = post.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "[targetkit] [CRITICAL] 示例计划: 1 new (as of 2023-07-20)"
    assert "off track" in body["markdown"]["text"]
    assert "`rd`" not in body["markdown"]["text"]  # a warning: below this hook's severity


def test_feishu_signed(hooks: HookServer, tmp_path: Path) -> None:
    settings = hook_settings(
        tmp_path,
        f"""
        [[notify.webhooks]]
        format = "feishu"
        url = "{hooks.url("/open-apis/bot/v2/hook/xyz")}"
        secret_env = "TK_TEST_FEISHU_SECRET"
        """,
    )
    hooks.replies.append((200, b'{"code": 0, "msg": "success", "data": {}}'))
    report = run(evaluation(60, 20), settings, T0, environ={"TK_TEST_FEISHU_SECRET": "fs"})
    assert not report.failed
    body = hooks.posts[0].json()
    assert body["timestamp"] == str(int(T0.timestamp()))
    key = f"{body['timestamp']}\nfs".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == feishu_sign("fs", int(T0.timestamp()))
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "[targetkit] 【严重】示例计划：新增2项（截至2023-07-20）"
    lines = [p[0]["text"] for p in post["content"]]
    assert "[严重] 技术合同成交额达到360亿元 (turnover)" in lines


def test_generic_json_with_signature(hooks: HookServer, tmp_path: Path) -> None:
    settings = hook_settings(
        tmp_path,
        f"""
        [[notify.webhooks]]
        name = "ops"
        format = "generic"
        url = "{hooks.url("/alerts")}"
        secret_env = "TK_TEST_HOOK_SECRET"
        tags = ["研发"]
        """,
    )
    report = run(evaluation(60, 20), settings, T0, environ={"TK_TEST_HOOK_SECRET": "k"})
    assert not report.failed
    [post] = hooks.posts
    stamp = int(post.headers["x-targetkit-timestamp"])
    assert post.headers["x-targetkit-signature"] == generic_sign("k", stamp, post.body)
    body = post.json()
    assert body["plan"] == {"id": "demo", "title": "示例计划"}
    assert body["counts"] == {"escalated": 0, "new": 1, "changed": 0, "repeat": 0, "resolved": 0}
    [notice] = body["notices"]
    assert (notice["target"], notice["status"], notice["owner"]) == (
        "rd",
        "behind",
        "R&D <统计> 中心",
    )
    assert report.unrouted == 1  # turnover matched no route: it went to the outbox


def test_a_bot_error_is_a_failed_delivery_retried_once(hooks: HookServer, tmp_path: Path) -> None:
    settings = hook_settings(
        tmp_path,
        f"""
        [[notify.webhooks]]
        format = "dingtalk"
        url = "{hooks.url("/robot/send?access_token=tok")}"
        """,
    )
    hooks.replies.append((200, b'{"errcode": 310000, "errmsg": "keywords not in content"}'))
    report = run(evaluation(60, 50), settings, T0)
    assert report.failed
    error = report.failures[0].error
    assert "refused the message (code 310000: keywords not in content)" in error
    assert "access_token" not in error  # the token is never printed
    assert error.startswith(f"webhook dingtalk: http://127.0.0.1:{hooks.port}/…")
    hooks.replies.append((500, b"busy"))
    report = run(evaluation(60, 50), settings, T0 + dt.timedelta(hours=1))
    assert "answered HTTP 500" in report.failures[0].error
    hooks.replies.append((200, b'{"errcode": 0, "errmsg": "ok"}'))
    assert not run(evaluation(60, 50), settings, T0 + dt.timedelta(hours=2)).failed
    run(evaluation(60, 50), settings, T0 + dt.timedelta(hours=3))
    assert len(hooks.posts) == 3


def test_an_unreachable_webhook(tmp_path: Path) -> None:
    settings = settings_from(
        f"""
        [[notify.webhooks]]
        format = "generic"
        url = "http://127.0.0.1:{free_port()}/x"
        timeout = 2
        """,
        tmp_path,
    )
    report = run(evaluation(60, 50), settings, T0)
    assert "cannot reach http://127.0.0.1:" in report.failures[0].error


def test_a_long_digest_is_cut_to_the_bot_limit(tmp_path: Path) -> None:
    settings = settings_from(
        """
        [[notify.webhooks]]
        format = "wecom"
        url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
        """,
        tmp_path,
    )
    notices = run(evaluation(60, 20), settings, T0, dry_run=True, out=io.StringIO()).notices
    many = [attrs.evolve(notices[0], key=f"t{i}", target=f"t{i}") for i in range(200)]
    digest = Digest(
        plan_id="demo",
        plan_title="示例计划",
        as_of=dt.date(2023, 7, 20),
        lang="zh",
        channel="webhook",
        recipient="wecom",
        notices=many,
    )
    notifier = WebhookNotifier(settings.webhooks[0], environ={})
    content = notifier.body(digest)["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith("…（内容过长已截断，完整内容见邮件或 targetkit check 的输出）")
    preview = notifier.preview(digest, now=T0)
    assert preview.startswith("POST https://qyapi.weixin.qq.com/…\n")
    assert "key=k" not in preview


# --------------------------------------------------------------------------- settings


def test_settings_from_a_plan_file_and_a_separate_file(tmp_path: Path) -> None:
    plan_dir = tmp_path / "plans"
    plan_dir.mkdir()
    plan_file = plan_dir / "plan.toml"
    plan_file.write_text(
        textwrap.dedent(
            """
            [plan]
            id = "demo"
            title = "示例计划"
            period = { start = 2023-01-01, end = 2023-12-31 }
            """
        )
        + PLAN
        + textwrap.dedent(
            """
            [notify]
            lang = "en"
            repeat_interval = "3d"

            [notify.smtp]
            host = "smtp.example.org"
            username = "alerts@example.org"
            password_env = "TARGETKIT_SMTP_PASSWORD"

            [[notify.routes]]
            to = ["team@example.org"]
            """
        ),
        encoding="utf-8",
    )
    assert tk.load(plan_file).id == "demo"  # the plan parser accepts the table
    settings = load_settings(plan_file)
    assert settings.lang == "en"
    assert settings.repeat_interval == dt.timedelta(days=3)
    assert settings.smtp is not None
    assert (settings.smtp.port, settings.smtp.security) == (587, Security.STARTTLS)
    assert settings.state == plan_dir.resolve() / ".targetkit" / "state.sqlite"
    assert settings.outbox == plan_dir.resolve() / ".targetkit" / "outbox"

    config = tmp_path / "etc" / "notify.toml"
    config.parent.mkdir()
    config.write_text('[notify]\nstate = "state/alerts.sqlite"\n', encoding="utf-8")
    separate = load_settings(plan_file, config)
    assert separate.smtp is None  # the file replaces the plan's table
    assert separate.state == config.parent.resolve() / "state" / "alerts.sqlite"
    assert separate.outbox == plan_dir.resolve() / ".targetkit" / "outbox"

    config.write_text("[smtp]\nhost = 'x'\n", encoding="utf-8")
    with pytest.raises(tk.ConfigError, match=r"notify\.toml: notify: the file has no \[notify\]"):
        load_settings(plan_file, config)


def test_every_problem_is_reported_with_its_place_and_fix(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        [notify]
        lang = "cn"
        repeat_interval = 7
        on_chnage = "any"

        [notify.smtp]
        host = "smtp.example.org"
        port = 70000
        security = "none"
        username = "alerts"
        password = "hunter2"

        [[notify.routes]]
        to = ["not an address"]
        severity = "fatal"

        [[notify.webhooks]]
        format = "dingding"
        url = "ftp://example.org/x"
        secret = "SEC-literal"
        """
    )
    with pytest.raises(tk.ConfigError) as info:
        parse_settings(
            tomllib.loads(text)["notify"], source="plan.toml", text=text, base_dir=tmp_path
        )
    lines = info.value.lines()
    got = "\n".join(lines)
    assert "hunter2" not in got
    assert "SEC-literal" not in got
    expected = [
        'plan.toml:2: notify.lang: must be "zh" or "en"',
        'plan.toml:3: notify.repeat_interval: expected a duration in quotes such as "7d"',
        "plan.toml:4: notify.on_chnage: unknown key 'on_chnage'; did you mean 'on_change'?",
        "plan.toml:11: notify.smtp.password: a literal password must not be written",
        "plan.toml:8: notify.smtp.port: must be between 1 and 65535 (got 70000)",
        'plan.toml:9: notify.smtp.security: security = "none" would send the password to '
        "smtp.example.org unencrypted",
        "plan.toml:6: notify.smtp.password_env: username 'alerts' is set but no password",
        "plan.toml:14: notify.routes[0].to: 'not an address' is not an email address",
        "plan.toml:15: notify.routes[0].severity: must be one of warning, critical",
        "plan.toml:20: notify.webhooks[0].secret: a literal secret must not be written",
        "plan.toml:18: notify.webhooks[0].format: must be one of wecom, dingtalk, feishu, "
        "generic (got 'dingding')",
        "plan.toml:19: notify.webhooks[0].url: is not an http(s) address",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert 'write password_env = "TARGETKIT_SMTP_PASSWORD"' in got
    assert 'write secret_env = "TARGETKIT_WEBHOOK_SECRET"' in got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", dt.timedelta(days=7)),
        ("1w", dt.timedelta(weeks=1)),
        ("36h", dt.timedelta(hours=36)),
        ("1d12h", dt.timedelta(days=1, hours=12)),
        ("90m", dt.timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "seven days", "0d", "-1d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|longer than zero"):
        parse_duration(text)


def test_settings_rules(tmp_path: Path) -> None:
    def problems(body: str) -> str:
        with pytest.raises(tk.ConfigError) as info:
            settings_from(body, tmp_path)
        return str(info.value)

    assert "no route says whom to email" in problems('[notify.smtp]\nhost = "h"\n')
    assert "give url or url_env, not both" in problems(
        '[[notify.webhooks]]\nformat = "generic"\nurl = "https://h/x"\nurl_env = "U"\n'
    )
    assert "the webhook has no address" in problems('[[notify.webhooks]]\nformat = "generic"\n')
    assert "企业微信 group bots are not signed" in problems(
        '[[notify.webhooks]]\nformat = "wecom"\nurl_env = "U"\nsecret_env = "S"\n'
    )
    assert "duplicate webhook name 'generic'" in problems(
        '[[notify.webhooks]]\nformat = "generic"\nurl = "https://h/a"\n'
        '[[notify.webhooks]]\nformat = "generic"\nurl = "https://h/b"\n'
    )
    assert "is not an environment variable name" in problems(
        '[notify.smtp]\nhost = "h"\nusername = "u"\npassword_env = "$PW"\n'
        '[[notify.routes]]\nto = ["a@b.c"]\n'
    )
    # a password over an unencrypted connection is fine to a relay on this machine
    local = settings_from(
        '[notify.smtp]\nhost = "127.0.0.1"\nsecurity = "none"\nusername = "u"\n'
        'password_env = "PW"\n[[notify.routes]]\nto = ["a@b.c"]\n',
        tmp_path,
    )
    assert local.smtp is not None
    assert local.smtp.port == 25


def test_the_notifiers_satisfy_the_protocol(tmp_path: Path) -> None:
    settings = smtp_settings(25, tmp_path)
    assert settings.smtp is not None
    assert isinstance(SmtpNotifier(settings.smtp, sender="a@b.c", environ={}), Notifier)
    assert isinstance(MaildirNotifier(tmp_path, sender="a@b.c"), Notifier)


# --------------------------------------------------------------------------- the documentation

DOCS = Path(__file__).resolve().parent.parent / "docs"
NOTIFY_PAGES = [
    DOCS / "reference" / "notify.md",
    DOCS / "how-to" / "cron-email.md",
    DOCS / "explanation" / "alert-lifecycle.md",
]


def _toml_blocks(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return re.findall(r"^```toml\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def test_the_notify_tables_in_the_docs_parse(tmp_path: Path) -> None:
    found = [block for page in NOTIFY_PAGES for block in _toml_blocks(page)]
    assert len(found) >= 2
    for block in found:
        settings = parse_settings(
            tomllib.loads(block)["notify"], source="doc", text=block, base_dir=tmp_path
        )
        assert settings.smtp is not None
        assert settings.smtp.password_env == "TARGETKIT_SMTP_PASSWORD"  # noqa: S105 - a name


def test_the_reference_lists_every_key() -> None:
    from targetkit.notify import settings as module

    text = (DOCS / "reference" / "notify.md").read_text(encoding="utf-8")
    tables = {
        "## `[notify]`": module._TOP_KEYS,
        "## `[notify.smtp]`": module._SMTP_KEYS,
        "## `[[notify.routes]]`": module._ROUTE_KEYS,
        "## `[[notify.webhooks]]`": module._WEBHOOK_KEYS,
        "## `[[notify.escalations]]`": module._ESCALATION_KEYS,
    }
    for heading, keys in tables.items():
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        table = re.search(r"^\|.*?(?=^$)", section, re.MULTILINE | re.DOTALL)
        assert table is not None, heading
        documented: set[str] = set()
        for row in re.findall(r"^\| (`[^|]*) \|", table.group(0), re.MULTILINE):
            documented.update(re.findall(r"`([a-z_]+)`", row))
        nested = {"smtp", "routes", "webhooks", "escalations"}
        assert documented == set(keys) - nested, heading
