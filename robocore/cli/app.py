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

from robocore.cli.help_text import TranslatedGroup
from robocore.errors import RobocoreError, RobotDefinitionError, StoreError
from robocore.i18n import N_, render, speaking
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.statuses import ITEM_FAILED, RunStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from robocore.cli.early import RunLoop
    from robocore.context import RunSettings
    from robocore.engine import Progress, RunResult
    from robocore.spec import Robot
    from robocore.store import StepEvent, Store

    Start = Callable[[Store, Progress | None], Coroutine[Any, Any, RunResult]]

# help texts are English msgids marked N_, translated at start into the command line's language (help_text)
app = typer.Typer(cls=TranslatedGroup, help=N_("Robocore — software robots for public administrations."),
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
new_app = typer.Typer(help=N_("Create a robot."), no_args_is_help=True)
demo_app = typer.Typer(help=N_("Demo portal."), no_args_is_help=True)
app.add_typer(new_app, name="new")
app.add_typer(demo_app, name="demo")
console = Console()
err = Console(stderr=True)


def _fail(exc: Exception, code: int = 1) -> typer.Exit:
    lang = speaking()  # even when the settings, the language among them, are what is wrong
    # Translators: a label and its text (French typography: « Erreur : … »)
    line = _l("{label}: {text}", label=f"[bold red]{render(_l('Error'), lang)}[/]", text=exc)
    err.print(render(line, lang), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _store() -> "Store":
    from robocore import settings
    from robocore.store import Store

    return Store(settings.database_url())


@app.callback()
def _check_settings(lang: Annotated[str | None, typer.Option(
        "--lang", metavar="fr|en", help=N_("Language of the messages (default: ROBOCORE_LANGUAGE, else fr)"))] = None
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


HeadedOption = Annotated[bool, typer.Option(help=N_("Show the browser"))]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help=N_("Show the run's log (info level)"))]
DebugOption = Annotated[bool, typer.Option("--debug", help=N_(
    "Show the detailed log (debug level) and, at the end, the run's timeline (step, item, duration)"))]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help=N_("No progress bar"))]


@app.command(help=N_("Run a robot."))
def run(ctx: typer.Context,
        robot: Annotated[str, typer.Argument(help=N_("Robot folder, robot.yaml file or name of a folder in robots/"))],
        input: Annotated[list[str] | None, typer.Option("--input", "-i", help=N_(
            "An input, name=value (repeatable); a relative file path starts from the current folder"))] = None,
        headed: HeadedOption = False,
        trace: Annotated[bool, typer.Option(help=N_("Keep a Playwright trace of the failed items"))] = False,
        verbose: VerboseOption = False,
        debug: DebugOption = False,
        quiet: QuietOption = False,
        remote: Annotated[bool, typer.Option(help=N_("Through the configured executor (ROBOCORE_EXECUTOR)"))] = False,
        wait: Annotated[bool, typer.Option(help=N_("With --remote: wait for the end of the run"))] = False) -> None:
    from robocore import settings
    from robocore.inputs import from_command_line, parse_pairs
    from robocore.loader import find_robot, load_robot

    if remote:
        from robocore.cli.cmd_worker import remote_run

        try:
            spec = load_robot(find_robot(robot, settings.robots_dir())).spec
            remote_run(robot, from_command_line(spec, parse_pairs(input or [])), wait=wait)
        except RobocoreError as exc:
            raise _fail(exc) from None
        return
    from robocore.context import RunSettings
    from robocore.logging import configure

    configure("pretty", "debug" if debug else "info" if verbose else "warning")
    try:
        loaded = load_robot(find_robot(robot, settings.robots_dir()))
        given = from_command_line(loaded.spec, parse_pairs(input or []))  # relative files: from here
        run_settings = RunSettings(headed=headed, trace=trace, timeout_ms=loaded.spec.timeout_ms)
        _execute(lambda store, progress: _runs().start(loaded, store, given, run_settings=run_settings,
                                                       progress=progress, log_level="debug" if debug else "info"),
                 quiet, timeline=debug, run_settings=run_settings, browser_ahead=_uses_browser(loaded.spec),
                 early=ctx.find_root().obj)
    except (RobocoreError, OSError) as exc:
        raise _fail(exc) from None


