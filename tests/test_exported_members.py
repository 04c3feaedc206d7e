"""The public surface of `targetkit` is small, sorted and complete."""

from __future__ import annotations

import targetkit


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
