"""The services and labs pages (`GET /services`, `GET /labos`): each row's figures against the ledger summed by
hand in the test, on SQLite and PostgreSQL, and the totals row against the overview's; filters; roles; escaping;
French by default; in real Chromium under the CSP with axe-core, both themes (artifacts/screens/services-<theme>.png,
labos-<theme>.png)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from robocore.reports import shown_rate
from robocore.statuses import ItemStatus, RunStatus
from robocore.store import Store
from robocore.store.groups import Dimension
from robocore.store.rows import ProcessStage
from robocore.web.formatting import format_hours, format_number, format_percent
from robocore.web.groups_data import groups
from robocore.web.overview_data import overview, parse_filters
from tests.integration.api_support import bearer
from tests.integration.test_ledger import Planned, _record
from tests.integration.test_page_overview import (
    LAB,
    PROCESSES,
    QUOTES,
    RISKY,
    SCREENS,
    SCRIPT,
    Wanted,
    _by_hand,
    _cards,
    _period_query,
    _read_cards,
    _today,
    browser,  # noqa: F401  (fixture)
    filled,  # noqa: F401  (fixture)
    served,  # noqa: F401  (fixture)
)

Filled = tuple[TestClient, Store, list[Planned], dict[str, str]]
PATHS = {Dimension.SERVICE: "/services", Dimension.LAB: "/labos"}
NONE_FR = {Dimension.SERVICE: "(sans service)", Dimension.LAB: "(sans laboratoire)"}
COLUMNS = ("hours", "year", "items", "item success", "run success", "production", "goal", "share")


def _group_of(dimension: Dimension) -> Callable[[Planned], str | None]:
    """A plan's group as the test knows it: the run's service, or its process's lab."""
    if dimension is Dimension.SERVICE:
        return lambda plan: plan.service
    return lambda plan: LAB.get(plan.process)


def _rate(value: float | None) -> str:
    return format_percent(value) if value is not None else "—"


def _expected_rows(plans: list[Planned], dimension: Dimension, period: Wanted) -> dict[str, tuple[str, ...]]:
    """Each group's row (name as shown → cells in French) summed by hand from the plans and process records."""
    today = _today()
    year = Wanted(date(today.year, 1, 1), today + timedelta(days=1))
    of = _group_of(dimension)
    records = [p for p in PROCESSES if p.name is not None]
    record_group = {p.name: (p.service if dimension is Dimension.SERVICE else p.lab) for p in records}
    names = {of(plan) for plan in plans} | set(record_group.values())
    sums = {n: (_by_hand([p for p in plans if of(p) == n], period), _by_hand([p for p in plans if of(p) == n], year))
            for n in names}
    total = sum((s[0].minutes for s in sums.values()), 0.0)
    rows: dict[str, tuple[str, ...]] = {}
    for name, (now, this_year) in sums.items():
        kept = [p for p in records if record_group[p.name] == name]
        if not (now.minutes or this_year.minutes or now.items_attempted or now.runs_finished or kept):
            continue
        goal = sum(p.goal or 0.0 for p in kept)
        rows[NONE_FR[dimension] if name is None else name] = (
            format_hours(now.minutes / 60), format_hours(this_year.minutes / 60), format_number(now.items_attempted),
            _rate(shown_rate(now.items_done, now.items_attempted)), _rate(shown_rate(now.runs_succeeded,
                                                                                     now.runs_finished)),
            format_number(sum(p.stage is ProcessStage.PRODUCTION for p in kept)),
            _rate(this_year.minutes / 60 / goal if goal else None), _rate(now.minutes / total if total else None))
    return rows


def _cells(row: str) -> tuple[str, tuple[str, ...]]:
    name = re.search(r'<th[^>]*scope="row">(.*?)</th>', row, re.DOTALL)
    assert name, row
    cells = re.findall(r'<td class="rc-num">(.*?)</td>', row, re.DOTALL)
    return html.unescape(name.group(1)).strip(), tuple(html.unescape(c).strip() for c in cells)


