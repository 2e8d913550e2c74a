"""Processes as records: created once when a robot first names one, edited by engineers, and the figures
read beside them in SQL (the minutes in force and their history from the runs, hours from the ledger).

The minutes in force are not stored twice: every run keeps the minutes of its robot version and every
ledger entry the minutes it counted, so the history is read back from the runs of the process, in time
order, keeping the runs whose minutes differ from the previous run of the same robot (window functions,
the same SQL on SQLite and PostgreSQL).
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    Select,
    case,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from robocore.store.models import ledger as LEDGER
from robocore.store.models import ledger_days as DAYS
from robocore.store.models import processes as PROCESSES
from robocore.store.models import robot_versions as VERSIONS
from robocore.store.models import runs as RUNS
from robocore.store.models import utcnow
from robocore.store.rows import MinutesPeriod, ProcessRecord, ProcessStage

EDITABLE = frozenset({"service", "lab", "region", "description", "annual_volume", "goal_hours", "stage"})


# a run's own ledger entry, written as the WHERE of the partial index ix_ledger_runs (0012): a literal, not a bound
# parameter, so that a generic plan (a statement prepared once, its values unknown) can use that index too
RUN_ENTRY = LEDGER.c.kind == literal_column("'run'")


def midnight_day(moment: datetime) -> date:
    """The day of a UTC midnight: sums read from `ledger_days` (a row per day) have day bounds only."""
    if moment.time() != time.min:
        raise ValueError(f"not a midnight: {moment.isoformat()}")
    return moment.date()


def minutes_since(conn: Connection, names: Collection[str],
                  windows: Sequence[tuple[date, date | None]]) -> dict[str, tuple[float, ...]]:
    """Each named process's minutes in each window of days (first included, end excluded, None: open), in one
    GROUP BY over `ledger_days`; a process without entries in any window is left out."""
    day, minutes = DAYS.c.day, DAYS.c.minutes

    def inside(first: date, end: date | None) -> ColumnElement[bool]:
        return (day >= first) & (day < end) if end is not None else day >= first

    sums = [func.sum(case((inside(first, end), minutes), else_=0.0)) for first, end in windows]
    query = (select(DAYS.c.process_name, *sums)
             .where(DAYS.c.process_name.in_(sorted(names)), day >= min(first for first, _ in windows))
             .group_by(DAYS.c.process_name))
    return {str(name): tuple(float(m or 0) for m in summed) for name, *summed in conn.execute(query)}


def runs_credited_query(names: Collection[str], since: datetime) -> Select[Any]:
    """(process, count) of the ledger's run entries since `since` for the named processes."""
    return (select(LEDGER.c.process_name, func.count())
            .where(LEDGER.c.process_name.in_(sorted(names)), RUN_ENTRY, LEDGER.c.recorded_at >= since)
            .group_by(LEDGER.c.process_name))


def runs_credited(conn: Connection, names: Collection[str], since: datetime) -> dict[str, int]:
    """Runs credited with fixed minutes (ledger entries of kind `run`) since `since`, per named process."""
    return {str(n): int(c) for n, c in conn.execute(runs_credited_query(names, since))}


@dataclass(frozen=True)
class ProcessSums:
    """A process's realised minutes this year and over the last 12 months, and its runs credited with
    fixed minutes over the last 12 months (ledger entries of kind `run`)."""

    minutes_year: float = 0.0
    minutes_12_months: float = 0.0
    runs_12_months: int = 0


def _record(row: RowMapping) -> ProcessRecord:
    return ProcessRecord(name=row["name"], service=row["service"], lab=row["lab"], region=row["region"],
                         description=row["description"], annual_volume=row["annual_volume"],
                         goal_hours=row["goal_hours"], stage=ProcessStage(row["stage"]),
                         created_at=row["created_at"], updated_at=row["updated_at"], updated_by=row["updated_by"])


