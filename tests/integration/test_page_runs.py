"""The runs pages (`GET /executions`, `GET /executions/{id}`, `/executions/{id}/preuves/{path}`): counts and
minutes against what the test recorded, on SQLite and PostgreSQL; filters and paging as GET forms; a run's
figures, errors and items; secrets never shown; evidence for engineers only; escaping; French by default; in
real Chromium under the CSP with axe-core, in both themes (screenshots artifacts/screens/runs-<theme>.png and
run-<theme>.png)."""

from __future__ import annotations

import html
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.testclient import TestClient
from sqlalchemy import DateTime, bindparam, text

from robocore import ledger
from robocore.secrets import MASK
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import ITEM_FAILED, RUN_COMPLETED, ItemStatus, RunStatus
from robocore.store import NewRun, Store
from robocore.store.attended import Supervision
from robocore.web.formatting import format_number
from tests.integration.api_support import FakeExecutor, bearer, live_server
from tests.integration.test_page_overview import AXE, QUOTES, RISKY, SCREENS, SCRIPT, browser  # noqa: F401

D, B, A, S = ItemStatus.DONE, ItemStatus.BUSINESS_ERROR, ItemStatus.APPLICATION_ERROR, ItemStatus.SKIPPED
P = ItemStatus.PENDING
SECRET = "S3cr3t-Mot-De-Passe-42"


def png(width: int = 320, height: int = 180) -> bytes:
    """A real PNG: a "form" drawn in flat colours (a header band, three fields, a red error box)."""
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            if y < 28:
                pixel = (0, 0, 145)
            elif 130 <= y < 160 and 20 <= x < 300:
                pixel = (206, 5, 0) if (y in (130, 159) or x in (20, 299)) else (255, 233, 233)
            elif any(40 + 30 * k <= y < 58 + 30 * k for k in range(3)) and 20 <= x < 300:
                pixel = (120, 120, 120) if (y in (40 + 30 * k for k in range(3)) or x in (20, 299)) else (255,) * 3
            else:
                pixel = (246, 246, 246)
            row += bytes(pixel)
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


@dataclass(frozen=True)
class Recorded:
    """A run the test records, and what it knows of it independently of the store."""

    run_id: str
    robot: str
    process: str | None
    service: str | None
    author: str
    at: datetime
    items: tuple[ItemStatus, ...]
    status: RunStatus
    per_item: float = 3.0
    per_run: float = 5.0
    errors: tuple[str, ...] = ("Dossier incomplet",)

    @property
    def done(self) -> int:
        return self.items.count(D)

    @property
    def failed(self) -> int:
        return sum(self.items.count(s) for s in ITEM_FAILED)

    @property
    def minutes(self) -> float:
        if self.process is None:
            return 0.0
        return self.done * self.per_item + (self.per_run if self.status in RUN_COMPLETED and self.per_run else 0.0)

    def error_of(self, n: int) -> str:
        return self.errors[n % len(self.errors)]


NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
PLANS = [
    Recorded("r-ancien", "subv", "Instruction des subventions", "DDETS 31", "cli", NOW - timedelta(days=40),
             (D, D, D, B), RunStatus.COMPLETED_WITH_ERRORS),
    Recorded("r-script", "script", SCRIPT, QUOTES, "jeton-ingenieur", NOW - timedelta(days=20),
             (D, B, B, A, S, D), RunStatus.COMPLETED_WITH_ERRORS, errors=(SCRIPT, RISKY, QUOTES)),
    Recorded("r-risky", "risky", RISKY, RISKY, "schedule:nuit", NOW - timedelta(days=10), (D,) * 5,
             RunStatus.SUCCEEDED, per_item=6.25, per_run=0.0),
    Recorded("r-echec", "subv", "Instruction des subventions", "DDETS 31", "jeton-ingenieur",
             NOW - timedelta(days=5), (D, A, P), RunStatus.FAILED, errors=("Portail indisponible",)),
    Recorded("r-grand", "subv", "Instruction des subventions", "DDETS 31", "cli", NOW - timedelta(days=2),
             tuple([D] * 70 + [B] * 6 + [A] * 4), RunStatus.COMPLETED_WITH_ERRORS,
             errors=("Dossier incomplet", "Dossier incomplet", "SIRET inconnu")),
    Recorded("r-encours", "outil", None, None, "cli", NOW - timedelta(hours=1), (D, D, P, P), RunStatus.RUNNING),
]


