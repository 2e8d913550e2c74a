"""deploy/nginx/robocore.conf in front of `robo serve` started as the server unit starts it
(ROBOCORE_FORWARDED_ALLOW_IPS=127.0.0.1): TLS answers, and an X-Forwarded-For written by the client never
becomes the address the server logs — nginx replaces it with the connection's own."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, need, robo_cmd
from tests.integration.api_support import free_port
from tests.integration.test_deploy import DEPLOY, nginx_config, self_signed

pytestmark = pytest.mark.e2e


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process writing to `log`, stopped (SIGTERM, then SIGKILL) by its own PID afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} stopped: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, verify=False, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_tls_through_nginx_and_forged_forwarded_addresses_are_replaced(tmp_path: Path) -> None:
    """Through nginx over TLS, health answers and a token works; the server logs the proxy-reported address
    (127.0.0.1) of a request that claimed X-Forwarded-For 203.0.113.9, never the claimed one."""
    need(shutil.which("nginx") is not None, "nginx absent — apt-get install nginx-light (scripts/setup.sh le fait)")
    home, schedules = tmp_path / "home", tmp_path / "schedules"
    home.mkdir()
    schedules.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(home), ROBOCORE_ROBOTS=str(ROOT / "robots"), ROBOCORE_SCHEDULES=str(schedules),
               ROBOCORE_FORWARDED_ALLOW_IPS="127.0.0.1")
    created = subprocess.run([*robo_cmd(), "tokens", "create", "--name", "supervision", "--role", "engineer"],
                             env=env, capture_output=True, text=True, timeout=120)
    token = re.search(r"rbc_\S+", created.stdout + created.stderr)
    assert token is not None, created.stdout + created.stderr
    api, http, tls = free_port(), free_port(), free_port()
    site = (DEPLOY / "nginx" / "robocore.conf").read_text(encoding="utf-8")
    site = re.sub(r"^\s*listen \[::\]:.*$", "", site, flags=re.M)
    site = (site.replace("listen 80;", f"listen 127.0.0.1:{http};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{tls} ssl http2;")
            .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{api};"))
    assert str(api) in site and str(tls) in site
    cert, key = self_signed(tmp_path)
    main = nginx_config(tmp_path, site, cert, key)
    server_log, nginx_log = tmp_path / "serve.log", tmp_path / "nginx.out"

    with process([*robo_cmd(), "serve", "--host", "127.0.0.1", "--port", str(api), "--no-scheduler"], env,
                 server_log) as server, \
            process(["nginx", "-c", str(main), "-p", str(tmp_path), "-g", "daemon off;"], env, nginx_log) as proxy:
        _wait(f"http://127.0.0.1:{api}/api/v1/health", server, server_log)
        _wait(f"https://127.0.0.1:{tls}/api/v1/health", proxy, nginx_log)
        with httpx.Client(base_url=f"https://127.0.0.1:{tls}", verify=False, timeout=30) as client:
            robots = client.get("/api/v1/robots", headers={"Authorization": f"Bearer {token[0]}",
                                                           "X-Forwarded-For": "203.0.113.9"})
            plain = httpx.get(f"http://127.0.0.1:{http}/api/v1/health", timeout=10)
        assert robots.status_code == 200, robots.text
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://")

    events = [json.loads(line) for line in server_log.read_text(errors="replace").splitlines()
              if line.startswith("{")]
    served = [e for e in events if e.get("event") == "http.request" and e.get("path") == "/api/v1/robots"]
    assert [e["client"] for e in served] == ["127.0.0.1"]
    assert "203.0.113.9" not in server_log.read_text(errors="replace")
