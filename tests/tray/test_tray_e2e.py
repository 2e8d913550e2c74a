"""The tray launcher end to end on a virtual screen: a real `robo serve` with the demo robots, the demo portal,
Xvfb + trayer, and `python -m robocore.tray` driven with real clicks and keys (xdotool).

The tray runs as its own process, as an agent starts it; what it shows (menu entries, tooltip, notifications,
dialogs) is read from its automation journal (ROBOCORE_TRAY_AUTOMATION), never from its insides. Screenshots
go to artifacts/screens/tray-e2e-{menu,dialog,progress,notification}.png.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from robocore.demo import DEFAULT_PASSWORD, DEFAULT_USERNAME, PortalConfig, count_demandes, run_portal
from tests.conftest import ROOT, need_chromium, robo_cmd
from tests.integration.api_support import free_port
from tests.tray.test_packaging import SCREENS, tray_screen, windows  # noqa: F401 (tray_screen: a fixture)

ROBOT = "saisie-demandes"
TITLE = "Saisie des demandes de subvention"
PROCESS = "Instruction des demandes de subvention"
AGENT, GROUP = "agent.dupont", "ddets31"
SAMPLE = ROOT / "robots" / ROBOT / "demandes.xlsx"  # 50 rows, SUB-2026-0037's amount is invalid
ROWS, VALID = 50, 49
MINUTES = VALID * 6 + 5  # manual_minutes_per_item × items done + manual_minutes_per_run
NASTY_TITLE = "=cmd|' /C calc'!A0 <script>alert(1)</script> & Cie"
NASTY_PROCESS = "Contrôle \"spécial\" & <b>gras</b>"
NASTY = f"""robot: controle-special
title: {json.dumps(NASTY_TITLE)}
process: {{name: {json.dumps(NASTY_PROCESS)}, service: DDETS Test, manual_minutes_per_item: 1}}
steps:
  - use: flow.log
    with: {{message: bonjour}}