def _insert_if_missing(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert unless the name exists, without an error either way (True when this call inserted it):
    two workers preparing the first runs of a process at once both succeed, one row is stored."""
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):  # the dialect in use only: PostgreSQL's costs a SQLite run ~20 ms
        module = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
        statement = (module.insert(PROCESSES).values(values).on_conflict_do_nothing(index_elements=["name"])
                     .returning(PROCESSES.c.id))
        return conn.execute(statement).first() is not None
    try:  # another database: the unique name still refuses a second row
        with conn.begin_nested():
            conn.execute(insert(PROCESSES).values(values))
        return True
    except IntegrityError:
        return False


def _history(conn: Connection, name: str) -> list[MinutesPeriod]:
    """Runs of the process where a robot's minutes changed (its first run included), in time order."""
    order = (RUNS.c.started_at, RUNS.c.id)
    first_entry = select(func.min(LEDGER.c.recorded_at)).where(LEDGER.c.run_id == RUNS.c.id).scalar_subquery()
    ordered = select(
        RUNS.c.robot, RUNS.c.version_id, RUNS.c.minutes_per_item, RUNS.c.minutes_per_run, RUNS.c.started_at,
        first_entry.label("first_entry"),
        func.lag(RUNS.c.minutes_per_item).over(partition_by=RUNS.c.robot, order_by=order).label("prev_item"),
        func.lag(RUNS.c.minutes_per_run).over(partition_by=RUNS.c.robot, order_by=order).label("prev_run"),
        func.row_number().over(partition_by=RUNS.c.robot, order_by=order).label("n"),
    ).where(RUNS.c.process_name == name).subquery()
    changed = case((ordered.c.n == 1, 1), (ordered.c.prev_item != ordered.c.minutes_per_item, 1),
                   (ordered.c.prev_run != ordered.c.minutes_per_run, 1), else_=0)
    island = func.sum(changed).over(partition_by=ordered.c.robot, order_by=ordered.c.n)
    numbered = select(ordered, changed.label("changed"), island.label("island")).subquery()
    query = (select(numbered.c.robot, func.max(case((numbered.c.changed == 1, numbered.c.version_id))).label("v"),
                    func.min(numbered.c.minutes_per_item).label("per_item"),
                    func.min(numbered.c.minutes_per_run).label("per_run"),
                    func.min(numbered.c.started_at).label("first_run"),
                    func.min(numbered.c.first_entry).label("since"), func.count().label("runs"))
             .group_by(numbered.c.robot, numbered.c.island).subquery())
    rows = conn.execute(select(query, VERSIONS.c.sha256).join(VERSIONS, VERSIONS.c.id == query.c.v)).mappings()
    periods = [MinutesPeriod(robot=r["robot"], version_id=r["v"], version_sha256=r["sha256"],
                             minutes_per_item=float(r["per_item"]), minutes_per_run=float(r["per_run"]),
                             first_run_at=r["first_run"], since=r["since"], runs=int(r["runs"])) for r in rows]
    return sorted(periods, key=lambda p: (p.first_run_at, p.robot))


class ProcessesMixin:
    """The Store's processes: created once by name, edited, read with their minutes and hours."""

    engine: Engine

    def ensure_process(self, name: str, service: str | None, updated_by: str,
                       stage: ProcessStage = ProcessStage.PRODUCTION, description: str | None = None) -> bool:
        """Create the process named `name` unless it exists (True when this call created it); race-safe."""
        now = utcnow()
        values = {"name": name, "service": service, "stage": stage.value, "created_at": now, "updated_at": now,
                  "updated_by": updated_by, "description": description}
        with self.engine.begin() as conn:  # read first: most runs find it there, and a read takes no write lock
            if conn.execute(select(PROCESSES.c.id).where(PROCESSES.c.name == name)).first() is not None:
                return False
            return _insert_if_missing(conn, values)

    def get_process(self, name: str) -> ProcessRecord | None:
        """The process named exactly `name`."""
        with self.engine.begin() as conn:
            row = conn.execute(select(PROCESSES).where(PROCESSES.c.name == name)).mappings().first()
        return _record(row) if row else None

    def _filtered(self, query: Any, service: str | None, lab: str | None, stage: ProcessStage | None) -> Any:
        for column, value in ((PROCESSES.c.service, service), (PROCESSES.c.lab, lab),
                              (PROCESSES.c.stage, stage.value if stage else None)):
            if value is not None:
                query = query.where(column == value)
        return query

    def list_processes(self, service: str | None = None, lab: str | None = None, stage: ProcessStage | None = None,
                       limit: int | None = None, offset: int = 0) -> list[ProcessRecord]:
        """Processes by name, filtered on exact service, lab and stage: `limit` after `offset` (None: all)."""
        query = self._filtered(select(PROCESSES), service, lab, stage)
        query = query.order_by(PROCESSES.c.name).limit(limit).offset(offset)
        with self.engine.begin() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def count_processes(self, service: str | None = None, lab: str | None = None,
                        stage: ProcessStage | None = None) -> int:
        """How many processes the same filters keep."""
        query = self._filtered(select(func.count()).select_from(PROCESSES), service, lab, stage)
        with self.engine.begin() as conn:
            return int(conn.execute(query).scalar_one())

    def update_process(self, name: str, changes: Mapping[str, Any], updated_by: str) -> ProcessRecord | None:
        """Set the given editable fields (the name never changes); None when no process has that name."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"champs non modifiables / not editable: {sorted(unknown)}")
        values = {k: (v.value if isinstance(v, ProcessStage) else v) for k, v in changes.items()}
        with self.engine.begin() as conn:
            done = conn.execute(update(PROCESSES).where(PROCESSES.c.name == name)
                                .values(**values, updated_at=utcnow(), updated_by=updated_by))
            if done.rowcount == 0:
                return None
            row = conn.execute(select(PROCESSES).where(PROCESSES.c.name == name)).mappings().one()
        return _record(row)

    def process_minutes_history(self, name: str) -> list[MinutesPeriod]:
        """The minutes in force over time, per robot: one period per change, from the run that made it."""
        with self.engine.begin() as conn:
            return _history(conn, name)

    def process_minutes_now(self, names: Collection[str]) -> dict[str, tuple[float, float]]:
        """Minutes per item and per run of each process's latest run (absent: no run yet)."""
        if not names:
            return {}
        latest = func.row_number().over(partition_by=RUNS.c.process_name,
                                        order_by=(RUNS.c.started_at.desc(), RUNS.c.id.desc()))
        ranked = (select(RUNS.c.process_name, RUNS.c.minutes_per_item, RUNS.c.minutes_per_run, latest.label("rank"))
                  .where(RUNS.c.process_name.in_(sorted(names))).subquery())
        query = select(ranked.c.process_name, ranked.c.minutes_per_item, ranked.c.minutes_per_run).where(
            ranked.c.rank == 1)
        with self.engine.begin() as conn:
            return {n: (float(i), float(r)) for n, i, r in conn.execute(query)}

    def process_sums(self, names: Collection[str], year_start: datetime,
                     twelve_months_ago: datetime) -> dict[str, ProcessSums]:
        """Realised minutes per process since `year_start` and since `twelve_months_ago` (UTC midnights), summed
        in SQL from `ledger_days`, and the runs credited since `twelve_months_ago` (`runs_credited`)."""
        if not names:
            return {}
        windows = [(midnight_day(year_start), None), (midnight_day(twelve_months_ago), None)]
        with self.engine.begin() as conn:
            runs = runs_credited(conn, names, twelve_months_ago)
            summed = minutes_since(conn, names, windows)
        found = {}
        for name in sorted({*summed, *runs}):
            this_year, in_12_months = summed.get(name, (0.0, 0.0))
            found[name] = ProcessSums(this_year, in_12_months, runs.get(name, 0))
        return found
