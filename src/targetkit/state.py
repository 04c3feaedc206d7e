"""Alert state: what was seen, notified and resolved, per plan and alert, in a sqlite file.

Two layers, kept apart so the first can be tested without files:

- `decide` is pure. Given the stored records, this run's alerts (a `Snapshot` of an evaluation),
  the run's clock and a `Policy`, it returns the notices to send and the records to store. It
  never reads the clock or touches a file.
- `StateStore` is the sqlite file: its schema version, a lock so that two runs started at once
  send once, the transaction that reads the records, decides and queues the notices, and the
  outbox from which notices are delivered (and retried until they are).

The lifecycle (DESIGN § Alerts, docs/explanation/alert-lifecycle.md)::

    (none) ──alert──▶ firing ──status changes──▶ firing (notice "changed")
      ▲                 │  └──unchanged for repeat_interval──▶ firing (notice "repeat")
      │                 ▼
      └──alert again── resolved (notice "resolved", sent once)

Reruns for the same as-of date add nothing: a repeat needs both a later as-of date and the repeat
interval elapsed, and a run whose as-of date is earlier than the last one changes nothing.

Three things make the lifecycle livable (docs/explanation/alert-lifecycle.md):

- a `Silence` quiets named targets while the run's as-of date is on or before its ``until``
  date: their problems are tracked but send no notice; the first run after it ends notifies a
  problem still open, changed or not;
- an `Escalation` raises a problem that stays open for a number of runs or days to critical and
  sends one 督办 notice (kind ``escalated``) per episode to its own recipients;
- `StateStore.prune` deletes resolved episodes, delivered notices and old runs before a cutoff,
  in one transaction, never a queued notice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import enum
import json
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import attrs

from targetkit._version import __version__
from targetkit.evaluation import Evaluation
from targetkit.exceptions import ConfigError, Problem, StateError
from targetkit.model import Plan, Severity

__all__ = [
    "AT_RISK",
    "OVERDUE",
    "RECEIVED",
    "REMOVED",
    "SCHEMA_VERSION",
    "AlertRecord",
    "ChangePolicy",
    "CurrentAlert",
    "Decision",
    "Escalation",
    "HistoryEntry",
    "Notice",
    "NoticeKind",
    "OutboxItem",
    "Policy",
    "PruneReport",
    "Router",
    "Silence",
    "Snapshot",
    "StateError",
    "StateStore",
    "active_silences",
    "decide",
    "lock_path",
    "plan_silence",
    "read_history",
    "read_records",
    "read_silences",
    "severity_rank",
]

SCHEMA_VERSION = 2
"""Version of the state file's tables; a file written by a newer targetkit is refused."""

_APPLICATION_ID = 0x544B5354  # "TKST": marks the sqlite file as a targetkit state file

OVERDUE = "overdue"
"""The status stored for a data-overdue alert (it has no target status)."""
RECEIVED = "received"
"""The status stored for a data-overdue alert once the figure is in."""
REMOVED = "removed"
"""The status stored for an alert whose target is no longer in the plan."""
AT_RISK = "at_risk"
"""The kind and status of an at-risk alert: a green target whose year-end forecast falls short
(notify settings ``notify_at_risk = true``)."""


# --------------------------------------------------------------------------- values


class NoticeKind(enum.StrEnum):
    """Why a notice is sent."""

    NEW = "new"
    """A problem appeared (or came back after it was resolved)."""
    CHANGED = "changed"
    """A problem's status or severity changed (worse or better)."""
    REPEAT = "repeat"
    """An unchanged problem, repeated after the repeat interval."""
    RESOLVED = "resolved"
    """A problem is gone; sent once."""
    ESCALATED = "escalated"
    """A problem stayed open long enough to go higher up (督办); sent once per escalation and
    episode, to the escalation's own recipients."""


class ChangePolicy(enum.StrEnum):
    """Which status changes of an open problem are notified."""

    ANY = "any"
    """Worse and better (off_track → behind as well as behind → off_track)."""
    WORSE = "worse"
    """Only changes for the worse; improvements update the state silently."""


_SEVERITY_RANK = {Severity.WARNING: 1, Severity.CRITICAL: 2}
_STATUS_RANK = {"behind": 1, OVERDUE: 1, "off_track": 2, "missed": 3}


def severity_rank(severity: Severity) -> int:
    """Return how serious a severity is: warning 1 < critical 2."""
    return _SEVERITY_RANK[severity]


def _positive(_instance: object, attribute: attrs.Attribute[dt.timedelta], value: Any) -> None:
    if value <= dt.timedelta(0):
        raise ValueError(f"{attribute.name} must be positive (got {value})")


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _at_least_one(_instance: object, attribute: attrs.Attribute[int | None], value: Any) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be at least 1 (got {value})")


@attrs.frozen(kw_only=True)
class Escalation:
    """When an open problem goes higher up (督办): after ``runs`` runs or ``days`` days open.

    A problem's escalation clock starts when its episode starts and starts again when it
    improves; it counts runs with distinct as-of dates (a rerun of the same date does not count)
    and days between as-of dates, so a rerun of a past date decides as it did then. ``owners``
    and ``tags`` narrow which problems it takes (empty: all). ``to`` and ``lang`` are its
    recipients; `decide` does not use them.
    """

    name: str
    runs: int | None = attrs.field(default=None, validator=_at_least_one)
    days: int | None = attrs.field(default=None, validator=_at_least_one)
    owners: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    to: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    lang: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.runs is None) == (self.days is None):
            raise ValueError("an escalation needs either runs or days (not both)")

    def takes(self, owner: str, tags: Iterable[str]) -> bool:
        """Return True when a problem of this owner and these tags can escalate here."""
        if self.owners and owner not in self.owners:
            return False
        return not (self.tags and not set(self.tags) & set(tags))

    def due(self, *, open_runs: int, open_since: dt.date, as_of: dt.date) -> bool:
        """Return True when a problem open for ``open_runs`` runs since ``open_since`` is due."""
        if self.runs is not None:
            return open_runs >= self.runs
        return (as_of - open_since).days >= (self.days or 0)


