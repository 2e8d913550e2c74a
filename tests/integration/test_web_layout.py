"""The pages' layout and macros in real Chromium, in both themes, under the server's CSP.

The sample page is a template written here and served by a route this test adds to
`create_app` (the product has no such route). Screenshots go to artifacts/screens/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.testclient import TestClient

from robocore.server import create_app
from robocore.store import Store
from robocore.web import charts
from robocore.web.static import IMMUTABLE, REVALIDATE, vendor_url
from robocore.web.templates import environment, render
from tests.conftest import need_chromium
from tests.integration.api_support import FakeExecutor, live_server, robots_folder

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "4.14.1" / "axe.min.js"
SCREENS = ROOT / "artifacts" / "screens"
HOSTILE = ["<script>alert(1)</script>", "Dossier \"urgent\" d'Alès & Cie", "=cmd|' /C calc'!A0"]
SAMPLE = """{% extends "base.html" %}
{% import "macros.html" as m with context %}
{% block title %}Tableau de bord — {{ service_name }}{% endblock %}
{% block content %}
<h1>Heures économisées</h1>
<div class="rc-figures">
  {% call m.figure(hours_total | hours, "Heures économisées depuis le début", id="chiffre-heures") %}
    <p>Somme des minutes manuelles des éléments traités avec succès, divisée par 60.</p>
  {% endcall %}
  {% call m.figure(success | percent, "Éléments traités avec succès") %}
    <p>Éléments terminés ÷ éléments traités.</p>
  {% endcall %}
  {{ m.figure(hostile[0], hostile[1], id="chiffre-hostile") }}
  {{ m.figure(since | day, "Depuis le") }}
</div>
{{ m.bar_chart(chart, "heures-par-mois", format="hours") }}
{{ m.data_table("Processus aux noms piégés", ["Processus", "Heures"], rows, format="hours", id="injection") }}
{% endblock %}
"""


def sample_values() -> dict[str, Any]:
    """Figures, a stacked chart over six months and a table whose names are hostile."""
    from datetime import date

    months = ["juil. 2026", "août 2026", "sept. 2026", "oct. 2026", "nov. 2026", "déc. 2026"]
    chart = charts.chart("Heures économisées par mois et par processus", months, {
        "Instruction des subventions": [120, 98.5, 143, 160.25, 171, 88],
        "Rapprochement des paiements": [40, 52, 61, 58.5, 70, 35],
        HOSTILE[0]: [5, 7.5, 3, 9, 11, 4],
    })
    return {"hours_total": 1119.4, "success": 0.125, "since": date(2026, 1, 5), "chart": chart,
            "hostile": HOSTILE, "rows": [[name, 12.5 * (i + 1)] for i, name in enumerate(HOSTILE)],
            "user": HOSTILE[0]}


def sample_page(theme: str, lang: str = "fr") -> str:
    return render(environment().from_string(SAMPLE), theme=theme, lang=lang, **sample_values())


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """create_app over an empty SQLite store, plus this test's sample page and axe-core (same origin)."""
    root = tmp_path_factory.mktemp("web")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCORE_HOME", str(root))
        env.delenv("ROBOCORE_DATABASE_URL", raising=False)
        store = Store(f"sqlite:///{root / 'robocore.db'}")
        yield from _app_with_sample(store, root)
        store.close()


