"""Security headers on every answer (errors included), a CSP under which the Swagger UI page still works."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient

from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.store import Store
from tests.conftest import need_chromium
from tests.integration.api_support import FakeExecutor, bearer, live_server, robots_folder

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class Site:
    """An app, its client and an engineer's token."""

    def __init__(self, root: Path, store: Store) -> None:
        self.store = store
        self.app = create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(root))
        self.token = bearer(create_token(store, "ing", "engineer"))
        self.client = TestClient(self.app, raise_server_exceptions=False)


@pytest.fixture
def site(tmp_path: Path, robo_home: Path) -> Iterator[Site]:
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    site = Site(tmp_path, store)
    with site.client:
        yield site
    store.close()


def _assert_secured(response: httpx.Response, no_store: bool = True) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if no_store:
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("method", "path", "with_token", "status"), [
    ("GET", "/api/v1/health", False, 200),
    ("GET", "/api/v1/openapi.json", False, 200),
    ("GET", "/api/v1/robots", True, 200),
    ("GET", "/metrics", True, 200),
    ("GET", "/api/v1/robots", False, 401),
    ("GET", "/api/v1/robots/inconnu", True, 404),
    ("GET", "/api/v1/nulle-part", False, 404),
    ("DELETE", "/api/v1/health", False, 405),
    ("GET", "/api/v1/runs?limit=0", True, 422),
    ("POST", "/api/v1/tokens", False, 413),
])
def test_every_answer_carries_the_security_headers(site: Site, method: str, path: str, with_token: bool,
                                                    status: int) -> None:
    """Successes and errors alike (401, 404, 405, 413, 422) carry nosniff, no-referrer, frame denial, the CSP
    and `Cache-Control: no-store`."""
    content = b"x" * (300 * 1024) if status == 413 else None
    response = site.client.request(method, path, content=content, headers=site.token if with_token else {})
    assert response.status_code == status, response.text
    _assert_secured(response)


def test_an_unexpected_error_is_json_secured_and_logged_with_its_traceback(site: Site) -> None:
    """A route that raises answers 500 with our JSON error body and the security headers, and the log holds
    the exception with its traceback."""

    def boom() -> None:
        raise RuntimeError("panne imprévue")

    site.app.add_api_route("/api/v1/boom", boom)
    with structlog.testing.capture_logs() as logs:
        response = site.client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error" and "Erreur interne" in response.json()["detail"]
    _assert_secured(response)
    logged = [e for e in logs if e["event"] == "api.internal_error"]
    assert logged and logged[0]["path"] == "/api/v1/boom" and isinstance(logged[0]["exc_info"], RuntimeError)


def test_docs_page_allows_only_its_own_inline_script(site: Site) -> None:
    """/api/v1/docs names the SHA-256 of its one inline script in script-src (no 'unsafe-inline'); the
    static Swagger files keep nosniff but may be cached."""
    page = site.client.get("/api/v1/docs")
    assert page.status_code == 200
    _assert_secured(page)
    scripts = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in page.headers["content-security-policy"]
    static = site.client.get("/api/v1/docs/static/swagger-ui.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in static.headers


def test_swagger_ui_renders_in_chromium_under_the_policy(site: Site) -> None:
    """In Chromium, the docs page renders the API's title and operations and "Try it out" shows a live answer,
    with no CSP violation reported."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    from robocore.actions._browser_session import find_chromium

    violations: list[str] = []
    with live_server(site.app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(find_chromium()), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(f"{url}/api/v1/docs")
            page.wait_for_selector(".opblock-summary", timeout=30_000)
            title = page.text_content(".info .title") or ""
            operations = page.locator(".opblock-summary").count()
            page.click(".opblock-summary >> nth=0")  # GET /robots: "Try it out", then "Execute" without a token
            page.click("button.try-out__btn")
            page.click("button.execute")
            answered = page.locator(".live-responses-table .response-col_status").nth(1)
            answered.wait_for(timeout=30_000)
            status = (answered.text_content() or "").strip()
        finally:
            browser.close()
    assert "Robocore" in title
    assert operations >= 25
    assert status == "401"
    assert violations == []
