"""The language of each request: `?lang=`, else Accept-Language, else ROBOCORE_LANGUAGE (fr).

A pure ASGI middleware sets it in robocore.i18n's context variable for the request alone (two
requests served at once each keep theirs: a context variable belongs to the task serving one
request, and Starlette copies it into the worker threads of sync routes), and answers with
`Content-Language` and `Vary: Accept-Language`. It sits outside the body limit, so that even
a 413 answered there is in the caller's language.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from robocore import i18n

QUERY_PARAMETER = "lang"


def request_language(scope: Scope) -> str:
    """The language negotiated for an HTTP request: `?lang=` when supported, then Accept-Language, then the setting."""
    accept = next((value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"accept-language"),
                  None)
    return i18n.negotiate(accept, _query_language(scope.get("query_string", b"")), default=i18n.current())


def _query_language(query: bytes) -> str | None:
    """The last `lang=` of a query string (any other parameter is the route's business)."""
    found = None
    for part in query.split(b"&"):
        key, _, value = part.partition(b"=")
        if unquote_plus(key.decode("latin-1")) == QUERY_PARAMETER:
            found = unquote_plus(value.decode("latin-1"))
    return found


class Language:
    """Pure ASGI middleware: the request's language active while the application answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang = request_language(scope)
        scope.setdefault("state", {})["language"] = lang  # request.state.language, for pages and templates

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_language(list(message.get("headers", [])), lang)
            await send(message)

        token = i18n.set_language(lang)
        try:
            await self.app(scope, receive, sending)
        finally:
            i18n.reset_language(token)


def _with_language(headers: list[tuple[bytes, bytes]], lang: str) -> list[tuple[bytes, bytes]]:
    """Raw headers plus Content-Language (unless set) and Accept-Language added to Vary."""
    names = {name.lower() for name, _ in headers}
    if b"content-language" not in names:
        headers.append((b"content-language", lang.encode()))
    vary = [(i, value) for i, (name, value) in enumerate(headers) if name.lower() == b"vary"]
    if not vary:
        headers.append((b"vary", b"Accept-Language"))
    elif b"accept-language" not in vary[0][1].lower() and vary[0][1].strip() != b"*":
        headers[vary[0][0]] = (headers[vary[0][0]][0], vary[0][1] + b", Accept-Language")
    return headers
