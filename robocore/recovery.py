"""Orphaned runs after a server or worker restart: queued runs nobody holds, running runs whose
lease expired. They are handed to the executor again; the store's lease and item statuses make
that safe (done items are never redone)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import or_, select

from robocore.executors.base import Executor
from robocore.store import Store
from robocore.store.models import runs as RUNS
from robocore.store.models import utcnow
from robocore.store.repository import LEASE_SECONDS

log = structlog.get_logger("robocore.recovery")


def orphaned_runs(store: Store, queued_for_s: float = 10.0) -> list[tuple[str, str | None]]:
    """(run id, queue) of runs queued for a while with no owner, or running with an expired lease."""
    now = utcnow()
    stale = now - timedelta(seconds=LEASE_SECONDS)
    old_queued = now - timedelta(seconds=queued_for_s)
    query = select(RUNS.c.id, RUNS.c.queue).where(or_(
        (RUNS.c.status == "queued") & (RUNS.c.started_at < old_queued),
        (RUNS.c.status == "running") & ((RUNS.c.heartbeat_at.is_(None)) | (RUNS.c.heartbeat_at < stale))))
    with store.engine.begin() as conn:
        return [(r.id, r.queue) for r in conn.execute(query)]


def resubmit_orphans(store: Store, executor: Executor, queued_for_s: float = 10.0) -> list[str]:
    """Hand every orphaned run to the executor again; returns their ids."""
    ids = []
    for run_id, queue in orphaned_runs(store, queued_for_s):
        executor.submit(run_id, queue)
        ids.append(run_id)
    if ids:
        log.warning("runs.resubmitted", runs=ids, reason="orphelines après redémarrage / orphaned after restart")
    return ids
