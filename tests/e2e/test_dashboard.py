"""The managers' dashboard as a manager uses it (issue 11, "How we will know"), in real Chromium.

A generated history (nine robots, eight processes, six services, three labs, twenty months over two
calendar years, refused and failed items, minutes per item changed by a new robot version mid-history)
is recorded as the engine records it, and summed again in Python by the test from what it recorded.
People sign in through the real OpenID Connect provider of tests/oidc (a manager by its `roles`
claim, an agent by the people file); the page's figures, then its Excel and CSV downloads, are
compared with those sums; roles, CSRF and hostile names are checked in the same browser flows.
Screenshots: artifacts/screens/e2e-dashboard-*.png.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.responses import FileResponse

from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import ITEM_FAILED, ItemStatus, RunStatus
from robocore.store import Store
from robocore.store.ledger import Figures
from robocore.store.rows import ProcessStage
from tests.conftest import need_chromium
from tests.integration.api_support import FakeExecutor, bearer, free_port, live_server, robots_folder
from tests.integration.test_ledger import Planned, _record
from tests.integration.test_page_overview import AXE, QUOTES, RISKY, SCREENS, SCRIPT, _months_back, _read_cards
from tests.integration.test_page_process import _axe

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

D, B, A, S = ItemStatus.DONE, ItemStatus.BUSINESS_ERROR, ItemStatus.APPLICATION_ERROR, ItemStatus.SKIPPED
WAIT_MS = 20_000  # every wait of the browser is bounded
SUBV = "Instruction des subventions"
SEJOUR = "Titres de séjour"


@dataclass(frozen=True)
class Bot:
    """A robot of the history: the process it names, the service it runs for, its minutes; `change`
    (months back, per item, per run): a new version with other minutes from that month on."""

    name: str
    process: str | None
    service: str | None
    per_item: float
    per_run: float
    change: tuple[int, float, float] | None = None

    def minutes(self, months_back: int) -> tuple[float, float]:
        if self.change is not None and months_back <= self.change[0]:
            return self.change[1], self.change[2]
        return self.per_item, self.per_run


@dataclass(frozen=True)
class Record:
    """A process record: its service, lab, annual goal and stage."""

    name: str
    service: str
    lab: str
    goal: float | None
    stage: ProcessStage


BOTS = [
    Bot("subv", SUBV, "DDETS 31", 40.0, 10.0, change=(8, 55.0, 10.0)),  # v2 counts 55 min per file
    Bot("subv-34", SUBV, "DDETS 34", 40.0, 0.0),  # the same process, for another service
    Bot("rappro", "Rapprochement bancaire", "DRFiP Occitanie", 1.5, 20.0),
    Bot("script", SCRIPT, QUOTES, 3.0, 0.0),
    Bot("quotes", QUOTES, "DDETS 31", 2.0, 5.0),
    Bot("risky", RISKY, RISKY, 6.25, 0.0),
    Bot("sejour", SEJOUR, "Préfecture 35", 35.0, 0.0, change=(5, 27.5, 0.0)),  # v2 counts fewer minutes
    Bot("controle", "Contrôle des listes", "DDETS 31", 2.0, 0.0),
    Bot("outil", None, None, 0.0, 0.0),  # names no process: no minutes
]
RECORDS = {r.name: r for r in [
    Record(SUBV, "DDETS 31", "Lab Occitanie", 900.0, ProcessStage.PRODUCTION),
    Record("Rapprochement bancaire", "DRFiP Occitanie", "Lab Occitanie", 400.0, ProcessStage.PRODUCTION),
    Record(SCRIPT, QUOTES, RISKY, None, ProcessStage.PRODUCTION),
    Record(QUOTES, "DDETS 31", RISKY, 150.0, ProcessStage.STUDY),
    Record(RISKY, RISKY, "Lab Bretagne", None, ProcessStage.PRODUCTION),
    Record(SEJOUR, "Préfecture 35", "Lab Bretagne", 300.0, ProcessStage.PRODUCTION),
    Record("Contrôle des listes", "DDETS 31", "Lab Bretagne", 200.0, ProcessStage.RETIRED),
]}
MONTHS = 20  # runs in the 20 months before this one: two calendar years at least


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Run:
    """A run the test recorded, with the robot version it ran (its minutes)."""

    plan: Planned
    version: int


def _history(store: Store, today: date, seed: int = 1107, count: int = 160) -> list[Run]:
    """Runs of the robots over MONTHS months, recorded through the store and the ledger as the engine does,
    each with the version of its robot whose minutes it carries; then the process records."""
    rng = random.Random(seed)
    versions: dict[tuple[str, float, float], int] = {}
    runs = []
    for n in range(count):
        bot = BOTS[n % len(BOTS)]
        back = n + 1 if n < MONTHS else rng.randint(1, MONTHS)  # every month has a run
        month = _months_back(today, back)
        at = datetime(month.year, month.month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
        per_item, per_run = bot.minutes(back)
        key = (bot.name, per_item, per_run)
        if key not in versions:
            content = f"robot: {bot.name}\nprocess: {{manual_minutes_per_item: {per_item}}}\n"
            versions[key] = store.save_robot_version(bot.name, hashlib.sha256(content.encode()).hexdigest(), content)
        items = tuple(rng.choices([D, B, A, S], weights=[72, 12, 9, 7], k=rng.randint(2, 12)))
        status = (RunStatus.FAILED if n % 11 == 4 else RunStatus.CANCELLED if n % 17 == 6
                  else RunStatus.RUNNING if n == 13
                  else RunStatus.COMPLETED_WITH_ERRORS if any(s in ITEM_FAILED for s in items)
                  else RunStatus.SUCCEEDED)
        plan = Planned(f"e2e{n:03d}", bot.name, bot.process, bot.service, per_item, per_run, at, items, status)
        _record(store, versions[key], plan)
        runs.append(Run(plan, versions[key]))
    for record in RECORDS.values():
        store.ensure_process(record.name, record.service, "test")
        store.update_process(record.name, {"lab": record.lab, "goal_hours": record.goal, "stage": record.stage},
                             "test")
    return runs


@dataclass(frozen=True)
class View:
    """A view's filters as the test applies them to what it recorded (`end` excluded)."""

    start: date | None = None
    end: date | None = None
    process: str | None = None
    service: str | None = None
    lab: str | None = None

    def keeps(self, plan: Planned) -> bool:
        day, record = plan.at.date(), RECORDS.get(plan.process or "")
        return ((self.start is None or day >= self.start) and (self.end is None or day < self.end)
                and self.process in (None, plan.process) and self.service in (None, plan.service)
                and self.lab in (None, record.lab if record else None))

    def dated(self, start: date | None, end: date | None) -> View:
        return View(start, end, self.process, self.service, self.lab)


