"""Nothing hangs on another process: a broker or a database that accepts connections and never answers.

The fake server is a loopback socket that accepts every connection and never sends a byte: before
the timeouts, a launch through it hung for ever (Redis) and took every API thread with it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from robocore.errors import StoreError
from robocore.i18n import use_language
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import RunStatus
from robocore.store import Store
from tests.conftest import need_service
from tests.integration.api_support import bearer, live_server, robots_folder

HUNG = 30.0  # far beyond every bound below: reaching it means "it hung", as it did before


class SilentServer:
    """A TCP server on loopback that accepts connections and never answers (closed at the end)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(200)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def _forget_executors() -> None:
    from robocore.executors import base

    for name in list(base._instances):
        base._instances.pop(name).shutdown(wait=False)


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ROBOCORE_BROKER_TIMEOUT": "1", "ROBOCORE_SUBMIT_TIMEOUT": "5",
                        "ROBOCORE_DATABASE_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)


def _broker_url(scheme: str, port: int) -> str:
    return f"redis://:motdepasse-secret@127.0.0.1:{port}/0" if scheme == "redis" \
        else f"amqp://guest:motdepasse-secret@127.0.0.1:{port}//"


@pytest.fixture
def celery_on(silent: SilentServer, short_timeouts: None, monkeypatch: pytest.MonkeyPatch,
              request: pytest.FixtureRequest) -> Iterator[str]:
    """ROBOCORE_EXECUTOR=celery with ROBOCORE_BROKER_URL pointing at the silent server."""
    url = _broker_url(request.param, silent.port)
    monkeypatch.setenv("ROBOCORE_EXECUTOR", "celery")
    monkeypatch.setenv("ROBOCORE_BROKER_URL", url)
    _forget_executors()
    yield url
    _forget_executors()


@pytest.mark.parametrize("celery_on", ["redis", "amqp"], indirect=True)
def test_launch_to_a_silent_broker_fails_in_time_while_health_and_robots_answer(
        celery_on: str, robo_home: Path, tmp_path: Path) -> None:
    """Five launches through the API against a broker that never answers each get 503 executor_unavailable
    within the timeouts, their runs are recorded failed with the reason; meanwhile /api/v1/health (503:
    broker unreachable, database ok) and /api/v1/robots keep answering. No password in any answer."""
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    app = create_app(store, robots_dir=robots_folder(tmp_path))
    engineer = bearer(create_token(store, "ingenieur", "engineer"))
    with live_server(app) as base, httpx.Client(base_url=base, timeout=HUNG) as client, \
            ThreadPoolExecutor(5) as pool:
        started = time.monotonic()
        launches = [pool.submit(client.post, "/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": "3"}},
                                headers=engineer) for _ in range(5)]
        time.sleep(0.3)  # the launches are now waiting on the broker
        side: list[tuple[str, int, float]] = []
        while not all(f.done() for f in launches) and time.monotonic() - started < HUNG:
            for path in ("/api/v1/health", "/api/v1/health/live", "/api/v1/robots"):
                asked = time.monotonic()
                answer = client.get(path, headers=engineer)
                side.append((path, answer.status_code, time.monotonic() - asked))
                if path == "/api/v1/health":
                    health = answer.json()
        answers = [f.result(timeout=HUNG) for f in launches]
    assert [a.status_code for a in answers] == [503] * 5, [a.text for a in answers]
    assert {a.json()["code"] for a in answers} == {"executor_unavailable"}
    assert {p for p, *_ in side} == {"/api/v1/health", "/api/v1/health/live", "/api/v1/robots"}, side
    assert all(code == 200 for p, code, _ in side if p != "/api/v1/health"), side
    assert health["status"] == "indisponible" and health["database"] == "sqlite"
    assert health["checks"]["database"]["status"] == "ok"
    assert health["checks"]["broker"]["status"] == "unreachable" and health["checks"]["broker"]["required"]
    assert "motdepasse-secret" not in str(health) + "".join(a.text for a in answers)
    runs = store.list_runs(limit=10)
    assert len(runs) == 5 and {r.status for r in runs} == {RunStatus.FAILED}, runs
    assert all("exécuteur" in (r.error or "") and "motdepasse-secret" not in (r.error or "") for r in runs)
    store.close()


