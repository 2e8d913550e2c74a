"""What /metrics reads from the store at scrape time: fires by status, lease takeovers, run durations.

Read from the store, not counted in memory, so that every server process of a deployment
reports the same figures, whichever process the scraper reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, case, func, insert, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from robocore.i18n import lazy_gettext as _l
from robocore.i18n import render, speaking
from robocore.statuses import RUN_FINAL, FireStatus, StepStatus
from robocore.store.models import runs as RUNS
from robocore.store.models import schedule_fires as FIRES
from robocore.store.models import step_events as EVENTS
from robocore.store.models import utcnow
from robocore.store.purge import TAKEOVER_STEP

# Upper bounds (seconds) of the run duration histogram: a second to a working day.
DURATION_BUCKETS: tuple[float, ...] = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800)


class seconds_between(FunctionElement[Any]):
    """Seconds from the first timestamp to the second, as each dialect computes it."""

    inherit_cache = True


@compiles(seconds_between)
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@dataclass(frozen=True)
class DurationHistogram:
    """Finished runs of one robot: cumulative counts per upper bound, total count and sum (seconds)."""

    robot: str
    buckets: tuple[tuple[float, int], ...]
    count: int
    total_seconds: float


class MetricsQueriesMixin:
    """The Store's scrape-time figures."""

    engine: Engine

    def fires_by_status(self) -> dict[FireStatus, int]:
        """How many schedule fire times were recorded in each status."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(FIRES.c.status, func.count()).group_by(FIRES.c.status)).all()
        return {FireStatus(s): int(n) for s, n in rows}

    def record_takeover(self, run_id: str, previous_owner: str | None, owner: str) -> None:
        """Note that `owner` took over the expired lease of `previous_owner` (a step event of the run)."""
        # stored as said in the language of the process that took over, as a run's other messages are
        note = render(_l("lease taken over from {previous} by {owner}", previous=previous_owner or "?", owner=owner),
                      speaking())
        with self.engine.begin() as conn:
            conn.execute(insert(EVENTS).values(run_id=run_id, item_key=None, step=TAKEOVER_STEP,
                                               status=StepStatus.DONE, duration_ms=0.0, message=note,
                                               at=utcnow()))

    def lease_takeovers(self) -> int:
        """How many times a process took over a run whose lease had expired (a killed worker's)."""
        query = select(func.count()).select_from(EVENTS).where(EVENTS.c.step == TAKEOVER_STEP)
        with self.engine.begin() as conn:
            return int(conn.execute(query).scalar_one())

    def run_durations(self, bounds: Sequence[float] = DURATION_BUCKETS) -> list[DurationHistogram]:
        """Per robot, finished runs' durations (recorded → finished: queue time included) bucketed in SQL."""
        seconds = seconds_between(RUNS.c.started_at, RUNS.c.finished_at)
        cumulative = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in bounds]
        query = (select(RUNS.c.robot, func.count(), func.coalesce(func.sum(seconds), literal(0.0)), *cumulative)
                 .where(RUNS.c.status.in_(sorted(RUN_FINAL)), RUNS.c.finished_at.is_not(None))
                 .group_by(RUNS.c.robot).order_by(RUNS.c.robot))
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
        return [DurationHistogram(robot=str(row[0]), count=int(row[1]), total_seconds=float(row[2]),
                                  buckets=tuple((b, int(n or 0)) for b, n in zip(bounds, row[3:], strict=True)))
                for row in rows]
