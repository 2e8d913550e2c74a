"""Signed session cookie and CSRF tokens (stdlib hmac; no extra dependency)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

COOKIE_NAME = "portail_session"


class Signer:
    """Signs and verifies small JSON payloads with HMAC-SHA256 and a timestamp."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        """Derive a key per purpose so a token for one use is never valid for another."""
        self._key = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()

    def dumps(self, payload: dict[str, Any]) -> str:
        """Encode and sign `payload`."""
        body = json.dumps({"t": int(time.time()), "p": payload}, separators=(",", ":"))
        data = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{data}.{self._sign(data)}"

    def loads(self, token: str | None, max_age_s: int) -> dict[str, Any] | None:
        """Return the payload if the signature is valid and not older than `max_age_s`, else None."""
        if not token or "." not in token:
            return None
        data, _, sig = token.rpartition(".")
        if not hmac.compare_digest(sig, self._sign(data)):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        except ValueError:
            return None
        if not isinstance(body, dict) or time.time() - body.get("t", 0) > max_age_s:
            return None
        payload = body.get("p")
        return payload if isinstance(payload, dict) else None

    def _sign(self, data: str) -> str:
        """Truncation-free URL-safe HMAC of `data`."""
        mac = hmac.new(self._key, data.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


@dataclass
class Session:
    """What the cookie carries: a random id, the CSRF token and, once logged in, the user."""

    sid: str
    csrf: str
    user: str | None = None

    @classmethod
    def new(cls, user: str | None = None) -> Session:
        """A fresh anonymous (or just-authenticated) session with its own CSRF token."""
        return cls(sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32), user=user)

    def to_payload(self) -> dict[str, Any]:
        """The cookie payload."""
        return {"sid": self.sid, "csrf": self.csrf, "user": self.user}

    @classmethod
    def from_payload(cls, payload: dict[str, Any] | None) -> Session | None:
        """Rebuild a session from a verified payload, or None when malformed."""
        if not payload or not isinstance(payload.get("sid"), str) or not isinstance(payload.get("csrf"), str):
            return None
        user = payload.get("user")
        return cls(sid=payload["sid"], csrf=payload["csrf"], user=user if isinstance(user, str) else None)

    def csrf_ok(self, submitted: object) -> bool:
        """Constant-time check of a submitted CSRF token."""
        return isinstance(submitted, str) and hmac.compare_digest(submitted, self.csrf)
