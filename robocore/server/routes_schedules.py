"""Schedules: list, enable or disable, run now (through the scheduler service given to the app)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from robocore.errors import RobocoreError
from robocore.i18n import N_, Bilingual
from robocore.i18n import lazy_gettext as _l
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.state import Scheduler, ServerState, server_state

log = structlog.get_logger("robocore.server.schedules")
router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"], responses={**AUTHENTICATED, **documented(503)})
SCHEDULE_NAME = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", description=N_("Name of the schedule"))
T = TypeVar("T")


class Leader(BaseModel):
    """The scheduling leader of the deployment: who, since when, its last heartbeat (any server can tell)."""

    leading: bool
    owner: str | None = None
    host: str | None = None
    pid: int | None = None
    since: str | None = None
    heartbeat_at: str | None = None
    heartbeat_age_s: float | None = None
    note: str | None = None


class Fire(BaseModel):
    """One recorded fire time of a schedule (UTC) and what became of it."""

    schedule: str
    fire_time: str
    status: str
    run_id: str | None
    note: str | None


class ScheduleRun(BaseModel):
    """A run started by `run now`."""

    schedule: str
    run_id: str


def _scheduler(state: ServerState) -> Scheduler:
    if state.scheduler is None:
        raise ApiError(503, _l("no scheduler on this server (robo serve without --no-scheduler)"),
                       code="no_scheduler")
    return state.scheduler


def plain(value: Any) -> dict[str, Any]:
    """A schedule as JSON, whatever the service returns (pydantic model, dataclass or mapping)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return dict(value)


def _name_of(schedule: Any) -> str:
    found = plain(schedule)
    return str(found.get("name", found.get("schedule")))


def _call(scheduler: Scheduler, name: str, action: Callable[[], T]) -> T:
    """Run a scheduler action: 404 for an unknown schedule, 409 when the service refuses it."""
    if name not in {_name_of(s) for s in scheduler.list_schedules()}:
        raise ApiError(404, _l("schedule not found '{name}'", name=name), code="schedule_not_found")
    try:
        return action()
    except (KeyError, LookupError) as exc:
        raise ApiError(404, _l("schedule not found '{name}'", name=name), code="schedule_not_found") from exc
    except (RobocoreError, ValueError) as exc:
        # the scheduler's reason is French (moved to the catalogues next): English gets our summary
        raise ApiError(409, Bilingual(str(exc), _l("the schedule could not do that now")),
                       code="schedule_refused") from exc


@router.get("", summary=N_("Schedules"), response_model=list[dict[str, Any]])
async def list_schedules(state: ServerState = Depends(server_state),
                         who: Principal = Depends(require("engineer"))) -> list[dict[str, Any]]:
    """Every schedule with its trigger, next fire time and whether it is enabled."""
    scheduler = _scheduler(state)
    return [plain(s) for s in await run_in_threadpool(scheduler.list_schedules)]


@router.get("/leader", response_model=Leader, summary=N_("Scheduling leader"))
async def leader(state: ServerState = Depends(server_state),
                 who: Principal = Depends(require("engineer"))) -> dict[str, Any]:
    """Who leads the schedules, since when and how old its last heartbeat is (read from the store)."""
    from robocore.scheduling.status import leader_status

    return (await run_in_threadpool(leader_status, state.store)).as_json()


@router.get("/{name}/fires", response_model=list[Fire], summary=N_("Fires of a schedule"))
async def fires(name: str = SCHEDULE_NAME, limit: int = Query(100, ge=1, le=500),
                state: ServerState = Depends(server_state),
                who: Principal = Depends(require("engineer"))) -> list[dict[str, Any]]:
    """The latest recorded fire times of a schedule (oldest first, at most `limit`), with their run or reason."""
    found = await run_in_threadpool(state.store.fires, name, limit)
    return [{"schedule": f.schedule, "fire_time": f.fire_time_utc.isoformat(), "status": str(f.status),
             "run_id": f.run_id, "note": f.note} for f in found]


async def _set(state: ServerState, who: Principal, name: str, enabled: bool) -> dict[str, Any]:
    scheduler = _scheduler(state)
    await run_in_threadpool(_call, scheduler, name, lambda: scheduler.set_enabled(name, enabled))
    log.info("api.schedule_enabled" if enabled else "api.schedule_disabled", schedule=name, token=who.name)
    for schedule in await run_in_threadpool(scheduler.list_schedules):
        if _name_of(schedule) == name:
            return plain(schedule)
    return {"name": name, "enabled": enabled}


@router.post("/{name}/enable", responses=documented(404, 409), summary=N_("Enable a schedule"),
             response_model=dict[str, Any])
async def enable(name: str = SCHEDULE_NAME, state: ServerState = Depends(server_state),
                 who: Principal = Depends(require("engineer"))) -> dict[str, Any]:
    """Let the schedule fire again."""
    return await _set(state, who, name, True)


@router.post("/{name}/disable", responses=documented(404, 409), summary=N_("Disable a schedule"),
             response_model=dict[str, Any])
async def disable(name: str = SCHEDULE_NAME, state: ServerState = Depends(server_state),
                  who: Principal = Depends(require("engineer"))) -> dict[str, Any]:
    """Stop the schedule from firing (kept across restarts)."""
    return await _set(state, who, name, False)


@router.post("/{name}/run", status_code=201, response_model=ScheduleRun, responses=documented(404, 409),
             summary=N_("Run a schedule now"))
async def run_now(name: str = SCHEDULE_NAME, state: ServerState = Depends(server_state),
                  who: Principal = Depends(require("engineer"))) -> dict[str, Any]:
    """Launch the schedule's robot with its inputs now, outside its trigger."""
    scheduler = _scheduler(state)
    run_id = await run_in_threadpool(_call, scheduler, name, lambda: scheduler.run_now(name))
    log.info("api.schedule_run_now", schedule=name, run_id=run_id, token=who.name)
    return {"schedule": name, "run_id": run_id}
