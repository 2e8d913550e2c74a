"""Request bodies bounded while they stream, before authentication, through a real `robo serve`; list caps."""

from __future__ import annotations

import json
import os
import socket
import subprocess
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
from tests.conftest import robo_cmd
from tests.integration.api_support import FakeExecutor, bearer, free_port, robots_folder

MB = 1024 * 1024
HUGE = 200 * MB
CHUNK = b"a" * (256 * 1024)  # one chunk, sent again and again: the 200 MB never exist in this process
OPEN, CLOSE = b'{"name": "x", "role": "agent", "inputs": {"commentaire": "', b'"}}'


class RoboServe:
    """A `robo serve --no-scheduler` process on a free loopback port, its JSON log, stopped by its PID."""

    def __init__(self, tmp: Path, label: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{label}.log"
        self._handle = self.log.open("wb")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
        environment.update({"ROBOCORE_HOME": str(tmp / "home"), "ROBOCORE_ROBOTS": str(robots_folder_once(tmp)),
                            **(env or {})})
        self.proc = subprocess.Popen(robo_cmd() + ["serve", "--no-scheduler", "--port", str(self.port), *args],
                                     stdout=self._handle, stderr=subprocess.STDOUT, env=environment)
        deadline = time.monotonic() + 60
        while not self._answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"robo serve did not start: {self.text()[-2000:]}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log events of that name written so far."""
        found = []
        for line in self.text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == name:
                found.append(event)
        return found

    def rss(self) -> int:
        import psutil

        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._handle.close()


def robots_folder_once(tmp: Path) -> Path:
    """The test robots under tmp (copied at the first call only)."""
    folder = tmp / "robots"
    return folder if folder.exists() else robots_folder(tmp)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RoboServe, str]]:
    """One `robo serve` on SQLite for the module, and an engineer's token in its store."""
    tmp = tmp_path_factory.mktemp("limits")
    (tmp / "home").mkdir()
    store = Store(f"sqlite:///{tmp / 'home' / 'robocore.db'}")
    token = create_token(store, "ingenieur", "engineer")
    store.close()
    server = RoboServe(tmp, "serve")
    try:
        yield server, token
    finally:
        server.stop()


def send_streamed(url: str, path: str, total: int, headers: dict[str, str], chunked: bool) -> tuple[bytes, int]:
    """POST a `total`-byte JSON object whose one string is 200 MB of `a`, chunk after chunk, on a raw socket;
    stop as soon as the server answers. Returns the answer and the bytes sent."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    framing = "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n"
    answer, sent = b"", 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{head}{framing}"
                     "\r\n".encode())
        sock.settimeout(0.05)
        while sent < total and not answer:
            part = OPEN if sent == 0 else CLOSE if total - sent == len(CLOSE) else CHUNK[:total - sent - len(CLOSE)]
            try:
                sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
                sent += len(part)
            except (TimeoutError, BlockingIOError):
                pass
            except OSError:  # the server answered and closed the connection
                pass
            try:
                answer += sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                break
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer or not _complete(answer):
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
    return answer, sent


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return len(body) >= length


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("target", ["tokens-without-token", "launch-as-engineer"])
def test_200_mb_json_body_is_413_before_authentication_with_bounded_memory(
        served: tuple[RoboServe, str], chunked: bool, target: str) -> None:
    """A 200 MB JSON body (declared, or chunked with no length) to POST /tokens without any token, or to a
    launch with a valid token, is answered 413 with our error body long before it is all sent; the
    server's memory grows by less than 50 MB and it keeps answering."""
    server, token = served
    path, headers = (("/api/v1/tokens", {}) if target == "tokens-without-token"
                     else ("/api/v1/robots/lot-50/runs", bearer(token)))
    before = server.rss()
    answer, sent = send_streamed(server.url, path, HUGE, headers, chunked)
    grown = server.rss() - before
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["code"] == "body_too_large" and "256 Ko" in body["erreur"] and "256 KB" in body["error"]
    assert body["detail"] == body["erreur"]  # no Accept-Language: French (robocore.i18n)
    assert sent < 20 * MB, sent  # answered early: the rest was never read
    assert grown < 50 * MB, f"RSS grew by {grown / MB:.1f} MB"
    assert httpx.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
    refused = server.events("api.body_too_large")
    assert refused and refused[-1]["path"] == path and refused[-1]["how"] == ("streamed" if chunked else "declared")
    assert not server.events("api.auth_failed")  # refused before any authentication


def test_10_kb_body_still_works(served: tuple[RoboServe, str], tmp_path: Path, robo_home: Path) -> None:
    """A 10 KB JSON body is read as before: a token created through the live server, a run launched in-process."""
    server, _ = served
    store = Store(f"sqlite:///{server.log.parent / 'home' / 'robocore.db'}")
    admin = create_token(store, "admin-10k", "admin")
    store.close()
    padded = json.dumps({"name": "dix-ko", "role": "agent"}) + " " * (10 * 1024)
    created = httpx.post(f"{server.url}/api/v1/tokens", content=padded, timeout=30,
                         headers={**bearer(admin), "Content-Type": "application/json"})
    assert created.status_code == 201, created.text
    local = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    executor = FakeExecutor()
    with TestClient(create_app(local, executor=executor, robots_dir=robots_folder(tmp_path))) as client:
        engineer = create_token(local, "ing", "engineer")
        launch = json.dumps({"inputs": {"nombre": 2}}) + " " * (10 * 1024)
        response = client.post("/api/v1/robots/lot-50/runs", content=launch,
                               headers={**bearer(engineer), "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert len(executor.submitted) == 1
    local.close()


@pytest.fixture
def small_limit_app(tmp_path: Path, robo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient,
                                                                                                          Store]]:
    """An app with ROBOCORE_JSON_MAX_KB=1 and ROBOCORE_UPLOAD_MAX_MB=0.1."""
    monkeypatch.setenv("ROBOCORE_JSON_MAX_KB", "1")
    monkeypatch.setenv("ROBOCORE_UPLOAD_MAX_MB", "0.1")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    with TestClient(create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))) as client:
        yield client, store
    store.close()