def _record(store: Store, version: int, plan: Recorded, folder: Path) -> None:
    """Record a run as the engine does (items, ledger through robocore.ledger, evidence), dated `plan.at`."""
    store.create_run(NewRun(id=plan.run_id, robot=plan.robot, version_id=version, robot_path="/robots/x",
                            inputs={"classeur": str(folder / plan.run_id / "inputs" / "classeur" / "lot.xlsx"),
                                    "note": f"lot {plan.run_id}"},
                            process_name=plan.process, service=plan.service, minutes_per_item=plan.per_item,
                            minutes_per_run=plan.per_run, trigger="api", created_by=plan.author))
    assert store.claim_run(plan.run_id, "test")
    keys = [f"L-{k:03d}" for k in range(len(plan.items))]
    store.add_items(plan.run_id, "lignes", keys)
    run = store.get_run(plan.run_id)
    assert run is not None
    for n, (key, status) in enumerate(zip(keys, plan.items, strict=True)):
        if status is P:
            continue
        store.start_item(plan.run_id, key)
        if status is D:
            assert ledger.record_done(store, plan.run_id, key, run)
        else:
            shot = folder / plan.run_id / "evidence" / key / "echec.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            shot.write_bytes(png())
            store.finish_item(plan.run_id, key, status, error=None if status is S else plan.error_of(n),
                              evidence=[str(shot)])
    if plan.status in RUN_COMPLETED:
        ledger.record_run(store, plan.run_id, run)
    if plan.status is not RunStatus.RUNNING:
        store.finish_run(plan.run_id, plan.status, error="Portail indisponible" if plan.status is RunStatus.FAILED
                         else None)
    start = bindparam("t", plan.at, type_=DateTime)  # stored as the store writes timestamps
    end = bindparam("f", plan.at + timedelta(minutes=12, seconds=30), type_=DateTime)
    with store.engine.begin() as conn:  # the run was recorded at `plan.at` and took 12 min 30 s
        conn.execute(text("UPDATE ledger SET recorded_at = :f WHERE run_id = :r").bindparams(end, r=plan.run_id))
        conn.execute(text("UPDATE items SET started_at = :t, finished_at = :f WHERE run_id = :r "
                          "AND finished_at IS NOT NULL").bindparams(start, end, r=plan.run_id))
        conn.execute(text("UPDATE runs SET started_at = :t, finished_at = CASE WHEN finished_at IS NULL THEN NULL "
                          "ELSE :f END WHERE id = :r").bindparams(start, end, r=plan.run_id))
    other = folder / plan.run_id / "rapport.html"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_text("<script>alert(1)</script>", encoding="utf-8")


ATTENDED_RUN = "r-script"  # an agent followed it at her desk (robo tray --local): 50 min, 12 of them away
SUPERVISED = 38.0


def _fill(store: Store, home: Path) -> None:
    """The runs of PLANS, each with its robot's version and, as a robot's first run does, its process record;
    ATTENDED_RUN with its supervision."""
    for plan in PLANS:
        version = store.save_robot_version(plan.robot, "ab" * 32, f"robot: {plan.robot}\n")
        if plan.process is not None:
            store.ensure_process(plan.process, plan.service, "test")
        _record(store, version, plan, home / "runs")
    at = next(p.at for p in PLANS if p.run_id == ATTENDED_RUN)
    away = ((at + timedelta(minutes=20)).isoformat(), (at + timedelta(minutes=32)).isoformat())
    assert store.record_supervision(Supervision(ATTENDED_RUN, at, at + timedelta(minutes=50), SUPERVISED, (away,)))


@pytest.fixture
def filled(store_url: str, robo_home: Path) -> Iterator[tuple[TestClient, Store, dict[str, dict[str, str]]]]:
    """The recorded runs (files in ROBOCORE_HOME/runs), the app over them, a bearer header per role."""
    store = Store(store_url)
    _fill(store, robo_home)
    app = create_app(store, None, FakeExecutor(), robots_dir=robo_home)
    headers = {role: bearer(create_token(store, f"jeton-{role}", role)) for role in
               ("agent", "manager", "engineer", "admin")}
    with TestClient(app) as client:
        yield client, store, headers
    store.close()


