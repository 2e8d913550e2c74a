"""The hours-saved exports speak the active language: French by default, English when asked (`?lang=en`,
Accept-Language, `robo --lang en`, ROBOCORE_LANGUAGE=en), their texts from the catalogues; the CSV
format stays the one of French Excel and the number formats do not change."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from robocore import exports, reports
from robocore.exports.columns import COLUMNS
from robocore.i18n import lazy_gettext, use_language
from robocore.ledger import Figures, HoursSaved, LedgerLine
from robocore.store import Store
from robocore.store.overview import Scope
from tests.integration.test_exports import (
    END,
    HEAD,
    QUERY,
    QUOTES,
    RISKY,
    START,
    _by_hand,
    _client,
    _parse_csv,
    _rows,
)
from tests.integration.test_exports import history as recorded_history
from tests.integration.test_ledger import Planned

history = recorded_history  # the fixture: test_exports' generated history, recorded in a fresh store

COLUMNS_EN = ["Hours saved", "Minutes saved", "FTE", "Items succeeded", "Items processed", "Item success rate",
              "Business errors", "Technical errors", "Runs succeeded", "Runs finished", "Run success rate"]
CSV_EN = [*COLUMNS_EN[:5], "Item success rate (%)", *COLUMNS_EN[6:10], "Run success rate (%)"]
NAMES = {"Instruction des demandes": "Instruction des demandes", RISKY: "=cmd|' C calc'!A0", QUOTES: QUOTES[:31]}
SHEETS = [NAMES[process] for process in sorted(NAMES)]  # one sheet per process, as test_exports names them


def _chart_title(chart: Any) -> str:
    return "".join(run.t for paragraph in chart.title.tx.rich.p for run in paragraph.r or [])


def test_workbook_in_english_has_english_sheets_headers_and_titles(history: tuple[Store, list[Planned]]) -> None:
    """Written while English is active: sheet names, title, summary labels, headers, the line without a
    process, the charts' titles are English; the figures and number formats are the French workbook's."""
    store, plans = history
    with use_language("en"):
        wb = load_workbook(io.BytesIO(exports.xlsx_bytes(exports.gather(store, exports.Period(START, END)))))
    assert wb.sheetnames == ["Summary", "Hours per month", *SHEETS]
    ws = wb["Summary"]
    assert ws["A1"].value == "Hours of manual work saved — from 2025-11-01 to 2026-02-28"
    assert wb.properties.title == ws["A1"].value
    assert [ws[ref].value for ref in ("A2", "C2", "A3", "B3", "C3", "A4")] == [
        "Period from", "To (included)", "Grouping", "Process", "Hours of one FTE", "Produced on (UTC)"]
    assert [c.value for c in ws[HEAD]] == ["Process", *COLUMNS_EN]
    rows = _rows(ws, HEAD)
    expected = _by_hand(plans, "process")
    assert set(rows) == {g or "(no process)" for g in expected} | {"Total"}
    for group, figures in expected.items():
        assert rows[group or "(no process)"]["Minutes saved"] == pytest.approx(figures.minutes, abs=1e-9)
    assert rows["Total"]["Items succeeded"] == sum(expected.values(), Figures()).items_done
    # the formats are not the language's: the same Excel formats as in French
    assert ws["B2"].number_format == "dd/mm/yyyy" and ws["B4"].number_format == "dd/mm/yyyy hh:mm"
    assert ws.cell(ws.max_row, 2).number_format == "#,##0.0" and ws.cell(ws.max_row, 7).number_format == "0.0 %"
    (stacked,) = ws._charts
    assert _chart_title(stacked) == "Hours saved per month"
    months = wb["Hours per month"]
    assert months["A1"].value == "Hours saved per month and per process — from 2025-11-01 to 2026-02-28"
    assert months["A3"].value == "Month" and months.cell(3, months.max_column).value == "Total"
    process = wb["Instruction des demandes"]
    assert process["A2"].value == "from 2025-11-01 to 2026-02-28"
    assert [c.value for c in process[3]] == ["Month", *COLUMNS_EN]
    (chart,) = process._charts
    assert _chart_title(chart) == "Hours saved and items succeeded"
    # the line of the chart is the items succeeded, found by the column's key whatever the language
    ref = chart._charts[1].series[0].tx.strRef.f
    assert process[ref.split("!")[1].replace("$", "")].value == "Items succeeded"


def _summary_labels(ws: Worksheet) -> list[Any]:
    return [ws[ref].value for ref in ("A2", "B2", "C2", "D2", "C4", "D4")]


def test_open_and_filtered_workbooks_name_their_bounds_and_filters_in_english(
        history: tuple[Store, list[Planned]]) -> None:
    """An open period says "the beginning" and "today", the filters "service “…”", a grouping by service
    "(no service)"; in French the same workbook keeps « début », « aujourd’hui », « service « … » »."""
    store, _plans = history
    scope = Scope(None, "DDETS 31", None)
    with use_language("en"):
        english = load_workbook(io.BytesIO(exports.xlsx_bytes(exports.gather(store, exports.Period(), "service",
                                                                             scope=scope))))
        every = load_workbook(io.BytesIO(exports.xlsx_bytes(exports.gather(store, exports.Period(START, END),
                                                                           "service"))))
    assert _summary_labels(english["Summary"]) == ["Period from", "the beginning", "To (included)", "today",
                                                   "Filters", "service “DDETS 31”"]
    assert english["Summary"]["A1"].value == "Hours of manual work saved — since the start"
    assert english["Summary"]["B3"].value == "Service"
    assert "(no service)" in _rows(every["Summary"], HEAD)
    french = load_workbook(io.BytesIO(exports.xlsx_bytes(exports.gather(store, exports.Period(), "service",
                                                                        scope=scope))))
    assert _summary_labels(french["Synthèse"]) == ["Du", "début", "Au (inclus)", "aujourd’hui", "Filtres",
                                                   "service « DDETS 31 »"]


def test_an_export_speaks_the_language_active_when_it_is_written(history: tuple[Store, list[Planned]]) -> None:
    """Gathered in French, written in English: the file is English, its line without a process too."""
    store, _plans = history
    export = exports.gather(store, exports.Period(START, END))
    with use_language("en"):
        content = exports.csv_bytes(export)
    header, rows = _parse_csv(content)
    assert header == ["Process", *CSV_EN]
    assert "(no process)" in rows and "(sans processus)" not in rows


def test_csv_in_english_keeps_the_french_excel_format(history: tuple[Store, list[Planned]]) -> None:
    """The English CSV: English header and labels, still `;`, UTF-8 BOM, CRLF and decimal commas."""
    store, plans = history
    with use_language("en"):
        content = exports.csv_bytes(exports.gather(store, exports.Period(START, END), "service"))
    header, rows = _parse_csv(content)  # BOM, CRLF only, `;`
    assert header == ["Service", *CSV_EN]
    assert "(no service)" in rows and "Total" in rows
    total = sum(_by_hand(plans, "service").values(), Figures())
    hours = rows["Total"][0]
    assert "," in hours and "." not in hours and float(hours.replace(",", ".")) == total.minutes / 60
    assert content.startswith(b"\xef\xbb\xbfService;Hours saved;Minutes saved;FTE;")


def test_api_downloads_follow_lang_and_accept_language(history: tuple[Store, list[Planned]], tmp_path: Path) -> None:
    """`?lang=en` and `Accept-Language: en` give English files named hours-saved-…; nothing asked, French."""
    store, _plans = history
    client, token = _client(store, tmp_path)
    for asked, headers in ((f"{QUERY}&lang=en", token), (QUERY, {**token, "Accept-Language": "en-GB,fr;q=0.5"})):
        xlsx = client.get(f"/api/v1/reports/hours-saved.xlsx?{asked}", headers=headers)
        assert xlsx.status_code == 200, xlsx.text
        assert xlsx.headers["content-disposition"] == 'attachment; filename="hours-saved-2025-11-01_2026-02-28.xlsx"'
        wb = load_workbook(io.BytesIO(xlsx.content))
        assert wb.sheetnames[:2] == ["Summary", "Hours per month"]
        assert [c.value for c in wb["Summary"][HEAD]] == ["Process", *COLUMNS_EN]
        csv = client.get(f"/api/v1/reports/hours-saved.csv?{asked}&by=service", headers=headers)
        assert csv.headers["content-disposition"] == 'attachment; filename="hours-saved-2025-11-01_2026-02-28.csv"'
        assert _parse_csv(csv.content)[0] == ["Service", *CSV_EN]
    french = client.get(f"/api/v1/reports/hours-saved.xlsx?{QUERY}", headers=token)
    assert french.headers["content-disposition"] == \
        'attachment; filename="heures-economisees-2025-11-01_2026-02-28.xlsx"'
    assert load_workbook(io.BytesIO(french.content)).sheetnames[:2] == ["Synthèse", "Heures par mois"]
    assert _parse_csv(client.get(f"/api/v1/reports/hours-saved.csv?{QUERY}", headers=token).content)[0][:2] == [
        "Processus", "Heures économisées"]
    report = client.get(f"/api/v1/reports/hours-saved?{QUERY}&lang=en", headers=token).json()
    assert "(no process)" in {line["group"] for line in report["lines"]}


def test_cli_writes_english_files_with_lang_or_robocore_language(history: tuple[Store, list[Planned]],
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`robo --lang en report --xlsx --csv` and ROBOCORE_LANGUAGE=en write English files; a refused period
    is said in English only."""
    from typer.testing import CliRunner

    from robocore.cli import app as cli

    xlsx, csv_path = tmp_path / "hours.xlsx", tmp_path / "hours.csv"
    args = ["report", "--from", str(START), "--to", str(END), "--xlsx", str(xlsx), "--csv", str(csv_path)]
    with use_language("fr"):  # --lang sets the language of this thread: put it back after
        result = CliRunner().invoke(cli.app, ["--lang", "en", *args])
        assert result.exit_code == 0, result.output
        assert load_workbook(xlsx).sheetnames[0] == "Summary"
        assert _parse_csv(csv_path.read_bytes())[0][:2] == ["Process", "Hours saved"]
        refused = CliRunner().invoke(cli.app, ["--lang", "en", "report", "--from", "2010-01-01", "--to",
                                               "2026-01-01", "--xlsx", str(xlsx)])
    assert refused.exit_code == 2 and "period longer than ten years: 2010-01-01 to 2026-01-01" in refused.output
    assert "dix ans" not in refused.output
    xlsx.unlink()
    monkeypatch.setenv("ROBOCORE_LANGUAGE", "en")
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert load_workbook(xlsx)["Summary"]["A1"].value.startswith("Hours of manual work saved — ")


