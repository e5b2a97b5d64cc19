"""Great Expectations over the consolidated warehouse: `suite` (the expectations, as plain data
generated from the catalog) and `checkpoint` (the frame, the run, Data Docs, Issues)."""

from warehouse.quality.checkpoint import (
    FRAME_COLUMNS,
    CheckpointResult,
    data_docs_dir,
    quality_frame,
    run_checkpoint,
    store_issues,
    suite_name,
)
from warehouse.quality.suite import (
    ENV_DOCS,
    GX_PROJECT,
    MAX_ISSUES_PER_EXPECTATION,
    RULE_PREFIX,
    ExpectationSpec,
    QualityError,
    build_suite,
)

__all__ = [
    "ENV_DOCS",
    "FRAME_COLUMNS",
    "GX_PROJECT",
    "MAX_ISSUES_PER_EXPECTATION",
    "RULE_PREFIX",
    "CheckpointResult",
    "ExpectationSpec",
    "QualityError",
    "build_suite",
    "data_docs_dir",
    "quality_frame",
    "run_checkpoint",
    "store_issues",
    "suite_name",
]
