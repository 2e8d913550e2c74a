"""The statuses of runs and work items, and the sets the rest of Robocore reasons with.

`StrEnum`: a status compares equal to its stored text, so rows read back from SQLite or
PostgreSQL and values in JSON need no conversion at the boundary.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run is: queued (no process owns it), running, or one of the final statuses."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in RUN_FINAL


class ItemStatus(StrEnum):
    """Where a work item is: stored pending, running, or one of the final statuses."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    BUSINESS_ERROR = "business_error"
    APPLICATION_ERROR = "application_error"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self in ITEM_FINAL


class StepStatus(StrEnum):
    """The outcome of a recorded step execution (every executed step, run-level or of an item)."""

    DONE = "done"
    FAILED = "failed"


class FireStatus(StrEnum):
    """What became of one fire time of a schedule."""

    LAUNCHED = "launched"
    SKIPPED_OVERLAP = "skipped_overlap"
    SKIPPED_HOLIDAY = "skipped_holiday"
    MISSED = "missed"
    FAILED = "failed"


RUN_FINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.COMPLETED_WITH_ERRORS, RunStatus.FAILED,
                       RunStatus.CANCELLED})
# A run that got through its steps (some items may have been refused): its fixed minutes count.
RUN_COMPLETED = frozenset({RunStatus.SUCCEEDED, RunStatus.COMPLETED_WITH_ERRORS})
# A run that may be claimed again (resumed) by an executor.
RUN_RESUMABLE = frozenset({RunStatus.QUEUED, RunStatus.FAILED, RunStatus.COMPLETED_WITH_ERRORS,
                           RunStatus.CANCELLED})
# A run never executed again by an executor's redelivery.
RUN_NEVER_RERUN = frozenset({RunStatus.SUCCEEDED, RunStatus.CANCELLED})

ITEM_FINAL = frozenset({ItemStatus.DONE, ItemStatus.BUSINESS_ERROR, ItemStatus.APPLICATION_ERROR,
                        ItemStatus.SKIPPED})
ITEM_FAILED = frozenset({ItemStatus.BUSINESS_ERROR, ItemStatus.APPLICATION_ERROR})
# Items processed (attempted) as reports count them: done or failed; skipped ones were not tried.
ITEM_ATTEMPTED = frozenset({ItemStatus.DONE, *ITEM_FAILED})
# Items a resumed run processes again.
ITEM_TO_RETRY = frozenset({ItemStatus.PENDING, ItemStatus.RUNNING, ItemStatus.APPLICATION_ERROR})

__all__ = ["ITEM_ATTEMPTED", "ITEM_FAILED", "ITEM_FINAL", "ITEM_TO_RETRY", "RUN_COMPLETED", "RUN_FINAL",
           "RUN_NEVER_RERUN", "RUN_RESUMABLE", "FireStatus", "ItemStatus", "RunStatus", "StepStatus"]
