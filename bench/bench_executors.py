"""Executors: trivial runs per second end to end, Celery (2 workers, Redis, PostgreSQL) against local.

Launch N one-step runs through `robocore.dispatch.launch` (validate, record as queued, hand to the
executor), then wait until every one is final in the store: runs/s = N / that wall time. The same
runs through the local executor (a pool of 2 processes, same PostgreSQL store) are the comparison.
Median of BENCH_REPEAT repetitions; target ≥ 50 runs/s for Celery. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_ADMIN = os.environ.get("ROBOCORE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/0")
ONE_STEP = "robot: bench-trivial\nsteps:\n  - use: flow.log\n    with: {message: bonjour}\n"


def _worker_cmd(queue: str, concurrency: int) -> list[str]:
    robo = Path(sys.executable).parent / "robo"
    has_worker = subprocess.run([str(robo), "worker", "--help"], capture_output=True, check=False).returncode == 0
    base = [str(robo), "worker"] if has_worker else [sys.executable, "-m", "robocore.cli.cmd_worker", "worker"]
    return [*base, "--queues", queue, "--concurrency", str(concurrency), "--loglevel", "warning"]


def _wait_final(engine: Any, timeout: float = 600) -> None:
    from sqlalchemy import text

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT count(*) FROM runs WHERE status IN ('queued', 'running')")).scalar():
                return
        time.sleep(0.05)
    raise TimeoutError("runs not final")


def _batch(robot: Path, store: Any, executor: Any, engine: Any, n: int) -> tuple[float, float]:
    """(launch seconds, end-to-end seconds) for n runs."""
    from robocore import dispatch

    t0 = time.perf_counter()
    for _ in range(n):
        dispatch.launch(str(robot), {}, store=store, executor=executor, trigger="bench")
    launched = time.perf_counter() - t0
    _wait_final(engine)
    return launched, time.perf_counter() - t0


def _measure(name: str, robot: Path, store: Any, executor: Any, engine: Any, runs: int, repeat: int) -> float:
    from sqlalchemy import text

    _batch(robot, store, executor, engine, 20)  # warm-up: processes started, connections open
    rates, launches = [], []
    for _ in range(repeat):
        launched, total = _batch(robot, store, executor, engine, runs)
        rates.append(runs / total)
        launches.append(runs / launched)
        print(f"  {name}: {runs} runs in {total:.2f} s = {runs / total:.1f} runs/s "
              f"(launching alone: {runs / launched:.0f} runs/s)", flush=True)
    with engine.connect() as conn:
        bad = conn.execute(text("SELECT count(*) FROM runs WHERE status != 'succeeded'")).scalar()
    assert bad == 0, f"{bad} runs did not succeed"
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3")))
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (robo worker)")
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per Celery worker")
    parser.add_argument("--local-workers", type=int, default=2)
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    tmp = Path(tempfile.mkdtemp(prefix="bench-exec-"))
    (tmp / "robot").mkdir()
    (tmp / "robot" / "robot.yaml").write_text(ONE_STEP)
    dbname = f"robocore_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    queue = f"robocore-bench-{uuid.uuid4().hex[:8]}"
    os.environ.update({"ROBOCORE_HOME": str(tmp / "home"), "ROBOCORE_DATABASE_URL": url,
                       "ROBOCORE_BROKER_URL": BROKER, "ROBOCORE_DEFAULT_QUEUE": queue})
    from robocore.executors.celery import CeleryExecutor
    from robocore.executors.local import LocalExecutor
    from robocore.logging import configure
    from robocore.store import Store

    configure("off", "warning")
    store, engine = Store(url), create_engine(url)
    workers: list[subprocess.Popen[bytes]] = []
    print(f"{args.runs} trivial runs, median of {args.repeat}, PostgreSQL store, {os.cpu_count()} CPUs")
    try:
        for _ in range(args.workers):
            workers.append(subprocess.Popen(_worker_cmd(queue, args.concurrency), env=dict(os.environ),
                                            stdout=subprocess.DEVNULL, start_new_session=True))
        celery = CeleryExecutor()
        rate_celery = _measure(f"celery ({args.workers} workers × {args.concurrency}, Redis)", tmp / "robot",
                               store, celery, engine, args.runs, args.repeat)
        celery.shutdown()
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(30)
        local = LocalExecutor(args.local_workers)
        rate_local = _measure(f"local ({args.local_workers} processes)", tmp / "robot", store, local, engine,
                              args.runs, args.repeat)
        local.shutdown(wait=True)
        print(f"celery: {rate_celery:.1f} runs/s (target ≥ 50: {'met' if rate_celery >= 50 else 'NOT met'}); "
              f"local: {rate_local:.1f} runs/s; celery/local = {rate_celery / rate_local:.2f}")
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(5)
        store.close()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}"'))
        admin.dispose()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
