"""Draft a plan file from a plan's raw text (工作要点, 工作计划) for a person to review.

`draft_plan` is pure: the text in, a `Draft` out. It finds the document's structure (sections
一、…, items 1. 2. …, and the （一）/(1) variants), splits each sentence into clauses and reads the
quantitative and dated commitments in them with the wording table of DESIGN § Rule:

    不低于/以上/达到/突破/超过 X        → at_least        控制在…以内/不超过 X → at_most
    X到Y                               → between         占…比重(提高到) X%    → share
    净增 N                             → net_increase    新增 N               → at_least on a flow
    增长 X%                            → growth          提高 X 个百分点       → change_pp
    …比重逐步提高                       → increase        位居…前列/前 N        → rank
    出台/立项/动工/开工/验收/建成 … 年内/上半年/X月底前                        → milestone

The rule words (不低于, 控制在, 增长, 下降 …) are the kinds' own (`targetkit.rules.Drafting`), and
every rule is built through its kind (`RuleKind.build` from the kind's fields, the id in the form
the kind declares), so a user's kind that declares words is drafted like a built-in one. Which
reading a figure gets is asked of the kinds too: each declares the role it plays
(`targetkit.rules.DraftRole`: floor, cap, band, rise, fall …) and its hooks (``nouns``,
``count_as`` …), and the reading logic names roles, never a kind.
力争/争取 make the rest of their sentence aspirational (``binding = false``), 确保 binding.
Every sentence whose numbers were not turned into a target is kept as an "untracked" finding,
so nothing is dropped silently. `Draft.to_toml` writes the draft as a commented plan file that
`targetkit validate` accepts.

`read_document` (.txt, .docx, .html, .pdf; see `targetkit.documents`), `read_text_file` and
`save_draft` are the edges: they read the source text and write the draft without overwriting a
file. A sentence may carry its owner and deadline as a task table gives them,
``…（责任单位：市科技局；完成时限：2024年6月底前）``; the target gets both.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from targetkit.config import dump, dumps, parse
from targetkit.documents import read_document, read_text_file
from targetkit.exceptions import ConfigError
from targetkit.model import Indicator, IndicatorKind, Plan, Target
from targetkit.rules import (
    FROM_INDICATOR,
    Drafting,
    DraftRole,
    FieldType,
    Rule,
    RuleKind,
    drafting_of,
    rule_kind,
    rule_kinds,
)

__all__ = [
    "Draft",
    "Finding",
    "FindingKind",
    "draft_plan",
    "parse_number",
    "read_document",
    "read_text_file",
    "save_draft",
]

FindingKind = Literal["target", "untracked", "uncertain"]


# --------------------------------------------------------------------------- public values


@attrs.frozen(kw_only=True)
class Finding:
    """One thing the drafter read in a sentence.

    Attributes:
        kind: ``target`` (drafted as a target), ``uncertain`` (drafted, but the reading needs a
            look: the note says why) or ``untracked`` (a sentence with numbers, or a step, that was
            not turned into a target; the note says which numbers and why).
        sentence: The source sentence, as written.
        section: The section heading the sentence stands under ('' before the first one).
        item: The item number, when the document numbers its items.
        note: Why the reading is uncertain, or what was left untracked.
        target_id: The drafted target's id (targets and uncertain findings only).
    """

    kind: FindingKind
    sentence: str
    section: str = ""
    item: int | None = None
    note: str = ""
    target_id: str = ""


def _finding_tuple(items: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(items)


def _str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Draft:
    """A drafted plan and what was read to draft it, in the order of the source."""

    plan: Plan
    findings: tuple[Finding, ...] = attrs.field(converter=_finding_tuple)
    source: str = "<text>"
    notes: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)

    @property
    def untracked(self) -> tuple[Finding, ...]:
        """Return the findings left untracked."""
        return tuple(f for f in self.findings if f.kind == "untracked")

    @property
    def uncertain(self) -> tuple[Finding, ...]:
        """Return the drafted targets whose reading needs a second look."""
        return tuple(f for f in self.findings if f.kind == "uncertain")

    def to_toml(self) -> str:
        """Return the draft as a commented TOML plan file.

        The data part is `targetkit.dumps` of `plan`, so `targetkit.parse` of the file gives the
        same plan; comments quote each target's source sentence and any doubt about its reading,
        and list the untracked sentences where they stand in the document.
        """
        return _render_toml(self)


# --------------------------------------------------------------------------- edges


def save_draft(draft: Draft, path: str | Path, *, force: bool = False) -> None:
    """Write ``draft.to_toml()`` to ``path`` (UTF-8), never overwriting a file unless ``force``.

    The file is written to a temporary name next to it and renamed, so a failed write leaves no
    half-written plan behind.

    Raises:
        ConfigError: when the file exists (and not ``force``) or cannot be written.
    """
    path = Path(path)
    text = draft.to_toml()
    if path.exists() and not force:
        raise ConfigError.single(
            str(path),
            "",
            "already exists; the draft was not written",
            "choose another -o file, or pass --force to overwrite it",
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        raise ConfigError.single(
            str(path), "", f"cannot be written ({exc.strerror})", "check the folder and permissions"
        ) from exc


# --------------------------------------------------------------------------- numbers

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_MULTIPLIERS = {**_CN_SMALL, **_CN_BIG}
_AR = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CN = r"[一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*|[百千](?=[万亿])[万亿]+"
_NUMBER_TEXT = re.compile(rf"^\s*(?:(?P<ar>{_AR})\s*(?P<mult>[十百千万亿]*)|(?P<cn>{_CN}))\s*$")


def _cn_value(text: str) -> float:
    """Return the value of a Chinese numeral: 三千 3000, 一百零五 105, 两万三 23000, 1亿5千万."""
    total = 0
    section = 0
    number = 0
    last_unit = 0
    after_unit = False
    for ch in text:
        if ch in _CN_DIGITS:
            number = _CN_DIGITS[ch]
            after_unit = False
            if ch in "零〇":
                last_unit = 0
        elif ch in _CN_SMALL:
            unit = _CN_SMALL[ch]
            section += (number or 1) * unit
            number = 0
            last_unit = unit
            after_unit = True
        elif ch in _CN_BIG:
            unit = _CN_BIG[ch]
            if unit == 100_000_000:
                total = (total + section + number) * unit
            else:
                total += (section + number) * unit
            section = number = 0
            last_unit = unit
            after_unit = True
        else:
            raise ValueError(f"{text!r} is not a Chinese numeral")
    if number and not after_unit and last_unit >= 100 and text[-2] not in "零〇":
        # 三千五 = 3500, 两万三 = 23000: a last digit right after a unit counts in the next lower one
        number *= last_unit // 10
    return float(total + section + number)


def parse_number(text: str) -> float:
    """Return the value of a number as plans write it: 220, 1,300, 1.5万, 3千, 三千, 两百五十.

    Raises:
        ValueError: when the text is not one number.
    """
    match = _NUMBER_TEXT.match(_normalise(text))
    if match is None:
        raise ValueError(f"{text!r} is not a number")
    if match["cn"] is not None:
        return _cn_value(match["cn"])
    value = float(match["ar"].replace(",", ""))
    for ch in match["mult"]:
        value *= _MULTIPLIERS[ch]
    return value


# --------------------------------------------------------------------------- units

# surface form → (unit written in the plan, definition added to [units] when not built in).
# Extra count units get a dimension of their own, so that a wrong unit is still caught.
_UNITS: dict[str, tuple[str, str | None]] = {
    "个亿": ("亿元", None),
    "个百分点": ("百分点", None),
    "百分点": ("百分点", None),
    "%": ("%", None),
    "‰": ("‰", None),
    "万亿元": ("万亿元", None),
    "亿元": ("亿元", None),
    "千万元": ("千万元", None),
    "百万元": ("百万元", None),
    "十万元": ("十万元", None),
    "万元": ("万元", None),
    "千元": ("千元", None),
    "元": ("元", None),
    "亿美元": ("亿美元", "1e8 美元"),
    "万美元": ("万美元", "1e4 美元"),
    "美元": ("美元", "[usd]"),
    "万人次": ("万人次", None),
    "人次": ("人次", None),
    "人年": ("人年", "[person_year]"),
    "万人年": ("万人年", "1e4 人年"),
    "万人": ("万人", None),
    "人": ("人", None),
    "名": ("名", None),
    "位": ("位", None),
    "万户": ("万户", "1e4 户"),
    "户": ("户", None),
    "家次": ("家次", "[organization_visit]"),
    "家": ("家", None),
    "项次": ("项次", "[item_time]"),
    "项": ("项", None),
    "件": ("件", None),
    "笔": ("笔", None),
    "个工作日": ("工作日", "[working_day]"),
    "工作日": ("工作日", "[working_day]"),
    "个": ("个", None),
    "台套": ("台套", None),
    "台": ("台", None),
    "套": ("套", "[set]"),
    "座": ("座", None),
    "所": ("所", "[institution]"),
    "条": ("条", "[line]"),
    "篇": ("篇", "[article]"),
    "场次": ("场次", "[session_time]"),
    "场": ("场", "[session]"),
    "次": ("次", "[times]"),
    "批": ("批", "[batch]"),
    "部": ("部", "[work]"),
    "处": ("处", "[site]"),
    "支": ("支", "[team]"),
    "辆": ("辆", "[vehicle]"),
    "张": ("张", "[sheet]"),
    "株": ("株", "[plant]"),
    "棵": ("棵", "[tree]"),
    "头": ("头", "[head]"),
    "间": ("间", "[room]"),
    "栋": ("栋", "[building]"),
    "艘": ("艘", "[ship]"),
    "款": ("款", "[model]"),
    "万亩": ("万亩", "1e4 亩"),
    "亩": ("亩", None),
    "公顷": ("公顷", None),
    "万平方米": ("万平方米", "1e4 m2"),
    "平方米": ("平方米", None),
    "平方公里": ("平方公里", None),
    "公里": ("公里", None),
    "千米": ("千米", None),
    "万立方米": ("万立方米", None),
    "立方米": ("立方米", None),
    "微克/立方米": ("微克/立方米", None),
    "万吨标准煤": ("万吨标准煤", None),
    "吨标准煤": ("吨标准煤", None),
    "吨标煤": ("吨标煤", None),
    "亿吨": ("亿吨", None),
    "万吨": ("万吨", None),
    "吨": ("吨", None),
    "千克": ("千克", None),
    "公斤": ("公斤", None),
    "万亿斤": ("万亿斤", "1e12 斤"),
    "亿斤": ("亿斤", "1e8 斤"),
    "万斤": ("万斤", "1e4 斤"),
    "斤": ("斤", "0.5 kg"),
    "亿千瓦时": ("亿千瓦时", None),
    "万千瓦时": ("万千瓦时", None),
    "千瓦时": ("千瓦时", None),
    "万千瓦": ("万千瓦", None),
    "千瓦": ("千瓦", None),
    "兆瓦": ("兆瓦", None),
    "天": ("天", None),
    "小时": ("小时", None),
    "分钟": ("分钟", None),
}
_UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_MONEY_UNITS = {
    "元",
    "千元",
    "万元",
    "十万元",
    "百万元",
    "千万元",
    "亿元",
    "万亿元",
    "美元",
    "万美元",
    "亿美元",
}
# A unit character followed by one of these starts a word instead (4人才, 3部门, 名单 …).
_BAD_NEXT = {
    "人": "才民口大员工类社",
    "名": "单牌校师称企品镇村医录额",
    "家": "庭居乡具电属长族",
    "项": "目",
    "次": "级要生",
    "条": "件例款",
    "所": "有属在得以谓",
    "场": "所景地馆",
    "部": "门署分委长",
    "处": "理置罚长室",
    "支": "持撑付部",
    "台": "账阶湾风",
    "天": "然津府地空",
    "头": "部",
    "件": "事",
    "批": "准复示",
    "个": "人体性别案",
    "套": "餐",
    "款": "项",
    "间": "接",
    "位": "于居列次",
}
_UNIT_SLUGS = {
    "亿元": "yi",
    "万亿元": "wanyi",
    "千万元": "qianwan_yuan",
    "百万元": "baiwan_yuan",
    "十万元": "shiwan_yuan",
    "万元": "wan_yuan",
    "千元": "qian_yuan",
    "元": "yuan",
    "亿美元": "yi_usd",
    "万美元": "wan_usd",
    "美元": "usd",
    "万人次": "wan_renci",
    "人次": "renci",
    "人年": "person_years",
    "万人年": "wan_person_years",
    "万人": "wan_ren",
    "人": "ren",
    "名": "ming",
    "位": "wei",
    "万户": "wan_hu",
    "户": "hu",
    "家次": "jiaci",
    "家": "jia",
    "项次": "xiangci",
    "项": "xiang",
    "件": "jian",
    "笔": "bi",
    "工作日": "workdays",
    "个": "ge",
    "台套": "taitao",
    "台": "tai",
    "套": "tao",
    "座": "zuo",
    "所": "suo",
    "条": "tiao",
    "篇": "pian",
    "场次": "changci",
    "场": "chang",
    "次": "ci",
    "批": "pi",
    "部": "bu",
    "处": "chu",
    "支": "zhi",
    "辆": "liang",
    "张": "zhang",
    "株": "zhu",
    "棵": "ke",
    "头": "tou",
    "间": "jian",
    "栋": "dong",
    "艘": "sou",
    "款": "kuan",
    "万亩": "wan_mu",
    "亩": "mu",
    "公顷": "ha",
    "万平方米": "wan_m2",
    "平方米": "m2",
    "平方公里": "km2",
    "公里": "km",
    "千米": "km",
    "万立方米": "wan_m3",
    "立方米": "m3",
    "微克/立方米": "ugm3",
    "万吨标准煤": "wan_tce",
    "吨标准煤": "tce",
    "吨标煤": "tce",
    "亿吨": "yi_t",
    "万吨": "wan_t",
    "吨": "t",
    "千克": "kg",
    "公斤": "kg",
    "万亿斤": "wanyi_jin",
    "亿斤": "yi_jin",
    "万斤": "wan_jin",
    "斤": "jin",
    "亿千瓦时": "yi_kwh",
    "万千瓦时": "wan_kwh",
    "千瓦时": "kwh",
    "万千瓦": "wan_kw",
    "千瓦": "kw",
    "兆瓦": "mw",
    "天": "days",
    "小时": "h",
    "分钟": "min",
    "%": "pct",
    "‰": "permille",
    "百分点": "pp",
}


# --------------------------------------------------------------------------- text and structure

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0xA0: 0x20, 0xFE6A: 0x25, 0x2236: 0x3A})


def _normalise(text: str) -> str:
    """Map full-width ASCII to ASCII, keeping every character's position."""
    return text.translate(_FULLWIDTH)


