"""Administration: API tokens (created, listed, revoked) and the robots granted to agent groups."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from robocore.i18n import N_
from robocore.i18n import lazy_gettext as _l
from robocore.server import paging
from robocore.server.auth import MAX_EXPIRY_DAYS, ROLES, Principal, create_token, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.state import ServerState, server_state
from robocore.server.types import UtcDateTime
from robocore.store import Conflict

log = structlog.get_logger("robocore.server.admin")
router = APIRouter(prefix="/api/v1", tags=["admin"], responses=AUTHENTICATED)
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$"


class NewToken(BaseModel):
    """A token to create."""

    name: str = Field(pattern=NAME)
    role: str = Field(pattern="^(" + "|".join(ROLES) + ")$")
    groups: list[str] = Field(default_factory=list, max_length=50)
    expires_in_days: int | None = Field(None, ge=1, le=MAX_EXPIRY_DAYS,
                                        description=N_("Days of validity; absent: never expires"))


class TokenInfo(BaseModel):
    """A token without its secret."""

    name: str
    role: str
    groups: list[str]
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None
    revoked_at: UtcDateTime | None
    expires_at: UtcDateTime | None = None


class CreatedToken(TokenInfo):
    """A new token: `token` is shown this once and never stored."""

    token: str


class Grant(BaseModel):
    """Members of `group` may see and launch `robot`."""

    robot: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    group: str = Field(min_length=1, max_length=100)


@router.get("/tokens", response_model=list[TokenInfo], tags=["admin"], summary=N_("API tokens"))
def list_tokens(limit: int = paging.limit(), offset: int = paging.offset(),
                state: ServerState = Depends(server_state),
                who: Principal = Depends(require("admin"))) -> list[dict[str, Any]]:
    """Tokens, oldest first (names, roles, groups, last use, expiry), never the secret."""
    return [asdict(t) for t in state.store.list_tokens(limit=limit, offset=offset)]


@router.post("/tokens", status_code=201, response_model=CreatedToken, responses=documented(409),
             summary=N_("Create a token"))
def new_token(body: NewToken, response: Response, state: ServerState = Depends(server_state),
              who: Principal = Depends(require("admin"))) -> dict[str, Any]:
    """Create a token; the answer holds it once (never cached), only its argon2 hash is kept."""
    try:
        token = create_token(state.store, body.name, body.role, body.groups, body.expires_in_days)
    except Conflict:
        raise ApiError(409, _l("a token named '{name}' already exists", name=body.name)) from None
    response.headers["Cache-Control"] = "no-store"  # the body carries the secret
    response.headers["Pragma"] = "no-cache"
    log.info("api.token_created", name=body.name, role=body.role, by=who.name, expires_in_days=body.expires_in_days)
    created = state.store.token_by_name(body.name)
    return dict(asdict(created) if created else {}, token=token)


@router.delete("/tokens/{name}", status_code=204, responses=documented(404), summary=N_("Revoke a token"))
def revoke(request: Request, name: str = Path(pattern=NAME), state: ServerState = Depends(server_state),
           who: Principal = Depends(require("admin"))) -> None:
    """Revoke a token at once (in every server process: its row is read on each request)."""
    found = state.store.token_by_name(name)
    if found is None or not state.store.revoke_token(name):
        raise ApiError(404, _l("no live token named '{name}'", name=name))
    request.app.state.verifier.forget(found.id)
    log.info("api.token_revoked", name=name, by=who.name)


@router.get("/grants", response_model=list[Grant], summary=N_("Grants"))
def list_grants(limit: int = paging.limit(), offset: int = paging.offset(),
                state: ServerState = Depends(server_state),
                who: Principal = Depends(require("admin"))) -> list[dict[str, str]]:
    """Which agent groups may use which robot, by robot then group."""
    return [asdict(g) for g in state.store.list_grants(limit=limit, offset=offset)]


@router.post("/grants", status_code=201, response_model=Grant, summary=N_("Grant a robot to a group"))
def add_grant(body: Grant, state: ServerState = Depends(server_state),
              who: Principal = Depends(require("admin"))) -> dict[str, str]:
    """Let a group's agents see and launch a robot (idempotent)."""
    state.store.add_grant(body.robot, body.group)
    log.info("api.grant_added", robot=body.robot, group=body.group, by=who.name)
    return body.model_dump()


@router.delete("/grants/{robot}/{group}", status_code=204, responses=documented(404),
               summary=N_("Remove a grant"))
def remove_grant(robot: str = Path(max_length=100), group: str = Path(max_length=100),
                 state: ServerState = Depends(server_state), who: Principal = Depends(require("admin"))) -> None:
    """Stop a group from seeing and launching a robot."""
    if not state.store.remove_grant(robot, group):
        raise ApiError(404, _l("grant not found (robot '{robot}', group '{group}')", robot=robot, group=group))
    log.info("api.grant_removed", robot=robot, group=group, by=who.name)
