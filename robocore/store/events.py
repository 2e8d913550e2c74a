"""Step events: each run-level step's outcome and each failing item step, in order."""

from __future__ import annotations

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
                  message: str | None = None, item_key: str | None = None) -> None:
        """Record one step's outcome, now."""
        with self.engine.begin() as conn:
            conn.execute(_ADD_EVENT, {"run_id": run_id, "item_key": item_key, "step": step, "status": status,
                                      "duration_ms": duration_ms, "message": message, "at": utcnow()})

    def events(self, run_id: str) -> list[StepEvent]:
        """A run's step events, oldest first."""
        query = select(EVENTS).where(EVENTS.c.run_id == run_id).order_by(EVENTS.c.id)
        with self.engine.begin() as conn:
            return [StepEvent(id=r.id, run_id=r.run_id, item_key=r.item_key, step=r.step,
                              status=StepStatus(r.status), duration_ms=r.duration_ms, message=r.message, at=r.at)
                    for r in conn.execute(query)]
