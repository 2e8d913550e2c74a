"""excel.read_table reads data as written (codes stay codes, typed columns, trimming on demand),
excel.sheets lists sheets counted from 1, excel.write_table writes CSV for `.csv`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
import structlog
from openpyxl import Workbook, load_workbook

from robocore.actions.excel import append_rows, read_table, sheets, write_table
from robocore.context import Context
from robocore.errors import BusinessError
from robocore.i18n import gettext as _

TITLE = ["Grand livre 2026 — compte 627", "Exporté le 01/12/2026"]
HEADER = ["Compte", "Libellé", "Montant", "Date", "Code"]
LINES = [
    ["0612", "\tTabulé", "1 234,56", "05/01/2026", 627000],
    ["007", "Insécable\u00a0", "1 234,56 €", dt.datetime(2026, 1, 6), "627000"],
    ["627000", "Ligne\r\nsuite\n", "-12,5", "2026-01-07", 42],
]


def ledger(path: Path, extra: list[list[object]] | None = None) -> Path:
    """A workbook as labs receive them: a two-line title block, codes and amounts written as text,
    a number cell, texts led by a tab or ended by NBSP / CR LF, a hidden and a third sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Feuille1"
    for line in [[TITLE[0]], [TITLE[1]], HEADER, *LINES, *(extra or [])]:
        sheet.append(line)
    hidden = workbook.create_sheet("Paramètres")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "secret de fabrication"
    workbook.create_sheet("Notes")["A1"] = "notes"
    workbook.save(path)
    return path


def test_french_numbers_keep_codes_and_convert_amounts(ctx: Context, tmp_path: Path) -> None:
    """With french_numbers, "0612", "007", "627000" stay text; French amounts become numbers;
    a number cell stays a number."""
    ledger(tmp_path / "gl.xlsx")
    table = read_table(ctx, path=Path("gl.xlsx"), french_numbers=True)
    rows = table["rows"]
    assert [r["Compte"] for r in rows] == ["0612", "007", "627000"]
    assert [r["Montant"] for r in rows] == [1234.56, 1234.56, -12.5]
    assert rows[0]["Code"] == 627000 and isinstance(rows[0]["Code"], int) and rows[1]["Code"] == "627000"


def test_skipped_title_rows_are_counted_and_logged(ctx: Context, tmp_path: Path) -> None:
    """The title block above the header is counted in the result and logged with the header's line."""
    ledger(tmp_path / "gl.xlsx")
    with structlog.testing.capture_logs() as logs:
        table = read_table(ctx, path=Path("gl.xlsx"))
    assert table["skipped_rows"] == 2 and table["header_row"] == 3 and table["columns"] == HEADER
    assert [r.line for r in table["rows"]] == [4, 5, 6]
    event = next(e for e in logs if e["event"] == "excel.read_table")
    assert event["log_level"] == "info" and event["skipped_rows"] == 2 and event["header_row"] == 3
    plain = read_table(ctx, path=Path("gl.xlsx"), header_row=3)
    assert plain["skipped_rows"] == 2 and plain["count"] == 3


def test_strip_false_keeps_text_as_written(ctx: Context, tmp_path: Path) -> None:
    """strip (default) trims tab, CR, LF and NBSP around texts; strip: false keeps them."""
    ledger(tmp_path / "gl.xlsx")
    trimmed = [r["Libellé"] for r in read_table(ctx, path=Path("gl.xlsx"))["rows"]]
    assert trimmed == ["Tabulé", "Insécable", "Ligne\r\nsuite"]
    kept = [r["Libellé"] for r in read_table(ctx, path=Path("gl.xlsx"), strip=False)["rows"]]
    assert kept == ["\tTabulé", "Insécable\u00a0", "Ligne\r\nsuite\n"]


