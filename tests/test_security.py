"""The security review, as tests: input never runs as code, plan text never becomes markup or a
header, spreadsheets get no formulas, secrets stay secret, TLS verifies, files go only where told.

docs/explanation/security.md lists each risk with the test here that checks it. Servers (SMTP,
HTTP, HTTPS) run on 127.0.0.1 in the test process; nothing is mocked.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import csv
import datetime as dt
import email
import email.policy
import html.parser
import http.server
import io
import json
import mailbox
import os
import re
import shutil
import socket
import sqlite3
import ssl
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

import targetkit as tk
from targetkit.cli import main
from targetkit.model import Severity
from targetkit.notify import Digest, NotifySettings, deliver
from targetkit.notify.email import build_message
from targetkit.notify.settings import read_secret_file
from targetkit.notify.templates import render_html, render_markdown
from targetkit.notify.webhook import generic_sign
from targetkit.render.formats import _csv_cell
from targetkit.render.report import notebook_html
from targetkit.render.report import render_html as report_html
from targetkit.render.report import render_markdown as report_markdown
from targetkit.state import Notice, NoticeKind

from .test_notify import HookServer, free_port, start_smtp

SRC = Path(__file__).resolve().parent.parent / "src" / "targetkit"

# --------------------------------------------------------------------------- (a) no code from input

_FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint", "input"}
_FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle"}
_FORBIDDEN_DOTTED = {
    "os.system",
    "os.popen",
    "os.execv",
    "os.execve",
    "os.execl",
    "os.execlp",
    "os.execvp",
    "os.spawnl",
    "os.spawnv",
    "os.startfile",
    "pty.spawn",
    "yaml.load",
    "yaml.load_all",
    "yaml.full_load",
    "yaml.unsafe_load",
    "ssl._create_unverified_context",
    "ssl._create_stdlib_context",
}
# pandas' eval/query evaluate expressions; read_pickle unpickles
_FORBIDDEN_METHODS = {"eval", "query", "read_pickle", "to_pickle"}
_SQL_METHODS = {"execute", "executemany", "executescript"}
_CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _sql_is_constant(node: ast.AST) -> bool:
    """SQL text is a literal, a variable holding one, or an f-string of CONSTANTS only."""
    if isinstance(node, ast.Constant | ast.Name):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(v, ast.Constant)
            or (
                isinstance(v, ast.FormattedValue)
                and isinstance(v.value, ast.Name)
                and bool(_CONSTANT.match(v.value.id))
            )
            for v in node.values
        )
    return False


def scan(source: str, name: str = "<src>") -> list[str]:
    """Return every dangerous construct in a module's source, as ``name:line: what``."""
    found: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in _FORBIDDEN_MODULES:
                    found.append(f"{where}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
                found.append(f"{where}: from {node.module} import …")
            if node.module == "os" and {a.name for a in node.names} & {"system", "popen"}:
                found.append(f"{where}: from os import system/popen")
        elif isinstance(node, ast.Call):
            func = node.func
            dotted = _dotted(func)
            if isinstance(func, ast.Name) and func.id in _FORBIDDEN_BUILTINS:
                found.append(f"{where}: {func.id}()")
            if dotted in _FORBIDDEN_DOTTED:
                found.append(f"{where}: {dotted}()")
            if isinstance(func, ast.Attribute) and func.attr in _FORBIDDEN_METHODS:
                found.append(f"{where}: .{func.attr}()")
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    found.append(f"{where}: shell=…")
            if dotted.startswith(("subprocess.", "asyncio.create_subprocess")):
                found.append(f"{where}: {dotted}() (the library runs no programs)")
            if (
                isinstance(func, ast.Attribute)
                and func.attr in _SQL_METHODS
                and node.args
                and not _sql_is_constant(node.args[0])
            ):
                found.append(f"{where}: SQL built from values; use ? parameters")
        elif isinstance(node, ast.Attribute):
            if node.attr in ("CERT_NONE", "_create_unverified_context"):
                found.append(f"{where}: {node.attr} (TLS without verification)")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in ("check_hostname", "verify_mode")
                    and not (isinstance(node.value, ast.Constant) and node.value.value is True)
                ):
                    found.append(f"{where}: {target.attr} = … (TLS verification weakened)")
    return found


def test_the_scanner_finds_what_it_looks_for() -> None:
    bad = textwrap.dedent(
        """
        import pickle
        import marshal as m
        from shelve import open
        import os, subprocess, ssl, yaml
        eval("1")
        exec("x = 1")
        compile("1", "f", "eval")
        __import__("os")
        os.system("ls")
        os.popen("ls")
        subprocess.run("ls", shell=True)
        yaml.load(text)
        frame.query("a > 1")
        frame.eval("a + 1")
        db.execute(f"SELECT * FROM t WHERE a = {value}")
        db.execute("SELECT * FROM t WHERE a = %s" % value)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        ssl._create_unverified_context()
        """
    )
    found = "\n".join(scan(bad))
    for needle in (
        "import pickle",
        "import marshal",
        "from shelve",
        "eval()",
        "exec()",
        "compile()",
        "__import__()",
        "os.system()",
        "os.popen()",
        "shell=…",
        "subprocess.run()",
        "yaml.load()",
        ".query()",
        ".eval()",
        "SQL built from values",
        "check_hostname = …",
        "verify_mode = …",
        "CERT_NONE",
        "_create_unverified_context",
    ):
        assert needle in found, needle
    fine = 'yaml.safe_load(text)\ndb.execute("SELECT ?", (x,))\ndb.execute(f"PRAGMA a = {_ID}")\n'
    assert scan(fine) == []


def test_no_module_runs_code_from_its_input() -> None:
    """No eval/exec/pickle/marshal/yaml.load/shell/os.system, no SQL from values, TLS verified."""
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 20
    found = [hit for path in modules for hit in scan(path.read_text("utf-8"), str(path))]
    assert found == []


