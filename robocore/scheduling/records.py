"""The `schedule_fires` record (each fire time once) and the overlap check on `runs`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from robocore.store.models import runs as RUNS
from robocore.store.models import schedule_fires as FIRES
from robocore.store.models import utcnow

LAUNCHED, SKIPPED_OVERLAP, MISSED, SKIPPED_HOLIDAY, FAILED = (
    "launched", "skipped_overlap", "missed", "skipped_holiday", "failed")
QUEUED_STALE_SECONDS = 6 * 3600.0  # a run queued longer than this lost its executor: it no longer blocks


@dataclass(frozen=True)
class FireRecord:
    """One recorded fire of a schedule (fire_time is naive UTC)."""

    schedule: str
    fire_time: dt.datetime
    status: str
    run_id: str | None
    note: str | None


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """An aware datetime as the naive UTC the store keeps."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def aware_utc(moment: dt.datetime) -> dt.datetime:
    """A naive UTC datetime from the store as an aware one."""
    return moment.replace(tzinfo=dt.UTC)


def record(engine: Engine, schedule: str, fire_time: dt.datetime, status: str, note: str | None = None) -> bool:
    """Insert the fire's row; False when it was already recorded (by this or another server)."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(FIRES).values(schedule=schedule, fire_time=naive_utc(fire_time), status=status,
                                              note=note, recorded_at=utcnow()))
        return True
    except IntegrityError:
        return False


def update_fire(engine: Engine, schedule: str, fire_time: dt.datetime, **values: Any) -> None:
    """Set the run id, status or note of a recorded fire."""
    with engine.begin() as conn:
        conn.execute(update(FIRES).where(FIRES.c.schedule == schedule,
                                         FIRES.c.fire_time == naive_utc(fire_time)).values(**values))


def last_fire(engine: Engine, schedule: str) -> FireRecord | None:
    """The latest recorded fire of a schedule."""
    with engine.begin() as conn:
        row = conn.execute(select(FIRES).where(FIRES.c.schedule == schedule)
                           .order_by(FIRES.c.fire_time.desc()).limit(1)).mappings().first()
    return _record(row) if row else None


def last_fires(engine: Engine) -> dict[str, FireRecord]:
    """The latest recorded fire of every schedule."""
    latest = (select(FIRES.c.schedule, func.max(FIRES.c.fire_time).label("t"))
              .group_by(FIRES.c.schedule).subquery())
    query = select(FIRES).join(latest, (FIRES.c.schedule == latest.c.schedule) & (FIRES.c.fire_time == latest.c.t))
    with engine.begin() as conn:
        return {r["schedule"]: _record(r) for r in conn.execute(query).mappings()}


def fires(engine: Engine, schedule: str | None = None) -> list[FireRecord]:
    """Every recorded fire (of one schedule), oldest first."""
    query = select(FIRES).order_by(FIRES.c.fire_time, FIRES.c.id)
    if schedule is not None:
        query = query.where(FIRES.c.schedule == schedule)
    with engine.begin() as conn:
        return [_record(r) for r in conn.execute(query).mappings()]


def active_run(engine: Engine, created_by: str) -> str | None:
    """A live run started by this schedule: queued (not for ages) or running with a fresh heartbeat."""
    from robocore.store.repository import LEASE_SECONDS

    now = utcnow()
    live = or_(and_(RUNS.c.status == "running",
                    or_(RUNS.c.heartbeat_at.is_(None), RUNS.c.heartbeat_at >= now - dt.timedelta(seconds=LEASE_SECONDS))),
               and_(RUNS.c.status == "queued", RUNS.c.started_at >= now - dt.timedelta(seconds=QUEUED_STALE_SECONDS)))
    with engine.begin() as conn:
        return conn.execute(select(RUNS.c.id).where(RUNS.c.created_by == created_by, live)
                            .order_by(RUNS.c.started_at.desc()).limit(1)).scalar()


def _record(row: Any) -> FireRecord:
    return FireRecord(schedule=row["schedule"], fire_time=row["fire_time"], status=row["status"],
                      run_id=row["run_id"], note=row["note"])