def _sum(runs: list[Run], view: View) -> Figures:
    """The ledger summed by hand: done items at their run's minutes, completed runs' fixed minutes."""
    return sum((run.plan.figures() for run in runs if view.keeps(run.plan)), Figures())


def _records(view: View) -> tuple[int, float]:
    """Process records in production within the view, and the sum of their annual goals."""
    kept = [r for r in RECORDS.values() if view.process in (None, r.name) and view.service in (None, r.service)
            and view.lab in (None, r.lab)]
    return sum(r.stage is ProcessStage.PRODUCTION for r in kept), sum(r.goal or 0.0 for r in kept)


# ---- reading French numbers off the page ------------------------------------------------------------
def _fr(text: str) -> float:
    """`1 119,5 h`, `12,5 %`, `0,71` → the number (narrow and ordinary no-break spaces, decimal comma)."""
    cleaned = re.sub(r"\s", "", re.sub(r"\s*(h|%|min)$", "", text.strip()))  # \s: U+202F and U+00A0 too
    assert re.fullmatch(r"-?\d+(,\d+)?", cleaned), text
    return float(cleaned.replace(",", "."))


def _close(shown: float, exact: float, places: int) -> bool:
    """Whether `shown` is `exact` as displayed with `places` decimals (half a unit of the last place)."""
    return abs(shown - exact) <= 0.5 * 10 ** -places + 1e-9


def _formula_minutes(formula: str) -> float:
    """The minutes of `= 67 140,5 min ÷ 60`."""
    found = re.fullmatch(r"= (.+) min ÷ 60", formula)
    assert found, formula
    return _fr(found.group(1))


def _check_cards(shown: dict[str, str], runs: list[Run], view: View, today: date) -> dict[str, float]:
    """Every card of the page against the test's sums: minutes to the hundredth (the formulas), hours to the
    tenth shown, items and runs exactly, rates to the tenth of a percent shown. Returns the figures read."""
    period = _sum(runs, view)
    year = _sum(runs, view.dated(date(today.year, 1, 1), today + timedelta(days=1)))
    since = _sum(runs, view.dated(None, None))
    production, goal = _records(view)
    read: dict[str, float] = {}
    for key, sums in (("chiffre-heures-periode", period), ("chiffre-heures-annee", year),
                      ("chiffre-heures-total", since)):
        assert re.search(r"\sh$", shown[key]), shown[key]
        read[key] = _fr(shown[key])
        assert _close(read[key], sums.minutes / 60, 1), (key, shown[key], sums.minutes / 60)
        assert _close(_formula_minutes(shown[f"{key} formula"]), sums.minutes, 2), (key, shown, sums)
    read["chiffre-etp"] = _fr(shown["chiffre-etp"])
    assert _close(read["chiffre-etp"], period.minutes / 60 / 1607, 2), shown["chiffre-etp"]
    assert _fr(shown["chiffre-production"]) == production
    read["chiffre-elements"] = _fr(shown["chiffre-elements"])
    assert read["chiffre-elements"] == period.items_attempted
    done, failed = re.fullmatch(r"= (.+) réussis \+ (.+) en échec", shown["chiffre-elements formula"]).groups()  # type: ignore[union-attr]
    assert (_fr(done), _fr(failed)) == (period.items_done, period.business_errors + period.application_errors)
    for key, part, whole in (("chiffre-reussite-elements", period.items_done, period.items_attempted),
                             ("chiffre-reussite-executions", period.runs_succeeded, period.runs_finished)):
        if not whole:
            assert shown[key] == "—", (key, shown[key])
            continue
        assert re.search(r"\s%$", shown[key]), shown[key]
        read[key] = _fr(shown[key])
        # shown to 0.1 %, never 100 % or 0 % unless exact: within one tenth
        assert abs(read[key] - 100 * part / whole) <= 0.1 + 1e-9, (key, shown[key], part, whole)
        numbers = re.fullmatch(r"= (.+) ÷ (.+)", shown[f"{key} formula"])
        assert numbers and (_fr(numbers.group(1)), _fr(numbers.group(2))) == (part, whole), shown[f"{key} formula"]
    if goal:
        assert abs(_fr(shown["chiffre-objectif"]) - 100 * year.minutes / 60 / goal) <= 0.1 + 1e-9
    else:
        assert shown["chiffre-objectif"] == "—"
    return read