_ROW = re.compile(r'<tr><th scope="row"><a href="(/executions/[^"?]+)[^"]*">.*?</a></th>(.*?)</tr>', re.DOTALL)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)


def _rows(page: str) -> list[tuple[str, list[str]]]:
    """The runs table's rows: (run id, cells as text)."""
    return [(link.rsplit("/", 1)[-1], [html.unescape(c).strip() for c in _CELL.findall(cells)])
            for link, cells in _ROW.findall(page)]


def _text(page: str) -> str:
    """The page as text: entities decoded, French no-break spaces as plain ones."""
    return html.unescape(page).replace("\u00a0", " ").replace("\u202f", " ")


def test_list_counts_and_minutes_equal_what_was_recorded(
        filled: tuple[TestClient, Store, dict[str, dict[str, str]]]) -> None:
    """Every run, newest first, with its items done / failed / in all and the ledger's minutes as the test
    counted them; statuses in words; a running run's duration says it has not finished."""
    client, _store, headers = filled
    answer = client.get("/executions", headers=headers["manager"])
    assert answer.status_code == 200, answer.text[:500]
    rows = _rows(answer.text)
    expected = sorted(PLANS, key=lambda p: p.at, reverse=True)
    assert [run_id for run_id, _ in rows] == [p.run_id for p in expected]
    for (run_id, cells), plan in zip(rows, expected, strict=True):
        robot, process, service, status, done, failed, total, minutes, duration, author = cells
        assert (robot, process, service, author) == (plan.robot, plan.process or "—", plan.service or "—",
                                                     plan.author), run_id
        assert (done, failed, total) == (format_number(plan.done), format_number(plan.failed),
                                         format_number(len(plan.items))), run_id
        assert minutes == format_number(plan.minutes), run_id
        if plan.status is RunStatus.RUNNING:
            assert status == "En cours" and duration == "non terminée"
        else:
            assert duration == "12\u00a0min\u00a030\u00a0s", run_id
    statuses = {run_id: cells[3] for run_id, cells in rows}
    assert statuses["r-risky"] == "Réussie" and statuses["r-echec"] == "Échouée"
    assert statuses["r-grand"] == "Terminée avec erreurs"
    assert 'id="chiffre-executions"' in answer.text and "Comment est-ce calculé ?" in answer.text


def test_filters_paging_and_bad_values(filled: tuple[TestClient, Store, dict[str, dict[str, str]]]) -> None:
    """Robot, process, service, status, author and period filters keep the right runs; two per page gives
    three pages linked by previous/next links that keep the filters; a bad value is a 400 naming the field."""
    client, _store, headers = filled
    get = lambda **params: client.get("/executions", params=params, headers=headers["engineer"])  # noqa: E731
    ids = lambda answer: [run_id for run_id, _ in _rows(answer.text)]  # noqa: E731
    assert ids(get(robot="subv")) == ["r-grand", "r-echec", "r-ancien"]
    assert ids(get(processus=SCRIPT)) == ["r-script"]
    assert ids(get(service=RISKY)) == ["r-risky"]
    assert ids(get(statut="completed_with_errors")) == ["r-grand", "r-script", "r-ancien"]
    assert ids(get(auteur="jeton-ingenieur")) == ["r-echec", "r-script"]
    first, last = (NOW - timedelta(days=25)).date(), (NOW - timedelta(days=3)).date()
    assert ids(get(du=first.isoformat(), au=last.isoformat())) == ["r-echec", "r-risky", "r-script"]
    assert ids(get(du=first.isoformat(), au=last.isoformat(), robot="subv")) == ["r-echec"]

    page1 = get(par_page="2")
    assert ids(page1) == ["r-encours", "r-grand"] and "Page 1 sur 3" in _text(page1.text)
    following = html.unescape(re.search(r'rel="next" href="(.*?)"', page1.text).group(1))  # type: ignore[union-attr]
    assert parse_qs(urlsplit(following).query) == {"page": ["2"], "par_page": ["2"]}
    page2 = client.get(following, headers=headers["engineer"])
    assert ids(page2) == ["r-echec", "r-risky"] and 'rel="prev"' in page2.text
    filtered = get(robot="subv", par_page="2", page="2")
    assert ids(filtered) == ["r-ancien"]
    back = html.unescape(re.search(r'rel="prev" href="(.*?)"', filtered.text).group(1))  # type: ignore[union-attr]
    assert parse_qs(urlsplit(back).query) == {"robot": ["subv"], "par_page": ["2"]}
    assert ids(get(page="9")) == [] and 'id="executions-vide"' in get(page="9").text

    for params, field, shown in ((dict(statut="fini"), "statut", "« fini »"),
                                 (dict(du="2026-02-30"), "du", "« 2026-02-30 »"),
                                 (dict(page="0"), "page", "« 0 »"), (dict(par_page="101"), "par_page", "« 101 »"),
                                 (dict(du="2026-03-02", au="2026-03-01"), "au", "2026-03-01"),
                                 (dict(robot="x" * 201), "robot", "200 caractères")):
        answer = get(**params)
        assert answer.status_code == 400, params
        assert f"« {field} »" in _text(answer.text) and shown in _text(answer.text), params
        assert 'id="erreur-filtre"' in answer.text and 'id="executions"' not in answer.text
    english = client.get("/executions?statut=fini&lang=en", headers=headers["manager"])
    assert english.status_code == 400 and "unknown status for 'statut': 'fini'" in _text(english.text)


