"""Delivery: one notify run decides, queues and delivers its digests, and reports what it did.

`deliver` is what ``targetkit check --notify`` runs after an evaluation. In one sqlite
transaction under the state file's lock, the stored alert records are read, `decide` says which
notices are due, `route` assigns each to recipients, and the new records and the queued notices
(the outbox) are written. Then every queued notice of the plan not yet delivered — this run's and
any left by an earlier failed run — is grouped into one `Digest` per recipient and handed to a
`Notifier`. A delivered notice is marked sent and never sent again; a failed one stays queued,
with its error, for the next run. A dry run reads and decides without the lock, writes nothing,
and prints each digest instead of sending it.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from targetkit.alerts import Notice, NoticeKind, Silence, Snapshot, decide, require_aware
from targetkit.exceptions import DeliveryError
from targetkit.notify.digest import Digest
from targetkit.notify.notifier import Notifier
from targetkit.notify.pruning import prune_store
from targetkit.notify.routing import EMAIL, MAILDIR, WEBHOOK, address_key, route, unrouted
from targetkit.notify.settings import NotifySettings
from targetkit.state import OutboxItem, PruneReport, StateStore

if TYPE_CHECKING:
    from targetkit.evaluation import Evaluation

__all__ = ["Attempt", "DeliveryReport", "deliver", "prune_line"]


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
        key = (item.channel, address_key(item.recipient), item.lang)
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
    require_aware(now)
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
        unrouted=unrouted(new, settings),
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
            notifier = runners.get(digest.channel, digest.recipient)
            attempts.append(_attempt(store, digest, [item.id for item in group], notifier, now=now))
        queued = len(store.pending(snapshot.plan_id))
        pruned = None
        if settings.history_retention is not None and not decision.stale:
            pruned = prune_store(
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
        unrouted=unrouted(new, settings),
        stale=decision.stale,
        last_as_of=last,
        silenced=_silenced(decision.records),
        pruned=pruned,
    )


def _attempt(
    store: StateStore,
    digest: Digest,
    ids: list[int],
    notifier: Notifier | None,
    *,
    now: dt.datetime,
) -> Attempt:
    """Hand one digest to its notifier, mark its notices sent or failed, and return the attempt."""
    receipt = ""
    if notifier is None:
        via = "(not configured)"
        error = (
            f"{digest.channel} {digest.recipient!r} is no longer configured; add it "
            "back to [notify] to deliver its queued notices"
        )
    else:
        error = ""
        try:
            receipt = notifier.send(digest, now=now)
        except (DeliveryError, OSError) as exc:  # a failed delivery: kept for the next run
            error = str(exc) or type(exc).__name__
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
        via = notifier.describe()
    if error:
        store.mark_failed(ids, now=now, error=error)
    else:
        store.mark_sent(ids, now=now, message_id=receipt)
    return Attempt(
        channel=digest.channel,
        recipient=digest.recipient,
        via=via,
        notices=len(ids),
        ok=not error,
        error=error,
        receipt=receipt,
    )