"""
SCREEN_W = 1024
WAIT = 60.0  # the longest a screen or a server state may take to show up
RUN_WAIT = 300.0  # a whole run of 50 requests on a slowed portal, on a loaded two-core machine


# ---- the processes ---------------------------------------------------------------------------------------
def stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, group: bool = False) -> None:
    """Stop one process we started (its process group with `group`: the server's workers and browsers)."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if group:  # children left behind by a killed parent
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class Server:
    """`robo serve` on a free port over a SQLite home, the local executor and a copy of the demo robots."""

    home: Path
    robots: Path
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ROBOCORE_", "QT_"))}
        return {**env, "ROBOCORE_HOME": str(self.home), "ROBOCORE_ROBOTS": str(self.robots),
                "ROBOCORE_EXECUTOR": "local", "ROBOCORE_SWEEP_SECONDS": "1", "ROBOCORE_LANGUAGE": "fr",
                "ROBOCORE_SECRET_COMPTE_PORTAIL_USERNAME": DEFAULT_USERNAME,
                "ROBOCORE_SECRET_COMPTE_PORTAIL_PASSWORD": DEFAULT_PASSWORD}

    def cli(self, *args: str) -> str:
        done = subprocess.run([*robo_cmd(), *args], env=self.env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([*robo_cmd(), "serve", "--port", str(self.port)], env=self.env(),
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self.proc is not None and (self.proc.poll() is not None or self.live()), "robo serve")
        assert self.proc.poll() is None, self.log.read_text()[-3000:]

    def live(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/health/live", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        stop(self.proc, sig, group=True)
        self.proc = None


@dataclass
class Tray:
    """`python -m robocore.tray --server URL` with the agent's token in the private credentials file."""

    screen: dict[str, str]
    folder: Path
    server: str
    token: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def journal(self) -> Path:
        return self.folder / "journal.jsonl"

    def start(self) -> None:
        config = self.folder / "config"
        credentials = config / "robocore" / "tray-credentials.json"
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(json.dumps({self.server: self.token}), encoding="utf-8")
        credentials.chmod(stat.S_IRUSR | stat.S_IWUSR)
        env = {**{k: v for k, v in self.screen.items() if not k.startswith("ROBOCORE_")},
               "XDG_CONFIG_HOME": str(config), "XDG_DATA_HOME": str(self.folder / "data"),
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "ROBOCORE_LANGUAGE": "fr",
               "ROBOCORE_TRAY_AUTOMATION": str(self.journal)}
        with (self.folder / "tray.log").open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "robocore.tray", "--server", self.server], env=env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        stop(self.proc)
        code = self.proc.returncode if self.proc else 0
        self.proc = None
        log = (self.folder / "tray.log").read_text(errors="replace")
        assert code == 0 and "Traceback" not in log, log[-3000:]

    def events(self, kind: str) -> list[dict[str, Any]]:
        if not self.journal.exists():
            return []
        lines = self.journal.read_text(encoding="utf-8").splitlines()
        return [e for e in map(json.loads, lines) if e["event"] == kind]

    def wait(self, kind: str, check: Callable[[dict[str, Any]], bool], what: str, since: int = 0,
             timeout: float = WAIT) -> dict[str, Any]:
        """The first `kind` event after the `since` first ones that passes `check` (the tray must stay up)."""
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            assert self.proc is not None and self.proc.poll() is None, (self.folder / "tray.log").read_text()[-3000:]
            found[:] = [e for e in self.events(kind)[since:] if check(e)]
            return bool(found)
        wait_for(seen, what, timeout, lambda: f"last {kind}: {(self.events(kind) or [None])[-1]}")
        return found[0]

    def mark(self, kind: str) -> int:
        return len(self.events(kind))


def wait_for(check: Callable[[], bool], what: str, timeout: float = WAIT,
             state: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"no {what} after {timeout:.0f} s {state()}"
        time.sleep(0.2)


# ---- the screen ------------------------------------------------------------------------------------------
def xdo(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def geometry(env: dict[str, str], window: str) -> tuple[int, int, int, int]:
    shown = dict(line.split("=", 1) for line in xdo(env, "getwindowgeometry", "--shell", window).split())
    return int(shown["X"]), int(shown["Y"]), int(shown["WIDTH"]), int(shown["HEIGHT"])


def tray_icon(env: dict[str, str]) -> tuple[int, int]:
    """The middle of the tray's icon, embedded in trayer's area at the top right of the screen."""
    found: list[tuple[int, int]] = []

    def embedded() -> bool:
        for window in windows(env, "--classname", "robocore-tray"):
            x, y, w, h = geometry(env, window)
            if y < 32 and x >= SCREEN_W - 120 and w < 64:
                found[:] = [(x + w // 2, y + h // 2)]
        return bool(found)
    wait_for(embedded, "tray icon in trayer's area")
    return found[0]


def open_menu(env: dict[str, str]) -> None:
    """A right click on the icon, as the agent does."""
    x, y = tray_icon(env)
    xdo(env, "mousemove", str(x), str(y), "click", "3")
    time.sleep(0.8)


def hover_icon(env: dict[str, str]) -> None:
    """The pointer on the icon until Qt shows its tooltip."""
    x, y = tray_icon(env)
    xdo(env, "mousemove", str(x - 3), str(y - 3), "sleep", "0.3", "mousemove", str(x), str(y))
    time.sleep(1.5)


GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1] + ["-platform", "xcb"])
x, y, w, h = (int(v) for v in sys.argv[2:6])
app.primaryScreen().grabWindow(0, x, y, w, h).save(sys.argv[1])
"""


def shoot(env: dict[str, str], name: str, box: tuple[int, int, int, int] = (SCREEN_W - 680, 0, 680, 420)) -> Path:
    """A part of the virtual screen (the top right corner by default: icon, menu, balloon) into the artefacts."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"tray-e2e-{name}.png"
    done = subprocess.run([sys.executable, "-c", GRAB, str(path), *map(str, box)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and path.is_file(), done.stderr
    return path


def launch_from_menu(env: dict[str, str], tray: Tray, downs: int, screenshot: str | None = None) -> dict[str, Any]:
    """Menu → the robot (the `downs`-th entry the keyboard reaches) → « Lancer… »: the dialog's journal line."""
    since = tray.mark("dialog")
    open_menu(env)
    xdo(env, "key", *(["Down"] * downs), "Right")
    time.sleep(0.6)
    if screenshot:
        shoot(env, screenshot)
    xdo(env, "key", "Return")
    return tray.wait("dialog", lambda e: e["title"] == f"Lancer\xa0: {TITLE}", "launch dialog", since)


def fill_dialog(env: dict[str, str], workbook: Path, portal: str, screenshot: str | None = None) -> None:
    """Type the workbook's path and the portal's address into the dialog, then « Lancer » (Enter)."""
    dialog: list[str] = []

    def shown() -> bool:
        dialog[:] = windows(env, "--name", f"^Lancer.*{TITLE}$")
        return bool(dialog)
    wait_for(shown, "dialog window")
    window = dialog[0]
    xdo(env, "windowfocus", "--sync", window)
    xdo(env, "key", "ctrl+a")
    xdo(env, "type", "--delay", "5", str(workbook))
    xdo(env, "key", "Tab", "Tab", "ctrl+a")
    xdo(env, "type", "--delay", "5", portal)
    time.sleep(0.4)
    if screenshot:
        x, y, w, h = geometry(env, window)
        shoot(env, screenshot, (max(x - 24, 0), max(y - 24, 0), w + 48, h + 48))
    xdo(env, "key", "Return")


# ---- the world -------------------------------------------------------------------------------------------
@dataclass
class World:
    screen: dict[str, str]
    tmp: Path
    server: Server
    admin: dict[str, str]
    tray: Tray
    stack: ExitStack

    def portal(self, name: str, slow_ms: int) -> tuple[str, Path]:
        """A fresh demo portal (its own database), every form POST delayed by `slow_ms`."""
        config = PortalConfig(data_dir=self.tmp / name, slow_rate=1.0 if slow_ms else 0.0, slow_ms=slow_ms, seed=1)
        return self.stack.enter_context(run_portal(config)), config.database

    def api(self, path: str, **params: Any) -> Any:
        answer = httpx.get(f"{self.server.url}/api/v1{path}", headers=self.admin, params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def runs(self) -> list[dict[str, Any]]:
        return list(self.api("/runs", robot=ROBOT, limit=100))


@pytest.fixture
def world(tray_screen: dict[str, str], tmp_path: Path) -> Iterator[World]:  # noqa: F811
    """Server, tokens, grants and tray: an admin makes the agent's token in a group granted `saisie-demandes`
    and the nasty-named `controle-special`, not `rapprochement-paiements`; the tray starts with that token."""
    need_chromium()
    robots = tmp_path / "robots"
    for name in (ROBOT, "rapprochement-paiements"):
        shutil.copytree(ROOT / "robots" / name, robots / name)
    (robots / "controle-special").mkdir()
    (robots / "controle-special" / "robot.yaml").write_text(NASTY, encoding="utf-8")
    (tmp_path / "home").mkdir()
    server = Server(tmp_path / "home", robots, tmp_path / "serve.log")
    admin = {"Authorization": f"Bearer {server.cli('tokens', 'create', '--name', 'admin', '--role', 'admin')}"}
    tray: Tray | None = None
    with ExitStack() as stack:
        try:
            server.start()
            made = httpx.post(f"{server.url}/api/v1/tokens", headers=admin, timeout=10,
                              json={"name": AGENT, "role": "agent", "groups": [GROUP]})
            assert made.status_code == 201, made.text
            for robot in (ROBOT, "controle-special"):
                granted = httpx.post(f"{server.url}/api/v1/grants", headers=admin, timeout=10,
                                     json={"robot": robot, "group": GROUP})
                assert granted.status_code == 201, granted.text
            (tmp_path / "tray").mkdir()
            tray = Tray(tray_screen, tmp_path / "tray", server.url, made.json()["token"])
            tray.start()
            yield World(tray_screen, tmp_path, server, admin, tray, stack)
        finally:
            try:
                if tray is not None and tray.proc is not None:
                    tray.stop()
            finally:
                server.stop()


# ---- the scenarios ---------------------------------------------------------------------------------------
MENU = ["Contrôle \"spécial\" & <b>gras</b>", NASTY_TITLE, "  Lancer…", "  Épingler dans les favoris",
        PROCESS, TITLE, "  Lancer…", "  Épingler dans les favoris",
        "", "Mes gains", "Proposer une automatisation", "", "Quitter"]
TO_SAISIE = 2  # Down presses from the menu's top to « Saisie des demandes de subvention »


def final_notice(tray: Tray, since: int) -> dict[str, Any]:
    return tray.wait("notice", lambda e: e["title"] == f"{TITLE}\xa0: terminée avec erreurs", "end notification",
                     since, RUN_WAIT)


def check_notice(notice: dict[str, Any]) -> None:
    """Outcome, the rejected row and why in plain French, minutes saved."""
    lines = notice["text"].split("\n")
    assert lines[0] == f"{ROWS} éléments traités sur {ROWS}.", lines
    assert lines[1] == "Éléments refusés\xa0: 1", lines
    assert lines[2].startswith("• SUB-2026-0037\xa0: Ligne ") and "montant invalide" in lines[2], lines
    assert lines[-1] == f"Temps gagné\xa0: {MINUTES}\xa0min.", lines


@pytest.mark.e2e
@pytest.mark.browser
def test_agent_launches_saisie_from_the_tray_and_is_told_the_outcome(world: World) -> None:
    """The menu lists only the agent's robots by process (nasty names as plain text); « Lancer… » opens the
    dialog made from the robot's inputs; the workbook typed in, the run starts, its progress shows in the
    tooltip, and the end notification gives the outcome, the rejected row and why, and the minutes saved.
    The API records exactly one run, with those inputs, authored by the agent."""
    tray, screen = world.tray, world.screen
    portal, database = world.portal("portail", slow_ms=150)
    workbook = world.tmp / "demandes semaine 49.xlsx"
    shutil.copyfile(SAMPLE, workbook)

    menu = tray.wait("menu", lambda e: PROCESS in e["entries"], "menu with the robots")
    assert menu["entries"] == MENU and menu["online"], menu
    assert not any("rapprochement" in e.lower() or "Rapprochement" in e for e in menu["entries"])
    assert launch_from_menu(screen, tray, TO_SAISIE, screenshot="menu")["fields"] == [
        "Classeur des demandes", "Adresse du portail"]

    runs_before, notices = tray.mark("run"), tray.mark("notice")
    fill_dialog(screen, workbook, portal, screenshot="dialog")
    running = tray.wait("run", lambda e: e["phase"] == "running" and e["done"] >= 5, "run in progress",
                        runs_before, RUN_WAIT)
    hover_icon(screen)
    shoot(screen, "progress")
    tooltip = tray.wait("menu", lambda e: "éléments" in e["tooltip"], "progress in the tooltip")["tooltip"]
    assert tooltip.startswith(f"Robocore\n{TITLE}\xa0: ") and tooltip.endswith(f"/{ROWS} éléments"), tooltip

    notice = final_notice(tray, notices)
    time.sleep(1.0)  # the balloon drawn
    shoot(screen, "notification")
    check_notice(notice)

    (run,) = world.runs()
    assert run["id"] == running["run_id"] and run["created_by"] == AGENT and run["trigger"] == "api"
    assert run["status"] == "completed_with_errors"
    assert run["inputs"]["portail"] == portal
    assert Path(run["inputs"]["classeur"]).name == workbook.name
    detail = world.api(f"/runs/{run['id']}")
    assert detail["counts"] == {"done": VALID, "business_error": 1} and detail["minutes_saved"] == MINUTES
    assert count_demandes(database) == VALID


@pytest.mark.e2e
@pytest.mark.browser
def test_tray_recovers_from_a_server_restart_and_sends_an_offline_launch_once(world: World) -> None:
    """The server killed mid-run and started again on the same home: the tray shows « reconnecting », then the
    run's final outcome (resumed by the server, each request entered once). Then, the server stopped, a launch
    made from the tray is kept in its queue (the tray itself restarted meanwhile) and runs exactly once when
    the server is back."""
    tray, screen, server = world.tray, world.screen, world.server
    workbook = world.tmp / "demandes.xlsx"
    shutil.copyfile(SAMPLE, workbook)

    # the server stopped mid-run and restarted
    portal, database = world.portal("portail-1", slow_ms=300)
    tray.wait("menu", lambda e: PROCESS in e["entries"], "menu with the robots")
    launch_from_menu(screen, tray, TO_SAISIE)
    runs_before, notices = tray.mark("run"), tray.mark("notice")
    fill_dialog(screen, workbook, portal)
    tray.wait("run", lambda e: e["phase"] == "running" and e["done"] >= 8, "run in progress", runs_before, RUN_WAIT)
    server.stop(signal.SIGKILL)
    assert 0 < count_demandes(database) < VALID
    tray.wait("run", lambda e: e["phase"] == "reconnecting", "reconnecting", runs_before)
    server.start()
    check_notice(final_notice(tray, notices))
    (run,) = world.runs()
    assert run["status"] == "completed_with_errors" and run["created_by"] == AGENT
    assert count_demandes(database) == VALID  # resumed: none entered twice

    # a launch made while the server is down
    portal, database = world.portal("portail-2", slow_ms=0)
    server.stop()
    dialog = launch_from_menu(screen, tray, TO_SAISIE)
    assert "sera gardé" in dialog["problem"], dialog
    runs_before, notices = tray.mark("run"), tray.mark("notice")
    fill_dialog(screen, workbook, portal)
    tray.wait("notice", lambda e: e["title"] == "Lancement gardé jusqu'au retour du serveur", "kept notice", notices)
    tray.wait("run", lambda e: e["phase"] == "queued_offline", "queued launch", runs_before)
    tray.stop()  # the agent's session ends: the launch stays in the tray's queue on disk
    notices = tray.mark("notice")
    tray.start()
    with sqlite3.connect(tray.folder / "data" / "robocore" / "tray-queue.sqlite3") as queue:
        assert queue.execute("SELECT state, count(*) FROM launches GROUP BY state ORDER BY state").fetchall() == [
            ("pending", 1), ("sent", 1)]
    time.sleep(3)  # the restarted tray finds the server down too
    server.start()
    check_notice(final_notice(tray, notices))
    wait_for(lambda: len(world.runs()) == 2 and all(r["status"] == "completed_with_errors" for r in world.runs()),
             "second run finished")
    time.sleep(5)  # another refresh of the tray: nothing sent twice
    assert len(world.runs()) == 2 and count_demandes(database) == VALID


# ---- the two tray changes these scenarios needed, without a screen (fake server, offscreen Qt) --------------
def test_offline_launch_opens_the_form_last_read_and_the_journal_says_what_is_shown(
        qtbot: Any, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Server unreachable when « Lancer… » is clicked: the dialog opens from the robot's inputs last read and
    says the launch will be kept; a robot never read gives a notice instead. The journal holds the menu, the
    dialogs and the notice as shown, and never the token."""
    from robocore.tray.api import TrayClient
    from robocore.tray.app import TrayApp
    from robocore.tray.credentials import Token
    from robocore.tray.dialog import LaunchDialog
    from robocore.tray.journal import Journal
    from robocore.tray.prefs import Prefs
    from robocore.tray.queue import LaunchQueue
    from tests.tray.fake_server import TOKEN

    problems: list[str] = []
    monkeypatch.setattr(LaunchDialog, "exec", lambda self: problems.append(self.problem.text()) or 0)
    journal = tmp_path / "journal.jsonl"
    client = TrayClient("http://robocore.test", Token(TOKEN), transport=server.transport)
    app = TrayApp(client, LaunchQueue(tmp_path / "q.sqlite3"), Prefs(tmp_path / "tray.json"), Journal(journal))
    app.tray.showMessage = lambda *args: None  # type: ignore[method-assign]
    app.refresh()
    qtbot.waitUntil(lambda: bool(app.robots), timeout=5000)
    app.launch("saisie-demandes")
    qtbot.waitUntil(lambda: len(problems) == 1, timeout=5000)
    server.down = True
    app.launch("saisie-demandes")
    qtbot.waitUntil(lambda: len(problems) == 2, timeout=5000)
    app.launch("relances")  # never opened: no form to show
    qtbot.waitUntil(lambda: any(e["event"] == "notice" for e in map(json.loads, journal.read_text().splitlines())),
                    timeout=5000)
    app.timer.stop()
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert problems == ["", "Le serveur http://robocore.test est injoignable. Le lancement sera gardé et envoyé au "
                            "retour du serveur."]
    dialogs = [e for e in lines if e["event"] == "dialog"]
    assert [d["title"] for d in dialogs] == ["Lancer\xa0: Saisie des demandes de subvention"] * 2
    assert dialogs[1]["problem"] == problems[1] and dialogs[0]["fields"] == ["Classeur des demandes",
                                                                             "Adresse du portail"]
    (notice,) = [e for e in lines if e["event"] == "notice"]
    assert notice["title"] == "Impossible d'ouvrir le formulaire de lancement"
    assert "Saisie des demandes de subvention" in [e for e in lines if e["event"] == "menu"][-1]["entries"]
    assert TOKEN not in journal.read_text(encoding="utf-8")