def test_run_page_figures_errors_items_and_links(filled: tuple[TestClient, Store, dict[str, dict[str, str]]]) -> None:
    """A run's page: minutes saved with its formula, counts per status, errors grouped by message with their
    kind, items paged (50) and filtered by status, links to the process page and back to the filtered list."""
    client, _store, headers = filled
    listing = client.get("/executions", params={"robot": "subv", "par_page": "2"}, headers=headers["manager"])
    link = html.unescape(re.search(r'href="(/executions/r-grand\?[^"]*)"', listing.text).group(1))  # type: ignore
    page = client.get(link, headers=headers["manager"])
    assert page.status_code == 200, page.text[:500]
    shown = _text(page.text)
    plan = next(p for p in PLANS if p.run_id == "r-grand")
    value = re.search(r'id="chiffre-minutes">\s*<p class="rc-figure__value">(.*?)</p>', shown)
    assert value and value.group(1) == f"{format_number(plan.minutes, 'fr', 2)} min"
    formula = f"{format_number(plan.minutes, 'fr', 2)} min = {format_number(70 * 3.0, 'fr', 2)} min (70 éléments"
    assert formula in shown and f"+ {format_number(5.0, 'fr', 2)} min (exécution)" in shown
    assert re.search(r'id="chiffre-elements">\s*<p class="rc-figure__value">80</p>', shown)
    assert re.search(r'id="chiffre-echecs">\s*<p class="rc-figure__value">10</p>', shown)
    errors = shown[shown.index('id="erreurs"'):shown.index('id="elements"')]
    assert re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td><td class="rc-num">(\d+)</td>', errors) == [
        ("Dossier incomplet", "Erreur métier", "4"), ("Dossier incomplet", "Erreur technique", "3"),
        ("SIRET inconnu", "Erreur métier", "2"), ("SIRET inconnu", "Erreur technique", "1")]
    table = shown[shown.index('id="table-elements"'):]
    assert table.count('<tr><th scope="row">L-') == 50 and "Éléments 1 à 50 sur 80" in shown
    assert 'href="/processus/Instruction%20des%20subventions"' in page.text
    back = html.unescape(re.search(r'id="retour-liste" href="(.*?)"', page.text).group(1))  # type: ignore
    assert parse_qs(urlsplit(back).query) == {"robot": ["subv"], "par_page": ["2"]}
    forged = client.get("/executions/r-grand?liste=statut%3Dperdu%26robot%3Dsubv", headers=headers["manager"])
    assert 'id="retour-liste" href="/executions"' in forged.text  # a refused list query is dropped, not copied
    following = html.unescape(re.search(r'rel="next" href="(.*?)"', page.text).group(1))  # type: ignore
    second = _text(client.get(following, headers=headers["manager"]).text)
    assert "Éléments 51 à 80 sur 80" in second and "L-079" in second and "L-000" not in second
    failed = _text(client.get("/executions/r-grand?statut=application_error", headers=headers["manager"]).text)
    items = failed[failed.index('id="table-elements"'):]
    assert "Éléments 1 à 4 sur 4" in failed and items.count("<td>Erreur technique</td>") == 4
    bad = client.get("/executions/r-grand?statut=perdu", headers=headers["manager"])
    assert bad.status_code == 400 and "statut inconnu pour « statut » : « perdu »" in _text(bad.text)
    running = _text(client.get("/executions/r-encours", headers=headers["manager"]).text)
    assert "non terminée" in running and "Éléments 1 à 4 sur 4" in running and "Pas encore traité" in running
    for missing in ("inconnue", "a" * 40, quote("<b>x'", safe="")):
        answer = client.get(f"/executions/{missing}", headers=headers["manager"])
        assert answer.status_code == 404 and "Exécution introuvable" in _text(answer.text), missing
        assert "<b>" not in answer.text


