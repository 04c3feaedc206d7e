"""The report, draft, alerts and --notify commands, run as a user types them."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

from targetkit.cli import main

from .test_notify import free_port, start_smtp

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "yichang_2023"

PLAN = """
[plan]
id = "cli-demo"
title = "命令行示例"
period = {{ start = 2023-01-01, end = 2023-12-31 }}

[[indicators]]
id = "turnover"
name = "技术合同成交额"
unit = "亿元"
kind = "cumulative"

[[targets]]
id = "turnover"
title = "技术合同成交额达到360亿元"
owner = "市科技局"
rule = {{ kind = "at_least", indicator = "turnover", value = 360 }}

[notify]
from = "targetkit <alerts@example.org>"

[notify.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout = 5

[[notify.routes]]
to = ["科技局 <kjj@example.org>"]
"""

ACTUALS = "indicator,date,value,unit\nturnover,2023-06-30,60,亿元\n"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def files(tmp_path: Path, port: int) -> tuple[str, str]:
    plan = tmp_path / "plan.toml"
    plan.write_text(textwrap.dedent(PLAN.format(port=port)), encoding="utf-8")
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(ACTUALS, encoding="utf-8")
    return str(plan), str(actuals)


def test_notify_exits_4_while_smtp_is_down_then_delivers_once(tmp_path: Path) -> None:
    port = free_port()
    plan, actuals = files(tmp_path, port)
    args = ("check", plan, "-a", actuals, "--as-of", "2023-07-05", "--notify")
    # 60/360 = 16.7% against 50% expected: off track (red); nothing listens on the port yet
    code, out, err = run(*args)
    assert code == 4
    assert "off_track" not in err
    assert "kjj@example.org" in err
    assert "retry" in err
    server = start_smtp(port)
    try:
        code, out, err = run(*args)
        assert code == 2  # delivered now: the exit code is the worst light again
        assert err == ""
        [received] = server.inbox.received
        message = received.message
        assert "命令行示例" in str(message["subject"])
        assert "kjj@example.org" in str(message["to"])
        assert received.rcpt_tos == ["kjj@example.org"]
        # the same as-of date again: nothing new is sent
        code, out, _ = run(*args)
        assert code == 2
        assert len(server.inbox.received) == 1
    finally:
        server.controller.stop()
    code, out, _ = run("alerts", "history", plan)
    assert code == 0
    assert "turnover" in out


def test_dry_run_needs_notify(tmp_path: Path) -> None:
    plan, actuals = files(tmp_path, free_port())
    code, _, err = run("check", plan, "-a", actuals, "--dry-run")
    assert code == 3
    assert "--dry-run" in err


def test_json_output_stays_clean_with_notify(tmp_path: Path) -> None:
    plan, actuals = files(tmp_path, free_port())
    code, out, err = run(
        "check",
        plan,
        "-a",
        actuals,
        "--as-of",
        "2023-07-05",
        "--format",
        "json",
        "--notify",
        "--dry-run",
    )
    assert code == 2
    assert out.lstrip().startswith("{")
    assert "dry run" in err


def test_report_writes_one_html_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, out, err = run(
        "report",
        str(EXAMPLE / "plan.toml"),
        "-a",
        str(EXAMPLE / "actuals"),
        "--as-of",
        "2023-06-30",
        "-o",
        str(target),
    )
    assert code == 0
    assert out == ""
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "talent_recruited" in html or "引育各类科技人才3000人" in html
    assert "http://" not in html
    assert "https://" not in html
    assert str(target) in err


def test_report_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    plan, actuals = files(tmp_path, free_port())
    before = Path(actuals).read_text(encoding="utf-8")
    code, _, err = run("report", plan, "-a", actuals, "-o", actuals)
    assert code == 3
    assert "input" in err
    assert Path(actuals).read_text(encoding="utf-8") == before


def test_report_markdown_to_stdout(tmp_path: Path) -> None:
    plan, actuals = files(tmp_path, free_port())
    code, out, _ = run(
        "report", plan, "-a", actuals, "--as-of", "2023-07-05", "--format", "markdown"
    )
    assert code == 0
    assert "严重滞后" in out


SEED = ROOT / "examples" / "yichang_2023" / "work_points.txt"


def test_draft_writes_a_valid_plan_and_keeps_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "draft.toml"
    code, _out, err = run("draft", str(SEED), "-o", str(target))
    assert code == 0
    assert "drafted 24 targets" in err
    assert run("validate", str(target))[0] == 0
    target.write_text("# my edits\n", encoding="utf-8")
    code, _, err = run("draft", str(SEED), "-o", str(target))
    assert code == 3
    assert "--force" in err
    assert target.read_text(encoding="utf-8") == "# my edits\n"
    assert run("draft", str(SEED), "-o", str(target), "--force")[0] == 0


def test_draft_to_stdout_as_a_subprocess(tmp_path: Path) -> None:
    text = tmp_path / "plan.txt"
    text.write_text(
        "2023年工作要点\n一、总体\n1.力争技术合同成交额达到360亿元以上。\n", encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "targetkit", "draft", str(text)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "at_least" in done.stdout
    assert "Traceback" not in done.stderr
