"""Routing: which recipients (email addresses, webhooks, the Maildir outbox) get which notice."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from targetkit.alerts import Notice, NoticeKind

if TYPE_CHECKING:
    from targetkit.notify.settings import NotifySettings
    from targetkit.state import OutboxItem

__all__ = ["EMAIL", "MAILDIR", "WEBHOOK", "address_key", "route", "unrouted"]

EMAIL = "email"
MAILDIR = "maildir"
WEBHOOK = "webhook"


def address_key(recipient: str) -> str:
    """Return the key one mailbox goes by: its address in lower case (``张三 <A@x.cn>`` is a@x.cn)."""
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
        for channel, recipient, key, lang in _candidates(notice, settings):
            if (channel, key) not in seen:
                seen.add((channel, key))
                rows.append((channel, recipient, lang or settings.lang, notice))
        if not seen:
            rows.append((MAILDIR, "", settings.lang, notice))
    return rows


def _candidates(
    notice: Notice, settings: NotifySettings
) -> Iterator[tuple[str, str, str, str | None]]:
    """Yield ``(channel, recipient, key, lang)`` for everyone a notice may go to, in order.

    The key is what makes two recipients one (an address in any spelling); escalations come
    first, and an escalated notice goes to nobody else.
    """
    for escalation in settings.escalations:
        if escalation.name in notice.escalations:
            for address in escalation.to:
                yield EMAIL, address, address_key(address), escalation.lang
    if notice.kind is NoticeKind.ESCALATED:
        return
    for r in settings.routes:
        if r.match.matches(notice):
            for address in r.to:
                yield EMAIL, address, address_key(address), r.lang
    for hook in settings.webhooks:
        if hook.match.matches(notice):
            yield WEBHOOK, hook.name, hook.name, hook.lang


def unrouted(items: Sequence[OutboxItem], settings: NotifySettings) -> int:
    """Count notices no route took; without any route, the outbox is where all go by design."""
    if not settings.routes and not settings.webhooks:
        return 0
    return sum(1 for item in items if item.channel == MAILDIR)
