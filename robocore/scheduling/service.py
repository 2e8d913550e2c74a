"""The scheduler service: leader election, APScheduler 3 jobs, exact fire records, enable/run now.

While it leads, the service records a heartbeat (`scheduler_leader`), sweeps every
ROBOCORE_SWEEP_SECONDS for work left behind (`robocore.recovery.Sweeper`), and gives the lead up
when a launch or a sweep is stuck longer than `watchdog.stall_seconds()`, so a standby takes over.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from robocore.errors import RobotDefinitionError
from robocore.i18n import gettext as _
from robocore.i18n import ngettext, pgettext
from robocore.recovery import ExecutorSource, Sweeper
from robocore.scheduling import state
from robocore.scheduling.holidays import holiday_name
from robocore.scheduling.listing import ScheduleInfo, list_schedules
from robocore.scheduling.load import LoadedSchedule, load_all, schedule_files
from robocore.scheduling.spec import ScheduleSpec
from robocore.scheduling.status import LeaderStatus, leader_status, run_holding
from robocore.scheduling.triggers import build_trigger, fire_times, next_times
from robocore.scheduling.watchdog import Watchdog, leader_identity, stall_seconds
from robocore.statuses import FireStatus
from robocore.store import LeaderLock, Store, utcnow

log = logging.getLogger("robocore.scheduling")
MAX_MISSED_RECORDS = 1000  # after a very long downtime only the latest missed fires are recorded
LaunchFn = Callable[..., str]

_LEADER: SchedulerService | None = None  # the service leading in this process: jobs call it


def fire_job(name: str, **_state: Any) -> None:
    """APScheduler job entry point: handle the due fires of a schedule."""
    service = _LEADER
    if service is None:
        log.warning(_("schedule {name} fired without an active service", name=name))
        return
    service.fire_due(name)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def default_schedules_dir() -> Path:
    """ROBOCORE_SCHEDULES, or ./schedules."""
    from robocore.settings import get_settings

    return get_settings().schedules


class SchedulerService:
    """Runs the schedules while this process holds the leadership lock; stands by otherwise."""

    def __init__(self, store: Store, schedules_dir: Path | None = None, launch: LaunchFn | None = None, *,
                 robots_dir: Path | None = None, poll_seconds: float = 1.0,
                 executor: ExecutorSource | None = None, sweep_seconds: float | None = None) -> None:
        """Args:
            launch: how a fire launches its robot (default `dispatch.launch`).
            executor: where the sweep hands orphaned runs again (default ROBOCORE_EXECUTOR, made when needed).
            sweep_seconds: between two sweeps while leading (default ROBOCORE_SWEEP_SECONDS).
        """
        from robocore.settings import get_settings

        self.store = store
        self.schedules_dir = schedules_dir or default_schedules_dir()
        self.robots_dir = robots_dir
        if launch is None:
            from robocore.dispatch import launch as dispatch_launch

            launch = dispatch_launch
        self._launch = launch
        self.poll_seconds = poll_seconds
        self._lock: LeaderLock = store.leader_lock()
        self._scheduler: BackgroundScheduler | None = None
        self._specs: dict[str, ScheduleSpec] = {}
        self._triggers: dict[str, BaseTrigger] = {}
        self._since: dict[str, dt.datetime] = {}
        self._signature: tuple[Any, ...] = ()
        self._fire_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.leader_event = threading.Event()
        self.owner, self._host, self._pid = leader_identity()
        self._leading_since: dt.datetime | None = None
        self.watchdog = Watchdog()
        self.sweep_seconds = sweep_seconds or get_settings().sweep_seconds
        self._executor = executor or _configured_executor
        self._sweeper: Sweeper | None = None
        self._sweep_thread: threading.Thread | None = None
        self._last_sweep = 0.0

    # ---- lifecycle --------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        """Start the standby/leader loop in a background thread (returns at once)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="robocore-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling and give the leadership up."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._abdicate()

    def wait_leader(self, timeout: float) -> bool:
        """Block until this service leads (True) or the timeout passes (False)."""
        return self.leader_event.wait(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                stuck = self.watchdog.stalled(stall_seconds())
                if self._scheduler is None:
                    if stuck is None and self._lock.acquire():  # never lead again while own work is stuck
                        self._lead()
                elif not self._lock.alive():
                    log.warning(_("scheduler leadership lost"))
                    self._abdicate()
                elif stuck is not None:
                    log.error(_("scheduler stuck, giving the lead up: {reason}", reason=stuck))
                    self._abdicate(_("gave the lead up: {reason}", reason=stuck))
                else:
                    self._beat()
                    if self._files_signature() != self._signature:
                        self._sync(catch_up=False)
                    self._scheduler.wakeup()  # see enable/disable done by other processes
                    self._maybe_sweep()
            except Exception:
                log.exception(_("scheduler loop error"))
                if self._scheduler is None:
                    self._lock.release()
            self._stopping.wait(self.poll_seconds)
        self._abdicate(_("scheduler stopped"))

    def _beat(self) -> None:
        """Record that this process leads and is alive (what `robo schedules` and health read)."""
        since = self._leading_since or utcnow()
        self.store.leader_heartbeat(self.owner, self._host, self._pid, since)

    def _maybe_sweep(self) -> None:
        """Start a sweep in its own thread every sweep_seconds (one at a time; the watchdog bounds it)."""
        if self._sweep_thread is not None and self._sweep_thread.is_alive():
            return
        if time.monotonic() - self._last_sweep < self.sweep_seconds:
            return
        self._last_sweep = time.monotonic()
        self._sweep_thread = threading.Thread(target=self.sweep, name="robocore-sweep", daemon=True)
        self._sweep_thread.start()

    def sweep(self) -> Any:
        """Settle fires left without a run and hand stuck runs to the executor again (see robocore.recovery)."""
        from robocore.settings import get_settings

        if self._sweeper is None:
            self._sweeper = Sweeper(self.store, self._executor, queued_grace_s=get_settings().queued_grace_seconds,
                                    fire_grace_s=stall_seconds() + 2 * self.poll_seconds)
        with self.watchdog.working("balayage de reprise", "recovery sweep"):
            try:
                return self._sweeper.sweep()
            except Exception:
                log.exception(_("recovery sweep failed"))
                return None

    def leader(self) -> LeaderStatus:
        """The scheduling leader of this database (any process), with its last heartbeat."""
        return leader_status(self.store)

    def _lead(self) -> None:
        global _LEADER
        log.info(_("this process is now the scheduler leader"))
        _LEADER = self
        self._leading_since = utcnow()
        self._beat()
        self._last_sweep = 0.0  # sweep at once: what the previous leader left behind
        self._scheduler = BackgroundScheduler(
            jobstores={"default": self.store.scheduler_jobstore()},
            executors={"default": ThreadPoolExecutor(4)}, timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        try:
            self._sync(catch_up=True)
            self._scheduler.start()
        except Exception:
            self._abdicate()
            raise
        self.leader_event.set()

    def _abdicate(self, note: str | None = None) -> None:
        global _LEADER
        scheduler, self._scheduler = self._scheduler, None
        self.leader_event.clear()
        if _LEADER is self:
            _LEADER = None
        if scheduler is not None and scheduler.running:
            try:
                scheduler.shutdown(wait=False)
            except Exception:
                log.exception(_("APScheduler shutdown failed"))
        if self._leading_since is not None:  # recorded before the lock goes, so a new leader's row wins
            self._leading_since = None
            try:
                self.store.leader_resigned(self.owner, note or _("gave the lead up"))
            except Exception as exc:  # the database may be what failed
                log.warning(_("resignation not recorded: {error}", error=exc))
        self._lock.release()

    # ---- jobs ---------------------------------------------------------------------------
    def _files_signature(self) -> tuple[Any, ...]:
        out = []
        for p in schedule_files(self.schedules_dir):
            try:
                st = p.stat()
                out.append((p.name, st.st_mtime_ns, st.st_size))
            except OSError:
                continue
        return tuple(out)

    def _load(self) -> list[LoadedSchedule]:
        good, bad = load_all(self.schedules_dir, self.robots_dir)
        for exc in bad.values():
            log.error(_("schedule ignored: {error}", error=exc))
        return good

    def _sync(self, catch_up: bool) -> None:
        """Make the job store match the schedule files; at leadership start, handle missed fires first."""
        assert self._scheduler is not None
        self._signature = self._files_signature()
        loaded = self._load()
        states = self.store.scheduler_jobs()
        now = _now()
        running = self._scheduler.running
        for item in loaded:
            spec, name = item.spec, item.name
            old = states.get(name)
            override = old.kwargs.get("override") if old else None
            if old is not None and old.kwargs.get("file_enabled") != spec.enabled:
                override = None  # the file's flag changed since: the file wins
            enabled = spec.enabled if override is None else bool(override)
            since = old.since if old is not None and old.since else now
            if old is not None and (not old.enabled and enabled):
                since = now  # fires while disabled are not missed
            unchanged = (old is not None and old.kwargs.get("fingerprint") == spec.fingerprint()
                         and old.kwargs.get("file_enabled") == spec.enabled)
            if not catch_up and old is not None and not unchanged:
                since = now  # an edited schedule starts afresh
            trigger = build_trigger(spec)
            self._specs[name], self._triggers[name], self._since[name] = spec, trigger, since
            if catch_up and enabled:  # in a thread: a stuck launch must not hold the loop (the watchdog sees it)
                threading.Thread(target=self.fire_due, args=(name, now), name=f"catch-up-{name}",
                                 daemon=True).start()
            if not catch_up and unchanged and name in self._scheduler_job_ids():
                continue
            upcoming = next_times(trigger, now, 1) if enabled else []
            kwargs = state.job_kwargs(name, since=since, fingerprint=spec.fingerprint(),
                                      file_enabled=spec.enabled, override=override)
            self._scheduler.add_job(fire_job, trigger, id=name, name=name, kwargs=kwargs, replace_existing=True,
                                    next_run_time=upcoming[0] if upcoming else None)
        keep = {item.name for item in loaded}
        for name in set(states) - keep:
            self._specs.pop(name, None)
            if running:
                self._scheduler.remove_job(name)
            else:
                self.store.delete_scheduler_job(name)
        for name in set(self._specs) - keep:
            self._specs.pop(name, None)

    def _scheduler_job_ids(self) -> set[str]:
        return {job.id for job in self._scheduler.get_jobs()} if self._scheduler else set()

    # ---- fires --------------------------------------------------------------------------
    def fire_due(self, name: str, now: dt.datetime | None = None) -> None:
        """Record (and launch) every fire of a schedule due since its last record, once each."""
        spec, trigger = self._specs.get(name), self._triggers.get(name)
        if spec is None or trigger is None:
            return
        with self.watchdog.working(f"déclenchement de {name}", f"fire of {name}"), self._fire_lock:
            now = now or _now()
            last = self.store.last_fire(name)
            reference = self._since.get(name, now)
            if last is not None:
                reference = max(reference, last.fire_time_utc)
            due = fire_times(trigger, reference, now, limit=MAX_MISSED_RECORDS)
            if not due:
                return
            tz = ZoneInfo(spec.timezone)
            holiday = {t: holiday_name(t.astimezone(tz).date(), spec.skip_public_holidays)
                       for t in due} if spec.skip_public_holidays else {}
            workable = [t for t in due if not holiday.get(t)]
            latest = workable[-1] if workable else None
            on_time = latest is not None and (now - latest).total_seconds() <= spec.grace_seconds
            run_at = latest if latest is not None and (on_time or spec.misfire == "run_once") else None
            missed = 0
            for t in due:
                if holiday.get(t):
                    self.store.record_fire(name, t, FireStatus.SKIPPED_HOLIDAY,
                                           _("public holiday: {holiday}", holiday=holiday[t]))
                elif t is not run_at:
                    missed += self.store.record_fire(name, t, FireStatus.MISSED,
                                                     _("scheduler down or late"))
            if run_at is not None:
                note = None if on_time else ngettext("catch-up run after downtime ({n} fire missed)",
                                                     "catch-up run after downtime ({n} fires missed)", missed)
                self._fire(spec, run_at, note)

    def _fire(self, spec: ScheduleSpec, fire_time: dt.datetime, note: str | None) -> None:
        name = spec.schedule
        created_by = f"schedule:{name}"
        active = self.store.live_run(created_by)
        if active is not None:
            self.store.record_fire(name, fire_time, FireStatus.SKIPPED_OVERLAP,
                                   _("{run} (previous run still going)", run=run_holding(self.store, active)))
            return
        if not self.store.record_fire(name, fire_time, FireStatus.LAUNCHED, note):
            return  # another server recorded this fire: it is theirs
        try:
            run_id = self._call_launch(spec, created_by)
        except Exception as exc:
            log.error(_("schedule {name}: launch failed: {error}", name=name, error=exc))
            self.store.update_fire(name, fire_time, status=FireStatus.FAILED, note=str(exc)[:2000])
            return
        self.store.update_fire(name, fire_time, run_id=run_id)
        log.info(_("schedule {name}: run {run_id} launched", name=name, run_id=run_id))

    def _call_launch(self, spec: ScheduleSpec, created_by: str) -> str:
        extra: dict[str, Any] = {"queue": spec.queue} if spec.queue else {}
        return self._launch(spec.robot, dict(spec.inputs), store=self.store, trigger="schedule",
                            created_by=created_by, **extra)

    # ---- API ----------------------------------------------------------------------------
    def list_schedules(self) -> list[ScheduleInfo]:
        """Every schedule file with its state, next fire times, last fire and what blocks it (works on any server)."""
        return list_schedules(self.store, self.schedules_dir, self.robots_dir)

    def _spec(self, name: str) -> ScheduleSpec:
        good, _bad = load_all(self.schedules_dir, self.robots_dir)
        for item in good:
            if item.name == name:
                return item.spec
        known = ", ".join(item.name for item in good) or pgettext("schedules", "none")
        raise RobotDefinitionError(_("schedule not found or invalid '{name}' (schedules: {known})", name=name,
                                     known=known))

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable a schedule (persisted in the job store; a later edit of the file's flag wins)."""
        spec = self._spec(name)
        now = _now()
        old = self.store.scheduler_jobs().get(name)
        was_enabled = old.enabled if old is not None else spec.enabled
        since = now if (enabled and not was_enabled) or old is None or old.since is None else old.since
        kwargs = state.job_kwargs(name, since=since, fingerprint=spec.fingerprint(), file_enabled=spec.enabled,
                                  override=enabled)
        trigger = build_trigger(spec)
        upcoming = next_times(trigger, now, 1) if enabled else []
        next_run = upcoming[0] if upcoming else None
        scheduler = self._scheduler
        if scheduler is not None and scheduler.running and name in self._scheduler_job_ids():
            self._since[name] = since
            scheduler.modify_job(name, kwargs=kwargs, next_run_time=next_run)
        else:
            self.store.save_scheduler_job(name, state.FUNC_REF, trigger, kwargs, next_run)

    def run_now(self, name: str, force: bool = False) -> str:
        """Launch the schedule's robot with its inputs now; refused while its previous run goes on unless force."""
        spec = self._spec(name)
        created_by = f"schedule:{name}"
        active = self.store.live_run(created_by)
        if active is not None and not force:
            raise RobotDefinitionError(_("the run {run_id} of the schedule '{name}' is still going", run_id=active,
                                         name=name))
        return self._call_launch(spec, created_by)


def _configured_executor() -> Any:
    """The executor named by ROBOCORE_EXECUTOR (made once per process)."""
    from robocore.dispatch import executor_name
    from robocore.executors.base import get_executor

    return get_executor(executor_name())
