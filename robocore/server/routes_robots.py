"""GET /api/v1/robots: the robots a caller may launch, with their input forms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from robocore.i18n import N_
from robocore.i18n import lazy_gettext as _l
from robocore.loader import LoadedRobot
from robocore.server import paging
from robocore.server.auth import Principal, forbid, require
from robocore.server.catalog import input_fields, input_schema, inputs_version
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.state import ServerState, server_state

router = APIRouter(prefix="/api/v1/robots", tags=["robots"], responses=AUTHENTICATED)
ROBOT_NAME = Path(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100, description=N_("Name of the robot (`robot:`)"))


class RobotSummary(BaseModel):
    """A robot in a list."""

    robot: str
    title: str | None
    description: str | None
    version: int
    process: str | None
    service: str | None
    manual_minutes_per_item: float
    manual_minutes_per_run: float


class RobotDetail(RobotSummary):
    """A robot and the form to launch it."""

    inputs: dict[str, dict[str, Any]]
    inputs_version: str = Field(description=N_("Fingerprint of the inputs' definitions: send it back in "
                                               "`X-Robocore-Inputs-Version` at launch (409 `inputs_changed` when "
                                               "they changed since)"))
    input_schema: dict[str, Any]
    secrets: list[str]
    queue: str | None


def visible(state: ServerState, who: Principal) -> dict[str, LoadedRobot]:
    """The robots this caller may see: all of them, or for an agent those granted to their groups."""
    robots = state.catalog.robots()
    if who.has("engineer"):
        return robots
    allowed = state.store.granted_robots(list(who.groups))
    return {name: r for name, r in robots.items() if name in allowed}


def launchable(request: Request, state: ServerState, who: Principal, name: str) -> LoadedRobot:
    """A robot this caller may launch: 403 for an agent without a grant (known robot or not), else 404."""
    if not who.has("engineer") and name not in state.store.granted_robots(list(who.groups)):
        raise forbid(request, who, "robot not granted")
    loaded = state.catalog.get(name)
    if loaded is None:
        raise ApiError(404, _l("robot not found '{name}'", name=name), code="robot_not_found")
    return loaded


def summary(loaded: LoadedRobot) -> dict[str, Any]:
    spec, process = loaded.spec, loaded.spec.process
    return {"robot": spec.robot, "title": spec.title, "description": spec.description, "version": spec.version,
            "process": process.name if process else None, "service": process.service if process else None,
            "manual_minutes_per_item": process.manual_minutes_per_item if process else 0.0,
            "manual_minutes_per_run": process.manual_minutes_per_run if process else 0.0}


@router.get("", response_model=list[RobotSummary], summary=N_("Robots the caller may use"))
def list_robots(limit: int = paging.limit(), offset: int = paging.offset(),
                state: ServerState = Depends(server_state),
                who: Principal = Depends(require("agent", "engineer"))) -> list[dict[str, Any]]:
    """Every robot for engineers, the robots granted to their groups for agents; by name, a page at a time."""
    page = sorted(visible(state, who).items())[offset:offset + limit]
    return [summary(r) for _, r in page]


@router.get("/{robot}", response_model=RobotDetail, responses=documented(404),
            summary=N_("A robot and its inputs"))
def robot_detail(request: Request, robot: str = ROBOT_NAME, state: ServerState = Depends(server_state),
                 who: Principal = Depends(require("agent", "engineer"))) -> dict[str, Any]:
    """A robot's description and its inputs (types, French labels, defaults) as fields and JSON Schema."""
    loaded = launchable(request, state, who, robot)
    spec = loaded.spec
    return dict(summary(loaded), inputs=input_fields(spec.inputs), inputs_version=inputs_version(spec.inputs),
                input_schema=input_schema(spec.inputs),
                secrets=sorted(spec.secrets), queue=spec.queue)
