"""Two workbooks read at once (tables.read.read_tables), and reconcile.tables given files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from robocore.actions.excel import read_table, write_table
from robocore.actions.reconcile import tables
from robocore.context import Context
from robocore.errors import BusinessError
from robocore.tables.read import Source, read_tables
from robocore.tables.read import read_table as read_one
from tests.fixtures.workbooks import builders as b


def _reader_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("robocore-read")]


def _pair(ctx: Context, folder: Path) -> tuple[Path, Path]:
    left, right = b.ledger_and_bank()
    write_table(ctx, path=folder / "gl.xlsx", rows=left)
    write_table(ctx, path=folder / "rb.xlsx", rows=right)
    return folder / "gl.xlsx", folder / "rb.xlsx"


def test_same_tables_as_one_by_one(ctx: Context, tmp_path: Path) -> None:
    """Each table equals what read_table gives for it alone, in the order asked, CSV included."""
    gl, rb = _pair(ctx, tmp_path)
    csv = tmp_path / "extra.csv"
    csv.write_text("Réf;Montant\nA-1;1 234,56\n", encoding="utf-8")
    sources = [Source(rb), Source(gl, french_numbers=True), Source(csv, french_numbers=True)]
    together = read_tables(sources)
    alone = [read_one(s.path, s.sheet, s.header_row, s.french_numbers) for s in sources]
    assert together == alone
    assert [t["path"] for t in together] == [str(rb), str(gl), str(csv)]
    assert together[2]["rows"][0]["Montant"] == 1234.56
    assert _reader_threads() == []


def test_a_refused_file_is_named_and_no_reader_is_left(ctx: Context, tmp_path: Path) -> None:
    """A hostile second file: its own error, after the first file's parse has ended."""
    gl, _ = _pair(ctx, tmp_path)
    broken = tmp_path / "tronque.xlsx"
    broken.write_bytes(gl.read_bytes()[:300])
    with pytest.raises(BusinessError, match="tronque.xlsx"):
        read_tables([Source(gl), Source(broken)])
    with pytest.raises(BusinessError, match="Feuille 'Absente' introuvable"):
        read_tables([Source(gl, sheet="Absente"), Source(gl)])
    assert _reader_threads() == []


def test_reconcile_given_files_equals_given_tables(ctx: Context, tmp_path: Path) -> None:
    """Paths (plain or with read options) give the same result as two read_table steps."""
    gl, rb = _pair(ctx, tmp_path)
    keys = {"left_key": "Numéro", "right_key": "Réf", "compare": {"Montant": "Crédit"}}
    from_tables = tables(ctx, left=read_table(ctx, path=gl, french_numbers=True),
                         right=read_table(ctx, path=rb), **keys)
    from_files = tables(ctx, left={"path": "gl.xlsx", "french_numbers": True}, right=Path("rb.xlsx"),
                        output=Path("r.xlsx"), **keys)
    for category in ("matched", "mismatched", "only_left", "only_right", "duplicates_right", "counts"):
        assert from_files[category] == from_tables[category]
    assert Path(from_files["report"]).is_file()


@pytest.mark.parametrize(("side", "expected"), [
    ({"path": "gl.xlsx", "feuille": "A"}, "'left.feuille' : clé inconnue"),
    ({"path": "gl.xlsx", "french_numbers": "peut-être"}, "'left.french_numbers'"),
])
def test_a_badly_described_workbook_is_refused_by_name(ctx: Context, tmp_path: Path,
                                                       side: dict[str, object], expected: str) -> None:
    _pair(ctx, tmp_path)
    with pytest.raises(BusinessError, match="Classeur du côté gauche mal décrit") as caught:
        tables(ctx, left=side, right=Path("rb.xlsx"), left_key="Numéro", right_key="Réf")
    assert expected in str(caught.value)
