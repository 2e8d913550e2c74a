"""Each role against each API endpoint: allowed, or 403 (logged); 401 without a token; 429 on guessing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient

from robocore.server import create_app
from robocore.server.auth import create_token
from robocore.statuses import RunStatus
from robocore.store import Store
from tests.integration.api_support import FakeExecutor, bearer, robots_folder

ROLES = ("agent", "engineer", "manager", "admin")


class FakeScheduler:
    """The scheduler service's surface, in memory."""

    def __init__(self) -> None:
        self.enabled = {"nuit": True}

    def list_schedules(self) -> list[dict[str, Any]]:
        return [{"name": n, "robot": "lot-50", "enabled": e} for n, e in self.enabled.items()]

    def set_enabled(self, name: str, enabled: bool) -> None:
        if name not in self.enabled:
            raise KeyError(name)
        self.enabled[name] = enabled

    def run_now(self, name: str) -> str:
        if name not in self.enabled:
            raise KeyError(name)
        return "abc123"


class World:
    """One server, its tokens and runs of each kind."""

    def __init__(self, root: Path, store: Store) -> None:
        self.store, self.executor = store, FakeExecutor()
        self.app = create_app(store, FakeScheduler(), self.executor, robots_dir=robots_folder(root))
        self.tokens = {role: create_token(store, role, role, ["g1"] if role == "agent" else []) for role in ROLES}
        self.tokens["other-agent"] = create_token(store, "other-agent", "agent", ["g2"])
        store.add_grant("lot-50", "g1")
        self.client = TestClient(self.app)
        self.runs: dict[str, str] = {}

    def launch(self, who: str) -> str:
        response = self.client.post("/api/v1/robots/lot-50/runs", json={"inputs": {"nombre": 3}},
                                    headers=bearer(self.tokens[who]))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A server on a fresh SQLite store, shared by the whole matrix."""
    root = tmp_path_factory.mktemp("roles")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROBOCORE_HOME", str(root / "home"))
        mp.delenv("ROBOCORE_DATABASE_URL", raising=False)
        store = Store(f"sqlite:///{root / 'robocore.db'}")
        w = World(root, store)
        with w.client:
            w.runs["agent"], w.runs["engineer"] = w.launch("agent"), w.launch("engineer")
            yield w
        store.close()


# (method, path, allowed roles); {agent_run} is a run launched by the agent's token.
# admin holds every role. An agent's run is visible to the agent, engineers and admins only.
ENDPOINTS: list[tuple[str, str, set[str]]] = [
    ("GET", "/api/v1/me", set(ROLES)),
    ("GET", "/api/v1/robots", {"agent", "engineer", "admin"}),
    ("GET", "/api/v1/robots/lot-50", {"agent", "engineer", "admin"}),
    ("POST", "/api/v1/robots/lot-50/runs", {"agent", "engineer", "admin"}),
    ("GET", "/api/v1/runs", {"agent", "engineer", "admin"}),
    ("GET", "/api/v1/runs/{agent_run}", {"agent", "engineer", "admin"}),
    ("GET", "/api/v1/runs/{engineer_run}", {"engineer", "admin"}),
    ("GET", "/api/v1/runs/{agent_run}/items", {"agent", "engineer", "admin"}),
    ("GET", "/api/v1/runs/{agent_run}/logs", {"agent", "engineer", "admin"}),
    ("GET", "/api/v1/runs/{agent_run}/evidence", {"agent", "engineer", "admin"}),
    ("GET", "/api/v1/runs/{agent_run}/events", {"agent", "engineer", "admin"}),
    ("POST", "/api/v1/runs/{fresh_run}/cancel", {"agent", "engineer", "admin"}),
    ("POST", "/api/v1/runs/{failed_run}/resume", {"engineer", "admin"}),
    ("GET", "/api/v1/schedules", {"engineer", "admin"}),
    ("POST", "/api/v1/schedules/nuit/disable", {"engineer", "admin"}),
    ("POST", "/api/v1/schedules/nuit/enable", {"engineer", "admin"}),
    ("POST", "/api/v1/schedules/nuit/run", {"engineer", "admin"}),
    ("GET", "/api/v1/reports/hours-saved?by=month", {"manager", "engineer", "admin"}),
    ("GET", "/api/v1/reports/hours-saved.csv?by=month", {"manager", "engineer", "admin"}),
    ("GET", "/api/v1/reports/hours-saved.xlsx?by=process", {"manager", "engineer", "admin"}),
    ("GET", "/api/v1/processes", {"manager", "engineer", "admin"}),
    ("GET", "/metrics", {"engineer", "manager", "admin"}),
    ("GET", "/api/v1/tokens", {"admin"}),
    ("POST", "/api/v1/tokens", {"admin"}),
    ("DELETE", "/api/v1/tokens/{spare_token}", {"admin"}),
    ("GET", "/api/v1/grants", {"admin"}),
    ("POST", "/api/v1/grants", {"admin"}),
    ("DELETE", "/api/v1/grants/lot-50/g9", {"admin"}),
]
_counter = iter(range(10_000))


def _prepare(world: World, role: str, path: str) -> tuple[str, dict[str, Any] | None]:
    """Fill the path's placeholders with a fresh object where the call changes state."""
    owner = role if role in ("agent", "engineer", "admin") else "engineer"
    if "{fresh_run}" in path:
        path = path.replace("{fresh_run}", world.launch(owner))
    if "{failed_run}" in path:
        run_id = world.launch(owner)
        world.store.finish_run(run_id, RunStatus.FAILED, "panne simulée")
        path = path.replace("{failed_run}", run_id)
    if "{spare_token}" in path:
        name = f"spare-{next(_counter)}"
        create_token(world.store, name, "agent")
        path = path.replace("{spare_token}", name)
    if path == "/api/v1/grants/lot-50/g9":
        world.store.add_grant("lot-50", "g9")
    path = path.replace("{agent_run}", world.runs["agent"]).replace("{engineer_run}", world.runs["engineer"])
    body = None
    if path.endswith("/runs") and "robots" in path:
        body = {"inputs": {"nombre": 2}}
    elif path == "/api/v1/tokens":
        body = {"name": f"new-{next(_counter)}", "role": "manager"}
    elif path == "/api/v1/grants":
        body = {"robot": "lot-50", "group": "g5"}
    return path, body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_role_matrix(world: World, role: str, method: str, path: str, allowed: set[str]) -> None:
    """An allowed role gets a success (2xx); any other gets 403 and the refusal is logged."""
    if "{agent_run}/events" in path:
        world.store.finish_run(world.runs["agent"], RunStatus.SUCCEEDED)  # so the event stream ends
    url, body = _prepare(world, role, path)
    with structlog.testing.capture_logs() as logs:
        response = world.client.request(method, url, json=body, headers=bearer(world.tokens[role]))
    if role in allowed:
        assert 200 <= response.status_code < 300, (response.status_code, response.text)
    else:
        assert response.status_code == 403, (response.status_code, response.text)
        assert response.json()["code"] == "forbidden"
        assert "refusé" in response.json()["detail"]
        refused = [e for e in logs if e["event"] == "api.forbidden"]
        assert refused and refused[0]["token"] == role and refused[0]["path"] == url.split("?")[0]


