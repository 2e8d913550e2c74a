"""Robot versions and runs: recorded, leased (claim, heartbeat), cancelled, finished, looked up."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, RowMapping, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from robocore.statuses import RUN_RESUMABLE, RunStatus
from robocore.store.models import robot_versions as VERSIONS
from robocore.store.models import runs as RUNS
from robocore.store.models import schedule_fires as FIRES
from robocore.store.models import utcnow
from robocore.store.rows import Run

LEASE_SECONDS = 30.0  # a run whose heartbeat is older than this may be taken over
HEARTBEAT_SECONDS = 5.0
QUEUED_STALE_SECONDS = 6 * 3600.0  # a run queued longer than this lost its executor: it blocks no schedule


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
    idempotency_key: str | None = None  # the client's Idempotency-Key: one run per creator and key


class KeyTaken(Exception):
    """Another run of the same creator holds this idempotency key (recorded first, by a concurrent launch)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id


def run_of(row: RowMapping) -> Run:
    """A `runs` row as a typed Run."""
    return Run(id=row["id"], robot=row["robot"], version_id=row["version_id"], robot_path=row["robot_path"],
               status=RunStatus(row["status"]), trigger=row["trigger"], inputs=dict(row["inputs"] or {}),
               process_name=row["process_name"], service=row["service"],
               minutes_per_item=row["minutes_per_item"], minutes_per_run=row["minutes_per_run"],
               started_at=row["started_at"], finished_at=row["finished_at"], heartbeat_at=row["heartbeat_at"],
               host=row["host"], pid=row["pid"], error=row["error"], owner=row["owner"], queue=row["queue"],
               cancel_requested=bool(row["cancel_requested"]), created_by=row["created_by"])


