"""Unit tests of robocore.tables values, rows and header detection."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re

import pytest

from robocore.tables.cells import french_text
from robocore.tables.coltypes import convert_column
from robocore.tables.csvfile import csv_cell
from robocore.tables.read import build_rows, detect_header
from robocore.tables.rows import Row, fold, unique_headers
from robocore.tables.values import (
    as_date,
    french_amount,
    french_or_text,
    normalise_key,
    parse_french_number,
    typed_cell,
    typed_column,
)
from robocore.tables.write import csv_safe, is_dangerous


@pytest.mark.parametrize("text,expected", [
    ("1 234,56", 1234.56), ("1\u00a0234,56 €", 1234.56), ("1\u202f234,56\u202f€", 1234.56),
    ("-12,5", -12.5), ("1.234,56", 1234.56), ("42", 42.0), ("\u22123,00 EUR", -3.0), ("+7", 7.0)])
def test_french_numbers_parse(text: str, expected: float) -> None:
    """French-written amounts (spaces, NBSP, narrow NBSP, euro sign, comma) become floats."""
    assert parse_french_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["FAC-001", "12,3,4", "1 23,5", "", "abc 12", "12/03/2024"])
def test_non_numbers_stay_text(text: str) -> None:
    """Text that is not a French number is not parsed."""
    assert parse_french_number(text) is None


def test_typed_column_is_typed_cell_per_cell() -> None:
    cells = ["", "  a b ", " ", "x", 3.0, 2.5, -0.0, 2.0**60, float("nan"), True, 7, None,
             dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 8, 30)]
    typed = typed_column(cells)
    expected = [typed_cell(c) for c in cells]
    assert [type(v) for v in typed] == [type(v) for v in expected]
    assert [repr(v) for v in typed] == [repr(v) for v in expected]


def test_typed_cell_tidies_calamine_values() -> None:
    """Empty text becomes None, integral floats int, text is trimmed, dates kept."""
    assert typed_cell("") is None and typed_cell("  a b ") == "a b"
    assert typed_cell(3.0) == 3 and isinstance(typed_cell(3.0), int) and typed_cell(2.5) == 2.5
    assert typed_cell(dt.date(2024, 1, 1)) == dt.date(2024, 1, 1)


def test_headers_normalised_and_unique() -> None:
    """Headers are trimmed and collapsed; empty ones get colonne_N, repeats a suffix."""
    assert unique_headers(["  Numéro ", "Date  de\tpièce", None, "Montant", "montant", ""]) == [
        "Numéro", "Date de pièce", "colonne_3", "Montant", "montant_2", "colonne_6"]


def test_row_lookup_is_lenient() -> None:
    """A row finds its values ignoring case, whitespace and accents; exact keys win."""
    row = Row({"Numéro": 1, "Date de pièce": 2, "_ligne": 7})
    assert row["Numéro"] == 1 and row["numero"] == 1 and row[" NUMÉRO "] == 1
    assert row["datedepiece"] == 2 and row.get("absent", "x") == "x" and "numero" in row
    assert row.line == 7
    with pytest.raises(KeyError):
        row["absent"]


def test_row_survives_json_and_pickle() -> None:
    """A row serialises like a dict and keeps lenient lookup after pickling."""
    row = Row({"Nom": "A", "_ligne": 3})
    assert json.loads(json.dumps(row)) == {"Nom": "A", "_ligne": 3}
    assert pickle.loads(pickle.dumps(row))["nom"] == "A"


def test_fold_removes_case_space_accents() -> None:
    """fold gives one lookup form for names written differently."""
    assert fold(" Réf. Opération ") == fold("ref.operation")


def test_detect_header_skips_title_and_group_labels() -> None:
    """The header is the first mostly-text line, not a title or merged group labels."""
    rows = [["Rapport 2024", "", "", ""], ["", "Identité", "", ""], ["", "", "", ""],
            ["Nom", "Prénom", "Âge", "Ville"], ["Dupont", "Jean", 40, "Albi"]]
    assert detect_header(rows) == 3


def test_build_rows_skips_empty_and_keeps_lines() -> None:
    """Empty rows are skipped and each row keeps its source line number."""
    raw = [["Nom", "Montant"], ["a", 1.0], ["", ""], ["b", "2,5"]]
    columns, rows = build_rows(raw, first_line=3, header_row=None, french_numbers=True, max_rows=None)
    assert columns == ["Nom", "Montant"]
    assert [(r["Nom"], r["Montant"], r.line) for r in rows] == [("a", 1, 4), ("b", 2.5, 6)]


def test_max_rows_limits_data_rows() -> None:
    """max_rows stops after that many data rows."""
    raw = [["A", "B"]] + [[i, i] for i in range(10)]
    assert len(build_rows(raw, 1, None, False, 3)[1]) == 3


def test_key_normalisation_and_pattern() -> None:
    """Keys are trimmed, collapsed and upper-cased; a pattern's first group extracts the key."""
    assert normalise_key("  fac   001 ") == "FAC 001" and normalise_key(12.0) == "12"
    pattern = re.compile(r"(FAC-\d+)", re.IGNORECASE)
    assert normalise_key("Virement fac-0042 client", pattern) == "FAC-0042"


