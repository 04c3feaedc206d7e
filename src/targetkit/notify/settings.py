"""The ``[notify]`` table: who hears about which alerts, how, and how often.

`parse_settings` is pure (a mapping in, `NotifySettings` out); `load_settings` reads the table
from a plan file or from a separate TOML/JSON file holding a ``[notify]`` table. Every problem is
collected into one `ConfigError`, each with its key path (``notify.smtp.port``), line and fix.

Secrets never live in these files: the SMTP password and webhook secrets are named by the
environment variable that holds them (``password_env``, ``secret_env``, ``url_env``) or, in a
separate notify file, by a file only its owner can read (``password_file``, ``secret_file``,
read by `read_secret_file`); a literal ``password`` or ``secret`` key is refused without
echoing its value.

A plan's own ``[notify]`` table is held to a stricter rule than a separate notify file, because
plan files travel: its ``state`` and ``outbox`` must stay inside the plan's folder (relative,
without ``..``), and it cannot name a secret file.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import ipaddress
import os
import re
import stat
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from targetkit._parsing import MISSING as _MISSING
from targetkit._parsing import Collector as _Collector
from targetkit._parsing import KeyPath as PathT
from targetkit._parsing import Lines as _Lines
from targetkit._parsing import boolean as _bool
from targetkit._parsing import check_keys as _shared_check_keys
from targetkit._parsing import choice as _choice
from targetkit._parsing import did_you_mean as _did_you_mean
from targetkit._parsing import get as _get
from targetkit._parsing import names as _text_list
from targetkit._parsing import nonempty_line as _nonempty
from targetkit._parsing import one_line as _text
from targetkit._parsing import read_document as _read_document
from targetkit.exceptions import ConfigError
from targetkit.model import Severity
from targetkit.state import ChangePolicy, Escalation, Notice, Policy, severity_rank

__all__ = [
    "DEFAULT_OUTBOX",
    "DEFAULT_SENDER",
    "DEFAULT_STATE",
    "Matcher",
    "NotifySettings",
    "Route",
    "Security",
    "SmtpSettings",
    "WebhookFormat",
    "WebhookSettings",
    "load_settings",
    "parse_after",
    "parse_duration",
    "parse_settings",
    "read_secret_file",
    "redact_url",
]

DEFAULT_STATE = ".targetkit/state.sqlite"
DEFAULT_OUTBOX = ".targetkit/outbox"
DEFAULT_SENDER = "targetkit <targetkit@localhost>"
LANGS = ("zh", "en")


class Security(enum.StrEnum):
    """How the SMTP connection is protected."""

    STARTTLS = "starttls"
    """Plain connection upgraded with STARTTLS (port 587); the default."""
    TLS = "tls"
    """Implicit TLS from the first byte (port 465)."""
    NONE = "none"
    """No encryption: only for a relay on this machine or a trusted network (port 25)."""


_DEFAULT_PORTS = {Security.STARTTLS: 587, Security.TLS: 465, Security.NONE: 25}


class WebhookFormat(enum.StrEnum):
    """The JSON a webhook receives."""

    WECOM = "wecom"
    """企业微信 group bot: markdown message."""
    DINGTALK = "dingtalk"
    """钉钉 group bot: markdown message, signed when ``secret_env`` is set."""
    FEISHU = "feishu"
    """飞书 group bot: rich-text (post) message, signed when ``secret_env`` is set."""
    GENERIC = "generic"
    """targetkit's own JSON document, HMAC-signed in a header when ``secret_env`` is set."""


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Matcher:
    """Which notices a route or webhook takes: all given conditions must hold.

    ``owners`` and ``tags`` match when the notice's owner (责任单位) is listed / it shares a tag;
    empty means any. ``severity`` is the lowest severity taken.
    """

    owners: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    severity: Severity = Severity.WARNING

    def matches(self, notice: Notice) -> bool:
        """Return True when the notice goes to this route."""
        if severity_rank(notice.peak_severity) < severity_rank(self.severity):
            return False
        if self.owners and notice.owner not in self.owners:
            return False
        return not (self.tags and not set(self.tags) & set(notice.tags))


