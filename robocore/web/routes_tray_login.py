"""The tray's sign-in through the browser (RFC 8252, loopback redirect): `GET|POST /tray/connexion`.

The tray (robocore.tray.signin) listens on 127.0.0.1:<port> and opens the system browser at
`/tray/connexion?port=<port>&state=<random>`. The page needs a signed-in person (a visitor without
a session is sent through `/connexion?next=…`; a bearer token is not enough: a token never mints
another); it asks « Autoriser le lanceur Robocore de ce poste à agir en votre nom ? ». Allowing it
(a POST carrying the session's CSRF token) creates an API token with the person's role and groups,
valid TOKEN_DAYS days, and answers 303 to `http://127.0.0.1:<port>/callback?state=…&token=…`;
refusing answers `…/callback?state=…&error=refused`. The redirect only ever goes to this computer
(127.0.0.1, or localhost when asked) on the port given (1024–65535).

The form's page widens its own `form-action` to that loopback origin alone: browsers check a form's
redirects against it, and the server's policy allows only `'self'`. The token is in the Location
header only: never in a page, never in a log.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from robocore import i18n
from robocore.i18n import lazy_gettext
from robocore.server.auth import create_token, session_caller
from robocore.server.errors import ApiError
from robocore.server.headers import POLICY
from robocore.store import Conflict, Store
from robocore.web import pages
from robocore.web.sessions import Person

log = structlog.get_logger("robocore.web.tray_login")
router = APIRouter(include_in_schema=False)
PATH = "/tray/connexion"
TOKEN_DAYS = 90
MAX_SAME_DAY = 20  # tokens a person may get from the tray in one day
HOSTS = ("127.0.0.1", "localhost")
_STATE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_PORT = re.compile(r"[0-9]{4,5}")
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class BadRequest(Exception):
    """A parameter of the tray's address that cannot be used: the field and the value, translated."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field, self.text = field, text


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:60] + "…"


def loopback(values: Any, _: Any) -> tuple[str, int, str]:
    """(host, port, state) from the query or the form, checked strictly; BadRequest naming the field otherwise."""
    port, state, host = (str(values.get(k) or "") for k in ("port", "state", "host"))
    host = host or HOSTS[0]
    if not _PORT.fullmatch(port) or not 1024 <= int(port) <= 65535:
        raise BadRequest("port", _("port: '%(value)s' is not a port number from 1024 to 65535", value=_shown(port)))
    if not _STATE.fullmatch(state):
        raise BadRequest("state", _("state: '%(value)s' is not 16 to 128 letters, digits, '-' or '_'",
                                    value=_shown(state)))
    if host not in HOSTS:
        raise BadRequest("host", _("host: '%(value)s' is not this computer (127.0.0.1 or localhost)",
                                   value=_shown(host)))
    return host, int(port), state


def callback_url(host: str, port: int, **query: str) -> str:
    """The tray's listener address on this computer."""
    return f"http://{host}:{port}/callback?{urlencode(query)}"


def _policy(host: str, port: int) -> str:
    """The server's policy, with the form allowed to go (and be redirected) to the tray's listener only."""
    return POLICY.replace("form-action 'self'", f"form-action 'self' http://{host}:{port}")


def token_name(person: Person, today: datetime, n: int = 1) -> str:
    """`<login> tray <YYYY-MM-DD>` (then ` (2)`, ` (3)`… for the same day), the login shortened to 100 characters."""
    suffix = f" tray {today:%Y-%m-%d}" + (f" ({n})" if n > 1 else "")
    return person.login[:100 - len(suffix)] + suffix


