"""The local executor: runs launched into a pool of worker processes, recorded, none lost, none twice."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from robocore import dispatch
from robocore.executors.local import LocalExecutor
from robocore.loader import load_robot
from robocore.runs import prepare
from robocore.statuses import RUN_FINAL, RunStatus
from robocore.store import Run, Store

ROBOTS = Path(__file__).parent / "robots"


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(ROBOTS / name, dest)
    return dest


def _run(store: Store, run_id: str) -> Run:
    run = store.get_run(run_id)
    assert run is not None, run_id
    return run


def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_launched_runs_execute_in_worker_processes(store_url: str, tmp_path: Path) -> None:
    """Six runs launched at once all execute in the pool's processes (not this one), each recorded
    with its exact counts and ledger; launch returns before they finish."""
    robot = _copy("lot50", tmp_path)
    store = Store(store_url)
    executor = LocalExecutor(2)
    try:
        ids = [dispatch.launch(str(robot), {"nombre": "20"}, store=store, executor=executor) for _ in range(6)]
        assert len(set(ids)) == 6
        _until(lambda: all(_run(store, i).status in RUN_FINAL for i in ids), 120, "six final runs")
        rows = [_run(store, i) for i in ids]
        assert all(r.status == "completed_with_errors" for r in rows)
        assert all(store.counts(i) == {"done": 17, "business_error": 3} for i in ids)
        assert all(store.run_minutes(i) == pytest.approx(17 * 4.5 + 10) for i in ids)
        pids = {r.pid for r in rows}
        assert os.getpid() not in pids and 1 <= len(pids) <= 2
        _until(executor.idle, 10, "an idle executor")
    finally:
        executor.shutdown(wait=True)
        store.close()


@pytest.mark.parametrize("holder", ["finishes", "dies"])
def test_run_held_elsewhere_is_never_executed_twice(holder: str, store_url: str, tmp_path: Path) -> None:
    """A run whose lease a live process holds is not executed by the pool: the executor asks again
    later; if the holder finishes the run it is left alone, if the holder's lease goes stale the
    executor takes it over and completes it, each item once."""
    robot = _copy("crash200", tmp_path)
    journal = robot / "journal.txt"
    store = Store(store_url)
    run_id = prepare(load_robot(robot), store, {"journal": str(journal), "pause": "0"})
    assert store.claim_run(run_id, "ailleurs:1:holder")  # this (live) process holds the lease
    executor = LocalExecutor(1, retry_after=0.2)
    try:
        executor.submit(run_id)
        time.sleep(2.0)  # several refused attempts
        run = _run(store, run_id)
        assert run.owner == "ailleurs:1:holder" and run.status == "running"
        assert not journal.exists() and store.counts(run_id) == {}
        assert not executor.idle(), "a refused run is asked again, not dropped"
        if holder == "finishes":
            store.finish_run(run_id, RunStatus.SUCCEEDED, owner="ailleurs:1:holder")
            _until(executor.idle, 15, "the executor to give up on the finished run")
            assert not journal.exists() and store.counts(run_id) == {}
            assert _run(store, run_id).owner == "ailleurs:1:holder"
        else:
            engine = create_engine(store_url)
            with engine.begin() as conn:  # the holder stopped beating a minute ago
                conn.execute(text("UPDATE runs SET heartbeat_at = :t WHERE id = :i"),
                             {"t": _run(store, run_id).heartbeat_at.replace(year=2000), "i": run_id})
            engine.dispose()
            _until(lambda: _run(store, run_id).status in RUN_FINAL, 120, "the taken-over run to finish")
            final = _run(store, run_id)
            assert final.status == "succeeded" and final.owner != "ailleurs:1:holder"
            assert sorted(journal.read_text().splitlines()) == sorted(f"E{n}" for n in range(200))
            assert store.counts(run_id) == {"done": 200}
    finally:
        executor.shutdown(wait=True)
        store.close()


def test_remote_run_with_local_executor_prints_id_and_waits(store_url: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`robo run --remote` with the local executor prints the run id and, since the pool lives in the
    command's process, waits until the run is final before returning."""
    from robocore.cli.cmd_worker import remote_run

    monkeypatch.setenv("ROBOCORE_EXECUTOR", "local")
    run_id = remote_run(str(_copy("lot50", tmp_path)), {"nombre": "5"})
    assert run_id in capsys.readouterr().out
    store = Store(store_url)
    try:
        run = _run(store, run_id)
        assert run.status == "succeeded" and run.trigger == "cli" and run.pid != os.getpid()
        assert store.counts(run_id) == {"done": 5}
    finally:
        store.close()


def test_worker_refuses_the_sqlite_store(robo_home: Path) -> None:
    """`robo worker` refuses to start on the per-machine SQLite store unless --single-machine says so."""
    import typer
    from typer.testing import CliRunner

    from robocore.cli.cmd_worker import register

    app = typer.Typer()
    register(app)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["worker", "--queues", "robocore"])
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output


def test_killed_pool_process_run_is_resumed_exactly_once(store_url: str, tmp_path: Path) -> None:
    """When the pool process executing a run is killed with SIGKILL, the executor starts a fresh pool
    and resumes the run there: each of the 200 side effects happens once and the run succeeds."""
    import signal

    robot = _copy("crash200", tmp_path)
    journal = robot / "journal.txt"
    store = Store(store_url)
    executor = LocalExecutor(1, retry_after=0.2)
    try:
        run_id = dispatch.launch(str(robot), {"journal": str(journal), "pause": "0.01"}, store=store,
                                 executor=executor)
        _until(lambda: journal.exists() and len(journal.read_text().splitlines()) >= 40, 60, "40 items")
        first = _run(store, run_id)
        os.kill(first.pid, signal.SIGKILL)
        _until(lambda: _run(store, run_id).status in RUN_FINAL, 120, "the resumed run to finish")
        final = _run(store, run_id)
        assert final.status == "succeeded" and final.pid != first.pid
        assert sorted(journal.read_text().splitlines()) == sorted(f"E{n}" for n in range(200))
        assert store.counts(run_id) == {"done": 200}
        assert store.run_minutes(run_id) == pytest.approx(200 * 2 + 3)
        after = dispatch.launch(str(_copy("lot50", tmp_path)), {"nombre": "3"}, store=store, executor=executor)
        _until(lambda: _run(store, after).status == "succeeded", 30, "the fresh pool to take new runs")
    finally:
        executor.shutdown(wait=True)
        store.close()
