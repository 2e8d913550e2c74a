"""Excel and CSV exports of the hours-saved report, against SQLite and PostgreSQL: the JSON report's
figures to the unrounded minute, a sheet per process, native charts, French formats, no formula from data."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from robocore import exports
from robocore.exports.cells import csv_text, decimal_fr, is_risky
from robocore.exports.sheetnames import SheetNames
from robocore.ledger import Figures, Grouping
from robocore.statuses import ITEM_FAILED, ItemStatus, RunStatus
from robocore.store import Store
from tests.integration.api_support import FakeExecutor, bearer
from tests.integration.test_ledger import Planned, _record

RISKY = "=cmd|' /C calc'!A0"
SCRIPT = '<script>alert("x")</script>'
QUOTES = 'Contrôle des "listes" d\'été; 2ᵉ passe'  # a separator, quotes, longer than a sheet name
# robot, process, service, minutes per item, minutes per run
ROBOTS = [("saisie", "Instruction des demandes", "DDETS 31", 4.5, 10.0),
          ("calc", RISKY, SCRIPT, 2.0, 0.0),
          ("rappro", QUOTES, "-DRFiP Occitanie", 1.5, 20.0),
          ("outil", None, None, 0.0, 0.0)]
MONTHS = [(2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3)]
START, END = date(2025, 11, 1), date(2026, 3, 1)  # November to February: October and March left out
QUERY = f"start={START}&end={END}"
D, B, A, S = ItemStatus.DONE, ItemStatus.BUSINESS_ERROR, ItemStatus.APPLICATION_ERROR, ItemStatus.SKIPPED
HEAD = 5  # the summary's header row
COLUMNS = ["Heures économisées", "Minutes économisées", "ETP", "Éléments réussis", "Éléments traités",
           "Réussite des éléments", "Erreurs métier", "Erreurs techniques", "Exécutions réussies",
           "Exécutions terminées", "Réussite des exécutions"]


def _history(seed: int = 11, count: int = 32) -> list[Planned]:
    """Runs of four robots over six months (one at 2026-01-01 00:00): done, refused, failed, skipped items."""
    rng = random.Random(seed)
    plans = []
    for n in range(count):
        robot, process, service, per_item, per_run = ROBOTS[n % len(ROBOTS)]
        year, month = MONTHS[rng.randrange(len(MONTHS))]
        at = datetime(2026, 1, 1) if n == 0 else datetime(year, month, rng.randint(1, 28), rng.randint(0, 23))
        items = tuple(rng.choices([D, B, A, S], weights=[75, 10, 8, 7], k=rng.randint(3, 12)))
        status = (RunStatus.FAILED if n % 9 == 4 else RunStatus.RUNNING if n == 11
                  else RunStatus.COMPLETED_WITH_ERRORS if any(s in ITEM_FAILED for s in items)
                  else RunStatus.SUCCEEDED)
        plans.append(Planned(f"run{n:03d}", robot, process, service, per_item, per_run, at, items, status))
    return plans


@pytest.fixture
def history(store_url: str) -> Iterator[tuple[Store, list[Planned]]]:
    """The generated history, recorded in a fresh store as the engine records it."""
    store = Store(store_url)
    version = store.save_robot_version("x", "0" * 64, "robot: x\n")
    plans = _history()
    for plan in plans:
        _record(store, version, plan)
    yield store, plans
    store.close()


def _in_period(plan: Planned) -> bool:
    return datetime(2025, 11, 1) <= plan.at < datetime(2026, 3, 1)


def _by_hand(plans: list[Planned], by: Grouping) -> dict[str | None, Figures]:
    """Each group's figures over the period, summed in Python from what the test recorded."""
    sums: dict[str | None, Figures] = {}
    for plan in filter(_in_period, plans):
        sums[plan.group(by)] = sums.get(plan.group(by), Figures()) + plan.figures()
    return {g: f for g, f in sums.items() if f != Figures()}


def _client(store: Store, tmp_path: Path, role: str = "manager") -> tuple[TestClient, dict[str, str]]:
    from robocore.server import create_app
    from robocore.server.auth import create_token

    client = TestClient(create_app(store, None, FakeExecutor(), robots_dir=tmp_path))
    return client, bearer(create_token(store, f"jeton-{role}", role))


