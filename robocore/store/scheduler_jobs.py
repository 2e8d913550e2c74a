"""APScheduler's job table (apscheduler_jobs): readable and editable from any process, leader or not.

Each job's kwargs hold: `since` (ISO UTC: fires before it are never counted as missed), `fingerprint`
(of the schedule file), `file_enabled` and `override` (the enabled flag set from the API, dropped
when the file's own flag changes). A paused job (no next run time) is a disabled schedule.
"""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, select

if TYPE_CHECKING:  # APScheduler is imported on first use (not every command needs it)
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobState:
    """What the job store remembers about one schedule."""

    name: str
    kwargs: dict[str, Any]
    trigger: Any
    next_run_time: dt.datetime | None

    @property
    def since(self) -> dt.datetime | None:
        """Fires before this moment are never counted as missed (None when unknown)."""
        text = self.kwargs.get("since")
        return dt.datetime.fromisoformat(text) if text else None

    @property
    def enabled(self) -> bool:
        """The API's override when set, else the schedule file's own flag."""
        override = self.kwargs.get("override")
        return bool(self.kwargs.get("file_enabled", True) if override is None else override)


def make_jobstore(engine: Engine) -> SQLAlchemyJobStore:
    """The APScheduler job store on the store's database (table apscheduler_jobs)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(engine=engine, tablename=TABLE)


def _table(engine: Engine) -> Table:
    table: Table = make_jobstore(engine).jobs_t
    table.create(engine, checkfirst=True)
    return table


def read_states(engine: Engine) -> dict[str, JobState]:
    """Every schedule job in the store (rows that cannot be read are ignored)."""
    table = _table(engine)
    out: dict[str, JobState] = {}
    with engine.begin() as conn:
        for row in conn.execute(select(table.c.id, table.c.job_state)):
            try:
                state = pickle.loads(row.job_state)
            except Exception:
                continue
            out[row.id] = JobState(name=row.id, kwargs=dict(state.get("kwargs") or {}), trigger=state.get("trigger"),
                                   next_run_time=state.get("next_run_time"))
    return out


def write_state(engine: Engine, name: str, func: str, trigger: Any, kwargs: dict[str, Any],
                next_run_time: dt.datetime | None) -> None:
    """Insert or replace a job row as APScheduler 3 would (used when no scheduler runs in this process)."""
    from apscheduler.util import datetime_to_utc_timestamp

    table = _table(engine)
    state = {"version": 1, "id": name, "func": func, "trigger": trigger, "executor": "default", "args": (),
             "kwargs": kwargs, "name": name, "misfire_grace_time": None, "coalesce": True, "max_instances": 1,
             "next_run_time": next_run_time}
    values = {"next_run_time": datetime_to_utc_timestamp(next_run_time),
              "job_state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL)}
    with engine.begin() as conn:
        if conn.execute(table.update().where(table.c.id == name).values(**values)).rowcount == 0:
            conn.execute(table.insert().values(id=name, **values))


def delete_state(engine: Engine, name: str) -> None:
    """Forget a schedule's job row."""
    table = _table(engine)
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.id == name))


class SchedulerJobsMixin:
    """The Store's APScheduler job table (schedule states)."""

    engine: Engine

    def scheduler_jobstore(self) -> SQLAlchemyJobStore:
        """An APScheduler job store on this database, for the leader's scheduler."""
        return make_jobstore(self.engine)

    def scheduler_jobs(self) -> dict[str, JobState]:
        """Every schedule job stored, by name (rows that cannot be read are ignored)."""
        return read_states(self.engine)

    def save_scheduler_job(self, name: str, func: str, trigger: Any, kwargs: dict[str, Any],
                           next_run_time: dt.datetime | None) -> None:
        """Insert or replace a schedule's job row as APScheduler 3 would (`func` is the job's entry point)."""
        write_state(self.engine, name, func, trigger, kwargs, next_run_time)

    def delete_scheduler_job(self, name: str) -> None:
        """Forget a schedule's job row."""
        delete_state(self.engine, name)
