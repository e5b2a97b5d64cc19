"""Catalog rules compiled into pandera schemas, evaluated on whole batches at once.

Two frames are checked, both holding every submission of a batch (one file or ten thousand):
- the *long* frame, one row per value, carries each value's indicator kind and domain; the
  domain rules (integer counts, non-negative values, rates in range, 0/1 flags) are
  dataframe-level pandera checks over it;
- the *wide* frame, one row per submission and one column per indicator, carries the rules
  that relate indicators: parts <= wholes, conditional rules, rates equal to their parts.

Which checks there are comes from the registry of rule kinds (validations.catalog.kinds): each
catalog rule of a kind of stage "long" or "wide" compiles to its checks there, and each becomes a
pandera Check named after the catalog rule id (plus `:indicator` for the rate rules), so a
failure case maps back to exactly one rule and one row. Pandas dataframe-level checks
report one failure case per column; `failures()` de-duplicates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from validations.catalog import Catalog, Rule
from validations.catalog.kinds import RuleCheck, catalog_checks
from validations.catalog.kinds.frames import (  # noqa: F401  (the validator's frame readers)
    column_array,
    expected_rate_array,
    expr_array,
)


@dataclass(frozen=True)
class CompiledCheck:
    """A pandera check and the registry's check it was compiled from."""

    name: str  # rule id, or "rule_id:indicator" for rate rules
    rule: Rule
    indicator: str | None
    check: pa.Check
    fn: Callable[[pd.DataFrame], pd.Series] | None = None  # the function the check runs
    spec: RuleCheck | None = None  # what it applies to, its Issue, its linear constraints


def _compiled(checks: list[RuleCheck]) -> list[CompiledCheck]:
    return [
        CompiledCheck(c.name, c.rule, c.indicator, pa.Check(c.passes, name=c.name), c.passes, c)
        for c in checks
    ]


# --- long frame: one row per value --------------------------------------------------------
def long_checks(catalog: Catalog) -> list[CompiledCheck]:
    """The domain rules (kinds of stage "long"), one check per rule."""
    return _compiled(catalog_checks(catalog, "long"))


def long_schema(catalog: Catalog) -> pa.DataFrameSchema:
    """The intake contract of the long frame (types plus the domain rules)."""
    return pa.DataFrameSchema(
        columns={
            "sub": pa.Column(int),
            "indicator": pa.Column(str),
            "kind": pa.Column(str, pa.Check.isin(["count", "decimal", "rate", "flag"])),
            "value": pa.Column(float, nullable=True),
            "min": pa.Column(float, nullable=True),
            "max": pa.Column(float, nullable=True),
            "ceiling": pa.Column(float, nullable=True, required=False),
        },
        checks=[c.check for c in long_checks(catalog)],
        coerce=True,
    )


# --- wide frame: one row per submission ---------------------------------------------------
def wide_checks(catalog: Catalog) -> list[CompiledCheck]:
    """The rules relating indicators (kinds of stage "wide"): one check per compare rule, one
    per rate for a rate_consistency rule."""
    return _compiled(catalog_checks(catalog, "wide"))


def wide_schema(catalog: Catalog) -> pa.DataFrameSchema:
    """Cross-indicator rules over one row per submission (columns are indicator codes)."""
    return pa.DataFrameSchema(checks=[c.check for c in wide_checks(catalog)])


# Up to this many rows a batch's checks run as plain functions: pandera's own machinery costs
# about 12 ms a schema whatever the size, most of the time of one file on the submitter path
# and of the portal's batches of concurrent uploads (up to about 40 commune files, 50 values
# each). Above it (the ingest's batches of 1,000 files) pandera runs them. The same functions
# either way (tested).
DIRECT_MAX_ROWS = 2000


def direct_failures(checks: Iterable[CompiledCheck], frame: pd.DataFrame) -> dict[str, list[int]]:
    """The checks' own functions on the frame (no pandera): failing check -> sorted labels."""
    out: dict[str, list[int]] = {}
    for c in checks:
        assert c.fn is not None
        passed = np.asarray(c.fn(frame), dtype=bool)
        bad = frame.index[~passed] if passed.ndim else (frame.index if not passed else [])
        if len(bad):
            out[c.name] = sorted(int(i) for i in bad)
    return out


def failures(
    schema: pa.DataFrameSchema,
    frame: pd.DataFrame,
    checks: Iterable[CompiledCheck] | None = None,
) -> dict[str, list[int]]:
    """Run a schema lazily; map each failing check name to the sorted failing row labels.

    Given the schema's `checks` and a frame of at most DIRECT_MAX_ROWS rows, their functions run
    directly instead (the validator builds the frame with the schema's types itself)."""
    if frame.empty:
        return {}
    if checks is not None and len(frame) <= DIRECT_MAX_ROWS:
        return direct_failures(checks, frame)
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        fc = fc.drop_duplicates(subset=["check", "index"])  # one per column on pandas: de-dup
        out: dict[str, list[int]] = {}
        for check, grp in fc.groupby("check", sort=False):
            out[str(check)] = sorted({int(i) for i in grp["index"]})
        return out
    return {}
