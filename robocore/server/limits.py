"""Request bodies bounded while they stream in, before routing and authentication read them.

FastAPI reads a JSON body before it resolves the route's dependencies, authentication
included: without a bound, anyone could make the server hold hundreds of megabytes before
being told 401. This middleware sits outside the application, so every body goes through it:
a declared `Content-Length` over the limit is refused at once (the application never runs);
otherwise bytes are counted chunk by chunk as the application reads them, and the read that
crosses the limit aborts the request. The answer is 413 with the API's error body and
`Connection: close`, so the server stops reading the rest of the body.

Multipart launch forms keep their own, larger bound (the route streams files to disk and
stops at ROBOCORE_UPLOAD_MAX_MB): here they are only held to that limit plus the form overhead.
"""

from __future__ import annotations

import json

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from robocore.i18n import lazy_gettext as _l
from robocore.server.errors import error_body

log = structlog.get_logger("robocore.server.limits")


class BodyTooLarge(Exception):
    """Raised from `receive` to the application when a body passes its limit (answered 413 here)."""


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def too_large_body(limit: int, multipart: bool) -> bytes:
    """The 413 error body, naming the limit and the setting that raises it."""
    if multipart:
        mb = limit / (1024 * 1024)
        payload = error_body("upload_too_large", _l("form too large (at most {mb:.1f} MB, ROBOCORE_UPLOAD_MAX_MB)",
                                                    mb=mb))
    else:
        kb = limit // 1024
        payload = error_body("body_too_large", _l("request body too large (at most {kb} KB, ROBOCORE_JSON_MAX_KB)",
                                                  kb=kb))
    return json.dumps(payload, ensure_ascii=False).encode()


class BodyLimit:
    """Pure ASGI middleware: at most `body_max` bytes of a non-multipart body, `form_max` of a multipart one.

    Args:
        body_max: bytes of a JSON, URL-encoded or any other non-multipart body (ROBOCORE_JSON_MAX_KB).
        form_max: bytes of a multipart/form-data body (the upload limit plus the form's overhead).
    """

    def __init__(self, app: ASGIApp, body_max: int, form_max: int) -> None:
        self.app, self.body_max, self.form_max = app, body_max, form_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        multipart = _header(scope, b"content-type").lower().startswith("multipart/form-data")
        limit = self.form_max if multipart else self.body_max
        declared = _header(scope, b"content-length").strip()
        if declared.isdigit() and int(declared) > limit:
            self._refused(scope, int(declared), limit, "declared")
            await self._answer(send, limit, multipart)
            return
        await _Bounded(self, scope, receive, send, limit, multipart).run()

    def _refused(self, scope: Scope, size: int, limit: int, how: str) -> None:
        client = scope.get("client") or ("?", 0)
        log.warning("api.body_too_large", method=scope["method"], path=scope["path"], client=client[0],
                    bytes=size, limit=limit, how=how)

    @staticmethod
    async def _answer(send: Send, limit: int, multipart: bool) -> None:
        content = too_large_body(limit, multipart)
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": content})


class _Bounded:
    """One request whose body is counted as the application reads it."""

    def __init__(self, limiter: BodyLimit, scope: Scope, receive: Receive, send: Send, limit: int,
                 multipart: bool) -> None:
        self.limiter, self.scope, self._receive, self._send = limiter, scope, receive, send
        self.limit, self.multipart = limit, multipart
        self.received = 0
        self.overflow = False
        self.started = False

    async def receive(self) -> Message:
        if self.overflow:
            raise BodyTooLarge(self.limit)
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.overflow = True
                self.limiter._refused(self.scope, self.received, self.limit, "streamed")
                raise BodyTooLarge(self.limit)
        return message

    async def send(self, message: Message) -> None:
        if self.overflow and not self.started:
            return  # whatever the application answers to the aborted read, the client gets the 413
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def run(self) -> None:
        try:
            await self.limiter.app(self.scope, self.receive, self.send)
        except Exception:  # BodyTooLarge itself, or what the application made of it
            if not self.overflow or self.started:
                raise
        if self.overflow and not self.started:
            await BodyLimit._answer(self._send, self.limit, self.multipart)
