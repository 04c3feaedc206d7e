"""Render an Evaluation as text: a terminal table, JSON, CSV or Markdown (the 通报 layout of
`targetkit.render.report`). Pure: returns strings."""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from targetkit.evaluation import (
    FRAME_COLUMNS,
    Evaluation,
    TargetResult,
    alert_dict,
    frame_row,
    result_dict,
)
from targetkit.model import Light, Status
from targetkit.rules import fmt, rule_kind

__all__ = ["FORMATS", "by_scope_dict", "render", "render_by_scope", "write"]

FORMATS = ("table", "json", "csv", "markdown")

_LIGHT_MARK = {Light.GREEN: "●", Light.YELLOW: "▲", Light.RED: "■", Light.GREY: "○"}

_HEAD = {
    "zh": ("目标", "状态", "实际", "目标值", "完成率", "序时进度", "差距(百分点)", "说明"),
    "en": ("target", "status", "actual", "goal", "done", "expected", "gap (pp)", "explanation"),
}


def display_width(text: str) -> int:
    """Return the terminal width of ``text``: East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# Bidirectional overrides and isolates reorder what a terminal shows ("Trojan Source").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(text: str) -> str:
    """Return plan text safe to print on a terminal: one line, escapes shown, not obeyed.

    A title could hold ESC sequences that retitle the window, clear the screen or hide the
    rest of a line; line breaks would break the table. Breaks become spaces, other control
    characters and bidirectional overrides are shown as ``\\x1b`` / ``\\u202e``.
    """
    out = []
    for ch in text:
        if ch in "\r\n\t\v\f\x85\u2028\u2029":
            out.append(" ")
        elif ch in _BIDI:
            out.append(f"\\u{ord(ch):04x}")
        elif unicodedata.category(ch) == "Cc":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * max(width - display_width(text), 0)
    return space + text if right else text + space


def _done_or_not(r: TargetResult) -> bool:
    kind = rule_kind(r.rule_kind)
    return kind is not None and kind.display.done_or_not


def _cells(r: TargetResult, lang: str) -> list[str]:
    unit = r.unit
    sep = "" if lang == "zh" or unit in ("", "%") else " "
    status = r.status.label_zh if lang == "zh" else r.status.label_en
    if _done_or_not(r):
        done = r.completion == 1.0
        zh_word = "已完成" if done else "未完成"
        en_word = "done" if done else "not done"
        return [
            r.target,
            f"{_LIGHT_MARK[r.light]} {status}",
            zh_word if lang == "zh" else en_word,
            "",
            "" if r.completion is None else f"{100 * r.completion:.1f}%",
            "",
            "",
            r.message(lang),
        ]
    if r.at_risk:
        status += "·预计难以完成" if lang == "zh" else " · at risk"
    return [
        r.target,
        f"{_LIGHT_MARK[r.light]} {status}",
        "" if r.actual is None else f"{fmt(r.actual)}{sep}{unit}",
        "" if r.target_value is None else f"{fmt(r.target_value)}{sep}{unit}",
        "" if r.completion is None else f"{100 * r.completion:.1f}%",
        "" if r.expected is None else f"{100 * r.expected:.1f}%",
        "" if r.gap_pp is None else _gap(r.gap_pp),
        r.message(lang),
    ]


def _gap(gap: float) -> str:
    """Format a gap in points with its sign: one decimal, two for gaps under 0.1 (levels in %)."""
    if abs(gap) < 0.005:
        return "0.0"
    return f"{gap:+.2f}" if abs(gap) < 0.1 else f"{gap:+.1f}"


def _table(ev: Evaluation, lang: str) -> str:
    head = list(_HEAD[lang])
    rows = []
    notes: list[str] = []
    for r in ev.results:
        rows.append([_printable(c) for c in _cells(r, lang)])
        notes.extend(f"{r.target}: {n}" for n in r.notes)
        for p in ev.parts(r.target):
            cells = _cells(p, lang)
            cells[0] = f"  └ {p.scope}"
            rows.append([_printable(c) for c in cells])
    widths = [
        max(display_width(x) for x in [h, *(row[i] for row in rows)]) for i, h in enumerate(head)
    ]
    numeric = {2, 3, 4, 5, 6}
    out = []
    title = (
        f"{ev.plan.title}（{ev.plan.id}）截至 {ev.as_of.isoformat()}"
        if lang == "zh"
        else (f"{ev.plan.title} ({ev.plan.id}) as of {ev.as_of.isoformat()}")
    )
    out.append(_printable(title))
    out.append(
        "  ".join(
            _pad(h, w, right=i in numeric)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        ).rstrip()
    )
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        out.append(
            "  ".join(
                _pad(c, w, right=i in numeric)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    out.append("")
    out.append(_summary_line(ev, lang))
    at_risk = [r for r in ev.results if r.at_risk]
    if at_risk:
        out.append("")
        out.append("预计难以完成：" if lang == "zh" else "At risk (green now, forecast short):")
        for r in at_risk:
            out.append(_printable(f"  {r.target}: {r.forecast_message(lang)}"))
    if notes:
        out.append("")
        out.append("数据说明：" if lang == "zh" else "Data notes:")
        out.extend(_printable(f"  {n}") for n in notes)
    if ev.alerts:
        out.append("")
        out.append("提醒：" if lang == "zh" else "Alerts:")
        for a in ev.alerts:
            where = f"{a.target}@{a.scope}" if a.scope else a.target
            out.append(_printable(f"  [{a.severity.value}] {where}: {a.message(lang)}"))
    return "\n".join(out) + "\n"


def _standing(r: TargetResult, lang: str, rank: int | None) -> dict[str, object]:
    def num(value: float | None, digits: int = 6) -> float | None:
        return None if value is None else round(float(value), digits)

    return {
        **({"rank": rank} if rank is not None else {}),
        "scope": r.scope,
        "status": r.status.value,
        "light": r.light.value,
        "actual": num(r.actual),
        "unit": r.unit,
        "target_value": num(r.target_value),
        "completion": num(r.completion),
        "expected": num(r.expected),
        "gap_pp": num(r.gap_pp, 4),
        "observed_on": r.observed_on.isoformat() if r.observed_on else None,
        "owner": r.owner or None,
        "notes": list(r.notes),
        "message": r.message(lang),
    }


def by_scope_dict(ev: Evaluation, *, lang: str = "zh") -> dict[str, object]:
    """Return ``targetkit check --by scope --format json``: the scorecard and the rankings.

    ``scopes`` lists every scope in the plan's order of first mention, with how many of its
    parts are in each status; ``targets`` lists each split target with its parts ranked (the
    order and rank of `Evaluation.ranking`) and the whole (``scope`` null). The shape is
    documented in docs/reference/cli.md.
    """
    card = ev.scorecard()
    targets = []
    for r in ev.results:
        ranked = ev.ranking(r.target)
        if not ranked:
            continue
        targets.append(
            {
                "target": r.target,
                "title": r.title,
                "rule": r.rule_kind,
                "whole": _standing(r, lang, None),
                "ranking": [_standing(p, lang, n) for n, p in enumerate(ranked, start=1)],
            }
        )
    return {
        "plan": {"id": ev.plan.id, "title": ev.plan.title},
        "as_of": ev.as_of.isoformat(),
        "lang": lang,
        "scopes": [
            {"scope": scope, "parts": sum(counts.values()), "counts": counts}
            for scope, counts in card.items()
        ],
        "targets": targets,
    }


def render_by_scope(ev: Evaluation, *, lang: str = "zh", format: str = "table") -> str:  # noqa: A002 - CLI flag name
    """Return the scorecard of every scope and the ranking of each split target's parts.

    ``format`` is ``table`` (text, also used for ``markdown``) or ``json`` (`by_scope_dict`).
    """
    if format == "json":
        return json.dumps(by_scope_dict(ev, lang=lang), ensure_ascii=False, indent=2) + "\n"
    zh = lang == "zh"
    out = [
        _printable(
            f"{ev.plan.title}（{ev.plan.id}）截至 {ev.as_of.isoformat()}：分解目标"
            if zh
            else f"{ev.plan.title} ({ev.plan.id}) as of {ev.as_of.isoformat()}: split targets"
        )
    ]
    card = ev.scorecard()
    if not card:
        out.append("没有分解到各单位的目标。" if zh else "No target is split into parts.")
        return "\n".join(out) + "\n"
    labels = [s.label_zh if zh else s.label_en for s in Status]
    head = ["单位" if zh else "scope", *labels]
    rows = [[_printable(scope), *(str(c[s.value]) for s in Status)] for scope, c in card.items()]
    out += ["", "各单位完成情况：" if zh else "Scorecard:", *_grid(head, rows, {1, 2, 3, 4, 5, 6})]
    for r in ev.results:
        ranked = ev.ranking(r.target)
        if not ranked:
            continue
        out += ["", _printable(f"{r.target} {r.title}")]
        head = (
            ["排名", "单位", "状态", "实际", "目标值", "完成率", "差距(百分点)"]
            if zh
            else ["rank", "scope", "status", "actual", "goal", "done", "gap (pp)"]
        )
        rows = []
        for n, p in enumerate(ranked, start=1):
            cells = _cells(p, lang)
            rows.append([str(n), _printable(str(p.scope)), *cells[1:5], cells[6]])
        whole = _cells(r, lang)
        rows.append(["", "合计" if zh else "whole", *whole[1:5], whole[6]])
        out += _grid(head, rows, {0, 3, 4, 5, 6})
    return "\n".join(out) + "\n"


def _grid(head: list[str], rows: list[list[str]], numeric: set[int]) -> list[str]:
    widths = [
        max(display_width(x) for x in [h, *(row[i] for row in rows)]) for i, h in enumerate(head)
    ]
    return [
        "  ".join(
            _pad(c, w, right=i in numeric) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [head, ["-" * w for w in widths], *rows]
    ]


def _summary_line(ev: Evaluation, lang: str) -> str:
    counts = ev.summary
    parts = []
    for status in Status:
        n = counts[status.value]
        if n:
            label = status.label_zh if lang == "zh" else status.label_en
            parts.append(f"{label} {n}" + (" 项" if lang == "zh" else ""))
    total = len(ev.results)
    if lang == "zh":
        return f"共 {total} 项目标：" + "，".join(parts)
    return f"{total} target{'s' if total != 1 else ''}: " + ", ".join(parts)


# Entries (JSON) or rows (CSV) written to the stream at a time: a write call per entry costs
# more than making the entry's text.
_BATCH = 256


def _write_csv(ev: Evaluation, out: TextIO) -> None:
    """Write the tidy frame's columns and rows (`Evaluation.to_frame`) as CSV, row by row."""
    chunk: list[str] = []
    writer = csv.writer(_Appender(chunk), lineterminator="\n")
    writer.writerow(FRAME_COLUMNS)
    for r in ev.stream():
        writer.writerow([_csv_cell(v) for v in frame_row(r, messages=True).values()])
        if len(chunk) >= _BATCH:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk))


