"""CSRF protection of session-authenticated requests: a per-session token (synchronizer pattern).

The token is made at sign-in and kept in the signed session cookie; pages put it in their forms
(field `csrf_token`) or scripts send it in the `X-CSRF-Token` header. Every unsafe request
(POST, PUT, PATCH, DELETE) authenticated by the session cookie must carry it: a browser sends
the cookie to our site whatever page made the request, but another site cannot read the token.
Requests authenticated by a bearer token are exempt (browsers never add that header by themselves).

The form field is read from URL-encoded bodies only (bounded by ROBOCORE_JSON_MAX_KB before
this runs, and kept for the route to read again); a multipart body (file uploads) is streamed
by its route, so such a request carries the token in the header.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

import structlog
from starlette.requests import Request

from robocore.i18n import lazy_gettext as _l
from robocore.server.errors import ApiError

log = structlog.get_logger("robocore.web.csrf")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
HEADER = "x-csrf-token"
FIELD = "csrf_token"
_FORM = "application/x-www-form-urlencoded"


async def submitted_token(request: Request) -> str | None:
    """The token the request carries: the header, else the URL-encoded form field."""
    given = request.headers.get(HEADER)
    if given:
        return given
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        return None
    body = await request.body()  # cached on the request: the route reads the same bytes
    values = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=100).get(FIELD)
    return values[0] if values else None


async def check(request: Request, expected: str, who: str) -> None:
    """Refuse (403, logged) an unsafe request whose CSRF token is missing or not the session's.

    Args:
        expected: the session's token.
        who: the signed-in person, for the log.
    """
    if request.method in SAFE_METHODS:
        return
    given = await submitted_token(request)
    if given and hmac.compare_digest(given.encode(), expected.encode()):
        return
    reason = "missing" if not given else "mismatch"
    log.warning("web.csrf_refused", method=request.method, path=request.url.path, person=who, reason=reason)
    raise ApiError(403, _l("Missing or invalid CSRF token: reload the page and try again"), code="csrf")
