"""Translations: catalogues complete and compiled, language negotiation, API errors and the CLI in French or English."""

from __future__ import annotations

import asyncio
import contextvars
import importlib.util
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from robocore import i18n
from robocore.i18n import Bilingual, lazy_gettext, negotiate, ngettext, use_language
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.server.errors import ApiError
from robocore.statuses import ItemStatus, RunStatus
from robocore.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    """scripts/i18n.py, the catalogue tooling, imported as a module."""
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    return _tool()


# ---- catalogues --------------------------------------------------------------------------------------
def test_catalogues_are_complete_and_compiled(tool: ModuleType) -> None:
    """Every message of the code has a French and an English translation, and each .mo holds its .po."""
    assert tool.problems() == [], "run `make i18n`, translate robocore/locale/fr/LC_MESSAGES/robocore.po"


def _locale_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy)
    return copy


def _edit_fr(tool: ModuleType, locale: Path, msgid: str, string: str) -> None:
    """Set the French translation of `msgid` in a copy of the catalogues (the .mo left as it was)."""
    from babel.messages.pofile import write_po

    path = tool.po_path(locale, "fr")
    catalog = tool._read_po(path, "fr")
    catalog.get(msgid).string = string
    with path.open("wb") as fh:
        write_po(fh, catalog)


def test_check_fails_on_a_missing_french_translation(tool: ModuleType, tmp_path: Path) -> None:
    """A msgid without its French makes the check fail, naming the message (so CI fails)."""
    locale = _locale_copy(tmp_path)
    _edit_fr(tool, locale, "run not found '{run_id}'", "")
    found = tool.problems(locale=locale)
    assert any("missing or fuzzy translation" in p and "run not found '{run_id}'" in p for p in found), found


def test_check_fails_on_a_stale_mo_and_a_wrong_placeholder(tool: ModuleType, tmp_path: Path) -> None:
    """A .po changed without compiling, or a translation naming a parameter the msgid lacks, fails the check."""
    locale = _locale_copy(tmp_path)
    _edit_fr(tool, locale, "robot not found '{name}'", "robot introuvable « {nom} »")
    found = tool.problems(locale=locale)
    assert any("fr/LC_MESSAGES/robocore.mo" in p and "stale .mo" in p for p in found), found
    assert any("unknown placeholder" in p and "robot not found '{name}'" in p for p in found), found
    tool.compile_all(locale)
    assert not any("stale .mo" in p for p in tool.problems(locale=locale))


def test_check_fails_on_a_message_not_extracted(tool: ModuleType, tmp_path: Path) -> None:
    """A new _() in the code, not yet extracted into the catalogues, fails the check."""
    source = tmp_path / "robocore"
    source.mkdir()
    (source / "module.py").write_text('from robocore.i18n import _l\n\nMESSAGE = _l("a brand new message")\n',
                                      encoding="utf-8")
    (source / "web" / "templates").mkdir(parents=True)
    (source / "web" / "templates" / "page.html").write_text('<h1>{{ _("a page title") }}</h1>', encoding="utf-8")
    found = tool.problems(source=source, locale=_locale_copy(tmp_path))
    assert any("the .pot is stale" in p for p in found), found
    for new in ("a brand new message", "a page title"):
        assert any("missing entry" in p and new in p for p in found), (new, found)


def test_jinja_templates_translate_in_the_active_language() -> None:
    """install_jinja gives templates _(), ngettext, pgettext and {% trans %} over the same catalogues."""
    from jinja2 import Environment

    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    i18n.install_jinja(env)
    page = env.from_string('{{ _("Status") }} · {{ pgettext("run status", "failed") }} · '
                           '{% trans %}Duration{% endtrans %}')
    with use_language("fr"):
        assert page.render() == "Statut · échouée · Durée"
    with use_language("en"):
        assert page.render() == "Status · failed · Duration"


