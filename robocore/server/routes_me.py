"""Who am I: `GET /api/v1/me`, for an API token (scripts, the tray launcher) or a signed-in person (pages)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from robocore.i18n import N_
from robocore.server.auth import ROLES, Principal, require
from robocore.server.errors import AUTHENTICATED
from robocore.server.state import ServerState, server_state
from robocore.store import utcnow
from robocore.web.sessions import Person

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=AUTHENTICATED)


class Me(BaseModel):
    """The caller: name (token name, or the person's email or subject), role, groups, how authenticated."""

    name: str
    role: str
    groups: list[str]
    auth: Literal["token", "session"] = Field(description=N_("`token` (Authorization: Bearer) or `session` "
                                                             "(signed in through OpenID Connect)"))
    display_name: str | None = Field(default=None, description=N_("The person's name (session only)"))
    email: str | None = Field(default=None, description=N_("The person's email (session only)"))
    csrf_token: str | None = Field(default=None, description=N_(
        "The token unsafe requests of this session must carry in `X-CSRF-Token` (session only)"))
    expires_at: dt.datetime | None = Field(default=None, description=N_("When the session ends (session only)"))


@router.get("/me", response_model=Me, response_model_exclude_none=True, summary=N_("Who am I"))
def me(request: Request, who: Principal = Depends(require(*ROLES))) -> Me:
    """The caller's name, role and groups, and whether a token or a session authenticated them."""
    person: Person | None = getattr(request.state, "person", None)
    if person is None:
        return Me(name=who.name, role=who.role, groups=list(who.groups), auth="token")
    return Me(name=who.name, role=who.role, groups=list(who.groups), auth="session", display_name=person.name,
              email=person.email, csrf_token=person.csrf,
              expires_at=dt.datetime.fromtimestamp(person.expires, dt.UTC))


class MySavings(BaseModel):
    """Hours (and minutes) the caller's own runs saved since Monday, the 1st of the month and January 1st (UTC):
    the ledger's minutes of the runs they launched (gross), and net of their attended runs' supervision."""

    week_hours: float
    month_hours: float
    year_hours: float
    week_minutes: float
    month_minutes: float
    year_minutes: float
    # net of the supervision time of the caller's attended runs (tray --local): gross − supervision
    week_net_hours: float = 0.0
    month_net_hours: float = 0.0
    year_net_hours: float = 0.0
    week_supervision_minutes: float = 0.0
    month_supervision_minutes: float = 0.0
    year_supervision_minutes: float = 0.0


@router.get("/me/savings", response_model=MySavings, summary=N_("My savings"))
async def my_savings(state: ServerState = Depends(server_state),
                     who: Principal = Depends(require(*ROLES))) -> MySavings:
    """The ledger's minutes of the runs the caller launched (`created_by`), this ISO week, month and year, UTC."""
    saved = await run_in_threadpool(state.store.savings_of, who.name, utcnow())
    return MySavings(week_hours=saved.week_minutes / 60, month_hours=saved.month_minutes / 60,
                     year_hours=saved.year_minutes / 60, week_minutes=saved.week_minutes,
                     month_minutes=saved.month_minutes, year_minutes=saved.year_minutes,
                     week_net_hours=saved.week_net / 60, month_net_hours=saved.month_net / 60,
                     year_net_hours=saved.year_net / 60, week_supervision_minutes=saved.week_supervision,
                     month_supervision_minutes=saved.month_supervision,
                     year_supervision_minutes=saved.year_supervision)