_CN_ORD = "一二三四五六七八九十"
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn", re.compile(rf"^\s*([{_CN_ORD}]{{1,3}})\s*、\s*")),
    ("paren_cn", re.compile(rf"^\s*\(\s*([{_CN_ORD}]{{1,3}})\s*\)\s*[、.]?\s*")),
    ("arabic", re.compile(r"^\s*(\d{1,2})\s*(?:\.(?!\d)|、|\s(?=[\u4e00-\u9fff]))\s*")),
    ("paren_ar", re.compile(r"^\s*\(\s*(\d{1,2})\s*\)\s*[、.]?\s*")),
)
_LEVEL_RANK = {"cn": 0, "paren_cn": 1, "arabic": 2, "paren_ar": 3}
_MIDLINE_MARKER = re.compile(
    rf"(?<=[。;!?])\s*(?=(?:(?P<ar>\d{{1,2}})(?:\.(?!\d)|、)|\((?P<pcn>[{_CN_ORD}]{{1,3}})\)|(?P<cn>[{_CN_ORD}]{{1,3}})、))"
)
_SENTENCE_END = re.compile(r"[。!?]+")
_PAST_SECTION = re.compile(r"回顾|总结|成效|完成情况|执行情况|主要成绩|工作成绩|取得的成绩|成绩单")
# a short line that heads what follows without a numbered marker (■ 2024年成绩单, 今年预期目标)
_BLOCK_HEAD = re.compile(r"^[\s■◆●▲★□◇○•·—\-]*(?P<head>[^,。;:!?]{2,24})$")
_FUTURE_HEAD = re.compile(r"目标|任务|计划|安排|重点工作|工作要点|打算|思路")
_URL = re.compile(r"(?:https?://|www\.)\S+")


