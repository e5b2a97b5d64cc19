"""What one rule compiles to: its checks, what a failing row says, what a value's domain is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from validations.catalog.kinds.linear import Constraint
    from validations.catalog.model import Rule


@dataclass(frozen=True)
class Finding:
    """What a failing check says about one row: the Issue's indicator (whose cell it names),
    value and expected text, the message's own placeholders (per language) and its extra."""

    indicator: str | None
    value: Any
    expected: str | None = None
    fields: Callable[[str], dict[str, Any]] | None = None
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class RuleCheck:
    """One check of one catalog rule, named after the rule id (plus `:indicator` when a rule
    gives several checks, as rate_consistency gives one per rate).

    - `passes(frame)`: True where the row passes or the check does not apply (vectorised);
    - `applies(frame)`: the rows it checks (what the report counts as checked);
    - `finding(row)`: the Issue a failing row gives (a row of the frame, as a Series);
    - `linear(values)`: what it demands of one submission's values as linear constraints (the
      error localisation), None where it does not apply or is not linear."""

    name: str
    rule: Rule
    indicator: str | None
    passes: Callable[[pd.DataFrame], pd.Series]
    applies: Callable[[pd.DataFrame], np.ndarray | pd.Series]
    finding: Callable[[pd.Series], Finding]
    linear: Callable[[Mapping[str, float]], Constraint | None] | None = None


@dataclass(frozen=True)
class Bounds:
    """The domain a rule demands of an indicator's values: low <= x <= high, whole or not."""

    low: float | None = None
    high: float | None = None
    integer: bool = False
