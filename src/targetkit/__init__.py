"""targetkit: monitor plan targets.

Turn a plan's quantitative commitments into data (`Plan`, `Indicator`, `Target`, rules), read the
actual figures (`read_actuals`, `Actuals.from_frame`), and `evaluate` them at an as-of date to learn,
for every target, whether it is met, on track, behind, off track or missed.
"""

from targetkit import report as _report  # registers the notebook view  # noqa: F401
from targetkit._version import __version__
from targetkit.actuals import Actuals, read_actuals
from targetkit.config import dump, dumps, load, parse
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
from targetkit.rules.decrease import Decrease
from targetkit.units import UnitSystem, default_units

load_plan = load
parse_plan = parse

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
