"""Hostile workbooks: each refused (or read) in bounded memory, naming the file.

No timing asserts (shared, noisy machines): the checks never inflate the hostile part.
"""

from __future__ import annotations

import resource
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from robocore.actions.excel import append_rows, read_table
from robocore.context import Context, RunSettings
from robocore.errors import BusinessError
from tests.fixtures.workbooks import builders as b


def _refused(ctx: Context, path: Path, match: str) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(BusinessError, match=match) as info:
        read_table(ctx, path=path)
    assert str(path) in str(info.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200_000  # KiB


def _tiny_workbook(path: Path) -> None:
    workbook = Workbook()
    workbook.active.append(["a", "b"])
    workbook.save(path)


def test_not_a_zip(ctx: Context, tmp_path: Path) -> None:
    """A text file named .xlsx is refused as unreadable."""
    (tmp_path / "x.xlsx").write_text("ceci n'est pas un classeur")
    _refused(ctx, tmp_path / "x.xlsx", "Classeur illisible \\(fichier tronqué ou non-zip\\)")


def test_truncated(ctx: Context, tmp_path: Path) -> None:
    """A workbook cut in half is refused as unreadable."""
    workbook = Workbook()
    for i in range(2000):
        workbook.active.append([f"ligne {i}", i])
    workbook.save(tmp_path / "full.xlsx")
    data = (tmp_path / "full.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    _refused(ctx, tmp_path / "cut.xlsx", "illisible")


def test_zip_bomb(ctx: Context, tmp_path: Path) -> None:
    """A small file whose sheet inflates 1000-fold is refused before reading."""
    sheet = f'<worksheet {b.NS}><sheetData/>' + " " * (200 * 2**20) + "</worksheet>"
    b.raw_xlsx(tmp_path / "bomb.xlsx", sheet)
    assert (tmp_path / "bomb.xlsx").stat().st_size < 1_000_000
    _refused(ctx, tmp_path / "bomb.xlsx", "bombe zip")


def test_declared_size_limit_is_configurable(tmp_path: Path) -> None:
    """The uncompressed-size limit comes from the run settings."""
    workbook = Workbook()
    workbook.active.append(["a", "b"])
    workbook.save(tmp_path / "ok.xlsx")
    ctx = Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path,
                  settings=RunSettings(extra={"excel_max_uncompressed_mb": 0}))
    _refused(ctx, tmp_path / "ok.xlsx", "trop volumineux")


def test_billion_laughs(ctx: Context, tmp_path: Path) -> None:
    """Entity expansion is refused by calamine, and openpyxl (defusedxml) refuses it too."""
    sheet = ('<?xml version="1.0"?>' + b.LAUGHS + f'<worksheet {b.NS}><sheetData><row r="1">'
             + b.text_cell("A1", "&lol9;") + b.text_cell("B1", "b") + "</row></sheetData></worksheet>")
    b.raw_xlsx(tmp_path / "lol.xlsx", sheet)
    _refused(ctx, tmp_path / "lol.xlsx", "illisible")
    with pytest.raises(BusinessError, match="illisible") as info:
        append_rows(ctx, path=tmp_path / "lol.xlsx", rows=[{"a": 1}])
    causes, error = [], info.value.__cause__
    while error is not None:
        causes.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    assert "EntitiesForbidden" in causes


def test_sparse_far_cell(ctx: Context, tmp_path: Path) -> None:
    """Two cells a million rows apart would make a gigabyte grid: refused from the references."""
    sheet = (f'<worksheet {b.NS}><sheetData><row r="1">{b.text_cell("A1", "x")}</row>'
             '<row r="1000000"><c r="Z1000000"><v>1</v></c></row></sheetData></worksheet>')
    b.raw_xlsx(tmp_path / "sparse.xlsx", sheet)
    _refused(ctx, tmp_path / "sparse.xlsx", "Feuille démesurée")


def test_one_wide_cell_and_one_long_row(ctx: Context, tmp_path: Path) -> None:
    """A cell in column ZZZ and another in row 99,999 make a 1.8-billion-cell grid: refused,
    even when the long one hides in a row element numbered 1."""
    sheet = (f'<worksheet {b.NS}><sheetData><row r="1"><c r="ZZZ1"><v>1</v></c>'
             '<c r="A99999"><v>2</v></c></row></sheetData></worksheet>')
    b.raw_xlsx(tmp_path / "wide.xlsx", sheet)
    _refused(ctx, tmp_path / "wide.xlsx", "Feuille démesurée")


def test_cells_without_references(ctx: Context, tmp_path: Path) -> None:
    """Cells without `r` are placed one after the other: 20,000 of them in a row, 600 rows down."""
    sheet = (f'<worksheet {b.NS}><sheetData><row r="1">' + "<c><v>1</v></c>" * 20_000
             + '</row><row r="600"><c><v>1</v></c></row></sheetData></worksheet>')
    b.raw_xlsx(tmp_path / "norefs.xlsx", sheet)
    _refused(ctx, tmp_path / "norefs.xlsx", "Feuille démesurée")


def test_reference_after_other_attributes_is_read(ctx: Context, tmp_path: Path) -> None:
    """A writer that puts `r` after the style is measured exactly, and read normally."""
    sheet = (f'<worksheet {b.NS}><sheetData><row r="1">' + b.text_cell("A1", "Nom")
             + b.text_cell("B1", "Montant") + '</row><row r="2"><c s="0" r="A2" t="inlineStr">'
             '<is><t>a</t></is></c><c s="0" r="B2"><v>4</v></c></row></sheetData></worksheet>')
    b.raw_xlsx(tmp_path / "order.xlsx", sheet)
    table = read_table(ctx, path=tmp_path / "order.xlsx")
    assert table["count"] == 1 and table["rows"][0]["Montant"] == 4


def test_opendocument_repeat_bomb(ctx: Context, tmp_path: Path) -> None:
    """A 1 KB .ods whose one value cell is repeated 16,000 × 2,000 times (calamine would expand
    32 million cells, 3 GB): refused from the repeat attributes."""
    rows = f'<table:table-row table:number-rows-repeated="2000">{b.ods_cell("1", 16_000)}</table:table-row>'
    b.raw_ods(tmp_path / "bomb.ods", rows)
    _refused(ctx, tmp_path / "bomb.ods", "Feuille démesurée")


def test_opendocument_padded_with_empty_repeats_is_read(ctx: Context, tmp_path: Path) -> None:
    """LibreOffice pads sheets with huge repeats of empty cells and rows: they cost nothing."""
    empty_cells = '<table:table-cell table:number-columns-repeated="1020"/>'
    rows = (f"<table:table-row>{b.ods_cell('Nom')}{b.ods_cell('Montant')}{empty_cells}</table:table-row>"
            f"<table:table-row>{b.ods_cell('a')}<table:table-cell office:value-type=\"float\" "
            f'office:value="3"/>{empty_cells}</table:table-row>'
            f'<table:table-row table:number-rows-repeated="1048574">{empty_cells}</table:table-row>')
    b.raw_ods(tmp_path / "padded.ods", rows)
    table = read_table(ctx, path=tmp_path / "padded.ods")
    assert table["count"] == 1 and table["rows"][0]["montant"] == 3


def test_binary_workbook_refused_before_reading(ctx: Context, tmp_path: Path) -> None:
    """An .xlsb is refused with a way out (save as .xlsx), whatever it holds."""
    _tiny_workbook(tmp_path / "classeur.xlsb")
    _refused(ctx, tmp_path / "classeur.xlsb", "enregistrez le classeur au format .xlsx")
    with zipfile.ZipFile(tmp_path / "deguise.dat", "w") as archive:  # binary sheets under another name
        archive.writestr("xl/worksheets/sheet1.bin", b"\x00" * 16)
    _refused(ctx, tmp_path / "deguise.dat", "enregistrez le classeur au format .xlsx")


def test_legacy_xls_far_cell(ctx: Context, tmp_path: Path) -> None:
    """A 5.6 KB .xls with cells at A1 and IV65536 (1.2 GB once calamine expands it, measured):
    refused from its cell records."""
    import xlwt

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Feuil1")
    sheet.write(0, 0, "a")
    sheet.write(65_535, 255, 1.0)
    workbook.save(str(tmp_path / "loin.xls"))
    _refused(ctx, tmp_path / "loin.xls", "Feuille démesurée")


def test_legacy_xls_is_read_and_measured_as_calamine_does(ctx: Context, tmp_path: Path) -> None:
    """A normal .xls reads; its measured extent is the one calamine finds, blank cells aside."""
    import datetime as dt

    import python_calamine as pc
    import xlwt

    from robocore.tables.guard_xls import xls_extent

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Demandes")
    for col, name in enumerate(["Numéro", "Montant", "Date"]):
        sheet.write(0, col, name)
    day = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for row in range(1, 301):
        sheet.write(row, 0, f"D-{row:03d}")
        sheet.write(row, 1, row * 1.5)
        sheet.write(row, 2, dt.date(2026, 1, 1) + dt.timedelta(days=row % 28), day)
    sheet.write(400, 9, None, xlwt.easyxf("pattern: pattern solid"))  # formatted, no content
    workbook.add_sheet("Vide")
    workbook.save(str(tmp_path / "demandes.xls"))
    assert xls_extent(tmp_path / "demandes.xls") == (3, 301)
    data = pc.CalamineWorkbook.from_path(str(tmp_path / "demandes.xls")).get_sheet_by_name("Demandes")
    assert (data.width, data.height) == (3, 301)
    table = read_table(ctx, path=tmp_path / "demandes.xls", sheet="Demandes")
    assert table["count"] == 300 and table["rows"][-1]["Montant"] == 450
    assert table["rows"][0]["Date"] == dt.date(2026, 1, 2)


def test_damaged_ole_container(ctx: Context, tmp_path: Path) -> None:
    """An .xls that starts like an OLE file but is garbage is refused as unreadable."""
    (tmp_path / "abime.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    _refused(ctx, tmp_path / "abime.xls", "illisible")


def test_lower_cell_limit_is_measured_exactly(tmp_path: Path) -> None:
    """A run may lower the cell limit below what the fast scan vouches for (Z99999): then
    every sheet is measured exactly."""
    sheet = (f'<worksheet {b.NS}><sheetData><row r="1">{b.text_cell("A1", "x")}</row>'
             '<row r="50000"><c r="Z50000"><v>1</v></c></row></sheetData></worksheet>')
    b.raw_xlsx(tmp_path / "moyen.xlsx", sheet)
    strict = Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path,
                     settings=RunSettings(extra={"excel_max_cells": 1_000_000}))
    with pytest.raises(BusinessError, match="Feuille démesurée"):
        read_table(strict, path=tmp_path / "moyen.xlsx")


def test_million_formatted_empty_rows(ctx: Context, tmp_path: Path) -> None:
    """A sheet formatted down to row 1,048,576 reads its few data rows quickly."""
    empty = "".join(f'<row r="{i}" spans="1:5" s="1" customFormat="1"/>' for i in range(3, 1_048_577))
    sheet = (f'<worksheet {b.NS}><dimension ref="A1:E1048576"/><sheetData><row r="1">'
             + b.text_cell("A1", "Nom") + b.text_cell("B1", "Montant") + '</row><row r="2">'
             + b.text_cell("A2", "a") + '<c r="B2"><v>3</v></c></row>' + empty + "</sheetData></worksheet>")
    b.raw_xlsx(tmp_path / "fmt.xlsx", sheet)
    table = read_table(ctx, path=tmp_path / "fmt.xlsx")
    assert table["count"] == 1 and table["rows"][0]["montant"] == 3


def test_corrupt_zip_entry(ctx: Context, tmp_path: Path) -> None:
    """A zip whose sheet entry is damaged is refused as unreadable."""
    _tiny_workbook(tmp_path / "w.xlsx")
    with zipfile.ZipFile(tmp_path / "w.xlsx") as archive:
        offset = archive.getinfo("xl/worksheets/sheet1.xml").header_offset
    data = bytearray((tmp_path / "w.xlsx").read_bytes())
    data[offset + 60: offset + 90] = b"\x00" * 30
    (tmp_path / "w.xlsx").write_bytes(bytes(data))
    _refused(ctx, tmp_path / "w.xlsx", "illisible")


def test_refusals_speak_one_language_naming_the_file(tmp_path: Path) -> None:
    """A truncated workbook, or a missing one, is refused in French by default and in English when the run's
    language is English, naming the file: one language at a time, never both glued together."""
    from robocore.i18n import use_language
    from robocore.tables import read, sheets

    workbook = Workbook()
    for i in range(2000):
        workbook.active.append([f"ligne {i}", i])
    workbook.save(tmp_path / "full.xlsx")
    data = (tmp_path / "full.xlsx").read_bytes()
    cut, missing = tmp_path / "coupé.xlsx", tmp_path / "absent.xlsx"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BusinessError) as french:
        read.read_table(cut)
    assert str(french.value) == f"Classeur illisible (fichier tronqué ou non-zip) : {cut}"
    with pytest.raises(BusinessError) as absent:
        sheets.list_sheets(missing)
    assert str(absent.value) == f"Fichier introuvable : {missing}"
    with use_language("en"):
        with pytest.raises(BusinessError) as english:
            read.read_table(cut)
        with pytest.raises(BusinessError) as absent_en:
            sheets.list_sheets(missing)
    assert str(english.value) == f"Unreadable workbook (truncated or not a zip): {cut}"
    assert str(absent_en.value) == f"File not found: {missing}"