@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_no_token_is_401(world: World, method: str, path: str, allowed: set[str]) -> None:
    """Every endpoint but health needs a token: without one the answer is 401 with a Bearer challenge."""
    url = path.format(agent_run=world.runs["agent"], engineer_run=world.runs["engineer"], fresh_run="x",
                      failed_run="x", spare_token="x")
    response = world.client.request(method, url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert world.client.get("/api/v1/health").status_code == 200


def test_agent_sees_only_granted_robots_and_own_runs(world: World) -> None:
    """An agent lists only the robots granted to their groups and only the runs of their own token."""
    agent, other = bearer(world.tokens["agent"]), bearer(world.tokens["other-agent"])
    assert [r["robot"] for r in world.client.get("/api/v1/robots", headers=agent).json()] == ["lot-50"]
    engineer = world.client.get("/api/v1/robots", headers=bearer(world.tokens["engineer"])).json()
    assert {r["robot"] for r in engineer} == {"lot-50", "lecture-classeur"}
    assert world.client.get("/api/v1/robots/lecture-classeur", headers=agent).status_code == 403
    assert world.client.post("/api/v1/robots/lecture-classeur/runs", headers=agent, json={}).status_code == 403
    assert world.client.get("/api/v1/robots/inconnu", headers=agent).status_code == 403  # no existence leak
    assert world.client.get("/api/v1/robots", headers=other).json() == []
    assert world.client.post("/api/v1/robots/lot-50/runs", headers=other, json={}).status_code == 403
    mine = world.client.get("/api/v1/runs?limit=500", headers=agent).json()
    assert mine and {r["created_by"] for r in mine} == {"agent"}
    assert world.client.get("/api/v1/runs", headers=other).json() == []
    assert world.client.get(f"/api/v1/runs/{world.runs['agent']}", headers=other).status_code == 403
    everyone = world.client.get("/api/v1/runs?limit=500", headers=bearer(world.tokens["engineer"])).json()
    assert {"agent", "engineer"} <= {r["created_by"] for r in everyone}


def test_grant_given_then_removed_applies_at_once(world: World) -> None:
    """A grant added by an admin lets the group's agents launch the robot; removing it refuses them again."""
    admin, other = bearer(world.tokens["admin"]), bearer(world.tokens["other-agent"])
    granted = world.client.post("/api/v1/grants", json={"robot": "lot-50", "group": "g2"}, headers=admin)
    assert granted.status_code == 201
    assert world.client.post("/api/v1/robots/lot-50/runs", json={}, headers=other).status_code == 201
    assert world.client.delete("/api/v1/grants/lot-50/g2", headers=admin).status_code == 204
    assert world.client.post("/api/v1/robots/lot-50/runs", json={}, headers=other).status_code == 403


@pytest.fixture
def lone_app(tmp_path: Path, robo_home: Path) -> Iterator[tuple[TestClient, Store]]:
    """A separate server, so that failed authentications do not rate-limit the matrix."""
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    with TestClient(create_app(store, executor=FakeExecutor(), robots_dir=robots_folder(tmp_path))) as client:
        yield client, store
    store.close()


def test_bad_tokens_are_401_then_rate_limited_429(lone_app: tuple[TestClient, Store]) -> None:
    """Ten failed authentications in a minute from one address: the next bad attempts get 429, while a
    valid token from the same address is still accepted (throttling never locks a valid token out)."""
    client, store = lone_app
    good = create_token(store, "eng", "engineer")
    wrong = [good[:-4] + "AAAA", "rbc_" + "x" * 43, "n'importe quoi", good + "x"]
    for n in range(10):
        response = client.get("/api/v1/robots", headers=bearer(wrong[n % len(wrong)]))
        assert response.status_code == 401, response.text
    limited = client.get("/api/v1/robots", headers=bearer(wrong[0]))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "Trop de tentatives" in limited.json()["detail"]
    assert client.get("/api/v1/robots", headers=bearer(good)).status_code == 200


def test_revoked_token_refused_at_once_though_cached(lone_app: tuple[TestClient, Store]) -> None:
    """A token whose verification is cached is refused right after its revocation (CLI or API)."""
    client, store = lone_app
    admin, agent = create_token(store, "adm", "admin"), create_token(store, "agt", "agent")
    assert client.get("/api/v1/me", headers=bearer(agent)).json() == {"name": "agt", "role": "agent", "groups": [],
                                                                 "auth": "token"}
    assert store.revoke_token("agt")  # as `robo tokens revoke` does, from another process
    assert client.get("/api/v1/me", headers=bearer(agent)).status_code == 401
    spare = create_token(store, "spare", "engineer")
    assert client.get("/api/v1/me", headers=bearer(spare)).status_code == 200
    assert client.delete("/api/v1/tokens/spare", headers=bearer(admin)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(spare)).status_code == 401
    listed = client.get("/api/v1/tokens", headers=bearer(admin)).json()
    assert all("token_hash" not in t and "token" not in t for t in listed)


def test_token_created_by_api_is_shown_once_and_stored_hashed(lone_app: tuple[TestClient, Store]) -> None:
    """POST /tokens answers the token once; the store holds an argon2 hash and a short lookup prefix only."""
    client, store = lone_app
    admin = create_token(store, "adm", "admin")
    created = client.post("/api/v1/tokens", json={"name": "agent-dupont", "role": "agent", "groups": ["ddets"]},
                          headers=bearer(admin)).json()
    token = created["token"]
    assert token.startswith("rbc_") and len(token) > 40
    row = store.token_by_lookup(token[len("rbc_"):len("rbc_") + 12])  # found by the token's first 12 characters
    assert row is not None and row.token.name == "agent-dupont"
    assert row.token_hash.startswith("$argon2") and token not in row.token_hash
    assert client.get("/api/v1/me", headers=bearer(token)).json()["groups"] == ["ddets"]
    again = client.post("/api/v1/tokens", json={"name": "agent-dupont", "role": "agent"}, headers=bearer(admin))
    assert again.status_code == 409


# ---- throttling that cannot lock out a valid token -----------------------------------------------
def test_valid_admin_token_accepted_after_100_bad_ones_from_the_same_address(
        lone_app: tuple[TestClient, Store]) -> None:
    """100 bad tokens from one address (the first 10 are 401, the others 429): the address's valid admin
    token is still accepted, at once and again, while the next bad token is still 429."""
    client, store = lone_app
    admin = create_token(store, "adm", "admin")
    statuses = [client.get("/api/v1/tokens", headers=bearer(f"rbc_{n:043d}")).status_code for n in range(100)]
    assert statuses == [401] * 10 + [429] * 90
    for _ in range(3):
        assert client.get("/api/v1/tokens", headers=bearer(admin)).status_code == 200
    assert client.get("/api/v1/tokens", headers=bearer("rbc_" + "z" * 43)).status_code == 429


def test_failures_throttled_per_token_lookup_without_argon2(robo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guesses of one real token's secret from ten addresses exhaust that token's lookup: the next guess,
    from a fresh address, is 429 without any argon2 verification; the real token, verified within the
    minute, is still accepted; another token is untouched."""
    from robocore.server.auth import Verifier
    from robocore.server.errors import ApiError

    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    real, other = create_token(store, "cible", "engineer"), create_token(store, "autre", "engineer")
    verifier = Verifier(store, failures_per_minute=10)
    assert verifier.authenticate(real, "10.0.0.1").name == "cible"
    calls: list[str] = []
    original = verifier._argon2
    monkeypatch.setattr(verifier, "_argon2", lambda row, token: calls.append(token) or original(row, token))
    guess = real[:16] + "G" * (len(real) - 16)  # the real lookup, a wrong secret
    for n in range(10):
        with pytest.raises(ApiError) as refused:
            verifier.authenticate(guess[:-2] + f"{n:02d}", f"192.0.2.{n}")
        assert refused.value.status == 401
    assert len(calls) == 10
    with structlog.testing.capture_logs() as logs, pytest.raises(ApiError) as limited:
        verifier.authenticate(guess, "198.51.100.7")
    assert limited.value.status == 429 and int((limited.value.headers or {})["Retry-After"]) >= 1
    assert len(calls) == 10  # no argon2 for a throttled lookup
    assert [e["reason"] for e in logs if e["event"] == "api.auth_rate_limited"] == ["token lookup"]
    assert verifier.authenticate(real, "198.51.100.7").name == "cible"  # cached: never locked out
    assert verifier.authenticate(other, "198.51.100.7").name == "autre"
    store.close()


def test_unknown_lookups_are_throttled_per_address_only(robo_home: Path) -> None:
    """Tokens whose lookup names no token never reach argon2 and count against their address only: another
    address is still answered 401, not 429; the limiter keeps at most `limit` stamps per address."""
    from robocore.server.auth import Verifier
    from robocore.server.errors import ApiError

    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    verifier = Verifier(store, failures_per_minute=3)
    codes = []
    for n in range(50):
        with pytest.raises(ApiError) as refused:
            verifier.authenticate(f"rbc_{n:043d}", "203.0.113.5")
        codes.append(refused.value.status)
    assert codes == [401] * 3 + [429] * 47
    assert len(verifier.limiter._failures["203.0.113.5"]) == 3
    with pytest.raises(ApiError) as elsewhere:
        verifier.authenticate("rbc_" + "q" * 43, "203.0.113.6")
    assert elsewhere.value.status == 401
    store.close()


# ---- token expiry --------------------------------------------------------------------------------
def _expire(store: Store, name: str) -> None:
    from sqlalchemy import update

    from robocore.store.models import api_tokens

    with store.engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.name == name)
                     .values(expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)))


def test_token_created_with_expiry_is_refused_once_expired(lone_app: tuple[TestClient, Store]) -> None:
    """POST /tokens with expires_in_days answers the expiry and `Cache-Control: no-store` / `Pragma: no-cache`;
    the list shows it; once past, the token (even verified a moment before) is 401, logged as "expired"."""
    client, store = lone_app
    admin = bearer(create_token(store, "adm", "admin"))
    before = dt.datetime.now(dt.UTC)
    response = client.post("/api/v1/tokens", json={"name": "temporaire", "role": "agent", "expires_in_days": 30},
                           headers=admin)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    expires = dt.datetime.fromisoformat(response.json()["expires_at"].replace("Z", "+00:00"))
    assert dt.timedelta(days=30) <= expires - before < dt.timedelta(days=30, minutes=1)
    listed = {t["name"]: t for t in client.get("/api/v1/tokens", headers=admin).json()}
    assert listed["temporaire"]["expires_at"] == response.json()["expires_at"]
    assert listed["adm"]["expires_at"] is None
    token = bearer(response.json()["token"])
    assert client.get("/api/v1/me", headers=token).status_code == 200
    _expire(store, "temporaire")
    with structlog.testing.capture_logs() as logs:
        assert client.get("/api/v1/me", headers=token).status_code == 401
    assert [e["reason"] for e in logs if e["event"] == "api.auth_failed"] == ["expired"]
    for days in (0, 3651, "bientôt"):
        bad = client.post("/api/v1/tokens", json={"name": "x", "role": "agent", "expires_in_days": days},
                          headers=admin)
        assert bad.status_code == 422


def test_cli_creates_a_token_with_expiry_and_lists_it(robo_home: Path) -> None:
    """`robo tokens create --expires-in-days 7` stores an expiry 7 days ahead; `robo tokens list` shows it,
    and marks an expired token; a wrong duration is refused with our message."""
    from typer.testing import CliRunner

    from robocore.cli.app import app

    runner = CliRunner()
    created = runner.invoke(app, ["tokens", "create", "--name", "bientot", "--role", "agent",
                                  "--expires-in-days", "7"])
    assert created.exit_code == 0, created.output
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    found = store.token_by_name("bientot")
    assert found is not None and found.expires_at is not None
    ahead = found.expires_at - dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert dt.timedelta(days=6, hours=23) < ahead <= dt.timedelta(days=7)
    listed = runner.invoke(app, ["tokens", "list"], env={"COLUMNS": "200"})
    assert f"{found.expires_at:%Y-%m-%d %H:%M}" in listed.output and "Expire le" in listed.output
    _expire(store, "bientot")
    assert "(expiré)" in runner.invoke(app, ["tokens", "list"], env={"COLUMNS": "200"}).output
    wrong = runner.invoke(app, ["tokens", "create", "--name", "jamais", "--role", "agent", "--expires-in-days", "0"])
    assert wrong.exit_code == 1 and "durée de validité invalide" in wrong.output
    store.close()


# ---- forwarded headers: trusted proxies only -------------------------------------------------------
@pytest.mark.parametrize(("env", "args", "honoured"), [
    ({}, (), False),
    ({"ROBOCORE_FORWARDED_ALLOW_IPS": "127.0.0.1"}, (), True),
    ({"ROBOCORE_FORWARDED_ALLOW_IPS": "127.0.0.1"}, ("--forwarded-allow-ips", "10.9.9.9"), False),
], ids=["default-trusts-nobody", "setting-trusts-loopback", "option-overrides-setting"])
def test_forwarded_for_believed_only_from_configured_proxies(
        tmp_path: Path, env: dict[str, str], args: tuple[str, ...], honoured: bool) -> None:
    """`robo serve` with 30 bad tokens, each with another forged X-Forwarded-For, from loopback: by default
    (or when the option names another proxy) the header is ignored — 10 × 401 then 429, the access log and
    the failures record 127.0.0.1; with ROBOCORE_FORWARDED_ALLOW_IPS=127.0.0.1 each forged address is a
    client of its own (30 × 401) and is the one logged."""
    from tests.integration.test_server_limits import RoboServe

    (tmp_path / "home").mkdir()
    server = RoboServe(tmp_path, "serve", env=env, args=args)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            statuses = [client.get("/api/v1/robots", headers={**bearer(f"rbc_{n:043d}"),
                                                              "X-Forwarded-For": f"203.0.113.{n}"}).status_code
                        for n in range(30)]
    finally:
        server.stop()
    failed = {e["address"] for e in server.events("api.auth_failed")}
    logged = {e["client"] for e in server.events("http.request") if e["path"] == "/api/v1/robots"}
    if honoured:
        assert statuses == [401] * 30
        assert failed == logged == {f"203.0.113.{n}" for n in range(30)}
    else:
        assert statuses == [401] * 10 + [429] * 20
        assert failed == logged == {"127.0.0.1"}
    assert server.events("server.trusted_proxies")[0]["forwarded_allow_ips"] == (
        ["10.9.9.9"] if args else list(env.values()))


def test_serve_refuses_a_proxy_that_is_not_an_address(robo_home: Path) -> None:
    """`robo serve --forwarded-allow-ips proxy.local` stops at once with a usage error naming the option."""
    from typer.testing import CliRunner

    from robocore.cli.app import app

    result = CliRunner().invoke(app, ["serve", "--forwarded-allow-ips", "proxy.local", "--port", "1"])
    assert result.exit_code == 2 and "--forwarded-allow-ips" in result.output and "proxy.local" in result.output


def test_a_throttled_address_still_exhausts_the_lookup_it_guesses(robo_home: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An address already over its budget that keeps guessing one real token's secret gets 429, and its
    guesses still count against that lookup: argon2 runs at most `limit` times for it, then not at all."""
    from robocore.server.auth import Verifier
    from robocore.server.errors import ApiError

    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    real = create_token(store, "cible", "engineer")
    verifier = Verifier(store, failures_per_minute=5)
    for n in range(5):
        with pytest.raises(ApiError):
            verifier.authenticate(f"rbc_{n:043d}", "192.0.2.66")  # unknown lookups: the address is spent
    calls: list[str] = []
    original = verifier._argon2
    monkeypatch.setattr(verifier, "_argon2", lambda row, token: calls.append(token) or original(row, token))
    statuses = []
    for n in range(20):
        with pytest.raises(ApiError) as refused:
            verifier.authenticate(real[:16] + f"{n:02d}" + "G" * (len(real) - 18), "192.0.2.66")
        statuses.append(refused.value.status)
    assert statuses == [429] * 20 and len(calls) == 5
    # the real token, not verified in the last minute, waits for the window like the guesses: only someone
    # holding its first 16 characters (secret) can bring this about, and argon2 stays bounded
    with pytest.raises(ApiError) as waiting:
        verifier.authenticate(real, "198.51.100.1")
    assert waiting.value.status == 429 and len(calls) == 5
    store.close()


def test_expiry_and_token_pages_on_both_stores(store_url: str) -> None:
    """On SQLite and PostgreSQL: a token's expiry is stored and read back to the second, a token past it is
    refused as "expired" while one before it is accepted, and list_tokens pages by limit/offset."""
    from robocore.server.auth import Verifier
    from robocore.server.errors import ApiError

    store = Store(store_url)
    soon, later = create_token(store, "bientot", "agent", expires_in_days=1), create_token(store, "plus-tard",
                                                                                          "agent", expires_in_days=2)
    found = store.token_by_name("bientot")
    assert found is not None and found.expires_at is not None and found.expires_at.tzinfo is None
    _expire(store, "bientot")
    verifier = Verifier(store)
    with structlog.testing.capture_logs() as logs, pytest.raises(ApiError) as refused:
        verifier.authenticate(soon, "192.0.2.1")
    assert refused.value.status == 401 and [e["reason"] for e in logs] == ["expired"]
    assert verifier.authenticate(later, "192.0.2.1").name == "plus-tard"
    assert [t.name for t in store.list_tokens(limit=1, offset=1)] == ["plus-tard"]
    assert [t.name for t in store.list_tokens()] == ["bientot", "plus-tard"]
    store.close()
