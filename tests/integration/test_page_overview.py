"""The managers' overview page (`GET /`): its figures against the ledger summed by hand in the test, on
SQLite and PostgreSQL; filters as a GET form; roles; escaping; French by default; in real Chromium under
the CSP with axe-core, in both themes (screenshots artifacts/screens/overview-<theme>.png)."""

from __future__ import annotations

import html
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.testclient import TestClient

from robocore.i18n import render, use_language
from robocore.ledger import Figures
from robocore.reports import shown_rate
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import ITEM_FAILED, ItemStatus, RunStatus
from robocore.store import Store
from robocore.store.rows import ProcessStage
from robocore.web.formatting import format_hours, format_number, format_percent
from robocore.web.overview_data import overview, parse_filters
from tests.conftest import need_chromium
from tests.integration.api_support import FakeExecutor, bearer, free_port, live_server
from tests.integration.test_exports import _number as _csv_number
from tests.integration.test_exports import _parse_csv
from tests.integration.test_ledger import Planned, _record

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "4.14.1" / "axe.min.js"
SCREENS = ROOT / "artifacts" / "screens"
SCRIPT = "<script>alert(1)</script>"
QUOTES = "Dossier \"urgent\" d'Alès & Cie"
RISKY = "=cmd|' /C calc'!A0"
D, B, A, S = ItemStatus.DONE, ItemStatus.BUSINESS_ERROR, ItemStatus.APPLICATION_ERROR, ItemStatus.SKIPPED


@dataclass(frozen=True)
class Process:
    """A process of the generated history: its robot, record and minutes."""

    name: str | None
    robot: str
    service: str | None
    lab: str | None
    per_item: float
    per_run: float
    goal: float | None
    stage: ProcessStage


PROCESSES = [
    Process("Instruction des subventions", "subv", "DDETS 31", "Lab Occitanie", 4.5, 10.0, 900.0,
            ProcessStage.PRODUCTION),
    Process("Rapprochement bancaire", "rappro", "DRFiP Occitanie", "Lab Occitanie", 1.5, 20.0, 400.0,
            ProcessStage.PRODUCTION),
    Process(SCRIPT, "script", QUOTES, RISKY, 3.0, 0.0, None, ProcessStage.PRODUCTION),
    Process(QUOTES, "quotes", "DDETS 31", RISKY, 2.0, 5.0, 150.0, ProcessStage.STUDY),
    Process(RISKY, "risky", RISKY, "Lab Bretagne", 6.25, 0.0, None, ProcessStage.PRODUCTION),
    Process("Contrôle des listes", "controle", "DDETS 31", "Lab Bretagne", 2.0, 0.0, 200.0, ProcessStage.RETIRED),
    Process("Titres de séjour", "sejour", "Préfecture 35", "Lab Bretagne", 7.0, 0.0, None, ProcessStage.PRODUCTION),
    Process(None, "outil", None, None, 0.0, 0.0, None, ProcessStage.PRODUCTION),
]
LAB = {p.name: p.lab for p in PROCESSES}


