"""`robo report`, the Excel export and the API's hours-saved report, against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from robocore import runs
from robocore.loader import load_robot
from robocore.store import Store

ROBOT = """\
robot: {name}
process: {{name: {process}, service: DDETS 31, manual_minutes_per_item: 3, manual_minutes_per_run: 5}}
steps:
  - for_each: "{{{{ range(10) | list }}}}"
    as: n
    key: "L{{{{ n }}}}"
    steps:
      - use: flow.fail
        when: "{{{{ {fails} }}}}"
        with: {{message: "ligne refusée", kind: {kind}}}
"""


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """Three runs: one that refused a row, one whose every item failed, one without fault."""
    store = Store(store_url)
    for name, process, fails, kind in (("saisie", "Instruction", "n == 3", "business"),
                                       ("saisie-en-panne", "Instruction", "true", "application"),
                                       ("controle", "Contrôle", "false", "business")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "robot.yaml").write_text(ROBOT.format(name=name, process=process, fails=fails, kind=kind))
        asyncio.run(runs.start(load_robot(folder), store, {}))
    yield store
    store.close()


def test_robo_report_shows_items_and_runs_apart(store: Store, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`robo report` prints, in French, hours, item success with errors by kind, run success and a total."""
    from typer.testing import CliRunner

    from robocore.cli import app as cli

    monkeypatch.setattr(cli, "console", Console(width=200))
    result = CliRunner().invoke(cli.app, ["report", "--by", "process"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
             for line in result.output.splitlines() if line.count("│") > 2}
    # Instruction: 9 items done at 3 min and the fixed 5 min of the run that did some (the run whose
    # every item failed saved nothing)
    assert lines["Instruction"] == ["0,53", "0,000", "9/20 · 45,0 %", "1", "10", "0/2 · 0,0 %"]
    assert lines["Contrôle"] == ["0,58", "0,000", "10/10 · 100,0 %", "0", "0", "1/1 · 100,0 %"]
    assert lines["Total"] == ["1,12", "0,001", "19/30 · 63,3 %", "1", "10", "1/3 · 33,3 %"]
    assert "Processus" in result.output and "depuis le début" in result.output


def test_robo_report_in_english_says_its_grouping_and_period_in_english(store: Store,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`robo --lang en report`: the grouping's header and the period are English too, dates as ISO."""
    from typer.testing import CliRunner

    from robocore.cli import app as cli

    monkeypatch.setattr(cli, "console", Console(width=200))
    from robocore.i18n import use_language

    with use_language("fr"):  # the CLI's --lang sets the language of this thread: put it back after
        whole = CliRunner().invoke(cli.app, ["--lang", "en", "report", "--by", "process"])
        since = CliRunner().invoke(cli.app, ["--lang", "en", "report", "--by", "month", "--from", "2026-01-01"])
    assert whole.exit_code == since.exit_code == 0, whole.output + since.output
    assert "since the start" in whole.output and "Process " in whole.output
    assert "Processus" not in whole.output and "depuis" not in whole.output
    assert "since 2026-01-01" in since.output and "Month" in since.output and "Mois" not in since.output


def test_excel_export_has_the_new_columns_and_a_total_row(store: Store, tmp_path: Path) -> None:
    """The workbook's summary has item success, business and application errors, run success, and a total
    row of values: exact hours and FTE (formatted, not rounded), rates as the report shows them."""
    from openpyxl import load_workbook

    from robocore import exports

    path = exports.write_xlsx(exports.gather(store, exports.Period(), "robot"), tmp_path / "rapport.xlsx")
    ws = load_workbook(path)["Synthèse"]
    header = [c.value for c in ws[5]]
    assert header[:7] == ["Robot", "Heures économisées", "Minutes économisées", "ETP", "Éléments réussis",
                          "Éléments traités", "Réussite des éléments"]
    assert header[7:] == ["Erreurs métier", "Erreurs techniques", "Exécutions réussies", "Exécutions terminées",
                          "Réussite des exécutions"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=6, values_only=True)}
    assert rows["saisie"] == pytest.approx((32 / 60, 32, 32 / 60 / 1607, 9, 10, 0.9, 1, 0, 0, 1, 0.0))
    assert rows["Total"] == pytest.approx((67 / 60, 67, 67 / 60 / 1607, 19, 30, 0.633, 1, 10, 1, 3, 0.333))
    assert ws.cell(ws.max_row, 1).font.bold and ws.max_row == 9
    assert ws.cell(ws.max_row, 2).number_format == "#,##0.0"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws._charts and ws.auto_filter.ref == "A5:L8"


def test_api_report_keeps_v1_fields_and_adds_the_new_ones(store: Store, tmp_path: Path) -> None:
    """GET /api/v1/reports/hours-saved keeps hours, items, runs, success_rate, totals; adds items and runs apart."""
    from fastapi.testclient import TestClient

    from robocore.server import create_app
    from robocore.server.auth import create_token
    from tests.integration.api_support import FakeExecutor, bearer

    token = create_token(store, "cheffe", "manager")
    client = TestClient(create_app(store, None, FakeExecutor(), robots_dir=tmp_path))
    body = client.get("/api/v1/reports/hours-saved?by=process", headers=bearer(token)).json()
    lines = {line["group"]: line for line in body["lines"]}
    instruction = lines["Instruction"]
    assert {k: instruction[k] for k in ("hours", "items", "runs", "success_rate")} == {
        "hours": 0.53, "items": 9, "runs": 2, "success_rate": 0.0}
    assert {k: instruction[k] for k in ("items_attempted", "business_errors", "application_errors",
                                        "item_success_rate", "runs_succeeded", "runs_with_errors")} == {
        "items_attempted": 20, "business_errors": 1, "application_errors": 10, "item_success_rate": 0.45,
        "runs_succeeded": 0, "runs_with_errors": 2}
    assert instruction["minutes"] == pytest.approx(9 * 3 + 5)
    assert (body["total_hours"], body["total_items"], body["total"]["minutes"]) == (1.12, 19, pytest.approx(67))
    assert body["total"]["run_success_rate"] == 0.333


def test_api_report_refuses_a_period_ending_before_it_starts(store: Store, tmp_path: Path) -> None:
    """A period whose end precedes its start is a 422 `bad_period` naming the problem, not an empty report."""
    from fastapi.testclient import TestClient

    from robocore.server import create_app
    from robocore.server.auth import create_token
    from tests.integration.api_support import FakeExecutor, bearer

    token = create_token(store, "cheffe", "manager")
    client = TestClient(create_app(store, None, FakeExecutor(), robots_dir=tmp_path))
    response = client.get("/api/v1/reports/hours-saved?start=2026-03-01&end=2026-01-01", headers=bearer(token))
    assert response.status_code == 422 and response.json()["code"] == "bad_period"
    assert response.json()["erreur"] == "la fin de la période précède son début"
