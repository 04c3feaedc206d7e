"""Rule kinds: how targets are read from plan files, judged, worded and shown.

Every kind — built in or a user's own — is one `RuleKind` plug-in registered by name with
`register_rule_kind` (or offered by an installed package under the ``targetkit.rules`` entry
point group). A kind declares the `Field` s of its plan-file table, judges all its targets at once
(`RuleKind.judge`: a `Batch` in, `Verdicts` out), writes each result's sentence from those
verdicts (`RuleKind.describe`) and tells renderers how to show it (`Display`) and the drafter how
to write it from a plan's text (`Drafting`, optional). Subclass `Kind`
for the defaults. docs/how-to/custom-rule-kind.md walks through one.
"""

from __future__ import annotations

import importlib

from targetkit.model import Rule
from targetkit.rules._base import (
    BEHIND,
    FROM_INDICATOR,
    FROM_TARGET,
    MET,
    MISSED,
    NAT,
    NO_DATA,
    OFF_TRACK,
    ON_TRACK,
    Batch,
    Display,
    Drafting,
    DraftRole,
    Field,
    FieldType,
    Kind,
    Observations,
    Rollup,
    Row,
    RuleKind,
    Shown,
    Verdicts,
    codes_of,
    date_of,
    day_of,
    drafting_of,
    factors,
    floats,
    floor_stretch_problem,
    fmt,
    ge,
    gt,
    kind_mask,
    le,
    level_words,
    lt,
    pct,
    progress_words,
    qty,
    ref_problems,
    safe_div,
    stretch_codes,
    unit_problems,
    vge,
    vgt,
    vle,
    vlt,
    when_label,
)
from targetkit.rules.change import (
    ChangePP,
    Growth,
    Increase,
    NetIncrease,
    days_last_year,
)
from targetkit.rules.milestone import Milestone
from targetkit.rules.rank import Rank
from targetkit.rules.share import Share
from targetkit.rules.thresholds import AtLeast, AtMost, Between

__all__ = [
    "BEHIND",
    "FROM_INDICATOR",
    "FROM_TARGET",
    "MET",
    "MISSED",
    "NAT",
    "NO_DATA",
    "OFF_TRACK",
    "ON_TRACK",
    "AtLeast",
    "AtMost",
    "Batch",
    "Between",
    "ChangePP",
    "Display",
    "DraftRole",
    "Drafting",
    "Field",
    "FieldType",
    "Growth",
    "Increase",
    "Kind",
    "Milestone",
    "NetIncrease",
    "Observations",
    "Rank",
    "Rollup",
    "Row",
    "Rule",
    "RuleKind",
    "Share",
    "Shown",
    "Verdicts",
    "builtin_rule_kinds",
    "codes_of",
    "date_of",
    "day_of",
    "drafting_of",
    "factors",
    "floats",
    "floor_stretch_problem",
    "fmt",
    "ge",
    "gt",
    "kind_mask",
    "kind_of",
    "le",
    "level_words",
    "lt",
    "pct",
    "progress_words",
    "qty",
    "ref_problems",
    "register_rule_kind",
    "rule_kind",
    "rule_kinds",
    "safe_div",
    "same_period_last_year",
    "stretch_codes",
    "unit_problems",
    "unregister_rule_kind",
    "vge",
    "vgt",
    "vle",
    "vlt",
    "when_label",
]

same_period_last_year = days_last_year
"""Return the same day a year earlier for each day number (a month's end stays a month's end)."""

# The built-in kinds, as plug-in modules with a KINDS tuple, loaded on first use.
_BUILTIN_MODULES = (
    "targetkit.rules.thresholds",
    "targetkit.rules.change",
    "targetkit.rules.share",
    "targetkit.rules.rank",
    "targetkit.rules.milestone",
    "targetkit.rules.decrease",
)
_KINDS: dict[str, RuleKind] = {}
_BUILTIN: list[str] = []


def _builtins() -> dict[str, RuleKind]:
    if not _BUILTIN:
        for name in _BUILTIN_MODULES:
            for kind in importlib.import_module(name).KINDS:
                _KINDS.setdefault(kind.name, kind)
                _BUILTIN.append(kind.name)
    return _KINDS


def register_rule_kind(kind: RuleKind, *, replace: bool = False) -> None:
    """Make a rule kind usable from plan files (``rule = { kind = "<name>", … }``).

    Args:
        kind: The kind: its name, fields, judgement, wording and display hints.
        replace: Allow replacing an already registered kind of the same name.

    Raises:
        TypeError: ``kind`` does not satisfy the `RuleKind` protocol.
        ValueError: A kind of that name is registered and ``replace`` is False.
    """
    if not isinstance(kind, RuleKind):
        raise TypeError(
            f"{kind!r} is not a rule kind: give an object with name, fields, display, build, "
            "to_config, check, prepare, judge, describe, show_target and show_actual "
            "(subclass targetkit.rules.Kind)"
        )
    kinds = _builtins()
    if kind.name in kinds and not replace:
        raise ValueError(f"rule kind {kind.name!r} is already registered (pass replace=True)")
    kinds[kind.name] = kind


def unregister_rule_kind(name: str) -> None:
    """Forget a user's rule kind (built-in kinds stay)."""
    if name in _builtins() and name not in _BUILTIN:
        del _KINDS[name]


def rule_kind(name: str) -> RuleKind | None:
    """Return the kind registered under ``name`` (or offered by an entry point), or None."""
    kinds = _builtins()
    if name in kinds:
        return kinds[name]
    from importlib.metadata import entry_points  # noqa: PLC0415 - only for unknown kinds

    for ep in entry_points(group="targetkit.rules"):
        if ep.name == name:
            found = ep.load()
            register_rule_kind(found)
            return kinds[name]
    return None


def kind_of(rule: Rule) -> RuleKind:
    """Return the kind of a rule (KeyError when no kind of its name is registered)."""
    found = rule_kind(rule.kind)
    if found is None:
        raise KeyError(f"no rule kind {rule.kind!r} is registered")
    return found


def rule_kinds() -> tuple[str, ...]:
    """Return the names of every registered kind, built-ins first."""
    return tuple(_builtins())


def builtin_rule_kinds() -> tuple[str, ...]:
    """Return the names of the built-in rule kinds."""
    _builtins()
    return tuple(_BUILTIN)