def _months_back(today: date, n: int) -> date:
    first = today.replace(day=1)
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _history(today: date, seed: int = 23, count: int = 64) -> list[Planned]:
    """Runs of eight robots over the 14 months before this one: done, refused, failed, skipped items,
    every run status (one still running); dates relative to today so that the year to date has data."""
    rng = random.Random(seed)
    plans = []
    for n in range(count):
        p = PROCESSES[n % len(PROCESSES)]
        month = _months_back(today, rng.randint(1, 14))
        at = datetime(month.year, month.month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
        items = tuple(rng.choices([D, B, A, S], weights=[75, 10, 8, 7], k=rng.randint(3, 12)))
        status = (RunStatus.FAILED if n % 9 == 4 else RunStatus.CANCELLED if n % 13 == 6
                  else RunStatus.RUNNING if n == 11
                  else RunStatus.COMPLETED_WITH_ERRORS if any(s in ITEM_FAILED for s in items)
                  else RunStatus.SUCCEEDED)
        plans.append(Planned(f"run{n:03d}", p.robot, p.name, p.service, p.per_item, p.per_run, at, items, status))
    return plans


def _fill(store: Store, today: date) -> list[Planned]:
    """The history recorded as the engine records it, and the process records (service, lab, goal, stage)."""
    version = store.save_robot_version("x", "0" * 64, "robot: x\n")
    plans = _history(today)
    for plan in plans:
        _record(store, version, plan)
    for p in PROCESSES:
        if p.name is not None:
            store.ensure_process(p.name, p.service, "test")
            store.update_process(p.name, {"lab": p.lab, "goal_hours": p.goal, "stage": p.stage}, "test")
    return plans


@dataclass(frozen=True)
class Wanted:
    """A view's filters, as the test applies them to its own plans."""

    start: date | None = None
    end: date | None = None   # excluded
    process: str | None = None
    service: str | None = None
    lab: str | None = None

    def keeps(self, plan: Planned) -> bool:
        day = plan.at.date()
        return ((self.start is None or day >= self.start) and (self.end is None or day < self.end)
                and (self.process is None or plan.process == self.process)
                and (self.service is None or plan.service == self.service)
                and (self.lab is None or LAB.get(plan.process) == self.lab))


def _by_hand(plans: list[Planned], wanted: Wanted) -> Figures:
    return sum((plan.figures() for plan in plans if wanted.keeps(plan)), Figures())


def _records_by_hand(wanted: Wanted) -> tuple[int, float]:
    kept = [p for p in PROCESSES if p.name is not None and (wanted.process in (None, p.name))
            and (wanted.service in (None, p.service)) and (wanted.lab in (None, p.lab))]
    return sum(p.stage is ProcessStage.PRODUCTION for p in kept), sum(p.goal or 0.0 for p in kept)


def _today() -> date:
    return datetime.now(UTC).date()


def _expected(plans: list[Planned], wanted: Wanted) -> dict[str, str]:
    """What each figure card must show (value and formula), computed from the plans and formatted in French."""
    today = _today()
    period = _by_hand(plans, wanted)
    year = _by_hand(plans, Wanted(date(today.year, 1, 1), today + timedelta(days=1), wanted.process,
                                  wanted.service, wanted.lab))
    since = _by_hand(plans, Wanted(None, None, wanted.process, wanted.service, wanted.lab))
    production, goal = _records_by_hand(wanted)
    item_rate = shown_rate(period.items_done, period.items_attempted)
    run_rate = shown_rate(period.runs_succeeded, period.runs_finished)
    return {
        "chiffre-heures-periode": format_hours(period.minutes / 60),
        "chiffre-heures-periode formula": f"= {format_number(period.minutes, 'fr', 2)} min ÷ 60",
        "chiffre-heures-annee": format_hours(year.minutes / 60),
        "chiffre-heures-annee formula": f"= {format_number(year.minutes, 'fr', 2)} min ÷ 60",
        "chiffre-heures-total": format_hours(since.minutes / 60),
        "chiffre-heures-total formula": f"= {format_number(since.minutes, 'fr', 2)} min ÷ 60",
        "chiffre-etp": format_number(period.minutes / 60 / 1607, "fr", 2),
        "chiffre-etp formula": f"= {format_number(period.minutes / 60, 'fr', 2)} h ÷ {format_number(1607, 'fr')} h",
        "chiffre-production": format_number(production, "fr"),
        "chiffre-elements": format_number(period.items_attempted, "fr"),
        "chiffre-elements formula": f"= {format_number(period.items_done, 'fr')} réussis + "
                                    f"{format_number(period.items_attempted - period.items_done, 'fr')} en échec",
        "chiffre-reussite-elements": format_percent(item_rate) if item_rate is not None else "—",
        "chiffre-reussite-elements formula": f"= {format_number(period.items_done, 'fr')} ÷ "
                                             f"{format_number(period.items_attempted, 'fr')}",
        "chiffre-reussite-executions": format_percent(run_rate) if run_rate is not None else "—",
        "chiffre-reussite-executions formula": f"= {format_number(period.runs_succeeded, 'fr')} ÷ "
                                               f"{format_number(period.runs_finished, 'fr')}",
        "chiffre-objectif": format_percent(year.minutes / 60 / goal) if goal else "—",
        **({"chiffre-objectif formula": f"= {format_number(year.minutes / 60, 'fr', 2)} h ÷ "
                                        f"{format_number(goal, 'fr', 2)} h"} if goal else {}),
    }


def _period_query(today: date) -> tuple[Wanted, str]:
    """Twelve whole months ending last month, as explicit first and last days."""
    start, end = _months_back(today, 12), today.replace(day=1)
    return Wanted(start, end), f"du={start.isoformat()}&au={(end - timedelta(days=1)).isoformat()}"


# ---- without a browser: the HTML's figures, SQLite and PostgreSQL -------------------------------------
_CARD = r'id="{}">\s*<p class="rc-figure__value">(.*?)</p>'
_FORMULA = r'id="{}">.*?<p class="rc-formula">(.*?)</p>'


def _cards(page: str) -> dict[str, str]:
    """Each figure card's value and formula, as text (entities decoded, spaces collapsed)."""
    shown: dict[str, str] = {}
    for key in ("chiffre-heures-periode", "chiffre-heures-annee", "chiffre-heures-total", "chiffre-etp",
                "chiffre-production", "chiffre-elements", "chiffre-reussite-elements", "chiffre-reussite-executions",
                "chiffre-objectif"):
        found = re.search(_CARD.format(key), page, re.DOTALL)
        assert found, key
        shown[key] = html.unescape(found.group(1)).strip()
        formula = re.search(_FORMULA.format(key), page, re.DOTALL)
        if formula and formula.start(1) < page.find("</details>", found.end()):
            text = html.unescape(formula.group(1)).strip()
            shown[f"{key} formula"] = text[text.index("="):]
    return shown


@pytest.fixture
def filled(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Store, list[Planned], dict[str, str]]]:
    """A store with the generated history, the app over it, and a token per role."""
    store = Store(store_url)
    plans = _fill(store, _today())
    app = create_app(store, None, FakeExecutor(), robots_dir=tmp_path)
    tokens = {role: create_token(store, f"jeton-{role}", role) for role in ("agent", "manager", "engineer", "admin")}
    with TestClient(app) as client:
        yield client, store, plans, tokens
    store.close()


