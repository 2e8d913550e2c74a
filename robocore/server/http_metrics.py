"""HTTP figures of one app for /metrics: latency by route template, method and status class; 401 and 429.

A pure ASGI middleware (no `BaseHTTPMiddleware`: it would buffer streamed responses such as the
run events). Requests are labelled by their route's template (`/api/v1/runs/{run_id}`), never
by the raw path: a label per run id would grow without bound. A path no route matches is
labelled `(aucune)`. The figures live on the app (`app.state.http_metrics`), not in a
process-wide registry: two apps in one process (tests) never mix their counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from robocore.i18n import gettext as _

UNMATCHED = "(aucune)"
AUTH_FAILURES = (401, 429)  # refused credentials, and too many failures


class HttpStats(Collector):
    """The app's request histogram and authentication-failure counter, collected at scrape time."""

    def __init__(self) -> None:
        self.latency = Histogram("robocore_http_request_duration_seconds",
                                 _("HTTP request latency by route template"),
                                 ["route", "method", "status"], registry=None)
        self.auth_failures = Counter("robocore_http_auth_failures",
                                     _("Authentication failures (401, 429) by route"),
                                     ["route", "status"], registry=None)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.latency.labels(route, method, f"{status // 100}xx").observe(seconds)
        if status in AUTH_FAILURES:
            self.auth_failures.labels(route, str(status)).inc()

    def collect(self) -> Iterator[Metric]:
        yield from self.latency.collect()
        yield from self.auth_failures.collect()


def route_template(scope: Scope) -> str:
    """The template of the route that served (or would serve) this request, e.g. `/api/v1/runs/{run_id}`."""
    route = scope.get("route")
    if route is None:  # answered before routing (a body limit) or a wrong method: find the route it was for
        app = scope.get("app")
        partial = None
        for candidate in getattr(getattr(app, "router", None), "routes", ()):
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
            partial = partial or (candidate if match is Match.PARTIAL else None)
        route = route or partial
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED


class RequestObserver:
    """A pure ASGI middleware calling `observed` once per HTTP request, after its last byte, with its status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def observed(self, scope: Scope, status: int, seconds: float) -> None:
        raise NotImplementedError

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
            self.observed(scope, status[0], time.perf_counter() - started)


class HttpMetrics(RequestObserver):
    """Every HTTP request's duration (until its last byte) observed into `stats`."""

    def __init__(self, app: ASGIApp, stats: HttpStats) -> None:
        super().__init__(app)
        self.stats = stats

    def observed(self, scope: Scope, status: int, seconds: float) -> None:
        self.stats.observe(route_template(scope), scope["method"], status, seconds)


def install(app: Starlette) -> HttpStats:
    """Add the middleware to a Starlette/FastAPI app and keep its figures on `app.state.http_metrics`."""
    stats = HttpStats()
    app.state.http_metrics = stats
    app.add_middleware(HttpMetrics, stats=stats)
    return stats
