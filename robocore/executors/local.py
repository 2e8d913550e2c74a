"""The `local` executor: a pool of worker processes on this machine, and the per-process run body.

`execute_once` is shared with the Celery task: one Store per worker process, robot versions
parsed once, RunBusy answered by "busy" so the caller retries later instead of running twice.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import structlog

from robocore.errors import RobocoreError
from robocore.i18n import gettext as _
from robocore.settings import get_settings
from robocore.statuses import RUN_FINAL, RUN_NEVER_RERUN, RunStatus

if TYPE_CHECKING:
    from robocore.store import Run, Store

log = structlog.get_logger("robocore.executors")

Outcome = Literal["executed", "final", "busy", "missing", "failed"]
MAX_CRASH_RETRIES = 3

_store: Any = None
_store_key: tuple[int, str] | None = None
_robots: OrderedDict[tuple[int, str], Any] = OrderedDict()


def busy_retry_seconds() -> float:
    """ROBOCORE_BUSY_RETRY_SECONDS: how long to wait before asking again for a run held elsewhere."""
    return get_settings().busy_retry_seconds


def worker_store() -> Any:
    """This process's Store (created once per process and database URL, never shared across a fork)."""
    global _store, _store_key
    from robocore import settings
    from robocore.store import Store

    key = (os.getpid(), settings.database_url())
    if _store is None or _store_key != key:
        _store, _store_key = Store(key[1]), key
    return _store


def _loaded(run: Run, store: Store) -> Any:
    """The robot version the run was recorded with, parsed once per process."""
    from robocore.loader import LoadedRobot, parse_robot

    key = (run.version_id, run.robot_path)
    if key not in _robots:
        content = store.robot_content(key[0])
        _robots[key] = LoadedRobot(spec=parse_robot(content, key[1]), path=Path(key[1]), content=content)
        while len(_robots) > 64:
            _robots.popitem(last=False)
    return _robots[key]


def _record_failure(store: Store, run_id: str, owner: str, error: str) -> None:
    """Mark a run failed when the engine could not (only if still ours or still queued)."""
    run = store.get_run(run_id)
    if run is None:
        return
    if run.owner == owner and run.status is RunStatus.RUNNING:
        store.finish_run(run_id, RunStatus.FAILED, error, owner=owner)
    elif run.status is RunStatus.QUEUED:
        store.finish_run(run_id, RunStatus.FAILED, error)


def execute_once(run_id: str, store: Store, *, waited: bool = False) -> Outcome:
    """Execute or resume one run in this process, at most one executor at a time (through its lease).

    A first delivery executes a queued, interrupted or failed run (resume semantics); after a wait
    for another holder (`waited`), only a run still left `running` (its holder died) is taken over.
    """
    from robocore import runs

    run = store.get_run(run_id)
    if run is None:
        log.error("executor.run_missing", run_id=run_id)
        return "missing"
    if run.status in (RUN_FINAL if waited else RUN_NEVER_RERUN):
        log.info("executor.run_already_final", run_id=run_id, status=run.status.value)
        return "final"
    owner = runs.new_owner()
    try:
        asyncio.run(runs.execute(run_id, store, owner=owner, loaded=_loaded(run, store)))
    except runs.RunBusy:
        log.info("executor.run_busy", run_id=run_id, holder=run.owner)
        return "busy"
    except RobocoreError as exc:
        log.error("executor.run_refused", run_id=run_id, error=str(exc))
        _record_failure(store, run_id, owner, str(exc))
        return "failed"
    return "executed"


def _init_worker(console: str, level: str, env: dict[str, str], cwd: str) -> None:
    """Pool process set-up: the parent's ROBOCORE_* settings and folder (a fork server may be older),
    and logging (run files always get INFO and above)."""
    from robocore.logging import configure

    for key in [k for k in os.environ if k.startswith("ROBOCORE_") and k not in env]:
        del os.environ[key]
    os.environ.update(env)
    os.chdir(cwd)
    configure(console, level)


def _work(run_id: str, waited: bool) -> Outcome:
    """Body of one pool task."""
    try:
        return execute_once(run_id, worker_store(), waited=waited)
    except Exception as exc:  # the pool must survive anything; the store keeps the truth
        log.exception("executor.run_crashed", run_id=run_id, error=str(exc))
        return "failed"


def local_workers() -> int:
    """ROBOCORE_LOCAL_WORKERS: size of the local pool (default 2)."""
    return get_settings().local_workers


class LocalExecutor:
    """Runs queued runs in a pool of worker processes on this machine."""

    name = "local"

    def __init__(self, workers: int | None = None, *, console: str = "json", level: str = "warning",
                 retry_after: float | None = None) -> None:
        self.workers = workers or local_workers()
        self.retry_after = busy_retry_seconds() if retry_after is None else retry_after
        env = {k: v for k, v in os.environ.items() if k.startswith("ROBOCORE_")}
        self._initargs = (console, level, env, os.getcwd())
        self._pool = self._new_pool()
        self._lock = threading.Lock()
        self._pending: set[Future[Outcome]] = set()
        self._timers: set[threading.Timer] = set()
        self._crashes: dict[str, int] = {}
        self._closed = False

    def _new_pool(self) -> ProcessPoolExecutor:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context(method),
                                   initializer=_init_worker, initargs=self._initargs)

    def submit(self, run_id: str, queue: str | None = None) -> None:
        """Hand a queued run to a worker process; returns at once (`queue` is ignored here)."""
        self._submit(run_id, False)

    def _submit(self, run_id: str, waited: bool) -> None:
        with self._lock:
            if self._closed:
                if waited:  # a retry after shutdown: the run stays as it is in the store
                    return
                raise RuntimeError(_("local executor shut down"))
            try:
                future = self._pool.submit(_work, run_id, waited)
            except BrokenProcessPool:  # a worker process died: start a fresh pool
                log.warning("executor.pool_replaced")
                self._pool.shutdown(wait=False)
                self._pool = self._new_pool()
                future = self._pool.submit(_work, run_id, waited)
            self._pending.add(future)
        future.add_done_callback(lambda f: self._done(run_id, f))

    def _done(self, run_id: str, future: Future[Outcome]) -> None:
        exc = None if future.cancelled() else future.exception()
        retry = False
        if exc is None and not future.cancelled():
            retry = future.result() == "busy"
            if not retry:
                self._crashes.pop(run_id, None)
        elif isinstance(exc, BrokenProcessPool):  # its process was killed: resume it (a few times at most)
            self._crashes[run_id] = self._crashes.get(run_id, 0) + 1
            retry = self._crashes[run_id] <= MAX_CRASH_RETRIES
            log.error("executor.worker_died", run_id=run_id, retry=retry)
        elif exc is not None:
            log.error("executor.pool_error", run_id=run_id, error=repr(exc))
        with self._lock:
            if retry and not self._closed:
                timer = threading.Timer(self.retry_after, self._retry, (run_id,))
                timer.daemon = True
                self._timers.add(timer)
                timer.start()
            self._pending.discard(future)

    def _retry(self, run_id: str) -> None:
        try:
            self._submit(run_id, True)
        except RuntimeError as exc:  # a closed pool: the run stays recorded, nothing runs twice
            log.error("executor.retry_failed", run_id=run_id, error=repr(exc))
        finally:
            with self._lock:
                self._timers.discard(threading.current_thread())

    def idle(self) -> bool:
        """True when no run is executing, queued in the pool or waiting for a retry."""
        with self._lock:
            return not self._pending and not self._timers

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting runs; with wait, let the submitted ones finish (else queued ones stay queued)."""
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
