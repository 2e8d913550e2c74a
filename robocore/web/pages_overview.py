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
from urllib.parse import quote

import structlog
from babel import dates
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from robocore import i18n
from robocore.server.auth import Principal, bearer, current
from robocore.server.errors import ApiError
from robocore.settings import get_settings
from robocore.web import formatting
from robocore.web.charts import chart
from robocore.web.overview_data import OTHERS, PRESETS, FilterError, Filters, overview, parse_filters
from robocore.web.templates import render

log = structlog.get_logger("robocore.web.overview")
router = APIRouter(include_in_schema=False)
ROLES = ("manager", "engineer")  # and admin, who holds every role


def _language(request: Request) -> str:
    return getattr(request.state, "language", None) or i18n.current()


def _translator(lang: str) -> Any:
    """The templates' `_`: the catalogue's text in `lang`, `%(name)s` placeholders filled (escaped on output)."""
    catalogue = i18n.translations(lang)

    def translate(message: str, **values: Any) -> str:
        text = catalogue.gettext(message)
        return text % values if values else text

    return translate


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = _language(request)
    values.setdefault("user", None)
    body = render(template, lang=lang, _=_translator(lang), **values)
    return HTMLResponse(body, status_code=status)


def _message(request: Request, status: int, title: str, text: str, *, sign_in: bool | str = False,
             user: str | None = None) -> HTMLResponse:
    """A short page explaining a refusal (no figure).

    Args:
        sign_in: True to say how to sign in with a token; a sign-in address to offer its button.
    """
    return _page(request, "overview.html", status, refusal={"title": title, "text": text, "sign_in": sign_in},
                 user=user)


async def _caller(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal | Response:
    """The caller, or the answer that replaces the page (sign-in redirect, 401, 403, 429)."""
    _ = _translator(_language(request))
    try:
        who = await current(request, credentials)
    except ApiError as exc:
        if exc.status == 401 and credentials is None and getattr(request.app.state, "oidc", None) is not None:
            # a page with the sign-in button rather than a silent redirect: after signing out, people land
            # on `/` and must not be sent straight back to the provider (and ProConnect wants its button)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return _message(request, 401, _("Sign-in required"),
                            _("This page is for managers, engineers and administrators: sign in with your "
                              "organisation's account."), sign_in=f"/connexion?next={quote(target, safe='')}")
        if exc.status == 401:
            return _message(request, 401, _("Sign-in required"),
                            _("This page is for managers, engineers and administrators. Sign in through "
                                      "your organisation's account when the server is configured for it "
                                      "(ROBOCORE_OIDC_ISSUER), or send an API token in the header "
                                      "'Authorization: Bearer rbc_…' (scripts)."), sign_in=True)
        response = _message(request, exc.status, _("Access refused"), i18n.render(exc.message))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
    if not who.has(*ROLES):
        log.warning("page.forbidden", token=who.name, role=who.role, path=request.url.path)
        return _message(request, 403, _("Access refused"),
                        _("The overview is for managers, engineers and administrators; your role "
                                  "(%(role)s) does not give access to it.", role=who.role), user=who.name)
    return who


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
    who = await _caller(request, credentials)
    if not isinstance(who, Principal):
        return who
    lang = _language(request)
    _ = _translator(lang)
    today = datetime.now(UTC).date()
    params = dict(request.query_params)
    try:
        filters: Filters | None = parse_filters(params, today)
        error = None
    except FilterError as exc:
        filters, error = None, exc.fr if lang == "fr" else exc.en
    store = request.app.state.robocore.store
    names = await run_in_threadpool(_choices, store)
    values: dict[str, Any] = {"user": who.name, "params": params, "presets": PRESETS, "choices": names,
                              "error": error, "data": None, "chart": None}
    if filters is None:
        return _page(request, "overview.html", 400, **values)
    data = await run_in_threadpool(overview, store, filters, today, get_settings().annual_hours)
    values.update(data=data, filters=filters, chart=_chart(data, lang, _) if data.series else None)
    return _page(request, "overview.html", **values)


def _choices(store: Any) -> dict[str, list[str]]:
    """The names offered in the filters: the process records' names, services and labs."""
    records = store.list_processes()
    return {"processus": sorted({r.name for r in records}),
            "service": sorted({r.service for r in records if r.service}),
            "labo": sorted({r.lab for r in records if r.lab})}