def _escalation_tuple(items: Iterable[Escalation]) -> tuple[Escalation, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Policy:
    """When to notify: the repeat interval, resolved notices, which changes count, escalations."""

    repeat_interval: dt.timedelta = attrs.field(default=dt.timedelta(days=7), validator=_positive)
    send_resolved: bool = True
    on_change: ChangePolicy = ChangePolicy.ANY
    escalations: tuple[Escalation, ...] = attrs.field(default=(), converter=_escalation_tuple)


@attrs.frozen(kw_only=True)
class Silence:
    """A stop on notices about some targets, until a date, with who set it and why.

    ``targets`` are the target ids it covers, fixed when it is set (``owners`` and ``tags`` are
    kept only to show how they were chosen): a target added to the plan later, or another
    target, is never silenced by it. It is active for a run whose as-of date is on or before
    ``until``, unless it was ended early (``ended_at`` on or before the run's clock).
    ``id`` is 0 until it is stored.
    """

    id: int
    plan_id: str
    targets: tuple[str, ...] = attrs.field(converter=_str_tuple)
    until: dt.date
    reason: str
    created_at: dt.datetime
    created_as_of: dt.date
    created_by: str = ""
    owners: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    ended_at: dt.datetime | None = None
    ended_by: str = ""

    def active(self, *, as_of: dt.date, now: dt.datetime) -> bool:
        """Return True when the silence holds for a run of this as-of date and clock."""
        if self.ended_at is not None and self.ended_at <= now:
            return False
        return as_of <= self.until

    def covers(self, target: str) -> bool:
        """Return True when the silence is about this target."""
        return target in self.targets


def active_silences(
    silences: Iterable[Silence], *, as_of: dt.date, now: dt.datetime
) -> dict[str, Silence]:
    """Return, by target id, the active silence that lasts longest (pure)."""
    out: dict[str, Silence] = {}
    for s in silences:
        if not s.active(as_of=as_of, now=now):
            continue
        for target in s.targets:
            held = out.get(target)
            if held is None or s.until > held.until:
                out[target] = s
    return out


# Bidirectional overrides and isolates reorder what a terminal shows ("Trojan Source").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@attrs.define
class _Problems:
    """The problems of one command's arguments, collected before raising."""

    source: str
    problems: list[Problem] = attrs.field(factory=list)

    def add(self, path: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(source=self.source, path=path, message=message, hint=hint))


def plan_silence(
    plan: Plan,
    *,
    targets: Sequence[str] = (),
    owners: Sequence[str] = (),
    tags: Sequence[str] = (),
    until: dt.date,
    reason: str,
    as_of: dt.date,
    now: dt.datetime,
    who: str = "",
    source: str = "targetkit alerts silence",
) -> Silence:
    """Check a silence against its plan and build it (pure; not stored yet).

    The targets are ``targets`` together with every target whose owner is in ``owners`` or
    that has one of ``tags``.

    Raises:
        ConfigError: listing every problem: no target chosen, an unknown target, owner or tag,
            ``until`` before ``as_of``, an empty reason.
    """
    _require_aware(now)
    errs = _Problems(source)

    ids = [t.id for t in plan.targets]
    chosen: list[str] = []
    for given in targets:
        if given in ids:
            chosen.append(given)
        else:
            close = difflib.get_close_matches(given, ids, n=1, cutoff=0.6)
            errs.add(
                "--target",
                f"plan {plan.id!r} has no target {given!r}",
                f"did you mean {close[0]!r}?"
                if close
                else "run 'targetkit validate PLAN' to list the target ids",
            )
    known_owners = sorted({t.owner for t in plan.targets if t.owner})
    for owner in owners:
        found = [t.id for t in plan.targets if t.owner == owner]
        if found:
            chosen.extend(found)
            continue
        close = difflib.get_close_matches(owner, known_owners, n=1, cutoff=0.6)
        errs.add(
            "--owner",
            f"no target of plan {plan.id!r} has the owner {owner!r}",
            f"did you mean {close[0]!r}?"
            if close
            else "owners in the plan: " + ("、".join(known_owners) or "none"),
        )
    known_tags = sorted({tag for t in plan.targets for tag in t.tags})
    for tag in tags:
        found = [t.id for t in plan.targets if tag in t.tags]
        if found:
            chosen.extend(found)
            continue
        close = difflib.get_close_matches(tag, known_tags, n=1, cutoff=0.6)
        errs.add(
            "--tag",
            f"no target of plan {plan.id!r} has the tag {tag!r}",
            f"did you mean {close[0]!r}?"
            if close
            else "tags in the plan: " + ("、".join(known_tags) or "none"),
        )
    if not targets and not owners and not tags:
        errs.add(
            "--target",
            "no target chosen",
            "name at least one --target ID, --owner UNIT or --tag TAG",
        )
    if until < as_of:
        errs.add(
            "--until",
            f"{until.isoformat()} is before the as-of date {as_of.isoformat()} (a silence "
            "cannot end in the past)",
            "give a date on or after it, e.g. the day the figure is due",
        )
    text = " ".join(reason.split())
    if not text:
        errs.add(
            "--reason",
            "the reason is empty",
            'say why, e.g. --reason "R&D figure is published in autumn"',
        )
    elif any(unicodedata.category(ch) == "Cc" or ch in _BIDI for ch in text):
        # it is printed on terminals and in email: an escape sequence must not reach them
        errs.add(
            "--reason",
            f"the reason holds a control character (got {text!r})",
            "write it as plain text",
        )
    elif len(text) > 500:
        errs.add(
            "--reason",
            f"the reason is {len(text)} characters long",
            "say it in at most 500 characters",
        )
    if errs.problems:
        raise ConfigError(errs.problems)
    return Silence(
        id=0,
        plan_id=plan.id,
        targets=tuple(dict.fromkeys(chosen)),
        owners=tuple(owners),
        tags=tuple(tags),
        until=until,
        reason=text,
        created_at=now,
        created_as_of=as_of,
        created_by=who,
    )


@attrs.frozen(kw_only=True)
class CurrentAlert:
    """One alert of this run, with what a notice about it needs to say.

    ``status`` is the target's status value (``behind``, ``off_track``, ``missed``) for a status
    alert and ``overdue`` for a data-overdue alert. ``message_*`` is the explanation.
    """

    key: str
    kind: str
    target: str
    title: str
    severity: Severity
    status: str
    indicator: str = ""
    owner: str = ""
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    message_zh: str = ""
    message_en: str = ""


def _alert_tuple(items: Iterable[CurrentAlert]) -> tuple[CurrentAlert, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Snapshot:
    """What one evaluation says about alerts: the input of `decide`.

    ``statuses`` maps every target to its status value now, so that a resolved notice can say
    where the target stands.
    """

    plan_id: str
    plan_title: str
    as_of: dt.date
    alerts: tuple[CurrentAlert, ...] = attrs.field(default=(), converter=_alert_tuple)
    statuses: Mapping[str, str] = attrs.field(factory=dict, hash=False)

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, *, at_risk: bool = False) -> Snapshot:
        """Build the snapshot of an evaluation's alerts (pure).

        Args:
            evaluation: The run's evaluation.
            at_risk: Also alert (as warnings of kind ``at_risk``) the green targets whose
                year-end forecast falls short (预计难以完成).
        """
        plan = evaluation.plan
        results = {r.target: r for r in evaluation.results}
        alerts: list[CurrentAlert] = []
        for alert in evaluation.alerts:
            target = plan.target(alert.target) if alert.target in results else None
            title = target.title if target is not None else alert.target
            tags = target.tags if target is not None else ()
            if alert.kind == "status" and alert.status is not None and alert.target in results:
                result = results[alert.target]
                status = alert.status.value
                message_zh, message_en = result.message_zh, result.message_en
            else:
                status = OVERDUE if alert.status is None else alert.status.value
                message_zh, message_en = alert.message_zh, alert.message_en
            alerts.append(
                CurrentAlert(
                    key=alert.key,
                    kind=alert.kind,
                    target=alert.target,
                    title=title,
                    severity=alert.severity,
                    status=status,
                    indicator=alert.indicator,
                    owner=alert.owner,
                    tags=tags,
                    message_zh=message_zh,
                    message_en=message_en,
                )
            )
        if at_risk:
            alerts.extend(
                CurrentAlert(
                    key=f"{r.target}:{AT_RISK}",
                    kind=AT_RISK,
                    target=r.target,
                    title=r.title,
                    severity=Severity.WARNING,
                    status=AT_RISK,
                    owner=r.owner,
                    tags=plan.target(r.target).tags,
                    message_zh=r.forecast_message("zh"),
                    message_en=r.forecast_message("en"),
                )
                for r in evaluation.results
                if r.at_risk
            )
        return cls(
            plan_id=plan.id,
            plan_title=plan.title,
            as_of=evaluation.as_of,
            alerts=tuple(alerts),
            statuses={r.target: r.status.value for r in evaluation.results},
        )


@attrs.frozen(kw_only=True)
class AlertRecord:
    """The stored state of one alert (one alert key of one plan).

    ``peak_severity`` is the highest severity of the current episode (since the alert last
    fired after being clear); routes use it, so whoever heard of a problem hears that it
    improved or was resolved.

    ``silenced`` says a silence held its notices back at the last run; ``notified`` counts the
    runs that notified the episode; ``open_runs`` and ``open_since`` are its escalation clock
    (runs and first as-of date since it began or last improved); ``escalated`` names the
    escalations already sent in the episode.
    """

    key: str
    kind: str
    target: str
    title: str
    firing: bool
    status: str
    severity: Severity
    peak_severity: Severity
    first_seen: dt.datetime
    first_seen_as_of: dt.date
    last_seen_as_of: dt.date
    last_notified: dt.datetime | None = None
    last_notified_as_of: dt.date | None = None
    last_resolved: dt.datetime | None = None
    indicator: str = ""
    owner: str = ""
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    message_zh: str = ""
    message_en: str = ""
    silenced: bool = False
    notified: int = 0
    open_runs: int = 1
    open_since: dt.date | None = None
    escalated: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)

    @property
    def clock_start(self) -> dt.date:
        """Return the as-of date the escalation clock runs from."""
        return self.open_since or self.first_seen_as_of


