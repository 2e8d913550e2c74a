"""robocore.tray.app: the tray's menu from the server, offline icon and backoff, a launch queued offline
then sent and followed to its notification (fake server, QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from robocore.tray.api import TrayClient
from robocore.tray.app import TrayApp
from robocore.tray.credentials import Token
from robocore.tray.dialog import LaunchDialog
from robocore.tray.form import form_from_detail
from robocore.tray.prefs import Prefs
from robocore.tray.queue import LaunchQueue, LaunchState
from robocore.tray.runstate import Phase
from tests.tray.fake_server import ROBOTS, TOKEN, FakeServer


def texts(menu: QMenu) -> list[str]:
    out = []
    for action in menu.actions():
        out.append(action.text())
        if action.menu():
            out.extend("  " + t for t in texts(action.menu()))  # type: ignore[arg-type]
    return out


@pytest.fixture
def tray(qtbot: QtBot, server: FakeServer, tmp_path: Path) -> Iterator[TrayApp]:
    client = TrayClient("http://robocore.test", Token(TOKEN), transport=server.transport)
    app = TrayApp(client, LaunchQueue(tmp_path / "q.sqlite3"), Prefs(tmp_path / "tray.json"))
    app.notices: list[tuple[str, str]] = []  # type: ignore[misc]
    app.tray.showMessage = lambda title, text, *a: app.notices.append((title, text))  # type: ignore[method-assign,attr-defined]
    yield app
    app.timer.stop()


def test_menu_lists_granted_robots(qtbot: QtBot, tray: TrayApp) -> None:
    """After the first refresh the menu shows the robots by process and the fixed entries in French."""
    tray.refresh()
    qtbot.waitUntil(lambda: bool(tray.robots), timeout=5000)
    shown = texts(tray.menu)
    assert "Subventions" in shown and "Saisie des demandes de subvention" in shown
    assert "  Lancer…" in shown and "  Épingler dans les favoris" in shown
    assert shown[-4:] == ["Mes gains", "Proposer une automatisation", "", "Quitter"]
    assert "Ouvrir le tableau de bord" not in shown  # the fake server has no dashboard
    tray._pin("relances", True)
    assert texts(tray.menu)[:2] == ["Favoris", "★ Relances des dossiers"]


def test_unreachable_server_icon_and_backoff(qtbot: QtBot, tray: TrayApp, server: FakeServer) -> None:
    """Server down: the tooltip says so, the menu too, and the next try waits about 2 s, then 4 s."""
    server.down = True
    tray.refresh()
    qtbot.waitUntil(lambda: not tray.online, timeout=5000)
    assert "injoignable" in tray.tray.toolTip() and texts(tray.menu)[0] == "Serveur injoignable\xa0: nouvel essai…"
    assert 1800 <= tray.timer.interval() <= 2200
    tray.timer.stop()
    tray.refresh()
    qtbot.waitUntil(lambda: tray.timer.interval() > 3000, timeout=5000)
    assert 3600 <= tray.timer.interval() <= 4400


def test_offline_launch_sent_when_back_and_followed(qtbot: QtBot, tray: TrayApp, server: FakeServer,
                                                    tmp_path: Path) -> None:
    """A launch made offline is kept, sent once when the server is back, followed to its end, and a
    notification gives the outcome, the rejected items and the minutes saved."""
    book = tmp_path / "demandes.xlsx"
    book.write_bytes(b"PK")
    form = form_from_detail(ROBOTS["saisie-demandes"])
    dialog = LaunchDialog(form)
    qtbot.addWidget(dialog)
    dialog.widgets["classeur"].path.setText(str(book))  # type: ignore[attr-defined]
    dialog.accept()
    server.down = True
    tray._send(form, dialog)
    qtbot.waitUntil(lambda: bool(tray.notices), timeout=5000)
    assert tray.notices[0][0] == "Lancement gardé jusqu'au retour du serveur"
    (key,) = tray.states
    assert tray.queue.get(key).state is LaunchState.PENDING  # type: ignore[union-attr]
    assert "en attente du serveur" in texts(tray.menu)[1]
    server.down = False
    server.finish_at_once = {"status": "completed_with_errors", "counts": {"done": 11, "business_error": 1},
                             "minutes_saved": 33.0, "items": [
                                 {"key": "L7", "status": "done", "error": None},
                                 {"key": "L8 <script>alert(1)</script>", "status": "business_error",
                                  "error": "SIRET absent\nTraceback…"}]}
    tray.timer.stop()
    tray.refresh()
    qtbot.waitUntil(lambda: tray.states[key].phase.is_final, timeout=5000)
    assert tray.states[key].phase is Phase.COMPLETED_WITH_ERRORS and tray.states[key].run_id == "r1"
    qtbot.waitUntil(lambda: len(tray.notices) >= 2, timeout=5000)
    title, text = tray.notices[-1]
    assert title == "Saisie des demandes de subvention\xa0: terminée avec erreurs"
    assert text.split("\n") == ["12 éléments traités sur 12.", "Éléments refusés\xa0: 1",
                                 "• L8 <script>alert(1)</script>\xa0: SIRET absent", "Temps gagné\xa0: 33\xa0min."]
    assert len(server.runs) == 1 and tray.prefs.values("saisie-demandes")["classeur@folder"] == str(tmp_path)


def test_inputs_changed_while_the_dialog_was_open_reload_it(qtbot: QtBot, tray: TrayApp, server: FakeServer,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The robot's inputs change while the agent fills the dialog: the launch sends the version the dialog was
    built from, the server refuses it (409 `inputs_changed`), no run is made, and the dialog opens again on the
    robot's new inputs with the reason above its fields (no « Lancement refusé » notification)."""
    book = tmp_path / "demandes.xlsx"
    book.write_bytes(b"PK")
    opened: list[LaunchDialog] = []

    def execute(dialog: LaunchDialog) -> int:
        opened.append(dialog)
        if len(opened) > 1:
            return LaunchDialog.DialogCode.Rejected
        dialog.widgets["classeur"].path.setText(str(book))  # type: ignore[attr-defined]
        server.inputs_versions["saisie-demandes"] = "v4"  # an engineer edits the robot meanwhile
        dialog.accept()
        return LaunchDialog.DialogCode.Accepted
    monkeypatch.setattr(LaunchDialog, "exec", execute)
    tray.launch("saisie-demandes")
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=5000)
    first, second = opened
    assert first.form.inputs_version == "v3" and second.form.inputs_version == "v4"
    assert [c["inputs_version"] for c in server.launch_calls] == ["v3"] and server.runs == {}
    assert not first.problem.text() and not second.problem.isHidden()
    assert second.problem.text() == ("Les entrées de ce robot ont changé pendant que le formulaire était ouvert\xa0: "
                                     "le formulaire montre maintenant ses nouvelles entrées. Vérifiez les valeurs et "
                                     "lancez de nouveau.")
    (state,) = tray.states.values()
    assert state.phase is Phase.REFUSED and "rechargez le formulaire" in (state.error or "")
    assert tray.notices == []
    assert second.values()["portail"] == "http://127.0.0.1:8765"  # the new form, the agent's values kept


