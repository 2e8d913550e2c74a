"""Corpus test: the 80 real-world workbooks of calamine's bug reports, through excel.read_table."""

from __future__ import annotations

from pathlib import Path

import pytest

from robocore.actions.excel import read_table
from robocore.context import Context
from robocore.errors import BusinessError
from tests.conftest import need

CORPUS = Path(__file__).parents[2].parent / "shared" / "data" / "real-workbooks"
BROKEN = {"issue252.xlsx": "illisible", "pass_protected.xlsx": "mot de passe",
          "pass_protected.ods": "mot de passe", "issue_594_dos.ods": "démesurée"}
FILES = sorted(p.name for p in CORPUS.glob("*") if p.suffix in (".xlsx", ".ods")) if CORPUS.is_dir() else []


def _sheets(path: Path) -> list[str]:
    import python_calamine as pc

    with pc.CalamineWorkbook.from_path(str(path)) as workbook:
        return list(workbook.sheet_names)


@pytest.mark.parametrize("name", FILES or ["<none>"])
def test_corpus_file(name: str, tmp_path: Path) -> None:
    """Every valid workbook reads on every sheet; the broken ones give a clear BusinessError."""
    need(bool(FILES), f"corpus absent de {CORPUS} (shared/ à côté du dépôt)")
    ctx = Context(run_id="t", robot="t", robot_dir=CORPUS, run_dir=tmp_path)
    path = CORPUS / name
    if name in BROKEN:
        with pytest.raises(BusinessError, match=BROKEN[name]) as info:
            read_table(ctx, path=Path(name))
        assert name in str(info.value)
        return
    for sheet in _sheets(path):
        table = read_table(ctx, path=Path(name), sheet=sheet)
        assert table["count"] == len(table["rows"]) and table["sheet"] == sheet
        assert all(isinstance(c, str) and c for c in table["columns"])