# ---- the world: store, server, provider -----------------------------------------------------------
@dataclass
class World:
    """The live server with sign-in, its provider, the store and what the test recorded."""

    base: str
    store: Store
    runs: list[Run]
    home: Path
    executor: FakeExecutor
    engineer: str  # an engineer's API token, to show that what a manager is refused exists


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A SQLite store with the history, served by uvicorn with OpenID Connect through the test provider;
    an agent in the people file (the provider sends no Robocore role for `dora`)."""
    need_chromium()
    from tests.integration.test_oidc import CLIENT_ID, CLIENT_SECRET, provider

    root = tmp_path_factory.mktemp("dashboard")
    home = root / "home"
    home.mkdir()
    people = home / "oidc-people.yaml"
    people.write_text("dora@exemple.fr: agent\n", encoding="utf-8")
    people.chmod(0o600)
    provider_port = free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCORE_HOME", str(home))
        env.delenv("ROBOCORE_DATABASE_URL", raising=False)
        env.delenv("ROBOCORE_PUBLIC_URL", raising=False)
        env.delenv("ROBOCORE_ANNUAL_HOURS", raising=False)
        env.setenv("ROBOCORE_OIDC_ISSUER", f"http://127.0.0.1:{provider_port}")
        env.setenv("ROBOCORE_OIDC_CLIENT_ID", CLIENT_ID)
        env.setenv("ROBOCORE_SECRET_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        store = Store(f"sqlite:///{home / 'robocore.db'}")
        try:
            runs = _history(store, _today())
            engineer = create_token(store, "jeton-ingenieur", "engineer")
            executor = FakeExecutor()
            app = create_app(store, None, executor, robots_dir=robots_folder(root))
            app.add_api_route("/essai-axe.js", lambda: FileResponse(AXE, media_type="text/javascript"))
            with live_server(app) as base, provider(provider_port, base):
                yield World(base, store, runs, home, executor, engineer)
        finally:
            store.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from robocore.actions._browser_launch import LAUNCH_ARGS
    from robocore.actions._browser_session import find_chromium

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(find_chromium()), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What the browser reported: dialogs (a script that ran) and console messages (CSP refusals)."""

    dialogs: list[str]
    console: list[str]


def _context(chromium: Any, watch: Watch) -> Any:
    """A French browser that only reaches loopback (the provider's login page asks for a web font online)
    and reports every page's dialogs and console messages."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: route.abort())

    def dialog(shown: Any) -> None:
        watch.dialogs.append(shown.message)
        shown.dismiss()

    def watched(page: Any) -> None:
        page.on("dialog", dialog)
        page.on("console", lambda m: watch.console.append(m.text))

    context.on("page", watched)
    return context


def _sign_in(context: Any, base: str, login: str, target: str = "/") -> Any:
    """Open `target` without a session (401 page), press « Se connecter », sign in at the provider's form
    as `login`, and come back to `target`; the page."""
    page = context.new_page()
    answer = page.goto(f"{base}{target}")
    assert answer is not None and answer.status == 401
    assert page.locator("h1").inner_text() == "Connexion requise"
    page.get_by_role("link", name="Se connecter").click()
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", f"mot-de-passe-{login}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{target}")
    return page


def _submit(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    page.wait_for_load_state("load")


def _download(page: Any, link: str) -> tuple[str, bytes]:
    """Click a download link of the page; the file's suggested name and content."""
    with page.expect_download(timeout=WAIT_MS) as info:
        page.click(link)
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def _csv_total(content: bytes) -> dict[str, str]:
    """The CSV's Total line by column, after checking what French Excel expects (BOM, `;`, CRLF)."""
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    total = [row for row in rows if row[0] == "Total"]
    assert len(total) == 1, rows
    return dict(zip(header, total[0], strict=True))


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def _xlsx_total(content: bytes) -> dict[str, Any]:
    """The summary sheet's Total line by column (its header is the row whose first cell is the grouping)."""
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    total = [row for row in rows if row and row[0] == "Total"]
    header = next(row for row in rows if row and "Minutes économisées" in row)
    assert len(total) == 1
    return dict(zip(header, total[0], strict=True))


