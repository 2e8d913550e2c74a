"""Starting and resuming runs: inputs, secrets, the run folder and its log, then the engine."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import structlog

from robocore import settings as cfg
from robocore.context import Context, RunSettings
from robocore.engine import Progress, Runner, RunResult, _drive, new_run_id
from robocore.errors import RobotDefinitionError
from robocore.inputs import resolve_inputs
from robocore.loader import LoadedRobot, parse_robot
from robocore.logging import run_log
from robocore.plugins import load_registry
from robocore.secrets import default_providers, resolve, scrub_any
from robocore.store import NewRun, Store

log = structlog.get_logger("robocore.runs")


def _json_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (int, float, bool, type(None))) else str(v)) for k, v in inputs.items()}


def _secrets(loaded: LoadedRobot) -> dict[str, Any]:
    """Every declared secret, fetched before the run is recorded (a missing one stops nothing midway)."""
    declared = {n: s.fields for n, s in loaded.spec.secrets.items()}
    try:
        return resolve(declared, default_providers(cfg.home()), str(loaded.path))
    except (OSError, ValueError) as exc:  # an unreadable or refused secrets file
        raise RobotDefinitionError(f"secrets illisibles / secrets unreadable: {exc}") from None


async def _execute(loaded: LoadedRobot, store: Store, run_id: str, inputs: dict[str, Any],
                   secrets: dict[str, Any], run_settings: RunSettings, progress: Progress | None,
                   log_level: str) -> RunResult:
    started = time.perf_counter()
    spec = loaded.spec
    run_dir = cfg.run_dir(run_id)
    with run_log(run_dir / "log.jsonl", level=log_level, run_id=run_id, robot=spec.robot):
        ctx = Context(run_id=run_id, robot=spec.robot, robot_dir=loaded.folder, run_dir=run_dir,
                      settings=run_settings)
        scope: dict[str, Any] = {"inputs": inputs, "secrets": secrets, "steps": {},
                                 "run": {"id": run_id, "started_at": datetime.now(timezone.utc),
                                         "dir": str(run_dir)}}
        runner = Runner(loaded, store, run_id, ctx, scope, load_registry(), progress)
        log.info("run.started", inputs=scrub_any(_json_inputs(inputs)))
        return await _drive(runner, started)


def _settings_for(loaded: LoadedRobot, run_settings: RunSettings | None) -> RunSettings:
    s = run_settings or RunSettings(timeout_ms=loaded.spec.timeout_ms)
    return s


async def start(loaded: LoadedRobot, store: Store, given: dict[str, Any], *,
                run_settings: RunSettings | None = None, progress: Progress | None = None,
                trigger: str = "cli", run_id: str | None = None, log_level: str = "info") -> RunResult:
    """Start a new run of a validated robot."""
    spec = loaded.spec
    inputs = resolve_inputs(spec, given, loaded.folder)
    secrets = _secrets(loaded)
    run_id = run_id or new_run_id()
    version_id = store.save_robot_version(spec.robot, loaded.sha256, loaded.content)
    process = spec.process
    store.create_run(NewRun(
        id=run_id, robot=spec.robot, version_id=version_id, robot_path=str(loaded.path),
        inputs=scrub_any(_json_inputs(inputs)), process_name=process.name if process else None,
        service=process.service if process else None,
        minutes_per_item=process.manual_minutes_per_item if process else 0.0,
        minutes_per_run=process.manual_minutes_per_run if process else 0.0, trigger=trigger))
    return await _execute(loaded, store, run_id, inputs, secrets, _settings_for(loaded, run_settings),
                          progress, log_level)


async def resume(run_id: str, store: Store, *, run_settings: RunSettings | None = None,
                 progress: Progress | None = None, log_level: str = "info") -> RunResult:
    """Finish an interrupted or failed run with the robot version it started with."""
    run = store.get_run(run_id)
    if run is None:
        raise RobotDefinitionError(f"exécution introuvable '{run_id}' / run not found (robo runs)")
    if run["status"] == "succeeded":
        raise RobotDefinitionError(f"l'exécution {run['id']} est déjà terminée avec succès / already succeeded")
    content = store.robot_content(run["version_id"])
    path = Path(run["robot_path"])
    loaded = LoadedRobot(spec=parse_robot(content, str(path)), path=path, content=content)
    inputs = resolve_inputs(loaded.spec, run["inputs"], loaded.folder)
    secrets = _secrets(loaded)
    store.claim_run(run["id"])
    return await _execute(loaded, store, run["id"], inputs, secrets, _settings_for(loaded, run_settings),
                          progress, log_level)