def _uses_browser(spec: "Robot") -> bool:
    """Whether a step of the robot is a browser action (then Chromium is started ahead)."""
    from robocore.spec import ActionStep

    actions = [a for step in spec.steps
               for a in ([step] if isinstance(step, ActionStep) else [*step.lane_setup, *step.verify, *step.steps])]
    return any(a.use.startswith("browser.") for a in actions)


def _runs() -> ModuleType:
    from robocore import runs

    return runs


def _execute(start: "Start", quiet: bool, *, timeline: bool = False, run_settings: "RunSettings | None" = None,
             browser_ahead: bool = False, early: "RunLoop | None" = None) -> None:
    """Run, then print the failed items and the summary; with `timeline` (--debug), the run's timeline.

    With `browser_ahead` (a robot using browser actions), Chromium starts while the store opens,
    in a thread meanwhile: a cold `robo run` waits for the longer of the two, not for both. With
    `early`, the run executes on that loop, where Chromium has been starting since the command began.
    """
    from robocore.cli.summary import print_dropped_traces, print_failures, print_result

    opened: list[Store] = []

    async def execute(progress: "Progress | None") -> "RunResult":
        ahead = None
        if browser_ahead and run_settings is not None:  # an early browser not taken is closed with its loop
            from robocore.actions._browser_session import Ahead

            ahead = Ahead(run_settings, early.take_browser() if early is not None else None)
        try:
            opened.append(await asyncio.to_thread(_store) if ahead else _store())
            return await start(opened[0], progress)
        finally:
            if ahead is not None:
                await ahead.discard()  # closed if no browser action took it

    events: list[StepEvent] = []
    try:
        run_on = early.call if early is not None else asyncio.run
        if quiet:
            result = run_on(execute(None))
        else:
            from robocore.cli.progress import BarProgress  # not with --quiet: rich.progress costs ~4 ms

            with BarProgress(err) as progress:
                result = run_on(execute(progress))
        store = opened[0]
        if any(result.counts.get(status) for status in ITEM_FAILED):  # else no query: nothing to list
            print_failures(console, store.items(result.run_id))
        if timeline:
            events = store.events(result.run_id)
    finally:
        for each in opened:
            each.close()
    print_result(console, result)
    if run_settings is not None:  # items whose trace (--trace) was not kept, and why
        print_dropped_traces(console, run_settings.extra.get("traces_dropped", {}))
    if timeline:
        from robocore.cli.timeline import print_timeline

        print_timeline(console, events)
    if result.status == RunStatus.FAILED:
        raise typer.Exit(1)


def _full_id(store: "Store", prefix: str) -> str:
    """The id of the one run starting with `prefix` (the CLI accepts a run id's beginning)."""
    found = store.find_run(prefix)
    return found.id if found else prefix  # unknown: the run's own "not found" error follows


@app.command(help=N_("Resume an interrupted run (done items are never redone)."))
def resume(run_id: Annotated[str, typer.Argument(help=N_("Id of the run (or its beginning)"))],
           headed: HeadedOption = False, verbose: VerboseOption = False, debug: DebugOption = False,
           quiet: QuietOption = False) -> None:
    from robocore.context import RunSettings
    from robocore.logging import configure

    configure("pretty", "debug" if debug else "info" if verbose else "warning")
    try:
        _execute(lambda store, progress: _runs().resume(_full_id(store, run_id), store, progress=progress,
                                                        run_settings=RunSettings(headed=headed),
                                                        log_level="debug" if debug else "info"), quiet, timeline=debug)
    except (RobocoreError, OSError) as exc:
        raise _fail(exc) from None