def _check_exports(page: Any, runs: list[Run], view: View, read: dict[str, float]) -> None:
    """The page's Excel and CSV downloads: their totals are the test's sums to the unrounded minute, and
    the page's figures within the page's rounding (hours to 0.1 h, FTE to 0.01, rates to 0.1 %)."""
    period = _sum(runs, view)
    first, last = view.start, (view.end or date.max) - timedelta(days=1)
    name, content = _download(page, "#export-csv")
    assert name == f"heures-economisees-{first}_{last}.csv"
    total = _csv_total(content)
    minutes = float(total["Minutes économisées"].replace(",", "."))
    assert minutes == pytest.approx(period.minutes, abs=1e-6)
    hours = float(total["Heures économisées"].replace(",", "."))
    assert hours == pytest.approx(minutes / 60, abs=1e-9)  # not pre-rounded
    assert _close(read["chiffre-heures-periode"], hours, 1)
    assert _close(read["chiffre-etp"], float(total["ETP"].replace(",", ".")), 2)
    assert int(total["Éléments traités"]) == read["chiffre-elements"] == period.items_attempted
    assert int(total["Éléments réussis"]) == period.items_done
    assert int(total["Exécutions terminées"]) == period.runs_finished
    assert int(total["Exécutions réussies"]) == period.runs_succeeded
    item_rate = float(total["Réussite des éléments (%)"].replace(",", "."))
    assert abs(item_rate - read["chiffre-reussite-elements"]) <= 0.1 + 1e-9

    name, content = _download(page, "#export-xlsx")
    assert name == f"heures-economisees-{first}_{last}.xlsx"
    line = _xlsx_total(content)
    assert line["Minutes économisées"] == pytest.approx(period.minutes, abs=1e-6)
    assert line["Heures économisées"] == pytest.approx(line["Minutes économisées"] / 60, abs=1e-9)
    assert _close(read["chiffre-heures-periode"], line["Heures économisées"], 1)
    assert _close(read["chiffre-etp"], line["ETP"], 2)
    assert (line["Éléments traités"], line["Éléments réussis"]) == (period.items_attempted, period.items_done)
    assert (line["Exécutions terminées"], line["Exécutions réussies"]) == (period.runs_finished,
                                                                          period.runs_succeeded)
    assert abs(100 * line["Réussite des éléments"] - read["chiffre-reussite-elements"]) <= 0.1 + 1e-9
    assert abs(100 * line["Réussite des exécutions"] - read["chiffre-reussite-executions"]) <= 0.1 + 1e-9


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _table(page: Any, box: str) -> list[list[str]]:
    """The body rows of the table inside `box` (a CSS selector), as the browser shows their cells."""
    return [row.locator("th, td").all_inner_texts() for row in page.locator(f"{box} tbody tr").all()]


def _months(view: View) -> list[tuple[date, View]]:
    """The bounded view's calendar months, first to last, each as a view of its own days."""
    assert view.start is not None and view.end is not None
    months, first = [], view.start.replace(day=1)
    while first < view.end:
        after = (first + timedelta(days=32)).replace(day=1)
        months.append((first, View(max(first, view.start), min(after, view.end), view.process, view.service,
                                   view.lab)))
        first = after
    return months


def _check_process_cards(shown: dict[str, str], runs: list[Run], view: View, today: date) -> None:
    """A process page's cards against the test's sums: hours of the period, year and since the start (and
    their minutes), realised over 12 months, items, item and run success, goal, failure causes."""
    assert view.process is not None
    period = _sum(runs, view)
    year = _sum(runs, view.dated(date(today.year, 1, 1), today + timedelta(days=1)))
    ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else today - timedelta(365)
    sums = (("chiffre-heures-periode", period), ("chiffre-heures-annee", year),
            ("chiffre-heures-total", _sum(runs, view.dated(None, None))),
            ("chiffre-realise", _sum(runs, view.dated(ago, None))))
    for key, figures in sums:
        assert re.search(r"\sh$", shown[key]), shown[key]
        assert _close(_fr(shown[key]), figures.minutes / 60, 1), (key, shown[key], figures.minutes / 60)
        assert _close(_formula_minutes(shown[f"{key} formula"].split(" (")[0]), figures.minutes, 2), (key, shown)
    assert _fr(shown["chiffre-elements"]) == period.items_attempted, (shown["chiffre-elements"], period)
    counted = re.fullmatch(r"= (.+) réussis \+ (.+) en échec", shown["chiffre-elements formula"])
    assert counted, shown["chiffre-elements formula"]
    assert (_fr(counted.group(1)), _fr(counted.group(2))) == (period.items_done,
                                                              period.business_errors + period.application_errors)
    for key, part, whole in (("chiffre-reussite-elements", period.items_done, period.items_attempted),
                             ("chiffre-reussite-executions", period.runs_succeeded, period.runs_finished)):
        assert whole, key  # the view has items and finished runs
        assert abs(_fr(shown[key]) - 100 * part / whole) <= 0.1 + 1e-9, (key, shown[key], part, whole)
        numbers = re.fullmatch(r"= (.+) ÷ (.+)", shown[f"{key} formula"])
        assert numbers and (_fr(numbers.group(1)), _fr(numbers.group(2))) == (part, whole), shown[f"{key} formula"]
    goal = RECORDS[view.process].goal
    assert goal, view.process
    assert abs(_fr(shown["chiffre-objectif"]) - 100 * year.minutes / 60 / goal) <= 0.1 + 1e-9, shown
    hours, wanted = re.fullmatch(r"= (.+) h ÷ (.+) h", shown["chiffre-objectif formula"]).groups()  # type: ignore[union-attr]
    assert _close(_fr(hours), year.minutes / 60, 2) and _fr(wanted) == goal, shown["chiffre-objectif formula"]
    assert (_fr(shown["chiffre-erreurs-metier"]), _fr(shown["chiffre-erreurs-application"])) == (
        period.business_errors, period.application_errors)


