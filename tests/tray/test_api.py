"""robocore.tray.api: token auth, timeouts, answers mapped to typed errors, events parsed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from robocore.tray.api import (
    InvalidInputs,
    Refused,
    ServerError,
    TrayClient,
    Unauthenticated,
    Unreachable,
    parse_events,
)
from robocore.tray.credentials import Token
from tests.tray.fake_server import TOKEN, FakeServer


def client(server: FakeServer, token: str = TOKEN) -> TrayClient:
    return TrayClient("http://robocore.test", Token(token), transport=server.transport)


def test_lists_robots_and_reads_inputs(server: FakeServer) -> None:
    """The robot list and a robot's detail with its inputs' definitions come back as sent."""
    api = client(server)
    assert [r["robot"] for r in api.robots()] == ["saisie-demandes", "relances"]
    assert api.robot("saisie-demandes")["inputs"]["classeur"]["accept"] == [".xlsx", ".ods"]


def test_every_call_has_a_timeout() -> None:
    """No call waits for ever: the client's default timeout is set for connect and read."""
    api = TrayClient("http://robocore.test", Token(TOKEN))
    timeout = api._http.timeout
    assert timeout.connect and timeout.read and timeout.read <= 60


def test_unreachable_server(server: FakeServer) -> None:
    """A refused connection is Unreachable, to retry, with a French message naming the server."""
    server.down = True
    with pytest.raises(Unreachable) as caught:
        client(server).robots()
    assert caught.value.retry and "http://robocore.test" in caught.value.message
    assert "injoignable" in caught.value.message


def test_bad_token_is_unauthenticated(server: FakeServer) -> None:
    """401 asks the agent to sign in again, quoting the server's message; the token is never in it."""
    with pytest.raises(Unauthenticated) as caught:
        client(server, "rbc_wrong").robots()
    assert "jeton d'API manquant" in caught.value.message and "rbc_wrong" not in caught.value.message
    assert "rbc_wrong" not in repr(client(server, "rbc_wrong"))


def test_robot_not_granted_is_refused(server: FakeServer) -> None:
    """403 is a clear refusal (not retried) with the server's French message."""
    with pytest.raises(Refused) as caught:
        client(server).robot("paie")
    assert caught.value.status == 403 and not caught.value.retry and caught.value.message == "interdit pour ce rôle"


def test_invalid_inputs_name_the_input(server: FakeServer) -> None:
    """422 invalid_inputs names the input from the server's message."""
    with pytest.raises(InvalidInputs) as caught:
        client(server).launch("saisie-demandes", {"portail": "x"}, {}, key="k1")
    assert caught.value.field == "portail" and "Adresse du portail" in caught.value.message


def test_server_error_is_retried(server: FakeServer) -> None:
    """503 is a ServerError the queue retries."""
    server.fail_with = 503
    with pytest.raises(ServerError) as caught:
        client(server).robots()
    assert caught.value.retry and caught.value.status == 503


def test_launch_sends_the_idempotency_key(server: FakeServer, tmp_path: Path) -> None:
    """A launch carries its key; with a file it is multipart; the same key gives the same run."""
    book = tmp_path / "demandes.xlsx"
    book.write_bytes(b"PK")
    api = client(server)
    first = api.launch("saisie-demandes", {"portail": "http://p"}, {"classeur": book}, key="key-1")
    again = api.launch("saisie-demandes", {"portail": "http://p"}, {"classeur": book}, key="key-1")
    assert first.id == again.id and again.replayed and not first.replayed
    assert [c["key"] for c in server.launch_calls] == ["key-1", "key-1"]
    assert server.launch_calls[0]["content_type"].startswith("multipart/form-data")


def test_conflict_with_run_id_counts_as_accepted() -> None:
    """A server answering 409 idempotency_key_reused with the run's id: the launch is a success."""
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"code": "idempotency_key_reused", "detail": "déjà accepté",
                                         "run_id": "r42", "status": "running"})
    api = TrayClient("http://robocore.test", Token(TOKEN), transport=httpx.MockTransport(handler))
    launched = api.launch("saisie-demandes", {}, {}, key="k")
    assert (launched.id, launched.status, launched.replayed) == ("r42", "running", True)