@attrs.frozen(kw_only=True)
class Route:
    """Email recipients of the notices a matcher takes; ``lang`` None means notify.lang."""

    to: tuple[str, ...] = attrs.field(converter=_str_tuple)
    match: Matcher = Matcher()
    lang: str | None = None


@attrs.frozen(kw_only=True)
class SmtpSettings:
    """The SMTP server that sends email; without one, email goes to the Maildir outbox."""

    host: str
    port: int
    security: Security = Security.STARTTLS
    username: str = ""
    password_env: str = ""
    password_file: Path | None = None
    timeout: float = 30.0
    ca_file: Path | None = None

    def describe(self) -> str:
        """Return ``host:port (security)`` for messages."""
        how = {Security.STARTTLS: "STARTTLS", Security.TLS: "TLS", Security.NONE: "no TLS"}
        return f"{self.host}:{self.port} ({how[self.security]})"


@attrs.frozen(kw_only=True)
class WebhookSettings:
    """A JSON POST endpoint: a group bot or any HTTP receiver."""

    name: str
    format: WebhookFormat
    url: str = ""
    url_env: str = ""
    secret_env: str = ""
    secret_file: Path | None = None
    match: Matcher = Matcher()
    lang: str | None = None
    timeout: float = 10.0
    ca_file: Path | None = None


def _route_tuple(items: Iterable[Route]) -> tuple[Route, ...]:
    return tuple(items)


def _webhook_tuple(items: Iterable[WebhookSettings]) -> tuple[WebhookSettings, ...]:
    return tuple(items)


