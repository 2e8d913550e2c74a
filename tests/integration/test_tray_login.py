"""The tray's sign-in through the browser (robocore.web.routes_tray_login), with the real test OIDC provider.

A person signed in through the provider confirms « Autoriser le lanceur… » and the browser is sent to the
tray's loopback listener with a new token that authenticates as that person with the session's role and
groups; bad addresses, a missing CSRF token and a missing session are refused; the token is shown nowhere
and logged nowhere. In real Chromium the whole journey runs against the tray's own listener
(robocore.tray.signin), in both themes, with axe-core and screenshots artifacts/screens/tray-login-<theme>.png.
"""

from __future__ import annotations

import html
import queue
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
import structlog
from fastapi.responses import FileResponse

from robocore.server import create_app
from robocore.server.auth import LOOKUP_CHARS, PREFIX, create_token
from robocore.store import Store, utcnow
from robocore.tray.credentials import Credentials
from robocore.tray.signin import LoopbackSignIn, offered
from robocore.web import routes_tray_login
from tests.integration.api_support import FakeExecutor, bearer, free_port, live_server, robots_folder
from tests.integration.test_oidc import CLIENT_ID, CLIENT_SECRET, World, provider, to_callback
from tests.integration.test_page_overview import AXE, RISKY, SCREENS, SCRIPT, browser  # noqa: F401 (fixture)

PORT = 49152
STATE = "etat-" + "a1B2_c3D4-" * 4
PAGE = "/tray/connexion"
LOOPBACK = re.compile(r"^http://127\.0\.0\.1[:/]")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The provider and a live server with sign-in and the tray's sign-in mounted (SQLite store)."""
    root = tmp_path_factory.mktemp("tray-login")
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
        routes_tray_login.install(app)
        app.add_api_route("/essai-axe.js", lambda: FileResponse(AXE, media_type="text/javascript"))
        with live_server(app) as base, provider(provider_port, base) as issuer:
            yield World(base, issuer, store, app.state.sessions, executor, root / "home")
        store.close()


def _page_path(port: int | str = PORT, state: str = STATE, **extra: str) -> str:
    return f"{PAGE}?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in {"port": port, "state": state,
                                                                               **extra}.items())


def signed_in_at(world: World, login: str, path: str, back: str | None = None) -> tuple[httpx.Client, httpx.Response]:
    """`login` opens `path` without a session, is sent through the sign-in, and comes back to `back` (the same
    path, unless other parameters are dropped): (client, the page)."""
    client = httpx.Client(timeout=20, follow_redirects=False)
    first = client.get(world.base + path)
    path = back or path
    assert first.status_code == 303, first.text
    assert first.headers["location"] == f"/connexion?next={quote(path, safe='')}"
    start = client.get(world.base + first.headers["location"])
    assert start.status_code == 303
    back = client.get(to_callback(world, client, start.headers["location"], login))
    assert back.status_code == 303 and back.headers["location"] == path
    return client, client.get(world.base + path)


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def _token_count(store: Store) -> int:
    return len(store.list_tokens())


