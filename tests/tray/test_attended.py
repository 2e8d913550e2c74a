"""robocore.tray.attended and robocore.tray.local: `robo tray --local`, robots run on this computer by the local
executor (worker processes) through the tray's own menu, dialog and run states; supervision time with
« Je m'absente »; the run reported to a server once (fake server, QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from robocore.executors.local import LocalExecutor
from robocore.statuses import RunStatus
from robocore.store import Store
from robocore.tray.api import TrayClient
from robocore.tray.attended import AttendedTray, report_payload
from robocore.tray.credentials import Token
from robocore.tray.dialog import LaunchDialog
from robocore.tray.form import form_from_detail
from robocore.tray.local import LocalClient
from robocore.tray.outbox import Outbox
from robocore.tray.prefs import Prefs
from robocore.tray.queue import LaunchQueue, LaunchState
from robocore.tray.runstate import Phase
from tests.tray.fake_server import TOKEN, FakeServer

ROBOT = """\
robot: petit-lot
title: Petit lot de dossiers
process: {name: Contrôle local, service: Accueil, manual_minutes_per_item: 2, manual_minutes_per_run: 5}
inputs:
  nombre: {type: number, default: 3, label: Nombre de dossiers, minimum: 1, maximum: 1000}
  pause: {type: number, default: 0, label: Pause par dossier}
steps:
  - id: lot
    use: flow.set
    with:
      values: {numeros: "{{ range(1, inputs.nombre + 1) | list }}"}
  - for_each: "{{ steps.lot.numeros }}"
    as: n
    key: "D-{{ n }}"
    steps:
      - use: flow.wait
        with: {seconds: "{{ inputs.pause }}"}
      - use: flow.assert
        with: {that: "{{ n != 2 }}", message: "Dossier 2 : pièce manquante"}
"""
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions()]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def local(robo_home: Path, tmp_path: Path) -> Iterator[LocalClient]:
    """This install's robots folder with `petit-lot`, its store, and a local executor of one worker process."""
    robots = tmp_path / "robots"
    (robots / "petit-lot").mkdir(parents=True)
    (robots / "petit-lot" / "robot.yaml").write_text(ROBOT, encoding="utf-8")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    client = LocalClient(store, robots, agent="tray:marie", submitter=LocalExecutor(1, retry_after=0.2), poll=0.05)
    yield client
    client.close()
    store.close()


@pytest.fixture
def tray(qtbot: QtBot, local: LocalClient, server: FakeServer, tmp_path: Path) -> Iterator[AttendedTray]:
    clock = Clock()
    app = AttendedTray(local, LaunchQueue(tmp_path / "local.sqlite3"), Prefs(tmp_path / "tray.json"),
                       outbox=Outbox(tmp_path / "local.sqlite3"),
                       server=TrayClient("http://robocore.test", Token(TOKEN), transport=server.transport),
                       clock=clock)
    app.notices: list[tuple[str, str]] = []  # type: ignore[misc]
    app.tray.showMessage = lambda title, text, *a: app.notices.append((title, text))  # type: ignore[method-assign,attr-defined]
    app.clock_ = clock  # type: ignore[attr-defined]
    yield app
    app.timer.stop()


def launch(qtbot: QtBot, tray: AttendedTray, **values: str) -> str:
    """Fill the launch dialog of `petit-lot` and click « Lancer »: the launch's key."""
    form = form_from_detail(tray.local.robot("petit-lot"))
    dialog = LaunchDialog(form)
    qtbot.addWidget(dialog)
    for name, value in values.items():
        dialog.widgets[name].setValue(float(value))  # type: ignore[attr-defined]
    dialog.accept()
    before = set(tray.states)
    tray._send(form, dialog)
    (key,) = set(tray.states) - before
    return key


def test_the_menu_lists_this_installs_robots(qtbot: QtBot, tray: AttendedTray) -> None:
    tray.refresh()
    qtbot.waitUntil(lambda: bool(tray.robots), timeout=5000)
    shown = texts(tray.menu)
    assert "Contrôle local" in shown and "Petit lot de dossiers" in shown
    assert "Ouvrir le tableau de bord" not in shown and "Je m'absente" not in shown  # no run going
    detail = tray.local.robot("petit-lot")
    assert detail["inputs"]["nombre"]["label"] == "Nombre de dossiers" and detail["process"] == "Contrôle local"


