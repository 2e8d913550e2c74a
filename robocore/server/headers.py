"""Security headers on every response: no sniffing, no referrer, no framing, a strict CSP, no caching.

The Content-Security-Policy allows only the server's own scripts, styles, images and
connections (`default-src 'self'`), the data: images that Swagger UI's stylesheet uses, and
no plugin, no `<base>`, no framing. A page that needs an inline script (the Swagger UI page
at /api/v1/docs, which FastAPI writes with one) sets its own policy naming that script's
SHA-256 (`page_policy`): the middleware never replaces a policy a response already carries,
and no page gets `'unsafe-inline'`.

`Cache-Control: no-store` goes on every answer that sets no caching of its own (every API
answer is one caller's data, some carry a secret), except the static files of the docs.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
          "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": POLICY,
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
NO_STORE = "no-store"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def page_policy(html: bytes) -> str:
    """The policy for an HTML page: POLICY, with the SHA-256 of each of its inline scripts allowed."""
    hashes = [base64.b64encode(hashlib.sha256(script).digest()).decode()
              for script in _INLINE_SCRIPT.findall(html)]
    allowed = " ".join(f"'sha256-{digest}'" for digest in hashes)
    return f"{POLICY}; script-src 'self' {allowed}".rstrip()


class SecurityHeaders:
    """Pure ASGI middleware adding SECURITY_HEADERS (and no-store) to responses that lack them.

    Args:
        cacheable: path prefixes whose responses may be cached (static files).
    """

    def __init__(self, app: ASGIApp, cacheable: tuple[str, ...] = ()) -> None:
        self.app, self.cacheable = app, cacheable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        store = not str(scope.get("path", "")).startswith(self.cacheable)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])), no_store=store)
            await send(message)

        await self.app(scope, receive, sending)


def with_security_headers(headers: list[tuple[bytes, bytes]], *, no_store: bool = True) -> list[tuple[bytes, bytes]]:
    """Raw ASGI headers plus every security header they do not set already."""
    present = {name.lower() for name, _ in headers}
    extra = dict(SECURITY_HEADERS, **({"cache-control": NO_STORE} if no_store else {}))
    return headers + [(name.encode(), value.encode()) for name, value in extra.items()
                      if name.encode() not in present]
