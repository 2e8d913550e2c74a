"""`robo` commands. Heavy parts (engine, store, Playwright) are imported only when used.

No `from __future__ import annotations` in the command modules: typer reads every command's
signature at each start, and string annotations cost it two evaluations each (about 10 ms).
"""

import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from robocore.errors import PluginError, RobocoreError, RobotDefinitionError, StoreError
from robocore.i18n import DEFAULT, render
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.statuses import ITEM_FAILED, RunStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from robocore.engine import Progress, RunResult
    from robocore.store import Store

    Start = Callable[[Store, Progress | None], Coroutine[Any, Any, RunResult]]

app = typer.Typer(help="Robocore — robots logiciels des administrations / RPA for public administrations.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
new_app = typer.Typer(help="Créer un robot / scaffold", no_args_is_help=True)
demo_app = typer.Typer(help="Portail de démonstration / demo portal", no_args_is_help=True)
app.add_typer(new_app, name="new")
app.add_typer(demo_app, name="demo")
console = Console()
err = Console(stderr=True)


def _fail(exc: Exception, code: int = 1) -> typer.Exit:
    try:
        title = _("Error")
    except RobocoreError:  # the settings, the language among them, are what is wrong
        title = render(_l("Error"), DEFAULT)
    err.print(f"[bold red]{title}[/] : {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _store() -> "Store":
    from robocore import settings
    from robocore.store import Store

    return Store(settings.database_url())


@app.callback()
def _check_settings(lang: Annotated[str | None, typer.Option(
        "--lang", metavar="fr|en", help="Langue des messages (défaut ROBOCORE_LANGUAGE) / language of messages")] = None
                    ) -> None:
    """Validate every ROBOCORE_* variable before any command runs (one line naming a wrong one)."""
    from robocore.settings import get_settings  # not at import: `robo --help` stays light

    try:
        get_settings()
    except RobocoreError as exc:
        raise _fail(exc, 2) from None
    if lang is not None:  # this command's messages; the context variable lives as long as the command
        from robocore.i18n import set_language

        try:
            set_language(lang)
        except ValueError as exc:
            raise _fail(exc, 2) from None


@app.command()
def run(robot: Annotated[str, typer.Argument(help="Dossier, fichier robot.yaml ou nom dans robots/")],
        input: Annotated[list[str] | None, typer.Option("--input", "-i", help="nom=valeur")] = None,
        headed: Annotated[bool, typer.Option(help="Voir le navigateur / show the browser")] = False,
        trace: Annotated[bool, typer.Option(help="Trace Playwright des éléments en échec")] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
        debug: Annotated[bool, typer.Option("--debug")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Pas de barre de progression")] = False,
        remote: Annotated[bool, typer.Option(
            help="Via l'exécuteur configuré (ROBOCORE_EXECUTOR) / through the executor")] = False,
        wait: Annotated[bool, typer.Option(help="Avec --remote : attendre la fin / wait for the end")] = False) -> None:
    """Lancer un robot / run a robot."""
    if remote:
        from robocore.cli.cmd_worker import remote_run
        from robocore.inputs import parse_pairs as pairs

        try:
            remote_run(robot, pairs(input or []), wait=wait)
        except RobocoreError as exc:
            raise _fail(exc) from None
        return
    from robocore import settings
    from robocore.context import RunSettings
    from robocore.inputs import parse_pairs
    from robocore.loader import find_robot, load_robot
    from robocore.logging import configure

    configure("pretty", "debug" if debug else "info" if verbose else "warning")
    try:
        loaded = load_robot(find_robot(robot, settings.robots_dir()))
        given = parse_pairs(input or [])
        run_settings = RunSettings(headed=headed, trace=trace, timeout_ms=loaded.spec.timeout_ms)
        _execute(lambda store, progress: _runs().start(loaded, store, given, run_settings=run_settings,
                                                       progress=progress, log_level="debug" if debug else "info"),
                 quiet)
    except (RobocoreError, OSError) as exc:
        raise _fail(exc) from None


def _runs() -> ModuleType:
    from robocore import runs

    return runs


def _execute(start: "Start", quiet: bool) -> None:
    from robocore.cli.summary import print_failures, print_result

    store = _store()
    try:
        if quiet:
            result = asyncio.run(start(store, None))
        else:
            from robocore.cli.progress import BarProgress  # not with --quiet: rich.progress costs ~4 ms

            with BarProgress(err) as progress:
                result = asyncio.run(start(store, progress))
        if any(result.counts.get(status) for status in ITEM_FAILED):  # else no query: nothing to list
            print_failures(console, store.items(result.run_id))
    finally:
        store.close()
    print_result(console, result)
    if result.status == RunStatus.FAILED:
        raise typer.Exit(1)


def _full_id(store: "Store", prefix: str) -> str:
    """The id of the one run starting with `prefix` (the CLI accepts a run id's beginning)."""
    found = store.find_run(prefix)
    return found.id if found else prefix  # unknown: the run's own "not found" error follows


@app.command()
def resume(run_id: Annotated[str, typer.Argument(help="Identifiant (ou début) de l'exécution")],
           headed: bool = False, quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Reprendre une exécution interrompue / resume a run (done items are never redone)."""
    from robocore.context import RunSettings
    from robocore.logging import configure

    configure("pretty", "warning")
    try:
        _execute(lambda store, progress: _runs().resume(_full_id(store, run_id), store, progress=progress,
                                                        run_settings=RunSettings(headed=headed)), quiet)
    except (RobocoreError, OSError) as exc:
        raise _fail(exc) from None


@app.command()
def validate(paths: Annotated[list[Path], typer.Argument(help="Fichiers ou dossiers de robots")]) -> None:
    """Vérifier des fichiers robot sans les lancer / validate robot files."""
    from robocore.cli.cmd_schedules import validate_schedule_file
    from robocore.loader import load_robot

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(p.rglob("robot.yaml")))
            files.extend(sorted(f for f in p.rglob("*.y*ml") if _is_schedule(f)))
        else:
            files.append(p)
    if not files:
        raise _fail(RobotDefinitionError(_("no robot.yaml file in {paths}", paths=", ".join(map(str, paths)))))
    bad = 0
    for f in files:
        try:
            validate_schedule_file(f) if _is_schedule(f) else load_robot(f)
            console.print(f"[green]✔[/] {f}")
        except RobocoreError as exc:
            bad += 1
            err.print(f"[red]✘[/] {exc}", highlight=False, soft_wrap=True)
        except Exception as exc:  # last resort: never a traceback for a bad file
            bad += 1
            error = f"{type(exc).__name__}: {exc}"
            err.print(f"[red]✘[/] {f}: " + _("internal error reading this file: {error}", error=error),
                      highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(1)


def _is_schedule(path: Path) -> bool:
    """Schedule files live in a `schedules` folder; robot files are robot.yaml."""
    return path.name != "robot.yaml" and "schedules" in path.parts and path.suffix in (".yaml", ".yml")


@app.command()
def schema(output: Annotated[Path | None, typer.Option("--output", "-o")] = None) -> None:
    """Écrire le schéma JSON des robots (complétion dans l'éditeur) / robot JSON Schema."""
    from robocore.plugins import load_registry
    from robocore.schema import robot_schema

    text = json.dumps(robot_schema(load_registry()), ensure_ascii=False, indent=2)
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(_("Schema written: {path}", path=output))
    else:
        sys.stdout.write(text + "\n")


@app.command()
def plugins() -> None:
    """Lister les actions et les extensions installées / list installed actions and extensions."""
    from rich.table import Table

    from robocore import extensions
    from robocore.plugins import load_registry

    try:
        registry = load_registry()
    except PluginError as exc:
        raise _fail(exc) from None
    table = Table(_("Action"), _("Parameters"), _("Description"), _("Provider"))
    for a in registry:
        params = ", ".join(n + ("" if n in a.required else "?") for n in a.param_names)
        table.add_row(a.name, params, a.doc, a.provider.split(" (")[0])
    console.print(table)
    loaded = Table(_("Kind"), _("Extension"))
    broken = [(extensions.ACTIONS.kind, provider, why) for provider, why in registry.broken.items()]
    for provider in registry.providers:
        loaded.add_row(extensions.ACTIONS.kind, provider)
    for point in extensions.POINTS:
        if point is not extensions.ACTIONS:  # actions: the registry's, which ROBOCORE_PLUGINS restricts
            found = extensions.load(point)
            for ext in found:
                loaded.add_row(point.kind, ext.label)
            broken += [(point.kind, b.label, b.error) for b in found.broken.values()]
    console.print(loaded)
    for kind, label, why in broken:
        not_loaded = _("{kind} not loaded", kind=kind)
        err.print(f"[red]{not_loaded}[/] : {label} — {why}", highlight=False)


@app.command("list")
def list_robots() -> None:
    """Lister les robots du dossier robots/ / list robots."""
    from rich.table import Table

    from robocore import settings
    from robocore.loader import load_robot

    table = Table(_("Robot"), _("Title"), _("Process"), _("Min./item"), _("State"))
    for f in sorted(settings.robots_dir().glob("*/robot.yaml")):
        try:
            s = load_robot(f).spec
            table.add_row(s.robot, s.title or "", s.process.name if s.process else "",
                          f"{s.process.manual_minutes_per_item:g}" if s.process else "", "[green]valide")
        except RobocoreError as exc:
            table.add_row(f.parent.name, "", "", "", f"[red]{str(exc)[:80]}")
    console.print(table)


@app.command()
def runs(limit: int = 20, robot: str | None = None) -> None:
    """Historique des exécutions / run history."""
    from robocore.cli.summary import print_runs

    try:
        store = _store()
        print_runs(console, store, limit, robot)
    except StoreError as exc:
        raise _fail(exc) from None


@app.command()
def logs(run_id: str, follow: bool = False) -> None:
    """Afficher le journal d'une exécution / show a run's log."""
    from robocore import settings
    from robocore.cli.summary import print_log

    store = _store()
    run_row = store.find_run(run_id)
    if run_row is None:
        raise _fail(RobotDefinitionError(_("run not found '{run_id}'", run_id=run_id)))
    print_log(console, settings.home() / "runs" / run_row.id / "log.jsonl")


@app.command()
def report(start: Annotated[str | None, typer.Option("--from", help="AAAA-MM-JJ (inclus)")] = None,
           end: Annotated[str | None, typer.Option("--to", help="AAAA-MM-JJ (exclu)")] = None,
           by: Annotated[str, typer.Option(help="process | service | robot | month")] = "process",
           xlsx: Annotated[Path | None, typer.Option(
               help="Exporter en Excel : synthèse, heures par mois, une feuille par processus, graphiques")] = None,
           csv: Annotated[Path | None, typer.Option(
               help="Exporter en CSV pour Excel (« ; », UTF-8 avec BOM, virgule décimale)")] = None) -> None:
    """Heures économisées / hours saved, FTE (1 607 h/an), items and runs succeeded apart."""
    from robocore import ledger
    from robocore.cli.summary import print_report
    from robocore.exports.period import Period, PeriodError
    from robocore.reports import GROUPINGS, present

    if by not in GROUPINGS:
        raise _fail(RobotDefinitionError(_("--by must be one of {choices}", choices=", ".join(GROUPINGS))), 2)
    try:
        period = Period.checked(date.fromisoformat(start) if start else None,
                                date.fromisoformat(end) if end else None, export=bool(xlsx or csv))
    except PeriodError as exc:
        raise _fail(RobotDefinitionError(f"--from/--to : {exc}"), 2) from None
    except ValueError as exc:
        raise _fail(RobotDefinitionError(_("invalid date (YYYY-MM-DD expected): {error}", error=exc)), 2) from None
    store = _store()
    if not (xlsx or csv):
        print_report(console, present(ledger.hours_saved(store, period.start, period.end, ledger.grouping(by))),
                     period.label)
        return
    from robocore import exports

    export = exports.gather(store, period, ledger.grouping(by))
    print_report(console, export.report, period.label)
    try:
        if xlsx:
            err.print(_("Excel workbook written: {path}", path=exports.write_xlsx(export, xlsx)))
        if csv:
            err.print(_("CSV file written: {path}", path=exports.write_csv(export, csv)))
    except OSError as exc:
        raise _fail(RobocoreError(_("cannot write {path}: {reason}", path=exc.filename, reason=exc.strerror))) from None


@new_app.command("robot")
def new_robot(name: str, folder: Annotated[Path | None, typer.Option(help="Dossier parent")] = None) -> None:
    """Créer un robot prêt à lancer / scaffold a working robot folder."""
    from robocore import settings
    from robocore.cli.scaffold import scaffold

    try:
        path = scaffold(name, folder or settings.robots_dir())
    except (RobocoreError, OSError) as exc:
        raise _fail(exc) from None
    command = f"[bold]robo run {path.parent}[/]"
    console.print(_("Robot created: {path}", path=path) + "\n" + _("Run it: {command}", command=command))


@demo_app.command("portal")
def demo_portal(port: int = 8765, host: str = "127.0.0.1", shuffle: bool = False,
                slow: Annotated[bool, typer.Option(help="Réponses parfois lentes / occasional slowness")] = True,
                data: Annotated[Path | None, typer.Option(help="Dossier des données du portail")] = None) -> None:
    """Démarrer le portail de démonstration / start the demo portal (agent.demo / demo-portail-2026)."""
    from robocore.demo import PortalConfig, serve

    overrides: dict[str, object] = {"shuffle": shuffle}
    if data:
        overrides["data_dir"] = data
    config = PortalConfig.demo(**overrides) if slow else PortalConfig(**overrides)  # type: ignore[arg-type]
    url = f"http://{host}:{port}/connexion"
    err.print(_("Demo portal: {url} ({login} / {password})", url=url, login="agent.demo", password="demo-portail-2026"))
    serve(config, host=host, port=port)


def _register_extensions() -> None:
    from robocore.cli import cmd_processes, cmd_purge, cmd_schedules, cmd_server, cmd_tray, cmd_worker

    cmd_schedules.register(app)
    cmd_worker.register(app)
    cmd_server.register(app)
    cmd_purge.register(app)
    cmd_processes.register(app)
    cmd_tray.register(app)


_register_extensions()


def main() -> None:
    """Entry point of the `robo` script."""
    app()
