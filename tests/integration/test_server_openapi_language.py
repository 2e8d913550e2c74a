"""/api/v1/openapi.json in the request's language: English msgids in the routes, French by default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from robocore.server import (
    create_app,
    routes_admin,
    routes_health,
    routes_ideas,
    routes_me,
    routes_processes,
    routes_reports,
    routes_robots,
    routes_run_data,
    routes_runs,
    routes_schedules,
)
from robocore.server.app import translated_texts
from robocore.store import Store
from tests.integration.api_support import FakeExecutor, robots_folder

ROOT = Path(__file__).resolve().parents[2]
MOVED = (routes_admin, routes_health, routes_ideas, routes_me, routes_processes, routes_reports, routes_robots,
         routes_run_data, routes_runs, routes_schedules)


@pytest.fixture
def documents(robo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The document asked for in English, in French, with no language (the setting: French), and `?lang=en`."""
    monkeypatch.delenv("ROBOCORE_LANGUAGE", raising=False)
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    app = create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))
    with TestClient(app) as client:
        found = {"en": client.get("/api/v1/openapi.json", headers={"Accept-Language": "en-GB,fr;q=0.5"}).json(),
                 "fr": client.get("/api/v1/openapi.json", headers={"Accept-Language": "fr-FR"}).json(),
                 "default": client.get("/api/v1/openapi.json").json(),
                 "query": client.get("/api/v1/openapi.json?lang=en", headers={"Accept-Language": "fr"}).json()}
    store.close()
    return found


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(path, method): operation for path, item in document["paths"].items()
            for method, operation in item.items() if isinstance(operation, dict)}


def _ours() -> set[tuple[str, str]]:
    """(path, method) of the operations of the route modules moved to the catalogues."""
    return {(route.path, method.lower()) for module in MOVED for route in module.router.routes
            for method in getattr(route, "methods", ())}


def test_summaries_and_descriptions_in_the_request_language(documents: dict[str, dict[str, Any]]) -> None:
    """Accept-Language en → English, fr or none → French, ?lang=en wins; the same document otherwise."""
    en, fr = documents["en"], documents["fr"]
    assert en["info"]["description"].startswith("Robocore's API: robots, runs, schedules")
    assert fr["info"]["description"].startswith("API de Robocore\u00a0: robots, exécutions, planifications")
    runs_en, runs_fr = en["paths"]["/api/v1/runs"]["get"], fr["paths"]["/api/v1/runs"]["get"]
    assert (runs_en["summary"], runs_fr["summary"]) == ("Runs", "Exécutions")
    launch = "/api/v1/robots/{robot}/runs"
    assert en["paths"][launch]["post"]["summary"] == "Launch a run"
    assert fr["paths"][launch]["post"]["summary"] == "Lancer un robot"
    run_id = {p["name"]: p for p in fr["paths"]["/api/v1/runs/{run_id}"]["get"]["parameters"]}["run_id"]
    assert run_id["description"] == "Identifiant de l'exécution"
    assert runs_en["responses"]["401"]["description"] == "missing or invalid API token"
    assert runs_fr["responses"]["401"]["description"] == "Jeton d'API manquant ou invalide"
    assert documents["default"] == fr and documents["query"] == en
    assert en["paths"].keys() == fr["paths"].keys() and en["components"].keys() == fr["components"].keys()


def test_every_summary_of_the_moved_routes_is_translated_and_single(documents: dict[str, dict[str, Any]]) -> None:
    """Each summary of those routes is an English msgid (no « français / English ») with its French."""
    en, fr = _operations(documents["en"]), _operations(documents["fr"])
    ours = _ours() & en.keys()
    assert len(ours) > 30
    doubled = sorted(f"{m.upper()} {p}" for p, m in ours if " / " in en[p, m]["summary"])
    assert not doubled, f"doubled summaries: {doubled}"
    untranslated = sorted(f"{m.upper()} {p}: {en[p, m]['summary']}" for p, m in ours
                          if en[p, m]["summary"] == fr[p, m]["summary"])
    assert not untranslated, f"summaries without French: {untranslated}"


@pytest.mark.parametrize("module", MOVED, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_no_plain_summary_or_description_in_the_routes(module: Any) -> None:
    """summary= and description= are N_("…") (or a constant holding one) in the moved route modules."""
    source = Path(module.__file__).read_text(encoding="utf-8")
    plain = [source.count("\n", 0, m.start()) + 1
             for m in re.finditer(r"\b(?:summary|description)=(?:f?[\"'(])", source)]
    assert not plain, f"{module.__name__}: lines {plain}: write summary=N_(\"English text\")"


def test_examples_and_defaults_are_not_translated() -> None:
    """Only `summary` and `description` texts go through the catalogue; examples, defaults, enums stay."""
    document = {"description": "Runs", "properties": {"description": {"description": "Runs", "default": "Runs"}},
                "example": {"description": "Runs"}, "enum": ["Runs"]}
    shown = translated_texts(document, lambda text: text.upper())
    assert shown == {"description": "RUNS", "properties": {"description": {"description": "RUNS", "default": "Runs"}},
                     "example": {"description": "Runs"}, "enum": ["Runs"]}