class _Appender:
    """What `csv.writer` writes to: each row's text appended to a list."""

    def __init__(self, into: list[str]) -> None:
        self.write = into.append


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(round(value, 6))
    text = str(value)
    # A cell starting with =, +, - or @ would run as a formula when the file is opened in a
    # spreadsheet, and so would one starting with a tab or carriage return before them (the
    # OWASP "CSV injection" list); a leading apostrophe keeps it text. Spreadsheets skip
    # leading spaces before a formula too, so those are looked through.
    head = text.lstrip(" ")[:1]
    if text[:1] in _FORMULA_START or head in _FORMULA_START:
        return "'" + text
    if head == "-" and not _is_number(text):
        return "'" + text
    return text


_FORMULA_START = frozenset("=+@\t\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render(ev: Evaluation, format: str = "table", *, lang: str = "zh") -> str:  # noqa: A002 - CLI flag name
    """Return the evaluation as text in one of `FORMATS`."""
    buf = io.StringIO()
    write(ev, buf, format, lang=lang)
    return buf.getvalue()


def write(
    ev: Evaluation,
    out: TextIO,
    format: str = "table",  # noqa: A002 - CLI flag name
    *,
    lang: str = "zh",
    silenced: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Write the evaluation to ``out`` in one of `FORMATS`, result by result.

    ``silenced`` maps a target id to the ``silenced`` object its JSON results carry (the CLI
    passes the silences active at the as-of date); other formats ignore it.
    """
    if format == "json":
        _write_json(ev, out, lang, silenced or {})
    elif format == "csv":
        _write_csv(ev, out)
    elif format == "markdown":
        from targetkit.render.report import render_markdown  # noqa: PLC0415 - the 通报 layout lives there

        out.write(render_markdown(ev, lang=lang))
    elif format == "table":
        out.write(_table(ev, lang))
    else:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")


def _write_json(
    ev: Evaluation, out: TextIO, lang: str, silenced: Mapping[str, Mapping[str, Any]]
) -> None:
    """Write `Evaluation.to_dict`'s document: two-space indented, one result or alert a line.

    Each entry is encoded by the json module's C encoder (an indented dump runs its pure
    Python one), and written as soon as it is made, so the document is never held whole.
    """
    encode = json.JSONEncoder(ensure_ascii=False).encode

    def entries(name: str, items: Iterable[dict[str, Any]]) -> None:
        out.write(f'  "{name}": [')
        chunk: list[str] = []
        wrote = False

        def flush() -> None:
            nonlocal wrote
            out.write((",\n    " if wrote else "\n    ") + ",\n    ".join(chunk))
            wrote = True
            chunk.clear()

        for item in items:
            chunk.append(encode(item))
            if len(chunk) == _BATCH:
                flush()
        if chunk:
            flush()
        out.write("\n  ]" if wrote else "]")
        out.write(",\n")

    def results() -> Iterable[dict[str, Any]]:
        for r in ev.stream():
            entry = result_dict(r, lang)
            held = silenced.get(r.target)
            if held is not None:
                entry["silenced"] = dict(held)
            yield entry

    out.write("{\n")
    out.write(f'  "plan": {encode({"id": ev.plan.id, "title": ev.plan.title})},\n')
    out.write(f'  "as_of": {encode(ev.as_of.isoformat())},\n')
    out.write(f'  "lang": {encode(lang)},\n')
    entries("results", results())
    entries("alerts", (alert_dict(a, lang) for a in ev.alerts))
    out.write(f'  "summary": {encode(ev.summary)},\n')
    out.write(f'  "worst_light": {encode(ev.worst_light.value)}\n')
    out.write("}\n")