def test_figures_equal_the_ledger_summed_by_hand(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                                 ) -> None:
    """For twelve months, then for a service, a lab and a process, every figure and formula on the page is
    the test's own sum of what it recorded (minutes to the hundredth, items and runs exactly)."""
    client, _store, plans, tokens = filled
    wanted, query = _period_query(_today())
    period = {k: v[0] for k, v in parse_qs(query).items()}
    views = [(wanted, {}),
             (Wanted(wanted.start, wanted.end, service="DDETS 31"), {"service": "DDETS 31"}),
             (Wanted(wanted.start, wanted.end, lab=RISKY), {"labo": RISKY}),
             (Wanted(wanted.start, wanted.end, process=QUOTES), {"processus": QUOTES})]
    for view, scope in views:
        answer = client.get("/", params={**period, **scope}, headers=bearer(tokens["manager"]))
        assert answer.status_code == 200, answer.text[:500]
        expected = _expected(plans, view)
        assert _by_hand(plans, view).minutes > 0, view  # every view has figures to compare
        assert _cards(answer.text) == expected, view


def test_top_processes_and_the_chart_table_add_up(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                                  ) -> None:
    """The chart's table total is the period's hours, the "autres" series is there (more processes than the
    chart draws), and the top table lists processes by hours with their share."""
    client, _store, plans, tokens = filled
    wanted, query = _period_query(_today())
    page = client.get(f"/?{query}", headers=bearer(tokens["engineer"])).text
    by_process: dict[str | None, float] = {}
    for plan in plans:
        if wanted.keeps(plan) and plan.process is not None:
            by_process[plan.process] = by_process.get(plan.process, 0.0) + plan.figures().minutes
    ranked = sorted(((m, n) for n, m in by_process.items() if m > 0), key=lambda t: (-t[0], t[1]))
    table = page[page.index('id="top-processus"'):]
    links = re.findall(r'<tr><th scope="row"><a href="(.*?)">(.*?)</a></th>', table)
    names = [html.unescape(n) for _, n in links]
    assert names == [n for _, n in ranked]
    # each process links to its page (the name quoted whole), which shows the same name
    assert [html.unescape(href) for href, _ in links] == [f"/processus/{quote(n, safe='')}" for _, n in ranked]
    total = sum(by_process.values())
    first = re.search(r'<tr><th scope="row">.*?</th><td class="rc-num">(.*?)</td>.*?</td>.*?</td>'
                      r'<td class="rc-num">(.*?)</td>', table)
    assert first and html.unescape(first.group(1)) == format_hours(ranked[0][0] / 60)
    assert html.unescape(first.group(2)) == format_percent(ranked[0][0] / total)
    chart = page[page.index('id="heures-par-mois-donnees"'):page.index('id="top-processus"')]
    assert "<th scope=\"col\">autres</th>" in chart and "<th scope=\"col\">Total</th>" in chart
    assert chart.count("<tr><th scope=\"row\">") == 12  # one row per month of the period


