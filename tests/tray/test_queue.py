"""robocore.tray.queue: launches kept in SQLite until the server answers, each sent once per key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from robocore.tray.api import TrayClient
from robocore.tray.credentials import Token
from robocore.tray.queue import LaunchQueue, LaunchState, default_path
from tests.tray.fake_server import TOKEN, FakeServer


def client(server: FakeServer) -> TrayClient:
    return TrayClient("http://robocore.test", Token(TOKEN), transport=server.transport)


def test_default_path_under_user_data_dir(tray_dirs: Path) -> None:
    """The queue lives in platformdirs' user data folder for "robocore", in WAL mode."""
    queue = LaunchQueue()
    assert queue.path == default_path() and str(queue.path).startswith(str(tray_dirs / "data"))
    mode = sqlite3.connect(queue.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_offline_launch_is_kept_then_sent_once(server: FakeServer, tmp_path: Path) -> None:
    """Made while the server is down, a launch stays pending (attempts counted, error kept) and is sent
    when the server is back: one run, never twice, even if flushed again."""
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    api = client(server)
    server.down = True
    queued = queue.add("saisie-demandes", {"portail": "http://p"}, {})
    outcomes = queue.flush(api)
    assert outcomes[0].launch.state is LaunchState.PENDING and outcomes[0].launch.attempts == 1
    assert "injoignable" in (outcomes[0].launch.last_error or "")
    server.down = False
    outcomes = queue.flush(api)
    assert outcomes[0].launch.state is LaunchState.SENT and outcomes[0].launch.run_id == "r1"
    assert queue.flush(api) == [] and len(server.runs) == 1
    assert queue.get(queued.key) is not None  # kept, with its answer


def test_survives_a_restart(server: FakeServer, tmp_path: Path) -> None:
    """A pending launch is still there for a new process (a new LaunchQueue on the same file)."""
    path = tmp_path / "q.sqlite3"
    key = LaunchQueue(path).add("relances", {"jour": "2026-12-01"}, {}).key
    reopened = LaunchQueue(path)
    assert [q.key for q in reopened.pending()] == [key]
    assert reopened.pending()[0].inputs == {"jour": "2026-12-01"}


def test_crash_between_send_and_mark(server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server accepted the launch but the tray died before marking it: the same key is sent again,
    the server answers with the same run, and the launch is marked sent — one run in all."""
    path = tmp_path / "q.sqlite3"
    queue = LaunchQueue(path)
    queued = queue.add("saisie-demandes", {"portail": "http://p"}, {})

    def crash(key: str, run_id: str) -> None:
        raise SystemExit("killed")
    monkeypatch.setattr(queue, "mark_sent", crash)
    with pytest.raises(SystemExit):
        queue.flush(client(server))
    assert len(server.runs) == 1 and LaunchQueue(path).get(queued.key).state is LaunchState.PENDING  # type: ignore[union-attr]
    after = LaunchQueue(path).flush(client(server))
    assert after[0].launch.state is LaunchState.SENT and after[0].launch.run_id == "r1"
    assert [c["key"] for c in server.launch_calls] == [queued.key, queued.key] and len(server.runs) == 1


def test_clear_refusal_is_kept_with_its_reason(server: FakeServer, tmp_path: Path) -> None:
    """422 (inputs refused) marks the launch refused with the server's reason; it is not sent again."""
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    queue.add("saisie-demandes", {"portail": "x"}, {})
    outcome = queue.flush(client(server))[0]
    assert outcome.launch.state is LaunchState.REFUSED and "portail" in (outcome.launch.last_error or "")
    assert queue.pending() == [] and queue.flush(client(server)) == []


def test_expired_token_keeps_the_launch(server: FakeServer, tmp_path: Path) -> None:
    """401: the launch waits for the agent to sign in again (not refused, not lost)."""
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    queue.add("relances", {"jour": "2026-12-01"}, {})
    bad = TrayClient("http://robocore.test", Token("rbc_expired"), transport=server.transport)
    assert queue.flush(bad)[0].launch.state is LaunchState.PENDING
    assert queue.flush(client(server))[0].launch.state is LaunchState.SENT


def test_order_and_stop_at_first_unanswered(server: FakeServer, tmp_path: Path) -> None:
    """Pending launches go oldest first; the flush stops at the first one without an answer."""
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    keys = [queue.add("relances", {"jour": f"2026-12-0{i}"}, {}).key for i in (1, 2, 3)]
    server.fail_with = 503
    assert len(queue.flush(client(server))) == 1
    server.fail_with = None
    assert [o.launch.key for o in queue.flush(client(server))] == keys
    assert [r["id"] for r in server.runs.values()] == ["r1", "r2", "r3"]


def test_missing_file_is_refused_locally(server: FakeServer, tmp_path: Path) -> None:
    """A queued file deleted before the send: refused with the path named, nothing sent."""
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    queue.add("saisie-demandes", {"portail": "http://p"}, {"classeur": tmp_path / "parti.xlsx"})
    outcome = queue.flush(client(server))[0]
    assert outcome.launch.state is LaunchState.REFUSED and "parti.xlsx" in (outcome.launch.last_error or "")
    assert server.launch_calls == []


def test_send_of_an_answered_launch_sends_nothing(server: FakeServer, tmp_path: Path) -> None:
    """A launch a flush already sent is not sent again by a late `send` (the dialog's own attempt)."""
    queue = LaunchQueue(tmp_path / "q.sqlite3")
    queued = queue.add("relances", {"jour": "2026-12-01"}, {})
    queue.flush(client(server))
    outcome = queue.send(client(server), queued)
    assert outcome.launch.state is LaunchState.SENT and len(server.launch_calls) == 1


def test_the_inputs_version_is_kept_and_sent_with_the_launch(server: FakeServer, tmp_path: Path) -> None:
    """A launch keeps the version of the form it was made from, through a restart, and sends it: when the
    robot's inputs changed meanwhile (a launch kept offline), the server's refusal marks it refused."""
    path = tmp_path / "q.sqlite3"
    kept = LaunchQueue(path).add("relances", {"jour": "2026-12-01"}, {}, inputs_version="v1")
    server.inputs_versions["relances"] = "v2"
    outcome = LaunchQueue(path).flush(client(server))[0]
    assert outcome.launch.inputs_version == "v1" and server.launch_calls[0]["inputs_version"] == "v1"
    assert outcome.launch.state is LaunchState.REFUSED and "rechargez le formulaire" in (outcome.launch.last_error
                                                                                        or "")
    assert server.runs == {} and LaunchQueue(path).get(kept.key).inputs_version == "v1"  # type: ignore[union-attr]


def test_a_queue_file_of_an_earlier_tray_is_opened_and_completed(server: FakeServer, tmp_path: Path) -> None:
    """A queue written before launches kept their inputs version: its pending launch is still sent (without a
    version), and new launches keep theirs."""
    path = tmp_path / "q.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE launches (key TEXT PRIMARY KEY, robot TEXT NOT NULL, inputs TEXT NOT NULL, "
                   "files TEXT NOT NULL, created TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                   "last_error TEXT, state TEXT NOT NULL DEFAULT 'pending', run_id TEXT)")
        db.execute("INSERT INTO launches (key, robot, inputs, files, created) VALUES "
                   "('old', 'relances', '{\"jour\": \"2026-12-01\"}', '{}', '2026-11-30T08:00:00+00:00')")
    db.close()
    queue = LaunchQueue(path)
    [old] = queue.pending()
    assert (old.key, old.inputs_version) == ("old", None)
    assert queue.add("relances", {"jour": "2026-12-02"}, {}, inputs_version="v1").inputs_version == "v1"
    assert [o.launch.state for o in queue.flush(client(server))] == [LaunchState.SENT, LaunchState.SENT]
    assert [c["inputs_version"] for c in server.launch_calls] == [None, "v1"]
