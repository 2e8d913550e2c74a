"""Attended runs: the supervision time of a run an agent followed at her desk, and runs reported by a tray.

A run launched from the tray in attended mode (`robo tray --local`) executes on the agent's computer. Its
supervision time (launch to end, minus the time she marked herself away) is kept beside it, once
(`run_supervision`, keyed by the run). When a server is configured, the tray reports the run there; the
server records it in one transaction: the run (trigger `attended`), its items by status, its ledger entries
(at the minutes in force on the server, dated at the run's end) and its supervision, or nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from robocore.statuses import ItemStatus, RunStatus
from robocore.store.ledger import LedgerEntry, insert_entry
from robocore.store.models import items as ITEMS
from robocore.store.models import run_supervision as SUPERVISION
from robocore.store.models import runs as RUNS
from robocore.store.models import utcnow
from robocore.store.runs import KeyTaken, NewRun

ATTENDED = "attended"  # the trigger of an attended run (tray --local), here and on the server it is reported to


@dataclass(frozen=True)
class Supervision:
    """An attended run's supervision: launch, end (naive UTC), minutes supervised, away intervals (ISO pairs)."""

    run_id: str
    started_at: dt.datetime
    ended_at: dt.datetime
    minutes: float
    away: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AttendedRecord:
    """A finished attended run as a tray reports it, with the server's minutes in force (`run`).

    Args:
        run: the run as recorded (robot version, process and minutes of the server's robot, creator, key).
        status: its final status.
        counts: items per final status.
        item_entry / run_entry: the ledger entries of a done item and of the completed run (None: nothing).
    """

    run: NewRun
    status: RunStatus
    counts: Mapping[ItemStatus, int]
    supervision: Supervision
    error: str | None = None
    item_entry: LedgerEntry | None = None
    run_entry: LedgerEntry | None = None
    origin: dict[str, Any] = field(default_factory=dict)  # what the tray said besides (its run id, host)


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


class AttendedMixin:
    """The Store's supervision records and reported attended runs."""

    engine: Engine

    def record_supervision(self, supervision: Supervision) -> bool:
        """Keep a run's supervision, once: False when the run already has one (nothing is overwritten)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(SUPERVISION).values(_row(supervision)))
            return True
        except IntegrityError:
            return False

    def supervision_of(self, run_id: str) -> Supervision | None:
        """A run's supervision, None for a run nobody attended."""
        with self.engine.begin() as conn:
            row = conn.execute(select(SUPERVISION).where(SUPERVISION.c.run_id == run_id)).mappings().first()
        if row is None:
            return None
        return Supervision(row["run_id"], row["started_at"], row["ended_at"], float(row["minutes"]),
                           tuple((str(a), str(b)) for a, b in row["away"] or ()))

    def record_attended_run(self, record: AttendedRecord) -> None:
        """The run, its items, ledger entries and supervision in one transaction (all or nothing).

        Raises KeyTaken when the creator's run with the same idempotency key is already there.
        """
        run, sup = record.run, record.supervision
        started, ended = _naive(sup.started_at), _naive(sup.ended_at)
        values = dict(id=run.id, robot=run.robot, version_id=run.version_id, robot_path=run.robot_path,
                      inputs=run.inputs, process_name=run.process_name, service=run.service,
                      minutes_per_item=run.minutes_per_item, minutes_per_run=run.minutes_per_run,
                      trigger=ATTENDED, queue=run.queue, created_by=run.created_by,
                      idempotency_key=run.idempotency_key, status=record.status, started_at=started,
                      finished_at=ended, error=record.error, cancel_requested=0, host=record.origin.get("host"))
        rows: list[dict[str, Any]] = []
        for status in ItemStatus:
            for _n in range(int(record.counts.get(status, 0))):
                seq = len(rows) + 1
                rows.append({"run_id": run.id, "block": ATTENDED, "seq": seq, "key": f"{ATTENDED}-{seq:06d}",
                             "status": status.value, "attempts": 1, "verified": 0, "started_at": started,
                             "finished_at": ended, "error": None, "evidence": None})
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(RUNS).values(**values))
                if rows:
                    conn.execute(insert(ITEMS), rows)
                if record.item_entry is not None:
                    for row in rows:
                        if row["status"] == ItemStatus.DONE:
                            insert_entry(conn, record.item_entry, run.id, row["key"], ended)
                if record.run_entry is not None:
                    insert_entry(conn, record.run_entry, run.id, None, ended)
                conn.execute(insert(SUPERVISION).values(_row(sup)))
        except IntegrityError:
            found = self._run_id_by_key(run.created_by, run.idempotency_key)
            if found is None:
                raise
            raise KeyTaken(found) from None

    def _run_id_by_key(self, created_by: str | None, key: str | None) -> str | None:
        if created_by is None or key is None:
            return None
        query = select(RUNS.c.id).where(RUNS.c.created_by == created_by, RUNS.c.idempotency_key == key)
        with self.engine.begin() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found is not None else None


def _row(sup: Supervision) -> dict[str, Any]:
    return {"run_id": sup.run_id, "started_at": _naive(sup.started_at), "ended_at": _naive(sup.ended_at),
            "minutes": max(0.0, float(sup.minutes)), "away": [list(pair) for pair in sup.away],
            "recorded_at": utcnow()}