def new_token(store: Store, person: Person) -> tuple[str, str]:
    """A token for the person (role and groups of the session, TOKEN_DAYS days): (its name, the token).

    Names are unique: signing in again the same day (another computer, a lost key) takes the next number.
    """
    today = datetime.now(UTC)
    for n in range(1, MAX_SAME_DAY + 1):
        name = token_name(person, today, n)
        try:
            return name, create_token(store, name, person.role, list(person.groups), TOKEN_DAYS)
        except Conflict:
            continue
    raise ApiError(409, lazy_gettext("too many launcher sign-ins today for '{person}' ({count}): ask an "
                                     "administrator to revoke the old ones", person=person.login, count=MAX_SAME_DAY),
                   code="tray_sign_ins")


async def _person(request: Request) -> Person | Response | None:
    """The signed-in person; None without a (valid) session; the refusal page when the CSRF token is wrong (403).

    Read before the form: the CSRF check reads the body first, and the form is then parsed from it.
    """
    try:
        await session_caller(request)
    except ApiError as exc:
        if exc.status != 401:
            _ = pages.translator(pages.language(request))
            return pages.message(request, exc.status, _("Access refused"), i18n.render(exc.message))
        return None  # an expired session: sign in again
    person: Person | None = getattr(request.state, "person", None)
    return person


def _sign_in(host: str, port: int, state: str) -> Response:
    """To the sign-in, coming back to this page with the same parameters."""
    query = {"port": str(port), "state": state, **({"host": host} if host != HOSTS[0] else {})}
    target = f"{PATH}?{urlencode(query)}"
    return RedirectResponse(f"/connexion?next={quote(target, safe='')}", status_code=303, headers=_PRIVATE)


def _bad(request: Request, exc: BadRequest, _: Any) -> Response:
    log.warning("web.tray_login_refused", field=exc.field, path=request.url.path)
    response = pages.message(request, 400, _("The launcher's sign-in address is not valid"),
                             exc.text + " " + _("Start the sign-in again from the launcher."))
    response.headers.update(_PRIVATE)
    return response


@router.get(PATH, response_class=HTMLResponse)
async def confirm_page(request: Request) -> Response:
    """The question to the signed-in person: allow the launcher of this computer to act on their behalf?"""
    _ = pages.translator(pages.language(request))
    try:
        host, port, state = loopback(request.query_params, _)
    except BadRequest as exc:
        return _bad(request, exc, _)
    person = await _person(request)
    if person is None:
        return _sign_in(host, port, state)
    if not isinstance(person, Person):
        return person
    until = (datetime.now(UTC) + timedelta(days=TOKEN_DAYS)).date()
    response = pages.page(request, "tray_login.html", user=person.login, who=person, host=host, port=port,
                          state=state, until=until, days=TOKEN_DAYS)
    response.headers.update({**_PRIVATE, "Content-Security-Policy": _policy(host, port)})
    return response


@router.post(PATH)
async def confirm(request: Request) -> Response:
    """Allowed: a new token for the person, sent to the tray's listener (303); refused: the tray is told so."""
    _ = pages.translator(pages.language(request))
    person = await _person(request)
    if isinstance(person, Response):
        return person
    form = await request.form()
    try:
        host, port, state = loopback(form, _)
    except BadRequest as exc:
        return _bad(request, exc, _)
    if person is None:
        return _sign_in(host, port, state)
    if form.get("decision") != "allow":
        log.info("web.tray_login_declined", person=person.login, port=port)
        return RedirectResponse(callback_url(host, port, state=state, error="refused"), status_code=303,
                                headers=_PRIVATE)
    try:
        name, token = await run_in_threadpool(new_token, request.app.state.robocore.store, person)
    except ApiError as exc:
        return pages.message(request, exc.status, _("Sign-in refused"), i18n.render(exc.message), user=person.login)
    log.info("web.tray_token_created", person=person.login, token_name=name, role=person.role, port=port,
             days=TOKEN_DAYS)
    return RedirectResponse(callback_url(host, port, state=state, token=token), status_code=303, headers=_PRIVATE)


def install(app: FastAPI) -> None:
    """Mount the tray's sign-in when OpenID Connect is configured (after robocore.web.routes_auth.install)."""
    if getattr(app.state, "oidc", None) is not None:
        app.include_router(router)