def test_an_attended_run_with_supervision_gross_net_and_its_report(qtbot: QtBot, tray: AttendedTray,
                                                                   server: FakeServer) -> None:
    """Launched through the dialog, run in a worker process, followed to the notification: supervision is
    10 min from launch to end minus 3 min away; gross 2 done × 2 min + 5 min; the server is told once."""
    clock: Clock = tray.clock_  # type: ignore[attr-defined]
    key = launch(qtbot, tray)
    assert "Je m'absente" in texts(tray.menu)
    clock.at(2)
    tray.set_away(True)
    away = next(a for a in tray.menu.actions() if a.text() == "Je m'absente")
    assert away.isCheckable() and away.isChecked()
    clock.at(5)
    away.setChecked(False)  # unticked from the menu
    assert not tray.away_log.away
    clock.at(10)
    qtbot.waitUntil(lambda: key in tray.states and tray.states[key].phase.is_final, timeout=30000)
    state = tray.states[key]
    assert state.phase is Phase.COMPLETED_WITH_ERRORS and (state.done, state.total) == (3, 3)
    qtbot.waitUntil(lambda: len(tray.notices) >= 1, timeout=5000)
    title, text = tray.notices[-1]
    assert title == "Petit lot de dossiers\xa0: terminée avec erreurs"
    assert text.split("\n") == ["3 éléments traités sur 3.", "Éléments refusés\xa0: 1",
                                "• D-2\xa0: Dossier 2 : pièce manquante", "Temps gagné\xa0: 9\xa0min.",
                                "Supervision\xa0: 7\xa0min. Temps gagné net\xa0: 2\xa0min."]
    store = tray.local.store
    run = store.get_run(state.run_id)  # type: ignore[arg-type]
    assert run is not None and (run.trigger, run.created_by) == ("attended", "tray:marie")
    supervision = store.supervision_of(run.id)
    assert supervision is not None and supervision.minutes == pytest.approx(7.0)
    saved = store.run_savings(run.id)
    assert (saved.gross, saved.net) == (pytest.approx(9.0), pytest.approx(2.0))
    # recorded once: a second supervision for the run is refused by the store
    assert not store.record_supervision(supervision)
    qtbot.waitUntil(lambda: tray.outbox.get(key).state is LaunchState.SENT, timeout=5000)  # type: ignore[union-attr]
    assert server.report_calls == [key] and tray.outbox.get(key).server_run_id == "a1"  # type: ignore[union-attr]
    body = server.reports[key]["body"]
    assert (body["robot"], body["status"], body["counts"]) == (
        "petit-lot", "completed_with_errors", {"done": 2, "business_error": 1})
    assert body["supervision_minutes"] == pytest.approx(7.0) and body["minutes_saved"] == pytest.approx(9.0)
    assert body["inputs"] == {"nombre": 3, "pause": 0} and body["local_run_id"] == run.id
    assert body["away"] == [[(T0 + dt.timedelta(minutes=2)).isoformat(), (T0 + dt.timedelta(minutes=5)).isoformat()]]
    tray.flush_reports()  # nothing left to send
    qtbot.wait(200)
    assert server.report_calls == [key]
    # « Mes gains » on this computer: gross and net
    data = tray.local.savings()
    assert data["year_hours"] == pytest.approx(9 / 60) and data["year_net_hours"] == pytest.approx(2 / 60)
    from robocore.tray.app import savings_text

    assert savings_text(data).split("\n")[2] == "Cette année\xa0: 0,1\xa0h (0,0\xa0h nettes)"


def test_still_away_at_the_end(qtbot: QtBot, tray: AttendedTray) -> None:
    """Away from minute 4 to the end at minute 10: 4 minutes of supervision; she is back for the next run."""
    clock: Clock = tray.clock_  # type: ignore[attr-defined]
    key = launch(qtbot, tray)
    clock.at(4)
    tray.set_away(True)
    clock.at(10)
    qtbot.waitUntil(lambda: key in tray.states and tray.states[key].phase.is_final, timeout=30000)
    assert tray.local.store.supervision_of(tray.states[key].run_id).minutes == pytest.approx(4.0)  # type: ignore[arg-type, union-attr]
    assert not tray.away_log.away and "Je m'absente" not in texts(tray.menu)


