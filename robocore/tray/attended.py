"""The tray in attended mode (`robo tray --local`): robots run on this computer while the agent supervises them.

The same menu, launch dialog, progress and notification as with a server (`TrayApp`), over a
`LocalClient`. Besides: while a run goes on, the menu offers « Je m'absente » (a checkable entry); the
run's supervision time (launch to end, minus the time she marked herself away) is kept with the run in
this install's store, the notification gives the time saved gross and net of supervision, and, when a
server is configured, the run is reported to it through a durable outbox (sent once, when it answers).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs
from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from robocore import settings
from robocore.i18n import gettext as _
from robocore.i18n import ngettext
from robocore.store.attended import Supervision
from robocore.supervision import AwayLog, Supervised
from robocore.tray.api import TrayClient
from robocore.tray.app import TrayApp
from robocore.tray.journal import Journal
from robocore.tray.local import LocalClient, host
from robocore.tray.outbox import Outbox, Sent
from robocore.tray.prefs import Prefs
from robocore.tray.queue import LaunchQueue, LaunchState
from robocore.tray.runstate import RunState


def local_queue_path() -> Path:
    """`<user data dir>/robocore/tray-local.sqlite3`: attended launches and reports, apart from a server's queue
    (a launch kept for a server is never run here, nor the reverse)."""
    return platformdirs.user_data_path("robocore", appauthor=False) / "tray-local.sqlite3"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def report_payload(run: dict[str, Any], file_inputs: set[str], supervised: Supervised,
                   computer: str | None = None) -> dict[str, Any]:
    """What the server is told of a finished attended run (POST /attended-runs): a file input by its name only
    (its place on this computer stays here); inputs were recorded without secrets."""
    inputs = {k: (Path(str(v)).name if k in file_inputs and v else v) for k, v in (run.get("inputs") or {}).items()}
    finals = ("done", "business_error", "application_error", "skipped")
    return {"robot": run["robot"], "status": run["status"], "inputs": inputs,
            "counts": {k: int(n) for k, n in (run.get("counts") or {}).items() if k in finals and n},
            "started_at": supervised.started.isoformat(), "ended_at": supervised.ended.isoformat(),
            "away": supervised.away_json(), "supervision_minutes": round(supervised.minutes, 4),
            "minutes_saved": float(run.get("minutes_saved") or 0.0), "error": (run.get("error") or None),
            "local_run_id": run["id"], "host": computer}


class _Reports(QObject):
    sent = Signal(object)  # outbox.Sent, from a worker thread


class AttendedTray(TrayApp):
    """The tray icon for robots run on this computer, with supervision time and reports to a server.

    Args:
        client: this computer's robots and runs.
        outbox: reports waiting for `server` (None: no server configured).
        server: the server's client (the agent's token), when one is configured.
        clock: now, aware (tests: a fake clock).
    """

    local_runs = True

    def __init__(self, client: LocalClient, queue: LaunchQueue, prefs: Prefs, journal: Journal | None = None, *,
                 outbox: Outbox | None = None, server: TrayClient | None = None,
                 clock: Callable[[], dt.datetime] = _now) -> None:
        self.away_log = AwayLog(clock)  # before TrayApp's first menu, which shows the away entry
        self.local = client
        self.clock, self.outbox, self.server = clock, outbox, server
        self.launched_at: dict[str, dt.datetime] = {}
        self.supervised: dict[str, Supervised] = {}
        super().__init__(client, queue, prefs, journal)
        client.proposals = server
        self.reports = _Reports()
        self.reports.sent.connect(self._on_report)
        self.tray.setToolTip("Robocore")

    # ---- supervision ----------------------------------------------------------------------------
    def _attended_running(self) -> list[RunState]:
        return [s for key, s in self.states.items() if key in self.launched_at and not s.phase.is_final]

    def _launched(self, key: str) -> None:
        self.launched_at[key] = self.clock()

    def _run_entries(self) -> None:
        if self._attended_running():
            away = self.menu.addAction(_("I am away"))
            away.setCheckable(True)
            away.setChecked(self.away_log.away)
            away.setToolTip(_("Tick while you are away from your desk: that time is not counted as supervision."))
            away.toggled.connect(self.set_away)
        waiting = len(self.outbox.pending()) if self.outbox is not None else 0
        if waiting:
            self.menu.addAction(ngettext("{n} run waiting to be reported to the server",
                                         "{n} runs waiting to be reported to the server", waiting)).setEnabled(False)

    def set_away(self, on: bool) -> None:
        """« Je m'absente » ticked (`on`) or unticked: an away interval opened or closed."""
        self.away_log.set_away(on)
        self.journal.write("away", away=on)
        self._rebuild()

    def _finished(self, state: RunState) -> None:
        """Supervision kept with the run (once), then the report sent to the server, if any."""
        started = self.launched_at.get(state.key)
        if started is None or state.run_id is None:
            return
        supervised = Supervised.of(started, self.clock(), self.away_log)
        self.supervised[state.key] = supervised
        self.local.store.record_supervision(Supervision(state.run_id, supervised.started, supervised.ended,
                                                         supervised.minutes, tuple(
                                                             (a.isoformat(), b.isoformat())
                                                             for a, b in supervised.away)))
        if not self._attended_running():  # nothing left to supervise: the next run starts with her here
            self.away_log.set_away(False)
            self.away_log.forget_before(supervised.ended)
        self.journal.write("supervision", key=state.key, run_id=state.run_id, minutes=round(supervised.minutes, 2),
                           away=len(supervised.away))
        if self.outbox is not None:
            run = self.local.run(state.run_id)
            loaded = self.local.catalog.get(state.robot)
            files = {n for n, i in loaded.spec.inputs.items() if i.type == "file"} if loaded else set()
            self.outbox.add(state.key, state.run_id, report_payload(run, files, supervised, host()))
            self.flush_reports()

    def _summary(self, state: RunState) -> str:
        text = super()._summary(state)
        supervised = self.supervised.get(state.key)
        if supervised is None:
            return text
        gross = state.minutes_saved or 0.0
        return "\n".join([text, _("Supervision: {minutes} min. Net time saved: {net} min.",
                                  minutes=round(supervised.minutes), net=round(gross - supervised.minutes))])

    # ---- reports to the server -----------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        self.flush_reports()

    def flush_reports(self) -> None:
        """Send the waiting reports in a worker thread (oldest first; stops at the first left pending)."""
        outbox, server = self.outbox, self.server
        if outbox is None or server is None:
            return

        def work() -> None:
            for sent in outbox.flush(server):
                self.reports.sent.emit(sent)
        threading.Thread(target=work, daemon=True, name="robocore-tray-report").start()

    def _on_report(self, sent: Sent) -> None:
        report, error = sent.report, sent.error
        self.journal.write("report", key=report.key, run_id=report.local_run_id, state=report.state.value,
                           server_run_id=report.server_run_id, error=error.message if error else None)
        if report.state is LaunchState.REFUSED:
            self._notice(_("Run not recorded by the server"), report.last_error or "")
        self._rebuild()

    # ---- other entries --------------------------------------------------------------------------
    def _open_last_run(self) -> None:
        """The run's folder on this computer (its log, outputs and evidence)."""
        if self.last_finished and self.last_finished.run_id:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(settings.run_dir(self.last_finished.run_id))))


def run_attended(client: LocalClient, queue: LaunchQueue, prefs: Prefs, journal: Journal | None = None, *,
                 outbox: Outbox | None = None, server: TrayClient | None = None) -> int:
    """Show the icon in attended mode and run Qt's loop until "Quit"."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    tray = AttendedTray(client, queue, prefs, journal, outbox=outbox, server=server)
    tray.start()
    try:
        return app.exec()
    finally:
        client.close()


__all__ = ["AttendedTray", "local_queue_path", "report_payload", "run_attended"]
