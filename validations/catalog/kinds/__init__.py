"""The rule kinds: the registry (`registry`) and the built-in kinds, registered on import.

- `registry`: RuleKind, `register_rule_kind` (the decorator), `rule_kinds()`;
- `check`: what a rule compiles to (RuleCheck), what a failing row says (Finding), a domain
  (Bounds); `linear`: a check's linear constraints (Linear, Constraint); `frames`: reading the
  validator's frames;
- the built-in kinds: `intake` (declared: the validator's and the ingest's own steps),
  `domain` (integer, nonnegative, rate_range, flag, ceiling), `compare`, `rates`
  (rate_consistency).
"""

from validations.catalog.entry import EntryError
from validations.catalog.kinds import compare, domain, intake, rates  # noqa: F401  (registers)
from validations.catalog.kinds.check import Bounds, Finding, RuleCheck
from validations.catalog.kinds.linear import Constraint, Linear
from validations.catalog.kinds.registry import (
    STAGES,
    RuleKind,
    catalog_checks,
    declare_rule_kind,
    register_rule_kind,
    remove_rule_kind,
    rule_keys,
    rule_kind,
    rule_kinds,
    unregistered,
)

__all__ = [
    "STAGES",
    "Bounds",
    "Constraint",
    "Finding",
    "Linear",
    "RuleCheck",
    "EntryError",
    "RuleKind",
    "catalog_checks",
    "declare_rule_kind",
    "register_rule_kind",
    "remove_rule_kind",
    "rule_keys",
    "rule_kind",
    "rule_kinds",
    "unregistered",
]
