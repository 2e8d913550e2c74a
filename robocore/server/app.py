"""The FastAPI application: REST API under /api/v1 (OpenAPI at /api/v1/openapi.json), /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from robocore import __version__, i18n, settings
from robocore.executors.base import Executor
from robocore.i18n import N_
from robocore.server import (
    errors,
    headers,
    http_metrics,
    language,
    limits,
    metrics,
    routes_admin,
    routes_attended,
    routes_health,
    routes_ideas,
    routes_me,
    routes_processes,
    routes_reports,
    routes_robots,
    routes_run_data,
    routes_runs,
    routes_schedules,
)
from robocore.server.auth import Verifier
from robocore.server.catalog import Catalog
from robocore.server.state import Scheduler, ServerState
from robocore.server.uploads import FORM_OVERHEAD
from robocore.store import Store
from robocore.web import (
    pages_groups,
    pages_legal,
    pages_overview,
    pages_process,
    pages_runs,
    routes_auth,
    routes_tray_login,
)

log = structlog.get_logger("robocore.server")
API = "/api/v1"
DESCRIPTION = N_("""Robocore's API: robots, runs, schedules, reports of hours saved.

Authentication: `Authorization: Bearer rbc_…` (a token made by `robo tokens create`).
Roles: `agent` (the robots granted to their groups, their own runs), `engineer` (every robot,
runs, schedules and reports), `manager` (reports, processes, read only),
`admin` (tokens, grants, everything).
Errors: `{"code", "detail", "erreur", "error"}`: `detail` in the language asked for (`?lang=en`,
Accept-Language; French by default), `erreur` in French, `error` in English.""")
# FastAPI's own words on every operation, in the catalogues too
_FASTAPI_WORDS = (N_("Successful Response"), N_("Validation Error"))
_NOT_TEXT = frozenset({"example", "examples", "default", "enum", "const"})  # values, never translated
class AccessLog(http_metrics.RequestObserver):
    """One JSON event per request (method, path, status, duration): `robo serve` logs this way."""

    def observed(self, scope: Scope, status: int, seconds: float) -> None:
        client = scope.get("client") or ("?", 0)
        log.info("http.request", method=scope["method"], path=scope["path"], status=status,
                 duration_ms=round(seconds * 1000, 1), client=client[0])


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document in the request's language (robocore.server.language), plus the JSON launch body
    that the launch route parses itself.

    Summaries and descriptions are English msgids (`N_`): the document is generated once, in English, then
    translated once per language and kept.
    """
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["LaunchRequest"] = routes_runs.LaunchRequest.model_json_schema(
            ref_template="#/components/schemas/{model}")
        app.openapi_schema = schema
    documents: dict[str, dict[str, Any]] = app.state.openapi_documents
    lang = i18n.current()
    if lang not in documents:
        documents[lang] = translated_texts(app.openapi_schema, i18n.translations(lang).gettext)
    return documents[lang]


def translated_texts(node: Any, translate: Callable[[str], str]) -> Any:
    """A copy of an OpenAPI document whose `summary` and `description` texts went through `translate`
    (a text not in the catalogues comes back as it is); examples, defaults and enums are left alone."""
    if isinstance(node, dict):
        return {key: (translate(value) if key in ("summary", "description") and isinstance(value, str)
                      else value if key in _NOT_TEXT else translated_texts(value, translate))
                for key, value in node.items()}
    if isinstance(node, list):
        return [translated_texts(value, translate) for value in node]
    return node


def _docs(app: FastAPI) -> None:
    """Swagger UI served from the package itself (closed networks: no CDN)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return
    app.mount(f"{API}/docs/static", StaticFiles(directory=swagger_ui_path), name="swagger-static")

    @app.get(f"{API}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=f"{API}/openapi.json", title="Robocore — API",
                                   swagger_js_url=f"{API}/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url=f"{API}/docs/static/swagger-ui.css",
                                   swagger_favicon_url=f"{API}/docs/static/favicon-32x32.png")
        page.headers["Content-Security-Policy"] = headers.page_policy(bytes(page.body))  # its inline script
        return page


def create_app(store: Store, scheduler: Scheduler | None = None, executor: Executor | None = None, *,
               robots_dir: Path | None = None, access_log: bool = False) -> FastAPI:
    """The API over a store; runs go to `executor` (default: ROBOCORE_EXECUTOR, made at first launch).

    Args:
        scheduler: the scheduler service behind /schedules (503 there when None).
        robots_dir: the robots offered (default ROBOCORE_ROBOTS, else ./robots).
        access_log: log each request as a structlog event.
    """
    settings.get_settings()  # a wrong ROBOCORE_* variable fails the start, not a request
    state = ServerState(store=store, catalog=Catalog(robots_dir or settings.robots_dir()),
                        verifier=Verifier(store), scheduler=scheduler, executor=executor)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info("server.started", database=store.dialect, robots=str(state.catalog.folder))
        yield
        state.stopping.set()  # live event streams end, so shutdown is not held by them
        log.info("server.stopping")

    app = FastAPI(title="Robocore", version=__version__, description=DESCRIPTION, openapi_url=f"{API}/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.robocore, app.state.verifier = state, state.verifier
    errors.install(app)
    for module in (routes_robots, routes_runs, routes_run_data, routes_schedules, routes_reports, routes_admin,
                   metrics, routes_processes, routes_ideas, routes_attended):
        app.include_router(module.router)
    app.include_router(routes_health.router)  # liveness and readiness, no token
    app.include_router(routes_me.router)  # who am I: a token or a signed-in person
    routes_auth.install(app)  # sign-in pages and session cookies, only when ROBOCORE_OIDC_ISSUER is set
    routes_tray_login.install(app)  # the tray's sign-in through the browser (RFC 8252 loopback), only with OIDC
    app.include_router(pages_overview.router)  # the managers' overview at / (robocore.web)
    for page_module in (pages_process, pages_groups, pages_runs, pages_legal):  # and the footer's pages
        app.include_router(page_module.router)
    app.state.openapi_documents = {}  # the OpenAPI document per language, made at its first request
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    _docs(app)
    from robocore.web.static import install_static  # the pages' CSS, fonts and DSFR under /static

    install_static(app)
    # the last added runs first: the access log sees every answer, the security headers go on every
    # answer (413 included), and bodies are bounded before routing and authentication read them
    app.add_middleware(limits.BodyLimit, body_max=settings.get_settings().json_max_kb * 1024,
                       form_max=state.upload_max_bytes + FORM_OVERHEAD)
    app.add_middleware(language.Language)  # outside the body limit: a 413 too is in the caller's language
    app.add_middleware(headers.SecurityHeaders, cacheable=(f"{API}/docs/static/",))
    if access_log:
        app.add_middleware(AccessLog)
    http_metrics.install(app)  # outermost: every answer is timed by route, a 413 or 401 included
    return app