def _escalation_tuple(items: Iterable[Escalation]) -> tuple[Escalation, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class NotifySettings:
    """Everything the alerting edge needs; built by `parse_settings` / `load_settings`.

    Paths are absolute. ``source`` names the file the settings came from.
    """

    state: Path
    outbox: Path
    source: str = "<defaults>"
    lang: str = "zh"
    sender: str = DEFAULT_SENDER
    subject_prefix: str = "[targetkit]"
    repeat_interval: dt.timedelta = dt.timedelta(days=7)
    send_resolved: bool = True
    on_change: ChangePolicy = ChangePolicy.ANY
    notify_at_risk: bool = False
    """Also alert green targets whose year-end forecast falls short (预计难以完成)."""
    lock_timeout: float = 60.0
    smtp: SmtpSettings | None = None
    routes: tuple[Route, ...] = attrs.field(default=(), converter=_route_tuple)
    webhooks: tuple[WebhookSettings, ...] = attrs.field(default=(), converter=_webhook_tuple)
    escalations: tuple[Escalation, ...] = attrs.field(default=(), converter=_escalation_tuple)
    history_retention: dt.timedelta | None = None
    """How long resolved episodes, delivered notices and Maildir messages are kept (None:
    forever)."""

    @property
    def policy(self) -> Policy:
        """Return the notification policy of the alert lifecycle."""
        return Policy(
            repeat_interval=self.repeat_interval,
            send_resolved=self.send_resolved,
            on_change=self.on_change,
            escalations=self.escalations,
        )

    @classmethod
    def defaults(cls, plan_dir: str | Path) -> NotifySettings:
        """Return the settings of an empty ``[notify]`` table for a plan in ``plan_dir``."""
        base = Path(plan_dir).resolve()
        return cls(state=base / DEFAULT_STATE, outbox=base / DEFAULT_OUTBOX)


# --------------------------------------------------------------------------- parsing helpers

_TOP_KEYS = (
    "lang",
    "from",
    "subject_prefix",
    "repeat_interval",
    "send_resolved",
    "on_change",
    "notify_at_risk",
    "state",
    "outbox",
    "lock_timeout",
    "history_retention",
    "smtp",
    "routes",
    "webhooks",
    "escalations",
)
_SMTP_KEYS = (
    "host",
    "port",
    "security",
    "username",
    "password_env",
    "password_file",
    "timeout",
    "ca_file",
)
_MATCH_KEYS = ("owners", "tags", "severity")
_ESCALATION_KEYS = ("name", "after", "to", "lang", "owners", "tags")
_ROUTE_KEYS = ("to", "lang", *_MATCH_KEYS)
_WEBHOOK_KEYS = (
    "name",
    "format",
    "url",
    "url_env",
    "secret_env",
    "secret_file",
    "lang",
    "timeout",
    "ca_file",
    *_MATCH_KEYS,
)
# Literal secrets a user may be tempted to write, and the key to write instead.
_SECRET_KEYS = {
    "smtp": {"password": "password_env", "passwd": "password_env", "pass": "password_env"},
    "webhooks": {
        "secret": "secret_env",
        "sign_secret": "secret_env",
        "token": "url_env",
        "access_token": "url_env",
        "key": "url_env",
        "password": "secret_env",
    },
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+$")
_DURATION = re.compile(
    r"^\s*(?:(?P<w>\d+)\s*w)?\s*(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?"
    r"\s*(?:(?P<m>\d+)\s*m)?\s*(?:(?P<s>\d+)\s*s)?\s*$"
)


def _check_keys(
    table: Mapping[str, Any],
    allowed: Sequence[str],
    path: PathT,
    errs: _Collector,
    secrets: Mapping[str, str] | None = None,
) -> None:
    """Report unknown keys; a literal secret (``password``, ``token`` …) is refused unechoed."""
    for key in [k for k in table if k not in allowed and secrets and k in secrets]:
        instead = (secrets or {})[key]
        errs.add(
            [*path, key],
            f"a literal {key} must not be written in a configuration file (files are "
            "shared, versioned and backed up)",
            f'put it in an environment variable and write {instead} = "{_env_example(instead)}"',
        )
    _shared_check_keys(
        {k: v for k, v in table.items() if not (secrets and k in secrets and k not in allowed)},
        allowed,
        path,
        errs,
    )


def _env_example(key: str) -> str:
    return {
        "password_env": "TARGETKIT_SMTP_PASSWORD",
        "secret_env": "TARGETKIT_WEBHOOK_SECRET",
        "url_env": "TARGETKIT_WEBHOOK_URL",
    }.get(key, "NAME")


def _seconds(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise TypeError("expected a number of seconds")
    # TOML integers are unbounded: compare before converting, so 10**400 cannot overflow
    if not (0 < raw <= 1e9):  # also false for NaN
        raise ValueError("must be a positive number of seconds")
    return float(raw)


def _port(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError("expected a whole number")
    if not 1 <= raw <= 65535:
        raise ValueError("must be between 1 and 65535")
    return raw


def _env_name(raw: Any) -> str:
    text = _nonempty(raw)
    if not _ENV_NAME.match(text):
        raise ValueError("is not an environment variable name (letters, digits and '_')")
    return text


def _lang(raw: Any) -> str:
    text = _text(raw)
    if text not in LANGS:
        hint = _did_you_mean(text, LANGS)
        raise ValueError('must be "zh" or "en"' + (f"; {hint}" if hint else ""))
    return text


def _address(raw: Any) -> str:
    text = _nonempty(raw)
    _, addr = email.utils.parseaddr(text)
    if not addr or not _ADDRESS.match(addr):
        raise ValueError(f"{text!r} is not an email address")
    return text


def parse_duration(text: str) -> dt.timedelta:
    """Parse a duration such as ``7d``, ``36h``, ``1w``, ``1d12h`` or ``90m``.

    Raises:
        ValueError: for anything else, or a zero duration.
    """
    if not isinstance(text, str):
        raise TypeError('expected a duration in quotes such as "7d"')
    match = _DURATION.match(text)
    if not text.strip() or match is None:
        raise ValueError("is not a duration (weeks w, days d, hours h, minutes m, seconds s)")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    delta = dt.timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )
    if delta <= dt.timedelta(0):
        raise ValueError("must be longer than zero")
    return delta


_RUNS = re.compile(r"^\s*(?P<n>\d+)\s*(?:runs?|次)\s*$", re.IGNORECASE)


def parse_after(text: str) -> tuple[int | None, int | None]:
    """Parse an escalation's ``after``: ``"3 runs"`` → (3, None), ``"30d"`` or ``"4w"`` → (None, days).

    Days are counted between as-of dates, so a duration must be whole days.

    Raises:
        ValueError: for anything else, zero, or a duration that is not whole days.
    """
    if not isinstance(text, str):
        raise TypeError('expected text in quotes such as "3 runs" or "30d"')
    runs = _RUNS.match(text)
    if runs is not None:
        n = int(runs["n"])
        if not 1 <= n <= 1_000_000:
            raise ValueError("the number of runs must be between 1 and 1000000")
        return n, None
    try:
        delta = parse_duration(text)
    except ValueError:
        raise ValueError("is neither a number of runs nor a number of days") from None
    if delta % dt.timedelta(days=1) or delta.days > 100_000:
        raise ValueError("must be whole days (as-of dates are days)")
    return None, delta.days


def _retention(raw: Any) -> dt.timedelta:
    delta = parse_duration(raw)
    if delta < dt.timedelta(days=1):
        raise ValueError("must be at least one day")
    if delta.days > 100_000:
        raise ValueError("must be at most 100000 days")
    return delta


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- sections


def _parse_matcher(table: Mapping[str, Any], path: PathT, errs: _Collector) -> Matcher:
    return Matcher(
        owners=_get(table, "owners", path, errs, _text_list, default=(), expect='["市科技局"]'),
        tags=_get(table, "tags", path, errs, _text_list, default=(), expect='["创新平台"]'),
        severity=_get(
            table,
            "severity",
            path,
            errs,
            _choice(Severity),
            default=Severity.WARNING,
            expect='"warning" or "critical"',
        ),
    )


def _secret_file(
    table: Mapping[str, Any], key: str, path: PathT, errs: _Collector, base: Path, *, plan: bool
) -> Path | None:
    name = _get(table, key, path, errs, _nonempty, expect='"/etc/targetkit/secret"')
    if not name:
        return None
    if plan:
        errs.add(
            [*path, key],
            "a plan file's [notify] table cannot name a secret file (whoever edits the plan "
            "would choose which of your files is sent, and to which server)",
            "move [notify] to a separate file and pass it with --notify FILE, or use "
            f"{key.replace('_file', '_env')}",
        )
        return None
    return base / str(name)


def _parse_smtp(raw: Any, errs: _Collector, base: Path, *, plan: bool) -> SmtpSettings | None:
    path: list[str | int] = ["notify", "smtp"]
    if not isinstance(raw, dict):
        errs.add(path, f"[notify.smtp] must be a table (got {raw!r})", 'write host = "…"')
        return None
    _check_keys(raw, _SMTP_KEYS, path, errs, _SECRET_KEYS["smtp"])
    host = _get(raw, "host", path, errs, _nonempty, expect='host = "smtp.example.org"')
    if "host" not in raw:
        errs.add([*path, "host"], "the key 'host' is missing", 'add host = "smtp.example.org"')
    security = _get(
        raw,
        "security",
        path,
        errs,
        _choice(Security),
        default=Security.STARTTLS,
        expect='"starttls", "tls" or "none"',
    )
    port = _get(raw, "port", path, errs, _port, expect="e.g. 587 for starttls, 465 for tls")
    username = _get(raw, "username", path, errs, _text, default="", expect='"alerts@example.org"')
    password_env = _get(
        raw, "password_env", path, errs, _env_name, default="", expect='"TARGETKIT_SMTP_PASSWORD"'
    )
    password_file = _secret_file(raw, "password_file", path, errs, base, plan=plan)
    if password_env and password_file:
        errs.add(
            [*path, "password_file"],
            "give password_env or password_file, not both",
            "remove one of them",
        )
    has_password = bool(password_env or password_file or "password_file" in raw)
    timeout = _get(raw, "timeout", path, errs, _seconds, default=30.0, expect="e.g. 30")
    ca_file = _get(raw, "ca_file", path, errs, _nonempty, expect='"/etc/ssl/private-ca.pem"')
    if username and not has_password:
        errs.add(
            [*path, "password_env"],
            f"username {username!r} is set but no password variable is named",
            'add password_env = "TARGETKIT_SMTP_PASSWORD" and set that variable where the job '
            "runs, or remove username",
        )
    if has_password and not username:
        errs.add(
            [*path, "username"],
            f"{'password_env' if password_env else 'password_file'} is set but username is not",
            'add username = "alerts@example.org"',
        )
    if host and security is Security.NONE and (username or has_password) and not _is_loopback(host):
        errs.add(
            [*path, "security"],
            f'security = "none" would send the password to {host} unencrypted',
            'write security = "starttls" (port 587) or "tls" (port 465)',
        )
    if host is None or security is None:
        return None
    return SmtpSettings(
        host=host,
        port=port if port is not None else _DEFAULT_PORTS[security],
        security=security,
        username=username or "",
        password_env=password_env or "",
        password_file=password_file,
        timeout=timeout if timeout is not None else 30.0,
        ca_file=(base / ca_file) if ca_file else None,
    )


def _tables(
    raw: Any, key: str, errs: _Collector, *, noun: str, hint: str
) -> Iterator[tuple[int, list[str | int], dict[str, Any]]]:
    """Yield ``(index, path, table)`` for each table of ``[[notify.<key>]]``; report the rest."""
    if not isinstance(raw, list):
        errs.add(["notify", key], f"{key} must be an array of tables", hint)
        return
    for i, item in enumerate(raw):
        path: list[str | int] = ["notify", key, i]
        if not isinstance(item, dict):
            errs.add(path, f"{noun} must be a table (got {item!r})", f"write [[notify.{key}]]")
            continue
        yield i, path, item


def _recipients(
    item: Mapping[str, Any], path: PathT, errs: _Collector, *, example: str, one: bool
) -> list[str]:
    """Return the checked addresses of a table's ``to``; ``one``: a single address may be text."""
    to: list[str] = []
    raw_to = item.get("to", _MISSING)
    if raw_to is _MISSING:
        errs.add([*path, "to"], "the key 'to' is missing", f'add to = ["{example}"]')
    elif isinstance(raw_to, str | list) if one else isinstance(raw_to, list) and raw_to:
        for address in [raw_to] if isinstance(raw_to, str) else raw_to:
            try:
                to.append(_address(address))
            except (ValueError, TypeError) as exc:
                errs.add(
                    [*path, "to"],
                    str(exc) if isinstance(exc, ValueError) else f"expected text (got {address!r})",
                    'write addresses as "name@example.org" or "张三 <name@example.org>"',
                )
        if not to and raw_to in ([], ""):
            errs.add([*path, "to"], "lists no address", f'write to = ["{example}"]')
    else:
        errs.add(
            [*path, "to"],
            f"expected a list of addresses (got {raw_to!r})"
            if one
            else f"expected a non-empty list of addresses (got {raw_to!r})",
            f'write to = ["{example}"]',
        )
    return to


def _parse_routes(raw: Any, errs: _Collector) -> list[Route]:
    routes: list[Route] = []
    hint = 'write [[notify.routes]] with to = ["someone@example.org"]'
    for _, path, item in _tables(raw, "routes", errs, noun="a route", hint=hint):
        _check_keys(item, _ROUTE_KEYS, path, errs)
        to = _recipients(item, path, errs, example="someone@example.org", one=True)
        match = _parse_matcher(item, path, errs)
        lang = _get(item, "lang", path, errs, _lang, expect='"zh" or "en"')
        if to:
            routes.append(Route(to=tuple(to), match=match, lang=lang))
    return routes


def _parse_escalations(raw: Any, errs: _Collector) -> list[Escalation]:
    out: list[Escalation] = []
    names: set[str] = set()
    hint = 'write [[notify.escalations]] with after = "3 runs" and to = ["…"]'
    for i, path, item in _tables(raw, "escalations", errs, noun="an escalation", hint=hint):
        _check_keys(item, _ESCALATION_KEYS, path, errs)
        after = _get(
            item,
            "after",
            path,
            errs,
            parse_after,
            expect='after = "3 runs" (runs with the problem open) or after = "30d" (days)',
        )
        if "after" not in item:
            errs.add(
                [*path, "after"],
                "the key 'after' is missing",
                'add after = "3 runs" or after = "30d"',
            )
        to = _recipients(item, path, errs, example="leader@example.org", one=False)
        name = _get(item, "name", path, errs, _nonempty, default="", expect='"督办"')
        name = name or f"escalation{i + 1}"
        if name in names:
            errs.add(
                [*path, "name"],
                f"duplicate escalation name {name!r}",
                'give each escalation its own name = "…"',
            )
        names.add(name)
        owners = _get(item, "owners", path, errs, _text_list, default=(), expect='["市科技局"]')
        tags = _get(item, "tags", path, errs, _text_list, default=(), expect='["创新平台"]')
        lang = _get(item, "lang", path, errs, _lang, expect='"zh" or "en"')
        if after is None or not to:
            continue
        runs, days = after
        out.append(
            Escalation(
                name=name, runs=runs, days=days, owners=owners, tags=tags, to=tuple(to), lang=lang
            )
        )
    return out


def _parse_webhooks(raw: Any, errs: _Collector, base: Path, *, plan: bool) -> list[WebhookSettings]:
    hooks: list[WebhookSettings] = []
    names: set[str] = set()
    hint = 'write [[notify.webhooks]] with format = "dingtalk" and url_env = "…"'
    for i, path, item in _tables(raw, "webhooks", errs, noun="a webhook", hint=hint):
        _check_keys(item, _WEBHOOK_KEYS, path, errs, _SECRET_KEYS["webhooks"])
        fmt = _get(
            item,
            "format",
            path,
            errs,
            _choice(WebhookFormat),
            expect='"wecom", "dingtalk", "feishu" or "generic"',
        )
        if "format" not in item:
            errs.add(
                [*path, "format"],
                "the key 'format' is missing",
                'add format = "wecom", "dingtalk", "feishu" or "generic"',
            )
        url = _get(item, "url", path, errs, _nonempty, default="", expect='"https://…"')
        url_env = _get(item, "url_env", path, errs, _env_name, default="", expect='"NAME"')
        if url and url_env:
            errs.add([*path, "url"], "give url or url_env, not both", "remove one of them")
        elif not url and not url_env:
            errs.add(
                [*path, "url"],
                "the webhook has no address",
                'add url = "https://…" or, when the address holds a token, url_env = '
                '"TARGETKIT_WEBHOOK_URL"',
            )
        elif url:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                errs.add(
                    [*path, "url"],
                    f"is not an http(s) address (got {redact_url(url)!r})",
                    'write url = "https://host/path"',
                )
        secret_env = _get(item, "secret_env", path, errs, _env_name, default="", expect='"NAME"')
        secret_file = _secret_file(item, "secret_file", path, errs, base, plan=plan)
        if secret_env and secret_file:
            errs.add(
                [*path, "secret_file"],
                "give secret_env or secret_file, not both",
                "remove one of them",
            )
        if (secret_env or secret_file) and fmt is WebhookFormat.WECOM:
            errs.add(
                [*path, "secret_file" if secret_file else "secret_env"],
                "企业微信 group bots are not signed; the key in the url is the secret",
                "remove secret_env and put the url in url_env",
            )
        name = _get(item, "name", path, errs, _nonempty, default="", expect='"ops-group"')
        name = name or (fmt.value if fmt is not None else f"webhook{i}")
        if name in names:
            errs.add(
                [*path, "name"],
                f"duplicate webhook name {name!r}",
                'give each webhook its own name = "…"',
            )
            continue
        names.add(name)
        match = _parse_matcher(item, path, errs)
        lang = _get(item, "lang", path, errs, _lang, expect='"zh" or "en"')
        timeout = _get(item, "timeout", path, errs, _seconds, default=10.0, expect="e.g. 10")
        ca_file = _get(item, "ca_file", path, errs, _nonempty, expect='"/etc/ssl/private-ca.pem"')
        if fmt is None:
            continue
        hooks.append(
            WebhookSettings(
                name=name,
                format=fmt,
                url=url or "",
                url_env=url_env or "",
                secret_env=secret_env or "",
                secret_file=secret_file,
                match=match,
                lang=lang,
                timeout=timeout if timeout is not None else 10.0,
                ca_file=(base / ca_file) if ca_file else None,
            )
        )
    return hooks


def redact_url(url: str) -> str:
    """Return the url without its path and query, which often hold a bot's token."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return "…"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def parse_settings(
    table: Mapping[str, Any] | None,
    *,
    source: str = "<mapping>",
    text: str | None = None,
    base_dir: str | Path = ".",
    plan_dir: str | Path | None = None,
    from_plan: bool = False,
) -> NotifySettings:
    """Build the notify settings from a ``[notify]`` table.

    Args:
        table: The table's contents (None or empty: the defaults).
        source: The file name, for error messages.
        text: The file's text, to find the line of each problem.
        base_dir: The folder that relative paths in the table (state, outbox, ca_file) start
            from: the folder of the file holding the table.
        plan_dir: The plan's folder, where the default state file and outbox go
            (``.targetkit/``); defaults to ``base_dir``.
        from_plan: The table is a plan file's own: ``state`` and ``outbox`` must then be
            relative paths that stay inside ``base_dir`` (no absolute path, no ``..``), and
            ``password_file`` / ``secret_file`` are refused.

    Raises:
        ConfigError: listing every problem in the table.
    """
    base = Path(base_dir).resolve()
    plan_base = Path(plan_dir).resolve() if plan_dir is not None else base
    errs = _Collector(source=source, lines=_Lines(text))
    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        errs.add(["notify"], f"[notify] must be a table (got {table!r})", "write [notify]")
        raise ConfigError(errs.problems)
    path: list[str | int] = ["notify"]
    _check_keys(table, _TOP_KEYS, path, errs, {"password": "smtp.password_env"})
    lang = _get(table, "lang", path, errs, _lang, default="zh", expect='"zh" or "en"')
    sender = _get(
        table,
        "from",
        path,
        errs,
        _address,
        default=DEFAULT_SENDER,
        expect='"目标监测 <alerts@example.org>"',
    )
    prefix = _get(table, "subject_prefix", path, errs, _text, default="[targetkit]")
    repeat = _get(
        table,
        "repeat_interval",
        path,
        errs,
        parse_duration,
        default=dt.timedelta(days=7),
        expect='a duration such as "7d", "36h" or "1w"',
    )
    send_resolved = _get(
        table, "send_resolved", path, errs, _bool, default=True, expect="true or false"
    )
    on_change = _get(
        table,
        "on_change",
        path,
        errs,
        _choice(ChangePolicy),
        default=ChangePolicy.ANY,
        expect='"any" or "worse"',
    )
    at_risk = _get(
        table, "notify_at_risk", path, errs, _bool, default=False, expect="true or false"
    )
    state = _get(table, "state", path, errs, _nonempty, expect='".targetkit/state.sqlite"')
    outbox = _get(table, "outbox", path, errs, _nonempty, expect='".targetkit/outbox"')
    if from_plan:
        state = _inside("state", state, errs)
        outbox = _inside("outbox", outbox, errs)
    lock_timeout = _get(table, "lock_timeout", path, errs, _seconds, default=60.0, expect="e.g. 60")
    retention = _get(
        table,
        "history_retention",
        path,
        errs,
        _retention,
        expect='a duration of whole days such as "400d" (or leave it out to keep everything)',
    )
    escalations = _parse_escalations(table["escalations"], errs) if "escalations" in table else []
    smtp = _parse_smtp(table["smtp"], errs, base, plan=from_plan) if "smtp" in table else None
    routes = _parse_routes(table["routes"], errs) if "routes" in table else []
    webhooks = (
        _parse_webhooks(table["webhooks"], errs, base, plan=from_plan)
        if "webhooks" in table
        else []
    )
    if smtp is not None and not routes and "routes" not in table:
        errs.add(
            ["notify", "smtp"],
            "an SMTP server is configured but no route says whom to email",
            'add [[notify.routes]] with to = ["someone@example.org"]',
        )
    if errs.problems:
        raise ConfigError(errs.problems)
    return NotifySettings(
        state=(base / state) if state else plan_base / DEFAULT_STATE,
        outbox=(base / outbox) if outbox else plan_base / DEFAULT_OUTBOX,
        source=source,
        lang=lang,
        sender=sender,
        subject_prefix=prefix,
        repeat_interval=repeat,
        send_resolved=send_resolved,
        on_change=on_change,
        notify_at_risk=at_risk,
        lock_timeout=lock_timeout,
        smtp=smtp,
        routes=tuple(routes),
        webhooks=tuple(webhooks),
        escalations=tuple(escalations),
        history_retention=retention,
    )


def _inside(key: str, value: str | None, errs: _Collector) -> str | None:
    """Return a plan table's path if it stays inside the plan's folder, else record a problem."""
    if not value:
        return value
    given = Path(value)
    # an absolute path in any spelling (/x, C:\x, \\server\x) or a step out of the folder
    parts = value.replace("\\", "/").split("/")
    if given.is_absolute() or given.anchor or value.startswith(("/", "\\")) or ".." in parts:
        errs.add(
            ["notify", key],
            f"a plan file's [notify] table may only name a path inside the plan's folder "
            f"(got {value!r})",
            f'write a relative path without "..", such as {key} = '
            f'"{".targetkit/state.sqlite" if key == "state" else ".targetkit/outbox"}", or move '
            "[notify] to a separate file and pass it with --notify FILE",
        )
        return None
    return value


_SECRET_FILE_LIMIT = 64 * 1024


def read_secret_file(path: str | Path) -> str:
    """Return the secret held in a file that only its owner may read or write.

    The file must be a regular file (a symbolic link to one is followed) whose permissions give
    nothing to its group or to others (``chmod 600``); one trailing line break is removed. The
    file's content is never part of an error message.

    Raises:
        ValueError: the file cannot be read, is not a regular file, is open to its group or to
            others, is empty, too large, or not UTF-8 text; the message says what to do.
    """
    path = Path(path)
    # O_NONBLOCK: a named pipe put in the file's place must not hang the run (it is then
    # refused as not a regular file); it changes nothing for a regular file
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ValueError(f"cannot open {path} ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if os.name == "posix" and mode & 0o077:
            raise ValueError(
                f"{path} can be read or written by other users (mode {mode:04o}); "
                f"run chmod 600 {path}"
            )
        raw = b""
        while len(raw) <= _SECRET_FILE_LIMIT and (chunk := os.read(fd, 8192)):
            raw += chunk
    finally:
        os.close(fd)
    if len(raw) > _SECRET_FILE_LIMIT:
        raise ValueError(f"{path} is larger than 64 KiB; it should hold one secret")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise ValueError(f"{path} is empty")
    return text


def _read(path: Path) -> tuple[Mapping[str, Any], str]:
    source = str(path)
    data, text = _read_document(path, save_hint="save it as UTF-8")
    if not isinstance(data, dict):
        raise ConfigError.single(source, "", "holds no table at its top level", "write [notify]")
    return data, text


def load_settings(
    plan_path: str | Path,
    config_path: str | Path | None = None,
    *,
    plan_document: tuple[Mapping[str, Any], str] | None = None,
) -> NotifySettings:
    """Read the notify settings of a plan.

    Args:
        plan_path: The plan file. Its ``[notify]`` table is used when ``config_path`` is None
            (no table: the defaults — email to the Maildir outbox next to the plan).
        config_path: A separate TOML (or JSON) file holding a ``[notify]`` table; it replaces
            the plan's table entirely.
        plan_document: The plan file's mapping and text when the caller has read it already
            (`targetkit.config.read_document`), so that it is not read and parsed twice.

    Raises:
        ConfigError: a file cannot be read, or the table has problems (all listed).
    """
    plan_path = Path(plan_path)
    plan_dir = plan_path.resolve().parent
    if config_path is None:
        data, text = plan_document if plan_document is not None else _read(plan_path)
        if not isinstance(data, Mapping):
            raise ConfigError.single(
                str(plan_path), "", "holds no table at its top level", "write [notify]"
            )
        return parse_settings(
            data.get("notify"),
            source=str(plan_path),
            text=text,
            base_dir=plan_dir,
            plan_dir=plan_dir,
            from_plan=True,
        )
    config_path = Path(config_path)
    data, text = _read(config_path)
    if "notify" not in data:
        raise ConfigError.single(
            str(config_path),
            "notify",
            "the file has no [notify] table",
            "start the file with [notify] (the same table a plan file may hold)",
        )
    return parse_settings(
        data["notify"],
        source=str(config_path),
        text=text,
        base_dir=config_path.resolve().parent,
        plan_dir=plan_dir,
    )
