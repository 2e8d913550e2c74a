"""SchedulerService policies on the SQLite store, with an injected launch and chosen clock times."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from robocore.scheduling.load import load_schedule
from robocore.scheduling.service import SchedulerService
from robocore.scheduling.triggers import build_trigger
from robocore.store import Store

UTC = dt.UTC


@pytest.fixture
def service(tmp_path: Path, robo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    robot = tmp_path / "robots" / "ping"
    robot.mkdir(parents=True)
    (robot / "robot.yaml").write_text("robot: ping\nsteps:\n  - use: flow.log\n    with: {message: x}\n")
    monkeypatch.setenv("ROBOCORE_ROBOTS", str(tmp_path / "robots"))
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "daily.yaml").write_text("schedule: daily\nrobot: ping\ncron: '0 9 * * *'\nmisfire: run_once\n"
                                       "skip_public_holidays: fr\n")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    launched: list[str] = []

    def launch(robot: str, inputs: dict[str, Any], *, store: Store, trigger: str, created_by: str) -> str:
        from robocore.dispatch import find_robot, load_robot
        from robocore.runs import prepare

        launched.append(created_by)
        return prepare(load_robot(find_robot(robot, tmp_path / "robots")), store, inputs, trigger=trigger,
                       created_by=created_by)  # recorded as queued, never executed: it stays "active"

    svc = SchedulerService(store, folder, launch=launch)
    spec = load_schedule(folder / "daily.yaml").spec
    # prime the service as a leader would (no APScheduler needed to test the fire policy)
    svc._specs["daily"], svc._triggers["daily"] = spec, build_trigger(spec)
    svc._since["daily"] = dt.datetime(2026, 4, 30, 12, tzinfo=UTC)
    svc.launched = launched
    yield svc
    store.close()


def test_holiday_is_skipped_then_overlap_blocks_the_next_fire(service: Any) -> None:
    """A fire on a French public holiday (1 May) is recorded skipped_holiday; the next one launches; the
    one after is skipped_overlap while that run is still queued."""
    service.fire_due("daily", dt.datetime(2026, 5, 1, 7, 0, 5, tzinfo=UTC))  # 09:00 Paris = 07:00 UTC
    service.fire_due("daily", dt.datetime(2026, 5, 2, 7, 0, 5, tzinfo=UTC))
    service.fire_due("daily", dt.datetime(2026, 5, 3, 7, 0, 5, tzinfo=UTC))
    got = [(f.fire_time.day, f.status) for f in service.store.fires("daily")]
    assert got == [(1, "skipped_holiday"), (2, "launched"), (3, "skipped_overlap")]
    assert service.launched == ["schedule:daily"]


def test_run_once_after_downtime_launches_one_and_records_the_rest(service: Any) -> None:
    """Down from 3 May noon to 7 May with run_once: 4-6 May recorded missed, one catch-up run for 7 May."""
    service._since["daily"] = dt.datetime(2026, 5, 3, 12, tzinfo=UTC)
    service.fire_due("daily", dt.datetime(2026, 5, 7, 12, tzinfo=UTC))  # 4, 5, 6, 7 May (no holiday)
    got = [(f.fire_time.day, f.status) for f in service.store.fires("daily")]
    assert got == [(4, "missed"), (5, "missed"), (6, "missed"), (7, "launched")]
    assert "rattrapage" in (service.store.last_fire("daily").note or "")
    service.fire_due("daily", dt.datetime(2026, 5, 7, 12, tzinfo=UTC))  # nothing new: nothing recorded twice
    assert len(service.store.fires("daily")) == 4


def test_disable_enable_and_list(service: Any) -> None:
    """set_enabled persists in the job store (no next fire while disabled) and run_now refuses an overlap."""
    service.set_enabled("daily", False)
    info = {i.name: i for i in service.list_schedules()}["daily"]
    assert info.enabled is False and info.next_fire_time is None
    service.set_enabled("daily", True)
    info = {i.name: i for i in service.list_schedules()}["daily"]
    assert info.enabled and len(info.next_fire_times) == 3 and info.next_fire_time.hour == 9
    run_id = service.run_now("daily")
    with pytest.raises(Exception, match="encore en cours"):
        service.run_now("daily")
    assert service.run_now("daily", force=True) != run_id


# ---- recovery: the leader's periodic sweep, the watchdog, what the operator sees -----------------------

class _Executor:
    """Records hand-overs; refuses them while `refuse` is set."""

    name = "enregistreur"

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.refuse = False

    def submit(self, run_id: str, queue: str | None = None) -> None:
        if self.refuse:
            raise ConnectionError("courtier injoignable")
        self.submitted.append(run_id)

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to stop."""


