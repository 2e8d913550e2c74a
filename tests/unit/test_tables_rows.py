"""Unit tests of robocore.tables.rows.Rows: rows kept as plain dicts, handed out as Rows."""

from __future__ import annotations

import copy
import gc
import json
import pickle

from robocore.actions.reconcile import tables
from robocore.context import Context
from robocore.tables.read import build_rows
from robocore.tables.rows import Row, Rows, stored


def _rows(count: int = 3) -> Rows:
    raw = [("Numéro", "Montant")] + [(f"A{i}", float(i)) for i in range(count)]
    return build_rows(raw, first_line=1, header_row=None, french_numbers=False, max_rows=None)[1]


def test_read_rows_are_plain_dicts_the_collector_leaves_alone() -> None:
    """A read stores plain dicts of cell values: the cyclic collector does not track them."""
    rows = _rows(1000)
    kept = stored(rows)
    assert {type(r) for r in kept} == {dict}
    assert not any(gc.is_tracked(r) for r in kept)
    assert kept[5] == {"Numéro": "A5", "Montant": 5, "_ligne": 7}


def test_rows_are_handed_out_as_rows_once() -> None:
    """Python code gets a Row (lenient lookup, line); the same one at every access, changes kept."""
    rows = _rows()
    first = rows[0]
    assert isinstance(first, Row) and first["numero"] == "A0" and first.line == 2
    assert rows[0] is first and next(iter(rows)) is first and rows[:2][0] is first
    first["Statut"] = "vu"
    assert rows[0]["statut"] == "vu" and stored(rows)[0] is first
    assert [r.line for r in rows] == [2, 3, 4] and [r.line for r in reversed(rows)] == [4, 3, 2]
    assert all(isinstance(r, Row) for r in rows[::2] + [{"x": 1}])
    assert isinstance(rows[-1], Row) and rows[-1]["montant"] == 2


def test_rows_list_operations_hand_out_rows() -> None:
    """Copies, sorting, pop and concatenation keep handing out Rows."""
    rows = _rows()
    rows.sort(key=lambda r: -r["montant"])
    assert [r.line for r in rows] == [4, 3, 2]
    assert isinstance(rows.copy(), Rows) and rows.copy()[0] is rows[0]
    both = [{"Numéro": "Z"}] + rows
    assert isinstance(both, Rows) and both[0]["numero"] == "Z" and len(rows * 2) == 6
    assert rows.pop().line == 2 and len(rows) == 2


def test_rows_compare_and_serialise_like_lists_of_dicts() -> None:
    """==, json, pickle and deepcopy see the same keys and values, handed out or not."""
    rows = _rows(2)
    plain = [{"Numéro": "A0", "Montant": 0, "_ligne": 2}, {"Numéro": "A1", "Montant": 1, "_ligne": 3}]
    assert rows == plain and json.loads(json.dumps(rows)) == plain
    assert rows[0]["numero"] == "A0"  # one row handed out, the other still a plain dict
    assert rows == plain and json.loads(json.dumps(rows)) == plain
    for clone in (pickle.loads(pickle.dumps(rows)), copy.deepcopy(rows)):
        assert isinstance(clone, Rows) and clone == plain and clone[1]["numero"] == "A1"


def test_reconcile_entries_hand_out_rows(ctx: Context) -> None:
    """Entries keep their rows as stored (untracked) until read; then the rows are Rows."""
    left = {"rows": _rows(), "columns": ["Numéro", "Montant"]}
    right = {"rows": _rows(), "columns": ["Numéro", "Montant"]}
    result = tables(ctx, left=left, right=right, left_key="Numéro", right_key="numero")
    assert result["counts"]["matched"] == 3
    assert not gc.is_tracked(stored(result["matched"])[0]["left"])
    entry = result["matched"][0]
    assert entry["left"]["montant"] == 0 and entry["right"].line == 2
    assert result["matched"][0] is entry and stored(result["matched"])[0]["left"] is entry["left"]
