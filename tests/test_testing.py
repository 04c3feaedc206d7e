"""targetkit.testing: the helpers users test their own code with build real objects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import targetkit as tk
from targetkit.notify import NotifySettings, deliver
from targetkit.notify.digest import Digest
from targetkit.testing import RecordingNotifier, actuals_from_csv, plan_from_toml

PLAN = """
    [[indicators]]
    id = "turnover"
    name = "技术合同成交额"
    unit = "亿元"
    kind = "cumulative"

    [[targets]]
    id = "turnover"
    title = "技术合同成交额达到360亿元"
    rule = { kind = "at_least", indicator = "turnover", value = 360 }
"""
NOW = dt.datetime(2023, 7, 21, 8, 0, tzinfo=dt.UTC)


def test_builders_give_real_plans_and_actuals() -> None:
    plan = plan_from_toml(PLAN)
    actuals = actuals_from_csv(plan, "indicator,date,value,unit\nturnover,2023-06-30,150,亿元\n")
    result = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 20)).result("turnover")
    assert [(e.file, e.line) for e in result.evidence] == [("actuals.csv", 2)]
    assert result.status is tk.Status.BEHIND  # 41.7% done against 50% due: 8.3 pp behind pace
    assert result.gap_pp == pytest.approx(100 * (150 / 360 - 0.5))


def test_builders_report_problems_with_their_place() -> None:
    with pytest.raises(tk.ConfigError) as info:
        plan_from_toml(PLAN.replace("value = 360", 'value = "360 亿圆"'))
    assert info.value.problems[0].path == "targets[0].rule.value"
    assert info.value.problems[0].line == 11  # in the text given
    plan = plan_from_toml(PLAN)
    with pytest.raises(tk.DataError) as data:
        actuals_from_csv(plan, "indicator,date,value,unit\nturnover,2023-06-30,x,亿元\n")
    assert (data.value.problems[0].source, data.value.problems[0].line) == ("actuals.csv", 2)


def test_the_recording_notifier_records_and_fails_on_demand(tmp_path: Path) -> None:
    plan = plan_from_toml(PLAN)
    actuals = actuals_from_csv(plan, "indicator,date,value,unit\nturnover,2023-06-30,150,亿元\n")
    evaluation = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 20))
    settings = NotifySettings.defaults(tmp_path)
    down = RecordingNotifier(channel="maildir", fail="server down")
    report = deliver(evaluation, settings, now=NOW, notifiers={"maildir": down})
    assert report.failed
    assert down.sent == []
    up = RecordingNotifier(channel="maildir")
    deliver(evaluation, settings, now=NOW + dt.timedelta(hours=1), notifiers={"maildir": up})
    assert [len(d.notices) for d in up.sent] == [1]  # the queued notice, delivered once
    assert up.sent[0].notices[0].target == "turnover"
    deliver(evaluation, settings, now=NOW + dt.timedelta(hours=2), notifiers={"maildir": up})
    assert len(up.sent) == 1


class BuggyNotifier(RecordingNotifier):
    """A user's notifier with a bug in it."""

    def send(self, digest: Digest, *, now: dt.datetime) -> str:
        count: Any = len(self.sent)
        receipt: str = "sent to " + count  # the bug: str + int
        return receipt


def test_a_notifier_bug_stops_the_run_and_keeps_the_notices(tmp_path: Path) -> None:
    plan = plan_from_toml(PLAN)
    actuals = actuals_from_csv(plan, "indicator,date,value,unit\nturnover,2023-06-30,150,亿元\n")
    evaluation = tk.evaluate(plan, actuals, as_of=dt.date(2023, 7, 20))
    settings = NotifySettings.defaults(tmp_path)
    with pytest.raises(tk.DeliveryError) as info:
        deliver(evaluation, settings, now=NOW, notifiers={"maildir": BuggyNotifier("maildir")})
    message = str(info.value)
    assert "has a bug: TypeError" in message
    assert "1 notices stay queued" in message
    fixed = RecordingNotifier(channel="maildir")
    deliver(evaluation, settings, now=NOW + dt.timedelta(hours=1), notifiers={"maildir": fixed})
    assert [n.target for d in fixed.sent for n in d.notices] == ["turnover"]
