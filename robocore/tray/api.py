"""The tray's HTTP client: token auth, a timeout on every call, server answers mapped to typed errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from robocore.i18n import gettext as _
from robocore.tray.credentials import Token

API = "/api/v1"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
# the server sends a keepalive every 15 s: a stream silent for longer is a lost server
EVENTS_TIMEOUT = httpx.Timeout(10.0, connect=5.0, read=40.0)
IDEMPOTENCY_HEADER = "Idempotency-Key"
INPUTS_VERSION_HEADER = "X-Robocore-Inputs-Version"
INPUTS_CHANGED = "inputs_changed"  # 409 code: the robot's inputs changed since the form was built
DASHBOARD_ROLES = frozenset({"manager", "engineer", "admin"})  # who may open the dashboard's pages
# 409 codes meaning "this key already launched run `run_id`" (the server's side of issue 12, proposed)
REPLAY_CODES = frozenset({"idempotency_key_reused", "already_accepted"})
# robocore.inputs' messages: `entrée « Libellé » (nom) : …` / `input “Label” (name): …`; the closing quote
# first, so that a label holding "(euros)" is not taken for the name
_INPUT_NAME = re.compile(r"[»”\"']\s*\(([a-z0-9_][a-z0-9_-]*)\)")
_ANY_NAME = re.compile(r"\(([a-z0-9_][a-z0-9_-]*)\)")


class TrayApiError(Exception):
    """The server did not accept a call; `message` is shown to the agent (French by default)."""

    retry = False  # True: the same call may succeed later unchanged (keep a queued launch)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(TrayApiError):
    """No answer: connection refused, DNS, timeout, connection cut."""

    retry = True


class Unauthenticated(TrayApiError):
    """401: the token is missing, expired or revoked; the agent must sign in again (queued launches wait)."""

    retry = True


class Refused(TrayApiError):
    """403, 404 and the other clear refusals: the server answered and will answer the same again."""

    def __init__(self, message: str, status: int, code: str = "", body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.body = status, code, body or {}


class InvalidInputs(Refused):
    """422 `invalid_inputs`: the inputs do not match the robot's declaration; `field` names the input."""

    def __init__(self, message: str, field: str | None, status: int = 422, code: str = "invalid_inputs") -> None:
        super().__init__(message, status, code)
        self.field = field


class ServerError(TrayApiError):
    """5xx or 429: the server is there but cannot take the call now."""

    retry = True

    def __init__(self, message: str, status: int, code: str = "") -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class Launched:
    """A launch the server accepted (now, or earlier for the same idempotency key)."""

    id: str
    robot: str
    status: str
    url: str
    replayed: bool = False


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_for(response: httpx.Response) -> TrayApiError:
    """The typed error of a refused answer, with the server's message (in the language asked for)."""
    data = _body(response)
    status, code = response.status_code, str(data.get("code", ""))
    detail = str(data.get("detail") or data.get("erreur") or response.reason_phrase or status)
    if status == 401:
        return Unauthenticated(_("The server refused the token: {detail}. Sign in again.", detail=detail))
    if status == 422 and code == "invalid_inputs":
        found = _INPUT_NAME.search(detail) or _ANY_NAME.search(detail)
        return InvalidInputs(detail, found.group(1) if found else None)
    if status == 422 and isinstance(data.get("fields"), list) and data["fields"]:
        field = str(data["fields"][0].get("champ", "")).rsplit(".", 1)[-1] or None
        return InvalidInputs(detail, field, code=code)
    if status == 429 or status >= 500:
        return ServerError(_("The server cannot answer now ({status}): {detail}", status=status, detail=detail),
                           status, code)
    return Refused(detail, status, code, data)