def test_columns_typed_explicitly(ctx: Context, tmp_path: Path) -> None:
    """`columns` types named columns: text keeps a number cell as written, number and date convert."""
    ledger(tmp_path / "gl.xlsx")
    table = read_table(ctx, path=Path("gl.xlsx"), french_numbers=True,
                       columns={"compte": "text", "Code": "text", "montant": "number", "DATE": "date"})
    rows = table["rows"]
    assert [r["Code"] for r in rows] == ["627000", "627000", "42"]
    assert [r["Compte"] for r in rows] == ["0612", "007", "627000"]
    assert [r["Montant"] for r in rows] == [1234.56, 1234.56, -12.5]
    assert [r["Date"] for r in rows] == [dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)]
    as_text = read_table(ctx, path=Path("gl.xlsx"), columns={"Date": "text", "Code": "integer"})["rows"]
    assert [r["Date"] for r in as_text] == ["05/01/2026", "06/01/2026", "2026-01-07"]
    assert [r["Code"] for r in as_text] == [627000, 627000, 42]


def test_cell_that_does_not_convert_is_named(ctx: Context, tmp_path: Path) -> None:
    """A cell that does not convert stops the read with an error naming it as Excel does."""
    ledger(tmp_path / "gl.xlsx", extra=[["9", "x", "abc", "32/01/2026", "n/a"]])
    with pytest.raises(BusinessError) as info:
        read_table(ctx, path=Path("gl.xlsx"), columns={"Montant": "number"})
    assert str(info.value) == _("{cell}: '{value}' is not {expected}", cell="Feuille1!C7", value="abc",
                                expected=_("a number"))
    with pytest.raises(BusinessError, match="Feuille1!D7"):
        read_table(ctx, path=Path("gl.xlsx"), columns={"Date": "date"})
    with pytest.raises(BusinessError, match="Feuille1!E4.*E5.*E7"):  # every failing cell is counted
        read_table(ctx, path=Path("gl.xlsx"), columns={"Code": "bool"})
    preview = read_table(ctx, path=Path("gl.xlsx"), columns={"Montant": "number"}, max_rows=3)
    assert preview["count"] == 3  # a preview does not fail on a line it does not return


def test_unknown_column_lists_the_columns(ctx: Context, tmp_path: Path) -> None:
    """A column name that is not in the header is an error listing the header's columns."""
    ledger(tmp_path / "gl.xlsx")
    with pytest.raises(BusinessError, match="'Solde'.*'Compte', 'Libellé', 'Montant', 'Date', 'Code'"):
        read_table(ctx, path=Path("gl.xlsx"), columns={"Solde": "number"})


def test_sheets_listed_with_positions_and_visibility(ctx: Context, tmp_path: Path) -> None:
    """excel.sheets lists every sheet, counted from 1, hidden ones marked."""
    ledger(tmp_path / "gl.xlsx")
    listed = sheets(ctx, path=Path("gl.xlsx"))
    assert listed["names"] == ["Feuille1", "Paramètres", "Notes"] and listed["count"] == 3
    assert [(s["position"], s["visible"], s["state"]) for s in listed["sheets"]] == [
        (1, True, "visible"), (2, False, "hidden"), (3, True, "visible")]
    (tmp_path / "x.csv").write_text("A;B\n1;2\n", encoding="utf-8")
    assert sheets(ctx, path=Path("x.csv"))["names"] == ["x"]


def test_sheets_go_through_the_guard(ctx: Context, tmp_path: Path) -> None:
    """excel.sheets refuses what excel.read_table refuses (here a file that is not a workbook)."""
    (tmp_path / "faux.xlsx").write_bytes(b"not a zip at all")
    with pytest.raises(BusinessError, match="faux.xlsx"):
        sheets(ctx, path=Path("faux.xlsx"))


def test_sheet_positions_count_from_one(ctx: Context, tmp_path: Path) -> None:
    """`sheet: 1` is the first sheet, `sheet: 3` the third; 0 is explained; a missing one listed."""
    ledger(tmp_path / "gl.xlsx")
    assert read_table(ctx, path=Path("gl.xlsx"), sheet=1)["sheet"] == "Feuille1"
    assert read_table(ctx, path=Path("gl.xlsx"), sheet=3)["sheet"] == "Notes"
    with pytest.raises(BusinessError) as info:
        read_table(ctx, path=Path("gl.xlsx"), sheet=0)
    assert str(info.value) == _("Sheet position {position} in {path}: positions start at 1, the first sheet "
                                "(sheets: {listed})", position=0, path=tmp_path / "gl.xlsx",
                                listed="1: 'Feuille1', 2: 'Paramètres', 3: 'Notes'")
    with pytest.raises(BusinessError, match="4.*1: 'Feuille1', 2: 'Paramètres', 3: 'Notes'"):
        read_table(ctx, path=Path("gl.xlsx"), sheet=4)


