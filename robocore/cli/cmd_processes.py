"""`robo processes` (the processes with estimated and realised hours) and `robo processes set NAME ...`."""

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from robocore.errors import RobocoreError
from robocore.i18n import N_
from robocore.i18n import gettext as _

if TYPE_CHECKING:
    from robocore.processes import ProcessDetail
    from robocore.store import Store

console = Console()
err = Console(stderr=True)
processes_app = typer.Typer(invoke_without_command=True)  # its help: the callback's
StageOption = Annotated[str | None, typer.Option(help=N_("Stage: idée, en étude, en production or retiré"))]


def _store() -> "Store":
    from robocore import settings
    from robocore.store import Store

    return Store(settings.database_url())


def _fail(exc: Exception) -> typer.Exit:
    from rich.markup import escape

    title = _("Error")
    err.print(f"[bold red]{title}[/] : {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def fr_number(value: float | None, digits: int = 1) -> str:
    """A number in French: « 1 119,5 » (narrow no-break space between thousands), « — » for none."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


@processes_app.callback(help=N_("Business processes with their estimated and realised hours (set: edit one)."))
def list_processes(ctx: typer.Context,
                   service: Annotated[str | None, typer.Option(help=N_("Only this service (exact name)"))] = None,
                   lab: Annotated[str | None, typer.Option(help=N_("Only this lab (exact name)"))] = None,
                   stage: StageOption = None) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table
    from rich.text import Text

    from robocore import processes

    try:
        wanted = processes.parse_stage(stage) if stage else None
        store = _store()
        try:
            shown = processes.figures(store, store.list_processes(service, lab, wanted))
        finally:
            store.close()
    except RobocoreError as exc:
        raise _fail(exc) from None
    if not shown:
        console.print(_("No process yet: a process is created by the first run of a robot naming it"),
                      highlight=False)
        return
    table = Table(title=_("Processes ({n})", n=len(shown)),
                  caption=_("Realised: hours saved since January 1st (ledger); estimated: annual volume × minutes per "
                            "item in force ÷ 60 (+ runs over 12 months × minutes per run)"))
    for position, header in enumerate((_("Process"), _("Service"), _("Lab"), _("Stage"))):
        table.add_column(header, overflow="fold", ratio=2 if position == 0 else 1)
    for header in (_("Goal h/year"), _("Estimated h/year"), _("Realised h")):
        table.add_column(header, justify="right", min_width=8)
    for line in shown:
        record = line.record
        table.add_row(Text(record.name), Text(record.service or "—"), Text(record.lab or "—"), line.stage_label,
                      fr_number(record.goal_hours), fr_number(line.estimated_hours),
                      fr_number(line.realised_hours_year))
    console.print(table)


def _print_detail(shown: "ProcessDetail") -> None:
    from rich.text import Text

    from robocore.processes import STAGE_LABELS

    f, record = shown.figures, shown.figures.record
    rows = [(_("Process"), record.name), (_("Service"), record.service), (_("Laboratory"), record.lab),
            (_("Region"), record.region), (_("Description"), record.description),
            (_("Stage"), STAGE_LABELS[record.stage]),
            (_("Estimated annual volume (items)"), fr_number(record.annual_volume, 0)),
            (_("Annual goal (h)"), fr_number(record.goal_hours)),
            (_("Estimated hours a year"), fr_number(f.estimated_hours)),
            (_("Hours realised since January 1st"), fr_number(f.realised_hours_year)),
            (_("Hours realised over 12 months"), fr_number(f.realised_hours_12_months)),
            (_("Edited by"), record.updated_by)]
    for label, value in rows:
        console.print(Text.assemble((_("{label}: ", label=label), "bold"), value if value is not None else "—"))


@processes_app.command("set", help=N_("Complete a process (its name never changes: robots refer to it)."))
def set_process(
        name: Annotated[str, typer.Argument(help=N_("Exact name of the process"))],
        service: Annotated[str | None, typer.Option(help=N_("Service or directorate"))] = None,
        lab: Annotated[str | None, typer.Option(help=N_("Innovation lab (\"\" to clear)"))] = None,
        region: Annotated[str | None, typer.Option(help=N_("Region (\"\" to clear)"))] = None,
        description: Annotated[str | None, typer.Option(help=N_("Description (\"\" to clear)"))] = None,
        volume: Annotated[int | None, typer.Option(help=N_("Estimated annual volume (items a year)"))] = None,
        goal_hours: Annotated[float | None, typer.Option("--goal-hours", help=N_("Annual goal in hours"))] = None,
        stage: StageOption = None) -> None:
    from robocore import processes

    given: dict[str, Any] = {"service": service, "lab": lab, "region": region, "description": description,
                             "annual_volume": volume, "goal_hours": goal_hours, "stage": stage}
    # an option left out keeps the value; an empty text clears it
    changes = {k: (None if v == "" else v) for k, v in given.items() if v is not None}
    if not changes:
        raise _fail(RobocoreError(_("nothing to change: --lab, --region, --goal-hours, --volume, --stage, "
                                    "--description or --service")))
    try:
        store = _store()
        try:
            processes.update(store, name, changes, "cli")
            shown = processes.detail(store, name)
        finally:
            store.close()
    except RobocoreError as exc:
        raise _fail(exc) from None
    console.print(_("Process updated"), highlight=False)
    _print_detail(shown)


def register(app: typer.Typer) -> None:
    """Add `robo processes` to the CLI."""
    app.add_typer(processes_app, name="processes")