@attrs.frozen(kw_only=True)
class Notice:
    """One line of a digest: something a person should hear about, and why now.

    ``status`` is the status now (for a resolved notice, the target's status after recovery, or
    ``received`` for data that came in); ``previous_status`` the one before a change.
    ``peak_severity`` is used for routing, ``severity`` for display.

    The episode's history: ``notified`` is how many earlier runs notified it, ``open_runs`` and
    ``open_since`` how long it has stayed open (unchanged or worse). ``escalations`` names the
    escalation of an ``escalated`` notice, and the escalations a ``resolved`` one reached (their
    recipients hear of the resolution). ``after_silence`` marks the first notice after a
    silence ended.
    """

    kind: NoticeKind
    key: str
    alert_kind: str
    target: str
    title: str
    severity: Severity
    peak_severity: Severity
    status: str
    as_of: dt.date
    first_seen_as_of: dt.date
    previous_status: str = ""
    indicator: str = ""
    owner: str = ""
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    message_zh: str = ""
    message_en: str = ""
    notified: int = 0
    open_runs: int = 0
    open_since: dt.date | None = None
    escalations: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    after_silence: bool = False

    def message(self, lang: str = "zh") -> str:
        """Return the explanation in Chinese (``zh``) or English (``en``)."""
        return self.message_en if lang == "en" else self.message_zh

    def to_json(self) -> str:
        """Return the notice as a JSON document (how the outbox stores it)."""
        data = {
            "kind": self.kind.value,
            "key": self.key,
            "alert_kind": self.alert_kind,
            "target": self.target,
            "title": self.title,
            "severity": self.severity.value,
            "peak_severity": self.peak_severity.value,
            "status": self.status,
            "previous_status": self.previous_status,
            "as_of": self.as_of.isoformat(),
            "first_seen_as_of": self.first_seen_as_of.isoformat(),
            "indicator": self.indicator,
            "owner": self.owner,
            "tags": list(self.tags),
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "notified": self.notified,
            "open_runs": self.open_runs,
            "open_since": None if self.open_since is None else self.open_since.isoformat(),
            "escalations": list(self.escalations),
            "after_silence": self.after_silence,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Notice:
        """Read a notice written by `to_json`."""
        data = json.loads(text)
        return cls(
            kind=NoticeKind(data["kind"]),
            key=data["key"],
            alert_kind=data["alert_kind"],
            target=data["target"],
            title=data["title"],
            severity=Severity(data["severity"]),
            peak_severity=Severity(data["peak_severity"]),
            status=data["status"],
            previous_status=data.get("previous_status", ""),
            as_of=dt.date.fromisoformat(data["as_of"]),
            first_seen_as_of=dt.date.fromisoformat(data["first_seen_as_of"]),
            indicator=data.get("indicator", ""),
            owner=data.get("owner", ""),
            tags=tuple(data.get("tags", ())),
            message_zh=data.get("message_zh", ""),
            message_en=data.get("message_en", ""),
            # absent from notices queued by targetkit before state schema 2
            notified=int(data.get("notified", 0)),
            open_runs=int(data.get("open_runs", 0)),
            open_since=_opt_date(data.get("open_since")),
            escalations=tuple(data.get("escalations", ())),
            after_silence=bool(data.get("after_silence", False)),
        )


@attrs.frozen(kw_only=True)
class Decision:
    """What a run does: the notices to queue and the records to store.

    ``stale`` is True when the run's as-of date is earlier than the last run's: such a run
    changes nothing and sends nothing new.
    """

    notices: tuple[Notice, ...] = ()
    records: tuple[AlertRecord, ...] = ()
    stale: bool = False


# --------------------------------------------------------------------------- pure decision


def _require_aware(now: dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime (got {now!r})")


def _is_worse(alert: CurrentAlert, prev: AlertRecord) -> bool:
    if severity_rank(alert.severity) != severity_rank(prev.severity):
        return severity_rank(alert.severity) > severity_rank(prev.severity)
    return _STATUS_RANK.get(alert.status, 0) > _STATUS_RANK.get(prev.status, 0)


def _max_severity(a: Severity, b: Severity) -> Severity:
    return a if severity_rank(a) >= severity_rank(b) else b


def decide(
    previous: Mapping[str, AlertRecord],
    snapshot: Snapshot,
    *,
    now: dt.datetime,
    policy: Policy,
    last_as_of: dt.date | None = None,
    silences: Sequence[Silence] = (),
) -> Decision:
    """Decide what to notify, given what was known before and what this run sees.

    Args:
        previous: The stored records of the plan, by alert key.
        snapshot: This run's alerts and statuses.
        now: The run's clock (timezone-aware); it is never read here.
        policy: Repeat interval, resolved notices, which changes count, escalations.
        last_as_of: The as-of date of the latest earlier run, if any.
        silences: The plan's silences; those active at ``snapshot.as_of`` and ``now`` hold
            back every notice about the targets they cover.

    Returns:
        The notices to queue (escalations first, in alert order, resolved ones last) and the
        records to store.
    """
    _require_aware(now)
    as_of = snapshot.as_of
    if last_as_of is not None and as_of < last_as_of:
        return Decision(stale=True)
    quiet = active_silences(silences, as_of=as_of, now=now)
    escalated: list[Notice] = []
    notices: list[Notice] = []
    records: list[AlertRecord] = []
    current_keys: set[str] = set()
    for alert in snapshot.alerts:
        if alert.key in current_keys:  # the same key twice in one evaluation: first one counts
            continue
        current_keys.add(alert.key)
        prev = previous.get(alert.key)
        silenced = alert.target in quiet
        facts: dict[str, Any] = {
            "key": alert.key,
            "kind": alert.kind,
            "target": alert.target,
            "title": alert.title,
            "indicator": alert.indicator,
            "owner": alert.owner,
            "tags": alert.tags,
            "message_zh": alert.message_zh,
            "message_en": alert.message_en,
        }
        kind: NoticeKind | None
        after_silence = False
        if prev is None or not prev.firing:
            # a new problem, or one that came back after it was resolved: a new episode
            kind = None if silenced else NoticeKind.NEW
            previous_status = prev.status if prev is not None else ""
            record = AlertRecord(
                firing=True,
                status=alert.status,
                severity=alert.severity,
                peak_severity=alert.severity,
                first_seen=now,
                first_seen_as_of=as_of,
                last_seen_as_of=as_of,
                last_notified=None if silenced else now,
                last_notified_as_of=None if silenced else as_of,
                last_resolved=prev.last_resolved if prev is not None else None,
                silenced=silenced,
                notified=0 if silenced else 1,
                open_runs=1,
                open_since=as_of,
                escalated=(),
                **facts,
            )
        else:
            changed = alert.status != prev.status or alert.severity != prev.severity
            worse = _is_worse(alert, prev)
            kind = None
            if changed:
                if policy.on_change is ChangePolicy.ANY or worse:
                    kind = NoticeKind.CHANGED
            elif (
                prev.last_notified is not None
                and (prev.last_notified_as_of is None or as_of > prev.last_notified_as_of)
                and now - prev.last_notified >= policy.repeat_interval
            ):
                kind = NoticeKind.REPEAT
            if silenced:
                kind = None
            elif prev.silenced:
                # the silence ended: a problem still open is told at once, changed or not
                after_silence = True
                if kind is None:
                    kind = NoticeKind.NEW if prev.notified == 0 else NoticeKind.REPEAT
            previous_status = prev.status if kind is NoticeKind.CHANGED else ""
            if changed and not worse:
                open_runs, open_since = 1, as_of  # it improved: the escalation clock restarts
            elif as_of > prev.last_seen_as_of:
                open_runs, open_since = prev.open_runs + 1, prev.clock_start
            else:  # a rerun of the same as-of date is not another run
                open_runs, open_since = prev.open_runs, prev.clock_start
            record = attrs.evolve(
                prev,
                status=alert.status,
                severity=alert.severity,
                peak_severity=_max_severity(prev.peak_severity, alert.severity),
                last_seen_as_of=as_of,
                last_notified=now if kind is not None else prev.last_notified,
                last_notified_as_of=as_of if kind is not None else prev.last_notified_as_of,
                silenced=silenced,
                notified=prev.notified + (1 if kind is not None else 0),
                open_runs=open_runs,
                open_since=open_since,
                **{k: v for k, v in facts.items() if k not in ("key", "kind", "target")},
            )
        notice_facts = {k: v for k, v in facts.items() if k != "kind"}
        # escalations are held back by a silence like any notice, and sent once it ends
        for rule in policy.escalations:
            if (
                silenced
                or rule.name in record.escalated
                or not rule.takes(alert.owner, alert.tags)
                or not rule.due(
                    open_runs=record.open_runs, open_since=record.clock_start, as_of=as_of
                )
            ):
                continue
            record = attrs.evolve(
                record,
                escalated=(*record.escalated, rule.name),
                peak_severity=Severity.CRITICAL,
            )
            escalated.append(
                Notice(
                    kind=NoticeKind.ESCALATED,
                    alert_kind=alert.kind,
                    severity=Severity.CRITICAL,
                    peak_severity=Severity.CRITICAL,
                    status=alert.status,
                    as_of=as_of,
                    first_seen_as_of=record.first_seen_as_of,
                    # the runs that notified it before this one
                    notified=record.notified - (1 if kind is not None else 0),
                    open_runs=record.open_runs,
                    open_since=record.clock_start,
                    escalations=(rule.name,),
                    **notice_facts,
                )
            )
        if kind is not None:
            notices.append(
                Notice(
                    kind=kind,
                    alert_kind=alert.kind,
                    # an escalated problem is critical for the rest of its episode
                    severity=Severity.CRITICAL if record.escalated else alert.severity,
                    peak_severity=record.peak_severity,
                    status=alert.status,
                    previous_status=previous_status,
                    as_of=as_of,
                    first_seen_as_of=record.first_seen_as_of,
                    notified=record.notified - 1,
                    open_runs=record.open_runs,
                    open_since=record.clock_start,
                    after_silence=after_silence,
                    **notice_facts,
                )
            )
        records.append(record)
    for key, prev in previous.items():
        if not prev.firing or key in current_keys:
            continue
        if prev.target not in snapshot.statuses:
            status_now = REMOVED
        elif prev.kind in ("status", AT_RISK):
            status_now = snapshot.statuses[prev.target]
        else:
            status_now = RECEIVED
        send = policy.send_resolved and prev.target not in quiet
        if send:
            notices.append(
                Notice(
                    kind=NoticeKind.RESOLVED,
                    key=prev.key,
                    alert_kind=prev.kind,
                    target=prev.target,
                    title=prev.title,
                    severity=Severity.CRITICAL if prev.escalated else prev.severity,
                    peak_severity=prev.peak_severity,
                    status=status_now,
                    previous_status=prev.status,
                    as_of=as_of,
                    first_seen_as_of=prev.first_seen_as_of,
                    indicator=prev.indicator,
                    owner=prev.owner,
                    tags=prev.tags,
                    message_zh=prev.message_zh,
                    message_en=prev.message_en,
                    notified=prev.notified,
                    open_runs=prev.open_runs,
                    open_since=prev.clock_start,
                    escalations=prev.escalated,
                )
            )
        records.append(
            attrs.evolve(
                prev,
                firing=False,
                status=status_now,
                last_seen_as_of=as_of,
                last_resolved=now,
                last_notified=now if send else prev.last_notified,
                last_notified_as_of=as_of if send else prev.last_notified_as_of,
                notified=prev.notified + (1 if send else 0),
                silenced=False,
            )
        )
    return Decision(notices=(*escalated, *notices), records=tuple(records))


# --------------------------------------------------------------------------- outbox values


@attrs.frozen(kw_only=True)
class OutboxItem:
    """A notice queued for one recipient on one channel, pending until it is delivered.

    ``channel`` is ``email`` (``recipient`` is an address), ``maildir`` (notices no route
    matched; ``recipient`` is empty) or ``webhook`` (``recipient`` is the webhook's name).
    ``id`` is 0 for an item that is not stored (a dry run).
    """

    id: int
    run: int
    plan_id: str
    plan_title: str
    channel: str
    recipient: str
    lang: str
    notice: Notice
    created: dt.datetime
    attempts: int = 0
    last_error: str = ""
    sent: dt.datetime | None = None
    message_id: str = ""


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One queued or delivered notice, as `targetkit alerts history` shows it."""

    item: OutboxItem
    run_as_of: dt.date

    @property
    def delivered(self) -> bool:
        """Return True once the notice was delivered."""
        return self.item.sent is not None


@attrs.frozen(kw_only=True)
class PruneReport:
    """What `StateStore.prune` deleted (or, in a dry run, would delete)."""

    before: dt.datetime
    dry_run: bool = False
    notices: int = 0
    problems: int = 0
    silences: int = 0
    runs: int = 0
    messages: int = 0
    """Delivered Maildir messages (counted by the notify edge, which owns the Maildir)."""

    @property
    def total(self) -> int:
        """Return how many things went (or would go)."""
        return self.notices + self.problems + self.silences + self.runs + self.messages


Router = Callable[[Sequence[Notice]], Sequence[tuple[str, str, str, Notice]]]
"""Routing: notices → (channel, recipient, lang, notice) rows to queue."""


# --------------------------------------------------------------------------- sqlite


_SCHEMA = """
CREATE TABLE targetkit_schema (
    version INTEGER NOT NULL,
    written_by TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    plan TEXT NOT NULL,
    as_of TEXT NOT NULL,
    at TEXT NOT NULL,
    notices INTEGER NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_plan ON runs (plan, as_of);
CREATE TABLE alerts (
    plan TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    title TEXT NOT NULL,
    indicator TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    firing INTEGER NOT NULL CHECK (firing IN (0, 1)),
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    peak_severity TEXT NOT NULL,
    message_zh TEXT NOT NULL DEFAULT '',
    message_en TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL,
    first_seen_as_of TEXT NOT NULL,
    last_seen_as_of TEXT NOT NULL,
    last_notified TEXT,
    last_notified_as_of TEXT,
    last_resolved TEXT,
    PRIMARY KEY (plan, key)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs (id),
    plan TEXT NOT NULL,
    plan_title TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    lang TEXT NOT NULL,
    notice TEXT NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    last_attempt TEXT,
    sent TEXT,
    message_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (plan, sent);
"""
"""The tables of schema 1; `_MIGRATIONS` brings them to `SCHEMA_VERSION`."""

# version → the statements that bring a file of the version before it up to it. They run in
# one transaction with the new version's row, so a file is upgraded entirely or not at all.
_MIGRATIONS: dict[int, str] = {
    2: """
ALTER TABLE alerts ADD COLUMN silenced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN notified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN open_runs INTEGER NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN open_since TEXT;
ALTER TABLE alerts ADD COLUMN escalated TEXT NOT NULL DEFAULT '[]';
UPDATE alerts SET open_runs = max(1, (
    SELECT count(DISTINCT runs.as_of) FROM runs
    WHERE runs.plan = alerts.plan AND runs.stale = 0
      AND runs.as_of >= alerts.first_seen_as_of AND runs.as_of <= alerts.last_seen_as_of
));
UPDATE alerts SET notified = (
    SELECT count(DISTINCT outbox.run) FROM outbox JOIN runs ON runs.id = outbox.run
    WHERE outbox.plan = alerts.plan AND json_extract(outbox.notice, '$.key') = alerts.key
      AND runs.as_of >= alerts.first_seen_as_of
);
CREATE TABLE silences (
    id INTEGER PRIMARY KEY,
    plan TEXT NOT NULL,
    targets TEXT NOT NULL,
    owners TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    until TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_as_of TEXT NOT NULL,
    ended_at TEXT,
    ended_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX silences_plan ON silences (plan, until);
CREATE INDEX outbox_sent ON outbox (plan, sent, run)
""",
}

_CORRUPT_HINT = (
    "move it aside (the next run then starts a new history and sends every open problem "
    "as new) or restore it from a backup"
)


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _opt_ts(value: dt.datetime | None) -> str | None:
    return None if value is None else _ts(value)


def _parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _opt_parse_ts(text: str | None) -> dt.datetime | None:
    return None if text is None else _parse_ts(text)


def _opt_date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


class _FileLock:
    """An exclusive advisory lock on a file, released when the process ends (even by a crash)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self, timeout: float) -> bool:
        handle = self.path.open("a+b")
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            if _try_lock(handle):
                self._file = handle
                return True
            if time.monotonic() >= deadline:
                handle.close()
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def release(self) -> None:
        if self._file is not None:
            _unlock(self._file)
            self._file.close()
            self._file = None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        # flock (not lockf): the lock belongs to this open file, so two connections in one
        # process exclude each other as two processes do
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class StateStore:
    """An open alert state file. Open with `StateStore.open` (locked, writable) or
    `StateStore.open_readonly` (no lock, for dry runs and history); use as a context manager.
    """

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock: _FileLock | None = None
    ) -> None:
        self.path = path
        self._db = connection
        self._lock = lock
        self.version = SCHEMA_VERSION
        """The file's schema version (older only for a file opened read-only)."""

    # ---- opening

    @classmethod
    def open(cls, path: str | Path, *, lock_timeout: float = 60.0) -> StateStore:
        """Open (creating if needed) the state file and take its lock.

        Waits up to ``lock_timeout`` seconds for another run holding the lock to finish.

        Raises:
            StateError: the file is corrupted, not a targetkit state file, written by a newer
                targetkit, cannot be created, or stays locked.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"cannot create the folder for the alert state ({exc.strerror})",
                path=path,
            ) from exc
        lock = _FileLock(lock_path(path))
        try:
            locked = lock.acquire(lock_timeout)
        except OSError as exc:
            raise StateError(
                f"cannot open the lock file {lock.path.name} ({exc.strerror})", path=path
            ) from exc
        if not locked:
            raise StateError(
                f"is locked by another targetkit run (waited {lock_timeout:g} s); let it finish, "
                "or raise notify.lock_timeout",
                path=path,
            )
        try:
            connection = _connect(path, readonly=False, timeout=lock_timeout)
        except BaseException:
            lock.release()
            raise
        store = cls(path, connection, lock)
        try:
            store._prepare(create=True)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open_readonly(cls, path: str | Path) -> StateStore | None:
        """Open an existing state file for reading, or return None when there is none yet.

        Raises:
            StateError: the file is corrupted, not a targetkit state file, or newer.
        """
        path = Path(path)
        if not path.exists() or path.stat().st_size == 0:
            return None
        # A run killed inside a transaction leaves a "hot" journal that only a connection
        # allowed to write can roll back (a read-only one fails with "attempt to write a
        # readonly database"): open such a file read-write, so that SQLite restores the last
        # committed state as the next run would, and only read from it.
        journal = path.with_name(path.name + "-journal")
        hot = journal.exists() and journal.stat().st_size > 0
        connection = _connect(path, readonly=not hot, timeout=5.0, create=False)
        store = cls(path, connection)
        try:
            store._prepare(create=False)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close the file and release the lock."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _error(self, exc: sqlite3.Error) -> StateError:
        return StateError(
            f"is not a readable targetkit alert state file ({exc}); {_CORRUPT_HINT}",
            path=self.path,
        )

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc

    def _prepare(self, *, create: bool) -> None:
        with self._guard():
            tables = {
                row[0]
                for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if not tables:
                if not create:
                    raise StateError(
                        f"is empty, not a targetkit alert state file; {_CORRUPT_HINT}",
                        path=self.path,
                    )
                self._create()
                return
            check = self._db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise StateError(
                    f"is damaged (sqlite integrity check: {check[0] if check else 'no answer'}); "
                    + _CORRUPT_HINT,
                    path=self.path,
                )
            app_id = self._db.execute("PRAGMA application_id").fetchone()[0]
            if "targetkit_schema" not in tables or app_id != _APPLICATION_ID:
                raise StateError(
                    "is a sqlite database but not a targetkit alert state file; point "
                    "notify.state at another path, or move this file aside",
                    path=self.path,
                )
            row = self._db.execute("SELECT max(version), max(written_by) FROM targetkit_schema")
            version, written_by = row.fetchone()
            if not isinstance(version, int):
                raise StateError(
                    f"has no schema version; {_CORRUPT_HINT}",
                    path=self.path,
                )
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"was written by a newer targetkit ({written_by}, state schema {version}); "
                    f"this version reads schema {SCHEMA_VERSION} — upgrade targetkit "
                    "(the file is left untouched)",
                    path=self.path,
                )
            missing = {"runs", "alerts", "outbox"} - tables
            if missing:
                raise StateError(
                    f"lacks the table(s) {', '.join(sorted(missing))}; {_CORRUPT_HINT}",
                    path=self.path,
                )
            self.version = version
            if version < SCHEMA_VERSION and self._lock is not None:
                self._migrate(version)

    def _migrate(self, version: int) -> None:
        """Bring a file of an older schema up to this one, in one transaction."""

        self._db.execute("BEGIN IMMEDIATE")
        try:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
            self._db.execute(
                "INSERT INTO targetkit_schema (version, written_by) VALUES (?, ?)",
                (SCHEMA_VERSION, f"targetkit {__version__}"),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self.version = SCHEMA_VERSION

    def _create(self) -> None:

        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            for script in (_SCHEMA, *(_MIGRATIONS[v] for v in range(2, SCHEMA_VERSION + 1))):
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
            self._db.execute(
                "INSERT INTO targetkit_schema (version, written_by) VALUES (?, ?)",
                (SCHEMA_VERSION, f"targetkit {__version__}"),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self.version = SCHEMA_VERSION

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- reading

    def records(self, plan_id: str) -> dict[str, AlertRecord]:
        """Return the stored records of a plan, by alert key."""
        with self._guard():
            return _records(self._db, plan_id)

    def last_as_of(self, plan_id: str) -> dt.date | None:
        """Return the as-of date of the latest run of a plan that changed the state."""
        with self._guard():
            return _last_as_of(self._db, plan_id)

    def pending(self, plan_id: str) -> list[OutboxItem]:
        """Return the plan's queued notices not yet delivered, oldest first."""
        with self._guard():
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE plan = ? AND sent IS NULL ORDER BY id", (plan_id,)
            ).fetchall()
        return [_item(row) for row in rows]

    def history(self, plan_id: str, *, limit: int | None = None) -> list[HistoryEntry]:
        """Return the plan's queued and delivered notices, newest first."""
        query = (
            "SELECT outbox.*, runs.as_of AS run_as_of FROM outbox JOIN runs ON runs.id = outbox.run"
            " WHERE outbox.plan = ? ORDER BY outbox.id DESC"
        )
        params: tuple[Any, ...] = (plan_id,)
        if limit is not None:
            query += " LIMIT ?"
            params = (plan_id, limit)
        with self._guard():
            rows = self._db.execute(query, params).fetchall()
        return [
            HistoryEntry(item=_item(row), run_as_of=dt.date.fromisoformat(row["run_as_of"]))
            for row in rows
        ]

    def silences(self, plan_id: str) -> list[Silence]:
        """Return every silence of a plan, active, ended or expired, oldest first."""
        with self._guard():
            return _silences(self._db, plan_id, version=self.version)

    # ---- writing

    def add_silence(self, silence: Silence) -> Silence:
        """Store a silence (built by `plan_silence`); return it with its id."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO silences (plan, targets, owners, tags, until, reason, created_by,"
                " created_at, created_as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    silence.plan_id,
                    json.dumps(list(silence.targets), ensure_ascii=False),
                    json.dumps(list(silence.owners), ensure_ascii=False),
                    json.dumps(list(silence.tags), ensure_ascii=False),
                    silence.until.isoformat(),
                    silence.reason,
                    silence.created_by,
                    _ts(silence.created_at),
                    silence.created_as_of.isoformat(),
                ),
            )
        return attrs.evolve(silence, id=int(cursor.lastrowid or 0))

    def end_silence(
        self, plan_id: str, silence_id: int, *, now: dt.datetime, who: str = ""
    ) -> Silence:
        """End a silence early: from ``now`` on it holds nothing back.

        Raises:
            StateError: the plan has no silence of that id, or it has already ended.
        """
        _require_aware(now)
        with self._transaction() as db:
            found = _silences(db, plan_id, version=self.version, silence_id=silence_id)
            if not found:
                known = [str(x.id) for x in _silences(db, plan_id, version=self.version)]
                raise StateError(
                    f"plan {plan_id!r} has no silence {silence_id}; "
                    + (
                        f"its silences are {', '.join(known)} (see 'targetkit alerts silences "
                        "PLAN --all')"
                        if known
                        else "it has none"
                    ),
                    path=self.path,
                )
            current = found[0]
            if current.ended_at is not None:
                raise StateError(
                    f"silence {silence_id} of plan {plan_id!r} already ended on "
                    f"{current.ended_at.isoformat(timespec='seconds')}; nothing to do",
                    path=self.path,
                )
            db.execute(
                "UPDATE silences SET ended_at = ?, ended_by = ? WHERE id = ?",
                (_ts(now), who, silence_id),
            )
        return attrs.evolve(current, ended_at=now, ended_by=who)

    def prune(
        self,
        plan_id: str,
        *,
        before: dt.datetime,
        dry_run: bool = False,
        progress: Callable[[str, int], None] | None = None,
    ) -> PruneReport:
        """Delete a plan's history older than ``before``, in one transaction.

        Deleted: delivered notices sent before it, resolved problems resolved before it,
        silences that ended before it or expired before it and before the latest run's as-of
        date (no later run can use them), and runs before it that no remaining notice
        refers to (the latest run is always kept: it tells a later run for an earlier date that
        it is stale). A queued notice, delivered or not yet, is never deleted, nor the run it
        belongs to. A crash inside leaves the file as it was.

        Args:
            plan_id: The plan whose history to prune.
            before: The cutoff (timezone-aware): usually now minus ``history_retention``.
            dry_run: Count what would go, delete nothing.
            progress: Called with each step's name and the rows it removed, inside the
                transaction (nothing is committed until the last step).
        """
        _require_aware(before)
        cutoff = _ts(before)
        steps = (
            (
                "notices",
                "DELETE FROM outbox WHERE plan = ? AND sent IS NOT NULL AND sent < ?",
                (plan_id, cutoff),
            ),
            (
                "problems",
                "DELETE FROM alerts WHERE plan = ? AND firing = 0 AND last_resolved IS NOT NULL"
                " AND last_resolved < ?",
                (plan_id, cutoff),
            ),
            (
                "silences",
                # expired: before the cutoff, and before the latest run's as-of date, so that
                # no later run can be silenced by it (a replay of past dates included)
                "DELETE FROM silences WHERE plan = ? AND ((ended_at IS NOT NULL AND ended_at < ?)"
                " OR (until < ? AND until < (SELECT max(as_of) FROM runs"
                " WHERE plan = ? AND stale = 0)))",
                (plan_id, cutoff, before.astimezone(dt.UTC).date().isoformat(), plan_id),
            ),
            (
                "runs",
                "DELETE FROM runs WHERE plan = ? AND at < ?"
                " AND id NOT IN (SELECT run FROM outbox WHERE plan = ?)"
                " AND id <> (SELECT id FROM runs WHERE plan = ? AND stale = 0"
                " ORDER BY as_of DESC, id DESC LIMIT 1)",
                (plan_id, cutoff, plan_id, plan_id),
            ),
        )
        counts: dict[str, int] = {}
        with self._transaction() as db:
            for name, statement, params in steps:
                if dry_run:
                    select = statement.replace("DELETE FROM", "SELECT count(*) FROM", 1)
                    counts[name] = int(db.execute(select, params).fetchone()[0])
                else:
                    counts[name] = db.execute(statement, params).rowcount
                if progress is not None:
                    progress(name, counts[name])
        return PruneReport(
            before=before,
            dry_run=dry_run,
            notices=counts["notices"],
            problems=counts["problems"],
            silences=counts["silences"],
            runs=counts["runs"],
        )

    def run(
        self,
        snapshot: Snapshot,
        *,
        now: dt.datetime,
        policy: Policy,
        route: Router,
    ) -> tuple[Decision, list[OutboxItem]]:
        """Decide and queue this run's notices in one transaction.

        The records are read, `decide` runs, and the new records and the queued notices (one
        outbox row per recipient and notice, from ``route``) are written together: two runs
        cannot both queue the same notice, and a crash leaves either all or nothing.

        Returns:
            The decision and the outbox items it queued.
        """
        _require_aware(now)
        with self._transaction() as db:
            previous = _records(db, snapshot.plan_id)
            last = _last_as_of(db, snapshot.plan_id)
            silences = _silences(db, snapshot.plan_id, version=self.version)
            decision = decide(
                previous, snapshot, now=now, policy=policy, last_as_of=last, silences=silences
            )
            cursor = db.execute(
                "INSERT INTO runs (plan, as_of, at, notices, stale) VALUES (?, ?, ?, ?, ?)",
                (
                    snapshot.plan_id,
                    snapshot.as_of.isoformat(),
                    _ts(now),
                    len(decision.notices),
                    int(decision.stale),
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            for record in decision.records:
                _upsert(db, snapshot.plan_id, record)
            items: list[OutboxItem] = []
            for channel, recipient, lang, notice in route(decision.notices):
                cursor = db.execute(
                    "INSERT INTO outbox (run, plan, plan_title, channel, recipient, lang, notice,"
                    " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        snapshot.plan_id,
                        snapshot.plan_title,
                        channel,
                        recipient,
                        lang,
                        notice.to_json(),
                        _ts(now),
                    ),
                )
                items.append(
                    OutboxItem(
                        id=int(cursor.lastrowid or 0),
                        run=run_id,
                        plan_id=snapshot.plan_id,
                        plan_title=snapshot.plan_title,
                        channel=channel,
                        recipient=recipient,
                        lang=lang,
                        notice=notice,
                        created=now,
                    )
                )
        return decision, items

    def mark_sent(self, ids: Sequence[int], *, now: dt.datetime, message_id: str) -> None:
        """Record that the outbox items were delivered (they are never sent again)."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE outbox SET sent = ?, message_id = ?, attempts = attempts + 1,"
                " last_attempt = ? WHERE id = ? AND sent IS NULL",
                [(_ts(now), message_id, _ts(now), i) for i in ids],
            )

    def mark_failed(self, ids: Sequence[int], *, now: dt.datetime, error: str) -> None:
        """Record a failed attempt; the items stay queued for the next run."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_attempt = ?"
                " WHERE id = ? AND sent IS NULL",
                [(error, _ts(now), i) for i in ids],
            )


def _connect(
    path: Path, *, readonly: bool, timeout: float, create: bool = True
) -> sqlite3.Connection:
    try:
        if readonly or not create:
            uri = path.resolve().as_uri() + ("?mode=ro" if readonly else "?mode=rw")
            connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        else:
            connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise StateError(f"cannot be opened ({exc})", path=path) from exc
    connection.row_factory = sqlite3.Row
    return connection


# For a schema 1 file read without upgrading: the episode counters, computed as the upgrade
# would store them (runs seen while open, runs that notified).
_V1_COUNTERS = """
SELECT alerts.*, max(1, (
    SELECT count(DISTINCT runs.as_of) FROM runs
    WHERE runs.plan = alerts.plan AND runs.stale = 0
      AND runs.as_of >= alerts.first_seen_as_of AND runs.as_of <= alerts.last_seen_as_of
)) AS open_runs, (
    SELECT count(DISTINCT outbox.run) FROM outbox JOIN runs ON runs.id = outbox.run
    WHERE outbox.plan = alerts.plan AND json_extract(outbox.notice, '$.key') = alerts.key
      AND runs.as_of >= alerts.first_seen_as_of
) AS notified, 0 AS silenced, NULL AS open_since, '[]' AS escalated
FROM alerts WHERE plan = ?
"""


def _records(db: sqlite3.Connection, plan_id: str) -> dict[str, AlertRecord]:
    columns = {row[1] for row in db.execute("PRAGMA table_info(alerts)")}
    query = "SELECT * FROM alerts WHERE plan = ?" if "silenced" in columns else _V1_COUNTERS
    rows = db.execute(query, (plan_id,)).fetchall()
    out: dict[str, AlertRecord] = {}
    for row in rows:
        out[row["key"]] = AlertRecord(
            key=row["key"],
            kind=row["kind"],
            target=row["target"],
            title=row["title"],
            indicator=row["indicator"],
            owner=row["owner"],
            tags=tuple(json.loads(row["tags"])),
            firing=bool(row["firing"]),
            status=row["status"],
            severity=Severity(row["severity"]),
            peak_severity=Severity(row["peak_severity"]),
            message_zh=row["message_zh"],
            message_en=row["message_en"],
            first_seen=_parse_ts(row["first_seen"]),
            first_seen_as_of=dt.date.fromisoformat(row["first_seen_as_of"]),
            last_seen_as_of=dt.date.fromisoformat(row["last_seen_as_of"]),
            last_notified=_opt_parse_ts(row["last_notified"]),
            last_notified_as_of=_opt_date(row["last_notified_as_of"]),
            last_resolved=_opt_parse_ts(row["last_resolved"]),
            **_v2_fields(row),
        )
    return out


def _v2_fields(row: sqlite3.Row) -> dict[str, Any]:
    """Return the columns schema 2 added (computed by `_V1_COUNTERS` for a schema 1 file)."""
    return {
        "silenced": bool(row["silenced"]),
        "notified": int(row["notified"]),
        "open_runs": int(row["open_runs"]),
        "open_since": _opt_date(row["open_since"]),
        "escalated": tuple(json.loads(row["escalated"])),
    }


def _silences(
    db: sqlite3.Connection, plan_id: str, *, version: int, silence_id: int | None = None
) -> list[Silence]:
    if version < 2:
        return []
    if silence_id is None:
        rows = db.execute(
            "SELECT * FROM silences WHERE plan = ? ORDER BY id", (plan_id,)
        ).fetchall()
    else:
        rows = db.execute(
            "SELECT * FROM silences WHERE plan = ? AND id = ?", (plan_id, silence_id)
        ).fetchall()
    return [
        Silence(
            id=row["id"],
            plan_id=row["plan"],
            targets=tuple(json.loads(row["targets"])),
            owners=tuple(json.loads(row["owners"])),
            tags=tuple(json.loads(row["tags"])),
            until=dt.date.fromisoformat(row["until"]),
            reason=row["reason"],
            created_by=row["created_by"],
            created_at=_parse_ts(row["created_at"]),
            created_as_of=dt.date.fromisoformat(row["created_as_of"]),
            ended_at=_opt_parse_ts(row["ended_at"]),
            ended_by=row["ended_by"],
        )
        for row in rows
    ]


def _last_as_of(db: sqlite3.Connection, plan_id: str) -> dt.date | None:
    row = db.execute(
        "SELECT max(as_of) FROM runs WHERE plan = ? AND stale = 0", (plan_id,)
    ).fetchone()
    return _opt_date(row[0])


def _upsert(db: sqlite3.Connection, plan_id: str, r: AlertRecord) -> None:
    db.execute(
        "INSERT INTO alerts (plan, key, kind, target, title, indicator, owner, tags, firing,"
        " status, severity, peak_severity, message_zh, message_en, first_seen, first_seen_as_of,"
        " last_seen_as_of, last_notified, last_notified_as_of, last_resolved, silenced, notified,"
        " open_runs, open_since, escalated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (plan, key) DO UPDATE SET kind = excluded.kind, target = excluded.target,"
        " title = excluded.title, indicator = excluded.indicator, owner = excluded.owner,"
        " tags = excluded.tags, firing = excluded.firing, status = excluded.status,"
        " severity = excluded.severity, peak_severity = excluded.peak_severity,"
        " message_zh = excluded.message_zh, message_en = excluded.message_en,"
        " first_seen = excluded.first_seen, first_seen_as_of = excluded.first_seen_as_of,"
        " last_seen_as_of = excluded.last_seen_as_of, last_notified = excluded.last_notified,"
        " last_notified_as_of = excluded.last_notified_as_of,"
        " last_resolved = excluded.last_resolved, silenced = excluded.silenced,"
        " notified = excluded.notified, open_runs = excluded.open_runs,"
        " open_since = excluded.open_since, escalated = excluded.escalated",
        (
            plan_id,
            r.key,
            r.kind,
            r.target,
            r.title,
            r.indicator,
            r.owner,
            json.dumps(list(r.tags), ensure_ascii=False),
            int(r.firing),
            r.status,
            r.severity.value,
            r.peak_severity.value,
            r.message_zh,
            r.message_en,
            _ts(r.first_seen),
            r.first_seen_as_of.isoformat(),
            r.last_seen_as_of.isoformat(),
            _opt_ts(r.last_notified),
            None if r.last_notified_as_of is None else r.last_notified_as_of.isoformat(),
            _opt_ts(r.last_resolved),
            int(r.silenced),
            r.notified,
            r.open_runs,
            None if r.open_since is None else r.open_since.isoformat(),
            json.dumps(list(r.escalated), ensure_ascii=False),
        ),
    )


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        run=row["run"],
        plan_id=row["plan"],
        plan_title=row["plan_title"],
        channel=row["channel"],
        recipient=row["recipient"],
        lang=row["lang"],
        notice=Notice.from_json(row["notice"]),
        created=_parse_ts(row["created"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        sent=_opt_parse_ts(row["sent"]),
        message_id=row["message_id"],
    )


def read_records(path: str | Path, plan_id: str) -> dict[str, AlertRecord]:
    """Return a plan's stored alert records, or an empty mapping when there is no file yet."""
    store = StateStore.open_readonly(path)
    if store is None:
        return {}
    with store:
        return store.records(plan_id)


def read_history(path: str | Path, plan_id: str, *, limit: int | None = None) -> list[HistoryEntry]:
    """Return a plan's queued and delivered notices, newest first ([] when no file yet)."""
    store = StateStore.open_readonly(path)
    if store is None:
        return []
    with store:
        return store.history(plan_id, limit=limit)


def read_silences(path: str | Path, plan_id: str) -> list[Silence]:
    """Return a plan's silences, oldest first ([] when there is no file yet)."""
    store = StateStore.open_readonly(path)
    if store is None:
        return []
    with store:
        return store.silences(plan_id)


def lock_path(path: str | Path) -> Path:
    """Return the lock file that goes with a state file."""
    path = Path(path)
    return path.with_name(path.name + ".lock")
