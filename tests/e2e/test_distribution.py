"""Distribution: two Celery workers, one killed with SIGKILL mid-run, the run finishes on the other."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import need_service, robo_cmd

ROBOT = Path(__file__).parents[1] / "integration" / "robots" / "crash200"
BROKERS = {"redis": ("redis://127.0.0.1:6379/0", 6379), "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672)}
pytestmark = pytest.mark.e2e


def worker_cmd(queue: str) -> list[str]:
    """`robo worker` on one queue, one run at a time."""
    return [*robo_cmd(), "worker", "--queues", queue, "--concurrency", "1", "--loglevel", "info"]


def _wait(predicate, timeout: float, what: str, workers: list[subprocess.Popen[bytes]] = ()) -> None:  # type: ignore[no-untyped-def,assignment]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for w in workers:
            assert w.poll() is None, f"a worker stopped ({w.returncode}) while waiting for {what}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        if w.poll() is None:
            os.killpg(w.pid, signal.SIGTERM)
    for w in workers:
        try:
            w.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(w.pid, signal.SIGKILL)
            w.wait(5)
        try:  # leftover pool children of a worker whose main process already ended
            os.killpg(w.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _drop_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    with Connection(broker) as conn:
        try:
            conn.default_channel.queue_purge(queue)
            conn.default_channel.queue_delete(queue)
        except conn.channel_errors + conn.connection_errors as exc:  # already gone
            print(f"queue {queue}: {exc}")


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_killed_worker_run_resumes_on_other_worker_exactly_once(
        broker: str, pg_url: str, robo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 2 workers, a 200-item run whose worker is killed with SIGKILL is redelivered to the other worker
    and completes there: each side effect once, 200 done items, exact ledger, status succeeded."""
    url, port = BROKERS[broker]
    need_service(broker, "127.0.0.1", port)
    from robocore import dispatch
    from robocore.executors import base
    from robocore.store import Store

    queue = f"robocore-test-{uuid.uuid4().hex[:10]}"
    robot = tmp_path / "crash200"
    shutil.copytree(ROBOT, robot)
    with (robot / "robot.yaml").open("a") as fh:
        fh.write(f"queue: {queue}\n")  # routing by the robot's queue key
    journal = robot / "journal.txt"
    settings = {"ROBOCORE_DATABASE_URL": pg_url, "ROBOCORE_BROKER_URL": url, "ROBOCORE_EXECUTOR": "celery",
                "ROBOCORE_VISIBILITY_TIMEOUT": "5", "ROBOCORE_BUSY_RETRY_SECONDS": "1"}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(base, "_instances", {})
    env = dict(os.environ)
    workers: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    store = Store(pg_url)
    try:
        for log in logs:
            with log.open("wb") as out:
                workers.append(subprocess.Popen(worker_cmd(queue), env=env, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True))
        _wait(lambda: all(b"ready" in log.read_bytes() for log in logs), 60, "the workers", workers)

        run_id = dispatch.launch(str(robot), {"journal": str(journal), "pause": "0.03"}, store=store,
                                 trigger="test")
        _wait(lambda: journal.exists() and len(journal.read_text().splitlines()) >= 50, 60, "50 items", workers)
        run = store.get_run(run_id)
        assert run is not None and run.status == "running"
        victim = next(w for w in workers if w.pid == os.getpgid(run.pid))
        survivor = next(w for w in workers if w is not victim)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)
        assert len(journal.read_text().splitlines()) < 200, "the kill must happen mid-run"

        _wait(lambda: store.get_run(run_id).status in ("succeeded", "failed", "completed_with_errors"),
              150, "the run to finish on the other worker", [survivor])
        final = store.get_run(run_id)
        assert final is not None and final.status == "succeeded", final.error
        assert final.pid != run.pid and os.getpgid(final.pid) == survivor.pid

        lines = journal.read_text().splitlines()
        assert sorted(lines) == sorted(f"E{n}" for n in range(200)), "each side effect exactly once"
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT status, count(*) FROM items GROUP BY status")).all())
            item_rows = conn.execute(text("SELECT count(*) FROM ledger WHERE kind = 'item'")).scalar_one()
            minutes = conn.execute(text("SELECT sum(minutes) FROM ledger")).scalar_one()
        engine.dispose()
        assert statuses == {"done": 200}
        assert item_rows == 200
        assert minutes == pytest.approx(200 * 2 + 3)
    finally:
        store.close()
        _stop(workers)
        _drop_queue(url, queue)
