"""Runs through the API: launch (JSON, uploaded workbook), status, items, logs, evidence, limits, load."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.store import Store
from tests.integration.api_support import (
    FakeExecutor,
    bearer,
    execute,
    live_server,
    robots_folder,
    workbook,
)


class Api:
    """A server over one store with an engineer's and an agent's tokens."""

    def __init__(self, store: Store, robots: Path, executor: Any) -> None:
        self.store, self.executor = store, executor
        self.app = create_app(store, executor=executor, robots_dir=robots)
        self.client = TestClient(self.app)
        self.engineer = bearer(create_token(store, "ingenieur", "engineer"))
        self.agent = bearer(create_token(store, "agent", "agent", ["ddets"]))
        store.add_grant("lecture-classeur", "ddets")

    def upload(self, path: Path, name: str | None = None, **fields: str) -> httpx.Response:
        with path.open("rb") as fh:
            files = {"classeur": (name or path.name, fh, "application/octet-stream")}
            return self.client.post("/api/v1/robots/lecture-classeur/runs", files=files, data=fields,
                                    headers=self.agent)


@pytest.fixture
def api(store_url: str, robo_home: Path, tmp_path: Path) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL, with a recording executor."""
    store = Store(store_url)
    api = Api(store, robots_folder(tmp_path), FakeExecutor())
    with api.client:
        yield api
    store.close()


def _run_files(home: Path) -> list[Path]:
    runs = home / "runs"
    return [p for p in runs.rglob("*") if p.is_file()] if runs.exists() else []


def test_launch_with_json_inputs_records_a_queued_run(api: Api) -> None:
    """A JSON launch validates the inputs, records a queued run (trigger api, token name) and submits it."""
    response = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": "12"}},
                               headers=api.engineer)
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    assert response.json()["url"] == f"/api/v1/runs/{run_id}"
    assert api.executor.submitted == [(run_id, None)]
    run = api.client.get(f"/api/v1/runs/{run_id}", headers=api.engineer).json()
    assert (run["status"], run["trigger"], run["created_by"]) == ("queued", "api", "ingenieur")
    assert run["inputs"] == {"nombre": 12} and run["counts"] == {} and run["minutes_saved"] == 0


