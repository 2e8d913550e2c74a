"""POST /api/v1/ideas: an automation idea from any signed-in person (agents included), kept as a process at
the `idea` stage, which engineers and managers read with the other processes (`GET /processes?stage=idea`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from robocore import ideas
from robocore.i18n import N_, render
from robocore.i18n import lazy_gettext as _l
from robocore.processes import InvalidProcess
from robocore.server.auth import ROLES, Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.state import ServerState, server_state
from robocore.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["processes"], responses=AUTHENTICATED)
_IDEA_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": ideas.Idea.model_json_schema()}}}}


class IdeaRecorded(BaseModel):
    """The idea, recorded as the process `process` at the `idea` stage; `message` in French, `message_en`."""

    process: str
    stage: str
    message: str
    message_en: str


@router.post("/ideas", status_code=201, response_model=IdeaRecorded, openapi_extra=_IDEA_BODY,
             responses=documented(409, 415), summary=N_("Propose an automation"))
async def propose_idea(request: Request, state: ServerState = Depends(server_state),
                       who: Principal = Depends(require(*ROLES))) -> dict[str, Any]:
    """Task (≤ 200 characters, the process's name), frequency, minutes by hand (> 0, ≤ 10,000), and optionally
    the volume per year and details (≤ 2,000 characters); 409 `idea_exists` when a process has that name."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("", "application/json"):
        raise ApiError(415, _l("send JSON"))
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise ApiError(422, _l("unreadable JSON body"), code="invalid_request") from None
    try:
        name = await run_in_threadpool(ideas.propose, state.store, data, who.name, get_settings().language)
    except InvalidProcess as exc:
        raise ApiError(422, exc.message, code="invalid_idea_field") from None
    except ideas.IdeaExists as exc:
        raise ApiError(409, _l("a process named “{name}” already exists: the idea is known", name=exc.name),
                       code="idea_exists") from None
    thanks = _l("Thank you: your idea “{name}” was sent to the automation team.", name=name)
    return {"process": name, "stage": "idea", "message": render(thanks, "fr"), "message_en": render(thanks, "en")}
