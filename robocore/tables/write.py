"""Writing rows to a styled workbook (openpyxl), atomically and never as formulas."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

from robocore.errors import ApplicationError, BusinessError
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.tables.cells import TRIGGERS, csv_text, is_risky
from robocore.tables.guard import Limits, atomic_target, check_file, refuse
from robocore.tables.rows import columns_of, fold, resolve_column, stored

WRITE_ONLY_ABOVE = 5_000
DANGEROUS_START = TRIGGERS
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
WRITABLE_SUFFIXES = (*WORKBOOK_SUFFIXES, ".csv")
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
EURO_FORMAT = '#,##0.00 "€"'
HEADER_FILL = "000091"  # bleu France (DSFR)
_AMOUNT_NAME = re.compile(r"montant|total|solde|d[ée]bit|cr[ée]dit|prix|somme|[ée]cart|"
                          r"\bht\b|\bttc\b|€|amount|balance", re.IGNORECASE)


def is_dangerous(value: Any) -> bool:
    """True for text a spreadsheet would run as a formula (CSV/formula injection)."""
    return isinstance(value, str) and is_risky(value)


def csv_safe(value: Any) -> Any:
    """A value safe to put in a CSV cell: dangerous text gets a leading apostrophe."""
    return csv_text(value) if isinstance(value, str) else value


def output_kind(path: Path) -> str:
    """`csv` or `workbook`, from the file's extension.

    Raises:
        BusinessError: any other extension (the accepted ones are listed).
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    raise BusinessError(_("Cannot write {path}: unknown extension {suffix} (accepted: {accepted})", path=path,
                          suffix=repr(path.suffix or ""), accepted=", ".join(WRITABLE_SUFFIXES)))


def _new_workbook(path: Path, write_only: bool) -> Any:
    """An empty workbook; one saved as .xlsm declares itself macro-enabled, or Excel refuses to open it."""
    from openpyxl import Workbook

    if path.suffix.lower() != ".xlsm":
        return Workbook(write_only=write_only)
    from openpyxl.xml.constants import XLSM

    class MacroEnabledWorkbook(Workbook):
        mime_type = XLSM

    return MacroEnabledWorkbook(write_only=write_only)


def amount_columns(columns: Sequence[str]) -> set[str]:
    """Columns whose numbers are euros, by name (Montant, Débit, Total TTC…)."""
    return {c for c in columns if _AMOUNT_NAME.search(c)}