def _csv(path: Path) -> tuple[bytes, list[list[str]]]:
    data = path.read_bytes()
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_write_table_to_csv(ctx: Context, tmp_path: Path) -> None:
    """A .csv path gets a CSV for French Excel: BOM, `;`, CRLF, decimal commas, formulas neutralised."""
    rows = [{"Compte": "0612", "Montant": 1234.56, "Date": dt.date(2026, 1, 5), "Note": "=1+2"},
            {"Compte": "007", "Montant": -12, "Date": None, "Note": "a; b \"c\""}]
    result = write_table(ctx, path=Path("sortie.csv"), rows=rows)
    assert result["format"] == "csv" and result["count"] == 2 and result["sheet"] is None
    data, lines = _csv(tmp_path / "sortie.csv")
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and not data.startswith(b"PK")
    assert lines == [["Compte", "Montant", "Date", "Note"], ["0612", "1234,56", "05/01/2026", "'=1+2"],
                     ["007", "-12", "", 'a; b "c"']]


def test_append_rows_to_csv(ctx: Context, tmp_path: Path) -> None:
    """Appending to a CSV matches its header leniently; a new key widens the header."""
    write_table(ctx, path=Path("suivi.csv"), rows=[{"Numéro": "A", "Montant": 1.5}])
    append_rows(ctx, path=Path("suivi.csv"), rows=[{"numero": "B", "Montant": 2}])
    assert _csv(tmp_path / "suivi.csv")[1] == [["Numéro", "Montant"], ["A", "1,5"], ["B", "2"]]
    result = append_rows(ctx, path=Path("suivi.csv"), rows=[{"Numéro": "@C", "Statut": "ok"}])
    assert result["columns"] == ["Numéro", "Montant", "Statut"]
    assert _csv(tmp_path / "suivi.csv")[1] == [["Numéro", "Montant", "Statut"], ["A", "1,5"], ["B", "2"],
                                              ["'@C", "", "ok"]]
    back = read_table(ctx, path=Path("suivi.csv"), french_numbers=True)["rows"]
    assert [(r["Numéro"], r["Montant"]) for r in back] == [("A", 1.5), ("B", "2"), ("'@C", None)]  # "2": a code?
    typed = read_table(ctx, path=Path("suivi.csv"), columns={"Montant": "number"})["rows"]
    assert [r["Montant"] for r in typed] == [1.5, 2, None]


@pytest.mark.parametrize("name", ["sortie.txt", "sortie.xls", "sortie.ods", "sortie"])
def test_unknown_extension_refused(ctx: Context, tmp_path: Path, name: str) -> None:
    """Any extension but .xlsx, .xlsm and .csv is refused, listing the accepted ones; nothing is written."""
    with pytest.raises(BusinessError, match=r"\.xlsx, \.xlsm, \.csv"):
        write_table(ctx, path=Path(name), rows=[{"A": 1}])
    with pytest.raises(BusinessError, match=r"\.xlsx, \.xlsm, \.csv"):
        append_rows(ctx, path=Path(name), rows=[{"A": 1}])
    assert list(tmp_path.iterdir()) == []


def test_xlsm_written_as_macro_enabled(ctx: Context, tmp_path: Path) -> None:
    """An .xlsm is declared macro-enabled (Excel refuses an .xlsm that is not) and appends stay one."""
    write_table(ctx, path=Path("m.xlsm"), rows=[{"A": 1}])
    append_rows(ctx, path=Path("m.xlsm"), rows=[{"A": 2}])
    with zipfile.ZipFile(tmp_path / "m.xlsm") as archive:
        assert "macroEnabled" in archive.read("[Content_Types].xml").decode()
    written = load_workbook(tmp_path / "m.xlsm", keep_vba=True)
    assert [c.value for c in written.active["A"]] == ["A", 1, 2]
    written.vba_archive.close()
