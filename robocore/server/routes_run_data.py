"""What a run produced: items, log lines, evidence files (confined to the run), live events.

Files and log lines are read through the run files storage (`robocore.storage`, ROBOCORE_STORAGE), so
the server shows what a worker on another machine produced; `local` serves the run folder itself.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel

from robocore.i18n import N_
from robocore.i18n import lazy_gettext as _l
from robocore.server import paging
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.routes_runs import RUN_ID, visible_run
from robocore.server.state import ServerState, server_state
from robocore.server.types import UtcDateTime
from robocore.statuses import RUN_FINAL, ItemStatus
from robocore.storage import MAX_LIST, RunFileError, RunFileMissing, check_name, run_relative

router = APIRouter(prefix="/api/v1/runs/{run_id}", tags=["runs"], responses={**AUTHENTICATED, **documented(404)})
KEEPALIVE_SECONDS = 15.0


class Item(BaseModel):
    """A durable work item."""

    key: str
    block: str
    seq: int
    status: str
    attempts: int
    error: str | None
    evidence: list[str]
    verified: bool
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None


class LogPage(BaseModel):
    """Lines of the run's log.jsonl, from `offset`; ask again from `next_offset` to follow it."""

    lines: list[dict[str, Any]]
    next_offset: int


class EvidenceFile(BaseModel):
    """A file of the run folder, by its path relative to it."""

    path: str
    size: int


def _file_error(exc: RunFileError | RunFileMissing) -> ApiError:
    """A refused name → 400 `bad_path`; an absent file → 404: our message, with the name it was about."""
    if isinstance(exc, RunFileError):
        return ApiError(400, _l("file path refused: {reason}", reason=exc.message), code="bad_path")
    return ApiError(404, _l("file not found in the run folder"), code="file_not_found")


def _item_status(status: str | None) -> ItemStatus | None:
    """The `status` filter as an item status (400 naming the value and the statuses otherwise)."""
    if status is None:
        return None
    try:
        return ItemStatus(status)
    except ValueError:
        raise ApiError(400, _l("unknown item status '{value}' for 'status': {known}", value=status[:40],
                               known=", ".join(s.value for s in ItemStatus)), code="invalid_status") from None


@router.get("/items", response_model=list[Item], summary=N_("Work items"),
            responses=documented(400))
def run_items(request: Request, run_id: str = RUN_ID, limit: int = paging.limit(1000, MAX_LIST),
              offset: int = paging.offset(),
              status: str | None = Query(None, max_length=100, description=N_("Only the items in this status"),
                                         json_schema_extra={"enum": [s.value for s in ItemStatus]}),
              state: ServerState = Depends(server_state),
              who: Principal = Depends(require("agent", "engineer"))) -> list[dict[str, Any]]:
    """Items with their status, attempts, error and evidence (names inside the run, as `/evidence` lists
    them), block by block in their order: `limit` (at most 5,000) of them from `offset`; `status` keeps one
    status (`business_error`: the rejected ones)."""
    wanted = _item_status(status)
    visible_run(request, state, who, run_id)
    out = []
    for item in state.store.items(run_id, limit=limit, offset=offset, status=wanted):
        evidence = [r for p in item.evidence if (r := run_relative(run_id, p)) is not None]
        out.append(dict(asdict(item), evidence=evidence))
    return out


@router.get("/logs", response_model=LogPage, summary=N_("Log lines"))
def run_logs(request: Request, run_id: str = RUN_ID, offset: int = Query(0, ge=0, le=10_000_000),
             limit: int = Query(1000, ge=1, le=10_000), state: ServerState = Depends(server_state),
             who: Principal = Depends(require("agent", "engineer"))) -> dict[str, Any]:
    """The run's JSON log lines (secrets already removed when they were written), wherever its worker ran:
    a running run's lines arrive every few seconds (ROBOCORE_STORAGE other than `local`)."""
    visible_run(request, state, who, run_id)
    page = state.run_files().read_log(run_id, offset, limit)
    lines: list[dict[str, Any]] = []
    for line in page.lines:
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append({"event": line})
    return {"lines": lines, "next_offset": page.next_offset}


@router.get("/evidence", response_model=list[EvidenceFile], summary=N_("Files of the run folder"))
def list_evidence(request: Request, run_id: str = RUN_ID, limit: int = paging.limit(1000, MAX_LIST),
                  offset: int = paging.offset(), state: ServerState = Depends(server_state),
                  who: Principal = Depends(require("agent", "engineer"))) -> list[dict[str, Any]]:
    """Screenshots, traces, output workbooks, uploaded inputs and the log of the run, in name order:
    `limit` (at most 5,000) of them from `offset`."""
    visible_run(request, state, who, run_id)
    return [{"path": f.path, "size": f.size} for f in state.run_files().list_files(run_id, limit, offset)]


@router.get("/evidence/{path:path}", response_class=FileResponse, summary=N_("Download a file of the run"),
            responses={200: {"content": {"application/octet-stream": {}}}, **documented(400)})
def get_evidence(request: Request, path: str, run_id: str = RUN_ID, state: ServerState = Depends(server_state),
                 who: Principal = Depends(require("agent", "engineer"))) -> Response:
    """One file of the run; a path leaving the run (.., absolute, symlink) or over the length bounds is
    refused (400), an absent one is 404."""
    visible_run(request, state, who, run_id)
    files = state.run_files()
    try:
        local = files.local_path(run_id, check_name(path))
        if local is not None:
            return FileResponse(local, filename=local.name)
        found = files.stat(run_id, path)
        if found is None:
            raise RunFileMissing(path)
        chunks = files.chunks(run_id, path)
    except (RunFileError, RunFileMissing) as exc:
        raise _file_error(exc) from None
    name = path.rsplit("/", 1)[-1]
    return StreamingResponse(chunks, media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                             headers={"Content-Length": str(found.size),
                                      "Content-Disposition": f"attachment; filename*=utf-8''{quote(name)}"})


def _snapshot(state: ServerState, run_id: str) -> dict[str, Any]:
    run = state.store.get_run(run_id)
    return {"id": run_id, "status": run.status.value if run else None, "counts": state.store.counts(run_id),
            "error": run.error if run else None, "cancel_requested": bool(run and run.cancel_requested)}


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _stream(request: Request, state: ServerState, run_id: str, interval: float) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    quiet = 0.0
    while True:
        snap = await run_in_threadpool(_snapshot, state, run_id)
        if snap != last:
            yield _event("status", snap)
            last, quiet = snap, 0.0
        if snap["status"] in RUN_FINAL or snap["status"] is None:
            yield _event("end", snap)
            return
        await asyncio.sleep(interval)
        quiet += interval
        if quiet >= KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            quiet = 0.0
        if await request.is_disconnected() or state.stopping.is_set():
            return


@router.get("/events", summary=N_("Live progress (server-sent events)"),
            responses={200: {"content": {"text/event-stream": {}}}})
def run_events(request: Request, run_id: str = RUN_ID, interval: float = Query(0.5, ge=0.1, le=10),
               state: ServerState = Depends(server_state),
               who: Principal = Depends(require("agent", "engineer"))) -> StreamingResponse:
    """`status` events each time the status or item counts change, then `end` with the final status."""
    visible_run(request, state, who, run_id)
    return StreamingResponse(_stream(request, state, run_id, interval), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
