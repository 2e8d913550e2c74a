"""What a run produced: items, log lines, evidence files (confined to the run folder), live events."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path as FsPath
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel

from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.routes_runs import RUN_ID, visible_run
from robocore.server.state import ServerState, server_state
from robocore.server.types import UtcDateTime
from robocore.statuses import RUN_FINAL

router = APIRouter(prefix="/api/v1/runs/{run_id}", tags=["runs"], responses={**AUTHENTICATED, **documented(404)})
KEEPALIVE_SECONDS = 15.0
_DRIVE = re.compile(r"^[A-Za-z]:")


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


def _relative(root: FsPath, path: str) -> str | None:
    try:
        return FsPath(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def confined(root: FsPath, relative: str) -> FsPath:
    """The file at `relative` inside root: 400 for a path that tries to leave it, 404 when absent."""
    if (not relative or "\x00" in relative or "\\" in relative or relative.startswith("/")
            or _DRIVE.match(relative) or any(p in ("", ".", "..") for p in relative.split("/"))):
        raise ApiError(400, "chemin de fichier refusé", "file path refused", code="bad_path")
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise ApiError(404, "fichier introuvable dans le dossier de l'exécution", "file not found in the run folder")
    return target


@router.get("/items", response_model=list[Item], summary="Éléments / work items")
def run_items(request: Request, run_id: str = RUN_ID, state: ServerState = Depends(server_state),
              who: Principal = Depends(require("agent", "engineer"))) -> list[dict[str, Any]]:
    """Every item with its status, attempts, error and evidence (paths relative to the run folder)."""
    visible_run(request, state, who, run_id)
    root = state.runs_root() / run_id
    out = []
    for item in state.store.items(run_id):
        evidence = [r for p in item.evidence if (r := _relative(root, p)) is not None]
        out.append(dict(asdict(item), evidence=evidence))
    return out


@router.get("/logs", response_model=LogPage, summary="Journal / log lines")
def run_logs(request: Request, run_id: str = RUN_ID, offset: int = Query(0, ge=0, le=10_000_000),
             limit: int = Query(1000, ge=1, le=10_000), state: ServerState = Depends(server_state),
             who: Principal = Depends(require("agent", "engineer"))) -> dict[str, Any]:
    """The run's JSON log lines (secrets already removed when they were written)."""
    visible_run(request, state, who, run_id)
    path = state.runs_root() / run_id / "log.jsonl"
    lines: list[dict[str, Any]] = []
    number = 0
    if path.is_file():
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if number <= offset or not line.endswith("\n"):
                    continue  # a line still being written is sent next time
                if len(lines) >= limit:
                    return {"lines": lines, "next_offset": number - 1}
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    lines.append({"event": line.rstrip("\n")})
    return {"lines": lines, "next_offset": offset + len(lines)}


@router.get("/evidence", response_model=list[EvidenceFile], summary="Preuves / files of the run folder")
def list_evidence(request: Request, run_id: str = RUN_ID, state: ServerState = Depends(server_state),
                  who: Principal = Depends(require("agent", "engineer"))) -> list[dict[str, Any]]:
    """Screenshots, traces, output workbooks and uploaded inputs of the run."""
    visible_run(request, state, who, run_id)
    root = (state.runs_root() / run_id).resolve()
    if not root.is_dir():
        return []
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())[:5000]
    return [{"path": p.relative_to(root).as_posix(), "size": p.stat().st_size} for p in files]


@router.get("/evidence/{path:path}", response_class=FileResponse, summary="Télécharger / download a run file",
            responses={200: {"content": {"application/octet-stream": {}}}, **documented(400)})
def get_evidence(request: Request, path: str, run_id: str = RUN_ID, state: ServerState = Depends(server_state),
                 who: Principal = Depends(require("agent", "engineer"))) -> FileResponse:
    """One file of the run folder; a path leaving the folder (.., absolute, symlink) is refused."""
    visible_run(request, state, who, run_id)
    target = confined(state.runs_root() / run_id, path)
    return FileResponse(target, filename=target.name)


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


@router.get("/events", summary="Suivi en direct / server-sent events",
            responses={200: {"content": {"text/event-stream": {}}}})
def run_events(request: Request, run_id: str = RUN_ID, interval: float = Query(0.5, ge=0.1, le=10),
               state: ServerState = Depends(server_state),
               who: Principal = Depends(require("agent", "engineer"))) -> StreamingResponse:
    """`status` events each time the status or item counts change, then `end` with the final status."""
    visible_run(request, state, who, run_id)
    return StreamingResponse(_stream(request, state, run_id, interval), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
