"""The process pages: the list `GET /processus`, a process `GET /processus/{name}`, and its edit form
`GET|POST /processus/{name}/modifier` (engineers and admins).

Who: managers, engineers and admins read (an agent gets a 403 page); editing is for engineers and admins
(managers see no edit link and get a 403). A session's POST carries the form's `csrf_token` (checked by
pages.caller → auth.current before anything is read). Names are URL-quoted in links (`%2F` for a slash:
the route takes the rest of the path, so a name with slashes still has its page). Filters are the
overview's GET form (robocore.web.overview_data), so every view is a shareable URL. Figures are read in
the thread pool (SQL sums, robocore.web.process_data).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import structlog
from babel import dates
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from robocore import processes
from robocore.i18n import render
from robocore.processes import STAGE_LABELS, InvalidProcess, UnknownProcess
from robocore.server.auth import Principal, bearer
from robocore.store.rows import ProcessStage
from robocore.web import formatting, pages, process_data
from robocore.web.charts import BarChart, chart
from robocore.web.overview_data import PRESETS, FilterError, Filters, parse_filters

log = structlog.get_logger("robocore.web.process")
router = APIRouter(include_in_schema=False)
EDITORS = ("engineer",)  # admin holds every role


def process_url(name: str, suffix: str = "") -> str:
    """The page of a process: its name quoted whole (a slash too), e.g. `/processus/Dossier%20%C2%AB%20A%20%C2%BB`."""
    return f"/processus/{quote(name, safe='')}{suffix}"


def _today() -> date:
    return datetime.now(UTC).date()


def _filters(request: Request, lang: str) -> tuple[Filters | None, str | None]:
    try:
        return parse_filters(dict(request.query_params), _today()), None
    except FilterError as exc:
        return None, render(exc.message, lang)


def _stages(_: Any) -> dict[str, str]:
    """The stages' labels in the page's language (stored codes → « en production »)."""
    return {ProcessStage.IDEA.value: _("idea"), ProcessStage.STUDY.value: _("under study"),
            ProcessStage.PRODUCTION.value: _("in production"), ProcessStage.RETIRED.value: _("retired")}


def _common(request: Request, who: Principal, _: Any, **values: Any) -> dict[str, Any]:
    return {"user": who.name, "nav": "processes", "roles": pages.roles_of(who), "stages": _stages(_),
            "process_url": process_url, "params": dict(request.query_params), "presets": PRESETS,
            "can_edit": who.has(*EDITORS), **values}


@router.get("/processus", response_class=HTMLResponse)
async def processes_page(request: Request,
                         credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """Every process record with its minutes in force, estimated and realised hours, goal and progress."""
    lang = pages.language(request)
    _ = pages.translator(lang)
    who = await pages.caller(request, credentials, what=_("The processes"))
    if not isinstance(who, Principal):
        return who
    filters, error = _filters(request, lang)
    store = request.app.state.robocore.store
    records = await run_in_threadpool(store.list_processes)
    choices = {"service": sorted({r.service for r in records if r.service}),
               "labo": sorted({r.lab for r in records if r.lab})}
    values = _common(request, who, _, choices=choices, error=error, data=None)
    if filters is None:
        return pages.page(request, "processes.html", 400, **values)
    data = await run_in_threadpool(process_data.process_list, store, filters, _today())
    return pages.page(request, "processes.html", **{**values, "data": data, "filters": filters})


def _charts(view: process_data.ProcessView, lang: str, _: Any) -> tuple[BarChart, BarChart] | None:
    if not any(m.minutes or m.items_done or m.items_failed for m in view.months):
        return None
    months = [dates.format_date(m.month, "MMM yy", locale=formatting.locale_of(lang)) for m in view.months]
    hours = chart(_("Hours saved per month"), months, {_("Hours saved"): [m.hours for m in view.months]}, unit="h")
    items = chart(_("Items processed per month"), months,
                  {_("done"): [m.items_done for m in view.months],
                   _("business errors"): [m.business_errors for m in view.months],
                   _("application errors"): [m.application_errors for m in view.months]})
    return hours, items


@router.get("/processus/{name:path}/modifier", response_class=HTMLResponse)
async def edit_form(request: Request, name: str,
                    credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """The form that edits a process's record (engineers and admins)."""
    return await _edit(request, name, credentials, None)


@router.post("/processus/{name:path}/modifier", response_class=HTMLResponse)
async def edit_submit(request: Request, name: str,
                      credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """Apply the form with the API's rules: 303 to the process's page, or the form again with its errors (400)."""
    return await _edit(request, name, credentials, request)


async def _edit(request: Request, name: str, credentials: HTTPAuthorizationCredentials | None,
                submitted: Request | None) -> Response:
    lang = pages.language(request)
    _ = pages.translator(lang)
    who = await pages.caller(request, credentials, roles=EDITORS, what=_("Editing a process"))
    if not isinstance(who, Principal):
        return who
    store = request.app.state.robocore.store
    record = await run_in_threadpool(store.get_process, name)
    if record is None:
        return _absent(request, who, name, _)
    form, errors = process_data.form_values(record), {}
    if submitted is not None:
        posted = await submitted.form()
        given = {field: str(posted.get(field) or "") for field in process_data.FORM_FIELDS if field in posted}
        data, refused = process_data.form_changes(given)
        errors = {field: render(exc.message, lang) for field, exc in refused.items()}
        if not errors:
            try:
                await run_in_threadpool(processes.update, store, name, data, who.name)
            except UnknownProcess:
                return _absent(request, who, name, _)
            except InvalidProcess as exc:  # a rule across fields, should one appear
                errors = {exc.field: render(exc.message, lang)}
            else:
                log.info("web.process_edited", process=name, by=who.name, fields=sorted(data))
                suffix = f"?lang={quote(lang)}" if request.query_params.get("lang") else ""
                return RedirectResponse(process_url(name) + suffix, status_code=303)
        form = {**form, **given}
    values = _common(request, who, _, record=record, form=form, errors=errors)
    return pages.page(request, "process_edit.html", 400 if errors else 200, **values)


def _absent(request: Request, who: Principal, name: str, _: Any) -> HTMLResponse:
    return pages.message(request, 404, _("Process not found"),
                         _("No process is named '%(name)s'. The list of processes shows those that exist.",
                           name=name), user=who.name)


@router.get("/processus/{name:path}", response_class=HTMLResponse)
async def process_page(request: Request, name: str,
                       credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """A process: its record, figures with their formulas, months, runs, failure causes, minutes over time."""
    lang = pages.language(request)
    _ = pages.translator(lang)
    who = await pages.caller(request, credentials, what=_("A process's page"))
    if not isinstance(who, Principal):
        return who
    filters, error = _filters(request, lang)
    store = request.app.state.robocore.store
    values = _common(request, who, _, name=name, error=error, data=None, charts=None,
                     stage_labels=STAGE_LABELS)
    if filters is None:
        record = await run_in_threadpool(store.get_process, name)
        if record is None:
            return _absent(request, who, name, _)
        return pages.page(request, "process.html", 400, **values, record=record)
    try:
        view = await run_in_threadpool(process_data.process_view, store, name, filters, _today())
    except UnknownProcess:
        return _absent(request, who, name, _)
    return pages.page(request, "process.html", **{**values, "data": view, "record": view.record,
                                                  "filters": view.filters, "charts": _charts(view, lang, _)})
