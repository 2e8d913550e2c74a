"""The `rapprochement-paiements` sample robot: its workbook against an independent computation."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import ROOT, robo_cmd

pytestmark = pytest.mark.e2e
FOLDER = ROOT / "robots" / "rapprochement-paiements"


def _amount(value: object) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return float(re.sub(r"[\s\u202f\u00a0€]", "", str(value)).replace(",", "."))


def _day(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def _rows(path: Path, sheet: str, header_row: int) -> list[tuple[str, date, float]]:
    ws = load_workbook(path, data_only=True)[sheet]
    out = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0] is None:
            continue
        out.append((" ".join(str(row[0]).split()).upper(), _day(row[1]), _amount(row[3])))
    return out


def expected_categories() -> dict[str, int]:
    """The reconciliation computed here, independently of robocore.tables."""
    left = _rows(FOLDER / "grand-livre.xlsx", "Grand livre", 1)
    right = _rows(FOLDER / "releve-bancaire.xlsx", "Relevé", 2)
    lc, rc = Counter(k for k, _, _ in left), Counter(k for k, _, _ in right)
    ldup = {k for k, n in lc.items() if n > 1}
    rdup = {k for k, n in rc.items() if n > 1}
    lmap = {k: (d, a) for k, d, a in left if k not in ldup}
    rmap = {k: (d, a) for k, d, a in right if k not in rdup}
    matched = mismatched = 0
    for key in lmap.keys() & rmap.keys():
        (ld, la), (rd, ra) = lmap[key], rmap[key]
        if abs(la - ra) <= 0.01 + 1e-9 and abs((ld - rd).days) <= 3:
            matched += 1
        else:
            mismatched += 1
    return {"matched": matched, "mismatched": mismatched,
            "only_left": len(lmap.keys() - rc.keys()), "only_right": len(rmap.keys() - lc.keys()),
            "duplicates_left": sum(lc[k] for k in ldup), "duplicates_right": sum(rc[k] for k in rdup)}


def test_reconciliation_workbook_matches_an_independent_computation(robo_home: Path) -> None:
    """Categories in rapprochement.xlsx equal an independent computation; sheets styled; no formula from data;
    ledger = matched lines × 1.5 min + 20 min."""
    env = dict(os.environ, ROBOCORE_ROBOTS=str(ROOT / "robots"))
    done = subprocess.run([*robo_cmd(), "run", "rapprochement-paiements", "-q"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [report] = list((robo_home / "runs").glob("*/rapprochement.xlsx"))
    want = expected_categories()
    assert want == {"matched": 113, "mismatched": 3, "only_left": 3, "only_right": 4, "duplicates_left": 0,
                    "duplicates_right": 2}
    wb = load_workbook(report)
    assert wb.sheetnames == ["Synthèse", "Rapprochées", "Écarts", "Seulement Grand livre",
                             "Seulement Relevé bancaire", "Doublons"]
    summary = {row[0]: row[1] for row in wb["Synthèse"].iter_rows(min_row=2, max_row=7, values_only=True)}
    assert summary == {"Rapprochées": want["matched"], "Écarts": want["mismatched"],
                       "Seulement Grand livre": want["only_left"], "Seulement Relevé bancaire": want["only_right"],
                       "Doublons Grand livre": want["duplicates_left"],
                       "Doublons Relevé bancaire": want["duplicates_right"]}
    assert wb["Rapprochées"].max_row - 1 == want["matched"]
    assert wb["Seulement Relevé bancaire"].max_row - 1 == want["only_right"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref, ws.title
        assert ws["A1"].font.bold, ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
    amounts = [c for c in wb["Écarts"]["E"][1:] if isinstance(c.value, (int, float))]
    assert amounts and all("€" in c.number_format and c.alignment.horizontal in (None, "right") for c in amounts)
    con = sqlite3.connect(robo_home / "robocore.db")
    assert con.execute("SELECT sum(minutes) FROM ledger").fetchone()[0] == pytest.approx(113 * 1.5 + 20)
    con.close()
    listing = subprocess.run([*robo_cmd(), "report", "--by", "robot"], env=env, capture_output=True, text=True)
    assert "3,16" in listing.stdout  # hours: 189.5 min