def test_parse_events() -> None:
    """Server-sent events: named events with JSON data, comments (keepalives) skipped."""
    lines = iter(["event: status", 'data: {"status": "running"}', "", ": keepalive", "",
                  "event: end", 'data: {"status": "succeeded"}', ""])
    assert list(parse_events(lines)) == [("status", {"status": "running"}), ("end", {"status": "succeeded"})]


@pytest.mark.parametrize(("detail", "field"), [
    ("entrée « Montant (euros) » (montant) : nombre attendu", "montant"),
    ("input “Amount (euros)” (montant): number expected", "montant"),
    ("entrée inconnue : classeur (entrées du robot : a)", None),
])
def test_input_name_taken_after_the_label(detail: str, field: str | None) -> None:
    """The input's name is the parenthesis after the quoted label, not one inside the label."""
    from robocore.tray.api import error_for
    response = httpx.Response(422, json={"code": "invalid_inputs", "detail": detail})
    error = error_for(response)
    assert isinstance(error, InvalidInputs) and error.field == field


def test_launch_sends_the_inputs_version_of_its_form(server: FakeServer) -> None:
    """The version the form was built from goes in X-Robocore-Inputs-Version; the robot's inputs changed since:
    a clear refusal (409 `inputs_changed`, with the server's reason), and no run."""
    api = client(server)
    version = api.robot("relances")["inputs_version"]
    api.launch("relances", {"jour": "2026-12-01"}, {}, key="k-1", inputs_version=version)
    assert server.launch_calls[-1]["inputs_version"] == version
    server.inputs_versions["relances"] = "v2"
    with pytest.raises(Refused) as caught:
        api.launch("relances", {"jour": "2026-12-01"}, {}, key="k-2", inputs_version=version)
    assert (caught.value.status, caught.value.code) == (409, "inputs_changed") and not caught.value.retry
    assert "rechargez le formulaire" in caught.value.message
    assert len(server.runs) == 1
    api.launch("relances", {"jour": "2026-12-01"}, {}, key="k-3")  # no version known: not sent
    assert server.launch_calls[-1]["inputs_version"] is None


def test_rejected_reads_only_the_rejected_items_it_shows(server: FakeServer) -> None:
    """The end notification's rejected items come from the server's `status` filter, `most` of them: the
    run's other items are never read."""
    api = client(server)
    run_id = api.launch("relances", {"jour": "2026-12-01"}, {}, key="k").id
    server.runs[run_id]["items"] = (
        [{"key": f"L{n}", "status": "done", "error": None} for n in range(500)]
        + [{"key": f"R{n}", "status": "business_error", "error": f"SIRET {n} absent\nTraceback…"} for n in range(5)])
    assert api.rejected(run_id, most=2) == [("R0", "SIRET 0 absent"), ("R1", "SIRET 1 absent")]
    asked = [params for method, path, params in server.requests if path.endswith("/items")]
    assert asked == [{"status": "business_error", "limit": "2"}]


@pytest.mark.parametrize(("role", "shown"), [("agent", False), ("manager", True), ("engineer", True)])
def test_the_dashboard_is_probed_once_and_never_for_an_agent(server: FakeServer, role: str, shown: bool) -> None:
    """`has_dashboard` asks who the token is once (`/me`): an agent may not open the dashboard, so its page is
    never requested for her (the server would log a refusal each time); another role's page is asked once."""
    server.role = role
    api = client(server)
    assert [api.has_dashboard() for _ in range(3)] == [shown] * 3
    paths = [path for _method, path, _params in server.requests]
    assert paths.count("/api/v1/me") == 1
    assert paths.count("/") == (1 if shown else 0)


def test_the_dashboard_probe_of_a_server_without_me_is_no(server: FakeServer) -> None:
    """A server that does not answer `/me` (404) has no dashboard for the tray; unreachable: asked again later."""
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "not_found", "detail": "introuvable"})
    api = TrayClient("http://robocore.test", Token(TOKEN), transport=httpx.MockTransport(handler))
    assert api.has_dashboard() is False
    server.down = True
    down = client(server)
    with pytest.raises(Unreachable):
        down.has_dashboard()
    server.down, server.role = False, "manager"
    assert down.has_dashboard() is True
