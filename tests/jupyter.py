"""Run notebooks in a real Jupyter kernel (ipykernel, driven by nbclient), as Jupyter would.

The kernel is this interpreter (``sys.executable``), named by a kernelspec written to a
temporary folder, so it is found in a fresh virtual environment without ``ipykernel install``
and never picks up another Python's kernel. IPython's profile and Jupyter's runtime files go to
that folder too, leaving the user's home alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

KERNEL = "targetkit-test"


@contextlib.contextmanager
def _kernel_home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="targetkit-kernel-") as folder:
        home = Path(folder)
        spec = home / "kernels" / KERNEL
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "targetkit test kernel",
                    "language": "python",
                }
            ),
            encoding="utf-8",
        )
        saved = {
            k: os.environ.get(k)
            for k in ("IPYTHONDIR", "JUPYTER_PATH", "JUPYTER_RUNTIME_DIR", "JUPYTER_PLATFORM_DIRS")
        }
        os.environ["IPYTHONDIR"] = str(home / "ipython")
        os.environ["JUPYTER_PATH"] = str(home)  # where the kernelspec above is looked up
        os.environ["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
        os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
        try:
            yield home
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def execute(notebook: Any, cwd: Path, *, timeout: int = 300) -> Any:
    """Execute every cell of ``notebook`` (an nbformat node) in a fresh kernel; return it.

    Raises nbclient's ``CellExecutionError`` when a cell raises.
    """
    # matplotlib builds its font cache on first use and, when that is slow, says so on stderr;
    # build it here, so that a fresh machine's first kernel does not report it as a cell's output.
    with contextlib.suppress(ImportError):
        import matplotlib.font_manager  # noqa: F401
    with _kernel_home():
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(cwd)}},
        )
        client.execute()
    return notebook


def execute_file(path: Path, *, timeout: int = 300) -> Any:
    """Read a notebook file, execute it in its own folder, and return the executed notebook."""
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return execute(notebook, path.parent, timeout=timeout)


def mime_types(cell: Any) -> list[str]:
    """Return the mime types of a code cell's rich outputs (results and displays), in order."""
    found: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") in ("execute_result", "display_data"):
            found.extend(sorted(output["data"]))
    return found


def errors_and_warnings(notebook: Any) -> list[str]:
    """Return the text of every error output and of everything written to stderr."""
    found: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"{output['ename']}: {output['evalue']}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append(output["text"])
    return found
