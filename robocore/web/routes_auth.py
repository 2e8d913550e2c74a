"""Sign-in and sign-out pages: `GET /connexion`, `GET /auth/callback`, `POST /deconnexion`.

Mounted by `create_app` only when ROBOCORE_OIDC_ISSUER is set (`install`). The return address
registered with the provider is `<public URL>/auth/callback` (ROBOCORE_PUBLIC_URL, else the
address of the request), and the address after sign-out is `<public URL>/`.

A sign-in that fails answers a short page (or our JSON error body when the caller asks for
JSON) saying why, in French then English: no role (403), provider unreachable (503), an answer
that does not match the sign-in begun in this browser (400).
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from robocore import settings
from robocore.i18n import Message, current, render
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.secrets import Secret, default_providers, register
from robocore.server.errors import ApiError, error_body
from robocore.web import csrf, people
from robocore.web.oidc import OidcClient, refused
from robocore.web.sessions import Sessions, load_key

log = structlog.get_logger("robocore.web.auth")
router = APIRouter(include_in_schema=False)
CALLBACK = "/auth/callback"
MAX_NEXT = 2000


def local_path(raw: str | None) -> str:
    """Where to go after sign-in: a path of this site only (no open redirect); `/` when none is given."""
    if not raw:
        return "/"
    parts = urlsplit(raw)
    if (len(raw) > MAX_NEXT or not raw.startswith("/") or raw.startswith("//") or "\\" in raw
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw) or parts.scheme or parts.netloc):
        raise refused("next", _l("Return address refused: {address} (a path of this site is expected, starting "
                                 "with a single '/')", address=repr(raw[:100])), next=raw[:100])
    return raw


def base_url(request: Request) -> str:
    """The address people reach this server at: ROBOCORE_PUBLIC_URL, else this request's."""
    configured = settings.get_settings().public_url
    return (configured or str(request.base_url)).rstrip("/")


def _oidc(request: Request) -> OidcClient:
    client: OidcClient = request.app.state.oidc
    return client


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


SIGN_IN_FAILED = _l("Sign-in failed")
SIGN_OUT_FAILED = _l("Sign-out failed")


def error_page(request: Request, exc: ApiError, title: Message = SIGN_IN_FAILED) -> Response:
    """The failure as a short page for a browser, in the request's language; a caller that asks for JSON gets
    our JSON error body (both languages)."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)
    lang, heading = current(), html.escape(render(title))
    page = f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading} — Robocore</title></head>
<body>
<main>
<h1>{heading}</h1>
<p id="erreur">{html.escape(render(exc.message))}</p>
<p><a href="/connexion">{html.escape(_("Sign in again"))}</a></p>
</main>
</body>
</html>
"""
    return HTMLResponse(page, status_code=exc.status)


@router.get("/connexion")
async def sign_in(request: Request, next: str | None = None) -> Response:
    """Send the browser to the provider, remembering state, nonce, PKCE verifier and the page to return to."""
    try:
        destination = local_path(next)
        url, login = await _oidc(request).start(base_url(request) + CALLBACK, destination)
    except ApiError as exc:
        return error_page(request, exc)
    response = RedirectResponse(url, status_code=303)
    _sessions(request).start_login(response, request, login)
    return response


@router.get(CALLBACK)
async def callback(request: Request) -> Response:
    """The provider's answer: checked, exchanged for the person's identity, turned into a session."""
    sessions = _sessions(request)
    try:
        login = sessions.read_login(request)
        if login is None:
            raise refused("no_login", _l("No sign-in in progress in this browser, or begun too long ago: sign in "
                                         "again"))
        identity = await _oidc(request).finish(request.query_params, login, base_url(request) + CALLBACK)
    except ApiError as exc:
        failed = error_page(request, exc)
        sessions.clear_login(failed, request)  # a sign-in is answered once
        return failed
    person = sessions.new_person(sub=identity.sub, name=identity.name, email=identity.email, role=identity.role,
                                 groups=identity.groups, issuer=_oidc(request).issuer, id_token=identity.id_token)
    response = RedirectResponse(login.next, status_code=303)
    sessions.write(response, request, person)
    return response


@router.post("/deconnexion")
async def sign_out(request: Request) -> Response:
    """End the session (CSRF token required), then the provider's session when it offers RP-initiated logout.

    A browser (Accept: text/html) gets `continue_page` on its way to the provider; other callers a 303.
    """
    sessions = _sessions(request)
    person = sessions.read(request)
    after = base_url(request) + "/"
    target = after
    if person is not None:
        try:
            await csrf.check(request, person.csrf, person.login)
        except ApiError as exc:
            return error_page(request, exc, SIGN_OUT_FAILED)
        target = await _oidc(request).logout_url(person.id_token, after) or after
        log.info("web.signed_out", person=person.login)
    response: Response = RedirectResponse(target, status_code=303)
    if target != after and "text/html" in request.headers.get("accept", ""):
        response = continue_page(target)
    sessions.clear(response, request)
    return response


def continue_page(target: str) -> HTMLResponse:
    """Signed out here; on to the provider's end-session page by an immediate refresh (and a link).

    A browser checks a form's redirects against the page's `form-action 'self'` policy, so the sign-out
    form cannot be redirected to the provider: this page ends that navigation, then leaves for it.
    """
    url = html.escape(target, quote=True)
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={url}">
<title>Déconnexion — Robocore</title></head>
<body>
<main>
<h1>Vous êtes déconnecté de Robocore</h1>
<p><a href="{url}">Terminer aussi la session auprès du fournisseur d'identité</a></p>
<p lang="en">Signed out of Robocore. <a href="{url}">End the identity provider's session too</a></p>
</main>
</body>
</html>
""")


def _secret(name: str, field: str) -> str | None:
    """One field of a Robocore secret (environment, secrets file, plugins), or None."""
    for provider in default_providers(settings.home()):
        value = provider.get(name, field)
        if value is not None:
            return value
    return None


def install(app: FastAPI) -> None:
    """Mount the sign-in routes and the session reader when ROBOCORE_OIDC_ISSUER is set; nothing otherwise.

    The session cookies are read by `robocore.server.auth.current` through `app.state.sessions`.
    """
    config = settings.get_settings()
    if not config.oidc_issuer:
        return
    if not config.oidc_client_id:
        from robocore.errors import SettingsError

        raise SettingsError("ROBOCORE_OIDC_CLIENT_ID manquant alors que ROBOCORE_OIDC_ISSUER est défini / "
                            "ROBOCORE_OIDC_CLIENT_ID is missing while ROBOCORE_OIDC_ISSUER is set",
                            variables=("ROBOCORE_OIDC_CLIENT_ID",))
    client_secret = _secret("oidc", "client_secret")
    key = load_key(settings.home(), _secret("session", "key"))
    register(key.decode())  # scrubbed from logs and errors like any secret
    app.state.sessions = Sessions(key, public_url=config.public_url, max_age=round(config.session_hours * 3600))
    app.state.oidc = OidcClient(config.oidc_issuer, config.oidc_client_id,
                                Secret(client_secret, "oidc.client_secret") if client_secret else None,
                                scopes=config.oidc_scopes, roles_claim=config.oidc_roles_claim,
                                groups_claim=config.oidc_groups_claim, people_home=settings.home(),
                                timeout=config.oidc_timeout)
    people.load(settings.home())  # a mistake in the people file fails the start, naming the entry
    app.include_router(router)
    log.info("web.oidc_enabled", issuer=config.oidc_issuer, client_id=config.oidc_client_id,
             secret="set" if client_secret else "none (public client, PKCE only)")
