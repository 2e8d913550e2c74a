"""The durable store (SQLAlchemy 2 + Alembic): SQLite by default, PostgreSQL at scale.

`Store` is the one door to the database: every query lives in this package and returns the
typed rows of `robocore.store.rows`; the tables themselves (`models`) stay private to it.
"""

from robocore.store.connection import DATABASE_ERRORS
from robocore.store.leader_locks import LeaderLock
from robocore.store.models import utcnow
from robocore.store.repository import Store
from robocore.store.rows import (
    ApiToken,
    Grant,
    HashedToken,
    Item,
    ItemCounts,
    Run,
    RunCounts,
    ScheduleFire,
    StepEvent,
)
from robocore.store.runs import HEARTBEAT_SECONDS, LEASE_SECONDS, KeyTaken, NewRun
from robocore.store.scheduler_jobs import JobState
from robocore.store.tokens import Conflict

__all__ = ["DATABASE_ERRORS", "HEARTBEAT_SECONDS", "LEASE_SECONDS", "ApiToken", "Conflict", "Grant", "HashedToken",
           "Item", "ItemCounts", "JobState", "KeyTaken", "LeaderLock", "NewRun", "Run", "RunCounts", "ScheduleFire",
           "StepEvent", "Store", "utcnow"]
