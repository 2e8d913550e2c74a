"""Orphaned runs after a server or worker restart: queued runs nobody holds, running runs whose
lease expired. They are handed to the executor again; the store's lease and item statuses make
that safe (done items are never redone)."""

from __future__ import annotations

import structlog

from robocore.executors.base import Executor
from robocore.store import Store

log = structlog.get_logger("robocore.recovery")


def resubmit_orphans(store: Store, executor: Executor, queued_for_s: float = 10.0) -> list[str]:
    """Hand every orphaned run to the executor again; returns their ids."""
    ids = []
    for run in store.orphaned_runs(queued_for_s):
        executor.submit(run.id, run.queue)
        ids.append(run.id)
    if ids:
        log.warning("runs.resubmitted", runs=ids, reason="orphelines après redémarrage / orphaned after restart")
    return ids
