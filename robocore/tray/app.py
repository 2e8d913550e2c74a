"""The tray icon: the agent's robots in its menu, launches through the dialog and the queue, runs followed.

Network calls run in Python threads; their results come back to the Qt thread through the signals of
`Bridge` (queued connections), so widgets are only touched by the Qt thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu, QSystemTrayIcon, QWidgetAction

from robocore.i18n import current
from robocore.i18n import gettext as _
from robocore.tray import runstate
from robocore.tray.api import (
    INPUTS_CHANGED,
    Backend,
    InvalidInputs,
    Launched,
    Refused,
    TrayApiError,
    TrayClient,
    Unauthenticated,
    Unreachable,
)
from robocore.tray.backoff import Backoff
from robocore.tray.credentials import Credentials, Token
from robocore.tray.dialog import LaunchDialog
from robocore.tray.form import LaunchForm, form_from_detail, idea_form, remembered
from robocore.tray.journal import Journal, menu_texts
from robocore.tray.look import STATUS_MARK, icon, menu_text, notice_text
from robocore.tray.menu import MenuModel, RobotEntry, build_menu
from robocore.tray.prefs import Prefs
from robocore.tray.queue import LaunchQueue, LaunchState, Outcome
from robocore.tray.runstate import Phase, RunState
from robocore.tray.signin import LoopbackSignIn, SignInError

REFRESH_MS = 60_000


class Bridge(QObject):
    """Results of the network threads, delivered in the Qt thread."""

    refreshed = Signal(object, object, bool)  # robots, runs, dashboard available
    offline = Signal(str)
    detail = Signal(str, object, str)  # robot, detail (None on error), problem to show
    outcome = Signal(object)  # queue.Outcome
    run = Signal(object)  # RunState
    notice = Signal(str, str)  # title, text
    signed_in = Signal(object)  # credentials.Token, after « Se reconnecter »


class TrayApp(QObject):
    """The tray icon and its menu for one server and one agent."""

    local_runs = False  # True in attended mode: robots run on this computer (no server to wait for)

    def __init__(self, client: Backend, queue: LaunchQueue, prefs: Prefs, journal: Journal | None = None) -> None:
        super().__init__()
        self.client: Backend = client
        self.queue, self.prefs = queue, prefs
        self.journal = journal or Journal()
        self.details: dict[str, dict[str, Any]] = {}  # robots' inputs last read: a launch form while offline
        self.bridge = Bridge()
        self.backoff = Backoff()
        self.robots: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        self.states: dict[str, RunState] = {}  # by idempotency key
        self.titles: dict[str, str] = {}
        self.online, self.dashboard, self.query = True, False, ""
        self.last_finished: RunState | None = None
        self.tray = QSystemTrayIcon(icon("#000091"))
        self.menu = QMenu()
        self.tray.setContextMenu(self.menu)
        self.tray.messageClicked.connect(self._open_last_run)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.refresh)
        self.bridge.refreshed.connect(self._on_refreshed)
        self.bridge.offline.connect(self._on_offline)
        self.bridge.detail.connect(self._on_detail)
        self.bridge.outcome.connect(self._on_outcome)
        self.bridge.run.connect(self._on_run)
        self.bridge.notice.connect(self._notice)
        self.bridge.signed_in.connect(self._on_signed_in)
        self.signed_out = False  # a 401: the menu offers « Se reconnecter »
        self._rebuild()

    # ---- connection -----------------------------------------------------------------------------
    def start(self) -> None:
        self.tray.show()
        self.refresh()

    def _background(self, work: Callable[[], None]) -> None:
        threading.Thread(target=work, daemon=True, name="robocore-tray").start()

    def refresh(self) -> None:
        """Read the robots and runs again, then send what the queue keeps; offline: retry with backoff."""
        def work() -> None:
            try:
                robots, runs = self.client.robots(), self.client.runs(limit=200)
                dashboard = self.client.has_dashboard()
            except Unauthenticated as exc:
                self.signed_out = True
                self.bridge.offline.emit(exc.message)
                return
            except TrayApiError as exc:
                self.bridge.offline.emit(exc.message)
                return
            self.bridge.refreshed.emit(robots, runs, dashboard)
            for outcome in self.queue.flush(self.client):
                self.bridge.outcome.emit(outcome)
        self._background(work)

    def _on_refreshed(self, robots: list[dict[str, Any]], runs: list[dict[str, Any]], dashboard: bool) -> None:
        self.robots, self.runs, self.dashboard, self.online = robots, runs, dashboard, True
        self.titles = {str(r["robot"]): str(r.get("title") or r["robot"]) for r in robots}
        self.backoff.reset()
        self.timer.start(REFRESH_MS)
        self._rebuild()

    def _on_offline(self, message: str) -> None:
        self.online = False
        delay = self.backoff.delay()
        self.tray.setIcon(icon("#666666"))
        self.tray.setToolTip(_("Robocore: {problem} Next try in {seconds} s.", problem=message,
                               seconds=round(delay)))
        self.timer.start(int(delay * 1000))
        self._rebuild()

    def sign_in(self) -> None:
        """« Se reconnecter »: the server's OpenID Connect login in the browser, in a worker thread."""
        def work() -> None:
            try:
                token = LoopbackSignIn(self.client.server, Credentials()).run()
            except SignInError as exc:
                self.bridge.notice.emit(_("Sign in again"), str(exc))
                return
            self.bridge.signed_in.emit(token)
        self._background(work)

    def _on_signed_in(self, token: Token) -> None:
        server = self.client.server
        self.client.close()
        self.client = TrayClient(server, token, lang=current())
        self.signed_out = False
        self.refresh()

    # ---- the menu -------------------------------------------------------------------------------
    def model(self) -> MenuModel:
        return build_menu(self.robots, self.runs, self.prefs.pinned(), self.query)

    def _rebuild(self) -> None:
        self.menu.clear()
        if not self.online:
            self.menu.addAction(_("Server unreachable: retrying…")).setEnabled(False)
        for state in self.states.values():
            if not state.phase.is_final:
                self._progress_entry(state)
        self._run_entries()
        model = self.model()
        if model.searchable:
            self._search_field()
        if model.favourites:
            self.menu.addSection(_("Favourites"))
            for entry in model.favourites:
                self._robot_menu(self.menu, entry)
        for group in model.groups:
            self.menu.addSection(group.process or _("Other robots"))  # a section shows & as it is
            for entry in group.robots:
                self._robot_menu(self.menu, entry)
        if not model.robots and self.online:
            self.menu.addAction(_("No robot found") if model.query else _("No robot granted")).setEnabled(False)
        self.menu.addSeparator()
        self.menu.addAction(_("My time saved"), self.show_savings)
        if self.dashboard:
            self.menu.addAction(_("Open the dashboard"), self.open_dashboard)
        self.menu.addAction(_("Suggest an automation"), self.suggest)
        self.menu.addSeparator()
        if self.signed_out:
            self.menu.addAction(_("Sign in again"), self.sign_in)
        self.menu.addAction(_("Quit"), QApplication.quit)
        self._tooltip()
        self.journal.write("menu", entries=menu_texts(self.menu), tooltip=self.tray.toolTip(), online=self.online)

    def _search_field(self) -> None:
        field = QLineEdit()
        field.setPlaceholderText(_("Search a robot"))
        field.setAccessibleName(_("Search a robot"))
        field.setText(self.query)
        field.textChanged.connect(self._on_search)
        action = QWidgetAction(self.menu)
        action.setDefaultWidget(field)
        self.menu.addAction(action)

    def _on_search(self, text: str) -> None:
        self.query = text
        QTimer.singleShot(0, self._rebuild_keep_focus)

    def _rebuild_keep_focus(self) -> None:
        self._rebuild()
        for action in self.menu.actions():
            if isinstance(action, QWidgetAction) and isinstance(action.defaultWidget(), QLineEdit):
                action.defaultWidget().setFocus()

    def _robot_menu(self, parent: QMenu, entry: RobotEntry) -> None:
        sub = parent.addMenu(menu_text(("★ " if entry.pinned else "") + entry.title))
        sub.addAction(_("Launch…"), partial(self.launch, entry.name))
        pin = _("Unpin") if entry.pinned else _("Pin to favourites")
        sub.addAction(pin, partial(self._pin, entry.name, not entry.pinned))
        if entry.last_runs:
            sub.addSection(_("Last runs"))
        for run in entry.last_runs:
            when = run.at.astimezone().strftime("%d/%m %H:%M") if run.at else ""
            text = f"{STATUS_MARK.get(run.status, '·')} {when} {runstate.phase_text(_phase(run.status))}"
            shown = sub.addAction(menu_text(text + (f" — {run.error}" if run.error else "")))
            shown.setEnabled(False)

    def _progress_entry(self, state: RunState) -> None:
        sub = self.menu.addMenu(menu_text(state.progress()))
        if state.run_id and state.phase in (Phase.SENT, Phase.RUNNING):
            sub.addAction(_("Cancel this run"), partial(self.cancel, state.run_id))

    def _tooltip(self) -> None:
        running = [s.progress() for s in self.states.values() if not s.phase.is_final]
        if self.online:
            self.tray.setIcon(icon("#000091", busy=bool(running)))
            self.tray.setToolTip("\n".join(["Robocore", *running]))

    def _pin(self, robot: str, on: bool) -> None:
        self.prefs.pin(robot, on)
        self._rebuild()

    # ---- launching ------------------------------------------------------------------------------
    def launch(self, robot: str, problem: str = "") -> None:
        """Read the robot's inputs (they may have changed), then open the dialog."""
        def work() -> None:
            try:
                detail = self.client.robot(robot)
            except Unreachable as exc:  # the form last read: the launch waits in the queue for the server
                kept = self.details.get(robot)
                self.bridge.detail.emit(robot, kept, _("{problem} The launch will be kept and sent when the "
                                                       "server is back.", problem=exc.message) if kept
                                        else exc.message)
                return
            except TrayApiError as exc:
                self.bridge.detail.emit(robot, None, exc.message)
                return
            self.details[robot] = detail
            self.bridge.detail.emit(robot, detail, problem)
        self._background(work)

    def _on_detail(self, robot: str, detail: dict[str, Any] | None, problem: str) -> None:
        if detail is None:
            self._notice(_("Cannot open the launch form"), problem)
            return
        form = form_from_detail(detail)
        dialog = LaunchDialog(form, self.prefs.values(robot))
        if problem:
            dialog.show_problem(problem)
        self.journal.write("dialog", title=dialog.windowTitle(), fields=[f.label for f in form.fields],
                           problem=problem)
        if dialog.exec() == LaunchDialog.DialogCode.Accepted:
            self._send(form, dialog)

    def _send(self, form: LaunchForm, dialog: LaunchDialog) -> None:
        checked = dialog.checked
        self.prefs.remember(form.robot, remembered(form, checked))
        queued = self.queue.add(form.robot, checked.inputs, checked.files,  # kept before it is sent
                                inputs_version=form.inputs_version)
        self.states[queued.key] = runstate.queued_offline(queued.key, form.robot, form.title, local=self.local_runs)
        self._launched(queued.key)
        self._rebuild()
        self._background(lambda: self.bridge.outcome.emit(self.queue.send(self.client, queued)))

    def _on_outcome(self, outcome: Outcome) -> None:
        launch, error = outcome.launch, outcome.error
        state = self.states.get(launch.key) or runstate.queued_offline(
            launch.key, launch.robot, self.titles.get(launch.robot, launch.robot), local=self.local_runs)
        if launch.state is LaunchState.SENT and launch.run_id:
            self.states[launch.key] = runstate.sent(state, launch.run_id)
            self.follow(self.states[launch.key])
        elif launch.state is LaunchState.REFUSED:
            self.states[launch.key] = runstate.refused(state, launch.last_error or "")
            if isinstance(error, Refused) and error.code == INPUTS_CHANGED:  # the dialog reloads, new inputs
                self.launch(launch.robot, problem=_("The inputs of this robot changed while the form was open: the "
                                                    "form now shows its new inputs. Check the values and launch "
                                                    "again."))
            elif isinstance(error, InvalidInputs):  # a value the server refuses
                self.launch(launch.robot, problem=error.message)
            else:
                self._notice(_("Launch refused: {title}", title=state.title), launch.last_error or "")
        else:
            self.states[launch.key] = state
            if isinstance(error, Unauthenticated):
                self.signed_out = True
                self._notice(_("Sign in again"), error.message)
            elif error is not None:
                self._notice(_("Launch kept until the server is back"), error.message)
            if isinstance(error, Unreachable):
                self._on_offline(error.message)
        self._journal_run(self.states[launch.key])
        self._rebuild()

    # ---- following a run ------------------------------------------------------------------------
    def follow(self, state: RunState) -> None:
        """Follow the run's events until its end; when the server is lost, read the run again with backoff."""
        run_id = state.run_id
        assert run_id is not None

        def work() -> None:
            current, backoff = state, Backoff()
            while not current.phase.is_final:
                try:
                    if current.phase is Phase.RECONNECTING:
                        current = runstate.observed(current, self.client.run(run_id))
                        if current.phase.is_final:
                            current = self._final_detail(current, run_id)
                            break
                        self.bridge.run.emit(current)
                    for _name, data in self.client.events(run_id):
                        current = runstate.observed(current, data)
                        if not current.phase.is_final:  # the end is shown once its detail is read
                            self.bridge.run.emit(current)
                    if not current.phase.is_final:  # the stream closed early: the server is stopping
                        raise Unreachable(_("The connection to the server was lost."))
                    current = self._final_detail(current, run_id)
                    backoff.reset()
                except TrayApiError as exc:
                    current = runstate.lost(current, exc.message)
                    self.bridge.run.emit(current)
                    threading.Event().wait(backoff.delay())
            self.bridge.run.emit(current)
        self._background(work)

    def _final_detail(self, state: RunState, run_id: str) -> RunState:
        """A finished run read once more: its minutes saved and the items it rejected, with their reason."""
        state = runstate.observed_final(state, self.client.run(run_id))
        if state.business_errors:
            state = runstate.with_rejected(state, self.client.rejected(run_id))
        return state

    def _journal_run(self, state: RunState) -> None:
        self.journal.write("run", key=state.key, robot=state.robot, phase=state.phase.value, run_id=state.run_id,
                           done=state.done, total=state.total, business_errors=state.business_errors,
                           shown=state.progress())

    def _on_run(self, state: RunState) -> None:
        before = self.states.get(state.key)
        self.states[state.key] = state
        self._journal_run(state)
        if state.phase.is_final and (before is None or not before.phase.is_final):
            self.last_finished = state
            self._finished(state)
            self._notice(state.progress(), self._summary(state))
            self.refresh()
        self._rebuild()

    def _summary(self, state: RunState) -> str:
        lines = [_("{done} of {total} items processed.", done=state.done, total=state.total)]
        if state.business_errors:
            lines.append(_("Items rejected: {n}", n=state.business_errors))
            lines.extend(_("• {key}: {reason}", key=key, reason=reason) for key, reason in state.rejected)
        if state.error:
            lines.append(state.error)
        if state.minutes_saved:
            lines.append(_("Time saved: {minutes} min.", minutes=round(state.minutes_saved)))
        return "\n".join(lines)

    # ---- hooks of the attended mode (robocore.tray.attended) ------------------------------------
    def _launched(self, key: str) -> None:
        """The agent clicked « Lancer » (the launch `key` is in the queue)."""

    def _run_entries(self) -> None:
        """Menu entries shown while runs are followed, after their progress."""

    def _finished(self, state: RunState) -> None:
        """A followed run reached its final state, before its notification."""

    def cancel(self, run_id: str) -> None:
        def work() -> None:
            try:
                self.client.cancel(run_id)
            except TrayApiError as exc:
                self.bridge.notice.emit(_("Cannot cancel the run"), exc.message)
        self._background(work)

    # ---- other entries --------------------------------------------------------------------------
    def _notice(self, title: str, text: str) -> None:
        self.journal.write("notice", title=title, text=text)
        self.tray.showMessage(title, notice_text(text), QSystemTrayIcon.MessageIcon.Information, 15_000)

    def _open_last_run(self) -> None:
        if self.last_finished and self.last_finished.run_id:
            QDesktopServices.openUrl(QUrl(f"{self.client.server}/executions/{self.last_finished.run_id}"))

    def open_dashboard(self) -> None:
        QDesktopServices.openUrl(QUrl(self.client.server + "/"))

    def show_savings(self) -> None:
        def work() -> None:
            try:
                data = self.client.savings()
            except Refused as exc:
                missing = exc.status in (404, 405)
                self.bridge.notice.emit(_("My time saved"), _("This server does not give the time saved per agent "
                                                              "yet.") if missing else exc.message)
                return
            except TrayApiError as exc:
                self.bridge.notice.emit(_("My time saved"), exc.message)
                return
            self.bridge.notice.emit(_("My time saved"), savings_text(data))
        self._background(work)

    def suggest(self) -> None:
        """A short form (what task, how often, how long by hand) sent to the server."""
        dialog = LaunchDialog(idea_form())
        dialog.launch_button.setText(_("Send"))
        if dialog.exec() != LaunchDialog.DialogCode.Accepted:
            return
        idea = dialog.checked.inputs

        def work() -> None:
            try:
                self.client.propose(idea["task"], idea["frequency"], float(idea["minutes"]))
            except Refused as exc:
                if exc.status in (404, 405):
                    self.bridge.notice.emit(_("Suggest an automation"),
                                            _("This server does not take suggestions yet: tell your Robocore "
                                              "engineers."))
                else:
                    self.bridge.notice.emit(_("Suggest an automation"), exc.message)
                return
            except TrayApiError as exc:
                self.bridge.notice.emit(_("Suggest an automation"), exc.message)
                return
            self.bridge.notice.emit(_("Suggest an automation"), _("Thank you: your suggestion was sent."))
        self._background(work)


