"""The public surface of `targetkit` is small, sorted and complete."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import targetkit

# The renderers live in targetkit.render; their old top-level paths re-export the public names.
RENDERERS = ("formats", "report", "charts", "notebook")


def test_all_is_sorted_and_unique() -> None:
    names = list(targetkit.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_every_exported_name_exists_and_every_public_name_is_exported() -> None:
    for name in targetkit.__all__:
        assert hasattr(targetkit, name), name
    public = {
        name
        for name, value in vars(targetkit).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("targetkit")
    }
    assert public <= set(targetkit.__all__), sorted(public - set(targetkit.__all__))


def test_exported_classes_and_functions_say_they_live_in_targetkit() -> None:
    for name in targetkit.__all__:
        value = getattr(targetkit, name)
        module = getattr(value, "__module__", None)
        if module is not None and not isinstance(value, str):
            assert module.startswith("targetkit"), (name, module)


@pytest.mark.parametrize("name", RENDERERS)
def test_each_renderer_has_a_sorted_all_of_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"targetkit.render.{name}")
    names = list(module.__all__)
    assert names == sorted(names)
    for exported in names:
        assert not exported.startswith("_"), exported
        value = getattr(module, exported)
        assert getattr(value, "__module__", module.__name__) == module.__name__, exported


@pytest.mark.parametrize("name", RENDERERS)
def test_the_old_renderer_path_re_exports_the_public_names_and_nothing_private(name: str) -> None:
    old = importlib.import_module(f"targetkit.{name}")
    new = importlib.import_module(f"targetkit.render.{name}")
    assert old is not new
    assert list(old.__all__) == list(new.__all__)
    for exported in new.__all__:
        assert getattr(old, exported) is getattr(new, exported), exported
    assert sorted(n for n in vars(old) if not n.startswith("__")) == sorted(new.__all__)
    assert getattr(targetkit, name) is old  # tk.report and the like, as before
    assert "targetkit.render" in (old.__doc__ or "")


def test_importing_the_render_package_imports_no_renderer() -> None:
    code = (
        "import sys, targetkit.render\n"
        "print(sorted(m for m in sys.modules if m.startswith(('targetkit.render.', 'pandas',"
        " 'matplotlib'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
