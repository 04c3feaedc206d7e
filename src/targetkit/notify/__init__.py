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
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

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
    Snapshot,
    StateError,
    StateStore,
    decide,
    read_history,
    read_records,
)

__all__ = [
    "Attempt",
    "DeliveryReport",
    "Digest",
    "Message",
    "Notice",
    "NoticeKind",
    "Notifier",
    "NotifySettings",
    "Route",
    "SmtpSettings",
    "StateError",
    "WebhookSettings",
    "deliver",
    "history_text",
    "load_settings",
    "parse_settings",
    "route",
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
    several routes gets it once (in the first route's language). A notice no route or webhook
    takes goes to the Maildir outbox (channel ``maildir``), so it is never dropped.
    """
    rows: list[tuple[str, str, str, Notice]] = []
    for notice in notices:
        seen: set[tuple[str, str]] = set()
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
        for a in self.attempts:
            if a.ok:
                out.append(f"notify: sent {_plural(a.notices, 'notice')} to {a.who} via {a.via}")
        if self.unrouted:
            out.append(
                f"notify: {_plural(self.unrouted, 'notice')} matched no route and went to the "
                f"outbox {self.outbox}; add a [[notify.routes]] without owners, tags or severity "
                "to catch everything"
            )
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
    snapshot = Snapshot.from_evaluation(evaluation)
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
    if store is None:
        previous, last, pending = {}, None, []
    else:
        with store:
            previous = store.records(snapshot.plan_id)
            last = store.last_as_of(snapshot.plan_id)
            pending = store.pending(snapshot.plan_id)
    decision = decide(previous, snapshot, now=now, policy=settings.policy, last_as_of=last)
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
    )


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
            except Exception as exc:  # noqa: BLE001 - any failure keeps the notices queued
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
    )


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
    },
    "en": {
        "title": "alert history",
        "none": "no alerts recorded yet (state file {path} does not exist or is empty).",
        "open": "open problems",
        "sent": "sent",
        "pending": "pending",
        "attempts": "{n} attempt(s), last error: {e}",
        "outbox": "outbox",
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
) -> str:
    """Return ``targetkit alerts history``: open problems, then what was sent when, newest first.

    Times are shown in ``timezone`` (the plan's). Reads the state file without locking it.

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
    if not records and not entries:
        return words["none"].format(path=path) + "\n"
    out = [f"{plan_id} {words['title']} ({path})", ""]
    firing = sorted((r for r in records.values() if r.firing), key=lambda r: r.key)
    out.append(f"{words['open']}{'：' if lang == 'zh' else ': '}{len(firing)}")
    for r in firing:
        out.append(
            f"  {r.target}  {status_label(r.status, lang)}  "
            f"({r.severity.value}, {r.first_seen_as_of.isoformat()} →)"
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
                n.target,
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