def _table(page: str) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...], list[str]]:
    """The groups table of a page: rows (name → cells, in order), the totals row's cells, the names in order."""
    table = page[page.index('id="groupes"'):page.index("</table>", page.index('id="groupes"'))]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    rows = [_cells(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]
    foot = table[table.index("<tfoot>"):]
    return dict(rows), _cells(foot)[1], [name for name, _ in rows]


def _period(query: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query).items()}


@pytest.mark.parametrize("dimension", list(Dimension))
def test_rows_equal_the_ledger_summed_by_hand(filled: Filled, dimension: Dimension) -> None:  # noqa: F811
    """For twelve months, each service's (or lab's) hours in the period and this year, items processed, item and
    run success, processes in production, goal progress and share of the hours are the test's own sums of what
    it recorded, the group without a service or lab included as « (sans …) »; rows by hours, most first."""
    client, _store, plans, tokens = filled
    wanted, query = _period_query(_today())
    answer = client.get(PATHS[dimension], params=_period(query), headers=bearer(tokens["manager"]))
    assert answer.status_code == 200, answer.text[:500]
    rows, _total, order = _table(answer.text)
    expected = _expected_rows(plans, dimension, wanted)
    assert rows == expected
    assert NONE_FR[dimension] in rows and order[-1] == NONE_FR[dimension]
    hours = [sum(p.figures().minutes for p in plans if wanted.keeps(p) and _group_of(dimension)(p) == name)
             for name in order[:-1]]
    assert hours == sorted(hours, reverse=True)


@pytest.mark.parametrize("dimension", list(Dimension))
def test_totals_equal_the_overview(filled: Filled, dimension: Dimension) -> None:  # noqa: F811
    """The totals row and its formulas are the overview's figures for the same period (and the same scope), and
    the test's sums; the chart's table sums to the period's hours."""
    client, store, plans, tokens = filled
    wanted, query = _period_query(_today())
    for scope, view in (({}, wanted), ({"service": "DDETS 31"}, Wanted(wanted.start, wanted.end, service="DDETS 31")),
                        ({"labo": RISKY}, Wanted(wanted.start, wanted.end, lab=RISKY))):
        params = {**_period(query), **scope}
        page = client.get(PATHS[dimension], params=params, headers=bearer(tokens["manager"])).text
        cards = _cards(client.get("/", params=params, headers=bearer(tokens["manager"])).text)
        _rows, total, _order = _table(page)
        assert total == (cards["chiffre-heures-periode"], cards["chiffre-heures-annee"], cards["chiffre-elements"],
                         cards["chiffre-reussite-elements"], cards["chiffre-reussite-executions"],
                         cards["chiffre-production"], cards["chiffre-objectif"],
                         format_percent(1.0) if _by_hand(plans, view).minutes else "—"), scope
        assert total[0] == format_hours(_by_hand(plans, view).minutes / 60)
        text = html.unescape(page)
        for ident, card in (("formule-heures-periode", "chiffre-heures-periode"),
                            ("formule-elements", "chiffre-elements"),
                            ("formule-reussite-executions", "chiffre-reussite-executions")):
            formula = re.search(rf'id="{ident}">(.*?)</span>', text, re.DOTALL)
            assert formula and formula.group(1).strip() == f"{cards[card]} {cards[card + ' formula']}", ident
        filters = parse_filters(params, _today())
        shown, seen = groups(store, dimension, filters, _today()), overview(store, filters, _today(), 1607.0)
        assert shown.total.minutes_period == pytest.approx(seen.minutes_period, abs=1e-9)
        assert shown.total.minutes_year == pytest.approx(seen.minutes_year, abs=1e-9)
        assert (shown.total.items_attempted, shown.total.items_done, shown.total.runs_finished,
                shown.total.runs_succeeded, shown.total.records.in_production) == (
            seen.items_attempted, seen.items_done, seen.runs_finished, seen.runs_succeeded,
            seen.records.in_production)
        assert shown.total.records.goal_hours == pytest.approx(seen.records.goal_hours)
        assert sum(sum(values) for _name, values in shown.series) == pytest.approx(seen.hours_period)


