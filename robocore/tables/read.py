"""Reading one sheet (calamine) or a CSV into rows keyed by a detected header line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from robocore.errors import BusinessError
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.tables.coltypes import convert_column, expected, resolve_types
from robocore.tables.guard import Limits, check_file, refuse
from robocore.tables.rows import LINE_KEY, Rows, unique_headers
from robocore.tables.sheets import pick_sheet
from robocore.tables.values import french_or_text, typed_column, unstripped_column

HEADER_SCAN_ROWS = 30
Line = tuple[Any, ...]
"""A sheet line's cells. Tuples, not lists: the collector stops tracking a tuple of texts,
numbers and dates at its first pass, so 100,000 of them are not walked again and again."""


@dataclass(frozen=True)
class Source:
    """One sheet to read and how (the parameters of excel.read_table)."""

    path: Path
    sheet: str | int | None = None
    header_row: int | None = None
    french_numbers: bool = False
    max_rows: int | None = None
    columns: Mapping[str, str] | None = None
    strip: bool = True


@dataclass(frozen=True)
class Shape:
    """How a body is typed: trimming, French amounts, explicit column types, and where it lies."""

    french_numbers: bool = False
    strip: bool = True
    types: Mapping[str, str] | None = None
    sheet: str = ""
    first_column: int = 1


@dataclass(frozen=True)
class Cells:
    """A sheet's raw lines and where they lie: its name, first used line and column (1-based)."""

    sheet: str
    first_line: int
    lines: list[Line]
    first_column: int = 1


def read_table(path: Path, sheet: str | int | None = None, header_row: int | None = None,
               french_numbers: bool = False, max_rows: int | None = None,
               limits: Limits | None = None, columns: Mapping[str, str] | None = None,
               strip: bool = True) -> dict[str, Any]:
    """Read a sheet (or CSV) as {"rows", "count", "columns", "sheet", "path", "header_row",
    "skipped_rows"}; see excel.read_table."""
    source = Source(path, sheet, header_row, french_numbers, max_rows, columns, strip)
    kind = check_file(path, limits or Limits())
    return _table(source, _cells(source, kind))


def read_tables(sources: Sequence[Source], limits: Limits | None = None) -> list[dict[str, Any]]:
    """Several sheets read at once, each as `read_table` returns it, in the order given.

    calamine releases the GIL while it parses a sheet, so each file is parsed in a
    worker thread as soon as its guard has passed, while this thread checks the next
    file, then types the cells of each in turn. Two 100,000-row workbooks: 0.78 s read
    one after the other, 0.55 s this way on two cores (bench/bench_reconcile.py).
    A file is never parsed before its own guard has passed; the first error wins and
    no parse is left running when it is raised.
    """
    from concurrent.futures import ThreadPoolExecutor

    bounds = limits or Limits()
    with ThreadPoolExecutor(max_workers=max(len(sources), 1), thread_name_prefix="robocore-read") as pool:
        pending = []
        for source in sources:
            kind = check_file(source.path, bounds)
            pending.append((source, pool.submit(_cells, source, kind)))
        return [_table(source, cells.result()) for source, cells in pending]


def _cells(source: Source, kind: str) -> Cells:
    """The sheet's raw cells and where they lie."""
    if kind == "text":
        return Cells(source.path.stem, 1, _csv_rows(source.path))
    return _sheet_rows(source.path, source.sheet)


def _table(source: Source, cells: Cells) -> dict[str, Any]:
    """The table of a sheet's cells; the non-empty lines above its header are counted, not read."""
    raw, first_line = cells.lines, cells.first_line
    index = header_index(raw, first_line, source.header_row)
    shape = Shape(source.french_numbers, source.strip, source.columns, cells.sheet, cells.first_column)
    columns, rows = build_rows(raw, first_line, first_line + index if raw else source.header_row,
                               source.french_numbers, source.max_rows, shape=shape)
    skipped = sum(1 for line in raw[:index] if any(c not in ("", None) for c in line))
    return {"rows": rows, "count": len(rows), "columns": columns, "sheet": cells.sheet, "path": str(source.path),
            "header_row": first_line + index if raw else None, "skipped_rows": skipped}


