"""API launch latency under 50 concurrent clients, against /api/v1/health in the same run.

A real uvicorn (one worker process) serves the API on 127.0.0.1 with a recording executor
(nothing executes: this measures the launch path — auth, input validation, the queued run
recorded in the store, submission); first on the embedded SQLite store, then on PostgreSQL
when it answers. 50 clients (one asyncio process, keep-alive connections) each send requests
back to back (saturation: by Little's law the latency is then 50 / throughput, whatever the
code), then paced (each client launches every BENCH_PERIOD=2 s: 25 launches a second, the load
of 50 agents clicking at once and again), then from a single client (the service time).
p50/p95 of launches are printed beside those of the same number of health checks, and ratios.

    .venv/bin/python bench/bench_api.py          # BENCH_REQUESTS=1000 BENCH_CLIENTS=50
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pg_scratch import drop_database, scratch_database

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
PERIOD = float(os.environ.get("BENCH_PERIOD", "2"))  # paced load: each client launches every PERIOD s


class RecordingExecutor:
    """Submission recorded only."""

    name = "bench"

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, run_id: str, queue: str | None = None) -> None:
        self.submitted.append(run_id)

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to stop."""


def make_app():  # type: ignore[no-untyped-def]
    """uvicorn factory (in the server process): the API over ROBOCORE_DATABASE_URL."""
    from robocore import settings
    from robocore.logging import configure
    from robocore.server import create_app
    from robocore.store import Store

    configure("json", "warning")  # as `robo serve` logs, without the per-launch info lines
    return create_app(Store(settings.database_url()), executor=RecordingExecutor(),
                      robots_dir=Path(os.environ["BENCH_ROBOTS"]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def _load(url: str, token: str, method: str, path: str, total: int, clients: int,
                period: float = 0.0) -> list[float]:
    """`total` requests from `clients` concurrent clients; returns each latency in ms.

    Args:
        period: 0 sends back to back (saturation); else each client sends one request every
            `period` seconds from a random offset (an open load of clients/period requests a second).
    """
    latencies: list[float] = []
    remaining = iter(range(total))
    headers = {"Authorization": f"Bearer {token}"}

    async def client(http: httpx.AsyncClient) -> None:
        due = time.perf_counter() + random.uniform(0, period)
        for _ in remaining:
            if period:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                due += period
            started = time.perf_counter()
            response = await http.request(method, path, json={"inputs": {"nombre": 3}} if method == "POST" else None)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench_api:make_app", "--factory", "--app-dir",
                             str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                             "--log-level", "warning", "--no-access-log",
                             "--timeout-keep-alive", "60"], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the API server did not start")


def _measure(label: str, db_url: str, home: Path) -> None:
    from robocore.server.auth import create_token
    from robocore.store import Store

    env = dict(os.environ, ROBOCORE_HOME=str(home), ROBOCORE_DATABASE_URL=db_url,
               BENCH_ROBOTS=str(home / "robots"), PYTHONPATH=str(ROOT))
    os.environ.update(ROBOCORE_HOME=str(home))
    store = Store(db_url)
    token = create_token(store, f"bench-{label}", "engineer")
    store.close()
    proc, url = _serve(env)
    try:
        for method, path in (("GET", "/api/v1/health"), ("POST", "/api/v1/robots/lot-50/runs")):
            asyncio.run(_load(url, token, method, path, 100, CLIENTS))  # warm-up (argon2 once, caches)
        health = asyncio.run(_load(url, token, "GET", "/api/v1/health", REQUESTS, CLIENTS))
        launch = asyncio.run(_load(url, token, "POST", "/api/v1/robots/lot-50/runs", REQUESTS, CLIENTS))
        paced = REQUESTS // 2
        health_paced = asyncio.run(_load(url, token, "GET", "/api/v1/health", paced, CLIENTS, PERIOD))
        launch_paced = asyncio.run(_load(url, token, "POST", "/api/v1/robots/lot-50/runs", paced, CLIENTS, PERIOD))
        health1 = asyncio.run(_load(url, token, "GET", "/api/v1/health", 200, 1))
        launch1 = asyncio.run(_load(url, token, "POST", "/api/v1/robots/lot-50/runs", 200, 1))
    finally:
        proc.terminate()
        proc.wait(15)
    print(f"\n[{label}] {REQUESTS} requests, {CLIENTS} concurrent clients, 1 uvicorn worker")
    print(f"  {'':34} {'p50 ms':>8} {'p95 ms':>8}")
    rate = CLIENTS / PERIOD
    rows = ((f"launch, {CLIENTS} back to back", launch), (f"health, {CLIENTS} back to back", health),
            (f"launch, {CLIENTS} × 1/{PERIOD:g}s ({rate:g}/s)", launch_paced),
            (f"health, {CLIENTS} × 1/{PERIOD:g}s ({rate:g}/s)", health_paced),
            ("launch, 1 client", launch1), ("health, 1 client", health1))
    for name, values in rows:
        print(f"  {name:34} {_pct(values, 50):8.1f} {_pct(values, 95):8.1f}")
    print(f"  launch / health at p50: back to back ×{_pct(launch, 50) / _pct(health, 50):.2f}, "
          f"paced ×{_pct(launch_paced, 50) / _pct(health_paced, 50):.2f}, 1 client ×"
          f"{_pct(launch1, 50) / _pct(health1, 50):.2f}; saturation ≈ {1000 * len(launch) / sum(launch) * CLIENTS:.0f}"
          " launches/s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        shutil.copytree(ROOT / "tests" / "integration" / "robots" / "lot50", home / "robots" / "lot50")
        _measure("sqlite", f"sqlite:///{home / 'robocore.db'}", home)
        pg = scratch_database("robocore_bench")
        if pg is None:
            print("\n[postgresql] skipped: nothing answers on 127.0.0.1:5432")
            return
        try:
            _measure("postgresql", pg, home)
        finally:
            drop_database(pg)


if __name__ == "__main__":
    main()