def test_an_attended_run_shows_its_supervision_and_net_minutes(
        filled: tuple[TestClient, Store, dict[str, dict[str, str]]]) -> None:
    """An attended run's page gives its supervision time (launch to end minus away time) and the net minutes
    saved (gross − supervision), each with how it is calculated; the API's run detail gives the same figures;
    an unattended run shows neither (null in the API)."""
    client, _store, headers = filled
    plan = next(p for p in PLANS if p.run_id == ATTENDED_RUN)
    net = plan.minutes - SUPERVISED
    assert net < 0  # 2 done items × 3 min: she supervised it longer than the work takes by hand
    shown = _text(client.get(f"/executions/{ATTENDED_RUN}", headers=headers["manager"]).text)
    value = re.search(r'id="chiffre-supervision">\s*<p class="rc-figure__value">(.*?)</p>\s*'
                      r'<p class="rc-figure__label">(.*?)</p>', shown)
    assert value and value.groups() == (f"{format_number(SUPERVISED, 'fr', 2)} min", "Temps de supervision")
    assert (f"{format_number(SUPERVISED, 'fr', 2)} min = {format_number(50.0, 'fr', 2)} min (du lancement à la fin)"
            f" − {format_number(12.0, 'fr', 2)} min (absence)") in shown
    value = re.search(r'id="chiffre-net">\s*<p class="rc-figure__value">(.*?)</p>\s*'
                      r'<p class="rc-figure__label">(.*?)</p>', shown)
    assert value and value.groups() == (f"{format_number(net, 'fr', 2)} min", "Minutes économisées nettes")
    assert (f"{format_number(net, 'fr', 2)} min = {format_number(plan.minutes, 'fr', 2)} min (économisées) − "
            f"{format_number(SUPERVISED, 'fr', 2)} min (supervision)") in shown
    figure = shown[shown.index('id="chiffre-net"'):]
    assert figure.index("Comment est-ce calculé ?") < figure.index('class="rc-figure"')
    english = _text(client.get(f"/executions/{ATTENDED_RUN}?lang=en", headers=headers["manager"]).text)
    assert "Supervision time" in english and "Net minutes saved" in english
    detail = client.get(f"/api/v1/runs/{ATTENDED_RUN}", headers=headers["engineer"]).json()
    assert detail["minutes_saved"] == pytest.approx(plan.minutes)
    assert detail["supervision_minutes"] == pytest.approx(SUPERVISED)
    assert detail["net_minutes"] == pytest.approx(net)
    unattended = _text(client.get("/executions/r-grand", headers=headers["manager"]).text)
    assert 'id="chiffre-minutes"' in unattended
    assert "chiffre-supervision" not in unattended and "chiffre-net" not in unattended
    assert "supervision" not in unattended.lower()
    other = client.get("/api/v1/runs/r-grand", headers=headers["engineer"]).json()
    assert other["supervision_minutes"] is None and other["net_minutes"] is None


