"""Starting and resuming runs: inputs, secrets, the run folder and its log, then the engine."""

from __future__ import annotations

import dataclasses
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from robocore import settings as cfg
from robocore.context import Context, RunSettings
from robocore.engine import Progress, Runner, RunResult, _drive, new_run_id
from robocore.errors import RobotDefinitionError
from robocore.heartbeat import Heartbeat
from robocore.i18n import gettext as _
from robocore.inputs import resolve_inputs
from robocore.loader import LoadedRobot, parse_robot
from robocore.logging import run_log
from robocore.plugins import load_registry
from robocore.processes import ensure_for as ensure_process
from robocore.secrets import default_providers, resolve, scrub_any
from robocore.statuses import RunStatus
from robocore.storage import RunFileError, RunFiles, open_run_files
from robocore.storage.sync import Memo, Shipper, map_inputs, materialise
from robocore.store import LEASE_SECONDS, NewRun, Run, Store

log = structlog.get_logger("robocore.runs")


def _json_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (int, float, bool, type(None))) else str(v)) for k, v in inputs.items()}


def _secrets(loaded: LoadedRobot) -> dict[str, Any]:
    """Every declared secret, fetched before the run is recorded (a missing one stops nothing midway)."""
    declared = {n: s.fields for n, s in loaded.spec.secrets.items()}
    if not declared:
        return {}
    try:
        return resolve(declared, default_providers(cfg.home()), str(loaded.path),
                       identifiers={n: s.identifiers for n, s in loaded.spec.secrets.items()})
    except (OSError, ValueError) as exc:  # an unreadable or refused secrets file
        raise RobotDefinitionError(_("secrets unreadable: {error}", error=exc)) from None


async def _execute(loaded: LoadedRobot, store: Store, run_id: str, inputs: dict[str, Any],
                   secrets: dict[str, Any], run_settings: RunSettings, progress: Progress | None,
                   log_level: str, owner: str, *, files: RunFiles | None = None,
                   memo: Memo | None = None) -> RunResult:
    started = time.perf_counter()
    spec = loaded.spec
    run_dir = cfg.run_dir(run_id)
    with (Shipper(files or open_run_files(store), run_id, run_dir, memo) as shipper,
          run_log(run_dir / "log.jsonl", level=log_level, run_id=run_id, robot=spec.robot)):
        ctx = Context(run_id=run_id, robot=spec.robot, robot_dir=loaded.folder, run_dir=run_dir,
                      settings=run_settings)
        # the first run resource, so closed last: the files a browser writes as it closes are shipped too,
        # all before the final status (a client seeing it sees every file; `run.finished` comes just after)
        ctx.resource("robocore.run_files", shipper.before_final_status)
        scope: dict[str, Any] = {"inputs": inputs, "secrets": secrets, "steps": {},
                                 "run": {"id": run_id, "started_at": datetime.now(UTC),
                                         "dir": str(run_dir)}}
        runner = Runner(loaded, store, run_id, ctx, scope, load_registry(), progress)
        log.info("run.started", inputs=scrub_any(_json_inputs(inputs)), owner=owner)
        with Heartbeat(store, run_id, owner, runner.cancel):
            return await _drive(runner, started, owner)


def _run_files(store: Store, run: Run, loaded: LoadedRobot) -> tuple[RunFiles, dict[str, Any]]:
    """The run's storage, the stored files this process's run folder lacks copied in (none for the `local`
    storage), and the recorded inputs with their file inputs pointed at that folder: a server records its
    own paths (`<its home>/runs/<id>/inputs/…`), and a worker elsewhere reads its copy."""
    files = open_run_files(store)
    _fetch(files, run.id, refresh=False)
    names = [n for n, spec in loaded.spec.inputs.items() if spec.type == "file"]
    return files, map_inputs(run.inputs, names, run.id, cfg.run_dir(run.id))


def _fetch(files: RunFiles, run_id: str, *, refresh: bool) -> Memo:
    """storage.sync.materialise into this process's run folder, its failures as the run's error."""
    try:
        return materialise(files, run_id, cfg.run_dir(run_id), refresh=refresh)
    except (OSError, RunFileError) as exc:
        raise RobotDefinitionError(_("the files of the run {run_id} could not be copied from {source}: {error}",
                                     run_id=run_id, source=files.description, error=exc)) from None