# --------------------------------------------------------------------------- hostile input

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS = "javascript:alert(1)"
MD = '[点此](javascript:alert(1)) ![](http://evil.example/p.png) <font color="warning">x</font> **b** `c` | d'
EW = "=?utf-8?q?x=0D=0ABcc:_evil@example.org?="  # decodes to a line break and a Bcc header
PLAN_TITLE = f"{EW} {SCRIPT}\r\nX-Injected: 1"
OWNER = "x\r\nBcc: evil@example.org\r\n\r\n<p>body</p>"
PATENTS_TITLE = f"{IMG}\r\nSubject: injected"
SCRIPT_OWNER = "<script>owner</script>"
SOURCE_CELL = "<script>alert('src')</script>"
NOTE_CELL = '=HYPERLINK("http://evil.example","x")'
ACTUALS_NAME = '"><img src=x onerror=alert(5)>.csv'
AS_OF = "2023-07-31"


def q(text: str) -> str:
    """Return a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def hostile_plan(notify: str = "") -> str:
    return textwrap.dedent(
        f"""\
        [plan]
        id = "hostile"
        title = {q(PLAN_TITLE)}
        issuer = {q(IMG)}
        source = {q(JS)}
        period = {{ start = 2023-01-01, end = 2023-12-31 }}

        [[indicators]]
        id = "turnover"
        name = {q(SCRIPT + "名称")}
        name_en = {q(MD)}
        unit = "亿元"
        kind = "cumulative"

        [[indicators]]
        id = "patents"
        name = {q(IMG)}
        name_en = "![pixel](http://evil.example/p.png)"
        unit = "项"
        kind = "cumulative"
        cadence = "monthly"
        lag_days = 20

        [[targets]]
        id = "turnover"
        title = {q(SCRIPT)}
        section = {q(IMG)}
        item = 1
        source = {q(JS)}
        owner = {q(OWNER)}
        tags = [{q(SCRIPT)}]
        binding = true
        rule = {{ kind = "at_least", indicator = "turnover", value = 360, unit = "亿元" }}

        [[targets]]
        id = "patents"
        title = {q(PATENTS_TITLE)}
        owner = {q(SCRIPT_OWNER)}
        rule = {{ kind = "at_least", indicator = "patents", value = 100, unit = "项" }}

        [[targets]]
        id = "md"
        title = {q(MD)}
        owner = "# heading\\n- item"
        deadline = 2023-06-30
        rule = {{ kind = "milestone" }}
        """
    ) + textwrap.dedent(notify)


def write_hostile(folder: Path, notify: str = "") -> tuple[Path, Path]:
    plan = folder / "plan.toml"
    plan.write_text(hostile_plan(notify), encoding="utf-8")
    actuals = folder / ACTUALS_NAME
    with actuals.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["indicator", "date", "value", "unit", "source", "note"])
        writer.writerow(["turnover", "2023-06-30", "60", "亿元", SOURCE_CELL, NOTE_CELL])
    return plan, actuals


def hostile_evaluation(folder: Path) -> tuple[tk.Evaluation, tk.Actuals]:
    plan_path, actuals_path = write_hostile(folder)
    plan = tk.load(plan_path)
    actuals = tk.read_actuals(actuals_path, plan)
    return tk.evaluate(plan, actuals, as_of=dt.date.fromisoformat(AS_OF)), actuals


def one_line(text: str) -> str:
    return " ".join(text.split())


class Markup(html.parser.HTMLParser):
    """What a browser or mail client would build from a document: tags, attributes, text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.data: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    @property
    def text(self) -> str:
        return one_line("".join(self.data))


# Elements that run script, load something or navigate; none is ever in targetkit's HTML.
_ACTIVE = {
    "script",
    "img",
    "iframe",
    "frame",
    "object",
    "embed",
    "a",
    "link",
    "base",
    "form",
    "input",
    "button",
    "video",
    "audio",
    "source",
    "image",
    "use",
    "foreignobject",
    "animate",
    "set",
    "font",
}
_URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "srcdoc", "background"}


def assert_inert(document: str, texts: list[str]) -> Markup:
    """Check that a document has no active element or attribute and shows ``texts`` as text."""
    markup = Markup(document)
    assert set(markup.tags) & _ACTIVE == set(), set(markup.tags) & _ACTIVE
    for tag, name, value in markup.attrs:
        assert not name.startswith("on"), (tag, name, value)
        assert name not in _URL_ATTRS, (tag, name, value)
        assert "javascript:" not in value.lower(), (tag, name, value)
        if tag == "meta":
            assert name != "http-equiv", value
    assert markup.tags.count("style") <= 1
    for text in texts:
        assert one_line(text) in markup.text, text
    return markup


def test_the_html_report_shows_hostile_text_as_text(tmp_path: Path) -> None:
    evaluation, actuals = hostile_evaluation(tmp_path)
    for lang in ("zh", "en"):
        document = report_html(evaluation, lang=lang, history=actuals)
        assert_inert(document, [SCRIPT, PATENTS_TITLE, MD, IMG, one_line(SCRIPT_OWNER)])
        assert "<script" not in document.lower()
    text = Markup(report_html(evaluation, lang="zh", history=actuals)).text
    assert one_line(OWNER) in text  # the owner, line breaks and all, is one line of text
    assert JS in text  # the plan's source, in the footer
    assert f"尚无{IMG}数据" in text  # an indicator name, in the no-data explanation


def test_the_notebook_view_shows_hostile_text_as_text(tmp_path: Path) -> None:
    evaluation, _ = hostile_evaluation(tmp_path)
    assert_inert(notebook_html(evaluation), [SCRIPT, PATENTS_TITLE, MD])
    single = notebook_html(evaluation.result("turnover"), lang="en")
    markup = assert_inert(single, [SCRIPT, one_line(OWNER)])
    assert ACTUALS_NAME in markup.text  # the evidence names its file, as text


def test_the_analyst_views_show_hostile_text_as_text(tmp_path: Path) -> None:
    evaluation, _ = hostile_evaluation(tmp_path)
    changes = evaluation.changes(evaluation)
    assert_inert(changes.to_html(), [SCRIPT, PATENTS_TITLE])
    assert_inert(changes.to_html(lang="en"), [SCRIPT, PATENTS_TITLE])
    styled = evaluation.styled().to_html()
    assert_inert(styled, [SCRIPT, PATENTS_TITLE, one_line(OWNER)])


