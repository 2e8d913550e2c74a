"""The tray's loopback listener (robocore.tray.signin): state checked, token kept, refusals, timeout, silence."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog

from robocore.tray.credentials import Credentials, Token
from robocore.tray.signin import LoopbackSignIn, SignInCancelled, SignInRefused, SignInTimeout

SERVER = "https://robocore.example.fr"
TOKEN = "rbc_" + "A1b2-C3d4_" * 4 + "xyz"


class Browser:
    """Stands for the system browser: given the server's URL, it calls the listener with chosen answers."""

    def __init__(self, *answers: Callable[[str, int], dict[str, str]]) -> None:
        self.answers = answers
        self.opened: list[str] = []
        self.replies: list[httpx.Response] = []
        self.thread: threading.Thread | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        query = parse_qs(urlsplit(url).query)
        state, port = query["state"][0], int(query["port"][0])
        self.thread = threading.Thread(target=self._visit, args=(state, port), daemon=True)
        self.thread.start()
        return True

    def _visit(self, state: str, port: int) -> None:
        for answer in self.answers:
            self.replies.append(httpx.get(f"http://127.0.0.1:{port}/callback", params=answer(state, port),
                                          timeout=10))


def private(tmp_path: Path) -> Credentials:
    return Credentials(tmp_path / "tray-credentials.json", use_keyring=False)


def test_the_token_comes_back_with_the_state_and_is_kept_in_a_private_file(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]
                                                                           ) -> None:
    """The browser is opened at <server>/tray/connexion with the listener's port and a random state; the answer
    with that state and a token ends the wait, the token is kept (file mode 0600) and the tab reads
    « Vous pouvez fermer cet onglet »; nothing logged or printed holds the token."""
    credentials = private(tmp_path)
    browser = Browser(lambda state, _port: {"state": state, "token": TOKEN})
    with structlog.testing.capture_logs() as logs:
        token = LoopbackSignIn(SERVER + "/", credentials, timeout=20, opener=browser).run()
    assert token == Token(TOKEN) and credentials.load(SERVER) == Token(TOKEN)
    assert stat.S_IMODE(credentials.path.stat().st_mode) == 0o600
    opened = urlsplit(browser.opened[0])
    assert f"{opened.scheme}://{opened.netloc}{opened.path}" == f"{SERVER}/tray/connexion"
    query = parse_qs(opened.query)
    assert 1024 <= int(query["port"][0]) <= 65535 and len(query["state"][0]) >= 32
    assert browser.thread is not None
    browser.thread.join(10)
    reply = browser.replies[0]
    assert reply.status_code == 200 and "Vous pouvez fermer cet onglet" in reply.text
    assert reply.headers["cache-control"] == "no-store" and reply.headers["referrer-policy"] == "no-referrer"
    assert [e["event"] for e in logs] == ["tray.signin_started", "tray.signin_done"]
    printed = capsys.readouterr()
    assert TOKEN not in repr(logs) and TOKEN not in printed.out + printed.err and TOKEN not in repr(token)


def test_another_state_is_refused_and_the_wait_goes_on(tmp_path: Path) -> None:
    """An answer with another state (or none) gets a 400 page and keeps nothing; the right one then ends it."""
    credentials = private(tmp_path)
    browser = Browser(lambda _s, _p: {"state": "x" * 43, "token": "rbc_" + "f" * 43},
                      lambda _s, _p: {"token": "rbc_" + "g" * 43},
                      lambda state, _p: {"state": state, "token": TOKEN})
    with structlog.testing.capture_logs() as logs:
        token = LoopbackSignIn(SERVER, credentials, timeout=20, opener=browser).run()
    assert browser.thread is not None
    browser.thread.join(10)  # the listener may end before the browser has read its last answer
    assert token == Token(TOKEN) and credentials.load(SERVER) == Token(TOKEN)
    assert [r.status_code for r in browser.replies] == [400, 400, 200]
    assert "ne correspond pas à la connexion" in browser.replies[0].text
    assert [e["event"] for e in logs].count("tray.signin_state_mismatch") == 2


def test_a_malformed_token_is_not_kept(tmp_path: Path) -> None:
    """The right state with something that is not a Robocore token: 400, nothing kept; the wait ends at its timeout."""
    credentials = private(tmp_path)
    browser = Browser(lambda state, _p: {"state": state, "token": "<script>alert(1)</script>"})
    with pytest.raises(SignInTimeout):
        LoopbackSignIn(SERVER, credentials, timeout=1.5, opener=browser).run()
    assert browser.replies[0].status_code == 400 and "<script>" not in browser.replies[0].text
    assert credentials.load(SERVER) is None


def test_timeout_says_so_and_keeps_nothing(tmp_path: Path) -> None:
    """Nobody comes back: SignInTimeout with a French message after the timeout; the listener is closed."""
    credentials = private(tmp_path)
    signin = LoopbackSignIn(SERVER, credentials, timeout=0.6, opener=lambda url: True)
    started = time.monotonic()
    with pytest.raises(SignInTimeout, match="Aucune réponse du navigateur"):
        signin.run()
    assert 0.5 <= time.monotonic() - started < 5
    assert credentials.load(SERVER) is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{signin.port}/callback", timeout=2)


def test_refusal_in_the_browser_ends_the_wait(tmp_path: Path) -> None:
    """The person refuses on the server's page: SignInRefused at once, nothing kept, the tab says so."""
    credentials = private(tmp_path)
    browser = Browser(lambda state, _p: {"state": state, "error": "refused"})
    with pytest.raises(SignInRefused, match="refusée"):
        LoopbackSignIn(SERVER, credentials, timeout=20, opener=browser).run()
    assert credentials.load(SERVER) is None
    assert browser.thread is not None
    browser.thread.join(10)
    assert "Le lanceur reste déconnecté" in browser.replies[0].text


def test_cancel_from_another_thread(tmp_path: Path) -> None:
    """cancel() (the tray's "Annuler") stops the wait within a second."""
    signin = LoopbackSignIn(SERVER, private(tmp_path), timeout=60, opener=lambda url: True)
    threading.Timer(0.3, signin.cancel).start()
    started = time.monotonic()
    with pytest.raises(SignInCancelled):
        signin.run()
    assert time.monotonic() - started < 2


def test_listener_answers_only_its_callback_on_loopback(tmp_path: Path) -> None:
    """Other paths get 404 and the wait goes on; the listener is bound to 127.0.0.1 only."""
    seen: list[int] = []

    def browser(url: str) -> bool:
        port = int(parse_qs(urlsplit(url).query)["port"][0])
        seen.append(port)

        def visit() -> None:
            seen.append(httpx.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=5).status_code)
            state = parse_qs(urlsplit(url).query)["state"][0]
            httpx.get(f"http://127.0.0.1:{port}/callback", params={"state": state, "token": TOKEN}, timeout=5)

        threading.Thread(target=visit, daemon=True).start()
        return True

    signin = LoopbackSignIn(SERVER, private(tmp_path), timeout=20, opener=browser)
    assert signin.run() == Token(TOKEN)
    assert seen[1] == 404
