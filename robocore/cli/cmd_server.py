"""`robo serve` (API server, JSON logs), `robo tokens` and `robo grants` (access to the API)."""

import logging as std_logging
import threading
from typing import Annotated, Any

import typer
from rich.console import Console

from robocore.errors import RobocoreError
from robocore.i18n import N_, ngettext
from robocore.i18n import gettext as _

tokens_app = typer.Typer(help=N_("API tokens."), no_args_is_help=True)
grants_app = typer.Typer(help=N_("Robots granted to groups of agents."), no_args_is_help=True)
RobotArgument = Annotated[str, typer.Argument(help=N_("Name of the robot"))]
GroupArgument = Annotated[str, typer.Argument(help=N_("Group of agents"))]
console = Console()
err = Console(stderr=True)


def _fail(exc: Exception) -> typer.Exit:
    title = _("Error")
    err.print(f"[bold red]{title}[/] : {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _store() -> Any:
    from robocore import settings
    from robocore.store import Store

    return Store(settings.database_url())


class _StdToStructlog(std_logging.Handler):
    """uvicorn's own messages (start, stop, errors) as JSON events like everything else."""

    def emit(self, record: std_logging.LogRecord) -> None:
        import structlog

        structlog.get_logger(record.name).log(record.levelno, record.getMessage())


def _json_logs() -> None:
    from robocore.logging import configure

    configure("json", "info")
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "robocore.scheduling", "apscheduler"):
        logger = std_logging.getLogger(name)
        logger.handlers, logger.propagate = [_StdToStructlog()], False
        logger.setLevel(std_logging.INFO)


def _server(config: Any) -> Any:
    """A uvicorn server that, on SIGTERM/SIGINT, returns instead of re-raising the signal, so that
    `serve` can then drain the executor and give up the scheduler lock before exiting."""
    import contextlib
    import signal
    import threading

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server(config)


def _scheduler(store: Any) -> Any:
    """The scheduler service when robocore.scheduling.service is available, started."""
    import structlog

    try:
        from robocore.scheduling.service import SchedulerService
    except ImportError as exc:
        structlog.get_logger("robocore.server").warning("server.no_scheduler", reason=str(exc))
        return None
    service = SchedulerService(store)  # launches through dispatch.launch and the configured executor
    service.start()
    threading.Thread(target=_recover_when_leader, args=(service, store), daemon=True,
                     name="recovery").start()
    return service


def _recover_when_leader(service: Any, store: Any) -> None:
    """Orphaned work is recovered by the scheduler service itself while it leads: a sweep every
    ROBOCORE_SWEEP_SECONDS (`robocore.recovery.Sweeper`), not once at start; this only logs when it leads."""
    import structlog

    while not service.wait_leader(timeout=60):  # a daemon thread: it ends with the server
        pass
    structlog.get_logger("robocore.server").info("server.scheduler_leader", owner=getattr(service, "owner", None),
                                                 sweep_seconds=getattr(service, "sweep_seconds", None))


def _trusted_proxies(option: str | None) -> list[str]:
    """The proxies whose X-Forwarded-For/-Proto headers are believed: the option, else
    ROBOCORE_FORWARDED_ALLOW_IPS; none by default (uvicorn's own default trusts 127.0.0.1, so any
    local process could forge its client address).

    Each entry is an IP address, a network (`10.0.0.0/8`) or `*` (any: only behind a proxy that
    every client must go through); anything else stops the start with a usage error.
    """
    import ipaddress

    from robocore.settings import get_settings

    where = "--forwarded-allow-ips" if option is not None else "ROBOCORE_FORWARDED_ALLOW_IPS"
    entries = ([e.strip() for e in option.split(",") if e.strip()] if option is not None
               else list(get_settings().forwarded_allow_ips))
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            title = _("Error")
            problem = _("{where}: invalid proxy address '{entry}' (IP address, network or *)", where=where,
                        entry=entry)
            err.print(f"[bold red]{title}[/] : {problem}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    return entries


def serve(host: Annotated[str, typer.Option(help=N_("Listening address (127.0.0.1: this machine only)"))
                          ] = "127.0.0.1",
          port: Annotated[int, typer.Option(help=N_("Port"))] = 8000,
          no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help=N_(
              "Without the scheduler (another server runs it)"))] = False,
          graceful_seconds: Annotated[int, typer.Option(help=N_("Seconds allowed for a clean stop"))] = 30,
          forwarded_allow_ips: Annotated[str | None, typer.Option(
              "--forwarded-allow-ips", help=N_("Proxies whose X-Forwarded-For is trusted: 10.0.0.1,10.1.0.0/16 or * "
                                               "(default: ROBOCORE_FORWARDED_ALLOW_IPS, else none)"))] = None) -> None:
    """`robo serve`: the API and the pages, with the scheduler unless told otherwise, JSON logs on stdout."""
    import structlog
    import uvicorn

    from robocore.server import create_app

    proxies = _trusted_proxies(forwarded_allow_ips)
    _json_logs()
    log = structlog.get_logger("robocore.server")
    try:
        store = _store()
        scheduler = None if no_scheduler else _scheduler(store)
    except (RobocoreError, OSError) as exc:
        raise _fail(exc) from None
    app = create_app(store, scheduler, access_log=True)
    # without a trusted proxy, no forwarded header is read at all: the socket's address is the client's
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=graceful_seconds, server_header=False,
                            proxy_headers=bool(proxies), forwarded_allow_ips=proxies or [])
    log.info("server.trusted_proxies", forwarded_allow_ips=proxies)
    try:
        _server(config).run()  # SIGTERM/SIGINT: stop accepting, finish requests, then return
    finally:
        if scheduler is not None:
            scheduler.stop()  # gives the leadership lock up for another server
        executor = app.state.robocore.executor
        if executor is not None:
            log.info("server.executor_draining", executor=executor.name)
            executor.shutdown(wait=True)  # runs finish; the store keeps the state of any left behind
        store.close()
        log.info("server.stopped")


