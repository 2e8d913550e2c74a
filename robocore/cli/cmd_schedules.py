"""`robo schedules` (list, enable, disable, run now) and `robo scheduler` (the scheduler in the foreground)."""

import signal
import threading
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from robocore.errors import RobocoreError
from robocore.i18n import N_
from robocore.i18n import gettext as _

console = Console()
err = Console(stderr=True)
schedules_app = typer.Typer(invoke_without_command=True)  # its help: the callback's
DirOption = Annotated[Path | None, typer.Option("--dir", "-d", help=N_(
    "Folder of the schedule files (default: ROBOCORE_SCHEDULES, else ./schedules)"))]
NameArgument = Annotated[str, typer.Argument(help=N_("Name of the schedule"))]


def validate_schedule_file(path: Path) -> None:
    """Validate one schedule file (robot, inputs, cron...); raises RobotDefinitionError at file:line:column."""
    from robocore.scheduling.load import load_schedule

    load_schedule(path)


def _service(folder: Path | None) -> Any:
    from robocore import settings
    from robocore.scheduling.service import SchedulerService
    from robocore.store import Store

    return SchedulerService(Store(settings.database_url()), folder)


def _fail(exc: Exception) -> typer.Exit:
    title = _("Error")
    err.print(f"[bold red]{title}[/] : {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _when(moment: Any, tz: str) -> str:
    if moment is None:
        return "—"
    from zoneinfo import ZoneInfo

    return str(moment.astimezone(ZoneInfo(tz or "Europe/Paris")).strftime("%d/%m/%Y %H:%M:%S"))


@schedules_app.callback(help=N_("Schedules (schedules/*.yaml) and their next fire times; enable, disable or run "
                                 "one."))
def list_schedules(ctx: typer.Context, folder: DirOption = None) -> None:
    if ctx.invoked_subcommand is not None:
        ctx.obj = folder
        return
    from rich.table import Table

    try:
        service = _service(folder)
        infos = service.list_schedules()
        leader = service.leader()
    except RobocoreError as exc:
        raise _fail(exc) from None
    console.print(_leader_line(leader), highlight=False)
    table = Table(_("Schedule"), _("Robot"), _("Trigger"), _("Time zone"), _("Enabled"), _("Next fire times"),
                  _("Last fire"), _("Blocked by"))
    for info in infos:
        if info.error:
            table.add_row(info.name, "", "", "", "[red]" + _("invalid"), f"[red]{info.error}", "", "")
            continue
        last = info.last_fire
        last_text = f"{_when(last.fire_time_utc, info.timezone)} {last.status}" if last else "—"
        enabled = "[green]" + _("yes") if info.enabled else "[yellow]" + _("no")
        table.add_row(info.name, info.robot, info.trigger, info.timezone, enabled,
                      "\n".join(_when(t, info.timezone) for t in info.next_fire_times) or "—", last_text,
                      f"[yellow]{info.blocked}" if info.blocked else "—")
    if not infos:
        err.print(_("No schedules (schedules/ folder)"))
    console.print(table)


def _leader_line(leader: Any) -> str:
    """`Planificateur : host (pid 12), depuis …, dernier signe de vie il y a 1 s` or why there is none."""
    from robocore.scheduling.status import duration_text

    if leader.owner is None:
        return "[yellow]" + _("No scheduler has led yet (robo scheduler, robo serve)")
    since = _when(leader.since.replace(tzinfo=UTC), "Europe/Paris") if leader.since else "—"
    age = duration_text(leader.heartbeat_age_s or 0.0)
    who = _("{host} (pid {pid}), leading since {since}, last heartbeat {age} ago", host=leader.host, pid=leader.pid,
            since=since, age=age)
    if leader.leading:
        return _("[green]Scheduler leader alive[/]: {who}", who=who)
    why = f" — {leader.note}" if leader.note else ""
    return _("[red]No live scheduler leader[/] (last: {who}{why})", who=who, why=why)


@schedules_app.command("enable", help=N_("Enable a schedule."))
def enable(ctx: typer.Context, name: NameArgument) -> None:
    _set(ctx, name, True)


@schedules_app.command("disable", help=N_("Disable a schedule."))
def disable(ctx: typer.Context, name: NameArgument) -> None:
    _set(ctx, name, False)


def _set(ctx: typer.Context, name: str, enabled: bool) -> None:
    try:
        _service(ctx.obj).set_enabled(name, enabled)
    except RobocoreError as exc:
        raise _fail(exc) from None
    console.print(_("Schedule {name}: enabled", name=name) if enabled else _("Schedule {name}: disabled", name=name))


@schedules_app.command("run", help=N_("Run a schedule now (through the executor)."))
def run_now(ctx: typer.Context, name: NameArgument,
            force: Annotated[bool, typer.Option(help=N_("Even if its previous run is still going"))] = False) -> None:
    try:
        run_id = _service(ctx.obj).run_now(name, force=force)
    except RobocoreError as exc:
        raise _fail(exc) from None
    console.print(_("Run launched: {run_id}", run_id=run_id))


def scheduler(folder: DirOption = None,
              poll: Annotated[float, typer.Option(help=N_("Seconds between two attempts to take the lock"))] = 1.0,
              loglevel: Annotated[str, typer.Option("--loglevel", "-l", help=N_(
                  "Log level: debug, info, warning or error"))] = "info") -> None:
    """`robo scheduler`: the scheduler in the foreground (leader, or waiting for the lock) until SIGTERM."""
    import logging

    from robocore import settings
    from robocore.scheduling.service import SchedulerService
    from robocore.store import Store

    logging.basicConfig(level=getattr(logging, loglevel.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        store = Store(settings.database_url())
    except RobocoreError as exc:
        raise _fail(exc) from None
    service = SchedulerService(store, folder, poll_seconds=poll)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.start()  # while it leads, it also sweeps for work a dead or stuck leader left behind
    err.print(_("Scheduler started (waiting for the lock if another server schedules)"))
    try:
        while not stop.wait(0.5):
            pass
    finally:
        service.stop()
        _shutdown_executors()
        store.close()
        err.print(_("Scheduler stopped"))


def _shutdown_executors() -> None:
    from robocore.executors import base

    for executor in list(base._instances.values()):
        try:
            executor.shutdown(wait=True)
        except Exception:
            pass


def register(app: typer.Typer) -> None:
    """Add `robo schedules` and `robo scheduler` to the CLI."""
    app.add_typer(schedules_app, name="schedules")
    app.command("scheduler", help=N_("Run the scheduler in the foreground (leader or waiting) until SIGTERM."))(
        scheduler)


if __name__ == "__main__":  # `python -m robocore.cli.cmd_schedules scheduler` works before `robo` registers it
    _main = typer.Typer(add_completion=False)
    register(_main)
    _main()