def _check_months(page: Any, runs: list[Run], view: View) -> None:
    """The month charts' data tables: one line per month of the view, each month's hours (to the tenth shown)
    and items done, refused and failed equal to the test's sums for that month."""
    hours, items = _table(page, "#heures-par-mois-donnees"), _table(page, "#elements-par-mois-donnees")
    months = _months(view)
    assert len(hours) == len(items) == len(months), (len(hours), len(items), len(months))
    for (first, month), hour_row, item_row in zip(months, hours, items, strict=True):
        sums = _sum(runs, month)
        assert hour_row[0] == item_row[0] and hour_row[0].endswith(f"{first:%y}"), (first, hour_row, item_row)
        assert _close(_fr(hour_row[1]), sums.minutes / 60, 1), (first, hour_row, sums.minutes / 60)
        shown = [int(_fr(cell)) for cell in item_row[1:]]
        assert shown == [sums.items_done, sums.business_errors, sums.application_errors,
                         sums.items_attempted], (first, item_row, sums)
    assert sum(_sum(runs, month).minutes for _, month in months) == pytest.approx(_sum(runs, view).minutes)


def _check_minutes_history(page: Any, runs: list[Run], process: str) -> None:
    """The minutes in force over time: one line per robot version of the process, newest first, with its
    minutes per item and per run, its runs, and why (the first minutes of a robot, or what a version changed)."""
    rows = _table(page, "#historique-minutes")
    versions: dict[tuple[str, int], list[Run]] = {}
    for run in runs:
        if run.plan.process == process:
            versions.setdefault((run.plan.robot, run.version), []).append(run)
    expected = sorted(versions.items(), key=lambda kv: min(r.plan.at for r in kv[1]), reverse=True)
    assert len(rows) == len(expected), rows
    for row, ((robot, version), kept) in zip(rows, expected, strict=True):
        first = min(kept, key=lambda r: r.plan.at).plan
        assert row[1] == robot and int(_fr(row[4])) == len(kept), (row, robot, len(kept))
        assert (_fr(row[2]), _fr(row[3])) == (first.per_item, first.per_run), (row, first)
        assert f"version {version} " in row[5], row
        before = [r.plan for r in runs if r.plan.robot == robot and r.plan.at < first.at]
        if not before:
            assert row[5].startswith(f"Premières minutes du robot {robot}"), row
        else:
            last = max(before, key=lambda p: p.at)
            assert f"de {last.per_item:g} à {first.per_item:g} min par élément" in row[5], (row, last)
    subv = [(_fr(row[2]), row[1]) for row in rows if row[1] == "subv"]
    if process == SUBV:
        assert subv == [(55.0, "subv"), (40.0, "subv")], rows  # 40 then 55 min per item, newest first


def _check_recent_runs(page: Any, runs: list[Run], view: View) -> dict[str, Run]:
    """The recent runs table: the view's latest runs (20 at most), newest first, each with its robot and its
    items done and failed; each links to its run's page. Returns the runs listed by id."""
    recorded = {run.plan.run_id: run for run in runs}
    latest = sorted((run for run in runs if view.keeps(run.plan)), key=lambda r: r.plan.at, reverse=True)[:20]
    links = page.locator("#executions-recentes tbody tr th a")
    ids = [str(href).removeprefix("/executions/") for href in
           links.evaluate_all("links => links.map(a => a.getAttribute('href'))")]
    assert ids == [run.plan.run_id for run in latest], ids
    for row, run_id in zip(_table(page, "#executions-recentes"), ids, strict=True):
        plan = recorded[run_id].plan
        assert row[1] == plan.robot, (row, plan)
        failed = plan.items.count(B) + plan.items.count(A)
        assert (int(_fr(row[3])), int(_fr(row[4]))) == (plan.items.count(D), failed), (row, plan)
    return {run_id: recorded[run_id] for run_id in ids}


