"""Exports of the hours-saved report: an Excel workbook with native charts and a CSV file for French Excel.

    export = exports.gather(store, exports.Period.checked(start, end), "process")
    exports.write_xlsx(export, Path("heures.xlsx")); exports.write_csv(export, Path("heures.csv"))

Figures are summed in SQL (`robocore.ledger`) and written exact; a text from the data never
becomes a formula in either format. Our texts (sheet names, titles, headers, file names) come from
the catalogues (robocore.i18n), in the language active when a file is written: the request's on
the server, ROBOCORE_LANGUAGE or `robo --lang` on the command line; French by default.
"""

from __future__ import annotations

from robocore.exports.content import Export, ProcessMonths, gather
from robocore.exports.csv import csv_bytes, write_csv
from robocore.exports.period import MAX_DAYS, Period, PeriodError
from robocore.exports.xlsx import write_xlsx, xlsx_bytes

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"

__all__ = ["CSV_TYPE", "MAX_DAYS", "XLSX_TYPE", "Export", "Period", "PeriodError", "ProcessMonths", "csv_bytes",
           "gather", "write_csv", "write_xlsx", "xlsx_bytes"]
