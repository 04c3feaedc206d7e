"""Webhooks: a digest as a JSON POST, for 企业微信, 钉钉 and 飞书 group bots or any receiver.

Formats (``format`` in ``[[notify.webhooks]]``):

- ``wecom`` — ``{"msgtype": "markdown", "markdown": {"content": …}}``; content up to 4096 bytes.
- ``dingtalk`` — ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; with
  ``secret_env``, the url gets ``timestamp`` (ms) and ``sign`` = Base64(HMAC-SHA256(secret,
  timestamp + "\\n" + secret)), URL-encoded.
- ``feishu`` — ``{"msg_type": "post", "content": {"post": {"zh_cn": …}}}``; with
  ``secret_env``, the body gets ``timestamp`` (s) and ``sign`` = Base64(HMAC-SHA256(key =
  timestamp + "\\n" + secret, message = "")).
- ``generic`` — targetkit's JSON document (`generic_payload`); with ``secret_env``, headers
  ``X-Targetkit-Timestamp`` and ``X-Targetkit-Signature: sha256=<hex HMAC-SHA256(secret,
  timestamp + "." + body)>``.

The bots answer HTTP 200 with an error code in the JSON body when they refuse a message; that
is a failed delivery too. HTTPS certificates are verified.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import ssl
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from targetkit.exceptions import DeliveryError
from targetkit.notify.digest import Digest
from targetkit.notify.settings import (
    WebhookFormat,
    WebhookSettings,
    read_secret_file,
    redact_url,
)
from targetkit.notify.templates import render, render_markdown, render_subject, render_text

__all__ = ["WebhookNotifier", "dingtalk_sign", "feishu_sign", "generic_payload", "generic_sign"]

_LIMITS = {  # bytes of message text each bot accepts, with room for the JSON around it
    WebhookFormat.WECOM: 4000,
    WebhookFormat.DINGTALK: 18000,
    WebhookFormat.FEISHU: 18000,
}
_TRUNCATED = {
    "zh": "…（内容过长已截断，完整内容见邮件或 targetkit check 的输出）",
    "en": "… (truncated; see the email or the output of targetkit check)",
}
_MAX_RESPONSE = 64 * 1024


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return the 钉钉 ``sign`` query value (already URL-encoded)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Return the 飞书 ``sign`` body value."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def generic_sign(secret: str, timestamp_s: int, body: bytes) -> str:
    """Return the ``X-Targetkit-Signature`` header value of a generic webhook body."""
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _truncate(text: str, limit: int, lang: str) -> str:
    if len(text.encode("utf-8")) <= limit:
        return text
    note = _TRUNCATED["en" if lang == "en" else "zh"]
    budget = limit - len(note.encode("utf-8")) - 1
    kept: list[str] = []
    used = 0
    for line in text.splitlines():
        size = len(line.encode("utf-8")) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return "\n".join([*kept, note])


def generic_payload(digest: Digest) -> dict[str, Any]:
    """Return targetkit's own JSON document for a digest (the ``generic`` format)."""
    return {
        "version": 1,
        "plan": {"id": digest.plan_id, "title": digest.plan_title},
        "as_of": digest.as_of.isoformat(),
        "lang": digest.lang,
        "subject": render_subject(digest),
        "text": render_text(digest),
        "counts": {kind.value: n for kind, n in digest.counts.items()},
        "notices": [json.loads(n.to_json()) for n in digest.notices],
    }


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Answer a redirect with the HTTPError of its status instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookNotifier:
    """POST digests to one webhook."""

    def __init__(self, settings: WebhookSettings, *, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._environ = environ

    def describe(self) -> str:
        """Return the webhook's name, format and host (never its token)."""
        s = self.settings
        url = s.url or self._environ.get(s.url_env, "")
        where = redact_url(url) if url else f"${s.url_env}"
        return f"webhook {s.name} ({s.format.value}, {where})"

    def _fail(self, message: str) -> DeliveryError:
        return DeliveryError(
            f"webhook {self.settings.name}: {message}",
            channel="webhook",
            recipient=self.settings.name,
        )

    def _secret(self, *, required: bool) -> str:
        s = self.settings
        if s.secret_file is not None:
            if not required:
                return ""
            try:
                return read_secret_file(s.secret_file)
            except ValueError as exc:
                raise self._fail(f"its signing secret file cannot be used: {exc}") from None
        if not s.secret_env:
            return ""
        secret = self._environ.get(s.secret_env, "")
        if not secret and required:
            raise self._fail(
                f"the environment variable {s.secret_env} (its signing secret) is not set; "
                "set it where the job runs (crontab or the unit's EnvironmentFile)"
            )
        return secret

    def _url(self, *, required: bool) -> str:
        s = self.settings
        if s.url:
            return s.url
        # an EnvironmentFile written on Windows leaves a "\r" at the end: strip it, or urllib
        # would put the whole address, token included, in its error message
        url = self._environ.get(s.url_env, "").strip()
        if not url and required:
            raise self._fail(
                f"the environment variable {s.url_env} (its address) is not set; set it where "
                "the job runs (crontab or the unit's EnvironmentFile)"
            )
        parts = urllib.parse.urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise self._fail(f"${s.url_env} is not an http(s) address ({redact_url(url)})")
        if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
            raise self._fail(
                f"${s.url_env} holds a space or a control character ({redact_url(url)}); "
                "percent-encode it or remove it"
            )
        return url

    def body(self, digest: Digest) -> dict[str, Any]:
        """Return the JSON document for the webhook's format, before signing."""
        fmt = self.settings.format
        lang = digest.lang
        if fmt is WebhookFormat.GENERIC:
            return generic_payload(digest)
        if fmt is WebhookFormat.WECOM:
            content = _truncate(render_markdown(digest), _LIMITS[fmt], lang)
            return {"msgtype": "markdown", "markdown": {"content": content}}
        if fmt is WebhookFormat.DINGTALK:
            text = _truncate(render_markdown(digest), _LIMITS[fmt], lang)
            return {
                "msgtype": "markdown",
                "markdown": {"title": render_subject(digest), "text": text},
            }
        message = render(digest)
        lines = _truncate(message.text, _LIMITS[fmt], lang).splitlines()[1:]
        paragraphs = [[{"tag": "text", "text": line}] for line in lines if line.strip()]
        key = "en_us" if lang == "en" else "zh_cn"
        return {
            "msg_type": "post",
            "content": {"post": {key: {"title": message.subject, "content": paragraphs}}},
        }

    def request(
        self, digest: Digest, *, now: dt.datetime, sign: bool = True
    ) -> tuple[str, bytes, dict[str, str]]:
        """Return the url, body and headers of the POST (signed when a secret is set).

        With ``sign=False`` (dry runs) no environment variable is required and nothing is
        signed.
        """
        s = self.settings
        url = self._url(required=sign) or f"${s.url_env}"
        secret = self._secret(required=sign) if sign else ""
        body = self.body(digest)
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "targetkit"}
        if secret and s.format is WebhookFormat.DINGTALK:
            stamp = int(now.timestamp() * 1000)
            joiner = "&" if urllib.parse.urlsplit(url).query else "?"
            url = f"{url}{joiner}timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"
        if secret and s.format is WebhookFormat.FEISHU:
            stamp = int(now.timestamp())
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if secret and s.format is WebhookFormat.GENERIC:
            stamp = int(now.timestamp())
            headers["X-Targetkit-Timestamp"] = str(stamp)
            headers["X-Targetkit-Signature"] = generic_sign(secret, stamp, data)
        return url, data, headers

    def preview(self, digest: Digest, *, now: dt.datetime) -> str:
        """Return the POST as it would be sent (unsigned, the address without its token)."""
        url, data, _ = self.request(digest, now=now, sign=False)
        pretty = json.dumps(json.loads(data), ensure_ascii=False, indent=2)
        shown = redact_url(url) if not url.startswith("$") else url
        return f"POST {shown}\n{pretty}"

    def send(self, digest: Digest, *, now: dt.datetime) -> str:
        """POST one digest; return a short receipt.

        Raises:
            DeliveryError: no address or secret in the environment, the host cannot be
                reached, an HTTP error, or the bot's JSON answer reports an error.
        """
        s = self.settings
        url, data, headers = self.request(digest, now=now)
        where = redact_url(url)
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - scheme checked in _url and the settings
        try:
            context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise self._fail(f"cannot read ca_file {s.ca_file} ({exc})") from exc
        # no redirects: urllib would follow a 301/302 with a GET without the body, and the
        # answer to that GET would count as a delivery that never happened
        opener = urllib.request.build_opener(
            _RefuseRedirects(), urllib.request.HTTPSHandler(context=context)
        )
        try:
            with opener.open(request, timeout=s.timeout) as response:
                status = int(response.status)
                raw = response.read(_MAX_RESPONSE)
        except urllib.error.HTTPError as exc:
            detail = exc.read(512).decode("utf-8", "replace").strip()
            if 300 <= exc.code < 400:
                detail = "a redirect, which is not followed; write the address it points to"
            raise self._fail(
                f"{where} answered HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
            ) from exc
        except urllib.error.URLError as exc:
            raise self._fail(f"cannot reach {where} ({exc.reason})") from exc
        except (TimeoutError, OSError) as exc:
            raise self._fail(f"cannot reach {where} ({exc})") from exc
        except ValueError as exc:  # http.client.InvalidURL: its message holds the whole url
            raise self._fail(f"{where} is not a valid address") from exc
        return self._check_answer(status, raw, where)

    def _check_answer(self, status: int, raw: bytes, where: str) -> str:
        fmt = self.settings.format
        if fmt is WebhookFormat.GENERIC:
            return f"HTTP {status}"
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self._fail(f"{where} answered HTTP {status} without JSON") from exc
        if not isinstance(answer, dict):
            raise self._fail(f"{where} answered {answer!r}")
        if fmt is WebhookFormat.FEISHU:
            code = answer.get("code", answer.get("StatusCode", 0))
            text = answer.get("msg", answer.get("StatusMessage", ""))
        else:
            code = answer.get("errcode", 0)
            text = answer.get("errmsg", "")
        if code not in (0, "0"):
            raise self._fail(f"{where} refused the message (code {code}: {text})")
        return f"HTTP {status}, code 0"

    def close(self) -> None:
        """Nothing to close: each POST is its own connection."""