def _hours(value: Any) -> str:
    return f"{float(value or 0):.1f}".replace(".", "," if current() == "fr" else ".")


def savings_text(data: dict[str, Any]) -> str:
    """« Mes gains »: hours saved this week, month and year; net of supervision beside when the server gives it."""
    if "week_net_hours" not in data:
        return _("This week: {week} h\nThis month: {month} h\nThis year: {year} h",
                 week=_hours(data.get("week_hours")), month=_hours(data.get("month_hours")),
                 year=_hours(data.get("year_hours")))
    return _("This week: {week} h ({week_net} h net of supervision)\nThis month: {month} h ({month_net} h net)\n"
             "This year: {year} h ({year_net} h net)",
             week=_hours(data.get("week_hours")), month=_hours(data.get("month_hours")),
             year=_hours(data.get("year_hours")), week_net=_hours(data.get("week_net_hours")),
             month_net=_hours(data.get("month_net_hours")), year_net=_hours(data.get("year_net_hours")))


def _phase(status: str) -> Phase:
    try:
        return Phase(status)
    except ValueError:
        return Phase.SENT


def run_tray(client: TrayClient, queue: LaunchQueue, prefs: Prefs, journal: Journal | None = None) -> int:
    """Show the icon and run Qt's loop until "Quit"."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    tray = TrayApp(client, queue, prefs, journal)
    tray.start()
    return app.exec()


__all__ = ["Launched", "TrayApp", "run_tray"]
