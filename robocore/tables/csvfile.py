"""Rows as a CSV file for French Excel: `;`-separated, UTF-8 with BOM, decimal commas, CRLF lines.

The conventions of the dashboard's CSV exports (`robocore.exports.csv`): a text that a
spreadsheet could take for a formula gets a leading `'` (`cells.csv_text`), numbers are
written as numbers with a decimal comma, dates `dd/mm/yyyy` (`cells.french_text`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from robocore.errors import ApplicationError
from robocore.i18n import gettext as _
from robocore.tables.cells import csv_text, french_text

BOM = "\ufeff"
DELIMITERS = ";,\t"


def csv_cell(value: Any) -> str:
    """One cell's text: numbers and dates the French way, texts neutralised, None empty."""
    if isinstance(value, str):
        return csv_text(value)
    text = french_text(value)
    return "" if text is None else text if isinstance(value, (int, float)) else csv_text(text)


def csv_lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], header: bool = True) -> tuple[str, int]:
    """The CSV text of the rows (header first when asked), and how many rows it holds."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow([csv_text(c) for c in columns])
    count = 0
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
        count += 1
    return out.getvalue(), count


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write a new CSV file (replaced atomically: never half written); returns the rows written."""
    text, count = csv_lines(columns, rows)
    _replace(path, (BOM + text).encode("utf-8"))
    return count


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: `;`, `,` or tab (the most frequent of `;` and `,` when unsure)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ";" if sample.count(";") > sample.count(",") else ","


def existing_header(path: Path) -> tuple[list[str], str, str]:
    """The header of an existing CSV file, its delimiter and its encoding (utf-8 or cp1252)."""
    raw = path.read_bytes()[:65536]
    try:
        sample, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        sample, encoding = raw.decode("cp1252", errors="replace"), "cp1252"
    delimiter = sniff_delimiter(sample)
    first = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    return [c for c in first], delimiter, encoding


def append_csv(path: Path, columns: Sequence[str], header: Sequence[str], delimiter: str, encoding: str,
               rows: Iterable[Mapping[str, Any]]) -> int:
    """Append rows to an existing CSV file under its header, in its delimiter and encoding.

    When `columns` extends `header` with new columns, the whole file is rewritten (atomically)
    with the longer header, the old lines kept as they are (their new cells empty); otherwise
    the lines are appended at the end of the file.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    count = 0
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
        count += 1
    new_lines = out.getvalue().encode(encoding, errors="replace")
    if list(columns) == list(header):
        try:
            with path.open("rb+") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell():
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) not in (b"\n", b"\r"):
                        handle.write(b"\r\n")
                handle.write(new_lines)
        except PermissionError as exc:
            raise ApplicationError(_("Cannot write (file open elsewhere?): {path}: {error}", path=path,
                                     error=exc)) from exc
        return count
    _replace(path, _widened(path, columns, delimiter, encoding) + new_lines)
    return count


def _widened(path: Path, columns: Sequence[str], delimiter: str, encoding: str) -> bytes:
    """The existing file's bytes with the longer header, its other lines kept as they are."""
    text = path.read_bytes().decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    body = text.split("\n", 1)[1] if "\n" in text else ""
    if body and not body.endswith("\n"):
        body += "\r\n"
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow([csv_text(c) for c in columns])
    bom = BOM if encoding == "utf-8" else ""
    return (bom + out.getvalue() + body).encode(encoding, errors="replace")


def _replace(path: Path, data: bytes) -> None:
    from robocore.tables.write import save_atomically

    def save(temp: Path) -> None:
        temp.write_bytes(data)

    save_atomically(path, save)
