"""Per-schedule state kept in the APScheduler job store (readable and editable from any process).

Each job's kwargs hold: `since` (ISO UTC: fires before it are never counted as missed), `fingerprint`
(of the schedule file), `file_enabled` and `override` (the enabled flag set from the API, dropped
when the file's own flag changes). A paused job (no next run time) is a disabled schedule.
"""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import dataclass
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Engine, Table, select

TABLE = "apscheduler_jobs"
FUNC_REF = "robocore.scheduling.service:fire_job"


@dataclass(frozen=True)
class JobState:
    """What the job store remembers about one schedule."""

    name: str
    kwargs: dict[str, Any]
    trigger: Any
    next_run_time: dt.datetime | None

    @property
    def since(self) -> dt.datetime | None:
        text = self.kwargs.get("since")
        return dt.datetime.fromisoformat(text) if text else None

    @property
    def enabled(self) -> bool:
        override = self.kwargs.get("override")
        return bool(self.kwargs.get("file_enabled", True) if override is None else override)


def make_jobstore(engine: Engine) -> SQLAlchemyJobStore:
    """The APScheduler job store on the store's database (table apscheduler_jobs)."""
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


def job_kwargs(name: str, *, since: dt.datetime, fingerprint: str, file_enabled: bool,
               override: bool | None) -> dict[str, Any]:
    """The kwargs a schedule job is stored with."""
    return {"name": name, "since": since.astimezone(dt.UTC).isoformat(), "fingerprint": fingerprint,
            "file_enabled": file_enabled, "override": override}


def write_state(engine: Engine, name: str, trigger: Any, kwargs: dict[str, Any],
                next_run_time: dt.datetime | None) -> None:
    """Insert or replace a job row as APScheduler 3 would (used when no scheduler runs in this process)."""
    table = _table(engine)
    state = {"version": 1, "id": name, "func": FUNC_REF, "trigger": trigger, "executor": "default", "args": (),
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
