"""API tokens (argon2-hashed, shown once), roles, agent groups, and the `require` dependency.

A token is `rbc_` + 43 URL-safe characters. The store keeps its first characters (`lookup`,
to find the row) and an argon2 hash. Argon2 costs tens of milliseconds by design, so a
successful verification is remembered in memory for a short time, keyed by an HMAC of the
token under a per-process random key; the token's row is still read on every request, so
a revocation (from any process), an expiry or a role change applies at once.

Failed authentications are throttled per source address and per token lookup (`Verifier`),
on the failing path only: a token that verifies is never refused because others failed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.server.errors import ApiError
from robocore.settings import get_settings
from robocore.store import HashedToken, Store, utcnow
from robocore.web import csrf

log = structlog.get_logger("robocore.server.auth")

ROLES = ("agent", "engineer", "manager", "admin")
PREFIX = "rbc_"
LOOKUP_CHARS = 12
CACHE_SECONDS = 60.0
TOUCH_SECONDS = 60.0
MAX_EXPIRY_DAYS = 3650
# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~30 ms here. A token carries 256 random
# bits, so the hash guards a stolen database, not a guessable secret; the library defaults
# (64 MiB, 4 lanes) cost ~200 ms on a 2-core server for no added safety.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
bearer = HTTPBearer(auto_error=False, description="Jeton d'API : `Authorization: Bearer rbc_…`")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name, role and agent groups."""

    id: int
    name: str
    role: str
    groups: tuple[str, ...] = ()

    def has(self, *roles: str) -> bool:
        """Whether the caller holds one of these roles (admin holds every role)."""
        return self.role == "admin" or self.role in roles


def _lookup(token: str) -> str:
    return token[len(PREFIX):len(PREFIX) + LOOKUP_CHARS]


def create_token(store: Store, name: str, role: str, groups: list[str] | None = None,
                 expires_in_days: int | None = None) -> str:
    """Create a token and return it (the only time it is ever shown); only its hash is stored.

    Args:
        expires_in_days: the token is refused (401) this many days from now; None: it never expires.
    """
    if role not in ROLES:
        raise ValueError(_("unknown role '{role}' (roles: {roles})", role=role, roles=", ".join(ROLES)))
    if not name.strip() or len(name) > 100:
        raise ValueError(_("token name empty or too long (100 characters at most)"))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValueError(_("invalid expiry: {days} days (1 to {limit})", days=expires_in_days, limit=MAX_EXPIRY_DAYS))
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days is not None else None
    token = PREFIX + secrets.token_urlsafe(32)
    store.add_token(name.strip(), role, _hasher.hash(token), _lookup(token),
                    sorted({g.strip() for g in groups or [] if g.strip()}), expires_at=expires_at)
    return token


class RateLimiter:
    """At most `limit` failed authentications per key (an address, a token's lookup) in a sliding minute.

    Failures are recorded only under the budget, so a key's record never holds more than `limit`
    stamps however fast it fails; keys whose failures are all older than the window are dropped
    once more than MAX_KEYS are held (an attacker rotating addresses cannot grow it for long).
    """

    MAX_KEYS = 10_000

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit, self.window = limit, window_s
        self._failures: dict[str, deque[float]] = {}
        self._pruned_at = 0.0
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, key: str) -> int:
        """Seconds to wait before this key may fail again (0: it is under its budget)."""
        now = time.monotonic()
        with self._lock:
            if key not in self._failures:
                return 0
            stamps = self._recent(key, now)
            if len(stamps) < self.limit:
                if not stamps:
                    del self._failures[key]
                return 0
            return max(1, int(stamps[0] + self.window - now) + 1)

    def fail(self, key: str) -> None:
        """Count one failure of this key (nothing more once it is over its budget)."""
        now = time.monotonic()
        with self._lock:
            stamps = self._recent(key, now)
            if len(stamps) < self.limit:
                stamps.append(now)
            if len(self._failures) > self.MAX_KEYS and now - self._pruned_at >= 1.0:
                self._prune(now)

    def _prune(self, now: float) -> None:
        """Drop the keys with no failure in the window (at most once a second: it reads every key)."""
        self._pruned_at = now
        for key in [k for k, stamps in self._failures.items() if not stamps or stamps[-1] <= now - self.window]:
            del self._failures[key]


