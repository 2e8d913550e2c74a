"""Work left behind by a dead or stuck process, handed on again: the scheduling leader's periodic sweep.

- a fire recorded `launched` without a run id (its leader died or hung during the launch): linked to
  the run that leader recorded, else marked failed with the reason;
- a run `queued` past ROBOCORE_QUEUED_GRACE_SECONDS that no process holds: handed to the executor
  again (at most once per grace period), marked failed once the executor refused it
  `MAX_SUBMIT_FAILURES` times in a row, or once it waited `QUEUED_STALE_SECONDS`;
- a `running` run whose lease expired (its worker died): handed to the executor again.

Handing a run over twice is safe: the store's lease lets one process execute it and item statuses
keep done items from being redone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from robocore.executors.base import Executor
from robocore.i18n import gettext as _
from robocore.i18n import ngettext
from robocore.statuses import FireStatus, RunStatus
from robocore.store import Store, utcnow
from robocore.store.runs import QUEUED_STALE_SECONDS

log = structlog.get_logger("robocore.recovery")
MAX_SUBMIT_FAILURES = 3  # refusals in a row before a queued run is marked failed
ExecutorSource = Executor | Callable[[], Executor]


def resubmit_orphans(store: Store, executor: Executor, queued_for_s: float = 10.0) -> list[str]:
    """Hand every orphaned run to the executor again; returns their ids."""
    ids = []
    for run in store.orphaned_runs(queued_for_s):
        executor.submit(run.id, run.queue)
        ids.append(run.id)
    if ids:
        log.warning("runs.resubmitted", runs=ids, reason="orphaned after restart")
    return ids


@dataclass
class Swept:
    """What one sweep did (ids of runs, `schedule@fire time` of fires)."""

    fires_linked: list[str] = field(default_factory=list)
    fires_failed: list[str] = field(default_factory=list)
    resubmitted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.fires_linked, self.fires_failed, self.resubmitted, self.failed, self.refused))


@dataclass
class Sweeper:
    """The leader's sweep, with what it remembers between two sweeps (when each run was last handed over).

    Args:
        executor: the executor, or how to get it (made at the first resubmission).
        queued_grace_s: a queued run younger than this is left alone (ROBOCORE_QUEUED_GRACE_SECONDS).
        fire_grace_s: a fire without a run younger than this may still be launching.
    """

    store: Store
    executor: ExecutorSource
    queued_grace_s: float
    fire_grace_s: float
    _handed: dict[str, float] = field(default_factory=dict)   # run id → monotonic time of the last hand-over
    _refusals: dict[str, int] = field(default_factory=dict)   # run id → refusals in a row

    def sweep(self) -> Swept:
        """One pass over fires without a run, runs stuck queued and runs whose lease expired."""
        done = Swept()
        self._settle_fires(done)
        self._hand_over_runs(done)
        if done:
            log.warning("recovery.swept", **{k: v for k, v in vars(done).items() if v})
        return done

    def _settle_fires(self, done: Swept) -> None:
        cutoff = utcnow() - timedelta(seconds=self.fire_grace_s)
        for fire in self.store.unlinked_fires(cutoff):
            label = f"{fire.schedule}@{fire.fire_time:%Y-%m-%dT%H:%M:%S}"
            # its leader records the run right after the fire; a launch longer than the grace was given up
            run = self.store.unlinked_run(f"schedule:{fire.schedule}", fire.recorded_at,
                                          fire.recorded_at + timedelta(seconds=self.fire_grace_s))
            if run is not None:
                if self.store.settle_fire(fire.schedule, fire.fire_time_utc, run_id=run.id,
                                          note=_("run found after the scheduler was interrupted")):
                    done.fires_linked.append(label)
            elif self.store.settle_fire(fire.schedule, fire.fire_time_utc, status=FireStatus.FAILED,
                                        note=_("launch interrupted: the scheduler stopped or hung while launching")):
                done.fires_failed.append(label)

    def _hand_over_runs(self, done: Swept) -> None:
        now, clock = utcnow(), time.monotonic()
        for run in self.store.orphaned_runs(self.queued_grace_s):
            queued = run.status is RunStatus.QUEUED
            if queued and (now - run.started_at).total_seconds() > QUEUED_STALE_SECONDS:
                self._fail(run.id, _("queued for more than {hours} h, never taken by a worker",
                                     hours=format(QUEUED_STALE_SECONDS / 3600, "g")), done)
                continue
            last = self._handed.get(run.id)
            if last is not None and clock - last < self.queued_grace_s:
                continue  # handed over recently: give the executor time to take it
            if not self._submit(run.id, run.queue, queued, done):
                break  # the executor does not answer: the other runs would wait as long for nothing
        alive = {run.id for run in self.store.orphaned_runs(self.queued_grace_s)}
        for remembered in (self._handed, self._refusals):
            for run_id in set(remembered) - alive:
                remembered.pop(run_id, None)

    def _submit(self, run_id: str, queue: str | None, queued: bool, done: Swept) -> bool:
        from robocore.dispatch import ExecutorUnavailable, submit

        self._handed[run_id] = time.monotonic()
        try:
            submit(self.store, run_id, queue, self.executor, new_run=False)
        except ExecutorUnavailable as exc:
            refusals = self._refusals[run_id] = self._refusals.get(run_id, 0) + 1
            done.refused.append(run_id)
            log.error("recovery.resubmit_refused", run_id=run_id, refusals=refusals, error=str(exc))
            if queued and refusals >= MAX_SUBMIT_FAILURES:
                self._fail(run_id, ngettext("refused {n} time by the executor when resumed: {error}",
                                            "refused {n} times by the executor when resumed: {error}", refusals,
                                            error=exc), done)
            return False
        self._refusals.pop(run_id, None)
        done.resubmitted.append(run_id)
        return True

    def _fail(self, run_id: str, reason: str, done: Swept) -> None:
        if self.store.fail_queued_run(run_id, reason):
            done.failed.append(run_id)
        self._handed.pop(run_id, None)
        self._refusals.pop(run_id, None)
