"""The saisie-demandes robot against the demo portal, through the `robocore.testing` fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROBOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.browser


def test_enters_each_valid_request_once_and_refuses_the_negative_amount(run_robot, demo_portal) -> None:
    run = run_robot(ROBOT, inputs={"portail": demo_portal.url}, secrets={"compte_portail": demo_portal.account})

    assert run.count("done") == 49
    assert run.count("business_error") == 1
    refused = run.item("SUB-2026-0037")
    assert "Ligne 40 du classeur" in (refused.error or "")
    registered = [r["numero_dossier"] for r in demo_portal.requests()]
    assert sorted(registered) == sorted(i.key for i in run.items if i.status.value == "done")
    # 6 min per request entered, 5 min for the run (the robot's process block)
    assert run.minutes_saved == pytest.approx(49 * 6 + 5)
    assert run.outputs["demandes"]["count"] == 50


def test_a_wrong_password_stops_the_run_before_any_request(run_robot, demo_portal) -> None:
    run = run_robot(ROBOT, inputs={"portail": demo_portal.url},
                    secrets={"compte_portail": {"username": demo_portal.username, "password": "faux"}},
                    timeout_ms=3000)

    assert not run.ok
    assert run.items == [] and demo_portal.requests() == []
    assert run.minutes_saved == 0
    assert "faux" not in (run.error or "")
