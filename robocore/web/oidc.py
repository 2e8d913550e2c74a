"""Sign-in through OpenID Connect: Authorization Code flow with PKCE, state and nonce (Authlib).

Any standard provider is configured by its issuer URL, client id and secret (ProConnect, the
State agents' federation, included; no provider-specific code). The provider's endpoints come
from `<issuer>/.well-known/openid-configuration` (kept an hour; its `issuer` must be the one
configured). The ID token's signature is checked against the provider's JWKS (fetched again once
when a token names an unknown key), and its claims `iss`, `aud`, `exp`, `iat`, `nonce` (and
`azp`, `at_hash` when present) by Authlib. The claims of the userinfo answer (plain JSON or a
signed JWT, as ProConnect sends it) are added, for the same subject only.

Roles come from the claim ROBOCORE_OIDC_ROLES_CLAIM (a list or a space/comma-separated text; a
dotted name such as `realm_access.roles` reads a nested claim): values among
agent|engineer|manager|admin, the highest kept (in that order); others are ignored. A person with
no Robocore role is refused. Groups come from ROBOCORE_OIDC_GROUPS_CLAIM. A provider that sends no
roles (ProConnect) is completed by the people file kept on our side (robocore.web.people).

Every call to the provider has a timeout (`TIMEOUT`). The access token is used once, for
userinfo, and dropped; no token and no client secret is ever logged.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import structlog
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from robocore.errors import SettingsError
from robocore.i18n import Message
from robocore.i18n import lazy_gettext as _l
from robocore.secrets import Secret
from robocore.server.auth import ROLES
from robocore.server.errors import ApiError
from robocore.web import people
from robocore.web.sessions import LOGIN_MAX_AGE, Login

try:  # the HTTP client Authlib itself uses, so that its exceptions are the ones caught here
    import httpx2 as httpx  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    import httpx

log = structlog.get_logger("robocore.web.oidc")

TIMEOUT = 10.0          # default seconds for each call to the provider (ROBOCORE_OIDC_TIMEOUT)
METADATA_SECONDS = 3600.0
LEEWAY = 60             # seconds of clock difference allowed with the provider
MAX_GROUPS = 50
# the steps of a sign-in that call the provider, named in the messages saying which one failed (logged in English)
# Translators: a step of the sign-in with the identity provider (its discovery document)
DISCOVERY = _l("discovery")
# Translators: a step of the sign-in with the identity provider (its signing keys)
KEYS = _l("signing keys")
# Translators: a step of the sign-in with the identity provider (the code exchanged for tokens)
TOKEN = _l("token")
# Translators: a step of the sign-in with the identity provider (its userinfo endpoint): kept as is
USERINFO = _l("userinfo")


@dataclass(frozen=True)
class Identity:
    """Who signed in, as the provider vouched for them, with their Robocore role and groups."""

    sub: str
    name: str
    email: str | None
    role: str
    groups: tuple[str, ...]
    id_token: str


def unavailable(step: Message, exc: Exception, timeout: float = TIMEOUT) -> ApiError:
    """The provider did not answer (or not in time) at `step` (DISCOVERY…): 503, logged without any token."""
    timed_out = isinstance(exc, httpx.TimeoutException)
    log.warning("web.oidc_unavailable", step=step.msgid, reason="timeout" if timed_out else type(exc).__name__)
    if timed_out:
        return ApiError(503, _l("The identity provider did not answer in time ({timeout:g} s, {step}): try again "
                                "later", timeout=timeout, step=step), code="oidc_unavailable")
    return ApiError(503, _l("The identity provider cannot be reached ({step}): try again later", step=step),
                    code="oidc_unavailable")


def refused(reason: str, message: Message, status: int = 400, **details: Any) -> ApiError:
    """A sign-in that fails on our side of the checks: logged with its reason, answered in our words.

    Args:
        reason: the log's reason and the error code's end (`oidc_<reason>`).
        message: what the person reads, a message of the catalogues (`lazy_gettext`).
        details: logged with the reason (never a token).
    """
    log.warning("web.oidc_refused", reason=reason, **details)
    return ApiError(status, message, code="oidc_" + reason)


def _answered(status: int, step: Message) -> Message:
    """The provider answered `step` with an HTTP status other than 200."""
    return _l("The identity provider answered {status} ({step})", status=status, step=step)


def claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name; `a.b` reads `claims["a"]["b"]`."""
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _values(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [v for v in raw.replace(",", " ").split() if v]
    if isinstance(raw, (list, tuple)):
        return [str(v).strip() for v in raw if isinstance(v, (str, int)) and str(v).strip()]
    return []


def role_of(claims: Mapping[str, Any], roles_claim: str) -> str | None:
    """The highest Robocore role the claim names (agent < engineer < manager < admin), or None."""
    known = [v for v in _values(claim(claims, roles_claim)) if v in ROLES]
    return max(known, key=ROLES.index) if known else None


def groups_of(claims: Mapping[str, Any], groups_claim: str) -> tuple[str, ...]:
    """The person's agent groups (at most MAX_GROUPS, each 100 characters at most), sorted."""
    raw = claim(claims, groups_claim)
    values = [raw.strip()] if isinstance(raw, str) and raw.strip() else _values(raw)
    return tuple(sorted({v for v in values if len(v) <= 100}))[:MAX_GROUPS]


def display_name(claims: Mapping[str, Any]) -> str:
    """`name`, else given name and usual/family name (ProConnect's `usual_name`), else email, else subject."""
    if isinstance(claims.get("name"), str) and claims["name"].strip():
        return str(claims["name"]).strip()
    parts = [claims.get("given_name"), claims.get("usual_name") or claims.get("family_name")]
    joined = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return joined or str(claims.get("email") or claims["sub"])


class OidcClient:
    """One OpenID Connect relying party: this deployment's client at one provider.

    Args:
        client_secret: the secret `oidc.client_secret`; None for a public client (PKCE only).
        scopes: the scopes asked, separated by spaces (`openid` is added when missing).
        people_home: the folder of the people file (robocore.web.people), roles kept on our side.
    """

    def __init__(self, issuer: str, client_id: str, client_secret: Secret | None, *, scopes: str = "openid",
                 roles_claim: str = "roles", groups_claim: str = "groups", people_home: Path | None = None,
                 timeout: float = TIMEOUT) -> None:
        self.issuer, self.client_id, self._secret = issuer.rstrip("/"), client_id, client_secret
        words = scopes.split()
        self.scopes = " ".join(words if "openid" in words else ["openid", *words])
        self.roles_claim, self.groups_claim, self.people_home = roles_claim, groups_claim, people_home
        self.timeout = timeout
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._jwks: KeySet | None = None
        self._lock = asyncio.Lock()

    def _client(self, **kwargs: Any) -> AsyncOAuth2Client:
        secret = self._secret.reveal() if self._secret else None
        return AsyncOAuth2Client(client_id=self.client_id, client_secret=secret, code_challenge_method="S256",
                                 timeout=self.timeout, follow_redirects=False, trust_env=False, **kwargs)

    async def _get(self, url: str, step: Message) -> httpx.Response:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise unavailable(step, exc, self.timeout) from None
        if response.status_code != 200:
            raise refused("provider_error", _answered(response.status_code, step), 502, url=url)
        return response

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached METADATA_SECONDS); its issuer must be ours."""
        cached = self._metadata
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self._lock:
            if self._metadata and self._metadata[0] > time.monotonic():
                return self._metadata[1]
            response = await self._get(f"{self.issuer}/.well-known/openid-configuration", DISCOVERY)
            try:
                document = response.json()
            except ValueError:
                document = None
            if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise refused("bad_discovery", _l("Invalid discovery document for the issuer {issuer}",
                                                  issuer=self.issuer), 502)
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(key), str):
                    raise refused("bad_discovery", _l("The provider {issuer} does not advertise '{key}'",
                                                      issuer=self.issuer, key=key), 502)
            self._metadata = (time.monotonic() + METADATA_SECONDS, document)
            self._jwks = None
            return document

    async def keys(self, force: bool = False) -> KeySet:
        """The provider's signing keys (JWKS), fetched once and again when `force`."""
        if self._jwks is None or force:
            document = await self.metadata()
            response = await self._get(document["jwks_uri"], KEYS)
            try:
                self._jwks = KeySet.import_key_set(response.json())
            except (ValueError, JoseError) as exc:
                raise refused("bad_keys", _l("Unreadable identity provider keys"), 502,
                              error=type(exc).__name__) from None
        return self._jwks

    async def start(self, redirect_uri: str, next_path: str) -> tuple[str, Login]:
        """The provider's authorization URL for a new sign-in, and what its answer must match."""
        document = await self.metadata()
        login = Login(state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64),
                      next=next_path, expires=int(time.time()) + LOGIN_MAX_AGE)
        async with self._client(scope=self.scopes, redirect_uri=redirect_uri) as client:
            url, _state = client.create_authorization_url(document["authorization_endpoint"], state=login.state,
                                                          code_verifier=login.code_verifier, nonce=login.nonce)
        return str(url), login

    async def finish(self, params: Mapping[str, str], login: Login, redirect_uri: str) -> Identity:
        """Check the provider's answer against the sign-in, exchange the code, verify the ID token, map roles."""
        self._check_answer(params, login)
        document = await self.metadata()
        tokens = await self._exchange(document, params["code"], login, redirect_uri)
        claims = await self._id_token_claims(document, tokens, login.nonce)
        claims = {**await self._userinfo(document, tokens, claims["sub"]), **claims}
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        role, groups = role_of(claims, self.roles_claim), groups_of(claims, self.groups_claim)
        entry = self._people_entry(email, str(claims["sub"]))
        if entry is not None:
            role = role or entry.role
            groups = tuple(sorted(set(groups) | set(entry.groups)))[:MAX_GROUPS]
        who = email or claims["sub"]
        if role is None:
            raise refused("no_role", _l("You are signed in, but no Robocore role is granted to you: ask your "
                                        "service's Robocore administrator for access"), 403, person=who)
        identity = Identity(sub=str(claims["sub"]), name=display_name(claims), email=email, role=role,
                            groups=groups, id_token=str(tokens["id_token"]))
        log.info("web.signed_in", person=who, role=role, groups=list(identity.groups))
        return identity

    def _people_entry(self, email: str | None, sub: str) -> people.Entry | None:
        """The person's line of the people file (roles kept on our side), if there is a file."""
        if self.people_home is None:
            return None
        try:
            return people.lookup(self.people_home, email, sub)
        except SettingsError as exc:
            log.error("web.people_file_invalid", error=str(exc))
            raise ApiError(503, _l("The people's roles file is invalid: tell the administrator"),
                           code="oidc_people") from None

    def _check_answer(self, params: Mapping[str, str], login: Login) -> None:
        if "error" in params:
            error = params.get("error", "")[:100]
            raise refused("provider_refused", _l("The identity provider refused the sign-in ({error})", error=error),
                          403, error=error)
        given = params.get("state", "")
        if not secrets.compare_digest(given.encode(), login.state.encode()):
            raise refused("state", _l("Unexpected sign-in answer (state mismatch): sign in again"))
        if "iss" in params and params["iss"].rstrip("/") != self.issuer:  # RFC 9207: mix-up defence
            raise refused("issuer", _l("Answer from another identity provider: sign in again"))
        if not params.get("code"):
            raise refused("no_code", _l("Sign-in answer without a code: sign in again"))

    async def _exchange(self, document: Mapping[str, Any], code: str, login: Login,
                        redirect_uri: str) -> dict[str, Any]:
        """The code for tokens, with the PKCE verifier and the client's credentials."""
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "none" if self._secret is None else (
            "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post")
        try:
            async with self._client(redirect_uri=redirect_uri, token_endpoint_auth_method=method) as client:
                tokens = await client.fetch_token(document["token_endpoint"], grant_type="authorization_code",
                                                  code=code, code_verifier=login.code_verifier)
        except httpx.HTTPError as exc:
            raise unavailable(TOKEN, exc, self.timeout) from None
        except OAuthError as exc:
            raise refused("token", _l("The identity provider refused the code ({error})", error=exc.error), 400,
                          error=exc.error) from None
        except ValueError:
            raise refused("token", _l("Unreadable answer from the identity provider ({step})", step=TOKEN),
                          502) from None
        if not isinstance(tokens.get("id_token"), str):
            raise refused("no_id_token", _l("The identity provider gave no ID token (openid scope?)"), 502)
        return dict(tokens)

    def _algorithms(self, document: Mapping[str, Any]) -> JWSRegistry:
        algorithms = [a for a in document.get("id_token_signing_alg_values_supported") or ["RS256"] if a != "none"]
        return JWSRegistry(algorithms=algorithms, strict_check_header=False)

    async def _verified(self, document: Mapping[str, Any], token: str) -> jwt.Token:
        """A JWT signed by one of the provider's keys (the keys fetched again once for an unknown key)."""
        try:
            try:
                return jwt.decode(token, await self.keys(), registry=self._algorithms(document))
            except InvalidKeyIdError:
                return jwt.decode(token, await self.keys(force=True), registry=self._algorithms(document))
        except (JoseError, ValueError) as exc:
            raise refused("signature", _l("Token with an invalid signature: sign-in refused"), 400,
                          error=type(exc).__name__) from None

    async def _id_token_claims(self, document: Mapping[str, Any], tokens: Mapping[str, Any],
                               nonce: str) -> dict[str, Any]:
        """The ID token's claims once its signature, issuer, audience, expiry and nonce are checked."""
        token = await self._verified(document, str(tokens["id_token"]))
        options: dict[str, Any] = {"iss": {"essential": True, "value": document["issuer"]},
                                   "aud": {"essential": True, "value": self.client_id},
                                   "exp": {"essential": True}}
        claims = CodeIDToken(token.claims, token.header, options,
                             {"nonce": nonce, "client_id": self.client_id, "access_token": tokens.get("access_token")})
        try:
            claims.validate(leeway=LEEWAY)
        except JoseError as exc:
            name = getattr(exc, "claim", None) or type(exc).__name__
            raise refused("claims", _l("ID token refused (claim '{claim}' invalid or missing)", claim=name), 400,
                          claim=name) from None
        return dict(claims)

    async def _userinfo(self, document: Mapping[str, Any], tokens: Mapping[str, Any], sub: str) -> dict[str, Any]:
        """The userinfo claims (JSON or signed JWT) of the same subject; none when no endpoint is advertised."""
        endpoint, access = document.get("userinfo_endpoint"), tokens.get("access_token")
        if not isinstance(endpoint, str) or not isinstance(access, str):
            return {}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as http:
                response = await http.get(endpoint, headers={"Authorization": f"Bearer {access}",
                                                             "Accept": "application/json, application/jwt"})
        except httpx.HTTPError as exc:
            raise unavailable(USERINFO, exc, self.timeout) from None
        if response.status_code != 200:
            raise refused("userinfo", _answered(response.status_code, USERINFO), 502)
        if response.headers.get("content-type", "").startswith("application/jwt"):
            signed = await self._verified(document, response.text.strip())
            info = dict(signed.claims)
            if info.get("iss", document["issuer"]) != document["issuer"] or \
                    info.get("aud", self.client_id) not in (self.client_id, [self.client_id]):
                raise refused("userinfo", _l("Userinfo answer issued for another client"), 502)
        else:
            try:
                info = response.json()
            except ValueError:
                info = None
        if not isinstance(info, dict) or info.get("sub") != sub:
            raise refused("userinfo", _l("Userinfo answer for another person, or unreadable"), 502)
        return info

    async def logout_url(self, id_token: str | None, after: str) -> str | None:
        """The provider's end-session URL (RP-initiated logout) when it advertises one, else None.

        Args:
            after: where the provider sends the browser back (registered with the provider).
        """
        try:
            document = await self.metadata()
        except ApiError:
            return None  # our session is gone already: the provider's is left to expire
        endpoint = document.get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": after, "state": generate_token(20)}
        if id_token:
            params["id_token_hint"] = id_token
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
