"""Modules moved to the catalogues: the same message in French by default and in English when asked."""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from robocore.cli.app import app
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.store import Store
from tests.integration.api_support import FakeExecutor, bearer, robots_folder


def _robo(*args: str) -> Any:
    """`robo ARGS` in a copy of the context, so that `--lang` stays within the command."""
    return contextvars.copy_context().run(CliRunner().invoke, app, list(args))


# ---- the CLI -----------------------------------------------------------------------------------------
def test_cli_errors_in_french_by_default_and_english_with_lang(robo_home: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`robo validate` of a folder without robots and `robo logs` of an unknown run: French, English with --lang en."""
    monkeypatch.delenv("ROBOCORE_LANGUAGE", raising=False)
    empty = tmp_path / "vide"
    empty.mkdir()
    french, english = _robo("validate", str(empty)), _robo("--lang", "en", "validate", str(empty))
    assert french.exit_code == english.exit_code == 1
    assert "aucun fichier robot.yaml dans" in french.output and "Erreur" in french.output
    assert "no robot.yaml file in" in english.output and "Error" in english.output
    assert "aucun fichier" not in english.output
    french, english = _robo("logs", "inconnue"), _robo("--lang", "en", "logs", "inconnue")
    assert "exécution introuvable 'inconnue'" in french.output
    assert "run not found 'inconnue'" in english.output


# ---- the API -----------------------------------------------------------------------------------------
def test_api_input_refusal_in_the_request_language(robo_home: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused input answers `detail` in the request's language, `erreur` in French and `error` in English."""
    monkeypatch.delenv("ROBOCORE_LANGUAGE", raising=False)
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    app_ = create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))
    engineer = bearer(create_token(store, "ingenieur", "engineer"))
    with TestClient(app_) as client:
        french = client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": "douze"}}, headers=engineer)
        english = client.post("/api/v1/robots/lot-50/runs?lang=en", json={"inputs": {"nombre": "douze"}},
                              headers=engineer)
        unknown = client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombr": 3}},
                              headers={**engineer, "Accept-Language": "en"})
    store.close()
    assert french.status_code == english.status_code == unknown.status_code == 422
    assert "nombre attendu, reçu 'douze'" in french.json()["detail"] and french.json()["code"] == "invalid_inputs"
    assert "number expected, got 'douze'" in english.json()["detail"]
    assert english.json()["erreur"] == french.json()["detail"] and english.json()["error"] == english.json()["detail"]
    assert unknown.json()["detail"].startswith("unknown input: nombr (the robot's inputs: ")
    assert unknown.json()["erreur"].startswith("entrée inconnue : nombr (entrées du robot : ")
