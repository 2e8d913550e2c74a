"""Run files shared by a deployment: a workbook uploaded through the API, the run executed by a Celery
worker whose ROBOCORE_HOME is not the server's (another machine), its log and files read through the API."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import need_service
from tests.e2e.test_distribution import _drop_queue, _stop, _wait, worker_cmd
from tests.integration.api_support import bearer, workbook

pytestmark = pytest.mark.e2e
BROKER = "redis://127.0.0.1:6379/0"
ROBOT = """\
robot: fichiers-partages
title: Contrôle d'une liste avec constats
process: {{name: Contrôle des listes, service: DDETS Test, manual_minutes_per_item: 2}}
queue: {queue}
inputs:
  classeur: {{type: file, accept: [.xlsx], label: Classeur à contrôler}}
steps:
  - id: lignes
    use: excel.read_table
    with: {{path: "{{{{ inputs.classeur }}}}"}}
  - for_each: "{{{{ steps.lignes.rows }}}}"
    as: ligne
    key: "{{{{ ligne['numero'] }}}}"
    steps:
      - use: flow.log
        with: {{message: "Ligne {{{{ ligne['numero'] }}}}"}}
      - use: files.write_text
        with:
          path: "{{{{ run.dir }}}}/evidence/{{{{ loop.key }}}}/constat.txt"
          text: "{{{{ ligne['nom'] }}}} vérifié"
  - use: excel.write_table
    with: {{path: "{{{{ run.dir }}}}/sortie/synthese.xlsx", rows: "{{{{ steps.lignes.rows }}}}"}}
"""


def test_uploaded_workbook_runs_on_a_worker_with_another_home_and_the_api_shows_its_log_and_files(
        pg_url: str, robo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ROBOCORE_STORAGE=database, PostgreSQL store, Redis broker: a run launched with an uploaded workbook
    (multipart) is executed by `robo worker` in another data folder; it succeeds, and the API (server in
    its own data folder) lists and serves its log lines, its per-item files and its output workbook,
    none of which exists in the server's folder. Reproduced: "fichier introuvable" and 0 log lines before."""
    need_service("redis", "127.0.0.1", 6379)
    from robocore.executors.celery import CeleryExecutor
    from robocore.server import create_app
    from robocore.server.auth import create_token
    from robocore.store import Store

    queue = f"robocore-test-{uuid.uuid4().hex[:10]}"
    robots = tmp_path / "robots"
    (robots / "fichiers-partages").mkdir(parents=True)
    (robots / "fichiers-partages" / "robot.yaml").write_text(ROBOT.format(queue=queue), encoding="utf-8")
    for key, value in {"ROBOCORE_DATABASE_URL": pg_url, "ROBOCORE_BROKER_URL": BROKER, "ROBOCORE_STORAGE": "database",
                       "ROBOCORE_EXECUTOR": "celery", "ROBOCORE_BUSY_RETRY_SECONDS": "1"}.items():
        monkeypatch.setenv(key, value)
    worker_home = tmp_path / "worker-home"
    env = {**os.environ, "ROBOCORE_HOME": str(worker_home)}
    book = workbook(tmp_path / "liste.xlsx", rows=3)
    log = tmp_path / "worker.log"
    store = Store(pg_url)
    executor = CeleryExecutor(BROKER)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with log.open("wb") as out:
            workers.append(subprocess.Popen(worker_cmd(queue), env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True))
        _wait(lambda: b"ready" in log.read_bytes(), 60, "the worker", workers)
        client = TestClient(create_app(store, executor=executor, robots_dir=robots))
        engineer = bearer(create_token(store, "ing", "engineer"))
        with client, book.open("rb") as fh:
            answer = client.post("/api/v1/robots/fichiers-partages/runs", headers=engineer,
                                 files={"classeur": ("liste.xlsx", fh, "application/octet-stream")})
            assert answer.status_code == 201, answer.text
            run_id = answer.json()["id"]
            _wait(lambda: store.get_run(run_id).status in ("succeeded", "failed", "completed_with_errors"),  # type: ignore[union-attr]
                  120, "the run to finish on the worker", workers)
            run = client.get(f"/api/v1/runs/{run_id}", headers=engineer).json()
            assert (run["status"], run["counts"]) == ("succeeded", {"done": 3}), (run, log.read_text()[-3000:])

            server_run, worker_run = robo_home / "runs" / run_id, worker_home / "runs" / run_id
            assert (worker_run / "inputs" / "classeur" / "liste.xlsx").read_bytes() == book.read_bytes()
            assert not (server_run / "log.jsonl").exists() and not (server_run / "evidence").exists()

            logs = client.get(f"/api/v1/runs/{run_id}/logs", headers=engineer).json()
            events = [line["event"] for line in logs["lines"]]
            assert "run.started" in events and events.count("robot.message") == 3, events
            assert logs["next_offset"] == len(events)
            listed = {f["path"] for f in client.get(f"/api/v1/runs/{run_id}/evidence", headers=engineer).json()}
            assert {"log.jsonl", "inputs/classeur/liste.xlsx", "sortie/synthese.xlsx",
                    *(f"evidence/N-{n}/constat.txt" for n in (1, 2, 3))} <= listed, listed
            note = client.get(f"/api/v1/runs/{run_id}/evidence/evidence/N-2/constat.txt", headers=engineer)
            assert note.status_code == 200 and note.content.decode() == "Dossier 2 vérifié"
            output = client.get(f"/api/v1/runs/{run_id}/evidence/sortie/synthese.xlsx", headers=engineer)
            assert output.status_code == 200
            assert output.content == (worker_run / "sortie" / "synthese.xlsx").read_bytes()
    finally:
        executor.shutdown()
        store.close()
        _stop(workers)
        _drop_queue(BROKER, queue)