class SheetWriter:
    """Writes styled rows to a worksheet of a normal or write-only workbook."""

    def __init__(self, sheet: Any, columns: Sequence[str], write_only: bool,
                 amounts: set[str] | None = None) -> None:
        self.sheet, self.columns, self.write_only = sheet, list(columns), write_only
        self.euro = [c in (amounts if amounts is not None else amount_columns(columns))
                     for c in self.columns]
        self.next_row = 1
        self._styles: dict[str, Any] = {}
        from openpyxl.cell import WriteOnlyCell

        self._new_cell = WriteOnlyCell

    def _cell(self, value: Any, euro: bool) -> Any:
        """A value, or a cell object when it needs a format or must stay text."""
        kind = value.__class__
        if kind is str:
            return self._styled(value, "text") if value.startswith(DANGEROUS_START) else value
        if kind is float or kind is int:
            return self._styled(value, "euro") if euro else value
        if value is None:
            return None
        if isinstance(value, str):
            return self._styled(value, "text") if value.startswith(DANGEROUS_START) else value
        if isinstance(value, dt.datetime):
            return self._styled(value, "datetime")
        if isinstance(value, dt.date):
            return self._styled(value, "date")
        if euro and isinstance(value, (int, float)) and not isinstance(value, bool):
            return self._styled(value, "euro")
        return value

    def _styled(self, value: Any, kind: str) -> Any:
        """A cell with one of a few styles, each registered once (openpyxl styles are costly)."""
        style = self._styles.get(kind)
        if style is None:
            style = self._styles[kind] = self._style_of(kind)
        cell = self._new_cell(self.sheet, value)
        cell._style = style  # shared, never mutated: openpyxl only reads it
        if kind == "text":
            cell.data_type = "s"  # never a formula, whatever it starts with
        return cell

    def _style_of(self, kind: str) -> Any:
        from openpyxl.styles import Alignment

        template = self._new_cell(self.sheet, None)
        if kind == "text":
            template.quotePrefix = True
        elif kind == "euro":
            template.number_format = EURO_FORMAT
            template.alignment = Alignment(horizontal="right")
        else:
            template.number_format = DATE_FORMAT if kind == "date" else DATETIME_FORMAT
        return template._style

    def header(self, widths_from: Iterable[Mapping[str, Any]] = ()) -> None:
        """Bold white header on blue, frozen, with a filter and column widths from a sample."""
        from openpyxl.styles import Font, PatternFill
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(column_widths(self.columns, widths_from), start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.freeze_panes = "A2"
        cells = []
        for name in self.columns:
            cell = self._new_cell(self.sheet, name)
            cell.data_type = "s"
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
            cells.append(cell)
        self._append(cells)

    def rows(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append rows (looked up by column name); returns how many were written."""
        count = 0
        pairs = list(zip(self.columns, self.euro, strict=True))
        for row in rows:
            self._append([self._cell(row.get(c), euro) for c, euro in pairs])
            count += 1
        return count

    def values(self, values: Sequence[Any], euro: Sequence[bool] | None = None) -> None:
        """Append one line of values given in column order."""
        cell = self._cell
        self._append([cell(v, e) for v, e in zip(values, euro or repeat(False), strict=False)])

    def _append(self, cells: list[Any]) -> None:
        if self.write_only:
            self.sheet.append(cells)
        else:
            for col, item in enumerate(cells, start=1):
                target = self.sheet.cell(row=self.next_row, column=col)
                _copy_into(target, item)
        self.next_row += 1

    def finish(self) -> None:
        """Put the auto-filter over the written range."""
        from openpyxl.utils import get_column_letter

        if self.columns:
            last = get_column_letter(len(self.columns))
            self.sheet.auto_filter.ref = f"A1:{last}{max(self.next_row - 1, 1)}"


def _copy_into(target: Any, item: Any) -> None:
    """Copy a value or a WriteOnlyCell (value, type, style) into a normal cell."""
    from openpyxl.cell.cell import Cell

    if not isinstance(item, Cell):
        target.value = item
        return
    target.value = item.value
    if item.has_style:
        target._style = item._style  # the workbook's style table is shared
    if item.data_type == "s":
        target.data_type = "s"


def column_widths(columns: Sequence[str], rows: Iterable[Mapping[str, Any]],
                  sample: int = 200) -> list[float]:
    """Widths from the header and the first `sample` rows, between 8 and 60 characters."""
    widest = [len(c) + 2 for c in columns]
    for n, row in enumerate(rows):
        if n >= sample:
            break
        for i, c in enumerate(columns):
            value = row.get(c)
            length = 10 if isinstance(value, dt.date) else len(str(value)) if value is not None else 0
            widest[i] = max(widest[i], length + 2)
    return [float(min(max(w, 8), 60)) for w in widest]


def save_atomically(path: Path, save: Callable[[Path], None]) -> None:
    """Write to a temporary file beside `path`, then rename: a failure leaves nothing behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = atomic_target(path)
    try:
        save(temp)
        os.replace(temp, path)
    except PermissionError as exc:
        raise ApplicationError(_("Cannot write (file open elsewhere?): {path}: {error}", path=path,
                                 error=exc)) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write_table(path: Path, rows: Sequence[Mapping[str, Any]], sheet: str = "Données",
                columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Write rows to a new workbook or CSV file (replacing the file); see excel.write_table."""
    kind = output_kind(path)
    rows = stored(rows)  # a read table's rows as they are kept (plain dicts), not turned into Rows
    cols = list(columns) if columns is not None else columns_of(rows)
    if kind == "csv":
        from robocore.tables.csvfile import write_csv

        count = write_csv(path, cols, _lenient(rows, cols))
        return {"path": str(path), "count": count, "columns": cols, "sheet": None, "format": "csv"}
    write_only = len(rows) > WRITE_ONLY_ABOVE
    workbook = _new_workbook(path, write_only)
    ws = workbook.create_sheet(sheet) if write_only else workbook.active
    if not write_only:
        ws.title = sheet
    writer = SheetWriter(ws, cols, write_only)
    writer.header(rows)
    count = writer.rows(_lenient(rows, cols))
    writer.finish()
    save_atomically(path, workbook.save)
    return {"path": str(path), "count": count, "columns": cols, "sheet": sheet, "format": "xlsx"}


def _lenient(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Iterable[Mapping[str, Any]]:
    """Rows whose keys differ from the columns only by case, spaces or accents still match."""
    for row in rows:
        if all(c in row for c in columns):
            yield row
        else:
            by_fold = {fold(k): v for k, v in row.items()}
            yield {c: row[c] if c in row else by_fold.get(fold(c)) for c in columns}


def append_rows(path: Path, rows: Sequence[Mapping[str, Any]],
                sheet: str | None = None) -> dict[str, Any]:
    """Append rows under an existing sheet's (or CSV file's) header (new keys become new columns)."""
    kind = output_kind(path)
    if not path.exists():
        return write_table(path, rows, sheet or "Données")
    rows = stored(rows)
    check_file(path, Limits())
    if kind == "csv":
        return _append_csv(path, rows)
    from openpyxl import load_workbook

    try:  # macros kept in an .xlsm; openpyxl parses with defusedxml: no entity expansion
        workbook = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise refuse(path, _l("Workbook unreadable by openpyxl")) from exc
    if sheet is not None and sheet not in workbook.sheetnames:
        ws = workbook.create_sheet(sheet)
        header: list[str] = []
    else:
        ws = workbook[sheet] if sheet else workbook.active
        header = [str(c.value) for c in ws[1] if c.value is not None] if ws.max_row >= 1 else []
    extra = [c for c in columns_of(rows) if resolve_column(c, header) is None]
    columns = header + extra
    writer = SheetWriter(ws, columns, write_only=False)
    if not header:
        writer.header(rows)
    else:
        for offset, name in enumerate(extra):
            ws.cell(row=1, column=len(header) + offset + 1, value=name)
        writer.next_row = _last_used_row(ws) + 1
    try:
        count = writer.rows(_lenient(rows, columns))
        writer.finish()
        save_atomically(path, workbook.save)
    finally:
        if workbook.vba_archive is not None:  # keep_vba holds the source file's zip open until closed
            workbook.vba_archive.close()
    return {"path": str(path), "count": count, "columns": columns, "sheet": ws.title, "format": "xlsx"}


def _append_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Append rows to a CSV file under its header, matched leniently; new keys widen the header."""
    from robocore.tables.csvfile import append_csv, existing_header

    header, delimiter, encoding = existing_header(path)
    extra = [c for c in columns_of(rows) if resolve_column(c, header) is None]
    columns = header + extra
    count = append_csv(path, columns, header, delimiter, encoding, _lenient(rows, columns))
    return {"path": str(path), "count": count, "columns": columns, "sheet": None, "format": "csv"}


def _last_used_row(ws: Any) -> int:
    for row in range(ws.max_row, 0, -1):
        if any(cell.value is not None for cell in ws[row]):
            return row
    return 0
