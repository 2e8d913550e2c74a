"""Scheduling recovers by itself on PostgreSQL: a leader whose launches hang gives the lead up to the standby,
and a leader killed between recording a fire and launching it blocks its schedule no longer than a sweep."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from robocore.store.models import runs as RUNS
from robocore.store.models import schedule_fires as FIRES
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROBOT = "robot: ping\nsteps:\n  - use: flow.log\n    with: {message: bonjour}\n"
HUNG = 60.0  # far beyond every bound: reaching it means the scheduler did not recover


@pytest.fixture
def setup(tmp_path: Path, robo_home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A one-step robot, a schedule every 2 s, the PostgreSQL store, the local executor and short timeouts
    (a stuck launch is noticed after 2 × (1 + 1) s, the sweep runs every second, queued grace 1 s)."""
    robot = tmp_path / "robots" / "ping"
    robot.mkdir(parents=True)
    (robot / "robot.yaml").write_text(ROBOT, encoding="utf-8")
    schedules = tmp_path / "schedules"
    schedules.mkdir()
    (schedules / "ping.yaml").write_text("schedule: ping\nrobot: ping\ncron: '*/2 * * * * *'\ngrace_seconds: 1\n",
                                         encoding="utf-8")
    for key, value in {"ROBOCORE_DATABASE_URL": pg_url, "ROBOCORE_ROBOTS": str(tmp_path / "robots"),
                       "ROBOCORE_EXECUTOR": "local", "ROBOCORE_SCHEDULES": str(schedules),
                       "ROBOCORE_SUBMIT_TIMEOUT": "1", "ROBOCORE_DATABASE_TIMEOUT": "1",
                       "ROBOCORE_SWEEP_SECONDS": "1", "ROBOCORE_QUEUED_GRACE_SECONDS": "1"}.items():
        monkeypatch.setenv(key, value)
    engine = create_engine(pg_url)
    yield {"schedules": schedules, "engine": engine, "url": pg_url, "tmp": tmp_path}
    engine.dispose()
    from robocore.executors import base

    for name, executor in list(base._instances.items()):
        executor.shutdown(wait=True)
        base._instances.pop(name, None)


def _fires(engine: Any) -> list[dict[str, Any]]:
    with engine.begin() as conn:
        return [dict(r) for r in conn.execute(select(FIRES).order_by(FIRES.c.fire_time)).mappings()]


def _runs(engine: Any) -> dict[str, dict[str, Any]]:
    with engine.begin() as conn:
        return {r["id"]: dict(r) for r in conn.execute(select(RUNS)).mappings()}


def _service(setup: dict[str, Any], launch: Any = None) -> Any:
    from robocore.scheduling.service import SchedulerService
    from robocore.store import Store

    return SchedulerService(Store(setup["url"]), setup["schedules"], launch=launch, poll_seconds=0.2)


def test_a_leader_whose_launches_hang_gives_the_lead_to_the_standby(setup: dict[str, Any]) -> None:
    """Leader A's launch blocks for ever (a broker or anything else that never answers): A notices from its own
    loop, gives the lock up and records why; standby B leads, launches the next fires, and its sweep marks
    the fire A never launched as failed with the reason. A does not take the lead back while stuck."""
    release = threading.Event()
    hung: list[str] = []

    def hanging_launch(robot: str, inputs: dict[str, Any], **_: Any) -> str:
        hung.append(robot)
        release.wait(HUNG)
        raise RuntimeError("never launched")

    a = _service(setup, hanging_launch)
    a.start()
    b = None
    try:
        assert a.wait_leader(15)
        b = _service(setup)
        b.start()
        assert wait_until(lambda: bool(hung), 15)
        standby = b
        assert wait_until(lambda: standby.is_leader, HUNG), "the standby never took over"
        assert not a.is_leader
        assert wait_until(lambda: any(f["status"] == "launched" and f["run_id"] for f in _fires(setup["engine"])), 20)
        assert wait_until(lambda: any(f["status"] == "failed" and "interrompu" in (f["note"] or "")
                                 for f in _fires(setup["engine"])), 20), _fires(setup["engine"])
        leader = b.leader()
        assert leader.leading and leader.owner == b.owner and leader.pid == os.getpid()
        assert not a.is_leader  # still stuck: it stays a standby
    finally:
        release.set()
        a.stop()
        if b is not None:
            b.stop()
    fires = _fires(setup["engine"])
    launched = [f["run_id"] for f in fires if f["status"] == "launched"]
    assert len(launched) == len(set(launched)) and all(launched), fires
    assert len(hung) == 1  # one fire hung, none launched twice


