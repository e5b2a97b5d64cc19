"""The indicator and rule catalog: what each indicator is and means, and every rule.

- `semantics`: the computations an indicator's meaning implies (rate formula, tolerance,
  target attainment, how a figure aggregates over time), each with its SQL twin;
- `model`: the typed objects (Indicator, Rule, OutlierRule, Catalog);
- `kinds`: the registry of rule kinds (what a check of each kind needs) and the built-in kinds;
- `load`: the YAML file (validations/catalogs/default.yaml, or a provincial catalog that
  `include:`s it) into those objects, every key checked.
"""

from validations.catalog.kinds import RuleKind, register_rule_kind, rule_kinds
from validations.catalog.load import (
    DEFAULT_CATALOG,
    OUTLIER_METHODS,
    OUTLIER_THRESHOLDS,
    CatalogError,
    load_catalog,
    read_catalog_data,
)
from validations.catalog.model import (
    AGGREGATIONS,
    DIRECTIONS,
    KINDS,
    LEVELS,
    PARTIAL_MONTHS,
    RELATIONS,
    Catalog,
    Condition,
    Indicator,
    OutlierRule,
    Rule,
    Term,
    UnitTarget,
)
from validations.catalog.semantics import (
    FLOAT_EPS,
    Formula,
    OverTime,
    PlausibleChange,
    Target,
    Tolerance,
)

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_CATALOG",
    "DIRECTIONS",
    "FLOAT_EPS",
    "KINDS",
    "LEVELS",
    "OUTLIER_METHODS",
    "OUTLIER_THRESHOLDS",
    "PARTIAL_MONTHS",
    "RELATIONS",
    "Catalog",
    "CatalogError",
    "Condition",
    "Formula",
    "Indicator",
    "OutlierRule",
    "OverTime",
    "PlausibleChange",
    "Rule",
    "RuleKind",
    "Target",
    "Term",
    "Tolerance",
    "UnitTarget",
    "load_catalog",
    "read_catalog_data",
    "register_rule_kind",
    "rule_kinds",
]
