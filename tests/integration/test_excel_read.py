"""excel.read_table on messy workbooks and CSV files, as agents produce them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from robocore.actions.excel import read_table
from robocore.context import Context
from robocore.errors import BusinessError
from tests.conftest import need
from tests.fixtures.workbooks import builders

REAL = Path(__file__).parents[2].parent / "shared" / "data" / "real-workbooks"



def test_messy_ledger(ctx: Context, tmp_path: Path) -> None:
    """Title and merged labels are skipped; headers cleaned; cells typed; lines remembered."""
    builders.messy_ledger(tmp_path / "gl.xlsx")
    table = read_table(ctx, path=Path("gl.xlsx"), french_numbers=True)
    assert table["columns"] == ["Numéro", "Date de pièce", "Libellé", "Montant", "Montant_2"]
    assert table["count"] == 3 and table["sheet"] == "Grand livre"
    first, second, third = table["rows"]
    assert first["numero"] == "FAC-001" and first["Date de pièce"] == dt.date(2024, 1, 5)
    assert first["Libellé"] == "Fournitures" and first["Montant"] == 1234.56
    assert first["montant_2"] == 12 and isinstance(first["Montant_2"], int)
    assert second["Montant"] == -12.5 and second.line == 6 and first["_ligne"] == 4
    assert third["Montant"] == 1000.0 and third["Date de pièce"] == dt.datetime(2024, 1, 7, 10, 30)


def test_french_numbers_off_keeps_text(ctx: Context, tmp_path: Path) -> None:
    """Without french_numbers, amounts written as text stay text."""
    builders.messy_ledger(tmp_path / "gl.xlsx")
    assert read_table(ctx, path=tmp_path / "gl.xlsx")["rows"][0]["Montant"] == "1 234,56 €"


def test_sheet_by_name_position_and_header_row(ctx: Context, tmp_path: Path) -> None:
    """Sheets are chosen by name or 1-based position, as Excel users count; header_row is 1-based."""
    builders.messy_ledger(tmp_path / "gl.xlsx")
    assert read_table(ctx, path=tmp_path / "gl.xlsx", sheet=2)["sheet"] == "Notes"
    assert read_table(ctx, path=tmp_path / "gl.xlsx", sheet=1)["sheet"] == "Grand livre"
    assert read_table(ctx, path=tmp_path / "gl.xlsx", sheet="2")["sheet"] == "Notes"  # from a template
    table = read_table(ctx, path=tmp_path / "gl.xlsx", sheet="Grand livre", header_row=3, max_rows=1)
    assert table["count"] == 1 and table["columns"][0] == "Numéro"


def test_unknown_sheet_lists_available(ctx: Context, tmp_path: Path) -> None:
    """An unknown sheet is a BusinessError naming the available sheets."""
    builders.messy_ledger(tmp_path / "gl.xlsx")
    with pytest.raises(BusinessError, match="1: 'Grand livre', 2: 'Notes'"):
        read_table(ctx, path=tmp_path / "gl.xlsx", sheet="Factures")
    with pytest.raises(BusinessError, match="3.*1: 'Grand livre', 2: 'Notes'"):
        read_table(ctx, path=tmp_path / "gl.xlsx", sheet=3)


def test_missing_file(ctx: Context) -> None:
    """A missing file is a BusinessError naming it."""
    with pytest.raises(BusinessError, match="introuvable.*absent.xlsx"):
        read_table(ctx, path=Path("absent.xlsx"))


@pytest.mark.parametrize("delimiter,encoding", [(";", "cp1252"), (",", "utf-8-sig"), ("\t", "utf-8")])
def test_csv_sniffs_delimiter(ctx: Context, tmp_path: Path, delimiter: str, encoding: str) -> None:
    """CSV files are read with `;`, `,` or tab, in UTF-8 or Windows-1252."""
    lines = [["Numéro", "Montant"], ["A1", "1 234,56"], ["", ""], ["A2", "-3,5"]]
    text = "\r\n".join(delimiter.join(f'"{c}"' if "," in c else c for c in line) for line in lines)
    (tmp_path / "x.csv").write_bytes(text.encode(encoding))
    table = read_table(ctx, path=tmp_path / "x.csv", french_numbers=True)
    assert [(r["numéro"], r["Montant"], r.line) for r in table["rows"]] == [("A1", 1234.56, 2), ("A2", -3.5, 4)]


def test_libreoffice_ods(ctx: Context) -> None:
    """An .ods saved by LibreOffice is read by calamine."""
    need(REAL.is_dir(), "shared/data/real-workbooks absent à côté du dépôt")
    ctx.settings.allowed_dirs.append(REAL)  # outside the robot's folder: allowed as ROBOCORE_ALLOWED_DIRS does
    table = read_table(ctx, path=REAL / "date.ods")
    assert table["count"] == 3 and isinstance(table["rows"][0][table["columns"][0]], dt.datetime)


def test_sheet_starting_away_from_a1(ctx: Context, tmp_path: Path) -> None:
    """A used range starting at C5 keeps the sheet's line numbers; an empty sheet reads as no rows."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Décalée"
    sheet["C5"], sheet["D5"], sheet["C6"], sheet["D6"], sheet["D8"] = "Nom", "Montant", "a", 1.5, 2
    workbook.create_sheet("Vide")
    workbook.save(tmp_path / "offset.xlsx")
    table = read_table(ctx, path=tmp_path / "offset.xlsx")
    assert table["columns"] == ["Nom", "Montant"]
    assert [(r["nom"], r["Montant"], r.line) for r in table["rows"]] == [("a", 1.5, 6), (None, 2, 8)]
    assert read_table(ctx, path=tmp_path / "offset.xlsx", sheet="Vide")["rows"] == []