def _ordinal(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(_cn_value(text))


@attrs.frozen
class _Segment:
    """A piece of a line: a heading marker (or none) and the text after it."""

    level: str | None
    number: int | None
    text: str
    norm: str
    line: int = 0


@attrs.frozen
class _Sentence:
    text: str
    norm: str
    section: str
    section_no: int
    item: int | None
    past: bool
    line: int = 0


def _segments(text: str) -> list[_Segment]:
    """Split the text into lines, and lines at markers that follow a full stop in sequence."""
    out: list[_Segment] = []
    last: dict[str, int] = {}
    for line_no, line in enumerate(_logical_lines(text)):
        norm_line = _normalise(line)
        for name, pattern in _MARKERS:
            head = pattern.match(norm_line)
            if head:
                last[name] = _ordinal(head[1])
                break
        cuts = [0]
        for m in _MIDLINE_MARKER.finditer(norm_line):
            kind, raw = (
                ("arabic", m["ar"])
                if m["ar"]
                else ("paren_cn", m["pcn"])
                if m["pcn"]
                else ("cn", m["cn"])
            )
            if _ordinal(raw) == last.get(kind, 0) + 1:
                cuts.append(m.end())
                last[kind] = _ordinal(raw)
        cuts.append(len(line))
        for a, b in itertools.pairwise(cuts):
            piece, norm = line[a:b], norm_line[a:b]
            level: str | None = None
            number: int | None = None
            for name, pattern in _MARKERS:
                marker = pattern.match(norm)
                if marker:
                    level, number = name, _ordinal(marker[1])
                    piece, norm = piece[marker.end() :], norm[marker.end() :]
                    last[name] = number
                    break
            if piece.strip() or level:
                out.append(
                    _Segment(level=level, number=number, text=piece, norm=norm, line=line_no)
                )
    return out


_BULLET = re.compile(r"^\s*[■◆●▲★□◇○•·]|^\s*——")


def _logical_lines(text: str) -> list[str]:
    """Return the non-empty lines, re-joining body text broken mid-sentence (copied from PDFs).

    A line is continued by the next when it holds a comma (body text, not a heading), does not
    end a sentence, and the next line does not start with a marker.
    """
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        norm = _normalise(line)
        if out:
            prev = _normalise(out[-1])
            continued = (
                len(prev) >= 20
                and "," in prev
                and prev[-1] not in "。!?;:”)》"
                and not any(pattern.match(norm) for _, pattern in _MARKERS)
                and not _BULLET.match(norm)
                and not _BULLET.match(prev)
                # a short line without punctuation is a heading (今年重点工作), not a line's end
                and not (len(norm) <= 20 and not re.search(r"[,。;:!?、]", norm))
            )
            if continued:
                out[-1] += line
                continue
        out.append(line)
    return out


def _heading_title(segment: _Segment, marker: str) -> str:
    head = segment.text.strip()
    stop = _SENTENCE_END.search(_normalise(head))
    if stop:
        head = head[: stop.start()]
    return marker + head.strip()


def _structure(text: str) -> list[_Sentence]:
    """Return the sentences of the text with the section and item each stands under."""
    segments = _segments(text)
    present = {s.level for s in segments if s.level}
    item_level: str | None
    if "arabic" in present:
        item_level = "arabic"
    elif "paren_ar" in present:
        item_level = "paren_ar"
    elif "paren_cn" in present:
        item_level = "paren_cn"
    else:
        item_level = None
    item_rank = _LEVEL_RANK[item_level] if item_level else 99
    section_levels = [
        lv for lv in ("cn", "paren_cn") if lv in present and _LEVEL_RANK[lv] < item_rank
    ]
    headings: dict[str, str] = {}
    section_no = 0
    item: int | None = None
    out: list[_Sentence] = []
    past_block = False
    for seg in segments:
        block = _BLOCK_HEAD.match(seg.norm) if seg.level is None else None
        if block and _PAST_SECTION.search(block["head"]):
            past_block = True
        elif (block and _FUTURE_HEAD.search(block["head"])) or seg.level in section_levels:
            past_block = False
        if seg.level in section_levels:
            rank = _LEVEL_RANK[seg.level]
            for lv in list(headings):
                if _LEVEL_RANK[lv] >= rank:
                    del headings[lv]
            marker = (
                f"{_cn_numeral(seg.number or 0)}、"
                if seg.level == "cn"
                else f"（{_cn_numeral(seg.number or 0)}）"
            )
            headings[seg.level] = _heading_title(seg, marker)
            if seg.level == section_levels[0]:
                section_no += 1
            item = None
        elif seg.level == item_level:
            item = seg.number
        section = " ".join(headings[lv] for lv in section_levels if lv in headings)
        past = past_block or bool(_PAST_SECTION.search(section))
        start = 0
        for m in [*_SENTENCE_END.finditer(seg.norm), None]:
            end = m.start() if m else len(seg.norm)
            nxt = m.end() if m else len(seg.norm)
            raw, norm = seg.text[start:end], seg.norm[start:end]
            lead = len(norm) - len(norm.lstrip())
            trail = len(norm.rstrip())
            if norm.strip():
                out.append(
                    _Sentence(
                        text=raw[lead:trail],
                        norm=norm[lead:trail],
                        section=section,
                        section_no=section_no,
                        item=item,
                        past=past,
                        line=seg.line,
                    )
                )
            start = nxt
    return out


def _cn_numeral(n: int) -> str:
    """Write 1..99 in Chinese numerals (for section markers)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


# --------------------------------------------------------------------------- wording

_SOFT = "力争|争取|力求|努力|争创|冲刺"
_MODAL = re.compile(rf"(?P<soft>{_SOFT})|(?P<hard>确保)")
_TIME = re.compile(
    r"(?:(?P<year>(?:19|20)\d{2})\s*年?\s*)?"
    r"(?:(?P<ye>年内|年底前|年底|年末|今年内|本年度内|本年度|年度内|全年|下半年|四季度末|第四季度|四季度)"
    r"|(?P<h1>上半年|年中|二季度末|第二季度|二季度)"
    r"|(?P<q1>一季度末|第一季度|一季度)"
    r"|(?P<q3>前三季度|三季度末|第三季度|三季度)"
    r"|(?P<month>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*(?:(?P<day>\d{1,2})\s*[日号])?\s*(?P<end>底|末)?\s*(?P<before>前|之前|以前)?)"
)
# nouns that begin with a rule word: 增加值 is value added, not 增加 (an increase)
_NOUNS = ("增加值",)


@attrs.frozen
class _Wording:
    """The drafting of every registered kind (its `Drafting`), as the drafter reads with it.

    Built for each draft from the kinds registered then, so a user's kind with words of its own
    is read like a built-in one. One regex, longest words first, so that 不低于 is never read as
    低于 nor 提高到 as 提高. The drafter asks it for a kind by its role (`DraftRole`), never by
    a kind's name.
    """

    kind_of: dict[str, str]  # word → kind name
    keyword: re.Pattern[str]  # any rule word
    aim: re.Pattern[str]  # words that commit a clause to a future value
    trail: re.Pattern[str]  # rule and modal words trailing a subject
    users: frozenset[str]  # kinds with words and no role: read plainly, as figure and unit
    drafting: dict[str, Drafting]  # kind name → how it is drafted
    by_role: dict[DraftRole, str]  # role → the first registered kind that takes it
    nouns: tuple[tuple[str, tuple[str, ...]], ...]  # rise kinds and the subject nouns naming them

    @classmethod
    def of_registered(cls) -> _Wording:
        kind_of: dict[str, str] = {}
        drafting: dict[str, Drafting] = {}
        by_role: dict[DraftRole, str] = {}
        for name in rule_kinds():
            kind = rule_kind(name)
            if kind is None:
                continue
            drafting[name] = d = drafting_of(kind)
            for word in d.words:
                kind_of.setdefault(word, name)
            if d.role is not None:
                by_role.setdefault(d.role, name)
        words = sorted(kind_of, key=len, reverse=True)
        patterns = [_word_pattern(w) for w in words]
        return cls(
            kind_of=kind_of,
            keyword=re.compile("|".join(f"(?:{p})" for p in patterns)),
            aim=re.compile("|".join(patterns) + _AIM_EXTRA),
            trail=re.compile("(?:" + "|".join(re.escape(w) for w in words) + _TRAIL_EXTRA),
            users=frozenset(n for n in kind_of.values() if drafting[n].role is None),
            drafting=drafting,
            by_role=by_role,
            nouns=tuple(
                (n, d.nouns) for n, d in drafting.items() if d.role is DraftRole.RISE and d.nouns
            ),
        )

    def of(self, name: str) -> Drafting:
        """Return the drafting of a kind by name (the default for a hint that names no kind)."""
        return self.drafting.get(name) or drafting_of(None)

    def role(self, name: str) -> DraftRole | None:
        """Return the role of a kind by name (None for a plain kind or no kind)."""
        return self.of(name).role

    def kind_for(self, role: DraftRole) -> str:
        """Return the kind the text's shape chooses for ``role``: the first registered to take it."""
        return self.by_role[role]  # the built-in kinds take every role, so it is always there

    def noun_kind(self, subject: str) -> str:
        """Return the rise kind whose nouns the subject names (增速, 增长率 …), or ''."""
        for name, nouns in self.nouns:
            if any(n in subject for n in nouns):
                return name
        return ""

    def gloss(self, name: str) -> str:
        """Return how review notes name a reading of the kind."""
        return self.of(name).gloss or name


def _word_pattern(word: str) -> str:
    nouns = [n[len(word) :] for n in _NOUNS if n.startswith(word) and n != word]
    return re.escape(word) + (f"(?!{'|'.join(map(re.escape, nouns))})" if nouns else "")


_FROM = re.compile(r"(?:由|从)\s*$")
_TO = re.compile(
    r"^\s*(?:以上|左右)?\s*(?:提高|提升|增加|增长|扩大|降低|下降|减少|缩小|压缩|压减|降|升)\s*(?:到|至)"
)
_EACH = re.compile(r"^\s*(?:各(?![类项种])|每个|每一|每家|每所)")
_INCENTIVE_AFTER = re.compile(r"^\s*的?(?:奖励|补助|补贴|资助|支持|奖补)")
_QUALIFIER = re.compile(r"^\s*(?P<q>及以上|以上|以内|以下|之内|左右|上下|内)?")
_FLOW_VERBS = re.compile(
    r"新增|新认定|新建|新开工|新引进|新培育|新设|引育|引进|培育|培养|招引|引培|组建|认定|实施|开展|举办|"
    r"组织|签约|完成|实现|争取|获批|转化|登记|输送|服务|帮扶|带动|吸引|接待|发放|投放|兑现|撬动|融资|助力|"
    r"新入库|入库|入选|解决|建设|建成|打造|推动"
)
_STOCK_WORDS = re.compile(r"达到|总数|总量|累计|保有量|拥有量|存量|余额|规模|总计|数量|家数|个数")
_LEVEL_WORDS = re.compile(
    r"率|比重|占比|比例|份额|强度|指数|密度|拥有量|人均|每万|每千|平均|浓度|水平|时限|时间|时长|周期|天数"
)
_MEASURABLE = re.compile(
    r"(?:比重|占比|比例|份额|率|强度|指数|投入|支出|总量|规模|数量|人数|家数|个数|产值|收入|增加值|营收|"
    r"成交额|金额|额|密度|拥有量|贡献率)$"
)
_INCREASE = re.compile(
    r"(?P<adv>逐步|持续|稳步|不断|进一步|逐年|明显|显著|大幅|稳定)(?P<verb>提高|提升|增长|增加|上升|扩大|增强)\s*$"
)
_RANK_VERBS = r"(?:位居|位列|排名|排位|排在|稳居|保持|进入|跻身|挺进|晋级|跃居|达到|居)"
_RANK_NUM = r"(?P<n>\d{1,3}|[一二两三四五六七八九十]{1,3})"
_RANK_TOP = re.compile(
    rf"{_RANK_VERBS}[^,;:]{{0,20}}?前\s*{_RANK_NUM}\s*(?:位|名|强)?(?!\s*(?:季度|个月|月|年|天|批|期|次|\d))"
)
_RANK_ORD = re.compile(
    rf"{_RANK_VERBS}[^,;:]{{0,20}}?第\s*{_RANK_NUM}\s*(?:位|名)?(?![产方批次期届])"
)
_RANK_FRONT = re.compile(rf"{_RANK_VERBS}[^,;:]{{0,20}}?前列")
_INCENTIVE = re.compile(
    r"给予|奖励|奖补|补助|补贴|资助|最高|最多|贴息|每家|每个|每人|每项|每户|一次性"
)
_PAST_CLAUSE = re.compile(
    r"已经|已有|已达|已建|已完成|已认定|已培育|已累计|截至目前|目前已|现有|去年|上年(?![增提下减])|"
    r"累计(?:建成|发放|完成|实现|认定|培育|引进|服务)|共(?:组织|举办|完成|发放|服务|帮助)|"
    r"共有|现已|目前(?:全市|全省|全县|全区)?(?:共|已|有)"
)
# 超额完成, 圆满完成: the sentence reports what was done
_FUTURE = re.compile(r"今年|年内|全年|明年|力争|争取|确保|(?:到|至)\s*(?:19|20)\d{2}\s*年")
_DONE = re.compile(r"超额完成|圆满完成|全部完成|顺利完成|均已完成")
# 截至2018年底, 截止目前: a figure reached by a date before the plan
_UNTIL = re.compile(r"^(?:截至|截止|到)\s*(?:目前|当前|现在|(?P<y>(?:19|20)\d{2})\s*年)")
# 到2025年, 2025年, …: the year a multi-year plan's sentence sets its targets for
_TARGET_YEAR = re.compile(
    r"(?:到|至|于)?\s*(?P<y>(?:19|20)\d{2})\s*年\s*(?:底|末|前|底前)?\s*[,，]?"
)
# 拟安排, 拟发行, 拟按: planned allocations (a budget), not targets to be monitored
_ALLOCATION = re.compile(r"拟(?:安排|发行|按|新增|下达|投入|使用|筹集|拨付|增发|调增)")
# a speaker's report (…在政府工作报告中表示,2021年,…): what follows the lead is told of that year
_REPORTED = r"[^,。;]{0,40}?(?:表示|指出|介绍|通报|宣布)\s*[,:]\s*"
_PAST_START = re.compile(
    rf"^(?:{_REPORTED})?(?:过去一年|过去的一年|过去五年|一年来|[两三四五十]年来|这一年|这五年|近年来|"
    r"多年来|去年|上年|(?P<y>\d{4})\s*年\s*(?:以来)?\s*[,，])"
)
# a year a speaker reports on is not a year the text sets targets for
_REPORTED_YEAR = re.compile(r"(?:表示|指出|介绍|通报|宣布)\s*[,:]\s*((?:19|20)\d{2})\s*年\s*[,:]")
_ENUM = r"\(\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*\)|[①-⑳]"
_LEAD = re.compile(
    rf"^(?:\s|[,;:、]|{_ENUM}|{_SOFT}|确保|并且|并|同时|其中|另外|以及|和|及|与|全年|年内|今年|到年底|年底前|年底|上半年|下半年|"
    r"积极|全力|努力|进一步|实现|[一二三四]季度(?:末)?|第[一二三四]季度|"
    r"(?:\d{1,2}|[一二三四五六七八九十]{1,2})月(?:\d{1,2}[日号])?(?:底|末)?(?:前|之前|以前)?)+"
)
_TRAIL_EXTRA = rf"|{_SOFT}|确保|分别|比上年|较上年|比去年|同比|的目标|目标|以及|和|及|与|为|在|于|的|\s|[,;:、])+$"
_TITLE_LEAD = re.compile(rf"^(?:\s|[,;:、]|{_ENUM}|{_SOFT}|确保|并且|并|同时|另外)+")
_SHARE = re.compile(r"^(?P<num>.*?)(?:占|相当于)(?P<den>[^,;]+?)(?:的)?(?:比重|比例|份额|的比|比)")
# subjects whose lower values are better: a bare or 左右 figure for them is a cap
_LOWER_BETTER = re.compile(
    r"失业率|涨幅|价格指数|价格总水平|能耗|排放|浓度|PM2\.5|PM10|死亡率|发生率|事故|赤字率|负债率|"
    r"不良贷款率|黑臭|重污染|劣[VⅤ5]类"
)
# …整治率, …处理率: the share dealt with, which should rise even for a bad thing (黑臭水体整治率)
_DONE_WELL = re.compile(
    r"(?:整治|治理|处理|达标|利用|消除|覆盖|普及|改善|削减|下降|优良)率|降幅|优良"
)
_WEAK_FLOOR = {"达到", "达", "保持在", "稳定在", "保持", "稳定"}
# X左右 (about X) of a figure: the band drafted around it, as a fraction of X
_ABOUT = 0.05
# 超过X, 突破X: more than X, not X itself; 低于X: less than X (DESIGN: strict where the text says so)
_STRICT_WORDS = {"超过": "more", "突破": "more", "超": "more", "高于": "more", "多于": "more"}
_STRICT_WORDS |= {"低于": "less", "少于": "less", "小于": "less"}

# milestones
_DOC_VERBS = {"出台", "印发", "制定", "制订", "发布", "修订", "编制", "编制完成"}
_MS_LABELS = {
    "出台": "issued",
    "印发": "issued",
    "制定": "drafted",
    "制订": "drafted",
    "发布": "published",
    "修订": "revised",
    "编制": "compiled",
    "编制完成": "compiled",
    "立项": "approved",
    "获批": "approved",
    "动工": "started",
    "开工": "started",
    "启动": "launched",
    "竣工验收": "accepted",
    "竣工": "completed",
    "验收": "accepted",
    "建成": "built",
    "投产": "producing",
    "投用": "in_use",
    "投入使用": "in_use",
    "启用": "in_use",
    "投运": "operating",
    "挂牌": "opened",
    "揭牌": "opened",
    "上线": "online",
    "开通": "opened",
    "通车": "opened",
    "签约": "signed",
    "完成": "done",
    "交付": "delivered",
}
_MS_VERB_RE = re.compile("|".join(sorted(_MS_LABELS, key=len, reverse=True)))
_DOC_NOUN = re.compile(
    r"(?:方案|办法|意见|规划|计划|细则|条例|规定|指引|指南|标准|规范|清单|目录|制度|纲要|决定|通知|政策措施|》)$"
)
_ASSESSMENT_NOUN = re.compile(
    r"(?:评估|考核|验收|评审|审计|认定|备案|复核|普查|调查|编制|修编|修订|申报|建设|改造|搬迁|整改|评价)$"
)
_FACILITY_NOUN = re.compile(
    r"(?:项目|工程|中心|基地|园区|产业园|实验室|研究院|研究所|平台|医院|学校|大楼|场馆|馆|站|线|港|桥|厂|"
    r"系统|网|大道|公园|小区)$"
)
_VAGUE = re.compile(r"一批|若干|多个|一些|更多|各类|一系列|相关|有关|任务|各项工作")
_EFFORT = re.compile(
    r"(?:加快|推进|推动|加速|力促|促进|支持|鼓励|引导|谋划|抓好|做好|抓紧|协调)\S{0,4}$"
)
_EFFORT_LEAD = re.compile(
    r"^(?:加快推进|加快推动|加快|推进|推动|加速|力促|促进|抓好|做好|抓紧|全力|积极|全面|深入)+"
)
_EFFORT_TRAIL = re.compile(r"(?:建设|工作|进度|步伐|进程|的)+$")


# --------------------------------------------------------------------------- reading one sentence


@attrs.define
class _Qty:
    start: int
    end: int
    value: float
    unit: str
    raw: str
    low: float | None = None
    low_start: int | None = None
    scale: float = 1.0
    hint: str = ""
    notes: list[str] = attrs.Factory(list)


@attrs.define
class _Reading:
    """One target read from a sentence, before it becomes a Target.

    ``kind`` names the rule kind; '' is a plain figure not yet read as a floor or a cap.
    ``names`` names the indicators of a kind with several (share: numerator, denominator) by
    field; ``slug`` replaces the kind's id form where the reading is a special case of it.
    """

    kind: str
    start: int
    end: int
    title: str
    name: str
    binding: bool
    value: float | None = None
    high: float | None = None
    stretch: float | None = None
    unit: str = ""
    deadline: dt.date | None = None
    indicator_kind: IndicatorKind = IndicatorKind.CUMULATIVE
    indicator_unit: str = ""
    names: dict[str, str] = attrs.Factory(dict)
    slug: str = ""
    strict: bool = False
    bare: bool = False  # no rule word before the figure (…，力争7%)
    label: str = ""
    high_is_stretch: bool = False
    label_first: bool = False
    inherited: bool = False
    notes: list[str] = attrs.Factory(list)
    spans: list[tuple[int, int]] = attrs.Factory(list)


@attrs.define
class _Clause:
    start: int
    end: int


@attrs.frozen(kw_only=True)
class _Slot:
    """One number in its clause, with what the clause said before it."""

    clause: _Clause
    q: _Qty
    seg_start: int
    subject_end: int
    lo_start: int
    qual: str
    qual_end: int
    nxt_start: int
    last: bool
    prev_subject: str
    prev_kw: str
    flow_prefix: str


def _clauses(norm: str) -> list[_Clause]:
    """Split a sentence at , ; : (not inside 1,300 nor inside quotes)."""
    out: list[_Clause] = []
    start = 0
    depth = 0
    for i, ch in enumerate(norm):
        if ch in "“《(「【":
            depth += 1
        elif ch in "”》)」】":
            depth = max(0, depth - 1)
        elif ch in ",;:" and depth == 0:
            if (
                ch == ","
                and i
                and norm[i - 1].isdigit()
                and re.match(r"\d{3}(?!\d)", norm[i + 1 :])
            ):
                continue  # 1,300
            out.append(_Clause(start, i))
            start = i + 1
    out.append(_Clause(start, len(norm)))
    return [c for c in out if norm[c.start : c.end].strip()]


def _masks(norm: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Return (quoted or titled spans, year/date/URL spans)."""
    names = [
        (m.start(), m.end())
        for m in re.finditer(r"“[^”]*”|‘[^’]*’|《[^》]*》|\"[^\"]*\"|「[^」]*」|【[^】]*】", norm)
    ]
    dates = [
        (m.start(), m.end())
        for m in re.finditer(
            r"(?<!\d)(?:19|20)\d{2}\s*(?:[-—–~至到]\s*(?:19|20)\d{2}\s*)?年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?"
            r"|(?<!\d)(?:19|20)\d{2}[-/.]\d{1,2}(?:[-/.]\d{1,2})?(?!\d)",
            norm,
        )
    ]
    dates += [(m.start(), m.end()) for m in _URL.finditer(norm)]
    # enumerators inside a sentence: (1) … ;(2) …, and 1. 2. after a semicolon
    dates += [
        (m.start(), m.end())
        for m in re.finditer(rf"{_ENUM}|(?:^|(?<=[;]))\s*\d{{1,2}}\s*(?:\.(?!\d)|、)", norm)
    ]
    return names, dates


def _inside(spans: Iterable[tuple[int, int]], a: int, b: int) -> bool:
    return any(s < b and a < e for s, e in spans)


_QTY_RE = re.compile(
    rf"(?:(?P<ar>{_AR})\s*(?P<approx>余|多)?\s*(?P<mult>[十百千万亿]{{0,2}})|(?P<cn>{_CN}))\s*(?P<unit>{_UNIT_RE})?"
)
_DOUBLING = re.compile(r"翻\s*(?P<n>[一两二三])?\s*番|(?<![双两三])倍增(?=\s*(?:[,;:。]|$))")
_PERCENT_WORDS = re.compile(rf"(?P<k>百分之|千分之)(?P<n>{_AR}|{_CN})")
_BETWEEN_BEFORE = re.compile(
    rf"(?P<lo>{_AR}|{_CN})\s*(?P<lounit>{_UNIT_RE})?\s*(?:到|至|-|–|—|~)\s*$"
)
_MENTION_CN = re.compile(
    rf"(?<![第前])(?P<n>[二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*|[一][零〇一二两三四五六七八九十百千万亿]+)"
    rf"(?={_UNIT_RE}|大|类|种|级|倍|番)"
)

# words that commit a clause to a future value, before the number or right after it
# (with the rule words of every kind: `_Wording.aim`)
_AIM_EXTRA = (
    rf"|{_SOFT}|确保|计划|预计|目标|任务|不超|不少|至少|最少|"
    r"创建|创成|新改建|新改扩建|新增|净增|改造|修复|种植|播种|实施|培训|帮扶|接待|新备案|备案|入库|"
    r"改建|扩建|加装|筹集|推进|开设|开办|提供|完成|开工"
)
_QUALIFIER_AFTER = re.compile(r"^\s*(?:及以上|以上|以内|以下|之内|左右|上下)")
_SCOPE = re.compile(
    r"今年|年内|全年|本年|明年|下一年|计划|目标|预期|力争|争取|确保|(?:到|至)\s*(?:19|20)\d{2}\s*年|"
    r"(?:19|20)\d{2}\s*年\s*(?:底|末)?\s*前"
)
_SECTION_SCOPE = re.compile(r"目标|任务|计划|安排|预期|要点|指标")
# a document title: its numbers are part of the name
_DOC_TITLE = re.compile(
    r"(?:关于.{2,80}的(?:通知|意见|决定|批复|函|报告|通报)|"
    r"(?:工作要点|实施方案|行动方案|工作方案|行动计划|实施意见|若干意见|若干措施))"
    r"\s*(?:\([^)]*\))?\s*$"
)
_PLAN_DOC = re.compile(r"工作要点|工作计划|实施方案|行动方案|工作方案|行动计划|工作安排|目标任务")


def _similar(a: str, b: str) -> bool:
    """Tell whether two subjects name the same thing: a good part of the shorter is in the longer."""

    def core(name: str) -> str:
        name = re.sub(r"(?:19|20)\d{2}\s*年(?:底|末)?", "", _strip_share(name))
        return re.sub(r"^(?:提出了|提出|明确了|明确|要求|称)", "", name)

    a, b = sorted((core(a), core(b)), key=len)
    if not a:
        return False
    need = max(3, -(-len(a) * 3 // 5))  # 60% of the shorter, rounded up
    return any(a[i : i + need] in b for i in range(len(a) - need + 1))


# an index or score, whose figure has no unit: 科技创新指数达到160以上, 满意度得分90分 (分 is a unit)
_SCORE_BEFORE = re.compile(
    r"(?:指数|得分|评分|分值)\s*(?:达到|达|提高到|提升到|保持在|稳定在|不低于|超过)?\s*$"
)

# N次会议, N次全会: the ordinal of a meeting, not a count
_MEETING_AFTER = re.compile(
    r"^\s*(?:全体|常务|常委|扩大)?\s*(?:会议|全会|大会|党代会|代表大会|常委会|全体会议|集体学习|会)"
)
# N项措施, 21项重点工作, 十条内容, 七个方面: the plan counting its own parts
_COUNT_UNITS = {"项", "条", "个", "大", "类", "方面"}
_TASK_NOUN = re.compile(
    r"^\s*[\u4e00-\u9fff]{0,6}?(?:措施|举措|任务|实事|内容|方面|政策|条款|意见|文件|要点|(?<!站)工作(?![站室者]))"
)

# a quoted name that starts with a numeral: “四敢”, “一谷、一圈”, “三个三” (not “三峡…”)
_NOT_AN_ATTRIBUTE = (
    r"(?!(?:主要|工作|发展)?(?:目标|任务|要求))"  # 达450家的(主要)目标 is the target
)
_NUMERAL_NAME = re.compile(r"^(?:[二两三四五六七八九十](?!峡)|一[\u4e00-\u9fff]、一)")


@attrs.define
class _Context:
    """What the whole document tells the reading of each sentence."""

    start: int  # the plan's first year
    end: int  # the plan's last year (= start for a one-year plan)
    plan_doc: bool = False  # the title says the whole text is a plan (工作要点, 实施方案 …)
    carried_year: int | None = None  # the target year named earlier in the same paragraph
    line: int = -1
    allocation_line: int = -1  # a line where 拟… (planned allocations) began
    past_line: int = -1  # a line (paragraph) that opened with 过去一年, 2023年, …
    review: str = ""  # why the whole text reads as a review of a past year, not a plan
    seen: list[_Reading] = attrs.Factory(list)  # targets of earlier sentences
    only_year: int | None = None  # --year of a multi-year plan: draft this year's targets only
    period: tuple[int, int] | None = None  # the whole plan's years when only_year is set
    wording: _Wording = attrs.Factory(_Wording.of_registered)  # the kinds' rule words

    @property
    def multi_year(self) -> bool:
        return self.end > self.start


def _untracked(s: _Sentence, note: str) -> Finding:
    """Return a sentence with numbers left out of the draft, with the reason."""
    return Finding(kind="untracked", sentence=s.text, section=s.section, item=s.item, note=note)


class _SentenceReader:
    """Read the targets of one sentence; collect the numbers it leaves over."""

    def __init__(self, sentence: _Sentence, ctx: _Context, *, title: bool = False) -> None:
        self.s = sentence
        self.ctx = ctx
        self.norm = sentence.norm
        self.text = sentence.text
        self.year = ctx.start
        self.title = title
        self.names, self.dates = _masks(self.norm)
        self.rejected: dict[int, str] = {}
        if ctx.line != sentence.line:
            ctx.carried_year = None
            ctx.line = sentence.line
        self.year_marks = [
            (m.start(), int(m["y"]))
            for m in _TARGET_YEAR.finditer(self.norm)
            if ctx.start <= int(m["y"]) <= ctx.end
        ]
        allocation = _ALLOCATION.search(self.norm)
        if ctx.allocation_line == sentence.line:
            self.allocation_from: int | None = 0
        elif allocation is not None:
            self.allocation_from = allocation.start()
            ctx.allocation_line = sentence.line
        else:
            self.allocation_from = None
        self.modals = [(m.start(), m["hard"] is not None) for m in _MODAL.finditer(self.norm)]
        self.times = [m for m in _TIME.finditer(self.norm) if not self._bad_time(m)]
        self.readings: list[_Reading] = []
        self.consumed: list[tuple[int, int]] = []

    # ---- context

    def _bad_time(self, m: re.Match[str]) -> bool:
        if m["month"] is not None:
            if _inside(self.names, m.start(), m.end()):
                return True
            try:
                month = _ordinal(m["month"])
            except ValueError:
                return True
            if not 1 <= month <= 12:
                return True
            before = self.norm[max(0, m.start() - 1) : m.start()]
            if before and before in "-–—~至到":
                return True  # 1-6月 is a span of months, not a date
            if m["end"] is None and m["before"] is None and m["day"] is None:
                # a bare month is a date only as 6月份 or ahead of a comma ("6月,…")
                after = self.norm[m.end() : m.end() + 1]
                return after not in ("份", "", ",", ";") and not after.isspace()
        return False

    def binding_at(self, pos: int) -> bool:
        state = True
        for start, hard in self.modals:
            if start < pos:
                state = hard
        return state

    def time_at(self, clause: _Clause, pos: int) -> re.Match[str] | None:
        found: re.Match[str] | None = None
        for m in self.times:
            if m.start() < pos or clause.start <= m.start() < clause.end:
                found = m  # the last time word before the number, or one in its clause
        return found

    def target_year(self, pos: int) -> int | None:
        """Return the year a multi-year plan's sentence names for the number at ``pos``."""
        found = self.ctx.carried_year
        for start, year in self.year_marks:
            if start < pos:
                found = year
        return found

    def deadline_of(self, m: re.Match[str], notes: list[str]) -> dt.date:
        ctx = self.ctx
        default = self.target_year(m.start()) or self.year
        year = int(m["year"]) if m["year"] else default
        if not ctx.start <= year <= ctx.end:
            span = str(ctx.start) if not ctx.multi_year else f"{ctx.start}–{ctx.end}"
            notes.append(
                f"the text dates this to {year}, outside the plan's period {span}: "
                "the deadline is set to the plan's end; check whether it belongs in this plan"
            )
            year = ctx.end
        if m["h1"]:
            return dt.date(year, 6, 30)
        if m["q1"]:
            return dt.date(year, 3, 31)
        if m["q3"]:
            return dt.date(year, 9, 30)
        if m["month"]:
            month = _ordinal(m["month"])
            last = calendar.monthrange(year, month)[1]
            if m["day"]:
                return dt.date(year, month, min(int(m["day"]), last))
            if m["before"] and not m["end"]:
                notes.append(
                    f"“{m.group(0).strip()}” read as by the end of month {month - 1 or 1}; "
                    "check the deadline"
                )
                if month == 1:
                    return dt.date(year, 1, 31)
                return dt.date(year, month - 1, calendar.monthrange(year, month - 1)[1])
            return dt.date(year, month, last)
        return dt.date(year, 12, 31)

    def is_past(self, clause: _Clause) -> bool:
        if self.s.past:
            return True
        if self.ctx.past_line == self.s.line and not _FUTURE.search(self.norm):
            return True  # a paragraph that opened with 过去一年… goes on about the past
        start = _PAST_START.match(self.norm.strip())
        if start and (start["y"] is None or int(start["y"]) < self.year):
            self.ctx.past_line = self.s.line
            return True
        until = _UNTIL.match(self.norm.strip())
        if until and (until["y"] is None or int(until["y"]) < self.year):
            return True
        if _DONE.search(self.norm) and not _FUTURE.search(self.norm):
            self.ctx.past_line = self.s.line  # the paragraph reports what was done
            return True
        return bool(_PAST_CLAUSE.search(self.norm[clause.start : clause.end]))

    # ---- numbers

    def quantities(self) -> list[_Qty]:
        out: list[_Qty] = []
        for m in _QTY_RE.finditer(self.norm):
            q = self._quantity(m)
            if q is not None:
                out.append(q)
        for m in _DOUBLING.finditer(self.norm):
            if not _inside(self.names, m.start(), m.end()):
                times = 1 if m["n"] in (None, "一") else int(parse_number(m["n"]))
                out.append(
                    _Qty(
                        start=m.start(),
                        end=m.end(),
                        value=100.0 * (2**times - 1),
                        unit="%",
                        raw=m.group(0),
                        hint=self.ctx.wording.kind_for(DraftRole.RISE),
                        notes=[f"{m.group(0)} read as growth of {100 * (2**times - 1)}%"],
                    )
                )
        for m in _PERCENT_WORDS.finditer(self.norm):
            if _inside(self.names, m.start(), m.end()):
                continue
            try:
                value = parse_number(m["n"])
            except ValueError:
                continue
            unit = "%" if m["k"] == "百分之" else "‰"
            out.append(_Qty(start=m.start(), end=m.end(), value=value, unit=unit, raw=m.group(0)))
        out.sort(key=lambda q: q.start)
        for q in out:
            self._find_low(q)
        # 6%-6.5%: the low end is part of the range, not a number of its own
        lows = {q.low_start for q in out if q.low_start is not None}
        return [q for q in out if q.start not in lows]

    def _quantity(self, m: re.Match[str]) -> _Qty | None:
        start, end = m.start(), m.end()
        norm = self.norm
        unit_text = m["unit"]
        if (
            m["ar"] is not None
            and not unit_text
            and not m["mult"]
            and _SCORE_BEFORE.search(norm[max(0, start - 12) : start])
            and not _inside(self.dates, start, end)
        ):
            # 科技创新指数达到160以上: an index or a score has no unit
            return _Qty(
                start=start, end=end, value=float(m["ar"].replace(",", "")), unit="", raw=m.group(0)
            )
        if m["ar"] is not None and not unit_text and not m["mult"].endswith("亿"):
            return None
        if m["cn"] is not None and not unit_text:
            return None
        prev = norm[start - 1] if start else ""
        nxt = norm[end] if end < len(norm) else ""
        if _inside(self.dates, start, end):
            return None
        if _inside(self.names, start, end):
            self.rejected[start] = "inside quotes or a title: part of a name"
            return None
        if prev and (prev.isascii() and (prev.isalnum() or prev in "._")):
            self.rejected[start] = "part of a code or name"
            return None
        if (
            prev == "+"
            or nxt == "+"
            or norm[m.end("ar") if m["ar"] else m.end("cn") :].startswith("+")
        ):
            self.rejected[start] = "part of a name such as 1+N"
            return None
        if prev in ("第", "前"):
            return None  # ordinals; ranks are read separately
        if prev == "每":
            self.rejected[start] = "a rate (每…)"
            return None
        if prev == "近":
            self.rejected[start] = (
                "an approximate report (近…): plans set targets, not near-figures"
            )
            return None
        if unit_text and nxt and nxt in _BAD_NEXT.get(unit_text[-1], ""):
            return None
        after = norm[end:]
        if (
            prev == "过"
            and norm[max(0, start - 2) : start] not in ("超过", "通过")
            and re.match(r"^[\u4e00-\u9fff]", after)
            and not re.match(r"^[的以左]", after)
        ):
            self.rejected[start] = "a size class of what follows (过百万人景区), not a target"
            return None
        if unit_text == "次" and (
            _MEETING_AFTER.match(after) or norm[max(0, start - 3) : start].endswith("届")
        ):
            self.rejected[start] = "the ordinal of a meeting or congress (届…次会议)"
            return None
        if unit_text in _COUNT_UNITS and _TASK_NOUN.match(after):
            self.rejected[start] = (
                "a count of the plan's own measures, tasks or parts (N项措施, N个方面), not a target"
            )
            return None
        value, unit, scale, notes = self._value_unit(m)
        if value is None:
            return None
        if m["ar"] is not None and m["approx"]:
            notes.append(f"“{m['approx']}” (more than) read as the figure itself")
        if m["cn"] is not None:
            cn = m["cn"]
            if value < 2 and not any(ch in cn for ch in "十百千万亿"):
                return None  # 一批, 一个: not a count
            if unit_text == "个" and not re.match(
                r"^\s*(?:以上|左右)?\s*(?:[,;、。]|$)", norm[end:]
            ):
                self.rejected[start] = (
                    "a Chinese numeral with 个 before a noun (a slogan such as 两个…)"
                )
                return None
        hint = ""
        if unit == "%" and re.match(rf"^\s*(?:以上|以下)?\s*的{_NOT_AN_ATTRIBUTE}", after):
            hint = "share_of"  # 20%的村集体…, 70%以上的城市…: a share of things
        elif re.match(
            rf"^\s*(?:以上|以下)?\s*(?:的{_NOT_AN_ATTRIBUTE}|级|规模|量级|体量)", after
        ) or (unit in _MONEY_UNITS and re.match(r"^\s*(?:以上|以下)\s*[企项产工重大龙园]", after)):
            self.rejected[start] = "an attribute of a noun (…级, …以上的)"
            return None
        return _Qty(
            start=start,
            end=end,
            value=value,
            unit=unit,
            raw=m.group(0),
            scale=scale,
            hint=hint,
            notes=notes,
        )

    def _value_unit(self, m: re.Match[str]) -> tuple[float | None, str, float, list[str]]:
        """Return (value, unit, the multiplier applied to the written number, notes)."""
        notes: list[str] = []
        unit_text = m["unit"] or ""
        if m["ar"] is not None:
            number = float(m["ar"].replace(",", ""))
            mult = m["mult"]
        else:
            cn = m["cn"]
            mult = ""
            if cn[-1] in "万亿" and len(cn) > 1 and (cn[-1] + unit_text) in _UNITS:
                cn, mult = cn[:-1], cn[-1]
            try:
                number = _cn_value(cn)
            except ValueError:
                return None, "", 1.0, notes
        if not unit_text:
            # only "3亿": money is by far the likeliest reading
            notes.append("a bare 亿 read as 亿元")
            scale = _multiplier(mult[:-1])
            return number * scale, "亿元", scale, notes
        if mult and (mult + unit_text) in _UNITS:
            return number, _UNITS[mult + unit_text][0], 1.0, notes
        if mult and (mult[-1] + unit_text) in _UNITS:
            scale = _multiplier(mult[:-1])
            return number * scale, _UNITS[mult[-1] + unit_text][0], scale, notes
        scale = _multiplier(mult)
        return number * scale, _UNITS[unit_text][0], scale, notes

    def _find_low(self, q: _Qty) -> None:
        m = _BETWEEN_BEFORE.search(self.norm[: q.start])
        if m is None or _inside(self.dates, m.start(), m.end()):
            return
        before = self.norm[m.start() - 1] if m.start() else ""
        if before and before.isascii() and (before.isalnum() or before in "._"):
            return
        if m["lounit"] and _UNITS[m["lounit"]][0] != q.unit:
            return
        try:
            low = parse_number(m["lo"])
        except ValueError:
            return
        if not m["lounit"]:
            low *= q.scale  # 1-1.5万家: the 万 of the upper end applies to both
        if low >= q.value:
            return
        q.low, q.low_start = low, m.start()

    # ---- reading

    def read(self) -> None:
        clauses = _clauses(self.norm)
        quantities = self.quantities()
        if self.title or self.ctx.review:
            why = self.ctx.review or "part of the document's title"
            for q in quantities:
                self.rejected.setdefault(q.start, why)
            return
        if self.allocation_from is not None:
            for q in quantities:
                if q.start >= self.allocation_from:
                    self.rejected.setdefault(
                        q.start, "a planned allocation (拟安排, 拟发行 …): a budget, not a target"
                    )
            quantities = [q for q in quantities if q.start < self.allocation_from]
        prev_subject = ""
        for ci, clause in enumerate(clauses):
            past = self.is_past(clause)
            ranks = self._ranks(clause, prev_subject)
            inside = [q for q in quantities if clause.start <= q.start < clause.end]
            inside = [q for q in inside if not any(r.start <= q.start < r.end for r in ranks)]
            if past:
                for q in inside:
                    self.rejected.setdefault(
                        q.start, "a past figure (已…, 截至…, 上年, a review section)"
                    )
                for r in ranks:
                    self.rejected.setdefault(r.start, "a past figure")
                continue
            inside = [q for q in inside if self._committed(clause, q)]
            readings = list(ranks)
            readings += self._quantity_readings(clause, inside, prev_subject)
            if not readings:
                readings += self._increase(clause, prev_subject)
            if not readings:
                readings += self._milestones(clause, clauses[ci - 1] if ci else None)
            for r in readings:
                if r.name and not r.inherited and not _display_of(r.kind).done_or_not:
                    prev_subject = _strip_share(r.name)
            self.readings += readings
        self._merge_stretch()
        self._drop_repeats()
        if self.ctx.only_year is not None and self.ctx.period is not None:
            first, last = self.ctx.period
            kept = []
            for r in self.readings:
                when = r.deadline.year if r.deadline else (self.target_year(r.start) or last)
                if when == self.ctx.only_year:
                    kept.append(r)
                else:
                    self.rejected[r.start] = (
                        f"a target for {when}, not {self.ctx.only_year} (the plan runs "
                        f"{first}–{last}; leave --year out to draft every year)"
                    )
            self.readings = kept
        for r in self.readings:
            self.consumed += [(r.start, r.end), *r.spans]
        if self.year_marks:
            self.ctx.carried_year = self.year_marks[-1][1]
        self.ctx.seen += self.readings

    def _committed(self, clause: _Clause, q: _Qty) -> bool:
        """Tell whether the number's clause commits to a future value; say why not if not."""
        norm = self.norm
        if q.hint or self.ctx.plan_doc or _SECTION_SCOPE.search(self.s.section):
            return True
        before = norm[clause.start : q.start]
        after = norm[q.end : q.end + 3]
        if (
            self.ctx.wording.aim.search(before)
            or _FLOW_VERBS.search(before)
            or _QUALIFIER_AFTER.match(after)
            or _SCOPE.search(norm[: q.start])
        ):
            return True
        self.rejected.setdefault(
            q.start,
            "no commitment in its clause (no 达到, 以上, 新增, 增长, 力争 … nor 今年, 到2025年): "
            "a statement of fact",
        )
        return False

    def _drop_repeats(self) -> None:
        """Drop a target that repeats one of an earlier sentence (a headline, a summary)."""
        kept: list[_Reading] = []
        for r in self.readings:
            twin = next(
                (
                    p
                    for p in self.ctx.seen
                    if r.value is not None
                    and (p.kind, p.slug, p.value, p.unit, p.deadline)
                    == (r.kind, r.slug, r.value, r.unit, r.deadline)
                    and (_similar(p.name, r.name) or "目标" in r.title)
                ),
                None,
            )
            if twin is None:
                kept.append(r)
            else:
                self.rejected[r.start] = (
                    f"repeats the target “{_short(twin.title, 40)}” drafted before"
                )
        self.readings = kept

    def _trim(self, a: int, b: int, *, title: bool = False) -> tuple[int, int]:
        """Return (a, b) narrowed past leading modal/time words and trailing rule words."""
        seg = self.norm[a:b]
        lead = (_TITLE_LEAD if title else _LEAD).match(seg)
        lo = lead.end() if lead else 0
        if title:
            hi = len(seg.rstrip(" ,;:、"))
        else:
            trail = self.ctx.wording.trail.search(seg[lo:])
            hi = lo + trail.start() if trail else len(seg)
        return a + lo, a + max(lo, hi)

    def _slice(self, a: int, b: int) -> str:
        return self.text[a:b].strip()

    def _subject(self, a: int, b: int) -> str:
        lo, hi = self._trim(a, b)
        return self._slice(lo, hi)

    def _quantity_readings(
        self, clause: _Clause, qs: Sequence[_Qty], prev_subject: str
    ) -> list[_Reading]:
        out: list[_Reading] = []
        seg_start = clause.start
        prev_kw = ""
        flow_prefix = ""
        baseline: _Qty | None = None
        subject_end: int | None = None
        share_of: _Reading | None = None
        for i, q in enumerate(qs):
            if q.start in self.rejected:
                continue  # an attribute (营收10亿元以上企业) stays part of the next subject
            if share_of is not None:
                self.rejected[q.start] = (
                    f"a threshold that says what the share {share_of.value:g}% counts"
                )
                continue
            nxt_start = qs[i + 1].start if i + 1 < len(qs) else clause.end
            qual = _QUALIFIER.match(self.norm[q.end : nxt_start])
            qual_word = qual["q"] if qual and qual["q"] else ""
            qual_end = q.end + (qual.end() if qual else 0)
            lo_start = q.low_start if q.low_start is not None else q.start
            pre = self.norm[seg_start:lo_start]
            after = self.norm[qual_end:nxt_start]
            incentive = _INCENTIVE.search(pre[-10:])
            if (
                incentive
                and q.unit not in _MONEY_UNITS
                and _FLOW_VERBS.search(pre[-10:][incentive.end() :])
            ):
                incentive = None  # 补助建设300所幼儿园: what the subsidy builds is the target
            if incentive or _INCENTIVE_AFTER.match(after):
                self.rejected[q.start] = "an incentive or subsidy amount, not a target"
                seg_start = qual_end
                continue
            if _EACH.match(self.norm[clause.start : lo_start]):
                self.rejected[q.start] = (
                    "a requirement for each place or unit (各…, 每个…), not a total"
                )
                seg_start = qual_end
                continue
            from_word = _FROM.search(pre)
            if i + 1 < len(qs) and from_word and _TO.match(self.norm[q.end : nxt_start]):
                baseline, subject_end = q, seg_start + from_word.start()
                continue  # 由X提高到Y: X is the level Y starts from
            slot = _Slot(
                clause=clause,
                q=q,
                seg_start=seg_start,
                subject_end=subject_end if subject_end is not None else lo_start,
                lo_start=lo_start,
                qual=qual_word,
                qual_end=qual_end,
                nxt_start=nxt_start,
                last=i + 1 == len(qs),
                prev_subject=prev_subject,
                prev_kw=prev_kw,
                flow_prefix=flow_prefix,
            )
            reading, kw, tail_end = self._classify(slot)
            if q.hint == "share_of":
                share_of = reading
                rest = self._slice(*self._trim(qual_end, clause.end, title=True))
                reading.name = rest.lstrip("的") + "的比例"
                reading.indicator_kind = IndicatorKind.LEVEL
                reading.notes.append(f"{q.raw.strip()}的…: read as the share of those that do")
            if baseline is not None:
                reading.notes.append(
                    f"the text gives the starting level {baseline.raw.strip()} (a baseline)"
                )
                reading.spans.append((baseline.start, baseline.end))
                reading.start = min(reading.start, baseline.start)
                baseline, subject_end = None, None
            out.append(reading)
            prev_kw = kw
            if not out[:-1]:
                flow = _FLOW_VERBS.match(reading.name)
                flow_prefix = flow.group(0) if flow else ""
            if not reading.inherited:
                prev_subject = _strip_share(reading.name)
            seg_start = max(qual_end, tail_end)
        if len(out) > 1 and "分别" in self.norm[clause.start : clause.end]:
            self._pair_respectively(clause, out)
        return out

    def _pair_respectively(self, clause: _Clause, out: list[_Reading]) -> None:
        """Give each figure of “A和B…分别X、Y” its own subject: A… gets X, B… gets Y."""
        text = self.norm[clause.start : clause.end]
        subject = self._subject(clause.start, clause.start + text.index("分别"))
        if not subject:  # “A和B在…基础上,分别超过X和Y”: the subjects stand in the clause before
            before = [c for c in _clauses(self.norm) if c.end <= clause.start]
            if before:
                subject = self._subject(before[-1].start, before[-1].end)
        subject = re.split(r"在|实现|达到|力争|确保|要|将", subject)[0]
        subjects = _respective_subjects(subject)
        if len(subjects) != len(out):
            for r in out:
                r.notes.append("分别: check which subject each figure belongs to")
            return
        for r, name in zip(out, subjects, strict=True):
            r.name, r.inherited = name, False
            r.notes.append(f"分别: read as the figure for {name}")

    def _classify(self, slot: _Slot) -> tuple[_Reading, str, int]:
        """Read one number in its clause; return the reading, its wording kind and tail end."""
        norm, q = self.norm, slot.q
        pre = norm[slot.seg_start : slot.lo_start]
        keyword = None
        wording = self.ctx.wording
        for m in wording.keyword.finditer(pre):
            keyword = m
        kw_kind = wording.kind_of.get(keyword.group(0), "") if keyword else ""
        if q.hint:
            kw_kind = q.hint
        notes = list(q.notes)
        unit = q.unit
        binding = self.binding_at(q.start)
        time = self.time_at(slot.clause, q.start)
        deadline: dt.date | None = None
        if time is not None and not time["ye"]:
            deadline = self.deadline_of(time, notes)
        elif time is not None and time["year"] and int(time["year"]) != self.year:
            self.deadline_of(time, notes)
        spans = [(time.start(), time.end())] if time is not None else []
        # the subject is the text before the number; with the count first (推动3家企业上市)
        # it is the noun phrase after it
        subject = self._subject(slot.seg_start, slot.subject_end)
        after = norm[slot.qual_end : slot.nxt_start]
        tail, tail_end = "", slot.qual_end
        if (
            after.strip()
            and not re.match(r"^\s*[、和及与,;]|\s", after)
            and (not subject or slot.last)
        ):
            stop = re.search(r"[、,;]", after)
            end = slot.qual_end + (stop.start() if stop else len(after))
            tail_lo, tail_hi = self._trim(slot.qual_end, end)
            tail, tail_end = self._slice(tail_lo, tail_hi), end
        if (
            not kw_kind
            and slot.prev_kw
            and not (
                not wording.of(slot.prev_kw).carries_to_levels and _LEVEL_WORDS.search(subject)
            )
        ):
            kw_kind = slot.prev_kw  # 分别增长7%和8%, 净增A 100家、B 50家
        inherited = False
        if not subject and not tail:
            subject = slot.prev_subject
            inherited = bool(subject)
            if inherited:
                notes.append("the sentence names no subject here: taken from the clause before")
        elif subject.startswith("占") and slot.prev_subject:
            subject = slot.prev_subject + subject
        name = (subject + tail).strip()
        if slot.flow_prefix and name and not inherited and not _FLOW_VERBS.match(name):
            name = slot.flow_prefix + name  # 引进人才100名、团队10个 → 引进团队
        title_lo, _ = self._trim(slot.seg_start, slot.qual_end, title=True)
        title = self._slice(title_lo, max(tail_end if tail else slot.qual_end, q.end))
        if not name:
            name = title
        later = [
            int(y)
            for y in re.findall(r"((?:19|20)\d{2})\s*年", norm[: q.start])
            if int(y) > self.ctx.end
        ]
        year_named = self.target_year(q.start) if self.ctx.multi_year else None
        if year_named is not None and deadline is None and year_named < self.ctx.end:
            deadline = dt.date(year_named, 12, 31)
        if later:
            notes.append(
                f"the text names {later[-1]}: this may be a target for a later year, "
                f"after the plan's end ({self.ctx.end})"
            )
        elif re.search(r"十四五|期间|累计", norm[slot.clause.start : q.start]):
            notes.append("a total over several years (期间, 累计): check the figure for this year")
        if re.match(r"^\s*其中", norm[slot.clause.start : slot.clause.end]):
            notes.append("其中: a part of the figure before")
        reading = _Reading(
            kind="",
            start=slot.lo_start,
            end=slot.qual_end,
            title=title,
            name=name,
            binding=binding,
            value=q.value,
            unit=unit,
            deadline=deadline,
            inherited=inherited,
            notes=notes,
            spans=spans,
            indicator_unit=unit,
        )
        reading.bare = keyword is None and not q.hint
        self._apply_wording(reading, slot, kw_kind, keyword, subject)
        return reading, kw_kind, tail_end

    def _apply_wording(
        self,
        reading: _Reading,
        slot: _Slot,
        kw_kind: str,
        keyword: re.Match[str] | None,
        subject: str,
    ) -> None:
        """Set the rule kind, values and indicator kind from the wording around the number."""
        q, notes, unit = slot.q, reading.notes, reading.unit
        pre = self.norm[slot.seg_start : slot.lo_start]
        at_most_qual = slot.qual in ("以内", "以下", "之内", "内")
        level_words = bool(_LEVEL_WORDS.search(subject))
        wording = self.ctx.wording
        role = wording.role(kw_kind)
        down = role in (DraftRole.CAP, DraftRole.FALL)  # the words say the value goes down
        if kw_kind in wording.users:
            # a user's kind, chosen by its own words: the figure, its unit and its subject
            reading.kind = kw_kind
            reading.indicator_kind = IndicatorKind.LEVEL if level_words else _count_kind(pre, unit)
            return
        if slot.qual in ("左右", "上下"):
            notes.append(f"{slot.qual} (about) read as a floor")
        if unit == "百分点":
            reading.indicator_kind = IndicatorKind.LEVEL
            if down:
                # tracked as "the fall is at least X points"
                reading.kind, reading.slug = wording.kind_for(DraftRole.FLOOR), "decline_{value}pp"
                reading.name = _strip_trailing_decline(reading.name) + "降低幅度"
                reading.indicator_unit = "百分点"
                notes.append(
                    "a fall in percentage points: tracked as the number of points the level fell by"
                )
            else:
                reading.kind = wording.kind_for(DraftRole.POINTS)
                reading.indicator_unit = "%"
                if not re.search(r"提高|提升|增加|上升|增长", pre):
                    notes.append("个百分点 without 提高: check the direction and the baseline")
        elif q.low is not None:
            rise = kw_kind if role is DraftRole.RISE else wording.noun_kind(subject)
            if unit in ("%", "‰") and rise:
                reading.kind = rise
                reading.value, reading.stretch = q.low, q.value
                reading.indicator_unit = _guess_amount_unit(subject)
                notes.append("a growth range: the low end is the floor, the high end a stretch")
            else:
                reading.kind = wording.kind_for(DraftRole.BAND)
                reading.value, reading.high = q.low, q.value
                reading.high_is_stretch = not reading.binding
                if reading.binding and unit not in ("%", "‰"):
                    notes.append(
                        "a band: going above the upper bound counts against the target; set "
                        "high_is_stretch = true if the upper bound is only hoped for"
                    )
                reading.indicator_kind = (
                    IndicatorKind.LEVEL if unit in ("%", "‰") else _count_kind(pre, unit)
                )
        elif unit in ("%", "‰"):
            share = _SHARE.match(pre)
            rise = (
                kw_kind if role is DraftRole.RISE else ("" if down else wording.noun_kind(subject))
            )
            if rise:
                reading.kind = rise
                reading.indicator_unit = _guess_amount_unit(subject)
                reading.indicator_kind = _growth_kind(subject)
                if "年均" in pre:
                    notes.append(
                        "年均增长 is an average over several years: check the year's figure"
                    )
                if not reading.indicator_unit:
                    notes.append("the indicator's unit is not in the text: set it")
            elif role is DraftRole.FALL:
                # 下降/降低/减少X%: a fall, the figure itself against last year's
                reading.kind = kw_kind
                reading.name = _strip_trailing_decline(reading.name)
                # 单位GDP能耗, 碳排放强度, 浓度, 比例: a level per unit, its unit not in the text
                per_unit = bool(re.search(r"^单位|强度|浓度|比例|比重|率|每", reading.name))
                # only money is guessed (费用, 支出 …); 消费总量 or 排放量 may be in 吨 or 千瓦时
                money = bool(re.search(r"资金|经费|投入|支出|成本|费用|金额|收入", subject))
                reading.indicator_unit = (
                    _guess_amount_unit(subject) if money and not per_unit else ""
                )
                flow = money or bool(re.search(r"消费量|消费总量|排放量|用量|总量", subject))
                reading.indicator_kind = (
                    IndicatorKind.CUMULATIVE
                    if flow and not level_words and not per_unit
                    else IndicatorKind.LEVEL
                )
                if not reading.indicator_unit:
                    notes.append("the indicator's unit is not in the text: set it")
                notes.append(
                    "a fall in %: judged against last year's same period (a flow) or the level at "
                    "the start of the year; check the indicator's kind and unit"
                )
            elif role is DraftRole.CAP or at_most_qual:
                reading.kind = kw_kind if role is DraftRole.CAP else wording.kind_for(DraftRole.CAP)
                reading.indicator_kind = IndicatorKind.LEVEL
            elif share and share["den"].strip():
                num_lo, num_hi = self._trim(slot.seg_start, slot.seg_start + share.end("num"))
                numerator = self._slice(num_lo, num_hi) or slot.prev_subject
                den = self._slice(
                    slot.seg_start + share.start("den"), slot.seg_start + share.end("den")
                )
                reading.indicator_kind = IndicatorKind.LEVEL
                if numerator:
                    reading.kind = wording.kind_for(DraftRole.SHARE)
                    reading.names = {"numerator": numerator, "denominator": den}
                    reading.indicator_unit = _guess_amount_unit(numerator + den)
                    reading.indicator_kind = (
                        IndicatorKind.CUMULATIVE if reading.indicator_unit else IndicatorKind.STOCK
                    )
                    if not reading.indicator_unit:
                        notes.append(
                            "the units of numerator and denominator are not in the text: set them"
                        )
            else:
                reading.indicator_kind = IndicatorKind.LEVEL
        elif role is DraftRole.NET_ADD:
            reading.kind = kw_kind
            reading.indicator_kind = IndicatorKind.STOCK
        elif role is DraftRole.CAP or at_most_qual:
            reading.kind = kw_kind if role is DraftRole.CAP else wording.kind_for(DraftRole.CAP)
            reading.indicator_kind = IndicatorKind.LEVEL if level_words else _count_kind(pre, unit)
        elif wording.of(kw_kind).count_as:
            # 增长100家: the words of a rate before a count read as another kind (a net increase)
            reading.kind = wording.of(kw_kind).count_as
            reading.indicator_kind = (
                IndicatorKind.CUMULATIVE if unit in _MONEY_UNITS else IndicatorKind.STOCK
            )
            word = keyword.group(0) if keyword else ""
            notes.append(f"“{word}{q.raw.strip()}” read as {wording.gloss(reading.kind)}")
        elif role is DraftRole.FALL:
            notes.append("a reduction: tracked as the amount reduced during the year")
        else:
            reading.indicator_kind = IndicatorKind.LEVEL if level_words else _count_kind(pre, unit)
        word = keyword.group(0) if keyword else ""
        if (
            not reading.kind
            and not q.hint
            and (not word or word in _WEAK_FLOOR)
            and _LOWER_BETTER.search(subject)
            and not _DONE_WELL.search(subject)
        ):
            # 失业率5.5%左右, 居民消费价格涨幅3%左右, PM2.5达到30µg左右: the lower the better
            reading.kind = wording.kind_for(DraftRole.CAP)
            reading.indicator_kind = IndicatorKind.LEVEL
            reading.notes = [
                n.replace("(about) read as a floor", "(about) read as a cap") for n in notes
            ]
            reading.notes.append(
                f"{_strip_share(subject)} is better lower: read as at most {q.value:g}{unit}"
            )
        if not reading.kind and slot.qual in ("左右", "上下") and not q.hint:
            self._band_around(reading, q, wording.kind_for(DraftRole.BAND))
        if not reading.kind:
            reading.kind = kw_kind if role is DraftRole.FLOOR else wording.kind_for(DraftRole.FLOOR)
        if (
            word in _STRICT_WORDS
            and kw_kind == reading.kind
            and any(f.name == "strict" for f in _kind(reading.kind).fields)
        ):
            reading.strict = True
            than = "more" if _STRICT_WORDS[word] == "more" else "less"
            reading.notes.append(
                f"{word}{q.raw.strip()}: read as {than} than {q.value:g}{unit}, the figure itself "
                "not included (strict = true); drop strict if the plan counts it"
            )

    @staticmethod
    def _band_around(reading: _Reading, q: _Qty, band: str) -> None:
        """Read X左右 (about X) of a plain figure as a band of ±5% around X.

        Lower-is-better subjects are caps instead (read before), and changes (增长X%左右) stay
        floors: a band is on the figure itself.
        """
        written = f"{q.value:g}"
        places = len(written.split(".")[1]) if "." in written and "e" not in written else 0
        low = round(q.value * (1 - _ABOUT), places + 2)
        high = round(q.value * (1 + _ABOUT), places + 2)
        if not low < q.value < high:
            return
        reading.kind, reading.value, reading.high = band, low, high
        reading.notes = [n for n in reading.notes if "(about) read as a floor" not in n]
        reading.notes.append(
            f"{q.raw.strip()}左右 (about {written}{q.unit}): read as a band of ±5% around "
            f"{written}, {low:g}–{high:g}{q.unit}; narrow or widen it, or set "
            "high_is_stretch = true if going above it is fine"
        )

    def _ranks(self, clause: _Clause, prev_subject: str) -> list[_Reading]:
        text = self.norm[clause.start : clause.end]
        found: list[tuple[re.Match[str], int | None]] = []
        for pattern in (_RANK_TOP, _RANK_ORD):
            for m in pattern.finditer(text):
                if not _inside(self.names, clause.start + m.start(), clause.start + m.end()):
                    found.append((m, int(parse_number(m["n"]))))
        if not found:
            for m in _RANK_FRONT.finditer(text):
                if not _inside(self.names, clause.start + m.start(), clause.start + m.end()):
                    found.append((m, None))
        if not found:
            return []
        m, n = found[0]
        a, b = clause.start + m.start(), clause.start + m.end()
        subject = self._subject(clause.start, a)
        if subject.startswith("占") and prev_subject:
            subject = prev_subject + subject
        title_lo, _ = self._trim(clause.start, b, title=True)
        title = self._slice(title_lo, b)
        notes: list[str] = []
        if n is None:
            notes.append(
                "前列 gives no number: read as rank ≤ 3; set the value the plan's owner means"
            )
            n = 3
        if n < 1:
            return []
        return [
            _Reading(
                kind=self.ctx.wording.kind_for(DraftRole.POSITION),
                start=a,
                end=b,
                title=title,
                name=subject + "位次" if subject else title,
                binding=self.binding_at(a),
                value=float(n),
                indicator_kind=IndicatorKind.LEVEL,
                notes=notes,
            )
        ]

    def _increase(self, clause: _Clause, prev_subject: str) -> list[_Reading]:
        text = self.norm[clause.start : clause.end]
        m = _INCREASE.search(text)
        if m is None:
            return []
        subject = self._subject(clause.start, clause.start + m.start())
        if subject.startswith("占") and prev_subject:
            subject = prev_subject + subject
        if not subject or not _MEASURABLE.search(subject):
            return []
        is_share = bool(re.search(r"比重|占比|比例|份额|率|强度", subject))
        notes = [] if is_share else ["the indicator's unit is not in the text: set it"]
        title_lo, title_hi = self._trim(clause.start, clause.end, title=True)
        return [
            _Reading(
                kind=self.ctx.wording.kind_for(DraftRole.UPWARD),
                start=clause.start + m.start(),
                end=clause.end,
                title=self._slice(title_lo, title_hi),
                name=subject,
                binding=self.binding_at(clause.start + m.start()),
                indicator_kind=IndicatorKind.LEVEL,
                indicator_unit="%" if is_share else _guess_amount_unit(subject),
                notes=notes,
            )
        ]

    def _milestones(self, clause: _Clause, previous: _Clause | None) -> list[_Reading]:
        norm = self.norm
        verbs = [
            m
            for m in _MS_VERB_RE.finditer(norm, clause.start, clause.end)
            if not _inside(self.names, m.start(), m.end())
        ]
        if not verbs:
            return []
        # consecutive verbs (立项动工, 建成投用) form one cluster with one milestone per verb
        clusters: list[list[re.Match[str]]] = []
        for m in verbs:
            if clusters and clusters[-1][-1].end() == m.start():
                clusters[-1].append(m)
            else:
                clusters.append([m])
        out: list[_Reading] = []
        for cluster in clusters:
            a, b = cluster[0].start(), cluster[-1].end()
            if out and not out[-1].label_first:
                break  # the rest of the clause is the object of the milestone before
            before = norm[a - 1] if a > clause.start else ""
            after = norm[b] if b < clause.end else ""
            if (
                before == "、"
                or after in ("、", "的")
                or norm[max(clause.start, a - 2) : a].endswith(("已", "未", "不"))
            ):
                continue
            post_lo, post_hi = self._trim(b, clause.end)
            obj_after = self._slice(post_lo, post_hi)
            time = self.time_at(clause, b)
            notes: list[str] = []
            if obj_after:
                obj, obj_first = obj_after, False
            else:
                obj = self._ms_object(clause.start, a)
                if not obj and previous is not None:
                    obj = self._ms_object(previous.start, previous.end)
                obj_first = True
            if not obj:
                continue
            verb_words = [m.group(0) for m in cluster]
            head = verb_words[0]
            vague = bool(_VAGUE.search(re.sub(r"《[^》]*》|“[^”]*”", "", obj)))
            effort = bool(_EFFORT.search(norm[clause.start : a]))
            if head in _DOC_VERBS:
                if vague or not _DOC_NOUN.search(obj):
                    if time is None:
                        continue  # 出台支持政策: no document named, no date
                    notes.append("the text does not name the document: say which one is meant")
            elif head == "完成":
                if time is None and not _ASSESSMENT_NOUN.search(obj):
                    continue
                if vague:
                    continue
            else:
                if vague:
                    continue
                if time is None:
                    specific = "“" in obj or "《" in obj or bool(_FACILITY_NOUN.search(obj))
                    if not specific or effort:
                        continue
                    notes.append("no date in the text: due by the end of the plan year")
            deadline = (
                self.deadline_of(time, notes) if time is not None else dt.date(self.year, 12, 31)
            )
            spans = [(m.start(), m.end()) for m in cluster]
            if time is not None:
                spans.append((time.start(), time.end()))
            title_lo, title_hi = self._trim(clause.start, clause.end, title=True)
            clause_title = self._slice(title_lo, title_hi)
            for verb in verb_words:
                name = f"{obj}{verb}" if obj_first else f"{verb}{obj}"
                if len(cluster) == 1 and not obj_first:
                    title = clause_title
                else:
                    when = time.group(0).strip() if time is not None else ""
                    title = f"{obj}{when}{verb}" if obj_first else f"{when}{verb}{obj}"
                out.append(
                    _Reading(
                        kind=self.ctx.wording.kind_for(DraftRole.STEPS),
                        start=a,
                        end=b,
                        title=title,
                        name=name,
                        binding=self.binding_at(a),
                        deadline=deadline,
                        indicator_kind=IndicatorKind.MILESTONE,
                        label=_MS_LABELS[verb],
                        label_first=obj_first,
                        notes=list(notes),
                        spans=spans,
                    )
                )
        return out

    def _ms_object(self, a: int, b: int) -> str:
        lo, hi = self._trim(a, b)
        seg = self.norm[lo:hi]
        lead = _EFFORT_LEAD.match(seg)
        if lead:
            lo += lead.end()
            seg = seg[lead.end() :]
        trail = _EFFORT_TRAIL.search(seg)
        if trail and trail.start() > 0:
            hi = lo + trail.start()
        return self._slice(lo, hi)

    def _merge_stretch(self) -> None:
        """Merge 确保X、力争Y on one indicator into a floor X with a stretch Y.

        The second figure may name its subject again (确保地区生产总值增长6%、力争地区生产总值增长
        7%), leave it out (确保完成投资100亿元、力争120亿元) and leave out its rule word too
        (地区生产总值确保增长6%，力争7%): then it takes the first figure's reading.
        """
        merged: list[_Reading] = []
        for r in self.readings:
            prev = merged[-1] if merged else None
            if (
                prev is not None
                and (r.inherited or _similar(prev.name, r.name))
                and prev.binding
                and not r.binding
                and ((prev.kind, prev.slug) == (r.kind, r.slug) or (r.bare and r.inherited))
                and _takes_stretch(prev.kind)
                and prev.unit == r.unit
                and prev.value is not None
                and r.value is not None
                and r.value > prev.value
                and prev.stretch is None
            ):
                prev.stretch = r.value
                prev.end = r.end
                prev.spans.append((r.start, r.end))
                prev.notes.append("确保X、力争Y: X is the floor, Y the stretch")
                continue
            merged.append(r)
        self.readings = merged

    # ---- leftovers

    def leftovers(self) -> list[tuple[str, str]]:
        """Return the numbers of the sentence that no target used, each with the reason."""
        out: list[tuple[str, str]] = []
        spans: list[tuple[int, int, str]] = []
        for m in re.finditer(r"\d+(?:[.,]\d+)*(?:\s*\+\s*(?:\d+|[A-Za-z]))*", self.norm):
            if _inside(self.dates, m.start(), m.end()):
                continue
            spans.append((m.start(), m.end(), ""))
        for m in _MENTION_CN.finditer(self.norm):
            spans.append((m.start(), m.end(), ""))
        for a, b in self.names:
            inner = self.norm[a + 1 : b - 1]
            if re.search(r"\d", inner) or _MENTION_CN.search(inner) or _NUMERAL_NAME.match(inner):
                spans.append((a, b, "inside quotes or a title: part of a name"))
        spans.sort()
        seen_until = -1
        for a, b, reason in spans:
            if a < seen_until or _inside(self.consumed, a, b):
                continue
            if any(x <= a < y for x, y, _ in spans if (x, y) != (a, b) and y - x > b - a):
                continue
            seen_until = b
            word = self._mention_text(a, b)
            why = reason or self.rejected.get(a) or self._guess_reason(a, b)
            out.append((word, why))
        return out

    def _mention_text(self, a: int, b: int) -> str:
        if (a, b) in self.names or "+" in self.norm[a:b]:
            return self.text[a:b]
        m = re.match(rf"\s*(?:{_UNIT_RE}|大|类|种|级|倍|番)?", self.norm[b:])
        end = b + (m.end() if m else 0)
        return self.text[a:end].strip()

    def _guess_reason(self, a: int, b: int) -> str:
        after = self.norm[b : b + 2]
        before = self.norm[max(0, a - 1) : a]
        if "+" in self.norm[a:b]:
            return "part of a name such as 1+N"
        if before in ("第",):
            return "an ordinal (第…)"
        if (before.isascii() and before.isalpha()) or re.match(r"[A-Za-z]", after):
            return "part of a code or name (PM2.5, 5G …)"
        if re.match(r"\s*(?:月|日|号)", after):
            return "a date with no step recognised"
        if re.match(r"[大类种级]", after):
            return "a name or label (N大, N类 …)"
        if not re.match(rf"\s*(?:[十百千万亿]*)(?:{_UNIT_RE})", after):
            return "no unit after the number"
        return "no target wording recognised"


# an amount over the period, whatever the verb: 投资, 收入, 产值, 成交额, 增加值, 产量, 消费总量 …
_FLOW_SUBJECT = re.compile(
    r"投资|收入|产值|成交额|增加值|销售额|营业额|营收|交易额|进出口|出口额|进口额|利润|税收|融资额|"
    r"产量|发电量|用电量|货运量|客运量|吞吐量|消费总量|排放总量|用水总量|消费量|排放量|用水量|支出|投入"
)
# a standing amount at a date, whatever its unit: 贷款余额, 存量, 保有量, 资产总额, 年末人口
_STOCK_SUBJECT = re.compile(r"余额|存量|保有量|资产总额|总资产|年末(?!前)")
# a standing count: 参保人数, 户数, 企业总数, 人才总量, 累计…, 规模以上…
_STOCK_COUNT = re.compile(r"人数|户数|家数|个数|总数|数量|总量|累计")
# counted per visit or session: always a flow (旅游人数1000万人次)
_FLOW_UNITS = {"人次", "万人次", "家次", "项次", "场次"}
# what is added during the period: a flow even of a standing count (新增高新技术企业 …)
_ADDED = re.compile(r"新增|新认定|新建|引进|培育|引育|培养|培训|接待|输送|招引|签约|举办|开展")


def _count_kind(pre: str, unit: str) -> IndicatorKind:
    """Return the kind of a summed or counted indicator from its subject and wording.

    Flows (cumulative): what is added or done during the period (新增, 引进, 培训 …), amounts
    over the period (投资, 收入, 产值, 产量 …), per-visit counts (人次) and other money. Stocks:
    standing amounts at a date (余额, 存量, 保有量, 年末…) and standing counts (人数, 总数,
    总量, 累计, or a count “达到” a figure).
    """
    if unit in _FLOW_UNITS or _ADDED.search(pre) or _FLOW_SUBJECT.search(pre):
        return IndicatorKind.CUMULATIVE
    if _STOCK_SUBJECT.search(pre):
        return IndicatorKind.STOCK
    if unit in _MONEY_UNITS:
        return IndicatorKind.CUMULATIVE
    if _STOCK_COUNT.search(pre) or _STOCK_WORDS.search(pre):
        return IndicatorKind.STOCK
    return IndicatorKind.CUMULATIVE


def _growth_kind(subject: str) -> IndicatorKind:
    """Return the kind of an indicator whose growth is the target (增长X%).

    A stock grows against its level at the start of the period (存款余额, 市场主体数量, 人数);
    anything else is taken as a flow, compared with the same period a year earlier.
    """
    if _FLOW_SUBJECT.search(subject):
        return IndicatorKind.CUMULATIVE
    if _STOCK_SUBJECT.search(subject) or re.search(r"数|数量", subject):
        return IndicatorKind.STOCK
    return IndicatorKind.CUMULATIVE


def _multiplier(chars: str) -> float:
    value = 1.0
    for ch in chars:
        value *= _MULTIPLIERS[ch]
    return value


def _guess_amount_unit(subject: str) -> str:
    """Guess the unit of an amount from its name (产值, 收入, GDP … are in 亿元; 人均… in 元)."""
    if re.search(r"人均|每人|价格|单价|工资|房价|每户|户均", subject):
        return "元"
    if re.search(
        r"产值|增加值|收入|营收|总额|成交额|投资|投入|支出|GDP|生产总值|税收|利润|金额|销售额|消费|"
        r"存款|贷款|余额",
        subject,
    ):
        return "亿元"
    return ""


def _strip_share(name: str) -> str:
    """Return the subject of a share name (高新技术产业增加值占生产总值比重 → 高新技术产业增加值)."""
    return re.split(r"占|相当于", name, maxsplit=1)[0]


def _respective_subjects(subject: str) -> list[str]:
    """Split the subject of 分别: 城乡居民人均收入 → 城镇居民…, 农村居民…; A和B企业 → A, B企业."""
    m = re.match(r"^(?P<head>.*?)城乡(?P<tail>.+)$", subject)
    if m:
        return [f"{m['head']}城镇{m['tail']}", f"{m['head']}农村{m['tail']}"]
    m = re.match(r"^(?P<head>.*?)城镇(?:和|与|及|、)农村(?P<tail>.+)$", subject)
    if m:
        return [f"{m['head']}城镇{m['tail']}", f"{m['head']}农村{m['tail']}"]
    parts = [p for p in re.split(r"和|与|及|、", subject) if p]
    if len(parts) < 2:
        return [subject]
    # A和B企业: A takes B's last word when it has none of its own (高新技术和科技型企业)
    last = re.search(r"(企业|人员|人数|收入|产值|总额|投资|数量|面积)$", parts[-1])
    return [p + last[1] if last and not p.endswith(last[1]) else p for p in parts]


def _strip_trailing_decline(name: str) -> str:
    return re.sub(r"(?:下降|降低|减少|压减|压缩|缩短|削减|缩减)+$", "", name)


# --------------------------------------------------------------------------- plan building


def _value_slug(value: float) -> str:
    text = f"{value:.6g}" if not float(value).is_integer() else str(int(value))
    return text.replace(".", "p").replace("-", "m").replace("+", "")


def _unit_slug(unit: str) -> str:
    return _UNIT_SLUGS.get(unit, "u")


def _kind(name: str) -> RuleKind:
    found = rule_kind(name)
    if found is None:  # the drafter only reads kinds that are registered
        raise KeyError(f"no rule kind {name!r} is registered")
    return found


def _display_of(name: str) -> Any:
    return _kind(name).display


def _takes_stretch(name: str) -> bool:
    """Tell whether a kind has a stretch beyond a floor (确保X、力争Y with Y > X)."""
    kind = _kind(name)
    return any(f.name == "stretch" for f in kind.fields) and not kind.display.lower_is_better


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _rule_values(r: _Reading, kind: RuleKind) -> dict[str, Any] | None:
    """Return the figures of a reading as the kind's own fields (indicators not yet named).

    None when the kind needs a field the drafter cannot fill from the text.
    """
    read: dict[str, Any] = {
        "value": r.value,
        "low": r.value,
        "high": r.high if r.high is not None else r.value,
        "unit": r.unit or None,
        "stretch": r.stretch,
        "high_is_stretch": r.high_is_stretch or None,
        "strict": r.strict or None,
    }
    values: dict[str, Any] = {}
    for f in kind.fields:
        if f.type is FieldType.INDICATOR:
            continue
        value = read.get(f.name)
        if value is None and f.type is FieldType.UNIT and f.default == FROM_INDICATOR:
            value = r.indicator_unit  # as the plan reader takes it: the indicator's unit
        if value is None:
            if f.required:
                return None
            continue
        if f.type is FieldType.INTEGER:
            value = int(value)
        elif f.type is FieldType.NUMBER:
            value = float(value)
        values[f.name] = value
    return values


def _base_id(r: _Reading, kind: RuleKind, values: dict[str, Any], loc: str) -> str:
    """Return the target id after its location, in the form the kind declares."""
    slugs = _Blank(kind=kind.name, label=r.label)
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            slugs[key] = _value_slug(value)
    slugs["unit"] = _unit_slug(str(values.get("unit", "")))
    return f"{loc}_" + (r.slug or drafting_of(kind).slug).format_map(slugs)


def _rule_and_indicators(
    r: _Reading, kind: RuleKind, values: dict[str, Any], tid: str
) -> tuple[Rule, list[Indicator]]:
    """Build the reading's rule with the kind's `build`, one drafted indicator per field."""
    fields = [f for f in kind.fields if f.type is FieldType.INDICATOR]
    ids = [t.format(id=tid) for t in drafting_of(kind).indicators]
    ids += [f"{tid}_{f.name}" for f in fields[len(ids) :]]
    indicators = [
        Indicator(
            id=ind_id,
            name=_short(r.names.get(f.name, "") or r.name or r.title),
            unit=r.indicator_unit,
            kind=r.indicator_kind,
        )
        for f, ind_id in zip(fields, ids, strict=False)
    ]
    rule = kind.build(
        {**values, **{f.name: i.id for f, i in zip(fields, indicators, strict=False)}}
    )
    return rule, indicators


def _short(text: str, limit: int = 60) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title_year(text: str) -> int | None:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:6]
    for line in lines:
        m = re.search(
            r"((?:19|20)\d{2})\s*年[^。]{0,40}?(?:工作要点|要点|工作计划|计划|工作安排|安排|任务|方案|目标)",
            _normalise(line),
        )
        if m:
            return int(m[1])
    return None


def _lead_year(sentences: Sequence[_Sentence]) -> int | None:
    for s in sentences:
        if s.section or s.item is not None:
            break
        m = re.match(r"^((?:19|20)\d{2})\s*年", s.norm)
        if m:
            return int(m[1])
    return None


def _detect_title(text: str, start: int, end: int) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:6]
    for line in lines:
        if len(line) <= 60 and re.search(r"要点|计划|安排|方案|任务", line):
            return line
    for line in lines[:3]:  # a document named in the text: 《…行动工作方案(2019-2020年)》
        named = re.search(r"《([^》]{4,60}(?:要点|计划|方案|规划|意见|安排)[^》]{0,20})》", line)
        if named:
            return named[1]
    return f"{start}年工作要点" if start == end else f"{start}—{end}年工作方案"