def _sheet_rows(path: Path, sheet: str | int | None) -> Cells:
    """The sheet's name, the line and column of its first used cell, and its cells."""
    import python_calamine as pc

    try:
        with pc.CalamineWorkbook.from_path(str(path)) as workbook:
            names = workbook.sheet_names
            name = pick_sheet(path, names, sheet)
            data = workbook.get_sheet_by_name(name)
            start = data.start
            return Cells(name, start[0] + 1 if start else 1, _used_lines(data), start[1] + 1 if start else 1)
    except pc.PasswordError as exc:
        raise refuse(path, _l("Password-protected workbook")) from exc
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise refuse(path, _l("Unreadable workbook ({reason})", reason=reason)) from exc


def _used_lines(data: Any) -> list[Line]:
    """The lines of a sheet's used range, as tuples.

    `to_python()` would return one list per line, all alive (and tracked by the
    collector) until the sheet is typed; `iter_rows()` hands them one at a time.
    It also yields the empty lines above the used range, which are dropped.
    """
    lines = list(map(tuple, data.iter_rows()))
    above = len(lines) - data.height
    if above > 0:
        del lines[:above]
    return lines


def _csv_rows(path: Path) -> list[Line]:
    """A CSV's cells; UTF-8 (with or without BOM) or Windows-1252, `;` `,` or tab separated."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    sample = text[:65536]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return list(map(tuple, csv.reader(io.StringIO(text), dialect)))


def detect_header(rows: Sequence[Sequence[Any]]) -> int:
    """Index of the header line: the first mostly-text line with ≥2 cells and at least half
    as many filled cells as the widest line near the top (skips titles and merged group labels)."""
    window = rows[:HEADER_SCAN_ROWS]
    filled = [[c for c in row if c not in ("", None)] for row in window]
    widest = max((len(f) for f in filled), default=0)
    for index, cells in enumerate(filled):
        texts = sum(1 for c in cells if isinstance(c, str))
        if len(cells) >= 2 and texts * 3 >= len(cells) * 2 and len(cells) * 2 > widest:
            return index
    return next((i for i, cells in enumerate(filled) if cells), 0)


def header_index(raw: Sequence[Sequence[Any]], first_line: int, header_row: int | None) -> int:
    """Index in `raw` of the header line: `header_row` (a 1-based sheet line) when given, else detected.

    Raises:
        BusinessError: `header_row` lies outside the sheet's used lines.
    """
    if header_row is None:
        return detect_header(raw)
    index = header_row - first_line
    if index < 0 or index >= len(raw):
        raise BusinessError(_("Header row {row} outside the sheet (rows {first} to {last})", row=header_row,
                              first=first_line, last=first_line + len(raw) - 1))
    return index


def build_rows(raw: Sequence[Sequence[Any]], first_line: int, header_row: int | None,
               french_numbers: bool, max_rows: int | None, *, shape: Shape | None = None) -> tuple[list[str], Rows]:
    """Header, then typed rows (empty ones skipped), each remembering its source line.

    Cells are typed column by column (`typed_column`): one tight loop per column
    instead of a type dispatch per cell, which is most of the cost of a large sheet.
    The rows are plain dicts in a `Rows` list, handed out as `Row`s. `shape` (trimming,
    column types) defaults to trimmed texts and `french_numbers` as given.
    """
    index = header_index(raw, first_line, header_row)  # a header_row given for an empty sheet is an error
    if not raw:
        return [], Rows()
    shape = shape or Shape(french_numbers)
    header = list(raw[index])
    body = raw[index + 1:]
    width = max(len(header), max((len(r) for r in body[:200]), default=0))
    columns = unique_headers(header + [None] * (width - len(header)))
    if not body:
        return _named_only(columns, header), Rows()
    first = first_line + index + 1
    types = resolve_types(shape.types, columns, header) if shape.types else {}
    if max_rows is not None and len(body) > 2 * max_rows + 100:  # a preview: type a window first
        keys, rows = _typed_rows(body[:2 * max_rows + 100], header, columns, first, shape, types, max_rows)
        if len(rows) >= max_rows:
            return keys, Rows(rows[:max_rows])
    keys, rows = _typed_rows(body, header, columns, first, shape, types, max_rows)
    return keys, Rows(rows if max_rows is None else rows[:max_rows])


def _typed_rows(body: Sequence[Sequence[Any]], header: list[Any], columns: list[str], first: int,
                shape: Shape, types: Mapping[int, str],
                max_rows: int | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Typed rows of the body lines (the first is line `first`); unnamed empty columns dropped.

    A typed column's cell that does not convert is an error, unless it lies below the first
    `max_rows` rows (a preview does not fail on lines it does not return).

    Only a few objects the collector tracks are built: a column is read with
    `itemgetter` (not `zip(*body)`, which holds an iterator per line), and each row
    is a plain dict of cell values, which it does not track.
    """
    width = len(columns)
    if any(len(r) < width for r in body):  # ragged CSV lines: pad, so that every line has every column
        body = [tuple(r) + (None,) * (width - len(r)) if len(r) < width else r for r in body]
    tidy = typed_column if shape.strip else unstripped_column
    cells = [tidy(map(itemgetter(i), body)) for i in range(width)]
    if shape.french_numbers:
        cells = [column if i in types else [french_or_text(v) if v.__class__ is str else v for v in column]
                 for i, column in enumerate(cells)]
    failures = []
    for i, kind in types.items():
        cells[i], failed = convert_column(cells[i], kind)
        if failed:
            failures.append((i, kind, failed))
    named = [c not in ("", None) for c in header] + [False] * width
    keep = [i for i, column in enumerate(cells) if named[i] or column.count(None) != len(column)]
    kept, keys = [cells[i] for i in keep], [columns[i] for i in keep]
    lines: Iterator[Line] = zip(*kept, range(first, first + len(body)), strict=True)
    blank = len(kept)
    if all(None in column for column in kept):  # blank lines possible: skip them
        lines = (t for t in lines if t.count(None) != blank)
    rows = list(map(dict, map(zip, repeat([*keys, LINE_KEY]), lines)))
    last = None  # the last line returned, when max_rows cuts the rows
    if max_rows is not None and max_rows <= len(rows):
        last = rows[max_rows - 1][LINE_KEY] if max_rows > 0 else first - 1
    for i, kind, failed in sorted(failures):
        shown = [(j, cells[i][j]) for j in failed if last is None or first + j <= last]
        if shown:
            raise _cell_error(shape, i, kind, first, shown)
    return keys, rows


def _cell_error(shape: Shape, column: int, kind: str, first: int, bad: list[tuple[int, Any]]) -> BusinessError:
    """The error naming the cells of a typed column that hold something else (`Feuille1!C7`)."""
    from openpyxl.utils.cell import get_column_letter

    letter = get_column_letter(shape.first_column + column)
    place = f"{shape.sheet}!{letter}" if shape.sheet else letter
    index, value = bad[0]
    others = ", ".join(f"{letter}{first + j}" for j, _v in bad[1:6]) + (", …" if len(bad) > 6 else "")
    cell = f"{place}{first + index}"
    message = _("{cell}: '{value}' is not {expected}", cell=cell, value=value, expected=expected(kind))
    if others:
        message += " " + _("({count} such cells in all, also {cells})", count=len(bad), cells=others)
    return BusinessError(message)


def _named_only(columns: list[str], header: list[Any]) -> list[str]:
    """With no data lines, the columns that have a header."""
    return [c for c, h in zip(columns, header + [None] * len(columns), strict=False) if h not in ("", None)]
