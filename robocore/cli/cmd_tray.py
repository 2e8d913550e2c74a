"""`robo tray`: the agents' launcher in the system tray (robocore.tray), connected to a Robocore server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from robocore.i18n import gettext as _

err = Console(stderr=True)


def tray(
    server: Annotated[str | None, typer.Option("--server", metavar="URL",
                                               help="Adresse du serveur Robocore / the server's URL")] = None,
    token_from_keyring: Annotated[bool, typer.Option(
        "--token-from-keyring/--ask-token",
        help="Jeton enregistré (trousseau ou fichier privé), sinon demandé / stored token, else asked")] = True,
    local: Annotated[bool, typer.Option("--local", help="Robots lancés sur ce poste / run robots here")] = False,
    lang: Annotated[str | None, typer.Option("--lang", metavar="fr|en", help="Langue / language")] = None,
) -> None:
    """Show the Robocore icon next to the clock: the agent's robots, launches, progress, time saved."""
    from robocore.i18n import set_language

    if lang is not None:
        try:
            set_language(lang)
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
    if local:
        err.print(_("--local (attended runs on this computer) is not available yet: use --server URL."))
        raise typer.Exit(2)
    if not server:
        err.print(_("--server URL is required (the address of your Robocore server)."))
        raise typer.Exit(2)
    raise typer.Exit(_start(server.rstrip("/"), token_from_keyring))


def _start(server: str, stored: bool) -> int:
    """Read or ask for the token, keep it, start the tray (Qt is imported only here)."""
    from robocore.i18n import current
    from robocore.tray.api import TrayClient
    from robocore.tray.app import run_tray
    from robocore.tray.credentials import Credentials, Token
    from robocore.tray.prefs import Prefs
    from robocore.tray.queue import LaunchQueue

    credentials = Credentials()
    token = credentials.load(server) if stored else None
    if token is None:
        token = Token(typer.prompt(_("API token for {server}", server=server), hide_input=True).strip())
        credentials.save(server, token)
        err.print(_("Token kept in the {where}.", where=_("system keyring") if credentials.where == "keyring"
                    else _("private file {path}", path=str(credentials.path))))
    client = TrayClient(server, token, lang=current())
    return run_tray(client, LaunchQueue(), Prefs())


def register(app: typer.Typer) -> None:
    """Add `tray` to the `robo` application."""
    app.command("tray")(tray)
