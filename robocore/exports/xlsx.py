"""The report as an Excel workbook: a summary, the hours per month, one sheet per process, native charts.

- « Synthèse »: the period (real dates), the grouping, the FTE basis, a line per group and the
  total line (exact hours, minutes and FTE: the JSON report's figures before rounding), and a
  bar chart of the hours per month stacked by process;
- « Heures par mois »: that chart's data table (months × processes, with a total);
- one sheet per process: hours, items and runs per month, a bar chart of the hours with the
  items done as a line.
Values are stored exact and formatted for display (French in a French Excel: the formats are
stored in Excel's invariant syntax). Every text is a string cell, never a formula, whatever it
begins with (`cells`); sheet names are made valid and unique (`sheetnames`).
Our texts (sheet names, titles, headers, labels) come from the catalogues (robocore.i18n) and are
written in the language active when the workbook is (French by default: « Synthèse »; English:
"Summary"); the number formats are the same in both.
"""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from robocore.exports.cells import is_risky, xml_text
from robocore.exports.columns import COLUMNS, COUNT, DAY, HOURS, MONTH, STAMP
from robocore.exports.content import Export, ProcessMonths
from robocore.exports.period import Period
from robocore.exports.sheetnames import SheetNames
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.reports import ReportLine, label

# sheet names (at most 31 characters): rendered in the active language when a workbook is written
SUMMARY, MONTHS = _l("Summary"), _l("Hours per month")
# styles made once: openpyxl hashes each one it is given (a Font per cell cost 1 s for 50 processes)
_HEADER_FONT, _HEADER_FILL = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="2F3B52")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_BOLD = Font(bold=True)
_LABEL_ALIGN = Alignment(indent=1)
_ITEMS_DONE = 1 + next(n for n, c in enumerate(COLUMNS, 1) if c.key == "items_done")  # by key: any language
_CHART_AT = get_column_letter(len(COLUMNS) + 3)  # right of the widest table, one column apart


def title(period: Period) -> str:
    """The workbook's title: « Heures de travail manuel économisées — du 01/11/2025 au 28/02/2026 »."""
    return _("Hours of manual work saved — {period}", period=period.label)


def put(ws: Worksheet, row: int, col: int, value: Any, number_format: str | None = None) -> Cell:
    """Write one cell: a text always as a string cell (quote-prefixed when risky), a number or date formatted."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = xml_text(value)
        cell.data_type = "s"  # openpyxl makes "=…" a formula: data never is one
        if is_risky(value):
            cell.quotePrefix = True  # and editing it in Excel does not make it one either
    else:
        cell.value = value
        if number_format and value is not None:
            cell.number_format = number_format
    return cell


def _header(ws: Worksheet, row: int, titles: list[str]) -> None:
    for col, title in enumerate(titles, 1):
        cell = put(ws, row, col, title)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = _HEADER_ALIGN
    ws.row_dimensions[row].height = 32


def _figures(ws: Worksheet, row: int, line: ReportLine, annual_hours: float, *, bold: bool = False) -> None:
    """A line's figures from column B on."""
    for col, column in enumerate(COLUMNS, 2):
        cell = put(ws, row, col, column.value(line, annual_hours), column.number_format)
        if bold:
            cell.font = _BOLD


def _widths(ws: Worksheet, first: int) -> None:
    ws.column_dimensions["A"].width = first
    for col, column in enumerate(COLUMNS, 2):
        ws.column_dimensions[get_column_letter(col)].width = column.width
    ws.column_dimensions["B"].width = 17  # the summary's date and time of production fit


def _group_cell(ws: Worksheet, row: int, by: str, group: str) -> Cell:
    """A group's name; a month (grouping by month) as a real date."""
    if by == "month" and len(group) == 7 and group[4] == "-" and group.replace("-", "").isdigit():
        return put(ws, row, 1, date(int(group[:4]), int(group[5:]), 1), MONTH)
    return put(ws, row, 1, group)


def _summary(ws: Worksheet, export: Export) -> int:
    """Title, period, groups and total; returns the header's row."""
    report, period = export.report, export.period
    put(ws, 1, 1, title(period)).font = Font(bold=True, size=14)
    last = period.last_day or (_("today") if period.end is None else "—")
    cells: list[tuple[int, int, object, str | None]] = [
        (2, 1, _("Period from"), None), (2, 2, period.start or _("the beginning"), DAY),
        (2, 3, _("To (included)"), None), (2, 4, last, DAY),
        (3, 1, _("Grouping"), None), (3, 2, label(report.by), None), (3, 3, _("Hours of one FTE"), None),
        (3, 4, report.annual_hours, COUNT), (4, 1, _("Produced on (UTC)"), None), (4, 2, export.made_at, STAMP)]
    filters = export.filters
    if filters is not None:  # a filtered file says so (a text from the data: `put` keeps it text)
        cells += [(4, 3, _("Filters"), None), (4, 4, filters, None)]
    for row, col, value, fmt in cells:
        cell = put(ws, row, col, value, fmt)
        if col == 3:
            cell.alignment = _LABEL_ALIGN  # apart from the date before it
    head = 5
    _header(ws, head, [label(report.by), *(c.header for c in COLUMNS)])
    for row, line in enumerate(report.lines, head + 1):
        _group_cell(ws, row, report.by, line.group)
        _figures(ws, row, line, report.annual_hours)
    total = head + 1 + len(report.lines)
    put(ws, total, 1, report.total.group).font = _BOLD
    _figures(ws, total, report.total, report.annual_hours, bold=True)
    ws.freeze_panes = ws.cell(head + 1, 2)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(COLUMNS) + 1)}{max(total - 1, head)}"
    _widths(ws, min(max([22, *(len(line.group) + 2 for line in report.lines)]), 60))
    return head


