"""`robo tray`: the agents' launcher in the system tray (robocore.tray), connected to a Robocore server, or
running robots on this computer in attended mode (`--local`, reporting to the server when `--server` is given)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from robocore.i18n import N_
from robocore.i18n import gettext as _

if TYPE_CHECKING:
    from robocore.tray.api import TrayClient
    from robocore.tray.journal import Journal

err = Console(stderr=True)
PROGRAM = "robocore-tray"


def _version(shown: bool) -> None:
    """`--version`: the name and version, printed before anything needs a screen."""
    if shown:
        from robocore import __version__

        typer.echo(f"{PROGRAM} {__version__}")
        raise typer.Exit(0)


TRAY_HELP = N_("Show the Robocore icon next to the clock: the agent's robots, launches, progress, time saved.")


def tray(
    server: Annotated[str | None, typer.Option("--server", metavar="URL", help=N_(
        "The Robocore server's URL (with --local: where attended runs are reported)"))] = None,
    token_from_keyring: Annotated[bool, typer.Option(
        "--token-from-keyring/--ask-token",
        help=N_("Use the stored token (system keyring or private file), else ask for one"))] = True,
    local: Annotated[bool, typer.Option("--local", help=N_(
        "Attended mode: run this install's robots on this computer, with supervision time"))] = False,
    lang: Annotated[str | None, typer.Option("--lang", metavar="fr|en", help=N_("Language of the tray"))] = None,
    sign_in: Annotated[Literal["auto", "browser", "token"], typer.Option(
        "--sign-in", metavar="auto|browser|token",
        help=N_("Sign in through the browser when the server offers it, else with a token"))] = "auto",
    install_desktop: Annotated[bool, typer.Option(
        "--install-desktop", help=N_("Add Robocore to the applications menu (Linux)"))] = False,
    remove_desktop: Annotated[bool, typer.Option(
        "--remove-desktop", help=N_("Remove Robocore from the applications menu (Linux)"))] = False,
    autostart: Annotated[Literal["on", "off"] | None, typer.Option(
        "--autostart", metavar="on|off", help=N_("Start Robocore when the session opens (Linux)"))] = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                          help=N_("Show the version"))] = False,
) -> None:
    """Show the Robocore icon next to the clock: the agent's robots, launches, progress, time saved."""
    from robocore.i18n import set_language

    if lang is not None:
        try:
            set_language(lang)
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
    if install_desktop or remove_desktop or autostart is not None:
        raise typer.Exit(_desktop(server, install_desktop, remove_desktop, autostart))
    if local:
        raise typer.Exit(_start_local(server.rstrip("/") if server else None, token_from_keyring, sign_in))
    if not server:
        err.print(_("--server URL is required (the address of your Robocore server)."))
        raise typer.Exit(2)
    raise typer.Exit(_start(server.rstrip("/"), token_from_keyring, sign_in))


def _desktop(server: str | None, install: bool, remove: bool, autostart: str | None) -> int:
    """The menu and autostart entries (Linux): written or removed, then the command ends."""
    from robocore.tray import desktop

    server = server.rstrip("/") if server else None
    try:
        if install and remove:
            raise desktop.BadArgument(_("--install-desktop and --remove-desktop cannot be used together"))
        if install and not server:
            raise desktop.BadArgument(_("--install-desktop needs --server URL"))
        if install and server:
            for path in desktop.install_menu_entry(server):
                err.print(_("Written: {path}", path=str(path)), highlight=False)
        if remove:
            for path in desktop.remove_menu_entry():
                err.print(_("Removed: {path}", path=str(path)), highlight=False)
        if autostart is not None:
            path = desktop.set_autostart(autostart == "on", server)
            err.print(_("Autostart on: {path}", path=str(path)) if autostart == "on"
                      else _("Autostart off: {path} removed", path=str(path)), highlight=False)
    except (desktop.DesktopUnsupported, desktop.BadArgument, OSError) as exc:
        err.print(str(exc), highlight=False)
        return 2
    return 0


def _start(server: str, stored: bool, sign_in: str = "auto") -> int:
    """Read or ask for the token, keep it, start the tray (Qt is imported only here)."""
    client = _client(server, stored, sign_in)
    if isinstance(client, int):
        return client
    from robocore.tray.app import run_tray
    from robocore.tray.prefs import Prefs
    from robocore.tray.queue import LaunchQueue

    _quit_on_signals()
    return run_tray(client, LaunchQueue(), Prefs(), _journal())


