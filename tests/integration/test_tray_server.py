"""The server side of the tray launcher (issue 12): idempotent launches, input bounds and versions, the agent's
own savings, ideas, items by status and the run page an agent's notification opens; SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.responses import FileResponse
from fastapi.testclient import TestClient
from sqlalchemy import event

from robocore.server import create_app, routes_runs
from robocore.server.auth import create_token
from robocore.store import NewRun, Store, utcnow
from robocore.store.ledger import EntryKind, LedgerEntry, insert_entry
from robocore.store.savings import period_starts
from tests.integration.api_support import FakeExecutor, bearer, execute, live_server, robots_folder, workbook
from tests.integration.test_page_overview import AXE, SCREENS, browser  # noqa: F401
from tests.integration.test_page_runs import _axe

HOSTILE = ("<script>alert(1)</script>", "l'agent \"dit\" <b>", "=cmd|' /C calc'!A0")
BOUNDED = """\
robot: bornes
title: Bornes
process: {name: Contrôle des bornes, service: DDETS Test, manual_minutes_per_item: 1}
inputs:
  montant: {type: number, label: Montant, minimum: 1, maximum: 100}
  jour: {type: date, label: Jour, minimum: 2026-01-01, required: false}
steps:
  - use: flow.log
    with: {message: x}
"""


class Api:
    """The app over one store with an engineer, two agents (the second in another group), a manager."""

    def __init__(self, store: Store, robots: Path) -> None:
        self.store, self.robots, self.executor = store, robots, FakeExecutor()
        self.app = create_app(store, executor=self.executor, robots_dir=robots)
        self.client = TestClient(self.app)
        self.engineer = bearer(create_token(store, "ingenieur", "engineer"))
        self.agent = bearer(create_token(store, "agent-dupont", "agent", ["ddets"]))
        self.other = bearer(create_token(store, "agent-martin", "agent", ["ddets"]))
        self.manager = bearer(create_token(store, "cheffe", "manager"))
        store.add_grant("lecture-classeur", "ddets")
        store.add_grant("bornes", "ddets")

    def launch(self, headers: dict[str, str], robot: str = "lot-50", key: str | None = None,
               **inputs: Any) -> httpx.Response:
        extra = {routes_runs.IDEMPOTENCY_KEY: key} if key is not None else {}
        return self.client.post(f"/api/v1/robots/{robot}/runs", json={"inputs": inputs}, headers={**headers, **extra})

    def upload(self, headers: dict[str, str], book: Path, key: str) -> httpx.Response:
        with book.open("rb") as fh:
            return self.client.post("/api/v1/robots/lecture-classeur/runs", files={"classeur": (book.name, fh)},
                                    data={"commentaire": HOSTILE[0]},
                                    headers={**headers, routes_runs.IDEMPOTENCY_KEY: key})

    def runs_of(self, who: str) -> list[Any]:
        return self.store.list_runs(created_by=who, limit=500)


@pytest.fixture
def api(store_url: str, robo_home: Path, tmp_path: Path) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL, robots lot-50, lecture-classeur and bornes."""
    folder = robots_folder(tmp_path)
    (folder / "bornes").mkdir()
    (folder / "bornes" / "robot.yaml").write_text(BOUNDED, encoding="utf-8")
    store = Store(store_url)
    api = Api(store, folder)
    with api.client:
        yield api
    store.close()


# ---- 1. idempotent launch -----------------------------------------------------------------------------------
def test_same_key_is_one_run_submitted_once(api: Api) -> None:
    """A JSON launch sent twice with the same key: 201 twice, the same run, `Idempotent-Replayed: true` on the
    second only, one run recorded and one submission to the executor."""
    first = api.launch(api.engineer, key="tray-0001", nombre=3)
    again = api.launch(api.engineer, key="tray-0001", nombre=3)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["url"] == first.json()["url"]
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    assert [r.id for r in api.runs_of("ingenieur")] == [first.json()["id"]]
    assert api.executor.submitted == [(first.json()["id"], None)]
    third = api.launch(api.engineer, key="tray-0002", nombre=3)
    assert third.json()["id"] != first.json()["id"] and len(api.executor.submitted) == 2


