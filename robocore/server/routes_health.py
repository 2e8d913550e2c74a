"""Health without a token: liveness (the process answers) and readiness (database, broker, scheduler leader).

Each probe runs in this module's own small thread pool, never in the server's request thread pool (a
stuck broker holding every request thread must not silence health), and is awaited at most for its
timeout. Results are cached a few seconds and shared by concurrent requests, so a scrape storm costs
the database and the broker one check per period. Nothing secret is shown: no URL, no password.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from robocore.i18n import N_
from robocore.i18n import gettext as _
from robocore.server.state import ServerState, server_state
from robocore.settings import get_settings

log = structlog.get_logger("robocore.server.health")
API = "/api/v1"
router = APIRouter(tags=["operations"])
DATABASE_CACHE_SECONDS = 1.0
BROKER_CACHE_SECONDS = 5.0
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="robocore-health")


class Check(BaseModel):
    """One part of the deployment as this server sees it."""

    status: str                        # ok, unreachable, not_used, leading, no_leader, unknown
    required: bool                     # a required part down makes readiness answer 503
    detail: str | None = None          # what failed, in our words (never a URL or a password)
    checked_at: float | None = None    # Unix time of the check (cached a few seconds)
    data: dict[str, Any] | None = None


class Health(BaseModel):
    """Readiness: `status` and `database` as before, and each part separately under `checks`."""

    status: str
    database: str
    checks: dict[str, Check] = {}


class Live(BaseModel):
    """Liveness: the process answers (no input/output at all)."""

    status: str


class Probe:
    """A check run in the health pool, cached `ttl` seconds, shared by concurrent callers, awaited at most `timeout`."""

    def __init__(self, check: Callable[[], dict[str, Any]], ttl: float) -> None:
        self.check, self.ttl = check, ttl
        self._lock = threading.Lock()
        self._result: tuple[float, dict[str, Any]] | None = None
        self._running: Future[dict[str, Any]] | None = None

    def _start(self) -> Future[dict[str, Any]]:
        with self._lock:
            if self._running is None or self._running.done():
                self._running = _POOL.submit(self._run)
            return self._running

    def _run(self) -> dict[str, Any]:
        result = self.check()
        self._result = (time.monotonic(), result)
        return result

    async def result(self, timeout: float) -> dict[str, Any]:
        """The cached result when fresh, else a new (or the running) check's, or an `unreachable` one at the timeout."""
        cached = self._result
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self._start()), timeout)
        except TimeoutError:
            return {"status": "unreachable", "detail": _("no answer in {seconds} s", seconds=format(timeout, "g"))}
        except Exception as exc:
            return {"status": "unreachable", "detail": _safe(exc)}


def _safe(exc: BaseException) -> str:
    from robocore.dispatch import redact

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return redact(text)[:300]


def _database_check(state: ServerState) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        try:
            state.store.ping()
        except Exception as exc:  # any driver error means "not ready"
            log.error("api.health_database_failed", error=_safe(exc))
            return {"status": "unreachable", "detail": _safe(exc), "checked_at": time.time()}
        return {"status": "ok", "data": {"dialect": state.store.dialect}, "checked_at": time.time()}
    return check


def _broker_check(state: ServerState) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        from robocore import dispatch

        if state.executor is None and dispatch.executor_name() != "celery":
            return {"status": "not_used", "data": {"executor": dispatch.executor_name()}}
        try:
            executor = state.get_executor()
            probe = getattr(executor, "check", None)
            if probe is None:  # an executor without a broker (local, a plugin's)
                return {"status": "not_used", "data": {"executor": executor.name}}
            probe(get_settings().broker_timeout)
        except Exception as exc:
            log.error("api.health_broker_failed", error=_safe(exc))
            return {"status": "unreachable", "detail": _safe(exc), "data": {"executor": dispatch.executor_name()},
                    "checked_at": time.time()}
        return {"status": "ok", "data": {"executor": executor.name}, "checked_at": time.time()}
    return check


def _scheduler_check(state: ServerState) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        from robocore.scheduling.status import leader_status

        leader = leader_status(state.store)
        return {"status": "leading" if leader.leading else "no_leader", "data": leader.as_json(),
                "checked_at": time.time()}
    return check


def _probes(request: Request, state: ServerState) -> dict[str, Probe]:
    """This app's probes (made on the first health request)."""
    probes: dict[str, Probe] | None = getattr(request.app.state, "health_probes", None)
    if probes is None:
        probes = {"database": Probe(_database_check(state), DATABASE_CACHE_SECONDS),
                  "broker": Probe(_broker_check(state), BROKER_CACHE_SECONDS),
                  "scheduler": Probe(_scheduler_check(state), DATABASE_CACHE_SECONDS)}
        request.app.state.health_probes = probes
    return probes


@router.get(f"{API}/health/live", response_model=Live, summary=N_("Liveness (no token)"))
async def live() -> dict[str, str]:
    """200 while the process answers requests (no database, no broker: restart it only when this fails)."""
    return {"status": "ok"}


async def _ready(request: Request, state: ServerState) -> Any:
    settings = get_settings()
    probes = _probes(request, state)
    # the broker check may open a connection and publish nothing; its own timeouts bound it, plus a margin
    database, broker, scheduler = await asyncio.gather(
        probes["database"].result(settings.database_timeout + 1),
        probes["broker"].result(2 * settings.broker_timeout + 1),
        probes["scheduler"].result(settings.database_timeout + 1))
    checks = {"database": Check(required=True, **database),
              "broker": Check(required=broker["status"] != "not_used", **broker),
              "scheduler": Check(required=False, **scheduler)}
    ready = all(c.status in ("ok", "not_used", "leading", "no_leader") for c in checks.values() if c.required)
    body = Health(status="ok" if ready else "indisponible",
                  database=state.store.dialect if database["status"] == "ok" else _("unreachable"),
                  checks=checks)
    if not ready:
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    return body


@router.get(f"{API}/health", response_model=Health, responses={503: {"model": Health}},
            summary=N_("Readiness (no token)"))
async def health(request: Request, state: ServerState = Depends(server_state)) -> Any:
    """Open to all (load balancers): 200 when the database (and the broker, with Celery) answer, else 503.

    The scheduler leader is reported (who, last heartbeat) but never makes this server unready.
    """
    return await _ready(request, state)


@router.get(f"{API}/health/ready", response_model=Health, responses={503: {"model": Health}},
            summary=N_("Readiness (no token)"))
async def ready(request: Request, state: ServerState = Depends(server_state)) -> Any:
    """The same as /api/v1/health, under the name orchestrators expect."""
    return await _ready(request, state)