_ISSUER = re.compile(
    r"([\u4e00-\u9fff]{2,20}?(?:科学技术局|人民政府|委员会|管委会|办公室|局|厅|委|政府))(?![\u4e00-\u9fff]{0,1}(?:长|内))"
)


def _detect_issuer(text: str) -> str:
    for line in [ln.strip() for ln in text.splitlines() if ln.strip()][:4]:
        if len(line) > 60:
            continue
        # a title's year would read as part of the name (2024年市科技局 …): search around it
        for part in re.split(r"(?:19|20)\d{2}\s*年(?:度)?", _normalise(line)):
            for m in _ISSUER.finditer(part):
                if not m[1].endswith(("格局", "布局", "大局", "全局", "结局", "当局")):
                    return m[1]
    return ""


def _plan_id(id_prefix: str | None, source: str, year: int) -> str:
    if id_prefix:
        return id_prefix
    stem = re.sub(
        r"[^A-Za-z0-9_.-]+", "-", Path(source).stem if source and not source.startswith("<") else ""
    )
    stem = stem.strip("-_.")
    return stem or f"plan-{year}"


def draft_plan(
    text: str,
    *,
    year: int | None = None,
    id_prefix: str | None = None,
    source: str = "<text>",
) -> Draft:
    """Draft a plan from a plan's text: every quantitative or dated target found, as data.

    Args:
        text: The plan's text (工作要点, 工作计划), as copied from its web page or document.
        year: The plan year; by default read from the text ("2023年…工作要点").
        id_prefix: Plan id, and prefix of every target and indicator id (``"yc"`` gives target
            ``yc.item4_at_least_220_yi``); by default the plan id is taken from ``source``.
        source: Where the text came from (a file name), for the plan and for error messages.

    Returns:
        The drafted plan and, in document order, every target, uncertain reading and untracked
        sentence found.

    Raises:
        ConfigError: when the year is neither given nor found in the text, the prefix is not a
            valid id, or no target at all is found.
    """
    if id_prefix is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", id_prefix):
        raise ConfigError.single(
            source,
            "--id",
            f"{id_prefix!r} is not a valid id prefix",
            "start with a letter or digit and use only letters, digits, '_', '-' and '.'",
        )
    sentences = _structure(text)
    if year is not None and not 1900 <= year <= 2200:
        raise ConfigError.single(
            source, "--year", f"{year} is not a plan year", "pass e.g. --year 2024"
        )
    start, end, period_note = _period(sentences, text, year, source)
    review = _review_of(sentences, text, start) if year is None else ""
    only = year if year is not None and end > start else None
    heads = _logical_lines(text)[:3]
    ctx = _Context(
        start=start,
        end=end,
        plan_doc=any(len(ln) <= 60 and _PLAN_DOC.search(ln) for ln in heads),
        only_year=only,
        period=(start, end),
        review=review,
    )
    if only is not None:
        start = end = only
    title_lines = {
        i
        for i, ln in enumerate(heads)
        if "。" not in ln and _DOC_TITLE.search(_normalise(ln).strip())
    }
    restart = _items_restart(sentences)

    taken: set[str] = set()
    indicators: list[Indicator] = []
    targets: list[Target] = []
    findings: list[Finding] = []
    for s in sentences:
        read, owner = _assignment(s)
        reader = _SentenceReader(read, ctx, title=s.line in title_lines)
        reader.read()
        loc = _location(s, restart)
        for r in reader.readings:
            kind = _kind(r.kind)
            values = _rule_values(r, kind)
            if values is None:
                findings.append(
                    _untracked(
                        s, f"{r.title}: read as {kind.name}, whose fields the text does not give"
                    )
                )
                continue
            base = _base_id(r, kind, values, loc)
            tid = _unique((f"{id_prefix}." if id_prefix else "") + base, taken)
            rule, inds = _rule_and_indicators(r, kind, values, tid)
            note = "; ".join(dict.fromkeys(r.notes))
            target = Target(
                id=tid,
                title=_short(r.title or r.name, 120) or tid,
                rule=rule,
                deadline=r.deadline,
                binding=r.binding,
                section=s.section,
                item=s.item,
                source=s.text,
                owner=owner,
            )
            indicators += inds
            targets.append(target)
            findings.append(
                Finding(
                    kind="uncertain" if note else "target",
                    sentence=s.text,
                    section=s.section,
                    item=s.item,
                    note=note,
                    target_id=tid,
                )
            )
        left = reader.leftovers()
        if left:
            findings.append(_untracked(s, "; ".join(f"{word}: {why}" for word, why in left)))
    if not targets and ctx.review:
        raise ConfigError.single(
            source,
            "",
            f"no quantitative or dated target was found: {ctx.review}",
            f"check that this is the text of a plan; pass --year {start} if it is that year's plan",
        )
    if not targets:
        raise ConfigError.single(
            source,
            "",
            f"no quantitative or dated target was found ({sum(1 for f in findings if f.kind == 'untracked')} "
            "sentences with numbers, none read as a target)",
            "check that this is the text of a plan (工作要点, 工作计划); write the plan file by hand "
            "from examples/yichang_2023/plan.toml otherwise",
        )
    plan = Plan(
        id=_plan_id(id_prefix, source, start),
        title=_detect_title(text, start, end),
        start=dt.date(start, 1, 1),
        end=dt.date(end, 12, 31),
        indicators=indicators,
        targets=targets,
        issuer=_detect_issuer(text),
        source=source,
        unit_definitions=_unit_definitions(indicators, targets),
    )
    plan, findings = _validated(plan, findings, source)
    return Draft(plan=plan, findings=tuple(findings), source=source, notes=period_note)


