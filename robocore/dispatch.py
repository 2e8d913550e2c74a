"""Launching runs from anywhere (CLI --remote, API, schedules) through the configured executor."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robocore import settings
from robocore.errors import RobotDefinitionError
from robocore.executors.base import Executor, get_executor
from robocore.i18n import gettext as _
from robocore.loader import find_robot, load_robot
from robocore.runs import prepare
from robocore.statuses import RunStatus
from robocore.store import Store


def executor_name() -> str:
    """ROBOCORE_EXECUTOR: 'local' (default) or 'celery', or a plugin's executor name."""
    return settings.get_settings().executor


def launch(robot: str | Path, inputs: dict[str, Any], *, store: Store, trigger: str = "api",
           created_by: str | None = None, executor: Executor | None = None, queue: str | None = None) -> str:
    """Validate, record the run as queued and hand it to the executor; returns the run id.

    Args:
        robot: a robot name (in the robots folder) or a path.
        inputs: raw input values (strings or typed), checked against the robot's declaration.
        queue: overrides the robot's `queue:` (Celery routing).
    """
    loaded = load_robot(find_robot(str(robot), settings.robots_dir()))
    executor = executor or get_executor(executor_name())  # a broken or unknown one: no run left queued
    run_id = prepare(loaded, store, inputs, trigger=trigger, created_by=created_by)
    submit(store, run_id, queue or loaded.spec.queue, executor)
    return run_id


class ExecutorUnavailable(RobotDefinitionError):
    """The executor refused a run (broker down, pool shut), or did not accept it in time."""


# Submits waiting on an executor at once, beyond which a new one is refused at once: a broker that
# accepts connections and never answers must not hold every worker thread of the API server (its
# thread pool has 40), so health, robots and the other routes keep answering meanwhile.
MAX_PENDING_SUBMITS = 32
_pending = threading.BoundedSemaphore(MAX_PENDING_SUBMITS)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@", re.IGNORECASE)


def submit_timeout() -> float:
    """ROBOCORE_SUBMIT_TIMEOUT: seconds an executor may take to accept a run."""
    return settings.get_settings().submit_timeout


def redact(text: str) -> str:
    """An error text without the password of any URL in it (a broker URL in a driver's message)."""
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def submit(store: Store, run_id: str, queue: str | None, executor: Executor | Callable[[], Executor], *,
           new_run: bool = True) -> None:
    """Hand a recorded run to the executor; a refused new run is marked failed, never left queued.

    The wait is bounded by ROBOCORE_SUBMIT_TIMEOUT whatever the executor (the Celery executor has its
    own shorter broker timeouts, so the thread left behind by a timeout ends with them).

    Args:
        executor: the executor, or how to get it (a broken executor plugin is then refused the same way).
        new_run: False when resubmitting an existing run (resume): its status is left as it was.
    """
    try:
        chosen: Executor = executor if hasattr(executor, "submit") else executor()  # type: ignore[assignment]
        _bounded_submit(chosen, run_id, queue, submit_timeout())
    except Exception as exc:
        reason = redact(str(exc) or type(exc).__name__)
        if new_run:
            store.finish_run(run_id, RunStatus.FAILED, _("the executor refused the run: {reason}", reason=reason))
        raise ExecutorUnavailable(_("executor unavailable: {reason}", reason=reason)) from exc


class SubmitTimeout(TimeoutError):
    """The executor did not accept a run within ROBOCORE_SUBMIT_TIMEOUT."""


def _bounded_submit(executor: Executor, run_id: str, queue: str | None, timeout: float) -> None:
    """executor.submit in a daemon thread, waited for at most `timeout` seconds."""
    if not _pending.acquire(blocking=False):
        raise SubmitTimeout(_("{n} submissions already waiting for the executor '{name}', which does not answer",
                              n=MAX_PENDING_SUBMITS, name=executor.name))
    outcome: list[BaseException | None] = []
    done = threading.Event()

    def call() -> None:
        try:
            executor.submit(run_id, queue)
            outcome.append(None)
        except BaseException as exc:  # handed to the waiting caller
            outcome.append(exc)
        finally:
            _pending.release()
            done.set()

    threading.Thread(target=call, name=f"submit-{run_id[:8]}", daemon=True).start()
    if not done.wait(timeout):
        raise SubmitTimeout(_("the executor '{name}' did not accept the run within {seconds} s "
                              "(ROBOCORE_SUBMIT_TIMEOUT)", name=executor.name, seconds=format(timeout, "g")))
    if outcome and outcome[0] is not None:
        raise outcome[0]