def _visit_process_page(page: Any, base: str, name: str, runs: list[Run], view: View) -> None:
    """As a manager: from the menu's process list, open the process's page, choose the view's dates in its
    form, and read its cards, its month tables (hours and items per month against the test's sums month by
    month), its minutes in force over time (the versions recorded: for SUBV 40 then 55 min per item, from 8
    months back) and its recent runs; axe-core finds no serious violation; follow a recent run with failed
    items to its page, whose counts are the recorded ones."""
    today = _today()
    view = View(view.start, view.end, process=name)
    with page.expect_navigation():
        page.locator("#navigation").get_by_role("link", name="Processus").click()
    assert urlsplit(page.url).path == "/processus"
    with page.expect_navigation():
        page.locator("#liste-processus a", has_text=name).click()
    assert urlsplit(page.url).path == f"/processus/{quote(name, safe='')}"
    assert page.locator("#nom-processus").inner_text() == name
    latest = max((run.plan for run in runs if run.plan.process == name), key=lambda plan: plan.at)  # in force
    assert page.locator("#fiche-minutes").inner_text() == (f"{latest.per_item:g} min par élément, "
                                                           f"{latest.per_run:g} min par exécution")
    assert view.start is not None and view.end is not None
    page.select_option("#filtre-periode", value="")
    page.fill("#filtre-du", view.start.isoformat())
    page.fill("#filtre-au", (view.end - timedelta(days=1)).isoformat())
    _submit(page)
    assert _query(page)["du"] == [view.start.isoformat()]
    assert _query(page)["au"] == [(view.end - timedelta(days=1)).isoformat()]
    _check_process_cards(_read_cards(page), runs, view, today)
    _check_months(page, runs, view)
    _check_minutes_history(page, runs, name)
    listed = _check_recent_runs(page, runs, view)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "e2e-dashboard-process-neutral.png"), full_page=True)
    assert _axe(page) == []
    failed = next(run_id for run_id, run in listed.items() if any(s in ITEM_FAILED for s in run.plan.items))
    with page.expect_navigation():
        page.locator(f"#executions-recentes a[href='/executions/{failed}']").click()
    assert urlsplit(page.url).path == f"/executions/{failed}"
    _check_run(page, listed[failed])
    page.screenshot(path=str(SCREENS / "e2e-dashboard-run-neutral.png"), full_page=True)
    assert _axe(page) == []


ITEM_LABELS = {"Réussi": D, "Erreur métier": B, "Erreur technique": A, "Ignoré": S,
               "Pas encore traité": ItemStatus.PENDING, "En cours de traitement": ItemStatus.RUNNING}


def _check_run(page: Any, run: Run) -> None:
    """A run's page against what the test recorded: its robot and process, items per status (cards and
    table), its error messages grouped with their kind and count, the minutes it saved."""
    plan = run.plan
    assert page.locator("h1").inner_text() == f"Exécution {plan.run_id}"
    summary = {row[0]: row[1] for row in _table(page, "#resume")}
    assert (summary["Robot"], summary["Processus"], summary["Service"]) == (plan.robot, plan.process or "—",
                                                                             plan.service or "—"), summary
    paris = plan.at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))  # the page's note: Paris time
    assert summary["Enregistrée"] == f"{paris:%d/%m/%Y %H:%M}", (summary, plan.at)
    shown = _read_cards(page)
    failed = plan.items.count(B) + plan.items.count(A)
    assert (_fr(shown["chiffre-elements"]), _fr(shown["chiffre-reussis"]), _fr(shown["chiffre-echecs"])) == (
        len(plan.items), plan.items.count(D), failed), shown
    assert shown["chiffre-echecs formula"] == f"= {plan.items.count(B)} + {plan.items.count(A)}", shown
    minutes = re.fullmatch(r"(.+) min", shown["chiffre-minutes"])
    assert minutes and _close(_fr(minutes.group(1)), plan.figures().minutes, 2), (shown["chiffre-minutes"], plan)
    per_status = {ITEM_LABELS[label]: int(_fr(count)) for label, count in _table(page, "#elements-par-statut")}
    assert per_status == {status: plan.items.count(status) for status in ITEM_LABELS.values()}, per_status
    # _record gives every refused or failed item the message « refusé »
    errors = [(row[0], ITEM_LABELS[row[1]], int(_fr(row[2]))) for row in _table(page, "#erreurs")]
    wanted = [("refusé", status, plan.items.count(status)) for status in (B, A) if plan.items.count(status)]
    assert sorted(errors, key=str) == sorted(wanted, key=str) and failed > 0, (errors, wanted)
    assert [count for _, _, count in errors] == sorted((count for _, _, count in errors), reverse=True)


def _visit_run_page(page: Any, base: str, run: Run) -> None:
    """As a manager: the run's page shows its counts and error messages as recorded, no evidence link nor
    thumbnail (a note says evidence is for engineers), axe-core finds no serious violation; and
    `/executions/{id}/preuves/preuves/echec-L-1.png` (the file the roles test writes for this run) answers
    403, as the API's evidence routes do."""
    answer = page.goto(f"{base}/executions/{run.plan.run_id}")
    assert answer is not None and answer.status == 200
    _check_run(page, run)
    assert page.locator("a[href*='/preuves'], img, #captures, #fichiers").count() == 0
    assert "Preuve" not in page.locator("#table-elements thead").inner_text()
    assert page.locator("#preuves-reservees").is_visible()
    keys = _table(page, "#table-elements")
    assert [row[0] for row in keys] == [f"L-{k}" for k in range(len(run.plan.items))]
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"e2e-dashboard-run-{os.environ.get('ROBOCORE_THEME', 'neutral')}.png"),
                    full_page=True)
    assert _axe(page) == []
    evidence = f"{base}/executions/{run.plan.run_id}/preuves/preuves/echec-L-1.png"
    refused = page.request.get(evidence)
    assert refused.status == 403 and not refused.body().startswith(b"\x89PNG"), refused.status
    answer = page.goto(evidence)
    assert answer is not None and answer.status == 403
    assert page.locator("h1").inner_text() == "Accès refusé" and page.locator("img").count() == 0


