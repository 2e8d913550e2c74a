"""excel.write_table and excel.append_rows: styled, atomic, never a formula."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from robocore.actions.excel import append_rows, read_table, write_table
from robocore.context import Context

HOSTILE = ["=1+1", "+33 6 12", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "\n=1", '=HYPERLINK("http://x")']


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path)


def _rows(n: int) -> list[dict]:
    return [{"Nom": HOSTILE[i % len(HOSTILE)], "Date": dt.date(2024, 1, 1 + i % 28),
             "Montant": 1234.5 + i, "Quantité": i, "_ligne": i + 2} for i in range(n)]


@pytest.mark.parametrize("n", [8, 5_001])
def test_no_formula_and_styles(ctx: Context, tmp_path: Path, n: int) -> None:
    """Formula-like text is stored as text (normal and write-only modes); header styled, frozen, filtered."""
    result = write_table(ctx, path=Path("out.xlsx"), rows=_rows(n))
    assert result["count"] == n and result["columns"] == ["Nom", "Date", "Montant", "Quantité"]
    ws = load_workbook(tmp_path / "out.xlsx")["Données"]
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    # written through lxml (a dependency), a lone CR is escaped and read back as it was
    assert [ws.cell(row=i + 2, column=1).value for i in range(8)] == HOSTILE
    header = ws["A1"]
    assert header.font.b and header.fill.fgColor.rgb.endswith("000091")
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:D{n + 1}"
    assert ws["B2"].number_format == "dd/mm/yyyy" and ws["C2"].number_format == '#,##0.00 "€"'
    assert ws["D2"].number_format == "General" and 8 <= ws.column_dimensions["A"].width <= 60


def test_round_trip(ctx: Context, tmp_path: Path) -> None:
    """What write_table writes, read_table reads back with the same values."""
    rows = [{"Nom": "Été", "Date": dt.date(2024, 2, 29), "Montant": 10.25}]
    write_table(ctx, path=tmp_path / "r.xlsx", rows=rows, sheet="Feuille")
    back = read_table(ctx, path=tmp_path / "r.xlsx")["rows"]
    assert back[0]["nom"] == "Été" and back[0]["Montant"] == 10.25
    assert back[0]["Date"] in (dt.date(2024, 2, 29), dt.datetime(2024, 2, 29))


def test_failure_writes_nothing(ctx: Context, tmp_path: Path) -> None:
    """A failure while writing leaves the previous file intact and no temporary file."""
    write_table(ctx, path=tmp_path / "a.xlsx", rows=[{"A": 1}])
    before = (tmp_path / "a.xlsx").read_bytes()
    with pytest.raises(ValueError):  # openpyxl cannot store the object
        write_table(ctx, path=tmp_path / "a.xlsx", rows=[{"A": object()}])
    assert (tmp_path / "a.xlsx").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]


def test_append_rows(ctx: Context, tmp_path: Path) -> None:
    """Appending matches existing headers leniently, adds new columns and stays formula-free."""
    target = tmp_path / "journal.xlsx"
    append_rows(ctx, path=target, rows=[{"Numéro": "A", "Montant": 1}])
    result = append_rows(ctx, path=target, rows=[{"numero": "=B", "Montant": 2, "Statut": "ok"}])
    assert result["columns"] == ["Numéro", "Montant", "Statut"]
    ws = load_workbook(target).active
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["Numéro", "Montant", "Statut"], ["A", 1, None], ["=B", 2, "ok"]]
    assert ws["A3"].data_type == "s"


def test_append_to_new_sheet(ctx: Context, tmp_path: Path) -> None:
    """Appending to a sheet that does not exist creates it with a header."""
    target = tmp_path / "j.xlsx"
    write_table(ctx, path=target, rows=[{"A": 1}])
    append_rows(ctx, path=target, rows=[{"B": 2}], sheet="Suite")
    assert [[c.value for c in r] for r in load_workbook(target)["Suite"].iter_rows()] == [["B"], [2]]