def _age(service: Any, table: str, seconds: float, **where: Any) -> None:
    """Move a row's timestamps into the past (runs: started_at; fires: recorded_at)."""
    from sqlalchemy import update

    from robocore.store.models import runs, schedule_fires, utcnow

    target = runs if table == "runs" else schedule_fires
    column = "started_at" if table == "runs" else "recorded_at"
    past = utcnow() - dt.timedelta(seconds=seconds)
    query = update(target).values({column: past})
    for key, value in where.items():
        query = query.where(target.c[key] == value)
    with service.store.engine.begin() as conn:
        conn.execute(query)


def _sweeper(service: Any, executor: _Executor, grace: float = 60.0) -> Any:
    from robocore.recovery import Sweeper

    return Sweeper(service.store, executor, queued_grace_s=grace, fire_grace_s=30.0)


def test_sweep_links_a_fire_to_the_run_its_dead_leader_recorded_and_fails_one_without(service: Any) -> None:
    """A fire recorded `launched` without a run id (leader died mid-launch) is linked to the unlinked run its
    leader recorded just after it; one whose leader died before recording a run is marked failed with the
    reason; a fire still within the launch grace is left alone."""
    from robocore.statuses import FireStatus

    at = dt.datetime(2026, 5, 4, 7, tzinfo=UTC)
    service.store.record_fire("daily", at, FireStatus.LAUNCHED)
    run_id = service._call_launch(service._specs["daily"], "schedule:daily")  # the dead leader's queued run
    service.store.record_fire("daily", at + dt.timedelta(days=1), FireStatus.LAUNCHED)
    service.store.record_fire("daily", at + dt.timedelta(days=2), FireStatus.LAUNCHED)  # just recorded
    _age(service, "schedule_fires", 300, schedule="daily")
    _age(service, "runs", 299, id=run_id)
    _age(service, "schedule_fires", 0, fire_time=(at + dt.timedelta(days=2)).replace(tzinfo=None))
    done = _sweeper(service, _Executor()).sweep()
    fires = service.store.fires("daily")
    assert [(f.status, f.run_id) for f in fires] == [("launched", run_id), ("failed", None), ("launched", None)]
    assert "retrouvée" in (fires[0].note or "") and "interrompu" in (fires[1].note or "")
    assert len(done.fires_linked) == 1 and len(done.fires_failed) == 1


def test_sweep_hands_over_runs_queued_past_the_grace_once_per_grace_then_fails_refused_ones(service: Any) -> None:
    """A run queued past the grace is handed to the executor again (a fresh one is not, nor the same one twice
    within the grace); a run the executor refuses 3 sweeps in a row is marked failed with the reason, and
    one queued for over 6 h is failed as never taken."""
    spec = service._specs["daily"]
    old, fresh, ancient = (service._call_launch(spec, f"schedule:{n}") for n in ("a", "b", "c"))
    _age(service, "runs", 120, id=old)
    _age(service, "runs", 7 * 3600, id=ancient)
    executor = _Executor()
    sweeper = _sweeper(service, executor, grace=60.0)
    done = sweeper.sweep()
    assert executor.submitted == [old] and done.failed == [ancient]
    assert fresh not in executor.submitted
    assert "6 h" in (service.store.get_run(ancient).error or "")
    sweeper.sweep()
    assert executor.submitted == [old]  # handed over once per grace period
    executor.refuse = True
    sweeper.queued_grace_s = 0.0  # every sweep may try again now
    for _ in range(3):
        sweeper.sweep()
    run = service.store.get_run(old)
    assert run.status == "failed" and "refusée 3 fois" in (run.error or "") and "courtier injoignable" in run.error