@app.command(help=N_("Check robot and schedule files without running them."))
def validate(paths: Annotated[list[Path], typer.Argument(help=N_("Robot files or folders"))]) -> None:
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


@app.command(help=N_("Write the robots' JSON Schema (completion in the editor)."))
def schema(output: Annotated[Path | None, typer.Option(
        "--output", "-o", help=N_("File to write (default: standard output)"))] = None) -> None:
    from robocore.plugins import load_registry
    from robocore.schema import robot_schema

    text = json.dumps(robot_schema(load_registry()), ensure_ascii=False, indent=2)
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(_("Schema written: {path}", path=output))
    else:
        sys.stdout.write(text + "\n")


@app.command(help=N_("List the installed actions and extensions."))
def plugins(action: Annotated[str | None, typer.Argument(
        metavar="ACTION", help=N_("An action to describe: its parameters, result and examples"))] = None) -> None:
    from robocore.cli.cmd_docs import show_plugins

    try:
        broken = show_plugins(console, action)
    except RobocoreError as exc:
        raise _fail(exc) from None
    for kind, label, why in broken:
        not_loaded = _("{kind} not loaded", kind=kind)
        err.print(f"[red]{not_loaded}[/] : {label} — {why}", highlight=False)


@app.command("list", help=N_("List the robots of the robots/ folder."))
def list_robots() -> None:
    from rich.text import Text

    from robocore import settings
    from robocore.cli.summary import show, table
    from robocore.loader import load_robot

    shown = table(_("Robot"), _("Title"), _("Process"), _("Min./item"), _("State"))
    for f in sorted(settings.robots_dir().glob("*/robot.yaml")):
        try:
            s = load_robot(f).spec
            shown.add_row(Text(s.robot), Text(s.title or ""), Text(s.process.name if s.process else ""),
                          f"{s.process.manual_minutes_per_item:g}" if s.process else "", "[green]" + _("valid"))
        except RobocoreError as exc:  # the whole error: its file, line and column are what the engineer needs
            shown.add_row(f.parent.name, "", "", "", Text(str(exc), style="red"))
    show(console, shown)


@app.command(help=N_("Run history, most recent first."))
def runs(limit: Annotated[int, typer.Option(help=N_("Most runs shown"))] = 20,
         robot: Annotated[str | None, typer.Option(help=N_("Only the runs of this robot"))] = None) -> None:
    from robocore.cli.summary import print_runs

    try:
        store = _store()
        print_runs(console, store, limit, robot)
    except StoreError as exc:
        raise _fail(exc) from None


@app.command(help=N_("Show a run's log, then its timeline (step, item, duration, status) and the time per step."))
def logs(run_id: str, follow: bool = False,
         all_steps: Annotated[bool, typer.Option("--all", help=N_(
             "The whole timeline, not only its first 200 step executions"))] = False) -> None:
    """Afficher le journal d'une exécution / show a run's log."""
    from robocore import settings
    from robocore.cli.summary import print_log
    from robocore.cli.timeline import LIMIT, print_timeline

    store = _store()
    run_row = store.find_run(run_id)
    if run_row is None:
        raise _fail(RobotDefinitionError(_("run not found '{run_id}'", run_id=run_id)))
    print_log(console, settings.home() / "runs" / run_row.id / "log.jsonl")
    print_timeline(console, store.events(run_row.id), None if all_steps else LIMIT)


@app.command(help=N_("Hours of manual work saved, full-time equivalents (1,607 h a year), items and runs "
                     "succeeded apart."))