# ---- negotiation -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("accept", "query", "expected"), [
    (None, None, "fr"),
    ("fr", None, "fr"),
    ("en", None, "en"),
    ("en-GB,en;q=0.9", None, "en"),
    ("en-US", None, "en"),
    ("de", None, "fr"),
    ("de-DE,de;q=0.9,en;q=0.5", None, "en"),
    ("fr;q=0.2, en;q=0.8", None, "en"),
    ("en;q=0, fr;q=0.1", None, "fr"),
    ("*", None, "fr"),
    ("en;q=abc, fr", None, "fr"),
    ("fr-FR", "en", "en"),
    ("en", "fr", "fr"),
    ("en", "de", "en"),
])
def test_negotiation(accept: str | None, query: str | None, expected: str) -> None:
    """?lang= wins when supported; else the best Accept-Language tag we support; else French."""
    assert negotiate(accept, query) == expected


def test_plural_forms_in_both_languages() -> None:
    """French takes the singular for 0 and 1 (`1 élément`, `2 éléments`); English for 1 only."""
    def more(n: int) -> str:
        return ngettext("… and {n} more item (robo logs RUN_ID)", "… and {n} more items (robo logs RUN_ID)", n)
    with use_language("fr"):
        assert [more(n) for n in (0, 1, 2)] == ["… et 0 autre élément (robo logs RUN_ID)",
                                                 "… et 1 autre élément (robo logs RUN_ID)",
                                                 "… et 2 autres éléments (robo logs RUN_ID)"]
    with use_language("en"):
        assert [more(n) for n in (1, 2)] == ["… and 1 more item (robo logs RUN_ID)",
                                             "… and 2 more items (robo logs RUN_ID)"]


def test_language_setting_and_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """ROBOCORE_LANGUAGE is the default; use_language overrides it for its block only; unknown codes refused."""
    message = lazy_gettext("run not found '{run_id}'", run_id="r1")
    monkeypatch.delenv("ROBOCORE_LANGUAGE", raising=False)
    assert str(message) == "exécution introuvable 'r1'"
    monkeypatch.setenv("ROBOCORE_LANGUAGE", "en")
    assert str(message) == "run not found 'r1'"
    with use_language("fr"):
        assert str(message) == "exécution introuvable 'r1'"
    assert i18n.current() == "en"
    with pytest.raises(ValueError, match="unknown language 'de'"):
        i18n.set_language("de")


# ---- the API -----------------------------------------------------------------------------------------
@pytest.fixture
def api(tmp_path: Path, robo_home: Path) -> Iterator[tuple[FastAPI, TestClient, dict[str, str]]]:
    """An application over a fresh SQLite store, with an engineer's token."""
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    (tmp_path / "robots").mkdir()
    app = create_app(store, robots_dir=tmp_path / "robots")
    token = create_token(store, "ingenieur", "engineer")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client, {"Authorization": f"Bearer {token}"}
    store.close()


def test_api_error_in_french_by_default_and_english_on_request(
        api: tuple[FastAPI, TestClient, dict[str, str]]) -> None:
    """detail follows Accept-Language or ?lang= (French by default), Content-Language says which;
    erreur stays French and error English whatever the request asked."""
    _, client, engineer = api
    french = client.get("/api/v1/runs/inconnue", headers=engineer)
    english = client.get("/api/v1/runs/inconnue", headers={**engineer, "Accept-Language": "en-GB,en;q=0.9"})
    asked = client.get("/api/v1/runs/inconnue?lang=en", headers={**engineer, "Accept-Language": "fr"})
    assert french.status_code == english.status_code == asked.status_code == 404
    assert french.json() == {"code": "run_not_found", "detail": "exécution introuvable 'inconnue'",
                             "erreur": "exécution introuvable 'inconnue'", "error": "run not found 'inconnue'"}
    assert english.json() == dict(french.json(), detail="run not found 'inconnue'") == asked.json()
    assert (french.headers["content-language"], english.headers["content-language"],
            asked.headers["content-language"]) == ("fr", "en", "en")
    assert "accept-language" in french.headers["vary"].lower()