def test_sign_in_confirm_and_the_token_acts_as_that_person(world: World) -> None:
    """Bruno (engineer, groups ddets-31 and lab) opens the tray's address, signs in at the provider, is asked
    « Autoriser le lanceur Robocore de ce poste à agir en votre nom ? »; allowing it sends the browser (303,
    no-store, no referrer) to 127.0.0.1:<port>/callback with the state and a token that authenticates as
    him with his session's role and groups, named after his login, valid 90 days. The token is in no page and
    no log event."""
    with structlog.testing.capture_logs() as logs:
        client, page = signed_in_at(world, "bruno", _page_path())
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Autoriser le lanceur Robocore de ce poste à agir en votre nom\u00a0?" in text
        assert "bruno@ddets.gouv.fr" in text and "ingénieur" in text and "90\u00a0jours" in text
        policy = page.headers["content-security-policy"]
        assert f"form-action 'self' http://127.0.0.1:{PORT};" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        assert "<script" not in page.text and "style=" not in page.text
        allowed = client.post(world.base + PAGE, data={"csrf_token": _csrf(page), "port": str(PORT), "state": STATE,
                                                       "decision": "allow"})
    assert allowed.status_code == 303, allowed.text
    assert allowed.headers["cache-control"] == "no-store" and allowed.headers["referrer-policy"] == "no-referrer"
    target = urlsplit(allowed.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("http", f"127.0.0.1:{PORT}", "/callback")
    query = parse_qs(target.query)
    assert query["state"] == [STATE]
    token = query["token"][0]
    assert token.startswith("rbc_") and token not in allowed.text
    me = httpx.get(f"{world.base}/api/v1/me", headers=bearer(token), timeout=20).json()
    assert me["name"] == f"bruno@ddets.gouv.fr tray {utcnow():%Y-%m-%d}" and me["role"] == "engineer"
    assert me["groups"] == ["ddets-31", "lab"] and me["auth"] == "token"
    row = world.store.token_by_lookup(token[len(PREFIX):len(PREFIX) + LOOKUP_CHARS])
    assert row is not None and row.token.expires_at is not None
    assert abs(row.token.expires_at - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)
    assert token not in repr(logs)
    assert any(e["event"] == "web.tray_token_created" and e["person"] == "bruno@ddets.gouv.fr" for e in logs)
    again = client.get(world.base + _page_path())
    assert token not in again.text  # the page shows it nowhere, even after


def test_an_agent_gets_an_agent_token(world: World) -> None:
    """An agent (role from the people file, as with ProConnect) gets a token with the agent role and groups."""
    people = world.home / "oidc-people.yaml"
    people.write_text("dora@exemple.fr: {role: agent, groups: [prefecture-31]}\n", encoding="utf-8")
    try:
        client, page = signed_in_at(world, "dora", _page_path(port=65535, host="localhost"))
    finally:
        people.unlink()
    assert "form-action 'self' http://localhost:65535;" in page.headers["content-security-policy"]
    allowed = client.post(world.base + PAGE, data={"csrf_token": _csrf(page), "port": "65535", "state": STATE,
                                                   "host": "localhost", "decision": "allow"})
    target = urlsplit(allowed.headers["location"])
    assert target.netloc == "localhost:65535"
    me = httpx.get(f"{world.base}/api/v1/me", headers=bearer(parse_qs(target.query)["token"][0]), timeout=20).json()
    assert (me["role"], me["groups"]) == ("agent", ["prefecture-31"])


@pytest.mark.parametrize(("params", "field", "shown"), [
    ({"port": "80"}, "port", "«\u00a080\u00a0»"),
    ({"port": "65536"}, "port", "65536"),
    ({"port": "08080x"}, "port", "08080x"),
    ({"port": ""}, "port", "port"),
    ({"port": SCRIPT}, "port", SCRIPT),
    ({"state": "court"}, "state", "court"),
    ({"state": "x" * 129}, "state", "x" * 60 + "…"),
    ({"state": "a/b" * 8}, "state", "a/b"),
    ({"state": RISKY}, "state", RISKY),
    ({"host": "evil.example"}, "host", "evil.example"),
    ({"host": "127.0.0.1.evil.example"}, "host", "127.0.0.1.evil.example"),
    ({"host": "[::1]\"'"}, "host", "[::1]\"'"),
])
def test_bad_addresses_are_refused_naming_the_field(world: World, params: dict[str, str], field: str,
                                                    shown: str) -> None:
    """A port outside 1024–65535, a state that is not 16–128 URL-safe characters, or a host other than this
    computer: a 400 page naming the field and the value (escaped), before any sign-in, and no redirect; the
    same when posted by a signed-in person with the CSRF token, and no token is made."""
    values = {"port": str(PORT), "state": STATE, **params}
    answer = httpx.get(world.base + PAGE, params=values, timeout=20)
    assert answer.status_code == 400 and "location" not in answer.headers
    text = html.unescape(answer.text)
    assert f"{field}\u00a0:" in text and shown in text
    assert "<script>alert(1)</script>" not in answer.text
    client, page = signed_in_at(world, "alice", _page_path())
    before = _token_count(world.store)
    posted = client.post(world.base + PAGE, data={**values, "csrf_token": _csrf(page), "decision": "allow"})
    assert posted.status_code == 400 and "location" not in posted.headers
    assert _token_count(world.store) == before


def test_the_redirect_goes_only_to_this_computer(world: World) -> None:
    """Parameters naming another address (redirect_uri, a userinfo trick in the host) change nothing or are
    refused: the answer always goes to http://127.0.0.1:<port>/callback."""
    client, page = signed_in_at(world, "alice", _page_path(redirect_uri="https://evil.example/cb"), _page_path())
    posted = client.post(world.base + PAGE, data={"csrf_token": _csrf(page), "port": str(PORT), "state": STATE,
                                                  "decision": "allow", "redirect_uri": "https://evil.example/cb"})
    assert posted.headers["location"].startswith(f"http://127.0.0.1:{PORT}/callback?")
    tricked = client.post(world.base + PAGE, data={"csrf_token": _csrf(page), "port": str(PORT), "state": STATE,
                                                   "host": "127.0.0.1@evil.example", "decision": "allow"})
    assert tricked.status_code == 400 and "location" not in tricked.headers


def test_missing_or_wrong_csrf_token_is_refused(world: World) -> None:
    """A signed-in person's POST without the session's CSRF token (or with another) is a 403 page; no token."""
    client, page = signed_in_at(world, "alice", _page_path())
    before = _token_count(world.store)
    with structlog.testing.capture_logs() as logs:
        missing = client.post(world.base + PAGE, data={"port": str(PORT), "state": STATE, "decision": "allow"})
        wrong = client.post(world.base + PAGE, data={"csrf_token": _csrf(page)[:-2] + "zz", "port": str(PORT),
                                                     "state": STATE, "decision": "allow"})
    for answer in (missing, wrong):
        assert answer.status_code == 403 and "location" not in answer.headers
        assert "Jeton CSRF manquant ou invalide" in html.unescape(answer.text)
    assert [e["reason"] for e in logs if e["event"] == "web.csrf_refused"] == ["missing", "mismatch"]
    assert _token_count(world.store) == before


def test_without_a_session_the_visitor_is_sent_to_sign_in(world: World) -> None:
    """No session (nothing, a bearer token, or an expired cookie): GET and POST answer 303 to /connexion with
    the page's address as `next`; no token is made. A bearer token never mints another token."""
    token = create_token(world.store, "script", "admin")
    expected = f"/connexion?next={quote(_page_path(), safe='')}"
    before = _token_count(world.store)
    for headers, cookies in (({}, {}), (bearer(token), {}), ({}, {"robocore_session": "expire.abimee"})):
        client = httpx.Client(timeout=20, follow_redirects=False, cookies=cookies)
        got = client.get(world.base + _page_path(), headers=headers)
        posted = client.post(world.base + PAGE, headers=headers,
                             data={"port": str(PORT), "state": STATE, "decision": "allow"})
        assert (got.status_code, got.headers["location"]) == (303, expected)
        assert (posted.status_code, posted.headers["location"]) == (303, expected)
    assert _token_count(world.store) == before


def test_refusing_tells_the_tray_and_makes_no_token(world: World) -> None:
    """« Refuser »: 303 to the listener with `error=refused` and the state, no token made."""
    client, page = signed_in_at(world, "alice", _page_path())
    before = _token_count(world.store)
    refused = client.post(world.base + PAGE, data={"csrf_token": _csrf(page), "port": str(PORT), "state": STATE,
                                                   "decision": "refuse"})
    assert refused.status_code == 303
    assert parse_qs(urlsplit(refused.headers["location"]).query) == {"state": [STATE], "error": ["refused"]}
    assert _token_count(world.store) == before


def test_signing_in_again_the_same_day_takes_the_next_name(world: World) -> None:
    """Two sign-ins of the same person on one day (two computers): two tokens, `… tray <day>` then `… (2)`."""
    client, page = signed_in_at(world, "chef", _page_path())
    names = []
    for _ in range(2):
        allowed = client.post(world.base + PAGE, data={"csrf_token": _csrf(page), "port": str(PORT), "state": STATE,
                                                       "decision": "allow"})
        token = parse_qs(urlsplit(allowed.headers["location"]).query)["token"][0]
        names.append(httpx.get(f"{world.base}/api/v1/me", headers=bearer(token), timeout=20).json()["name"])
    day = f"{utcnow():%Y-%m-%d}"
    assert names == [f"chef@prefecture.gouv.fr tray {day}", f"chef@prefecture.gouv.fr tray {day} (2)"]


def test_the_tray_sees_whether_the_server_offers_it(world: World, robo_home: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """offered(): True where OpenID Connect is configured (the page is mounted), False without it or unreachable."""
    assert offered(world.base)
    monkeypatch.delenv("ROBOCORE_OIDC_ISSUER", raising=False)
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    try:
        app = create_app(store, None, FakeExecutor(), robots_dir=robots_folder(tmp_path))
        routes_tray_login.install(app)
        with live_server(app) as plain:
            assert not offered(plain)
    finally:
        store.close()
    assert not offered(f"http://127.0.0.1:{free_port()}", timeout=2)


def test_english_on_request(world: World) -> None:
    """The same page in English with ?lang=en."""
    client, _page = signed_in_at(world, "alice", _page_path())
    english = client.get(world.base + _page_path(lang="en"))
    assert "Allow the Robocore launcher of this computer to act on your behalf?" in html.unescape(english.text)


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["neutral", "dsfr"])
def test_the_tray_signs_in_through_chromium(browser: Any, world: World, theme: str, tmp_path: Path,  # noqa: F811
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The tray's listener (robocore.tray.signin) opens « the browser » at the server's page: in real Chromium
    the person signs in at the provider as Alice, reads the question (no CSP refusal, axe-core finds no serious
    violation), clicks « Autoriser »; the form's redirect reaches the listener (allowed by the page's own
    form-action), the tab reads « Vous pouvez fermer cet onglet », and the token kept in the tray's file
    authenticates as Alice. Screenshot artifacts/screens/tray-login-<theme>.png."""
    monkeypatch.setenv("ROBOCORE_THEME", theme)
    credentials = Credentials(tmp_path / "tray-credentials.json", use_keyring=False)
    opened: queue.Queue[str] = queue.Queue()
    signin = LoopbackSignIn(world.base, credentials, timeout=120, opener=opened.put)
    result: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: result.update(token=signin.run()), daemon=True)
    waiting.start()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    console: list[str] = []
    try:
        context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda message: console.append(message.text))
        page.goto(opened.get(timeout=20))
        page.fill("input[name=login]", "alice")
        page.fill("input[name=password]", "secret-d-alice")
        page.click("button[type=submit]")
        page.wait_for_url(f"{world.base}{PAGE}?**")
        assert page.locator("h1").inner_text() == "Autoriser le lanceur Robocore de ce poste à agir en votre nom\u00a0?"
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"tray-login-{theme}.png"), full_page=True)
        page.add_script_tag(url="/essai-axe.js")
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [f"{v['id']} ({v['impact']})" for v in results["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert serious == []
        page.get_by_role("button", name="Autoriser").click()
        page.wait_for_url(f"http://127.0.0.1:{signin.port}/callback?**")
        assert "Vous pouvez fermer cet onglet" in (page.text_content("body") or "")
        waiting.join(20)
    finally:
        context.close()
    assert [m for m in console if "Content Security Policy" in m or "Refused" in m] == []
    token = credentials.load(world.base)
    assert token is not None and result["token"] == token
    me = httpx.get(f"{world.base}/api/v1/me", headers=bearer(token.secret), timeout=20).json()
    assert (me["name"].split(" tray ")[0], me["role"], me["groups"]) == ("alice@ddets.gouv.fr", "manager",
                                                                         ["ddets-31"])
