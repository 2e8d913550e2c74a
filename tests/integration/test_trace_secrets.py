"""`robo run --trace` with secrets, in the real Chromium: what a kept trace holds, and what is left behind.

The portal (pages/trace_*.html, served here) shows the signed-in user name on every page, sets an
HttpOnly session cookie at login and calls its API with an `Authorization: Bearer` header. The robot
declares the user name an identifier: its items' traces are kept, without cookies, credential headers
nor the password; a page that prints the password voids its trace, and the console says so.
"""

from __future__ import annotations

import http.server
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from robocore.actions._browser_session import find_chromium
from tests.conftest import need_chromium, robo_cmd

PAGES = Path(__file__).parent / "pages"
USER, PASSWORD = "jdupont.agent", "Mdp-Tr4ce-" + secrets.token_hex(6)
pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium_required() -> None:
    need_chromium()


class Portal:
    """What the test portal handed out: the session cookie and the API token (random per test)."""

    def __init__(self) -> None:
        self.cookie = "sess-" + secrets.token_hex(16)
        self.token = "tok-" + secrets.token_hex(16)
        self.logins: list[str] = []


def _handler(portal: Portal) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
            pass

        def _send(self, body: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            portal.logins.append(form.get("pass", [""])[0])
            self._send("", 303, {"Location": "/trace/account",
                                 "Set-Cookie": f"sessionid={portal.cookie}; Path=/; HttpOnly"})

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            url = urlsplit(self.path)
            signed_in = f"sessionid={portal.cookie}" in self.headers.get("Cookie", "")
            if url.path == "/trace/login":
                self._send((PAGES / "trace_login.html").read_text(encoding="utf-8"))
            elif url.path == "/trace/account" and signed_in:
                echo = portal.logins[-1] if "echo" in parse_qs(url.query) else ""
                page = Template((PAGES / "trace_account.html").read_text(encoding="utf-8"))
                self._send(page.substitute(user=USER, echo=echo, token=portal.token))
            elif url.path == "/trace/api":
                ok = self.headers.get("Authorization") == f"Bearer {portal.token}"
                self._send("API ok" if ok else "API refusée", 200 if ok else 401)
            else:
                self._send("<p>Non connecté</p>", 403)

    return Handler


@pytest.fixture
def portal() -> Iterator[tuple[str, Portal]]:
    state = Portal()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", state
    finally:
        server.shutdown()
        server.server_close()


ROBOT = Template("""\
robot: trace-secrets
secrets:
  portail: {fields: [username, password]$identifiers}
steps:
  - use: browser.open
    with: {url: "$base/trace/login"}
  - use: browser.fill
    with:
      fields:
        "Nom d'utilisateur": "{{ secrets.portail.username }}"
        "Mot de passe": "{{ secrets.portail.password }}"
  - use: browser.click
    with: {name: Se connecter}
  - use: browser.expect_text
    with: {text: "API ok"}
  - for_each: $items
    as: cas
    key: "{{ cas.key }}"
    steps:
      - use: browser.open
        with: {url: "$base/trace/account{{ '?echo=1' if cas.echo else '' }}"}
      - use: browser.expect_text
        with: {text: "API ok"}
      - use: browser.fill
        with:
          fields:
            "Référence": "{{ cas.key if cas.user is defined and not cas.user else secrets.portail.username }}"
      - use: browser.fill
        when: "{{ cas.code }}"
        with: {fields: {"Code d'accès": "{{ secrets.portail.password }}"}}
      - use: flow.fail
        with: {message: "échec voulu pour garder la trace"}
""")


def _run(request: pytest.FixtureRequest, tmp_path: Path, base: str, items: list[dict[str, Any]],
         *args: str, identifiers: str = ", identifiers: [username]") -> tuple[subprocess.CompletedProcess[str],
                                                                              Path, Path]:
    """`robo run --trace` of the robot in a fresh home, with its own temporary directory."""
    robot, home = tmp_path / "robot", tmp_path / "home"
    for folder in (robot, home):
        folder.mkdir()
    # a short path of its own: Chromium's socket paths under $TMPDIR must stay below 108 characters
    tmp = Path(tempfile.mkdtemp(prefix="rt-"))
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    text = ROBOT.substitute(base=base, items=json.dumps(items), identifiers=identifiers)
    (robot / "robot.yaml").write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(home), ROBOCORE_LANGUAGE="fr", TMPDIR=str(tmp), COLUMNS="200",
               ROBOCORE_SECRET_PORTAIL_USERNAME=USER, ROBOCORE_SECRET_PORTAIL_PASSWORD=PASSWORD)
    proc = subprocess.run([*robo_cmd(), "run", str(robot), "--trace", "-q", *args], capture_output=True,
                          text=True, env=env, timeout=180)
    runs = list((home / "runs").iterdir())
    assert len(runs) == 1, proc.stdout + proc.stderr
    return proc, runs[0], tmp


