"""targetkit: monitor plan targets.

Turn a plan's quantitative commitments into data (`Plan`, `Indicator`, `Target`, rules), read the
actual figures (`read_actuals`, `Actuals.from_frame`), and `evaluate` them at an as-of date to learn,
for every target, whether it is met, on track, behind, off track or missed.
"""

# The names below load on first use (PEP 562), so that `targetkit validate` and other commands
# that need no tables never import pandas; `import targetkit as tk` then `tk.evaluate` works
# as before, and type checkers see the imports.

import importlib
from typing import TYPE_CHECKING, Any

from targetkit._version import __version__

if TYPE_CHECKING:
    from targetkit.actuals import (
        Actuals,
        read_actuals,
    )
    from targetkit.config import (
        dump,
        dumps,
        load,
        parse,
    )
    from targetkit.evaluation import (
        Alert,
        CompiledPlan,
        Evaluation,
        Evidence,
        SortedActuals,
        TargetResult,
        compile_plan,
        evaluate,
    )
    from targetkit.exceptions import (
        ConfigError,
        DataError,
        DeliveryError,
        Problem,
        StateError,
        TargetkitError,
        UnitError,
    )
    from targetkit.model import (
        Indicator,
        IndicatorKind,
        Light,
        Pace,
        PaceMethod,
        Part,
        Plan,
        Severity,
        Stage,
        Status,
        Target,
        Thresholds,
    )
    from targetkit.rules import (
        AtLeast,
        AtMost,
        Between,
        ChangePP,
        Growth,
        Increase,
        Kind,
        Milestone,
        NetIncrease,
        Rank,
        Rule,
        RuleKind,
        Share,
        register_rule_kind,
    )
    from targetkit.rules.decrease import (
        Decrease,
    )
    from targetkit.units import (
        UnitSystem,
        default_units,
    )

    load_plan = load
    parse_plan = parse

_HOMES: dict[str, str] = {
    "Actuals": "targetkit.actuals",
    "read_actuals": "targetkit.actuals",
    "dump": "targetkit.config",
    "dumps": "targetkit.config",
    "load": "targetkit.config",
    "parse": "targetkit.config",
    "Alert": "targetkit.evaluation",
    "CompiledPlan": "targetkit.evaluation",
    "Evaluation": "targetkit.evaluation",
    "Evidence": "targetkit.evaluation",
    "SortedActuals": "targetkit.evaluation",
    "TargetResult": "targetkit.evaluation",
    "compile_plan": "targetkit.evaluation",
    "evaluate": "targetkit.evaluation",
    "ConfigError": "targetkit.exceptions",
    "DataError": "targetkit.exceptions",
    "DeliveryError": "targetkit.exceptions",
    "Problem": "targetkit.exceptions",
    "StateError": "targetkit.exceptions",
    "TargetkitError": "targetkit.exceptions",
    "UnitError": "targetkit.exceptions",
    "Indicator": "targetkit.model",
    "IndicatorKind": "targetkit.model",
    "Light": "targetkit.model",
    "Pace": "targetkit.model",
    "PaceMethod": "targetkit.model",
    "Part": "targetkit.model",
    "Plan": "targetkit.model",
    "Severity": "targetkit.model",
    "Stage": "targetkit.model",
    "Status": "targetkit.model",
    "Target": "targetkit.model",
    "Thresholds": "targetkit.model",
    "AtLeast": "targetkit.rules",
    "AtMost": "targetkit.rules",
    "Between": "targetkit.rules",
    "ChangePP": "targetkit.rules",
    "Growth": "targetkit.rules",
    "Increase": "targetkit.rules",
    "Kind": "targetkit.rules",
    "Milestone": "targetkit.rules",
    "NetIncrease": "targetkit.rules",
    "Rank": "targetkit.rules",
    "Rule": "targetkit.rules",
    "RuleKind": "targetkit.rules",
    "Share": "targetkit.rules",
    "register_rule_kind": "targetkit.rules",
    "Decrease": "targetkit.rules.decrease",
    "UnitSystem": "targetkit.units",
    "default_units": "targetkit.units",
}
_ALIASES = {"load_plan": "load", "parse_plan": "parse"}


def __getattr__(name: str) -> Any:
    """Import a public name (or a submodule such as ``targetkit.report``) when first used."""
    wanted = _ALIASES.get(name, name)
    home = _HOMES.get(wanted)
    if home is None:
        try:
            module = importlib.import_module(f"targetkit.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"targetkit.{name}":
                raise
            raise AttributeError(f"module 'targetkit' has no attribute {name!r}") from None
        return module
    value = getattr(importlib.import_module(home), wanted)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Actuals",
    "Alert",
    "AtLeast",
    "AtMost",
    "Between",
    "ChangePP",
    "CompiledPlan",
    "ConfigError",
    "DataError",
    "Decrease",
    "DeliveryError",
    "Evaluation",
    "Evidence",
    "Growth",
    "Increase",
    "Indicator",
    "IndicatorKind",
    "Kind",
    "Light",
    "Milestone",
    "NetIncrease",
    "Pace",
    "PaceMethod",
    "Part",
    "Plan",
    "Problem",
    "Rank",
    "Rule",
    "RuleKind",
    "Severity",
    "Share",
    "SortedActuals",
    "Stage",
    "StateError",
    "Status",
    "Target",
    "TargetResult",
    "TargetkitError",
    "Thresholds",
    "UnitError",
    "UnitSystem",
    "__version__",
    "compile_plan",
    "default_units",
    "dump",
    "dumps",
    "evaluate",
    "load",
    "load_plan",
    "parse",
    "parse_plan",
    "read_actuals",
    "register_rule_kind",
]
