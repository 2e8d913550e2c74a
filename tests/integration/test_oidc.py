"""Sign-in through OpenID Connect (robocore.web): a real provider on loopback, sessions, CSRF, logout.

The provider is panva's `oidc-provider` (OpenID certified; pinned in tests/oidc/package.json and
its lock, installed with `npm ci` when missing), started by this module with a confidential test
client that must use PKCE. People sign in on its development login page: in real Chromium for
the full journey, and by plain HTTP (its form posted by httpx) for the other cases.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from robocore.i18n import use_language
from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.store import Store
from robocore.web import oidc
from robocore.web.sessions import Login, Sessions, load_key
from tests.conftest import need, need_chromium
from tests.integration.api_support import FakeExecutor, bearer, free_port, live_server, robots_folder

PROVIDER = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "robocore-test"
CLIENT_SECRET = "client-secret-for-the-test-provider-7f3a"
JSON = {"Accept": "application/json"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _install_provider() -> None:
    """`npm ci` from the committed lock when the provider's packages are not installed yet."""
    if (PROVIDER / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    need(shutil.which("npm") is not None and shutil.which("node") is not None,
         "Node.js et npm absents — installez-les (scripts/setup.sh le fait)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PROVIDER, check=True,
                   timeout=300, capture_output=True)


@contextmanager
def provider(port: int, app_url: str) -> Iterator[str]:
    """The test provider on 127.0.0.1:port for a Robocore server at app_url; yields its issuer URL."""
    _install_provider()
    env = dict(os.environ, PORT=str(port), REDIRECT_URI=f"{app_url}/auth/callback", POST_LOGOUT_URI=f"{app_url}/",
               CLIENT_ID=CLIENT_ID, CLIENT_SECRET=CLIENT_SECRET)
    process = subprocess.Popen(["node", "provider.mjs"], cwd=PROVIDER, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline, seen = time.monotonic() + 30, []
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            if line.startswith("ready "):
                break
            if not line and process.poll() is not None:
                raise RuntimeError("the OIDC provider stopped: " + "".join(seen))
        else:
            raise RuntimeError("the OIDC provider did not start: " + "".join(seen))
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class World:
    """A Robocore server with sign-in enabled, its provider, store and session codec."""

    base: str
    issuer: str
    store: Store
    sessions: Sessions
    executor: FakeExecutor
    home: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One provider and one live server for the module (SQLite store)."""
    root = tmp_path_factory.mktemp("oidc")
    provider_port = free_port()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROBOCORE_HOME", str(root / "home"))
        mp.delenv("ROBOCORE_DATABASE_URL", raising=False)
        mp.delenv("ROBOCORE_PUBLIC_URL", raising=False)
        mp.setenv("ROBOCORE_OIDC_ISSUER", f"http://127.0.0.1:{provider_port}")
        mp.setenv("ROBOCORE_OIDC_CLIENT_ID", CLIENT_ID)
        mp.setenv("ROBOCORE_SECRET_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        store = Store(f"sqlite:///{root / 'robocore.db'}")
        executor = FakeExecutor()
        app = create_app(store, None, executor, robots_dir=robots_folder(root))
        app.add_api_route("/essai/deconnexion", logout_page, include_in_schema=False)
        with live_server(app) as base, provider(provider_port, base) as issuer:
            yield World(base, issuer, store, app.state.sessions, executor, root / "home")
        store.close()


def logout_page(request: Request) -> HTMLResponse:
    """A page with the sign-out form as the pages will have it (under the server's security headers)."""
    person = request.app.state.sessions.read(request)
    token = html.escape(person.csrf if person else "")
    return HTMLResponse(f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Essai</title></head>
<body><form method="post" action="/deconnexion"><input type="hidden" name="csrf_token" value="{token}">
<button type="submit">Se déconnecter</button></form></body></html>""")


def _session_cookie(client: httpx.Client) -> str | None:
    return client.cookies.get("robocore_session")


def to_callback(world: World, client: httpx.Client, start: str, login: str) -> str:
    """Follow the provider's redirects from `start`, signing in as `login` on its login form; return our callback."""
    url = start
    for _ in range(12):
        if url.startswith(world.base):
            return url
        answer = client.get(url)
        if answer.status_code in (302, 303):
            url = urljoin(url, answer.headers["location"])
            continue
        assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        action = urljoin(url, re.search(r'action="([^"]+)"', answer.text).group(1))  # type: ignore[union-attr]
        posted = client.post(action, data={"prompt": "login", "login": login, "password": "n'importe"})
        assert posted.status_code in (302, 303), (posted.status_code, posted.text[:500])
        url = urljoin(action, posted.headers["location"])
    raise AssertionError("no answer to our callback")


def begin(world: World, client: httpx.Client, next_path: str = "/api/v1/me") -> str:
    """Ask our server to sign in; return the provider's authorization URL it redirected to."""
    answer = client.get(f"{world.base}/connexion", params={"next": next_path})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def signed_in(world: World, login: str, next_path: str = "/api/v1/me") -> httpx.Client:
    """A client (cookie jar) in which `login` has signed in through the provider."""
    client = httpx.Client(timeout=20, follow_redirects=False)
    callback = to_callback(world, client, begin(world, client, next_path), login)
    answer = client.get(callback)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == next_path
    return client


def test_sign_in_in_chromium_sets_a_strict_cookie_and_me_shows_the_role(world: World) -> None:
    """In real Chromium: /connexion → provider's login page → back to the page asked for, signed in as a manager;
    the session cookie is HttpOnly, SameSite=Lax (not Secure over http), and the sign-in cookie is gone. Then the
    sign-out form of a page ends the session here and at the provider, and comes back to `/`."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    from robocore.actions._browser_session import find_chromium

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(find_chromium()), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            # the provider's development pages load a web font from the internet: loopback only
            context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: route.abort())
            page = context.new_page()
            page.goto(f"{world.base}/connexion?next=/api/v1/me", timeout=30_000)
            page.fill("input[name=login]", "alice")
            page.fill("input[name=password]", "secret-d-alice")
            page.click("button[type=submit]")
            page.wait_for_url(f"{world.base}/api/v1/me", timeout=30_000)
            shown = page.text_content("body") or ""
            cookies = {c["name"]: c for c in context.cookies(world.base)}
            # sign out with the form of a page served under our security headers (CSP form-action 'self')
            page.goto(f"{world.base}/essai/deconnexion")
            page.click("button[type=submit]")
            page.wait_for_url(f"{world.issuer}/session/end**", timeout=30_000)
            page.click("button[value=yes]")
            page.wait_for_url(lambda url: url.split("?")[0] == f"{world.base}/", timeout=30_000)
            after = {c["name"] for c in context.cookies(world.base)}
            me_after = page.request.get(f"{world.base}/api/v1/me").status
        finally:
            browser.close()
    assert '"role":"manager"' in shown and '"auth":"session"' in shown and "alice@ddets.gouv.fr" in shown
    session = cookies["robocore_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Lax" and session["secure"] is False
    assert session["path"] == "/" and session["expires"] > time.time() + 7 * 3600
    assert "robocore_login" not in cookies
    assert CLIENT_SECRET not in session["value"]
    assert "robocore_session" not in after and me_after == 401


def test_claims_map_to_the_highest_role_and_the_groups(world: World) -> None:
    """Roles from the `roles` claim (a list or a single text), the highest kept; groups from `groups`;
    display name and email kept in the session."""
    bruno = signed_in(world, "bruno").get(f"{world.base}/api/v1/me").json()
    assert bruno == {"name": "bruno@ddets.gouv.fr", "role": "engineer", "groups": ["ddets-31", "lab"],
                     "auth": "session", "display_name": "Bruno Petit", "email": "bruno@ddets.gouv.fr",
                     "csrf_token": bruno["csrf_token"], "expires_at": bruno["expires_at"]}
    chef = signed_in(world, "chef").get(f"{world.base}/api/v1/me").json()
    assert (chef["role"], chef["groups"]) == ("admin", [])


def test_role_claims_unit() -> None:
    """role_of keeps known roles only, the highest (agent < engineer < manager < admin); nested claims by dots."""
    assert oidc.role_of({"roles": ["agent", "manager", "engineer"]}, "roles") == "manager"
    assert oidc.role_of({"roles": "agent, admin"}, "roles") == "admin"
    assert oidc.role_of({"realm_access": {"roles": ["engineer", "x"]}}, "realm_access.roles") == "engineer"
    assert oidc.role_of({"roles": ["viewer"]}, "roles") is None and oidc.role_of({}, "roles") is None
    assert oidc.groups_of({"groups": "Service des étrangers"}, "groups") == ("Service des étrangers",)


def test_person_without_a_role_is_refused_and_not_signed_in(world: World) -> None:
    """Someone the provider knows but who holds no Robocore role gets a 403 page in French, and no session."""
    client = httpx.Client(timeout=20, follow_redirects=False)
    with structlog.testing.capture_logs() as logs:
        answer = client.get(to_callback(world, client, begin(world, client), "zoe"))
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert "aucun rôle Robocore ne vous est attribué" in html.unescape(answer.text)
    assert _session_cookie(client) is None
    assert client.get(f"{world.base}/api/v1/me").status_code == 401
    assert any(e["event"] == "web.oidc_refused" and e["reason"] == "no_role" for e in logs)
    as_json = httpx.Client(timeout=20, follow_redirects=False)
    refused = as_json.get(to_callback(world, as_json, begin(world, as_json), "zoe"), headers=JSON)
    assert refused.status_code == 403 and refused.json()["code"] == "oidc_no_role"


def test_tampered_or_foreign_session_cookie_is_refused(world: World) -> None:
    """A session cookie changed by one character, or signed with another key, is a 401 that says so."""
    client = signed_in(world, "alice")
    good = _session_cookie(client)
    assert good and client.get(f"{world.base}/api/v1/me").status_code == 200
    payload, signature = good.rsplit(".", 1)
    forged = payload.replace(payload[10], "A" if payload[10] != "A" else "B", 1) + "." + signature
    for value in (forged, Sessions(b"x" * 64).encode(world.sessions.decode(good))):
        client.cookies.set("robocore_session", value)
        refused = client.get(f"{world.base}/api/v1/me")
        assert refused.status_code == 401 and refused.json()["code"] == "session_expired", refused.text


def test_expired_session_is_refused(world: World) -> None:
    """A session past its expiry (signed with the right key) is refused."""
    person = world.sessions.new_person(sub="alice", name="Alice", email="alice@ddets.gouv.fr", role="admin",
                                       groups=(), issuer=world.issuer)
    client = httpx.Client(timeout=20)
    client.cookies.set("robocore_session", world.sessions.encode(person))
    assert client.get(f"{world.base}/api/v1/me").json()["role"] == "admin"
    client.cookies.set("robocore_session", world.sessions.encode(replace(person, expires=int(time.time()) - 1)))
    refused = client.get(f"{world.base}/api/v1/me")
    assert refused.status_code == 401 and refused.json()["code"] == "session_expired"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
                                    "http:/evil.example", "javascript:alert(1)", "/ok\r\nSet-Cookie: a=b",
                                    "evil.example", "/" + "a" * 2100])
def test_next_must_be_a_local_path(world: World, target: str) -> None:
    """`next` naming another site (or not a plain local path) is refused before any redirect."""
    answer = httpx.get(f"{world.base}/connexion", params={"next": target}, headers=JSON, timeout=20)
    assert answer.status_code == 400 and answer.json()["code"] == "oidc_next"
    assert "location" not in answer.headers


def test_next_local_path_is_where_sign_in_returns(world: World) -> None:
    """A local path with a query is kept and used after sign-in."""
    client = signed_in(world, "alice", next_path="/tableau?periode=2026-T3&service=DDETS")
    assert client.get(f"{world.base}/api/v1/me").status_code == 200


def test_logout_needs_the_csrf_token_clears_the_session_and_ends_the_provider_session(world: World) -> None:
    """POST /deconnexion without the token: 403, still signed in; with it (form field): the cookie is cleared,
    and the browser goes to the provider's end-session endpoint with our client id, return address and hint."""
    client = signed_in(world, "alice")
    me = client.get(f"{world.base}/api/v1/me").json()
    refused = client.post(f"{world.base}/deconnexion", data={}, headers=JSON)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf"
    assert client.get(f"{world.base}/api/v1/me").status_code == 200
    out = client.post(f"{world.base}/deconnexion", data={"csrf_token": me["csrf_token"]})
    assert out.status_code == 303
    target = urlsplit(out.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{world.issuer}/session/end"
    assert query["client_id"] == [CLIENT_ID] and query["post_logout_redirect_uri"] == [f"{world.base}/"]
    assert query["id_token_hint"][0].count(".") == 2
    assert 'robocore_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert _session_cookie(client) is None
    assert client.get(f"{world.base}/api/v1/me").status_code == 401
    assert client.get(out.headers["location"]).status_code == 200  # the provider accepts the hint: its logout page


def test_session_post_needs_the_csrf_token(world: World) -> None:
    """An engineer's session launching a run: no token or a wrong one → 403 (logged); the header → 201."""
    client = signed_in(world, "bruno")
    token = client.get(f"{world.base}/api/v1/me").json()["csrf_token"]
    launch = f"{world.base}/api/v1/robots/lot-50/runs"
    with structlog.testing.capture_logs() as logs:
        missing = client.post(launch, json={"inputs": {"nombre": 2}})
        wrong = client.post(launch, json={"inputs": {"nombre": 2}}, headers={"X-CSRF-Token": token[:-2] + "xx"})
    assert (missing.status_code, missing.json()["code"]) == (403, "csrf")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "csrf")
    assert "CSRF" in missing.json()["erreur"]
    assert [e["reason"] for e in logs if e["event"] == "web.csrf_refused"] == ["missing", "mismatch"]
    ok = client.post(launch, json={"inputs": {"nombre": 2}}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201, ok.text
    run = world.store.get_run(ok.json()["id"])
    assert run is not None and run.created_by == "bruno@ddets.gouv.fr"


def test_bearer_tokens_are_unaffected_by_a_session_cookie(world: World) -> None:
    """A bearer token decides alone: no CSRF token needed even with a session cookie, and /me says `token`."""
    token = create_token(world.store, "script-nuit", "engineer")
    client = signed_in(world, "alice")  # a manager's session, which may not launch
    launched = client.post(f"{world.base}/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 1}},
                           headers=bearer(token))
    assert launched.status_code == 201, launched.text
    me = client.get(f"{world.base}/api/v1/me", headers=bearer(token)).json()
    assert me == {"name": "script-nuit", "role": "engineer", "groups": [], "auth": "token"}
    assert client.get(f"{world.base}/api/v1/me", headers=bearer("rbc_" + "x" * 43)).status_code == 401


def test_manager_session_gets_role_checks_like_a_token(world: World) -> None:
    """require(...) applies to sessions: a manager may read reports but not launch runs (403 forbidden)."""
    client = signed_in(world, "alice")
    token = client.get(f"{world.base}/api/v1/me").json()["csrf_token"]
    refused = client.post(f"{world.base}/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 1}},
                          headers={"X-CSRF-Token": token})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_state_mismatch_or_no_sign_in_in_progress_is_refused(world: World) -> None:
    """The provider's answer with another state, or in a browser that began no sign-in, is refused (400)."""
    client = httpx.Client(timeout=20, follow_redirects=False)
    callback = to_callback(world, client, begin(world, client), "alice")
    forged = re.sub(r"state=[^&]+", "state=forged-state-value", callback)
    answer = client.get(forged, headers=JSON)
    assert (answer.status_code, answer.json()["code"]) == (400, "oidc_state")
    assert _session_cookie(client) is None
    stranger = httpx.Client(timeout=20, follow_redirects=False)
    answer = stranger.get(callback, headers=JSON)
    assert (answer.status_code, answer.json()["code"]) == (400, "oidc_no_login")


def test_nonce_mismatch_is_refused(world: World) -> None:
    """An ID token whose nonce is not the one of the sign-in begun in this browser is refused (400)."""
    client = httpx.Client(timeout=20, follow_redirects=False)
    start = begin(world, client)
    login = world.sessions.decode_login(client.cookies["robocore_login"])
    callback = to_callback(world, client, start, "alice")
    other = Login(state=login.state, nonce="another-nonce-" + "z" * 30, code_verifier=login.code_verifier,
                  next=login.next, expires=login.expires)
    client.cookies.set("robocore_login", world.sessions.encode_login(other))
    answer = client.get(callback, headers=JSON)
    assert (answer.status_code, answer.json()["code"]) == (400, "oidc_claims"), answer.text
    assert "nonce" in answer.json()["erreur"]
    assert _session_cookie(client) is None


def test_pkce_verifier_is_checked_by_the_provider(world: World) -> None:
    """A wrong PKCE verifier makes the provider refuse the code: our answer says so (400), no session."""
    client = httpx.Client(timeout=20, follow_redirects=False)
    start = begin(world, client)
    login = world.sessions.decode_login(client.cookies["robocore_login"])
    callback = to_callback(world, client, start, "alice")
    client.cookies.set("robocore_login", world.sessions.encode_login(replace(login, code_verifier="w" * 64)))
    answer = client.get(callback, headers=JSON)
    assert (answer.status_code, answer.json()["code"]) == (400, "oidc_token"), answer.text
    assert _session_cookie(client) is None


@pytest.fixture
def lone(robo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Make an app whose issuer is given (no provider started)."""
    stores: list[Store] = []

    def make(issuer: str) -> TestClient:
        monkeypatch.setenv("ROBOCORE_OIDC_ISSUER", issuer)
        monkeypatch.setenv("ROBOCORE_OIDC_CLIENT_ID", CLIENT_ID)
        store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
        stores.append(store)
        return TestClient(create_app(store, None, FakeExecutor(), robots_dir=robots_folder(tmp_path)))

    yield make
    for store in stores:
        store.close()


def test_provider_down_is_a_clear_error(lone: Any) -> None:
    """A provider that refuses connections: /connexion answers 503 with our message, in the page and in JSON."""
    client = lone(f"http://127.0.0.1:{free_port()}")
    page = client.get("/connexion", follow_redirects=False)
    assert page.status_code == 503 and "Le fournisseur d'identité est injoignable" in html.unescape(page.text)
    answer = client.get("/connexion", headers=JSON, follow_redirects=False)
    assert (answer.status_code, answer.json()["code"]) == (503, "oidc_unavailable")


def test_provider_down_is_said_in_the_request_language(lone: Any) -> None:
    """The provider's failure names the step in the request's language alone: French by default, English with
    Accept-Language."""
    client = lone(f"http://127.0.0.1:{free_port()}")
    french = client.get("/connexion", headers=JSON, follow_redirects=False).json()
    english = client.get("/connexion", headers={**JSON, "Accept-Language": "en"}, follow_redirects=False).json()
    assert french["detail"] == "Le fournisseur d'identité est injoignable (découverte) : réessayez plus tard"
    assert english["detail"] == "The identity provider cannot be reached (discovery): try again later"
    assert (french["code"], english["code"]) == ("oidc_unavailable", "oidc_unavailable")
    shown_in = {"fr": (["Connexion impossible", "injoignable (découverte)", "Se reconnecter"], "Sign"),
                "en": (["Sign-in failed", "cannot be reached (discovery)", "Sign in again"], "Connexion")}
    for lang, (words, other) in shown_in.items():
        page = client.get("/connexion", headers={"Accept-Language": lang}, follow_redirects=False)
        shown = html.unescape(page.text)
        assert page.status_code == 503 and f'<html lang="{lang}">' in shown
        assert all(word in shown for word in words) and other not in shown, shown


def test_provider_that_never_answers_times_out(lone: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider that accepts connections but never answers: 503 once ROBOCORE_OIDC_TIMEOUT has passed, saying so."""
    monkeypatch.setenv("ROBOCORE_OIDC_TIMEOUT", "1")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing is ever read or written
        client = lone(f"http://127.0.0.1:{silent.getsockname()[1]}")
        answer = client.get("/connexion", headers=JSON, follow_redirects=False)
    assert (answer.status_code, answer.json()["code"]) == (503, "oidc_unavailable")
    assert "n'a pas répondu à temps (1 s" in answer.json()["erreur"]


def test_without_an_issuer_there_is_no_sign_in_and_cookies_are_ignored(robo_home: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """ROBOCORE_OIDC_ISSUER unset: no /connexion, and a session cookie authenticates nothing (401)."""
    monkeypatch.delenv("ROBOCORE_OIDC_ISSUER", raising=False)
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    try:
        client = TestClient(create_app(store, None, FakeExecutor(), robots_dir=robots_folder(tmp_path)))
        assert client.get("/connexion", follow_redirects=False).status_code == 404
        client.cookies.set("robocore_session", "anything")
        assert client.get("/api/v1/me").status_code == 401
    finally:
        store.close()


def _set_cookie_headers(sessions: Sessions, scheme: str) -> list[str]:
    request = Request({"type": "http", "method": "GET", "scheme": scheme, "path": "/auth/callback",
                       "server": ("robocore.example.fr", 443), "headers": [(b"host", b"robocore.example.fr")],
                       "query_string": b""})
    response = Response()
    person = sessions.new_person(sub="s", name="n", email=None, role="agent", groups=(), issuer="i")
    sessions.write(response, request, person)
    return [v.decode() for k, v in response.raw_headers if k == b"set-cookie"]


def test_cookie_is_secure_with_host_prefix_over_https() -> None:
    """Over https (public URL, else the request), the session cookie is Secure, HttpOnly, SameSite=Lax, Path=/,
    named `__Host-…`; over http it is not Secure."""
    https = _set_cookie_headers(Sessions(b"k" * 64, public_url="https://robocore.example.fr"), "http")
    session = next(h for h in https if h.startswith("__Host-robocore_session="))
    assert all(flag in session for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/", "Max-Age=28800"))
    from_request = _set_cookie_headers(Sessions(b"k" * 64), "https")
    assert any(h.startswith("__Host-robocore_session=") and "Secure" in h for h in from_request)
    plain = _set_cookie_headers(Sessions(b"k" * 64), "http")
    session = next(h for h in plain if h.startswith("robocore_session="))
    assert "Secure" not in session and "HttpOnly" in session


def test_session_key_is_made_once_private_and_shared(tmp_path: Path) -> None:
    """Without a configured key: 32 random bytes in <home>/session.key (0600), the same at every load;
    a configured secret wins; a key file others can read is refused."""
    first = load_key(tmp_path, None)
    assert load_key(tmp_path, None) == first and len(bytes.fromhex(first.decode())) == 32
    assert stat.S_IMODE((tmp_path / "session.key").stat().st_mode) == 0o600
    assert load_key(tmp_path, "c" * 40) == b"c" * 40
    with pytest.raises(ValueError, match="trop court"):
        load_key(tmp_path, "short")
    (tmp_path / "session.key").chmod(0o644)
    with pytest.raises(PermissionError, match="lisible par d'autres") as caught:
        load_key(tmp_path, None)
    assert "readable" not in str(caught.value) and "chmod 600" in str(caught.value)
    with use_language("en"), pytest.raises(PermissionError) as caught:
        load_key(tmp_path, None)
    assert str(caught.value) == (f"{tmp_path / 'session.key'}: session key readable by other users (mode 0o644): "
                                 f"run `chmod 600 {tmp_path / 'session.key'}`")


def test_people_file_gives_roles_the_provider_does_not_send(world: World) -> None:
    """People whose provider sends no Robocore role (ProConnect) get the role and groups of the people file,
    found by email in any case; a role the provider does send wins, groups from both are kept; a broken
    file refuses sign-ins with our message (503)."""
    path = world.home / "oidc-people.yaml"
    path.write_text("dora@EXEMPLE.fr: {role: agent, groups: [g-dora]}\n"
                    "alice@ddets.gouv.fr: {role: admin, groups: [lab]}\n", encoding="utf-8")
    try:
        dora = signed_in(world, "dora").get(f"{world.base}/api/v1/me").json()
        assert (dora["role"], dora["groups"]) == ("agent", ["g-dora"])
        alice = signed_in(world, "alice").get(f"{world.base}/api/v1/me").json()
        assert (alice["role"], alice["groups"]) == ("manager", ["ddets-31", "lab"])
        path.write_text("dora@exemple.fr: chef\n", encoding="utf-8")
        client = httpx.Client(timeout=20, follow_redirects=False)
        broken = client.get(to_callback(world, client, begin(world, client), "dora"), headers=JSON)
        assert (broken.status_code, broken.json()["code"]) == (503, "oidc_people")
    finally:
        path.unlink()
    client = httpx.Client(timeout=20, follow_redirects=False)
    refused = client.get(to_callback(world, client, begin(world, client), "dora"), headers=JSON)
    assert (refused.status_code, refused.json()["code"]) == (403, "oidc_no_role")


def test_people_file_mistakes_name_the_file_and_the_entry(tmp_path: Path) -> None:
    """An unknown role, a bad shape, or a file others may write is refused with the file and the entry named."""
    from robocore.errors import SettingsError
    from robocore.web import people

    assert people.load(tmp_path) == {}
    path = tmp_path / "oidc-people.yaml"
    path.write_text("Eve@Exemple.fr: superviseur\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"oidc-people.yaml: 'Eve@Exemple.fr' : rôle inconnu 'superviseur'"):
        people.load(tmp_path)
    path.write_text("eve@exemple.fr: {role: agent, groupes: [x]}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="'eve@exemple.fr'"):
        people.load(tmp_path)
    path.write_text("eve@exemple.fr: {role: agent, groups: [x]}\n", encoding="utf-8")
    assert people.lookup(tmp_path, "EVE@exemple.fr", "sub-1") == people.Entry("agent", ("x",))
    path.chmod(0o666)
    with pytest.raises(SettingsError, match="modifiable par d'autres"):
        people.load(tmp_path)


def test_session_hours_setting_sets_the_session_life(lone: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """ROBOCORE_SESSION_HOURS decides how long a sign-in lasts (the cookie's Max-Age and its signed expiry)."""
    monkeypatch.setenv("ROBOCORE_SESSION_HOURS", "2")
    sessions = lone(f"http://127.0.0.1:{free_port()}").app.state.sessions
    assert sessions.max_age == 7200
    assert any("Max-Age=7200" in header for header in _set_cookie_headers(sessions, "https"))