def test_the_styled_frame_writes_no_formula_to_excel(tmp_path: Path) -> None:
    import openpyxl

    plan, actuals = write_hostile(tmp_path)
    text = plan.read_text("utf-8").replace(
        f"title = {q(SCRIPT)}", 'title = "=HYPERLINK(\\"http://evil\\",\\"x\\")"'
    )
    plan.write_text(text, encoding="utf-8")
    loaded = tk.load(plan)
    evaluation = tk.evaluate(loaded, tk.read_actuals(actuals, loaded), as_of=dt.date(2023, 7, 31))
    styler = evaluation.styled()
    styler.to_excel(tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert '\'=HYPERLINK("http://evil","x")' in [c.value for c in cells]
    # the notebook view is unchanged by the export
    assert styler.data.loc["turnover", "目标"] == '=HYPERLINK("http://evil","x")'  # type: ignore[attr-defined]


def test_the_markdown_report_escapes_hostile_text(tmp_path: Path) -> None:
    evaluation, _ = hostile_evaluation(tmp_path)
    for document in (
        report_markdown(evaluation),
        report_markdown(evaluation, lang="en"),
        _cli_out("check", tmp_path / "plan.toml", "-a", tmp_path / ACTUALS_NAME, "-f", "markdown"),
    ):
        assert_markdown_inert(document)
        assert one_line(MD) in _md_unescape(document)
        assert SCRIPT in _md_unescape(document)


def assert_markdown_inert(document: str) -> None:
    """No unescaped tag, link, image or code span can come from plan text."""
    # targetkit's own markup: severity badges (never followed by "(") and target ids as code
    own = re.sub(r"\[(严重|预警|critical|warning|✓)\] |`[A-Za-z0-9_.-]+`", "", document)
    unescaped = re.sub(r"\\.", "", own)
    assert not re.search(r"[<>\[\]`]", unescaped), re.findall(r".{0,20}[<>\[\]`].{0,20}", unescaped)
    for line in document.splitlines():  # a line break in a title never starts a new block
        assert not line.startswith(("Bcc", "Subject", "X-Injected", "<", "- item")), line


def _md_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _cli(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _cli_out(*args: str | Path) -> str:
    code, out, err = _cli(*args, "--as-of", AS_OF)
    assert code in (0, 1, 2), err
    return out


def test_the_terminal_table_obeys_no_escape_sequence(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    text = plan.read_text("utf-8").replace(
        f"title = {q(SCRIPT)}",
        f"title = {q(chr(27) + ']0;pwned' + chr(7) + chr(27) + '[2J' + chr(0x202E) + 'abc')}",
    )
    plan.write_text(text, encoding="utf-8")
    out = _cli_out("check", plan, "-a", actuals)
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202eabc" in out
    lines = out.splitlines()
    assert not any(line.startswith(("X-Injected", "Subject", "Bcc")) for line in lines)


# --------------------------------------------------------------------------- email


def _email_plan(folder: Path, port: int) -> tuple[Path, Path]:
    return write_hostile(
        folder,
        f"""
        [notify]
        from = "targetkit <alerts@example.org>"
        [notify.smtp]
        host = "127.0.0.1"
        port = {port}
        security = "none"
        timeout = 5
        [[notify.routes]]
        to = ["ops@example.org"]
        [[notify.routes]]
        to = ["owner@example.org"]
        owners = [{q(SCRIPT_OWNER)}]
        """,
    )


_HEADERS = {
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "auto-submitted",
    "x-auto-response-suppress",
    "content-language",
    "x-targetkit-plan",
    "mime-version",
    "content-type",
}


def assert_headers_intact(raw: bytes, *, to: str | None) -> EmailMessage:
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    names = [
        line.split(b":", 1)[0].decode().lower()
        for line in head.split(b"\n")
        if line and not line[:1].isspace()
    ]
    assert sorted(names) == sorted(_HEADERS - ({"to"} if to is None else set())), names
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    subject = str(message["Subject"])
    assert "\n" not in subject
    assert "\r" not in subject
    if to is not None:
        assert message["To"] == to
    return message


def test_email_over_smtp_carries_no_injection(tmp_path: Path) -> None:
    server = start_smtp()
    try:
        plan, actuals = _email_plan(tmp_path, server.port)
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
        assert code == 2, err
        received = server.inbox.received
        assert sorted(r.rcpt_tos[0] for r in received) == ["ops@example.org", "owner@example.org"]
        for r in received:
            assert len(r.rcpt_tos) == 1  # no Bcc reached the envelope
            message = assert_headers_intact(r.raw, to=r.rcpt_tos[0])
            subject = str(message["Subject"])
            assert "=0D=0ABcc:_evil@example.org" in subject  # the encoded word stays as written
            assert SCRIPT in subject
            assert "X-Injected: 1" in subject  # shown, as text
            html_part = message.get_body(preferencelist=("html",))
            text_part = message.get_body(preferencelist=("plain",))
            assert isinstance(html_part, EmailMessage)
            assert isinstance(text_part, EmailMessage)
            assert_inert(str(html_part.get_content()), [SCRIPT_OWNER])
            body = str(text_part.get_content())
            assert "\nBcc:" not in body
            assert "\nSubject:" not in body
        ops = next(r for r in received if r.rcpt_tos == ["ops@example.org"])
        ops_html = ops.message.get_body(preferencelist=("html",))
        assert isinstance(ops_html, EmailMessage)
        assert_inert(str(ops_html.get_content()), [SCRIPT, one_line(OWNER), MD, PATENTS_TITLE])
    finally:
        server.controller.stop()


def test_the_maildir_outbox_carries_no_injection(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
    assert code == 2, err
    box = mailbox.Maildir(tmp_path / ".targetkit" / "outbox", create=False)
    [key] = list(box.iterkeys())
    message = assert_headers_intact(box.get_bytes(key), to=None)
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    assert_inert(str(html_part.get_content()), [SCRIPT, one_line(OWNER), MD])


@pytest.mark.parametrize(
    "title",
    [
        EW,
        "=?utf-8?b?" + base64.b64encode(b"\r\nBcc: evil@example.org").decode() + "?=",
        "=?UTF-8?Q?=0ABcc=3A_evil@example.org?==?utf-8?q?x?=",
        "a\r\nBcc: evil@example.org",
        "a\nBcc: evil@example.org",
        "a\rBcc: evil@example.org",
        "a\u2028Bcc: evil@example.org",
        "a\x85Bcc: evil@example.org",
        "a\x00\x0b\x0c\x1b[2Jb",
        "长" * 300 + EW + "题" * 300,
    ],
)
def test_a_title_never_adds_a_header(title: str) -> None:
    notice = Notice(
        kind=NoticeKind.NEW,
        key="status:t",
        alert_kind="status",
        target="t",
        title=title,
        severity=Severity.CRITICAL,
        peak_severity=Severity.CRITICAL,
        status="off_track",
        as_of=dt.date(2023, 7, 31),
        first_seen_as_of=dt.date(2023, 7, 31),
        owner=title,
        message_zh=title,
        message_en=title,
    )
    digest = Digest(
        plan_id="p",
        plan_title=title,
        as_of=dt.date(2023, 7, 31),
        lang="zh",
        channel="email",
        recipient="a@example.org",
        notices=[notice],
    )
    message = build_message(
        digest, sender="t <t@example.org>", now=dt.datetime(2023, 7, 31, tzinfo=dt.UTC)
    )
    raw = message.as_bytes()
    parsed = assert_headers_intact(raw, to="a@example.org")
    assert parsed["Bcc"] is None
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        assert not line.startswith(b"Bcc"), line
    assert_inert(render_html(digest), [])


# --------------------------------------------------------------------------- webhooks


def test_webhook_payloads_are_json_with_the_text_intact(tmp_path: Path) -> None:
    hooks = HookServer()
    hooks.thread.start()
    try:
        plan, actuals = write_hostile(
            tmp_path,
            f"""
            [notify]
            [[notify.webhooks]]
            format = "generic"
            url = "{hooks.url("/generic")}"
            [[notify.webhooks]]
            format = "wecom"
            url = "{hooks.url("/wecom?key=k")}"
            [[notify.webhooks]]
            format = "dingtalk"
            url = "{hooks.url("/ding?access_token=t")}"
            [[notify.webhooks]]
            format = "feishu"
            url = "{hooks.url("/feishu")}"
            """,
        )
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
        assert code == 2, err
    finally:
        hooks.httpd.shutdown()
        hooks.httpd.server_close()
    posts = {p.path: json.loads(p.body.decode("utf-8", "strict")) for p in hooks.posts}
    assert sorted(posts) == ["/ding", "/feishu", "/generic", "/wecom"]
    generic = posts["/generic"]
    assert generic["plan"]["title"] == PLAN_TITLE  # JSON carries the text exactly
    titles = {n["target"]: n["title"] for n in generic["notices"]}
    assert titles == {"turnover": SCRIPT, "patents": PATENTS_TITLE, "md": MD}
    owners = {n["target"]: n["owner"] for n in generic["notices"]}
    assert owners["turnover"] == OWNER
    for markdown in (posts["/wecom"]["markdown"]["content"], posts["/ding"]["markdown"]["text"]):
        assert_markdown_inert(markdown)
        plain = _md_unescape(markdown)
        assert SCRIPT in plain
        assert one_line(MD) in plain
        assert one_line(OWNER) in plain
    assert "\n" not in posts["/ding"]["markdown"]["title"]
    feishu = posts["/feishu"]["content"]["post"]["zh_cn"]
    lines = [p[0]["text"] for p in feishu["content"]]
    assert any(SCRIPT in line for line in lines)
    assert all("\n" not in line for line in lines)


def test_markdown_digest_escapes_every_plan_string(tmp_path: Path) -> None:
    evaluation, _ = hostile_evaluation(tmp_path)
    settings = NotifySettings.defaults(tmp_path)
    now = dt.datetime(2023, 7, 31, tzinfo=dt.UTC)
    report = deliver(evaluation, settings, now=now, dry_run=True, out=io.StringIO())
    assert len(report.notices) == 3
    digest = Digest(
        plan_id="hostile",
        plan_title=PLAN_TITLE,
        as_of=dt.date(2023, 7, 31),
        lang="en",
        channel="webhook",
        recipient="x",
        notices=report.notices,
    )
    assert_markdown_inert(render_markdown(digest))


# --------------------------------------------------------------------------- units and data


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (('unit = "项"', 'unit = "<img src=x onerror=alert(1)>"'), "indicators[1].unit"),
        (("[[indicators]]", '[units]\n"<script>" = "[x]"\n\n[[indicators]]'), "units"),
    ],
)
def test_a_hostile_unit_is_refused(tmp_path: Path, edit: tuple[str, str], where: str) -> None:
    plan, actuals = write_hostile(tmp_path)
    plan.write_text(plan.read_text("utf-8").replace(*edit, 1), encoding="utf-8")
    code, out, err = _cli(
        "report", plan, "-a", actuals, "--as-of", AS_OF, "-o", tmp_path / "r.html"
    )
    assert code == 3
    assert out == ""
    assert where in err
    assert not (tmp_path / "r.html").exists()


def test_a_hostile_unit_in_the_data_is_refused(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    actuals.write_text(
        "indicator,date,value,unit\nturnover,2023-06-30,60,<script>alert(1)</script>\n", "utf-8"
    )
    code, out, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF)
    assert code == 3
    assert out == ""
    assert ":2: unit" in err


def test_json_output_keeps_hostile_text_as_data(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    document = json.loads(_cli_out("check", plan, "-a", actuals, "-f", "json"))
    assert document["plan"]["title"] == PLAN_TITLE
    [turnover] = [r for r in document["results"] if r["target"] == "turnover"]
    assert turnover["title"] == SCRIPT
    assert turnover["owner"] == OWNER
    [evidence] = turnover["evidence"]
    assert (evidence["source"], evidence["note"]) == (SOURCE_CELL, NOTE_CELL)


# --------------------------------------------------------------------------- (c) CSV export

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\t", "'\t"),
        ("  =1+1", "'  =1+1"),
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("-", "'-"),
        ("-12.5", "-12.5"),  # a real negative number stays a number
        ("-1e3", "-1e3"),
        ("技术合同成交额", "技术合同成交额"),
        ("a=1", "a=1"),
        (-33.333333333, "-33.333333"),
        (-0.5, "-0.5"),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cells_never_start_a_formula(cell: object, expected: str) -> None:
    assert _csv_cell(cell) == expected


def test_check_csv_neutralises_formulas_and_keeps_numbers(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    text = plan.read_text("utf-8")
    text = text.replace(f"title = {q(SCRIPT)}", 'title = "=HYPERLINK(\\"http://evil\\",\\"x\\")"')
    text = text.replace(f"owner = {q(OWNER)}", "owner = \"@SUM(1+1)*cmd|' /C calc'!A0\"")
    text = text.replace(f"title = {q(MD)}", "title = \"-2+3+cmd|' /C calc'!A0\"")
    text = text.replace(f"owner = {q(SCRIPT_OWNER)}", 'owner = "+1+1"')
    plan.write_text(text, encoding="utf-8")
    out = _cli_out("check", plan, "-a", actuals, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 3
    numeric = {"actual", "target_value", "completion", "expected", "gap_pp"}
    for row in rows:
        for column, value in row.items():
            if column in numeric:
                if value:
                    float(value)  # numbers stay numbers
                continue
            stripped = value.lstrip(" ")
            if stripped[:1] in _FORMULA:
                assert value.startswith("'"), (column, value)
    turnover = next(r for r in rows if r["target"] == "turnover")
    assert turnover["title"] == '\'=HYPERLINK("http://evil","x")'
    assert turnover["owner"].startswith("'@SUM")
    assert float(turnover["gap_pp"]) < 0  # a negative gap is a number, not a quoted text
    assert not turnover["gap_pp"].startswith("'")
    md = next(r for r in rows if r["target"] == "md")
    assert md["title"].startswith("'-2+3")


# --------------------------------------------------------------------------- (d) secrets

PASSWORD = "pw-7Hq9#Lk2$zX"  # noqa: S105 - the test's own secret, for local servers
HOOK_SECRET = "hs-Q8w!e3Rt5Yu"  # noqa: S105
HOOK_TOKEN = "tok-9d8c7b6a5f"  # noqa: S105
USER = "alerts@example.org"


def secret_forms() -> list[str]:
    return [
        PASSWORD,
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),
        HOOK_SECRET,
        base64.b64encode(HOOK_SECRET.encode()).decode(),
        HOOK_TOKEN,
    ]


def assert_no_secret(*texts: str | bytes, where: str = "") -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        for form in secret_forms():
            assert form.encode() not in data, f"{form!r} found in {where}"


def files_text(folder: Path) -> bytes:
    """Return every file under folder (state, journal, lock, Maildir, reports), concatenated."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _secret_notify(smtp_port: int, hook_port: int, **extra: str) -> str:
    smtp_extra = extra.get("smtp", "")
    return f"""
        [notify]
        from = "targetkit <{USER}>"
        [notify.smtp]
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        username = "{USER}"
        password_env = "TK_SEC_SMTP_PASSWORD"
        timeout = 5
        {smtp_extra}
        [[notify.routes]]
        to = ["ops@example.org"]
        [[notify.webhooks]]
        name = "signed"
        format = "generic"
        url = "http://127.0.0.1:{hook_port}/hook"
        secret_env = "TK_SEC_HOOK_SECRET"
        timeout = 3
        [[notify.webhooks]]
        name = "bot"
        format = "dingtalk"
        url_env = "TK_SEC_HOOK_URL"
        secret_env = "TK_SEC_HOOK_SECRET"
        timeout = 3
        """


def _secret_env(hook_port: int) -> dict[str, str]:
    return {
        "TK_SEC_SMTP_PASSWORD": PASSWORD,
        "TK_SEC_HOOK_SECRET": HOOK_SECRET,
        # a Windows-edited EnvironmentFile leaves "\r" at the end of the line
        "TK_SEC_HOOK_URL": f"http://127.0.0.1:{hook_port}/robot send?access_token={HOOK_TOKEN}\r",
    }


def test_secrets_never_leak_with_the_servers_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp_port, hook_port = free_port(), free_port()  # nothing listens on either
    plan, actuals = write_hostile(tmp_path, _secret_notify(smtp_port, hook_port))
    for name, value in _secret_env(hook_port).items():
        monkeypatch.setenv(name, value)
    outputs: list[str] = []
    for debug in ([], ["--debug"]):
        code, out, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", *debug)
        assert code == 4, err
        assert "cannot connect to SMTP server 127.0.0.1" in err
        assert "delivery to webhook signed failed: cannot reach" in err
        assert "delivery to webhook bot failed: $TK_SEC_HOOK_URL holds a space" in err
        outputs += [out, err]
    for args in (
        ("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", "--dry-run", "--debug"),
        ("alerts", "history", plan, "--lang", "en"),
        ("report", plan, "-a", actuals, "--as-of", AS_OF, "-o", tmp_path / "report.html"),
        ("report", plan, "-a", actuals, "--as-of", AS_OF, "-f", "markdown"),
        ("check", plan, "-a", actuals, "--as-of", AS_OF, "-f", "json", "--notify"),
    ):
        code, out, err = _cli(*args)
        assert code in (0, 2, 4), err
        outputs += [out, err]
    # warnings no route takes go to the Maildir outbox, next to a signed webhook that is down
    config = _notify_file(
        tmp_path,
        f"""
        [notify]
        outbox = "mail"
        [[notify.webhooks]]
        format = "generic"
        url = "http://127.0.0.1:{hook_port}/hook"
        secret_env = "TK_SEC_HOOK_SECRET"
        severity = "critical"
        """,
    )
    code, out, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", config)
    assert code == 4, err
    outputs += [out, err]
    assert list((tmp_path / "etc" / "mail" / "new").iterdir())
    assert "attempt" in "".join(outputs)  # the history shows the failed attempts …
    assert_no_secret(*outputs, where="the output")  # … and no secret
    assert (tmp_path / ".targetkit" / "state.sqlite").exists()
    assert_no_secret(files_text(tmp_path), where="the files")


def test_secrets_never_leak_in_a_real_process_with_debug(tmp_path: Path) -> None:
    smtp_port, hook_port = free_port(), free_port()
    plan, actuals = write_hostile(tmp_path, _secret_notify(smtp_port, hook_port))
    (tmp_path / ".targetkit").mkdir()
    (tmp_path / ".targetkit" / "state.sqlite").write_bytes(b"not a database " * 100)
    env = {**os.environ, **_secret_env(hook_port), "PYTHONPATH": str(SRC.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "targetkit", "check", plan, "-a", actuals, *DEBUG_NOTIFY],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3  # a damaged state file: a traceback with --debug …
    assert b"Traceback" in done.stderr
    assert b"is not a readable targetkit alert state file" in done.stderr
    assert_no_secret(done.stdout, done.stderr, where="a --debug traceback")  # … and no secret


DEBUG_NOTIFY = ("--as-of", AS_OF, "--notify", "--debug")


class EchoAuthServer:
    """A hostile SMTP server that quotes the login it was sent back in its error answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.logins = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn, conn.makefile("rwb") as f:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    self._talk(f)

    def _talk(self, f: Any) -> None:
        f.write(b"220 echo ESMTP\r\n")
        f.flush()
        while line := f.readline():
            words = line.strip().split()
            verb = words[0].upper() if words else b""
            if verb == b"EHLO":
                f.write(b"250-echo\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == b"AUTH" and words[1].upper() == b"PLAIN":
                self.logins += 1
                sent = words[2]
                said = base64.b64decode(sent).replace(b"\0", b" ")
                f.write(b"535 5.7.8 rejected" + said + b" (" + sent + b")\r\n")
            elif verb == b"AUTH" and words[1].upper() == b"LOGIN":
                f.write(b"334 UGFzc3dvcmQ6\r\n")
                f.flush()
                sent = f.readline().strip()
                said = base64.b64decode(sent)
                f.write(b"535 5.7.8 wrong password " + said + b" (" + sent + b")\r\n")
            elif verb == b"QUIT":
                f.write(b"221 bye\r\n")
                f.flush()
                return
            else:
                f.write(b"502 5.5.2 what\r\n")
            f.flush()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_a_server_that_quotes_the_password_does_not_make_it_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = EchoAuthServer()
    try:
        plan, actuals = write_hostile(tmp_path, _secret_notify(server.port, free_port()))
        for name, value in _secret_env(free_port()).items():
            monkeypatch.setenv(name, value)
        code, out, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", "--debug")
    finally:
        server.stop()
    assert code == 4
    assert server.logins >= 1
    assert "refused the login of alerts@example.org (535 5.7.8" in err
    assert "***" in err  # what the server quoted is masked
    assert_no_secret(out, err, files_text(tmp_path), where="a quoting server's answer")


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[notify.smtp]\nhost = "127.0.0.1"\npassword = "{secret}"', "notify.smtp.password"),
        ('[notify.smtp]\nhost = "127.0.0.1"\npass = "{secret}"', "notify.smtp.pass"),
        ('password = "{secret}"', "notify.password"),
        (
            '[[notify.webhooks]]\nformat = "dingtalk"\nurl = "https://h/x"\nsecret = "{secret}"',
            "notify.webhooks[0].secret",
        ),
        (
            '[[notify.webhooks]]\nformat = "wecom"\nurl = "https://h/x"\ntoken = "{secret}"',
            "notify.webhooks[0].token",
        ),
    ],
)
def test_a_literal_secret_is_refused_without_echoing_it(
    tmp_path: Path, table: str, key: str
) -> None:
    plan, actuals = write_hostile(tmp_path, "[notify]\n" + table.format(secret=PASSWORD) + "\n")
    code, out, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", "--debug")
    assert code == 3
    assert key in err
    assert "must not be written in a configuration file" in err
    assert_no_secret(out, err, where="the refusal")
    assert not (tmp_path / ".targetkit").exists()  # refused before anything was written


def _notify_file(folder: Path, body: str) -> Path:
    path = folder / "etc" / "notify.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def _secret_file(folder: Path, name: str, value: str, mode: int) -> Path:
    path = folder / "secrets" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_password_file_must_be_private(tmp_path: Path) -> None:
    logins: list[bytes] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append(data.password)
        return AuthResult(success=data.password == PASSWORD.encode(), handled=False)

    server = start_smtp(authenticator=authenticator, auth_require_tls=False)
    try:
        plan, actuals = write_hostile(tmp_path)
        secret = _secret_file(tmp_path, "smtp-password", PASSWORD, 0o644)
        config = _notify_file(
            tmp_path,
            f"""
            [notify]
            [notify.smtp]
            host = "127.0.0.1"
            port = {server.port}
            security = "none"
            username = "{USER}"
            password_file = "../secrets/smtp-password"
            timeout = 5
            [[notify.routes]]
            to = ["ops@example.org"]
            """,
        )
        args = ("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", config)
        code, out, err = _cli(*args)
        assert code == 4
        assert "can be read or written by other users (mode 0644); run chmod 600" in err
        assert logins == []  # refused before connecting: the server never saw it
        for mode in (0o640, 0o604, 0o620):
            secret.chmod(mode)
            assert _cli(*args)[0] == 4
        assert logins == []
        secret.chmod(0o600)
        code, out2, err2 = _cli(*args)
        assert code == 2, err2
        assert logins == [PASSWORD.encode()]  # the trailing line break was dropped
        assert len(server.inbox.received) == 1
        assert_no_secret(out, err, out2, err2, files_text(tmp_path / ".targetkit"), where="run")
    finally:
        server.controller.stop()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_webhook_secret_file_must_be_private(tmp_path: Path) -> None:
    hooks = HookServer()
    hooks.thread.start()
    try:
        plan, actuals = write_hostile(tmp_path)
        secret = _secret_file(tmp_path, "hook", HOOK_SECRET, 0o666)
        config = _notify_file(
            tmp_path,
            f"""
            [notify]
            [[notify.webhooks]]
            format = "generic"
            url = "{hooks.url("/hook")}"
            secret_file = "{secret}"
            """,
        )
        args = ("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", config)
        code, _, err = _cli(*args)
        assert code == 4
        assert "signing secret file cannot be used" in err
        assert "(mode 0666)" in err
        assert hooks.posts == []
        secret.chmod(0o400)
        code, _, err = _cli(*args)
        assert code == 2, err
        [post] = hooks.posts
        stamp = int(post.headers["x-targetkit-timestamp"])
        assert post.headers["x-targetkit-signature"] == generic_sign(HOOK_SECRET, stamp, post.body)
        assert_no_secret(err, post.body, files_text(tmp_path / ".targetkit"), where="the run")
    finally:
        hooks.httpd.shutdown()
        hooks.httpd.server_close()


def test_a_plan_file_cannot_name_a_secret_file(tmp_path: Path) -> None:
    plan, actuals = write_hostile(
        tmp_path,
        """
        [notify]
        [notify.smtp]
        host = "smtp.evil.example"
        username = "x"
        password_file = "../../home/someone/.ssh/id_ed25519"
        [[notify.routes]]
        to = ["ops@example.org"]
        """,
    )
    code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
    assert code == 3
    assert (
        "notify.smtp.password_file: a plan file's [notify] table cannot name a secret file" in err
    )
    assert "--notify FILE" in err


def test_reading_a_secret_file(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "s", "line one", 0o600)
    assert read_secret_file(path) == "line one"
    path.write_bytes(b"crlf\r\n")
    assert read_secret_file(path) == "crlf"
    for content, problem in ((b"", "is empty"), (b"\xff\xfe", "not UTF-8"), (b"x" * 70000, "64")):
        path.write_bytes(content)
        with pytest.raises(ValueError, match=problem) as info:
            read_secret_file(path)
        assert "x" * 10 not in str(info.value)
    with pytest.raises(ValueError, match="is not a regular file"):
        read_secret_file(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo, 0o600)
        with pytest.raises(ValueError, match="is not a regular file"):
            read_secret_file(fifo)  # refused at once, not waited on
    with pytest.raises(ValueError, match="cannot open"):
        read_secret_file(tmp_path / "missing")


# --------------------------------------------------------------------------- (e) TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key)),
            *("-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _tls_plan(folder: Path, port: int, security: str, extra: str = "") -> tuple[Path, Path]:
    return write_hostile(
        folder,
        f"""
        [notify]
        [notify.smtp]
        host = "127.0.0.1"
        port = {port}
        security = "{security}"
        timeout = 5
        {extra}
        [[notify.routes]]
        to = ["ops@example.org"]
        """,
    )


def test_smtp_over_tls_refuses_a_self_signed_certificate_by_default(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    server = start_smtp(ssl_context=_server_context(cert, key))
    try:
        _mk(tmp_path / "a")
        plan, actuals = _tls_plan(tmp_path / "a", server.port, "tls")
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
        assert code == 4
        assert "TLS with SMTP server 127.0.0.1" in err
        assert "CERTIFICATE_VERIFY_FAILED" in err
        assert server.inbox.received == []
        # trusted explicitly (the certificate as the authority): delivered
        _mk(tmp_path / "b")
        plan, actuals = _tls_plan(tmp_path / "b", server.port, "tls", f'ca_file = "{cert}"')
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
        assert code == 2, err
        assert len(server.inbox.received) == 1
    finally:
        server.controller.stop()


def _mk(folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    return True


def test_starttls_is_required_and_verified(
    certificate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    logins: list[bytes] = []

    def authenticator(*args: Any) -> AuthResult:
        logins.append(b"x")
        return AuthResult(success=True)

    monkeypatch.setenv("TK_SEC_SMTP_PASSWORD", PASSWORD)
    login = f'username = "{USER}"\npassword_env = "TK_SEC_SMTP_PASSWORD"'
    plain = start_smtp(authenticator=authenticator, auth_require_tls=False)  # no STARTTLS
    try:
        _mk(tmp_path / "a")
        plan, actuals = _tls_plan(tmp_path / "a", plain.port, "starttls", login)
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
        assert code == 4
        assert "does not offer STARTTLS" in err  # no silent fall back to plain text
        assert logins == []  # so the password was never sent
        assert plain.inbox.received == []
    finally:
        plain.controller.stop()
    secure = start_smtp(
        tls_context=_server_context(cert, key),
        require_starttls=True,
        authenticator=authenticator,
    )
    try:
        _mk(tmp_path / "b")
        plan, actuals = _tls_plan(tmp_path / "b", secure.port, "starttls", login)
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
        assert code == 4
        assert "CERTIFICATE_VERIFY_FAILED" in err
        assert logins == []
        # the right authority but the wrong name: the host name is checked too
        _mk(tmp_path / "c")
        plan, actuals = _tls_plan(tmp_path / "c", secure.port, "starttls", f'ca_file = "{cert}"')
        text = plan.read_text("utf-8").replace('host = "127.0.0.1"', 'host = "localhost"')
        plan.write_text(text, encoding="utf-8")
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
        assert code == 4
        assert "CERTIFICATE_VERIFY_FAILED" in err or "match" in err
        assert secure.inbox.received == []
    finally:
        secure.controller.stop()


@contextlib.contextmanager
def https_hooks(cert: Path, key: Path) -> Iterator[HookServer]:
    hooks = HookServer()
    hooks.httpd.socket = _server_context(cert, key).wrap_socket(
        hooks.httpd.socket, server_side=True
    )
    hooks.thread.start()
    try:
        yield hooks
    finally:
        hooks.httpd.shutdown()
        hooks.httpd.server_close()


def test_https_webhooks_verify_the_certificate(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    with https_hooks(cert, key) as hooks:
        url = f"https://127.0.0.1:{hooks.port}/hook"
        for folder, extra in (("a", ""), ("b", f'ca_file = "{cert}"')):
            _mk(tmp_path / folder)
            plan, actuals = write_hostile(
                tmp_path / folder,
                f"""
                [notify]
                [[notify.webhooks]]
                format = "generic"
                url = "{url}"
                timeout = 5
                {extra}
                """,
            )
            code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
            if not extra:
                assert code == 4
                assert "CERTIFICATE_VERIFY_FAILED" in err
                assert hooks.posts == []
            else:
                assert code == 2, err
                assert len(hooks.posts) == 1


def test_a_webhook_redirect_is_not_followed(tmp_path: Path) -> None:
    class Redirect(http.server.BaseHTTPRequestHandler):
        gets: list[str] = []  # noqa: RUF012 - a test's record

        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            Redirect.gets.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        plan, actuals = write_hostile(
            tmp_path,
            f"""
            [notify]
            [[notify.webhooks]]
            format = "generic"
            url = "http://127.0.0.1:{httpd.server_address[1]}/hook"
            """,
        )
        code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert code == 4  # not "delivered": the POST's body never reached anyone
    assert "answered HTTP 302" in err
    assert "redirect, which is not followed" in err
    assert Redirect.gets == []
    db = sqlite3.connect(tmp_path / ".targetkit" / "state.sqlite")
    assert db.execute("SELECT count(*) FROM outbox WHERE sent IS NULL").fetchone()[0] == 3
    db.close()


# --------------------------------------------------------------------------- (f) paths


@pytest.mark.parametrize(
    "path",
    ["/tmp/targetkit-evil/state.sqlite", "../outside/state.sqlite", "a/../../outside.sqlite"],  # noqa: S108
)
@pytest.mark.parametrize("key", ["state", "outbox"])
def test_a_plan_cannot_point_its_files_outside_its_folder(
    tmp_path: Path, key: str, path: str
) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    plan, actuals = write_hostile(folder, f"[notify]\n{key} = {q(path)}\n")
    code, out, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
    assert code == 3
    assert out == ""  # stopped before evaluating
    assert f"notify.{key}: a plan file's [notify] table may only name a path inside" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["plans", "plan.toml", ACTUALS_NAME]
    )
    assert not Path("/tmp/targetkit-evil").exists()  # noqa: S108 - checking it was not made


def test_relative_paths_in_a_plan_start_at_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    plan, actuals = write_hostile(
        folder, '[notify]\nstate = "var/alerts.sqlite"\noutbox = "mail"\n'
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify")
    assert code == 2, err
    assert (folder / "var" / "alerts.sqlite").is_file()
    assert len(list((folder / "mail" / "new").iterdir())) == 1
    assert list(elsewhere.iterdir()) == []
    mail_files = [p for p in (folder / "mail").rglob("*") if p.is_file()]
    assert all(p.parent.name in ("new", "cur", "tmp") for p in mail_files)


def test_a_separate_notify_file_may_put_files_anywhere(tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    plan, actuals = write_hostile(folder)
    state = tmp_path / "var" / "lib" / "alerts.sqlite"
    config = _notify_file(tmp_path, f'[notify]\nstate = {q(str(state))}\noutbox = "../mail"\n')
    code, _, err = _cli("check", plan, "-a", actuals, "--as-of", AS_OF, "--notify", config)
    assert code == 2, err
    assert state.is_file()
    assert (tmp_path / "mail" / "new").is_dir()


def _report_args(plan: Path, actuals: Path, out: Path) -> tuple[str | Path, ...]:
    return ("report", plan, "-a", actuals, "--as-of", AS_OF, "-o", out)


def test_report_output_replaces_a_file_whole_and_writes_nothing_else(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    out.write_text("old report\n", encoding="utf-8")
    out.chmod(0o600)
    code, _, err = _cli(*_report_args(plan, actuals, out))
    assert code == 0, err
    text = out.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.endswith("</html>\n")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temporary left
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600  # a private report stays private


def test_report_output_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    victim = tmp_path / "elsewhere" / "important.txt"
    victim.parent.mkdir()
    victim.write_text("keep me\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    link = out / "report.html"
    link.symlink_to(victim)
    code, _, err = _cli(*_report_args(plan, actuals, link))
    assert code == 0, err
    assert victim.read_text("utf-8") == "keep me\n"  # the file the link pointed to is untouched
    assert not link.is_symlink()
    assert link.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_a_failed_report_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, actuals = write_hostile(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.html"
    report.write_text("old report\n", encoding="utf-8")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # the write fails as on a full disk
    code, _, err = _cli(*_report_args(plan, actuals, report))
    assert code == 3
    assert f"error: {report}: cannot be written (No space left on device)" in err
    assert report.read_text("utf-8") == "old report\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]  # the temporary is gone


def test_report_output_refuses_inputs_and_missing_folders(tmp_path: Path) -> None:
    plan, actuals = write_hostile(tmp_path)
    before = plan.read_bytes()
    code, _, err = _cli(*_report_args(plan, actuals, tmp_path / "." / "plan.toml"))
    assert code == 3
    assert "is one of this run's input files" in err
    assert plan.read_bytes() == before
    code, _, err = _cli(*_report_args(plan, actuals, tmp_path / "nowhere" / "r.html"))
    assert code == 3
    assert "does not exist" in err
    assert not (tmp_path / "nowhere").exists()


def test_draft_output_goes_only_where_it_is_told(tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    source.write_text("2023年，全市技术合同成交额达到360亿元。\n", encoding="utf-8")
    out = tmp_path / "drafts" / "plan.toml"
    out.parent.mkdir()
    code, _, err = _cli("draft", source, "-o", out, "--year", "2023")
    assert code == 0, err
    assert sorted(p.name for p in out.parent.iterdir()) == ["plan.toml"]
    first = out.read_bytes()
    out.write_text("edited by hand\n", encoding="utf-8")
    code, _, err = _cli("draft", source, "-o", out, "--year", "2023")
    assert code == 3
    assert "already exists" in err
    assert out.read_text("utf-8") == "edited by hand\n"
    code, _, err = _cli("draft", source, "-o", out, "--year", "2023", "--force")
    assert code == 0, err
    assert out.read_bytes() == first
    assert sorted(p.name for p in out.parent.iterdir()) == ["plan.toml"]
