"""Processes as records: list and read them (managers, engineers, admins), edit them (engineers, admins).

A process is created when a robot first names it; here its lab, region, description, estimated
volume, yearly goal and stage are completed. Its name never changes: robots refer to it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from robocore import processes
from robocore.i18n import N_
from robocore.i18n import lazy_gettext as _l
from robocore.processes import InvalidProcess, ProcessChanges, UnknownProcess
from robocore.server import paging
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.state import ServerState, server_state
from robocore.server.types import UtcDateTime

router = APIRouter(prefix="/api/v1/processes", tags=["processes"], responses=AUTHENTICATED)

PROCESS_NAME = Path(max_length=processes.NAME_MAX, description=N_("Name of the process (the robots' `process.name`)"))
_CHANGES_BODY = {"requestBody": {"required": False, "content": {"application/json": {
    "schema": ProcessChanges.model_json_schema()}}}}


class ProcessOut(BaseModel):
    """A process: what robots name, what engineers completed, the minutes in force now (latest run),
    estimated annual hours and realised hours (year to date, last 12 months), unrounded."""

    name: str
    service: str | None
    lab: str | None
    region: str | None
    description: str | None
    annual_volume: int | None
    goal_hours: float | None
    stage: Literal["idea", "study", "production", "retired"]
    stage_label: str
    minutes_per_item: float | None
    minutes_per_run: float | None
    estimated_hours: float | None
    realised_hours_year: float
    realised_hours_12_months: float
    runs_12_months: int
    created_at: UtcDateTime
    updated_at: UtcDateTime
    updated_by: str | None


class ProcessPage(BaseModel):
    """One page of processes (by name) and how many the filters keep."""

    processes: list[ProcessOut]
    total: int
    limit: int
    offset: int


class MinutesChangeOut(BaseModel):
    """A period of minutes in force for one robot: from which run and robot version, replacing what."""

    robot: str
    version_id: int
    version_sha256: str
    minutes_per_item: float
    minutes_per_run: float
    first_run_at: UtcDateTime
    since: UtcDateTime | None
    runs: int
    previous_minutes_per_item: float | None
    previous_minutes_per_run: float | None
    reason: str


class ProcessDetailOut(ProcessOut):
    """A process with the history of its minutes in force and how its figures are computed."""

    minutes_history: list[MinutesChangeOut]
    estimate_formula: str
    realised_formula: str


def _out(shown: processes.ProcessFigures) -> dict[str, Any]:
    record = shown.record
    return {"name": record.name, "service": record.service, "lab": record.lab, "region": record.region,
            "description": record.description, "annual_volume": record.annual_volume,
            "goal_hours": record.goal_hours, "stage": record.stage.value, "stage_label": shown.stage_label,
            "minutes_per_item": shown.minutes_per_item, "minutes_per_run": shown.minutes_per_run,
            "estimated_hours": shown.estimated_hours, "realised_hours_year": shown.realised_hours_year,
            "realised_hours_12_months": shown.realised_hours_12_months, "runs_12_months": shown.runs_12_months,
            "created_at": record.created_at, "updated_at": record.updated_at, "updated_by": record.updated_by}


def _not_found(name: str) -> ApiError:
    return ApiError(404, _l("process not found “{name}”", name=name), code="process_not_found")


def _detail(state: ServerState, name: str) -> ProcessDetailOut:
    try:
        shown = processes.detail(state.store, name)
    except UnknownProcess:
        raise _not_found(name) from None
    history = [MinutesChangeOut(robot=c.period.robot, version_id=c.period.version_id,
                                version_sha256=c.period.version_sha256, minutes_per_item=c.period.minutes_per_item,
                                minutes_per_run=c.period.minutes_per_run, first_run_at=c.period.first_run_at,
                                since=c.period.since, runs=c.period.runs, previous_minutes_per_item=c.previous_per_item,
                                previous_minutes_per_run=c.previous_per_run, reason=c.reason) for c in shown.history]
    return ProcessDetailOut(**_out(shown.figures), minutes_history=history,
                            estimate_formula=str(processes.ESTIMATE_FORMULA),
                            realised_formula=str(processes.REALISED_FORMULA))


@router.get("", response_model=ProcessPage, responses=documented(422), summary=N_("Processes"))
def list_processes(service: str | None = Query(None, description=N_("Only this service (exact name)"),
                                               max_length=processes.TEXT_MAX),
                   lab: str | None = Query(None, description=N_("Only this lab (exact name)"),
                                           max_length=processes.TEXT_MAX),
                   stage: Literal["idea", "study", "production", "retired", "idée", "en étude", "en production",
                                  "retiré"] | None = Query(None, description=N_(
                       "Stage: code (idea, study, production, retired) or label (idée, en étude, en production, "
                       "retiré)")),
                   limit: int = paging.limit(), offset: int = paging.offset(),
                   state: ServerState = Depends(server_state),
                   who: Principal = Depends(require("manager", "engineer"))) -> ProcessPage:
    """Processes by name with their estimated and realised hours; filters on service, lab and stage."""
    try:
        wanted = processes.parse_stage(stage) if stage else None
    except InvalidProcess as exc:
        raise ApiError(422, exc.message, code="invalid_process_field") from None
    records = state.store.list_processes(service, lab, wanted, limit, offset)
    shown = [ProcessOut(**_out(f)) for f in processes.figures(state.store, records)]
    return ProcessPage(processes=shown, total=state.store.count_processes(service, lab, wanted), limit=limit,
                       offset=offset)


@router.get("/{process:path}", response_model=ProcessDetailOut, responses=documented(404),
            summary=N_("One process"))
def get_process(process: str = PROCESS_NAME, state: ServerState = Depends(server_state),
                who: Principal = Depends(require("manager", "engineer"))) -> ProcessDetailOut:
    """A process with the minutes in force over time (and the robot version that changed them), estimated
    annual hours beside realised hours."""
    return _detail(state, process)


@router.patch("/{process:path}", response_model=ProcessDetailOut, responses=documented(404, 415),
              openapi_extra=_CHANGES_BODY, summary=N_("Edit a process"))
async def edit_process(request: Request, process: str = PROCESS_NAME, state: ServerState = Depends(server_state),
                       who: Principal = Depends(require("engineer"))) -> ProcessDetailOut:
    """Set service, lab, region, description, annual volume, goal (hours) or stage; fields left out are kept,
    `null` clears one (not the stage). The name cannot change."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("", "application/json"):
        raise ApiError(415, _l("send JSON"))
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ApiError(422, _l("unreadable JSON body"), code="invalid_request") from None
    try:
        processes.update(state.store, process, data, who.name)
    except InvalidProcess as exc:
        raise ApiError(422, exc.message, code="invalid_process_field") from None
    except UnknownProcess:
        raise _not_found(process) from None
    return _detail(state, process)