def test_generic_errors_keep_their_words(api: tuple[FastAPI, TestClient, dict[str, str]]) -> None:
    """401, 404 and 422 answers keep the French and English they always had, in erreur and error."""
    _, client, engineer = api
    missing = client.get("/api/v1/robots", headers={"Accept-Language": "en"})
    assert missing.status_code == 401 and missing.json() == {
        "code": "unauthenticated", "detail": "missing or invalid API token",
        "erreur": "Jeton d'API manquant ou invalide", "error": "missing or invalid API token"}
    unknown = client.get("/api/v1/nulle-part", headers=engineer)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Ressource introuvable"
    invalid = client.get("/api/v1/runs?limit=abc", headers={**engineer, "Accept-Language": "en"})
    assert invalid.status_code == 422 and invalid.json()["detail"] == "invalid request parameters"
    assert invalid.json()["erreur"] == "Paramètres de la requête invalides" and invalid.json()["fields"]


def test_body_limit_and_server_errors_are_answered_in_the_request_language(
        api: tuple[FastAPI, TestClient, dict[str, str]]) -> None:
    """The 413 of the body limit (outside the routes) and a 500 (outside every middleware) follow ?lang= too."""
    app, client, engineer = api
    big = client.post("/api/v1/tokens?lang=en", content=b"{" + b" " * 400_000 + b"}",
                      headers={**engineer, "Content-Type": "application/json"})
    assert big.status_code == 413 and big.headers["content-language"] == "en"
    assert big.json()["detail"] == "request body too large (at most 256 KB, ROBOCORE_JSON_MAX_KB)"
    assert big.json()["erreur"] == "corps de requête trop volumineux (au plus 256 Ko, ROBOCORE_JSON_MAX_KB)"

    def boom() -> None:
        raise RuntimeError("panne")

    app.add_api_route("/api/v1/boom", boom)
    for lang, words in (("en", "internal server error"), ("fr", "Erreur interne du serveur")):
        failed = client.get(f"/api/v1/boom?lang={lang}")
        assert failed.status_code == 500 and failed.json()["detail"] == words
        assert failed.headers["content-language"] == lang


def test_a_bilingual_reason_inside_a_message_answers_both_languages(
        api: tuple[FastAPI, TestClient, dict[str, str]]) -> None:
    """A catalogue message whose reason is an exception's own Bilingual text: each language gets its side."""
    app, client, _ = api

    def mixed() -> None:
        raise ApiError(400, lazy_gettext("file input '{name}': {reason}", name="classeur",
                                         reason=Bilingual("nom refusé", "name refused")))

    app.add_api_route("/api/v1/mixed", mixed)
    both = client.get("/api/v1/mixed").json()
    assert both["detail"] == both["erreur"] == "entrée fichier 'classeur' : nom refusé"
    assert both["error"] == "file input 'classeur': name refused"


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_no_language_leaks_between_concurrent_requests(api: tuple[FastAPI, TestClient, dict[str, str]],
                                                       kind: str) -> None:
    """Two requests in flight together, one French and one English, each answered in its own language
    (async routes on the event loop, sync routes in worker threads)."""
    app, _, _ = api
    both_inside = threading.Barrier(2, timeout=10)
    arrived: list[str] = []
    gate = asyncio.Event()

    async def waits_async(name: str) -> None:
        arrived.append(name)
        if len(arrived) == 2:
            gate.set()
        await asyncio.wait_for(gate.wait(), timeout=10)  # the other request has set its language meanwhile
        raise ApiError(404, lazy_gettext("robot not found '{name}'", name=name))

    def waits_sync(name: str) -> None:
        both_inside.wait()
        raise ApiError(404, lazy_gettext("robot not found '{name}'", name=name))

    app.add_api_route("/api/v1/waits/{name}", waits_async if kind == "async" else waits_sync)

    async def together() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=20) as client:
            return list(await asyncio.gather(client.get("/api/v1/waits/un", headers={"Accept-Language": "fr"}),
                                             client.get("/api/v1/waits/two", headers={"Accept-Language": "en"})))

    french, english = asyncio.run(together())
    assert french.json()["detail"] == "robot introuvable 'un'" and french.headers["content-language"] == "fr"
    assert english.json()["detail"] == "robot not found 'two'" and english.headers["content-language"] == "en"
    assert i18n.current() == "fr"  # nothing left behind in the caller's context


