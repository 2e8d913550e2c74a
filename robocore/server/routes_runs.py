"""Runs: launch (JSON or multipart with files), list, status, cancel, resume."""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path as FsPath
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from robocore import dispatch, runs
from robocore.engine import new_run_id
from robocore.errors import RobotDefinitionError
from robocore.i18n import N_, Bilingual, Text, render
from robocore.i18n import lazy_gettext as _l
from robocore.inputs import InputError
from robocore.loader import LoadedRobot
from robocore.server.auth import Principal, forbid, require
from robocore.server.catalog import inputs_version
from robocore.server.errors import AUTHENTICATED, ApiError, documented, error_body
from robocore.server.routes_robots import ROBOT_NAME, launchable
from robocore.server.state import ServerState, server_state
from robocore.server.types import UtcDateTime
from robocore.server.uploads import receive_form
from robocore.statuses import RUN_FINAL, RunStatus
from robocore.store import LEASE_SECONDS, KeyTaken, utcnow
from robocore.store import Run as StoredRun

log = structlog.get_logger("robocore.server.runs")
router = APIRouter(prefix="/api/v1", tags=["runs"], responses=AUTHENTICATED)
RUN_ID = Path(pattern=r"^[A-Za-z0-9_-]{1,36}$", description=N_("Id of the run"))
Scalar = str | int | float | bool | None
IDEMPOTENCY_KEY = "Idempotency-Key"
INPUTS_VERSION = "X-Robocore-Inputs-Version"
_KEY = re.compile(r"[\x20-\x7e]{1,100}")  # printable ASCII

_LAUNCH_BODY = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/LaunchRequest"}},
    "multipart/form-data": {"schema": {"type": "object", "additionalProperties": {
        "type": "string", "format": "binary"}, "description": "Une partie par entrée ; fichiers joints"}}}},
    "parameters": [
        {"name": "Idempotency-Key", "in": "header", "required": False,
         "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[\\x20-\\x7e]+$"},
         "description": "Clé choisie par le client : le même lancement renvoyé avec la même clé donne la même "
                        "exécution (201, `Idempotent-Replayed: true`), jamais une seconde"},
        {"name": "X-Robocore-Inputs-Version", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "`inputs_version` du détail du robot : 409 `inputs_changed` si ses entrées ont changé"}]}


class LaunchRequest(BaseModel):
    """Inputs of a launch sent as JSON (file inputs uploaded with multipart/form-data, or named inside an
    allowed server folder). JSON `NaN`/`Infinity` parse as floats here and are refused, naming the input,
    by resolve_inputs (422 `invalid_inputs`) before anything is recorded."""

    inputs: dict[str, Scalar] = Field(default_factory=dict)


class Run(BaseModel):
    """A run as the API shows it."""

    id: str
    robot: str
    status: str
    trigger: str
    created_by: str | None
    queue: str | None
    process_name: str | None
    service: str | None
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    error: str | None
    cancel_requested: bool
    inputs: dict[str, Any]


class RunDetail(Run):
    """A run with its item counts and the minutes it saved; an attended run (`robo tray --local`) also with its
    supervision time and the net minutes saved (gross minus supervision)."""

    counts: dict[str, int]
    minutes_saved: float
    supervision_minutes: float | None = Field(default=None, description=N_(
        "Minutes the agent supervised the attended run (launch to end, minus the time she marked herself away); "
        "null for a run nobody attended"))
    net_minutes: float | None = Field(default=None, description=N_(
        "Minutes saved net of supervision (minutes_saved − supervision_minutes); null for a run nobody attended"))


class Launched(BaseModel):
    """A run recorded and handed to the executor."""

    id: str
    robot: str
    status: str
    url: str


def visible_run(request: Request, state: ServerState, who: Principal, run_id: str) -> StoredRun:
    """A run the caller may see (by its exact id): an agent only sees the runs launched with their own token."""
    run = state.store.get_run(run_id)
    if run is None:
        raise ApiError(404, _l("run not found '{run_id}'", run_id=run_id), code="run_not_found")
    if not who.has("engineer") and run.created_by != who.name:
        raise forbid(request, who, "run of another token")
    return run


def _file_inputs(loaded: LoadedRobot) -> set[str]:
    return {name for name, spec in loaded.spec.inputs.items() if spec.type == "file"}


