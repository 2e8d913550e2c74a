"""Pre-checks of a workbook before any parser touches it: format, zip bombs, sparse sheets.

python-calamine holds a sheet as a dense grid and inflates a whole zip entry
in memory, so a 300 KB file can cost gigabytes. Everything here reads the zip
directory and scans sheet XML at C speed (zlib and `re`), never building a tree:
cell references for .xlsx, repeat attributes for .ods; .xls cell records are read
in `guard_xls`; .xlsb is refused.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from robocore.errors import BusinessError
from robocore.i18n import Message, current
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l

ZIP_FORMATS = {".xlsx", ".xlsm", ".xltx", ".xltm", ".ods"}
# Binary Excel sheets (.xlsb) cannot be bounded before calamine expands them: one record
# naming a far cell costs gigabytes. They are refused until a record scanner checks them.
REFUSED_FORMATS = {".xlsb"}
OLE_FORMATS = {".xls"}
TEXT_FORMATS = {".csv", ".txt", ".tsv"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SHEET_ENTRY = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_BINARY_SHEET = re.compile(r"^xl/worksheets/[^/]+\.bin$", re.IGNORECASE)
# A cell whose first attribute is not its reference (`<c>`, `<c s="1" r="A1">`): the exact path.
_UNREFERENCED = re.compile(rb'<c(?! r=")[ >/]')
# References beyond column Z or row 99,999, with the rest of their tag (`/` ends an empty cell:
# styled empty cells are skipped by calamine, and Excel writes them as far as XFD1048576).
_FAR_CELL = re.compile(rb' r="([A-Z]{2,3}|[A-Z](?=\d{6}))(\d+)"([^>]*)>')
_NEAR_CELLS = 26 * 99_999  # what the fast path lets through unmeasured (A1:Z99999)
_ANY_CELL = re.compile(rb'<c\b[^>]*? r="([A-Z]{1,3})(\d+)"[^>]*(?<!/)>')
_ROW_NUMBER = re.compile(rb'<row\b[^>]*? r="(\d+)"')
# OpenDocument: rows and cells repeat by attribute; calamine expands the repeats of cells that hold a value
_ODS_TAG = re.compile(rb'<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s>/])([^>]*?)(/?)>')
_ODS_ROWS = re.compile(rb'number-rows-repeated="(\d+)"')
_ODS_COLUMNS = re.compile(rb'number-columns-repeated="(\d+)"')
_NOT_A_ZIP = _l("Unreadable workbook (truncated or not a zip)")

@dataclass(frozen=True)
class Limits:
    """Bounds on what a workbook may cost to open (overridable per run, see `limits_from`)."""

    max_uncompressed_mb: int = 512    # total declared size of the zip's entries
    max_entry_ratio: int = 200        # uncompressed/compressed, for entries above 1 MiB
    max_cells: int = 10_000_000       # rows × columns of a sheet's used range
    max_text_mb: int = 512            # size of a CSV file


def limits_from(extra: dict[str, Any]) -> Limits:
    """Limits from a run's settings (`excel_max_uncompressed_mb`, `excel_max_entry_ratio`, …)."""
    base = Limits()
    values = {name: int(extra.get(f"excel_{name}", getattr(base, name)))
              for name in base.__dataclass_fields__}
    return Limits(**values)


def refuse(path: Path, problem: Message) -> BusinessError:
    """The error for an unreadable workbook, in the active language, naming the file.

    Args:
        problem: what is wrong, a message of the catalogues (`lazy_gettext`), rendered now.
    """
    # Translators: a workbook refused before reading: what is wrong, then the file (French: « … : chemin »)
    return BusinessError(_("{problem}: {path}", problem=problem, path=path))


def _grouped(number: int) -> str:
    """A whole number with its thousands apart, as the active language writes them (10 000 000, 10,000,000)."""
    return f"{number:,}".replace(",", "," if current() == "en" else " ")


def check_file(path: Path, limits: Limits) -> str:
    """Check a spreadsheet file before reading it; returns its kind: zip, ole or text."""
    if not path.is_file():
        raise refuse(path, _l("File not found"))
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size == 0:
        raise refuse(path, _l("Empty file"))
    with path.open("rb") as handle:
        magic = handle.read(8)
    if suffix in REFUSED_FORMATS:
        raise _binary_refused(path)
    if suffix in TEXT_FORMATS:
        if size > limits.max_text_mb * 2**20:
            raise refuse(path, _l("Text file too large (> {limit} MB)", limit=limits.max_text_mb))
        return "text"
    if magic.startswith(_OLE_MAGIC):
        _check_ole(path, limits)
        return "ole"
    if not magic.startswith(_ZIP_MAGIC) or suffix in OLE_FORMATS:
        raise refuse(path, _NOT_A_ZIP)
    check_zip(path, limits)
    return "zip"


def check_zip(path: Path, limits: Limits) -> None:
    """Refuse broken zips, zip bombs and sheets whose used range is absurdly large."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_sizes(path, infos, limits)
            if any(_BINARY_SHEET.match(info.filename) for info in infos):
                raise _binary_refused(path)
            for info in infos:
                if _SHEET_ENTRY.match(info.filename):
                    _check_used_range(path, partial(_chunks, archive, info), limits)
                elif info.filename == "content.xml":
                    _check_cells(path, *_ods_extent(partial(_chunks, archive, info, overlap=0)), limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            NotImplementedError) as exc:
        raise refuse(path, _NOT_A_ZIP) from exc


def _binary_refused(path: Path) -> BusinessError:
    """The error for binary (.xlsb) sheets, whatever the file's name."""
    return refuse(path, _l(".xlsb workbooks are not accepted (their binary sheets cannot be checked before "
                           "reading): save the workbook as .xlsx"))


