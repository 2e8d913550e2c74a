"""Built-in actions excel.*: list a workbook's sheets, read a sheet into rows, write or append rows
to a workbook or a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict, cast

from robocore import Context, action
from robocore.tables.coltypes import ColumnType


class Table(TypedDict):
    """A sheet read by excel.read_table: its rows and what they were read from."""

    rows: Annotated[list[dict[str, Any]], "one mapping per data line, keyed by the header's names; "
                    "`row['numero']` also finds a 'Numéro' column and `_ligne` holds the source line number"]
    count: Annotated[int, "how many data rows were read"]
    columns: Annotated[list[str], "the column names, in the sheet's order"]
    sheet: Annotated[str, "the name of the sheet read (a CSV file's name without extension)"]
    path: Annotated[str, "full path of the file read"]
    header_row: Annotated[int | None, "the sheet's line (1-based, as Excel numbers it) holding the header; "
                          "None for an empty sheet"]
    skipped_rows: Annotated[int, "how many non-empty lines above the header were skipped (a title block, "
                            "an export date...)"]


@action("excel.read_table")
def read_table(ctx: Context, path: Path, sheet: str | int | None = None, header_row: int | None = None,
               french_numbers: bool = False, max_rows: int | None = None,
               columns: dict[str, ColumnType] | None = None, strip: bool = True) -> Table:
    """Read one sheet (or a CSV) as rows keyed by its header line.

    Cells come as the workbook holds them: a number cell is a number (an integral one an int),
    a date cell a date or datetime, a text cell a text, an empty cell None. Text is changed
    only as the parameters below say.

    Args:
        path: .xlsx, .xlsm, .xls, .ods or .csv (.xlsb is refused: its binary sheets cannot
            be checked before reading); relative to the robot's folder, and inside the robot's,
            the run's or an allowed folder (robocore.paths), as every path of these actions.
        sheet: the sheet's name, or its position counted from 1 as Excel users count (`1` is
            the first sheet; 0 is refused); a text of digits is a position unless a sheet has
            that name. The first sheet by default; excel.sheets lists them.
        header_row: 1-based line of the header; detected when omitted: the first mostly-text
            line with at least two cells. The non-empty lines above it (a title block) are
            skipped, counted in `skipped_rows` and logged.
        french_numbers: turn text written as a French amount into a number: a decimal comma
            (`1234,56`, `-0,5`), thousands grouped by spaces, no-break spaces or dots
            (`1 234`, `1.234.567`), or a unit (`12 €`, `12 EUR`, `12,5 %` → 0.125, as Excel
            reads a percentage). Digit-only text is a code and stays text as written (`0612`,
            `007`, `627000`); number cells stay numbers. A column named in `columns` follows
            its type instead.
        max_rows: read at most this many data rows.
        columns: header name (as written, or ignoring case, spaces and accents) → type:
            `text` keeps the cell as written (a number cell 627000 gives "627000", 1234.5 gives
            "1234,5", a date "05/01/2024", as French Excel shows them); `number` (a number cell,
            or text in French or plain notation: `1 234,56`, `1234.56`; the dot alone is read as
            a thousands separator, `1.234` → 1234); `integer` (a whole number); `date` or
            `datetime` (a date cell, `dd/mm/yyyy`, ISO `yyyy-mm-dd`, or an Excel serial number);
            `bool` (a boolean cell, 1/0, vrai/faux, oui/non, true/false, yes/no, x). Empty cells
            stay None. A cell that does not convert stops the step with an error naming it as
            Excel does (`Feuille1!C7: 'abc' is not a number`) and how many others fail; an unknown
            column name is an error listing the columns.
        strip: remove the whitespace around text cells: spaces, tab, CR, LF, no-break spaces
            (U+00A0, U+202F) and other Unicode spaces (what Python's `str.strip` removes); the
            whitespace inside is kept. `false` keeps every text exactly as written (a leading
            tab, a trailing line break); a text cell holding only whitespace then stays as it
            is. Headers are always tidied (trimmed, inner whitespace collapsed).

    Each row finds `row['numero']` for a 'Numéro' column and holds its source line under `_ligne`.

    Example:
        - id: releve
          use: excel.read_table
          with: {path: "{{ inputs.releve }}", sheet: Opérations, french_numbers: true,
                 columns: {Compte: text, Montant: number, Date: date}}
    """
    from robocore.tables.guard import limits_from
    from robocore.tables.read import read_table as read

    target = ctx.path(path)
    table = read(target, sheet, header_row, french_numbers, max_rows, limits_from(ctx.settings.extra),
                 columns=columns, strip=strip)
    ctx.log.info("excel.read_table", path=str(target), sheet=table["sheet"], count=table["count"],
                 header_row=table["header_row"], skipped_rows=table["skipped_rows"])
    return cast(Table, table)


class Sheet(TypedDict):
    """One sheet of a workbook, as excel.sheets lists it."""

    name: Annotated[str, "the sheet's name, as its tab shows it"]
    position: Annotated[int, "its position counted from 1, as excel.read_table's `sheet` takes it"]
    visible: Annotated[bool, "whether Excel shows its tab"]
    state: Annotated[Literal["visible", "hidden", "very hidden"],
                     "`visible`, `hidden` (hidden by the user) or `very hidden` (hidden by a macro)"]


class Sheets(TypedDict):
    """The sheets of a workbook, listed by excel.sheets."""

    path: Annotated[str, "full path of the workbook"]
    count: Annotated[int, "how many sheets it has, hidden ones included"]
    names: Annotated[list[str], "their names, in the tabs' order"]
    sheets: Annotated[list[Sheet], "each sheet, in the tabs' order"]


@action("excel.sheets")
def sheets(ctx: Context, path: Path) -> Sheets:
    """List a workbook's sheets: name, position counted from 1, visible or hidden.

    The file passes the same checks as excel.read_table (format, size, zip bombs) before it is
    opened; a CSV file is one sheet named after the file.

    Args:
        path: .xlsx, .xlsm, .xls, .ods or .csv, as excel.read_table takes it.

    Example:
        - id: feuilles
          use: excel.sheets
          with: {path: "{{ inputs.classeur }}"}
    """
    from robocore.tables.guard import limits_from
    from robocore.tables.sheets import list_sheets

    target = ctx.path(path)
    listed = list_sheets(target, limits_from(ctx.settings.extra))
    ctx.log.info("excel.sheets", path=str(target), count=len(listed))
    return cast(Sheets, {"path": str(target), "count": len(listed), "names": [s["name"] for s in listed],
                         "sheets": listed})


class Written(TypedDict):
    """The workbook or CSV file excel.write_table or excel.append_rows wrote."""

    path: Annotated[str, "full path of the file written"]
    count: Annotated[int, "how many rows were written by this step"]
    columns: Annotated[list[str], "the sheet's (or CSV file's) columns, in order"]
    sheet: Annotated[str | None, "the name of the sheet written; None for a CSV file"]
    format: Annotated[Literal["xlsx", "csv"], "`xlsx` for a workbook (.xlsx, .xlsm), `csv` for a .csv file"]


@action("excel.write_table")
def write_table(ctx: Context, path: Path, rows: list[dict[str, Any]], sheet: str = "Données",
                columns: list[str] | None = None) -> Written:
    """Write rows to a new styled workbook or CSV file (replaced atomically); text is never a formula.

    The extension decides the format: `.xlsx` or `.xlsm` a workbook (bold header, frozen,
    filtered; dates and euro amounts formatted); `.csv` a CSV file for French Excel, as the
    dashboard's exports: `;`-separated, UTF-8 with BOM, CRLF lines, numbers with a decimal
    comma (`1234,56`), dates `dd/mm/yyyy`, booleans VRAI/FAUX. Any other extension is refused.
    A text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR, LF first) is a
    text cell in a workbook and gets a leading `'` in a CSV file.

    Args:
        path: .xlsx, .xlsm or .csv.
        rows: the rows to write (mappings of column → value), e.g. a read table's `rows`.
        sheet: the sheet's name (a workbook only).
        columns: the columns and their order; every key of the rows by default.

    Example:
        - use: excel.write_table
          with: {path: sortie/anomalies.xlsx, rows: "{{ steps.controle.anomalies }}", sheet: Anomalies}
    """
    from robocore.tables.write import write_table as write

    target = ctx.path(path, write=True)
    written = write(target, rows, sheet, columns)
    ctx.log.info("excel.write_table", path=str(target), count=written["count"])
    return cast(Written, written)


@action("excel.append_rows")
def append_rows(ctx: Context, path: Path, rows: list[dict[str, Any]],
                sheet: str | None = None) -> Written:
    """Append rows under a sheet's (or a CSV file's) header (the file is created when missing).

    A CSV file keeps its own separator and encoding; its lines are added at its end (the file
    is rewritten, atomically, only when a new column widens its header). Values are written
    as excel.write_table writes them.

    Args:
        path: .xlsx, .xlsm (its macros are kept) or .csv.
        rows: the rows to add; a key the header lacks becomes a new column.
        sheet: the sheet to append to; the first one by default (a workbook only).

    Example:
        - use: excel.append_rows
          with: {path: sortie/suivi.xlsx, rows: ["{{ item }}"]}
    """
    from robocore.tables.write import append_rows as append

    target = ctx.path(path, write=True)
    written = append(target, rows, sheet)
    ctx.log.info("excel.append_rows", path=str(target), count=written["count"])
    return cast(Written, written)