def _app_with_sample(store: Store, root: Path) -> Iterator[FastAPI]:
    app = create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(root))

    def page(theme: str, lang: str = "fr") -> HTMLResponse:
        return HTMLResponse(sample_page(theme, lang))

    def axe() -> FileResponse:
        return FileResponse(AXE, media_type="text/javascript")

    app.add_api_route("/essai/{theme}", page)
    app.add_api_route("/essai-axe.js", axe)  # served by the origin: script-src 'self' lets it in, CSP intact
    yield app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def test_vendored_files_are_cached_for_a_year_and_ours_revalidated(client: TestClient) -> None:
    """A versioned vendor file is immutable for a year; our own CSS is revalidated (ETag → 304); both keep
    the security headers; a path outside the static folder is not served."""
    css = client.get(vendor_url("@gouvfr/dsfr", "dist/dsfr.min.css"))
    assert css.status_code == 200 and css.headers["cache-control"] == IMMUTABLE
    assert css.headers["content-type"].startswith("text/css") and css.headers["x-content-type-options"] == "nosniff"
    font = client.get(vendor_url("@gouvfr/dsfr", "dist/fonts/Marianne-Regular.woff2"))
    assert font.status_code == 200 and font.headers["content-type"] == "font/woff2"
    own = client.get("/static/neutral.css")
    assert own.status_code == 200 and own.headers["cache-control"] == REVALIDATE
    again = client.get("/static/neutral.css", headers={"If-None-Match": own.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/static/../templates.py").status_code == 404
    assert client.get("/static/%2e%2e/templates.py").status_code == 404


def test_the_setting_chooses_the_theme_and_only_dsfr_shows_the_republique_block(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ROBOCORE_THEME unset gives the neutral look (no DSFR file, no Marianne block); `dsfr` gives the DSFR
    with "République Française"."""
    monkeypatch.delenv("ROBOCORE_THEME", raising=False)
    neutral = render("base.html")
    assert "/static/neutral.css" in neutral and "@gouvfr" not in neutral and "fr-logo" not in neutral
    assert "République" not in neutral
    monkeypatch.setenv("ROBOCORE_THEME", "dsfr")
    dsfr = render("base.html")
    assert vendor_url("@gouvfr/dsfr", "dist/dsfr.min.css") in dsfr and "neutral.css" not in dsfr
    assert '<p class="fr-logo">République<br>Française</p>' in dsfr


def test_english_pages_say_so_and_format_in_english() -> None:
    """lang="en" on the page and English number formats in the figures and tables."""
    page = sample_page("neutral", "en")
    assert '<html lang="en"' in page and "1,119.4 hrs" in page and "12.5%" in page
    french = sample_page("neutral", "fr")
    assert '<html lang="fr"' in french and "1\u202f119,4\u202fh" in french and "12,5\u00a0%" in french


def test_hostile_values_are_escaped_in_the_html() -> None:
    """Names with a script tag, quotes and a spreadsheet formula are written as escaped text."""
    page = sample_page("dsfr")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Dossier &#34;urgent&#34; d&#39;Alès &amp; Cie" in page
    assert "=cmd|&#39; /C calc&#39;!A0" in page


@dataclass
class Visit:
    """What the browser saw while loading one page."""

    console: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Debian Chromium for the module."""
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


@pytest.fixture(scope="module")
def base_url(app: FastAPI) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def _open(browser: Any, url: str, width: int = 1280) -> tuple[Any, Visit]:
    """A fresh context (empty cache) on `url`, recording console messages, answers and dialogs."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(30_000)
    visit = Visit()
    page.on("console", lambda message: visit.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.on("response", lambda response: visit.statuses.__setitem__(response.url, response.status))
    page.on("requestfailed", lambda request: visit.failed.append(request.url))

    def dialog(d: Any) -> None:
        visit.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(url, wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, visit


def _serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations, as `rule: targets`."""
    page.add_script_tag(url="/essai-axe.js")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_layout_in_chromium(browser: Any, base_url: str, theme: str) -> None:
    """In each theme the page loads every CSS, script and font from /static with 200 and no CSP violation nor
    script error; hostile names show as text (no alert, no injected element); the chart's table follows it;
    axe-core finds no serious or critical violation; the neutral theme loads no DSFR file and shows no
    Marianne block, the DSFR theme renders in Marianne. Screenshots: artifacts/screens/layout-<theme>.png."""
    page, visit = _open(browser, f"{base_url}/essai/{theme}")
    try:
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"layout-{theme}.png"), full_page=True)
        assert [m for m in visit.console if "Content Security Policy" in m or "Refused" in m] == []
        assert visit.errors == [] and visit.failed == [] and visit.dialogs == []
        loaded = {url.removeprefix(base_url): status for url, status in visit.statuses.items()}
        assert all(url.startswith(("/static/", "/essai/")) for url in loaded), loaded
        assert {url: status for url, status in loaded.items() if status != 200} == {}
        assert {url for url in loaded if url.endswith(".css")} >= {"/static/robocore.css"}

        assert page.locator("html").get_attribute("lang") == "fr"
        rows = page.locator("#injection tbody th[scope=row]").all_inner_texts()
        assert rows == HOSTILE
        assert page.locator("#chiffre-hostile .rc-figure__value").inner_text() == HOSTILE[0]
        assert page.locator(".rc-person").inner_text().strip().endswith(HOSTILE[0])
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("#heures-par-mois svg[role=img]").count() == 1
        assert page.locator("#heures-par-mois table caption").inner_text().startswith("Heures économisées par mois")
        assert page.locator("#heures-par-mois table tbody tr").count() == 6
        assert page.locator("#chiffre-heures .rc-figure__value").inner_text() == "1\u202f119,4\u202fh"
        page.get_by_text("Comment est-ce calculé ?").first.click()
        assert page.get_by_text("Somme des minutes manuelles").is_visible()

        if theme == "neutral":
            assert not [url for url in loaded if "@gouvfr" in url or "dsfr" in url], loaded
            assert page.locator(".fr-logo").count() == 0 and "République" not in page.content()
        else:
            fonts = [url for url in loaded if url.endswith(".woff2")]
            assert fonts and all(url.startswith("/static/vendor/@gouvfr/dsfr/") for url in fonts), loaded
            assert page.evaluate("document.fonts.check('1em Marianne')")
            assert "Marianne" in page.evaluate("getComputedStyle(document.body).fontFamily")
            assert page.locator(".fr-header .fr-logo").text_content() == "RépubliqueFrançaise"

        violations = _serious_violations(page)
        assert violations == [], violations
        assert [m for m in visit.console if "Content Security Policy" in m or "Refused" in m] == []
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_layout_fits_a_phone(browser: Any, base_url: str, theme: str) -> None:
    """At 375 px wide nothing overflows the page sideways (wide tables scroll in their own box, reachable by
    keyboard), axe-core still finds no serious violation, and in the DSFR theme the signed-in person moves
    into the "Menu" dialog, which opens. Screenshot artifacts/screens/layout-<theme>-mobile.png."""
    page, visit = _open(browser, f"{base_url}/essai/{theme}", width=375)
    try:
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"layout-{theme}-mobile.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        violations = _serious_violations(page)
        assert violations == [], violations
        if theme == "dsfr":
            menu = page.locator("#menu-principal")
            assert not menu.is_visible()
            page.get_by_role("button", name="Menu").click()
            menu.wait_for(state="visible")
            assert HOSTILE[0] in menu.inner_text()
            page.screenshot(path=str(SCREENS / "layout-dsfr-mobile-menu.png"))
        assert visit.errors == [] and visit.dialogs == []
    finally:
        page.context.close()


def test_the_service_name_setting_names_the_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """ROBOCORE_SERVICE_NAME is shown in the header, the footer and the title (escaped), in both themes."""
    monkeypatch.setenv("ROBOCORE_SERVICE_NAME", "Labo <Occitanie>")
    for theme in ("neutral", "dsfr"):
        page = render("base.html", theme=theme)
        assert page.count("Labo &lt;Occitanie&gt;") >= 3 and "Labo <Occitanie>" not in page


@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_footer_links_lead_to_the_statement_the_notice_and_personal_data(
        client: TestClient, theme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page's footer links to the accessibility statement (status "non conforme": no RGAA audit yet), the
    legal notice and the personal data page, which open without signing in, in French, in both themes."""
    monkeypatch.setenv("ROBOCORE_THEME", theme)
    monkeypatch.setenv("ROBOCORE_SESSION_HOURS", "8")
    footer = render("base.html").split('id="pied-de-page"')[1]
    for href, text in (("/accessibilite", "Accessibilité : non conforme"), ("/mentions-legales", "Mentions légales"),
                       ("/donnees-personnelles", "Données personnelles et cookies")):
        assert f'href="{href}">{text}</a>' in footer
        answer = client.get(href)
        assert answer.status_code == 200 and f"<title>{text} — Robocore</title>" in answer.text
    statement = client.get("/accessibilite").text
    assert "<strong>Non conforme</strong>" in statement and "axe-core" in statement
    assert "au bout de 8 heures" in client.get("/donnees-personnelles").text
    assert "Legal notice" in client.get("/mentions-legales?lang=en").text
    assert ("Etalab 2.0" in client.get("/mentions-legales").text) == (theme == "dsfr")
