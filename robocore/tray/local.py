"""Attended mode (`robo tray --local`): the calls the tray makes, answered by this computer instead of a server.

`LocalClient` offers what `robocore.tray.api.TrayClient` offers the tray (robots, a robot's inputs, launch,
a run, its events, its rejected items, cancel, savings), so the menu, the launch dialog and the run state
machine are the same in both modes. The robots are those of this install's robots folder (the one
`robo run` uses: ROBOCORE_ROBOTS); runs are recorded in this install's store and executed by the local
executor, in worker processes: the tray's window never waits for a robot, and a robot that crashes or
hangs does not take the tray with it. Events are the run's status and item counts read from the store.
"""

from __future__ import annotations

import getpass
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from robocore.errors import RobocoreError
from robocore.i18n import gettext as _
from robocore.statuses import ItemStatus, RunStatus
from robocore.store import KeyTaken, utcnow
from robocore.tray.api import INPUTS_CHANGED, InvalidInputs, Launched, Refused, TrayApiError

if TYPE_CHECKING:
    from robocore.server.catalog import Catalog
    from robocore.store import Run, Store

POLL_SECONDS = 0.3  # how often a followed run is read again from the store
STALLED_SECONDS = 10.0  # the executor idle this long and the run not final: the run is recorded failed


class Submitter(Protocol):
    """What runs a recorded run: the local executor (worker processes), or a test's stand-in."""

    def submit(self, run_id: str, queue: str | None = None) -> None: ...
    def idle(self) -> bool: ...
    def shutdown(self, wait: bool = True) -> None: ...


