"""The alert lifecycle, pure: which notices a run sends, given what earlier runs saw.

`decide` takes the stored records of earlier runs (`AlertRecord`), this run's alerts (a
`Snapshot` of an evaluation), the run's clock and a `Policy` (repeat interval, what counts as a
change, silences, escalations), and returns the notices to send and the records to keep. It never
reads the clock or touches a file; `targetkit.state` keeps the records in sqlite and queues the
notices. The lifecycle (DESIGN § Alerts, docs/explanation/alert-lifecycle.md)::

    (none) ──alert──▶ firing ──status changes──▶ firing (notice "changed")
      ▲                 │  └──unchanged for repeat_interval──▶ firing (notice "repeat")
      │                 ▼
      └──alert again── resolved (notice "resolved", sent once)

A `Silence` quiets named targets while the run's as-of date is on or before its ``until``; an
`Escalation` raises a problem open for a number of runs or days to critical, with one 督办 notice
per episode.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from targetkit.exceptions import ConfigError, Problem
from targetkit.model import Plan, Severity, Target

if TYPE_CHECKING:
    from targetkit.evaluation import Evaluation

__all__ = [
    "OVERDUE",
    "RECEIVED",
    "REMOVED",
    "AlertRecord",
    "ChangePolicy",
    "CurrentAlert",
    "Decision",
    "Escalation",
    "Notice",
    "NoticeKind",
    "Policy",
    "Silence",
    "Snapshot",
    "active_silences",
    "decide",
    "opt_date",
    "plan_silence",
    "require_aware",
    "scope_of_key",
    "severity_rank",
]

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
    require_aware(now)
    errs = _Problems(source)

    ids = [t.id for t in plan.targets]
    chosen: list[str] = []
    for given in targets:
        if given in ids:
            chosen.append(given)
        else:
            errs.add(
                "--target",
                f"plan {plan.id!r} has no target {given!r}",
                _did_you_mean(given, ids) or "run 'targetkit validate PLAN' to list the target ids",
            )
    known_owners = sorted({t.owner for t in plan.targets if t.owner})
    for owner in _unmatched(plan, owners, lambda t, owner: t.owner == owner, chosen):
        errs.add(
            "--owner",
            f"no target of plan {plan.id!r} has the owner {owner!r}",
            _did_you_mean(owner, known_owners)
            or "owners in the plan: " + ("、".join(known_owners) or "none"),
        )
    known_tags = sorted({tag for t in plan.targets for tag in t.tags})
    for tag in _unmatched(plan, tags, lambda t, tag: tag in t.tags, chosen):
        errs.add(
            "--tag",
            f"no target of plan {plan.id!r} has the tag {tag!r}",
            _did_you_mean(tag, known_tags)
            or "tags in the plan: " + ("、".join(known_tags) or "none"),
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


def _unmatched(
    plan: Plan, wanted: Sequence[str], has: Callable[[Target, str], bool], chosen: list[str]
) -> list[str]:
    """Add to ``chosen`` the targets that have each wanted owner or tag; return those none has."""
    missing: list[str] = []
    for value in wanted:
        found = [t.id for t in plan.targets if has(t, value)]
        if found:
            chosen.extend(found)
        else:
            missing.append(value)
    return missing


def _did_you_mean(value: str, choices: Sequence[str]) -> str:
    """Return "did you mean 'x'?" for the closest choice, or ""."""
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def scope_of_key(key: str, target: str) -> str:
    """Return the part's scope a status alert's key names (``jobs:status:东坡区`` → 东坡区).

    Keys of the whole (``jobs:status``) and of other kinds name none: "".
    """
    head = f"{target}:status:"
    return key[len(head) :] if key.startswith(head) else ""


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
    scope: str = ""
    """The part's scope (东坡区) for a lagging part's alert; empty for the whole."""


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
                if alert.scope is not None:  # a part's alert tells the part's own figures
                    result = next(
                        (p for p in evaluation.parts(alert.target) if p.scope == alert.scope),
                        result,
                    )
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
                    scope=alert.scope or "",
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
    escalations already sent in the episode. ``scope`` is the part's scope (东坡区) for the
    alert of a lagging part, empty for the whole.
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
    scope: str = ""

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
    scope: str = ""

    @property
    def where(self) -> str:
        """Return the target's id, with the part's scope after an ``@`` (``jobs@东坡区``)."""
        return f"{self.target}@{self.scope}" if self.scope else self.target

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
            "scope": self.scope,
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
            open_since=opt_date(data.get("open_since")),
            escalations=tuple(data.get("escalations", ())),
            after_silence=bool(data.get("after_silence", False)),
            # absent from notices queued before state schema 3: the key holds it
            scope=data.get("scope", scope_of_key(data["key"], data["target"])),
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


def require_aware(now: dt.datetime) -> None:
    """Refuse a naive datetime: the lifecycle compares instants across runs and machines."""
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
    require_aware(now)
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
            "scope": alert.scope,
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
                    scope=prev.scope,
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


def opt_date(text: str | None) -> dt.date | None:
    """Return a date from its ISO text, or None."""
    return None if text is None else dt.date.fromisoformat(text)
