"""The `Notifier` protocol: what SMTP email, the Maildir outbox, webhooks and your own share."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from targetkit.notify.digest import Digest

__all__ = ["Notifier"]


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