def local_agent() -> str:
    """Who launches in attended mode: `tray:<the computer's user name>` (the runs' `created_by`)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name in the environment (a service account)
        user = "agent"
    return f"tray:{user}"[:100]


def _iso(moment: Any) -> str | None:
    """A naive UTC timestamp of the store as ISO 8601 with its offset (the menu shows it in local time)."""
    return moment.isoformat() + "+00:00" if moment is not None else None


def _run_json(run: Run) -> dict[str, Any]:
    return {"id": run.id, "robot": run.robot, "status": str(run.status), "trigger": run.trigger,
            "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at), "error": run.error,
            "inputs": run.inputs, "created_by": run.created_by}


class LocalClient:
    """The tray's calls for robots run on this computer (attended mode).

    Args:
        store: this install's store (the one `robo run` records in).
        robots: this install's robots folder.
        agent: the runs' `created_by` (default `tray:<user name>`).
        submitter: what executes a recorded run (default: a local executor, made at the first launch).
    """

    server = ""  # no server: the menu hides what needs one (dashboard, sign-in)

    def __init__(self, store: Store, robots: Path, *, agent: str | None = None,
                 submitter: Submitter | None = None, poll: float = POLL_SECONDS) -> None:
        from robocore.server.catalog import Catalog

        self.store, self.robots_dir = store, robots
        self.agent = agent or local_agent()
        self.catalog: Catalog = Catalog(robots)
        self._submitter, self._lock = submitter, threading.Lock()
        self.poll = poll
        self.stopped = threading.Event()
        self.proposals: Any = None  # the server's client, when one is configured (suggestions go there)

    def __repr__(self) -> str:
        return f"LocalClient({str(self.robots_dir)!r})"

    def close(self) -> None:
        """Stop following runs; runs under way finish in their worker processes."""
        self.stopped.set()
        if self._submitter is not None:
            self._submitter.shutdown(wait=False)

    @property
    def submitter(self) -> Submitter:
        with self._lock:
            if self._submitter is None:
                from robocore.executors.local import LocalExecutor

                self._submitter = LocalExecutor(console="json", level="warning")
            return self._submitter

    # ---- robots -----------------------------------------------------------------------------------
    def robots(self) -> list[dict[str, Any]]:
        """Every valid robot of the robots folder, as the menu lists them."""
        return [_summary(loaded) for _name, loaded in sorted(self.catalog.robots().items())]

    def robot(self, name: str) -> dict[str, Any]:
        """A robot's detail with its inputs' definitions (the launch dialog's fields)."""
        from robocore.server.catalog import input_fields, inputs_version

        loaded = self.catalog.get(name)
        if loaded is None:
            raise Refused(_("robot not found '{name}' in {folder}", name=name, folder=str(self.robots_dir)), 404,
                          "robot_not_found")
        return dict(_summary(loaded), inputs=input_fields(loaded.spec.inputs),
                    inputs_version=inputs_version(loaded.spec.inputs))

    def has_dashboard(self) -> bool:
        return False

    # ---- runs -------------------------------------------------------------------------------------
    def runs(self, robot: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The agent's own runs on this computer, most recent first."""
        return [_run_json(r) for r in self.store.list_runs(limit=limit, robot=robot, created_by=self.agent)]

    def run(self, run_id: str) -> dict[str, Any]:
        """A run's status, item counts and minutes saved (gross, and net of its supervision once recorded)."""
        run = self.store.get_run(run_id)
        if run is None:
            raise Refused(_("run not found '{run_id}'", run_id=run_id), 404, "run_not_found")
        saved = self.store.run_savings(run_id)
        return dict(_run_json(run), counts={str(k): v for k, v in self.store.counts(run_id).items()},
                    minutes_saved=saved.gross, supervision_minutes=saved.supervision, net_minutes=saved.net)

    def rejected(self, run_id: str, most: int = 3) -> list[tuple[str, str]]:
        """The first `most` items the run rejected: key and the first line of the reason (only those are read)."""
        return [(i.key, ((i.error or "").strip().splitlines() or [""])[0][:120])
                for i in self.store.items(run_id, limit=most, status=ItemStatus.BUSINESS_ERROR)]

    def cancel(self, run_id: str) -> dict[str, Any]:
        """Ask the run to stop after its current items (a queued one stops at once)."""
        self.store.request_cancel(run_id)
        return self.run(run_id)

    def launch(self, robot: str, inputs: Mapping[str, Any], files: Mapping[str, Path], key: str,
               inputs_version: str | None = None) -> Launched:
        """Record the run (once per `key`: the launch queue may send it again after a crash) and hand it to the
        executor. Inputs the robot refuses raise InvalidInputs naming the input, as the server's 422 does; a
        form built from other inputs than the robot's now (`inputs_version`, its robot.yaml edited meanwhile) is
        refused as the server refuses it (409 `inputs_changed`)."""
        from robocore import runs
        from robocore.inputs import InputError
        from robocore.server.catalog import inputs_version as version_of

        loaded = self.catalog.get(robot)
        if loaded is None:
            raise Refused(_("robot not found '{name}' in {folder}", name=robot, folder=str(self.robots_dir)), 404,
                          "robot_not_found")
        found = self.store.run_by_key(self.agent, key)
        if found is not None:
            return Launched(found.id, found.robot, str(found.status), found.id, replayed=True)
        if inputs_version is not None and inputs_version != version_of(loaded.spec.inputs):
            raise Refused(_("the inputs of the robot '{robot}' changed since the form was loaded: reload the form "
                            "and launch again", robot=robot), 409, INPUTS_CHANGED)
        given = {**{k: v for k, v in inputs.items() if v is not None}, **{k: str(p) for k, p in files.items()}}
        try:
            run_id = runs.prepare(loaded, self.store, given, trigger="attended", created_by=self.agent,
                                  idempotency_key=key)
        except KeyTaken as exc:
            return Launched(exc.run_id, robot, "queued", exc.run_id, replayed=True)
        except InputError as exc:
            raise InvalidInputs(str(exc), exc.field) from None
        except (RobocoreError, OSError) as exc:
            raise Refused(str(exc), 0, "robot_refused") from None
        try:
            self.submitter.submit(run_id, loaded.spec.queue)
        except RuntimeError as exc:  # the executor was shut down (the tray is quitting)
            self.store.fail_queued_run(run_id, str(exc))
            raise Refused(_("the run could not be started on this computer: {error}", error=str(exc)), 0,
                          "executor_unavailable") from None
        return Launched(run_id, loaded.spec.robot, str(RunStatus.QUEUED), run_id)

    def events(self, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The run's status and counts each time they change (`status`), then `end` once it is final.

        A run the executor no longer holds (its worker died beyond its retries) and left unfinished is
        recorded failed after STALLED_SECONDS, so a followed run always ends.
        """
        last: tuple[Any, ...] | None = None
        idle_since: float | None = None
        while not self.stopped.is_set():
            snapshot = self.run(run_id)
            status = RunStatus(snapshot["status"])
            seen = (status, tuple(sorted(snapshot["counts"].items())))
            if status.is_final:
                yield "end", snapshot
                return
            if seen != last:
                last = seen
                yield "status", snapshot
            idle_since = self._stalled(run_id, idle_since)
            self.stopped.wait(self.poll)
        raise _Stopped(_("The tray is closing."))

    def _stalled(self, run_id: str, idle_since: float | None) -> float | None:
        """When the executor has been idle for STALLED_SECONDS with the run unfinished, record it failed."""
        import time

        if self._submitter is None or not self._submitter.idle():
            return None
        now = time.monotonic()
        if idle_since is None:
            return now
        if now - idle_since >= STALLED_SECONDS:
            message = _("the run stopped on this computer without an end (its process ended)")
            if not self.store.fail_queued_run(run_id, message):
                self.store.finish_run(run_id, RunStatus.FAILED, message)
        return idle_since

    # ---- savings ----------------------------------------------------------------------------------
    def savings(self) -> dict[str, Any]:
        """The agent's minutes saved on this computer this week, month and year, gross and net."""
        saved = self.store.savings_of(self.agent, utcnow())
        return {"week_hours": saved.week_minutes / 60, "month_hours": saved.month_minutes / 60,
                "year_hours": saved.year_minutes / 60, "week_net_hours": saved.week_net / 60,
                "month_net_hours": saved.month_net / 60, "year_net_hours": saved.year_net / 60}

    def propose(self, task: str, frequency: str, minutes_by_hand: float) -> dict[str, Any]:
        """An automation idea, sent to the server when one is configured (`proposals`)."""
        if self.proposals is not None:
            return self.proposals.propose(task, frequency, minutes_by_hand)
        raise Refused(_("Suggestions go to a server: start the tray with --server URL."), 404, "no_server")


class _Stopped(TrayApiError):
    """The tray is closing while a run is followed."""


def _summary(loaded: Any) -> dict[str, Any]:
    spec, process = loaded.spec, loaded.spec.process
    return {"robot": spec.robot, "title": spec.title, "description": spec.description, "version": spec.version,
            "process": process.name if process else None, "service": process.service if process else None,
            "manual_minutes_per_item": process.manual_minutes_per_item if process else 0.0,
            "manual_minutes_per_run": process.manual_minutes_per_run if process else 0.0}


def host() -> str:
    """This computer's name, as the report to the server names it."""
    return socket.gethostname()[:200]


