"""GET /metrics (robocore.server.metrics, robocore.server.http_metrics, robocore.store.metrics_queries), on
SQLite and PostgreSQL: HTTP latency by route template, 401s, run durations, lease takeovers, schedule fires
by status, the scheduler's leadership."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from robocore import runs
from robocore.loader import load_robot
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import FireStatus
from robocore.store import Store
from robocore.store.purge import TAKEOVER_STEP
from tests.integration.api_support import FakeExecutor, bearer, robots_folder

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class Leading:
    """A scheduler service that leads (what the API reads of it)."""

    is_leader = True

    def list_schedules(self) -> list[Any]:
        return []

    def set_enabled(self, name: str, enabled: bool) -> Any:
        raise NotImplementedError

    def run_now(self, name: str) -> str:
        raise NotImplementedError


@pytest.fixture
def store(store_url: str, robo_home: Path) -> Iterator[Store]:
    opened = Store(store_url)
    yield opened
    opened.close()


def _scrape(client: TestClient, headers: dict[str, str]) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _robot_run(store: Store, robots: Path) -> str:
    """A real run of lot-50 (5 items), finished."""
    return asyncio.run(runs.start(load_robot(robots / "lot50"), store, {"nombre": 5})).run_id


def test_http_latency_is_labelled_by_route_template_and_auth_failures_are_counted(store: Store,
                                                                                   tmp_path: Path) -> None:
    """Requests on two runs give one series `/api/v1/runs/{run_id}` (never the raw ids); three bad tokens
    count three 401s on that route; a path no route serves is `(aucune)`."""
    robots = robots_folder(tmp_path)
    first, second = _robot_run(store, robots), _robot_run(store, robots)
    app = create_app(store, executor=FakeExecutor(), robots_dir=robots)
    engineer = bearer(create_token(store, "ingenieur", "engineer"))
    with TestClient(app) as client:
        for run_id in (first, second, first):
            assert client.get(f"/api/v1/runs/{run_id}", headers=engineer).status_code == 200
        assert client.get(f"/api/v1/runs/{first}/items", headers=engineer).status_code == 200
        for _ in range(3):
            assert client.get(f"/api/v1/runs/{first}", headers=bearer("rbc_faux")).status_code == 401
        assert client.get("/api/v1/nulle-part", headers=engineer).status_code == 404
        samples = _scrape(client, engineer)

    count = "robocore_http_request_duration_seconds_count"
    assert _value(samples, count, route="/api/v1/runs/{run_id}", method="GET", status="2xx") == 3
    assert _value(samples, count, route="/api/v1/runs/{run_id}", method="GET", status="4xx") == 3
    assert _value(samples, count, route="/api/v1/runs/{run_id}/items", method="GET", status="2xx") == 1
    assert _value(samples, count, route="(aucune)", method="GET", status="4xx") == 1
    assert not [key for key in samples if first in str(key) or second in str(key)]
    assert _value(samples, "robocore_http_auth_failures_total", route="/api/v1/runs/{run_id}", status="401") == 3


def test_store_figures_fires_takeovers_durations_and_leadership(store: Store, tmp_path: Path) -> None:
    """Fires by status come from schedule_fires; a run whose lease expired and was taken over counts one
    takeover; finished runs fill the duration histogram; a leading scheduler reads 1, none reads 0."""
    robots = robots_folder(tmp_path)
    t0 = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    for n, status in enumerate((FireStatus.LAUNCHED, FireStatus.LAUNCHED, FireStatus.SKIPPED_OVERLAP)):
        store.record_fire("quotidien", t0 + dt.timedelta(days=n), status)
    taken = _robot_run(store, robots)
    with store.engine.begin() as conn:  # as if a worker died while running it a minute ago
        conn.execute(text("UPDATE runs SET status = 'running', owner = 'mort', finished_at = NULL, "
                          "heartbeat_at = :old WHERE id = :i"),
                     {"old": dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1), "i": taken})
    asyncio.run(runs.execute(taken, store))
    notes = [e.message for e in store.events(taken) if e.step == TAKEOVER_STEP]
    assert len(notes) == 1 and notes[0] is not None and notes[0].startswith("bail repris à mort par ")
    assert "lease" not in notes[0]  # one language: the one active when it was written
    _robot_run(store, robots)
    engineer = bearer(create_token(store, "ingenieur", "engineer"))

    with TestClient(create_app(store, Leading(), executor=FakeExecutor(), robots_dir=robots)) as client:
        leading = _scrape(client, engineer)
    with TestClient(create_app(store, executor=FakeExecutor(), robots_dir=robots)) as client:
        alone = _scrape(client, engineer)

    assert _value(leading, "robocore_schedule_fires_total", status="launched") == 2
    assert _value(leading, "robocore_schedule_fires_total", status="skipped_overlap") == 1
    assert ("robocore_schedule_fires_total", (("status", "missed"),)) in leading  # a series never vanishes
    assert _value(leading, "robocore_lease_takeovers_total") == 1
    assert _value(leading, "robocore_run_duration_seconds_count", robot="lot-50") == 2
    assert _value(leading, "robocore_run_duration_seconds_bucket", robot="lot-50", le="+Inf") == 2
    assert _value(leading, "robocore_run_duration_seconds_bucket", robot="lot-50", le="28800.0") == 2
    assert _value(leading, "robocore_run_duration_seconds_sum", robot="lot-50") > 0
    assert _value(leading, "robocore_scheduler_leader") == 1
    assert _value(alone, "robocore_scheduler_leader") == 0
    assert _value(leading, "robocore_runs", status="succeeded") == 2
