"""A run's timeline: one step event per execution of an item's step, written to the store in batches.

The engine times each action it calls for an item (`clock()` before, `record()` after); the events
(step, item, start, duration, status, the error of a failure) are kept in memory and written in one
transaction every `batch` events or `every_s` seconds, and at the end of the run (`flush()`), so
that timing a 1,000-item run costs a few inserts, not one transaction per step. `robo logs RUN`
and `robo run --debug` show them (robocore.cli.timeline).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from robocore.statuses import StepStatus
from robocore.store import utcnow

if TYPE_CHECKING:
    from robocore.store import Store

MESSAGE_CHARS = 500  # a failure's error, cut: the item's full error is on the item itself
Clock = tuple[datetime, float]  # when a step started: wall time (naive UTC) and perf_counter


def clock() -> Clock:
    """Now, as a step's start."""
    return utcnow(), time.perf_counter()


@dataclass
class Timeline:
    """The pending step events of one run."""

    store: Store
    run_id: str
    batch: int = 500
    every_s: float = 5.0
    pending: list[dict[str, Any]] = field(default_factory=list)
    _flushed: float = field(default_factory=time.perf_counter)

    def record(self, step: str, item: str | None, began: Clock, status: StepStatus,
               message: str | None = None) -> None:
        """One step execution that started at `began` and ends now."""
        now = time.perf_counter()
        self.pending.append({"step": step, "item_key": item, "status": status, "at": began[0],
                             "duration_ms": (now - began[1]) * 1000,
                             "message": message[:MESSAGE_CHARS] if message else None})
        if len(self.pending) >= self.batch or now - self._flushed >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Write the pending events (one transaction)."""
        self._flushed = time.perf_counter()
        if self.pending:
            events, self.pending = self.pending, []
            self.store.add_events(self.run_id, events)
