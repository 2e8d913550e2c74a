"""Purging old runs: what a finished run leaves behind once its detail is no longer needed.

A purged run keeps what the hours-saved figures are made of and drops its detail:

- kept: the `runs` row (robot, process, service, status, times, minutes in force), its `items`
  rows (key, status, attempts, times) and every `ledger` row. Ledger rows reference their run
  (a foreign key) and `robo report` counts items and runs by outcome from those rows: deleting
  them would rewrite past reports (items done, success rates), which the ledger never does.
  Item keys are no secret of these rows: the ledger's entry keys (`item:<run>:<key>`) hold them.
- dropped: the run's inputs (set to `{}`), its step events and, done by the caller
  (`robocore.cli.cmd_purge`), its files (uploads, outputs, evidence, log). Items keep the names of
  their evidence files (the API then answers 404 for them): rewriting every item row of every
  purged run would cost more than the few names it frees.
- schedule fires keep their run id: the run row they point to still exists.

A purged run is marked by one step event (`PURGE_STEP`), which makes the purge idempotent
(a run is purged once) and lets a resume refuse it. Lease takeover markers (`TAKEOVER_STEP`)
are kept: `/metrics` counts them and a counter must not go down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, delete, exists, func, insert, select, update

from robocore.statuses import RUN_FINAL, StepStatus
from robocore.store.models import runs as RUNS
from robocore.store.models import step_events as EVENTS
from robocore.store.models import utcnow

PURGE_STEP = "robocore:purge"
TAKEOVER_STEP = "robocore:reprise-bail"
MARKERS = (PURGE_STEP, TAKEOVER_STEP)


@dataclass(frozen=True)
class PurgeCandidates:
    """What a purge of runs finished before `before` removes (or would remove, in a dry run)."""

    before: datetime
    run_ids: tuple[str, ...]
    events: int

    @property
    def runs(self) -> int:
        return len(self.run_ids)


def _not_purged() -> ColumnElement[bool]:
    return ~exists().where(EVENTS.c.run_id == RUNS.c.id, EVENTS.c.step == PURGE_STEP)


class PurgeMixin:
    """The Store's purge: finished runs before a date lose their detail, keep their figures."""

    engine: Engine

    def purge_candidates(self, before: datetime) -> PurgeCandidates:
        """Runs finished (never queued or running) before `before` and not purged yet, with what they hold."""
        old = and_(RUNS.c.status.in_(sorted(RUN_FINAL)), RUNS.c.finished_at.is_not(None),
                   RUNS.c.finished_at < before, _not_purged())
        ids = select(RUNS.c.id).where(old)
        with self.engine.begin() as conn:
            run_ids = tuple(str(i) for i in conn.execute(ids.order_by(RUNS.c.finished_at, RUNS.c.id)).scalars())
            events = conn.execute(select(func.count()).select_from(EVENTS).where(
                EVENTS.c.run_id.in_(ids), EVENTS.c.step.not_in(MARKERS))).scalar_one()
        return PurgeCandidates(before, run_ids, int(events))

    def purge_run(self, run_id: str, note: str) -> bool:
        """Drop one finished run's inputs and step events and mark it purged, in one transaction.

        False when the run is not finished (a resume claimed it meanwhile) or already purged; its
        files are the caller's to delete, before (a purge stopped half-way is then finished by the next).
        """
        with self.engine.begin() as conn:
            marked = conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status.in_(sorted(RUN_FINAL)),
                                                     _not_purged()).values(inputs={}))
            if marked.rowcount != 1:
                return False
            conn.execute(delete(EVENTS).where(EVENTS.c.run_id == run_id, EVENTS.c.step.not_in(MARKERS)))
            conn.execute(insert(EVENTS).values(run_id=run_id, item_key=None, step=PURGE_STEP,
                                               status=StepStatus.DONE, duration_ms=0.0, message=note,
                                               at=utcnow()))
        return True

    def is_purged(self, run_id: str) -> bool:
        """Whether the run's detail was purged (its inputs and files are gone: it cannot be resumed)."""
        query = select(EVENTS.c.id).where(EVENTS.c.run_id == run_id, EVENTS.c.step == PURGE_STEP).limit(1)
        with self.engine.begin() as conn:
            return conn.execute(query).first() is not None
