"""Schedules on a real PostgreSQL store: fire counts, downtime policies, two servers and a leader killed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from robocore.store.models import runs as RUNS
from robocore.store.models import schedule_fires as FIRES
from tests.conftest import robo_cmd
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROBOT = """\
robot: ping
inputs:
  message: {type: text, default: bonjour}
steps:
  - use: flow.log
    with: {message: "{{ inputs.message }}"}
"""
LEADER_LINE = "ce processus est désormais le planificateur meneur"  # robocore.scheduling, in French by default
FINAL = ("succeeded", "failed", "completed_with_errors", "cancelled")


@pytest.fixture
def setup(tmp_path: Path, robo_home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A robots folder with a one-step robot, an empty schedules folder, the PostgreSQL store, local executor."""
    robot = tmp_path / "robots" / "ping"
    robot.mkdir(parents=True)
    (robot / "robot.yaml").write_text(ROBOT, encoding="utf-8")
    schedules = tmp_path / "schedules"
    schedules.mkdir()
    for key, value in {"ROBOCORE_DATABASE_URL": pg_url, "ROBOCORE_ROBOTS": str(tmp_path / "robots"),
                       "ROBOCORE_EXECUTOR": "local", "ROBOCORE_SCHEDULES": str(schedules)}.items():
        monkeypatch.setenv(key, value)
    engine = create_engine(pg_url)
    yield {"schedules": schedules, "engine": engine, "url": pg_url, "tmp": tmp_path}
    engine.dispose()
    from robocore.executors import base

    for name, executor in list(base._instances.items()):  # in-process executors of the service tests
        executor.shutdown(wait=True)
        base._instances.pop(name, None)


def _schedule(folder: Path, name: str, extra: str = "") -> None:
    (folder / f"{name}.yaml").write_text(f"schedule: {name}\nrobot: ping\ninputs: {{message: '{name}'}}\n"
                                         f"cron: '*/2 * * * * *'\ngrace_seconds: 1\n{extra}", encoding="utf-8")


def _fires(engine: Any, name: str) -> list[dict[str, Any]]:
    with engine.begin() as conn:
        return [dict(r) for r in conn.execute(select(FIRES).where(FIRES.c.schedule == name)
                                              .order_by(FIRES.c.fire_time)).mappings()]


def _runs(engine: Any, name: str) -> list[dict[str, Any]]:
    with engine.begin() as conn:
        return [dict(r) for r in conn.execute(select(RUNS).where(RUNS.c.created_by == f"schedule:{name}"))
                .mappings()]


def _utc(moment: dt.datetime | None = None) -> dt.datetime:
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)


def _contiguous(rows: list[dict[str, Any]], period: float = 2.0) -> bool:
    times = [r["fire_time"] for r in rows]
    return all((b - a).total_seconds() == period for a, b in zip(times, times[1:], strict=False))


def _scheduler_cmd() -> list[str]:
    """`robo scheduler` once the CLI registers it, else the same command through its module."""
    from robocore.cli.app import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    if "scheduler" in names:
        return robo_cmd() + ["scheduler"]
    return [sys.executable, "-m", "robocore.cli.cmd_schedules", "scheduler"]


