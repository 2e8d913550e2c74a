"""The columns of a figures table, shared by the workbook and the CSV file: key, header, value, format.

A column is found by its `key` (the report's field name), never by its header: headers come from
the catalogues (robocore.i18n) and are written in the active language (« Heures économisées »,
"Hours saved"). Values are exact: hours are the unrounded minutes / 60 and FTE those hours / the annual
hours of one FTE; the display rounds them (Excel number formats), the data never does.
Success rates are the report's (0.1 %, never 100 % when one failed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from robocore.i18n import Message
from robocore.i18n import lazy_gettext as _l
from robocore.reports import ReportLine

# Number formats are stored in Excel's invariant syntax; Excel and LibreOffice show them in the
# reader's locale: "#,##0.0" reads « 1 119,5 » in French, "0.0 %" reads « 45,0 % ».
HOURS, MINUTES, FTE, COUNT, RATE = "#,##0.0", "#,##0.0", "#,##0.000", "#,##0", "0.0 %"
DAY, MONTH, STAMP = "dd/mm/yyyy", "mm/yyyy", "dd/mm/yyyy hh:mm"


@dataclass(frozen=True)
class Column:
    """A column of figures: its key, its title, its value in a line (given the annual hours), its format, its width."""

    key: str  # the report's field, the same in every language
    title: Message
    value: Callable[[ReportLine, float], float | int | None]
    number_format: str
    width: int = 13
    percent: bool = False  # a rate: 0.45 in a workbook (shown 45,0 %), 45.0 in a CSV file

    @property
    def header(self) -> str:
        """The title in the active language."""
        return self.title.render()


COLUMNS: tuple[Column, ...] = (
    Column("hours", _l("Hours saved"), lambda line, _: line.minutes / 60, HOURS, 14),
    Column("minutes", _l("Minutes saved"), lambda line, _: line.minutes, MINUTES, 14),
    Column("fte", _l("FTE"), lambda line, annual: line.minutes / 60 / annual, FTE, 10),
    Column("items_done", _l("Items succeeded"), lambda line, _: line.items_done, COUNT),
    Column("items_attempted", _l("Items processed"), lambda line, _: line.items_attempted, COUNT),
    Column("item_success_rate", _l("Item success rate"), lambda line, _: line.item_success_rate, RATE, 13, True),
    Column("business_errors", _l("Business errors"), lambda line, _: line.business_errors, COUNT, 12),
    Column("application_errors", _l("Technical errors"), lambda line, _: line.application_errors, COUNT, 12),
    Column("runs_succeeded", _l("Runs succeeded"), lambda line, _: line.runs_succeeded, COUNT),
    Column("runs", _l("Runs finished"), lambda line, _: line.runs, COUNT),
    Column("run_success_rate", _l("Run success rate"), lambda line, _: line.run_success_rate, RATE, 14, True),
)