def _refuse_server_paths(given: dict[str, Any], files: set[str]) -> None:
    """A file input over the API is uploaded, or the NAME of a file inside an allowed server folder
    (ROBOCORE_ALLOWED_DIRS): never a server path, which would let a caller read any file.

    A named file is replaced, in `given`, by its resolved path (robocore.paths.name_in).
    """
    from robocore.paths import NameRefused, name_in
    from robocore.settings import get_settings

    named = sorted(n for n in files if n in given and given[n] not in (None, ""))
    folders = get_settings().allowed_dirs
    if named and not folders:
        raise ApiError(400, _l("file input '{name}': upload the file (multipart/form-data), not a path",
                               name=named[0]), code="file_input_not_uploaded")
    for name in named:
        try:
            given[name] = str(name_in(str(given[name]), folders))
        except NameRefused as exc:
            status, code = (422, "file_input_not_found") if exc.missing else (400, "file_input_not_allowed")
            raise ApiError(status, _l("file input '{name}': {reason}", name=name,
                                      reason=exc.message), code=code) from None


async def _json_inputs(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("", "application/json"):
        raise ApiError(415, _l("send JSON or a multipart/form-data form"))
    raw = await request.body()
    try:
        return dict(LaunchRequest.model_validate_json(raw if raw.strip() else b"{}").inputs)
    except ValueError as exc:
        raise ApiError(422, _l('invalid JSON body: {{"inputs": {{...}}}} expected ({reason})', reason=_reason(exc)),
                       code="invalid_request") from None


def _reason(exc: ValueError) -> str:
    """The first problem pydantic found in a launch body (its own words: they quote the JSON)."""
    errors = getattr(exc, "errors", None)
    found = errors(include_url=False) if callable(errors) else []
    return str(found[0].get("msg", exc)) if found else str(exc)


class InputsRefused(ApiError):
    """422 `invalid_inputs`, with `fields`: each refused input, its message in French and in English."""

    def __init__(self, message: Text, refused: tuple[InputError, ...] = ()) -> None:
        super().__init__(422, message, code="invalid_inputs")
        self.fields = [{"champ": e.field or "inputs", "erreur": render(e.text, "fr"), "error": render(e.text, "en")}
                       for e in refused]

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.code, self.message, fields=self.fields), status_code=self.status)


def _record(state: ServerState, loaded: LoadedRobot, given: dict[str, Any], run_id: str, who: Principal,
            key: str | None) -> None:
    """dispatch.launch's steps, with the server's cached robot and a run id chosen before the uploads; the
    idempotency key is stored with the run (KeyTaken: a concurrent launch with the same key won)."""
    try:
        runs.prepare(loaded, state.store, given, trigger="api", created_by=who.name, run_id=run_id,
                     idempotency_key=key)
    except InputError as exc:  # a lazy message (any language), one entry per refused input
        raise InputsRefused(exc.text, exc.problems) from None
    except RobotDefinitionError as exc:  # another definition error: its text, our summary in English
        raise InputsRefused(Bilingual(str(exc), _l("the inputs do not match the robot's declaration"))) from None
    _submit(state, run_id, loaded.spec.queue, new_run=True)


def _submit(state: ServerState, run_id: str, queue: str | None, new_run: bool) -> None:
    """dispatch.submit, answering 503 when the executor refuses."""
    try:
        dispatch.submit(state.store, run_id, queue, state.get_executor, new_run=new_run)
    except dispatch.ExecutorUnavailable as exc:
        log.error("api.executor_refused", run_id=run_id, error=str(exc.__cause__ or exc))
        raise ApiError(503, _l("executor unavailable"), code="executor_unavailable") from None


