"""The values a notifier sends: a `Digest` (one per recipient per run) and its rendered `Message`."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

import attrs

from targetkit.model import Severity
from targetkit.state import Notice, NoticeKind, severity_rank

__all__ = ["KIND_ORDER", "Digest", "Message"]

KIND_ORDER = (
    NoticeKind.ESCALATED,
    NoticeKind.NEW,
    NoticeKind.CHANGED,
    NoticeKind.REPEAT,
    NoticeKind.RESOLVED,
)


def _notice_tuple(items: Iterable[Notice]) -> tuple[Notice, ...]:
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return tuple(
        sorted(
            items,
            key=lambda n: (order[n.kind], -severity_rank(n.severity), n.as_of, n.target, n.key),
        )
    )


@attrs.frozen(kw_only=True)
class Digest:
    """Everything one recipient hears in one run: the notices, sorted, and where they go.

    ``channel`` is ``email``, ``maildir`` or ``webhook``; ``recipient`` an address, empty (the
    outbox), or a webhook's name. Notices are sorted escalated → new → changed → repeat →
    resolved, critical first. ``ident`` identifies the digest's content (its outbox rows) for the Message-ID.
    """

    plan_id: str
    plan_title: str
    as_of: dt.date
    lang: str
    channel: str
    recipient: str
    notices: tuple[Notice, ...] = attrs.field(converter=_notice_tuple)
    subject_prefix: str = "[targetkit]"
    ident: str = ""

    def of_kind(self, kind: NoticeKind) -> tuple[Notice, ...]:
        """Return the notices of one kind, in digest order."""
        return tuple(n for n in self.notices if n.kind is kind)

    @property
    def counts(self) -> dict[NoticeKind, int]:
        """Return how many notices of each kind (every kind listed)."""
        return {k: len(self.of_kind(k)) for k in KIND_ORDER}

    @property
    def critical(self) -> bool:
        """Return True when an open problem in the digest is critical."""
        return any(
            n.severity is Severity.CRITICAL and n.kind is not NoticeKind.RESOLVED
            for n in self.notices
        )

    @property
    def escalated(self) -> bool:
        """Return True when the digest holds a 督办 (escalated) notice."""
        return any(n.kind is NoticeKind.ESCALATED for n in self.notices)

    def fingerprint(self) -> str:
        """Return a short stable hash of the digest's identity (plan, recipient, content)."""
        basis = "\x1f".join(
            [self.plan_id, self.channel, self.recipient, self.ident or self.as_of.isoformat()]
            + [n.to_json() for n in self.notices]
        )
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]


@attrs.frozen(kw_only=True)
class Message:
    """A digest rendered for people: subject, plain text, HTML and Markdown."""

    subject: str
    text: str
    html: str
    markdown: str
