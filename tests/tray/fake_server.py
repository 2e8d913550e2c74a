"""A small fake of the Robocore API the tray talks to, as an httpx transport (no socket, no thread).

It honours `Idempotency-Key` the way the real server does (issue 12, server side): a key already accepted
answers 201 with the same run and `Idempotent-Replayed: true`; `X-Robocore-Inputs-Version` other than the
robot's `inputs_version` now is 409 `inputs_changed`; a run's items filter on `status` and `limit`. Every
request is kept in `requests` (method, path, query), so a test sees what the tray asked.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

TOKEN = "rbc_agent_secret"
ROBOTS: dict[str, dict[str, Any]] = {
    "saisie-demandes": {
        "robot": "saisie-demandes", "title": "Saisie des demandes de subvention", "version": 3,
        "process": "Subventions", "service": "ddets31",
        "inputs": {
            "classeur": {"type": "file", "label": "Classeur des demandes", "help": None, "required": True,
                         "default": None, "choices": None, "accept": [".xlsx", ".ods"]},
            "portail": {"type": "url", "label": "Adresse du portail", "help": None, "required": True,
                        "default": "http://127.0.0.1:8765", "choices": None, "accept": None},
        },
    },
    "relances": {
        "robot": "relances", "title": "Relances des dossiers", "version": 1, "process": "Subventions",
        "service": "ddets31",
        "inputs": {"jour": {"type": "date", "label": "Jour", "help": None, "required": True, "default": None,
                            "choices": None, "accept": None}},
    },
}


class FakeServer:
    """State of the fake: runs by id, keys seen, and switches to make it unreachable or failing."""

    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.launch_calls: list[dict[str, Any]] = []
        self.reports: dict[str, dict[str, Any]] = {}  # attended runs reported, by idempotency key
        self.report_calls: list[str] = []  # the key of every POST /attended-runs received
        self.down = False
        self.finish_at_once: dict[str, Any] | None = None  # a new run is already final with these fields
        self.fail_with: int | None = None
        self.role = "agent"  # what GET /api/v1/me answers
        self.inputs_versions = {name: f"v{robot['version']}" for name, robot in ROBOTS.items()}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.transport = httpx.MockTransport(self.handle)

    def detail(self, robot: str) -> dict[str, Any]:
        return dict(ROBOTS[robot], inputs_version=self.inputs_versions[robot])

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path, dict(request.url.params)))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, "unauthenticated", "jeton d'API manquant ou invalide")
        if self.fail_with:
            return _error(self.fail_with, "unavailable", "service indisponible")
        path, method = request.url.path, request.method
        if path == "/api/v1/robots" and method == "GET":
            return httpx.Response(200, json=[{k: v for k, v in r.items() if k != "inputs"} for r in ROBOTS.values()])
        found = re.fullmatch(r"/api/v1/robots/([^/]+)(/runs)?", path)
        if found and found.group(1) not in ROBOTS:
            return _error(403, "forbidden", "interdit pour ce rôle")
        if found and not found.group(2):
            return httpx.Response(200, json=self.detail(found.group(1)))
        if found and method == "POST":
            return self.launch(request, found.group(1))
        found = re.fullmatch(r"/api/v1/runs/([^/]+)/items", path)
        if found and found.group(1) in self.runs:
            items = self.runs[found.group(1)].get("items", [])
            wanted = request.url.params.get("status")
            items = [i for i in items if wanted is None or i.get("status") == wanted]
            return httpx.Response(200, json=items[:int(request.url.params.get("limit", 1000))])
        found = re.fullmatch(r"/api/v1/runs/([^/]+)/events", path)
        if found and found.group(1) in self.runs:
            return self.events(found.group(1))
        found = re.fullmatch(r"/api/v1/runs/([^/]+)", path)
        if found and found.group(1) in self.runs:
            return httpx.Response(200, json=self.runs[found.group(1)])
        if path == "/api/v1/runs":
            return httpx.Response(200, json=list(self.runs.values()))
        if path == "/api/v1/attended-runs" and method == "POST":
            return self.report(request)
        if path == "/api/v1/me":
            return httpx.Response(200, json={"name": "agent-dupont", "role": self.role, "groups": [], "auth": "token"})
        if path == "/" and method == "GET":  # the dashboard: managers, engineers and admins only
            allowed = self.role != "agent"
            return httpx.Response(200 if allowed else 403, text="<h1>Tableau de bord</h1>" if allowed else "interdit")
        return _error(404, "not_found", "introuvable")

    def events(self, run_id: str) -> httpx.Response:
        """The run as it is now: one `status` event, then `end` when it is final (as the real stream ends)."""
        run = self.runs[run_id]
        snap = {k: run[k] for k in ("id", "status", "counts", "error")}
        text = f"event: status\ndata: {json.dumps(snap)}\n\n: keepalive\n\n"
        if run["status"] in {"succeeded", "completed_with_errors", "failed", "cancelled"}:
            text += f"event: end\ndata: {json.dumps(snap)}\n\n"
        return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})

    def launch(self, request: httpx.Request, robot: str) -> httpx.Response:
        key = request.headers.get("Idempotency-Key", "")
        version = request.headers.get("X-Robocore-Inputs-Version")
        self.launch_calls.append({"robot": robot, "key": key, "content_type": request.headers.get("content-type"),
                                  "inputs_version": version})
        if key in self.keys:
            run_id = self.keys[key]
            return httpx.Response(201, json=_launched(run_id, robot), headers={"Idempotent-Replayed": "true"})
        if version is not None and version != self.inputs_versions[robot]:
            return _error(409, "inputs_changed", f"les entrées du robot « {robot} » ont changé depuis le chargement "
                                                 "du formulaire\u00a0: rechargez le formulaire et relancez")
        if request.headers.get("content-type", "").startswith("application/json"):
            inputs = json.loads(request.content).get("inputs", {})
            if "portail" in inputs and not str(inputs["portail"]).startswith("http"):
                return _error(422, "invalid_inputs",
                              "entrée « Adresse du portail » (portail) : URL http(s) attendue, reçu 'x'")
        run_id = f"r{len(self.runs) + 1}"
        self.keys[key] = run_id
        self.runs[run_id] = {"id": run_id, "robot": robot, "status": "queued", "started_at": "2026-12-01T09:00:00Z",
                             "error": None, "counts": {}, "minutes_saved": 0.0}
        self.runs[run_id].update(self.finish_at_once or {})
        return httpx.Response(201, json=_launched(run_id, robot))


    def report(self, request: httpx.Request) -> httpx.Response:
        """An attended run reported: recorded once per key (a replay answers the same run)."""
        key = request.headers.get("Idempotency-Key", "")
        self.report_calls.append(key)
        if not key:
            return _error(400, "idempotency_key_required", "en-tête Idempotency-Key obligatoire")
        body = json.loads(request.content)
        if body.get("robot") not in ROBOTS and not body.get("robot", "").startswith("petit"):
            return _error(403, "forbidden", "interdit pour ce rôle")
        if key in self.reports:
            return httpx.Response(201, json=self.reports[key]["answer"], headers={"Idempotent-Replayed": "true"})
        answer = {"id": f"a{len(self.reports) + 1}", "robot": body["robot"], "status": body["status"],
                  "url": f"/api/v1/runs/a{len(self.reports) + 1}", "minutes_saved": body.get("minutes_saved", 0),
                  "supervision_minutes": body["supervision_minutes"],
                  "net_minutes": body.get("minutes_saved", 0) - body["supervision_minutes"]}
        self.reports[key] = {"body": body, "answer": answer}
        return httpx.Response(201, json=answer)


def _launched(run_id: str, robot: str) -> dict[str, Any]:
    return {"id": run_id, "robot": robot, "status": "queued", "url": f"/api/v1/runs/{run_id}"}


def _error(status: int, code: str, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "detail": detail, "erreur": detail, "error": detail})