# （责任单位：市科技局；完成时限：2024年6月底前）: who answers for the task, and by when
_ASSIGNMENT = re.compile(
    r"\(\s*(?P<body>(?:牵头单位|责任单位|责任部门|牵头部门|主责单位|负责单位|完成时限|完成时间|时间节点|时限)"
    r"\s*:[^()]*)\)\s*$"
)
_ASSIGNMENT_PART = re.compile(
    r"(?P<key>牵头单位|责任单位|责任部门|牵头部门|主责单位|负责单位|完成时限|完成时间|时间节点|时限)\s*:\s*"
    r"(?P<value>[^;]+)"
)


def _assignment(s: _Sentence) -> tuple[_Sentence, str]:
    """Return the sentence without its （责任单位：…；完成时限：…） note, and the owner it names.

    The deadline stays in the sentence, in brackets, where the reading of dates finds it.
    """
    m = _ASSIGNMENT.search(s.norm)
    if m is None:
        return s, ""
    owner, when = "", ""
    for part in _ASSIGNMENT_PART.finditer(m["body"]):
        value = s.text[m.start("body") + part.start("value") : m.start("body") + part.end("value")]
        if "时" in part["key"] or "节点" in part["key"]:
            when = value.strip()
        elif not owner:
            owner = value.strip()
    keep = f"({when})" if when else ""
    return (
        attrs.evolve(
            s, text=s.text[: m.start()] + keep, norm=s.norm[: m.start()] + _normalise(keep)
        ),
        owner,
    )