def test_a_blocked_schedule_says_which_run_holds_it(service: Any) -> None:
    """While the previous run is queued, the schedule lists as blocked by it ('en file depuis'), and the fire
    skipped for the overlap names the run and how long it has waited."""
    service.fire_due("daily", dt.datetime(2026, 5, 4, 7, 0, 5, tzinfo=UTC))
    run_id = service.store.last_fire("daily").run_id
    _age(service, "runs", 12 * 60, id=run_id)
    service.fire_due("daily", dt.datetime(2026, 5, 5, 7, 0, 5, tzinfo=UTC))
    skipped = service.store.last_fire("daily")
    assert skipped.status == "skipped_overlap" and f"exécution {run_id} en file depuis 12 min" in skipped.note
    info = {i.name: i for i in service.list_schedules()}["daily"]
    assert info.blocked.startswith(f"exécution {run_id} en file depuis 12 min")
    assert "dernier déclenchement sauté" in info.blocked


def test_watchdog_reports_only_work_older_than_the_bound() -> None:
    """The watchdog names the oldest work in progress once it exceeds the bound, and forgets finished work."""
    import time

    from robocore.scheduling.watchdog import Watchdog

    dog = Watchdog()
    with dog.working("lancement", "launch"):
        time.sleep(0.05)
        assert dog.stalled(10.0) is None
        assert (dog.stalled(0.01) or "").startswith("lancement bloqué depuis")
        assert "launch stuck for" in (dog.stalled(0.01) or "")
    assert dog.stalled(0.0) is None


def test_a_leader_whose_launch_hangs_gives_the_lead_up_and_takes_it_back_once_freed(
        service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A launch that never returns: the leader's loop notices after 2 × (submit + database timeouts), gives the
    lock up and records why (heartbeat row), stays a standby while the launch is stuck, and leads again once
    it returns."""
    import threading
    import time

    monkeypatch.setenv("ROBOCORE_SUBMIT_TIMEOUT", "0.3")
    monkeypatch.setenv("ROBOCORE_DATABASE_TIMEOUT", "0.2")  # stuck after 1 s
    (service.schedules_dir / "vite.yaml").write_text("schedule: vite\nrobot: ping\ncron: '* * * * * *'\n")
    (service.schedules_dir / "daily.yaml").unlink()
    release, started = threading.Event(), threading.Event()

    def hanging(robot: str, inputs: dict[str, Any], **_: Any) -> str:
        started.set()
        release.wait(30)
        raise RuntimeError("libéré")

    svc = SchedulerService(service.store, service.schedules_dir, launch=hanging, poll_seconds=0.1,
                           executor=_Executor(), sweep_seconds=60)
    svc.start()
    try:
        assert svc.wait_leader(10) and started.wait(10)
        deadline = time.monotonic() + 20
        while svc.is_leader and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not svc.is_leader
        while svc.leader().leading and time.monotonic() < deadline:  # the resignation is being recorded
            time.sleep(0.05)
        leader = svc.leader()
        assert not leader.leading and "bloqué" in (leader.note or "") and leader.owner == svc.owner
        time.sleep(0.5)
        assert not svc.is_leader  # still stuck: no lead taken back
        release.set()
        assert svc.wait_leader(10)
        assert svc.leader().leading
    finally:
        release.set()
        svc.stop()
