"""Keep the documentation honest: its examples run, and what it lists exists.

- every complete plan in the docs (a ```toml block with a [plan] table, a ```json block with a
  "plan" key) parses;
- the tutorial's plan and CSV blocks are the files in docs/examples/first-plan, and its check
  gives the exit codes and statuses the tutorial claims;
- every ```console block runs (in docs/examples/first-plan) and prints what the page shows;
- every ```python block runs (from the repository root), and prints the ```text block after it;
- every option named in docs/reference/cli.md exists in the command's --help, and the reverse;
- every key of the JSON schema in docs/reference/cli.md appears in real `check --format json`
  output with the documented type, and every key of real output is documented.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import targetkit as tk
from targetkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLE = DOCS / "examples" / "first-plan"
GETTING_STARTED = DOCS / "getting-started.md"
PLAN_FILE = DOCS / "reference" / "plan-file.md"
CLI = DOCS / "reference" / "cli.md"
DOC_PAGES = sorted(DOCS.rglob("*.md"))

_FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


class Block:
    """One fenced code block of a Markdown page."""

    def __init__(self, page: Path, lang: str, body: str, line: int, span: tuple[int, int]) -> None:
        self.page = page
        self.lang = lang
        self.body = body
        self.line = line
        self.start, self.end = span

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(page, m[1], m[2], text.count("\n", 0, m.start()) + 1, m.span())
        for m in _FENCE.finditer(text)
    ]


def params(lang: str, pages: list[Path], keep: Any = None) -> list[Any]:
    found = [b for p in pages for b in blocks(p) if b.lang == lang and (keep is None or keep(b))]
    return [pytest.param(b, id=b.where) for b in found]


def normalise(text: str) -> str:
    """Compare outputs line by line, ignoring trailing spaces and surrounding blank lines."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def help_text(argv: list[str]) -> str:
    # argparse prints --help to sys.stdout itself, not to main()'s stdout argument.
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([*argv, "--help"])
    assert code == 0
    return buf.getvalue()


# --------------------------------------------------------------------------- complete plans


def _has_plan_table(block: Block) -> bool:
    return re.search(r"^\[plan\][ \t]*(#.*)?$", block.body, re.MULTILINE) is not None


@pytest.mark.parametrize("block", params("toml", DOC_PAGES, _has_plan_table))
def test_complete_toml_plans_parse(block: Block) -> None:
    plan = tk.parse(tomllib.loads(block.body), source=block.where, text=block.body)
    assert plan.targets


def test_plan_file_reference_has_complete_plans() -> None:
    complete = [b for b in blocks(PLAN_FILE) if b.lang == "toml" and _has_plan_table(b)]
    assert len(complete) >= 2


@pytest.mark.parametrize("block", params("json", [PLAN_FILE]))
def test_json_plans_parse(block: Block) -> None:
    data = json.loads(block.body)
    assert "plan" in data
    plan = tk.parse(data, source=block.where, text=block.body)
    assert plan.targets


# --------------------------------------------------------------------------- the tutorial


def test_tutorial_blocks_are_the_example_files() -> None:
    found = blocks(GETTING_STARTED)
    tomls = [b.body for b in found if b.lang == "toml"]
    csvs = [b.body for b in found if b.lang == "csv"]
    assert tomls == [(EXAMPLE / "plan.toml").read_text(encoding="utf-8")]
    assert csvs == [
        (EXAMPLE / "actuals.csv").read_text(encoding="utf-8"),
        (EXAMPLE / "july.csv").read_text(encoding="utf-8"),
    ]


def _statuses(argv: list[str]) -> tuple[int, dict[str, Any]]:
    code, out, err = run([*argv, "--format", "json"])
    assert err == ""
    return code, json.loads(out)