def test_multipart_replay_keeps_no_second_upload(api: Api, tmp_path: Path, robo_home: Path) -> None:
    """A workbook launch sent twice with one key: one run, its upload only; the replay stores no file."""
    book = workbook(tmp_path / "mars.xlsx")
    first = api.upload(api.agent, book, "cle-classeur")
    again = api.upload(api.agent, book, "cle-classeur")
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert [p.name for p in (robo_home / "runs").iterdir()] == [first.json()["id"]]
    [run] = api.runs_of("agent-dupont")
    assert run.inputs["commentaire"] == HOSTILE[0] and len(api.executor.submitted) == 1


def test_the_key_belongs_to_its_caller(api: Api) -> None:
    """Another caller sending the same key launches their own run; each replay answers its caller's run."""
    mine = api.launch(api.engineer, key="partagee", nombre=2).json()["id"]
    store_other = api.store
    version = store_other.save_robot_version("lecture-classeur", "cd" * 32, "robot: lecture-classeur\n")
    store_other.create_run(NewRun(id="run-agent", robot="lecture-classeur", version_id=version, robot_path="x",
                                  inputs={}, process_name=None, service=None, minutes_per_item=0,
                                  minutes_per_run=0, created_by="agent-dupont", idempotency_key="partagee"))
    assert mine != "run-agent"
    assert api.launch(api.engineer, key="partagee", nombre=2).json()["id"] == mine
    replay = api.upload(api.agent, workbook(api.robots.parent / "b.xlsx"), "partagee")
    assert replay.json()["id"] == "run-agent" and replay.headers["idempotent-replayed"] == "true"


def test_the_same_key_for_another_robot_is_refused(api: Api) -> None:
    """A key that launched lot-50 sent for bornes: 409 `idempotency_key_conflict` naming the header and robot."""
    api.launch(api.engineer, key="k-robot", nombre=2)
    refused = api.launch(api.engineer, "bornes", key="k-robot", montant=5)
    assert refused.status_code == 409 and refused.json()["code"] == "idempotency_key_conflict"
    assert "Idempotency-Key" in refused.json()["erreur"] and "« lot-50 »" in refused.json()["erreur"].replace(
        "\u00a0", " ")
    assert "lot-50" in refused.json()["error"]


@pytest.mark.parametrize("key", ["", "x" * 101, "clé", "tab\there", "nul\x7f"])
def test_a_malformed_key_is_400_naming_the_header(api: Api, key: str) -> None:
    """Empty, over 100 characters, not printable ASCII: 400 `invalid_idempotency_key`, nothing recorded."""
    headers: dict[str, str | bytes] = {**api.engineer, "Idempotency-Key": key.encode("latin-1")}  # raw bytes
    refused = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 2}}, headers=headers)
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["code"] == "invalid_idempotency_key" and "Idempotency-Key" in body["erreur"]
    assert "ASCII" in body["error"] and api.runs_of("ingenieur") == [] and api.executor.submitted == []
    assert api.launch(api.engineer, key="x" * 100, nombre=2).status_code == 201


def test_racing_duplicates_end_with_one_run(api: Api) -> None:
    """Eight threads send the same launch at once to a real server: one run, every answer names it, one
    submission; the losers of the race are answered through the unique index."""
    with live_server(api.app) as url:
        answers: list[httpx.Response] = []
        barrier = threading.Barrier(8)

        def send() -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                barrier.wait()
                answers.append(http.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 4}},
                                         headers={**api.engineer, "Idempotency-Key": "course"}))

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(api.runs_of("ingenieur")) == 1 and len(api.executor.submitted) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 7


