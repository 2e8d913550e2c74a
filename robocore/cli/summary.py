"""Rich renderings: a run's summary, the run history, a log, a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from robocore.statuses import ITEM_FAILED, ItemStatus, RunStatus

if TYPE_CHECKING:
    from robocore.reports import Report
    from robocore.store import Item, Store

STATUS_FR: dict[str, str] = {
    RunStatus.SUCCEEDED: "[green]réussie[/]", RunStatus.COMPLETED_WITH_ERRORS: "[yellow]terminée avec erreurs[/]",
    RunStatus.FAILED: "[red]échouée[/]", RunStatus.RUNNING: "[cyan]en cours / interrompue[/]",
}
ITEM_FR: dict[str, str] = {
    ItemStatus.DONE: "faits", ItemStatus.BUSINESS_ERROR: "erreurs métier",
    ItemStatus.APPLICATION_ERROR: "erreurs techniques", ItemStatus.SKIPPED: "ignorés",
    ItemStatus.PENDING: "en attente", ItemStatus.RUNNING: "en cours",
}


def fmt_minutes(minutes: float) -> str:
    """'2 h 14 min' style, French."""
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def print_failures(console: Console, items: list[Item], limit: int = 15) -> None:
    """The failed items of a run: key, kind, message, evidence."""
    failed = [i for i in items if i.status in ITEM_FAILED]
    if not failed:
        return
    table = Table("Élément", "Type", "Message", "Preuves", title=f"Éléments en échec ({len(failed)})")
    for item in failed[:limit]:
        kind = "métier" if item.status is ItemStatus.BUSINESS_ERROR else "technique"
        table.add_row(item.key, kind, (item.error or "")[:300], "\n".join(item.evidence))
    console.print(table)
    if len(failed) > limit:
        console.print(f"… et {len(failed) - limit} autres (robo logs RUN_ID)")


def print_result(console: Console, result: Any) -> None:
    table = Table(title=f"Exécution {result.run_id} — {result.robot}", show_header=False)
    table.add_row("Statut / status", STATUS_FR.get(result.status, result.status))
    table.add_row("Éléments / items", ", ".join(f"{n} {ITEM_FR.get(s, s)}" for s, n in sorted(result.counts.items()))
                  or "aucun")
    table.add_row("Durée / duration", f"{result.duration_s:.2f} s")
    table.add_row("Temps agent économisé / minutes saved", f"{fmt_minutes(result.minutes_saved)} "
                  f"({result.minutes_saved:g} min)")
    if result.error:
        table.add_row("Erreur / error", f"[red]{result.error}")
    console.print(table)
    if result.status == RunStatus.RUNNING:
        console.print(f"Reprendre : robo resume {result.run_id}")


def print_runs(console: Console, store: Store, limit: int, robot: str | None) -> None:
    table = Table("Exécution", "Robot", "Début (UTC)", "Statut", "Éléments", "Minutes", "Déclencheur")
    for run in store.list_runs(limit=limit, robot=robot):
        counts = store.counts(run.id)
        done = counts.get(ItemStatus.DONE, 0)
        total = sum(counts.values())
        table.add_row(run.id, run.robot, f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                      STATUS_FR.get(run.status, run.status.value), f"{done}/{total}",
                      f"{store.run_minutes(run.id):g}", run.trigger)
    console.print(table)


def print_log(console: Console, path: Path) -> None:
    if not path.exists():
        console.print(f"Aucun journal : {path}")
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        extras = {k: v for k, v in event.items() if k not in ("event", "timestamp", "level", "run_id", "robot")}
        detail = " ".join(f"{k}={v}" for k, v in extras.items())
        console.print(f"{event.get('timestamp', '')[:19]} {event.get('level', ''):7} {event.get('event')} {detail}",
                      highlight=False, markup=False)


def _fr(value: float, digits: int) -> str:
    """French number: thin groups, decimal comma."""
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def _share(part: int, whole: int, rate: float | None) -> str:
    """'49/50 · 98,0 %' (100 % only when every one succeeded: see reports.shown_rate)."""
    return f"{part}/{whole} · {_fr(rate * 100, 1)} %" if rate is not None else f"{part}/{whole}"


def print_report(console: Console, report: Report, period: str) -> None:
    """Hours saved per group, items and runs apart, and the total from the unrounded figures."""
    from rich.markup import escape

    from robocore.reports import LABELS

    table = Table(LABELS[report.by], "Heures économisées", "ETP", "Éléments réussis", "Erreurs métier",
                  "Erreurs techniques", "Exécutions réussies",
                  title=f"Heures de travail manuel économisées — {period}")
    for line in [*report.lines, report.total]:
        style = "bold" if line is report.total else None
        table.add_row(escape(line.group), _fr(line.hours, 2), _fr(line.fte, 3),
                      _share(line.items_done, line.items_attempted, line.item_success_rate),
                      str(line.business_errors), str(line.application_errors),
                      _share(line.runs_succeeded, line.runs, line.run_success_rate), style=style)
    console.print(table)
