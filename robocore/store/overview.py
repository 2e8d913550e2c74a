"""The overview page's SQL: the ledger, items and runs summed per process (and per process and month)
over a period, restricted to a process, a service and a lab, and the process records' stage and goals.

Every figure is a GROUP BY in the database: the page reads one row per process (or per process and
month), never the ledger itself. The hours come from `ledger_days` (0011), the ledger summed per day,
robot, process and service by triggers in the transaction of each ledger write: the overview's periods
are whole days, so its sums over these rows equal the entries' (a year of 1,000,000 entries is a few
thousand rows). A service is the one recorded with each entry and run (as in the reports grouped by
service); a lab is the process record's, so entries of a lab are those whose process belongs to it
(`process_name IN (SELECT name FROM processes WHERE lab = …)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, case, func, literal_column, or_, select

from robocore.statuses import ITEM_ATTEMPTED, RUN_FINAL
from robocore.store.ledger import _within, month_key
from robocore.store.models import items as ITEMS
from robocore.store.models import ledger_days as DAYS
from robocore.store.models import processes as PROCESSES
from robocore.store.models import runs as RUNS
from robocore.store.rows import ProcessStage


@dataclass(frozen=True)
class Scope:
    """What the figures are restricted to (None: every process, service or lab)."""

    process: str | None = None
    service: str | None = None
    lab: str | None = None


@dataclass(frozen=True)
class Records:
    """The process records kept by the scope: how many in production, their annual goals summed."""

    in_production: int
    goal_hours: float
    with_goal: int


def month_of(engine: Engine, column: Any) -> ColumnElement[Any]:
    """The month of a timestamp column, to group by: 'YYYY-MM' on SQLite, a timestamp on PostgreSQL (month_label).

    On SQLite the month is the text's first seven characters (timestamps are stored as ISO text):
    cheaper per row than strftime. Its bounds are literals, not bound parameters, so that SQLite matches
    the expression indexes ix_ledger_process_month and ix_ledger_service_month (0008), which group by process
    (or service) and month without sorting.
    """
    if engine.dialect.name == "sqlite":
        return func.substr(column, literal_column("1"), literal_column("7"))
    return month_key(column)


def _scoped(process_column: Any, service_column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """The WHERE conditions restricting a table (by its process and service columns) to `scope`."""
    conditions: list[ColumnElement[bool]] = []
    if scope.process is not None:
        conditions.append(process_column == scope.process)
    if scope.service is not None:
        conditions.append(service_column == scope.service)
    if scope.lab is not None:
        conditions.append(process_column.in_(select(PROCESSES.c.name).where(PROCESSES.c.lab == scope.lab)))
    return conditions


def _days(query: Select[Any], scope: Scope, start: date | None, end: date | None) -> Select[Any]:
    """`query` over `ledger_days` restricted to the scope and to the days from start (included) to end (excluded)."""
    query = query.where(*_scoped(DAYS.c.process_name, DAYS.c.service, scope))
    if start is not None:
        query = query.where(DAYS.c.day >= start)
    if end is not None:
        query = query.where(DAYS.c.day < end)
    return query


def _month_of_day(engine: Engine) -> ColumnElement[Any]:
    """The month 'YYYY-MM' of `ledger_days.day` (SQLite stores a date as 'YYYY-MM-DD' text)."""
    if engine.dialect.name == "sqlite":
        return func.substr(DAYS.c.day, literal_column("1"), literal_column("7"))
    return func.to_char(DAYS.c.day, literal_column("'YYYY-MM'"))


class OverviewMixin:
    """The Store's overview sums (robocore.web.overview_data assembles them)."""

    engine: Engine

    def overview_minutes(self, scope: Scope, start: date | None, end: date | None) -> float:
        """Minutes saved in the scope, entries recorded from the day start (included) to the day end (excluded)."""
        query = _days(select(func.coalesce(func.sum(DAYS.c.minutes), 0.0)), scope, start, end)
        with self.engine.begin() as conn:
            return float(conn.execute(query).scalar_one())

    def overview_outcomes(self, scope: Scope, start: datetime, end: datetime
                          ) -> tuple[dict[tuple[str | None, str], int], dict[tuple[str | None, str], int]]:
        """Attempted items and finished runs per (process, status) in the period [start, end).

        Items count when they finished, grouped by their run's process. Only the runs open during the
        period hold them (an item finishes while its run is open: after the run was created, before it
        finished), and each of those runs' items of each status in the period are counted by a range of
        the index (run_id, status, finished_at) alone, summed per process: no table read, no hash of the
        items (bench/bench_overview.py: a third less work than grouping the items by run and status).
        """
        attempted = sorted(s.value for s in ITEM_ATTEMPTED)

        def items_of_run(status: str) -> Any:
            return (select(func.count()).where(ITEMS.c.run_id == RUNS.c.id, ITEMS.c.status == status,
                                               ITEMS.c.finished_at >= start, ITEMS.c.finished_at < end)
                    .scalar_subquery())

        items_q = (select(RUNS.c.process_name, *(func.sum(items_of_run(status)) for status in attempted))
                   .where(RUNS.c.started_at < end, or_(RUNS.c.finished_at.is_(None), RUNS.c.finished_at >= start),
                          *_scoped(RUNS.c.process_name, RUNS.c.service, scope))
                   .group_by(RUNS.c.process_name))
        runs_q = _within(select(RUNS.c.process_name, RUNS.c.status, func.count())
                         .where(RUNS.c.status.in_(sorted(s.value for s in RUN_FINAL)),
                                *_scoped(RUNS.c.process_name, RUNS.c.service, scope))
                         .group_by(RUNS.c.process_name, RUNS.c.status), RUNS.c.finished_at, start, end)
        with self.engine.begin() as conn:
            items = {(row[0], status): int(count) for row in conn.execute(items_q)
                     for status, count in zip(attempted, row[1:], strict=True) if count}
            runs = {(name, status): int(count) for name, status, count in conn.execute(runs_q)}
        return items, runs

    def overview_monthly(self, scope: Scope, start: date | None,
                         end: date | None) -> list[tuple[str | None, str, float]]:
        """(process, 'YYYY-MM', minutes) of the ledger from the day start (included) to the day end (excluded):
        one GROUP BY (process, month) over `ledger_days`."""
        month = _month_of_day(self.engine)
        query = _days(select(DAYS.c.process_name, month, func.sum(DAYS.c.minutes)), scope, start, end)
        with self.engine.begin() as conn:
            rows = conn.execute(query.group_by(DAYS.c.process_name, month)).all()
        return [(name, str(key), float(total)) for name, key, total in rows]

    def overview_records(self, scope: Scope) -> Records:
        """Process records of the scope (their own service and lab): in production, and their annual goals."""
        conditions = _scoped(PROCESSES.c.name, PROCESSES.c.service, scope)
        production = func.coalesce(func.sum(case((PROCESSES.c.stage == ProcessStage.PRODUCTION.value, 1),
                                                  else_=0)), 0)
        query = select(production, func.coalesce(func.sum(PROCESSES.c.goal_hours), 0.0),
                       func.count(PROCESSES.c.goal_hours)).where(*conditions)
        with self.engine.begin() as conn:
            row = conn.execute(query).one()
        return Records(int(row[0]), float(row[1]), int(row[2]))

    def overview_services(self, recent_runs: int = 5000, limit: int = 500) -> list[str]:
        """Services offered in the filters: the process records' and those of the latest `recent_runs` runs
        (a robot may run a process for another service; the runs table is never scanned whole)."""
        recent = select(RUNS.c.service).order_by(RUNS.c.started_at.desc()).limit(recent_runs).subquery()
        query = (select(recent.c.service).where(recent.c.service.is_not(None))
                 .union(select(PROCESSES.c.service).where(PROCESSES.c.service.is_not(None))))
        with self.engine.begin() as conn:
            return sorted(str(name) for name in conn.execute(query.limit(limit)).scalars())