def _months(ws: Worksheet, export: Export) -> int:
    """Hours per month and process (the stacked chart's data); returns the header's row."""
    put(ws, 1, 1, _("Hours saved per month and per process — {period}", period=export.period.label)).font = \
        Font(bold=True)
    head = 3
    _header(ws, head, [_("Month"), *(p.process for p in export.processes), _("Total")])
    for row, month in enumerate(export.months, head + 1):
        put(ws, row, 1, month, MONTH)
        hours = [p.months[row - head - 1][1].minutes / 60 for p in export.processes]
        for col, value in enumerate([*hours, sum(hours)], 2):
            put(ws, row, col, value, HOURS)
    ws.freeze_panes = ws.cell(head + 1, 2)
    ws.column_dimensions["A"].width = 10
    for col, process in enumerate(export.processes, 2):
        ws.column_dimensions[get_column_letter(col)].width = min(max(len(process.process) * 0.9, 12), 30)
    return head


def _stacked_chart(data: Worksheet, head: int, export: Export) -> BarChart:
    """Hours per month, one stacked series per process."""
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title, chart.y_axis.title = _("Hours saved per month"), _("hours")
    last = head + len(export.months)
    chart.add_data(Reference(data, min_col=2, max_col=1 + len(export.processes), min_row=head, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(data, min_col=1, min_row=head + 1, max_row=last))
    _axes(chart)
    chart.width, chart.height = 26, 13
    return chart


def _axes(chart: BarChart) -> None:
    chart.x_axis.number_format, chart.y_axis.number_format = MONTH, "#,##0"
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides them in recent Excel otherwise


def _process(ws: Worksheet, process: ProcessMonths, export: Export) -> None:
    """One process: its months, its total and its chart."""
    put(ws, 1, 1, process.process).font = Font(bold=True, size=13)
    put(ws, 2, 1, export.period.label)
    head = 3
    _header(ws, head, [_("Month"), *(c.header for c in COLUMNS)])
    for row, (month, line) in enumerate(process.months, head + 1):
        put(ws, row, 1, month, MONTH)
        _figures(ws, row, line, export.annual_hours)
    total = head + 1 + len(process.months)
    put(ws, total, 1, _("Total")).font = _BOLD
    _figures(ws, total, process.total, export.annual_hours, bold=True)
    ws.freeze_panes = ws.cell(head + 1, 2)
    _widths(ws, 12)
    if process.months:
        ws.add_chart(_process_chart(ws, head, len(process.months)), f"{_CHART_AT}{head}")


def _process_chart(ws: Worksheet, head: int, months: int) -> BarChart:
    """Hours per month as bars, items done as a line on a second axis."""
    bars = BarChart()
    bars.title, bars.y_axis.title = _("Hours saved and items succeeded"), _("hours")
    bars.add_data(Reference(ws, min_col=2, min_row=head, max_row=head + months), titles_from_data=True)
    categories = Reference(ws, min_col=1, min_row=head + 1, max_row=head + months)
    bars.set_categories(categories)
    _axes(bars)
    line = LineChart()
    line.add_data(Reference(ws, min_col=_ITEMS_DONE, min_row=head, max_row=head + months), titles_from_data=True)
    line.series[0].smooth = False  # a smoothed curve would show values between months that never were
    line.set_categories(categories)
    line.y_axis.axId, line.y_axis.title, line.y_axis.crosses = 200, _("items"), "max"
    line.y_axis.number_format, line.y_axis.delete = "#,##0", False
    line.y_axis.majorGridlines = None  # the hours' gridlines only
    bars += line
    bars.width, bars.height = 22, 11
    return bars


def workbook(export: Export) -> Workbook:
    """The whole workbook, in memory, its texts in the active language."""
    wb = Workbook()
    wb.properties.creator, wb.properties.title = "Robocore", title(export.period)
    names = SheetNames()
    summary = wb.active
    summary.title = names.take(SUMMARY.render())
    top = _summary(summary, export)
    if export.processes:
        months = wb.create_sheet(names.take(MONTHS.render()))
        head = _months(months, export)
        if export.months:
            summary.add_chart(_stacked_chart(months, head, export), f"{_CHART_AT}{top}")
    for process in export.processes:
        _process(wb.create_sheet(names.take(process.process)), process, export)
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToHeight = 0
    return wb


def xlsx_bytes(export: Export) -> bytes:
    """The workbook's bytes."""
    out = io.BytesIO()
    workbook(export).save(out)
    return out.getvalue()


def write_xlsx(export: Export, path: Path) -> Path:
    """Write the workbook at `path` (through a temporary file beside it: never half written)."""
    tmp = path.with_name(f".{path.name}.tmp")
    workbook(export).save(tmp)
    os.replace(tmp, path)
    return path
