"""Rich renderings: a run's summary, the run history, a log, a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

STATUS_FR = {
    "succeeded": "[green]réussie[/]", "completed_with_errors": "[yellow]terminée avec erreurs[/]",
    "failed": "[red]échouée[/]", "running": "[cyan]en cours / interrompue[/]",
}
ITEM_FR = {"done": "faits", "business_error": "erreurs métier", "application_error": "erreurs techniques",
           "skipped": "ignorés", "pending": "en attente", "running": "en cours"}


def fmt_minutes(minutes: float) -> str:
    """'2 h 14 min' style, French."""
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def print_failures(console: Console, items: list[dict[str, Any]], limit: int = 15) -> None:
    """The failed items of a run: key, kind, message, evidence."""
    failed = [i for i in items if i["status"] in ("business_error", "application_error")]
    if not failed:
        return
    table = Table("Élément", "Type", "Message", "Preuves", title=f"Éléments en échec ({len(failed)})")
    for item in failed[:limit]:
        kind = "métier" if item["status"] == "business_error" else "technique"
        table.add_row(item["key"], kind, (item["error"] or "")[:300], "\n".join(item["evidence"] or []))
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
    if result.status == "running":
        console.print(f"Reprendre : robo resume {result.run_id}")


def print_runs(console: Console, store: Any, limit: int, robot: str | None) -> None:
    table = Table("Exécution", "Robot", "Début (UTC)", "Statut", "Éléments", "Minutes", "Déclencheur")
    for run in store.list_runs(limit, robot):
        counts = store.counts(run["id"])
        done = counts.get("done", 0)
        total = sum(counts.values())
        table.add_row(run["id"], run["robot"], f"{run['started_at']:%Y-%m-%d %H:%M:%S}",
                      STATUS_FR.get(run["status"], run["status"]), f"{done}/{total}",
                      f"{store.run_minutes(run['id']):g}", run["trigger"])
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


def print_report(console: Console, lines: list[Any], by: str, period: str) -> None:
    labels = {"process": "Processus", "service": "Service", "robot": "Robot", "month": "Mois"}
    table = Table(labels[by], "Heures économisées", "Éléments", "Exécutions", "Réussite", "ETP",
                  title=f"Heures de travail manuel économisées — {period}")
    for line in lines:
        table.add_row(line.group, f"{line.hours:,.2f}".replace(",", " ").replace(".", ","), str(line.items),
                      str(line.runs), f"{line.success_rate:.0%}", f"{line.fte:.3f}".replace(".", ","))
    total_h = sum(x.hours for x in lines)
    table.add_row("[bold]Total", f"[bold]{total_h:,.2f}".replace(",", " ").replace(".", ","),
                  str(sum(x.items for x in lines)), str(sum(x.runs for x in lines)), "",
                  f"{sum(x.fte for x in lines):.3f}".replace(".", ","))
    console.print(table)
