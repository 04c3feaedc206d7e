"""Email: a digest as a multipart text + HTML message, sent over SMTP with the standard library.

Headers with Chinese text (subject, display names) are encoded by the `email` package (RFC 2047);
bodies are UTF-8. The connection is protected by STARTTLS or implicit TLS with certificate and
host name verification (`ssl.create_default_context`), unless ``security = "none"``. The password
is read from the environment variable (or the private file) the settings name, when sending, and
appears in no message: what a server quotes of a login in its answer is masked. Plan text in a
header is kept on one line and is never decoded as an RFC 2047 encoded word.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import email.utils
import smtplib
import ssl
import unicodedata
from collections.abc import Mapping
from email.message import EmailMessage

from targetkit.exceptions import DeliveryError
from targetkit.notify.digest import Digest
from targetkit.notify.settings import Security, SmtpSettings, read_secret_file
from targetkit.notify.templates import render

__all__ = ["SmtpNotifier", "build_message", "format_message"]


def _header_text(text: str) -> str:
    """Return plan text made safe for a header: one line, no control characters, no "=?".

    `email` decodes RFC 2047 encoded words in a header value it is given, and Python before
    3.11.10 / 3.12.5 then writes a decoded CR/LF as a real line break (CVE-2024-6923): a plan
    title holding ``=?utf-8?q?=0D=0ABcc:_x@example.org?=`` would add a header. A zero-width
    space between ``=`` and ``?`` keeps the text as the reader sees it and stops the decoding.
    """
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(cleaned.split()).replace("=?", "=\u200b?")


def _domain(sender: str) -> str:
    _, addr = email.utils.parseaddr(sender)
    domain = addr.rpartition("@")[2]
    return domain or "localhost"


def build_message(digest: Digest, *, sender: str, now: dt.datetime) -> EmailMessage:
    """Return the email of a digest: text and HTML alternatives, headers encoded.

    ``To`` is the digest's recipient (omitted for the outbox's unrouted digest); the
    Message-ID is derived from the digest's content, so a client can spot a duplicate.
    """
    rendered = render(digest)
    # built with "\n" line endings (as a Maildir file holds them); smtplib sends CRLF
    message = EmailMessage(policy=email.policy.default)
    message["Subject"] = _header_text(rendered.subject)
    message["From"] = sender
    if digest.recipient:
        message["To"] = digest.recipient
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = f"<targetkit.{digest.fingerprint()}@{_domain(sender)}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Targetkit-Plan"] = _header_text(digest.plan_id)
    message.set_content(rendered.text, charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    # after the body: set_content drops every Content-* header set before it
    message["Content-Language"] = "zh-CN" if digest.lang == "zh" else "en"
    return message


def format_message(message: EmailMessage) -> str:
    """Return a message as a person reads it in a dry run: headers, then the text part."""
    lines = [
        f"{name}: {message[name]}" for name in ("From", "To", "Subject", "Date") if message[name]
    ]
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return "\n".join(lines) + "\n\n" + str(text)


class SmtpNotifier:
    """Send digests by email over one SMTP connection per run.

    The connection opens on the first `send` and is reused; if it cannot be opened, every
    later send in the run fails at once with the same error instead of waiting again.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        sender: str,
        environ: Mapping[str, str],
    ) -> None:
        self.settings = settings
        self.sender = sender
        self._environ = environ
        self._smtp: smtplib.SMTP | None = None
        self._broken: _UnusableError | None = None

    def describe(self) -> str:
        """Return where mail goes, for messages."""
        return f"SMTP {self.settings.describe()}"

    def preview(self, digest: Digest, *, now: dt.datetime) -> str:
        """Return the message as it would be sent."""
        return format_message(build_message(digest, sender=self.sender, now=now))

    def _connect(self, recipient: str) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        if self._broken is None:
            try:
                self._smtp = self._open()
            except _UnusableError as exc:
                self._broken = exc
        if self._smtp is None:
            cause = self._broken.__cause__ if self._broken is not None else None
            raise DeliveryError(str(self._broken), channel="email", recipient=recipient) from (
                cause or self._broken
            )
        return self._smtp

    def _password(self) -> str:
        s = self.settings
        if not s.username:
            return ""
        if s.password_file is not None:
            try:
                return read_secret_file(s.password_file)
            except ValueError as exc:
                raise _UnusableError(
                    f"the SMTP password file for {s.username} cannot be used: {exc}"
                ) from None
        password = self._environ.get(s.password_env, "")
        if not password:
            raise _UnusableError(
                f"the environment variable {s.password_env} (the SMTP password for "
                f"{s.username}) is not set; a cron job or systemd unit does not read your "
                "shell profile: set it in the crontab or the unit's EnvironmentFile"
            )
        return password

    def _open(self) -> smtplib.SMTP:
        password = self._password()
        try:
            return self._login(password)
        except _UnusableError as exc:
            # a server may quote what it was sent in its answer: never pass the password on
            text = _scrub(str(exc), password, self.settings.username)
            if text != str(exc):
                raise _UnusableError(text) from None
            raise

    def _login(self, password: str) -> smtplib.SMTP:
        s = self.settings
        where = s.describe()
        context = self._context() if s.security is not Security.NONE else None
        smtp: smtplib.SMTP | None = None
        try:
            if s.security is Security.TLS:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security is Security.STARTTLS:
                    smtp.ehlo()
                    if not smtp.has_extn("starttls"):
                        raise _UnusableError(
                            f"SMTP server {where} does not offer STARTTLS; use "
                            'security = "tls" (port 465) if it speaks TLS from the start'
                        )
                    smtp.starttls(context=context)
                    smtp.ehlo()
            if s.username:
                smtp.login(s.username, password)
        except _UnusableError:
            _close_quietly(smtp)
            raise
        except UnicodeEncodeError as exc:
            _close_quietly(smtp)
            raise _UnusableError(
                f"the user name or password for SMTP server {where} holds characters outside "
                "ASCII, which SMTP login (smtplib) cannot send; use an ASCII password "
                "(an application-specific password, for example)"
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            _close_quietly(smtp)
            raise _UnusableError(
                f"SMTP server {where} refused the login of {s.username} "
                f"({exc.smtp_code} {_text(exc.smtp_error)}); check the password in "
                + (str(s.password_file) if s.password_file is not None else f"${s.password_env}")
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            _close_quietly(smtp)
            raise _UnusableError(
                f"SMTP server {where} does not accept a login ({exc}); remove username "
                "and password_env, or use the server's submission port"
            ) from exc
        except ssl.SSLError as exc:
            _close_quietly(smtp)
            raise _UnusableError(
                f"TLS with SMTP server {where} failed ({getattr(exc, 'reason', None) or exc}); "
                "check notify.smtp.security and port, and ca_file for a private certificate "
                "authority"
            ) from exc
        except smtplib.SMTPException as exc:
            _close_quietly(smtp)
            raise _UnusableError(f"SMTP server {where} failed ({exc})") from exc
        except OSError as exc:
            _close_quietly(smtp)
            raise _UnusableError(
                f"cannot connect to SMTP server {where} ({exc.strerror or exc})"
            ) from exc
        except BaseException:
            _close_quietly(smtp)
            raise
        return smtp

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.settings.ca_file) if self.settings.ca_file else None
        try:
            return ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise _UnusableError(f"cannot read notify.smtp.ca_file {cafile} ({exc})") from exc

    def send(self, digest: Digest, *, now: dt.datetime) -> str:
        """Send one digest to its recipient; return the Message-ID.

        Raises:
            DeliveryError: the server could not be reached, refused the login, the sender or
                the recipient.
        """
        recipient = digest.recipient
        message = build_message(digest, sender=self.sender, now=now)
        _, envelope_from = email.utils.parseaddr(self.sender)
        _, envelope_to = email.utils.parseaddr(recipient)
        if not envelope_to:
            raise DeliveryError(
                "a digest without an address cannot go by SMTP", channel="email", recipient=""
            )
        smtp = self._connect(recipient)
        try:
            smtp.send_message(message, from_addr=envelope_from, to_addrs=[envelope_to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = "; ".join(f"{c} {_text(m)}" for c, m in exc.recipients.values())
            raise DeliveryError(
                f"SMTP server {self.settings.describe()} refused the recipient {envelope_to} "
                f"({codes})",
                channel="email",
                recipient=recipient,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP server {self.settings.describe()} rejected the message "
                f"({exc.smtp_code} {_text(exc.smtp_error)})",
                channel="email",
                recipient=recipient,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # the connection is gone: drop it, so a later send reconnects once
            _close_quietly(smtp)
            self._smtp = None
            raise DeliveryError(
                f"SMTP server {self.settings.describe()} failed while sending ({exc})",
                channel="email",
                recipient=recipient,
            ) from exc
        return str(message["Message-ID"])

    def close(self) -> None:
        """Close the connection, if one is open."""
        if self._smtp is not None:
            _close_quietly(self._smtp)
            self._smtp = None


def _scrub(text: str, password: str, username: str) -> str:
    """Return ``text`` with the password, and the forms AUTH LOGIN and PLAIN send it in, masked.

    A password of fewer than four characters is only masked in those forms: masking every "x"
    in a message would make it unreadable, and such a password is no secret anyway.
    """
    if not password:
        return text
    forms = {
        base64.b64encode(password.encode("utf-8")).decode("ascii"),
        base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii"),
    }
    if len(password) >= 4:
        forms.add(password)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class _UnusableError(Exception):
    """The SMTP connection cannot be used in this run; the message says why and what to do."""


def _close_quietly(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