def _files(trace: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(trace) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_identifier_keeps_the_trace_without_cookie_credentials_or_password(
        request: pytest.FixtureRequest, tmp_path: Path, portal: tuple[str, Portal]) -> None:
    """The user name on every page does not void the trace; the cookie, the token, the password are not in it."""
    base, state = portal
    proc, run_dir, tmp = _run(request, tmp_path, base, [{"key": "A-1", "echo": False, "code": False}])
    assert state.logins == [PASSWORD], proc.stderr  # the robot did sign in
    trace = run_dir / "evidence" / "A-1" / "trace.zip"
    assert trace.exists(), proc.stdout + proc.stderr
    files = _files(trace)
    everything = b"".join(data for name, data in files.items() if not name.endswith((".jpeg", ".png")))
    assert USER.encode() in everything  # the identifier is shown by the page and typed: it stays
    for value in (state.cookie, state.token, PASSWORD):
        assert value.encode() not in everything
    lines = [json.loads(line) for name, data in files.items() if name.endswith((".trace", ".network"))
             for line in data.splitlines() if line.strip()]
    network = [e["snapshot"] for e in lines if e.get("type") == "resource-snapshot"]
    assert any(e["request"]["url"].endswith("/trace/api") for e in network)  # the API call is in the trace
    for entry in network:
        for part in (entry["request"], entry["response"]):
            assert part["cookies"] == []
            names = {h["name"].lower() for h in part["headers"]}
            assert not names & {"cookie", "set-cookie", "authorization", "proxy-authorization"}
    assert "non conservée" not in proc.stderr
    _opens_in_the_trace_viewer(trace)


def _opens_in_the_trace_viewer(trace: Path) -> None:
    """`playwright show-trace` serves the cleaned archive and a browser shows its actions and its network."""
    import asyncio

    from playwright._impl._driver import compute_driver_executable
    from playwright.async_api import async_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    node, cli = compute_driver_executable()
    viewer = subprocess.Popen([node, cli, "show-trace", "--host", "127.0.0.1", "--port", str(port), str(trace)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert viewer.stdout is not None
        started = [viewer.stdout.readline() for _ in range(2)]  # a blank line, then where it listens
        assert "Listening on" in "".join(started), started

        async def look() -> tuple[str, str]:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{port}/")
                await page.get_by_text(f'Fill "{USER}"').first.wait_for(timeout=30_000)
                actions = await page.inner_text("body")
                await page.get_by_role("tab", name="Network").click()
                await page.get_by_text("api", exact=True).first.wait_for(timeout=30_000)
                network = await page.inner_text("body")
                await browser.close()
                return actions, network

        actions, network = asyncio.run(look())
        assert "Navigate" in actions and "account" in network
    finally:
        viewer.terminate()
        viewer.wait(timeout=30)


def test_typed_password_and_password_on_the_page_void_the_trace_and_the_console_says_so(
        request: pytest.FixtureRequest, tmp_path: Path, portal: tuple[str, Portal]) -> None:
    """An item that typed the password keeps no trace; one whose page prints it neither; both are said."""
    base, _state = portal
    items = [{"key": "B-code", "echo": False, "code": True}, {"key": "C-echo", "echo": True, "code": False}]
    proc, run_dir, _tmp = _run(request, tmp_path, base, items)
    assert not (run_dir / "evidence" / "B-code" / "trace.zip").exists()
    assert not (run_dir / "evidence" / "C-echo" / "trace.zip").exists()
    assert (run_dir / "evidence" / "C-echo" / "echec.png").exists()
    assert "Trace de « B-code » non conservée\u00a0: un mot de passe a été saisi pendant l’élément" in proc.stderr
    assert "Trace de « C-echo » non conservée\u00a0: le secret « portail.password » a été trouvé dans la trace" \
        in proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    assert "Traces non conservées" in proc.stdout  # the run's summary says it too


def test_a_traced_run_leaves_nothing_in_the_temporary_directory(request: pytest.FixtureRequest, tmp_path: Path,
                                                                portal: tuple[str, Portal]) -> None:
    """Playwright's trace files go to a private folder removed at the end: the temporary directory stays empty."""
    base, _state = portal
    proc, run_dir, tmp = _run(request, tmp_path, base, [{"key": "A-1", "echo": False, "code": False},
                                               {"key": "B-code", "echo": False, "code": True}])
    assert (run_dir / "evidence" / "A-1" / "trace.zip").exists(), proc.stderr
    left = sorted(p.name for p in tmp.iterdir())
    assert not [n for n in left if n.startswith(("playwright-", "robocore-trace-"))], left


def test_without_identifiers_the_user_name_on_the_page_voids_the_trace_and_is_named(
        request: pytest.FixtureRequest, tmp_path: Path, portal: tuple[str, Portal]) -> None:
    """The issue's case: the user name declared a plain secret; the console names it and gives the way out."""
    base, _state = portal
    proc, run_dir, _tmp = _run(request, tmp_path, base, [{"key": "A-1", "echo": False, "code": False, "user": False}],
                               identifiers="")  # the page shows the user name; the item does not type it
    assert not (run_dir / "evidence" / "A-1" / "trace.zip").exists()
    assert ("Trace de « A-1 » non conservée\u00a0: le secret « portail.username » a été trouvé dans la trace "
            "(un champ que le site affiche sur ses pages, comme un nom d’utilisateur, peut être déclaré dans "
            "`identifiers:`)") in proc.stderr
    assert USER not in proc.stdout + proc.stderr