def _check_ole(path: Path, limits: Limits) -> None:
    """Bound an .xls sheet's used range from its cell records (see guard_xls)."""
    from robocore.tables.guard_xls import xls_extent

    try:
        extent = xls_extent(path)
    except (OSError, ValueError, struct.error, NotImplementedError) as exc:  # olefile's errors
        raise refuse(path, _l("Unreadable workbook (damaged OLE container)")) from exc
    if extent is not None:  # None: no workbook stream (an encrypted .xlsx…), calamine says what
        _check_cells(path, *extent, limits)


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_mb * 2**20:
        raise refuse(path, _l("Workbook too large once unzipped ({size} MB, limit {limit} MB)",
                              size=total // 2**20, limit=limits.max_uncompressed_mb))
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 2**20 and ratio > limits.max_entry_ratio:
            raise refuse(path, _l("Suspicious workbook (zip bomb: {entry} expands {ratio:.0f} times, limit {limit})",
                                  entry=info.filename, ratio=ratio, limit=limits.max_entry_ratio))


def _check_used_range(path: Path, chunks: Callable[[], Iterator[bytes]], limits: Limits) -> None:
    """Bound rows × columns from the cell references, without parsing the XML.

    The usual sheet (every cell's reference first, at most column Z and row
    99,999) costs two regex scans at C speed; wider or longer sheets, and cells
    without a reference, are measured exactly (`_exact_extent`).
    """
    width, height = 1, 0
    exact = limits.max_cells < _NEAR_CELLS  # a lower limit than the fast path can vouch for
    for chunk in chunks():
        if exact or _UNREFERENCED.search(chunk):
            w, h = _exact_extent(chunk)
        else:
            w, h = _far_extent(chunk)
        width, height = max(width, w), max(height, h)
    _check_cells(path, width, height, limits)


def _check_cells(path: Path, width: int, height: int, limits: Limits) -> None:
    if height * width > limits.max_cells:
        raise refuse(path, _l("Sheet too large (used range of about {rows} rows × {columns} columns, limit "
                              "{cells} cells)", rows=_grouped(height), columns=width,
                              cells=_grouped(limits.max_cells)))


def _far_extent(chunk: bytes) -> tuple[int, int]:
    """Width and height from the far references of a chunk whose cells all start with `r`."""
    far = [(letters, row) for letters, row, tail in _FAR_CELL.findall(chunk) if not tail.endswith(b"/")]
    if not far:
        return 1, 0  # within Z99999: below the cell limit whatever the rest
    width = max(_column_number(letters) for letters in {letters for letters, _ in far})
    height = max(int(row) for _, row in far)
    if width > 26:  # wide: narrow cells further down count too
        height = max(height, _exact_extent(chunk)[1])
    return width, height


def _exact_extent(chunk: bytes) -> tuple[int, int]:
    """Width and height implied by every content cell's reference; cells without one are
    placed as calamine places them (after the previous cell, in their row's line)."""
    refs = _ANY_CELL.findall(chunk)
    width = max((_column_number(c) for c in {c for c, _ in refs}), default=1)
    height = max((int(row) for _, row in refs), default=0)
    cells = chunk.count(b"<c ") + chunk.count(b"<c>")
    if cells != chunk.count(b' r="') - chunk.count(b"<row "):
        # some cells have no reference: bound them by their row's number and their rank
        rows = [int(r) for r in _ROW_NUMBER.findall(chunk)]
        height = max(height, max(rows, default=0) + chunk.count(b"<row") - len(rows))
        width = max(width, max(part.count(b"<c ") + part.count(b"<c>") for part in chunk.split(b"<row")))
    return width, height


def _ods_extent(chunks: Callable[[], Iterator[bytes]]) -> tuple[int, int]:
    """Width and height of the largest table of an OpenDocument spreadsheet, counting
    repeated rows and cells the way calamine expands them: only up to the last cell that
    holds a value (LibreOffice pads every sheet with huge repeats of empty cells and rows)."""
    width = height = row = col = 0
    repeat, valued_row, tail = 1, False, b""
    for block in chunks():
        data = tail + block
        cut = data.rfind(b">") + 1  # a tag cut by the chunk's end waits for the next chunk
        data, tail = data[:cut], data[cut:]
        for closing, kind, attrs, empty in _ODS_TAG.findall(data):
            if kind == b"table":
                row = 0 if not closing else row
            elif kind == b"table-row":
                if not closing:
                    found = _ODS_ROWS.search(attrs)
                    repeat, col, valued_row = (int(found[1]) if found else 1), 0, False
                if closing or empty:
                    if valued_row:
                        height = max(height, row + repeat)
                    row, valued_row = row + repeat, False
            elif not closing:
                found = _ODS_COLUMNS.search(attrs)
                col += int(found[1]) if found else 1
                if not empty or b"value-type" in attrs:
                    width, valued_row = max(width, col), True
    return width, height


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int = 8 * 2**20,
            overlap: int = 64) -> Iterator[bytes]:
    """The entry's bytes in chunks that overlap, so that no reference is cut in two."""
    tail = b""
    with archive.open(info) as handle:
        while block := handle.read(size):
            yield tail + block
            tail = block[-overlap:] if overlap else b""


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters.decode():
        number = number * 26 + ord(char) - 64
    return number


def atomic_target(path: Path) -> Path:
    """A temporary path beside `path`, so that os.replace is atomic."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