class RunsMixin:
    """The Store's robot versions and runs."""

    engine: Engine

    # ---- robot versions -------------------------------------------------------------
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
                    robot=robot, sha256=sha256, content=content, created_at=utcnow()).returning(VERSIONS.c.id))
                    .scalar_one())
        except IntegrityError:  # another process stored it meanwhile
            with self.engine.begin() as conn:
                return int(conn.execute(query).scalar_one())

    def robot_content(self, version_id: int) -> str:
        """The robot file a run was recorded with."""
        with self.engine.begin() as conn:
            return str(conn.execute(select(VERSIONS.c.content).where(VERSIONS.c.id == version_id)).scalar_one())

    # ---- a run's life ---------------------------------------------------------------
    def create_run(self, run: NewRun, status: RunStatus = RunStatus.QUEUED) -> None:
        """Record a run before it executes (status queued: no process owns it yet).

        With an idempotency key another run of the same creator already holds, nothing is recorded and
        KeyTaken names that run (the unique index decides between concurrent launches).
        """
        values = dict(asdict(run), status=status, started_at=utcnow(), cancel_requested=0)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(RUNS).values(**values))
        except IntegrityError:
            found = self.run_by_key(run.created_by, run.idempotency_key) if run.idempotency_key else None
            if found is None:
                raise
            raise KeyTaken(found.id) from None

    def run_by_key(self, created_by: str | None, key: str | None) -> Run | None:
        """The run this creator recorded with this idempotency key, if any."""
        if created_by is None or key is None:
            return None
        query = select(RUNS).where(RUNS.c.created_by == created_by, RUNS.c.idempotency_key == key)
        with self.engine.begin() as conn:
            row = conn.execute(query).mappings().first()
        return run_of(row) if row else None

    def claim_run(self, run_id: str, owner: str, stale_after_s: float = LEASE_SECONDS) -> bool:
        """Take the run's lease: only when no live process holds it (atomic, so never two executors).

        A run can be claimed when it is queued or ended without success, or when the process
        holding it stopped renewing its heartbeat (it was killed).
        """
        stale = utcnow() - timedelta(seconds=stale_after_s)
        claimable = or_(RUNS.c.status.in_(sorted(RUN_RESUMABLE)), RUNS.c.heartbeat_at.is_(None),
                        RUNS.c.heartbeat_at < stale, RUNS.c.owner == owner)
        with self.engine.begin() as conn:
            result = conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status != RunStatus.SUCCEEDED,
                                                     claimable).values(
                status=RunStatus.RUNNING, finished_at=None, error=None, heartbeat_at=utcnow(), owner=owner,
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
            conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.QUEUED)
                         .values(status=RunStatus.CANCELLED, finished_at=utcnow()))
            result = conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.RUNNING)
                                  .values(cancel_requested=1))
        return result.rowcount == 1

    def finish_run(self, run_id: str, status: RunStatus, error: str | None = None,
                   owner: str | None = None) -> None:
        """Set a run's final status (only while `owner` holds it, when given)."""
        query = update(RUNS).where(RUNS.c.id == run_id)
        if owner is not None:
            query = query.where(RUNS.c.owner == owner)
        with self.engine.begin() as conn:
            conn.execute(query.values(status=status, error=error, finished_at=utcnow()))

    # ---- looking runs up ------------------------------------------------------------
    def get_run(self, run_id: str) -> Run | None:
        """A run by its exact id (what the API and executors use)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).mappings().first()
        return run_of(row) if row else None

    def find_run(self, prefix: str) -> Run | None:
        """A run by its exact id, else by a prefix matching only one run (what the CLI accepts)."""
        query = select(RUNS).where(RUNS.c.id.startswith(prefix, autoescape=True)).limit(2)
        with self.engine.begin() as conn:
            exact = conn.execute(select(RUNS).where(RUNS.c.id == prefix)).mappings().first()
            rows = [exact] if exact else list(conn.execute(query).mappings())
        return run_of(rows[0]) if prefix and len(rows) == 1 else None

    def list_runs(self, *, limit: int = 50, robot: str | None = None, status: RunStatus | None = None,
                  created_by: str | None = None) -> list[Run]:
        """Most recent runs first, optionally of one robot, status or creator."""
        query = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id).limit(limit)
        if robot:
            query = query.where(RUNS.c.robot == robot)
        if status is not None:
            query = query.where(RUNS.c.status == status)
        if created_by is not None:
            query = query.where(RUNS.c.created_by == created_by)
        with self.engine.begin() as conn:
            return [run_of(r) for r in conn.execute(query).mappings()]

    def orphaned_runs(self, queued_for_s: float = 10.0) -> list[Run]:
        """Runs queued for a while with no owner, or running with an expired lease (their process died)."""
        now = utcnow()
        stale = now - timedelta(seconds=LEASE_SECONDS)
        query = select(RUNS).order_by(RUNS.c.started_at, RUNS.c.id).where(or_(
            and_(RUNS.c.status == RunStatus.QUEUED, RUNS.c.started_at < now - timedelta(seconds=queued_for_s)),
            and_(RUNS.c.status == RunStatus.RUNNING,
                 or_(RUNS.c.heartbeat_at.is_(None), RUNS.c.heartbeat_at < stale))))
        with self.engine.begin() as conn:
            return [run_of(r) for r in conn.execute(query).mappings()]

    def unlinked_run(self, created_by: str, since: dt.datetime, until: dt.datetime) -> Run | None:
        """The first run of this creator recorded between `since` and `until` (naive UTC) that no schedule
        fire points at: the run a leader recorded for a fire before dying without linking it."""
        linked = select(FIRES.c.run_id).where(FIRES.c.run_id.is_not(None), FIRES.c.run_id == RUNS.c.id)
        query = (select(RUNS).where(RUNS.c.created_by == created_by, RUNS.c.started_at >= since,
                                    RUNS.c.started_at <= until, ~linked.exists())
                 .order_by(RUNS.c.started_at, RUNS.c.id).limit(1))
        with self.engine.begin() as conn:
            row = conn.execute(query).mappings().first()
        return run_of(row) if row else None

    def fail_queued_run(self, run_id: str, error: str) -> bool:
        """Mark a run failed only while it is still queued (no process took it meanwhile)."""
        query = update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.QUEUED)
        with self.engine.begin() as conn:
            return bool(conn.execute(query.values(status=RunStatus.FAILED, error=error, finished_at=utcnow()))
                        .rowcount)

    def live_run(self, created_by: str) -> str | None:
        """Id of a live run of this creator: queued (not for ages) or running with a fresh heartbeat."""
        now = utcnow()
        live = or_(and_(RUNS.c.status == RunStatus.RUNNING,
                        or_(RUNS.c.heartbeat_at.is_(None),
                            RUNS.c.heartbeat_at >= now - timedelta(seconds=LEASE_SECONDS))),
                   and_(RUNS.c.status == RunStatus.QUEUED,
                        RUNS.c.started_at >= now - timedelta(seconds=QUEUED_STALE_SECONDS)))
        query = (select(RUNS.c.id).where(RUNS.c.created_by == created_by, live)
                 .order_by(RUNS.c.started_at.desc()).limit(1))
        with self.engine.begin() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found is not None else None