def test_dates_from_text() -> None:
    """French and ISO date texts are understood for comparison."""
    assert as_date("05/03/2024") == dt.date(2024, 3, 5) == as_date("2024-03-05")


@pytest.mark.parametrize("text", ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx", "\nx"])
def test_formula_like_text_is_dangerous(text: str) -> None:
    """Text a spreadsheet would execute is flagged and neutralised for CSV."""
    assert is_dangerous(text) and csv_safe(text) == "'" + text


def test_max_rows_reads_past_a_window_of_empty_lines() -> None:
    """A preview (max_rows) types a window first, then the whole sheet when the window
    holds too few filled lines; lines and ragged rows stay right either way."""
    raw = [["Nom", "Montant"]] + [["", ""]] * 500 + [["a", 1.0], ["b"], ["c", 3.0, "x"]]
    columns, rows = build_rows(raw, first_line=1, header_row=None, french_numbers=False, max_rows=2)
    assert columns == ["Nom", "Montant"]
    assert [(r["Nom"], r["Montant"], r.line) for r in rows] == [("a", 1, 502), ("b", None, 503)]
    many = [["Nom", "Montant"]] + [[f"n{i}", float(i)] for i in range(1000)]
    assert [r.line for r in build_rows(many, 1, None, False, 3)[1]] == [2, 3, 4]


@pytest.mark.parametrize("text,expected", [
    ("1 234,56", 1234.56), ("1\u00a0234,56 €", 1234.56), ("1\u202f234,56\u202f€", 1234.56), ("-12,5", -12.5),
    ("1.234,56", 1234.56), ("1.234.567", 1234567.0), ("1 234", 1234.0), ("12 €", 12.0), ("\u22123,00 EUR", -3.0),
    ("12,5 %", 0.125), ("20 %", 0.2), ("0,5", 0.5), (" 1 234,56 ", 1234.56)])
def test_french_amount_converts_amounts(text: str, expected: float) -> None:
    """What french_numbers converts: a decimal comma, grouped thousands or a unit (a percentage is a fraction)."""
    assert french_amount(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["0612", "007", "627000", "-12", "+7", "42", "1 234.567", "1 234\u00a0567,5",
                                  "12,3,4", "1 23,5", "FAC-001", "12/03/2024", ""])
def test_french_amount_leaves_codes(text: str) -> None:
    """Digit-only text is a code (never converted), and so is anything that is not a French amount."""
    assert french_amount(text) is None and french_or_text(text) == text


def test_french_text_shows_cells_as_french_excel() -> None:
    """A cell as French Excel shows it in a General cell: integral numbers plain, decimal comma, dd/mm/yyyy."""
    assert [french_text(v) for v in (627000, 627000.0, 1234.5, 1e-05, True, None, "0612")] == [
        "627000", "627000", "1234,5", "0,00001", "VRAI", None, "0612"]
    assert french_text(dt.date(2026, 1, 5)) == "05/01/2026"
    assert french_text(dt.datetime(2026, 1, 5, 8, 30)) == "05/01/2026 08:30"


@pytest.mark.parametrize("kind,cells,expected,failed", [
    ("text", [627000, 12.5, "\t0612", None], ["627000", "12,5", "\t0612", None], []),
    ("number", ["1 234,56", "1234.56", "42", 7, "abc", True], [1234.56, 1234.56, 42, 7, "abc", True], [4, 5]),
    ("integer", ["42", 3.0, "2,5"], [42, 3, "2,5"], [2]),
    ("date", ["05/01/2026", "2026-01-05", dt.datetime(2026, 1, 5, 8), 46027, "32/01/2026"],
     [dt.date(2026, 1, 5)] * 4 + ["32/01/2026"], [4]),
    ("datetime", ["05/01/2026 08:30", dt.date(2026, 1, 5)],
     [dt.datetime(2026, 1, 5, 8, 30), dt.datetime(2026, 1, 5)], []),
    ("bool", ["oui", "Non", 1, 0, True, "x", "peut-être"], [True, False, True, False, True, True, "peut-être"], [6]),
])
def test_column_types_convert(kind: str, cells: list[object], expected: list[object], failed: list[int]) -> None:
    """Each explicit column type converts what it can and reports the cells it cannot, by index."""
    assert convert_column(list(cells), kind) == (expected, failed)


def test_csv_cells_are_french_and_neutralised() -> None:
    """CSV cells: numbers with a decimal comma (never escaped), formula-like text with a leading '."""
    assert [csv_cell(v) for v in (-12.5, 3, "=1+2", "-x", None, dt.date(2026, 1, 5))] == [
        "-12,5", "3", "'=1+2", "'-x", "", "05/01/2026"]
