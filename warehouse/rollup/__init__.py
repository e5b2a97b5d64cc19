"""Consolidation: completeness, rollups, cross-level consistency, targets, year-on-year.

A package of modules named by what they hold:
- `scope`: what a consolidation covers (unit, period, structure, children), period helpers;
- `pieces`: the periods inside a period a unit may have sent (half-years, quarters, months),
  across the 2025 reform through the crosswalk;
- `values`: the values a unit has for a period (its own submission, or built from its pieces
  as the catalog's `over_time` says: flows summed, stocks the last piece's) and their sources;
- `completeness`: which children reported, on time or late (a district whose communes all
  reported counts as received);
- `aggregation`: across units, as the catalog's `aggregation` says (sum, ratio of sums,
  count/share of flags), every figure's row (units and their communes);
- `change`: vs the same period last year;
- `consistency`: a parent's own figures vs its children's sum, with the likely cause;
- `plausibility`: a figure far from the same territory's last year (or its own history), a
  warning before approval;
- `computation`: every level of a tree, lowest first, in memory;
- `writing`: one period's rows into fct_rollup, fct_completeness, fct_consolidation_issue,
  fct_rollup_lineage and audit_log;
- `consolidation`: compute + check + write in ONE transaction (`consolidate`,
  `consolidate_many`, `preview`);
- `notes`: an approved period is never rewritten; what a consolidation would change in it is
  noted, to reopen it;
- `refresh`: re-consolidate what a load or a release changed (rollups are never stale, the
  approved ones aside: they get a note), and what an unapprove reopened;
- `reading`: what every output reads (one truth: fct_rollup).
Every formula (rates, tolerances, attainment, change) is the catalog's (validations.catalog).
"""

from warehouse.rollup.aggregation import KID_COLUMNS, ROLLUP_COLUMNS
from warehouse.rollup.completeness import Completeness, completeness, completeness_many
from warehouse.rollup.consistency import RULE_CROSS_LEVEL
from warehouse.rollup.consolidation import (
    ConsolidationResult,
    consolidate,
    consolidate_many,
    preview,
)
from warehouse.rollup.pieces import Piece, pieces, straddles
from warehouse.rollup.plausibility import RULE_IMPLAUSIBLE
from warehouse.rollup.reading import (
    read_completeness,
    read_completeness_many,
    read_rollup,
    rollup,
)
from warehouse.rollup.refresh import affected, refresh, reopened
from warehouse.rollup.scope import (
    RollupError,
    Scope,
    containing_periods,
    previous_periods,
    scope_of,
)
from warehouse.rollup.values import effective_values

__all__ = [
    "KID_COLUMNS",
    "ROLLUP_COLUMNS",
    "RULE_CROSS_LEVEL",
    "RULE_IMPLAUSIBLE",
    "Completeness",
    "ConsolidationResult",
    "Piece",
    "RollupError",
    "Scope",
    "affected",
    "completeness",
    "completeness_many",
    "consolidate",
    "consolidate_many",
    "containing_periods",
    "effective_values",
    "pieces",
    "preview",
    "previous_periods",
    "read_completeness",
    "read_completeness_many",
    "read_rollup",
    "refresh",
    "reopened",
    "rollup",
    "scope_of",
    "straddles",
]
