"""Units: one private pint registry with Chinese units, and a strict parser in front of it.

pint is used only to know units and the factor between two of them. Values themselves travel as
plain floats in a column next to their unit, and a column is converted with one cached factor per
(unit, unit) pair, never one Quantity per cell.

pint silently drops characters it does not understand (``'20 ％'`` parses as a bare 20) and reads
``'1,5 元'`` as 15 元, so every unit and quantity string is normalised (NFKC) and checked against a
character whitelist here before pint sees it.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from importlib import resources

import pint

from targetkit.exceptions import UnitError

__all__ = [
    "HUGE",
    "TINY",
    "UnitSystem",
    "default_units",
    "normalize_unit_text",
    "units_with",
]

_DEFINITIONS_FILE = "units.txt"

# The sizes of numbers targetkit computes with, besides 0: ratios, gaps and conversions of
# numbers in this range stay finite. Plans and actuals outside it are refused with a message.
TINY, HUGE = 1e-100, 1e100

# Characters a unit expression may hold once NFKC-normalised: CJK ideographs, ASCII letters and
# digits (exponents), the operators pint understands, %, ‰ and the micro sign's letter.
_UNIT_CHARS = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9_ /*^().%‰µμ-]*$")
_NUMBER = re.compile(
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(?P<unit>.*)$"
)


def normalize_unit_text(text: str) -> str:
    """Return ``text`` NFKC-normalised and stripped (full-width ％ becomes %, ０ becomes 0)."""
    return unicodedata.normalize("NFKC", text).strip().replace("μ", "µ")


class UnitSystem:
    """A private pint registry with targetkit's units and a plan's own definitions.

    Use `default_units()` or `units_with()` rather than building one: both are cached.
    """

    def __init__(self, extra_definitions: Iterable[str] = ()) -> None:
        self.extra_definitions: tuple[str, ...] = tuple(extra_definitions)
        self._registry: pint.UnitRegistry[float] = pint.UnitRegistry(
            None, on_redefinition="raise", autoconvert_offset_to_baseunit=False
        )
        text = resources.files("targetkit").joinpath(_DEFINITIONS_FILE).read_text(encoding="utf-8")
        for raw_line in text.splitlines():
            line = raw_line.strip()
            if line and not line.startswith("#"):
                self._registry.define(line)
        self._names: list[str] = sorted(self._collect_names(text))
        for index, definition in enumerate(self.extra_definitions):
            self._define_extra(index, definition)
        self._lock = threading.Lock()

    @staticmethod
    def _collect_names(text: str) -> set[str]:
        names: set[str] = set()
        for raw_line in text.splitlines():
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("=")]
            names.add(parts[0])
            names.update(p for p in parts[2:] if p and p != "_")
        return names

    def _define_extra(self, index: int, definition: str) -> None:
        text = normalize_unit_text(definition)
        name = text.split("=", 1)[0].strip()
        if "=" not in text or not name:
            raise UnitError(
                f"unit definition {definition!r} is not of the form 'name = definition'",
                unit=definition,
                hint="write e.g. '床位 = [bed]' or '万床位 = 10000 床位'",
            )
        try:
            self._registry.define(text)
        except pint.errors.RedefinitionError as exc:
            raise UnitError(
                f"unit {name!r} is already defined",
                unit=name,
                hint="use the existing unit, or pick another name",
            ) from exc
        except Exception as exc:  # pint's parser raises many kinds of error on bad text
            raise UnitError(
                f"unit definition {definition!r} is not valid ({str(exc) or type(exc).__name__})",
                unit=definition,
                hint="write e.g. '床位 = [bed]' or '万床位 = 10000 床位'",
            ) from exc
        self._names.append(name)
        self._names.extend(p.strip() for p in text.split("=")[2:] if p.strip() not in ("", "_"))

    @property
    def known_units(self) -> tuple[str, ...]:
        """Return the names and aliases of every defined unit, sorted."""
        return tuple(sorted(set(self._names)))

    def suggest(self, unit: str) -> str:
        """Return a "did you mean …" hint for an unknown unit, or a generic hint."""
        close = difflib.get_close_matches(unit, self._names, n=3, cutoff=0.5)
        if close:
            return "did you mean " + " or ".join(repr(c) for c in close) + "?"
        return "define it in the plan's [units] table, or use one of the built-in units"

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - the registry lives as long as the cache
    def check(self, unit: str) -> str:
        """Return the normalised unit text, or raise `UnitError` when it is not defined.

        The empty string stands for a unitless value (a rank, a milestone).
        """
        text = normalize_unit_text(unit)
        if text in ("", "1"):
            return ""
        if not _UNIT_CHARS.fullmatch(text):
            bad = next(ch for ch in text if not _UNIT_CHARS.fullmatch(ch))
            raise UnitError(
                f"unit {unit!r} contains the character {bad!r}, which no unit uses",
                unit=unit,
                hint=self.suggest(text),
            )
        try:
            with self._lock:
                self._registry.parse_units(text)
        # pint's parser raises anything from AssertionError to ZeroDivisionError on odd text
        except Exception as exc:
            raise UnitError(
                f"unit {unit!r} is not defined", unit=unit, hint=self.suggest(text)
            ) from exc
        return text

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - see check()
    def dimensionality(self, unit: str) -> str:
        """Return a readable dimensionality of ``unit`` ('[currency]', 'dimensionless', …)."""
        text = self.check(unit)
        if not text:
            return "dimensionless"
        with self._lock:
            return str(self._registry.parse_units(text).dimensionality) or "dimensionless"

    def compatible(self, a: str, b: str) -> bool:
        """Return True when a value in unit ``a`` converts to unit ``b``."""
        return self.dimensionality(a) == self.dimensionality(b)

    def is_dimensionless(self, unit: str) -> bool:
        """Return True for '', '%' and other pure numbers."""
        return self.dimensionality(unit) == "dimensionless"

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - see check()
    def factor(self, from_unit: str, to_unit: str) -> float:
        """Return the number that converts a value in ``from_unit`` to ``to_unit``.

        Raises:
            UnitError: when a unit is unknown or the two are not compatible.
        """
        a, b = self.check(from_unit), self.check(to_unit)
        if a == b:
            return 1.0
        if not self.compatible(a, b):
            raise UnitError(
                f"unit {from_unit!r} ({self.dimensionality(a)}) cannot be converted to "
                f"{to_unit!r} ({self.dimensionality(b)})",
                unit=from_unit,
                hint=f"give the value in {to_unit!r} or a unit of the same kind",
            )
        try:
            with self._lock:
                factor = float(self._registry.Quantity(1.0, a or "").to(b or "").magnitude)
        except Exception:  # noqa: BLE001 - overflow or a zero in a plan's own definitions
            factor = math.nan
        if not math.isfinite(factor) or factor == 0:
            raise UnitError(
                f"unit {from_unit!r} cannot be converted to {to_unit!r} (the factor is not a "
                "finite, non-zero number)",
                unit=from_unit,
                hint="check the plan's [units] definitions of both units",
            )
        return factor

    def convert(self, value: float, from_unit: str, to_unit: str) -> float:
        """Convert one value; for columns multiply by `factor` once instead."""
        return value * self.factor(from_unit, to_unit)

    def parse_quantity(self, text: str, *, unit_required: bool = True) -> tuple[float, str]:
        """Parse ``'220 亿元'``, ``'1,234,567 元'`` or ``'20%'`` into (value, unit).

        Raises:
            UnitError: for text that is not one number followed by a defined unit.
        """
        norm = normalize_unit_text(text)
        match = _NUMBER.match(norm)
        if match is None:
            raise UnitError(
                f"{text!r} is not a number followed by a unit",
                unit=text,
                hint="write e.g. '220 亿元' or '20%'; thousands separators only as 1,234,567",
            )
        unit = self.check(match["unit"])
        if unit_required and not unit:
            raise UnitError(
                f"{text!r} has no unit", unit=text, hint="add the unit, e.g. '220 亿元'"
            )
        number = float(match["num"].replace(",", ""))
        if not math.isfinite(number):
            raise UnitError(
                f"{text!r} is not a finite number", unit=text, hint="write e.g. '220 亿元'"
            )
        return number, unit


_UNIT_SYSTEMS = 64  # distinct sets of plan unit definitions kept built


@functools.lru_cache(maxsize=_UNIT_SYSTEMS)
def units_with(extra_definitions: tuple[str, ...]) -> UnitSystem:
    """Return the (cached) unit system with a plan's extra definitions added.

    The last few dozen distinct sets of definitions are kept: plans with the same ``[units]``
    share one system, and a program reading ever new definitions does not keep them all.
    """
    return UnitSystem(extra_definitions)


def default_units() -> UnitSystem:
    """Return the shared unit system with only targetkit's built-in units."""
    return units_with(())