@tokens_app.command("create", help=N_("Create a token (shown once only)."))
def tokens_create(name: Annotated[str, typer.Option("--name", help=N_("Unique name, e.g. agent-dupont"))],
                  role: Annotated[str, typer.Option("--role", help=N_("agent, engineer, manager or admin"))],
                  groups: Annotated[str | None, typer.Option("--groups", help=N_("Groups of agents: g1,g2"))] = None,
                  expires_in_days: Annotated[int | None, typer.Option(
                      "--expires-in-days", help=N_("Expires in N days (default: never)"))] = None) -> None:
    from robocore.server.auth import create_token
    from robocore.store import Conflict

    try:
        token = create_token(_store(), name, role, (groups or "").split(","), expires_in_days)
    except Conflict:
        raise _fail(ValueError(_("a token named '{name}' already exists", name=name))) from None
    except (ValueError, RobocoreError) as exc:
        raise _fail(exc) from None
    until = ngettext(", valid {n} day", ", valid {n} days", expires_in_days) if expires_in_days else ""
    err.print(_("Token “{name}” ({role}{until}) created. Keep it: it is never shown again.", name=name, role=role,
                until=until), highlight=False)
    print(token)


@tokens_app.command("list", help=N_("List the tokens (never their value)."))
def tokens_list() -> None:
    from rich.table import Table

    from robocore.store import utcnow

    now = utcnow()
    table = Table(_("Name"), _("Role"), _("Groups"), _("Created on"), _("Last used"), _("Expires on"),
                  _("Revoked on"))
    for t in _store().list_tokens():
        expiry = _("never") if t.expires_at is None else f"{t.expires_at:%Y-%m-%d %H:%M}"
        table.add_row(t.name, t.role, ", ".join(t.groups), f"{t.created_at:%Y-%m-%d %H:%M}",
                      f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "—",
                      expiry + (_(" (expired)") if t.expires_at is not None and t.expires_at <= now else ""),
                      f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "")
    console.print(table)


@tokens_app.command("revoke", help=N_("Revoke a token (at once)."))
def tokens_revoke(name: Annotated[str, typer.Argument(help=N_("Name of the token"))]) -> None:
    if not _store().revoke_token(name):
        raise _fail(ValueError(_("no live token named '{name}'", name=name)))
    console.print(_("Token “{name}” revoked.", name=name), highlight=False)


@grants_app.command("add", help=N_("Grant a robot to a group of agents."))
def grants_add(robot: RobotArgument, group: GroupArgument) -> None:
    added = _store().add_grant(robot, group)
    done = _("Granted: {robot} → {group}", robot=robot, group=group) if added else _(
        "Already granted: {robot} → {group}", robot=robot, group=group)
    console.print(done, highlight=False)


@grants_app.command("remove", help=N_("Remove a grant."))
def grants_remove(robot: RobotArgument, group: GroupArgument) -> None:
    if not _store().remove_grant(robot, group):
        raise _fail(ValueError(_("grant not found: {robot} → {group}", robot=robot, group=group)))
    console.print(_("Removed: {robot} → {group}", robot=robot, group=group), highlight=False)


@grants_app.command("list", help=N_("List the grants."))
def grants_list() -> None:
    from rich.table import Table

    table = Table(_("Robot"), _("Group"))
    for grant in _store().list_grants():
        table.add_row(grant.robot, grant.group)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `serve`, `tokens` and `grants` to the `robo` application."""
    app.command("serve", help=N_("Start the API server and the pages (JSON logs on standard output)."))(serve)
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(grants_app, name="grants")
