"""reconcile.tables end to end: two workbooks read, reconciled, and the report workbook written."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from robocore.actions.excel import read_table, write_table
from robocore.actions.reconcile import tables
from robocore.context import Context
from tests.fixtures.workbooks import builders as b


def test_report_workbook(ctx: Context, tmp_path: Path) -> None:
    """The report has a summary and one styled sheet per category, with euros and no formula."""
    left, right = b.ledger_and_bank()
    left[3]["Numéro"] = "=FAC-004"  # data that looks like a formula stays text
    write_table(ctx, path=tmp_path / "gl.xlsx", rows=left)
    write_table(ctx, path=tmp_path / "rb.xlsx", rows=right)
    result = tables(ctx, left=read_table(ctx, path=tmp_path / "gl.xlsx", french_numbers=True),
                    right=read_table(ctx, path=tmp_path / "rb.xlsx"), left_key="Numéro",
                    right_key="Réf", compare={"Montant": "Crédit"}, output=Path("rapport.xlsx"))
    assert result["report"] == str(tmp_path / "rapport.xlsx")
    workbook = load_workbook(tmp_path / "rapport.xlsx")
    assert workbook.sheetnames == ["Synthèse", "Rapprochées", "Écarts", "Seulement Grand livre",
                                   "Seulement Relevé bancaire", "Doublons"]
    assert all(c.data_type != "f" for ws in workbook for row in ws.iter_rows() for c in row)
    summary = workbook["Synthèse"]
    assert [summary.cell(row=r, column=1).value for r in range(2, 4)] == ["Rapprochées", "Écarts"]
    assert summary["B2"].value == 2 and summary["C2"].value == 1100
    assert summary["C2"].number_format == '#,##0.00 "€"' and summary["C2"].alignment.horizontal == "right"
    assert any(c.value == "tolérance montants" for c in summary["A"])
    gaps = workbook["Écarts"]
    assert [c.value for c in gaps[2]] == ["FAC-002", 3, 3, "Montant", 50, 49, 1]
    assert gaps.freeze_panes == "A2" and gaps.auto_filter.ref and gaps["A1"].font.b
    only_left = workbook["Seulement Grand livre"]
    assert only_left["A2"].value == "=FAC-004" and only_left["A2"].data_type == "s"
    assert workbook["Doublons"].max_row == 3


def test_report_names_follow_sides(ctx: Context, tmp_path: Path) -> None:
    """Sheet titles use left_name and right_name; the matched list can be capped."""
    left = [{"K": i, "M": 1} for i in range(5)]
    tables(ctx, left=left, right=left, left_key="K", right_key="K", output=tmp_path / "r.xlsx",
           left_name="Chorus", right_name="Banque de France", matched_in_report=2)
    workbook = load_workbook(tmp_path / "r.xlsx")
    assert "Seulement Chorus" in workbook.sheetnames and workbook["Rapprochées"].max_row == 3


def test_a_side_given_as_a_workbook_takes_column_types(ctx: Context, tmp_path: Path) -> None:
    """Account codes kept as written on both sides (`columns: {Compte: text}`): "0612" meets "0612", never 612."""
    from openpyxl import Workbook

    for name, amount in (("gl.xlsx", "1 234,56"), ("rb.xlsx", "1 234,56")):
        wb = Workbook()
        wb.active.append(["Compte", "Montant"])
        wb.active.append(["0612", amount])
        wb.active.append([627000, "10,00"])
        wb.save(tmp_path / name)
    side = {"french_numbers": True, "columns": {"Compte": "text", "Montant": "number"}}
    result = tables(ctx, left={"path": tmp_path / "gl.xlsx", **side}, right={"path": tmp_path / "rb.xlsx", **side},
                    left_key="Compte", right_key="Compte", compare={"Montant": "Montant"},
                    output=tmp_path / "r.xlsx")
    assert result["counts"]["matched"] == 2
    assert sorted(str(m["key"]) for m in result["matched"]) == ["0612", "627000"]