def test_roles_sign_in_and_bad_filters(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """An agent gets a 403 page in French; no credentials (no OIDC configured): a 401 page saying how to sign
    in; admin and engineer see the page; a bad date or preset is a French message on a 400 page, not a 500."""
    client, _store, _plans, tokens = filled
    agent = client.get("/", headers=bearer(tokens["agent"]))
    assert agent.status_code == 403 and "Accès refusé" in agent.text and "votre rôle (agent)" in agent.text
    assert 'id="chiffre-heures-periode"' not in agent.text and agent.headers["content-type"].startswith("text/html")
    anonymous = client.get("/")
    assert anonymous.status_code == 401 and "Connexion requise" in anonymous.text
    assert "Authorization: Bearer" in anonymous.text
    for role in ("admin", "engineer"):
        assert client.get("/apercu", headers=bearer(tokens[role])).status_code == 200
    bad = client.get("/?du=2026-02-30&au=2026-03-01", headers=bearer(tokens["manager"]))
    assert bad.status_code == 400 and "date invalide pour « du » : « 2026-02-30 »" in html.unescape(bad.text)
    assert 'id="erreur-filtre"' in bad.text and 'id="chiffre-heures-periode"' not in bad.text
    reversed_ = client.get("/?du=2026-03-01&au=2026-01-01", headers=bearer(tokens["manager"]))
    assert reversed_.status_code == 400 and "la fin de la période précède son début" in html.unescape(reversed_.text)
    preset = client.get("/?periode=semaine", headers=bearer(tokens["manager"]))
    assert preset.status_code == 400 and "période inconnue « semaine »" in html.unescape(preset.text)
    english = client.get("/?periode=semaine&lang=en", headers=bearer(tokens["manager"]))
    assert english.status_code == 400 and "unknown period &#39;semaine&#39;" in english.text
    assert "This filter cannot be applied" in english.text


def test_french_by_default_english_on_request(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                              ) -> None:
    """French texts and formats by default; `?lang=en` and Accept-Language give English."""
    client, _store, _plans, tokens = filled
    french = client.get("/", headers=bearer(tokens["manager"])).text
    assert '<html lang="fr"' in french and "Heures économisées sur la période" in french
    assert "Réussite des éléments" in french and "Principaux processus" in french
    english = client.get("/?lang=en", headers=bearer(tokens["manager"])).text
    assert '<html lang="en"' in english and "Hours saved in the period" in english and "Top processes" in english
    accepted = client.get("/", headers={**bearer(tokens["manager"]), "Accept-Language": "en-GB,en;q=0.8"}).text
    assert "Hours saved in the period" in accepted


def test_layout_and_macro_texts_follow_the_page_language(
        filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """The fixed texts of base.html and macros.html (skip link, "how is it calculated", the chart's note,
    its table's caption and Total column, the footer) come from the catalogue: French by default,
    English with `?lang=en`, never the other language's text."""
    client, _store, _plans, tokens = filled
    french = html.unescape(client.get("/", headers=bearer(tokens["manager"])).text)
    english = html.unescape(client.get("/?lang=en", headers=bearer(tokens["manager"])).text)
    both = [("Comment est-ce calculé ?", "How is it calculated?"),
            ("Aller au contenu", "Skip to content"),
            ("Les valeurs du graphique sont dans le tableau qui suit.",
             "The chart's values are in the table that follows."),
            ("Heures économisées par mois et par processus — données du graphique",
             "Hours saved per month, by process — chart data"),
            ("Robocore est un logiciel libre (licence MIT).", "Robocore is free software (MIT licence)."),
            ("Heures de travail économisées par les robots", "Working hours saved by the robots")]
    for fr, en in both:
        assert fr in french and en not in french, fr
        assert en in english and fr not in english, en
    assert '<th scope="col">Total</th>' in french and '<th scope="col">Total</th>' in english


def test_hostile_names_are_escaped(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """Process, service and lab names with a script tag, quotes and a formula are escaped text everywhere:
    in the filters' options, the top table, the chart's table and the period line."""
    client, _store, _plans, tokens = filled
    _wanted, query = _period_query(_today())
    page = client.get("/", params={**parse_qs(query), "processus": SCRIPT, "service": QUOTES, "labo": RISKY},
                      headers=bearer(tokens["manager"])).text
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert QUOTES not in page and "Dossier &#34;urgent&#34; d&#39;Alès &amp; Cie" in page
    assert RISKY not in page and "=cmd|&#39; /C calc&#39;!A0" in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None


def test_export_links_carry_the_period_and_download(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                                    ) -> None:
    """The Excel and CSV links name the page's period (start included, end excluded) and answer the file."""
    client, _store, _plans, tokens = filled
    wanted, query = _period_query(_today())
    page = client.get(f"/?{query}", headers=bearer(tokens["manager"])).text
    for ident, suffix in (("export-xlsx", "xlsx"), ("export-csv", "csv")):
        link = html.unescape(re.search(rf'id="{ident}" href="(.*?)"', page).group(1))  # type: ignore[union-attr]
        parts = urlsplit(link)
        assert parts.path == f"/api/v1/reports/hours-saved.{suffix}"
        assert parse_qs(parts.query) == {"start": [wanted.start.isoformat()], "end": [wanted.end.isoformat()],
                                         "by": ["process"]}
        answer = client.get(link, headers=bearer(tokens["manager"]))
        assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]


def test_filtered_exports_total_the_page_figures(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                                 ) -> None:
    """With a service, a lab (the process records'), a process, or a service and a lab, the page's download
    links carry the filters, and the CSV's total line (minutes, items, runs) and the workbook's are the
    page's own figures for the same filters, and the test's sum by hand: less than the whole period."""
    client, store, plans, tokens = filled
    wanted, query = _period_query(_today())
    period = {k: v[0] for k, v in parse_qs(query).items()}
    views = [(Wanted(wanted.start, wanted.end, service="DDETS 31"), {"service": "DDETS 31"}),
             (Wanted(wanted.start, wanted.end, lab=RISKY), {"labo": RISKY}),
             (Wanted(wanted.start, wanted.end, lab="Lab Bretagne"), {"labo": "Lab Bretagne"}),
             (Wanted(wanted.start, wanted.end, process=QUOTES), {"processus": QUOTES}),
             (Wanted(wanted.start, wanted.end, service="DDETS 31", lab="Lab Occitanie"),
              {"service": "DDETS 31", "labo": "Lab Occitanie"})]
    everything = _by_hand(plans, wanted)
    for view, scope in views:
        page = client.get("/", params={**period, **scope}, headers=bearer(tokens["manager"])).text
        assert "The files cover" not in page and "Les fichiers couvrent" not in page
        shown = overview(store, parse_filters({**period, **scope}, _today()), _today(), 1607.0)
        by_hand = _by_hand(plans, view)
        assert 0 < by_hand.minutes < everything.minutes, view
        link = html.unescape(re.search(r'id="export-csv" href="(.*?)"', page).group(1))  # type: ignore[union-attr]
        names = {"processus": "process", "service": "service", "labo": "lab"}
        assert {k: v for k, v in parse_qs(urlsplit(link).query).items() if k in names.values()} == {
            names[k]: [v] for k, v in scope.items()}
        answer = client.get(link, headers=bearer(tokens["manager"]))
        assert answer.status_code == 200, answer.text[:300]
        header, rows = _parse_csv(answer.content)
        total = dict(zip(header[1:], rows["Total"], strict=True))
        assert _csv_number(total["Minutes économisées"]) == pytest.approx(shown.minutes_period, abs=1e-6)
        assert _csv_number(total["Minutes économisées"]) == pytest.approx(by_hand.minutes, abs=1e-6)
        assert int(total["Éléments traités"]) == shown.items_attempted == by_hand.items_attempted
        assert int(total["Éléments réussis"]) == shown.items_done
        assert int(total["Exécutions terminées"]) == shown.runs_finished
        assert int(total["Exécutions réussies"]) == shown.runs_succeeded
        workbook = client.get(link.replace("hours-saved.csv", "hours-saved.xlsx"), headers=bearer(tokens["manager"]))
        assert workbook.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).worksheets[0]
        minutes = [row for row in sheet.iter_rows(values_only=True) if row and row[0] == "Total"]
        assert minutes and minutes[0][2] == pytest.approx(shown.minutes_period, abs=1e-6)
        assert sheet["C4"].value == "Filtres" and all(name in sheet["D4"].value for name in scope.values())
    refused = client.get(f"/api/v1/reports/hours-saved.csv?{urlencode({'lab': 'x' * 201})}",
                         headers=bearer(tokens["manager"]))
    assert refused.status_code == 422


# ---- in Chromium ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Planned], dict[str, str]]]:
    """A SQLite store with the history, served by uvicorn, with axe-core from the same origin."""
    root = tmp_path_factory.mktemp("overview")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCORE_HOME", str(root))
        env.delenv("ROBOCORE_DATABASE_URL", raising=False)
        env.delenv("ROBOCORE_OIDC_ISSUER", raising=False)
        store = Store(f"sqlite:///{root / 'robocore.db'}")
        plans = _fill(store, _today())
        tokens = {role: create_token(store, f"jeton-{role}", role) for role in ("agent", "manager")}
        app: FastAPI = create_app(store, executor=FakeExecutor(), robots_dir=root)
        app.add_api_route("/essai-axe.js", lambda: FileResponse(AXE, media_type="text/javascript"))
        with live_server(app) as url:
            yield url, plans, tokens
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    from robocore.actions._browser_launch import LAUNCH_ARGS
    from robocore.actions._browser_session import find_chromium

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(find_chromium()), headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _read_cards(page: Any) -> dict[str, str]:
    """The figure cards as the browser shows them (values, and the formulas once each card is opened)."""
    shown: dict[str, str] = {}
    for card in page.locator(".rc-figure").all():
        key = card.get_attribute("id")
        shown[key] = card.locator(".rc-figure__value").inner_text().strip()
        card.locator("summary").click()
        formula = card.locator(".rc-formula")
        if formula.count():
            text = formula.inner_text().strip()
            shown[f"{key} formula"] = text[text.index("="):]
    return shown


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_overview_in_chromium(browser: Any, served: tuple[str, list[Planned], dict[str, str]], theme: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A manager's browser (bearer header) opens twelve months: the cards equal the test's sums; choosing a
    service in the form and submitting it gives a shareable URL whose cards equal the sums for that service;
    hostile names are text (no dialog, no inline script); no CSP refusal; axe-core finds no serious or
    critical violation. Screenshots artifacts/screens/overview-<theme>.png."""
    monkeypatch.setenv("ROBOCORE_THEME", theme)
    url, plans, tokens = served
    wanted, query = _period_query(_today())
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                  extra_http_headers=bearer(tokens["manager"]))
    page = context.new_page()
    page.set_default_timeout(30_000)
    console: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(f"{url}/?{query}", wait_until="load")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"overview-{theme}.png"), full_page=True)
        assert _read_cards(page) == _expected(plans, wanted)
        assert page.locator("#heures-par-mois svg[role=img]").count() == 1
        rows = page.locator("#top-processus tbody th[scope=row]").all_inner_texts()
        assert SCRIPT in rows and QUOTES in rows and RISKY in rows
        assert page.locator("script:not([src])").count() == 0 and dialogs == []

        page.select_option("#filtre-service", label=QUOTES)
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_load_state("load")
        shared = urlsplit(page.url)
        assert parse_qs(shared.query)["service"] == [QUOTES]
        assert parse_qs(shared.query)["du"] == [str(wanted.start)]
        assert _read_cards(page) == _expected(plans, Wanted(wanted.start, wanted.end, service=QUOTES))
        assert page.locator("#top-processus tbody th[scope=row]").all_inner_texts() == [SCRIPT]
        page.screenshot(path=str(SCREENS / f"overview-{theme}-service.png"), full_page=True)

        page.add_script_tag(url="/essai-axe.js")
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
                   for v in results["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == []
        assert [m for m in console if "Content Security Policy" in m or "Refused" in m] == []
    finally:
        context.close()


@pytest.mark.browser
def test_agent_sees_the_refusal_in_chromium(browser: Any, served: tuple[str, list[Planned], dict[str, str]]) -> None:
    """An agent's browser gets the French 403 page, with no figure."""
    url, _plans, tokens = served
    context = browser.new_context(locale="fr-FR", extra_http_headers=bearer(tokens["agent"]))
    page = context.new_page()
    try:
        answer = page.goto(f"{url}/", wait_until="load")
        assert answer is not None and answer.status == 403
        assert page.locator("h1").inner_text() == "Accès refusé" and page.locator(".rc-figure").count() == 0
    finally:
        context.close()


@pytest.mark.browser
def test_sign_in_through_a_real_provider_then_the_overview(browser: Any,
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    """End to end with the test OpenID Connect provider (tests/oidc): a browser without a session asking for
    a view gets the 401 page and its "Se connecter" button, signs in at the provider as a manager (alice),
    comes back to that very view and reads cards equal to the test's sums."""
    from tests.integration.test_oidc import CLIENT_ID, CLIENT_SECRET, provider

    root = tmp_path_factory.mktemp("overview-oidc")
    provider_port = free_port()
    wanted, query = _period_query(_today())
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCORE_HOME", str(root / "home"))
        env.delenv("ROBOCORE_DATABASE_URL", raising=False)
        env.delenv("ROBOCORE_PUBLIC_URL", raising=False)
        env.setenv("ROBOCORE_OIDC_ISSUER", f"http://127.0.0.1:{provider_port}")
        env.setenv("ROBOCORE_OIDC_CLIENT_ID", CLIENT_ID)
        env.setenv("ROBOCORE_SECRET_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        store = Store(f"sqlite:///{root / 'robocore.db'}")
        plans = _fill(store, _today())
        app = create_app(store, None, FakeExecutor(), robots_dir=root)
        try:
            with live_server(app) as base, provider(provider_port, base):
                context = browser.new_context(locale="fr-FR")
                try:
                    # the provider's development pages load a web font from the internet: loopback only
                    context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: route.abort())
                    page = context.new_page()
                    page.set_default_timeout(30_000)
                    answer = page.goto(f"{base}/?{query}")
                    assert answer is not None and answer.status == 401
                    assert page.locator("h1").inner_text() == "Connexion requise"
                    page.get_by_role("link", name="Se connecter").click()
                    page.fill("input[name=login]", "alice")
                    page.fill("input[name=password]", "secret-d-alice")
                    page.click("button[type=submit]")
                    page.wait_for_url(f"{base}/?{query}")
                    assert page.locator(".rc-person__name").inner_text().strip().endswith("alice@ddets.gouv.fr")
                    assert _read_cards(page) == _expected(plans, wanted)
                    # the menu leads to the other sections; signing out (a form with the CSRF token) ends the session
                    assert page.locator("#navigation [aria-current=page]").inner_text() == "Vue d'ensemble"
                    page.get_by_role("button", name="Se déconnecter").click()
                    page.wait_for_load_state()
                    assert page.goto(f"{base}/").status == 401
                finally:
                    context.close()
        finally:
            store.close()


@pytest.mark.parametrize(("params", "first", "after"), [
    ({}, date(2026, 1, 1), date(2026, 5, 16)),
    ({"periode": "annee"}, date(2026, 1, 1), date(2026, 5, 16)),
    ({"periode": "trimestre"}, date(2026, 4, 1), date(2026, 5, 16)),
    ({"periode": "12mois"}, date(2025, 6, 1), date(2026, 5, 16)),
    ({"periode": "12mois", "du": "2024-02-01", "au": "2024-02-29"}, date(2024, 2, 1), date(2024, 3, 1)),
    ({"du": "2026-01-10"}, date(2026, 1, 10), date(2026, 5, 16)),
])
def test_presets_and_dates_give_the_days_shown(params: dict[str, str], first: date, after: date) -> None:
    """Presets end today (included); explicit days win over a preset; `au` is the last day shown."""
    from robocore.web.overview_data import parse_filters

    filters = parse_filters(params, date(2026, 5, 15))
    assert (filters.start, filters.end) == (first, after)


@pytest.mark.parametrize(("params", "message"), [
    ({"au": "2026-01-10"}, "« du » manque"),
    ({"du": "2016-01-01", "au": "2026-12-31"}, "période de plus de dix ans"),
    ({"processus": "x" * 201}, "valeur refusée pour « processus »"),
    ({"labo": "a\x00b"}, "valeur refusée pour « labo »"),
])
def test_bad_filters_name_the_field(params: dict[str, str], message: str) -> None:
    from robocore.web.overview_data import FilterError, parse_filters

    with pytest.raises(FilterError) as caught:
        parse_filters(params, date(2026, 5, 15))
    assert message in render(caught.value.message, "fr")


def test_a_refused_filter_speaks_the_language_it_is_shown_in() -> None:
    """A refused filter carries one message, French by default and English in English, never both glued
    together; the period checked by the exports (robocore.exports.period) likewise."""
    from robocore.web.overview_data import FilterError, parse_filters

    with pytest.raises(FilterError) as caught:
        parse_filters({"du": "2026-02-30"}, date(2026, 5, 15))
    assert caught.value.field == "du"
    assert str(caught.value) == "date invalide pour « du » : « 2026-02-30 » (attendu AAAA-MM-JJ)"
    with use_language("en"):
        assert str(caught.value) == "invalid date for 'du': '2026-02-30' (expected YYYY-MM-DD)"
    with pytest.raises(FilterError) as period:
        parse_filters({"du": "2016-01-01", "au": "2026-12-31"}, date(2026, 5, 15))
    french = str(period.value)
    with use_language("en"):
        english = str(period.value)
    assert french.startswith("période de plus de dix ans") and "ten years" not in french
    assert "2016-01-01" in english and "période" not in english and "dix ans" not in english


def test_a_service_seen_only_on_runs_is_offered_in_the_filter(
        filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """A robot may run a process for another service than its record's: that service is offered in the
    service list (not only reachable by typing the address), and choosing it shows its hours."""
    client, store, plans, tokens = filled
    records = {r.service for r in store.list_processes() if r.service}
    on_runs = {p.service for p in plans if p.service} - records
    version = store.save_robot_version("outil", "1" * 64, "robot: outil\n")
    extra = Planned("r-other-service", "outil", plans[0].process, "DDETS 34", 6.0, 0.0,
                    datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1), (D, D), RunStatus.SUCCEEDED)
    _record(store, version, extra)
    page = client.get("/", headers=bearer(tokens["manager"])).text
    select = page[page.index('id="filtre-service"'):page.index("</select>", page.index('id="filtre-service"'))]
    offered = {html.unescape(v) for v in re.findall(r'<option value="([^"]+)"', select)}
    assert offered == records | on_runs | {"DDETS 34"}
    shown = client.get("/?service=DDETS%2034", headers=bearer(tokens["manager"])).text
    assert "0,2\u202fh" in shown  # 2 done items × 6 min = 12 min