class Verifier:
    """Tokens to principals: argon2 verification cached briefly, failures throttled per address and per token.

    A token that verifies is always accepted, whatever its address did before: throttling only
    answers the failing path. An address over its budget gets 429 instead of 401 for a malformed,
    unknown, revoked, expired or wrong token; a token lookup (the first characters of a real
    token) over its own budget is no longer verified by argon2 at all (429), unless that very
    token verified in the last minute. Guessing the rest of a known lookup is thus bounded per
    lookup, from any number of addresses, and guessing lookups never reaches argon2.
    """

    def __init__(self, store: Store, failures_per_minute: int | None = None) -> None:
        self.store = store
        limit = failures_per_minute or get_settings().auth_failures_per_minute
        self.limiter = RateLimiter(limit)          # per source address
        self.lookups = RateLimiter(limit)          # per token lookup (only lookups that exist)
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, tuple[int, float]] = {}
        self._touched: dict[int, float] = {}
        self._inflight: dict[bytes, threading.Lock] = {}
        self._lock = threading.Lock()

    def _digest(self, token: str) -> bytes:
        return hmac.new(self._key, token.encode(), hashlib.sha256).digest()

    def _cached(self, digest: bytes, token_id: int) -> bool:
        with self._lock:
            hit = self._verified.get(digest)
            return hit is not None and hit[0] == token_id and hit[1] > time.monotonic()

    def _argon2(self, row: HashedToken, token: str) -> bool:
        try:
            return bool(_hasher.verify(row.token_hash, token))
        except (VerificationError, InvalidHashError):
            return False

    def _verified_once(self, digest: bytes, row: HashedToken, token: str) -> bool:
        """Argon2 at most once at a time per token: a burst of first requests waits for one verification."""
        if self._cached(digest, row.token.id):
            return True
        with self._lock:
            flight = self._inflight.setdefault(digest, threading.Lock())
        with flight:
            if self._cached(digest, row.token.id):
                return True
            ok = self._argon2(row, token)
            with self._lock:
                if ok:
                    self._verified[digest] = (row.token.id, time.monotonic() + CACHE_SECONDS)
                self._inflight.pop(digest, None)
        return ok

    def _failed(self, address: str, reason: str, lookup: str | None = None) -> ApiError:
        """Count a failure and build its answer: 429 when the address is already over its budget, else 401.

        A wrong secret under a real lookup always counts against that lookup, throttled address or not,
        so that argon2 stops for it after `limit` guesses whatever their sources.
        """
        if lookup is not None:
            self.lookups.fail(lookup)
        wait = self.limiter.retry_after(address)
        if wait:
            log.warning("api.auth_rate_limited", address=address, retry_after=wait, reason=reason)
            return ApiError(429, headers={"Retry-After": str(wait)})
        self.limiter.fail(address)
        log.warning("api.auth_failed", address=address, reason=reason)
        return ApiError(401, headers={"WWW-Authenticate": "Bearer"})

    def authenticate(self, token: str, address: str) -> Principal:
        """The principal of a token, or ApiError 401 (bad token) / 429 (too many failures).

        A token that verifies is accepted even from an address over its failure budget.
        """
        if not token.startswith(PREFIX) or not 20 <= len(token) <= 200:
            raise self._failed(address, "malformed")
        lookup = _lookup(token)
        row = self.store.token_by_lookup(lookup)
        if row is None:
            raise self._failed(address, "unknown")
        digest = self._digest(token)
        if not self._cached(digest, row.token.id):
            wait = self.lookups.retry_after(lookup)
            if wait:  # this token's lookup is under attack: no argon2 for it until the window passes
                log.warning("api.auth_rate_limited", address=address, retry_after=wait, reason="token lookup",
                            token=row.token.name)
                raise ApiError(429, headers={"Retry-After": str(wait)})
            if not self._verified_once(digest, row, token):
                raise self._failed(address, "hash mismatch", lookup)
        found = row.token
        if found.revoked_at is not None:
            raise self._failed(address, "revoked")
        if found.expires_at is not None and found.expires_at <= utcnow():
            raise self._failed(address, "expired")
        self._touch(found.id)
        return Principal(found.id, found.name, found.role, found.groups)

    def _touch(self, token_id: int) -> None:
        """Record last use at most once a minute per token (a write per request would cost more)."""
        now = time.monotonic()
        with self._lock:
            if self._touched.get(token_id, 0.0) > now:
                return
            self._touched[token_id] = now + TOUCH_SECONDS
        self.store.touch_token(token_id)

    def forget(self, token_id: int) -> None:
        """Drop cached verifications of a token (called when it is revoked)."""
        with self._lock:
            for digest in [d for d, (tid, _) in self._verified.items() if tid == token_id]:
                del self._verified[digest]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


async def current(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """The authenticated caller: a bearer token, else a signed-in person's session (401 without either).

    A bearer header decides alone (its cookies are never read); the token's check runs in the
    thread pool, as it did when this dependency was synchronous (argon2 must not hold the loop).
    """
    if credentials is not None and credentials.scheme.lower() == "bearer":
        verifier: Verifier = request.app.state.verifier
        return await run_in_threadpool(verifier.authenticate, credentials.credentials, client_address(request))
    who = await session_caller(request)
    if who is None:
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    return who


async def session_caller(request: Request) -> Principal | None:
    """The person signed in through OpenID Connect (robocore.web), or None without a session.

    Unsafe methods must carry the session's CSRF token (403 otherwise); a session cookie that is
    tampered with or expired is a 401 that says so. The person is left in `request.state.person`.
    """
    sessions = getattr(request.app.state, "sessions", None)  # set only when OIDC is configured
    if sessions is None:
        return None
    person = sessions.read(request)
    if person is None:
        if sessions.present(request):
            raise ApiError(401, _l("Session expired or invalid: sign in again"), code="session_expired",
                           headers={"WWW-Authenticate": "Bearer"})
        return None
    await csrf.check(request, person.csrf, person.login)
    request.state.person = person
    return Principal(person.principal_id, person.login, person.role, person.groups)


def forbid(request: Request, who: Principal, why: str = "role") -> ApiError:
    """Log a refused call and build its 403."""
    log.warning("api.forbidden", token=who.name, role=who.role, method=request.method,
                path=request.url.path, reason=why)
    return ApiError(403)


def require(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets only these roles (and admin) through; others get a logged 403."""

    async def dependency(request: Request, who: Principal = Depends(current)) -> Principal:
        if not who.has(*roles):
            raise forbid(request, who)
        return who

    dependency.__name__ = f"require_{'_'.join(roles) or 'admin'}"
    return dependency