# ---- the parts, without a store -----------------------------------------------------------
def test_period_label_file_names_and_errors_in_both_languages() -> None:
    """File names hours-saved-… in English (heures-economisees-… in French), ASCII; the label in the active
    language; a PeriodError built from one catalogue message: `fr`, `en`, and `str` in the active language."""
    year = exports.Period.checked(date(2026, 1, 1), date(2027, 1, 1))
    with use_language("en"):
        assert year.filename("csv", date(2030, 1, 1)) == "hours-saved-2026-01-01_2026-12-31.csv"
        assert exports.Period().filename("xlsx", date(2026, 5, 2)) == "hours-saved-start_2026-05-02.xlsx"
        assert year.label == "from 2026-01-01 to 2026-12-31"
    assert year.filename("csv", date(2030, 1, 1)) == "heures-economisees-2026-01-01_2026-12-31.csv"
    with pytest.raises(exports.PeriodError) as refused:
        exports.Period.checked(date(2016, 1, 1), date(2026, 1, 2))
    error = refused.value
    assert (error.code, error.fr, error.en) == ("period_too_long",
                                                "période de plus de dix ans : du 01/01/2016 au 02/01/2026",
                                                "period longer than ten years: 2016-01-01 to 2026-01-02")
    assert str(error) == error.fr
    with use_language("en"):
        assert str(error) == error.en
        with pytest.raises(exports.PeriodError, match="^period end before 1900-01-01: 1899-12-31$"):
            exports.Period.checked(None, date(1899, 12, 31))
    built = exports.PeriodError("bad_period", lazy_gettext("end is before start"))
    assert (built.fr, built.en) == ("la fin de la période précède son début", "end is before start")