def _idempotency_key(request: Request) -> str | None:
    """The `Idempotency-Key` header (1 to 100 printable ASCII characters), None when absent; else 400."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        shown = repr(key) if len(key) <= 40 else repr(key[:40]) + "…"
        raise ApiError(400, _l("header '{header}': 1 to 100 printable ASCII characters expected, got {value} "
                               "({length} characters)", header=IDEMPOTENCY_KEY, value=shown, length=len(key)),
                       code="invalid_idempotency_key")
    return key


def _replay(state: ServerState, who: Principal, robot: str, key: str | None) -> StoredRun | None:
    """The run this caller already launched with this key (409 when it was another robot's launch)."""
    found = state.store.run_by_key(who.name, key) if key else None
    if found is not None and found.robot != robot:
        raise ApiError(409, _l("header '{header}': this key already launched a run of the robot '{robot}' ({run_id}); "
                               "use a new key for another launch", header=IDEMPOTENCY_KEY, robot=found.robot,
                               run_id=found.id), code="idempotency_key_conflict")
    return found


def _launched(run_id: str, robot: str, status: str) -> dict[str, Any]:
    return {"id": run_id, "robot": robot, "status": status, "url": f"/api/v1/runs/{run_id}"}


def _current_form(request: Request, state: ServerState, who: Principal, robot: str) -> LoadedRobot:
    """A launchable robot whose inputs are those of the caller's form (X-Robocore-Inputs-Version, when sent)."""
    loaded = launchable(request, state, who, robot)
    sent = request.headers.get(INPUTS_VERSION)
    if sent is not None and sent != inputs_version(loaded.spec.inputs):
        raise ApiError(409, _l("the inputs of the robot '{robot}' changed since the form was loaded: reload the form "
                               "and launch again", robot=robot), code="inputs_changed")
    return loaded


def _launch_json(request: Request, state: ServerState, who: Principal, robot: str, given: dict[str, Any],
                 run_id: str, key: str | None) -> LoadedRobot:
    """Check the grant and the form's version, refuse file paths, record and submit: one worker-thread hop."""
    loaded = _current_form(request, state, who, robot)
    _refuse_server_paths(given, _file_inputs(loaded))
    _record(state, loaded, given, run_id, who, key)
    return loaded


async def _launch_multipart(request: Request, state: ServerState, who: Principal, robot: str,
                            run_id: str, key: str | None) -> LoadedRobot:
    """Check the grant, stream the files into the run's inputs folder, keep them in the run files storage
    (before the run is recorded and submitted: a worker elsewhere fetches them from there), record, submit.

    The recorded inputs name this server's copies (`<home>/runs/<id>/inputs/<input>/<file>`): a worker maps
    them to its own run folder by their place in the run (`robocore.storage.sync.map_inputs`).
    """
    loaded = await run_in_threadpool(_current_form, request, state, who, robot)
    files = _file_inputs(loaded)
    folder = state.runs_root() / run_id
    fields, saved = await receive_form(request, folder / "inputs", files, state.upload_max_bytes)
    _refuse_server_paths(fields, files)
    await run_in_threadpool(_store_uploads, state, run_id, folder, saved)
    given = {**fields, **{name: str(path) for name, path in saved.items()}}
    await run_in_threadpool(_record, state, loaded, given, run_id, who, key)
    return loaded


def _store_uploads(state: ServerState, run_id: str, folder: FsPath, saved: dict[str, FsPath]) -> None:
    """The uploaded files into the run files storage, by their run-relative names (`local`: already there)."""
    storage = state.run_files()
    for path in saved.values():
        storage.put(run_id, path.relative_to(folder).as_posix(), path)


@router.post("/robots/{robot}/runs", status_code=201, response_model=Launched, openapi_extra=_LAUNCH_BODY,
             responses=documented(400, 404, 409, 413, 415, 503),
             summary=N_("Launch a run"))
async def launch(request: Request, response: Response, robot: str = ROBOT_NAME,
                 state: ServerState = Depends(server_state),
                 who: Principal = Depends(require("agent", "engineer"))) -> Any:
    """Validate the inputs (JSON, or multipart with the files), record a queued run, hand it to the executor.

    With `Idempotency-Key`, the caller's launch with that key is recorded once: sent again (or twice at
    once), the same run is answered (201, `Idempotent-Replayed: true`) and not submitted again. With
    `X-Robocore-Inputs-Version` (the robot detail's `inputs_version`), a form built before the robot's inputs
    changed is refused (409 `inputs_changed`).
    """
    key = _idempotency_key(request)
    found = await run_in_threadpool(_replay, state, who, robot, key)
    if found is None:
        try:
            return await _launch(request, state, who, robot, key)
        except InputsRefused as exc:
            return exc.response()
        except KeyTaken as exc:  # a concurrent request with the same key recorded its run first
            found = await run_in_threadpool(state.store.get_run, exc.run_id)
            if found is None or found.robot != robot:
                await run_in_threadpool(_replay, state, who, robot, key)  # 409 naming the other robot
                raise
    log.info("api.launch_replayed", run_id=found.id, robot=robot, token=who.name)
    response.headers["Idempotent-Replayed"] = "true"
    return _launched(found.id, found.robot, str(found.status))


async def _launch(request: Request, state: ServerState, who: Principal, robot: str, key: str | None) -> dict[str, Any]:
    """A new run: recorded and submitted, or nothing left behind (uploaded files removed)."""
    run_id = new_run_id()
    multipart = request.headers.get("content-type", "").lower().startswith("multipart/form-data")
    try:
        if multipart:
            loaded = await _launch_multipart(request, state, who, robot, run_id, key)
        else:
            given = await _json_inputs(request)
            loaded = await run_in_threadpool(_launch_json, request, state, who, robot, given, run_id, key)
    except BaseException:
        if multipart and state.store.get_run(run_id) is None:
            shutil.rmtree(state.runs_root() / run_id, ignore_errors=True)
            if not state.run_files().shared_folder:  # uploads already stored for a run never recorded
                await run_in_threadpool(state.run_files().delete, run_id)
        raise
    log.info("api.launched", run_id=run_id, robot=robot, token=who.name)
    return _launched(run_id, loaded.spec.robot, RunStatus.QUEUED)


@router.get("/runs", response_model=list[Run], summary=N_("Runs"))
def list_runs(state: ServerState = Depends(server_state), who: Principal = Depends(require("agent", "engineer")),
              robot: str | None = Query(None, max_length=100), status: str | None = Query(None, max_length=32),
              limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    """Most recent first; an agent sees only the runs launched with their token."""
    mine = None if who.has("engineer") else who.name
    try:
        wanted = RunStatus(status) if status else None
    except ValueError:
        return []  # no run has an unknown status
    return [asdict(r) for r in state.store.list_runs(created_by=mine, robot=robot, status=wanted, limit=limit)]


@router.get("/runs/{run_id}", response_model=RunDetail, responses=documented(404),
            summary=N_("Status of a run"))
def get_run(request: Request, run_id: str = RUN_ID, state: ServerState = Depends(server_state),
            who: Principal = Depends(require("agent", "engineer"))) -> dict[str, Any]:
    """Status, item counts by status and minutes saved so far; for an attended run, its supervision minutes and
    the net minutes saved."""
    run = visible_run(request, state, who, run_id)
    saved = state.store.run_savings(run_id)
    attended = saved.supervision is not None
    return dict(asdict(run), counts=state.store.counts(run_id), minutes_saved=saved.gross,
                supervision_minutes=saved.supervision, net_minutes=saved.net if attended else None)


@router.post("/runs/{run_id}/cancel", response_model=Run, responses=documented(404, 409),
             summary=N_("Cancel a run"))
def cancel_run(request: Request, run_id: str = RUN_ID, state: ServerState = Depends(server_state),
               who: Principal = Depends(require("agent", "engineer"))) -> dict[str, Any]:
    """A queued run is cancelled at once; a running one stops after its current items."""
    run = visible_run(request, state, who, run_id)
    if run.status in RUN_FINAL:
        raise ApiError(409, _l("the run has already finished ({status})", status=str(run.status)))
    state.store.request_cancel(run_id)
    log.info("api.cancel_requested", run_id=run_id, token=who.name)
    return asdict(state.store.get_run(run_id) or run)


def _resumable(run: StoredRun) -> bool:
    if run.status is RunStatus.RUNNING:
        beat = run.heartbeat_at
        return beat is None or beat < utcnow() - timedelta(seconds=LEASE_SECONDS)
    return run.status is not RunStatus.SUCCEEDED


@router.post("/runs/{run_id}/resume", status_code=202, response_model=Run,
              responses=documented(404, 409, 503), summary=N_("Resume a run"))
def resume_run(request: Request, run_id: str = RUN_ID, state: ServerState = Depends(server_state),
               who: Principal = Depends(require("engineer"))) -> dict[str, Any]:
    """Hand an unfinished, failed or cancelled run back to the executor: done items are never redone."""
    run = visible_run(request, state, who, run_id)
    if not _resumable(run):
        raise ApiError(409, _l("the run cannot be resumed ({status})", status=str(run.status)))
    _submit(state, run_id, run.queue, new_run=False)
    log.info("api.resumed", run_id=run_id, token=who.name)
    return asdict(run)