_PUBLISHED = re.compile(r"((?:19|20)\d{2})\s*(?:年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|-\d{2}-\d{2})")


def _review_of(sentences: Sequence[_Sentence], text: str, start: int) -> str:
    """Say why a text whose year comes from its first sentence is a review, or return ''.

    A text dated after the year it is about (人民网 2020年01月15日: “2019年上海…”) reports on
    that year: a plan is never published after its year is over.
    """
    if _title_year(text) is not None or _lead_year(sentences) != start:
        return ""
    for line in _logical_lines(text)[:4]:
        m = _PUBLISHED.search(_normalise(line))
        if m and int(m[1]) > start:
            return f"the text is dated {m[1]} and tells what {start} achieved, a review, not a plan"
    return ""


_PERIOD = re.compile(r"((?:19|20)\d{2})\s*年?\s*[-—–~至到]\s*((?:19|20)\d{2})\s*年")
_DATED = re.compile(
    r"(?:^|[,;:。])\s*(?:到|至)?\s*((?:19|20)\d{2})\s*年\s*(?:底|末)?\s*[,:]"
    r"|(?:到|至)\s*((?:19|20)\d{2})\s*年"
)


def _period(
    sentences: Sequence[_Sentence], text: str, year: int | None, source: str
) -> tuple[int, int, tuple[str, ...]]:
    """Return the plan's (first year, last year, notes) from its title, its text or ``year``.

    A title's (2023—2027年) makes a multi-year plan; a title's 2024年…工作要点 (or ``year``) a
    one-year plan; a text without either takes the years its targets are set for (到2025年,
    2027年,…), and says so.

    Raises:
        ConfigError: when neither the text nor ``year`` tells the year, or ``year`` lies outside
            the plan's period.
    """
    for line in _logical_lines(text)[:3]:
        m = _PERIOD.search(_normalise(line))
        if m and int(m[1]) < int(m[2]) <= int(m[1]) + 30:
            first, last = int(m[1]), int(m[2])
            if year is not None and not first <= year <= last:
                raise ConfigError.single(
                    source,
                    "--year",
                    f"{year} is outside the plan's period {first}–{last}",
                    f"pass a year from {first} to {last}, or leave --year out to draft the whole period",
                )
            return first, last, ()
    if year is not None:
        return year, year, ()
    found = _title_year(text)
    if found is not None:
        return found, found, ()
    reported = {int(m[1]) for s in sentences for m in _REPORTED_YEAR.finditer(s.norm)}
    named = sorted(
        {int(m[1] or m[2]) for s in sentences for m in _DATED.finditer(s.norm)}
        - set(range(1900))
        - reported
    )
    lead = _lead_year(sentences)
    if lead is not None and len(named) < 2:
        return lead, lead, ()
    if named:
        span = str(named[0]) if len(named) == 1 else f"{named[0]}–{named[-1]}"
        return (
            named[0],
            named[-1],
            (
                f"the text names no plan year; the period {span} is taken from the years its "
                "targets are set for: check it (pass --year for a one-year plan)",
            ),
        )
    raise ConfigError.single(
        source,
        "",
        "cannot tell the plan's year from the text (no title such as “2023年…工作要点” "
        "or “(2023—2027年)”, and no target dated 到2025年)",
        "pass the year, e.g. --year 2024 (draft_plan(..., year=2024))",
    )