def test_report_labels_and_column_keys_do_not_depend_on_the_language() -> None:
    """Groupings and lines without a group are named in the active language; columns are found by key."""
    saved = HoursSaved("process", None, None, (LedgerLine(None, Figures(minutes=60)),))
    with use_language("en"):
        shown = reports.present(saved)
        assert [reports.label(by) for by in ("process", "service", "robot", "month")] == [
            "Process", "Service", "Robot", "Month"]
        assert [c.header for c in COLUMNS] == COLUMNS_EN
    assert (shown.lines[0].group, shown.total.group) == ("(no process)", "Total")
    assert reports.present(saved).lines[0].group == "(sans processus)" and reports.label("month") == "Mois"
    assert [c.key for c in COLUMNS][:4] == ["hours", "minutes", "fte", "items_done"]



def test_dashboard_download_links_keep_the_page_language(history: tuple[Store, list[Planned]], tmp_path: Path) -> None:
    """A page shown with `?lang=en` (overview, services, labs, a process) links to English downloads; the same
    page without it links to the exports' French files (the language then comes from Accept-Language)."""
    store, _plans = history
    client, token = _client(store, tmp_path)
    store.ensure_process("Instruction des demandes", "DDETS 31", "robot:x")  # a record, as a first run makes it
    period = f"du={START}&au={END - timedelta(days=1)}"
    for path in ("/", "/services", "/labos", "/processus/Instruction%20des%20demandes"):
        for lang, sheets in (("&lang=en", ["Summary", "Hours per month"]), ("", ["Synthèse", "Heures par mois"])):
            page = client.get(f"{path}?{period}{lang}", headers=token)
            assert page.status_code == 200, (path, page.text[:300])
            links = {ident: html.unescape(found.group(1)) for ident in ("export-xlsx", "export-csv")
                     if (found := re.search(rf'id="{ident}" href="(.*?)"', page.text))}
            assert set(links) == {"export-xlsx", "export-csv"}, path
            assert all(("lang=en" in link) == bool(lang) for link in links.values()), (path, links)
            workbook = client.get(links["export-xlsx"], headers=token)
            assert load_workbook(io.BytesIO(workbook.content)).sheetnames[:2] == sheets, path
            header = _parse_csv(client.get(links["export-csv"], headers=token).content)[0]
            assert header[1] == ("Hours saved" if lang else "Heures économisées"), path
