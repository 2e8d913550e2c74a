"""Sign the tray in through the server's OpenID Connect login (RFC 8252: a loopback redirect).

`LoopbackSignIn(server, credentials).run()` listens on 127.0.0.1:<random port>, opens the system
browser at `<server>/tray/connexion?port=<port>&state=<random>` (robocore.web.routes_tray_login),
and waits — five minutes at most — for the browser to come back to `/callback` with the same state
and a token. The token is then kept through robocore.tray.credentials (keyring, else a private
file) and the tab shows « Vous pouvez fermer cet onglet ». Another state is refused (400) and the
wait goes on; the person refusing on the server's page ends it (SignInRefused).

It blocks the calling thread (no Qt here): the tray runs it in a worker thread, and `cancel()`
stops it from another one. The listener never logs a request line (the token is in it).
"""

from __future__ import annotations

import html
import re
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import structlog

from robocore.i18n import current
from robocore.i18n import gettext as _
from robocore.tray.credentials import Credentials, Token

log = structlog.get_logger("robocore.tray.signin")
TIMEOUT_S = 300.0
PATH = "/tray/connexion"
_TOKEN = re.compile(r"rbc_[A-Za-z0-9_-]{20,200}")
_POLL_S = 0.25


class SignInError(Exception):
    """The sign-in did not give a token; the message says why, in the tray's language."""


class SignInTimeout(SignInError):
    """Nobody came back from the browser in time."""


class SignInRefused(SignInError):
    """The person refused on the server's page."""


class SignInCancelled(SignInError):
    """The tray stopped waiting (`cancel()`)."""


@dataclass
class _Outcome:
    token: Token | None = None
    error: SignInError | None = None


class _Listener(HTTPServer):
    """A one-shot HTTP server on 127.0.0.1 that knows the state it waits for."""

    def __init__(self, state: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.outcome = _Outcome()


class _Handler(BaseHTTPRequestHandler):
    server: _Listener
    timeout = 5  # seconds a connection may stay silent: a stray client cannot hold the one thread

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        """`/callback?state=…&token=…` (or `error=refused`): checked, then the outcome is kept."""
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self._answer(404, _("Robocore launcher"), _("Nothing here."))
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, max_num_fields=10).items()}
        if not secrets.compare_digest(query.get("state", "").encode(), self.server.state.encode()):
            log.warning("tray.signin_state_mismatch")
            self._answer(400, _("Sign-in refused"),
                         _("This answer does not match the sign-in begun by the launcher: it is ignored."))
            return
        if query.get("error"):
            self.server.outcome.error = SignInRefused(_("The sign-in was refused in the browser."))
            self._answer(200, _("Sign-in refused"), _("The launcher stays signed out. You can close this tab."))
            return
        token = query.get("token", "")
        if not _TOKEN.fullmatch(token):
            log.warning("tray.signin_bad_token")
            self._answer(400, _("Sign-in refused"), _("The server's answer carries no valid access key."))
            return
        self.server.outcome.token = Token(token)
        self._answer(200, _("The launcher is signed in"), _("You can close this tab."))

    def _answer(self, status: int, title: str, text: str) -> None:
        body = f"""<!doctype html>
<html lang="{html.escape(current())}"><head><meta charset="utf-8"><title>{html.escape(title)} — Robocore</title></head>
<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main></body></html>
""".encode()
        self.send_response(status)
        for name, value in (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"),
                            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                            ("X-Content-Type-Options", "nosniff")):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the standard library's name)
        """Silent: the request line holds the token."""


def offered(server: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 10.0) -> bool:
    """Whether the server offers the browser sign-in (OpenID Connect configured): its page exists (not 404).

    The page without parameters answers 400 where it is mounted; an unreachable server is not offering it.
    """
    try:
        with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as http:
            return http.get(server.rstrip("/") + PATH).status_code != 404
    except httpx.HTTPError:
        return False


class LoopbackSignIn:
    """One sign-in of the tray to `server` through the browser.

    Args:
        server: the server's base URL (`--server`).
        credentials: where the token is kept once received.
        timeout: seconds to wait for the browser (5 minutes).
        opener: opens a URL in the browser (webbrowser.open; tests pass their own).
    """

    def __init__(self, server: str, credentials: Credentials, *, timeout: float = TIMEOUT_S,
                 opener: Callable[[str], Any] = webbrowser.open) -> None:
        self.server, self.credentials = server.rstrip("/"), credentials
        self.timeout, self.opener = timeout, opener
        self.state = secrets.token_urlsafe(32)
        self._cancelled = threading.Event()
        self._listener: _Listener | None = None

    def url(self, port: int) -> str:
        """The server's page to open for the listener on `port`."""
        return f"{self.server}{PATH}?{urlencode({'port': port, 'state': self.state})}"

    def cancel(self) -> None:
        """Stop waiting (from another thread): run() raises SignInCancelled."""
        self._cancelled.set()

    def run(self) -> Token:
        """Listen, open the browser, wait for the token and keep it; SignInError (translated) otherwise."""
        with _Listener(self.state) as listener:
            self._listener = listener
            listener.timeout = _POLL_S
            port = listener.server_address[1]
            log.info("tray.signin_started", server=self.server, port=port)
            if self.opener(self.url(port)) is False:
                log.warning("tray.signin_no_browser", server=self.server)
            outcome = self._wait(listener)
        if outcome.error is not None:
            raise outcome.error
        assert outcome.token is not None
        self.credentials.save(self.server, outcome.token)
        log.info("tray.signin_done", server=self.server, where=self.credentials.where)
        return outcome.token

    @property
    def port(self) -> int | None:
        """The listener's port while it runs."""
        return self._listener.server_address[1] if self._listener is not None else None

    def _wait(self, listener: _Listener) -> _Outcome:
        deadline = time.monotonic() + self.timeout
        while listener.outcome.token is None and listener.outcome.error is None:
            if self._cancelled.is_set():
                raise SignInCancelled(_("Sign-in cancelled."))
            if time.monotonic() >= deadline:
                log.warning("tray.signin_timeout", server=self.server, seconds=self.timeout)
                raise SignInTimeout(_("No answer from the browser within {minutes} minutes: sign in again.",
                                      minutes=round(self.timeout / 60)))
            listener.handle_request()
        return listener.outcome