def _rows(ws: Worksheet, first: int) -> dict[Any, dict[str, Any]]:
    """Rows below a header row, by their first cell, as {column header: value}."""
    header = [c.value for c in ws[first]]
    return {row[0]: dict(zip(header[1:], row[1:], strict=True))
            for row in ws.iter_rows(min_row=first + 1, values_only=True) if row[0] is not None}


def _assert_line(got: dict[str, Any], figures: Figures) -> None:
    """A workbook line holds the exact figures: minutes to 1e-9, hours and FTE derived from them."""
    assert got["Minutes économisées"] == pytest.approx(figures.minutes, abs=1e-9)
    assert got["Heures économisées"] == pytest.approx(figures.minutes / 60, abs=1e-9)
    assert got["ETP"] == pytest.approx(figures.minutes / 60 / 1607, abs=1e-12)
    assert (got["Éléments réussis"], got["Éléments traités"], got["Erreurs métier"], got["Erreurs techniques"],
            got["Exécutions réussies"], got["Exécutions terminées"]) == (
        figures.items_done, figures.items_attempted, figures.business_errors, figures.application_errors,
        figures.runs_succeeded, figures.runs_finished)


@pytest.mark.parametrize("by", ["process", "service"])
def test_summary_equals_the_json_report_and_a_sum_by_hand(history: tuple[Store, list[Planned]], tmp_path: Path,
                                                           by: Grouping) -> None:
    """The summary sheet has a line per group and the total: the JSON report's figures before rounding,
    equal to an independent sum of what was recorded; real dates for the period, French formats."""
    store, plans = history
    client, token = _client(store, tmp_path)
    report = client.get(f"/api/v1/reports/hours-saved?{QUERY}&by={by}", headers=token).json()
    response = client.get(f"/api/v1/reports/hours-saved.xlsx?{QUERY}&by={by}", headers=token)
    assert response.status_code == 200, response.text
    ws = load_workbook(io.BytesIO(response.content))["Synthèse"]
    rows = _rows(ws, HEAD)
    expected = _by_hand(plans, by)
    label = {"process": "(sans processus)", "service": "(sans service)"}[by]
    assert set(rows) == {g or label for g in expected} | {"Total"}
    for line in [*report["lines"], report["total"]]:
        got = rows[line["group"]]
        assert got["Minutes économisées"] == pytest.approx(line["minutes"], abs=1e-9)
        assert round(got["Heures économisées"], 2) == line["hours"] and round(got["ETP"], 3) == line["fte"]
        assert got["Réussite des éléments"] == line["item_success_rate"]
        assert got["Réussite des exécutions"] == line["run_success_rate"]
    for group, figures in expected.items():
        _assert_line(rows[group or label], figures)
    _assert_line(rows["Total"], sum(expected.values(), Figures()))
    assert [c.value for c in ws[HEAD]][1:] == COLUMNS
    assert (ws["B2"].value, ws["D2"].value) == (datetime(2025, 11, 1), datetime(2026, 2, 28))
    assert isinstance(ws["B4"].value, datetime) and ws["B4"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["B2"].number_format == ws["D2"].number_format == "dd/mm/yyyy"
    total = ws.cell(ws.max_row, 2)
    assert total.number_format == "#,##0.0" and ws.cell(ws.max_row, 7).number_format == "0.0 %"
    assert ws.freeze_panes == f"B{HEAD + 1}" and ws.cell(ws.max_row, 1).font.bold


def test_each_process_has_a_sheet_of_its_months_and_charts(history: tuple[Store, list[Planned]]) -> None:
    """One sheet per process: every month of the period (zeros included) with its figures, the total;
    the monthly table sums the processes; native charts: stacked on the summary, bars and a line per process."""
    store, plans = history
    wb = load_workbook(io.BytesIO(exports.xlsx_bytes(exports.gather(store, exports.Period(START, END)))))
    names = {"Instruction des demandes": "Instruction des demandes", RISKY: "=cmd|' C calc'!A0",
             QUOTES: QUOTES[:31]}
    assert wb.sheetnames == ["Synthèse", "Heures par mois", *(names[p] for p in sorted(names))]
    months = [datetime(2025, 11, 1), datetime(2025, 12, 1), datetime(2026, 1, 1), datetime(2026, 2, 1)]
    for process, sheet in names.items():
        ws = wb[sheet]
        assert ws["A1"].value == process and ws["A1"].data_type == "s"
        rows = _rows(ws, 3)
        assert list(rows) == [*months, "Total"]
        for month in months:
            mine = [p for p in plans if p.process == process and _in_period(p) and p.at.month == month.month]
            _assert_line(rows[month], sum((p.figures() for p in mine), Figures()))
        _assert_line(rows["Total"], _by_hand(plans, "process")[process])
        assert ws.cell(4, 1).number_format == "mm/yyyy" and ws.freeze_panes == "B4"
        (chart,) = ws._charts
        assert chart.tagname == "barChart" and len(chart.series) == 1
        assert [c.tagname for c in chart._charts] == ["barChart", "lineChart"]  # hours as bars, items as a line
    table = _rows(wb["Heures par mois"], 3)
    assert list(table) == months
    for month in months:
        line = table[month]
        assert line["Total"] == pytest.approx(sum(v for k, v in line.items() if k != "Total"), abs=1e-9)
        for process in names:
            mine = [p for p in plans if p.process == process and _in_period(p) and p.at.month == month.month]
            assert line[process] == pytest.approx(sum(p.figures().minutes for p in mine) / 60, abs=1e-9)
    (stacked,) = wb["Synthèse"]._charts
    assert stacked.grouping == "stacked" and len(stacked.series) == len(names)


def test_names_from_data_stay_text_in_the_workbook(history: tuple[Store, list[Planned]]) -> None:
    """Process and service names beginning with `=`, `-` or holding `<script>` and quotes are string cells
    (quote-prefixed when risky), never formulas: no `<f>` anywhere in the file; calamine reads them back."""
    from python_calamine import CalamineWorkbook

    store, _plans = history
    content = exports.xlsx_bytes(exports.gather(store, exports.Period(START, END), "service"))
    wb = load_workbook(io.BytesIO(content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value: c for c in cells if c.data_type == "s"}
    for name in (RISKY, SCRIPT, QUOTES, "-DRFiP Occitanie"):
        assert name in texts, name
        assert texts[name].quotePrefix is is_risky(name)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)
    read = CalamineWorkbook.from_filelike(io.BytesIO(content))
    groups = [row[0] for row in read.get_sheet_by_name("Synthèse").to_python()[HEAD:]]
    assert {SCRIPT, "-DRFiP Occitanie", "Total"} <= set(groups)
    assert RISKY in [row[0] for row in read.get_sheet_by_name("=cmd|' C calc'!A0").to_python()]


def test_another_reader_gets_the_same_figures_and_dates(history: tuple[Store, list[Planned]]) -> None:
    """python-calamine, reading the file as another program would, finds the summary's numbers and real dates."""
    from python_calamine import CalamineWorkbook

    store, plans = history
    content = exports.xlsx_bytes(exports.gather(store, exports.Period(START, END)))
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name("Synthèse").to_python()
    assert sheet[1][1] == date(2025, 11, 1) and sheet[1][3] == date(2026, 2, 28)
    header, *lines = sheet[HEAD - 1:]
    rows = {line[0]: dict(zip(header[1:], line[1:], strict=True)) for line in lines}
    for group, figures in _by_hand(plans, "process").items():
        _assert_line(rows[group or "(sans processus)"], figures)
    per_process = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name("Instruction des demandes")
    assert per_process.to_python()[3][0] == date(2025, 11, 1)


def test_grouped_by_month_the_summary_shows_real_months(history: tuple[Store, list[Planned]]) -> None:
    """By month, each summary line is a real date (first of the month, shown MM/YYYY) with that month's figures;
    the CSV names the month as YYYY-MM."""
    store, plans = history
    export = exports.gather(store, exports.Period(START, END), "month")
    rows = _rows(load_workbook(io.BytesIO(exports.xlsx_bytes(export)))["Synthèse"], HEAD)
    expected = _by_hand(plans, "month")
    assert set(rows) == {datetime(int(m[:4]), int(m[5:]), 1) for m in expected if m} | {"Total"}
    for month, figures in expected.items():
        assert month is not None
        _assert_line(rows[datetime(int(month[:4]), int(month[5:]), 1)], figures)
    _header, lines = _parse_csv(exports.csv_bytes(export))
    assert set(lines) == {*expected, "Total"}


def _parse_csv(content: bytes) -> tuple[list[str], dict[str, list[str]]]:
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return header, {row[0]: row[1:] for row in rows}


def _number(text: str) -> float:
    assert "." not in text
    return float(text.replace(",", "."))


def test_csv_is_for_french_excel_and_injection_safe(history: tuple[Store, list[Planned]], tmp_path: Path) -> None:
    """The CSV download: BOM, `;`, CRLF, decimal commas; read back with `csv`, the numbers are the exact
    figures; a name that could be a formula begins with `'`, other texts are as they are."""
    store, plans = history
    client, token = _client(store, tmp_path, "engineer")
    response = client.get(f"/api/v1/reports/hours-saved.csv?{QUERY}&by=service", headers=token)
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    header, rows = _parse_csv(response.content)
    assert header[1:4] == ["Heures économisées", "Minutes économisées", "ETP"]
    assert header[6] == "Réussite des éléments (%)"
    assert set(rows) == {"DDETS 31", "(sans service)", SCRIPT, "'-DRFiP Occitanie", "Total"}
    report = client.get(f"/api/v1/reports/hours-saved?{QUERY}&by=service", headers=token).json()
    for line in [*report["lines"], report["total"]]:
        cells = rows[csv_text(line["group"])]
        assert _number(cells[1]) == line["minutes"]  # the same float, every digit
        assert _number(cells[0]) == line["minutes"] / 60 and _number(cells[2]) == line["minutes"] / 60 / 1607
        assert [int(c) for c in (cells[3], cells[4], cells[6], cells[7], cells[8], cells[9])] == [
            line["items_done"], line["items_attempted"], line["business_errors"], line["application_errors"],
            line["runs_succeeded"], line["runs"]]
        assert _number(cells[5]) == round(line["item_success_rate"] * 100, 1)
    assert _number(rows["Total"][1]) == pytest.approx(sum(f.minutes for f in _by_hand(plans, "service").values()))
    by_process = client.get(f"/api/v1/reports/hours-saved.csv?{QUERY}", headers=token).content
    header, rows = _parse_csv(by_process)
    assert {"'" + RISKY, QUOTES} <= set(rows)  # quotes and `;` survive inside one cell
    assert '\r\n"Contrôle des ""listes"" d\'été; 2ᵉ passe";'.encode() in by_process


def test_cli_writes_the_workbook_and_the_csv(history: tuple[Store, list[Planned]], tmp_path: Path) -> None:
    """`robo report --from --to --xlsx --csv` writes both files with the period's figures; a period of more than
    ten years for a file is refused with exit code 2 and a message naming it."""
    from typer.testing import CliRunner

    from robocore.cli import app as cli

    _store, plans = history
    xlsx, csv_path = tmp_path / "heures.xlsx", tmp_path / "heures.csv"
    result = CliRunner().invoke(cli.app, ["report", "--from", str(START), "--to", str(END), "--by", "process",
                                          "--xlsx", str(xlsx), "--csv", str(csv_path)])
    assert result.exit_code == 0, result.output
    total = sum(_by_hand(plans, "process").values(), Figures())
    _assert_line(_rows(load_workbook(xlsx)["Synthèse"], HEAD)["Total"], total)
    _header, rows = _parse_csv(csv_path.read_bytes())
    assert _number(rows["Total"][1]) == pytest.approx(total.minutes, abs=1e-9)
    result = CliRunner().invoke(cli.app, ["report", "--from", "2010-01-01", "--to", "2026-01-01", "--xlsx", str(xlsx)])
    assert result.exit_code == 2 and "période de plus de dix ans" in result.output


def test_api_downloads_by_role_with_their_headers(history: tuple[Store, list[Planned]], tmp_path: Path) -> None:
    """Managers, engineers and admins download (attachment named after the period's first and last day,
    no caching); an agent gets 403; a period reversed or over ten years is a 422 naming the problem."""
    store, _plans = history
    client, _token = _client(store, tmp_path)
    from robocore.server.auth import create_token

    tokens = {role: bearer(create_token(store, f"t-{role}", role)) for role in ("agent", "engineer", "admin")}
    assert client.get("/api/v1/reports/hours-saved.xlsx", headers=tokens["agent"]).status_code == 403
    assert client.get("/api/v1/reports/hours-saved.csv", headers=tokens["agent"]).status_code == 403
    response = client.get("/api/v1/reports/hours-saved.xlsx?start=2026-01-01&end=2027-01-01",
                          headers=tokens["engineer"])
    assert response.status_code == 200
    assert response.headers["content-disposition"] == \
        'attachment; filename="heures-economisees-2026-01-01_2026-12-31.xlsx"'
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["cache-control"] == "no-store" and response.headers["x-content-type-options"] == "nosniff"
    response = client.get(f"/api/v1/reports/hours-saved.csv?{QUERY}", headers=tokens["admin"])
    assert response.headers["content-disposition"] == \
        'attachment; filename="heures-economisees-2025-11-01_2026-02-28.csv"'
    reversed_ = client.get("/api/v1/reports/hours-saved.xlsx?start=2026-03-01&end=2026-01-01", headers=tokens["admin"])
    assert reversed_.status_code == 422 and reversed_.json()["code"] == "bad_period"
    long = client.get("/api/v1/reports/hours-saved.csv?start=2010-01-01&end=2026-01-01", headers=tokens["admin"])
    assert long.status_code == 422 and long.json()["code"] == "period_too_long"
    assert long.json()["erreur"] == "période de plus de dix ans : du 01/01/2010 au 01/01/2026"


# ---- the parts, without a store -----------------------------------------------------------
def test_sheet_names_are_valid_and_unique() -> None:
    """31 characters at most, none of []:*?/\\, no apostrophe at either end, unique without case, never History."""
    names = SheetNames()
    assert names.take("Synthèse") == "Synthèse"
    assert names.take("synthèse") == "synthèse (2)"
    assert names.take("a/b\\c[d]e:f*g?h") == "a b c d e f g h"
    assert names.take("'cité'") == "cité"
    assert names.take("History") == "History (1)"
    assert names.take("x" * 40) == "x" * 31 and names.take("x" * 40) == "x" * 27 + " (2)"
    assert names.take("   ") == "Feuille"


def test_a_period_names_its_days_and_months() -> None:
    """The label and file name use the last day included; a bounded period shows all its months; bounds checked."""
    year = exports.Period.checked(date(2026, 1, 1), date(2027, 1, 1))
    assert year.label == "du 01/01/2026 au 31/12/2026"
    assert year.filename("csv", date(2030, 1, 1)) == "heures-economisees-2026-01-01_2026-12-31.csv"
    assert len(year.months([])) == 12 and year.months([])[-1] == date(2026, 12, 1)
    assert exports.Period().label == "depuis le début"
    assert exports.Period().filename("xlsx", date(2026, 5, 2)) == "heures-economisees-debut_2026-05-02.xlsx"
    assert exports.Period().months(["2026-03", "2025-12"]) == [date(2025, 12, 1), date(2026, 1, 1),
                                                               date(2026, 2, 1), date(2026, 3, 1)]
    assert exports.Period(date(2026, 1, 1), date(2026, 1, 1)).label == "période vide (avant le 01/01/2026)"
    with pytest.raises(exports.PeriodError, match="dix ans"):
        exports.Period.checked(date(2016, 1, 1), date(2026, 1, 2))
    exports.Period.checked(date(2016, 1, 1), date(2026, 1, 1))
    assert exports.Period.checked(date(1800, 1, 1), None, export=False).start == date(1800, 1, 1)
    with pytest.raises(exports.PeriodError, match="1900"):
        exports.Period.checked(date(1800, 1, 1), None)


@pytest.mark.parametrize("value", [4.5, 0.1 + 0.2, 1e-05, 123456789.125, 2 / 3, 0.0, 17])
def test_decimal_comma_keeps_every_digit(value: float) -> None:
    """A number in the CSV has a decimal comma, no exponent, and reads back as the very same number."""
    text = decimal_fr(value)
    assert "e" not in text.lower() and "." not in text
    assert type(value)(text.replace(",", ".")) == value


@pytest.mark.parametrize("text", ["=1+1", "+33 6", "-2", "@SUM(A1)", "\t=1", "\r=1", "\n=1", RISKY])
def test_text_that_could_be_a_formula_is_escaped_in_csv(text: str) -> None:
    """OWASP's list (=, +, -, @, tab, CR) and LF get a leading `'`; other texts stay as they are."""
    assert csv_text(text) == "'" + text
    assert csv_text(SCRIPT) == SCRIPT and csv_text("Dossier = 3") == "Dossier = 3"


def test_a_workbook_of_an_empty_period_has_its_summary_only(store_url: str) -> None:
    """With nothing recorded: the summary and its zero total, no process sheet, no chart, no error."""
    store = Store(store_url)
    try:
        wb = load_workbook(io.BytesIO(exports.xlsx_bytes(exports.gather(store, exports.Period(START, END)))))
    finally:
        store.close()
    assert wb.sheetnames == ["Synthèse"] and not wb["Synthèse"]._charts
    assert _rows(wb["Synthèse"], HEAD)["Total"]["Minutes économisées"] == 0
