"""The services and labs pages: `GET /services` and `GET /labos`, server-rendered, no script.

Who: as the overview (robocore.web.pages_overview): managers, engineers and admins; an agent gets a
403 page. Filters are the overview's (`periode`, `du`, `au`, and `processus`, `service`, `labo` to narrow
the scope), read by robocore.web.overview_data.parse_filters; a bad one shows its message (400). One row
per service (the service recorded with each entry and run) or per lab (the process record's), with
links to the overview and to the processes of that group, and hours per month stacked by group.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from babel import dates
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from robocore.i18n import render
from robocore.server.auth import Principal, bearer
from robocore.store.groups import Dimension
from robocore.web import formatting, pages
from robocore.web.charts import chart
from robocore.web.groups_data import OTHERS, Groups, groups
from robocore.web.overview_data import PRESETS, FilterError, parse_filters

router = APIRouter(include_in_schema=False)


def _names(dimension: Dimension, _: Any) -> dict[str, str]:
    """The page's texts that depend on the dimension (translated)."""
    if dimension is Dimension.SERVICE:
        return {"title": _("Hours saved per service"), "group": _("Service"), "none": _("(no service)"),
                "chart": _("Hours saved per month, by service"), "path": "/services",
                "caption": _("Figures per service for the period")}
    return {"title": _("Hours saved per lab"), "group": _("Lab"), "none": _("(no lab)"),
            "chart": _("Hours saved per month, by lab"), "path": "/labos",
            "caption": _("Figures per lab for the period")}


def _chart(data: Groups, lang: str, _: Any, texts: dict[str, str]) -> Any:
    months = [dates.format_date(m, "MMM yy", locale=formatting.locale_of(lang)) for m in data.months]
    series: dict[str, Sequence[float]] = {}
    for name, values in data.series:
        series[_("others") if name == OTHERS else texts["none"] if name is None else name] = values
    return chart(texts["chart"], months, series, unit="h")


async def _page(request: Request, credentials: HTTPAuthorizationCredentials | None, dimension: Dimension) -> Response:
    lang = pages.language(request)
    _ = pages.translator(lang)
    texts = _names(dimension, _)
    who = await pages.caller(request, credentials, what=texts["title"])
    if not isinstance(who, Principal):
        return who
    today = datetime.now(UTC).date()
    params = dict(request.query_params)
    nav = "services" if dimension is Dimension.SERVICE else "labs"
    values: dict[str, Any] = {"user": who.name, "nav": nav, "roles": pages.roles_of(who), "params": params,
                              "presets": PRESETS, "texts": texts, "error": None, "data": None, "chart": None}
    try:
        filters = parse_filters(params, today)
    except FilterError as exc:
        values["error"] = render(exc.message, lang)
        return pages.page(request, "groups.html", 400, **values)
    data = await run_in_threadpool(groups, request.app.state.robocore.store, dimension, filters, today)
    values.update(data=data, chart=_chart(data, lang, _, texts) if data.series else None)
    return pages.page(request, "groups.html", **values)


@router.get("/services", response_class=HTMLResponse)
async def services_page(request: Request,
                        credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """Hours saved, items and runs per service for the filters of the URL."""
    return await _page(request, credentials, Dimension.SERVICE)


@router.get("/labos", response_class=HTMLResponse)
async def labs_page(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Response:
    """Hours saved, items and runs per lab for the filters of the URL."""
    return await _page(request, credentials, Dimension.LAB)
