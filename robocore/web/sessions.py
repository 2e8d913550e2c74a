"""Signed, time-limited session cookies for people signed in through OpenID Connect.

A session is a cookie holding the person (subject, display name, email, role, groups), the
session's CSRF token and an absolute expiry, signed with itsdangerous (HMAC-SHA256) under the
deployment's session key. Nothing is kept on the server: any worker that has the key reads it.

Why not Starlette's SessionMiddleware: it signs the cookie again on every answer, so its
`max_age` slides (a stolen cookie in use never expires), its `Secure` flag is fixed at start-up
(not taken from each request when no public URL is set), and it parses the cookie on every
request, bearer-authenticated ones included. Here the expiry is absolute (`MAX_AGE` after
sign-in), the cookie is read only when a request carries no bearer token, and it is written
only at sign-in and sign-out.

The cookie is `HttpOnly`, `SameSite=Lax` (sent on the provider's redirect back, not on
cross-site POSTs), `Path=/`, and `Secure` with the `__Host-` name prefix when the public URL
(else the request) is https. It never holds the provider's access or refresh token.

The key is the secret `session` field `key` when one is set, else 32 random bytes generated
once in `<ROBOCORE_HOME>/session.key` (mode 0600), so that restarts and every worker of one
machine share it. Sessions end at sign-out in the browser that signs out; a copied cookie stays
valid until its expiry, or until the key is replaced (which ends every session).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import structlog
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import HTTPConnection
from starlette.responses import Response

from robocore.i18n import lazy_gettext as _l
from robocore.i18n import render, speaking

log = structlog.get_logger("robocore.web.sessions")

MAX_AGE = 8 * 3600          # seconds a session lasts after sign-in (a working day)
LOGIN_MAX_AGE = 10 * 60     # seconds a person has to sign in at the provider
KEY_FILE = "session.key"
SESSION_COOKIE = "robocore_session"
LOGIN_COOKIE = "robocore_login"
_MAX_COOKIE_CHARS = 3800    # browsers drop cookies over 4 KiB: keep name and attributes room


@dataclass(frozen=True)
class Person:
    """A signed-in person as the session cookie holds them."""

    sub: str
    name: str
    email: str | None
    role: str
    groups: tuple[str, ...]
    csrf: str
    expires: int
    issuer: str = ""
    id_token: str | None = field(default=None, repr=False)  # only as the logout hint some providers require

    @property
    def principal_id(self) -> int:
        """A stable negative id (tokens have positive ones), the same in every worker and after restarts."""
        digest = hashlib.sha256(f"{self.issuer}\x00{self.sub}".encode()).digest()
        return -1 - int.from_bytes(digest[:6], "big")

    @property
    def login(self) -> str:
        """The name the API records for this person (runs they launch): the email, else the subject."""
        return self.email or self.sub


@dataclass(frozen=True)
class Login:
    """A sign-in in progress: what the provider's answer must match, and where to go afterwards."""

    state: str
    nonce: str
    code_verifier: str
    next: str
    expires: int


def load_key(home: Path, configured: str | None) -> bytes:
    """The session key: the configured secret, else `<home>/session.key`, created once (0600).

    Args:
        configured: the secret `session.key` (secrets file or ROBOCORE_SECRET_SESSION_KEY), if set.
    """
    if configured:
        if len(configured) < 32:
            raise ValueError("secret 'session.key' trop court (32 caractères au moins) / "
                             "secret 'session.key' too short (32 characters at least)")
        return configured.encode()
    path = home / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(render(_l("{path}: session key readable by other users (mode {mode}): run "
                                        "`chmod 600 {path}`", path=path, mode=oct(mode & 0o777)), speaking()))
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 64:
        raise ValueError(render(_l("{path}: invalid session key (64 hexadecimal characters expected)", path=path),
                                speaking()))
    return key.encode()


def _create_key_file(path: Path) -> None:
    """Write 32 random bytes (hex) to a private temporary file, then link it into place: a worker racing
    this one either wins or reads the winner's whole key, never a half-written file."""
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
            log.info("web.session_key_created", path=str(path))
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def is_secure(connection: HTTPConnection, public_url: str | None) -> bool:
    """Whether cookies must be Secure: the public URL is https, or (none set) this request came over https."""
    if public_url:
        return public_url.lower().startswith("https://")
    return connection.url.scheme == "https"


def cookie_name(base: str, secure: bool) -> str:
    """`__Host-` prefixed over https: the browser then refuses it unless Secure, for Path=/ and no Domain."""
    return f"__Host-{base}" if secure else base


