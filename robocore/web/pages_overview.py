"""The managers' overview page: `GET /` (and `/apercu`), server-rendered, no script.

Who: managers, engineers and admins, signed in (session cookie) or with a bearer token (scripts,
tests). An agent gets a 403 page; without credentials, a 401 page with a "Sign in" button leading to
`/connexion?next=<this view>` when OpenID Connect is configured, else saying how to sign in with a
token. Filters are a GET form (robocore.web.overview_data), so each view is a stable URL; a bad
filter shows its message on the page (400), never a 500. Figures are read in the thread pool (SQL sums).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from babel import dates
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from robocore.i18n import render
from robocore.server.auth import Principal, bearer
from robocore.settings import get_settings
from robocore.web import formatting, pages
from robocore.web.charts import chart
from robocore.web.overview_data import OTHERS, PRESETS, FilterError, Filters, overview, parse_filters
from robocore.web.pages_process import process_url

log = structlog.get_logger("robocore.web.overview")
router = APIRouter(include_in_schema=False)


def _chart(data: Any, lang: str, _: Any) -> Any:
    # short labels ("déc. 25"): twelve of them fit under the bars; the table repeats them beside the figures
    months = [dates.format_date(m, "MMM yy", locale=formatting.locale_of(lang)) for m in data.months]
    series = {name if name != OTHERS else _("others"): values for name, values in data.series}
    return chart(_("Hours saved per month, by process"), months, series, unit="h")


@router.get("/", response_class=HTMLResponse)
@router.get("/apercu", response_class=HTMLResponse)
async def overview_page(request: Request,
                        credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """The overview of hours saved for the filters of the URL."""
    lang = pages.language(request)
    _ = pages.translator(lang)
    who = await pages.caller(request, credentials, what=_("The overview"))
    if not isinstance(who, Principal):
        return who
    today = datetime.now(UTC).date()
    params = dict(request.query_params)
    try:
        filters: Filters | None = parse_filters(params, today)
        error = None
    except FilterError as exc:
        filters, error = None, render(exc.message, lang)
    store = request.app.state.robocore.store
    names = await run_in_threadpool(_choices, store)
    values: dict[str, Any] = {"user": who.name, "nav": "overview", "roles": pages.roles_of(who),
                              "process_url": process_url,
                              "params": params, "presets": PRESETS, "choices": names,
                              "error": error, "data": None, "chart": None}
    if filters is None:
        return pages.page(request, "overview.html", 400, **values)
    data = await run_in_threadpool(overview, store, filters, today, get_settings().annual_hours)
    values.update(data=data, filters=filters, chart=_chart(data, lang, _) if data.series else None)
    return pages.page(request, "overview.html", **values)


def _choices(store: Any) -> dict[str, list[str]]:
    """The names offered in the filters: the process records' names and labs, and the services of the records
    and of the recent runs."""
    records = store.list_processes()
    return {"processus": sorted({r.name for r in records}),
            "service": store.overview_services(),
            "labo": sorted({r.lab for r in records if r.lab})}
