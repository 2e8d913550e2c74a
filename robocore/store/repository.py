"""The store's operations; each status change is one transaction."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from robocore.errors import StoreError
from robocore.store import migrate
from robocore.store.models import items as ITEMS
from robocore.store.models import ledger as LEDGER
from robocore.store.models import robot_versions as VERSIONS
from robocore.store.models import runs as RUNS
from robocore.store.models import step_events as EVENTS
from robocore.store.models import utcnow
LEASE_SECONDS = 30.0  # a run whose heartbeat is older than this may be taken over
HEARTBEAT_SECONDS = 5.0

# Hot-path statements are built once with bind parameters: building SQLAlchemy statements
# per item cost more than the SQL itself (measured in bench/bench_core.py).
_START_ITEM = (update(ITEMS).where(ITEMS.c.run_id == bindparam("r"), ITEMS.c.key == bindparam("k"))
               .values(status="running", attempts=ITEMS.c.attempts + 1, started_at=bindparam("t"), error=None))
_FINISH_ITEM = (update(ITEMS).where(ITEMS.c.run_id == bindparam("r"), ITEMS.c.key == bindparam("k"),
                                    ITEMS.c.status != "done")
                .values(status=bindparam("s"), error=bindparam("e"), evidence=bindparam("ev"),
                        verified=bindparam("v"), finished_at=bindparam("t")))
_LEDGER_ROW = insert(LEDGER)


@dataclass(frozen=True)
class NewRun:
    """What a run is started with."""

    id: str
    robot: str
    version_id: int
    robot_path: str
    inputs: dict[str, Any]
    process_name: str | None
    service: str | None
    minutes_per_item: float
    minutes_per_run: float
    trigger: str = "cli"
    queue: str | None = None
    created_by: str | None = None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for SQLite (WAL) or PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # no pre-ping (one round trip per transaction); stale connections are recycled instead
    return create_engine(url, pool_pre_ping=False, pool_recycle=1800, pool_size=5, max_overflow=10)


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Store:
    """Runs, items, events and ledger rows in one SQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            migrate.upgrade(self.engine)
        except OperationalError as exc:
            raise StoreError(f"base de données injoignable / database unreachable: {_redact_url(url)} "
                             f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc})") from None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # ---- robot versions and runs ---------------------------------------------------
    def save_robot_version(self, robot: str, sha256: str, content: str) -> int:
        """Id of this exact robot content, stored once."""
        query = select(VERSIONS.c.id).where(VERSIONS.c.robot == robot, VERSIONS.c.sha256 == sha256)
        with self.engine.begin() as conn:
            found = conn.execute(query).scalar()
            if found is not None:
                return int(found)
        try:
            with self.engine.begin() as conn:
                return int(conn.execute(insert(VERSIONS).values(
                    robot=robot, sha256=sha256, content=content, created_at=utcnow())).inserted_primary_key[0])
        except IntegrityError:  # another process stored it meanwhile
            with self.engine.begin() as conn:
                return int(conn.execute(query).scalar_one())

    def robot_content(self, version_id: int) -> str:
        with self.engine.begin() as conn:
            return str(conn.execute(select(VERSIONS.c.content).where(VERSIONS.c.id == version_id)).scalar_one())

    def create_run(self, run: NewRun, status: str = "queued") -> None:
        """Record a run before it executes (status queued: no process owns it yet)."""
        values = dict(run.__dict__, status=status, started_at=utcnow(), cancel_requested=0)
        with self.engine.begin() as conn:
            conn.execute(insert(RUNS).values(**values))

    def claim_run(self, run_id: str, owner: str, stale_after_s: float = LEASE_SECONDS) -> bool:
        """Take the run's lease: only when no live process holds it (atomic, so never two executors).

        A run can be claimed when it is queued or ended without success, or when the process
        holding it stopped renewing its heartbeat (it was killed).
        """
        stale = utcnow() - timedelta(seconds=stale_after_s)
        claimable = or_(RUNS.c.status.in_(("queued", "failed", "completed_with_errors", "cancelled")),
                        RUNS.c.heartbeat_at.is_(None), RUNS.c.heartbeat_at < stale, RUNS.c.owner == owner)
        with self.engine.begin() as conn:
            result = conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status != "succeeded",
                                                     claimable).values(
                status="running", finished_at=None, error=None, heartbeat_at=utcnow(), owner=owner,
                cancel_requested=0, host=socket.gethostname(), pid=os.getpid()))
        return result.rowcount == 1

    def heartbeat(self, run_id: str, owner: str) -> bool:
        """Renew the lease; returns True when a cancellation was requested."""
        with self.engine.begin() as conn:
            conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.owner == owner)
                         .values(heartbeat_at=utcnow()))
            return bool(conn.execute(select(RUNS.c.cancel_requested).where(RUNS.c.id == run_id)).scalar())

    def request_cancel(self, run_id: str) -> bool:
        """Ask a run to stop after its current items (a queued run is cancelled at once)."""
        with self.engine.begin() as conn:
            conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == "queued")
                         .values(status="cancelled", finished_at=utcnow()))
            result = conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == "running")
                                  .values(cancel_requested=1))
        return result.rowcount == 1

    def finish_run(self, run_id: str, status: str, error: str | None = None, owner: str | None = None) -> None:
        query = update(RUNS).where(RUNS.c.id == run_id)
        if owner is not None:
            query = query.where(RUNS.c.owner == owner)
        with self.engine.begin() as conn:
            conn.execute(query.values(status=status, error=error, finished_at=utcnow()))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.id.startswith(run_id))).mappings().all()
        if len(row) != 1:
            return None
        return dict(row[0])

    def list_runs(self, limit: int = 20, robot: str | None = None) -> list[dict[str, Any]]:
        query = select(RUNS).order_by(RUNS.c.started_at.desc()).limit(limit)
        if robot:
            query = query.where(RUNS.c.robot == robot)
        with self.engine.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ---- items ---------------------------------------------------------------------
    def add_items(self, run_id: str, block: str, keys: Iterable[str]) -> None:
        """Store work items as pending before any is processed (existing ones are kept)."""
        with self.engine.begin() as conn:
            existing = set(conn.execute(select(ITEMS.c.key).where(ITEMS.c.run_id == run_id)).scalars())
            rows = [dict(run_id=run_id, block=block, seq=i, key=k, status="pending", attempts=0)
                    for i, k in enumerate(keys) if k not in existing]
            if rows:
                conn.execute(insert(ITEMS), rows)

    def item_states(self, run_id: str) -> dict[str, str]:
        with self.engine.begin() as conn:
            return dict(conn.execute(select(ITEMS.c.key, ITEMS.c.status).where(ITEMS.c.run_id == run_id)).all())

    def items(self, run_id: str) -> list[dict[str, Any]]:
        query = select(ITEMS).where(ITEMS.c.run_id == run_id).order_by(ITEMS.c.block, ITEMS.c.seq)
        with self.engine.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def start_item(self, run_id: str, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(_START_ITEM, {"r": run_id, "k": key, "t": utcnow()})

    def finish_item(self, run_id: str, key: str, status: str, *, error: str | None = None,
                    evidence: list[str] | None = None, verified: bool = False,
                    ledger: dict[str, Any] | None = None) -> bool:
        """Set an item's final status and, for a done item, its ledger row, in one transaction.

        Returns False when the item was already done (nothing is written twice).
        """
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(_FINISH_ITEM, {"r": run_id, "k": key, "s": status, "e": error,
                                                 "ev": evidence or None, "v": int(verified), "t": now})
            if result.rowcount != 1:
                return False
            if status == "done" and ledger is not None:
                conn.execute(_LEDGER_ROW, dict(ledger, entry_key=f"item:{run_id}:{key}", run_id=run_id,
                                               kind="item", recorded_at=now))
        return True

    def record_run_minutes(self, run_id: str, ledger: dict[str, Any]) -> bool:
        """The fixed minutes of a completed run, at most once per run."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(LEDGER).values(entry_key=f"run:{run_id}", run_id=run_id, kind="run",
                                                   recorded_at=utcnow(), **ledger))
            return True
        except IntegrityError:
            return False

    def counts(self, run_id: str) -> dict[str, int]:
        query = (select(ITEMS.c.status, func.count()).where(ITEMS.c.run_id == run_id)
                 .group_by(ITEMS.c.status))
        with self.engine.begin() as conn:
            return {s: int(n) for s, n in conn.execute(query).all()}

    def run_minutes(self, run_id: str) -> float:
        query = select(func.coalesce(func.sum(LEDGER.c.minutes), 0.0)).where(LEDGER.c.run_id == run_id)
        with self.engine.begin() as conn:
            return float(conn.execute(query).scalar_one())

    # ---- events and ledger reading --------------------------------------------------
    def add_events(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(EVENTS), [dict(r, at=r.get("at") or utcnow()) for r in rows])

    def events(self, run_id: str) -> list[dict[str, Any]]:
        query = select(EVENTS).where(EVENTS.c.run_id == run_id).order_by(EVENTS.c.id)
        with self.engine.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def _between(self, column: Any, start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
        """Rows of column's table with start <= column < end (either bound optional)."""
        query = select(column.table).order_by(column.table.c.id)
        if start:
            query = query.where(column >= start)
        if end:
            query = query.where(column < end)
        with self.engine.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def ledger_rows(self, start: datetime | None = None, end: datetime | None = None) -> list[dict[str, Any]]:
        return self._between(LEDGER.c.recorded_at, start, end)

    def runs_between(self, start: datetime | None = None, end: datetime | None = None) -> list[dict[str, Any]]:
        return self._between(RUNS.c.started_at, start, end)
