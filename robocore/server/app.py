"""The FastAPI application: REST API under /api/v1 (OpenAPI at /api/v1/openapi.json), /metrics."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from robocore import __version__, settings
from robocore.executors.base import Executor
from robocore.server import (
    errors,
    metrics,
    routes_admin,
    routes_reports,
    routes_robots,
    routes_run_data,
    routes_runs,
    routes_schedules,
)
from robocore.server.auth import Verifier
from robocore.server.catalog import Catalog
from robocore.server.state import Scheduler, ServerState, server_state
from robocore.store import Store

log = structlog.get_logger("robocore.server")
API = "/api/v1"
DESCRIPTION = """API de Robocore : robots, exécutions, planifications, rapports d'heures économisées.

Authentification : `Authorization: Bearer rbc_…` (jeton créé par `robo tokens create`).
Rôles : `agent` (robots autorisés à ses groupes, ses propres exécutions), `engineer` (tous les robots,
exécutions et planifications), `manager` (rapports, lecture seule), `admin` (jetons, autorisations, tout).
Erreurs : `{"code", "detail": "français / English", "erreur", "error"}`."""
health_router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """The server answers and its database too."""

    status: str
    database: str


@health_router.get(f"{API}/health", response_model=Health, responses={503: {"model": Health}},
                   summary="Santé / health (sans jeton)")
async def health(state: ServerState = Depends(server_state)) -> Any:
    """Open to all (load balancers): 200 when the database answers, else 503."""
    try:
        await run_in_threadpool(state.store.ping)
    except Exception as exc:  # any driver error means "not healthy"
        log.error("api.health_failed", error=str(exc))
        return JSONResponse({"status": "indisponible", "database": "injoignable / unreachable"}, status_code=503)
    return {"status": "ok", "database": state.store.dialect}


class AccessLog:
    """One JSON event per request (method, path, status, duration): `robo serve` logs this way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client") or ("?", 0)
            log.info("http.request", method=scope["method"], path=scope["path"], status=status[0],
                     duration_ms=round((time.perf_counter() - started) * 1000, 1), client=client[0])


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, plus the JSON launch body that the launch route parses itself."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["LaunchRequest"] = routes_runs.LaunchRequest.model_json_schema(
            ref_template="#/components/schemas/{model}")
        app.openapi_schema = schema
    return app.openapi_schema


def _docs(app: FastAPI) -> None:
    """Swagger UI served from the package itself (closed networks: no CDN)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return
    app.mount(f"{API}/docs/static", StaticFiles(directory=swagger_ui_path), name="swagger-static")

    @app.get(f"{API}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"{API}/openapi.json", title="Robocore — API",
                                   swagger_js_url=f"{API}/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url=f"{API}/docs/static/swagger-ui.css",
                                   swagger_favicon_url=f"{API}/docs/static/favicon-32x32.png")


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
                   metrics):
        app.include_router(module.router)
    app.include_router(health_router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    _docs(app)
    if access_log:
        app.add_middleware(AccessLog)
    return app
