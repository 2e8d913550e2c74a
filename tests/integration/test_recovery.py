"""Orphaned runs are found and handed to the executor again after a restart."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from robocore.recovery import resubmit_orphans
from robocore.store import NewRun, Store
from robocore.store.models import runs as RUNS
from robocore.store.models import utcnow


class _Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.submitted: list[tuple[str, str | None]] = []

    def submit(self, run_id: str, queue: str | None = None) -> None:
        self.submitted.append((run_id, queue))

    def shutdown(self, wait: bool = True) -> None:
        pass


def _run(store: Store, run_id: str, version: int) -> None:
    store.create_run(NewRun(id=run_id, robot="r", version_id=version, robot_path="/x", inputs={},
                            process_name=None, service=None, minutes_per_item=0, minutes_per_run=0,
                            queue="q"))


def test_old_queued_and_stale_running_runs_are_resubmitted_fresh_ones_not(store_url: str) -> None:
    """A queued run nobody took and a run whose lease expired are resubmitted; a live or fresh one is not."""
    store = Store(store_url)
    version = store.save_robot_version("r", "0" * 64, "robot: r")
    for run_id in ("old-queued", "new-queued", "stale", "alive", "done"):
        _run(store, run_id, version)
    long_ago = utcnow() - timedelta(minutes=5)
    with store.engine.begin() as conn:
        conn.execute(update(RUNS).where(RUNS.c.id.in_(["old-queued", "stale", "alive", "done"]))
                     .values(started_at=long_ago))
        conn.execute(update(RUNS).where(RUNS.c.id == "stale").values(status="running", heartbeat_at=long_ago))
        conn.execute(update(RUNS).where(RUNS.c.id == "alive").values(status="running", heartbeat_at=utcnow()))
        conn.execute(update(RUNS).where(RUNS.c.id == "done").values(status="succeeded"))
    executor = _Recorder()
    assert sorted(resubmit_orphans(store, executor)) == ["old-queued", "stale"]
    assert sorted(executor.submitted) == [("old-queued", "q"), ("stale", "q")]
    store.close()
