"""Notebooks in a real Jupyter kernel: what a cell's value shows, and the shipped notebook runs.

Each test starts a fresh ipykernel (this interpreter) through nbclient, as Jupyter does, and
reads the outputs back: the mime types a front end would render, and nothing on stderr.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from .jupyter import errors_and_warnings, execute, execute_file, mime_types

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "yichang_2023"
SHIPPED = EXAMPLE / "quarterly.ipynb"

_SETUP = """\
import datetime as dt
import sys

import targetkit as tk
from targetkit.render.charts import plot_overview, plot_target

plan = tk.load("plan.toml")
actuals = tk.read_actuals("actuals", plan)
q2 = tk.evaluate(plan, actuals, as_of=dt.date(2023, 6, 30))
ev = tk.evaluate(plan, actuals, as_of=dt.date(2023, 9, 30))
"""

_CELLS = {
    "setup": _SETUP,
    "evaluation": "ev",
    "result": 'ev.result("talent_recruited")',
    "plot_target": 'plot_target(ev, "talent_recruited", actuals)',
    "plot_overview": "plot_overview(ev)",
    "changes": "ev.changes(q2)",
    "styled": "ev.styled()",
    "pyplot": '"matplotlib.pyplot" in sys.modules',
    "saved": 'plot_target(ev, "talent_recruited", actuals).savefig("chart.png"); None',
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, nbformat.NotebookNode]:
    """Execute a small notebook (one view per cell) in the example's copy; cells by name."""
    folder = tmp_path_factory.mktemp("nb")
    for name in ("plan.toml", "actuals"):
        source = EXAMPLE / name
        target = folder / name
        if source.is_dir():
            target.mkdir()
            for f in source.iterdir():
                (target / f.name).write_bytes(f.read_bytes())
        else:
            target.write_bytes(source.read_bytes())
    notebook = new_notebook(cells=[new_code_cell(src) for src in _CELLS.values()])  # type: ignore[no-untyped-call]
    done = execute(notebook, folder)
    assert errors_and_warnings(done) == []
    return dict(zip(_CELLS, done.cells, strict=True)) | {"_folder": folder}


def test_evaluation_and_result_show_as_html(small: dict[str, nbformat.NotebookNode]) -> None:
    for name in ("evaluation", "result", "changes", "styled"):
        assert mime_types(small[name]) == ["text/html", "text/plain"], name
    evaluation = small["evaluation"].outputs[0]["data"]["text/html"]
    assert evaluation.count("<tr data-target=") == 24
    result = small["result"].outputs[0]["data"]["text/html"]
    assert 'class="tk-evidence"' in result
    changes = small["changes"].outputs[0]["data"]["text/html"]
    assert "状态变化 8 项（好转 7，变差 1）" in changes


@pytest.mark.parametrize("name", ["plot_target", "plot_overview"])
def test_charts_show_as_pictures_without_pyplot(
    small: dict[str, nbformat.NotebookNode], name: str
) -> None:
    types = mime_types(small[name])
    assert "image/png" in types or "image/svg+xml" in types, types
    output = small[name].outputs[0]
    assert output["data"]["text/plain"].startswith("<Chart size ")
    png = output["data"]["image/png"]  # base64 in the notebook's JSON
    assert png.startswith("iVBORw0KGgo")  # b"\x89PNG\r\n\x1a\n"
    assert output["metadata"]["image/png"]["width"] > 300
    # no pyplot, no magic: the kernel never imported pyplot
    assert small["pyplot"].outputs[0]["data"]["text/plain"] == "False"


def test_savefig_still_saves(small: dict[str, nbformat.NotebookNode]) -> None:
    folder = small["_folder"]
    assert isinstance(folder, Path)
    assert (folder / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert small["saved"].outputs == []


def test_the_shipped_notebook_runs_in_a_fresh_kernel() -> None:
    stored = nbformat.read(SHIPPED, as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(stored)
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code), (
        "quarterly.ipynb is saved without outputs; clear them before committing"
    )
    done = execute_file(SHIPPED)  # raises CellExecutionError when a cell fails
    assert errors_and_warnings(done) == []
    cells = [c for c in done.cells if c.cell_type == "code"]
    by_source = {c.source.splitlines()[-1]: c for c in cells}
    assert mime_types(by_source["q3"]) == ["text/html", "text/plain"]
    assert mime_types(by_source["since_q2"]) == ["text/html", "text/plain"]
    assert mime_types(by_source["plot_overview(q3)"]) == ["image/png", "text/plain"]
    assert mime_types(by_source["table"]) == ["text/html", "text/plain"]
    # a chart per lagging target: 2023-09-30 has five behind and one off track (STORY.md)
    charts = by_source["    display(plot_target(q3, r.target, actuals))"]
    assert mime_types(charts) == ["image/png", "text/plain"] * 6
    sentences = by_source[
        '    print(f"{r.status.label_zh}｜{r.title}（{r.owner or plan.issuer}）：{r.message()}")'
    ]
    printed = "".join(o["text"] for o in sentences.outputs if o["output_type"] == "stream")
    assert printed.count("\n") == 6
    assert "严重滞后｜新增省级以上创新平台14家" in printed
