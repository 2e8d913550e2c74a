"""The runs pages: `GET /executions` (the list, filterable) and `GET /executions/{id}` (one run), server-rendered.

Who: managers, engineers and admins (robocore.web.pages.caller); agents get a 403 page, but for the page of a
run they launched themselves (the tray's notification links there): its counts and messages, no menu (the
other pages are closed to them), no evidence; another agent's run is a 403 page. Evidence (the
screenshots and files of the run folder) is for engineers and admins only: managers see a run's counts and
messages, no evidence link, and `/executions/{id}/preuves/{path}` answers them 403. That route applies the
API's checks (robocore.server.routes_run_data.get_evidence): the run must exist, the name is confined to the
run (robocore.storage.check_name, then the storage's own resolution), and it is served with its
Content-Type, `nosniff`, images inline and every other file as an attachment.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from robocore.i18n import render
from robocore.secrets import scrub
from robocore.server.auth import Principal, bearer
from robocore.storage import RunFile, RunFileError, RunFileMissing, check_name, run_relative
from robocore.web import pages
from robocore.web.overview_data import FilterError
from robocore.web.runs_data import (
    ITEMS_PER_PAGE,
    choices,
    format_duration,
    local,
    parse_run_filters,
    run_list,
    run_page,
)

log = structlog.get_logger("robocore.web.runs")
router = APIRouter(include_in_schema=False)
EVIDENCE_ROLES = ("engineer",)  # and admin, who holds every role
OWN_RUN_ROLES = (*pages.READERS, "agent")  # an agent: only the runs created with their own name
INLINE_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}  # never SVG: it may carry a script
SHOWN_FILES = 200
_RUN_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# a file served from a run: never run as a page, even when opened directly
_FILE_HEADERS = {"X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox"}


def _valid_id(run_id: str) -> bool:
    return 0 < len(run_id) <= 36 and set(run_id) <= _RUN_ID_CHARS


def _error_text(exc: FilterError, lang: str) -> str:
    return render(exc.message, lang)


@router.get("/executions", response_class=HTMLResponse)
async def runs_page(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """The runs, newest first, for the filters of the URL."""
    lang = pages.language(request)
    _ = pages.translator(lang)
    who = await pages.caller(request, credentials, what=_("The runs"))
    if not isinstance(who, Principal):
        return who
    params = dict(request.query_params)
    store = request.app.state.robocore.store
    values: dict[str, Any] = {"user": who.name, "nav": "runs", "roles": pages.roles_of(who), "params": params,
                              "choices": await run_in_threadpool(choices, store), "error": None, "data": None,
                              "duration": format_duration, "local": local}
    try:
        filters = parse_run_filters(params)
    except FilterError as exc:
        values["error"] = _error_text(exc, lang)
        return pages.page(request, "runs.html", 400, **values)
    back = filters.query()
    values.update(data=await run_in_threadpool(run_list, store, filters),
                  href_for=lambda page: _address("/executions", filters.query(page=page)),
                  row_link=lambda run: _address(f"/executions/{quote(run.id)}", urlencode({"liste": back}) if back
                                                else ""))
    return pages.page(request, "runs.html", **values)


def _address(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def _back_query(text: str | None) -> str:
    """The list's query the run page links back to: only valid filters, rebuilt (never copied as given)."""
    if not text or len(text) > 2000:
        return ""
    try:
        filters = parse_run_filters(dict(parse_qsl(text)))
    except FilterError:
        return ""
    return filters.query()


def _files(request: Request, run_id: str) -> list[RunFile]:
    try:
        return request.app.state.robocore.run_files().list_files(run_id, SHOWN_FILES, 0)
    except (OSError, RunFileError) as exc:  # an unreachable storage: the page still shows the figures
        log.warning("page.run_files_unreadable", run_id=run_id, error=str(exc))
        return []


