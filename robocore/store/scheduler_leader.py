"""The scheduling leader's heartbeat: who leads (host, process), since when, when it last showed life.

The leadership itself is the database lock (`leader_locks`); this one-row table is what other
processes read to show it (`robo schedules`, `/api/v1/health`) and to tell a live leader from a stuck
or dead one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from robocore.store.models import scheduler_leader as LEADER
from robocore.store.models import utcnow

ROW = 1  # one leader per database


@dataclass(frozen=True)
class SchedulerLeader:
    """The last process that led the schedules (times naive UTC, as stored)."""

    owner: str
    host: str
    pid: int
    since: dt.datetime
    heartbeat_at: dt.datetime
    note: str | None = None

    def age_seconds(self, now: dt.datetime | None = None) -> float:
        """Seconds since its last heartbeat."""
        return ((now or utcnow()) - self.heartbeat_at).total_seconds()

    @property
    def resigned(self) -> bool:
        """It gave the leadership up (the note says why)."""
        return self.note is not None


class SchedulerLeaderMixin:
    """The Store's record of the scheduling leader."""

    engine: Engine

    def leader_heartbeat(self, owner: str, host: str, pid: int, since: dt.datetime) -> None:
        """Record that `owner` leads (since `since`, naive UTC) and is alive now."""
        now = utcnow()
        values = {"owner": owner, "host": host[:200], "pid": pid, "since": since, "heartbeat_at": now, "note": None}
        with self.engine.begin() as conn:
            if conn.execute(update(LEADER).where(LEADER.c.id == ROW).values(**values)).rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(LEADER).values(id=ROW, **values))
        except IntegrityError:  # another process inserted the row meanwhile: it is there now
            with self.engine.begin() as conn:
                conn.execute(update(LEADER).where(LEADER.c.id == ROW).values(**values))

    def leader_resigned(self, owner: str, note: str) -> None:
        """Record why `owner` gave the leadership up (nothing when another process leads since)."""
        with self.engine.begin() as conn:
            conn.execute(update(LEADER).where(LEADER.c.id == ROW, LEADER.c.owner == owner)
                         .values(note=note[:2000]))

    def scheduler_leader(self) -> SchedulerLeader | None:
        """The last recorded leader (check its heartbeat's age before believing it leads)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(LEADER).where(LEADER.c.id == ROW)).mappings().first()
        if row is None:
            return None
        return SchedulerLeader(owner=row["owner"], host=row["host"], pid=row["pid"], since=row["since"],
                               heartbeat_at=row["heartbeat_at"], note=row["note"])