class Sessions:
    """Reads and writes the session and sign-in cookies of one deployment (one key).

    Args:
        public_url: ROBOCORE_PUBLIC_URL; decides Secure when set.
        max_age: seconds a session lasts after sign-in.
    """

    def __init__(self, key: bytes, public_url: str | None = None, max_age: int = MAX_AGE) -> None:
        self.public_url, self.max_age = public_url, max_age
        self._session = URLSafeSerializer(key, salt="robocore.session")
        self._login = URLSafeSerializer(key, salt="robocore.oidc-login")

    # -- the session -------------------------------------------------------------------------
    def read(self, connection: HTTPConnection) -> Person | None:
        """The signed-in person, or None: no cookie, a wrong signature (logged), or an expired session."""
        raw = connection.cookies.get(cookie_name(SESSION_COOKIE, is_secure(connection, self.public_url)))
        return self.decode(raw, connection.url.path) if raw else None

    def decode(self, raw: str, where: str = "") -> Person | None:
        """The person of a session cookie's value, or None when it is tampered with, malformed or expired."""
        data = self._loads(self._session, raw, where, "session")
        if data is None:
            return None
        try:
            person = Person(**{**data, "groups": tuple(data["groups"])})
        except (TypeError, KeyError):
            log.warning("web.session_invalid", reason="shape", path=where)
            return None
        if person.expires <= time.time():
            log.info("web.session_expired", person=person.login, path=where)
            return None
        return person

    def present(self, connection: HTTPConnection) -> bool:
        """Whether the request carries a session cookie at all (valid or not)."""
        return cookie_name(SESSION_COOKIE, is_secure(connection, self.public_url)) in connection.cookies

    def new_person(self, *, sub: str, name: str, email: str | None, role: str, groups: tuple[str, ...],
                   issuer: str, id_token: str | None = None) -> Person:
        """A session for someone who has just signed in: a fresh CSRF token, MAX_AGE from now."""
        return Person(sub=sub, name=name, email=email, role=role, groups=groups, issuer=issuer,
                      csrf=secrets.token_urlsafe(32), expires=int(time.time()) + self.max_age, id_token=id_token)

    def encode(self, person: Person) -> str:
        """The cookie value of a session; the ID token is left out when it would make the cookie too big."""
        value = self._session.dumps(asdict(person))
        if len(value) > _MAX_COOKIE_CHARS and person.id_token:
            value = self._session.dumps({**asdict(person), "id_token": None})
        return str(value)

    def write(self, response: Response, connection: HTTPConnection, person: Person) -> None:
        """Set the session cookie (and drop the sign-in cookie, now used)."""
        secure = is_secure(connection, self.public_url)
        response.set_cookie(cookie_name(SESSION_COOKIE, secure), self.encode(person),
                            max_age=max(0, person.expires - int(time.time())), path="/", secure=secure,
                            httponly=True, samesite="lax")
        self.clear_login(response, connection)

    def clear(self, response: Response, connection: HTTPConnection) -> None:
        """Expire the session cookie in the browser."""
        secure = is_secure(connection, self.public_url)
        response.delete_cookie(cookie_name(SESSION_COOKIE, secure), path="/", secure=secure, httponly=True,
                               samesite="lax")

    # -- a sign-in in progress ------------------------------------------------------------------
    def start_login(self, response: Response, connection: HTTPConnection, login: Login) -> None:
        """Remember a sign-in's state, nonce, PKCE verifier and destination until the provider answers."""
        secure = is_secure(connection, self.public_url)
        response.set_cookie(cookie_name(LOGIN_COOKIE, secure), self.encode_login(login), max_age=LOGIN_MAX_AGE,
                            path="/", secure=secure, httponly=True, samesite="lax")

    def encode_login(self, login: Login) -> str:
        return str(self._login.dumps(asdict(login)))

    def read_login(self, connection: HTTPConnection) -> Login | None:
        """The sign-in in progress in this browser, or None (none, tampered with, or older than LOGIN_MAX_AGE)."""
        raw = connection.cookies.get(cookie_name(LOGIN_COOKIE, is_secure(connection, self.public_url)))
        return self.decode_login(raw, connection.url.path) if raw else None

    def decode_login(self, raw: str, where: str = "") -> Login | None:
        """The sign-in of a sign-in cookie's value, or None (tampered with, malformed or too old)."""
        data = self._loads(self._login, raw, where, "login")
        if data is None:
            return None
        try:
            login = Login(**data)
        except TypeError:
            return None
        return login if login.expires > time.time() else None

    def clear_login(self, response: Response, connection: HTTPConnection) -> None:
        secure = is_secure(connection, self.public_url)
        response.delete_cookie(cookie_name(LOGIN_COOKIE, secure), path="/", secure=secure, httponly=True,
                               samesite="lax")

    @staticmethod
    def _loads(serializer: URLSafeSerializer, raw: str, where: str, kind: str) -> dict[str, Any] | None:
        try:
            data = serializer.loads(raw)
        except BadSignature:
            log.warning("web.session_invalid", kind=kind, reason="signature", path=where)
            return None
        return data if isinstance(data, dict) else None
