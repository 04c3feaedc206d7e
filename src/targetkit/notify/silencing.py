"""Silencing: hold back the notices about chosen targets until a date; who set it, and why."""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from targetkit.alerts import Silence, plan_silence
from targetkit.notify.settings import NotifySettings
from targetkit.state import StateStore, read_silences

if TYPE_CHECKING:
    from targetkit.model import Plan

__all__ = ["silence", "silences", "unsilence", "who_from"]


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
