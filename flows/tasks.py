"""The steps of the application layer's operations as Prefect tasks.

`service.steps.Step` says a step's name and what may be retried; `TaskSteps` runs each step as
its task, its arguments quoted (Prefect neither walks nor hashes them: a national month's
10,000 results would cost seconds at every call) and never cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

import flows  # noqa: F401  (Prefect defaults)
from flows.settings import retry_if_locked
from service.steps import Step, Steps
from warehouse.access import LOCK_RETRIES

T = TypeVar("T")


def _call(fn: Callable[..., T], *args: Any) -> T:
    """A step's function with its arguments (the body of every step's task)."""
    return fn(*args)


def step_task(step: Step) -> Any:
    """The Prefect task of one step, with the step's retries."""
    opts: dict[str, Any] = {"name": step.name, "cache_policy": NO_CACHE}
    if step.on_lock:  # the single writer: only while another process holds the file
        opts |= {
            "retries": len(LOCK_RETRIES),
            "retry_delay_seconds": list(LOCK_RETRIES),
            "retry_condition_fn": retry_if_locked,
        }
    elif step.retries:
        opts |= {"retries": step.retries, "retry_delay_seconds": 2}
    return task(_call, **opts)


class TaskSteps(Steps):
    """Each step as its Prefect task (the tasks of `steps`)."""

    retry_on_lock = False  # a writing task retries itself while the file is held

    def __init__(self, steps: Iterable[Step]) -> None:
        self.tasks = {s.name: step_task(s) for s in steps}

    def run(self, step: Step, fn: Callable[..., T], *args: Any) -> T:
        return self.tasks[step.name](fn, *[quote(a) for a in args])
