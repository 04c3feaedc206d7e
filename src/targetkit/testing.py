"""Helpers for testing code that uses targetkit: plans and actuals from strings, a notifier that
records what it would send.

They build real objects through the same readers as files do, so a test exercises the real
checks::

    from targetkit.testing import RecordingNotifier, actuals_from_csv, plan_from_toml

    plan = plan_from_toml('''
        [[indicators]]
        id = "turnover"
        name = "技术合同成交额"
        unit = "亿元"
        kind = "cumulative"

        [[targets]]
        id = "turnover"
        title = "技术合同成交额达到360亿元"
        rule = { kind = "at_least", indicator = "turnover", value = 360 }
    ''')
    actuals = actuals_from_csv(plan, '''
        indicator,date,value,unit
        turnover,2023-06-30,150,亿元
    ''')
"""

from __future__ import annotations

import datetime as dt
import textwrap

import attrs

from targetkit._parsing import read_toml
from targetkit.actuals import Actuals, read_csv_text
from targetkit.config import parse
from targetkit.exceptions import DeliveryError
from targetkit.model import Plan
from targetkit.notify import Notifier
from targetkit.notify.digest import Digest

__all__ = ["DEFAULT_HEAD", "RecordingNotifier", "actuals_from_csv", "plan_from_toml"]

DEFAULT_HEAD = """
[plan]
id = "test"
title = "测试计划"
period = { start = 2023-01-01, end = 2023-12-31 }
"""
"""The ``[plan]`` table `plan_from_toml` puts in front of a text that has none."""


def plan_from_toml(text: str, *, source: str = "plan.toml") -> Plan:
    """Return the plan in a TOML text (dedented); a text without ``[plan]`` gets `DEFAULT_HEAD`.

    Raises:
        ConfigError: As `targetkit.load` would, with lines counted in the text given (the
            default head goes after it).
    """
    body = textwrap.dedent(text)
    if "[plan]" not in body:
        body = body + DEFAULT_HEAD
    return parse(read_toml(body), source=source, text=body)


def actuals_from_csv(plan: Plan, text: str, *, source: str = "actuals.csv") -> Actuals:
    """Return the actuals in a CSV text (dedented, header first) for ``plan``.

    Raises:
        DataError: As `targetkit.read_actuals` would, naming ``source`` and the line.
    """
    return read_csv_text(textwrap.dedent(text).strip() + "\n", plan, source=source)


@attrs.define
class RecordingNotifier:
    """A `Notifier` that keeps every digest it is given instead of delivering it.

    Pass it to `targetkit.notify.deliver(…, notifiers={"email": recorder})`. With ``fail`` set,
    `send` raises `DeliveryError` (the digest stays queued, as when a server is down), so retries
    can be tested; clear it and run again to see the queued digest delivered once.
    """

    channel: str = "email"
    fail: str | None = None
    sent: list[Digest] = attrs.Factory(list)
    closed: int = 0

    def describe(self) -> str:
        return f"recording {self.channel} notifier"

    def preview(self, digest: Digest, *, now: dt.datetime) -> str:
        del now
        return f"to {digest.recipient}: {len(digest.notices)} notices"

    def send(self, digest: Digest, *, now: dt.datetime) -> str:
        del now
        if self.fail is not None:
            raise DeliveryError(self.fail, channel=self.channel, recipient=digest.recipient)
        self.sent.append(digest)
        return f"recorded-{len(self.sent)}"

    def close(self) -> None:
        self.closed += 1


def _is_notifier(value: Notifier) -> Notifier:  # the protocol check mypy runs on this module
    return value


_is_notifier(RecordingNotifier())
