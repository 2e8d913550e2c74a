"""Unit tests of the reconciliation join (robocore.tables.reconcile via reconcile.tables)."""

from __future__ import annotations

import pytest

from robocore.actions.reconcile import tables
from robocore.context import Context
from robocore.errors import BusinessError
from tests.fixtures.workbooks import builders


def _run(ctx: Context, **kw):  # type: ignore[no-untyped-def]
    left, right = builders.ledger_and_bank()
    params = dict(left=left, right=right, left_key="Numéro", right_key="réf",
                  compare={"Montant": "Crédit"})
    params.update(kw)
    return tables(ctx, **params)


def test_categories(ctx: Context) -> None:
    """Rows land in matched, mismatched, only_left, only_right and duplicates."""
    result = _run(ctx)
    assert {e["key"] for e in result["matched"]} == {"FAC-001", "FAC-003"}
    assert [e["key"] for e in result["mismatched"]] == ["FAC-002"]
    assert [e["key"] for e in result["only_left"]] == ["FAC-004"]
    assert [e["key"] for e in result["only_right"]] == ["FAC-006"]
    assert [e["line"] for e in result["duplicates_left"]] == [6, 7]
    assert result["duplicates_right"] == [] and result["ok"] is False
    assert result["counts"]["left"] == 6 and result["counts"]["matched"] == 2


def test_difference_names_both_values(ctx: Context) -> None:
    """A mismatch lists the field, both values and left minus right."""
    diff = _run(ctx)["mismatched"][0]["differences"][0]
    assert diff == {"field": "Montant", "right_field": "Crédit", "left": 50.0, "right": 49.0,
                    "difference": 1.0}


def test_amount_tolerance(ctx: Context) -> None:
    """A gap within the tolerance counts as equal."""
    assert _run(ctx, tolerance=1.0)["counts"]["mismatched"] == 0


def test_date_tolerance(ctx: Context) -> None:
    """Dates one day apart differ unless date_tolerance_days allows it."""
    strict = _run(ctx, compare={"Date": "Date valeur"})
    assert [e["key"] for e in strict["mismatched"]] == ["FAC-001"]
    assert strict["mismatched"][0]["differences"][0]["difference"] == -1
    assert _run(ctx, compare={"Date": "Date valeur"}, date_tolerance_days=1)["counts"]["mismatched"] == 0


def test_totals_per_category(ctx: Context) -> None:
    """Totals sum the compared amounts per category and side, French text included."""
    totals = _run(ctx)["totals"]
    assert totals["matched"]["Montant"] == {"left": 1100.0, "right": 1100.0, "difference": 0.0}
    assert totals["only_right"]["Montant"] == {"right": 7.0}


def test_key_pattern_and_composite_keys(ctx: Context) -> None:
    """A key pattern extracts the key from free text; several columns make one key."""
    left = [{"Libellé": "Virement FAC-1 janvier", "Montant": 1}]
    right = [{"Réf": "fac-1", "Montant": 1}]
    result = tables(ctx, left=left, right=right, left_key="Libellé", right_key="Réf",
                    key_pattern=r"(FAC-\d+)")
    assert result["counts"]["matched"] == 1
    left = [{"A": "x", "B": 1, "M": 2}]
    right = [{"A": "X ", "B": 1.0, "M": 2}]
    assert tables(ctx, left=left, right=right, left_key=["A", "B"], right_key=["a", "b"])["ok"]


def test_accepts_read_table_output(ctx: Context) -> None:
    """Both sides may be read_table results; compare defaults to the shared columns."""
    left = {"rows": [{"K": 1, "V": 2}], "columns": ["K", "V"]}
    right = {"rows": [{"k": 1, "v": 3}], "columns": ["k", "v"]}
    result = tables(ctx, left=left, right=right, left_key="K", right_key="k")
    assert result["mismatched"][0]["differences"][0]["difference"] == -1


def test_unknown_column_is_business_error(ctx: Context) -> None:
    """A key column missing from a side is a BusinessError listing the columns."""
    with pytest.raises(BusinessError, match="Colonne 'Numero X' absente.*Numéro"):
        _run(ctx, left_key="Numero X")


def test_linear_time_on_many_rows(ctx: Context) -> None:
    """Twenty thousand rows per side reconcile through one dict join (no quadratic step)."""
    left = [{"K": f"K{i}", "M": i} for i in range(20_000)]
    right = [{"K": f"k{i}", "M": i + (i % 100 == 0)} for i in range(20_000)]
    result = tables(ctx, left=left, right=right, left_key="K", right_key="K")
    assert result["counts"]["mismatched"] == 200 and result["counts"]["matched"] == 19_800


def test_keys_with_inner_whitespace_and_missing_columns(ctx: Context) -> None:
    """Tabs and runs of spaces inside keys are collapsed; rows lacking a compared column
    are compared field by field (missing counts as empty), in the left side's order."""
    left = [{"ref": "ab  12", "m": 1.0}, {"ref": "zz 9", "m": 2.0}, {"ref": "cd 3"},
            {"ref": 7.0, "m": 4}]
    right = [{"ref": "AB\t12 ", "m": 1.0}, {"ref": " CD 3", "m": 3.0}, {"ref": "zz 9", "m": 2.0},
             {"ref": "7", "m": 4.0}]
    result = tables(ctx, left=left, right=right, left_key="ref", right_key="ref", compare=["m"])
    assert [e["key"] for e in result["matched"]] == ["AB 12", "ZZ 9", "7"]
    assert [e["key"] for e in result["mismatched"]] == ["CD 3"]
    assert result["mismatched"][0]["differences"][0]["left"] is None
    assert result["counts"]["only_left"] == result["counts"]["only_right"] == 0


def test_text_keys_with_unusual_whitespace_are_normalised(ctx: Context) -> None:
    """All-text keys take the fast path, unless one holds a no-break space, a tab or a run
    of spaces: then every key is normalised the slow way, with the same result."""
    left = [{"ref": "ab\u00a012", "m": 1.0}, {"ref": " zz 9 ", "m": 2.0}, {"ref": "é\u202f3", "m": 3.0}]
    right = [{"ref": "AB 12", "m": 1.0}, {"ref": "ZZ\t9", "m": 2.0}, {"ref": "É  3", "m": 3.0}]
    result = tables(ctx, left=left, right=right, left_key="ref", right_key="ref", compare=["m"])
    assert [e["key"] for e in result["matched"]] == ["AB 12", "ZZ 9", "É 3"]
    plain = tables(ctx, left=left[1:2], right=[{"ref": "zz 9", "m": 2.0}], left_key="ref",
                   right_key="ref", compare=["m"])
    assert [e["key"] for e in plain["matched"]] == ["ZZ 9"]