# ---- the tests ---------------------------------------------------------------------------------------
def test_a_manager_reads_the_ledger_on_the_overview_and_in_its_exports(chromium: Any, world: World,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A manager (the provider's `roles` claim) signs in through the provider's login form and lands on the
    overview (this year): every card equals the test's sum of what it recorded. Through the form: the last
    12 months, then two explicit dates spanning two calendar years, then a service, then a lab: each
    submitted view is a shareable URL (a new page gives the same cards) whose cards equal the sums, and
    whose Excel and CSV downloads total the sums and the page. The history's minutes changed mid-way."""
    monkeypatch.setenv("ROBOCORE_THEME", "neutral")
    today, runs = _today(), world.runs
    subv = {run.plan.per_item for run in runs if run.plan.robot == "subv"}
    assert subv == {40.0, 55.0}  # the minutes per item changed with the robot's second version
    years = {run.plan.at.year for run in runs}
    assert len(years) >= 2 and len({(r.plan.at.year, r.plan.at.month) for r in runs}) >= 18
    watch = Watch([], [])
    context = _context(chromium, watch)
    try:
        page = _sign_in(context, world.base, "alice")
        assert page.locator(".rc-person__name").inner_text().strip().endswith("alice@ddets.gouv.fr")
        this_year = View(date(today.year, 1, 1), today + timedelta(days=1))
        _check_cards(_read_cards(page), runs, this_year, today)

        page.select_option("#filtre-periode", value="12mois")
        _submit(page)
        assert _query(page)["periode"] == ["12mois"]
        twelve = View(_months_back(today, 11), today + timedelta(days=1))
        assert _sum(runs, twelve).minutes > 0
        _check_cards(_read_cards(page), runs, twelve, today)

        start, end = _months_back(today, 18), _months_back(today, 1)  # 17 whole months, over two years
        assert start.year < (end - timedelta(days=1)).year
        page.fill("#filtre-du", start.isoformat())
        page.fill("#filtre-au", (end - timedelta(days=1)).isoformat())
        page.select_option("#filtre-periode", value="")
        _submit(page)
        dated = View(start, end)
        read = _check_cards(_read_cards(page), runs, dated, today)
        _check_exports(page, runs, dated, read)

        for field, value, view in (("#filtre-service", "DDETS 31", View(start, end, service="DDETS 31")),
                                   ("#filtre-labo", "Lab Occitanie",
                                    View(start, end, service="DDETS 31", lab="Lab Occitanie"))):
            page.select_option(field, label=value)
            _submit(page)
            shared = page.url
            assert _query(page)["du"] == [start.isoformat()] and _query(page)["au"] == [str(end - timedelta(days=1))]
            cards = _read_cards(page)
            read = _check_cards(cards, runs, view, today)
            assert 0 < _sum(runs, view).minutes < _sum(runs, dated).minutes  # the filter did narrow the view
            other = context.new_page()  # the URL is shareable: the same view, the same figures
            other.goto(shared)
            assert _read_cards(other) == cards
            other.close()
            _check_exports(page, runs, view, read)
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "e2e-dashboard-neutral.png"), full_page=True)
        # the minutes in force and why: each robot's first version, then subv's second one (40 → 55 min)
        detail = page.request.get(f"{world.base}/api/v1/processes/{quote(SUBV)}")
        assert detail.status == 200, detail.text()
        changes = {(c["robot"], c["version_id"], c["minutes_per_item"], c["previous_minutes_per_item"])
                   for c in detail.json()["minutes_history"]}
        versions = {(r.plan.robot, r.version, r.plan.per_item) for r in runs if r.plan.process == SUBV}
        assert changes == {(robot, version, minutes, 40.0 if minutes == 55.0 else None)
                           for robot, version, minutes in versions}
        _visit_process_page(page, world.base, SUBV, runs, View(start, end))
        assert watch.dialogs == []
        assert [m for m in watch.console if "Content Security Policy" in m] == []
    finally:
        context.close()


