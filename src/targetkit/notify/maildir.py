"""The outbox: digests written as email files to a local Maildir, which any mail client opens.

Used for email when no SMTP server is configured, and for notices that no route matched. A
Maildir writes each message to ``tmp/`` and renames it into ``new/``, so a reader never sees a
half-written message.
"""

from __future__ import annotations

import datetime as dt
import mailbox
from pathlib import Path

from targetkit.exceptions import DeliveryError
from targetkit.notify.digest import Digest
from targetkit.notify.email import build_message, format_message

__all__ = ["MaildirNotifier"]


class MaildirNotifier:
    """Write digests to a Maildir folder (created when missing)."""

    def __init__(self, path: str | Path, *, sender: str) -> None:
        self.path = Path(path)
        self.sender = sender

    def describe(self) -> str:
        """Return where mail goes, for messages."""
        return f"Maildir {self.path}"

    def preview(self, digest: Digest, *, now: dt.datetime) -> str:
        """Return the message as it would be written."""
        return format_message(build_message(digest, sender=self.sender, now=now))

    def send(self, digest: Digest, *, now: dt.datetime) -> str:
        """Write one digest; return its Message-ID.

        Raises:
            DeliveryError: the folder cannot be created or written.
        """
        message = build_message(digest, sender=self.sender, now=now)
        try:
            # mailbox creates the Maildir itself but not the folders above it (.targetkit/ when
            # the state file lives elsewhere, named by a separate notify file)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            box = mailbox.Maildir(self.path, create=True)
            box.add(message)
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to the Maildir outbox {self.path} ({exc.strerror or exc})",
                channel="maildir",
                recipient=digest.recipient,
            ) from exc
        return str(message["Message-ID"])

    def close(self) -> None:
        """Nothing to close: each message is written and flushed on its own."""
