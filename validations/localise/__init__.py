"""Which figure is wrong: error localisation (Fellegi-Holt) over the catalog's linear rules.

- `localiser`: Localiser.locate, the smallest weighted set of cells whose change makes every
  rule hold, with the value or range each must take;
- `problem`: one submission's cells, domains, weights and constraints; `intervals`: where one
  cell may go alone; `program`: the mixed-integer program (SciPy's milp, imported only when one
  cell cannot explain a form);
- `suspect`: the Suspect record and the sentences that lead a verdict.
"""

from validations.localise.localiser import Localiser, Option
from validations.localise.suspect import (
    Suspect,
    group_heading,
    issue_groups,
    lead_lines,
    suspects_from_records,
)

__all__ = [
    "Localiser",
    "Option",
    "Suspect",
    "group_heading",
    "issue_groups",
    "lead_lines",
    "suspects_from_records",
]