# ---- the CLI -----------------------------------------------------------------------------------------
def _result(**changes: Any) -> SimpleNamespace:
    values: dict[str, Any] = dict(
        run_id="20261201-abc", robot="saisie", status=RunStatus.COMPLETED_WITH_ERRORS, duration_s=12.5,
        minutes_saved=134.0, error=None,
        counts={ItemStatus.DONE: 2, ItemStatus.BUSINESS_ERROR: 1, ItemStatus.APPLICATION_ERROR: 3})
    return SimpleNamespace(**(values | changes))


def _printed(lang: str, draw: Any) -> str:
    from robocore.cli import summary

    console = Console(record=True, width=160, color_system=None)
    with use_language(lang):
        draw(summary, console)
    return console.export_text()


def test_cli_run_summary_in_french_and_english() -> None:
    """The run summary's labels, statuses and item counts (with plurals) in the active language, no doubling."""
    french = _printed("fr", lambda s, c: s.print_result(c, _result()))
    english = _printed("en", lambda s, c: s.print_result(c, _result()))
    for words in ("Exécution 20261201-abc — saisie", "Statut", "terminée avec erreurs",
                  "2 faits, 1 erreur métier, 3 erreurs techniques", "Durée", "12,50 s",
                  "Temps agent économisé", "2 h 14 min (134 min)"):
        assert words in french, words
    for words in ("Run 20261201-abc — saisie", "Status", "completed with errors",
                  "2 done, 1 business error, 3 technical errors", "Duration", "12.50 s", "Agent time saved"):
        assert words in english, words
    assert " / " not in french + english and "Statut" not in english
    interrupted = _printed("en", lambda s, c: s.print_result(c, _result(status=RunStatus.RUNNING, counts={})))
    assert "running / interrupted" in interrupted and "none" in interrupted
    assert "Resume: robo resume 20261201-abc" in interrupted


def test_cli_failures_table_uses_plural_forms() -> None:
    """The failed items' title and the '… and N more' line take the plural of their count."""
    item = SimpleNamespace(key="K-1", status=ItemStatus.BUSINESS_ERROR, error="montant absent", evidence=[])
    one = _printed("fr", lambda s, c: s.print_failures(c, [item]))
    many = _printed("fr", lambda s, c: s.print_failures(c, [item] * 4, limit=2))
    english = _printed("en", lambda s, c: s.print_failures(c, [item] * 3, limit=2))
    assert "Élément en échec (1)" in one and "métier" in one and "Preuves" in one
    assert "Éléments en échec (4)" in many and "… et 2 autres éléments (robo logs RUN_ID)" in many
    assert "Failed items (3)" in english and "… and 1 more item (robo logs RUN_ID)" in english


def _robo(*args: str) -> Any:
    """`robo ARGS` in a copy of this context, so that --lang set by the command stays inside it."""
    from robocore.cli.app import app

    return contextvars.copy_context().run(CliRunner().invoke, app, list(args))


def test_robo_lang_option_and_setting_switch_the_cli(robo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`robo --lang en` and ROBOCORE_LANGUAGE=en print English; French otherwise; an unknown language is refused."""
    monkeypatch.delenv("ROBOCORE_LANGUAGE", raising=False)
    french, english = _robo("runs"), _robo("--lang", "en", "runs")
    assert french.exit_code == english.exit_code == 0, french.output + english.output
    assert "Déclencheur" in french.output and "Début (UTC)" in french.output
    assert "Trigger" in english.output and "Start (UTC)" in english.output and "Déclencheur" not in english.output
    monkeypatch.setenv("ROBOCORE_LANGUAGE", "en")
    assert "Trigger" in _robo("runs").output
    assert "Déclencheur" in _robo("--lang", "fr", "runs").output
    refused = _robo("--lang", "de", "runs")
    assert refused.exit_code == 2 and "unknown language 'de'" in refused.output
    monkeypatch.delenv("ROBOCORE_LANGUAGE")
    assert "langue inconnue 'de'" in _robo("--lang", "de", "runs").output