def test_a_local_run_can_be_cancelled(qtbot: QtBot, tray: AttendedTray) -> None:
    """A long run followed in the menu (progress, « Annuler cette exécution ») stops when cancelled; the tray
    kept answering meanwhile (the run is in a worker process)."""
    key = launch(qtbot, tray, nombre="200", pause="0.2")
    qtbot.waitUntil(lambda: tray.states[key].phase is Phase.RUNNING and tray.states[key].done >= 1, timeout=30000)
    assert any("Petit lot de dossiers\xa0:" in t and "/200" in t for t in texts(tray.menu))
    tray.cancel(tray.states[key].run_id)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: tray.states[key].phase.is_final, timeout=30000)
    assert tray.states[key].phase is Phase.CANCELLED and tray.states[key].done < 200
    assert tray.local.store.supervision_of(tray.states[key].run_id) is not None  # type: ignore[arg-type]


def test_invalid_inputs_are_refused_naming_the_input(local: LocalClient) -> None:
    from robocore.tray.api import InvalidInputs

    with pytest.raises(InvalidInputs) as refused:
        local.launch("petit-lot", {"nombre": 5000}, {}, "k-bad")
    assert refused.value.field == "nombre"
    assert local.store.list_runs() == []


def test_a_robot_edited_while_its_dialog_was_open_is_not_launched(local: LocalClient,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """As a server does: the form's `inputs_version` is checked, and a robot.yaml edited since refuses the launch
    (409 `inputs_changed`), recording nothing; the robot's detail gives the new version."""
    from robocore.tray.api import Refused

    version = local.robot("petit-lot")["inputs_version"]
    monkeypatch.setattr("robocore.server.catalog.RESCAN_SECONDS", 0.0)
    definition = local.robots_dir / "petit-lot" / "robot.yaml"
    definition.write_text(ROBOT.replace("label: Nombre de dossiers", "label: Dossiers à traiter"), encoding="utf-8")
    with pytest.raises(Refused) as refused:
        local.launch("petit-lot", {"nombre": 1}, {}, "k-old", inputs_version=version)
    assert (refused.value.status, refused.value.code) == (409, "inputs_changed")
    assert "rechargez le formulaire" in refused.value.message and local.store.list_runs() == []
    assert local.robot("petit-lot")["inputs_version"] != version


def test_a_local_launch_reads_starting_until_it_is_recorded(qtbot: QtBot, tray: AttendedTray) -> None:
    """Between « Lancer » and the run's record on this computer, the menu says the run is being launched, not
    that it waits for a server."""
    key = launch(qtbot, tray)
    assert tray.states[key].progress() == "Petit lot de dossiers\xa0: en cours de lancement"
    assert "Petit lot de dossiers\xa0: en cours de lancement" in texts(tray.menu)
    assert not any("serveur" in text for text in texts(tray.menu))
    qtbot.waitUntil(lambda: tray.states[key].phase.is_final, timeout=30000)


def test_a_launch_sent_twice_runs_once(local: LocalClient) -> None:
    first = local.launch("petit-lot", {"nombre": 1}, {}, "k-1")
    again = local.launch("petit-lot", {"nombre": 1}, {}, "k-1")
    assert again.id == first.id and again.replayed
    events = list(local.events(first.id))
    assert events[-1][0] == "end" and events[-1][1]["status"] == RunStatus.SUCCEEDED
    assert len(local.store.list_runs()) == 1


def test_report_payload_keeps_file_names_only() -> None:
    from robocore.supervision import AwayLog, Supervised

    run = {"id": "r1", "robot": "saisie", "status": "succeeded", "error": None, "minutes_saved": 12.0,
           "inputs": {"classeur": "/home/marie/Documents/demandes.xlsx", "portail": "http://p"},
           "counts": {"done": 4, "pending": 0}}
    payload = report_payload(run, {"classeur"}, Supervised.of(T0, T0 + dt.timedelta(minutes=6), AwayLog()), "poste")
    assert payload["inputs"] == {"classeur": "demandes.xlsx", "portail": "http://p"}
    assert payload["counts"] == {"done": 4} and payload["supervision_minutes"] == 6.0 and payload["host"] == "poste"
