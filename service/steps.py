"""The steps of an operation and how a shell runs them.

An operation that has steps (an ingest, a consolidation with its quality checkpoint) calls
each through a `Steps` runner: the plain one calls it here; the flows' runner
(flows.tasks.TaskSteps) runs each step as a Prefect task, with the step's retries. So the
sequence is written once and a flow is the same calls as tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One step: its name (a Prefect task's name) and what may be retried."""

    name: str
    retries: int = 0  # tries again on any failure (reading, staging: a busy disk)
    on_lock: bool = False  # tries again while another process holds the warehouse


class Steps:
    """Runs each step in this process; a write retries while another process holds the
    warehouse (the WarehouseFile's own retries: `retry_on_lock`)."""

    retry_on_lock = True

    def run(self, step: Step, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)