def _settings_for(loaded: LoadedRobot, run_settings: RunSettings | None, inputs: dict[str, Any]) -> RunSettings:
    """The caller's settings (else the robot's defaults), plus what the path policy allows besides the
    robot's and the run's folders: the configured folders (ROBOCORE_ALLOWED_DIRS) and the run's file inputs."""
    chosen = run_settings or RunSettings(timeout_ms=loaded.spec.timeout_ms)
    files = [Path(v) for n, v in inputs.items() if v and n in loaded.spec.inputs
             and loaded.spec.inputs[n].type == "file"]
    return dataclasses.replace(chosen, allowed_dirs=[*chosen.allowed_dirs, *cfg.get_settings().allowed_dirs],
                               input_files=[*chosen.input_files, *files])


class RunBusy(RobotDefinitionError):
    """Another live process holds the run's lease."""


def _alive(pid: int) -> bool:
    """Whether a process of this machine still exists (a killed run's lease can be taken at once)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_owner() -> str:
    """An identity for the lease of a run: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def prepare(loaded: LoadedRobot, store: Store, given: dict[str, Any], *, trigger: str = "cli",
            created_by: str | None = None, run_id: str | None = None, idempotency_key: str | None = None) -> str:
    """Check inputs and secrets, record the run as queued, return its id (nothing executes yet).

    Args:
        idempotency_key: kept with the run in the same insert; store.KeyTaken when the creator's
            other run already holds it.
    """
    spec = loaded.spec
    inputs = resolve_inputs(spec, given, loaded.folder)
    _secrets(loaded)
    run_id = run_id or new_run_id()
    version_id = store.save_robot_version(spec.robot, loaded.sha256, loaded.content)
    ensure_process(store, spec)  # the process becomes a record the first time a robot names it
    process = spec.process
    store.create_run(NewRun(
        id=run_id, robot=spec.robot, version_id=version_id, robot_path=str(loaded.path),
        inputs=scrub_any(_json_inputs(inputs)), process_name=process.name if process else None,
        service=process.service if process else None,
        minutes_per_item=process.manual_minutes_per_item if process else 0.0,
        minutes_per_run=process.manual_minutes_per_run if process else 0.0, trigger=trigger,
        queue=spec.queue, created_by=created_by, idempotency_key=idempotency_key))
    return run_id


async def execute(run_id: str, store: Store, *, run_settings: RunSettings | None = None,
                  progress: Progress | None = None, log_level: str = "info", owner: str | None = None,
                  loaded: LoadedRobot | None = None) -> RunResult:
    """Execute a queued run, or finish an interrupted or failed one, with the robot version it was
    recorded with (`run_id` exact). Done items are never redone; raises RunBusy when a live process
    holds it."""
    run = store.get_run(run_id)
    if run is None:
        raise RobotDefinitionError(_("run not found '{run_id}' (robo runs)", run_id=run_id))
    if run.status is RunStatus.SUCCEEDED:
        raise RobotDefinitionError(_("the run {run_id} already succeeded", run_id=run.id))
    if loaded is None:
        content = store.robot_content(run.version_id)
        path = Path(run.robot_path)
        loaded = LoadedRobot(spec=parse_robot(content, str(path)), path=path, content=content)
    if store.is_purged(run.id):
        raise RobotDefinitionError(_("the run {run_id} was purged (robo purge: inputs and files deleted): it cannot "
                                     "be resumed", run_id=run.id))
    files, given = _run_files(store, run, loaded)
    inputs = resolve_inputs(loaded.spec, given, loaded.folder)
    secrets = _secrets(loaded)
    owner = owner or new_owner()
    dead_here = (run.status is RunStatus.RUNNING and run.host == socket.gethostname()
                 and run.pid is not None and not _alive(run.pid))
    if not store.claim_run(run.id, owner, stale_after_s=0 if dead_here else LEASE_SECONDS):
        raise RunBusy(_("the run {run_id} is being executed by another process ({owner})", run_id=run.id,
                        owner=run.owner))
    if run.status is RunStatus.RUNNING and run.owner != owner:  # an expired lease taken over (/metrics)
        store.record_takeover(run.id, run.owner, owner)
    return await _execute(loaded, store, run.id, inputs, secrets, _settings_for(loaded, run_settings, inputs),
                          progress, log_level, owner, files=files,
                          memo=_fetch(files, run.id, refresh=True))  # with the lease: this folder is ours


async def start(loaded: LoadedRobot, store: Store, given: dict[str, Any], *,
                run_settings: RunSettings | None = None, progress: Progress | None = None,
                trigger: str = "cli", run_id: str | None = None, log_level: str = "info") -> RunResult:
    """Record and execute a new run in this process."""
    run_id = prepare(loaded, store, given, trigger=trigger, run_id=run_id)
    return await execute(run_id, store, run_settings=run_settings, progress=progress, log_level=log_level,
                          loaded=loaded)


resume = execute
