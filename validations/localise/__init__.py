"""Which figure is wrong: error localisation (Fellegi-Holt) over the catalog's linear rules.

- `localiser`: Localiser.locate, the smallest weighted set of cells whose change makes every
  rule hold, with the value or range each must take;
- `problem`: one submission's cells, domains, weights and constraints; `intervals`: where one
  cell may go alone; `program`: the mixed-integer program (SciPy's milp, imported only when one
  cell cannot explain a form);
- `suspect`: the Suspect record and the sentences that lead a verdict;
- `totals`: across levels, a parent's own figure or one child's as the likelier culprit.
"""

from validations.localise.localiser import Localiser, Option
from validations.localise.suspect import (
    Suspect,
    group_heading,
    issue_groups,
    lead_lines,
    range_text,
    suspects_from_records,
)
from validations.localise.totals import Culprit, locate_total

__all__ = [
    "Culprit",
    "Localiser",
    "Option",
    "Suspect",
    "group_heading",
    "issue_groups",
    "lead_lines",
    "locate_total",
    "range_text",
    "suspects_from_records",
]
