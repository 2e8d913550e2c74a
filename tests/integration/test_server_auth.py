"""Each role against each API endpoint: allowed, or 403 (logged); 401 without a token; 429 on guessing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    ("GET", "/api/v1/reports/hours-saved?by=month", {"manager", "admin"}),
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
    """Ten failed authentications in a minute from one address: the next attempts get 429, valid or not."""
    client, store = lone_app
    good = create_token(store, "eng", "engineer")
    wrong = [good[:-4] + "AAAA", "rbc_" + "x" * 43, "n'importe quoi", good + "x"]
    for n in range(10):
        response = client.get("/api/v1/robots", headers=bearer(wrong[n % len(wrong)]))
        assert response.status_code == 401, response.text
    limited = client.get("/api/v1/robots", headers=bearer(wrong[0]))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "Trop de tentatives" in limited.json()["detail"]
    assert client.get("/api/v1/robots", headers=bearer(good)).status_code == 429


def test_revoked_token_refused_at_once_though_cached(lone_app: tuple[TestClient, Store]) -> None:
    """A token whose verification is cached is refused right after its revocation (CLI or API)."""
    client, store = lone_app
    admin, agent = create_token(store, "adm", "admin"), create_token(store, "agt", "agent")
    assert client.get("/api/v1/me", headers=bearer(agent)).json() == {"name": "agt", "role": "agent", "groups": []}
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