class Server:
    """A `robo scheduler` process, its log file and every process it started (stopped by PID)."""

    def __init__(self, tmp: Path, label: str) -> None:
        self.log = tmp / f"{label}.log"
        self.handle = self.log.open("wb")
        self.proc = subprocess.Popen(_scheduler_cmd() + ["--poll", "0.5"], stdout=self.handle,
                                     stderr=subprocess.STDOUT, env=dict(os.environ))
        self.children: set[int] = set()

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def leads(self) -> bool:
        return LEADER_LINE in self.text()

    def _remember_children(self) -> None:
        import psutil

        try:
            self.children |= {c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            pass

    def stop(self, kill: bool = False) -> None:
        self._remember_children()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.handle.close()

    def reap(self) -> None:
        """Stop the worker processes left behind (a killed server's pool)."""
        import psutil

        for pid in self.children:
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                pass


def test_cron_every_two_seconds_fires_the_expected_runs(setup: dict[str, Any]) -> None:
    """A `*/2 s` cron schedule under `robo scheduler` fires once per period: one fire row per trigger time,
    each launched one run (trigger 'schedule', created_by 'schedule:<name>') that succeeds."""
    _schedule(setup["schedules"], "ping-2s")
    server = Server(setup["tmp"], "server")
    try:
        assert wait_until(server.leads, 30), server.text()
        start = _utc()
        time.sleep(8.5)
        end = _utc()
        server.stop()
    finally:
        server.stop()
        server.reap()
    fires = _fires(setup["engine"], "ping-2s")
    in_window = [f for f in fires if start < f["fire_time"] <= end]
    assert 3 <= len(in_window) <= 5, fires  # 4 trigger times in 8.5 s, ±1 at the window edges
    assert _contiguous(fires), fires
    assert {f["status"] for f in fires} <= {"launched", "skipped_overlap"}, fires
    launched = [f for f in fires if f["status"] == "launched"]
    runs = {r["id"]: r for r in _runs(setup["engine"], "ping-2s")}
    assert sorted(runs) == sorted(f["run_id"] for f in launched)
    assert all(r["trigger"] == "schedule" and r["inputs"] == {"message": "ping-2s"} for r in runs.values())
    assert all(r["status"] == "succeeded" for r in runs.values()), runs


def _service(setup: dict[str, Any]) -> Any:
    from robocore.scheduling.service import SchedulerService
    from robocore.store import Store

    return SchedulerService(Store(setup["url"]), setup["schedules"], poll_seconds=0.2)


def _downtime(setup: dict[str, Any], name: str, misfire: str) -> tuple[list[dict[str, Any]], dt.datetime, Any]:
    """Schedule every 2 s; stop the scheduler after 2 launched fires, restart ≥ 3 periods later, 1.3 s past a
    fire time (so the latest missed fire is beyond the 1 s grace), let it fire again, stop."""
    _schedule(setup["schedules"], name, f"misfire: {misfire}\n")
    first = _service(setup)
    first.start()
    try:
        assert first.wait_leader(15)
        assert wait_until(lambda: sum(f["status"] == "launched" for f in _fires(setup["engine"], name)) >= 2, 15)
    finally:
        first.stop()
    stopped = _utc()
    time.sleep(8.0)  # ≥ 4 trigger times pass while stopped
    now = time.time()
    time.sleep((1.3 - now % 2.0) % 2.0)  # fire times are on even seconds
    second = _service(setup)
    second.start()
    try:
        assert second.wait_leader(15)
        time.sleep(3.0)
    finally:
        second.stop()
    return _fires(setup["engine"], name), stopped, second


def test_downtime_with_skip_records_missed_fires_and_runs_nothing(setup: dict[str, Any]) -> None:
    """misfire: skip — after ≥ 3 missed periods the restarted scheduler records each missed fire as
    `missed` (no run, no catch-up) and then fires normally again; no trigger time goes unrecorded."""
    fires, stopped, _ = _downtime(setup, "ping-skip", "skip")
    assert _contiguous(fires), fires
    after = [f for f in fires if f["fire_time"] > stopped]
    first_run = next(i for i, f in enumerate(after) if f["status"] != "missed")
    missed = after[:first_run]
    assert len(missed) >= 3 and all(f["run_id"] is None for f in missed), fires
    resumed = after[first_run]
    assert resumed["status"] == "launched" and resumed["note"] is None  # an on-time fire, not a catch-up
    assert (resumed["recorded_at"] - resumed["fire_time"]).total_seconds() < 1.5
    assert not any("rattrapage" in (f["note"] or "") for f in fires)
    assert len(_runs(setup["engine"], "ping-skip")) == sum(f["status"] == "launched" for f in fires)


def test_downtime_with_run_once_launches_exactly_one_catch_up_run(setup: dict[str, Any]) -> None:
    """misfire: run_once — after ≥ 3 missed periods the restarted scheduler launches exactly one catch-up
    run (for the latest missed fire) and records the earlier ones as `missed`."""
    fires, stopped, _ = _downtime(setup, "ping-once", "run_once")
    assert _contiguous(fires), fires
    after = [f for f in fires if f["fire_time"] > stopped]
    catch_ups = [f for f in after if "rattrapage" in (f["note"] or "")]
    assert len(catch_ups) == 1 and catch_ups[0]["status"] == "launched" and catch_ups[0]["run_id"], fires
    before = [f for f in after if f["fire_time"] < catch_ups[0]["fire_time"]]
    assert len(before) >= 3 and all(f["status"] == "missed" for f in before), fires
    later = [f for f in after if f["fire_time"] > catch_ups[0]["fire_time"]]
    assert all(f["status"] in ("launched", "skipped_overlap") for f in later) and later, fires
    runs = {r["id"] for r in _runs(setup["engine"], "ping-once")}
    assert runs == {f["run_id"] for f in fires if f["status"] == "launched"}


def test_two_servers_never_launch_a_fire_twice_and_the_standby_takes_over(setup: dict[str, Any]) -> None:
    """Two `robo scheduler` processes on one PostgreSQL: one leads, the other stands by; no fire time is
    recorded or launched twice. After kill -9 of the leader the standby leads within seconds and keeps
    firing, and every trigger time of the whole test is recorded exactly once."""
    _schedule(setup["schedules"], "ping-ha")
    a = Server(setup["tmp"], "a")
    b: Server | None = None
    try:
        assert wait_until(a.leads, 30), a.text()
        b = Server(setup["tmp"], "b")
        time.sleep(6.0)
        assert a.leads() and not b.leads(), b.text()

        def quiet() -> bool:  # kill between fires, once the last run ended (its run can't be orphaned)
            rows = _fires(setup["engine"], "ping-ha")
            runs = {r["id"]: r["status"] for r in _runs(setup["engine"], "ping-ha")}
            return bool(rows) and all(runs.get(f["run_id"]) in FINAL for f in rows if f["run_id"]) \
                and 0.3 < time.time() % 2.0 < 1.0
        assert wait_until(quiet, 20, 0.05)
        a.stop(kill=True)
        killed = time.monotonic()
        assert wait_until(b.leads, 15), b.text()
        takeover = time.monotonic() - killed
        killed_at = _utc()
        time.sleep(6.0)
    finally:
        a.stop(kill=True)
        a.reap()
        if b is not None:
            b.stop()
            b.reap()
    assert takeover < 10, takeover
    fires = _fires(setup["engine"], "ping-ha")
    assert _contiguous(fires), fires  # each trigger time once (the unique constraint holds the rest)
    assert sum(f["status"] == "launched" and f["fire_time"] > killed_at for f in fires) >= 2, fires
    runs = _runs(setup["engine"], "ping-ha")
    launched = [f["run_id"] for f in fires if f["status"] == "launched"]
    assert len(runs) == len(launched) == len(set(launched))
    assert {r["id"] for r in runs} == set(launched)
