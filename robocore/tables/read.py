"""Reading one sheet (calamine) or a CSV into rows keyed by a detected header line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from robocore.errors import BusinessError
from robocore.tables.guard import Limits, check_file, refuse
from robocore.tables.rows import LINE_KEY, Row, unique_headers
from robocore.tables.values import french_or_text

HEADER_SCAN_ROWS = 30
_MAX_EXACT = 2.0**53


def read_table(path: Path, sheet: str | int | None = None, header_row: int | None = None,
               french_numbers: bool = False, max_rows: int | None = None,
               limits: Limits | None = None) -> dict[str, Any]:
    """Read a sheet (or CSV) as {"rows", "count", "columns", "sheet", "path"}; see excel.read_table."""
    kind = check_file(path, limits or Limits())
    if kind == "text":
        name, first_line, raw = path.stem, 1, _csv_rows(path)
    else:
        name, first_line, raw = _sheet_rows(path, sheet)
    columns, rows = build_rows(raw, first_line, header_row, french_numbers, max_rows)
    return {"rows": rows, "count": len(rows), "columns": columns, "sheet": name, "path": str(path)}


def _sheet_rows(path: Path, sheet: str | int | None) -> tuple[str, int, list[list[Any]]]:
    """The sheet's name, the line number of its first used row, and its cells."""
    import python_calamine as pc

    try:
        with pc.CalamineWorkbook.from_path(str(path)) as workbook:
            names = workbook.sheet_names
            name = _pick_sheet(path, names, sheet)
            data = workbook.get_sheet_by_name(name)
            start = data.start
            return name, (start[0] + 1 if start else 1), data.to_python()
    except pc.PasswordError as exc:
        raise refuse(path, "Classeur protégé par mot de passe", "password-protected workbook") from exc
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise refuse(path, f"Classeur illisible ({reason})", "unreadable workbook") from exc


def _pick_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    if sheet is None:
        if not names:
            raise refuse(path, "Classeur sans feuille", "workbook without sheets")
        return names[0]
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    if isinstance(sheet, str):
        if sheet in names:
            return sheet
        folded = {n.strip().casefold(): n for n in names}
        if sheet.strip().casefold() in folded:
            return folded[sheet.strip().casefold()]
    listed = ", ".join(repr(n) for n in names)
    raise BusinessError(f"Feuille {sheet!r} introuvable dans {path} (feuilles : {listed}) "
                        f"/ sheet not found (available: {listed})")


def _csv_rows(path: Path) -> list[list[Any]]:
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
    return list(csv.reader(io.StringIO(text), dialect))


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


def build_rows(raw: list[list[Any]], first_line: int, header_row: int | None,
               french_numbers: bool, max_rows: int | None) -> tuple[list[str], list[Row]]:
    """Header, then typed rows (empty ones skipped), each remembering its source line."""
    if header_row is not None:
        index = header_row - first_line
        if index < 0 or index >= len(raw):
            raise BusinessError(f"Ligne d'en-tête {header_row} hors de la feuille "
                                f"(lignes {first_line} à {first_line + len(raw) - 1}) "
                                f"/ header row outside the sheet")
    else:
        index = detect_header(raw)
    if not raw:
        return [], []
    header = raw[index]
    width = max(len(header), max((len(r) for r in raw[index + 1:index + 200]), default=0))
    columns = unique_headers(list(header) + [None] * (width - len(header)))
    rows = list(_typed_rows(raw, index + 1, first_line, columns, french_numbers, max_rows))
    return _trim_empty_columns(columns, header, rows), rows


def _typed_rows(raw: list[list[Any]], start: int, first_line: int, columns: list[str],
                french_numbers: bool, max_rows: int | None) -> Iterator[Row]:
    count, limit = 0, max_rows if max_rows is not None else len(raw)
    for offset in range(start, len(raw)):
        if count >= limit:
            return
        values = _typed_values(raw[offset])
        if values.count(None) == len(values):
            continue
        if french_numbers:
            values = [french_or_text(v) for v in values]
        row = Row(zip(columns, values))
        dict.__setitem__(row, LINE_KEY, first_line + offset)
        count += 1
        yield row


def _typed_values(cells: list[Any]) -> list[Any]:
    """`typed_cell` inlined: this loop runs once per cell of the sheet."""
    out: list[Any] = []
    append = out.append
    for v in cells:
        kind = v.__class__
        if kind is str:
            append((v.strip() or None) if v else None)
        elif kind is float:
            append(int(v) if v.is_integer() and -_MAX_EXACT < v < _MAX_EXACT else v)
        else:
            append(v)
    return out


def _trim_empty_columns(columns: list[str], header: Iterable[Any], rows: list[Row]) -> list[str]:
    """Drop unnamed columns that hold nothing (leftovers of the used range)."""
    named = [c not in ("", None) for c in header] + [False] * len(columns)
    empty = [c for i, c in enumerate(columns)
             if not named[i] and all(dict.get(r, c) is None for r in rows)]
    for row in rows:
        for c in empty:
            dict.pop(row, c, None)
    return [c for c in columns if c not in empty]
