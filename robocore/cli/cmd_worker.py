"""`robo worker` (a Celery worker) and `robo run --remote` (a run sent to the configured executor)."""

import os
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from robocore.errors import RobocoreError, StoreError
from robocore.i18n import N_
from robocore.i18n import gettext as _
from robocore.statuses import RUN_FINAL, RunStatus

if TYPE_CHECKING:
    from robocore.store import Run, Store

console = Console()
err = Console(stderr=True)


def worker(queues: Annotated[str | None, typer.Option(
               "--queues", "-Q", help=N_("Queues, comma-separated (e.g. browser,robocore)"))] = None,
           concurrency: Annotated[int, typer.Option(
               "--concurrency", "-c", min=1, help=N_("Runs in parallel (processes)"))] = os.cpu_count() or 2,
           loglevel: Annotated[str, typer.Option("--loglevel", "-l", help=N_(
               "Log level: debug, info, warning or error"))] = "info",
           single_machine: Annotated[bool, typer.Option(
               "--single-machine", help=N_("Accept SQLite (tests on one machine)"))] = False) -> None:
    """`robo worker`: a Celery worker taking runs from ROBOCORE_BROKER_URL."""
    from robocore import settings
    from robocore.logging import configure
    from robocore.store import Store

    url = settings.database_url()
    if url.startswith("sqlite") and not single_machine:
        title = _("Error")
        problem = _("a Celery worker needs the PostgreSQL store (ROBOCORE_DATABASE_URL) — SQLite belongs to one "
                    "machine; --single-machine for a local test")
        err.print(f"[bold red]{title}[/] : {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    level = loglevel.lower()
    configure("json", level if level in ("debug", "info", "warning", "error", "critical") else "info")
    try:
        Store(url).close()  # reachable, migrated, before any run is taken
    except StoreError as exc:
        title = _("Error")
        err.print(f"[bold red]{title}[/] : {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    from robocore.executors import celery as celery_executor

    names = [q.strip() for q in (queues or celery_executor.default_queue()).split(",") if q.strip()]
    celery_executor.app.worker_main(["--quiet", *celery_executor.worker_argv(names, concurrency, level)])


def register(app: typer.Typer) -> None:
    """Add `robo worker` to the CLI."""
    app.command("worker", help=N_("Start a Celery worker (runs from ROBOCORE_BROKER_URL)."))(worker)


def wait_final(store: "Store", run_id: str, timeout: float | None = None, every: float = 0.5) -> "Run":
    """Poll the store until the run is final (succeeded, failed...); returns the run row."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = store.get_run(run_id)
        if run is None:
            raise StoreError(_("run not found '{run_id}'", run_id=run_id))
        if run.status in RUN_FINAL:
            return run
        if deadline is not None and time.monotonic() > deadline:
            raise StoreError(_("the run {run_id} is not finished ({status})", run_id=run_id, status=run.status))
        time.sleep(every)


def remote_run(robot: str, inputs: dict[str, str], *, wait: bool = False, timeout: float | None = None) -> str:
    """Launch a run through the configured executor and print its id; with wait, follow it to its end.

    With the `local` executor the pool lives in this process, so the command always waits.
    Raises RobocoreError when the run is refused, typer.Exit(1) when a waited run failed.
    """
    from robocore import dispatch, settings
    from robocore.store import Store

    store = Store(settings.database_url())
    local = None
    try:
        if dispatch.executor_name() == "local":
            from robocore.executors.local import LocalExecutor

            local = LocalExecutor(1, console="pretty")
        run_id = dispatch.launch(robot, inputs, store=store, trigger="cli", executor=local)
        console.print(run_id, highlight=False)
        if local is not None:
            local.shutdown(wait=True)
        if wait or local is not None:
            run = wait_final(store, run_id, timeout)
            counts = ", ".join(f"{k} {v}" for k, v in sorted(store.counts(run_id).items()))
            err.print(f"{run_id} : {run.status}" + (f" ({counts})" if counts else "")
                      + (f" — {run.error}" if run.error else ""), highlight=False, soft_wrap=True)
            if run.status is RunStatus.FAILED:
                raise typer.Exit(1)
        return run_id
    finally:
        if local is not None:
            local.shutdown(wait=False)
        store.close()


def _main() -> None:
    """`python -m robocore.cli.cmd_worker`: the worker command alone."""
    app = typer.Typer(add_completion=False)
    register(app)
    app.command("noop", hidden=True)(lambda: None)  # keep `worker` a sub-command
    try:
        app()
    except RobocoreError as exc:
        title = _("Error")
        err.print(f"[bold red]{title}[/] : {exc}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    _main()