def test_database_that_never_answers_fails_with_our_error_in_time(silent: SilentServer, short_timeouts: None) -> None:
    """A store whose PostgreSQL accepts the connection and never answers fails with StoreError (password
    hidden) within ROBOCORE_DATABASE_TIMEOUT (libpq counts at least 2 s), instead of waiting for ever."""
    started = time.monotonic()
    with pytest.raises(StoreError, match="injoignable") as caught:
        Store(f"postgresql+psycopg://robot:motdepasse-secret@127.0.0.1:{silent.port}/robocore")
    assert time.monotonic() - started < HUNG
    assert "motdepasse-secret" not in str(caught.value) and f"127.0.0.1:{silent.port}" in str(caught.value)


def test_health_reports_database_broker_and_leader_separately(robo_home: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """With the local executor: liveness 200 without any input/output, readiness 200 with the database ok,
    the broker `not_used` and the scheduler leader reported (none yet, then the one whose heartbeat is fresh)
    without making the server unready; the old `status` and `database` fields are kept."""
    from fastapi.testclient import TestClient

    monkeypatch.setenv("ROBOCORE_EXECUTOR", "local")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    with TestClient(create_app(store, robots_dir=robots_folder(tmp_path))) as client:
        assert client.get("/api/v1/health/live").json() == {"status": "ok"}
        first = client.get("/api/v1/health")
        assert first.status_code == 200, first.text
        body = first.json()
        assert (body["status"], body["database"]) == ("ok", "sqlite")
        assert body["checks"]["broker"]["status"] == "not_used"
        assert body["checks"]["scheduler"]["status"] == "no_leader"
        store.leader_heartbeat("hote:42:abcd", "hote", 42, store_now())
        time.sleep(1.1)  # past the leader probe's cache
        ready = client.get("/api/v1/health/ready").json()
        assert ready["checks"]["scheduler"]["status"] == "leading"
        assert ready["checks"]["scheduler"]["data"]["host"] == "hote"
        assert ready["checks"]["scheduler"]["data"]["heartbeat_age_s"] < HUNG
    store.close()


def store_now() -> Any:
    from robocore.store import utcnow

    return utcnow()


@pytest.mark.parametrize(("scheme", "port"), [("redis", 6379), ("amqp", 5672)])
def test_health_with_a_live_broker_is_ready(scheme: str, port: int, robo_home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, short_timeouts: None) -> None:
    """With Celery on a broker that answers (Redis, RabbitMQ), readiness is 200 with the broker ok, and the
    broker is asked once for a burst of health requests (the result is cached)."""
    need_service("Redis" if scheme == "redis" else "RabbitMQ", "127.0.0.1", port)
    from fastapi.testclient import TestClient

    from robocore.executors.celery import CeleryExecutor

    url = "redis://127.0.0.1:6379/0" if scheme == "redis" else "amqp://guest:guest@127.0.0.1:5672//"
    executor = CeleryExecutor(url)
    checks: list[float] = []
    real_check = executor.check

    def counted(timeout: float | None = None) -> None:
        checks.append(time.monotonic())
        real_check(timeout)

    executor.check = counted  # type: ignore[method-assign]
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    with TestClient(create_app(store, executor=executor, robots_dir=robots_folder(tmp_path))) as client:
        answers = [client.get("/api/v1/health") for _ in range(20)]
    assert {a.status_code for a in answers} == {200}, answers[0].text
    assert answers[0].json()["checks"]["broker"] == {**answers[0].json()["checks"]["broker"], "status": "ok",
                                                      "required": True}
    assert len(checks) == 1
    executor.shutdown()
    store.close()


def test_a_store_that_cannot_open_says_so_in_the_language_asked(tmp_path: Path) -> None:
    """A database that cannot be opened: StoreError naming it, in French by default, in English when asked."""
    url = f"sqlite:///{tmp_path / 'absent' / 'robocore.db'}"
    with pytest.raises(StoreError) as french:
        Store(url)
    with use_language("en"), pytest.raises(StoreError) as english:
        Store(url)
    assert str(french.value).startswith(f"base de données injoignable : {url} (")
    assert str(english.value).startswith(f"database unreachable: {url} (")
