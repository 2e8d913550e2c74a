"""Step events: a run's timeline, one row per step execution, in order.

Each row: the step (its id, else its action), the item (None at run level), when it started
(`at`, naive UTC), how long it took (`duration_ms`), its status and, for a failure, the error.
Run-level steps (a for_each counts as one, spanning its items) are written as they end; item
steps in batches (robocore.timeline). Other events (a lease taken over, a purge) use the table too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from robocore.statuses import StepStatus
from robocore.store.models import step_events as EVENTS
from robocore.store.models import utcnow
from robocore.store.rows import StepEvent

_ADD_EVENT = insert(EVENTS)


class EventsMixin:
    """The Store's step events."""

    engine: Engine

    def add_event(self, run_id: str, step: str, status: StepStatus, *, duration_ms: float = 0.0,
                  message: str | None = None, item_key: str | None = None, at: datetime | None = None) -> None:
        """Record one step's outcome; `at` is when it started (default: now)."""
        with self.engine.begin() as conn:
            conn.execute(_ADD_EVENT, {"run_id": run_id, "item_key": item_key, "step": step, "status": status,
                                      "duration_ms": duration_ms, "message": message, "at": at or utcnow()})

    def add_events(self, run_id: str, events: Sequence[dict[str, Any]]) -> None:
        """Record several step executions in one transaction: dicts of step, status, duration_ms, at,
        and optionally item_key and message."""
        if not events:
            return
        rows = [{"run_id": run_id, "item_key": e.get("item_key"), "step": e["step"], "status": e["status"],
                 "duration_ms": e["duration_ms"], "message": e.get("message"), "at": e["at"]} for e in events]
        with self.engine.begin() as conn:
            conn.execute(_ADD_EVENT, rows)

    def events(self, run_id: str) -> list[StepEvent]:
        """A run's step events, oldest first."""
        query = select(EVENTS).where(EVENTS.c.run_id == run_id).order_by(EVENTS.c.id)
        with self.engine.begin() as conn:
            return [StepEvent(id=r.id, run_id=r.run_id, item_key=r.item_key, step=r.step,
                              status=StepStatus(r.status), duration_ms=r.duration_ms, message=r.message, at=r.at)
                    for r in conn.execute(query)]
