"""The report as a CSV file for French Excel: `;`-separated, UTF-8 with BOM, decimal commas, CRLF lines.

One line per group and the total line (exact hours, minutes and FTE; success rates in %, as the
report shows them). A text from the data that a spreadsheet could take for a formula gets a
leading `'` (`cells.csv_text`); numbers are written as numbers.

Only the texts (header, « (sans processus) », « Total ») follow the active language (robocore.i18n):
the format stays French in English too (`;`, BOM, decimal comma, CRLF). The file is for the French
Excel that French administrations run whatever the interface's language: a `,`-separated file with
decimal points would open there as one column of text.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from robocore.exports.cells import csv_text, decimal_fr
from robocore.exports.columns import COLUMNS
from robocore.exports.content import Export
from robocore.reports import ReportLine, label

BOM = "\ufeff"


def _number(value: float | int | None, percent: bool) -> str:
    if value is None:
        return ""
    return decimal_fr(round(value * 100, 1) if percent else value)


def _row(line: ReportLine, annual_hours: float) -> list[str]:
    return [csv_text(line.group), *(_number(c.value(line, annual_hours), c.percent) for c in COLUMNS)]


def csv_text_of(export: Export) -> str:
    """The whole file as text (BOM first): header, a line per group, the total line; texts in the active language."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    report = export.report
    writer.writerow([label(report.by), *(f"{c.header} (%)" if c.percent else c.header for c in COLUMNS)])
    for line in [*report.lines, report.total]:
        writer.writerow(_row(line, report.annual_hours))
    return BOM + out.getvalue()


def csv_bytes(export: Export) -> bytes:
    """The file's bytes, UTF-8 (with its BOM)."""
    return csv_text_of(export).encode("utf-8")


def write_csv(export: Export, path: Path) -> Path:
    """Write the file at `path` (through a temporary file beside it: never half written)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(csv_bytes(export))
    os.replace(tmp, path)
    return path