def test_launch_with_an_unusable_executor_is_503_and_the_run_failed(store_url: str, robo_home: Path,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A launch while ROBOCORE_EXECUTOR names no usable executor answers 503 and leaves the run failed, not queued."""
    monkeypatch.setenv("ROBOCORE_EXECUTOR", "inexistant")
    store = Store(store_url)
    app = create_app(store, robots_dir=robots_folder(tmp_path))
    token = bearer(create_token(store, "ingenieur", "engineer"))
    with TestClient(app) as client:
        response = client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": "2"}}, headers=token)
    assert response.status_code == 503 and response.json()["code"] == "executor_unavailable", response.text
    [run] = store.list_runs()
    assert run.status == "failed" and run.error is not None and "inexistant" in run.error
    store.close()


def test_launch_with_bad_inputs_is_422_and_records_nothing(api: Api, robo_home: Path) -> None:
    """A wrong input value is refused with a French message naming it; no run, no folder, nothing submitted."""
    response = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": "douze"}},
                               headers=api.engineer)
    assert response.status_code == 422
    assert "nombre attendu" in response.json()["detail"]
    unknown = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombr": 3}}, headers=api.engineer)
    assert unknown.status_code == 422 and "entrée inconnue" in unknown.json()["detail"]
    assert api.client.post("/api/v1/robots/lot-50/runs", content=b"{", headers=api.engineer).status_code == 422
    form = api.client.post("/api/v1/robots/lot-50/runs", content=b"a=b", headers={
        **api.engineer, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert api.store.list_runs() == [] and api.executor.submitted == []
    assert _run_files(robo_home) == []


def test_file_input_must_be_uploaded_not_a_server_path(api: Api) -> None:
    """A file input given as a path (e.g. /etc/passwd) is refused: the caller must upload the file."""
    response = api.client.post("/api/v1/robots/lecture-classeur/runs", json={"inputs": {"classeur": "/etc/passwd"}},
                               headers=api.agent)
    assert response.status_code == 400 and response.json()["code"] == "file_input_not_uploaded"
    form = api.client.post("/api/v1/robots/lecture-classeur/runs", data={"classeur": "/etc/passwd"},
                           files={"commentaire": (None, "x")}, headers=api.agent)
    assert form.status_code == 400
    assert api.store.list_runs() == []


def test_uploaded_workbook_runs_and_shows_status_items_logs_evidence(api: Api, robo_home: Path,
                                                                     tmp_path: Path) -> None:
    """An uploaded workbook lands in the run's inputs folder under a clean name; after execution the API
    shows the final status, each item, the log lines and the run's files, and serves them."""
    book = workbook(tmp_path / "liste.xlsx", rows=3)
    response = api.upload(book, name="../../Liste des dossiers (mars)?.xlsx", commentaire="mars")
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    saved = robo_home / "runs" / run_id / "inputs" / "classeur" / "Liste des dossiers (mars)_.xlsx"
    assert saved.read_bytes() == book.read_bytes()
    assert api.store.get_run(run_id).inputs["classeur"] == str(saved.resolve())  # type: ignore[union-attr]
    execute(run_id, api.store)
    (robo_home / "runs" / run_id / "evidence" / "N-2").mkdir(parents=True)
    (robo_home / "runs" / run_id / "evidence" / "N-2" / "echec.png").write_bytes(b"\x89PNG preuve")
    status = api.client.get(f"/api/v1/runs/{run_id}", headers=api.agent).json()
    assert (status["status"], status["counts"], status["minutes_saved"]) == ("succeeded", {"done": 3}, 6.0)
    items = api.client.get(f"/api/v1/runs/{run_id}/items", headers=api.agent).json()
    assert [(i["key"], i["status"], i["attempts"]) for i in items] == [("N-1", "done", 1), ("N-2", "done", 1),
                                                                       ("N-3", "done", 1)]
    logs = api.client.get(f"/api/v1/runs/{run_id}/logs", headers=api.agent).json()
    events = [line["event"] for line in logs["lines"]]
    assert "run.started" in events and logs["next_offset"] == len(logs["lines"])
    tail = api.client.get(f"/api/v1/runs/{run_id}/logs?offset=2&limit=1", headers=api.agent).json()
    assert tail == {"lines": [logs["lines"][2]], "next_offset": 3}
    files = {f["path"] for f in api.client.get(f"/api/v1/runs/{run_id}/evidence", headers=api.agent).json()}
    assert {"log.jsonl", "evidence/N-2/echec.png", "inputs/classeur/Liste des dossiers (mars)_.xlsx"} <= files
    png = api.client.get(f"/api/v1/runs/{run_id}/evidence/evidence/N-2/echec.png", headers=api.agent)
    assert png.status_code == 200 and png.content == b"\x89PNG preuve"


def _raw_get(url: str, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """GET with the request target sent byte for byte."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}", "Connection: close",
                 *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_evidence_paths_cannot_leave_the_run_folder(api: Api, robo_home: Path) -> None:
    """`..`, encoded `%2e%2e`, absolute paths, backslashes and symlinks are refused (400/404);
    no byte of a file outside the run folder is ever served."""
    run_id = api.client.post("/api/v1/robots/lot-50/runs", json={}, headers=api.engineer).json()["id"]
    other = api.client.post("/api/v1/robots/lot-50/runs", json={}, headers=api.engineer).json()["id"]
    run_dir = robo_home / "runs" / run_id
    (run_dir / "evidence").mkdir(parents=True)
    (robo_home / "secret.txt").write_text("NE-PAS-SERVIR")
    (robo_home / "runs" / other).mkdir(parents=True, exist_ok=True)
    (robo_home / "runs" / other / "autre.txt").write_text("NE-PAS-SERVIR")
    (run_dir / "evidence" / "lien").symlink_to(robo_home / "secret.txt")
    base = f"/api/v1/runs/{run_id}/evidence/"
    attempts = ["../../secret.txt", "%2e%2e/%2e%2e/secret.txt", "..%2f..%2fsecret.txt", "%2E%2E%2F%2E%2E%2Fsecret.txt",
                f"../{other}/autre.txt", f"..%2f{other}%2fautre.txt", "evidence/../../../secret.txt", "/etc/passwd",
                "%2fetc%2fpasswd", "..\\..\\secret.txt", "..%5c..%5csecret.txt", "C:/Windows/win.ini",
                "evidence/lien", "%00", "evidence/%2e%2e/%2e%2e/%2e%2e/secret.txt", "%252e%252e/%252e%252e/secret.txt",
                f"{robo_home}/secret.txt"]
    with live_server(api.app) as url:  # raw request lines: no client normalises the dots away
        for attempt in attempts:
            status, body = _raw_get(url, base + attempt, api.engineer)
            assert status in (400, 404), (attempt, status, body[:200])
            assert b"NE-PAS-SERVIR" not in body and b"root:" not in body
        assert _raw_get(url, f"/api/v1/runs/..%2f{other}/evidence/autre.txt", api.engineer)[0] in (404, 422)
    listing = api.client.get(f"/api/v1/runs/{run_id}/evidence", headers=api.engineer).json()
    assert all("lien" not in f["path"] for f in listing)


def _read_response(sock: socket.socket, received: bytes) -> bytes:
    """Read one HTTP response with a Content-Length body (what uvicorn sends for JSON errors)."""
    while True:
        head, _, body = received.partition(b"\r\n\r\n")
        if _:
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if len(body) >= length:
                return received
        try:
            more = sock.recv(65536)
        except OSError:
            return received
        if not more:
            return received
        received += more


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_upload_ten_times_the_limit_is_refused_without_filling_the_disk(
        robo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool) -> None:
    """With ROBOCORE_UPLOAD_MAX_MB=1, a 10 MB upload is answered 413 (declared size checked first, else
    the stream stops at the limit); no run is recorded and no byte of it stays on disk."""
    monkeypatch.setenv("ROBOCORE_UPLOAD_MAX_MB", "1")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    app = create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))
    token = create_token(store, "ing", "engineer")
    boundary = "robocoreLimite"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"classeur\"; filename=\"gros.xlsx\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    chunk, total = b"x" * (256 * 1024), 10 * 1024 * 1024
    with live_server(app) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            length = "" if streamed else f"Content-Length: {len(head) + total + len(boundary) + 8}\r\n"
            encoding = "Transfer-Encoding: chunked\r\n" if streamed else ""
            sock.sendall((f"POST /api/v1/robots/lecture-classeur/runs HTTP/1.1\r\nHost: {host}\r\n"
                          f"Authorization: Bearer {token}\r\n{length}{encoding}"
                          f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode())
            sent, answer = 0, b""
            sock.settimeout(0.05)
            for part in [head] + [chunk] * (total // len(chunk)):
                try:
                    sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if streamed else part)
                    sent += len(part)
                    answer += sock.recv(65536)
                except (TimeoutError, BlockingIOError):
                    continue
                except OSError:  # the server closed the connection after answering
                    break
                if answer:
                    break
            sock.settimeout(5)
            answer = _read_response(sock, answer)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body.get("code") == "upload_too_large"
    assert sent < total  # the server answered before the whole upload was sent
    assert _run_files(robo_home) == [] and store.list_runs() == []
    store.close()


def test_hundred_concurrent_launches_all_recorded(store_url: str, robo_home: Path, tmp_path: Path) -> None:
    """100 launches at once through a real uvicorn: 100 answers 201, 100 distinct runs recorded and submitted."""
    store = Store(store_url)
    executor = FakeExecutor()
    app = create_app(store, executor=executor, robots_dir=robots_folder(tmp_path))
    token = create_token(store, "ing", "engineer")

    async def launch_all(url: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=url, headers=bearer(token), limits=limits, timeout=120) as client:
            return await asyncio.gather(*(client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": n}})
                                          for n in range(1, 101)))

    with live_server(app) as url:
        responses = asyncio.run(launch_all(url))
    assert [r.status_code for r in responses] == [201] * 100
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 100
    recorded = store.list_runs(limit=500)
    assert {r.id for r in recorded} == ids
    assert sorted(r.inputs["nombre"] for r in recorded) == list(range(1, 101))
    assert {run_id for run_id, _ in executor.submitted} == ids and len(executor.submitted) == 100
    store.close()


def _events(client: TestClient, run_id: str, headers: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    with client.stream("GET", f"/api/v1/runs/{run_id}/events?interval=0.1", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name:
                out.append((name, json.loads(line[6:])))
    return out


def test_event_stream_follows_the_run_to_its_final_status(api: Api) -> None:
    """The SSE stream sends `status` events as the run progresses and ends with `end` and the final status."""
    run_id = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 12}},
                             headers=api.engineer).json()["id"]
    worker = threading.Thread(target=lambda: (time.sleep(0.3), execute(run_id, api.store)))
    worker.start()
    events = _events(api.client, run_id, api.engineer)
    worker.join()
    assert events[0][0] == "status" and events[0][1]["status"] in ("queued", "running")
    assert events[-1][0] == "end"
    assert events[-1][1]["status"] == "completed_with_errors"
    assert events[-1][1]["counts"] == {"done": 10, "business_error": 2}


def test_cancel_and_resume(api: Api) -> None:
    """A queued run is cancelled at once (a second cancel is 409); resuming hands it back to the executor."""
    run_id = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 5}},
                             headers=api.engineer).json()["id"]
    cancelled = api.client.post(f"/api/v1/runs/{run_id}/cancel", headers=api.engineer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.client.post(f"/api/v1/runs/{run_id}/cancel", headers=api.engineer).status_code == 409
    resumed = api.client.post(f"/api/v1/runs/{run_id}/resume", headers=api.engineer)
    assert resumed.status_code == 202
    assert api.executor.submitted[-1] == (run_id, None)
    execute(run_id, api.store)  # all 5 items done: succeeded, nothing left to resume
    assert api.client.post(f"/api/v1/runs/{run_id}/resume", headers=api.engineer).status_code == 409
    assert api.client.get("/api/v1/runs/nexistepas", headers=api.engineer).status_code == 404


def test_launch_through_the_real_local_executor(robo_home: Path, tmp_path: Path) -> None:
    """With the real `local` executor (worker processes), a run launched by the API executes to the end."""
    local = pytest.importorskip("robocore.executors.local")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    os.environ["ROBOCORE_DATABASE_URL"] = store.url
    executor = local.LocalExecutor(workers=1)
    try:
        api = Api(store, robots_folder(tmp_path), executor)
        with api.client:
            run_id = api.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 8}},
                                     headers=api.engineer).json()["id"]
            events = _events(api.client, run_id, api.engineer)
        assert events[-1][0] == "end"
        assert (events[-1][1]["status"], events[-1][1]["counts"]) == ("completed_with_errors",
                                                                      {"done": 7, "business_error": 1})
        assert store.run_minutes(run_id) == pytest.approx(7 * 4.5 + 10)
    finally:
        executor.shutdown(wait=True)
        os.environ.pop("ROBOCORE_DATABASE_URL", None)
        store.close()


def test_schedules_through_the_real_scheduler_service(store_url: str, robo_home: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With the real scheduler service: list, disable then enable (kept in the store), run now (a run
    created by `schedule:<name>`, refused with 409 while it is still queued); unknown names are 404."""
    service_mod = pytest.importorskip("robocore.scheduling.service")
    robots = robots_folder(tmp_path)
    monkeypatch.setenv("ROBOCORE_ROBOTS", str(robots))
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "nuit.yaml").write_text("schedule: nuit\nrobot: lot50\ninputs: {nombre: 4}\ncron: '0 2 * * *'\n")
    store = Store(store_url)
    executor = FakeExecutor()

    def launch(robot: str, inputs: dict[str, Any], **kwargs: Any) -> str:
        from robocore import dispatch

        return dispatch.launch(robot, inputs, executor=executor, **kwargs)

    service = service_mod.SchedulerService(store, folder, launch, robots_dir=robots)
    app = create_app(store, service, executor, robots_dir=robots)
    engineer = bearer(create_token(store, "ing", "engineer"))
    with TestClient(app) as client:
        listed = client.get("/api/v1/schedules", headers=engineer).json()
        assert [(s["name"], s["robot"], s["enabled"]) for s in listed] == [("nuit", "lot50", True)]
        assert client.post("/api/v1/schedules/nuit/disable", headers=engineer).json()["enabled"] is False
        assert client.get("/api/v1/schedules", headers=engineer).json()[0]["enabled"] is False
        assert client.post("/api/v1/schedules/nuit/enable", headers=engineer).json()["enabled"] is True
        ran = client.post("/api/v1/schedules/nuit/run", headers=engineer)
        assert ran.status_code == 201, ran.text
        run = store.get_run(ran.json()["run_id"])
        assert run is not None and (run.created_by, run.inputs) == ("schedule:nuit", {"nombre": 4})
        assert executor.submitted == [(run.id, None)]
        assert client.post("/api/v1/schedules/nuit/run", headers=engineer).status_code == 409
        assert client.post("/api/v1/schedules/jour/run", headers=engineer).status_code == 404
        assert client.post("/api/v1/schedules/jour/disable", headers=engineer).status_code == 404
    no_scheduler = create_app(store, None, executor, robots_dir=robots)
    with TestClient(no_scheduler) as client:
        assert client.get("/api/v1/schedules", headers=engineer).status_code == 503
    store.close()