def test_tutorial_check_in_june(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    argv = ["check", "plan.toml", "--actuals", "actuals.csv", "--as-of", "2023-06-20"]
    code, doc = _statuses(argv)
    assert code == 1
    assert {r["target"]: r["status"] for r in doc["results"]} == {
        "tech_contract_turnover": "on_track",
        "hightech_net_increase": "behind",
        "action_plan_issued": "behind",
    }
    turnover = doc["results"][0]
    assert turnover["completion"] == pytest.approx(0.45)
    assert turnover["expected"] == pytest.approx(5 / 12, abs=1e-6)
    assert turnover["gap_pp"] == pytest.approx(3.3333, abs=1e-4)
    assert [(a["key"], a["severity"]) for a in doc["alerts"]] == [
        ("hightech_net_increase:status", "warning"),
        ("action_plan_issued:status", "warning"),
    ]
    assert run([*argv, "--fail-on", "red"])[0] == 0
    assert run([*argv, "--fail-on", "never"])[0] == 0
    # checked on 31 May the milestone is outside its 30-day window
    _, may = _statuses(["check", "plan.toml", "-a", "actuals.csv", "--as-of", "2023-05-31"])
    assert may["results"][2]["status"] == "behind"  # 30 June is exactly 30 days away
    _, may = _statuses(["check", "plan.toml", "-a", "actuals.csv", "--as-of", "2023-05-30"])
    assert may["results"][2]["status"] == "on_track"


def test_tutorial_check_in_july(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    argv = ["check", "plan.toml", "-a", "actuals.csv", "-a", "july.csv", "--as-of", "2023-07-20"]
    code, doc = _statuses(argv)
    assert code == 2
    assert {r["target"]: r["status"] for r in doc["results"]} == {
        "tech_contract_turnover": "on_track",
        "hightech_net_increase": "off_track",
        "action_plan_issued": "met",
    }
    assert [(a["key"], a["severity"]) for a in doc["alerts"]] == [
        ("hightech_net_increase:status", "warning"),
    ]
    # the folder form reads both files
    assert _statuses(["check", "plan.toml", "-a", ".", "--as-of", "2023-07-20"]) == (code, doc)
    assert run([*argv, "--fail-on", "never"])[0] == 0


def test_tutorial_stale_data_raises_overdue_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    _, doc = _statuses(["check", "plan.toml", "-a", "actuals.csv", "--as-of", "2023-07-21"])
    turnover = doc["results"][0]
    assert turnover["observed_on"] == "2023-05-31"
    assert turnover["expected"] == pytest.approx(5 / 12, abs=1e-6)
    overdue = [a for a in doc["alerts"] if a["kind"] == "overdue"]
    assert ("tech_contract_turnover", "warning") in [
        (a["indicator"], a["severity"]) for a in overdue
    ]


def test_tutorial_validate_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = [
        line
        for line in GETTING_STARTED.read_text(encoding="utf-8").splitlines()
        if line.startswith("error: plan.toml:")
    ]
    assert len(shown) == 1
    text = (EXAMPLE / "plan.toml").read_text(encoding="utf-8")
    (tmp_path / "plan.toml").write_text(
        text.replace('kind = "at_least"', 'kind = "at_leest"'), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["validate", "plan.toml"])
    assert (code, out) == (3, "")
    assert normalise(err) == shown[0]


# --------------------------------------------------------------------------- runnable blocks


def console_commands() -> Iterator[Any]:
    for page in DOC_PAGES:
        for block in blocks(page):
            if block.lang != "console":
                continue
            command: str | None = None
            output: list[str] = []
            for line in [*block.body.splitlines(), "$ "]:
                if line.startswith("$ "):
                    if command is not None:
                        yield pytest.param(command, "\n".join(output), id=block.where)
                    command, output = line[2:], []
                else:
                    output.append(line)


@pytest.mark.parametrize(("command", "expected"), list(console_commands()))
def test_console_blocks(command: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = shlex.split(command)
    assert argv[0] == "targetkit"
    monkeypatch.chdir(EXAMPLE)
    _, out, err = run(argv[1:])
    assert normalise(out + err) == normalise(expected)


def python_blocks() -> Iterator[Any]:
    for page in DOC_PAGES:
        text = page.read_text(encoding="utf-8")
        for block, after in itertools.pairwise([*blocks(page), None]):
            if block is None or block.lang != "python":
                continue
            expected = None
            if (
                after is not None
                and after.lang == "text"
                and not text[block.end : after.start].strip()
            ):
                expected = after.body
            yield pytest.param(block, expected, id=block.where)


@pytest.mark.parametrize(("block", "expected"), list(python_blocks()))
def test_python_blocks(block: Block, expected: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    buf = io.StringIO()
    code = compile(block.body, block.where, "exec")
    with contextlib.redirect_stdout(buf):
        exec(code, {"__name__": "__docs__"})  # noqa: S102 - running the docs' own examples is the point
    if expected is not None:
        assert normalise(buf.getvalue()) == normalise(expected)


# --------------------------------------------------------------------------- CLI options

_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])(?![\w-])")


def _sections(page: Path) -> dict[str, str]:
    """Split a page at its level-2 headings: {heading: text}, without Python's own ``-m``."""
    out: dict[str, str] = {}
    heading = ""
    text = re.sub(r"python3? -m", "python", page.read_text(encoding="utf-8"))
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        out[heading] = out.get(heading, "") + line + "\n"
    return out


def _help_options(argv: list[str]) -> set[str]:
    return set(_OPTION.findall(help_text(argv)))


def test_cli_options_exist() -> None:
    sections = _sections(CLI)
    commands = {
        "validate": ["validate"],
        "check": ["check"],
        "report": ["report"],
        "draft": ["draft"],
        "alerts history": ["alerts", "history"],
        "alerts silence": ["alerts", "silence"],
        "alerts silences": ["alerts", "silences"],
        "alerts unsilence": ["alerts", "unsilence"],
        "alerts prune": ["alerts", "prune"],
        "sources show": ["sources", "show"],
        "units": ["units"],
    }
    every = _help_options([]) | {o for argv in commands.values() for o in _help_options(argv)}
    for heading, text in sections.items():
        named = set(_OPTION.findall(text))
        command = next((c for c in commands if heading == f"`targetkit {c}`"), None)
        known = _help_options(commands[command]) if command else every
        assert named <= known, f"{heading}: {sorted(named - known)} not in --help"
    check_help = _help_options(["check"])
    documented = set(_OPTION.findall(sections["`targetkit check`"]))
    assert {"--actuals", "-a", "--as-of", "--format", "-f", "--lang", "--fail-on"} <= documented
    assert check_help - {"-h", "--help"} <= documented


# --------------------------------------------------------------------------- JSON schema


def _schema_rows() -> list[tuple[str, str]]:
    text = CLI.read_text(encoding="utf-8")
    start = text.index("#### The JSON schema")
    end = text.index("\n### ", start)
    rows = re.findall(r"^\| `([\w.\[\]]+)` \| ([^|]+) \|", text[start:end], re.MULTILINE)
    return [(path, kind.strip()) for path, kind in rows]


def _values(doc: Any, path: str) -> list[Any]:
    """Return every value at a documented path such as ``results[].evidence[].stage``."""
    current = [doc]
    for part in path.split("."):
        key, many = part.removesuffix("[]"), part.endswith("[]")
        found = [item[key] for item in current if isinstance(item, dict) and key in item]
        current = [x for v in found for x in v] if many else found
    return current


def _paths(doc: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= _paths(value, path)
    elif isinstance(doc, list):
        for item in doc:
            out |= _paths(item, prefix + "[]")
    return out


_STAGED_PLAN = """
[plan]
id = "staged"
title = "阶段性里程碑"
period = { start = 2023-01-01, end = 2023-12-31 }

[[targets]]
id = "lab"
title = "实验室项目立项、动工"
owner = "市科技局"
rule = { kind = "milestone", stages = [
  { id = "approved", name = "立项", due = 2023-03-31 },
  { id = "started", name = "动工", due = 2023-09-30 },
] }
"""


@pytest.fixture
def json_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    (tmp_path / "plan.toml").write_text(_STAGED_PLAN, encoding="utf-8")
    (tmp_path / "actuals.csv").write_text(
        "indicator,date,value,unit,reported_at\nlab,2023-03-20,approved,,2023-03-21\n",
        encoding="utf-8",
    )
    runs = [
        [str(EXAMPLE / "plan.toml"), "-a", str(EXAMPLE / "actuals.csv"), "--as-of", "2023-06-20"],
        [str(EXAMPLE / "plan.toml"), "-a", str(EXAMPLE / "actuals.csv"), "--as-of", "2023-07-21"],
        [str(EXAMPLE / "plan.toml"), "-a", str(EXAMPLE), "--as-of", "2023-07-20"],
        [str(tmp_path / "plan.toml"), "-a", str(tmp_path / "actuals.csv"), "--as-of", "2023-06-30"],
    ]
    outputs = []
    for argv in runs:
        _, doc = _statuses(["check", *argv])
        outputs.append(doc)
    return outputs


def _matches(value: Any, kind: str) -> bool:
    if value is None:
        return "or null" in kind
    base = kind.removesuffix(" or null")
    checks: dict[str, Callable[[Any], object]] = {
        "string": lambda v: isinstance(v, str),
        "date": lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array of objects": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
        "array of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    }
    return bool(checks[base](value))


def test_json_schema_keys_appear_in_real_output(json_outputs: list[Any]) -> None:
    rows = _schema_rows()
    assert len(rows) > 40
    for path, kind in rows:
        values = [v for doc in json_outputs for v in _values(doc, path)]
        assert values, f"{path} does not appear in real JSON output"
        wrong = [v for v in values if not _matches(v, kind)]
        assert not wrong, f"{path} is documented as {kind}, got {wrong[:3]}"


def test_json_output_keys_are_documented(json_outputs: list[Any]) -> None:
    documented = {path for path, _ in _schema_rows()}
    real = {p for doc in json_outputs for p in _paths(doc)}
    assert real <= documented, sorted(real - documented)


def test_csv_columns_are_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    text = CLI.read_text(encoding="utf-8")
    start = text.index("### CSV")
    table = text[start : text.index("\n### ", start + 1)]
    cells = re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)
    documented = [c for cell in cells for c in re.findall(r"`(\w+)`", cell)]
    monkeypatch.chdir(EXAMPLE)
    _, out, _ = run(
        ["check", "plan.toml", "-a", "actuals.csv", "--as-of", "2023-06-20", "-f", "csv"]
    )
    assert documented == out.splitlines()[0].split(",")


# --------------------------------------------------------------------------- links

_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """Return GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m[1]) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("page", DOC_PAGES, ids=[str(p.relative_to(ROOT)) for p in DOC_PAGES])
def test_relative_links_resolve(page: Path) -> None:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    for target in _LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            assert anchor in _anchors(dest), f"{page.name}: no heading for #{anchor} in {dest.name}"
