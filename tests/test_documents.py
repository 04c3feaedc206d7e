"""Read plans out of the documents people have: real .docx files written by python-docx, GBK web
pages as government sites save them, and a PDF printed by Chromium; each drafts exactly as the
plain text does."""

from __future__ import annotations

import datetime as dt
import html
import io
import sys
import tempfile
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targetkit as tk
from targetkit.cli import main
from targetkit.documents import read_document
from targetkit.draft import Draft, draft_plan

from .chromium import CHROMIUM, Chromium

TITLE = "2024年某市科技局工作要点"
PARAGRAPHS = [
    "一、主要目标",
    "全年新增高新技术企业100家以上,技术合同成交额突破200亿元。",
    "全社会研发经费投入增长10%以上。",
    "二、重点任务",
    "1.力争新增省级以上创新平台14家。",
]
# a 任务分解表 as Word plans carry it: task, owner, deadline
TASKS = [
    ("工作任务", "责任单位", "完成时限"),
    ("出台《科技成果转化若干措施》", "市科技局", "2024年6月底前"),
    ("新认定科技型中小企业300家", "市科技局、各区", "2024年12月底前"),
]
# the same plan as text: the table's rows are the lines read_document gives for them
TEXT = (
    "\n".join([TITLE, *PARAGRAPHS])
    + "\n出台《科技成果转化若干措施》（责任单位：市科技局；完成时限：2024年6月底前）。\n"
    + "新认定科技型中小企业300家（责任单位：市科技局、各区；完成时限：2024年12月底前）。\n"
)


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading(TITLE, level=1)
    for text in PARAGRAPHS:
        document.add_paragraph(text)
    table = document.add_table(rows=len(TASKS), cols=3)
    for r, row in enumerate(TASKS):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    document.save(str(path))
    return path


PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{title}_某市人民政府</title><script>var nav = "首页 新闻 2099年";</script></head>
<body>
<div class="header"><ul class="nav"><li>首页</li><li>政务公开</li><li>2023年新增就业5万人</li></ul></div>
<div class="breadcrumb">当前位置：首页 &gt; 政务公开 &gt; 计划总结</div>
<div class="main">
<h1>{title}</h1>
<div class="info">发布时间：2024-02-01 来源：市科技局 【字体：大 中 小】</div>
<div class="TRS_Editor">{body}</div>
<div class="share">分享到：微信 微博</div>
<div class="related"><h3>相关链接</h3><ul><li>2023年新增高企80家</li></ul></div>
</div>
<div class="footer">主办单位：某市人民政府办公室 ICP备05000000号-1 公网安备 42050000000001号</div>
</body></html>
"""


def page_body() -> str:
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    rows = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in TASKS)
    return paragraphs + f"<table>{rows}</table>"


def toml_of(draft: Draft) -> str:
    """Return the draft's TOML without the line naming its source file."""
    text = draft.to_toml()
    return "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith(("# DRAFT plan file", "source = ", 'id = "'))
    )


@pytest.fixture
def text_draft() -> Draft:
    return draft_plan(TEXT, source="plan.txt")


def test_the_text_itself_drafts_the_table_with_owners_and_deadlines(text_draft: Draft) -> None:
    by_title = {t.title: t for t in text_draft.plan.targets}
    rule = by_title["新认定科技型中小企业300家(2024年12月底前)"]
    assert (rule.owner, rule.deadline) == ("市科技局、各区", dt.date(2024, 12, 31))
    issued = next(t for t in text_draft.plan.targets if t.rule.kind == "milestone")
    assert (issued.owner, issued.deadline) == ("市科技局", dt.date(2024, 6, 30))
    assert issued.source.endswith("（责任单位：市科技局；完成时限：2024年6月底前）")


def test_a_docx_drafts_exactly_as_its_text(tmp_path: Path, text_draft: Draft) -> None:
    path = write_docx(tmp_path / "plan.docx")
    assert read_document(path) == TEXT
    assert toml_of(draft_plan(read_document(path), source=str(path))) == toml_of(text_draft)


def test_a_docx_saved_as_txt_is_still_read_as_word(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "plan.docx")
    renamed = tmp_path / "plan.txt"
    renamed.write_bytes(path.read_bytes())
    assert read_document(renamed) == TEXT


@pytest.mark.parametrize(
    ("charset", "encoding", "bom"),
    [
        ("gb2312", "gbk", b""),
        ("GBK", "gbk", b""),
        ("utf-8", "utf-8", b""),
        ("", "utf-8", b"\xef\xbb\xbf"),
    ],
)
def test_a_saved_web_page_drafts_exactly_as_its_text(
    tmp_path: Path, text_draft: Draft, charset: str, encoding: str, bom: bytes
) -> None:
    html = PAGE.format(title=TITLE, body=page_body())
    html = (
        html.replace("charset=gb2312", f"charset={charset}")
        if charset
        else html.replace(
            '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', ""
        )
    )
    path = tmp_path / "plan.html"
    path.write_bytes(bom + html.encode(encoding))
    text = read_document(path)
    for chrome in ("首页", "ICP备", "分享到", "相关链接", "2023年新增", "发布时间", "var nav"):
        assert chrome not in text
    assert toml_of(draft_plan(text, source=str(path))) == toml_of(text_draft)


def test_a_page_without_a_named_body_keeps_its_densest_block(tmp_path: Path) -> None:
    html = (
        '<html><head><meta charset="gbk"></head><body><div id="top">首页 | 机构 | 政务公开</div>'
        f"<div><div><h2>{TITLE}</h2>"
        + "".join(f"<p>{t}</p>" for t in PARAGRAPHS)
        + '</div></div><div id="foot">版权所有 某市人民政府</div></body></html>'
    )
    path = tmp_path / "page.htm"
    path.write_bytes(html.encode("gbk"))
    text = read_document(path)
    assert text.splitlines()[0] == TITLE
    assert "首页" not in text
    assert "版权所有" not in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="scripts/install-test-deps installs Chromium")
