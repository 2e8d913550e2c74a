"""The durable queue of launches: kept in SQLite until the server answers, each sent with its own key.

A launch is written here *before* it is sent (state `pending`, a UUID idempotency key made when
the agent clicked "Lancer"). It leaves `pending` only on an answer: `sent` (accepted, now or
earlier for the same key) or `refused` (a clear refusal). Unreachable server, 5xx, 429 or an
expired token keep it `pending`; a crash between the answer and the mark sends the same key
again, and the server answers with the same run. Nothing is deleted before an answer.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from robocore.tray.api import Launched, TrayApiError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS launches (
    key TEXT PRIMARY KEY,
    robot TEXT NOT NULL,
    inputs TEXT NOT NULL,
    files TEXT NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    run_id TEXT,
    inputs_version TEXT
)
"""
# columns added since the first version of the file: (name, declaration), added to an older file at open
_ADDED = (("inputs_version", "TEXT"),)
_COLUMNS = "key, robot, inputs, files, created, attempts, last_error, state, run_id, inputs_version"


class LaunchState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    REFUSED = "refused"


@dataclass(frozen=True)
class QueuedLaunch:
    """One launch as kept on disk."""

    key: str
    robot: str
    inputs: dict[str, Any]
    files: dict[str, str]
    created: dt.datetime
    attempts: int
    last_error: str | None
    state: LaunchState
    run_id: str | None
    inputs_version: str | None = None  # the robot's `inputs_version` the launch form was built from


@dataclass(frozen=True)
class Outcome:
    """What one send attempt gave: the launch as now stored, and the error when not accepted."""

    launch: QueuedLaunch
    error: TrayApiError | None = None


class Launcher(Protocol):
    def launch(self, robot: str, inputs: dict[str, Any], files: dict[str, Path], key: str,
               inputs_version: str | None = None) -> Launched: ...


def default_path() -> Path:
    """`<user data dir>/robocore/tray-queue.sqlite3` (platformdirs: Linux, Windows and macOS alike)."""
    return platformdirs.user_data_path("robocore", appauthor=False) / "tray-queue.sqlite3"


def new_key() -> str:
    """An idempotency key, made when the agent clicks "Lancer"."""
    return str(uuid.uuid4())


class LaunchQueue:
    """Launches waiting for the server's answer, in a SQLite file (WAL, one connection per operation)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sending = threading.RLock()  # one send at a time in this process (a flush holds it throughout)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(launches)")}
            for name, declaration in _ADDED:
                if name not in present:  # a queue file written by an earlier tray
                    db.execute(f"ALTER TABLE launches ADD COLUMN {name} {declaration}")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10.0)
        try:
            db.execute("PRAGMA synchronous=FULL")  # a launch the agent made survives a power cut
            with db:
                yield db
        finally:
            db.close()

    def add(self, robot: str, inputs: dict[str, Any], files: dict[str, Path], key: str | None = None,
            inputs_version: str | None = None) -> QueuedLaunch:
        """Keep a launch (before it is sent); `key` defaults to a new UUID; `inputs_version`: the robot's inputs
        the form was built from (sent with the launch: the server refuses it if they changed meanwhile)."""
        key = key or new_key()
        created = dt.datetime.now(dt.UTC).isoformat()
        with self._db() as db:
            db.execute("INSERT INTO launches (key, robot, inputs, files, created, inputs_version) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       (key, robot, json.dumps(inputs, default=str), json.dumps({k: str(v) for k, v in files.items()}),
                        created, inputs_version))
        found = self.get(key)
        assert found is not None
        return found

    def get(self, key: str) -> QueuedLaunch | None:
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM launches WHERE key = ?", (key,)).fetchone()
        return _launch(row) if row else None

    def pending(self) -> list[QueuedLaunch]:
        """The launches still waiting for an answer, oldest first."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM launches WHERE state = 'pending' "
                              "ORDER BY created, rowid").fetchall()
        return [_launch(row) for row in rows]

    def all(self) -> list[QueuedLaunch]:
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM launches ORDER BY created, rowid").fetchall()
        return [_launch(row) for row in rows]

    def mark_sent(self, key: str, run_id: str) -> None:
        self._set(key, LaunchState.SENT, None, run_id)

    def mark_refused(self, key: str, error: str) -> None:
        self._set(key, LaunchState.REFUSED, error, None)

    def note_failure(self, key: str, error: str) -> None:
        """An attempt without an answer: the launch stays pending."""
        with self._db() as db:
            db.execute("UPDATE launches SET last_error = ? WHERE key = ?", (error, key))

    def _set(self, key: str, state: LaunchState, error: str | None, run_id: str | None) -> None:
        with self._db() as db:
            db.execute("UPDATE launches SET state = ?, last_error = ?, run_id = ? WHERE key = ? AND state = 'pending'",
                       (state.value, error, run_id, key))

    def _count_attempt(self, key: str) -> None:
        with self._db() as db:
            db.execute("UPDATE launches SET attempts = attempts + 1 WHERE key = ?", (key,))

    def send(self, client: Launcher, launch: QueuedLaunch) -> Outcome:
        """Send one pending launch with its key, and record the answer (or its absence)."""
        with self._sending:
            current = self.get(launch.key)
            if current is not None and current.state is not LaunchState.PENDING:  # a flush answered it meanwhile
                return Outcome(current)
            return self._send(client, launch)

    def _send(self, client: Launcher, launch: QueuedLaunch) -> Outcome:
        self._count_attempt(launch.key)
        files = {name: Path(path) for name, path in launch.files.items()}
        try:
            launched = client.launch(launch.robot, launch.inputs, files, launch.key, launch.inputs_version)
        except TrayApiError as exc:
            if exc.retry:
                self.note_failure(launch.key, exc.message)
            else:
                self.mark_refused(launch.key, exc.message)
            stored = self.get(launch.key)
            assert stored is not None
            return Outcome(stored, exc)
        self.mark_sent(launch.key, launched.id)
        stored = self.get(launch.key)
        assert stored is not None
        return Outcome(stored)

    def flush(self, client: Launcher) -> list[Outcome]:
        """Send every pending launch, oldest first; stop at the first one left pending (server gone)."""
        outcomes: list[Outcome] = []
        with self._sending:
            for launch in self.pending():
                outcome = self.send(client, launch)
                outcomes.append(outcome)
                if outcome.launch.state is LaunchState.PENDING:
                    break
        return outcomes


def _launch(row: tuple[Any, ...]) -> QueuedLaunch:
    key, robot, inputs, files, created, attempts, last_error, state, run_id, version = row
    return QueuedLaunch(key, robot, json.loads(inputs), json.loads(files), dt.datetime.fromisoformat(created),
                        attempts, last_error, LaunchState(state), run_id, version)
