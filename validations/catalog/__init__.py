"""The indicator and rule catalog: what each indicator is and means, and every rule.

- `semantics`: the computations an indicator's meaning implies (rate formula, tolerance,
  target attainment, how a figure aggregates over time), each with its SQL twin;
- `model`: the typed objects (Indicator, Rule, OutlierRule, Catalog);
- `kinds`: the registry of rule kinds (what a check of each kind needs) and the built-in kinds;
- `read`: a catalog file's YAML, strictly (validations.yaml_source: no key given twice, lines
  kept), every key and section checked, the catalogs it `include:`s merged under it;
- `entries`: each entry into its typed object; `values`: the values entries are made of, each
  checked (type, range, case, the placeholders of message texts); `entry`: where an entry is
  (file, line, key) and CatalogError;
- `load`: which file (`catalog_file`: --catalog, $TONGHOP_CATALOG, the national default), the
  sections together and every reference between entries checked.
"""

from validations.catalog.kinds import RuleKind, register_rule_kind, rule_kinds
from validations.catalog.load import (
    CATALOG_ENV,
    DEFAULT_CATALOG,
    OUTLIER_METHODS,
    OUTLIER_THRESHOLDS,
    CatalogError,
    catalog_file,
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
    SecurityRule,
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
    "CATALOG_ENV",
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
    "SecurityRule",
    "Target",
    "Term",
    "Tolerance",
    "UnitTarget",
    "catalog_file",
    "load_catalog",
    "read_catalog_data",
    "register_rule_kind",
    "rule_kinds",
]