def _items_restart(sentences: Sequence[_Sentence]) -> bool:
    seen: dict[int, int] = {}
    for s in sentences:
        if s.item is None:
            continue
        if s.item in seen and seen[s.item] != s.section_no:
            return True
        seen.setdefault(s.item, s.section_no)
    return False


def _location(s: _Sentence, restart: bool) -> str:
    if s.item is not None:
        return f"s{s.section_no}_item{s.item}" if restart else f"item{s.item}"
    if s.section_no:
        return f"s{s.section_no}"
    return "intro"


def _unique(base: str, taken: set[str]) -> str:
    tid = base
    n = 2
    while tid in taken:
        tid = f"{base}_{n}"
        n += 1
    taken.add(tid)
    return tid


def _unit_definitions(
    indicators: Sequence[Indicator], targets: Sequence[Target]
) -> list[tuple[str, str]]:
    used = {i.unit for i in indicators}
    for t in targets:
        unit = getattr(t.rule, "unit", None)
        if isinstance(unit, str):
            used.add(unit)
    out: dict[str, str] = {}
    by_unit = {u: d for u, d in _UNITS.values() if d}
    for unit in sorted(used):
        definition = by_unit.get(unit)
        if definition is None:
            continue
        # a scaled unit needs its base first (万美元 = 1e4 美元)
        base = definition.split()[-1]
        if base in by_unit and base not in out:
            out[base] = by_unit[base]
        out[unit] = definition
    return list(out.items())


