"""The rapprochement-paiements robot on its sample workbooks, through the `robocore.testing` fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

ROBOT = Path(__file__).resolve().parents[1]


def test_reconciles_the_samples_and_counts_one_item_per_matched_line(run_robot) -> None:
    run = run_robot(ROBOT)

    assert run.ok, run.error
    counts = run.outputs["rapprochement"]["counts"]
    assert counts["matched"] > 0 and counts["mismatched"] > 0 and counts["only_left"] > 0
    assert run.count("done") == counts["matched"]
    # 1.5 min per line ticked off, 20 min for the run
    assert run.minutes_saved == pytest.approx(counts["matched"] * 1.5 + 20)
    report = run.run_dir / "rapprochement.xlsx"
    sheets = load_workbook(report, read_only=True).sheetnames
    assert sheets[0] == "Synthèse" and "Écarts" in sheets


def test_a_result_name_with_a_folder_is_refused_before_anything_is_written(run_robot) -> None:
    run = run_robot(ROBOT, inputs={"resultat": "../ailleurs.xlsx"})

    assert not run.ok
    assert "refusé" in (run.error or "")
    assert run.items == [] and run.minutes_saved == 0
