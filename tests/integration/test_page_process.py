"""The process pages (`/processus`, `/processus/{name}`, `/processus/{name}/modifier`): figures against the
history summed by hand in the test and against the overview filtered to the process, on SQLite and
PostgreSQL; filters; 404; roles; the edit form (the API's rules, CSRF); escaping; French and English; in
real Chromium with axe-core in both themes (screenshots artifacts/screens/process-<theme>.png)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.testclient import TestClient
from sqlalchemy import text

from robocore import processes
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import RunStatus
from robocore.store import Store
from robocore.web.formatting import format_hours, format_number, format_percent
from robocore.web.sessions import SESSION_COOKIE, Sessions
from tests.integration.api_support import FakeExecutor, bearer, live_server
from tests.integration.test_exports import _number as _csv_number
from tests.integration.test_exports import _parse_csv
from tests.integration.test_ledger import Planned, _record
from tests.integration.test_page_overview import (
    _CARD,
    _FORMULA,
    AXE,
    PROCESSES,
    QUOTES,
    RISKY,
    SCREENS,
    SCRIPT,
    A,
    B,
    D,
    Wanted,
    _by_hand,
    _expected,
    _fill,
    _months_back,
    _period_query,
    _today,
    browser,  # noqa: F401  (the module's Chromium, a fixture)
)

SUBV = "Instruction des subventions"
CARDS = ("chiffre-heures-periode", "chiffre-heures-annee", "chiffre-heures-total", "chiffre-elements",
         "chiffre-reussite-elements", "chiffre-reussite-executions", "chiffre-objectif")
MESSAGES = [SCRIPT, QUOTES, RISKY]  # error messages of the extra runs, most frequent first


def url(name: str, suffix: str = "") -> str:
    return f"/processus/{quote(name, safe='')}{suffix}"


def _extra(store: Store, today: date) -> list[Planned]:
    """Runs of robot `subv` at a new version with other minutes (the history's second line), their failed
    items holding hostile messages (3, 2 and 1 of them), and a run of a second robot on the same process."""
    version = store.save_robot_version("subv", "1" * 64, "robot: subv\n")
    month = _months_back(today, 2)
    plans = [Planned("extra0", "subv", SUBV, "DDETS 31", 6.0, 12.0, datetime(month.year, month.month, 3, 9),
                     (D, D, B, B, B, A), RunStatus.COMPLETED_WITH_ERRORS),
             Planned("extra1", "subv", SUBV, "DDETS 31", 6.0, 12.0, datetime(month.year, month.month, 4, 9),
                     (D, A, A, D), RunStatus.COMPLETED_WITH_ERRORS),
             Planned("extra2", "subv-bis", SUBV, "DDETS 31", 3.0, 0.0, datetime(month.year, month.month, 5, 9),
                     (D, D, D), RunStatus.SUCCEEDED)]
    for plan in plans:
        _record(store, version, plan)
    with store.engine.begin() as conn:
        for run, key, message in (("extra0", "L-2", SCRIPT), ("extra0", "L-3", SCRIPT), ("extra0", "L-4", SCRIPT),
                                  ("extra0", "L-5", QUOTES), ("extra1", "L-1", QUOTES), ("extra1", "L-2", RISKY)):
            conn.execute(text("UPDATE items SET error = :e WHERE run_id = :r AND key = :k"),
                         {"e": message, "r": run, "k": key})
        conn.execute(text("UPDATE runs SET created_by = :c WHERE id = 'extra0'"), {"c": SCRIPT})
    return plans


@pytest.fixture
def filled(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Store, list[Planned], dict[str, str]]]:
    """A store with the overview's generated history and the extra runs, the app, a token per role."""
    store = Store(store_url)
    plans = _fill(store, _today()) + _extra(store, _today())
    app = create_app(store, None, FakeExecutor(), robots_dir=tmp_path)
    tokens = {role: create_token(store, f"jeton-{role}", role) for role in ("agent", "manager", "engineer", "admin")}
    with TestClient(app) as client:
        yield client, store, plans, tokens
    store.close()


def _cards(page: str, keys: tuple[str, ...] = CARDS) -> dict[str, str]:
    """The named figure cards' values and formulas, as text."""
    shown: dict[str, str] = {}
    for key in keys:
        found = re.search(_CARD.format(key), page, re.DOTALL)
        assert found, key
        shown[key] = html.unescape(found.group(1)).strip()
        formula = re.search(_FORMULA.format(key), page, re.DOTALL)
        if formula and formula.start(1) < page.find("</details>", found.end()):
            text_ = html.unescape(formula.group(1)).strip()
            shown[f"{key} formula"] = text_[text_.index("="):]
    return shown


def _expected_process(plans: list[Planned], wanted: Wanted) -> dict[str, str]:
    """The overview's expected cards for a process (the test's own sums), the goal the process's own."""
    expected = {k: v for k, v in _expected(plans, wanted).items() if k.split(" ")[0] in CARDS}
    goal = next(p.goal for p in PROCESSES if p.name == wanted.process)
    today = _today()
    year = _by_hand(plans, Wanted(date(today.year, 1, 1), today + timedelta(days=1), wanted.process))
    expected.pop("chiffre-objectif formula", None)
    expected["chiffre-objectif"] = format_percent(year.minutes / 60 / goal) if goal else "—"
    if goal:
        expected["chiffre-objectif formula"] = (f"= {format_number(year.minutes / 60, 'fr', 2)} h ÷ "
                                                f"{format_number(goal, 'fr', 2)} h")
    return expected


def _rows(page: str, ident: str) -> list[list[str]]:
    """The body rows of the table inside the element `ident`, as text cells."""
    start = page.index(f'id="{ident}"')
    body = page[page.index("<tbody>", start):page.index("</tbody>", start)]
    cells = r"<t[hd][^>]*>(.*?)</t[hd]>"
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(cells, row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def test_figures_equal_the_ledger_and_the_overview(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                                   ) -> None:
    """For twelve months, each process's cards (hours of the period, year, since the start, items, item and
    run success, goal) are the test's own sums, and the overview filtered to that process shows the same."""
    client, _store, plans, tokens = filled
    wanted, query = _period_query(_today())
    period = {k: v[0] for k, v in parse_qs(query).items()}
    for name in (SUBV, SCRIPT, QUOTES, RISKY):
        view = Wanted(wanted.start, wanted.end, process=name)
        assert _by_hand(plans, view).minutes > 0, name
        page = client.get(url(name), params=period, headers=bearer(tokens["manager"]))
        assert page.status_code == 200, page.text[:500]
        shown = _cards(page.text)
        assert shown == _expected_process(plans, view), name
        overview = client.get("/", params={**period, "processus": name}, headers=bearer(tokens["manager"])).text
        same = _cards(overview, CARDS[:-1])
        assert {k: v for k, v in shown.items() if not k.startswith("chiffre-objectif")} == same, name


def test_months_failures_runs_and_minutes_history(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                                  ) -> None:
    """The month tables add up to the period's hours and items; business and application errors and the
    top messages are counted by hand; recent runs link to their pages; the minutes history shows the new
    version's minutes and the robot that changed them."""
    client, _store, plans, tokens = filled
    wanted, query = _period_query(_today())
    page = client.get(f"{url(SUBV)}?{query}", headers=bearer(tokens["engineer"])).text
    kept = [p for p in plans if Wanted(wanted.start, wanted.end, process=SUBV).keeps(p)]
    months = _rows(page, "heures-par-mois-donnees")
    assert len(months) == 12
    by_month: dict[str, float] = {}
    for plan in kept:
        by_month[f"{plan.at:%Y-%m}"] = by_month.get(f"{plan.at:%Y-%m}", 0.0) + plan.figures().minutes
    assert [row[1] for row in months] == [format_hours(by_month.get(f"{_months_back(_today(), 12 - i):%Y-%m}", 0.0)
                                                       / 60) for i in range(12)]
    items = _rows(page, "elements-par-mois-donnees")
    assert sum(int(row[1]) for row in items) == sum(p.items.count(D) for p in kept)
    business, application = sum(p.items.count(B) for p in kept), sum(p.items.count(A) for p in kept)
    assert sum(int(row[2]) for row in items) == business and sum(int(row[3]) for row in items) == application
    assert _cards(page, ("chiffre-erreurs-metier", "chiffre-erreurs-application")) == {
        "chiffre-erreurs-metier": str(business), "chiffre-erreurs-application": str(application)}
    counted = [("refusé", "business_error", business - 3), ("refusé", "application_error", application - 3),
               (SCRIPT, "business_error", 3), (QUOTES, "application_error", 2), (RISKY, "application_error", 1)]
    kinds = {"business_error": "erreur métier", "application_error": "erreur technique"}
    assert _rows(page, "messages-erreur") == [[m, kinds[k], str(n)] for m, k, n in
                                              sorted(counted, key=lambda c: (-c[2], c[1], c[0]))]
    runs = _rows(page, "executions-recentes")
    assert len(runs) == len(kept) and runs[0][1] in ("subv", "subv-bis")
    assert [SCRIPT] == [row[5] for row in runs if row[5] != "—"]
    assert 'href="/executions/extra0"' in page
    history = _rows(page, "historique-minutes")
    changed = [row for row in history if row[1:4] == ["subv", "6", "12"]]
    assert changed and "les a modifiées de 4,5 à 6 min par élément et de 10 à 12 min par exécution" in changed[0][5]
    assert "version 2 (111111111111)" in changed[0][5]
    first = [row for row in history if row[1] == "subv-bis"]
    assert len(first) == 1 and first[0][2:5] == ["3", "0", "1"] and "Premières minutes du robot subv-bis" in first[0][5]


def test_the_list_of_processes(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """Every record is listed with its stage in French, its hours this year (the test's sums), estimate (the
    API's function) and progress; service and lab filters keep the records' own; links quote the name."""
    client, store, plans, tokens = filled
    store.update_process(SUBV, {"annual_volume": 1000}, "test")
    today = _today()
    page = client.get("/processus", headers=bearer(tokens["manager"])).text
    rows = {row[0]: row for row in _rows(page, "liste-processus")}
    assert set(rows) == {p.name for p in PROCESSES if p.name}
    year = Wanted(date(today.year, 1, 1), today + timedelta(days=1))
    for p in PROCESSES:
        if p.name is None:
            continue
        minutes = _by_hand(plans, Wanted(year.start, year.end, process=p.name)).minutes
        assert rows[p.name][7] == format_hours(minutes / 60), p.name
        assert rows[p.name][1] == {"production": "en production", "study": "en étude",
                                   "retired": "retiré"}[p.stage.value]
    [shown] = processes.figures(store, [store.get_process(SUBV)], today)  # type: ignore[list-item]
    assert shown.estimated_hours and rows[SUBV][5] == format_hours(shown.estimated_hours)
    latest = max((p for p in plans if p.process == SUBV), key=lambda p: p.at)  # the minutes in force
    assert rows[SUBV][4] == f"{format_number(latest.per_item, 'fr', 2)} / {format_number(latest.per_run, 'fr', 2)}"
    assert f'href="{html.escape(url(SCRIPT))}"' in page or f'href="{url(SCRIPT)}"' in page
    lab = client.get("/processus", params={"labo": RISKY}, headers=bearer(tokens["manager"])).text
    assert {row[0] for row in _rows(lab, "liste-processus")} == {SCRIPT, QUOTES}
    service = client.get("/processus", params={"service": "DDETS 31", "periode": "12mois"},
                         headers=bearer(tokens["manager"])).text
    assert {row[0] for row in _rows(service, "liste-processus")} == {SUBV, QUOTES, "Contrôle des listes"}
    bad = client.get("/processus?du=2026-13-01", headers=bearer(tokens["manager"]))
    assert bad.status_code == 400 and "date invalide pour « du »" in html.unescape(bad.text)


def test_unknown_process_roles_and_bad_filters(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                               ) -> None:
    """An unknown process is a 404 page naming it (escaped); an agent gets 403 and no figure; without
    credentials, 401; a manager sees no edit link and is refused the form (GET and POST); a bad date is a 400."""
    client, _store, _plans, tokens = filled
    missing = client.get(url("Inconnu <b>"), headers=bearer(tokens["manager"]))
    assert missing.status_code == 404 and "Inconnu &lt;b&gt;" in missing.text and "<b>" not in missing.text
    assert client.get(url("Inconnu", "/modifier"), headers=bearer(tokens["engineer"])).status_code == 404
    for path in ("/processus", url(SUBV)):
        agent = client.get(path, headers=bearer(tokens["agent"]))
        assert agent.status_code == 403 and "Accès refusé" in agent.text and "rc-figure" not in agent.text
        assert client.get(path).status_code == 401
    manager = client.get(url(SUBV), headers=bearer(tokens["manager"])).text
    assert 'id="modifier"' not in manager
    assert client.get(url(SUBV, "/modifier"), headers=bearer(tokens["manager"])).status_code == 403
    refused = client.post(url(SUBV, "/modifier"), data={"lab": "x"}, headers=bearer(tokens["manager"]))
    assert refused.status_code == 403
    for role in ("engineer", "admin"):
        page = client.get(url(SUBV), headers=bearer(tokens[role])).text
        assert f'id="modifier" href="{url(SUBV, "/modifier")}"' in page
    bad = client.get(url(SUBV), params={"periode": "semaine"}, headers=bearer(tokens["manager"]))
    assert bad.status_code == 400 and "période inconnue « semaine »" in html.unescape(bad.text)


def _api_message(field: str, value: str, lang: str) -> str:
    """The API's own message refusing `value` for `field` (robocore.processes, as PATCH answers it)."""
    with pytest.raises(processes.InvalidProcess) as refused:
        processes.parse_changes({field: value})
    return refused.value.fr if lang == "fr" else refused.value.en


def test_edit_form_uses_the_api_rules(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """The form shows the record; wrong values are refused with the API's messages next to their fields, the
    values kept (400, nothing saved); right ones (French decimals, hostile texts) are saved and lead (303)
    to the process's page, where they are shown escaped."""
    client, store, _plans, tokens = filled
    form = client.get(url(QUOTES, "/modifier"), headers=bearer(tokens["engineer"]))
    assert form.status_code == 200 and 'value="150"' in form.text and 'value="study" selected' in form.text
    wrong = {"service": "S", "lab": "x" * 201, "annual_volume": "-5", "goal_hours": "beaucoup", "stage": "fini",
             "description": "d"}
    answer = client.post(url(QUOTES, "/modifier"), data=wrong, headers=bearer(tokens["engineer"]))
    assert answer.status_code == 400
    shown = html.unescape(answer.text)
    for field, value in (("lab", "x" * 201), ("annual_volume", "-5"), ("goal_hours", "beaucoup"), ("stage", "fini")):
        assert f'id="{field}-erreur">{_api_message(field, value, "fr")}<' in shown, field
    assert "annual_volume" in _api_message("annual_volume", "-5", "fr")  # the message names the field
    assert 'id="service-erreur"' not in shown
    assert 'value="beaucoup"' in shown and 'value="-5"' in shown and 'aria-invalid="true"' in shown
    record = store.get_process(QUOTES)
    assert record is not None and record.service == "DDETS 31" and record.goal_hours == 150.0
    good = {"service": SCRIPT, "lab": RISKY, "region": QUOTES, "annual_volume": "12 000", "goal_hours": "1 250,5",
            "stage": "production", "description": f"{SCRIPT} {QUOTES}"}
    saved = client.post(url(QUOTES, "/modifier"), data=good, headers=bearer(tokens["admin"]), follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == url(QUOTES)
    record = store.get_process(QUOTES)
    assert record is not None and (record.service, record.lab, record.region) == (SCRIPT, RISKY, QUOTES)
    assert (record.annual_volume, record.goal_hours, record.stage.value) == (12000, 1250.5, "production")
    assert record.updated_by == "jeton-admin"
    page = client.get(saved.headers["location"], headers=bearer(tokens["manager"])).text
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "=cmd|&#39; /C calc&#39;!A0" in page and re.search(r"<script(?![^>]*\bsrc=)", page) is None
    english = client.post(url(QUOTES, "/modifier?lang=en"), data={"goal_hours": "-1"},
                          headers=bearer(tokens["engineer"]))
    assert english.status_code == 400
    assert f'id="goal_hours-erreur">{_api_message("goal_hours", "-1", "en")}<' in html.unescape(english.text)


def test_a_session_post_without_its_csrf_token_is_refused(
        filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """A signed-in engineer's form carries the session's CSRF token; posting without it (or with another) is
    a 403 and saves nothing; with it, the record is saved."""
    client, store, _plans, _tokens = filled
    sessions = Sessions(b"k" * 32)
    client.app.state.sessions = sessions  # type: ignore[attr-defined]
    person = sessions.new_person(sub="b", name="Bruno", email="bruno@ddets.gouv.fr", role="engineer", groups=(),
                                 issuer="http://127.0.0.1")
    client.cookies.set(SESSION_COOKIE, sessions.encode(person))
    try:
        form = client.get(url(SUBV, "/modifier"))
        assert form.status_code == 200 and f'name="csrf_token" value="{person.csrf}"' in form.text
        for data in ({"lab": "Lab piraté"}, {"lab": "Lab piraté", "csrf_token": "faux"}):
            refused = client.post(url(SUBV, "/modifier"), data=data, follow_redirects=False)
            assert refused.status_code == 403, refused.text[:300]
        assert store.get_process(SUBV).lab == "Lab Occitanie"  # type: ignore[union-attr]
        saved = client.post(url(SUBV, "/modifier"), data={"lab": "Lab Sud", "csrf_token": person.csrf},
                            follow_redirects=False)
        assert saved.status_code == 303 and store.get_process(SUBV).lab == "Lab Sud"  # type: ignore[union-attr]
    finally:
        client.cookies.clear()


def test_hostile_names_and_messages_are_escaped(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                                ) -> None:
    """A process named `<script>…`, with a service of quotes and a lab `=cmd|…`, and error messages and an
    author holding them, are escaped text on its page and in the list; its address quotes the name."""
    client, _store, _plans, tokens = filled
    for path in (url(SCRIPT), url(SUBV), "/processus"):
        page = client.get(path, params={"periode": "12mois"}, headers=bearer(tokens["engineer"])).text
        assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert QUOTES not in page and "Dossier &#34;urgent&#34; d&#39;Alès &amp; Cie" in page, path
        assert RISKY not in page and "=cmd|&#39; /C calc&#39;!A0" in page, path
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    page = client.get(url(SCRIPT), headers=bearer(tokens["engineer"])).text
    assert 'href="/processus/%3Cscript%3Ealert%281%29%3C%2Fscript%3E/modifier"' in page


def test_french_by_default_english_on_request(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]
                                              ) -> None:
    """French texts, stages and formats by default; `?lang=en` gives English."""
    client, _store, _plans, tokens = filled
    french = html.unescape(client.get(url(SUBV), headers=bearer(tokens["manager"])).text)
    assert '<html lang="fr"' in french and "Causes d'échec" in french and "Minutes en vigueur dans le temps" in french
    assert "en production" in french and "Exécutions récentes" in french
    english = html.unescape(client.get(url(SUBV), params={"lang": "en"}, headers=bearer(tokens["manager"])).text)
    assert '<html lang="en"' in english and "Failure causes" in english and "Minutes in force over time" in english
    assert "Causes d'échec" not in english
    listed = html.unescape(client.get("/processus?lang=en", headers=bearer(tokens["manager"])).text)
    assert "under study" in listed and "Estimated annual hours" in listed


def test_export_links_name_the_process(filled: tuple[TestClient, Store, list[Planned], dict[str, str]]) -> None:
    """The Excel and CSV links carry the period and the process, and the CSV's total is the page's minutes."""
    client, _store, plans, tokens = filled
    wanted, query = _period_query(_today())
    page = client.get(f"{url(RISKY)}?{query}", headers=bearer(tokens["manager"])).text
    link = html.unescape(re.search(r'id="export-csv" href="(.*?)"', page).group(1))  # type: ignore[union-attr]
    assert parse_qs(urlsplit(link).query) == {"start": [str(wanted.start)], "end": [str(wanted.end)],
                                              "by": ["process"], "process": [RISKY]}
    answer = client.get(link, headers=bearer(tokens["manager"]))
    assert answer.status_code == 200
    header, rows = _parse_csv(answer.content)
    total = dict(zip(header[1:], rows["Total"], strict=True))
    minutes = _by_hand(plans, Wanted(wanted.start, wanted.end, process=RISKY)).minutes
    assert _csv_number(total["Minutes économisées"]) == pytest.approx(minutes, abs=1e-6)
    shown = _cards(page, ("chiffre-heures-periode",))
    assert shown["chiffre-heures-periode formula"] == f"= {format_number(minutes, 'fr', 2)} min ÷ 60"


# ---- in Chromium ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Planned], dict[str, str]]]:
    """A SQLite store with the history, served by uvicorn, with axe-core from the same origin."""
    root = tmp_path_factory.mktemp("process")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCORE_HOME", str(root))
        env.delenv("ROBOCORE_DATABASE_URL", raising=False)
        env.delenv("ROBOCORE_OIDC_ISSUER", raising=False)
        store = Store(f"sqlite:///{root / 'robocore.db'}")
        plans = _fill(store, _today()) + _extra(store, _today())
        store.update_process(SUBV, {"annual_volume": 4000, "description": "Instruction des demandes de "
                                    "subvention des associations, de la réception au courrier de décision."}, "test")
        tokens = {role: create_token(store, f"jeton-{role}", role) for role in ("engineer",)}
        app: FastAPI = create_app(store, executor=FakeExecutor(), robots_dir=root)
        app.add_api_route("/essai-axe.js", lambda: FileResponse(AXE, media_type="text/javascript"))
        with live_server(app) as base:
            yield base, plans, tokens
        store.close()


def _axe(page: Any) -> list[str]:
    page.add_script_tag(url="/essai-axe.js")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_process_page_in_chromium(browser: Any, served: tuple[str, list[Planned], dict[str, str]],  # noqa: F811
                                  theme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An engineer's browser opens the list, follows a process's link, reads cards equal to the test's sums,
    opens the edit form and saves it; no dialog, no inline script, no CSP refusal; axe-core finds no serious
    or critical violation on the three pages. Screenshots artifacts/screens/process-<theme>.png (and the
    list's and the form's)."""
    monkeypatch.setenv("ROBOCORE_THEME", theme)
    base, plans, tokens = served
    wanted, query = _period_query(_today())
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                  extra_http_headers=bearer(tokens["engineer"]))
    page = context.new_page()
    page.set_default_timeout(30_000)
    console: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    SCREENS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(f"{base}/processus?{query}", wait_until="load")
        page.screenshot(path=str(SCREENS / f"processes-{theme}.png"), full_page=True)
        assert _axe(page) == []
        page.locator("#liste-processus a", has_text=SUBV).click()
        page.wait_for_load_state("load")
        assert urlsplit(page.url).path == url(SUBV)
        page.goto(f"{base}{url(SUBV)}?{query}", wait_until="load")
        page.screenshot(path=str(SCREENS / f"process-{theme}.png"), full_page=True)
        for key, value in _expected_process(plans, Wanted(wanted.start, wanted.end, process=SUBV)).items():
            if " " not in key:
                assert page.locator(f"#{key} .rc-figure__value").inner_text().strip() == value, key
        assert page.locator("#heures-par-mois svg[role=img]").count() == 1
        assert SCRIPT in page.locator("#messages-erreur").inner_text()
        assert page.locator("script:not([src])").count() == 0 and dialogs == []
        assert _axe(page) == []
        page.click("#modifier")
        page.wait_for_load_state("load")
        page.fill("#goal_hours", "-3")
        page.get_by_role("button", name="Enregistrer").click()
        page.wait_for_load_state("load")
        assert "doit être positif ou nul" in page.locator("#goal_hours-erreur").inner_text()
        page.screenshot(path=str(SCREENS / f"process-edit-{theme}.png"), full_page=True)
        assert _axe(page) == []
        page.fill("#goal_hours", "900,0")
        page.get_by_role("button", name="Enregistrer").click()
        page.wait_for_url(f"{base}{url(SUBV)}")
        assert page.locator("#fiche-objectif").inner_text().strip() == format_hours(900)
        assert [m for m in console if "Content Security Policy" in m or "Refused" in m] == []
    finally:
        context.close()