def test_a_lost_race_is_answered_from_the_unique_index(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first look-up misses (both requests passed it), the database's refusal answers the winner's
    run: the losing launch records nothing and submits nothing."""
    first = api.launch(api.engineer, key="perdue", nombre=2).json()["id"]
    monkeypatch.setattr(routes_runs, "_replay", lambda *args: None)
    again = api.launch(api.engineer, key="perdue", nombre=2)
    assert again.status_code == 201 and again.json()["id"] == first
    assert again.headers["idempotent-replayed"] == "true" and len(api.executor.submitted) == 1


# ---- 2. input definitions ---------------------------------------------------------------------------------------
def test_detail_gives_bounds_and_the_inputs_version(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The detail shows each input's bounds and a stable `inputs_version`; a launch sending the current
    version passes, a stale one is 409 `inputs_changed` (after the robot file changed), a replay still answers."""
    detail = api.client.get("/api/v1/robots/bornes", headers=api.agent).json()
    assert detail["inputs"]["montant"]["minimum"] == 1 and detail["inputs"]["montant"]["maximum"] == 100
    assert detail["inputs"]["jour"]["minimum"] == "2026-01-01"
    version = detail["inputs_version"]
    assert api.client.get("/api/v1/robots/bornes", headers=api.agent).json()["inputs_version"] == version
    sent = {**api.agent, routes_runs.INPUTS_VERSION: version, routes_runs.IDEMPOTENCY_KEY: "v1"}
    assert api.client.post("/api/v1/robots/bornes/runs", json={"inputs": {"montant": 5}},
                           headers=sent).status_code == 201
    monkeypatch.setattr("robocore.server.catalog.RESCAN_SECONDS", 0.0)
    (api.robots / "bornes" / "robot.yaml").write_text(BOUNDED.replace("label: Montant", "label: Montant (€)"),
                                                      encoding="utf-8")
    assert api.client.get("/api/v1/robots/bornes", headers=api.agent).json()["inputs_version"] != version
    stale = api.client.post("/api/v1/robots/bornes/runs", json={"inputs": {"montant": 5}},
                            headers={**sent, routes_runs.IDEMPOTENCY_KEY: "v2"})
    assert stale.status_code == 409 and stale.json()["code"] == "inputs_changed"
    assert "rechargez le formulaire" in stale.json()["erreur"] and "reload the form" in stale.json()["error"]
    replay = api.client.post("/api/v1/robots/bornes/runs", json={"inputs": {"montant": 5}}, headers=sent)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert len(api.runs_of("agent-dupont")) == 1


def test_invalid_inputs_list_every_refused_field(api: Api) -> None:
    """Out of bounds and unreadable values: 422 `invalid_inputs`, the old keys kept, `fields` naming each input
    with its French and English message; nothing recorded."""
    refused = api.launch(api.agent, "bornes", montant=250, jour="31/12/2025")
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "invalid_inputs" and {"detail", "erreur", "error"} <= set(body)
    assert [f["champ"] for f in body["fields"]] == ["montant", "jour"]
    montant = body["fields"][0]
    assert montant["erreur"].replace("\u00a0", " ") == "entrée « Montant » (montant) : 250 est supérieur au maximum 100"
    assert montant["error"] == "input “Montant” (montant): 250 is above the maximum 100"
    assert "2025-12-31 is below the minimum 2026-01-01" in body["fields"][1]["error"]
    assert body["erreur"] == montant["erreur"] and api.runs_of("agent-dupont") == []
    english = api.client.post("/api/v1/robots/bornes/runs?lang=en", json={"inputs": {"montant": 0}},
                              headers=api.agent).json()
    assert english["detail"] == "input “Montant” (montant): 0 is below the minimum 1"


# ---- 3. the agent's own savings -------------------------------------------------------------------------------
def _run(store: Store, run_id: str, created_by: str) -> None:
    version = store.save_robot_version("lot-50", "ef" * 32, "robot: lot-50\n")
    store.create_run(NewRun(id=run_id, robot="lot-50", version_id=version, robot_path="x", inputs={},
                            process_name="Contrôle des dossiers", service="DDETS Test", minutes_per_item=4.5,
                            minutes_per_run=0, created_by=created_by))


def _entry(store: Store, run_id: str, key: str, minutes: float, at: datetime) -> None:
    entry = LedgerEntry("lot-50", "Contrôle des dossiers", "DDETS Test", minutes, EntryKind.ITEM)
    with store.engine.begin() as conn:
        insert_entry(conn, entry, run_id, key, at)


@pytest.mark.parametrize(("now", "expected"), [
    # Thursday 1 January 2026: the week began on Monday 29 December 2025, in the previous year
    (datetime(2026, 1, 1, 15), (60.0 + 15, 15.0, 15.0)),
    # Wednesday 18 March 2026: week from the 16th, month from the 1st
    (datetime(2026, 3, 18, 9), (15.0, 15.0 + 7, 15.0 + 7 + 3)),
])
def test_savings_sum_the_callers_ledger_per_period(api: Api, now: datetime,
                                                   expected: tuple[float, float, float]) -> None:
    """Minutes of the caller's runs only, since Monday 00:00, the 1st and 1 January (UTC), in one SQL query."""
    _run(api.store, "r-mine", "agent-dupont")
    _run(api.store, "r-other", "agent-martin")
    week, month, year = period_starts(now)
    if now.month == 1:
        _entry(api.store, "r-mine", "a", 60, datetime(2025, 12, 29, 0, 0))   # this week, last year
        _entry(api.store, "r-mine", "b", 15, datetime(2026, 1, 1, 8))         # every period
        _entry(api.store, "r-mine", "c", 100, datetime(2025, 12, 28, 23, 59))  # before the week
    else:
        _entry(api.store, "r-mine", "a", 15, week)                             # Monday 00:00
        _entry(api.store, "r-mine", "b", 7, week - timedelta(seconds=1))       # month, not week
        _entry(api.store, "r-mine", "c", 3, datetime(2026, 2, 28, 12))         # year only
        _entry(api.store, "r-mine", "d", 100, datetime(2025, 12, 31, 23))      # last year
    _entry(api.store, "r-other", "z", 50, now - timedelta(hours=1))           # another agent's
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(api.store.engine, "before_cursor_execute", seen)
    try:
        saved = api.store.savings_of("agent-dupont", now)
    finally:
        event.remove(api.store.engine, "before_cursor_execute", seen)
    assert (saved.week_minutes, saved.month_minutes, saved.year_minutes) == pytest.approx(expected)
    assert len([s for s in statements if "ledger" in s]) == 1


def test_me_savings_for_any_role(api: Api) -> None:
    """`GET /me/savings`: hours and minutes of the caller's runs this week, month and year; zero for a manager."""
    _run(api.store, "r-now", "agent-dupont")
    _entry(api.store, "r-now", "a", 90, utcnow() - timedelta(minutes=5))
    mine = api.client.get("/api/v1/me/savings", headers=api.agent)
    assert mine.status_code == 200
    assert mine.json() == {"week_hours": 1.5, "month_hours": 1.5, "year_hours": 1.5, "week_minutes": 90.0,
                           "month_minutes": 90.0, "year_minutes": 90.0,
                           # no attended run (robo tray --local): net is gross, nothing supervised
                           "week_net_hours": 1.5, "month_net_hours": 1.5, "year_net_hours": 1.5,
                           "week_supervision_minutes": 0.0, "month_supervision_minutes": 0.0,
                           "year_supervision_minutes": 0.0}
    assert api.client.get("/api/v1/me/savings", headers=api.manager).json()["year_minutes"] == 0
    assert api.client.get("/api/v1/me/savings").status_code == 401


# ---- 4. ideas ---------------------------------------------------------------------------------------------------
def test_an_agents_idea_becomes_a_process_at_the_idea_stage(api: Api) -> None:
    """An agent proposes a task: 201 with the process name and a French message; managers find it among the
    processes at the `idea` stage, its description built from the fields, updated by the agent; twice is 409."""
    idea = {"task": HOSTILE[0], "frequency": "weekly", "minutes_by_hand": 45, "volume_per_year": 52,
            "details": HOSTILE[2]}
    sent = api.client.post("/api/v1/ideas", json=idea, headers=api.agent)
    assert sent.status_code == 201, sent.text
    assert sent.json()["process"] == HOSTILE[0] and sent.json()["stage"] == "idea"
    assert sent.json()["message"].startswith("Merci") and sent.json()["message_en"].startswith("Thank you")
    listed = api.client.get("/api/v1/processes", params={"stage": "idea"}, headers=api.manager).json()
    french = api.client.get("/api/v1/processes", params={"stage": "idée"}, headers=api.manager)
    assert french.status_code == 200 and french.json() == listed  # the stage by its French label too
    unknown = api.client.get("/api/v1/processes", params={"stage": "brouillon"}, headers=api.manager)
    assert unknown.status_code == 422
    [process] = listed["processes"]
    assert process["name"] == HOSTILE[0] and process["stage_label"] == "idée"
    assert process["updated_by"] == "agent-dupont" and process["service"] is None
    description = process["description"].replace("\u00a0", " ")
    assert "Idée proposée par agent-dupont." in description and "Fréquence : chaque semaine." in description
    assert "45 min" in description and "Volume annuel : 52." in description and HOSTILE[2] in description
    again = api.client.post("/api/v1/ideas", json=idea, headers=api.other)
    assert again.status_code == 409 and again.json()["code"] == "idea_exists"
    page = api.client.get("/processus", headers=api.manager)
    assert page.status_code == 200 and HOSTILE[0] not in page.text
    assert html.escape(HOSTILE[0], quote=False) in page.text or "&lt;script&gt;" in page.text


@pytest.mark.parametrize(("idea", "field", "words"), [
    ({"task": "x" * 201}, "task", "trop long"),
    ({"task": "   "}, "task", "obligatoire"),
    ({"task": "a\x00b"}, "task", "caractère nul"),
    ({"frequency": "hourly"}, "frequency", "hourly"),
    ({"minutes_by_hand": 0}, "minutes_by_hand", "supérieur à zéro"),
    ({"minutes_by_hand": 10_001}, "minutes_by_hand", "au plus 10000"),
    ({"volume_per_year": -1}, "volume_per_year", "positif ou nul"),
    ({"details": "d" * 2001}, "details", "trop long"),
    ({"colour": "red"}, "colour", "inconnu"),
])
def test_a_wrong_idea_is_refused_naming_the_field(api: Api, idea: dict[str, Any], field: str, words: str) -> None:
    """Each bound of the idea's fields: 422 `invalid_idea_field`, the message naming the field; nothing stored."""
    body = {"task": "Saisie des congés", "frequency": "monthly", "minutes_by_hand": 20, **idea}
    refused = api.client.post("/api/v1/ideas", json=body, headers=api.agent)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_idea_field"
    assert f"« {field} »" in refused.json()["erreur"].replace("\u00a0", " ") and words in refused.json()["erreur"]
    assert api.store.list_processes() == []


# ---- 5. items by status -----------------------------------------------------------------------------------------
def test_items_filtered_by_status(api: Api) -> None:
    """`status=business_error` keeps the rejected items; `done` the others; an unknown status is 400 naming it."""
    run_id = api.launch(api.engineer, nombre=12).json()["id"]
    execute(run_id, api.store)
    rejected = api.client.get(f"/api/v1/runs/{run_id}/items", params={"status": "business_error"},
                              headers=api.engineer).json()
    assert [(i["key"], i["status"]) for i in rejected] == [("D-007", "business_error"), ("D-010", "business_error")]
    done = api.client.get(f"/api/v1/runs/{run_id}/items", params={"status": "done", "limit": 3},
                          headers=api.engineer).json()
    assert [i["key"] for i in done] == ["D-001", "D-002", "D-003"]
    wrong = api.client.get(f"/api/v1/runs/{run_id}/items", params={"status": "rejete"}, headers=api.engineer)
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_status"
    assert "rejete" in wrong.json()["erreur"] and "business_error" in wrong.json()["error"]


# ---- 6. the run page of an agent's own run ----------------------------------------------------------------------
def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("\u00a0", " ")


def test_an_agent_opens_the_page_of_their_own_run(api: Api, tmp_path: Path) -> None:
    """The agent who launched a run opens its page (counts, messages, no evidence, no menu); another agent gets
    403; the list stays closed to agents; a manager still sees the page with the menu."""
    run_id = api.upload(api.agent, workbook(tmp_path / "avril.xlsx"), "page").json()["id"]
    execute(run_id, api.store)
    own = api.client.get(f"/executions/{run_id}", headers=api.agent)
    assert own.status_code == 200, own.text
    assert "/preuves/" not in own.text and 'id="navigation"' not in own.text
    # no link the agent could not follow: the runs list and the process page are closed to agents
    assert 'id="retour-liste"' not in own.text and 'id="lien-processus"' not in own.text
    assert "lecture-classeur" in own.text and "<script>alert(1)</script>" not in own.text
    other = api.client.get(f"/executions/{run_id}", headers=api.other)
    assert other.status_code == 403 and "votre rôle (agent)" in _text(other.text)
    assert "lancée par quelqu’un d’autre" in _text(other.text)
    listing = api.client.get("/executions", headers=api.agent)
    assert listing.status_code == 403
    manager = api.client.get(f"/executions/{run_id}", headers=api.manager)
    assert manager.status_code == 200 and 'id="navigation"' in manager.text
    assert api.client.get("/executions/inconnue", headers=api.agent).status_code == 404


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_the_agents_run_page_in_chromium(browser: Any, robo_home: Path, tmp_path: Path,  # noqa: F811
                                         theme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page a tray notification opens, in the agent's browser: the run's counts and the rejected rows' messages,
    no menu and no evidence, hostile text shown as text, no CSP refusal, no serious axe-core violation.
    Screenshot run-agent-<theme>.png."""
    monkeypatch.setenv("ROBOCORE_THEME", theme)
    folder = robots_folder(tmp_path)
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    api = Api(store, folder)
    api.app.add_api_route("/essai-axe.js", lambda: FileResponse(AXE, media_type="text/javascript"))
    store.add_grant("lot-50", "ddets")
    run_id = api.launch(api.agent, key="chromium", nombre=12).json()["id"]
    worker = threading.Thread(target=execute, args=(run_id, store))  # Playwright's loop runs in this thread
    worker.start()
    worker.join(120)
    with live_server(api.app) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                      extra_http_headers=api.agent)
        page = context.new_page()
        console: list[str] = []
        dialogs: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            answer = page.goto(f"{url}/executions/{run_id}", wait_until="load")
            assert answer is not None and answer.status == 200
            SCREENS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENS / f"run-agent-{theme}.png"), full_page=True)
            assert page.locator("#navigation").count() == 0 and page.locator("a[href*='/preuves/']").count() == 0
            shown = page.locator("main").inner_text()
            assert "lot-50" in shown and "Dossier 10 : montant manquant" in shown.replace("\u00a0", " ")
            assert _axe(page) == []
            assert dialogs == [] and [m for m in console if "Content Security Policy" in m or "Refused" in m] == []
        finally:
            context.close()
    store.close()
