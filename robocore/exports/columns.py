"""The columns of a figures table, shared by the workbook and the CSV file: header, value, format.

Values are exact: hours are the unrounded minutes / 60 and FTE those hours / the annual
hours of one FTE; the display rounds them (Excel number formats), the data never does.
Success rates are the report's (0.1 %, never 100 % when one failed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from robocore.reports import ReportLine

# Number formats are stored in Excel's invariant syntax; Excel and LibreOffice show them in the
# reader's locale: "#,##0.0" reads « 1 119,5 » in French, "0.0 %" reads « 45,0 % ».
HOURS, MINUTES, FTE, COUNT, RATE = "#,##0.0", "#,##0.0", "#,##0.000", "#,##0", "0.0 %"
DAY, MONTH, STAMP = "dd/mm/yyyy", "mm/yyyy", "dd/mm/yyyy hh:mm"


@dataclass(frozen=True)
class Column:
    """A column of figures: its header, its value in a line (given the annual hours), its format, its width."""

    header: str
    value: Callable[[ReportLine, float], float | int | None]
    number_format: str
    width: int = 13
    percent: bool = False  # a rate: 0.45 in a workbook (shown 45,0 %), 45.0 in a CSV file


COLUMNS: tuple[Column, ...] = (
    Column("Heures économisées", lambda line, _: line.minutes / 60, HOURS, 14),
    Column("Minutes économisées", lambda line, _: line.minutes, MINUTES, 14),
    Column("ETP", lambda line, annual: line.minutes / 60 / annual, FTE, 10),
    Column("Éléments réussis", lambda line, _: line.items_done, COUNT),
    Column("Éléments traités", lambda line, _: line.items_attempted, COUNT),
    Column("Réussite des éléments", lambda line, _: line.item_success_rate, RATE, 13, True),
    Column("Erreurs métier", lambda line, _: line.business_errors, COUNT, 12),
    Column("Erreurs techniques", lambda line, _: line.application_errors, COUNT, 12),
    Column("Exécutions réussies", lambda line, _: line.runs_succeeded, COUNT),
    Column("Exécutions terminées", lambda line, _: line.runs, COUNT),
    Column("Réussite des exécutions", lambda line, _: line.run_success_rate, RATE, 14, True),
)
