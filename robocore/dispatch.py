"""Launching runs from anywhere (CLI --remote, API, schedules) through the configured executor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from robocore import settings
from robocore.errors import RobotDefinitionError
from robocore.executors.base import Executor, get_executor
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
    """The executor refused a run (broker down, pool shut)."""


def submit(store: Store, run_id: str, queue: str | None, executor: Executor | Callable[[], Executor], *,
           new_run: bool = True) -> None:
    """Hand a recorded run to the executor; a refused new run is marked failed, never left queued.

    Args:
        executor: the executor, or how to get it (a broken executor plugin is then refused the same way).
        new_run: False when resubmitting an existing run (resume): its status is left as it was.
    """
    try:
        chosen = executor if hasattr(executor, "submit") else executor()  # an executor may be callable
        chosen.submit(run_id, queue)
    except Exception as exc:
        if new_run:
            store.finish_run(run_id, RunStatus.FAILED, f"envoi à l'exécuteur impossible / executor refused: {exc}")
        raise ExecutorUnavailable(f"exécuteur indisponible / executor unavailable: {exc}") from exc
