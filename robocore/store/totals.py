"""Store-wide totals read at scrape time: runs and items by status (minutes saved: the ledger)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from robocore.statuses import ItemStatus, RunStatus
from robocore.store.models import items as ITEMS
from robocore.store.models import runs as RUNS
from robocore.store.rows import ItemCounts, RunCounts


class TotalsMixin:
    """The Store's totals (what /metrics reports)."""

    engine: Engine

    def runs_by_status(self) -> RunCounts:
        """How many runs are in each status."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(RUNS.c.status, func.count()).group_by(RUNS.c.status)).all()
        return {RunStatus(s): int(n) for s, n in rows}

    def items_by_status(self) -> ItemCounts:
        """How many items, of every run, are in each status."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(ITEMS.c.status, func.count()).group_by(ITEMS.c.status)).all()
        return {ItemStatus(s): int(n) for s, n in rows}