def test_roles_and_csrf_in_the_browser(chromium: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent (role from the people file) signing in gets the 403 page on `/`; a manager's session, with
    its CSRF header, cannot launch a run (403 forbidden) nor read a run's items or evidence (403) that an
    engineer can read; a POST with the session cookie but no CSRF token (sign-out) is refused (403 csrf)
    and the session still works after; with the page's token, signing out ends it. The manager's run page
    (DSFR theme) shows the run's counts and messages but no evidence, whose address answers 403."""
    watch = Watch([], [])
    agent = _context(chromium, watch)
    try:
        page = _sign_in(agent, world.base, "dora")
        answer = page.reload()
        assert answer is not None and answer.status == 403
        assert page.locator("h1").inner_text() == "Accès refusé" and page.locator(".rc-figure").count() == 0
        assert "votre rôle (agent)" in page.locator("main").inner_text()
        assert page.request.get(f"{world.base}/api/v1/me").json()["role"] == "agent"
        assert page.request.get(f"{world.base}/api/v1/reports/hours-saved.csv").status == 403
    finally:
        agent.close()

    failed = next(r for r in world.runs if r.plan.status is RunStatus.COMPLETED_WITH_ERRORS)
    evidence = world.home / "runs" / failed.plan.run_id / "preuves" / "echec-L-1.png"
    evidence.parent.mkdir(parents=True, exist_ok=True)
    evidence.write_bytes(b"\x89PNG\r\n\x1a\n capture")
    engineer = bearer(world.engineer)
    manager = _context(chromium, watch)
    try:
        page = _sign_in(manager, world.base, "alice")
        token = page.locator("form.rc-signout input[name=csrf_token]").get_attribute("value")
        assert token and page.request.get(f"{world.base}/api/v1/me").json()["csrf_token"] == token
        launch = page.request.post(f"{world.base}/api/v1/robots/lot-50/runs", data={"inputs": {"nombre": 1}},
                                   headers={"X-CSRF-Token": token})
        assert (launch.status, launch.json()["code"]) == (403, "forbidden"), launch.text()
        assert world.executor.submitted == []
        run = f"{world.base}/api/v1/runs/{failed.plan.run_id}"
        for path in ("/evidence", "/evidence/preuves/echec-L-1.png", "/items", "/logs"):
            refused = page.request.get(f"{run}{path}")
            assert (refused.status, refused.json()["code"]) == (403, "forbidden"), (path, refused.text())
        assert page.request.get(f"{run}/evidence", headers=engineer).json() == [
            {"path": "preuves/echec-L-1.png", "size": evidence.stat().st_size}]
        assert page.request.get(f"{run}/evidence/preuves/echec-L-1.png", headers=engineer).status == 200
        with monkeypatch.context() as theme:  # the DSFR theme for the run page only (two sign-out forms)
            theme.setenv("ROBOCORE_THEME", "dsfr")
            _visit_run_page(page, world.base, failed)
        assert [m for m in watch.console if "Content Security Policy" in m] == []

        no_token = page.request.post(f"{world.base}/deconnexion", headers={"Accept": "application/json"})
        assert (no_token.status, no_token.json()["code"]) == (403, "csrf")
        wrong = page.request.post(f"{world.base}/deconnexion", form={"csrf_token": token[:-3] + "xyz"},
                                  headers={"Accept": "application/json"})
        assert (wrong.status, wrong.json()["code"]) == (403, "csrf")
        still = page.goto(f"{world.base}/")
        assert still is not None and still.status == 200 and page.locator(".rc-figure").count() == 9
        with page.expect_navigation(wait_until="load"):  # the sign-out's own answer, before going anywhere
            page.get_by_role("button", name="Se déconnecter").click()
        after = page.goto(f"{world.base}/")
        assert after is not None and after.status == 401
        assert watch.dialogs == []
    finally:
        manager.close()


def test_hostile_names_are_text_on_the_page_and_in_the_exports(chromium: Any, world: World,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Process, service and lab names holding a script tag, quotes and a formula, chosen in the form: shown
    as text (the top table, the options, the period line; no dialog fires, no inline script, axe-core
    finds no serious violation), and written as text in the downloads: string cells in the workbook
    (never a formula), the CSV's formula-like names prefixed with `'` and the others as they are."""
    monkeypatch.setenv("ROBOCORE_THEME", "dsfr")
    today, runs = _today(), world.runs
    start, end = _months_back(today, 18), today.replace(day=1)
    watch = Watch([], [])
    context = _context(chromium, watch)
    try:
        page = _sign_in(context, world.base, "alice", f"/?du={start}&au={end - timedelta(days=1)}")
        everything = View(start, end)
        _check_cards(_read_cards(page), runs, everything, today)
        names = page.locator("#top-processus tbody th[scope=row]").all_inner_texts()
        assert {SCRIPT, QUOTES, RISKY} <= set(names)
        for field, name in (("#filtre-processus", SCRIPT), ("#filtre-service", QUOTES), ("#filtre-labo", RISKY)):
            assert name in page.locator(f"{field} option").all_inner_texts()
        _, content = _download(page, "#export-xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        assert all(c.data_type != "f" for c in cells)
        texts = {c.value: c for c in cells if isinstance(c.value, str)}
        for name in (SCRIPT, QUOTES, RISKY):
            assert name in texts and texts[name].data_type == "s", name
        assert texts[RISKY].quotePrefix
        _, content = _download(page, "#export-csv")
        first_cells = [row[0] for row in _csv_rows(content)]
        assert "'" + RISKY in first_cells and RISKY not in first_cells
        assert SCRIPT in first_cells and QUOTES in first_cells

        page.select_option("#filtre-service", label=QUOTES)
        page.select_option("#filtre-labo", label=RISKY)
        _submit(page)
        assert _query(page)["service"] == [QUOTES] and _query(page)["labo"] == [RISKY]
        view = View(start, end, service=QUOTES, lab=RISKY)
        read = _check_cards(_read_cards(page), runs, view, today)
        assert page.locator("#top-processus tbody th[scope=row]").all_inner_texts() == [SCRIPT]
        period = page.locator("#periode").inner_text()
        assert f"service « {QUOTES} »" in period and f"laboratoire « {RISKY} »" in period
        assert page.locator("script:not([src])").count() == 0
        _check_exports(page, runs, view, read)
        _, content = _download(page, "#export-xlsx")
        summary = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
        filters = [c for row in summary.iter_rows() for c in row if isinstance(c.value, str) and RISKY in c.value]
        assert filters and all(c.data_type == "s" for c in filters)
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "e2e-dashboard-hostile-dsfr.png"), full_page=True)

        assert _axe(page) == []
        assert watch.dialogs == []
        assert [m for m in watch.console if "Content Security Policy" in m] == []
    finally:
        context.close()
