"""GET /metrics: Prometheus text read from the store at scrape time (runs, items, hours saved, queue)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED
from robocore.server.state import ServerState, server_state
from robocore.statuses import ItemStatus, RunStatus
from robocore.store import Store

router = APIRouter(tags=["operations"], responses=AUTHENTICATED)


class StoreCollector(Collector):
    """Every figure is read from the store, so several server processes report the same truth."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        runs = self.store.runs_by_status()
        gauge = GaugeMetricFamily("robocore_runs", "Exécutions par statut / runs by status", labels=["status"])
        for status in sorted(RunStatus):  # every status, even with no run: a series never vanishes
            gauge.add_metric([status.value], runs.get(status, 0))
        yield gauge
        items = self.store.items_by_status()
        gauge = GaugeMetricFamily("robocore_items", "Éléments par statut / work items by status", labels=["status"])
        for item_status in sorted(ItemStatus):
            gauge.add_metric([item_status.value], items.get(item_status, 0))
        yield gauge
        minutes = self.store.minutes_saved()
        yield CounterMetricFamily("robocore_saved_minutes", "Minutes de travail manuel économisées / "
                                  "manual minutes saved (ledger)", value=minutes)
        yield GaugeMetricFamily("robocore_saved_hours", "Heures économisées / hours saved", value=minutes / 60)
        yield GaugeMetricFamily("robocore_queue_depth", "Exécutions en attente / queued runs",
                                value=runs.get(RunStatus.QUEUED, 0))


def registry_for(store: Store) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return registry


@router.get("/metrics", response_class=Response, summary="Métriques Prometheus / Prometheus metrics",
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(state: ServerState = Depends(server_state),
            who: Principal = Depends(require("engineer", "manager"))) -> Response:
    """Runs and items by status, minutes and hours saved, queue depth (scrape with a bearer token)."""
    return Response(generate_latest(registry_for(state.store)), media_type=CONTENT_TYPE_LATEST)
