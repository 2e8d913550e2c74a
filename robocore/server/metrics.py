"""GET /metrics: Prometheus text. Store figures are read at scrape time, so every server process of a
deployment reports the same truth; HTTP figures and the scheduler's leadership are this process's own.

Series: `robocore_runs{status}`, `robocore_items{status}`, `robocore_saved_minutes_total`,
`robocore_saved_hours`, `robocore_queue_depth`, `robocore_run_duration_seconds{robot}` (histogram),
`robocore_lease_takeovers_total`, `robocore_schedule_fires_total{status}`, `robocore_scheduler_leader`,
`robocore_http_request_duration_seconds{route,method,status}` (histogram),
`robocore_http_auth_failures_total{route,status}`.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from robocore.i18n import N_
from robocore.i18n import gettext as _
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED
from robocore.server.http_metrics import HttpStats
from robocore.server.state import Scheduler, ServerState, server_state
from robocore.statuses import FireStatus, ItemStatus, RunStatus
from robocore.store import Store

router = APIRouter(tags=["operations"], responses=AUTHENTICATED)


class StoreCollector(Collector):
    """Every figure is read from the store, so several server processes report the same truth."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        runs = self.store.runs_by_status()
        gauge = GaugeMetricFamily("robocore_runs", _("Runs by status"), labels=["status"])
        for status in sorted(RunStatus):  # every status, even with no run: a series never vanishes
            gauge.add_metric([status.value], runs.get(status, 0))
        yield gauge
        items = self.store.items_by_status()
        gauge = GaugeMetricFamily("robocore_items", _("Work items by status"), labels=["status"])
        for item_status in sorted(ItemStatus):
            gauge.add_metric([item_status.value], items.get(item_status, 0))
        yield gauge
        minutes = self.store.minutes_saved()
        yield CounterMetricFamily("robocore_saved_minutes", _("Manual minutes saved (ledger)"), value=minutes)
        yield GaugeMetricFamily("robocore_saved_hours", _("Hours saved"), value=minutes / 60)
        yield GaugeMetricFamily("robocore_queue_depth", _("Queued runs"),
                                value=runs.get(RunStatus.QUEUED, 0))
        yield self._durations()
        yield CounterMetricFamily("robocore_lease_takeovers", _("Run leases taken over after expiry (worker lost)"),
                                  value=self.store.lease_takeovers())
        fires = self.store.fires_by_status()
        counter = CounterMetricFamily("robocore_schedule_fires", _("Schedule fire times by outcome"), labels=["status"])
        for fire_status in sorted(FireStatus):
            counter.add_metric([fire_status.value], fires.get(fire_status, 0))
        yield counter

    def _durations(self) -> HistogramMetricFamily:
        """Finished runs' durations per robot, bucketed in SQL (from recording to the end: queue time included)."""
        family = HistogramMetricFamily("robocore_run_duration_seconds",
                                       _("Finished runs' duration (queue time included)"), labels=["robot"])
        for robot in self.store.run_durations():
            buckets = [(floatToGoString(bound), n) for bound, n in robot.buckets] + [("+Inf", robot.count)]
            family.add_metric([robot.robot], buckets, robot.total_seconds)
        return family


class LeadershipCollector(Collector):
    """Whether this process's scheduler service leads the scheduling (1) or stands by, or has none (0)."""

    def __init__(self, scheduler: Scheduler | None) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterator[Metric]:
        leads = bool(getattr(self.scheduler, "is_leader", False))
        yield GaugeMetricFamily("robocore_scheduler_leader", _("This server's scheduler leads (1) or not (0)"),
                                value=int(leads))


def registry_for(store: Store, scheduler: Scheduler | None = None, http: HttpStats | None = None) -> CollectorRegistry:
    """A registry for one scrape: the store's figures, this process's leadership and HTTP figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    registry.register(LeadershipCollector(scheduler))
    if http is not None:
        registry.register(http)
    return registry


@router.get("/metrics", response_class=Response, summary=N_("Prometheus metrics"),
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request, state: ServerState = Depends(server_state),
            who: Principal = Depends(require("engineer", "manager"))) -> Response:
    """Runs, items, durations, takeovers, fires, leadership, HTTP latency by route (scrape with a bearer token)."""
    http = getattr(request.app.state, "http_metrics", None)
    registry = registry_for(state.store, state.scheduler, http)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
