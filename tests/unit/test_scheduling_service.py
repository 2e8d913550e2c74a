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