def test_the_dashboard_entry_for_a_manager_and_never_a_forbidden_page_for_an_agent(
        qtbot: QtBot, tray: TrayApp, server: FakeServer) -> None:
    """Refreshed every minute, the menu does not ask the dashboard's page again: an agent's tray never asks it
    (the server would log a refusal each minute), a manager's asks it once and shows « Ouvrir le tableau de bord »."""
    for _ in range(3):
        with qtbot.waitSignal(tray.bridge.refreshed, timeout=5000):
            tray.refresh()
    paths = [p for _m, p, _q in server.requests]
    assert "/" not in paths and paths.count("/api/v1/me") == 1
    assert "Ouvrir le tableau de bord" not in texts(tray.menu)
    server.role = "manager"
    manager = TrayApp(TrayClient("http://robocore.test", Token(TOKEN), transport=server.transport),
                      tray.queue, tray.prefs)
    try:
        for _ in range(2):
            with qtbot.waitSignal(manager.bridge.refreshed, timeout=5000):
                manager.refresh()
        assert manager.dashboard and "Ouvrir le tableau de bord" in texts(manager.menu)
        assert [p for _m, p, _q in server.requests].count("/") == 1
    finally:
        manager.timer.stop()


def test_notice_text_keeps_markup_as_text() -> None:
    """Item keys or reasons with markup reach the notification escaped (Qt and Linux daemons read markup)."""
    from robocore.tray.look import notice_text
    assert notice_text("• L8 <script>alert(1)</script>\nfin") == "• L8 &lt;script&gt;alert(1)&lt;/script&gt;<br>fin"
    assert notice_text("12 éléments traités sur 12.") == "12 éléments traités sur 12."


def test_a_refused_token_offers_to_sign_in_again(qtbot: QtBot, server: FakeServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A revoked or expired token (401): the menu offers « Se reconnecter »; the browser sign-in's new token
    replaces the client's, the entry goes and the robots come back."""
    client = TrayClient("http://robocore.test", Token("rbc_revoked"), transport=server.transport)
    app = TrayApp(client, LaunchQueue(tmp_path / "q.sqlite3"), Prefs(tmp_path / "tray.json"))
    try:
        app.refresh()
        qtbot.waitUntil(lambda: app.signed_out and not app.online, timeout=5000)
        assert "Se reconnecter" in texts(app.menu)
        made: list[str] = []

        class SignIn:  # stands for the browser round trip of robocore.tray.signin
            def __init__(self, server_url: str, _credentials: object) -> None:
                made.append(server_url)

            def run(self) -> Token:
                return Token(TOKEN)

        monkeypatch.setattr("robocore.tray.app.LoopbackSignIn", SignIn)
        monkeypatch.setattr("robocore.tray.app.TrayClient",
                            lambda url, token, lang: TrayClient(url, token, lang=lang, transport=server.transport))
        app.sign_in()
        qtbot.waitUntil(lambda: bool(app.robots), timeout=5000)
        assert made == ["http://robocore.test"] and not app.signed_out and "Se reconnecter" not in texts(app.menu)
    finally:
        app.timer.stop()
