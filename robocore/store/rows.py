"""Typed rows the store returns: runs, items, step events, tokens, grants, schedule fires.

Plain frozen dataclasses with no SQLAlchemy in sight: callers read attributes, statuses are
enums, and the API turns a row into JSON with `dataclasses.asdict`. Timestamps are naive UTC,
as the store keeps them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from robocore.statuses import FireStatus, ItemStatus, RunStatus, StepStatus

# Items (or runs) of each status; a status with no item is absent, not 0.
ItemCounts = dict[ItemStatus, int]
RunCounts = dict[RunStatus, int]


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of a robot, with the manual minutes in force when it was recorded."""

    id: str
    robot: str
    version_id: int
    robot_path: str
    status: RunStatus
    trigger: str
    inputs: dict[str, Any]
    process_name: str | None
    service: str | None
    minutes_per_item: float
    minutes_per_run: float
    started_at: dt.datetime
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    host: str | None
    pid: int | None
    error: str | None
    owner: str | None  # the process holding the lease
    queue: str | None
    cancel_requested: bool
    created_by: str | None  # API token name, "cli" or "schedule:<name>"


@dataclass(frozen=True, slots=True)
class Item:
    """A durable work item of a run."""

    run_id: str
    block: str
    seq: int
    key: str
    status: ItemStatus
    attempts: int
    error: str | None
    evidence: tuple[str, ...]
    verified: bool
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One execution of a step (run-level or an item's): its outcome, duration and start (`at`)."""

    id: int
    run_id: str
    item_key: str | None
    step: str
    status: StepStatus
    duration_ms: float
    message: str | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token as stored, without its hash."""

    id: int
    name: str
    role: str
    groups: tuple[str, ...]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None = None  # refused from then on; None: never expires


@dataclass(frozen=True, slots=True)
class HashedToken:
    """A token with its argon2 hash: only what verifies a token asks for this."""

    token: ApiToken
    token_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Grant:
    """Members of `group` may see and launch `robot`."""

    robot: str
    group: str


@dataclass(frozen=True, slots=True)
class ScheduleFire:
    """One recorded fire time of a schedule (fire_time naive UTC, as stored)."""

    schedule: str
    fire_time: dt.datetime
    status: FireStatus
    run_id: str | None
    note: str | None

    @property
    def fire_time_utc(self) -> dt.datetime:
        """The fire time as an aware UTC datetime."""
        return self.fire_time.replace(tzinfo=dt.UTC)


__all__ = ["ApiToken", "Grant", "HashedToken", "Item", "ItemCounts", "Run", "RunCounts", "ScheduleFire",
           "StepEvent"]


# ---- processes (issue 11) -----------------------------------------------------------------
class ProcessStage(StrEnum):
    """Where a process stands; stored as these stable ASCII codes, shown in French (`robocore.processes`)."""

    IDEA = "idea"
    STUDY = "study"
    PRODUCTION = "production"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """A business process as stored: what robots name, with what engineers add (lab, volume, goal, stage)."""

    name: str
    service: str | None
    lab: str | None
    region: str | None
    description: str | None
    annual_volume: int | None  # estimated items per year
    goal_hours: float | None   # hours to save per year
    stage: ProcessStage
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class MinutesPeriod:
    """Manual minutes in force for a process through one robot, from the run (and robot version) that set them.

    `since` is the first ledger entry with these minutes (None while no entry has them yet);
    `first_run_at` is when the first run carrying them started.
    """

    robot: str
    version_id: int
    version_sha256: str
    minutes_per_item: float
    minutes_per_run: float
    first_run_at: dt.datetime
    since: dt.datetime | None
    runs: int


__all__ += ["MinutesPeriod", "ProcessRecord", "ProcessStage"]