@router.get("/executions/{run_id}", response_class=HTMLResponse)
async def run_detail(request: Request, run_id: str,
                     credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """One run: its summary, minutes saved, item counts, items, errors grouped, and (engineers) its evidence;
    for the agent who launched it, the same without evidence and without the menu."""
    lang = pages.language(request)
    _ = pages.translator(lang)
    who = await pages.caller(request, credentials, roles=OWN_RUN_ROLES, what=_("The runs"))
    if not isinstance(who, Principal):
        return who
    store = request.app.state.robocore.store
    run = await run_in_threadpool(store.get_run, run_id) if _valid_id(run_id) else None
    if run is None:
        return pages.message(request, 404, _("Run not found"),
                             _("No run has the id « %(id)s ».", id=run_id[:80]), user=who.name)
    own_only = not who.has(*pages.READERS)
    if own_only and run.created_by != who.name:
        log.warning("page.forbidden", token=who.name, role=who.role, path=request.url.path)
        return pages.message(request, 403, _("Access refused"),
                             _("This run was launched by someone else: your role (%(role)s) shows only the runs "
                               "you launched.", role=who.role), user=who.name)
    params = dict(request.query_params)
    evidence = who.has(*EVIDENCE_ROLES)
    values: dict[str, Any] = {"user": who.name, "nav": None if own_only else "runs", "agent_view": own_only,
                              "roles": pages.roles_of(who), "params": params,
                              "run": run, "run_error": scrub(run.error) if run.error else None, "error": None,
                              "data": None, "evidence": evidence,
                              "files": [], "images": [], "others": [],
                              "back": _back_query(params.get("liste")), "duration": format_duration,
                              "local": local, "items_per_page": ITEMS_PER_PAGE, "relative": run_relative,
                              "quote": quote}
    try:
        values["data"] = await run_in_threadpool(run_page, store, run, params)
    except FilterError as exc:
        values["error"] = _error_text(exc, lang)
        return pages.page(request, "run.html", 400, **values)
    data = values["data"]
    back = values["back"]
    values["item_href"] = lambda page: _address(f"/executions/{quote(run.id)}", urlencode(
        {k: v for k, v in (("statut", data.item_status), ("page", page if page > 1 else None), ("liste", back))
         if v})) + "#elements"
    values["evidence_href"] = lambda name: f"/executions/{quote(run.id)}/preuves/{quote(name)}"
    if evidence:
        files = await run_in_threadpool(_files, request, run.id)
        values["images"] = [f for f in files if mimetypes.guess_type(f.path)[0] in INLINE_IMAGES]
        values["others"] = [f for f in files if mimetypes.guess_type(f.path)[0] not in INLINE_IMAGES]
        values["files"] = files
    return pages.page(request, "run.html", **values)


def _served(request: Request, run_id: str, path: str) -> Response:
    """One file of the run, as the API's evidence download checks and finds it (RunFileError, RunFileMissing)."""
    files = request.app.state.robocore.run_files()
    name = check_name(path).rsplit("/", 1)[-1]
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = guessed in INLINE_IMAGES
    media = guessed if inline or not guessed.startswith(("text/html", "image/svg", "application/xhtml")) \
        else "application/octet-stream"
    disposition = "inline" if inline else "attachment"
    found = files.local_path(run_id, path)
    if found is not None:
        return FileResponse(found, media_type=media, filename=name, content_disposition_type=disposition,
                            headers=_FILE_HEADERS)
    stat = files.stat(run_id, path)
    if stat is None:
        raise RunFileMissing(path)
    return StreamingResponse(files.chunks(run_id, path), media_type=media, headers={
        **_FILE_HEADERS, "Content-Length": str(stat.size),
        "Content-Disposition": f"{disposition}; filename*=utf-8''{quote(name)}"})


@router.get("/executions/{run_id}/preuves/{path:path}")
async def run_evidence(request: Request, run_id: str, path: str,
                       credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """A screenshot or file of a run's folder, for engineers and admins (managers and agents: 403)."""
    lang = pages.language(request)
    _ = pages.translator(lang)
    who = await pages.caller(request, credentials, roles=EVIDENCE_ROLES, what=_("A run's evidence"))
    if not isinstance(who, Principal):
        return who
    store = request.app.state.robocore.store
    if not _valid_id(run_id) or await run_in_threadpool(store.get_run, run_id) is None:
        return pages.message(request, 404, _("Run not found"),
                             _("No run has the id « %(id)s ».", id=run_id[:80]), user=who.name)
    try:
        return await run_in_threadpool(_served, request, run_id, path)
    except RunFileError:
        return pages.message(request, 400, _("File refused"),
                             _("The file name « %(name)s » is not a name inside the run's folder.",
                               name=path[:120]), user=who.name)
    except RunFileMissing:
        return pages.message(request, 404, _("File not found"),
                             _("The run's folder has no file « %(name)s ».", name=path[:120]), user=who.name)

