"""The states a stored submission and an approval can be in: one enum, used by Python and SQL."""

from __future__ import annotations

from enum import StrEnum


class SubmissionStatus(StrEnum):
    """fct_submission.status (validation_status holds the first three only)."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
    REJECTED = "rejected"
    HELD = "held"  # accepted while its unit and period were approved (locked)


class ApprovalState(StrEnum):
    """fct_approval.state."""

    APPROVED = "approved"  # the unit's steward approved its consolidated period
    ACCEPTED = "accepted"  # the level above accepted it


def sql_list(*states: StrEnum) -> str:
    """A SQL list literal of states: "('accepted', 'accepted_with_warnings')"."""
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"


ACCEPTED_STATES = (SubmissionStatus.ACCEPTED, SubmissionStatus.ACCEPTED_WITH_WARNINGS)
ACCEPTED_SQL = sql_list(*ACCEPTED_STATES)
LOCKING_SQL = sql_list(ApprovalState.APPROVED, ApprovalState.ACCEPTED)
