"""Attended runs waiting to be reported to the server: kept in SQLite until the server answers, sent once.

The same rules as the launch queue (`robocore.tray.queue`): a report is written here *before* it is sent,
with the idempotency key of its run's launch; it leaves `pending` only on an answer, `sent` (recorded,
now or earlier for that key) or `refused` (a clear refusal: the robot is not granted there, the report is
invalid). An unreachable server, a 5xx, a 429 or an expired token keep it `pending` for the next try;
a crash between the answer and the mark sends the same key again, and the server answers the same run.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from robocore.tray.api import TrayApiError
from robocore.tray.queue import LaunchState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attended_reports (
    key TEXT PRIMARY KEY,
    local_run_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    server_run_id TEXT
)
"""


@dataclass(frozen=True)
class Report:
    """One attended run's report as kept on disk."""

    key: str
    local_run_id: str
    payload: dict[str, Any]
    attempts: int
    last_error: str | None
    state: LaunchState
    server_run_id: str | None


@dataclass(frozen=True)
class Sent:
    """What one send attempt gave: the report as now stored, and the error when not recorded."""

    report: Report
    error: TrayApiError | None = None


class Reporter(Protocol):
    def report_attended(self, payload: dict[str, Any], key: str) -> dict[str, Any]: ...


class Outbox:
    """Reports of attended runs waiting for the server, in a SQLite file (WAL, one connection per operation)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sending = threading.RLock()
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10.0)
        try:
            db.execute("PRAGMA synchronous=FULL")
            with db:
                yield db
        finally:
            db.close()

    def add(self, key: str, local_run_id: str, payload: dict[str, Any]) -> Report:
        """Keep a report before it is sent; a second report for the same key keeps the first (recorded once)."""
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO attended_reports (key, local_run_id, payload, created) "
                       "VALUES (?, ?, ?, ?)", (key, local_run_id, json.dumps(payload, default=str),
                                               dt.datetime.now(dt.UTC).isoformat()))
        found = self.get(key)
        assert found is not None
        return found

    def get(self, key: str) -> Report | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM attended_reports WHERE key = ?", (key,)).fetchone()
        return _report(row) if row else None

    def pending(self) -> list[Report]:
        """Reports still waiting for an answer, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM attended_reports WHERE state = 'pending' ORDER BY created, rowid")
            return [_report(row) for row in rows.fetchall()]

    def _update(self, sql: str, *args: Any) -> None:
        with self._db() as db:
            db.execute(sql, args)

    def send(self, client: Reporter, report: Report) -> Sent:
        """Send one pending report with its key, and record the answer (or its absence)."""
        with self._sending:
            current = self.get(report.key)
            if current is None or current.state is not LaunchState.PENDING:  # answered meanwhile
                return Sent(current or report)
            self._update("UPDATE attended_reports SET attempts = attempts + 1 WHERE key = ?", report.key)
            try:
                answer = client.report_attended(report.payload, report.key)
            except TrayApiError as exc:
                if exc.retry:
                    self._update("UPDATE attended_reports SET last_error = ? WHERE key = ?", exc.message, report.key)
                else:
                    self._update("UPDATE attended_reports SET state = 'refused', last_error = ? "
                                 "WHERE key = ? AND state = 'pending'", exc.message, report.key)
                stored = self.get(report.key)
                assert stored is not None
                return Sent(stored, exc)
            self._update("UPDATE attended_reports SET state = 'sent', last_error = NULL, server_run_id = ? "
                         "WHERE key = ? AND state = 'pending'", str(answer.get("id", "")), report.key)
            stored = self.get(report.key)
            assert stored is not None
            return Sent(stored)

    def flush(self, client: Reporter) -> list[Sent]:
        """Send every pending report, oldest first; stop at the first one left pending (server gone)."""
        results: list[Sent] = []
        with self._sending:
            for report in self.pending():
                result = self.send(client, report)
                results.append(result)
                if result.report.state is LaunchState.PENDING:
                    break
        return results


def _report(row: tuple[Any, ...]) -> Report:
    key, local_run_id, payload, _created, attempts, last_error, state, server_run_id = row
    return Report(key, local_run_id, json.loads(payload), attempts, last_error, LaunchState(state), server_run_id)
