"""Render a digest for people: subject, plain text, HTML and Markdown, in Chinese or English.

Pure functions of a `Digest`. Every string that comes from a plan or a data file (titles,
owners, explanations) is HTML-escaped in the HTML body and kept on one line in headers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from targetkit.model import Severity, Status
from targetkit.notify.digest import KIND_ORDER, Digest, Message
from targetkit.state import AT_RISK, OVERDUE, RECEIVED, REMOVED, Notice, NoticeKind

__all__ = ["render", "render_html", "render_markdown", "render_subject", "render_text"]

_KIND_HEADING = {
    "zh": {
        NoticeKind.ESCALATED: "督办：问题持续未解决，请督促整改",
        NoticeKind.NEW: "新出现的问题",
        NoticeKind.CHANGED: "状态变化",
        NoticeKind.REPEAT: "仍未解决（定期提醒）",
        NoticeKind.RESOLVED: "已恢复",
    },
    "en": {
        NoticeKind.ESCALATED: "Escalated (督办): still open, please follow up",
        NoticeKind.NEW: "New problems",
        NoticeKind.CHANGED: "Changed",
        NoticeKind.REPEAT: "Still open (reminder)",
        NoticeKind.RESOLVED: "Resolved",
    },
}
_KIND_COUNT = {
    "zh": {
        NoticeKind.ESCALATED: "督办{n}项",
        NoticeKind.NEW: "新增{n}项",
        NoticeKind.CHANGED: "变化{n}项",
        NoticeKind.REPEAT: "仍未解决{n}项",
        NoticeKind.RESOLVED: "已恢复{n}项",
    },
    "en": {
        NoticeKind.ESCALATED: "{n} escalated",
        NoticeKind.NEW: "{n} new",
        NoticeKind.CHANGED: "{n} changed",
        NoticeKind.REPEAT: "{n} still open",
        NoticeKind.RESOLVED: "{n} resolved",
    },
}
_SEVERITY = {
    "zh": {Severity.CRITICAL: "严重", Severity.WARNING: "预警"},
    "en": {Severity.CRITICAL: "critical", Severity.WARNING: "warning"},
}
_WORDS = {
    "zh": {
        "as_of": "截至 {d}",
        "as_of_subject": "（截至{d}）",
        "critical_subject": "【严重】",
        "escalated_subject": "【督办】",
        "episode": "持续情况",
        "episode_text": "自{s}起未解决，已连续{n}次检查未改善，此前已提醒{k}次",
        "after_silence": "（静默已结束，问题仍未解决）",
        "status": "状态",
        "owner": "责任单位",
        "detail": "说明",
        "since": "首次发现",
        "late": "（{d} 的提醒，延迟送达）",
        "again": "（再次出现）",
        "none": "无",
        "sep": "、",
        "colon": "：",
        "footer": "此提醒由 targetkit 自动发送：问题出现或状态变化时提醒，未变化的问题按设定间隔"
        "重复提醒，恢复时通知一次。",
        "title_suffix": " — 目标监测提醒",
        "footer_escalated": "督办提醒在问题持续未解决达到设定的次数或天数时发送，同一问题持续期间只发送一次；"
        "问题恢复时另行通知。",
    },
    "en": {
        "as_of": "as of {d}",
        "as_of_subject": " (as of {d})",
        "critical_subject": "[CRITICAL] ",
        "escalated_subject": "[ESCALATED 督办] ",
        "episode": "History",
        "episode_text": "open since {s}, not better for {n} runs, notified {k} times before",
        "after_silence": "(the silence has ended; the problem is still open)",
        "status": "Status",
        "owner": "Owner",
        "detail": "Details",
        "since": "Open since",
        "late": "(notice of {d}, delivered late)",
        "again": "(back again)",
        "none": "nothing",
        "sep": ", ",
        "colon": ": ",
        "footer": "Sent by targetkit: you hear of a problem when it appears or changes, of an "
        "unchanged one again after the repeat interval, and once when it is resolved.",
        "title_suffix": " — target alerts",
        "footer_escalated": "An escalation (督办) is sent once per problem and episode, when it has "
        "stayed open for the configured runs or days; you also hear when it is resolved.",
    },
}


def _count(n: int, lang: str) -> str:
    return f"（{n}）" if lang == "zh" else f" ({n})"


_SEVERITY_COLOUR = {Severity.CRITICAL: "#c0392b", Severity.WARNING: "#d68910"}
_RESOLVED_COLOUR = "#1e8449"


def _lang(digest: Digest) -> str:
    return "en" if digest.lang == "en" else "zh"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_MD_SPECIAL = frozenset("\\`*_[]<>|~!#")


def _md(text: str) -> str:
    """Return plan text on one line with Markdown's specials escaped.

    A title such as ``[点此](http://…)`` or ``![](http://…/pixel.png)`` then shows as written in a
    group bot instead of becoming a link or a tracking image, and ``<font …>`` stays text.
    """
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in _one_line(text))


def status_label(status: str, lang: str = "zh") -> str:
    """Return the reader's name of a stored status (a target status, overdue, received)."""
    if status == OVERDUE:
        return "数据逾期" if lang == "zh" else "data overdue"
    if status == RECEIVED:
        return "数据已报送" if lang == "zh" else "figure received"
    if status == REMOVED:
        return "已移出计划" if lang == "zh" else "removed from the plan"
    if status == AT_RISK:
        return "预计难以完成" if lang == "zh" else "at risk: forecast short of the target"
    try:
        value = Status(status)
    except ValueError:
        return status or "—"
    return value.label_zh if lang == "zh" else value.label_en


def _counts(digest: Digest, lang: str) -> str:
    words = _WORDS[lang]
    parts = [_KIND_COUNT[lang][kind].format(n=n) for kind, n in digest.counts.items() if n]
    return words["sep"].join(parts) or words["none"]


def render_subject(digest: Digest) -> str:
    """Return the subject line: prefix, critical mark, plan, counts, as-of date."""
    lang = _lang(digest)
    words = _WORDS[lang]
    mark = words["critical_subject"] if digest.critical else ""
    if digest.escalated:
        mark = words["escalated_subject"]
    head = f"{digest.subject_prefix} " if digest.subject_prefix else ""
    subject = (
        f"{head}{mark}{digest.plan_title}{words['colon']}{_counts(digest, lang)}"
        f"{words['as_of_subject'].format(d=digest.as_of.isoformat())}"
    )
    return _one_line(subject)


def _transition(notice: Notice, lang: str) -> str:
    now = status_label(notice.status, lang)
    if notice.kind in (NoticeKind.CHANGED, NoticeKind.RESOLVED) and notice.previous_status:
        return f"{status_label(notice.previous_status, lang)} → {now}"
    if notice.kind is NoticeKind.NEW and notice.previous_status:
        return f"{now} {_WORDS[lang]['again']}"
    return now


def _badge(notice: Notice, lang: str) -> str:
    if notice.kind is NoticeKind.RESOLVED:
        return "✓"
    if notice.kind is NoticeKind.ESCALATED:
        return "督办" if lang == "zh" else "escalated"
    return _SEVERITY[lang][notice.severity]


def _episode(notice: Notice, lang: str) -> str:
    """Return an escalated problem's history: since when, for how many runs, how often told."""
    since = (notice.open_since or notice.first_seen_as_of).isoformat()
    return _WORDS[lang]["episode_text"].format(s=since, n=notice.open_runs, k=notice.notified)


def _item_lines(notice: Notice, digest: Digest, lang: str) -> list[str]:
    words = _WORDS[lang]
    colon = words["colon"]
    lines = [f"[{_badge(notice, lang)}] {_one_line(notice.title)} ({notice.where})"]
    lines.append(f"    {words['status']}{colon}{_transition(notice, lang)}")
    if notice.owner:
        lines.append(f"    {words['owner']}{colon}{_one_line(notice.owner)}")
    message = notice.message(lang)
    if message and notice.kind is not NoticeKind.RESOLVED:
        lines.append(f"    {words['detail']}{colon}{_one_line(message)}")
    if notice.kind in (NoticeKind.REPEAT, NoticeKind.RESOLVED, NoticeKind.ESCALATED):
        lines.append(f"    {words['since']}{colon}{notice.first_seen_as_of.isoformat()}")
    if notice.kind is NoticeKind.ESCALATED:
        lines.append(f"    {words['episode']}{colon}{_episode(notice, lang)}")
    if notice.after_silence:
        lines.append(f"    {words['after_silence']}")
    if notice.as_of != digest.as_of:
        lines.append(f"    {words['late'].format(d=notice.as_of.isoformat())}")
    return lines


def render_text(digest: Digest) -> str:
    """Return the plain-text body."""
    lang = _lang(digest)
    words = _WORDS[lang]
    out = [
        f"{_one_line(digest.plan_title)}{words['title_suffix']}",
        f"{words['as_of'].format(d=digest.as_of.isoformat())} · {_counts(digest, lang)}",
        "",
    ]
    for kind in KIND_ORDER:
        notices = digest.of_kind(kind)
        if not notices:
            continue
        out.append(f"■ {_KIND_HEADING[lang][kind]}{_count(len(notices), lang)}")
        for notice in notices:
            out.extend(_item_lines(notice, digest, lang))
            out.append("")
    out += ["-- ", words["footer"], *([words["footer_escalated"]] if digest.escalated else []), ""]
    return "\n".join(out)


def render_html(digest: Digest) -> str:
    """Return the HTML body (inline styles only, every user string escaped)."""
    lang = _lang(digest)
    words = _WORDS[lang]
    e: Callable[[str], str] = lambda s: html.escape(s, quote=True)  # noqa: E731
    colon = words["colon"]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(render_subject(digest))}</title></head>",
        "<body style=\"font-family: -apple-system, 'PingFang SC', 'Microsoft YaHei', "
        'Arial, sans-serif; color: #222; line-height: 1.5; max-width: 760px;">',
        f'<h2 style="margin-bottom: 4px;">{e(_one_line(digest.plan_title))}</h2>',
        f'<p style="color: #555; margin-top: 0;">{e(words["as_of"].format(d=digest.as_of.isoformat()))}'
        f" · {e(_counts(digest, lang))}</p>",
    ]
    for kind in KIND_ORDER:
        notices = digest.of_kind(kind)
        if not notices:
            continue
        parts.append(
            f'<h3 style="border-bottom: 1px solid #ddd; padding-bottom: 2px;">'
            f"{e(_KIND_HEADING[lang][kind])}{_count(len(notices), lang)}</h3>"
        )
        parts.append('<table style="border-collapse: collapse; width: 100%;">')
        for notice in notices:
            colour = (
                _RESOLVED_COLOUR
                if notice.kind is NoticeKind.RESOLVED
                else _SEVERITY_COLOUR[notice.severity]
            )
            cells = [
                f"<strong>{e(_one_line(notice.title))}</strong> "
                f'<span style="color: #888;">({e(notice.where)})</span>',
                f"{e(words['status'])}{e(colon)}{e(_transition(notice, lang))}",
            ]
            if notice.owner:
                cells.append(f"{e(words['owner'])}{e(colon)}{e(_one_line(notice.owner))}")
            message = notice.message(lang)
            if message and notice.kind is not NoticeKind.RESOLVED:
                cells.append(f"{e(words['detail'])}{e(colon)}{e(_one_line(message))}")
            if notice.kind in (NoticeKind.REPEAT, NoticeKind.RESOLVED, NoticeKind.ESCALATED):
                cells.append(
                    f"{e(words['since'])}{e(colon)}{e(notice.first_seen_as_of.isoformat())}"
                )
            if notice.kind is NoticeKind.ESCALATED:
                cells.append(f"{e(words['episode'])}{e(colon)}{e(_episode(notice, lang))}")
            if notice.after_silence:
                cells.append(f"{e(words['after_silence'])}")
            if notice.as_of != digest.as_of:
                cells.append(
                    f'<span style="color: #888;">'
                    f"{e(words['late'].format(d=notice.as_of.isoformat()))}</span>"
                )
            parts.append(
                '<tr><td style="vertical-align: top; padding: 6px 8px 6px 0; white-space: nowrap;">'
                f'<span style="background: {colour}; color: #fff; border-radius: 3px; '
                f'padding: 1px 6px; font-size: 12px;">{e(_badge(notice, lang))}</span></td>'
                '<td style="padding: 6px 0; border-bottom: 1px solid #f0f0f0;">'
                + "<br>".join(cells)
                + "</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        f'<p style="color: #888; font-size: 12px; margin-top: 24px;">{e(words["footer"])}'
        + (f"<br>{e(words['footer_escalated'])}" if digest.escalated else "")
        + "</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_markdown(digest: Digest) -> str:
    """Return the Markdown body used by group bots (企业微信, 钉钉)."""
    lang = _lang(digest)
    words = _WORDS[lang]
    colon = words["colon"]
    out = [
        f"### {_md(digest.plan_title)}",
        f"{words['as_of'].format(d=digest.as_of.isoformat())} · {_counts(digest, lang)}",
        "",
    ]
    for kind in KIND_ORDER:
        notices = digest.of_kind(kind)
        if not notices:
            continue
        out.append(f"**{_KIND_HEADING[lang][kind]}{_count(len(notices), lang)}**")
        out.append("")
        for notice in notices:
            head = f"- **[{_badge(notice, lang)}] {_md(notice.title)}** `{notice.where}`"
            head += f" — {_transition(notice, lang)}"
            if notice.owner:
                head += f" · {words['owner']}{colon}{_md(notice.owner)}"
            out.append(head)
            message = notice.message(lang)
            if message and notice.kind is not NoticeKind.RESOLVED:
                out.append(f"  {_md(message)}")
            if notice.kind is NoticeKind.ESCALATED:
                out.append(f"  {words['episode']}{colon}{_episode(notice, lang)}")
            if notice.after_silence:
                out.append(f"  {words['after_silence']}")
            if notice.as_of != digest.as_of:
                out.append(f"  {words['late'].format(d=notice.as_of.isoformat())}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render(digest: Digest) -> Message:
    """Return the digest rendered: subject, text, HTML and Markdown."""
    return Message(
        subject=render_subject(digest),
        text=render_text(digest),
        html=render_html(digest),
        markdown=render_markdown(digest),
    )
