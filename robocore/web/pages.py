"""What every server-rendered page shares: its language and `_`, rendering, refusal pages, and who calls.

A page calls `caller(request, credentials, roles=…, what=…)` first: it answers the Principal, or the
Response that replaces the page (401 with a sign-in button when OpenID Connect is configured, 403
naming the role, 429). Then `page(request, "x.html", user=who.name, …)` renders a template of
robocore/web/templates in the request's language (robocore.server.language) and the theme setting.
Templates get `csrf` (the signed-in person's CSRF token, for forms; None with a bearer token),
`nav` (the current section, for the navigation) and `roles` (what the caller holds).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from robocore import i18n
from robocore.server.auth import Principal, current
from robocore.server.errors import ApiError
from robocore.web.templates import render

log = structlog.get_logger("robocore.web.pages")
READERS = ("manager", "engineer")  # the dashboard's readers (admin holds every role)


def language(request: Request) -> str:
    """The page's language: the one the language middleware chose, else the current one."""
    return getattr(request.state, "language", None) or i18n.current()


def translator(lang: str) -> Any:
    """The templates' `_`: the catalogue's text in `lang`, `%(name)s` placeholders filled (escaped on output)."""
    catalogue = i18n.translations(lang)

    def translate(message: str, **values: Any) -> str:
        text = catalogue.gettext(message)
        return text % values if values else text

    return translate


def _csrf(request: Request) -> str | None:
    person = getattr(request.state, "person", None)
    return getattr(person, "csrf", None)


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """`template` rendered for this request (language, `_`, CSRF token, caller's roles)."""
    lang = language(request)
    values.setdefault("user", None)
    values.setdefault("nav", None)
    values.setdefault("csrf", _csrf(request))
    values.setdefault("roles", ())
    values.setdefault("signed_in", getattr(request.state, "person", None) is not None)
    body = render(template, lang=lang, _=translator(lang), **values)
    return HTMLResponse(body, status_code=status)


def message(request: Request, status: int, title: str, text: str, *, sign_in: bool | str = False,
            user: str | None = None) -> HTMLResponse:
    """A short page explaining a refusal or an absence (no figure).

    Args:
        sign_in: True to say how to sign in with a token; a sign-in address to offer its button.
    """
    return page(request, "message.html", status, refusal={"title": title, "text": text, "sign_in": sign_in},
                user=user)


def roles_of(who: Principal) -> tuple[str, ...]:
    """The roles a caller holds, for the templates (admin holds every role)."""
    return ("agent", "engineer", "manager", "admin") if who.role == "admin" else (who.role,)


async def caller(request: Request, credentials: HTTPAuthorizationCredentials | None,
                 roles: tuple[str, ...] = READERS, what: str | None = None) -> Principal | Response:
    """The caller holding one of `roles`, or the answer that replaces the page (sign-in, 401, 403, 429).

    Args:
        what: the page's name in the 403's text (translated by the caller), e.g. _("The overview").
    """
    _ = translator(language(request))
    try:
        who = await current(request, credentials)
    except ApiError as exc:
        if exc.status == 401 and credentials is None and getattr(request.app.state, "oidc", None) is not None:
            # a page with the sign-in button rather than a silent redirect: after signing out, people land
            # on `/` and must not be sent straight back to the provider (and ProConnect wants its button)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return message(request, 401, _("Sign-in required"),
                           _("This page is for managers, engineers and administrators: sign in with your "
                             "organisation's account."), sign_in=f"/connexion?next={quote(target, safe='')}")
        if exc.status == 401:
            return message(request, 401, _("Sign-in required"),
                           _("This page is for managers, engineers and administrators. Sign in through "
                             "your organisation's account when the server is configured for it "
                             "(ROBOCORE_OIDC_ISSUER), or send an API token in the header "
                             "'Authorization: Bearer rbc_…' (scripts)."), sign_in=True)
        response = message(request, exc.status, _("Access refused"), i18n.render(exc.message))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
    if not who.has(*roles):
        log.warning("page.forbidden", token=who.name, role=who.role, path=request.url.path)
        return message(request, 403, _("Access refused"),
                       _("%(page)s is for other roles; your role (%(role)s) does not give access to it.",
                         page=what or _("This page"), role=who.role), user=who.name)
    return who
