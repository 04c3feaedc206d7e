"""The alert history as ``targetkit alerts history`` prints it: open problems, silences, notices."""

from __future__ import annotations

import datetime as dt
import unicodedata
import zoneinfo
from pathlib import Path

from targetkit.alerts import NoticeKind, active_silences
from targetkit.notify.templates import status_label
from targetkit.state import read_history, read_records, read_silences

__all__ = ["history_text"]

_HISTORY_WORDS = {
    "zh": {
        "title": "告警记录",
        "none": "尚无告警记录（状态文件 {path} 不存在或为空）。",
        "open": "未解决的问题",
        "sent": "已送达",
        "pending": "待重试",
        "attempts": "已尝试{n}次，最近错误：{e}",
        "outbox": "本地发件箱",
        "silences": "生效中的静默",
        "silenced": "已静默至 {d}（{r}）",
        "escalated": "已督办：{n}",
        "runs": "已连续{n}次检查未解决，已提醒{k}次",
        "by": "设置人 {w}，{t}",
    },
    "en": {
        "title": "alert history",
        "none": "no alerts recorded yet (state file {path} does not exist or is empty).",
        "open": "open problems",
        "sent": "sent",
        "pending": "pending",
        "attempts": "{n} attempt(s), last error: {e}",
        "outbox": "outbox",
        "silences": "active silences",
        "silenced": "silenced until {d} ({r})",
        "escalated": "escalated: {n}",
        "runs": "open for {n} run(s), notified in {k} run(s)",
        "by": "set by {w}, {t}",
    },
}
_HISTORY_HEADER = {
    "zh": ("时间", "状态", "截至", "渠道", "收件人", "类型", "目标", "状态变化"),
    "en": ("when", "state", "as of", "channel", "recipient", "notice", "target", "status"),
}


def history_text(
    state_path: str | Path,
    plan_id: str,
    *,
    lang: str = "zh",
    timezone: str = "Asia/Shanghai",
    limit: int | None = None,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Return ``targetkit alerts history``: open problems, active silences, then what was sent
    when, newest first.

    Times are shown in ``timezone`` (the plan's). Silences are those active at ``as_of`` and
    ``now`` (default: the latest run's as-of date and the clock). Reads the state file without
    locking it.

    Raises:
        StateError: the state file is corrupted or newer.
    """
    lang = "en" if lang == "en" else "zh"
    words = _HISTORY_WORDS[lang]
    zone = zoneinfo.ZoneInfo(timezone)
    path = Path(state_path)
    records = read_records(path, plan_id)
    entries = read_history(path, plan_id, limit=limit)
    stored = read_silences(path, plan_id)
    if not records and not entries and not stored:
        return words["none"].format(path=path) + "\n"
    if as_of is None:
        as_of = max((r.last_seen_as_of for r in records.values()), default=None)
    clock = now if now is not None else dt.datetime.now(dt.UTC)
    quiet = active_silences(stored, as_of=as_of, now=clock) if as_of is not None else {}
    colon = "：" if lang == "zh" else ": "
    out = [f"{plan_id} {words['title']} ({path})", ""]
    firing = sorted((r for r in records.values() if r.firing), key=lambda r: r.key)
    out.append(f"{words['open']}{colon}{len(firing)}")
    for r in firing:
        severity = "critical" if r.escalated else r.severity.value
        out.append(
            f"  {r.target}{'@' + r.scope if r.scope else ''}  {status_label(r.status, lang)}  "
            f"({severity}, {r.first_seen_as_of.isoformat()} →)"
        )
        notes = [words["runs"].format(n=r.open_runs, k=r.notified)]
        if r.escalated:
            notes.append(words["escalated"].format(n="、".join(r.escalated)))
        held = quiet.get(r.target)
        if held is not None:
            notes.append(words["silenced"].format(d=held.until.isoformat(), r=held.reason))
        out.append("    " + ("；" if lang == "zh" else "; ").join(notes))
    out.append("")
    active = sorted({s.id: s for s in quiet.values()}.values(), key=lambda s: s.id)
    if active:
        out.append(f"{words['silences']}{colon}{len(active)}")
        for held in active:
            when = held.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            out.append(
                f"  #{held.id}  {'、'.join(held.targets)}  "
                + words["silenced"].format(d=held.until.isoformat(), r=held.reason)
                + f"  {words['by'].format(w=held.created_by or '?', t=when)}"
            )
        out.append("")
    rows: list[tuple[str, ...]] = [_HISTORY_HEADER[lang]]
    for entry in entries:
        item = entry.item
        when = (item.sent or item.created).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        state = words["sent"] if item.sent is not None else words["pending"]
        n = item.notice
        change = status_label(n.status, lang)
        if n.previous_status and n.kind in (NoticeKind.CHANGED, NoticeKind.RESOLVED):
            change = f"{status_label(n.previous_status, lang)} → {change}"
        rows.append(
            (
                when,
                state,
                entry.run_as_of.isoformat(),
                item.channel,
                item.recipient or words["outbox"],
                n.kind.value,
                n.where,
                change,
            )
        )
        if item.sent is None and item.attempts:
            # the retry note, in the last column, below its notice
            rows.append(("",) * 7 + (words["attempts"].format(n=item.attempts, e=item.last_error),))
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def _width(text: str) -> int:
    """Return the display width of text (CJK characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