def test_a_secret_input_is_never_shown(store_url: str, robo_home: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A run launched through the API with a secret's value typed into an input: the page shows the mask, never
    the value (the API masks it when recording the run; the page masks again what this process knows)."""
    robots = tmp_path / "robots" / "avec-secret"
    robots.mkdir(parents=True)
    (robots / "robot.yaml").write_text(
        "robot: avec-secret\nprocess: {name: Secrets, service: DSI, manual_minutes_per_item: 1}\n"
        "inputs:\n  note: {type: text}\nsecrets:\n  compte: {fields: [password]}\n"
        "steps:\n  - use: flow.log\n    with: {message: bonjour}\n", encoding="utf-8")
    monkeypatch.setenv("ROBOCORE_SECRET_COMPTE_PASSWORD", SECRET)
    store = Store(store_url)
    app = create_app(store, None, FakeExecutor(), robots_dir=tmp_path / "robots")
    engineer = bearer(create_token(store, "ingenieur", "engineer"))
    with TestClient(app) as client:
        launched = client.post("/api/v1/robots/avec-secret/runs", json={"inputs": {"note": f"mdp={SECRET}"}},
                               headers=engineer)
        assert launched.status_code == 201, launched.text
        page = client.get(f"/executions/{launched.json()['id']}", headers=engineer)
        listing = client.get("/executions", headers=engineer)
    assert page.status_code == 200 and SECRET not in page.text and SECRET not in listing.text
    assert f"mdp={MASK}" in page.text
    store.close()


def test_evidence_for_engineers_only(filled: tuple[TestClient, Store, dict[str, dict[str, str]]]) -> None:
    """An engineer sees the run folder's screenshots (inline PNG, nosniff) and files (attachments, HTML as
    octet-stream); a manager sees counts and messages but no evidence link, and both the page's evidence route
    and the API's answer 403; an agent gets 403 everywhere; names leaving the run are refused."""
    client, _store, headers = filled
    engineer = client.get("/executions/r-script", headers=headers["engineer"]).text
    assert 'src="/executions/r-script/preuves/evidence/L-001/echec.png"' in engineer
    assert 'href="/executions/r-script/preuves/rapport.html"' in engineer
    image = client.get("/executions/r-script/preuves/evidence/L-001/echec.png", headers=headers["engineer"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["content-type"] == "image/png" and image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-disposition"].startswith("inline")
    page = client.get("/executions/r-script/preuves/rapport.html", headers=headers["admin"])
    assert page.status_code == 200 and page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in page.headers["content-security-policy"]
    for refused in ("%2E%2E/%2E%2E/robocore.db", "evidence/%2E%2E/%2E%2E/r-risky/rapport.html"):
        answer = client.get(f"/executions/r-script/preuves/{refused}", headers=headers["engineer"])
        assert answer.status_code in (400, 404) and not answer.content.startswith(b"SQLite"), refused
    assert client.get("/executions/r-script/preuves/absent.png", headers=headers["engineer"]).status_code == 404
    assert client.get("/executions/inconnue/preuves/x.png", headers=headers["engineer"]).status_code == 404

    manager = client.get("/executions/r-script", headers=headers["manager"])
    assert manager.status_code == 200 and "/preuves/" not in manager.text and "<img" not in manager.text
    assert 'id="preuves-reservees"' in manager.text and "Erreur métier" in _text(manager.text)
    for who in ("manager", "agent"):
        refused_page = client.get("/executions/r-script/preuves/evidence/L-001/echec.png", headers=headers[who])
        assert refused_page.status_code == 403 and not refused_page.content.startswith(b"\x89PNG"), who
        for api in ("/api/v1/runs/r-script/evidence", "/api/v1/runs/r-script/evidence/evidence/L-001/echec.png",
                    "/api/v1/runs/r-script/items"):
            if who == "manager":
                assert client.get(api, headers=headers[who]).status_code == 403, api
    for path in ("/executions", "/executions/r-script"):
        agent = client.get(path, headers=headers["agent"])
        assert agent.status_code == 403 and "votre rôle (agent)" in _text(agent.text), path
        assert client.get(path).status_code == 401


def test_hostile_names_and_messages_are_escaped(filled: tuple[TestClient, Store, dict[str, dict[str, str]]]) -> None:
    """Process, service names and error messages with a script tag, quotes and a formula are escaped text in the
    list, its filters and the run page."""
    client, _store, headers = filled
    for path in ("/executions", f"/executions?processus={quote(SCRIPT)}&service={quote(QUOTES)}",
                 "/executions/r-script", "/executions/r-risky"):
        page = client.get(path, headers=headers["engineer"]).text
        assert SCRIPT not in page and QUOTES not in page and RISKY not in page, path
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, path
    page = client.get("/executions/r-script", headers=headers["engineer"]).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "=cmd|&#39; /C calc&#39;!A0" in page
    assert "Dossier &#34;urgent&#34; d&#39;Alès &amp; Cie" in page
    assert f'href="/processus/{quote(SCRIPT, safe="")}"' in page


def test_french_by_default_english_on_request(filled: tuple[TestClient, Store, dict[str, dict[str, str]]]) -> None:
    """French texts, statuses and formats by default; `?lang=en` gives English."""
    client, _store, headers = filled
    french = _text(client.get("/executions", headers=headers["manager"]).text)
    assert '<html lang="fr"' in french and "Exécutions" in french and "Terminée avec erreurs" in french
    assert "Minutes économisées" in french and "Lancée par" in french
    english = _text(client.get("/executions?lang=en", headers=headers["manager"]).text)
    assert '<html lang="en"' in english and "Completed with errors" in english and "Minutes saved" in english
    run_fr = _text(client.get("/executions/r-grand", headers=headers["manager"]).text)
    assert "Minutes économisées par cette exécution" in run_fr and "Erreur métier" in run_fr
    run_en = _text(client.get("/executions/r-grand?lang=en", headers=headers["manager"]).text)
    assert "Minutes saved by this run" in run_en and "Business error" in run_en and "Erreur métier" not in run_en


# ---- in Chromium ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """A SQLite store with the runs and their files, served by uvicorn, with axe-core from the same origin."""
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCORE_HOME", str(root))
        env.delenv("ROBOCORE_DATABASE_URL", raising=False)
        env.delenv("ROBOCORE_OIDC_ISSUER", raising=False)
        env.delenv("ROBOCORE_STORAGE", raising=False)
        store = Store(f"sqlite:///{root / 'robocore.db'}")
        _fill(store, root)
        headers = {role: bearer(create_token(store, f"jeton-{role}", role)) for role in ("manager", "engineer")}
        app: FastAPI = create_app(store, executor=FakeExecutor(), robots_dir=root)
        app.add_api_route("/essai-axe.js", lambda: FileResponse(AXE, media_type="text/javascript"))
        with live_server(app) as url:
            yield url, headers
        store.close()


def _axe(page: Any) -> list[str]:
    page.add_script_tag(url="/essai-axe.js")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_runs_pages_in_chromium(browser: Any, served: tuple[str, dict[str, dict[str, str]]],  # noqa: F811
                                theme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An engineer's browser opens the list, filters it by robot through the form (a shareable URL), opens a run
    from it and sees its screenshot drawn (a real PNG); hostile names are text (no dialog), no CSP refusal, and
    axe-core finds no serious or critical violation on either page. Screenshots runs-<theme>.png, run-<theme>.png."""
    monkeypatch.setenv("ROBOCORE_THEME", theme)
    url, headers = served
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                  extra_http_headers=headers["engineer"])
    page = context.new_page()
    page.set_default_timeout(30_000)
    console: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(f"{url}/executions", wait_until="load")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"runs-{theme}.png"), full_page=True)
        assert page.locator("#executions tbody tr").count() == len(PLANS)
        assert SCRIPT in page.locator("#executions").inner_text()
        assert _axe(page) == []
        page.select_option("#filtre-robot", label="script")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_load_state("load")
        assert parse_qs(urlsplit(page.url).query)["robot"] == ["script"]
        page.locator("#executions tbody th a").first.click()
        page.wait_for_load_state("load")
        assert urlsplit(page.url).path == "/executions/r-script"
        shots = page.locator("#captures img")
        assert shots.count() == 4
        page.wait_for_function("() => [...document.querySelectorAll('#captures img')].every(i => i.complete)")
        assert page.evaluate("img => img.naturalWidth", shots.first.element_handle()) == 320
        # an attended run: its supervision and net minutes, with how they are calculated (opened)
        assert page.locator("#chiffre-supervision .rc-figure__label").inner_text() == "Temps de supervision"
        page.locator("#chiffre-net summary").click()
        assert page.locator("#chiffre-net .rc-formula").is_visible()
        page.screenshot(path=str(SCREENS / f"run-{theme}.png"), full_page=True)
        assert _axe(page) == []
        page.locator("#retour-liste").click()
        page.wait_for_load_state("load")
        assert parse_qs(urlsplit(page.url).query) == {"robot": ["script"]}
        assert dialogs == [] and page.locator("script:not([src])").count() == 0
        assert [m for m in console if "Content Security Policy" in m or "Refused" in m] == []
    finally:
        context.close()