@pytest.mark.parametrize("dimension", list(Dimension))
def test_rows_link_to_the_overview_and_the_processes(filled: Filled, dimension: Dimension) -> None:  # noqa: F811
    """Each named row links to the overview of the same period filtered to it (URL-encoded), whose hours are the
    row's, and to the processes page filtered to it; the « (sans …) » row has no link."""
    client, _store, _plans, tokens = filled
    _wanted, query = _period_query(_today())
    page = client.get(PATHS[dimension], params=_period(query), headers=bearer(tokens["manager"])).text
    rows, _total, order = _table(page)
    body = page[page.index("<tbody>", page.index('id="groupes"')):page.index("</tbody>", page.index('id="groupes"'))]
    param = "service" if dimension is Dimension.SERVICE else "labo"
    for row, name in zip(re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL), order, strict=True):
        links = [html.unescape(h) for h in re.findall(r'href="(.*?)"', row)]
        if name == NONE_FR[dimension]:
            assert links == []
            continue
        overview_link, processes_link = links
        assert urlsplit(overview_link).path == "/" and parse_qs(urlsplit(overview_link).query) == {
            **{k: [v] for k, v in _period(query).items()}, param: [name]}
        assert processes_link == f"/processus?{urlencode({param: name})}"
        target = client.get(overview_link, headers=bearer(tokens["manager"]))
        assert target.status_code == 200 and _cards(target.text)["chiffre-heures-periode"] == rows[name][0], name