DYING_LEADER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from robocore.scheduling.service import SchedulerService
    from robocore.store import Store

    def dying_launch(robot, inputs, *, store, trigger, created_by, **_):
        from robocore.loader import find_robot, load_robot
        from robocore.runs import prepare
        from robocore import settings
        prepare(load_robot(find_robot(robot, settings.robots_dir())), store, inputs, trigger=trigger,
                created_by=created_by)   # the run is recorded queued ...
        os._exit(9)                       # ... and the leader dies before handing it to an executor

    service = SchedulerService(Store(sys.argv[1]), Path(sys.argv[2]), launch=dying_launch, poll_seconds=0.2)
    service.start()
    service.wait_leader(60)
    print("LEADS", flush=True)
    time.sleep(120)
""")


def test_a_leader_killed_between_recording_a_fire_and_launching_it_blocks_nothing(setup: dict[str, Any]) -> None:
    """A leader process dies after recording a fire and its queued run, before submitting it (the fire has no
    run id, the run stays queued). The standby's sweep links the fire to that run and hands the run to the
    executor; the run succeeds and the NEXT fires launch runs of their own instead of `skipped_overlap`."""
    script = setup["tmp"] / "dying_leader.py"
    script.write_text(DYING_LEADER, encoding="utf-8")
    log = (setup["tmp"] / "dying.log").open("wb")
    dying = subprocess.Popen([sys.executable, str(script), setup["url"], str(setup["schedules"])],
                             stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    standby = None
    try:
        def dying_leads() -> bool:
            return "LEADS" in (setup["tmp"] / "dying.log").read_text(errors="replace") or dying.poll() is not None
        assert wait_until(dying_leads, HUNG), (setup["tmp"] / "dying.log").read_text()
        standby = _service(setup)
        standby.start()
        dying.wait(timeout=HUNG)
        assert dying.returncode == 9, (setup["tmp"] / "dying.log").read_text()
        orphan = [f for f in _fires(setup["engine"]) if f["status"] == "launched"]
        assert len(orphan) == 1 and orphan[0]["run_id"] is None
        died_at = orphan[0]["fire_time"]
        queued = [r for r in _runs(setup["engine"]).values() if r["status"] == "queued"]
        assert len(queued) == 1

        def next_fire_ran() -> bool:
            runs = _runs(setup["engine"])
            return any(f["fire_time"] > died_at and f["status"] == "launched" and f["run_id"]
                       and runs.get(f["run_id"], {}).get("status") == "succeeded" for f in _fires(setup["engine"]))
        assert standby.wait_leader(15)
        assert wait_until(next_fire_ran, HUNG), (_fires(setup["engine"]), _runs(setup["engine"]))
        # the fire itself is linked once the launch grace (a launch that may still be going) has passed
        assert wait_until(lambda: any(f["fire_time"] == died_at and f["run_id"] for f in _fires(setup["engine"])), HUNG)
    finally:
        if dying.poll() is None:
            dying.kill()
            dying.wait()
        log.close()
        if standby is not None:
            standby.stop()
    fires = _fires(setup["engine"])
    first = next(f for f in fires if f["fire_time"] == died_at)
    assert first["run_id"] == queued[0]["id"] and "retrouvée" in (first["note"] or ""), first
    assert _runs(setup["engine"])[queued[0]["id"]]["status"] == "succeeded"
    later = [f for f in fires if f["fire_time"] > died_at]
    overlap = [f for f in later if f["status"] == "skipped_overlap"]
    assert len(overlap) <= 3, fires  # at most while the orphan waited for the first sweep and ran
