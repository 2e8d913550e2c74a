"""POST /api/v1/attended-runs (issue 12, attended runs): roles, grants, idempotency, size bound, the ledger's
gross and net minutes; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import ItemStatus
from robocore.store import Store, utcnow
from tests.integration.api_support import FakeExecutor, bearer, robots_folder

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
START = NOW - dt.timedelta(minutes=40)


def report(**changes: Any) -> dict[str, Any]:
    """A lot-50 run attended for 40 minutes, 10 of them away: 48 done items, 2 rejected."""
    body: dict[str, Any] = {
        "robot": "lot-50", "status": "completed_with_errors", "inputs": {"nombre": 50},
        "counts": {"done": 48, "business_error": 2}, "started_at": START.isoformat(), "ended_at": NOW.isoformat(),
        "away": [[(START + dt.timedelta(minutes=5)).isoformat(), (START + dt.timedelta(minutes=15)).isoformat()]],
        "supervision_minutes": 30.0, "minutes_saved": 226.0, "local_run_id": "local-1", "host": "poste-42"}
    body.update(changes)
    return body


class Api:
    def __init__(self, store: Store, robots: Path) -> None:
        self.store = store
        self.client = TestClient(create_app(store, executor=FakeExecutor(), robots_dir=robots))
        self.agent = bearer(create_token(store, "agent-dupont", "agent", ["ddets"]))
        self.stranger = bearer(create_token(store, "agent-martin", "agent", ["autre"]))
        self.manager = bearer(create_token(store, "cheffe", "manager"))
        store.add_grant("lot-50", "ddets")

    def send(self, headers: dict[str, str], body: dict[str, Any] | None = None, key: str | None = "k-1",
             **extra: str) -> httpx.Response:
        sent = {**headers, **extra, **({"Idempotency-Key": key} if key else {})}
        return self.client.post("/api/v1/attended-runs", json=report() if body is None else body, headers=sent)


@pytest.fixture
def api(store_url: str, robo_home: Path, tmp_path: Path) -> Iterator[Api]:
    store = Store(store_url)
    api = Api(store, robots_folder(tmp_path))
    with api.client:
        yield api
    store.close()


@pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)
def test_a_report_is_recorded_once_with_its_ledger_entries_gross_and_net(api: Api) -> None:
    first = api.send(api.agent)
    assert first.status_code == 201, first.text
    data = first.json()
    # the server's minutes in force: 48 done items × 4.5 min + 10 min for the completed run
    assert data["minutes_saved"] == pytest.approx(48 * 4.5 + 10)
    assert data["supervision_minutes"] == pytest.approx(30.0)
    assert data["net_minutes"] == pytest.approx(48 * 4.5 + 10 - 30)
    again = api.send(api.agent)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == data["id"]
    runs = api.store.list_runs(created_by="agent-dupont")
    assert [r.id for r in runs] == [data["id"]]
    run = runs[0]
    assert (run.trigger, run.status, run.robot, run.process_name) == (
        "attended", "completed_with_errors", "lot-50", "Contrôle des dossiers")
    assert run.started_at == START.replace(tzinfo=None) and run.finished_at == NOW.replace(tzinfo=None)
    assert api.store.counts(run.id) == {ItemStatus.DONE: 48, ItemStatus.BUSINESS_ERROR: 2}
    rows = [r for r in api.store.ledger_rows() if r.run_id == run.id]
    assert len(rows) == 49 and all(r.recorded_at == NOW.replace(tzinfo=None) for r in rows)
    # the agent's own savings: gross beside net
    savings = api.client.get("/api/v1/me/savings", headers=api.agent).json()
    assert savings["year_minutes"] == pytest.approx(226.0)
    assert savings["year_net_hours"] == pytest.approx((226.0 - 30) / 60)
    assert savings["year_supervision_minutes"] == pytest.approx(30.0)
    # the dashboard's overview counts it (the day of its end)
    from robocore.store.overview import Scope

    assert api.store.overview_minutes(Scope(), None, None) == pytest.approx(226.0)
    # the managers' report: gross hours, and net of the supervision beside
    body = api.client.get("/api/v1/reports/hours-saved?by=process", headers=api.manager).json()
    (line,) = [li for li in body["lines"] if li["group"] == "Contrôle des dossiers"]
    assert (line["minutes"], line["supervision_minutes"]) == (pytest.approx(226.0), pytest.approx(30.0))
    assert line["net_hours"] == round((226 - 30) / 60, 2) and line["items_done"] == 48 and line["runs"] == 1
    assert body["total"]["net_hours"] == line["net_hours"]
    # the run as the agent reads it
    shown = api.client.get(f"/api/v1/runs/{run.id}", headers=api.agent).json()
    assert shown["minutes_saved"] == pytest.approx(226.0) and shown["trigger"] == "attended"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_supervision_is_recomputed_from_the_away_intervals(api: Api) -> None:
    """A tray claiming less supervision than its intervals give is believed; more is not."""
    higher = api.send(api.agent, report(supervision_minutes=39.0), key="k-high").json()
    assert higher["supervision_minutes"] == pytest.approx(30.0)
    lower = api.send(api.agent, report(supervision_minutes=12.5), key="k-low").json()
    assert lower["supervision_minutes"] == pytest.approx(12.5)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_failed_run_saves_its_done_items_only(api: Api) -> None:
    data = api.send(api.agent, report(status="failed", counts={"done": 3, "application_error": 1},
                                      error="Portail injoignable")).json()
    assert data["minutes_saved"] == pytest.approx(3 * 4.5)
    assert data["net_minutes"] == pytest.approx(3 * 4.5 - 30)
    assert api.store.get_run(data["id"]).error == "Portail injoignable"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_roles_grants_and_keys(api: Api) -> None:
    assert api.send(api.manager).status_code == 403
    assert api.send(api.stranger).status_code == 403  # lot-50 is not granted to their group
    assert api.send({}).status_code == 401
    missing = api.send(api.agent, key=None)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    assert api.send(api.agent, report(robot="inconnu"), key="k-x").status_code == 403
    assert api.store.list_runs() == []
    # a key that launched a run through the launch endpoint cannot be reused for a report
    launched = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 2}},
                               headers={**api.agent, "Idempotency-Key": "k-launch"})
    assert launched.status_code == 201
    conflict = api.send(api.agent, key="k-launch")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_key_conflict"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("changes", "field"), [
    ({"status": "running"}, "status"),
    ({"counts": {"done": -1}}, "counts"),
    ({"counts": {"done": 100_001}}, "counts"),
    ({"away": [[NOW.isoformat(), NOW.isoformat()]] * 501}, "away"),
    ({"started_at": "2026-01-01T10:00:00"}, "started_at"),  # no time zone
    ({"surprise": 1}, "surprise"),
])
def test_invalid_reports_are_refused_naming_the_field(api: Api, changes: dict[str, Any], field: str) -> None:
    answer = api.send(api.agent, report(**changes))
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_report" and field in answer.json()["detail"]
    assert api.store.list_runs() == []


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_times_are_checked(api: Api) -> None:
    backwards = api.send(api.agent, report(started_at=NOW.isoformat(), ended_at=START.isoformat()))
    assert backwards.status_code == 422
    future = (utcnow() + dt.timedelta(hours=2)).replace(tzinfo=dt.UTC).isoformat()
    assert api.send(api.agent, report(ended_at=future), key="k-f").status_code == 422
    edge = api.send(api.agent, report(started_at="0001-01-01T00:30:00+01:00"), key="k-edge")
    assert edge.status_code == 422 and edge.json()["error"] == "invalid attended run report: a date is out of range"
    many = api.send(api.agent, report(counts={"done": 60_000, "skipped": 50_000}), key="k-sum",
                    **{"Accept-Language": "en"})
    assert many.status_code == 422 and "more than 100000 items in all" in many.json()["detail"]
    # rules between fields come after the grant: a stranger learns nothing of them
    assert api.send(api.stranger, report(started_at=NOW.isoformat(), ended_at=START.isoformat()),
                    key="k-s").status_code == 403
    assert api.store.list_runs() == []


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_document_requires_the_key_and_the_body_and_the_route_keeps_its_400(api: Api) -> None:
    """The OpenAPI document declares `Idempotency-Key` (bounded) and the JSON report as required, with an English
    summary translated in French; a client that sends no key or a malformed one still gets our 400."""
    document = api.client.get("/api/v1/openapi.json", headers={"Accept-Language": "fr"}).json()
    operation = document["paths"]["/api/v1/attended-runs"]["post"]
    assert operation["summary"] == "Signaler une exécution accompagnée"
    [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and key["required"] is True
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 100)
    body = operation["requestBody"]
    assert body["required"] is True
    assert {"robot", "status", "started_at", "ended_at", "supervision_minutes"} <= set(
        body["content"]["application/json"]["schema"]["required"])
    english = api.client.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).json()
    assert english["paths"]["/api/v1/attended-runs"]["post"]["summary"] == "Report an attended run"
    missing = api.send({**api.agent, "Accept-Language": "fr"}, key=None)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in missing.json()["detail"]
    bad = api.send(api.agent, key="k" * 101)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_idempotency_key"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_body_is_bounded(api: Api) -> None:
    answer = api.client.post("/api/v1/attended-runs", content=b"{" + b" " * (300 * 1024) + b"}",
                             headers={**api.agent, "Idempotency-Key": "k-big", "Content-Type": "application/json"})
    assert answer.status_code == 413
    assert api.send(api.agent, report(error="y" * 2001), key="k-long").status_code == 422
    too_many = api.send(api.agent, report(inputs={f"c{n}": 1 for n in range(101)}), key="k-many")
    assert too_many.status_code == 422


class LostAnswer:
    """The server records the report, then the answer is lost on the way back (a cut connection)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def report_attended(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
        from robocore.tray.api import Unreachable

        self.client.report_attended(payload, key)
        raise Unreachable("réponse perdue")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_trays_outbox_sends_a_report_kept_offline_once_when_the_server_is_back(api: Api, tmp_path: Path) -> None:
    """Kept while the server cannot be reached, sent when it is back; an answer lost after the server recorded
    it sends the same key again, and the server answers the same run: one run, one set of ledger entries."""
    from robocore.tray.api import TrayClient
    from robocore.tray.credentials import Token
    from robocore.tray.outbox import Outbox
    from robocore.tray.queue import LaunchState
    from tests.integration.api_support import free_port, live_server

    token = api.agent["Authorization"].removeprefix("Bearer ")
    outbox = Outbox(tmp_path / "tray-local.sqlite3")
    first = outbox.add("k-offline", "local-1", report())
    second = outbox.add("k-lost", "local-2", report(counts={"done": 1}, status="succeeded"))
    assert outbox.add("k-offline", "local-1", report(counts={"done": 99})).payload == first.payload  # kept once
    down = TrayClient(f"http://127.0.0.1:{free_port()}", Token(token))
    sent = outbox.flush(down)
    assert [s.report.state for s in sent] == [LaunchState.PENDING]  # stops at the first left pending
    assert sent[0].error is not None and sent[0].report.attempts == 1
    assert api.store.list_runs() == []
    with live_server(api.client.app) as url:
        up = TrayClient(url, Token(token))
        assert outbox.send(up, outbox.get("k-offline")).report.state is LaunchState.SENT  # type: ignore[arg-type]
        lost = outbox.send(LostAnswer(up), second)
        assert lost.report.state is LaunchState.PENDING and lost.error is not None
        (resent,) = outbox.flush(up)
        assert resent.report.state is LaunchState.SENT and outbox.pending() == []
        assert outbox.flush(up) == []
        up.close()
    runs = api.store.list_runs(created_by="agent-dupont")
    assert len(runs) == 2
    assert {outbox.get("k-offline").server_run_id, outbox.get("k-lost").server_run_id} == {r.id for r in runs}  # type: ignore[union-attr]
    lost_run = next(r for r in runs if r.id == outbox.get("k-lost").server_run_id)  # type: ignore[union-attr]
    assert api.store.run_savings(lost_run.id).gross == pytest.approx(4.5 + 10)  # one done item, the run: once


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_robo_report_shows_net_hours_beside_gross_when_runs_were_attended(api: Api) -> None:
    from rich.console import Console

    from robocore.cli.summary import print_report
    from robocore.ledger import hours_saved
    from robocore.reports import present

    def shown() -> str:
        console = Console(record=True, width=200)
        print_report(console, present(hours_saved(api.store, None, None, "process")), "2026")
        return console.export_text()

    api.send(api.agent, report(supervision_minutes=30.0, counts={"done": 48}, status="succeeded"))
    text = shown()
    header = next(line for line in text.splitlines() if "Heures économisées" in line)
    assert "Heures nettes (supervision déduite)" in header
    total = next(line for line in text.splitlines() if "Total" in line)
    assert "3,77" in total and "3,27" in total  # (48 × 4.5 + 10) / 60 h gross, 30 min less net
