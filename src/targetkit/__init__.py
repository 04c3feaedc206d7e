"""targetkit: monitor plan targets.

Turn a plan's quantitative commitments into data (`Plan`, `Indicator`, `Target`, rules), read the
actual figures (`read_actuals`, `Actuals.from_frame`), and `evaluate` them at an as-of date to learn,
for every target, whether it is met, on track, behind, off track or missed.
"""

__version__ = "0.1.0.dev0"

from targetkit.actuals import Actuals, read_actuals
from targetkit.config import dump, dumps, load, parse
from targetkit.evaluation import Alert, Evaluation, Evidence, TargetResult, evaluate
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
    Judgement,
    Milestone,
    NetIncrease,
    Observation,
    Rank,
    Rule,
    RuleContext,
    Series,
    Share,
    register_rule_kind,
)
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
    "ConfigError",
    "DataError",
    "DeliveryError",
    "Evaluation",
    "Evidence",
    "Growth",
    "Increase",
    "Indicator",
    "IndicatorKind",
    "Judgement",
    "Light",
    "Milestone",
    "NetIncrease",
    "Observation",
    "Pace",
    "PaceMethod",
    "Plan",
    "Problem",
    "Rank",
    "Rule",
    "RuleContext",
    "Series",
    "Severity",
    "Share",
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
