"""Pruning: the alert history older than ``history_retention`` and the outbox's old messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs

from targetkit.alerts import require_aware
from targetkit.notify.settings import NotifySettings
from targetkit.state import PruneReport, StateStore

__all__ = ["prune", "prune_store"]


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
    require_aware(now)
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
        return prune_store(store, settings, plan_id, before=before, dry_run=dry_run)


def prune_store(
    store: StateStore,
    settings: NotifySettings,
    plan_id: str,
    *,
    before: dt.datetime,
    dry_run: bool = False,
) -> PruneReport:
    """Prune a plan's history in a state file already open and locked, then its Maildir outbox."""
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
