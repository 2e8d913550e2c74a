"""`robo tray`: the agents' launcher in the system tray (robocore.tray), connected to a Robocore server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from robocore.i18n import gettext as _

if TYPE_CHECKING:
    from robocore.tray.journal import Journal

err = Console(stderr=True)
PROGRAM = "robocore-tray"


def _version(shown: bool) -> None:
    """`--version`: the name and version, printed before anything needs a screen."""
    if shown:
        from robocore import __version__

        typer.echo(f"{PROGRAM} {__version__}")
        raise typer.Exit(0)


def tray(
    server: Annotated[str | None, typer.Option("--server", metavar="URL",
                                               help="Adresse du serveur Robocore / the server's URL")] = None,
    token_from_keyring: Annotated[bool, typer.Option(
        "--token-from-keyring/--ask-token",
        help="Jeton enregistré (trousseau ou fichier privé), sinon demandé / stored token, else asked")] = True,
    local: Annotated[bool, typer.Option("--local", help="Robots lancés sur ce poste / run robots here")] = False,
    lang: Annotated[str | None, typer.Option("--lang", metavar="fr|en", help="Langue / language")] = None,
    sign_in: Annotated[Literal["auto", "browser", "token"], typer.Option(
        "--sign-in", metavar="auto|browser|token",
        help="Connexion par le navigateur si le serveur l'offre, sinon jeton / browser sign-in when offered, "
             "else a token")] = "auto",
    install_desktop: Annotated[bool, typer.Option(
        "--install-desktop", help="Ajoute Robocore au menu des applications (Linux) / add to the menu")] = False,
    remove_desktop: Annotated[bool, typer.Option(
        "--remove-desktop", help="Retire Robocore du menu (Linux) / remove from the menu")] = False,
    autostart: Annotated[Literal["on", "off"] | None, typer.Option(
        "--autostart", metavar="on|off", help="Lancement à l'ouverture de session (Linux) / start at sign-in")] = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                          help="Affiche la version / show the version")] = False,
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
        err.print(_("--local (attended runs on this computer) is not available yet: use --server URL."))
        raise typer.Exit(2)
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
    from robocore.i18n import current

    lang = current()  # reads the settings: pydantic must be imported before PySide6 (shiboken's import hook)
    from robocore.tray.api import TrayClient
    from robocore.tray.app import run_tray
    from robocore.tray.credentials import Credentials, Token
    from robocore.tray.prefs import Prefs
    from robocore.tray.queue import LaunchQueue

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
    client = TrayClient(server, token, lang=lang)
    _quit_on_signals()
    return run_tray(client, LaunchQueue(), Prefs(), _journal())


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
    app.command("tray")(tray)


def main(argv: list[str] | None = None) -> int:
    """The packaged app `robocore-tray`: the `tray` command alone, with the same options."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(tray)
    try:
        app(args=argv, prog_name=PROGRAM, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
