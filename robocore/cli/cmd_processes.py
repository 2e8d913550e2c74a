"""`robo processes` (the processes with estimated and realised hours) and `robo processes set NAME ...`."""

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from robocore.errors import RobocoreError
from robocore.i18n import gettext as _

if TYPE_CHECKING:
    from robocore.processes import ProcessDetail
    from robocore.store import Store

console = Console()
err = Console(stderr=True)
processes_app = typer.Typer(help="Processus métier / business processes (heures estimées et réalisées)",
                            invoke_without_command=True)


def _store() -> "Store":
    from robocore import settings
    from robocore.store import Store

    return Store(settings.database_url())


def _fail(exc: Exception) -> typer.Exit:
    from rich.markup import escape

    err.print(f"[bold red]Erreur[/] : {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def fr_number(value: float | None, digits: int = 1) -> str:
    """A number in French: « 1 119,5 » (narrow no-break space between thousands), « — » for none."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


@processes_app.callback()
def list_processes(ctx: typer.Context,
                   service: Annotated[str | None, typer.Option(help="Service exact")] = None,
                   lab: Annotated[str | None, typer.Option(help="Laboratoire exact")] = None,
                   stage: Annotated[str | None, typer.Option(help="idée, en étude, en production, retiré")] = None,
                   ) -> None:
    """Lister les processus, heures estimées et réalisées / list processes, estimated and realised hours."""
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
    table = Table(title=f"Processus ({len(shown)})",
                  caption="Réalisé : heures économisées depuis le 1er janvier (registre) ; estimé : volume annuel "
                          "× minutes par élément en vigueur ÷ 60 (+ exécutions sur 12 mois × minutes par exécution)")
    for header in ("Processus", "Service", "Labo", "Étape"):
        table.add_column(header, overflow="fold", ratio=2 if header == "Processus" else 1)
    for header in ("Objectif h/an", "Estimé h/an", "Réalisé h"):
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
    rows = [("Processus", record.name), ("Service", record.service), ("Laboratoire", record.lab),
            ("Région", record.region), ("Description", record.description),
            ("Étape", STAGE_LABELS[record.stage]),
            ("Volume annuel estimé (éléments)", fr_number(record.annual_volume, 0)),
            ("Objectif annuel (h)", fr_number(record.goal_hours)),
            ("Heures estimées par an", fr_number(f.estimated_hours)),
            ("Heures réalisées depuis le 1er janvier", fr_number(f.realised_hours_year)),
            ("Heures réalisées sur 12 mois", fr_number(f.realised_hours_12_months)),
            ("Modifié par", record.updated_by)]
    for label, value in rows:
        console.print(Text.assemble((f"{label} : ", "bold"), value if value is not None else "—"))


@processes_app.command("set")
def set_process(
        name: Annotated[str, typer.Argument(help="Nom exact du processus")],
        service: Annotated[str | None, typer.Option(help="Service ou direction")] = None,
        lab: Annotated[str | None, typer.Option(help="Laboratoire d'innovation (\"\" pour effacer)")] = None,
        region: Annotated[str | None, typer.Option(help="Région (\"\" pour effacer)")] = None,
        description: Annotated[str | None, typer.Option(help="Description (\"\" pour effacer)")] = None,
        volume: Annotated[int | None, typer.Option(help="Volume annuel estimé (éléments par an)")] = None,
        goal_hours: Annotated[float | None, typer.Option("--goal-hours", help="Objectif annuel en heures")] = None,
        stage: Annotated[str | None, typer.Option(help="idée, en étude, en production, retiré")] = None) -> None:
    """Compléter un processus / edit a process (its name never changes: robots refer to it)."""
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
