"""robocore.tray.api against the real server app, in process (FastAPI's test transport, SQLite store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient

from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.store import Store
from robocore.tray.api import InvalidInputs, Refused, TrayClient
from robocore.tray.credentials import Token
from robocore.tray.form import check, form_from_detail
from robocore.tray.queue import LaunchQueue, LaunchState
from tests.integration.api_support import FakeExecutor, execute, robots_folder, workbook


class Served:
    """The server app with an agent granted `lecture-classeur` (not `lot-50`) and an engineer."""

    def __init__(self, store: Store, http: TestClient, robots: Path) -> None:
        self.store, self.http, self.robots = store, http, robots
        store.add_grant("lecture-classeur", "ddets")
        self.agent = self.client(create_token(store, "agent-dupont", "agent", ["ddets"]))
        self.engineer = self.client(create_token(store, "ingenieur", "engineer"))

    def client(self, token: str) -> TrayClient:
        return TrayClient("http://testserver", Token(token), transport=self.http._transport)


@pytest.fixture
def served(robo_home: Path, tmp_path: Path) -> Iterator[Served]:
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    robots = robots_folder(tmp_path)
    app = create_app(store, executor=FakeExecutor(), robots_dir=robots)
    with TestClient(app) as http:
        yield Served(store, http, robots)
    store.close()


def test_agent_lists_and_reads_only_granted_robots(served: Served) -> None:
    """The agent's list has her granted robot only, its detail gives the inputs the form is built from;
    another robot is refused 403 with the server's French message."""
    assert [r["robot"] for r in served.agent.robots()] == ["lecture-classeur"]
    form = form_from_detail(served.agent.robot("lecture-classeur"))
    assert [(f.name, f.kind, f.label) for f in form.fields] == [
        ("classeur", "file", "Classeur à contrôler"), ("commentaire", "text", "Commentaire")]
    assert form.field("classeur").accept == (".xlsx",) and not form.field("commentaire").required
    with pytest.raises(Refused) as caught:
        served.agent.robot("lot-50")
    assert caught.value.status == 403 and caught.value.message


def test_launch_from_the_form_with_a_workbook(served: Served, tmp_path: Path) -> None:
    """The form's checked values and file go up as multipart: a queued run by the agent, inputs recorded."""
    book = workbook(tmp_path / "mars.xlsx")
    form = form_from_detail(served.agent.robot("lecture-classeur"))
    checked = check(form, {"classeur": str(book), "commentaire": "semaine 49 <script>alert(1)</script>"})
    assert checked.ok
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    queue.add("lecture-classeur", checked.inputs, checked.files)
    outcome = queue.flush(served.agent)[0]
    assert outcome.launch.state is LaunchState.SENT
    run = served.agent.run(outcome.launch.run_id or "")
    assert run["created_by"] == "agent-dupont" and run["status"] == "queued"
    assert run["inputs"]["commentaire"] == "semaine 49 <script>alert(1)</script>"
    assert run["inputs"]["classeur"].endswith("mars.xlsx")


def test_invalid_inputs_name_the_input(served: Served) -> None:
    """A value the server refuses (422 invalid_inputs) comes back naming the input."""
    with pytest.raises(InvalidInputs) as caught:
        served.engineer.launch("lot-50", {"nombre": "beaucoup"}, {}, key="k1")
    assert caught.value.field == "nombre" and "Nombre d'éléments" in caught.value.message


def test_events_followed_to_the_end(served: Served) -> None:
    """The client reads the server's events to `end`, with the final counts."""
    launched = served.engineer.launch("lot-50", {"nombre": 12}, {}, key="k2")
    worker = threading.Thread(target=lambda: (time.sleep(0.3), execute(launched.id, served.store)))
    worker.start()
    events = list(served.engineer.events(launched.id))
    worker.join()
    assert events[-1][0] == "end" and events[-1][1]["status"] == "completed_with_errors"
    assert served.engineer.rejected(launched.id) == [("D-007", "Dossier 7 refusé"),
                                                     ("D-010", "Dossier 10 : montant manquant")]


def test_same_key_twice_is_one_run(served: Served) -> None:
    """The same idempotency key sent twice (a crash between send and mark) gives the same run, marked replayed."""
    first = served.engineer.launch("lot-50", {"nombre": 3}, {}, key="same-key")
    again = served.engineer.launch("lot-50", {"nombre": 3}, {}, key="same-key")
    assert again.id == first.id and again.replayed and not first.replayed


def test_a_form_built_before_the_robot_changed_is_refused_by_the_server(served: Served, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue sends the form's `inputs_version`: the current one launches; after the robot's inputs changed,
    the server refuses the launch (409 `inputs_changed`, its reason in French) and records nothing."""
    form = form_from_detail(served.engineer.robot("lot-50"))
    assert form.inputs_version and len(form.inputs_version) == 16
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    queue.add("lot-50", {"nombre": 2}, {}, inputs_version=form.inputs_version)
    assert queue.flush(served.engineer)[0].launch.state is LaunchState.SENT
    monkeypatch.setattr("robocore.server.catalog.RESCAN_SECONDS", 0.0)
    definition = next(served.robots.glob("lot*/robot.yaml"))
    text = definition.read_text(encoding="utf-8")
    assert "label: " in text
    definition.write_text(text.replace("label: ", "label: Nouveau ", 1), encoding="utf-8")
    stale = queue.add("lot-50", {"nombre": 2}, {}, inputs_version=form.inputs_version)
    outcome = queue.flush(served.engineer)[0]
    assert outcome.launch.key == stale.key and outcome.launch.state is LaunchState.REFUSED
    assert isinstance(outcome.error, Refused) and outcome.error.code == "inputs_changed"
    assert "rechargez le formulaire" in (outcome.launch.last_error or "")
    assert len(served.store.list_runs()) == 1
    assert form_from_detail(served.engineer.robot("lot-50")).inputs_version != form.inputs_version


def test_the_dashboard_is_offered_to_an_engineer_and_an_agent_never_meets_a_refusal(served: Served) -> None:
    """An agent's tray asks whether to offer the dashboard without the server logging a forbidden page (the
    tray refreshes every minute); an engineer's tray is offered it."""
    with structlog.testing.capture_logs() as logs:
        assert [served.agent.has_dashboard() for _ in range(3)] == [False] * 3
        assert served.engineer.has_dashboard() is True
    assert [e for e in logs if e.get("event") == "page.forbidden"] == []