def report(start: Annotated[str | None, typer.Option("--from", help=N_("YYYY-MM-DD (included)"))] = None,
           end: Annotated[str | None, typer.Option("--to", help=N_("YYYY-MM-DD (excluded)"))] = None,
           by: Annotated[str, typer.Option(help=N_("Grouping: process, service, robot or month"))] = "process",
           xlsx: Annotated[Path | None, typer.Option(
               help=N_("Export to Excel: summary, hours per month, one sheet per process, charts"))] = None,
           csv: Annotated[Path | None, typer.Option(
               help=N_("Export to CSV for Excel (“;”, UTF-8 with BOM, decimal comma)"))] = None) -> None:
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
        raise _fail(RobotDefinitionError(_("--from/--to: {error}", error=exc)), 2) from None
    except ValueError as exc:
        raise _fail(RobotDefinitionError(_("invalid date (YYYY-MM-DD expected): {error}", error=exc)), 2) from None
    store = _store()
    if not (xlsx or csv):
        print_report(console, present(ledger.hours_saved(store, period.start, period.end, ledger.grouping(by))),
                     period.described())
        return
    from robocore import exports

    export = exports.gather(store, period, ledger.grouping(by))
    print_report(console, export.report, period.described())
    try:
        if xlsx:
            err.print(_("Excel workbook written: {path}", path=exports.write_xlsx(export, xlsx)))
        if csv:
            err.print(_("CSV file written: {path}", path=exports.write_csv(export, csv)))
    except OSError as exc:
        raise _fail(RobocoreError(_("cannot write {path}: {reason}", path=exc.filename, reason=exc.strerror))) from None


@new_app.command("robot", help=N_("Create a robot folder ready to run."))
def new_robot(name: Annotated[str, typer.Argument(help=N_("Name of the new robot"))],
              folder: Annotated[Path | None, typer.Option(
                  help=N_("Parent folder (default: ROBOCORE_ROBOTS, else robots/)"))] = None) -> None:
    from robocore import settings
    from robocore.cli.scaffold import scaffold

    try:
        path = scaffold(name, folder or settings.robots_dir())
    except (RobocoreError, OSError) as exc:
        raise _fail(exc) from None
    command = f"[bold]robo run {path.parent}[/]"
    console.print(_("Robot created: {path}", path=path) + "\n" + _("Run it: {command}", command=command))


@demo_app.command("portal", help=N_("Start the demo portal (login agent.demo, password demo-portail-2026)."))
def demo_portal(port: Annotated[int, typer.Option(help=N_("Port"))] = 8765,
                host: Annotated[str, typer.Option(help=N_("Listening address (127.0.0.1: this machine only)"))
                                ] = "127.0.0.1",
                shuffle: Annotated[bool, typer.Option(help=N_(
                    "Random field ids, names and order at each load of the form"))] = False,
                slow: Annotated[bool, typer.Option(help=N_("Occasionally slow answers, as real sites give"))] = True,
                data: Annotated[Path | None, typer.Option(help=N_("Folder of the portal's data"))] = None) -> None:
    from robocore.demo import PortalConfig, serve

    overrides: dict[str, object] = {"shuffle": shuffle}
    if data:
        overrides["data_dir"] = data
    config = PortalConfig.demo(**overrides) if slow else PortalConfig(**overrides)  # type: ignore[arg-type]
    url = f"http://{host}:{port}/connexion"
    err.print(_("Demo portal: {url} ({login} / {password})", url=url, login="agent.demo", password="demo-portail-2026"))
    serve(config, host=host, port=port)


def _register_extensions() -> None:
    from robocore.cli import cmd_docs, cmd_processes, cmd_purge, cmd_schedules, cmd_server, cmd_tray, cmd_worker

    cmd_schedules.register(app)
    cmd_worker.register(app)
    cmd_server.register(app)
    cmd_purge.register(app)
    cmd_processes.register(app)
    cmd_tray.register(app)
    cmd_docs.register(app)


_register_extensions()


def main(early: "RunLoop | None" = None) -> None:
    """The command line; `early`, the run loop `robo run` started with Chromium on it (robocore.cli.early)."""
    app(obj=early)
