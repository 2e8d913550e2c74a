"""Built-in actions excel.*: read a sheet into rows, write or append rows to a workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robocore import Context, action


@action("excel.read_table")
def read_table(ctx: Context, path: Path, sheet: str | int | None = None, header_row: int | None = None,
               french_numbers: bool = False, max_rows: int | None = None) -> dict[str, Any]:
    """Read one sheet (or a CSV) as rows keyed by its header line.

    Args:
        path: .xlsx, .xlsm, .xls, .ods or .csv (.xlsb is refused: its binary sheets cannot
            be checked before reading); relative to the robot's folder, and inside the robot's,
            the run's or an allowed folder (robocore.paths), as every path of these actions.
        sheet: sheet name or 0-based index; the first sheet by default.
        header_row: 1-based line of the header; detected when omitted (titles are skipped).
        french_numbers: turn text such as `1 234,56 €` into numbers.
        max_rows: read at most this many data rows.

    Returns {"rows", "count", "columns", "sheet", "path"}; each row finds `row['numero']`
    for a 'Numéro' column and holds its source line under `_ligne`.
    """
    from robocore.tables.guard import limits_from
    from robocore.tables.read import read_table as read

    target = ctx.path(path)
    table = read(target, sheet, header_row, french_numbers, max_rows, limits_from(ctx.settings.extra))
    ctx.log.info("excel.read_table", path=str(target), sheet=table["sheet"], count=table["count"])
    return table


@action("excel.write_table")
def write_table(ctx: Context, path: Path, rows: list[dict[str, Any]], sheet: str = "Données",
                columns: list[str] | None = None) -> dict[str, Any]:
    """Write rows to a new styled workbook (replaced atomically); text is never a formula.

    Args:
        columns: the columns and their order; every key of the rows by default.

    Returns {"path", "count", "columns", "sheet"}.
    """
    from robocore.tables.write import write_table as write

    target = ctx.path(path, write=True)
    written = write(target, rows, sheet, columns)
    ctx.log.info("excel.write_table", path=str(target), count=written["count"])
    return written


@action("excel.append_rows")
def append_rows(ctx: Context, path: Path, rows: list[dict[str, Any]],
                sheet: str | None = None) -> dict[str, Any]:
    """Append rows under a sheet's header (the file is created when missing).

    Returns {"path", "count", "columns", "sheet"}.
    """
    from robocore.tables.write import append_rows as append

    target = ctx.path(path, write=True)
    written = append(target, rows, sheet)
    ctx.log.info("excel.append_rows", path=str(target), count=written["count"])
    return written