class Backend(Protocol):
    """What the tray asks of where its robots run: a server (`TrayClient`) or this computer
    (`robocore.tray.local.LocalClient`, attended mode)."""

    server: str

    def close(self) -> None: ...
    def robots(self) -> list[dict[str, Any]]: ...
    def robot(self, name: str) -> dict[str, Any]: ...
    def runs(self, robot: str | None = None, limit: int = 100) -> list[dict[str, Any]]: ...
    def run(self, run_id: str) -> dict[str, Any]: ...
    def rejected(self, run_id: str, most: int = 3) -> list[tuple[str, str]]: ...
    def cancel(self, run_id: str) -> dict[str, Any]: ...
    def launch(self, robot: str, inputs: Mapping[str, Any], files: Mapping[str, Path], key: str,
               inputs_version: str | None = None) -> Launched: ...
    def events(self, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]: ...
    def savings(self) -> dict[str, Any]: ...
    def propose(self, task: str, frequency: str, minutes_by_hand: float) -> dict[str, Any]: ...
    def has_dashboard(self) -> bool: ...


class TrayClient:
    """The calls the tray makes to a Robocore server with an agent's token.

    Args:
        server: the server's base URL (`https://robocore.example`).
        transport: an httpx transport (tests: a fake server in the same process).
        lang: the language of the server's messages (Accept-Language).
    """

    def __init__(self, server: str, token: Token, *, lang: str = "fr",
                 transport: httpx.BaseTransport | None = None) -> None:
        self.server = server.rstrip("/")
        self._http = httpx.Client(base_url=self.server, timeout=TIMEOUT, transport=transport,
                                  headers={"Authorization": f"Bearer {token.secret}", "Accept-Language": lang,
                                           "User-Agent": "robocore-tray"})
        self._dashboard: bool | None = None  # has_dashboard's answer, once known

    def __repr__(self) -> str:  # never the token
        return f"TrayClient({self.server!r})"

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, API + path, **kwargs)
        except httpx.TimeoutException:
            raise Unreachable(_("The server {server} did not answer in time.", server=self.server)) from None
        except httpx.TransportError:
            raise Unreachable(_("The server {server} cannot be reached.", server=self.server)) from None
        if response.status_code >= 400:
            raise error_for(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, path, **kwargs).json()

    def me(self) -> dict[str, Any]:
        """Who the token is: name, role, groups."""
        return dict(self._json("GET", "/me"))

    def robots(self) -> list[dict[str, Any]]:
        """The robots granted to the agent (name, title, process...)."""
        return list(self._json("GET", "/robots", params={"limit": 500}))

    def robot(self, name: str) -> dict[str, Any]:
        """A robot's detail with its inputs' definitions."""
        return dict(self._json("GET", f"/robots/{name}"))

    def runs(self, robot: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The agent's own runs, most recent first."""
        params: dict[str, Any] = {"limit": limit}
        if robot:
            params["robot"] = robot
        return list(self._json("GET", "/runs", params=params))

    def run(self, run_id: str) -> dict[str, Any]:
        """A run's status, item counts and minutes saved."""
        return dict(self._json("GET", f"/runs/{run_id}"))

    def rejected(self, run_id: str, most: int = 3) -> list[tuple[str, str]]:
        """The first `most` items the run rejected (business errors): key and the first line of the reason.

        Only those `most` items are read (the server's `status` filter on a run's items), at the run's end.
        """
        items = self._json("GET", f"/runs/{run_id}/items", params={"status": "business_error", "limit": most})
        return [(str(i.get("key")), (str(i.get("error") or "").strip().splitlines() or [""])[0][:120])
                for i in items if i.get("status") == "business_error"][:most]

    def cancel(self, run_id: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/runs/{run_id}/cancel"))

    def launch(self, robot: str, inputs: Mapping[str, Any], files: Mapping[str, Path], key: str,
               inputs_version: str | None = None) -> Launched:
        """Launch `robot` once for `key`: JSON without files, multipart with them.

        A replay of a key the server already accepted answers the same run (201/200), or 409
        `idempotency_key_reused` with its `run_id`: both are success here. `inputs_version` (the robot
        detail's, that the form was built from) is sent in X-Robocore-Inputs-Version: if the robot's inputs
        changed since, the server refuses the launch (Refused 409 `inputs_changed`, with its reason).
        """
        headers = {IDEMPOTENCY_HEADER: key}
        if inputs_version:
            headers[INPUTS_VERSION_HEADER] = inputs_version
        try:
            if files:
                response = self._upload(robot, inputs, files, headers)
            else:
                response = self._call("POST", f"/robots/{robot}/runs", json={"inputs": dict(inputs)},
                                      headers=headers)
        except Refused as exc:
            if exc.status == 409 and exc.code in REPLAY_CODES and exc.body.get("run_id"):
                run_id = str(exc.body["run_id"])
                return Launched(run_id, robot, str(exc.body.get("status", "queued")), f"{API}/runs/{run_id}", True)
            raise
        data = response.json()
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Launched(str(data["id"]), str(data.get("robot", robot)), str(data.get("status", "queued")),
                        str(data.get("url", f"{API}/runs/{data['id']}")), replayed)

    def _upload(self, robot: str, inputs: Mapping[str, Any], files: Mapping[str, Path],
                headers: dict[str, str]) -> httpx.Response:
        with ExitStack() as stack:
            parts = {}
            for name, path in files.items():
                try:
                    parts[name] = (path.name, stack.enter_context(path.open("rb")))
                except OSError as exc:
                    raise Refused(_("file '{path}' cannot be read: {reason}", path=str(path),
                                    reason=exc.strerror or str(exc)), 0, "file_unreadable") from None
            data = {name: _form_value(value) for name, value in inputs.items() if value is not None}
            return self._call("POST", f"/robots/{robot}/runs", data=data, files=parts, headers=headers,
                              timeout=UPLOAD_TIMEOUT)

    def events(self, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The run's server-sent events (`status`, then `end`), as (event name, data)."""
        try:
            with self._http.stream("GET", f"{API}/runs/{run_id}/events", timeout=EVENTS_TIMEOUT) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_for(response)
                yield from parse_events(response.iter_lines())
        except httpx.TimeoutException:
            raise Unreachable(_("The server {server} did not answer in time.", server=self.server)) from None
        except httpx.TransportError:
            raise Unreachable(_("The server {server} cannot be reached.", server=self.server)) from None

    def savings(self) -> dict[str, Any]:
        """The agent's hours saved this week, month and year (`GET /me/savings`, not on every server)."""
        return dict(self._json("GET", "/me/savings"))

    def report_attended(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
        """Report a run attended on this computer (`POST /attended-runs`), once for `key`: a replay answers the
        run the server recorded for it."""
        return dict(self._json("POST", "/attended-runs", json=payload, headers={IDEMPOTENCY_HEADER: key}))

    def propose(self, task: str, frequency: str, minutes_by_hand: float) -> dict[str, Any]:
        """An automation idea (`POST /ideas`, not on every server)."""
        return dict(self._json("POST", "/ideas", json={"task": task, "frequency": frequency,
                                                       "minutes_by_hand": minutes_by_hand}))

    def has_dashboard(self) -> bool:
        """Whether the caller may open the server's dashboard: asked once per client (the answer is kept).

        Who the token is comes from `GET /me`: an agent may not open the dashboard's pages, so the page is
        never requested for her (each request would be a 403 logged `page.forbidden` on the server). For the
        other roles, the dashboard's page is asked once (a server without it answers 404).
        An unreachable server raises Unreachable (asked again at the next refresh).
        """
        if self._dashboard is None:
            try:
                role = str(self.me().get("role", ""))
            except Refused:  # a server without `/me`: no dashboard either
                role = ""
            self._dashboard = role in DASHBOARD_ROLES and self._serves_dashboard()
        return self._dashboard

    def _serves_dashboard(self) -> bool:
        try:
            response = self._http.get("/", timeout=TIMEOUT)
        except httpx.TimeoutException:
            raise Unreachable(_("The server {server} did not answer in time.", server=self.server)) from None
        except httpx.TransportError:
            raise Unreachable(_("The server {server} cannot be reached.", server=self.server)) from None
        return response.status_code < 400


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Server-sent events from text lines: `event:` and `data:` fields, a blank line ends one; comments skipped."""
    name, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                try:
                    payload = json.loads("\n".join(data))
                except ValueError:
                    payload = {}
                yield name, payload if isinstance(payload, dict) else {}
            name, data = "message", list[str]()
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
