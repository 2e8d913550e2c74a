"""Each fire time of a schedule, recorded once (the unique key decides between servers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from robocore.statuses import FireStatus
from robocore.store.models import schedule_fires as FIRES
from robocore.store.models import utcnow
from robocore.store.rows import ScheduleFire


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """An aware datetime as the naive UTC the store keeps."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _fire(row: RowMapping) -> ScheduleFire:
    return ScheduleFire(schedule=row["schedule"], fire_time=row["fire_time"], status=FireStatus(row["status"]),
                        run_id=row["run_id"], note=row["note"])


@dataclass(frozen=True)
class UnlinkedFire:
    """A fire recorded `launched` that never got its run id (its leader died or hung during the launch)."""

    schedule: str
    fire_time: dt.datetime  # naive UTC, as stored
    recorded_at: dt.datetime

    @property
    def fire_time_utc(self) -> dt.datetime:
        return self.fire_time.replace(tzinfo=dt.UTC)


class ScheduleFiresMixin:
    """The Store's schedule fires (fire times are given aware, kept naive UTC)."""

    engine: Engine

    def record_fire(self, schedule: str, fire_time: dt.datetime, status: FireStatus,
                    note: str | None = None) -> bool:
        """Insert the fire's row; False when it was already recorded (by this or another server)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(FIRES).values(schedule=schedule, fire_time=naive_utc(fire_time),
                                                  status=status, note=note, recorded_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def update_fire(self, schedule: str, fire_time: dt.datetime, *, status: FireStatus | None = None,
                    run_id: str | None = None, note: str | None = None) -> None:
        """Set the status, run id or note of a recorded fire (None leaves a field as it is)."""
        values = {k: v for k, v in (("status", status), ("run_id", run_id), ("note", note)) if v is not None}
        if not values:
            return
        with self.engine.begin() as conn:
            conn.execute(update(FIRES).where(FIRES.c.schedule == schedule,
                                             FIRES.c.fire_time == naive_utc(fire_time)).values(**values))

    def last_fire(self, schedule: str) -> ScheduleFire | None:
        """The latest recorded fire of a schedule."""
        query = select(FIRES).where(FIRES.c.schedule == schedule).order_by(FIRES.c.fire_time.desc()).limit(1)
        with self.engine.begin() as conn:
            row = conn.execute(query).mappings().first()
        return _fire(row) if row else None

    def last_fires(self) -> dict[str, ScheduleFire]:
        """The latest recorded fire of every schedule."""
        latest = (select(FIRES.c.schedule, func.max(FIRES.c.fire_time).label("t"))
                  .group_by(FIRES.c.schedule).subquery())
        query = select(FIRES).join(latest, (FIRES.c.schedule == latest.c.schedule)
                                   & (FIRES.c.fire_time == latest.c.t))
        with self.engine.begin() as conn:
            return {r["schedule"]: _fire(r) for r in conn.execute(query).mappings()}

    def fires(self, schedule: str | None = None, limit: int | None = None) -> list[ScheduleFire]:
        """Every recorded fire (of one schedule), oldest first; with a limit, the latest `limit` ones."""
        query = select(FIRES)
        if schedule is not None:
            query = query.where(FIRES.c.schedule == schedule)
        if limit is not None:
            latest = query.order_by(FIRES.c.fire_time.desc(), FIRES.c.id.desc()).limit(limit).subquery()
            query = select(latest)
            order = (latest.c.fire_time, latest.c.id)
        else:
            order = (FIRES.c.fire_time, FIRES.c.id)
        with self.engine.begin() as conn:
            return [_fire(r) for r in conn.execute(query.order_by(*order)).mappings()]

    def unlinked_fires(self, recorded_before: dt.datetime) -> list[UnlinkedFire]:
        """Fires recorded `launched` before that moment (naive UTC) that still have no run id."""
        query = (select(FIRES.c.schedule, FIRES.c.fire_time, FIRES.c.recorded_at)
                 .where(FIRES.c.status == FireStatus.LAUNCHED, FIRES.c.run_id.is_(None),
                        FIRES.c.recorded_at < recorded_before)
                 .order_by(FIRES.c.recorded_at).limit(1000))
        with self.engine.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [UnlinkedFire(r["schedule"], r["fire_time"], r["recorded_at"]) for r in rows]

    def settle_fire(self, schedule: str, fire_time: dt.datetime, *, run_id: str | None = None,
                    status: FireStatus | None = None, note: str) -> bool:
        """Give a fire without a run its run id, or a final status; False when another process did it first."""
        values: dict[str, object] = {"note": note[:2000]}
        if run_id is not None:
            values["run_id"] = run_id
        if status is not None:
            values["status"] = status
        query = update(FIRES).where(FIRES.c.schedule == schedule, FIRES.c.fire_time == naive_utc(fire_time),
                                    FIRES.c.status == FireStatus.LAUNCHED, FIRES.c.run_id.is_(None))
        with self.engine.begin() as conn:
            return bool(conn.execute(query.values(**values)).rowcount)
