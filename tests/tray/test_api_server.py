"""robocore.tray.api against the real server app, in process (FastAPI's test transport, SQLite store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
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

    def __init__(self, store: Store, http: TestClient) -> None:
        self.store, self.http = store, http
        store.add_grant("lecture-classeur", "ddets")
        self.agent = self.client(create_token(store, "agent-dupont", "agent", ["ddets"]))
        self.engineer = self.client(create_token(store, "ingenieur", "engineer"))

    def client(self, token: str) -> TrayClient:
        return TrayClient("http://testserver", Token(token), transport=self.http._transport)


@pytest.fixture
def served(robo_home: Path, tmp_path: Path) -> Iterator[Served]:
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    app = create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))
    with TestClient(app) as http:
        yield Served(store, http)
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