def test_a_pdf_with_a_text_layer_drafts_as_its_text(tmp_path: Path, text_draft: Draft) -> None:
    html = tmp_path / "plan.html"
    lines = TEXT.splitlines()
    html.write_text(
        "<html><head><meta charset='utf-8'><style>body{font:11pt 'Noto Sans CJK SC';}"
        "p{margin:0 0 6pt 0}</style></head><body>"
        + "".join(f"<p>{line}</p>" for line in lines)
        + "</body></html>",
        encoding="utf-8",
    )
    with Chromium() as browser:
        browser.open(html.as_uri())
        pdf = browser.pdf()
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    text = read_document(path)
    assert [ln for ln in text.splitlines() if ln] == lines
    assert toml_of(draft_plan(text, source=str(path))) == toml_of(text_draft)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="scripts/install-test-deps installs Chromium")
def test_a_pdf_without_text_says_it_is_a_scan(tmp_path: Path) -> None:
    html = tmp_path / "scan.html"
    html.write_text(
        "<html><body><div style='width:400px;height:300px;background:#888'></div></body></html>",
        encoding="utf-8",
    )
    with Chromium() as browser:
        browser.open(html.as_uri())
        pdf = browser.pdf()
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf)
    with pytest.raises(tk.ConfigError, match="without a text layer") as info:
        read_document(path)
    assert "ocrmypdf" in info.value.problems[0].hint


def test_the_cli_drafts_a_docx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_docx(tmp_path / "plan.docx")
    out = tmp_path / "plan.toml"
    assert main(["draft", str(path), "-o", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    assert "drafted 6 targets" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("plan.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old Word (.doc)"),
        ("plan.docx", b"not a zip", "named .docx but is not a Word document"),
        ("plan.pdf", b"hello", "named .pdf but is not a PDF"),
        ("plan.pdf", b"%PDF-1.4\n%garbage", "damaged PDF"),
        ("plan.txt", b"\x00\x01\x02", "binary file"),
    ],
)
def test_documents_that_cannot_be_read_say_why(
    tmp_path: Path, name: str, data: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(tk.ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_document(path)
    assert main(["draft", str(path)]) == 3
    err = capsys.readouterr().err
    assert str(path) in err
    assert "Traceback" not in err


def test_a_zip_that_is_not_word_and_a_damaged_docx(tmp_path: Path) -> None:
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    (tmp_path / "a.docx").write_bytes(other.getvalue())
    with pytest.raises(tk.ConfigError, match="zip archive but not a Word"):
        read_document(tmp_path / "a.docx")
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("word/document.xml", "<w:document")
    (tmp_path / "b.docx").write_bytes(broken.getvalue())
    with pytest.raises(tk.ConfigError, match="damaged Word document"):
        read_document(tmp_path / "b.docx")


def test_a_missing_extra_names_the_pip_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_docx(tmp_path / "plan.docx")
    monkeypatch.setitem(sys.modules, "docx", None)  # as on a machine without the extra
    with pytest.raises(tk.ConfigError) as info:
        read_document(path)
    assert info.value.problems[0].hint == "pip install 'targetkit[docx]'"


@settings(max_examples=60)
@given(
    data=st.binary(max_size=3000)
    | st.text(max_size=2000).map(lambda t: t.encode("utf-8"))
    | st.lists(
        st.sampled_from(
            [
                "<div>",
                "</div>",
                "<p>",
                "新增高企100家",
                "<table><tr><td>",
                "</td>",
                "<meta charset=gbk>",
                "&#x4e00;",
            ]
        ),
        max_size=400,
    ).map(lambda parts: "".join(parts).encode("gb18030")),
    suffix=st.sampled_from([".html", ".pdf", ".docx", ".txt"]),
)
def test_any_bytes_read_as_text_or_fail_cleanly(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plan{suffix}"
        path.write_bytes(data)
        problem = ""
        try:
            text = read_document(path)
        except tk.ConfigError as exc:
            problem = str(exc)
        if problem:
            assert str(path) in problem
        else:
            assert isinstance(text, str)


def test_deeply_nested_markup_is_read(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text("<div>" * 5000 + "新增高新技术企业100家。" + "</div>" * 5000, encoding="utf-8")
    assert read_document(path) == "新增高新技术企业100家。\n"


CORPUS = Path(__file__).resolve().parent / "data" / "plans"


def corpus_text(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines) + "\n"


def draft_or_problem(text: str) -> str:
    """Return the draft's TOML, or the problem that stopped it."""
    try:
        try:
            return toml_of(draft_plan(text))
        except tk.ConfigError as exc:
            if "cannot tell the plan's year" not in str(exc):
                raise
            return toml_of(draft_plan(text, year=2024))
    except tk.ConfigError as exc:
        return str(exc).split(": ", 1)[1]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_every_real_plan_drafts_the_same_from_word_and_a_gbk_page(
    tmp_path: Path, path: Path
) -> None:
    text = corpus_text(path)
    lines = [line for line in text.splitlines() if line.strip()]
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(tmp_path / "plan.docx"))
    page = (
        '<html><head><meta charset="gbk"></head><body><div class="nav">首页 | 政务公开</div>'
        '<div class="TRS_Editor">'
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
        + '</div><div class="footer">主办单位：某市人民政府办公室</div></body></html>'
    )
    (tmp_path / "plan.html").write_bytes(page.encode("gb18030"))
    want = draft_or_problem(text)
    assert draft_or_problem(read_document(tmp_path / "plan.docx")) == want
    assert draft_or_problem(read_document(tmp_path / "plan.html")) == want
