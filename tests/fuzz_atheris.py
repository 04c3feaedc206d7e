"""Coverage-guided fuzzing with atheris (libFuzzer) for long campaigns; not part of the test suite.

atheris is not a dependency of targetkit: install it into the environment you fuzz in
(``pip install atheris``), then run one target, passing libFuzzer's own options after it::

    python -m tests.fuzz_atheris actuals -max_total_time=600 fuzz-corpus/actuals
    python -m tests.fuzz_atheris mutated-plans -runs=200000

Targets that read bytes (``plan``, ``plan-json``, ``actuals``, ``units``, ``dates``, ``cli``) feed
libFuzzer's input straight to the reader; the others run a hypothesis test of
tests/test_fuzz.py with libFuzzer choosing hypothesis' random draws. Any exception other than
a `TargetkitError` (or, for dates, ValueError) stops the run with the input that caused it; see
docs/how-to/fuzzing.md.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris  # type: ignore[import-not-found, import-untyped, unused-ignore]

with atheris.instrument_imports():
    import targetkit as tk
    from targetkit.cli import main
    from targetkit.dates import parse_date

from tests import test_fuzz

_FOLDER = Path(tempfile.mkdtemp(prefix="targetkit-atheris-"))
_PLAN_FILE = _FOLDER / "plan.toml"
_PLAN_FILE.write_text(test_fuzz._BASE_TOML, encoding="utf-8")


def _file(name: str, data: bytes) -> Path:
    path = _FOLDER / name
    path.write_bytes(data)
    return path


def _expect(call: Callable[[], object], *allowed: type[Exception]) -> None:
    """Call; a TargetkitError must read well, ``allowed`` errors pass, anything else escapes."""
    errors: tuple[type[Exception], ...] = (tk.TargetkitError, *allowed)
    try:
        call()
    except errors as exc:
        if isinstance(exc, tk.TargetkitError):
            test_fuzz.assert_clear(exc)


def _plan(data: bytes) -> None:
    _expect(lambda: tk.load(_file("fuzz.toml", data)))


def _plan_json(data: bytes) -> None:
    _expect(lambda: tk.load(_file("fuzz.json", data)))


def _actuals(data: bytes) -> None:
    _expect(lambda: tk.read_actuals(_file("fuzz.csv", data), test_fuzz.PLAN))


def _units(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    units = tk.default_units()
    _expect(lambda: units.check(text))
    _expect(lambda: units.parse_quantity(text))


def _dates(data: bytes) -> None:
    _expect(lambda: parse_date(data.decode("utf-8", errors="replace")), ValueError)


def _cli(data: bytes) -> None:
    """Run the command line on the example plan with arguments taken from the input."""
    words = data.decode("utf-8", errors="replace").split("\x00")
    argv = ["check", str(_PLAN_FILE), "-a", str(_file("cli.csv", data)), *words[1:6]]
    out, err = io.StringIO(), io.StringIO()
    code = main([a for a in argv if a != "--debug"], stdout=out, stderr=err)
    test_fuzz.assert_clean_exit(argv, code, out.getvalue(), err.getvalue())


_HYPOTHESIS = {
    "arbitrary-mappings": test_fuzz.test_parse_arbitrary_mappings,
    "mutated-plans": test_fuzz.test_parse_mutated_plans,
    "odd-data": test_fuzz.test_evaluate_and_render_odd_plans_with_data,
    "frames": test_fuzz.test_actuals_from_arbitrary_frames,
    "unit-strings": test_fuzz.test_unit_strings,
    "quantities": test_fuzz.test_quantity_strings,
    "draft": test_fuzz.test_draft_from_text,
}
_TARGETS: dict[str, Callable[[bytes], None]] = {
    "plan": _plan,
    "plan-json": _plan_json,
    "actuals": _actuals,
    "units": _units,
    "dates": _dates,
    "cli": _cli,
    **{name: test.hypothesis.fuzz_one_input for name, test in _HYPOTHESIS.items()},
}


def run(argv: list[str]) -> None:
    """Fuzz the target named by ``argv[1]``; the rest of ``argv`` goes to libFuzzer."""
    if len(argv) < 2 or argv[1] not in _TARGETS:
        sys.exit(
            "usage: python -m tests.fuzz_atheris TARGET [libFuzzer options] [corpus folder]\n"
            "targets: " + ", ".join(sorted(_TARGETS))
        )
    atheris.Setup([argv[0], *argv[2:]], _TARGETS[argv[1]])
    atheris.Fuzz()


if __name__ == "__main__":
    run(sys.argv)