def _start_local(server: str | None, stored: bool, sign_in: str) -> int:
    """Attended mode: this install's robots and store; the server's client when `server` is given."""
    from robocore import settings
    from robocore.errors import RobocoreError

    try:
        from robocore.store import Store
    except ImportError:  # the packaged tray (packaging/robocore-tray.spec) leaves the engine and store out
        err.print(_("--local runs robots on this computer: it needs the full Robocore install (robo tray --local); "
                    "this packaged app only connects to a server (--server URL)."), highlight=False)
        return 2

    client = _client(server, stored, sign_in) if server else None
    if isinstance(client, int):
        return client
    try:
        store = Store(settings.database_url())
    except RobocoreError as exc:
        err.print(str(exc), highlight=False)
        return 1
    from robocore.tray.attended import local_queue_path, run_attended
    from robocore.tray.local import LocalClient
    from robocore.tray.outbox import Outbox
    from robocore.tray.prefs import Prefs
    from robocore.tray.queue import LaunchQueue

    robots = settings.robots_dir()
    if not robots.is_dir():
        err.print(_("No robots folder {path} (ROBOCORE_ROBOTS): the menu will be empty.", path=str(robots)),
                  highlight=False)
    path = local_queue_path()
    _quit_on_signals()
    try:
        return run_attended(LocalClient(store, robots), LaunchQueue(path), Prefs(), _journal(),
                            outbox=Outbox(path) if client is not None else None, server=client)
    finally:
        store.close()


def _client(server: str, stored: bool, sign_in: str) -> TrayClient | int:
    """The server's client with the agent's token (kept, else signed in through the browser, else asked);
    an exit code when signing in failed."""
    from robocore.i18n import current

    lang = current()  # reads the settings: pydantic must be imported before PySide6 (shiboken's import hook)
    from robocore.tray.api import TrayClient
    from robocore.tray.credentials import Credentials, Token

    credentials = Credentials()
    token = credentials.load(server) if stored else None
    if token is None and sign_in != "token":
        from robocore.tray.signin import LoopbackSignIn, SignInError, offered

        if sign_in == "browser" or offered(server):
            err.print(_("Sign in in the browser that opens (5 minutes at most)…"))
            try:
                token = LoopbackSignIn(server, credentials).run()
            except SignInError as exc:
                err.print(str(exc), highlight=False)
                return 1
    if token is None:
        token = Token(typer.prompt(_("API token for {server}", server=server), hide_input=True).strip())
        credentials.save(server, token)
        err.print(_("Token kept in the {where}.", where=_("system keyring") if credentials.where == "keyring"
                    else _("private file {path}", path=str(credentials.path))))
    return TrayClient(server, token, lang=lang)


def _journal() -> Journal:
    """ROBOCORE_TRAY_AUTOMATION=FILE: the texts the tray shows, one JSON line per change (desktop automation)."""
    import os
    from pathlib import Path

    from robocore.tray.journal import ENV, Journal

    found = os.environ.get(ENV, "").strip()
    return Journal(Path(found) if found else None)


def _quit_on_signals() -> None:
    """SIGTERM (a session ending, `kill`) and Ctrl+C end Qt's loop normally: the queue closes, exit code 0."""
    import signal

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([PROGRAM])
    QApplication.setApplicationName(PROGRAM)
    QApplication.setDesktopFileName("robocore-tray")  # the menu entry of robocore.tray.desktop
    for name in ("SIGTERM", "SIGINT"):
        signal.signal(getattr(signal, name), lambda *_args: QApplication.quit())
    # Python runs its signal handlers only between bytecodes: a timer hands it the thread now and then
    ticker = QTimer(app)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)


def register(app: typer.Typer) -> None:
    """Add `tray` to the `robo` application."""
    app.command("tray", help=TRAY_HELP)(tray)


def main(argv: list[str] | None = None) -> int:
    """The packaged app `robocore-tray`: the `tray` command alone, with the same options."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command(help=TRAY_HELP)(tray)
    try:
        app(args=argv, prog_name=PROGRAM, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