_TARGET_PATH = re.compile(r"^targets\[(\d+)\]")


def _validated(plan: Plan, findings: list[Finding], source: str) -> tuple[Plan, list[Finding]]:
    """Check the plan as `targetkit validate` does; drop (and report) any target it rejects."""
    for _ in range(3):
        try:
            return parse(dump(plan), source=source), findings
        except ConfigError as exc:
            bad: dict[int, str] = {}
            for problem in exc.problems:
                m = _TARGET_PATH.match(problem.path)
                if m is None:
                    raise
                bad.setdefault(int(m[1]), problem.message)
            dropped = {plan.targets[i].id: msg for i, msg in bad.items()}
            keep = [t for t in plan.targets if t.id not in dropped]
            if not keep:
                raise
            refs = {ref for t in keep for ref in t.rule.indicator_ids()}
            plan = attrs.evolve(
                plan, targets=keep, indicators=[i for i in plan.indicators if i.id in refs]
            )
            findings = [
                attrs.evolve(
                    f,
                    kind="untracked",
                    target_id="",
                    note=f"could not be drafted: {dropped[f.target_id]}",
                )
                if f.target_id in dropped
                else f
                for f in findings
            ]
    return parse(dump(plan), source=source), findings


# --------------------------------------------------------------------------- TOML

_HEADER = """\
# DRAFT plan file, drafted by `targetkit draft` from {source}.
# Review it before use: every value, unit, rule kind, deadline, `binding` flag and indicator kind
# below is a first reading of the text, and the indicator names are the text's own words.
#
#   # 原文: …       the source sentence of the target that follows
#   # NOTE: …       why the reading is uncertain
#   # UNTRACKED: …  a sentence with numbers that was not turned into a target, and why
#
# Readings used: 确保 or a plain commitment → binding = true; 力争/争取 → binding = false, up to
# the end of the sentence. “新增 N” → at_least N on a flow counted over the year; “净增 N” →
# net_increase on a stock; dated steps (出台, 立项, 动工 …) → milestones due by the date named
# (the year's end when none is). Numeric targets without a date are due at the plan's end.
#
# Found: {n_targets} targets ({n_uncertain} uncertain), {n_untracked} untracked sentences.
# Check it with: targetkit validate <this file>
"""


def _comment(text: str) -> str:
    # one line, and no control character (TOML forbids them even in comments)
    return re.sub(r"[\s\x00-\x1f\x7f]+", " ", text).strip()


def _chunks(text: str) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Split `dumps` output into (head lines, indicator tables, target tables)."""
    head: list[str] = []
    indicators: list[list[str]] = []
    targets: list[list[str]] = []
    current = head
    for line in text.splitlines():
        if line == "[[indicators]]":
            indicators.append([line])
            current = indicators[-1]
        elif line == "[[targets]]":
            targets.append([line])
            current = targets[-1]
        elif line.startswith("[") and not line.startswith("[["):
            head.append(line)
            current = head
        else:
            current.append(line)
    strip = _strip_blank
    return strip(head), [strip(c) for c in indicators], [strip(c) for c in targets]


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _render_toml(draft: Draft) -> str:
    plan = draft.plan
    head, ind_chunks, tgt_chunks = _chunks(dumps(plan))
    ind_by_id = {ind.id: chunk for ind, chunk in zip(plan.indicators, ind_chunks, strict=True)}
    tgt_by_id = {t.id: chunk for t, chunk in zip(plan.targets, tgt_chunks, strict=True)}
    n_uncertain = sum(1 for f in draft.findings if f.kind == "uncertain")
    out = _HEADER.format(
        source=_comment(draft.source),
        n_targets=len(plan.targets),
        n_uncertain=n_uncertain,
        n_untracked=len(draft.untracked),
    ).splitlines()
    for note in draft.notes:
        out.insert(-2, f"# PERIOD: {_comment(note)}")
    out += ["", *head]
    section: str | None = None
    item: int | None = None
    emitted: set[str] = set()
    for f in draft.findings:
        if f.section != section:
            section = f.section
            item = None
            banner = section or "(before the first section)"
            out += ["", "", f"# ══ {_comment(banner)} ══"]
        if f.item != item:
            item = f.item
            if item is not None:
                out += ["", f"# ── item {item} ──"]
        if f.kind == "untracked":
            out += ["", f"# UNTRACKED: {_comment(f.sentence)}", f"#   {_comment(f.note)}"]
            continue
        target = plan.target(f.target_id)
        out += ["", f"# 原文: {_comment(f.sentence)}"]
        if f.note:
            out.append(f"# NOTE: {_comment(f.note)}")
        for ref in target.rule.indicator_ids():
            if ref not in emitted:
                emitted.add(ref)
                out += [*ind_by_id[ref], ""]
        out += tgt_by_id[target.id]
    for ind in plan.indicators:  # none are left over; kept so the file always parses
        if ind.id not in emitted:
            out += ["", *ind_by_id[ind.id]]
    return "\n".join(out).rstrip() + "\n"
