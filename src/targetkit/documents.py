"""Read a plan's text out of the documents people have: .txt/.md, .docx, .html/.htm and .pdf.

`read_document` picks the reader by the file's content first (a Word file saved as ``plan.txt`` is
still read as Word) and by its suffix otherwise. Every reader returns plain text in the form the
drafter reads, one paragraph a line, so that the same plan gives the same draft whatever its
container:

- **.docx** (the ``docx`` extra, python-docx): paragraphs and headings in order, and tables where
  they stand. A task table (任务分解表) — a header row naming the task (工作任务, 重点任务 …), the
  owner (责任单位, 牵头单位 …) and the deadline (完成时限, 时间节点 …) — gives one line per row,
  ``<task>（责任单位：<owner>；完成时限：<deadline>）``, which the drafter reads as the target's
  owner and deadline. Other tables give one line per row, cells joined by "，".
- **.html/.htm** (the standard library's ``html.parser``): the article body only — the element
  government sites put it in (``TRS_Editor``, ``zoom``, ``article``, ``content`` …), else the block
  with the most Chinese text — never the navigation, footer, 备案号 or related links. The charset
  comes from a byte order mark, else the page's ``<meta charset>``; GB2312 and GBK are read as
  their superset GB18030.
- **.pdf** (the ``pdf`` extra, pypdf): the text layer, page by page; a PDF without one (a scan) is
  an error that says so.
- anything else: text in UTF-8, UTF-16 with BOM or GB18030/GBK (`read_text_file`).

Every problem is a `ConfigError` naming the file and the fix.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import attrs

from targetkit.exceptions import ConfigError

__all__ = ["read_document", "read_text_file"]

_TEXT_HINT = (
    "save the text as UTF-8 (e.g. iconv -f GB18030 -t UTF-8), or copy it from the web page again"
)


def read_document(path: str | Path) -> str:
    """Return the text of a plan document (.txt/.md, .docx, .html/.htm or .pdf).

    Raises:
        ConfigError: when the file cannot be read, is in a format targetkit cannot read, needs an
            extra that is not installed, or holds no text.
    """
    path = Path(path)
    source = str(path)
    raw = _read_bytes(path)
    suffix = path.suffix.lower()
    if raw.startswith(b"PK\x03\x04"):
        if _is_docx(raw):
            return _docx_text(raw, source)
        raise ConfigError.single(
            source,
            "",
            "is a zip archive but not a Word .docx document",
            "open it and save the plan as .docx, .pdf or plain text",
        )
    if raw.startswith(b"%PDF-"):
        return _pdf_text(raw, source)
    if raw.startswith(b"\xd0\xcf\x11\xe0") or suffix in (".doc", ".wps"):
        raise ConfigError.single(
            source,
            "",
            "is an old Word (.doc) or WPS file, which targetkit cannot read",
            "open it and save it as .docx (Word: 另存为 → Word 文档 .docx), or as plain text",
        )
    if suffix in (".html", ".htm", ".shtml", ".xhtml") or _looks_html(raw):
        return _html_text(raw, source)
    if suffix == ".docx":
        raise ConfigError.single(
            source,
            "",
            "is named .docx but is not a Word document",
            "check that it is the right file",
        )
    if suffix == ".pdf":
        raise ConfigError.single(
            source, "", "is named .pdf but is not a PDF", "check that it is the right file"
        )
    return _decode_text(raw, source)


def read_text_file(path: str | Path) -> str:
    """Read a plan's text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030/GBK.

    Raises:
        ConfigError: when the file cannot be read or is not text in one of these encodings.
    """
    path = Path(path)
    return _decode_text(_read_bytes(path), str(path))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError.single(
            str(path), "", f"cannot be read ({exc.strerror})", "check the path"
        ) from exc


def _decode_text(raw: bytes, source: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ConfigError.single(
                source, "", "starts like UTF-16 but is not valid UTF-16", _TEXT_HINT
            ) from exc
    if b"\x00" in raw:
        raise ConfigError.single(
            source,
            "",
            "is a binary file, not text",
            "save the plan as .docx, .pdf, .html or plain text (UTF-8)",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ConfigError.single(
            source,
            "",
            f"is neither UTF-8 nor GB18030/GBK text (undecodable byte at offset {exc.start})",
            _TEXT_HINT,
        ) from exc
    if not _looks_chinese(text):
        raise ConfigError.single(
            source,
            "",
            "is neither UTF-8 nor GB18030/GBK text (decoding it as GB18030 gives no Chinese text)",
            _TEXT_HINT,
        )
    return text


def _looks_chinese(text: str) -> bool:
    """Tell GB18030-decoded Chinese from another encoding decoded by mistake."""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return True
    good = sum(
        1
        for ch in wide
        if "\u4e00" <= ch <= "\u9fff"
        or "\u3000" <= ch <= "\u303f"
        or "\uff00" <= ch <= "\uffef"
        or ch in "“”‘’—…·"
    )
    return good / len(wide) >= 0.8


# --------------------------------------------------------------------------- Word (.docx)

_TASK_COLUMN = re.compile(r"任务|工作内容|目标|举措|事项|内容")
_OWNER_COLUMN = re.compile(r"责任单位|牵头单位|责任部门|牵头部门|主责单位|承办单位|负责单位")
_WHEN_COLUMN = re.compile(r"时限|时间|节点|进度")


def _is_docx(raw: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _docx_text(raw: bytes, source: str) -> str:
    try:
        import docx  # noqa: PLC0415 - an optional extra, imported when a .docx is read
        from docx.table import Table  # noqa: PLC0415
        from docx.text.paragraph import Paragraph  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError.single(
            source,
            "",
            "is a Word .docx document, and reading it needs python-docx, which is not installed",
            "pip install 'targetkit[docx]'",
        ) from exc
    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises many kinds on a damaged file
        raise ConfigError.single(
            source,
            "",
            f"is a damaged Word document ({type(exc).__name__})",
            "open it in Word or WPS and save it again as .docx",
        ) from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(block, document).text.strip()
            if text:
                lines.append(text)
        elif tag == "tbl":
            rows = [[_cell_text(c.text) for c in row.cells] for row in Table(block, document).rows]
            lines += _table_lines(rows)
    return "\n".join(lines) + "\n"


def _cell_text(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _table_lines(rows: list[list[str]]) -> list[str]:
    """Return the lines of a table: a task table as annotated tasks, any other row by row."""
    rows = [_dedupe_merged(r) for r in rows if any(c for c in r)]
    if not rows:
        return []
    header = rows[0]
    task = _column(header, _TASK_COLUMN, avoid=_OWNER_COLUMN)
    owner = _column(header, _OWNER_COLUMN)
    when = _column(header, _WHEN_COLUMN)
    if task is not None and (owner is not None or when is not None):
        out = []
        for row in rows[1:]:
            if task >= len(row) or not row[task]:
                continue
            notes = []
            if owner is not None and owner < len(row) and row[owner]:
                notes.append(f"责任单位：{row[owner]}")
            if when is not None and when < len(row) and row[when]:
                notes.append(f"完成时限：{row[when]}")
            text = row[task].rstrip("。；;")
            out.append(text + (f"（{'；'.join(notes)}）" if notes else "") + "。")
        return out
    return ["，".join(c for c in row if c) + "。" for row in rows]


def _dedupe_merged(row: list[str]) -> list[str]:
    """Drop the repeats python-docx gives for a horizontally merged cell."""
    out: list[str] = []
    for cell in row:
        if not out or cell != out[-1] or not cell:
            out.append(cell)
        else:
            out.append("")
    return out


def _column(
    header: list[str], pattern: re.Pattern[str], avoid: re.Pattern[str] | None = None
) -> int | None:
    for i, cell in enumerate(header):
        if pattern.search(cell) and not (avoid is not None and avoid.search(cell)):
            return i
    return None


# --------------------------------------------------------------------------- PDF


def _pdf_text(raw: bytes, source: str) -> str:
    try:
        import pypdf  # noqa: PLC0415 - an optional extra, imported when a PDF is read
    except ImportError as exc:
        raise ConfigError.single(
            source,
            "",
            "is a PDF, and reading it needs pypdf, which is not installed",
            "pip install 'targetkit[pdf]'",
        ) from exc
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise ConfigError.single(
                source,
                "",
                "is an encrypted PDF",
                "open it and save or print it again without a password, or copy its text",
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except ConfigError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise ConfigError.single(
            source,
            "",
            f"is a damaged PDF ({type(exc).__name__})",
            "open it and save or print it again as PDF, or copy its text",
        ) from exc
    text = "\n".join(pages)
    if not re.search(r"[\u4e00-\u9fff0-9A-Za-z]", text):
        raise ConfigError.single(
            source,
            "",
            f"is a PDF without a text layer ({len(pages)} pages of images, e.g. a scan)",
            "run OCR on it first (e.g. ocrmypdf -l chi_sim in.pdf out.pdf), or type or copy the text",
        )
    # CJK fonts often map glyphs to look-alike radicals (⼯ for 工): read them as the characters
    text = _RADICALS.sub(_character, text)
    # a PDF breaks lines at the page width; the drafter re-joins body text broken mid-sentence
    return "\n".join(line.strip() for line in text.splitlines()) + "\n"


_RADICALS = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff]")
# the simplified radicals Unicode gives no decomposition (⻓ is not NFKC-equal to 长)
_SIMPLIFIED_RADICALS = dict(
    zip(
        "⺰⻅⻆⻈⻉⻋⻐⻓⻔⻙⻚⻛⻜⻠⻢⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳",
        "纟见角讠贝车钅长门韦页风飞饣马鱼鸟卤麦黄黾齐齿龙龟",
        strict=True,
    )
)


def _character(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _SIMPLIFIED_RADICALS.get(ch) or unicodedata.normalize("NFKC", ch)


# --------------------------------------------------------------------------- HTML

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.IGNORECASE)
_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
    "article", "ul", "ol", "blockquote", "pre", "dd", "dt", "center", "form",
}  # fmt: skip
_DROP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "aside", "iframe", "button", "select", "textarea", "svg", "head", "template"}  # fmt: skip
_DROP_NAMES = re.compile(
    r"nav|menu|footer|foot|header|head(?!line)|breadcrumb|crumb|share|related|relate|copyright|"
    r"beian|sidebar|side|toolbar|tool|links|friend|search|login|banner|position|location|print",
    re.IGNORECASE,
)
_BODY_NAMES = re.compile(
    r"TRS_Editor|TRS_UEDITOR|^zoom$|article|content|zw|detail|Custom_UnionStyle|main-text|maintext|"
    r"news_content|con_text|pages_content|view",
    re.IGNORECASE,
)
_FOOTER_LINE = re.compile(
    r"ICP备|公网安备|版权所有|主办单位|承办单位|网站标识码|技术支持|联系我们|网站地图|扫一扫|"
    r"分享到|打印本页|关闭窗口|【字体|字号[:：]|上一篇|下一篇|相关链接|相关文章|责任编辑"
)


# pages nest a few dozen levels; deeper markup is kept flat so that no walk can recurse too far
_MAX_DEPTH = 150


@attrs.define
class _Node:
    tag: str
    attributes: dict[str, str]
    parent: _Node | None
    children: list[_Node | str] = attrs.Factory(list)
    han: int = -1  # Chinese characters below, counted once


class _TreeBuilder(HTMLParser):
    """Build a light tree of the page (html.parser forgives broken markup)."""

    _VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node(tag="#root", attributes={}, parent=None)
        self.current = self.root
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag=tag, attributes={k: v or "" for k, v in attrs}, parent=self.current)
        self.current.children.append(node)
        if tag not in self._VOID and self.depth < _MAX_DEPTH:
            self.current = node
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        node: _Node | None = self.current
        climbed = 0
        while node is not None and node.tag != tag:
            node = node.parent
            climbed += 1
        if node is not None and node.parent is not None:
            self.current = node.parent
            self.depth = max(0, self.depth - climbed - 1)

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def _html_text(raw: bytes, source: str) -> str:
    markup = _decode_html(raw, source)
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    body = _article(builder.root)
    title = _first(builder.root, "h1")
    lines = _lines(body)
    if title is not None and body is not _ancestor_or_self(title, body):
        heading = "".join(_lines(title)).strip()
        if heading and heading not in lines[:3]:
            lines.insert(0, heading)
    lines = [ln for ln in lines if not _FOOTER_LINE.search(ln)]
    if not any(re.search(r"[\u4e00-\u9fff]", ln) for ln in lines):
        raise ConfigError.single(
            source,
            "",
            "is a web page without Chinese body text",
            "save the page with its text (Ctrl+S, 网页，全部), or copy the plan's text into a .txt file",
        )
    return "\n".join(lines) + "\n"


def _decode_html(raw: bytes, source: str) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    meta = _META_CHARSET.search(raw[:4096])
    name = meta[1].decode("ascii").lower() if meta else ""
    if name in ("gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn"):
        name = "gb18030"
    if name:
        try:
            return raw.decode(name)
        except LookupError:
            pass  # an unknown charset name: try what sites use
        except UnicodeDecodeError:
            pass  # a page that says one charset and is another
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ConfigError.single(
            source,
            "",
            f"is a web page in an encoding other than UTF-8 or GB18030/GBK (undecodable byte at offset {exc.start})",
            "save the page again as UTF-8, or copy the plan's text into a .txt file",
        ) from exc


def _names(node: _Node) -> str:
    return f"{node.attributes.get('id', '')} {node.attributes.get('class', '')}"


def _walk(node: _Node) -> list[_Node]:
    out = [node]
    for child in node.children:
        if isinstance(child, _Node):
            out += _walk(child)
    return out


def _dropped(node: _Node) -> bool:
    return node.tag in _DROP_TAGS or bool(_DROP_NAMES.search(_names(node)))


def _han(node: _Node) -> int:
    """Return the number of Chinese characters under the node, outside dropped parts."""
    if node.han < 0:
        node.han = 0
        if not _dropped(node):
            for child in node.children:
                if isinstance(child, str):
                    node.han += len(_HAN.findall(child))
                else:
                    node.han += _han(child)
    return node.han


_HAN = re.compile(r"[\u4e00-\u9fff]")


def _article(root: _Node) -> _Node:
    """Return the element holding the article: a named body element, else the densest block."""
    nodes = [n for n in _walk(root) if not _dropped(n)]
    named = [n for n in nodes if _BODY_NAMES.search(_names(n)) and _han(n) >= 20]
    if named:
        return max(named, key=_han)
    body = _first(root, "body") or root
    total = _han(body)
    best = body
    # the deepest block that still holds most of the page's Chinese text
    for node in nodes:
        if node.tag in ("div", "td", "article", "section", "main") and _han(node) >= 0.6 * total:
            best = node
    return best


def _first(root: _Node, tag: str) -> _Node | None:
    return next((n for n in _walk(root) if n.tag == tag), None)


def _ancestor_or_self(node: _Node, of: _Node) -> _Node | None:
    current: _Node | None = node
    while current is not None:
        if current is of:
            return of
        current = current.parent
    return None


def _lines(node: _Node) -> list[str]:
    """Return the node's text, one line per block; table rows with cells joined by "，"."""
    parts: list[str] = []

    def visit(n: _Node) -> None:
        if _dropped(n) and n is not node:
            return
        if n.tag == "table":
            rows = [
                [
                    _cell_text(" ".join(_lines(cell)))
                    for cell in _walk(tr)
                    if cell.tag in ("td", "th")
                ]
                for tr in _walk(n)
                if tr.tag == "tr"
            ]
            parts.append("\n" + "\n".join(_table_lines(rows)) + "\n")
            return
        if n.tag in ("td", "th"):
            parts.append("\t")
        for child in n.children:
            if isinstance(child, str):
                parts.append(re.sub(r"\s+", " ", child))
            else:
                visit(child)
        if n.tag in _BLOCK_TAGS:
            parts.append("\n")

    visit(node)
    out = []
    for line in "".join(parts).split("\n"):
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        text = "，".join(cells) if len(cells) > 1 else (cells[0] if cells else "")
        text = text.replace("\u3000", " ").strip()
        if text:
            out.append(text)
    return out


def _looks_html(raw: bytes) -> bool:
    head = raw[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]
