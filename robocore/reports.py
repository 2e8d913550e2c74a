"""Hours saved by process, service, robot or month; full-time equivalents; Excel export."""

from __future__ import annotations

import os
from collections import defaultdict
from pydantic.dataclasses import dataclass  # also the API's response model
from datetime import date, datetime
from pathlib import Path
from typing import Any

from robocore.store import Store

ANNUAL_HOURS = float(os.environ.get("ROBOCORE_ANNUAL_HOURS", "1607"))  # French civil service legal time
GROUPINGS = ("process", "service", "robot", "month")
_OK_RUNS = ("succeeded", "completed_with_errors")


@dataclass
class ReportLine:
    """One group's figures."""

    group: str
    hours: float
    items: int
    runs: int
    success_rate: float
    fte: float


def _group_of(row: dict[str, Any], by: str) -> str:
    if by == "process":
        return row.get("process_name") or "(sans processus)"
    if by == "service":
        return row.get("service") or "(sans service)"
    if by == "robot":
        return str(row["robot"])
    stamp = row.get("recorded_at") or row.get("started_at")
    return stamp.strftime("%Y-%m") if stamp else "?"


def hours_saved(store: Store, start: date | None, end: date | None, by: str = "process",
                annual_hours: float = ANNUAL_HOURS) -> list[ReportLine]:
    """Aggregate the ledger; FTE = hours / the annual working time (1,607 h by default)."""
    lo = datetime.combine(start, datetime.min.time()) if start else None
    hi = datetime.combine(end, datetime.min.time()) if end else None
    minutes: dict[str, float] = defaultdict(float)
    items: dict[str, int] = defaultdict(int)
    for row in store.ledger_rows(lo, hi):
        group = _group_of(row, by)
        minutes[group] += row["minutes"]
        items[group] += row["kind"] == "item"
    runs: dict[str, int] = defaultdict(int)
    ok: dict[str, int] = defaultdict(int)
    for run in store.runs_between(lo, hi):
        if run["status"] == "running":
            continue
        group = _group_of(dict(run, recorded_at=run["started_at"]), by)
        runs[group] += 1
        ok[group] += run["status"] in _OK_RUNS
    lines = []
    for group in sorted(set(minutes) | set(runs)):
        hours = minutes[group] / 60
        rate = ok[group] / runs[group] if runs[group] else 0.0
        lines.append(ReportLine(group, round(hours, 2), items[group], runs[group], rate,
                                round(hours / annual_hours, 3)))
    return lines


def export_xlsx(lines: list[ReportLine], path: Path, by: str, period: str) -> Path:
    """An Excel report: styled table with filters, frozen header and a native bar chart."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill

    labels = {"process": "Processus", "service": "Service", "robot": "Robot", "month": "Mois"}
    wb = Workbook()
    ws = wb.active
    ws.title = "Heures gagnées"
    ws.append([f"Heures de travail manuel économisées — {period}"])
    ws["A1"].font = Font(bold=True, size=13)
    header = [labels[by], "Heures économisées", "Éléments traités", "Exécutions", "Taux de réussite", "ETP"]
    ws.append(header)
    for cell in ws[2]:
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="000091")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for line in lines:
        ws.append([line.group, line.hours, line.items, line.runs, line.success_rate, line.fte])
        ws.cell(ws.max_row, 1).data_type = "s"  # a group name is never a formula
    for row in ws.iter_rows(min_row=3, min_col=2, max_col=6):
        row[0].number_format, row[3].number_format, row[4].number_format = "#,##0.00", "0.0 %", "0.000"
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:F{max(ws.max_row, 2)}"
    for col, width in zip("ABCDEF", (42, 20, 18, 14, 18, 10)):
        ws.column_dimensions[col].width = width
    if lines:
        chart = BarChart()
        chart.title, chart.y_axis.title = "Heures économisées", "heures"
        chart.add_data(Reference(ws, min_col=2, min_row=2, max_row=ws.max_row), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=ws.max_row))
        ws.add_chart(chart, "H2")
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    os.replace(tmp, path)
    return path