def test_roles_filters_and_languages(filled: Filled) -> None:  # noqa: F811
    """An agent gets the French 403 page; no credentials, a 401; admins and engineers see both pages, marked in
    the menu; presets and dates as on the overview; a bad filter is its French message on a 400 page (English
    with ?lang=en); French texts by default, English with ?lang=en."""
    client, _store, _plans, tokens = filled
    for path, label in (("/services", "Services"), ("/labos", "Laboratoires")):
        agent = client.get(path, headers=bearer(tokens["agent"]))
        assert agent.status_code == 403 and "votre rôle (agent)" in agent.text and 'id="groupes"' not in agent.text
        assert client.get(path).status_code == 401
        for role in ("admin", "engineer", "manager"):
            answer = client.get(path, params={"periode": "12mois"}, headers=bearer(tokens[role]))
            assert answer.status_code == 200 and 'id="groupes"' in answer.text, role
            assert re.search(rf'aria-current="page">{label}<', answer.text), path
        quarter = client.get(path, params={"periode": "trimestre"}, headers=bearer(tokens["manager"]))
        first = date(_today().year, 3 * ((_today().month - 1) // 3) + 1, 1)
        assert quarter.status_code == 200 and f"Du {first:%d/%m/%Y}" in html.unescape(quarter.text)
        bad = client.get(path, params={"du": "2026-02-30", "au": "2026-03-01"}, headers=bearer(tokens["manager"]))
        assert bad.status_code == 400 and "date invalide pour « du » : « 2026-02-30 »" in html.unescape(bad.text)
        assert 'id="erreur-filtre"' in bad.text and 'id="groupes"' not in bad.text
        english = client.get(path, params={"periode": "semaine", "lang": "en"}, headers=bearer(tokens["manager"]))
        assert english.status_code == 400 and "unknown period &#39;semaine&#39;" in english.text
    french = html.unescape(client.get("/services", headers=bearer(tokens["manager"])).text)
    assert '<html lang="fr"' in french and "Heures économisées par service" in french
    assert "(sans service)" in french and "Comment est-ce calculé ?" in french and "Part des heures" in french
    english = html.unescape(client.get("/labos?lang=en", headers=bearer(tokens["manager"])).text)
    assert '<html lang="en"' in english and "Hours saved per lab" in english and "(no lab)" in english
    assert "Heures" not in english and "How is it calculated?" in english


def test_hostile_names_are_escaped(filled: Filled) -> None:  # noqa: F811
    """Service and lab names with a script tag, quotes and a formula are escaped text in the rows, the chart's
    table, the period line and the hidden filter fields, and URL-encoded in the links."""
    client, store, _plans, tokens = filled
    version = store.save_robot_version("hostile", "1" * 64, "robot: hostile\n")
    at = _today().replace(day=1) - timedelta(days=3)
    _record(store, version, Planned("hostile-1", "hostile", "Processus hostile", SCRIPT, 2.0, 0.0,
                                    datetime(at.year, at.month, at.day, 10), (ItemStatus.DONE,) * 3,
                                    RunStatus.SUCCEEDED))
    store.ensure_process("Processus hostile", SCRIPT, "test")
    store.update_process("Processus hostile", {"lab": SCRIPT}, "test")
    _wanted, query = _period_query(_today())
    for path, scope in (("/services", {"labo": QUOTES}), ("/labos", {"service": RISKY}), ("/services", {})):
        page = client.get(path, params={**_period(query), **scope}, headers=bearer(tokens["manager"])).text
        assert SCRIPT not in page and QUOTES not in page and RISKY not in page
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
        if not scope:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
            assert "=cmd|&#39; /C calc&#39;!A0" in page and "Dossier &#34;urgent&#34; d&#39;Alès &amp; Cie" in page
            assert "service=%3Cscript%3Ealert%281%29%3C%2Fscript%3E" in page
            assert "service=%3Dcmd%7C%27+%2FC+calc%27%21A0" in page
        else:
            assert "Dossier &#34;urgent&#34; d&#39;Alès &amp; Cie" in page or "=cmd|&#39; /C calc&#39;!A0" in page
    labs = client.get("/labos", params=_period(query), headers=bearer(tokens["manager"])).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in labs and "labo=%3Cscript%3Ealert%281%29%3C%2Fscript%3E" in labs


# ---- in Chromium ---------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_groups_in_chromium(browser: Any, served: tuple[str, list[Planned], dict[str, str]],  # noqa: F811
                            theme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manager's browser opens twelve months of services: the rows equal the test's sums; hostile names are text
    (no dialog, no inline script); following a service's link shows the overview with that service's hours; the
    labs page too; no CSP refusal; axe-core finds no serious or critical violation on either page.
    Screenshots artifacts/screens/services-<theme>.png and labos-<theme>.png."""
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
        for dimension, shot in ((Dimension.SERVICE, "services"), (Dimension.LAB, "labos")):
            page.goto(f"{url}{PATHS[dimension]}?{query}", wait_until="load")
            page.locator("#comment-calcule summary").click()
            SCREENS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENS / f"{shot}-{theme}.png"), full_page=True)
            expected = _expected_rows(plans, dimension, wanted)
            shown = {}
            for row in page.locator("#groupes tbody tr").all():
                cells = row.locator("td.rc-num").all_inner_texts()
                shown[row.locator("th").inner_text().strip()] = tuple(c.strip() for c in cells)
            assert shown == expected
            assert page.locator("#heures-par-mois svg[role=img]").count() == 1
            assert page.locator("script:not([src])").count() == 0 and dialogs == []
            page.add_script_tag(url="/essai-axe.js")
            results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
                       for v in results["violations"] if v["impact"] in ("serious", "critical")]
            assert serious == [], shot
        page.goto(f"{url}/services?{query}", wait_until="load")
        row = page.locator("#groupes tbody tr", has_text=QUOTES)
        row.get_by_role("link", name=re.compile("^vue d'ensemble")).click()
        page.wait_for_load_state("load")
        assert parse_qs(urlsplit(page.url).query)["service"] == [QUOTES]
        cards = _read_cards(page)
        assert cards["chiffre-heures-periode"] == _expected_rows(plans, Dimension.SERVICE, wanted)[QUOTES][0]
        assert [m for m in console if "Content Security Policy" in m or "Refused" in m] == []
    finally:
        context.close()


# sqlite_stat1 of bench/bench_overview.py's ledger (1,000,000 entries, 50 processes, 10 services, 3 years)
LEDGER_STATS = {"ix_ledger_service_month": "1000000 100000 2778 1 1",
                "ix_ledger_process_month": "1000000 20000 556 1 1",
                "ix_ledger_month": "1000000 27778 1 1", "ix_ledger_robot_recorded": "1000000 10000 1 1",
                "ix_ledger_service_recorded": "1000000 100000 1 1", "ix_ledger_process_recorded": "1000000 20000 1 1",
                "ix_ledger_run_id": "1000000 200", "ix_ledger_recorded_at": "1000000 1",
                "sqlite_autoindex_ledger_1": "1000000 1"}


@pytest.mark.parametrize("dimension", list(Dimension))
def test_sqlite_sums_months_in_index_order(tmp_path: Any, dimension: Dimension) -> None:
    """On SQLite, with the statistics of a large ledger, the hours per process (services: per service) and
    month of a period are read from the 0008 expression index in its order, without a temporary B-tree: the
    month expression must stay the index's (literal bounds, not bound parameters)."""
    from sqlalchemy import text

    from robocore.store.groups import _ledger_sums
    from robocore.store.overview import Scope

    store = Store(f"sqlite:///{tmp_path / 'robocore.db'}")
    try:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'ledger'"))
            for index, stat in LEDGER_STATS.items():
                conn.execute(text("INSERT INTO sqlite_stat1 VALUES ('ledger', :i, :s)"), {"i": index, "s": stat})
        store.engine.dispose()  # new connections read the statistics
        start, end = datetime(2025, 1, 1), datetime(2026, 1, 1)
        query = _ledger_sums(store.engine, dimension, Scope(), start, end, by_month=True)
        sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
        assert "substr(ledger.recorded_at, 1, 7)" in str(query.compile(store.engine))  # as sent: no ? in it
        with store.engine.begin() as conn:
            plan = [row[3] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
        index = "ix_ledger_service_month" if dimension is Dimension.SERVICE else "ix_ledger_process_month"
        reading = next(step for step in plan if step.startswith(("SEARCH ledger", "SCAN ledger")))
        assert f"COVERING INDEX {index}" in reading, plan
        assert "USE TEMP B-TREE FOR GROUP BY" not in plan[:plan.index(reading) + 2], plan
    finally:
        store.close()


@pytest.mark.parametrize("dimension", list(Dimension))
def test_downloads_total_the_page(filled: Filled, dimension: Dimension) -> None:  # noqa: F811
    """The page's Excel and CSV links export its period and filters (by service on /services, by process on
    /labos, a lab having no grouping of its own); the CSV's total is the page's total minutes, exactly."""
    from tests.integration.test_exports import _number as csv_number
    from tests.integration.test_exports import _parse_csv

    client, _store, plans, tokens = filled
    wanted, query = _period_query(_today())
    for scope, view in (({}, wanted), ({"labo": RISKY}, Wanted(wanted.start, wanted.end, lab=RISKY))):
        page = client.get(PATHS[dimension], params={**_period(query), **scope}, headers=bearer(tokens["manager"]))
        links = dict(re.findall(r'id="export-(xlsx|csv)" href="([^"]+)"', page.text))
        csv_link = html.unescape(links["csv"])
        wanted_by = "service" if dimension is Dimension.SERVICE else "process"
        assert parse_qs(urlsplit(csv_link).query)["by"] == [wanted_by]
        assert html.unescape(links["xlsx"]) == csv_link.replace(".csv?", ".xlsx?")
        answer = client.get(csv_link, headers=bearer(tokens["manager"]))
        assert answer.status_code == 200
        _header, rows = _parse_csv(answer.content)
        assert csv_number(rows["Total"][1]) == pytest.approx(_by_hand(plans, view).minutes, abs=1e-9)
