"""The `saisie-demandes` sample robot against the demo portal, in real Chromium, via the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from robocore.demo import DEFAULT_PASSWORD, DEFAULT_USERNAME, PortalConfig, count_demandes, list_demandes, run_portal
from tests.conftest import ROOT, robo_cmd

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
WORKBOOK = ROOT / "robots" / "saisie-demandes" / "demandes.xlsx"


def _expected() -> dict[str, dict[str, object]]:
    """The workbook read independently with openpyxl: reference → values (valid rows only)."""
    ws = load_workbook(WORKBOOK, data_only=True)["Demandes"]
    out = {}
    for row in ws.iter_rows(min_row=4, values_only=True):
        if not row[0]:
            continue
        amount = row[4] if isinstance(row[4], (int, float)) else float(
            str(row[4]).replace("\u202f", "").replace(" ", "").replace(",", "."))
        if amount <= 0:
            continue
        day = row[3].date() if isinstance(row[3], datetime) else row[3]
        out[str(row[0]).strip()] = {"nom": row[1], "type": row[2], "date": day, "montant": round(amount, 2),
                                    "priorite": row[5], "commentaire": row[6] or ""}
    return out


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A demo portal that shuffles its field ids and order on every load."""
    config = PortalConfig(data_dir=tmp_path / "portail", shuffle=True)
    with run_portal(config) as url:
        yield url, config.database


@pytest.fixture
def env(robo_home: Path) -> dict[str, str]:
    return dict(os.environ, ROBOCORE_SECRET_COMPTE_PORTAIL_USERNAME=DEFAULT_USERNAME,
                ROBOCORE_SECRET_COMPTE_PORTAIL_PASSWORD=DEFAULT_PASSWORD, ROBOCORE_ROBOTS=str(ROOT / "robots"))


def _ledger(home: Path) -> tuple[float, int, str, str]:
    engine = create_engine(f"sqlite:///{home / 'robocore.db'}")
    with engine.connect() as conn:
        minutes = conn.execute(text("SELECT sum(minutes) FROM ledger")).scalar_one()
        rows = conn.execute(text("SELECT count(*) FROM ledger WHERE kind = 'item'")).scalar_one()
        run_id, status = conn.execute(text("SELECT id, status FROM runs")).one()
    engine.dispose()
    return minutes, rows, run_id, status


def _check_portal(db: Path) -> None:
    expected = _expected()
    registered = list_demandes(db)
    numbers = [r["numero_dossier"] for r in registered]
    assert len(numbers) == 49 and set(numbers) == set(expected), "49 requests, each exactly once"
    for row in registered:
        want = expected[row["numero_dossier"]]
        assert row["nom_demandeur"] == want["nom"]
        assert row["type_demande"] == want["type"]
        assert date.fromisoformat(str(row["date_depot"])) == want["date"]
        assert float(row["montant"]) == pytest.approx(want["montant"])
        assert row["priorite"] == want["priorite"]
        assert (row["commentaire"] or "") == want["commentaire"]


def test_saisie_demandes_registers_49_requests_once_with_their_values(portal, env, robo_home: Path) -> None:
    """49 requests land once with the workbook's values (fields found by label on a shuffling
    portal), the invalid row is a business error with a screenshot, ledger = 49 × 6 + 5."""
    url, db = portal
    done = subprocess.run([*robo_cmd(), "run", "saisie-demandes", "-q", "-i", f"portail={url}"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    _check_portal(db)
    minutes, rows, run_id, status = _ledger(robo_home)
    assert (minutes, rows, status) == (49 * 6 + 5, 49, "completed_with_errors")
    evidence = list((robo_home / "runs" / run_id / "evidence").rglob("*.png"))
    assert [p.parent.name for p in evidence] == ["SUB-2026-0037"]
    assert "montant invalide" in done.stdout and "SUB-2026-0037" in done.stdout


def test_killed_mid_run_then_resumed_registers_each_request_once(portal, env, robo_home: Path) -> None:
    """`kill -9` while requests are being entered, then `robo resume`: still exactly once each (verify)."""
    url, db = portal
    proc = subprocess.Popen([*robo_cmd(), "run", "saisie-demandes", "-q", "-i", f"portail={url}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while count_demandes(db) < 12:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the robot made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert count_demandes(db) < 49
    run_id = _ledger(robo_home)[2]
    resumed = subprocess.run([*robo_cmd(), "resume", run_id, "-q"], env=env, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    _check_portal(db)
    minutes, rows, _, status = _ledger(robo_home)
    assert (minutes, rows, status) == (49 * 6 + 5, 49, "completed_with_errors")
