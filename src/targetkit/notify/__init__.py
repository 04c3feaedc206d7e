"""Alert notification: decide what to tell whom, queue it, deliver it, retry what failed.

`deliver` is what ``targetkit check --notify`` runs after an evaluation::

    settings = load_settings(plan_path)            # or load_settings(plan_path, "notify.toml")
    report = deliver(evaluation, settings, now=datetime.now(UTC), dry_run=False, out=sys.stdout)
    exit_code = 4 if report.failed else …

One run, under the state file's lock:

1. In one sqlite transaction, the stored alert records are read, `targetkit.state.decide` says
   which notices are due (new, changed, repeat, resolved), `route` assigns each to recipients,
   and the new records and the queued notices (the outbox) are written.
2. Every queued notice of the plan not yet delivered — this run's and any left by an earlier
   failed run — is grouped into one `Digest` per recipient and handed to a `Notifier`: SMTP
   email (`email.SmtpNotifier`), the local Maildir outbox (`maildir.MaildirNotifier`) when no
   SMTP server is configured, or a webhook (`webhook.WebhookNotifier`). A delivered notice is
   marked sent and never sent again; a failed one stays queued, with its error, for the next run.

A dry run does the same reading and deciding without the lock and without writing anything,
and prints each digest instead of sending it.

Silences (`silence`, `silences`, `unsilence`) are stored in the same state file, under the same
lock; with ``history_retention`` set, each run ends by pruning the history older than that
(`prune` does it on demand).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import unicodedata
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

import attrs

from targetkit.evaluation import Evaluation
from targetkit.exceptions import DeliveryError
from targetkit.notify.digest import Digest, Message
from targetkit.notify.settings import (
    NotifySettings,
    Route,
    SmtpSettings,
    WebhookSettings,
    load_settings,
    parse_settings,
)
from targetkit.state import (
    Notice,
    NoticeKind,
    OutboxItem,
    PruneReport,
    Silence,
    Snapshot,
    StateError,
    StateStore,
    active_silences,
    decide,
    plan_silence,
    read_history,
    read_records,
    read_silences,
)

if TYPE_CHECKING:
    from targetkit.model import Plan

__all__ = [
    "Attempt",
    "DeliveryReport",
    "Digest",
    "Message",
    "Notice",
    "NoticeKind",
    "Notifier",
    "NotifySettings",
    "PruneReport",
    "Route",
    "Silence",
    "SmtpSettings",
    "StateError",
    "WebhookSettings",
    "deliver",
    "history_text",
    "load_settings",
    "parse_settings",
    "prune",
    "route",
    "silence",
    "silences",
    "unsilence",
    "who_from",
]


@runtime_checkable
class Notifier(Protocol):
    """Something that delivers digests: SMTP, a Maildir, a webhook, or your own.

    `send` raises `targetkit.DeliveryError` when the digest was not delivered (it then stays
    queued and is retried on the next run) and returns a receipt (a Message-ID, an HTTP status)
    when it was.
    """

    def describe(self) -> str:
        """Return where digests go, for messages (never a secret)."""
        ...

    def preview(self, digest: Digest, *, now: dt.datetime) -> str:
        """Return the digest as it would be sent, for a dry run."""
        ...

    def send(self, digest: Digest, *, now: dt.datetime) -> str:
        """Deliver one digest; return a receipt or raise `DeliveryError`."""
        ...

    def close(self) -> None:
        """Release connections at the end of the run."""
        ...


# --------------------------------------------------------------------------- routing

EMAIL = "email"
MAILDIR = "maildir"
WEBHOOK = "webhook"


def _address_key(recipient: str) -> str:
    import email.utils  # noqa: PLC0415 - only routing needs it

    return email.utils.parseaddr(recipient)[1].lower() or recipient


def route(
    notices: Sequence[Notice], settings: NotifySettings
) -> list[tuple[str, str, str, Notice]]:
    """Assign notices to recipients: ``(channel, recipient, lang, notice)`` rows.

    Every email route and webhook whose matcher takes a notice gets it; an address listed by
    several routes gets it once (in the first route's language). An ``escalated`` (督办) notice
    goes only to its escalation's recipients, and a ``resolved`` one also to the recipients of
    the escalations its episode reached. A notice no route or webhook takes goes to the Maildir
    outbox (channel ``maildir``), so it is never dropped.
    """
    rows: list[tuple[str, str, str, Notice]] = []
    for notice in notices:
        seen: set[tuple[str, str]] = set()
        for escalation in settings.escalations:
            if escalation.name not in notice.escalations:
                continue
            for address in escalation.to:
                key = (EMAIL, _address_key(address))
                if key not in seen:
                    seen.add(key)
                    rows.append((EMAIL, address, escalation.lang or settings.lang, notice))
        if notice.kind is NoticeKind.ESCALATED:
            if not seen:
                rows.append((MAILDIR, "", settings.lang, notice))
            continue
        for r in settings.routes:
            if not r.match.matches(notice):
                continue
            for address in r.to:
                key = (EMAIL, _address_key(address))
                if key not in seen:
                    seen.add(key)
                    rows.append((EMAIL, address, r.lang or settings.lang, notice))
        for hook in settings.webhooks:
            if hook.match.matches(notice) and (WEBHOOK, hook.name) not in seen:
                seen.add((WEBHOOK, hook.name))
                rows.append((WEBHOOK, hook.name, hook.lang or settings.lang, notice))
        if not seen:
            rows.append((MAILDIR, "", settings.lang, notice))
    return rows


# --------------------------------------------------------------------------- report


@attrs.frozen(kw_only=True)
class Attempt:
    """One digest's delivery attempt in a run."""

    channel: str
    recipient: str
    via: str
    notices: int
    ok: bool
    error: str = ""
    receipt: str = ""

    @property
    def who(self) -> str:
        """Return the recipient as a person reads it."""
        if self.channel == WEBHOOK:
            return f"webhook {self.recipient}"
        return self.recipient or "the outbox"


@attrs.frozen(kw_only=True)
class DeliveryReport:
    """What a notify run did; the CLI prints `lines` and `error_lines` and exits 4 on `failed`.

    Attributes:
        notices: The notices this run decided (queued for delivery, or shown in a dry run).
        attempts: One per digest handed to a notifier (none in a dry run).
        previews: How many digests a dry run showed.
        queued: Notices of the plan still waiting for delivery after the run.
        unrouted: Notices of this run that no route took (sent to the outbox).
        stale: The as-of date was earlier than the last run's; nothing was decided.
        silenced: Open problems whose notices a silence held back in this run.
        pruned: What ``history_retention`` pruned at the end of the run (None: not set).
    """

    plan_id: str
    as_of: dt.date
    state_path: Path
    outbox: Path
    dry_run: bool = False
    notices: tuple[Notice, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    previews: int = 0
    queued: int = 0
    unrouted: int = 0
    stale: bool = False
    last_as_of: dt.date | None = None
    silenced: int = 0
    pruned: PruneReport | None = None

    @property
    def failures(self) -> tuple[Attempt, ...]:
        """Return the failed attempts."""
        return tuple(a for a in self.attempts if not a.ok)

    @property
    def failed(self) -> bool:
        """Return True when some digest was not delivered (exit code 4)."""
        return bool(self.failures)

    def lines(self) -> list[str]:
        """Return what happened, one line each, for standard output."""
        out: list[str] = []
        if self.stale:
            out.append(
                f"notify: as of {self.as_of.isoformat()} is earlier than the last run "
                f"({self.last_as_of.isoformat() if self.last_as_of else '?'}); the alert state "
                "is unchanged and nothing new is sent"
            )
        else:
            counts = dict.fromkeys(NoticeKind, 0)
            for n in self.notices:
                counts[n.kind] += 1
            said = ", ".join(f"{v} {k.value}" for k, v in counts.items() if v)
            out.append(f"notify: {said or 'nothing new'} (as of {self.as_of.isoformat()})")
            if self.silenced:
                out.append(
                    f"notify: {_plural(self.silenced, 'open problem')} silenced, not notified "
                    "(see 'targetkit alerts silences')"
                )
        for a in self.attempts:
            if a.ok:
                out.append(f"notify: sent {_plural(a.notices, 'notice')} to {a.who} via {a.via}")
        if self.unrouted:
            out.append(
                f"notify: {_plural(self.unrouted, 'notice')} matched no route and went to the "
                f"outbox {self.outbox}; add a [[notify.routes]] without owners, tags or severity "
                "to catch everything"
            )
        if self.pruned is not None and self.pruned.total:
            out.append(f"notify: {prune_line(self.pruned)}")
        if self.dry_run:
            out.append(
                f"notify: dry run — {_plural(self.previews, 'digest')} shown above, nothing sent, "
                "the alert state not changed"
            )
        return out

    def error_lines(self) -> list[str]:
        """Return one line per failed digest, for standard error."""
        out = [
            f"notify: delivery to {a.who} failed: {a.error.removeprefix(a.who + ': ')}; "
            f"{_plural(a.notices, 'notice')} kept for retry on the next run"
            for a in self.failures
        ]
        if out:
            out.append(
                f"notify: {_plural(self.queued, 'notice')} queued in {self.state_path}; see "
                "'targetkit alerts history'"
            )
        return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def prune_line(report: PruneReport) -> str:
    """Return what a prune removed (or would remove), on one line."""
    what = ", ".join(
        [
            _plural(report.notices, "delivered notice"),
            _plural(report.problems, "resolved problem"),
            _plural(report.silences, "ended silence"),
            _plural(report.runs, "run"),
            _plural(report.messages, "Maildir message"),
        ]
    )
    verb = "would prune" if report.dry_run else "pruned"
    return f"{verb} {what} older than {report.before.isoformat(timespec='seconds')}"


# --------------------------------------------------------------------------- delivery


class _Notifiers:
    """The run's notifiers, built when first needed and closed at the end."""

    def __init__(
        self,
        settings: NotifySettings,
        environ: Mapping[str, str],
        overrides: Mapping[str, Notifier],
    ) -> None:
        self.settings = settings
        self.environ = environ
        self.overrides = overrides
        self.built: dict[str, Notifier] = {}

    def get(self, channel: str, recipient: str) -> Notifier | None:
        key = f"{WEBHOOK}:{recipient}" if channel == WEBHOOK else channel
        if key in self.overrides:
            return self.overrides[key]
        if key not in self.built:
            notifier = self._build(channel, recipient)
            if notifier is None:
                return None
            self.built[key] = notifier
        return self.built[key]

    def _build(self, channel: str, recipient: str) -> Notifier | None:
        from targetkit.notify.email import SmtpNotifier  # noqa: PLC0415 - only what is used
        from targetkit.notify.maildir import MaildirNotifier  # noqa: PLC0415
        from targetkit.notify.webhook import WebhookNotifier  # noqa: PLC0415

        s = self.settings
        if channel == EMAIL and s.smtp is not None:
            return SmtpNotifier(s.smtp, sender=s.sender, environ=self.environ)
        if channel in (EMAIL, MAILDIR):
            return MaildirNotifier(s.outbox, sender=s.sender)
        if channel == WEBHOOK:
            for hook in s.webhooks:
                if hook.name == recipient:
                    return WebhookNotifier(hook, environ=self.environ)
        return None

    def close(self) -> None:
        for notifier in self.built.values():
            notifier.close()


def _groups(items: Sequence[OutboxItem]) -> list[list[OutboxItem]]:
    groups: dict[tuple[str, str, str], list[OutboxItem]] = {}
    for item in items:
        key = (item.channel, _address_key(item.recipient), item.lang)
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def _digest(group: Sequence[OutboxItem], snapshot: Snapshot, settings: NotifySettings) -> Digest:
    first = group[0]
    return Digest(
        plan_id=snapshot.plan_id,
        plan_title=snapshot.plan_title,
        # a run for an earlier date may deliver notices queued by a later one
        as_of=max(snapshot.as_of, *(item.notice.as_of for item in group)),
        lang=first.lang,
        channel=first.channel,
        recipient=first.recipient,
        notices=[item.notice for item in group],
        subject_prefix=settings.subject_prefix,
        ident=",".join(str(item.id) for item in group),
    )


def _unrouted(items: Sequence[OutboxItem], settings: NotifySettings) -> int:
    """Count notices no route took; without any route, the outbox is where all go by design."""
    if not settings.routes and not settings.webhooks:
        return 0
    return sum(1 for item in items if item.channel == MAILDIR)


def _require_aware(now: dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime (got {now!r})")


def deliver(
    evaluation: Evaluation,
    settings: NotifySettings,
    *,
    now: dt.datetime,
    state_path: str | Path | None = None,
    dry_run: bool = False,
    out: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
) -> DeliveryReport:
    """Notify about an evaluation's alerts: decide, queue, deliver, retry earlier failures.

    Args:
        evaluation: The run's evaluation.
        settings: The ``[notify]`` settings (`load_settings`).
        now: The run's clock, timezone-aware (``datetime.now(UTC)``).
        state_path: The sqlite state file; default ``settings.state``.
        dry_run: Decide and print the digests to ``out`` instead of sending; write nothing.
        out: Where a dry run prints (default: standard output).
        environ: Where secrets are read from (default: ``os.environ``).
        notifiers: Notifiers to use instead of the built-in ones, by channel: ``email``,
            ``maildir`` or ``webhook:<name>``.

    Returns:
        The report; ``report.failed`` means some digest could not be delivered (exit code 4).
        Its notices stay queued and are retried by the next run.

    Raises:
        StateError: the state file is corrupted, newer, or locked by another run too long.
    """
    _require_aware(now)
    path = Path(state_path) if state_path is not None else settings.state
    env: Mapping[str, str] = os.environ if environ is None else environ
    snapshot = Snapshot.from_evaluation(evaluation, at_risk=settings.notify_at_risk)
    runners = _Notifiers(settings, env, notifiers or {})
    try:
        if dry_run:
            return _dry_run(snapshot, settings, path, now, out or sys.stdout, runners)
        return _run(snapshot, settings, path, now, runners)
    finally:
        runners.close()


def _dry_run(
    snapshot: Snapshot,
    settings: NotifySettings,
    path: Path,
    now: dt.datetime,
    out: TextIO,
    runners: _Notifiers,
) -> DeliveryReport:
    store = StateStore.open_readonly(path)
    quiet: list[Silence] = []
    if store is None:
        previous, last, pending = {}, None, []
    else:
        with store:
            previous = store.records(snapshot.plan_id)
            last = store.last_as_of(snapshot.plan_id)
            pending = store.pending(snapshot.plan_id)
            quiet = store.silences(snapshot.plan_id)
    decision = decide(
        previous, snapshot, now=now, policy=settings.policy, last_as_of=last, silences=quiet
    )
    new = [
        OutboxItem(
            id=0,
            run=0,
            plan_id=snapshot.plan_id,
            plan_title=snapshot.plan_title,
            channel=channel,
            recipient=recipient,
            lang=lang,
            notice=notice,
            created=now,
        )
        for channel, recipient, lang, notice in route(decision.notices, settings)
    ]
    groups = _groups([*pending, *new])
    for group in groups:
        digest = _digest(group, snapshot, settings)
        notifier = runners.get(digest.channel, digest.recipient)
        who = "" if digest.channel == WEBHOOK else f" to {digest.recipient or 'the outbox'}"
        if notifier is None:
            out.write(
                f"--- dry run: {digest.channel} {digest.recipient}: not configured; "
                f"{_plural(len(digest.notices), 'notice')} stay queued ---\n\n"
            )
            continue
        out.write(
            f"--- dry run: {_plural(len(digest.notices), 'notice')}{who} via "
            f"{notifier.describe()} ---\n"
        )
        try:
            preview = notifier.preview(digest, now=now)
        except DeliveryError as exc:
            preview = f"(would fail: {exc})"
        out.write(preview.rstrip("\n") + "\n\n")
    return DeliveryReport(
        plan_id=snapshot.plan_id,
        as_of=snapshot.as_of,
        state_path=path,
        outbox=settings.outbox,
        dry_run=True,
        notices=decision.notices,
        previews=len(groups),
        queued=len(pending) + len(new),
        unrouted=_unrouted(new, settings),
        stale=decision.stale,
        last_as_of=last,
        silenced=_silenced(decision.records),
    )


def _silenced(records: Sequence[Any]) -> int:
    return sum(1 for r in records if r.firing and r.silenced)


def _run(
    snapshot: Snapshot,
    settings: NotifySettings,
    path: Path,
    now: dt.datetime,
    runners: _Notifiers,
) -> DeliveryReport:
    with StateStore.open(path, lock_timeout=settings.lock_timeout) as store:
        last = store.last_as_of(snapshot.plan_id)
        decision, new = store.run(
            snapshot,
            now=now,
            policy=settings.policy,
            route=lambda notices: route(notices, settings),
        )
        attempts: list[Attempt] = []
        for group in _groups(store.pending(snapshot.plan_id)):
            digest = _digest(group, snapshot, settings)
            ids = [item.id for item in group]
            notifier = runners.get(digest.channel, digest.recipient)
            if notifier is None:
                error = (
                    f"{digest.channel} {digest.recipient!r} is no longer configured; add it "
                    "back to [notify] to deliver its queued notices"
                )
                store.mark_failed(ids, now=now, error=error)
                attempts.append(
                    Attempt(
                        channel=digest.channel,
                        recipient=digest.recipient,
                        via="(not configured)",
                        notices=len(ids),
                        ok=False,
                        error=error,
                    )
                )
                continue
            try:
                receipt = notifier.send(digest, now=now)
            except (DeliveryError, OSError) as exc:  # a failed delivery: kept for the next run
                error = str(exc) or type(exc).__name__
                store.mark_failed(ids, now=now, error=error)
                attempts.append(
                    Attempt(
                        channel=digest.channel,
                        recipient=digest.recipient,
                        via=notifier.describe(),
                        notices=len(ids),
                        ok=False,
                        error=error,
                    )
                )
                continue
            except Exception as exc:
                # A notifier's own bug is no failed delivery: retrying it every run would only
                # fail again. The notices stay queued and the run stops, naming the bug.
                error = f"the {digest.channel} notifier ({notifier.describe()}) has a bug: {type(exc).__name__}: {exc}"
                store.mark_failed(ids, now=now, error=error)
                raise DeliveryError(
                    f"{error}; fix the notifier — {len(ids)} notices stay queued and are sent once it works",
                    channel=digest.channel,
                    recipient=digest.recipient,
                ) from exc
            store.mark_sent(ids, now=now, message_id=receipt)
            attempts.append(
                Attempt(
                    channel=digest.channel,
                    recipient=digest.recipient,
                    via=notifier.describe(),
                    notices=len(ids),
                    ok=True,
                    receipt=receipt,
                )
            )
        queued = len(store.pending(snapshot.plan_id))
        pruned = None
        if settings.history_retention is not None and not decision.stale:
            pruned = _prune(
                store, settings, snapshot.plan_id, before=now - settings.history_retention
            )
    return DeliveryReport(
        plan_id=snapshot.plan_id,
        as_of=snapshot.as_of,
        state_path=path,
        outbox=settings.outbox,
        notices=decision.notices,
        attempts=tuple(attempts),
        queued=queued,
        unrouted=_unrouted(new, settings),
        stale=decision.stale,
        last_as_of=last,
        silenced=_silenced(decision.records),
        pruned=pruned,
    )


# --------------------------------------------------------------------------- silences and pruning


def who_from(environ: Mapping[str, str] | None = None) -> str:
    """Return who is acting, as the environment says: ``TARGETKIT_USER``, else the login name
    (``USER``, then ``LOGNAME``), else an empty string."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    for name in ("TARGETKIT_USER", "USER", "LOGNAME"):
        # shown on terminals and in lists: control characters are dropped, the length bounded
        value = " ".join(env.get(name, "").split())
        value = "".join(ch for ch in value if unicodedata.category(ch) != "Cc")[:100]
        if value:
            return value
    return ""


def silence(
    plan: Plan,
    settings: NotifySettings,
    *,
    targets: Sequence[str] = (),
    owners: Sequence[str] = (),
    tags: Sequence[str] = (),
    until: dt.date,
    reason: str,
    as_of: dt.date,
    now: dt.datetime,
    who: str | None = None,
) -> Silence:
    """Silence targets of a plan until a date, and store it; return it with its id.

    The silence covers ``targets`` and every target of ``owners`` or with one of ``tags``, as
    the plan stands now. It holds back every notice about them (new, changed, repeat, resolved,
    escalated) in runs whose as-of date is on or before ``until``.

    Args:
        plan: The plan the targets belong to.
        settings: Where the state file is (``settings.state``) and the lock timeout.
        until: The last as-of date silenced (inclusive).
        reason: Why, for the record and for every list that shows it.
        as_of: The date ``until`` must not be before: today for a person at a terminal.
        now: The clock (timezone-aware), recorded as when the silence was set.
        who: Who set it; default `who_from` the environment.

    Raises:
        ConfigError: an unknown target, owner or tag, ``until`` before ``as_of``, no target
            chosen, an empty reason (nothing is written).
        StateError: the state file cannot be used.
    """
    made = plan_silence(
        plan,
        targets=targets,
        owners=owners,
        tags=tags,
        until=until,
        reason=reason,
        as_of=as_of,
        now=now,
        who=who_from() if who is None else who,
    )
    with StateStore.open(settings.state, lock_timeout=settings.lock_timeout) as store:
        return store.add_silence(made)


def silences(
    settings: NotifySettings | str | Path,
    plan_id: str,
    *,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[Silence]:
    """Return a plan's silences, oldest first; with ``as_of`` and ``now``, only the active ones.

    Reads the state file without locking it ([] when there is none yet).
    """
    path = settings.state if isinstance(settings, NotifySettings) else Path(settings)
    found = read_silences(path, plan_id)
    if as_of is None or now is None:
        return found
    return [s for s in found if s.active(as_of=as_of, now=now)]


def unsilence(
    settings: NotifySettings,
    plan_id: str,
    silence_id: int,
    *,
    now: dt.datetime,
    who: str | None = None,
) -> Silence:
    """End a silence early; the next run notifies the problems it held back that are still open.

    Raises:
        StateError: no such silence, it already ended, or the state file cannot be used.
    """
    with StateStore.open(settings.state, lock_timeout=settings.lock_timeout) as store:
        return store.end_silence(
            plan_id, silence_id, now=now, who=who_from() if who is None else who
        )


def prune(
    settings: NotifySettings,
    plan_id: str,
    *,
    now: dt.datetime,
    older_than: dt.timedelta | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Prune a plan's alert history older than ``older_than`` (default: history_retention).

    Deletes resolved episodes, delivered notices, ended silences and old runs in one
    transaction (never a queued notice), then the Maildir outbox's messages older than the
    cutoff. ``dry_run`` counts and deletes nothing.

    Raises:
        ValueError: neither ``older_than`` nor ``settings.history_retention`` is set.
        StateError: the state file cannot be used.
    """
    _require_aware(now)
    keep = older_than if older_than is not None else settings.history_retention
    if keep is None:
        raise ValueError("no retention: set notify.history_retention or pass older_than")
    before = now - keep
    probe = StateStore.open_readonly(settings.state)
    if probe is None:  # no history yet: pruning must not create a state file
        return attrs.evolve(
            PruneReport(before=before, dry_run=dry_run),
            messages=_prune_maildir(settings.outbox, before, dry_run=dry_run),
        )
    probe.close()
    with StateStore.open(settings.state, lock_timeout=settings.lock_timeout) as store:
        return _prune(store, settings, plan_id, before=before, dry_run=dry_run)


def _prune(
    store: StateStore,
    settings: NotifySettings,
    plan_id: str,
    *,
    before: dt.datetime,
    dry_run: bool = False,
) -> PruneReport:
    report = store.prune(plan_id, before=before, dry_run=dry_run)
    # files after the transaction: a crash in between leaves old messages for the next prune
    return attrs.evolve(report, messages=_prune_maildir(settings.outbox, before, dry_run=dry_run))


def _prune_maildir(folder: Path, before: dt.datetime, *, dry_run: bool) -> int:
    """Delete (or count) the delivered messages of a Maildir written before ``before``."""
    cutoff = before.timestamp()
    count = 0
    for sub in ("new", "cur"):
        box = folder / sub
        if not box.is_dir():
            continue
        for entry in box.iterdir():
            try:
                info = entry.lstat()
            except FileNotFoundError:  # a mail client moved it from new/ to cur/ meanwhile
                continue
            if not entry.is_file() or entry.is_symlink() or info.st_mtime >= cutoff:
                continue
            count += 1
            if not dry_run:
                entry.unlink(missing_ok=True)
    return count


# --------------------------------------------------------------------------- history

_HISTORY_WORDS = {
    "zh": {
        "title": "告警记录",
        "none": "尚无告警记录（状态文件 {path} 不存在或为空）。",
        "open": "未解决的问题",
        "sent": "已送达",
        "pending": "待重试",
        "attempts": "已尝试{n}次，最近错误：{e}",
        "outbox": "本地发件箱",
        "silences": "生效中的静默",
        "silenced": "已静默至 {d}（{r}）",
        "escalated": "已督办：{n}",
        "runs": "已连续{n}次检查未解决，已提醒{k}次",
        "by": "设置人 {w}，{t}",
    },
    "en": {
        "title": "alert history",
        "none": "no alerts recorded yet (state file {path} does not exist or is empty).",
        "open": "open problems",
        "sent": "sent",
        "pending": "pending",
        "attempts": "{n} attempt(s), last error: {e}",
        "outbox": "outbox",
        "silences": "active silences",
        "silenced": "silenced until {d} ({r})",
        "escalated": "escalated: {n}",
        "runs": "open for {n} run(s), notified in {k} run(s)",
        "by": "set by {w}, {t}",
    },
}
_HISTORY_HEADER = {
    "zh": ("时间", "状态", "截至", "渠道", "收件人", "类型", "目标", "状态变化"),
    "en": ("when", "state", "as of", "channel", "recipient", "notice", "target", "status"),
}


def history_text(
    state_path: str | Path,
    plan_id: str,
    *,
    lang: str = "zh",
    timezone: str = "Asia/Shanghai",
    limit: int | None = None,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Return ``targetkit alerts history``: open problems, active silences, then what was sent
    when, newest first.

    Times are shown in ``timezone`` (the plan's). Silences are those active at ``as_of`` and
    ``now`` (default: the latest run's as-of date and the clock). Reads the state file without
    locking it.

    Raises:
        StateError: the state file is corrupted or newer.
    """
    from targetkit.notify.templates import status_label  # noqa: PLC0415

    lang = "en" if lang == "en" else "zh"
    words = _HISTORY_WORDS[lang]
    zone = zoneinfo.ZoneInfo(timezone)
    path = Path(state_path)
    records = read_records(path, plan_id)
    entries = read_history(path, plan_id, limit=limit)
    stored = read_silences(path, plan_id)
    if not records and not entries and not stored:
        return words["none"].format(path=path) + "\n"
    if as_of is None:
        as_of = max((r.last_seen_as_of for r in records.values()), default=None)
    clock = now if now is not None else dt.datetime.now(dt.UTC)
    quiet = active_silences(stored, as_of=as_of, now=clock) if as_of is not None else {}
    colon = "：" if lang == "zh" else ": "
    out = [f"{plan_id} {words['title']} ({path})", ""]
    firing = sorted((r for r in records.values() if r.firing), key=lambda r: r.key)
    out.append(f"{words['open']}{colon}{len(firing)}")
    for r in firing:
        severity = "critical" if r.escalated else r.severity.value
        out.append(
            f"  {r.target}{'@' + r.scope if r.scope else ''}  {status_label(r.status, lang)}  "
            f"({severity}, {r.first_seen_as_of.isoformat()} →)"
        )
        notes = [words["runs"].format(n=r.open_runs, k=r.notified)]
        if r.escalated:
            notes.append(words["escalated"].format(n="、".join(r.escalated)))
        held = quiet.get(r.target)
        if held is not None:
            notes.append(words["silenced"].format(d=held.until.isoformat(), r=held.reason))
        out.append("    " + ("；" if lang == "zh" else "; ").join(notes))
    out.append("")
    active = sorted({s.id: s for s in quiet.values()}.values(), key=lambda s: s.id)
    if active:
        out.append(f"{words['silences']}{colon}{len(active)}")
        for held in active:
            when = held.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            out.append(
                f"  #{held.id}  {'、'.join(held.targets)}  "
                + words["silenced"].format(d=held.until.isoformat(), r=held.reason)
                + f"  {words['by'].format(w=held.created_by or '?', t=when)}"
            )
        out.append("")
    rows: list[tuple[str, ...]] = [_HISTORY_HEADER[lang]]
    for entry in entries:
        item = entry.item
        when = (item.sent or item.created).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        state = words["sent"] if item.sent is not None else words["pending"]
        n = item.notice
        change = status_label(n.status, lang)
        if n.previous_status and n.kind in (NoticeKind.CHANGED, NoticeKind.RESOLVED):
            change = f"{status_label(n.previous_status, lang)} → {change}"
        rows.append(
            (
                when,
                state,
                entry.run_as_of.isoformat(),
                item.channel,
                item.recipient or words["outbox"],
                n.kind.value,
                n.where,
                change,
            )
        )
        if item.sent is None and item.attempts:
            rows.append(
                (
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    words["attempts"].format(n=item.attempts, e=item.last_error),
                )
            )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def _width(text: str) -> int:
    """Return the display width of text (CJK characters take two columns)."""
    import unicodedata  # noqa: PLC0415

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