def test_limit_follows_the_setting_for_every_non_multipart_body(small_limit_app: tuple[TestClient, Store]) -> None:
    """With ROBOCORE_JSON_MAX_KB=1: a 1,024-byte body passes, 1,025 bytes are 413 whatever the content type
    (JSON, URL-encoded, plain text) and whether the length is declared or streamed; no run is recorded."""
    client, store = small_limit_app
    engineer = bearer(create_token(store, "ing", "engineer"))
    exact = json.dumps({"inputs": {"nombre": 1}}).encode().ljust(1024)
    assert client.post("/api/v1/robots/lot-50/runs", content=exact, headers={
        **engineer, "Content-Type": "application/json"}).status_code == 201
    for ctype in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
        response = client.post("/api/v1/robots/lot-50/runs", content=exact + b" ",
                               headers={**engineer, "Content-Type": ctype})
        assert response.status_code == 413, (ctype, response.text)
        assert response.json()["code"] == "body_too_large" and "1 Ko" in response.json()["erreur"]

    def streamed() -> Iterator[bytes]:
        yield b'{"inputs": {"nombre": 1}}'
        for _ in range(100):
            yield b" " * 100

    response = client.post("/api/v1/robots/lot-50/runs", content=streamed(),
                           headers={**engineer, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.headers["connection"] == "close"
    assert len(store.list_runs()) == 1


def test_multipart_keeps_its_own_larger_bound(small_limit_app: tuple[TestClient, Store]) -> None:
    """A multipart launch is held to ROBOCORE_UPLOAD_MAX_MB (+ the form's overhead), not to the JSON limit:
    a 50 KB file passes the middleware (the route reads it), a form over the upload limit is 413."""
    client, store = small_limit_app
    agent = bearer(create_token(store, "ing", "engineer"))
    small = client.post("/api/v1/robots/lecture-classeur/runs", headers=agent,
                        files={"classeur": ("a.xlsx", b"x" * 50_000, "application/octet-stream")})
    assert small.status_code != 413, small.text  # not a workbook: refused later, by the robot's own reading
    big = client.post("/api/v1/robots/lecture-classeur/runs", headers=agent,
                      files={"classeur": ("a.xlsx", b"x" * 300_000, "application/octet-stream")})
    assert big.status_code == 413 and big.json()["code"] == "upload_too_large"


# ---- pagination caps ---------------------------------------------------------------------------
@pytest.fixture
def paged(tmp_path: Path, robo_home: Path) -> Iterator[tuple[TestClient, Store, dict[str, str]]]:
    """An app with an admin token."""
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    with TestClient(create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))) as client:
        yield client, store, bearer(create_token(store, "adm", "admin"))
    store.close()


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/grants", "/api/v1/robots",
                                  "/api/v1/reports/hours-saved"])
def test_every_list_has_a_capped_limit(paged: tuple[TestClient, Store, dict[str, str]], path: str) -> None:
    """Each list endpoint takes `limit` (at most 500: 501 is 422) and `offset`, and documents both."""
    client, _, admin = paged
    assert client.get(f"{path}?limit=500&offset=0", headers=admin).status_code == 200
    assert client.get(f"{path}?limit=501", headers=admin).status_code == 422
    assert client.get(f"{path}?offset=-1", headers=admin).status_code == 422
    document = client.get("/api/v1/openapi.json").json()
    parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
    assert parameters["limit"]["schema"]["maximum"] == 500 and "offset" in parameters


def test_tokens_grants_and_robots_are_paged(paged: tuple[TestClient, Store, dict[str, str]]) -> None:
    """limit/offset walk the tokens, grants and robots in a stable order without repeating or skipping one."""
    client, store, admin = paged
    for n in range(5):
        create_token(store, f"t{n}", "agent")
        store.add_grant(f"robot-{n}", "g1")
    names = [t["name"] for off in (0, 2, 4) for t in client.get(f"/api/v1/tokens?limit=2&offset={off}",
                                                                   headers=admin).json()]
    assert names == ["adm", "t0", "t1", "t2", "t3", "t4"]
    grants = [g["robot"] for off in (0, 3) for g in client.get(f"/api/v1/grants?limit=3&offset={off}",
                                                                 headers=admin).json()]
    assert grants == [f"robot-{n}" for n in range(5)]
    robots = [r["robot"] for off in (0, 1) for r in client.get(f"/api/v1/robots?limit=1&offset={off}",
                                                                headers=admin).json()]
    assert robots == ["lecture-classeur", "lot-50"]
    assert client.get("/api/v1/robots?offset=2", headers=admin).json() == []
